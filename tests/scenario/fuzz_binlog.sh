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

pass=0
fail=0
skip=0
ok() { echo "ok $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
skipped() { echo "skip $*"; skip=$((skip + 1)); }
finish() {
    echo "$pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
    exit $?
}

if [ -n "${LKS_FUZZ_SECONDS:-}" ]; then
    seconds=$LKS_FUZZ_SECONDS
elif [ -n "${LAKESYNC_QUICK:-}" ]; then
    seconds=10
else
    seconds=30
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_bfuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

skip_all() {
    skipped "fuzz_binlog: $1"
    skipped "fuzz_binlog_crashes: $1"
    finish
}

cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null 2>&1 || skip_all "clang libFuzzer not available"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$tmp/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 ||
    skip_all "clang libFuzzer not available"

if ! make build/fuzz/fuzz_binlog FUZZ_CC="$cc" >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log"
    bad "fuzz_binlog: make build/fuzz/fuzz_binlog failed"
    finish
fi
fuzzer=build/fuzz/fuzz_binlog
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536)

# 1. the kept crash inputs: each must now run clean
crashes=(fuzz/crashes_binlog/*)
if [ -e "${crashes[0]}" ]; then
    if "$fuzzer" "${opts[@]}" "${crashes[@]}" >"$tmp/replay.log" 2>&1; then
        ok "fuzz_binlog_crashes: ${#crashes[@]} regression inputs"
    else
        tail -n 40 "$tmp/replay.log"
        culprit=$(grep -E '^Running: ' "$tmp/replay.log" | tail -n 1 | sed 's/^Running: //')
        bad "fuzz_binlog_crashes: ${culprit:-a kept input} crashes again"
    fi
else
    skipped "fuzz_binlog_crashes: no fuzz/crashes_binlog/ inputs"
fi

# 2. a fresh fuzzing run over a copy of the seeds
mkdir -p "$tmp/corpus"
cp fuzz/seeds_binlog/* "$tmp/corpus/" 2>/dev/null
"$fuzzer" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/binlog-" "$tmp/corpus" >"$tmp/fuzz.log" 2>&1
st=$?
runs=$(grep -E '^stat::number_of_executed_units:' "$tmp/fuzz.log" | awk '{print $2}' | tail -n 1)
if [ "$st" -eq 0 ]; then
    ok "fuzz_binlog: ${runs:-?} runs in ${seconds}s, no crash"
else
    grep -E 'ERROR|SUMMARY|binlog exercise:' "$tmp/fuzz.log" | head -n 20
    found=$(grep -oE "Test unit written to [^ ]+" "$tmp/fuzz.log" | tail -n 1 | sed 's/^Test unit written to //')
    bad "fuzz_binlog: crash after ${runs:-?} runs (exit $st): ${found:-see the log above}"
fi
finish
