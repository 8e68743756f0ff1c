"""Train, validate and register the recommender; load the served one.

Validation is time-based: ALS learns from the interactions before a cut-off
(as_of - validation_days) and is scored on what each customer went on to add to cart or
buy in the days after, among the products the candidate filter would let through. A
popularity baseline is scored on the same split. The grid point with the best NDCG@K is
refitted on everything up to as_of, logged and registered; it takes the `champion` alias
only if its validation NDCG@K is not worse than the champion's (registry's gate).
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import mlflow
import mlflow.spark
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from insight import columns as C
from insight.config import Config, RecommendConfig
from insight.errors import InsightError
from insight.landing import ADD_TO_CART, PURCHASE
from insight.models import registry
from insight.recommend import als, metrics, topn
from insight.recommend.feedback import (
    CONFIDENCE,
    LAST_TS,
    POPULARITY,
    PURCHASED,
    implicit_feedback,
    popularity,
    window_interest,
)

log = logging.getLogger(__name__)

EXPERIMENT = "recommendations"
INTENT = (ADD_TO_CART, PURCHASE)  # what counts as wanting a product, in validation


class NotEnoughInteractionsError(InsightError):
    """Too little interaction history to train or validate the recommender."""


@dataclass(frozen=True)
class Evaluated:
    name: str  # "popularity" or the ALS grid point's label
    metrics: dict[str, float]
    params: als.AlsParams | None = None


@dataclass(frozen=True)
class Trained:
    model: PipelineModel  # the best grid point refitted on all feedback up to as_of
    best: Evaluated
    baseline: Evaluated
    grid: list[Evaluated] = field(default_factory=list)
    cutoff: date | None = None
    train_rows: int = 0
    # The champion's setting fitted and validated on this very split: what the gate
    # compares `best` with (None: no champion yet).
    champion: Evaluated | None = None


def grid(r: RecommendConfig) -> list[als.AlsParams]:
    return [
        als.AlsParams(rank, reg, alpha, r.max_iter, r.seed, block_size=r.block_size)
        for rank, reg, alpha in itertools.product(r.grid.rank, r.grid.reg_param, r.grid.alpha)
    ]


def feedback_of(events: DataFrame, as_of: date, r: RecommendConfig) -> DataFrame:
    return implicit_feedback(
        events, as_of, r.event_weights, half_life_days=r.half_life_days,
        history_days=r.history_days,
    )  # fmt: skip


def allowed_products(catalog: DataFrame, r: RecommendConfig) -> DataFrame:
    """product_id of every product that may be recommended: available and not blocked."""
    return catalog.where(
        F.coalesce(F.col(C.AVAILABLE), F.lit(False))
        & ~F.col(C.PRODUCT_ID).isin(*r.blocked_products)
    ).select(C.PRODUCT_ID)


def excluded_pairs(feedback: DataFrame, catalog: DataFrame, r: RecommendConfig) -> DataFrame:
    """customer_key, product_id the customer bought and may not be offered again (its
    top-level category is not repurchasable)."""
    categories = catalog.select(C.PRODUCT_ID, C.CATEGORY_L1)
    repurchasable = F.coalesce(F.col(C.CATEGORY_L1).isin(*r.repurchasable_categories), F.lit(False))
    return (
        feedback.where(F.col(PURCHASED))
        .join(categories, C.PRODUCT_ID, "left")
        .where(~repurchasable)
        .select(C.CUSTOMER_KEY, C.PRODUCT_ID)
    )


def user_rows(
    users: DataFrame, excluded: DataFrame, feedback: DataFrame | None = None, history: int = 0
) -> DataFrame:
    """key, features, exclude, history for topn.top_n: `users` (customer_key, features)
    with their excluded products and up to `history` strongest interactions in `feedback`
    (by confidence, then recency; none without feedback)."""
    exclude = excluded.groupBy(C.CUSTOMER_KEY).agg(F.collect_set(C.PRODUCT_ID).alias(topn.EXCLUDE))
    out = users.join(exclude, C.CUSTOMER_KEY, "left")
    if feedback is None:
        out = out.withColumn(topn.HISTORY, F.lit(None).cast("array<string>"))
    else:
        out = out.join(_strongest(feedback, history), C.CUSTOMER_KEY, "left")
    return out.select(
        F.col(C.CUSTOMER_KEY).alias(topn.KEY), als.FEATURES, topn.EXCLUDE, topn.HISTORY
    )


def _strongest(feedback: DataFrame, history: int) -> DataFrame:
    best = Window.partitionBy(C.CUSTOMER_KEY).orderBy(
        F.desc(CONFIDENCE), F.desc(LAST_TS), C.PRODUCT_ID
    )
    return (
        feedback.withColumn("_n", F.row_number().over(best))
        .where(F.col("_n") <= history)
        .groupBy(C.CUSTOMER_KEY)
        .agg(F.array_sort(F.collect_list(F.struct("_n", C.PRODUCT_ID))).alias("_h"))
        .select(C.CUSTOMER_KEY, F.col(f"_h.{C.PRODUCT_ID}").alias(topn.HISTORY))
    )


def popularity_matrix(feedback: DataFrame, allowed: list[str]) -> topn.ItemMatrix:
    """A one-dimensional 'factor' model scoring every product by its popularity."""
    counts = popularity(feedback).select(
        C.PRODUCT_ID, F.array(F.col(POPULARITY).cast("float")).alias(als.FEATURES)
    )
    return topn.item_matrix(counts, allowed)


def evaluate(
    name: str,
    recs: DataFrame,
    relevant: DataFrame,
    train: DataFrame,
    catalogue_size: int,
    k: int,
    params: als.AlsParams | None = None,
) -> Evaluated:
    recs = recs.withColumnRenamed(topn.KEY, C.CUSTOMER_KEY).cache()
    try:
        found = metrics.ranking_metrics(recs, relevant, k)
        found["coverage"] = metrics.coverage(recs, catalogue_size, k)
        found["novelty"] = metrics.novelty(recs, train, k)
    finally:
        recs.unpersist()
    return Evaluated(name, found, params)


def train(
    events: DataFrame,
    feedback: DataFrame,
    catalog: DataFrame,
    as_of: date,
    r: RecommendConfig,
    champion: als.AlsParams | None = None,
) -> Trained:
    """Grid search on the time split, popularity baseline, and the best grid point refitted
    on `feedback` (everything up to as_of). The champion's setting, if not in the grid, is
    fitted and validated on the same split, so the gate compares like with like."""
    k = r.eval_k
    cutoff = as_of - timedelta(days=r.validation_days)
    train_fb = feedback_of(events, cutoff, r).cache()
    allowed_df = allowed_products(catalog, r).cache()
    relevant = None
    try:
        n_train = train_fb.count()
        if n_train < r.min_training_interactions:
            raise NotEnoughInteractionsError(
                f"{n_train} customer-product interactions before the validation cut-off "
                f"{cutoff} (as_of {as_of} - {r.validation_days} days); at least "
                f"{r.min_training_interactions} needed (recommend.min_training_interactions)"
            )
        excluded = excluded_pairs(train_fb, catalog, r)
        relevant = (
            window_interest(events, cutoff, as_of, INTENT)
            .join(train_fb.select(C.CUSTOMER_KEY).distinct(), C.CUSTOMER_KEY, "left_semi")
            .join(allowed_df, C.PRODUCT_ID, "left_semi")
            .join(excluded, [C.CUSTOMER_KEY, C.PRODUCT_ID], "left_anti")
            .cache()
        )
        eval_users = relevant.select(C.CUSTOMER_KEY).distinct()
        n_users = eval_users.count()
        if n_users == 0:
            raise NotEnoughInteractionsError(
                f"no customer of the training window added to cart or bought a recommendable "
                f"product in the validation window ({cutoff}, {as_of}]: nothing to validate on"
            )
        allowed = [r_[0] for r_ in allowed_df.collect()]
        log.info("recommend: training on %d interactions before %s, validating on %d "
                 "customers' %s in (%s, %s]", n_train, cutoff, n_users, "/".join(INTENT),
                 cutoff, as_of)  # fmt: skip
        ones = eval_users.select(
            C.CUSTOMER_KEY, F.array(F.lit(1.0).cast("float")).alias(als.FEATURES)
        )
        base_recs = topn.top_n(
            user_rows(ones, excluded), popularity_matrix(train_fb, allowed), k, r.block_size
        )
        baseline = evaluate("popularity", base_recs, relevant, train_fb, len(allowed), k)
        log.info("recommend: popularity baseline %s", _describe(baseline.metrics, k))
        results = []
        points = grid(r)
        if champion is not None and champion not in points:
            points.append(champion)
        for i, params in enumerate(points, start=1):  # the grid, then the champion's setting
            t0 = time.monotonic()
            model = als.fit(train_fb, params)
            seconds = time.monotonic() - t0
            fitted = als.factors(model)
            users = fitted.users.join(eval_users, C.CUSTOMER_KEY, "left_semi")
            recs = topn.top_n(
                user_rows(users, excluded), topn.item_matrix(fitted.items, allowed), k,
                r.block_size,
            )  # fmt: skip
            result = evaluate(params.label(), recs, relevant, train_fb, len(allowed), k, params)
            result.metrics["train_seconds"] = seconds
            results.append(result)
            log.info("recommend: grid %d/%d %s: %s (fit %.1f s)", i, len(points),
                     params.label(), _describe(result.metrics, k), seconds)  # fmt: skip
    finally:
        for df in (train_fb, allowed_df, relevant):
            if df is not None:
                df.unpersist()
    ndcg = f"ndcg_at_{k}"
    # The candidate comes from the configured grid; the champion's setting, when it is not
    # in it, was fitted only for the gate.
    mine = next((e for e in results if e.params == champion), None)
    results = results[: len(grid(r))]
    best = max(results, key=lambda e: e.metrics[ndcg])  # first of equals: grid order
    log.info("recommend: best %s; refitting on everything up to %s", best.name, as_of)
    model = als.fit(feedback, best.params)
    return Trained(model, best, baseline, results, cutoff, n_train, mine)


def _describe(found: dict[str, float], k: int) -> str:
    return ", ".join(
        f"{name}={found[name]:.4f}" for name in (*metrics.metric_names(k), "coverage", "novelty")
    )


def register(cfg: Config, trained: Trained) -> tuple[registry.Served, bool, str]:
    """Log params, the validation metrics of the grid, the baseline and the model; register
    it; promote it through the gate. Returns (registered version, promoted, reason)."""
    r = cfg.recommend
    best = trained.best
    experiment_id = registry.experiment(cfg, EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id, run_name="als") as run:
        mlflow.log_params({
            **asdict(best.params), "half_life_days": r.half_life_days,
            "history_days": r.history_days, "validation_days": r.validation_days,
            "cutoff": str(trained.cutoff), "eval_k": r.eval_k, "train_rows": trained.train_rows,
            "event_weights": ",".join(f"{k}={v:g}" for k, v in sorted(r.event_weights.items())),
            "repurchasable_categories": ",".join(r.repurchasable_categories),
        })  # fmt: skip
        mlflow.log_metrics(best.metrics)
        mlflow.log_metrics({f"popularity_{k}": v for k, v in trained.baseline.metrics.items()})
        for point in trained.grid:
            with mlflow.start_run(experiment_id=experiment_id, run_name=point.name, nested=True):
                mlflow.log_params(asdict(point.params))
                mlflow.log_metrics(point.metrics)
        info = mlflow.spark.log_model(
            trained.model, "model", registered_model_name=r.model_name,
            pip_requirements=registry.pinned("pyspark", "mlflow"),
        )  # fmt: skip
    version = str(info.registered_model_version)
    log.info("recommend: run %s registered %s version %s", run.info.run_id, r.model_name, version)
    ndcg = f"ndcg_at_{r.eval_k}"
    promoted, reason = registry.promote_if_not_worse(
        cfg, r.model_name, version, ndcg,
        champion_value=trained.champion.metrics[ndcg] if trained.champion else None,
        same_data=f"the champion's setting ({trained.champion.name}) refitted on this split"
        if trained.champion else "",
    )  # fmt: skip
    registry.use_tracking(cfg).set_model_version_tag(r.model_name, version, "promotion", reason)
    return registry.Served(r.model_name, version, run.info.run_id), promoted, reason


def champion_params(cfg: Config, r: RecommendConfig) -> als.AlsParams | None:
    """The ALS setting of the serving model, from its MLflow run (None: no champion)."""
    served = registry.champion(cfg, r.model_name)
    if served is None:
        return None
    logged = registry.use_tracking(cfg).get_run(served.run_id).data.params
    return als.AlsParams(
        int(logged["rank"]), float(logged["reg_param"]), float(logged["alpha"]),
        int(logged["max_iter"]), int(logged["seed"]), logged.get("implicit", "True") == "True",
        int(logged.get("block_size", r.block_size)),
    )  # fmt: skip


def load(served: registry.Served) -> PipelineModel:
    return mlflow.spark.load_model(served.uri)
