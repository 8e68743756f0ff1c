"""Column names and schemas of the segment tables, one comment per column.

gold.customer_segments   one row per customer per as_of: RFM segment and behavioural cluster
gold.segment_summary     one row per segment per kind per as_of: size, share, mean RFM
gold.segment_history     one row per stay of a customer in a segment (entered, left)
gold.segment_centroids   one row per cluster per as_of: its name and centroid (for naming
                         the next run's clusters alike)
"""

from __future__ import annotations

from pyspark.sql import types as T

from insight import columns as C
from insight.tables import Table
from insight.tables import commented as _f

CUSTOMER_SEGMENTS = Table("gold", "customer_segments")
SEGMENT_SUMMARY = Table("gold", "segment_summary")
SEGMENT_HISTORY = Table("gold", "segment_history")
SEGMENT_CENTROIDS = Table("gold", "segment_centroids")

# gold.customer_segments
RFM_SEGMENT = "rfm_segment"
CLUSTER_ID = "cluster_id"
CLUSTER_NAME = "cluster_name"
# gold.segment_summary
KIND = "kind"
SEGMENT = "segment"
CUSTOMERS = "customers"
SHARE = "share"
MEAN_RECENCY_DAYS = "mean_recency_days"
MEAN_FREQUENCY = "mean_frequency"
MEAN_MONETARY = "mean_monetary"
# gold.segment_history
ENTERED_AS_OF = "entered_as_of"
LEFT_AS_OF = "left_as_of"
# gold.segment_centroids
NAME = "name"
FEATURES = "features"
CENTROID = "centroid"

# Values of `kind`.
KIND_RFM = "rfm"
KIND_CLUSTER = "cluster"
KINDS = (KIND_RFM, KIND_CLUSTER)

CUSTOMER_SEGMENTS_SCHEMA = T.StructType([
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(C.AS_OF, T.DateType(), "business date of the gold.customer_features row segmented", False),
    _f(RFM_SEGMENT, T.StringType(), "RFM segment: first matching rule of "
       "insight.segment.rfm.RULES on the 1-5 scores; 'No purchase' if frequency is 0", False),
    _f(CLUSTER_ID, T.IntegerType(), "behavioural cluster of this as_of's KMeans model, 0..k-1 "
       "(ids are not comparable across as_of dates; names are)", False),
    _f(CLUSTER_NAME, T.StringType(), "business name of the cluster: kept from the nearest "
       "cluster of the previous as_of, else from its centroid z-scores", False),
])  # fmt: skip

SEGMENT_SUMMARY_SCHEMA = T.StructType([
    _f(C.AS_OF, T.DateType(), "business date of the segmentation", False),
    _f(KIND, T.StringType(), "'rfm' (rfm_segment) or 'cluster' (cluster_name)", False),
    _f(SEGMENT, T.StringType(), "the RFM segment or cluster name", False),
    _f(CUSTOMERS, T.LongType(), "customers in the segment on as_of", False),
    _f(SHARE, T.DoubleType(), "customers / all customers segmented on as_of, 0-1", False),
    _f(MEAN_RECENCY_DAYS, T.DoubleType(), "mean recency_days of the segment's customers",
       False),
    _f(MEAN_FREQUENCY, T.DoubleType(), "mean frequency (orders) of the segment's customers",
       False),
    _f(MEAN_MONETARY, T.DoubleType(), "mean monetary (net spend, base currency) of the "
       "segment's customers", False),
])  # fmt: skip

SEGMENT_HISTORY_SCHEMA = T.StructType([
    _f(C.CUSTOMER_KEY, T.StringType(), "pseudonymous customer id (salted HMAC)", False),
    _f(KIND, T.StringType(), "'rfm' or 'cluster'", False),
    _f(SEGMENT, T.StringType(), "the RFM segment or cluster name the customer was in", False),
    _f(ENTERED_AS_OF, T.DateType(), "first as_of segmented with the customer in this segment",
       False),
    _f(LEFT_AS_OF, T.DateType(), "first as_of segmented with the customer in another segment "
       "(or absent); null while the customer is still in it", True),
])  # fmt: skip

SEGMENT_CENTROIDS_SCHEMA = T.StructType([
    _f(C.AS_OF, T.DateType(), "business date of the clustering", False),
    _f(CLUSTER_ID, T.IntegerType(), "cluster id in gold.customer_segments for this as_of",
       False),
    _f(NAME, T.StringType(), "the cluster's business name (cluster_name)", False),
    _f(CUSTOMERS, T.LongType(), "customers in the cluster", False),
    _f(FEATURES, T.ArrayType(T.StringType(), False), "model input columns, in centroid order "
       "(log1p applied to those in insight.segment.clusters.LOG1P)", False),
    _f(CENTROID, T.ArrayType(T.DoubleType(), False), "mean of each model input over the "
       "cluster's customers, in input units (after log1p where applied, before scaling)",
       False),
])  # fmt: skip

CUSTOMER_SEGMENTS_COMMENT = (
    "Customer segments: RFM segment and behavioural cluster, one row per customer per as_of"
)
SEGMENT_SUMMARY_COMMENT = "Size, share and mean RFM of each RFM segment and cluster per as_of"
SEGMENT_HISTORY_COMMENT = (
    "Each customer's stays in RFM segments and clusters: entered and left as_of (null = current)"
)
SEGMENT_CENTROIDS_COMMENT = (
    "Centroid and name of each behavioural cluster per as_of (keeps names stable across runs)"
)
