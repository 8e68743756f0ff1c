"""Column names and schemas of gold.recommendations and gold.similar_products."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.recommend.topn import BECAUSE, BECAUSE_SIMILARITY, RANK, SCORE
from insight.tables import Table
from insight.tables import commented as _f

RECOMMENDATIONS = Table("gold", "recommendations")
SIMILAR_PRODUCTS = Table("gold", "similar_products")

SOURCE = "source"
REASON = "reason"
RECOMMENDED_AT = "recommended_at"
SIMILAR_PRODUCT_ID = "similar_product_id"
SIMILARITY = "similarity"

# Values of `source`.
ALS = "als"
POPULAR_IN_COUNTRY = "popular_in_country"
POPULAR_OVERALL = "popular_overall"

RECOMMENDATIONS_SCHEMA = T.StructType([
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(C.AS_OF, T.DateType(), "business date the recommendations are for", False),
    _f(RANK, T.IntegerType(), "1 = best; at most recommend.top_n per customer", False),
    _f(C.PRODUCT_ID, T.StringType(), "recommended product (available, not blocked, not "
       "already bought unless its category is repurchasable)", False),
    _f(SCORE, T.DoubleType(), "als: predicted preference (factor dot product, higher is "
       "stronger); popular_*: customers interested in the product", False),
    _f(SOURCE, T.StringType(), f"{ALS} (the customer's own history), {POPULAR_IN_COUNTRY} "
       f"or {POPULAR_OVERALL} (cold start: no interactions in the history window)", False),
    _f(REASON, T.StringType(), "why, in words: 'because you bought X' (X = the customer's "
       "product most similar to this one) or 'popular in DE'", False),
    _f(BECAUSE, T.StringType(), "the product the reason names; null for popular_*"),
    _f(BECAUSE_SIMILARITY, T.DoubleType(), "cosine similarity of the two products' ALS "
       "factors, -1..1; null for popular_*"),
    _f(C.MODEL_VERSION, T.StringType(), "registered ALS model (name/version) served", False),
    _f(RECOMMENDED_AT, T.TimestampType(), "when the row was written, UTC", False),
])  # fmt: skip
RECOMMENDATIONS_COMMENT = (
    "Top-N product recommendations per customer and as_of: implicit-feedback ALS, cold-start "
    "customers get what is popular in their country. Written by the recommend job."
)

SIMILAR_PRODUCTS_SCHEMA = T.StructType([
    _f(C.PRODUCT_ID, T.StringType(), "the product (any product the model knows)", False),
    _f(C.AS_OF, T.DateType(), "business date of the model run", False),
    _f(RANK, T.IntegerType(), "1 = most similar; at most recommend.similar_n", False),
    _f(SIMILAR_PRODUCT_ID, T.StringType(), "a similar product that may be recommended "
       "(available, not blocked)", False),
    _f(SIMILARITY, T.DoubleType(), "cosine similarity of the ALS product factors, -1..1",
       False),
    _f(C.MODEL_VERSION, T.StringType(), "registered ALS model (name/version)", False),
])  # fmt: skip
SIMILAR_PRODUCTS_COMMENT = (
    "Products bought and viewed by the same customers (ALS factor cosine), for product "
    "pages. Written by the recommend job."
)
