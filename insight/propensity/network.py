"""The Keras networks: a propensity classifier and a customer autoencoder.

Both take the same inputs: `numeric` (standardised inside the model by a Normalization
layer holding the training means and variances) and one string input per categorical
feature (StringLookup + a learned Embedding). Everything a model needs to rebuild is in its
`Spec`, so the weights alone (plus the spec) travel to Horovod processes and executors.
TensorFlow is imported inside the functions: the other jobs never load it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from insight.propensity.dataset import CATEGORICAL_FEATURES, NUMERIC

CLASSIFIER = "classifier"
AUTOENCODER = "autoencoder"
LATENT = "latent"  # the autoencoder's bottleneck layer


@dataclass(frozen=True)
class Spec:
    """What a network is built from: feature names, training statistics and shape."""

    kind: str  # CLASSIFIER or AUTOENCODER
    numeric: tuple[str, ...]
    mean: tuple[float, ...]
    variance: tuple[float, ...]
    vocab: dict[str, tuple[str, ...]]  # categorical feature -> its training values
    mode: dict[str, str]  # categorical feature -> most common training value
    hidden_units: tuple[int, ...]
    dropout: float
    embedding_dim: int
    latent_dim: int = 0
    positive_weight: float = 1.0  # classifier: weight of a positive row in training

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Spec:
        raw = json.loads(text)
        raw["numeric"] = tuple(raw["numeric"])
        raw["mean"], raw["variance"] = tuple(raw["mean"]), tuple(raw["variance"])
        raw["vocab"] = {k: tuple(v) for k, v in raw["vocab"].items()}
        raw["hidden_units"] = tuple(raw["hidden_units"])
        return cls(**raw)


def build(spec: Spec, seed: int = 0) -> Any:
    """The uncompiled tf.keras model of `spec`."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    layers = tf.keras.layers
    numeric = layers.Input(shape=(len(spec.numeric),), name=NUMERIC, dtype="float32")
    z = layers.Normalization(
        mean=np.asarray(spec.mean), variance=np.asarray(spec.variance), name="standardise"
    )(numeric)
    inputs, parts = [numeric], [z]
    for name in CATEGORICAL_FEATURES:
        raw = layers.Input(shape=(1,), name=name, dtype="string")
        index = layers.StringLookup(vocabulary=list(spec.vocab[name]), name=f"{name}_index")(raw)
        vector = layers.Embedding(
            len(spec.vocab[name]) + 1, spec.embedding_dim, name=f"{name}_embedding"
        )(index)
        inputs.append(raw)
        parts.append(layers.Flatten()(vector))
    x = layers.Concatenate()(parts)
    for i, units in enumerate(spec.hidden_units):
        x = layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
        if spec.dropout:
            x = layers.Dropout(spec.dropout, seed=seed)(x)
    if spec.kind == CLASSIFIER:
        out = layers.Dense(1, activation="sigmoid", name="probability")(x)
        return tf.keras.Model(inputs, out, name="propensity")
    latent = layers.Dense(spec.latent_dim, name=LATENT)(x)
    y = latent
    for i, units in enumerate(reversed(spec.hidden_units)):
        y = layers.Dense(units, activation="relu", name=f"decode_{i}")(y)
    recon = layers.Dense(len(spec.numeric), name="reconstruction")(y)
    model = tf.keras.Model(inputs, recon, name="autoencoder")
    # The target is the standardised input itself, which lives inside the model.
    model.add_loss(tf.reduce_mean(tf.square(recon - z)))
    return model


def feed(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Model inputs from a pandas frame with `numeric` (arrays) and the categoricals."""
    out = {NUMERIC: np.stack(df[NUMERIC].to_numpy()).astype(np.float32)}
    for name in CATEGORICAL_FEATURES:
        out[name] = df[name].astype(str).to_numpy().reshape(-1, 1)
    return out


def encoder(model: Any) -> Any:
    """The autoencoder's inputs -> latent vector part."""
    import tensorflow as tf

    return tf.keras.Model(model.inputs, model.get_layer(LATENT).output)


def calibrated(p: np.ndarray, positive_weight: float) -> np.ndarray:
    """Undo the prior shift of training with positives weighted by `positive_weight`: the
    weighted model's odds are the true odds times that weight."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return p / (p + (1 - p) * positive_weight)
