"""The features job: silver customers, events, products (+ gold.review_insights if it
exists) -> gold.customer_features for one as_of.

Idempotent: the as_of's rows are replaced in one commit (`replaceWhere`), so a re-run for
the same as_of leaves the same content and other as_of dates untouched.
"""

from __future__ import annotations

import logging

from insight import columns as C
from insight import landing, tables
from insight.features import compute, schemas
from insight.nlp.schemas import REVIEW_INSIGHTS
from insight.ops.ledger import LEDGER_SCHEMA, OK
from insight.runtime import JobRun

log = logging.getLogger(__name__)


def features_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    customers = tables.read_required(spark, tables.silver(landing.CUSTOMERS), lake, "clean")
    events = tables.read_required(spark, tables.silver(landing.EVENTS), lake, "clean")
    products = tables.read_required(spark, tables.silver(landing.PRODUCTS), lake, "clean")
    has_insights = tables.exists(spark, REVIEW_INSIGHTS, lake)
    insights = tables.read(spark, REVIEW_INSIGHTS, lake) if has_insights else None
    if not has_insights:
        log.warning("features: no %s yet: review features get their defaults", REVIEW_INSIGHTS)
    # Six aggregations read the events up to as_of: read them from storage once.
    until = compute.events_until(events, run.as_of).select(*compute.EVENT_COLUMNS).cache()
    try:
        rows_in = until.count()
        features = compute.customer_features(customers, until, products, insights, run.as_of)
        tables.create_if_missing(
            spark, schemas.CUSTOMER_FEATURES, lake, schemas.CUSTOMER_FEATURES_SCHEMA,
            partition_by=[C.AS_OF], comment=schemas.TABLE_COMMENT,
        )  # fmt: skip
        written = tables.overwrite(
            features, schemas.CUSTOMER_FEATURES, lake, replace_where=f"{C.AS_OF} = '{run.as_of}'"
        )
    finally:
        until.unpersist()
    log.info("features: %d events up to %s -> %d customer rows in %s",
             rows_in, run.as_of, written, schemas.CUSTOMER_FEATURES)  # fmt: skip
    reviews = "used" if has_insights else f"absent ({REVIEW_INSIGHTS} missing: defaults)"
    run.record([
        step.entry(
            schemas.CUSTOMER_FEATURES.qualified, OK, rows_in=rows_in, rows_written=written,
            message=f"as_of {run.as_of}: {written} customers from {rows_in} events; "
            f"review insights {reviews}",
        )
    ])  # fmt: skip
