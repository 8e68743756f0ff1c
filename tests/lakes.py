"""Helpers for tests that copy or compare whole lakes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import tables

# Columns that say when a run wrote the row (not what it computed), and the run id.
RUN_STAMPS = {"_ingested_at", "_batch_id", "_cleaned_at", "quarantined_at", "run_id",
              "scored_at", "recommended_at", "profile_updated_at"}  # fmt: skip


def content_hashes(
    spark, lake: str, layers=("silver", "gold"), ignore: frozenset[str] = frozenset()
) -> dict[str, str]:
    """SHA-256 of every table's rows (sorted) in these layers, run stamps (and `ignore`)
    left out. Doubles count to 12 significant digits: sums over tasks (LDA's topic weights)
    move in their last bits with the order in which the tasks finish."""
    out = {}
    for table in tables.lake_tables(spark, lake):
        if table.layer not in layers:
            continue
        df = tables.read(spark, table, lake)
        cols = [
            F.expr(f"cast(format_string('%.12g', `{f.name}`) as string)").alias(f.name)
            if isinstance(f.dataType, T.DoubleType | T.FloatType) else F.col(f"`{f.name}`")
            for f in sorted(df.schema.fields, key=lambda f: f.name)
            if f.name not in RUN_STAMPS | ignore
        ]  # fmt: skip
        lines = sorted(r[0] for r in df.select(F.to_json(F.struct(*cols))).collect())
        out[table.qualified] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
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
