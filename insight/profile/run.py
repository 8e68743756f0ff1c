"""The profile job: silver.customers + gold features, segments and CLV -> gold.customer_profile
(one row per customer, MERGE by customer; a later as_of replaces an earlier one)."""

from __future__ import annotations

import logging

from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.errors import InsightError
from insight.features.schemas import CUSTOMER_FEATURES
from insight.ops.ledger import LEDGER_SCHEMA, OK
from insight.profile.build import (
    CUSTOMER_PROFILE,
    PROFILE_SCHEMA,
    SOURCES,
    customer_profile,
)
from insight.runtime import JobRun

log = logging.getLogger(__name__)

COMMENT = (
    "One row per customer: features, RFM and behavioural segments, lifetime value and review "
    "sentiment as of `as_of`; see each column's comment"
)


def profile_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    customers = tables.read_required(spark, tables.silver(landing.CUSTOMERS), lake, "clean")
    features = tables.read_required(spark, CUSTOMER_FEATURES, lake, "features")
    if features.where(F.col(C.AS_OF) == F.lit(run.as_of)).limit(1).count() == 0:
        raise InsightError(
            f"{CUSTOMER_FEATURES} has no rows for as_of {run.as_of}: "
            f"run `insight run features --as-of {run.as_of}` first"
        )
    optional = {}
    missing = []
    for source in SOURCES:
        present = tables.exists(spark, source.table, lake)
        optional[source.table.qualified] = (
            tables.read(spark, source.table, lake) if present else None
        )
        if not present:
            missing.append(source.table.qualified)
    if missing:
        log.warning("profile: %s not built yet; their columns stay null", ", ".join(missing))
    rows = customer_profile(customers, features, optional, run.as_of, run.started_at)
    tables.create_if_missing(spark, CUSTOMER_PROFILE, lake, PROFILE_SCHEMA, comment=COMMENT)
    counts = tables.merge_latest(
        spark, rows, CUSTOMER_PROFILE, lake, keys=[C.CUSTOMER_KEY], version_col=C.AS_OF,
        same_version_wins=True,
    )  # fmt: skip
    note = f"as_of {run.as_of}" + (f"; not built yet: {', '.join(missing)}" if missing else "")
    log.info("profile: %d inserted, %d updated (%s)", counts.inserted, counts.updated, note)
    run.record(
        [step.entry(CUSTOMER_PROFILE.qualified, OK, rows_written=counts.written, message=note)]
    )
