"""A job's outcome: the exit status says what the ledger says."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from insight import tables
from insight.config import load_config
from insight.runtime import JobRun, execute


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
