"""Choosing the review model: each sentiment candidate (at each regularisation strength) is
fitted and measured twice, on a random stratified held-out share of the shop's rated
reviews and on reviews of product groups it never saw, and the lowest worse-of-the-two log
loss wins, so a model that memorises one shop's words cannot. Also the fixed, seeded splits
and the bounded training sample these rest on.

Why log loss and not macro F1 (which is reported, and which the benchmark aims at): a check
holds a fifth of a shop's reviews, and a few percent of those are 3-star, so 20-30 reviews
decide the neutral class's F1. Three seeds of the two checks on each shared shop (807c2bb,
the benchmark's training part): on Alexa the words candidate's unseen-groups macro F1 read
0.51, 0.52 and 0.69, and macro F1 picked the lexicon candidate on two seeds of three, worse
on the held-out quarter (0.909 / 0.683 or 0.904 / 0.657 accuracy / macro F1 against 0.934 /
0.753) and in accuracy on the clothing reviews. Log loss weighs every review by how sure the
model was: it picked the words candidate on every seed of both shops, the better one on
each shop's held-out quarter and in accuracy on the other shop; and it grows when a model
is sure of what it memorised.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from pyspark.ml import Pipeline, PipelineModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window
from sklearn.metrics import accuracy_score, f1_score

from insight import columns as C
from insight.config import SENTIMENT_CANDIDATES, NlpConfig
from insight.errors import InsightError
from insight.nlp import chinese, embeddings, sentiment
from insight.nlp.sentiment import CLASSES, LABEL, SENTIMENT, truth_probability
from insight.nlp.text import TEXT
from insight.nlp.transformer import DIMENSION

log = logging.getLogger(__name__)

MIN_TRAINING_REVIEWS = 30
_SPLIT = "_holdout"  # random, stratified held-out share
_CROSS = "_cross_holdout"  # reviews of groups (product categories) held out whole
GROUP = "_group"
# A model that gave the truth no chance at all costs -ln of this, not infinity.
_LEAST_PROBABILITY = 1e-15


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
    log_loss: float
    cross_accuracy: float
    cross_macro_f1: float
    cross_log_loss: float
    train_seconds: float
    reviews_per_second: float
    model: PipelineModel  # the candidate's own stages, fitted on the random split's rest

    @property
    def key(self) -> str:
        """The candidate and its setting, as MLflow metric names allow."""
        return self.name if self.reg_param is None else f"{self.name}_reg{self.reg_param:g}"

    @property
    def selection_loss(self) -> float:
        """The worse of the two log losses: a model that only knows one shop's words loses."""
        return max(self.log_loss, self.cross_log_loss)

    def metrics(self, key: str | None = None) -> dict[str, float]:
        key = key or self.key
        return {
            f"{key}_accuracy": self.accuracy,
            f"{key}_macro_f1": self.macro_f1,
            f"{key}_log_loss": self.log_loss,
            f"{key}_cross_accuracy": self.cross_accuracy,
            f"{key}_cross_macro_f1": self.cross_macro_f1,
            f"{key}_cross_log_loss": self.cross_log_loss,
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
    name: str,
    cfg: NlpConfig,
    rows: DataFrame,
    reg_param: float | None = None,
    *,
    score_head: bool = True,
) -> PipelineModel:
    """One candidate's stages fitted on `rows` (prepared text, vectors, `label`); without
    the score head when only its label is measured."""
    counts = sentiment.label_counts(rows) if name in sentiment.LOGREG_CANDIDATES else None
    stages = sentiment.candidate_stages(
        name, cfg, reg_param, counts, vector_size(name, rows), score_head=score_head
    )
    training = sentiment.training_rows(name, rows, cfg.seed, counts)
    return Pipeline(stages=stages).fit(by_length(training))


def vector_size(name: str, rows: DataFrame) -> int:
    """The size of the stored vectors `rows` carry (the encoder's) for a vector candidate."""
    if name not in sentiment.VECTOR_CANDIDATES:
        return DIMENSION
    return rows.select(embeddings.VECTOR).first()[0].size


def measure(model: PipelineModel, rows: DataFrame) -> tuple[float, float, float, int, float]:
    """(accuracy, macro F1, log loss, rows, seconds) of a fitted candidate on labelled
    `rows`."""
    t0 = time.monotonic()
    scored = model.transform(by_length(rows)).transform(sentiment.with_prediction)
    got = scored.select(LABEL, SENTIMENT, truth_probability(scored)).collect()
    seconds = time.monotonic() - t0
    accuracy, macro_f1 = classification_metrics(
        [r[0] for r in got], [r[1] or sentiment.NEUTRAL for r in got]
    )
    loss = -sum(math.log(max(r[2] or 0.0, _LEAST_PROBABILITY)) for r in got) / max(len(got), 1)
    return accuracy, macro_f1, loss, len(got), seconds


def train_candidate(
    name: str, cfg: NlpConfig, split: DataFrame, reg_param: float | None = None
) -> CandidateResult:
    """Fit one candidate twice and measure it: on the random held-out share (fitted on the
    rest) and on the held-out groups (fitted on the other groups). Both judge the label, so
    neither fits the score head, which is the same in every setting (a fixed penalty). One
    fit on the 2,303 Alexa training reviews: 10.9 s with it, 3.9 s without (lexicon
    candidate), 11.7 and 6.0 s (words candidate)."""
    t0 = time.monotonic()
    model = fit_candidate(name, cfg, split.where(~F.col(_SPLIT)), reg_param, score_head=False)
    train_seconds = time.monotonic() - t0
    accuracy, macro_f1, loss, n, seconds = measure(model, split.where(F.col(_SPLIT)))
    if split.where(F.col(_CROSS)).limit(1).count():
        cross = fit_candidate(name, cfg, split.where(~F.col(_CROSS)), reg_param, score_head=False)
        cross_accuracy, cross_f1, cross_loss, _, _ = measure(cross, split.where(F.col(_CROSS)))
    else:  # one group only: the random share is the only check there is
        cross_accuracy, cross_f1, cross_loss = accuracy, macro_f1, loss
    result = CandidateResult(
        name, reg_param, accuracy, macro_f1, loss, cross_accuracy, cross_f1, cross_loss,
        train_seconds, n / max(seconds, 1e-9), model,
    )  # fmt: skip
    log.info(
        "candidate %s: held-out accuracy %.3f, macro F1 %.3f, log loss %.3f; unseen groups "
        "accuracy %.3f, macro F1 %.3f, log loss %.3f (trained in %.1fs, scores %.0f reviews/s)",
        result.key, accuracy, macro_f1, loss, cross_accuracy, cross_f1, cross_loss,
        train_seconds, result.reviews_per_second,
    )  # fmt: skip
    return result


def best(results: list[CandidateResult]) -> CandidateResult:
    """Lowest worse-of-the-two log loss, then the highest worse-of-two macro F1, then speed."""
    return min(
        results,
        key=lambda r: (r.selection_loss, -min(r.macro_f1, r.cross_macro_f1), -r.reviews_per_second),
    )


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
    log.info("chosen: %s (worse-of-two log loss %.3f); refitting it on all %d reviews",
             chosen.key, chosen.selection_loss, counts[False] + counts[True])  # fmt: skip
    return chosen, results, mine, counts


def trainable(name: str, columns: list[str]) -> bool:
    """Can a split with these columns train candidate `name` (vector ones need vectors,
    the Chinese one segmented words)?"""
    if name == chinese.CANDIDATE:
        return chinese.TOKENS in columns
    needs_vectors = name in sentiment.VECTOR_CANDIDATES
    return name in SENTIMENT_CANDIDATES and (not needs_vectors or embeddings.VECTOR in columns)
