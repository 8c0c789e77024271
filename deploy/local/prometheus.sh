# shellcheck shell=bash disable=SC2034
# Prometheus from the Debian package, scraping every instance of the three services and
# itself. Sourced by up.sh / down.sh after common.sh; uses services.sh's instances_of.

PROMETHEUS_CONFIG="$PLUME_HOME/prometheus.yml"

# The console libraries (prom.lib, menu.lib) Debian's prometheus package ships as examples;
# deploy/prometheus/consoles/plume.html is built on them.
console_libraries() {
    local dir
    for dir in "${PLUME_PROMETHEUS_CONSOLE_LIBRARIES:-}" /usr/share/prometheus/console_libraries \
        /etc/prometheus/console_libraries /usr/share/doc/prometheus/examples/console_libraries; do
        [[ -n "$dir" && -f "$dir/prom.lib" ]] && echo "$dir" && return 0
    done
    die "no Prometheus console libraries (prom.lib) found: apt-get install prometheus, \
or set PLUME_PROMETHEUS_CONSOLE_LIBRARIES"
}

# The mount point holding PLUME_HOME as an anchored relabel regex, escaped for sed's
# replacement too (a mount point may hold regex characters).
data_mountpoint_regex() {
    local mountpoint regex
    mkdir -p "$PLUME_HOME"
    mountpoint="$(df --output=target "$PLUME_HOME" | tail -n1)"
    # shellcheck disable=SC2016  # the $ is a regex character here, not an expansion
    regex="$(printf '%s' "$mountpoint" | sed 's/[][\.*^$()+?{}|]/\\&/g')"
    regex="${regex//\\/\\\\}"
    regex="${regex//&/\\&}"
    printf '%s' "${regex//|/\\|}"
}

# Every instance of a service (PLUME_COUNTER_INSTANCES, …; port + 10(i-1)) as the items
# of a YAML flow list: "127.0.0.1:8002", "127.0.0.1:8012".
scrape_targets() {
    local i targets=""
    for ((i = 1; i <= $(instances_of "$1"); i++)); do
        targets+="${targets:+, }\"127.0.0.1:$(port_of "$(instance_name "$1" "$i")")\""
    done
    printf '%s' "$targets"
}

# The rules are found wherever PLUME_HOME is: their repo-relative path becomes absolute.
write_prometheus_config() {
    sed -e "s|127.0.0.1:9090|127.0.0.1:$PLUME_PROMETHEUS_PORT|" \
        -e "s|127.0.0.1:9193|127.0.0.1:$PLUME_ALERTMANAGER_PORT|" \
        -e "s|127.0.0.1:9100|127.0.0.1:$PLUME_NODE_EXPORTER_PORT|" \
        -e "s|regex: '/'|regex: '$(data_mountpoint_regex)'|" \
        -e "s|\"127.0.0.1:8001\"|$(scrape_targets intake)|" \
        -e "s|\"127.0.0.1:8002\"|$(scrape_targets counter)|" \
        -e "s|\"127.0.0.1:8003\"|$(scrape_targets delivery)|" \
        -e "s|\.\./deploy/prometheus/rules/|$REPO_ROOT/deploy/prometheus/rules/|" \
        "$REPO_ROOT/deploy/prometheus/prometheus.yml" >"$PROMETHEUS_CONFIG"
}

prometheus_ready() {
    pid_gone "$1" || curl -fs -o /dev/null "http://127.0.0.1:$PLUME_PROMETHEUS_PORT/-/ready"
}

# A running Prometheus rereads its config on SIGHUP: the instances asked for may have changed.
reload_prometheus_config() {
    local before
    before="$(cat "$PROMETHEUS_CONFIG" 2>/dev/null || true)"
    write_prometheus_config
    if [[ "$(cat "$PROMETHEUS_CONFIG")" != "$before" ]]; then
        say "prometheus: scrape targets changed, reloading its config"
        kill -HUP "$1"
    fi
}

start_prometheus() {
    local running
    if running="$(live_pid prometheus)"; then
        say "prometheus already running"
        reload_prometheus_config "$running"
    else
        require_free_port prometheus
        command -v prometheus >/dev/null || die "prometheus is missing: apt-get install prometheus"
        write_prometheus_config
        say "starting prometheus on 127.0.0.1:$PLUME_PROMETHEUS_PORT"
        spawn prometheus "$LOG_DIR/prometheus.log" prometheus \
            --config.file="$PROMETHEUS_CONFIG" \
            --storage.tsdb.path="$PLUME_HOME/prometheus" \
            --web.listen-address="127.0.0.1:$PLUME_PROMETHEUS_PORT" \
            --web.console.templates="$REPO_ROOT/deploy/prometheus/consoles" \
            --web.console.libraries="$(console_libraries)"
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
