#!/usr/bin/env bash
# bench/parquet.sh — Parquet write and scan, lakesync against DuckDB
# (threads=1) on the same rows in the same run.
#
#   bench/parquet.sh [NROWS]        (default 10000000; needs `make bench`
#                                    and scripts/install-deps.sh)
#
# Rows: (id BIGINT, qty INT, price DECIMAL(12,2), code VARCHAR(8),
# note VARCHAR(~40), ts TIMESTAMP), SNAPPY, row groups of 1Mi rows; see
# bench/parquet_bench.c and bench/duckdb_parquet.mjs.  Prints rows/s for
# each and the ratio lakesync/DuckDB (above 1.0: lakesync is faster).
# Both print their scan aggregates, which must agree.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
[ -x build/bench/parquet_bench ] || make -s bench >/dev/null
ours=$(build/bench/parquet_bench "$n" "$dir" 2>"$dir/ours.err")
rm -f "$dir/lakesync.parquet"
duck=$(node bench/duckdb_parquet.mjs "$n" "$dir" 2>"$dir/duck.err")
node - "$ours" "$duck" "$dir/ours.err" "$dir/duck.err" <<'JS'
const fs = require('fs');
const [ours, duck] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3])];
const oa = fs.readFileSync(process.argv[4], 'utf8').trim(), da = fs.readFileSync(process.argv[5], 'utf8').trim();
const n = ours.rows, f = (x) => (n / x / 1e6).toFixed(2).padStart(8);
console.log(`Parquet, ${n} rows (BIGINT, INT, DECIMAL(12,2), VARCHAR(8), VARCHAR(~40), TIMESTAMP), SNAPPY, 1 thread`);
console.log(`              write Mrows/s   scan Mrows/s   file MB`);
console.log(`lakesync      ${f(ours.write_s)}        ${f(ours.scan_s)}       ${(ours.bytes / 1e6).toFixed(1)}`);
console.log(`duckdb        ${f(duck.write_s)}        ${f(duck.scan_s)}       ${(duck.bytes / 1e6).toFixed(1)}`);
console.log(`ratio lakesync/duckdb: write ${(duck.write_s / ours.write_s).toFixed(2)}x, scan ${(duck.scan_s / ours.scan_s).toFixed(2)}x (above 1: lakesync faster)`);
console.log(`aggregates: lakesync ${oa.replace(/^scan: /, '')}`);
console.log(`            duckdb   ${da.replace(/^scan: /, '')}`);
JS
