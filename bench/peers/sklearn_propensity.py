"""The peer for propensity: scikit-learn's histogram gradient boosting in one process, on the
same point-in-time training rows the job's models use (numeric features as they are, the
categorical ones as native categories), with the same balanced class weights."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from insight.propensity.dataset import CATEGORICAL_FEATURES, LABEL, NUMERIC, NUMERIC_FEATURES


def design(pdf: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """One column per numeric feature plus the categoricals with the training categories."""
    numeric = pd.DataFrame(np.vstack(pdf[NUMERIC].to_numpy()), columns=list(NUMERIC_FEATURES))
    for name in CATEGORICAL_FEATURES:
        numeric[name] = pd.Categorical(pdf[name].to_numpy(), categories=categories[name])
    return numeric


def fit_and_score(
    train: pd.DataFrame, population: pd.DataFrame, seed: int
) -> tuple[np.ndarray, float]:
    """Probabilities for `population` and the fit's seconds."""
    categories = {n: sorted(train[n].dropna().unique()) for n in CATEGORICAL_FEATURES}
    x, y = design(train, categories), train[LABEL].to_numpy()
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", class_weight="balanced", random_state=seed
    )
    t0 = time.perf_counter()
    model.fit(x, y)
    seconds = time.perf_counter() - t0
    return model.predict_proba(design(population, categories))[:, 1], seconds
