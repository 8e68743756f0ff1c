"""Compute point-in-time customer features for one as_of into gold.customer_features: RFM
(recency, frequency, net spend and their 1-5 scores), tenure, order value and rhythm,
30/90/365-day activity, sessions, cart abandonment, returns, category/channel/device mix
and review sentiment (from gold.review_insights when it exists). Nothing after as_of is
used; a re-run for the same as_of replaces that as_of's rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight.features.run import features_all
from insight.runtime import run_job


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("features", features_all, argv, __doc__)
