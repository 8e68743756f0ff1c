"""The peer for recommendations: the `implicit` library's ALS (one process, CPU), with the
setting Spark ALS was tuned to, on the same training split. Its top-10 lists are scored by
the recommend job's own metrics, so both sides are measured the same way.

`implicit` is installed on demand by `make bench-als` (not part of the test stack)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from insight import columns as C
from insight.recommend.topn import RANK

USER, ITEM = C.CUSTOMER_KEY, C.PRODUCT_ID


def fit_and_recommend(
    train: pd.DataFrame, confidence: pd.Series, params: dict, k: int, seed: int
) -> tuple[pd.DataFrame, float]:
    """Top `k` unseen items per training user (user, item, rank) and the fit's seconds.
    `params`: rank, reg_param, alpha, max_iter of the Spark setting."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    users = pd.Index(sorted(train[USER].unique()))
    items = pd.Index(sorted(train[ITEM].unique()))
    # implicit takes each stored value as the confidence itself (unobserved pairs count 1);
    # Spark's is c = 1 + alpha * r, so the matrix carries that and implicit's alpha stays 1.
    # One difference stays: Spark scales regParam by each user's and item's rating count,
    # implicit does not, so the same number is a weaker penalty there.
    values = (params["alpha"] * confidence.to_numpy(float) + 1.0).astype(np.float32)
    matrix = csr_matrix(
        (values, (users.get_indexer(train[USER]), items.get_indexer(train[ITEM]))),
        shape=(len(users), len(items)),
    )
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, single BLAS
        model = AlternatingLeastSquares(
            factors=params["rank"], regularization=params["reg_param"], alpha=1.0,
            iterations=params["max_iter"], random_state=seed, calculate_training_loss=False,
        )  # fmt: skip
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
