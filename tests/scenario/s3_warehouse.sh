#!/usr/bin/env bash
# s3_warehouse.sh — lakesync on s3:// locations (issue 7), against an
# S3-protocol server on 127.0.0.1: the image's moto server, started here on a
# free port, or the endpoint named by LAKESYNC_TEST_S3_ENDPOINT (credentials
# from the environment as usual; bucket LAKESYNC_TEST_S3_BUCKET, default
# lakesync-test; everything goes under a fresh prefix, deleted at the end).
#   (a) the merge walkthrough (merge_walkthrough.sh with its raw zones and
#       tables under s3://) passes the same checks as on a local directory;
#       `merge --warehouse` into s3:// gives the table a local merge of the
#       same raw zone gives;
#   (b) `lakesync sql --warehouse s3://…` answers queries (joins, time
#       travel, .tables) exactly as on a local copy of the warehouse, and
#       s3.endpoint / s3.region / s3.path.style.access from --config reach
#       the store;
#   (c) `lakesync table describe/history/files/scan/optimize/checkpoint/
#       vacuum` on an s3:// table do what they do on its local twin;
#   (d) through tests/tools/s3_fault_proxy.py (500/503, connections reset
#       before and after the request is applied, cut-off answers, delays at
#       random): merges, optimize, checkpoint and vacuum still end with the
#       right tables, nothing applied twice, no partial objects and a valid
#       log; a missing bucket fails at once naming the bucket and
#       NoSuchBucket; a server that ignores If-None-Match is refused unless a
#       single writer is declared;
#   (e) 4 processes committing to one table end with contiguous versions and
#       every row once: against LAKESYNC_TEST_S3_ENDPOINT, else against a
#       second moto serving one request at a time (tests/tools/moto_serial.py:
#       moto_server's threads make its If-None-Match check racy).
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
tools=$(dirname "$bin")/tools
. tests/scenario/lib_report.bash

for need in "$bin" "$tools/store_tool" "$tools/delta_stress"; do
    if [ ! -x "$need" ]; then
        skipped s3_warehouse "$need not built (make && make tests)"
        finish
    fi
done
moto=$(command -v moto_server || true)
[ -z "$moto" ] && [ -x /root/.pyenv/shims/moto_server ] && moto=/root/.pyenv/shims/moto_server
external=${LAKESYNC_TEST_S3_ENDPOINT:-}
if [ -z "$external" ] && [ -z "$moto" ]; then
    skipped s3_warehouse "no S3 server (moto_server not found and LAKESYNC_TEST_S3_ENDPOINT unset)"
    finish
fi
if ! command -v python3 >/dev/null; then
    skipped s3_warehouse "python3 not found (the fault proxy and the port picker need it)"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_s3wh.XXXXXX") || exit 2
pids=()
base=""
cleanup() {
    if [ -n "$external" ] && [ -n "$base" ]; then
        "$tools/store_tool" rm "$base" >/dev/null 2>&1
    fi
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# copies, so a rebuild while the test runs does not pull them away
cp "$bin" "$tmp/lakesync" && cp "$tools/store_tool" "$tmp/store_tool" && cp "$tools/delta_stress" "$tmp/delta_stress" ||
    exit 2
build_bin=$bin
bin=$tmp/lakesync
st=$tmp/store_tool
stress=$tmp/delta_stress

# until_up PID CMD...: runs CMD until it succeeds (0) or PID is gone (1).
# No deadline: a helper that never comes up is ended by the runner's timeout.
until_up() {
    local pid=$1
    shift
    until "$@"; do
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the server -------------------------------------------------------------------------------

bucket=${LAKESYNC_TEST_S3_BUCKET:-lakesync-test}
if [ -n "$external" ]; then
    endpoint=$external
else
    # nothing from the caller's AWS configuration: moto takes any key
    for v in $(env | sed -n 's/^\(AWS_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret AWS_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=$tmp/none AWS_CONFIG_FILE=$tmp/none
    endpoint=""
    for attempt in 1 2 3; do
        port=$(free_port)
        "$moto" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
        mpid=$!
        if until_up "$mpid" curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            endpoint=http://127.0.0.1:$port
            pids+=("$mpid")
            break
        fi
        kill "$mpid" 2>/dev/null
        wait "$mpid" 2>/dev/null
    done
    if [ -z "$endpoint" ]; then
        bad "moto" "moto_server did not start: $(tail -n 3 "$tmp/moto.log" | tr '\n' ' ')"
        finish
    fi
fi
unset LAKESYNC_S3_SINGLE_WRITER LAKESYNC_S3_PATH_STYLE
export AWS_ENDPOINT_URL_S3=$endpoint
echo "# S3 server $endpoint${external:+ (LAKESYNC_TEST_S3_ENDPOINT)}, bucket $bucket"
if ! out=$("$st" mkbucket "s3://$bucket" 2>&1); then
    bad "bucket" "$out"
    finish
fi
base=s3://$bucket/lks-s3wh-$$-$(date +%s)

# scan_sorted TABLE OUT: the table's rows as sorted JSON lines
scan_sorted() {
    if "$bin" table scan "$1" --format jsonl >"$2.unsorted" 2>"$2.err"; then
        LC_ALL=C sort "$2.unsorted" >"$2"
    else
        echo "scan failed: $(head -n 2 "$2.err")" >"$2"
    fi
}
version_of() {
    "$bin" table describe "$1" 2>/dev/null | sed -n 's/^version: \([0-9]*\).*/\1/p'
}
# same NAME A B: two files with equal contents
same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        bad "$1" "$(diff "$2" "$3" | head -n 6 | tr '\n' ' ')"
    fi
}

cat >"$tmp/customer.sql" <<'EOF'
CREATE TABLE `CUSTOMER` (
  `CUST_ID` int(11) NOT NULL,
  `NAME` varchar(25) DEFAULT NULL,
  `MKTSEGMENT` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`CUST_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
EOF

# ---- (a) the merge walkthrough ----------------------------------------------------------------

walk=$base/walk
LKS_WALK_ROOT=$walk LAKESYNC_BIN=$build_bin tests/scenario/merge_walkthrough.sh >"$tmp/walk.out" 2>&1
walk_st=$?
sed -n 's/^ok /ok walkthrough on s3: /p; s/^FAIL /FAIL walkthrough on s3: /p; s/^     /     /p' "$tmp/walk.out"
summary=$(tail -n 1 "$tmp/walk.out")
if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    pass=$((pass + BASH_REMATCH[1]))
    fail=$((fail + BASH_REMATCH[2]))
    skip=$((skip + BASH_REMATCH[3]))
    [ "${BASH_REMATCH[1]}" -gt 0 ] || bad "walkthrough on s3" "nothing ran: $summary"
    [ "$walk_st" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || bad "walkthrough on s3" "exit status $walk_st"
else
    bad "walkthrough on s3" "no summary: $(tail -n 3 "$tmp/walk.out" | tr '\n' ' ')"
fi

# merge --warehouse from the s3 raw zone, and the same from a local copy of it
"$st" copy "$walk/cow/raw" "$tmp/raw" >/dev/null 2>"$tmp/copy.err" || bad "copy raw zone" "$(cat "$tmp/copy.err")"
merge_wh() { # FROM WH
    "$bin" merge --from "$1" --warehouse "$2" --key CUST_ID --batch-events 100 --once >"$tmp/mwh.out" 2>"$tmp/mwh.err"
}
if ! merge_wh "$walk/cow/raw" "$base/wh"; then
    bad "merge --warehouse s3://" "$(head -n 3 "$tmp/mwh.err" | tr '\n' ' ')"
elif ! merge_wh "$tmp/raw" "$tmp/wh"; then
    bad "merge --warehouse (local)" "$(head -n 3 "$tmp/mwh.err" | tr '\n' ' ')"
else
    scan_sorted "$base/wh/salesdb/CUSTOMER" "$tmp/wh_s3.scan"
    scan_sorted "$tmp/wh/salesdb/CUSTOMER" "$tmp/wh_local.scan"
    scan_sorted "$walk/cow/customer" "$tmp/walk_cow.scan"
    if [ "$(wc -l <"$tmp/wh_s3.scan")" -ne 303 ]; then
        bad "merge --warehouse s3://" "$(wc -l <"$tmp/wh_s3.scan") rows, expected 303"
    else
        same "merge --warehouse s3:// equals the same merge into a local warehouse" "$tmp/wh_s3.scan" "$tmp/wh_local.scan"
        same "merge --warehouse s3:// equals the walkthrough's table" "$tmp/wh_s3.scan" "$tmp/walk_cow.scan"
    fi
fi

# ---- (b) SQL on the s3 warehouse and on a local copy -----------------------------------------

"$st" copy "$walk" "$tmp/walk" >/dev/null 2>"$tmp/copy.err" || bad "copy warehouse" "$(cat "$tmp/copy.err")"
queries=(
    "SELECT count(*), min(CUST_ID), max(CUST_ID), sum(CUST_ID) FROM cow.customer"
    "SELECT MKTSEGMENT, count(*) AS n FROM dv.customer GROUP BY 1 ORDER BY 1"
    "SELECT c.CUST_ID, c.NAME, d.MKTSEGMENT FROM cow.customer c JOIN dv.customer d USING (CUST_ID) WHERE c.CUST_ID % 37 = 0 OR c.CUST_ID > 8000 ORDER BY 1"
    "SELECT * FROM cow.customer(2) WHERE CUST_ID > 8000 ORDER BY CUST_ID"
    "SELECT CUST_ID, NAME, _version FROM dv.customer WHERE _version = 1 AND CUST_ID >= 8887 ORDER BY 1"
    "SELECT count(*) FROM dv.customer WHERE NAME LIKE '%updated%'"
)
for q in "${queries[@]}"; do
    "$bin" sql --warehouse "$walk" --format csv "$q" >"$tmp/q_s3" 2>&1
    s3_st=$?
    "$bin" sql --warehouse "$tmp/walk" --format csv "$q" >"$tmp/q_local" 2>&1
    if [ $s3_st -ne 0 ] || [ ! -s "$tmp/q_s3" ]; then
        bad "sql on s3: $q" "$(head -n 3 "$tmp/q_s3" | tr '\n' ' ')"
    else
        same "sql on s3 as on a local copy ($(($(wc -l <"$tmp/q_s3") - 1)) rows): $q" "$tmp/q_s3" "$tmp/q_local"
    fi
done
printf '.tables\n' | "$bin" sql --warehouse "$walk" >"$tmp/t_s3" 2>&1
printf '.tables\n' | "$bin" sql --warehouse "$tmp/walk" >"$tmp/t_local" 2>&1
if grep -q "cow.customer" "$tmp/t_s3"; then
    same "sql .tables on s3 as on a local copy" "$tmp/t_s3" "$tmp/t_local"
else
    bad "sql .tables on s3" "$(head -n 3 "$tmp/t_s3" | tr '\n' ' ')"
fi
# the s3.* properties of a configuration file reach the store
cat >"$tmp/s3.properties" <<EOF
warehouse=$walk
s3.endpoint=$endpoint
s3.region=${AWS_REGION:-us-east-1}
s3.path.style.access=true
EOF
if out=$(env -u AWS_ENDPOINT_URL_S3 -u AWS_ENDPOINT_URL AWS_EC2_METADATA_DISABLED=true \
    "$bin" sql --config "$tmp/s3.properties" --format csv "SELECT count(*) FROM cow.customer" 2>&1) &&
    [ "$(echo "$out" | tail -n 1)" = 303 ]; then
    ok "sql --config with s3.endpoint, s3.region, s3.path.style.access"
else
    bad "sql --config with s3.* properties" "$(echo "$out" | head -n 3 | tr '\n' ' ')"
fi

# ---- (c) table maintenance on an s3 table and its local twin ----------------------------------

ts3=$base/wh/salesdb/CUSTOMER tloc=$tmp/wh/salesdb/CUSTOMER
for cmd in "history" "files --format jsonl"; do
    # history and files name times and random file names: compare their shape
    # shellcheck disable=SC2086
    "$bin" table $cmd "$ts3" >"$tmp/c_s3" 2>&1 || bad "table $cmd on s3" "$(head -n 3 "$tmp/c_s3" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    "$bin" table $cmd "$tloc" >"$tmp/c_local" 2>&1
    if [ "$cmd" = history ]; then
        awk '{print $1, $3, $4, $5, $6}' "$tmp/c_s3" >"$tmp/c_s3.shape"
        awk '{print $1, $3, $4, $5, $6}' "$tmp/c_local" >"$tmp/c_local.shape"
    else
        sed 's/"path":"[^"]*",//; s/"size":[0-9]*,//' "$tmp/c_s3" | LC_ALL=C sort >"$tmp/c_s3.shape"
        sed 's/"path":"[^"]*",//; s/"size":[0-9]*,//' "$tmp/c_local" | LC_ALL=C sort >"$tmp/c_local.shape"
    fi
    same "table $cmd on s3 as on the local twin ($(wc -l <"$tmp/c_s3") lines)" "$tmp/c_s3.shape" "$tmp/c_local.shape"
done
describe_shape() { # TABLE: describe without the location, times, id and byte counts
    "$bin" table describe "$1" 2>&1 | grep -v '^table: \|^id: ' | sed 's/ (20[0-9T:.Z-]*)//; s/[0-9]* bytes, //'
}
describe_shape "$ts3" >"$tmp/d_s3"
describe_shape "$tloc" >"$tmp/d_local"
if grep -q "^version: " "$tmp/d_s3"; then
    same "table describe on s3 as on the local twin" "$tmp/d_s3" "$tmp/d_local"
else
    bad "table describe on s3" "$(head -n 3 "$tmp/d_s3" | tr '\n' ' ')"
fi
# optimize, checkpoint, vacuum: the same outcome, the same rows
maint() { # NAME ARGS...: on both tables, outputs compared without byte counts
    local name=$1
    shift
    if ! "$bin" table "$1" "$ts3" "${@:2}" >"$tmp/m_s3" 2>&1; then
        bad "table $name on s3" "$(head -n 3 "$tmp/m_s3" | tr '\n' ' ')"
        return
    fi
    "$bin" table "$1" "$tloc" "${@:2}" >"$tmp/m_local" 2>&1
    sed 's/[0-9]* bytes//g; s/part-[^ ]*parquet/FILE/' "$tmp/m_s3" | LC_ALL=C sort >"$tmp/m_s3.shape"
    sed 's/[0-9]* bytes//g; s/part-[^ ]*parquet/FILE/' "$tmp/m_local" | LC_ALL=C sort >"$tmp/m_local.shape"
    same "table $name on s3 as on the local twin: $(tail -n 1 "$tmp/m_s3")" "$tmp/m_s3.shape" "$tmp/m_local.shape"
}
maint optimize optimize
maint checkpoint checkpoint
maint "vacuum --dry-run" vacuum --retain 0 --force --dry-run
maint vacuum vacuum --retain 0 --force
scan_sorted "$ts3" "$tmp/after_s3.scan"
scan_sorted "$tloc" "$tmp/after_local.scan"
same "table scan on s3 after optimize/checkpoint/vacuum as on the local twin" "$tmp/after_s3.scan" "$tmp/after_local.scan"
same "optimize/checkpoint/vacuum on s3 kept every row" "$tmp/after_s3.scan" "$tmp/wh_s3.scan"
# what is left in the bucket: the log, the checkpoint, the live files only
"$st" ls "$ts3" >"$tmp/ls" 2>&1
live=$("$bin" table describe "$ts3" 2>/dev/null | sed -n 's/^files: \([0-9]*\),.*/\1/p')
data=$(grep -c '^part-.*\.parquet ' "$tmp/ls")
if [ -n "$live" ] && [ "$data" -eq "$live" ] && grep -q "^_delta_log/_last_checkpoint " "$tmp/ls" &&
    grep -q "^_delta_log/[0-9]*\.checkpoint\.parquet " "$tmp/ls"; then
    ok "after vacuum the bucket holds $data data files (the $live live ones), the log and its checkpoint"
else
    bad "objects after vacuum" "$data data files for $live live ones: $(head -n 12 "$tmp/ls" | tr '\n' ' ')"
fi

# ---- (d) faults between lakesync and the server -----------------------------------------------

seed=${LKS_FAULT_SEED:-$RANDOM}
python3 tests/tools/s3_fault_proxy.py --target "$endpoint" --rate 0.2 --seed "$seed" --max-delay-ms 200 \
    >"$tmp/proxy.port" 2>"$tmp/proxy.err" &
pids+=($!)
proxy_pid=$!
python3 tests/tools/s3_fault_proxy.py --target "$endpoint" --rate 0 --strip-if-none-match \
    >"$tmp/lax.port" 2>"$tmp/lax.err" &
pids+=($!)
lax_pid=$!
# every conditional PUT applied and its answer lost (on a kept-alive
# connection libcurl then sends it again by itself): the 412 that follows
# must not be taken for someone else's object
python3 tests/tools/s3_fault_proxy.py --target "$endpoint" --rate 1 --kinds reset-after --conditional-once \
    >"$tmp/lost.port" 2>"$tmp/lost.err" &
pids+=($!)
until_up "$proxy_pid" test -s "$tmp/proxy.port"
until_up "$lax_pid" test -s "$tmp/lax.port"
until_up "${pids[-1]}" test -s "$tmp/lost.port"
proxy=http://127.0.0.1:$(head -n 1 "$tmp/proxy.port")
lax=http://127.0.0.1:$(head -n 1 "$tmp/lax.port")
lost=http://127.0.0.1:$(head -n 1 "$tmp/lost.port")
echo "# fault proxy $proxy, seed $seed (LKS_FAULT_SEED=$seed repeats it)"
faulty() { AWS_ENDPOINT_URL_S3=$proxy "$@"; }

fbase=$base/faulty
for kind in cow dv; do
    if [ $kind = cow ]; then
        margs=(--schema "$tmp/customer.sql")
    else
        margs=(--table-property delta.enableDeletionVectors=true)
    fi
    t=$fbase/$kind
    if ! faulty "$bin" merge --from "$walk/$kind/raw" --to "$t" --batch-events 40 --once "${margs[@]}" \
        >"$tmp/fm.out" 2>"$tmp/fm.err"; then
        bad "$kind: merge through faults" "$(grep -v ' warn: ' "$tmp/fm.err" | head -n 3 | tr '\n' ' ')"
        continue
    fi
    scan_sorted "$t" "$tmp/f_$kind.scan"
    scan_sorted "$walk/$kind/customer" "$tmp/w_$kind.scan"
    same "$kind: merge through faults ($(grep -c '^batch:' "$tmp/fm.out") commits) equals the walkthrough's table" \
        "$tmp/f_$kind.scan" "$tmp/w_$kind.scan"
    v0=$(version_of "$t")
    if faulty "$bin" merge --from "$walk/$kind/raw" --to "$t" --once "${margs[@]}" >"$tmp/fm.out" 2>"$tmp/fm.err" &&
        grep -q "up to date" "$tmp/fm.out" && [ "$(version_of "$t")" = "$v0" ]; then
        ok "$kind: merging again through faults applies nothing twice (version $v0)"
    else
        bad "$kind: merge again through faults" "$(cat "$tmp/fm.out" "$tmp/fm.err" | head -n 3 | tr '\n' ' ')"
    fi
done
t=$fbase/lost
if AWS_ENDPOINT_URL_S3=$lost "$bin" merge --from "$walk/cow/raw" --to "$t" --batch-events 40 --once \
    --schema "$tmp/customer.sql" >"$tmp/fm.out" 2>"$tmp/fm.err"; then
    scan_sorted "$t" "$tmp/f_lost.scan"
    scan_sorted "$walk/cow/customer" "$tmp/w_cow.scan"
    same "merge with every conditional PUT's answer lost ($(curl -s "$lost/__proxy/stats")) equals the walkthrough's table" \
        "$tmp/f_lost.scan" "$tmp/w_cow.scan"
else
    bad "merge with every conditional PUT's answer lost" "$(grep -v ' warn: ' "$tmp/fm.err" | head -n 3 | tr '\n' ' ')"
fi
# maintenance through faults
t=$fbase/cow
mok=1
for m in "optimize" "checkpoint" "vacuum --retain 0 --force"; do
    # shellcheck disable=SC2086
    if ! faulty "$bin" table $m "$t" >"$tmp/fmaint.out" 2>&1; then
        bad "table $m through faults" "$(grep -v ' warn: ' "$tmp/fmaint.out" | head -n 3 | tr '\n' ' ')"
        mok=0
    fi
done
if [ $mok = 1 ]; then
    scan_sorted "$t" "$tmp/f_after.scan"
    same "optimize, checkpoint and vacuum through faults keep every row" "$tmp/f_after.scan" "$tmp/w_cow.scan"
fi
# no partial objects, a valid log
if out=$("$st" verify "$fbase" 2>&1); then
    ok "no partial objects after the faults: $out"
else
    bad "objects after the faults" "$(echo "$out" | head -n 5 | tr '\n' ' ')"
fi
"$st" copy "$fbase" "$tmp/faulty" >/dev/null 2>&1
for kind in cow dv lost; do
    if out=$("$st" validate "$tmp/faulty/$kind" 2>&1); then
        ok "$kind: the log written through faults is valid"
    else
        bad "$kind: log written through faults" "$out"
    fi
done
stats=$(curl -s "$proxy/__proxy/stats")
nfault=$(echo "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(v for k, v in d.items() if k not in ("requests", "forwarded")))')
if [ "${nfault:-0}" -gt 0 ]; then
    ok "the proxy put faults in $nfault requests: $stats"
else
    bad "fault proxy" "no fault injected: $stats"
fi

# a permanent error fails at once, naming the bucket and the S3 error
nb=lakesync-no-such-bucket-$$
for via in direct proxy; do
    ep=$endpoint
    [ $via = proxy ] && ep=$proxy
    for c in "table describe s3://$nb/t" "merge --from $walk/cow/raw --to s3://$nb/t --once"; do
        # shellcheck disable=SC2086
        AWS_ENDPOINT_URL_S3=$ep "$bin" $c >"$tmp/nb.out" 2>&1
        rc=$?
        if [ $rc -ne 0 ] && grep -q "s3://$nb" "$tmp/nb.out" && grep -q "NoSuchBucket" "$tmp/nb.out" &&
            ! grep -q "tries)" "$tmp/nb.out"; then
            ok "missing bucket ($via): ${c%% s3*} fails at once: $(grep -m1 NoSuchBucket "$tmp/nb.out" | cut -c1-150)"
        else
            bad "missing bucket ($via): $c" "exit $rc: $(head -n 3 "$tmp/nb.out" | tr '\n' ' ')"
        fi
    done
done

# a server that ignores If-None-Match: no commit, unless a single writer is declared
if AWS_ENDPOINT_URL_S3=$lax "$bin" table create "$base/lax/t" --schema "id long" >"$tmp/lax.out" 2>&1; then
    bad "If-None-Match ignored" "the table was created: $(head -n 2 "$tmp/lax.out" | tr '\n' ' ')"
elif grep -q "If-None-Match" "$tmp/lax.out" && grep -q "s3.single.writer" "$tmp/lax.out"; then
    ok "a server that ignores If-None-Match is refused: $(grep -m1 If-None-Match "$tmp/lax.out" | cut -c1-120)..."
else
    bad "If-None-Match ignored" "unclear refusal: $(head -n 3 "$tmp/lax.out" | tr '\n' ' ')"
fi
if AWS_ENDPOINT_URL_S3=$lax LAKESYNC_S3_SINGLE_WRITER=1 "$bin" table create "$base/lax/t" --schema "id long" \
    >"$tmp/lax.out" 2>&1 && [ "$(version_of "$base/lax/t")" = 0 ]; then
    ok "with LAKESYNC_S3_SINGLE_WRITER=1 the single writer commits there"
else
    bad "single writer" "$(head -n 3 "$tmp/lax.out" | tr '\n' ' ')"
fi

# ---- (e) concurrent writers ----------------------------------------------------------------------

concurrent() { # LOCATION: 4 writers append to one table there, then the check
    local ct=$1 commits=10 out w p wst=0
    if ! out=$("$stress" create "$ct" 2>&1); then
        bad "concurrent writers" "create: $out"
        return
    fi
    local wp=()
    for w in 0 1 2 3; do
        "$stress" append "$ct" "$w" "$commits" 3 >"$tmp/w$w.out" 2>&1 &
        wp+=($!)
    done
    for p in "${wp[@]}"; do wait "$p" || wst=1; done
    rm -rf "$tmp/concurrent"
    "$st" copy "$ct" "$tmp/concurrent" >/dev/null 2>&1
    if [ $wst -ne 0 ]; then
        bad "concurrent writers" "a writer failed: $(cat "$tmp"/w*.out | head -n 3 | tr '\n' ' ')"
    elif out=$("$stress" check "$tmp/concurrent" 4 "$commits" 3 2>&1); then
        ok "4 concurrent writers on one s3 table${2:+ ($2)}: $out"
    else
        bad "concurrent writers" "$out"
    fi
}

if [ -n "$external" ]; then
    concurrent "$base/concurrent"
elif ! python3 -c 'import moto.server, werkzeug.serving' 2>/dev/null; then
    skipped "4 concurrent writers on one s3 table" "python3 cannot import moto (for a single-threaded moto: moto_server's threads make its If-None-Match check racy)"
else
    # moto_server's threads make its If-None-Match check racy (two winners of
    # one version were seen): a second moto, serving one request at a time
    sport=$(free_port)
    python3 tests/tools/moto_serial.py 127.0.0.1 "$sport" >"$tmp/moto_serial.log" 2>&1 &
    pids+=($!)
    until_up "${pids[-1]}" curl -s -o /dev/null "http://127.0.0.1:$sport/"
    if AWS_ENDPOINT_URL_S3=http://127.0.0.1:$sport "$st" mkbucket "s3://$bucket" >/dev/null 2>&1; then
        AWS_ENDPOINT_URL_S3=http://127.0.0.1:$sport concurrent "s3://$bucket/concurrent" "single-threaded moto"
    else
        bad "concurrent writers" "the single-threaded moto did not start: $(tail -n 3 "$tmp/moto_serial.log" | tr '\n' ' ')"
    fi
fi

finish
