"""The propensity job: gold.customer_features (one as_of) -> gold.customer_scores and
gold.customer_embeddings.

Each model (purchase, churn, the embeddings autoencoder) is trained when `--train` is given
or it has no champion yet, never with `--score-only`: point-in-time snapshots from silver,
the network trained with Horovod next to the Spark baselines (insight.propensity.train).
Scoring always uses the champions. A target that cannot be trained and has no champion is
left null, with the reason in the run ledger; scores are never NaN.

Idempotent: the as_of's rows of both tables are replaced in one commit each.
"""

from __future__ import annotations

import logging

import mlflow
from pyspark.ml.feature import PCA
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.errors import InsightError
from insight.features.schemas import CUSTOMER_FEATURES
from insight.models import registry
from insight.nlp.schemas import REVIEW_INSIGHTS
from insight.ops.ledger import LEDGER_SCHEMA, OK, SKIPPED
from insight.propensity import distributed, schemas, train
from insight.propensity.dataset import (
    CATEGORICAL_FEATURES,
    NUMERIC,
    TARGETS,
    Sources,
    model_inputs,
)
from insight.propensity.network import AUTOENCODER
from insight.propensity.score import (
    FACTORS,
    PROBABILITY,
    embed,
    reconstruction_error,
    score_keras,
    score_spark,
)
from insight.runtime import JobRun, utc_now

log = logging.getLogger(__name__)

EMBEDDINGS = "embeddings"
# The autoencoder's gate metric: mean squared reconstruction error in the candidate's units.
RECONSTRUCTION = "reconstruction_error"
PERCENTILE_ERROR = 0.001  # relative error of the approximate quantiles behind percentiles
_VECTOR, _PC = "_vector", "_pc"


def sources(run: JobRun) -> Sources:
    spark, lake = run.spark, run.lake
    has_insights = tables.exists(spark, REVIEW_INSIGHTS, lake)
    return Sources(
        customers=tables.read_required(spark, tables.silver(landing.CUSTOMERS), lake, "clean"),
        events=tables.read_required(spark, tables.silver(landing.EVENTS), lake, "clean"),
        products=tables.read_required(spark, tables.silver(landing.PRODUCTS), lake, "clean"),
        insights=tables.read(spark, REVIEW_INSIGHTS, lake) if has_insights else None,
    )


def features_at(run: JobRun) -> DataFrame:
    features = tables.read_required(run.spark, CUSTOMER_FEATURES, run.lake, "features")
    rows = features.where(F.col(C.AS_OF) == F.lit(run.as_of))
    if rows.isEmpty():
        raise InsightError(
            f"{CUSTOMER_FEATURES.qualified} has no rows for as_of {run.as_of}: "
            f"run `insight run features --as-of {run.as_of}` first"
        )
    return rows


def with_percentile_and_band(
    scored: DataFrame, target: str, high: float, medium: float
) -> DataFrame:
    """customer_key and the target's probability, percentile, band and factors columns."""
    cuts = scored.approxQuantile(PROBABILITY, [i / 100 for i in range(1, 100)], PERCENTILE_ERROR)
    below = F.size(F.filter(F.array(*[F.lit(c) for c in cuts]), lambda c: c < F.col(PROBABILITY)))
    pct = below.cast("int")
    band = F.when(pct >= high, "high").when(pct >= medium, "medium").otherwise("low")
    return scored.select(
        C.CUSTOMER_KEY,
        F.col(PROBABILITY).alias(schemas.probability(target)),
        pct.alias(schemas.percentile(target)),
        band.alias(schemas.band(target)),
        F.col(FACTORS).alias(schemas.factors(target)),
    )


def should_train(run: JobRun, name: str) -> bool:
    """--train, no champion yet, or a champion trained on other features (an older release's
    table); never with --score-only."""
    if run.flags.score_only:
        return False
    served = registry.champion(run.cfg, name)
    if run.flags.train or served is None:
        return True
    try:
        train.require_current_features(served, train.load_spec(run.cfg, served))
    except InsightError as exc:
        log.warning("propensity: %s; retraining it", exc)
        return True
    return False


def _train_target(run: JobRun, src: Sources, target: str) -> str:
    cfg = run.cfg
    experiment = registry.experiment(cfg, f"propensity-{target}")
    try:
        with mlflow.start_run(experiment_id=experiment, run_name=f"{target} {run.as_of}") as mrun:
            trained = train.train_target(
                cfg, src, run.as_of, target, mrun.info.run_id, num_proc=run.flags.num_proc
            )
            served, _, reason = train.register(cfg, trained)
    except train.NotEnoughLabelsError as exc:
        log.warning("propensity %s: not trained: %s", target, exc)
        return f"not trained: {exc}"
    return f"trained {served.label}: {reason}"


def _score_target(run: JobRun, inputs: DataFrame, target: str) -> tuple[DataFrame, str] | None:
    served = registry.champion(run.cfg, train.model_name(run.cfg, target))
    if served is None:
        return None
    kind, spec, model = train.load(run.cfg, served)
    train.require_current_features(served, spec)
    log.info("propensity %s: scoring with %s (%s)", target, served.label, kind)
    if kind == "keras":
        return score_keras(inputs, spec, model), served.label
    return score_spark(inputs, spec, model), served.label


def scores(run: JobRun, src: Sources, inputs: DataFrame) -> tuple[DataFrame | None, dict]:
    """This as_of's gold.customer_scores rows (None if no target has a model) and a note
    per target for the ledger."""
    p = run.cfg.propensity
    notes: dict[str, str] = {}
    out = inputs.select(C.CUSTOMER_KEY)
    scored_any = False
    for target in TARGETS:
        if should_train(run, train.model_name(run.cfg, target)):
            notes[target] = _train_target(run, src, target)
        found = _score_target(run, inputs, target)
        if found is None:
            notes[target] = f"{notes.get(target, 'not trained')}; no champion: no scores"
            nulls = {f.name: F.lit(None).cast(f.dataType) for f in schemas.CUSTOMER_SCORES_SCHEMA
                     if f.name.startswith(f"{target}_")}  # fmt: skip
            out = out.withColumns(nulls)
            continue
        scored, label = found
        part = with_percentile_and_band(
            scored.cache(), target, p.high_band_percentile, p.medium_band_percentile
        )
        out = out.join(part, C.CUSTOMER_KEY, "left")
        out = out.withColumn(schemas.model_version(target), F.lit(label))
        notes.setdefault(target, f"scored with champion {label}")
        scored_any = True
    if not scored_any:
        return None, notes
    out = out.withColumn(C.AS_OF, F.lit(run.as_of)).withColumn(schemas.SCORED_AT, F.lit(utc_now()))
    return out.select(
        *[F.col(f.name).cast(f.dataType) for f in schemas.CUSTOMER_SCORES_SCHEMA]
    ), notes


def _train_embeddings(run: JobRun, inputs: DataFrame) -> str:
    """Train the autoencoder with Horovod (like the classifiers) and gate it against the
    champion on the same validation customers; returns what the gate decided."""
    cfg, p = run.cfg, run.cfg.propensity
    train_rows, val_rows = inputs.randomSplit([0.9, 0.1], seed=p.seed)
    spec = train.make_spec(train_rows, p, AUTOENCODER)
    name = train.model_name(cfg, EMBEDDINGS)
    experiment = registry.experiment(cfg, f"propensity-{EMBEDDINGS}")
    with mlflow.start_run(experiment_id=experiment, run_name=f"{EMBEDDINGS} {run.as_of}") as mrun:
        run_id = mrun.info.run_id
        fitted = distributed.fit(
            train_rows, val_rows, spec, p, lake=run.lake,
            checkpoint_dir=train.local_dir(run.lake, "_checkpoints", "propensity", EMBEDDINGS,
                                           run_id),
            target=distributed.MlflowTarget(registry.tracking_uri(cfg), run_id, ""),
            num_proc=run.flags.num_proc,
        )  # fmt: skip
        mlflow.log_metric("reconstruction_loss", min(fitted.ranks[0].val_loss))
        validation = val_rows.select(C.CUSTOMER_KEY, NUMERIC, *CATEGORICAL_FEATURES).toPandas()
        mlflow.log_metric(
            RECONSTRUCTION, reconstruction_error(validation, spec, fitted.weights, spec)
        )
        version = train.log_network(cfg, spec, fitted.weights, name, val_rows)
    current = registry.champion(cfg, name)
    champion_error = None
    if current is not None:
        _, old_spec, old_weights = train.load(cfg, current)
        if old_spec.numeric == spec.numeric:
            champion_error = reconstruction_error(validation, old_spec, old_weights, spec)
    _, reason = registry.promote_if_not_worse(
        cfg, name, version, RECONSTRUCTION, higher_is_better=False,
        champion_value=champion_error, same_data="this run's validation customers",
    )  # fmt: skip
    return reason


def embeddings(run: JobRun, inputs: DataFrame) -> tuple[DataFrame | None, str]:
    """This as_of's gold.customer_embeddings rows with a 2-D PCA map, and a note."""
    name = train.model_name(run.cfg, EMBEDDINGS)
    trained = ""
    if should_train(run, name):
        trained = f"trained: {_train_embeddings(run, inputs)}; "
    served = registry.champion(run.cfg, name)
    if served is None:
        return None, "no embeddings model yet (--score-only)"
    _, spec, weights = train.load(run.cfg, served)
    train.require_current_features(served, spec)
    vectors = embed(inputs, spec, weights, schemas.EMBEDDING).withColumn(
        _VECTOR, array_to_vector(schemas.EMBEDDING)
    )
    mapped = PCA(k=2, inputCol=_VECTOR, outputCol=_PC).fit(vectors).transform(vectors)
    rows = mapped.select(
        C.CUSTOMER_KEY, F.lit(run.as_of).alias(C.AS_OF), schemas.EMBEDDING,
        F.round(vector_to_array(_PC)[0], 6).alias(schemas.MAP_X),
        F.round(vector_to_array(_PC)[1], 6).alias(schemas.MAP_Y),
        F.lit(served.label).alias(C.MODEL_VERSION),
    )  # fmt: skip
    return rows, f"{trained}embedded with {served.label}"


def _write(run: JobRun, df: DataFrame, table: tables.Table, schema, comment: str) -> int:
    tables.create_if_missing(
        run.spark, table, run.lake, schema, partition_by=[C.AS_OF], comment=comment
    )
    return tables.overwrite(df, table, run.lake, replace_where=f"{C.AS_OF} = '{run.as_of}'")


def propensity_all(run: JobRun) -> None:
    step = run.step()
    tables.create_if_missing(run.spark, tables.RUN_LEDGER, run.lake, LEDGER_SCHEMA)
    src = sources(run)
    inputs = model_inputs(features_at(run), src.customers).cache()
    try:
        n_customers = inputs.count()
        out, notes = scores(run, src, inputs)
        note = f"as_of {run.as_of}: " + "; ".join(f"{t}: {n}" for t, n in notes.items())
        if out is None:
            log.warning("propensity skipped: %s", note)
            run.record([step.entry(schemas.CUSTOMER_SCORES.qualified, SKIPPED, message=note)])
            return
        out = out.cache()
        probabilities = F.array(*[F.col(schemas.probability(t)) for t in TARGETS])
        bad = out.where(F.exists(probabilities, lambda x: F.isnan(x))).count()
        if bad:
            raise InsightError(f"propensity: {bad} customers got a NaN score; nothing written")
        written = _write(run, out, schemas.CUSTOMER_SCORES, schemas.CUSTOMER_SCORES_SCHEMA,
                         schemas.CUSTOMER_SCORES_COMMENT)  # fmt: skip
        log.info("propensity: %d customers scored; %s", written, note)
        entries = [
            step.entry(
                schemas.CUSTOMER_SCORES.qualified,
                OK,
                rows_in=n_customers,
                rows_written=written,
                message=note,
            )
        ]
        rows, e_note = embeddings(run, inputs)
        if rows is not None:
            e_written = _write(run, rows, schemas.CUSTOMER_EMBEDDINGS,
                               schemas.CUSTOMER_EMBEDDINGS_SCHEMA,
                               schemas.CUSTOMER_EMBEDDINGS_COMMENT)  # fmt: skip
            entries.append(
                step.entry(
                    schemas.CUSTOMER_EMBEDDINGS.qualified,
                    OK,
                    rows_written=e_written,
                    message=f"as_of {run.as_of}: {e_note}",
                )
            )
        run.record(entries)
    finally:
        inputs.unpersist()
