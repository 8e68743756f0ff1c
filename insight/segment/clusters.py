"""Behavioural clusters: VectorAssembler -> StandardScaler -> optional PCA -> KMeans over
`FEATURES`, k chosen by silhouette, each cluster named in business terms and the names kept
stable across runs by matching centroids to the previous run's (Hungarian assignment).

Model inputs are the feature columns, with `sign(x) * log1p(|x|)` applied to the skewed
money/count/duration columns in `LOG1P` (monetary can be negative: the signed form keeps
it defined). Centroids are stored in these input units, before scaling.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from scipy.optimize import linear_sum_assignment

from insight.features import columns as FC
from insight.segment import schemas

log = logging.getLogger(__name__)

# What the clusters are fitted on (the k range, seed and PCA are config: segment.*).
FEATURES: tuple[str, ...] = (
    FC.RECENCY_DAYS,
    FC.FREQUENCY,
    FC.MONETARY,
    FC.AVG_ORDER_VALUE,
    FC.events_in(90),
    FC.SESSIONS,
    FC.MEAN_SESSION_MINUTES,
    FC.CART_ABANDONMENT_RATE,
    FC.RETURN_RATE,
    FC.TENURE_DAYS,
)
# Right-skewed counts, amounts and durations: compared on a log scale.
LOG1P: frozenset[str] = frozenset({
    FC.RECENCY_DAYS, FC.FREQUENCY, FC.MONETARY, FC.AVG_ORDER_VALUE, FC.events_in(90),
    FC.SESSIONS, FC.MEAN_SESSION_MINUTES,
})  # fmt: skip
# Naming thresholds on centroid z-scores (standard deviations from the customers' mean).
HIGH_Z = 0.5
LOW_Z = -0.5
LAPSED_RECENCY_Z = 0.75
BROWSERS = "Browsers (no purchase)"
LAPSED = "Lapsed"

_IN = "_in_"  # prefix of the model input columns
_VECTOR, _SCALED, _PCA = "_vector", "_scaled", "_pca"


@dataclass(frozen=True)
class ClusterFit:
    """The fitted pipeline, its k, and the silhouette of each k tried."""

    model: PipelineModel
    k: int
    silhouettes: Mapping[int, float]
    features: tuple[str, ...]
    log1p: frozenset[str]


@dataclass(frozen=True)
class Profile:
    """A cluster in numbers: size, centroid (input units) and z-scores per feature."""

    cluster_id: int
    customers: int
    centroid: tuple[float, ...]
    z: Mapping[str, float]
    buyer_share: float  # share with frequency > 0 (1.0 if frequency is not a feature)


@dataclass(frozen=True)
class PreviousCluster:
    """A named cluster of an earlier run (a gold.segment_centroids row)."""

    name: str
    features: tuple[str, ...]
    centroid: tuple[float, ...]


def _input(col: str, log1p: bool) -> Column:
    x = F.col(col).cast("double")
    return F.signum(x) * F.log1p(F.abs(x)) if log1p else x


def with_model_inputs(
    df: DataFrame, *, features: Sequence[str] = FEATURES, log1p: Iterable[str] = LOG1P
) -> DataFrame:
    """Add one `_in_<feature>` double column per feature (signed log1p where stated).

    Raises:
        ValueError: a feature column is missing.
    """
    logged = set(log1p)
    missing = [c for c in features if c not in df.columns]
    if missing:
        raise ValueError(f"features lack column(s) {', '.join(missing)} needed for clusters")
    return df.withColumns({_IN + c: _input(c, c in logged) for c in features})


class TooFewCustomersError(ValueError):
    """Fewer distinct customers than the smallest k needs."""


def fit_clusters(
    df: DataFrame,
    *,
    features: Sequence[str] = FEATURES,
    log1p: Iterable[str] = LOG1P,
    k_values: Sequence[int],
    seed: int,
    pca_components: int = 0,
) -> ClusterFit:
    """Fit the pipeline for each k in `k_values` and keep the best silhouette (ties: smaller k).

    Scaling (and PCA to `pca_components`, if > 0) are fitted once; KMeans per k on the
    cached scaled vectors. k larger than the number of distinct rows minus one is skipped.

    Raises:
        ValueError: no k can be tried (too few customers).
    """
    features, logged = tuple(features), frozenset(log1p)
    inputs = [_IN + c for c in features]
    stages = [
        VectorAssembler(inputCols=inputs, outputCol=_VECTOR),
        StandardScaler(inputCol=_VECTOR, outputCol=_SCALED, withMean=True, withStd=True),
    ]
    space = _SCALED
    if pca_components > 0:
        stages.append(PCA(k=min(pca_components, len(features)), inputCol=_SCALED, outputCol=_PCA))
        space = _PCA
    prepared = df.transform(with_model_inputs, features=features, log1p=logged).select(*inputs)
    prep = Pipeline(stages=stages).fit(prepared)
    # Every k reads the same vectors: compute them once.
    vectors = prep.transform(prepared).select(space).cache()
    try:
        distinct = vectors.distinct().count()
        ks = sorted(k for k in set(k_values) if 2 <= k < distinct)
        if not ks:
            raise TooFewCustomersError(
                f"{distinct} distinct customers: too few to cluster with k in {sorted(k_values)}"
            )
        evaluator = ClusteringEvaluator(featuresCol=space, predictionCol=schemas.CLUSTER_ID)
        models, scores = {}, {}
        for k in ks:
            km = KMeans(k=k, seed=seed, featuresCol=space, predictionCol=schemas.CLUSTER_ID)
            models[k] = km.fit(vectors)
            # Rounded: equal silhouettes compare equal across platforms; ties -> smaller k.
            scores[k] = round(evaluator.evaluate(models[k].transform(vectors)), 6)
            log.info("segment: k=%d silhouette %.4f", k, scores[k])
    finally:
        vectors.unpersist()
    best = max(ks, key=lambda k: (scores[k], -k))
    model = PipelineModel(stages=[*prep.stages, models[best]])
    return ClusterFit(model, best, scores, features, logged)


def with_clusters(df: DataFrame, fit: ClusterFit) -> DataFrame:
    """Add `cluster_id` (int) and the `_in_<feature>` model inputs from a fitted pipeline."""
    inputs = df.transform(with_model_inputs, features=fit.features, log1p=fit.log1p)
    out = fit.model.transform(inputs)
    return out.withColumn(schemas.CLUSTER_ID, F.col(schemas.CLUSTER_ID).cast("int")).drop(
        _VECTOR, _SCALED, _PCA
    )


def cluster_profiles(clustered: DataFrame, features: Sequence[str]) -> list[Profile]:
    """Size, centroid (input units) and centroid z-scores of each cluster (collected: k rows).

    `clustered` is `with_clusters` output. z = (cluster mean - reference mean) / reference
    population standard deviation, 0 where that deviation is 0. The reference is the
    purchasers (frequency > 0) when there are any, so that buyer clusters are told apart by
    value and frequency among buyers rather than against non-buyers' zeros; else everyone.
    """
    inputs = [_IN + c for c in features]
    has_frequency = FC.FREQUENCY in clustered.columns
    bought = F.col(FC.FREQUENCY) > 0 if has_frequency else F.lit(True)
    buyers = F.avg(bought.cast("double"))
    stats = [
        *[F.avg(c).alias(f"m{i}") for i, c in enumerate(inputs)],
        *[F.stddev_pop(c).alias(f"s{i}") for i, c in enumerate(inputs)],
    ]
    overall = clustered.where(bought).agg(*stats).first()
    if overall["m0"] is None:  # nobody bought: compare with everyone
        overall = clustered.agg(*stats).first()
    rows = (
        clustered.groupBy(schemas.CLUSTER_ID)
        .agg(
            F.count(F.lit(1)).alias("n"),
            buyers.alias("buyers"),
            *[F.avg(c).alias(f"c{i}") for i, c in enumerate(inputs)],
        )
        .orderBy(schemas.CLUSTER_ID)
        .collect()
    )
    profiles = []
    for row in rows:
        centroid = tuple(float(row[f"c{i}"]) for i in range(len(inputs)))
        z = {}
        for i, name in enumerate(features):
            sd = overall[f"s{i}"] or 0.0
            z[name] = (centroid[i] - overall[f"m{i}"]) / sd if sd > 1e-12 else 0.0
        profiles.append(
            Profile(row[schemas.CLUSTER_ID], row["n"], centroid, z, float(row["buyers"]))
        )
    return profiles


def rule_name(profile: Profile) -> str:
    """A business name from the centroid, by a fixed rule (features absent count as z 0;
    z-scores are against purchasers, see `cluster_profiles`):

    1. most of the cluster never bought (buyer share < 0.5)      -> "Browsers (no purchase)"
    2. recency well above average (z >= LAPSED_RECENCY_Z)         -> "Lapsed"
    3. otherwise "<value> <frequency>": value from monetary z (>= HIGH_Z "High-value",
       <= LOW_Z "Bargain", else "Mid-value"); frequency from frequency z (>= HIGH_Z
       "frequent", <= LOW_Z "occasional", else "regular"), e.g. "High-value frequent".
    """
    if profile.buyer_share < 0.5:
        return BROWSERS
    z = profile.z
    if z.get(FC.RECENCY_DAYS, 0.0) >= LAPSED_RECENCY_Z:
        return LAPSED
    m, f = z.get(FC.MONETARY, 0.0), z.get(FC.FREQUENCY, 0.0)
    value = "High-value" if m >= HIGH_Z else "Bargain" if m <= LOW_Z else "Mid-value"
    often = "frequent" if f >= HIGH_Z else "occasional" if f <= LOW_Z else "regular"
    return f"{value} {often}"


def match_previous(
    profiles: Sequence[Profile],
    previous: Sequence[PreviousCluster],
    features: Sequence[str],
    scale: Sequence[float] | None = None,
) -> dict[int, str]:
    """cluster_id -> previous name, pairing clusters with the previous run's by minimum total
    squared distance between centroids (Hungarian assignment; at most min(k, k_prev) pairs).

    Distances are in input units divided by `scale` (per feature; default: the spread of all
    centroids, 1 where flat), so no feature dominates by its unit. Previous clusters fitted
    on other features are not matched.
    """
    previous = [p for p in previous if tuple(p.features) == tuple(features)]
    if not profiles or not previous:
        return {}
    new = np.array([p.centroid for p in profiles], dtype=float)
    old = np.array([p.centroid for p in previous], dtype=float)
    if scale is None:
        spread = np.vstack([new, old]).std(axis=0)
        scale = np.where(spread > 1e-12, spread, 1.0)
    diff = (new[:, None, :] - old[None, :, :]) / np.asarray(scale, dtype=float)
    rows, cols = linear_sum_assignment((diff**2).sum(axis=2))
    return {profiles[r].cluster_id: previous[c].name for r, c in zip(rows, cols, strict=True)}


def name_clusters(
    profiles: Sequence[Profile],
    previous: Sequence[PreviousCluster] = (),
    features: Sequence[str] = FEATURES,
) -> dict[int, str]:
    """cluster_id -> unique name: the matched previous name, else `rule_name`.

    Kept names are reserved first; a rule name already taken gets " 2", " 3", ... in order of
    cluster size (largest first), then cluster id, so naming is deterministic.
    """
    names = match_previous(profiles, previous, features)
    taken = set(names.values())
    for p in sorted(profiles, key=lambda p: (-p.customers, p.cluster_id)):
        if p.cluster_id in names:
            continue
        base, name, n = rule_name(p), rule_name(p), 1
        while name in taken:
            n += 1
            name = f"{base} {n}"
        names[p.cluster_id] = name
        taken.add(name)
    return names


def with_cluster_names(
    df: DataFrame, names: Mapping[int, str], *, col_id: str = schemas.CLUSTER_ID,
    col_out: str = schemas.CLUSTER_NAME,
) -> DataFrame:  # fmt: skip
    """Add `col_out` looked up from `names` by `col_id`."""
    if not names:
        return df.withColumn(col_out, F.lit(None).cast("string"))
    lookup = F.create_map(*[F.lit(x) for kv in sorted(names.items()) for x in kv])
    return df.withColumn(col_out, lookup[F.col(col_id)])


def centroid_rows(profiles: Sequence[Profile], names: Mapping[int, str],
                  features: Sequence[str]) -> list[tuple]:  # fmt: skip
    """gold.segment_centroids rows (without as_of): (cluster_id, name, customers, features,
    centroid)."""
    return [
        (p.cluster_id, names[p.cluster_id], p.customers, list(features),
         [float(x) if math.isfinite(x) else 0.0 for x in p.centroid])
        for p in profiles
    ]  # fmt: skip
