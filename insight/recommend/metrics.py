"""Ranking metrics at K, catalogue coverage and novelty, computed in Spark.

Definitions follow the Microsoft Recommenders evaluation (binary relevance), so our figures
compare with their published benchmark. Per user u with relevant set R_u (|R_u| > 0) and
top-K list L_u, averaged over the users that have both:
  precision@K = |L_u ∩ R_u| / K
  recall@K    = |L_u ∩ R_u| / |R_u|
  NDCG@K      = sum over hits at rank r of 1/log2(r+1), divided by the same sum for
                ranks 1..min(|R_u|, K)
  MAP         = sum over hits at rank r of (hits up to r / r), divided by |R_u|
Coverage = distinct recommended products / catalogue size. Novelty = mean over all
recommendations of -log2(share of training users who interacted with the product).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from insight import columns as C
from insight.recommend.topn import RANK

USERS = "users"  # how many users were evaluated (reported next to the metrics)


def metric_names(k: int) -> tuple[str, ...]:
    return (f"precision_at_{k}", f"recall_at_{k}", f"ndcg_at_{k}", "map")


def ranking_metrics(
    recs: DataFrame,
    relevant: DataFrame,
    k: int,
    *,
    user: str = C.CUSTOMER_KEY,
    item: str = C.PRODUCT_ID,
) -> dict[str, float]:
    """precision/recall/NDCG at k, MAP and the user count; `recs` has user, item, rank
    (1 = best), `relevant` has distinct user, item pairs."""
    top = recs.where(F.col(RANK) <= k).select(user, item, RANK)
    truth = relevant.select(user, item).distinct()
    sizes = truth.groupBy(user).agg(F.count(F.lit(1)).alias("_relevant"))
    evaluated = sizes.join(top.select(user).distinct(), user)  # users with both
    hits = top.join(truth, [user, item]).withColumn(
        "_hits_so_far", F.row_number().over(Window.partitionBy(user).orderBy(RANK))
    )
    per_user_hits = hits.groupBy(user).agg(
        F.count(F.lit(1)).alias("_hits"),
        F.sum(1 / F.log2(F.col(RANK) + 1)).alias("_dcg"),
        F.sum(F.col("_hits_so_far") / F.col(RANK)).alias("_ap"),
    )
    ideal = F.aggregate(
        F.sequence(F.lit(1), F.least(F.col("_relevant"), F.lit(k))),
        F.lit(0.0),
        lambda acc, r: acc + 1 / F.log2(r + 1),
    )
    per_user = evaluated.join(per_user_hits, user, "left").fillna(0, ["_hits", "_dcg", "_ap"])
    row = per_user.agg(
        F.avg(F.col("_hits") / k).alias(f"precision_at_{k}"),
        F.avg(F.col("_hits") / F.col("_relevant")).alias(f"recall_at_{k}"),
        F.avg(F.col("_dcg") / ideal).alias(f"ndcg_at_{k}"),
        F.avg(F.col("_ap") / F.col("_relevant")).alias("map"),
        F.count(F.lit(1)).alias(USERS),
    ).first()
    return {name: float(row[name] or 0.0) for name in (*metric_names(k), USERS)}


def coverage(recs: DataFrame, catalogue_size: int, k: int, *, item: str = C.PRODUCT_ID) -> float:
    """Share of the catalogue that appears in some top-k list."""
    if catalogue_size <= 0:
        return 0.0
    shown = recs.where(F.col(RANK) <= k).select(item).distinct().count()
    return shown / catalogue_size


def novelty(
    recs: DataFrame,
    train: DataFrame,
    k: int,
    *,
    user: str = C.CUSTOMER_KEY,
    item: str = C.PRODUCT_ID,
) -> float:
    """Mean self-information -log2(p(item)) of the top-k recommendations, p(item) = share of
    training users who interacted with it (higher: less obvious recommendations)."""
    n_users = train.select(user).distinct().count()
    if n_users == 0:
        return 0.0
    seen = train.groupBy(item).agg(F.countDistinct(user).alias("_n"))
    row = (
        recs.where(F.col(RANK) <= k)
        .join(seen, item)
        .agg(F.avg(-F.log2(F.col("_n") / F.lit(n_users))).alias("novelty"))
        .first()
    )
    return float(row["novelty"] or 0.0)
