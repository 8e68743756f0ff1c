"""Write the insight report for one as_of: a single self-contained HTML page (inline SVG
charts, no external scripts, styles or fonts) at <lake>/reports/<as_of>/index.html with
segment sizes and value, the RFM grid, the CLV distribution, review sentiment per brand with
alerts, praised and complained-about keyphrases, propensity score distributions and
per-decile calibration, recommendation coverage, model metrics over registered versions and
data quality per run. Reads the gold and ops tables and the MLflow registry; a table not
built yet shows as a "no data yet" panel naming the job to run. Aggregates only: no
customer key appears in the report. Lakes with a URI scheme (dbfs:/, s3a://, ...) are
written through the session's Hadoop FileSystem.
"""

from __future__ import annotations

from collections.abc import Sequence

from insight.report.run import report_all
from insight.runtime import run_job


def main(argv: Sequence[str] | None = None) -> int:
    return run_job("report", report_all, argv, __doc__)
