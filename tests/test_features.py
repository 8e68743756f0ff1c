"""Customer features on hand-built frames (point in time, RFM quintiles, defaults for odd
customers and odd dates, window boundaries, sessions, carts, returns and reviews worked
out by hand), and the features job end to end on a generated lake."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from insight import columns as C
from insight import landing, tables
from insight.features import columns as FC
from insight.features import compute
from insight.features.schemas import CUSTOMER_FEATURES, CUSTOMER_FEATURES_SCHEMA

AS_OF = date(2025, 6, 30)
SIGNUP = datetime(2025, 1, 1, 9, 0)

EVENTS = (
    f"{C.EVENT_ID} string, {C.EVENT_TYPE} string, {C.EVENT_TS} timestamp, {C.EVENT_DATE} date, "
    f"{C.CUSTOMER_KEY} string, {C.SESSION_ID} string, {C.ORDER_ID} string, {C.PRODUCT_ID} string, "
    f"{C.UNIT_PRICE} double, {C.QUANTITY} int, {C.AMOUNT} double, {C.DEVICE} string, "
    f"{C.CHANNEL} string"
)
CUSTOMERS = f"{C.CUSTOMER_KEY} string, {C.SIGNUP_AT} timestamp"
PRODUCTS = f"{C.PRODUCT_ID} string, {C.CATEGORY_L1} string"
INSIGHTS = (
    f"{C.CUSTOMER_KEY} string, {C.REVIEW_DATE} date, {C.SENTIMENT} string, "
    f"{C.SENTIMENT_SCORE} double"
)
CATALOG = [("P1", "Home"), ("P2", "Toys"), ("P3", "Garden")]

_ids = count(1)


def utc(ts: datetime) -> datetime:
    """Aware UTC, so the test does not depend on the machine's time zone."""
    return ts.replace(tzinfo=UTC)


def ev(cust, kind, ts, session, *, order=None, product=None, price=None, qty=None,
       device="desktop", channel="web"):  # fmt: skip
    """One silver event; amount = price * quantity, as clean computes it."""
    amount = price * qty if price is not None and qty is not None else None
    return (f"E{next(_ids):05d}", kind, utc(ts), ts.date(), cust, session, order, product,
            price, qty, amount, device, channel)  # fmt: skip


def frames(spark, customers, events, insights=None):
    return (
        spark.createDataFrame([(k, utc(s) if s else None) for k, s in customers], CUSTOMERS),
        spark.createDataFrame(events, EVENTS),
        spark.createDataFrame(CATALOG, PRODUCTS),
        None if insights is None else spark.createDataFrame(insights, INSIGHTS),
    )


def features(spark, customers, events, insights=None, as_of=AS_OF):
    return compute.customer_features(*frames(spark, customers, events, insights), as_of)


def by_key(df) -> dict:
    return {r[C.CUSTOMER_KEY]: r.asDict() for r in df.collect()}


def assert_defined(rows) -> None:
    """No null, NaN or infinity anywhere, map values included."""
    for row in rows:
        for name, value in row.items():
            assert value is not None, (row[C.CUSTOMER_KEY], name)
            for v in value.values() if isinstance(value, dict) else [value]:
                assert not isinstance(v, float) or math.isfinite(v), (row[C.CUSTOMER_KEY], name)


def pick(row: dict, *names: str) -> tuple:
    return tuple(row[n] for n in names)


def at(day: date, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss)


# -- point in time --------------------------------------------------------------------


def pit_events(late: bool) -> list:
    d = date(2025, 6, 20)
    rows = [
        ev("A", "view", at(d, 10), "sA1", product="P1", price=10.0),
        ev("A", "add_to_cart", at(d, 10, 2), "sA1", product="P1", price=10.0, qty=2),
        ev("A", "purchase", at(d, 10, 5), "sA1", order="oA1", product="P1", price=10.0, qty=2),
        ev("B", "purchase", at(date(2025, 5, 2), 8), "sB1", order="oB1", product="P2",
           price=30.0, qty=1, channel="app", device="mobile"),
        ev("B", "return", at(date(2025, 6, 3), 8), "rB1", order="oB1", product="P2",
           price=30.0, qty=1),
        ev("C", "view", at(AS_OF, 23, 59, 59), "sC1", product="P3", price=5.0),
        # A session that starts on the as_of day and ends after it.
        ev("A", "add_to_cart", at(AS_OF, 23, 50), "sA2", product="P3", price=5.0, qty=1),
    ]  # fmt: skip
    if late:
        nxt = AS_OF + timedelta(days=1)
        rows += [
            ev("A", "purchase", at(nxt, 0, 5), "sA2", order="oA2", product="P3", price=5.0,
               qty=1),
            ev("A", "return", at(nxt + timedelta(days=1), 9), "rA1", order="oA1",
               product="P1", price=10.0, qty=2),
            ev("B", "purchase", at(nxt), "sB2", order="oB2", product="P1", price=10.0, qty=3,
               channel="email"),
            ev("C", "view", at(nxt, 0, 0, 1), "sC1", product="P2", price=30.0),
            ev("D", "view", at(nxt, 12), "sD1", product="P2", price=30.0),
        ]  # fmt: skip
    return rows


def pit_customers(late: bool) -> list:
    rows = [("A", SIGNUP), ("B", SIGNUP), ("C", datetime(2025, 6, 29, 18))]
    return rows + ([("D", datetime(2025, 7, 1, 11))] if late else [])


def pit_insights(late: bool) -> list:
    rows = [("A", date(2025, 6, 25), "positive", 0.7)]
    return rows + ([("A", date(2025, 7, 1), "negative", -0.9)] if late else [])


def test_data_after_as_of_changes_nothing(spark):
    def run(late: bool, as_of: date):
        return features(spark, pit_customers(late), pit_events(late), pit_insights(late), as_of)

    before = run(False, AS_OF)
    assertDataFrameEqual(run(True, AS_OF), before)
    assert sorted(by_key(before)) == ["A", "B", "C"]  # D signed up after as_of
    # The later rows are not inert: a day later they change the features.
    nxt = AS_OF + timedelta(days=1)
    with pytest.raises(AssertionError):
        assertDataFrameEqual(run(True, nxt), run(False, nxt))
    a = by_key(before)["A"]
    assert a[FC.CART_SESSIONS] == 2 and a[FC.CART_ABANDONMENT_RATE] == 0.5  # sA2 open at as_of
    assert a[FC.REVIEW_COUNT] == 1 and a[FC.MEAN_SENTIMENT] == 0.7


# -- RFM scores ---------------------------------------------------------------------


def test_rfm_quintile_scores_by_hand(spark):
    rows = [
        # key, recency days, orders, net spend -> expected (R, F, M)
        ("A", 1, 10, 500.0, (5, 5, 5)),
        ("B", 5, 5, 300.0, (5, 5, 5)),
        ("C", 10, 3, 200.0, (4, 4, 4)),
        ("D", 20, 2, 100.0, (3, 3, 3)),
        ("E", 40, 1, 50.0, (1, 1, 2)),
        ("F", 40, 1, -20.0, (1, 1, 1)),  # negative net spend ranks lowest
        ("G", 60, 1, 10.0, (1, 1, 1)),
        ("N1", 100, 0, 0.0, (1, 1, 1)),  # never bought
        ("N2", 30, 0, -30.0, (1, 1, 1)),  # only returns
    ]
    # Seven purchasers: score = 1 + floor(5 * (rank - 1) / 6), capped at 5, ties share the
    # lower rank. Recency (more recent first): G 1, E/F rank 2 -> 1, D rank 4 -> 3, C 4,
    # B 5, A 7 -> 6 -> 5. Monetary: F, G, E, D, C, B, A -> 1, 1, 2, 3, 4, 5, 5.
    df = spark.createDataFrame(
        [r[:4] for r in rows],
        f"{C.CUSTOMER_KEY} string, {FC.RECENCY_DAYS} int, {FC.FREQUENCY} long, "
        f"{FC.MONETARY} double",
    )
    got = {
        r[0]: (r[1], r[2], r[3])
        for r in df.transform(compute.rfm_scores)
        .select(C.CUSTOMER_KEY, FC.RECENCY_SCORE, FC.FREQUENCY_SCORE, FC.MONETARY_SCORE)
        .collect()
    }
    assert got == {r[0]: r[4] for r in rows}

    lone = df.where(F.col(C.CUSTOMER_KEY).isin("A", "N1")).transform(compute.rfm_scores)
    assert {r[C.CUSTOMER_KEY]: r[FC.MONETARY_SCORE] for r in lone.collect()} == {"A": 1, "N1": 1}


# -- odd customers and dates ----------------------------------------------------------


ODD_CUSTOMERS = [
    ("no_events", SIGNUP),
    ("single", SIGNUP),
    ("returns_only", SIGNUP),
    ("negative", SIGNUP),
    ("no_signup", None),
    ("no_signup_events", None),
    ("late_signup", datetime(2025, 7, 15)),
]


def odd_events() -> list:
    return [
        ev("single", "purchase", datetime(2025, 6, 10, 12), "s1", order="o1", product="P1",
           price=10.0, qty=2),
        ev("single", "purchase", datetime(2025, 6, 10, 12), "s1", order="o1", product="P2",
           price=5.0, qty=1),
        # Its purchase was quarantined upstream: only the return reached silver.
        ev("returns_only", "return", datetime(2025, 6, 20), "r1", order="o9", product="P1",
           price=20.0, qty=2),
        ev("negative", "purchase", datetime(2025, 6, 1), "s2", order="o2", product="P3",
           price=10.0, qty=1),
        ev("negative", "return", datetime(2025, 6, 5), "r2", order="o2", product="P3",
           price=30.0, qty=1),
        ev("no_signup_events", "view", datetime(2025, 6, 15), "s3", product="P1", price=10.0),
    ]  # fmt: skip


def test_odd_customers_get_defined_documented_values(spark):
    out = by_key(features(spark, ODD_CUSTOMERS, odd_events()))
    assert set(out) == {k for k, _ in ODD_CUSTOMERS} - {"late_signup"}  # not a customer yet
    assert_defined(out.values())
    assert [f.name for f in CUSTOMER_FEATURES_SCHEMA] == list(out["single"])

    none = out["no_events"]
    assert none[FC.TENURE_DAYS] == 180 and none[FC.RECENCY_DAYS] == 180  # recency = tenure
    zeros = [FC.FREQUENCY, FC.MONETARY, FC.AVG_ORDER_VALUE, FC.RETURN_RATE, FC.EVENTS_TOTAL,
             FC.MEAN_DAYS_BETWEEN_ORDERS, FC.VAR_DAYS_BETWEEN_ORDERS, FC.SESSIONS,
             FC.MEAN_SESSION_MINUTES, FC.CART_ABANDONMENT_RATE, FC.spend_in(30),
             FC.REVIEW_COUNT, FC.MEAN_SENTIMENT, FC.NEGATIVE_REVIEW_SHARE,
             FC.RECENCY_GAP_RATIO, FC.ORDERS_TREND, FC.SPEND_TREND]  # fmt: skip
    assert {k: none[k] for k in zeros} == dict.fromkeys(zeros, 0)
    assert none[FC.CATEGORY_AFFINITY] == {} and none[FC.CHANNEL_MIX] == {}
    assert pick(none, FC.RECENCY_SCORE, FC.FREQUENCY_SCORE, FC.MONETARY_SCORE) == (1, 1, 1)

    single = out["single"]
    assert pick(single, FC.FREQUENCY, FC.MONETARY, FC.AVG_ORDER_VALUE) == (1, 25.0, 25.0)
    assert single[FC.MEAN_DAYS_BETWEEN_ORDERS] == 0.0 and single[FC.VAR_DAYS_BETWEEN_ORDERS] == 0.0
    assert single[FC.RECENCY_DAYS] == 20 and single[FC.ITEMS_PURCHASED] == 3
    assert single[FC.RECENCY_GAP_RATIO] == 0.0  # one order: no rhythm of its own
    assert single[FC.CATEGORY_AFFINITY] == {"Home": 0.8, "Toys": 0.2}
    # Two purchasers: single is more recent and spent more -> 5; tied on one order -> 1.
    assert pick(single, FC.RECENCY_SCORE, FC.FREQUENCY_SCORE, FC.MONETARY_SCORE) == (5, 1, 5)

    ret = out["returns_only"]
    assert (ret[FC.FREQUENCY], ret[FC.MONETARY], ret[FC.ITEMS_RETURNED]) == (0, -40.0, 2)
    assert ret[FC.RETURN_RATE] == 1.0 and ret[FC.AVG_ORDER_VALUE] == 0.0
    assert ret[FC.RECENCY_DAYS] == 180 and ret[FC.MONETARY_SCORE] == 1
    assert ret[FC.CATEGORY_AFFINITY] == {} and ret[FC.SESSIONS] == 1

    neg = out["negative"]
    assert (neg[FC.MONETARY], neg[FC.AVG_ORDER_VALUE], neg[FC.RETURN_RATE]) == (-20.0, 10.0, 1.0)
    assert (neg[FC.RECENCY_SCORE], neg[FC.MONETARY_SCORE]) == (1, 1)

    assert out["no_signup"][FC.TENURE_DAYS] == 0 and out["no_signup"][FC.RECENCY_DAYS] == 0
    assert out["no_signup_events"][FC.TENURE_DAYS] == 15  # from its first event


def test_as_of_before_any_data_keeps_only_undated_customers_with_defaults(spark):
    out = by_key(features(spark, ODD_CUSTOMERS, odd_events(), [], as_of=date(2024, 1, 1)))
    assert set(out) == {"no_signup", "no_signup_events"}  # the event is later: not seen
    assert_defined(out.values())
    for row in out.values():
        assert row[FC.TENURE_DAYS] == 0 and row[FC.EVENTS_TOTAL] == 0
        assert row[FC.FREQUENCY] == 0 and row[FC.CHANNEL_MIX] == {}

    nobody = features(spark, [("x", SIGNUP)], odd_events(), as_of=date(2024, 1, 1))
    assert nobody.collect() == [] and nobody.columns == [f.name for f in CUSTOMER_FEATURES_SCHEMA]


# -- windows, sessions, carts, returns, reviews -----------------------------------------


def bought_back(cust: str, orders: list) -> list:
    """One purchase of one unit of P1 per (days before AS_OF, (h, m, s), price), each its own
    session and order (o<cust><i>)."""
    return [
        ev(cust, "purchase", at(AS_OF - timedelta(days=d), *hms), f"s{cust}{i}",
           order=f"o{cust}{i}", product="P1", price=price, qty=1)
        for i, (d, hms, price) in enumerate(orders)
    ]  # fmt: skip


def test_activity_windows_count_at_their_boundaries(spark):
    days_back = [0, 29, 30, 89, 90, 364, 365]  # purchases of 1, 2, 4, ... 64
    times = [(0, (23, 59, 59)), (29, (0, 0, 0)), (30, (23, 59, 59)), (89, (0, 0, 0)),
             (90, (12, 0, 0)), (364, (0, 0, 0)), (365, (23, 59, 59))]  # fmt: skip
    assert [d for d, _ in times] == days_back
    rows = bought_back("W", [(d, hms, float(2**i)) for i, (d, hms) in enumerate(times)])
    rows += [
        ev("W", "return", at(AS_OF - timedelta(days=10)), "r", order="oW0", product="P1",
           price=0.5, qty=1),
        ev("W", "purchase", at(AS_OF + timedelta(days=1)), "late", order="o9", product="P1",
           price=128.0, qty=1),
    ]  # fmt: skip
    w = by_key(features(spark, [("W", datetime(2024, 1, 1))], rows))["W"]
    got = {k: w[k] for d in FC.WINDOWS_DAYS for k in (FC.events_in(d), FC.orders_in(d),
                                                      FC.spend_in(d))}  # fmt: skip
    assert got == {
        "events_30d": 3, "orders_30d": 2, "spend_30d": 2.5,  # as_of, as_of-29, the return
        "events_90d": 5, "orders_90d": 4, "spend_90d": 14.5,  # + as_of-30, as_of-89
        "events_365d": 7, "orders_365d": 6, "spend_365d": 62.5,  # + as_of-90, as_of-364
    }  # fmt: skip
    assert (w[FC.EVENTS_TOTAL], w[FC.FREQUENCY], w[FC.MONETARY]) == (8, 7, 126.5)
    assert w[FC.RECENCY_DAYS] == 0  # bought on the as_of day


def test_churn_signals_by_hand(spark):
    assert FC.TREND_DAYS == 90  # the days below are chosen for it
    midnight, noon = (0, 0, 0), (12, 0, 0)
    rows = bought_back("T", [(200, midnight, 100.0), (179, midnight, 8.0), (90, midnight, 4.0),
                             (89, midnight, 2.0)])  # fmt: skip
    rows += bought_back("S", [(10, midnight, 3.0), (10, noon, 5.0)])
    # A return in the earlier window lowers that window's net spend.
    rows.append(ev("T", "return", at(AS_OF - timedelta(days=100)), "rT", order="oT1",
                   product="P1", price=1.0, qty=1))  # fmt: skip
    out = by_key(features(spark, [("T", datetime(2024, 1, 1)), ("S", datetime(2024, 1, 1))], rows))
    t, s = out["T"], out["S"]
    # T: recent window (days 0-89 back) has the order of 89 days back; the window before
    # (90-179) the orders of 90 and 179 days back and the return. 200 days back is in neither.
    assert t[FC.ORDERS_TREND] == 1 - 2 and t[FC.SPEND_TREND] == 2.0 - (8.0 + 4.0 - 1.0)
    # Gaps 21, 89 and 1 days (mean 37); 89 days since the last order.
    assert t[FC.RECENCY_GAP_RATIO] == round(89 / 37, 6)
    # S ordered twice on one day, 12 hours apart: a gap under a day counts as one day.
    assert (s[FC.ORDERS_TREND], s[FC.SPEND_TREND]) == (2, 8.0)
    assert s[FC.RECENCY_GAP_RATIO] == 10.0


def test_sessions_carts_returns_and_mixes_by_hand(spark):
    d = date(2025, 6, 1)
    d2, d3, d7 = d + timedelta(days=1), d + timedelta(days=2), d + timedelta(days=6)
    rows = [
        # s1 (10 min, cart, bought): order o1 = 2 x P1 @10 + 1 x P2 @90
        ev("K", "view", at(d, 9, 50), "s1", product="P1", price=10.0),
        ev("K", "add_to_cart", at(d, 9, 52), "s1", product="P1", price=10.0, qty=2),
        ev("K", "add_to_cart", at(d, 9, 54), "s1", product="P2", price=90.0, qty=1),
        ev("K", "purchase", at(d, 10), "s1", order="o1", product="P1", price=10.0, qty=2),
        ev("K", "purchase", at(d, 10), "s1", order="o1", product="P2", price=90.0, qty=1),
        # s2 (4 min, cart abandoned), s3 (view only, unknown channel), s4 (cart abandoned)
        ev("K", "add_to_cart", at(d2, 10), "s2", product="P1", price=10.0, qty=1,
           device="mobile", channel="app"),
        ev("K", "remove_from_cart", at(d2, 10, 4), "s2", product="P1", price=10.0, qty=1,
           device="mobile", channel="app"),
        ev("K", "view", at(d2, 12), "s3", product="P3", price=20.0, channel=None),
        ev("K", "add_to_cart", at(d2, 15), "s4", product="P3", price=20.0, qty=1,
           device="mobile", channel="app"),
        # s5 (6 min): o2 two days after o1; s6 (0 min): o3 four days after o2
        ev("K", "add_to_cart", at(d3, 9, 54), "s5", product="P1", price=10.0, qty=1,
           device="tablet"),
        ev("K", "purchase", at(d3, 10), "s5", order="o2", product="P1", price=10.0, qty=1,
           device="tablet"),
        ev("K", "add_to_cart", at(d7, 10), "s6", product="P3", price=20.0, qty=1,
           channel="email"),
        ev("K", "purchase", at(d7, 10), "s6", order="o3", product="P3", price=20.0, qty=1,
           channel="email"),
        # returns, each its own session: 1 x P1 and 1 x P2 of o1
        ev("K", "return", at(d + timedelta(days=9)), "r1", order="o1", product="P1",
           price=10.0, qty=1),
        ev("K", "return", at(d + timedelta(days=11)), "r2", order="o1", product="P2",
           price=90.0, qty=1, device="mobile", channel="app"),
    ]  # fmt: skip
    k = by_key(features(spark, [("K", SIGNUP)], rows))["K"]
    assert (k[FC.SESSIONS], k[FC.MEAN_SESSION_MINUTES]) == (8, 2.5)  # (10+4+6) / 8
    assert (k[FC.CART_SESSIONS], k[FC.CART_ABANDONMENT_RATE]) == (5, 0.4)  # s2, s4 of 5
    assert (k[FC.ITEMS_PURCHASED], k[FC.ITEMS_RETURNED], k[FC.RETURN_RATE]) == (5, 2, 0.4)
    assert (k[FC.FREQUENCY], k[FC.MONETARY], k[FC.AVG_ORDER_VALUE]) == (3, 40.0, 46.6667)
    assert (k[FC.MEAN_DAYS_BETWEEN_ORDERS], k[FC.VAR_DAYS_BETWEEN_ORDERS]) == (3.0, 1.0)
    assert k[FC.RECENCY_DAYS] == 23 and k[FC.EVENTS_TOTAL] == 15
    # purchase amounts (before returns): Home 30, Toys 90, Garden 20 of 140
    assert k[FC.CATEGORY_AFFINITY] == {"Home": 0.214286, "Toys": 0.642857, "Garden": 0.142857}
    assert k[FC.CHANNEL_MIX] == {"web": 0.533333, "app": 0.266667, "email": 0.133333,
                                 "unknown": 0.066667}  # fmt: skip
    assert k[FC.DEVICE_MIX] == {"desktop": 0.6, "mobile": 0.266667, "tablet": 0.133333}


def test_review_features_count_known_labels_up_to_as_of(spark):
    reviews = [
        ("single", date(2025, 6, 1), "positive", 0.8),
        ("single", date(2025, 6, 10), "unknown", None),  # unreadable text: left out
        ("single", date(2025, 6, 20), "neutral", 0.1),
        ("single", AS_OF, "negative", -0.6),  # on the as_of day: counts
        ("single", AS_OF + timedelta(days=1), "negative", -0.9),  # later: left out
        ("negative", date(2025, 6, 6), "unknown", None),
    ]
    out = by_key(features(spark, ODD_CUSTOMERS, odd_events(), reviews))
    review_cols = (FC.REVIEW_COUNT, FC.MEAN_SENTIMENT, FC.NEGATIVE_REVIEW_SHARE)
    assert pick(out["single"], *review_cols) == (3, 0.1, 0.333333)  # (0.8 + 0.1 - 0.6) / 3
    assert pick(out["negative"], *review_cols) == (0, 0.0, 0.0)  # only an unknown label
    assert_defined(out.values())


def test_missing_input_column_is_named(spark):
    customers, events, products, _ = frames(spark, [("A", SIGNUP)], [])
    with pytest.raises(ValueError, match=r"events lacks column.*amount"):
        compute.customer_features(customers, events.drop(C.AMOUNT), products, None, AS_OF)


# -- the job end to end ---------------------------------------------------------------


@pytest.mark.integration
def test_features_job_on_a_generated_lake(spark, cleaned_copy):
    from delta.tables import DeltaTable

    from insight.features import job as features_job

    lake = cleaned_copy  # a year of ingested and cleaned history (conftest)
    args = ["--lake", lake, "--as-of", "2025-12-31"]
    assert features_job.main(args) == 0

    def snapshot(as_of: str) -> list:
        df = tables.read(spark, CUSTOMER_FEATURES, lake).where(F.col(C.AS_OF) == as_of)
        return sorted(df.collect(), key=lambda r: r[C.CUSTOMER_KEY])

    first = snapshot("2025-12-31")
    silver = tables.read(spark, tables.silver(landing.CUSTOMERS), lake).select(C.CUSTOMER_KEY)
    assert [r[C.CUSTOMER_KEY] for r in first] == sorted(r[0] for r in silver.collect())
    assert_defined([r.asDict() for r in first])
    buyers = [r for r in first if r[FC.FREQUENCY] > 0]
    assert len(buyers) > 50 and {r[FC.MONETARY_SCORE] for r in buyers} == {1, 2, 3, 4, 5}
    schema = tables.read(spark, CUSTOMER_FEATURES, lake).schema
    assert [f.name for f in schema] == [f.name for f in CUSTOMER_FEATURES_SCHEMA]
    assert all(f.metadata.get("comment") for f in schema)

    # Re-run: the as_of's rows are replaced by identical ones. Another as_of adds its own.
    assert features_job.main(args) == 0
    assert snapshot("2025-12-31") == first
    assert features_job.main(["--lake", lake, "--as-of", "2025-11-30"]) == 0
    assert snapshot("2025-12-31") == first and len(snapshot("2025-11-30")) > 0
    ops = DeltaTable.forPath(spark, CUSTOMER_FEATURES.path(lake)).history()
    assert ops.where("operation = 'WRITE'").count() == 3
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "features")
    assert sorted(r["status"] for r in ledger.collect()) == ["done"] * 3 + ["ok"] * 3

    # The benchmark's pandas peer, on the same silver tables, computes the very same table
    # (so bench-scaling compares like with like).
    from bench.peers import pandas_features as peer

    theirs = peer.features_lake(Path(lake), Path(lake) / "pandas", date(2025, 12, 31))
    ours = peer.read_delta(CUSTOMER_FEATURES.path(lake), [f.name for f in CUSTOMER_FEATURES_SCHEMA])
    ours = ours[ours[C.AS_OF].astype(str) == "2025-12-31"]
    assert len(theirs) == len(first)
    # Exact but for avg_order_value, which may land one 4th-decimal unit apart when
    # gross / orders rounds at the half (pandas floats vs Spark decimals).
    assert set(peer.disagreements(ours, theirs)) <= {FC.AVG_ORDER_VALUE}
    assert peer.disagreements(ours, theirs, tolerance=1.01e-4) == {}
    theirs.loc[0, FC.CART_SESSIONS] += 1
    assert peer.disagreements(ours, theirs, tolerance=1.01e-4) == {FC.CART_SESSIONS: 1}
