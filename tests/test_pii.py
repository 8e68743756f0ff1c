import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from insight.pii import DEV_SALT, MissingSaltError, load_salt, pseudonymise

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("salt", [b"short-salt-16chr", b"x" * 100])  # short and > block size
def test_spark_hmac_matches_python_hmac(spark, salt):
    values = ["C0000001", "anna.müller@example.com", "", None]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    out = df.transform(pseudonymise, {"h": "v", "u": F.upper("v")}, salt=salt)
    assert out.columns == ["v", "h", "u"]
    got = [(r["h"], r["u"]) for r in out.orderBy(F.asc_nulls_last("v")).collect()]

    def want(v):
        return None if v is None else hmac.new(salt, v.encode(), hashlib.sha256).hexdigest()

    ordered = sorted(values, key=lambda v: (v is None, v or ""))
    assert got == [(want(v), want(v.upper() if v is not None else None)) for v in ordered]


def secret_forms(salt: bytes) -> list[str]:
    """How a salt can show up in text: itself, hex, base64, and the hex of the HMAC keys
    (salt XOR 0x36 / 0x5C), lower case."""
    forms = [salt.decode(), salt.hex(), base64.b64encode(salt).decode()]
    forms += [bytes(b ^ pad for b in salt).hex() for pad in (0x36, 0x5C)]
    return [f.lower() for f in forms]


def test_no_byte_of_the_salt_in_the_query_plans(spark):
    salt = b"plan-probe-salt-7f3a9c"
    df = spark.createDataFrame([("C1", "a@example.com")], "customer_id string, email string")
    out = df.transform(pseudonymise, {"k": "customer_id", "e": "email"}, salt=salt)
    out.collect()
    plans = out._jdf.queryExecution().toString().lower()
    assert "broadcastnestedloopjoin" in plans  # the plan text is really there
    assert [f for f in secret_forms(salt) if f in plans] == []


# Runs ingest and clean in one process with the Spark UI and event log on, then reads the
# UI's SQL pages and REST API while the application is still up.
_PROBE = textwrap.dedent("""
    import json, sys, urllib.request
    from insight.config import load_config
    from insight.spark import build_spark
    from insight.clean import job as clean
    from insight.ingest import job as ingest
    from lakegen import generate_lake

    lake, events, out = sys.argv[1:4]
    generate_lake(lake, customers=12, seed=2, days=7, dirty_rate=0.0, workers=1)
    extra = "{spark.eventLog.enabled: 'true', spark.eventLog.dir: '%s', spark.ui.port: '0'}"
    cfg = load_config("local", lake=lake, overrides=(
        "spark.ui_enabled=true", "spark.shuffle_partitions=2", f"spark.extra={extra % events}"))
    spark = build_spark(cfg)
    args = ["--lake", lake, "--as-of", "2025-12-31"]
    assert ingest.main(args) == 0 and clean.main(args) == 0
    base, app = spark.sparkContext.uiWebUrl, spark.sparkContext.applicationId

    def get(path):
        with urllib.request.urlopen(base + path, timeout=30) as r:
            return r.read().decode()

    api = get(f"/api/v1/applications/{app}/sql?details=true&planDescription=true&length=10000")
    pages = [api] + [get(f"/SQL/execution/?id={x['id']}") for x in json.loads(api)]
    with open(out, "w") as f:
        json.dump(pages, f)
    spark.stop()
""")


def test_salt_absent_from_event_log_spark_ui_and_logs(tmp_path):
    salt = f"probe-salt-{os.urandom(8).hex()}"
    lake, events, pages = tmp_path / "lake", tmp_path / "events", tmp_path / "pages.json"
    events.mkdir()
    env = {**os.environ, "INSIGHT_PII_SALT": salt, "SPARK_LOCAL_IP": "127.0.0.1",
           "PYSPARK_PYTHON": sys.executable}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(lake), str(events), str(pages)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    ui = json.loads(pages.read_text())
    executions = json.loads(ui[0])
    # The pages hold the pseudonymising plans: clean's MERGE into silver.customers and more.
    assert len(executions) > 10 and len(ui) == len(executions) + 1
    assert any("broadcastnestedloopjoin" in page.lower() for page in ui[1:])
    (log,) = list(events.iterdir())
    texts = {"event log": log.read_text(), "job logs": done.stdout + done.stderr,
             "Spark UI": "\n".join(ui)}  # fmt: skip
    assert "SparkListenerSQLExecutionStart" in texts["event log"]
    found = {where: [f for f in secret_forms(salt.encode()) if f in text.lower()]
             for where, text in texts.items()}  # fmt: skip
    assert found == {where: [] for where in texts}


def test_salt_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_SALT", "a-very-secret-salt-value")
    assert load_salt("MY_SALT", allow_dev_salt=False) == b"a-very-secret-salt-value"


def test_missing_salt_is_a_startup_error_outside_local(monkeypatch):
    monkeypatch.delenv("MY_SALT", raising=False)
    with pytest.raises(MissingSaltError, match="MY_SALT"):
        load_salt("MY_SALT", allow_dev_salt=False)


def test_local_falls_back_to_dev_salt_loudly_without_logging_it(monkeypatch, caplog):
    monkeypatch.delenv("MY_SALT", raising=False)
    assert load_salt("MY_SALT", allow_dev_salt=True) == DEV_SALT.encode()
    assert "development salt" in caplog.text
    assert DEV_SALT not in caplog.text


def test_too_short_salt_is_rejected(monkeypatch):
    monkeypatch.setenv("MY_SALT", "short")
    with pytest.raises(MissingSaltError, match="shorter than 16"):
        load_salt("MY_SALT", allow_dev_salt=True)
