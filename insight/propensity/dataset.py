"""Point-in-time training sets: features as of T, labels from what happens after T.

Pure DataFrame -> DataFrame functions. Features come from
`insight.features.compute.customer_features` at T (nothing after T is read); the label
window (T, T + window_days] starts the day after. Example::

    rows = labelled(frames, date(2025, 9, 1), PURCHASE_TARGET, window_days=30)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import columns as C
from insight import landing
from insight.features import columns as FC
from insight.features.compute import customer_features, top_key
from insight.features.schemas import customer_features_schema

PURCHASE_TARGET = "purchase"  # target: buys within the window
CHURN_TARGET = "churn"  # target: no event at all within the window
TARGETS = (PURCHASE_TARGET, CHURN_TARGET)

LABEL = "label"
SNAPSHOT = "snapshot"  # the T a training row describes
NUMERIC = "numeric"  # array<float> of NUMERIC_FEATURES, in that order

# Categorical features: learned embeddings in the TF model, one-hot in the baselines.
TOP_CATEGORY = "top_category"
PREFERRED_CHANNEL = "preferred_channel"
PREFERRED_DEVICE = "preferred_device"
CATEGORICAL_FEATURES = (C.COUNTRY, TOP_CATEGORY, PREFERRED_CHANNEL, PREFERRED_DEVICE)
MISSING = "unknown"  # a categorical value that is null

_NUMERIC_TYPES = (T.IntegerType, T.LongType, T.DoubleType, T.FloatType)
# Every numeric column of gold.customer_features, in schema order.
NUMERIC_FEATURES = tuple(
    f.name for f in customer_features_schema() if isinstance(f.dataType, _NUMERIC_TYPES)
)
FEATURE_NAMES = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)


@dataclass(frozen=True)
class Sources:
    """The silver (and gold) frames features and labels are computed from."""

    customers: DataFrame
    events: DataFrame
    products: DataFrame
    insights: DataFrame | None  # gold.review_insights, None if not built
    # Features per snapshot date, computed once: the targets share dates (purchase trains
    # on the date churn validates on) and every model of a target reads the same rows.
    _features: dict[date, DataFrame] = field(default_factory=dict, compare=False, repr=False)

    def features_at(self, snapshot: date) -> DataFrame:
        """customer_features as of `snapshot` (model inputs with events_total), materialised
        once per Sources."""
        if snapshot not in self._features:
            feats = customer_features(
                self.customers, self.events, self.products, self.insights, snapshot
            )
            self._features[snapshot] = model_inputs(feats, self.customers).localCheckpoint(
                eager=True
            )
        return self._features[snapshot]


def model_inputs(features: DataFrame, customers: DataFrame) -> DataFrame:
    """customer_key, numeric (array<float>), the categorical features: the model's inputs
    from gold.customer_features rows and silver.customers (for country)."""
    countries = customers.select(C.CUSTOMER_KEY, C.COUNTRY)
    return features.join(countries, C.CUSTOMER_KEY, "left").select(
        C.CUSTOMER_KEY,
        F.array(*[F.col(n).cast("float") for n in NUMERIC_FEATURES]).alias(NUMERIC),
        F.coalesce(F.col(C.COUNTRY), F.lit(MISSING)).alias(C.COUNTRY),
        F.coalesce(top_key(F.col(FC.CATEGORY_AFFINITY)), F.lit(MISSING)).alias(TOP_CATEGORY),
        F.coalesce(top_key(F.col(FC.CHANNEL_MIX)), F.lit(MISSING)).alias(PREFERRED_CHANNEL),
        F.coalesce(top_key(F.col(FC.DEVICE_MIX)), F.lit(MISSING)).alias(PREFERRED_DEVICE),
        FC.EVENTS_TOTAL,
    )


def labels(events: DataFrame, snapshot: date, target: str, window_days: int) -> DataFrame:
    """customer_key of the customers whose window (snapshot, snapshot + window_days] has a
    purchase (PURCHASE_TARGET) or any event (CHURN_TARGET: those who did NOT churn)."""
    end = snapshot + timedelta(days=window_days)
    window = events.where(
        (F.col(C.EVENT_DATE) > F.lit(snapshot))
        & (F.col(C.EVENT_DATE) <= F.lit(end))
        & F.col(C.CUSTOMER_KEY).isNotNull()
    )
    if target == PURCHASE_TARGET:
        window = window.where(F.col(C.EVENT_TYPE) == landing.PURCHASE)
    return window.select(C.CUSTOMER_KEY).distinct()


def labelled(sources: Sources, snapshot: date, target: str, window_days: int) -> DataFrame:
    """Model inputs as of `snapshot` with `label` (1.0 / 0.0) and `snapshot`.

    Population: every customer existing at the snapshot for PURCHASE_TARGET; for
    CHURN_TARGET only those with at least one event by then (someone who never came cannot
    leave).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    s = sources
    rows = s.features_at(snapshot)
    if target == CHURN_TARGET:
        rows = rows.where(F.col(FC.EVENTS_TOTAL) > 0)
    hit = labels(s.events, snapshot, target, window_days).withColumn("_hit", F.lit(True))
    positive = F.col("_hit").isNotNull() if target == PURCHASE_TARGET else F.col("_hit").isNull()
    return (
        rows.join(hit, C.CUSTOMER_KEY, "left")
        .withColumn(LABEL, F.when(positive, 1.0).otherwise(0.0))
        .withColumn(SNAPSHOT, F.lit(snapshot))
        .drop("_hit", FC.EVENTS_TOTAL)
    )


def snapshot_dates(
    as_of: date, window_days: int, snapshots: int, step_days: int
) -> tuple[date, list[date]]:
    """(validation T, training Ts): validation is the latest T whose label window ends by
    as_of; every training window ends on or before the validation T (no overlap, no leak)."""
    validation = as_of - timedelta(days=window_days)
    first = validation - timedelta(days=window_days)
    return validation, [first - timedelta(days=i * step_days) for i in range(snapshots)]


def early_stopping_split(train: DataFrame, share: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """(fit rows, early-stopping rows) of the training snapshots: `share` of the customers,
    by a seeded hash of their key, with every snapshot of theirs, are held out of the fit
    so the network stops on customers it did not learn from, and the validation snapshot
    stays unseen for the gate."""
    held = (F.abs(F.xxhash64(F.col(C.CUSTOMER_KEY), F.lit(seed))) % 10_000) < round(share * 10_000)
    return train.where(~held), train.where(held)
