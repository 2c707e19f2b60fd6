#!/usr/bin/env bash
# tests/scenario/fuzz_smoke.sh — a short libFuzzer run of the Parquet reader.
#
# Builds build/fuzz/fuzz_parquet with `make fuzz` (needs clang with
# libFuzzer), replays the kept crash inputs in fuzz/crashes/, then fuzzes a
# copy of fuzz/seeds/ for LKS_FUZZ_SECONDS seconds (default 60, 20 with
# LAKESYNC_QUICK).  A crash, leak, timeout or oversized allocation is a
# failure naming the input that caused it (kept under build/fuzz/artifacts/;
# minimise it with `build/fuzz/fuzz_parquet -minimize_crash=1 -runs=10000 FILE`
# and add it to fuzz/crashes/ once fixed).  Without clang/libFuzzer the
# tests are skipped.
#
# Output: "ok NAME" / "FAIL NAME: ..." / "skip NAME: why" lines and a final
# "N passed, N failed, N skipped" line.

set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/scenario/lib_fuzz.bash

fuzz_seconds 20 60
fuzz_setup fuzz_parquet
fuzz_build fuzz_parquet fuzz
fuzz_target fuzz_parquet 'fuzz/crashes/*' fuzz/seeds
finish
