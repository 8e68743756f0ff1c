"""Column names and the schema of gold.customer_clv, one comment per column."""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.tables import Table
from insight.tables import commented as _f

CUSTOMER_CLV = Table("gold", "customer_clv")

# RFM summary (lifetimes convention, purchase days; see insight.clv.summary).
FREQUENCY = "frequency"
RECENCY = "recency"
T_DAYS = "T"  # the lifetimes name
MONETARY_VALUE = "monetary_value"
HOLDOUT_PURCHASES = "holdout_purchases"

# Model outputs.
EXPECTED_PURCHASES_12M = "expected_purchases_12m"
P_ALIVE = "p_alive"
EXPECTED_SPEND = "expected_spend"
CLV_12M = "clv_12m"
MODEL_PARAMS = "model_params"

PARAMS = T.MapType(T.StringType(), T.DoubleType())

SUMMARY_FIELDS = [
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(FREQUENCY, T.LongType(), "repeat purchase days: distinct UTC days with a purchase, "
       "minus 1, on or before as_of", False),
    _f(RECENCY, T.IntegerType(), "days from the first to the last purchase day (0 if "
       "frequency is 0)", False),
    _f(T_DAYS, T.IntegerType(), "days from the first purchase day to as_of", False),
    _f(MONETARY_VALUE, T.DoubleType(), "net spend (purchases - returns, base currency) of the "
       "days after the first purchase day / frequency; 0 if frequency is 0; can be <= 0",
       False),
]  # fmt: skip

SUMMARY_SCHEMA = T.StructType(SUMMARY_FIELDS)

CUSTOMER_CLV_SCHEMA = T.StructType([
    SUMMARY_FIELDS[0],
    _f(C.AS_OF, T.DateType(), "business date: only events on or before this UTC day are used",
       False),
    *SUMMARY_FIELDS[1:],
    _f(EXPECTED_PURCHASES_12M, T.DoubleType(), "BG/NBD expected purchase days in the horizon "
       "(365 days by default) after as_of", False),
    _f(P_ALIVE, T.DoubleType(), "BG/NBD probability the customer is still active at as_of; 1 "
       "if frequency is 0 (BG/NBD drops customers only after a repeat purchase)", False),
    _f(EXPECTED_SPEND, T.DoubleType(), "Gamma-Gamma expected net spend per purchase day, base "
       "currency; the population mean if frequency is 0 or monetary_value <= 0", False),
    _f(CLV_12M, T.DoubleType(), "expected_purchases_12m x expected_spend, base currency, "
       "discounted monthly at model_params['monthly_discount'] (0 = undiscounted)", False),
    _f(MODEL_PARAMS, PARAMS, "fitted BG/NBD (r, alpha in days, a, b) and Gamma-Gamma (p, q, v) "
       "parameters, horizon_days and monthly_discount of this as_of's fit", False),
])  # fmt: skip

TABLE_COMMENT = (
    "Customer lifetime value (BG/NBD + Gamma-Gamma) per purchasing customer per as_of; "
    "customers without a purchase by as_of have no row (CLV 0)"
)
