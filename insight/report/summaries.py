"""Small pandas summaries of the gold and ops tables for one as_of.

Every function aggregates in Spark and collects a handful of rows (bins, segments, brands,
rules), never a customer key: the report holds no identifiers of people. Inputs are the
tables as DataFrames; rows after `as_of` are ignored so a report is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight.clv.schemas import CLV_12M
from insight.features import columns as FC
from insight.recommend.schemas import SOURCE
from insight.recommend.topn import RANK
from insight.segment.schemas import CUSTOMERS, KIND, KIND_CLUSTER, RFM_SEGMENT, SEGMENT, SHARE

# Columns of the summaries (besides the table columns they keep).
NET_SPEND = "net_spend"
BUYER = "buyer"
BIN_START, BIN_END, COUNT = "bin_start", "bin_end", "count"
DECILE = "decile"
MEAN_PROBABILITY = "mean_probability"
REVIEWS = "reviews"
NEGATIVE_SHARE = "negative_share"
MEAN_SENTIMENT = "mean_sentiment"
NEGATIVES = "negatives"
KEYPHRASE, MENTIONS = "keyphrase", "mentions"
POSITIVE_MENTIONS, NEGATIVE_MENTIONS = "positive_mentions", "negative_mentions"
NO_RECOMMENDATIONS = "none"
PRODUCT_LEVEL = "product"  # gold.keyphrase_weekly level counting each review once
SCORES = (1, 2, 3, 4, 5)


def require_columns(df: DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}; has {df.columns}")


def at(df: DataFrame, as_of: date) -> DataFrame:
    """The rows of one as_of."""
    return df.where(F.col(C.AS_OF) == F.lit(as_of))


def segment_value(
    segments: DataFrame, features: DataFrame | None, clv: DataFrame | None, as_of: date
) -> pd.DataFrame:
    """Per RFM segment on as_of: customers, share, net spend to date and expected 12-month CLV.

    Args:
        segments: gold.customer_segments.
        features: gold.customer_features (net spend `monetary`); None: net_spend is NaN.
        clv: gold.customer_clv; None: clv_12m is NaN. Customers without a CLV row (no
            purchase yet) count 0.

    Returns:
        segment, customers, share, net_spend, clv_12m; largest segment first.
    """
    require_columns(segments, [C.CUSTOMER_KEY, C.AS_OF, RFM_SEGMENT], "customer_segments")
    rows = at(segments, as_of).select(C.CUSTOMER_KEY, F.col(RFM_SEGMENT).alias(SEGMENT))
    value = []
    if features is not None:
        money = at(features, as_of).select(C.CUSTOMER_KEY, F.col(FC.MONETARY).alias(NET_SPEND))
        rows = rows.join(money, C.CUSTOMER_KEY, "left")
        value.append(F.sum(F.coalesce(NET_SPEND, F.lit(0.0))).alias(NET_SPEND))
    if clv is not None:
        rows = rows.join(at(clv, as_of).select(C.CUSTOMER_KEY, CLV_12M), C.CUSTOMER_KEY, "left")
        value.append(F.sum(F.coalesce(CLV_12M, F.lit(0.0))).alias(CLV_12M))
    pdf = rows.groupBy(SEGMENT).agg(F.count("*").alias(CUSTOMERS), *value).toPandas()
    for col in (NET_SPEND, CLV_12M):
        if col not in pdf:
            pdf[col] = float("nan")
    total = pdf[CUSTOMERS].sum()
    pdf[SHARE] = pdf[CUSTOMERS] / total if total else 0.0
    pdf = pdf.sort_values([CUSTOMERS, SEGMENT], ascending=[False, True], ignore_index=True)
    return pdf[[SEGMENT, CUSTOMERS, SHARE, NET_SPEND, CLV_12M]]


def cluster_sizes(summary: DataFrame, as_of: date) -> pd.DataFrame:
    """gold.segment_summary's behavioural clusters on as_of, largest first."""
    rows = at(summary, as_of).where(F.col(KIND) == KIND_CLUSTER).drop(C.AS_OF, KIND)
    pdf = rows.toPandas()
    return pdf.sort_values([CUSTOMERS, SEGMENT], ascending=[False, True], ignore_index=True)


def rfm_cells(features: DataFrame, as_of: date) -> pd.DataFrame:
    """Customers of as_of per (buyer, recency score, frequency score), with their summed net
    spend: the one aggregation behind `rfm_grid` and `buyers`. Empty: no rows for as_of."""
    cols = [C.AS_OF, FC.FREQUENCY, FC.RECENCY_SCORE, FC.FREQUENCY_SCORE, FC.MONETARY]
    require_columns(features, cols, "customer_features")
    return (
        at(features, as_of)
        .groupBy((F.col(FC.FREQUENCY) > 0).alias(BUYER), FC.RECENCY_SCORE, FC.FREQUENCY_SCORE)
        .agg(F.count("*").alias(CUSTOMERS), F.sum(FC.MONETARY).alias(NET_SPEND))
        .toPandas()
    )


def rfm_grid(cells: pd.DataFrame) -> pd.DataFrame:
    """Buyers (frequency > 0) per recency score x frequency score from `rfm_cells`: all 25
    cells, empty ones 0, with their mean net spend `monetary` (NaN when empty)."""
    bought = cells[cells[BUYER]].set_index([FC.RECENCY_SCORE, FC.FREQUENCY_SCORE])
    full = pd.MultiIndex.from_product([SCORES, SCORES], names=[FC.RECENCY_SCORE,
                                                                FC.FREQUENCY_SCORE])  # fmt: skip
    grid = bought.reindex(full)
    grid[FC.MONETARY] = grid[NET_SPEND] / grid[CUSTOMERS]
    grid[CUSTOMERS] = grid[CUSTOMERS].fillna(0).astype("int64")
    return grid.reset_index()[[FC.RECENCY_SCORE, FC.FREQUENCY_SCORE, CUSTOMERS, FC.MONETARY]]


def buyers(cells: pd.DataFrame) -> tuple[int, int]:
    """(customers, buyers) from `rfm_cells`."""
    return int(cells[CUSTOMERS].sum()), int(cells[cells[BUYER]][CUSTOMERS].sum())


def describe(df: DataFrame, column: str, probs: Sequence[float] = ()) -> dict[str, float]:
    """count, min, max and the approximate quantiles `probs` (keys 'p50', 'p99', ...) of
    `column`, nulls skipped, in one aggregation; count 0 and nothing else if no values."""
    require_columns(df, [column], "describe input")
    v = F.col(column).cast("double")
    aggs = [F.count(v).alias("count"), F.min(v).alias("min"), F.max(v).alias("max")]
    if probs:
        aggs.append(F.percentile_approx(v, list(probs), 10000).alias("q"))
    row = df.agg(*aggs).first()
    if not row["count"]:
        return {"count": 0}
    out = {"count": row["count"], "min": row["min"], "max": row["max"]}
    for p, value in zip(probs, row["q"] if probs else [], strict=True):
        out[f"p{p * 100:g}"] = value
    return out


def histogram(df: DataFrame, column: str, *, bins: int, lo: float, hi: float) -> pd.DataFrame:
    """Counts of `column` (nulls skipped) in `bins` equal bins from lo to hi, in Spark.

    Values outside [lo, hi] count in the first or last bin, so hi can be a high quantile
    (see `describe`) and one outlier does not squash every other bar; a caption should say so.

    Returns:
        bin_start, bin_end, count: `bins` rows (one if hi <= lo: every value equal).
    """
    require_columns(df, [column], "histogram input")
    v = F.col(column).cast("double")
    if hi <= lo:
        n = df.where(v.isNotNull()).count()
        return pd.DataFrame({BIN_START: [lo], BIN_END: [hi], COUNT: [n]})
    width = (hi - lo) / bins
    bucket = F.least(F.greatest(F.floor((v - lo) / width), F.lit(0)), F.lit(bins - 1))
    counts = dict(
        df.where(v.isNotNull()).groupBy(bucket.cast("int").alias("b")).count()
        .toPandas().itertuples(index=False)
    )  # fmt: skip
    return pd.DataFrame({
        BIN_START: [lo + i * width for i in range(bins)],
        BIN_END: [lo + (i + 1) * width for i in range(bins)],
        COUNT: [int(counts.get(i, 0)) for i in range(bins)],
    })  # fmt: skip


def score_deciles(scores: DataFrame, target: str, as_of: date) -> pd.DataFrame:
    """Customers and mean probability per score decile of `target` on as_of (1 = lowest),
    from the stored percentile (no global sort): decile = floor(percentile / 10) + 1, max 10."""
    prob, pct = f"{target}_probability", f"{target}_percentile"
    require_columns(scores, [C.AS_OF, prob, pct], "customer_scores")
    decile = F.least(F.floor(F.col(pct) / 10) + 1, F.lit(10)).cast("int")
    return (
        at(scores, as_of)
        .where(F.col(prob).isNotNull())
        .groupBy(decile.alias(DECILE))
        .agg(F.count("*").alias(CUSTOMERS), F.avg(prob).alias(MEAN_PROBABILITY))
        .orderBy(DECILE)
        .toPandas()
    )


def served_version(scores: DataFrame, target: str, as_of: date) -> str | None:
    """The model version (name/version) that scored most of as_of's customers for target."""
    col = f"{target}_model_version"
    row = (
        at(scores, as_of).where(F.col(col).isNotNull()).groupBy(col).count()
        .orderBy(F.desc("count"), col).first()
    )  # fmt: skip
    return None if row is None else row[col]


def sentiment_trend(
    daily: DataFrame, as_of: date, *, weeks: int = 26, top_brands: int = 6
) -> pd.DataFrame:
    """Weekly negative share and mean sentiment of the `top_brands` most reviewed brands in
    the `weeks` weeks ending on as_of (review-weighted over their products' days).

    Returns:
        brand, week_start (Monday), reviews, negatives (reviews scored negative),
        negative_share, mean_sentiment; weeks without reviews have no row.
    """
    cols = [C.BRAND, C.DAY, REVIEWS, NEGATIVE_SHARE, MEAN_SENTIMENT]
    require_columns(daily, cols, "product_sentiment_daily")
    since = as_of - timedelta(weeks=weeks) + timedelta(days=1)
    rows = daily.where(
        F.col(C.BRAND).isNotNull() & (F.col(C.DAY) >= F.lit(since)) & (F.col(C.DAY) <= F.lit(as_of))
        & (F.col(REVIEWS) > 0)
    )  # fmt: skip
    top = (
        rows.groupBy(C.BRAND).agg(F.sum(REVIEWS).alias("n"))
        .orderBy(F.desc("n"), C.BRAND).limit(top_brands)
    )  # fmt: skip
    n = F.col(REVIEWS)
    return (
        rows.join(top.select(C.BRAND), C.BRAND)
        .groupBy(C.BRAND, F.date_trunc("week", C.DAY).cast("date").alias(C.WEEK_START))
        .agg(
            F.sum(n).alias(REVIEWS),
            F.round(F.sum(F.col(NEGATIVE_SHARE) * n)).alias(NEGATIVES),
            (F.sum(F.col(NEGATIVE_SHARE) * n) / F.sum(n)).alias(NEGATIVE_SHARE),
            (F.sum(F.col(MEAN_SENTIMENT) * n) / F.sum(n)).alias(MEAN_SENTIMENT),
        )
        .orderBy(C.BRAND, C.WEEK_START)
        .toPandas()
    )


def trailing_share(trend: pd.DataFrame, *, weeks: int = 4) -> pd.DataFrame:
    """Per brand and week of a `sentiment_trend`, the negative share over the trailing
    `weeks` weeks (that week included): weekly shares of a few reviews jump between 0 and 1.

    Returns:
        brand, week_start, reviews and negatives in the trailing window, negative_share
        (NaN where the window has no review); every week from the brand's first on.
    """
    out = []
    for brand, part in trend.groupby(C.BRAND, sort=True):
        part = part.set_index(pd.to_datetime(part[C.WEEK_START]))[[REVIEWS, NEGATIVES]]
        last = pd.to_datetime(trend[C.WEEK_START]).max()
        every = pd.date_range(part.index.min(), last, freq="7D")
        rolled = part.reindex(every, fill_value=0).rolling(weeks, min_periods=1).sum()
        rolled[NEGATIVE_SHARE] = (rolled[NEGATIVES] / rolled[REVIEWS]).where(rolled[REVIEWS] > 0)
        rolled.insert(0, C.BRAND, brand)
        out.append(rolled.rename_axis(C.WEEK_START).reset_index())
    if not out:
        return pd.DataFrame(columns=[C.BRAND, C.WEEK_START, REVIEWS, NEGATIVES, NEGATIVE_SHARE])
    pdf = pd.concat(out, ignore_index=True)
    pdf[C.WEEK_START] = pdf[C.WEEK_START].dt.date
    return pdf


def alerts(alerts_df: DataFrame, as_of: date) -> pd.DataFrame:
    """gold.sentiment_alerts of as_of: brands first, then by recent negative share."""
    pdf = at(alerts_df, as_of).drop(C.AS_OF).toPandas()
    pdf["_brand_first"] = pdf[C.LEVEL] != "brand"
    pdf = pdf.sort_values(["_brand_first", "recent_negative_share", C.ENTITY_ID],
                          ascending=[True, False, True], ignore_index=True)  # fmt: skip
    return pdf.drop(columns="_brand_first")


def top_keyphrases(weekly: DataFrame, as_of: date, *, weeks: int = 12, n: int = 10) -> pd.DataFrame:
    """The `n` most praised and `n` most complained-about keyphrases of the `weeks` weeks
    ending on as_of, over every product (product level: each review counts once).

    Returns:
        kind ('praised' by positive mentions, 'complained' by negative mentions), keyphrase,
        mentions, positive_mentions, negative_mentions; best first within each kind.
    """
    require_columns(weekly, [C.LEVEL, C.WEEK_START, KEYPHRASE, MENTIONS, POSITIVE_MENTIONS,
                             NEGATIVE_MENTIONS], "keyphrase_weekly")  # fmt: skip
    since = as_of - timedelta(weeks=weeks) + timedelta(days=1)
    # A week counts if it starts in the window (its Monday on or before as_of).
    totals = (
        weekly.where((F.col(C.LEVEL) == PRODUCT_LEVEL)
                     & (F.col(C.WEEK_START) >= F.lit(since - timedelta(days=6)))
                     & (F.col(C.WEEK_START) <= F.lit(as_of)))
        .groupBy(KEYPHRASE)
        .agg(*[F.sum(c).alias(c) for c in (MENTIONS, POSITIVE_MENTIONS, NEGATIVE_MENTIONS)])
    )  # fmt: skip
    parts = []
    for kind, by in (("praised", POSITIVE_MENTIONS), ("complained", NEGATIVE_MENTIONS)):
        top = totals.where(F.col(by) > 0).orderBy(F.desc(by), F.desc(MENTIONS), KEYPHRASE)
        parts.append(top.limit(n).withColumn("kind", F.lit(kind)))
    pdf = parts[0].unionByName(parts[1]).toPandas()  # one collect for both lists
    cols = ["kind", KEYPHRASE, MENTIONS, POSITIVE_MENTIONS, NEGATIVE_MENTIONS]
    order = {"praised": 0, "complained": 1}
    pdf["_kind"] = pdf["kind"].map(order)
    pdf["_by"] = -pdf[POSITIVE_MENTIONS].where(pdf["kind"] == "praised", pdf[NEGATIVE_MENTIONS])
    pdf = pdf.sort_values(["_kind", "_by", MENTIONS, KEYPHRASE],
                          ascending=[True, True, False, True], ignore_index=True)  # fmt: skip
    return pdf[cols]


def by_language(insights: DataFrame, as_of: date, *, weeks: int = 12, n: int = 5) -> pd.DataFrame:
    """Reviews of the `weeks` weeks ending on as_of per language (gold.review_insights):
    how many, how they were judged, and each language's `n` most praised and complained-about
    keyphrases (a phrase counted once per review), so a mixed shop sees its Chinese reviews
    apart from its English ones.

    Returns:
        language, reviews, unknown (reviews without a usable text), positive_share and
        negative_share (of the known ones), mean_sentiment, praised and complained
        (comma-separated phrases, most mentioned first); most reviewed language first.
    """
    require_columns(insights, [C.LANGUAGE, C.REVIEW_DATE, C.SENTIMENT, C.SENTIMENT_SCORE,
                               C.KEYPHRASES], "review_insights")  # fmt: skip
    since = as_of - timedelta(weeks=weeks) + timedelta(days=1)
    rows = insights.where(F.col(C.REVIEW_DATE).between(F.lit(since), F.lit(as_of))).withColumn(
        C.LANGUAGE, F.coalesce(C.LANGUAGE, F.lit("other"))
    )
    known = F.col(C.SENTIMENT) != "unknown"
    counts = rows.groupBy(C.LANGUAGE).agg(
        F.count("*").alias(REVIEWS),
        F.sum((~known).cast("int")).alias("unknown"),
        (F.sum((F.col(C.SENTIMENT) == "positive").cast("int")) / F.sum(known.cast("int")))
        .alias("positive_share"),
        (F.sum((F.col(C.SENTIMENT) == "negative").cast("int")) / F.sum(known.cast("int")))
        .alias(NEGATIVE_SHARE),
        F.avg(C.SENTIMENT_SCORE).alias(MEAN_SENTIMENT),
    ).toPandas()  # fmt: skip
    phrases = (
        rows.where(F.col(C.SENTIMENT).isin("positive", "negative"))
        .select(C.LANGUAGE, C.SENTIMENT, C.REVIEW_ID,
                F.explode(F.array_distinct(F.col(C.KEYPHRASES).phrase)).alias(KEYPHRASE))
        .groupBy(C.LANGUAGE, C.SENTIMENT, KEYPHRASE).agg(F.count("*").alias(MENTIONS))
        .toPandas()
    )  # fmt: skip
    for kind, sentiment in (("praised", "positive"), ("complained", "negative")):
        part = phrases[phrases[C.SENTIMENT] == sentiment].sort_values(
            [C.LANGUAGE, MENTIONS, KEYPHRASE], ascending=[True, False, True]
        )
        top = part.groupby(C.LANGUAGE)[KEYPHRASE].apply(lambda p: ", ".join(p.head(n)))
        counts[kind] = counts[C.LANGUAGE].map(top).fillna("")
    return counts.sort_values([REVIEWS, C.LANGUAGE], ascending=[False, True], ignore_index=True)


def recommendation_coverage(
    recommendations: DataFrame, customers: DataFrame, as_of: date
) -> pd.DataFrame:
    """Customers of as_of by the source of their recommendations (their rank-1 row), and
    those with none.

    Args:
        recommendations: gold.recommendations.
        customers: the customer population (customer_key), e.g. gold.customer_features
            of as_of.

    Returns:
        source, customers, share of the population; 'none' = no recommendation.
    """
    require_columns(recommendations, [C.CUSTOMER_KEY, C.AS_OF, RANK, SOURCE], "recommendations")
    per_customer = (
        at(recommendations, as_of).groupBy(C.CUSTOMER_KEY).agg(F.min_by(SOURCE, RANK).alias(SOURCE))
    )
    pdf = (
        customers.select(C.CUSTOMER_KEY).distinct()
        .join(per_customer, C.CUSTOMER_KEY, "left")
        .groupBy(F.coalesce(SOURCE, F.lit(NO_RECOMMENDATIONS)).alias(SOURCE))
        .agg(F.count("*").alias(CUSTOMERS))
        .toPandas()
    )  # fmt: skip
    total = pdf[CUSTOMERS].sum()
    pdf[SHARE] = pdf[CUSTOMERS] / total if total else 0.0
    return pdf.sort_values([CUSTOMERS, SOURCE], ascending=[False, True], ignore_index=True)


def catalog_coverage(
    recommendations: DataFrame, products: DataFrame, as_of: date
) -> tuple[int, int]:
    """(distinct products recommended on as_of, available products in the catalog)."""
    recommended = at(recommendations, as_of).select(C.PRODUCT_ID).distinct().count()
    available = products.where(F.col(C.AVAILABLE)).select(C.PRODUCT_ID).distinct().count()
    return recommended, available
