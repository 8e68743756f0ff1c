"""PII never leaves bronze: every silver, gold, quarantine and ops table of the whole-DAG lake
is scanned for the raw emails, phones, names and streets the CRM sent, and for anything
shaped like an email or a phone number; the salt is required outside `local`."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import cli, landing, tables
from insight.config import ENVS, ConfigError, load_config

pytestmark = pytest.mark.integration

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digits with phone separators; ISO dates and times (also digits and dashes) are not.
PHONE_LIKE = re.compile(r"(?<![\w.])\+?[\d(][\d ()\-]{7,20}\d(?![\w.])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def phones_in(text: str) -> list[str]:
    found = []
    for m in PHONE_LIKE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 8 <= len(digits) <= 15 and not ISO_DATE.match(m.group(0).lstrip("+(")):
            found.append(m.group(0))
    return found


def raw_pii(lake: str) -> set[str]:
    """Emails, phones (as sent and as digits), full names and streets of the CRM extract."""
    pii = set()
    for f in (Path(lake) / "landing" / landing.CUSTOMERS).glob("*.csv"):
        for row in csv.DictReader(f.read_text(errors="replace").splitlines()):
            for field in ("email", "phone", "street"):
                value = (row.get(field) or "").strip().lower()
                if len(value) > 5:
                    pii.add(value)
            digits = re.sub(r"\D", "", row.get("phone") or "")
            if len(digits) >= 9:
                pii.add(digits)
            if row.get("first_name") and row.get("last_name"):
                pii.add(f"{row['first_name'].strip()} {row['last_name'].strip()}".lower())
    return pii


def _strings(df):
    """Every string value of a row: string columns and strings inside arrays and structs."""
    cols = []
    for f in df.schema:
        if isinstance(f.dataType, T.StringType):
            cols.append(F.col(f.name))
        elif isinstance(f.dataType, (T.ArrayType, T.StructType, T.MapType)):
            cols.append(F.to_json(F.col(f.name)))
    return cols


def test_no_pii_in_any_silver_gold_quarantine_or_ops_table(spark, dag_lake):
    pii = raw_pii(dag_lake)
    assert len(pii) > 1000  # 300 customers: emails, phones, names, streets
    leaks, scanned = [], []
    for t in tables.lake_tables(spark, dag_lake):
        if t.layer == "bronze":
            continue  # the only place raw PII may live
        df = tables.read(spark, t, dag_lake)
        cols = _strings(df)
        if not cols:
            continue
        scanned.append(t.qualified)
        for (blob,) in df.select(F.lower(F.concat_ws("\x1f", *cols))).collect():
            leaks += [(t.qualified, p) for p in pii if p in blob]
            leaks += [(t.qualified, "email", m.group(0)) for m in EMAIL.finditer(blob)]
            leaks += [(t.qualified, "phone", p) for p in phones_in(blob)]
    assert {"silver.customers", "gold.customer_profile", "gold.review_insights",
            "ops.dq_results", "quarantine.customers"} <= set(scanned)  # fmt: skip
    assert leaks == []


def test_phone_shapes_are_recognised_and_dates_are_not():
    assert phones_in("call 01 71 08 69 32 or +49 30 1234567, (669) 405-5867") == [
        "01 71 08 69 32",
        "+49 30 1234567",
        "(669) 405-5867",
    ]
    assert phones_in("2025-10-02 12:00 and 2025-01-17T10:00") == []


def test_only_local_may_fall_back_to_the_development_salt():
    assert [e for e in ENVS if load_config(e, lake="/x").pii.allow_dev_salt] == ["local"]


def test_the_development_salt_cannot_be_switched_on_in_production():
    with pytest.raises(ConfigError, match="allow_dev_salt"):
        load_config("cluster", lake="/x", overrides=["pii.allow_dev_salt=true"])


def test_erase_without_the_salt_is_a_startup_error_outside_local(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("INSIGHT_PII_SALT", raising=False)
    lake = tmp_path / "lake"
    rc = cli.main(["erase", "--env", "cluster", "--lake", str(lake), "--customer", "C1"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "INSIGHT_PII_SALT is not set" in err
    assert not lake.exists()  # nothing was touched
