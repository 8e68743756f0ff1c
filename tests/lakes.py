"""Helpers for tests that copy or compare whole lakes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pyspark.sql import functions as F

from insight import tables

# Columns that say when a run wrote the row (not what it computed), and the run id.
RUN_STAMPS = {"_ingested_at", "_batch_id", "_cleaned_at", "quarantined_at", "run_id",
              "scored_at", "recommended_at", "profile_updated_at"}  # fmt: skip


def content_hashes(
    spark, lake: str, layers=("silver", "gold"), ignore: frozenset[str] = frozenset()
) -> dict[str, str]:
    """SHA-256 of every table's rows (sorted) in these layers, run stamps (and `ignore`)
    left out."""
    out = {}
    for layer in layers:
        folder = Path(lake) / layer
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            df = tables.read(spark, tables.Table(layer, child.name), lake)
            cols = sorted(c for c in df.columns if c not in RUN_STAMPS | ignore)
            lines = sorted(r[0] for r in df.select(F.to_json(F.struct(*cols))).collect())
            out[f"{layer}.{child.name}"] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return out


def copy_lake(src: str, dst: str) -> None:
    """Copy a lake; the ingest checkpoints name landing files by absolute path, so they are
    pointed at the copy's landing files (or every file would look new there)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("_catalog"))
    for f in (Path(dst) / "_checkpoints" / "ingest").rglob("*"):
        if f.is_file() and "sources" in f.parts and not f.name.endswith(".crc"):
            text = f.read_text()
            if src in text:
                f.write_text(text.replace(f"{src}/", f"{dst}/"))
                f.with_name(f".{f.name}.crc").unlink(missing_ok=True)  # Hadoop's checksum
