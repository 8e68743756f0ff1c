"""BI consumption of a lake after the whole DAG: the Spark Thrift Server over JDBC (the
beeline client shipped with pyspark) and a non-Spark Delta reader (delta-rs)."""

from __future__ import annotations

import csv
import math
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyspark
import pytest

from insight import columns as C
from insight import tables
from insight.features import columns as FC
from insight.profile.build import CUSTOMER_PROFILE
from insight.segment.schemas import RFM_SEGMENT

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "infra" / "bi" / "thrift-server.sh"
SPARK_HOME = Path(pyspark.__file__).parent
BEELINE = SPARK_HOME / "bin" / "beeline"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON": sys.executable,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def _script(*args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return not re.search(r"^State:\s*Z", state, re.MULTILINE)  # a zombie has exited


def gold_tables(lake: str) -> list[str]:
    return sorted(p.parent.name for p in Path(lake, "gold").glob("*/_delta_log"))


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path


@pytest.fixture
def thrift_server(dag_lake, tmp_path):
    """The Thrift Server started by infra/bi/thrift-server.sh on the DAG lake; always
    stopped afterwards, and proved gone (process and port)."""
    port = _free_port()
    run_dir = tmp_path / "bi"
    pid_file = run_dir / "thrift-server.pid"
    started = _script("start", "--lake", dag_lake, "--port", str(port), "--run-dir", str(run_dir))
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    try:
        log = run_dir / "thrift-server.log"
        assert started.returncode == 0, (
            f"start failed ({started.returncode}): {started.stdout}\n{started.stderr}\n"
            + (log.read_text()[-3000:] if log.exists() else "")
        )
        assert pid is not None and _alive(pid)
        url = f"jdbc:hive2://127.0.0.1:{port}/gold"
        assert f"JDBC URL: {url}" in started.stdout
        yield Server(url, pid, log)
    finally:
        stopped = _script("stop", "--lake", dag_lake, "--run-dir", str(run_dir), "--timeout", "60")
        leaked = pid is not None and _alive(pid)
        if leaked:  # never leave a JVM behind, even when the stop script is broken
            os.killpg(pid, signal.SIGKILL)
        assert stopped.returncode == 0, stopped.stderr
        assert not leaked, f"Thrift Server pid {pid} still running after stop"
        assert not pid_file.exists()
        assert not _port_answers(port)


def beeline(url: str, sql: str) -> list[dict[str, str]]:
    """Rows of one statement run through JDBC by beeline (values as beeline prints them)."""
    done = subprocess.run(
        [
            str(BEELINE),
            "-u",
            url,
            "-n",
            "analyst",
            "--silent=true",
            "--outputformat=csv2",
            "-e",
            sql,
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"beeline {sql!r} failed: {done.stdout}\n{done.stderr[-3000:]}"
    # Silent mode still echoes the prompt before the first line of some outputs.
    text = re.sub(r"^\d+: jdbc:hive2://\S+> ", "", done.stdout.strip())
    return list(csv.DictReader(text.splitlines()))


def test_thrift_server_serves_gold_over_jdbc(spark, dag_lake, thrift_server):
    profile = tables.read(spark, CUSTOMER_PROFILE, dag_lake)
    expected_rows = profile.count()
    assert expected_rows > 0

    shown = beeline(thrift_server.url, "SHOW TABLES IN gold")
    assert sorted(r["tableName"] for r in shown) == gold_tables(dag_lake)

    (counts,) = beeline(
        thrift_server.url,
        f"SELECT COUNT(*) AS n, COUNT(DISTINCT {C.CUSTOMER_KEY}) AS customers "
        f"FROM {CUSTOMER_PROFILE.qualified}",
    )
    assert int(counts["n"]) == expected_rows
    assert int(counts["customers"]) == expected_rows  # one row per customer

    # One customer's values, as a BI tool would filter them (a buyer: monetary is set).
    first = profile.where(profile[FC.MONETARY] > 0).orderBy(C.CUSTOMER_KEY).first()
    (row,) = beeline(
        thrift_server.url,
        f"SELECT {C.COUNTRY}, {FC.FREQUENCY}, {FC.MONETARY}, {RFM_SEGMENT} "
        f"FROM {CUSTOMER_PROFILE.qualified} WHERE {C.CUSTOMER_KEY} = '{first[C.CUSTOMER_KEY]}'",
    )
    assert row[C.COUNTRY] == first[C.COUNTRY]
    assert int(row[FC.FREQUENCY]) == first[FC.FREQUENCY]
    assert float(row[FC.MONETARY]) == pytest.approx(first[FC.MONETARY], rel=1e-12)
    assert row[RFM_SEGMENT] == first[RFM_SEGMENT]

    # A dashboard-style aggregate: customers per segment.
    per_segment = beeline(
        thrift_server.url,
        f"SELECT {RFM_SEGMENT}, COUNT(*) AS n FROM {CUSTOMER_PROFILE.qualified} "
        f"WHERE {RFM_SEGMENT} IS NOT NULL GROUP BY {RFM_SEGMENT}",
    )
    expected = {
        r[RFM_SEGMENT]: r["count"]
        for r in profile.where(profile[RFM_SEGMENT].isNotNull())
        .groupBy(RFM_SEGMENT)
        .count()
        .collect()
    }
    assert {r[RFM_SEGMENT]: int(r["n"]) for r in per_segment} == expected
    assert len(expected) > 1


def test_delta_tables_finds_delta_folders_of_the_layers(tmp_path):
    from insight.bi.catalog import delta_tables
    from insight.errors import InsightError

    for folder in ("gold/a/_delta_log", "gold/b/_delta_log", "silver/c/_delta_log", "gold/x"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "bronze/raw/_delta_log").mkdir(parents=True)
    found = delta_tables(str(tmp_path))
    assert [t.qualified for t in found] == ["gold.a", "gold.b", "silver.c"]  # no x, no bronze
    with pytest.raises(InsightError, match=r"unknown layer.*platinum"):
        delta_tables(str(tmp_path), ["gold", "platinum"])
    with pytest.raises(InsightError, match="no lake folder"):
        delta_tables(str(tmp_path / "nowhere"))


def test_server_settings_use_the_lake_catalog_and_delta_on_the_driver_class_path(tmp_path):
    from insight.bi.catalog import bi_config, server_submit_args

    jar = tmp_path / "delta-spark.jar"
    jar.write_bytes(b"")
    cfg = bi_config(str(tmp_path / "lake"))
    args = server_submit_args(cfg, [str(jar)])
    confs = dict(a.split("=", 1) for a in args[1::2])
    assert set(args[0::2]) == {"--conf"}
    assert confs["spark.sql.catalog.spark_catalog"].endswith("DeltaCatalog")
    assert (
        f"databaseName={tmp_path / 'lake' / '_catalog' / 'metastore_db'}"
        in (confs["spark.hadoop.javax.jdo.option.ConnectionURL"])
    )
    assert confs["spark.driver.extraClassPath"] == str(jar)
    assert "spark.jars.packages" not in confs  # the resolved files replace the coordinates
    assert not any("spark-nlp" in v for v in confs.values())  # serving needs Delta only


def test_start_refuses_a_missing_lake(tmp_path):
    done = _script("start", "--lake", str(tmp_path / "nowhere"), "--port", "1")
    assert done.returncode == 2
    assert f"no lake folder {tmp_path / 'nowhere'}" in done.stderr
    stopped = _script("stop", "--lake", str(tmp_path))
    assert stopped.returncode == 0
    assert "no Spark Thrift Server running" in stopped.stdout


def _plain(value):
    """A value from Spark's collect() or from arro3's to_pylist(), in one comparable form:
    structs and maps as sorted (key, value) pairs, lists as tuples, timestamps as naive UTC."""
    if isinstance(value, pyspark.sql.Row):
        value = value.asDict()
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, list):
        if value and all(_is_pair(v) for v in value):
            return tuple(sorted((k, _plain(v)) for k, v in value))  # an arro3 map
        return tuple(_plain(v) for v in value)
    if isinstance(value, datetime):
        # Spark hands out naive local time, arro3 aware UTC: both become naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def _is_pair(value) -> bool:
    """An entry of a map as arro3 hands it out (a Spark struct is a Row, also a tuple)."""
    return isinstance(value, tuple) and not isinstance(value, pyspark.sql.Row) and len(value) == 2


def _spark_rows(spark, lake: str, name: str) -> tuple[list[str], list[tuple]]:
    df = tables.read(spark, tables.Table("gold", name), lake)
    return df.columns, sorted((tuple(_plain(v) for v in r) for r in df.collect()), key=repr)


def _delta_rs_rows(path: str, order: list[str]) -> tuple[list[str], list[tuple]]:
    """The table read by delta-rs alone (its DataFusion engine, no Spark, no JVM), columns
    in `order` (delta-rs may put partition columns last).

    `DeltaTable.to_pyarrow_table()` needs pyarrow >= 21 (Arrow PyCapsules); this stack
    pins pyarrow 10 (horovod[spark], petastorm), so the rows come through arro3.
    """
    from deltalake import DeltaTable, QueryBuilder

    table = QueryBuilder().register("t", DeltaTable(path)).execute("SELECT * FROM t").read_all()
    names = sorted(table.column_names, key=lambda n: order.index(n) if n in order else len(order))
    columns = [table.column(n).to_pylist() for n in names]
    rows = [tuple(_plain(v) for v in row) for row in zip(*columns, strict=True)]
    return names, sorted(rows, key=repr)


def test_gold_tables_read_without_spark_equal_the_spark_read(spark, dag_lake):
    from deltalake import DeltaTable

    names = gold_tables(dag_lake)
    assert CUSTOMER_PROFILE.name in names
    for name in names:
        path = tables.Table("gold", name).path(dag_lake)
        protocol = DeltaTable(path).protocol()
        sp_columns, sp_rows = _spark_rows(spark, dag_lake, name)
        try:
            rs_columns, rs_rows = _delta_rs_rows(path, sp_columns)
        except Exception as exc:  # name the table and its protocol: a BI reader would fail too
            pytest.fail(f"delta-rs cannot read gold.{name} ({protocol}): {exc}")
        assert rs_columns == sp_columns, name
        assert len(rs_rows) == len(sp_rows), name
        diff = next(
            (i for i, (a, b) in enumerate(zip(rs_rows, sp_rows, strict=True)) if a != b), None
        )
        assert diff is None, f"gold.{name} row {diff}: {rs_rows[diff]} != {sp_rows[diff]}"
