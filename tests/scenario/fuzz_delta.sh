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

targets=(delta_action delta_dv)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_dfuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

skip_all() {
    for t in "${targets[@]}"; do
        skipped "fuzz_$t: $1"
        skipped "fuzz_${t}_crashes: $1"
    done
    finish
}

cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null 2>&1 || skip_all "clang libFuzzer not available"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$tmp/probe.c"
"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 ||
    skip_all "clang libFuzzer not available"

if ! make build/fuzz/fuzz_delta_action build/fuzz/fuzz_delta_dv FUZZ_CC="$cc" >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log"
    bad "fuzz_delta: make fuzz failed"
    finish
fi
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536)

for t in "${targets[@]}"; do
    fuzzer=build/fuzz/fuzz_$t
    case $t in
    delta_action) seeds=fuzz/seeds_delta_action crash_prefix=action- ;;
    delta_dv) seeds=fuzz/seeds_delta_dv crash_prefix=dv- ;;
    esac
    # 1. the kept crash inputs: each must now run clean
    crashes=(fuzz/crashes_delta/"$crash_prefix"*)
    if [ -e "${crashes[0]}" ]; then
        if "$fuzzer" "${opts[@]}" "${crashes[@]}" >"$tmp/replay_$t.log" 2>&1; then
            ok "fuzz_${t}_crashes: ${#crashes[@]} regression inputs"
        else
            tail -n 40 "$tmp/replay_$t.log"
            culprit=$(grep -E '^Running: ' "$tmp/replay_$t.log" | tail -n 1 | sed 's/^Running: //')
            bad "fuzz_${t}_crashes: ${culprit:-a kept input} crashes again"
        fi
    else
        skipped "fuzz_${t}_crashes: no fuzz/crashes_delta/$crash_prefix* inputs"
    fi
    # 2. a fresh fuzzing run over a copy of the seeds
    mkdir -p "$tmp/corpus_$t"
    cp "$seeds"/* "$tmp/corpus_$t/" 2>/dev/null
    "$fuzzer" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$tmp/corpus_$t" >"$tmp/fuzz_$t.log" 2>&1
    st=$?
    runs=$(grep -E '^stat::number_of_executed_units:' "$tmp/fuzz_$t.log" | awk '{print $2}' | tail -n 1)
    if [ "$st" -eq 0 ]; then
        ok "fuzz_$t: ${runs:-?} runs in ${seconds}s, no crash"
    else
        grep -E 'ERROR|SUMMARY|delta exercise:' "$tmp/fuzz_$t.log" | head -n 20
        found=$(grep -oE "Test unit written to [^ ]+" "$tmp/fuzz_$t.log" | tail -n 1 | sed 's/^Test unit written to //')
        bad "fuzz_$t: crash after ${runs:-?} runs (exit $st): ${found:-see the log above}"
    fi
done
finish
