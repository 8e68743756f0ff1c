"""The whole DAG (`insight run all`) at several data sizes: seconds per stage per size, the
fitted growth exponent per stage (time ~ size^b, least squares on the logs) and the peak
memory of the whole process tree (Python + the Spark JVM + Horovod workers).

    python -m bench.scaling [--customers 10000,40000,160000]   (part of make bench)

Events and reviews grow with the customers (the generator's rates). Writes
bench/results/scaling.json and bench/results/scaling.md. A single large size doubles as the
soak run: `--customers 25000` is about a million events.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from bench.common import RESULTS, fresh_lake, machine, scales_parser, table, write_results
from insight import tables
from insight.config import load_config
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


def stage_seconds(lake: Path) -> dict[str, float]:
    """Seconds of each task of the DAG run, from the run ledger (one row per finished job)."""
    spark = build_spark(load_config("local", lake=str(lake)))
    rows = (
        tables.read(spark, tables.RUN_LEDGER, str(lake))
        .where(f"table_name IS NULL AND status = 'done' AND as_of = '{AS_OF}' AND job != 'all'")
        .collect()
    )
    return {r["job"]: round((r["finished_at"] - r["started_at"]).total_seconds(), 2) for r in rows}


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """b of seconds ~ a * size^b, fitted on log-log."""
    b, _ = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return round(float(b), 3)


def run_size(work: Path, customers: int) -> dict:
    from jobs import all as run_all

    lake = fresh_lake(work, "scaling", customers, SEED)
    manifest = json.loads((lake / "truth" / "manifest.json").read_text())
    with PeakMemory() as memory:
        t0 = time.monotonic()
        rc = run_all.main(["--env", "local", "--lake", str(lake), "--as-of", AS_OF])
        wall = time.monotonic() - t0
    if rc != 0:
        raise SystemExit(f"insight run all failed at {customers} customers (exit {rc})")
    return {
        "customers": customers,
        "records": manifest.get("records", {}),
        "wall_seconds": round(wall, 1),
        "peak_rss_gib": round(memory.peak / 1024**3, 2),
        "stage_seconds": stage_seconds(lake),
    }


def render(payload: dict) -> None:
    sizes = payload["sizes"]
    rows = []
    for stage, b in payload["exponents"].items():
        row = {"stage": stage, "b": b, "aim met": b <= AIM_EXPONENT}
        row |= {f"{s['customers']:,}": s["stage_seconds"].get(stage, "") for s in sizes}
        rows.append(row)
    cols = [("stage", "stage"), *[(f"{s['customers']:,}", f"s at {s['customers']:,}")
            for s in sizes], ("b", "exponent b"), ("aim met", f"b <= {AIM_EXPONENT}")]  # fmt: skip
    md = table(rows, cols)
    mem = ", ".join(f"{s['customers']:,}: {s['peak_rss_gib']} GiB" for s in sizes)
    m = payload["machine"]
    facts = (
        f"Seconds per DAG task (run ledger) per number of generated customers; b fitted on "
        f"log seconds vs log customers. Peak memory of the process tree: {mem}. Measured "
        f"{m['measured_at']} on {m['cores']} cores, {m['memory_gib']} GiB; Spark `local[2]`."
    )
    (RESULTS / "scaling.md").write_text(f"# Scaling: the whole DAG\n\n{md}\n\n{facts}\n")
    print(md)
    print(facts)


def main(argv: list[str] | None = None) -> int:
    parser = scales_parser(__doc__, "10000,40000,160000")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sizes = [run_size(work, int(n)) for n in args.customers.split(",")]
    stages = sorted(set().union(*(s["stage_seconds"] for s in sizes)))
    exponents = {}
    if len(sizes) >= 2:
        for stage in stages:
            pts = [(s["customers"], s["stage_seconds"][stage]) for s in sizes
                   if s["stage_seconds"].get(stage)]  # fmt: skip
            if len(pts) >= 2:
                exponents[stage] = exponent(*map(list, zip(*pts, strict=True)))
    payload = {
        "stage": "scaling",
        "what": "insight run all at several sizes: seconds per stage, growth exponents",
        "aim": f"b <= {AIM_EXPONENT} for every stage",
        "machine": machine(),
        "config": {"env": "local", "master": "local[2]", "as_of": AS_OF, "seed": SEED},
        "sizes": sizes,
        "exponents": exponents,
    }
    write_results("scaling", payload)
    render(payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
