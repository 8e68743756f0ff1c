#!/usr/bin/env bash
# Spark Thrift Server (JDBC/ODBC, HiveServer2 protocol) over a lake's own catalog, for BI tools.
#
#   infra/bi/thrift-server.sh start  --lake DIR [--port 10000] [--host 127.0.0.1] ...
#   infra/bi/thrift-server.sh status --lake DIR
#   infra/bi/thrift-server.sh stop   --lake DIR
#
# `start` registers every Delta table of the lake's layers in LAKE/_catalog (a short Python
# process that exits and so releases the embedded Derby metastore), then starts the server,
# which owns that metastore until `stop`: jobs on the same lake cannot open the catalog
# meanwhile. It waits until the port answers and prints the JDBC URL.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLASS=org.apache.spark.sql.hive.thriftserver.HiveThriftServer2

usage() {
    cat <<EOF
Usage: $(basename "$0") start|stop|status --lake DIR [options]

  start    register the lake's Delta tables in LAKE/_catalog, start the Spark Thrift
           Server over that catalog, wait until its port answers, print the JDBC URL
  stop     stop the server started for this lake (SIGTERM, then SIGKILL after --timeout)
  status   say whether it runs (exit 0) or not (exit 3)

Options:
  --lake DIR            lake folder holding gold/, silver/, ... (required)
  --port N              port to listen on (default: 10000)
  --host ADDR           address to bind (default: 127.0.0.1; anything else exposes an
                        unauthenticated server, see infra/bi/README.md)
  --transport MODE      binary (default) or http (path /cliservice)
  --layers LIST         layers to register (default: gold,silver)
  --run-dir DIR         pid file, log and operation logs (default: LAKE/_bi)
  --master URL          Spark master of the server (default: local[2])
  --driver-memory SIZE  server memory (default: 1g)
  --timeout SECONDS     how long start waits for the port / stop for the exit (default: 180)
  --no-register         start without registering (the catalog is already up to date)

Environment: PYTHON (default: REPO/.venv/bin/python), SPARK_HOME (default: pip pyspark's).
EOF
}

die() {
    echo "thrift-server.sh: $*" >&2
    exit 2
}

command="${1:-}"
[[ "$command" == -h || "$command" == --help ]] && { usage; exit 0; }
[[ "$command" =~ ^(start|stop|status)$ ]] || { usage >&2; exit 2; }
shift

LAKE="" PORT=10000 HOST=127.0.0.1 TRANSPORT=binary LAYERS=gold,silver RUN_DIR="" MASTER="local[2]"
DRIVER_MEMORY=1g TIMEOUT=180 REGISTER=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --lake) LAKE="${2:?--lake needs a folder}"; shift 2 ;;
        --port) PORT="${2:?--port needs a number}"; shift 2 ;;
        --host) HOST="${2:?--host needs an address}"; shift 2 ;;
        --transport) TRANSPORT="${2:?--transport needs binary or http}"; shift 2 ;;
        --layers) LAYERS="${2:?--layers needs a list}"; shift 2 ;;
        --run-dir) RUN_DIR="${2:?--run-dir needs a folder}"; shift 2 ;;
        --master) MASTER="${2:?--master needs a URL}"; shift 2 ;;
        --driver-memory) DRIVER_MEMORY="${2:?--driver-memory needs a size}"; shift 2 ;;
        --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
        --no-register) REGISTER=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[[ -n "$LAKE" ]] || die "--lake DIR is required"
[[ -d "$LAKE" ]] || die "no lake folder $LAKE"
LAKE="$(cd "$LAKE" && pwd)"
[[ "$PORT" =~ ^[0-9]+$ && "$PORT" -ge 1 && "$PORT" -le 65535 ]] || die "--port $PORT is not a port"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout $TIMEOUT is not a number of seconds"
[[ "$TRANSPORT" =~ ^(binary|http)$ ]] || die "--transport $TRANSPORT: use binary or http"
RUN_DIR="${RUN_DIR:-$LAKE/_bi}"
PID_FILE="$RUN_DIR/thrift-server.pid"
LOG_FILE="$RUN_DIR/thrift-server.log"

running_pid() {
    # The pid of this lake's server if it is alive, else nothing (a stale pid file is removed).
    [[ -f "$PID_FILE" ]] || return 0
    local pid
    pid="$(head -n1 "$PID_FILE")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" \
        && grep -q "$CLASS" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "$pid"
    else
        rm -f "$PID_FILE"
    fi
}

alive() {
    # A zombie (exited, not yet reaped by whoever adopted it) counts as gone.
    kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

port_answers() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

stop_server() {
    local pid
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
        echo "no Spark Thrift Server running for $LAKE"
        return 0
    fi
    # The server is its own process group (setsid): signal the group, so nothing is left.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while alive "$pid" && [[ $waited -lt $TIMEOUT ]]; do
        sleep 1
        waited=$((waited + 1))
    done
    if alive "$pid"; then
        echo "Spark Thrift Server (pid $pid) did not stop within ${TIMEOUT}s: killing it" >&2
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.2; done
    fi
    rm -f "$PID_FILE"
    echo "Spark Thrift Server (pid $pid) stopped"
}

case "$command" in
    stop)
        stop_server
        exit 0
        ;;
    status)
        pid="$(running_pid)"
        if [[ -n "$pid" ]]; then
            echo "Spark Thrift Server running for $LAKE (pid $pid; log $LOG_FILE)"
            exit 0
        fi
        echo "no Spark Thrift Server running for $LAKE"
        exit 3
        ;;
esac

# --- start
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)" || die "no Python found (set PYTHON)"
if [[ -z "${SPARK_HOME:-}" ]]; then
    SPARK_HOME="$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" \
        || die "$PYTHON cannot import pyspark: set PYTHON to the project's venv or SPARK_HOME"
fi
export SPARK_HOME
compgen -G "$SPARK_HOME/jars/spark-hive-thriftserver_*.jar" >/dev/null \
    || die "$SPARK_HOME/jars has no spark-hive-thriftserver jar: this Spark build has no Thrift Server"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

pid="$(running_pid)"
[[ -z "$pid" ]] || die "a Spark Thrift Server already runs for $LAKE (pid $pid): stop it first"
! port_answers "$HOST" "$PORT" || die "port $PORT on $HOST is already in use"
mkdir -p "$RUN_DIR"
cd "$REPO"

# The Delta jars as resolved by the register step's session (Ivy cache): the server needs
# them on its own class path, see insight.bi.catalog.server_submit_args.
JARS_FILE="$RUN_DIR/delta-jars.txt"
if [[ $REGISTER -eq 1 ]]; then
    echo "registering the Delta tables of $LAKE ($LAYERS) in $LAKE/_catalog ..."
    if ! "$PYTHON" -m insight.bi register --lake "$LAKE" --layers "$LAYERS" \
        --jars-file "$JARS_FILE" >>"$LOG_FILE" 2>&1; then
        grep -E "ERROR|Error" "$LOG_FILE" | tail -n 3 >&2 || true
        die "registering the tables failed: see $LOG_FILE"
    fi
    grep "registered .* tables in" "$LOG_FILE" | tail -n1
elif [[ ! -s "$JARS_FILE" ]]; then
    die "--no-register needs $JARS_FILE from an earlier start: start once without it"
fi

SUBMIT_ARGS="$("$PYTHON" -m insight.bi submit-args --lake "$LAKE" --master "$MASTER" \
    --driver-memory "$DRIVER_MEMORY" --jars-file "$JARS_FILE")" \
    || die "could not compute the server's Spark settings (see the message above)"
mapfile -t SUBMIT_ARGS <<<"$SUBMIT_ARGS"

HIVE_CONF=(
    --hiveconf "hive.server2.thrift.bind.host=$HOST"
    --hiveconf "hive.server2.transport.mode=$TRANSPORT"
    --hiveconf "hive.server2.logging.operation.log.location=$RUN_DIR/operation_logs"
)
if [[ "$TRANSPORT" == http ]]; then
    HIVE_CONF+=(--hiveconf "hive.server2.thrift.http.port=$PORT"
        --hiveconf "hive.server2.thrift.http.path=cliservice")
    URL="jdbc:hive2://$HOST:$PORT/gold;transportMode=http;httpPath=cliservice"
else
    HIVE_CONF+=(--hiveconf "hive.server2.thrift.port=$PORT")
    URL="jdbc:hive2://$HOST:$PORT/gold"
fi

echo "$(date -u +%FT%TZ) starting $CLASS on $HOST:$PORT over $LAKE/_catalog" >>"$LOG_FILE"
# Started in the run dir (stray Hive/Derby files land there), in its own session and process
# group so `stop` can signal everything it started. spark-submit execs the JVM: $! is its pid.
(cd "$RUN_DIR" && exec setsid "$SPARK_HOME/bin/spark-submit" --class "$CLASS" \
    --name "insight Thrift Server ($LAKE)" "${SUBMIT_ARGS[@]}" \
    spark-internal "${HIVE_CONF[@]}" >>"$LOG_FILE" 2>&1 </dev/null) &
pid=$!
echo "$pid" >"$PID_FILE"

waited=0
until port_answers "$HOST" "$PORT"; do
    if ! alive "$pid"; then
        rm -f "$PID_FILE"
        echo "thrift-server.sh: the Spark Thrift Server exited before listening; last lines of $LOG_FILE:" >&2
        tail -n 20 "$LOG_FILE" >&2
        exit 1
    fi
    if [[ $waited -ge $TIMEOUT ]]; then
        echo "thrift-server.sh: port $PORT did not answer within ${TIMEOUT}s: stopping (log $LOG_FILE)" >&2
        stop_server >&2
        exit 1
    fi
    sleep 1
    waited=$((waited + 1))
done
echo "Spark Thrift Server up in ${waited}s (pid $pid, log $LOG_FILE)"
echo "JDBC URL: $URL"
