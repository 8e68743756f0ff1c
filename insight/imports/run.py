"""Read a transaction export, map it (insight.imports.transform) and land the result as
landing files that `insight run ingest` picks up like any source system's drop."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from insight import landing, storage
from insight.errors import MappingError
from insight.imports.mapping import Mapping, check_columns
from insight.imports.transform import canonical_lines, profile, to_customers, to_events, to_products

log = logging.getLogger(__name__)

# Spark's part files per writer format, and the folder landing files are staged in before
# they are moved into landing/<entity>/ (ingest never sees a half-written file).
PART_SUFFIX = {"csv": ".csv", "json": ".json"}
STAGING = "_import-staging"
MANIFESTS = "_imports"


@dataclass(frozen=True)
class ImportSummary:
    """What one import read and wrote (also saved as landing/_imports/<name>.json)."""

    name: str
    mapping: str
    source: str
    lines: int
    written: dict[str, int]  # entity -> records landed
    files: dict[str, list[str]]  # entity -> landing files
    profile: dict[str, int]  # insight.imports.transform.profile_counts
    unknown_country_names: list[str]
    first_ts: str | None  # the export's first and last time read, UTC
    last_ts: str | None
    skipped: int = 0  # every line becomes an event: clean, not the import, judges them
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def check_source(path: str) -> None:
    """A local export must exist (checked before Spark starts); a URI is Spark's to read."""
    if storage.is_local(path) and not Path(path).exists():
        raise MappingError(f"export not found: {path}")


def read_export(spark: SparkSession, path: str, mapping: Mapping) -> DataFrame:
    """The export as Spark reads it with the mapping's format and options (CSV: every
    column as text, so nothing is silently retyped).

    Raises:
        MappingError: the path does not exist or cannot be read.
    """
    check_source(path)
    fmt = mapping.source.format
    options = ({"inferSchema": "false"} if fmt == "csv" else {}) | dict(mapping.source.options)
    try:
        return spark.read.format(fmt).options(**options).load(path)
    except AnalysisException as exc:
        raise MappingError(f"cannot read {path} as {fmt}: {exc}") from None


def import_export(
    spark: SparkSession, *, source: str, mapping: Mapping, lake: str, name: str | None = None
) -> ImportSummary:
    """Map the export at `source` onto `lake`/landing; return what was read and written.

    Raises:
        MappingError: a mapped column is missing, the export is unreadable, or this import
            name already landed files (re-landing them would be read by ingest again).
    """
    t0 = time.monotonic()
    name = name or mapping.name
    export = read_export(spark, source, mapping)
    check_columns(mapping, export.columns, where=source)
    landing_dir = storage.join(lake, "landing")
    _refuse_existing(spark, landing_dir, name)

    lines = canonical_lines(export, mapping).persist()
    try:
        row = lines.transform(profile).first().asDict()
        customers = lines.transform(to_customers)
        products = lines.transform(to_products, mapping)
        events = lines.transform(to_events, mapping)
        staging = storage.join(landing_dir, STAGING, name)
        storage.delete_tree(spark, staging)
        # Customers and products are one row per id: one file each is plenty to ingest.
        csv = {"header": "true", "escape": '"', "compression": "none"}
        customers.coalesce(1).write.options(**csv).csv(storage.join(staging, landing.CUSTOMERS))
        products.coalesce(1).write.options(**csv).csv(storage.join(staging, landing.PRODUCTS))
        events.write.option("compression", "none").json(storage.join(staging, landing.EVENTS))
        files = {
            entity: _land(spark, staging, landing_dir, entity, name, fmt)
            for entity, fmt in ((landing.CUSTOMERS, "csv"), (landing.PRODUCTS, "csv"),
                                (landing.EVENTS, "json"))
        }  # fmt: skip
        storage.delete_tree(spark, staging)
    finally:
        lines.unpersist()
    n = row.pop("lines")
    written = {
        landing.CUSTOMERS: row.pop("customers"),
        landing.PRODUCTS: row.pop("products"),
        landing.EVENTS: n,
    }
    unknown = list(row.pop("unknown_country_names") or [])
    first_ts, last_ts = row.pop("first_ts"), row.pop("last_ts")
    summary = ImportSummary(
        name=name, mapping=mapping.name, source=source, lines=n, written=written, files=files,
        profile={k: int(v or 0) for k, v in row.items()}, unknown_country_names=unknown,
        first_ts=first_ts, last_ts=last_ts,
        seconds=round(time.monotonic() - t0, 1),
    )  # fmt: skip
    manifest = storage.join(landing_dir, MANIFESTS, f"{name}.json")
    storage.write_text(spark, manifest, json.dumps(asdict(summary), indent=2) + "\n")
    return summary


def _refuse_existing(spark: SparkSession, landing_dir: str, name: str) -> None:
    for entity in (landing.CUSTOMERS, landing.PRODUCTS, landing.EVENTS):
        folder = storage.join(landing_dir, entity)
        taken = [n for n, _ in storage.children(spark, folder) if n.startswith(f"{name}-")]
        if taken:
            raise MappingError(
                f"an import named {name!r} already landed {taken[0]} in {folder}; ingest "
                "reads each landing file once, so import another export under another "
                "--name (its lines that repeat earlier ones collapse as duplicates in clean)"
            )


def _land(
    spark: SparkSession, staging: str, landing_dir: str, entity: str, name: str, fmt: str
) -> list[str]:
    """Move Spark's part files of `entity` into landing/<entity>/ as <name>-<entity>-NNNNN."""
    parts = [n for n, is_dir in storage.children(spark, storage.join(staging, entity))
             if not is_dir and n.startswith("part-") and n.endswith(PART_SUFFIX[fmt])]  # fmt: skip
    landed = []
    for i, part in enumerate(parts):
        target = f"{name}-{entity}-{i:05d}{landing.FILE_SUFFIX[entity]}"
        storage.rename(
            spark, storage.join(staging, entity, part), storage.join(landing_dir, entity, target)
        )
        landed.append(target)
    return landed
