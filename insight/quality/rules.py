"""Row rules derived from GX suites: Spark predicates that route failing rows.

GX collects unexpected rows to the driver, which does not scale to millions of rows, so
rows are routed with Spark predicates built from the very same expectation configs. GX
semantics are kept: nulls pass value checks (only not-null rules reject them) and a
`row_condition` limits where a rule applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight.columns import FAILED_RULES, REASON
from insight.shipped import shipped_dir

ROW = "row"  # routed: a failing row goes to quarantine
OUTPUT = "output"  # checked on the rows about to be written: a failure stops the job
STAGES = (ROW, OUTPUT)


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    stage: str
    type: str
    kwargs: Mapping[str, Any]

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


def load_suite(name: str) -> dict[str, Any]:
    """Read the suite `expectations/<name>.json` (shipped in the package)."""
    path = shipped_dir("expectations") / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no expectation suite {name!r} at {path}") from exc


def suite_rules(suite: Mapping[str, Any], stage: str | None = None) -> list[Rule]:
    """The suite's expectations as rules, optionally only those of one stage."""
    rules = []
    for i, exp in enumerate(suite["expectations"]):
        meta = exp.get("meta", {})
        where = f"suite {suite.get('name')!r} expectation #{i} ({exp.get('type')})"
        for key in ("rule", "reason", "stage"):
            if not meta.get(key):
                raise ValueError(f"{where}: meta.{key} is required")
        if meta["stage"] not in STAGES:
            raise ValueError(f"{where}: meta.stage must be one of {STAGES}, got {meta['stage']!r}")
        rules.append(
            Rule(meta["rule"], meta["reason"], meta["stage"], exp["type"], exp.get("kwargs", {}))
        )
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"suite {suite.get('name')!r}: rule names must be unique: {dupes}")
    return [r for r in rules if stage is None or r.stage == stage]


def resolve(value: Any, params: Mapping[str, Any]) -> Any:
    """Replace a GX `{"$PARAMETER": name}` placeholder with its runtime value."""
    if isinstance(value, Mapping) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        if name not in params:
            raise KeyError(f"expectation parameter {name!r} was not provided")
        return params[name]
    return value


def passes(rule: Rule, params: Mapping[str, Any]) -> Column:
    """A never-null boolean column: True where the row satisfies the rule."""
    kw = {k: resolve(v, params) for k, v in rule.kwargs.items()}
    col = F.col(kw["column"])
    t = rule.type
    if t == "expect_column_values_to_not_be_null":
        check = col.isNotNull()
    elif t == "expect_column_values_to_be_in_set":
        check = col.isNull() | col.isin(list(kw["value_set"]))
    elif t == "expect_column_values_to_not_be_in_set":
        check = col.isNull() | ~col.isin(list(kw["value_set"]))
    elif t == "expect_column_values_to_be_between":
        check = col.isNull() | _between(col, kw)
    elif t == "expect_column_value_lengths_to_be_between":
        check = col.isNull() | _between(F.length(col), kw)
    elif t == "expect_column_values_to_match_regex":
        check = col.isNull() | col.rlike(kw["regex"])
    elif t == "expect_column_values_to_not_match_regex":
        check = col.isNull() | ~col.rlike(kw["regex"])
    else:
        raise ValueError(f"rule {rule.name!r}: expectation type {t} cannot route single rows")
    if kw.get("row_condition"):
        applies = F.coalesce(F.expr(kw["row_condition"]), F.lit(False))
        check = ~applies | check
    return F.coalesce(check, F.lit(False))


def _between(col: Column, kw: Mapping[str, Any]) -> Column:
    conds = []
    if kw.get("min_value") is not None:
        lo = F.lit(kw["min_value"])
        conds.append(col > lo if kw.get("strict_min") else col >= lo)
    if kw.get("max_value") is not None:
        hi = F.lit(kw["max_value"])
        conds.append(col < hi if kw.get("strict_max") else col <= hi)
    return reduce(lambda a, b: a & b, conds, F.lit(True))


def with_failed_rules(df: DataFrame, rules: Sequence[Rule], params: Mapping[str, Any]) -> DataFrame:
    """Add `failed_rules` (names, empty when the row is good) and a readable `reason`."""
    failed = [F.when(~passes(r, params), F.lit(r.name)) for r in rules]
    reason_of = F.create_map(*[F.lit(x) for r in rules for x in (r.name, f"{r.name}: {r.reason}")])
    df = df.withColumn(FAILED_RULES, F.array_compact(F.array(*failed)))
    return df.withColumn(
        REASON, F.concat_ws("; ", F.transform(F.col(FAILED_RULES), lambda n: reason_of[n]))
    )
