from datetime import datetime

from pyspark.testing import assertDataFrameEqual

from insight.clean.dedup import latest_per_key

SCHEMA = (
    "event_id string, quantity int, sent_at timestamp, "
    "_batch_id string, _source_file string, _raw string"
)


def test_latest_version_wins_and_exact_duplicates_collapse(spark):
    t1, t2 = datetime(2025, 1, 1, 10), datetime(2025, 1, 1, 11)
    df = spark.createDataFrame(
        [
            ("E1", 1, t1, "b0", "f1", "r1"),
            ("E1", 5, t2, "b0", "f1", "r2"),  # re-sent later with a changed quantity
            ("E2", 2, t1, "b0", "f1", "r3"),
            ("E2", 2, t1, "b0", "f1", "r3"),  # exact duplicate
        ],
        SCHEMA,
    )
    out = df.transform(latest_per_key, key="event_id", version_col="sent_at")
    assertDataFrameEqual(
        out,
        spark.createDataFrame(
            [("E1", 5, t2, "b0", "f1", "r2"), ("E2", 2, t1, "b0", "f1", "r3")], SCHEMA
        ),
    )


def test_ties_are_broken_the_same_way_whatever_the_row_order(spark):
    t = datetime(2025, 1, 1)
    rows = [("E1", q, t, "b0", "f1", f"raw{q}") for q in (1, 2, 3)]
    firsts = {
        df.transform(latest_per_key, key="event_id", version_col="sent_at").first().quantity
        for df in (spark.createDataFrame(r, SCHEMA) for r in (rows, rows[::-1]))
    }
    assert firsts == {3}
