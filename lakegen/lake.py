"""generate_lake: validate, build the catalog, run partitions in parallel, write the truth."""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from insight.landing import CSV_HEADER, ENTITIES, EVENTS, PRODUCTS

from .catalog import Catalog, build_catalog
from .clock import iso
from .customers import Window
from .dirty import Sink, csv_line, dumps, inject_product
from .languages import check_languages, is_english_only
from .writer import (
    PARTITION_SIZE,
    PartitionResult,
    PartitionTask,
    derive_seed,
    init_worker,
    part_name,
    run_in_worker,
    run_partition,
)

logger = logging.getLogger(__name__)

DEFAULT_END_DATE = date(2025, 12, 31)
GENERATOR_VERSION = "1.1.0"  # 1.1: archetypes differ in category mix, returns, season
MAX_CUSTOMERS = 2_000_000  # 1,000 partitions: the 3-digit partition part of the ids
MAX_DAYS = 3_660  # keeps a partition's events inside its id block
MAX_REVIEW_FACTOR = 10.0  # past ~1/p_review every purchased item is reviewed anyway


@dataclass(frozen=True)
class GenerationSummary:
    """What generate_lake wrote."""

    landing: Path
    truth: Path
    records: dict[str, int]  # lines per entity, dirty included, CSV headers excluded
    dirty: dict[str, int]  # injected bad records per kind (all entities)
    dirty_by_entity: dict[str, dict[str, int]]
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.records[EVENTS] / self.seconds if self.seconds > 0 else 0.0


def _validate(
    customers: object,
    seed: object,
    days: object,
    dirty_rate: object,
    end_date: object,
    workers: object,
    review_factor: object = 1.0,
) -> None:
    def is_int(x: object) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    if not is_int(customers) or not 1 <= customers <= MAX_CUSTOMERS:  # type: ignore[operator]
        raise ValueError(f"customers must be an integer in 1..{MAX_CUSTOMERS}, got {customers!r}")
    if not is_int(seed):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not is_int(days) or not 7 <= days <= MAX_DAYS:  # type: ignore[operator]
        raise ValueError(f"days must be an integer in 7..{MAX_DAYS}, got {days!r}")
    if (
        isinstance(dirty_rate, bool)
        or not isinstance(dirty_rate, int | float)
        or math.isnan(dirty_rate)
        or not 0 <= dirty_rate <= 0.5
    ):
        raise ValueError(f"dirty_rate must be a number in [0, 0.5], got {dirty_rate!r}")
    if (
        isinstance(review_factor, bool)
        or not isinstance(review_factor, int | float)
        or math.isnan(review_factor)
        or not 0 < review_factor <= MAX_REVIEW_FACTOR
    ):
        raise ValueError(
            f"review_factor must be a number in (0, {MAX_REVIEW_FACTOR}], got {review_factor!r}"
        )
    if not isinstance(end_date, date) or isinstance(end_date, datetime):
        raise ValueError(f"end_date must be a datetime.date, got {end_date!r}")
    if workers is not None and (not is_int(workers) or workers < 1):  # type: ignore[operator]
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")


def _refuse_existing(landing: Path) -> None:
    if landing.exists() and not landing.is_dir():
        raise FileExistsError(f"{landing} exists and is not a folder")
    if landing.is_dir() and any(p.is_file() for p in landing.rglob("*")):
        raise FileExistsError(
            f"landing folder {landing} already contains files; refusing to mix two lakes "
            "(choose an empty folder or delete the old lake)"
        )


def _write_products(
    catalog: Catalog, landing: Path, parts: Path, seed: int, window: Window, dirty_rate: float
) -> tuple[int, dict[str, int]]:
    rng = random.Random(derive_seed(seed, "dirt", -1))
    with (parts / "dirty-products.jsonl").open("wb") as truth_dirty:
        sink = Sink(
            PRODUCTS, landing / PRODUCTS / part_name(PRODUCTS, 0), landing, rng, dirty_rate,
            truth_dirty,
        )  # fmt: skip
        try:
            sink.header(CSV_HEADER[PRODUCTS])
            for p in catalog.products:
                kind = sink.good(p.product_id, csv_line(p.csv_row()))
                if kind:
                    inject_product(sink, rng, kind, p, window)
        finally:
            sink.close()
    return sink.lines, dict(sink.dirty)


def _run_partitions(
    tasks: list[PartitionTask],
    catalog: Catalog,
    workers: int,
    customers: int,
    say: Callable[[str], None],
) -> list[PartitionResult]:
    results: list[PartitionResult] = []

    def done(r: PartitionResult) -> None:
        results.append(r)
        say(
            f"customers {r.first}-{r.last} of {customers} written "
            f"({r.records[EVENTS]:,} events; {len(results)}/{len(tasks)} partitions)"
        )

    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            done(run_partition(task, catalog))
    else:
        # "spawn": forking a process that may hold threads (a JVM gateway, a logging
        # handler) is unsafe, and spawn behaves the same on every platform.
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(catalog,),
        ) as pool:
            futures = [pool.submit(run_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                done(future.result())
    return sorted(results, key=lambda r: r.index)


def _concat(target: Path, sources: list[Path]) -> None:
    with target.open("wb") as out:
        for src in sources:
            with src.open("rb") as fh:
                shutil.copyfileobj(fh, out)


def generate_lake(
    lake: str | Path,
    *,
    customers: int,
    seed: int,
    days: int = 365,
    dirty_rate: float = 0.02,
    end_date: date = DEFAULT_END_DATE,
    workers: int | None = None,
    review_factor: float = 1.0,
    languages: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write a raw landing zone plus hidden truth under `lake`.

    `review_factor` multiplies every archetype's chance to review a purchased item (a lake
    with more reviews per customer, for load tests); 1.0 is the calibrated shop.
    `languages` gives the share of reviews written in each language ({"en": 0.7, "zh":
    0.3}, summing to 1; see lakegen.languages); None is English only. A mixed lake has the
    events, ratings and review ids of the English lake of the same seed.
    Output is byte-identical for the same arguments whatever `workers` is. Raises
    ValueError for bad arguments and FileExistsError if `lake`/landing holds files.
    """
    _validate(customers, seed, days, dirty_rate, end_date, workers, review_factor)
    shares = check_languages(languages) if languages is not None else {"en": 1.0}
    mixed = not is_english_only(shares)
    started = time.perf_counter()
    lake = Path(lake)
    landing, truth = lake / "landing", lake / "truth"
    _refuse_existing(landing)
    workers = workers or min(4, os.cpu_count() or 1)

    def say(message: str) -> None:
        logger.info(message)
        if progress is not None:
            progress(message)

    window = Window.for_dates(end_date, days)
    catalog = build_catalog(seed, customers, window.start, window.end)
    for entity in ENTITIES:
        (landing / entity).mkdir(parents=True, exist_ok=True)
    parts = truth / ".parts"
    if parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True)

    product_lines, product_dirt = _write_products(catalog, landing, parts, seed, window, dirty_rate)
    say(f"catalog of {len(catalog.products)} products written")

    tasks = [
        PartitionTask(
            index=i,
            first=first,
            count=min(PARTITION_SIZE, customers - first + 1),
            seed=seed,
            window=window,
            dirty_rate=float(dirty_rate),
            review_factor=float(review_factor),
            landing=str(landing),
            parts=str(parts),
            languages=tuple(shares.items()) if mixed else (),
        )
        for i, first in enumerate(range(1, customers + 1, PARTITION_SIZE))
    ]
    results = _run_partitions(tasks, catalog, workers, customers, say)

    # Truth files, in partition order so they are as deterministic as the landing.
    with (truth / "products.jsonl").open("wb") as fh:
        for row in catalog.truth_rows():
            fh.write(dumps(row))
    _concat(truth / "customers.jsonl", [parts / f"customers-{r.index:05d}.jsonl" for r in results])
    _concat(
        truth / "dirty.jsonl",
        [parts / "dirty-products.jsonl"] + [parts / f"dirty-{r.index:05d}.jsonl" for r in results],
    )
    shutil.rmtree(parts)

    records: Counter[str] = Counter({PRODUCTS: product_lines})
    by_entity: dict[str, Counter[str]] = {e: Counter() for e in ENTITIES}
    by_entity[PRODUCTS].update(product_dirt)
    for r in results:
        records.update(r.records)
        for entity, kinds in r.dirty.items():
            by_entity[entity].update(kinds)
    records_out = {e: records[e] for e in ENTITIES}
    dirty_by_entity = {e: dict(sorted(by_entity[e].items())) for e in ENTITIES}
    dirty_total: Counter[str] = Counter()
    for kinds in by_entity.values():
        dirty_total.update(kinds)
    dirty_out = dict(sorted(dirty_total.items()))

    manifest = {
        "generator": "lakegen",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "arguments": {
            "customers": customers,
            "seed": seed,
            "days": days,
            "dirty_rate": dirty_rate,
            "review_factor": review_factor,
            "end_date": end_date.isoformat(),
            # Only for a mixed shop: an English lake's manifest is as it always was.
            **({"languages": shares} if mixed else {}),
        },
        "start_date": (end_date - timedelta(days=days)).isoformat(),
        "end_date": end_date.isoformat(),
        "window_utc": {
            "start": iso(window.start, zulu=True),
            "end_exclusive": iso(window.end, zulu=True),
        },
        "future_days_simulated": 365,
        "partition_size": PARTITION_SIZE,
        "partitions": len(tasks),
        "records": records_out,
        "dirty": dirty_out,
        "dirty_by_entity": dirty_by_entity,
    }
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - started
    summary = GenerationSummary(landing, truth, records_out, dirty_out, dirty_by_entity, seconds)
    say(
        f"lake written to {lake}: {records_out[EVENTS]:,} events, "
        f"{sum(dirty_out.values()):,} bad records, {seconds:.1f}s "
        f"({summary.events_per_second:,.0f} events/s)"
    )
    return summary
