# shellcheck shell=bash disable=SC2034
# Shared settings and helpers of the local stack; sourced by the other scripts.
# Every default can be overridden from the environment (see the README's table).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PLUME_HOME="${PLUME_HOME:-.plume}"
# Absolute, because PostgreSQL and Kafka run from other working directories.
case "$PLUME_HOME" in /*) ;; *) PLUME_HOME="$REPO_ROOT/$PLUME_HOME" ;; esac
export PLUME_HOME

export PLUME_KAFKA_PORT="${PLUME_KAFKA_PORT:-9092}"
export PLUME_KAFKA_CONTROLLER_PORT="${PLUME_KAFKA_CONTROLLER_PORT:-9093}"
export PLUME_PG_PORT="${PLUME_PG_PORT:-5432}"
export PLUME_PROMETHEUS_PORT="${PLUME_PROMETHEUS_PORT:-9090}"
export PLUME_INTAKE_PORT="${PLUME_INTAKE_PORT:-8001}"
export PLUME_COUNTER_PORT="${PLUME_COUNTER_PORT:-8002}"
export PLUME_DELIVERY_PORT="${PLUME_DELIVERY_PORT:-8003}"
# The widget served by intake reads live totals from the counter's public address.
export PLUME_INTAKE_COUNTER_URL="${PLUME_INTAKE_COUNTER_URL:-http://127.0.0.1:$PLUME_COUNTER_PORT}"
# 1: one Kafka node; 3: a cluster of three, node i on PLUME_KAFKA_PORT + 2(i-1) (kafka.sh).
export PLUME_KAFKA_BROKERS="${PLUME_KAFKA_BROKERS:-1}"
[[ "$PLUME_KAFKA_BROKERS" =~ ^[1-5]$ ]] \
    || { echo "[plume] ERROR: PLUME_KAFKA_BROKERS must be 1 or 3 (got '$PLUME_KAFKA_BROKERS')" >&2; exit 1; }
# 9193: Alertmanager's usual 9093 is Kafka's controller port here.
export PLUME_ALERTMANAGER_PORT="${PLUME_ALERTMANAGER_PORT:-9193}"
export PLUME_NODE_EXPORTER_PORT="${PLUME_NODE_EXPORTER_PORT:-9100}"
# Redis: the rate limits counted for every intake worker and instance together.
export PLUME_REDIS_PORT="${PLUME_REDIS_PORT:-6379}"
export PLUME_INTAKE_REDIS_URL="${PLUME_INTAKE_REDIS_URL:-redis://127.0.0.1:$PLUME_REDIS_PORT/0}"
export PLUME_DATABASE_URL="postgresql://plume:plume@127.0.0.1:$PLUME_PG_PORT/plume"

# Node i's client port (i = 1 … PLUME_KAFKA_BROKERS); its controller's is one above.
kafka_node_port() { echo $((PLUME_KAFKA_PORT + 2 * ($1 - 1))); }
kafka_controller_port() { echo $((PLUME_KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
# The pid file and log name of node i: the single node keeps `kafka`.
kafka_node_name() { if ((PLUME_KAFKA_BROKERS == 1)); then echo kafka; else echo "kafka-$1"; fi; }
kafka_node_names() {
    local i
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do kafka_node_name "$i"; done
}

# Every node, so that clients find the cluster whichever node is down.
set_kafka_bootstrap() {
    local i addresses=()
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do addresses+=("127.0.0.1:$(kafka_node_port "$i")"); done
    PLUME_KAFKA_BOOTSTRAP="$(IFS=,; echo "${addresses[*]}")"
    export PLUME_KAFKA_BOOTSTRAP
}
set_kafka_bootstrap

VENV="$REPO_ROOT/.venv"
KAFKA_LIBS="$PLUME_HOME/kafka/libs"
RUN_DIR="$PLUME_HOME/run"
LOG_DIR="$PLUME_HOME/log"
SERVICES=(intake counter delivery)
# How long a component may take to start or stop before we give up (seconds).
START_DEADLINE="${PLUME_START_DEADLINE:-90}"
STOP_DEADLINE="${PLUME_STOP_DEADLINE:-30}"

say() { printf '[plume] %s\n' "$*"; }
die() { printf '[plume] ERROR: %s\n' "$*" >&2; exit 1; }

port_of() {
    case "$1" in
        kafka) echo "$PLUME_KAFKA_PORT" ;;
        kafka-[0-9]*) kafka_node_port "${1#kafka-}" ;;
        # instance i of a service: the service's port + 10(i-1)
        *-[0-9]*) echo $(($(port_of "${1%-*}") + 10 * (${1##*-} - 1))) ;;
        postgres) echo "$PLUME_PG_PORT" ;;
        prometheus) echo "$PLUME_PROMETHEUS_PORT" ;;
        intake) echo "$PLUME_INTAKE_PORT" ;;
        counter) echo "$PLUME_COUNTER_PORT" ;;
        delivery) echo "$PLUME_DELIVERY_PORT" ;;
        alertmanager) echo "$PLUME_ALERTMANAGER_PORT" ;;
        node-exporter) echo "$PLUME_NODE_EXPORTER_PORT" ;;
        redis) echo "$PLUME_REDIS_PORT" ;;
        *) die "unknown component $1" ;;
    esac
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid recorded for a component, if that process is still alive.
live_pid() {
    local file="$RUN_DIR/$1.pid" pid
    [[ -s "$file" ]] || return 1
    pid="$(head -n1 "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && echo "$pid"
}

# Running = our recorded process lives AND answers on its port.
is_running() { live_pid "$1" >/dev/null && port_open "$(port_of "$1")"; }

# Refuse to start on a port some other program holds: it would be a confusing failure.
require_free_port() {
    local name="$1" port
    port="$(port_of "$name")"
    if port_open "$port"; then
        die "port $port (for $name) is taken by another program; stop it or choose another \
port with PLUME_$(echo "${name%%-[0-9]*}" | tr '[:lower:]-' '[:upper:]_' | sed 's/POSTGRES/PG/')_PORT"
    fi
}

# Poll until "$@" succeeds or the deadline passes.
wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

show_log_tail() {
    local file="$LOG_DIR/$1.log"
    if [[ -f "$file" ]]; then
        printf '[plume] last lines of %s:\n' "$file" >&2
        tail -n 40 "$file" >&2
    fi
}

# Start a long-running program detached from our terminal and session (a Ctrl-C in the
# shell that ran `make up` must not stop it); record its pid. Output is appended to $2.
spawn() {
    local name="$1" output="$2"; shift 2
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    # 9>&-: the stack lock must not live on in the program.
    nohup setsid "$@" >>"$output" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN_DIR/$name.pid"
}

# A zombie (exited, not yet reaped by its parent) counts as gone.
alive() {
    kill -0 "$1" 2>/dev/null && [[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]]
}
pid_gone() { ! alive "$1"; }

# TERM, then KILL after the deadline; forget the pid.
stop_pid() {
    local name="$1" pid
    if pid="$(live_pid "$name")"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_until "$STOP_DEADLINE" pid_gone "$pid"; then
            say "$name (pid $pid) did not stop within ${STOP_DEADLINE}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_until 5 pid_gone "$pid" || die "$name (pid $pid) survives KILL"
        fi
        say "stopped $name"
    fi
    rm -f "$RUN_DIR/$name.pid"
}

# One `make up`/`make down` at a time per PLUME_HOME (a test fixture may start the stack
# while a terminal does too). The lock goes when the script exits.
hold_stack_lock() {
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/.lock"
    flock -w "$START_DEADLINE" 9 || die "another make up/down holds $RUN_DIR/.lock"
}

# Run a command as the postgres user when we are root (initdb refuses root).
as_pg_owner() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_bin() {
    local dir
    dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    if [[ -n "$dir" && -x "$dir/$1" ]]; then echo "$dir/$1"; else command -v "$1"; fi
}
