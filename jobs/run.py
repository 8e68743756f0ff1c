"""spark-submit's entry point for one job of the DAG:

    spark-submit [options] jobs/run.py JOB [job flags]     (infra/spark-submit/submit.sh)

the same as `insight run JOB [job flags]` (the jobs are listed in insight/dag.py; `all`
runs the DAG). A script, not the console script, because spark-submit runs a file.
"""

from __future__ import annotations

import sys

from insight.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
