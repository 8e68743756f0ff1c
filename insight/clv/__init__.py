"""Customer lifetime value: RFM summaries (Spark), BG/NBD + Gamma-Gamma models (numpy)."""
