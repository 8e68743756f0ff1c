"""Spark MLlib baselines on the same inputs and split: gradient-boosted trees and logistic
regression (categoricals one-hot, numeric standardised for the regression). Rows are
weighted like the TF model's, so probabilities are calibrated the same way."""

from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight.propensity.dataset import CATEGORICAL_FEATURES, LABEL, NUMERIC
from insight.propensity.distributed import WEIGHT

GBT = "gbt"
LOGISTIC = "logistic"
BASELINES = (GBT, LOGISTIC)
RAW_PROBABILITY = "_p"  # the baseline's (weighted) probability of the positive class
_VECTOR, _SCALED, _X = "_numeric_vector", "_numeric_scaled", "_features"


def with_vector(df: DataFrame) -> DataFrame:
    return df.withColumn(_VECTOR, array_to_vector(F.col(NUMERIC)))


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
        stages.append(StandardScaler(inputCol=_VECTOR, outputCol=_SCALED, withMean=True))
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
        _VECTOR, _SCALED, _X, "rawPrediction", "probability", "prediction",
        *[f"_{c}_index" for c in CATEGORICAL_FEATURES],
        *[f"_{c}_onehot" for c in CATEGORICAL_FEATURES],
    )  # fmt: skip
