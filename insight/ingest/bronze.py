"""Pure transforms from raw landing lines to bronze rows."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import landing as L
from insight.columns import BATCH_ID, INGESTED_AT, SOURCE_FILE


def with_source_file(lines: DataFrame) -> DataFrame:
    """Add `_source_file` from the file source's hidden `_metadata` column."""
    return lines.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))


def without_header(lines: DataFrame, *, entity: str) -> DataFrame:
    """Drop CSV header lines: they describe records and are not records themselves.

    A header that differs from the contract is kept, so it is quarantined and seen.
    """
    header = L.CSV_HEADER.get(entity)
    if header is None:
        return lines
    return lines.where(F.col("value").isNull() | (F.trim(F.col("value")) != header))


def with_batch(lines: DataFrame, *, batch_id: str, ingested_at: datetime) -> DataFrame:
    return lines.select(
        "value",
        SOURCE_FILE,
        F.lit(ingested_at).cast("timestamp").alias(INGESTED_AT),
        F.lit(batch_id).alias(BATCH_ID),
    )
