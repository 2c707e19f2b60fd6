#!/usr/bin/env bash
# bench/sql.sh — SQL over a Delta table: lakesync's SQLite layer against
# DuckDB (threads=1) over the same Parquet files, in the same run.
#
#   bench/sql.sh [NROWS]   (default 10000000; try 2000000 on a slow machine)
#
#   REPS=N   timed runs per query after one warm-up (default 3; median shown)
#   KEEP=1   keep the work directory (printed)
#
# Needs `make bench` and scripts/install-deps.sh (DuckDB for node); perf
# (linux-perf) for the profile at the end, which is skipped without it.
#
# Untimed setup: `sql_bench gen` writes WH/benchdb/events with lakesync's
# Delta writer in one commit: NROWS rows of id (sorted key 0..NROWS-1),
# part (partition column, 16 values over contiguous id ranges), a (long),
# b (double), name (string); ~4 MiB files, 128k-row row groups.
# Timed, each query in process after a warm-up, page cache warm:
#   count      SELECT COUNT(*)
#   sum2       SELECT SUM(a), SUM(b)                  (a full scan of two columns)
#   part_eq    ... WHERE part = 'p07'                 (1/16 of the files)
#   key_range  ... WHERE id BETWEEN x AND x+10000     (stats skip files and row groups)
# lakesync: bench/sql_bench.c `query` — lks_sql_register, the warehouse
# catalogue, the rewrite of benchdb.events, prepare and step (what
# `lakesync sql` does, without process start and printing).
# DuckDB: bench/duckdb_sql.mjs — read_parquet over the live files
# (hive_partitioning for `part`).  Both results must agree.
# Ratio = lakesync time / DuckDB time (above 1: DuckDB is faster), on wall
# and CPU time.  Then where the full scan's time goes: the Delta reader
# alone on the same columns (`sql_bench floor`, the batches the virtual
# table reads), SQLite alone running count and sum2 over a virtual table
# that hands out as many rows at next to no cost (`sql_bench engine`: the
# floor the SQLite engine sets), the rest being the delta module; the
# same floor for part_eq (COUNT(*), SUM(a) over as many rows as the
# partition holds); and a
# `perf record` of sum2 with samples grouped by where the code lives
# (SQLite, the virtual table, the Delta scan, the Parquet decoder,
# compression, libc, kernel) when perf is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
reps=${REPS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_sqlbench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "work directory: $dir" >&2
else
    trap 'rm -rf "$dir"' EXIT
fi
[ -x build/bench/sql_bench ] || make -s bench >/dev/null
B=build/bench/sql_bench
wh=$dir/wh

echo "sql.sh: writing $n rows into $wh/benchdb/events (untimed)" >&2
files_written=$($B gen "$wh" "$n")
$B files "$wh/benchdb/events" >"$dir/files.txt"
size=$(du -sk "$wh/benchdb/events" | cut -f1)

mid=$((n / 2))
names=(count sum2 part_eq key_range)
queries=(
    "SELECT COUNT(*) FROM benchdb.events"
    "SELECT SUM(a), SUM(b) FROM benchdb.events"
    "SELECT COUNT(*), SUM(a) FROM benchdb.events WHERE part = 'p07'"
    "SELECT COUNT(*), SUM(a) FROM benchdb.events WHERE id BETWEEN $mid AND $((mid + 10000))"
)

for i in "${!queries[@]}"; do
    $B query "$wh" "${queries[$i]}" "$reps" >"$dir/lks.$i"
done
node bench/duckdb_sql.mjs "$dir/files.txt" "$reps" "${queries[@]}" >"$dir/duck"

field() { # FILE KEY
    sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1"
}
# results agree when every |-separated value is numerically equal
same_result() {
    awk -v x="$1" -v y="$2" 'BEGIN { n = split(x, a, "|"); m = split(y, b, "|"); if (n != m) exit 1;
        for (i = 1; i <= n; i++) if (a[i] + 0 != b[i] + 0) exit 1; exit 0 }'
}

printf '\n%d rows, %d data files (%d written), %d KiB; median of %d runs, page cache warm\n' \
    "$n" "$(wc -l <"$dir/files.txt")" "$files_written" "$size" "$reps"
printf '%-10s %12s %12s %12s %12s %9s %9s  %s\n' query lks_s lks_cpu_s duckdb_s duckdb_cpu_s ratio ratio_cpu result
mismatch=0
for i in "${!queries[@]}"; do
    sed -n "$((i + 1))p" "$dir/duck" >"$dir/duck.$i"
    ls_=$(field "$dir/lks.$i" s) lc=$(field "$dir/lks.$i" cpu_s) lr=$(field "$dir/lks.$i" result)
    ds=$(field "$dir/duck.$i" s) dc=$(field "$dir/duck.$i" cpu_s) dr=$(field "$dir/duck.$i" result)
    note=$lr
    if ! same_result "$lr" "$dr"; then
        note="MISMATCH lakesync $lr, DuckDB $dr"
        mismatch=1
    fi
    awk -v q="${names[$i]}" -v a="$ls_" -v b="$lc" -v c="$ds" -v d="$dc" -v r="$note" 'BEGIN {
        printf "%-10s %12.4f %12.4f %12.4f %12.4f %8.2fx %8.2fx  %s\n", q, a, b, c, d, a / c, b / (d > 0 ? d : 1e-9), r }'
done

# ---- where the full scan's time goes ---------------------------------------------------------------
fl=$($B floor "$wh/benchdb/events" a b)
printf '\nDelta reader alone (batches of a, b, no SQLite): %ss (cpu %ss)\n' \
    "$(echo "$fl" | field /dev/stdin s)" "$(echo "$fl" | field /dev/stdin cpu_s)"
ec=$($B engine "$n" "SELECT COUNT(*) FROM mem" "$reps")
es=$($B engine "$n" "SELECT SUM(a), SUM(b) FROM mem" "$reps")
printf 'SQLite alone (a virtual table of %d rows costing next to nothing): count %ss (cpu %ss), sum2 %ss (cpu %ss)\n' \
    "$n" "$(echo "$ec" | field /dev/stdin s)" "$(echo "$ec" | field /dev/stdin cpu_s)" \
    "$(echo "$es" | field /dev/stdin s)" "$(echo "$es" | field /dev/stdin cpu_s)"
awk -v q="$(field "$dir/lks.1" cpu_s)" -v f="$(echo "$fl" | field /dev/stdin cpu_s)" \
    -v e="$(echo "$es" | field /dev/stdin cpu_s)" -v d="$(field "$dir/duck.1" cpu_s)" 'BEGIN {
    printf "sum2 cpu %.4fs = reader %.4fs + SQLite %.4fs + delta module %.4fs; SQLite alone is %.2fx DuckDB\n",
        q, f, e, q - f - e, e / (d > 0 ? d : 1e-9) }'
# part_eq's floor: SQLite alone over as many rows as the partition holds
np=$(field "$dir/lks.2" result | cut -d'|' -f1)
ep=$($B engine "$np" "SELECT COUNT(*), SUM(a) FROM mem" "$reps")
awk -v q="$(field "$dir/lks.2" cpu_s)" -v e="$(echo "$ep" | field /dev/stdin cpu_s)" \
    -v d="$(field "$dir/duck.2" cpu_s)" -v n="$np" 'BEGIN {
    printf "part_eq cpu %.4fs = SQLite alone over its %d rows %.4fs (%.2fx DuckDB) + reading and handing them over %.4fs\n",
        q, n, e, e / (d > 0 ? d : 1e-9), q - e }'

if command -v perf >/dev/null 2>&1 &&
    perf record -q -o "$dir/perf.data" $B query "$wh" "${queries[1]}" "$reps" >/dev/null 2>"$dir/perf.err"; then
    # symbol -> module of the library (static functions included)
    for m in sql delta parquet core store; do
        for o in build/obj/src/$m/*.o; do
            nm --defined-only "$o" 2>/dev/null | awk -v m="$m" -v f="$(basename "$o" .o)" \
                '$2 ~ /^[tTwW]$/ { print $3, (m == "sql" ? "sql/" f : m) }'
        done
    done >"$dir/symmap"
    perf report -i "$dir/perf.data" --stdio --sort dso,sym -g none 2>/dev/null | grep -v '^#' |
        awk -v mapf="$dir/symmap" '
        BEGIN { while ((getline l < mapf) > 0) { split(l, f, " "); mod[f[1]] = f[2] } }
        NF >= 4 && $1 ~ /%$/ {
            p = $1; sub(/%/, "", p); dso = $2; sym = $4
            if (dso ~ /sqlite/) g = "SQLite (VDBE, values, aggregates)"
            else if (dso ~ /kernel/) g = "kernel (page faults, read)"
            else if (dso ~ /snappy|zstd|libz|lz4|brotli/) g = "decompression"
            else if (dso ~ /libc/) g = "libc (memcpy, malloc)"
            else if (sym in mod) {
                m = mod[sym]
                if (m == "sql/vtab") g = "virtual table (xFilter/xNext/xColumn)"
                else if (m == "delta") g = "Delta scan (rows of a file, DVs)"
                else if (m == "parquet") g = "Parquet decoding and row assembly"
                else g = "lakesync " m
            } else g = "other (" dso ")"
            tot[g] += p; all += p
            if (!(g in top) || p > topp[g]) { top[g] = sym; topp[g] = p }
        }
        END {
            printf "\nperf profile of sum2 (share of CPU samples, grouped by where the code lives):\n"
            n = 0
            for (g in tot) order[n++] = g
            for (i = 0; i < n; i++)
                for (j = i + 1; j < n; j++)
                    if (tot[order[j]] > tot[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
            for (i = 0; i < n; i++) printf "  %5.1f%%  %-42s top: %s (%.1f%%)\n", tot[order[i]], order[i], top[order[i]], topp[order[i]]
        }'
else
    echo "(perf not available: profile skipped)"
fi
[ "$mismatch" -eq 0 ] || { echo "sql.sh: results differ between lakesync and DuckDB" >&2; exit 1; }
