"""A lake on an object store: ingest, clean and a gold job, then erase and audit, on a real
S3-compatible server (moto's, on 127.0.0.1, started and stopped here) through Hadoop's s3a
file system, as a deployment on s3 runs them (`insight` commands in their own processes).

After the erasure the customer is in no current table version, in no data file left in the
bucket, and in no Delta log (statistics hold min/max values), and the audit balances.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from insight import landing
from insight.config import load_config
from insight.erase.match import customer_key
from lakegen import generate_lake

BIN = Path(sys.executable).parent
AS_OF = "2025-12-31"
BUCKET = "shop"
LAKE = f"s3a://{BUCKET}/lake"
# The s3a file system of the Hadoop (3.3.4) that pyspark 3.5 ships; it pulls the AWS SDK.
HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.3.4"
# ops tables that hold an erased customer's pseudonymous key by design (never PII): the
# suppression list ingest drops re-sent records by, and the erasure's audit row.
KEEP_THE_KEY = {"suppressed_customers", "erasures"}
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# One row of `insight audit`'s table: the check's name, two spaces or more, its status.
CHECK_LINE = re.compile(r"^  (?P<name>\S.*?)\s{2,}(?P<status>ok|GAP|skipped)\b", re.MULTILINE)

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[str]:
    """moto's S3 server on a free loopback port; its endpoint URL."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **KEYS},
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"moto server did not start on {endpoint}")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def _conf(endpoint: str) -> list[str]:
    """What a deployment on s3 sets in its conf/<env>.yaml: the s3a jar and the endpoint."""
    packages = [*load_config("local", lake=LAKE).spark.packages, HADOOP_AWS]
    s3a = {
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
    }  # fmt: skip
    extra = ", ".join(f"{k}: '{v}'" for k, v in s3a.items())
    return [
        "--conf",
        f"spark.packages=[{', '.join(packages)}]",
        "--conf",
        f"spark.extra={{{extra}}}",
    ]


def _insight(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **KEYS, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    t0 = time.monotonic()
    done = subprocess.run(
        [str(BIN / "insight"), *args, "--lake", LAKE, *_conf(endpoint)],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    print(f"insight {' '.join(args)}: {time.monotonic() - t0:.1f}s")
    return done


def _upload(client, folder: Path, prefix: str) -> int:
    files = [f for f in folder.rglob("*") if f.is_file()]
    for f in files:
        client.upload_file(str(f), BUCKET, f"{prefix}/{f.relative_to(folder).as_posix()}")
    return len(files)


def _download(client, prefix: str, folder: Path) -> list[Path]:
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            target = folder / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(BUCKET, obj["Key"], str(target))
            found.append(target)
    return found


def test_ingest_clean_gold_erase_and_audit_on_an_s3_store(s3, tmp_path):
    local = tmp_path / "generated"
    generate_lake(local, customers=20, seed=21, days=45, dirty_rate=0.02, workers=1)
    client = _client(s3)
    client.create_bucket(Bucket=BUCKET)
    assert _upload(client, local / "landing", "lake/landing") >= len(landing.ENTITIES)

    done = _insight(s3, "run", "all", "--as-of", AS_OF, "--only", "ingest,clean,features")
    assert done.returncode == 0, done.stderr[-4000:]
    assert "3 of 3 tasks ran" in done.stdout, done.stdout[-3000:]
    for table in ("bronze/events", "silver/customers", "gold/customer_features"):
        first = f"lake/{table}/_delta_log/00000000000000000000.json"
        assert client.head_object(Bucket=BUCKET, Key=first)["ContentLength"] > 0, table

    # A customer with events: their rows are in bronze, silver and gold before the erasure.
    crm = next((local / "landing" / landing.CUSTOMERS).glob("*.csv")).read_text(errors="replace")
    who = next(csv.DictReader(io.StringIO(crm)))["customer_id"]
    key = customer_key(who, os.environ["INSIGHT_PII_SALT"].encode())

    erased = _insight(s3, "erase", "--customer", who)
    assert erased.returncode == 0, erased.stderr[-4000:]
    assert "silver.customers" in erased.stdout and "vacuumed: " in erased.stdout, erased.stdout

    mirror = tmp_path / "mirror"
    files = _download(client, "lake/", mirror)
    data = [f for f in files if f.suffix == ".parquet"]
    logs = [f for f in files if "_delta_log" in f.parts and f.suffix == ".json"]
    assert data and logs
    # No data file left in the bucket holds the customer (VACUUM removed the old ones),
    # whatever version it belongs to, and no log statistics name them.
    for f in data:
        if f.parent.name in KEEP_THE_KEY:
            assert who not in f.read_bytes().decode("latin-1"), f
            continue
        table = pq.read_table(f)
        for column in table.column_names:
            if str(table.schema.field(column).type) in ("string", "large_string"):
                values = set(table.column(column).to_pylist())
                assert key not in values and who not in values, f"{f} {column}"
    for f in logs:
        text = f.read_text()
        assert who not in text, f
        assert key not in text or f.parents[1].name in KEEP_THE_KEY, f

    audited = _insight(s3, "audit", "--as-of", AS_OF)
    said = audited.stdout + audited.stderr[-3000:]
    status = {m["name"]: m["status"] for m in CHECK_LINE.finditer(audited.stdout)}
    assert status["erased customers absent from every silver and gold table"] == "ok", said
    for entity in landing.ENTITIES:
        assert status[f"{entity}: landing = bronze"] == "ok", said
        assert status[f"{entity}: bronze = silver + quarantine + duplicates"] == "ok", said
    assert audited.returncode == 0 and "0 gap(s)" in audited.stdout, said
