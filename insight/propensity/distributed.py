"""Distributed training with Horovod on Spark, fed by Petastorm.

`fit` materialises the training and validation frames once as Parquet through Petastorm's
Spark converter, then `horovod.spark.run` starts `num_proc` training processes inside Spark
tasks. Each process reads its own shard as a tf.data stream; Horovod averages gradients
(DistributedOptimizer), rank 0's initial weights are broadcast to all, validation metrics are
averaged across ranks before early stopping looks at them, so every rank stops at the same
epoch. The learning rate is scaled by the number of processes (the effective batch grows
with it). Rank 0 alone writes checkpoints and per-epoch MLflow metrics.

GPU clusters: set `propensity.gpu: true` and `num_proc` to the number of GPUs; each process
sees only the GPU of its local rank (install the `gpu` extra, tensorflow[and-cuda]).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import storage
from insight.config import PropensityConfig
from insight.propensity.dataset import CATEGORICAL_FEATURES, LABEL, NUMERIC
from insight.propensity.network import CLASSIFIER, Spec

log = logging.getLogger(__name__)

WEIGHT = "weight"


@dataclass(frozen=True)
class RankReport:
    """What one Horovod process did."""

    rank: int
    size: int
    epochs: int
    steps_per_epoch: int
    rows_seen: int
    loss: list[float]  # averaged over ranks (what every rank's optimizer saw)
    val_loss: list[float]
    local_loss: list[float]  # this rank's own shard, before averaging
    fit_seconds: float  # inside model.fit (process start-up and data set-up excluded)


@dataclass(frozen=True)
class Fitted:
    weights: list[Any]  # numpy arrays of rank 0's final (best) weights
    ranks: list[RankReport]
    seconds: float
    train_rows: int

    @property
    def fit_seconds(self) -> float:
        return max(r.fit_seconds for r in self.ranks)

    @property
    def samples_per_second(self) -> float:
        """Training rows processed per second by all processes together, while fitting."""
        return sum(r.rows_seen for r in self.ranks) / self.fit_seconds if self.fit_seconds else 0.0


@dataclass(frozen=True)
class MlflowTarget:
    """Where rank 0 logs per-epoch metrics: tracking URI, run id, metric name prefix."""

    tracking_uri: str
    run_id: str
    prefix: str


def _columns(spec: Spec) -> list[str]:
    cols = [NUMERIC, *CATEGORICAL_FEATURES]
    return [*cols, LABEL, WEIGHT] if spec.kind == CLASSIFIER else cols


def _prepared(df: DataFrame, spec: Spec, shards: int) -> DataFrame:
    """The columns the network reads, in `shards` non-empty Parquet files: Petastorm gives
    each process whole row groups and refuses more processes than row groups. Always a
    round-robin repartition: enough partitions can still leave all rows in one of them."""
    cast = {LABEL: "float", WEIGHT: "float"}
    out = df.select(*[F.col(c).cast(cast[c]) if c in cast else F.col(c) for c in _columns(spec)])
    return out.repartition(shards)


def _train(
    spec: Spec,
    cfg: PropensityConfig,
    train_conv: Any,
    val_conv: Any,
    checkpoint_dir: str,
    target: MlflowTarget | None,
) -> dict:
    """Runs in every Horovod process (a Spark task)."""
    import os

    import horovod.tensorflow.keras as hvd
    import tensorflow as tf

    from insight.propensity.network import build

    hvd.init()
    gpus = tf.config.list_physical_devices("GPU")
    if cfg.gpu and gpus:
        tf.config.experimental.set_memory_growth(gpus[hvd.local_rank()], True)
        tf.config.set_visible_devices(gpus[hvd.local_rank()], "GPU")
    else:
        # One Spark task per core already: more TF threads would only oversubscribe it.
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)

    model = build(spec, seed=cfg.seed)
    optimizer = hvd.DistributedOptimizer(
        tf.keras.optimizers.Adam(learning_rate=cfg.learning_rate * hvd.size())
    )
    classifier = spec.kind == CLASSIFIER
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy" if classifier else None,
        weighted_metrics=[tf.keras.metrics.AUC(name="auc")] if classifier else None,
    )
    batch = cfg.batch_size
    steps = max(1, len(train_conv) // (batch * hvd.size()))
    val_steps = max(1, len(val_conv) // (batch * hvd.size()))
    local_loss: list[float] = []

    class LocalLoss(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            local_loss.append(float((logs or {})["loss"]))

    callbacks = [
        hvd.callbacks.BroadcastGlobalVariablesCallback(0),
        LocalLoss(),  # before averaging
        hvd.callbacks.MetricAverageCallback(),  # before early stopping: same val_loss everywhere
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=cfg.patience, restore_best_weights=True
        ),
    ]
    if hvd.rank() == 0:
        os.makedirs(checkpoint_dir, exist_ok=True)
        callbacks.append(tf.keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoint_dir, "best.weights.h5"), monitor="val_loss",
            save_best_only=True, save_weights_only=True,
        ))  # fmt: skip
        if target is not None:
            from mlflow import MlflowClient

            client = MlflowClient(target.tracking_uri)

            class EpochMetrics(tf.keras.callbacks.Callback):
                def on_epoch_end(self, epoch, logs=None):
                    for key, value in (logs or {}).items():
                        client.log_metric(target.run_id, f"{target.prefix}{key}", float(value),
                                          step=epoch)  # fmt: skip

            callbacks.append(EpochMetrics())

    def to_xy(row):
        x = {NUMERIC: row.numeric}
        for name in CATEGORICAL_FEATURES:
            x[name] = tf.reshape(getattr(row, name), (-1, 1))
        if classifier:
            return x, tf.reshape(row.label, (-1, 1)), row.weight
        return x

    with (
        train_conv.make_tf_dataset(batch_size=batch, cur_shard=hvd.rank(),
                                   shard_count=hvd.size(), workers_count=1) as train_ds,
        val_conv.make_tf_dataset(batch_size=batch, cur_shard=hvd.rank(),
                                 shard_count=hvd.size(), workers_count=1) as val_ds,
    ):  # fmt: skip
        started = time.monotonic()
        history = model.fit(
            train_ds.map(to_xy), steps_per_epoch=steps, epochs=cfg.epochs,
            validation_data=val_ds.map(to_xy), validation_steps=val_steps,
            callbacks=callbacks, verbose=0,
        )  # fmt: skip
    fit_seconds = time.monotonic() - started
    epochs = len(history.history["loss"])
    return {
        "fit_seconds": fit_seconds,
        "rank": hvd.rank(),
        "size": hvd.size(),
        "epochs": epochs,
        "steps_per_epoch": steps,
        "rows_seen": epochs * steps * batch,
        "loss": [float(v) for v in history.history["loss"]],
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "local_loss": local_loss,
        "weights": model.get_weights() if hvd.rank() == 0 else None,
    }


def _quiet_env() -> dict[str, str]:
    """The training processes' environment: Petastorm's pyarrow deprecation warnings off."""
    import os

    ignore = "ignore::FutureWarning,ignore::UnicodeWarning,ignore::DeprecationWarning"
    return {**os.environ, "PYTHONWARNINGS": ignore, "TF_CPP_MIN_LOG_LEVEL": "2"}


def cache_url(lake: str) -> str:
    """Petastorm's Parquet cache under the lake, as a URL (file:// for a local folder)."""
    if storage.is_local(lake):
        return f"file://{lake}/_petastorm"
    return storage.join(lake, "_petastorm")


def fit(
    train: DataFrame,
    validation: DataFrame,
    spec: Spec,
    cfg: PropensityConfig,
    *,
    lake: str,
    checkpoint_dir: str,
    target: MlflowTarget | None = None,
    num_proc: int | None = None,
) -> Fitted:
    """Train `spec`'s network on `train` with Horovod; early stopping on `validation`."""
    import horovod.spark
    from petastorm.spark import SparkDatasetConverter, make_spark_converter

    spark = train.sparkSession
    spark.conf.set(SparkDatasetConverter.PARENT_CACHE_DIR_URL_CONF, cache_url(lake))
    train_rows = train.count()
    n = num_proc or cfg.num_proc
    train_conv = make_spark_converter(_prepared(train, spec, n))
    val_conv = make_spark_converter(_prepared(validation, spec, n))
    t0 = time.monotonic()
    try:
        results = horovod.spark.run(
            _train, args=(spec, cfg, train_conv, val_conv, checkpoint_dir, target),
            num_proc=n, use_gloo=True, verbose=1, env=_quiet_env(),
        )  # fmt: skip
    finally:
        train_conv.delete()
        val_conv.delete()
    seconds = time.monotonic() - t0
    ranks = [RankReport(**{k: v for k, v in r.items() if k != "weights"}) for r in results]
    weights = next(r["weights"] for r in results if r["rank"] == 0)
    for r in sorted(ranks, key=lambda r: r.rank):
        log.info("horovod rank %d/%d: %d epochs x %d steps, loss %.4f -> %.4f", r.rank, r.size,
                 r.epochs, r.steps_per_epoch, r.loss[0], r.loss[-1])  # fmt: skip
    return Fitted(weights, ranks, seconds, train_rows)
