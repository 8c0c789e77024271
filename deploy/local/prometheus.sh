# shellcheck shell=bash disable=SC2034
# Prometheus from the Debian package, scraping the three services and itself.
# Sourced by up.sh / down.sh after common.sh.

PROMETHEUS_CONFIG="$PLUME_HOME/prometheus.yml"

# The rules are found wherever PLUME_HOME is: their repo-relative path becomes absolute.
write_prometheus_config() {
    sed -e "s|127.0.0.1:9090|127.0.0.1:$PLUME_PROMETHEUS_PORT|" \
        -e "s|127.0.0.1:8001|127.0.0.1:$PLUME_INTAKE_PORT|" \
        -e "s|127.0.0.1:8002|127.0.0.1:$PLUME_COUNTER_PORT|" \
        -e "s|127.0.0.1:8003|127.0.0.1:$PLUME_DELIVERY_PORT|" \
        -e "s|\.\./deploy/prometheus/rules/|$REPO_ROOT/deploy/prometheus/rules/|" \
        "$REPO_ROOT/deploy/prometheus/prometheus.yml" >"$PROMETHEUS_CONFIG"
}

prometheus_ready() {
    pid_gone "$1" || curl -fs -o /dev/null "http://127.0.0.1:$PLUME_PROMETHEUS_PORT/-/ready"
}

start_prometheus() {
    if live_pid prometheus >/dev/null; then
        say "prometheus already running"
    else
        require_free_port prometheus
        command -v prometheus >/dev/null || die "prometheus is missing: apt-get install prometheus"
        write_prometheus_config
        say "starting prometheus on 127.0.0.1:$PLUME_PROMETHEUS_PORT"
        spawn prometheus "$LOG_DIR/prometheus.log" prometheus \
            --config.file="$PROMETHEUS_CONFIG" \
            --storage.tsdb.path="$PLUME_HOME/prometheus" \
            --web.listen-address="127.0.0.1:$PLUME_PROMETHEUS_PORT"
        STARTED_ANY=1
    fi
    local pid
    pid="$(cat "$RUN_DIR/prometheus.pid")"
    if ! wait_until "$START_DEADLINE" prometheus_ready "$pid" || pid_gone "$pid"; then
        show_log_tail prometheus
        die "prometheus did not start"
    fi
}

stop_prometheus() { stop_pid prometheus; }
