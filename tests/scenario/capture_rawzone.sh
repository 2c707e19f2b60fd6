#!/usr/bin/env bash
# capture_rawzone.sh — `lakesync capture` with capture.output=rawzone (the
# S3-sink layout, no Kafka) and `lakesync merge` from it, against a real
# MariaDB server the test starts (scripts/mariadb.sh; skipped visibly when
# mariadbd is absent; the server is always stopped on exit).
#
#   snapshot + stream: capture --stop-at-end writes every row as an event
#       with consecutive offsets from 0 and the keys beside them; a batch
#       merge of the raw zone equals the database;
#   resume: changes, then a second capture resumes from the position saved
#       in the raw zone (no second snapshot: offsets go on where they ended,
#       exactly one event per change); the merge equals the database;
#   kill -9: a writer keeps changing the table while capture is SIGKILLed
#       at random moments and restarted; a last capture and merge end equal
#       to the database, and every topic's offsets are contiguous;
#   bad input: no raw.path, a damaged position object: clear errors.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash
kills=5
[ -n "${LAKESYNC_QUICK:-}" ] && kills=3
run_prereqs capture_rawzone

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_caprz.XXXXXX") || exit 2
pid=""
wpid=""
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null
    mariadb_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cp "$bin" "$tmp/lakesync" || exit 2
bin=$tmp/lakesync

if ! mariadb_start 3750; then
    bad capture_rawzone "the MariaDB server did not start: $(oneline "$tmp/start.log")"
    finish
fi
my -e "CREATE DATABASE shop; USE shop;
       CREATE TABLE item (id INT PRIMARY KEY, n INT NOT NULL, v VARCHAR(40), amt DECIMAL(10,2));
       INSERT INTO item SELECT seq, 0, CONCAT('v', seq), seq / 100 FROM seq_1_to_500;" 2>"$tmp/db.err" || {
    bad capture_rawzone "creating the table: $(oneline "$tmp/db.err")"
    finish
}
raw=$tmp/raw
mariadb_props "$tmp/c.properties" unused topic.prefix=rz database.include.list=shop capture.output=rawzone \
    "raw.path=$raw" flush.size=200 offset.flush.interval.ms=200
T=rz.shop.item

# equal NAME: a batch merge of the raw zone, then the lake equals the database
equal() {
    if ! "$bin" merge --from "$raw" --warehouse "$tmp/wh" --once >"$tmp/merge.out" 2>"$tmp/merge.err"; then
        bad "$1" "merge: $(oneline "$tmp/merge.err")"
        return 1
    fi
    my -e "SELECT id, n, v, amt FROM shop.item ORDER BY id" >"$tmp/db.tsv"
    "$bin" sql --warehouse "$tmp/wh" --format csv "SELECT id, n, v, amt FROM item ORDER BY id" 2>"$tmp/sql.err" |
        tail -n +2 | tr ',' '\t' >"$tmp/lake.tsv"
    if cmp -s "$tmp/db.tsv" "$tmp/lake.tsv"; then
        ok "$1 ($(wc -l <"$tmp/db.tsv") rows)"
    else
        bad "$1" "lake $(wc -l <"$tmp/lake.tsv") rows, database $(wc -l <"$tmp/db.tsv"): $(diff "$tmp/db.tsv" "$tmp/lake.tsv" | head -n 6 | tr '\n' ' ')$(oneline "$tmp/sql.err")"
    fi
}

# records: the number of event lines in the topic's objects; contiguous: 0
# when the objects' offsets follow each other from 0 with no gap or overlap
records() { cat "$raw/topics/$T/partition=0/"*+0+??????????.json 2>/dev/null | wc -l; }
contiguous() {
    local next=0 f start n
    for f in "$raw/topics/$T/partition=0/"*+0+??????????.json; do
        start=${f##*+}
        start=$((10#${start%.json}))
        [ "$start" = "$next" ] || return 1
        n=$(wc -l <"$f")
        [ "$(wc -l <"${f%.json}.keys.json")" = "$n" ] || return 1
        next=$((start + n))
    done
    return 0
}

# ---- snapshot + stream -------------------------------------------------------------------------
if "$bin" -v capture -c "$tmp/c.properties" --stop-at-end >"$tmp/cap.out" 2>"$tmp/cap.err"; then
    if [ ! -s "$tmp/cap.out" ] && [ "$(records)" = 500 ] && contiguous; then
        ok "capture into the raw zone: 500 snapshot events at offsets 0..499 with keys, nothing on stdout"
    else
        bad "capture into the raw zone" "$(records) records, stdout $(wc -c <"$tmp/cap.out") bytes; $(ls "$raw/topics/$T/partition=0" | head -n 5 | tr '\n' ' ')"
    fi
else
    bad "capture into the raw zone" "$(oneline "$tmp/cap.err")"
fi
equal "merge of the raw zone equals the database"

# ---- resume -----------------------------------------------------------------------------------------
my -e "USE shop; UPDATE item SET n = n + 1 WHERE id % 4 = 0; DELETE FROM item WHERE id BETWEEN 20 AND 29;
       INSERT INTO item SELECT seq, 7, 'new', 1.5 FROM seq_501_to_530; UPDATE item SET id = 9999 WHERE id = 1;"
changes=$((125 + 10 + 30 + 1))
if "$bin" -v capture -c "$tmp/c.properties" --stop-at-end >"$tmp/cap.out" 2>"$tmp/cap.err" &&
    grep -q "resuming from binlog" "$tmp/cap.err" && ! grep -q "snapshot of" "$tmp/cap.err"; then
    if [ "$(records)" = $((500 + changes)) ] && contiguous; then
        ok "a second capture resumes from the saved position: $changes change events at the next offsets"
    else
        bad "resume" "$(records) records, want $((500 + changes))"
    fi
else
    bad "resume" "$(grep -E 'resuming|snapshot|error' "$tmp/cap.err" | head -n 3 | tr '\n' ' ')"
fi
equal "merge after the resumed capture equals the database"

# ---- kill -9 under a writer ------------------------------------------------------------------------
(
    for k in $(seq 1 100000); do
        my -e "USE shop; START TRANSACTION;
               UPDATE item SET n = n + 1, v = 'w$k' WHERE id = 1 + ($k * 37) % 530;
               INSERT INTO item VALUES (10000 + $k, $k, 'ins', 0.01) ON DUPLICATE KEY UPDATE n = n + 1;
               DELETE FROM item WHERE id = 10000 + $k - 5 AND $k % 3 = 0; COMMIT;" || break
        [ -f "$tmp/stop" ] && break
    done
) 2>/dev/null &
wpid=$!
for k in $(seq 1 "$kills"); do
    "$bin" capture -c "$tmp/c.properties" >/dev/null 2>"$tmp/kill.err" &
    pid=$!
    ms=$((300 + RANDOM % 1200))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
done
touch "$tmp/stop"
wait "$wpid" 2>/dev/null
wpid=""
if "$bin" capture -c "$tmp/c.properties" --stop-at-end >/dev/null 2>"$tmp/cap.err" && contiguous; then
    ok "capture SIGKILLed $kills times under a writer, then run to the end: offsets contiguous ($(records) records)"
else
    bad "kill -9" "$(oneline "$tmp/cap.err") contiguous=$(contiguous && echo yes || echo no)"
fi
equal "merge after the kills equals the database"

# ---- bad input ------------------------------------------------------------------------------------------
if "$bin" capture -c "$tmp/c.properties" -o raw.path= --stop-at-end >/dev/null 2>"$tmp/e.err"; then
    bad "no raw.path" "capture succeeded"
elif grep -q "raw.path" "$tmp/e.err"; then
    ok "capture.output=rawzone without raw.path: $(head -c 120 "$tmp/e.err")"
else
    bad "no raw.path" "$(oneline "$tmp/e.err")"
fi
printf '{"file":"binlog.000001","pos":' >"$raw/_lakesync/capture.rz.json"
if "$bin" capture -c "$tmp/c.properties" --stop-at-end >/dev/null 2>"$tmp/e.err"; then
    bad "damaged position" "capture succeeded"
elif grep -q "_lakesync/capture.rz.json" "$tmp/e.err" && ! grep -qi "sanitizer\|core dumped" "$tmp/e.err"; then
    ok "a damaged position object: a clear error naming it"
else
    bad "damaged position" "$(oneline "$tmp/e.err")"
fi
finish
