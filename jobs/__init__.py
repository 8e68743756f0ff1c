"""spark-submit's entry points (`jobs/run.py JOB ...`, `jobs/all.py ...`) and the job bodies
of the DAG; each job's command lives in its package, insight/<job>/job.py."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from insight import dag
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


# What runs each task of insight/dag.py, in DAG order (the list itself lives there).
DAG: Mapping[str, Body] = _Bodies({t.name: t.body for t in dag.TASKS})
