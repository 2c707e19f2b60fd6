# lib_fuzz.bash — what the libFuzzer scenario tests share (sourced, not run):
# the result lines (lib_report.bash), checking for clang's libFuzzer,
# building, replaying a target's kept crash inputs and a short fuzzing run
# over a copy of its seeds.  A script calls fuzz_seconds, fuzz_setup,
# fuzz_build, fuzz_target for each target, then finish.

. "$(dirname "${BASH_SOURCE[0]}")/lib_report.bash"

artifacts=build/fuzz/artifacts
fuzz_opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536)

# fuzz_seconds QUICK FULL: sets seconds, the length of each fuzzing run:
# $LKS_FUZZ_SECONDS, else QUICK with LAKESYNC_QUICK, else FULL
fuzz_seconds() {
    if [ -n "${LKS_FUZZ_SECONDS:-}" ]; then
        seconds=$LKS_FUZZ_SECONDS
    elif [ -n "${LAKESYNC_QUICK:-}" ]; then
        seconds=$1
    else
        seconds=$2
    fi
}

# fuzz_setup TARGET...: makes tmp (removed at exit) and sets cc ($FUZZ_CC,
# default clang); when cc cannot build a libFuzzer program, every TARGET
# and TARGET_crashes is skipped and the script ends
fuzz_setup() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_fuzz.XXXXXX") || exit 2
    trap 'rm -rf "$tmp"' EXIT
    cc=${FUZZ_CC:-clang}
    if command -v "$cc" >/dev/null 2>&1; then
        printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
            >"$tmp/probe.c"
        "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 && return 0
    fi
    local t
    for t in "$@"; do
        skipped "$t" "clang libFuzzer not available"
        skipped "${t}_crashes" "clang libFuzzer not available"
    done
    finish
}

# fuzz_build NAME MAKE-ARG...: make MAKE-ARG... with cc; when that fails,
# the end of its log, FAIL NAME, and the script ends
fuzz_build() {
    local name=$1
    shift
    if ! make "$@" FUZZ_CC="$cc" >"$tmp/build.log" 2>&1; then
        tail -n 30 "$tmp/build.log"
        bad "$name" "make $* failed"
        finish
    fi
    mkdir -p "$artifacts"
}

# fuzz_target TARGET CRASHES SEEDS: build/fuzz/TARGET replays the kept crash
# inputs CRASHES (a glob; TARGET_crashes passes when each runs clean), then
# fuzzes a copy of the SEEDS folder for $seconds (TARGET passes without a
# crash; the input that crashed is kept as build/fuzz/artifacts/TARGET-*)
fuzz_target() {
    local t=$1 fuzzer=build/fuzz/$1 seeds=$3 culprit st runs found
    local -a crashes
    # shellcheck disable=SC2206 # the glob expands here
    crashes=($2)
    if [ -e "${crashes[0]}" ]; then
        if "$fuzzer" "${fuzz_opts[@]}" "${crashes[@]}" >"$tmp/replay_$t.log" 2>&1; then
            ok "${t}_crashes: ${#crashes[@]} regression inputs"
        else
            tail -n 40 "$tmp/replay_$t.log"
            culprit=$(grep -E '^Running: ' "$tmp/replay_$t.log" | tail -n 1 | sed 's/^Running: //')
            bad "${t}_crashes" "${culprit:-a kept input} crashes again"
        fi
    else
        skipped "${t}_crashes" "no $2 inputs"
    fi
    mkdir -p "$tmp/corpus_$t"
    cp "$seeds"/* "$tmp/corpus_$t/" 2>/dev/null
    "$fuzzer" "${fuzz_opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$tmp/corpus_$t" >"$tmp/fuzz_$t.log" 2>&1
    st=$?
    runs=$(grep -E '^stat::number_of_executed_units:' "$tmp/fuzz_$t.log" | awk '{print $2}' | tail -n 1)
    if [ "$st" -eq 0 ]; then
        ok "$t: ${runs:-?} runs in ${seconds}s, no crash"
    else
        grep -E 'ERROR|SUMMARY|exercise:' "$tmp/fuzz_$t.log" | head -n 20
        found=$(grep -oE "Test unit written to [^ ]+" "$tmp/fuzz_$t.log" | tail -n 1 | sed 's/^Test unit written to //')
        bad "$t" "crash after ${runs:-?} runs (exit $st): ${found:-see the log above}"
    fi
}
