"""Schema of gold.customer_features, one comment per column (defaults included).

Every feature is computed from data on or before `as_of` only (events of the as_of day
count) and is never null, NaN or infinite: where a customer has nothing to measure, the
comment gives the default, and a count column (frequency, sessions, cart_sessions,
review_count) tells a default from a measured value.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import types as T

from insight import columns as C
from insight.features import columns as FC
from insight.tables import Table
from insight.tables import commented as _f

CUSTOMER_FEATURES = Table("gold", "customer_features")

SHARES = T.MapType(T.StringType(), T.DoubleType())


def _window_fields(days: int) -> list[T.StructField]:
    return [
        _f(FC.events_in(days), T.LongType(), f"events in the {days} days ending on as_of", False),
        _f(FC.orders_in(days), T.LongType(), f"orders placed in the {days} days ending on as_of",
           False),
        _f(FC.spend_in(days), T.DoubleType(), f"net spend (purchases - returns, base currency) "
           f"in the {days} days ending on as_of; negative if returns exceed purchases", False),
    ]  # fmt: skip


def customer_features_schema(windows: Sequence[int] = FC.WINDOWS_DAYS) -> T.StructType:
    """The table's schema; `windows` (days) decide the activity-window columns."""
    return T.StructType([
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
        _f(C.AS_OF, T.DateType(), "business date: only data on or before this UTC day is used",
           False),
        _f(FC.TENURE_DAYS, T.IntegerType(), "days from signup (or first event, if earlier or no "
           "signup) to as_of; 0 if neither is known", False),
        _f(FC.RECENCY_DAYS, T.IntegerType(), "days from the last purchase to as_of (0 = bought on "
           "as_of); no purchase: tenure_days", False),
        _f(FC.FREQUENCY, T.LongType(), "orders placed (distinct order ids of purchases); 0 = never "
           "bought", False),
        _f(FC.MONETARY, T.DoubleType(), "net spend: purchases - returns, base currency; 0 with no "
           "events, negative if returns exceed purchases", False),
        _f(FC.RECENCY_SCORE, T.IntegerType(), "1-5, 5 = most recent: 1 + floor(5 * percent_rank) "
           "among purchasers (ties share the lower); 1 if no purchase", False),
        _f(FC.FREQUENCY_SCORE, T.IntegerType(), "1-5, 5 = most orders, percent_rank quintile among "
           "purchasers; 1 if no purchase", False),
        _f(FC.MONETARY_SCORE, T.IntegerType(), "1-5, 5 = highest net spend, percent_rank quintile "
           "among purchasers; 1 if no purchase", False),
        _f(FC.AVG_ORDER_VALUE, T.DoubleType(), "purchase amount (before returns) per order, base "
           "currency; 0 if no order", False),
        _f(FC.ITEMS_PURCHASED, T.LongType(), "units bought (sum of purchase quantities)", False),
        _f(FC.ITEMS_RETURNED, T.LongType(), "units returned (sum of return quantities)", False),
        _f(FC.RETURN_RATE, T.DoubleType(), "items_returned / items_purchased, capped at 1; 1 if "
           "returns without purchases, 0 if neither", False),
        _f(FC.MEAN_DAYS_BETWEEN_ORDERS, T.DoubleType(), "mean gap between consecutive orders, "
           "days (fractional); 0 if fewer than 2 orders (see frequency)", False),
        _f(FC.VAR_DAYS_BETWEEN_ORDERS, T.DoubleType(), "population variance of those gaps, days²; "
           "0 if fewer than 2 orders (see frequency)", False),
        _f(FC.EVENTS_TOTAL, T.LongType(), "events of any type on or before as_of", False),
        *[f for days in windows for f in _window_fields(days)],
        _f(FC.SESSIONS, T.LongType(), "distinct sessions with an event on or before as_of", False),
        _f(FC.MEAN_SESSION_MINUTES, T.DoubleType(), "mean minutes from first to last event of a "
           "session (1 event = 0); 0 if no session", False),
        _f(FC.CART_SESSIONS, T.LongType(), "sessions with an add_to_cart", False),
        _f(FC.CART_ABANDONMENT_RATE, T.DoubleType(), "share of cart sessions without a purchase "
           "(by as_of); 0 if no cart session (see cart_sessions)", False),
        _f(FC.CATEGORY_AFFINITY, SHARES, "category_l1 ('unknown' if none) -> share of purchase "
           "amount before returns, 6 places; empty if nothing bought", False),
        _f(FC.CHANNEL_MIX, SHARES, "channel ('unknown' if none) -> share of the customer's "
           "events; empty if no event",
           False),
        _f(FC.DEVICE_MIX, SHARES, "device ('unknown' if none) -> share of the customer's "
           "events; empty if no event",
           False),
        _f(FC.REVIEW_COUNT, T.LongType(), "reviews written on or before as_of with a known "
           "sentiment (unknown excluded); 0 also if no review insights exist", False),
        _f(FC.MEAN_SENTIMENT, T.DoubleType(), "mean sentiment_score of those reviews, -1 to 1; 0 "
           "if review_count is 0", False),
        _f(FC.NEGATIVE_REVIEW_SHARE, T.DoubleType(), "share of those reviews labelled negative; 0 "
           "if review_count is 0", False),
        _f(FC.RECENCY_GAP_RATIO, T.DoubleType(), "recency_days / mean_days_between_orders (gaps "
           "under a day count as one): above 1 = later than the customer's own rhythm; 0 if "
           "fewer than 2 orders (see frequency)", False),
        _f(FC.ORDERS_TREND, T.LongType(), f"orders in the {FC.TREND_DAYS} days ending on as_of "
           f"minus orders in the {FC.TREND_DAYS} days before those", False),
        _f(FC.SPEND_TREND, T.DoubleType(), f"net spend in the {FC.TREND_DAYS} days ending on "
           f"as_of minus net spend in the {FC.TREND_DAYS} days before those, base currency",
           False),
    ])  # fmt: skip


CUSTOMER_FEATURES_SCHEMA = customer_features_schema()

TABLE_COMMENT = (
    "Point-in-time customer features (RFM, behaviour, activity windows, review sentiment): "
    "one row per customer per as_of"
)
