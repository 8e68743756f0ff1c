"""Benchmark the clean stage (bronze -> silver + quarantine) at two scales, side by side
with the same cleaning in a single pandas process on the same landing files.

    python -m bench.clean [--customers 2000,25000]   (make bench-clean)

Writes bench/results/clean.json and bench/results/clean.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
from pyspark.sql import functions as F

from bench import sparklog
from bench.common import (
    RESULTS,
    fresh_lake,
    machine,
    run_job,
    scales_parser,
    table,
    update_readme,
    write_results,
)
from bench.peers.pandas_clean import KEYS, clean_lake
from insight import columns as C
from insight import tables
from insight.clean.run import clean_params
from insight.config import load_config
from insight.pii import load_salt, pseudonymise
from insight.spark import build_spark

AS_OF = "2025-12-31"
SEED = 42
log = logging.getLogger("bench.clean")


def run_scale(work: Path, customers: int) -> dict:
    lake = fresh_lake(work, "clean", customers, SEED)
    args = ["--env", "local", "--lake", str(lake), "--as-of", AS_OF]
    # The session (started by the first job) writes its event log here for the profile.
    event_log = work / "eventlog"
    t0 = time.monotonic()
    run_job("ingest", [*args, "--conf", sparklog.conf(event_log)])
    ingest_s = time.monotonic() - t0
    t0 = time.monotonic()
    run_job("clean", args)
    clean_s = time.monotonic() - t0

    cfg = load_config("local", lake=str(lake))
    spark = build_spark(cfg)
    ledger = tables.read(spark, tables.RUN_LEDGER, str(lake)).where(
        "job = 'clean' AND status = 'ok'"
    )
    windows = {
        f"{r.table_name} {r.batch_id}": (r.started_at, r.finished_at) for r in ledger.collect()
    }
    job = tables.read(spark, tables.RUN_LEDGER, str(lake)).where(
        "job = 'clean' AND table_name IS NULL AND status = 'done'"
    )
    for r in job.collect():
        windows["clean job"] = (r.started_at, r.finished_at)
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
    differences = {e: row_differences(spark, lake, e) for e in spark_counts}
    agree = not any(differences.values()) and all(
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
        "row_differences": differences,
        "profile": sparklog.profile(event_log, windows),
        "counts": {"spark": spark_counts, "pandas": pandas_counts},
    }


def row_differences(spark, lake: Path, entity: str) -> dict[str, int]:
    """Rows that differ between Spark's and pandas' result, by key and content: silver keys
    only one side kept, and quarantined lines (by the SHA-256 of the raw line, with the rules
    it failed) only one side quarantined. Empty: the same rows."""
    key = KEYS[entity]
    ours = set(tables.read(spark, tables.silver(entity), str(lake)).select(key).toPandas()[key])
    theirs = set(pd.read_parquet(lake / "pandas" / f"silver_{entity}.parquet", columns=[key])[key])
    quarantined = tables.read(spark, tables.quarantine(entity), str(lake)).select(
        "raw_sha256", F.array_sort(C.FAILED_RULES).alias("rules")
    )
    ours_q = Counter((r.raw_sha256, tuple(r.rules)) for r in quarantined.toLocalIterator())
    peer = pd.read_parquet(lake / "pandas" / f"quarantine_{entity}.parquet")
    theirs_q = Counter(
        (hashlib.sha256(raw.encode()).hexdigest(), tuple(sorted(rules.split(";"))))
        for raw, rules in zip(peer["_raw"], peer["failed_rules"], strict=True)
    )
    found = {
        "silver_only_spark": len(ours - theirs),
        "silver_only_pandas": len(theirs - ours),
        "quarantine_only_spark": sum((ours_q - theirs_q).values()),
        "quarantine_only_pandas": sum((theirs_q - ours_q).values()),
    }
    return {k: v for k, v in found.items() if v}


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
    results = []
    for r in payload["scales"]:
        job = r.get("profile", {}).get("clean job", {})
        out = job.get("outside_spark_jobs_s", "")
        results.append({**r, "spark_jobs": job.get("spark_jobs", ""), "outside": out})
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
            ("spark_jobs", "Spark jobs"),
            ("outside", "s outside Spark jobs"),
        ],
    )
    m = payload["machine"]
    facts = (
        f"Measured {m['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB "
        f"({m['cpu']}); Spark `local[2]`, pandas {m['versions']['pandas']} in one process. "
        "*same result*: both kept and quarantined exactly the same rows. *share of Parquet "
        "floor*: clean's throughput as a share of a plain Parquet read + write of the same "
        "bronze tables (1.0 would be the physical limit). *HMAC rows/s*: the pseudonymise "
        "step alone on as many generated ids as the scale has events. *Spark jobs*, *s outside "
        "Spark jobs*: the clean job's profile from Spark's event log (driver-side time: "
        "planning, Delta log handling, GX's Python, commits). "
        f"Commit {m.get('commit', 'not recorded')}."
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
