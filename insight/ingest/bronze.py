"""Pure transforms from raw landing lines to bronze rows."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import landing
from insight.columns import BATCH_ID, INGESTED_AT, RESCUED_DATA, SOURCE_FILE


def with_source_file(lines: DataFrame) -> DataFrame:
    """Add `_source_file` from the file source's hidden `_metadata` column."""
    return lines.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))


def without_header(lines: DataFrame, *, entity: str) -> DataFrame:
    """Drop CSV header lines: they describe records and are not records themselves.

    A header that differs from the contract is kept, so it is quarantined and seen.
    """
    header = landing.CSV_HEADER.get(entity)
    if header is None:
        return lines
    return lines.where(F.col("value").isNull() | (F.trim(F.col("value")) != header))


def with_rescued_data(lines: DataFrame, *, entity: str) -> DataFrame:
    """Add `_rescued_data`: the JSON line's top-level fields that are not in the contract
    (a JSON object, null if none), so schema drift is kept and can be reported.

    CSV lines have no field names: an extra cell is caught by clean's cell count instead.
    """
    if entity not in landing.JSON_ENTITIES:
        return lines.withColumn(RESCUED_DATA, F.lit(None).cast("string"))
    known = F.array(*[F.lit(f) for f in landing.FIELDS[entity]])
    # map<string,string> keeps nested values as their JSON text; a non-object line is null.
    fields = F.from_json(F.col("value"), "map<string,string>")
    unknown = F.map_filter(fields, lambda k, _: ~F.array_contains(known, k))
    return lines.withColumn(RESCUED_DATA, F.when(F.size(unknown) > 0, F.to_json(unknown)))


def rescued_fields(rows: DataFrame) -> dict[str, int]:
    """Lines per unknown field name in `_rescued_data`."""
    names = F.explode(F.map_keys(F.from_json(F.col(RESCUED_DATA), "map<string,string>")))
    counts = rows.where(F.col(RESCUED_DATA).isNotNull()).select(names.alias("field"))
    return {r["field"]: r["count"] for r in counts.groupBy("field").count().collect()}


def with_batch(lines: DataFrame, *, batch_id: str, ingested_at: datetime) -> DataFrame:
    return lines.select(
        "value",
        RESCUED_DATA,
        SOURCE_FILE,
        F.lit(ingested_at).cast("timestamp").alias(INGESTED_AT),
        F.lit(batch_id).alias(BATCH_ID),
    )
