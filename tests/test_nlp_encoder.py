"""The MiniLM encoder: int8 against float, its pooling, the Spark UDF, and the names of encoder
variants and versions (what every stored embedding is tagged with)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from insight.config import ENCODER_PRECISIONS, load_config
from insight.errors import InsightError
from insight.nlp import encoder, transformer

REVIEWS = [
    # positive
    "I love this speaker, the sound is rich and clear.",
    "Best purchase I have made all year!",
    "Works perfectly, set up in two minutes.",
    "Great value for the money.",
    "My kids adore it and use it every day to play music and ask silly questions.",
    "Excellent product, fast delivery, would buy again.",
    "The alarm and timer features make my mornings so much easier.",
    "Amazing!",
    "Sturdy, good looking and the battery lasts for days.",
    "Customer service replaced my unit within a week, very impressed.",
    "Surprisingly good bass for such a small device.",
    "It fits nicely on the kitchen counter and the voice recognition is spot on.",
    "Five stars, no complaints at all.",
    "This dress fits like a glove and the fabric feels soft.",
    "Honestly exceeded my expectations in every way.",
    # negative
    "Terrible sound quality, returned it the next day.",
    "Stopped working after a month.",
    "Waste of money.",
    "The app keeps crashing and the device loses wifi every few hours.",
    "Very disappointed, it arrived broken and support never answered.",
    "Cheap plastic, it feels like it will snap any second.",
    "Awful.",
    "The shirt shrank two sizes after the first wash.",
    "It constantly mishears me and plays the wrong songs.",
    "Overpriced for what it does, my old radio sounds better.",
    "The screen scratched within a week and the buttons stick.",
    "I regret buying this, it is slow and unreliable.",
    "Battery drains overnight even when nothing is running.",
    "Horrible smell when you open the box, had to air it out for days.",
    "Refund took six weeks and three phone calls.",
    # neutral / mixed
    "It is okay.",
    "Does what it says, nothing more.",
    "Arrived on Tuesday in a brown box.",
    "The colour is a bit darker than in the pictures.",
    "Average speaker, fine for a bedroom.",
    "Sound is good but the setup was confusing.",
    "Nice design, although the cable is too short.",
    "I use it mostly for the weather forecast.",
    "It comes with a power adapter and a quick start guide.",
    "Not sure yet, I have only had it for a day.",
    # negations
    "Not bad at all.",
    "I would not recommend this to anyone.",
    "Not great, not terrible.",
    "It never fails to make me smile.",
    "I can't say I'm unhappy with it.",
    "Don't waste your time with this one.",
    "No problems so far.",
    "It isn't as loud as I hoped.",
    "Nothing about it is good.",
    "I wasn't expecting much, but it's actually quite nice.",
    # short
    "Meh.",
    "Love it",
    "Broken.",
    "ok",
    "Perfect gift!!!",
    # long
    "I bought this as a birthday present for my grandmother who lives alone, and it has "
    "completely changed her days: she asks it for the news, calls me hands-free, listens to "
    "old songs from the fifties and even uses it to remember her medication, which gives the "
    "whole family real peace of mind.",
    "After reading many reviews I decided to give it a try, but the experience was frustrating "
    "from the start: the instructions were vague, the device refused to connect to my router, "
    "the support chat looped me through the same three answers, and when it finally worked the "
    "speaker crackled at any volume above half, so I packed it up and sent it back.",
    "The first unit had a faulty microphone, the replacement works, the sound is decent for "
    "podcasts but thin for music, the smart home features are handy once configured, and the "
    "price is fair if you catch a sale; overall a mixed but mostly positive experience.",
    "We have three of these around the house now and use them as an intercom, for shopping "
    "lists and for the kids' bedtime stories, and apart from an occasional misunderstood "
    "request they have been reliable for over a year.",
    "Delivery was late, the packaging was torn, one of the feet was missing and the colour was "
    "not the one I ordered, yet somehow the thing itself works well enough that I kept it.",
]

# Cosine between int8 and float32 sentence vectors of REVIEWS (onnxruntime 1.19.2, one
# review per call), measured: on 1,500 real Alexa reviews min 0.958, mean 0.989. The bounds
# keep a margin, yet the per-tensor quantisation we did not choose fails them (min 0.856,
# mean 0.942 there), and a broken (e.g. random) encoder lands near 0.
MIN_COSINE = 0.93
MEAN_COSINE = 0.975


@pytest.fixture(scope="module")
def export_root() -> str:
    root = Path(load_config("local", lake="/tmp/unused").nlp.minilm_dir).expanduser()
    if not (root / transformer.MARKER).is_file():
        pytest.skip(f"no MiniLM export at {root}: run `python -m insight.nlp.transformer {root}`")
    return str(root)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_int8_vectors_stay_close_to_float32(export_root):
    int8 = _unit(encoder.Encoder(transformer.encoder_dir(export_root, "int8"), 128, 1)(REVIEWS))
    float32 = _unit(
        encoder.Encoder(transformer.encoder_dir(export_root, "float32"), 128, 1)(REVIEWS)
    )
    cosines = (float32 * int8).sum(axis=1)
    worst = int(cosines.argmin())
    assert cosines.min() >= MIN_COSINE, (cosines.min(), REVIEWS[worst])
    assert cosines.mean() >= MEAN_COSINE, cosines.mean()
    # Close to float, yet still an encoder: opposite reviews stay apart.
    love, awful = REVIEWS.index("Love it"), REVIEWS.index("Awful.")
    assert float(int8[love] @ int8[awful]) < 0.9


def test_vectors_are_the_models_mean_over_word_pieces(export_root):
    # The sentence-transformers pooling, computed by hand from the graph for one review:
    # [CLS] love it [SEP], every piece averaged. Padding in a batch changes nothing.
    import onnxruntime as ort

    path = transformer.encoder_dir(export_root, "float32")
    session = ort.InferenceSession(f"{path}/model.onnx", providers=["CPUExecutionProvider"])
    vocab = (Path(path) / "assets/vocab.txt").read_text(encoding="utf-8").splitlines()
    ids = np.array([[vocab.index(w) for w in ("[CLS]", "love", "it", "[SEP]")]])
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids)}  # fmt: skip
    expected = session.run(None, feed)[0][0].mean(axis=0)
    alone = encoder.Encoder(path, 128, 1)(["Love it"])[0]
    batched = encoder.Encoder(path, 128, 8)(["Love it", REVIEWS[-1]])[0]
    np.testing.assert_allclose(alone, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(batched, expected, rtol=1e-3, atol=1e-4)


def test_spark_vectors_equal_the_encoders(spark, export_root):
    # The pandas UDF the nlp job uses gives each review the vector the encoder gives it.
    path = transformer.encoder_dir(export_root, "int8")
    df = spark.createDataFrame(list(enumerate(REVIEWS)), "id int, text string").repartition(2)
    rows = df.select("id", encoder.vectors(df["text"], path, 128, 1).alias("v")).collect()
    got = np.array([r["v"] for r in sorted(rows, key=lambda r: r["id"])])
    np.testing.assert_allclose(got, encoder.Encoder(path, 128, 1)(REVIEWS), rtol=1e-5, atol=1e-6)


def _marker(
    root: Path, export_format: int = transformer.EXPORT_FORMAT, source_version: str = "0.1.0"
) -> str:
    root.mkdir(parents=True, exist_ok=True)
    marker = {
        "format": export_format,
        "source": transformer.SOURCE_PACKAGE,
        "source_version": source_version,
    }
    (root / transformer.MARKER).write_text(json.dumps(marker))
    return str(root)


def test_encoder_version_names_everything_that_changes_vectors(tmp_path, monkeypatch):
    root = _marker(tmp_path / "minilm")
    version = transformer.encoder_version(root, "int8", 128)
    assert (
        version == f"{transformer.SOURCE_PACKAGE}@0.1.0/export{transformer.EXPORT_FORMAT}/int8/t128"
    )
    assert transformer.encoder_version(root, "int8", 128) == version
    others = {
        transformer.encoder_version(root, "float32", 128),
        transformer.encoder_version(root, "int8", 64),
        transformer.encoder_version(
            _marker(tmp_path / "next", source_version="0.2.0"), "int8", 128
        ),
    }
    assert version not in others and len(others) == 3

    # A remote export cannot be read here: the installed package names the version.
    monkeypatch.setattr(transformer.importlib.metadata, "version", lambda name: "0.2.0")
    remote = transformer.encoder_version("dbfs:/models/minilm", "int8", 128)
    assert (
        remote == f"{transformer.SOURCE_PACKAGE}@0.2.0/export{transformer.EXPORT_FORMAT}/int8/t128"
    )


def test_encoder_version_refuses_what_it_cannot_name(tmp_path):
    with pytest.raises(InsightError, match=r"python -m insight\.nlp\.transformer"):
        transformer.encoder_version(str(tmp_path / "absent"), "int8", 128)
    # An export of an older format lacks the int8 variant: redo it, do not mislabel it.
    old = _marker(tmp_path / "old", export_format=transformer.EXPORT_FORMAT - 1)
    with pytest.raises(InsightError, match=r"python -m insight\.nlp\.transformer"):
        transformer.encoder_version(old, "int8", 128)
    with pytest.raises(ValueError, match=r"2\.\.512"):
        transformer.encoder_version(_marker(tmp_path / "ok"), "int8", 1000)


def test_encoder_dir_per_precision():
    assert transformer.encoder_dir("/m/minilm", "float32") == "/m/minilm"
    assert transformer.encoder_dir("/m/minilm", "int8") == "/m/minilm/int8"
    assert transformer.encoder_dir("dbfs:/m/minilm/", "int8") == "dbfs:/m/minilm/int8"
    with pytest.raises(ValueError, match=r"int8, float32") as err:
        transformer.encoder_dir("/m/minilm", "fp16")
    assert "'fp16'" in str(err.value)
    # The config accepts exactly the precisions there is a folder for.
    assert set(ENCODER_PRECISIONS) == set(transformer.PRECISIONS)
