"""The customer profile on hand-built frames: one row per customer, defined columns when a
customer or a source is missing, and the favourite of a share map."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql import functions as F

from insight import columns as C
from insight.features import columns as FC
from insight.features.schemas import CUSTOMER_FEATURES_SCHEMA
from insight.profile.build import (
    CLV,
    PROFILE_SCHEMA,
    RECOMMENDATIONS,
    SCORES,
    SEGMENTS,
    customer_profile,
    top_key,
)

AS_OF = date(2025, 12, 31)
NOW = datetime(2026, 1, 1, 3, 0)


@pytest.fixture()
def customers(spark):
    rows = [
        ("k1", "DE", "Berlin", datetime(2024, 1, 1), True),
        ("k2", "FR", None, datetime(2025, 6, 1), False),
        ("k3", "IT", "Rome", datetime(2026, 3, 1), True),
    ]  # signs up after as_of
    schema = (
        f"{C.CUSTOMER_KEY} string, {C.COUNTRY} string, {C.CITY} string, "
        f"{C.SIGNUP_AT} timestamp, {C.MARKETING_OPT_IN} boolean"
    )
    return spark.createDataFrame(rows, schema)  # fmt: skip


def feature_row(key: str, as_of: date, frequency: int, category: dict) -> dict:
    row = {f.name: None for f in CUSTOMER_FEATURES_SCHEMA}
    for f in CUSTOMER_FEATURES_SCHEMA:
        if f.dataType.typeName() in ("integer", "long"):
            row[f.name] = 1
        elif f.dataType.typeName() == "double":
            row[f.name] = 0.5
        elif f.dataType.typeName() == "map":
            row[f.name] = {}
    row |= {C.CUSTOMER_KEY: key, C.AS_OF: as_of, FC.FREQUENCY: frequency,
            FC.CATEGORY_AFFINITY: category, FC.CHANNEL_MIX: {"web": 0.5, "app": 0.5}}  # fmt: skip
    return row


@pytest.fixture()
def features(spark):
    rows = [
        feature_row("k1", AS_OF, 7, {"Home": 0.25, "Sports": 0.75}),
        feature_row("k2", AS_OF, 0, {}),
        feature_row("k1", date(2025, 11, 30), 3, {"Home": 1.0}),  # an older as_of
    ]
    return spark.createDataFrame(rows, CUSTOMER_FEATURES_SCHEMA)


def test_one_row_per_customer_with_defined_gaps(spark, customers, features):
    out = customer_profile(customers, features, {}, AS_OF, NOW)
    assert out.schema.simpleString() == PROFILE_SCHEMA.simpleString()
    rows = {r[C.CUSTOMER_KEY]: r for r in out.collect()}
    assert set(rows) == {"k1", "k2", "k3"}
    assert rows["k1"][FC.FREQUENCY] == 7  # the as_of's features, not the older ones
    assert rows["k1"]["top_category"] == "Sports" and rows["k2"]["top_category"] is None
    assert rows["k1"]["preferred_channel"] == "app"  # a tie goes to the first alphabetically
    assert rows["k3"]["has_features"] is False and rows["k3"][FC.FREQUENCY] is None
    # Segments and CLV are not built: their columns are null, not missing or NaN.
    for f in (*SEGMENTS.fields, *CLV.fields):
        assert all(r[f.name] is None for r in rows.values())
    assert all(r[C.AS_OF] == AS_OF and r["profile_updated_at"] == NOW for r in rows.values())


def test_sources_fill_in_when_built(spark, customers, features):
    segments = spark.createDataFrame(
        [("k1", AS_OF, "Champions", "High-value frequent"), ("k1", date(2025, 1, 1), "Lost", "x")],
        f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, rfm_segment string, cluster_name string",
    )
    optional = {SEGMENTS.table.qualified: segments, CLV.table.qualified: None}
    rows = {r[C.CUSTOMER_KEY]: r for r in customer_profile(customers, features, optional, AS_OF,
                                                           NOW).collect()}  # fmt: skip
    assert rows["k1"]["rfm_segment"] == "Champions" and rows["k2"]["rfm_segment"] is None
    assert rows["k1"]["clv_12m"] is None  # no CLV table yet: unknown, not zero
    clv = spark.createDataFrame([("k1", AS_OF, 2.5, 0.9, 120.0)],
                                f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, expected_purchases_12m "
                                "double, p_alive double, clv_12m double")  # fmt: skip
    optional[CLV.table.qualified] = clv
    rows = {r[C.CUSTOMER_KEY]: r for r in customer_profile(customers, features, optional, AS_OF,
                                                           NOW).collect()}  # fmt: skip
    assert (rows["k1"]["clv_12m"], rows["k1"]["p_alive"]) == (120.0, 0.9)
    # Never bought, so the CLV job wrote no row: no value expected, activity unknown.
    assert (rows["k2"]["clv_12m"], rows["k2"]["p_alive"]) == (0.0, None)
    assert rows["k1"]["top_recommendations"] is None  # recommend has not run


def test_profile_shows_the_best_three_recommendations(spark, customers, features):
    recs = spark.createDataFrame(
        [("k1", AS_OF, r, f"P{r}", "als") for r in (4, 2, 1, 3)]
        + [("k2", AS_OF, 1, "P9", "popular_in_country"), ("k2", date(2025, 1, 1), 1, "P8", "als")],
        f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, rank int, product_id string, source string",
    )
    optional = {RECOMMENDATIONS.table.qualified: recs}
    rows = {r[C.CUSTOMER_KEY]: r for r in customer_profile(customers, features, optional, AS_OF,
                                                           NOW).collect()}  # fmt: skip
    assert rows["k1"]["top_recommendations"] == ["P1", "P2", "P3"]
    assert rows["k1"]["recommendation_source"] == "als"
    assert rows["k2"]["top_recommendations"] == ["P9"]  # only this as_of's rows
    assert rows["k2"]["recommendation_source"] == "popular_in_country"


def test_profile_shows_propensity_scores(spark, customers, features):
    scores = spark.createDataFrame(
        [("k1", AS_OF, 0.8, "high", 0.1, "low"), ("k1", date(2025, 1, 1), 0.2, "low", 0.9, "high")],
        f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, purchase_probability double, "
        "purchase_band string, churn_probability double, churn_band string",
    )
    optional = {SCORES.table.qualified: scores}
    rows = {r[C.CUSTOMER_KEY]: r for r in customer_profile(customers, features, optional, AS_OF,
                                                           NOW).collect()}  # fmt: skip
    k1 = rows["k1"]
    assert (k1["purchase_probability"], k1["purchase_band"]) == (0.8, "high")
    assert (k1["churn_probability"], k1["churn_band"]) == (0.1, "low")
    assert rows["k2"]["churn_probability"] is None  # not scored: unknown, not zero


def test_top_key_of_a_share_map(spark):
    df = spark.createDataFrame(
        [({"a": 0.2, "b": 0.8},), ({"z": 0.5, "c": 0.5},), ({},)], "m map<string,double>"
    )
    assert [r[0] for r in df.select(top_key(F.col("m"))).collect()] == ["b", "c", None]


def test_a_table_from_an_older_release_gains_the_new_columns(spark, lake):
    from pyspark.sql import types as T

    from insight import tables
    from insight.tables import commented

    table = tables.Table("gold", "evolving")
    old = T.StructType([commented("k", T.StringType(), "key", False)])
    tables.create_if_missing(spark, table, lake, old)
    spark.createDataFrame([("a",)], old).write.format("delta").mode("append").save(table.path(lake))
    new = T.StructType([*old, commented("score", T.DoubleType(), "the customer's score")])
    tables.create_if_missing(spark, table, lake, new)
    got = tables.read(spark, table, lake)
    assert got.columns == ["k", "score"] and got.collect()[0]["score"] is None
    assert got.schema["score"].metadata["comment"] == "the customer's score"
