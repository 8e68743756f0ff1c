"""The job DAG: which tasks exist, what each needs first, and how they are retrained.

The one source of truth for `insight run all`, for the Databricks bundle in
infra/databricks/ (its task graph is tested against this) and for the docs. This module
imports nothing heavy, so tools can read the graph without Spark or TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One job of the DAG.

    Args:
        name: the job, as in `insight run <name>`, and its package insight/<name>/.
        depends_on: tasks whose tables this one reads.
        summary: one line for --help and the docs.
        body: "module:function" that runs the job (imported only when the task runs).
        retrain_flags: the job's flags in the weekly retraining run; None: not retrained.
    """

    name: str
    depends_on: tuple[str, ...]
    summary: str
    body: str
    retrain_flags: tuple[str, ...] | None = None

    @property
    def module(self) -> str:
        """The job's command module, insight/<name>/job.py: help text, flags, `main(argv)`."""
        return f"insight.{self.name}.job"


# The one list of jobs: the CLI, `insight run all`, jobs/run.py (spark-submit) and the
# Databricks bundle's checks all read it. Adding a job: its package insight/<name>/ (job.py
# with its flags, the body), a line here, and its task in the bundle's daily.yml.
TASKS: tuple[Task, ...] = (
    Task("ingest", (), "landing files -> bronze.* (append-only, raw)",
         "insight.ingest.run:ingest_all"),
    Task("clean", ("ingest",), "bronze -> silver.* validated by GX, bad rows -> quarantine.*",
         "insight.clean.run:clean_all"),
    Task("nlp", ("clean",), "reviews -> gold.review_insights, sentiment trends, keyphrases, alerts",
         "insight.nlp.run:nlp_all", retrain_flags=("--retrain",)),
    # after nlp: reads gold.review_insights
    Task("features", ("nlp",), "gold.customer_features per customer as of the date",
         "insight.features.run:features_all"),
    Task("segment", ("features",), "gold.customer_segments: RFM segments and named clusters",
         "insight.segment.run:segment_all"),
    Task("clv", ("clean",), "gold.customer_clv: BG/NBD + Gamma-Gamma lifetime value",
         "insight.clv.run:clv_all"),
    # trains every run; the gate decides what serves
    Task("recommend", ("clean",), "gold.recommendations: implicit ALS top-N with reasons",
         "insight.recommend.run:recommend_all", retrain_flags=()),
    Task("propensity", ("features",), "gold.customer_scores: Horovod TF purchase/churn propensity",
         "insight.propensity.run:propensity_all", retrain_flags=("--train",)),
    Task("profile", ("features", "segment", "clv", "recommend", "propensity"),
         "gold.customer_profile: one row per customer, everything above",
         "insight.profile.run:profile_all"),
    Task("report", ("profile",), "HTML insight report under <lake>/reports/<as_of>/",
         "insight.report.run:report_all"),
)  # fmt: skip

NAMES: tuple[str, ...] = tuple(t.name for t in TASKS)
# The tasks whose models the weekly retraining run refreshes.
RETRAINED: tuple[Task, ...] = tuple(t for t in TASKS if t.retrain_flags is not None)


def task(name: str) -> Task:
    for t in TASKS:
        if t.name == name:
            return t
    raise ValueError(f"unknown task {name!r}; tasks are {', '.join(NAMES)}")


def select(only: Sequence[str] | None = None, start: str | None = None) -> list[Task]:
    """The tasks to run, in DAG order: `only` these, or everything from `start` on.

    Raises:
        ValueError: naming an unknown task, or when both are given.
    """
    if only and start:
        raise ValueError("give --only or --from, not both")
    if only:
        wanted = {task(name).name for name in only}
        return [t for t in TASKS if t.name in wanted]
    if start:
        return list(TASKS[NAMES.index(task(start).name) :])
    return list(TASKS)


def upstream(name: str) -> set[str]:
    """Every task `name` depends on, directly or not."""
    found: set[str] = set()
    todo = list(task(name).depends_on)
    while todo:
        dep = todo.pop()
        if dep not in found:
            found.add(dep)
            todo.extend(task(dep).depends_on)
    return found
