"""Gather the audit's figures from a lake (one Spark pass per table) and run the checks."""

from __future__ import annotations

import logging
from datetime import date

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from insight import columns as C
from insight import dag, landing, storage, tables
from insight.audit import checks
from insight.erase import schemas as ES
from insight.erase.run import erased_rows
from insight.errors import InsightError
from insight.features.schemas import CUSTOMER_FEATURES
from insight.nlp.schemas import REVIEW_INSIGHTS
from insight.ops.ledger import DONE, FAILED, OK
from insight.profile.build import CUSTOMER_PROFILE

log = logging.getLogger(__name__)


def landing_records(spark: SparkSession, lake: str, entity: str) -> int:
    """Records in landing/<entity>: lines of the files ingest reads, minus CSV headers (on
    a local folder or any file system the session reaches)."""
    folder = storage.join(lake, "landing", entity)
    header = landing.CSV_HEADER.get(entity, "").encode()
    n = 0
    for name, is_folder in storage.children(spark, folder):
        # Spark's file source skips hidden files, and reads only the entity's suffix here.
        if (
            is_folder
            or name.startswith((".", "_"))
            or not name.endswith(landing.FILE_SUFFIX[entity])
        ):
            continue
        # bytes.splitlines: \n, \r\n and \r, as Hadoop's line reader
        lines = storage.read_bytes(spark, storage.join(folder, name)).splitlines()
        n += len(lines) - (sum(x.strip() == header for x in lines) if header else 0)
    return n


def resolve_as_of(ledger: DataFrame, as_of: date | None) -> date:
    """The given as_of if the ledger has runs for it; else the latest one in the ledger."""
    dates = {r[0] for r in ledger.select("as_of").distinct().collect()}
    if not dates:
        raise InsightError("ops.run_ledger is empty: no run to audit")
    if as_of is None:
        return max(dates)
    if as_of not in dates:
        known = ", ".join(str(d) for d in sorted(dates)[-5:])
        raise InsightError(f"no run for as_of {as_of} in ops.run_ledger (latest: {known})")
    return as_of


def _count(spark: SparkSession, table: tables.Table, lake: str) -> int | None:
    return tables.read(spark, table, lake).count() if tables.exists(spark, table, lake) else None


def _updated_in_place(spark: SparkSession, table: tables.Table, lake: str) -> int | None:
    """Rows MERGE updated in silver's history; None if the history no longer starts at 0."""
    rows = (
        DeltaTable.forPath(spark, table.path(lake))
        .history()
        .select("version", "operation", "operationMetrics")
    )
    rows = rows.collect()
    if not rows or min(r["version"] for r in rows) != 0:
        return None
    return sum(
        int((r["operationMetrics"] or {}).get("numTargetRowsUpdated", 0))
        for r in rows
        if r["operation"] == "MERGE"
    )


def entity_figures(
    spark: SparkSession, lake: str, ledger: DataFrame, erased: dict[str, int]
) -> list[checks.EntityFigures]:
    ok = ledger.where(F.col("status") == OK).fillna(
        0, ["rows_in", "rows_written", "rows_quarantined", "duplicates_collapsed"]
    )
    sums = {
        (r["job"], r["table_name"]): r
        for r in ok.groupBy("job", "table_name")
        .agg(
            F.sum("rows_in").alias("i"),
            F.sum("rows_written").alias("w"),
            F.sum("rows_quarantined").alias("q"),
            F.sum("duplicates_collapsed").alias("d"),
            F.sum(
                (
                    F.col("rows_in")
                    != F.col("rows_written")
                    + F.col("rows_quarantined")
                    + F.col("duplicates_collapsed")
                ).cast("int")
            ).alias("unbalanced"),
        )
        .collect()
    }
    out = []
    for e in landing.ENTITIES:
        b, s, q = tables.bronze(e), tables.silver(e), tables.quarantine(e)
        ing = sums.get(("ingest", b.qualified))
        cln = sums.get(("clean", s.qualified))
        silver = _count(spark, s, lake)
        out.append(
            checks.EntityFigures(
                entity=e,
                landing=landing_records(spark, lake, e),
                bronze=_count(spark, b, lake),
                ingest_in=int(ing["i"]) if ing else 0,
                ingest_written=int(ing["w"]) if ing else 0,
                erased_bronze=erased.get(b.qualified, 0),
                clean_in=int(cln["i"]) if cln else 0,
                clean_written=int(cln["w"]) if cln else 0,
                clean_quarantined=int(cln["q"]) if cln else 0,
                clean_duplicates=int(cln["d"]) if cln else 0,
                clean_unbalanced_batches=int(cln["unbalanced"]) if cln else 0,
                silver=silver,
                quarantine=_count(spark, q, lake),
                erased_silver=erased.get(s.qualified, 0),
                erased_quarantine=erased.get(q.qualified, 0),
                updated_in_place=_updated_in_place(spark, s, lake) if silver is not None else 0,
            )
        )
    return out


def _one_row_each(
    name: str, expected: DataFrame, actual: DataFrame, key: str, fix: str
) -> checks.Check:
    """Every `key` of `expected` appears once in `actual`, and `actual` has no other key."""
    per_key = actual.groupBy(key).count()
    return checks.one_row_each(
        name,
        expected=expected.count(),
        missing=expected.join(per_key, key, "left_anti").count(),
        duplicated=expected.join(per_key.where("count > 1"), key, "left_semi").count(),
        orphans=per_key.join(expected, key, "left_anti").count(),
        fix=fix,
    )


def gold_checks(spark: SparkSession, lake: str, as_of: date) -> list[checks.Check]:
    out = []
    reviews, customers = tables.silver(landing.REVIEWS), tables.silver(landing.CUSTOMERS)
    name = "every silver review (review_date <= as_of) has one gold.review_insights row"
    if not (tables.exists(spark, reviews, lake) and tables.exists(spark, REVIEW_INSIGHTS, lake)):
        out.append(checks.skipped(name, "silver.reviews or gold.review_insights not produced yet"))
    else:
        due = tables.read(spark, reviews, lake).where(F.col(C.REVIEW_DATE) <= F.lit(as_of))
        out.append(
            _one_row_each(
                name,
                due.select(C.REVIEW_ID),
                tables.read(spark, REVIEW_INSIGHTS, lake).select(C.REVIEW_ID),
                C.REVIEW_ID,
                fix=f"insight run nlp --as-of {as_of}",
            )
        )
    name = "every silver customer has one gold.customer_profile row"
    if not (tables.exists(spark, customers, lake) and tables.exists(spark, CUSTOMER_PROFILE, lake)):
        out.append(
            checks.skipped(name, "silver.customers or gold.customer_profile not produced yet")
        )
    else:
        out.append(
            _one_row_each(
                name,
                tables.read(spark, customers, lake).select(C.CUSTOMER_KEY),
                tables.read(spark, CUSTOMER_PROFILE, lake).select(C.CUSTOMER_KEY),
                C.CUSTOMER_KEY,
                fix=f"insight run profile --as-of {as_of}",
            )
        )
    name = f"gold.customer_features as of {as_of}: one row per customer, all known"
    if not (
        tables.exists(spark, customers, lake) and tables.exists(spark, CUSTOMER_FEATURES, lake)
    ):
        out.append(checks.skipped(name, "gold.customer_features not produced yet"))
    else:
        feats = tables.read(spark, CUSTOMER_FEATURES, lake).where(F.col(C.AS_OF) == F.lit(as_of))
        per_key = feats.groupBy(C.CUSTOMER_KEY).count()
        known = tables.read(spark, customers, lake).select(C.CUSTOMER_KEY)
        out.append(
            checks.one_row_each(
                name,
                expected=per_key.count(),
                missing=0,
                duplicated=per_key.where("count > 1").count(),
                orphans=per_key.join(known, C.CUSTOMER_KEY, "left_anti").count(),
                fix=f"insight run features --as-of {as_of}",
            )
        )
    return out


def keyed_tables(spark: SparkSession, lake: str) -> list[tuple[tables.Table, DataFrame]]:
    """Silver and gold tables with a customer_key column."""
    found = []
    for t in tables.lake_tables(spark, lake):
        if t.layer in ("silver", "gold"):
            df = tables.read(spark, t, lake)
            if C.CUSTOMER_KEY in df.columns:
                found.append((t, df))
    return found


def privacy_checks(spark: SparkSession, lake: str) -> list[checks.Check]:
    """Erased customers are gone from silver and gold; GX agrees with the routed rows."""
    out = []
    name = "erased customers absent from every silver and gold table"
    if not tables.exists(spark, ES.SUPPRESSED, lake):
        out.append(checks.skipped(name, "no erasure recorded"))
    else:
        keys = F.broadcast(tables.read(spark, ES.SUPPRESSED, lake).select(C.CUSTOMER_KEY))
        found = {
            t.qualified: df.join(keys, C.CUSTOMER_KEY, "left_semi").count()
            for t, df in keyed_tables(spark, lake)
        }
        left = {t: n for t, n in found.items() if n}
        out.append(
            checks.balance(
                name,
                0,
                sum(left.values()),
                detail=f"{len(found)} tables scanned; rows left: {left or 'none'}",
                fix="insight erase again for those customers (a job re-created their rows?)",
            )
        )
    name = "GX unexpected counts = rows routed to quarantine"
    if not tables.exists(spark, tables.DQ_RESULTS, lake):
        out.append(checks.skipped(name, "no ops.dq_results yet"))
    else:
        dq = tables.read(spark, tables.DQ_RESULTS, lake).where("stage = 'row'")
        bad = dq.where(~F.col("unexpected_count").eqNullSafe(F.col("quarantined_count"))).count()
        out.append(
            checks.balance(
                name,
                0,
                bad,
                detail=f"row-rule results that disagree, of {dq.count()}",
                fix="a rule's Spark predicate and its GX expectation differ: see ops.dq_results",
            )
        )
    return out


def job_checks(ledger: DataFrame, as_of: date) -> list[checks.Check]:
    """One check per DAG job: its latest finish for as_of is `done`."""
    finishes = ledger.where(
        (F.col("as_of") == F.lit(as_of))
        & F.col("table_name").isNull()
        & F.col("status").isin(DONE, FAILED)
    )
    latest = {
        r["job"]: (r["status"], r["message"])
        for r in finishes.groupBy("job")
        .agg(
            F.max_by("status", F.struct("finished_at", "started_at")).alias("status"),
            F.max_by("message", F.struct("finished_at", "started_at")).alias("message"),
        )
        .collect()
    }
    out = []
    for job in dag.NAMES:
        name = f"job {job} done for {as_of}"
        if job not in latest:
            out.append(checks.skipped(name, "no finished run for this as_of"))
            continue
        status, message = latest[job]
        out.append(
            checks.Check(
                name,
                checks.OK if status == DONE else checks.GAP,
                detail=f"latest: {status}",
                fix=f"insight run {job} --as-of {as_of} ({(message or '')[:120]})",
            )
        )
    return out


def audit(
    spark: SparkSession, lake: str, as_of: date | None = None
) -> tuple[date, list[checks.Check]]:
    """Every check of the lake for `as_of` (default: the latest run's).

    Raises:
        InsightError: no ops.run_ledger, or no run for `as_of` in it.
    """
    if not tables.exists(spark, tables.RUN_LEDGER, lake):
        raise InsightError(f"no {tables.RUN_LEDGER} under {lake}: nothing has run there yet")
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).cache()
    try:
        as_of = resolve_as_of(ledger, as_of)
        erased = erased_rows(spark, lake)
        found: list[checks.Check] = job_checks(ledger, as_of)
        for figures in entity_figures(spark, lake, ledger, erased):
            found += checks.entity_checks(figures)
        found += gold_checks(spark, lake, as_of)
        found += privacy_checks(spark, lake)
    finally:
        ledger.unpersist()
    gaps = [c.name for c in found if c.status == checks.GAP]
    log.info("audit %s as of %s: %d checks, %d gaps", lake, as_of, len(found), len(gaps))
    return as_of, found
