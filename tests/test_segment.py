"""Segments on hand-built frames (RFM rules, k by silhouette, deterministic and stable
cluster names, history across as_of dates and re-runs, summary), and the segment job end
to end on a generated lake."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from insight import columns as C
from insight import tables
from insight.features import columns as FC
from insight.segment import clusters, history, rfm, schemas
from insight.segment.clusters import PreviousCluster, Profile

D1, D2, D3 = date(2025, 10, 31), date(2025, 11, 30), date(2025, 12, 31)
SCORES = (
    f"{C.CUSTOMER_KEY} string, {FC.RECENCY_SCORE} int, {FC.FREQUENCY_SCORE} int, "
    f"{FC.MONETARY_SCORE} int, {FC.FREQUENCY} long"
)


# -- RFM rules -------------------------------------------------------------------------


def test_rfm_rules_hit_every_segment(spark):
    cases = [  # (r, f, m, orders) -> segment, worked out from the rules by hand
        (5, 5, 5, 9, "Champions"),
        (4, 4, 4, 7, "Champions"),
        (2, 5, 5, 9, "At risk"),  # frequent but lapsed: At risk before Loyal
        (1, 3, 1, 3, "At risk"),
        (3, 4, 5, 6, "Loyal"),
        (5, 4, 2, 6, "Loyal"),  # M too low for Champions
        (4, 2, 5, 2, "Potential loyalist"),
        (5, 3, 1, 3, "Potential loyalist"),
        (5, 1, 3, 1, "New"),
        (1, 1, 5, 1, "Lost"),
        (2, 1, 1, 1, "Hibernating"),
        (1, 2, 2, 2, "Hibernating"),
        (3, 3, 3, 3, "Need attention"),
        (3, 1, 1, 1, "Need attention"),
        (1, 1, 1, 0, rfm.NO_PURCHASE),  # default scores of a non-buyer
    ]
    rows = [(f"K{i:02d}", r, f, m, n) for i, (r, f, m, n, _) in enumerate(cases)]
    out = spark.createDataFrame(rows, SCORES).transform(rfm.with_rfm_segment)
    expected = spark.createDataFrame(
        [(*row, seg) for row, (*_, seg) in zip(rows, cases, strict=True)],
        f"{SCORES}, {schemas.RFM_SEGMENT} string",
    )
    assertDataFrameEqual(out, expected)
    assert {c[-1] for c in cases} == set(rfm.SEGMENTS)


def test_every_score_combination_gets_exactly_one_known_segment(spark):
    grid = [
        (f"{r}{f}{m}", r, f, m, f) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)
    ]
    grid.append(("none", 1, 1, 1, 0))
    out = spark.createDataFrame(grid, SCORES).transform(rfm.with_rfm_segment).collect()
    assert len(out) == len({r[C.CUSTOMER_KEY] for r in out}) == 126
    assert {r[schemas.RFM_SEGMENT] for r in out} <= set(rfm.SEGMENTS)
    assert sum(r[schemas.RFM_SEGMENT] == rfm.NO_PURCHASE for r in out) == 1


def test_missing_score_is_named(spark):
    df = spark.createDataFrame([("A", 1, 1, 1, 1)], SCORES).drop(FC.MONETARY_SCORE)
    with pytest.raises(ValueError, match="monetary_score"):
        rfm.with_rfm_segment(df)


# -- clusters --------------------------------------------------------------------------

BLOBS = ((0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, 0.0, 10.0))
XYZ = ("x", "y", "z")


def blobs(spark, per=15, seed=1):
    """Four well-separated blobs; `blob` tells which one a point was drawn from."""
    rng = random.Random(seed)
    rows = [
        (f"B{b}-{i:02d}", b, *(c + rng.gauss(0, 0.5) for c in centre))
        for b, centre in enumerate(BLOBS)
        for i in range(per)
    ]
    return spark.createDataFrame(rows, f"{C.CUSTOMER_KEY} string, blob int, x double, "
                                       "y double, z double")  # fmt: skip


def fit(df, k_values=(2, 3, 4, 5, 6)):
    return clusters.fit_clusters(df, features=XYZ, log1p=(), k_values=k_values, seed=7)


def test_k_selection_finds_the_true_k(spark):
    df = blobs(spark)
    result = fit(df)
    assert result.k == 4, result.silhouettes
    assert max(result.silhouettes, key=result.silhouettes.get) == 4
    pairs = {
        (r["blob"], r[schemas.CLUSTER_ID]) for r in clusters.with_clusters(df, result).collect()
    }
    # Each blob is one cluster and each cluster one blob.
    assert len(pairs) == 4 and len({b for b, _ in pairs}) == len({c for _, c in pairs}) == 4


def test_too_few_customers_is_an_error(spark):
    df = blobs(spark, per=1)
    with pytest.raises(clusters.TooFewCustomersError, match="too few"):
        fit(df, k_values=(5, 6))


def test_a_lake_too_small_to_cluster_is_skipped_with_the_reason(spark, lake, capsys):
    from insight.features.schemas import CUSTOMER_FEATURES, CUSTOMER_FEATURES_SCHEMA
    from insight.segment import job as segment_job

    def row(key):
        kinds = {"integer": 1, "long": 1, "double": 0.0, "map": {}}
        values = {f.name: kinds.get(f.dataType.typeName()) for f in CUSTOMER_FEATURES_SCHEMA}
        return values | {C.CUSTOMER_KEY: key, C.AS_OF: date(2025, 12, 31)}

    frame = spark.createDataFrame([row("a"), row("b")], CUSTOMER_FEATURES_SCHEMA)
    tables.create_if_missing(spark, CUSTOMER_FEATURES, lake, CUSTOMER_FEATURES_SCHEMA)
    tables.append(frame, CUSTOMER_FEATURES, lake)
    assert segment_job.main(["--lake", lake, "--as-of", "2025-12-31"]) == 0
    last = (
        tables.read(spark, tables.RUN_LEDGER, lake)
        .where("job = 'segment' AND table_name IS NOT NULL")
        .collect()[-1]
    )
    assert last["status"] == "skipped" and "too few" in last["message"]
    assert not tables.exists(spark, schemas.CUSTOMER_SEGMENTS, lake)

    # In a DAG run the skip is shown as one, with its reason, and fails the run unless
    # --allow-skips; the report says it was skipped and why (not "run segment").
    from insight.report import job as report
    from insight.report.run import report_path
    from jobs import all as run_all

    dag = ["--lake", lake, "--as-of", "2025-12-31", "--only", "segment", "--force"]
    assert run_all.main(dag) == 2
    out = capsys.readouterr().out
    assert "[1/1] segment  SKIPPED after" in out and "too few" in out
    assert "0 of 1 tasks ran, 0 skipped as done, 1 SKIPPED their work" in out
    assert run_all.main([*dag, "--allow-skips"]) == 0
    assert report.main(["--lake", lake, "--as-of", "2025-12-31"]) == 0
    page = Path(report_path(lake, date(2025, 12, 31))).read_text()
    assert "Skipped: <code>insight run segment</code> ran for 2025-12-31 but could not " in page
    assert "too few to cluster" in page and "No data yet: gold.customer_segments" not in page


def profile(cid, n, *, rec=0.0, freq=0.0, mon=0.0, buyers=1.0):
    z = {FC.RECENCY_DAYS: rec, FC.FREQUENCY: freq, FC.MONETARY: mon}
    return Profile(cid, n, (rec, freq, mon), z, buyers)


def test_rule_names_are_deterministic_and_unique():
    profiles = [
        profile(0, 50, freq=1.2, mon=1.5),
        profile(1, 40, freq=-1.0, mon=-0.9),
        profile(2, 30, buyers=0.1),
        profile(3, 20, rec=1.3, freq=-0.4),
        profile(4, 60, freq=0.1, mon=0.2),
        profile(5, 10, freq=1.0, mon=0.9),  # the same rule name as 0, smaller
    ]
    names = clusters.name_clusters(profiles, features=(FC.RECENCY_DAYS,))
    assert names == {
        0: "High-value frequent",
        1: "Bargain occasional",
        2: clusters.BROWSERS,
        3: clusters.LAPSED,
        4: "Mid-value regular",
        5: "High-value frequent 2",
    }
    assert clusters.name_clusters(list(reversed(profiles)), features=(FC.RECENCY_DAYS,)) == names


def test_matched_clusters_keep_their_previous_names():
    new = [profile(0, 10, rec=5.0), profile(1, 10, rec=0.0), profile(2, 10, rec=-5.0)]
    feats = (FC.RECENCY_DAYS, FC.FREQUENCY, FC.MONETARY)
    old = [  # ids in another order, centroids moved a little; one old cluster fewer
        PreviousCluster("Old minus", feats, (-4.8, 0.1, 0.0)),
        PreviousCluster("Old plus", feats, (5.2, 0.0, 0.1)),
    ]
    names = clusters.name_clusters(new, old, feats)
    assert names[0] == "Old plus" and names[2] == "Old minus"
    assert names[1] == "Mid-value regular"  # unmatched: named by rule
    # Previous clusters fitted on other features are not matched.
    assert clusters.name_clusters(new, old, feats[:2])[0] == clusters.LAPSED


def test_names_survive_reclustering_shuffled_data(spark):
    df = blobs(spark)
    first = fit(df, k_values=(3, 4, 5))
    one = clusters.with_clusters(df, first)
    p1 = clusters.cluster_profiles(one, XYZ)
    named = {p.cluster_id: f"Group {chr(65 + p.cluster_id)}" for p in p1}
    stored = [PreviousCluster(named[p.cluster_id], XYZ, p.centroid) for p in p1]
    before = {r[C.CUSTOMER_KEY]: named[r[schemas.CLUSTER_ID]] for r in one.collect()}

    shuffled = df.orderBy(F.rand(seed=11)).repartition(3)
    second = fit(shuffled, k_values=(3, 4, 5))
    two = clusters.with_clusters(shuffled, second)
    names = clusters.name_clusters(clusters.cluster_profiles(two, XYZ), stored, XYZ)
    after = {
        r[C.CUSTOMER_KEY]: r[schemas.CLUSTER_NAME]
        for r in two.transform(clusters.with_cluster_names, names).collect()
    }
    assert after == before and len(set(after.values())) == 4


# -- history and summary ---------------------------------------------------------------

MEMBERS = f"{C.CUSTOMER_KEY} string, {schemas.KIND} string, {schemas.SEGMENT} string"


def history_frame(spark, rows):
    return spark.createDataFrame(rows, schemas.SEGMENT_HISTORY_SCHEMA)


def apply(spark, hist, as_of, rows):
    return history.updated_history(hist, spark.createDataFrame(rows, MEMBERS), as_of)


def test_history_opens_closes_and_reruns_idempotently(spark):
    empty = history_frame(spark, [])
    h1 = apply(spark, empty, D1, [("A", "rfm", "New"), ("B", "rfm", "Lost"),
                                  ("A", "cluster", "Browsers")])  # fmt: skip
    assertDataFrameEqual(h1, history_frame(spark, [
        ("A", "rfm", "New", D1, None), ("B", "rfm", "Lost", D1, None),
        ("A", "cluster", "Browsers", D1, None),
    ]))  # fmt: skip
    # D2: A moves, B leaves the data, C arrives, A's cluster is unchanged.
    d2 = [("A", "rfm", "Loyal"), ("C", "rfm", "New"), ("A", "cluster", "Browsers")]
    h2 = apply(spark, h1, D2, d2)
    expected2 = history_frame(spark, [
        ("A", "rfm", "New", D1, D2), ("A", "rfm", "Loyal", D2, None),
        ("B", "rfm", "Lost", D1, D2), ("C", "rfm", "New", D2, None),
        ("A", "cluster", "Browsers", D1, None),
    ])  # fmt: skip
    assertDataFrameEqual(h2, expected2)
    # Re-running D2 (same input) changes nothing; re-running it with other input replaces
    # D2's effect rather than stacking on it.
    assertDataFrameEqual(apply(spark, h2.localCheckpoint(), D2, d2), expected2)
    d2b = [("A", "rfm", "New"), ("B", "rfm", "Lost"), ("A", "cluster", "Browsers")]
    assertDataFrameEqual(apply(spark, h2.localCheckpoint(), D2, d2b), h1)
    # D3: A returns to New: a second stay in New.
    h3 = apply(spark, h2.localCheckpoint(), D3, [("A", "rfm", "New"), ("C", "rfm", "New"),
                                                  ("A", "cluster", "Browsers")])  # fmt: skip
    a_rfm = sorted(
        (r[schemas.SEGMENT], r[schemas.ENTERED_AS_OF], r[schemas.LEFT_AS_OF])
        for r in h3.where("customer_key = 'A' AND kind = 'rfm'").collect()
    )
    assert a_rfm == [("Loyal", D2, D3), ("New", D1, D2), ("New", D3, None)]


def test_summary_counts_shares_and_means(spark):
    segments = spark.createDataFrame(
        [("A", "New", "X", 10, 1, 10.0), ("B", "New", "Y", 20, 3, 30.0),
         ("C", "Lost", "Y", 90, 1, 5.0), ("D", "New", "Y", 30, 2, 20.0)],
        f"{C.CUSTOMER_KEY} string, {schemas.RFM_SEGMENT} string, {schemas.CLUSTER_NAME} string, "
        f"{FC.RECENCY_DAYS} int, {FC.FREQUENCY} long, {FC.MONETARY} double",
    )  # fmt: skip
    expected = spark.createDataFrame([
        (D1, "rfm", "New", 3, 0.75, 20.0, 2.0, 20.0),
        (D1, "rfm", "Lost", 1, 0.25, 90.0, 1.0, 5.0),
        (D1, "cluster", "X", 1, 0.25, 10.0, 1.0, 10.0),
        (D1, "cluster", "Y", 3, 0.75, 140 / 3, 2.0, 55 / 3),
    ], schemas.SEGMENT_SUMMARY_SCHEMA)  # fmt: skip
    assertDataFrameEqual(history.segment_summary(segments, D1), expected)


# -- the job ---------------------------------------------------------------------------


def test_job_names_the_missing_features(spark, lake):
    from insight.segment import job as segment_job

    assert segment_job.main(["--lake", lake, "--as-of", "2025-12-31"]) == 2
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).collect()
    assert "insight run features" in ledger[-1]["message"]


@pytest.mark.integration
def test_segment_job_on_a_generated_lake(spark, cleaned_copy):
    from insight.features import job as features_job
    from insight.segment import job as segment_job

    lake = cleaned_copy  # a year of ingested and cleaned history (conftest)
    args = ["--lake", lake, "--as-of", "2025-12-31"]
    earlier = ["--lake", lake, "--as-of", "2025-11-30"]
    assert features_job.main(earlier) == 0
    assert features_job.main(args) == 0
    assert segment_job.main(earlier) == 0
    assert segment_job.main(args) == 0

    def snapshot(table):
        return sorted(tables.read(spark, table, lake).collect())

    segs = tables.read(spark, schemas.CUSTOMER_SEGMENTS, lake).where(F.col(C.AS_OF) == D3)
    feats = tables.read(spark, tables.Table("gold", "customer_features"), lake)
    keys = [r[0] for r in segs.select(C.CUSTOMER_KEY).collect()]
    assert len(keys) == len(set(keys)) == feats.where(F.col(C.AS_OF) == D3).count()
    assert (
        segs.where(
            F.col(schemas.CLUSTER_NAME).isNull() | F.col(schemas.RFM_SEGMENT).isNull()
        ).count()
        == 0
    )
    assert {r[0] for r in segs.select(schemas.RFM_SEGMENT).collect()} <= set(rfm.SEGMENTS)
    for table in (
        schemas.CUSTOMER_SEGMENTS,
        schemas.SEGMENT_SUMMARY,
        schemas.SEGMENT_HISTORY,
        schemas.SEGMENT_CENTROIDS,
    ):
        assert all(f.metadata.get("comment") for f in tables.read(spark, table, lake).schema)
    # Names carry over: every name of the earlier as_of that could be matched is kept.
    centroids = tables.read(spark, schemas.SEGMENT_CENTROIDS, lake)
    names = {d: {r[schemas.NAME] for r in centroids.where(F.col(C.AS_OF) == d).collect()}
             for d in (D2, D3)}  # fmt: skip
    print("cluster names", names)
    assert len(names[D2] & names[D3]) == min(len(names[D2]), len(names[D3]))
    # History: the open stays are exactly the latest segments, one per customer and kind.
    history_rows = snapshot(schemas.SEGMENT_HISTORY)
    open_ = sorted(
        (r[C.CUSTOMER_KEY], r[schemas.KIND], r[schemas.SEGMENT])
        for r in history_rows
        if r[schemas.LEFT_AS_OF] is None
    )
    kinds = (("rfm", schemas.RFM_SEGMENT), ("cluster", schemas.CLUSTER_NAME))
    latest = sorted((r[C.CUSTOMER_KEY], k, r[col]) for r in segs.collect() for k, col in kinds)
    assert open_ == latest
    assert all(r[schemas.LEFT_AS_OF] in (None, D3) for r in history_rows)
    before = {t: snapshot(t) for t in (schemas.CUSTOMER_SEGMENTS, schemas.SEGMENT_SUMMARY)}
    # Re-run of the latest as_of: the same content everywhere.
    assert segment_job.main(args) == 0
    assert snapshot(schemas.SEGMENT_HISTORY) == history_rows
    assert {t: snapshot(t) for t in before} == before
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "segment")
    assert {r["status"] for r in ledger.collect()} == {"ok", "done"}
    # The k range is config: pinned to one k, that k is what the run uses.
    assert segment_job.main([*args, "--conf", "segment.k_min=5", "--conf", "segment.k_max=5"]) == 0
    latest = tables.read(spark, schemas.SEGMENT_CENTROIDS, lake).where(F.col(C.AS_OF) == D3)
    assert latest.count() == 5
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where(
        (F.col("job") == "segment") & (F.col("table_name") == schemas.CUSTOMER_SEGMENTS.qualified)
    )
    assert "k=5" in max(ledger.collect(), key=lambda r: r["finished_at"])["message"]
