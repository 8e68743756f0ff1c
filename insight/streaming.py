"""Incremental, exactly-once processing of whatever is new: Structured Streaming with
`trigger(availableNow=True)` and a checkpoint, one `foreachBatch` handler per micro-batch.

The same query can later run continuously by changing the trigger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.errors import StreamingQueryException
from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """A micro-batch: its rows, its number, and a writer id stable across replays."""

    df: DataFrame
    epoch: int
    writer_id: str  # stable for this checkpoint; with `epoch` it makes Delta writes idempotent

    def txn(self, table_name: str) -> tuple[str, int]:
        """Delta (txnAppId, txnVersion) for writing this batch to `table_name` once."""
        return f"{self.writer_id}:{table_name}", self.epoch


def process_available(
    stream: DataFrame, *, checkpoint: str, name: str, handle: Callable[[Batch], None]
) -> int:
    """Run `handle` on every micro-batch of data not yet processed; return how many ran.

    If `handle` raises, the query stops, its batch stays uncommitted in the checkpoint (so
    the next run replays it) and the original error is re-raised here.
    """
    spark = stream.sparkSession
    errors: list[BaseException] = []
    count = 0
    writer_id: str | None = None

    def on_batch(df: DataFrame, epoch: int) -> None:
        nonlocal count, writer_id
        try:
            writer_id = writer_id or _checkpoint_id(spark, checkpoint, name)
            handle(Batch(df, epoch, writer_id))
            count += 1
        except BaseException as exc:  # keep the Python error; Spark would wrap it
            errors.append(exc)
            raise

    query = (
        stream.writeStream.queryName(name.replace("/", "_"))
        .foreachBatch(on_batch)
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination()
    except StreamingQueryException:
        if errors:
            raise errors[0] from None
        raise
    if errors:
        raise errors[0]
    return count


def _checkpoint_id(spark: SparkSession, checkpoint: str, name: str) -> str:
    # Spark writes <checkpoint>/metadata ({"id": ...}) before the first batch and keeps
    # it for the life of the checkpoint, so a replayed batch gets the same writer id while
    # a fresh checkpoint (deleted to reprocess) gets a new one.
    meta = spark.read.text(f"{checkpoint}/metadata").first()
    return f"{name}:{json.loads(meta[0])['id']}"
