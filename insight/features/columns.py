"""Column names of gold.customer_features (shared names stay in `insight.columns`)."""

from __future__ import annotations

# Activity windows: the N days ending on as_of, as_of included (schema columns per window).
WINDOWS_DAYS = (30, 90, 365)

TENURE_DAYS = "tenure_days"
RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"  # orders
MONETARY = "monetary"  # net spend
RECENCY_SCORE = "recency_score"
FREQUENCY_SCORE = "frequency_score"
MONETARY_SCORE = "monetary_score"
AVG_ORDER_VALUE = "avg_order_value"
ITEMS_PURCHASED = "items_purchased"
ITEMS_RETURNED = "items_returned"
RETURN_RATE = "return_rate"
MEAN_DAYS_BETWEEN_ORDERS = "mean_days_between_orders"
VAR_DAYS_BETWEEN_ORDERS = "var_days_between_orders"
EVENTS_TOTAL = "events_total"
SESSIONS = "sessions"
MEAN_SESSION_MINUTES = "mean_session_minutes"
CART_SESSIONS = "cart_sessions"
CART_ABANDONMENT_RATE = "cart_abandonment_rate"
CATEGORY_AFFINITY = "category_affinity"
CHANNEL_MIX = "channel_mix"
DEVICE_MIX = "device_mix"
REVIEW_COUNT = "review_count"
MEAN_SENTIMENT = "mean_sentiment"
NEGATIVE_REVIEW_SHARE = "negative_review_share"
# Churn signals, the last columns of the table (an older table gains them at its end, so
# new and upgraded tables keep one column order). A customer is overdue relative to their
# own rhythm, and a falling trend says more than a level: 4 orders a quarter means something
# else after 8 the quarter before than after none.
TREND_DAYS = 90  # the trend compares the TREND_DAYS ending on as_of with the TREND_DAYS before
RECENCY_GAP_RATIO = "recency_gap_ratio"
ORDERS_TREND = f"orders_trend_{TREND_DAYS}d"
SPEND_TREND = f"spend_trend_{TREND_DAYS}d"

# Key used in the share maps for a missing category, channel or device.
UNKNOWN_KEY = "unknown"

# Sentiment labels of gold.review_insights that count (the same values as
# insight.nlp.sentiment, kept here so features do not import Spark NLP).
NEGATIVE = "negative"
KNOWN_SENTIMENTS = ("positive", "neutral", "negative")


def events_in(days: int) -> str:
    """`events_30d`: events in the `days` days ending on as_of."""
    return f"events_{days}d"


def orders_in(days: int) -> str:
    """`orders_30d`: orders placed in the `days` days ending on as_of."""
    return f"orders_{days}d"


def spend_in(days: int) -> str:
    """`spend_30d`: net spend in the `days` days ending on as_of."""
    return f"spend_{days}d"
