"""The benchmark summary: every row comes from a results file, ratios are ours / peer's, and a
peer or stage that did not run is named, never filled in."""

from __future__ import annotations

import json

import pytest

from bench import summary


def write(folder, stage: str, payload: dict) -> None:
    (folder / f"{stage}.json").write_text(json.dumps(payload))


def test_rows_carry_the_files_figures_and_ratios(tmp_path):
    when = {"machine": {"measured_at": "2026-01-02T03:04:05+00:00"}}
    write(tmp_path, "clean", {**when, "scales": [
        {"customers": 2000, "rows_per_second": 1500.0, "pandas_rows_per_second": 20000.0},
        {"customers": 100000, "rows_per_second": 24000.0, "pandas_rows_per_second": 19200.0,
         "parquet_floor_rows_per_second": 96000.0},
    ]})  # fmt: skip
    write(tmp_path, "propensity", {**when, "result": {
        "purchase": {"auc_tf": 0.72, "auc_gbt": 0.68, "auc_sklearn": 0.70},
        "churn": {"auc_tf": 0.69, "auc_gbt": 0.72},
    }})  # fmt: skip
    rows, notes = summary.collect(tmp_path)

    clean = [r for r in rows if r.stage == "clean" and r.peer_name.startswith("pandas")]
    assert [(r.measure, r.ours, r.peer) for r in clean] == [
        ("rows/s, 2,000 customers", 1500.0, 20000.0),
        ("rows/s, 100,000 customers", 24000.0, 19200.0),
    ]
    assert [r.ratio for r in clean] == [pytest.approx(0.075), pytest.approx(1.25)]
    floor = [(r.measure, r.peer, r.ratio) for r in rows if r.peer_name.startswith("Parquet")]
    assert floor == [("rows/s, 2,000 customers", None, None),
                     ("rows/s, 100,000 customers", 96000.0, 0.25)]  # fmt: skip
    gbt = [r for r in rows if r.stage == "propensity" and "GBT" in r.peer_name]
    assert [(r.measure, r.ratio) for r in gbt] == [
        ("purchase AUC vs hidden truth", pytest.approx(0.72 / 0.68)),
        ("churn AUC vs hidden truth", pytest.approx(0.69 / 0.72)),
    ]
    # A peer that did not run (churn's scikit-learn here) has no figure and no ratio.
    sklearn = [(r.peer, r.ratio, r.source) for r in rows if "scikit-learn" in r.peer_name]
    assert sklearn == [(0.70, pytest.approx(0.72 / 0.70), "same run"), (None, None, "not run yet")]
    # Stages without a results file are named with the command that makes one.
    assert "sentiment: no sentiment.json (run `make bench-sentiment`)" in notes
    assert "clean: measured 2026-01-02T03:04:05+00:00" in notes

    md = summary.markdown(rows, notes)
    assert (
        "| clean | rows/s, 100,000 customers | 24,000 | pandas, one process | 19,200 | 1.25 |" in md
    )
    assert md.count("\n| propensity |") == 4


def test_the_committed_results_all_summarise():
    rows, notes = summary.collect()
    assert {r.stage for r in rows} == set(summary.STAGES)
    assert not [n for n in notes if "no " in n and ".json" in n]
