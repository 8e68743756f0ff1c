#!/usr/bin/env bash
# Run an insight job on YARN in cluster mode: the driver runs in the application master,
# so everything Python needs travels with the job as a packed virtualenv.
#
#   infra/spark-submit/yarn.sh [spark-submit options] -- JOB --lake hdfs:///lakes/shop \
#       --as-of YYYY-MM-DD [job flags]
#
# Needs HADOOP_CONF_DIR (or YARN_CONF_DIR) pointing at the cluster's client config, and
# INSIGHT_VENV_ARCHIVE (default dist/env.tar.gz): a venv-pack archive of a virtualenv with
# the insight wheel and the pinned stack (TensorFlow, Horovod, Spark NLP's Python side)
# installed; build it with `infra/spark-submit/yarn.sh --pack` (see README.md). YARN unpacks
# it as ./env in every container; the driver and the executors run ./env/bin/python.
# INSIGHT_PII_SALT is passed to the application master and the executors as an environment
# variable (the `salt` in spark.redaction.regex keeps it out of the UI and event logs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ARCHIVE=${INSIGHT_VENV_ARCHIVE:-$REPO/dist/env.tar.gz}
PYTHON311=${PYTHON311:-python3.11}

if [[ "${1:-}" == "--pack" ]]; then
  # A fresh venv (venv-pack cannot pack editable installs) with the wheel and the same
  # pins and Horovod build flags as `make setup`.
  build=$REPO/build/pack-env
  rm -rf "$build" && "$PYTHON311" -m venv "$build"
  "$build/bin/pip" install -q pip==24.3.1 setuptools==69.5.1 wheel==0.45.1 venv-pack
  "$build/bin/pip" wheel --no-deps -q -w "$REPO/dist" "$REPO"
  wheel=$(ls -t "$REPO"/dist/customer_insight_lakehouse-*.whl | head -n 1)
  "$build/bin/pip" install -q -c "$REPO/constraints.txt" "$wheel[nlp,dl]" cmake
  PATH=$build/bin:$PATH HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 \
    HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 \
    "$build/bin/pip" install -q --no-build-isolation -c "$REPO/constraints.txt" "horovod[spark]"
  "$build/bin/venv-pack" -p "$build" -o "$ARCHIVE" --force
  echo "packed $build into $ARCHIVE"
  exit 0
fi

[[ -n "${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-}" ]] || {
  echo "yarn.sh: set HADOOP_CONF_DIR (or YARN_CONF_DIR) to the cluster's client config" >&2; exit 2; }
[[ -f "$ARCHIVE" ]] || {
  echo "yarn.sh: no packed virtualenv at $ARCHIVE; build it: infra/spark-submit/yarn.sh --pack" >&2
  exit 2; }
: "${INSIGHT_PII_SALT:?yarn.sh: export INSIGHT_PII_SALT from your secret store}"

# The packed env has the wheel installed: no --py-files (INSIGHT_SHIP=none).
INSIGHT_SHIP=${INSIGHT_SHIP:-none} exec "$HERE/submit.sh" \
  --master yarn --deploy-mode cluster \
  --archives "$ARCHIVE#env" \
  --conf spark.pyspark.python=./env/bin/python \
  --conf spark.yarn.appMasterEnv.INSIGHT_PII_SALT="$INSIGHT_PII_SALT" \
  --conf spark.executorEnv.INSIGHT_PII_SALT="$INSIGHT_PII_SALT" \
  --conf "spark.redaction.regex=(?i)secret|password|token|access[.]key|salt" \
  "$@"
