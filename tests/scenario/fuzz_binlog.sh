#!/usr/bin/env bash
# tests/scenario/fuzz_binlog.sh — a short libFuzzer run of the binlog decoder
# (build/fuzz/fuzz_binlog, see fuzz/fuzz_binlog.c).
#
# Builds it with `make build/fuzz/fuzz_binlog` (needs clang with libFuzzer),
# replays the kept crash inputs in fuzz/crashes_binlog/, then fuzzes a copy of
# fuzz/seeds_binlog/ for LKS_FUZZ_SECONDS seconds (default 30, 10 with
# LAKESYNC_QUICK).  A crash, leak, timeout or oversized allocation is a
# failure naming the input that caused it (kept under build/fuzz/artifacts/;
# minimise it with `build/fuzz/fuzz_binlog -minimize_crash=1 -runs=10000 FILE`
# and add it to fuzz/crashes_binlog/ once fixed).  Without clang/libFuzzer
# the tests are skipped.
#
# Output: "ok NAME" / "FAIL NAME: ..." / "skip NAME: why" lines and a final
# "N passed, N failed, N skipped" line.

set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/scenario/lib_fuzz.bash

fuzz_seconds 10 30
fuzz_setup fuzz_binlog
fuzz_build fuzz_binlog build/fuzz/fuzz_binlog
fuzz_target fuzz_binlog 'fuzz/crashes_binlog/*' fuzz/seeds_binlog
finish
