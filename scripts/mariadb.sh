#!/usr/bin/env bash
# scripts/mariadb.sh — a private MariaDB server for the demo and the tests:
# its own data directory, socket and port, ROW binlog with full row metadata,
# no system service touched.
#
#   scripts/mariadb.sh start DIR [PORT]   initialise DIR (first time) and start
#                                         the server; prints nothing on success
#   scripts/mariadb.sh stop DIR           shut it down cleanly
#   scripts/mariadb.sh client DIR [ARGS]  the mariadb client on its socket
#   scripts/mariadb.sh status DIR         exit 0 when it answers
#
# The server runs as the invoking user (root is fine: --user=root), listens on
# 127.0.0.1:PORT (default 3307) and DIR/mysqld.sock, logs to DIR/server.log,
# and writes its binlog as DIR/data/binlog.NNNNNN with
# binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL.
# The user `lakesync`@`%` (password `lakesync`) has the replication and
# snapshot privileges a capture needs.  LKS_MARIADB_SERVER_ID sets the
# server id (default 1); LKS_MARIADB_ARGS adds server options (a replica:
# "--log-slave-updates").
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/mysqld.sock"

client() {
    mariadb --no-defaults --protocol=socket --socket="$sock" -uroot "$@"
}

case "$cmd" in
start)
    port=${3:-3307}
    command -v mariadbd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
    if ! command -v mariadbd >/dev/null 2>&1; then
        echo "mariadb.sh: mariadbd not found (install Debian's mariadb-server: scripts/install-deps.sh)" >&2
        exit 1
    fi
    if [ ! -d "$dir/data/mysql" ]; then
        mariadb-install-db --no-defaults --auth-root-authentication-method=socket \
            --datadir="$dir/data" --user="$(id -un)" --skip-test-db >"$dir/install.log" 2>&1 || {
            echo "mariadb.sh: mariadb-install-db failed, see $dir/install.log" >&2
            exit 1
        }
    fi
    mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" --socket="$sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" \
        --log-error="$dir/server.log" --server-id="${LKS_MARIADB_SERVER_ID:-1}" --log-bin="$dir/data/binlog" \
        --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
        --max-binlog-size="${LKS_MARIADB_BINLOG_SIZE:-1073741824}" \
        --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --skip-name-resolve \
        --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 ${LKS_MARIADB_ARGS:-} \
        >/dev/null 2>&1 &
    server=$!
    # until it answers, or the server process ends (no time limit: a slow
    # machine only takes longer)
    while kill -0 "$server" 2>/dev/null; do
        if client -e 'SELECT 1' >/dev/null 2>&1; then
            client -e "CREATE USER IF NOT EXISTS 'lakesync'@'%' IDENTIFIED BY 'lakesync';
                GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT,
                      BINLOG MONITOR, REPLICATION SLAVE ADMIN ON *.* TO 'lakesync'@'%';"
            exit 0
        fi
        sleep 0.1
    done
    echo "mariadb.sh: server did not start, see $dir/server.log:" >&2
    tail -5 "$dir/server.log" >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$dir/mysqld.pid" ]; then
        pid=$(cat "$dir/mysqld.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do
            kill -0 "$pid" 2>/dev/null || exit 0
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
client)
    shift 2
    client "$@"
    ;;
status)
    client -e 'SELECT 1' >/dev/null 2>&1
    ;;
*)
    echo "mariadb.sh: unknown command '$cmd' (start, stop, client, status)" >&2
    exit 2
    ;;
esac
