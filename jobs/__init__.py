"""Thin job entry points: `spark-submit jobs/<job>.py ...` or `insight run <job> ...`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from insight.runtime import JobRun

Body = Callable[[JobRun], None]


class _Bodies(Mapping[str, Body]):
    """Task name -> job body, imported when it is first looked up: a job loads only what it
    uses (ingest needs neither Spark NLP nor TensorFlow, and a Databricks task installs only
    the libraries its own job needs)."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self._targets = dict(targets)

    def __getitem__(self, task: str) -> Body:
        module, _, name = self._targets[task].partition(":")
        return getattr(importlib.import_module(module), name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


# What runs each task of insight/dag.py (the graph itself lives there), in DAG order.
DAG: Mapping[str, Body] = _Bodies({
    "ingest": "insight.ingest.run:ingest_all",
    "clean": "insight.clean.run:clean_all",
    "nlp": "insight.nlp.run:nlp_all",
    "features": "insight.features.run:features_all",  # after nlp: reads gold.review_insights
    "segment": "insight.segment.run:segment_all",  # after features: gold.customer_features
    "clv": "insight.clv.run:clv_all",  # BG/NBD + Gamma-Gamma on silver.events
    "recommend": "insight.recommend.run:recommend_all",  # ALS on silver.events
    "propensity": "insight.propensity.run:propensity_all",  # Horovod TF + Spark baselines
    "profile": "insight.profile.run:profile_all",  # joins everything above
    "report": "insight.report.run:report_all",  # last: the gold and ops tables, the registry
})  # fmt: skip
