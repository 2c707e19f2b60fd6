#!/usr/bin/env bash
# tests/scenario/fuzz_dbz.sh — a short libFuzzer run of the Debezium JSON
# reader (build/fuzz/fuzz_dbz, see fuzz/fuzz_dbz.c).
#
# Builds it with `make build/fuzz/fuzz_dbz` (needs clang with libFuzzer),
# replays the kept crash inputs in fuzz/crashes_dbz/, then fuzzes a copy of
# fuzz/seeds_dbz/ for LKS_FUZZ_SECONDS seconds (default 30, 10 with
# LAKESYNC_QUICK).  A crash, leak, timeout or oversized allocation is a
# failure naming the input that caused it (kept under build/fuzz/artifacts/;
# minimise it with `build/fuzz/fuzz_dbz -minimize_crash=1 -runs=10000 FILE`
# and add it to fuzz/crashes_dbz/ once fixed).  Without clang/libFuzzer the
# tests are skipped.
#
# Output: "ok NAME" / "FAIL NAME: ..." / "skip NAME: why" lines and a final
# "N passed, N failed, N skipped" line.

set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/scenario/lib_fuzz.bash

fuzz_seconds 10 30
fuzz_setup fuzz_dbz
fuzz_build fuzz_dbz build/fuzz/fuzz_dbz
fuzz_target fuzz_dbz 'fuzz/crashes_dbz/*' fuzz/seeds_dbz
finish
