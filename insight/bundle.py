"""The Databricks bundle's jobs, generated from the DAG: `make bundle` writes
infra/databricks/resources/daily.yml and weekly.yml from insight.dag.TASKS.

Each task becomes a `python_wheel_task` running `insight run <name> --env databricks
--lake ${var.lake_path} --as-of {{job.parameters.as_of}}` on its cluster, with its libraries
and timeout (fields of dag.Task). The daily job runs every task with the DAG's edges; the
weekly job runs the retrained tasks with their retrain flags and the edges among them. The
YAML is written as text, so its anchors and comments stay readable. Imports nothing heavy.

    python -m insight.bundle [DIR]    # writes DIR/daily.yml and DIR/weekly.yml
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from insight.dag import TASKS, Task

RESOURCES = Path(__file__).resolve().parents[1] / "infra" / "databricks" / "resources"
AS_OF = "{{job.parameters.as_of}}"
WIDTH = 100
TASK_INDENT = 10  # a task's keys, under `        - task_key:`
# Arguments written unquoted: flags, words, dotted settings (not ${var.x}, {{...}}, numbers).
PLAIN = re.compile(r"-*[A-Za-z][\w.=-]*")

# The libraries of every task (whl: the bundle artifact's output, relative to resources/),
# then each named set of dag.Task.libraries on top of them.
BASE_LIBRARIES = (
    "# Delta Lake comes with the runtime: no io.delta library.",
    "- whl: ../../../dist/*.whl",
    "- pypi: {package: mlflow==3.17.2}",
)
LIBRARIES: dict[str, tuple[str, ...]] = {
    "nlp": (
        "# Spark NLP: the jar (the version of conf/base.yaml spark.packages) and its",
        "# Python package; ML runtimes ship neither.",
        '- maven: {coordinates: "com.johnsnowlabs.nlp:spark-nlp_2.12:5.5.3"}',
        "- pypi: {package: spark-nlp==5.5.3}",
        "# The review model's lexicon features (insight.nlp.embeddings); the ML runtime lacks it.",
        "- pypi: {package: vaderSentiment==3.3.2}",
    ),
    "dl": (
        "# TensorFlow (CUDA build) and Horovod come with the GPU ML runtime.",
        "- pypi: {package: petastorm==0.13.1}",
    ),
}


@dataclass(frozen=True)
class Cluster:
    """A job cluster of databricks.yml (variable `<key>_cluster`), by dag.Task.cluster."""

    comment: tuple[str, ...] = ()
    # Settings the job is given on this cluster: `--conf <job>.<key>=<value>`.
    conf: tuple[tuple[str, str], ...] = ()


CLUSTERS = {
    "cpu": Cluster(),
    "gpu": Cluster(
        comment=("# On the GPU cluster: one Horovod process per GPU worker, each pinned to",
                 "# the GPU of its local rank."),
        conf=(("gpu", "true"), ("num_proc", "${var.gpu_num_workers}")),
    ),
}  # fmt: skip

# Every task retries twice, 10 minutes apart, not after a timeout (the jobs are idempotent
# per as_of), and mails the alert address when it fails.
RETRIES = ("max_retries: 2", "min_retry_interval_millis: 600000", "retry_on_timeout: false")
NOTIFY = ("on_failure:", "  - ${var.alert_email}")

GENERATED = (
    "# Generated from insight/dag.py by `make bundle` (insight/bundle.py): do not edit by hand.",
    "# To change a task (its dependencies, flags, cluster, libraries, timeout), edit its line",
    "# in insight/dag.py and run `make bundle`; tests/test_databricks_bundle.py fails while",
    "# this file differs from what the generator writes.",
    "#",
)


@dataclass(frozen=True)
class Job:
    """One multi-task job of the bundle and its file, resources/<file>."""

    file: str
    key: str
    name: str
    description: str  # {tasks}: the names of its tasks
    cron: str  # Quartz, UTC
    comment: tuple[str, ...]
    retrain: bool  # the retrained tasks with their retrain flags; else every task
    cron_comment: tuple[str, ...] = ()


JOBS = (
    Job("daily.yml", "daily", "insight-daily",
        "landing -> bronze -> silver -> gold -> customer_profile -> report, for as_of",
        "0 0 2 * * ?", retrain=False, comment=(
            "# The daily run: every task of insight/dag.py TASKS, each depending on exactly the",
            "# tasks the DAG says. Models are served, not retrained, except where no champion",
            "# exists yet (the first run) and recommend, which trains a candidate each run and",
            "# lets the promotion gate decide; weekly.yml retrains.")),
    Job("weekly.yml", "weekly_retrain", "insight-weekly-retrain",
        "retrain and re-register the models of {tasks}", "0 0 8 ? * SUN", retrain=True,
        cron_comment=("# Sundays 08:00 UTC, after the daily run of the same date.",),
        comment=(
            "# The weekly retraining run: the tasks of insight.dag.RETRAINED, each with its",
            "# retrain flags, depending on each other only where the DAG does. It reads the",
            "# silver/gold tables the daily run wrote for the same as_of, so it is scheduled",
            "# after the daily run; a candidate only serves if the promotion gate says so.")),
)  # fmt: skip


def render(tasks: Sequence[Task] = TASKS) -> dict[str, str]:
    """The text of each job's file (daily.yml, weekly.yml) for these tasks, by file name.

    Raises:
        ValueError: a task names a cluster or a library set this module does not know.
    """
    for t in tasks:
        if t.cluster not in CLUSTERS:
            raise ValueError(f"task {t.name}: cluster {t.cluster!r} is not one of {list(CLUSTERS)}")
        if t.libraries is not None and t.libraries not in LIBRARIES:
            raise ValueError(
                f"task {t.name}: libraries {t.libraries!r} is not one of {list(LIBRARIES)}"
            )
    retrained = [t for t in tasks if t.retrain_flags is not None]
    return {job.file: _job(job, retrained if job.retrain else tasks) for job in JOBS}


def _job(job: Job, tasks: Sequence[Task]) -> str:
    """One job's file: its settings, then its tasks, anchors defined at their first use."""
    names = [t.name for t in tasks]
    listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    clusters = [c for c in CLUSTERS if any(t.cluster == c for t in tasks)]
    lines = [
        *GENERATED, *job.comment,
        "resources:",
        "  jobs:",
        f"    {job.key}:",
        f"      name: {job.name}",
        f"      description: {json.dumps(job.description.format(tasks=listed))}",
        "      max_concurrent_runs: 1",
        "      timeout_seconds: 43200",
        "      parameters:",
        f"        # The run's UTC start date; `databricks bundle run {job.key} --params",
        "        # as_of=2025-12-31` runs another day (a backfill).",
        "        - name: as_of",
        '          default: "{{job.start_time.iso_date}}"',
        "      schedule:",
        *(f"        {line}" for line in job.cron_comment),
        f'        quartz_cron_expression: "{job.cron}"',
        "        timezone_id: UTC",
        "        pause_status: ${var.schedule_pause_status}",
        "      email_notifications:",
        *(f"        {line}" for line in NOTIFY),
        "      job_clusters:",
        *(line for c in clusters for line in (f"        - job_cluster_key: {c}",
                                              f"          new_cluster: ${{var.{c}_cluster}}")),
        "      tasks:",
    ]  # fmt: skip
    anchors: set[str] = set()
    for i, t in enumerate(tasks):
        depends_on = [d for d in t.depends_on if d in names]
        lines += [""] * bool(i) + _task(t, depends_on, job.retrain, anchors)
    return "\n".join(lines) + "\n"


def _task(task: Task, depends_on: list[str], retrain: bool, anchors: set[str]) -> list[str]:
    """One item of a job's `tasks:` list, defining the anchors it is the first to use."""
    cluster = CLUSTERS[task.cluster]
    flags = tuple(task.retrain_flags or ()) if retrain else ()
    args = [
        ("run", task.name), ("--env", "databricks"), ("--lake", "${var.lake_path}"),
        ("--as-of", AS_OF), *((f,) for f in flags),
        *(("--conf", f"{task.name}.{k}={v}") for k, v in cluster.conf),
    ]  # fmt: skip
    hours = task.retrain_hours if retrain and task.retrain_hours else task.hours
    libraries = (*BASE_LIBRARIES, *LIBRARIES.get(task.libraries or "", ()))
    anchor = f"{task.libraries}_libraries" if task.libraries else "libraries"
    body = [
        *(["depends_on:", *(f"  - task_key: {d}" for d in depends_on)] if depends_on else []),
        *cluster.comment,
        f"job_cluster_key: {task.cluster}",
        "python_wheel_task:",
        "  package_name: customer-insight-lakehouse",
        "  entry_point: insight",
        *(["  # retrain_flags=() in insight/dag.py: it trains on every run, no flag needed."]
          if retrain and not flags else []),
        *_flow("  parameters: ", args, margin=TASK_INDENT),
        *_anchored("libraries", anchor, libraries, anchors),
        f"timeout_seconds: {hours * 3600}",
        *RETRIES,
        *_anchored("email_notifications", "notify", NOTIFY, anchors),
    ]  # fmt: skip
    return [f"        - task_key: {task.name}", *(" " * TASK_INDENT + line for line in body)]


def _anchored(key: str, anchor: str, body: Sequence[str], anchors: set[str]) -> list[str]:
    """`key: &anchor` and its body the first time in a file, `key: *anchor` after that."""
    if anchor in anchors:
        return [f"{key}: *{anchor}"]
    anchors.add(anchor)
    return [f"{key}: &{anchor}", *(f"  {line}" for line in body)]


def _flow(prefix: str, groups: Sequence[tuple[str, ...]], margin: int) -> list[str]:
    """`prefix[a, b, ...]`, a YAML flow list wrapped at WIDTH (counting `margin` columns of
    indentation) between groups, so a flag and its value share a line. Strings YAML could
    read as something else are double-quoted."""
    lines, line = [], prefix + "["
    for i, group in enumerate(groups):
        text = ", ".join(s if PLAIN.fullmatch(s) else json.dumps(s) for s in group)
        text += "]" if i == len(groups) - 1 else ","
        if i and margin + len(line) + 1 + len(text) > WIDTH:
            lines.append(line)
            line = " " * (len(prefix) + 1) + text
        else:
            line += " " * bool(i) + text
    return [*lines, line]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the generated files into DIR (default: the repository's bundle resources)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else RESOURCES
    for name, text in render().items():
        (out / name).write_text(text)
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
