"""Raw landing lines -> string fields + typed fields, keeping what was sent.

Every field is first read as text (so a wrong type is seen, not silently nulled), trimmed,
and empty text becomes null. A typed field `f` gets its typed value in `f` and the text as
sent in `f_raw`; `f` is null where the text is not a valid literal of the type, which the
`<f>_is_<type>` rules catch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from insight.columns import PARSE_OK, RAW, RAW_SUFFIX, UTF8_OK

_CORRUPT = "_corrupt"

# Strict literal shapes: Spark's lenient casts would turn "1.5" into the int 1.
TYPE_PATTERNS = {
    "double": r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$",
    "int": r"^[+-]?\d{1,9}$",
    "timestamp": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "boolean": r"^(?i)(true|false|yes|no|t|f|y|n|1|0)$",
}


def typed(text: Column, type_name: str) -> Column:
    """`text` cast to `type_name`, or null if it is not a strict literal of that type."""
    if type_name not in TYPE_PATTERNS:
        raise ValueError(f"unsupported field type {type_name!r}; use one of {list(TYPE_PATTERNS)}")
    return F.when(text.rlike(TYPE_PATTERNS[type_name]), text.cast(type_name))


def _clean_text(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed != "", trimmed)


def parse_json_lines(
    df: DataFrame, fields: Sequence[str], types: Mapping[str, str], *, value_col: str = "value"
) -> DataFrame:
    """Parse one JSON object per row of `value_col` into the given fields.

    Adds `_raw` (the line), `_parse_ok` (an object that parsed) and `_utf8_ok` (no
    replacement characters, i.e. the bytes were valid UTF-8).
    """
    schema = ", ".join(f"`{f}` STRING" for f in [*fields, _CORRUPT])
    # Strict JSON: Spark would otherwise accept single-quoted strings as valid.
    opts = {
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": _CORRUPT,
        "allowSingleQuotes": "false",
    }
    parsed = df.withColumnRenamed(value_col, RAW).withColumn(
        "_json", F.from_json(F.col(RAW), schema, opts)
    )
    ok = F.col(f"_json.{_CORRUPT}").isNull() & (F.trim(F.col(RAW)) != "")
    return _finish(parsed, fields, types, "_json", ok)


def parse_csv_lines(
    df: DataFrame, fields: Sequence[str], types: Mapping[str, str], *, value_col: str = "value"
) -> DataFrame:
    """Parse one CSV record per row (no header) into the given fields.

    A PERMISSIVE CSV parser pads short rows and drops extra cells, so the cells are
    counted here: a row must have exactly one cell per field.
    """
    schema = ", ".join(f"`{f}` STRING" for f in fields)
    parsed = df.withColumnRenamed(value_col, RAW).withColumn(
        # nullValue other than "" keeps an empty trailing cell visible as an extra cell.
        "_csv",
        F.from_csv(
            F.col(RAW), schema, {"escape": '"', "mode": "PERMISSIVE", "nullValue": "\u0000"}
        ),
    )
    # Count cells outside quoted sections: a parser pads short rows with nulls and an empty
    # trailing cell reads as null, so neither can be told apart from the parsed struct.
    # Possessive loops: java.util.regex recurses once per character of a backtracking
    # `("|"")*` loop, and a 5,000-character quoted cell overflowed the executor's stack,
    # which kills the whole JVM (found by tests/test_fuzz.py).
    unquoted = F.regexp_replace(F.col(RAW), r'"[^"]*+(?:""[^"]*+)*+"', "")
    ok = F.size(F.split(unquoted, ",", -1)) == len(fields)
    return _finish(parsed, fields, types, "_csv", ok)


def _finish(
    parsed: DataFrame, fields: Sequence[str], types: Mapping[str, str], struct: str, ok: Column
) -> DataFrame:
    unknown = sorted(set(types) - set(fields))
    if unknown:
        raise ValueError(f"typed fields {unknown} are not among the parsed fields")
    cols = []
    for f in fields:
        text = _clean_text(F.col(f"{struct}.`{f}`"))
        if f in types:
            cols += [typed(text, types[f]).alias(f), text.alias(f + RAW_SUFFIX)]
        else:
            cols.append(text.alias(f))
    others = [c for c in parsed.columns if c not in (struct,)]
    return parsed.select(
        *others,
        *cols,
        F.coalesce(ok, F.lit(False)).alias(PARSE_OK),
        # Spark keeps undecodable bytes as they are; regex matching decodes them to U+FFFD.
        F.coalesce(~F.col(RAW).rlike("\\x{FFFD}"), F.lit(True)).alias(UTF8_OK),
    )
