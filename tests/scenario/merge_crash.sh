#!/usr/bin/env bash
# merge_crash.sh — exactly-once under SIGKILL (issue 4's property test).
# build/tools/merge_crash writes a random change stream (inserts, updates,
# deletes with tombstones, primary-key changes, runs of events on hot keys,
# envelope and bare events mixed) into a raw zone round by round, as objects
# of random sizes, some published short and rewritten whole later.  After
# each round `lakesync merge --once --batch-events N` (N small and random)
# runs several times while the script SIGKILLs it at random moments (before
# it starts committing, during, or after it ended); then one clean run.  The
# table must equal the model (the stream applied in order), for a
# copy-on-write table and a deletion-vector table, over several seeds.
# LAKESYNC_QUICK=1 shortens it.  LAKESYNC_SEED fixes the first seed.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${LAKESYNC_BIN:-build/lakesync}
tool=$(dirname "$bin")/tools/merge_crash
pass=0 fail=0 skip=0
seeds=3 ops=1500 rounds=5 kills=4
[ -n "${LAKESYNC_QUICK:-}" ] && seeds=1 ops=400 rounds=3 kills=2
seed0=${LAKESYNC_SEED:-$(( (RANDOM << 15) | RANDOM ))}

if [ ! -x "$bin" ] || [ ! -x "$tool" ]; then
    echo "skip merge_crash: $bin or $tool not built (make && make tests)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_mcrash.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
# private copies: a rebuild while the test runs must not pull them away
cp "$bin" "$tmp/lakesync" && cp "$tool" "$tmp/merge_crash" || exit 2
bin=$tmp/lakesync tool=$tmp/merge_crash

# one_run SEED KIND: returns 0 when the table equals the model; prints why not
one_run() {
    local seed=$1 kind=$2 d=$tmp/$1-$2 props=() killed=0 runs=0 mid=0
    [ "$kind" = dv ] && props=(--table-property delta.enableDeletionVectors=true)
    mkdir -p "$d"
    for r in $(seq 1 "$rounds"); do
        "$tool" gen "$d/raw" "$seed" "$ops" "$rounds" "$r" || { echo "gen failed (round $r)"; return 1; }
        for k in $(seq 1 "$kills"); do
            local n=$((RANDOM % 40 + 3))
            "$bin" merge --from "$d/raw" --to "$d/table" --key id --once --batch-events "$n" "${props[@]}" \
                >"$d/run.log" 2>&1 &
            local pid=$!
            # 0..250 ms: sometimes before the first commit, often in the middle, sometimes after the end
            sleep "0.$(printf '%03d' $((RANDOM % 250)))"
            local hit=0
            kill -9 "$pid" 2>/dev/null && hit=1
            wait "$pid" 2>/dev/null
            local st=$?
            runs=$((runs + 1))
            killed=$((killed + hit))
            # killed after at least one commit: in the middle of the work
            [ "$hit" = 1 ] && grep -q '^batch:' "$d/run.log" && mid=$((mid + 1))
            cat "$d/run.log" >>"$d/merge.log"
            if [ "$st" -ne 0 ] && [ "$st" -ne 137 ]; then
                echo "merge exited with status $st (round $r): $(tail -n 3 "$d/merge.log" | tr '\n' ' ')"
                return 1
            fi
        done
    done
    # the sink finishes the objects it left short, then the clean run
    "$tool" gen "$d/raw" "$seed" "$ops" "$rounds" $((rounds + 1)) || { echo "gen failed (final)"; return 1; }
    if ! "$bin" merge --from "$d/raw" --to "$d/table" --key id --once --batch-events 37 "${props[@]}" \
        >>"$d/merge.log" 2>&1; then
        echo "final merge failed: $(tail -n 3 "$d/merge.log" | tr '\n' ' ')"
        return 1
    fi
    "$tool" model "$seed" "$ops" "$rounds" >"$d/want" || { echo "model failed"; return 1; }
    if ! "$bin" table scan "$d/table" --format jsonl >"$d/scan" 2>"$d/scan.err"; then
        echo "scan failed: $(head -n 3 "$d/scan.err")"
        return 1
    fi
    LC_ALL=C sort "$d/scan" >"$d/got"
    if ! cmp -s "$d/got" "$d/want"; then
        echo "table differs from the model ($(wc -l <"$d/got") rows, model $(wc -l <"$d/want")): $(diff "$d/want" "$d/got" | head -n 6 | tr '\n' ' ')"
        return 1
    fi
    # a further run finds nothing new
    local v0 v1
    v0=$("$bin" table describe "$d/table" | sed -n 's/^version: \([0-9]*\).*/\1/p')
    "$bin" merge --from "$d/raw" --to "$d/table" --key id --once >/dev/null 2>&1
    v1=$("$bin" table describe "$d/table" | sed -n 's/^version: \([0-9]*\).*/\1/p')
    if [ "$v0" != "$v1" ]; then
        echo "an idle merge committed (version $v0 -> $v1)"
        return 1
    fi
    echo "$(wc -l <"$d/want") rows, $runs runs, $killed killed ($mid after committing), version $v1"
    return 0
}

for i in $(seq 0 $((seeds - 1))); do
    seed=$((seed0 + i))
    for kind in cow dv; do
        name="merge_crash: seed $seed, $kind, $ops ops in $rounds rounds"
        if out=$(one_run "$seed" "$kind" 2>&1); then
            pass=$((pass + 1))
            echo "ok $name ($(echo "$out" | tail -n 1))"
        else
            fail=$((fail + 1))
            echo "FAIL $name: $(echo "$out" | tail -n 3 | tr '\n' ' ') (rerun with LAKESYNC_SEED=$seed)"
        fi
    done
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
