#!/usr/bin/env bash
# capture_minimal.sh — `lakesync run` and `capture` on a MariaDB server with
# binlog_row_metadata=MINIMAL (table maps without column names or keys),
# which the test starts (scripts/mariadb.sh; skipped visibly when mariadbd
# is absent; the server is always stopped on exit):
#   snapshot and stream: columns and keys come from information_schema; the
#       lake equals the database (unsigned, decimal, datetime, unicode);
#   capture: the events name the columns (no @1, @2, …);
#   ADD COLUMN while the run streams: placed (the columns are read again
#       after the DDL) and the new column reaches the lake;
#   a DDL in the backlog (made while no run was there) after rows of the
#       table: the run stops naming the DDL's position and the fix; after the
#       lake table is removed, the next run snapshots it and equals the
#       database;
#   ENUM and SET columns (numbers in such table maps): their members come
#       from information_schema, and the lake equals the database.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash
run_prereqs capture_minimal

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_capmin.XXXXXX") || exit 2
pid=""
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    mariadb_stop
    [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cp "$bin" "$tmp/lakesync" || exit 2
bin=$tmp/lakesync

if ! LKS_MARIADB_ARGS="--binlog-row-metadata=MINIMAL" mariadb_start 4150; then
    bad capture_minimal "the MariaDB server did not start: $(oneline "$tmp/start.log")"
    finish
fi
if [ "$(my -e 'SELECT @@binlog_row_metadata')" != MINIMAL ]; then
    bad capture_minimal "the server has binlog_row_metadata=$(my -e 'SELECT @@binlog_row_metadata')"
    finish
fi
my -e "CREATE DATABASE shop; USE shop;
       CREATE TABLE item (id INT UNSIGNED PRIMARY KEY, big BIGINT UNSIGNED, v VARCHAR(40), amt DECIMAL(10,2),
                          t DATETIME(6)) DEFAULT CHARSET utf8mb4;
       INSERT INTO item SELECT seq, 18446744073709551615 - seq, CONCAT('v', seq), seq / 100,
                               '2024-02-29 12:34:56.123456' FROM seq_1_to_200;" 2>"$tmp/db.err" || {
    bad capture_minimal "creating the table: $(oneline "$tmp/db.err")"
    finish
}
wh=$tmp/wh
mariadb_props "$tmp/r.properties" "$wh" topic.prefix=min database.include.list=shop merge.interval.ms=100

# equal NAME COLUMNS: the lake table shop.item equals the database's
equal() {
    local cols=$2
    my -e "SELECT $cols FROM shop.item ORDER BY id" | sed 's/\t/,/g; s/,NULL/,/g' >"$tmp/db.csv"
    "$bin" sql --warehouse "$wh" --format csv "SELECT $cols FROM item ORDER BY id" 2>"$tmp/sql.err" |
        tail -n +2 | sed 's/"//g' >"$tmp/lake.csv"
    if cmp -s "$tmp/db.csv" "$tmp/lake.csv"; then
        ok "$1 ($(wc -l <"$tmp/db.csv") rows)"
    else
        bad "$1" "lake $(wc -l <"$tmp/lake.csv") rows, database $(wc -l <"$tmp/db.csv"): $(diff "$tmp/db.csv" "$tmp/lake.csv" | head -n 6 | tr '\n' ' ')$(oneline "$tmp/sql.err")"
    fi
}
C1="id, big, v, amt"

# ---- snapshot, then stream -------------------------------------------------------------------------
if "$bin" run -c "$tmp/r.properties" --stop-at-end >"$tmp/run.log" 2>&1 </dev/null; then
    grep -q "binlog_row_metadata is MINIMAL" "$tmp/run.log" && ok "the run says where columns come from"
    equal "MINIMAL: snapshot equals the database" "$C1"
else
    bad "snapshot" "$(tail -n 3 "$tmp/run.log" | tr '\n' ' ')"
fi
my -e "USE shop; UPDATE item SET v = CONCAT(v, ' ✓ ünï'), big = 0 WHERE id % 3 = 0; DELETE FROM item WHERE id < 10;
       INSERT INTO item VALUES (4294967295, 18446744073709551615, 'max', 99999999.99, '9999-12-31 23:59:59.999999');"
if "$bin" run -c "$tmp/r.properties" --stop-at-end >"$tmp/run.log" 2>&1 </dev/null; then
    equal "MINIMAL: streamed changes (unsigned extremes, unicode) equal the database" "$C1"
else
    bad "stream" "$(tail -n 3 "$tmp/run.log" | tr '\n' ' ')"
fi

# ---- capture names the columns ---------------------------------------------------------------------
read -r cf cp < <(my -e "SHOW MASTER STATUS" | cut -f1,2)
my -e "USE shop; UPDATE item SET amt = 1.25 WHERE id = 50"
if "$bin" capture -c "$tmp/r.properties" --from-position "$cf:$cp" --stop-at-end >"$tmp/cap.out" 2>"$tmp/cap.err" &&
    grep -q '"after":{"id":50,"big":' "$tmp/cap.out" && ! grep -q '"@1"' "$tmp/cap.out"; then
    ok "capture: events name the columns from information_schema"
else
    bad "capture" "$(head -c 300 "$tmp/cap.out") $(oneline "$tmp/cap.err")"
fi

# ---- ADD COLUMN while streaming -----------------------------------------------------------------------
"$bin" run -c "$tmp/r.properties" >"$tmp/live.log" 2>&1 </dev/null &
pid=$!
sleep 1.5
my -e "USE shop; INSERT INTO item (id, big, v, amt) VALUES (1001, 1, 'before', 1);
       ALTER TABLE item ADD COLUMN c INT;
       INSERT INTO item (id, big, v, amt, c) VALUES (1002, 2, 'after', 2, 42); UPDATE item SET c = id WHERE id < 30;"
sleep 2.5
kill -TERM "$pid" 2>/dev/null
wait "$pid"
st=$?
pid=""
if [ "$st" = 0 ]; then
    equal "MINIMAL: ADD COLUMN while the run streams reaches the lake" "id, big, v, amt, c"
else
    bad "live ADD COLUMN" "exit $st: $(tail -n 3 "$tmp/live.log" | tr '\n' ' ')"
fi

# ---- a DDL in the backlog --------------------------------------------------------------------------------
my -e "USE shop; UPDATE item SET v = 'old name' WHERE id = 100; ALTER TABLE item RENAME COLUMN v TO w;
       UPDATE item SET w = 'new name' WHERE id = 101;"
if "$bin" run -c "$tmp/r.properties" --stop-at-end >"$tmp/run.log" 2>&1 </dev/null; then
    bad "backlog DDL" "the run succeeded"
elif grep -q "cannot be decoded safely" "$tmp/run.log" && grep -q "binlog_row_metadata=FULL" "$tmp/run.log"; then
    ok "a DDL after rows in the backlog: the run stops, naming it and the fix"
else
    bad "backlog DDL" "$(tail -n 2 "$tmp/run.log" | tr '\n' ' ')"
fi
rm -rf "$wh/shop/item"
if "$bin" run -c "$tmp/r.properties" --stop-at-end >"$tmp/run.log" 2>&1 </dev/null; then
    equal "after removing the lake table, it is snapshotted again and equals the database" "id, big, w, amt, c"
else
    bad "re-snapshot" "$(tail -n 3 "$tmp/run.log" | tr '\n' ' ')"
fi

# ---- ENUM and SET ----------------------------------------------------------------------------------------
# The table maps give only their numbers: the members come from information_schema (one with a comma and a
# quote, the error member '' of an invalid value, several SET members, an empty SET, NULL).
my -e "USE shop; CREATE TABLE e (id INT PRIMARY KEY, k ENUM('a','b,c','it''s'), s SET('x','y','z'));
       INSERT INTO e VALUES (1, 'a', 'x');" 2>"$tmp/e.err" || bad "ENUM" "$(oneline "$tmp/e.err")"
mariadb_props "$tmp/e.properties" "$tmp/wh_e" topic.prefix=min 'table.include.list=shop[.]e'
if ! "$bin" run -c "$tmp/e.properties" --stop-at-end >"$tmp/e.log" 2>&1 </dev/null; then
    bad "ENUM snapshot" "$(tail -n 2 "$tmp/e.log" | tr '\n' ' ')"
fi
my -e "SET SESSION sql_mode = ''; USE shop;
       INSERT INTO e VALUES (2, 'b,c', 'x,z'), (3, 'it''s', ''), (4, NULL, NULL), (5, 'nope', 'y');
       UPDATE e SET k = 'it''s', s = 'x,y,z' WHERE id = 1;" 2>"$tmp/e.err" || bad "ENUM" "$(oneline "$tmp/e.err")"
if "$bin" run -c "$tmp/e.properties" --stop-at-end >"$tmp/e.log" 2>&1 </dev/null; then
    q="id, COALESCE(REPLACE(k, ',', ';'), '(null)'), COALESCE(REPLACE(s, ',', ';'), '(null)')"
    my -e "SELECT $q FROM shop.e ORDER BY id" | sed 's/\t/,/g' >"$tmp/e_db.csv"
    "$bin" sql --warehouse "$tmp/wh_e" --format csv "SELECT $q FROM e ORDER BY id" 2>"$tmp/sql.err" |
        tail -n +2 | sed 's/"//g' >"$tmp/e_lake.csv"
    if [ "$(wc -l <"$tmp/e_db.csv")" = 5 ] && cmp -s "$tmp/e_db.csv" "$tmp/e_lake.csv"; then
        ok "ENUM and SET columns without FULL metadata: streamed members equal the database"
    else
        bad "ENUM" "lake: $(tr '\n' '|' <"$tmp/e_lake.csv") database: $(tr '\n' '|' <"$tmp/e_db.csv") $(oneline "$tmp/sql.err")"
    fi
else
    bad "ENUM" "$(tail -n 2 "$tmp/e.log" | tr '\n' ' ')"
fi
finish
