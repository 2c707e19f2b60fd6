#!/usr/bin/env bash
# capture_failover.sh — `lakesync run` resuming by GTID after a failover,
# against two real MariaDB servers the test starts (scripts/mariadb.sh;
# skipped visibly when mariadbd is absent; both are always stopped on exit).
#
#   primary A (server id 1) and replica B (server id 2, GTID replication from
#   A, --log-slave-updates).  B's binlog is made to differ from A's: it was
#   flushed twice before replication started and holds local transactions of
#   its own domain (9) in another database, so A's binlog positions name
#   files B also has, at offsets that mean something else there.
#   1. a run against A syncs the table (positions and GTIDs in the lake);
#   2. more changes on A (inserts, counter updates, deletes, a key move)
#      reach B; A is stopped; B takes writes of its own (domain 0, server 2);
#   3. a run against B sees that the lake's positions belong to another
#      history, resumes from exactly the GTID position the lake holds, and
#      ends equal to B's table; the lake then holds B's position and the
#      GTIDs of both servers;
#   4. a further run against B resumes by position (the same history now);
#   5. a copy of the lake from step 1 against B after B purged its old
#      binlogs: a clear error naming snapshot.mode=when_needed; with it, the
#      table is snapshotted again and equals B's table.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash
run_prereqs capture_failover

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_failover.XXXXXX") || exit 2
cleanup() {
    "$root/scripts/mariadb.sh" stop "$tmp/a" >/dev/null 2>&1
    "$root/scripts/mariadb.sh" stop "$tmp/b" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# free_port BASE: the first port from BASE + $$ % 300 nobody listens on
free_port() {
    local p=$(($1 + $$ % 300))
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
        p=$((p + 7))
    done
    echo "$p"
}
pa=$(free_port 3950)
if ! LKS_MARIADB_SERVER_ID=1 LKS_MARIADB_ARGS="--log-slave-updates" \
    "$root/scripts/mariadb.sh" start "$tmp/a" "$pa" >"$tmp/start.log" 2>&1; then
    bad capture_failover "server A did not start: $(oneline "$tmp/start.log")"
    finish
fi
pb=$(free_port 4350)
if ! LKS_MARIADB_SERVER_ID=2 LKS_MARIADB_ARGS="--log-slave-updates" \
    "$root/scripts/mariadb.sh" start "$tmp/b" "$pb" >"$tmp/start.log" 2>&1; then
    bad capture_failover "server B did not start: $(oneline "$tmp/start.log")"
    finish
fi

# ma / mb ARGS...: root clients of A and B (batch output, no headers)
ma() { mariadb --no-defaults --protocol=socket --socket="$tmp/a/mysqld.sock" -uroot --batch --skip-column-names "$@"; }
mb() { mariadb --no-defaults --protocol=socket --socket="$tmp/b/mysqld.sock" -uroot --batch --skip-column-names "$@"; }

# props FILE PORT WAREHOUSE [LINE]...
props() {
    port=$2 mariadb_props "$1" "$3" topic.prefix=failover database.include.list=shop "${@:4}"
}

# B's own history: two flushed files, then local transactions in domain 9
mb -e "FLUSH BINARY LOGS; FLUSH BINARY LOGS;
       SET SESSION gtid_domain_id = 9;
       CREATE DATABASE bonly; USE bonly; CREATE TABLE bonly.x (id INT PRIMARY KEY, v TEXT);
       INSERT INTO bonly.x SELECT seq, REPEAT('b', 200) FROM seq_1_to_400;" 2>"$tmp/b.err" || {
    bad capture_failover "B's local writes: $(oneline "$tmp/b.err")"
    finish
}
mb -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pa, MASTER_USER='lakesync',
       MASTER_PASSWORD='lakesync', MASTER_USE_GTID=slave_pos; START SLAVE;" 2>"$tmp/b.err" || {
    bad capture_failover "replication setup: $(oneline "$tmp/b.err")"
    finish
}

ma -e "CREATE DATABASE shop; USE shop;
       CREATE TABLE shop.item (id INT PRIMARY KEY, n INT NOT NULL, v VARCHAR(40));
       INSERT INTO shop.item SELECT seq, 0, CONCAT('a', seq) FROM seq_1_to_300;" 2>"$tmp/a.err" || {
    bad capture_failover "A's table: $(oneline "$tmp/a.err")"
    finish
}

# caught_up: B has applied everything A wrote (gtid_slave_pos reaches A's domain 0)
caught_up() {
    local want got
    want=$(ma -e "SELECT @@gtid_binlog_pos")
    for _ in $(seq 1 300); do
        got=$(mb -e "SELECT @@gtid_slave_pos")
        [ "$got" = "$want" ] && return 0
        sleep 0.1
    done
    echo "B at '$got', A at '$want'" >"$tmp/lag"
    return 1
}

# equal NAME SOCKET-CLIENT WAREHOUSE: the lake table equals the server's
equal() {
    local name=$1 client=$2 wh=$3
    $client -e "SELECT id, n, v FROM shop.item ORDER BY id" >"$tmp/db.tsv" 2>"$tmp/db.err" || {
        bad "$name" "database query: $(oneline "$tmp/db.err")"
        return 1
    }
    if ! "$bin" sql --warehouse "$wh" --format csv "SELECT id, n, v FROM shop.item ORDER BY id" 2>"$tmp/sql.err" |
        tail -n +2 | tr ',' '\t' >"$tmp/lake.tsv"; then
        bad "$name" "lake query: $(oneline "$tmp/sql.err")"
        return 1
    fi
    if cmp -s "$tmp/db.tsv" "$tmp/lake.tsv"; then
        ok "$name ($(wc -l <"$tmp/db.tsv") rows)"
        return 0
    fi
    bad "$name" "lake $(wc -l <"$tmp/lake.tsv") rows, database $(wc -l <"$tmp/db.tsv"): $(diff "$tmp/db.tsv" "$tmp/lake.tsv" | head -n 6 | tr '\n' ' ')"
    return 1
}

# txn WAREHOUSE APPID: the latest txn version for APPID in the table's log
txn() {
    cat "$1"/shop/item/_delta_log/*.json | grep -o "\"appId\":\"$2\",\"version\":[0-9]*" |
        sed 's/.*"version"://' | sort -n | tail -n 1
}

# ---- 1. sync from A ------------------------------------------------------------------------------
wh=$tmp/wh
props "$tmp/a.properties" "$pa" "$wh"
if "$bin" run -c "$tmp/a.properties" --stop-at-end >"$tmp/run1.log" 2>&1 </dev/null; then
    equal "run against primary A: lake equals A" ma "$wh"
else
    bad "run against A" "$(tail -n 3 "$tmp/run1.log" | tr '\n' ' ')"
fi
a_gtid=$(ma -e "SELECT @@gtid_binlog_pos")
held=$(txn "$wh" "lakesync:gtid:failover:0-1")
if [ "0-1-$held" = "$a_gtid" ]; then
    ok "the lake holds A's GTID position $a_gtid next to its binlog position"
else
    bad "GTID in the lake" "txn lakesync:gtid:failover:0-1 = '$held', A is at '$a_gtid'"
fi
cp -r "$wh" "$tmp/wh_copy"

# ---- 2. more on A, replicated; failover to B -------------------------------------------------------
ma -e "USE shop; UPDATE shop.item SET n = n + 1 WHERE id % 3 = 0;
       DELETE FROM shop.item WHERE id BETWEEN 10 AND 19;
       INSERT INTO shop.item SELECT seq, 5, CONCAT('a2-', seq) FROM seq_301_to_350;
       UPDATE shop.item SET id = 1000, v = 'moved' WHERE id = 1;
       UPDATE shop.item SET n = n + 1 WHERE id % 5 = 0;" 2>"$tmp/a.err" || bad "changes on A" "$(oneline "$tmp/a.err")"
if caught_up; then
    ok "B replicated A's changes"
else
    bad "replication" "$(cat "$tmp/lag")"
fi
"$root/scripts/mariadb.sh" stop "$tmp/a" >/dev/null 2>&1
mb -e "STOP SLAVE; RESET SLAVE ALL; USE shop;
       UPDATE shop.item SET n = n + 10 WHERE id % 7 = 0;
       DELETE FROM shop.item WHERE id BETWEEN 100 AND 104;
       INSERT INTO shop.item SELECT seq, 9, CONCAT('b-', seq) FROM seq_400_to_420;" 2>"$tmp/b.err" ||
    bad "changes on B" "$(oneline "$tmp/b.err")"

# ---- 3. resume against B by GTID ---------------------------------------------------------------------
props "$tmp/b.properties" "$pb" "$wh"
if "$bin" -v run -c "$tmp/b.properties" --stop-at-end >"$tmp/run2.log" 2>&1 </dev/null; then
    equal "after the failover, a run against B resumes and the lake equals B" mb "$wh"
else
    bad "run against B" "$(tail -n 3 "$tmp/run2.log" | tr '\n' ' ')"
fi
if grep -q "of another history" "$tmp/run2.log" && grep -q "streaming from GTID position $a_gtid\$" "$tmp/run2.log"; then
    ok "the run saw A's positions were not B's and started exactly at the lake's GTID position ($a_gtid)"
else
    bad "resume point" "$(grep -E 'history|streaming' "$tmp/run2.log" | tr '\n' ' ')"
fi
b_seq=$(mb -e "SELECT @@gtid_binlog_pos" | tr ',' '\n' | sed -n 's/^0-2-//p')
if [ -n "$b_seq" ] && [ "$(txn "$wh" "lakesync:gtid:failover:0-2")" = "$b_seq" ]; then
    ok "the lake holds B's GTIDs (0-2-$b_seq) after the run"
else
    bad "B's GTIDs in the lake" "B at $(mb -e "SELECT @@gtid_binlog_pos"), lake 0-2 = $(txn "$wh" "lakesync:gtid:failover:0-2")"
fi
read -r bfile bpos < <(mb -e "SHOW MASTER STATUS" | cut -f1,2)
bidx=$((10#${bfile##*.}))
if [ "$(txn "$wh" "lakesync:binlog:failover")" = "$(( (bidx << 32) | bpos ))" ]; then
    ok "the lake's binlog position is B's now ($bfile:$bpos)"
else
    bad "binlog position after failover" "lake $(txn "$wh" "lakesync:binlog:failover"), B at $bfile:$bpos"
fi

# ---- 4. the same history: by position ------------------------------------------------------------------
mb -e "UPDATE shop.item SET n = n + 100 WHERE id < 50" 2>"$tmp/b.err"
if "$bin" -v run -c "$tmp/b.properties" --stop-at-end >"$tmp/run3.log" 2>&1 </dev/null &&
    grep -q "streaming from binlog\.[0-9]*:[0-9]*\$" "$tmp/run3.log" && ! grep -q "GTID position" "$tmp/run3.log"; then
    equal "a later run against B resumes by binlog position and the lake equals B" mb "$wh"
else
    bad "run 3 against B" "$(grep -E 'streaming|error' "$tmp/run3.log" | tr '\n' ' ')"
fi

# ---- 5. GTIDs B no longer has ----------------------------------------------------------------------------
# (a binlog still needed for crash recovery is kept: flush and retry until it goes)
for _ in $(seq 1 50); do
    mb -e "FLUSH BINARY LOGS" && last=$(mb -e "SHOW MASTER STATUS" | cut -f1) &&
        mb -e "PURGE BINARY LOGS TO '$last'" 2>/dev/null
    [ "$(mb -e "SHOW BINARY LOGS" | wc -l)" = 1 ] && break
    sleep 0.2
done
props "$tmp/c.properties" "$pb" "$tmp/wh_copy"
if "$bin" run -c "$tmp/c.properties" --stop-at-end >"$tmp/run4.log" 2>&1 </dev/null; then
    bad "purged GTIDs" "the run succeeded: $(tail -n 2 "$tmp/run4.log" | tr '\n' ' ')"
elif grep -q "snapshot.mode=when_needed" "$tmp/run4.log"; then
    ok "a lake whose GTIDs B purged: a clear error naming snapshot.mode=when_needed"
else
    bad "purged GTIDs" "$(tail -n 2 "$tmp/run4.log" | tr '\n' ' ')"
fi
props "$tmp/c.properties" "$pb" "$tmp/wh_copy" snapshot.mode=when_needed
if "$bin" run -c "$tmp/c.properties" --stop-at-end >"$tmp/run5.log" 2>&1 </dev/null; then
    equal "with snapshot.mode=when_needed the table is snapshotted again and equals B" mb "$tmp/wh_copy"
else
    bad "when_needed after purge" "$(tail -n 3 "$tmp/run5.log" | tr '\n' ' ')"
fi
finish
