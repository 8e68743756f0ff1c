"""Sentiment models trained on the lake's own star ratings, and what they output.

Ratings are the labels (1-2 negative, 3 neutral, 4-5 positive). Three candidates:

- `word2vec_classifierdl`: Word2Vec trained on the reviews, averaged per review, then
  ClassifierDL (a small TensorFlow network, graph shipped in the Spark NLP jar).
- `vivekn`: ViveknSentimentApproach, a naive-Bayes style positive/negative model; it has
  no neutral class, so it is trained on positive and negative reviews only.
- `minilm_classifierdl`: the pretrained all-MiniLM-L6-v2 transformer (insight.nlp.transformer)
  mean-pooled per review, then ClassifierDL.

All read the `document`/`token`/`clean` columns made by `prep_stages`.
"""

from __future__ import annotations

from pyspark.ml import Transformer
from pyspark.ml.feature import StopWordsRemover
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from sparknlp.annotator import (
    ClassifierDLApproach,
    Normalizer,
    SentenceEmbeddings,
    StopWordsCleaner,
    Tokenizer,
    ViveknSentimentApproach,
    Word2VecApproach,
)
from sparknlp.base import DocumentAssembler

from insight import columns as C
from insight.config import NlpConfig
from insight.nlp.text import TEXT

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"
UNKNOWN = "unknown"
CLASSES = (NEGATIVE, NEUTRAL, POSITIVE)

LABEL = "label"  # training label from the rating
SENTIMENT = "sentiment"  # predicted label
PROBABILITY = "probability"  # the model's probability (or confidence) for its label
SENTIMENT_SCORE = "sentiment_score"  # P(positive) - P(negative), in [-1, 1]

# Annotation columns of the pipeline.
DOCUMENT, TOKEN, NORMAL, CLEAN = "document", "token", "normal", "clean"
PREDICTION = "sentiment_annotation"

# Spark's English stop words include the words that flip a sentence's meaning; keep them.
KEEP_WORDS = frozenset(
    [
        "no",
        "not",
        "nor",
        "never",
        "against",
        "very",
        "too",
        "only",
        "off",
        "don",
        "dont",
        "didn",
        "doesn",
        "isn",
        "wasn",
        "weren",
        "won",
        "wouldn",
        "couldn",
        "shouldn",
        "aren",
        "hasn",
        "haven",
        "hadn",
        "cannot",
        "can't",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "weren't",
        "won't",
        "wouldn't",
        "couldn't",
        "shouldn't",
        "aren't",
        "hasn't",
        "haven't",
        "hadn't",
    ]
)


def rating_label(rating: Column) -> Column:
    """1-2 stars negative, 3 neutral, 4-5 positive; null without a valid rating."""
    return (
        F.when(rating.isin(1, 2), NEGATIVE)
        .when(rating == 3, NEUTRAL)
        .when(rating.isin(4, 5), POSITIVE)
    )


def with_label(df: DataFrame) -> DataFrame:
    return df.withColumn(LABEL, rating_label(F.col(C.RATING)))


def stop_words(spark: SparkSession) -> list[str]:
    """Spark's English stop words minus negations and intensifiers."""
    del spark  # the JVM must be up to load the list; taking the session says so
    return [w for w in StopWordsRemover.loadDefaultStopWords("english") if w not in KEEP_WORDS]


def prep_stages(spark: SparkSession) -> list[Transformer]:
    """Text -> document -> tokens -> normalised lower-case words -> words minus stop words."""
    return [
        DocumentAssembler().setInputCol(TEXT).setOutputCol(DOCUMENT).setCleanupMode("shrink"),
        Tokenizer().setInputCols([DOCUMENT]).setOutputCol(TOKEN),
        Normalizer().setInputCols([TOKEN]).setOutputCol(NORMAL).setLowercase(True),
        StopWordsCleaner()
        .setInputCols([NORMAL])
        .setOutputCol(CLEAN)
        .setStopWords(stop_words(spark))
        .setCaseSensitive(False),
    ]


def _classifier(cfg: NlpConfig, embeddings_col: str) -> ClassifierDLApproach:
    return (
        ClassifierDLApproach()
        .setInputCols([embeddings_col])
        .setOutputCol(PREDICTION)
        .setLabelColumn(LABEL)
        .setMaxEpochs(cfg.max_epochs)
        .setLr(cfg.learning_rate)
        .setBatchSize(cfg.batch_size)
        .setRandomSeed(cfg.seed)
        .setEnableOutputLogs(False)
        .setVerbose(0)
    )


def candidate_stages(name: str, cfg: NlpConfig, minilm_path: str | None) -> list:
    """The trainable stages of one candidate, reading the columns of `prep_stages`."""
    if name == "word2vec_classifierdl":
        return [
            Word2VecApproach()
            .setInputCols([CLEAN])
            .setOutputCol("w2v")
            .setVectorSize(cfg.word2vec_dim)
            .setMinCount(2)
            .setSeed(cfg.seed)
            .setStorageRef("insight_review_w2v"),
            SentenceEmbeddings()
            .setInputCols([DOCUMENT, "w2v"])
            .setOutputCol("w2v_review")
            .setPoolingStrategy("AVERAGE"),
            _classifier(cfg, "w2v_review"),
        ]
    if name == "vivekn":
        return [
            ViveknSentimentApproach()
            .setInputCols([DOCUMENT, CLEAN])
            .setOutputCol(PREDICTION)
            .setSentimentCol(LABEL)
        ]
    if name == "minilm_classifierdl":
        from insight.nlp.transformer import minilm_embeddings

        if minilm_path is None:
            raise ValueError("minilm_classifierdl needs the exported MiniLM folder")
        return [
            minilm_embeddings(minilm_path, SparkSession.active(), [DOCUMENT, TOKEN], "minilm"),
            SentenceEmbeddings()
            .setInputCols([DOCUMENT, "minilm"])
            .setOutputCol("minilm_review")
            .setPoolingStrategy("AVERAGE"),
            _classifier(cfg, "minilm_review"),
        ]
    raise ValueError(f"unknown sentiment candidate {name!r}")


def balanced(df: DataFrame, seed: int) -> DataFrame:
    """Oversample every label up to the size of the largest one.

    Ratings are skewed (most reviews are 4-5 stars); unweighted, a classifier learns to say
    "positive" and never finds the complaints. Each row is repeated floor(ratio) times and
    once more for a seeded-hash share of rows, so the result is deterministic.
    """
    counts = {r[LABEL]: r["count"] for r in df.groupBy(LABEL).count().collect()}
    if not counts:
        return df
    largest = max(counts.values())
    ratio = F.create_map(*[x for k, n in counts.items() for x in (F.lit(k), F.lit(largest / n))])
    r = ratio[F.col(LABEL)]
    share = (F.abs(F.xxhash64(F.col(C.REVIEW_ID), F.lit(seed))) % 1_000_000) / 1_000_000
    copies = F.floor(r).cast("int") + F.when(share < r - F.floor(r), 1).otherwise(0)
    repeated = df.withColumn("_copies", F.array_repeat(F.lit(1), copies))
    return repeated.select(*df.columns, F.explode("_copies").alias("_copy")).drop("_copy")


def training_rows(name: str, df: DataFrame, seed: int) -> DataFrame:
    """Rows a candidate trains on, labels balanced. Vivekn knows only positive and negative."""
    if name == "vivekn":
        df = df.where(F.col(LABEL).isin(POSITIVE, NEGATIVE))
    return balanced(df, seed)


def with_prediction(df: DataFrame) -> DataFrame:
    """`sentiment`, `probability` and `sentiment_score` from the model's annotation.

    ClassifierDL puts each class's probability in the annotation metadata; Vivekn puts
    its confidence there and says `na` when it has no evidence either way (neutral).
    """
    first = F.col(PREDICTION).getItem(0)
    result, meta = first.getField("result"), first.getField("metadata")
    label = F.when(result == "na", NEUTRAL).otherwise(result)

    def p(cls: str) -> Column:
        return meta.getItem(cls).cast("double")

    probability = F.coalesce(meta[result].cast("double"), meta["confidence"].cast("double"))
    has_probs = p(POSITIVE).isNotNull() | p(NEGATIVE).isNotNull()
    from_probs = F.coalesce(p(POSITIVE), F.lit(0.0)) - F.coalesce(p(NEGATIVE), F.lit(0.0))
    from_label = (
        F.when(result == POSITIVE, probability)
        .when(result == NEGATIVE, -probability)
        .otherwise(F.lit(0.0))
    )
    return (
        df.withColumn(SENTIMENT, label)
        .withColumn(PROBABILITY, F.least(F.greatest(probability, F.lit(0.0)), F.lit(1.0)))
        .withColumn(SENTIMENT_SCORE, F.when(has_probs, from_probs).otherwise(from_label))
    )
