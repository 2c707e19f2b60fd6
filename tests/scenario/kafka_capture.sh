#!/usr/bin/env bash
# kafka_capture.sh — MariaDB → `lakesync capture` (capture.output=kafka) →
# librdkafka's mock cluster → kcat, the streaming merge and the sink.
# The test starts its own MariaDB (lib_mariadb.bash: a free port from 3360 on)
# and mock cluster; skipped visibly without mariadbd or kcat.
#   shape      kcat reads Debezium-shaped JSON: keys {"schema","payload"} with
#              the primary key, values with the envelope (op r/c/u/d), a
#              tombstone after each delete, every key in the partition Kafka's
#              Java partitioner gives it (murmur2, computed here in Python)
#   resume     a second capture resumes from offsets.file: no second snapshot
#   headers    a primary-key update is a delete of the old key with header
#              __debezium.newkey (and its tombstone) and a create of the new
#              key with __debezium.oldkey, values the other key as Kafka
#              Connect's SimpleHeaderConverter writes it ({"CUST_ID":9001});
#              every message carries the __debezium.context.* headers
#   walkthrough  the reference walkthrough in the database, then
#              MariaDB → capture → Kafka → streaming merge, and
#              MariaDB → capture → Kafka → sink → raw zone → batch merge:
#              both lakes equal the database
#   crash      capture killed with SIGKILL while the database changes,
#              restarted from its offsets file: the merged lake equals the
#              database (changes after the saved position are sent again)
#   run        `lakesync run` with transport=kafka: --stop-at-end twice (the
#              second resumes, after a primary-key change whose headers are,
#              with header.converter=json, the other message's key bytes),
#              then running while the database changes, and SIGTERM: the
#              lake equals the database each time
#   topics     a cluster that answers CreateTopics (kafka_mock -a): capture
#              creates its topics with topic.creation.default.partitions /
#              replication.factor and the other topic.creation.default.*
#              configs (kcat -L), leaves an existing topic as it is, and
#              fails naming the topic when the cluster refuses one
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_kafka.bash
. tests/scenario/lib_mariadb.bash
kafka_prereqs kafka_capture
if ! have_mariadbd; then
    skipped kafka_capture "mariadbd not installed (scripts/install-deps.sh)"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_kcap.XXXXXX") || exit 2
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    mock_stop
    mariadb_stop
    [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
cp "$bin" "$tmp/lakesync" || exit 2
bin=$tmp/lakesync

if ! mariadb_start 3360; then
    bad "mariadb" "did not start: $(oneline "$tmp/start.log")"
    finish
fi
P=salesdb-cdc
T=$P.salesdb.CUSTOMER
O=$P.salesdb.ORDERS
mock_start -b 3 -t "$T:3" -t "$O:1" || {
    bad "mock cluster" "did not start: $(head -n 3 "$tmp/mock.err")"
    finish
}

my <<'EOF'
CREATE DATABASE salesdb;
CREATE TABLE salesdb.CUSTOMER (CUST_ID INT NOT NULL PRIMARY KEY, NAME VARCHAR(40), MKTSEGMENT VARCHAR(10));
CREATE TABLE salesdb.ORDERS (O_ID INT NOT NULL, LINE SMALLINT NOT NULL, PRICE DECIMAL(10,2), AT DATETIME(3),
  NOTE TEXT, PRIMARY KEY (O_ID, LINE));
INSERT INTO salesdb.CUSTOMER
  WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 300)
  SELECT i, CONCAT('Customer#', LPAD(i, 9, '0')), ELT(i % 5 + 1, 'MACHINERY', 'AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD') FROM s;
INSERT INTO salesdb.ORDERS VALUES (1, 1, 10.50, '2024-01-02 03:04:05.678', 'first'), (1, 2, 0.01, NULL, NULL),
  (2, 1, 99999999.99, '1999-12-31 23:59:59.999', 'quote " and \\ backslash');
EOF

props() { # FILE [LINE]...: a capture into the mock cluster (later lines win)
    local f=$1
    shift
    mariadb_props "$f" "$tmp/wh" "database.include.list=salesdb" "topic.prefix=$P" "capture.output=kafka" \
        "kafka.bootstrap.servers=$BOOT" "offsets.file=$tmp/offsets.json" "offset.flush.interval.ms=200" "$@"
}
props "$tmp/cap.properties"

capture_end() { # NAME: capture --stop-at-end, must succeed
    if ! timeout 120 "$bin" capture -c "$tmp/cap.properties" --stop-at-end >"$tmp/cap.out" 2>"$tmp/cap.err"; then
        bad "$1" "capture failed: $(tail -n 4 "$tmp/cap.err" | tr '\n' ' ')"
        return 1
    fi
}

# read_topic TOPIC N: N messages as "partition<TAB>key<TAB>value" (value NULL for tombstones)
read_topic() {
    kcat -b "$BOOT" -C -t "$1" -o beginning -c "$2" -e -Z -f '%p\t%k\t%s\n' 2>/dev/null
}

# lake_equals_db NAME TABLE: the lake table equals salesdb.CUSTOMER
db_customers() {
    my -e "SELECT JSON_OBJECT('CUST_ID', CUST_ID, 'NAME', NAME, 'MKTSEGMENT', MKTSEGMENT) FROM salesdb.CUSTOMER" |
        python3 -c 'import json,sys; [print(json.dumps(json.loads(l),separators=(",",":"))) for l in sys.stdin]' |
        LC_ALL=C sort
}
lake_equals_db() {
    db_customers >"$tmp/db.exp"
    check_table "$1" "$2" "$tmp/db.exp"
}

# ---- the snapshot into Kafka --------------------------------------------------------------------------
capture_end "snapshot" && ok "capture: snapshot of salesdb into Kafka"
read_topic "$T" 300 >"$tmp/t.msgs"
if python3 - "$tmp/t.msgs" "$T" >"$tmp/shape.out" 2>&1 <<'EOF'; then
import json, sys

def murmur2(data):
    # Kafka's Java Utils.murmur2 (seed 0x9747b28c), independent of lakesync's
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(data)) & 0xffffffff
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    rest = data[4 * n:]
    if len(rest) >= 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h

topic = sys.argv[2]
ids = set()
for line in open(sys.argv[1]):
    part, key, value = line.rstrip("\n").split("\t", 2)
    k = json.loads(key)
    assert k["schema"] == {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "CUST_ID"}],
                           "optional": False, "name": topic + ".Key"}, k["schema"]
    assert key == json.dumps(k, separators=(",", ":")), "key not compact JSON: " + key
    assert int(part) == (murmur2(key.encode()) & 0x7fffffff) % 3, "key %s in partition %s" % (key, part)
    v = json.loads(value)
    assert set(v) == {"schema", "payload"}, list(v)
    p = v["payload"]
    assert p["op"] == "r" and p["before"] is None and p["after"]["CUST_ID"] == k["payload"]["CUST_ID"], p
    s = p["source"]
    assert s["connector"] == "mysql" and s["name"] == "salesdb-cdc" and s["db"] == "salesdb" and s["table"] == "CUSTOMER", s
    assert v["schema"]["name"] == topic + ".Envelope", v["schema"]["name"]
    ids.add(k["payload"]["CUST_ID"])
assert ids == set(range(1, 301)), "ids: %d" % len(ids)
print("300 snapshot events")
EOF
    ok "shape: $(cat "$tmp/shape.out"): Debezium keys and envelopes, each key in its murmur2 partition of 3"
else
    bad "shape" "$(tail -n 3 "$tmp/shape.out" | tr '\n' ' ')"
fi
if grep -q '"file"' "$tmp/offsets.json" 2>/dev/null; then
    ok "offsets.file holds the position: $(cat "$tmp/offsets.json")"
else
    bad "offsets.file" "missing or empty"
fi

# ---- the walkthrough in the database --------------------------------------------------------------------
my -e "INSERT INTO salesdb.CUSTOMER VALUES (8887,'Customer#000008887','BUILDING'),(8888,'Customer#000008888','FURNITURE'),(8889,'Customer#000008889','MACHINERY')"
my -e "UPDATE salesdb.CUSTOMER SET MKTSEGMENT='HOUSEHOLD' WHERE CUST_ID=8888; UPDATE salesdb.CUSTOMER SET NAME='Customer#000008889 (updated)', MKTSEGMENT='AUTOMOBILE' WHERE CUST_ID=8889"
my -e "DELETE FROM salesdb.CUSTOMER WHERE CUST_ID=8887"
my -e "INSERT INTO salesdb.CUSTOMER VALUES (9000,'Customer#000009000','MACHINERY')"
my -e "UPDATE salesdb.CUSTOMER SET CUST_ID=9001 WHERE CUST_ID=9000"
my -e "UPDATE salesdb.ORDERS SET PRICE=11.25 WHERE O_ID=1 AND LINE=1; DELETE FROM salesdb.ORDERS WHERE O_ID=2"
capture_end "resume" && ok "capture resumed from offsets.file"
n=$(kcat -b "$BOOT" -C -t "$T" -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l)
if [ "$n" = 311 ]; then
    ok "resume: no second snapshot (300 r + 3 c + 2 u + d + tombstone + c + key change d, tombstone, c = 311 messages)"
else
    bad "resume" "$n messages in $T, expected 311"
fi
kcat -b "$BOOT" -C -t "$T" -o beginning -e -q -J 2>/dev/null >"$tmp/t.json"
if python3 - "$tmp/t.json" >"$tmp/hdr.out" 2>&1 <<'EOF'; then
import json, sys
ctx = {"__debezium.context.connectorLogicalName": "salesdb-cdc", "__debezium.context.taskId": "0",
       "__debezium.context.connectorName": "mysql"}
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 311, len(msgs)
seq = []
for m in msgs:
    h = m.get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    for k, v in ctx.items():
        assert hd.get(k) == v, (k, h, m["offset"])
    k = json.loads(m["key"])["payload"]["CUST_ID"]
    if k in (9000, 9001):
        v = json.loads(m["payload"])["payload"] if m["payload"] is not None else None
        extra = {a: b for a, b in hd.items() if a not in ctx}
        seq.append((k, v["op"] if v else None, extra, v))
want = [(9000, "c", {}), (9000, "d", {"__debezium.newkey": '{"CUST_ID":9001}'}),
        (9000, None, {"__debezium.newkey": '{"CUST_ID":9001}'}), (9001, "c", {"__debezium.oldkey": '{"CUST_ID":9000}'})]
got = sorted([s[:3] for s in seq], key=lambda t: (t[0], ["c", "d", None].index(t[1]) if t[0] == 9000 else 0))
assert got == want, got
d = [s[3] for s in seq if s[1] == "d"][0]
c = [s[3] for s in seq if s[0] == 9001][0]
assert d["before"]["CUST_ID"] == 9000 and d["after"] is None, d
assert c["before"] is None and c["after"]["CUST_ID"] == 9001 and c["after"]["NAME"] == "Customer#000009000", c
assert d["source"]["pos"] == c["source"]["pos"], (d["source"], c["source"])
print("key change 9000 -> 9001: d + tombstone with __debezium.newkey, c with __debezium.oldkey; "
      "context headers on all 311 messages")
EOF
    ok "headers: $(cat "$tmp/hdr.out")"
else
    bad "headers" "$(tail -n 3 "$tmp/hdr.out" | tr '\n' ' ')"
fi
kcat -b "$BOOT" -C -t "$T" -o beginning -e -q -Z -f '%k\t%s\n' 2>/dev/null | grep '"CUST_ID":8887}}' >"$tmp/8887"
if [ "$(cut -f2 "$tmp/8887" | sed 's/.*"op":"\(.\)".*/\1/')" = "$(printf 'c\nd\nNULL')" ]; then
    ok "kcat: 8887's messages are c, d and a tombstone (same key, null value)"
else
    bad "tombstone" "$(cut -c1-80 "$tmp/8887" | tr '\n' ' ')"
fi

"$bin" merge --from "kafka://$BOOT/$T,$O" --warehouse "$tmp/wh" --once >"$tmp/m.out" 2>"$tmp/m.err" ||
    bad "streaming merge" "$(head -n 3 "$tmp/m.err" | tr '\n' ' ')"
lake_equals_db "walkthrough: MariaDB → capture → Kafka → streaming merge: CUSTOMER equals the database" \
    "$tmp/wh/salesdb/CUSTOMER"
my -e "SELECT JSON_OBJECT('O_ID', O_ID, 'LINE', LINE, 'PRICE', PRICE, 'NOTE', NOTE) FROM salesdb.ORDERS" |
    python3 -c 'import json,sys; [print(json.dumps(json.loads(l),separators=(",",":"))) for l in sys.stdin]' |
    LC_ALL=C sort >"$tmp/orders.exp"
"$bin" table scan "$tmp/wh/salesdb/ORDERS" --format jsonl 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    r=json.loads(l); r.pop("AT"); r["PRICE"]=float(r["PRICE"]) if r["PRICE"] is not None else None
    print(json.dumps(r,separators=(",",":")))' | LC_ALL=C sort >"$tmp/orders.got"
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); r["PRICE"]=float(r["PRICE"]) if r["PRICE"] is not None else None
    print(json.dumps(r,separators=(",",":")))' "$tmp/orders.exp" | LC_ALL=C sort >"$tmp/orders.exp2"
if [ -s "$tmp/orders.got" ] && cmp -s "$tmp/orders.got" "$tmp/orders.exp2"; then
    ok "walkthrough: ORDERS (composite key, DECIMAL, update and delete) equals the database"
else
    bad "ORDERS" "$(diff "$tmp/orders.exp2" "$tmp/orders.got" | head -n 4 | tr '\n' ' ')"
fi

cat >"$tmp/sink.properties" <<EOF
kafka.bootstrap.servers=$BOOT
topics=$T,$O
group.id=capture-sink
raw.path=$tmp/raw
flush.size=100
store.kafka.keys=true
EOF
if "$bin" sink -c "$tmp/sink.properties" --once >"$tmp/s.out" 2>"$tmp/s.err" &&
    "$bin" merge --from "$tmp/raw" --warehouse "$tmp/wh2" --once >"$tmp/m2.out" 2>"$tmp/m2.err"; then
    lake_equals_db "walkthrough: MariaDB → capture → Kafka → sink → raw zone → batch merge: CUSTOMER equals the database" \
        "$tmp/wh2/salesdb/CUSTOMER"
else
    bad "sink + batch merge" "$(cat "$tmp/s.err" "$tmp/m2.err" | head -n 3 | tr '\n' ' ')"
fi

# ---- SIGKILL of capture while the database changes -------------------------------------------------------
writer() { # changes in many small transactions
    local i
    for i in $(seq 1 150); do
        my -e "INSERT INTO salesdb.CUSTOMER VALUES ($((10000 + i)), 'w$i', 'BUILDING') ON DUPLICATE KEY UPDATE NAME='w$i';
               UPDATE salesdb.CUSTOMER SET NAME=CONCAT(NAME, '+') WHERE CUST_ID=$((i % 300 + 1));
               DELETE FROM salesdb.CUSTOMER WHERE CUST_ID=$((10000 + i / 2)) AND $((i % 3)) = 0;"
    done
}
writer &
wp=$!
pids+=("$wp")
kills=0
for round in 1 2 3; do
    "$bin" capture -c "$tmp/cap.properties" >"$tmp/c$round.out" 2>"$tmp/c$round.err" &
    cp=$!
    pids+=("$cp")
    random_sleep 80 150
    if kill -0 "$cp" 2>/dev/null; then
        kill -9 "$cp"
        kills=$((kills + 1))
    fi
    wait "$cp" 2>/dev/null
done
wait "$wp"
capture_end "crash: final capture" || true
"$bin" merge --from "kafka://$BOOT/$T" --warehouse "$tmp/wh" --once >"$tmp/m3.out" 2>"$tmp/m3.err" ||
    bad "crash: merge" "$(head -n 3 "$tmp/m3.err" | tr '\n' ' ')"
lake_equals_db "crash: capture SIGKILLed $kills times while the database changed: the lake equals the database" \
    "$tmp/wh/salesdb/CUSTOMER"

# ---- lakesync run with transport=kafka ----------------------------------------------------------------
props "$tmp/run.properties" "topic.prefix=viakafka" "offsets.file=$tmp/run.offsets" "transport=kafka" \
    "warehouse=$tmp/runwh" "merge.interval.ms=300" "kafka.session.timeout.ms=6000" "kafka.heartbeat.interval.ms=500" \
    "header.converter=json" "extended.headers.enabled=false"
if timeout 120 "$bin" run -c "$tmp/run.properties" --stop-at-end >"$tmp/run.out" 2>"$tmp/run.err"; then
    lake_equals_db "run transport=kafka: MariaDB → Kafka (topics created by the producer) → Delta equals the database" \
        "$tmp/runwh/salesdb/CUSTOMER"
else
    bad "run transport=kafka" "$(tail -n 4 "$tmp/run.err" | tr '\n' ' ')"
fi
my -e "UPDATE salesdb.CUSTOMER SET MKTSEGMENT='X' WHERE CUST_ID <= 10; DELETE FROM salesdb.CUSTOMER WHERE CUST_ID = 11"
my -e "UPDATE salesdb.CUSTOMER SET CUST_ID = 60014 WHERE CUST_ID = 14"
if timeout 120 "$bin" run -c "$tmp/run.properties" --stop-at-end >"$tmp/run2.out" 2>"$tmp/run2.err"; then
    lake_equals_db "run transport=kafka again: resumes from its offsets file (a key change among the changes), the lake equals the database" \
        "$tmp/runwh/salesdb/CUSTOMER"
else
    bad "run transport=kafka again" "$(tail -n 4 "$tmp/run2.err" | tr '\n' ' ')"
fi
kcat -b "$BOOT" -C -t viakafka.salesdb.CUSTOMER -o beginning -e -q -J 2>/dev/null >"$tmp/v.json"
if python3 - "$tmp/v.json" >"$tmp/vhdr.out" 2>&1 <<'EOF'; then
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for m in msgs:
    h = m.get("headers") or []
    assert not any(n.startswith("__debezium.context.") for n in h[0::2]), h  # extended.headers.enabled=false
    if h:
        by[h[0]] = (m, h)
d, dh = by["__debezium.newkey"]
c, ch = by["__debezium.oldkey"]
assert len(dh) == 2 and len(ch) == 2, (dh, ch)
assert json.loads(d["key"])["payload"] == {"CUST_ID": 14} and json.loads(c["key"])["payload"] == {"CUST_ID": 60014}
assert dh[1] == c["key"], (dh[1], c["key"])  # header.converter=json: the key bytes, envelope and all
assert ch[1] == d["key"], (ch[1], d["key"])
print("header.converter=json: __debezium.newkey is the create's key, __debezium.oldkey the delete's, byte for byte")
EOF
    ok "run headers: $(cat "$tmp/vhdr.out")"
else
    bad "run headers" "$(tail -n 3 "$tmp/vhdr.out" | tr '\n' ' ')"
fi

# the same, running: changes reach the lake through Kafka while it runs
"$bin" run -c "$tmp/run.properties" >"$tmp/run3.out" 2>"$tmp/run3.err" &
rp=$!
pids+=("$rp")
my -e "INSERT INTO salesdb.CUSTOMER VALUES (77777, 'live', 'BUILDING'); DELETE FROM salesdb.CUSTOMER WHERE CUST_ID = 12"
live() { "$bin" table scan "$tmp/runwh/salesdb/CUSTOMER" --format jsonl 2>/dev/null | grep -q '"CUST_ID":77777'; }
if wait_for 60 live; then
    ok "run transport=kafka (running): an insert reaches the lake through Kafka"
else
    bad "run transport=kafka (running)" "77777 not in the lake: $(tail -n 3 "$tmp/run3.err" | tr '\n' ' ')"
fi
kill -TERM "$rp"
wait "$rp"
st=$?
[ "$st" = 0 ] && ok "run transport=kafka: SIGTERM stops it cleanly" || bad "run SIGTERM" "exit status $st"
lake_equals_db "run transport=kafka (running): the lake equals the database" "$tmp/runwh/salesdb/CUSTOMER"

# ---- topic creation through the admin API ------------------------------------------------------------
mock_stop
if ! mock_start -a -b 3 -t "made.salesdb.ORDERS:2"; then
    bad "topics: mock cluster with the admin front" "did not start: $(head -n 3 "$tmp/mock.err")"
    finish
fi
props "$tmp/cap.properties" "topic.prefix=made" "offsets.file=$tmp/made.offsets" \
    "topic.creation.default.partitions=5" "topic.creation.default.replication.factor=2" \
    "topic.creation.default.cleanup.policy=compact" "topic.creation.default.retention.ms=86400000"
if capture_end "topics: capture"; then
    kcat -b "$BOOT" -L -t made.salesdb.CUSTOMER 2>&1 | grep -o 'topic "made.salesdb.CUSTOMER" with [0-9]* partitions' >"$tmp/l1"
    kcat -b "$BOOT" -L -t made.salesdb.ORDERS 2>&1 | grep -o 'topic "made.salesdb.ORDERS" with [0-9]* partitions' >"$tmp/l2"
    n=$(kcat -b "$BOOT" -C -t made.salesdb.CUSTOMER -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l)
    rows=$(my -e "SELECT COUNT(*) FROM salesdb.CUSTOMER")
    if grep -q 'with 5 partitions' "$tmp/l1" && grep -q 'with 2 partitions' "$tmp/l2" && [ "$n" = "$rows" ] &&
        grep -q 'CreateTopics made.salesdb.CUSTOMER partitions=5 replication=2 configs=cleanup.policy=compact,retention.ms=86400000: NO_ERROR' "$tmp/mock.err" &&
        grep -q 'CreateTopics made.salesdb.ORDERS .*TOPIC_ALREADY_EXISTS' "$tmp/mock.err"; then
        # (the mock lists every broker as a replica: the factor asked for is in its log)
        ok "topics: kcat -L shows made.salesdb.CUSTOMER created with 5 partitions (replication factor 2 and its configs in the request), the existing ORDERS topic kept at 2 partitions, $n snapshot messages"
    else
        bad "topics" "$(cat "$tmp/l1" "$tmp/l2" | tr '\n' ' ') messages=$n rows=$rows $(grep CreateTopics "$tmp/mock.err" | tr '\n' ' ')"
    fi
fi
mock_cmd deny refused.salesdb.CUSTOMER
props "$tmp/cap.properties" "topic.prefix=refused" "offsets.file=$tmp/refused.offsets" \
    "topic.creation.default.partitions=-1" "topic.creation.default.replication.factor=-1"
if timeout 120 "$bin" capture -c "$tmp/cap.properties" --stop-at-end >"$tmp/ref.out" 2>"$tmp/ref.err"; then
    bad "topics: a refused creation" "capture succeeded"
elif grep -q 'refused.salesdb.CUSTOMER' "$tmp/ref.err" && grep -q 'POLICY_VIOLATION' "$tmp/ref.err"; then
    ok "topics: a refused creation stops capture with an error naming the topic: $(grep -o 'creating topic refused.salesdb.CUSTOMER.*' "$tmp/ref.err" | head -n 1)"
else
    bad "topics: a refused creation" "$(tail -n 2 "$tmp/ref.err" | tr '\n' ' ')"
fi
props "$tmp/cap.properties" "topic.prefix=half" "topic.creation.default.partitions=3"
if timeout 60 "$bin" capture -c "$tmp/cap.properties" --stop-at-end >"$tmp/half.out" 2>"$tmp/half.err"; then
    bad "topics: partitions without replication.factor" "capture succeeded"
elif grep -q 'topic.creation.default.replication.factor' "$tmp/half.err"; then
    ok "topics: topic.creation.default.partitions alone is a configuration error naming replication.factor"
else
    bad "topics: partitions without replication.factor" "$(tail -n 2 "$tmp/half.err" | tr '\n' ' ')"
fi

finish
