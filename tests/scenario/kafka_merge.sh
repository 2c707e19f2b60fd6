#!/usr/bin/env bash
# kafka_merge.sh — the streaming merge (`lakesync merge --from kafka://...`)
# on librdkafka's mock cluster, started here (tests/tools/kafka_mock):
#   corpus       the Debezium documentation's create/update/delete of
#                inventory.customers and SeaTunnel's 16 real Debezium events,
#                produced with kcat, merged with --once
#   walkthrough  the reference walkthrough (300 `r` rows, insert, update,
#                delete + tombstone, insert) step by step, the table checked
#                after each merge, a merge with nothing new committing nothing
#   positions    the table holds one txn per topic-partition at the end offset
#   crash        a continuous merge of a 6-partition topic killed with SIGKILL
#                at random moments and restarted, producers still writing: the
#                table ends exact (no loss, no repeat)
#   group        three merges in one consumer group over a 6-partition topic,
#                one killed (SIGKILL) and restarted mid-run: the table ends exact
#   faults       broker request errors and a broker down during a merge;
#                records the table's position needs deleted from the topic (the
#                mock keeps ~5 MB per partition): the merge stops with an error
#                instead of skipping them
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_kafka.bash
kafka_prereqs kafka_merge

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_kmerge.XXXXXX") || exit 2
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
corpus=${LAKESYNC_CORPUS:-../shared/corpus}
T=salesdb-cdc.salesdb.CUSTOMER
KPROPS=(-o kafka.session.timeout.ms=3000 -o kafka.heartbeat.interval.ms=300)

mock_start -b 3 -t "$T:1" -t inventory.customers:1 -t dbserver1.inventory.products:2 \
    -t churn.salesdb.CUSTOMER:6 -t group.salesdb.CUSTOMER:6 -t faults.salesdb.CUSTOMER:3 -t gone.salesdb.CUSTOMER:1 || {
    bad "mock cluster" "did not start: $(head -n 3 "$tmp/mock.err")"
    finish
}

merge_once() { # NAME ARGS...: one merge --once, must succeed
    local name=$1
    shift
    if ! "$bin" merge "$@" --once >"$tmp/merge.out" 2>"$tmp/merge.err"; then
        bad "$name" "merge failed: $(head -n 5 "$tmp/merge.err" | tr '\n' ' ')"
        return 1
    fi
}

# ---- corpus ---------------------------------------------------------------------------------
if [ -d "$corpus/debezium/debezium-docs" ]; then
    python3 "$dbz_events" corpus "$corpus/debezium/debezium-docs" "$tmp/docs.ev" "$tmp/docs.exp"
    head -n 1 "$tmp/docs.ev" >"$tmp/docs1.ev"
    produce inventory.customers "$tmp/docs1.ev"
    if merge_once "corpus: docs create" --from "kafka://$BOOT/inventory.customers" --to "$tmp/docs"; then
        echo '{"id":1004,"first_name":"Anne","last_name":"Kretchmar","email":"annek@noanswer.org"}' >"$tmp/docs1.exp"
        check_table "corpus: Debezium docs create (with schema, key from the Kafka key)" "$tmp/docs" "$tmp/docs1.exp"
    fi
    tail -n +2 "$tmp/docs.ev" >"$tmp/docs2.ev"
    produce inventory.customers "$tmp/docs2.ev"
    merge_once "corpus: docs update+delete" --from "kafka://$BOOT/inventory.customers" --to "$tmp/docs" &&
        check_table "corpus: Debezium docs update (bare) and delete (with schema) + tombstone" "$tmp/docs" "$tmp/docs.exp"
    if positions "$tmp/docs" | grep -qx "inventory.customers:0 4"; then
        ok "corpus: position inventory.customers:0 is 4 (past the tombstone)"
    else
        bad "corpus: position" "$(positions "$tmp/docs" | tr '\n' ' ')"
    fi

    st=$corpus/debezium/seatunnel/debezium-1.1.1-products-no-schema.jsonl
    python3 -c '
import json,sys
for l in open(sys.argv[1]):
    v=json.loads(l); r=v["after"] or v["before"]
    print(json.dumps({"id":r["id"]},separators=(",",":"))+"\t"+l.strip())
' "$st" >"$tmp/st.ev"
    python3 -c '
import json,sys
t={}
for l in open(sys.argv[1]):
    v=json.loads(l)
    if v["op"]=="d": t.pop(v["before"]["id"],None)
    else: t[v["after"]["id"]]=v["after"]
for r in t.values(): print(json.dumps(r,separators=(",",":")))
' "$st" >"$tmp/st.exp"
    echo 'CREATE TABLE products (id INT NOT NULL PRIMARY KEY, name VARCHAR(255), description VARCHAR(512), weight DOUBLE);' >"$tmp/products.sql"
    produce dbserver1.inventory.products "$tmp/st.ev"
    merge_once "corpus: seatunnel" --from "kafka://$BOOT/dbserver1.inventory.products" --warehouse "$tmp/wh" \
        --schema "$tmp/products.sql" &&
        check_table "corpus: SeaTunnel's 16 Debezium events over 2 partitions (warehouse inventory/products)" \
            "$tmp/wh/inventory/products" "$tmp/st.exp"
else
    skip=$((skip + 1))
    echo "skip corpus: $corpus/debezium absent"
fi

# ---- the walkthrough ------------------------------------------------------------------------------
for step in load 1 2 3 4; do
    python3 "$dbz_events" walkthrough "$step" "$tmp/w.ev" "$tmp/w.exp" "$tmp/w.state"
    produce "$T" "$tmp/w.ev"
    merge_once "walkthrough $step" --from "kafka://$BOOT/$T" --to "$tmp/walk" &&
        check_table "walkthrough: step $step" "$tmp/walk" "$tmp/w.exp"
    if [ "$step" = load ] || [ "$step" = 4 ]; then
        v0=$("$bin" table describe "$tmp/walk" | sed -n 's/^version: \([0-9]*\).*/\1/p')
        merge_once "walkthrough idle" --from "kafka://$BOOT/$T" --to "$tmp/walk"
        v1=$("$bin" table describe "$tmp/walk" | sed -n 's/^version: \([0-9]*\).*/\1/p')
        if [ "$v0" = "$v1" ] && grep -q "up to date" "$tmp/merge.out"; then
            ok "walkthrough: a merge with nothing new after step $step commits nothing (version $v1)"
        else
            bad "walkthrough idle after $step" "version $v0 -> $v1: $(head -n 2 "$tmp/merge.out")"
        fi
    fi
done
if positions "$tmp/walk" | grep -qx "$T:0 308"; then
    ok "positions: lakesync:$T:0 is 308 (the next offset)"
else
    bad "positions" "$(positions "$tmp/walk" | tr '\n' ' ')"
fi

# ---- SIGKILL at random moments ----------------------------------------------------------------------
C=churn.salesdb.CUSTOMER
python3 "$dbz_events" churn 2000 800 1 "$tmp/c.ev" "$tmp/c.exp" "$tmp/c.state"
produce "$C" "$tmp/c.ev"
moved() { [ "$(total_position "$tmp/cwh/salesdb/CUSTOMER" "$C")" -gt "$1" ]; }
kills=0
for round in 1 2 3 4; do
    "$bin" merge --from "kafka://$BOOT/$C" --warehouse "$tmp/cwh" --interval 150 --batch-events 700 \
        --group crash "${KPROPS[@]}" >"$tmp/crash.out" 2>"$tmp/crash.err" &
    mp=$!
    pids+=("$mp")
    # more records while it runs
    python3 "$dbz_events" churn 1500 800 $((round + 1)) "$tmp/c.ev" "$tmp/c.exp" "$tmp/c.state"
    produce "$C" "$tmp/c.ev"
    # killed at a random moment once it is committing
    p0=$(total_position "$tmp/cwh/salesdb/CUSTOMER" "$C")
    wait_for 20 moved "$p0"
    random_sleep 0 50
    if kill -0 "$mp" 2>/dev/null; then
        kill -9 "$mp"
        kills=$((kills + 1))
    fi
    wait "$mp" 2>/dev/null
done
merge_once "crash: final" --from "kafka://$BOOT/$C" --warehouse "$tmp/cwh" &&
    check_table "crash: 8000 events over 6 partitions, $kills SIGKILLs mid-run: the table is exact" \
        "$tmp/cwh/salesdb/CUSTOMER" "$tmp/c.exp"
produced "$C" >"$tmp/c.end"
if [ "$(total_position "$tmp/cwh/salesdb/CUSTOMER" "$C")" = "$(cat "$tmp/c.end")" ] && [ "$(positions "$tmp/cwh/salesdb/CUSTOMER" | wc -l)" = 6 ]; then
    ok "crash: the 6 partition positions add up to the end offsets ($(cat "$tmp/c.end"))"
else
    bad "crash: positions" "$(positions "$tmp/cwh/salesdb/CUSTOMER" | tr '\n' ' ') vs end $(cat "$tmp/c.end")"
fi

# ---- three members of one group ------------------------------------------------------------------------
G=group.salesdb.CUSTOMER
start_member() { # N
    "$bin" merge --from "kafka://$BOOT/$G" --warehouse "$tmp/gwh" --interval 200 --group scale "${KPROPS[@]}" \
        >"$tmp/g$1.out" 2>"$tmp/g$1.err" &
    eval "m$1=$!"
    pids+=("$!")
}
start_member 1
start_member 2
start_member 3
: >"$tmp/g.state"
rm -f "$tmp/g.state"
for chunk in 1 2 3 4 5 6; do
    python3 "$dbz_events" churn 1500 1000 $((chunk + 10)) "$tmp/g.ev" "$tmp/g.exp" "$tmp/g.state"
    produce "$G" "$tmp/g.ev"
    if [ "$chunk" = 3 ]; then
        kill -9 "$m1" 2>/dev/null
        wait "$m1" 2>/dev/null
        start_member 1
    fi
    sleep 0.5
done
want=$(produced "$G")
for i in $(seq 120); do
    [ "$(total_position "$tmp/gwh/salesdb/CUSTOMER" "$G")" = "$want" ] && break
    sleep 0.5
done
kill -TERM "$m1" "$m2" "$m3" 2>/dev/null
wait "$m1" 2>/dev/null
st1=$?
wait "$m2" 2>/dev/null
st2=$?
wait "$m3" 2>/dev/null
st3=$?
if [ "$(total_position "$tmp/gwh/salesdb/CUSTOMER" "$G")" = "$want" ]; then
    ok "group: three members reached the end offsets ($want records)"
else
    bad "group: positions" "$(positions "$tmp/gwh/salesdb/CUSTOMER" | tr '\n' ' ') vs $want"
fi
if [ "$st1" = 0 ] && [ "$st2" = 0 ] && [ "$st3" = 0 ]; then
    ok "group: all three members stopped cleanly on SIGTERM"
else
    bad "group: exit" "status $st1 / $st2 / $st3: $(tail -n 2 "$tmp/g1.err" "$tmp/g2.err" "$tmp/g3.err" | tr '\n' ' ')"
fi
check_table "group: 9000 events, 6 partitions, 3 members, one SIGKILLed and restarted: the table is exact" \
    "$tmp/gwh/salesdb/CUSTOMER" "$tmp/g.exp"
if grep -q "batch:" "$tmp/g1.out" && grep -q "batch:" "$tmp/g2.out" && grep -q "batch:" "$tmp/g3.out"; then
    ok "group: every member committed batches"
else
    bad "group: sharing" "member outputs: $(grep -c batch: "$tmp/g1.out") / $(grep -c batch: "$tmp/g2.out") / $(grep -c batch: "$tmp/g3.out") batches"
fi

# ---- broker faults -----------------------------------------------------------------------------------
F=faults.salesdb.CUSTOMER
python3 "$dbz_events" churn 3000 500 42 "$tmp/f.ev" "$tmp/f.exp" "$tmp/f.state"
produce "$F" "$tmp/f.ev"
# Fetch (1) and ListOffsets (2) requests fail for a while; broker 2 goes down and up
mock_cmd errors 1 NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT,NOT_LEADER_FOR_PARTITION,UNKNOWN_TOPIC_OR_PART
mock_cmd errors 2 NOT_LEADER_FOR_PARTITION,LEADER_NOT_AVAILABLE
"$bin" merge --from "kafka://$BOOT/$F" --warehouse "$tmp/fwh" --interval 100 --group faults "${KPROPS[@]}" \
    >"$tmp/f.out" 2>"$tmp/f.err" &
fp=$!
pids+=("$fp")
sleep 0.3
mock_cmd down 2
sleep 1
mock_cmd leader "$F" 0 3
mock_cmd up 2
want=$(produced "$F")
for i in $(seq 120); do
    [ "$(total_position "$tmp/fwh/salesdb/CUSTOMER" "$F")" = "$want" ] && break
    sleep 0.5
done
kill -TERM "$fp" 2>/dev/null
wait "$fp" 2>/dev/null
check_table "faults: request errors, a broker down and a leader change during the merge: the table is exact" \
    "$tmp/fwh/salesdb/CUSTOMER" "$tmp/f.exp"

# the records after the table's position are gone (retention): an error, never a silent skip
X=gone.salesdb.CUSTOMER
python3 "$dbz_events" churn 50 40 5 "$tmp/x.ev" "$tmp/x.exp" "$tmp/x.state"
produce "$X" "$tmp/x.ev"
merge_once "gone: first merge" --from "kafka://$BOOT/$X" --warehouse "$tmp/xwh"
v0=$("$bin" table describe "$tmp/xwh/salesdb/CUSTOMER" | sed -n 's/^version: \([0-9]*\).*/\1/p')
DBZ_ENVELOPE=0 python3 "$dbz_events" churn 20000 40 6 "$tmp/x.ev" "$tmp/x.exp" "$tmp/x.state"
produce "$X" "$tmp/x.ev"
if "$bin" merge --from "kafka://$BOOT/$X" --warehouse "$tmp/xwh" --once >"$tmp/x.out" 2>"$tmp/x.err"; then
    bad "gone" "the merge succeeded although records it needs were deleted: $(head -n 2 "$tmp/x.out" | tr '\n' ' ')"
elif grep -q "out of range" "$tmp/x.err" &&
    [ "$("$bin" table describe "$tmp/xwh/salesdb/CUSTOMER" | sed -n 's/^version: \([0-9]*\).*/\1/p')" = "$v0" ]; then
    ok "gone: records after the table's position deleted from the topic: the merge stops, naming it, and commits nothing"
else
    bad "gone" "$(head -n 3 "$tmp/x.err" | tr '\n' ' ')"
fi

finish
