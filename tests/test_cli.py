"""The command line: help, and bad input that must fail clearly without writing tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from insight.cli import JOBS, main
from jobs import DAG
from lakegen import generate_lake

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "generate" in out and "run" in out and "bronze.*" in out


# What a command line that only parses arguments must not load (seconds of start-up each).
HEAVY = ("sparknlp", "tensorflow", "mlflow", "matplotlib", "sklearn", "scipy", "horovod")


@pytest.mark.parametrize(
    "argv", [None, ["run", "ingest", "--help"], ["erase", "--help"], ["import", "--help"]]
)
def test_the_command_line_imports_no_heavy_package(argv):
    """In a fresh interpreter: importing the CLI, and a job's --help, load none of them."""
    code = (
        "import contextlib, io, sys\n"
        "from insight import cli\n"
        f"argv = {argv!r}\n"
        "if argv:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        cli.main(argv)\n"
        f"print(sorted(h for h in {HEAVY!r} if h in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", f"{argv}: {done.stdout}"


def test_spark_submit_s_entry_point_is_the_command_line():
    """jobs/run.py JOB, as spark-submit runs it (a script, the jobs/ folder first on the
    path), parses the job's flags and names a wrong job with the choices."""
    script = str(ROOT / "jobs" / "run.py")
    done = subprocess.run([sys.executable, script, "clv", "--help"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "insight run clv" in done.stdout and "--holdout-days" in done.stdout
    wrong = subprocess.run([sys.executable, script, "cleanse"], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert wrong.returncode == 2 and "invalid choice: 'cleanse'" in wrong.stderr


@pytest.mark.parametrize("job", JOBS)
def test_every_job_has_help_with_the_common_flags(capsys, job):
    with pytest.raises(SystemExit) as exc:
        main(["run", job, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"insight run {job}" in out
    for flag in ("--env", "--lake", "--as-of", "--conf"):
        assert flag in out


def test_unknown_job_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "cleanse"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    choices = ", ".join(f"'{job}'" for job in (*DAG, "all"))
    assert f"invalid choice: 'cleanse' (choose from {choices})" in err
    assert set(DAG) | {"all"} == set(JOBS)  # every DAG step can be run on its own


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "2025-13-01"], "--as-of '2025-13-01' is not a date"),
        (["--env", "prod"], "unknown env 'prod'"),
        (["--conf", "spark.shuffle_partitons=3"], "spark.shuffle_partitons"),
    ],
)
def test_bad_flags_exit_2_naming_the_problem(spark, lake, caplog, argv, message):
    assert main(["run", "ingest", "--lake", lake, *argv]) == 2
    assert message in caplog.text


def test_missing_landing_folder_is_named(spark, lake, caplog):
    assert main(["run", "ingest", "--lake", lake, "--as-of", "2025-12-31"]) == 2
    assert f"landing folder not found: {lake}/landing" in caplog.text
    assert not (Path(lake) / "bronze").exists()


def test_clean_before_ingest_says_what_to_run(spark, lake, caplog):
    Path(lake).mkdir()
    assert main(["run", "clean", "--lake", lake, "--as-of", "2025-12-31"]) == 2
    assert "run `insight run ingest` first" in caplog.text


def test_missing_salt_outside_local_is_a_startup_error(spark, lake, caplog, monkeypatch):
    monkeypatch.delenv("INSIGHT_PII_SALT")
    assert main(["run", "ingest", "--env", "cluster", "--lake", lake, "--as-of", "2025-12-31"]) == 2
    assert "INSIGHT_PII_SALT is not set" in caplog.text


def test_generate_refuses_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--lake", "x", "--customers", "0", "--seed", "1"])
    assert exc.value.code == 2
    assert "--customers: must be >= 1" in capsys.readouterr().err


def test_generate_without_lakegen_says_how_to_install_it(tmp_path, monkeypatch, caplog):
    """The production wheel has no lakegen: the command names it and how to install it."""
    monkeypatch.setitem(sys.modules, "lakegen", None)  # `import lakegen` fails, as on a cluster
    argv = ["generate", "--lake", str(tmp_path), "--customers", "5", "--seed", "1"]
    assert main(argv) == 2
    assert "the lake generator (package lakegen) is a development tool" in caplog.text
    assert "pip install --no-deps -e ./lakegen" in caplog.text
    assert not (tmp_path / "landing").exists()


def _env() -> dict[str, str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    env["PATH"] = f"{BIN}:{env['PATH']}"
    return env


@pytest.mark.integration
def test_spark_submit_runs_the_jobs_and_the_catalog_survives_the_process(tmp_path):
    """The spark-submit entry point works, and a later process sees the registered tables."""
    lake = tmp_path / "lake"
    generate_lake(lake, customers=40, seed=3, days=30, dirty_rate=0.05, workers=1)
    jars = subprocess.run(
        [str(BIN / "insight"), "submit-args", "--env", "local"], capture_output=True, text=True
    )
    assert jars.stdout.startswith("--packages io.delta:delta-spark_2.12:3.3.2"), jars.stderr
    submit = [
        str(BIN / "spark-submit"),
        *jars.stdout.split(),
        "--master", "local[2]",
        "--conf", "spark.ui.enabled=false",
        str(ROOT / "jobs" / "all.py"),
        "--env", "local", "--lake", str(lake), "--as-of", "2025-12-31",
        "--only", "ingest",  # the whole DAG through spark-submit: test_cluster
        "--conf", "spark.shuffle_partitions=2",
    ]  # fmt: skip
    done = subprocess.run(submit, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "bronze.events" in done.stdout  # the final summary
    query = (
        "from insight.config import load_config; from insight.spark import build_spark; "
        f"s = build_spark(load_config('local', lake='{lake}')); "
        "print(sorted(r.tableName for r in s.sql('SHOW TABLES IN bronze').collect())); "
        "print(s.table('bronze.customers').count())"
    )
    later = subprocess.run(
        [sys.executable, "-c", query], env=_env(), capture_output=True, text=True, timeout=600
    )
    assert later.returncode == 0, later.stderr[-3000:]
    names, count = later.stdout.strip().splitlines()[-2:]
    assert names == "['customers', 'events', 'products', 'reviews']"
    assert int(count) > 30


def test_generate_writes_a_lake_and_refuses_to_mix_two(tmp_path, capsys, caplog):
    argv = ["generate", "--lake", str(tmp_path), "--customers", "20", "--seed", "1"]
    assert main([*argv, "--days", "30", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f"Landing zone: {tmp_path}/landing" in out and "events" in out
    # A live shop: without --end-date its history ends yesterday (UTC), so `run all`
    # without --as-of (today) has data to work on.
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["end_date"] == str(datetime.now(UTC).date() - timedelta(days=1))
    assert main([*argv, "--workers", "1"]) == 2
    assert str(tmp_path / "landing") in caplog.text
