#!/usr/bin/env bash
# merge_walkthrough.sh — the reference walkthrough (DESIGN.md §1, issue 4)
# through the raw zone: Debezium events for salesdb.CUSTOMER (CUST_ID, NAME,
# MKTSEGMENT) written in the Confluent S3 sink's layout, merged by
# `lakesync merge --once` after each step:
#   load    300 `r` snapshot rows, all with the same binlog file/pos (as
#           Debezium writes them), in two objects (flush.size 150)
#   step 1  insert 8887, 8888, 8889
#   step 2  update 8888 and 8889
#   step 3  delete 8887 (the delete event and its tombstone)
#   step 4  insert 9000
# Events with and without the {schema, payload} envelope are mixed in every
# step.  After each merge the table (`table scan --format jsonl`, sorted)
# must equal the expected table the script keeps, and so must the SELECT-like
# checks: COUNT(*) and the top 40 by CUST_ID descending.  Running the merge
# again with nothing new must commit nothing.
# Two tables: copy-on-write (types from a CREATE TABLE given with --schema,
# key from its PRIMARY KEY, schema-less snapshot rows) and deletion vectors
# (--table-property delta.enableDeletionVectors=true, no --schema, key from
# the stored Kafka keys, snapshot rows with the envelope).
# LKS_WALK_ROOT puts the raw zones and tables at <root>/{cow,dv}/{raw,customer}
# instead of a temporary directory: any location lakesync takes (s3://bucket/
# prefix: tests/scenario/s3_warehouse.sh), which must hold nothing yet; the
# raw objects then go up with build/tools/store_tool and stay there.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
pass=0 fail=0 skip=0
topic=salesdb-cdc.salesdb.CUSTOMER

if [ ! -x "$bin" ]; then
    echo "skip merge_walkthrough: $bin not built (make)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
store_tool=$(dirname "$bin")/tools/store_tool
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_mwalk.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
cp "$bin" "$tmp/lakesync" || exit 2 # a rebuild while the test runs must not pull it away
bin=$tmp/lakesync
root=${LKS_WALK_ROOT:-$tmp}
local_root=1
case "$root" in
file://*) root=${root#file://} ;;
*://*) local_root=0 ;;
esac
if [ "$local_root" = 0 ] && [ ! -x "$store_tool" ]; then
    echo "skip merge_walkthrough: $store_tool not built (make tests), needed for $root"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# ---- Debezium JSON ------------------------------------------------------------------------

row_schema() { # FIELD: the before/after struct schema
    printf '{"type":"struct","fields":[{"type":"int32","optional":false,"field":"CUST_ID"},{"type":"string","optional":true,"field":"NAME"},{"type":"string","optional":true,"field":"MKTSEGMENT"}],"optional":true,"name":"%s.Value","field":"%s"}' "$topic" "$1"
}
ENV_SCHEMA="{\"type\":\"struct\",\"fields\":[$(row_schema before),$(row_schema after),{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"true,last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},{\"type\":\"string\",\"optional\":true,\"field\":\"table\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"server_id\"},{\"type\":\"string\",\"optional\":true,\"field\":\"gtid\"},{\"type\":\"string\",\"optional\":false,\"field\":\"file\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"},{\"type\":\"int32\",\"optional\":false,\"field\":\"row\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"thread\"},{\"type\":\"string\",\"optional\":true,\"field\":\"query\"}],\"optional\":false,\"name\":\"io.debezium.connector.mysql.Source\",\"field\":\"source\"},{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"$topic.Envelope\"}"
KEY_SCHEMA="{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"CUST_ID\"}],\"optional\":false,\"name\":\"$topic.Key\"}"

row() { # ID NAME SEG
    printf '{"CUST_ID":%d,"NAME":"%s","MKTSEGMENT":"%s"}' "$1" "$2" "$3"
}
# event ENVELOPE OP BEFORE AFTER POS SNAPSHOT ROW: one record value line
event() {
    local payload
    payload=$(printf '{"before":%s,"after":%s,"source":{"version":"2.5.0.Final","connector":"mysql","name":"salesdb-cdc","ts_ms":1700000000000,"snapshot":"%s","db":"salesdb","sequence":null,"table":"CUSTOMER","server_id":1,"gtid":null,"file":"mysql-bin.000003","pos":%d,"row":%d,"thread":null,"query":null},"op":"%s","ts_ms":1700000000100}' \
        "$3" "$4" "$6" "$5" "$7" "$2")
    if [ "$1" = 1 ]; then
        printf '{"schema":%s,"payload":%s}\n' "$ENV_SCHEMA" "$payload"
    else
        printf '%s\n' "$payload"
    fi
}
key() { # ENVELOPE ID
    if [ "$1" = 1 ]; then
        printf '{"schema":%s,"payload":{"CUST_ID":%d}}\n' "$KEY_SCHEMA" "$2"
    else
        printf '{"CUST_ID":%d}\n' "$2"
    fi
}

# ---- the expected table -------------------------------------------------------------------

declare -A exp
expected_jsonl() {
    local id
    for id in "${!exp[@]}"; do
        printf '%s\n' "${exp[$id]}"
    done | LC_ALL=C sort
}

# check_table NAME TABLE: the table equals exp (rows, count, top 40)
check_table() {
    local name=$1 t=$2
    if ! "$bin" table scan "$t" --format jsonl >"$tmp/scan" 2>"$tmp/scan.err"; then
        bad "$name" "table scan failed: $(head -n 3 "$tmp/scan.err")"
        return
    fi
    LC_ALL=C sort "$tmp/scan" >"$tmp/got"
    expected_jsonl >"$tmp/want"
    if ! cmp -s "$tmp/got" "$tmp/want"; then
        bad "$name" "table differs from the expected table: $(diff "$tmp/want" "$tmp/got" | head -n 8 | tr '\n' ' ')"
        return
    fi
    local n want_n
    n=$(wc -l <"$tmp/scan")
    want_n=${#exp[@]}
    if [ "$n" -ne "$want_n" ]; then
        bad "$name" "COUNT(*) $n, expected $want_n"
        return
    fi
    # SELECT * FROM customer ORDER BY cust_id DESC LIMIT 40
    sed 's/^{"CUST_ID":\([0-9]*\),.*/\1 &/' "$tmp/scan" | sort -k1,1nr | head -n 40 | cut -d' ' -f2- >"$tmp/top_got"
    sed 's/^{"CUST_ID":\([0-9]*\),.*/\1 &/' "$tmp/want" | sort -k1,1nr | head -n 40 | cut -d' ' -f2- >"$tmp/top_want"
    if ! cmp -s "$tmp/top_got" "$tmp/top_want"; then
        bad "$name" "top 40 by CUST_ID desc differs"
        return
    fi
    ok "$name ($n rows, top CUST_ID $(head -n 1 "$tmp/top_got" | sed 's/^{"CUST_ID":\([0-9]*\),.*/\1/'))"
}

version_of() {
    "$bin" table describe "$1" 2>/dev/null | sed -n 's/^version: \([0-9]*\).*/\1/p'
}

# merge_once NAME RAW TABLE ARGS...: one `merge --once`, must succeed
merge_once() {
    local name=$1 raw=$2 t=$3
    shift 3
    if ! "$bin" merge --from "$raw" --to "$t" --once "$@" >"$tmp/merge.out" 2>"$tmp/merge.err"; then
        bad "$name" "merge failed: $(head -n 5 "$tmp/merge.err" | tr '\n' ' ')"
        return 1
    fi
    return 0
}

# idle_merge NAME RAW TABLE ARGS...: a merge with nothing new commits nothing
idle_merge() {
    local name=$1 raw=$2 t=$3 v0 v1
    shift 3
    v0=$(version_of "$t")
    merge_once "$name" "$raw" "$t" "$@" || return
    v1=$(version_of "$t")
    if [ "$v0" != "$v1" ]; then
        bad "$name" "a merge with nothing new went from version $v0 to $v1"
    elif ! grep -q "up to date" "$tmp/merge.out"; then
        bad "$name" "expected 'up to date', got: $(head -n 2 "$tmp/merge.out")"
    else
        ok "$name (version $v1)"
    fi
}

# put_object RAW START FILE [KEYFILE]: publish one object of partition 0
put_object() {
    local d="$1/topics/$topic/partition=0" name
    name=$(printf '%s+0+%010d' "$topic" "$2")
    if [ "$local_root" = 0 ]; then
        "$store_tool" put "$1" "topics/$topic/partition=0/$name.json" "$3" >/dev/null || return 1
        if [ -n "${4:-}" ]; then
            "$store_tool" put "$1" "topics/$topic/partition=0/$name.keys.json" "$4" >/dev/null || return 1
        fi
        return 0
    fi
    mkdir -p "$d"
    cp "$3" "$d/$name.json.tmp" && mv "$d/$name.json.tmp" "$d/$name.json"
    if [ -n "${4:-}" ]; then
        cp "$4" "$d/$name.keys.json.tmp" && mv "$d/$name.keys.json.tmp" "$d/$name.keys.json"
    fi
}

# ---- one walkthrough ----------------------------------------------------------------------

# walkthrough LABEL KEYS(0|1) LOAD_ENVELOPE(0|1) MERGE_ARGS...
walkthrough() {
    local label=$1 with_keys=$2 load_env=$3
    shift 3
    local raw=$root/$label/raw t=$root/$label/customer off=0 i
    local margs=("$@")
    [ "$local_root" = 0 ] || mkdir -p "$raw"
    exp=()
    local vals=$tmp/vals keys=$tmp/keys
    # --- initial load: 300 `r` rows, same file/pos, two objects of 150
    for part in 0 1; do
        # one awk for the 150 rows (forks are slow): the same lines event/key write
        awk -v env="$load_env" -v from=$((part * 150 + 1)) -v to=$((part * 150 + 150)) \
            -v es="$ENV_SCHEMA" -v ks="$KEY_SCHEMA" -v vals="$vals" -v keys="$keys" -v rows="$tmp/rows" '
            BEGIN {
                split("MACHINERY AUTOMOBILE BUILDING FURNITURE HOUSEHOLD", seg, " ")
                for (i = from; i <= to; i++) {
                    snap = i == 1 ? "first" : i == 300 ? "last" : "true"
                    r = sprintf("{\"CUST_ID\":%d,\"NAME\":\"Customer#%09d\",\"MKTSEGMENT\":\"%s\"}", i, i, seg[i % 5 + 1])
                    p = sprintf("{\"before\":null,\"after\":%s,\"source\":{\"version\":\"2.5.0.Final\",\"connector\":\"mysql\",\"name\":\"salesdb-cdc\",\"ts_ms\":1700000000000,\"snapshot\":\"%s\",\"db\":\"salesdb\",\"sequence\":null,\"table\":\"CUSTOMER\",\"server_id\":1,\"gtid\":null,\"file\":\"mysql-bin.000003\",\"pos\":154,\"row\":0,\"thread\":null,\"query\":null},\"op\":\"r\",\"ts_ms\":1700000000100}", r, snap)
                    if (env == 1) {
                        print "{\"schema\":" es ",\"payload\":" p "}" > vals
                        print "{\"schema\":" ks ",\"payload\":{\"CUST_ID\":" i "}}" > keys
                    } else {
                        print p > vals
                        print "{\"CUST_ID\":" i "}" > keys
                    }
                    print i "\t" r > rows
                }
            }'
        while IFS=$'\t' read -r i r; do exp[$i]=$r; done <"$tmp/rows"
        if [ "$with_keys" = 1 ]; then put_object "$raw" "$off" "$vals" "$keys"; else put_object "$raw" "$off" "$vals"; fi
        off=$((off + 150))
    done
    merge_once "$label: initial load" "$raw" "$t" "$@" && check_table "$label: initial load (300 r events)" "$t"
    idle_merge "$label: merge again after the load" "$raw" "$t" "$@"

    # step helper: lines appended as "ENV|OP|BEFORE|AFTER|ID|POS"
    step() {
        local sname=$1
        shift
        : >"$vals"
        : >"$keys"
        local n0=$off spec env op b a id pos
        for spec in "$@"; do
            IFS='|' read -r env op b a id pos <<<"$spec"
            if [ "$op" = tomb ]; then
                echo null >>"$vals"
            else
                event "$env" "$op" "$b" "$a" "$pos" false 0 >>"$vals"
            fi
            key "$env" "$id" >>"$keys"
            off=$((off + 1))
        done
        if [ "$with_keys" = 1 ]; then put_object "$raw" "$n0" "$vals" "$keys"; else put_object "$raw" "$n0" "$vals"; fi
        merge_once "$label: $sname" "$raw" "$t" "${margs[@]}" && check_table "$label: $sname" "$t"
    }

    # --- step 1: inserts 8887..8889 (envelope, bare, envelope)
    local r8887 r8888 r8889 u8888 u8889 r9000
    r8887=$(row 8887 'Customer#000008887' BUILDING)
    r8888=$(row 8888 'Customer#000008888' FURNITURE)
    r8889=$(row 8889 'Customer#000008889' MACHINERY)
    exp[8887]=$r8887 exp[8888]=$r8888 exp[8889]=$r8889
    step "step 1: insert 8887-8889" "1|c|null|$r8887|8887|1000" "0|c|null|$r8888|8888|1300" "1|c|null|$r8889|8889|1600"
    idle_merge "$label: merge again after step 1" "$raw" "$t" "$@"

    # --- step 2: updates of 8888 (bare) and 8889 (envelope)
    u8888=$(row 8888 'Customer#000008888' HOUSEHOLD)
    u8889=$(row 8889 'Customer#000008889 (updated)' AUTOMOBILE)
    exp[8888]=$u8888 exp[8889]=$u8889
    step "step 2: update 8888 and 8889" "0|u|$r8888|$u8888|8888|2000" "1|u|$r8889|$u8889|8889|2300"
    if [ "$label" = dv ]; then
        if "$bin" table files "$t" --format jsonl 2>/dev/null | grep -q '"deleted_rows":2'; then
            ok "$label: the updates marked the old rows with a deletion vector"
        else
            bad "$label: deletion vectors" "no live file has 2 deleted rows after step 2"
        fi
    fi

    # --- step 3: delete 8887 (envelope delete, then the tombstone)
    unset 'exp[8887]'
    step "step 3: delete 8887" "1|d|$r8887|null|8887|2600" "0|tomb|||8887|0"

    # --- step 4: insert 9000 (bare)
    r9000=$(row 9000 'Customer#000009000' MACHINERY)
    exp[9000]=$r9000
    step "step 4: insert 9000" "0|c|null|$r9000|9000|2900"
    idle_merge "$label: merge again at the end" "$raw" "$t" "$@"
}

cat >"$tmp/customer.sql" <<'EOF'
-- salesdb.CUSTOMER as SHOW CREATE TABLE prints it
CREATE TABLE `CUSTOMER` (
  `CUST_ID` int(11) NOT NULL,
  `NAME` varchar(25) DEFAULT NULL COMMENT 'customer name, e.g. Customer#000000001',
  `MKTSEGMENT` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`CUST_ID`),
  KEY `idx_seg` (`MKTSEGMENT`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
EOF

# copy-on-write: CREATE TABLE schema, its primary key, schema-less load
walkthrough cow 0 0 --schema "$tmp/customer.sql"
if "$bin" table describe "$root/cow/customer" 2>/dev/null | grep -q "^protocol: reader 1, writer 2"; then
    ok "cow: table is copy-on-write (protocol 1/2)"
else
    bad "cow: protocol" "$("$bin" table describe "$root/cow/customer" 2>&1 | head -n 3 | tr '\n' ' ')"
fi

# deletion vectors: key from the stored Kafka keys, load with the envelope
walkthrough dv 1 1 --table-property delta.enableDeletionVectors=true
if "$bin" table describe "$root/dv/customer" 2>/dev/null | grep -q "deletionVectors"; then
    ok "dv: table has the deletionVectors feature"
else
    bad "dv: protocol" "$("$bin" table describe "$root/dv/customer" 2>&1 | head -n 3 | tr '\n' ' ')"
fi
# the positions are txn actions of the table
if "$bin" table describe "$root/dv/customer" 2>/dev/null | grep -q "application lakesync:$topic:0: version 308"; then
    ok "dv: position lakesync:$topic:0 is 308 (the next offset)"
else
    bad "dv: position" "$("$bin" table describe "$root/dv/customer" 2>&1 | grep application | tr '\n' ' ')"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
