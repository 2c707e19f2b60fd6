# lib_kafka.bash — what the Kafka scenario tests share (sourced, not run):
# the result lines (lib_report.bash), the mock cluster (tests/tools/kafka_mock:
# librdkafka's mock Kafka on 127.0.0.1, no real broker), producing with
# kcat, table checks.
#
# Expects: bin (lakesync) and, before mock_start, tmp (the test's scratch
# directory).

. "$(dirname "${BASH_SOURCE[0]}")/lib_report.bash"

tools=${LAKESYNC_TOOLS:-build/tools}
dbz_events=tests/tools/dbz_events.py

# kafka_prereqs NAME: unless lakesync, the mock cluster tool, kcat and
# python3 are all there, the whole test NAME is skipped and the script ends
kafka_prereqs() {
    local miss=""
    [ -x "$bin" ] || miss="$bin not built (make)"
    [ -x "$tools/kafka_mock" ] || miss="$tools/kafka_mock not built (make tests)"
    command -v kcat >/dev/null 2>&1 || miss="kcat not installed (scripts/install-deps.sh)"
    command -v python3 >/dev/null 2>&1 || miss="python3 not installed"
    if [ -n "$miss" ]; then
        skipped "$1" "$miss"
        finish
    fi
}

# mock_start [-b N] [-t TOPIC:PARTS]...: starts the cluster, sets BOOT; the
# control pipe is fd 7 (mock_cmd), stopped by mock_stop
mock_start() {
    rm -f "$tmp/mock.ctl" "$tmp/mock.out"
    mkfifo "$tmp/mock.ctl"
    "$tools/kafka_mock" "$@" <"$tmp/mock.ctl" >"$tmp/mock.out" 2>"$tmp/mock.err" &
    MOCK_PID=$!
    exec 7>"$tmp/mock.ctl"
    local i
    for i in $(seq 100); do
        grep -q '^bootstrap ' "$tmp/mock.out" 2>/dev/null && break
        sleep 0.05
    done
    BOOT=$(sed -n 's/^bootstrap //p' "$tmp/mock.out")
    [ -n "$BOOT" ]
}

# mock_cmd LINE: one command to the cluster (see kafka_mock.c)
mock_cmd() { echo "$*" >&7; }

mock_stop() {
    if [ -n "${MOCK_PID:-}" ]; then
        exec 7>&-
        wait "$MOCK_PID" 2>/dev/null
        MOCK_PID=
    fi
}

# produce TOPIC FILE: "KEY<TAB>VALUE" lines (empty value: tombstone); the
# count of messages per topic is kept in $tmp/produced.<topic>
produce() {
    kcat -b "$BOOT" -t "$1" -P -K $'\t' -Z -l "$2" 2>"$tmp/kcat.err" || return 1
    echo $(($(produced "$1") + $(wc -l <"$2"))) >"$tmp/produced.$1"
}

# produced TOPIC: messages produced to it so far (= the sum of its end offsets)
produced() {
    cat "$tmp/produced.$1" 2>/dev/null || echo 0
}

# check_table NAME TABLE EXPECTED: the table equals the expected rows
check_table() {
    local name=$1 t=$2 want=$3
    if ! "$bin" table scan "$t" --format jsonl >"$tmp/scan" 2>"$tmp/scan.err"; then
        if [ ! -s "$want" ] && grep -q "no Delta table" "$tmp/scan.err"; then
            ok "$name (no table, nothing expected)"
            return 0
        fi
        bad "$name" "table scan failed: $(head -n 3 "$tmp/scan.err" | tr '\n' ' ')"
        return 1
    fi
    LC_ALL=C sort "$tmp/scan" >"$tmp/got"
    LC_ALL=C sort "$want" >"$tmp/want"
    if ! cmp -s "$tmp/got" "$tmp/want"; then
        bad "$name" "table differs ($(wc -l <"$tmp/got") rows, expected $(wc -l <"$tmp/want")): $(diff "$tmp/want" "$tmp/got" | head -n 6 | tr '\n' ' ')"
        return 1
    fi
    ok "$name ($(wc -l <"$tmp/got") rows)"
}

# positions TABLE: "topic:p version" lines of the table's lakesync positions
positions() {
    "$bin" table describe "$1" 2>/dev/null | sed -n 's/^application lakesync:\(.*\): version \([0-9]*\).*/\1 \2/p' | LC_ALL=C sort
}

# total_position TABLE TOPIC: the sum of the topic's partition positions
total_position() {
    positions "$1" | awk -v t="$2" 'index($1, t ":") == 1 { s += $2 } END { print s + 0 }'
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds
wait_for() {
    local n=$(($1 * 5))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}

# random_sleep MIN_CS SPAN_CS: sleeps MIN + a random part of SPAN centiseconds
random_sleep() {
    sleep "$(awk -v r="$RANDOM" -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a + r % b) / 100 }')"
}
