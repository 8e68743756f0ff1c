"""Train one target's models on point-in-time snapshots, compare, log and register.

The TF network (Horovod) and the Spark baselines (GBT, logistic regression) learn from the
same training snapshots and are scored on the same validation snapshot, later than all of
them. The network early-stops on a held-out share of the training snapshots' customers
(propensity.early_stopping_share), never on the validation snapshot: a gate on the data
that also chose the epoch would reward overfitting to it. The network is the candidate only
if its validation AUC is at least the best baseline's; otherwise that baseline is, and the
reason is logged. The candidate is registered as
`<prefix>-<target>` and takes the `champion` alias only if its AUC is not worse than the
current champion's.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from pathlib import Path

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import storage
from insight.config import Config, PropensityConfig
from insight.errors import InsightError
from insight.models import registry
from insight.propensity import baseline, distributed, evaluate
from insight.propensity.dataset import (
    CATEGORICAL_FEATURES,
    LABEL,
    NUMERIC,
    NUMERIC_FEATURES,
    PURCHASE_TARGET,
    Sources,
    early_stopping_split,
    labelled,
    snapshot_dates,
)
from insight.propensity.network import AUTOENCODER, CLASSIFIER, Spec, build, feed
from insight.propensity.score import PROBABILITY, score_keras, score_spark

log = logging.getLogger(__name__)

TF = "tf"
KIND_TAG = "kind"  # model version tag: "keras" or "spark"
SPEC_FILE = "spec.json"
MAX_VOCAB = 200  # categorical values kept (most common); the rest share one embedding


class NotEnoughLabelsError(InsightError):
    """Too few positive or negative training labels to fit a model."""


def model_name(cfg: Config, target: str) -> str:
    return f"{cfg.propensity.model_prefix}-{target}"


def window_days(p: PropensityConfig, target: str) -> int:
    return p.purchase_window_days if target == PURCHASE_TARGET else p.churn_window_days


def local_dir(lake: str, *parts: str) -> str:
    """A folder the training processes can write: under the lake if it is a local path or
    DBFS (through /dbfs), else a temporary folder."""
    if lake.startswith("dbfs:/"):
        return str(Path("/dbfs", lake.removeprefix("dbfs:/"), *parts))
    if storage.is_local(lake):
        return str(Path(lake, *parts))
    return tempfile.mkdtemp(prefix="insight-")


@dataclass(frozen=True)
class Split:
    train: DataFrame
    validation: DataFrame
    validation_date: date
    training_dates: list[date]
    positives: int
    negatives: int


def split(sources: Sources, as_of: date, target: str, p: PropensityConfig) -> Split:
    """Training snapshots and the validation snapshot, materialised; labels counted."""
    days = window_days(p, target)
    val_date, train_dates = snapshot_dates(as_of, days, p.snapshots, p.snapshot_step_days)
    train = reduce(DataFrame.unionByName,
                   [labelled(sources, t, target, days) for t in train_dates])  # fmt: skip
    # At most a partition per core: the union arrives in one per snapshot (or more), and
    # each of the GBT's hundreds of small jobs pays a task per partition (2,000-customer demo
    # lake, local[2], f05009c: GBT 28 s on 4 partitions, 21.6 s on 2; logistic 3.4 -> 2.3 s).
    train = train.coalesce(train.sparkSession.sparkContext.defaultParallelism)
    train = train.localCheckpoint(eager=True)
    validation = labelled(sources, val_date, target, days).localCheckpoint(eager=True)
    counts = {r[LABEL]: r["n"] for r in train.groupBy(LABEL).agg(F.count("*").alias("n")).collect()}
    pos, neg = int(counts.get(1.0, 0)), int(counts.get(0.0, 0))
    log.info("propensity %s: %d training rows (%d positive) from snapshots %s; validation "
             "snapshot %s (label window %d days)", target, pos + neg, pos,
             ", ".join(map(str, train_dates)), val_date, days)  # fmt: skip
    if min(pos, neg) < p.min_positives:
        raise NotEnoughLabelsError(
            f"{target}: {pos} positive and {neg} negative training labels in snapshots "
            f"{train_dates[-1]}..{train_dates[0]}; at least {p.min_positives} of each needed "
            "(propensity.min_positives): the lake is too young or too small"
        )
    if validation.isEmpty():
        raise NotEnoughLabelsError(f"{target}: no customers in the validation snapshot {val_date}")
    return Split(train, validation, val_date, train_dates, pos, neg)


def weighted(df: DataFrame, positive_weight: float) -> DataFrame:
    """`df` with the row weight column: positive_weight for positives, 1 for negatives."""
    positive = F.col(LABEL) == 1.0
    return df.withColumn(
        distributed.WEIGHT, F.when(positive, F.lit(positive_weight)).otherwise(F.lit(1.0))
    )


def make_spec(
    train: DataFrame, p: PropensityConfig, kind: str, positive_weight: float = 1.0
) -> Spec:
    """Training statistics for the Normalization layer, vocabularies and modes; a numeric
    feature with no value at all is an error naming it."""
    n = len(NUMERIC_FEATURES)
    stats = train.agg(
        *[F.avg(F.col(NUMERIC)[i]).alias(f"m{i}") for i in range(n)],
        *[F.var_pop(F.col(NUMERIC)[i]).alias(f"v{i}") for i in range(n)],
    ).first()
    empty = [NUMERIC_FEATURES[i] for i in range(n) if stats[f"m{i}"] is None]
    if empty:
        raise InsightError(f"feature(s) {', '.join(empty)} have no value in the training rows")
    vocab, mode = {}, {}
    for name in CATEGORICAL_FEATURES:
        top = train.groupBy(name).count().orderBy(F.desc("count"), name).limit(MAX_VOCAB).collect()
        vocab[name] = tuple(sorted(r[name] for r in top))
        mode[name] = top[0][name]
    return Spec(
        kind=kind, numeric=NUMERIC_FEATURES,
        mean=tuple(float(stats[f"m{i}"]) for i in range(n)),
        variance=tuple(float(stats[f"v{i}"] or 0.0) for i in range(n)),
        vocab=vocab, mode=mode, hidden_units=p.hidden_units, dropout=p.dropout,
        embedding_dim=p.embedding_dim, latent_dim=p.latent_dim if kind == AUTOENCODER else 0,
        positive_weight=positive_weight,
    )  # fmt: skip


def _labels_and_scores(scored: DataFrame, validation: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pdf = scored.join(validation.select(C.CUSTOMER_KEY, LABEL), C.CUSTOMER_KEY).toPandas()
    pdf = pdf.sort_values(C.CUSTOMER_KEY)
    return pdf[LABEL].to_numpy(float), pdf[PROBABILITY].to_numpy(float)


@dataclass
class Trained:
    target: str
    spec: Spec
    metrics: dict[str, dict[str, float]]  # model -> metrics
    calibration: dict[str, list[dict[str, float]]]
    chosen: str  # TF or a baseline name
    reason: str
    weights: list | None = None  # the network's
    baseline_models: dict = field(default_factory=dict)
    fitted: distributed.Fitted | None = None
    split: Split | None = None


def train_target(
    cfg: Config, sources: Sources, as_of: date, target: str, run_id: str, *,
    num_proc: int | None = None,
) -> Trained:  # fmt: skip
    """Everything for one target inside the active MLflow run `run_id`."""
    p = cfg.propensity
    s = split(sources, as_of, target, p)
    weight = s.negatives / s.positives  # balanced: both classes count the same in the loss
    train, validation = weighted(s.train, weight), weighted(s.validation, weight)
    spec = make_spec(train, p, CLASSIFIER, positive_weight=weight)
    metrics, calib, models = {}, {}, {}
    for kind in baseline.BASELINES:
        t0 = time.monotonic()
        models[kind] = baseline.fit(train, kind, p.gbt_max_iter, p.seed)
        y, prob = _labels_and_scores(score_spark(validation, spec, models[kind]), validation)
        metrics[kind] = {**evaluate.classification_metrics(y, prob),
                         "train_seconds": time.monotonic() - t0}  # fmt: skip
        calib[kind] = evaluate.calibration(y, prob)
        log.info("propensity %s: %s %s", target, kind, _describe(metrics[kind]))
    target_info = distributed.MlflowTarget(registry.tracking_uri(cfg), run_id, f"{TF}_")
    fit_rows, stop_rows = early_stopping_split(train, p.early_stopping_share, p.seed)
    stopping = stop_rows.count()
    if not stopping:
        raise NotEnoughLabelsError(
            f"{target}: no training customers left for early stopping "
            f"(propensity.early_stopping_share {p.early_stopping_share}): the lake is too small"
        )
    log.info("propensity %s: the network early-stops on %d rows of %.0f%% of the training "
             "customers; validation snapshot %s stays unseen until the gate", target, stopping,
             100 * p.early_stopping_share, s.validation_date)  # fmt: skip
    fitted = distributed.fit(
        fit_rows, stop_rows, spec, p, lake=cfg.lake,
        checkpoint_dir=local_dir(cfg.lake, "_checkpoints", "propensity", target, run_id),
        target=target_info, num_proc=num_proc,
    )  # fmt: skip
    y, prob = _labels_and_scores(score_keras(validation, spec, fitted.weights), validation)
    metrics[TF] = {**evaluate.classification_metrics(y, prob), "train_seconds": fitted.seconds,
                   "train_samples_per_second": fitted.samples_per_second}  # fmt: skip
    calib[TF] = evaluate.calibration(y, prob)
    log.info("propensity %s: %s %s", target, TF, _describe(metrics[TF]))
    chosen, reason = candidate(metrics)
    log.info("propensity %s: %s", target, reason)
    return Trained(target, spec, metrics, calib, chosen, reason, fitted.weights, models, fitted, s)


def candidate(metrics: dict[str, dict[str, float]]) -> tuple[str, str]:
    """The gate against the baselines: the network if its validation AUC is at least the
    best baseline's, else that baseline; (chosen, reason)."""
    tf_auc = metrics[TF]["auc"]
    best = max(baseline.BASELINES, key=lambda k: metrics[k]["auc"])
    base_auc = metrics[best]["auc"]
    if tf_auc >= base_auc:
        return TF, f"tf validation AUC {tf_auc:.4f} >= best baseline {best} {base_auc:.4f}"
    return (
        best,
        f"tf validation AUC {tf_auc:.4f} < {best} {base_auc:.4f}: the {best} baseline serves",
    )


def _describe(m: dict[str, float]) -> str:
    return (f"AUC {m['auc']:.4f}, PR-AUC {m['pr_auc']:.4f}, log loss {m['log_loss']:.4f}, "
            f"top-decile lift {m['lift_top_decile']:.2f}")  # fmt: skip


def register(cfg: Config, trained: Trained) -> tuple[registry.Served, bool, str]:
    """Log the candidate (with its spec) in the active run, register it, gate it."""
    import mlflow.spark

    t = trained
    chosen_metrics = t.metrics[t.chosen]
    mlflow.log_metrics({"auc": chosen_metrics["auc"], "pr_auc": chosen_metrics["pr_auc"],
                        "log_loss": chosen_metrics["log_loss"]})  # fmt: skip
    for model_key, m in t.metrics.items():
        mlflow.log_metrics({f"{model_key}_{k}": v for k, v in m.items()})
    mlflow.log_dict(t.calibration, "calibration.json")
    mlflow.log_params({"candidate": t.chosen, "positive_weight": round(t.spec.positive_weight, 4),
                       "validation_snapshot": str(t.split.validation_date),
                       "training_snapshots": ",".join(map(str, t.split.training_dates)),
                       "train_positives": t.split.positives,
                       "early_stopping_share": cfg.propensity.early_stopping_share,
                       "train_negatives": t.split.negatives})  # fmt: skip
    mlflow.set_tag("gate_vs_baseline", t.reason)
    name = model_name(cfg, t.target)
    if t.chosen == TF:
        version = log_network(cfg, t.spec, t.weights, name, t.split.validation)
    else:
        info = mlflow.spark.log_model(
            t.baseline_models[t.chosen], "model", registered_model_name=name,
            pip_requirements=registry.pinned("pyspark", "mlflow"),
        )  # fmt: skip
        mlflow.log_text(t.spec.to_json(), SPEC_FILE)  # calibration weight, occlusion baselines
        version = str(info.registered_model_version)
        registry.use_tracking(cfg).set_model_version_tag(name, version, KIND_TAG, "spark")
    client = registry.use_tracking(cfg)
    promoted, reason = registry.promote_if_not_worse(
        cfg, name, version, "auc", champion_value=champion_auc(cfg, name, t),
        same_data=f"this run's validation snapshot ({t.split.validation_date})",
    )  # fmt: skip
    client.set_model_version_tag(name, version, "promotion", reason)
    served = registry.Served(name, version, mlflow.active_run().info.run_id)
    return served, promoted, f"{t.reason}; {reason}"


def champion_auc(cfg: Config, name: str, trained: Trained) -> float | None:
    """The serving model's AUC on this run's validation snapshot, for the gate (None: no
    champion, or one that reads other features)."""
    current = registry.champion(cfg, name)
    if current is None:
        return None
    kind, spec, model = load(cfg, current)
    if spec.numeric != trained.spec.numeric:
        return None
    validation = trained.split.validation
    scored = (
        score_keras(validation, spec, model)
        if kind == "keras"
        else score_spark(validation, spec, model)
    )
    y, prob = _labels_and_scores(scored, validation)
    return evaluate.classification_metrics(y, prob)["auc"]


def log_network(cfg: Config, spec: Spec, weights: list, name: str, sample: DataFrame) -> str:
    """Log a network (Keras flavour, input signature from `sample`) and its spec in the
    active run, register it as `name`; returns the new version."""
    import mlflow.tensorflow
    from mlflow.models import infer_signature

    model = build(spec)
    model.set_weights(weights)
    x = feed(sample.limit(5).toPandas())
    info = mlflow.tensorflow.log_model(
        model, "model", registered_model_name=name,
        signature=infer_signature(x, model.predict(x, verbose=0)),
    )  # fmt: skip
    mlflow.log_text(spec.to_json(), SPEC_FILE)
    version = str(info.registered_model_version)
    registry.use_tracking(cfg).set_model_version_tag(name, version, KIND_TAG, "keras")
    return version


def load_spec(cfg: Config, served: registry.Served) -> Spec:
    """The spec a registered version was trained with (its features, their baselines),
    without loading the model; InsightError if missing."""
    return load(cfg, served, spec_only=True)[1]


def load(
    cfg: Config, served: registry.Served, *, spec_only: bool = False
) -> tuple[str, Spec, object]:
    """(kind, spec, model-or-weights) of a registered version (model None with
    `spec_only`); InsightError if missing."""
    import mlflow.spark
    import mlflow.tensorflow

    client = registry.use_tracking(cfg)
    try:
        kind = client.get_model_version(served.name, served.version).tags.get(KIND_TAG)
        spec = Spec.from_json(mlflow.artifacts.load_text(f"runs:/{served.run_id}/{SPEC_FILE}"))
        if spec_only:
            return kind, spec, None
        if kind == "keras":
            return kind, spec, mlflow.tensorflow.load_model(served.uri).get_weights()
        return kind, spec, mlflow.spark.load_model(served.uri)
    except (OSError, mlflow.exceptions.MlflowException) as exc:
        raise InsightError(
            f"model {served.label} cannot be loaded from the MLflow store "
            f"({registry.tracking_uri(cfg)}): {exc}; retrain with `insight run propensity --train`"
        ) from exc


def require_current_features(served: registry.Served, spec: Spec) -> None:
    """InsightError if `served` was trained on other numeric features than
    gold.customer_features has now (a release added or removed some): its inputs would not
    line up."""
    if tuple(spec.numeric) == NUMERIC_FEATURES:
        return
    gone = [n for n in spec.numeric if n not in NUMERIC_FEATURES]
    new = [n for n in NUMERIC_FEATURES if n not in spec.numeric]
    raise InsightError(
        f"model {served.label} was trained on other features than gold.customer_features "
        f"has now (new: {', '.join(new) or 'none'}; gone: {', '.join(gone) or 'none'}; or "
        "another order): retrain with `insight run propensity --train`"
    )
