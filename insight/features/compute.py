"""Customer features as of a date: pure DataFrame -> DataFrame functions, no I/O.

Point in time: only events whose UTC day is on or before `as_of` are read (events of the
as_of day count), only reviews written by then, and only customers who existed by then.
Every output column is filled: a customer with nothing to measure gets the default named
in the column comment (`insight.features.schemas`), never null, NaN or infinity.

Money is summed as decimals and ratios are rounded to 6 places, so the same input gives the
same bits whatever the partitioning (a re-run for an as_of rewrites identical rows).

Example::

    feats = customer_features(customers, events, products, insights, date(2025, 12, 31))
    scored = some_frame.transform(rfm_scores)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from insight import columns as C
from insight.features import columns as FC
from insight.features.schemas import SHARES, customer_features_schema
from insight.landing import ADD_TO_CART, PURCHASE, RETURN

SCORE_BUCKETS = 5  # quintiles
RATIO_DIGITS = 6
SECONDS_PER_DAY = 86_400
# Silver amounts carry 4 decimals: summed as decimals, sums are exact and order-independent.
MONEY = T.DecimalType(28, 4)


EVENT_COLUMNS = (
    C.EVENT_ID, C.EVENT_TYPE, C.EVENT_TS, C.EVENT_DATE, C.CUSTOMER_KEY, C.SESSION_ID,
    C.ORDER_ID, C.PRODUCT_ID, C.QUANTITY, C.AMOUNT, C.DEVICE, C.CHANNEL,
)  # fmt: skip
CUSTOMER_COLUMNS = (C.CUSTOMER_KEY, C.SIGNUP_AT)
PRODUCT_COLUMNS = (C.PRODUCT_ID, C.CATEGORY_L1)
INSIGHT_COLUMNS = (C.CUSTOMER_KEY, C.REVIEW_DATE, C.SENTIMENT, C.SENTIMENT_SCORE)

# Helper columns (never written).
_ORDER, _ORDER_TS, _GAP = "_order", "_order_ts", "_gap"
_LAST_PURCHASE, _GROSS, _GAP_MEAN, _GAP_VAR = "_last_purchase", "_gross", "_gap_mean", "_gap_var"
_SESSION_SECONDS, _ABANDONED, _NEGATIVE = "_session_seconds", "_abandoned", "_negative"
_MEAN_SCORE = "_mean_score"
_ORDERS_TREND, _SPEND_TREND = "_orders_trend", "_spend_trend"


def require_columns(df: DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ValueError naming the columns `df` (described as `what`) lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {', '.join(missing)} (has: {', '.join(df.columns)})"
        )


def _ratio(num: Column, den: Column) -> Column:
    """num / den rounded to RATIO_DIGITS places; 0.0 when den is not positive."""
    return F.when(den > 0, F.round(num / den, RATIO_DIGITS)).otherwise(F.lit(0.0))


def _money_sum(col: Column) -> Column:
    return F.sum(col.cast(MONEY))


def _in_window(day: Column, as_of: date, days: int) -> Column:
    """`day` is one of the `days` days ending on as_of (as_of included)."""
    return day > F.lit(as_of - timedelta(days=days))


def _trend_sign(day: Column, as_of: date, days: int) -> Column:
    """1 in the `days` days ending on as_of, -1 in the `days` days before those, else 0:
    summed over a customer's rows, the change from one window to the next."""
    return (
        F.when(_in_window(day, as_of, days), 1)
        .when(_in_window(day, as_of, 2 * days), -1)
        .otherwise(0)
    )


def events_until(events: DataFrame, as_of: date) -> DataFrame:
    """Events of a customer on or before as_of, UTC (events of the as_of day included).

    `event_date` prunes partitions; `event_ts` is checked too, so a wrong date cannot let
    a later event in.
    """
    require_columns(events, EVENT_COLUMNS, "events")
    on_or_before = F.lit(as_of)
    return events.where(
        (F.col(C.EVENT_DATE) <= on_or_before)
        & (F.to_date(C.EVENT_TS) <= on_or_before)
        & F.col(C.CUSTOMER_KEY).isNotNull()
    )


def customer_base(customers: DataFrame, events: DataFrame, as_of: date) -> DataFrame:
    """customer_key, tenure_days for customers who existed at as_of.

    A customer exists at as_of if they signed up on or before it, have an event by then
    (`events` must already be cut at as_of), or have no signup time and no event (nothing
    places them later). Tenure starts at signup, or at the first event if that is earlier
    or signup is unknown; 0 if neither is known.
    """
    require_columns(customers, CUSTOMER_COLUMNS, "customers")
    first = events.groupBy(C.CUSTOMER_KEY).agg(F.min(C.EVENT_DATE).alias("_first_event"))
    start = F.least(F.to_date(C.SIGNUP_AT), F.col("_first_event"))  # least skips nulls
    return (
        customers.select(*CUSTOMER_COLUMNS)
        .join(first, C.CUSTOMER_KEY, "left")
        .where(start.isNull() | (start <= F.lit(as_of)))
        .select(
            C.CUSTOMER_KEY,
            F.coalesce(F.datediff(F.lit(as_of), start), F.lit(0)).alias(FC.TENURE_DAYS),
        )
    )


def event_stats(events: DataFrame, as_of: date, windows: Sequence[int]) -> DataFrame:
    """Per customer: event counts, net spend, gross purchases, items bought and returned,
    last purchase day, the activity-window events and net spend, and the net spend trend
    (no defaults yet)."""
    kind = F.col(C.EVENT_TYPE)
    amount = F.coalesce(F.col(C.AMOUNT), F.lit(0.0))
    units = F.coalesce(F.col(C.QUANTITY), F.lit(0))
    signed = F.when(kind == PURCHASE, amount).when(kind == RETURN, -amount).otherwise(0.0)
    day = F.col(C.EVENT_DATE)
    per_window = []
    for days in windows:
        inside = _in_window(day, as_of, days)
        per_window += [
            F.count_if(inside).alias(FC.events_in(days)),
            _money_sum(F.when(inside, signed)).alias(FC.spend_in(days)),
        ]
    return events.groupBy(C.CUSTOMER_KEY).agg(
        F.count(F.lit(1)).alias(FC.EVENTS_TOTAL),
        F.max(F.when(kind == PURCHASE, day)).alias(_LAST_PURCHASE),
        _money_sum(signed).alias(FC.MONETARY),
        _money_sum(F.when(kind == PURCHASE, amount)).alias(_GROSS),
        F.sum(F.when(kind == PURCHASE, units)).alias(FC.ITEMS_PURCHASED),
        F.sum(F.when(kind == RETURN, units)).alias(FC.ITEMS_RETURNED),
        *per_window,
        _money_sum(signed * _trend_sign(day, as_of, FC.TREND_DAYS)).alias(_SPEND_TREND),
    )


def order_stats(events: DataFrame, as_of: date, windows: Sequence[int]) -> DataFrame:
    """Per customer with a purchase: orders, orders per window, the orders trend, and the
    mean and population variance of the days between consecutive orders (null below 2
    orders).

    An order is a distinct order id (a purchase without one counts as its own order),
    placed at its first purchase event.
    """
    orders = (
        events.where(F.col(C.EVENT_TYPE) == PURCHASE)
        .groupBy(C.CUSTOMER_KEY, F.coalesce(C.ORDER_ID, C.EVENT_ID).alias(_ORDER))
        .agg(F.min(C.EVENT_TS).alias(_ORDER_TS))
    )
    previous = F.lag(_ORDER_TS).over(Window.partitionBy(C.CUSTOMER_KEY).orderBy(_ORDER_TS, _ORDER))
    gaps = orders.withColumn(
        _GAP, (F.unix_seconds(F.col(_ORDER_TS)) - F.unix_seconds(previous)) / SECONDS_PER_DAY
    )
    placed = F.to_date(_ORDER_TS)
    return gaps.groupBy(C.CUSTOMER_KEY).agg(
        F.count(F.lit(1)).alias(FC.FREQUENCY),
        *[F.count_if(_in_window(placed, as_of, d)).alias(FC.orders_in(d)) for d in windows],
        F.sum(_trend_sign(placed, as_of, FC.TREND_DAYS)).alias(_ORDERS_TREND),
        F.avg(_GAP).alias(_GAP_MEAN),  # the first order has no gap (null, skipped)
        F.var_pop(_GAP).alias(_GAP_VAR),
    )


def session_stats(events: DataFrame) -> DataFrame:
    """Per customer: sessions, their summed length in seconds (first to last event),
    sessions with an add_to_cart and, of those, sessions without a purchase."""
    kind = F.col(C.EVENT_TYPE)
    sessions = (
        events.where(F.col(C.SESSION_ID).isNotNull())
        .groupBy(C.CUSTOMER_KEY, C.SESSION_ID)
        .agg(
            (F.unix_seconds(F.max(C.EVENT_TS)) - F.unix_seconds(F.min(C.EVENT_TS))).alias("_s"),
            F.max((kind == ADD_TO_CART).cast("int")).alias("_cart"),
            F.max((kind == PURCHASE).cast("int")).alias("_bought"),
        )
    )
    return sessions.groupBy(C.CUSTOMER_KEY).agg(
        F.count(F.lit(1)).alias(FC.SESSIONS),
        F.sum("_s").alias(_SESSION_SECONDS),
        F.sum("_cart").alias(FC.CART_SESSIONS),
        F.sum(F.col("_cart") * (1 - F.col("_bought"))).alias(_ABANDONED),
    )


def shares(df: DataFrame, key: Column, weight: Column, name: str) -> DataFrame:
    """customer_key, `name`: map of key (null -> 'unknown') to its share of the customer's
    total weight, rounded to 6 places; customers whose total is not positive are left out.
    """
    keyed = F.coalesce(key, F.lit(FC.UNKNOWN_KEY)).alias("_k")
    parts = df.groupBy(C.CUSTOMER_KEY, keyed).agg(F.sum(weight).alias("_w"))
    totals = parts.groupBy(C.CUSTOMER_KEY).agg(
        F.array_sort(F.collect_list(F.struct("_k", "_w"))).alias("_parts"),
        F.sum("_w").alias("_total"),
    )
    total = F.col("_total").cast("double")
    entries = F.transform(
        "_parts",
        lambda p: F.struct(p["_k"], F.round(p["_w"].cast("double") / total, RATIO_DIGITS)),
    )
    return totals.where(total > 0).select(C.CUSTOMER_KEY, F.map_from_entries(entries).alias(name))


def category_affinity(events: DataFrame, products: DataFrame) -> DataFrame:
    """customer_key, category_affinity: share of purchase amount per top-level category."""
    require_columns(products, PRODUCT_COLUMNS, "products")
    catalog = F.broadcast(products.select(*PRODUCT_COLUMNS))
    bought = events.where(F.col(C.EVENT_TYPE) == PURCHASE).join(catalog, C.PRODUCT_ID, "left")
    amount = F.coalesce(F.col(C.AMOUNT), F.lit(0.0)).cast(MONEY)
    return shares(bought, F.col(C.CATEGORY_L1), amount, FC.CATEGORY_AFFINITY)


def review_stats(insights: DataFrame, as_of: date) -> DataFrame:
    """Per customer: reviews written on or before as_of with a known sentiment (unknown
    and missing labels left out), their mean sentiment_score and negatives."""
    require_columns(insights, INSIGHT_COLUMNS, "review insights")
    known = insights.where(
        (F.col(C.REVIEW_DATE) <= F.lit(as_of))
        & F.col(C.SENTIMENT).isin(*FC.KNOWN_SENTIMENTS)
        & F.col(C.CUSTOMER_KEY).isNotNull()
    )
    score = F.nanvl(F.col(C.SENTIMENT_SCORE), F.lit(None).cast("double"))
    return known.groupBy(C.CUSTOMER_KEY).agg(
        F.count(F.lit(1)).alias(FC.REVIEW_COUNT),
        F.avg(score).alias(_MEAN_SCORE),
        F.count_if(F.col(C.SENTIMENT) == FC.NEGATIVE).alias(_NEGATIVE),
    )


def rfm_scores(
    df: DataFrame,
    *,
    buckets: int = SCORE_BUCKETS,
    col_recency: str = FC.RECENCY_DAYS,
    col_frequency: str = FC.FREQUENCY,
    col_monetary: str = FC.MONETARY,
) -> DataFrame:
    """Add recency_score, frequency_score and monetary_score, 1 to `buckets`.

    Among customers with a purchase (`col_frequency` > 0) each score is
    1 + floor(buckets * percent_rank), capped at `buckets`, computed in integers: fewer
    recency days, more orders and more net spend score higher; tied customers share the
    lower score, and a lone purchaser scores 1. Customers without a purchase score 1.
    The ranking is global (one task per group): fine for millions of customers.
    """
    require_columns(df, (col_recency, col_frequency, col_monetary), "RFM input")
    buyer = F.col(col_frequency) > 0
    n = F.count(F.lit(1)).over(Window.partitionBy(buyer))

    def score(order: Column) -> Column:
        rank = F.rank().over(Window.partitionBy(buyer).orderBy(order))
        bucket = F.floor((rank - 1) * buckets / F.greatest(n - 1, F.lit(1)))
        return F.when(buyer, F.least(F.lit(buckets), 1 + bucket)).otherwise(1).cast("int")

    return df.withColumns(
        {
            FC.RECENCY_SCORE: score(F.col(col_recency).desc()),
            FC.FREQUENCY_SCORE: score(F.col(col_frequency).asc()),
            FC.MONETARY_SCORE: score(F.col(col_monetary).asc()),
        }
    )


def customer_features(
    customers: DataFrame,
    events: DataFrame,
    products: DataFrame,
    insights: DataFrame | None,
    as_of: date,
    *,
    windows: Sequence[int] = FC.WINDOWS_DAYS,
    buckets: int = SCORE_BUCKETS,
) -> DataFrame:
    """gold.customer_features rows for `as_of`: one per customer who existed by then.

    Args:
        customers: silver.customers (customer_key, signup_at).
        events: silver.events (all history; cut at as_of here).
        products: silver.products (product_id, category_l1).
        insights: gold.review_insights, or None if it does not exist (review features get
            their defaults).
        as_of: business date; nothing after this UTC day is used.
        windows: activity windows in days (the table schema has one column set per window).
        buckets: score buckets (5 = quintiles).

    Returns:
        A frame with the columns of `customer_features_schema(windows)`, in order.
    """
    if not windows or any(d < 1 for d in windows):
        raise ValueError(f"activity windows must be positive day counts, got {windows!r}")
    require_columns(customers, CUSTOMER_COLUMNS, "customers")
    require_columns(products, PRODUCT_COLUMNS, "products")
    ev = events_until(events, as_of)
    parts = [
        event_stats(ev, as_of, windows),
        order_stats(ev, as_of, windows),
        session_stats(ev),
        category_affinity(ev, products),
        shares(ev, F.col(C.CHANNEL), F.lit(1), FC.CHANNEL_MIX),
        shares(ev, F.col(C.DEVICE), F.lit(1), FC.DEVICE_MIX),
    ]
    if insights is not None:
        parts.append(review_stats(insights, as_of))
    joined = customer_base(customers, ev, as_of)
    for part in parts:
        joined = joined.join(part, C.CUSTOMER_KEY, "left")
    schema = customer_features_schema(windows)
    return (
        joined.select(C.CUSTOMER_KEY, *_filled(as_of, windows, reviews=insights is not None))
        .transform(rfm_scores, buckets=buckets)
        .select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema])
    )


def _filled(as_of: date, windows: Sequence[int], *, reviews: bool) -> list[Column]:
    """Every feature with its default where the customer has nothing to measure."""

    def count(name: str) -> Column:
        return F.coalesce(F.col(name), F.lit(0)).cast("long")

    def money(col: Column) -> Column:
        return F.coalesce(col, F.lit(0)).cast(MONEY).cast("double")

    def rounded(name: str) -> Column:
        return F.coalesce(F.round(F.col(name), RATIO_DIGITS), F.lit(0.0))

    orders, sessions = count(FC.FREQUENCY), count(FC.SESSIONS)
    bought, returned = count(FC.ITEMS_PURCHASED), count(FC.ITEMS_RETURNED)
    reviewed = count(FC.REVIEW_COUNT) if reviews else F.lit(0).cast("long")
    empty = F.create_map().cast(SHARES)
    since_purchase = F.datediff(F.lit(as_of), F.col(_LAST_PURCHASE))  # null: never bought
    cols = [
        F.lit(as_of).alias(C.AS_OF),
        F.col(FC.TENURE_DAYS),
        F.coalesce(since_purchase, F.col(FC.TENURE_DAYS)).alias(FC.RECENCY_DAYS),
        orders.alias(FC.FREQUENCY),
        money(F.col(FC.MONETARY)).alias(FC.MONETARY),
        money(F.when(orders > 0, F.col(_GROSS) / orders)).alias(FC.AVG_ORDER_VALUE),
        bought.alias(FC.ITEMS_PURCHASED),
        returned.alias(FC.ITEMS_RETURNED),
        F.when(bought > 0, F.least(F.lit(1.0), _ratio(returned, bought)))
        .when(returned > 0, F.lit(1.0))
        .otherwise(F.lit(0.0))
        .alias(FC.RETURN_RATE),
        rounded(_GAP_MEAN).alias(FC.MEAN_DAYS_BETWEEN_ORDERS),
        rounded(_GAP_VAR).alias(FC.VAR_DAYS_BETWEEN_ORDERS),
        count(FC.EVENTS_TOTAL).alias(FC.EVENTS_TOTAL),
    ]
    for days in windows:
        cols += [
            count(FC.events_in(days)).alias(FC.events_in(days)),
            count(FC.orders_in(days)).alias(FC.orders_in(days)),
            money(F.col(FC.spend_in(days))).alias(FC.spend_in(days)),
        ]
    cols += [
        sessions.alias(FC.SESSIONS),
        _ratio(count(_SESSION_SECONDS), sessions * 60).alias(FC.MEAN_SESSION_MINUTES),
        count(FC.CART_SESSIONS).alias(FC.CART_SESSIONS),
        _ratio(count(_ABANDONED), count(FC.CART_SESSIONS)).alias(FC.CART_ABANDONMENT_RATE),
        F.coalesce(F.col(FC.CATEGORY_AFFINITY), empty).alias(FC.CATEGORY_AFFINITY),
        F.coalesce(F.col(FC.CHANNEL_MIX), empty).alias(FC.CHANNEL_MIX),
        F.coalesce(F.col(FC.DEVICE_MIX), empty).alias(FC.DEVICE_MIX),
        reviewed.alias(FC.REVIEW_COUNT),
        (rounded(_MEAN_SCORE) if reviews else F.lit(0.0)).alias(FC.MEAN_SENTIMENT),
        (_ratio(count(_NEGATIVE), reviewed) if reviews else F.lit(0.0)).alias(
            FC.NEGATIVE_REVIEW_SHARE
        ),
        # Two orders or more have a mean gap; same-day re-orders would make it near 0.
        F.when(
            orders > 1,
            F.round(since_purchase / F.greatest(F.col(_GAP_MEAN), F.lit(1.0)), RATIO_DIGITS),
        )
        .otherwise(F.lit(0.0))
        .alias(FC.RECENCY_GAP_RATIO),
        count(_ORDERS_TREND).alias(FC.ORDERS_TREND),
        money(F.col(_SPEND_TREND)).alias(FC.SPEND_TREND),
    ]
    return cols


def top_key(shares: Column) -> Column:
    """The key with the largest share (ties: alphabetical), null for an empty map."""
    entries = F.map_entries(shares)
    ordered = F.array_sort(
        entries,
        lambda a, b: (
            F.when(a["value"] > b["value"], -1)
            .when(a["value"] < b["value"], 1)
            .when(a["key"] < b["key"], -1)
            .when(a["key"] > b["key"], 1)
            .otherwise(0)
        ),
    )
    return F.when(F.size(entries) > 0, ordered[0]["key"])
