"""The segment job: gold.customer_features (one as_of) -> gold.customer_segments,
gold.segment_summary, gold.segment_centroids and gold.segment_history.

Idempotent: the as_of's rows of the first three are replaced in one commit each
(`replaceWhere`), and history first undoes an earlier application of the same as_of.
Cluster names are matched to those of the latest earlier as_of in gold.segment_centroids.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import tables
from insight.errors import InsightError
from insight.features import columns as FC
from insight.features.schemas import CUSTOMER_FEATURES
from insight.ops.ledger import LEDGER_SCHEMA, OK, SKIPPED
from insight.runtime import JobRun
from insight.segment import clusters, history, rfm, schemas

log = logging.getLogger(__name__)

SEGMENT_COLUMNS = [f.name for f in schemas.CUSTOMER_SEGMENTS_SCHEMA]


def read_features(run: JobRun) -> DataFrame:
    """This as_of's gold.customer_features rows, or an InsightError naming the features job."""
    fix = f"run `insight run features --as-of {run.as_of}` first"
    if not tables.exists(run.spark, CUSTOMER_FEATURES, run.lake):
        raise InsightError(f"no {CUSTOMER_FEATURES.qualified} under {run.lake}: {fix}")
    df = tables.read(run.spark, CUSTOMER_FEATURES, run.lake).where(
        F.col(C.AS_OF) == F.lit(run.as_of)
    )
    if df.isEmpty():
        raise InsightError(
            f"{CUSTOMER_FEATURES.qualified} has no rows for as_of {run.as_of}: {fix}"
        )
    return df


def with_embeddings(run: JobRun, features: DataFrame) -> tuple[DataFrame, tuple[str, ...]]:
    """The features with this as_of's autoencoder embedding as columns emb_0.., and those
    column names: clusters fitted on behaviour as the propensity job's autoencoder sees it."""
    from insight.propensity.schemas import CUSTOMER_EMBEDDINGS, EMBEDDING

    fix = f"run `insight run propensity --as-of {run.as_of}` first"
    stored = tables.read_required(run.spark, CUSTOMER_EMBEDDINGS, run.lake, "propensity")
    rows = stored.where(F.col(C.AS_OF) == F.lit(run.as_of)).select(C.CUSTOMER_KEY, EMBEDDING)
    first = rows.first()
    if first is None:
        raise InsightError(
            f"{CUSTOMER_EMBEDDINGS.qualified} has no rows for as_of {run.as_of}: {fix}"
        )
    names = tuple(f"emb_{i}" for i in range(len(first[EMBEDDING])))
    vectors = rows.select(
        C.CUSTOMER_KEY, *[F.col(EMBEDDING)[i].alias(n) for i, n in enumerate(names)]
    )
    return features.join(vectors, C.CUSTOMER_KEY), names


def previous_clusters(run: JobRun) -> list[clusters.PreviousCluster]:
    """The named centroids of the latest as_of before this one (none on a first run)."""
    if not tables.exists(run.spark, schemas.SEGMENT_CENTROIDS, run.lake):
        return []
    stored = tables.read(run.spark, schemas.SEGMENT_CENTROIDS, run.lake).where(
        F.col(C.AS_OF) < F.lit(run.as_of)
    )
    latest = stored.agg(F.max(C.AS_OF)).first()[0]
    if latest is None:
        return []
    rows = stored.where(F.col(C.AS_OF) == F.lit(latest)).orderBy(schemas.CLUSTER_ID).collect()
    log.info("segment: naming clusters after the %d of as_of %s", len(rows), latest)
    return [clusters.PreviousCluster(r[schemas.NAME], tuple(r[schemas.FEATURES]),
                                     tuple(r[schemas.CENTROID]))
            for r in rows]  # fmt: skip


def _create_tables(run: JobRun) -> None:
    for table, schema, comment, parts in (
        (
            schemas.CUSTOMER_SEGMENTS,
            schemas.CUSTOMER_SEGMENTS_SCHEMA,
            schemas.CUSTOMER_SEGMENTS_COMMENT,
            [C.AS_OF],
        ),
        (
            schemas.SEGMENT_SUMMARY,
            schemas.SEGMENT_SUMMARY_SCHEMA,
            schemas.SEGMENT_SUMMARY_COMMENT,
            [],
        ),
        (
            schemas.SEGMENT_CENTROIDS,
            schemas.SEGMENT_CENTROIDS_SCHEMA,
            schemas.SEGMENT_CENTROIDS_COMMENT,
            [],
        ),
        (
            schemas.SEGMENT_HISTORY,
            schemas.SEGMENT_HISTORY_SCHEMA,
            schemas.SEGMENT_HISTORY_COMMENT,
            [],
        ),
    ):
        tables.create_if_missing(
            run.spark, table, run.lake, schema, partition_by=parts, comment=comment
        )


def write_history(run: JobRun, segments: DataFrame) -> tuple[str, int | None, str]:
    """Apply this as_of to gold.segment_history: (status, rows written, message)."""
    spark, lake = run.spark, run.lake
    stored = tables.read(spark, schemas.SEGMENT_HISTORY, lake)
    latest = stored.agg(F.max(schemas.ENTERED_AS_OF)).first()[0]
    if latest is not None and latest > run.as_of:
        msg = f"history is at {latest}, after as_of {run.as_of}: not rewritten (forward only)"
        log.warning("segment: %s", msg)
        return SKIPPED, None, msg
    # Materialise before overwriting the table it is computed from.
    updated = history.updated_history(stored, history.memberships(segments), run.as_of)
    updated = updated.localCheckpoint(eager=True)
    written = tables.overwrite(updated, schemas.SEGMENT_HISTORY, lake)
    return OK, written, f"as_of {run.as_of}: {written} history rows"


def segment_all(run: JobRun) -> None:
    spark, lake, cfg = run.spark, run.lake, run.cfg.segment
    step = run.step()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    # KMeans passes over the features many times: read them from storage once.
    features = read_features(run).cache()
    clustered = segments = None
    try:
        rows_in = features.count()
        inputs, fit_on, log1p = features, clusters.FEATURES, clusters.LOG1P
        if run.flags.embeddings:
            inputs, fit_on = with_embeddings(run, features)
            log1p = ()  # embeddings are already on a common scale
        try:
            fit = clusters.fit_clusters(
                inputs, features=fit_on, log1p=log1p, k_values=range(cfg.k_min, cfg.k_max + 1),
                seed=cfg.seed, pca_components=cfg.pca_components,
            )  # fmt: skip
        except clusters.TooFewCustomersError as exc:
            # A lake too young to segment (or an as_of before the data): say so, go on.
            log.warning("segment skipped: %s", exc)
            run.record(
                [
                    step.entry(
                        schemas.CUSTOMER_SEGMENTS.qualified,
                        SKIPPED,
                        rows_in=rows_in,
                        message=str(exc),
                    )
                ]
            )
            return
        clustered = clusters.with_clusters(inputs, fit)
        if fit.features != clusters.FEATURES:  # profiles below read the features' inputs
            clustered = clustered.transform(clusters.with_model_inputs)
        clustered = clustered.cache()
        # Named and matched across runs in business terms, whatever the clusters were fit on.
        profiles = clusters.cluster_profiles(clustered, clusters.FEATURES)
        names = clusters.name_clusters(profiles, previous_clusters(run), clusters.FEATURES)
        log.info("segment: k=%d (silhouettes %s): %s", fit.k, dict(fit.silhouettes), names)
        segments = (
            clustered.transform(rfm.with_rfm_segment)
            .transform(clusters.with_cluster_names, names)
            .select(*SEGMENT_COLUMNS, FC.RECENCY_DAYS, FC.FREQUENCY, FC.MONETARY)
            .cache()
        )
        _create_tables(run)
        where = f"{C.AS_OF} = '{run.as_of}'"
        written = tables.overwrite(
            segments.select(*SEGMENT_COLUMNS), schemas.CUSTOMER_SEGMENTS, lake, replace_where=where
        )
        summary = history.segment_summary(segments, run.as_of)
        summary_rows = tables.overwrite(summary, schemas.SEGMENT_SUMMARY, lake, replace_where=where)
        centroids = spark.createDataFrame(
            [
                (run.as_of, *row)
                for row in clusters.centroid_rows(profiles, names, clusters.FEATURES)
            ],
            schemas.SEGMENT_CENTROIDS_SCHEMA,
        )
        tables.overwrite(centroids, schemas.SEGMENT_CENTROIDS, lake, replace_where=where)
        h_status, h_rows, h_msg = write_history(run, segments)
    finally:
        for df in (segments, clustered, features):
            if df is not None:
                df.unpersist()
    sizes = ", ".join(f"{i}={n}" for i, n in sorted(names.items()))
    run.record([
        step.entry(schemas.CUSTOMER_SEGMENTS.qualified, OK, rows_in=rows_in, rows_written=written,
                   message=f"as_of {run.as_of}: {written} customers, k={fit.k}, clusters {sizes}"),
        step.entry(schemas.SEGMENT_SUMMARY.qualified, OK, rows_written=summary_rows,
                   message=f"as_of {run.as_of}"),
        step.entry(schemas.SEGMENT_HISTORY.qualified, h_status, rows_written=h_rows, message=h_msg),
    ])  # fmt: skip
