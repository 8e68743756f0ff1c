"""Ingest new landing files (CSV, JSON lines) into append-only bronze Delta tables.

Each file is read exactly once (Structured Streaming checkpoint, availableNow); lines are
kept as received with _source_file, _ingested_at and _batch_id.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight.ingest.run import ingest_all
from insight.runtime import run_job


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("ingest", ingest_all, argv, __doc__)
