"""Column names of the lakehouse tables, in one place.

Landing field names live in `insight.landing`; these are the names jobs write.
"""

# Lineage columns carried from bronze through silver and quarantine.
RAW = "_raw"  # the raw landing line, exactly as received (bronze `value`)
SOURCE_FILE = "_source_file"
INGESTED_AT = "_ingested_at"
BATCH_ID = "_batch_id"
# Top-level fields of a JSON landing line that the contract does not know, as a JSON object.
RESCUED_DATA = "_rescued_data"
CLEANED_AT = "_cleaned_at"
AS_OF = "as_of"

# Staging-only helper columns (never written to silver).
PARSE_OK = "_parse_ok"
UTF8_OK = "_utf8_ok"
CUSTOMER_KNOWN = "_customer_known"
PRODUCT_KNOWN = "_product_known"
RAW_SUFFIX = "_raw"  # `price_raw`: the string as sent, kept next to the typed `price`

# Quarantine.
FAILED_RULES = "failed_rules"
REASON = "reason"
RECORD_KEY = "record_key"
QUARANTINED_AT = "quarantined_at"

# Silver: customers (pseudonymised; raw PII stays in bronze).
CUSTOMER_KEY = "customer_key"  # HMAC-SHA256 of the source customer id
EMAIL_HASH = "email_hash"
PHONE_HASH = "phone_hash"
COUNTRY = "country"
CITY = "city"
BIRTH_YEAR = "birth_year"
SIGNUP_AT = "signup_at"
MARKETING_OPT_IN = "marketing_opt_in"
UPDATED_AT = "updated_at"

# Silver: products.
PRODUCT_ID = "product_id"
SKU = "sku"
PRODUCT_NAME = "name"
BRAND = "brand"
CATEGORY_PATH = "category_path"
CATEGORY_L1 = "category_l1"
CATEGORY_L2 = "category_l2"
CATEGORY_L3 = "category_l3"
LIST_PRICE = "list_price"  # base currency
AVAILABLE = "available"

# Silver: events.
EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
EVENT_TS = "event_ts"  # UTC
EVENT_DATE = "event_date"  # partition column
SESSION_ID = "session_id"
ORDER_ID = "order_id"
QUERY = "query"
UNIT_PRICE = "unit_price"  # base currency
ORIGINAL_PRICE = "original_price"
ORIGINAL_CURRENCY = "original_currency"
QUANTITY = "quantity"
AMOUNT = "amount"  # unit_price * quantity, base currency
DEVICE = "device"
CHANNEL = "channel"
SENT_AT = "sent_at"

# Silver: reviews.
REVIEW_ID = "review_id"
RATING = "rating"
TITLE = "title"
REVIEW_TEXT = "review_text"
REVIEW_TS = "review_ts"
REVIEW_DATE = "review_date"

# Gold: review insights and sentiment trends.
SENTIMENT = "sentiment"  # positive / neutral / negative / unknown
PROBABILITY = "probability"
SENTIMENT_SCORE = "sentiment_score"
TEXT_STATUS = "text_status"
LANGUAGE = "language"  # en, zh, other (insight.nlp.text)
KEYPHRASES = "keyphrases"
TOPIC_ID = "topic_id"
TOPIC_WEIGHT = "topic_weight"
MODEL_VERSION = "model_version"
SCORED_AT = "scored_at"
DAY = "day"
WEEK_START = "week_start"
LEVEL = "level"  # product or brand
ENTITY_ID = "entity_id"  # the product id or brand name of a product/brand row
