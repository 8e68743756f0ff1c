"""Crash safety: the clean job and the nlp job are killed with SIGKILL (the Python process and
its Spark JVM) while they write; every table stays readable at its last committed version,
a re-run completes, and the result equals that of a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lakes import content_hashes

from insight import tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = "2025-12-31"
ROOT = Path(__file__).resolve().parents[1]
NLP_FAST = ("--conf", "nlp.candidates=[vivekn]")
LAYERS = ("bronze", "silver", "quarantine", "gold")


def kill_while_writing(job: str, lake: str, marker: str, *extra: str) -> str:
    """Start `insight run JOB` in its own process group; SIGKILL the group (Python and JVM)
    a moment after the log line containing `marker` (the job is writing then)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "insight.cli", "run", job, "--lake", lake, "--as-of", AS_OF,
         *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    seen = []
    try:
        deadline = time.monotonic() + 600
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(1.0)  # into the write, not before it
                break
            if time.monotonic() > deadline:
                break
        else:
            pytest.fail(f"{job} ended before writing ({marker!r}):\n{''.join(seen[-30:])}")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return "".join(seen)


def all_readable(spark, lake: str) -> dict[str, int]:
    """Row count of every table at its current (last committed) version."""
    return {
        t.qualified: tables.read(spark, t, lake).count() for t in tables.lake_tables(spark, lake)
    }


def test_sigkill_mid_write_then_rerun_equals_an_uninterrupted_run(spark, dag_lake, tmp_path):
    from insight.clean import job as clean
    from insight.ingest import job as ingest
    from insight.nlp import job as nlp

    # The reference is the shared whole-DAG lake (its ingest, clean and nlp ran uninterrupted
    # with the same nlp candidates); the crashed lake gets the same landing files.
    crashed = str(tmp_path / "crashed")
    shutil.copytree(Path(dag_lake) / "landing", Path(crashed) / "landing")

    args = ["--lake", crashed, "--as-of", AS_OF]
    assert ingest.main(args) == 0
    log = kill_while_writing("clean", crashed, "writing silver and quarantine")
    assert "clean customers" in log
    counts = all_readable(spark, crashed)
    assert counts["bronze.events"] > 0
    assert clean.main(args) == 0

    kill_while_writing("nlp", crashed, "reviews to score with", *NLP_FAST)
    all_readable(spark, crashed)
    assert nlp.main([*args, *NLP_FAST]) == 0

    # The lakes differ only in where they are (the landing file paths are left out) and in
    # the jobs after nlp, which the reference also ran: its other gold tables are left out.
    where = frozenset({"_source_file"})
    got = content_hashes(spark, crashed, LAYERS, where)
    want = content_hashes(spark, dag_lake, LAYERS, where)
    assert "gold.review_insights" in got and "silver.events" in got
    assert {t for t in want if not t.startswith("gold.")} <= set(got) <= set(want)
    assert [t for t in got if got[t] != want[t]] == []
