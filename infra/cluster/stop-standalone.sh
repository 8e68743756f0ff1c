#!/usr/bin/env bash
# Stop the cluster start-standalone.sh started: SIGTERM to each recorded process group,
# SIGKILL to whatever is still running after --grace seconds; removes the pid files.
# Logs and work dirs stay in STATE_DIR. Safe to run twice, or after a failed start.
#
#   infra/cluster/stop-standalone.sh [--state-dir /tmp/insight-standalone] [--grace 10]
set -uo pipefail

STATE_DIR=/tmp/insight-standalone
GRACE=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --state-dir) STATE_DIR=$2; shift 2 ;;
    --grace) GRACE=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stop-standalone.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

shopt -s nullglob
pidfiles=("$STATE_DIR"/*.pid)
if [[ ${#pidfiles[@]} -eq 0 ]]; then
  echo "stop-standalone.sh: no cluster recorded in $STATE_DIR"
  exit 0
fi

running() { kill -0 -- "-$1" 2>/dev/null; }  # is any process of the group alive?
# Workers first, so the master does not log them as lost; each pid leads its group (setsid).
for f in $(ls "$STATE_DIR"/worker-*.pid 2>/dev/null) "$STATE_DIR/master.pid"; do
  [[ -f "$f" ]] || continue
  pid=$(cat "$f")
  running "$pid" && kill -TERM -- "-$pid" 2>/dev/null
done
deadline=$((SECONDS + GRACE))
for f in "${pidfiles[@]}"; do
  pid=$(cat "$f")
  while running "$pid" && [[ $SECONDS -lt $deadline ]]; do sleep 0.2; done
  if running "$pid"; then
    echo "stop-standalone.sh: $(basename "$f" .pid) (group $pid) ignored SIGTERM; killing it"
    kill -KILL -- "-$pid" 2>/dev/null
    sleep 0.5
  fi
  rm -f "$f"
done
echo "stopped the Spark standalone cluster of $STATE_DIR"
