"""One table of every stage's figure beside its peer's, from the stage benchmarks' results.

    python -m bench.summary   (make bench runs every stage benchmark first)

Reads bench/results/<stage>.json, writes bench/results/SUMMARY.md and the README's
summary section. Every figure comes from those files; a peer that did not run is named
with the reason, never filled in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import RESULTS, table, update_readme


@dataclass(frozen=True)
class Row:
    """One measure: ours, the peer's (None if it did not run) and where the peer's is from.
    Every measure is higher-is-better, so a ratio above 1 means ours is ahead."""

    stage: str
    measure: str
    ours: float
    peer_name: str
    peer: float | None
    source: str

    @property
    def ratio(self) -> float | None:
        return self.ours / self.peer if self.peer else None


SAME_RUN = "same run"


def clean_rows(d: dict) -> list[Row]:
    rows = []
    for s in d["scales"]:
        what = f"rows/s, {s['customers']:,} customers"
        rows.append(Row("clean", what, s["rows_per_second"], "pandas, one process",
                        s["pandas_rows_per_second"], SAME_RUN))  # fmt: skip
        floor = s.get("parquet_floor_rows_per_second")  # older results lack it
        rows.append(Row("clean", what, s["rows_per_second"], "Parquet read+write (the floor)",
                        floor, SAME_RUN if floor else "not run yet"))  # fmt: skip
    return rows


def sentiment_rows(d: dict) -> list[Row]:
    served = d["model"]
    return [
        Row("sentiment", f"accuracy ({served})", d["accuracy"], "VADER", d["vader_accuracy"],
            SAME_RUN),
        Row("sentiment", f"macro F1 ({served})", d["macro_f1"], "VADER", d["vader_macro_f1"],
            SAME_RUN),
        Row("sentiment", f"reviews/s ({served})", d["reviews_per_second"], "VADER",
            d["vader_reviews_per_second"], SAME_RUN),
    ]  # fmt: skip


def profile_rows(d: dict) -> list[Row]:
    out = []
    for s in d["scales"]:
        out.append(Row("profile", f"customers/s, features..profile, {s['customers']:,} customers",
                       s["customers"] / s["total_seconds"], "pandas features", None,
                       "not run: no pandas features peer yet"))  # fmt: skip
    return out


def als_rows(d: dict) -> list[Row]:
    ours, bpr = d["implicit"], d["published"]["bpr"]
    published = "published (Microsoft Recommenders), not run here"
    rows = [
        Row("als", "P@10, MovieLens 100k", ours["precision_at_10"], "BPR",
            bpr["precision_at_10"], published),
        Row("als", "NDCG@10, MovieLens 100k", ours["ndcg_at_10"], "BPR", bpr["ndcg_at_10"],
            published),
    ]  # fmt: skip
    peer = d.get("implicit_library")  # results from before the peer was added lack it
    # The peer runs with the setting Spark was tuned to, not one tuned for itself.
    source = f"{SAME_RUN}, Spark's tuned setting" if peer else "not run yet"
    for key, what in (("ndcg_at_10", "NDCG@10"), ("train_seconds", "fits per hour")):
        mine = ours[key] if key != "train_seconds" else 3600 / ours[key]
        theirs = None if not peer else peer[key] if key != "train_seconds" else 3600 / peer[key]
        rows.append(Row("als", f"{what}, MovieLens 100k", mine, "implicit library ALS", theirs,
                        source))  # fmt: skip
    return rows


def propensity_rows(d: dict) -> list[Row]:
    out = []
    for target in ("purchase", "churn"):
        r = d["result"][target]
        out.append(
            Row(
                "propensity",
                f"{target} AUC vs hidden truth",
                r["auc_tf"],
                "Spark MLlib GBT (in-project baseline)",
                r["auc_gbt"],
                SAME_RUN,
            )
        )
        sk = r.get("auc_sklearn")  # results from before the peer was added lack it
        out.append(Row("propensity", f"{target} AUC vs hidden truth", r["auc_tf"],
                       "scikit-learn gradient boosting", sk,
                       SAME_RUN if sk is not None else "not run yet"))  # fmt: skip
    return out


STAGES: dict[str, Callable[[dict], list[Row]]] = {
    "clean": clean_rows,
    "sentiment": sentiment_rows,
    "profile": profile_rows,
    "als": als_rows,
    "propensity": propensity_rows,
}


def collect(results: Path = RESULTS) -> tuple[list[Row], list[str]]:
    """Rows of every stage with a results file, and a note per stage without one."""
    rows, notes = [], []
    for stage, extract in STAGES.items():
        path = results / f"{stage}.json"
        if not path.exists():
            notes.append(f"{stage}: no {path.name} (run `make bench-{stage}`)")
            continue
        data = json.loads(path.read_text())
        rows += extract(data)
        measured = data.get("machine", {}).get("measured_at", "unknown time")
        notes.append(f"{stage}: measured {measured}")
    return rows, notes


def markdown(rows: list[Row], notes: list[str]) -> str:
    cols = [("stage", "stage"), ("measure", "measure"), ("ours", "ours"),
            ("peer_name", "peer"), ("peer", "peer's figure"), ("ratio", "ours / peer"),
            ("source", "peer's figure from")]  # fmt: skip
    dicts = [{**r.__dict__, "peer": "" if r.peer is None else r.peer,
              "ratio": "" if r.ratio is None else r.ratio} for r in rows]  # fmt: skip
    lines = [table(dicts, cols), "", "Every measure is higher-is-better: a ratio above 1 means "
             "ours is ahead. " + "; ".join(notes) + "."]  # fmt: skip
    return "\n".join(lines)


def scaling_line(results: Path = RESULTS) -> str:
    """The growth exponent of each DAG stage (bench/results/scaling.json), or why there is none."""
    path = results / "scaling.json"
    if not path.exists():
        return "Scaling: no scaling.json (run `make bench-scaling`)."
    data = json.loads(path.read_text())
    sizes = ", ".join(f"{s['customers']:,}" for s in data["sizes"])
    b = ", ".join(f"{stage} {value}" for stage, value in data["exponents"].items())
    return f"Scaling ({sizes} customers; time ~ size^b, {data['aim']}): {b or 'one size only'}."


def main() -> int:
    rows, notes = collect()
    md = markdown(rows, notes) + "\n\n" + scaling_line()
    (RESULTS / "SUMMARY.md").write_text(f"# Benchmark summary\n\n{md}\n")
    update_readme("summary", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
