"""Build gold.customer_profile: every customer with features, segments, lifetime value and
review sentiment as of --as-of, merged by customer so BI tools read one current row each.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight.profile.run import profile_all
from insight.runtime import run_job


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("profile", profile_all, argv, __doc__)
