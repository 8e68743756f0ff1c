"""Run the DAG for one as_of: ingest -> clean -> nlp -> features -> segment, clv ->
recommend -> propensity -> profile -> report (insight/dag.py). Tasks already done for the
as_of (per ops.run_ledger) are skipped, so after a failure the same command resumes where
it stopped; --force runs them again. --only / --from pick tasks. A task that could not
build its table (too little data for the as_of) is shown as skipped with the reason, and
the run then exits 2 unless --allow-skips. Prints a progress line
per task and a summary: rows per table, quarantined rows, models serving, the report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from insight import dag, pipeline
from insight.errors import InsightError
from insight.runtime import JobRun, run_job
from jobs import DAG


@dataclass(frozen=True)
class Flags:
    only: list[str] | None = None  # --only
    start: str | None = None  # --from
    force: bool = False
    allow_skips: bool = False


def add_args(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(dag.NAMES)
    pick = parser.add_mutually_exclusive_group()
    pick.add_argument("--only", type=_task_list, help=f"comma-separated tasks to run, of: {names}")
    pick.add_argument("--from", dest="start", help="run this task and every one after it")
    parser.add_argument(
        "--force", action="store_true", help="run tasks even when done for this as_of"
    )
    parser.add_argument(
        "--allow-skips", action="store_true",
        help="exit 0 even when a task could not build its table (e.g. too little history "
        "before --as-of); without it such a run fails after the summary",
    )  # fmt: skip


def _task_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in dag.NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown task(s) {', '.join(unknown) or repr(text)}; tasks are {', '.join(dag.NAMES)}"
        )
    return names


def run_all(run: JobRun) -> None:
    try:
        selected = dag.select(run.flags.only, run.flags.start)
    except ValueError as exc:
        raise InsightError(str(exc)) from None
    results = pipeline.run_tasks(run, DAG, selected, force=run.flags.force)
    print(pipeline.summary(run, results, report_of(run)))
    skipped = [r for r in results if r.status == pipeline.SKIPPED_WORK]
    if skipped and not run.flags.allow_skips:
        why = "; ".join(f"{r.name} ({'; '.join(r.why)})" for r in skipped)
        raise InsightError(
            f"{len(skipped)} task(s) could not build their tables for as_of {run.as_of}: {why}. "
            "Check --as-of against the lake's history (a generated lake ends on its "
            "--end-date), or pass --allow-skips to accept it"
        )


def report_of(run: JobRun) -> str | None:
    """The as_of's report, if this lake has one (local lakes; others: the path it would be)."""
    from insight.report.run import report_path
    from insight.storage import is_local

    path = report_path(run.lake, run.as_of)
    return path if not is_local(path) or Path(path).is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("all", run_all, argv, __doc__, add_args, Flags)


if __name__ == "__main__":
    sys.exit(main())
