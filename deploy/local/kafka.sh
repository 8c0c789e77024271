# shellcheck shell=bash disable=SC2034
# Apache Kafka, one KRaft node, run by the JDK from the jars in $PLUME_HOME/kafka/libs.
# Sourced by up.sh / down.sh after common.sh.

KAFKA_DIR="$PLUME_HOME/kafka"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"

# Heap at most 1 GiB: a laptop runs this next to PostgreSQL and three services. The GC
# flags are those of Kafka's own start script: short pauses keep the produce p99 low.
KAFKA_JAVA=(java -Xmx1g -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR"
    -Dlog4j2.configurationFile="$REPO_ROOT/deploy/local/kafka/log4j2.xml"
    -cp "$KAFKA_LIBS/*")

write_kafka_config() {
    mkdir -p "$KAFKA_DIR/data"
    sed -e "s|@PORT@|$PLUME_KAFKA_PORT|g" \
        -e "s|@CONTROLLER_PORT@|$PLUME_KAFKA_CONTROLLER_PORT|g" \
        -e "s|@DATA_DIR@|$KAFKA_DIR/data|g" \
        "$REPO_ROOT/deploy/local/kafka/server.properties" >"$KAFKA_CONFIG"
}

format_kafka_storage_once() {
    [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$("${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid)"
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" >/dev/null \
        || die "could not format Kafka's storage in $KAFKA_DIR/data"
}

kafka_started() { pid_gone "$1" || port_open "$PLUME_KAFKA_PORT"; }

start_kafka() {
    # A live process (even one still starting) is never started twice: it is waited for.
    if live_pid kafka >/dev/null; then
        say "kafka already running"
    else
        require_free_port kafka
        port_open "$PLUME_KAFKA_CONTROLLER_PORT" && die "port $PLUME_KAFKA_CONTROLLER_PORT \
(Kafka controller) is taken by another program; choose another with PLUME_KAFKA_CONTROLLER_PORT"
        write_kafka_config
        format_kafka_storage_once
        say "starting kafka on 127.0.0.1:$PLUME_KAFKA_PORT"
        spawn kafka "$LOG_DIR/kafka.out" "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_CONFIG"
        STARTED_ANY=1
    fi
    local pid
    pid="$(cat "$RUN_DIR/kafka.pid")"
    if ! wait_until "$START_DEADLINE" kafka_started "$pid" || pid_gone "$pid"; then
        tail -n 20 "$LOG_DIR/kafka.out" >&2 || true
        show_log_tail kafka
        die "kafka did not start"
    fi
}

stop_kafka() { stop_pid kafka; }
