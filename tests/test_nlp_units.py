"""Review intelligence building blocks on hand-built frames: text status for hostile input,
labels, the split, the metrics, and the trend and alert rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from pyspark.sql import functions as F

from insight import columns as C
from insight.config import load_config
from insight.nlp import text, topics, trends
from insight.nlp.selection import classification_metrics, split_holdout
from insight.nlp.sentiment import LABEL, rating_label
from insight.nlp.text import TEXT

CFG = load_config("local", lake="/tmp/unused").nlp
# Stored-vector rows as the vector candidates read them: vector and lexicon scores.
_VECTOR_ROWS = (
    f"{C.REVIEW_ID} string, {TEXT} string, {LABEL} string, embedding array<float>, "
    "lexicon_compound double, lexicon_positive double, lexicon_negative double"
)

HOSTILE = {
    # name: (title, text, expected status)
    "plain": ("Great", "Works well, battery lasts.", text.OK),
    "empty": (None, "", text.EMPTY),
    "null": (None, None, text.EMPTY),
    "whitespace": ("  ", " \t\n  ", text.EMPTY),
    "emoji": (None, "😀😀👍🔥", text.NO_WORDS),
    "punctuation": ("!!!", "?!... 12345", text.NO_WORDS),
    "cyrillic": (None, "Очень хороший товар, рекомендую всем", text.NON_LATIN),
    "chinese": (None, "质量很好，非常满意", text.OK),
    "japanese": (None, "とても良い商品です", text.NON_LATIN),
    "html": (None, "<p>Really <b>good</b> &amp; cheap</p>", text.MARKUP_REMOVED),
    "script": (None, "<script>alert('x')</script>Nice lamp", text.MARKUP_REMOVED),
    "script_only": (None, "<script>document.write('hello there')</script>", text.EMPTY),
    "huge": (None, "good " * 20_000, text.TRUNCATED),
}


def test_every_hostile_text_gets_a_defined_status(spark):
    rows = [(k, t, b) for k, (t, b, _) in HOSTILE.items()]
    df = spark.createDataFrame(rows, f"k string, {C.TITLE} string, {C.REVIEW_TEXT} string")
    out = {r["k"]: r for r in text.with_nlp_text(df, CFG).collect()}
    assert set(out) == set(HOSTILE)  # no row dropped
    for k, (_, _, expected) in HOSTILE.items():
        assert out[k][text.TEXT_STATUS] == expected, k
    assert len(out["huge"][text.TEXT]) == CFG.max_text_chars
    assert out["html"][text.TEXT] == "Really good & cheap"
    assert "alert" not in out["script"][text.TEXT] and out["script"][text.TEXT] == "Nice lamp"
    assert out["plain"][text.TEXT] == "Great. Works well, battery lasts."


def test_ratings_map_to_three_labels(spark):
    df = spark.createDataFrame([(r,) for r in (1, 2, 3, 4, 5, None, 7)], "rating int")
    got = [r[0] for r in df.select(rating_label(F.col("rating"))).collect()]
    assert got == ["negative", "negative", "neutral", "positive", "positive", None, None]


def test_holdout_split_is_stratified_and_fixed(spark):
    rows = [(f"R{i:04d}", "positive" if i % 10 else "negative") for i in range(1000)]
    df = spark.createDataFrame(rows, f"{C.REVIEW_ID} string, {LABEL} string")
    first = split_holdout(df, 0.2, seed=3)
    counts = {
        (r[LABEL], r["_holdout"]): r["count"]
        for r in first.groupBy(LABEL, "_holdout").count().collect()
    }
    assert counts == {
        ("positive", True): 180, ("positive", False): 720,
        ("negative", True): 20, ("negative", False): 80,
    }  # fmt: skip
    held = {r[0] for r in first.where("_holdout").select(C.REVIEW_ID).collect()}
    again = {r[0] for r in split_holdout(df, 0.2, seed=3).where("_holdout").collect()}
    other = {r[0] for r in split_holdout(df, 0.2, seed=4).where("_holdout").collect()}
    assert held == again and held != other


def test_classification_metrics_match_hand_computation():
    truth = ["positive", "positive", "negative", "neutral", "neutral"]
    pred = ["positive", "negative", "negative", "neutral", "positive"]
    accuracy, macro_f1 = classification_metrics(truth, pred)
    assert accuracy == pytest.approx(3 / 5)
    # F1: positive 2*.5*.5/1 = .5; negative 2*.5*1/1.5 = 2/3; neutral 2*1*.5/1.5 = 2/3.
    assert macro_f1 == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)


def test_truth_probability_reads_each_kind_of_model_output(spark):
    from pyspark.ml.linalg import Vectors

    from insight.nlp.sentiment import (
        LR_PROBABILITY,
        PREDICTION,
        PROBABILITY,
        SENTIMENT,
        truth_probability,
    )  # fmt: skip

    # Logistic regression: the true class's own probability; a class past the end of a
    # shorter vector (trained without positive reviews) got none.
    lr = spark.createDataFrame(
        [("neutral", Vectors.dense([0.2, 0.7, 0.1])), ("negative", Vectors.dense([0.2, 0.7, 0.1])),
         ("positive", Vectors.dense([0.6, 0.4]))],
        [LABEL, LR_PROBABILITY],
    )  # fmt: skip
    assert [r[0] for r in lr.select(truth_probability(lr)).collect()] == pytest.approx(
        [0.7, 0.2, 0.0]
    )
    # Annotations: ClassifierDL's per-class probability, else Vivekn's confidence (its label
    # right) or the rest of it shared by the other two classes (its label wrong).
    annotated = spark.createDataFrame(
        [("negative", [({"negative": "0.8", "positive": "0.2"},)], "negative", 0.8),
         ("positive", [({"confidence": "0.9"},)], "positive", 0.9),
         ("neutral", [({"confidence": "0.9"},)], "positive", 0.9)],
        f"{LABEL} string, {PREDICTION} array<struct<metadata:map<string,string>>>, "
        f"{SENTIMENT} string, {PROBABILITY} double",
    )  # fmt: skip
    got = [r[0] for r in annotated.select(truth_probability(annotated)).collect()]
    assert got == pytest.approx([0.8, 0.9, 0.05])


INSIGHT_COLS = (
    f"{C.REVIEW_ID} string, {C.PRODUCT_ID} string, {C.BRAND} string, {C.REVIEW_DATE} date, "
    f"{C.SENTIMENT} string, {C.SENTIMENT_SCORE} double, "
    f"{C.KEYPHRASES} array<struct<phrase:string,score:double>>"
)


def insights(spark, rows):
    return spark.createDataFrame(rows, INSIGHT_COLS)


def kp(*phrases):
    return [(p, 0.1 * (i + 1)) for i, p in enumerate(phrases)]


def test_daily_sentiment_counts_shares_and_top_keyphrases(spark):
    d = date(2025, 6, 2)
    rows = [
        ("a", "P1", "Acme", d, "positive", 0.9, kp("battery life", "sound")),
        ("b", "P1", "Acme", d, "negative", -0.8, kp("battery life", "strap")),
        ("c", "P1", "Acme", d, "unknown", None, []),
        ("d", "P2", "Bolt", d, "neutral", 0.0, kp("size")),
    ]
    out = {
        r[C.PRODUCT_ID]: r
        for r in trends.product_sentiment_daily(insights(spark, rows), top_n=2).collect()
    }
    p1 = out["P1"]
    assert p1["reviews"] == 2  # the unknown review says nothing about the product
    assert p1["negative_share"] == 0.5 and p1["positive_share"] == 0.5
    assert p1["mean_sentiment"] == pytest.approx(0.05)
    assert p1["top_keyphrases"][0] == "battery life" and len(p1["top_keyphrases"]) == 2
    assert out["P2"]["reviews"] == 1 and out["P2"]["negative_share"] == 0.0


def test_weekly_keyphrases_rank_praise_and_complaints_per_product_and_brand(spark):
    mon = date(2025, 6, 2)
    rows = [
        ("a", "P1", "Acme", mon, "positive", 0.9, kp("sound", "battery")),
        ("b", "P1", "Acme", mon + timedelta(days=2), "positive", 0.8, kp("sound")),
        ("c", "P1", "Acme", mon + timedelta(days=3), "negative", -0.9, kp("battery", "strap")),
        ("d", "P1", "Acme", mon + timedelta(days=4), "negative", -0.7, kp("strap")),
        ("e", "P1", "Acme", mon + timedelta(days=7), "negative", -0.7, kp("strap")),  # next week
    ]
    out = trends.keyphrase_weekly(insights(spark, rows), top_n=1)
    week = {
        r["keyphrase"]: r
        for r in out.where(f"{C.LEVEL} = 'product' AND {C.WEEK_START} = '{mon}'").collect()
    }
    assert week["sound"]["praise_rank"] == 1 and week["sound"]["complaint_rank"] is None
    assert week["strap"]["complaint_rank"] == 1 and week["strap"]["negative_mentions"] == 2
    assert week["battery"]["mentions"] == 2 and week["battery"]["praise_rank"] is None
    brand = out.where(f"{C.LEVEL} = 'brand' AND {C.ENTITY_ID} = 'Acme'").count()
    assert brand == out.where(f"{C.LEVEL} = 'product'").count() == 4


def test_alert_fires_only_on_a_clear_rise_in_negative_share(spark):
    as_of = date(2025, 6, 30)
    rule = CFG.alerts  # 7-day window, 28-day baseline, >= 5 reviews, +0.15 and x1.5
    rows = []

    def add(product, day, sentiment, n):
        for i in range(n):
            rid = f"{product}-{day}-{sentiment}-{i}"
            rows.append((rid, product, "Acme", day, sentiment, 0.0, []))

    recent, base = as_of - timedelta(days=2), as_of - timedelta(days=20)
    add("RISE", base, "positive", 18)  # baseline 2/20 = 0.1 negative
    add("RISE", base, "negative", 2)
    add("RISE", recent, "negative", 3)  # recent 3/6 = 0.5 negative
    add("RISE", recent, "positive", 3)
    add("STEADY", base, "negative", 10)  # always half negative: no rise
    add("STEADY", base, "positive", 10)
    add("STEADY", recent, "negative", 3)
    add("STEADY", recent, "positive", 3)
    add("FEW", recent, "negative", 4)  # all negative, but only 4 reviews
    add("OLD", as_of - timedelta(days=40), "negative", 9)  # outside both windows
    add("FUTURE", as_of + timedelta(days=1), "negative", 9)  # after as_of
    alerts = trends.sentiment_alerts(insights(spark, rows), as_of, rule).collect()
    fired = {(r[C.LEVEL], r[C.ENTITY_ID]) for r in alerts}
    assert ("product", "RISE") in fired
    assert not {("product", p) for p in ("STEADY", "FEW", "OLD", "FUTURE")} & fired
    rise = next(r for r in alerts if r[C.ENTITY_ID] == "RISE")
    assert rise["recent_reviews"] == 6 and rise["recent_negative_share"] == 0.5
    assert rise["baseline_negative_share"] == pytest.approx(0.1)
    assert "7 days" in rise["rule"] and rise[C.AS_OF] == as_of


def test_balancing_oversamples_every_label_to_the_largest(spark):
    from insight.nlp.sentiment import balanced, training_rows

    rows = [(f"R{i}", "positive") for i in range(90)] + [(f"N{i}", "negative") for i in range(20)]
    rows += [(f"U{i}", "neutral") for i in range(7)]
    df = spark.createDataFrame(rows, f"{C.REVIEW_ID} string, {LABEL} string")
    counts = {r[LABEL]: r["count"] for r in balanced(df, 1).groupBy(LABEL).count().collect()}
    assert counts["positive"] == 90
    assert abs(counts["negative"] - 90) <= 10 and abs(counts["neutral"] - 90) <= 7
    # Every original row is kept; the result is the same for the same seed.
    assert balanced(df, 1).select(C.REVIEW_ID).distinct().count() == len(rows)
    assert sorted(balanced(df, 1).collect()) == sorted(balanced(df, 1).collect())
    vivekn = {r[LABEL] for r in training_rows("vivekn", df, 1).collect()}
    assert vivekn == {"positive", "negative"}


def test_topics_are_the_same_however_the_reviews_are_stored(spark):
    """A re-run after a crash reads the same reviews from other files: the vocabulary (ties
    included) and the LDA topics must not depend on partitioning or row order."""
    import random

    rng = random.Random(5)
    themes = [["battery", "charge", "hours", "power"], ["screen", "bright", "colour", "pixel"],
              ["delivery", "late", "box", "courier"]]  # fmt: skip
    every = [w for theme in themes for w in theme]
    rows = []
    for i in range(240):
        words = rng.choices(themes[i % 3], k=6) + rng.choices(every, k=2)
        rows.append((f"R{i:04d}", words))
    rows.append(("R9999", ["solo"]))  # under min_doc_freq: not in the vocabulary
    df = spark.createDataFrame(rows, f"{C.REVIEW_ID} string, {topics.WORDS} array<string>")
    cfg = replace(CFG, topics=3, lda_max_iter=10, vocab_size=10)

    def fitted(frame):
        counter, lda = topics.fit_topics(frame, cfg, C.REVIEW_ID)
        return counter.vocabulary, lda.topicsMatrix().toArray()

    vocab, matrix = fitted(df.coalesce(1))
    # The CLI's session has other shuffle partitions than this test session's.
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        shuffled_vocab, shuffled = fitted(df.orderBy(F.rand(3)).repartition(3))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    assert len(vocab) == 10 and "solo" not in vocab
    # Most frequent first, ties by term.
    counts = {w: sum(ws.count(w) for _, ws in rows) for w in vocab}
    assert vocab == sorted(vocab, key=lambda w: (-counts[w], w))
    assert shuffled_vocab == vocab
    # LDA sums partition statistics in task completion order: equal up to float rounding.
    assert matrix.shape == (10, 3) and np.allclose(shuffled, matrix, rtol=1e-9, atol=0)


def test_selection_prefers_the_worse_of_two_checks():
    from insight.nlp.selection import CandidateResult, best

    def result(name, in_domain, unseen, loss, unseen_loss):
        return CandidateResult(name, 0.1, in_domain, in_domain, loss, unseen, unseen,
                               unseen_loss, 1.0, 100.0, None)  # fmt: skip

    memoriser = result("memoriser", 0.95, 0.55, 0.15, 0.90)
    steady = result("steady", 0.85, 0.80, 0.40, 0.45)
    assert best([memoriser, steady]) is steady
    # With one check only, the memoriser would have won: the unseen groups decide here.
    assert min([memoriser, steady], key=lambda r: r.log_loss) is memoriser
    # Log loss decides, not macro F1 (a few neutral reviews can swing it); F1 breaks ties.
    lucky = result("lucky", 0.90, 0.85, 0.50, 0.60)
    assert best([lucky, steady]) is steady
    twin = result("twin", 0.86, 0.81, 0.40, 0.45)
    assert best([steady, twin]) is twin


def test_label_thresholds_lean_half_way_to_the_shops_mix():
    from insight.nlp.sentiment import LABEL_PRIOR_POWER, label_thresholds

    counts = {"negative": 50, "neutral": 50, "positive": 900}
    t = np.array(label_thresholds(counts))
    share = np.array([0.05, 0.05, 0.9])
    # Spark predicts argmax p / t: the same as argmax p x share ^ power for any p.
    rng = np.random.default_rng(3)
    p = rng.dirichlet([1, 1, 1], size=500)
    assert ((p / t).argmax(1) == (p * share**LABEL_PRIOR_POWER).argmax(1)).all()
    assert 0 < LABEL_PRIOR_POWER < 1  # neither the balanced nor the shop's own decision
    # A balanced-probability tie goes to the common class, a clear complaint stays negative.
    assert (np.array([0.34, 0.32, 0.34]) / t).argmax() == 2
    assert (np.array([0.85, 0.05, 0.1]) / t).argmax() == 0
    # Classes up to the last one present; one missing in between gets a neutral threshold.
    assert label_thresholds({"negative": 5, "neutral": 5}) == [2**0.5, 2**0.5]
    assert label_thresholds({"negative": 1, "positive": 3})[1] == 1.0


def test_held_out_groups_take_a_share_in_a_seeded_order_never_all():
    from insight.nlp.selection import held_out_groups

    sizes = {"a": 50, "b": 30, "c": 15, "d": 5}
    held = held_out_groups(sizes, 0.2, seed=1)
    assert held and set(held) < set(sizes)
    assert sum(sizes[g] for g in held) >= 20 or len(held) == len(sizes) - 1
    assert held_out_groups(sizes, 0.2, seed=1) == held
    assert held_out_groups({"only": 10}, 0.2, seed=1) == []
    assert len(held_out_groups({"a": 1, "b": 1}, 0.99, seed=3)) == 1


def test_a_candidate_that_overfits_the_shops_groups_loses_the_selection(spark):
    """Constructed: the encoder vector carries the sentiment (about 90% separable) in every
    group. The lexicon features fit the labels exactly only as a pair whose second member is
    set in one group alone (the held-out one): on a random share they are perfect, but
    trained without that group the candidate learns the first member, which is inverted
    there. It wins the random held-out share and must still lose the selection, which judges
    the worse of the two checks."""
    from insight.nlp import embeddings
    from insight.nlp.model import train
    from insight.nlp.selection import GROUP, held_out_groups

    rng = np.random.default_rng(7)
    sizes = {"kitchen": 120, "garden": 120, "toys": 120}
    cfg_nlp = replace(CFG, candidates=("minilm_logreg", "minilm_lexicon_logreg"),
                      reg_params=(0.01,), topics=2, lda_max_iter=5, holdout_share=0.3)  # fmt: skip
    flipped = set(held_out_groups(sizes, cfg_nlp.holdout_share, cfg_nlp.seed))
    assert flipped
    words = ["fine", "box", "colour", "size", "price", "delivery"]
    rows = []
    for group, n in sizes.items():
        for i in range(n):
            label = "positive" if i % 2 else "negative"
            sign = 1.0 if label == "positive" else -1.0
            vector = [sign + rng.normal(0, 0.8), *rng.normal(0, 1, 7)]
            odd = group in flipped
            compound, negative = (-sign, 2 * sign) if odd else (sign, 0.0)
            text_ = " ".join(rng.choice(words, 5))
            rows.append((f"{group}-{i}", text_, label, group, [float(x) for x in vector],
                         compound, 0.0, negative))  # fmt: skip
    lexicon_cols = ", ".join(f"{c} double" for c in embeddings.LEXICON)
    schema = (f"{C.REVIEW_ID} string, {TEXT} string, {LABEL} string, {GROUP} string, "
              f"{embeddings.EMBEDDING} array<float>, {lexicon_cols}")  # fmt: skip
    cfg = replace(load_config("local", lake="/tmp/unused"), nlp=cfg_nlp)
    trained = train(spark, spark.createDataFrame(rows, schema), cfg)
    got = {r.name: r for r in trained.candidates}
    lexicon, plain = got["minilm_lexicon_logreg"], got["minilm_logreg"]
    assert lexicon.macro_f1 > plain.macro_f1  # it looks better on the shop's own reviews...
    assert lexicon.cross_macro_f1 < 0.5 < plain.cross_macro_f1  # ...and fails unseen groups
    assert lexicon.log_loss < plain.log_loss and lexicon.cross_log_loss > plain.cross_log_loss
    assert trained.chosen.name == "minilm_logreg"
    assert set(trained.held_out_groups) == flipped


def test_the_score_head_has_its_own_penalty_and_the_label_head_keeps_the_chosen_one(spark):
    """Two heads on one feature vector: `sentiment` from the label head at `reg_param`,
    `sentiment_score` from the score head at `nlp.score_reg_param`. Penalised into flatness,
    the score head says nothing while the labels stay right; at the same penalty it agrees."""
    from insight.nlp import embeddings
    from insight.nlp.selection import fit_candidate
    from insight.nlp.sentiment import SENTIMENT, SENTIMENT_SCORE, with_prediction

    rng = np.random.default_rng(11)
    rows = []
    for i in range(240):
        label = ("negative", "neutral", "positive")[i % 3]
        centre = {"negative": -2.0, "neutral": 0.0, "positive": 2.0}[label]
        vector = [centre + rng.normal(0, 0.4), *rng.normal(0, 1, 5)]
        rows.append((f"r{i}", "some text", label, [float(x) for x in vector], 0.0, 0.0, 0.0))
    df = spark.createDataFrame(rows, _VECTOR_ROWS).transform(embeddings.with_vector)

    def scored(score_reg_param: float) -> list:
        cfg_nlp = replace(CFG, score_reg_param=score_reg_param)
        model = fit_candidate("minilm_logreg", cfg_nlp, df, reg_param=0.01)
        out = model.transform(df).transform(with_prediction)
        return out.select(LABEL, SENTIMENT, SENTIMENT_SCORE).collect()

    flat = scored(1000.0)
    assert sum(r[LABEL] == r[SENTIMENT] for r in flat) / len(flat) > 0.9
    assert max(abs(r[SENTIMENT_SCORE]) for r in flat) < 0.05
    same = [r for r in scored(0.01) if r[LABEL] != "neutral"]
    agree = sum((r[SENTIMENT_SCORE] > 0) == (r[LABEL] == "positive") for r in same)
    assert agree / len(same) > 0.9


def test_the_score_reads_the_lexicon_whichever_label_head_is_chosen(spark):
    """Constructed: the vector is noise and only the lexicon knows the polarity. The label
    head of `minilm_logreg` (vector only) cannot tell the classes apart; its score must still
    follow the lexicon, because the score head reads vector and lexicon in every candidate
    (its sign must not depend on which label head the selection picked)."""
    from insight.nlp import embeddings
    from insight.nlp.selection import fit_candidate
    from insight.nlp.sentiment import SENTIMENT, SENTIMENT_SCORE, with_prediction

    rng = np.random.default_rng(5)
    rows = []
    for i in range(300):
        label = "positive" if i % 2 else "negative"
        compound = (0.6 if label == "positive" else -0.6) + rng.normal(0, 0.2)
        vector = [float(x) for x in rng.normal(0, 1, 6)]
        rows.append((f"r{i}", "some text", label, vector, compound, max(compound, 0.0),
                     max(-compound, 0.0)))  # fmt: skip
    df = spark.createDataFrame(rows, _VECTOR_ROWS).transform(embeddings.with_vector)
    model = fit_candidate("minilm_logreg", replace(CFG, score_reg_param=0.01), df, reg_param=0.01)
    got = model.transform(df).transform(with_prediction).select(LABEL, SENTIMENT, SENTIMENT_SCORE)
    got = got.collect()
    labels_right = sum(r[LABEL] == r[SENTIMENT] for r in got) / len(got)
    signs_right = sum((r[SENTIMENT_SCORE] > 0) == (r[LABEL] == "positive") for r in got) / len(got)
    assert labels_right < 0.75  # the vector alone barely separates them...
    assert signs_right > 0.95  # ...the score, reading the lexicon too, does


def test_words_carry_what_the_vector_misses_into_the_words_label_and_every_score(spark):
    """Constructed: vector and lexicon are noise; only the words say it ("refund" in every
    unhappy review, "delighted" in every happy one, among shared filler). The words
    candidate's label must find it, the lexicon one cannot, and the score of both must
    follow the words, since the score head reads them whichever label head is chosen."""
    from insight.nlp import embeddings
    from insight.nlp.selection import fit_candidate
    from insight.nlp.sentiment import SENTIMENT, SENTIMENT_SCORE, with_prediction

    rng = np.random.default_rng(23)
    filler = ["box", "arrived", "colour", "size", "the", "order", "week"]
    rows = []
    for i in range(300):
        label = "positive" if i % 2 else "negative"
        words = [*rng.choice(filler, 4), "delighted" if label == "positive" else "refund"]
        rng.shuffle(words)
        vector = [float(x) for x in rng.normal(0, 1, 6)]
        rows.append((f"r{i}", " ".join(words), label, vector, 0.0, 0.0, 0.0))
    df = spark.createDataFrame(rows, _VECTOR_ROWS).transform(embeddings.with_vector)
    cfg_nlp = replace(CFG, score_reg_param=0.01)
    got = {}
    for name in ("minilm_lexicon_logreg", "minilm_words_logreg"):
        model = fit_candidate(name, cfg_nlp, df, reg_param=0.01)
        out = model.transform(df).transform(with_prediction).collect()
        got[name] = (
            sum(r[LABEL] == r[SENTIMENT] for r in out) / len(out),
            sum((r[SENTIMENT_SCORE] > 0) == (r[LABEL] == "positive") for r in out) / len(out),
        )
    assert got["minilm_words_logreg"][0] > 0.95  # the words label reads the words...
    assert got["minilm_lexicon_logreg"][0] < 0.75  # ...the lexicon one cannot
    assert got["minilm_words_logreg"][1] > 0.95 and got["minilm_lexicon_logreg"][1] > 0.95


# -- Chinese reviews ------------------------------------------------------------------

# text: (language, text_status). Short, emoji, mixed zh+en and lookalike scripts.
LANGUAGES = {
    "好": (text.ZH, text.OK),  # one character is a word
    "很好👍": (text.ZH, text.OK),
    "👍👍🔥": (text.OTHER, text.NO_WORDS),
    "OK": (text.EN, text.OK),
    "x": (text.EN, text.NO_WORDS),
    "iPhone 很好用": (text.ZH, text.OK),  # 3 Han x HAN_WEIGHT >= 6 Latin letters
    "Great speaker, 很好": (text.EN, text.OK),  # 2 Han x HAN_WEIGHT < 12 Latin letters
    "质量很好 good quality": (text.ZH, text.OK),
    "<p>物流<b>太慢</b>了</p>": (text.ZH, text.MARKUP_REMOVED),
    "とても良い商品です": (text.OTHER, text.NON_LATIN),  # kana: Japanese, not Chinese
    "日本製の時計": (text.OTHER, text.NON_LATIN),  # Han with kana
    "정말 좋아요 最好": (text.ZH, text.OK),  # 2 Han x HAN_WEIGHT >= 5 Hangul letters
    "정말 좋아요 추천합니다 最好": (text.OTHER, text.NON_LATIN),  # 2 x 3 < 10 Hangul
    "Очень хорошо": (text.OTHER, text.NON_LATIN),
    "Très bon produit": (text.EN, text.OK),  # Latin script: the English model reads it
}


def test_language_from_script_statistics_on_short_and_mixed_texts(spark):
    df = spark.createDataFrame([(t,) for t in LANGUAGES], f"{C.REVIEW_TEXT} string")
    df = df.withColumn(C.TITLE, F.lit(None).cast("string"))
    got = {r[C.REVIEW_TEXT]: (r[text.LANGUAGE], r[text.TEXT_STATUS])
           for r in text.with_nlp_text(df, CFG).collect()}  # fmt: skip
    assert got == LANGUAGES


def test_chinese_segmentation_finds_the_words_of_hand_written_reviews():
    from insight.nlp.chinese import tokens

    assert tokens("房间很大，早餐不好吃！") == ["房间", "很大", "早餐", "不", "好吃"]
    # Punctuation, spaces and emoji are not words; Latin words are lower-cased.
    assert tokens("iPhone 很好用👍！") == ["iphone", "很", "好", "用"]
    assert tokens("服务态度差，空调不制冷。") == ["服务态度", "差", "空调", "不", "制冷"]
    assert tokens("") == [] and tokens(None) == [] and tokens("！？。👍") == []


def test_chinese_keyphrases_are_the_reviews_aspects_never_characters_or_punctuation():
    from insight.nlp.chinese import STOP_WORDS, keyphrases, phrase_words

    review = "空调坏了，空调一直响，前台服务很差，卫生间很脏，我们觉得非常失望！！"
    got = keyphrases(phrase_words(review), 6)
    phrases = [p for p, _ in got]
    assert phrases[0] == "空调"  # said twice: the review's subject
    assert {"前台", "服务", "卫生间", "失望"} <= set(phrases)
    assert all(len(p) >= 2 and p not in STOP_WORDS for p in phrases)
    assert not set(phrases) & {"我们", "觉得", "非常", "一直", "，", "！"}
    scores = [s for _, s in got]
    assert scores == sorted(scores)  # best (lowest) first, like YAKE's
    # Only characters, stop words and punctuation: nothing to say.
    assert keyphrases(phrase_words("好！我们觉得非常，，"), 5) == []
    assert phrase_words("") == [] and phrase_words(None) == []


def test_chinese_keyphrases_leave_out_fragments_and_keep_aspects_tagged_as_verbs():
    from insight.nlp.chinese import keyphrases, phrase_words, tokens

    # Plain segmentation glues 我 to the next character here (我过); the tagger does not.
    review = "好容易找到了告诉我过了预订时间取消了，房间有点旧，楼道有味道"
    assert "我过" in tokens(review)
    words = phrase_words(review)
    assert {"房间", "楼道", "味道"} <= set(words) and "我过" not in words
    # jieba tags packaging and workmanship as verbs: they are still the review's aspects.
    phrases = [p for p, _ in keyphrases(phrase_words("包装太差了，做工也不好，很失望"), 5)]
    assert {"包装", "做工", "失望"} <= set(phrases)
    # An English phrase inside a Chinese review: its content words may stand, its function
    # words never do.
    words = phrase_words("质量很好，would buy it again，Pixelo的耳机")
    assert {"质量", "buy", "pixelo", "耳机"} <= set(words)
    assert not {"would", "it", "again"} & set(words)


def _zh_rows(spark, rows: list[tuple[str, str]]):
    """(text, label) rows as the Chinese candidate reads them, segmented here on the driver
    (the pandas UDF's segmentation is the same function, tested above)."""
    from insight.nlp.chinese import TOKENS, tokens

    return spark.createDataFrame(
        [(f"Z{i:03d}", t, label, tokens(t)) for i, (t, label) in enumerate(rows)],
        f"{C.REVIEW_ID} string, {TEXT} string, {LABEL} string, {TOKENS} array<string>",
    )


def test_a_one_star_chinese_review_moves_the_chinese_model_the_right_way(spark):
    """The same review added to the training data once as a 1-star and once as a 5-star
    review: the score of a probe that shares its words moves down, then up, from the score
    without it. 客服 (customer service) occurs evenly in praise and complaints."""
    from insight.nlp import chinese
    from insight.nlp.selection import fit_candidate
    from insight.nlp.sentiment import with_prediction

    praise = ["质量很好，非常满意", "物流很快，推荐购买", "东西不错，很喜欢", "客服很热情，满意"]
    complaints = ["质量太差，很失望", "物流太慢，不推荐", "东西坏了，退货", "客服不理人，失望"]
    base = [(t, "positive") for t in praise * 4] + [(t, "negative") for t in complaints * 4]
    review = "客服态度冷漠，客服电话打不通"
    probe = _zh_rows(spark, [("客服态度冷漠", None)])
    # Few hashed features and a penalty ten times the strongest configured one: L-BFGS
    # converges in a few iterations (at 2^18 features and the weakest penalty it runs all
    # 100 on these separable rows, minutes on two cores).
    cfg = replace(CFG, zh_hash_features=1024)

    def probe_score(extra):
        rows = _zh_rows(spark, base + extra)
        model = fit_candidate(chinese.CANDIDATE, cfg, rows, 0.01)
        return model.transform(probe).transform(with_prediction).first()[C.SENTIMENT_SCORE]

    without = probe_score([])
    one_star = probe_score([(review, "negative")])
    five_star = probe_score([(review, "positive")])
    assert one_star < without - 0.05
    assert five_star > without + 0.05
