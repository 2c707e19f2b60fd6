# lib_mariadb.bash — what the scenario tests on a private MariaDB share
# (sourced, not run): the result lines (lib_report.bash), the prerequisites
# of `lakesync run` tests, a server of its own started by scripts/mariadb.sh
# in $tmp/db on a free port, its root client and a properties file for it.
#
# Expects: root (the repository root), bin (lakesync) and, before
# mariadb_start, tmp (the test's scratch directory).

. "$(dirname "${BASH_SOURCE[0]}")/lib_report.bash"

# have_mariadbd: 0 when mariadbd is installed (/usr/sbin joins PATH if it is there)
have_mariadbd() {
    command -v mariadbd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
    command -v mariadbd >/dev/null 2>&1
}

# run_prereqs NAME: unless lakesync with its run command, mariadbd and node
# are all there, the whole test NAME is skipped and the script ends
run_prereqs() {
    local why=""
    if [ ! -x "$bin" ]; then
        why="$bin not built (make)"
    elif ! have_mariadbd; then
        why="mariadbd not installed (scripts/install-deps.sh)"
    elif ! command -v node >/dev/null 2>&1; then
        why="node not installed (scripts/install-deps.sh)"
    elif ! "$bin" run --help >/dev/null 2>&1; then
        why="this lakesync has no 'run' command"
    fi
    if [ -n "$why" ]; then
        skipped "$1" "$why"
        finish
    fi
}

# mariadb_start BASE: starts the server in $tmp/db on the first free port
# from BASE + $$ % 400 (within BASE..BASE+399: a different BASE per test
# keeps tests run side by side apart); sets port and sock.  0 when it is up,
# else $tmp/start.log says why.  Variables such as LKS_MARIADB_BINLOG_SIZE
# set on the call reach scripts/mariadb.sh.
mariadb_start() {
    local base=$1 p
    p=$((base + $$ % 400))
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
        p=$((base + (p - base + 7) % 400))
    done
    port=$p
    sock=$tmp/db/mysqld.sock
    "$root/scripts/mariadb.sh" start "$tmp/db" "$port" >"$tmp/start.log" 2>&1
}

# mariadb_stop: stops the server of mariadb_start, if there is one
mariadb_stop() {
    if [ -d "$tmp/db" ]; then
        "$root/scripts/mariadb.sh" stop "$tmp/db" >/dev/null 2>&1
    fi
    return 0
}

# my ARGS...: the client as root on the socket, batch output without headers
my() {
    mariadb --no-defaults --protocol=socket --socket="$sock" -uroot --default-character-set=utf8mb4 \
        --batch --skip-column-names "$@"
}

# mariadb_props FILE WAREHOUSE [LINE]...: a properties file for `lakesync run`
# on this server (as lakesync, a server id of this test's own) into
# WAREHOUSE, then the LINEs
mariadb_props() {
    local f=$1 wh=$2
    shift 2
    {
        echo "database.hostname=127.0.0.1"
        echo "database.port=$port"
        echo "database.user=lakesync"
        echo "database.password=lakesync"
        echo "database.server.id=$((5400 + $$ % 1000))"
        echo "warehouse=$wh"
        printf '%s\n' "$@"
    } >"$f"
}
