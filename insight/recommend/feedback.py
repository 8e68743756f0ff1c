"""Implicit feedback: how strongly each customer showed interest in each product.

Pure DataFrame -> DataFrame functions, no I/O. Example::

    fb = events.transform(implicit_feedback, as_of, weights, half_life_days=90,
                          history_days=365)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight.features.compute import events_until
from insight.landing import ADD_TO_CART, PURCHASE, RETURN, VIEW

CONFIDENCE = "confidence"
STRONGEST = "strongest_event"  # the customer's strongest positive event type for the product
PURCHASED = "purchased"
LAST_TS = "last_ts"
POPULARITY = "popularity"

# Strength order of positive event types, for `strongest_event` ("because you bought X").
_STRENGTH = {VIEW: 1, ADD_TO_CART: 2, PURCHASE: 3}
CONFIDENCE_DIGITS = 6  # rounded so re-runs give identical rows whatever the partitioning


def _weight(weights: Mapping[str, float]) -> Column:
    out = F.lit(0.0)
    for event_type, w in sorted(weights.items()):
        out = F.when(F.col(C.EVENT_TYPE) == event_type, F.lit(float(w))).otherwise(out)
    return out


def _strength() -> Column:
    out = F.lit(0)
    for event_type, s in _STRENGTH.items():
        out = F.when(F.col(C.EVENT_TYPE) == event_type, F.lit(s)).otherwise(out)
    return out


def implicit_feedback(
    events: DataFrame,
    as_of: date,
    weights: Mapping[str, float],
    *,
    half_life_days: int,
    history_days: int,
) -> DataFrame:
    """customer_key, product_id, confidence > 0, strongest_event, purchased, last_ts.

    Confidence = sum over the customer's events on the product in (as_of - history_days,
    as_of] of weight(event type) * quantity (purchases and returns; 1 for others)
    * 0.5 ** (age days / half_life_days). Pairs whose sum is not positive (e.g. bought and
    returned) are dropped: ALS would read them as no interest anyway.
    """
    since = as_of - timedelta(days=history_days)
    scored = (
        events_until(events, as_of)
        .where((F.col(C.EVENT_DATE) > F.lit(since)) & F.col(C.PRODUCT_ID).isNotNull())
        .where(F.col(C.EVENT_TYPE).isin(*weights))
        .select(
            C.CUSTOMER_KEY, C.PRODUCT_ID, C.EVENT_TYPE, C.EVENT_TS,
            (
                _weight(weights)
                * F.when(F.col(C.EVENT_TYPE).isin(PURCHASE, RETURN),
                         F.greatest(F.coalesce(F.col(C.QUANTITY), F.lit(1)), F.lit(1)))
                .otherwise(F.lit(1))
                * F.pow(F.lit(0.5), F.datediff(F.lit(as_of), C.EVENT_DATE) / half_life_days)
            ).alias("_w"),
            _strength().alias("_s"),
        )
    )  # fmt: skip
    strongest = F.max(F.struct(F.col("_s"), F.col(C.EVENT_TYPE)))
    return (
        scored.groupBy(C.CUSTOMER_KEY, C.PRODUCT_ID)
        .agg(
            F.round(F.sum("_w"), CONFIDENCE_DIGITS).alias(CONFIDENCE),
            F.when(strongest["_s"] > 0, strongest[C.EVENT_TYPE]).alias(STRONGEST),
            F.max(F.col(C.EVENT_TYPE) == PURCHASE).alias(PURCHASED),
            F.max(C.EVENT_TS).alias(LAST_TS),
        )
        .where(F.col(CONFIDENCE) > 0)
    )


def window_interest(events: DataFrame, start: date, end: date, types: tuple[str, ...]) -> DataFrame:
    """customer_key, product_id of the distinct pairs with an event of `types` in
    (start, end]: what a customer went on to want, the ground truth of validation."""
    return (
        events.where(
            (F.col(C.EVENT_DATE) > F.lit(start))
            & (F.col(C.EVENT_DATE) <= F.lit(end))
            & F.col(C.EVENT_TYPE).isin(*types)
            & F.col(C.CUSTOMER_KEY).isNotNull()
            & F.col(C.PRODUCT_ID).isNotNull()
        )
        .select(C.CUSTOMER_KEY, C.PRODUCT_ID)
        .distinct()
    )


def popularity(feedback: DataFrame, by: str | None = None) -> DataFrame:
    """[by,] product_id, popularity (customers interested), confidence (their sum): the
    ranking cold-start customers get, best first by `popular_order()`."""
    keys = [by, C.PRODUCT_ID] if by else [C.PRODUCT_ID]
    return feedback.groupBy(*keys).agg(
        F.count(F.lit(1)).alias(POPULARITY), F.sum(CONFIDENCE).alias(CONFIDENCE)
    )


def popular_order() -> list[Column]:
    """Most customers first, then most confidence, then product id (never ambiguous)."""
    return [F.desc(POPULARITY), F.desc(CONFIDENCE), F.asc(C.PRODUCT_ID)]
