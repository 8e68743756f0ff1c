"""The ingest job: new landing files -> bronze.<entity>, exactly once per file."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from insight import landing as L
from insight import tables
from insight.errors import LandingError
from insight.ingest.bronze import with_batch, with_source_file, without_header
from insight.ops.ledger import NOTHING_NEW, OK
from insight.runtime import JobRun, utc_now
from insight.streaming import Batch, process_available

log = logging.getLogger(__name__)


def landing_folders(lake: str) -> dict[str, str]:
    """Entity -> landing folder, for the entities present; errors name what is missing."""
    landing = f"{lake}/landing"
    if "://" in lake or lake.startswith("dbfs:"):
        return {e: f"{landing}/{e}" for e in L.ENTITIES}  # remote: Spark reports what is absent
    root = Path(landing)
    if not root.is_dir():
        raise LandingError(
            f"landing folder not found: {root} (create one with `insight generate --lake "
            f"{lake}` or point --lake at a lake that has a landing/ folder)"
        )
    found = {e: str(root / e) for e in L.ENTITIES if (root / e).is_dir()}
    if not found:
        raise LandingError(
            f"landing folder {root} has none of the entity folders {', '.join(L.ENTITIES)}"
        )
    for entity in sorted(set(L.ENTITIES) - set(found)):
        log.warning("landing/%s/ not found: nothing to ingest for %s", entity, entity)
    return found


def ingest_all(run: JobRun) -> None:
    for entity, folder in landing_folders(run.lake).items():
        ingest_entity(run, entity, folder)


def ingest_entity(run: JobRun, entity: str, folder: str) -> int:
    """Append the lines of new files under `folder` to bronze; return rows appended."""
    table = tables.bronze(entity)
    lines = (
        run.spark.readStream.format("text")
        .option("maxFilesPerTrigger", run.cfg.ingest.max_files_per_trigger)
        .option("pathGlobFilter", f"*{L.FILE_SUFFIX[entity]}")
        .load(folder)
        .transform(with_source_file)
        .transform(without_header, entity=entity)
    )
    total = 0

    def handle(batch: Batch) -> None:
        nonlocal total
        started, t0 = utc_now(), time.monotonic()
        batch_id = f"{entity}-{batch.epoch:06d}"
        rows = batch.df.transform(with_batch, batch_id=batch_id, ingested_at=started).persist()
        try:
            n = rows.count()
            tables.append(rows, table, run.lake, txn=batch.txn(table.qualified))
        finally:
            rows.unpersist()
        total += n
        log.info("ingest %s: batch %s appended %d lines to %s", entity, batch_id, n, table)
        entry = run.entry(
            table.qualified, OK, started_at=started, seconds=time.monotonic() - t0,
            batch_id=batch_id, rows_in=n, rows_written=n, rows_quarantined=0,
            duplicates_collapsed=0,
        )  # fmt: skip
        run.record([entry], txn=batch.txn(tables.RUN_LEDGER.qualified))

    started, t0 = utc_now(), time.monotonic()
    try:
        batches = process_available(
            lines,
            checkpoint=run.checkpoint(f"ingest/{entity}"),
            name=f"ingest/{entity}",
            handle=handle,
        )
    except Exception as exc:
        if any(s in str(exc) for s in ("Permission denied", "AccessDenied", "FileNotFound")):
            raise LandingError(f"cannot read landing files under {folder}: {exc}") from exc
        raise
    if batches == 0:
        log.info("ingest %s: no new files under %s", entity, folder)
        entry = run.entry(
            table.qualified, NOTHING_NEW, started_at=started, seconds=time.monotonic() - t0
        )
        run.record([entry])
    return total
