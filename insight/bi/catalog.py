"""Which Delta tables a lake holds, registering them in the lake's own catalog, and the
Spark settings of a Thrift Server that serves that catalog.

The local catalog is a Derby metastore under <lake>/_catalog (see `insight.spark`). Embedded
Derby admits one process at a time, so registration runs in its own short process that
exits before the Thrift Server starts and owns the metastore.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from insight import tables
from insight.config import Config, load_config
from insight.errors import InsightError
from insight.spark import spark_settings
from insight.tables import Table

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
# Analysts read gold and silver; bronze holds raw PII and quarantine raw rejected lines.
DEFAULT_LAYERS = ("gold", "silver")
DELTA_PACKAGE_PREFIX = "io.delta:"


def delta_tables(lake: str, layers: Sequence[str] = DEFAULT_LAYERS) -> list[Table]:
    """Every Delta table at <lake>/<layer>/<name> for these layers, in name order (read
    before any session starts: the registering one must be the catalog's only user).

    Raises:
        InsightError: the lake folder does not exist or a layer is unknown.
    """
    root = Path(lake)
    if not root.is_dir():
        raise InsightError(f"no lake folder {lake}: give the folder holding gold/, silver/, ...")
    unknown = [layer for layer in layers if layer not in tables.LAYERS]
    if unknown:
        raise InsightError(
            f"unknown layer(s) {', '.join(unknown)}; layers are {', '.join(tables.LAYERS)}"
        )
    return tables.lake_tables(None, lake, layers)


def register_tables(spark: SparkSession, lake: str, found: Sequence[Table]) -> None:
    """Make each `layer.name` in the session's catalog point at its folder in this lake
    (repointing entries left by another lake, e.g. after the lake folder was copied)."""
    for table in found:
        tables.register(spark, table, lake)


def bi_config(
    lake: str,
    *,
    env: str = "local",
    master: str = "local[2]",
    driver_memory: str = "1g",
    overrides: Sequence[str] = (),
) -> Config:
    """The env's config, trimmed to what serving tables needs: the lake's local catalog and
    the Delta jars only (no Spark NLP, no TensorFlow-Java), a small driver.

    Raises:
        InsightError: the env keeps no local catalog (its metastore is the platform's).
    """
    cfg = load_config(
        env,
        lake=lake,
        overrides=[f"spark.master={master}", f"spark.driver_memory={driver_memory}", *overrides],
    )
    if not cfg.spark.local_catalog:
        raise InsightError(
            f"env {env!r} has spark.local_catalog=false: its tables live in the platform's "
            "metastore, not under the lake; run the Thrift Server there, or use --env local"
        )
    delta = tuple(p for p in cfg.spark.packages if p.startswith(DELTA_PACKAGE_PREFIX))
    if not delta:
        raise InsightError(f"env {env!r}: no {DELTA_PACKAGE_PREFIX}* package in spark.packages")
    spark = dataclasses.replace(
        cfg.spark,
        app_name="insight-thrift-server",
        packages=delta,
        excludes=(),
        jar_files=(),
        ui_enabled=False,
    )
    return dataclasses.replace(cfg, spark=spark)


def session_jars(spark: SparkSession) -> list[str]:
    """Local files of the session's jars (`spark.jars.packages` as resolved by Ivy)."""
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    return [urlparse(j).path if j.startswith("file:") else j for j in jars.split(",") if j]


def server_submit_args(cfg: Config, jars: Sequence[str] = ()) -> list[str]:
    """spark-submit flags (one `--conf key=value` per setting) that give the Thrift Server
    the same Delta extension, catalog and metastore as the jobs' sessions on this lake.

    `jars` (the Delta jar files, see `session_jars`) go on the driver's own class path:
    the server opens each JDBC session's catalog on a Thrift worker thread whose class
    loader does not see `--packages` jars (ClassNotFoundException: DeltaCatalog).
    """
    settings = spark_settings(cfg)
    if jars:
        missing = [j for j in jars if not Path(j).is_file()]
        if missing:
            raise InsightError(f"jar file(s) gone: {', '.join(missing)}; register again")
        settings.pop("spark.jars.packages", None)
        settings["spark.jars"] = ",".join(jars)
        settings["spark.driver.extraClassPath"] = ":".join(jars)
    args = []
    for key, value in settings.items():
        args += ["--conf", f"{key}={value}"]
    return args
