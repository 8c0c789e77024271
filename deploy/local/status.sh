#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make status`: which parts of the local stack run, and where; how Kafka's topics are
# replicated (replication factor and replicas in sync, per topic).
set -euo pipefail
HERE="$(dirname "$0")"
source "$HERE/common.sh"
source "$HERE/kafka.sh"
source "$HERE/services.sh"
use_recorded_kafka_topology

kafka_up=""
for name in postgres redis $(kafka_node_names) prometheus alertmanager node-exporter $(service_instances); do
    port="$(port_of "$name")"
    if pid="$(live_pid "$name")"; then
        if port_open "$port"; then state="running (pid $pid)"; else state="starting? (pid $pid, port closed)"; fi
        [[ "$name" == kafka* ]] && kafka_up=1
    elif port_open "$port"; then
        state="stopped (but port $port is taken by another program)"
    else
        state="stopped"
    fi
    printf '  %-13s 127.0.0.1:%-6s %s\n' "$name" "$port" "$state"
done

if [[ -n "$kafka_up" && -x "$VENV/bin/plume" ]]; then
    echo "  kafka topics ($PLUME_KAFKA_BROKERS node(s)):"
    timeout 30 "$VENV/bin/plume" topics status 2>/dev/null || echo "    (Kafka did not describe its topics)"
fi
