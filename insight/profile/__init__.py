"""The unified customer profile: one row per customer for BI tools."""
