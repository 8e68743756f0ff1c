"""Shared benchmark plumbing: machine facts, results files, tables."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """Facts that make a figure comparable: cores, memory, versions."""
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    versions = {"python": platform.python_version()}
    for dist in ("pyspark", "delta-spark", "great-expectations", "pandas", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "absent"
    with open("/proc/cpuinfo") as f:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in f if "model name" in line),
            platform.processor(),
        )
    return {
        "commit": commit(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024**2, 1),
        "cpu": cpu,
        "os": platform.platform(),
        "versions": versions,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def commit() -> str:
    """The checked-out commit a figure is measured on; "+changes" when tracked files differ
    from it (the figure then belongs to no commit exactly)."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_job(job: str, args: list[str]) -> None:
    """`insight run JOB ARGS` inside this process (the benchmark's one Spark session)."""
    from insight.cli import main

    code = main(["run", job, *args])
    if code != 0:
        raise SystemExit(f"insight run {job} {' '.join(args)} failed (exit {code})")


def scales_parser(doc: str | None, default: str) -> argparse.ArgumentParser:
    """The arguments of every benchmark run at several sizes: --customers and --work."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--customers", default=default, help="sizes, comma-separated")
    parser.add_argument("--work", default="bench/work", help="where generated lakes are kept")
    return parser


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A Markdown table: columns are (key, header); floats below 1 get 3 decimals, others
    thousands separators."""

    def fmt(v: object) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            if abs(v) < 1:
                return f"{v:.3f}"  # shares and ranking metrics: the third decimal matters
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    head = "| " + " | ".join(h for _, h in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(r.get(k, "")) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


README = Path(__file__).resolve().parents[1] / "README.md"


def update_readme(name: str, markdown: str) -> None:
    """Replace the README text between <!-- bench:NAME --> and <!-- /bench:NAME -->."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = README.read_text()
    if start not in text or end not in text:
        raise ValueError(f"README.md has no {start} ... {end} section")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{markdown}\n{end}{tail}")


DERIVED = ("bronze", "silver", "gold", "quarantine", "ops", "_checkpoints", "_catalog",
           "_mlflow", "pandas")  # fmt: skip


def fresh_lake(
    work: Path, stage: str, customers: int, seed: int, review_factor: float = 1.0
) -> Path:
    """A generated landing zone (kept between runs, generating is slow) with no tables yet."""
    from lakegen import generate_lake

    suffix = "" if review_factor == 1.0 else f"-reviews{review_factor:g}x"
    lake = work / f"{stage}-{customers}{suffix}"
    if not (lake / "truth" / "manifest.json").exists():
        shutil.rmtree(lake, ignore_errors=True)
        generate_lake(
            lake,
            customers=customers,
            seed=seed,
            days=365,
            dirty_rate=0.02,
            review_factor=review_factor,
        )
    for derived in DERIVED:
        shutil.rmtree(lake / derived, ignore_errors=True)
    return lake
