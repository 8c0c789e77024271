#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make up`: start whatever of the local stack is not running, in dependency order, and
# say where everything listens. Running it again while all is up changes nothing.
set -euo pipefail
HERE="$(dirname "$0")"
source "$HERE/common.sh"
source "$HERE/postgres.sh"
source "$HERE/kafka.sh"
source "$HERE/redis.sh"
source "$HERE/prometheus.sh"
source "$HERE/alerting.sh"
source "$HERE/services.sh"
hold_stack_lock

CAMPAIGN="$REPO_ROOT/deploy/campaigns/w4r-2025.json"
CAMPAIGN_STAMP="$RUN_DIR/campaign.loaded"
STARTED_ANY=""

ensure_topics() {
    # The broker's port opens a moment before it takes admin requests: retry until a deadline.
    if ! wait_until "$START_DEADLINE" "$VENV/bin/plume" topics ensure; then
        local name
        for name in $(kafka_node_names); do show_log_tail "$name"; done
        die "could not create the Kafka topics"
    fi
}

# The default campaign: after Kafka or PostgreSQL (re)started, or when its file changed.
# Loaded before the services start, so that they know its cases from their first request.
prepare_kafka_content() {
    local want
    want="$(sha256sum "$CAMPAIGN" | cut -d' ' -f1)"
    [[ -z "$STARTED_ANY" && "$(cat "$CAMPAIGN_STAMP" 2>/dev/null)" == "$want" ]] && return 0
    "$VENV/bin/plume" campaign load "$CAMPAIGN" || die "could not load $CAMPAIGN"
    echo "$want" >"$CAMPAIGN_STAMP"
}

print_addresses() {
    cat <<MSG
[plume] the stack is up (state in $PLUME_HOME, logs in $LOG_DIR):
  intake        http://127.0.0.1:$PLUME_INTAKE_PORT
  counter       http://127.0.0.1:$PLUME_COUNTER_PORT
  delivery      http://127.0.0.1:$PLUME_DELIVERY_PORT
  kafka         $PLUME_KAFKA_BOOTSTRAP
  postgresql    $PLUME_DATABASE_URL
  redis         $PLUME_INTAKE_REDIS_URL (rate limits)
  prometheus    http://127.0.0.1:$PLUME_PROMETHEUS_PORT (console: /consoles/plume.html)
  alertmanager  http://127.0.0.1:$PLUME_ALERTMANAGER_PORT (webhook: $PLUME_ALERT_WEBHOOK_URL)
  node-exporter http://127.0.0.1:$PLUME_NODE_EXPORTER_PORT
MSG
    local name
    for name in $(service_instances); do
        [[ "$name" == *-* ]] && printf '  %-13s http://127.0.0.1:%s\n' "$name" "$(port_of "$name")"
    done
    return 0
}

# A listening port inside the kernel's ephemeral range can be taken by any outgoing
# connection (even a probe of that very port connecting to itself): say so.
warn_ephemeral_ports() {
    local low high name port
    read -r low high </proc/sys/net/ipv4/ip_local_port_range || return 0
    for name in postgres redis $(kafka_node_names) prometheus alertmanager node-exporter $(service_instances); do
        port="$(port_of "$name")"
        if ((port >= low && port <= high)); then
            say "warning: port $port ($name) is in the ephemeral range $low-$high; if it is \
taken at start, choose a port below $low"
        fi
    done
}

mkdir -p "$RUN_DIR" "$LOG_DIR"
check_kafka_topology
warn_ephemeral_ports
start_postgres
start_redis
start_kafka
# Skipped only when all was up already and a previous run got as far as the campaign.
[[ -z "$STARTED_ANY" && -f "$CAMPAIGN_STAMP" ]] || ensure_topics
prepare_kafka_content
start_alertmanager
start_node_exporter
start_prometheus
start_services
print_addresses
