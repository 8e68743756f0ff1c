"""The one SparkSession builder: local or cluster from config, Delta and Spark NLP jars,
Delta SQL extension and catalog, and (locally) a persistent catalog under the lake."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from insight import storage
from insight.config import Config
from insight.errors import InsightError

log = logging.getLogger(__name__)

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
# Seconds to wait for a TCP connection to a standalone master before calling it unreachable
# (Spark itself retries registration for about a minute before it gives up).
MASTER_CONNECT_TIMEOUT_S = 5.0


def catalog_dir(lake: str) -> Path:
    """Where the local catalog (Derby metastore + warehouse) lives: inside the lake."""
    return Path(lake) / "_catalog"


def has_local_catalog(cfg: Config) -> bool:
    """`spark.local_catalog`, on a lake folder: Derby cannot keep a metastore in an object
    store, so a lake at a URI runs with the session's in-memory catalog (tables by path)."""
    return cfg.spark.local_catalog and storage.is_local(cfg.lake)


def jar_cache() -> Path:
    """Where jars named in `spark.jar_files` are kept ($INSIGHT_JAR_CACHE to move it)."""
    return Path(os.environ.get("INSIGHT_JAR_CACHE", "~/.cache/insight/jars")).expanduser()


def _file_name(coordinate: str) -> tuple[str, str]:
    """(repository folder, file name) of `group:artifact:version[:classifier]`."""
    parts = coordinate.split(":")
    if len(parts) not in (3, 4) or not all(parts):
        raise InsightError(
            f"spark.jar_files: {coordinate!r} is not a Maven coordinate "
            "group:artifact:version[:classifier]"
        )
    group, artifact, version = parts[:3]
    suffix = f"-{parts[3]}" if len(parts) == 4 else ""
    return f"{group.replace('.', '/')}/{artifact}/{version}", f"{artifact}-{version}{suffix}.jar"


def jar_path(coordinate: str) -> Path:
    """Local file of a Maven jar (where `fetch_jar` puts it)."""
    return jar_cache() / _file_name(coordinate)[1]


def fetch_jar(coordinate: str, repository: str) -> Path:
    """Download a Maven jar once, checked against the repository's SHA-1."""
    target = jar_path(coordinate)
    if target.exists():
        return target
    folder, name = _file_name(coordinate)
    url = f"{repository.rstrip('/')}/{folder}/{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    log.info("fetching %s from %s", coordinate, url)
    try:
        with urllib.request.urlopen(url + ".sha1", timeout=60) as r:
            expected = r.read().decode().split()[0]
        digest = hashlib.sha1()
        with urllib.request.urlopen(url, timeout=600) as r, partial.open("wb") as out:
            while chunk := r.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise InsightError(f"could not download jar {coordinate} from {url}: {exc}") from exc
    if digest.hexdigest() != expected:
        partial.unlink()
        raise InsightError(f"jar {coordinate} from {url} does not match its SHA-1; not used")
    partial.rename(target)
    return target


def jar_files(cfg: Config) -> list[str]:
    """Local paths of the config's `spark.jar_files`, downloading any that are missing."""
    return [str(fetch_jar(c, cfg.spark.jar_repository)) for c in cfg.spark.jar_files]


def spark_settings(cfg: Config, jars: list[str] | None = None) -> dict[str, str]:
    """Every spark.* setting the session gets, computed from config (no side effects).

    `jars` are local jar files for `spark.jars` (see `jar_files`).
    """
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
    if jars:
        settings["spark.jars"] = ",".join(jars)
    if has_local_catalog(cfg):
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
    submitted = submitted_conf()
    check_master_reachable(cfg.spark.master or (submitted or {}).get("spark.master"))
    if has_local_catalog(cfg):
        catalog_dir(cfg.lake).mkdir(parents=True, exist_ok=True)
    if (cfg.spark.master or "").startswith("local"):
        # Python workers run on this machine: the same interpreter (and packages) as the
        # driver, not whatever `python3` is first on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = spark_settings(cfg, jar_files(cfg))
    if submitted and submitted.get("spark.jars"):
        # spark-submit's jars (--packages resolved, --jars) reach the executors only through
        # spark.jars: setting it here must add to them, not replace them.
        settings["spark.jars"] = _merge_lists(submitted["spark.jars"], settings.get("spark.jars"))
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    if has_local_catalog(cfg):
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


def submitted_conf() -> dict[str, str] | None:
    """The settings spark-submit gave the JVM (None when not running under spark-submit).

    Under spark-submit the JVM is already up (PYSPARK_GATEWAY_PORT) and holds them as system
    properties; otherwise no JVM may be started here, since the builder's settings (jars,
    driver memory) only apply when it starts the JVM itself.
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


def _merge_lists(first: str, second: str | None) -> str:
    items = [i for i in f"{first},{second or ''}".split(",") if i]
    return ",".join(dict.fromkeys(items))


def standalone_addresses(master: str) -> list[tuple[str, int]]:
    """(host, port) of each master in `spark://host:port[,host:port...]`; [] for others."""
    if not master.startswith("spark://"):
        return []
    addresses = []
    for item in master.removeprefix("spark://").split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise InsightError(
                f"Spark master {master!r}: {item!r} is not host:port "
                "(expected spark://host:port[,host:port])"
            )
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def check_master_reachable(master: str | None, timeout: float = MASTER_CONNECT_TIMEOUT_S) -> None:
    """Fail fast when no master of a standalone `spark://` URL accepts TCP connections.

    Other masters (local, yarn, k8s, none) are not checked. With several masters (standby
    masters, ZooKeeper recovery) one reachable master is enough.

    Raises:
        InsightError: naming the master URL, why each address failed and what to check.
    """
    addresses = standalone_addresses(master or "")
    failures = []
    for host, port in addresses:
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            failures.append(f"{host}:{port} {reason} after {time.monotonic() - t0:.1f}s")
    if failures:
        raise InsightError(
            f"Spark master {master} is unreachable ({'; '.join(failures)}). Check that the "
            "master is running (its log says 'Starting Spark master at spark://...'; "
            "infra/cluster/start-standalone.sh starts one on this machine), that the URL "
            "given to spark-submit --master or --conf spark.master matches that line, and "
            "that no firewall blocks the port"
        )


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
    if cfg.spark.jar_files:
        args += ["--jars", ",".join(jar_files(cfg))]
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
    """Resolve the Maven jars of the local config into ~/.ivy2 and the jar cache (used by
    `make setup`)."""
    from insight.config import load_config

    cfg = load_config("local", lake="/tmp/insight-warm", overrides=["spark.local_catalog=false"])
    spark = build_spark(cfg)
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    print(f"Spark {spark.version}: {len([j for j in jars.split(',') if j])} jars resolved")
    spark.stop()


if __name__ == "__main__":
    warm_jars()
