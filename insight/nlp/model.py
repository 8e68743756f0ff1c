"""The review model: train the sentiment candidates, keep the best, add keyphrases and
topics, log and register it in MLflow, and score any review text with it.

One Spark ML PipelineModel holds every stage (text prep, the chosen sentiment model,
YAKE, LDA), so the version a review was scored with names everything about its insight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mlflow
import mlflow.spark
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from insight import columns as C
from insight.config import Config
from insight.models import registry
from insight.nlp import chinese, embeddings, keyphrases, sentiment, topics
from insight.nlp.selection import (
    GROUP,
    CandidateResult,
    best,
    by_length,
    fit_candidate,
    select,
    selection_split,
)
from insight.nlp.sentiment import LABEL
from insight.nlp.text import TEXT

log = logging.getLogger(__name__)

EXPERIMENT = "review-insights"
ENCODER_PARAM = "encoder_version"
SELECTION_METRIC = "selection_log_loss"  # the worse of the two checks' (lower is better)


@dataclass(frozen=True)
class Trained:
    model: PipelineModel
    chosen: CandidateResult
    candidates: list[CandidateResult]
    train_rows: int
    holdout_rows: int
    cross_rows: int
    held_out_groups: list[str]
    # The champion's candidate setting fitted and measured on this very split: what the
    # gate compares `chosen` with (None: no champion, or one this split cannot train).
    champion: CandidateResult | None = None


def train(
    spark: SparkSession,
    labelled: DataFrame,
    cfg: Config,
    champion: tuple[str, float | None] | None = None,
) -> Trained:
    """Train every candidate on `labelled` (scorable text with a `label`, GROUP, and the
    stored vectors if a vector candidate is configured), keep the best, refit it on all of
    `labelled`, and fit keyphrase and topic stages on it. `champion` (candidate, reg_param)
    is measured on the same split for the gate, when this split can train it."""
    n = cfg.nlp
    # Tokenizer and Normalizer are "approaches" that learn nothing here; fit them anyway.
    prep = Pipeline(stages=sentiment.prep_stages(spark)).fit(labelled)
    wanted = [C.REVIEW_ID, TEXT, LABEL, GROUP]
    if any(c in sentiment.VECTOR_CANDIDATES for c in n.candidates):
        labelled = embeddings.with_vector(labelled)
        wanted += [embeddings.VECTOR, *embeddings.LEXICON]
    prepared = labelled.select(*wanted).transform(prep.transform)
    settings = [
        (name, reg)
        for name in n.candidates
        for reg in (n.reg_params if name in sentiment.VECTOR_CANDIDATES else (None,))
    ]
    split, groups, cross_rows = selection_split(prepared, n)
    try:
        chosen, results, mine, counts = select(split, n, settings, champion)
        final = fit_candidate(chosen.name, n, split, chosen.reg_param)
        finish = topics.finisher()
        topic_stages = [finish, *topics.fit_topics(finish.transform(split), n, C.REVIEW_ID)]
    finally:
        split.unpersist()
    stages = [*prep.stages, *final.stages, keyphrases.keyphrase_stage(n), *topic_stages]
    return Trained(PipelineModel(stages=stages), chosen, results, counts[False], counts[True],
                   cross_rows, groups, mine)  # fmt: skip


def train_zh(
    labelled: DataFrame, cfg: Config, champion: tuple[str, float | None] | None = None
) -> Trained:
    """The Chinese review model on `labelled` (Chinese scorable text with a `label` and
    GROUP): jieba's words -> TF-IDF -> logistic regression, its strength chosen from
    `nlp.zh_reg_params` by the same two checks as the English candidates, refitted on all
    of `labelled`; then LDA topics of its own, on the reviews' `chinese.phrase_words` (the
    English topics are made of English words). Keyphrases come from the same words at
    scoring (score_zh)."""
    n = cfg.nlp
    prepared = chinese.with_tokens(labelled.select(C.REVIEW_ID, TEXT, LABEL, GROUP), TEXT)
    settings = [(chinese.CANDIDATE, reg) for reg in n.zh_reg_params]
    split, groups, cross_rows = selection_split(prepared, n)
    try:
        chosen, results, mine, counts = select(split, n, settings, champion)
        final = fit_candidate(chosen.name, n, split, chosen.reg_param)
        words = split.withColumn(topics.WORDS, chinese.phrase_words_of(F.col(TEXT)))
        topic_stages = topics.fit_topics(words, n, C.REVIEW_ID)
    finally:
        split.unpersist()
    return Trained(PipelineModel(stages=[*final.stages, *topic_stages]), chosen, results,
                   counts[False], counts[True], cross_rows, groups, mine)  # fmt: skip


def champion_setting(cfg: Config, served: registry.Served) -> tuple[str, float | None]:
    """(candidate, reg_param) the served model was chosen as, from its MLflow run."""
    logged = registry.use_tracking(cfg).get_run(served.run_id).data.params
    reg = logged.get("reg_param")
    return logged["chosen"], None if reg in (None, "None") else float(reg)


def uses_vectors(model: PipelineModel) -> bool:
    """Does the model read the stored encoder vectors (a vector candidate was chosen)?"""
    return any(isinstance(s, VectorAssembler) for s in model.stages)


def register(
    cfg: Config,
    trained: Trained,
    encoder_version: str | None,
    *,
    model_name: str | None = None,
    params: dict | None = None,
) -> tuple[registry.Served, bool, str]:
    """Log the model with its params and every candidate's metrics; register it and gate
    it: it serves unless the champion's setting, measured on the same split, selects
    better (a lower worse-of-two log loss). Returns (registered version, promoted, reason).

    `encoder_version` is recorded when the model reads stored vectors: it can only score
    vectors of that version (see `encoder_of`). `model_name` (default `nlp.model_name`)
    and `params` (logged over the defaults) are for another language's model."""
    experiment_id = registry.experiment(cfg, EXPERIMENT)
    n, chosen = cfg.nlp, trained.chosen
    name = model_name or n.model_name
    names = list(dict.fromkeys(r.name for r in trained.candidates))  # in training order
    with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
        mlflow.log_params({
            "candidates": ",".join(names), "chosen": chosen.name,
            "reg_param": chosen.reg_param, "reg_params": ",".join(map(str, n.reg_params)),
            "score_reg_param": n.score_reg_param,
            "train_rows": trained.train_rows, "holdout_rows": trained.holdout_rows,
            "cross_rows": trained.cross_rows, "held_out_groups": len(trained.held_out_groups),
            "max_training_reviews": n.max_training_reviews,
            "holdout_share": n.holdout_share, "seed": n.seed, "word2vec_dim": n.word2vec_dim,
            "max_epochs": n.max_epochs, "learning_rate": n.learning_rate,
            "batch_size": n.batch_size, "topics": n.topics, "vocab_size": n.vocab_size,
            "keyphrases_per_review": n.keyphrases_per_review,
            ENCODER_PARAM: encoder_version if uses_vectors(trained.model) else None,
            **(params or {}),
        })  # fmt: skip
        for result in trained.candidates:
            mlflow.log_metrics(result.metrics())
        for candidate in names:  # each candidate at its best setting, under its own name
            mine = [r for r in trained.candidates if r.name == candidate]
            mlflow.log_metrics(best(mine).metrics(candidate))
        mlflow.log_metrics({
            "accuracy": chosen.accuracy, "macro_f1": chosen.macro_f1,
            "cross_accuracy": chosen.cross_accuracy, "cross_macro_f1": chosen.cross_macro_f1,
            "log_loss": chosen.log_loss, "cross_log_loss": chosen.cross_log_loss,
            SELECTION_METRIC: chosen.selection_loss,
        })  # fmt: skip
        mlflow.set_tag("chosen_candidate", chosen.key)
        info = mlflow.spark.log_model(
            trained.model,
            "model",
            registered_model_name=name,
            # Spark NLP stages need the spark-nlp package.
            pip_requirements=registry.pinned("pyspark", "spark-nlp", "mlflow"),
        )
    version = str(info.registered_model_version)
    log.info("logged run %s, registered %s version %s", run.info.run_id, name, version)
    served = registry.Served(name, version, run.info.run_id)
    mine = trained.champion  # None: no champion, or one these reviews cannot train
    promoted, reason = registry.promote_if_not_worse(
        cfg, name, version, SELECTION_METRIC, higher_is_better=False,
        champion_value=mine.selection_loss if mine else None,
        same_data=f"its setting ({mine.key}) refitted on this run's split" if mine
        else "this run's split",
    )  # fmt: skip
    return served, promoted, reason


def encoder_of(cfg: Config, served: registry.Served) -> str | None:
    """The encoder version whose vectors a registered model reads (None: it reads text)."""
    client = registry.use_tracking(cfg)
    value = client.get_run(served.run_id).data.params.get(ENCODER_PARAM)
    return None if value in (None, "None") else value


def load(served: registry.Served) -> PipelineModel:
    """The registered PipelineModel (Spark NLP classes are mapped so it deserialises)."""
    import sys

    import sparknlp.annotator

    # PySpark finds a stage's Python class by its JVM package name; sparknlp maps most of
    # its packages to `sparknlp.annotator` but not YAKE's (spark-nlp 5.5.3).
    sys.modules.setdefault("com.johnsnowlabs.nlp.annotators.keyword.yake", sparknlp.annotator)
    return mlflow.spark.load_model(served.uri)


def score(model: PipelineModel, df: DataFrame) -> DataFrame:
    """Sentiment, keyphrases and topic for scorable rows of `df` (which has `nlp_text`, and
    the stored vector columns if the model reads them)."""
    if embeddings.EMBEDDING in df.columns:
        df = embeddings.with_vector(df)
    out = model.transform(by_length(df))
    out = out.transform(sentiment.with_prediction).transform(keyphrases.with_keyphrases)
    return out.transform(topics.with_topic)


def score_zh(model: PipelineModel, df: DataFrame, keyphrases_per_review: int) -> DataFrame:
    """Sentiment, keyphrases and topic for Chinese scorable rows of `df` (with `nlp_text`).
    A Chinese model registered before it had topics scores without one (topic null)."""
    words = chinese.with_tokens(df, TEXT).withColumn(
        topics.WORDS, chinese.phrase_words_of(F.col(TEXT))
    )
    out = model.transform(words).transform(sentiment.with_prediction)
    out = out.withColumn(
        C.KEYPHRASES, chinese.keyphrases_of(F.col(topics.WORDS), keyphrases_per_review)
    )
    if topics.DISTRIBUTION in out.columns:
        return out.transform(topics.with_topic)
    return out.withColumns({
        C.TOPIC_ID: F.lit(None).cast("int"), C.TOPIC_WEIGHT: F.lit(None).cast("double"),
    })  # fmt: skip
