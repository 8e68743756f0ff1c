"""The recommend job: silver events, products and customers -> gold.recommendations and
gold.similar_products for one as_of.

Unless `--score-only`, a new model is trained, validated and registered first (see
insight.recommend.model); the served model is always the registry's champion, so a
candidate refused by the promotion gate leaves yesterday's model serving. Customers the
served model knows get ALS recommendations with a reason; the others (cold start) get the
products most popular in their country, topped up with the most popular overall.

Idempotent: the as_of's rows of both tables are replaced in one commit each.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from insight import columns as C
from insight import landing, tables
from insight.features.compute import customer_base, events_until
from insight.models import registry
from insight.ops.ledger import LEDGER_SCHEMA, OK, SKIPPED
from insight.recommend import als, model, schemas, topn
from insight.recommend.feedback import POPULARITY, STRONGEST, popular_order, popularity
from insight.runtime import JobRun, Step, utc_now

log = logging.getLogger(__name__)

_VERB = {
    landing.PURCHASE: "bought",
    landing.ADD_TO_CART: "added to your cart",
    landing.VIEW: "viewed",
}


def with_reason(recs: DataFrame, feedback: DataFrame, catalog: DataFrame) -> DataFrame:
    """ALS top-N rows (customer_key, ..., because_product_id) with source and reason text:
    'because you bought <name of the because product>'."""
    verb = F.lit(None).cast("string")
    for event_type, words in _VERB.items():
        verb = F.when(F.col(STRONGEST) == event_type, F.lit(words)).otherwise(verb)
    names = catalog.select(
        F.col(C.PRODUCT_ID).alias(topn.BECAUSE), F.col(C.PRODUCT_NAME).alias("_name")
    )
    strongest = feedback.select(C.CUSTOMER_KEY, F.col(C.PRODUCT_ID).alias(topn.BECAUSE), STRONGEST)
    because = F.coalesce(F.col("_name"), F.col(topn.BECAUSE))
    return (
        recs.join(strongest, [C.CUSTOMER_KEY, topn.BECAUSE], "left")
        .join(names, topn.BECAUSE, "left")
        .withColumn(schemas.SOURCE, F.lit(schemas.ALS))
        .withColumn(
            schemas.REASON,
            F.when(verb.isNotNull(), F.concat(F.lit("because you "), verb, F.lit(" "), because))
            # A customer the served model knows but with no interaction left in the window.
            .otherwise(F.lit("matches your earlier interests")),
        )
    )  # fmt: skip


def cold_start(
    cold: DataFrame, customers: DataFrame, feedback: DataFrame, allowed: DataFrame, n: int
) -> DataFrame:
    """customer_key, rank, product_id, score, source, reason for the `cold` customers
    (customer_key): the n products most popular among `customers` (customer_key, country)
    of their country, topped up with the most popular overall."""
    everyone = customers.select(C.CUSTOMER_KEY, C.COUNTRY)
    countries = cold.select(C.CUSTOMER_KEY).join(everyone, C.CUSTOMER_KEY)
    by_country = popularity(feedback.join(everyone, C.CUSTOMER_KEY), by=C.COUNTRY)
    overall = popularity(feedback)

    def top(df: DataFrame, keys: list[str]) -> DataFrame:
        ranked = df.join(allowed, C.PRODUCT_ID, "left_semi").withColumn(
            "_pos", F.row_number().over(Window.partitionBy(*keys).orderBy(*popular_order()))
        )
        return ranked.where(F.col("_pos") <= n)

    local = countries.join(top(by_country, [C.COUNTRY]), C.COUNTRY).select(
        C.CUSTOMER_KEY, C.PRODUCT_ID, F.col(POPULARITY).cast("double").alias(topn.SCORE),
        F.lit(0).alias("_tier"), "_pos", F.lit(schemas.POPULAR_IN_COUNTRY).alias(schemas.SOURCE),
        F.concat(F.lit("popular in "), F.col(C.COUNTRY)).alias(schemas.REASON),
    )  # fmt: skip
    anywhere = countries.crossJoin(F.broadcast(top(overall, []))).select(
        C.CUSTOMER_KEY, C.PRODUCT_ID, F.col(POPULARITY).cast("double").alias(topn.SCORE),
        F.lit(1).alias("_tier"), "_pos", F.lit(schemas.POPULAR_OVERALL).alias(schemas.SOURCE),
        F.lit("popular with all customers").alias(schemas.REASON),
    )  # fmt: skip
    best_first = Window.partitionBy(C.CUSTOMER_KEY).orderBy("_tier", "_pos")
    once = Window.partitionBy(C.CUSTOMER_KEY, C.PRODUCT_ID).orderBy("_tier", "_pos")
    return (
        local.unionByName(anywhere)
        .withColumn("_first", F.row_number().over(once))
        .where(F.col("_first") == 1)
        .withColumn(topn.RANK, F.row_number().over(best_first))
        .where(F.col(topn.RANK) <= n)
        .select(
            C.CUSTOMER_KEY,
            topn.RANK,
            C.PRODUCT_ID,
            topn.SCORE,
            schemas.SOURCE,
            schemas.REASON,
            F.lit(None).cast("string").alias(topn.BECAUSE),
            F.lit(None).cast("double").alias(topn.BECAUSE_SIMILARITY),
        )
    )


def similar_products(matrix: topn.ItemMatrix, spark, n: int, block_size: int) -> DataFrame:
    """product_id, rank, similar_product_id, similarity: the n recommendable products whose
    factors are closest (cosine) to each product's."""
    unit = topn.ItemMatrix(matrix.ids, matrix.unit, matrix.candidate)
    schema = T.StructType([
        T.StructField(topn.KEY, T.StringType(), False),
        T.StructField(als.FEATURES, T.ArrayType(T.FloatType()), False),
    ])  # fmt: skip
    sources = spark.createDataFrame(topn.unit_rows(unit), schema).select(
        topn.KEY, als.FEATURES,
        F.array(topn.KEY).alias(topn.EXCLUDE),  # a product is not similar to itself
        F.lit(None).cast("array<string>").alias(topn.HISTORY),
    )  # fmt: skip
    return topn.top_n(sources, unit, n, block_size).select(
        F.col(topn.KEY).alias(C.PRODUCT_ID), topn.RANK,
        F.col(C.PRODUCT_ID).alias(schemas.SIMILAR_PRODUCT_ID),
        F.col(topn.SCORE).alias(schemas.SIMILARITY),
    )  # fmt: skip


def _train(run: JobRun, events: DataFrame, feedback: DataFrame, catalog: DataFrame) -> str:
    """Train, register and gate a new model; returns what happened, for the ledger."""
    r = run.cfg.recommend
    try:
        champion = model.champion_params(run.cfg, r)
        trained = model.train(events, feedback, catalog, run.as_of, r, champion)
    except model.NotEnoughInteractionsError as exc:
        log.warning("recommend: no new model: %s", exc)
        return f"not trained: {exc}"
    served, _, reason = model.register(run.cfg, trained)
    k, b = r.eval_k, trained.baseline.metrics
    return (
        f"trained {served.label} ({trained.best.name}): validation "
        f"NDCG@{k} {trained.best.metrics[f'ndcg_at_{k}']:.4f}, "
        f"P@{k} {trained.best.metrics[f'precision_at_{k}']:.4f} vs popularity "
        f"{b[f'ndcg_at_{k}']:.4f} / {b[f'precision_at_{k}']:.4f}; {reason}"
    )


def recommend_all(run: JobRun) -> None:
    spark, lake, r = run.spark, run.lake, run.cfg.recommend
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    # ALS's long lineage must be cut by checkpoints, or task serialization overflows.
    spark.sparkContext.setCheckpointDir(run.checkpoint("als"))
    events = tables.read_required(spark, tables.silver(landing.EVENTS), lake, "clean")
    catalog = tables.read_required(spark, tables.silver(landing.PRODUCTS), lake, "clean").select(
        C.PRODUCT_ID, C.PRODUCT_NAME, C.CATEGORY_L1, C.AVAILABLE
    )
    customers = tables.read_required(spark, tables.silver(landing.CUSTOMERS), lake, "clean")
    feedback = model.feedback_of(events, run.as_of, r).cache()
    try:
        n_feedback = feedback.count()
        if n_feedback == 0:
            _skip(
                run,
                step,
                f"no product interactions in the {r.history_days} days up "
                f"to as_of {run.as_of} (recommend.history_days): nothing to learn from",
            )
            return
        trained = "not trained (--score-only)"
        if not run.flags.score_only:
            trained = _train(run, events, feedback, catalog)
        served = registry.champion(run.cfg, r.model_name)
        if served is None:
            _skip(run, step, f"no {r.model_name} model is champion yet; {trained}")
            return
        log.info("recommend: serving %s", served.label)
        written, similar_written, message = _serve(run, served, events, feedback, catalog,
                                                   customers)  # fmt: skip
    finally:
        feedback.unpersist()
    run.record([
        step.entry(schemas.RECOMMENDATIONS.qualified, OK, rows_in=n_feedback, rows_written=written,
                   message=f"{message}; {trained}"),
        step.entry(schemas.SIMILAR_PRODUCTS.qualified, OK, rows_written=similar_written,
                   message=f"as_of {run.as_of}: {served.label}"),
    ])  # fmt: skip


def _skip(run: JobRun, step: Step, reason: str) -> None:
    log.warning("recommend skipped: %s", reason)
    run.record([step.entry(schemas.RECOMMENDATIONS.qualified, SKIPPED, message=reason)])


def _serve(
    run: JobRun,
    served: registry.Served,
    events: DataFrame,
    feedback: DataFrame,
    catalog: DataFrame,
    customers: DataFrame,
) -> tuple[int, int, str]:
    """Write both tables with the served model; (recommendation rows, similar rows, message)."""
    spark, lake, r = run.spark, run.lake, run.cfg.recommend
    fitted = als.factors(model.load(served))
    allowed = model.allowed_products(catalog, r)
    matrix = topn.item_matrix(fitted.items, [row[0] for row in allowed.collect()])
    base = customer_base(customers, events_until(events, run.as_of), run.as_of).select(
        C.CUSTOMER_KEY
    )
    known = base.join(fitted.users, C.CUSTOMER_KEY)
    users = model.user_rows(
        known, model.excluded_pairs(feedback, catalog, r), feedback, r.reason_history
    )
    personal = (
        topn.top_n(users, matrix, r.top_n, r.block_size)
        .withColumnRenamed(topn.KEY, C.CUSTOMER_KEY)
        .transform(with_reason, feedback, catalog)
    )
    cold = base.join(fitted.users, C.CUSTOMER_KEY, "left_anti")
    fallback = cold_start(cold, customers, feedback, allowed, r.top_n)
    stamp = [F.lit(run.as_of).alias(C.AS_OF), F.lit(served.label).alias(C.MODEL_VERSION)]
    recs = personal.unionByName(fallback, allowMissingColumns=True).select(
        *[c for c in schemas.RECOMMENDATIONS_SCHEMA.fieldNames()
          if c not in (C.AS_OF, C.MODEL_VERSION, schemas.RECOMMENDED_AT)],
        *stamp, F.lit(utc_now()).alias(schemas.RECOMMENDED_AT),
    ).select(*schemas.RECOMMENDATIONS_SCHEMA.fieldNames())  # fmt: skip
    similar = similar_products(matrix, spark, r.similar_n, r.block_size).select(
        C.PRODUCT_ID,
        *stamp[:1],
        topn.RANK,
        schemas.SIMILAR_PRODUCT_ID,
        schemas.SIMILARITY,
        stamp[1],
    )
    for table, schema, comment in (
        (schemas.RECOMMENDATIONS, schemas.RECOMMENDATIONS_SCHEMA, schemas.RECOMMENDATIONS_COMMENT),
        (
            schemas.SIMILAR_PRODUCTS,
            schemas.SIMILAR_PRODUCTS_SCHEMA,
            schemas.SIMILAR_PRODUCTS_COMMENT,
        ),
    ):
        tables.create_if_missing(spark, table, lake, schema, partition_by=[C.AS_OF],
                                 comment=comment)  # fmt: skip
    where = f"{C.AS_OF} = '{run.as_of}'"
    written = tables.overwrite(recs, schemas.RECOMMENDATIONS, lake, replace_where=where)
    similar_written = tables.overwrite(similar, schemas.SIMILAR_PRODUCTS, lake, replace_where=where)
    counts = {
        row[schemas.SOURCE]: row["n"]
        for row in tables.read(spark, schemas.RECOMMENDATIONS, lake)
        .where((F.col(C.AS_OF) == F.lit(run.as_of)) & (F.col(topn.RANK) == 1))
        .groupBy(schemas.SOURCE)
        .agg(F.countDistinct(C.CUSTOMER_KEY).alias("n"))
        .collect()
    }
    message = f"as_of {run.as_of}: {written} recommendations with {served.label} for " + ", ".join(
        f"{n} customers by {source}" for source, n in sorted(counts.items())
    )
    log.info("recommend: %s; %d similar-product rows", message, similar_written)
    return written, similar_written, message
