"""A standalone master that is not there is a clear error before Spark starts, not a minute
of registration retries (insight.spark.check_master_reachable, called by build_spark)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from insight.errors import InsightError
from insight.spark import check_master_reachable, standalone_addresses

BIN = Path(sys.executable).parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_closed_port_is_an_error_naming_the_master():
    master = f"spark://127.0.0.1:{closed_port()}"
    with pytest.raises(InsightError) as exc:
        check_master_reachable(master, timeout=2.0)
    message = str(exc.value)
    assert f"Spark master {master} is unreachable" in message
    assert "refused" in message.lower() and "is running" in message


def test_listening_master_passes(listening_port):
    check_master_reachable(f"spark://127.0.0.1:{listening_port}", timeout=2.0)


def test_one_reachable_master_of_several_is_enough(listening_port):
    down = closed_port()
    check_master_reachable(f"spark://127.0.0.1:{down},127.0.0.1:{listening_port}", timeout=2.0)
    with pytest.raises(InsightError, match=f"127.0.0.1:{down} .*; 127.0.0.1:{down} "):
        check_master_reachable(f"spark://127.0.0.1:{down},127.0.0.1:{down}", timeout=2.0)


@pytest.mark.parametrize("master", [None, "", "local[2]", "yarn", "k8s://https://10.0.0.1:443"])
def test_other_masters_are_not_checked(master):
    check_master_reachable(master, timeout=0.1)
    assert standalone_addresses(master or "") == []


def test_master_url_without_a_port_is_named():
    assert standalone_addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    with pytest.raises(InsightError, match="'spark://master-host': 'master-host' is not host:port"):
        check_master_reachable("spark://master-host")


def test_insight_run_against_a_closed_master_exits_2_naming_it(tmp_path):
    """The command line, in a fresh process (an active test session would skip the check)."""
    master = f"spark://127.0.0.1:{closed_port()}"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "INSIGHT_PII_SALT": "x" * 20}
    done = subprocess.run(
        [str(BIN / "insight"), "run", "ingest", "--lake", str(tmp_path / "lake"),
         "--as-of", "2025-12-31", "--conf", f"spark.master={master}"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"Spark master {master} is unreachable" in done.stderr
    assert not (tmp_path / "lake").exists()  # nothing created before the check
