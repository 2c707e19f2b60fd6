#!/usr/bin/env bash
# parquet_duckdb.sh — Parquet round trips against DuckDB, the independent
# reader and writer (tests/duckdb/pq.mjs, @duckdb/node-api):
#   lakesync → DuckDB: build/tools/pq_gen writes a random schema and rows
#     through lakesync's writer plus the JSONL it meant to write; DuckDB
#     reads the file back and must print the same values, and so must
#     `lakesync parquet cat`;
#   DuckDB → lakesync: `pq.mjs gen` writes a random file with DuckDB;
#     `lakesync parquet cat` must print what DuckDB prints.
# Seeds: LKS_RT_SEEDS (default 24; 10 with LAKESYNC_QUICK), rows per file 300.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
gen=$(dirname "$bin")/tools/pq_gen
pq=tests/duckdb/pq.mjs
seeds=${LKS_RT_SEEDS:-24}
[ -n "${LAKESYNC_QUICK:-}" ] && seeds=${LKS_RT_SEEDS:-10}
pass=0 fail=0 skip=0

if ! command -v node >/dev/null 2>&1 || [ ! -d tests/duckdb/node_modules/@duckdb ]; then
    echo "skip parquet_duckdb: node or tests/duckdb/node_modules missing (run scripts/install-deps.sh)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_rt.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
codecs=(snappy zstd gzip none)

check() { # NAME COMMAND...: one test line
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        pass=$((pass + 1))
        echo "ok $name"
    else
        fail=$((fail + 1))
        echo "FAIL $name: $(echo "$out" | head -n 12)"
    fi
}

ours_to_duckdb() {
    local seed=$1 codec=$2 f=$tmp/ours_$1
    "$gen" "$seed" 300 "$f.parquet" "$f.expected.jsonl" "$codec" || return 1
    node "$pq" cat "$f.parquet" >"$f.duckdb.jsonl" || return 1
    node "$pq" compare "$f.expected.jsonl" "$f.duckdb.jsonl" || return 1
    "$bin" parquet cat --format jsonl "$f.parquet" >"$f.lakesync.jsonl" || return 1
    node "$pq" compare "$f.expected.jsonl" "$f.lakesync.jsonl"
}

duckdb_to_ours() {
    local seed=$1 f=$tmp/duck_$1
    node "$pq" gen "$seed" 300 "$f.parquet" "$f.spec.json" || return 1
    node "$pq" cat "$f.parquet" >"$f.duckdb.jsonl" || return 1
    "$bin" parquet cat --format jsonl "$f.parquet" >"$f.lakesync.jsonl" || return 1
    node "$pq" compare "$f.duckdb.jsonl" "$f.lakesync.jsonl"
}

for seed in $(seq 1 "$seeds"); do
    codec=${codecs[$((seed % 4))]}
    check "lakesync->duckdb seed $seed ($codec)" ours_to_duckdb "$seed" "$codec"
    check "duckdb->lakesync seed $seed" duckdb_to_ours "$seed"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
