"""The data quality panel: quarantined rows by rule, GX results per run, the run ledger."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.report import charts, page
from insight.report.context import Context
from insight.report.page import Panel
from insight.report.summaries import at, require_columns

# Columns of the quarantine summary.
RULE, ROWS = "rule", "rows"
ENTITY = "entity"


def quality(ctx: Context) -> Panel:
    key, title = "quality", "Data quality per run"
    dq = ctx.table(tables.DQ_RESULTS)
    quarantined = {e: df for e in landing.ENTITIES
                   if (df := ctx.table(tables.quarantine(e))) is not None}  # fmt: skip
    ledger = ctx.table(tables.RUN_LEDGER)
    if dq is None and not quarantined:  # the ledger alone says nothing about quality
        return page.no_data(key, title, [tables.DQ_RESULTS.qualified, "quarantine.*",
                                      tables.RUN_LEDGER.qualified], "clean", lake=ctx.lake,
                         as_of=ctx.as_of)  # fmt: skip
    figures, tables_, notes = [], [], []
    by_rule = quarantine_by_rule(quarantined, ctx.as_of)
    if len(by_rule):
        labels = [f"{e}: {r}" for e, r in zip(by_rule["entity"], by_rule["rule"], strict=True)]
        chart = charts.hbar("chart-quarantine", labels, by_rule["rows"].tolist(),
                            xlabel="rows quarantined", color=charts.BAD)  # fmt: skip
        figures.append(
            (
                chart,
                f"Rows routed to quarantine.* by entity and failed rule, every "
                f"run up to {ctx.as_of} (a row failing two rules counts twice).",
            )
        )
        ctx.kpis.append(("rows quarantined", f"{int(by_rule['rows'].sum()):,}"))
    elif quarantined:
        notes.append(f"No row quarantined up to {ctx.as_of}.")
    else:
        notes.append("No quarantine.* table yet: run `insight run clean`.")
    if dq is not None:
        runs = dq_runs(dq, ctx.as_of)
        tables_.append(page.table(runs, {
            "run_id": ("run", page.text), "table_name": ("table", page.text),
            "expectations": ("expectations", page.integer), "failed": ("failed", page.integer),
            "unexpected": ("unexpected rows", page.integer),
            "quarantined": ("quarantined", page.integer),
        }))  # fmt: skip
    else:
        notes.append(f"{tables.DQ_RESULTS} not built yet: run `insight run clean`.")
    if ledger is not None:
        jobs = ledger_runs(ledger, ctx.as_of)
        if len(jobs):
            tables_.append(page.table(jobs, {
                "job": ("job", page.text), "run_id": ("run", page.text),
                "status": ("status", page.text), "rows_in": ("rows in", page.integer),
                "rows_written": ("rows written", page.integer),
                "rows_quarantined": ("quarantined", page.integer),
                "seconds": ("seconds", lambda v: f"{float(v):.1f}"),
            }))  # fmt: skip
    return Panel(
        key=key, title=title, charts=tuple(figures), tables=tuple(tables_), notes=tuple(notes),
        sources=(tables.DQ_RESULTS.qualified, "quarantine.*", tables.RUN_LEDGER.qualified),
        caption="Great Expectations results per clean run (newest first) and the jobs run for "
        f"{ctx.as_of} (ops.run_ledger; status failed > skipped > nothing_new > ok).",
    )  # fmt: skip


def quarantine_by_rule(quarantined: Mapping[str, DataFrame], as_of: date) -> pd.DataFrame:
    """Quarantined rows per entity and failed rule, runs up to as_of (a row failing two
    rules counts under both).

    Args:
        quarantined: entity -> quarantine.<entity>.

    Returns:
        entity, rule, rows; most rows first.
    """
    parts = []
    for entity, df in sorted(quarantined.items()):
        require_columns(df, [C.FAILED_RULES, C.AS_OF], f"quarantine.{entity}")
        parts.append(
            df.where(F.col(C.AS_OF) <= F.lit(as_of))
            .select(F.lit(entity).alias(ENTITY), F.explode_outer(C.FAILED_RULES).alias(RULE))
        )  # fmt: skip
    if not parts:
        return pd.DataFrame({ENTITY: [], RULE: [], ROWS: []})
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)
    pdf = (
        rows.groupBy(ENTITY, F.coalesce(RULE, F.lit("(none recorded)")).alias(RULE))
        .agg(F.count("*").alias(ROWS))
        .toPandas()
    )
    return pdf.sort_values([ROWS, ENTITY, RULE], ascending=[False, True, True], ignore_index=True)


def dq_runs(dq: DataFrame, as_of: date, *, last: int = 12) -> pd.DataFrame:
    """Expectation results per run and table, the `last` runs up to as_of (newest first).

    Returns:
        as_of, run_id, table_name, validated_at (first), expectations, failed,
        unexpected (rows GX found), quarantined (rows routed).
    """
    rows = dq.where(F.col(C.AS_OF) <= F.lit(as_of))
    runs = (
        rows.groupBy("run_id").agg(F.min("validated_at").alias("_t"))
        .orderBy(F.desc("_t")).limit(last)
    )  # fmt: skip
    return (
        rows.join(runs, "run_id")
        .groupBy(C.AS_OF, "run_id", "table_name")
        .agg(
            F.min("validated_at").alias("validated_at"),
            F.count("*").alias("expectations"),
            F.sum((~F.col("success")).cast("long")).alias("failed"),
            F.sum(F.coalesce("unexpected_count", F.lit(0))).alias("unexpected"),
            F.sum(F.coalesce("quarantined_count", F.lit(0))).alias("quarantined"),
        )
        .orderBy(F.desc("validated_at"), "table_name")
        .toPandas()
    )


def ledger_runs(ledger: DataFrame, as_of: date) -> pd.DataFrame:
    """ops.run_ledger for as_of, one row per run and job: status (failed beats skipped beats
    nothing_new beats ok), rows in / written / quarantined, seconds; in run order."""
    worst = (
        F.when(F.col("status") == "failed", 3).when(F.col("status") == "skipped", 2)
        .when(F.col("status") == "nothing_new", 1).otherwise(0)
    )  # fmt: skip
    return (
        at(ledger, as_of)
        .groupBy("run_id", "job")
        .agg(
            F.min("started_at").alias("started_at"),
            F.max_by("status", worst).alias("status"),
            F.sum("rows_in").alias("rows_in"),
            F.sum("rows_written").alias("rows_written"),
            F.sum("rows_quarantined").alias("rows_quarantined"),
            # Wall time from its first start to its last finish (batches run in sequence).
            (
                F.max(F.col("finished_at").cast("double"))
                - F.min(F.col("started_at").cast("double"))
            ).alias("seconds"),
        )
        .orderBy("started_at", "job")
        .toPandas()
    )
