"""Segment membership over time: the per-as_of summary and each customer's history of stays.

History is a slowly changing dimension (type 2): one row per stay of a customer in a
segment, `left_as_of` null while it lasts. Applying an as_of first undoes any earlier
application of the same as_of, so a re-run gives the same table.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from insight import columns as C
from insight.features import columns as FC
from insight.segment import schemas

HISTORY_COLUMNS = [f.name for f in schemas.SEGMENT_HISTORY_SCHEMA]
SUMMARY_COLUMNS = [f.name for f in schemas.SEGMENT_SUMMARY_SCHEMA]


def memberships(segments: DataFrame) -> DataFrame:
    """(customer_key, kind, segment) rows of gold.customer_segments rows: one per kind."""
    return segments.select(
        C.CUSTOMER_KEY,
        F.explode(
            F.array(
                F.struct(
                    F.lit(schemas.KIND_RFM).alias(schemas.KIND),
                    F.col(schemas.RFM_SEGMENT).alias(schemas.SEGMENT),
                ),
                F.struct(
                    F.lit(schemas.KIND_CLUSTER).alias(schemas.KIND),
                    F.col(schemas.CLUSTER_NAME).alias(schemas.SEGMENT),
                ),
            )
        ).alias("_m"),
    ).select(C.CUSTOMER_KEY, "_m.*")


def updated_history(history: DataFrame, current: DataFrame, as_of: date) -> DataFrame:
    """The whole history table after applying `current` memberships on `as_of`.

    A stay whose segment differs on `as_of` (or whose customer is absent) is closed with
    `left_as_of = as_of`; a new segment opens a stay entered on `as_of`; an unchanged one
    stays open. `as_of` must not be older than an as_of already applied (forward only).

    Args:
        history: gold.segment_history rows (may be empty).
        current: (customer_key, kind, segment), one row per customer and kind.
        as_of: the business date of `current`.
    """
    day = F.lit(as_of).cast("date")
    # Undo a previous application of the same as_of: idempotent re-runs.
    base = history.where(F.col(schemas.ENTERED_AS_OF) != day).withColumn(
        schemas.LEFT_AS_OF,
        F.when(F.col(schemas.LEFT_AS_OF) == day, F.lit(None).cast("date")).otherwise(
            F.col(schemas.LEFT_AS_OF)
        ),
    )
    closed_before = base.where(F.col(schemas.LEFT_AS_OF).isNotNull())
    open_ = base.where(F.col(schemas.LEFT_AS_OF).isNull()).select(
        C.CUSTOMER_KEY, schemas.KIND, F.col(schemas.SEGMENT).alias("_old"), schemas.ENTERED_AS_OF
    )
    now = current.select(C.CUSTOMER_KEY, schemas.KIND, F.col(schemas.SEGMENT).alias("_new"))
    both = open_.join(now, [C.CUSTOMER_KEY, schemas.KIND], "full_outer")
    changed = F.col("_new").isNull() | F.col("_old").isNull() | (F.col("_old") != F.col("_new"))
    kept = both.where(F.col("_old").isNotNull()).select(
        C.CUSTOMER_KEY, schemas.KIND, F.col("_old").alias(schemas.SEGMENT), schemas.ENTERED_AS_OF,
        F.when(changed, day).otherwise(F.lit(None).cast("date")).alias(schemas.LEFT_AS_OF),
    )  # fmt: skip
    opened = both.where(F.col("_new").isNotNull() & changed).select(
        C.CUSTOMER_KEY, schemas.KIND, F.col("_new").alias(schemas.SEGMENT),
        day.alias(schemas.ENTERED_AS_OF), F.lit(None).cast("date").alias(schemas.LEFT_AS_OF),
    )  # fmt: skip
    return (
        closed_before.select(*HISTORY_COLUMNS)
        .unionByName(kept)
        .unionByName(opened)
        .select(*HISTORY_COLUMNS)
    )


def segment_summary(segments: DataFrame, as_of: date) -> DataFrame:
    """gold.segment_summary rows: per kind and segment, customers, share and mean R/F/M.

    `segments` holds customer_key, rfm_segment, cluster_name and the features' recency_days,
    frequency and monetary.
    """
    per_kind = memberships(segments).join(
        segments.select(C.CUSTOMER_KEY, FC.RECENCY_DAYS, FC.FREQUENCY, FC.MONETARY),
        C.CUSTOMER_KEY,
    )
    counts = per_kind.groupBy(schemas.KIND, schemas.SEGMENT).agg(
        F.count(F.lit(1)).alias(schemas.CUSTOMERS),
        F.avg(FC.RECENCY_DAYS).cast("double").alias(schemas.MEAN_RECENCY_DAYS),
        F.avg(FC.FREQUENCY).cast("double").alias(schemas.MEAN_FREQUENCY),
        F.avg(FC.MONETARY).cast("double").alias(schemas.MEAN_MONETARY),
    )
    total = F.sum(schemas.CUSTOMERS).over(Window.partitionBy(schemas.KIND))
    return (
        counts.withColumn(schemas.SHARE, F.col(schemas.CUSTOMERS) / total)
        .withColumn(C.AS_OF, F.lit(as_of).cast("date"))
        .withColumn(schemas.CUSTOMERS, F.col(schemas.CUSTOMERS).cast("long"))
        .select(*SUMMARY_COLUMNS)
    )
