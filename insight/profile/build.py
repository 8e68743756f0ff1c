"""gold.customer_profile: every silver customer with their features, segments, lifetime
value and review sentiment as of one date, in one row an analyst can read.

Sources other than silver.customers are optional: a customer without a features row (not
yet a customer at as_of) or a source table not built yet leaves its columns null, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import columns as C
from insight.clv.schemas import CUSTOMER_CLV
from insight.features import columns as FC
from insight.features.compute import top_key
from insight.features.schemas import CUSTOMER_FEATURES_SCHEMA
from insight.propensity import schemas as PS
from insight.propensity.dataset import TARGETS
from insight.recommend import schemas as RS
from insight.segment.schemas import CUSTOMER_SEGMENTS
from insight.tables import Table
from insight.tables import commented as _f

CUSTOMER_PROFILE = Table("gold", "customer_profile")

TOP_CATEGORY = "top_category"
PREFERRED_CHANNEL = "preferred_channel"
PREFERRED_DEVICE = "preferred_device"
HAS_FEATURES = "has_features"
UPDATED_AT = "profile_updated_at"

# Feature columns copied into the profile (their comments come with them).
FEATURES = (
    FC.TENURE_DAYS, FC.RECENCY_DAYS, FC.FREQUENCY, FC.MONETARY, FC.RECENCY_SCORE,
    FC.FREQUENCY_SCORE, FC.MONETARY_SCORE, FC.AVG_ORDER_VALUE, FC.RETURN_RATE,
    FC.MEAN_DAYS_BETWEEN_ORDERS, FC.orders_in(365), FC.spend_in(365), FC.events_in(30),
    FC.SESSIONS, FC.CART_ABANDONMENT_RATE, FC.CATEGORY_AFFINITY, FC.REVIEW_COUNT,
    FC.MEAN_SENTIMENT, FC.NEGATIVE_REVIEW_SHARE,
)  # fmt: skip


@dataclass(frozen=True)
class Source:
    """An optional gold table the profile takes columns from, keyed by customer and as_of."""

    table: Table
    fields: tuple[T.StructField, ...]
    # Values for a customer the table has no row for (once the table exists).
    defaults: tuple[tuple[str, object], ...] = ()
    # The table's rows -> one row per customer (customer_key + fields) for as_of; None: the
    # table already has one row per customer and as_of.
    per_customer: Callable[[DataFrame, date], DataFrame] | None = None

    def rows(self, table: DataFrame, as_of: date) -> DataFrame | None:
        """customer_key + fields for as_of; None if the table predates these fields."""
        if self.per_customer is not None:
            return self.per_customer(table, as_of)
        names = [f.name for f in self.fields]
        if not set(names) <= set(table.columns):
            return None
        return table.where(F.col(C.AS_OF) == F.lit(as_of)).select(C.CUSTOMER_KEY, *names)


SEGMENTS = Source(CUSTOMER_SEGMENTS, (
    _f("rfm_segment", T.StringType(), "RFM segment (Champions, Loyal, ...; see segment_summary)"),
    _f("cluster_name", T.StringType(), "behavioural cluster, named from its centroid"),
))  # fmt: skip
CLV = Source(CUSTOMER_CLV, (
    _f("expected_purchases_12m", T.DoubleType(), "BG/NBD expected purchase days in the next "
       "12 months; 0 if never bought"),
    _f("p_alive", T.DoubleType(), "BG/NBD probability the customer is still active, 0-1; "
       "null if never bought"),
    _f("clv_12m", T.DoubleType(), "12-month customer lifetime value, base currency "
       "(expected purchases x Gamma-Gamma expected spend); 0 if never bought"),
), defaults=(("expected_purchases_12m", 0.0), ("clv_12m", 0.0)))  # fmt: skip
TOP_RECOMMENDATIONS = "top_recommendations"
RECOMMENDATION_SOURCE = "recommendation_source"
SHOWN_RECOMMENDATIONS = 3


def _top_recommendations(table: DataFrame, as_of: date) -> DataFrame:
    top = table.where((F.col(C.AS_OF) == F.lit(as_of)) & (F.col(RS.RANK) <= SHOWN_RECOMMENDATIONS))
    return top.groupBy(C.CUSTOMER_KEY).agg(
        F.array_sort(F.collect_list(F.struct(RS.RANK, C.PRODUCT_ID)))[C.PRODUCT_ID].alias(
            TOP_RECOMMENDATIONS
        ),
        F.min_by(RS.SOURCE, RS.RANK).alias(RECOMMENDATION_SOURCE),
    )


RECOMMENDATIONS = Source(RS.RECOMMENDATIONS, (
    _f(TOP_RECOMMENDATIONS, T.ArrayType(T.StringType()), f"the {SHOWN_RECOMMENDATIONS} best "
       "recommended product ids, best first (all of them: gold.recommendations)"),
    _f(RECOMMENDATION_SOURCE, T.StringType(), "how the best one was chosen: als (own history), "
       "popular_in_country or popular_overall (cold start)"),
), per_customer=_top_recommendations)  # fmt: skip
SCORES = Source(PS.CUSTOMER_SCORES, tuple(
    PS.CUSTOMER_SCORES_SCHEMA[name] for target in TARGETS
    for name in (PS.probability(target), PS.band(target))
))  # fmt: skip
SOURCES = (SEGMENTS, CLV, RECOMMENDATIONS, SCORES)


def _feature_field(name: str) -> T.StructField:
    f = CUSTOMER_FEATURES_SCHEMA[name]
    return T.StructField(f.name, f.dataType, True, f.metadata)  # null: no features row


def profile_schema() -> T.StructType:
    return T.StructType([
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
        _f(C.AS_OF, T.DateType(), "business date the profile describes", False),
        _f(C.COUNTRY, T.StringType(), "ISO 3166 alpha-2 country"),
        _f(C.CITY, T.StringType(), "city"),
        _f(C.SIGNUP_AT, T.TimestampType(), "sign-up time, UTC"),
        _f(C.MARKETING_OPT_IN, T.BooleanType(), "consented to marketing"),
        _f(HAS_FEATURES, T.BooleanType(), "false: not yet a customer at as_of (signed up "
           "later), so feature columns are null", False),
        *[_feature_field(name) for name in FEATURES],
        _f(TOP_CATEGORY, T.StringType(), "category with the largest share of purchases; null "
           "if nothing bought"),
        _f(PREFERRED_CHANNEL, T.StringType(), "channel of most of the customer's events"),
        _f(PREFERRED_DEVICE, T.StringType(), "device of most of the customer's events"),
        *[f for source in SOURCES for f in source.fields],
        _f(UPDATED_AT, T.TimestampType(), "when this row was last written, UTC", False),
    ])  # fmt: skip


PROFILE_SCHEMA = profile_schema()


def customer_profile(
    customers: DataFrame,
    features: DataFrame,
    optional: dict[str, DataFrame | None],
    as_of: date,
    updated_at: object,
) -> DataFrame:
    """One row per customer of `customers` (silver) for `as_of`.

    `features` are gold.customer_features rows (any as_of: filtered here); `optional` maps
    each Source's table name to its rows (None if not built yet).
    """
    base = customers.select(C.CUSTOMER_KEY, C.COUNTRY, C.CITY, C.SIGNUP_AT, C.MARKETING_OPT_IN)
    feats = features.where(F.col(C.AS_OF) == F.lit(as_of)).select(
        C.CUSTOMER_KEY, *FEATURES, FC.CHANNEL_MIX, FC.DEVICE_MIX,
        F.lit(True).alias(HAS_FEATURES),
    )  # fmt: skip
    out = base.join(feats, C.CUSTOMER_KEY, "left")
    for source in SOURCES:
        names = [f.name for f in source.fields]
        table = optional.get(source.table.qualified)
        rows = None if table is None else source.rows(table, as_of)
        if rows is not None:
            out = out.join(rows.select(C.CUSTOMER_KEY, *names), C.CUSTOMER_KEY, "left")
            if source.defaults:
                out = out.fillna(dict(source.defaults))
        else:
            out = out.withColumns({f.name: F.lit(None).cast(f.dataType) for f in source.fields})
    out = out.withColumns({
        C.AS_OF: F.lit(as_of),
        HAS_FEATURES: F.coalesce(F.col(HAS_FEATURES), F.lit(False)),
        TOP_CATEGORY: top_key(F.col(FC.CATEGORY_AFFINITY)),
        PREFERRED_CHANNEL: top_key(F.col(FC.CHANNEL_MIX)),
        PREFERRED_DEVICE: top_key(F.col(FC.DEVICE_MIX)),
        UPDATED_AT: F.lit(updated_at).cast("timestamp"),
    })  # fmt: skip
    return out.select(*[F.col(f.name).cast(f.dataType) for f in PROFILE_SCHEMA])
