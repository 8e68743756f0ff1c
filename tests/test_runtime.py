"""A job's outcome: the exit status says what the ledger says."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from datetime import date
from pathlib import Path

import pytest

from insight import dag, tables
from insight.config import load_config
from insight.pipeline import default_flags
from insight.runtime import JobRun, execute, job_flags


def _run(spark, lake: str) -> JobRun:
    return JobRun("probe", load_config("local", lake=lake), spark, date(2025, 12, 31))


def test_a_job_whose_done_cannot_be_recorded_fails(spark, tmp_path, caplog):
    recorded = str(tmp_path / "recorded")
    assert execute(_run(spark, recorded), lambda run: None) == 0
    rows = tables.read(spark, tables.RUN_LEDGER, recorded).collect()
    assert [(r["job"], r["status"]) for r in rows] == [("probe", "done")]

    # The work succeeds, then the ledger cannot be written (a plain file where it belongs).
    broken = tmp_path / "broken"

    def body(run: JobRun) -> None:
        (broken / "ops").mkdir(parents=True)
        (broken / "ops" / "run_ledger").write_text("not a Delta table")

    caplog.clear()  # the first run's "probe: done" must not count; logs at INFO once a job ran
    caplog.set_level("INFO", logger="insight")
    assert execute(_run(spark, str(broken)), body) == 1
    assert "could not record it" in caplog.text and "probe: done" not in caplog.text
    assert Path(broken / "ops" / "run_ledger").read_text() == "not a Delta table"


def test_a_step_s_ledger_rows_carry_its_start_and_its_time_up_to_each_row(tmp_path):
    import time

    run = JobRun("probe", load_config("local", lake=str(tmp_path)), None, date(2025, 12, 31))
    step = run.step()
    time.sleep(0.05)
    first = step.entry("silver.events", "ok", rows_in=3, message="m")
    time.sleep(0.05)
    second = step.entry("silver.orders", "ok")
    assert first.started_at == second.started_at == step.started_at
    assert first.started_at <= first.finished_at <= second.finished_at
    assert 0.05 <= first.seconds < second.seconds
    assert (first.rows_in, first.message, first.job, first.run_id) == (3, "m", "probe", run.run_id)


def test_a_job_s_flags_reach_its_body_typed_and_parsed_once():
    """`insight run propensity --score-only --num-proc 3`: the job's Flags, not a dict."""
    from insight.propensity import job

    parser = argparse.ArgumentParser()
    job.add_args(parser)
    flags = job_flags(job.Flags, parser.parse_args(["--score-only", "--num-proc", "3"]))
    assert flags == job.Flags(train=False, score_only=True, num_proc=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flags.train = True  # type: ignore[misc]
    assert job_flags(None, argparse.Namespace(env="local", lake=None)) is None


@pytest.mark.parametrize("task", dag.TASKS, ids=dag.NAMES)
def test_a_task_in_run_all_gets_its_own_flags_at_their_defaults(task):
    """Each Flags field is one of the job's own arguments, and its default is the
    argument's: a task run by `run all` behaves as `insight run <task>` without flags."""
    flags = default_flags(task)
    Flags = getattr(importlib.import_module(task.module), "Flags", None)
    if Flags is not None:
        assert flags == Flags()
