#!/usr/bin/env bash
# capture_crash.sh — `lakesync run` under SIGKILL against a real MariaDB
# server the test starts (scripts/mariadb.sh in a temp dir on a free port;
# skipped visibly when mariadbd is absent; the server is always stopped on
# exit).
#
#   kill -9: two writers (stored procedures, one client connection each)
#       keep changing a table in multi-row transactions — inserts, counter
#       increments (UPDATE t SET n = n + 1 …), deletes, primary-key moves,
#       and now and then a transaction larger than merge.max.events, so the
#       run commits it in parts; the binlog rotates every 256 KiB, so the
#       runs cross file boundaries; `lakesync run` is started and SIGKILLed at
#       random moments (15 times, 5 with LAKESYNC_QUICK=1; 0.2–2 s each, so
#       some land in the snapshot, most while streaming and committing);
#       then the writers stop, one `run --stop-at-end` catches up, and the
#       lake table must equal the database table in every column (a change
#       applied twice or lost shows in the counter n);
#   snapshot under writers: a table of 1M rows (200k with LAKESYNC_QUICK=1,
#       made with the Sequence engine) is snapshotted by `run --stop-at-end`
#       while writers change it; after they stop, a second run catches up and
#       the lake table equals the database table.
# LAKESYNC_SEED fixes the random kill moments (bash $RANDOM).
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash
kills=15 bigrows=1000000 rows=5000
[ -n "${LAKESYNC_QUICK:-}" ] && kills=5 bigrows=200000 rows=5000
seed=${LAKESYNC_SEED:-$(( (RANDOM << 15) | RANDOM ))}
RANDOM=$seed
run_prereqs capture_crash

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_capcrash.XXXXXX") || exit 2
runpid=""
writers=()
cleanup() {
    [ -n "$runpid" ] && kill -9 "$runpid" 2>/dev/null
    mariadb_stop
    for w in "${writers[@]}"; do kill "$w" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cp "$bin" "$tmp/lakesync" || exit 2 # a rebuild while the test runs must not pull it away
bin=$tmp/lakesync

# small binlog files: the runs cross rotations while they are killed
if ! LKS_MARIADB_BINLOG_SIZE=262144 mariadb_start 3650; then
    bad capture_crash "the MariaDB server did not start: $(oneline "$tmp/start.log")"
    finish
fi

# props FILE WAREHOUSE [LINE]...: a properties file for this server
props() { mariadb_props "$1" "$2" topic.prefix=crash-test "${@:3}"; }

# The writers.  Each transaction: inserts, counter increments of random rows
# and of a short key range, a random delete, every 7th a primary-key move,
# every 50th a transaction updating 500 rows (more than merge.max.events).
# Errors (deadlocks between the two writers) roll back and the loop goes on.
# A writer stops when ctl.stop is set (or after max_txn transactions).
cat >"$tmp/writer.sql" <<'EOF'
CREATE PROCEDURE writer(w INT, tname VARCHAR(64), max_txn INT, pause_s DOUBLE)
BEGIN
  DECLARE k INT DEFAULT 0;
  DECLARE nid INT DEFAULT w * 1000000;
  DECLARE top, r1, r2, r3, r4 INT;
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION ROLLBACK;
  SELECT MAX(id) INTO top FROM ctl_top WHERE t = tname;
  WHILE k < max_txn AND (SELECT stop FROM ctl) = 0 DO
    SET k = k + 1;
    -- random keys drawn once (RAND() in a WHERE would be drawn per row)
    SET r1 = FLOOR(1 + RAND() * top), r2 = FLOOR(1 + RAND() * top), r3 = FLOOR(1 + RAND() * top),
        r4 = w * 1000000 + FLOOR(RAND() * (nid - w * 1000000));
    START TRANSACTION;
    IF tname = 't' THEN
      INSERT INTO t (id, n, grp, v, amt, upd) VALUES
        (nid, 0, nid % 50, CONCAT('w', w, '-', k), k * 0.01, NOW(6)),
        (nid + 1, 0, (nid + 1) % 50, CONCAT('w', w, '-', k, 'b'), -k * 0.01, NOW(6)),
        (nid + 2, 0, (nid + 2) % 50, REPEAT('x', k % 30), 0, NOW(6));
      SET nid = nid + 3;
      UPDATE t SET n = n + 1, upd = NOW(6) WHERE id IN (r1, r2, r4);
      UPDATE t SET n = n + 1 WHERE id BETWEEN r3 AND r3 + 4;
      DELETE FROM t WHERE id = r2 + 1;
      IF k % 7 = 0 THEN
        UPDATE t SET id = id + 10000000, v = CONCAT(v, '>') WHERE id = r3 + 5;
      END IF;
      IF k % 50 = 0 THEN
        UPDATE t SET n = n + 1, amt = amt + 1 WHERE id BETWEEN r1 AND r1 + 499;
      END IF;
    ELSE
      INSERT INTO big (id, n, v) VALUES (nid, 0, CONCAT('w', w)), (nid + 1, 0, CONCAT('w', w));
      SET nid = nid + 2;
      UPDATE big SET n = n + 1 WHERE id IN (r1, r2, r3, r4);
      DELETE FROM big WHERE id = r2 + 1;
      IF k % 10 = 0 THEN
        UPDATE big SET n = n + 1 WHERE id BETWEEN r3 AND r3 + 200;
      END IF;
    END IF;
    COMMIT;
    IF pause_s > 0 THEN DO SLEEP(pause_s); END IF;
  END WHILE;
END
EOF

setup_sql() {
    cat <<EOF
CREATE DATABASE lks_crash;
USE lks_crash;
CREATE TABLE ctl (stop INT NOT NULL);
INSERT INTO ctl VALUES (0);
CREATE TABLE ctl_top (t VARCHAR(64), id INT);
CREATE TABLE t (id INT NOT NULL PRIMARY KEY, n INT NOT NULL, grp INT NOT NULL, v VARCHAR(40) NOT NULL,
  amt DECIMAL(12,2) NOT NULL, upd DATETIME(6) NOT NULL) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq, 0, seq % 50, CONCAT('row ', seq), seq / 100, '2024-01-01 00:00:00' FROM seq_1_to_$rows;
INSERT INTO ctl_top VALUES ('t', $rows), ('big', $bigrows);
CREATE TABLE big (id INT NOT NULL PRIMARY KEY, n INT NOT NULL, v VARCHAR(20) NOT NULL);
DELIMITER //
$(cat "$tmp/writer.sql")
//
DELIMITER ;
EOF
}
if ! setup_sql | my >"$tmp/setup.log" 2>&1; then
    bad capture_crash "setup: $(oneline "$tmp/setup.log")"
    finish
fi

start_writers() { # TABLE PAUSE: two writers in the background
    my -e "UPDATE lks_crash.ctl SET stop = 0"
    writers=()
    local w
    for w in 1 2; do
        my lks_crash -e "CALL writer($w, '$1', 10000000, $2)" >"$tmp/writer$w.log" 2>&1 &
        writers+=($!)
    done
}
stop_writers() {
    my -e "UPDATE lks_crash.ctl SET stop = 1"
    local w
    for w in "${writers[@]}"; do wait "$w"; done
    writers=()
}

# equal NAME TABLE WAREHOUSE: the lake table equals the database table
# (every column; DATETIME as the lake's timestamp text without the Z)
equal() {
    local name=$1 t=$2 wh=$3 sel
    case $t in
    t) sel="id, n, grp, v, amt, DATE_FORMAT(upd, '%Y-%m-%dT%H:%i:%s.%f')" ;;
    big) sel="id, n, v" ;;
    esac
    my -e "SELECT $sel FROM lks_crash.$t ORDER BY id" >"$tmp/db.tsv" 2>"$tmp/db.err" || {
        bad "$name" "database query: $(oneline "$tmp/db.err")"
        return 1
    }
    if ! "$bin" table scan "$wh/lks_crash/$t" --format jsonl 2>"$tmp/scan.err" |
        node -e '
            const rl = require("readline").createInterface({ input: process.stdin });
            rl.on("line", (l) => {
                const o = JSON.parse(l);
                console.log(Object.values(o).map((v) => (typeof v === "string" ? v.replace(/Z$/, "") : String(v))).join("\t"));
            });' | sort -n -k1,1 >"$tmp/lake.tsv"; then
        bad "$name" "table scan: $(oneline "$tmp/scan.err")"
        return 1
    fi
    if cmp -s "$tmp/db.tsv" "$tmp/lake.tsv"; then
        ok "$name ($(wc -l <"$tmp/db.tsv") rows, version $("$bin" table describe "$wh/lks_crash/$t" 2>/dev/null | sed -n 's/^version: \([0-9]*\).*/\1/p'))"
        return 0
    fi
    bad "$name" "lake $(wc -l <"$tmp/lake.tsv") rows, database $(wc -l <"$tmp/db.tsv"): $(diff "$tmp/db.tsv" "$tmp/lake.tsv" | head -n 8 | tr '\n' ' ' | head -c 700)"
    return 1
}

# =============================================================================================
# kill -9 while writers run
# =============================================================================================

wh=$tmp/wh_crash
props "$tmp/crash.properties" "$wh" 'database.include.list=lks_crash' 'table.include.list=lks_crash[.]t' \
    'merge.interval.ms=150' 'merge.max.events=300'
start_writers t 0.01
runs=0 killed=0 in_snapshot=0
for k in $(seq 1 "$kills"); do
    "$bin" run -c "$tmp/crash.properties" >"$tmp/run.log" 2>&1 </dev/null &
    runpid=$!
    ms=$((200 + RANDOM % 1801))
    # the first kill early: most likely in the snapshot (which starts over)
    [ "$k" = 1 ] && ms=$((100 + RANDOM % 400))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    runs=$((runs + 1))
    if kill -0 "$runpid" 2>/dev/null; then
        kill -9 "$runpid" 2>/dev/null && killed=$((killed + 1))
    fi
    wait "$runpid" 2>/dev/null # (no "Killed" job message)
    st=$?
    runpid=""
    # no stored binlog position yet: the kill came before the snapshot ended
    grep -qs '"appId":"lakesync:binlog:' "$wh"/lks_crash/t/_delta_log/*.json || in_snapshot=$((in_snapshot + 1))
    cat "$tmp/run.log" >>"$tmp/runs.log"
    if [ "$st" -ne 137 ]; then
        bad "kill -9: run $k" "exited by itself with status $st before the kill: $(tail -n 4 "$tmp/run.log" | tr '\n' ' ')"
    fi
done
sleep 1
stop_writers
txns=$(cat "$tmp"/writer*.log 2>/dev/null | head -c 300)
[ -n "$txns" ] && bad "kill -9: writers" "$txns"
if timeout 180 "$bin" run -c "$tmp/crash.properties" --stop-at-end >"$tmp/final.log" 2>&1 </dev/null; then
    equal "kill -9: after $runs runs ($killed killed, $in_snapshot before the snapshot ended; seed $seed) and a final --stop-at-end run, the lake equals the database" t "$wh" ||
        echo "     (rerun with LAKESYNC_SEED=$seed; logs: $(tail -n 3 "$tmp/runs.log" | tr '\n' ' '))"
else
    bad "kill -9: final run" "exit status $?: $(tail -n 5 "$tmp/final.log" | tr '\n' ' ')"
fi
# nothing new: another run leaves the table as it is
if timeout 60 "$bin" run -c "$tmp/crash.properties" --stop-at-end >"$tmp/final2.log" 2>&1 </dev/null; then
    equal "kill -9: a further --stop-at-end run keeps the lake equal" t "$wh"
else
    bad "kill -9: further run" "$(tail -n 5 "$tmp/final2.log" | tr '\n' ' ')"
fi

# =============================================================================================
# a big snapshot while writers run
# =============================================================================================

if ! my lks_crash -e "INSERT INTO big SELECT seq, 0, CONCAT('v', seq) FROM seq_1_to_$bigrows" >"$tmp/big.log" 2>&1; then
    bad "snapshot under writers: setup" "$(oneline "$tmp/big.log")"
else
    whb=$tmp/wh_big
    props "$tmp/big.properties" "$whb" 'database.include.list=lks_crash' 'table.include.list=lks_crash[.]big'
    start_writers big 0.002
    sleep 1
    if timeout 300 "$bin" run -c "$tmp/big.properties" --stop-at-end >"$tmp/big1.log" 2>&1 </dev/null; then
        sleep 1
        stop_writers
        changed=$(my -e "SELECT COUNT(*), SUM(n) FROM lks_crash.big WHERE n > 0 OR id > $bigrows" | tr '\t' '/')
        if timeout 120 "$bin" run -c "$tmp/big.properties" --stop-at-end >"$tmp/big2.log" 2>&1 </dev/null; then
            equal "snapshot of $bigrows rows under writers (rows changed/sum n: $changed), then a catch-up run: the lake equals the database" big "$whb"
        else
            bad "snapshot under writers: catch-up run" "$(tail -n 5 "$tmp/big2.log" | tr '\n' ' ')"
        fi
    else
        bad "snapshot under writers: run" "exit status $?: $(tail -n 5 "$tmp/big1.log" | tr '\n' ' ')"
        stop_writers
    fi
fi

finish
