#!/usr/bin/env bash
# Run an insight job on a Spark standalone cluster (client mode: the driver runs here).
#
#   infra/spark-submit/standalone.sh [--master spark://HOST:7077] [spark-submit options] \
#       -- JOB --lake DIR --as-of YYYY-MM-DD [job flags]
#
# The master defaults to $SPARK_MASTER_URL, else spark://127.0.0.1:7077 (what
# infra/cluster/start-standalone.sh starts). Standalone runs Python drivers in client mode
# only. Executors run the Python named by PYSPARK_PYTHON (default: the venv's) at the same
# path on every worker, and read the lake at the same path: a local folder works on one
# machine; across machines use shared storage (NFS, HDFS, s3a://).
# Typical options: --total-executor-cores 2 --executor-memory 1g --driver-memory 2g.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
master=${SPARK_MASTER_URL:-spark://127.0.0.1:7077}
opts=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case "$1" in
    --master) master=$2; shift 2 ;;
    --master=*) master=${1#--master=}; shift ;;
    *) opts+=("$1"); shift ;;
  esac
done
[[ "$master" == spark://* ]] || { echo "standalone.sh: --master must be spark://HOST:PORT, got $master" >&2; exit 2; }
if [[ -z "${PYSPARK_PYTHON:-}" && -x "$REPO/.venv/bin/python" ]]; then
  export PYSPARK_PYTHON=$REPO/.venv/bin/python
fi
exec "$HERE/submit.sh" --master "$master" --deploy-mode client "${opts[@]}" "$@"
