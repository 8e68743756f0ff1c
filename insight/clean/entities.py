"""Per-entity cleaning: normalise staged rows and shape them into the silver schema.

Each entity is described once by an `EntitySpec`; the functions are pure
DataFrame -> DataFrame transforms that chain with `df.transform`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import columns as C
from insight import landing
from insight.clean import schemas
from insight.clean.parse import parse_csv_lines, parse_json_lines
from insight.pii import pseudonymise


@dataclass(frozen=True)
class EntitySpec:
    entity: str
    fmt: str  # "csv" or "json"
    types: Mapping[str, str]  # landing field -> type it must parse as
    key: str  # silver natural key
    version_col: str  # silver column: the latest version wins
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    raw_has_pii: bool = False  # keep the raw line out of quarantine

    @property
    def fields(self) -> tuple[str, ...]:
        return landing.FIELDS[self.entity]

    @property
    def suite(self) -> str:
        return f"silver.{self.entity}"


SPECS = {
    landing.CUSTOMERS: EntitySpec(
        landing.CUSTOMERS,
        "csv",
        {
            "birth_date": "date",
            "signup_at": "timestamp",
            "marketing_opt_in": "boolean",
            "updated_at": "timestamp",
        },
        key=C.CUSTOMER_KEY,
        version_col=C.UPDATED_AT,
        schema=schemas.CUSTOMERS,
        raw_has_pii=True,
    ),
    landing.PRODUCTS: EntitySpec(
        landing.PRODUCTS,
        "csv",
        {"price": "double", "available": "boolean", "updated_at": "timestamp"},
        key=C.PRODUCT_ID,
        version_col=C.UPDATED_AT,
        schema=schemas.PRODUCTS,
    ),
    landing.EVENTS: EntitySpec(
        landing.EVENTS,
        "json",
        {"ts": "timestamp", "price": "double", "quantity": "int", "sent_at": "timestamp"},
        key=C.EVENT_ID,
        version_col=C.SENT_AT,
        schema=schemas.EVENTS,
        partition_by=(C.EVENT_DATE,),
    ),
    landing.REVIEWS: EntitySpec(
        landing.REVIEWS,
        "json",
        {"rating": "int", "ts": "timestamp", "sent_at": "timestamp"},
        key=C.REVIEW_ID,
        version_col=C.SENT_AT,
        schema=schemas.REVIEWS,
    ),
}
# references before facts
CLEAN_ORDER = (landing.CUSTOMERS, landing.PRODUCTS, landing.EVENTS, landing.REVIEWS)


def rule_params(
    *,
    as_of: date,
    max_history_days: int,
    max_price: float,
    max_quantity: int,
    max_text_length: int,
    min_birth_year: int,
    min_age_years: int,
    currencies: list[str],
) -> dict[str, Any]:
    """Values the suites refer to as {"$PARAMETER": name}, fixed by as_of and config."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time.min)
    return {
        "min_ts": end_of_day - timedelta(days=max_history_days),
        "max_ts": end_of_day,
        "min_birth_date": date(min_birth_year, 1, 1),
        "max_birth_date": date(as_of.year - min_age_years, as_of.month, min(as_of.day, 28)),
        "max_price": max_price,
        "max_quantity": max_quantity,
        "max_text_length": max_text_length,
        "currencies": sorted(currencies),
        "event_types": list(landing.EVENT_TYPES),
        "devices": list(landing.DEVICES),
        "channels": list(landing.CHANNELS),
    }


def _lower(name: str) -> Column:
    return F.lower(F.col(name))


def _upper(name: str) -> Column:
    return F.upper(F.col(name))


def to_base_currency(amount: Column, currency: Column, fx_to_base: Mapping[str, float]) -> Column:
    """amount * rate(currency); null for a currency without a rate."""
    rates = F.create_map(*[F.lit(x) for k, v in sorted(fx_to_base.items()) for x in (k, v)])
    return F.round(amount * rates[currency], 4)


def normalise_customers(df: DataFrame, *, salt: bytes) -> DataFrame:
    """Case, phone digits and pseudonymous keys for staged CRM rows."""
    phone_digits = F.regexp_replace(F.regexp_replace("phone", r"^\s*00", "+"), r"[^0-9+]", "")
    return (
        df.withColumn("email", _lower("email"))
        .withColumn("country", _upper("country"))
        .transform(pseudonymise, {
            C.CUSTOMER_KEY: "customer_id",
            C.EMAIL_HASH: "email",
            C.PHONE_HASH: F.when(phone_digits != "", phone_digits),
        }, salt=salt)
    )  # fmt: skip


def normalise_products(df: DataFrame, *, fx_to_base: Mapping[str, float]) -> DataFrame:
    levels = F.split("category_path", landing.CATEGORY_SEPARATOR.strip())
    return (
        df.withColumn("currency", _upper("currency"))
        .withColumn(C.LIST_PRICE, to_base_currency(F.col("price"), F.col("currency"), fx_to_base))
        .withColumn(C.CATEGORY_L1, F.trim(levels.getItem(0)))
        .withColumn(C.CATEGORY_L2, F.trim(levels.getItem(1)))
        .withColumn(C.CATEGORY_L3, F.trim(levels.getItem(2)))
    )


def normalise_events(df: DataFrame, *, salt: bytes, fx_to_base: Mapping[str, float]) -> DataFrame:
    return (
        df.withColumn("event_type", _lower("event_type"))
        .withColumn("device", _lower("device"))
        .withColumn("channel", _lower("channel"))
        .withColumn("currency", _upper("currency"))
        .withColumn(C.UNIT_PRICE, to_base_currency(F.col("price"), F.col("currency"), fx_to_base))
        .transform(pseudonymise, {C.CUSTOMER_KEY: "customer_id"}, salt=salt)
    )


def normalise_reviews(df: DataFrame, *, salt: bytes) -> DataFrame:
    return df.transform(pseudonymise, {C.CUSTOMER_KEY: "customer_id"}, salt=salt)


def with_known_flag(
    df: DataFrame, reference: DataFrame, *, key: str, flag: str, broadcast: bool = False
) -> DataFrame:
    """Add boolean `flag`: does `df[key]` exist in `reference[key]` (null key -> null)?"""
    keys = reference.select(F.col(key).alias("_ref_key")).distinct().withColumn("_hit", F.lit(True))
    if broadcast:
        keys = F.broadcast(keys)
    joined = df.join(keys, df[key] == keys["_ref_key"], "left")
    known = F.when(F.col(key).isNotNull(), F.coalesce(F.col("_hit"), F.lit(False)))
    return joined.withColumn(flag, known).drop("_ref_key", "_hit")


def _lineage() -> list[Column]:
    return [F.col(C.BATCH_ID), F.col(C.SOURCE_FILE)]


def silver_customers(df: DataFrame) -> DataFrame:
    return df.select(
        C.CUSTOMER_KEY,
        C.EMAIL_HASH,
        C.PHONE_HASH,
        F.col("country").alias(C.COUNTRY),
        F.col("city").alias(C.CITY),
        F.year("birth_date").alias(C.BIRTH_YEAR),
        F.col("signup_at").alias(C.SIGNUP_AT),
        F.col("marketing_opt_in").alias(C.MARKETING_OPT_IN),
        F.col("updated_at").alias(C.UPDATED_AT),
        *_lineage(),
    )


def silver_products(df: DataFrame) -> DataFrame:
    return df.select(
        C.PRODUCT_ID,
        F.col("sku").alias(C.SKU),
        F.col("name").alias(C.PRODUCT_NAME),
        F.col("brand").alias(C.BRAND),
        F.col("category_path").alias(C.CATEGORY_PATH),
        C.CATEGORY_L1,
        C.CATEGORY_L2,
        C.CATEGORY_L3,
        C.LIST_PRICE,
        F.col("available").alias(C.AVAILABLE),
        F.col("updated_at").alias(C.UPDATED_AT),
        *_lineage(),
    )


def silver_events(df: DataFrame) -> DataFrame:
    return df.select(
        C.EVENT_ID,
        F.col("event_type").alias(C.EVENT_TYPE),
        F.col("ts").alias(C.EVENT_TS),
        C.CUSTOMER_KEY,
        F.col("session_id").alias(C.SESSION_ID),
        C.PRODUCT_ID,
        F.col("order_id").alias(C.ORDER_ID),
        F.col("query").alias(C.QUERY),
        C.UNIT_PRICE,
        F.col("price").alias(C.ORIGINAL_PRICE),
        F.col("currency").alias(C.ORIGINAL_CURRENCY),
        F.col("quantity").alias(C.QUANTITY),
        F.round(F.col(C.UNIT_PRICE) * F.col("quantity"), 4).alias(C.AMOUNT),
        F.col("device").alias(C.DEVICE),
        F.col("channel").alias(C.CHANNEL),
        F.col("sent_at").alias(C.SENT_AT),
        *_lineage(),
        F.to_date("ts").alias(C.EVENT_DATE),
    )


def silver_reviews(df: DataFrame) -> DataFrame:
    return df.select(
        C.REVIEW_ID,
        C.CUSTOMER_KEY,
        C.PRODUCT_ID,
        F.col("rating").alias(C.RATING),
        F.col("title").alias(C.TITLE),
        F.col("text").alias(C.REVIEW_TEXT),
        F.col("ts").alias(C.REVIEW_TS),
        F.to_date("ts").alias(C.REVIEW_DATE),
        F.col("sent_at").alias(C.SENT_AT),
        *_lineage(),
    )


TO_SILVER = {
    landing.CUSTOMERS: silver_customers,
    landing.PRODUCTS: silver_products,
    landing.EVENTS: silver_events,
    landing.REVIEWS: silver_reviews,
}


def stage(
    bronze_rows: DataFrame,
    spec: EntitySpec,
    *,
    salt: bytes,
    fx_to_base: Mapping[str, float],
    customers: DataFrame | None = None,
    products: DataFrame | None = None,
) -> DataFrame:
    """Bronze rows -> parsed, typed, normalised rows with reference flags, ready for rules.

    `customers` / `products` are the silver tables that ids must exist in (events and
    reviews only).
    """
    parse = parse_csv_lines if spec.fmt == "csv" else parse_json_lines
    df = bronze_rows.transform(parse, spec.fields, spec.types)
    if spec.entity == landing.CUSTOMERS:
        return df.transform(normalise_customers, salt=salt)
    if spec.entity == landing.PRODUCTS:
        return df.transform(normalise_products, fx_to_base=fx_to_base)
    if customers is None or products is None:
        raise ValueError(f"staging {spec.entity} needs the customers and products references")
    if spec.entity == landing.EVENTS:
        df = df.transform(normalise_events, salt=salt, fx_to_base=fx_to_base)
    else:
        df = df.transform(normalise_reviews, salt=salt)
    return df.transform(
        with_known_flag, customers, key=C.CUSTOMER_KEY, flag=C.CUSTOMER_KNOWN
    ).transform(with_known_flag, products, key=C.PRODUCT_ID, flag=C.PRODUCT_KNOWN, broadcast=True)


def to_quarantine(
    failed: DataFrame, spec: EntitySpec, *, run_id: str, as_of: date, quarantined_at: datetime
) -> DataFrame:
    """Rows that failed a row rule, shaped for quarantine.<entity>.

    Raw CRM lines hold names, emails and phones: for them only a hash of the line is kept
    (the line itself stays in bronze), so raw PII never leaves bronze.
    """
    raw = F.lit(None).cast("string") if spec.raw_has_pii else F.col(C.RAW)
    return failed.select(
        F.col(spec.key).cast("string").alias(C.RECORD_KEY),
        C.FAILED_RULES,
        C.REASON,
        raw.alias(C.RAW),
        F.sha2(F.col(C.RAW), 256).alias("raw_sha256"),
        C.BATCH_ID,
        C.SOURCE_FILE,
        F.lit(as_of).alias(C.AS_OF),
        F.lit(run_id).alias("run_id"),
        F.lit(quarantined_at).cast("timestamp").alias(C.QUARANTINED_AT),
    )
