"""Pure transforms from a transaction export to the landing contract (insight.landing).

One export line becomes exactly one event line, whatever its quality: deciding what is
bad is clean's job, with the same GX rules, quarantine and audit as any landing file. So
a value that cannot be read (a timestamp in another format, "2,55" as a price) is written
as sent and clean's type rules name it. What the import adds is only what the contract
needs and the export implies: the event type (a cancellation is a `return`), an event id,
the customers and products the lines refer to, times in UTC, ISO-2 countries.

Lines without a customer id stay events with no customer: clean quarantines them under
`customer_id_not_null` (sales that cannot be attributed to a customer), so they are kept
(in quarantine.events, with the raw line) and counted (ops.run_ledger, ops.dq_results),
and no customer is invented for them.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import landing
from insight.clean.parse import TYPE_PATTERNS
from insight.imports.mapping import Mapping

# Canonical line columns (staging only): the mapped source values as trimmed text, the
# parsed values the import itself needs, and the derived event fields.
TS_TEXT, QUANTITY_TEXT, PRICE_TEXT = "_ts_text", "_quantity_text", "_price_text"
TS_UTC, QTY, PRICE = "_ts_utc", "_quantity", "_price"
COUNTRY_NAME, IS_RETURN, LINE_HASH = "_country_name", "_is_return", "_line_hash"
DESCRIPTION, CATEGORY, FLAG = "_description", "_category", "_return_flag"

ISO_UTC = "yyyy-MM-dd'T'HH:mm:ss'Z'"
NOT_GOODS_CATEGORY = "Not goods"  # the category of a mapping's `not_goods` products
INTEGRAL = r"^[+-]?\d+(\.0*)?$"  # "6" or "6.0" (a float column exported as text)
TRUE_WORDS = ("true", "t", "yes", "y", "1")


def _text(col: Column) -> Column:
    trimmed = F.trim(col.cast("string"))
    return F.when(trimmed != "", trimmed)


def _id_text(col: Column) -> Column:
    """An id as text; "17850.0" (an integer id that went through a float column) -> "17850"."""
    text = _text(col)
    return F.when(text.rlike(r"^\d+\.0+$"), F.regexp_extract(text, r"^(\d+)", 1)).otherwise(text)


def _timestamp_utc(source: DataFrame, column: str, *, fmt: str, timezone: str) -> Column:
    """The export's time as a UTC timestamp: a timestamp column is already an instant; text
    is parsed with `fmt` as local time in `timezone`. Null where the text does not parse."""
    col = F.col(f"`{column}`")
    kind = source.schema[column].dataType
    if isinstance(kind, T.TimestampType):
        return col
    if isinstance(kind, T.TimestampNTZType | T.DateType):  # a wall-clock time, no zone
        return F.to_utc_timestamp(col.cast("timestamp"), timezone)
    parsed = F.try_to_timestamp(_text(col), F.lit(fmt))
    return F.to_utc_timestamp(parsed, timezone)


def canonical_lines(source: DataFrame, mapping: Mapping) -> DataFrame:
    """Export rows -> one row per line with the mapped fields as text and the parsed values
    the import needs. The mapping's columns must exist (`mapping.check_columns`).

    Adds `_line_hash`: SHA-256 of every mapped source value, so a line sent twice (or an
    export imported twice) has one event id and clean collapses the copy as a duplicate.
    """
    cols = mapping.columns
    src = mapping.source_columns()

    def get(name: str | None) -> Column:
        return _text(F.col(f"`{name}`")) if name else F.lit(None).cast("string")

    qty_text, price_text = get(cols.quantity), get(cols.price)
    quantity = F.when(qty_text.rlike(INTEGRAL), qty_text.cast("decimal(20,0)").cast("long"))
    # clean's own literal shapes: what the import reads as a number, clean reads as one
    price = F.when(price_text.rlike(TYPE_PATTERNS["double"]), price_text.cast("double"))
    order_id = _id_text(F.col(f"`{cols.order_id}`")) if cols.order_id else None
    lines = source.select(
        _id_text(F.col(f"`{cols.customer_id}`")).alias("customer_id"),
        _id_text(F.col(f"`{cols.product_id}`")).alias("product_id"),
        (order_id if order_id is not None else F.lit(None).cast("string")).alias("order_id"),
        get(cols.description).alias(DESCRIPTION),
        get(cols.category).alias(CATEGORY),
        get(cols.country).alias(COUNTRY_NAME),
        get(cols.return_flag).alias(FLAG),
        get(cols.ts).alias(TS_TEXT),
        _timestamp_utc(
            source, cols.ts, fmt=mapping.timestamp_format, timezone=mapping.timezone
        ).alias(TS_UTC),
        qty_text.alias(QUANTITY_TEXT),
        quantity.alias(QTY),
        price_text.alias(PRICE_TEXT),
        price.alias(PRICE),
        F.sha2(
            F.concat_ws(
                "\u001f", *[F.coalesce(_text(F.col(f"`{c}`")), F.lit("")) for c in src.values()]
            ),
            256,
        ).alias(LINE_HASH),
    )
    if order_id is None:  # one order per customer and moment
        lines = lines.withColumn(
            "order_id",
            F.substring(F.sha2(F.concat_ws("|", "customer_id", TS_TEXT), 256), 1, 16),
        )
    return lines.withColumn(IS_RETURN, _is_return(mapping)).transform(
        with_country_codes, mapping.countries
    )


def _is_return(mapping: Mapping) -> Column:
    rules = mapping.returns
    found = F.lit(False)
    if rules.order_id_prefix:
        found = found | F.coalesce(
            F.col("order_id").startswith(rules.order_id_prefix), F.lit(False)
        )
    if rules.negative_quantity:
        found = found | F.coalesce(F.col(QTY) < 0, F.lit(False))
    if mapping.columns.return_flag:
        found = found | F.coalesce(F.lower(F.col(FLAG)).isin(*TRUE_WORDS), F.lit(False))
    return found


def with_country_codes(lines: DataFrame, countries: dict[str, str | None]) -> DataFrame:
    """Add `country`: the ISO-2 code of the line's country name (the mapping's table, case
    and spacing ignored; a value that already is a two-letter code is kept), else null.
    Null is honest: a country the shop did not name precisely (`Unspecified`,
    `Channel Islands`) is unknown, and silver allows an unknown country."""
    table = {k.strip().lower(): v for k, v in countries.items()}
    known = F.create_map(*[F.lit(x) for k, v in sorted(table.items()) if v for x in (k, v)])
    name = F.lower(F.col(COUNTRY_NAME))
    upper = F.upper(F.col(COUNTRY_NAME))
    code = F.coalesce(
        known[name], F.when(~name.isin(*table) & upper.rlike(r"^[A-Z]{2}$"), upper)
    ) if table else F.when(upper.rlike(r"^[A-Z]{2}$"), upper)  # fmt: skip
    return lines.withColumn("country", code)


def _iso(ts: Column) -> Column:
    return F.date_format(ts, ISO_UTC)


def to_events(lines: DataFrame, mapping: Mapping) -> DataFrame:
    """One landing event per line, fields as text in landing.EVENT_FIELDS order.

    A return carries the quantity returned (positive); a value the import could not read
    is passed on as sent, for clean's type rules to name.
    """
    is_return = F.col(IS_RETURN)
    quantity = F.when(is_return & F.col(QTY).isNotNull(), F.abs(F.col(QTY)))
    quantity_text = F.coalesce(quantity.cast("string"), F.col(QTY).cast("string"),
                               F.col(QUANTITY_TEXT))  # fmt: skip
    ts = F.coalesce(_iso(F.col(TS_UTC)), F.col(TS_TEXT))
    values = {
        "event_id": F.concat(F.lit(f"{mapping.name}-"), F.substring(LINE_HASH, 1, 24)),
        "event_type": F.when(is_return, F.lit(landing.RETURN)).otherwise(F.lit(landing.PURCHASE)),
        "ts": ts,
        "customer_id": F.col("customer_id"),
        "session_id": F.lit(None).cast("string"),
        "product_id": F.col("product_id"),
        "order_id": F.col("order_id"),
        "query": F.lit(None).cast("string"),
        "price": F.col(PRICE_TEXT),
        "currency": F.lit(mapping.currency.upper()),
        "quantity": quantity_text,
        "device": F.lit(mapping.device).cast("string"),
        "channel": F.lit(mapping.channel).cast("string"),
        # The export is the source system's send: the line's own time versions it.
        "sent_at": ts,
    }
    return lines.select(*[values[f].alias(f) for f in landing.EVENT_FIELDS])


def _latest(value: Column | str, ts: str = TS_UTC) -> Column:
    """The value on the latest line that has one (ties: the largest value), deterministic."""
    value = F.col(value) if isinstance(value, str) else value
    return F.max(F.when(value.isNotNull(), F.struct(F.col(ts), value.alias("v")))).getField("v")


def to_customers(lines: DataFrame) -> DataFrame:
    """One landing customer per customer id, fields in landing.CUSTOMER_FIELDS order.

    An export knows a customer by id only: no name, email, phone or address is invented
    (silver takes an id-only customer without an email). signup_at is the first line's
    time (first seen), updated_at the last, country the latest line's.
    """
    known = {
        "customer_id": F.col("customer_id"),
        "country": F.col("country"),
        "signup_at": _iso(F.col("_first")),
        "updated_at": _iso(F.col("_last")),
    }
    per_customer = (
        lines.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(
            F.min(TS_UTC).alias("_first"),
            F.max(TS_UTC).alias("_last"),
            _latest("country").alias("country"),
        )
    )
    return per_customer.select(
        *[known.get(f, F.lit(None).cast("string")).alias(f) for f in landing.CUSTOMER_FIELDS]
    )


def to_products(lines: DataFrame, mapping: Mapping) -> DataFrame:
    """One landing product per product id, fields in landing.PRODUCT_FIELDS order.

    name: the latest description; price: the latest positive unit price (else the latest
    price: zero, or negative for clean to reject); category: the latest category, else the
    mapping's `default_category` (the contract needs one; the export has none).
    available: "true" for a product sold within `mapping.available_days` of the export's
    last line (it was on sale then), else unknown; no `available_days`: unknown for all.
    Recommendations only ever offer available products. A product of `mapping.not_goods`
    (postage, a fee, a discount) is NOT_GOODS_CATEGORY and "false": never available.
    """
    positive = F.when(F.col(PRICE) > 0, F.col(PRICE_TEXT))
    sale = F.when(~F.col(IS_RETURN) & (F.col(QTY) > 0), F.col(TS_UTC))
    per_product = (
        lines.where(F.col("product_id").isNotNull())
        .groupBy("product_id")
        .agg(
            _latest(DESCRIPTION).alias("name"),
            _latest(CATEGORY).alias("category_path"),
            F.coalesce(_latest(positive), _latest(PRICE_TEXT)).alias("price"),
            F.max(TS_UTC).alias("_last"),
            F.max(sale).alias("_last_sale"),
        )
    )
    available = F.lit(None).cast("string")
    if mapping.available_days is not None:
        # One row: the export's last time; "sold recently" is relative to it, not to today.
        end = lines.agg(F.max(TS_UTC).alias("_end"))
        per_product = per_product.crossJoin(F.broadcast(end))
        recent = F.col("_last_sale") >= F.col("_end") - F.expr(
            f"INTERVAL {int(mapping.available_days)} DAYS"
        )
        available = F.when(recent, F.lit("true"))
    category = F.coalesce(F.col("category_path"), F.lit(mapping.default_category))
    if mapping.not_goods:
        goods = ~F.col("product_id").isin(*mapping.not_goods)
        category = F.when(goods, category).otherwise(F.lit(NOT_GOODS_CATEGORY))
        available = F.when(goods, available).otherwise(F.lit("false"))
    values = {
        "product_id": F.col("product_id"),
        "sku": F.col("product_id"),
        "name": F.col("name"),
        "category_path": category,
        "price": F.col("price"),
        "currency": F.lit(mapping.currency.upper()),
        "available": available,
        "updated_at": _iso(F.col("_last")),
    }
    return per_product.select(
        *[values.get(f, F.lit(None).cast("string")).alias(f) for f in landing.PRODUCT_FIELDS]
    )


def profile_counts() -> list[tuple[str, Column]]:
    """What the import can already tell about the lines before clean judges them: (name,
    predicate) pairs, counted by `profile` and reported by the command and the manifest.
    (A function: a Column needs a running Spark context.)"""
    return [
        ("returns", F.col(IS_RETURN)),
        ("without_customer", F.col("customer_id").isNull()),
        ("negative_quantity_not_return", ~F.col(IS_RETURN) & (F.col(QTY) < 0)),
        ("zero_price", F.col(PRICE) == 0),
        ("negative_price", F.col(PRICE) < 0),
        ("unreadable_ts", F.col(TS_UTC).isNull()),
        ("unreadable_quantity", F.col(QTY).isNull()),
        ("unreadable_price", F.col(PRICE).isNull()),
        ("unknown_country", F.col(COUNTRY_NAME).isNotNull() & F.col("country").isNull()),
    ]


def profile(lines: DataFrame) -> DataFrame:
    """One row: `lines`, distinct `customers` and `products`, each `profile_counts` count,
    the distinct unknown country names and the first and last time (UTC) read."""
    counts = [
        F.count(F.lit(1)).alias("lines"),
        F.countDistinct("customer_id").alias(landing.CUSTOMERS),
        F.countDistinct("product_id").alias(landing.PRODUCTS),
    ]
    counts += [F.sum(F.when(pred, 1).otherwise(0)).alias(name) for name, pred in profile_counts()]
    unknown = F.array_sort(F.collect_set(
        F.when(F.col(COUNTRY_NAME).isNotNull() & F.col("country").isNull(), F.col(COUNTRY_NAME))
    ))  # fmt: skip
    return lines.agg(
        *counts,
        unknown.alias("unknown_country_names"),
        _iso(F.min(TS_UTC)).alias("first_ts"),
        _iso(F.max(TS_UTC)).alias("last_ts"),
    )
