"""The one session builder: settings per env, and the jars it brings really load."""

import hashlib
import http.server
import re
import threading

import pytest

from insight.config import load_config
from insight.errors import InsightError
from insight.spark import (
    DELTA_CATALOG,
    DELTA_EXTENSION,
    fetch_jar,
    jar_path,
    spark_settings,
    submit_args,
)


def test_local_settings_keep_the_catalog_under_the_lake(tmp_path):
    s = spark_settings(load_config("local", lake=str(tmp_path)))
    assert s["spark.master"] == "local[2]"
    assert s["spark.sql.extensions"] == DELTA_EXTENSION
    assert s["spark.sql.catalog.spark_catalog"] == DELTA_CATALOG
    assert s["spark.sql.catalogImplementation"] == "hive"
    assert s["spark.sql.warehouse.dir"] == f"{tmp_path}/_catalog/warehouse"
    assert (
        f"databaseName={tmp_path}/_catalog/metastore_db"
        in s["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert "io.delta:delta-spark_2.12:3.3.2" in s["spark.jars.packages"]
    assert s["spark.sql.session.timeZone"] == "UTC"


def test_cluster_settings_leave_master_and_catalog_to_the_platform(tmp_path):
    s = spark_settings(load_config("cluster", lake=str(tmp_path)))
    assert "spark.master" not in s and "spark.sql.catalogImplementation" not in s
    assert s["spark.sql.extensions"] == DELTA_EXTENSION


def test_databricks_brings_no_jars_and_submit_args_follow_config():
    cfg = load_config("databricks")
    assert "spark.jars.packages" not in spark_settings(cfg)
    assert submit_args(cfg) == []
    local = submit_args(load_config("local", lake="/tmp/x"))
    assert local[0] == "--packages" and local[2] == "--exclude-packages"
    assert local[4] == "--jars"
    assert local[5].split(",")[1].endswith("tensorflow-core-api-0.4.2-linux-x86_64.jar")


@pytest.fixture()
def maven_repo(tmp_path):
    """A real HTTP server serving a Maven layout with one jar and its SHA-1."""
    root = tmp_path / "repo"
    folder = root / "org/example/tiny/1.0"
    folder.mkdir(parents=True)
    body = b"PK not really a jar"
    (folder / "tiny-1.0.jar").write_bytes(body)
    (folder / "tiny-1.0.jar.sha1").write_text(hashlib.sha1(body).hexdigest() + "  tiny-1.0.jar")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", folder
    server.shutdown()


def test_jar_files_are_fetched_once_and_checked(maven_repo, tmp_path, monkeypatch):
    url, folder = maven_repo
    monkeypatch.setenv("INSIGHT_JAR_CACHE", str(tmp_path / "cache"))
    got = fetch_jar("org.example:tiny:1.0", url)
    assert got == jar_path("org.example:tiny:1.0") and got.read_bytes() == b"PK not really a jar"
    (folder / "tiny-1.0.jar").unlink()  # a second call must not download again
    assert fetch_jar("org.example:tiny:1.0", url) == got


def test_a_corrupt_or_missing_jar_is_refused_by_name(maven_repo, tmp_path, monkeypatch):
    url, folder = maven_repo
    monkeypatch.setenv("INSIGHT_JAR_CACHE", str(tmp_path / "cache"))
    (folder / "tiny-1.0.jar").write_bytes(b"tampered")
    with pytest.raises(InsightError, match="does not match its SHA-1"):
        fetch_jar("org.example:tiny:1.0", url)
    assert not jar_path("org.example:tiny:1.0").exists()
    with pytest.raises(InsightError, match=re.escape("org.example:absent:2.0")):
        fetch_jar("org.example:absent:2.0", url)
    with pytest.raises(InsightError, match="not a Maven coordinate"):
        jar_path("tiny.jar")
    assert jar_path("org.example:tiny:1.0:linux-x86_64").name == "tiny-1.0-linux-x86_64.jar"


def test_conf_overrides_reach_spark(tmp_path):
    cfg = load_config("local", lake=str(tmp_path), overrides=["spark.extra={spark.foo: bar}"])
    s = spark_settings(cfg)
    assert s["spark.foo"] == "bar"
    assert s["spark.databricks.delta.snapshotPartitions"] == "2"  # local.yaml extra kept
    assert s["spark.sql.sources.parallelPartitionDiscovery.parallelism"] == "4"


def test_session_writes_and_reads_delta(spark, tmp_path):
    path = str(tmp_path / "t")
    spark.range(5).write.format("delta").save(path)
    assert spark.read.format("delta").load(path).count() == 5
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count() == 1


def test_spark_nlp_annotators_run_on_this_jvm(spark):
    """Spark NLP's jar loads and a pure-JVM pipeline runs (no pretrained downloads)."""
    from pyspark.ml import Pipeline
    from sparknlp.annotator import Tokenizer
    from sparknlp.base import DocumentAssembler

    df = spark.createDataFrame([("The battery dies fast, sadly.",)], "text string")
    stages = [
        DocumentAssembler().setInputCol("text").setOutputCol("document"),
        Tokenizer().setInputCols(["document"]).setOutputCol("token"),
    ]
    tokens = Pipeline(stages=stages).fit(df).transform(df).select("token.result").first()[0]
    assert tokens == ["The", "battery", "dies", "fast", ",", "sadly", "."]
