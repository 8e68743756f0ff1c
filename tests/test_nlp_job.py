"""The nlp job end to end on a generated lake: ingest -> clean -> nlp on real Spark, Spark
NLP, Delta and an MLflow SQLite store with its registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from pyspark.sql import functions as F

from insight import columns as C
from insight import tables
from insight.clean import job as clean
from insight.config import load_config
from insight.ingest import job as ingest
from insight.models import registry
from insight.nlp import embeddings, schemas, text
from insight.nlp import job as nlp
from insight.nlp import model as review_model
from insight.nlp.sentiment import VECTOR_CANDIDATES
from lakegen import generate_lake

pytestmark = pytest.mark.integration

AS_OF = "2025-12-31"
LABELS = {"positive", "neutral", "negative", "unknown"}
# Reviews that pass the quality rules but carry no usable text for the models.
ODD_REVIEWS = {
    "RODD-EMOJI": ("😍😍😍🔥", text.NO_WORDS),
    "RODD-SPACES": ("   .  ", text.NO_WORDS),
    "RODD-RUSSIAN": ("Отличный товар, всем советую", text.NON_LATIN),
    "RODD-JAPANESE": ("とても良い商品です", text.NON_LATIN),
}


class Lake:
    def __init__(self, path: str):
        self.path = path

    def args(self, *extra: str) -> list[str]:
        return ["--lake", self.path, "--as-of", AS_OF, *extra]

    def landing(self, entity: str) -> Path:
        return Path(self.path) / "landing" / entity

    def add_reviews(self, name: str, reviews: list[dict]) -> None:
        lines = "".join(json.dumps(r) + "\n" for r in reviews)
        (self.landing("reviews") / name).write_text(lines, encoding="utf-8")

    def first_review(self) -> dict:
        first = next(iter(sorted(self.landing("reviews").glob("*.jsonl"))))
        return json.loads(first.read_text(encoding="utf-8").splitlines()[0])


def odd_review(template: dict, review_id: str, body: str) -> dict:
    return {**template, "review_id": review_id, "title": None, "text": body}


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> Lake:
    lk = Lake(str(tmp_path_factory.mktemp("nlp") / "lake"))
    generate_lake(lk.path, customers=500, seed=5, days=200, dirty_rate=0.0, workers=1)
    template = lk.first_review()
    lk.add_reviews(
        "reviews-odd.jsonl", [odd_review(template, k, b) for k, (b, _) in ODD_REVIEWS.items()]
    )
    assert ingest.main(lk.args()) == 0
    assert clean.main(lk.args()) == 0
    assert nlp.main(lk.args()) == 0
    return lk


def read(spark, lake: Lake, table) -> object:
    return tables.read(spark, table, lake.path)


def cfg(lake: Lake):
    return load_config("local", lake=lake.path)


def nlp_ledger(spark, lake: Lake):
    return (
        read(spark, lake, tables.RUN_LEDGER)
        .where(f"job = 'nlp' AND table_name = '{schemas.REVIEW_INSIGHTS.qualified}'")
        .orderBy("started_at")
        .collect()
    )


def test_every_silver_review_has_exactly_one_insight(spark, lake):
    silver = read(spark, lake, tables.silver("reviews")).where(f"review_date <= '{AS_OF}'")
    insights = read(spark, lake, schemas.REVIEW_INSIGHTS)
    assert silver.count() > 150
    assert insights.count() == insights.select(C.REVIEW_ID).distinct().count()
    assert silver.join(insights, C.REVIEW_ID, "left_anti").count() == 0
    assert insights.join(silver, C.REVIEW_ID, "left_anti").count() == 0


def test_labels_probabilities_and_topics_are_in_range(spark, lake):
    rows = read(spark, lake, schemas.REVIEW_INSIGHTS).collect()
    assert {r[C.SENTIMENT] for r in rows} <= LABELS
    scored = [r for r in rows if r[C.SENTIMENT] != "unknown"]
    assert all(0.0 <= r[C.PROBABILITY] <= 1.0 for r in scored)
    assert all(-1.0 <= r[C.SENTIMENT_SCORE] <= 1.0 for r in scored)
    topics = cfg(lake).nlp.topics
    assert all(r[C.TOPIC_ID] is None or 0 <= r[C.TOPIC_ID] < topics for r in scored)
    assert len({r[C.TOPIC_ID] for r in scored}) > 1
    # The model learned the ratings: positive reviews outscore negative ones on average.
    by_rating = {}
    for r in scored:
        by_rating.setdefault(r[C.RATING] >= 4, []).append(r[C.SENTIMENT_SCORE])
    assert sum(by_rating[True]) / len(by_rating[True]) > sum(by_rating[False]) / len(
        by_rating[False]
    )


def test_unusable_text_is_kept_as_unknown_with_its_reason_and_counted(spark, lake):
    got = {
        r[C.REVIEW_ID]: r
        for r in read(spark, lake, schemas.REVIEW_INSIGHTS)
        .where("review_id LIKE 'RODD-%'")
        .collect()
    }
    assert set(got) == set(ODD_REVIEWS)
    for review_id, (_, status) in ODD_REVIEWS.items():
        assert got[review_id][C.SENTIMENT] == "unknown"
        assert got[review_id][C.TEXT_STATUS] == status
        assert got[review_id][C.PROBABILITY] is None and got[review_id][C.KEYPHRASES] == []
    first = nlp_ledger(spark, lake)[0]
    assert "unknown 4" in first["message"] and "no_words=2" in first["message"]


def test_keyphrases_come_from_the_reviews_own_text(spark, lake):
    silver = read(spark, lake, tables.silver("reviews")).select(C.REVIEW_ID, C.TITLE, C.REVIEW_TEXT)
    rows = read(spark, lake, schemas.REVIEW_INSIGHTS).join(silver, C.REVIEW_ID).collect()
    with_phrases = [r for r in rows if r[C.KEYPHRASES]]
    assert len(with_phrases) > 0.9 * len([r for r in rows if r[C.SENTIMENT] != "unknown"])
    for r in with_phrases:
        words = set(re.findall(r"\w+", f"{r[C.TITLE] or ''} {r[C.REVIEW_TEXT]}".lower()))
        for phrase in r[C.KEYPHRASES]:
            assert set(phrase["phrase"].split()) <= words, (phrase, r[C.REVIEW_TEXT])
        scores = [p["score"] for p in r[C.KEYPHRASES]]
        assert scores == sorted(scores)


def test_trend_tables_add_up_to_the_insights(spark, lake):
    known = read(spark, lake, schemas.REVIEW_INSIGHTS).where("sentiment != 'unknown'")
    daily = read(spark, lake, schemas.PRODUCT_SENTIMENT_DAILY)
    assert daily.agg(F.sum("reviews")).first()[0] == known.count()
    negatives = known.where("sentiment = 'negative'").count()
    assert (
        round(daily.agg(F.sum(F.col("negative_share") * F.col("reviews"))).first()[0]) == negatives
    )
    weekly = read(spark, lake, schemas.KEYPHRASE_WEEKLY)
    assert weekly.where("level = 'brand'").count() > 0
    assert weekly.where("praise_rank IS NOT NULL").count() > 0
    terms = read(spark, lake, schemas.TOPIC_TERMS)
    assert terms.select(C.TOPIC_ID).distinct().count() == cfg(lake).nlp.topics


def test_model_is_registered_with_every_candidates_metrics_and_round_trips(spark, lake):
    c = cfg(lake)
    served = registry.champion(c, c.nlp.model_name)
    assert served is not None
    client = MlflowClient(registry.tracking_uri(c), registry.tracking_uri(c))
    run = client.get_run(served.run_id)
    for name in c.nlp.candidates:
        for metric in ("accuracy", "macro_f1", "cross_accuracy", "cross_macro_f1"):
            assert 0.0 <= run.data.metrics[f"{name}_{metric}"] <= 1.0
        for metric in ("log_loss", "cross_log_loss"):
            assert run.data.metrics[f"{name}_{metric}"] > 0.0
        assert run.data.metrics[f"{name}_reviews_per_second"] > 0
    vector_candidates = [n for n in c.nlp.candidates if n in VECTOR_CANDIDATES]
    assert vector_candidates
    for name in vector_candidates:  # every regularisation strength of the vector candidates
        for reg in c.nlp.reg_params:
            assert f"{name}_reg{reg:g}_cross_macro_f1" in run.data.metrics
    assert run.data.params["chosen"] in c.nlp.candidates
    assert run.data.metrics["selection_log_loss"] == max(
        run.data.metrics["log_loss"], run.data.metrics["cross_log_loss"]
    )
    # The chosen setting has the lowest worse-of-two log loss of every setting measured.
    assert run.data.metrics["selection_log_loss"] == min(
        max(v, run.data.metrics[k.replace("_log_loss", "_cross_log_loss")])
        for k, v in run.data.metrics.items()
        if k.endswith("_log_loss") and "_reg" in k and "_cross_" not in k
    )
    assert int(run.data.params["held_out_groups"]) >= 1
    # Loaded back from the registry, it scores any text, with or without a rating.
    loaded = review_model.load(served)
    feedback = spark.createDataFrame(
        [("f1", None, "Terrible. It broke after two days and support never answered."),
         ("f2", "Love it", "Excellent quality, works perfectly, great value.")],
        f"{C.REVIEW_ID} string, {C.TITLE} string, {C.REVIEW_TEXT} string",
    )  # fmt: skip
    ready = text.with_nlp_text(feedback, c.nlp)
    if review_model.uses_vectors(loaded):
        ready = embeddings.embed(c.nlp, ready)
    scored = {r[C.REVIEW_ID]: r for r in review_model.score(loaded, ready).collect()}
    assert scored["f1"][C.SENTIMENT_SCORE] < scored["f2"][C.SENTIMENT_SCORE]
    assert scored["f2"][C.SENTIMENT] == "positive"
    # Same model, same stored vectors: the stored insights are reproduced exactly.
    stored = read(spark, lake, schemas.REVIEW_INSIGHTS).where("sentiment != 'unknown'").limit(20)
    want = {r[C.REVIEW_ID]: (r[C.SENTIMENT], r[C.TOPIC_ID]) for r in stored.collect()}
    silver = read(spark, lake, tables.silver("reviews")).where(F.col(C.REVIEW_ID).isin(*want))
    again = text.with_nlp_text(silver, c.nlp)
    if review_model.uses_vectors(loaded):
        vectors = read(spark, lake, schemas.REVIEW_EMBEDDINGS)
        again = embeddings.with_stored(again, vectors, embeddings.version(c.nlp))
    got = {r[C.REVIEW_ID]: (r[C.SENTIMENT], r[C.TOPIC_ID])
           for r in review_model.score(loaded, again).collect()}  # fmt: skip
    assert got == want


def test_each_scorable_review_is_embedded_once_and_stored_vectors_equal_fresh_ones(spark, lake):
    c = cfg(lake)
    version = embeddings.version(c.nlp)
    stored = read(spark, lake, schemas.REVIEW_EMBEDDINGS).where(F.col("encoder_version") == version)
    scorable = read(spark, lake, schemas.REVIEW_INSIGHTS).where("sentiment != 'unknown'")
    assert stored.count() == stored.select(C.REVIEW_ID).distinct().count() == scorable.count()
    assert stored.join(scorable, C.REVIEW_ID, "left_anti").count() == 0
    # Recomputed from the same text with the same encoder version: the same vectors (one
    # review per ONNX call, so int8's per-batch activation scale cannot move them).
    sample = stored.orderBy(C.REVIEW_ID).limit(25)
    silver = read(spark, lake, tables.silver("reviews")).join(sample.select(C.REVIEW_ID),
                                                               C.REVIEW_ID)  # fmt: skip
    fresh = embeddings.embed(c.nlp, text.with_nlp_text(silver, c.nlp))
    old = {r[C.REVIEW_ID]: r for r in sample.collect()}
    new = {r[C.REVIEW_ID]: r for r in fresh.collect()}
    assert set(new) == set(old)
    for key, row in new.items():
        a, b = np.array(row["embedding"]), np.array(old[key]["embedding"])
        assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.995, key
        assert row["lexicon_compound"] == old[key]["lexicon_compound"]


def test_rerun_scores_only_new_or_resent_reviews(spark, lake):
    path = schemas.REVIEW_INSIGHTS.path(lake.path)
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0]
    assert nlp.main(lake.args()) == 0
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0] == version
    assert nlp_ledger(spark, lake)[-1]["status"] == "nothing_new"

    template = lake.first_review()
    resent = {**template, "text": "Stopped working after a week, very disappointed.",
              "sent_at": "2025-12-31T23:00:00Z"}  # fmt: skip
    new = {**template, "review_id": "RNEW-1", "text": "Superb sound, I love it."}
    lake.add_reviews("reviews-late.jsonl", [resent, new])
    assert ingest.main(lake.args()) == 0 and clean.main(lake.args()) == 0
    assert nlp.main(lake.args()) == 0
    last = nlp_ledger(spark, lake)[-1]
    assert last["status"] == "ok" and last["rows_in"] == 2 and last["rows_written"] == 2
    # Only the two changed texts went through the encoder; the resent one replaced its row.
    assert "embedded 2, reused 0" in last["message"]
    vectors = read(spark, lake, schemas.REVIEW_EMBEDDINGS).where(
        F.col(C.REVIEW_ID).isin(template["review_id"], "RNEW-1")
    )
    assert vectors.count() == 2
    rows = {
        r[C.REVIEW_ID]: r
        for r in read(spark, lake, schemas.REVIEW_INSIGHTS)
        .where(F.col(C.REVIEW_ID).isin(template["review_id"], "RNEW-1"))
        .collect()
    }
    assert set(rows) == {template["review_id"], "RNEW-1"}
    phrases = {p["phrase"] for p in rows[template["review_id"]][C.KEYPHRASES]}
    assert phrases & {"stopped", "working", "week", "disappointed", "stopped working"}


# A vector model, one setting: the candidates themselves are compared above.
VECTOR_FAST = ("--conf", "nlp.candidates=[minilm_logreg]", "--conf", "nlp.reg_params=[0.03]")


def test_retrain_reuses_every_stored_vector_and_a_worse_model_does_not_serve(spark, lake):
    c = cfg(lake)
    champion = registry.champion(c, c.nlp.model_name)
    vectors = read(spark, lake, schemas.REVIEW_EMBEDDINGS)
    before = vectors.count()
    # Regularised into uselessness: the champion's own setting, refitted on the same split,
    # selects better, so the new version is registered but the champion serves on.
    useless = ("--conf", "nlp.candidates=[minilm_logreg]", "--conf", "nlp.reg_params=[1000.0]")
    assert nlp.main(lake.args("--retrain", *useless)) == 0
    last = nlp_ledger(spark, lake)[-1]
    assert f"embedded 0, reused {last['rows_in'] - _unknown(last)}" in last["message"]
    assert read(spark, lake, schemas.REVIEW_EMBEDDINGS).count() == before
    assert registry.champion(c, c.nlp.model_name) == champion
    assert "trained this run" not in last["message"]
    client = registry.use_tracking(c)
    new = client.get_model_version(c.nlp.model_name, str(int(champion.version) + 1))
    measured = client.get_run(new.run_id).data.metrics
    assert measured["selection_log_loss"] > measured["champion_selection_log_loss"]


def test_a_new_encoder_version_embeds_again_and_retrains(spark, lake):
    c = cfg(lake)
    before = registry.champion(c, c.nlp.model_name)
    shorter = ("--conf", "nlp.encoder_max_tokens=64", *VECTOR_FAST)
    assert nlp.main(lake.args(*shorter)) == 0
    after = registry.champion(c, c.nlp.model_name)
    # The champion read other vectors: a new version serves (not compared: it could not be).
    assert int(after.version) > int(before.version)
    assert review_model.encoder_of(c, after) != review_model.encoder_of(c, before)
    versions = {
        r[0]: r[1]
        for r in read(spark, lake, schemas.REVIEW_EMBEDDINGS)
        .groupBy("encoder_version")
        .count()
        .collect()
    }
    assert len(versions) == 2 and len(set(versions.values())) == 1
    last = nlp_ledger(spark, lake)[-1]
    assert f"embedded {last['rows_in'] - _unknown(last)}, reused 0" in last["message"]
    # Run again with the same setting: nothing is embedded nor scored.
    assert nlp.main(lake.args(*shorter)) == 0
    again = nlp_ledger(spark, lake)[-1]
    assert again["status"] == "nothing_new" and "embedded 0" in again["message"]


def _unknown(entry) -> int:
    return int(re.search(r"unknown (\d+)", entry["message"]).group(1))


def test_retrain_registers_a_new_champion_and_rescores_everything(spark, lake):
    c = cfg(lake)
    before = registry.champion(c, c.nlp.model_name)
    assert nlp.main(lake.args("--retrain", "--conf", "nlp.candidates=[vivekn]")) == 0
    after = registry.champion(c, c.nlp.model_name)
    assert int(after.version) == int(before.version) + 1
    insights = read(spark, lake, schemas.REVIEW_INSIGHTS)
    assert insights.where(F.col(C.MODEL_VERSION) != after.label).count() == 0
    assert nlp_ledger(spark, lake)[-1]["rows_in"] == insights.count()


def test_nlp_before_clean_names_the_missing_table(tmp_path):
    assert nlp.main(["--lake", str(tmp_path / "empty"), "--as-of", AS_OF]) == 2


def test_a_lake_too_young_to_train_on_is_skipped_and_says_why(spark, tmp_path):
    young = Lake(str(tmp_path / "young"))
    generate_lake(young.path, customers=30, seed=2, days=20, dirty_rate=0.0, workers=1)
    assert ingest.main(young.args()) == 0 and clean.main(young.args()) == 0
    assert nlp.main(young.args()) == 0
    entry = nlp_ledger(spark, young)[-1]
    assert entry["status"] == "skipped" and "rated reviews" in entry["message"]
    assert not tables.exists(spark, schemas.REVIEW_INSIGHTS, young.path)


def test_features_pick_up_each_customers_review_sentiment(spark, lake):
    from insight.features import job as features
    from insight.features.schemas import CUSTOMER_FEATURES

    assert features.main(lake.args()) == 0
    known = read(spark, lake, schemas.REVIEW_INSIGHTS).where("sentiment != 'unknown'")
    want = {
        r[C.CUSTOMER_KEY]: (r["n"], r["neg"])
        for r in known.groupBy(C.CUSTOMER_KEY)
        .agg(
            F.count("*").alias("n"),
            F.avg((F.col(C.SENTIMENT) == "negative").cast("double")).alias("neg"),
        )
        .collect()
    }
    rows = read(spark, lake, CUSTOMER_FEATURES).where(f"as_of = '{AS_OF}'").collect()
    got = {r[C.CUSTOMER_KEY]: (r["review_count"], r["negative_review_share"]) for r in rows}
    assert len(want) > 50
    for key, (n, neg) in want.items():
        assert got[key][0] == n and got[key][1] == pytest.approx(neg, abs=1e-6), key
    assert all(v[0] == 0 for k, v in got.items() if k not in want)


def test_profile_has_one_row_per_customer_and_a_rerun_changes_no_content(spark, lake):
    from insight.features import job as features
    from insight.profile import job as profile
    from insight.profile.build import CUSTOMER_PROFILE

    assert features.main(lake.args()) == 0
    assert profile.main(lake.args()) == 0
    silver = read(spark, lake, tables.silver("customers"))
    prof = read(spark, lake, CUSTOMER_PROFILE)
    assert prof.count() == silver.count() == prof.select(C.CUSTOMER_KEY).distinct().count()
    assert prof.join(silver, C.CUSTOMER_KEY, "left_anti").count() == 0
    content = prof.drop("profile_updated_at")
    before = sorted(content.collect())
    assert profile.main(lake.args()) == 0
    assert (
        sorted(read(spark, lake, CUSTOMER_PROFILE).drop("profile_updated_at").collect()) == before
    )
    described = {r["col_name"]: r["comment"] for r in spark.sql(
        f"DESCRIBE TABLE delta.`{CUSTOMER_PROFILE.path(lake.path)}`").collect()}  # fmt: skip
    assert all(described[c] for c in prof.columns)


# Rated Chinese reviews: aspect + verdict, stars consistent with the verdict.
ZH_ASPECTS = ["质量", "物流", "包装", "做工", "客服", "音质", "电池", "屏幕"]
ZH_PRAISE = ["非常好，很满意", "很棒，值得推荐", "不错，下次还买"]
ZH_COMPLAINTS = ["太差了，很失望", "有问题，不推荐", "很糟糕，要退货"]
# Short and mixed Chinese reviews: never dropped, never unknown once a model serves.
ZH_ODD = {"RZH-SHORT": ("好！", 5), "RZH-EMOJI": ("很好👍👍", 5), "RZH-MIXED": ("iPhone 很好用", 4)}


def test_chinese_reviews_get_a_language_their_own_model_and_chinese_keyphrases(spark, lake):
    """Last in the module (the retrain tests above then see no Chinese reviews): rated
    Chinese reviews arrive; the nlp run trains, registers and serves a Chinese model for
    them, and leaves the English reviews' insights as they were."""
    rated = [
        (f"RZH-{i:03d}", f"{aspect}{verdict}", stars)
        for i, (aspect, verdict, stars) in enumerate(
            (a, v, s)
            for a in ZH_ASPECTS
            for vs, s in ((ZH_PRAISE, 5), (ZH_COMPLAINTS, 1))
            for v in vs
        )
    ]
    rated += [(k, t, s) for k, (t, s) in ZH_ODD.items()]
    english_before = read(spark, lake, schemas.REVIEW_INSIGHTS).count()
    # Straight into silver, copies of a cleaned review (ingest and clean are tested
    # elsewhere; here they would only cost time).
    reviews = tables.silver("reviews")
    template = read(spark, lake, reviews).where(f"review_date <= '{AS_OF}'").limit(1)
    new = spark.createDataFrame(
        [(k, t, s) for k, t, s in rated], "_id string, _text string, _rating int"
    )
    added = template.crossJoin(new).withColumns({
        C.REVIEW_ID: F.col("_id"), C.TITLE: F.lit(None).cast("string"),
        C.REVIEW_TEXT: F.col("_text"), C.RATING: F.col("_rating"),
    }).drop("_id", "_text", "_rating")  # fmt: skip
    tables.append(added, reviews, lake.path)
    # One setting, few hashed features: the candidates' selection is tested in the units.
    fast = ("--conf", "nlp.zh_reg_params=[0.01]", "--conf", "nlp.zh_hash_features=4096")
    assert nlp.main(lake.args(*fast)) == 0
    insights = read(spark, lake, schemas.REVIEW_INSIGHTS)
    rows = {r[C.REVIEW_ID]: r for r in insights.where("review_id LIKE 'RZH-%'").collect()}
    assert set(rows) == {k for k, _, _ in rated}
    c = cfg(lake)
    served = registry.champion(c, c.nlp.zh_model_name)
    assert served is not None
    for r in rows.values():
        assert r[C.LANGUAGE] == text.ZH and r[C.SENTIMENT] != "unknown", r[C.REVIEW_ID]
        assert r[C.MODEL_VERSION] == served.label
        # Words of two or more Han characters, or a Latin word of a mixed review (iphone).
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,}|[a-z][a-z0-9]+", p["phrase"])
                   for p in r[C.KEYPHRASES]), r[C.KEYPHRASES]  # fmt: skip
    by_stars = {s: [rows[k][C.SENTIMENT_SCORE] for k, _, st in rated if st == s] for s in (1, 5)}
    assert sum(by_stars[5]) / len(by_stars[5]) > sum(by_stars[1]) / len(by_stars[1])
    assert any(p["phrase"] in ZH_ASPECTS for r in rows.values() for p in r[C.KEYPHRASES])
    # Topics of their own, made of Chinese words; a review with words has one.
    terms = read(spark, lake, schemas.TOPIC_TERMS).where(F.col(C.MODEL_VERSION) == served.label)
    words = [r["term"] for r in terms.collect()]
    assert words and all(re.fullmatch(r"[\u4e00-\u9fff]{2,}|[a-z][a-z0-9]+", w) for w in words)
    assert set(ZH_ASPECTS) <= set(words)
    assert all(rows[k][C.TOPIC_ID] is not None for k, _, _ in rated if k[4].isdigit())
    assert rows["RZH-SHORT"][C.TOPIC_ID] is None  # 好: no noun or adjective to place it
    # English reviews kept their insight (one model each) and their language.
    english = insights.where(~F.col(C.REVIEW_ID).startswith("RZH-"))
    assert english.count() == english_before
    assert english.where(F.col(C.MODEL_VERSION).startswith(f"{c.nlp.zh_model_name}/")).count() == 0
    assert {r[0] for r in english.select(C.LANGUAGE).distinct().collect()} <= {"en", "other"}
    last = nlp_ledger(spark, lake)[-1]
    assert f"Chinese model {served.label}" in last["message"]
    assert f"zh={len(rated)}" in last["message"]
