#!/usr/bin/env bash
# scripts/demo.sh — the main job end to end on one machine: a MariaDB table
# kept in sync with a local Delta lake by `lakesync run`.
#
#   scripts/demo.sh [--keep]
#
#   --keep      leave the MariaDB server running at the end (connect with
#               scripts/mariadb.sh client demo/mariadb; stop it with
#               scripts/mariadb.sh stop demo/mariadb)
#   -h, --help  this text
#
#   LKS_DEMO_PORT  the server's TCP port (default 3307)
#
# What it does, from the repository root:
#   1. scripts/install-deps.sh (installs only what is missing) and make -j2;
#   2. a private MariaDB server in demo/mariadb (scripts/mariadb.sh: ROW
#      binlog with full row metadata, user lakesync/lakesync), with
#      salesdb.CUSTOMER (CUST_ID, NAME, MKTSEGMENT) holding 300 rows;
#   3. demo/pipeline.properties and `lakesync run -c demo/pipeline.properties`
#      in the background (its log: demo/run.log), which snapshots the table
#      into demo/warehouse/salesdb/CUSTOMER and then follows the binlog;
#   4. the reference walkthrough — step 1 insert 8887, 8888, 8889; step 2
#      update 8888 and 8889; step 3 delete 8887; step 4 insert 9000 — and
#      after each step waits until the lake table equals the database table,
#      then shows both (the newest rows and COUNT(*)) side by side;
#   5. stops lakesync with SIGTERM (it commits and exits 0), shows the Delta
#      table's history, stops MariaDB (unless --keep).
# Every run starts from scratch: a previous demo/ is stopped and replaced.
# Exits non-zero when any step does not reach the lake in time or lakesync
# fails.
set -euo pipefail

keep=0
for arg in "$@"; do
    case "$arg" in
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "demo.sh: unknown argument '$arg' (try --help)" >&2
        exit 2
        ;;
    esac
done

cd "$(dirname "$0")/.."
root=$(pwd)
demo=$root/demo
port=${LKS_DEMO_PORT:-3307}
bin=$root/build/lakesync
wh=$demo/warehouse
table=$wh/salesdb/CUSTOMER
sync_timeout=${LKS_DEMO_TIMEOUT:-60}
runpid=""

if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' off=$'\033[0m'; else bold="" red="" off=""; fi
header() {
    printf '\n%s== %s%s\n' "$bold" "$*" "$off"
}
die() {
    printf '\ndemo.sh: %serror:%s %s\n' "$red" "$off" "$*" >&2
    exit 1
}
on_exit() {
    local rc=$?
    if [ -n "$runpid" ] && kill -0 "$runpid" 2>/dev/null; then
        kill -TERM "$runpid" 2>/dev/null || true
        wait "$runpid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
        [ -f "$demo/run.log" ] && { echo "--- last lines of demo/run.log:" >&2; tail -n 15 "$demo/run.log" >&2; }
        if [ "$keep" -eq 0 ] && [ -d "$demo/mariadb" ]; then
            scripts/mariadb.sh stop "$demo/mariadb" >/dev/null 2>&1 || true
            echo "(MariaDB stopped; run with --keep to leave it running for a look)" >&2
        fi
    fi
}
trap on_exit EXIT

db() { # the mariadb client as root on the demo server's socket
    scripts/mariadb.sh client "$demo/mariadb" --default-character-set=utf8mb4 "$@"
}

# ---------------------------------------------------------------------------------------------
header "1. dependencies and build"
scripts/install-deps.sh
make -j2 >"$root/build.log.tmp" 2>&1 || { cat "$root/build.log.tmp" >&2; rm -f "$root/build.log.tmp"; die "make failed"; }
rm -f "$root/build.log.tmp"
"$bin" --version
"$bin" run --help >/dev/null 2>&1 || die "$bin has no 'run' command"

# ---------------------------------------------------------------------------------------------
header "2. a private MariaDB on port $port with salesdb.CUSTOMER"
if [ -d "$demo" ]; then
    echo "removing the previous demo/ (its server is stopped first)"
    scripts/mariadb.sh stop "$demo/mariadb" >/dev/null 2>&1 || true
    rm -rf "$demo/mariadb" "$demo/warehouse" "$demo/run.log" "$demo/pipeline.properties"
fi
mkdir -p "$demo"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use; choose another with LKS_DEMO_PORT=NNNN"
fi
scripts/mariadb.sh start "$demo/mariadb" "$port" || die "MariaDB did not start (see demo/mariadb/server.log)"
echo "server: $(db -N -e 'SELECT VERSION()'), 127.0.0.1:$port, socket demo/mariadb/mysqld.sock"
db -e "
CREATE DATABASE salesdb;
USE salesdb;
CREATE TABLE CUSTOMER (
  CUST_ID INT NOT NULL PRIMARY KEY,
  NAME VARCHAR(25),
  MKTSEGMENT VARCHAR(10)
);
INSERT INTO CUSTOMER
  SELECT seq, CONCAT('Customer#', LPAD(seq, 9, '0')),
         ELT(1 + seq % 5, 'MACHINERY', 'AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD')
  FROM seq_1_to_300;"
echo "salesdb.CUSTOMER: $(db -N -e 'SELECT COUNT(*) FROM salesdb.CUSTOMER') rows"

# ---------------------------------------------------------------------------------------------
header "3. lakesync run"
cat >"$demo/pipeline.properties" <<EOF
# The demo's pipeline: salesdb on the private server → demo/warehouse.
database.hostname=127.0.0.1
database.port=$port
database.user=lakesync
database.password=lakesync
database.include.list=salesdb
topic.prefix=salesdb-cdc
warehouse=$wh
EOF
echo "demo/pipeline.properties:"
sed 's/^/    /' "$demo/pipeline.properties"
echo "\$ build/lakesync -v run -c demo/pipeline.properties    (in the background, log: demo/run.log)"
"$bin" -v run -c "$demo/pipeline.properties" >"$demo/run.log" 2>&1 </dev/null &
runpid=$!

# in_sync: 0 when the lake table holds exactly the database table's rows
in_sync() {
    db -N -B -e "SELECT CUST_ID, NAME, MKTSEGMENT FROM salesdb.CUSTOMER ORDER BY CUST_ID" |
        tr '\t' ',' >"$demo/.db.csv" || return 1
    "$bin" sql --warehouse "$wh" --format csv \
        "SELECT CUST_ID, NAME, MKTSEGMENT FROM salesdb.CUSTOMER ORDER BY CUST_ID" 2>/dev/null |
        tail -n +2 >"$demo/.lake.csv" || return 1
    cmp -s "$demo/.db.csv" "$demo/.lake.csv"
}
# wait_sync WHAT: polls until in_sync, or fails after the timeout with the difference
wait_sync() {
    local t0=$SECONDS
    while ! in_sync; do
        if ! kill -0 "$runpid" 2>/dev/null; then
            wait "$runpid" && rc=0 || rc=$?
            runpid=""
            die "lakesync run exited (status $rc) before $1 reached the lake"
        fi
        if [ $((SECONDS - t0)) -ge "$sync_timeout" ]; then
            echo "database vs lake (diff of CUST_ID,NAME,MKTSEGMENT):" >&2
            diff "$demo/.db.csv" "$demo/.lake.csv" | head -n 20 >&2 || true
            die "$1 did not reach the lake within ${sync_timeout}s: OUT OF SYNC"
        fi
        sleep 0.2
    done
    echo "in sync after $((SECONDS - t0)) s: the lake table equals the database table ($(wc -l <"$demo/.db.csv") rows)"
}

# side_by_side: the reference queries on both sides, next to each other
side_by_side() {
    local q="SELECT * FROM salesdb.CUSTOMER ORDER BY CUST_ID DESC LIMIT 5"
    local c="SELECT COUNT(*) FROM salesdb.CUSTOMER"
    {
        echo "MariaDB (source)"
        db -t -e "$q; $c"
    } >"$demo/.left"
    {
        echo "Delta lake (lakesync sql)"
        "$bin" sql --warehouse "$wh" --format table "$q"
        echo
        "$bin" sql --warehouse "$wh" --format table "$c"
    } >"$demo/.right"
    awk -v right="$demo/.right" '
        { left[NR] = $0; if (length($0) > w) w = length($0) }
        END {
            n = NR
            while ((getline line < right) > 0) r[++m] = line
            if (m > n) n = m
            for (i = 1; i <= n; i++) printf "    %-" w "s    %s\n", left[i], r[i]
        }' "$demo/.left"
}

wait_sync "the snapshot of the 300 rows"
echo "lake table: demo/warehouse/salesdb/CUSTOMER (version $("$bin" table describe "$table" | sed -n 's/^version: \([0-9]*\).*/\1/p'))"
side_by_side

# ---------------------------------------------------------------------------------------------
header "4. the walkthrough"
step() { # TITLE SQL
    header "step $1"
    echo "mariadb> $2"
    db -e "$2"
    wait_sync "step $1"
    side_by_side
}
step "1: insert 8887, 8888, 8889" \
    "INSERT INTO salesdb.CUSTOMER VALUES (8887, 'Customer#000008887', 'BUILDING'), (8888, 'Customer#000008888', 'FURNITURE'), (8889, 'Customer#000008889', 'MACHINERY')"
step "2: update 8888 and 8889" \
    "UPDATE salesdb.CUSTOMER SET MKTSEGMENT = 'HOUSEHOLD' WHERE CUST_ID = 8888; UPDATE salesdb.CUSTOMER SET NAME = 'Customer#8889 (updated)', MKTSEGMENT = 'AUTOMOBILE' WHERE CUST_ID = 8889"
step "3: delete 8887" \
    "DELETE FROM salesdb.CUSTOMER WHERE CUST_ID = 8887"
step "4: insert 9000" \
    "INSERT INTO salesdb.CUSTOMER VALUES (9000, 'Customer#000009000', 'MACHINERY')"

# ---------------------------------------------------------------------------------------------
header "5. stop lakesync (SIGTERM), the table's history"
kill -TERM "$runpid"
rc=0
wait "$runpid" || rc=$?
runpid=""
[ "$rc" -eq 0 ] || die "lakesync run exited with status $rc after SIGTERM (expected 0)"
echo "lakesync run stopped, exit status 0"
in_sync || die "after the stop the lake no longer equals the database"
echo "\$ build/lakesync table history demo/warehouse/salesdb/CUSTOMER --limit 8"
"$bin" table history "$table" --limit 8

if [ "$keep" -eq 0 ]; then
    scripts/mariadb.sh stop "$demo/mariadb"
    server_note="MariaDB: stopped (data in demo/mariadb; scripts/mariadb.sh start demo/mariadb $port starts it again)"
else
    server_note="MariaDB: still running on 127.0.0.1:$port — scripts/mariadb.sh client demo/mariadb; stop with scripts/mariadb.sh stop demo/mariadb"
fi
rm -f "$demo/.db.csv" "$demo/.lake.csv" "$demo/.left" "$demo/.right"

header "done: every step reached the lake"
cat <<EOF
    lake:        demo/warehouse/salesdb/CUSTOMER (a Delta table)
                 build/lakesync sql --warehouse demo/warehouse "SELECT * FROM customer ORDER BY cust_id DESC LIMIT 5"
                 build/lakesync table describe demo/warehouse/salesdb/CUSTOMER
    pipeline:    demo/pipeline.properties (run it again: build/lakesync run -c demo/pipeline.properties)
    lakesync log: demo/run.log
    $server_note
EOF
