#!/usr/bin/env bash
# bench/s3.sh — object-store throughput and commit latency against a local
# S3 server: lakesync's S3 backend (build/bench/s3_bench) and, as the peer
# in the same run, curl (its own SigV4 signing) moving the same objects.
#
#   bench/s3.sh [OBJECT_MIB [NOBJECTS]]     (16 and 8; needs `make bench tests`)
#
# The server is moto_server started on 127.0.0.1 (or the endpoint in
# LAKESYNC_TEST_S3_ENDPOINT, with credentials from the environment).  moto
# is a Python server: the figures measure the client and the server
# together, and the server dominates; the ratio says how lakesync's client
# compares with curl's against it.  Commit latency is the put-if-absent a
# Delta commit waits on.
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-16}
nobj=${2:-8}
[ -x build/bench/s3_bench ] || make -s bench >/dev/null
[ -x build/tools/store_tool ] || make -s tests >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_s3bench.XXXXXX")
mpid=""
cleanup() {
    [ -n "$mpid" ] && kill "$mpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

endpoint=${LAKESYNC_TEST_S3_ENDPOINT:-}
if [ -z "$endpoint" ]; then
    moto=$(command -v moto_server || true)
    [ -z "$moto" ] && [ -x /root/.pyenv/shims/moto_server ] && moto=/root/.pyenv/shims/moto_server
    if [ -z "$moto" ]; then
        echo "bench/s3.sh: no moto_server and no LAKESYNC_TEST_S3_ENDPOINT" >&2
        exit 1
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$moto" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
    mpid=$!
    for _ in $(seq 1 120); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.25
    done
    endpoint=http://127.0.0.1:$port
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret AWS_REGION=us-east-1
fi
export AWS_ENDPOINT_URL_S3=$endpoint
bucket=${LAKESYNC_TEST_S3_BUCKET:-lakesync-bench}
build/tools/store_tool mkbucket "s3://$bucket" >/dev/null

echo "S3 throughput and commit latency, $nobj objects of $mib MiB, server $endpoint"
build/bench/s3_bench "s3://$bucket/lks-bench-$$" "$mib" "$nobj" 50 | tee "$tmp/lks.out"

# the peer: curl PUT and GET of the same sizes, one connection each time
head -c $((mib << 20)) /dev/urandom >"$tmp/obj"
sig=(--aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
t0=$(date +%s.%N)
for i in $(seq 1 "$nobj"); do
    curl -sf "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$tmp/obj" \
        "$endpoint/$bucket/curl-bench-$$/obj-$i.bin" -o /dev/null
done
t1=$(date +%s.%N)
for i in $(seq 1 "$nobj"); do
    curl -sf "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
        "$endpoint/$bucket/curl-bench-$$/obj-$i.bin" -o "$tmp/back"
done
t2=$(date +%s.%N)
cmp -s "$tmp/obj" "$tmp/back" || echo "bench/s3.sh: curl read back a different object" >&2
for i in $(seq 1 "$nobj"); do
    curl -sf "${sig[@]}" -X DELETE "$endpoint/$bucket/curl-bench-$$/obj-$i.bin" -o /dev/null || true
done
awk -v mb=$((mib * nobj)) -v t0="$t0" -v t1="$t1" -v t2="$t2" '
    BEGIN {
        printf "%-34s %10.1f MiB/s\n", "curl PUT", mb / (t1 - t0)
        printf "%-34s %10.1f MiB/s\n", "curl GET", mb / (t2 - t1)
    }' | tee "$tmp/curl.out"
awk '
    FNR == NR && /^lakesync PUT/ { lp = $3 } FNR == NR && /^lakesync GET/ { lg = $3 }
    FNR != NR && /^curl PUT/ { cp = $3 } FNR != NR && /^curl GET/ { cg = $3 }
    END { printf "ratio lakesync/curl: PUT %.2fx, GET %.2fx (above 1: lakesync faster)\n", lp / cp, lg / cg }' \
    "$tmp/lks.out" "$tmp/curl.out"
