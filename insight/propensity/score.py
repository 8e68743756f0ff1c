"""Batch scoring with per-customer attributions, for either kind of served model.

Attribution is occlusion, the same for the TF network and the Spark baseline: a feature's
effect on a customer is their calibrated probability minus the probability with that one
feature set to its training baseline (numeric: the training mean; categorical: the most
common value). Positive effects pushed the score up. The top 3 by size are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from insight import columns as C
from insight.propensity import baseline
from insight.propensity.dataset import CATEGORICAL_FEATURES, NUMERIC
from insight.propensity.network import Spec, build, calibrated, encoder, feed

PROBABILITY = "probability"
FACTORS = "factors"  # array<struct<feature, effect>>, largest |effect| first
TOP_FACTORS = 3
FACTOR = T.StructType([
    T.StructField("feature", T.StringType()),
    T.StructField("effect", T.DoubleType()),
])  # fmt: skip
SCORED = T.StructType([
    T.StructField(C.CUSTOMER_KEY, T.StringType(), False),
    T.StructField(PROBABILITY, T.DoubleType(), False),
    T.StructField(FACTORS, T.ArrayType(FACTOR), False),
])  # fmt: skip
DIGITS = 6

_models: dict[str, object] = {}  # per Python worker: each model built once


def _model(spec: Spec, weights: list, key: str):
    if key not in _models:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        model = build(spec)
        model.set_weights(weights)
        _models[key] = model
    return _models[key]


def _variants(batch: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, list[str]]:
    """The batch, then one copy per feature with that feature at its baseline."""
    names = [*spec.numeric, *CATEGORICAL_FEATURES]
    copies = [batch]
    for j, _ in enumerate(spec.numeric):
        copy = batch.copy()
        copy[NUMERIC] = [np.where(np.arange(len(v)) == j, spec.mean[j], v) for v in batch[NUMERIC]]
        copies.append(copy)
    for name in CATEGORICAL_FEATURES:
        copies.append(batch.assign(**{name: spec.mode[name]}))
    return pd.concat(copies, ignore_index=True), names


def top_factors(effects: np.ndarray, names: list[str]) -> list[list[dict]]:
    """Per row of `effects` (rows x features), the TOP_FACTORS largest by size."""
    out = []
    for row in effects:
        best = np.argsort(-np.abs(row), kind="stable")[:TOP_FACTORS]
        out.append([{"feature": names[j], "effect": round(float(row[j]), DIGITS)} for j in best])
    return out


def score_keras(inputs: DataFrame, spec: Spec, weights: list) -> DataFrame:
    """customer_key, probability (calibrated), factors for every row of `inputs`."""
    shared = inputs.sparkSession.sparkContext.broadcast((spec, weights))
    key = uuid.uuid4().hex

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        spec_, weights_ = shared.value
        model = _model(spec_, weights_, key)
        for batch in batches:
            if batch.empty:
                continue
            variants, names = _variants(batch, spec_)
            p = model.predict(feed(variants), batch_size=4096, verbose=0).reshape(-1)
            p = calibrated(p, spec_.positive_weight).reshape(len(names) + 1, len(batch))
            yield pd.DataFrame({
                C.CUSTOMER_KEY: batch[C.CUSTOMER_KEY].to_numpy(),
                PROBABILITY: np.round(p[0], DIGITS),
                FACTORS: top_factors((p[0] - p[1:]).T, names),
            })  # fmt: skip

    cols = [C.CUSTOMER_KEY, NUMERIC, *CATEGORICAL_FEATURES]
    return inputs.select(*cols).mapInPandas(run, SCORED)


def embed(inputs: DataFrame, spec: Spec, weights: list, column: str) -> DataFrame:
    """customer_key, `column` (the autoencoder's latent vector) for every row of `inputs`."""
    shared = inputs.sparkSession.sparkContext.broadcast((spec, weights))
    key = uuid.uuid4().hex
    schema = T.StructType([
        T.StructField(C.CUSTOMER_KEY, T.StringType(), False),
        T.StructField(column, T.ArrayType(T.FloatType()), False),
    ])  # fmt: skip

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        spec_, weights_ = shared.value
        enc = encoder(_model(spec_, weights_, key))
        for batch in batches:
            if batch.empty:
                continue
            z = enc.predict(feed(batch), batch_size=4096, verbose=0)
            yield pd.DataFrame({C.CUSTOMER_KEY: batch[C.CUSTOMER_KEY].to_numpy(),
                                column: list(np.round(z, DIGITS).astype(np.float32))})  # fmt: skip

    cols = [C.CUSTOMER_KEY, NUMERIC, *CATEGORICAL_FEATURES]
    return inputs.select(*cols).mapInPandas(run, schema)


def reconstruction_error(rows: pd.DataFrame, spec: Spec, weights: list, units: Spec) -> float:
    """The autoencoder's mean squared reconstruction error on `rows`, in the standardised
    units of `units` (each model standardises with its own training statistics, so two
    models are compared in one scale, not in their own losses)."""
    model = build(spec)
    model.set_weights(weights)
    x = feed(rows)
    recon = model.predict(x, batch_size=4096, verbose=0)  # in `spec`'s standardised units
    raw = recon * np.sqrt(np.asarray(spec.variance)) + np.asarray(spec.mean)
    scale = np.sqrt(np.maximum(np.asarray(units.variance), 1e-12))
    return float(np.mean(((raw - x[NUMERIC]) / scale) ** 2))


def _replace_at(position: int, value: float):
    """For F.transform: element `position` of an array becomes `value`."""
    return lambda x, i: F.when(i == position, F.lit(value).cast("float")).otherwise(x)


def score_spark(inputs: DataFrame, spec: Spec, model: PipelineModel) -> DataFrame:
    """The same as score_keras for a Spark baseline: the variants are extra rows."""
    variant = "_variant"
    rows = [inputs.withColumn(variant, F.lit(""))]
    for j, name in enumerate(spec.numeric):
        at_mean = F.transform(NUMERIC, _replace_at(j, spec.mean[j]))
        rows.append(inputs.withColumn(NUMERIC, at_mean).withColumn(variant, F.lit(name)))
    for name in CATEGORICAL_FEATURES:
        rows.append(
            inputs.withColumn(name, F.lit(spec.mode[name])).withColumn(variant, F.lit(name))
        )
    union = rows[0]
    for r in rows[1:]:
        union = union.unionByName(r)
    w = spec.positive_weight
    raw = F.greatest(F.least(F.col(baseline.RAW_PROBABILITY), F.lit(1 - 1e-7)), F.lit(1e-7))
    predicted = baseline.predict(model, union).select(
        C.CUSTOMER_KEY, variant, (raw / (raw + (1 - raw) * F.lit(w))).alias(PROBABILITY)
    )
    base = predicted.where(F.col(variant) == "").drop(variant)
    effects = (
        predicted.where(F.col(variant) != "")
        .withColumnRenamed(PROBABILITY, "_pj")
        .join(base, C.CUSTOMER_KEY)
        .withColumn("_effect", F.round(F.col(PROBABILITY) - F.col("_pj"), DIGITS))
        .withColumn(
            "_n",
            F.row_number().over(
                Window.partitionBy(C.CUSTOMER_KEY).orderBy(F.desc(F.abs("_effect")), variant)
            ),
        )
        .where(F.col("_n") <= TOP_FACTORS)
        .groupBy(C.CUSTOMER_KEY)
        .agg(
            F.array_sort(
                F.collect_list(
                    F.struct(
                        "_n",
                        F.struct(
                            F.col(variant).alias("feature"), F.col("_effect").alias("effect")
                        ).alias("factor"),
                    )
                )
            ).alias("_f")
        )
        .select(C.CUSTOMER_KEY, F.col("_f.factor").alias(FACTORS))
    )
    return base.join(effects, C.CUSTOMER_KEY, "left").select(
        C.CUSTOMER_KEY, F.round(PROBABILITY, DIGITS).alias(PROBABILITY),
        F.coalesce(F.col(FACTORS), F.array().cast(T.ArrayType(FACTOR))).alias(FACTORS),
    )  # fmt: skip
