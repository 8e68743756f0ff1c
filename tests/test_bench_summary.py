"""The benchmark summary: every row comes from a results file, ratios are ours / peer's, and a
peer or stage that did not run is named, never filled in."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import bench
from bench import summary


def write(folder, stage: str, payload: dict) -> None:
    (folder / f"{stage}.json").write_text(json.dumps(payload))


def test_rows_carry_the_files_figures_and_ratios(tmp_path):
    when = {"machine": {"measured_at": "2026-01-02T03:04:05+00:00", "commit": "abc1234"}}
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
    assert "clean: measured 2026-01-02T03:04:05+00:00 on commit abc1234" in notes

    md = summary.markdown(rows, notes)
    assert (
        "| clean | rows/s, 100,000 customers | 24,000 | pandas, one process | 19,200 | 1.25 |" in md
    )
    assert md.count("\n| propensity |") == 4


def test_the_committed_results_all_summarise():
    rows, notes = summary.collect()
    assert {r.stage for r in rows} == set(summary.STAGES)
    assert not [n for n in notes if "no " in n and ".json" in n]


def test_scaling_line_names_exponents_and_the_largest_run(tmp_path):
    assert summary.scaling_line(tmp_path) == "Scaling: no scaling.json (run `make bench-scaling`)."

    def size(customers, events, minutes, gib):
        return {"customers": customers, "records": {"events": events, "reviews": events // 12},
                "wall_seconds": minutes * 60, "peak_rss_gib": gib}  # fmt: skip

    write(tmp_path, "scaling", {"aim": "b <= 1.1 for every stage",
                                "sizes": [size(8000, 320000, 20, 5.5), size(4000, 160000, 12, 5.0)],
                                "exponents": {"clean": 0.8, "nlp": 1.05}})  # fmt: skip
    line = summary.scaling_line(tmp_path)
    assert line.startswith("Scaling (8,000, 4,000 customers; time ~ size^b, b <= 1.1 for every")
    assert "clean 0.8, nlp 1.05." in line
    assert line.endswith("8,000 customers, 320,000 events, 26,666 reviews: `insight run all` in "
                         "20.0 min, peak memory 5.5 GiB.")  # fmt: skip
    # The features task beside its pandas peer, per size, with how their tables differ.
    sizes = json.loads((tmp_path / "scaling.json").read_text())
    sizes["sizes"][0] |= {"stage_seconds": {"features": 40.0},
                          "features_peer": {"customers_per_second": 400.0,
                                            "differences_from_ours": {}}}  # fmt: skip
    sizes["sizes"][1] |= {"stage_seconds": {"features": 25.0},
                          "features_peer": {"error": "MemoryError: "}}  # fmt: skip
    write(tmp_path, "scaling", sizes)
    rows, _ = summary.collect(tmp_path)
    assert [(r.measure, r.ours, r.peer, r.ratio, r.source) for r in rows] == [
        ("customers/s, 4,000 customers", 160.0, None, None, "failed: MemoryError: "),
        ("customers/s, 8,000 customers", 200.0, 400.0, 0.5, "same run; identical table"),
    ]
    # A soak run larger than every scaling size is the one named.
    write(tmp_path, "soak", {"sizes": [size(32000, 1280000, 75.5, 9.25)]})
    assert summary.scaling_line(tmp_path).endswith(
        "32,000 customers, 1,280,000 events, 106,666 reviews: `insight run all` in 75.5 min, "
        "peak memory 9.25 GiB."
    )


@pytest.mark.parametrize(
    "module", [m.name for m in pkgutil.iter_modules(bench.__path__) if not m.ispkg]
)
def test_every_benchmark_imports(module):
    # A renamed job or constant once broke three `make bench-*` targets unnoticed: the
    # benchmarks run by hand, so nothing else imports them.
    importlib.import_module(f"bench.{module}")
