"""Customer segments as of a date: RFM segments by rule, behavioural clusters (KMeans) with
stable business names, a per-segment summary and each customer's segment history."""
