"""End to end on a generated dirty lake: ingest -> clean on real Spark, Delta and GX."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from insight import landing, tables
from insight.clean import job as clean
from insight.ingest import job as ingest
from lakegen import generate_lake

pytestmark = pytest.mark.integration

AS_OF = "2025-12-31"
SILVER_KEY = {
    "customers": "customer_key",
    "products": "product_id",
    "events": "event_id",
    "reviews": "review_id",
}
REQUIRED = {
    "customers": ["customer_key", "updated_at", "signup_at"],
    "products": ["product_id", "name", "category_path", "list_price", "updated_at"],
    "events": ["event_id", "event_type", "event_ts", "customer_key", "sent_at", "event_date"],
    "reviews": ["review_id", "customer_key", "product_id", "rating", "review_ts", "sent_at"],
}
# Landing field -> (silver column, how the landing text becomes the silver value).
RESENT_FIELDS = {
    "price": {"products": "list_price", "events": "original_price"},
    "quantity": {"events": "quantity"},
    "device": {"events": "device"},
    "rating": {"reviews": "rating"},
    "text": {"reviews": "review_text"},
    "title": {"reviews": "title"},
    "city": {"customers": "city"},
}
CORRUPT_FILE = "events-zz-corrupt.jsonl"


def hmac_hex(value: str) -> str:
    salt = os.environ["INSIGHT_PII_SALT"].encode()
    return hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()


@dataclass
class Run:
    lake: str
    rcs: list[int]

    @property
    def truth(self) -> Path:
        return Path(self.lake) / "truth"

    def dirty(self) -> list[dict]:
        return [json.loads(x) for x in (self.truth / "dirty.jsonl").read_text().splitlines()]

    def args(self) -> list[str]:
        return ["--env", "local", "--lake", self.lake, "--as-of", AS_OF]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory) -> Run:
    lake = str(tmp_path_factory.mktemp("pipeline") / "lake")
    generate_lake(lake, customers=300, seed=11, days=120, dirty_rate=0.1, workers=1)
    # A corrupt file as a source system sometimes drops: binary garbage, no JSON at all.
    garbage = hashlib.sha512(b"corrupt").digest() * 40 + b"\n\x00\xff\xfe not json\n"
    (Path(lake) / "landing/events" / CORRUPT_FILE).write_bytes(garbage)
    r = Run(lake, [])
    r.rcs = [ingest.main(r.args()), clean.main(r.args())]
    return r


def read(spark, run: Run, layer: str, name: str):
    return tables.read(spark, tables.Table(layer, name), run.lake)


def landing_records(run: Run, entity: str) -> int:
    n = 0
    for f in (Path(run.lake) / "landing" / entity).iterdir():
        lines = f.read_bytes().splitlines()
        n += len(lines) - (1 if entity in landing.CSV_ENTITIES else 0)
    return n


def test_jobs_succeed(run):
    assert run.rcs == [0, 0]


@pytest.mark.parametrize("entity", landing.ENTITIES)
def test_every_landing_record_reaches_bronze(spark, run, entity):
    assert read(spark, run, "bronze", entity).count() == landing_records(run, entity)


@pytest.mark.parametrize("entity", landing.ENTITIES)
def test_counts_reconcile(spark, run, entity):
    """bronze = silver + quarantine + collapsed duplicates, and the ledger says the same."""
    ledger = read(spark, run, "ops", "run_ledger").where(
        (F.col("job") == "clean")
        & (F.col("table_name") == f"silver.{entity}")
        & (F.col("status") == "ok")
    )
    totals = ledger.agg(
        *[
            F.sum(c).alias(c)
            for c in ("rows_in", "rows_written", "rows_quarantined", "duplicates_collapsed")
        ]
    ).first()
    bronze = read(spark, run, "bronze", entity).count()
    silver = read(spark, run, "silver", entity).count()
    quarantined = read(spark, run, "quarantine", entity).count()
    assert totals.rows_in == bronze
    assert (silver, quarantined) == (totals.rows_written, totals.rows_quarantined)
    assert bronze == silver + quarantined + totals.duplicates_collapsed
    assert totals.rows_quarantined > 0 or entity == "products"


def test_every_injected_bad_record_is_quarantined_under_its_rule(spark, run):
    found: dict[str, list] = {}
    for entity in landing.ENTITIES:
        found[entity] = (
            read(spark, run, "quarantine", entity)
            .select("record_key", "_raw", "failed_rules")
            .collect()
        )
    bad = [d for d in run.dirty() if d["expected_rule"]]
    kinds = {d["kind"] for d in bad}
    assert len(kinds) >= 20, kinds  # the lake really holds every kind of bad record
    missed = []
    for d in bad:
        key = hmac_hex(d["key"]) if d["entity"] == "customers" else d["key"]
        rows = [
            r
            for r in found[d["entity"]]
            if r.record_key == key or (r._raw is not None and f'"{d["key"]}"' in r._raw)
        ]
        if not any(d["expected_rule"] in r.failed_rules for r in rows):
            missed.append(
                (
                    d["entity"],
                    d["kind"],
                    d["key"],
                    d["expected_rule"],
                    [r.failed_rules for r in rows],
                )
            )
    assert missed == []


def test_corrupt_file_is_quarantined_not_fatal(spark, run):
    q = read(spark, run, "quarantine", "events").where(F.col("_source_file").endswith(CORRUPT_FILE))
    rules = {r for row in q.select("failed_rules").collect() for r in row.failed_rules}
    assert q.count() == len(
        (Path(run.lake) / "landing/events" / CORRUPT_FILE).read_bytes().splitlines()
    )
    assert rules <= {"parseable", "valid_utf8"} and "parseable" in rules


def test_duplicates_collapse_and_the_latest_version_wins(spark, run):
    checked = 0
    for d in run.dirty():
        if d["kind"] not in ("exact_duplicate", "resent_changed"):
            continue
        entity = d["entity"]
        key = hmac_hex(d["key"]) if entity == "customers" else d["key"]
        rows = read(spark, run, "silver", entity).where(F.col(SILVER_KEY[entity]) == key).collect()
        assert len(rows) == 1, d
        for field, value in d.get("expected", {}).items():
            column = RESENT_FIELDS.get(field, {}).get(entity)
            if column is None:
                continue
            got = rows[0][column]
            want = type(got)(value) if got is not None else value
            assert got == want, (d, field)
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("entity", landing.ENTITIES)
def test_silver_has_unique_keys_and_no_missing_required_fields(spark, run, entity):
    df = read(spark, run, "silver", entity)
    key = SILVER_KEY[entity]
    assert df.groupBy(key).count().where("count > 1").count() == 0
    nulls = df.select(
        *[F.sum(F.col(c).isNull().cast("int")).alias(c) for c in REQUIRED[entity]]
    ).first()
    assert nulls.asDict() == {c: 0 for c in REQUIRED[entity]}


def test_silver_timestamps_are_utc_and_within_the_window(spark, run):
    ev = read(spark, run, "silver", "events").agg(F.min("event_ts"), F.max("event_ts")).first()
    manifest = json.loads((run.truth / "manifest.json").read_text())
    assert ev[0] >= datetime.fromisoformat(manifest["window_utc"]["start"].replace("Z", ""))
    assert ev[1] < datetime.fromisoformat(manifest["window_utc"]["end_exclusive"].replace("Z", ""))


def test_no_raw_pii_anywhere_in_silver(spark, run):
    pii = set()
    for f in (Path(run.lake) / "landing/customers").iterdir():
        for row in csv.DictReader(f.read_text(errors="replace").splitlines()):
            for field in ("email", "phone"):
                if row.get(field) and len(row[field].strip()) > 5:
                    pii.add(row[field].strip().lower())
            if row.get("first_name") and row.get("last_name"):
                pii.add(f"{row['first_name']} {row['last_name']}".lower())
    assert len(pii) > 500
    leaks = []
    for entity in landing.ENTITIES:
        df = read(spark, run, "silver", entity)
        text_cols = [c for c, t in df.dtypes if t == "string"]
        for (blob,) in df.select(F.lower(F.concat_ws("\x1f", *text_cols))).collect():
            leaks += [(entity, p) for p in pii if p in blob]
    assert leaks == []


def test_gx_results_are_recorded_and_agree_with_the_routed_rows(spark, run):
    dq = read(spark, run, "ops", "dq_results").where("stage = 'row'").collect()
    assert {r.table_name for r in dq} == {f"silver.{e}" for e in landing.ENTITIES}
    assert all(r.unexpected_count == r.quarantined_count for r in dq), [
        (r.table_name, r.rule, r.unexpected_count, r.quarantined_count)
        for r in dq
        if r.unexpected_count != r.quarantined_count
    ]
    failing = {(r.table_name, r.rule) for r in dq if not r.success}
    assert ("silver.events", "ts_in_window") in failing


def test_tables_are_registered_in_the_catalog(spark, run):
    for layer, name in [
        ("bronze", "events"),
        ("silver", "customers"),
        ("quarantine", "reviews"),
        ("ops", "run_ledger"),
    ]:
        table = tables.Table(layer, name)
        location = spark.sql(f"DESCRIBE DETAIL {table.qualified}").first().location
        assert location.removeprefix("file:") == table.path(run.lake)


def _versions(spark, run: Run) -> dict[str, int]:
    out = {}
    for layer in ("bronze", "silver", "quarantine"):
        for entity in landing.ENTITIES:
            t = tables.Table(layer, entity)
            out[t.qualified] = (
                DeltaTable.forPath(spark, t.path(run.lake)).history(1).first().version
            )
    out["ops.dq_results"] = (
        DeltaTable.forPath(spark, tables.DQ_RESULTS.path(run.lake)).history(1).first().version
    )
    return out


def test_rerun_with_nothing_new_changes_no_data_table(spark, run):
    before = _versions(spark, run)
    assert [ingest.main(run.args()), clean.main(run.args())] == [0, 0]
    assert _versions(spark, run) == before
    ledger = read(spark, run, "ops", "run_ledger")
    last = ledger.where(F.col("status") == "nothing_new").select("job", "table_name").collect()
    assert {(r.job, r.table_name) for r in last} >= {
        ("ingest", "bronze.events"),
        ("clean", "silver.events"),
    }


def test_a_new_file_is_processed_once_and_newer_resends_win(spark, run):
    """Runs last: it adds a landing file (a re-send, a new event, a bad one) to the lake."""
    events = read(spark, run, "silver", "events")
    old = events.where("event_type = 'purchase'").orderBy("event_id").first()
    bronze_before, silver_before = read(spark, run, "bronze", "events").count(), events.count()
    sent = (Path(run.lake) / "landing/events/events-00000.jsonl").read_text(errors="replace")
    line = json.loads(next(x for x in sent.splitlines() if f'"{old.event_id}"' in x))
    resend = {**line, "quantity": old.quantity + 1, "sent_at": "2025-12-31T23:00:00Z"}
    new = {**line, "event_id": "E9999999999", "sent_at": "2025-12-31T23:00:00Z"}
    bad = {**line, "event_id": "E9999999998", "quantity": -4}
    (Path(run.lake) / "landing/events/events-late.jsonl").write_text(
        "\n".join(json.dumps(x) for x in (resend, new, bad)) + "\n"
    )
    assert [ingest.main(run.args()), clean.main(run.args())] == [0, 0]
    events = read(spark, run, "silver", "events")
    assert read(spark, run, "bronze", "events").count() == bronze_before + 3
    assert events.count() == silver_before + 1
    assert events.where(F.col("event_id") == old.event_id).first().quantity == old.quantity + 1
    q = read(spark, run, "quarantine", "events").where("record_key = 'E9999999998'").first()
    assert q.failed_rules == ["quantity_in_range"]
    # ...and once only: a third run finds nothing new.
    assert [ingest.main(run.args()), clean.main(run.args())] == [0, 0]
    assert read(spark, run, "bronze", "events").count() == bronze_before + 3


def json_or_none(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return None


def test_schema_drift_is_kept_reported_and_routed(spark, run):
    """A source adds a field, renames one and changes a type: the new field is kept in bronze
    and reported, the renamed required field and the wrong type send rows to quarantine."""
    # A template: a purchase that landed once and is clean (not a dirty or duplicated line).
    purchases = read(spark, run, "silver", "events").where("event_type = 'purchase'")
    clean_ids = {r.event_id for r in purchases.select("event_id").collect()}
    quarantine = read(spark, run, "quarantine", "events").select("record_key")
    quarantined = {r[0] for r in quarantine.collect()}
    sent = (Path(run.lake) / "landing/events/events-00000.jsonl").read_text(errors="replace")
    records = [r for r in map(json_or_none, sent.splitlines()) if isinstance(r, dict)]
    seen = Counter(r.get("event_id") for r in records)
    line = next(r for r in records if r.get("event_id") in clean_ids - quarantined
                and seen[r["event_id"]] == 1)  # fmt: skip
    added = {**line, "event_id": "E9999999990", "loyalty": {"tier": "gold", "points": 120}}
    renamed = {k if k != "customer_id" else "customerId": v for k, v in line.items()}
    renamed["event_id"] = "E9999999991"
    retyped = {**line, "event_id": "E9999999992", "quantity": "two"}
    (Path(run.lake) / "landing/events/events-drift.jsonl").write_text(
        "\n".join(json.dumps(x) for x in (added, renamed, retyped)) + "\n"
    )
    assert [ingest.main(run.args()), clean.main(run.args())] == [0, 0]

    bronze = read(spark, run, "bronze", "events").where(F.col("_rescued_data").isNotNull())
    rescued = {
        json.loads(r.value)["event_id"]: json.loads(r._rescued_data) for r in bronze.collect()
    }
    assert rescued == {
        "E9999999990": {"loyalty": '{"tier":"gold","points":120}'},
        "E9999999991": {"customerId": line["customer_id"]},
    }
    ledger = read(spark, run, "ops", "run_ledger").where(
        "job = 'ingest' AND table_name = 'bronze.events' AND message IS NOT NULL"
    )
    assert [r.message for r in ledger.collect()] == [
        "fields not in the contract kept in _rescued_data: customerId (1 lines), loyalty (1 lines)"
    ]
    silver = read(spark, run, "silver", "events")
    assert silver.where("event_id = 'E9999999990'").count() == 1  # the known fields are clean
    q = {r.record_key: r for r in read(spark, run, "quarantine", "events")
         .where("record_key IN ('E9999999991', 'E9999999992')").collect()}  # fmt: skip
    assert q["E9999999991"].failed_rules == ["customer_id_not_null"]
    assert q["E9999999991"].reason == "customer_id_not_null: required field customer_id is missing"
    assert q["E9999999992"].failed_rules == ["quantity_is_integer"]
