"""Suppression: landing lines of erased customers are dropped before they reach bronze."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing
from insight.pii import pseudonymise

# Entities whose lines name a customer, and how to read the source id from a raw line.
_SOURCE_ID = {
    landing.CUSTOMERS: lambda v: F.regexp_extract(v, r'^\s*"?([^",]*)', 1),  # first CSV cell
    landing.EVENTS: lambda v: F.get_json_object(v, "$.customer_id"),
    landing.REVIEWS: lambda v: F.get_json_object(v, "$.customer_id"),
}


def line_source_id(entity: str, value: Column) -> Column | None:
    """The source customer id a raw line names (null if none); None for entities without
    customers."""
    extract = _SOURCE_ID.get(entity)
    if extract is None:
        return None
    source_id = F.trim(extract(value))
    return F.when(source_id != "", source_id)


def with_line_customer_key(
    lines: DataFrame, name: str, *, entity: str, salt: bytes, value_col: str = "value"
) -> DataFrame | None:
    """`lines` with column `name`: the pseudonymous key of the customer each raw line names
    (null if none), as clean computes it; None for entities without customers."""
    source_id = line_source_id(entity, F.col(value_col))
    if source_id is None:
        return None
    return lines.transform(pseudonymise, {name: source_id}, salt=salt)


def without_suppressed(
    lines: DataFrame, *, entity: str, salt: bytes, suppressed: DataFrame, value_col: str = "value"
) -> DataFrame:
    """Drop lines whose customer key is in `suppressed` (column customer_key).

    A line that does not parse is kept (bronze keeps everything it cannot attribute; clean
    quarantines it, and a later erase finds the id in it as a token).
    """
    marked = with_line_customer_key(lines, "_line_key", entity=entity, salt=salt,
                                    value_col=value_col)  # fmt: skip
    if marked is None:
        return lines
    keys = F.broadcast(suppressed.select(F.col(C.CUSTOMER_KEY).alias("_suppressed_key")))
    return marked.join(keys, marked["_line_key"] == keys["_suppressed_key"], "left_anti").drop(
        "_line_key"
    )
