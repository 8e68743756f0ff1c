"""Explicit silver schemas with a one-line comment per column (shown to analysts)."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.tables import commented as _f

LINEAGE = [
    _f(C.BATCH_ID, T.StringType(), "bronze batch the row came from", False),
    _f(C.SOURCE_FILE, T.StringType(), "landing file the row came from", False),
]

CUSTOMERS = T.StructType(
    [
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
        _f(C.EMAIL_HASH, T.StringType(), "salted HMAC of the normalised email"),
        _f(C.PHONE_HASH, T.StringType(), "salted HMAC of the phone digits"),
        _f(C.COUNTRY, T.StringType(), "ISO 3166 alpha-2 country"),
        _f(C.CITY, T.StringType(), "city"),
        _f(C.BIRTH_YEAR, T.IntegerType(), "year of birth (the full date stays in bronze)"),
        _f(C.SIGNUP_AT, T.TimestampType(), "sign-up time, UTC"),
        _f(C.MARKETING_OPT_IN, T.BooleanType(), "consented to marketing"),
        _f(C.UPDATED_AT, T.TimestampType(), "last change in the CRM, UTC (latest wins)", False),
        *LINEAGE,
    ]
)

PRODUCTS = T.StructType(
    [
        _f(C.PRODUCT_ID, T.StringType(), "product id from the catalog", False),
        _f(C.SKU, T.StringType(), "stock keeping unit"),
        _f(C.PRODUCT_NAME, T.StringType(), "product name"),
        _f(C.BRAND, T.StringType(), "brand"),
        _f(C.CATEGORY_PATH, T.StringType(), "full category path, levels joined by ' > '"),
        _f(C.CATEGORY_L1, T.StringType(), "top-level category"),
        _f(C.CATEGORY_L2, T.StringType(), "second-level category"),
        _f(C.CATEGORY_L3, T.StringType(), "third-level category"),
        _f(C.LIST_PRICE, T.DoubleType(), "catalog price in the base currency"),
        _f(C.AVAILABLE, T.BooleanType(), "can be ordered"),
        _f(C.UPDATED_AT, T.TimestampType(), "last change in the catalog, UTC (latest wins)", False),
        *LINEAGE,
    ]
)

EVENTS = T.StructType(
    [
        _f(C.EVENT_ID, T.StringType(), "event id from the source", False),
        _f(C.EVENT_TYPE, T.StringType(), "view, search, add_to_cart, remove_from_cart, ..."),
        _f(C.EVENT_TS, T.TimestampType(), "when it happened, UTC"),
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)"),
        _f(C.SESSION_ID, T.StringType(), "web/app session"),
        _f(C.PRODUCT_ID, T.StringType(), "product, for product events"),
        _f(C.ORDER_ID, T.StringType(), "order, for purchases and returns"),
        _f(C.QUERY, T.StringType(), "search text, for searches"),
        _f(C.UNIT_PRICE, T.DoubleType(), "unit price in the base currency"),
        _f(C.ORIGINAL_PRICE, T.DoubleType(), "unit price as charged"),
        _f(C.ORIGINAL_CURRENCY, T.StringType(), "currency as charged"),
        _f(C.QUANTITY, T.IntegerType(), "units"),
        _f(C.AMOUNT, T.DoubleType(), "unit_price * quantity, base currency"),
        _f(C.DEVICE, T.StringType(), "desktop, mobile or tablet"),
        _f(C.CHANNEL, T.StringType(), "traffic channel"),
        _f(C.SENT_AT, T.TimestampType(), "when the source sent it, UTC (latest wins)", False),
        *LINEAGE,
        _f(C.EVENT_DATE, T.DateType(), "UTC date of event_ts (partition)"),
    ]
)

REVIEWS = T.StructType(
    [
        _f(C.REVIEW_ID, T.StringType(), "review id from the source", False),
        _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)"),
        _f(C.PRODUCT_ID, T.StringType(), "reviewed product"),
        _f(C.RATING, T.IntegerType(), "stars, 1 to 5"),
        _f(C.TITLE, T.StringType(), "review title"),
        _f(C.REVIEW_TEXT, T.StringType(), "review text"),
        _f(C.REVIEW_TS, T.TimestampType(), "when it was written, UTC"),
        _f(C.REVIEW_DATE, T.DateType(), "UTC date of review_ts"),
        _f(C.SENT_AT, T.TimestampType(), "when the source sent it, UTC (latest wins)", False),
        *LINEAGE,
    ]
)

QUARANTINE = T.StructType(
    [
        _f(C.RECORD_KEY, T.StringType(), "natural key if it could be read (pseudonymised for PII)"),
        _f(C.FAILED_RULES, T.ArrayType(T.StringType()), "names of the rules the row failed"),
        _f(C.REASON, T.StringType(), "why, in words"),
        _f(C.RAW, T.StringType(), "the record as received (null where it holds raw PII)"),
        _f("raw_sha256", T.StringType(), "SHA-256 of the record, to find it in bronze"),
        _f(C.BATCH_ID, T.StringType(), "bronze batch the row came from"),
        _f(C.SOURCE_FILE, T.StringType(), "landing file the row came from"),
        _f(C.AS_OF, T.DateType(), "business date of the run"),
        _f("run_id", T.StringType(), "the clean run that quarantined it"),
        _f(C.QUARANTINED_AT, T.TimestampType(), "when"),
    ]
)

BRONZE = T.StructType(
    [
        _f("value", T.StringType(), "the landing line exactly as received"),
        _f(C.RESCUED_DATA, T.StringType(), "JSON fields not in the contract (schema drift)"),
        _f(C.SOURCE_FILE, T.StringType(), "landing file", False),
        _f(C.INGESTED_AT, T.TimestampType(), "when ingest read it", False),
        _f(C.BATCH_ID, T.StringType(), "ingest micro-batch", False),
    ]
)
