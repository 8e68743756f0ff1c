"""The data quality panel: quarantined rows by rule, GX results per run, the run ledger."""

from __future__ import annotations

from insight import landing as L
from insight import tables
from insight.report import charts, summaries
from insight.report import page as P
from insight.report.context import Context
from insight.report.page import Panel


def quality(ctx: Context) -> Panel:
    key, title = "quality", "Data quality per run"
    dq = ctx.table(tables.DQ_RESULTS)
    quarantined = {e: df for e in L.ENTITIES
                   if (df := ctx.table(tables.quarantine(e))) is not None}  # fmt: skip
    ledger = ctx.table(tables.RUN_LEDGER)
    if dq is None and not quarantined:  # the ledger alone says nothing about quality
        return P.no_data(key, title, [tables.DQ_RESULTS.qualified, "quarantine.*",
                                      tables.RUN_LEDGER.qualified], "clean", lake=ctx.lake,
                         as_of=ctx.as_of)  # fmt: skip
    figures, tables_, notes = [], [], []
    by_rule = summaries.quarantine_by_rule(quarantined, ctx.as_of)
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
        runs = summaries.dq_runs(dq, ctx.as_of)
        tables_.append(P.table(runs, {
            "run_id": ("run", P.text), "table_name": ("table", P.text),
            "expectations": ("expectations", P.integer), "failed": ("failed", P.integer),
            "unexpected": ("unexpected rows", P.integer), "quarantined": ("quarantined", P.integer),
        }))  # fmt: skip
    else:
        notes.append(f"{tables.DQ_RESULTS} not built yet: run `insight run clean`.")
    if ledger is not None:
        jobs = summaries.ledger_runs(ledger, ctx.as_of)
        if len(jobs):
            tables_.append(P.table(jobs, {
                "job": ("job", P.text), "run_id": ("run", P.text), "status": ("status", P.text),
                "rows_in": ("rows in", P.integer), "rows_written": ("rows written", P.integer),
                "rows_quarantined": ("quarantined", P.integer),
                "seconds": ("seconds", lambda v: f"{float(v):.1f}"),
            }))  # fmt: skip
    return Panel(
        key=key, title=title, charts=tuple(figures), tables=tuple(tables_), notes=tuple(notes),
        sources=(tables.DQ_RESULTS.qualified, "quarantine.*", tables.RUN_LEDGER.qualified),
        caption="Great Expectations results per clean run (newest first) and the jobs run for "
        f"{ctx.as_of} (ops.run_ledger; status failed > skipped > nothing_new > ok).",
    )  # fmt: skip
