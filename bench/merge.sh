#!/usr/bin/env bash
# bench/merge.sh — CDC merge from a raw zone into Delta, lakesync against
# DuckDB (threads=1) doing the same upsert in the same run.
#
#   bench/merge.sh [NROWS [NEVENTS]]   (default 10000000 rows, 1000000 events)
#   bench/merge.sh --quick             (200000 rows, 20000 events)
#
#   DECIMAL=precise|string  Debezium decimal.handling.mode of the events
#                           (default precise, Debezium's default)
#   MEMCHECK=0              skip the second, 10x smaller table (peak RSS of
#                           the same number of events merged into it)
#   KEEP=1                  keep the work directory (printed)
#
# Needs `make bench` and scripts/install-deps.sh (DuckDB for node).
#
# Untimed setup: bench/merge_bench.c `gen` writes the raw zone (Debezium
# payloads without the schema envelope in the S3-sink layout, flush.size
# 100000): NROWS snapshot `r` events of a customer table (cust_id BIGINT key,
# name, mktsegment VARCHAR, balance DECIMAL(12,2), updated_at TIMESTAMP), then
# NEVENTS changes (50% updates of live keys, 10% deletes, 40% inserts).
# Timed, each step its own process (peak RSS is the step's):
#   load:  lakesync creates a table and merges the snapshot events into it
#          (copy-on-write and deletion-vector tables), DuckDB read_json →
#          Parquet;
#   merge: lakesync merges the changes (lks_merge_rawzone, one batch) into
#          each table; DuckDB reads the changes, keeps the latest per key,
#          anti-joins its loaded Parquet with the changed keys, unions the
#          upserts and writes Parquet.
# After each phase every result is checked: same row count and the same
# order-independent checksum (md5 of each row's canonical text, summed).
# Ratios are DuckDB time / lakesync time (above 1: lakesync is faster), on
# wall time and on CPU time (steadier on a shared machine).  Then the peak
# RSS of the same NEVENTS merged into a NROWS/10 table (memory flat in table
# size), and where lakesync's merge time goes (merge_bench `split`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--quick" ]; then
    n=200000 m=20000
else
    n=${1:-10000000} m=${2:-1000000}
fi
dec=${DECIMAL:-precise}
memcheck=${MEMCHECK:-1}
dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_mbench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "work directory: $dir" >&2
else
    trap 'rm -rf "$dir"' EXIT
fi
[ -x build/bench/merge_bench ] || make -s bench >/dev/null
B=build/bench/merge_bench
D="node bench/duckdb_merge.mjs"
log="$dir/log"
step() { # name command... : runs it, its JSON line into $dir/name.json, stderr into the log
    local name=$1
    shift
    echo "== $name" >>"$log"
    "$@" >"$dir/$name.json" 2>>"$log" || { echo "merge.sh: $name failed:" >&2; tail -5 "$log" >&2; exit 1; }
}

echo "setup: generating $n snapshot rows and $m change events ($dec decimals) ..." >&2
step gen $B gen "$dir/raw" "$n" "$m" "$dec"
sync # the generated GBs are written back now, not during the first timed step
echo "load ..." >&2
step load_cow $B load "$dir/raw/snap" "$dir/cow" cow "$dec"
step load_dv $B load "$dir/raw/snap" "$dir/dv" dv "$dec"
step load_duck $D load "$dir/raw/snap" "$dir/duck_base.parquet" "$dec"
step check_load_cow $B check "$dir/cow"
step check_load_dv $B check "$dir/dv"
step check_load_duck $D check "$dir/duck_base.parquet"
step split $B split "$dir/raw/chg" "$dir/cow" "$dec"
echo "merge ..." >&2
step merge_cow $B merge "$dir/raw/chg" "$dir/cow" "$dec"
step merge_dv $B merge "$dir/raw/chg" "$dir/dv" "$dec"
step merge_duck $D merge "$dir/raw/chg" "$dir/duck_base.parquet" "$dir/duck_merged.parquet" "$dec"
step check_merge_cow $B check "$dir/cow"
step check_merge_dv $B check "$dir/dv"
step check_merge_duck $D check "$dir/duck_merged.parquet"
if [ "$memcheck" = 1 ]; then
    echo "memory: the same number of events into a $((n / 10))-row table ..." >&2
    step small_gen $B gen "$dir/raw_small" "$((n / 10))" "$m" "$dec"
    sync
    step small_load_cow $B load "$dir/raw_small/snap" "$dir/small_cow" cow "$dec"
    step small_load_dv $B load "$dir/raw_small/snap" "$dir/small_dv" dv "$dec"
    step small_merge_cow $B merge "$dir/raw_small/chg" "$dir/small_cow" "$dec"
    step small_merge_dv $B merge "$dir/raw_small/chg" "$dir/small_dv" "$dec"
    step small_check_cow $B check "$dir/small_cow"
    step small_check_dv $B check "$dir/small_dv"
fi

node - "$dir" "$dec" "$memcheck" <<'JS'
const fs = require('fs');
const [dir, dec, memcheck] = process.argv.slice(2);
const j = (name) => JSON.parse(fs.readFileSync(`${dir}/${name}.json`, 'utf8'));
const g = j('gen');
const mb = (kb) => (kb / 1024).toFixed(0).padStart(6);
const num = (x, w = 8) => x.toFixed(2).padStart(w);
const eps = (n, s) => (n / s / 1e3).toFixed(1).padStart(9);
console.log(`CDC merge, 1 thread: ${g.rows}-row table, ${g.events} change events ` +
    `(${g.updates} updates, ${g.deletes} deletes, ${g.inserts} inserts), decimal.handling.mode=${dec}`);
console.log(`raw zone (JSON, no schema envelope, flush.size 100000): snapshot ${(g.snap_bytes / 1e9).toFixed(2)} GB, ` +
    `changes ${(g.chg_bytes / 1e6).toFixed(0)} MB`);
console.log('');
console.log('                              wall s    cpu s   kevents/s  peak RSS MB   DuckDB/lakesync wall  cpu');
const row = (label, r, n, duck) => {
    let s = `${label.padEnd(28)}${num(r.s)} ${num(r.cpu_s)}  ${eps(n, r.s)}    ${mb(r.maxrss_kb)}`;
    if (duck) s += `            ${num(duck.s / r.s, 6)}x ${num(duck.cpu_s / r.cpu_s, 6)}x`;
    console.log(s);
};
const [lc, ld, lk] = [j('load_cow'), j('load_dv'), j('load_duck')];
row('load   lakesync (cow table)', lc, g.rows, lk);
row('load   lakesync (dv table)', ld, g.rows, lk);
row('load   duckdb read_json→pq', lk, g.rows);
const [mc, md, mk] = [j('merge_cow'), j('merge_dv'), j('merge_duck')];
row('merge  lakesync copy-on-write', mc, g.events, mk);
row('merge  lakesync deletion vec', md, g.events, mk);
row('merge  duckdb anti-join+union', mk, g.events);
console.log('');
const tg = (what, d, o, goal) => `${what} ${(d.s / o.s).toFixed(2)}x wall, ${(d.cpu_s / o.cpu_s).toFixed(2)}x cpu (target ${goal}x)`;
console.log('DuckDB/lakesync: ' + [tg('load', lk, lc, 1.5), tg('merge copy-on-write', mk, mc, 1.5),
    tg('merge deletion vectors', mk, md, 5)].join('; '));
console.log(`lakesync merge: cow ${mc.upserts} upserts + ${mc.deletes} deletes after dedupe, ${mc.rows_written} rows written, ` +
    `files +${mc.files_added} -${mc.files_removed}; dv files +${md.files_added} with new DV ${md.files_dv}, ${md.rows_written} rows written`);

let ok = true;
const cmp = (what, names) => {
    const rs = names.map(j);
    const same = rs.every((r) => r.rows === rs[0].rows && r.checksum === rs[0].checksum);
    ok = ok && same;
    console.log(`${what}: ${same ? 'same rows' : 'ROWS DIFFER'}: ` +
        names.map((nm, i) => `${nm.replace(/^(small_)?check_(\w+?_)?/, '')} ${rs[i].rows} rows, checksum ${rs[i].checksum}`).join('; '));
};
cmp('after load ', ['check_load_cow', 'check_load_dv', 'check_load_duck']);
cmp('after merge', ['check_merge_cow', 'check_merge_dv', 'check_merge_duck']);

const sp = j('split');
console.log('');
console.log(`where lakesync's merge CPU time goes (merge_bench split: the front half again, without commit):`);
console.log(`  read raw zone ${sp.read_cpu_s.toFixed(2)} s, parse ${sp.parse_cpu_s.toFixed(2)} s, ` +
    `batch add/dedupe ${sp.add_cpu_s.toFixed(2)} s; commit (find hit rows, rewrite or DVs, write new files): ` +
    `copy-on-write ~${(mc.cpu_s - sp.total_cpu_s).toFixed(2)} s of ${mc.cpu_s.toFixed(2)}, ` +
    `deletion vectors ~${(md.cpu_s - sp.total_cpu_s).toFixed(2)} s of ${md.cpu_s.toFixed(2)}`);
console.log(`  batch: ${sp.held} keys held, ${(sp.batch_bytes / 1e6).toFixed(0)} MB`);

if (memcheck === '1') {
    const sg = j('small_gen'), sc = j('small_merge_cow'), sd = j('small_merge_dv');
    console.log('');
    console.log(`memory (peak RSS of the merge process, ${g.events} events each):`);
    console.log(`  ${String(sg.rows).padStart(9)}-row table: copy-on-write ${mb(sc.maxrss_kb)} MB, deletion vectors ${mb(sd.maxrss_kb)} MB` +
        `   (merge ${sc.s.toFixed(2)} s / ${sd.s.toFixed(2)} s)`);
    console.log(`  ${String(g.rows).padStart(9)}-row table: copy-on-write ${mb(mc.maxrss_kb)} MB, deletion vectors ${mb(md.maxrss_kb)} MB` +
        `   (merge ${mc.s.toFixed(2)} s / ${md.s.toFixed(2)} s)`);
    cmp('small table after merge', ['small_check_cow', 'small_check_dv']);
}
process.exitCode = ok ? 0 : 1;
JS
