"""The ingest job: new landing files -> bronze.<entity>, exactly once per file."""

from __future__ import annotations

import logging
from pathlib import Path

from insight import columns as C
from insight import landing, storage, tables
from insight.clean.schemas import BRONZE
from insight.erase.schemas import SUPPRESSED
from insight.erase.stats import exclude_from_stats
from insight.erase.suppress import without_suppressed
from insight.errors import LandingError
from insight.ingest.bronze import (
    rescued_fields,
    with_batch,
    with_rescued_data,
    with_source_file,
    without_header,
)
from insight.ops.ledger import NOTHING_NEW, OK
from insight.runtime import JobRun
from insight.streaming import Batch, process_available

log = logging.getLogger(__name__)


def landing_folders(lake: str) -> dict[str, str]:
    """Entity -> landing folder, for the entities present; errors name what is missing."""
    landing_dir = f"{lake}/landing"
    if not storage.is_local(lake):
        # remote: Spark reports what is absent
        return {e: f"{landing_dir}/{e}" for e in landing.ENTITIES}
    root = Path(landing_dir)
    if not root.is_dir():
        raise LandingError(
            f"landing folder not found: {root} (create one with `insight generate --lake "
            f"{lake}` or point --lake at a lake that has a landing/ folder)"
        )
    found = {e: str(root / e) for e in landing.ENTITIES if (root / e).is_dir()}
    if not found:
        raise LandingError(
            f"landing folder {root} has none of the entity folders {', '.join(landing.ENTITIES)}"
        )
    for entity in sorted(set(landing.ENTITIES) - set(found)):
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
        .option("pathGlobFilter", f"*{landing.FILE_SUFFIX[entity]}")
        .load(folder)
        .transform(with_source_file)
        .transform(without_header, entity=entity)
        .transform(with_rescued_data, entity=entity)
    )
    # Raw lines (PII in CRM lines, maybe in unknown fields) stay out of the Delta log's
    # file statistics.
    tables.create_if_missing(run.spark, table, run.lake, BRONZE)
    exclude_from_stats(run.spark, table, run.lake, ["value", C.RESCUED_DATA])
    total = 0
    # Erased customers (ops.suppressed_customers): their re-sent lines never reach bronze;
    # the ledger counts them as rows_in - rows_written.
    suppressed = None
    if tables.exists(run.spark, SUPPRESSED, run.lake):
        suppressed = tables.read(run.spark, SUPPRESSED, run.lake)

    def handle(batch: Batch) -> None:
        nonlocal total
        step = run.step()
        batch_id = f"{entity}-{batch.epoch:06d}"
        rows = batch.df.transform(
            with_batch, batch_id=batch_id, ingested_at=step.started_at
        ).persist()
        kept = rows
        if suppressed is not None:
            kept = rows.transform(
                without_suppressed, entity=entity, salt=run.salt, suppressed=suppressed
            )
        try:
            n_in = rows.count()
            n = n_in if kept is rows else kept.count()
            drift = rescued_fields(kept) if entity in landing.JSON_ENTITIES else {}
            tables.append(kept, table, run.lake, txn=batch.txn(table.qualified))
        finally:
            rows.unpersist()
        total += n
        notes = [f"{n_in - n} lines of erased customers dropped"] if n_in != n else []
        if drift:
            fields = ", ".join(f"{k} ({v} lines)" for k, v in sorted(drift.items()))
            notes.append(f"fields not in the contract kept in {C.RESCUED_DATA}: {fields}")
            log.warning("ingest %s: schema drift in batch %s: %s", entity, batch_id, notes[-1])
        log.info(
            "ingest %s: batch %s appended %d lines to %s%s", entity, batch_id, n, table,
            "".join(f"; {x}" for x in notes),
        )  # fmt: skip
        entry = step.entry(
            table.qualified,
            OK,
            batch_id=batch_id,
            rows_in=n_in,
            rows_written=n,
            rows_quarantined=0,
            duplicates_collapsed=0,
            message="; ".join(notes) or None,
        )
        run.record([entry], txn=batch.txn(tables.RUN_LEDGER.qualified))

    step = run.step()
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
        entry = step.entry(
            table.qualified,
            NOTHING_NEW,
        )
        run.record([entry])
    return total
