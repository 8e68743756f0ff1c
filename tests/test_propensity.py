"""Propensity: point-in-time labels without leakage, metrics by hand, the gate against the
baselines, a real 2-process Horovod run (Gloo) fed by Petastorm, and the propensity job end
to end on a generated lake with a real MLflow store."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from insight import columns as C
from insight import tables
from insight.config import load_config
from insight.errors import InsightError
from insight.models import registry
from insight.propensity import dataset, distributed, evaluate, network, schemas, score, train
from insight.propensity.run import EMBEDDINGS, should_train

T0 = date(2025, 6, 30)
EVENTS = (
    f"{C.EVENT_ID} string, {C.EVENT_TYPE} string, {C.EVENT_TS} timestamp, {C.EVENT_DATE} date, "
    f"{C.CUSTOMER_KEY} string, {C.SESSION_ID} string, {C.ORDER_ID} string, {C.PRODUCT_ID} string, "
    f"{C.QUANTITY} int, {C.AMOUNT} double, {C.DEVICE} string, {C.CHANNEL} string"
)


def ev(cust, kind, day, n=[0]):  # noqa: B006 - a counter for unique ids
    n[0] += 1
    ts = datetime(day.year, day.month, day.day, 12)
    order = f"O{n[0]}" if kind == "purchase" else None
    amount = 10.0 if kind == "purchase" else None
    return (f"E{n[0]}", kind, ts, day, cust, f"S{n[0]}", order, "P1", 1, amount, "mobile", "web")


def frames(spark, events):
    customers = spark.createDataFrame(
        [(k, datetime(2025, 1, 1), "DE") for k in ("A", "B", "C", "D")],
        f"{C.CUSTOMER_KEY} string, {C.SIGNUP_AT} timestamp, {C.COUNTRY} string",
    )
    products = spark.createDataFrame(
        [("P1", "Home")], f"{C.PRODUCT_ID} string, {C.CATEGORY_L1} string"
    )
    return dataset.Sources(customers, spark.createDataFrame(events, EVENTS), products, None)


def after(days: int) -> date:
    return T0 + timedelta(days=days)


def test_labels_come_from_the_window_after_t_and_features_only_from_before(spark):
    history = [ev("A", "purchase", after(-10)), ev("B", "view", after(-5)),
               ev("C", "purchase", after(-40))]  # fmt: skip
    future = [
        ev("A", "purchase", after(1)),   # first day of the window: positive
        ev("B", "purchase", after(30)),  # last day of a 30-day window: positive
        ev("C", "purchase", after(31)),  # the day after: negative
        ev("C", "view", after(45)),      # any event within 60 days: C did not churn
        ev("D", "purchase", after(0)),   # on T itself: a feature, not a label
    ]  # fmt: skip
    src = frames(spark, history + future)
    purchase = {r[C.CUSTOMER_KEY]: r for r in
                dataset.labelled(src, T0, dataset.PURCHASE_TARGET, 30).collect()}  # fmt: skip
    assert {k: r[dataset.LABEL] for k, r in purchase.items()} == {
        "A": 1.0,
        "B": 1.0,
        "C": 0.0,
        "D": 0.0,
    }
    churn = {r[C.CUSTOMER_KEY]: r[dataset.LABEL]
             for r in dataset.labelled(src, T0, dataset.CHURN_TARGET, 60).collect()}  # fmt: skip
    # Churn = nothing at all in (T, T+60]; A, B, C came back. Every customer had history.
    assert churn == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 1.0}
    # Both targets' rows at T came from one materialised feature computation.
    assert src.features_at(T0) is src.features_at(T0)
    assert src.features_at(T0).count() == len(purchase)
    # No leakage: the features of T are the same without anything after T.
    only_past = frames(spark, [e for e in history + future if e[3] <= T0])
    past = {
        r[C.CUSTOMER_KEY]: r
        for r in dataset.labelled(only_past, T0, dataset.PURCHASE_TARGET, 30).collect()
    }
    for key, row in purchase.items():
        assert row[dataset.NUMERIC] == past[key][dataset.NUMERIC], key
        assert [row[c] for c in dataset.CATEGORICAL_FEATURES] == [
            past[key][c] for c in dataset.CATEGORICAL_FEATURES
        ]
    assert all(r[dataset.SNAPSHOT] == T0 for r in purchase.values())


def test_churn_population_excludes_customers_who_never_came(spark):
    src = frames(spark, [ev("A", "view", after(-3))])
    rows = dataset.labelled(src, T0, dataset.CHURN_TARGET, 60).collect()
    assert [(r[C.CUSTOMER_KEY], r[dataset.LABEL]) for r in rows] == [("A", 1.0)]


def test_training_windows_end_before_the_validation_snapshot():
    val, train_dates = dataset.snapshot_dates(date(2025, 12, 31), 30, 4, 30)
    assert val == date(2025, 12, 1)
    assert train_dates == [date(2025, 11, 1), date(2025, 10, 2), date(2025, 9, 2), date(2025, 8, 3)]
    assert all(t + timedelta(days=30) <= val for t in train_dates)


def test_the_network_early_stops_on_training_customers_never_on_the_validation_snapshot(spark):
    # 400 customers in 3 training snapshots each: the held-out customers leave the fit
    # with every snapshot of theirs, and they are about the share asked for.
    rows = [
        (f"c{i:03d}", t) for i in range(400) for t in (T0, T0 - timedelta(30), T0 - timedelta(60))
    ]
    snapshots = spark.createDataFrame(rows, f"{C.CUSTOMER_KEY} string, snapshot date")
    fit, stop = dataset.early_stopping_split(snapshots, 0.15, 42)
    fit_keys = {r[0] for r in fit.select(C.CUSTOMER_KEY).collect()}
    stop_rows = stop.collect()
    stop_keys = {r[0] for r in stop_rows}
    assert fit_keys.isdisjoint(stop_keys) and len(fit_keys | stop_keys) == 400
    assert len(stop_rows) == 3 * len(stop_keys)  # every snapshot of a held-out customer
    assert 40 <= len(stop_keys) <= 80  # 15% of 400 = 60
    # Fixed for a seed, another for another seed.
    again = {r[0] for r in dataset.early_stopping_split(snapshots, 0.15, 42)[1].collect()}
    other = {r[0] for r in dataset.early_stopping_split(snapshots, 0.15, 7)[1].collect()}
    assert again == stop_keys and other != stop_keys


def test_metrics_by_hand():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.05, 0.15, 0.25, 0.35])
    m = evaluate.classification_metrics(y, p)
    assert m["auc"] == pytest.approx(15 / 16)  # positives beat 7 + 8 of 16 pairs
    assert m["lift_top_decile"] == pytest.approx(1.0 / 0.2)  # top 1 row is positive
    table = evaluate.calibration(y, p, bins=2)
    assert [(c["rows"], c["actual"]) for c in table] == [(5, 0.0), (5, 0.4)]
    assert table[1]["predicted"] == pytest.approx((0.9 + 0.8 + 0.7 + 0.35 + 0.3) / 5)
    # Calibration undoes the positive weight: odds divide by it.
    assert network.calibrated(np.array([0.5]), 3.0)[0] == pytest.approx(0.25)


def test_the_regression_baseline_reads_numerics_on_a_signed_log_scale(spark):
    from pyspark.ml.feature import StandardScaler, StandardScalerModel
    from pyspark.ml.functions import vector_to_array

    from insight.propensity import baseline

    cats = ", ".join(f"{c} string" for c in dataset.CATEGORICAL_FEATURES)
    schema = f"{dataset.NUMERIC} array<float>, {cats}, {dataset.LABEL} double, weight double"
    rows = [([float(x), float(-x)], *["a"] * len(dataset.CATEGORICAL_FEATURES), float(x > 50), 1.0)
            for x in (1, 3, 9, 27, 81, 243, 729, 2187)]  # fmt: skip
    df = spark.createDataFrame(rows, schema)
    assert distributed.WEIGHT == "weight"

    model = baseline.fit(df, baseline.LOGISTIC, max_iter=5, seed=0)
    scaler = next(s for s in model.stages if isinstance(s, StandardScalerModel))
    logged = baseline.with_vector(df).select(vector_to_array(scaler.getInputCol())).collect()
    expected = [[np.log1p(x), -np.log1p(x)] for x in (1, 3, 9, 27, 81, 243, 729, 2187)]
    np.testing.assert_allclose([r[0] for r in logged], expected, rtol=1e-6)
    # A regression saved before the log scale read the raw vector: it still scores.
    # (The raw vector's name is spelled out: saved models hold it, so it must not change.)
    older = baseline.pipeline(baseline.LOGISTIC, 5, 0)
    next(s for s in older.getStages() if isinstance(s, StandardScaler)).setInputCol(
        "_numeric_vector"
    )
    fitted = older.fit(baseline.with_vector(df))
    scored = baseline.predict(fitted, df).collect()
    assert len(scored) == len(rows) and all(0 < r[baseline.RAW_PROBABILITY] < 1 for r in scored)


def test_the_network_serves_only_if_at_least_as_good_as_the_best_baseline():
    def m(auc):
        return {"auc": auc}

    assert train.candidate({"tf": m(0.80), "gbt": m(0.78), "logistic": m(0.70)})[0] == "tf"
    assert train.candidate({"tf": m(0.78), "gbt": m(0.78), "logistic": m(0.70)})[0] == "tf"
    chosen, reason = train.candidate({"tf": m(0.70), "gbt": m(0.75), "logistic": m(0.78)})
    assert chosen == "logistic" and "0.7000 < logistic 0.7800" in reason


def test_the_autoencoder_gate_measures_both_models_in_one_scale():
    """Each autoencoder standardises with its own training statistics, so its own loss is
    in its own units: the gate's error is in the candidate's units for both models."""
    import pandas as pd

    n = len(dataset.NUMERIC_FEATURES)
    vocab = {name: ("a", "b") for name in dataset.CATEGORICAL_FEATURES}
    spec = network.Spec(
        network.AUTOENCODER, tuple(dataset.NUMERIC_FEATURES), (1.0,) * n, (2.0,) * n, vocab,
        {name: "a" for name in vocab}, (8,), 0.0, 2, latent_dim=3,
    )  # fmt: skip
    model = network.build(spec)
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({
        dataset.NUMERIC: list(rng.normal(1.0, 1.5, size=(50, n)).astype(np.float32)),
        **{name: rng.choice(["a", "b"], 50) for name in vocab},
    })  # fmt: skip
    own = score.reconstruction_error(rows, spec, model.get_weights(), spec)
    x = network.feed(rows)
    z = (x[dataset.NUMERIC] - 1.0) / np.sqrt(2.0)
    assert own == pytest.approx(float(np.mean((model.predict(x, verbose=0) - z) ** 2)), rel=1e-4)
    # Measured in the units of a candidate whose training variance was 4 times larger.
    wider = dataclasses.replace(spec, variance=(8.0,) * n)
    assert score.reconstruction_error(rows, spec, model.get_weights(), wider) == pytest.approx(
        own / 4, rel=1e-4
    )


# -- Horovod --------------------------------------------------------------------------


# What the network reads per customer: the numeric vector, the categorical columns, label, weight.
NETWORK_ROWS = (
    f"{C.CUSTOMER_KEY} string, {dataset.NUMERIC} array<float>, country string, "
    "top_category string, preferred_channel string, preferred_device string, "
    f"{dataset.LABEL} double, weight double"
)


@pytest.mark.integration
def test_two_horovod_processes_train_on_their_own_shards(spark, tmp_path):
    cfg = load_config("local", lake=str(tmp_path / "lake"),
                      overrides=["propensity.epochs=4", "propensity.batch_size=64",
                                 "propensity.patience=10"])  # fmt: skip
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3000):
        x = rng.normal(size=len(dataset.NUMERIC_FEATURES))
        country = ("DE", "FR", "US")[i % 3]
        y = float(x[0] + 0.8 * (country == "DE") + 0.5 * rng.normal() > 0.4)
        rows.append((f"k{i}", x.tolist(), country, "Home", "web", "mobile", y, 1.0))
    df = spark.createDataFrame(rows, NETWORK_ROWS)
    train_rows, val_rows = df.randomSplit([0.8, 0.2], seed=1)
    spec = train.make_spec(train_rows, cfg.propensity, network.CLASSIFIER)
    client = registry.use_tracking(cfg)
    exp = registry.experiment(cfg, "hvd-test")
    run_id = client.create_run(exp).info.run_id
    fitted = distributed.fit(
        train_rows, val_rows, spec, cfg.propensity, lake=cfg.lake,
        checkpoint_dir=str(tmp_path / "ckpt"),
        target=distributed.MlflowTarget(registry.tracking_uri(cfg), run_id, "tf_"),
    )  # fmt: skip
    ranks = sorted(fitted.ranks, key=lambda r: r.rank)
    assert [(r.rank, r.size) for r in ranks] == [(0, 2), (1, 2)]
    for r in ranks:
        assert r.epochs == 4 and r.steps_per_epoch > 0 and r.rows_seen > 0
        assert r.loss[-1] < r.loss[0]  # it learned
    # Each rank's own loss comes from its own shard: they differ; the averaged ones agree.
    assert ranks[0].local_loss != ranks[1].local_loss
    assert ranks[0].loss == ranks[1].loss
    assert (tmp_path / "ckpt" / "best.weights.h5").exists()  # rank 0 checkpointed
    history = client.get_metric_history(run_id, "tf_loss")
    assert sorted(m.step for m in history) == [0, 1, 2, 3]  # rank 0 only: one per epoch
    model = network.build(spec)
    model.set_weights(fitted.weights)
    x = network.feed(val_rows.toPandas())
    p = model.predict(x, verbose=0).reshape(-1)
    y = val_rows.toPandas()[dataset.LABEL].to_numpy()
    assert evaluate.classification_metrics(y, p)["auc"] > 0.75


def test_each_horovod_process_gets_a_row_group_even_when_partitions_are_empty(spark, tmp_path):
    # Partitions are not row groups: an empty one writes none, and Petastorm refuses 2
    # processes on 1 row group. The 32,000-customer scaling run failed so on the autoencoder's
    # validation rows, which sat in one of several partitions.
    cfg = load_config("local", lake=str(tmp_path / "lake"))
    rows = [(f"k{i}", [float(i)] * len(dataset.NUMERIC_FEATURES), "DE", "Home", "web", "mobile",
             float(i % 2), 1.0) for i in range(300)]  # fmt: skip
    df = spark.createDataFrame(rows, NETWORK_ROWS).repartition(4, F.lit(1))  # all in one partition
    assert df.rdd.getNumPartitions() == 4
    spec = train.make_spec(df, cfg.propensity, network.CLASSIFIER)
    out = tmp_path / "prepared"
    distributed._prepared(df, spec, 2).write.parquet(str(out))
    files = [f for f in out.iterdir() if f.name.startswith("part-")]
    assert sum(pq.ParquetFile(f).metadata.num_row_groups for f in files) >= 2


# -- the job on a generated lake ---------------------------------------------------------

AS_OF = "2025-12-31"
FAST = ("--conf", "propensity.epochs=6", "--conf", "propensity.gbt_max_iter=10",
        "--conf", "propensity.snapshots=1")  # fmt: skip


@pytest.mark.integration
def test_propensity_job_on_a_generated_lake(spark, cleaned_copy):
    from insight.features import job as features
    from insight.propensity import job

    lake = cleaned_copy  # a year of ingested and cleaned history (conftest)
    args = ["--lake", lake, "--as-of", AS_OF]
    assert job.main(args) == 2  # no features yet: names `insight run features`

    # Too young to train: the job says so and writes no table of empty scores.
    young = ["--lake", lake, "--as-of", "2025-01-05"]
    assert features.main(young) == 0
    assert job.main([*young, *FAST]) == 0
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "propensity")
    skipped = ledger.where(F.col("status") == "skipped").collect()
    assert skipped and "positive and" in skipped[-1]["message"]
    assert "propensity.min_positives" in skipped[-1]["message"]
    assert not tables.exists(spark, schemas.CUSTOMER_SCORES, lake)

    assert features.main(args) == 0
    assert job.main([*args, *FAST]) == 0
    cfg = load_config("local", lake=lake)
    scores = tables.read(spark, schemas.CUSTOMER_SCORES, lake).where(F.col(C.AS_OF) == AS_OF)
    rows = scores.collect()
    feats = tables.read(spark, tables.Table("gold", "customer_features"), lake)
    assert len(rows) == feats.where(F.col(C.AS_OF) == AS_OF).count() > 0
    names = set(dataset.FEATURE_NAMES)
    for target in dataset.TARGETS:
        served = registry.champion(cfg, train.model_name(cfg, target))
        assert served is not None
        for r in rows:
            p = r[schemas.probability(target)]
            assert p is not None and 0.0 <= p <= 1.0 and not np.isnan(p)
            assert 0 <= r[schemas.percentile(target)] <= 100
            assert r[schemas.band(target)] in schemas.BANDS
            assert r[schemas.model_version(target)] == served.label
            factors = r[schemas.factors(target)]
            assert len(factors) == 3 and {f["feature"] for f in factors} <= names
            assert [abs(f["effect"]) for f in factors] == sorted(
                (abs(f["effect"]) for f in factors), reverse=True
            )
        high = [r for r in rows if r[schemas.band(target)] == "high"]
        assert high and min(r[schemas.percentile(target)] for r in high) >= 90
        run = registry.use_tracking(cfg).get_run(served.run_id)
        metrics = run.data.metrics
        for model_key in ("tf", "gbt", "logistic"):
            assert {f"{model_key}_auc", f"{model_key}_pr_auc", f"{model_key}_log_loss",
                    f"{model_key}_lift_top_decile"} <= set(metrics)  # fmt: skip
        assert "gate_vs_baseline" in run.data.tags
        # Early stopping on held-out training customers; the gate on the later snapshot.
        assert float(run.data.params["early_stopping_share"]) == cfg.propensity.early_stopping_share
        history = registry.use_tracking(cfg).get_metric_history(served.run_id, "tf_loss")
        assert len(history) >= 1 and len({m.step for m in history}) == len(history)
        print(
            f"\n{target}: tf AUC {metrics['tf_auc']:.3f}, gbt {metrics['gbt_auc']:.3f}, "
            f"logistic {metrics['logistic_auc']:.3f}; served {run.data.params['candidate']}"
        )

    embeddings = (
        tables.read(spark, schemas.CUSTOMER_EMBEDDINGS, lake)
        .where(F.col(C.AS_OF) == AS_OF)
        .collect()
    )
    assert len(embeddings) == len(rows)
    assert all(len(e[schemas.EMBEDDING]) == cfg.propensity.latent_dim for e in embeddings)
    assert len({(e[schemas.MAP_X], e[schemas.MAP_Y]) for e in embeddings}) > len(embeddings) // 2

    # The embeddings can drive behavioural segmentation; names stay in business terms.
    from insight.segment import job as segment

    assert segment.main([*args, "--embeddings"]) == 0
    segs = tables.read(spark, tables.Table("gold", "customer_segments"), lake)
    named = segs.where(F.col(C.AS_OF) == AS_OF).select("cluster_name").distinct().collect()
    assert len(named) >= 2 and all(r[0] for r in named)

    # Scoring again with the champions gives the same probabilities.
    assert job.main([*args, "--score-only"]) == 0
    again = {r[C.CUSTOMER_KEY]: r for r in tables.read(spark, schemas.CUSTOMER_SCORES, lake)
             .where(F.col(C.AS_OF) == AS_OF).collect()}  # fmt: skip
    for r in rows:
        for target in dataset.TARGETS:
            assert again[r[C.CUSTOMER_KEY]][schemas.probability(target)] == pytest.approx(
                r[schemas.probability(target)], abs=1e-6
            )

    # Training again: every new version is gated against the champion measured on the same
    # validation data (the classifiers' snapshot, the autoencoder's customers).
    assert job.main([*args, *FAST, "--train"]) == 0
    client = registry.use_tracking(cfg)
    for target, metric in [*((t, "auc") for t in dataset.TARGETS),
                           (EMBEDDINGS, "reconstruction_error")]:  # fmt: skip
        name = train.model_name(cfg, target)
        second = client.get_model_version(name, "2")
        logged = client.get_run(second.run_id).data.metrics
        assert f"champion_{metric}" in logged and metric in logged, (target, logged)

    # A champion trained on other features (an older release's table): scoring refuses it,
    # naming the feature, and a run that may train retrains it instead.
    served = registry.champion(cfg, train.model_name(cfg, "purchase"))
    run = registry.use_tracking(cfg).get_run(served.run_id)
    spec_file = Path(run.info.artifact_uri.removeprefix("file://")) / train.SPEC_FILE
    kept = spec_file.read_text()
    older = dataclasses.replace(network.Spec.from_json(kept), numeric=dataset.NUMERIC_FEATURES[:-1])
    spec_file.write_text(older.to_json())
    with pytest.raises(InsightError, match=f"new: {dataset.NUMERIC_FEATURES[-1]}; gone: none"):
        train.require_current_features(served, train.load_spec(cfg, served))
    assert job.main([*args, "--score-only"]) == 2
    may_train = SimpleNamespace(cfg=cfg, flags=job.Flags())
    assert should_train(may_train, served.name)
    spec_file.write_text(kept)
    assert not should_train(may_train, served.name)

    # A champion whose artifacts are gone: a clear refusal naming it, the table untouched.
    shutil.rmtree(Path(run.info.artifact_uri.removeprefix("file://")))
    assert job.main([*args, "--score-only"]) == 2
    assert tables.read(spark, schemas.CUSTOMER_SCORES, lake).where(
        F.col(C.AS_OF) == AS_OF
    ).count() == len(rows)
