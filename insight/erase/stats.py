"""Keep raw lines out of Delta's file statistics.

Delta writes the min and max of each column (strings cut to 32 characters) of every data
file into its transaction log, and the log outlives VACUUM (Delta expires it after
`delta.logRetentionDuration`, 30 days). For a raw CRM line the minimum is
"C0000001,Anna,Müller,anna.mu...": the id, the name and part of the email. Data skipping
on raw text is useless anyway, so tables holding raw lines collect statistics only on
their other columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from insight import tables

STATS_COLUMNS = "delta.dataSkippingStatsColumns"


def exclude_from_stats(
    spark: SparkSession, table: tables.Table, lake: str, columns: Sequence[str]
) -> bool:
    """Collect file statistics on every column of `table` but `columns` (one commit, the
    first time only). Returns True if the table property was changed."""
    path = table.path(lake)
    detail = DeltaTable.forPath(spark, path).detail().select("properties").first()
    # Delta keeps no statistics on arrays and maps, and refuses to be asked for them.
    present = [
        f.name
        for f in tables.read(spark, table, lake).schema.fields
        if not isinstance(f.dataType, T.ArrayType | T.MapType)
    ]
    wanted = ",".join(f"`{c}`" for c in present if c not in columns)
    if (detail["properties"] or {}).get(STATS_COLUMNS) == wanted:
        return False
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{STATS_COLUMNS}' = '{wanted}')")
    return True
