# shellcheck shell=bash disable=SC2034
# The three plume services as background processes (`plume serve <name>`).
# Sourced by up.sh / down.sh after common.sh.

SUPPORTER_KEY_FILE="$PLUME_HOME/secrets/supporter-key"

# The key intake hashes supporters' emails with: made once, kept with the data, because a
# new key would make the same supporter look new (and count their signature twice).
ensure_supporter_key() {
    if [[ ! -s "$SUPPORTER_KEY_FILE" ]]; then
        mkdir -p "$(dirname "$SUPPORTER_KEY_FILE")"
        (umask 077 && head -c 32 /dev/urandom | base64 >"$SUPPORTER_KEY_FILE")
    fi
    PLUME_SUPPORTER_KEY_SECRET="$(cat "$SUPPORTER_KEY_FILE")"
    export PLUME_SUPPORTER_KEY_SECRET
}

service_ready() {
    pid_gone "$1" || curl -fs -o /dev/null "http://127.0.0.1:$2/readyz"
}

start_service() {
    local name="$1" port
    port="$(port_of "$name")"
    # A live process (even one still starting) is never started twice: it is waited for.
    if live_pid "$name" >/dev/null; then
        say "$name already running"
        return 0
    fi
    require_free_port "$name"
    say "starting $name on 127.0.0.1:$port"
    (cd "$REPO_ROOT" && spawn "$name" "$LOG_DIR/$name.log" "$VENV/bin/plume" serve "$name")
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
    # All state under PLUME_HOME, whatever the services' working directory.
    export PLUME_DELIVERY_DOSSIER_DIR="${PLUME_DELIVERY_DOSSIER_DIR:-$PLUME_HOME/dossiers}"
    local name
    # All three start together; then each must answer /readyz (at once when already up).
    for name in "${SERVICES[@]}"; do start_service "$name"; done
    for name in "${SERVICES[@]}"; do wait_service_ready "$name"; done
}

stop_services() {
    local name
    for name in "${SERVICES[@]}"; do stop_pid "$name"; done
}
