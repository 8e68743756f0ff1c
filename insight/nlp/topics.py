"""Topics: Spark MLlib LDA over the reviews' normalised, stop-word-free words."""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.ml.clustering import LDA, LDAModel
from pyspark.ml.feature import CountVectorizerModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sparknlp.base import Finisher

from insight.config import NlpConfig
from insight.nlp.sentiment import CLEAN

WORDS = "topic_words"
TERM_COUNTS = "term_counts"
DISTRIBUTION = "topic_distribution"
TOPIC_ID = "topic_id"
TOPIC_WEIGHT = "topic_weight"
TERM, WEIGHT, TERM_RANK = "term", "weight", "term_rank"


def finisher() -> Finisher:
    """The reviews' cleaned tokens as a plain array column (WORDS), for the topic stages."""
    return Finisher().setInputCols([CLEAN]).setOutputCols([WORDS]).setCleanAnnotations(False)


def vocabulary(words: DataFrame, cfg: NlpConfig) -> list[str]:
    """The `vocab_size` most frequent terms of documents in at least `min_doc_freq` of them,
    ties by term: CountVectorizer's own choice breaks ties in partition order, so the same
    reviews stored in other files would give other term indices and other topics."""
    every = words.select(F.explode(F.col(WORDS)).alias("_t"))
    per_doc = words.select(F.explode(F.array_distinct(WORDS)).alias("_t"))
    tf = every.groupBy("_t").count().withColumnRenamed("count", "_tf")
    df = per_doc.groupBy("_t").count().where(F.col("count") >= cfg.min_doc_freq).select("_t")
    top = tf.join(df, "_t").orderBy(F.col("_tf").desc(), F.col("_t")).limit(cfg.vocab_size)
    return [r["_t"] for r in top.collect()]


def fit_topics(words: DataFrame, cfg: NlpConfig, key: str) -> list:
    """[term counts, LDA topic mixture] fitted on `words` (a WORDS column, one row per
    review, `key` unique). Deterministic for the same rows however they are stored and
    whatever the session's shuffle partitions: a fixed vocabulary order, and LDA (whose
    online optimizer samples each partition) fed `lda_partitions` hash partitions sorted
    by key."""
    counter = CountVectorizerModel.from_vocabulary(
        vocabulary(words, cfg), inputCol=WORDS, outputCol=TERM_COUNTS
    )
    docs = counter.transform(words.repartition(cfg.lda_partitions, key).sortWithinPartitions(key))
    lda = LDA(
        featuresCol=TERM_COUNTS,
        topicDistributionCol=DISTRIBUTION,
        k=cfg.topics,
        maxIter=cfg.lda_max_iter,
        seed=cfg.seed,
        optimizer="online",
    ).fit(docs)
    return [counter, lda]


def with_topic(df: DataFrame) -> DataFrame:
    """`topic_id` (the most likely topic) and its weight; null when a review has no known
    words (LDA then returns a flat mixture that says nothing)."""
    known = F.size(F.col(WORDS)) > 0
    with_dist = df.withColumn("_dist", vector_to_array(F.col(DISTRIBUTION)))
    best = F.expr("array_position(_dist, array_max(_dist)) - 1").cast("int")
    return (
        with_dist.withColumn(TOPIC_ID, F.when(known, best))
        .withColumn(TOPIC_WEIGHT, F.when(known, F.array_max("_dist")))
        .drop("_dist")
    )


def topic_terms(spark: SparkSession, model: PipelineModel, terms: int = 15) -> DataFrame:
    """(topic_id, term_rank, term, weight) of a fitted model: what each topic is about."""
    vocab = next(s for s in model.stages if isinstance(s, CountVectorizerModel)).vocabulary
    lda = next(s for s in model.stages if isinstance(s, LDAModel))
    rows = [
        (int(r["topic"]), rank, vocab[i], float(w))
        for r in lda.describeTopics(terms).collect()
        for rank, (i, w) in enumerate(zip(r["termIndices"], r["termWeights"], strict=True), 1)
    ]
    schema = f"{TOPIC_ID} int, {TERM_RANK} int, {TERM} string, {WEIGHT} double"
    return spark.createDataFrame(rows, schema)
