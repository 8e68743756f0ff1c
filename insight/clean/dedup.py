"""Collapse duplicates: one row per natural key, the latest version wins."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from insight.columns import BATCH_ID, RAW, SOURCE_FILE


def latest_per_key(df: DataFrame, *, key: str, version_col: str) -> DataFrame:
    """Keep the row with the greatest `version_col` per `key`.

    Ties (exact duplicates, or re-sends with the same version) are broken by batch, file
    and raw text so the result does not depend on row order.

    Example::

        events.transform(latest_per_key, key="event_id", version_col="sent_at")
    """
    for col in (key, version_col):
        if col not in df.columns:
            raise ValueError(f"latest_per_key: column {col!r} not in {df.columns}")
    tiebreak = [c for c in (BATCH_ID, SOURCE_FILE, RAW) if c in df.columns]
    order = [F.col(version_col).desc_nulls_last(), *[F.col(c).desc() for c in tiebreak]]
    w = Window.partitionBy(key).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(w)).where("_rank = 1").drop("_rank")
