"""Where a run's seconds go, from Spark's event log: per time window (a DAG task, a clean
batch), how many Spark jobs and tasks ran, the wall seconds spent inside Spark jobs, the
seconds the tasks ran and used CPU, and the rest (driver-side work: Python, planning, Delta
log handling, GX, JVM and process start-up).

A benchmark turns the log on with `conf()` (passed as `--conf` to a job) and reads it back
with `profile()`; the windows come from the run ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class SparkJob:
    start_ms: int
    end_ms: int
    tasks: int
    task_ms: int  # executor run time, summed over tasks
    cpu_ms: float  # executor CPU time, summed over tasks
    delta: bool  # a Delta Lake job (log replay, snapshot, commit statistics)


@dataclass(frozen=True)
class WindowProfile:
    seconds: float  # the window's wall seconds
    spark_jobs: int
    in_spark_jobs_s: float  # wall seconds during which at least one Spark job ran
    outside_spark_jobs_s: float  # the rest: driver-side work and fixed costs
    task_s: float
    task_cpu_s: float
    delta_jobs: int


def conf(directory: Path) -> str:
    """The `--conf` value that makes a job write its event log into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    return (
        "spark.extra={spark.eventLog.enabled: 'true', "
        f"spark.eventLog.dir: 'file://{directory.resolve()}'}}"
    )


def read_jobs(lines: Iterable[str]) -> list[SparkJob]:
    """The finished Spark jobs of one event log (JSON lines)."""
    starts: dict[int, tuple[int, bool]] = {}
    stage_job: dict[int, int] = {}
    tasks: dict[int, list[float]] = {}
    jobs = []
    for line in lines:
        e = json.loads(line)
        kind = e["Event"]
        if kind == "SparkListenerJobStart":
            described = (e.get("Properties") or {}).get("spark.job.description") or ""
            starts[e["Job ID"]] = (e["Submission Time"], described.startswith("Delta:"))
            tasks[e["Job ID"]] = [0, 0, 0.0]
            for stage in e["Stage IDs"]:
                stage_job[stage] = e["Job ID"]
        elif kind == "SparkListenerTaskEnd":
            job = stage_job.get(e["Stage ID"])
            metrics = e.get("Task Metrics") or {}
            if job in tasks:
                tasks[job][0] += 1
                tasks[job][1] += metrics.get("Executor Run Time", 0)
                tasks[job][2] += metrics.get("Executor CPU Time", 0) / 1e6
        elif kind == "SparkListenerJobEnd" and e["Job ID"] in starts:
            start, delta = starts[e["Job ID"]]
            n, run_ms, cpu_ms = tasks[e["Job ID"]]
            jobs.append(SparkJob(start, e["Completion Time"], n, run_ms, cpu_ms, delta))
    return jobs


def _covered_ms(intervals: list[tuple[int, int]]) -> int:
    """Length of the union of [start, end) intervals (jobs overlap when run in threads)."""
    total, reach = 0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def window(jobs: list[SparkJob], start: datetime, end: datetime) -> WindowProfile:
    """The profile of the jobs that started inside [start, end). Naive datetimes are local
    time, as PySpark's collect() returns timestamps."""
    lo, hi = (int(t.timestamp() * 1000) for t in (start, end))
    inside = [j for j in jobs if lo <= j.start_ms < hi]
    covered = _covered_ms([(j.start_ms, min(j.end_ms, hi)) for j in inside]) / 1000
    seconds = (hi - lo) / 1000
    return WindowProfile(
        seconds=round(seconds, 2),
        spark_jobs=len(inside),
        in_spark_jobs_s=round(covered, 2),
        outside_spark_jobs_s=round(max(seconds - covered, 0.0), 2),
        task_s=round(sum(j.task_ms for j in inside) / 1000, 2),
        task_cpu_s=round(sum(j.cpu_ms for j in inside) / 1000, 2),
        delta_jobs=sum(j.delta for j in inside),
    )


def profile(directory: Path, windows: Mapping[str, tuple[datetime, datetime]]) -> dict[str, dict]:
    """Each named window's profile over every event log in `directory`."""
    jobs: list[SparkJob] = []
    for log_file in sorted(p for p in directory.iterdir() if p.is_file()):
        with open(log_file) as f:
            jobs.extend(read_jobs(f))
    return {name: asdict(window(jobs, *span)) for name, span in windows.items()}
