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
        name: the job, as in `insight run <name>` and jobs/<module>.py.
        depends_on: tasks whose tables this one reads.
        retrain_flags: the job's flags in the weekly retraining run; None: not retrained.
        summary: one line for --help and the docs.
    """

    name: str
    depends_on: tuple[str, ...]
    summary: str
    retrain_flags: tuple[str, ...] | None = None


TASKS: tuple[Task, ...] = (
    Task("ingest", (), "landing files -> bronze.* (append-only, raw)"),
    Task("clean", ("ingest",), "bronze -> silver.* validated by GX, bad rows -> quarantine.*"),
    Task(
        "nlp",
        ("clean",),
        "reviews -> gold.review_insights, sentiment trends, keyphrases, alerts",
        retrain_flags=("--retrain",),
    ),
    Task("features", ("nlp",), "gold.customer_features per customer as of the date"),
    Task("segment", ("features",), "gold.customer_segments: RFM segments and named clusters"),
    Task("clv", ("clean",), "gold.customer_clv: BG/NBD + Gamma-Gamma lifetime value"),
    Task(
        "recommend",
        ("clean",),
        "gold.recommendations: implicit ALS top-N with reasons",
        retrain_flags=(),  # trains every run; the gate decides what serves
    ),
    Task(
        "propensity",
        ("features",),
        "gold.customer_scores: Horovod TF purchase/churn propensity",
        retrain_flags=("--train",),
    ),
    Task(
        "profile",
        ("features", "segment", "clv", "recommend", "propensity"),
        "gold.customer_profile: one row per customer, everything above",
    ),
    Task("report", ("profile",), "HTML insight report under <lake>/reports/<as_of>/"),
)

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
