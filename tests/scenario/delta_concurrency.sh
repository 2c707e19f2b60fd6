#!/usr/bin/env bash
# delta_concurrency.sh — concurrent Delta writers on the local store
# (build/tools/delta_stress):
#   concurrency: 4 processes each make 100 append commits (25 with
#     LAKESYNC_QUICK) of 3 rows to one table at once; then versions
#     1..N*M are contiguous, every row is scanned exactly once and the log
#     validator passes;
#   crash safety: a writer is SIGKILLed at random moments, several times
#     (also while others write); after each kill every visible commit
#     parses, no temporary file is visible, the table reads and the log
#     validator passes; writing then resumes normally.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
tool=$(dirname "$bin")/tools/delta_stress
workers=4
commits=100
kills=6
[ -n "${LAKESYNC_QUICK:-}" ] && commits=25 && kills=3
pass=0 fail=0 skip=0

if [ ! -x "$tool" ]; then
    echo "skip delta_concurrency: $tool not built (make tests)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_dconc.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # NAME COMMAND...: one test line
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        pass=$((pass + 1))
        echo "ok $name${out:+ ($(echo "$out" | tail -n 1))}"
    else
        fail=$((fail + 1))
        echo "FAIL $name: $(echo "$out" | head -n 12)"
    fi
}

concurrent() {
    local d=$tmp/conc pids=() st=0
    "$tool" create "$d" || return 1
    for w in $(seq 0 $((workers - 1))); do
        "$tool" append "$d" "$w" "$commits" 3 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || st=1; done
    [ $st -eq 0 ] || { echo "a writer failed"; return 1; }
    "$tool" check "$d" "$workers" "$commits" 3
}

# Starts writers, SIGKILLs one at a random moment, checks the table.
crash_round() {
    local d=$1 round=$2 victim others=()
    "$tool" append "$d" $((100 + round)) 1000 2 >/dev/null 2>&1 &
    victim=$!
    "$tool" append "$d" $((200 + round)) 5 2 >/dev/null 2>&1 &
    others+=($!)
    # 10..400 ms
    sleep "0.$(printf '%03d' $((RANDOM % 390 + 10)))"
    kill -9 "$victim" 2>/dev/null
    wait "$victim" 2>/dev/null
    for p in "${others[@]}"; do wait "$p" || { echo "a surviving writer failed"; return 1; }; done
    "$tool" crashcheck "$d"
}

crash() {
    local d=$tmp/crash
    "$tool" create "$d" || return 1
    for r in $(seq 1 "$kills"); do
        crash_round "$d" "$r" || { echo "after kill $r"; return 1; }
    done
    # the table keeps working after the kills
    "$tool" append "$d" 999 3 2 || return 1
    "$tool" crashcheck "$d"
}

check "delta_concurrency: $workers writers x $commits commits" concurrent
check "delta_concurrency: $kills SIGKILLed writers leave no partial commit" crash

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
