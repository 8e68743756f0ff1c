"""Peer: the features stage (gold.customer_features) in a single pandas process.

Reads the current version of the silver Delta tables without Spark (delta-rs for the log,
pyarrow for the Parquet files), computes the same features as `insight.features.compute`
(same point-in-time cut, defaults, rounding and RFM scoring) and writes them as Parquet.
It is what a careful analyst would write without Spark; it holds every table in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insight import columns as C
from insight import landing, tables
from insight.features import columns as FC
from insight.features.compute import (
    ADD_TO_CART,
    CUSTOMER_COLUMNS,
    EVENT_COLUMNS,
    INSIGHT_COLUMNS,
    PRODUCT_COLUMNS,
    PURCHASE,
    RATIO_DIGITS,
    RETURN,
    SCORE_BUCKETS,
)
from insight.features.schemas import customer_features_schema
from insight.nlp.schemas import REVIEW_INSIGHTS

MONEY_DIGITS = 4  # silver amounts and the table's money columns carry 4 decimals


def read_delta(path: str, columns: Sequence[str]) -> pd.DataFrame:
    """The current version of a Delta table, read by delta-rs + pyarrow (no Spark)."""
    from deltalake import DeltaTable

    table = DeltaTable(path)
    features = table.protocol().reader_features or []
    if "deletionVectors" in features:  # the file list alone would resurrect deleted rows
        raise ValueError(f"{path} uses deletion vectors; this reader does not apply them")
    partitions = set(table.metadata().partition_columns) & set(columns)
    actions = table.get_add_actions(flatten=True)  # an arro3 table (pyarrow 10 here)
    values = {c: actions.column(f"partition.{c}").to_pylist() for c in partitions}
    frames = []
    for i, file in enumerate(actions.column("path").to_pylist()):
        part = pq.read_table(
            f"{path}/{file}", columns=[c for c in columns if c not in partitions]
        ).to_pandas()
        for c in partitions:  # partition values live in the log, not the file
            part[c] = values[c][i]
        frames.append(part)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _days(as_of: date, days: pd.Series) -> pd.Series:
    """Whole days from each date to as_of (datediff)."""
    return (pd.Timestamp(as_of) - pd.to_datetime(days)).dt.days


def _round(x: pd.Series, digits: int) -> pd.Series:
    """Half up, like Spark's round and decimal casts."""
    scale = 10.0**digits
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return pd.Series(np.where(den > 0, _round(num / den.where(den > 0), RATIO_DIGITS), 0.0),
                     index=num.index)  # fmt: skip


def _trend_sign(as_of: date, day: pd.Series) -> np.ndarray:
    """1 in the TREND_DAYS ending on as_of, -1 in the TREND_DAYS before, else 0."""
    after = [pd.Timestamp(as_of - timedelta(days=n * FC.TREND_DAYS)) for n in (1, 2)]
    return np.where(day > after[0], 1, np.where(day > after[1], -1, 0))


def _shares(df: pd.DataFrame, key: pd.Series, weight: pd.Series) -> pd.Series:
    """customer_key -> {key: share of the customer's total weight} (total > 0 only)."""
    parts = (
        pd.DataFrame(
            {C.CUSTOMER_KEY: df[C.CUSTOMER_KEY], "k": key.fillna(FC.UNKNOWN_KEY), "w": weight}
        )
        .groupby([C.CUSTOMER_KEY, "k"], sort=True)["w"]
        .sum()
        .reset_index()
    )
    parts["total"] = parts.groupby(C.CUSTOMER_KEY)["w"].transform("sum")
    parts = parts[parts["total"] > 0]
    if parts.empty:
        return pd.Series(dtype=object)
    parts["share"] = _round(parts["w"] / parts["total"], RATIO_DIGITS)
    return parts.groupby(C.CUSTOMER_KEY).apply(lambda g: dict(zip(g["k"], g["share"], strict=True)))


def _rfm(df: pd.DataFrame, buckets: int) -> pd.DataFrame:
    buyer = df[FC.FREQUENCY] > 0
    n = max(int(buyer.sum()) - 1, 1)
    for name, column, ascending in (
        (FC.RECENCY_SCORE, FC.RECENCY_DAYS, False),
        (FC.FREQUENCY_SCORE, FC.FREQUENCY, True),
        (FC.MONETARY_SCORE, FC.MONETARY, True),
    ):
        rank = df.loc[buyer, column].rank(method="min", ascending=ascending)
        score = np.minimum(buckets, 1 + np.floor((rank - 1) * buckets / n))
        df[name] = 1
        df.loc[buyer, name] = score.astype(int)
    return df


def customer_features(
    customers: pd.DataFrame,
    events: pd.DataFrame,
    products: pd.DataFrame,
    insights: pd.DataFrame | None,
    as_of: date,
    windows: Sequence[int] = FC.WINDOWS_DAYS,
    buckets: int = SCORE_BUCKETS,
) -> pd.DataFrame:
    """gold.customer_features rows for `as_of` (see insight.features.compute)."""
    ev = events[
        (pd.to_datetime(events[C.EVENT_DATE]).dt.date <= as_of)
        & (events[C.EVENT_TS].dt.date <= as_of)
        & events[C.CUSTOMER_KEY].notna()
    ].copy()
    ev["day"] = pd.to_datetime(ev[C.EVENT_DATE])
    kind = ev[C.EVENT_TYPE]
    amount = ev[C.AMOUNT].fillna(0.0)
    units = ev[C.QUANTITY].fillna(0)
    is_buy, is_return = kind == PURCHASE, kind == RETURN
    ev["signed"] = np.where(is_buy, amount, np.where(is_return, -amount, 0.0))
    ev["gross"] = np.where(is_buy, amount, 0.0)
    ev["bought"] = np.where(is_buy, units, 0)
    ev["returned"] = np.where(is_return, units, 0)
    ev["buy_day"] = ev["day"].where(is_buy)
    for d in windows:
        inside = ev["day"] > pd.Timestamp(as_of - timedelta(days=d))
        ev[f"_in{d}"] = inside.astype(int)
        ev[f"_spend{d}"] = ev["signed"].where(inside, 0.0)
    ev["_spend_trend"] = ev["signed"] * _trend_sign(as_of, ev["day"])
    by = ev.groupby(C.CUSTOMER_KEY)
    stats = by.agg(
        **{FC.EVENTS_TOTAL: (C.EVENT_ID, "size"), "_last_purchase": ("buy_day", "max"),
           FC.MONETARY: ("signed", "sum"), "_gross": ("gross", "sum"),
           FC.ITEMS_PURCHASED: ("bought", "sum"), FC.ITEMS_RETURNED: ("returned", "sum"),
           "_first_event": ("day", "min"), "_spend_trend": ("_spend_trend", "sum")},
        **{FC.events_in(d): (f"_in{d}", "sum") for d in windows},
        **{FC.spend_in(d): (f"_spend{d}", "sum") for d in windows},
    )  # fmt: skip

    # Orders: a distinct order id (or the event id), placed at its first purchase event.
    buys = ev[is_buy]
    orders = (
        buys.assign(_order=buys[C.ORDER_ID].fillna(buys[C.EVENT_ID]))
        .groupby([C.CUSTOMER_KEY, "_order"])[C.EVENT_TS]
        .min()
        .reset_index()
        .sort_values([C.CUSTOMER_KEY, C.EVENT_TS, "_order"])
    )
    seconds = orders[C.EVENT_TS].astype("int64") // 10**9  # ns -> whole seconds, as Spark
    orders["_gap"] = seconds.groupby(orders[C.CUSTOMER_KEY]).diff() / 86_400
    placed = pd.to_datetime(orders[C.EVENT_TS].dt.date)
    for d in windows:
        orders[f"_o{d}"] = (placed > pd.Timestamp(as_of - timedelta(days=d))).astype(int)
    orders["_trend"] = _trend_sign(as_of, placed)
    order_stats = orders.groupby(C.CUSTOMER_KEY).agg(
        **{FC.FREQUENCY: ("_order", "size"), "_gap_mean": ("_gap", "mean"),
           "_gap_var": ("_gap", lambda g: g.var(ddof=0)), "_orders_trend": ("_trend", "sum")},
        **{FC.orders_in(d): (f"_o{d}", "sum") for d in windows},
    )  # fmt: skip

    sess = ev[ev[C.SESSION_ID].notna()].assign(
        _ts=lambda f: f[C.EVENT_TS].astype("int64") // 10**9,
        _cart=(kind == ADD_TO_CART).astype(int),
        _bought=is_buy.astype(int),
    )
    per_session = sess.groupby([C.CUSTOMER_KEY, C.SESSION_ID]).agg(
        _min=("_ts", "min"), _max=("_ts", "max"), _cart=("_cart", "max"), _bought=("_bought", "max")
    )
    per_session["_s"] = per_session["_max"] - per_session["_min"]
    per_session["_abandoned"] = per_session["_cart"] * (1 - per_session["_bought"])
    session_stats = per_session.groupby(C.CUSTOMER_KEY).agg(
        **{FC.SESSIONS: ("_s", "size"), "_session_seconds": ("_s", "sum"),
           FC.CART_SESSIONS: ("_cart", "sum"), "_abandoned": ("_abandoned", "sum")}
    )  # fmt: skip

    catalog = products[list(PRODUCT_COLUMNS)].drop_duplicates(C.PRODUCT_ID)
    bought = buys.merge(catalog, on=C.PRODUCT_ID, how="left")
    mixes = {
        FC.CATEGORY_AFFINITY: _shares(
            bought, bought[C.CATEGORY_L1], _round(bought[C.AMOUNT].fillna(0.0), MONEY_DIGITS)
        ),
        FC.CHANNEL_MIX: _shares(ev, ev[C.CHANNEL], pd.Series(1, index=ev.index)),
        FC.DEVICE_MIX: _shares(ev, ev[C.DEVICE], pd.Series(1, index=ev.index)),
    }

    # Who existed at as_of: signed up by then, or an event by then, or nothing says later.
    base = customers[list(CUSTOMER_COLUMNS)].set_index(C.CUSTOMER_KEY)
    signup = pd.to_datetime(base[C.SIGNUP_AT].dt.date)
    first = stats["_first_event"].reindex(base.index)
    start = pd.concat([signup, first], axis=1).min(axis=1)
    base = base[start.isna() | (start <= pd.Timestamp(as_of))]
    start = start[base.index]
    df = pd.DataFrame(index=base.index)
    df[FC.TENURE_DAYS] = _days(as_of, start).fillna(0).astype("int64")
    df = df.join(stats).join(order_stats).join(session_stats)

    def count(name: str) -> pd.Series:
        return df[name].fillna(0).astype("int64")

    orders_n, sessions_n = count(FC.FREQUENCY), count(FC.SESSIONS)
    bought_n, returned_n = count(FC.ITEMS_PURCHASED), count(FC.ITEMS_RETURNED)
    out = pd.DataFrame(index=df.index)
    out[C.AS_OF] = as_of
    out[FC.TENURE_DAYS] = df[FC.TENURE_DAYS]
    out[FC.RECENCY_DAYS] = _days(as_of, df["_last_purchase"]).fillna(df[FC.TENURE_DAYS])
    out[FC.RECENCY_DAYS] = out[FC.RECENCY_DAYS].astype("int64")
    out[FC.FREQUENCY] = orders_n
    out[FC.MONETARY] = _round(df[FC.MONETARY].fillna(0.0), MONEY_DIGITS)
    aov = (df["_gross"] / orders_n.where(orders_n > 0)).fillna(0.0)
    out[FC.AVG_ORDER_VALUE] = _round(aov, MONEY_DIGITS)
    out[FC.ITEMS_PURCHASED], out[FC.ITEMS_RETURNED] = bought_n, returned_n
    out[FC.RETURN_RATE] = np.where(
        bought_n > 0,
        np.minimum(1.0, _ratio(returned_n, bought_n)),
        np.where(returned_n > 0, 1.0, 0.0),
    )
    out[FC.MEAN_DAYS_BETWEEN_ORDERS] = _round(df["_gap_mean"], RATIO_DIGITS).fillna(0.0)
    out[FC.VAR_DAYS_BETWEEN_ORDERS] = _round(df["_gap_var"], RATIO_DIGITS).fillna(0.0)
    out[FC.EVENTS_TOTAL] = count(FC.EVENTS_TOTAL)
    for d in windows:
        out[FC.events_in(d)] = count(FC.events_in(d))
        out[FC.orders_in(d)] = count(FC.orders_in(d))
        out[FC.spend_in(d)] = _round(df[FC.spend_in(d)].fillna(0.0), MONEY_DIGITS)
    out[FC.SESSIONS] = sessions_n
    out[FC.MEAN_SESSION_MINUTES] = _ratio(count("_session_seconds"), sessions_n * 60)
    out[FC.CART_SESSIONS] = count(FC.CART_SESSIONS)
    out[FC.CART_ABANDONMENT_RATE] = _ratio(count("_abandoned"), count(FC.CART_SESSIONS))
    for name, mix in mixes.items():
        out[name] = [mix.get(k, {}) for k in out.index]
    out[FC.REVIEW_COUNT], out[FC.MEAN_SENTIMENT], out[FC.NEGATIVE_REVIEW_SHARE] = 0, 0.0, 0.0
    if insights is not None:
        known = insights[
            (pd.to_datetime(insights[C.REVIEW_DATE]).dt.date <= as_of)
            & insights[C.SENTIMENT].isin(FC.KNOWN_SENTIMENTS)
            & insights[C.CUSTOMER_KEY].notna()
        ]
        rs = known.groupby(C.CUSTOMER_KEY).agg(
            n=(C.SENTIMENT, "size"), mean=(C.SENTIMENT_SCORE, "mean"),
            neg=(C.SENTIMENT, lambda s: int((s == FC.NEGATIVE).sum())),
        ).reindex(out.index)  # fmt: skip
        reviewed = rs["n"].fillna(0).astype("int64")
        out[FC.REVIEW_COUNT] = reviewed
        out[FC.MEAN_SENTIMENT] = _round(rs["mean"], RATIO_DIGITS).fillna(0.0)
        out[FC.NEGATIVE_REVIEW_SHARE] = _ratio(rs["neg"].fillna(0), reviewed)
    gap = np.maximum(df["_gap_mean"], 1.0)
    out[FC.RECENCY_GAP_RATIO] = np.where(
        orders_n > 1, _round(_days(as_of, df["_last_purchase"]) / gap, RATIO_DIGITS), 0.0
    )
    out[FC.ORDERS_TREND] = count("_orders_trend")
    out[FC.SPEND_TREND] = _round(df["_spend_trend"].fillna(0.0), MONEY_DIGITS)
    out = _rfm(out.reset_index(), buckets)
    return out[[f.name for f in customer_features_schema(windows)]]


def features_lake(lake: Path, out: Path, as_of: date) -> pd.DataFrame:
    """Read silver (and gold.review_insights if it exists), compute, write Parquet."""
    root = str(lake)
    customers = read_delta(tables.silver(landing.CUSTOMERS).path(root), CUSTOMER_COLUMNS)
    events = read_delta(tables.silver(landing.EVENTS).path(root), EVENT_COLUMNS)
    products = read_delta(tables.silver(landing.PRODUCTS).path(root), PRODUCT_COLUMNS)
    insights_path = Path(REVIEW_INSIGHTS.path(root))
    insights = (
        read_delta(str(insights_path), INSIGHT_COLUMNS)
        if (insights_path / "_delta_log").exists()
        else None
    )
    features = customer_features(customers, events, products, insights, as_of)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(features, preserve_index=False),
                   out / "customer_features.parquet")  # fmt: skip
    return features


def _plain(v: object) -> object:
    """Map cells as dicts whichever way pyarrow handed them over (list of pairs or dict)."""
    if isinstance(v, list | np.ndarray):
        return dict(v)
    return v


def disagreements(ours: pd.DataFrame, peer: pd.DataFrame, tolerance: float = 1e-6) -> dict:
    """Per column, how many customers' values differ (numbers beyond `tolerance`); plus
    customers present on one side only. Empty dict: the same table."""
    key = C.CUSTOMER_KEY
    joined = ours.merge(peer, on=key, how="outer", suffixes=("", "_peer"), indicator=True)
    out = {}
    one_side = int((joined["_merge"] != "both").sum())
    if one_side:
        out["customers_on_one_side"] = one_side
    both = joined[joined["_merge"] == "both"]
    for col in ours.columns:
        if col in (key, C.AS_OF):
            continue
        a, b = both[col], both[f"{col}_peer"]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            bad = ~np.isclose(a.astype(float), b.astype(float), rtol=0, atol=tolerance)
        else:
            bad = pd.Series([_plain(x) != _plain(y) for x, y in zip(a, b, strict=True)])
        if int(bad.sum()):
            out[col] = int(bad.sum())
    return out
