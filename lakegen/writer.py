"""One partition of customers -> its landing files (streamed) and truth part files.

A partition is a fixed block of customer numbers with its own RNGs seeded from
(seed, partition index), so its bytes do not depend on how many workers run or in which
order partitions finish. Only one customer's activity is held in memory at a time.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from insight.landing import CSV_HEADER, CUSTOMERS, EVENTS, FILE_SUFFIX, REVIEWS

from .behaviour import Ids, Shopper
from .catalog import Catalog
from .clock import iso, iso_ms
from .customers import Window, make_customer
from .dirty import (
    DIRTY_EVENT_BASE,
    DIRTY_REVIEW_BASE,
    CustomerDirt,
    EventDirt,
    ReviewDirt,
    Sink,
    csv_line,
    dumps,
)
from .languages import ReviewLanguages

PARTITION_SIZE = 2_000


def derive_seed(seed: int, purpose: str, index: int = 0) -> int:
    """Stable 64-bit seed for one purpose/partition (independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256(f"{seed}:{purpose}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def part_name(entity: str, index: int) -> str:
    return f"{entity}-{index:05d}{FILE_SUFFIX[entity]}"


@dataclass(frozen=True)
class PartitionTask:
    """What one worker generates: customers first .. first + count - 1."""

    index: int
    first: int
    count: int
    seed: int
    window: Window
    dirty_rate: float
    review_factor: float
    landing: str
    parts: str
    # (code, share) of review languages; empty: English only (no language is drawn).
    languages: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class PartitionResult:
    index: int
    first: int
    last: int
    records: dict[str, int]
    dirty: dict[str, dict[str, int]]  # entity -> kind -> count


_CATALOG: Catalog | None = None


def init_worker(catalog: Catalog) -> None:
    """Process-pool initializer: receive the shared catalog once per worker."""
    global _CATALOG
    _CATALOG = catalog


def run_in_worker(task: PartitionTask) -> PartitionResult:
    assert _CATALOG is not None, "init_worker was not called"
    return run_partition(task, _CATALOG)


def _event_record(row: tuple, event_id: str, customer_id: str, currency: str) -> dict:
    t, _, etype, sid, pid, oid, query, price, qty, device, channel, off, lag = row
    e: dict[str, object] = {
        "event_id": event_id,
        "event_type": etype,
        "ts": iso(t, off),
        "customer_id": customer_id,
    }
    if sid is not None:
        e["session_id"] = sid
    if pid is not None:
        e["product_id"] = pid
    if oid is not None:
        e["order_id"] = oid
    if query is not None:
        e["query"] = query
    if price is not None:
        e["price"] = price
        e["currency"] = currency
    if qty is not None:
        e["quantity"] = qty
    e["device"] = device
    e["channel"] = channel
    e["sent_at"] = iso_ms(t * 1000 + lag)
    return e


def run_partition(task: PartitionTask, catalog: Catalog) -> PartitionResult:
    """Generate and write one partition; returns its line and dirt counts."""
    p = task.index
    landing = Path(task.landing)
    parts = Path(task.parts)
    window = task.window
    behaviour_rng = random.Random(derive_seed(task.seed, "behaviour", p))
    dirt_rng = random.Random(derive_seed(task.seed, "dirt", p))
    languages = (
        ReviewLanguages(dict(task.languages), random.Random(derive_seed(task.seed, "language", p)))
        if task.languages
        else None
    )
    shopper = Shopper(behaviour_rng, catalog, window, Ids(p), task.review_factor, languages)
    n_events = n_reviews = 0
    with (
        (parts / f"dirty-{p:05d}.jsonl").open("wb") as truth_dirty,
        (parts / f"customers-{p:05d}.jsonl").open("wb") as truth_customers,
    ):
        sinks = {
            entity: Sink(
                entity,
                landing / entity / part_name(entity, p),
                landing,
                dirt_rng,
                task.dirty_rate,
                truth_dirty,
            )
            for entity in (CUSTOMERS, EVENTS, REVIEWS)
        }
        customer_sink, event_sink, review_sink = sinks[CUSTOMERS], sinks[EVENTS], sinks[REVIEWS]
        customer_dirt = CustomerDirt(customer_sink, dirt_rng, window, p)
        event_dirt = EventDirt(event_sink, dirt_rng, catalog, window, p)
        review_dirt = ReviewDirt(review_sink, dirt_rng, window, p)
        try:
            customer_sink.header(CSV_HEADER[CUSTOMERS])
            for number in range(task.first, task.first + task.count):
                c = make_customer(behaviour_rng, number, window)
                row = c.crm_row(behaviour_rng)
                kind = customer_sink.good(c.customer_id, csv_line(row))
                if kind:
                    customer_dirt.inject(kind, row, c)

                act = shopper.simulate(c)
                for ev in act.events:
                    event_id = f"E{p:03d}{n_events:07d}"
                    n_events += 1
                    e = _event_record(ev, event_id, c.customer_id, c.currency)
                    kind = event_sink.good(event_id, dumps(e))
                    if kind:
                        event_dirt.inject(kind, e, c, ev[0], ev[11])
                for t, _, pid, rating, title, text, off, lag in act.reviews:
                    review_id = f"R{p:03d}{n_reviews:05d}"
                    n_reviews += 1
                    r: dict[str, object] = {
                        "review_id": review_id,
                        "customer_id": c.customer_id,
                        "product_id": pid,
                        "rating": rating,
                    }
                    if title is not None:
                        r["title"] = title
                    r |= {"text": text, "ts": iso(t, off), "sent_at": iso_ms(t * 1000 + lag)}
                    kind = review_sink.good(review_id, dumps(r))
                    if kind:
                        review_dirt.inject(kind, r, c, t, off)
                if n_events >= DIRTY_EVENT_BASE or n_reviews >= DIRTY_REVIEW_BASE:
                    raise RuntimeError(f"partition {p}: id space exhausted; use fewer days")

                truth = c.truth() | act.truth()
                truth["churned_by_end"] = c.churn is not None and c.churn < window.end
                truth_customers.write(dumps(truth))
        finally:
            for sink in sinks.values():
                sink.close()
    return PartitionResult(
        index=p,
        first=task.first,
        last=task.first + task.count - 1,
        records={entity: sink.lines for entity, sink in sinks.items()},
        dirty={entity: dict(sink.dirty) for entity, sink in sinks.items()},
    )
