"""Clean new bronze rows into silver: typed, normalised, pseudonymised, validated with the
Great Expectations suites in expectations/, deduplicated by MERGE (latest wins); failing
rows go to quarantine.<table> with the rules they broke.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight.clean.run import clean_all
from insight.runtime import run_job


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("clean", clean_all, argv, __doc__)
