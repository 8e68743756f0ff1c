"""Product recommendations: implicit feedback from events, Spark MLlib ALS, ranking
evaluation against a popularity baseline, and top-N with reasons per customer."""
