"""The review model: train the sentiment candidates, keep the best, add keyphrases and
topics, log and register it in MLflow, and score any review text with it.

One Spark ML PipelineModel holds every stage (text prep, the chosen sentiment model,
YAKE, LDA), so the version a review was scored with names everything about its insight.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import mlflow
import mlflow.spark
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window
from sklearn.metrics import accuracy_score, f1_score

from insight import columns as C
from insight.config import SENTIMENT_CANDIDATES, Config, NlpConfig
from insight.errors import InsightError
from insight.models import registry
from insight.nlp import chinese, embeddings, keyphrases, sentiment, topics
from insight.nlp.sentiment import CLASSES, LABEL, SENTIMENT
from insight.nlp.text import TEXT

log = logging.getLogger(__name__)

EXPERIMENT = "review-insights"
MIN_TRAINING_REVIEWS = 30
_SPLIT = "_holdout"  # random, stratified held-out share
_CROSS = "_cross_holdout"  # reviews of groups (product categories) held out whole
GROUP = "_group"
ENCODER_PARAM = "encoder_version"


class NotEnoughReviewsError(InsightError):
    """Too few rated reviews to train a review model."""


@dataclass(frozen=True)
class CandidateResult:
    """One candidate (at one regularisation strength) measured two ways: on a random
    held-out share of the shop's reviews, and on reviews of groups it never saw."""

    name: str
    reg_param: float | None
    accuracy: float
    macro_f1: float
    cross_accuracy: float
    cross_macro_f1: float
    train_seconds: float
    reviews_per_second: float
    model: PipelineModel  # the candidate's own stages, fitted on the random split's rest

    @property
    def key(self) -> str:
        """The candidate and its setting, as MLflow metric names allow."""
        return self.name if self.reg_param is None else f"{self.name}_reg{self.reg_param:g}"

    @property
    def selection_score(self) -> float:
        """The worse of the two macro F1s: a model that only knows one shop's words loses."""
        return min(self.macro_f1, self.cross_macro_f1)

    def metrics(self, key: str | None = None) -> dict[str, float]:
        key = key or self.key
        return {
            f"{key}_accuracy": self.accuracy,
            f"{key}_macro_f1": self.macro_f1,
            f"{key}_cross_accuracy": self.cross_accuracy,
            f"{key}_cross_macro_f1": self.cross_macro_f1,
            f"{key}_train_seconds": self.train_seconds,
            f"{key}_reviews_per_second": self.reviews_per_second,
        }


def by_length(df: DataFrame) -> DataFrame:
    """Rows ordered by text length within each partition (no shuffle).

    Spark NLP's trainable annotators (ClassifierDL) run rows in batches padded to the
    longest text of the batch; batches of similar lengths waste far less work."""
    return df.sortWithinPartitions(F.length(TEXT))


def split_holdout(df: DataFrame, share: float, seed: int, key: str = C.REVIEW_ID) -> DataFrame:
    """Add `_holdout`: a fixed, stratified split. Within each label, rows are ordered by a
    seeded hash of their key and the first `share` of them are held out."""
    return df.withColumn(_SPLIT, _first_share(share, seed, key))


def stratified_sample(df: DataFrame, share: float, seed: int, key: str = C.REVIEW_ID) -> DataFrame:
    """`share` of the rows of every label (fixed for a seed): training cost stays bounded
    however large the lake grows, and the labels keep their proportions."""
    # A window cannot stand in a WHERE clause: name it first.
    return (
        df.withColumn("_sampled", _first_share(share, seed, key)).where("_sampled").drop("_sampled")
    )


def _first_share(share: float, seed: int, key: str) -> Column:
    """Within each label, rows ordered by a seeded hash of `key`: the first `share`."""
    by_label = Window.partitionBy(LABEL)
    order = by_label.orderBy(F.xxhash64(F.col(key), F.lit(seed)), F.col(key))
    return F.row_number().over(order) <= F.round(F.count("*").over(by_label) * share)


def held_out_groups(sizes: dict[str, int], share: float, seed: int) -> list[str]:
    """Groups (e.g. product categories) to hold out whole: in a seeded order, until they
    hold `share` of the rows; never every group. Empty if there are fewer than two."""
    if len(sizes) < 2:
        return []
    order = sorted(sizes, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    total, held, out = sum(sizes.values()), 0, []
    for group in order[:-1]:
        if held >= share * total:
            break
        out.append(group)
        held += sizes[group]
    return out


def classification_metrics(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    """(accuracy, macro F1 over the classes that occur in the truth: a set without neutral
    reviews is not scored on a class it cannot have)."""
    labels = [c for c in CLASSES if c in set(truth)]
    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
    )


def fit_candidate(
    name: str, cfg: NlpConfig, rows: DataFrame, reg_param: float | None = None
) -> PipelineModel:
    """One candidate's stages fitted on `rows` (prepared text, vectors, `label`)."""
    counts = sentiment.label_counts(rows) if name in sentiment.LOGREG_CANDIDATES else None
    stages = sentiment.candidate_stages(name, cfg, reg_param, counts)
    training = sentiment.training_rows(name, rows, cfg.seed, counts)
    return Pipeline(stages=stages).fit(by_length(training))


def measure(model: PipelineModel, rows: DataFrame) -> tuple[float, float, int, float]:
    """(accuracy, macro F1, rows, seconds) of a fitted candidate on labelled `rows`."""
    t0 = time.monotonic()
    scored = model.transform(by_length(rows)).transform(sentiment.with_prediction)
    got = scored.select(LABEL, SENTIMENT).collect()
    seconds = time.monotonic() - t0
    accuracy, macro_f1 = classification_metrics(
        [r[LABEL] for r in got], [r[SENTIMENT] or sentiment.NEUTRAL for r in got]
    )
    return accuracy, macro_f1, len(got), seconds


def train_candidate(
    name: str, cfg: NlpConfig, split: DataFrame, reg_param: float | None = None
) -> CandidateResult:
    """Fit one candidate twice and measure it: on the random held-out share (fitted on the
    rest) and on the held-out groups (fitted on the other groups)."""
    t0 = time.monotonic()
    model = fit_candidate(name, cfg, split.where(~F.col(_SPLIT)), reg_param)
    train_seconds = time.monotonic() - t0
    accuracy, macro_f1, n, seconds = measure(model, split.where(F.col(_SPLIT)))
    if split.where(F.col(_CROSS)).limit(1).count():
        cross = fit_candidate(name, cfg, split.where(~F.col(_CROSS)), reg_param)
        cross_accuracy, cross_f1, _, _ = measure(cross, split.where(F.col(_CROSS)))
    else:  # one group only: the random share is the only check there is
        cross_accuracy, cross_f1 = accuracy, macro_f1
    result = CandidateResult(
        name, reg_param, accuracy, macro_f1, cross_accuracy, cross_f1, train_seconds,
        n / max(seconds, 1e-9), model,
    )  # fmt: skip
    log.info(
        "candidate %s: held-out accuracy %.3f, macro F1 %.3f; unseen groups accuracy %.3f, "
        "macro F1 %.3f (trained in %.1fs, scores %.0f reviews/s)",
        result.key, accuracy, macro_f1, cross_accuracy, cross_f1, train_seconds,
        result.reviews_per_second,
    )  # fmt: skip
    return result


def best(results: list[CandidateResult]) -> CandidateResult:
    """Highest worse-of-the-two macro F1, then the same for accuracy, then speed."""
    return max(
        results,
        key=lambda r: (r.selection_score, min(r.accuracy, r.cross_accuracy), r.reviews_per_second),
    )


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
    of `labelled`. Its keyphrases come from the segmented words at scoring (score_zh)."""
    n = cfg.nlp
    prepared = chinese.with_tokens(labelled.select(C.REVIEW_ID, TEXT, LABEL, GROUP), TEXT)
    settings = [(chinese.CANDIDATE, reg) for reg in n.zh_reg_params]
    split, groups, cross_rows = selection_split(prepared, n)
    try:
        chosen, results, mine, counts = select(split, n, settings, champion)
        final = fit_candidate(chosen.name, n, split, chosen.reg_param)
    finally:
        split.unpersist()
    return Trained(PipelineModel(stages=final.stages), chosen, results, counts[False],
                   counts[True], cross_rows, groups, mine)  # fmt: skip


def selection_split(prepared: DataFrame, n: NlpConfig) -> tuple[DataFrame, list[str], int]:
    """(`prepared` with the random and the group hold-out marked, cached; the held-out
    groups; rows in them)."""
    sizes = {r[GROUP]: r["count"] for r in prepared.groupBy(GROUP).count().collect()}
    groups = held_out_groups(sizes, n.holdout_share, n.seed)
    log.info("holding out %d of %d groups (%d reviews) for the unseen-group check",
             len(groups), len(sizes), sum(sizes[g] for g in groups))  # fmt: skip
    split = (
        split_holdout(prepared, n.holdout_share, n.seed)
        .withColumn(_CROSS, F.col(GROUP).isin(groups) if groups else F.lit(False))
        .cache()
    )
    return split, groups, sum(sizes[g] for g in groups)


def select(
    split: DataFrame,
    n: NlpConfig,
    settings: list[tuple[str, float | None]],
    champion: tuple[str, float | None] | None,
) -> tuple[CandidateResult, list[CandidateResult], CandidateResult | None, dict[bool, int]]:
    """Train and measure every (candidate, reg_param) of `settings` on `split` and pick the
    best. Returns (chosen, every result, the champion's setting measured on this split or
    None, rows per side of the random split {False: training, True: held out})."""
    counts = {
        r[_SPLIT]: r["n"] for r in split.groupBy(_SPLIT).agg(F.count("*").alias("n")).collect()
    }
    counts = {False: counts.get(False, 0), True: counts.get(True, 0)}
    if counts[False] < MIN_TRAINING_REVIEWS or counts[True] == 0:
        raise NotEnoughReviewsError(
            f"only {counts[False] + counts[True]} rated reviews with usable text; the "
            f"sentiment model needs at least {MIN_TRAINING_REVIEWS} to train on"
        )
    log.info("training sentiment candidates on %d reviews, %d held out at random",
             counts[False], counts[True])  # fmt: skip
    results = [train_candidate(name, n, split, reg) for name, reg in settings]
    chosen = best(results)
    mine = next((r for r in results if (r.name, r.reg_param) == champion), None)
    if mine is None and champion is not None and trainable(champion[0], split.columns):
        mine = train_candidate(champion[0], n, split, champion[1])
    log.info("chosen: %s (worse-of-two macro F1 %.3f); refitting it on all %d reviews",
             chosen.key, chosen.selection_score, counts[False] + counts[True])  # fmt: skip
    return chosen, results, mine, counts


def trainable(name: str, columns: list[str]) -> bool:
    """Can a split with these columns train candidate `name` (vector ones need vectors,
    the Chinese one segmented words)?"""
    if name == chinese.CANDIDATE:
        return chinese.TOKENS in columns
    needs_vectors = name in sentiment.VECTOR_CANDIDATES
    return name in SENTIMENT_CANDIDATES and (not needs_vectors or embeddings.VECTOR in columns)


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
    better (worse-of-two macro F1). Returns (registered version, promoted, reason).

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
            "selection_score": chosen.selection_score,
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
        cfg, name, version, "selection_score",
        champion_value=mine.selection_score if mine else None,
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
    """Sentiment and keyphrases for Chinese scorable rows of `df` (with `nlp_text`); no
    topic (the topics are learnt from English words)."""
    words = chinese.with_tokens(df, TEXT)
    out = model.transform(words).transform(sentiment.with_prediction)
    return out.withColumns({
        C.KEYPHRASES: chinese.keyphrases_of(F.col(TEXT), keyphrases_per_review),
        C.TOPIC_ID: F.lit(None).cast("int"),
        C.TOPIC_WEIGHT: F.lit(None).cast("double"),
    })  # fmt: skip
