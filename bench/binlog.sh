#!/usr/bin/env bash
# bench/binlog.sh — binlog decoding: `lakesync binlog` against
# `mariadb-binlog --base64-output=decode-rows -v` on the same file in the
# same run.
#
#   bench/binlog.sh [NROWS]     (default 400000; needs `make` and Debian's
#                                mariadb-server: scripts/install-deps.sh)
#
# A private MariaDB (scripts/mariadb.sh, port $LKS_BENCH_PORT or 3398)
# writes a binlog of 2.5 x NROWS row changes (1M by default) on a table of
# typical columns (BIGINT key, INT, BIGINT, VARCHAR(32), DECIMAL(12,2),
# DATETIME(6), VARCHAR(~60)): NROWS inserts, NROWS updates (before and after
# images), NROWS/2 deletes, in multi-row statements of 1000 rows.  Both
# decoders then read that file with their output to /dev/null, one thread
# each; lakesync in both of its formats.  Prints row changes per second and
# the ratio lakesync/mariadb-binlog (above 1: lakesync is faster).  Row
# counts are checked: lakesync prints one line per row change, mariadb-binlog
# one "### INSERT/UPDATE/DELETE" block.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400000}
port=${LKS_BENCH_PORT:-3398}
command -v mariadbd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
if ! command -v mariadbd >/dev/null 2>&1 || ! command -v mariadb-binlog >/dev/null 2>&1; then
    echo "bench/binlog.sh: needs mariadbd and mariadb-binlog (scripts/install-deps.sh)" >&2
    exit 1
fi
[ -x build/lakesync ] || make -s >/dev/null
dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_bbench.XXXXXX")
cleanup() {
    scripts/mariadb.sh stop "$dir/db" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
scripts/mariadb.sh start "$dir/db" "$port"
sql() { scripts/mariadb.sh client "$dir/db" "$@"; }

echo "generating $n rows ($((n * 5 / 2)) row changes) ..." >&2
sql -e "CREATE DATABASE bench; CREATE TABLE bench.t (
          id BIGINT PRIMARY KEY, qty INT NOT NULL, amount BIGINT, code VARCHAR(32),
          price DECIMAL(12,2), created DATETIME(6), note VARCHAR(200)) ENGINE=InnoDB;"
{
    echo "USE bench;"
    for ((lo = 1; lo <= n; lo += 1000)); do
        hi=$((lo + 999 > n ? n : lo + 999))
        echo "INSERT INTO t SELECT seq, seq % 1000, seq * 7919, CONCAT('code-', seq % 97),
              (seq % 100000) / 100, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
              CONCAT('a note about row ', seq, ' with some padding text') FROM seq_${lo}_to_${hi};"
    done
    for ((lo = 1; lo <= n; lo += 1000)); do
        echo "UPDATE t SET qty = qty + 1, price = price + 0.01, note = CONCAT(note, '!') WHERE id BETWEEN $lo AND $((lo + 999));"
    done
    for ((lo = 1; lo <= n / 2; lo += 1000)); do
        hi=$((lo + 999 > n / 2 ? n / 2 : lo + 999))
        echo "DELETE FROM t WHERE id BETWEEN $lo AND $hi;"
    done
    echo "FLUSH BINARY LOGS;"
} | sql
file=$(ls "$dir"/db/data/binlog.[0-9]* | sort | tail -n 2 | head -n 1)
bytes=$(stat -c %s "$file")

# row counts first (not timed)
ours_rows=$(build/lakesync binlog --format jsonl "$file" | wc -l)
theirs_rows=$(mariadb-binlog --base64-output=decode-rows -v "$file" | grep -c '^### \(INSERT INTO\|UPDATE\|DELETE FROM\) ')
if [ "$ours_rows" != "$theirs_rows" ]; then
    echo "bench/binlog.sh: row counts differ: lakesync $ours_rows, mariadb-binlog $theirs_rows" >&2
    exit 1
fi

secs() { # best of 3 runs of the command, in seconds
    local best="" s e t
    for _ in 1 2 3; do
        s=$EPOCHREALTIME
        "$@" >/dev/null
        e=$EPOCHREALTIME
        t=$(echo "$e - $s" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
t_dbz=$(secs build/lakesync binlog "$file")
t_jsonl=$(secs build/lakesync binlog --format jsonl "$file")
t_mdb=$(secs mariadb-binlog --base64-output=decode-rows -v "$file")

rate() { echo "scale=0; $ours_rows / $1" | bc -l; }
printf 'binlog decoding, %d row changes (%d inserts, %d updates, %d deletes), file %.1f MB, 1 thread, best of 3\n' \
    "$ours_rows" "$n" "$n" "$((n / 2))" "$(echo "$bytes / 1000000" | bc -l)"
printf '                                 rows/s       seconds\n'
printf 'lakesync binlog (dbz)          %10s    %8.3f\n' "$(rate "$t_dbz")" "$t_dbz"
printf 'lakesync binlog --format jsonl %10s    %8.3f\n' "$(rate "$t_jsonl")" "$t_jsonl"
printf 'mariadb-binlog -v              %10s    %8.3f\n' "$(rate "$t_mdb")" "$t_mdb"
printf 'ratio lakesync/mariadb-binlog: dbz %.2fx, jsonl %.2fx (above 1: lakesync faster)\n' \
    "$(echo "$t_mdb / $t_dbz" | bc -l)" "$(echo "$t_mdb / $t_jsonl" | bc -l)"
