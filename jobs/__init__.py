"""Thin job entry points: `spark-submit jobs/<job>.py ...` or `insight run <job> ...`."""

from __future__ import annotations

from collections.abc import Callable

from insight.clean.run import clean_all
from insight.clv.run import clv_all
from insight.features.run import features_all
from insight.ingest.run import ingest_all
from insight.nlp.run import nlp_all
from insight.profile.run import profile_all
from insight.propensity.run import propensity_all
from insight.recommend.run import recommend_all
from insight.report.run import report_all
from insight.runtime import JobRun
from insight.segment.run import segment_all

# What runs each task of insight/dag.py (the graph itself lives there), in DAG order.
DAG: dict[str, Callable[[JobRun], None]] = {
    "ingest": ingest_all,
    "clean": clean_all,
    "nlp": nlp_all,
    "features": features_all,  # after nlp: reads gold.review_insights
    "segment": segment_all,  # after features: reads gold.customer_features
    "clv": clv_all,  # BG/NBD + Gamma-Gamma on silver.events
    "recommend": recommend_all,  # ALS on silver.events
    "propensity": propensity_all,  # after features: Horovod TF + Spark baselines
    "profile": profile_all,  # joins everything above
    "report": report_all,  # last: reads the gold and ops tables and the registry
}
