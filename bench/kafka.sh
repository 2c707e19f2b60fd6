#!/usr/bin/env bash
# bench/kafka.sh — Kafka into Delta (the streaming merge) and Kafka into the
# raw zone (the sink), against `kcat` consuming the same topic to /dev/null
# as the ceiling, in the same run, on librdkafka's mock cluster
# (tests/tools/kafka_mock: one process, loopback; a real cluster is faster).
#
#   bench/kafka.sh [NEVENTS] [KEYS]   (default 200000 events over 50000 keys;
#                                      needs `make`, `make tests` and kcat)
#
# The topic (32 partitions: the mock keeps about 5 MB per partition) holds NEVENTS Debezium change events of
# salesdb.CUSTOMER without the schema envelope (inserts, updates, deletes
# each followed by its tombstone: the message count is printed), produced
# once with kcat.  Then, one process each, best of 2: kcat -C to /dev/null;
# `lakesync merge --from kafka://... --once` into a new table (one Delta
# commit per 100000 records); `lakesync sink --once` into a new raw zone
# (flush.size 10000), with tombstones written as null lines and ignored.  Prints messages per second and the ratio to kcat.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
keys=${2:-50000}
command -v kcat >/dev/null 2>&1 || { echo "bench/kafka.sh: needs kcat (scripts/install-deps.sh)" >&2; exit 1; }
[ -x build/lakesync ] || make -s >/dev/null
[ -x build/tools/kafka_mock ] || make -s tests >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_kbench.XXXXXX")
bin=build/lakesync
. tests/scenario/lib_kafka.bash
trap 'mock_stop; rm -rf "$tmp"' EXIT
T=bench.salesdb.CUSTOMER
mock_start -t "$T:32"
echo "generating $n events ..." >&2
DBZ_ENVELOPE=0 python3 "$dbz_events" churn "$n" "$keys" 1 "$tmp/ev" "$tmp/exp"
produce "$T" "$tmp/ev"
msgs=$(produced "$T")
bytes=$(stat -c %s "$tmp/ev")

secs() { # best of 2 runs; $1: a setup command run (untimed) before each
    local setup=$1 best="" s e t
    shift
    for _ in 1 2; do
        $setup
        s=$EPOCHREALTIME
        "$@" >/dev/null 2>"$tmp/err" || { echo "bench/kafka.sh: $* failed: $(head -n 3 "$tmp/err")" >&2; exit 1; }
        e=$EPOCHREALTIME
        t=$(echo "$e - $s" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
fresh() { rm -rf "$tmp/table" "$tmp/raw"; }
cat >"$tmp/sink.properties" <<EOP
kafka.bootstrap.servers=$BOOT
topics=$T
raw.path=$tmp/raw
flush.size=10000
EOP
run_sink() { "$bin" sink -c "$tmp/sink.properties" -o group.id="bench-$RANDOM$RANDOM" --once "$@"; }
run_sink_ignore() { run_sink -o behavior.on.null.values=ignore; }
run_sink_write() { run_sink -o behavior.on.null.values=write; }
t_kcat=$(secs fresh kcat -b "$BOOT" -C -t "$T" -o beginning -e -q)
t_merge=$(secs fresh "$bin" merge --from "kafka://$BOOT/$T" --to "$tmp/table" --once --batch-events 100000)
t_sink=$(secs fresh run_sink_write)
t_sink_i=$(secs fresh run_sink_ignore)
"$bin" merge --from "kafka://$BOOT/$T" --to "$tmp/check" --once >/dev/null 2>&1
rows=$("$bin" table scan "$tmp/check" --format jsonl | wc -l)
[ "$rows" = "$(wc -l <"$tmp/exp")" ] || { echo "bench/kafka.sh: the table has $rows rows, expected $(wc -l <"$tmp/exp")" >&2; exit 1; }

rate() { echo "scale=0; $msgs / $1" | bc -l; }
printf 'Kafka (mock cluster, 32 partitions): %d messages (%d change events, %.1f MB), best of 2\n' \
    "$msgs" "$n" "$(echo "$bytes / 1000000" | bc -l)"
printf '                                       msgs/s     seconds\n'
printf 'kcat -C > /dev/null (ceiling)      %10s    %8.3f\n' "$(rate "$t_kcat")" "$t_kcat"
printf 'lakesync merge --from kafka:// (Delta) %6s    %8.3f   %.2fx of kcat\n' "$(rate "$t_merge")" "$t_merge" "$(echo "$t_kcat / $t_merge" | bc -l)"
printf 'lakesync sink (raw zone, nulls written) %6s    %8.3f   %.2fx of kcat\n' "$(rate "$t_sink")" "$t_sink" "$(echo "$t_kcat / $t_sink" | bc -l)"
printf 'lakesync sink (nulls ignored)      %10s    %8.3f   %.2fx of kcat\n' "$(rate "$t_sink_i")" "$t_sink_i" "$(echo "$t_kcat / $t_sink_i" | bc -l)"
echo "(the sink's times include joining the consumer group, about 3 s on the mock cluster; with nulls ignored"
echo " every tombstone ends an object, since an object's line i is offset start + i)"
