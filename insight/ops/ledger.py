"""ops.run_ledger: one row per job batch (or per job when it has no batches)."""

from __future__ import annotations

import platform
from dataclasses import astuple, dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import metadata

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

import insight

OK = "ok"
FAILED = "failed"
NOTHING_NEW = "nothing_new"
SKIPPED = "skipped"  # the job could not do its work yet (the message says why)
# One row per finished job run (table_name null): what `insight run all` resumes from.
DONE = "done"

LEDGER_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False, {"comment": "one id per job run"}),
        T.StructField("job", T.StringType(), False, {"comment": "ingest, clean, ..."}),
        T.StructField("table_name", T.StringType(), True, {"comment": "table written"}),
        T.StructField("batch_id", T.StringType(), True, {"comment": "micro-batch processed"}),
        T.StructField("as_of", T.DateType(), False, {"comment": "business date of the run"}),
        T.StructField(
            "status", T.StringType(), False, {"comment": "ok, nothing_new, skipped or failed"}
        ),
        T.StructField("rows_in", T.LongType(), True, {"comment": "rows read"}),
        T.StructField("rows_written", T.LongType(), True, {"comment": "rows inserted or updated"}),
        T.StructField("rows_quarantined", T.LongType(), True, {"comment": "rows quarantined"}),
        T.StructField(
            "duplicates_collapsed", T.LongType(), True, {"comment": "duplicates and stale re-sends"}
        ),
        T.StructField("started_at", T.TimestampType(), False),
        T.StructField("finished_at", T.TimestampType(), False),
        T.StructField("seconds", T.DoubleType(), False, {"comment": "wall time of the step"}),
        T.StructField("validation_seconds", T.DoubleType(), True, {"comment": "time in GX"}),
        T.StructField("versions", T.MapType(T.StringType(), T.StringType()), False),
        T.StructField("message", T.StringType(), True, {"comment": "error or note"}),
    ]
)


@dataclass(frozen=True)
class LedgerEntry:
    run_id: str
    job: str
    table_name: str | None
    batch_id: str | None
    as_of: date
    status: str
    rows_in: int | None
    rows_written: int | None
    rows_quarantined: int | None
    duplicates_collapsed: int | None
    started_at: datetime
    finished_at: datetime
    seconds: float
    validation_seconds: float | None
    versions: dict[str, str]
    message: str | None = None


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Versions of what produced the data, recorded with every run."""
    out = {"insight": insight.__version__, "python": platform.python_version()}
    for dist in ("pyspark", "delta-spark", "great-expectations", "spark-nlp"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def ledger_frame(spark: SparkSession, entries: list[LedgerEntry]) -> DataFrame:
    return spark.createDataFrame([astuple(e) for e in entries], LEDGER_SCHEMA)
