"""Run the DAG of insight.dag for one as_of: select tasks, resume, report progress.

A task counts as done for an as_of when its latest finish row in ops.run_ledger (status
`done` or `failed`, no table) is `done`. Done tasks are skipped unless `force`, or unless a
task they depend on ran again in this run (its output changed, so theirs must follow).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from insight import dag, tables
from insight.config import Config
from insight.errors import InsightError
from insight.ops.ledger import DONE, FAILED
from insight.ops.logs import log_context
from insight.runtime import JobRun, execute, job_flags

log = logging.getLogger("insight")

RAN = "ran"
SKIPPED_DONE = "skipped (done)"
SKIPPED_WORK = "skipped"  # ran, but could not build its table (too little data for the as_of)


class TaskFailed(InsightError):
    """A task of the DAG failed; `exit_code` is the task's own (2 bad input, 1 other)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class TaskResult:
    name: str
    status: str  # RAN, SKIPPED_DONE or SKIPPED_WORK
    seconds: float
    why: tuple[str, ...] = ()  # SKIPPED_WORK: "<table>: <reason>" per table not built


def done_tasks(spark: SparkSession, lake: str, as_of: date) -> set[str]:
    """Jobs whose latest finish for `as_of` in the run ledger is `done`."""
    if not tables.exists(spark, tables.RUN_LEDGER, lake):
        return set()
    finishes = tables.read(spark, tables.RUN_LEDGER, lake).where(
        (F.col("as_of") == F.lit(as_of))
        & F.col("table_name").isNull()
        & F.col("status").isin(DONE, FAILED)
    )
    latest = finishes.groupBy("job").agg(
        F.max_by("status", F.struct("finished_at", "started_at")).alias("status")
    )
    return {r["job"] for r in latest.collect() if r["status"] == DONE}


def default_flags(task: dag.Task) -> Any:
    """The task's own flags as `insight run <task>` without any gives them (its job module's
    `add_args` and `Flags`)."""
    job = importlib.import_module(task.module)
    parser = argparse.ArgumentParser(prog=f"insight run {task.name}")
    if hasattr(job, "add_args"):
        job.add_args(parser)
    return job_flags(getattr(job, "Flags", None), parser.parse_args([]))


def run_tasks(
    run: JobRun,
    steps: Mapping[str, Callable[[JobRun], None]],
    selected: Sequence[dag.Task],
    *,
    force: bool = False,
    progress: Callable[[str], None] = print,
) -> list[TaskResult]:
    """Run `selected` tasks in order as parts of `run` (same run id); stop at the first failure.

    Raises:
        TaskFailed: naming the failed task; the tasks before it stay done.
    """
    done = set() if force else done_tasks(run.spark, run.lake, run.as_of)
    results: list[TaskResult] = []
    ran: set[str] = set()
    width = max(len(t.name) for t in selected)
    for i, task in enumerate(selected, start=1):
        step = f"[{i}/{len(selected)}] {task.name:<{width}}"
        if task.name in done and not dag.upstream(task.name) & ran:
            progress(f"{step}  skipped: done for {run.as_of} (--force runs it again)")
            results.append(TaskResult(task.name, SKIPPED_DONE, 0.0))
            continue
        progress(f"{step}  running: {task.summary}")
        t0 = time.monotonic()
        task_run = run.for_job(task.name, default_flags(task))
        with log_context(job=task.name):
            rc = execute(task_run, steps[task.name])
        seconds = time.monotonic() - t0
        if rc != 0:
            progress(f"{step}  FAILED after {seconds:.1f}s")
            raise TaskFailed(
                f"task {task.name} failed (exit {rc}) after {seconds:.1f}s; the tasks before it "
                f"are done and kept. Fix the cause, then run the same command again: done tasks "
                f"are skipped and the DAG resumes at {task.name}",
                rc,
            )
        ran.add(task.name)
        if task_run.skipped:
            progress(f"{step}  SKIPPED after {seconds:.1f}s: {'; '.join(task_run.skipped)}")
            results.append(TaskResult(task.name, SKIPPED_WORK, seconds, tuple(task_run.skipped)))
            continue
        progress(f"{step}  done in {seconds:.1f}s")
        results.append(TaskResult(task.name, RAN, seconds))
    return results


def served_models(cfg: Config) -> list[str]:
    """Registered model names the DAG serves (their `champion` versions)."""
    from insight.propensity.dataset import TARGETS
    from insight.propensity.train import model_name

    return [cfg.nlp.model_name, cfg.recommend.model_name, *(model_name(cfg, t) for t in TARGETS)]


def summary(run: JobRun, results: Sequence[TaskResult], report: str | None) -> str:
    """What a DAG run leaves behind: tasks, rows per table, quarantine, models, the report."""
    from insight.models import registry

    ran = [r for r in results if r.status == RAN]
    skipped = [r for r in results if r.status == SKIPPED_WORK]
    done_before = len(results) - len(ran) - len(skipped)
    spent = sum(r.seconds for r in results)
    lines = [
        f"\nDAG run {run.run_id} for as_of {run.as_of}: {len(ran)} of {len(results)} tasks ran, "
        f"{done_before} skipped as done"
        + (f", {len(skipped)} SKIPPED their work" if skipped else "")
        + f", {spent:.1f}s",
    ]
    lines += [f"  {r.name:<12} {r.status:<15} {r.seconds:>8.1f}s  {'; '.join(r.why)}".rstrip()
              for r in results]  # fmt: skip
    found = tables.summarise(run.spark, run.lake)
    lines.append(f"\nTables in {run.lake}:")
    lines += [
        f"  {t.qualified:<32} {rows:>12,} rows   {t.path(run.lake)}" for t, rows in found
    ] or ["  (no tables yet)"]
    quarantined = sum(rows for t, rows in found if t.layer == "quarantine")
    lines.append(f"\nQuarantined rows: {quarantined:,} (rule and reason in each row)")
    lines.append("Models serving (champion):")
    for name in served_models(run.cfg):
        served = registry.champion(run.cfg, name)
        lines.append(f"  {name:<24} {served.label if served else '(none yet)'}")
    lines.append(f"Report: {report or '(not written in this run)'}")
    return "\n".join(lines)
