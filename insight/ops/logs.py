"""Logging for every job: human lines or one JSON object per event, tagged with the run.

Each record carries the run id, job and as_of of the run it belongs to (set with
`log_context`), so the JSON lines of a whole DAG run can be filtered and joined with
ops.run_ledger. `StageProgress` logs how far Spark's running stages are on long jobs.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pyspark import SparkContext

TEXT = "text"
JSON = "json"
FORMATS = (TEXT, JSON)
NOISY = ("py4j", "great_expectations", "urllib3", "matplotlib")

# The fields of the run being executed. A process runs one job at a time, and Spark calls
# back into Python from its own threads (streaming foreachBatch), so this is process-wide
# rather than a context variable.
_context: dict[str, str] = {}
_handler: logging.Handler | None = None  # the one setup_logging installed
# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class _RunFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, run fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = TEXT) -> None:
    """Log to stderr as text or JSON lines; replaces the handler an earlier call installed
    (and only that one: handlers others attached to the root logger, such as pytest's
    log capture, stay)."""
    global _handler
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RunFilter())
    if fmt == JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(level)
    _handler = handler
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Tag every record logged inside the block with these fields (run_id, job, as_of)."""
    before = dict(_context)
    _context.update(fields)
    try:
        yield
    finally:
        _context.clear()
        _context.update(before)


class StageProgress:
    """While a job runs, log every `seconds` the Spark stages that have been running since
    the last look (long stages), with their tasks done; short stages are not logged.
    """

    def __init__(self, sc: SparkContext, seconds: float, logger: logging.Logger) -> None:
        self._sc, self._seconds, self._log = sc, seconds, logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stage-progress", daemon=True)
        self._seen: set[int] = set()

    def __enter__(self) -> StageProgress:
        if self._seconds > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                self._report()
            except Exception:  # the session may be stopping; progress is best effort
                return

    def _report(self) -> None:
        tracker = self._sc.statusTracker()
        running = {}
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None and info.numActiveTasks > 0:
                running[stage_id] = info
        long = [running[i] for i in sorted(running) if i in self._seen]
        self._seen = set(running)
        if not long:
            return
        done = sum(i.numCompletedTasks for i in long)
        total = sum(i.numTasks for i in long)
        names = ", ".join(f"{i.stageId} {i.name.split(' at ')[0]}" for i in long[:3])
        self._log.info(
            "spark: %d long stage(s) running, %d/%d tasks done (%s)", len(long), done, total,
            names, extra={"stages": len(long), "tasks_done": done, "tasks": total},
        )  # fmt: skip
