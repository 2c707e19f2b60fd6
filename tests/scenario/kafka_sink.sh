#!/usr/bin/env bash
# kafka_sink.sh — `lakesync sink` (Kafka → raw zone in the Confluent S3
# sink's layout) on librdkafka's mock cluster, started here:
#   layout     objects named <topic>+<p>+<first offset, 10 digits>.json with
#              keys beside them, flush.size records each, tombstones written
#              as null (behavior.on.null.values=write) or left out (ignore)
#   merge      `lakesync merge --from RAW` of the sink's raw zone gives the
#              table the streaming merge gives, and the two merges take turns
#              on one table (same positions)
#   crash      a continuous sink killed with SIGKILL at random moments while
#              producers write, restarted each time: the raw zone holds every
#              offset exactly once, and its merge is exact
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_kafka.bash
kafka_prereqs kafka_sink

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_ksink.XXXXXX") || exit 2
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    mock_stop
    [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
cp "$bin" "$tmp/lakesync" || exit 2
bin=$tmp/lakesync
W=salesdb-cdc.salesdb.CUSTOMER
C=crash.salesdb.CUSTOMER

mock_start -b 3 -t "$W:1" -t "$C:4" || {
    bad "mock cluster" "did not start: $(head -n 3 "$tmp/mock.err")"
    finish
}

# sink_props FILE RAW TOPICS GROUP NULLS: a sink configuration
sink_props() {
    cat >"$1" <<EOF
kafka.bootstrap.servers=$BOOT
kafka.session.timeout.ms=3000
kafka.heartbeat.interval.ms=300
topics=$3
group.id=$4
raw.path=$2
flush.size=50
store.kafka.keys=true
behavior.on.null.values=$5
EOF
}

# check_layout NAME RAW TOPIC PARTITIONS END: every offset below END of each
# partition in exactly one object line (the offsets of tombstones too when
# they are written), objects named from their first offset, keys line for line
check_layout() {
    local name=$1 raw=$2 topic=$3 nparts=$4 nulls=$5
    if python3 - "$raw/topics/$topic" "$topic" "$nparts" "$nulls" >"$tmp/layout.out" 2>&1 <<'EOF'; then
import os, re, sys
d, topic, nparts, nulls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
total = 0
for p in range(nparts):
    pd = os.path.join(d, "partition=%d" % p)
    names = sorted(os.listdir(pd)) if os.path.isdir(pd) else []
    seen = {}
    for n in names:
        # a put killed with the sink leaves the local store's temporary file
        # (".<name>.tmp.<pid>.<16 hex>"), never a published object
        if re.fullmatch(r"\..*\.tmp\.\d+\.[0-9a-f]{16}", n):
            continue
        m = re.fullmatch(re.escape(topic) + r"\+%d\+(\d{10})\.json" % p, n)
        if not m:
            if not re.fullmatch(re.escape(topic) + r"\+%d\+\d{10}\.keys\.json" % p, n):
                sys.exit("unexpected object " + n)
            continue
        start = int(m.group(1))
        vals = open(os.path.join(pd, n)).read().split("\n")[:-1]
        keys = open(os.path.join(pd, n[:-5] + ".keys.json")).read().split("\n")[:-1]
        if len(keys) != len(vals):
            sys.exit("%s: %d values, %d keys" % (n, len(vals), len(keys)))
        if len(vals) > 50:
            sys.exit("%s: %d records, flush.size is 50" % (n, len(vals)))
        for i, v in enumerate(vals):
            off = start + i
            if off in seen:
                sys.exit("offset %d of partition %d in %s and %s" % (off, p, seen[off], n))
            seen[off] = n
            if v == "null" and nulls != "write":
                sys.exit("%s: a tombstone line with behavior.on.null.values=ignore" % n)
    if nulls == "write" and seen and sorted(seen) != list(range(len(seen))):
        missing = sorted(set(range(max(seen) + 1)) - set(seen))
        sys.exit("partition %d misses offsets %s" % (p, missing[:10]))
    total += len(seen)
print(total)
EOF
        ok "$name ($(cat "$tmp/layout.out") records)"
    else
        bad "$name" "$(tail -n 3 "$tmp/layout.out" | tr '\n' ' ')"
    fi
}

# ---- the walkthrough through the sink -------------------------------------------------------------------
for step in load 1 2 3 4; do
    python3 "$dbz_events" walkthrough "$step" "$tmp/w.ev" "$tmp/w.exp" "$tmp/w.state"
    produce "$W" "$tmp/w.ev"
done
sink_props "$tmp/sink.properties" "$tmp/raw" "$W" walk write
if "$bin" sink -c "$tmp/sink.properties" --once >"$tmp/sink.out" 2>"$tmp/sink.err"; then
    ok "sink --once: $(cat "$tmp/sink.out")"
else
    bad "sink --once" "$(head -n 3 "$tmp/sink.err" | tr '\n' ' ')"
fi
check_layout "layout: every offset once, objects of 50 named from their first offset, keys beside" \
    "$tmp/raw" "$W" 1 write
if [ -f "$tmp/raw/topics/$W/partition=0/$W+0+0000000300.json" ] &&
    [ "$(wc -l <"$tmp/raw/topics/$W/partition=0/$W+0+0000000300.json")" = 8 ]; then
    ok "layout: the last object starts at offset 300 and holds the 8 records after the load"
else
    bad "layout: last object" "$(ls "$tmp/raw/topics/$W/partition=0" | tail -n 3 | tr '\n' ' ')"
fi
if grep -qx null "$tmp/raw/topics/$W/partition=0/$W+0+0000000300.json"; then
    ok "layout: the tombstone is the line null (behavior.on.null.values=write)"
else
    bad "layout: tombstone" "no null line in the last object"
fi
"$bin" sink -c "$tmp/sink.properties" --once >"$tmp/sink2.out" 2>"$tmp/sink2.err"
if grep -q "sink: 0 records" "$tmp/sink2.out"; then
    ok "sink --once again: nothing new (the group's offsets were committed)"
else
    bad "sink again" "$(cat "$tmp/sink2.out" "$tmp/sink2.err" | head -n 3 | tr '\n' ' ')"
fi
if "$bin" merge --from "$tmp/raw" --to "$tmp/rawmerged" --once >"$tmp/m.out" 2>"$tmp/m.err"; then
    check_table "merge of the sink's raw zone: the walkthrough's table" "$tmp/rawmerged" "$tmp/w.exp"
else
    bad "merge of the raw zone" "$(head -n 3 "$tmp/m.err" | tr '\n' ' ')"
fi
"$bin" merge --from "kafka://$BOOT/$W" --to "$tmp/streamed" --once >/dev/null 2>"$tmp/s.err"
"$bin" table scan "$tmp/rawmerged" --format jsonl | LC_ALL=C sort >"$tmp/a"
"$bin" table scan "$tmp/streamed" --format jsonl | LC_ALL=C sort >"$tmp/b"
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && [ "$(positions "$tmp/rawmerged")" = "$(positions "$tmp/streamed")" ]; then
    ok "the raw-zone merge and the streaming merge give the same table and positions"
else
    bad "raw vs streaming" "$(diff "$tmp/a" "$tmp/b" | head -n 4 | tr '\n' ' ') $(positions "$tmp/rawmerged") / $(positions "$tmp/streamed")"
fi

# the two merges take turns on one table: streaming up to the load, the raw
# zone for the rest (the raw zone's first 300 records are skipped: the
# table holds their position)
"$bin" sink -c "$tmp/sink.properties" -o raw.path="$tmp/raw_ignore" -o group.id=walk-ignore \
    -o behavior.on.null.values=ignore --once >/dev/null 2>"$tmp/si.err"
check_layout "layout with behavior.on.null.values=ignore: no tombstone lines" "$tmp/raw_ignore" "$W" 1 ignore
# a raw zone cut at offset 300 (the load), merged first
mkdir -p "$tmp/raw300/topics/$W/partition=0"
for f in "$tmp/raw/topics/$W/partition=0/"*; do
    off=$(basename "$f" | sed -n 's/.*+0+\([0-9]\{10\}\)\..*/\1/p')
    [ $((10#$off)) -lt 300 ] && cp "$f" "$tmp/raw300/topics/$W/partition=0/"
done
"$bin" merge --from "$tmp/raw300" --to "$tmp/turns" --once >/dev/null 2>"$tmp/t1.err"
"$bin" merge --from "kafka://$BOOT/$W" --to "$tmp/turns" --once >"$tmp/t2.out" 2>"$tmp/t2.err"
if grep -q "^batch: 7 events" "$tmp/t2.out"; then
    ok "turns: the streaming merge continues a raw-zone merge at its position (7 events and a tombstone read)"
else
    bad "turns" "$(cat "$tmp/t2.out" "$tmp/t2.err" | head -n 3 | tr '\n' ' ')"
fi
check_table "turns: the table after raw-zone then streaming merge" "$tmp/turns" "$tmp/w.exp"

# ---- SIGKILL at random moments -------------------------------------------------------------------------
sink_props "$tmp/crash.properties" "$tmp/craw" "$C" crash write
python3 "$dbz_events" churn 1500 400 7 "$tmp/c.ev" "$tmp/c.exp" "$tmp/c.state"
produce "$C" "$tmp/c.ev"
objects() { find "$tmp/craw" -name '*.json' ! -name '*.keys.json' 2>/dev/null | wc -l; }
more_objects() { [ "$(objects)" -gt "$1" ]; }
kills=0
for round in 1 2 3 4; do
    "$bin" sink -c "$tmp/crash.properties" >"$tmp/crash.out" 2>"$tmp/crash.err" &
    sp=$!
    pids+=("$sp")
    if [ "$round" -le 3 ]; then
        python3 "$dbz_events" churn 700 400 $((round + 7)) "$tmp/c.ev" "$tmp/c.exp" "$tmp/c.state"
        produce "$C" "$tmp/c.ev"
    fi
    # killed at a random moment once it is writing objects
    n0=$(objects)
    wait_for 30 more_objects "$n0"
    random_sleep 0 60
    if kill -0 "$sp" 2>/dev/null; then
        kill -9 "$sp"
        kills=$((kills + 1))
    fi
    wait "$sp" 2>/dev/null
done
"$bin" sink -c "$tmp/crash.properties" --once >"$tmp/cf.out" 2>"$tmp/cf.err" ||
    bad "crash: final sink" "$(head -n 3 "$tmp/cf.err" | tr '\n' ' ')"
check_layout "crash: $kills SIGKILLs of the sink mid-run: every offset exactly once" "$tmp/craw" "$C" 4 write
n=$(python3 -c '
import os,sys
d=sys.argv[1]; t=0
for root,_,fs in os.walk(d):
    for f in fs:
        if f.endswith(".json") and not f.endswith(".keys.json"): t+=sum(1 for _ in open(os.path.join(root,f)))
print(t)' "$tmp/craw/topics/$C")
if [ "$n" = "$(produced "$C")" ]; then
    ok "crash: the raw zone holds all $n records produced"
else
    bad "crash: record count" "$n in the raw zone, $(produced "$C") produced"
fi
if "$bin" merge --from "$tmp/craw" --warehouse "$tmp/cwh" --once >"$tmp/cm.out" 2>"$tmp/cm.err"; then
    check_table "crash: the merge of the raw zone is exact" "$tmp/cwh/salesdb/CUSTOMER" "$tmp/c.exp"
else
    bad "crash: merge" "$(head -n 3 "$tmp/cm.err" | tr '\n' ' ')"
fi

finish
