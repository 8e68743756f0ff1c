"""The jobs on a real Spark standalone cluster: a master and two workers on 127.0.0.1
started by infra/cluster/start-standalone.sh, jobs submitted by
infra/spark-submit/standalone.sh, and the gold tables equal to a local run's.

Compared: the tasks whose results do not depend on how work is split into tasks (ingest,
clean, features, segment, clv, profile). Not compared: nlp, recommend and propensity train
models (ClassifierDL / Vivekn, ALS, Horovod TF and GBT) whose results move with the task
layout and the order in which executors hand back partial results, so a cluster run and a
local run score slightly differently by design; profile reads their tables when present, so
neither lake has them and their profile columns are null on both sides.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from pyspark.testing import assertDataFrameEqual

from insight import tables
from insight.clv.schemas import CUSTOMER_CLV
from insight.config import load_config
from insight.features.schemas import CUSTOMER_FEATURES
from insight.profile.build import CUSTOMER_PROFILE
from insight.profile.build import UPDATED_AT as PROFILE_UPDATED_AT
from insight.segment import schemas as SS
from insight.spark import jar_path
from lakegen import generate_lake

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START = ROOT / "infra" / "cluster" / "start-standalone.sh"
STOP = ROOT / "infra" / "cluster" / "stop-standalone.sh"
SUBMIT = ROOT / "infra" / "spark-submit" / "standalone.sh"
AS_OF = "2025-12-31"
# The deterministic part of the DAG, run by `insight run all --only` as one application.
ONLY = ("--only", "ingest,clean,features,segment,clv,profile")
# The same partitioning on both sides: 2 shuffle partitions, 2 default partitions.
JOB_CONF = ("--conf", "spark.shuffle_partitions=2")
GOLD = (
    CUSTOMER_FEATURES,
    SS.CUSTOMER_SEGMENTS,
    SS.SEGMENT_SUMMARY,
    SS.SEGMENT_HISTORY,
    SS.SEGMENT_CENTROIDS,
    CUSTOMER_CLV,
    CUSTOMER_PROFILE,
)
# Columns written from the run's clock, not from the data (everything else is a function of
# the landing files, the salt and as_of).
RUN_SPECIFIC = {CUSTOMER_PROFILE: (PROFILE_UPDATED_AT,)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    env["PATH"] = f"{BIN}:{env['PATH']}"
    return env


def _json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # each daemon leads its own process group (setsid)
    except ProcessLookupError:
        return False
    return True


@dataclass(frozen=True)
class Cluster:
    url: str
    webui: str
    state: Path

    def workers(self) -> dict[str, str]:
        """Worker web UI address (host:port) -> worker id, as the master lists them."""
        return {
            urlparse(w["webuiaddress"]).netloc: w["id"]
            for w in _json(f"{self.webui}/json/")["workers"]
            if w["state"] == "ALIVE"
        }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    """A master and two 1-core workers on free loopback ports, always stopped afterwards."""
    state = tmp_path_factory.mktemp("standalone")
    port, ui = free_port(), free_port()
    pids: set[int] = set()

    def recorded() -> set[int]:
        return {int(p.read_text()) for p in state.glob("*.pid")}

    try:
        started = subprocess.run(
            [str(START), "--workers", "2", "--cores", "1", "--memory", "1536m",
             "--port", str(port), "--webui-port", str(ui), "--state-dir", str(state),
             "--timeout", "120"],
            env=_env(), capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        pids |= recorded()
        assert started.returncode == 0, started.stdout + started.stderr
        assert len(pids) == 3
        yield Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}", state)
    finally:
        pids |= recorded()
        subprocess.run([str(STOP), "--state-dir", str(state)], timeout=120, capture_output=True)
        left = {pid for pid in pids if _alive(pid)}
        for pid in left:
            os.killpg(pid, signal.SIGKILL)
        assert not left, f"cluster processes survived stop-standalone.sh: {sorted(left)}"
        assert not list(state.glob("*.pid"))


def submit(cluster: Cluster, job: str, lake: Path, events: Path, *extra: str):
    """One job as its own application on the cluster, with an event log for the evidence."""
    command = [
        str(SUBMIT), "--master", cluster.url,
        "--total-executor-cores", "2", "--executor-memory", "1g", "--driver-memory", "1g",
        "--conf", "spark.default.parallelism=2",
        # As conf/local.yaml (and the test session): Delta's default 50 state-reconstruction
        # tasks per table read dwarf a small lake's work.
        "--conf", "spark.databricks.delta.snapshotPartitions=2",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.eventLog.enabled=true", "--conf", f"spark.eventLog.dir={events}",
        "--", job, "--lake", str(lake), "--as-of", AS_OF, *JOB_CONF, *extra,
    ]  # fmt: skip
    env = {**_env(), "INSIGHT_DIST": str(events.parent / "dist")}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def tasks_per_worker(events: Path, workers: dict[str, str]) -> dict[str, Counter]:
    """Application id -> successful tasks per worker id, from the Spark event logs.

    Executors are told apart by the worker web UI address in their log URLs.
    """
    found = {}
    for log in sorted(events.glob("app-*")):
        executor_worker, done = {}, Counter()
        for line in log.read_text().splitlines():
            event = json.loads(line)
            if event["Event"] == "SparkListenerExecutorAdded":
                stdout = event["Executor Info"]["Log Urls"]["stdout"]
                executor_worker[event["Executor ID"]] = workers[urlparse(stdout).netloc]
            elif (
                event["Event"] == "SparkListenerTaskEnd"
                and event["Task End Reason"]["Reason"] == "Success"
            ):
                done[executor_worker[event["Task Info"]["Executor ID"]]] += 1
        found[log.name] = done
    return found


@pytest.mark.integration
def test_jobs_on_the_cluster_equal_a_local_run(cluster, spark, tmp_path):
    """ingest -> profile (jobs/all.py --only) with spark-submit on 2 workers; the same DAG
    in-process on local[2] on a copy of the landing files; every gold table the same."""
    on_cluster, local, events = tmp_path / "cluster", tmp_path / "local", tmp_path / "events"
    events.mkdir()
    generate_lake(on_cluster, customers=80, seed=5, days=120, dirty_rate=0.02, workers=1)
    shutil.copytree(on_cluster / "landing", local / "landing")

    t0 = time.monotonic()
    done = submit(cluster, "all", on_cluster, events, *ONLY)
    assert done.returncode == 0, f"the DAG on the cluster:\n{done.stderr[-4000:]}"
    assert "6 of 6 tasks ran" in done.stdout, done.stdout[-3000:]
    print(f"cluster run: {time.monotonic() - t0:.1f}s")

    # Every application ran tasks on executors of both workers.
    workers = cluster.workers()
    assert len(workers) == 2
    per_app = tasks_per_worker(events, workers)
    assert len(per_app) == 1
    for app, done in per_app.items():
        assert set(done) == set(workers.values()), f"{app} ran tasks only on {dict(done)}"
    print(f"tasks per worker: { {app: dict(c) for app, c in per_app.items()} }")
    finished = {a["id"]: a["state"] for a in _json(f"{cluster.webui}/json/")["completedapps"]}
    assert {finished.get(app) for app in per_app} == {"FINISHED"}

    from jobs import all as run_all

    argv = ["--env", "local", "--lake", str(local), "--as-of", AS_OF, *JOB_CONF, *ONLY]
    assert run_all.main(argv) == 0

    for table in GOLD:
        drop = RUN_SPECIFIC.get(table, ())
        remote = tables.read(spark, table, str(on_cluster)).drop(*drop)
        here = tables.read(spark, table, str(local)).drop(*drop)
        assert remote.count() > 0, f"{table} is empty"
        # Doubles within 1e-5 (relative): partial sums merge in whatever order the
        # executors return them, which moves the last bits.
        assertDataFrameEqual(remote, here)


@pytest.mark.integration
def test_unreachable_master_fails_fast_naming_it(tmp_path):
    """spark-submit against a port nothing listens on stops at the job's own check instead
    of Spark's minute of registration retries."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    master = f"spark://127.0.0.1:{port}"
    dead = Cluster(master, "", tmp_path)
    events = tmp_path / "events"
    events.mkdir()
    done = submit(dead, "ingest", tmp_path / "lake", events)
    assert done.returncode == 2
    # spark-submit's PythonRunner merges the job's stderr (the log) into its stdout.
    said = done.stdout + done.stderr
    assert f"Spark master {master} is unreachable" in said, said[-3000:]
    assert not (tmp_path / "lake").exists()


def test_submit_ships_a_zip_that_carries_the_config(tmp_path):
    """The command standalone.sh builds: jars from the config, the library as a zip that
    loads conf/ and expectations/ from inside itself, jobs/run.py with the job's name."""
    env = {**_env(), "INSIGHT_DRY_RUN": "1", "INSIGHT_DIST": str(tmp_path / "dist")}
    done = subprocess.run(
        [str(SUBMIT), "--master", "spark://127.0.0.1:7077", "--", "profile", "--lake", "/l"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    command = done.stdout.split()
    zip_file = tmp_path / "dist" / "insight-0.1.0.zip"
    for flag, value in (("--py-files", str(zip_file)), ("--master", "spark://127.0.0.1:7077"),
                        ("--deploy-mode", "client")):  # fmt: skip
        assert command[command.index(flag) + 1] == value
    assert command[command.index("--packages") + 1].startswith(r"io.delta:delta-spark_2.12")
    assert command[-6:] == [str(ROOT / "jobs" / "run.py"), "profile", "--env", "cluster",
                            "--lake", "/l"]  # fmt: skip
    probe = (
        "import insight, insight.config as c, insight.quality.rules as r; "
        "print(insight.__file__); print(c.load_config('cluster', lake='/l').spark.packages[0]); "
        "print(sorted(p.name for p in r.shipped_dir('expectations').iterdir())[0])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
        env={**env, "PYTHONPATH": str(zip_file)}, timeout=120,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split() == [
        f"{zip_file}/insight/__init__.py", "io.delta:delta-spark_2.12:3.3.2",
        "silver.customers.json",
    ]  # fmt: skip


def test_image_recipe_builds_like_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    block = makefile.split("HOROVOD_BUILD :=", 1)[1].split("\n\n", 1)[0]
    flags = block.replace("\\", " ").split()
    assert "HOROVOD_WITH_TENSORFLOW=1" in flags and len(flags) >= 5
    for flag in flags:
        assert flag in dockerfile, f"Dockerfile lacks the Makefile's Horovod flag {flag}"
    installers = "pip==24.3.1 setuptools==69.5.1 wheel==0.45.1"
    assert installers in makefile and installers in dockerfile
    assert dockerfile.count("-c constraints.txt") >= 4
    assert "FROM python:3.11" in dockerfile and "openjdk-17" in dockerfile


def test_k8s_application_matches_the_config():
    app = yaml.safe_load(
        (ROOT / "infra" / "spark-submit" / "k8s" / "spark-application.yaml").read_text()
    )
    cfg = load_config("cluster", lake="s3a://unused")
    spec = app["spec"]
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    assert app["kind"] == "SparkApplication"
    assert spec["mainApplicationFile"] == "local:///opt/insight/jobs/all.py"
    args = spec["arguments"]
    assert args[args.index("--env") + 1] == "cluster"
    assert args[args.index("--lake") + 1].startswith("s3a://")
    assert "--as-of" in args
    assert set(cfg.spark.packages) <= set(spec["deps"]["packages"])
    assert spec["deps"]["excludePackages"] == list(cfg.spark.excludes)
    jars = [Path(j.removeprefix("local://")).name for j in spec["deps"]["jars"]]
    assert jars == [jar_path(c).name for c in cfg.spark.jar_files]
    for role in ("driver", "executor"):
        (salt,) = [e for e in spec[role]["env"] if e["name"] == cfg.pii.salt_env]
        assert "secretKeyRef" in salt["valueFrom"]
        assert spec[role]["cores"] >= 1 and spec[role]["memory"]
