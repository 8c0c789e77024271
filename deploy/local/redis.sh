# shellcheck shell=bash disable=SC2034
# Redis from the Debian package: where every intake worker and instance counts the rate
# limits together. Sourced by up.sh / down.sh after common.sh. Counts live a minute, so
# nothing is saved to disk; its working directory is still under PLUME_HOME.

redis_ready() {
    pid_gone "$1" || [[ "$(redis-cli -h 127.0.0.1 -p "$PLUME_REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

start_redis() {
    local pid
    if live_pid redis >/dev/null; then
        say "redis already running"
    else
        require_free_port redis
        command -v redis-server >/dev/null || die "redis-server is missing: make install"
        mkdir -p "$PLUME_HOME/redis"
        say "starting redis on 127.0.0.1:$PLUME_REDIS_PORT"
        spawn redis "$LOG_DIR/redis.log" redis-server --bind 127.0.0.1 \
            --port "$PLUME_REDIS_PORT" --dir "$PLUME_HOME/redis" --daemonize no \
            --save "" --appendonly no --logfile "" --maxmemory 256mb \
            --maxmemory-policy volatile-ttl
        STARTED_ANY=1
    fi
    pid="$(cat "$RUN_DIR/redis.pid")"
    if ! wait_until "$START_DEADLINE" redis_ready "$pid" || pid_gone "$pid"; then
        show_log_tail redis
        die "redis did not start"
    fi
}

stop_redis() { stop_pid redis; }
