# shellcheck shell=bash disable=SC2034
# Apache Kafka in KRaft mode, run by the JDK from the jars in $PLUME_HOME/kafka/libs: one
# node, or PLUME_KAFKA_BROKERS=3 nodes (each broker and controller) forming one cluster.
# Sourced by up.sh / down.sh / status.sh after common.sh.

KAFKA_DIR="$PLUME_HOME/kafka"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
# How many nodes this PLUME_HOME's Kafka was made with: its data (and the positions in
# PostgreSQL) belong to that cluster, so another topology must never start on them.
KAFKA_TOPOLOGY="$KAFKA_DIR/topology"

# Heap at most 1 GiB for one node, 512 MiB each for three: a laptop (or this 2-core
# machine) runs them next to PostgreSQL and the services. The GC flags are those of
# Kafka's own start script: short pauses keep the produce p99 low.
set_kafka_java() {
    local heap=1g
    ((PLUME_KAFKA_BROKERS == 1)) || heap=512m
    KAFKA_JAVA=(java "-Xmx${PLUME_KAFKA_HEAP:-$heap}" -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
        -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR"
        -Dlog4j2.configurationFile="$REPO_ROOT/deploy/local/kafka/log4j2.xml"
        -cp "$KAFKA_LIBS/*")
}
# Kafka's tools (the storage format) log to kafka-tools.log, not to a node's log.
kafka_java() { set_kafka_java && "${KAFKA_JAVA[@]}" -Dplume.kafka.log=kafka-tools "$@"; }

# Node i's files: the single node keeps the layout it always had.
kafka_node_dir() { if ((PLUME_KAFKA_BROKERS == 1)); then echo "$KAFKA_DIR"; else echo "$KAFKA_DIR/node-$1"; fi; }

kafka_voters() {
    local i voters=()
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do voters+=("$i@127.0.0.1:$(kafka_controller_port "$i")"); done
    (IFS=,; echo "${voters[*]}")
}

write_kafka_config() {
    local i="${1:-1}" dir replicas=$((PLUME_KAFKA_BROKERS < 3 ? PLUME_KAFKA_BROKERS : 3))
    dir="$(kafka_node_dir "$i")"
    mkdir -p "$dir/data"
    sed -e "s|@NODE_ID@|$i|g" -e "s|@VOTERS@|$(kafka_voters)|g" \
        -e "s|@PORT@|$(kafka_node_port "$i")|g" \
        -e "s|@CONTROLLER_PORT@|$(kafka_controller_port "$i")|g" \
        -e "s|@DATA_DIR@|$dir/data|g" \
        -e "s|@REPLICAS@|$replicas|g" -e "s|@MIN_ISR@|$((replicas >= 3 ? 2 : 1))|g" \
        "$REPO_ROOT/deploy/local/kafka/server.properties" >"$dir/server.properties"
}

# The topology recorded at first start; a home made before it was recorded had one node.
recorded_kafka_topology() {
    if [[ -s "$KAFKA_TOPOLOGY" ]]; then
        cat "$KAFKA_TOPOLOGY"
    elif [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
        echo 1
    fi
}

# Refuse, before anything starts, a topology other than the one this home was made with.
check_kafka_topology() {
    local recorded
    recorded="$(recorded_kafka_topology)"
    if [[ -z "$recorded" ]]; then
        mkdir -p "$KAFKA_DIR"
        echo "$PLUME_KAFKA_BROKERS" >"$KAFKA_TOPOLOGY"
    elif [[ "$recorded" != "$PLUME_KAFKA_BROKERS" ]]; then
        die "$PLUME_HOME holds a Kafka of $recorded node(s) but PLUME_KAFKA_BROKERS=$PLUME_KAFKA_BROKERS \
asks for $PLUME_KAFKA_BROKERS: nothing was started. Run with PLUME_KAFKA_BROKERS=$recorded, or give \
the other topology its own PLUME_HOME (e.g. PLUME_HOME=.plume$PLUME_KAFKA_BROKERS), or \`make clean\` \
first (it deletes this home's data)."
    fi
}

# down/status/clean act on what this home holds, whatever PLUME_KAFKA_BROKERS says now.
use_recorded_kafka_topology() {
    local recorded
    recorded="$(recorded_kafka_topology)"
    if [[ -n "$recorded" ]]; then
        PLUME_KAFKA_BROKERS="$recorded"
        set_kafka_bootstrap
    fi
}

# Every node of a cluster is formatted with the same cluster id, kept for nodes to come.
format_kafka_storage_once() {
    local i dir cluster_id pids=()
    [[ -s "$KAFKA_DIR/cluster-id" ]] || kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster-id"
    cluster_id="$(tail -n1 "$KAFKA_DIR/cluster-id")"
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do
        dir="$(kafka_node_dir "$i")"
        [[ -f "$dir/data/meta.properties" ]] && continue
        kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >/dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || die "could not format Kafka's storage in $KAFKA_DIR"; done
}

kafka_started() { pid_gone "$1" || port_open "$2"; }

require_free_kafka_ports() {
    local i port
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do
        live_pid "$(kafka_node_name "$i")" >/dev/null && continue
        for port in "$(kafka_node_port "$i")" "$(kafka_controller_port "$i")"; do
            port_open "$port" && die "port $port (Kafka node $i) is taken by another program; \
choose other ports with PLUME_KAFKA_PORT and PLUME_KAFKA_CONTROLLER_PORT (node i uses each + 2(i-1))"
        done
    done
    return 0
}

start_kafka_node() {
    local i="$1" name dir
    name="$(kafka_node_name "$i")"
    dir="$(kafka_node_dir "$i")"
    say "starting $name on 127.0.0.1:$(kafka_node_port "$i")"
    set_kafka_java
    spawn "$name" "$LOG_DIR/$name.out" "${KAFKA_JAVA[@]}" -Dplume.kafka.log="$name" kafka.Kafka \
        "$dir/server.properties"
}

start_kafka() {
    local i name pid to_start=()
    # A live process (even one still starting) is never started twice: it is waited for.
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do
        name="$(kafka_node_name "$i")"
        if live_pid "$name" >/dev/null; then say "$name already running"; else to_start+=("$i"); fi
    done
    if ((${#to_start[@]})); then
        require_free_kafka_ports
        for i in "${to_start[@]}"; do write_kafka_config "$i"; done
        format_kafka_storage_once
        # All together: a node of a cluster opens its port only once a quorum has formed.
        for i in "${to_start[@]}"; do start_kafka_node "$i"; done
        STARTED_ANY=1
    fi
    for ((i = 1; i <= PLUME_KAFKA_BROKERS; i++)); do
        name="$(kafka_node_name "$i")"
        pid="$(cat "$RUN_DIR/$name.pid")"
        if ! wait_until "$START_DEADLINE" kafka_started "$pid" "$(kafka_node_port "$i")" || pid_gone "$pid"; then
            tail -n 20 "$LOG_DIR/$name.out" >&2 || true
            show_log_tail "$name"
            die "$name did not start"
        fi
    done
}

# Whatever runs: the single node and any node of a cluster. All are asked to stop at once:
# one at a time, the last ones would wait for a quorum that has gone.
stop_kafka() {
    local file names=() name pid output
    for file in "$RUN_DIR"/kafka.pid "$RUN_DIR"/kafka-[0-9]*.pid; do
        [[ -e "$file" ]] && names+=("$(basename "$file" .pid)")
    done
    for name in "${names[@]}"; do
        if pid="$(live_pid "$name")"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for name in "${names[@]}"; do
        output="$(stop_pid "$name")"  # "stopped …" only for the slow ones: said once below
        [[ -z "$output" ]] || grep -v '^\[plume\] stopped ' <<<"$output" || true
    done
    ((${#names[@]} == 0)) || say "stopped ${names[*]}"
}
