"""The whole DAG (`insight run all`) at several data sizes: seconds per stage per size, the
fitted growth exponent per stage (time ~ size^b, least squares on the logs) and the peak
memory of the whole process tree (Python + the Spark JVM + Horovod workers).

    python -m bench.scaling [--customers 32000,8000,16000] [--review-factor 5]
                                                              (part of make bench)

Events and reviews grow with the customers at the generator's rates: ~40 events per
customer and, with --review-factor 5 (5x the chance to review a purchase), ~3.4 reviews.
The first default size is the soak run (`make bench-soak`): 32,000 customers, ~1.3M events,
~110k reviews. Sizes run in the order given; bench/results/NAME.json and NAME.md (NAME:
--name, default scaling) are rewritten after each one, so a stopped run keeps what it finished.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import psutil

from bench import sparklog
from bench.common import (
    RESULTS,
    fresh_lake,
    machine,
    scales_parser,
    table,
    update_readme,
    write_results,
)
from insight import columns as C
from insight import tables
from insight.config import load_config
from insight.features.schemas import CUSTOMER_FEATURES, CUSTOMER_FEATURES_SCHEMA
from insight.spark import build_spark

AS_OF = "2025-12-31"
SEED = 42
AIM_EXPONENT = 1.1


class PeakMemory:
    """Samples the resident memory of this process and all its children every second."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(1.0):
            rss = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:  # a worker that just ended
                    continue
            self.peak = max(self.peak, rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def stage_windows(lake: Path) -> dict[str, tuple[datetime, datetime]]:
    """When each task of the DAG run started and finished, from the run ledger (one row per
    finished job)."""
    spark = build_spark(load_config("local", lake=str(lake)))
    rows = (
        tables.read(spark, tables.RUN_LEDGER, str(lake))
        .where(f"table_name IS NULL AND status = 'done' AND as_of = '{AS_OF}' AND job != 'all'")
        .collect()
    )
    return {r["job"]: (r["started_at"], r["finished_at"]) for r in rows}


def throughput(records: dict, customers: int, seconds: dict[str, float]) -> dict[str, dict]:
    """Rows (or customers) per second of each stage, by what the stage reads most of."""
    unit = {"clean": "rows", "ingest": "rows", "nlp": "reviews"}
    rows = sum(v for k, v in records.items() if k in ("customers", "products", "events", "reviews"))
    counts = {"rows": rows, "reviews": records.get("reviews", 0), "customers": customers}
    out = {}
    for stage, secs in seconds.items():
        what = unit.get(stage, "customers")
        out[stage] = {"unit": f"{what}/s", "per_second": round(counts[what] / secs, 1)}
    return out


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """b of seconds ~ a * size^b, fitted on log-log."""
    b, _ = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return round(float(b), 3)


def run_size(work: Path, customers: int, review_factor: float) -> dict:
    from jobs import all as run_all

    lake = fresh_lake(work, "scaling", customers, SEED, review_factor)
    manifest = json.loads((lake / "truth" / "manifest.json").read_text())
    # One event log for the bench process (a Spark session outlives the sizes); each
    # stage's profile takes the jobs that started inside its ledger window.
    event_log = work / "eventlog"
    args = ["--env", "local", "--lake", str(lake), "--as-of", AS_OF]
    with PeakMemory() as memory:
        t0 = time.monotonic()
        rc = run_all.main([*args, "--conf", sparklog.conf(event_log)])
        wall = time.monotonic() - t0
    if rc != 0:
        raise SystemExit(f"insight run all failed at {customers} customers (exit {rc})")
    windows = stage_windows(lake)
    seconds = {
        job: round((end - start).total_seconds(), 2) for job, (start, end) in windows.items()
    }
    return {
        "customers": customers,
        "measured_at": machine()["measured_at"],
        "records": manifest.get("records", {}),
        "review_factor": review_factor,
        "wall_seconds": round(wall, 1),
        "peak_rss_gib": round(memory.peak / 1024**3, 2),
        "stage_seconds": seconds,
        "throughput": throughput(manifest.get("records", {}), customers, seconds),
        "profile": sparklog.profile(event_log, windows),
        "features_peer": features_peer(lake),
    }


def features_peer(lake: Path) -> dict:
    """The pandas peer of the features task on the silver tables this DAG run wrote, and
    how its table differs from gold.customer_features. A peer failure is recorded, not
    raised: the DAG figures of the size are kept either way."""
    from bench.peers import pandas_features as peer

    try:
        t0 = time.monotonic()
        theirs = peer.features_lake(lake, lake / "pandas", date.fromisoformat(AS_OF))
        seconds = time.monotonic() - t0
        columns = [f.name for f in CUSTOMER_FEATURES_SCHEMA]
        ours = peer.read_delta(CUSTOMER_FEATURES.path(str(lake)), columns)
        ours = ours[ours[C.AS_OF].astype(str) == AS_OF]
        return {
            "name": "pandas, one process (bench/peers/pandas_features.py)",
            "seconds": round(seconds, 2),
            "customers": len(theirs),
            "customers_per_second": round(len(theirs) / seconds, 1),
            "differences_from_ours": peer.disagreements(ours, theirs),
        }
    except Exception as exc:  # named in the results instead
        return {"error": f"{type(exc).__name__}: {exc}"}


def render(name: str, payload: dict) -> None:
    sizes = sorted(payload["sizes"], key=lambda s: s["customers"])
    rows = []
    for stage in stages_of(sizes):
        b = payload["exponents"].get(stage)
        row = {"stage": stage, "b": "" if b is None else b}
        row["aim met"] = "" if b is None else b <= AIM_EXPONENT
        row |= {f"{s['customers']:,}": s["stage_seconds"].get(stage, "") for s in sizes}
        rows.append(row)
    cols = [("stage", "stage"), *[(f"{s['customers']:,}", f"s at {s['customers']:,}")
            for s in sizes], ("b", "exponent b"), ("aim met", f"b <= {AIM_EXPONENT}")]  # fmt: skip
    md = table(rows, cols)
    runs = "; ".join(
        f"{s['customers']:,} customers ({s['records'].get('events', 0):,} events, "
        f"{s['records'].get('reviews', 0):,} reviews): {s['wall_seconds'] / 60:.1f} min, "
        f"peak {s['peak_rss_gib']} GiB"
        for s in sizes
    )
    peers = "; ".join(
        f"{s['customers']:,}: " + (
            f"error {s['features_peer']['error']}" if "error" in s["features_peer"]
            else f"{s['features_peer']['seconds']} s vs ours {s['stage_seconds'].get('features')}"
            f" s, differing cells {s['features_peer']['differences_from_ours'] or 'none'}"
        )
        for s in sizes if "features_peer" in s
    )  # fmt: skip
    largest = sizes[-1]
    if "profile" in largest:
        md += f"\n\n{profile_table(largest)}"
    m = payload["machine"]
    facts = (
        f"Seconds per DAG task (run ledger) per number of generated customers; b fitted on "
        f"log seconds vs log customers. Whole runs (wall time, peak resident memory of the "
        f"process tree): {runs}. Measured {m['measured_at']} on {m['cores']} cores, "
        f"{m['memory_gib']} GiB; Spark `local[2]`; commit {m.get('commit', 'not recorded')}. "
        f"Profile (from Spark's event log): Spark jobs started in the task, the wall seconds "
        f"during which one ran, and the rest (driver-side work: Python, planning, Delta log "
        f"handling, GX, process start-up). The features task in one pandas process "
        f"on the same silver tables, per size: {peers or 'not run'}."
    )
    (RESULTS / f"{name}.md").write_text(f"# Scaling: the whole DAG\n\n{md}\n\n{facts}\n")
    if name == "scaling":
        update_readme("scaling", f"{md}\n\n{facts}")
    print(md)
    print(facts)


def profile_table(size: dict) -> str:
    """Where the seconds of one size's stages go, with each stage's throughput."""
    rows = [
        {"stage": stage, "s": secs, **size["profile"].get(stage, {}),
         "rate": f"{size['throughput'][stage]['per_second']:,} {size['throughput'][stage]['unit']}"}
        for stage, secs in sorted(size["stage_seconds"].items(), key=lambda kv: -kv[1])
    ]  # fmt: skip
    cols = [("stage", f"stage at {size['customers']:,}"), ("s", "s"), ("rate", "throughput"),
            ("spark_jobs", "Spark jobs"), ("in_spark_jobs_s", "s in Spark jobs"),
            ("outside_spark_jobs_s", "s outside"), ("task_cpu_s", "task CPU s"),
            ("delta_jobs", "Delta jobs")]  # fmt: skip
    return table(rows, cols)


def stages_of(sizes: list[dict]) -> list[str]:
    """Every DAG task timed at any size, by name."""
    return sorted(set().union(*(s["stage_seconds"] for s in sizes)))


def exponents_of(sizes: list[dict]) -> dict[str, float]:
    """The fitted exponent of every stage measured at two sizes or more."""
    exponents = {}
    for stage in stages_of(sizes):
        pts = [(s["customers"], s["stage_seconds"][stage]) for s in sizes
               if s["stage_seconds"].get(stage)]  # fmt: skip
        if len({n for n, _ in pts}) >= 2:
            exponents[stage] = exponent(*map(list, zip(*pts, strict=True)))
    return exponents


def main(argv: list[str] | None = None) -> int:
    parser = scales_parser(__doc__, "32000,8000,16000")
    parser.add_argument(
        "--review-factor", type=float, default=5.0, help="the generator's review factor (5)"
    )
    parser.add_argument(
        "--name", default="scaling", help="results file name: bench/results/NAME.json (scaling)"
    )
    parser.add_argument(
        "--add",
        action="store_true",
        help="keep the sizes already in NAME.json (same review factor), measure only these",
    )
    parser.add_argument("--render", action="store_true", help="only re-render from NAME.json")
    args = parser.parse_args(argv)
    if args.render:
        render(args.name, json.loads((RESULTS / f"{args.name}.json").read_text()))
        return 0
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sizes = kept_sizes(args.name, args.review_factor) if args.add else []
    for n in map(int, args.customers.split(",")):
        sizes = [s for s in sizes if s["customers"] != n]
        sizes.append(run_size(work, n, args.review_factor))
        write(args.name, sizes, args.review_factor)
    return 0


def kept_sizes(name: str, review_factor: float) -> list[dict]:
    """The sizes of an earlier NAME.json, refused if they were measured on other data."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return []
    earlier = json.loads(path.read_text())
    factor = earlier["config"].get("review_factor", 1.0)
    if factor != review_factor:
        raise SystemExit(f"{path} was measured at review factor {factor}, not {review_factor}")
    return earlier["sizes"]


def write(name: str, sizes: list[dict], review_factor: float) -> None:
    """NAME.json and NAME.md for the sizes finished so far."""
    payload = {
        "stage": "scaling",
        "what": "insight run all at several sizes: seconds per stage, growth exponents",
        "aim": f"b <= {AIM_EXPONENT} for every stage",
        "machine": machine(),
        "config": {
            "env": "local",
            "master": "local[2]",
            "as_of": AS_OF,
            "seed": SEED,
            "review_factor": review_factor,
        },
        "sizes": sizes,
        "exponents": exponents_of(sizes),
    }
    write_results(name, payload)
    render(name, payload)


if __name__ == "__main__":
    raise SystemExit(main())
