# shellcheck shell=bash disable=SC2034
# PostgreSQL from the Debian packages, with its cluster in $PLUME_HOME/postgres.
# Sourced by up.sh / down.sh after common.sh.

PG_LINK="$PLUME_HOME/postgres"
PG_SUPERUSER_SECRET="$PLUME_HOME/secrets/pg-superuser"

pg_superuser_psql() {
    PGPASSWORD="$(cat "$PG_SUPERUSER_SECRET")" psql -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$PLUME_PG_PORT" -U postgres -d postgres "$@"
}

# The data directory, as a path the postgres user can follow. When it cannot enter
# $PLUME_HOME (a clone under /root, say), the cluster lives in the postgres user's home
# and $PLUME_HOME/postgres is a link to it (`make clean` removes both).
pg_data_dir() {
    if [[ ! -e "$PG_LINK" ]]; then
        mkdir -p "$PLUME_HOME"
        if as_pg_owner test -x "$PLUME_HOME"; then
            mkdir "$PG_LINK"
        else
            local home elsewhere
            home="$(getent passwd postgres | cut -d: -f6)"
            elsewhere="$home/plume-$(printf '%s' "$PLUME_HOME" | sha256sum | cut -c1-12)"
            mkdir -p "$elsewhere"
            ln -s "$elsewhere" "$PG_LINK"
        fi
        ((EUID != 0)) || chown postgres: "$(readlink -f "$PG_LINK")"
    fi
    readlink -f "$PG_LINK"
}

init_postgres_cluster() {
    local data="$1" pwfile
    say "creating the PostgreSQL cluster in $data"
    # The superuser gets a random password, kept in $PLUME_HOME/secrets; initdb reads it
    # from a file only its owner can read.
    mkdir -p "$(dirname "$PG_SUPERUSER_SECRET")"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_SUPERUSER_SECRET")
    pwfile="$(mktemp)"
    cp "$PG_SUPERUSER_SECRET" "$pwfile"
    ((EUID != 0)) || chown postgres: "$pwfile"
    # Text sorts by byte (lc_collate C: the same order as C.UTF-8 for UTF-8 text), which
    # PostgreSQL compares with memcmp; under C.UTF-8 it calls strcoll on copies. Case ids and
    # supporter keys are in the hottest indexes: measured, 12-15 % less time inserting
    # signatures.
    as_pg_owner "$(pg_bin initdb)" -D "$data" -U postgres --pwfile="$pwfile" \
        --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --lc-collate=C \
        >/dev/null \
        || { rm -f "$pwfile"; die "initdb failed in $data"; }
    rm -f "$pwfile"
}

ensure_app_role_and_database() {
    if [[ -z "$(pg_superuser_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'plume'")" ]]; then
        pg_superuser_psql -c "CREATE ROLE plume LOGIN PASSWORD 'plume'"
    fi
    if [[ -z "$(pg_superuser_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'plume'")" ]]; then
        pg_superuser_psql -c "CREATE DATABASE plume OWNER plume"
    fi
    if [[ "$(pg_superuser_psql -tAc "SELECT datcollate FROM pg_database WHERE datname = 'plume'")" \
        != C ]]; then
        say "note: this cluster predates byte-order collation (lc_collate C), so its indexes \
compare text more slowly; \`make clean\` then \`make up\` makes a new one (its data is lost)"
    fi
}

start_postgres() {
    if live_pid postgres >/dev/null; then
        say "postgres already running"
        wait_until "$START_DEADLINE" port_open "$PLUME_PG_PORT" || die "postgres (pid \
$(live_pid postgres)) does not answer on port $PLUME_PG_PORT; see $LOG_DIR/postgres.log"
        ensure_app_role_and_database
        return 0
    fi
    require_free_port postgres
    local data
    data="$(pg_data_dir)"
    [[ -s "$data/PG_VERSION" ]] || init_postgres_cluster "$data"
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    say "starting postgres on 127.0.0.1:$PLUME_PG_PORT"
    # No Unix socket: clients use TCP, and two clusters never fight over /var/run/postgresql.
    # The log is opened here (not by the postgres user, who may not reach $LOG_DIR).
    # Sized for a campaign peak: the ledgers' random-UUID indexes stay in shared buffers,
    # and checkpoints come by time rather than being forced by WAL volume every minute.
    if ! as_pg_owner "$(pg_bin pg_ctl)" start -D "$data" -w -t "$START_DEADLINE" \
        -o "-c listen_addresses=127.0.0.1 -p $PLUME_PG_PORT -c unix_socket_directories='' \
-c shared_buffers=512MB -c max_wal_size=4GB" \
        >>"$LOG_DIR/postgres.log" 2>&1 9>&-; then
        show_log_tail postgres
        die "postgres did not start"
    fi
    head -n1 "$data/postmaster.pid" >"$RUN_DIR/postgres.pid"
    ensure_app_role_and_database
    STARTED_ANY=1
}

stop_postgres() {
    local data
    data="$(readlink -f "$PG_LINK" || echo "$PG_LINK")"
    if [[ -s "$data/postmaster.pid" ]] \
        && as_pg_owner "$(pg_bin pg_ctl)" status -D "$data" >/dev/null 2>&1; then
        if as_pg_owner "$(pg_bin pg_ctl)" stop -D "$data" -m fast -w -t "$STOP_DEADLINE" \
            >/dev/null; then
            say "stopped postgres"
        else
            say "pg_ctl stop failed; signalling postgres directly"
        fi
    fi
    stop_pid postgres
}

# For `make clean`: the cluster, wherever it lives.
remove_postgres_data() {
    if [[ -L "$PG_LINK" ]]; then
        rm -rf "$(readlink -f "$PG_LINK")"
    fi
}
