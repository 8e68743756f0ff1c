"""`insight erase`: remove customers from every table of a lake, suppress them, VACUUM.

Per table: count the customer's rows, delete them with a MERGE against a small frame of
the customers' keys and id patterns (so the Delta log records column names, never the
values), then VACUUM with zero retention so the files that held them are gone. The keys
go to ops.suppressed_customers (ingest drops their re-sent records) and one row per
customer to ops.erasures (key, time, rows removed per table; no PII).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.erase import match, schemas
from insight.erase.suppress import with_line_customer_key
from insight.errors import InsightError
from insight.ops.ledger import OK
from insight.runtime import utc_now

log = logging.getLogger(__name__)

PARALLEL_TABLES = 4
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
LANDING_NOTE = (
    "landing/ not modified: it is the source system's drop zone; suppression drops "
    "re-sent records at ingest"
)


@dataclass
class Erasure:
    """What one erase run did: rows removed per customer key and table."""

    erasure_id: str
    keys: list[str]
    removed: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> table -> rows
    vacuumed: list[str] = field(default_factory=list)
    redacted_samples: int = 0

    def total(self, table: str) -> int:
        return sum(per.get(table, 0) for per in self.removed.values())

    @property
    def tables_touched(self) -> list[str]:
        return sorted({t for per in self.removed.values() for t in per})


def targets_frame(spark: SparkSession, ids: Sequence[str], salt: bytes) -> DataFrame:
    rows = [(match.customer_key(i, salt), match.id_pattern(i)) for i in ids]
    return spark.createDataFrame(rows, f"{match.KEY} string, {match.PATTERN} string")


def erase_customers(
    spark: SparkSession, lake: str, ids: Sequence[str], salt: bytes, *, env: str
) -> Erasure:
    """Remove the customers with these source ids from every table of `lake`.

    Works on any lake Delta reads: a folder, or a URI (s3a://, abfss://, hdfs://, dbfs:/).

    Raises:
        InsightError: the lake has no tables.
    """
    ids = match.source_ids(ids)
    found = tables.lake_tables(spark, lake)
    if not found:
        raise InsightError(f"no Delta tables under {lake}: nothing to erase from")
    check_salt(spark, lake, salt)
    check_cleaned(spark, lake)
    targets = F.broadcast(targets_frame(spark, ids, salt).cache())
    erasure = Erasure(uuid.uuid4().hex[:12], [match.customer_key(i, salt) for i in ids])
    erasure.removed = {k: {} for k in erasure.keys}
    # Suppress first: from here on ingest drops their records, even if this run fails.
    suppress(spark, lake, erasure)
    # ops tables hold counts and keys, never a customer's rows. Tables are independent, and
    # on small tables Spark's per-job overhead dominates: a few at a time overlap it.
    data = [t for t in found if t.layer != "ops"]
    with ThreadPoolExecutor(max_workers=PARALLEL_TABLES) as pool:
        results = pool.map(lambda t: _erase_table(spark, lake, t, targets), data)
        for table, hits in zip(data, results, strict=True):
            for key, n in hits.items():
                erasure.removed[key][table.qualified] = n
    erasure.redacted_samples = _redact_dq_samples(spark, lake)
    touched = set(erasure.tables_touched)
    if erasure.redacted_samples:
        touched.add(tables.DQ_RESULTS.qualified)
    erasure.vacuumed = vacuum(spark, lake, [t for t in found if t.qualified in touched])
    _record(spark, lake, erasure, env)
    targets.unpersist()
    log.info(
        "erase %s: %d customer(s), %d rows removed from %d tables, %d GX samples redacted, "
        "%d tables vacuumed; %s",
        erasure.erasure_id, len(ids), sum(erasure.total(t) for t in erasure.tables_touched),
        len(erasure.tables_touched), erasure.redacted_samples, len(erasure.vacuumed), LANDING_NOTE,
    )  # fmt: skip
    return erasure


def check_salt(spark: SparkSession, lake: str, salt: bytes) -> None:
    """Refuse a salt that does not give the lake's keys: with it, erase would remove the
    raw lines (matched by id) and silently miss every pseudonymised row."""
    bronze, silver = tables.bronze(landing.CUSTOMERS), tables.silver(landing.CUSTOMERS)
    if not tables.exists(spark, silver, lake) or tables.is_empty(spark, silver, lake):
        return
    keys = with_line_customer_key(
        tables.read(spark, bronze, lake), C.CUSTOMER_KEY, entity=landing.CUSTOMERS, salt=salt
    ).select(C.CUSTOMER_KEY)
    known = tables.read(spark, silver, lake).select(C.CUSTOMER_KEY)
    if keys.join(known, C.CUSTOMER_KEY, "left_semi").limit(1).count() == 0:
        raise InsightError(
            f"the PII salt does not match the one {lake} was built with: no customer of "
            "bronze.customers has its key in silver.customers (set the env var named by "
            "pii.salt_env to the lake's salt)"
        )


def erased_rows(spark: SparkSession, lake: str) -> dict[str, int]:
    """Rows removed per table by every erasure so far."""
    if not tables.exists(spark, schemas.ERASURES, lake):
        return {}
    exploded = tables.read(spark, schemas.ERASURES, lake).select(F.explode(schemas.ROWS_REMOVED))
    return {r[0]: int(r[1]) for r in exploded.groupBy("key").agg(F.sum("value")).collect()}


def check_cleaned(spark: SparkSession, lake: str) -> None:
    """Refuse to erase while clean has bronze rows left to read: they would be deleted and
    vacuumed before clean reads them, and the rows of other customers in the same files
    with them."""
    if not tables.exists(spark, tables.RUN_LEDGER, lake):
        return
    erased = erased_rows(spark, lake)
    cleaned = {
        r["table_name"]: r["rows_in"] or 0
        for r in tables.read(spark, tables.RUN_LEDGER, lake)
        .where((F.col("job") == "clean") & (F.col("status") == OK))
        .groupBy("table_name")
        .agg(F.sum("rows_in").alias("rows_in"))
        .collect()
    }
    for entity in landing.ENTITIES:
        bronze = tables.bronze(entity)
        if not tables.exists(spark, bronze, lake):
            continue
        ever = tables.read(spark, bronze, lake).count() + erased.get(bronze.qualified, 0)
        done = cleaned.get(tables.silver(entity).qualified, 0)
        if ever > done:
            raise InsightError(
                f"{bronze} has {ever - done} rows clean has not processed yet: run "
                f"`insight run clean --lake {lake}` first, then erase"
            )


def _erase_table(
    spark: SparkSession, lake: str, table: tables.Table, targets: DataFrame
) -> dict[str, int]:
    """Delete the customers' rows of one table; rows removed per customer key."""
    df = tables.read(spark, table, lake)
    condition = match.erase_condition(df.columns)
    if condition is None:
        return {}
    # Per customer, for the audit trail; a row matching two erased customers counts once,
    # for the smaller key, so the per-table sums equal the rows deleted.
    hits = (
        df.withColumn("_row", F.monotonically_increasing_id())
        .alias("t")
        .join(targets.alias("s"), F.expr(condition))
        .groupBy("_row")
        .agg(F.min(f"s.{match.KEY}").alias(match.KEY))
        .groupBy(match.KEY)
        .count()
        .collect()
    )
    if not hits:
        return {}
    target = DeltaTable.forPath(spark, table.path(lake))
    target.alias("t").merge(targets.alias("s"), condition).whenMatchedDelete().execute()
    last = target.history(1).select("operation", "operationMetrics").first()
    deleted = int(last["operationMetrics"].get("numTargetRowsDeleted", 0))
    counted = sum(r["count"] for r in hits)
    if deleted != counted:
        raise RuntimeError(f"erase {table}: counted {counted} rows, MERGE deleted {deleted}")
    log.info("erase %s: %d rows of %d customer(s) removed", table, deleted, len(hits))
    return {r[match.KEY]: r["count"] for r in hits}


def _redact_dq_samples(spark: SparkSession, lake: str) -> int:
    """Null GX samples of raw CRM fields in ops.dq_results (lakes written before they were
    kept out): the samples could hold an erased customer's email or birth date."""
    if not tables.exists(spark, tables.DQ_RESULTS, lake):
        return 0
    fields = ", ".join(f"'{f}'" for f in match.PII_FIELDS)
    condition = (
        f"table_name = 'silver.customers' AND column_name IN ({fields}) AND details IS NOT NULL"
    )
    dq = DeltaTable.forPath(spark, tables.DQ_RESULTS.path(lake))
    if dq.toDF().where(condition).limit(1).count() == 0:
        return 0
    dq.update(condition, {"details": F.lit(None).cast("string")})
    metrics = dq.history(1).select("operationMetrics").first()[0]
    return int(metrics.get("numUpdatedRows", 0))


def suppress(spark: SparkSession, lake: str, erasure: Erasure) -> None:
    """Add the keys to ops.suppressed_customers (once each)."""
    tables.create_if_missing(
        spark, schemas.SUPPRESSED, lake, schemas.SUPPRESSED_SCHEMA,
        comment="Pseudonymous keys of erased customers: never re-ingested",
    )  # fmt: skip
    already = tables.read(spark, schemas.SUPPRESSED, lake).select(C.CUSTOMER_KEY)
    new = spark.createDataFrame(
        [(k, utc_now(), erasure.erasure_id) for k in erasure.keys], schemas.SUPPRESSED_SCHEMA
    ).join(already, C.CUSTOMER_KEY, "left_anti")
    tables.append(new, schemas.SUPPRESSED, lake)


def _record(spark: SparkSession, lake: str, erasure: Erasure, env: str) -> None:
    """One ops.erasures row per customer (written last: a failed run leaves none, and the
    audit then shows the rows it removed as a gap)."""
    now = utc_now()
    tables.create_if_missing(
        spark, schemas.ERASURES, lake, schemas.ERASURES_SCHEMA,
        comment="One row per erased customer: key, time, rows removed",
    )  # fmt: skip
    message = LANDING_NOTE
    if erasure.redacted_samples:
        message += f"; {erasure.redacted_samples} GX sample lists in ops.dq_results redacted"
    rows = [
        (erasure.erasure_id, key, now, env, sorted(per), per, erasure.vacuumed, message)
        for key, per in erasure.removed.items()
    ]
    tables.append(spark.createDataFrame(rows, schemas.ERASURES_SCHEMA), schemas.ERASURES, lake)


def vacuum(spark: SparkSession, lake: str, targets: Sequence[tables.Table]) -> list[str]:
    """VACUUM with 0 hours retention: files no longer in the current version are deleted.

    Delta refuses retention under 7 days unless its safety check is off; it is turned off
    for these calls only. A reader of an older version at that moment would fail: erase
    is an operator action, run when no job is writing.
    """
    previous = spark.conf.get(RETENTION_CHECK, "true")
    spark.conf.set(RETENTION_CHECK, "false")
    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_TABLES) as pool:
            list(pool.map(lambda t: DeltaTable.forPath(spark, t.path(lake)).vacuum(0.0), targets))
    finally:
        spark.conf.set(RETENTION_CHECK, previous)
    return [t.qualified for t in targets]
