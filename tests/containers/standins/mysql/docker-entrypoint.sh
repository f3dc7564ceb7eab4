#!/bin/bash
# Stand-in for the official mysql image's entrypoint, over Debian's MariaDB: the same
# variables and the same first-start initialisation, as that image documents them.
#   MYSQL_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD | MYSQL_RANDOM_ROOT_PASSWORD (one needed),
#   MYSQL_ROOT_HOST (default %), MYSQL_DATABASE, MYSQL_USER + MYSQL_PASSWORD,
#   each also as <NAME>_FILE; /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz run once.
# Only an empty data directory is initialised, with networking off, so nothing can connect
# before the users exist; then the server starts in the foreground as PID 1.
set -euo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
START_WAIT_SECONDS=60

log() { echo "$(date -u +%FT%TZ) [Entrypoint]: $*"; }
fail() { log "error: $*" >&2; exit 1; }

# `docker run IMAGE --some-option` means mysqld with that option.
if [ "${1:0:1}" = '-' ]; then
    set -- mysqld "$@"
fi
if [ "$1" != mysqld ] && [ "$1" != mariadbd ]; then
    exec "$@"
fi

# Started as root: own the data directory (a fresh volume is root's), then drop to mysql.
if [ "$(id -u)" = 0 ]; then
    install -d -o mysql -g mysql /run/mysqld
    chown -R mysql:mysql "$DATADIR"
    exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# NAME or NAME_FILE (a file holding the value, for Docker secrets), not both.
file_env() {
    local name="$1" default="${2:-}" file_name="${1}_FILE"
    if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
        fail "both $name and $file_name are set (but are exclusive)"
    fi
    local value="$default"
    if [ -n "${!name:-}" ]; then
        value="${!name}"
    elif [ -n "${!file_name:-}" ]; then
        value="$(<"${!file_name}")"
    fi
    export "$name"="$value"
    unset "$file_name"
}

# A value inside '...' in SQL.
sql_string() { sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g" <<<"$1"; }

run_sql() { mariadb --protocol=socket --socket="$SOCKET" -uroot "$@"; }

initialise() {
    file_env MYSQL_ROOT_PASSWORD
    file_env MYSQL_DATABASE
    file_env MYSQL_USER
    file_env MYSQL_PASSWORD
    file_env MYSQL_ROOT_HOST '%'
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] \
        && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        fail "Database is uninitialized and password option is not specified
    You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "$MYSQL_USER" = root ]; then
        fail "MYSQL_USER=\"root\", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user and cannot be used for the root user"
    fi
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        MYSQL_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64)"
        log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi

    log "Initializing database files"
    mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve >/dev/null
    log "Starting temporary server"
    "$@" --skip-networking --socket="$SOCKET" &
    local pid=$!
    local waited=0
    until run_sql -e 'SELECT 1' >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || fail "the temporary server exited"
        waited=$((waited + 1))
        [ "$waited" -le "$START_WAIT_SECONDS" ] || fail "the temporary server did not start"
        sleep 1
    done

    local root_password root_host
    root_password="$(sql_string "$MYSQL_ROOT_PASSWORD")"
    root_host="$(sql_string "$MYSQL_ROOT_HOST")"
    {
        echo "SET @@SESSION.SQL_LOG_BIN=0;"
        # Only the accounts the official image leaves: root, from localhost and ROOT_HOST.
        echo "DELETE FROM mysql.global_priv WHERE user NOT IN ('root', 'mariadb.sys') OR host NOT IN ('localhost');"
        echo "DELETE FROM mysql.proxies_priv WHERE host NOT IN ('localhost');"
        echo "FLUSH PRIVILEGES;"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_password';"
        if [ "$MYSQL_ROOT_HOST" != localhost ]; then
            echo "CREATE USER 'root'@'$root_host' IDENTIFIED BY '$root_password';"
            echo "GRANT ALL ON *.* TO 'root'@'$root_host' WITH GRANT OPTION;"
        fi
        if [ -n "$MYSQL_DATABASE" ]; then
            echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
        fi
        if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
            echo "CREATE USER '$(sql_string "$MYSQL_USER")'@'%' IDENTIFIED BY '$(sql_string "$MYSQL_PASSWORD")';"
            if [ -n "$MYSQL_DATABASE" ]; then
                echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$(sql_string "$MYSQL_USER")'@'%';"
            fi
        fi
    } | run_sql
    local sql_as_root=(run_sql "-p$MYSQL_ROOT_PASSWORD")
    [ -n "$MYSQL_ROOT_PASSWORD" ] || sql_as_root=(run_sql)

    local script
    shopt -s nullglob
    # shellcheck disable=SC1090  # *.sh: the user's own scripts, sourced as the image does
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) log "running $script"; source "$script" ;;
            *.sql) log "running $script"; "${sql_as_root[@]}" "${MYSQL_DATABASE:-}" <"$script" ;;
            *.sql.gz) log "running $script"; gunzip -c "$script" | "${sql_as_root[@]}" "${MYSQL_DATABASE:-}" ;;
            *) log "ignoring $script" ;;
        esac
    done

    log "Stopping temporary server"
    kill "$pid"
    wait "$pid" || true
    log "MySQL init process done. Ready for start up."
}

if [ ! -d "$DATADIR/mysql" ]; then
    initialise "$@"
fi
exec "$@"
