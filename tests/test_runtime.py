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
