"""Sentiment models trained on the lake's own star ratings, and what they output.

Ratings are the labels (1-2 negative, 3 neutral, 4-5 positive). Candidates:

- `minilm_logreg`: the pretrained all-MiniLM-L6-v2 sentence vector (stored once per review,
  insight.nlp.embeddings) into an L2-regularised multinomial logistic regression (Spark
  MLlib), classes weighted instead of rows duplicated. A linear model on a general-purpose
  encoder carries over to other shops; the regularisation is chosen by validation.
- `minilm_lexicon_logreg`: the same, with the VADER lexicon's polarity scores of the text
  as three more features (a prior that knows words the shop's reviews never used).
- `minilm_words_logreg`: the same, plus which words the review uses (IDF-weighted, unit
  length; see word_stages), the two blocks weighed alike: a sentence vector blurs the
  words a shop's reviews turn on ("returned", "stopped working").
- `vivekn`: ViveknSentimentApproach, a naive-Bayes style positive/negative model on the
  review's words; it has no neutral class, so it is trained on positive and negative only.
- `word2vec_classifierdl`: Word2Vec trained on the reviews, averaged per review, then
  ClassifierDL (a small TensorFlow network, graph shipped in the Spark NLP jar).

The text candidates read the `document`/`token`/`clean` columns made by `prep_stages`;
the vector candidates read the stored vector and lexicon columns (the lexicon scores enter
LEXICON_COPIES times) and have two logistic-regression heads on them (the candidates differ
only in what the label head reads; the score head reads vector, lexicon and words in all):

- the label head gives `sentiment` and `probability`. Its L2 strength is chosen from
  `nlp.reg_params` by the selection's checks, which are inside one shop and favour weak
  penalties that learn the shop's own words: right for a label about this shop.
- the score head gives `sentiment_score` = P(positive) - P(negative), class-balanced, at one
  strong fixed penalty (`nlp.score_reg_param`): trained on one shop and measured on the
  other, weak penalties lost 12-14 points of balanced polarity accuracy (bench/sentiment.py
  measures the curve). Class-balanced, it does not assume the shop's mix of good and bad
  reviews, so its sign stays right on sets with another mix.

The label leans halfway back to the shop's own mix (see LABEL_PRIOR_POWER); it and the
score's sign can disagree on a borderline review.
"""

from __future__ import annotations

from pyspark.ml import Transformer
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import (
    IDF,
    CountVectorizer,
    ElementwiseProduct,
    Normalizer,
    RegexTokenizer,
    StandardScaler,
    StopWordsRemover,
    VectorAssembler,
)
from pyspark.ml.functions import vector_to_array
from pyspark.ml.linalg import Vectors
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from sparknlp.annotator import (
    ClassifierDLApproach,
    SentenceEmbeddings,
    StopWordsCleaner,
    Tokenizer,
    ViveknSentimentApproach,
    Word2VecApproach,
)
from sparknlp.annotator import (
    Normalizer as TokenNormalizer,
)
from sparknlp.base import DocumentAssembler

from insight import columns as C
from insight.config import NlpConfig
from insight.nlp import chinese
from insight.nlp.embeddings import LEXICON, VECTOR
from insight.nlp.text import TEXT
from insight.nlp.transformer import DIMENSION

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
# Candidates that read the stored encoder vectors, and their columns.
VECTOR_CANDIDATES = ("minilm_logreg", "minilm_lexicon_logreg", "minilm_words_logreg")
# Candidates whose head is a class-weighted logistic regression at a chosen strength: the
# vector ones and the Chinese one (insight.nlp.chinese).
LOGREG_CANDIDATES = (*VECTOR_CANDIDATES, chinese.CANDIDATE)
LABEL_INDEX = "label_index"  # index of LABEL in CLASSES
CLASS_WEIGHT = "class_weight"
FEATURES = "sentiment_features"  # what the label head reads
SCORE_FEATURES = "score_features"  # what the score head reads: vector, lexicon and words
# The score head's and minilm_words_logreg's inputs, on the way to SCORE_FEATURES.
DENSE, DENSE_STANDARD, DENSE_SCALED = "dense", "dense_standard", "dense_scaled"
WORDS, WORD_COUNTS, WORD_IDF, WORD_FEATURES = "words", "word_counts", "word_idf", "word_features"
# A word the training reviews used once is a name or a typo more often than an opinion.
WORD_MIN_REVIEWS = 2
LR_PROBABILITY = "lr_probability"  # not `probability`: that is an output column of ours
LR_PREDICTION = "lr_prediction"
SCORE_PROBABILITY = "score_probability"  # the score head's class probabilities
# With standardised features each input pays the same L2 penalty, so one lexicon score
# weighs like one of the 384 vector components; in copies the weight spreads and costs
# less. Ten carried over between shops better than one (offline replica of the bench).
LEXICON_COPIES = 10
# Labels are argmax of P(class) x (share of the class in training) ^ this power: 0 keeps the
# class-balanced decision (finds complaints, but calls too many reviews negative on a
# mostly-happy shop), 1 the shop's own mix (misses complaints); half-way kept Alexa
# in-domain accuracy at 0.90-0.91 with the best 3-class macro F1 (offline replica).
LABEL_PRIOR_POWER = 0.5

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
        TokenNormalizer().setInputCols([TOKEN]).setOutputCol(NORMAL).setLowercase(True),
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


def label_thresholds(counts: dict[str, int]) -> list[float]:
    """LogisticRegression thresholds t (it predicts argmax p / t) that make the label
    argmax p x share ^ LABEL_PRIOR_POWER; one per class index up to the last one present."""
    total = sum(counts.values())
    last = max(CLASSES.index(c) for c in counts)
    return [
        (counts[c] / total) ** -LABEL_PRIOR_POWER if counts.get(c) else 1.0
        for c in CLASSES[: last + 1]
    ]


def candidate_stages(
    name: str,
    cfg: NlpConfig,
    reg_param: float | None = None,
    counts: dict[str, int] | None = None,
    dimension: int = DIMENSION,
    *,
    score_head: bool = True,
) -> list:
    """The trainable stages of one candidate. Text candidates read the columns of
    `prep_stages`; vector candidates read VECTOR (of `dimension` numbers), LEXICON and TEXT,
    the Chinese one chinese.TOKENS; those need `reg_param` and the training rows' label
    `counts`. Without `score_head` a vector candidate has its label head only (what the
    selection measures)."""
    if name in LOGREG_CANDIDATES and (reg_param is None or not counts):
        raise ValueError(f"{name} needs a regularisation strength and the label counts")
    # Every logistic-regression head: class-weighted rows, L2 only, multinomial.
    common = dict(featuresCol=FEATURES, labelCol=LABEL_INDEX, weightCol=CLASS_WEIGHT,
                  family="multinomial", elasticNetParam=0.0, maxIter=100, tol=1e-5)  # fmt: skip
    if name == chinese.CANDIDATE:
        label_head = dict(common, probabilityCol=LR_PROBABILITY, rawPredictionCol="lr_raw",
                          predictionCol=LR_PREDICTION)  # fmt: skip
        return chinese.stages(cfg, reg_param, label_thresholds(counts), label_head)
    if name in VECTOR_CANDIDATES:
        return _vector_stages(
            name, cfg, reg_param, label_thresholds(counts), common, dimension, score_head
        )
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
    raise ValueError(f"unknown sentiment candidate {name!r}")


def _vector_stages(
    name: str, cfg: NlpConfig, reg_param: float, thresholds: list[float], common: dict,
    dimension: int, score_head: bool,
) -> list:  # fmt: skip
    """A vector candidate's two heads. The score head always reads vector, lexicon and words:
    without the lexicon the score's zero moves with the shop (trained on Alexa, scored on
    clothing: 0.54-0.59 plain binary accuracy where the vector alone was read, 0.89 with the
    lexicon, c5ffb87); the words lifted its AUC across shops from 0.910 to 0.932 (Alexa ->
    clothing) and 0.928 to 0.938 (053a6e9). The label head chosen must not decide that."""
    dense = [VECTOR, *LEXICON * LEXICON_COPIES]
    width = dimension + len(LEXICON) * LEXICON_COPIES
    # Read unstandardised: words on their unit-length scale, each dense column at unit
    # variance over width, so both blocks weigh the same. The penalty is divided by the
    # same width, which leaves it the one a standardised fit would apply to the dense part.
    words = name == "minilm_words_logreg"
    stages = [
        VectorAssembler(inputCols=dense, outputCol=DENSE),
        StandardScaler(inputCol=DENSE, outputCol=DENSE_STANDARD, withMean=True, withStd=True),
        ElementwiseProduct(
            inputCol=DENSE_STANDARD, outputCol=DENSE_SCALED,
            scalingVec=Vectors.dense([width**-0.5] * width),
        ),
        *word_stages(),
        VectorAssembler(inputCols=[DENSE_SCALED, WORD_FEATURES], outputCol=SCORE_FEATURES),
    ] if words or score_head else []  # fmt: skip
    label = dict(common, regParam=reg_param, thresholds=thresholds)
    if words:
        label |= dict(standardization=False, featuresCol=SCORE_FEATURES, regParam=reg_param / width)
    else:
        read = dense if name == "minilm_lexicon_logreg" else [VECTOR]
        stages.append(VectorAssembler(inputCols=read, outputCol=FEATURES))
    # The label head: the shop's own classes, at the chosen strength.
    stages.append(LogisticRegression(
        **label, probabilityCol=LR_PROBABILITY, rawPredictionCol="lr_raw",
        predictionCol=LR_PREDICTION,
    ))  # fmt: skip
    if score_head:
        # The score head: polarity that carries to other texts, at a fixed strong penalty.
        stages.append(LogisticRegression(**dict(
            common, standardization=False, featuresCol=SCORE_FEATURES,
            regParam=cfg.score_reg_param / width,
            probabilityCol=SCORE_PROBABILITY, rawPredictionCol="score_raw",
            predictionCol="score_prediction",
        )))  # fmt: skip
    return stages


def word_stages() -> list:
    """TEXT -> WORD_FEATURES: which words a review uses (words of two or more letters or
    digits, lower case, seen in at least WORD_MIN_REVIEWS training reviews), IDF-weighted,
    unit length. Present or not, not counted: reviews are short."""
    return [
        RegexTokenizer(inputCol=TEXT, outputCol=WORDS, pattern=r"(?U)\w\w+", gaps=False),
        CountVectorizer(inputCol=WORDS, outputCol=WORD_COUNTS, binary=True,
                        minDF=WORD_MIN_REVIEWS),
        IDF(inputCol=WORD_COUNTS, outputCol=WORD_IDF),
        Normalizer(p=2.0, inputCol=WORD_IDF, outputCol=WORD_FEATURES),
    ]  # fmt: skip


def label_counts(df: DataFrame) -> dict[str, int]:
    """Rows per training label."""
    return {r[LABEL]: r["count"] for r in df.groupBy(LABEL).count().collect()}


def with_class_weights(df: DataFrame, counts: dict[str, int]) -> DataFrame:
    """LABEL_INDEX and CLASS_WEIGHT = rows / (classes x rows of the class): every class
    weighs the same in the loss, without duplicated rows (ratings are mostly 4-5 stars)."""
    total = sum(counts.values())
    weight = F.create_map(
        *[x for k, n in counts.items() for x in (F.lit(k), F.lit(total / (len(counts) * n)))]
    )
    return df.withColumn(LABEL_INDEX, class_index(F.col(LABEL)).cast("double")).withColumn(
        CLASS_WEIGHT, weight[F.col(LABEL)]
    )


def class_index(label: Column) -> Column:
    """The index of a label in CLASSES (the logistic regressions' class order)."""
    return F.create_map(*[x for i, c in enumerate(CLASSES) for x in (F.lit(c), F.lit(i))])[label]


def balanced(df: DataFrame, seed: int) -> DataFrame:
    """Oversample every label up to the size of the largest one.

    Ratings are skewed (most reviews are 4-5 stars); unweighted, a classifier learns to say
    "positive" and never finds the complaints. Each row is repeated floor(ratio) times and
    once more for a seeded-hash share of rows, so the result is deterministic.
    """
    counts = label_counts(df)
    if not counts:
        return df
    largest = max(counts.values())
    ratio = F.create_map(*[x for k, n in counts.items() for x in (F.lit(k), F.lit(largest / n))])
    r = ratio[F.col(LABEL)]
    share = (F.abs(F.xxhash64(F.col(C.REVIEW_ID), F.lit(seed))) % 1_000_000) / 1_000_000
    copies = F.floor(r).cast("int") + F.when(share < r - F.floor(r), 1).otherwise(0)
    repeated = df.withColumn("_copies", F.array_repeat(F.lit(1), copies))
    return repeated.select(*df.columns, F.explode("_copies").alias("_copy")).drop("_copy")


def training_rows(
    name: str, df: DataFrame, seed: int, counts: dict[str, int] | None = None
) -> DataFrame:
    """Rows a candidate trains on, labels balanced (by weight for the vector candidates, by
    oversampling for the text ones). Vivekn knows only positive and negative."""
    if name in LOGREG_CANDIDATES:
        return with_class_weights(df, counts or label_counts(df))
    if name == "vivekn":
        df = df.where(F.col(LABEL).isin(POSITIVE, NEGATIVE))
    return balanced(df, seed)


def with_prediction(df: DataFrame) -> DataFrame:
    """`sentiment`, `probability` and `sentiment_score` from the model's output.

    Logistic regression gives a probability per class; ClassifierDL puts each class's
    probability in the annotation metadata; Vivekn puts its confidence there and says `na`
    when it has no evidence either way (neutral).
    """
    if LR_PROBABILITY in df.columns:
        return _from_probabilities(df)
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


def truth_probability(df: DataFrame) -> Column:
    """The probability a scored model (after with_prediction) gave each row's true LABEL:
    its own probability of that class where it has one per class (logistic regression,
    ClassifierDL), else its confidence when its label is right and the rest of that
    confidence spread over the other classes when it is wrong (Vivekn)."""
    label = F.col(LABEL)
    if LR_PROBABILITY in df.columns:
        # A model trained without the top classes has a shorter vector: they got 0.
        probabilities = vector_to_array(F.col(LR_PROBABILITY))
        return F.coalesce(F.get(probabilities, class_index(label)), F.lit(0.0))
    own = F.col(PREDICTION).getItem(0).getField("metadata")[label].cast("double")
    spread = F.when(F.col(SENTIMENT) == label, F.col(PROBABILITY)).otherwise(
        (1 - F.col(PROBABILITY)) / (len(CLASSES) - 1)
    )
    return F.coalesce(own, spread)


def _from_probabilities(df: DataFrame) -> DataFrame:
    """The label head's label (see LABEL_PRIOR_POWER) and its class-balanced probability;
    score P(positive) - P(negative) of the score head (of the label head in models saved
    before there was one). A model trained without the top classes has a shorter vector:
    their probability is 0."""
    scores = SCORE_PROBABILITY if SCORE_PROBABILITY in df.columns else LR_PROBABILITY

    def p(i: int) -> Column:
        return F.when(F.size("_p") > i, F.col("_p")[i]).otherwise(F.lit(0.0))

    best = F.col(LR_PREDICTION).cast("int")
    classes = F.array(*[F.lit(c) for c in CLASSES])
    return (
        df.withColumn("_p", vector_to_array(F.col(scores)))
        .withColumn(SENTIMENT_SCORE, p(CLASSES.index(POSITIVE)) - p(CLASSES.index(NEGATIVE)))
        .withColumn("_p", vector_to_array(F.col(LR_PROBABILITY)))
        .withColumn(SENTIMENT, classes[best])
        .withColumn(PROBABILITY, F.col("_p")[best])
        .drop("_p")
    )
