# shellcheck shell=bash disable=SC2034
# Alertmanager (alerts to a webhook or mail) and the node exporter (free space of the data
# volume), both from Debian's packages. Sourced by up.sh / down.sh after common.sh.

ALERTMANAGER_CONFIG="$PLUME_HOME/alertmanager.yml"
# Where the default receiver posts alerts; deploy/alertmanager/alertmanager.yml explains.
PLUME_ALERT_WEBHOOK_URL="${PLUME_ALERT_WEBHOOK_URL:-http://127.0.0.1:9199/alerts}"

write_alertmanager_config() {
    local url="${PLUME_ALERT_WEBHOOK_URL//&/\\&}"  # & means "the match" to sed
    sed -e "s|url: http://127.0.0.1:9199/alerts|url: ${url//|/\\|}|" \
        "$REPO_ROOT/deploy/alertmanager/alertmanager.yml" >"$ALERTMANAGER_CONFIG"
}

http_ready() {
    pid_gone "$1" || curl -fs -o /dev/null "http://127.0.0.1:$(port_of "$2")$3"
}

# Start program $1 (answering GET $2 once ready) unless it runs; the rest is its command.
start_listener() {
    local name="$1" ready_path="$2" pid
    shift 2
    if live_pid "$name" >/dev/null; then
        say "$name already running"
    else
        require_free_port "$name"
        command -v "$1" >/dev/null || die "$1 is missing: make install"
        say "starting $name on 127.0.0.1:$(port_of "$name")"
        spawn "$name" "$LOG_DIR/$name.log" "$@"
        STARTED_ANY=1
    fi
    pid="$(cat "$RUN_DIR/$name.pid")"
    if ! wait_until "$START_DEADLINE" http_ready "$pid" "$name" "$ready_path" || pid_gone "$pid"; then
        show_log_tail "$name"
        die "$name did not start"
    fi
}

# Clustering is off (empty --cluster.listen-address): one Alertmanager per stack, and its
# default cluster port 9094 would collide between stacks on one machine.
start_alertmanager() {
    write_alertmanager_config
    mkdir -p "$PLUME_HOME/alertmanager"
    start_listener alertmanager /-/ready prometheus-alertmanager \
        --config.file="$ALERTMANAGER_CONFIG" \
        --storage.path="$PLUME_HOME/alertmanager" \
        --web.listen-address="127.0.0.1:$PLUME_ALERTMANAGER_PORT" \
        --cluster.listen-address=
}

# Only the filesystem collector: plume alerts on the data volume's free space, nothing else.
start_node_exporter() {
    start_listener node-exporter /metrics prometheus-node-exporter \
        --collector.disable-defaults --collector.filesystem \
        --web.listen-address="127.0.0.1:$PLUME_NODE_EXPORTER_PORT"
}

stop_alerting() {
    stop_pid node-exporter
    stop_pid alertmanager
}
