"""The ALS model: string ids indexed to the ints ALS needs, and factors keyed back.

One Spark ML PipelineModel holds both id indexers and the ALSModel, so a registered version
carries its own id mapping: customer and product ids may be any strings (or integers too
large for ALS's int ids) and map back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import IndexToString, StringIndexer
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from insight import columns as C
from insight.recommend.feedback import CONFIDENCE

FEATURES = "features"
_USER, _ITEM, _ID = "_user", "_item", "id"  # ALS's int ids; `id` in its factor tables


@dataclass(frozen=True)
class AlsParams:
    rank: int
    reg_param: float
    alpha: float
    max_iter: int
    seed: int
    implicit: bool = True
    block_size: int = 4096
    # ALS's user and item blocks (tasks per stage). 0: one per core of the session
    # (defaultParallelism). Spark's default of 10 makes 10 tasks per stage whatever the
    # cores; with the few rows per block of a shop's feedback the fixed cost of each task
    # outweighs its work (MovieLens 100k, rank 128, 2 cores: 10 blocks 60-90 s a fit,
    # 2 blocks 45-52 s, the same NDCG@10; measured on a loaded machine at a20d15d).
    blocks: int = 0

    def label(self) -> str:
        return f"rank={self.rank} reg={self.reg_param:g} alpha={self.alpha:g}"


@dataclass(frozen=True)
class Factors:
    """Latent vectors keyed by the original ids: users (customer_key, features) and items
    (product_id, features)."""

    users: DataFrame
    items: DataFrame


def pipeline(
    params: AlsParams,
    blocks: int,
    *,
    user: str = C.CUSTOMER_KEY,
    item: str = C.PRODUCT_ID,
    rating: str = CONFIDENCE,
) -> Pipeline:
    """Index both ids (alphabetically, so the same ids get the same ints), then ALS."""
    return Pipeline(stages=[
        StringIndexer(inputCol=user, outputCol=_USER, stringOrderType="alphabetAsc"),
        StringIndexer(inputCol=item, outputCol=_ITEM, stringOrderType="alphabetAsc"),
        ALS(
            userCol=_USER, itemCol=_ITEM, ratingCol=rating, implicitPrefs=params.implicit,
            rank=params.rank, regParam=params.reg_param, alpha=params.alpha,
            maxIter=params.max_iter, seed=params.seed, blockSize=params.block_size,
            numUserBlocks=blocks, numItemBlocks=blocks, coldStartStrategy="drop",
        ),
    ])  # fmt: skip


def fit(
    feedback: DataFrame,
    params: AlsParams,
    *,
    user: str = C.CUSTOMER_KEY,
    item: str = C.PRODUCT_ID,
    rating: str = CONFIDENCE,
) -> PipelineModel:
    """Fit on `feedback` (one row per user and item). ALS needs deterministic input (it
    re-reads partitions on retry), so the rows are sorted first; and a checkpoint
    directory, without which many iterations overflow the stack in task serialization."""
    sc = feedback.sparkSession.sparkContext
    if sc.getCheckpointDir() is None:
        raise RuntimeError("ALS needs a checkpoint directory: call sc.setCheckpointDir first")
    rows = feedback.select(
        F.col(user).cast("string").alias(user),
        F.col(item).cast("string").alias(item),
        F.col(rating).cast("float").alias(rating),
    ).orderBy(user, item)
    blocks = params.blocks or sc.defaultParallelism
    return pipeline(params, blocks, user=user, item=item, rating=rating).fit(rows)


def factors(
    model: PipelineModel, *, user: str = C.CUSTOMER_KEY, item: str = C.PRODUCT_ID
) -> Factors:
    """The fitted user and item vectors with their original ids."""
    user_ix, item_ix, als = model.stages

    def keyed(table: DataFrame, labels: list[str], name: str) -> DataFrame:
        back = IndexToString(inputCol=_ID, outputCol=name, labels=labels)
        return back.transform(table).select(name, FEATURES)

    return Factors(
        users=keyed(als.userFactors, user_ix.labelsArray[0], user),
        items=keyed(als.itemFactors, item_ix.labelsArray[0], item),
    )
