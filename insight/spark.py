"""The one SparkSession builder: local or cluster from config, Delta and Spark NLP jars,
Delta SQL extension and catalog, and (locally) a persistent catalog under the lake."""

from __future__ import annotations

import logging
from pathlib import Path

from pyspark.sql import SparkSession

from insight.config import Config
from insight.errors import InsightError

log = logging.getLogger(__name__)

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def catalog_dir(lake: str) -> Path:
    """Where the local catalog (Derby metastore + warehouse) lives: inside the lake."""
    return Path(lake) / "_catalog"


def spark_settings(cfg: Config) -> dict[str, str]:
    """Every spark.* setting the session gets, computed from config (no side effects)."""
    s = cfg.spark
    settings = {
        "spark.app.name": s.app_name,
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.sql.shuffle.partitions": str(s.shuffle_partitions),
        "spark.ui.enabled": str(s.ui_enabled).lower(),
        # Timestamps are normalised to UTC; the session must not shift them back.
        "spark.sql.session.timeZone": "UTC",
        # Spark NLP needs Kryo with a large buffer for its annotator state.
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.kryoserializer.buffer.max": "2000M",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.sql.streaming.schemaInference": "false",
    }
    if s.master:
        settings["spark.master"] = s.master
    if s.driver_memory:
        settings["spark.driver.memory"] = s.driver_memory
    if s.packages:
        settings["spark.jars.packages"] = ",".join(s.packages)
    if s.excludes:
        settings["spark.jars.excludes"] = ",".join(s.excludes)
    if s.local_catalog:
        home = catalog_dir(cfg.lake)
        metastore = home / "metastore_db"
        settings |= {
            "spark.sql.catalogImplementation": "hive",
            "spark.sql.warehouse.dir": str(home / "warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={metastore};create=true"
            ),
            # derby.log goes under the lake instead of the current directory.
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={home}",
        }
    settings |= dict(s.extra)
    return settings


def build_spark(cfg: Config) -> SparkSession:
    """Return the session for this config, creating it if none is running.

    An already running session (a test fixture, a Databricks cluster, a notebook) is
    reused as it is: static settings such as the master cannot change after start-up.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if cfg.spark.local_catalog:
        catalog_dir(cfg.lake).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder
    for key, value in spark_settings(cfg).items():
        builder = builder.config(key, value)
    if cfg.spark.local_catalog:
        builder = builder.enableHiveSupport()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.spark.log_level)
    _require_delta(spark, cfg)
    log.info(
        "Spark %s session %s (master %s, catalog %s)",
        spark.version,
        spark.sparkContext.applicationId,
        spark.sparkContext.master,
        spark.conf.get("spark.sql.catalogImplementation", "in-memory"),
    )
    return spark


def submit_args(cfg: Config) -> list[str]:
    """The spark-submit flags that put this config's jars on the classpath.

    Under spark-submit the JVM starts before our code runs, so `spark.jars.packages` set
    by the builder comes too late: the jars must be named on the command line.
    """
    args = []
    if cfg.spark.packages:
        args += ["--packages", ",".join(cfg.spark.packages)]
    if cfg.spark.excludes:
        args += ["--exclude-packages", ",".join(cfg.spark.excludes)]
    return args


def _require_delta(spark: SparkSession, cfg: Config) -> None:
    from py4j.java_gateway import JavaClass

    # py4j resolves names with Spark's context class loader, which holds --packages jars;
    # an unknown name comes back as a JavaPackage instead of a JavaClass.
    if not isinstance(spark.sparkContext._jvm.io.delta.sql.DeltaSparkSessionExtension, JavaClass):
        flags = " ".join(submit_args(cfg)) or "--packages io.delta:delta-spark_2.12:<version>"
        raise InsightError(
            "Delta Lake classes are not on the Spark classpath. Under spark-submit, jars must "
            f"be given on the command line: spark-submit {flags} ... "
            f"(`insight submit-args --env {cfg.env}` prints these flags)"
        ) from None


def warm_jars() -> None:
    """Resolve the Maven jars of the local config into ~/.ivy2 (used by `make setup`)."""
    from insight.config import load_config

    cfg = load_config("local", lake="/tmp/insight-warm", overrides=["spark.local_catalog=false"])
    spark = build_spark(cfg)
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    print(f"Spark {spark.version}: {len([j for j in jars.split(',') if j])} jars resolved")
    spark.stop()


if __name__ == "__main__":
    warm_jars()
