"""Sentiment benchmark on real reviews: our model vs VADER on the same held-out rows.

Data: ../shared/data/amazon-alexa-reviews/amazon_alexa.tsv (3,150 Amazon Alexa reviews,
star ratings as labels: 1-2 negative, 3 neutral, 4-5 positive). A fixed stratified split
holds out a quarter of every label. Our candidates are trained on the rest exactly as the
nlp job trains them (the job's own inner split picks the candidate it would serve); every
candidate and VADER are then measured on the same held-out reviews. Throughput: scoring
on local[2] (reviews cached, output written to a no-op sink) vs VADER in one process.

    python -m bench.sentiment [--data PATH] [--repeat 4]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bench.common import RESULTS, machine, table, update_readme, write_results
from bench.peers import vader_sentiment
from insight import columns as C
from insight.config import load_config
from insight.nlp import model as review_model
from insight.nlp.sentiment import LABEL, NEUTRAL, SENTIMENT, with_label, with_prediction
from insight.nlp.text import SCORABLE, TEXT_STATUS, scorable, with_nlp_text
from insight.spark import build_spark

DATA = Path(__file__).resolve().parents[2] / "shared/data/amazon-alexa-reviews/amazon_alexa.tsv"
SEED = 17
TEST_SHARE = 0.25
SCHEMA = f"{C.REVIEW_ID} string, {C.TITLE} string, {C.REVIEW_TEXT} string, {C.RATING} int"


def load_reviews(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, sep="\t", encoding="utf-8-sig", keep_default_na=False)
    return pd.DataFrame(
        {
            C.REVIEW_ID: [f"A{i:05d}" for i in range(len(raw))],
            C.TITLE: None,
            C.REVIEW_TEXT: raw["verified_reviews"].astype(str),
            C.RATING: raw["rating"].astype(int),
        }
    )


def predictions(model: PipelineModel | None, test: DataFrame) -> dict[str, str]:
    """review id -> label; text the models cannot read counts as a neutral prediction."""
    unreadable = test.where(~F.col(TEXT_STATUS).isin(*SCORABLE)).select(C.REVIEW_ID)
    out = {r[C.REVIEW_ID]: NEUTRAL for r in unreadable.collect()}
    scored = model.transform(scorable(test)).transform(with_prediction)
    out |= {
        r[C.REVIEW_ID]: r[SENTIMENT] or NEUTRAL
        for r in scored.select(C.REVIEW_ID, SENTIMENT).collect()
    }
    return out


def throughput(model: PipelineModel, reviews: DataFrame, repeat: int, full: bool) -> float:
    """Reviews per second scoring `repeat` copies of the reviews (cached, 2 partitions)."""
    many = reviews
    for _ in range(repeat - 1):
        many = many.unionByName(reviews)
    many = scorable(many).repartition(2).cache()
    n = many.count()
    t0 = time.perf_counter()
    out = (
        review_model.score(model, many)
        if full
        else model.transform(review_model.by_length(many)).transform(with_prediction)
    )
    cols = [SENTIMENT, C.PROBABILITY] + ([C.KEYPHRASES, C.TOPIC_ID] if full else [])
    out.select(*cols).write.format("noop").mode("overwrite").save()
    seconds = time.perf_counter() - t0
    many.unpersist()
    return n / seconds


def run(data: Path, repeat: int, overrides: list[str]) -> dict:
    cfg = load_config("local", lake="/tmp/insight-bench-sentiment", overrides=overrides)
    spark = build_spark(cfg)
    pdf = load_reviews(data)
    reviews = with_nlp_text(spark.createDataFrame(pdf, SCHEMA), cfg.nlp).transform(with_label)
    split = review_model.split_holdout(reviews, TEST_SHARE, SEED).cache()
    train, test = split.where(~F.col("_holdout")), split.where(F.col("_holdout"))
    truth = {r[C.REVIEW_ID]: r[LABEL] for r in test.select(C.REVIEW_ID, LABEL).collect()}
    ids = sorted(truth)
    texts = {
        r[C.REVIEW_ID]: r[C.REVIEW_TEXT] for r in test.select(C.REVIEW_ID, C.REVIEW_TEXT).collect()
    }

    t0 = time.perf_counter()
    trained = review_model.train(spark, scorable(train), cfg)
    train_seconds = time.perf_counter() - t0
    prep = trained.model.stages[:4]
    rows = []
    for cand in trained.candidates:
        model = PipelineModel(stages=[*prep, *cand.model.stages])
        pred = predictions(model, test)
        acc, f1 = review_model.classification_metrics(
            [truth[i] for i in ids], [pred[i] for i in ids]
        )
        rows.append({
            "model": cand.name, "chosen": cand.name == trained.chosen.name,
            "accuracy": acc, "macro_f1": f1,
            "reviews_per_second": throughput(model, reviews, repeat, full=False),
            "train_seconds": cand.train_seconds,
        })  # fmt: skip
        print(f"{cand.name}: accuracy {acc:.3f} macro F1 {f1:.3f} "
              f"{rows[-1]['reviews_per_second']:.0f} reviews/s")  # fmt: skip
    chosen = next(r for r in rows if r["chosen"])
    full_rps = throughput(trained.model, reviews, repeat, full=True)

    vader_pred = vader_sentiment.predict([texts[i] for i in ids])
    v_acc, v_f1 = review_model.classification_metrics([truth[i] for i in ids], vader_pred)
    v_rps = vader_sentiment.throughput([texts[i] for i in ids])
    rows.append({"model": "VADER (peer)", "chosen": False, "accuracy": v_acc, "macro_f1": v_f1,
                 "reviews_per_second": v_rps, "train_seconds": 0.0})  # fmt: skip
    # What the model's extra time buys: accuracy points per extra CPU-second per 1,000 reviews.
    extra_seconds = 1000 / chosen["reviews_per_second"] - 1000 / v_rps
    split_counts = {r[LABEL]: r["count"] for r in test.groupBy(LABEL).count().collect()}
    return {
        "stage": "sentiment",
        "data": str(data),
        "what": "3-class sentiment (1-2 negative, 3 neutral, 4-5 positive) on held-out real "
        "reviews; ours trained on the rest with the nlp job's training code",
        "machine": machine(),
        "config": {
            "master": "local[2]",
            "seed": SEED,
            "test_share": TEST_SHARE,
            "candidates": list(cfg.nlp.candidates),
            "repeat": repeat,
        },
        "rows": len(pdf),
        "train_rows": len(pdf) - len(ids),
        "test_rows": len(ids),
        "test_labels": split_counts,
        "model": chosen["model"],
        "accuracy": chosen["accuracy"],
        "macro_f1": chosen["macro_f1"],
        "reviews_per_second": chosen["reviews_per_second"],
        "full_pipeline_reviews_per_second": full_rps,
        "vader_accuracy": v_acc,
        "vader_macro_f1": v_f1,
        "vader_reviews_per_second": v_rps,
        "accuracy_points_per_extra_second_per_1k_reviews": (
            100 * (chosen["accuracy"] - v_acc) / extra_seconds if extra_seconds > 0 else None
        ),
        "train_seconds": train_seconds,
        "aims": {
            "beats_vader_accuracy": chosen["accuracy"] > v_acc,
            "beats_vader_macro_f1": chosen["macro_f1"] > v_f1,
            "at_least_200_reviews_per_second": chosen["reviews_per_second"] >= 200,
        },
        "models": rows,
    }


def render(payload: dict) -> None:
    md = table(
        payload["models"],
        [("model", "model"), ("chosen", "served"), ("accuracy", "accuracy"),
         ("macro_f1", "macro F1"), ("reviews_per_second", "reviews/s"),
         ("train_seconds", "train s")],
    )  # fmt: skip
    m, p = payload["machine"], payload
    gain = p["accuracy_points_per_extra_second_per_1k_reviews"]
    facts = (
        f"{p['test_rows']:,} held-out Amazon Alexa reviews ({p['test_labels']}), trained on "
        f"{p['train_rows']:,}. Measured {m['measured_at']} on {m['cores']} cores, "
        f"{m['memory_gib']} GiB ({m['cpu']}); ours on Spark `local[2]`, VADER in one Python "
        f"process. The served model with keyphrases and topics too: "
        f"{p['full_pipeline_reviews_per_second']:,.0f} reviews/s. "
        + (f"Each extra CPU-second per 1,000 reviews over VADER buys {gain:.1f} accuracy "
           "points." if gain is not None else "")
    )  # fmt: skip
    (RESULTS / "sentiment.md").write_text(f"# Sentiment benchmark\n\n{md}\n\n{facts}\n")
    update_readme("sentiment", f"{md}\n\n{facts}")
    print(md)
    print(facts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA, help="amazon_alexa.tsv path")
    parser.add_argument(
        "--repeat", type=int, default=4, help="copies of the data scored for throughput"
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE",
        help="config override, e.g. --conf 'nlp.candidates=[vivekn]'",
    )  # fmt: skip
    parser.add_argument("--render", action="store_true", help="only re-render from sentiment.json")
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads((RESULTS / "sentiment.json").read_text()))
        return 0
    if not args.data.is_file():
        parser.error(
            f"--data {args.data}: no such file (the shared data folder sits beside the repo)"
        )
    payload = run(args.data, args.repeat, args.conf)
    write_results("sentiment", payload)
    render(payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
