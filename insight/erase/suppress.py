"""Suppression: landing lines of erased customers are dropped before they reach bronze."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing as L
from insight.pii import hmac_sha256

# Entities whose lines name a customer, and how to read the source id from a raw line.
_SOURCE_ID = {
    L.CUSTOMERS: lambda v: F.regexp_extract(v, r'^\s*"?([^",]*)', 1),  # first CSV cell
    L.EVENTS: lambda v: F.get_json_object(v, "$.customer_id"),
    L.REVIEWS: lambda v: F.get_json_object(v, "$.customer_id"),
}


def line_customer_key(entity: str, value: Column, salt: bytes) -> Column | None:
    """Pseudonymous key of the customer a raw line names (null if none), as clean computes
    it; None for entities without customers."""
    extract = _SOURCE_ID.get(entity)
    if extract is None:
        return None
    source_id = F.trim(extract(value))
    return hmac_sha256(F.when(source_id != "", source_id), salt)


def without_suppressed(
    lines: DataFrame, *, entity: str, salt: bytes, suppressed: DataFrame, value_col: str = "value"
) -> DataFrame:
    """Drop lines whose customer key is in `suppressed` (column customer_key).

    A line that does not parse is kept (bronze keeps everything it cannot attribute; clean
    quarantines it, and a later erase finds the id in it as a token).
    """
    key = line_customer_key(entity, F.col(value_col), salt)
    if key is None:
        return lines
    keys = F.broadcast(suppressed.select(F.col(C.CUSTOMER_KEY).alias("_suppressed_key")))
    marked = lines.withColumn("_line_key", key)
    return marked.join(keys, marked["_line_key"] == keys["_suppressed_key"], "left_anti").drop(
        "_line_key"
    )
