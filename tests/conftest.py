"""One SparkSession for the whole test session, built by the project's own builder."""

from __future__ import annotations

import os

import pytest

# A real (test-only) salt: the tests exercise the production path, not the dev fallback.
os.environ.setdefault("INSIGHT_PII_SALT", "test-salt-0123456789abcdef")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

TEST_OVERRIDES = (
    "spark.master=local[2]",
    "spark.shuffle_partitions=2",
    "spark.ui_enabled=false",
    "spark.driver_memory=2g",
    "spark.log_level=ERROR",
    # Small data: skip broadcast-size estimation and AQE re-planning overheads.
    "spark.extra={spark.default.parallelism: '2'}",
)


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


@pytest.fixture
def lake(tmp_path) -> str:
    """An empty lake folder for one test."""
    return str(tmp_path / "lake")
