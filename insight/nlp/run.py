"""The nlp job: silver.reviews -> gold.review_embeddings, gold.review_insights and the
sentiment trend tables.

Incremental: only reviews without an insight from the served model (or re-sent since
they were scored) are scored, and merged by review id. Each review is pushed through the
encoder once per encoder version (gold.review_embeddings); training and scoring read the
stored vectors. The model is the registered champion; it is trained (and registered) when
none exists, when `--retrain` is given, or when the encoder config changed under it.
"""

from __future__ import annotations

import logging

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.models import registry
from insight.nlp import embeddings, schemas, topics, trends
from insight.nlp import model as review_model
from insight.nlp.sentiment import LABEL, UNKNOWN, VECTOR_CANDIDATES, with_label
from insight.nlp.text import SCORABLE, TEXT, TEXT_STATUS, scorable, with_nlp_text
from insight.ops.ledger import LEDGER_SCHEMA, NOTHING_NEW, OK, SKIPPED
from insight.runtime import JobRun

log = logging.getLogger(__name__)


def reviews_until(run: JobRun) -> DataFrame:
    """Silver reviews written on or before as_of, with their brand and NLP-ready text."""
    silver = tables.silver(landing.REVIEWS)
    reviews = tables.read_required(run.spark, silver, run.lake, "clean").where(
        F.col(C.REVIEW_DATE) <= F.lit(run.as_of)
    )
    products = tables.silver(landing.PRODUCTS)
    if tables.exists(run.spark, products, run.lake):
        catalog = tables.read(run.spark, products, run.lake)
        reviews = reviews.join(catalog.select(C.PRODUCT_ID, C.BRAND, C.CATEGORY_L1),
                               C.PRODUCT_ID, "left")  # fmt: skip
    else:
        reviews = reviews.withColumns(
            {c: F.lit(None).cast("string") for c in (C.BRAND, C.CATEGORY_L1)}
        )
    return with_nlp_text(reviews, run.cfg.nlp)


def with_group(df: DataFrame) -> DataFrame:
    """The group a review is held out with for the cross-domain check: its product
    category (a shop without categories: its product)."""
    return df.withColumn(
        review_model.GROUP, F.coalesce(F.col(C.CATEGORY_L1), F.col(C.PRODUCT_ID), F.lit(""))
    )


def stored_vectors(run: JobRun, reviews: DataFrame) -> tuple[DataFrame, int]:
    """(`reviews` joined to their encoder vectors, how many had to be computed): reviews
    without a stored vector of this encoder version for their current text are embedded
    and stored first; the rest are read back, never recomputed."""
    spark, lake, cfg = run.spark, run.lake, run.cfg.nlp
    version = embeddings.version(cfg)
    tables.create_if_missing(
        spark, schemas.REVIEW_EMBEDDINGS, lake, schemas.REVIEW_EMBEDDINGS_SCHEMA,
        comment="Encoder vector and lexicon scores of every scorable review, per encoder version",
    )  # fmt: skip
    stored = tables.read(spark, schemas.REVIEW_EMBEDDINGS, lake)
    todo = embeddings.missing(
        reviews.select(C.REVIEW_ID, C.CUSTOMER_KEY, TEXT), stored, version
    ).cache()
    try:
        computed = todo.count()
        if computed:
            log.info("nlp: embedding %d reviews with encoder %s", computed, version)
            rows = embeddings.embed(cfg, todo).withColumns({
                embeddings.ENCODER_VERSION: F.lit(version),
                embeddings.EMBEDDED_AT: F.lit(run.started_at),
            })  # fmt: skip
            tables.merge_latest(
                spark, rows.select(*[f.name for f in schemas.REVIEW_EMBEDDINGS_SCHEMA]),
                schemas.REVIEW_EMBEDDINGS, lake, keys=[C.REVIEW_ID, embeddings.ENCODER_VERSION],
                version_col=embeddings.EMBEDDED_AT, same_version_wins=True,
            )  # fmt: skip
    finally:
        todo.unpersist()
    stored = tables.read(spark, schemas.REVIEW_EMBEDDINGS, lake)
    return embeddings.with_stored(reviews, stored, version), computed


def pending(reviews: DataFrame, insights: DataFrame, model_version: str) -> DataFrame:
    """Reviews with no insight from `model_version`, or re-sent since they were scored."""
    done = insights.select(
        C.REVIEW_ID,
        F.col(C.MODEL_VERSION).alias("_scored_by"),
        F.col(C.SENT_AT).alias("_scored_sent_at"),
    )
    joined = reviews.join(done, C.REVIEW_ID, "left")
    todo = (
        F.col("_scored_by").isNull()
        | (F.col("_scored_by") != model_version)
        | (F.col(C.SENT_AT) > F.col("_scored_sent_at"))
    )
    return joined.where(todo).drop("_scored_by", "_scored_sent_at")


def insight_rows(
    model: PipelineModel, scorable_rows: DataFrame, unscorable_rows: DataFrame,
    model_version: str, run: JobRun,
) -> DataFrame:  # fmt: skip
    """gold.review_insights rows: scorable text gets the model's output, unusable text the
    label `unknown` (its text_status says why)."""
    scored = review_model.score(model, scorable_rows)
    unscorable = (
        unscorable_rows.withColumn(C.SENTIMENT, F.lit(UNKNOWN))
        .withColumn(C.PROBABILITY, F.lit(None).cast("double"))
        .withColumn(C.SENTIMENT_SCORE, F.lit(None).cast("double"))
        .withColumn(
            C.KEYPHRASES, F.array().cast(schemas.REVIEW_INSIGHTS_SCHEMA[C.KEYPHRASES].dataType)
        )
        .withColumn(C.TOPIC_ID, F.lit(None).cast("int"))
        .withColumn(C.TOPIC_WEIGHT, F.lit(None).cast("double"))
    )
    extra = {
        C.MODEL_VERSION: F.lit(model_version),
        C.AS_OF: F.lit(run.as_of),
        C.SCORED_AT: F.lit(run.started_at),
    }
    names = [f.name for f in schemas.REVIEW_INSIGHTS_SCHEMA]

    def shape(df: DataFrame) -> DataFrame:
        return df.withColumns(extra).select(
            *[F.col(f.name).cast(f.dataType).alias(f.name) for f in schemas.REVIEW_INSIGHTS_SCHEMA]
        )

    return shape(scored).unionByName(shape(unscorable)).select(*names)


def serve_model(
    run: JobRun, reviews: DataFrame
) -> tuple[registry.Served, PipelineModel, bool, int]:
    """(served version, its PipelineModel, newly trained?, reviews embedded for training):
    the champion, unless `--retrain` was given, there is none yet, or it reads vectors of
    another encoder version than the config gives; then a model is trained, registered and
    gated against the champion's setting measured on the same split."""
    cfg = run.cfg
    champion = registry.champion(cfg, cfg.nlp.model_name)
    why = "--retrain given" if run.flags.retrain else "no registered model yet"
    comparable = None  # the champion's setting, if it can be measured on the new split
    if champion is not None:
        wanted = review_model.encoder_of(cfg, champion)
        current = embeddings.version(cfg.nlp) if wanted else None
        if wanted == current:
            if not run.flags.retrain:
                log.info("nlp: serving %s (registered champion)", champion.label)
                return champion, review_model.load(champion), False, 0
            comparable = review_model.champion_setting(cfg, champion)
        else:
            why = (f"the champion {champion.label} reads encoder {wanted}, the config gives "
                   f"{current}")  # fmt: skip
    log.info("nlp: training the review model (%s)", why)
    vectors = any(name in VECTOR_CANDIDATES for name in cfg.nlp.candidates)
    if vectors:
        embeddings.minilm_root(cfg.nlp)  # a missing export is a set-up error: say so first
    labelled = (
        scorable(reviews).transform(with_label).where(F.col(LABEL).isNotNull())
        .transform(with_group)
    )  # fmt: skip
    total = labelled.count()
    if total > cfg.nlp.max_training_reviews:
        log.info("nlp: training on a stratified sample of %d of %d rated reviews "
                 "(nlp.max_training_reviews)", cfg.nlp.max_training_reviews, total)  # fmt: skip
        labelled = review_model.stratified_sample(
            labelled, cfg.nlp.max_training_reviews / total, cfg.nlp.seed
        )
    computed = 0
    if vectors:
        labelled, computed = stored_vectors(run, labelled)
    trained = review_model.train(run.spark, labelled, cfg, comparable)
    encoder = embeddings.version(cfg.nlp) if vectors else None
    served, promoted, reason = review_model.register(cfg, trained, encoder)
    log.info("nlp: %s", reason)
    if not promoted:  # the champion serves on; the new version stays registered, unserved
        return champion, review_model.load(champion), False, computed
    terms = topics.topic_terms(run.spark, trained.model).withColumn(
        C.MODEL_VERSION, F.lit(served.label)
    )
    tables.create_if_missing(run.spark, schemas.TOPIC_TERMS, run.lake, schemas.TOPIC_TERMS_SCHEMA,
                             comment="Terms of each LDA topic, per model version")  # fmt: skip
    tables.overwrite(
        terms.select(*[f.name for f in schemas.TOPIC_TERMS_SCHEMA]), schemas.TOPIC_TERMS, run.lake,
        replace_where=f"{C.MODEL_VERSION} = '{served.label}'",
    )  # fmt: skip
    return served, trained.model, True, computed


def nlp_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    reviews = reviews_until(run)
    try:
        served, model, trained, embedded = serve_model(run, reviews)
    except review_model.NotEnoughReviewsError as exc:
        # A young lake: nothing to learn from yet. Say so and let the DAG go on; the
        # reviews are scored by the first run that can train a model.
        log.warning("nlp skipped: %s (no review model registered yet)", exc)
        run.record([step.entry(schemas.REVIEW_INSIGHTS.qualified, SKIPPED, message=str(exc))])
        return
    tables.create_if_missing(
        spark, schemas.REVIEW_INSIGHTS, lake, schemas.REVIEW_INSIGHTS_SCHEMA,
        comment="Sentiment, keyphrases and topic of every review (one row per review)",
    )  # fmt: skip
    insights = tables.read(spark, schemas.REVIEW_INSIGHTS, lake)
    todo = pending(reviews, insights, served.label).cache()
    try:
        statuses = {r[0]: r[1] for r in todo.groupBy(TEXT_STATUS).count().collect()}
        n_todo = sum(statuses.values())
        log.info("nlp: %d reviews to score with %s (%s)", n_todo, served.label,
                 _status_text(statuses) or "none")  # fmt: skip
        written, to_score = 0, sum(v for k, v in statuses.items() if k in SCORABLE)
        if n_todo:
            ready = scorable(todo)
            if review_model.uses_vectors(model):
                ready, computed = stored_vectors(run, ready)
                embedded += computed
            rows = insight_rows(model, ready, todo.where(~F.col(TEXT_STATUS).isin(*SCORABLE)),
                                served.label, run)  # fmt: skip
            written = tables.merge_latest(
                spark,
                rows,
                schemas.REVIEW_INSIGHTS,
                lake,
                keys=[C.REVIEW_ID],
                version_col=C.SCORED_AT,
            ).written
    finally:
        todo.unpersist()
    unknown = sum(v for k, v in statuses.items() if k not in SCORABLE)
    # Vectors read from the store rather than computed: for training and for scoring.
    reused = max(to_score - embedded, 0) if review_model.uses_vectors(model) else 0
    entries = [
        step.entry(
            schemas.REVIEW_INSIGHTS.qualified, OK if n_todo else NOTHING_NEW,
            rows_in=n_todo, rows_written=written,
            message=f"model {served.label}{' (trained this run)' if trained else ''}; "
            f"text_status {_status_text(statuses) or 'none'}; unknown {unknown}; "
            f"embedded {embedded}, reused {reused} stored vectors",
        )
    ]  # fmt: skip
    if n_todo or trained:
        entries += write_trends(run)
    run.record(entries)


def write_trends(run: JobRun) -> list:
    """Rebuild the trend tables from all insights (cheap next to scoring) and the alerts
    for this as_of."""
    spark, lake, cfg = run.spark, run.lake, run.cfg.nlp
    insights = tables.read(spark, schemas.REVIEW_INSIGHTS, lake).where(
        F.col(C.REVIEW_DATE) <= F.lit(run.as_of)
    )
    entries = []
    outputs = [
        (schemas.PRODUCT_SENTIMENT_DAILY, schemas.PRODUCT_SENTIMENT_DAILY_SCHEMA,
         trends.product_sentiment_daily(insights, cfg.top_keyphrases), None,
         "Review sentiment per product and day"),
        (schemas.KEYPHRASE_WEEKLY, schemas.KEYPHRASE_WEEKLY_SCHEMA,
         trends.keyphrase_weekly(insights, cfg.top_keyphrases), None,
         "Keyphrase mentions per product and brand per week, top praise and complaints ranked"),
        (schemas.SENTIMENT_ALERTS, schemas.SENTIMENT_ALERTS_SCHEMA,
         trends.sentiment_alerts(insights, run.as_of, cfg.alerts), f"{C.AS_OF} = '{run.as_of}'",
         "Products and brands whose negative-review share rose clearly; rule in each row"),
    ]  # fmt: skip
    for table, schema, frame, replace_where, comment in outputs:
        step = run.step()
        tables.create_if_missing(spark, table, lake, schema, comment=comment)
        shaped = frame.select(*[F.col(f.name).cast(f.dataType) for f in schema])
        rows = tables.overwrite(shaped, table, lake, replace_where=replace_where)
        log.info("nlp: %s rewritten, %d rows", table, rows)
        entries.append(step.entry(table.qualified, OK, rows_written=rows))
    return entries


def _status_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))
