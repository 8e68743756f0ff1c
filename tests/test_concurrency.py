"""Two writers on one Delta table: disjoint partitions both commit; a real conflict (another
commit lands in the partition while this write is running) is retried with backoff, and
reported by name when it keeps happening, with the table intact."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import tables
from insight.errors import ConflictError

PROBE = tables.Table("gold", "concurrency_probe")
SCHEMA = T.StructType(
    [T.StructField("as_of", T.StringType()), T.StructField("id", T.IntegerType()),
     T.StructField("writer", T.StringType())]
)  # fmt: skip


def rows(spark, as_of: str, writer: str, n: int = 3):
    return spark.createDataFrame([(as_of, i, writer) for i in range(n)], SCHEMA)


def content(spark, lake: str) -> set[tuple]:
    return {tuple(r) for r in tables.read(spark, PROBE, lake).collect()}


@pytest.fixture
def probe(spark, lake):
    tables.create_if_missing(spark, PROBE, lake, SCHEMA, partition_by=["as_of"])
    tables.overwrite(rows(spark, "2025-01-01", "seed"), PROBE, lake)
    return lake


def test_writers_of_different_partitions_both_commit(spark, probe, caplog):
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(as_of: str) -> None:
        try:
            for round_ in range(3):
                barrier.wait(timeout=120)  # both writes start together, every round
                df = rows(spark, as_of, f"{as_of}/{round_}", n=4)
                assert tables.overwrite(df, PROBE, probe, replace_where=f"as_of = '{as_of}'") == 4
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
            barrier.abort()

    caplog.set_level(logging.WARNING, logger="insight.tables")
    threads = [threading.Thread(target=writer, args=(d,)) for d in ("2025-02-01", "2025-03-01")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert content(spark, probe) == (
        {("2025-01-01", i, "seed") for i in range(3)}
        | {(d, i, f"{d}/2") for d in ("2025-02-01", "2025-03-01") for i in range(4)}
    )
    assert "retrying" not in caplog.text  # disjoint partitions never conflict


class Interferer:
    """Lands a commit in the probed partition while a gated write is running.

    The gated write's rows pass through a UDF that, on the first row of each attempt,
    announces itself (a file: UDFs run in Python worker processes) and waits; meanwhile a
    driver thread overwrites the same partition, then lets the UDF go on.
    """

    def __init__(self, spark, lake: str, folder: Path, times: int) -> None:
        self.spark, self.lake, self.folder, self.times = spark, lake, folder, times
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def gated(self, as_of: str):
        folder = str(self.folder)

        @F.udf("int")
        def gate(i: int) -> int:
            import os
            import time as _time

            if i != 0 or os.path.exists(os.path.join(folder, "free")):
                return i
            n = len([f for f in os.listdir(folder) if f.startswith("reading-")])
            open(os.path.join(folder, f"reading-{n}"), "w").close()
            deadline = _time.monotonic() + 120
            while not os.path.exists(os.path.join(folder, f"released-{n}")):
                if _time.monotonic() > deadline:
                    raise TimeoutError("the interfering writer never committed")
                _time.sleep(0.05)
            return i

        return rows(self.spark, as_of, "gated").coalesce(1).withColumn("id", gate("id"))

    def _run(self) -> None:
        try:
            for n in range(self.times):
                while not (self.folder / f"reading-{n}").exists():
                    time.sleep(0.05)
                df = rows(self.spark, "2025-01-01", f"other/{n}", n=2)
                tables.overwrite(df, PROBE, self.lake, replace_where="as_of = '2025-01-01'")
                if n == self.times - 1:
                    (self.folder / "free").touch()  # later attempts run undisturbed
                (self.folder / f"released-{n}").touch()
        except BaseException as exc:
            self.error = exc
            (self.folder / "free").touch()
            for n in range(self.times):  # never leave the UDF waiting
                (self.folder / f"released-{n}").touch()


def test_a_real_conflict_is_retried_and_the_write_lands_whole(spark, probe, tmp_path, caplog):
    other = Interferer(spark, probe, tmp_path, times=1)
    other.thread.start()
    caplog.set_level(logging.WARNING, logger="insight.tables")
    written = tables.overwrite(
        other.gated("2025-01-01"), PROBE, probe, replace_where="as_of = '2025-01-01'"
    )
    other.thread.join(timeout=60)
    assert other.error is None
    assert written == 3
    assert "ConcurrentAppendException from a concurrent writer; attempt 1 of 5" in caplog.text
    # The retried write replaced the partition whole: no row of the other writer is left.
    assert content(spark, probe) == {("2025-01-01", i, "gated") for i in range(3)}


def test_a_conflict_that_keeps_happening_is_reported_and_nothing_is_corrupted(
    spark, probe, tmp_path
):
    attempts = 3
    other = Interferer(spark, probe, tmp_path, times=attempts)
    other.thread.start()
    write = other.gated("2025-01-01").write.format("delta").mode("overwrite")
    write = write.option("replaceWhere", "as_of = '2025-01-01'")
    with pytest.raises(ConflictError) as failed:
        tables.retry_conflicts(
            lambda: write.save(PROBE.path(probe)), PROBE, attempts=attempts, first_wait=0.1
        )
    other.thread.join(timeout=60)
    assert other.error is None
    message = str(failed.value)
    assert "gold.concurrency_probe" in message and f"after {attempts} attempts" in message
    assert "nothing was committed" in message and failed.value.exit_code == 3
    # The table holds the other writer's last commit, whole, and every version reads.
    assert content(spark, probe) == {("2025-01-01", i, f"other/{attempts - 1}") for i in range(2)}
    history = spark.sql(f"DESCRIBE HISTORY delta.`{PROBE.path(probe)}`").collect()
    for h in history:
        spark.read.format("delta").option("versionAsOf", h.version).load(PROBE.path(probe)).count()
    # The seed write and the other writer's three: the gated write never committed.
    assert len([h for h in history if h.operation == "WRITE"]) == 1 + attempts
