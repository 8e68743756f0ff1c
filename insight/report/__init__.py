"""The insight report: gold and ops tables -> small summaries -> one self-contained HTML page.

`summaries` aggregates in Spark and collects only small pandas frames (never a customer
key); `models` reads model history from the MLflow registry; `charts` draws inline SVG
with matplotlib; `page` lays out the HTML; `run` is the job.
"""
