"""Review vectors, computed once per encoder version and kept in gold.review_embeddings.

Pushing a review through the transformer is the nlp job's dominant cost. Each scorable
review is embedded once per encoder version (MiniLM mean-pooled sentence vector plus the
VADER lexicon's polarity scores) and stored with a hash of the text it was computed from;
training, candidate selection and scoring all read the stored rows. A review whose text
changed (re-sent) or a new encoder version is embedded again; nothing else is.
"""

from __future__ import annotations

import importlib.metadata

import pandas as pd
from pyspark.ml.functions import array_to_vector
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import columns as C
from insight.config import NlpConfig
from insight.errors import InsightError
from insight.nlp.text import TEXT

EMBEDDING = "embedding"  # array<float>, the stored mean-pooled MiniLM vector
ENCODER_VERSION = "encoder_version"
TEXT_HASH = "text_hash"
EMBEDDED_AT = "embedded_at"
# VADER's polarity scores of the same text: a lexicon prior that carries across shops.
LEXICON_COMPOUND = "lexicon_compound"
LEXICON_POSITIVE = "lexicon_positive"
LEXICON_NEGATIVE = "lexicon_negative"
LEXICON = (LEXICON_COMPOUND, LEXICON_POSITIVE, LEXICON_NEGATIVE)
VECTOR = "minilm_vector"  # the stored array as an ML vector, what the classifiers read
STORED = (EMBEDDING, *LEXICON)


def text_hash(text: Column) -> Column:
    """What a stored vector was computed from: a changed text is embedded again."""
    return F.sha2(text, 256)


def version(cfg: NlpConfig) -> str:
    """Everything that changes a stored row: the encoder export, precision and length, and
    the lexicon's version."""
    from insight.nlp.transformer import encoder_version

    vader = importlib.metadata.version("vaderSentiment")
    from insight.nlp.encoder import POOLING

    encoder = encoder_version(minilm_root(cfg), cfg.encoder_precision, cfg.encoder_max_tokens)
    return f"{encoder}/{POOLING}+vader{vader}"


def embed(cfg: NlpConfig, reviews: DataFrame) -> DataFrame:
    """`reviews` (with `nlp_text`) plus EMBEDDING and the LEXICON scores.

    The MiniLM export is read where it is (a local or mounted path every worker sees) or,
    for a URI, shipped to each worker once with SparkContext.addFile."""
    from insight import storage
    from insight.nlp import encoder
    from insight.nlp.transformer import encoder_dir

    path = encoder_dir(minilm_root(cfg), cfg.encoder_precision)
    shipped = not storage.is_local(path)
    if shipped:
        reviews.sparkSession.sparkContext.addFile(path, recursive=True)
    vector = encoder.vectors(
        F.col(TEXT), path, cfg.encoder_max_tokens, cfg.encoder_batch_size, shipped=shipped
    )
    out = reviews.withColumn(EMBEDDING, vector).withColumn("_lex", _vader(F.col(TEXT)))
    out = out.withColumns({name: F.col("_lex").getField(name) for name in LEXICON})
    return out.drop("_lex")


_VADER_TYPE = T.StructType([T.StructField(n, T.DoubleType()) for n in LEXICON])


@F.pandas_udf(_VADER_TYPE)
def _vader(texts: pd.Series) -> pd.DataFrame:
    analyzer = _analyzer()
    scores = [analyzer.polarity_scores(t or "") for t in texts]
    return pd.DataFrame(
        {
            LEXICON_COMPOUND: [s["compound"] for s in scores],
            LEXICON_POSITIVE: [s["pos"] for s in scores],
            LEXICON_NEGATIVE: [s["neg"] for s in scores],
        }
    )


_ANALYZER = None


def _analyzer():
    # One analyzer per Python worker: loading the lexicon file takes ~0.1 s.
    global _ANALYZER
    if _ANALYZER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _ANALYZER = SentimentIntensityAnalyzer()
    return _ANALYZER


def missing(reviews: DataFrame, stored: DataFrame, encoder_version: str) -> DataFrame:
    """Rows of `reviews` with no stored vector of `encoder_version` for their current text."""
    have = stored.where(F.col(ENCODER_VERSION) == encoder_version).select(C.REVIEW_ID, TEXT_HASH)
    keyed = reviews.withColumn(TEXT_HASH, text_hash(F.col(TEXT)))
    return keyed.join(have, [C.REVIEW_ID, TEXT_HASH], "left_anti")


def with_stored(reviews: DataFrame, stored: DataFrame, encoder_version: str) -> DataFrame:
    """`reviews` joined to their stored vectors (rows without one are dropped)."""
    rows = stored.where(F.col(ENCODER_VERSION) == encoder_version).select(
        C.REVIEW_ID, TEXT_HASH, *STORED
    )
    keyed = reviews.withColumn(TEXT_HASH, text_hash(F.col(TEXT)))
    return keyed.join(rows, [C.REVIEW_ID, TEXT_HASH]).drop(TEXT_HASH)


def with_vector(df: DataFrame) -> DataFrame:
    """Add VECTOR (an ML vector) from the stored EMBEDDING array, for the classifiers."""
    return df.withColumn(VECTOR, array_to_vector(F.col(EMBEDDING)))


def minilm_root(cfg: NlpConfig) -> str:
    """The exported MiniLM folder (written by `make setup`), checked before any work."""
    from pathlib import Path

    from insight import storage
    from insight.nlp.transformer import MARKER

    if not storage.is_local(cfg.minilm_dir):
        return cfg.minilm_dir  # Spark NLP reads remote folders itself
    path = Path(cfg.minilm_dir).expanduser()
    if not (path / MARKER).is_file():
        raise InsightError(
            f"nlp.minilm_dir {path} holds no exported MiniLM model: run "
            f"`python -m insight.nlp.transformer {path}` (make setup does), or keep only "
            "text candidates (vivekn, word2vec_classifierdl) in nlp.candidates"
        )
    return str(path)
