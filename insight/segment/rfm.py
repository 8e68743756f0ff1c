"""RFM segments marketers know, by stated rules on the 1-5 recency/frequency/monetary scores.

Rules are tried in order and the first match wins; the last rule matches every purchaser, so
every customer gets exactly one segment. Customers without a purchase (frequency 0) get
`NO_PURCHASE` before any rule is tried (their scores are the default 1, not a measure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight.features import columns as FC
from insight.segment import schemas

NO_PURCHASE = "No purchase"


@dataclass(frozen=True)
class Rule:
    """A segment and the inclusive score ranges (low, high) a customer must fall in."""

    segment: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)
    why: str = ""


# Ordered: first match wins. At risk comes before Loyal so that a frequent buyer who has
# stopped buying (R<=2) is flagged rather than counted loyal.
RULES: tuple[Rule, ...] = (
    Rule("Champions", r=(4, 5), f=(4, 5), m=(4, 5), why="bought recently, often, and big"),
    Rule("At risk", r=(1, 2), f=(3, 5), why="used to buy often, not lately"),
    Rule("Loyal", f=(4, 5), why="buy often (and not lapsed)"),
    Rule("Potential loyalist", r=(4, 5), f=(2, 3), why="recent, a few orders"),
    Rule("New", r=(4, 5), f=(1, 1), why="recent first order"),
    Rule("Lost", r=(1, 1), f=(1, 1), why="one order, long ago"),
    Rule("Hibernating", r=(1, 2), f=(1, 2), why="few orders, not lately"),
    Rule("Need attention", why="the rest: middling recency (R=3) with F<=3"),
)

SEGMENTS: tuple[str, ...] = (*(rule.segment for rule in RULES), NO_PURCHASE)


def _in(col: str, bounds: tuple[int, int]) -> Column:
    return F.col(col).between(*bounds)


def with_rfm_segment(
    df: DataFrame,
    *,
    rules: Sequence[Rule] = RULES,
    col_r: str = FC.RECENCY_SCORE,
    col_f: str = FC.FREQUENCY_SCORE,
    col_m: str = FC.MONETARY_SCORE,
    col_frequency: str = FC.FREQUENCY,
    col_out: str = schemas.RFM_SEGMENT,
) -> DataFrame:
    """Add `col_out`: `NO_PURCHASE` if `col_frequency` is 0, else the first matching rule.

    Example::

        features.transform(with_rfm_segment).groupBy("rfm_segment").count()

    Raises:
        ValueError: a score or the frequency column is missing.
    """
    for col in (col_r, col_f, col_m, col_frequency):
        if col not in df.columns:
            raise ValueError(f"features lack column {col!r} needed for RFM segments")
    label = F.when(F.col(col_frequency) <= 0, F.lit(NO_PURCHASE))
    for rule in rules:
        match = _in(col_r, rule.r) & _in(col_f, rule.f) & _in(col_m, rule.m)
        label = label.when(match, F.lit(rule.segment))
    # Scores outside 1-5 (never written by features) would match nothing: say so.
    return df.withColumn(col_out, label.otherwise(F.lit("Unscored")))
