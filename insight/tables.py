"""Where every table lives and the few writes jobs do: append, MERGE, create.

Tables live at <lake>/<layer>/<name> as Delta and are registered in the Spark catalog as
`<layer>.<name>`. This module is the only place that knows paths; library functions
elsewhere take and return DataFrames.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from delta import exceptions as delta_errors
from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.types import StructType

from insight import storage

log = logging.getLogger(__name__)

LAYERS = ("bronze", "silver", "gold", "quarantine", "ops")

# Delta's optimistic concurrency: a commit that conflicts with another writer's is not made
# at all, so trying it again is safe.
CONFLICTS = (
    delta_errors.ConcurrentAppendException,
    delta_errors.ConcurrentDeleteReadException,
    delta_errors.ConcurrentDeleteDeleteException,
    delta_errors.ConcurrentTransactionException,
    delta_errors.ConcurrentWriteException,
    delta_errors.MetadataChangedException,
    delta_errors.ProtocolChangedException,
)
COMMIT_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 0.5
_R = TypeVar("_R")


@dataclass(frozen=True)
class Table:
    layer: str
    name: str

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; layers are {', '.join(LAYERS)}")

    @property
    def qualified(self) -> str:
        return f"{self.layer}.{self.name}"

    def path(self, lake: str) -> str:
        return f"{lake}/{self.layer}/{self.name}"

    def __str__(self) -> str:
        return self.qualified


def bronze(entity: str) -> Table:
    return Table("bronze", entity)


def silver(entity: str) -> Table:
    return Table("silver", entity)


def quarantine(entity: str) -> Table:
    return Table("quarantine", entity)


def commented(name: str, dtype: T.DataType, comment: str, nullable: bool = True) -> T.StructField:
    """A schema field with the one-line comment analysts see in the catalog."""
    return T.StructField(name, dtype, nullable, {"comment": comment})


RUN_LEDGER = Table("ops", "run_ledger")
DQ_RESULTS = Table("ops", "dq_results")


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def exists(spark: SparkSession, table: Table, lake: str) -> bool:
    return DeltaTable.isDeltaTable(spark, table.path(lake))


def read(spark: SparkSession, table: Table, lake: str) -> DataFrame:
    return spark.read.format("delta").load(table.path(lake))


def read_required(spark: SparkSession, table: Table, lake: str, producer: str) -> DataFrame:
    """The table, or an error naming it and the job that writes it (`producer`)."""
    if not exists(spark, table, lake):
        from insight.errors import InsightError

        raise InsightError(f"no {table} under {lake}: run `insight run {producer}` first")
    return read(spark, table, lake)


# (session, table, path) already registered by this process: saves a catalog lookup and a
# DESCRIBE DETAIL on every append.
_registered: set[tuple[str, str, str]] = set()


def register(spark: SparkSession, table: Table, lake: str) -> None:
    """Make `layer.name` in the catalog point at the table's folder in this lake."""
    path = table.path(lake)
    memo = (spark.sparkContext.applicationId, table.qualified, path)
    if memo in _registered:
        return
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {table.layer}")
    if spark.catalog.tableExists(table.qualified):
        try:
            location = (
                spark.sql(f"DESCRIBE DETAIL {table.qualified}").select("location").first()[0] or ""
            )
        except AnalysisException:  # registered for a lake folder that is gone
            location = ""
        if location.rstrip("/").removeprefix("file:") == path.removeprefix("file:"):
            _registered.add(memo)
            return
        # Registered for another lake (one catalog, several lakes): repoint it. The table
        # is external, so dropping the catalog entry leaves its files alone.
        spark.sql(f"DROP TABLE {table.qualified}")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {table.qualified} USING DELTA LOCATION '{path}'")
    _registered.add(memo)


def create_if_missing(
    spark: SparkSession,
    table: Table,
    lake: str,
    schema: StructType,
    *,
    partition_by: Sequence[str] = (),
    comment: str | None = None,
) -> None:
    """Create an empty Delta table with this schema (column comments included). An existing
    table that lacks some of the schema's columns (written by an older release) gets them,
    null in its existing rows."""
    path = table.path(lake)
    if DeltaTable.isDeltaTable(spark, path):
        _add_missing_columns(spark, table, path, schema)
    else:
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        if partition_by:
            builder = builder.partitionedBy(*partition_by)
        if comment:
            builder = builder.comment(comment)
        builder.execute()
    register(spark, table, lake)


def _add_missing_columns(spark: SparkSession, table: Table, path: str, schema: StructType) -> None:
    present = set(spark.read.format("delta").load(path).columns)
    missing = [f for f in schema if f.name not in present]
    if not missing:
        return

    def ddl(f: T.StructField) -> str:
        comment = f.metadata.get("comment", "").replace("'", "\\'")
        return f"`{f.name}` {f.dataType.simpleString()} COMMENT '{comment}'"

    columns = ", ".join(ddl(f) for f in missing)
    spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
    log.info("%s: added column(s) %s", table.qualified, ", ".join(f.name for f in missing))


def retry_conflicts(
    commit: Callable[[], _R],
    table: Table,
    *,
    attempts: int = COMMIT_ATTEMPTS,
    first_wait: float = FIRST_RETRY_SECONDS,
) -> _R:
    """Run `commit`; when another writer's commit conflicts with it, wait (exponential
    backoff with jitter) and run it again, up to `attempts` times.

    Raises:
        ConflictError: still conflicting after the last attempt (nothing was committed).
    """
    from insight.errors import ConflictError

    for attempt in range(1, attempts + 1):
        try:
            return commit()
        except CONFLICTS as exc:
            kind = type(exc).__name__
            if attempt == attempts:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
                raise ConflictError(
                    f"{table}: concurrent writers kept conflicting with this write "
                    f"({kind}); gave up after {attempts} attempts, nothing was committed: "
                    f"{first_line}. Run the job again when the other writer is done."
                ) from exc
            wait = first_wait * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning(
                "%s: %s from a concurrent writer; attempt %d of %d, retrying in %.1fs",
                table, kind, attempt, attempts, wait,
            )  # fmt: skip
            time.sleep(wait)
    raise AssertionError("unreachable")


def append(
    df: DataFrame,
    table: Table,
    lake: str,
    *,
    txn: tuple[str, int] | None = None,
) -> None:
    """Append rows. `txn` = (app id, version) makes a replayed streaming batch a no-op."""
    writer = df.write.format("delta").mode("append")
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    retry_conflicts(lambda: writer.save(table.path(lake)), table)
    register(df.sparkSession, table, lake)


def merge_latest(
    spark: SparkSession,
    updates: DataFrame,
    table: Table,
    lake: str,
    *,
    keys: Sequence[str],
    version_col: str,
    txn: tuple[str, int] | None = None,
    same_version_wins: bool = False,
) -> MergeCounts:
    """Upsert `updates` (one row per key) so that the row with the latest version wins.

    A row whose version is not newer than the stored one changes nothing, so re-running a
    batch is a no-op. With `same_version_wins` a row of the same version replaces the stored
    one too (a recomputed snapshot). Into an empty table (a first load) the rows are
    appended, which is the same result without joining against nothing.
    """
    target = DeltaTable.forPath(spark, table.path(lake))
    detail = target.detail().select("numFiles", "partitionColumns").first()
    if detail["numFiles"] == 0:
        # One file per partition value rather than one per task and value. `txn` keeps a
        # replayed streaming batch from appending twice (MERGE needs no such guard).
        if detail["partitionColumns"]:
            updates = updates.repartition(*detail["partitionColumns"])
        append(updates, table, lake, txn=txn)
        return MergeCounts(inserted=_last_commit_rows(target), updated=0)
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    merge = (
        target.alias("t")
        .merge(updates.alias("s"), on)
        .whenMatchedUpdateAll(
            condition=f"s.`{version_col}` {'>=' if same_version_wins else '>'} t.`{version_col}`"
        )
        .whenNotMatchedInsertAll()
    )
    retry_conflicts(merge.execute, table)
    metrics = target.history(1).select("operation", "operationMetrics").first()
    if metrics is None or metrics["operation"] != "MERGE":
        raise RuntimeError(f"expected a MERGE commit on {table}, found {metrics}")
    m = metrics["operationMetrics"]
    return MergeCounts(
        inserted=int(m.get("numTargetRowsInserted", 0)),
        updated=int(m.get("numTargetRowsUpdated", 0)),
    )


def is_empty(spark: SparkSession, table: Table, lake: str) -> bool:
    """True if the Delta table has no data files (cheap: read from the log)."""
    detail = DeltaTable.forPath(spark, table.path(lake)).detail().select("numFiles").first()
    return detail is None or detail[0] == 0


def overwrite(df: DataFrame, table: Table, lake: str, *, replace_where: str | None = None) -> int:
    """Replace the table's rows (only those matching `replace_where`, if given) with `df`,
    in one commit; returns the rows written."""
    target = DeltaTable.forPath(df.sparkSession, table.path(lake))
    # Tagged, so the commit is found even when other writers committed after it.
    token = f"insight-write-{uuid.uuid4().hex}"
    writer = df.write.format("delta").mode("overwrite").option("userMetadata", token)
    if replace_where is not None:
        writer = writer.option("replaceWhere", replace_where)
    retry_conflicts(lambda: writer.save(table.path(lake)), table)
    register(df.sparkSession, table, lake)
    ours = target.history(50).where(F.col("userMetadata") == token).select("operationMetrics")
    found = ours.first()
    # Replacing nothing with nothing commits nothing.
    return int(found[0].get("numOutputRows", 0)) if found is not None else 0


def _last_commit_rows(target: DeltaTable) -> int:
    last = target.history(1).select("operation", "operationMetrics").first()
    if last["operation"] != "WRITE":
        raise RuntimeError(f"expected an append commit, found {last['operation']}")
    return int(last["operationMetrics"].get("numOutputRows", 0))


def lake_tables(
    spark: SparkSession | None, lake: str, layers: Sequence[str] = LAYERS
) -> list[Table]:
    """Every Delta table of the lake (a folder with a `_delta_log`) in these layers, layer by
    layer and by name, local or on any file system Hadoop reaches (s3a://, abfss://,
    hdfs://, dbfs:/). A local lake needs no session (`spark=None`)."""
    found = []
    for layer in layers:
        folder = storage.join(lake, layer)
        found += [
            Table(layer, name)
            for name, is_folder in storage.children(spark, folder)
            if is_folder and storage.is_dir(spark, storage.join(folder, name, "_delta_log"))
        ]
    return found


def summarise(spark: SparkSession, lake: str) -> list[tuple[Table, int]]:
    """Every Delta table of the lake with its row count."""
    return [(table, read(spark, table, lake).count()) for table in lake_tables(spark, lake)]
