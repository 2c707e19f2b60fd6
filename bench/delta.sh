#!/usr/bin/env bash
# bench/delta.sh — Delta snapshot loading and committing on a table with a
# long log (bench/delta_bench.c says exactly what is built and timed).
#
#   bench/delta.sh [NCOMMITS [every|last]]   (default 10000 every; needs `make bench`)
#
# NCOMMITS commits of one add each, with a classic checkpoint every 10
# commits as Spark writes them ("every"), or only at the last multiple of
# 10 ("last").  Prints, median of 5 with the page cache warm: the latest
# snapshot load, a load at the middle version, the same latest snapshot
# replayed from JSON commits only (the checkpoint's gain), and the I/O
# floor (listing the log and read(2) of the bytes a load reads) with the
# ratio to it; then the latency of 100 blind appends.  Wall and CPU times
# are both shown: on a busy machine wall time mostly measures waiting.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
mode=${2:-every}
dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_dbench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
[ -x build/bench/delta_bench ] || make -s bench >/dev/null
build/bench/delta_bench "$n" "$dir" "$mode"
