#!/usr/bin/env bash
# sql_extension.sh — the "delta" module as a loadable extension of the stock
# sqlite3 shell (Debian's `sqlite3`): `.load build/ext/lakesync`, then
# CREATE VIRTUAL TABLE ... USING delta('<corpus table>') and queries: all
# rows, count(*) from stats (no data file read), a partition filter shown
# in EXPLAIN QUERY PLAN, time travel (t(N), _version = N, version=N), and
# errors (unknown location, missing version) with a non-zero exit status.
# Skips visibly when sqlite3, the extension or the corpus is missing.
# Environment: LAKESYNC_CORPUS.
set -u
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0 skip=0
ext=build/ext/lakesync
corpus=${LAKESYNC_CORPUS:-../shared/corpus}

ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
finish() { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit $?; }

sqlite=$(command -v sqlite3 || true)
if [ -z "$sqlite" ]; then
    echo "skip sql_extension: sqlite3 not found (scripts/install-deps.sh installs it)"
    skip=1; finish
fi
if [ ! -f "$ext.so" ]; then
    echo "skip sql_extension: $ext.so not built (make)"
    skip=1; finish
fi
tbl=$corpus/delta/dat-basic_partitioned/delta
dv=$corpus/delta/deltars-table-with-dv-small/delta
if [ ! -d "$tbl" ]; then
    echo "skip sql_extension: corpus not found (set LAKESYNC_CORPUS)"
    skip=1; finish
fi
tbl=$(cd "$tbl" && pwd)

# check NAME EXPECTED SQL...: runs the statements after loading the
# extension; compares stdout with EXPECTED.
check() {
    local name=$1 want=$2
    shift 2
    local got
    got=$(printf '%s\n' ".load $ext" "$@" | "$sqlite" -batch -bail :memory: 2>&1)
    if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "got [$got], want [$want]"; fi
}
# fails NAME PATTERN SQL...: the shell must exit non-zero with PATTERN in its output.
fails() {
    local name=$1 pat=$2
    shift 2
    local got rc
    got=$(printf '%s\n' ".load $ext" "$@" | "$sqlite" -batch -bail :memory: 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && printf '%s' "$got" | grep -qF -- "$pat"; then
        ok "$name"
    else
        bad "$name" "exit $rc, output [$got], want an error with '$pat'"
    fi
}

create="CREATE VIRTUAL TABLE t USING delta('$tbl');"

check load_and_select "$(printf '%s\n' '|6|6.6' 'a|1|1.1' 'a|4|4.4' 'b|2|2.2' 'c|3|3.3' 'e|5|5.5')" \
    "$create" "SELECT letter, number, a_float FROM t ORDER BY letter NULLS FIRST, number;"
check count_from_stats "6|{\"files_read\":0,\"files_skipped\":0,\"files_from_stats\":6,\"rows\":6}" \
    "$create" "SELECT count(*), delta_scan_stats('t') FROM t;"
check partition_filter "a|1
a|4
2" \
    "$create" "SELECT letter, number FROM t WHERE letter = 'a' ORDER BY number;" \
    "SELECT json_extract(delta_scan_stats('t'), '\$.files_read');"
plan=$(printf '%s\n' ".load $ext" "$create" "EXPLAIN QUERY PLAN SELECT * FROM t WHERE letter = 'a' AND number > 1;" |
    "$sqlite" -batch -bail :memory: 2>&1)
case $plan in
*"partition letter=?"*"skip by stats number>?"*) ok explain_query_plan ;;
*) bad explain_query_plan "$plan" ;;
esac
check time_travel_tvf "3|0" "$create" "SELECT count(*), max(_version) FROM t(0);"
check time_travel_where "6|1" "$create" "SELECT count(*), max(_version) FROM t WHERE _version = 1;"
check time_travel_create "3" "CREATE VIRTUAL TABLE t0 USING delta('$tbl', version=0);" "SELECT count(*) FROM t0;"
if [ -d "$dv" ]; then
    check deletion_vectors "8|8" "CREATE VIRTUAL TABLE d USING delta('$(cd "$dv" && pwd)');" \
        "SELECT count(*), (SELECT count(*) FROM (SELECT * FROM d)) FROM d;"
else
    echo "skip deletion_vectors: $dv not in the corpus"
    skip=$((skip + 1))
fi
fails bad_version "version 99 does not exist" "$create" "SELECT * FROM t(99);"
fails unknown_location "no table at /nonexistent/lakesync" \
    "CREATE VIRTUAL TABLE x USING delta('/nonexistent/lakesync');"
fails bad_argument "unknown argument" "CREATE VIRTUAL TABLE x USING delta('$tbl', versoin=1);"
finish
