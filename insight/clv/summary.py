"""Per-customer RFM summaries in the lifetimes convention, from silver events (no I/O).

The unit of purchase is the purchase *day*: several orders on one UTC day count once, as
BG/NBD models the timing of purchase occasions. For a cut-off day (as_of, or the end of a
calibration period):

- frequency: distinct purchase days - 1 (repeat purchase days);
- recency: days from the first to the last purchase day (0 if frequency is 0);
- T: days from the first purchase day to the cut-off;
- monetary_value: net spend (purchases - returns) of the days after the first purchase
  day, divided by frequency; 0 if frequency is 0. Returns count on the day they happen, so
  a return of the first order made later lowers it, and it can be <= 0 (the models treat
  such customers as having an unknown spend level).

Only events on or before the cut-off count; a customer without a purchase by then gets no
row (the caller decides what CLV 0 / P(alive) means for them).

Example::

    rfm = rfm_summary(events, date(2025, 12, 31))
    cal = rfm_summary(events, date(2025, 12, 31), calibration_end=date(2025, 10, 2))
    actual = holdout_purchases(events, date(2025, 10, 2), date(2025, 12, 31))
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from insight import columns as C
from insight.clv import schemas
from insight.features.compute import MONEY, require_columns
from insight.landing import PURCHASE, RETURN

EVENT_COLUMNS = (C.CUSTOMER_KEY, C.EVENT_TYPE, C.EVENT_TS, C.EVENT_DATE, C.AMOUNT)

_DAY, _BOUGHT, _NET, _FIRST = "_day", "_bought", "_net", "_first"


def _order_events(events: DataFrame, after: date | None, until: date) -> DataFrame:
    """Purchases and returns of known customers with after < UTC day <= until.

    `event_date` prunes partitions; the day of `event_ts` is checked too, so a wrong
    partition date cannot let a later event in.
    """
    require_columns(events, EVENT_COLUMNS, "events")
    day = F.to_date(C.EVENT_TS)
    keep = (
        F.col(C.EVENT_TYPE).isin(PURCHASE, RETURN)
        & F.col(C.CUSTOMER_KEY).isNotNull()
        & (F.col(C.EVENT_DATE) <= F.lit(until))
        & (day <= F.lit(until))
    )
    if after is not None:
        keep &= (F.col(C.EVENT_DATE) > F.lit(after)) & (day > F.lit(after))
    return events.where(keep).select(C.CUSTOMER_KEY, C.EVENT_TYPE, day.alias(_DAY), C.AMOUNT)


def _daily(orders: DataFrame) -> DataFrame:
    """customer_key, day, bought (a purchase that day), net spend of the day (decimal)."""
    kind = F.col(C.EVENT_TYPE)
    amount = F.coalesce(F.col(C.AMOUNT), F.lit(0.0)).cast(MONEY)
    signed = F.when(kind == PURCHASE, amount).otherwise(-amount)
    return orders.groupBy(C.CUSTOMER_KEY, _DAY).agg(
        F.max((kind == PURCHASE).cast("int")).alias(_BOUGHT),
        # Summed as decimals: exact and independent of partitioning.
        F.sum(signed).alias(_NET),
    )


def rfm_summary(
    events: DataFrame, as_of: date, *, calibration_end: date | None = None
) -> DataFrame:
    """customer_key, frequency, recency, T, monetary_value at the cut-off
    (`calibration_end` if given, else `as_of`), for customers with a purchase by then.

    Args:
        events: silver events (customer_key, event_type, event_ts, event_date, amount).
        as_of: the business date; the cut-off unless `calibration_end` is given.
        calibration_end: end of a calibration period (validation), on or before as_of.

    Returns:
        One row per purchasing customer; types as in `insight.clv.schemas.SUMMARY_SCHEMA`.
    """
    cutoff = as_of if calibration_end is None else calibration_end
    if cutoff > as_of:
        raise ValueError(f"calibration_end {calibration_end} is after as_of {as_of}")
    daily = _daily(_order_events(events, None, cutoff))
    bought = F.col(_BOUGHT) == 1
    first_day = F.min(F.when(bought, F.col(_DAY))).over(Window.partitionBy(C.CUSTOMER_KEY))
    per_customer = (
        daily.withColumn(_FIRST, first_day)
        .groupBy(C.CUSTOMER_KEY, _FIRST)
        .agg(
            F.max(F.when(bought, F.col(_DAY))).alias("_last"),
            F.count_if(bought).alias("_days"),
            # Net spend after the first purchase day (returns of any order included).
            F.sum(F.when(F.col(_DAY) > F.col(_FIRST), F.col(_NET))).alias("_repeat_net"),
        )
    )
    repeat_net = F.coalesce(F.col("_repeat_net").cast(T.DoubleType()), F.lit(0.0))
    frequency = (F.col("_days") - 1).cast(T.LongType())
    monetary: Column = F.when(frequency > 0, repeat_net / frequency).otherwise(F.lit(0.0))
    return per_customer.where(F.col(_FIRST).isNotNull()).select(
        C.CUSTOMER_KEY,
        frequency.alias(schemas.FREQUENCY),
        F.datediff("_last", _FIRST).cast(T.IntegerType()).alias(schemas.RECENCY),
        F.datediff(F.lit(cutoff), _FIRST).cast(T.IntegerType()).alias(schemas.T_DAYS),
        monetary.cast(T.DoubleType()).alias(schemas.MONETARY_VALUE),
    )


def holdout_purchases(events: DataFrame, start: date, end: date) -> DataFrame:
    """customer_key, holdout_purchases: distinct purchase days in (start, end], for
    customers with at least one."""
    if end < start:
        raise ValueError(f"holdout end {end} is before its start {start}")
    orders = _order_events(events, start, end).where(F.col(C.EVENT_TYPE) == PURCHASE)
    return orders.groupBy(C.CUSTOMER_KEY).agg(
        F.countDistinct(_DAY).cast(T.LongType()).alias(schemas.HOLDOUT_PURCHASES)
    )
