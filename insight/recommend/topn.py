"""Top-N scoring: every customer against every candidate product, block by block.

A blocked cross-join done in numpy: the product vectors are broadcast once, and each task
scores `block_size` customers at a time against all of them (block_size x products floats
in memory), masks what must not be recommended, and keeps the N best. This filters exactly
(a customer with 500 bought products still gets N new ones), which `recommendForAllUsers`
with a fixed over-fetch cannot promise.

The same function serves ALS (vectors = latent factors), the popularity baseline (one
dimension: the popularity count) and similar products (unit vectors, cosine).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from insight import columns as C
from insight.recommend.als import FEATURES

KEY = "key"  # the customer (or, for similar products, the source product)
EXCLUDE = "exclude"  # array<string>: products never to recommend to this key
HISTORY = "history"  # array<string>: products searched for the "because" item, best first
RANK = "rank"
SCORE = "score"
BECAUSE = "because_product_id"
BECAUSE_SIMILARITY = "because_similarity"
SCORE_DIGITS = 6  # rounded so re-runs write identical rows

TOPN_SCHEMA = T.StructType([
    T.StructField(KEY, T.StringType(), False),
    T.StructField(RANK, T.IntegerType(), False),
    T.StructField(C.PRODUCT_ID, T.StringType(), False),
    T.StructField(SCORE, T.DoubleType(), False),
    T.StructField(BECAUSE, T.StringType(), True),
    T.StructField(BECAUSE_SIMILARITY, T.DoubleType(), True),
])  # fmt: skip


@dataclass(frozen=True)
class ItemMatrix:
    """Product vectors on the driver (and broadcast): row i is product ids[i]."""

    ids: np.ndarray  # str, sorted
    vectors: np.ndarray  # float32, products x rank
    candidate: np.ndarray  # bool: may be recommended (available, not blocked)

    @property
    def unit(self) -> np.ndarray:
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.where(norms > 0, norms, 1.0)

    def rows(self, product_ids: Iterable[str] | None) -> np.ndarray:
        """Row numbers of the known products among `product_ids` (unknown ones ignored)."""
        if product_ids is None:
            return np.empty(0, dtype=np.int64)
        wanted = np.asarray(list(product_ids), dtype=object)
        if wanted.size == 0:
            return np.empty(0, dtype=np.int64)
        pos = np.searchsorted(self.ids, wanted)
        pos = np.clip(pos, 0, len(self.ids) - 1)
        return pos[self.ids[pos] == wanted]


def item_matrix(
    items: DataFrame, allowed: Sequence[str] | None = None, *, key: str = C.PRODUCT_ID
) -> ItemMatrix:
    """Collect `items` (key, features) sorted by key; only `allowed` ids (all if None) are
    candidates."""
    rows = sorted((r[key], r[FEATURES]) for r in items.select(key, FEATURES).collect())
    ids = np.asarray([r[0] for r in rows], dtype=object)
    vectors = np.asarray([r[1] for r in rows], dtype=np.float32).reshape(len(rows), -1)
    candidate = np.ones(len(ids), dtype=bool) if allowed is None else np.isin(ids, list(allowed))
    return ItemMatrix(ids, vectors, candidate)


def _block(block: pd.DataFrame, m: ItemMatrix, unit: np.ndarray, n: int) -> pd.DataFrame:
    users = np.asarray([np.asarray(v, dtype=np.float32) for v in block[FEATURES]])
    scores = users @ m.vectors.T
    scores[:, ~m.candidate] = -np.inf
    for i, excluded in enumerate(block[EXCLUDE]):
        scores[i, m.rows(excluded)] = -np.inf
    k = min(n, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out: list[tuple] = []
    for i, key in enumerate(block[KEY]):
        row = scores[i, top[i]]
        # Best first; equal scores in product id order, so the result never varies.
        order = np.lexsort((top[i], -row))
        picks = [(int(top[i][j]), float(row[j])) for j in order if np.isfinite(row[j])]
        seen = m.rows(block[HISTORY].iloc[i])
        if len(seen) and picks:
            cosine = unit[[p for p, _ in picks]] @ unit[seen].T
            best = cosine.argmax(axis=1)
        for rank, (p, score) in enumerate(picks, start=1):
            because = sim = None
            if len(seen):
                because = m.ids[seen[best[rank - 1]]]
                sim = round(float(cosine[rank - 1, best[rank - 1]]), SCORE_DIGITS)
            out.append((key, rank, m.ids[p], round(score, SCORE_DIGITS), because, sim))
    return pd.DataFrame(out, columns=TOPN_SCHEMA.fieldNames())


def top_n(users: DataFrame, matrix: ItemMatrix, n: int, block_size: int) -> DataFrame:
    """key, rank (1 = best), product_id, score, because_product_id, because_similarity:
    the `n` best candidates per row of `users` (key, features, exclude, history).

    The "because" product is the one of the key's `history` products whose vector is most
    similar (cosine) to the recommended one; null without history.
    """
    shared = users.sparkSession.sparkContext.broadcast(matrix)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        m = shared.value
        unit = m.unit
        for batch in batches:
            for start in range(0, len(batch), block_size):
                yield _block(batch.iloc[start : start + block_size], m, unit, n)

    return users.select(KEY, FEATURES, EXCLUDE, HISTORY).mapInPandas(score, TOPN_SCHEMA)


def unit_rows(matrix: ItemMatrix) -> list[tuple[str, list[float]]]:
    """(product_id, unit vector) per product: the `users` side of similar products."""
    return [(str(i), v.tolist()) for i, v in zip(matrix.ids, matrix.unit, strict=True)]
