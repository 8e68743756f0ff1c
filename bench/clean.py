"""Benchmark the clean stage (bronze -> silver + quarantine) at two scales, side by side
with the same cleaning in a single pandas process on the same landing files.

    python -m bench.clean [--customers 2000,25000]   (make bench-clean)

Writes bench/results/clean.json and bench/results/clean.md.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

from pyspark.sql import functions as F

from bench.common import (
    RESULTS,
    fresh_lake,
    machine,
    scales_parser,
    table,
    update_readme,
    write_results,
)
from bench.peers.pandas_clean import clean_lake
from insight import tables
from insight.clean.run import clean_params
from insight.config import load_config
from insight.pii import load_salt, pseudonymise
from insight.spark import build_spark
from jobs import clean, ingest

AS_OF = "2025-12-31"
SEED = 42
log = logging.getLogger("bench.clean")


def run_scale(work: Path, customers: int) -> dict:
    lake = fresh_lake(work, "clean", customers, SEED)
    args = ["--env", "local", "--lake", str(lake), "--as-of", AS_OF]
    t0 = time.monotonic()
    assert ingest.main(args) == 0, "ingest failed"
    ingest_s = time.monotonic() - t0
    t0 = time.monotonic()
    assert clean.main(args) == 0, "clean failed"
    clean_s = time.monotonic() - t0

    cfg = load_config("local", lake=str(lake))
    spark = build_spark(cfg)
    ledger = tables.read(spark, tables.RUN_LEDGER, str(lake)).where(
        "job = 'clean' AND status = 'ok'"
    )
    agg = ledger.groupBy().sum("rows_in", "validation_seconds").first()
    rows_in, gx_s = int(agg[0]), float(agg[1])
    spark_counts = {
        e: {
            "silver": tables.read(spark, tables.silver(e), str(lake)).count(),
            "quarantined": tables.read(spark, tables.quarantine(e), str(lake)).count(),
        }
        for e in ("customers", "products", "events", "reviews")
    }

    floor_s = parquet_floor(spark, lake)
    events = spark_counts["events"]["silver"] + spark_counts["events"]["quarantined"]
    salt = load_salt(cfg.pii.salt_env, allow_dev_salt=True)
    hmac_rate = pseudonymise_rate(spark, events, salt)

    params = clean_params(cfg.clean, date.fromisoformat(AS_OF))
    t0 = time.monotonic()
    pandas_counts = clean_lake(
        lake, lake / "pandas", salt=salt, fx=cfg.clean.fx_to_base, params=params
    )
    pandas_s = time.monotonic() - t0
    pandas_rows = sum(c["rows_in"] for c in pandas_counts.values())
    agree = all(
        spark_counts[e][k] == pandas_counts[e][k]
        for e in spark_counts
        for k in ("silver", "quarantined")
    )
    return {
        "customers": customers,
        "rows_in": rows_in,
        "events": events,
        "pseudonymise_rows_per_second": hmac_rate,
        "ingest_seconds": round(ingest_s, 2),
        "clean_seconds": round(clean_s, 2),
        "rows_per_second": round(rows_in / clean_s, 1),
        "gx_seconds": round(gx_s, 2),
        "gx_share": round(gx_s / clean_s, 3),
        "parquet_floor_seconds": round(floor_s, 2),
        "parquet_floor_rows_per_second": round(rows_in / floor_s, 1),
        "share_of_parquet_floor": round(floor_s / clean_s, 3),
        "pandas_seconds": round(pandas_s, 2),
        "pandas_rows_in": pandas_rows,
        "pandas_rows_per_second": round(pandas_rows / pandas_s, 1),
        "spark_over_pandas": round((rows_in / clean_s) / (pandas_rows / pandas_s), 3),
        "same_result_as_pandas": agree,
        "counts": {"spark": spark_counts, "pandas": pandas_counts},
    }


def parquet_floor(spark, lake: Path) -> float:
    """Seconds for a plain Parquet read + write of the bronze tables clean reads (the same
    bytes, no parsing or checks): the physical floor of the stage on this machine."""
    t0 = time.monotonic()
    for entity in ("customers", "products", "events", "reviews"):
        bronze = tables.read(spark, tables.Table("bronze", entity), str(lake))
        bronze.write.mode("overwrite").parquet(str(lake / "parquet-floor" / entity))
    return time.monotonic() - t0


def pseudonymise_rate(spark, rows: int, salt: bytes) -> float:
    """Rows/s of the pseudonymise step alone (HMAC-SHA256 of a source id, as clean keys
    every event), on `rows` generated ids: the best of three runs."""
    ids = spark.range(rows).select(F.format_string("C%08d", "id").alias("customer_id"))
    keyed = ids.transform(pseudonymise, {"customer_key": "customer_id"}, salt=salt)
    best = float("inf")
    for _ in range(3):
        t0 = time.monotonic()
        keyed.agg(F.count("customer_key")).collect()
        best = min(best, time.monotonic() - t0)
    return round(rows / best, 1)


def render(payload: dict) -> None:
    """bench/results/clean.md and the README's performance section, from the results."""
    results = payload["scales"]
    md = table(
        results,
        [
            ("customers", "customers"),
            ("rows_in", "rows in"),
            ("clean_seconds", "Spark clean s"),
            ("rows_per_second", "Spark rows/s"),
            ("gx_share", "GX share"),
            ("pseudonymise_rows_per_second", "HMAC rows/s"),
            ("share_of_parquet_floor", "share of Parquet floor"),
            ("pandas_seconds", "pandas s"),
            ("pandas_rows_per_second", "pandas rows/s"),
            ("spark_over_pandas", "Spark / pandas"),
            ("same_result_as_pandas", "same result"),
        ],
    )
    m = payload["machine"]
    facts = (
        f"Measured {m['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB "
        f"({m['cpu']}); Spark `local[2]`, pandas {m['versions']['pandas']} in one process. "
        "*same result*: both kept and quarantined exactly the same rows. *share of Parquet "
        "floor*: clean's throughput as a share of a plain Parquet read + write of the same "
        "bronze tables (1.0 would be the physical limit). *HMAC rows/s*: the pseudonymise "
        "step alone on as many generated ids as the scale has events."
    )
    (RESULTS / "clean.md").write_text(f"# Clean stage benchmark\n\n{md}\n\n{facts}\n")
    update_readme("clean", f"{md}\n\n{facts}")
    print(md)


def main(argv: list[str] | None = None) -> int:
    parser = scales_parser(__doc__, "2000,25000,100000")
    parser.add_argument(
        "--render", action="store_true", help="only re-render clean.md and README from clean.json"
    )
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads((RESULTS / "clean.json").read_text()))
        return 0
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    # Warm-up on a tiny lake, not reported: JVM start, jar loading, JIT and the GX context
    # would otherwise be charged to whichever scale runs first.
    run_scale(work, 100)
    results = [run_scale(work, int(n)) for n in args.customers.split(",")]
    payload = {
        "stage": "clean",
        "what": "bronze -> silver + quarantine (parse, type, normalise, HMAC, GX + routing, "
        "dedup MERGE) vs the same cleaning in one pandas process on the same landing files",
        "aims": {"gx_share_at_most": 0.25, "spark_beats_pandas_at_largest_scale": True},
        "machine": machine(),
        "config": {"env": "local", "master": "local[2]", "as_of": AS_OF, "seed": SEED},
        "scales": results,
    }
    write_results("clean", payload)
    render(payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
