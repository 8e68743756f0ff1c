"""Run the whole DAG in order (jobs.DAG: ingest -> ... -> profile) for one as_of; print it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from insight import tables
from insight.runtime import JobRun, run_job
from jobs import DAG

log = logging.getLogger("insight")


def run_all(run: JobRun) -> None:
    for i, (name, step) in enumerate(DAG.items(), start=1):
        log.info("[%d/%d] %s", i, len(DAG), name)
        step(run.for_job(name))
    print_summary(run)


def print_summary(run: JobRun) -> None:
    found = tables.summarise(run.spark, run.lake)
    print(f"\nLake {run.lake} (as_of {run.as_of}, run {run.run_id}):")
    for table, rows in found:
        print(f"  {table.qualified:<28} {rows:>12,} rows   {table.path(run.lake)}")
    if not found:
        print("  (no tables yet)")


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("all", run_all, argv, __doc__)


if __name__ == "__main__":
    sys.exit(main())
