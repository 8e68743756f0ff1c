"""Right to be forgotten on a copy of the whole-DAG lake: erase two customers, then prove
that no trace is left in any table, data file or Delta log, that the erasure is recorded
without PII, and that a re-sent record of an erased customer never comes back."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lakes import copy_lake
from pyspark.sql import functions as F

from insight import cli, landing, tables
from insight.audit import checks
from insight.audit.run import audit
from insight.clean import job as clean
from insight.erase import match
from insight.erase import schemas as ES
from insight.erase.run import erase_customers
from insight.errors import InsightError
from insight.ingest import job as ingest

AS_OF = "2025-12-31"


def whole_lake(test):
    """An erase over a copy of the whole-DAG lake: minutes, so `make test-slow` only."""
    return pytest.mark.integration(pytest.mark.slow(test))


def token(value: str) -> re.Pattern:
    return re.compile(rf"(?<![0-9A-Za-z_]){re.escape(value)}(?![0-9A-Za-z_])", re.IGNORECASE)


@dataclass
class Person:
    source_id: str
    key: str
    pii: set[str]  # emails, phones, full names, street addresses as sent by the CRM


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Capture(logging.Handler):
    """Every record of the `insight` loggers, formatted (jobs reset the root's handlers)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        self.lines.append(f"{record.getMessage()} {json.dumps(extra, default=str)}")


def crm_rows(lake: str) -> list[dict[str, str]]:
    rows = []
    for f in sorted((Path(lake) / "landing" / landing.CUSTOMERS).glob("*.csv")):
        rows += list(csv.DictReader(f.read_text(errors="replace").splitlines()))
    return rows


def person(lake: str, source_id: str, salt: bytes) -> Person:
    pii = set()
    for row in crm_rows(lake):
        if (row.get("customer_id") or "").strip() != source_id:
            continue
        for field in ("email", "phone", "street"):
            if row.get(field) and len(row[field].strip()) > 5:
                pii.add(row[field].strip())
        if row.get("first_name") and row.get("last_name"):
            pii.add(f"{row['first_name'].strip()} {row['last_name'].strip()}")
    assert len(pii) >= 3, (source_id, pii)
    return Person(source_id, match.customer_key(source_id, salt), pii)


@dataclass
class Erased:
    lake: str
    people: list[Person]
    rc: int
    before: dict[str, int]
    resent_rc: list[int]
    resent_review_id: str
    kept_review_id: str
    logs: list[str]


def _pick(spark, lake: str) -> list[str]:
    """A reviewer with events, and a customer with a quarantined event (raw line kept)."""
    reviews = tables.read(spark, tables.bronze(landing.REVIEWS), lake)
    per_id = reviews.select(F.get_json_object("value", "$.customer_id").alias("id"))
    reviewer = per_id.groupBy("id").count().orderBy(F.desc("count"), "id").first()["id"]
    known = tables.read(spark, tables.bronze(landing.CUSTOMERS), lake).select(
        F.split("value", ",")[0].alias("id")
    )
    quarantined = (
        tables.read(spark, tables.quarantine(landing.EVENTS), lake)
        .select(F.get_json_object("_raw", "$.customer_id").alias("id"))
        .join(known, "id")
        .where(F.col("id") != reviewer)
        .orderBy("id")
        .first()["id"]
    )
    return [reviewer, quarantined]


@pytest.fixture(scope="module")
def erased(spark, dag_lake, tmp_path_factory) -> Erased:
    lake = str(tmp_path_factory.mktemp("erase") / "lake")
    copy_lake(dag_lake, lake)
    salt = os.environ["INSIGHT_PII_SALT"].encode()
    ids = _pick(spark, lake)
    people = [person(lake, i, salt) for i in ids]
    before = {
        t.qualified: tables.read(spark, t, lake).count() for t in tables.lake_tables(spark, lake)
    }
    capture = Capture()
    logging.getLogger("insight").addHandler(capture)
    try:
        rc = cli.main(["erase", "--lake", lake, *[a for i in ids for a in ("--customer", i)]])
        # The source re-sends a review of the first erased customer, next to a new review
        # and a changed CRM record (new city) of a customer who stays.
        line = next(
            x
            for f in sorted((Path(lake) / "landing" / landing.REVIEWS).glob("*.jsonl"))
            for x in f.read_text(errors="replace").splitlines()
            if f'"customer_id": "{ids[0]}"' in x
        )
        review = json.loads(line)
        kept_id = "C0000001" if "C0000001" not in ids else "C0000003"
        resent = {**review, "review_id": "R99999998", "sent_at": "2025-12-31T22:00:00Z"}
        kept = {**review, "review_id": "R99999999", "customer_id": kept_id,
                "sent_at": "2025-12-31T22:00:00Z"}  # fmt: skip
        (Path(lake) / "landing" / landing.REVIEWS / "reviews-resent.jsonl").write_text(
            f"{json.dumps(resent)}\n{json.dumps(kept)}\n"
        )
        crm = Path(lake) / "landing" / landing.CUSTOMERS
        erased_line = next(
            x for x in (crm / "customers-00000.csv").read_text(errors="replace").splitlines()[1:]
            if x.startswith(f"{ids[0]},")
        )  # fmt: skip
        kept_row = next(r for r in crm_rows(lake) if r["customer_id"] == kept_id)
        kept_row = {**kept_row, "city": "Resentville", "updated_at": "2025-12-31T21:00:00Z"}
        people.append(Person(kept_id, "", {kept_row["email"].strip(), kept_row["phone"].strip()}))
        with (crm / "customers-resent.csv").open("w", newline="") as out:
            out.write(landing.CSV_HEADER[landing.CUSTOMERS] + "\n" + erased_line + "\n")
            csv.writer(out, lineterminator="\n").writerow(
                [kept_row[f] for f in landing.CUSTOMER_FIELDS]
            )
        args = ["--env", "local", "--lake", lake, "--as-of", AS_OF]
        resent_rc = [ingest.main(args)]
        # Between ingest and clean an erase is refused: clean has bronze rows left to read.
        with pytest.raises(InsightError, match="rows clean has not processed yet") as refused:
            erase_customers(spark, lake, ["C0000004"], salt, env="local")
        resent_rc.append(clean.main(args))
    finally:
        logging.getLogger("insight").removeHandler(capture)
    assert "bronze.customers has 1 rows" in str(refused.value)
    return Erased(
        lake, people[:2], rc, before, resent_rc, "R99999998", "R99999999",
        capture.lines + [f"kept-pii:{p}" for p in people[2].pii],
    )  # fmt: skip


def test_token_match_does_not_hit_longer_ids(spark):
    # Spark: the pattern is a Java regex (\Q...\E), which Python's re does not read.
    df = spark.createDataFrame(
        [('{"customer_id": "C0000001"}',), ("C0000001,Ann",), ('{"customer_id": "C00000012"}',)],
        "value string",
    )
    hits = df.where(F.col("value").rlike(match.id_pattern("C0000001"))).count()
    assert hits == 2


def test_erase_condition_and_id_validation():
    assert match.erase_condition(["value", "_source_file"]) == "(t.`value` RLIKE s.`_pattern`)"
    assert match.erase_condition(["product_id", "name"]) is None
    with pytest.raises(ValueError, match="no customer id"):
        match.source_ids([])
    with pytest.raises(ValueError, match="empty"):
        match.source_ids([" "])


@whole_lake
def test_erase_removes_rows_everywhere_and_records_them(spark, erased):
    assert erased.rc == 0
    rows = tables.read(spark, ES.ERASURES, erased.lake).collect()
    assert {r.customer_key for r in rows} == {p.key for p in erased.people}
    reviewer = next(r for r in rows if r.customer_key == erased.people[0].key)
    for t in ("bronze.customers", "silver.customers", "bronze.reviews", "silver.reviews",
              "gold.review_insights", "gold.customer_profile", "gold.customer_features",
              "silver.events", "bronze.events"):  # fmt: skip
        assert reviewer.rows_removed.get(t, 0) > 0, t
    other = next(r for r in rows if r.customer_key == erased.people[1].key)
    assert other.rows_removed.get("quarantine.events", 0) > 0
    for r in rows:
        assert set(r.tables_touched) == set(r.rows_removed)
        assert set(r.tables_touched) <= set(r.vacuumed)
    # Each table lost exactly the rows recorded (tables the re-send run wrote aside).
    for t, n in erased.before.items():
        if t.startswith(("gold.", "quarantine.")) or t.endswith(".events"):
            removed = sum(r.rows_removed.get(t, 0) for r in rows)
            now = tables.read(spark, tables.Table(*t.split(".")), erased.lake).count()
            assert (t, n - now) == (t, removed)
    suppressed = tables.read(spark, ES.SUPPRESSED, erased.lake).collect()
    assert sorted(r.customer_key for r in suppressed) == sorted(p.key for p in erased.people)


def _scan(text: str, person: Person, *, key: bool = True) -> list[str]:
    found = [person.source_id] if token(person.source_id).search(text) else []
    if key and person.key in text:
        found.append("key")
    found += [p for p in person.pii if p.lower() in text.lower()]
    return found


@whole_lake
def test_no_trace_in_any_table_current_version(spark, erased):
    leaks = []
    for t in tables.lake_tables(spark, erased.lake):
        df = tables.read(spark, t, erased.lake)
        blob = "\n".join(r[0] for r in df.select(F.to_json(F.struct(*df.columns))).collect())
        by_design = t in (ES.ERASURES, ES.SUPPRESSED)  # hold the key, nothing else
        leaks += [
            (t.qualified, hit) for p in erased.people for hit in _scan(blob, p, key=not by_design)
        ]
    assert leaks == []


def parquet_text(path: Path) -> str:
    """Every value of a parquet file as text (strings as bytes: raw lines may be bad UTF-8)."""
    table = pq.read_table(path)
    out = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            out += [v.decode("utf-8", "replace") for v in col.cast(pa.binary()).to_pylist() if v]
        else:
            out.append(json.dumps(col.to_pylist(), default=str))
    return "\n".join(out)


def _lake_files(lake: str):
    for f in Path(lake).rglob("*"):
        rel = f.relative_to(lake).parts
        if f.is_file() and rel[0] not in ("landing", "truth", "_catalog"):
            yield f


@whole_lake
def test_no_trace_in_any_data_file_or_delta_log(erased):
    """Every parquet file (tables, Delta checkpoints, model artifacts) decoded with pyarrow,
    every other file (Delta log JSON, streaming checkpoints, MLflow store) as text. Keys are
    allowed in the Delta log only: Delta keeps 32-character prefixes of key columns as file
    statistics, and ops.suppressed_customers keeps the key by design anyway."""
    leaks, parquet_files, log_files = [], 0, 0
    for f in _lake_files(erased.lake):
        rel = str(f.relative_to(erased.lake))
        if f.suffix == ".parquet":
            text = parquet_text(f)
            parquet_files += 1
        else:
            text = f.read_bytes().decode("utf-8", errors="replace")
            log_files += "_delta_log" in f.parts
        by_design = "_delta_log" in f.parts or rel.startswith(
            ("ops/erasures/", "ops/suppressed_customers/")
        )
        for p in erased.people:
            leaks += [(rel, hit) for hit in _scan(text, p, key=not by_design)]
    assert parquet_files > 100 and log_files > 100
    # Known, documented exception: registered recommend models (MLflow artifacts) index
    # customers by key; they are superseded at the next recommend run.
    model_leaks = [x for x in leaks if x[0].startswith("_mlflow/") and x[1] == "key"]
    assert [x for x in leaks if x not in model_leaks] == []


@whole_lake
def test_erasure_audit_row_holds_no_pii(spark, erased):
    df = tables.read(spark, ES.ERASURES, erased.lake)
    rows = [r[0] for r in df.select(F.to_json(F.struct(*df.columns))).collect()]
    for p in erased.people:
        row = next(r for r in rows if p.key in r)
        assert _scan(row, p, key=False) == []


@whole_lake
def test_resent_records_of_erased_customers_are_dropped_at_ingest(spark, erased):
    assert erased.resent_rc == [0, 0]
    first = erased.people[0]
    for entity in (landing.REVIEWS, landing.CUSTOMERS):
        bronze = tables.read(spark, tables.bronze(entity), erased.lake)
        assert bronze.where(F.col("value").rlike(match.id_pattern(first.source_id))).count() == 0
    reviews = tables.read(spark, tables.silver(landing.REVIEWS), erased.lake)
    assert reviews.where(F.col("customer_key") == first.key).count() == 0
    assert reviews.where(F.col("review_id") == erased.kept_review_id).count() == 1
    city = tables.read(spark, tables.silver(landing.CUSTOMERS), erased.lake).where(
        "city = 'Resentville'"
    )
    assert city.count() == 1
    ledger = tables.read(spark, tables.RUN_LEDGER, erased.lake).where(
        "job = 'ingest' AND status = 'ok' AND rows_in != rows_written"
    )
    dropped = {r.table_name: r.rows_in - r.rows_written for r in ledger.collect()}
    assert dropped == {"bronze.reviews": 1, "bronze.customers": 1}


@whole_lake
def test_audit_balances_with_erased_and_suppressed_buckets(spark, erased):
    """Counts still reconcile; the only gap is the new review nlp has not scored yet."""
    _, found = audit(spark, erased.lake)
    gaps = [c for c in found if c.status == checks.GAP]
    assert [c.name for c in gaps] == [
        "every silver review (review_date <= as_of) has one gold.review_insights row"
    ], [(c.name, c.detail) for c in gaps]
    assert gaps[0].detail.startswith("1 missing, 0 with more than one row, 0 rows without one")
    by_name = {c.name: c for c in found}
    to_bronze = by_name["reviews: landing = bronze"]
    assert to_bronze.status == checks.OK and "dropped as suppressed 1" in to_bronze.detail
    assert by_name["erased customers absent from every silver and gold table"].status == checks.OK


@whole_lake
def test_logs_hold_no_pii_ids_of_the_erased_or_salt(erased):
    salt = os.environ["INSIGHT_PII_SALT"]
    kept_pii = [x.removeprefix("kept-pii:") for x in erased.logs if x.startswith("kept-pii:")]
    logs = "\n".join(x for x in erased.logs if not x.startswith("kept-pii:"))
    assert "clean customers" in logs and "erase" in logs  # the capture saw the runs
    assert salt not in logs
    for p in erased.people:
        assert _scan(logs, p, key=False) == []
    assert [p for p in kept_pii if p.lower() in logs.lower()] == []
