"""Schemas of the review-intelligence gold tables, one comment per column."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.tables import Table
from insight.tables import commented as _f

REVIEW_INSIGHTS = Table("gold", "review_insights")
REVIEW_EMBEDDINGS = Table("gold", "review_embeddings")
TOPIC_TERMS = Table("gold", "topic_terms")
KEYPHRASE_WEEKLY = Table("gold", "keyphrase_weekly")
PRODUCT_SENTIMENT_DAILY = Table("gold", "product_sentiment_daily")
SENTIMENT_ALERTS = Table("gold", "sentiment_alerts")

KEYPHRASE = T.StructType([T.StructField("phrase", T.StringType()),
                          T.StructField("score", T.DoubleType())])  # fmt: skip

REVIEW_INSIGHTS_SCHEMA = T.StructType([
    _f(C.REVIEW_ID, T.StringType(), "review id from the source", False),
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)"),
    _f(C.PRODUCT_ID, T.StringType(), "reviewed product"),
    _f(C.BRAND, T.StringType(), "brand of the product"),
    _f(C.RATING, T.IntegerType(), "stars given, 1 to 5 (null if none)"),
    _f(C.REVIEW_DATE, T.DateType(), "UTC date the review was written"),
    _f(C.SENTIMENT, T.StringType(), "positive, neutral, negative; unknown if text unusable", False),
    _f(C.PROBABILITY, T.DoubleType(), "model probability (or confidence) of that label, 0-1"),
    _f(C.SENTIMENT_SCORE, T.DoubleType(), "P(positive) - P(negative), -1 to 1; null if unknown"),
    _f(C.TEXT_STATUS, T.StringType(), "ok, markup_removed, truncated; or why unknown: empty, "
       "no_words, non_latin", False),
    _f(C.LANGUAGE, T.StringType(), "en, zh or other (script statistics); zh has its own model"),
    _f(C.KEYPHRASES, T.ArrayType(KEYPHRASE), "keyphrases, best (lowest score) first: YAKE; "
       "zh: segmented words by TF-IDF, score 1/TF-IDF", False),
    _f(C.TOPIC_ID, T.IntegerType(), "most likely LDA topic (see gold.topic_terms)"),
    _f(C.TOPIC_WEIGHT, T.DoubleType(), "share of the review in that topic, 0-1"),
    _f(C.MODEL_VERSION, T.StringType(), "registered model name/version that scored it", False),
    _f(C.SENT_AT, T.TimestampType(), "source version of the review that was scored", False),
    _f(C.AS_OF, T.DateType(), "business date of the run that scored it", False),
    _f(C.SCORED_AT, T.TimestampType(), "when it was scored, UTC", False),
])  # fmt: skip

REVIEW_EMBEDDINGS_SCHEMA = T.StructType([
    _f(C.REVIEW_ID, T.StringType(), "review id from the source", False),
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (so erasure finds the row)"),
    _f("encoder_version", T.StringType(), "encoder export/precision/length + lexicon version",
       False),
    _f("text_hash", T.StringType(), "SHA-256 of the text the vector was computed from", False),
    _f("embedding", T.ArrayType(T.FloatType()), "MiniLM mean-pooled sentence vector (384)",
       False),
    _f("lexicon_compound", T.DoubleType(), "VADER compound polarity, -1 to 1"),
    _f("lexicon_positive", T.DoubleType(), "VADER positive share of the text, 0-1"),
    _f("lexicon_negative", T.DoubleType(), "VADER negative share of the text, 0-1"),
    _f("embedded_at", T.TimestampType(), "when the vector was computed, UTC", False),
])  # fmt: skip

TOPIC_TERMS_SCHEMA = T.StructType([
    _f(C.MODEL_VERSION, T.StringType(), "model whose LDA defines the topics", False),
    _f(C.TOPIC_ID, T.IntegerType(), "topic", False),
    _f("term_rank", T.IntegerType(), "1 = the topic's heaviest term", False),
    _f("term", T.StringType(), "normalised word", False),
    _f("weight", T.DoubleType(), "weight of the term in the topic", False),
])  # fmt: skip

KEYPHRASE_WEEKLY_SCHEMA = T.StructType([
    _f(C.LEVEL, T.StringType(), "product or brand", False),
    _f(C.ENTITY_ID, T.StringType(), "product id or brand name", False),
    _f(C.WEEK_START, T.DateType(), "Monday of the review week", False),
    _f("keyphrase", T.StringType(), "keyphrase (lower case)", False),
    _f("mentions", T.LongType(), "reviews that week with this keyphrase", False),
    _f("positive_mentions", T.LongType(), "of those, reviews scored positive", False),
    _f("negative_mentions", T.LongType(), "of those, reviews scored negative", False),
    _f("praise_rank", T.IntegerType(), "rank among the week's praised phrases (top N only)"),
    _f("complaint_rank", T.IntegerType(), "rank among the week's complaints (top N only)"),
])  # fmt: skip

PRODUCT_SENTIMENT_DAILY_SCHEMA = T.StructType([
    _f(C.PRODUCT_ID, T.StringType(), "product", False),
    _f(C.BRAND, T.StringType(), "brand of the product"),
    _f(C.DAY, T.DateType(), "UTC review date", False),
    _f("reviews", T.LongType(), "reviews with a known sentiment that day", False),
    _f("mean_sentiment", T.DoubleType(), "mean sentiment_score, -1 to 1"),
    _f("negative_share", T.DoubleType(), "share of reviews scored negative"),
    _f("positive_share", T.DoubleType(), "share of reviews scored positive"),
    _f("top_keyphrases", T.ArrayType(T.StringType()), "most mentioned keyphrases that day"),
])  # fmt: skip

SENTIMENT_ALERTS_SCHEMA = T.StructType([
    _f(C.AS_OF, T.DateType(), "business date the alert is for", False),
    _f(C.LEVEL, T.StringType(), "product or brand", False),
    _f(C.ENTITY_ID, T.StringType(), "product id or brand name", False),
    _f("recent_reviews", T.LongType(), "reviews in the recent window", False),
    _f("recent_negative_share", T.DoubleType(), "negative share in the recent window", False),
    _f("baseline_reviews", T.LongType(), "reviews in the baseline window", False),
    _f("baseline_negative_share", T.DoubleType(), "negative share in the baseline window"),
    _f("rule", T.StringType(), "the rule that fired, with its thresholds", False),
])  # fmt: skip
