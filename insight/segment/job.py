"""Segment customers for one as_of from gold.customer_features: RFM segments by rule and
behavioural clusters (KMeans, k by silhouette) with names kept stable across runs, into
gold.customer_segments, gold.segment_summary, gold.segment_centroids and
gold.segment_history. A re-run for the same as_of replaces that as_of's rows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from insight.runtime import run_job
from insight.segment.run import segment_all


@dataclass(frozen=True)
class Flags:
    embeddings: bool = False  # --embeddings


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embeddings",
        dest="embeddings",
        action="store_true",
        help="cluster on the customer embeddings of gold.customer_embeddings (written by the "
        "propensity job for this as_of) instead of the RFM/behaviour features; names and RFM "
        "segments are unchanged",
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("segment", segment_all, argv, __doc__, add_args, Flags)
