"""The DAG: its graph, task selection, resume after a failure, progress, logs, summary."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from lakes import content_hashes
from pyspark.sql import functions as F

from insight import dag, tables
from insight.ops.logs import JsonFormatter, log_context, setup_logging

AS_OF = "2025-12-31"


def test_every_task_comes_after_what_it_depends_on():
    seen: set[str] = set()
    for task in dag.TASKS:
        assert set(task.depends_on) <= seen, task.name
        seen.add(task.name)
    assert dag.NAMES[0] == "ingest" and dag.NAMES[-1] == "report"
    assert dag.upstream("profile") >= {"ingest", "clean", "nlp", "features", "propensity"}
    assert dag.upstream("ingest") == set()


def test_the_jobs_package_runs_exactly_the_dag():
    from jobs import DAG

    assert tuple(DAG) == dag.NAMES


def test_every_task_names_an_entry_point_and_a_body_that_exist():
    """The one list names files and functions by string: a typo must fail here, not at 2am."""
    root = Path(__file__).resolve().parents[1]
    for t in dag.TASKS:
        assert (root / f"{t.module.replace('.', '/')}.py").is_file(), t.module
        module, _, name = t.body.partition(":")
        source = (root / f"{module.replace('.', '/')}.py").read_text()
        assert f"def {name}(" in source, t.body


def test_select_only_from_and_bad_names():
    assert [t.name for t in dag.select(["profile", "ingest"])] == ["ingest", "profile"]
    # --from: the task and everything after it in DAG order (what depends on it included).
    later = [t.name for t in dag.select(start="propensity")]
    assert later[0] == "propensity" and {"profile", "report"} <= set(later)
    assert later == [n for n in dag.NAMES if n in later] and "features" not in later
    assert [t.name for t in dag.select()] == list(dag.NAMES)
    with pytest.raises(ValueError, match="unknown task 'nope'; tasks are ingest, clean"):
        dag.select(["nope"])
    with pytest.raises(ValueError, match="not both"):
        dag.select(["clean"], "clean")


def test_json_log_lines_carry_the_run_fields(capsys):
    setup_logging(fmt="json")
    log = logging.getLogger("insight.test")
    try:
        with log_context(run_id="r1", job="clean", as_of=AS_OF):
            log.info("wrote %d rows", 5, extra={"rows": 5})
        log.info("outside")
    finally:
        setup_logging()
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"] == "wrote 5 rows" and lines[0]["rows"] == 5
    assert (lines[0]["run_id"], lines[0]["job"], lines[0]["as_of"]) == ("r1", "clean", AS_OF)
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "insight.test"
    assert "run_id" not in lines[1]


def test_json_formatter_keeps_the_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    out = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in out["exception"]


def test_cli_rejects_unknown_tasks(capsys):
    from jobs import all as run_all

    with pytest.raises(SystemExit) as exc:
        run_all.main(["--only", "ingest,nope"])
    assert exc.value.code == 2
    assert "unknown task(s) nope; tasks are ingest, clean" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_all.main(["--only", "ingest", "--from", "clean"])


def _finishes(spark, lake) -> list[tuple[str, str]]:
    rows = (
        tables.read(spark, tables.RUN_LEDGER, lake)
        .where(F.col("table_name").isNull())
        .orderBy("finished_at")
        .collect()
    )
    return [(r["job"], r["status"]) for r in rows]


def _versions(spark, lake) -> dict[str, int]:
    out = {}
    for layer in ("bronze", "silver"):
        for child in sorted((Path(lake) / layer).iterdir()):
            out[f"{layer}.{child.name}"] = (
                DeltaTable.forPath(spark, str(child)).history(1).first()["version"]
            )
    return out


@pytest.mark.integration
def test_a_failed_task_stops_the_dag_and_the_same_command_resumes(spark, lake, capsys):
    from jobs import all as run_all
    from lakegen import generate_lake

    generate_lake(lake, customers=80, seed=4, days=90, dirty_rate=0.02, workers=1)
    # One review model candidate: the candidates are compared in test_nlp_job.
    fast = ["--conf", "nlp.candidates=[vivekn]"]
    # --allow-skips: this small lake has too few rated reviews to train a review model, so
    # nlp runs and skips its work (shown as SKIPPED; without the flag the run exits 2).
    only = ["--lake", lake, "--as-of", AS_OF, *fast, "--allow-skips",
            "--only", "ingest,clean,nlp,features"]  # fmt: skip
    # A real failure of the third task: the transformer export it is told to use is absent.
    broken = [
        *only, "--log-format", "json",
        "--conf", "nlp.candidates=[minilm_logreg]",
        "--conf", f"nlp.minilm_dir={lake}-absent-minilm",
    ]  # fmt: skip
    assert run_all.main(broken) == 2
    captured = capsys.readouterr()
    assert "[1/4] ingest    done in" in captured.out
    assert "[3/4] nlp       FAILED after" in captured.out
    assert "[4/4]" not in captured.out
    events = [json.loads(x) for x in captured.err.splitlines() if x.startswith("{")]
    failure = [e for e in events if e["level"] == "ERROR" and e.get("job") == "all"]
    assert failure and "task nlp failed (exit 2)" in failure[-1]["message"]
    assert len({e["run_id"] for e in events if "run_id" in e}) == 1
    assert {e.get("job") for e in events} >= {"all", "ingest", "clean", "nlp"}
    assert all(e["as_of"] == AS_OF for e in events if "job" in e)
    assert _finishes(spark, lake) == [
        ("ingest", "done"), ("clean", "done"), ("nlp", "failed"), ("all", "failed"),
    ]  # fmt: skip
    before = _versions(spark, lake)
    silver_events = tables.read(spark, tables.silver("events"), lake).count()
    assert silver_events > 0  # earlier outputs stay valid

    assert run_all.main(only) == 0
    out = capsys.readouterr().out
    assert "[1/4] ingest    skipped: done for 2025-12-31" in out
    assert "[2/4] clean     skipped: done" in out
    assert "[3/4] nlp       SKIPPED after" in out and "rated reviews" in out
    assert "[4/4] features  done in" in out
    assert _versions(spark, lake) == before  # ingest and clean did not run again
    assert tables.read(spark, tables.silver("events"), lake).count() == silver_events
    assert tables.exists(spark, tables.Table("gold", "customer_features"), lake)
    assert "1 of 4 tasks ran, 2 skipped as done, 1 SKIPPED their work" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("silver.events "))
    assert f"{silver_events:,} rows" in line
    assert "Quarantined rows:" in out and "review-insights" in out

    # Everything done: nothing runs; --force runs what is asked again.
    assert run_all.main(only) == 0
    assert "0 of 4 tasks ran" in capsys.readouterr().out
    assert run_all.main([*only[:6], "--only", "clean", "--force"]) == 0
    assert "[1/1] clean  done in" in capsys.readouterr().out
    assert _finishes(spark, lake)[-2:] == [("clean", "done"), ("all", "done")]

    # Idempotent: running the same tasks again on the same inputs and as_of (--force) leaves
    # every silver and gold table with the same content.
    full = [*only[:7], "--only", "ingest,clean,nlp,features,segment,clv,profile"]
    assert run_all.main(full) == 0  # segment, clv and profile run for the first time
    before = content_hashes(spark, lake)
    produced = {"gold.customer_features", "gold.customer_segments", "gold.segment_summary",
                "gold.segment_history", "gold.customer_clv", "gold.customer_profile"}  # fmt: skip
    assert produced <= set(before)
    assert run_all.main([*full, "--force"]) == 0
    assert "6 of 7 tasks ran, 0 skipped as done, 1 SKIPPED their work" in capsys.readouterr().out
    after = content_hashes(spark, lake)
    assert [t for t in before if after.get(t) != before[t]] == []
