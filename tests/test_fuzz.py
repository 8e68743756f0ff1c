"""Property-based tests: hypothesis writes hostile landing records (broken JSON and CSV,
missing, renamed and extra fields, wrong types, huge and odd values, control characters,
markup, bad bytes); staging never crashes and routes every row, and a whole ingest + clean
run over a hostile landing zone succeeds with the audit balancing.

How many examples run comes from the hypothesis profile (HYPOTHESIS_PROFILE, registered in
tests/conftest.py): `dev` a few, `ci` new ones every run, `fuzz` (`make fuzz`) 10,000."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing
from insight.audit import checks
from insight.audit.run import audit
from insight.clean.dedup import latest_per_key
from insight.clean.entities import SPECS, TO_SILVER, stage, to_quarantine
from insight.clean.run import clean_params
from insight.config import load_config
from insight.erase.match import customer_key
from insight.ingest.bronze import with_rescued_data
from insight.quality.rules import ROW, load_suite, suite_rules, with_failed_rules

AS_OF = date(2025, 12, 31)
SALT = b"fuzz-salt-0123456789"
# Each example runs real Spark jobs (seconds each) on the session-wide `spark` fixture.
SPARK_JOBS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A staging example costs a few Spark jobs whatever its size, a line in it next to nothing:
# so one example stages a batch, and the `ci` profile's 8 examples cover >= 200 lines per
# entity. A failure still shrinks to the line that breaks (beside BATCH - 1 minimal ones).
BATCH = 25
# A whole-lake example (generate, ingest, clean, audit) costs minutes: it runs a hundredth
# of the profile's examples, at least 2 (read when the module loads, after conftest.py
# and `--hypothesis-profile` have chosen the profile).
LAKE_EXAMPLES = max(2, settings.default.max_examples // 100)

# -- hostile values and records ----------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "null", "NaN", "Infinity", "-0", "1e309", "99999999999999999999", "0x1F",
    "2025-13-45", "2025-02-30T25:61:00Z", "<script>alert(1)</script>", "'; DROP TABLE x;--",
    "\u0000", "\u202e\u0627\u0644", "\U0001f600" * 50, "a" * 5000, "\ufffd", "C0000001",
    "P000001", "EUR", "purchase", "\t\x0b\x0c",
])  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), ODD_TEXT,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)  # fmt: skip
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), SCALARS, max_size=3),
)


def _one_line(text: str) -> str:
    # A landing line cannot hold a line break: the file source splits there.
    return text.replace("\n", " ").replace("\r", " ")


def template(entity: str) -> dict[str, object]:
    """A valid-looking record of the entity, for hypothesis to break."""
    return {
        landing.EVENTS: {"event_id": "E1", "event_type": "purchase", "ts": "2025-12-01T10:00:00Z",
                   "customer_id": "C0000001", "session_id": "S1", "product_id": "P000001",
                   "order_id": "O1", "query": None, "price": 9.5, "currency": "EUR",
                   "quantity": 1, "device": "mobile", "channel": "web",
                   "sent_at": "2025-12-01T10:00:05Z"},
        landing.REVIEWS: {"review_id": "R1", "customer_id": "C0000001", "product_id": "P000001",
                    "rating": 4, "title": "ok", "text": "good value", "ts": "2025-12-01T10:00:00Z",
                    "sent_at": "2025-12-01T10:00:05Z"},
        landing.CUSTOMERS: {f: "" for f in landing.CUSTOMER_FIELDS} | {
            "customer_id": "C0000001", "email": "a@example.com", "country": "DE",
            "signup_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"},
        landing.PRODUCTS: {f: "" for f in landing.PRODUCT_FIELDS} | {
            "product_id": "P000001", "name": "Mug", "category_path": "Home > Kitchen > Mugs",
            "price": "9.5", "currency": "EUR", "updated_at": "2025-01-01T00:00:00Z"},
    }[entity]  # fmt: skip


@st.composite
def hostile_record(draw, entity: str) -> str:
    """One landing line: a broken version of a valid record, or plain garbage."""
    if draw(st.integers(0, 9)) == 0:
        return _one_line(draw(st.text(max_size=200)))
    record = dict(template(entity))
    fields = list(record)
    for name in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
        action = draw(st.sampled_from(["drop", "rename", "retype", "odd"]))
        if action == "drop":
            record.pop(name, None)
        elif action == "rename":
            record[name.upper()] = record.pop(name, None)
        else:
            record[name] = draw(VALUES if action == "retype" else ODD_TEXT)
    for extra in draw(st.lists(st.text(min_size=1, max_size=8), max_size=2)):
        record[extra] = draw(VALUES)
    if entity in landing.JSON_ENTITIES:
        line = json.dumps(record, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 5)) == 0:
            line = line[: draw(st.integers(0, len(line)))]  # truncated
        return _one_line(line)
    out = io.StringIO()
    cells = [record.get(f, "") for f in landing.FIELDS[entity]]
    cells += draw(st.lists(st.text(max_size=5), max_size=1))  # sometimes an extra cell
    csv.writer(out, lineterminator="").writerow(
        ["" if c is None else c if isinstance(c, str) else json.dumps(c) for c in cells]
    )
    return _one_line(out.getvalue())


def bronze_frame(spark, entity: str, lines: list[str]):
    rows = [(x, f"file:/landing/{entity}/fuzz", datetime(2025, 12, 31), "fuzz-1") for x in lines]
    df = spark.createDataFrame(
        rows,
        f"value string, {C.SOURCE_FILE} string, {C.INGESTED_AT} timestamp, {C.BATCH_ID} string",
    )
    return df.transform(with_rescued_data, entity=entity)


# -- staging: every row routed, nothing crashes -----------------------------------------


@pytest.mark.parametrize("entity", landing.ENTITIES)
@SPARK_JOBS
@given(data=st.data())
def test_staging_routes_every_hostile_row(spark, entity, data):
    lines = data.draw(st.lists(hostile_record(entity), min_size=BATCH, max_size=2 * BATCH))
    spec = SPECS[entity]
    cfg = load_config("local", lake="/tmp/fuzz")
    params = clean_params(cfg.clean, AS_OF)
    refs = {}
    if entity in (landing.EVENTS, landing.REVIEWS):
        refs = {
            "customers": spark.createDataFrame(
                [(customer_key("C0000001", SALT),)], "customer_key string"
            ),
            "products": spark.createDataFrame([("P000001",)], "product_id string"),
        }
    suite = load_suite(spec.suite)
    staged = (
        bronze_frame(spark, entity, lines)
        .transform(stage, spec, salt=SALT, fx_to_base=cfg.clean.fx_to_base, **refs)
        .transform(with_failed_rules, suite_rules(suite, ROW), params)
        .cache()
    )
    rows = staged.select(C.RAW, C.FAILED_RULES, C.REASON).collect()
    assert sorted(r[C.RAW] for r in rows) == sorted(lines)  # one staged row per line
    failed = staged.where(F.size(C.FAILED_RULES) > 0)
    quarantined = failed.transform(
        to_quarantine, spec, run_id="fuzz", as_of=AS_OF, quarantined_at=datetime(2025, 12, 31)
    ).collect()
    assert all(q[C.REASON] and q[C.FAILED_RULES] for q in quarantined)
    good = staged.where(F.size(C.FAILED_RULES) == 0)
    silver = good.transform(latest_per_key, key=spec.key, version_col=spec.version_col).transform(
        TO_SILVER[entity]
    )
    keys = [r[0] for r in silver.select(spec.key).collect()]
    assert None not in keys and len(keys) == len(set(keys))  # the output rules will hold
    assert len(quarantined) + good.count() == len(lines)
    staged.unpersist()


# -- the whole of ingest + clean over a hostile landing zone -----------------------------


@pytest.mark.integration
@pytest.mark.slow
@settings(SPARK_JOBS, max_examples=LAKE_EXAMPLES)
@given(data=st.data())
def test_a_hostile_landing_zone_runs_through_and_the_audit_balances(spark, data):
    from insight.clean import job as clean
    from insight.ingest import job as ingest
    from lakegen import generate_lake

    lake = tempfile.mkdtemp(prefix="fuzz-lake-")
    try:
        generate_lake(lake, customers=15, seed=7, days=10, dirty_rate=0.0, workers=1)
        for entity in landing.ENTITIES:
            lines = data.draw(st.lists(hostile_record(entity), min_size=1, max_size=30))
            folder = Path(lake) / "landing" / entity
            header = [landing.CSV_HEADER[entity]] if entity in landing.CSV_HEADER else []
            (folder / f"{entity}-fuzz{landing.FILE_SUFFIX[entity]}").write_bytes(
                "\n".join([*header, *lines]).encode() + b"\n"
            )
        args = ["--lake", lake, "--as-of", AS_OF.isoformat()]
        assert [ingest.main(args), clean.main(args)] == [0, 0]
        _, found = audit(spark, lake)
        entity_checks = [c for c in found if c.name.split(":")[0] in landing.ENTITIES]
        assert len(entity_checks) >= 20
        assert [(c.name, c.detail) for c in entity_checks if c.status != checks.OK] == []
    finally:
        shutil.rmtree(lake, ignore_errors=True)
