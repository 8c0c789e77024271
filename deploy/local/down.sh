#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make down`: stop everything `make up` started, services first; the data stays.
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

stop_services
stop_redis
stop_prometheus
stop_alerting
stop_kafka
stop_postgres
say "stack stopped (data kept in $PLUME_HOME)"
