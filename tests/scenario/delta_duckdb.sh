#!/usr/bin/env bash
# delta_duckdb.sh — Delta tables written by lakesync, read back at every
# version by DuckDB (the independent Parquet reader, tests/duckdb/pq.mjs):
#   build/tools/delta_gen builds two tables — "plain" (appends of many types
#   with unicode strings, nulls, decimals, timestamps, dates and a partition
#   column with a null and a unicode value, a rewrite-delete, an overwrite)
#   and "dv" (row deletions by deletion vector: inline, in DV files, a file
#   losing every row, a checkpoint in between) — and dumps, per version,
#   the rows of lakesync's scan and the live data files with the row
#   indexes their deletion vectors delete;
#   `pq.mjs delta-rows` has DuckDB read those files (with file_row_number),
#   drop the deleted row indexes and add the partition values; the sorted
#   rows must equal lakesync's, value by value;
#   `lakesync table scan --version N --format jsonl` must print the same
#   rows as the library (skipped visibly when the CLI is not built).
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
gen=$(dirname "$bin")/tools/delta_gen
pq=tests/duckdb/pq.mjs
pass=0 fail=0 skip=0

if ! command -v node >/dev/null 2>&1 || [ ! -d tests/duckdb/node_modules/@duckdb ]; then
    echo "skip delta_duckdb: node or tests/duckdb/node_modules missing (run scripts/install-deps.sh)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ ! -x "$gen" ]; then
    echo "skip delta_duckdb: $gen not built (make tests)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_dduck.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # NAME COMMAND...: one test line
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        pass=$((pass + 1))
        echo "ok $name${out:+ ($(echo "$out" | tail -n 1))}"
    else
        fail=$((fail + 1))
        echo "FAIL $name: $(echo "$out" | head -n 12)"
    fi
}

duckdb_version() { # TABLE N
    local o=$tmp/out_$1
    node "$pq" delta-rows "$o/v$2.files.json" >"$o/v$2.duckdb.jsonl" || return 1
    LC_ALL=C sort "$o/v$2.duckdb.jsonl" >"$o/v$2.duckdb.sorted" || return 1
    LC_ALL=C sort "$o/v$2.lakesync.jsonl" >"$o/v$2.lakesync.sorted" || return 1
    node "$pq" compare "$o/v$2.lakesync.sorted" "$o/v$2.duckdb.sorted"
}

cli_version() { # TABLE N
    local o=$tmp/out_$1
    "$bin" table scan "$tmp/tables/$1" --version "$2" --format jsonl >"$o/v$2.cli.jsonl" || return 1
    LC_ALL=C sort "$o/v$2.cli.jsonl" >"$o/v$2.cli.sorted" || return 1
    node "$pq" compare "$o/v$2.lakesync.sorted" "$o/v$2.cli.sorted"
}

if ! out=$("$gen" build "$tmp/tables" 2>&1); then
    echo "FAIL delta_gen build: $(echo "$out" | head -n 12)"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
cli_ok=0
[ -x "$bin" ] && "$bin" table scan "$tmp/tables/plain" --version 0 --format jsonl >/dev/null 2>&1 && cli_ok=1
for t in plain dv; do
    if ! latest=$("$gen" dump "$tmp/tables/$t" "$tmp/out_$t" 2>&1); then
        fail=$((fail + 1))
        echo "FAIL $t dump: $(echo "$latest" | head -n 12)"
        continue
    fi
    for n in $(seq 0 "$latest"); do
        check "$t v$n: duckdb rows == lakesync rows" duckdb_version "$t" "$n"
        if [ $cli_ok -eq 1 ]; then
            check "$t v$n: lakesync table scan == library scan" cli_version "$t" "$n"
        else
            skip=$((skip + 1))
            echo "skip $t v$n: lakesync table scan: $bin not built or not working"
        fi
    done
done
# the dv table really has inline and file deletion vectors and a checkpoint
dvlog=$tmp/tables/dv/_delta_log
check "dv table: inline and file DVs, checkpoint" bash -c "
    grep -q '\"storageType\":\"i\"' $dvlog/*.json && grep -q '\"storageType\":\"u\"' $dvlog/*.json &&
    ls $tmp/tables/dv/deletion_vector_*.bin >/dev/null && ls $dvlog/*.checkpoint.parquet >/dev/null"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
