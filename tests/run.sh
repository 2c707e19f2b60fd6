#!/usr/bin/env bash
# tests/run.sh — runs the whole test suite and adds up the results.
#
#   tests/run.sh [--quick] [FILTER]
#
# Runs, from the repository root:
#   1. every program in build/tests/ (the release build),
#   2. every program in build/asan/tests/ (AddressSanitizer + UBSan build,
#      leaks checked) — skipped with --quick,
#   3. every executable tests/scenario/*.sh.
# Each program prints "ok NAME" / "FAIL NAME: ..." / "skip NAME: why" lines
# and a final "N passed, N failed, N skipped" line (tests/harness.h).  A
# program that crashes, times out or exits non-zero without that line counts
# as one failure; so does one that exits non-zero after a clean summary (a
# sanitizer report at exit).  FILTER keeps only programs whose label
# (e.g. "asan/test_store", "scenario/cli.sh") contains it.
#
# The last line is always "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed.
#
# Environment: LKS_TEST_TIMEOUT seconds per program (default 600).
# Scenario scripts receive LAKESYNC_BIN (release lakesync), LAKESYNC_ASAN_BIN
# (sanitizer build, absent with --quick), LAKESYNC_QUICK=1 with --quick, and
# run with the repository root as their working directory.

set -u

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
}

quick=0
filter=""
for arg in "$@"; do
    case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    -*)
        echo "tests/run.sh: unknown option '$arg'" >&2
        exit 2
        ;;
    *)
        if [ -n "$filter" ]; then
            echo "tests/run.sh: only one FILTER is supported" >&2
            exit 2
        fi
        filter="$arg"
        ;;
    esac
done

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
timeout_s=${LKS_TEST_TIMEOUT:-600}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_run.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

total_pass=0
total_fail=0
total_skip=0
programs=0
failures=()

summary_re='^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'

describe_status() {
    local st=$1
    if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        echo "timed out after ${timeout_s}s"
    elif [ "$st" -gt 128 ]; then
        echo "killed by signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null || echo '?'))"
    else
        echo "exit status $st"
    fi
}

# run_one LABEL CMD...: runs one program, streams its output, adds its counts.
run_one() {
    local label=$1
    shift
    local log="$tmp/log"
    programs=$((programs + 1))
    echo "== $label"
    timeout --kill-after=10 "$timeout_s" "$@" </dev/null 2>&1 | tee "$log"
    local st=${PIPESTATUS[0]}
    local summary
    summary=$(grep -E "$summary_re" "$log" | tail -n 1)
    if [[ "$summary" =~ $summary_re ]]; then
        local p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
        total_pass=$((total_pass + p))
        total_fail=$((total_fail + f))
        total_skip=$((total_skip + s))
        if [ "$f" -gt 0 ]; then
            while IFS= read -r line; do
                failures+=("$label: $line")
            done < <(grep -E '^(FAIL |     )' "$log")
        fi
        if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
            total_fail=$((total_fail + 1))
            failures+=("$label: $(describe_status "$st") after a clean summary (sanitizer report or crash at exit?)")
        fi
    else
        total_fail=$((total_fail + 1))
        failures+=("$label: no summary line; $(describe_status "$st")")
        echo "FAIL $label: no summary line; $(describe_status "$st")"
    fi
}

wanted() {
    [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]
}

# run_dir DIR PREFIX: every executable file in DIR.
run_dir() {
    local dir=$1 prefix=$2 found=0
    if [ ! -d "$dir" ]; then
        if [ -z "$filter" ]; then
            total_fail=$((total_fail + 1))
            failures+=("$dir: missing (build it first: make tests${prefix:+ SAN=1})")
        fi
        return
    fi
    for prog in "$dir"/*; do
        [ -f "$prog" ] && [ -x "$prog" ] || continue
        found=1
        local label="$prefix$(basename "$prog")"
        wanted "$label" || continue
        run_one "$label" "$prog"
    done
    # a test source without its program did not build
    for src in tests/unit/test_*.c; do
        [ -f "$src" ] || continue
        local name
        name=$(basename "$src" .c)
        if [ ! -x "$dir/$name" ] && wanted "$prefix$name"; then
            total_fail=$((total_fail + 1))
            failures+=("$prefix$name: not built ($src did not compile or make was not run)")
            echo "FAIL $prefix$name: not built"
        fi
    done
    if [ "$found" -eq 0 ] && [ -z "$filter" ]; then
        total_fail=$((total_fail + 1))
        failures+=("$dir: no test programs (build them first: make tests${prefix:+ SAN=1})")
    fi
}

run_dir build/tests ""

if [ "$quick" -eq 0 ]; then
    ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
        run_dir build/asan/tests "asan/"
fi

export LAKESYNC_BIN="$root/build/lakesync"
if [ "$quick" -eq 1 ]; then
    export LAKESYNC_QUICK=1
else
    export LAKESYNC_ASAN_BIN="$root/build/asan/lakesync"
fi
for script in tests/scenario/*.sh; do
    [ -f "$script" ] || continue
    label="scenario/$(basename "$script")"
    wanted "$label" || continue
    if [ ! -x "$script" ]; then
        echo "skip $label: not executable"
        total_skip=$((total_skip + 1))
        continue
    fi
    run_one "$label" "$script"
done

if [ "$programs" -eq 0 ] && [ -n "$filter" ] && [ "$total_fail" -eq 0 ]; then
    total_fail=$((total_fail + 1))
    failures+=("no test program matches '$filter'")
fi

if [ "${#failures[@]}" -gt 0 ]; then
    echo
    echo "Failures:"
    for line in "${failures[@]}"; do
        echo "  $line"
    done
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
