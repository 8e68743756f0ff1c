"""Data quality: Great Expectations suites (JSON in expectations/) as the one source of truth.

`rules` turns a suite's row-level expectations into Spark predicates that route rows to
silver or quarantine at scale; `gx` runs the same suite through Great Expectations and
records what it found.
"""
