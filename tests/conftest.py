"""One SparkSession for the whole test session, built by the project's own builder; which
tests need a JVM; the hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

# A real (test-only) salt: the tests exercise the production path, not the dev fallback.
os.environ.setdefault("INSIGHT_PII_SALT", "test-salt-0123456789abcdef")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

TEST_OVERRIDES = (
    "spark.master=local[2]",
    "spark.shuffle_partitions=2",
    "spark.ui_enabled=false",
    # Each of the two pytest workers' driver JVMs runs ~170 tests: with 2g its old
    # generation filled up by the propensity tests and it spent most of its time in full GC
    # (CI timed out); two of 4g leave the 24 GiB machine room for the jobs' subprocesses.
    # Also keep less history of finished jobs, stages and tasks: nobody looks at a UI here.
    "spark.driver_memory=4g",
    "spark.log_level=ERROR",
    "spark.extra={spark.default.parallelism: '2', spark.ui.retainedJobs: '50',"
    " spark.ui.retainedStages: '50', spark.ui.retainedTasks: '1000',"
    " spark.sql.ui.retainedExecutions: '20', spark.worker.ui.retainedExecutors: '10'}",
)


# -- which tests need a JVM (`make test-fast` runs the others) --------------------------

# Fixtures that start Spark for the test using them, directly or through another fixture
# (item.fixturenames is the whole closure: `dag_lake`, `cleaned_copy`... bring `spark`).
JVM_FIXTURES = {"spark"}
# Tests that start a JVM without the `spark` fixture: spark-submit or `insight run` in a
# subprocess, a job's own session, Spark column functions (they need a SparkContext; with
# the fixture's session already up they pass, alone they fail). A module name marks all of
# it. `make test-fast` hides java, so a test missing here fails there instead of hiding.
JVM_TESTS = {
    "test_cli.py::test_spark_submit_runs_the_jobs_and_the_catalog_survives_the_process",
    "test_cluster.py::test_unreachable_master_fails_fast_naming_it",
    "test_crash.py",
    "test_nlp_job.py::test_nlp_before_clean_names_the_missing_table",
    "test_object_store.py",
    "test_pii.py::test_salt_absent_from_event_log_spark_ui_and_logs",
    "test_rules.py::test_shipped_suites_load_and_every_row_rule_can_route",
}


def needs_jvm(item: pytest.Item) -> bool:
    name = getattr(item, "originalname", item.name)  # without the [parameters]
    return bool(JVM_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        {item.path.name, f"{item.path.name}::{name}"} & JVM_TESTS
    )


# -- two pytest workers (pytest-xdist, `-n 2 --dist loadgroup` in pyproject.toml) ---------

# A module's tests run on one worker, so its module fixtures (a cluster, a lake) are built
# once. Every module that reads one of these session lakes joins that lake's group: the
# lake costs minutes to build and must be built by one worker only.
SHARED_LAKES = ("dag_lake", "cleaned_lake")


# The groups that take longest, longest first (pytest --durations of a CI run at 472fd78's
# parent, 2 workers): sent to the workers first, so no worker is left alone with a long
# group at the end (`--no-loadscope-reorder`: xdist would order by number of tests).
LONGEST_FIRST = (
    "dag_lake", "cleaned_lake", "test_cluster.py", "test_object_store.py", "test_nlp_job.py",
    "test_fuzz.py", "test_dag.py", "test_pii.py", "test_cli.py", "test_pipeline.py",
)  # fmt: skip


def worker_group(item: pytest.Item, module_fixtures: set[str]) -> str:
    """The xdist group of a test: the shared lake its module reads, else its module."""
    return next((lake for lake in SHARED_LAKES if lake in module_fixtures), item.path.name)


def _longest_first(group: str) -> int:
    return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker, and before xdist reads
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:  # the group marks
    per_module: dict[Path, set[str]] = {}
    for item in items:
        per_module.setdefault(item.path, set()).update(getattr(item, "fixturenames", ()))
    groups = {item: worker_group(item, per_module[item.path]) for item in items}
    for item in items:
        if needs_jvm(item):
            item.add_marker(pytest.mark.jvm)
        item.add_marker(pytest.mark.xdist_group(groups[item]))
    items.sort(key=lambda item: _longest_first(groups[item]))  # stable: file order otherwise


# -- hypothesis profiles (HYPOTHESIS_PROFILE; see tests/test_fuzz.py) ---------------------

# Failing examples are kept here and replayed first by the next run (.gitignored).
EXAMPLES = DirectoryBasedExampleDatabase(Path(__file__).parents[1] / ".hypothesis" / "examples")
# print_blob: a failure prints the @reproduce_failure(...) line that replays it exactly.
settings.register_profile("dev", max_examples=3, database=EXAMPLES, print_blob=True)
# Replaces hypothesis' built-in `ci` profile (loaded when CI is set): that one derandomizes
# and keeps no database; ours draws new examples every run.
settings.register_profile(
    "ci", max_examples=8, derandomize=False, database=EXAMPLES, print_blob=True
)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10000")), database=EXAMPLES,
    print_blob=True,
)  # fmt: skip
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


# -- Spark ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory: pytest.TempPathFactory):
    """The folder holding the test session's catalog (metastore + warehouse)."""
    return tmp_path_factory.mktemp("spark-home")


@pytest.fixture(scope="session")
def spark(spark_home):
    from insight.config import load_config
    from insight.spark import build_spark

    cfg = load_config("local", lake=str(spark_home), overrides=TEST_OVERRIDES)
    session = build_spark(cfg)
    yield session
    session.stop()


@pytest.fixture(autouse=True, scope="module")
def _release_spark_memory():
    """After each test module: drop cached frames and Delta's cached table states, so one
    module's data does not stay on the shared driver's heap for the rest of the session."""
    yield
    import gc

    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        return
    session.catalog.clearCache()
    session._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    gc.collect()  # Python-side frames go, so the JVM's cleaner can drop their blocks


@pytest.fixture
def lake(tmp_path) -> str:
    """An empty lake folder for one test."""
    return str(tmp_path / "lake")


# The whole DAG once per test session, on a lake where every job has enough history to do
# its work; tests that only read gold tables (report, BI readers, the DAG summary) share it.
DAG_AS_OF = "2025-12-31"
# Small model settings: the models themselves are tested in their own modules.
DAG_FAST = (
    "--conf", "nlp.candidates=[vivekn]",
    "--conf", "recommend.grid={rank: [16], reg_param: [0.1], alpha: [5.0]}",
    "--conf", "propensity.epochs=6",
    "--conf", "propensity.gbt_max_iter=10",
    "--conf", "propensity.snapshots=1",
)  # fmt: skip


@pytest.fixture(scope="session")
def dag_lake(spark, tmp_path_factory) -> str:
    """A generated lake (300 customers, a year) after `insight run all` as of DAG_AS_OF."""
    from jobs import all as run_all
    from lakegen import generate_lake

    lake = str(tmp_path_factory.mktemp("dag") / "lake")
    generate_lake(lake, customers=300, seed=3, days=365, dirty_rate=0.02, workers=1)
    assert run_all.main(["--lake", lake, "--as-of", DAG_AS_OF, *DAG_FAST]) == 0
    return lake


# One generated lake, ingested and cleaned once per test session. The job tests that need
# clean history (clv, recommend, propensity, features, segment) each start from a copy of it
# rather than generating, ingesting and cleaning the same lake again.
CLEANED_AS_OF = "2025-12-31"


@pytest.fixture(scope="session")
def cleaned_lake(spark, tmp_path_factory) -> str:
    """A generated lake (300 customers, a year, no dirty rows) after ingest and clean."""
    from insight.clean import job as clean
    from insight.ingest import job as ingest
    from lakegen import generate_lake

    lake = str(tmp_path_factory.mktemp("cleaned") / "lake")
    generate_lake(lake, customers=300, seed=3, days=365, dirty_rate=0.0, workers=1)
    args = ["--lake", lake, "--as-of", CLEANED_AS_OF]
    assert ingest.main(args) == 0 and clean.main(args) == 0
    return lake


@pytest.fixture
def cleaned_copy(cleaned_lake, tmp_path) -> str:
    """This test's own copy of `cleaned_lake`, free to change."""
    from lakes import copy_lake

    lake = str(tmp_path / "cleaned-copy")
    copy_lake(cleaned_lake, lake)
    return lake
