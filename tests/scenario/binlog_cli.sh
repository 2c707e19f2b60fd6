#!/usr/bin/env bash
# binlog_cli.sh — `lakesync binlog FILE…`: binlogs decoded offline.
#
# On corpus binlogs (corpus/binlog/, skipped visibly when the corpus is
# absent) and on a binlog a fresh MariaDB writes here (scripts/mariadb.sh
# in a temp dir on a free port; skipped visibly without mariadbd): one line
# per row change on stdout and nothing else, in both formats (Debezium JSON
# values and jsonl), values and source positions as the rows hold them;
# several files as one stream; damaged files (truncated, corrupt, a flipped
# byte under CRC32) a clear error naming the file and position, exit 1, the
# rows before the damage still printed; --no-verify-checksum; usage errors
# exit 2.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash

if [ ! -x "$bin" ]; then
    skipped binlog_cli "$bin not built (make)"
    finish
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_binlogcli.XXXXXX") || exit 2
cleanup() {
    mariadb_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

# run ARGS...: `lakesync binlog ARGS`, output in $tmp/out and $tmp/err, status in $rc
run() {
    "$bin" binlog "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
}
lines() { wc -l <"$tmp/out" | tr -d ' '; }

# check NAME PYTHON: runs PYTHON with `rows` = the JSON objects of $tmp/out
# (every line must be one); the script prints nothing when all is well.
check() {
    local name=$1 out
    out=$(python3 - "$tmp/out" "$2" 2>&1 <<'PY'
import json, sys
rows = []
for n, line in enumerate(open(sys.argv[1], encoding='utf-8'), 1):
    try:
        v = json.loads(line)
    except ValueError as e:
        print(f"line {n} is not JSON: {e}: {line[:200]}")
        sys.exit(0)
    if not isinstance(v, dict):
        print(f"line {n} is not an object")
        sys.exit(0)
    rows.append(v)
def want(cond, what):
    if not cond:
        print(what)
        sys.exit(0)
exec(sys.argv[2])
PY
)
    if [ -n "$out" ]; then
        bad "$name" "$out"
    else
        ok "$name"
    fi
}

# ---- usage -----------------------------------------------------------------------------------------------

run --help
if [ "$rc" -eq 0 ] && grep -q 'usage: lakesync binlog' "$tmp/out"; then ok "help"; else bad "help" "exit $rc"; fi
run
if [ "$rc" -eq 2 ] && grep -q 'no binlog FILE' "$tmp/err"; then ok "no files: usage error"; else bad "no files" "exit $rc: $(oneline "$tmp/err")"; fi
run --format xml x
if [ "$rc" -eq 2 ] && grep -q "unknown --format 'xml'" "$tmp/err"; then ok "bad --format"; else bad "bad --format" "exit $rc"; fi
run "$tmp/missing.000001"
if [ "$rc" -eq 1 ] && grep -q "missing.000001" "$tmp/err"; then ok "missing file: exit 1"; else bad "missing file" "exit $rc"; fi

# ---- corpus files ------------------------------------------------------------------------------------------

corpus=${LAKESYNC_CORPUS:-../shared/corpus}
rmc=$corpus/binlog/rust_mysql_common
if [ ! -f "$corpus/MANIFEST.md" ] || [ ! -d "$rmc" ]; then
    skipped "corpus files" "corpus absent"
else
    f=$rmc/mysql-enum-string-set.000001
    run --format jsonl "$f"
    if [ "$rc" -ne 0 ] || [ "$(lines)" != 3 ] || [ -s "$tmp/err" ]; then
        bad "corpus jsonl" "exit $rc, $(lines) lines: $(oneline "$tmp/err")"
    else
        check "corpus jsonl: insert, update, delete" '
want([r["op"] for r in rows] == ["c", "u", "d"], "ops %s" % [r["op"] for r in rows])
a = rows[0]["after"]
want(rows[0]["before"] is None and rows[2]["after"] is None, "images")
want(a["f3"] == "var1" and a["f4"] == "one,three" and a["f5"] == "0123456789", "insert values %s" % a)
# (the MANIFEST says 260 characters for f2; the row, and mariadb-binlog, hold 298)
want(len(a["f1"]) == 100 and len(a["f2"]) == 298, "string lengths %d %d" % (len(a["f1"]), len(a["f2"])))
want(rows[1]["after"]["f3"] == "variant2" and rows[1]["after"]["f4"] == "two,four", "update")
want(rows[2]["before"] == rows[1]["after"], "delete before = update after")
want(rows[0]["db"] == "mysql" and rows[0]["table"] == "t", "names")
want(rows[0]["file"] == "mysql-enum-string-set.000001" and rows[0]["pos"] == 1077, "position %s %s" % (rows[0]["file"], rows[0]["pos"]))
want(list(a.keys()) == ["f1", "f2", "f3", "f4", "f5"], "column order")
'
    fi
    run --topic-prefix dbserver1 "$f"
    if [ "$rc" -ne 0 ] || [ "$(lines)" != 3 ]; then
        bad "corpus dbz" "exit $rc, $(lines) lines: $(oneline "$tmp/err")"
    else
        check "corpus dbz: Debezium values" '
r = rows[1]
want(r["op"] == "u" and "schema" not in r, "envelope")
s = r["source"]
want(s["name"] == "dbserver1" and s["connector"] == "mysql", "source %s" % s)
want(s["gtid"] == "93e95066-a2f4-11ec-9b69-9657f0ae95e2:4", "gtid %s" % s["gtid"])
want(s["file"] == "mysql-enum-string-set.000001" and s["pos"] == 1560 and s["row"] == 0, "position %s" % s)
want(s["db"] == "mysql" and s["table"] == "t" and s["snapshot"] == "false", "names")
want(r["after"]["f4"] == "two,four" and r["ts_ms"] == s["ts_ms"], "values")
'
    fi
    # several files: one stream, lines add up
    run --format jsonl "$rmc/json-opaque.binlog" "$rmc/vector.binlog" "$rmc/transaction_compression.000001" "$f"
    if [ "$rc" -eq 0 ] && [ "$(lines)" = 22 ]; then
        check "several files" '
want(rows[0]["after"]["a"] == "{\"a\":\"base64:type15:VQ==\"}", "json text %s" % rows[0]["after"])
want(rows[7]["after"]["a"] == "{\"e\":null}", "json null")
want(rows[8]["table"] == "foo" and rows[8]["after"]["vector_column"] == "zcyMP83MDEAzM1NA", "vector %s" % rows[8])
want(rows[18]["table"] == "tb1" and rows[18]["after"] == {"@1": 1}, "payload row %s" % rows[18])
want(rows[18]["file"] == "transaction_compression.000001", "file name per input")
want(rows[19]["file"] == "mysql-enum-string-set.000001", "file name per input")
'
    else
        bad "several files" "exit $rc, $(lines) lines (want 8 + 10 + 1 + 3): $(oneline "$tmp/err")"
    fi
    # damaged files: a clear error naming the file and position, exit 1
    run "$rmc/binlog_truncated_event.000001"
    if [ "$rc" -eq 1 ] && grep -q "binlog_truncated_event.000001: truncated event at 4" "$tmp/err" && [ ! -s "$tmp/out" ]; then
        ok "truncated file"
    else
        bad "truncated file" "exit $rc: $(oneline "$tmp/err")"
    fi
    run "$rmc/corrupt-relay-bin.000624"
    if [ "$rc" -eq 1 ] && grep -q "corrupt-relay-bin.000624: QUERY event at 91204" "$tmp/err"; then
        ok "corrupt file"
    else
        bad "corrupt file" "exit $rc: $(oneline "$tmp/err")"
    fi
    # rows before an error are printed; the error goes to stderr only
    run --format jsonl "$f" "$rmc/binlog_truncated_event.000001" "$rmc/vector.binlog"
    if [ "$rc" -eq 1 ] && [ "$(lines)" = 3 ] && grep -q "truncated event" "$tmp/err"; then
        ok "rows before an error"
    else
        bad "rows before an error" "exit $rc, $(lines) lines: $(oneline "$tmp/err")"
    fi
    # a flipped byte inside a row value: the CRC32 catches it, unless asked not to check
    cp "$f" "$tmp/flip.000001"
    off=$(grep -abo 'field_2' "$tmp/flip.000001" | head -n 1 | cut -d: -f1)
    printf 'F' | dd of="$tmp/flip.000001" bs=1 seek="$off" conv=notrunc status=none
    run "$tmp/flip.000001"
    if [ "$rc" -eq 1 ] && grep -q "flip.000001: UPDATE_ROWS_V2 event at 1855: checksum mismatch" "$tmp/err"; then
        ok "checksum mismatch"
    else
        bad "checksum mismatch" "exit $rc: $(oneline "$tmp/err")"
    fi
    run --format jsonl --no-verify-checksum "$tmp/flip.000001"
    if [ "$rc" -eq 0 ] && [ "$(lines)" = 3 ] && grep -q '"f2":"Field_2"' "$tmp/out"; then
        ok "--no-verify-checksum"
    else
        bad "--no-verify-checksum" "exit $rc: $(oneline "$tmp/err")"
    fi
    # every corpus file: no crash, one JSON object per line
    all=0
    for g in "$rmc"/* "$corpus"/binlog/mariadb-operator_mariadb-poc/*; do
        case $(basename "$g") in LICENSE*) continue ;; esac
        "$bin" binlog --format jsonl "$g" >"$tmp/out" 2>"$tmp/err"
        st=$?
        if [ "$st" -gt 1 ]; then
            bad "corpus file $(basename "$g")" "exit $st: $(oneline "$tmp/err")"
            all=-1
            break
        fi
        all=$((all + 1))
    done
    [ "$all" -gt 0 ] && ok "every corpus file ($all): exit 0 or 1, no crash"
fi

# ---- a fresh MariaDB binlog ----------------------------------------------------------------------------------

if ! have_mariadbd; then
    skipped "mariadb binlog" "mariadbd absent (Debian mariadb-server)"
else
    if ! mariadb_start 3900; then
        bad "mariadb binlog" "the server did not start: $(oneline "$tmp/start.log")"
    else
        {
            echo "SET time_zone = '+00:00';"
            echo "CREATE DATABASE shop;"
            echo "CREATE TABLE shop.orders (id BIGINT UNSIGNED PRIMARY KEY, qty INT, price DECIMAL(10,2),"
            echo "  placed DATETIME(6), paid TIMESTAMP(3) NULL, note VARCHAR(40) CHARACTER SET utf8mb4, flag BIT(1));"
            for i in $(seq 1 100); do
                echo "INSERT INTO shop.orders VALUES ($i, $((i * 3)), $i.25, '2024-03-01 10:00:00.$(printf %06d "$i")', '2024-03-02 00:00:00.5', 'n\\\"$i €', b'1');"
            done
            echo "INSERT INTO shop.orders VALUES (18446744073709551615, -2147483648, -99999999.99, '0000-00-00 00:00:00', NULL, NULL, b'0');"
            echo "UPDATE shop.orders SET qty = qty + 1 WHERE id <= 10;"
            echo "DELETE FROM shop.orders WHERE id > 95 AND id <= 100;"
            echo "FLUSH BINARY LOGS;"
        } >"$tmp/load.sql"
        if ! "$root/scripts/mariadb.sh" client "$tmp/db" --default-character-set=utf8mb4 \
            --init-command="SET sql_mode=''" <"$tmp/load.sql" >"$tmp/load.log" 2>&1; then
            bad "mariadb binlog" "loading failed: $(oneline "$tmp/load.log")"
        else
            blf=$tmp/db/data/binlog.000001
            run --format jsonl "$blf"
            if [ "$rc" -ne 0 ] || [ "$(lines)" != 116 ] || [ -s "$tmp/err" ]; then
                bad "mariadb binlog jsonl" "exit $rc, $(lines) lines (want 116): $(oneline "$tmp/err")"
            else
                check "mariadb binlog jsonl: 101 inserts, 10 updates, 5 deletes" '
ops = [r["op"] for r in rows]
want(ops.count("c") == 101 and ops.count("u") == 10 and ops.count("d") == 5, "ops")
a = rows[0]["after"]
want(a == {"id": 1, "qty": 3, "price": "1.25", "placed": "2024-03-01T10:00:00.000001", "paid": "2024-03-02T00:00:00.500000Z", "note": "n\"1 €", "flag": True}, "row 1: %s" % a)
x = rows[100]["after"]
want(x["id"] == 18446744073709551615 and x["qty"] == -2147483648 and x["price"] == "-99999999.99", "extremes %s" % x)
want(x["placed"] is None and x["paid"] is None and x["note"] is None and x["flag"] is False, "nulls %s" % x)
u = rows[101]
want(u["op"] == "u" and u["before"]["qty"] == 3 and u["after"]["qty"] == 4 and u["after"]["id"] == 1, "update %s" % u)
d = rows[115]
want(d["op"] == "d" and d["before"]["id"] == 100 and d["after"] is None, "delete %s" % d)
want(all(r["db"] == "shop" and r["table"] == "orders" and r["file"] == "binlog.000001" for r in rows), "names")
'
            fi
            run "$blf"
            if [ "$rc" -ne 0 ] || [ "$(lines)" != 116 ]; then
                bad "mariadb binlog dbz" "exit $rc, $(lines) lines: $(oneline "$tmp/err")"
            else
                check "mariadb binlog dbz" '
import base64
r = rows[100]
want(r["op"] == "c" and r["source"]["name"] == "lakesync" and r["source"]["file"] == "binlog.000001", "source %s" % r["source"])
want(int.from_bytes(base64.b64decode(r["after"]["id"]), "big") == 2**64 - 1, "BIGINT UNSIGNED %s" % r["after"]["id"])
want(rows[0]["after"]["placed"] == 1709287200000001, "MicroTimestamp %s" % rows[0]["after"]["placed"])
want(rows[0]["after"]["paid"] == "2024-03-02T00:00:00.500Z", "ZonedTimestamp %s" % rows[0]["after"]["paid"])
gt = [x["source"]["gtid"] for x in rows]
want(all(g and g.startswith("0-1-") for g in gt), "gtids %s" % gt[:3])
want(rows[1]["source"]["pos"] != rows[0]["source"]["pos"], "one transaction per insert")
want([x["source"]["row"] for x in rows[101:111]] == list(range(10)), "row index in the update transaction")
'
            fi
            if command -v mariadb-binlog >/dev/null 2>&1; then
                theirs=$(mariadb-binlog --base64-output=decode-rows -v "$blf" | grep -c '^### \(INSERT INTO\|UPDATE\|DELETE FROM\) ')
                if [ "$theirs" = 116 ]; then ok "row count equals mariadb-binlog's"; else bad "row count vs mariadb-binlog" "it shows $theirs"; fi
            fi
        fi
    fi
fi

finish
