"""`insight audit`: the checks as pure functions, then on the whole-DAG lake (balances),
on a copy with rows removed behind the jobs' back (gaps named, exit 1) and on bad input."""

from __future__ import annotations

import dataclasses
import re
import shutil

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from insight import cli, tables
from insight.audit import checks
from insight.nlp.schemas import REVIEW_INSIGHTS
from insight.profile.build import CUSTOMER_PROFILE

BALANCED = checks.EntityFigures(
    entity="events", landing=1000, bronze=990, ingest_in=1000, ingest_written=995,
    erased_bronze=5, clean_in=995, clean_written=950, clean_quarantined=30,
    clean_duplicates=15, clean_unbalanced_batches=0, silver=940, quarantine=29,
    erased_silver=6, erased_quarantine=1, updated_in_place=4,
)  # fmt: skip


def by_name(found: list[checks.Check]) -> dict[str, checks.Check]:
    return {c.name: c for c in found}


def test_balanced_figures_pass_every_check():
    found = checks.entity_checks(BALANCED)
    assert [c.status for c in found] == [checks.OK] * 6
    assert checks.exit_code(found) == 0


@pytest.mark.parametrize(
    "change, gap",
    [
        ({"landing": 1001}, "events: landing = bronze"),  # a landing file not ingested
        ({"bronze": 989, "clean_in": 994}, "events: ingest ledger = bronze"),
        ({"clean_in": 994}, "events: every bronze row cleaned"),
        ({"silver": 939}, "events: bronze = silver + quarantine + duplicates"),  # lost row
        ({"quarantine": 28}, "events: quarantine = ledger"),
        ({"clean_unbalanced_batches": 1}, "events: clean batches balance"),
    ],
)
def test_each_kind_of_loss_is_a_named_gap(change, gap):
    found = checks.entity_checks(dataclasses.replace(BALANCED, **change))
    assert gap in [c.name for c in found if c.status == checks.GAP]
    assert checks.exit_code(found) == 1
    text = checks.render(found, lake="/lake", as_of="2025-12-31")
    assert f"GAP {gap}: expected" in text


def test_missing_tables_are_skipped_not_passed():
    found = checks.entity_checks(dataclasses.replace(BALANCED, silver=None, quarantine=None))
    assert (
        by_name(found)["events: bronze = silver + quarantine + duplicates"].status == checks.SKIPPED
    )
    truncated = checks.entity_checks(dataclasses.replace(BALANCED, updated_in_place=None))
    assert by_name(truncated)["events: bronze = silver + quarantine + duplicates"].status == (
        checks.SKIPPED
    )
    none = checks.entity_checks(dataclasses.replace(BALANCED, bronze=None))
    assert [c.status for c in none] == [checks.SKIPPED]
    text = checks.render(none, lake="/lake", as_of="x")
    assert "0 ok, 0 gap(s), 1 skipped" in text and "NOTHING CHECKED" in text
    # Nothing checked is not a pass: its own exit status; one ok check among skips is.
    assert checks.exit_code(none) == checks.NOTHING_CHECKED != 0
    assert checks.exit_code(truncated) == 0 and checks.exit_code([]) == checks.NOTHING_CHECKED


def test_one_row_each_names_missing_duplicated_and_orphans():
    check = checks.one_row_each("x", expected=10, missing=1, duplicated=2, orphans=3, fix="run y")
    assert (check.status, check.actual) == (checks.GAP, 4)
    assert check.detail == "1 missing, 2 with more than one row, 3 rows without one"


def test_the_whole_dag_lake_balances(dag_lake, capsys):
    assert cli.main(["audit", "--lake", dag_lake]) == 0
    out = capsys.readouterr().out
    assert "0 gap(s)" in out and "as of 2025-12-31" in out
    status = {
        line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")
    }
    for name in (
        "every silver review (review_date <= as_of) has one gold.review_insights row",
        "every silver customer has one gold.customer_profile row",
        "gold.customer_features as of 2025-12-31: one row per customer, all known",
        "events: bronze = silver + quarantine + duplicates",
        "customers: landing = bronze",
        "job profile done for 2025-12-31",
    ):
        assert re.search(rf"{re.escape(name)}\s+ok\s", status[name]), status[name]


def test_rows_lost_behind_the_jobs_back_are_named_gaps(spark, dag_lake, tmp_path, capsys):
    lake = str(tmp_path / "lake")
    shutil.copytree(dag_lake, lake, ignore=shutil.ignore_patterns("_catalog", "_mlflow"))
    profile = DeltaTable.forPath(spark, CUSTOMER_PROFILE.path(lake))
    gone = [r.customer_key for r in profile.toDF().orderBy("customer_key").limit(2).collect()]
    profile.delete(f"customer_key IN ('{gone[0]}', '{gone[1]}')")
    insights = tables.read(spark, REVIEW_INSIGHTS, lake)
    tables.append(insights.orderBy("review_id").limit(1), REVIEW_INSIGHTS, lake)
    silver = DeltaTable.forPath(spark, tables.silver("events").path(lake))
    first = silver.toDF().orderBy("event_id").first()["event_id"]
    silver.delete(F.col("event_id") == first)
    assert cli.main(["audit", "--lake", lake, "--as-of", "2025-12-31"]) == 1
    out = capsys.readouterr().out
    assert "GAP every silver customer has one gold.customer_profile row" in out
    assert "2 missing, 0 with more than one row, 0 rows without one" in out
    assert "GAP every silver review (review_date <= as_of) has one gold.review_insights row" in out
    assert "0 missing, 1 with more than one row" in out
    assert "GAP events: bronze = silver + quarantine + duplicates" in out
    assert "3 gap(s)" in out


def test_bad_input_exits_2(dag_lake, tmp_path, capsys):
    assert cli.main(["audit", "--lake", str(tmp_path / "empty")]) == 2
    assert cli.main(["audit", "--lake", dag_lake, "--as-of", "1999-01-01"]) == 2
    assert cli.main(["audit", "--lake", dag_lake, "--as-of", "31/12/2025"]) == 2
    err = capsys.readouterr().err
    assert "no ops.run_ledger under" in err
    assert "no run for as_of 1999-01-01 in ops.run_ledger" in err
    assert "is not a date" in err
