"""Benchmark the customer-profile stages (features -> segment -> clv -> profile) at two
scales, and measure them against the generator's hidden truth.

- seconds per stage (ingest and clean run first, untimed here: see bench-clean);
- `ari`: adjusted Rand index of the behavioural clusters (and of the RFM segments) vs the
  hidden archetypes the generator drew customers from;
- `recoverability`: how far the archetype shows in behaviour at all: 5-fold accuracy of a
  supervised classifier on gold.customer_features (next to always guessing the largest
  archetype), so that an ARI on this truth measures the clustering, not the generator;
- `clv_mae`: mean absolute error of 12-month CLV vs the simulated next-365-day spend, and
  `purchases_mae` of expected purchases vs simulated future purchases, over buyers.

    python -m bench.profile [--customers 2000,10000]   (make bench-profile)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import functions as F
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

from bench.common import (
    RESULTS,
    fresh_lake,
    machine,
    run_job,
    scales_parser,
    table,
    update_readme,
    write_results,
)
from insight import columns as C
from insight import tables
from insight.clv.schemas import CUSTOMER_CLV
from insight.config import load_config
from insight.features.schemas import CUSTOMER_FEATURES
from insight.pii import load_salt, pseudonymise
from insight.segment.schemas import CUSTOMER_SEGMENTS
from insight.spark import build_spark

AS_OF = "2025-12-31"
SEED = 42
STAGES = ("features", "segment", "clv", "profile")


def truth_frame(spark, lake: Path, salt: bytes):
    """The hidden truth per customer, keyed like silver (salted HMAC of the source id)."""
    rows = [json.loads(line) for line in (lake / "truth" / "customers.jsonl").open()]
    df = spark.createDataFrame(
        [(r["customer_id"], r["archetype"], float(r["future_purchases_365d"]),
          float(r["future_spend_365d"])) for r in rows],
        "customer_id string, archetype string, future_purchases double, future_spend double",
    )  # fmt: skip
    keyed = df.transform(pseudonymise, {C.CUSTOMER_KEY: "customer_id"}, salt=salt)
    return keyed.drop("customer_id")


def recoverability(features: pd.DataFrame, archetypes: pd.Series) -> dict:
    """5-fold accuracy of scikit-learn's HistGradientBoosting telling each customer's hidden
    archetype from their gold.customer_features row: every numeric column, and each key of
    the share maps (category, channel, device) as a column of its own."""
    numeric = features.select_dtypes("number")
    shares = [
        pd.DataFrame([dict(v) for v in features[name]], index=features.index)
        .add_prefix(f"{name}.")
        .fillna(0.0)
        for name in features.columns.difference(numeric.columns)
    ]
    x = pd.concat([numeric, *shares], axis=1).to_numpy(dtype=float)
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    model = HistGradientBoostingClassifier(random_state=SEED)

    def accuracy(columns) -> float:
        return round(
            float(cross_val_score(model, columns, archetypes.to_numpy(), cv=folds).mean()), 4
        )

    return {
        "archetype_accuracy": accuracy(x),
        # The numeric columns alone, closer to issue 24's first measure (0.23 there, another
        # setup; this function gave 0.559 on generator 1.0's 2,000 customers).
        "archetype_accuracy_numeric": accuracy(numeric.to_numpy(dtype=float)),
        "archetype_majority": round(float(archetypes.value_counts(normalize=True).iloc[0]), 4),
        "archetype_columns": x.shape[1],
    }


def run_scale(work: Path, customers: int) -> dict:
    lake = fresh_lake(work, "profile", customers, SEED)
    args = ["--env", "local", "--lake", str(lake), "--as-of", AS_OF]
    run_job("ingest", args)
    run_job("clean", args)
    seconds = {}
    for name in STAGES:
        t0 = time.monotonic()
        run_job(name, args)
        seconds[name] = round(time.monotonic() - t0, 2)
        print(f"{customers} customers: {name} {seconds[name]} s")

    cfg = load_config("local", lake=str(lake))
    spark = build_spark(cfg)
    truth = truth_frame(spark, lake, load_salt(cfg.pii.salt_env, allow_dev_salt=True))
    segments = tables.read(spark, CUSTOMER_SEGMENTS, str(lake)).where(F.col(C.AS_OF) == AS_OF)
    seg = segments.join(truth, C.CUSTOMER_KEY).select("archetype", "cluster_name", "rfm_segment")
    pdf = seg.toPandas()
    rows = (
        tables.read(spark, CUSTOMER_FEATURES, str(lake))
        .where(F.col(C.AS_OF) == AS_OF)
        .join(truth.select(C.CUSTOMER_KEY, "archetype"), C.CUSTOMER_KEY)
        .drop(C.CUSTOMER_KEY, C.AS_OF)
    )
    features = rows.toPandas()
    values = tables.read(spark, CUSTOMER_CLV, str(lake)).where(F.col(C.AS_OF) == AS_OF)
    cv = (
        values.join(truth, C.CUSTOMER_KEY)
        .select("clv_12m", "expected_purchases_12m", "future_spend", "future_purchases")
        .toPandas()
    )
    return {
        "customers": customers,
        "events": tables.read(spark, tables.silver("events"), str(lake)).count(),
        "seconds": seconds,
        "total_seconds": round(sum(seconds.values()), 2),
        "segmented_customers": len(pdf),
        "clusters": int(pdf["cluster_name"].nunique()),
        "ari": round(float(adjusted_rand_score(pdf["archetype"], pdf["cluster_name"])), 4),
        "ari_rfm": round(float(adjusted_rand_score(pdf["archetype"], pdf["rfm_segment"])), 4),
        **recoverability(features.drop(columns="archetype"), features["archetype"]),
        "buyers": len(cv),
        "clv_mae": round(float(np.mean(np.abs(cv["clv_12m"] - cv["future_spend"]))), 2),
        "mean_future_spend": round(float(cv["future_spend"].mean()), 2),
        "purchases_mae": round(
            float(np.mean(np.abs(cv["expected_purchases_12m"] - cv["future_purchases"]))), 3
        ),
        "clv_spend_correlation": round(
            float(np.corrcoef(cv["clv_12m"], cv["future_spend"])[0, 1]), 3
        ),
    }


def render(payload: dict) -> None:
    rows = [{**r, **{f"{k}_s": v for k, v in r["seconds"].items()}} for r in payload["scales"]]
    md = table(rows, [
        ("customers", "customers"), ("events", "events"), ("features_s", "features s"),
        ("segment_s", "segment s"), ("clv_s", "clv s"), ("profile_s", "profile s"),
        ("archetype_accuracy", "archetype acc."),
        ("archetype_accuracy_numeric", "archetype acc., numeric columns only"),
        ("archetype_majority", "largest archetype"),
        ("ari", "ARI clusters"), ("ari_rfm", "ARI RFM"), ("clv_mae", "CLV MAE"),
        ("mean_future_spend", "mean true spend"), ("clv_spend_correlation", "CLV-spend corr"),
        ("purchases_mae", "purchases MAE"),
    ])  # fmt: skip
    m = payload["machine"]
    facts = (
        f"Measured {m['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB "
        f"({m['cpu']}); Spark `local[2]`. ARI: behavioural clusters (and RFM segments) vs the "
        "generator's hidden archetypes; archetype acc.: 5-fold accuracy of scikit-learn's "
        "HistGradientBoosting telling the archetype from gold.customer_features (numeric "
        "columns and each share-map key; then the numeric columns alone), next to the largest "
        "archetype's share. "
        "CLV MAE: 12-month CLV vs simulated next-365-day spend "
        "(base currency), over buyers; purchases MAE: expected purchase days vs simulated "
        "future orders. Review features are at their defaults (nlp not run here)."
    )
    (RESULTS / "profile.md").write_text(f"# Profile stages benchmark\n\n{md}\n\n{facts}\n")
    update_readme("profile", f"{md}\n\n{facts}")
    print(md)


def main(argv: list[str] | None = None) -> int:
    parser = scales_parser(__doc__, "2000,10000")
    parser.add_argument("--render", action="store_true", help="only re-render from profile.json")
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads((RESULTS / "profile.json").read_text()))
        return 0
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    payload = {
        "stage": "profile",
        "what": "features -> segment -> clv -> profile on a generated lake, vs hidden truth",
        "machine": machine(),
        "config": {"env": "local", "master": "local[2]", "as_of": AS_OF, "seed": SEED},
        "scales": [run_scale(work, int(n)) for n in args.customers.split(",")],
    }
    write_results("profile", payload)
    render(payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
