"""The clean job: new bronze rows -> silver (MERGE) + quarantine, per micro-batch.

Per batch: stage -> GX validates the row rules -> rows failing a rule go to quarantine
-> duplicates collapse (latest wins) -> GX checks the output rules -> MERGE into silver
-> results to ops.dq_results and ops.run_ledger. The invariant
rows in = written + quarantined + duplicates collapsed is checked for every batch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.clean import schemas
from insight.clean.dedup import latest_per_key
from insight.clean.entities import (
    CLEAN_ORDER,
    SPECS,
    TO_SILVER,
    EntitySpec,
    rule_params,
    stage,
    to_quarantine,
)
from insight.config import CleanConfig
from insight.erase.match import without_pii_samples
from insight.erase.stats import exclude_from_stats
from insight.errors import DataQualityError, InsightError, InvariantError
from insight.ops.ledger import LEDGER_SCHEMA, NOTHING_NEW, OK
from insight.quality import gx
from insight.quality.rules import OUTPUT, ROW, load_suite, suite_rules, with_failed_rules
from insight.runtime import JobRun
from insight.streaming import Batch, process_available

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchCounts:
    rows_in: int
    written: int
    quarantined: int
    duplicates: int  # within the batch, plus re-sends no newer than silver's version

    def check(self, where: str) -> None:
        """Nothing lost: every row read is written, quarantined or a collapsed duplicate."""
        accounted = self.written + self.quarantined + self.duplicates
        if accounted != self.rows_in:
            raise InvariantError(
                f"{where}: {self.rows_in} rows in but {self.written} written + "
                f"{self.quarantined} quarantined + {self.duplicates} duplicates = {accounted}"
            )


def clean_all(run: JobRun) -> None:
    present = [e for e in CLEAN_ORDER if tables.exists(run.spark, tables.bronze(e), run.lake)]
    if not present:
        raise InsightError(
            f"nothing to clean: no bronze tables under {run.lake}/bronze "
            "(run `insight run ingest` first)"
        )
    tables.create_if_missing(run.spark, tables.DQ_RESULTS, run.lake, gx.DQ_RESULTS_SCHEMA)
    tables.create_if_missing(run.spark, tables.RUN_LEDGER, run.lake, LEDGER_SCHEMA)
    for entity in CLEAN_ORDER:
        if entity in present:
            clean_entity(run, SPECS[entity])
        else:
            log.warning("clean %s: no bronze.%s yet, skipped", entity, entity)


def _ensure_tables(run: JobRun, spec: EntitySpec) -> None:
    spark, lake = run.spark, run.lake
    tables.create_if_missing(
        spark, tables.silver(spec.entity), lake, spec.schema,
        partition_by=spec.partition_by, comment=f"Cleaned, validated {spec.entity} (latest wins)",
    )  # fmt: skip
    tables.create_if_missing(
        spark, tables.quarantine(spec.entity), lake, schemas.QUARANTINE,
        comment=f"{spec.entity} rows that failed a quality rule, with the rules and reason",
    )  # fmt: skip
    exclude_from_stats(spark, tables.quarantine(spec.entity), lake, [C.RAW])


def _reference(run: JobRun, entity: str, key: str) -> DataFrame:
    table = tables.silver(entity)
    if tables.exists(run.spark, table, run.lake):
        return tables.read(run.spark, table, run.lake).select(key)
    return run.spark.createDataFrame([], f"{key} string")


def clean_params(clean: CleanConfig, as_of: date) -> dict[str, Any]:
    """The suites' {"$PARAMETER": ...} values for this config and business date."""
    return rule_params(
        as_of=as_of,
        max_history_days=clean.max_history_days,
        max_price=clean.max_price,
        max_quantity=clean.max_quantity,
        max_text_length=clean.max_text_length,
        min_birth_year=clean.min_birth_year,
        min_age_years=clean.min_age_years,
        currencies=list(clean.fx_to_base),
    )


def clean_entity(run: JobRun, spec: EntitySpec) -> None:
    _ensure_tables(run, spec)
    suite = load_suite(spec.suite)
    params = clean_params(run.cfg.clean, run.as_of)
    refs = {}
    if spec.entity in (landing.EVENTS, landing.REVIEWS):
        refs = {
            "customers": _reference(run, landing.CUSTOMERS, C.CUSTOMER_KEY),
            "products": _reference(run, landing.PRODUCTS, C.PRODUCT_ID),
        }

    def handle(batch: Batch) -> None:
        clean_batch(run, spec, batch, suite=suite, params=params, refs=refs)

    step = run.step()
    # skipChangeCommits: an erasure's DELETE on bronze is not new data (and would otherwise
    # stop the stream: Delta streams refuse non-append commits by default).
    stream = (
        run.spark.readStream.format("delta")
        .option("skipChangeCommits", "true")
        .load(tables.bronze(spec.entity).path(run.lake))
    )
    batches = process_available(
        stream,
        checkpoint=run.checkpoint(f"clean/{spec.entity}"),
        name=f"clean/{spec.entity}",
        handle=handle,
    )
    if batches == 0:
        log.info("clean %s: no new bronze rows", spec.entity)
        entry = step.entry(
            tables.silver(spec.entity).qualified,
            NOTHING_NEW,
        )
        run.record([entry])


@dataclass(frozen=True)
class Routing:
    rows_in: int
    passed: int  # rows that broke no row rule
    by_rule: dict[str, int]  # rows that broke each rule (a row may break several)
    batch_ids: list[str]


def routing_summary(staged: DataFrame) -> Routing:
    """Rows in, rows passing, rows per broken rule and the bronze batch ids, in one pass over
    the staged rows: grouped by (batch, rules broken), a few rows reach the driver. (Four
    separate counts cost a Spark job each, per batch, per entity.)"""
    groups = staged.groupBy(C.BATCH_ID, C.FAILED_RULES).count().collect()
    by_rule: dict[str, int] = {}
    for g in groups:
        for rule in g[C.FAILED_RULES] or ():
            by_rule[rule] = by_rule.get(rule, 0) + g["count"]
    return Routing(
        rows_in=sum(g["count"] for g in groups),
        passed=sum(g["count"] for g in groups if not g[C.FAILED_RULES]),
        by_rule=by_rule,
        batch_ids=sorted({g[C.BATCH_ID] for g in groups}),
    )


def clean_batch(
    run: JobRun,
    spec: EntitySpec,
    batch: Batch,
    *,
    suite: dict,
    params: dict,
    refs: dict[str, DataFrame],
) -> BatchCounts | None:
    """Clean one micro-batch; None when it has no rows."""
    spark, lake, entity = run.spark, run.lake, spec.entity
    step = run.step()
    row_rules, output_rules = suite_rules(suite, ROW), suite_rules(suite, OUTPUT)

    staged = (
        batch.df.transform(stage, spec, salt=run.salt, fx_to_base=run.cfg.clean.fx_to_base, **refs)
        .transform(with_failed_rules, row_rules, params)
        .persist()
    )
    try:
        routed = routing_summary(staged)
        rows_in, n_good, by_rule = routed.rows_in, routed.passed, routed.by_rule
        if rows_in == 0:
            # A bronze commit without new rows (an erasure, VACUUM, a table property) still
            # makes a micro-batch: nothing to clean, and an empty MERGE would commit nothing.
            log.info("clean %s: batch %d has no new bronze rows", entity, batch.epoch)
            return None
        batch_ids = routed.batch_ids
        batch_label = batch_ids[0] if len(batch_ids) == 1 else f"{len(batch_ids)} bronze batches"
        log.info(
            "clean %s, %s: %d rows staged (%.1fs); validating with GX",
            entity, batch_label, rows_in, step.seconds,
        )  # fmt: skip
        t_gx = time.monotonic()
        row_results = gx.validate(
            staged, suite, row_rules, params, result_format=run.cfg.quality.result_format
        )
        gx_seconds = time.monotonic() - t_gx
        if spec.raw_has_pii:  # GX samples of raw CRM fields are raw PII: keep counts only
            row_results = [without_pii_samples(r) for r in row_results]

        quarantine_rows = staged.where(F.size(C.FAILED_RULES) > 0).transform(
            to_quarantine, spec, run_id=run.run_id, as_of=run.as_of, quarantined_at=step.started_at
        )
        good = staged.where(F.size(C.FAILED_RULES) == 0)
        silver_rows = (
            good.transform(latest_per_key, key=spec.key, version_col=spec.version_col)
            .transform(TO_SILVER[entity])
            .persist()
        )
        n_unique = silver_rows.count()

        t_gx = time.monotonic()
        output_results = gx.validate(
            silver_rows, suite, output_rules, params, result_format="BASIC"
        )
        gx_seconds += time.monotonic() - t_gx
        broken = [r.rule for r in output_results if not r.success]
        if broken:
            raise DataQualityError(
                f"clean {entity}, {batch_label}: rows about to be written break {broken}; "
                "nothing was written (see ops.dq_results)"
            )

        stale = 0
        if not tables.is_empty(spark, tables.silver(entity), lake):
            target = tables.read(spark, tables.silver(entity), lake)
            stale = (
                silver_rows.alias("s")
                .join(target.alias("t"), spec.key)
                .where(F.col(f"t.{spec.version_col}") >= F.col(f"s.{spec.version_col}"))
                .count()
            )
        log.info(
            "clean %s, %s: %d rows pass, %d unique; writing silver and quarantine",
            entity, batch_label, n_good, n_unique,
        )  # fmt: skip
        quarantine_table = tables.quarantine(entity)
        tables.append(
            quarantine_rows, quarantine_table, lake, txn=batch.txn(quarantine_table.qualified)
        )
        merged = tables.merge_latest(
            spark, silver_rows, tables.silver(entity), lake,
            keys=[spec.key], version_col=spec.version_col,
            txn=batch.txn(tables.silver(entity).qualified),
        )  # fmt: skip
        counts = BatchCounts(
            rows_in=rows_in,
            written=merged.written,
            quarantined=rows_in - n_good,
            duplicates=(n_good - n_unique) + stale,
        )
        counts.check(f"clean {entity}, {batch_label}")
        dq = gx.results_frame(
            spark, [*row_results, *output_results],
            run_id=run.run_id, job=run.job, table_name=tables.silver(entity).qualified,
            batch_id=batch_label, as_of=run.as_of, suite=spec.suite, quarantined=by_rule,
            validated_at=step.started_at,
        )  # fmt: skip
        tables.append(dq, tables.DQ_RESULTS, lake, txn=batch.txn(tables.DQ_RESULTS.qualified))
    finally:
        staged.unpersist()
        if "silver_rows" in locals():
            silver_rows.unpersist()
    seconds = step.seconds
    entry = step.entry(
        tables.silver(entity).qualified,
        OK,
        batch_id=batch_label,
        rows_in=counts.rows_in,
        rows_written=counts.written,
        rows_quarantined=counts.quarantined,
        duplicates_collapsed=counts.duplicates,
        validation_seconds=gx_seconds,
    )
    run.record([entry], txn=batch.txn(tables.RUN_LEDGER.qualified))
    log.info(
        "clean %s, %s: %d in -> %d written, %d quarantined, %d duplicates collapsed "
        "(%.1fs, GX %.1fs)",
        entity, batch_label, counts.rows_in, counts.written, counts.quarantined,
        counts.duplicates, seconds, gx_seconds,
    )  # fmt: skip
    if by_rule:
        top = ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items(), key=lambda kv: -kv[1]))
        log.info("clean %s: quarantined by rule: %s", entity, top)
    return counts
