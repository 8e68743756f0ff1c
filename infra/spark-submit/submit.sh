#!/usr/bin/env bash
# Run one insight job with spark-submit, shipping the library to the executors.
#
#   infra/spark-submit/submit.sh [spark-submit options] -- JOB [job flags]
#
# JOB: a task of the DAG (ingest, clean, nlp, features, segment, clv, recommend,
# propensity, profile), `all`, or the path of an entry-point script. The job gets
# `--env $INSIGHT_ENV` first; give --lake, --as-of, --conf after JOB.
#
# What it adds to the spark-submit command line:
#   - the jars (`insight submit-args --env $INSIGHT_ENV`: Delta, Spark NLP, TF-Java);
#   - the library for the executors (INSIGHT_SHIP): `zip` (default) builds
#     dist/insight-<version>.zip of insight/ + jobs/ with conf/ and expectations/ inside as
#     insight/conf and insight/expectations (the layout setup.py's package_dir gives the
#     wheel); `wheel` builds the wheel (pip wheel --no-deps); `none` ships nothing (the
#     Python environment already has the package: a packed venv, a container image).
# The driver runs the entry point from this checkout (client mode) or uploads it (cluster).
#
# Environment: INSIGHT_ENV (cluster), INSIGHT_SHIP (zip|wheel|none), INSIGHT_DIST (<repo>/dist),
# PYTHON (the venv's python), SPARK_SUBMIT and INSIGHT (the venv's spark-submit / insight),
# INSIGHT_DRY_RUN=1 prints the command instead of running it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
venv_or() { if [[ -x "$REPO/.venv/bin/$1" ]]; then echo "$REPO/.venv/bin/$1"; else echo "$2"; fi; }
PYTHON=${PYTHON:-$(venv_or python python3)}
SPARK_SUBMIT=${SPARK_SUBMIT:-$(venv_or spark-submit spark-submit)}
INSIGHT=${INSIGHT:-$(venv_or insight insight)}
INSIGHT_ENV=${INSIGHT_ENV:-cluster}
INSIGHT_SHIP=${INSIGHT_SHIP:-zip}
INSIGHT_DIST=${INSIGHT_DIST:-$REPO/dist}

die() { echo "submit.sh: $*" >&2; exit 2; }

submit_opts=()
while [[ $# -gt 0 && "$1" != "--" ]]; do submit_opts+=("$1"); shift; done
[[ $# -ge 2 ]] || die "usage: submit.sh [spark-submit options] -- JOB [job flags] (see --help in $0)"
shift  # the --
job=$1; shift

# jobs/run.py JOB for a job of the DAG, jobs/all.py for the DAG, or a script given by path.
job_arg=()
case "$job" in
  *.py) entry=$job ;;
  all) entry=$REPO/jobs/all.py ;;
  *) entry=$REPO/jobs/run.py; job_arg=("$job") ;;
esac
[[ -f "$entry" || "$entry" == local://* ]] || die "no entry point $entry for job '$job'"

build_zip() {
  "$PYTHON" - "$REPO" "$INSIGHT_DIST" <<'PY'
import re, sys, zipfile
from pathlib import Path

repo, dist = Path(sys.argv[1]), Path(sys.argv[2])
version = re.search(r'__version__ = "([^"]+)"', (repo / "insight/__init__.py").read_text())[1]
dist.mkdir(parents=True, exist_ok=True)
target = dist / f"insight-{version}.zip"
partial = target.with_suffix(".part")
with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
    for package in ("insight", "jobs"):
        for path in sorted((repo / package).rglob("*.py")):
            z.write(path, path.relative_to(repo).as_posix())
    # As in the wheel (setup.py package_dir): conf/ -> insight/conf, expectations/ -> ...
    for folder, pattern in (("conf", "*.yaml"), ("expectations", "*.json")):
        for path in sorted((repo / folder).glob(pattern)):
            z.write(path, f"insight/{folder}/{path.name}")
partial.rename(target)
print(target)
PY
}

build_wheel() {
  "$PYTHON" -m pip wheel --no-deps --no-build-isolation -q -w "$INSIGHT_DIST" "$REPO" >&2
  ls -t "$INSIGHT_DIST"/customer_insight_lakehouse-*.whl | head -n 1
}

ship=()
case "$INSIGHT_SHIP" in
  zip) ship=(--py-files "$(build_zip)") ;;
  wheel) ship=(--py-files "$(build_wheel)") ;;
  none) ;;
  *) die "INSIGHT_SHIP=$INSIGHT_SHIP: choose zip, wheel or none" ;;
esac

# The jars, from the same config the job loads (spark-submit starts the JVM before the
# job runs, so spark.jars.packages set by the job would come too late).
read -r -a jars <<<"$("$INSIGHT" submit-args --env "$INSIGHT_ENV")" \
  || die "insight submit-args --env $INSIGHT_ENV failed"

cmd=("$SPARK_SUBMIT" "${jars[@]}" "${ship[@]}" "${submit_opts[@]}" "$entry" \
  ${job_arg[@]+"${job_arg[@]}"} --env "$INSIGHT_ENV" "$@")
if [[ "${INSIGHT_DRY_RUN:-0}" == 1 ]]; then printf '%q ' "${cmd[@]}"; echo; exit 0; fi
exec "${cmd[@]}"
