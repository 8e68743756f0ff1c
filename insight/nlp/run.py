"""The nlp job: silver.reviews -> gold.review_embeddings, gold.review_insights and the
sentiment trend tables.

Incremental: only reviews without an insight from the served model (or re-sent since
they were scored) are scored, and merged by review id. Each review is pushed through the
encoder once per encoder version (gold.review_embeddings); training and scoring read the
stored vectors. The model is the registered champion; it is trained (and registered) when
none exists, when `--retrain` is given, or when the encoder config changed under it.

Chinese reviews (language `zh`) are scored by their own model (nlp.zh_model_name, see
insight.nlp.chinese), trained on the lake's rated Chinese reviews when Chinese reviews are
due a score and none is registered (or `--retrain`); the English path never reads them.
"""

from __future__ import annotations

import logging
from functools import reduce

from pyspark.ml import PipelineModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.models import registry
from insight.nlp import chinese, embeddings, schemas, selection, topics, trends
from insight.nlp import model as review_model
from insight.nlp.sentiment import LABEL, UNKNOWN, VECTOR_CANDIDATES, with_label
from insight.nlp.text import LANGUAGE, SCORABLE, TEXT, TEXT_STATUS, ZH, scorable, with_nlp_text
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
        selection.GROUP, F.coalesce(F.col(C.CATEGORY_L1), F.col(C.PRODUCT_ID), F.lit(""))
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


def pending(reviews: DataFrame, insights: DataFrame, model_version: str | Column) -> DataFrame:
    """Reviews with no insight from `model_version` (a column: per review, e.g. by its
    language), or re-sent since they were scored."""
    if isinstance(model_version, str):
        model_version = F.lit(model_version)
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


def unknown(rows: DataFrame) -> DataFrame:
    """`rows` with the label `unknown` and no score, keyphrase or topic (no model reads
    their text: its text_status or its language says why)."""
    return rows.withColumns({
        C.SENTIMENT: F.lit(UNKNOWN),
        C.PROBABILITY: F.lit(None).cast("double"),
        C.SENTIMENT_SCORE: F.lit(None).cast("double"),
        C.KEYPHRASES: F.array().cast(schemas.REVIEW_INSIGHTS_SCHEMA[C.KEYPHRASES].dataType),
        C.TOPIC_ID: F.lit(None).cast("int"),
        C.TOPIC_WEIGHT: F.lit(None).cast("double"),
    })  # fmt: skip


def insight_rows(parts: list[tuple[DataFrame, str]], run: JobRun) -> DataFrame:
    """gold.review_insights rows from (rows with their insight columns, the model version
    that gave them) parts: scored rows and `unknown` ones."""
    extra = {C.AS_OF: F.lit(run.as_of), C.SCORED_AT: F.lit(run.started_at)}
    shaped = [
        df.withColumns({**extra, C.MODEL_VERSION: F.lit(version)}).select(
            *[F.col(f.name).cast(f.dataType).alias(f.name) for f in schemas.REVIEW_INSIGHTS_SCHEMA]
        )
        for df, version in parts
    ]
    return reduce(DataFrame.unionByName, shaped)


def rated(reviews: DataFrame, *, chinese: bool) -> DataFrame:
    """The readable reviews of one model's language (Chinese, or every other) that carry a
    star rating, labelled and grouped for training."""
    language = F.col(LANGUAGE) == ZH if chinese else F.col(LANGUAGE) != ZH
    return (
        scorable(reviews).where(language).transform(with_label)
        .where(F.col(LABEL).isNotNull()).transform(with_group)
    )  # fmt: skip


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
    labelled = rated(reviews, chinese=False)
    total = labelled.count()
    if total > cfg.nlp.max_training_reviews:
        log.info("nlp: training on a stratified sample of %d of %d rated reviews "
                 "(nlp.max_training_reviews)", cfg.nlp.max_training_reviews, total)  # fmt: skip
        labelled = selection.stratified_sample(
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
    write_topic_terms(run, trained.model, served)
    return served, trained.model, True, computed


def write_topic_terms(run: JobRun, model: PipelineModel, served: registry.Served) -> None:
    """gold.topic_terms of a newly served model: what each of its topics is about."""
    terms = topics.topic_terms(run.spark, model).withColumn(C.MODEL_VERSION, F.lit(served.label))
    tables.create_if_missing(run.spark, schemas.TOPIC_TERMS, run.lake, schemas.TOPIC_TERMS_SCHEMA,
                             comment="Terms of each LDA topic, per model version")  # fmt: skip
    tables.overwrite(
        terms.select(*[f.name for f in schemas.TOPIC_TERMS_SCHEMA]), schemas.TOPIC_TERMS, run.lake,
        replace_where=f"{C.MODEL_VERSION} = '{served.label}'",
    )  # fmt: skip


def no_zh_model(cfg) -> str:
    """The model_version of Chinese reviews while no Chinese model serves: too few rated
    Chinese reviews to train one yet (they are `unknown`, and tried again when new ones come)."""
    return f"{cfg.nlp.zh_model_name}/none"


def serve_zh_model(
    run: JobRun, reviews: DataFrame, champion: registry.Served | None
) -> tuple[registry.Served, PipelineModel] | None:
    """The Chinese model: trained on the lake's rated Chinese reviews, registered and gated
    like the English one (under nlp.zh_model_name); the champion serves on if it selects
    better. None if there are too few rated Chinese reviews to train one."""
    cfg = run.cfg
    labelled = rated(reviews, chinese=True)
    comparable = review_model.champion_setting(cfg, champion) if champion else None
    log.info("nlp: training the Chinese review model (%s)",
             "--retrain given" if champion else "none registered yet")  # fmt: skip
    try:
        trained = review_model.train_zh(labelled, cfg, comparable)
    except selection.NotEnoughReviewsError as exc:
        log.warning("nlp: no Chinese model: %s; Chinese reviews stay unknown", exc)
        return (champion, review_model.load(champion)) if champion else None
    served, promoted, reason = review_model.register(
        cfg, trained, None, model_name=cfg.nlp.zh_model_name,
        params={"reg_params": ",".join(map(str, cfg.nlp.zh_reg_params)),
                "zh_hash_features": cfg.nlp.zh_hash_features,
                "segmenter": chinese.segmenter_version()},
    )  # fmt: skip
    log.info("nlp (zh): %s", reason)
    if not promoted:
        return champion, review_model.load(champion)
    write_topic_terms(run, trained.model, served)
    return served, trained.model


def nlp_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    silver = tables.silver(landing.REVIEWS)
    if not tables.exists(spark, silver, lake) and tables.exists(
        spark, tables.silver(landing.EVENTS), lake
    ):
        # Cleaned, but the shop sent no reviews (an imported transaction export): nothing
        # to score, and every later task reads review insights only if they exist.
        message = f"no reviews in this lake ({silver.qualified} does not exist): nothing to score"
        log.warning("nlp skipped: %s", message)
        run.record([step.entry(schemas.REVIEW_INSIGHTS.qualified, SKIPPED, message=message)])
        return
    reviews = reviews_until(run)
    try:
        served, model, trained, embedded = serve_model(run, reviews)
    except selection.NotEnoughReviewsError as exc:
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
    zh_name = run.cfg.nlp.zh_model_name
    zh_champion = registry.champion(run.cfg, zh_name)
    zh = None  # (served, model) of the Chinese model, loaded only for Chinese reviews due
    # The model each review is due a score from, by language. --retrain: no Chinese insight
    # is current (the empty name), so every Chinese review is pending.
    zh_version = "" if run.flags.retrain else (zh_champion.label if zh_champion
                                                else no_zh_model(run.cfg))  # fmt: skip
    due = F.when(F.col(LANGUAGE) == ZH, F.lit(zh_version)).otherwise(F.lit(served.label))
    todo = pending(reviews, insights, due).cache()
    try:
        counted = todo.groupBy(TEXT_STATUS, LANGUAGE).count().collect()
        statuses, languages = _totals(counted, 0), _totals(counted, 1)
        n_todo = sum(statuses.values())
        zh_todo = sum(r[2] for r in counted if r[1] == ZH and r[0] in SCORABLE)
        if zh_todo and (zh_champion is None or run.flags.retrain):
            zh = serve_zh_model(run, reviews, zh_champion)
        elif zh_todo:
            zh = (zh_champion, review_model.load(zh_champion))
        log.info("nlp: %d reviews to score with %s%s (%s; language %s)", n_todo, served.label,
                 f" and {zh[0].label}" if zh else "", _status_text(statuses) or "none",
                 _status_text(languages) or "none")  # fmt: skip
        written = 0
        to_score = sum(r[2] for r in counted if r[1] != ZH and r[0] in SCORABLE)
        if n_todo:
            ready = scorable(todo)
            english, chinese_rows = (
                ready.where(F.col(LANGUAGE) != ZH),
                ready.where(F.col(LANGUAGE) == ZH),
            )
            parts = [(unknown(todo.where(~F.col(TEXT_STATUS).isin(*SCORABLE))), served.label)]
            # Only languages with reviews due are scored: the English model's VectorAssembler
            # cannot even plan on an empty frame (it reads vector sizes from the first row).
            if to_score:
                if review_model.uses_vectors(model):
                    english, computed = stored_vectors(run, english)
                    embedded += computed
                parts.append((review_model.score(model, english), served.label))
            if zh and zh_todo:
                scored_zh = review_model.score_zh(
                    zh[1], chinese_rows, run.cfg.nlp.keyphrases_per_review
                )
                parts.append((scored_zh, zh[0].label))
            elif zh_todo:
                parts.append((unknown(chinese_rows), no_zh_model(run.cfg)))
            written = tables.merge_latest(
                spark,
                insight_rows(parts, run),
                schemas.REVIEW_INSIGHTS,
                lake,
                keys=[C.REVIEW_ID],
                version_col=C.SCORED_AT,
            ).written
    finally:
        todo.unpersist()
    unknown_n = sum(v for k, v in statuses.items() if k not in SCORABLE) + (0 if zh else zh_todo)
    # Vectors read from the store rather than computed: for training and for scoring.
    reused = max(to_score - embedded, 0) if review_model.uses_vectors(model) else 0
    zh_text = f"; Chinese model {zh[0].label}" if zh else ""
    entries = [
        step.entry(
            schemas.REVIEW_INSIGHTS.qualified, OK if n_todo else NOTHING_NEW,
            rows_in=n_todo, rows_written=written,
            message=f"model {served.label}{' (trained this run)' if trained else ''}{zh_text}; "
            f"text_status {_status_text(statuses) or 'none'}; "
            f"language {_status_text(languages) or 'none'}; unknown {unknown_n}; "
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


def _totals(counted: list, field: int) -> dict[str, int]:
    """Rows of a (text_status, language, count) collect summed by one of the two."""
    out: dict[str, int] = {}
    for row in counted:
        out[row[field]] = out.get(row[field], 0) + row[2]
    return out


def _status_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))
