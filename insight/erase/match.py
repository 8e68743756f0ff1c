"""Which rows of a table belong to an erased customer: pure, table-agnostic rules.

A row belongs to a customer if its pseudonymous key is theirs (`customer_key`, or the
`record_key` of a quarantined CRM row), or if it holds a raw landing line (bronze `value`,
quarantine `_raw`) in which the source customer id appears as a whole token. The token rule
also catches lines that never parsed (a malformed line still carries the id).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterable, Sequence

from insight import columns as C
from insight import landing
from insight.quality.gx import RuleResult

KEY = "customer_key"  # target frame: the erased customer's key
PATTERN = "_pattern"  # target frame: a Java regex matching the source id as a token
RAW_COLUMNS = ("value", C.RAW)  # bronze raw line, quarantined raw line
KEY_COLUMNS = (C.CUSTOMER_KEY, C.RECORD_KEY)
# dq_results columns whose GX samples (`details`) can hold raw PII of silver.customers rows:
# the CRM fields that identify a person (city, country and the dates of record do not).
NOT_PII = {"city", "country", "signup_at", "marketing_opt_in", "updated_at"}
PII_FIELDS = tuple(f for f in landing.CUSTOMER_FIELDS if f not in NOT_PII)


def customer_key(source_id: str, salt: bytes) -> str:
    """The silver key of a source customer id (same HMAC as insight.pii.hmac_sha256)."""
    return hmac.new(salt, source_id.encode(), hashlib.sha256).hexdigest()


def id_pattern(source_id: str) -> str:
    """Java regex: `source_id` literally, not inside a longer id (C0000001 vs C00000012)."""
    if not source_id or "\\E" in source_id:
        raise ValueError(f"customer id {source_id!r} is empty or cannot be matched literally")
    return rf"(?<![0-9A-Za-z_])\Q{source_id}\E(?![0-9A-Za-z_])"


def source_ids(values: Iterable[str]) -> list[str]:
    """Validated, stripped, de-duplicated ids in the order given."""
    out: list[str] = []
    for value in values:
        v = value.strip()
        id_pattern(v)  # raises on an id that cannot be matched
        if v not in out:
            out.append(v)
    if not out:
        raise ValueError("no customer id given")
    return out


def erase_condition(columns: Sequence[str], *, target: str = "t", source: str = "s") -> str | None:
    """SQL join condition between a table (`target`) and the erased customers (`source`),
    or None if the table cannot hold a customer's rows. Values stay in the source frame,
    so the condition (which Delta writes to its log) names columns only."""
    terms = [f"{target}.`{c}` = {source}.`{KEY}`" for c in KEY_COLUMNS if c in columns]
    terms += [f"{target}.`{c}` RLIKE {source}.`{PATTERN}`" for c in RAW_COLUMNS if c in columns]
    return " OR ".join(f"({t})" for t in terms) or None


def without_pii_samples(result: RuleResult) -> RuleResult:
    """The result with no sample values if its column is a raw CRM field (counts kept)."""
    if result.column in PII_FIELDS:
        return dataclasses.replace(result, observed_value=None, details=None)
    return result
