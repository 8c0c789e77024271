#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make status`: which parts of the local stack run, and where.
set -euo pipefail
source "$(dirname "$0")/common.sh"

for name in postgres kafka prometheus alertmanager node-exporter "${SERVICES[@]}"; do
    port="$(port_of "$name")"
    if pid="$(live_pid "$name")"; then
        if port_open "$port"; then state="running (pid $pid)"; else state="starting? (pid $pid, port closed)"; fi
    elif port_open "$port"; then
        state="stopped (but port $port is taken by another program)"
    else
        state="stopped"
    fi
    printf '  %-13s 127.0.0.1:%-6s %s\n' "$name" "$port" "$state"
done
