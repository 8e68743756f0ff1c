"""What every job shares: its command line, config, logging, session, run id and ledger.

A job is a function `body(run) -> None`; `run_job` wraps it so that every job parses the
same flags, logs the same way, records a failure in ops.run_ledger and exits non-zero
with a message that names the problem.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from pyspark.sql import SparkSession

from insight import tables
from insight.config import Config, load_config
from insight.errors import InsightError
from insight.flags import add_common_args
from insight.ops.ledger import DONE, FAILED, SKIPPED, LedgerEntry, ledger_frame, versions
from insight.ops.logs import StageProgress, log_context, setup_logging
from insight.pii import load_salt
from insight.spark import build_spark

log = logging.getLogger("insight")


def utc_now() -> datetime:
    """Naive UTC, as Spark timestamps are stored in a UTC session."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_as_of(text: str | None) -> date:
    """`YYYY-MM-DD`; without one, today's UTC date (logged, since results depend on it)."""
    if text is None:
        today = datetime.now(UTC).date()
        log.warning("no --as-of given: using today's date %s (UTC)", today)
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InsightError(f"--as-of {text!r} is not a date in the form YYYY-MM-DD") from None


@dataclass
class JobRun:
    """One run of one job: its config, session, business date and id."""

    job: str
    cfg: Config
    spark: SparkSession
    as_of: date
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: datetime = field(default_factory=lambda: utc_now())
    # The job's own flags: an instance of the `Flags` dataclass in insight/<job>/job.py, or
    # None for a job without any.
    flags: Any = None
    # "<table>: <why>" for each table this job recorded as skipped (could not do its work).
    skipped: list[str] = field(default_factory=list)

    @property
    def lake(self) -> str:
        return self.cfg.lake

    @cached_property
    def salt(self) -> bytes:
        return load_salt(self.cfg.pii.salt_env, allow_dev_salt=self.cfg.pii.allow_dev_salt)

    def checkpoint(self, name: str) -> str:
        """Streaming checkpoint folder of one incremental step, e.g. `clean/events`."""
        return f"{self.lake}/_checkpoints/{name}"

    def for_job(self, job: str, flags: Any = None) -> JobRun:
        """The same run (id, session, as_of) acting as another job of the DAG, with that
        job's own `flags`."""
        return dataclasses.replace(self, job=job, flags=flags, skipped=[])

    def step(self) -> Step:
        """Start timing a piece of this job's work; its ledger rows carry start and seconds."""
        return Step(self)

    def entry(
        self,
        table_name: str | None,
        status: str,
        *,
        started_at: datetime,
        seconds: float,
        batch_id: str | None = None,
        rows_in: int | None = None,
        rows_written: int | None = None,
        rows_quarantined: int | None = None,
        duplicates_collapsed: int | None = None,
        validation_seconds: float | None = None,
        message: str | None = None,
    ) -> LedgerEntry:
        """A ledger row for this run; run id, job, as_of and versions filled in."""
        return LedgerEntry(
            run_id=self.run_id,
            job=self.job,
            table_name=table_name,
            batch_id=batch_id,
            as_of=self.as_of,
            status=status,
            rows_in=rows_in,
            rows_written=rows_written,
            rows_quarantined=rows_quarantined,
            duplicates_collapsed=duplicates_collapsed,
            started_at=started_at,
            finished_at=utc_now(),
            seconds=seconds,
            validation_seconds=validation_seconds,
            versions=versions(),
            message=message,
        )

    def record(self, entries: Sequence[LedgerEntry], txn: tuple[str, int] | None = None) -> None:
        """Append to ops.run_ledger (`txn` makes a replayed streaming batch write once)."""
        if entries:
            frame = ledger_frame(self.spark, list(entries))
            tables.append(frame, tables.RUN_LEDGER, self.lake, txn=txn)
            self.skipped += [f"{e.table_name}: {e.message}" for e in entries if e.status == SKIPPED]


@dataclass
class Step:
    """One timed piece of a job's work (a table, a batch): `step.entry(table, status, ...)` is
    its ledger row, started when the step was and timed up to now."""

    run: JobRun
    started_at: datetime = field(default_factory=utc_now)
    t0: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.t0

    def entry(self, table_name: str | None, status: str, **fields: Any) -> LedgerEntry:
        return self.run.entry(table_name, status, started_at=self.started_at,
                              seconds=self.seconds, **fields)  # fmt: skip


def run_job(
    job: str,
    body: Callable[[JobRun], None],
    argv: Sequence[str] | None,
    description: str,
    add_args: Callable[[argparse.ArgumentParser], None] | None = None,
    flags: type | None = None,
) -> int:
    """Parse the job's flags, run `body`, and turn failures into clear exit codes.

    `add_args` adds the job's own flags and `flags` is the frozen dataclass they are read
    into, once (`job_flags`); the body finds that instance as `run.flags`.
    Returns 0 on success, 2 for a problem with the input (message names it), 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog=f"insight run {job}", description=description)
    add_common_args(parser)
    if add_args is not None:
        add_args(parser)
    args = parser.parse_args(argv)
    setup_logging(fmt=args.log_format or "text")
    try:
        as_of = parse_as_of(args.as_of)
        cfg = load_config(args.env, lake=args.lake, overrides=args.conf)
        setup_logging(cfg.log.level, args.log_format or cfg.log.format)
        run = JobRun(job, cfg, build_spark(cfg), as_of, flags=job_flags(flags, args))
        run.salt  # noqa: B018 - fail at start-up, not mid-job, when the salt is missing
    except InsightError as exc:
        log.error("%s: %s", job, exc)
        return 2
    with log_context(run_id=run.run_id, job=job, as_of=str(as_of)):
        log.info("%s: run %s, as_of %s, env %s, lake %s", job, run.run_id, as_of, cfg.env, cfg.lake)
        with StageProgress(run.spark.sparkContext, cfg.log.progress_seconds, log):
            return execute(run, body)


def job_flags(flags: type | None, args: argparse.Namespace) -> Any:
    """A job's `Flags` dataclass built from its parsed command line, each field from the
    argument of the same name (dest); None for a job without flags.

    Example::

        @dataclass(frozen=True)
        class Flags:
            score_only: bool = False  # --score-only, dest="score_only"

        job_flags(Flags, parser.parse_args(["--score-only"]))  # Flags(score_only=True)
    """
    if flags is None:
        return None
    return flags(**{f.name: getattr(args, f.name) for f in dataclasses.fields(flags)})


def execute(run: JobRun, body: Callable[[JobRun], None]) -> int:
    """Run one job body; record `done` or `failed` in the ledger; 0, 2 (bad input) or 1."""
    step = run.step()
    try:
        body(run)
    except InsightError as exc:
        log.error("%s failed: %s", run.job, exc)
        _record(step, FAILED, str(exc))
        return getattr(exc, "exit_code", 2)
    except Exception as exc:
        log.exception("%s failed unexpectedly", run.job)
        _record(step, FAILED, f"{type(exc).__name__}: {exc}")
        return 1
    seconds = step.seconds
    if not _record(step, DONE, f"done in {seconds:.1f}s"):
        # Unrecorded, the DAG and the audit would not know the work was done: not a success.
        log.error("%s: its work finished but %s could not record it: failed", run.job,
                  tables.RUN_LEDGER)  # fmt: skip
        return 1
    log.info("%s: done in %.1fs", run.job, seconds, extra={"seconds": round(seconds, 3)})
    return 0


def _record(step: Step, status: str, message: str) -> bool:
    """Record the job's outcome; False (and the error logged) if the ledger write failed."""
    run = step.run
    entry = step.entry(None, status, message=message[:2000])
    try:
        run.record([entry])
    except Exception:  # the ledger itself may be what broke; the log still has the error
        log.exception("could not record %s of %s in %s", status, run.job, tables.RUN_LEDGER)
        return False
    return True
