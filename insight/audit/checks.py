"""Audit checks: pure functions from figures to named checks (expected vs actual).

A check is `ok` when its figures balance, `gap` when they do not (with what to run), and
`skipped` when a table it needs has not been produced yet: a skip is never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OK = "ok"
GAP = "GAP"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    expected: int | None = None
    actual: int | None = None
    detail: str = ""  # how the figures were formed
    fix: str = ""  # what to run when it is a gap


def balance(name: str, expected: int, actual: int, *, detail: str, fix: str) -> Check:
    return Check(name, OK if expected == actual else GAP, expected, actual, detail, fix)


def skipped(name: str, reason: str) -> Check:
    return Check(name, SKIPPED, detail=reason)


@dataclass(frozen=True)
class EntityFigures:
    """Counts of one landing entity through bronze, silver and quarantine.

    Ledger sums are over `ok` rows; `erased_*` come from ops.erasures; `updated_in_place`
    is silver rows a newer re-send replaced (MERGE updates in silver's Delta history).
    """

    entity: str
    landing: int  # lines in landing files minus CSV headers
    bronze: int | None  # None: no bronze table yet
    ingest_in: int
    ingest_written: int
    erased_bronze: int
    clean_in: int
    clean_written: int
    clean_quarantined: int
    clean_duplicates: int
    clean_unbalanced_batches: int  # ledger rows where in != written + quarantined + dups
    silver: int | None
    quarantine: int | None
    erased_silver: int
    erased_quarantine: int
    updated_in_place: int | None  # None: silver history truncated (log cleanup)


def entity_checks(f: EntityFigures) -> list[Check]:
    """landing = bronze (+ suppressed + erased); bronze = silver + quarantine + duplicates."""
    e = f.entity
    out: list[Check] = []
    if f.bronze is None:
        return [skipped(f"{e}: landing = bronze", f"no bronze.{e} yet (run ingest)")]
    suppressed = f.ingest_in - f.ingest_written
    out.append(
        balance(
            f"{e}: landing = bronze",
            f.landing,
            f.bronze + suppressed + f.erased_bronze,
            detail=f"landing {f.landing}; bronze {f.bronze} + dropped as suppressed "
            f"{suppressed} + erased {f.erased_bronze}",
            fix="insight run ingest (new landing files not ingested yet?)",
        )
    )
    out.append(
        balance(
            f"{e}: ingest ledger = bronze",
            f.ingest_written,
            f.bronze + f.erased_bronze,
            detail=f"ledger rows_written {f.ingest_written}; bronze {f.bronze} + erased "
            f"{f.erased_bronze}",
            fix="bronze rows without a ledger row: inspect ops.run_ledger for failed ingests",
        )
    )
    if f.silver is None or f.quarantine is None:
        out.append(skipped(f"{e}: bronze = silver + quarantine + duplicates", f"no silver.{e}"))
        return out
    bronze_ever = f.bronze + f.erased_bronze
    out.append(
        balance(
            f"{e}: every bronze row cleaned",
            bronze_ever,
            f.clean_in,
            detail=f"bronze {f.bronze} + erased {f.erased_bronze}; clean ledger rows_in "
            f"{f.clean_in}",
            fix="insight run clean",
        )
    )
    out.append(
        balance(
            f"{e}: clean batches balance",
            0,
            f.clean_unbalanced_batches,
            detail="ledger rows with rows_in != written + quarantined + duplicates",
            fix="a clean bug: see the batches in ops.run_ledger",
        )
    )
    out.append(
        balance(
            f"{e}: quarantine = ledger",
            f.clean_quarantined,
            f.quarantine + f.erased_quarantine,
            detail=f"ledger rows_quarantined {f.clean_quarantined}; quarantine {f.quarantine} "
            f"+ erased {f.erased_quarantine}",
            fix=f"quarantine.{e} changed outside clean: compare its history with the ledger",
        )
    )
    name = f"{e}: bronze = silver + quarantine + duplicates"
    if f.updated_in_place is None:
        out.append(
            skipped(name, f"silver.{e} history truncated: re-sends updated in place unknown")
        )
        return out
    silver_side = f.silver + f.erased_silver + f.updated_in_place
    out.append(
        balance(
            name,
            f.clean_in,
            silver_side + f.quarantine + f.erased_quarantine + f.clean_duplicates,
            detail=f"rows in {f.clean_in}; silver {f.silver} + erased {f.erased_silver} + "
            f"updated in place {f.updated_in_place} + quarantine {f.quarantine} + erased "
            f"{f.erased_quarantine} + duplicates {f.clean_duplicates}",
            fix="rows lost between bronze and silver: re-run clean and compare the ledger",
        )
    )
    return out


def one_row_each(
    name: str, *, expected: int, missing: int, duplicated: int, orphans: int, fix: str
) -> Check:
    """Each of `expected` rows has exactly one match: none missing, none twice, no orphans."""
    actual = expected - missing - duplicated - orphans
    return Check(
        name,
        OK if (missing, duplicated, orphans) == (0, 0, 0) else GAP,
        expected,
        actual,
        f"{missing} missing, {duplicated} with more than one row, {orphans} rows without one",
        fix,
    )


NOTHING_CHECKED = 3  # exit status: every check was skipped, so nothing is proven


def exit_code(checks: Sequence[Check]) -> int:
    """1 if a check found a gap, NOTHING_CHECKED if none could run, else 0."""
    if any(c.status == GAP for c in checks):
        return 1
    return 0 if any(c.status == OK for c in checks) else NOTHING_CHECKED


def render(checks: Sequence[Check], *, lake: str, as_of: object) -> str:
    """The checks as a table, then every gap with what to run."""
    width = max([len(c.name) for c in checks] + [5])
    lines = [f"Audit of {lake} as of {as_of}", ""]
    lines.append(f"  {'check':<{width}}  {'status':<7} {'expected':>10} {'actual':>10}  figures")
    for c in checks:
        exp = "" if c.expected is None else f"{c.expected:,}"
        act = "" if c.actual is None else f"{c.actual:,}"
        lines.append(f"  {c.name:<{width}}  {c.status:<7} {exp:>10} {act:>10}  {c.detail}")
    gaps = [c for c in checks if c.status == GAP]
    counts = {s: sum(c.status == s for c in checks) for s in (OK, GAP, SKIPPED)}
    lines.append("")
    lines.append(f"{counts[OK]} ok, {counts[GAP]} gap(s), {counts[SKIPPED]} skipped")
    if not counts[OK] and not counts[GAP]:
        lines.append("NOTHING CHECKED: every check was skipped (no table it needs exists yet); "
                     "this lake is not shown to balance")  # fmt: skip
    for c in gaps:
        lines.append(f"GAP {c.name}: expected {c.expected}, found {c.actual} ({c.detail}); {c.fix}")
    return "\n".join(lines)
