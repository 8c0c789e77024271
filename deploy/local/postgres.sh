# shellcheck shell=bash disable=SC2034
# PostgreSQL from the Debian packages, with its cluster under $PLUME_HOME/postgres.
# Sourced by up.sh / down.sh after common.sh.

PG_DATA="$PLUME_HOME/postgres"
PG_SUPERUSER_SECRET="$PLUME_HOME/secrets/pg-superuser"

pg_superuser_psql() {
    PGPASSWORD="$(cat "$PG_SUPERUSER_SECRET")" psql -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$PLUME_PG_PORT" -U postgres -d postgres "$@"
}

init_postgres_cluster() {
    say "creating the PostgreSQL cluster in $PG_DATA"
    as_pg_owner test -x "$PLUME_HOME" || die "the postgres user cannot enter $PLUME_HOME; \
choose a PLUME_HOME it can reach (e.g. under /var/tmp) or open the parent directories to it"
    mkdir -p "$PG_DATA" "$(dirname "$PG_SUPERUSER_SECRET")"
    ((EUID != 0)) || chown postgres: "$PG_DATA"
    # The superuser gets a random password, kept in $PLUME_HOME/secrets; initdb reads it
    # from a file only its owner can read.
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_SUPERUSER_SECRET")
    local pwfile
    pwfile="$(mktemp)"
    cp "$PG_SUPERUSER_SECRET" "$pwfile"
    ((EUID != 0)) || chown postgres: "$pwfile"
    as_pg_owner "$(pg_bin initdb)" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
        --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null \
        || { rm -f "$pwfile"; die "initdb failed in $PG_DATA"; }
    rm -f "$pwfile"
}

ensure_app_role_and_database() {
    if [[ -z "$(pg_superuser_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'plume'")" ]]; then
        pg_superuser_psql -c "CREATE ROLE plume LOGIN PASSWORD 'plume'"
    fi
    if [[ -z "$(pg_superuser_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'plume'")" ]]; then
        pg_superuser_psql -c "CREATE DATABASE plume OWNER plume"
    fi
}

start_postgres() {
    if is_running postgres; then
        ensure_app_role_and_database
        say "postgres already running"
        return 0
    fi
    require_free_port postgres
    [[ -s "$PG_DATA/PG_VERSION" ]] || init_postgres_cluster
    local log="$LOG_DIR/postgres.log"
    mkdir -p "$RUN_DIR" "$LOG_DIR" && touch "$log"
    ((EUID != 0)) || chown postgres: "$log"
    say "starting postgres on 127.0.0.1:$PLUME_PG_PORT"
    # No Unix socket: clients use TCP, and two clusters never fight over /var/run/postgresql.
    if ! as_pg_owner "$(pg_bin pg_ctl)" start -D "$PG_DATA" -l "$log" -w -t "$START_DEADLINE" \
        -o "-c listen_addresses=127.0.0.1 -p $PLUME_PG_PORT -c unix_socket_directories=''" \
        >/dev/null; then
        show_log_tail postgres
        die "postgres did not start"
    fi
    head -n1 "$PG_DATA/postmaster.pid" >"$RUN_DIR/postgres.pid"
    ensure_app_role_and_database
    STARTED_ANY=1
}

stop_postgres() {
    if [[ -s "$PG_DATA/postmaster.pid" ]] \
        && as_pg_owner "$(pg_bin pg_ctl)" status -D "$PG_DATA" >/dev/null 2>&1; then
        if as_pg_owner "$(pg_bin pg_ctl)" stop -D "$PG_DATA" -m fast -w -t "$STOP_DEADLINE" \
            >/dev/null; then
            say "stopped postgres"
        else
            say "pg_ctl stop failed; signalling postgres directly"
        fi
    fi
    stop_pid postgres
}
