"""Keyphrases per review (YAKE, unsupervised, no downloads) and what they add up to."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sparknlp.annotator import YakeKeywordExtraction

from insight.config import NlpConfig
from insight.nlp.sentiment import TOKEN

KEYWORDS = "keywords"  # annotation column
KEYPHRASES = "keyphrases"  # array<struct<phrase, score>>, best first
PHRASE, SCORE = "phrase", "score"


def keyphrase_stage(cfg: NlpConfig) -> YakeKeywordExtraction:
    """YAKE over a review's tokens: 1- to 3-word phrases; a lower score is more important."""
    return (
        YakeKeywordExtraction()
        .setInputCols([TOKEN])
        .setOutputCol(KEYWORDS)
        .setMinNGrams(1)
        .setMaxNGrams(3)
        .setNKeywords(cfg.keyphrases_per_review)
    )


def with_keyphrases(df: DataFrame) -> DataFrame:
    """`keyphrases` from YAKE's annotations: lower-cased, de-duplicated, best first."""
    pairs = F.transform(
        F.col(KEYWORDS),
        lambda a: F.struct(
            a["metadata"]["score"].cast("double").alias(SCORE),
            F.lower(a["result"]).alias(PHRASE),
        ),
    )
    # Sorting structs orders by their first field: the score.
    best_first = F.array_sort(F.array_distinct(F.coalesce(pairs, F.array())))
    return df.withColumn(
        KEYPHRASES,
        F.transform(best_first, lambda s: F.struct(s[PHRASE].alias(PHRASE), s[SCORE].alias(SCORE))),
    )
