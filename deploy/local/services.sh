# shellcheck shell=bash disable=SC2034
# The three plume services as background processes (`plume serve <name>`).
# Sourced by up.sh / down.sh after common.sh.

SUPPORTER_KEY_FILE="$PLUME_HOME/secrets/supporter-key"
WEBHOOK_SECRET_FILE="$PLUME_HOME/secrets/webhook-secret"
MASTER_KEY_FILE="$PLUME_HOME/secrets/supporter-master-key"

# A random secret kept in file $1 (made once, readable by this user only), printed.
kept_secret() {
    if [[ ! -s "$1" ]]; then
        mkdir -p "$(dirname "$1")"
        (umask 077 && head -c 32 /dev/urandom | base64 >"$1")
    fi
    cat "$1"
}

# The key intake hashes supporters' emails with: made once, kept with the data, because a
# new key would make the same supporter look new (and count their signature twice).
ensure_supporter_key() {
    PLUME_SUPPORTER_KEY_SECRET="$(kept_secret "$SUPPORTER_KEY_FILE")"
    export PLUME_SUPPORTER_KEY_SECRET
}

# The key that wraps the supporters' data keys (intake and delivery): made once and kept,
# as losing it loses every sealed name; one set in the environment wins.
ensure_master_key() {
    if [[ -z "${PLUME_SUPPORTER_MASTER_KEY:-}" ]]; then
        PLUME_SUPPORTER_MASTER_KEY="$(kept_secret "$MASTER_KEY_FILE")"
    fi
    export PLUME_SUPPORTER_MASTER_KEY
}

# The key delivery signs webhook requests with: delivery has no default and refuses to
# start with a webhook target and none. Made once, so receivers keep accepting after a
# restart; one set in the environment wins.
ensure_webhook_secret() {
    if [[ -z "${PLUME_DELIVERY_WEBHOOK_SECRET:-}" ]]; then
        PLUME_DELIVERY_WEBHOOK_SECRET="$(kept_secret "$WEBHOOK_SECRET_FILE")"
    fi
    export PLUME_DELIVERY_WEBHOOK_SECRET
}

# How many processes of a service run, all in its one consumer group: counter and
# delivery may run several (PLUME_COUNTER_INSTANCES, PLUME_DELIVERY_INSTANCES), intake one.
instances_of() {
    local count=1
    case "$1" in
        counter) count="${PLUME_COUNTER_INSTANCES:-1}" ;;
        delivery) count="${PLUME_DELIVERY_INSTANCES:-1}" ;;
    esac
    [[ "$count" =~ ^[1-9]$ ]] || die "PLUME_$(echo "$1" | tr '[:lower:]' '[:upper:]')_INSTANCES \
must be a number from 1 to 9 (got '$count')"
    echo "$count"
}

# Instance 1 is the service's own name; instance i > 1 is <service>-<i> (its pid file and
# log), on the service's port + 10(i-1) (see port_of).
instance_name() { if (($2 == 1)); then echo "$1"; else echo "$1-$2"; fi; }

# The instances asked for, and any others still recorded as running (a scale-down).
service_instances() {
    local name i file extra
    for name in "${SERVICES[@]}"; do
        for ((i = 1; i <= $(instances_of "$name"); i++)); do instance_name "$name" "$i"; done
        for file in "$RUN_DIR/$name"-[0-9]*.pid; do
            [[ -e "$file" ]] || continue
            extra="$(basename "$file" .pid)"
            if ((${extra##*-} > $(instances_of "$name"))); then echo "$extra"; fi
        done
    done
    return 0
}

service_ready() {
    pid_gone "$1" || curl -fs -o /dev/null "http://127.0.0.1:$2/readyz"
}

# Instance `name` of `service`: `plume serve <service>` on that instance's port.
start_service() {
    local service="$1" name="$2" port variable
    port="$(port_of "$name")"
    # A live process (even one still starting) is never started twice: it is waited for.
    if live_pid "$name" >/dev/null; then
        say "$name already running"
        return 0
    fi
    require_free_port "$name"
    say "starting $name on 127.0.0.1:$port"
    variable="PLUME_$(echo "$service" | tr '[:lower:]' '[:upper:]')_PORT"
    (cd "$REPO_ROOT" && export "$variable=$port" \
        && spawn "$name" "$LOG_DIR/$name.log" "$VENV/bin/plume" serve "$service")
    STARTED_ANY=1
}

wait_service_ready() {
    local name="$1" port pid
    port="$(port_of "$name")"
    pid="$(cat "$RUN_DIR/$name.pid")"
    if ! wait_until "$START_DEADLINE" service_ready "$pid" "$port" || pid_gone "$pid"; then
        show_log_tail "$name"
        die "$name did not become ready on http://127.0.0.1:$port/readyz"
    fi
}

start_services() {
    ensure_supporter_key
    ensure_master_key
    ensure_webhook_secret
    # All state under PLUME_HOME, whatever the services' working directory.
    export PLUME_DELIVERY_DOSSIER_DIR="${PLUME_DELIVERY_DOSSIER_DIR:-$PLUME_HOME/dossiers}"
    local service name i
    # Instances beyond the number asked for leave the group (the others take their partitions).
    for name in $(service_instances); do
        [[ "$name" == *-* ]] || continue
        if ((${name##*-} > $(instances_of "${name%-*}"))); then stop_pid "$name"; fi
    done
    # All start together; then each must answer /readyz (at once when already up).
    for service in "${SERVICES[@]}"; do
        for ((i = 1; i <= $(instances_of "$service"); i++)); do
            start_service "$service" "$(instance_name "$service" "$i")"
        done
    done
    for name in $(service_instances); do wait_service_ready "$name"; done
}

stop_services() {
    local name file
    for name in "${SERVICES[@]}"; do
        stop_pid "$name"
        for file in "$RUN_DIR/$name"-[0-9]*.pid; do
            [[ -e "$file" ]] && stop_pid "$(basename "$file" .pid)"
        done
    done
    return 0
}
