import hashlib
import hmac
from datetime import date, datetime

from insight import columns as C
from insight.clean.entities import (
    SPECS,
    normalise_customers,
    normalise_products,
    rule_params,
    to_base_currency,
    to_quarantine,
    with_known_flag,
)

SALT = b"unit-test-salt-0123456789"
FX = {"EUR": 1.0, "USD": 0.5}


def test_currency_conversion_uses_the_rate_and_nulls_unknown_currencies(spark):
    df = spark.createDataFrame([(10.0, "USD"), (10.0, "EUR"), (10.0, "XXX")], "p double, c string")
    got = [r[0] for r in df.select(to_base_currency(df.p, df.c, FX)).collect()]
    assert got == [5.0, 10.0, None]


def test_customers_are_pseudonymised_on_normalised_values(spark):
    df = spark.createDataFrame(
        [("C1", "Anna.Muller@Example.COM", "0049 30 123-45", "de")],
        "customer_id string, email string, phone string, country string",
    )
    row = df.transform(normalise_customers, salt=SALT).first()
    want = [hmac.new(SALT, v.encode(), hashlib.sha256).hexdigest()
            for v in ("C1", "anna.muller@example.com", "+493012345")]  # fmt: skip
    assert [row[C.CUSTOMER_KEY], row[C.EMAIL_HASH], row[C.PHONE_HASH]] == want
    assert row.country == "DE"


def test_category_path_is_split_into_levels(spark):
    df = spark.createDataFrame(
        [("Electronics > Audio > Headphones", 10.0, "usd")],
        "category_path string, price double, currency string",
    )
    row = df.transform(normalise_products, fx_to_base=FX).first()
    assert (row.category_l1, row.category_l2, row.category_l3) == (
        "Electronics",
        "Audio",
        "Headphones",
    )
    assert row.list_price == 5.0 and row.currency == "USD"


def test_known_flag_is_true_false_or_null_for_a_missing_key(spark):
    df = spark.createDataFrame([("k1",), ("k9",), (None,)], "customer_key string")
    ref = spark.createDataFrame([("k1",), ("k1",)], "customer_key string")
    got = dict(df.transform(with_known_flag, ref, key="customer_key", flag="known").collect())
    assert got == {"k1": True, "k9": False, None: None}


def test_quarantine_keeps_raw_lines_except_raw_crm_pii(spark):
    base = [("k1", ["parseable"], "parseable: bad", "raw line", "b1", "f1")]
    schema = (
        "{key} string, failed_rules array<string>, reason string, "
        "_raw string, _batch_id string, _source_file string"
    )
    kw = dict(run_id="r1", as_of=date(2025, 1, 1), quarantined_at=datetime(2025, 1, 2))
    events = spark.createDataFrame(base, schema.format(key="event_id"))
    customers = spark.createDataFrame(base, schema.format(key="customer_key"))
    ev = events.transform(to_quarantine, SPECS["events"], **kw).first()
    cu = customers.transform(to_quarantine, SPECS["customers"], **kw).first()
    assert (ev.record_key, ev._raw, ev.failed_rules) == ("k1", "raw line", ["parseable"])
    assert cu._raw is None and cu.raw_sha256 == ev.raw_sha256 and len(cu.raw_sha256) == 64


def test_time_window_ends_with_the_as_of_day():
    p = rule_params(
        as_of=date(2025, 12, 31), max_history_days=10, max_price=1.0, max_quantity=1,
        max_text_length=1, min_birth_year=1900, min_age_years=13, currencies=["EUR"],
    )  # fmt: skip
    assert p["max_ts"] == datetime(2026, 1, 1) and p["min_ts"] == datetime(2025, 12, 22)
    assert p["max_birth_date"] == date(2012, 12, 28)
