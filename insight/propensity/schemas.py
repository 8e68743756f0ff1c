"""Schemas of gold.customer_scores and gold.customer_embeddings, one comment per column."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.propensity.dataset import CHURN_TARGET, PURCHASE_TARGET, TARGETS
from insight.propensity.score import FACTOR
from insight.tables import Table
from insight.tables import commented as _f

CUSTOMER_SCORES = Table("gold", "customer_scores")
CUSTOMER_EMBEDDINGS = Table("gold", "customer_embeddings")

EMBEDDING = "embedding"
MAP_X, MAP_Y = "map_x", "map_y"
SCORED_AT = "scored_at"
BANDS = ("high", "medium", "low")

_MEANING = {
    PURCHASE_TARGET: "probability of a purchase within propensity.purchase_window_days after as_of",
    CHURN_TARGET: "probability of no activity at all within propensity.churn_window_days "
    "after as_of",
}


def probability(target: str) -> str:
    return f"{target}_probability"


def percentile(target: str) -> str:
    return f"{target}_percentile"


def band(target: str) -> str:
    return f"{target}_band"


def factors(target: str) -> str:
    return f"{target}_factors"


def model_version(target: str) -> str:
    return f"{target}_model_version"


def _target_fields(target: str) -> list[T.StructField]:
    return [
        _f(probability(target), T.DoubleType(), f"{_MEANING[target]}, 0-1 (calibrated); null "
           "if no model serves this target yet"),
        _f(percentile(target), T.IntegerType(), "0-100: share of this as_of's customers with a "
           "lower probability"),
        _f(band(target), T.StringType(), "high (from propensity.high_band_percentile), medium "
           "(from medium_band_percentile) or low"),
        _f(factors(target), T.ArrayType(FACTOR), "the 3 features that moved this customer's "
           "probability most: effect = probability minus probability with the feature at its "
           "training mean (categorical: most common value); positive pushed it up"),
        _f(model_version(target), T.StringType(), "registered model (name/version) that scored"),
    ]  # fmt: skip


CUSTOMER_SCORES_SCHEMA = T.StructType([
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(C.AS_OF, T.DateType(), "business date of the features scored", False),
    *[f for target in TARGETS for f in _target_fields(target)],
    _f(SCORED_AT, T.TimestampType(), "when the row was written, UTC", False),
])  # fmt: skip
CUSTOMER_SCORES_COMMENT = (
    "Purchase and churn propensity per customer and as_of (Horovod-trained TF network or the "
    "Spark baseline, whichever is champion), with percentile, band and top factors."
)

CUSTOMER_EMBEDDINGS_SCHEMA = T.StructType([
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(C.AS_OF, T.DateType(), "business date of the features embedded", False),
    _f(EMBEDDING, T.ArrayType(T.FloatType()), "latent vector of the customer autoencoder "
       "(propensity.latent_dim values): customers with similar behaviour are close", False),
    _f(MAP_X, T.DoubleType(), "first principal component of the embedding (2-D map)", False),
    _f(MAP_Y, T.DoubleType(), "second principal component of the embedding (2-D map)", False),
    _f(C.MODEL_VERSION, T.StringType(), "autoencoder run (MLflow run id)", False),
])  # fmt: skip
CUSTOMER_EMBEDDINGS_COMMENT = (
    "Customer embeddings from a Horovod-trained autoencoder over the customer features, with a "
    "2-D map; usable as clustering input."
)
