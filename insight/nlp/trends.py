"""What the review insights add up to: daily product sentiment, weekly praise and
complaints per product and brand, and alerts when negative reviews rise."""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from insight import columns as C
from insight.config import AlertConfig
from insight.nlp.sentiment import NEGATIVE, POSITIVE, UNKNOWN

PRODUCT, BRAND = "product", "brand"


def known(insights: DataFrame) -> DataFrame:
    """Insights with a sentiment (unknown ones say nothing about a product)."""
    return insights.where(F.col(C.SENTIMENT) != UNKNOWN)


def _share(label: str) -> Column:
    return F.avg((F.col(C.SENTIMENT) == label).cast("double"))


def product_sentiment_daily(insights: DataFrame, top_n: int) -> DataFrame:
    """One row per product and day: reviews, mean sentiment, negative/positive share and
    the day's most mentioned keyphrases."""
    rows = known(insights).withColumn(C.DAY, F.col(C.REVIEW_DATE))
    daily = rows.groupBy(C.PRODUCT_ID, C.DAY).agg(
        F.max(C.BRAND).alias(C.BRAND),
        F.count("*").alias("reviews"),
        F.avg(C.SENTIMENT_SCORE).alias("mean_sentiment"),
        _share(NEGATIVE).alias("negative_share"),
        _share(POSITIVE).alias("positive_share"),
    )
    phrases = (
        rows.select(C.PRODUCT_ID, C.DAY, F.explode(C.KEYPHRASES).alias("k"))
        .groupBy(C.PRODUCT_ID, C.DAY, F.col("k.phrase").alias("phrase"))
        .agg(F.count("*").alias("n"), F.min("k.score").alias("best"))
    )
    ranked = phrases.withColumn(
        "r",
        F.row_number().over(
            Window.partitionBy(C.PRODUCT_ID, C.DAY).orderBy(F.desc("n"), "best", "phrase")
        ),
    ).where(F.col("r") <= top_n)
    top = ranked.groupBy(C.PRODUCT_ID, C.DAY).agg(
        F.transform(F.array_sort(F.collect_list(F.struct("r", "phrase"))), lambda s: s["phrase"])
        .alias("top_keyphrases")
    )  # fmt: skip
    return daily.join(top, [C.PRODUCT_ID, C.DAY], "left").select(
        C.PRODUCT_ID, C.BRAND, C.DAY, "reviews", "mean_sentiment", "negative_share",
        "positive_share", F.coalesce("top_keyphrases", F.array().cast("array<string>"))
        .alias("top_keyphrases"),
    )  # fmt: skip


def _by_level(insights: DataFrame) -> DataFrame:
    """Each insight twice: once for its product, once for its brand."""
    product = insights.withColumn(C.LEVEL, F.lit(PRODUCT)).withColumn(
        C.ENTITY_ID, F.col(C.PRODUCT_ID)
    )
    brand = insights.where(F.col(C.BRAND).isNotNull()).withColumn(C.LEVEL, F.lit(BRAND))
    return product.unionByName(brand.withColumn(C.ENTITY_ID, F.col(C.BRAND)))


def keyphrase_weekly(insights: DataFrame, top_n: int) -> DataFrame:
    """Keyphrase mentions per product and brand per week, with the top `top_n` praised
    (most positive mentions) and complained-about (most negative mentions) phrases ranked."""
    rows = _by_level(known(insights)).withColumn(
        C.WEEK_START, F.date_trunc("week", C.REVIEW_DATE).cast("date")
    )
    counts = (
        rows.select(C.LEVEL, C.ENTITY_ID, C.WEEK_START, C.SENTIMENT,
                    F.explode(F.array_distinct(F.col(f"{C.KEYPHRASES}.phrase"))).alias("keyphrase"))
        .groupBy(C.LEVEL, C.ENTITY_ID, C.WEEK_START, "keyphrase")
        .agg(
            F.count("*").alias("mentions"),
            F.sum((F.col(C.SENTIMENT) == POSITIVE).cast("long")).alias("positive_mentions"),
            F.sum((F.col(C.SENTIMENT) == NEGATIVE).cast("long")).alias("negative_mentions"),
        )
    )  # fmt: skip
    week = Window.partitionBy(C.LEVEL, C.ENTITY_ID, C.WEEK_START)

    def rank(by: str) -> Column:
        r = F.row_number().over(week.orderBy(F.desc(by), F.desc("mentions"), "keyphrase"))
        return F.when((F.col(by) > 0) & (r <= top_n), r)

    return counts.withColumn("praise_rank", rank("positive_mentions")).withColumn(
        "complaint_rank", rank("negative_mentions")
    )


def alert_rule(rule: AlertConfig) -> str:
    return (
        f"negative share over the last {rule.recent_days} days >= baseline of the "
        f"{rule.baseline_days} days before + {rule.min_increase:g} and >= {rule.min_ratio:g} x "
        f"baseline, with >= {rule.min_recent_reviews} recent reviews"
    )


def sentiment_alerts(insights: DataFrame, as_of: date, rule: AlertConfig) -> DataFrame:
    """Products and brands whose negative-review share in the recent window clearly rises
    above their trailing baseline (see `alert_rule`)."""
    recent_from = as_of - timedelta(days=rule.recent_days - 1)
    baseline_from = recent_from - timedelta(days=rule.baseline_days)
    day = F.col(C.REVIEW_DATE)
    in_recent = (day >= F.lit(recent_from)) & (day <= F.lit(as_of))
    in_baseline = (day >= F.lit(baseline_from)) & (day < F.lit(recent_from))
    negative = F.col(C.SENTIMENT) == NEGATIVE
    windows = (
        _by_level(known(insights))
        .where(in_recent | in_baseline)
        .groupBy(C.LEVEL, C.ENTITY_ID)
        .agg(
            F.sum(in_recent.cast("long")).alias("recent_reviews"),
            F.sum((in_recent & negative).cast("long")).alias("_recent_neg"),
            F.sum(in_baseline.cast("long")).alias("baseline_reviews"),
            F.sum((in_baseline & negative).cast("long")).alias("_base_neg"),
        )
    )
    recent_share = F.col("_recent_neg") / F.col("recent_reviews")
    base_share = F.col("_base_neg") / F.col("baseline_reviews")  # null without baseline
    baseline = F.coalesce(base_share, F.lit(0.0))
    fired = (
        (F.col("recent_reviews") >= rule.min_recent_reviews)
        & (recent_share >= baseline + rule.min_increase)
        & (recent_share >= baseline * rule.min_ratio)
    )
    return windows.where(fired).select(
        F.lit(as_of).alias(C.AS_OF), C.LEVEL, C.ENTITY_ID, "recent_reviews",
        recent_share.alias("recent_negative_share"), "baseline_reviews",
        base_share.alias("baseline_negative_share"), F.lit(alert_rule(rule)).alias("rule"),
    )  # fmt: skip
