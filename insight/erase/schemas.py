"""The two ops tables of erasure: the audit trail and the suppression list (keys only)."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.tables import Table
from insight.tables import commented as _f

ERASURES = Table("ops", "erasures")
SUPPRESSED = Table("ops", "suppressed_customers")

ERASURE_ID = "erasure_id"
ERASED_AT = "erased_at"
ROWS_REMOVED = "rows_removed"
TABLES_TOUCHED = "tables_touched"
SUPPRESSED_AT = "suppressed_at"

ERASURES_SCHEMA = T.StructType(
    [
        _f(ERASURE_ID, T.StringType(), "one id per `insight erase` run", False),
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous id of the erased customer", False),
        _f(ERASED_AT, T.TimestampType(), "when, UTC", False),
        _f("env", T.StringType(), "environment config the erase ran with", False),
        _f(TABLES_TOUCHED, T.ArrayType(T.StringType()), "tables rows were removed from", False),
        _f(
            ROWS_REMOVED,
            T.MapType(T.StringType(), T.LongType()),
            "rows removed per table (layer.name)",
            False,
        ),
        _f("vacuumed", T.ArrayType(T.StringType()), "tables vacuumed with 0 hours retention"),
        _f("message", T.StringType(), "what else was done, or left (never PII)"),
    ]
)

SUPPRESSED_SCHEMA = T.StructType(
    [
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous id whose records are dropped", False),
        _f(SUPPRESSED_AT, T.TimestampType(), "when the suppression started, UTC", False),
        _f(ERASURE_ID, T.StringType(), "the erasure that added it", False),
    ]
)
