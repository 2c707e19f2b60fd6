#!/usr/bin/env bash
# bench/freshness.sh — end-to-end freshness of `lakesync run`: how long after
# a row is inserted into MariaDB it can be read from the lake.
#
#   bench/freshness.sh            (50000 rows/s for 30 s)
#   bench/freshness.sh --quick    (50000 rows/s for 10 s)
#
#   RATE=N        target insert rate, rows/s over all connections (50000)
#   DURATION=S    seconds of load (30; 10 with --quick)
#   CONNS=N       client connections inserting (2)
#   BATCH=N       rows per INSERT statement (1000)
#   MERGE_MS=N    lakesync merge.interval.ms (500, the default)
#   POLL_MS=N     lake polling period (100)
#   PORT=N        the private server's port (default: a free one from 3400)
#   KEEP=1        keep the work directory (printed)
#
# Needs `make` (build/lakesync) and MariaDB's server (scripts/install-deps.sh).
#
# A private MariaDB (scripts/mariadb.sh) holds bench.ev (id BIGINT
# AUTO_INCREMENT key, ts DATETIME(6) DEFAULT NOW(6) = the insert statement's
# time, k, a 46-byte payload).  `lakesync run` captures it into a lake.  The
# load: CONNS connections each run a stored procedure that inserts BATCH rows
# per statement (autocommit: one transaction each) and sleeps to keep its
# share of RATE.  Meanwhile the lake is polled every POLL_MS with `SELECT
# max(id) … WHERE id > <last max>` sent to one `lakesync sql` shell (each
# statement reads the table's latest version; the filter lets file
# statistics skip what was already seen), and each poll's start time and
# answer are recorded.  Afterwards every 997th id
# is a sample: its freshness is the start of the first poll whose max(id)
# reached it minus its ts.  Ids are allocated in statement order and the
# binlog is in commit order, so max(id) stands for "every id up to it" to
# within the few milliseconds connections can overlap.  Freshness includes
# the insert statement's own time, the merge interval, the commit and up to
# one polling period plus one poll's run time (both printed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dur=${DURATION:-30}
if [ "${1:-}" = "--quick" ]; then
    dur=${DURATION:-10}
elif [ -n "${1:-}" ]; then
    sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
fi
rate=${RATE:-50000}
conns=${CONNS:-2}
batch=${BATCH:-1000}
merge_ms=${MERGE_MS:-500}
poll_ms=${POLL_MS:-100}
sample=997

[ -x build/lakesync ] || make -s -j2 >/dev/null
bin=$root/build/lakesync
"$bin" run --help >/dev/null 2>&1 || { echo "freshness.sh: build/lakesync has no 'run' command" >&2; exit 1; }
command -v mariadbd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"

dir=$(mktemp -d "${TMPDIR:-/tmp}/lks_fresh.XXXXXX")
runpid="" pollpid=""
cleanup() {
    [ -n "$pollpid" ] && kill "$pollpid" 2>/dev/null || true
    [ -n "$runpid" ] && kill -9 "$runpid" 2>/dev/null || true
    scripts/mariadb.sh stop "$dir/db" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory: $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
cp "$bin" "$dir/lakesync" # a rebuild during the run must not pull it away
bin=$dir/lakesync

port=${PORT:-}
if [ -z "$port" ]; then
    port=$((3400 + ($$ + 400) % 500))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
fi
echo "freshness.sh: starting MariaDB on port $port in $dir/db ..." >&2
scripts/mariadb.sh start "$dir/db" "$port"
my() {
    mariadb --no-defaults --protocol=socket --socket="$dir/db/mysqld.sock" -uroot --batch --skip-column-names "$@"
}
my <<EOF
CREATE DATABASE bench;
USE bench;
CREATE TABLE ev (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ts DATETIME(6) NOT NULL DEFAULT NOW(6),
  k INT NOT NULL, payload VARCHAR(100) NOT NULL);
DELIMITER //
-- One connection's share: BATCH rows per statement, paced so that batch n
-- starts no earlier than t0 + n * batch / rate (connections offset evenly).
CREATE PROCEDURE load_ev(w INT, conns INT, rate DOUBLE, dur DOUBLE, batch INT)
BEGIN
  DECLARE n INT DEFAULT 0;
  DECLARE t0, lag DOUBLE;
  SET @sql = CONCAT('INSERT INTO ev (k, payload) SELECT seq, ''abcdefghijklmnopqrstuvwxyz0123456789abcdefghij'' FROM seq_1_to_', batch);
  PREPARE ins FROM @sql;
  SET t0 = UNIX_TIMESTAMP(SYSDATE(6)) + (w - 1) * batch / rate;
  DO SLEEP((w - 1) * batch / rate);
  WHILE UNIX_TIMESTAMP(SYSDATE(6)) < t0 + dur DO
    EXECUTE ins;
    SET n = n + 1;
    SET lag = t0 + n * batch * conns / rate - UNIX_TIMESTAMP(SYSDATE(6));
    IF lag > 0 THEN DO SLEEP(lag); END IF;
  END WHILE;
  DEALLOCATE PREPARE ins;
END//
DELIMITER ;
EOF

cat >"$dir/run.properties" <<EOF
database.hostname=127.0.0.1
database.port=$port
database.user=lakesync
database.password=lakesync
database.include.list=bench
warehouse=$dir/wh
topic.prefix=freshness
merge.interval.ms=$merge_ms
EOF
"$bin" run -c "$dir/run.properties" >"$dir/run.log" 2>&1 </dev/null &
runpid=$!
for _ in $(seq 1 300); do
    [ -d "$dir/wh/bench/ev/_delta_log" ] && break
    kill -0 "$runpid" 2>/dev/null || { echo "freshness.sh: lakesync run exited:" >&2; tail -5 "$dir/run.log" >&2; exit 1; }
    sleep 0.1
done
[ -d "$dir/wh/bench/ev/_delta_log" ] || { echo "freshness.sh: no lake table after 30 s" >&2; tail -5 "$dir/run.log" >&2; exit 1; }

# The poller: one `lakesync sql` shell (a coprocess) asked for max(id)
# every POLL_MS (each statement reads the table's latest version); lines of
# "poll_start_us max_id query_us".
poll() {
    local last=0 t0 t1 next now m
    coproc SQ { "$bin" sql --warehouse "$dir/wh" --format csv 2>/dev/null; }
    next=${EPOCHREALTIME/./}
    while [ ! -e "$dir/stop_poll" ]; do
        t0=${EPOCHREALTIME/./}
        echo "SELECT max(id) AS m FROM bench.ev WHERE id > $last;" >&"${SQ[1]}"
        read -r -t 30 _ <&"${SQ[0]}" && read -r -t 30 m <&"${SQ[0]}" || { echo "poller: no answer" >&2; return 1; }
        t1=${EPOCHREALTIME/./}
        m=${m//[$'\r"']/}
        if [[ "$m" =~ ^[0-9]+$ ]]; then last=$m; fi
        echo "$t0 $last $((t1 - t0))"
        next=$((next + poll_ms * 1000))
        now=${EPOCHREALTIME/./}
        if [ "$next" -gt "$now" ]; then
            sleep "$(printf '%d.%06d' $(((next - now) / 1000000)) $(((next - now) % 1000000)))"
        else
            next=$now
        fi
    done
}
poll >"$dir/polls.txt" &
pollpid=$!

echo "freshness.sh: loading $rate rows/s for $dur s from $conns connections (batches of $batch) ..." >&2
cpu0=$(awk '{ print $14 + $15 }' "/proc/$runpid/stat")
t_load0=$(date +%s%N)
loaders=()
for w in $(seq 1 "$conns"); do
    my bench -e "CALL load_ev($w, $conns, $rate, $dur, $batch)" &
    loaders+=($!)
done
for p in "${loaders[@]}"; do wait "$p"; done
t_load1=$(date +%s%N)
cpu1=$(awk '{ print $14 + $15 }' "/proc/$runpid/stat")

read -r nrows maxid span < <(my bench -e "SELECT COUNT(*), MAX(id), TIMESTAMPDIFF(MICROSECOND, MIN(ts), MAX(ts)) / 1e6 FROM ev")
echo "freshness.sh: waiting for the lake to reach id $maxid ..." >&2
caught=0
for _ in $(seq 1 600); do
    if [ -s "$dir/polls.txt" ] && [ "$(tail -n 1 "$dir/polls.txt" | cut -d' ' -f2)" = "$maxid" ]; then
        caught=1
        break
    fi
    sleep 0.1
done
touch "$dir/stop_poll"
wait "$pollpid" || true
pollpid=""
kill -TERM "$runpid"
rc=0
wait "$runpid" || rc=$?
runpid=""
[ "$caught" = 1 ] || echo "freshness.sh: the lake did not reach id $maxid within 60 s after the load (last poll: $(tail -n 1 "$dir/polls.txt"))" >&2
[ "$rc" = 0 ] || echo "freshness.sh: lakesync run exited $rc after SIGTERM: $(tail -n 3 "$dir/run.log" | tr '\n' ' ')" >&2

my bench -e "SELECT id, ROUND(UNIX_TIMESTAMP(ts) * 1000000) FROM ev WHERE id % $sample = 0 ORDER BY id" >"$dir/samples.txt"
lake_rows=$("$bin" sql --warehouse "$dir/wh" --format csv "SELECT COUNT(*) FROM bench.ev" | tail -n 1)
version=$("$bin" table describe "$dir/wh/bench/ev" | sed -n 's/^version: \([0-9]*\).*/\1/p')
tck=$(getconf CLK_TCK)

awk -v polls="$dir/polls.txt" '
    function pct(p,  i) { i = int(ns * p + 0.5); return v[i < 1 ? 1 : i] }
    BEGIN {
        while ((getline line < polls) > 0) {
            split(line, f, " ")
            np++; pt[np] = f[1]; pm[np] = f[2]; pq[np] = f[3]
        }
    }
    { # samples in id order; polls in time order with a non-decreasing max
        while (j < np && pm[j + 1] < $1) j++
        if (j >= np) { missed++; next }
        d = (pt[j + 1] - $2) / 1000
        ns++; v[ns] = d
    }
    END {
        if (ns == 0) { print "no sample became visible"; exit 1 }
        # insertion sort is fine for a few thousand samples
        for (i = 2; i <= ns; i++) { x = v[i]; for (k = i - 1; k >= 1 && v[k] > x; k--) v[k + 1] = v[k]; v[k + 1] = x }
        for (i = 1; i <= np; i++) { qs += pq[i]; if (pq[i] > qmax) qmax = pq[i] }
        printf "SAMPLES %d %d\n", ns, missed
        printf "P %.0f %.0f %.0f %.0f %.0f\n", v[1], pct(0.5), pct(0.9), pct(0.99), v[ns]
        printf "POLLS %d %.1f %.1f\n", np, qs / np / 1000, qmax / 1000
    }' "$dir/samples.txt" >"$dir/stats.txt"

read -r _ nsamples nmissed < <(grep '^SAMPLES' "$dir/stats.txt")
read -r _ pmin p50 p90 p99 pmax < <(grep '^P ' "$dir/stats.txt")
read -r _ npolls qavg qmax < <(grep '^POLLS' "$dir/stats.txt")
wall=$(awk -v a="$t_load0" -v b="$t_load1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
achieved=$(awk -v n="$nrows" -v s="$span" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
cpu=$(awk -v c=$((cpu1 - cpu0)) -v t="$tck" -v w="$wall" 'BEGIN { printf "%.2f s (%.0f%% of one core)", c / t, 100 * c / t / w }')

echo "End-to-end freshness: MariaDB $(my -e 'SELECT VERSION()') → lakesync run → Delta ($(nproc) cores)"
echo "load:      $nrows rows in $span s of insert time = $achieved rows/s (target $rate) from $conns connections,"
echo "           $batch rows per INSERT (one transaction each); load wall time $wall s"
echo "lakesync:  merge.interval.ms=$merge_ms; $lake_rows rows in the lake at the end, table version $version;"
echo "           CPU during the load $cpu; exit status after SIGTERM $rc"
echo "polling:   $npolls polls of max(id), every $poll_ms ms (one lakesync sql shell); a poll took $qavg ms on average, $qmax ms at most"
echo "freshness: $nsamples sampled rows (every ${sample}th id; $nmissed never seen): ms from the INSERT statement's start to the first poll that saw the row"
printf '           min %s   p50 %s   p90 %s   p99 %s   max %s ms\n' "$pmin" "$p50" "$p90" "$p99" "$pmax"
[ "$caught" = 1 ] && [ "$rc" = 0 ]
