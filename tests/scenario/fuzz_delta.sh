#!/usr/bin/env bash
# tests/scenario/fuzz_delta.sh — short libFuzzer runs of the Delta log action
# parser (build/fuzz/fuzz_delta_action) and the deletion vector decoder
# (build/fuzz/fuzz_delta_dv).
#
# Builds both with `make fuzz` (needs clang with libFuzzer), replays the kept
# crash inputs in fuzz/crashes_delta/ (action-* and dv-*), then fuzzes a copy
# of each target's seeds (fuzz/seeds_delta_action/, fuzz/seeds_delta_dv/) for
# LKS_FUZZ_SECONDS seconds each (default 30, 10 with LAKESYNC_QUICK).  A
# crash, leak, timeout or oversized allocation is a failure naming the input
# (kept under build/fuzz/artifacts/; minimise it with
# `build/fuzz/fuzz_delta_dv -minimize_crash=1 -runs=10000 FILE` and add it to
# fuzz/crashes_delta/ once fixed: tests/unit/test_delta_hostile.c replays
# it).  Without clang/libFuzzer the tests are skipped.
#
# Output: "ok NAME" / "FAIL NAME: ..." / "skip NAME: why" lines and a final
# "N passed, N failed, N skipped" line.

set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/scenario/lib_fuzz.bash

fuzz_seconds 10 30
fuzz_setup fuzz_delta_action fuzz_delta_dv
fuzz_build fuzz_delta build/fuzz/fuzz_delta_action build/fuzz/fuzz_delta_dv
fuzz_target fuzz_delta_action 'fuzz/crashes_delta/action-*' fuzz/seeds_delta_action
fuzz_target fuzz_delta_dv 'fuzz/crashes_delta/dv-*' fuzz/seeds_delta_dv
finish
