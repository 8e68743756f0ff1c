"""The review model: train the sentiment candidates, keep the best, add keyphrases and
topics, log and register it in MLflow, and score any review text with it.

One Spark ML PipelineModel holds every stage (text prep, the chosen sentiment model,
YAKE, LDA), so the version a review was scored with names everything about its insight.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.spark
from pyspark.ml import Pipeline, PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window
from sklearn.metrics import accuracy_score, f1_score

from insight import columns as C
from insight.config import Config
from insight.errors import InsightError
from insight.models import registry
from insight.nlp import keyphrases, sentiment, topics
from insight.nlp.sentiment import CLASSES, LABEL, SENTIMENT
from insight.nlp.text import TEXT

log = logging.getLogger(__name__)

EXPERIMENT = "review-insights"
MIN_TRAINING_REVIEWS = 30
_SPLIT = "_holdout"


class NotEnoughReviewsError(InsightError):
    """Too few rated reviews to train a review model."""


@dataclass(frozen=True)
class CandidateResult:
    name: str
    accuracy: float
    macro_f1: float
    train_seconds: float
    reviews_per_second: float
    model: PipelineModel  # the candidate's own stages, fitted

    def metrics(self) -> dict[str, float]:
        return {
            f"{self.name}_accuracy": self.accuracy,
            f"{self.name}_macro_f1": self.macro_f1,
            f"{self.name}_train_seconds": self.train_seconds,
            f"{self.name}_reviews_per_second": self.reviews_per_second,
        }


def by_length(df: DataFrame) -> DataFrame:
    """Rows ordered by text length within each partition (no shuffle).

    Spark NLP embeds rows in batches padded to the longest text of the batch; batches of
    similar lengths waste far less work (MiniLM on real reviews: 58 -> 232 reviews/s)."""
    return df.sortWithinPartitions(F.length(TEXT))


def split_holdout(df: DataFrame, share: float, seed: int, key: str = C.REVIEW_ID) -> DataFrame:
    """Add `_holdout`: a fixed, stratified split. Within each label, rows are ordered by a
    seeded hash of their key and the first `share` of them are held out."""
    by_label = Window.partitionBy(LABEL)
    order = by_label.orderBy(F.xxhash64(F.col(key), F.lit(seed)), F.col(key))
    return df.withColumn(
        _SPLIT, F.row_number().over(order) <= F.round(F.count("*").over(by_label) * share)
    )


def classification_metrics(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    """(accuracy, macro F1 over the three classes)."""
    labels = list(CLASSES)
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
    )


def minilm_path(cfg: Config) -> str:
    """The exported MiniLM folder (written by `make setup`), checked before training."""
    from insight.nlp.transformer import MARKER

    path = Path(cfg.nlp.minilm_dir).expanduser()
    if not (path / MARKER).is_file():
        raise InsightError(
            f"nlp.minilm_dir {path} holds no exported MiniLM model: run "
            f"`python -m insight.nlp.transformer {path}` (make setup does), or drop "
            "minilm_classifierdl from nlp.candidates"
        )
    return str(path)


def train_candidate(
    name: str, cfg: Config, prepared_train: DataFrame, prepared_holdout: DataFrame
) -> CandidateResult:
    """Fit one candidate on the training rows and measure it on the held-out rows."""
    path = minilm_path(cfg) if name.startswith("minilm") else None
    stages = sentiment.candidate_stages(name, cfg.nlp, path)
    t0 = time.monotonic()
    rows = sentiment.training_rows(name, prepared_train, cfg.nlp.seed)
    model = Pipeline(stages=stages).fit(by_length(rows))
    train_seconds = time.monotonic() - t0
    t0 = time.monotonic()
    scored = model.transform(by_length(prepared_holdout)).transform(sentiment.with_prediction)
    rows = scored.select(LABEL, SENTIMENT).collect()
    seconds = time.monotonic() - t0
    accuracy, macro_f1 = classification_metrics(
        [r[LABEL] for r in rows], [r[SENTIMENT] or sentiment.NEUTRAL for r in rows]
    )
    result = CandidateResult(
        name, accuracy, macro_f1, train_seconds, len(rows) / max(seconds, 1e-9), model
    )
    log.info(
        "candidate %s: accuracy %.3f, macro F1 %.3f on %d held-out reviews "
        "(trained in %.1fs, scores %.0f reviews/s)",
        name, accuracy, macro_f1, len(rows), train_seconds, result.reviews_per_second,
    )  # fmt: skip
    return result


def best(results: list[CandidateResult]) -> CandidateResult:
    """Highest macro F1 (every class counts), then accuracy, then speed."""
    return max(results, key=lambda r: (r.macro_f1, r.accuracy, r.reviews_per_second))


@dataclass(frozen=True)
class Trained:
    model: PipelineModel
    chosen: CandidateResult
    candidates: list[CandidateResult]
    train_rows: int
    holdout_rows: int


def train(spark: SparkSession, labelled: DataFrame, cfg: Config) -> Trained:
    """Train every candidate on `labelled` (scorable text with a `label`), keep the best,
    and fit keyphrase and topic stages on all of it."""
    # Tokenizer and Normalizer are "approaches" that learn nothing here; fit them anyway.
    prep = Pipeline(stages=sentiment.prep_stages(spark)).fit(labelled)
    split = split_holdout(labelled.select(C.REVIEW_ID, TEXT, LABEL), cfg.nlp.holdout_share,
                          cfg.nlp.seed).transform(prep.transform).cache()  # fmt: skip
    try:
        counts = {
            r[_SPLIT]: r["n"] for r in split.groupBy(_SPLIT).agg(F.count("*").alias("n")).collect()
        }
        train_rows, holdout_rows = counts.get(False, 0), counts.get(True, 0)
        if train_rows < MIN_TRAINING_REVIEWS or holdout_rows == 0:
            raise NotEnoughReviewsError(
                f"only {train_rows + holdout_rows} rated reviews with usable text; the sentiment "
                f"model needs at least {MIN_TRAINING_REVIEWS} to train on"
            )
        log.info("training sentiment candidates on %d reviews, %d held out", train_rows,
                 holdout_rows)  # fmt: skip
        results = [
            train_candidate(name, cfg, split.where(~F.col(_SPLIT)), split.where(F.col(_SPLIT)))
            for name in cfg.nlp.candidates
        ]
        chosen = best(results)
        log.info("chosen: %s (macro F1 %.3f)", chosen.name, chosen.macro_f1)
        finish = topics.finisher()
        topic_stages = [finish, *topics.fit_topics(finish.transform(split), cfg.nlp, C.REVIEW_ID)]
    finally:
        split.unpersist()
    stages = [*prep.stages, *chosen.model.stages, keyphrases.keyphrase_stage(cfg.nlp),
              *topic_stages]  # fmt: skip
    return Trained(PipelineModel(stages=stages), chosen, results, train_rows, holdout_rows)


def register(cfg: Config, trained: Trained) -> registry.Served:
    """Log the model with its params and every candidate's metrics; register it and make it
    the champion (a retrain is an explicit decision to serve the new model)."""
    experiment_id = registry.experiment(cfg, EXPERIMENT)
    n = cfg.nlp
    with mlflow.start_run(experiment_id=experiment_id, run_name="review-insights") as run:
        mlflow.log_params({
            "candidates": ",".join(n.candidates), "chosen": trained.chosen.name,
            "train_rows": trained.train_rows, "holdout_rows": trained.holdout_rows,
            "holdout_share": n.holdout_share, "seed": n.seed, "word2vec_dim": n.word2vec_dim,
            "max_epochs": n.max_epochs, "learning_rate": n.learning_rate,
            "batch_size": n.batch_size, "topics": n.topics, "vocab_size": n.vocab_size,
            "keyphrases_per_review": n.keyphrases_per_review,
        })  # fmt: skip
        for result in trained.candidates:
            mlflow.log_metrics(result.metrics())
        mlflow.log_metrics({"accuracy": trained.chosen.accuracy,
                            "macro_f1": trained.chosen.macro_f1})  # fmt: skip
        mlflow.set_tag("chosen_candidate", trained.chosen.name)
        info = mlflow.spark.log_model(
            trained.model,
            "model",
            registered_model_name=n.model_name,
            # Spark NLP stages need the spark-nlp package.
            pip_requirements=registry.pinned("pyspark", "spark-nlp", "mlflow"),
        )
    version = str(info.registered_model_version)
    log.info("logged run %s, registered %s version %s", run.info.run_id, n.model_name, version)
    return registry.make_champion(cfg, n.model_name, version)


def load(served: registry.Served) -> PipelineModel:
    """The registered PipelineModel (Spark NLP classes are mapped so it deserialises)."""
    import sys

    import sparknlp.annotator

    # PySpark finds a stage's Python class by its JVM package name; sparknlp maps most of
    # its packages to `sparknlp.annotator` but not YAKE's (spark-nlp 5.5.3).
    sys.modules.setdefault("com.johnsnowlabs.nlp.annotators.keyword.yake", sparknlp.annotator)
    return mlflow.spark.load_model(served.uri)


def score(model: PipelineModel, df: DataFrame) -> DataFrame:
    """Sentiment, keyphrases and topic for scorable rows of `df` (which has `nlp_text`)."""
    out = model.transform(by_length(df))
    out = out.transform(sentiment.with_prediction).transform(keyphrases.with_keyphrases)
    return out.transform(topics.with_topic)
