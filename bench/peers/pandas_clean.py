"""Peer: the same clean stage in a single pandas process.

Reads the same landing files, applies the same parsing, typing, normalisation, salted
HMAC, the same rule suites (expectations/*.json, evaluated with pandas) and latest-wins
dedup, and writes silver and quarantine as Parquet. It is what a careful data engineer
would write without Spark; it runs in one process and holds each table in memory.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from insight import landing
from insight.clean.entities import CLEAN_ORDER, SPECS
from insight.clean.parse import TYPE_PATTERNS
from insight.quality.rules import ROW, load_suite, resolve, suite_rules

KEYS = {
    "customers": "customer_key",
    "products": "product_id",
    "events": "event_id",
    "reviews": "review_id",
}


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return str(v)


def _read_lines(folder: Path, entity: str) -> pd.DataFrame:
    rows = []
    header = landing.CSV_HEADER.get(entity)
    for f in sorted(folder.glob(f"*{landing.FILE_SUFFIX[entity]}")):
        for line in f.read_bytes().decode("utf-8", errors="replace").splitlines():
            if header is not None and line.strip() == header:
                continue
            rows.append((line, str(f)))
    return pd.DataFrame(rows, columns=["_raw", "_source_file"])


def _parse(lines: pd.DataFrame, entity: str) -> pd.DataFrame:
    fields = landing.FIELDS[entity]
    records, ok = [], []
    for raw in lines["_raw"]:
        if entity in landing.CSV_ENTITIES:
            cells = next(csv.reader([raw]), [])
            good = len(cells) == len(fields)
            values = (cells + [None] * len(fields))[: len(fields)]
        else:
            try:
                obj = json.loads(raw)
                good = isinstance(obj, dict)
            except ValueError:
                obj, good = None, False
            values = [_text(obj.get(f)) for f in fields] if good else [None] * len(fields)
        records.append(values)
        ok.append(good)
    df = pd.DataFrame(records, columns=list(fields), dtype=object)
    for f in fields:
        s = df[f].str.strip()
        df[f] = s.where(s != "", None)
    df["_parse_ok"] = ok
    df["_utf8_ok"] = ~lines["_raw"].str.contains("\ufffd", regex=False).to_numpy()
    df["_raw"] = lines["_raw"].to_numpy()
    df["_source_file"] = lines["_source_file"].to_numpy()
    df["_batch_id"] = f"{entity}-000000"
    return df


def _typed(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    for f, t in types.items():
        raw = df[f]
        df[f + "_raw"] = raw
        valid = raw.notna() & raw.astype(str).str.fullmatch(TYPE_PATTERNS[t].strip("^$"))
        text = raw.where(valid)
        if t == "double":
            df[f] = pd.to_numeric(text, errors="coerce")
        elif t == "int":
            df[f] = pd.to_numeric(text, errors="coerce").astype("Int64")
        elif t == "timestamp":
            ts = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
            df[f] = ts.dt.tz_convert(None)
        elif t == "date":
            df[f] = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
        else:
            df[f] = text.str.lower().map(
                lambda v: None if v is None or v != v else v in ("true", "yes", "t", "y", "1")
            )
    return df


def _hmac(values: pd.Series, salt: bytes) -> pd.Series:
    return values.map(
        lambda v: (
            None if v is None or v != v else hmac.new(salt, v.encode(), hashlib.sha256).hexdigest()
        )
    )


def _normalise(
    df: pd.DataFrame, entity: str, salt: bytes, fx: dict[str, float], refs: dict
) -> pd.DataFrame:
    rates = pd.Series(fx)
    if entity == "customers":
        df["email"] = df["email"].str.lower()
        df["country"] = df["country"].str.upper()
        phone = (
            df["phone"]
            .str.replace(r"^\s*00", "+", regex=True)
            .str.replace(r"[^0-9+]", "", regex=True)
        )
        df["customer_key"] = _hmac(df["customer_id"], salt)
        df["email_hash"] = _hmac(df["email"], salt)
        df["phone_hash"] = _hmac(phone.where(phone != ""), salt)
        return df
    if entity == "products":
        df["currency"] = df["currency"].str.upper()
        df["list_price"] = (df["price"] * df["currency"].map(rates)).round(4)
        levels = df["category_path"].str.split(">", expand=True, n=2).reindex(columns=[0, 1, 2])
        for i in range(3):
            df[f"category_l{i + 1}"] = levels[i].str.strip()
        return df
    if entity == "events":
        for c in ("event_type", "device", "channel"):
            df[c] = df[c].str.lower()
        df["currency"] = df["currency"].str.upper()
        df["unit_price"] = (df["price"] * df["currency"].map(rates)).round(4)
    df["customer_key"] = _hmac(df["customer_id"], salt)
    df["_customer_known"] = (
        df["customer_key"].isin(refs["customers"]).where(df["customer_key"].notna())
    )
    df["_product_known"] = df["product_id"].isin(refs["products"]).where(df["product_id"].notna())
    return df


def _condition(df: pd.DataFrame, text: str) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for clause in text.split(" AND "):
        clause = clause.strip()
        if m := re.fullmatch(r"(\w+) IS NOT NULL", clause):
            mask &= df[m[1]].notna()
        elif m := re.fullmatch(r"(\w+) IN \((.*)\)", clause):
            mask &= df[m[1]].isin([v.strip().strip("'") for v in m[2].split(",")])
        elif re.fullmatch(r"\w+", clause):
            mask &= df[clause].fillna(False).astype(bool)
        else:
            raise ValueError(f"pandas peer cannot evaluate condition {clause!r}")
    return mask


def _bound(value: object) -> object:
    return pd.Timestamp(value) if isinstance(value, (date, datetime)) else value


def _passes(df: pd.DataFrame, rule, params: dict) -> pd.Series:
    kw = {k: resolve(v, params) for k, v in rule.kwargs.items()}
    col = df[kw["column"]]
    null = col.isna()
    t = rule.type
    if t == "expect_column_values_to_not_be_null":
        ok = ~null
    elif t == "expect_column_values_to_be_in_set":
        ok = null | col.isin(list(kw["value_set"]))
    elif t in ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between"):
        v = col.str.len() if t.startswith("expect_column_value_lengths") else col
        ok = pd.Series(True, index=df.index)
        lo, hi = (_bound(kw.get(k)) for k in ("min_value", "max_value"))
        if lo is not None:
            ok &= (v > lo) if kw.get("strict_min") else (v >= lo)
        if hi is not None:
            ok &= (v < hi) if kw.get("strict_max") else (v <= hi)
        ok = null | ok.fillna(False).astype(bool)
    elif t == "expect_column_values_to_match_regex":
        ok = null | col.astype(str).str.contains(kw["regex"], regex=True)
    elif t == "expect_column_values_to_not_match_regex":
        ok = null | ~col.astype(str).str.contains(kw["regex"], regex=True)
    else:
        raise ValueError(t)
    if kw.get("row_condition"):
        ok = ~_condition(df, kw["row_condition"]) | ok
    return ok.fillna(False).astype(bool)


def clean_lake(lake: Path, out: Path, *, salt: bytes, fx: dict[str, float], params: dict) -> dict:
    """Clean every entity of `lake`'s landing zone; return rows in/out/quarantined."""
    out.mkdir(parents=True, exist_ok=True)
    refs: dict[str, set] = {}
    counts = {}
    for entity in CLEAN_ORDER:
        spec = SPECS[entity]
        df = _parse(_read_lines(lake / "landing" / entity, entity), entity)
        df = _typed(df, dict(spec.types))
        df = _normalise(df, entity, salt, fx, refs)
        rules = suite_rules(load_suite(spec.suite), ROW)
        failed = np.zeros(len(df), dtype=bool)
        names = []
        for rule in rules:
            bad = ~_passes(df, rule, params).to_numpy()
            failed |= bad
            names.append(np.where(bad, rule.name, ""))
        reasons = (
            [";".join(filter(None, parts)) for parts in zip(*names, strict=True)] if names else []
        )
        quarantine = df.loc[failed, ["_raw", "_source_file", "_batch_id"]].assign(
            failed_rules=np.array(reasons, dtype=object)[failed]
        )
        good = df.loc[~failed]
        key, version = KEYS[entity], spec.version_col
        silver = good.sort_values(
            [version, "_batch_id", "_source_file", "_raw"], ascending=False
        ).drop_duplicates(key)
        lineage = ("_batch_id", "_source_file")
        helpers = [
            c for c in silver if c.endswith("_raw") or (c.startswith("_") and c not in lineage)
        ]
        silver.drop(columns=helpers).to_parquet(out / f"silver_{entity}.parquet")
        quarantine.to_parquet(out / f"quarantine_{entity}.parquet")
        if entity == "customers":
            refs["customers"] = set(silver["customer_key"])
        if entity == "products":
            refs["products"] = set(silver["product_id"])
        counts[entity] = {
            "rows_in": len(df),
            "silver": len(silver),
            "quarantined": int(failed.sum()),
        }
    return counts
