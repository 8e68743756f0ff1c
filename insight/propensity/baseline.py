"""Spark MLlib baselines on the same inputs and split: gradient-boosted trees and logistic
regression (categoricals one-hot; for the regression the numerics on a signed log scale,
then standardised). Rows are weighted like the TF model's, so probabilities are calibrated
the same way."""

from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight.propensity.dataset import CATEGORICAL_FEATURES, LABEL, NUMERIC
from insight.propensity.distributed import WEIGHT

GBT = "gbt"
LOGISTIC = "logistic"
BASELINES = (GBT, LOGISTIC)
RAW_PROBABILITY = "_p"  # the baseline's (weighted) probability of the positive class
_VECTOR, _LOG_VECTOR = "_numeric_vector", "_numeric_log_vector"
_SCALED, _X = "_numeric_scaled", "_features"


def signed_log1p(values: Column) -> Column:
    """sign(x) * log(1 + |x|) of each element of an array column."""
    return F.transform(values, lambda x: F.signum(x) * F.log1p(F.abs(x)))


def with_vector(df: DataFrame) -> DataFrame:
    """The numeric features as vectors: as they are (for the trees, which only split on
    order) and on a signed log scale (for the regression: spend, counts and gaps are
    heavy-tailed on real shops, and a few large customers would otherwise set its scale).
    Both stay, so a regression saved before the log scale existed still finds its input."""
    return df.withColumns({
        _VECTOR: array_to_vector(F.col(NUMERIC)),
        _LOG_VECTOR: array_to_vector(signed_log1p(F.col(NUMERIC))),
    })  # fmt: skip


def pipeline(kind: str, max_iter: int, seed: int) -> Pipeline:
    index = [StringIndexer(inputCol=c, outputCol=f"_{c}_index", handleInvalid="keep")
             for c in CATEGORICAL_FEATURES]  # fmt: skip
    onehot = OneHotEncoder(
        inputCols=[f"_{c}_index" for c in CATEGORICAL_FEATURES],
        outputCols=[f"_{c}_onehot" for c in CATEGORICAL_FEATURES],
        handleInvalid="keep",
    )
    numeric = _VECTOR
    stages: list = [*index, onehot]
    if kind == LOGISTIC:
        stages.append(StandardScaler(inputCol=_LOG_VECTOR, outputCol=_SCALED, withMean=True))
        numeric = _SCALED
    stages.append(VectorAssembler(
        inputCols=[numeric, *[f"_{c}_onehot" for c in CATEGORICAL_FEATURES]], outputCol=_X
    ))  # fmt: skip
    if kind == GBT:
        model = GBTClassifier(featuresCol=_X, labelCol=LABEL, weightCol=WEIGHT,
                              maxIter=max_iter, maxDepth=5, seed=seed)  # fmt: skip
    elif kind == LOGISTIC:
        model = LogisticRegression(featuresCol=_X, labelCol=LABEL, weightCol=WEIGHT,
                                   maxIter=100, regParam=0.01)  # fmt: skip
    else:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")
    return Pipeline(stages=[*stages, model])


def fit(train: DataFrame, kind: str, max_iter: int, seed: int) -> PipelineModel:
    return pipeline(kind, max_iter, seed).fit(with_vector(train))


def predict(model: PipelineModel, df: DataFrame) -> DataFrame:
    """`df` with RAW_PROBABILITY (positive class, before calibration)."""
    out = model.transform(with_vector(df))
    return out.withColumn(RAW_PROBABILITY, vector_to_array("probability")[1]).drop(
        _VECTOR, _LOG_VECTOR, _SCALED, _X, "rawPrediction", "probability", "prediction",
        *[f"_{c}_index" for c in CATEGORICAL_FEATURES],
        *[f"_{c}_onehot" for c in CATEGORICAL_FEATURES],
    )  # fmt: skip
