"""Routing predicates derived from a suite agree with what Great Expectations finds."""

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from insight.quality import gx
from insight.quality.rules import OUTPUT, ROW, load_suite, passes, suite_rules, with_failed_rules


def _exp(type_, rule, stage=ROW, **kwargs):
    return {"type": type_, "kwargs": kwargs, "meta": {"rule": rule, "reason": rule, "stage": stage}}


SUITE = {
    "name": "test.suite",
    "expectations": [
        _exp("expect_column_values_to_be_in_set", "parseable", column="ok", value_set=[True]),
        _exp(
            "expect_column_values_to_not_be_null",
            "id_not_null",
            column="id",
            row_condition="ok",
            condition_parser="spark",
        ),
        _exp(
            "expect_column_values_to_be_between",
            "price_in_range",
            column="price",
            min_value=0,
            max_value={"$PARAMETER": "max_price"},
        ),
        _exp(
            "expect_column_values_to_be_between",
            "ts_in_window",
            column="ts",
            min_value={"$PARAMETER": "min_ts"},
            max_value={"$PARAMETER": "max_ts"},
            strict_max=True,
        ),
        _exp(
            "expect_column_values_to_be_in_set", "kind_in_set", column="kind", value_set=["a", "b"]
        ),
        _exp("expect_column_value_lengths_to_be_between", "text_short", column="text", max_value=5),
        _exp(
            "expect_column_values_to_match_regex",
            "email_format",
            column="email",
            regex="^[^@]+@[^@]+$",
        ),
        _exp(
            "expect_column_values_to_not_match_regex", "no_markup", column="text", regex="<script"
        ),
        _exp("expect_column_values_to_be_unique", "id_unique", stage=OUTPUT, column="id"),
    ],
}
PARAMS = {"max_price": 100.0, "min_ts": datetime(2020, 1, 1), "max_ts": datetime(2026, 1, 1)}
SCHEMA = "ok boolean, id string, price double, ts timestamp, kind string, text string, email string"
GOOD = (True, "X", 5.0, datetime(2025, 1, 1), "a", "hi", "a@b")


@pytest.fixture(scope="module")
def frame(spark):
    rows = [
        GOOD,
        (False, None, None, None, None, None, None),  # unparseable: only `parseable` fails
        (True, None, 5.0, datetime(2025, 1, 1), "a", "hi", "a@b"),
        (True, "X2", -1.0, datetime(2026, 1, 1), "c", "<script>", "nope"),
        (True, "X3", 100.0, datetime(2020, 1, 1), None, None, None),  # bounds are inclusive
    ]
    return spark.createDataFrame(rows, SCHEMA)


def test_each_row_gets_exactly_the_rules_it_breaks(frame):
    rules = suite_rules(SUITE, ROW)
    got = [r.failed_rules for r in frame.transform(with_failed_rules, rules, PARAMS).collect()]
    assert got == [
        [],
        ["parseable"],
        ["id_not_null"],
        [
            "price_in_range",
            "ts_in_window",
            "kind_in_set",
            "text_short",
            "email_format",
            "no_markup",
        ],
        [],
    ]


def test_reason_names_rules_in_words(frame):
    rules = suite_rules(SUITE, ROW)
    reason = frame.transform(with_failed_rules, rules, PARAMS).collect()[2].reason
    assert reason == "id_not_null: id_not_null"


def test_gx_counts_equal_routed_counts(frame):
    rules = suite_rules(SUITE, ROW)
    routed = frame.transform(with_failed_rules, rules, PARAMS)
    counts = {
        r[0]: r[1]
        for r in routed.select(F.explode("failed_rules")).groupBy("col").count().collect()
    }
    results = gx.validate(frame, SUITE, rules, PARAMS)
    assert {r.rule: r.unexpected_count for r in results} == {
        r.name: counts.get(r.name, 0) for r in rules
    }
    assert {r.rule for r in results if not r.success} == set(counts)


def test_output_rules_are_checked_by_gx_not_routed(frame):
    (result,) = gx.validate(frame, SUITE, suite_rules(SUITE, OUTPUT), PARAMS)
    assert (result.rule, result.success) == ("id_unique", True)  # X, X2, X3 (nulls ignored)
    with pytest.raises(ValueError, match="cannot route"):
        passes(suite_rules(SUITE, OUTPUT)[0], PARAMS)


def test_missing_parameter_is_named(frame):
    rules = suite_rules(SUITE, ROW)
    with pytest.raises(KeyError, match="max_price"):
        frame.transform(with_failed_rules, rules, {})


def test_suite_meta_is_required():
    bad = {"name": "s", "expectations": [{"type": "x", "kwargs": {}, "meta": {"rule": "r"}}]}
    with pytest.raises(ValueError, match=r"meta\.reason"):
        suite_rules(bad)


@pytest.mark.parametrize(
    "name", ["silver.customers", "silver.products", "silver.events", "silver.reviews"]
)
def test_shipped_suites_load_and_every_row_rule_can_route(name):
    suite = load_suite(name)
    rules = suite_rules(suite)
    assert {r.stage for r in rules} == {ROW, OUTPUT}
    for rule in suite_rules(suite, ROW):
        assert passes(rule, _all_params()) is not None


def _all_params():
    from datetime import date

    from insight.clean.entities import rule_params

    return rule_params(
        as_of=date(2025, 12, 31), max_history_days=3650, max_price=1e4, max_quantity=100,
        max_text_length=5000, min_birth_year=1900, min_age_years=13, currencies=["EUR"],
    )  # fmt: skip
