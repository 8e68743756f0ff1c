"""Tests for the raw-data lake generator (pure Python, small lakes)."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import math
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from insight import landing
from insight.cli import main
from lakegen import DEFAULT_END_DATE, GenerationSummary, generate_lake, parse_languages, text_zh
from lakegen import lake as lake_module
from lakegen.catalog import TAXONOMY

END = DEFAULT_END_DATE
WINDOW_START = datetime(2024, 12, 31, tzinfo=UTC)  # END - 365 days
WINDOW_END = datetime(2026, 1, 1, tzinfo=UTC)  # exclusive

# Applicable kinds per entity, as specified (deliberately not imported from the generator).
EXPECTED_KINDS = {
    landing.EVENTS: {
        "malformed_json", "invalid_utf8", "missing_customer_id", "missing_event_type",
        "missing_ts", "wrong_type_price", "wrong_type_quantity", "wrong_type_ts",
        "negative_price", "absurd_price", "absurd_quantity", "future_ts", "ancient_ts",
        "unknown_event_type", "orphan_customer", "orphan_product", "exact_duplicate",
        "resent_changed",
    },
    landing.REVIEWS: {
        "malformed_json", "invalid_utf8", "missing_customer_id", "missing_rating",
        "missing_ts", "wrong_type_rating", "rating_out_of_range", "wrong_type_ts",
        "future_ts", "ancient_ts", "orphan_customer", "orphan_product", "oversize_text",
        "markup_in_text", "exact_duplicate", "resent_changed",
    },
    landing.CUSTOMERS: {
        "malformed_csv", "invalid_utf8", "missing_email", "invalid_email", "exact_duplicate",
        "resent_changed",
    },
    landing.PRODUCTS: {"exact_duplicate", "resent_changed"},
}  # fmt: skip
ID_FIELD = {landing.CUSTOMERS: "customer_id", landing.PRODUCTS: "product_id"}
ID_FIELD |= {landing.EVENTS: "event_id", landing.REVIEWS: "review_id"}
ID_PATTERN = {
    landing.CUSTOMERS: r"C\d{7}",
    landing.PRODUCTS: r"P\d{6}",
    landing.EVENTS: r"E\d{10}",
    landing.REVIEWS: r"R\d{8}",
}


# --- reading a lake back ------------------------------------------------------------------


def landing_files(lake: Path, entity: str) -> list[Path]:
    return sorted((lake / "landing" / entity).glob(f"*{landing.FILE_SUFFIX[entity]}"))


def raw_lines(lake: Path, entity: str) -> list[tuple[str, bytes]]:
    """(file relative to landing, raw line without newline), headers skipped."""
    out = []
    for path in landing_files(lake, entity):
        lines = path.read_bytes().split(b"\n")
        assert lines[-1] == b"", f"{path} must end with a newline"
        lines = lines[:-1]
        if entity in landing.CSV_ENTITIES:
            assert lines[0].decode() == landing.CSV_HEADER[entity]
            lines = lines[1:]
        rel = path.relative_to(lake / "landing").as_posix()
        out.extend((rel, line) for line in lines)
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dirty_rows(lake: Path) -> list[dict]:
    return read_jsonl(lake / "truth" / "dirty.jsonl")


def fresh_bad_keys(lake: Path, entity: str) -> set[str]:
    """Ids of injected records that must be quarantined (duplicates/resends share ids)."""
    return {
        r["key"]
        for r in dirty_rows(lake)
        if r["entity"] == entity and r["kind"] not in ("exact_duplicate", "resent_changed")
    }


def line_id(entity: str, raw: bytes) -> str:
    if entity in landing.CSV_ENTITIES:
        return raw.split(b",", 1)[0].decode("ascii")
    found = re.search(rb'"' + ID_FIELD[entity].encode() + rb'": "([A-Z]\d+)"', raw)
    assert found, raw[:80]
    return found.group(1).decode()


def good_records(lake: Path, entity: str) -> list[dict]:
    """Parsed good records (injected fresh-id bad records removed)."""
    bad = fresh_bad_keys(lake, entity)
    out = []
    for _, raw in raw_lines(lake, entity):
        if line_id(entity, raw) in bad:
            continue
        text = raw.decode("utf-8")
        if entity in landing.CSV_ENTITIES:
            (row,) = list(csv.reader(io.StringIO(text)))
            assert len(row) == len(landing.FIELDS[entity]), row
            out.append(dict(zip(landing.FIELDS[entity], row, strict=True)))
        else:
            out.append(json.loads(text))
    return out


def catalog_prices(lake: Path) -> dict[str, float]:
    """EUR price per product as first listed (events use it; a later correction may differ)."""
    prices: dict[str, float] = {}
    for p in good_records(lake, landing.PRODUCTS):
        prices.setdefault(p["product_id"], float(p["price"]))
    return prices


def ts(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, f"timestamp without offset: {text}"
    return parsed


# --- rule checks, mirroring landing.DIRTY_KINDS --------------------------------------------


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _ts_rules(record: dict, rules: set[str]) -> None:
    if record.get("ts") is None:
        rules.add("ts_not_null")
        return
    try:
        when = ts(record["ts"])
    except (TypeError, ValueError):
        rules.add("ts_is_timestamp")
        return
    if not WINDOW_START <= when < WINDOW_END:
        rules.add("ts_in_window")


def json_violations(entity: str, raw: bytes, customers: set[str], products: set[str]) -> set:
    """The set of rules a raw JSON line breaks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"valid_utf8"}
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return {"parseable"}
    rules: set[str] = set()
    if record.get("customer_id") is None:
        rules.add("customer_id_not_null")
    elif record["customer_id"] not in customers:
        rules.add("customer_exists")
    if "product_id" in record and record["product_id"] not in products:
        rules.add("product_exists")
    _ts_rules(record, rules)
    if entity == landing.EVENTS:
        if record.get("event_type") is None:
            rules.add("event_type_not_null")
        elif record["event_type"] not in landing.EVENT_TYPES:
            rules.add("event_type_in_set")
        if "price" in record:
            if not _is_number(record["price"]):
                rules.add("price_is_number")
            elif (
                not 0 < record["price"] * landing.REFERENCE_FX_TO_EUR[record["currency"]] <= 10_000
            ):
                rules.add("price_in_range")
        if "quantity" in record:
            if not _is_int(record["quantity"]):
                rules.add("quantity_is_integer")
            elif not 1 <= record["quantity"] <= 20:
                rules.add("quantity_in_range")
    else:
        if record.get("rating") is None:
            rules.add("rating_not_null")
        elif not _is_int(record["rating"]):
            rules.add("rating_is_integer")
        elif not 1 <= record["rating"] <= 5:
            rules.add("rating_in_range")
        if len(record["text"]) > 2_000:
            rules.add("text_length_in_range")
        if "<" in record["text"] or ">" in record["text"]:
            rules.add("text_has_no_markup")
    return rules


def csv_violations(raw: bytes) -> set[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"valid_utf8"}
    (row,) = list(csv.reader(io.StringIO(text)))
    if len(row) != len(landing.CUSTOMER_FIELDS) or not row[-1]:
        return {"parseable"}
    email = row[landing.CUSTOMER_FIELDS.index("email")].strip()
    if not email:
        return {"email_not_null"}
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        return {"email_format"}
    return set()


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    lake = tmp_path_factory.mktemp("small")
    summary = generate_lake(lake, customers=300, seed=11, workers=1)
    return lake, summary


@pytest.fixture(scope="module")
def dirty_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    lake = tmp_path_factory.mktemp("dirty")
    summary = generate_lake(lake, customers=500, seed=3, dirty_rate=0.3, workers=1)
    return lake, summary


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- determinism and bookkeeping ----------------------------------------------------------


def test_same_arguments_give_identical_bytes_whatever_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small partitions so that 250 customers span three partitions and two processes.
    monkeypatch.setattr(lake_module, "PARTITION_SIZE", 100)
    args = {"customers": 250, "seed": 42, "days": 60, "dirty_rate": 0.05}
    one = generate_lake(tmp_path / "one", workers=1, **args)
    two = generate_lake(tmp_path / "two", workers=2, **args)
    assert len(landing_files(tmp_path / "one", landing.EVENTS)) == 3
    first, second = tree_bytes(tmp_path / "one"), tree_bytes(tmp_path / "two")
    assert first.keys() == second.keys()
    assert {k for k in first if first[k] != second[k]} == set()
    assert one.records == two.records and one.dirty == two.dirty

    other = generate_lake(tmp_path / "other", workers=1, **(args | {"seed": 43}))
    events = "landing/events/events-00000.jsonl"
    assert tree_bytes(tmp_path / "other")[events] != first[events]
    assert other.records != one.records


def test_good_records_do_not_depend_on_dirty_rate(tmp_path: Path) -> None:
    """Removing the injected records from a dirty lake gives back the clean lake."""
    clean = generate_lake(tmp_path / "clean", customers=120, seed=5, dirty_rate=0.0, workers=1)
    dirty = generate_lake(tmp_path / "dirty", customers=120, seed=5, dirty_rate=0.2, workers=1)
    assert sum(clean.dirty.values()) == 0 and sum(dirty.dirty.values()) > 0
    rows = dirty_rows(tmp_path / "dirty")
    for entity in landing.ENTITIES:
        fresh = fresh_bad_keys(tmp_path / "dirty", entity)
        resent = {r["key"] for r in rows if r["entity"] == entity and r["kind"] == "resent_changed"}
        clean_lines = [raw for _, raw in raw_lines(tmp_path / "clean", entity)]
        kept: list[bytes] = []
        for _, raw in raw_lines(tmp_path / "dirty", entity):
            key = line_id(entity, raw)
            if key in fresh or raw in kept:  # injected, or an exact duplicate
                continue
            if key in resent and any(line_id(entity, k) == key for k in kept):
                continue  # the re-sent version of a record already seen
            kept.append(raw)
        assert kept == clean_lines, entity


def test_summary_and_manifest_counts_match_the_files(small_lake) -> None:
    lake, summary = small_lake
    assert summary.landing == lake / "landing" and summary.truth == lake / "truth"
    for entity in landing.ENTITIES:
        assert summary.records[entity] == len(raw_lines(lake, entity)), entity
    manifest = json.loads((lake / "truth" / "manifest.json").read_text())
    assert manifest["records"] == summary.records
    assert manifest["seed"] == 11 and manifest["arguments"]["customers"] == 300
    assert manifest["start_date"] == "2024-12-31" and manifest["end_date"] == "2025-12-31"
    rows = dirty_rows(lake)
    assert Counter(r["kind"] for r in rows) == Counter(summary.dirty)
    assert sum(manifest["dirty"].values()) == len(rows)
    assert len(read_jsonl(lake / "truth" / "customers.jsonl")) == 300
    assert summary.records[landing.EVENTS] > 300 * 25  # ~40 events per customer and year
    assert summary.seconds > 0


def test_progress_and_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger="lakegen"):
        generate_lake(tmp_path, customers=30, seed=1, days=14, workers=1, progress=lines.append)
    assert any(line.startswith("customers 1-30 of 30 written") for line in lines)
    assert any("customers 1-30" in rec.getMessage() for rec in caplog.records)


# --- good records follow the contract -----------------------------------------------------


def test_good_lines_parse_and_follow_the_contract(small_lake) -> None:
    lake, _ = small_lake
    customers = good_records(lake, landing.CUSTOMERS)
    products = good_records(lake, landing.PRODUCTS)
    customer_ids = {c["customer_id"] for c in customers}
    product_ids = {p["product_id"] for p in products}
    assert len(customer_ids) == 300 and len(product_ids) == 200

    for c in customers:
        assert re.fullmatch(ID_PATTERN[landing.CUSTOMERS], c["customer_id"])
        assert c["country"].strip().upper() in landing.COUNTRIES
        assert c["marketing_opt_in"] in ("true", "false")
        assert date(1940, 1, 1) <= date.fromisoformat(c["birth_date"]) <= date(2008, 12, 31)
        assert ts(c["updated_at"]) >= ts(c["signup_at"])
    for p in products:
        assert re.fullmatch(ID_PATTERN[landing.PRODUCTS], p["product_id"])
        assert len(p["category_path"].split(landing.CATEGORY_SEPARATOR)) == 3
        assert p["currency"] == "EUR" and p["available"] in ("true", "false")
        assert 0 < float(p["price"]) <= 10_000
        ts(p["updated_at"])
    assert (
        6 <= len({p["category_path"].split(landing.CATEGORY_SEPARATOR)[0] for p in products}) <= 8
    )

    for entity in landing.JSON_ENTITIES:
        bad = fresh_bad_keys(lake, entity)
        n = 0
        for _, raw in raw_lines(lake, entity):
            if line_id(entity, raw) in bad:
                continue
            n += 1
            assert json_violations(entity, raw, customer_ids, product_ids) == set(), raw
            record = json.loads(raw)
            keys = list(record)
            assert keys == [f for f in landing.FIELDS[entity] if f in keys], "contract field order"
            assert None not in record.values()
            assert re.fullmatch(ID_PATTERN[entity], record[ID_FIELD[entity]])
            assert ts(record["sent_at"]) >= ts(record["ts"])
        assert n > 0


def test_event_semantics(small_lake) -> None:
    lake, _ = small_lake
    country = {
        c["customer_id"]: c["country"].strip().upper()
        for c in good_records(lake, landing.CUSTOMERS)
    }
    catalog = catalog_prices(lake)
    currency = {"GB": "GBP", "US": "USD"}
    purchased = set()
    for e in good_records(lake, landing.EVENTS):
        assert e["event_type"] in landing.EVENT_TYPES
        assert e["device"] in landing.DEVICES and e["channel"] in landing.CHANNELS
        assert e["session_id"].startswith("S")
        if e["event_type"] == "search":
            assert e["query"] and "product_id" not in e and "price" not in e
            continue
        assert e["event_type"] in landing.PRODUCT_EVENT_TYPES
        assert e["currency"] == currency.get(country[e["customer_id"]], "EUR")
        eur = e["price"] * landing.REFERENCE_FX_TO_EUR[e["currency"]]
        # Never above the catalog price; at most 50% off (a re-sent correction may cut
        # another 20%).
        assert 0.39 * catalog[e["product_id"]] <= eur <= catalog[e["product_id"]] + 0.01
        if e["event_type"] in landing.ORDER_EVENT_TYPES:
            assert e["order_id"].startswith("O") and 1 <= e["quantity"] <= 20
        if e["event_type"] == "purchase":
            purchased.add((e["customer_id"], e["order_id"], e["product_id"]))
        if e["event_type"] == "return":
            assert (e["customer_id"], e["order_id"], e["product_id"]) in purchased
    assert purchased


def test_times_respect_window_signup_and_churn(small_lake) -> None:
    lake, _ = small_lake
    truth = {t["customer_id"]: t for t in read_jsonl(lake / "truth" / "customers.jsonl")}
    crm = {c["customer_id"]: c for c in good_records(lake, landing.CUSTOMERS)}
    bought: dict[tuple[str, str], datetime] = {}
    for e in good_records(lake, landing.EVENTS):
        when = ts(e["ts"])
        t = truth[e["customer_id"]]
        assert WINDOW_START <= when < WINDOW_END
        assert when >= ts(crm[e["customer_id"]]["signup_at"])
        if t["churn_date"] is not None:
            churn = datetime.combine(date.fromisoformat(t["churn_date"]), datetime.min.time(), UTC)
            assert when < churn
        if e["event_type"] == "purchase":
            bought.setdefault((e["customer_id"], e["product_id"]), when)
    for r in good_records(lake, landing.REVIEWS):
        when = ts(r["ts"])
        assert WINDOW_START <= when < WINDOW_END
        assert bought[(r["customer_id"], r["product_id"])] < when
    # The window has new customers and some churners.
    assert any(ts(c["signup_at"]) > WINDOW_START for c in crm.values())
    assert any(t["churned_by_end"] for t in truth.values())


# --- dirty records ------------------------------------------------------------------------


def test_every_kind_appears_breaks_only_its_rule_and_is_findable(dirty_lake) -> None:
    lake, _ = dirty_lake
    rows = dirty_rows(lake)
    kinds: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        kinds[r["entity"]].add(r["kind"])
        assert r["expected_rule"] == landing.DIRTY_KINDS[r["kind"]]
        assert re.fullmatch(ID_PATTERN[r["entity"]], r["key"]), r
    assert dict(kinds) == EXPECTED_KINDS

    customer_ids = {c["customer_id"] for c in good_records(lake, landing.CUSTOMERS)}
    product_ids = {p["product_id"] for p in good_records(lake, landing.PRODUCTS)}
    by_id: dict[str, dict[str, list[tuple[str, bytes]]]] = {}
    for entity in landing.ENTITIES:
        by_id[entity] = defaultdict(list)
        for rel, raw in raw_lines(lake, entity):
            by_id[entity][line_id(entity, raw)].append((rel, raw))
    for r in rows:
        entity, key, kind = r["entity"], r["key"], r["kind"]
        found = by_id[entity][key]
        assert found and all(rel == r["file"] for rel, _ in found), r
        if kind in ("exact_duplicate", "resent_changed"):
            assert len(found) >= 2, r
            if kind == "exact_duplicate":
                assert len({raw for _, raw in found}) < len(found)
            continue
        assert len(found) == 1, r  # fresh id
        assert key not in customer_ids | product_ids
        raw = found[0][1]
        if entity == landing.CUSTOMERS:
            assert csv_violations(raw) == {r["expected_rule"]}, (r, raw)
        else:
            assert json_violations(entity, raw, customer_ids, product_ids) == {
                r["expected_rule"]
            }, (r, raw[:300])


def test_resent_records_carry_the_latest_values(dirty_lake) -> None:
    lake, _ = dirty_lake
    order_field = {landing.EVENTS: "sent_at", landing.REVIEWS: "sent_at"}
    order_field |= {landing.CUSTOMERS: "updated_at", landing.PRODUCTS: "updated_at"}
    checked = Counter()
    records: dict[str, dict[str, list[dict]]] = {}
    for entity in landing.ENTITIES:
        records[entity] = defaultdict(list)
        for rec in good_records(lake, entity):
            records[entity][rec[ID_FIELD[entity]]].append(rec)
    for r in dirty_rows(lake):
        if r["kind"] != "resent_changed":
            continue
        versions = records[r["entity"]][r["key"]]
        assert len(versions) >= 2
        latest = max(versions, key=lambda v: ts(v[order_field[r["entity"]]]))
        assert latest == versions[-1]  # written after the original
        assert {k: latest[k] for k in r["expected"]} == r["expected"]
        assert any(v[k] != r["expected"][k] for v in versions[:-1] for k in r["expected"])
        checked[r["entity"]] += 1
    assert set(checked) == set(landing.ENTITIES)


def test_dirty_share_is_close_to_the_rate(dirty_lake, small_lake) -> None:
    for (lake, summary), rate in ((dirty_lake, 0.3), (small_lake, 0.02)):
        per_entity = Counter(r["entity"] for r in dirty_rows(lake))
        for entity in (landing.EVENTS, landing.CUSTOMERS):
            bad = per_entity[entity]
            good = summary.records[entity] - bad
            share = bad / good
            tolerance = 4 * math.sqrt(rate * (1 - rate) / good) + 0.002
            assert abs(share - rate) < tolerance, (entity, share, rate)


# --- realism ------------------------------------------------------------------------------

POSITIVE = {"love", "great", "excellent", "perfect", "recommend", "happy", "amazing",
            "brilliant", "fantastic", "superb"}  # fmt: skip
NEGATIVE = {"disappointed", "disappointing", "terrible", "poor", "waste", "avoid", "awful",
            "returning", "rubbish", "worst"}  # fmt: skip


def test_review_texts_carry_rating_signal(dirty_lake) -> None:
    lake, _ = dirty_lake
    reviews = good_records(lake, landing.REVIEWS)
    assert len(reviews) > 300
    ratings = Counter(r["rating"] for r in reviews)
    assert ratings[5] > ratings[3] and ratings[5] > ratings[1]  # skewed positive
    assert set(ratings) == {1, 2, 3, 4, 5}
    pos_mean, neg_mean, scores = [], [], []
    for r in reviews:
        text = f"{r.get('title', '')} {r['text']}"
        assert len(r["text"]) <= 2_000 and "<" not in text and ">" not in text
        words = set(re.findall(r"[a-z]+", text.lower()))
        p, n = len(words & POSITIVE), len(words & NEGATIVE)
        scores.append((p - n, r["rating"]))
        if p and not n:
            pos_mean.append(r["rating"])
        if n and not p:
            neg_mean.append(r["rating"])
    assert sum(pos_mean) / len(pos_mean) > sum(neg_mean) / len(neg_mean) + 1.5
    xs, ys = zip(*scores, strict=True)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in scores)
    corr = cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
    assert corr > 0.4
    texts = [r["text"] for r in reviews]
    assert len(set(texts)) > 0.9 * len(texts)  # real variety, not a few fixed strings
    vocabulary = {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}
    assert len(vocabulary) > 600
    lengths = [t.count(". ") + 1 for t in texts]
    assert min(lengths) == 1 and max(lengths) >= 6


def test_archetypes_behave_differently(dirty_lake) -> None:
    lake, _ = dirty_lake
    truth = {t["customer_id"]: t for t in read_jsonl(lake / "truth" / "customers.jsonl")}
    assert len({t["archetype"] for t in truth.values()}) >= 5
    counts: dict[str, Counter] = defaultdict(Counter)
    catalog = catalog_prices(lake)
    top = {p["product_id"]: p["category_path"].split(" > ")[0]
           for p in good_records(lake, landing.PRODUCTS)}  # fmt: skip
    for e in good_records(lake, landing.EVENTS):
        arch = truth[e["customer_id"]]["archetype"]
        counts[arch][e["event_type"]] += 1
        counts[arch]["event"] += 1
        counts[arch]["gift_season"] += ts(e["ts"]).month >= 11
        if e["event_type"] == "purchase":
            paid = e["price"] * landing.REFERENCE_FX_TO_EUR[e["currency"]]
            counts[arch]["discounted"] += paid < catalog[e["product_id"]] - 0.02
            counts[arch]["grocery"] += top.get(e["product_id"]) == "Grocery"

    def ratio(arch: str, num: str, den: str) -> float:
        return counts[arch][num] / counts[arch][den]

    assert ratio("window_shopper", "purchase", "view") < 0.3 * ratio("champion", "purchase", "view")
    assert ratio("bargain_hunter", "discounted", "purchase") > 2 * ratio(
        "champion", "discounted", "purchase"
    )
    # Generator 1.1: returns, favourite categories and season differ by archetype too.
    assert ratio("new_explorer", "return", "purchase") > 2 * ratio("champion", "return", "purchase")
    assert ratio("bargain_hunter", "grocery", "purchase") > 2 * ratio(
        "champion", "grocery", "purchase"
    )
    assert ratio("occasional", "gift_season", "event") > 2 * ratio("loyal", "gift_season", "event")
    per_customer = Counter(t["archetype"] for t in truth.values())
    assert (
        counts["champion"]["purchase"] / per_customer["champion"]
        > 3 * counts["occasional"]["purchase"] / per_customer["occasional"]
    )
    # Hidden future: churned customers buy nothing; the future follows the past.
    for t in truth.values():
        assert 0 <= t["future_purchases_30d"] <= t["future_purchases_90d"]
        assert t["future_purchases_90d"] <= t["future_purchases_365d"]
        if t["churned_by_end"]:
            assert t["future_purchases_365d"] == 0 and t["archetype"] == "lapsing"
    pairs = [(t["orders_in_window"], t["future_purchases_365d"]) for t in truth.values()]
    xs, ys = zip(*pairs, strict=True)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in pairs)
    assert cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) > 0.4


def test_weekend_and_evening_seasonality(small_lake) -> None:
    lake, _ = small_lake
    by_weekday, by_hour = Counter(), Counter()
    for e in good_records(lake, landing.EVENTS):
        local = ts(e["ts"])
        by_weekday[local.weekday()] += 1
        by_hour[local.hour] += 1
    assert (by_weekday[5] + by_weekday[6]) / 2 > 1.1 * sum(by_weekday[d] for d in range(5)) / 5
    assert sum(by_hour[h] for h in (19, 20, 21)) > 3 * sum(by_hour[h] for h in (2, 3, 4))


def test_crm_has_benign_messiness(dirty_lake) -> None:
    lake, _ = dirty_lake
    customers = good_records(lake, landing.CUSTOMERS)
    emails = [c["email"] for c in customers]
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)
    assert any(c["country"] not in landing.COUNTRIES for c in customers)
    offsets = {c["signup_at"][19:] for c in customers}
    assert {"Z", "+01:00", "+02:00"} <= offsets and any(o.startswith("-0") for o in offsets)
    assert any(not c["first_name"].isascii() for c in customers)


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"customers": 0}, "customers"),
        ({"customers": True}, "customers"),
        ({"days": 6}, "days"),
        ({"dirty_rate": 0.51}, "dirty_rate"),
        ({"dirty_rate": -0.1}, "dirty_rate"),
        ({"dirty_rate": float("nan")}, "dirty_rate"),
        ({"seed": "7"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"end_date": "2025-12-31"}, "end_date"),
        ({"workers": 0}, "workers"),
        ({"review_factor": 0}, "review_factor"),
        ({"review_factor": -1.0}, "review_factor"),
        ({"review_factor": float("nan")}, "review_factor"),
        ({"review_factor": True}, "review_factor"),
        ({"review_factor": 10.5}, "review_factor"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, overrides: dict, name: str) -> None:
    args = {"customers": 10, "seed": 1, "days": 30, "dirty_rate": 0.02} | overrides
    with pytest.raises(ValueError, match=name):
        generate_lake(tmp_path, **args)
    assert not (tmp_path / "landing").exists()


def test_review_factor_gives_more_reviews_per_customer(tmp_path: Path) -> None:
    base = generate_lake(tmp_path / "base", customers=1000, seed=5, workers=1)
    more = generate_lake(tmp_path / "more", customers=1000, seed=5, workers=1, review_factor=4)
    # Each purchased item's chance is multiplied by 4, capped at certainty: about 3x as many.
    assert 2.5 < more.records[landing.REVIEWS] / base.records[landing.REVIEWS] < 4.0
    assert more.records[landing.EVENTS] == pytest.approx(base.records[landing.EVENTS], rel=0.1)
    manifest = json.loads((tmp_path / "more" / "truth" / "manifest.json").read_text())
    assert manifest["arguments"]["review_factor"] == 4


def test_refuses_a_landing_folder_that_has_files(tmp_path: Path) -> None:
    generate_lake(tmp_path, customers=5, seed=1, days=7, workers=1)
    with pytest.raises(FileExistsError, match=re.escape(str(tmp_path / "landing"))):
        generate_lake(tmp_path, customers=5, seed=2, days=7, workers=1)
    other = tmp_path / "other"
    (other / "landing" / "events").mkdir(parents=True)
    (other / "landing" / "events" / "old.jsonl").write_text("{}\n")
    with pytest.raises(FileExistsError, match="landing"):
        generate_lake(other, customers=5, seed=1, days=7, workers=1)
    # An empty landing folder is fine.
    empty = tmp_path / "empty"
    (empty / "landing" / "events").mkdir(parents=True)
    assert (
        generate_lake(empty, customers=5, seed=1, days=7, workers=1).records[landing.CUSTOMERS] >= 5
    )


def test_short_window_and_other_end_date(tmp_path: Path) -> None:
    end = date(2024, 6, 30)
    summary = generate_lake(tmp_path, customers=40, seed=9, days=7, end_date=end, workers=1)
    start = datetime.combine(end - timedelta(days=7), datetime.min.time(), UTC)
    stop = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    events = good_records(tmp_path, landing.EVENTS)
    assert events and summary.records[landing.EVENTS] >= len(events)
    assert all(start <= ts(e["ts"]) < stop for e in events)


def _imports_of_the_generator(tree: ast.Module) -> list[str | None]:
    """The enclosing function (None: module level) of each import of lakegen in a module."""
    found: list[str | None] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import):
                modules = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and not child.level:
                modules = [child.module or ""]
            else:
                modules = []
            if any(m.split(".")[0] == "lakegen" for m in modules):
                found.append(function)
            visit(child, function)

    visit(tree, None)
    return found


def test_the_production_package_imports_the_generator_only_in_its_command() -> None:
    """The wheel ships insight/ without lakegen: only `insight generate` imports it, inside
    the command, so every other command and job runs where it is not installed."""
    root = Path(__file__).resolve().parents[1] / "insight"
    importers = {
        str(path.relative_to(root.parent)): functions
        for path in sorted(root.rglob("*.py"))
        if (functions := _imports_of_the_generator(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert importers == {"insight/cli.py": ["_generate"]}


# --- review languages ---------------------------------------------------------------------

HAN = re.compile(r"[\u4e00-\u9fff]")
# Words of a Chinese complaint and of Chinese praise (a text may hold both: "价格不贵").
ZH_COMPLAINTS = ("差", "失望", "退货", "垃圾", "后悔", "别买", "避雷", "坑", "不值", "不太",
                 "不推荐", "不会再买")  # fmt: skip
ZH_PRAISE = ("好评", "喜欢", "超赞", "爱了", "完美", "强烈推荐", "五星", "满意", "推荐", "不错",
             "棒", "值得")  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "shares"),
    [
        ("en", {"en": 1.0}),
        ("en,zh", {"en": 0.5, "zh": 0.5}),
        ("zh", {"zh": 1.0}),
        ("en=0.7,zh=0.3", {"en": 0.7, "zh": 0.3}),
        (" ZH = 0.25 , en=0.75 ", {"zh": 0.25, "en": 0.75}),
        ("en=0.33,zh=0.66", {"en": 1 / 3, "zh": 2 / 3}),  # hand-rounded shares, normalised
    ],
)
def test_languages_parse(spec: str, shares: dict[str, float]) -> None:
    parsed = parse_languages(spec)
    assert list(parsed) == list(shares)
    assert parsed == pytest.approx(shares)


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("en,fr", "'fr'"),
        ("en=0.7,zh=0.2", "sums to 0.9"),
        ("en=0.7,zh=0.7", "sums to 1.4"),
        ("en=-0.5,zh=1.5", "got -0.5"),
        ("en=0,zh=1", "share of 'en' must be a number > 0"),
        ("en=abc,zh=1", "'abc'"),
        ("en,zh=0.5", "en has none"),
        ("en,en", "'en' given twice"),
        ("en,,zh", "empty language"),
        ("", "empty language"),
    ],
)
def test_bad_languages_are_rejected_naming_the_value(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        parse_languages(spec)


@pytest.mark.parametrize(
    "languages", [{"fr": 1.0}, {"en": 0.5, "zh": 0.2}, {"en": 1.5, "zh": -0.5}, {}, "en,zh"]
)
def test_generate_lake_rejects_bad_languages(tmp_path: Path, languages: object) -> None:
    with pytest.raises(ValueError, match="languages"):
        generate_lake(tmp_path, customers=5, seed=1, days=7, workers=1, languages=languages)
    assert not (tmp_path / "landing").exists()


def test_the_command_takes_languages_and_names_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--help"])
    assert exc.value.code == 0
    assert "--languages" in capsys.readouterr().out
    argv = ["generate", "--lake", str(tmp_path), "--customers", "5", "--seed", "1", "--days", "7"]
    assert main([*argv, "--languages", "en,xx"]) == 2
    assert "unknown language code 'xx'" in caplog.text
    assert main([*argv, "--languages", "en=0.9,zh=0.3"]) == 2
    assert "sums to 1.2" in caplog.text
    assert not (tmp_path / "landing").exists()
    assert main([*argv, "--workers", "1", "--languages", "en=0.5,zh=0.5"]) == 0
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["arguments"]["languages"] == {"en": 0.5, "zh": 0.5}


def test_an_english_only_shop_is_the_default_lake(tmp_path: Path, small_lake) -> None:
    """Naming English alone draws nothing: the bytes of the lake generated without it."""
    lake, _ = small_lake
    generate_lake(tmp_path, customers=300, seed=11, workers=1, languages={"en": 1.0})
    assert tree_bytes(tmp_path) == tree_bytes(lake)


def test_a_mixed_shop_is_the_english_shop_with_some_texts_in_chinese(
    tmp_path: Path, small_lake
) -> None:
    """Languages are drawn from their own RNG: the same customers, events and ratings."""
    lake, _ = small_lake
    generate_lake(tmp_path, customers=300, seed=11, workers=1, languages={"en": 0.6, "zh": 0.4})
    english, mixed = tree_bytes(lake), tree_bytes(tmp_path)
    for entity in (landing.CUSTOMERS, landing.PRODUCTS, landing.EVENTS):
        files = [k for k in english if k.startswith(f"landing/{entity}/")]
        assert files and all(english[k] == mixed[k] for k in files), entity
    before = good_records(lake, landing.REVIEWS)
    after = good_records(tmp_path, landing.REVIEWS)
    keys = ("review_id", "customer_id", "product_id", "rating", "ts")
    assert [[r[k] for k in keys] for r in after] == [[r[k] for k in keys] for r in before]
    changed = [a for a, b in zip(after, before, strict=True) if a["text"] != b["text"]]
    assert all(HAN.search(r["text"]) for r in changed)
    assert 0.3 < len(changed) / len(after) < 0.5


@pytest.fixture(scope="module")
def mixed_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], dict]:
    """A mixed shop with many reviews, its good reviews and products by id."""
    lake = tmp_path_factory.mktemp("mixed")
    generate_lake(
        lake, customers=1000, seed=4, review_factor=3, workers=1, languages={"en": 0.7, "zh": 0.3}
    )
    products = {p["product_id"]: p for p in good_records(lake, landing.PRODUCTS)}
    return lake, good_records(lake, landing.REVIEWS), products


def test_mixed_shop_reviews_are_in_both_scripts_at_the_shares_asked(mixed_lake) -> None:
    _, reviews, _ = mixed_lake
    assert len(reviews) > 2000
    chinese = [r for r in reviews if HAN.search(r["text"])]
    assert 0.26 < len(chinese) / len(reviews) < 0.34
    english = [r for r in reviews if not HAN.search(r["text"])]
    assert all(re.search(r"[A-Za-z]{3}", r["text"]) for r in english)
    # Chinese reviews are rated as the English ones are (the ratings are the same draws).
    share = {
        rating: sum(r["rating"] == rating for r in chinese) / len(chinese) for rating in (1, 5)
    }
    assert share[5] > 0.4 and 0.03 < share[1] < 0.2


def test_chinese_reviews_are_worded_as_rated(mixed_lake) -> None:
    _, reviews, _ = mixed_lake
    chinese = [r for r in reviews if HAN.search(r["text"])]

    def share_with(words: tuple[str, ...], rating: int) -> float:
        rated = [f"{r.get('title', '')} {r['text']}" for r in chinese if r["rating"] == rating]
        assert len(rated) > 40, rating
        return sum(any(w in t for w in words) for t in rated) / len(rated)

    assert share_with(ZH_COMPLAINTS, 1) > 0.7 and share_with(ZH_COMPLAINTS, 5) < 0.15
    assert share_with(ZH_PRAISE, 5) > 0.6 and share_with(ZH_PRAISE, 1) < 0.1
    texts = [r["text"] for r in chinese]
    assert len(set(texts)) > 0.75 * len(texts)  # combinatorial, not a few fixed strings
    bigrams = {t[i : i + 2] for t in texts for i in range(len(t) - 1) if HAN.fullmatch(t[i])}
    assert len(bigrams) > 800


def test_chinese_reviews_name_the_product_and_include_short_and_mixed_texts(mixed_lake) -> None:
    _, reviews, products = mixed_lake
    chinese = [r for r in reviews if HAN.search(r["text"])]
    assert all(r["text"].strip() for r in reviews)
    # Titles are Chinese too, most reviews have one.
    titles = [r["title"] for r in chinese if "title" in r]
    assert len(titles) > 0.8 * len(chinese) and all(HAN.search(t) for t in titles)
    # A few characters, sometimes an emoji, never without a Chinese character to read.
    short = [r["text"] for r in chinese if len(r["text"]) <= 6]
    assert 0.05 < len(short) / len(chinese) < 0.25
    assert any(ord(c) >= 0x1F300 for t in short for c in t)  # emoji
    # Some mix in English words (beyond the Latin brand names).
    mixed = [
        r
        for r in chinese
        if re.search(r"[A-Za-z]{2,}", r["text"].replace(products[r["product_id"]]["brand"], ""))
    ]
    assert 0.03 < len(mixed) / len(chinese) < 0.2
    # Longer reviews talk about the product: its Chinese noun or what its buyers discuss.
    longer = [r for r in chinese if len(r["text"]) > 20]
    named = sum(
        any(w in r["text"] for w in zh_topic_words(products[r["product_id"]]["category_path"]))
        for r in longer
    )
    assert named > 0.8 * len(longer)


def zh_topic_words(category: str) -> set[str]:
    """The product's Chinese noun and the aspects its Chinese reviewers discuss."""
    top, mid, leaf = category.split(landing.CATEGORY_SEPARATOR)
    aspects = text_zh.MID_ASPECTS.get(mid, ()) + text_zh.TOP_ASPECTS[top]
    return {text_zh.NOUNS[leaf]} | {a.noun for a in aspects}


def test_every_category_has_a_chinese_noun() -> None:
    leaves = {leaf for mids in TAXONOMY.values() for items in mids.values() for leaf, *_ in items}
    assert set(text_zh.NOUNS) == leaves
