#!/usr/bin/env bash
# Start a Spark standalone cluster on this machine (loopback only): one master and N
# workers, each a `spark-class` JVM shipped with pyspark, in its own process group.
# Pids go to STATE_DIR/*.pid, logs to STATE_DIR/*.log; returns once the master reports
# every worker ALIVE (polling its web UI JSON), or stops what it started and fails.
#
#   infra/cluster/start-standalone.sh [--workers 2] [--port 7077] [--webui-port 8080]
#       [--cores 1] [--memory 2g] [--state-dir /tmp/insight-standalone] [--timeout 90]
#   spark-submit --master spark://127.0.0.1:7077 ...
#   infra/cluster/stop-standalone.sh --state-dir /tmp/insight-standalone
set -euo pipefail

WORKERS=2
PORT=7077
WEBUI_PORT=8080
CORES=1
MEMORY=2g
STATE_DIR=/tmp/insight-standalone
TIMEOUT=90
HOST=127.0.0.1

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --webui-port) WEBUI_PORT=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --state-dir) STATE_DIR=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "start-standalone.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The pip pyspark's own Spark home (its bin/spark-class, jars/): the venv's, else python3's.
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON=$REPO/.venv/bin/python; else PYTHON=python3; fi
fi
if [[ -z "${SPARK_HOME:-}" ]]; then
  SPARK_HOME=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') || {
    echo "start-standalone.sh: pyspark not importable by $PYTHON (set PYTHON or SPARK_HOME)" >&2
    exit 2
  }
fi
export SPARK_HOME
SPARK_CLASS=$SPARK_HOME/bin/spark-class
[[ -x "$SPARK_CLASS" ]] || { echo "start-standalone.sh: $SPARK_CLASS not found" >&2; exit 2; }

mkdir -p "$STATE_DIR"
if compgen -G "$STATE_DIR/*.pid" >/dev/null; then
  echo "start-standalone.sh: $STATE_DIR already has a cluster (*.pid); stop it first:" \
    "infra/cluster/stop-standalone.sh --state-dir $STATE_DIR" >&2
  exit 2
fi

# Everything binds to loopback: the hostname may resolve to an address other machines see.
export SPARK_LOCAL_IP=$HOST
# The daemons themselves need little heap; executors get their memory from the workers.
export SPARK_DAEMON_MEMORY=${SPARK_DAEMON_MEMORY:-512m}

launch() {  # name, then the spark-class arguments; setsid: own process group, so stop
  local name=$1; shift  # can kill the JVM and anything it forked
  setsid "$SPARK_CLASS" "$@" >"$STATE_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE_DIR/$name.pid"
}

MASTER=spark://$HOST:$PORT
launch master org.apache.spark.deploy.master.Master \
  --host "$HOST" --port "$PORT" --webui-port "$WEBUI_PORT"
for i in $(seq 1 "$WORKERS"); do
  mkdir -p "$STATE_DIR/work-$i"
  # --webui-port 0: a free port each (the master's JSON lists where each one is).
  launch "worker-$i" org.apache.spark.deploy.worker.Worker "$MASTER" \
    --host "$HOST" --cores "$CORES" --memory "$MEMORY" --webui-port 0 \
    --work-dir "$STATE_DIR/work-$i"
done
echo "$MASTER" >"$STATE_DIR/master-url"
echo "http://$HOST:$WEBUI_PORT" >"$STATE_DIR/master-webui"

# Ready when the master is ALIVE and lists WORKERS workers in state ALIVE.
deadline=$((SECONDS + TIMEOUT))
while true; do
  alive=$("$PYTHON" - "http://$HOST:$WEBUI_PORT/json/" <<'PY' 2>/dev/null || echo 0
import json, sys, urllib.request
state = json.load(urllib.request.urlopen(sys.argv[1], timeout=2))
alive = [w for w in state["workers"] if w["state"] == "ALIVE"]
print(len(alive) if state.get("status") == "ALIVE" else 0)
PY
)
  if [[ "$alive" -ge "$WORKERS" ]]; then break; fi
  for f in "$STATE_DIR"/*.pid; do
    if ! kill -0 "$(cat "$f")" 2>/dev/null; then
      name=$(basename "$f" .pid)
      echo "start-standalone.sh: $name exited; its log ($STATE_DIR/$name.log) ends:" >&2
      tail -n 20 "$STATE_DIR/$name.log" >&2
      "$HERE/stop-standalone.sh" --state-dir "$STATE_DIR" >&2
      exit 1
    fi
  done
  if [[ $SECONDS -ge $deadline ]]; then
    echo "start-standalone.sh: $alive of $WORKERS workers alive after ${TIMEOUT}s; logs in $STATE_DIR" >&2
    tail -n 5 "$STATE_DIR"/*.log >&2
    "$HERE/stop-standalone.sh" --state-dir "$STATE_DIR" >&2
    exit 1
  fi
  sleep 1
done
echo "Spark standalone master $MASTER (web UI http://$HOST:$WEBUI_PORT) with $WORKERS workers" \
  "x $CORES core(s), $MEMORY; state and logs in $STATE_DIR"
