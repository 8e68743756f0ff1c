"""The peers for recommendations: the `implicit` library's ALS and BPR (one process, CPU) on
the same training split. Their top-10 lists are scored by the recommend job's own metrics,
so every side is measured the same way.

`implicit` is installed on demand by `make bench-als` (not part of the test stack)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from insight import columns as C
from insight.recommend.topn import RANK

USER, ITEM = C.CUSTOMER_KEY, C.PRODUCT_ID


def _matrix(train: pd.DataFrame, values: np.ndarray) -> tuple[pd.Index, pd.Index, csr_matrix]:
    users = pd.Index(sorted(train[USER].unique()))
    items = pd.Index(sorted(train[ITEM].unique()))
    matrix = csr_matrix(
        (
            values.astype(np.float32),
            (users.get_indexer(train[USER]), items.get_indexer(train[ITEM])),
        ),
        shape=(len(users), len(items)),
    )
    return users, items, matrix


def _fit_and_top(
    make_model: Callable, train: pd.DataFrame, values: np.ndarray, k: int
) -> tuple[pd.DataFrame, float]:
    """Fit a new model on the user x item matrix of `values`; the top `k` unseen items per
    user. The model is made inside the BLAS limit (implicit checks it on construction)."""
    from threadpoolctl import threadpool_limits

    users, items, matrix = _matrix(train, values)
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, single BLAS
        model = make_model()
        t0 = time.perf_counter()
        model.fit(matrix, show_progress=False)
        seconds = time.perf_counter() - t0
    ids, _ = model.recommend(np.arange(len(users)), matrix, N=k, filter_already_liked_items=True)
    recs = pd.DataFrame({
        USER: np.repeat(users.to_numpy(), k),
        ITEM: items.to_numpy()[ids.ravel()],
        RANK: np.tile(np.arange(1, k + 1), len(users)),
    })  # fmt: skip
    return recs, seconds


def fit_and_recommend(
    train: pd.DataFrame, confidence: pd.Series, params: dict, k: int, seed: int
) -> tuple[pd.DataFrame, float]:
    """ALS: top `k` unseen items per training user (user, item, rank) and the fit's seconds.
    `params`: rank, reg_param, alpha, max_iter of the Spark setting."""
    from implicit.cpu.als import AlternatingLeastSquares

    # implicit takes each stored value as the confidence itself (unobserved pairs count 1);
    # Spark's is c = 1 + alpha * r, so the matrix carries that and implicit's alpha stays 1.
    # One difference stays: Spark scales regParam by each user's and item's rating count,
    # implicit does not, so the same number is a weaker penalty there.
    values = params["alpha"] * confidence.to_numpy(float) + 1.0
    return _fit_and_top(lambda: AlternatingLeastSquares(
        factors=params["rank"], regularization=params["reg_param"], alpha=1.0,
        iterations=params["max_iter"], random_state=seed, calculate_training_loss=False,
    ), train, values, k)  # fmt: skip


def bpr_fit_and_recommend(
    train: pd.DataFrame, params: dict, k: int, seed: int
) -> tuple[pd.DataFrame, float]:
    """Bayesian Personalized Ranking on who rated what (every rating a positive), as the
    published BPR row treats MovieLens. `params`: rank, learning_rate, reg_param, max_iter."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    return _fit_and_top(lambda: BayesianPersonalizedRanking(
        factors=params["rank"], learning_rate=params["learning_rate"],
        regularization=params["reg_param"], iterations=params["max_iter"], random_state=seed,
    ), train, np.ones(len(train)), k)  # fmt: skip
