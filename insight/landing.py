"""The raw landing-zone contract: folders, file formats and field names.

Shared by the lake generator (which writes it) and the ingest/clean jobs (which read it),
so a field renamed here is renamed everywhere.
"""

from __future__ import annotations

CUSTOMERS = "customers"
PRODUCTS = "products"
EVENTS = "events"
REVIEWS = "reviews"
ENTITIES = (CUSTOMERS, PRODUCTS, EVENTS, REVIEWS)

# CSV entities carry a header line; JSON-lines entities one object per line.
CSV_ENTITIES = (CUSTOMERS, PRODUCTS)
JSON_ENTITIES = (EVENTS, REVIEWS)
FILE_SUFFIX = {CUSTOMERS: ".csv", PRODUCTS: ".csv", EVENTS: ".jsonl", REVIEWS: ".jsonl"}

# Field order is the CSV column order. The last CSV column is always required, which
# lets the cleaner detect short rows (a PERMISSIVE CSV parser pads them with nulls).
CUSTOMER_FIELDS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postcode",
    "country",
    "birth_date",
    "signup_at",
    "marketing_opt_in",
    "updated_at",
)
PRODUCT_FIELDS = (
    "product_id",
    "sku",
    "name",
    "brand",
    "category_path",
    "price",
    "currency",
    "available",
    "updated_at",
)
EVENT_FIELDS = (
    "event_id",
    "event_type",
    "ts",
    "customer_id",
    "session_id",
    "product_id",
    "order_id",
    "query",
    "price",
    "currency",
    "quantity",
    "device",
    "channel",
    "sent_at",
)
REVIEW_FIELDS = (
    "review_id",
    "customer_id",
    "product_id",
    "rating",
    "title",
    "text",
    "ts",
    "sent_at",
)
FIELDS = {
    CUSTOMERS: CUSTOMER_FIELDS,
    PRODUCTS: PRODUCT_FIELDS,
    EVENTS: EVENT_FIELDS,
    REVIEWS: REVIEW_FIELDS,
}
CSV_HEADER = {entity: ",".join(FIELDS[entity]) for entity in CSV_ENTITIES}

# Event types: the values of events.event_type, named once for every job that reads them.
VIEW, SEARCH, ADD_TO_CART, REMOVE_FROM_CART = "view", "search", "add_to_cart", "remove_from_cart"
PURCHASE, RETURN = "purchase", "return"
EVENT_TYPES = (VIEW, SEARCH, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE, RETURN)
PRODUCT_EVENT_TYPES = (VIEW, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE, RETURN)
ORDER_EVENT_TYPES = (PURCHASE, RETURN)
DEVICES = ("desktop", "mobile", "tablet")
CHANNELS = ("web", "app", "email", "search_ads", "social", "affiliate")
CURRENCIES = ("EUR", "USD", "GBP")
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "GB", "US", "SE", "PL", "BE")
CATEGORY_SEPARATOR = " > "

# Kinds of bad record the generator injects and the quality rule that must catch each.
# None means "not quarantined": the duplicate is collapsed in silver (latest wins).
DIRTY_KINDS = {
    "malformed_json": "parseable",
    "malformed_csv": "parseable",
    "invalid_utf8": "valid_utf8",
    "missing_customer_id": "customer_id_not_null",
    "missing_event_type": "event_type_not_null",
    "missing_ts": "ts_not_null",
    "missing_email": "email_not_null",
    "missing_rating": "rating_not_null",
    "wrong_type_price": "price_is_number",
    "wrong_type_quantity": "quantity_is_integer",
    "wrong_type_ts": "ts_is_timestamp",
    "wrong_type_rating": "rating_is_integer",
    "negative_price": "price_in_range",
    "absurd_price": "price_in_range",
    "absurd_quantity": "quantity_in_range",
    "rating_out_of_range": "rating_in_range",
    "future_ts": "ts_in_window",
    "ancient_ts": "ts_in_window",
    "unknown_event_type": "event_type_in_set",
    "orphan_customer": "customer_exists",
    "orphan_product": "product_exists",
    "oversize_text": "text_length_in_range",
    "markup_in_text": "text_has_no_markup",
    "invalid_email": "email_format",
    "exact_duplicate": None,
    "resent_changed": None,
}

# Reference exchange rates (base currency per unit) the source shop used when it priced
# events in local currency; conf/base.yaml `clean.fx_to_base` carries the same figures.
REFERENCE_FX_TO_EUR = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}
