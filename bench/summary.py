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
    rows = [
        Row("sentiment", f"Alexa accuracy ({served})", d["accuracy"], "VADER",
            d["vader_accuracy"], SAME_RUN),
        Row("sentiment", f"Alexa macro F1 ({served})", d["macro_f1"], "VADER",
            d["vader_macro_f1"], SAME_RUN),
        Row("sentiment", f"reviews/s ({served})", d["reviews_per_second"], "VADER",
            d["vader_reviews_per_second"], SAME_RUN),
    ]  # fmt: skip
    for key, cross in d.get("cross_domain", {}).items():  # older results lack it
        what = key.replace("_to_", " -> ")
        rows.append(Row("sentiment", f"{what} binary accuracy ({cross['model']})",
                        cross["binary_accuracy"], "VADER", cross["vader_binary_accuracy"],
                        SAME_RUN))  # fmt: skip
    return rows


def features_rows(d: dict) -> list[Row]:
    """The features task of each scaling size (run ledger) vs its pandas peer on the same
    silver tables, in customers per second."""
    out = []
    for s in sorted(d["sizes"], key=lambda s: s["customers"]):
        peer = s.get("features_peer", {})
        ours = s["stage_seconds"].get("features")
        if not ours:
            continue
        if "error" in peer:
            source = f"failed: {peer['error']}"
        elif peer:
            diff = peer["differences_from_ours"]
            source = SAME_RUN + (f"; differing cells {diff}" if diff else "; identical table")
        else:
            source = "not run yet"
        out.append(Row("features", f"customers/s, {s['customers']:,} customers",
                       round(s["customers"] / ours, 1), "pandas, one process",
                       peer.get("customers_per_second"), source))  # fmt: skip
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
    # The peer tuned for itself when the results have it (older ones ran it only at Spark's
    # tuned setting, which is not a fair comparison).
    tuned = d.get("implicit_library_tuned")
    peer = tuned or d.get("implicit_library")
    how = "each tuned for itself" if tuned else "Spark's tuned setting"
    source = f"{SAME_RUN}, {how}" if peer else "not run yet"
    for key, what in (("ndcg_at_10", "NDCG@10"), ("train_seconds", "fits per hour")):
        mine = ours[key] if key != "train_seconds" else 3600 / ours[key]
        theirs = None if not peer else peer[key] if key != "train_seconds" else 3600 / peer[key]
        rows.append(Row("als", f"{what}, MovieLens 100k", mine, "implicit library ALS", theirs,
                        source))  # fmt: skip
    if "bpr_library" in d:
        rows.append(Row("als", "NDCG@10, MovieLens 100k", ours["ndcg_at_10"],
                        "implicit library BPR", d["bpr_library"]["ndcg_at_10"],
                        f"{SAME_RUN}, each tuned for itself"))  # fmt: skip
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


def customers_rows(d: dict) -> list[Row]:
    """The customer models on Online Retail's 90 days after the cut, each beside its peers
    (same process, same rows). MAE is lower-is-better, so it enters as 1 / MAE."""
    split = f"Online Retail, 90 d after {d['split']['as_of']}"
    clv, seg = d["clv"], d["segments"]
    kmeans = next(k for k in seg if k.startswith("sklearn_kmeans"))
    # (measure, ours, [(peer name, the peer's result or None, its figure's key)])
    measures = [(
        "CLV 1 / per-customer MAE", 1 / clv["ours"]["mae"],
        [("lifetimes BG/NBD (same summary, its default fit)", clv.get("lifetimes")),
         ("repeat rate so far x 90 days", clv.get("baseline_repeat_rate"))], "mae",
    )]  # fmt: skip
    for target in ("purchase", "churn"):
        r = d["propensity"][target]
        measures.append((
            f"{target} AUC ({r['window_days']} d)", r["ours"]["auc"],
            [("scikit-learn HistGradientBoosting", r["hist_gradient_boosting"]),
             ("scikit-learn LogisticRegression", r["logistic_regression"])], "auc",
        ))  # fmt: skip
    for truth, what in (("all", "all purchases"), ("new", "products new to the customer")):
        rec = d["recommend"][truth]
        measures.append((
            f"NDCG@10 of {what}", rec["ours"]["ndcg_at_10"],
            [("popularity", rec["popularity"]),
             ("implicit library ALS, tuned on the job's split", rec["implicit_als_tuned"])],
            "ndcg_at_10",
        ))  # fmt: skip
    cells = seg["rfm_quintile_cells"]
    measures.append((
        "next-period spend eta² of our clusters", seg["ours_clusters"]["spend"]["eta_squared"],
        [(f"RFM quintile cells ({cells['spend']['segments']})", cells["spend"]),
         (f"scikit-learn KMeans, k = {seg[kmeans]['spend']['segments']}", seg[kmeans]["spend"])],
        "eta_squared",
    ))  # fmt: skip
    if "stability" in seg:
        stable = seg["stability"]
        measures.append((
            f"bootstrap ARI of our clusters ({stable['resamples']} resamples)",
            stable["ours"]["ari_mean"],
            [(f"scikit-learn KMeans, k = {seg[kmeans]['spend']['segments']}",
              stable["sklearn_kmeans"])], "ari_mean",
        ))  # fmt: skip
    rows = []
    for measure, ours, peers, key in measures:
        for name, peer in peers:
            value = (peer or {}).get(key)
            if value is not None and key == "mae":
                value = 1 / value
            source = SAME_RUN if value is not None else f"failed: {(peer or {}).get('error')}"
            rows.append(Row("customers", f"{measure}, {split}", ours, name, value, source))
    return rows


# stage -> (results file, the benchmark that writes it, rows from its content)
STAGES: dict[str, tuple[str, str, Callable[[dict], list[Row]]]] = {
    "clean": ("clean", "bench-clean", clean_rows),
    "sentiment": ("sentiment", "bench-sentiment", sentiment_rows),
    "features": ("scaling", "bench-scaling", features_rows),
    "als": ("als", "bench-als", als_rows),
    "propensity": ("propensity", "bench-propensity", propensity_rows),
    "customers": ("customers", "bench-customers", customers_rows),
}


def collect(results: Path = RESULTS) -> tuple[list[Row], list[str]]:
    """Rows of every stage with a results file, and a note per stage without one."""
    rows, notes = [], []
    for stage, (name, command, extract) in STAGES.items():
        path = results / f"{name}.json"
        if not path.exists():
            notes.append(f"{stage}: no {path.name} (run `make {command}`)")
            continue
        data = json.loads(path.read_text())
        rows += extract(data)
        m = data.get("machine", {})
        measured = m.get("measured_at", "unknown time")
        notes.append(f"{stage}: measured {measured} on commit {m.get('commit', 'not recorded')}")
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
    """The growth exponent of each DAG stage (scaling.json) and the largest whole run of
    scaling.json / soak.json (time, peak memory), or why there is none."""
    runs = []
    parts = []
    path = results / "scaling.json"
    if path.exists():
        data = json.loads(path.read_text())
        runs += data["sizes"]
        sizes = ", ".join(f"{s['customers']:,}" for s in data["sizes"])
        b = ", ".join(f"{stage} {value}" for stage, value in data["exponents"].items())
        parts.append(
            f"Scaling ({sizes} customers; time ~ size^b, {data['aim']}): {b or 'one size only'}."
        )
    else:
        parts.append("Scaling: no scaling.json (run `make bench-scaling`).")
    soak = results / "soak.json"
    if soak.exists():
        runs += json.loads(soak.read_text())["sizes"]
    if runs:
        big = max(runs, key=lambda s: s["customers"])
        records = big.get("records", {})
        parts.append(
            f"Largest whole run: {big['customers']:,} customers, {records.get('events', 0):,} "
            f"events, {records.get('reviews', 0):,} reviews: `insight run all` in "
            f"{big['wall_seconds'] / 60:.1f} min, peak memory {big['peak_rss_gib']} GiB."
        )
    return " ".join(parts)


def main() -> int:
    rows, notes = collect()
    md = markdown(rows, notes) + "\n\n" + scaling_line()
    (RESULTS / "SUMMARY.md").write_text(f"# Benchmark summary\n\n{md}\n")
    update_readme("summary", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
