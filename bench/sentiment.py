"""Sentiment benchmark on real reviews of two shops: in-domain and cross-domain, vs VADER.

Data: ../shared/data/amazon-alexa-reviews (3,150 Amazon Alexa reviews) and
../shared/data/clothing-reviews (1,000 women's clothing reviews; 42 without text are left
out). Labels from the stars: 1-2 negative, 3 neutral, 4-5 positive. Each set is split once,
stratified (a quarter of every label held out). For each direction, the nlp job's own
training code (candidates, its inner random and unseen-category checks, selection) trains
on one set's training part; every candidate (refitted at its chosen setting on the whole
training part), VADER and the majority class are then measured on

- in-domain: the same set's held-out quarter, and
- cross-domain: every review of the other set (another shop, other products and words).

Accuracy and macro F1 are 3-class; `binary_accuracy` and `binary_macro_f1` judge only the
reviews whose truth is positive or negative, by the sign of sentiment_score (VADER: of its
compound score), as a review-polarity data set would. Every model sees the same rows.
Speed: reviews per second through the served pipeline (encoder included) on local[2], for
each encoder precision and length, with the accuracy each speed step costs.

Chinese (`--only zh`, a few minutes; the English part takes about 20): the shared
ChnSentiCorp hotel reviews (../shared/data/chinese-hotel-reviews, 7,766 real reviews, binary
labels). A stratified quarter is held out; the nlp job's own Chinese training code
(insight.nlp.model.train_zh: jieba words, TF-IDF, logistic regression, regularisation
chosen by its inner checks) trains on the rest, labels 1 -> 5 stars, 0 -> 1 star. Ours and
SnowNLP (the classic Chinese sentiment library, the VADER of Chinese) are measured on the
same held-out rows: accuracy and macro F1 of the binary label, and reviews per second
(ours: segmentation + model on Spark local[2]; SnowNLP: one Python process). Its results
go to the `chinese` key of sentiment.json, next to the English ones (merged, not replaced).

    python -m bench.sentiment [--alexa PATH] [--clothing PATH] [--samples 250,500,1000]
    python -m bench.sentiment --only zh [--chinese PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from bench.common import RESULTS, machine, table, update_readme, write_results
from bench.peers import vader_sentiment
from insight import columns as C
from insight.config import Config, load_config
from insight.nlp import embeddings, selection
from insight.nlp import model as review_model
from insight.nlp.sentiment import (
    CLASSES,
    LABEL,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SENTIMENT,
    SENTIMENT_SCORE,
    VECTOR_CANDIDATES,
    with_label,
    with_prediction,
)
from insight.nlp.text import LANGUAGE, TEXT, ZH, scorable, with_nlp_text
from insight.spark import build_spark

DATA = Path(__file__).resolve().parents[2] / "shared/data"
ALEXA = DATA / "amazon-alexa-reviews/amazon_alexa.tsv"
CLOTHING = DATA / "clothing-reviews/womens_clothing_reviews_1000.csv"
CHINESE = DATA / "chinese-hotel-reviews/ChnSentiCorp_htl_all.csv"
SEED = 17
TEST_SHARE = 0.25
SCHEMA = (
    f"{C.REVIEW_ID} string, {C.TITLE} string, {C.REVIEW_TEXT} string, {C.RATING} int, "
    f"{selection.GROUP} string"
)
METRICS = ("accuracy", "macro_f1", "binary_accuracy", "binary_macro_f1",
           "binary_balanced_accuracy", "auc")  # fmt: skip
# The score head's penalties measured (nlp.score_reg_param), both directions.
SCORE_REGS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
HEAD_METRICS = ("binary_accuracy", "binary_balanced_accuracy", "auc")
DIRECTIONS = {"alexa_to_clothing": "A->C", "clothing_to_alexa": "C->A"}
# Encoder settings measured for speed and its accuracy cost: (precision, max tokens).
SPEED_STEPS = (("float32", 128), ("int8", 128), ("int8", 64))


def load_alexa(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, sep="\t", encoding="utf-8-sig", keep_default_na=False)
    return pd.DataFrame({
        C.REVIEW_ID: [f"A{i:05d}" for i in range(len(raw))], C.TITLE: None,
        C.REVIEW_TEXT: raw["verified_reviews"].astype(str), C.RATING: raw["rating"].astype(int),
        selection.GROUP: raw["variation"].astype(str),
    })  # fmt: skip


def load_clothing(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, keep_default_na=False)
    return pd.DataFrame({
        C.REVIEW_ID: [f"W{i:05d}" for i in range(len(raw))],
        C.TITLE: raw["Title"].astype(str).where(raw["Title"] != "", None),
        C.REVIEW_TEXT: raw["Review Text"].astype(str), C.RATING: raw["Rating"].astype(int),
        selection.GROUP: raw["Class Name"].astype(str),
    })  # fmt: skip


def binary_metrics(truth: list[str], score: list[float]) -> tuple[float, float]:
    """(accuracy, macro F1) on reviews whose truth is polar, predicting by the score's sign."""
    pairs = [(t, POSITIVE if s >= 0 else NEGATIVE) for t, s in zip(truth, score, strict=True)
             if t != NEUTRAL]  # fmt: skip
    return selection.classification_metrics([t for t, _ in pairs], [p for _, p in pairs])


def ranking_metrics(truth: list[str], score: list[float]) -> tuple[float, float]:
    """(balanced accuracy by the score's sign, ROC AUC of the score) on polar reviews: both
    blind to the shop's mix of happy and unhappy reviews, which plain accuracy rewards."""
    pairs = [(t == POSITIVE, s) for t, s in zip(truth, score, strict=True) if t != NEUTRAL]
    y, s = [t for t, _ in pairs], [v for _, v in pairs]
    if len(set(y)) < 2:
        return float("nan"), float("nan")
    return (float(balanced_accuracy_score(y, [v >= 0 for v in s])),
            float(roc_auc_score(y, s)))  # fmt: skip


def measured(truth: dict[str, str], labels: dict[str, str], scores: dict[str, float]) -> dict:
    ids = sorted(truth)
    acc, f1 = selection.classification_metrics([truth[i] for i in ids],
                                                  [labels[i] for i in ids])  # fmt: skip
    b_acc, b_f1 = binary_metrics([truth[i] for i in ids], [scores[i] for i in ids])
    balanced, auc = ranking_metrics([truth[i] for i in ids], [scores[i] for i in ids])
    return {"accuracy": acc, "macro_f1": f1, "binary_accuracy": b_acc, "binary_macro_f1": b_f1,
            "binary_balanced_accuracy": balanced, "auc": auc}  # fmt: skip


def predict(model: PipelineModel, rows: DataFrame) -> tuple[dict[str, str], dict[str, float]]:
    """review id -> (label, score); unreadable text counts as a neutral prediction."""
    labels = {r[0]: NEUTRAL for r in rows.select(C.REVIEW_ID).collect()}
    scores = dict.fromkeys(labels, 0.0)
    ready = embeddings.with_vector(scorable(rows))
    out = model.transform(selection.by_length(ready)).transform(with_prediction)
    for r in out.select(C.REVIEW_ID, SENTIMENT, SENTIMENT_SCORE).collect():
        labels[r[0]], scores[r[0]] = r[1] or NEUTRAL, r[2] or 0.0
    return labels, scores


def vader(texts: dict[str, str]) -> tuple[dict[str, str], dict[str, float]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    scores = {i: analyser.polarity_scores(t)["compound"] for i, t in texts.items()}
    # The binary judgement uses VADER's own neutral band: compound >= 0.05 is positive.
    signed = {i: s - vader_sentiment.THRESHOLD for i, s in scores.items()}
    return {i: vader_sentiment.label(s) for i, s in scores.items()}, signed


class Shop:
    """One review set, embedded once, split once."""

    def __init__(self, name: str, pdf: pd.DataFrame, cfg: Config, spark) -> None:
        self.name = name
        reviews = with_nlp_text(spark.createDataFrame(pdf, SCHEMA), cfg.nlp).transform(with_label)
        # A review without text says nothing. Cached in the two partitions the encoder's
        # timing runs on, so that timing is the encoder's, not this text preparation's.
        self.reviews = reviews.where(F.col(TEXT) != "").repartition(2).cache()
        rows = self.reviews.select(C.REVIEW_ID, LABEL, C.REVIEW_TEXT, TEXT).collect()
        self.truth = {r[0]: r[1] for r in rows}
        self.texts = {r[0]: r[3] for r in rows}
        split = selection.split_holdout(self.reviews, TEST_SHARE, SEED)
        held = {r[0] for r in split.where("_holdout").select(C.REVIEW_ID).collect()}
        self.test_ids = held
        self.train_ids = set(self.truth) - held
        self.vectors: dict[str, DataFrame] = {}
        self.encode_seconds: dict[str, float] = {}
        self.encoder_start_seconds: dict[str, float] = {}

    def embedded(self, cfg: Config, spark) -> DataFrame:
        """Reviews with vectors of this encoder setting (computed once, cached)."""
        key = embeddings.version(cfg.nlp)
        if key not in self.vectors:
            # A Python worker loads each encoder setting once (about a second); timed apart,
            # so the rate below is the steady one a large lake sees.
            t0 = time.perf_counter()
            warm = self.reviews.limit(4).repartition(2)
            embeddings.embed(cfg.nlp, warm).write.format("noop").mode("overwrite").save()
            self.encoder_start_seconds[key] = time.perf_counter() - t0
            df = embeddings.embed(cfg.nlp, self.reviews).cache()
            t0 = time.perf_counter()
            df.count()
            self.encode_seconds[key] = time.perf_counter() - t0
            self.vectors[key] = df
        return self.vectors[key]

    def part(self, df: DataFrame, ids: set[str]) -> DataFrame:
        return df.where(F.col(C.REVIEW_ID).isin(*sorted(ids)))

    def majority(self) -> str:
        train = [self.truth[i] for i in self.train_ids]
        return max(CLASSES, key=train.count)


def evaluate(
    trained: review_model.Trained,
    cfg: Config,
    source: Shop,
    source_rows: DataFrame,
    targets: dict[str, tuple[Shop, DataFrame, set[str]]],
) -> dict[str, list[dict]]:
    """Every candidate at its chosen setting (refitted on all training rows), the served
    model, VADER and the majority class, measured on each target's rows."""
    prep = PipelineModel(stages=trained.model.stages[:4])
    train_rows = source.part(source_rows, source.train_ids)
    train_rows = embeddings.with_vector(train_rows).transform(prep.transform)
    models = {}
    for name in cfg.nlp.candidates:
        pick = selection.best([r for r in trained.candidates if r.name == name])
        fitted = selection.fit_candidate(name, cfg.nlp, train_rows, pick.reg_param)
        models[name] = (pick, PipelineModel(stages=[*prep.stages, *fitted.stages]))
    out: dict[str, list[dict]] = {}
    for where, (shop, rows, ids) in targets.items():
        truth = {i: shop.truth[i] for i in ids}
        part = shop.part(rows, ids)
        found = []
        for name, (pick, model) in models.items():
            labels, scores = predict(model, part)
            found.append({"model": name, "reg_param": pick.reg_param,
                          "chosen": name == trained.chosen.name,
                          **measured(truth, labels, scores)})  # fmt: skip
        labels, scores = vader({i: shop.texts[i] for i in ids})
        found.append({"model": "VADER (peer)", **measured(truth, labels, scores)})
        majority = source.majority()
        found.append(
            {
                "model": f"majority class ({majority})",
                **measured(
                    truth,
                    dict.fromkeys(ids, majority),
                    dict.fromkeys(ids, 1.0 if majority == POSITIVE else -1.0),
                ),
            }
        )
        out[where] = found
        for row in found:
            print(
                f"{source.name} -> {where}: {row['model']}: accuracy {row['accuracy']:.3f} "
                f"macro F1 {row['macro_f1']:.3f} binary {row['binary_accuracy']:.3f}"
            )
    return out


def direction(cfg: Config, spark, source: Shop, target: Shop) -> tuple[review_model.Trained, dict]:
    rows_s, rows_t = source.embedded(cfg, spark), target.embedded(cfg, spark)
    train = source.part(rows_s, source.train_ids)
    t0 = time.perf_counter()
    trained = review_model.train(spark, train, cfg)
    seconds = time.perf_counter() - t0
    measured_on = evaluate(trained, cfg, source, rows_s, {
        "in_domain": (source, rows_s, source.test_ids),
        "cross_domain": (target, rows_t, set(target.truth)),
    })  # fmt: skip
    return trained, {"train_seconds": seconds, "chosen": trained.chosen.key, **measured_on}


def throughput(cfg: Config, spark, shop: Shop, trained: review_model.Trained, repeat: int) -> float:
    """Reviews per second through the served pipeline from text: encoder + classifier +
    keyphrases + topics, `repeat` copies of the shop's reviews, written to a no-op sink."""
    many = shop.reviews
    for _ in range(repeat - 1):
        many = many.unionByName(shop.reviews)
    many = many.withColumn(C.REVIEW_ID, F.monotonically_increasing_id().cast("string"))
    many = scorable(many).repartition(2).cache()
    n = many.count()
    t0 = time.perf_counter()
    vectors = embeddings.embed(cfg.nlp, many)
    out = review_model.score(trained.model, vectors)
    out.select(SENTIMENT, C.PROBABILITY, C.KEYPHRASES, C.TOPIC_ID).write.format("noop").mode(
        "overwrite"
    ).save()
    seconds = time.perf_counter() - t0
    many.unpersist()
    return n / seconds


def sample_curve(cfg: Config, spark, source: Shop, target: Shop, sizes: list[int]) -> list[dict]:
    """How the served model's macro F1 grows with the training sample (nlp.max_training_reviews)."""
    rows_s, rows_t = source.embedded(cfg, spark), target.embedded(cfg, spark)
    train = source.part(rows_s, source.train_ids)
    n = len(source.train_ids)
    out = []
    for size in [s for s in sizes if s < n]:
        sample = selection.stratified_sample(train, size / n, cfg.nlp.seed)
        trained = review_model.train(spark, sample, cfg)
        row = {"train_reviews": size}
        for where, (shop, rows, ids) in {"in_domain": (source, rows_s, source.test_ids),
                                         "cross_domain": (target, rows_t, set(target.truth))
                                         }.items():  # fmt: skip
            labels, scores = predict(trained.model, shop.part(rows, ids))
            got = measured({i: shop.truth[i] for i in ids}, labels, scores)
            row |= {f"{where}_{k}": v for k, v in got.items()}
        print(f"sample {size}: {row}")
        out.append(row)
    return out


def score_curve(cfg: Config, spark, pairs: dict[str, tuple[Shop, Shop, str]]) -> list[dict]:
    """The served vector candidate refitted with each score-head penalty (SCORE_REGS), its
    label head at the chosen strength: the score's polarity in-domain and on the other shop."""
    out = []
    for value in SCORE_REGS:
        step = replace(cfg.nlp, score_reg_param=value)
        row: dict = {"score_reg_param": value}
        for key, (source, target, chosen) in pairs.items():
            name, _, reg = chosen.partition("_reg")
            if name not in VECTOR_CANDIDATES:
                continue
            rows_s, rows_t = source.embedded(cfg, spark), target.embedded(cfg, spark)
            train = embeddings.with_vector(source.part(rows_s, source.train_ids))
            model = selection.fit_candidate(name, step, train, float(reg))
            for where, (shop, rows, ids) in {"in_domain": (source, rows_s, source.test_ids),
                                             "cross_domain": (target, rows_t, set(target.truth))
                                             }.items():  # fmt: skip
                _, scores = predict(model, shop.part(rows, ids))
                got = measured({i: shop.truth[i] for i in ids}, dict.fromkeys(ids, NEUTRAL),
                               scores)  # fmt: skip
                row |= {f"{key}_{where}_{k}": got[k] for k in HEAD_METRICS}
        print(f"score head {row}")
        out.append(row)
    return out


def run(alexa: Path, clothing: Path, samples: list[int], repeat: int, overrides: list[str]) -> dict:
    cfg = load_config("local", lake="/tmp/insight-bench-sentiment", overrides=overrides)
    spark = build_spark(cfg)
    shops = {"alexa": Shop("alexa", load_alexa(alexa), cfg, spark),
             "clothing": Shop("clothing", load_clothing(clothing), cfg, spark)}  # fmt: skip
    a, c = shops["alexa"], shops["clothing"]
    trained, a_to_c = direction(cfg, spark, a, c)
    trained_c, c_to_a = direction(cfg, spark, c, a)
    score_heads = score_curve(cfg, spark, {
        "alexa_to_clothing": (a, c, trained.chosen.key),
        "clothing_to_alexa": (c, a, trained_c.chosen.key),
    })  # fmt: skip

    def served(rows: list[dict]) -> dict:
        return next(r for r in rows if r.get("chosen"))

    def peer(rows: list[dict], prefix: str) -> dict:
        return next(r for r in rows if r["model"].startswith(prefix))

    speed = []
    for precision, tokens in SPEED_STEPS:
        step = replace(cfg, nlp=replace(cfg.nlp, encoder_precision=precision,
                                        encoder_max_tokens=tokens))  # fmt: skip
        same = step == cfg  # the configured encoder: trained and measured above
        step_trained, alexa_step = (trained, a_to_c) if same else direction(step, spark, a, c)
        rps = throughput(step, spark, a, step_trained, repeat)
        speed.append({
            "encoder": f"{precision}, {tokens} tokens", "reviews_per_second": rps,
            "encode_reviews_per_second": len(a.truth) / a.encode_seconds[
                embeddings.version(step.nlp)],
            "encoder_start_seconds": a.encoder_start_seconds[embeddings.version(step.nlp)],
            **{f"in_domain_{k}": served(alexa_step["in_domain"])[k]
               for k in ("accuracy", "macro_f1", "binary_accuracy")},
            **{f"cross_domain_{k}": served(alexa_step["cross_domain"])[k]
               for k in ("accuracy", "macro_f1", "binary_accuracy")},
        })  # fmt: skip
        print(f"speed {speed[-1]}")
    ours_speed = next(s for s in speed if s["encoder"].startswith(
        f"{cfg.nlp.encoder_precision}, {cfg.nlp.encoder_max_tokens} "))  # fmt: skip
    texts = [a.texts[i] for i in sorted(a.test_ids)]

    def keys(rows: list[dict]) -> dict:
        ours, v = served(rows), peer(rows, "VADER")
        return {
            "model": ours["model"],
            "accuracy": ours["accuracy"],
            "macro_f1": ours["macro_f1"],
            "binary_accuracy": ours["binary_accuracy"],
            "binary_balanced_accuracy": ours["binary_balanced_accuracy"],
            "auc": ours["auc"],
            "vader_accuracy": v["accuracy"],
            "vader_macro_f1": v["macro_f1"],
            "vader_binary_accuracy": v["binary_accuracy"],
            "vader_binary_balanced_accuracy": v["binary_balanced_accuracy"],
            "vader_auc": v["auc"],
            "majority_accuracy": peer(rows, "majority")["accuracy"],
            "models": rows,
        }

    in_domain = keys(a_to_c["in_domain"])
    counts = {k: sum(1 for i in a.test_ids if a.truth[i] == k) for k in CLASSES}
    return {
        "stage": "sentiment",
        "data": {"alexa": str(alexa), "clothing": str(clothing)},
        "what": "3-class sentiment (1-2 negative, 3 neutral, 4-5 positive) on real reviews; "
        "ours trained with the nlp job's own training code; in-domain = held-out quarter of the "
        "training shop, cross-domain = every review of the other shop",
        "machine": machine(),
        "config": {
            "master": "local[2]",
            "seed": SEED,
            "test_share": TEST_SHARE,
            "candidates": list(cfg.nlp.candidates),
            "reg_params": list(cfg.nlp.reg_params),
            "score_reg_param": cfg.nlp.score_reg_param,
            "encoder_precision": cfg.nlp.encoder_precision,
            "encoder_max_tokens": cfg.nlp.encoder_max_tokens,
            "repeat": repeat,
        },
        "rows": {k: len(s.truth) for k, s in shops.items()},
        "train_rows": len(a.train_ids),
        "test_rows": len(a.test_ids),
        "test_labels": counts,
        "chosen": trained.chosen.key,
        **{k: v for k, v in in_domain.items() if k != "models"},
        "reviews_per_second": ours_speed["reviews_per_second"],
        "encode_reviews_per_second": ours_speed["encode_reviews_per_second"],
        "vader_reviews_per_second": vader_sentiment.throughput(texts),
        "models": in_domain["models"],
        "cross_domain": {
            "alexa_to_clothing": keys(a_to_c["cross_domain"]),
            "clothing_to_alexa": keys(c_to_a["cross_domain"]),
        },
        "clothing_in_domain": keys(c_to_a["in_domain"]),
        "speed_steps": speed,
        "score_heads": score_heads,
        "training_sample": [
            *sample_curve(cfg, spark, a, c, samples),
            {
                "train_reviews": len(a.train_ids),
                **{
                    f"{where}_{k}": v
                    for where in ("in_domain", "cross_domain")
                    for k, v in served(a_to_c[where]).items()
                    if k in METRICS
                },
            },
        ],
    }


def load_chinese(path: Path) -> pd.DataFrame:
    """ChnSentiCorp: `label,review` lines without a header; 1 positive, 0 negative. As
    shop reviews: positive 5 stars, negative 1 star, one group (one shop)."""
    raw = pd.read_csv(path, header=None, names=["label", "review"], keep_default_na=False)
    return pd.DataFrame({
        C.REVIEW_ID: [f"H{i:05d}" for i in range(len(raw))], C.TITLE: None,
        C.REVIEW_TEXT: raw["review"].astype(str),
        C.RATING: raw["label"].map({1: 5, 0: 1}).astype(int), selection.GROUP: "hotel",
    })  # fmt: skip


def run_chinese(path: Path, overrides: list[str]) -> dict:
    """Our Chinese model (the nlp job's training code) and SnowNLP on the same held-out
    quarter of the hotel reviews."""
    from bench.peers import snownlp_sentiment

    cfg = load_config("local", lake="/tmp/insight-bench-sentiment-zh", overrides=overrides)
    spark = build_spark(cfg)
    reviews = with_nlp_text(spark.createDataFrame(load_chinese(path), SCHEMA), cfg.nlp)
    reviews = reviews.transform(with_label).cache()
    languages = {r[0]: r[1] for r in reviews.groupBy(LANGUAGE).count().collect()}
    usable = scorable(reviews).where(F.col(LANGUAGE) == ZH)
    split = selection.split_holdout(usable, TEST_SHARE, SEED).cache()
    rows = split.select(C.REVIEW_ID, LABEL, TEXT, "_holdout").collect()
    truth = {r[0]: r[1] for r in rows if r[3]}
    texts = {r[0]: r[2] for r in rows if r[3]}
    t0 = time.perf_counter()
    trained = review_model.train_zh(split.where(~F.col("_holdout")).drop("_holdout"), cfg)
    train_seconds = time.perf_counter() - t0
    held = split.where("_holdout").drop("_holdout").repartition(2).cache()
    held.count()
    t0 = time.perf_counter()
    scored = review_model.score_zh(trained.model, held, cfg.nlp.keyphrases_per_review)
    got = {r[0]: (r[1], r[2], r[3]) for r in scored.select(
        C.REVIEW_ID, SENTIMENT, SENTIMENT_SCORE, C.KEYPHRASES).collect()}  # fmt: skip
    ours_seconds = time.perf_counter() - t0
    ids = sorted(truth)
    truth_list = [truth[i] for i in ids]
    accuracy, macro_f1 = selection.classification_metrics(
        truth_list, [got[i][0] or NEUTRAL for i in ids]
    )
    b_acc, b_f1 = binary_metrics(truth_list, [got[i][1] or 0.0 for i in ids])
    peer, peer_rps = snownlp_sentiment.scores([texts[i] for i in ids])
    p_acc, p_f1 = selection.classification_metrics(
        truth_list, [POSITIVE if s >= snownlp_sentiment.THRESHOLD else NEGATIVE for s in peer]
    )
    majority = max((POSITIVE, NEGATIVE), key=truth_list.count)
    examples = [{"review": texts[i][:60], "truth": truth[i], "sentiment": got[i][0],
                 "keyphrases": [p["phrase"] for p in got[i][2]]} for i in ids[:5]]  # fmt: skip
    result = {
        "data": str(path),
        "what": "binary sentiment of real hotel reviews (ChnSentiCorp); held-out stratified "
        "quarter; ours trained on the rest with the nlp job's Chinese training code",
        "machine": machine(),
        "config": {
            "master": "local[2]",
            "seed": SEED,
            "test_share": TEST_SHARE,
            "zh_reg_params": list(cfg.nlp.zh_reg_params),
            "zh_hash_features": cfg.nlp.zh_hash_features,
            "zh_min_doc_freq": cfg.nlp.zh_min_doc_freq,
        },
        "rows": len(rows),
        "languages": languages,
        "train_rows": len(rows) - len(ids),
        "test_rows": len(ids),
        "test_labels": {k: truth_list.count(k) for k in (POSITIVE, NEGATIVE)},
        "chosen": trained.chosen.key,
        "candidates": [
            {"model": r.key, "inner_accuracy": r.accuracy, "inner_macro_f1": r.macro_f1}
            for r in trained.candidates
        ],
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "binary_accuracy": b_acc,
        "binary_macro_f1": b_f1,
        "snownlp_accuracy": p_acc,
        "snownlp_macro_f1": p_f1,
        "majority_accuracy": truth_list.count(majority) / len(truth_list),
        "reviews_per_second": len(ids) / ours_seconds,
        "snownlp_reviews_per_second": peer_rps,
        "train_seconds": train_seconds,
        "examples": examples,
    }
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "examples")},
                     indent=1, default=str))  # fmt: skip
    return result


def render_chinese(p: dict) -> str:
    rows = [
        {"model": f"ours ({p['chosen']})", "accuracy": p["accuracy"], "macro_f1": p["macro_f1"],
         "rps": p["reviews_per_second"]},
        {"model": "SnowNLP (peer)", "accuracy": p["snownlp_accuracy"],
         "macro_f1": p["snownlp_macro_f1"], "rps": p["snownlp_reviews_per_second"]},
        {"model": "majority class (positive)", "accuracy": p["majority_accuracy"]},
    ]  # fmt: skip
    cols = [("model", "model"), ("accuracy", "accuracy"), ("macro_f1", "macro F1"),
            ("rps", "reviews/s")]  # fmt: skip
    m = p["machine"]
    return (
        f"### Chinese: ChnSentiCorp hotel reviews, held-out quarter ({p['test_rows']:,} "
        f"reviews {p['test_labels']}), trained on {p['train_rows']:,}\n\n{table(rows, cols)}\n\n"
        f"Measured {m['measured_at']} on {m['cores']} cores: ours on Spark `local[2]` "
        "(jieba segmentation + model), SnowNLP in one Python process. Label from the "
        "model's class (ours) and from sentiments >= 0.5 (SnowNLP)."
    )


def render(payload: dict, readme: bool = True) -> None:
    cols = [("model", "model"), ("chosen", "served"), ("accuracy", "accuracy"),
            ("macro_f1", "macro F1"), ("binary_accuracy", "binary acc."),
            ("binary_macro_f1", "binary F1"), ("binary_balanced_accuracy", "binary bal. acc."),
            ("auc", "AUC")]  # fmt: skip
    p, m = payload, payload["machine"]
    parts = [f"### In-domain: Alexa held-out quarter ({p['test_rows']:,} reviews "
             f"{p['test_labels']}), trained on {p['train_rows']:,}\n\n{table(p['models'], cols)}",
             f"### In-domain: clothing held-out quarter\n\n"
             f"{table(p['clothing_in_domain']['models'], cols)}"]  # fmt: skip
    for key, title in (
        ("alexa_to_clothing", "trained on Alexa, measured on all clothing reviews"),
        ("clothing_to_alexa", "trained on clothing, measured on all Alexa reviews"),
    ):
        parts.append(
            f"### Cross-domain: {title}\n\n{table(p['cross_domain'][key]['models'], cols)}"
        )
    speed_cols = [("encoder", "encoder"), ("reviews_per_second", "reviews/s end to end"),
                  ("encode_reviews_per_second", "reviews/s encoder"),
                  ("encoder_start_seconds", "encoder start (s)"),
                  ("in_domain_accuracy", "Alexa acc."), ("in_domain_macro_f1", "Alexa F1"),
                  ("cross_domain_binary_accuracy", "Alexa->clothing binary acc.")]  # fmt: skip
    parts.append(
        f"### Speed steps (Alexa, local[2]) and what each costs\n\n"
        f"{table(p['speed_steps'], speed_cols)}"
    )
    if p.get("score_heads"):
        head_cols = [
            ("score_reg_param", "score head penalty"),
            *[
                (f"{d}_{w}_{k}", f"{label} {w.replace('_', '-')} {name}")
                for d, label in DIRECTIONS.items()
                for w in ("in_domain", "cross_domain")
                for k, name in (("binary_balanced_accuracy", "bal. acc."), ("auc", "AUC"))
            ],
        ]
        parts.append(
            f"### The score head's penalty (`nlp.score_reg_param`, served: "
            f"{p['config']['score_reg_param']}), label head as chosen\n\n"
            f"{table(p['score_heads'], head_cols)}"
        )  # fmt: skip
    sample_cols = [
        ("train_reviews", "training reviews"),
        ("in_domain_macro_f1", "Alexa F1"),
        ("in_domain_accuracy", "Alexa acc."),
        ("cross_domain_binary_accuracy", "Alexa->clothing binary acc."),
    ]
    parts.append(
        f"### Training sample size (served model, trained on Alexa)\n\n"
        f"{table(p['training_sample'], sample_cols)}"
    )
    facts = (
        f"Measured {m['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB "
        f"({m['cpu']}); ours on Spark `local[2]` ({p['config']['encoder_precision']} encoder, "
        f"{p['config']['encoder_max_tokens']} tokens: {p['reviews_per_second']:,.0f} reviews/s "
        f"end to end), VADER in one Python process ({p['vader_reviews_per_second']:,.0f} "
        "reviews/s). Binary: reviews with 1-2 or 4-5 stars, judged by the sign of the score. "
        "Encoder: MiniLM vectors and VADER scores of every Alexa review into a cache, once the "
        "workers have loaded the encoder (encoder start: loading it, timed apart)."
    )
    if p.get("chinese"):
        facts = f"{facts}\n\n{render_chinese(p['chinese'])}"
    md = "\n\n".join(parts)
    (RESULTS / "sentiment.md").write_text(f"# Sentiment benchmark\n\n{md}\n\n{facts}\n")
    if readme:
        update_readme("sentiment", f"{md}\n\n{facts}")
    print(md)
    print(facts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--alexa", type=Path, default=ALEXA, help="amazon_alexa.tsv path")
    parser.add_argument("--clothing", type=Path, default=CLOTHING,
                        help="womens_clothing_reviews_1000.csv path")  # fmt: skip
    parser.add_argument(
        "--samples",
        default="250,500,1000",
        help="training sample sizes for the sample curve (the full set is added)",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="copies of the data scored for throughput"
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE",
        help="config override, e.g. --conf 'nlp.candidates=[minilm_logreg]'",
    )  # fmt: skip
    parser.add_argument("--chinese", type=Path, default=CHINESE,
                        help="ChnSentiCorp_htl_all.csv path")  # fmt: skip
    parser.add_argument(
        "--only", choices=("en", "zh"),
        help="only the English part (about 20 min) or only the Chinese one (minutes); "
        "--only zh merges its results into sentiment.json and leaves README.md alone",
    )  # fmt: skip
    parser.add_argument("--render", action="store_true", help="only re-render from sentiment.json")
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads((RESULTS / "sentiment.json").read_text()))
        return 0
    if args.only != "en" and not args.chinese.is_file():
        parser.error(f"--chinese {args.chinese}: no such file (the shared data folder)")
    if args.only == "zh":
        merged = json.loads((RESULTS / "sentiment.json").read_text())
        merged["chinese"] = run_chinese(args.chinese, args.conf)
        write_results("sentiment", merged)
        render(merged, readme=False)
        return 0
    for flag, path in (("--alexa", args.alexa), ("--clothing", args.clothing)):
        if not path.is_file():
            parser.error(
                f"{flag} {path}: no such file (the shared data folder sits beside the repo)"
            )
    samples = [int(s) for s in args.samples.split(",") if s.strip()]
    payload = run(args.alexa, args.clothing, samples, args.repeat, args.conf)
    if args.only != "en":
        payload["chinese"] = run_chinese(args.chinese, args.conf)
    else:  # keep the Chinese results of an earlier run
        payload["chinese"] = json.loads((RESULTS / "sentiment.json").read_text()).get("chinese")
    write_results("sentiment", payload)
    render(payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
