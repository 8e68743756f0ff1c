"""Run a suite through Great Expectations 1.x on a Spark DataFrame and keep the results."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from insight.quality.rules import Rule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    stage: str
    expectation_type: str
    column: str | None
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: str | None
    details: str | None


DQ_RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False, {"comment": "the job run"}),
        T.StructField("job", T.StringType(), False, {"comment": "job name"}),
        T.StructField("table_name", T.StringType(), False, {"comment": "table validated"}),
        T.StructField("batch_id", T.StringType(), True, {"comment": "bronze batch validated"}),
        T.StructField("as_of", T.DateType(), False, {"comment": "business date of the run"}),
        T.StructField("suite", T.StringType(), False, {"comment": "GX suite name"}),
        T.StructField("rule", T.StringType(), False, {"comment": "rule name (suite meta.rule)"}),
        T.StructField("stage", T.StringType(), False, {"comment": "row (routed) or output"}),
        T.StructField("expectation_type", T.StringType(), False),
        T.StructField("column_name", T.StringType(), True),
        T.StructField("success", T.BooleanType(), False),
        T.StructField("element_count", T.LongType(), True),
        T.StructField("unexpected_count", T.LongType(), True, {"comment": "rows GX found"}),
        T.StructField("unexpected_percent", T.DoubleType(), True),
        T.StructField(
            "quarantined_count", T.LongType(), True, {"comment": "rows routed to quarantine"}
        ),
        T.StructField("observed_value", T.StringType(), True),
        T.StructField("details", T.StringType(), True, {"comment": "sample of unexpected values"}),
        T.StructField("validated_at", T.TimestampType(), False),
    ]
)


@lru_cache(maxsize=1)
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _batch_definition(name: str) -> Any:
    source = _context().data_sources
    try:
        ds = source.get("insight")
    except (KeyError, ValueError, LookupError):
        ds = source.add_spark(name="insight")
    try:
        asset = ds.get_asset(name)
    except (KeyError, ValueError, LookupError):
        asset = ds.add_dataframe_asset(name=name)
    try:
        return asset.get_batch_definition("whole")
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole")


def validate(
    df: DataFrame,
    suite: Mapping[str, Any],
    rules: Sequence[Rule],
    params: Mapping[str, Any],
    *,
    result_format: str = "SUMMARY",
) -> list[RuleResult]:
    """Validate `df` against the expectations of `suite` named by `rules`."""
    from great_expectations.core import ExpectationSuite

    wanted = {r.name: r for r in rules}
    expectations = [e for e in suite["expectations"] if e["meta"]["rule"] in wanted]
    if not expectations:
        return []
    with warnings.catch_warnings():
        # String row conditions are deprecated in GX 1.9+ (still supported in 1.x); the
        # suites stay plain JSON that a Spark predicate can also be derived from.
        warnings.simplefilter("ignore", DeprecationWarning)
        gx_suite = ExpectationSuite(name=suite["name"], expectations=expectations)
        batch = _batch_definition(suite["name"]).get_batch(batch_parameters={"dataframe": df})
        outcome = batch.validate(
            gx_suite, expectation_parameters=dict(params), result_format=result_format
        )
    results = []
    for r in outcome.results:
        rule = wanted[r.expectation_config.meta["rule"]]
        res = r.result or {}
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"GX could not evaluate rule {rule.name!r} of {suite['name']}: "
                f"{r.exception_info.get('exception_message')}"
            )
        results.append(
            RuleResult(
                rule=rule.name,
                stage=rule.stage,
                expectation_type=rule.type,
                column=rule.column,
                success=bool(r.success),
                element_count=res.get("element_count"),
                unexpected_count=res.get("unexpected_count"),
                unexpected_percent=res.get("unexpected_percent"),
                observed_value=_text(res.get("observed_value")),
                details=_text(res.get("partial_unexpected_list")),
            )
        )
    return results


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=_json_default)[:2000]


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def results_frame(
    spark: SparkSession,
    results: Sequence[RuleResult],
    *,
    run_id: str,
    job: str,
    table_name: str,
    batch_id: str | None,
    as_of: date,
    suite: str,
    quarantined: Mapping[str, int],
    validated_at: datetime,
) -> DataFrame:
    """ops.dq_results rows for one validation."""
    rows = [
        (
            run_id,
            job,
            table_name,
            batch_id,
            as_of,
            suite,
            r.rule,
            r.stage,
            r.expectation_type,
            r.column,
            r.success,
            r.element_count,
            r.unexpected_count,
            r.unexpected_percent,
            quarantined.get(r.rule, 0) if r.stage == "row" else None,
            r.observed_value,
            r.details,
            validated_at,
        )
        for r in results
    ]
    return spark.createDataFrame(rows, DQ_RESULTS_SCHEMA)
