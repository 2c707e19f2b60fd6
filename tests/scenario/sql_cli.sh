#!/usr/bin/env bash
# sql_cli.sh — `lakesync sql` over warehouses (issue 5).
#
# Builds, with lakesync itself:
#   wh/salesdb/CUSTOMER   `lakesync merge --warehouse` of a small raw zone
#                         (Debezium events, schema-less, --schema CREATE
#                         TABLE): 300 snapshot rows (one version), then 3
#                         inserts and a delete (a later version)
#   wh/gen/plain, wh/gen/dv  tests/tools/delta_gen's many-type tables with
#                         several versions, deletion vectors, a checkpoint
#   many/db01..db12/CUSTOMER  copies of CUSTOMER: 12 databases (more than
#                         SQLite's 10 ATTACHed ones), `customer` ambiguous
# and checks the reference queries (SELECT * FROM customer ORDER BY cust_id
# DESC LIMIT 40, SELECT COUNT(*) FROM customer) against the rows `lakesync
# table scan` reads, through db.table and bare names; formats; time travel
# (--as-of, table(version), _version); SELECT * of every delta_gen version
# equal to the scan; the interactive shell on a pipe; errors (ambiguous and
# unknown tables, malformed SQL, bad --as-of): a clear message, exit status
# non-zero.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
gen=build/tools/delta_gen
pass=0 fail=0 skip=0
topic=salesdb-cdc.salesdb.CUSTOMER

if [ ! -x "$bin" ]; then
    echo "skip sql_cli: $bin not built (make)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_sqlcli.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
cp "$bin" "$tmp/lakesync" || exit 2
bin=$tmp/lakesync

ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
oneline() { head -c 400 "$1" | tr '\n' ' '; }

# sql NAME ARGS...: runs `lakesync sql ARGS`, output in $tmp/out and $tmp/err,
# status in $rc
sql() {
    "$bin" sql "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
}
# expect_ok NAME: the last sql call succeeded
expect_ok() {
    if [ "$rc" -ne 0 ]; then
        bad "$1" "exit $rc: $(oneline "$tmp/err")"
        return 1
    fi
    return 0
}
# expect_fail NAME PATTERN: the last sql call failed with PATTERN on stderr
expect_fail() {
    if [ "$rc" -eq 0 ]; then
        bad "$1" "exit 0, expected a failure; stdout: $(oneline "$tmp/out")"
    elif [ "$rc" -gt 2 ]; then
        bad "$1" "exit $rc (crash?): $(oneline "$tmp/err")"
    elif ! grep -q "^lakesync sql: .*$2" "$tmp/err"; then
        bad "$1" "exit $rc, stderr lacks '$2': $(oneline "$tmp/err")"
    else
        ok "$1 (exit $rc: $(head -n 1 "$tmp/err" | cut -c 1-110))"
    fi
}

# ---- the warehouse --------------------------------------------------------------------------

wh=$tmp/wh
raw=$tmp/raw
mkdir -p "$wh" "$raw/topics/$topic/partition=0"
cat >"$tmp/customer.sql" <<'EOF'
CREATE TABLE `CUSTOMER` (
  `CUST_ID` int(11) NOT NULL,
  `NAME` varchar(25) DEFAULT NULL,
  `MKTSEGMENT` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`CUST_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
EOF
# event OP ID SEG POS: one schema-less Debezium value
events() {
    awk -v ops="$1" -v from="$2" -v to="$3" -v pos="$4" 'BEGIN {
        split("MACHINERY AUTOMOBILE BUILDING FURNITURE HOUSEHOLD", seg, " ")
        for (i = from; i <= to; i++) {
            r = sprintf("{\"CUST_ID\":%d,\"NAME\":\"Customer#%09d\",\"MKTSEGMENT\":\"%s\"}", i, i, seg[i % 5 + 1])
            b = ops == "d" ? r : "null"; a = ops == "d" ? "null" : r
            printf "{\"before\":%s,\"after\":%s,\"source\":{\"version\":\"2.5.0.Final\",\"connector\":\"mysql\",\"name\":\"salesdb-cdc\",\"ts_ms\":1700000000000,\"snapshot\":\"%s\",\"db\":\"salesdb\",\"table\":\"CUSTOMER\",\"server_id\":1,\"file\":\"mysql-bin.000003\",\"pos\":%d,\"row\":0},\"op\":\"%s\",\"ts_ms\":1700000000100}\n", b, a, ops == "r" ? "true" : "false", pos + i, ops
        }
    }'
}
put_object() { # START FILE
    local d="$raw/topics/$topic/partition=0" name
    name=$(printf '%s+0+%010d' "$topic" "$1")
    cp "$2" "$d/$name.json.tmp" && mv "$d/$name.json.tmp" "$d/$name.json"
}
merge() {
    if ! "$bin" merge --from "$raw" --warehouse "$wh" --topic "$topic" --once --schema "$tmp/customer.sql" >"$tmp/merge.out" 2>"$tmp/merge.err"; then
        bad "setup: merge" "$(oneline "$tmp/merge.err")"
        echo "$pass passed, $fail failed, $skip skipped"
        exit 1
    fi
}
version_of() {
    "$bin" table describe "$1" 2>/dev/null | sed -n 's/^version: \([0-9]*\).*/\1/p'
}

events r 1 300 154 >"$tmp/ev" && put_object 0 "$tmp/ev"
merge
v_load=$(version_of "$wh/salesdb/CUSTOMER")
{ events c 8887 8889 1000 && events d 10 10 2000; } >"$tmp/ev" && put_object 300 "$tmp/ev"
merge
v_last=$(version_of "$wh/salesdb/CUSTOMER")
if [ -z "$v_load" ] || [ -z "$v_last" ] || [ "$v_load" = "$v_last" ]; then
    bad "setup" "expected two versions of salesdb/CUSTOMER, got '$v_load' and '$v_last'"
fi

have_gen=0
if [ -x "$gen" ] && "$gen" build "$wh/gen" >"$tmp/gen.out" 2>&1; then
    have_gen=1
else
    skip=$((skip + 1))
    echo "skip delta_gen tables: $gen not built or failed (make tests)"
fi

# ---- reference queries ------------------------------------------------------------------------

"$bin" table scan "$wh/salesdb/CUSTOMER" --format jsonl >"$tmp/scan" 2>/dev/null
want_n=$(wc -l <"$tmp/scan")
sed 's/^{"CUST_ID":\([0-9]*\),.*/\1 &/' "$tmp/scan" | sort -k1,1nr | head -n 40 | cut -d' ' -f2- >"$tmp/top_want"
if [ "$want_n" -ne 302 ]; then
    bad "setup: table scan" "expected 302 rows (300 + 3 - 1), got $want_n"
fi

for name in customer CUSTOMER salesdb.customer SalesDB.Customer '"salesdb"."CUSTOMER"'; do
    sql --warehouse "$wh" "SELECT * FROM $name ORDER BY cust_id DESC LIMIT 40"
    if expect_ok "top 40 via $name"; then
        if cmp -s "$tmp/out" "$tmp/top_want"; then
            ok "SELECT * FROM $name ORDER BY cust_id DESC LIMIT 40: the scan's top 40 ($(head -c 60 "$tmp/out")…)"
        else
            bad "top 40 via $name" "differs from the scan: $(diff "$tmp/top_want" "$tmp/out" | head -n 4 | tr '\n' ' ')"
        fi
    fi
    sql --warehouse "$wh" "SELECT COUNT(*) FROM $name"
    if expect_ok "count via $name"; then
        if [ "$(cat "$tmp/out")" = "{\"COUNT(*)\":$want_n}" ]; then
            ok "SELECT COUNT(*) FROM $name = $want_n"
        else
            bad "count via $name" "got $(oneline "$tmp/out"), expected $want_n"
        fi
    fi
done

# all rows, compared with the scan as sets
sql --warehouse "$wh" "SELECT * FROM salesdb.CUSTOMER"
if expect_ok "SELECT *"; then
    if cmp -s <(LC_ALL=C sort "$tmp/out") <(LC_ALL=C sort "$tmp/scan"); then
        ok "SELECT * FROM salesdb.CUSTOMER equals the scan ($want_n rows)"
    else
        bad "SELECT *" "differs from the scan"
    fi
fi

# table.column and db.table.column after FROM db.table
sql --warehouse "$wh" "SELECT customer.cust_id, salesdb.customer.name FROM salesdb.customer WHERE customer.cust_id = 8888"
if expect_ok "qualified columns"; then
    if [ "$(cat "$tmp/out")" = '{"CUST_ID":8888,"NAME":"Customer#000008888"}' ]; then
        ok "customer.cust_id and salesdb.customer.name after FROM salesdb.customer"
    else
        bad "qualified columns" "got $(oneline "$tmp/out")"
    fi
fi
# literals, quoted names and comments are not rewritten; aliases kept
sql --warehouse "$wh" "SELECT 'salesdb.customer' AS \"salesdb.customer\" /* salesdb.customer */ FROM salesdb.customer c -- salesdb.customer
WHERE c.cust_id = 1"
if expect_ok "literals"; then
    if [ "$(cat "$tmp/out")" = '{"salesdb.customer":"salesdb.customer"}' ]; then
        ok "string literals, quoted identifiers and comments untouched; alias c kept"
    else
        bad "literals" "got $(oneline "$tmp/out")"
    fi
fi
# several statements, a join, EXPLAIN QUERY PLAN
sql --warehouse "$wh" "SELECT COUNT(*) AS n FROM salesdb.customer WHERE mktsegment = 'BUILDING'; SELECT COUNT(*) AS n FROM customer a JOIN salesdb.customer b ON a.cust_id = b.cust_id"
if expect_ok "two statements" && [ "$(tr '\n' ' ' <"$tmp/out")" = '{"n":61} {"n":302} ' ]; then
    ok "two statements in one QUERY, a self-join"
else
    bad "two statements" "got $(oneline "$tmp/out")"
fi

# ---- formats ------------------------------------------------------------------------------------

sql --warehouse "$wh" --format csv "SELECT * FROM customer ORDER BY cust_id DESC LIMIT 40"
if expect_ok "csv" && [ "$(head -n 1 "$tmp/out")" = "CUST_ID,NAME,MKTSEGMENT" ] && [ "$(wc -l <"$tmp/out")" -eq 41 ] &&
    [ "$(sed -n 2p "$tmp/out")" = "8889,Customer#000008889,HOUSEHOLD" ]; then
    ok "--format csv: header and 40 rows"
else
    bad "csv" "$(head -n 3 "$tmp/out" | tr '\n' ' ')"
fi
sql --warehouse "$wh" --format table "SELECT * FROM customer ORDER BY cust_id DESC LIMIT 40"
if expect_ok "table" && [ "$(wc -l <"$tmp/out")" -eq 42 ] && head -n 1 "$tmp/out" | grep -q '^CUST_ID | NAME  *| MKTSEGMENT' &&
    sed -n 2p "$tmp/out" | grep -q '^--------+-' && sed -n 3p "$tmp/out" | grep -q '^8889    | Customer#000008889 | HOUSEHOLD'; then
    ok "--format table: aligned header, rule and 40 rows"
else
    bad "table" "$(head -n 3 "$tmp/out" | tr '\n' ' ')"
fi
sql --warehouse "$wh" --format jsonl "SELECT 1 AS i, 2.5 AS r, 0.1 AS s, 'x\"y' AS t, x'00ff' AS b, NULL AS n, 12345678901234567 AS big"
if expect_ok "jsonl values" && [ "$(cat "$tmp/out")" = '{"i":1,"r":2.5,"s":0.1,"t":"x\"y","b":"AP8=","n":null,"big":12345678901234567}' ]; then
    ok "--format jsonl: integers, reals (shortest), text, blob base64, null"
else
    bad "jsonl values" "got $(oneline "$tmp/out")"
fi
sql --warehouse "$wh" --format xml "SELECT 1"
if [ "$rc" -eq 2 ] && grep -q "unknown --format" "$tmp/err"; then ok "--format xml: usage error"; else bad "--format xml" "exit $rc"; fi

# ---- time travel ---------------------------------------------------------------------------------

count_is() { # NAME WANT ARGS...
    local name=$1 want=$2
    shift 2
    sql --warehouse "$wh" "$@"
    if expect_ok "$name"; then
        local got
        got=$(sed -n 's/^{"[^"]*":\([0-9]*\)}$/\1/p' "$tmp/out")
        if [ "$got" = "$want" ]; then ok "$name: $want"; else bad "$name" "got $(oneline "$tmp/out"), expected $want"; fi
    fi
}
count_is "--as-of $v_load" 300 --as-of "$v_load" "SELECT COUNT(*) FROM customer"
count_is "--as-of $v_last" 302 --as-of "$v_last" "SELECT COUNT(*) FROM salesdb.customer"
count_is "customer($v_load)" 300 "SELECT COUNT(*) FROM customer($v_load)"
count_is "salesdb.customer($v_load)" 300 "SELECT COUNT(*) FROM salesdb.customer($v_load)"
count_is "WHERE _version = $v_load" 300 "SELECT COUNT(*) FROM customer WHERE _version = $v_load"
count_is "--as-of a future timestamp" 302 --as-of "2999-01-01 00:00:00" "SELECT COUNT(*) FROM customer"
count_is "cust 10 as of the load" 1 "SELECT COUNT(*) FROM customer($v_load) WHERE cust_id = 10"
count_is "cust 10 now" 0 "SELECT COUNT(*) FROM customer WHERE cust_id = 10"

if [ "$have_gen" = 1 ]; then
    for t in plain dv; do
        latest=$(version_of "$wh/gen/$t")
        allsame=1
        for v in $(seq 0 "$latest"); do
            "$bin" table scan "$wh/gen/$t" --version "$v" --format jsonl 2>/dev/null | LC_ALL=C sort >"$tmp/want"
            sql --warehouse "$wh" --as-of "$v" "SELECT * FROM gen.$t"
            if [ "$rc" -ne 0 ] || ! cmp -s <(LC_ALL=C sort "$tmp/out") "$tmp/want"; then
                allsame=0
                bad "gen.$t as of $v" "exit $rc, differs from table scan --version $v: $(oneline "$tmp/err")"
            fi
            sql --warehouse "$wh" "SELECT * FROM gen.$t($v)"
            if [ "$rc" -ne 0 ] || ! cmp -s <(LC_ALL=C sort "$tmp/out") "$tmp/want"; then
                allsame=0
                bad "gen.$t($v)" "exit $rc, differs from table scan --version $v: $(oneline "$tmp/err")"
            fi
        done
        [ "$allsame" = 1 ] && ok "SELECT * FROM gen.$t at each of versions 0..$latest (--as-of and $t(N)) equals table scan"
    done
fi

# ---- many databases ------------------------------------------------------------------------------

many=$tmp/many
query="SELECT SUM(n) AS total FROM ("
for i in $(seq -w 1 12); do
    mkdir -p "$many/db$i" && cp -r "$wh/salesdb/CUSTOMER" "$many/db$i/CUSTOMER"
    [ "$i" != 01 ] && query="$query UNION ALL"
    query="$query SELECT COUNT(*) AS n FROM db$i.customer"
done
query="$query)"
sql --warehouse "$many" "$query"
if expect_ok "12 databases" && [ "$(cat "$tmp/out")" = "{\"total\":$((12 * want_n))}" ]; then
    ok "12 databases in one query (SQLite attaches at most 10): $(cat "$tmp/out")"
else
    bad "12 databases" "got $(oneline "$tmp/out")"
fi
sql --warehouse "$many" "SELECT COUNT(*) FROM customer"
expect_fail "bare name in 12 databases" "table name 'customer' is ambiguous: it is in databases db01, db02"

# ---- errors --------------------------------------------------------------------------------------

sql --warehouse "$wh" "SELECT * FROM nosuch"
expect_fail "unknown table" "no such table: nosuch"
sql --warehouse "$wh" "SELECT * FROM nosuchdb.customer"
expect_fail "unknown database" "no such table: nosuchdb.customer"
sql --warehouse "$wh" "SELEC * FROM customer"
expect_fail "malformed SQL" 'near "SELEC": syntax error'
sql --warehouse "$wh" "SELECT 1; SELECT * FROM customer WHERE"
if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/out")" = '{"1":1}' ]; then
    ok "the first statement's rows are printed before the second fails"
else
    bad "failing second statement" "exit $rc, stdout $(oneline "$tmp/out")"
fi
sql --warehouse "$wh" --as-of yesterday "SELECT 1"
expect_fail "--as-of yesterday" "bad --as-of 'yesterday'"
sql --warehouse "$wh" --as-of 999 "SELECT COUNT(*) FROM customer"
expect_fail "--as-of 999" "version 999"
sql --warehouse "$wh" --as-of "1990-01-01 00:00:00" "SELECT COUNT(*) FROM customer"
expect_fail "--as-of before the first commit" "salesdb.CUSTOMER: "
sql --warehouse "$wh" "SELECT COUNT(*) FROM customer(999)"
expect_fail "customer(999)" "999"
sql --warehouse "$tmp/nowhere" "SELECT 1"
expect_fail "missing warehouse" "warehouse .*nowhere"
if [ -e "$tmp/nowhere" ]; then bad "missing warehouse" "the directory was created"; fi
sql --warehouse "$wh" --bogus
if [ "$rc" -eq 2 ]; then ok "unknown option: exit 2"; else bad "unknown option" "exit $rc"; fi
sql --help
if [ "$rc" -eq 0 ] && grep -q "^usage: lakesync sql" "$tmp/out" && grep -q -- "--as-of" "$tmp/out"; then
    ok "--help"
else
    bad "--help" "exit $rc"
fi

# ---- warehouse from the configuration -------------------------------------------------------------

printf 'warehouse=%s\n' "$wh" >"$tmp/lakesync.properties"
sql --config "$tmp/lakesync.properties" "SELECT COUNT(*) AS n FROM customer"
if expect_ok "--config" && [ "$(cat "$tmp/out")" = "{\"n\":$want_n}" ]; then ok "--config FILE: warehouse property"; else bad "--config" "$(oneline "$tmp/out")"; fi
mkdir -p "$tmp/cwd" && ln -s "$wh" "$tmp/cwd/warehouse"
(cd "$tmp/cwd" && "$bin" sql "SELECT COUNT(*) AS n FROM customer" >"$tmp/out" 2>"$tmp/err")
rc=$?
if expect_ok "default ./warehouse" && [ "$(cat "$tmp/out")" = "{\"n\":$want_n}" ]; then ok "default warehouse ./warehouse"; else bad "default ./warehouse" "$(oneline "$tmp/out")"; fi

# ---- the shell on a pipe ---------------------------------------------------------------------------

cat >"$tmp/script" <<'EOF'
.tables
.schema customer
.format csv
SELECT cust_id, name
  FROM salesdb.customer
 ORDER BY cust_id DESC
 LIMIT 2;
SELECT * FROM nosuch;
.format jsonl
SELECT COUNT(*) AS n FROM customer; SELECT 'a;b' AS s;
.nonsense
.quit
SELECT 'not reached';
EOF
"$bin" sql --warehouse "$wh" <"$tmp/script" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat >"$tmp/want" <<EOF
gen.dv
gen.plain
salesdb.CUSTOMER
CREATE TABLE salesdb.CUSTOMER (
  CUST_ID INTEGER,
  NAME TEXT,
  MKTSEGMENT TEXT
); -- hidden: _version, _timestamp
CUST_ID,NAME
8889,Customer#000008889
8888,Customer#000008888
{"n":$want_n}
{"s":"a;b"}
EOF
[ "$have_gen" = 1 ] || sed -i '/^gen\./d' "$tmp/want"
# the declared types are the module's business: compare them loosely
sed -i 's/^\(  [A-Z_]*\) [A-Z][A-Z0-9(), ]*\(,\{0,1\}\)$/\1 T\2/' "$tmp/want"
sed 's/^\(  [A-Z_]*\) [A-Z][A-Z0-9(), ]*\(,\{0,1\}\)$/\1 T\2/' "$tmp/out" >"$tmp/out2"
if [ "$rc" -eq 1 ] && cmp -s "$tmp/out2" "$tmp/want" && grep -q "^lakesync sql: no such table: nosuch" "$tmp/err" &&
    grep -q "^lakesync sql: unknown command '.nonsense'" "$tmp/err"; then
    ok "shell on a pipe: .tables, .schema, .format, multi-line statements, errors go on, .quit, exit 1"
else
    bad "shell" "exit $rc; $(diff "$tmp/want" "$tmp/out2" | head -n 6 | tr '\n' ' '); stderr $(oneline "$tmp/err")"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
