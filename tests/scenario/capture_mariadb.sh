#!/usr/bin/env bash
# capture_mariadb.sh — `lakesync run` against a real MariaDB server the test
# starts (scripts/mariadb.sh in a temp dir on a free port; skipped visibly
# when mariadbd is absent; the server is always stopped on exit).
#
#   (a) types: a table of every column type (integers signed/unsigned with
#       their extremes, DECIMAL(65,30) and DECIMAL(10,2), FLOAT/DOUBLE,
#       DATE/TIME(6)/DATETIME(6)/TIMESTAMP(6)/YEAR, utf8mb4 and latin1
#       strings, binary strings with NUL bytes, 1 MB LONGTEXT/LONGBLOB, ENUM,
#       SET, BIT(1), BIT(12), JSON, GEOMETRY/POINT, a row of NULLs) reaches
#       the lake with exact values, through the snapshot (rows there before
#       the first run) and through the binlog (the same rows inserted while a
#       run is streaming, then updated and deleted): each lake table equals
#       the database's own rendering (HEX(), DATE_FORMAT(), … normalised by
#       a small comparer), and the two lake tables equal each other;
#   (b) updates and deletes (multi-row, repeated in one transaction, delete
#       and re-insert, insert and delete, a composite primary key);
#   (c) ALTER TABLE … ADD COLUMN mid-stream: the new column, null in older
#       rows; CREATE TABLE mid-stream starts a new lake table;
#   (d) a primary-key update moves the row;
#   (e) TRUNCATE TABLE empties the lake table;
#   (f) an empty table gets an empty Delta table;
#   (g) restart: `run --stop-at-end` again after changes (with binlog
#       rotations among them) applies each change exactly once (the commits'
#       numSourceRows add up to the changes made); a run with nothing new
#       changes no rows;
#   (h) table.include.list / table.exclude.list / database.include.list;
#   (i) binlog_format=STATEMENT: the run fails naming the setting
#       (binlog_row_metadata=MINIMAL is capture_minimal.sh's);
#   (j) a wrong password: a clear error without the password in it; the
#       password from database.password.file and from the environment;
#   (k) a table whose binlog position was purged: the run stops naming
#       snapshot.mode=when_needed, which then snapshots it again; SIGINT
#       commits and exits 0.
set -u
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
bin=${LAKESYNC_BIN:-build/lakesync}
. tests/scenario/lib_mariadb.bash
run_prereqs capture_mariadb

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lks_capmdb.XXXXXX") || exit 2
bgpid=""
cleanup() {
    [ -n "$bgpid" ] && kill -9 "$bgpid" 2>/dev/null
    mariadb_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
cp "$bin" "$tmp/lakesync" || exit 2 # a rebuild while the test runs must not pull it away
bin=$tmp/lakesync

if ! mariadb_start 3400; then
    bad capture_mariadb "the MariaDB server did not start: $(oneline "$tmp/start.log")"
    finish
fi

# props FILE WAREHOUSE [LINE]...: a properties file for this server
props() { mariadb_props "$1" "$2" topic.prefix=capture-test merge.interval.ms=200 "${@:3}"; }

# run_end NAME PROPS LOG: `run --stop-at-end`; 0 when it exits 0, else reports NAME
run_end() {
    timeout 120 "$bin" run -c "$2" --stop-at-end >"$3" 2>&1 </dev/null
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        bad "$1" "run --stop-at-end exited $rc: $(tail -n 5 "$3" | tr '\n' ' ')"
        return 1
    fi
    return 0
}

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds
wait_for() {
    local end=$((SECONDS + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

lake_rows() { # TABLEDIR: row count, or -1
    local n
    n=$("$bin" table scan "$1" --format jsonl 2>/dev/null | wc -l) && [ -d "$1/_delta_log" ] && echo "$n" || echo -1
}
lake_has() { [ "$(lake_rows "$1")" = "$2" ]; }

# ---- the normalising comparer ---------------------------------------------------------------
#
# node cmp.mjs SPEC DBFILE LAKEFILE: SPEC is "name:kind,…" in the order of the
# DBFILE's tab-separated columns, key columns marked "name:kind*" (default:
# the first column is the key); LAKEFILE is `table
# scan --format jsonl`.  Kinds say how the database rendered the value and
# what the lake's "Rows as text" form is:
#   int   decimal text / JSON number or (decimal(20,0)) string, exact
#   dec   exact text / string
#   f32   the float widened to double (CAST(f AS DOUBLE)) / number, compared as float32
#   f64   text / number, compared as double
#   date  YYYY-MM-DD / same
#   time  [-]H:MM:SS.ffffff / microseconds as a number
#   ts    YYYY-MM-DDTHH:MM:SS.ffffff (UTC) / same, with or without Z
#   str   HEX() of the utf8mb4 text / string
#   txt   the text itself (batch-escaped) / string
#   bin   HEX() / base64
#   bool  0|1 / false|true
# NULL in the database (printed NULL) must be null in the lake.  Numbers in
# the lake's JSON are kept as their text (exact beyond 2^53).
cat >"$tmp/cmp.mjs" <<'JS'
import fs from 'fs';
const [spec, dbFile, lakeFile] = process.argv.slice(2);
if (spec === '--lakes') { // two lake scans, rows keyed by their first column: the columns that differ
    const rows = (f) => new Map(fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => {
        const o = parse(l);
        return [JSON.stringify(Object.values(o)[0]), o];
    }));
    const [a, b] = [rows(dbFile), rows(lakeFile)];
    const out = [];
    for (const [k, o] of a) {
        const p = b.get(k);
        if (!p) { out.push(`row ${k} only in the first`); continue; }
        for (const c of new Set([...Object.keys(o), ...Object.keys(p)]))
            if (JSON.stringify(o[c]) !== JSON.stringify(p[c])) out.push(`row ${k} ${c}: ${JSON.stringify(o[c]).slice(0, 60)} vs ${JSON.stringify(p[c]).slice(0, 60)}`);
    }
    for (const k of b.keys()) if (!a.has(k)) out.push(`row ${k} only in the second`);
    console.log(out.length ? out.slice(0, 8).join('; ') : 'equal');
    process.exit(out.length ? 1 : 0);
}
const cols = spec.split(',').map((s) => { const [name, kind] = s.replace('*', '').split(':'); return { name, kind, key: s.endsWith('*') }; });
if (!cols.some((c) => c.key)) cols[0].key = true;
const keyOf = (get) => cols.filter((c) => c.key).map((c) => { const v = get(c); return v === null ? 'NULL' : canon[c.kind][v.db ? 0 : 1](v.v); }).join('|');

function parse(s) { // JSON with numbers kept as {num: text}
    let i = 0;
    const ws = () => { while (i < s.length && ' \t\r\n'.includes(s[i])) i++; };
    const str = () => {
        let j = i + 1;
        while (s[j] !== '"') { if (s[j] === '\\') j++; j++; }
        const r = JSON.parse(s.slice(i, j + 1));
        i = j + 1;
        return r;
    };
    const val = () => {
        ws();
        const c = s[i];
        if (c === '{') {
            i++; const o = {}; ws();
            if (s[i] === '}') { i++; return o; }
            for (;;) { ws(); const k = str(); ws(); i++; o[k] = val(); ws(); if (s[i++] === ',') continue; return o; }
        }
        if (c === '[') {
            i++; const a = []; ws();
            if (s[i] === ']') { i++; return a; }
            for (;;) { a.push(val()); ws(); if (s[i++] === ',') continue; return a; }
        }
        if (c === '"') return str();
        for (const [w, v] of [['true', true], ['false', false], ['null', null]])
            if (s.startsWith(w, i)) { i += w.length; return v; }
        const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(s.slice(i, i + 400));
        if (!m) throw new Error(`bad JSON at ${i}: ${s.slice(i, i + 40)}`);
        i += m[0].length;
        return { num: m[0] };
    };
    return val();
}
const unesc = (t) => t.replace(/\\(.)/g, (_, c) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' })[c] ?? c);
const numText = (v) => (v !== null && typeof v === 'object' && 'num' in v ? v.num : String(v));
function timeUs(t) {
    const m = /^(-?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(t);
    if (!m) return `bad time ${t}`;
    const us = ((BigInt(m[2]) * 60n + BigInt(m[3])) * 60n + BigInt(m[4])) * 1000000n + BigInt((m[5] || '').padEnd(6, '0'));
    return (m[1] ? -us : us).toString();
}
const canon = {
    int: [(t) => BigInt(t).toString(), (v) => BigInt(numText(v)).toString()],
    dec: [(t) => t, (v) => numText(v)],
    f32: [(t) => String(Math.fround(Number(t))), (v) => String(Math.fround(Number(numText(v))))],
    f64: [(t) => String(Number(t)), (v) => String(Number(numText(v)))],
    date: [(t) => t, (v) => v],
    time: [timeUs, (v) => BigInt(numText(v)).toString()],
    ts: [(t) => t, (v) => String(v).replace(/Z$/, '')],
    str: [(t) => Buffer.from(t, 'hex').toString('utf8'), (v) => v],
    txt: [unesc, (v) => v],
    bin: [(t) => t.toUpperCase(), (v) => Buffer.from(v, 'base64').toString('hex').toUpperCase()],
    bool: [(t) => t, (v) => (v === true ? '1' : v === false ? '0' : `not a boolean: ${JSON.stringify(v)}`)],
};
const show = (x) => { const s = JSON.stringify(x); return s === undefined ? 'undefined' : s.length > 70 ? `${s.slice(0, 60)}…(${s.length} chars)` : s; };

const problems = [];
const db = new Map();
for (const line of fs.readFileSync(dbFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f.length !== cols.length) { problems.push(`database line with ${f.length} fields, expected ${cols.length}`); continue; }
    db.set(keyOf((c) => ({ db: true, v: f[cols.indexOf(c)] })), f);
}
const lake = new Map();
for (const line of fs.readFileSync(lakeFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const o = parse(line);
    const lower = {};
    for (const k of Object.keys(o)) lower[k.toLowerCase()] = o[k];
    for (const k of Object.keys(lower))
        if (!cols.some((c) => c.name.toLowerCase() === k) && problems.length < 20) problems.push(`lake column ${k} is not in the database table`);
    const key = keyOf((c) => { const v = lower[c.name.toLowerCase()]; return v === null || v === undefined ? null : { db: false, v }; });
    if (lake.has(key)) problems.push(`lake key ${key} twice`);
    lake.set(key, lower);
}
for (const [key, f] of db) {
    const o = lake.get(key);
    if (!o) { problems.push(`row ${key}: missing in the lake`); continue; }
    cols.forEach((c, ci) => {
        const lname = c.name.toLowerCase();
        if (!(lname in o)) { problems.push(`row ${key} ${c.name}: no such lake column`); return; }
        const lv = o[lname];
        let want, got;
        try {
            want = f[ci] === 'NULL' ? null : canon[c.kind][0](f[ci]);
            got = lv === null ? null : canon[c.kind][1](lv);
        } catch (e) {
            problems.push(`row ${key} ${c.name}: ${e.message} (database ${show(f[ci])}, lake ${show(lv)})`);
            return;
        }
        if (want !== got) problems.push(`row ${key} ${c.name}: database ${show(want)}, lake ${show(got)}`);
    });
}
for (const key of lake.keys()) if (!db.has(key)) problems.push(`row ${key}: in the lake, not in the database`);
if (problems.length) {
    console.log(`${problems.length} differences: ${problems.slice(0, 6).join('; ')}`);
    process.exit(1);
}
console.log(`${db.size} rows equal`);
JS

# same NAME DB TABLE WAREHOUSE SPEC [SELECT-LIST]: the lake table equals the
# database table (SELECT-LIST: the database-side expressions, default the
# SPEC's column names)
same() {
    local name=$1 db=$2 t=$3 wh=$4 spec=$5 sel=${6:-}
    [ -n "$sel" ] || sel=$(echo "$spec" | sed 's/:[a-z0-9]*\**//g')
    local key=${spec%%:*}
    if ! my -e "SET time_zone='+00:00'; SELECT $sel FROM \`$db\`.\`$t\` ORDER BY $key" >"$tmp/db.tsv" 2>"$tmp/db.err"; then
        bad "$name" "database query failed: $(oneline "$tmp/db.err")"
        return 1
    fi
    if [ ! -d "$wh/$db/$t/_delta_log" ]; then
        bad "$name" "no lake table $wh/$db/$t"
        return 1
    fi
    if ! "$bin" table scan "$wh/$db/$t" --format jsonl >"$tmp/lake.jsonl" 2>"$tmp/lake.err"; then
        bad "$name" "table scan failed: $(oneline "$tmp/lake.err")"
        return 1
    fi
    local out
    if out=$(node "$tmp/cmp.mjs" "$spec" "$tmp/db.tsv" "$tmp/lake.jsonl" 2>&1); then
        ok "$name ($out)"
        return 0
    fi
    bad "$name" "$out"
    return 1
}

# commit_metric TABLEDIR FROM_VERSION: sum of numSourceRows of the commits after FROM_VERSION
commit_metric() {
    local f
    for f in "$1"/_delta_log/*.json; do
        local v
        v=$(basename "$f" .json)
        [[ "$v" =~ ^[0-9]{20}$ ]] || continue # commits, not checkpoints
        [ "$((10#$v))" -gt "$2" ] || continue
        grep -o '"numSourceRows":"\{0,1\}[0-9]*' "$f" | grep -o '[0-9]*$'
    done | awk '{ s += $1 } END { print s + 0 }'
}
table_version() { # TABLEDIR: latest version
    local f v=-1
    for f in "$1"/_delta_log/[0-9]*.json; do
        f=$(basename "$f" .json)
        [[ "$f" =~ ^[0-9]{20}$ ]] || continue # commits, not checkpoints
        [ "$((10#$f))" -gt "$v" ] && v=$((10#$f))
    done
    echo "$v"
}

# =============================================================================================
# (a) every column type, snapshot path and binlog path
# =============================================================================================

types_ddl() { # TABLE
    cat <<EOF
CREATE TABLE $1 (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d65 DECIMAL(65,30), d10 DECIMAL(10,2), f FLOAT, dbl DOUBLE,
  dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, yr YEAR,
  ch CHAR(10), vc VARCHAR(200), tx TEXT, l1 VARCHAR(60) CHARACTER SET latin1,
  bn BINARY(8), vb VARBINARY(64), bl BLOB, lt LONGTEXT, lb LONGBLOB,
  en ENUM('small','medium','large','ünïcode'), st SET('a','b','c','d'),
  b1 BIT(1), b12 BIT(12), js JSON, g GEOMETRY, pt POINT
) DEFAULT CHARSET=utf8mb4
EOF
}
# The rows, one INSERT (one transaction) each: minimums, maximums, NULLs,
# ordinary values with unicode and NUL bytes, 1 MB LOBs.
types_rows() { # TABLE
    cat <<EOF
SET time_zone='+00:00';
INSERT INTO $1 VALUES (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
  -9223372036854775808, 0,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -99999999.99,
  -3.40282e38, -1.7976931348623157e308,
  '1000-01-01', '-838:59:59.000000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', 1901,
  '', '', '', '', 0x00, 0x00, 0x0000, '', '', 'small', '', 0, 0, '[]',
  ST_GeomFromText('POINT(0 0)'), POINT(0, 0));
INSERT INTO $1 VALUES (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615,
  '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99,
  3.40282e38, 1.7976931348623157e308,
  '9999-12-31', '838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
  'abcdefghij', 'Grüße 😀🎉 漢字 テスト 한국어', 'multi\nline\ttab "quoted" back\\\\slash',
  'Ça été déjà naïve ÿ ×', 0xFFFFFFFFFFFFFFFF, 0x00FF00, 0x00010200FF00,
  'large text 🦄', 0x000000, 'large', 'a,b,c,d', 1, b'111111111111',
  '{"k": "v", "n": [1, 2.5, null, true], "u": "漢字😀"}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))'), POINT(-1.5, 2.25));
INSERT INTO $1 (id) VALUES (3);
INSERT INTO $1 VALUES (4, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1,
  '-0.000000000000000000000000000001', -0.01, 0.1, 0.1,
  '2024-02-29', '-00:00:00.000001', '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.789012', 2024,
  'ä', 'é', '', 'abc', 'ab', '', 0x00, '😀', 0x00, 'ünïcode', 'b,d', 1, b'101010111100',
  '{"a": []}', ST_GeomFromText('LINESTRING(0 0,1 1,2 0.5)'), POINT(1e300, -1e-300));
INSERT INTO $1 VALUES (5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  '0.000000000000000000000000000000', -123.45, -0.0625, -2.2250738585072014e-308,
  '1970-01-01', '00:00:00.000000', '1970-01-01 00:00:00.000000', '2001-09-09 01:46:40.5', 2000,
  'z', REPEAT('x', 200), REPEAT('é', 30000), REPEAT('ÿ', 60), 0x0001, 0x0102030405,
  REPEAT(0x00FF, 30000), REPEAT('Ω漢😀x', 100000), REPEAT(0x00FF10, 350000),
  'medium', 'c', 0, b'000000000001', '{"big": true}',
  ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,3 4))'), POINT(-0.5, 0.5));
EOF
}
TYPES_SPEC="id:int,ti:int,tiu:int,si:int,siu:int,mi:int,miu:int,i:int,iu:int,bi:int,biu:int,\
d65:dec,d10:dec,f:f32,dbl:f64,dt:date,tm:time,dtm:ts,ts:ts,yr:int,\
ch:str,vc:str,tx:str,l1:str,bn:bin,vb:bin,bl:bin,lt:str,lb:bin,en:str,st:str,\
b1:bool,b12:bin,js:str,g:bin,pt:bin"
TYPES_SEL="id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d65, d10, CAST(f AS DOUBLE), dbl,
  DATE_FORMAT(dt, '%Y-%m-%d'), tm, DATE_FORMAT(dtm, '%Y-%m-%dT%H:%i:%s.%f'),
  DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%s.%f'), yr,
  HEX(CONVERT(ch USING utf8mb4)), HEX(CONVERT(vc USING utf8mb4)), HEX(CONVERT(tx USING utf8mb4)),
  HEX(CONVERT(l1 USING utf8mb4)), HEX(bn), HEX(vb), HEX(bl), HEX(CONVERT(lt USING utf8mb4)), HEX(lb),
  HEX(CONVERT(en USING utf8mb4)), HEX(CONVERT(st USING utf8mb4)), b1 + 0, LPAD(HEX(b12 + 0), 4, '0'),
  HEX(CONVERT(js USING utf8mb4)), HEX(SUBSTRING(g, 5)), HEX(SUBSTRING(pt, 5))"
# Updates applied the same way to both tables after the first run (binlog
# update images of every type, values to NULL and NULL to values), and a delete.
types_changes() { # TABLE
    cat <<EOF
SET time_zone='+00:00';
UPDATE $1 SET vc = CONCAT(vc, '✓'), d65 = -d65, biu = biu - 1, bi = bi - 1, lb = CONCAT(lb, 0x00),
  b12 = b'1', tm = '-12:00:00.5', dtm = dtm - INTERVAL 1 SECOND, ts = ts - INTERVAL 1 SECOND,
  f = -f, st = 'a', en = 'medium', js = '{"updated": 1}', pt = POINT(7, 8), bn = 0x61 WHERE id IN (2, 4);
UPDATE $1 SET ti = 1, d65 = 1.5, f = 1.5, dt = '2000-01-01', tm = '01:02:03.000004',
  dtm = '2000-01-01 00:00:00', ts = '2000-01-01 00:00:00.000001', vc = 'now set', l1 = 'é', bl = 0x00,
  lt = '', lb = '', en = 'small', st = '', b1 = 0, b12 = b'100000000000', js = 'null', g = POINT(1, 1)
  WHERE id = 3;
UPDATE $1 SET ti = NULL, tiu = NULL, biu = NULL, d65 = NULL, f = NULL, dt = NULL, tm = NULL, dtm = NULL,
  ts = NULL, yr = NULL, vc = NULL, lt = NULL, lb = NULL, en = NULL, st = NULL, b1 = NULL, b12 = NULL,
  js = NULL, g = NULL, pt = NULL WHERE id = 5;
DELETE FROM $1 WHERE id = 1;
EOF
}

wh_a=$tmp/wh_a
props "$tmp/a.properties" "$wh_a" 'database.include.list=lks_types'
{
    echo "CREATE DATABASE lks_types; USE lks_types;"
    types_ddl s_types
    echo ";"
    types_ddl b_types
    echo ";"
    types_rows s_types
} >"$tmp/a_setup.sql"
if ! my <"$tmp/a_setup.sql" >"$tmp/a_setup.log" 2>&1; then
    bad "(a) setup" "$(oneline "$tmp/a_setup.log")"
else
    # snapshot of s_types (and of the empty b_types), then b_types' rows
    # inserted while the run streams
    "$bin" run -c "$tmp/a.properties" >"$tmp/a_run1.log" 2>&1 </dev/null &
    bgpid=$!
    if ! wait_for 60 lake_has "$wh_a/lks_types/s_types" 5 || ! wait_for 30 lake_has "$wh_a/lks_types/b_types" 0; then
        bad "(a) snapshot" "the lake tables did not appear within 60 s: $(tail -n 5 "$tmp/a_run1.log" | tr '\n' ' ')"
    else
        ok "(a) snapshot: s_types has its 5 rows, b_types is an empty table"
        { echo "USE lks_types;"; types_rows b_types; } | my >"$tmp/a_ins.log" 2>&1 ||
            bad "(a) inserts" "$(oneline "$tmp/a_ins.log")"
        if wait_for 60 lake_has "$wh_a/lks_types/b_types" 5; then
            ok "(a) binlog: the 5 rows inserted while streaming reached the lake"
        else
            bad "(a) binlog" "b_types has $(lake_rows "$wh_a/lks_types/b_types") rows after 60 s: $(tail -n 5 "$tmp/a_run1.log" | tr '\n' ' ')"
        fi
    fi
    kill -TERM "$bgpid" 2>/dev/null
    wait "$bgpid"
    rc=$?
    bgpid=""
    if [ "$rc" -eq 0 ]; then ok "(a) run stopped by SIGTERM exits 0"; else bad "(a) SIGTERM" "exit status $rc: $(tail -n 3 "$tmp/a_run1.log" | tr '\n' ' ')"; fi

    same "(a) snapshot path: s_types equals the database" lks_types s_types "$wh_a" "$TYPES_SPEC" "$TYPES_SEL"
    same "(a) binlog path: b_types equals the database" lks_types b_types "$wh_a" "$TYPES_SPEC" "$TYPES_SEL"
    "$bin" table scan "$wh_a/lks_types/s_types" --format jsonl 2>/dev/null | LC_ALL=C sort >"$tmp/a_s.jsonl"
    "$bin" table scan "$wh_a/lks_types/b_types" --format jsonl 2>/dev/null | LC_ALL=C sort >"$tmp/a_b.jsonl"
    if [ -s "$tmp/a_s.jsonl" ] && cmp -s "$tmp/a_s.jsonl" "$tmp/a_b.jsonl"; then
        ok "(a) snapshot and binlog give identical lake rows"
    else
        bad "(a) snapshot vs binlog rows" "$([ -s "$tmp/a_s.jsonl" ] || echo "no rows in s_types; ")$(node "$tmp/cmp.mjs" --lakes "$tmp/a_s.jsonl" "$tmp/a_b.jsonl" 2>&1 | head -c 900)"
    fi
    "$bin" table describe "$wh_a/lks_types/s_types" 2>&1 | sed -n '/^schema:/,$p' >"$tmp/a_s.desc"
    "$bin" table describe "$wh_a/lks_types/b_types" 2>&1 | sed -n '/^schema:/,$p' >"$tmp/a_b.desc"
    if [ -s "$tmp/a_s.desc" ] && cmp -s "$tmp/a_s.desc" "$tmp/a_b.desc"; then
        ok "(a) snapshot and binlog give the same Delta schema"
    else
        bad "(a) schemas" "$(diff "$tmp/a_s.desc" "$tmp/a_b.desc" | head -n 8 | tr '\n' ' ')"
    fi
    # the Delta types of the mapping (binlog.h, DESIGN.md §3)
    want_types="ti:byte tiu:short si:short siu:integer mi:integer miu:integer i:integer iu:long bi:long \
biu:decimal(20,0) d65:string d10:decimal(10,2) f:float dbl:double dt:date tm:long yr:short \
ch:string vc:string l1:string bn:binary bl:binary lb:binary en:string st:string b1:boolean b12:binary \
js:string g:binary pt:binary"
    missing=""
    for wt in $want_types; do
        c=${wt%%:*} ty=${wt#*:}
        grep -qxF "  $c: $ty" "$tmp/a_s.desc" || grep -qxF "  $c: $ty not null" "$tmp/a_s.desc" || missing="$missing $wt"
    done
    if [ -z "$missing" ]; then
        ok "(a) Delta column types follow the mapping"
    else
        bad "(a) Delta column types" "not found in table describe:$missing; describe says: $(grep -v '^ *$' "$tmp/a_s.desc" | head -n 50 | tr '\n' ' ' | head -c 900)"
    fi

    # updates (every type in update images) and a delete, through the binlog
    { echo "USE lks_types;"; types_changes s_types; types_changes b_types; } | my >"$tmp/a_upd.log" 2>&1 ||
        bad "(a) updates" "$(oneline "$tmp/a_upd.log")"
    if run_end "(a) second run" "$tmp/a.properties" "$tmp/a_run2.log"; then
        same "(a) after updates/delete: s_types equals the database" lks_types s_types "$wh_a" "$TYPES_SPEC" "$TYPES_SEL"
        same "(a) after updates/delete: b_types equals the database" lks_types b_types "$wh_a" "$TYPES_SPEC" "$TYPES_SEL"
    fi
fi

# =============================================================================================
# (b)–(f) DML and DDL in one database: a snapshot run, changes, a streaming run
# =============================================================================================

wh_b=$tmp/wh_b
props "$tmp/b.properties" "$wh_b" 'database.include.list=lks_dml'
cat >"$tmp/b_setup.sql" <<'EOF'
CREATE DATABASE lks_dml; USE lks_dml;
CREATE TABLE ud (id INT PRIMARY KEY, name VARCHAR(40), seg VARCHAR(10), amt DECIMAL(12,2));
INSERT INTO ud SELECT seq, CONCAT('Customer#', LPAD(seq, 9, '0')), ELT(1 + seq % 5, 'MACHINERY', 'AUTOMOBILE',
  'BUILDING', 'FURNITURE', 'HOUSEHOLD'), seq * 1.25 FROM seq_1_to_200;
CREATE TABLE cpk (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b));
INSERT INTO cpk SELECT seq DIV 3, CONCAT('k', seq % 3), seq FROM seq_0_to_29;
CREATE TABLE ddl (id INT PRIMARY KEY, a VARCHAR(20));
INSERT INTO ddl SELECT seq, CONCAT('a', seq) FROM seq_1_to_20;
CREATE TABLE pk (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO pk SELECT seq, CONCAT('v', seq) FROM seq_1_to_20;
CREATE TABLE trunc (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO trunc SELECT seq, CONCAT('t', seq) FROM seq_1_to_30;
CREATE TABLE trunc2 (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO trunc2 SELECT seq, CONCAT('t', seq) FROM seq_1_to_30;
CREATE TABLE empty_t (id INT PRIMARY KEY, v VARCHAR(20), d DATE);
EOF
cat >"$tmp/b_changes.sql" <<'EOF'
USE lks_dml;
-- (b) multi-row updates and deletes
UPDATE ud SET seg = 'X' WHERE id % 7 = 0;
DELETE FROM ud WHERE id % 11 = 0;
-- (b) one transaction: a row updated three times, delete and re-insert of a
-- key, an insert deleted again, a plain insert
BEGIN;
UPDATE ud SET amt = amt + 1 WHERE id = 1;
UPDATE ud SET amt = amt + 1 WHERE id = 1;
UPDATE ud SET amt = amt + 1, name = 'third' WHERE id = 1;
DELETE FROM ud WHERE id = 2;
INSERT INTO ud VALUES (2, 'reborn', 'NEW', -2.50);
INSERT INTO ud VALUES (1000, 'short-lived', 'GONE', 0);
DELETE FROM ud WHERE id = 1000;
INSERT INTO ud VALUES (1001, 'inserted', NULL, NULL);
COMMIT;
UPDATE ud SET name = NULL WHERE id = 3;
-- (b) a composite key
UPDATE cpk SET v = -v WHERE b = 'k1';
DELETE FROM cpk WHERE a = 4;
UPDATE cpk SET b = 'k9' WHERE a = 5 AND b = 'k0';
-- (c) ALTER TABLE ADD COLUMN between row changes
INSERT INTO ddl VALUES (21, 'before alter');
ALTER TABLE ddl ADD COLUMN extra VARCHAR(20);
INSERT INTO ddl VALUES (22, 'after alter', 'new');
UPDATE ddl SET extra = 'upd' WHERE id = 5;
ALTER TABLE ddl ADD COLUMN n BIGINT;
INSERT INTO ddl VALUES (23, 'second alter', 'x', 1234567890123);
UPDATE ddl SET a = 'touched' WHERE id = 6;
-- (c) a table created mid-stream
CREATE TABLE born (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO born VALUES (1, 'one'), (2, 'two');
UPDATE born SET v = 'TWO' WHERE id = 2;
-- (d) primary-key updates move rows
UPDATE pk SET id = id + 1000 WHERE id <= 5;
UPDATE pk SET id = 500, v = 'moved' WHERE id = 20;
-- (e) TRUNCATE after changes, then new rows; and a truncate at the end
INSERT INTO trunc VALUES (31, 't31');
UPDATE trunc SET v = 'gone' WHERE id = 1;
TRUNCATE TABLE trunc;
INSERT INTO trunc VALUES (100, 'after'), (101, 'truncate');
TRUNCATE TABLE trunc2;
EOF
if ! my <"$tmp/b_setup.sql" >"$tmp/b_setup.log" 2>&1; then
    bad "(b-f) setup" "$(oneline "$tmp/b_setup.log")"
elif run_end "(b-f) snapshot run" "$tmp/b.properties" "$tmp/b_run1.log"; then
    same "(b) snapshot: ud" lks_dml ud "$wh_b" "id:int,name:txt,seg:txt,amt:dec"
    same "(f) empty table: an empty Delta table" lks_dml empty_t "$wh_b" "id:int,v:txt,d:date" \
        "id, v, DATE_FORMAT(d, '%Y-%m-%d')"
    if "$bin" table describe "$wh_b/lks_dml/empty_t" 2>/dev/null | grep -q 'date'; then
        ok "(f) the empty Delta table has the table's columns"
    else
        bad "(f) empty table schema" "$("$bin" table describe "$wh_b/lks_dml/empty_t" 2>&1 | head -n 20 | tr '\n' ' ')"
    fi
    if my <"$tmp/b_changes.sql" >"$tmp/b_changes.log" 2>&1; then
        if run_end "(b-f) streaming run" "$tmp/b.properties" "$tmp/b_run2.log"; then
            same "(b) updates and deletes: ud" lks_dml ud "$wh_b" "id:int,name:txt,seg:txt,amt:dec"
            same "(b) composite key: cpk" lks_dml cpk "$wh_b" "a:int*,b:txt*,v:int"
            same "(c) ADD COLUMN mid-stream: ddl" lks_dml ddl "$wh_b" "id:int,a:txt,extra:txt,n:int"
            same "(c) CREATE TABLE mid-stream: born" lks_dml born "$wh_b" "id:int,v:txt"
            same "(d) primary-key update: pk" lks_dml pk "$wh_b" "id:int,v:txt"
            same "(e) TRUNCATE then inserts: trunc" lks_dml trunc "$wh_b" "id:int,v:txt"
            if lake_has "$wh_b/lks_dml/trunc2" 0; then
                ok "(e) TRUNCATE empties the lake table (trunc2)"
            else
                bad "(e) TRUNCATE" "trunc2 has $(lake_rows "$wh_b/lks_dml/trunc2") rows"
            fi
            same "(f) empty table still empty after streaming" lks_dml empty_t "$wh_b" "id:int,v:txt,d:date" \
                "id, v, DATE_FORMAT(d, '%Y-%m-%d')"
        fi
    else
        bad "(b-f) changes" "$(oneline "$tmp/b_changes.log")"
    fi
fi
# =============================================================================================
# (g) restart: each change exactly once
# =============================================================================================

wh_g=$tmp/wh_g
props "$tmp/g.properties" "$wh_g" 'database.include.list=lks_rs'
t_g=$wh_g/lks_rs/cnt
if ! my -e "CREATE DATABASE lks_rs; USE lks_rs; CREATE TABLE cnt (id INT PRIMARY KEY, n INT NOT NULL, note VARCHAR(20));
        INSERT INTO cnt SELECT seq, 0, 'init' FROM seq_1_to_100;" >"$tmp/g_setup.log" 2>&1; then
    bad "(g) setup" "$(oneline "$tmp/g_setup.log")"
elif run_end "(g) first run" "$tmp/g.properties" "$tmp/g_run1.log"; then
    same "(g) first run: snapshot" lks_rs cnt "$wh_g" "id:int,n:int,note:txt"
    round=0
    for changes in 60 25; do
        round=$((round + 1))
        v0=$(table_version "$t_g")
        # about $changes row changes: transactions of three counter
        # increments, inserts, deletes; each statement's ROW_COUNT() is
        # printed and added up (what the server changed, not what was asked)
        {
            echo "USE lks_rs;"
            k=0
            while [ $((k * 4)) -lt "$changes" ]; do
                k=$((k + 1))
                echo "BEGIN;"
                echo "UPDATE cnt SET n = n + 1 WHERE id IN ($((k % 100 + 1)), $(((k * 7) % 100 + 1)), $(((k * 13 + 50) % 100 + 1))); SELECT ROW_COUNT();"
                echo "INSERT INTO cnt VALUES ($((1000 * round + k)), $k, 'new'); SELECT ROW_COUNT();"
                echo "COMMIT;"
                [ $((k % 3)) = 0 ] && echo "DELETE FROM cnt WHERE id = $((100 - 30 * round - k)); SELECT ROW_COUNT();"
                # binlog rotations between the changes (and after the last)
                [ $((k % 6)) = 0 ] && echo "FLUSH BINARY LOGS;"
            done
            echo "FLUSH BINARY LOGS;"
        } >"$tmp/g_changes.sql"
        made=$(my <"$tmp/g_changes.sql" 2>"$tmp/g_changes.err" | awk '{ s += $1 } END { print s + 0 }')
        if [ -s "$tmp/g_changes.err" ]; then bad "(g) round $round changes" "$(oneline "$tmp/g_changes.err")"; fi
        run_end "(g) run after round $round" "$tmp/g.properties" "$tmp/g_run$((round + 1)).log" || continue
        same "(g) round $round: the lake equals the database" lks_rs cnt "$wh_g" "id:int,n:int,note:txt"
        got=$(commit_metric "$t_g" "$v0")
        if [ "$got" = "$made" ]; then
            ok "(g) round $round: the $made row changes were applied exactly once (numSourceRows of versions > $v0)"
        else
            bad "(g) round $round: exactly once" "the commits after version $v0 merged $got row changes, $made were made"
        fi
    done
    v0=$(table_version "$t_g")
    if run_end "(g) idle run" "$tmp/g.properties" "$tmp/g_run_idle.log"; then
        got=$(commit_metric "$t_g" "$v0")
        if [ "$got" = 0 ]; then
            ok "(g) a run with nothing new merges no row (version $v0 -> $(table_version "$t_g"))"
        else
            bad "(g) idle run" "the commits after version $v0 merged $got row changes"
        fi
        same "(g) after the idle run: the lake equals the database" lks_rs cnt "$wh_g" "id:int,n:int,note:txt"
    fi
fi

# =============================================================================================
# (h) filters
# =============================================================================================

my -e "CREATE DATABASE lks_fa; CREATE DATABASE lks_fb;
    CREATE TABLE lks_fa.t1 (id INT PRIMARY KEY, v INT); CREATE TABLE lks_fa.t2 (id INT PRIMARY KEY, v INT);
    CREATE TABLE lks_fa.t3 (id INT PRIMARY KEY, v INT); CREATE TABLE lks_fb.t1 (id INT PRIMARY KEY, v INT);
    INSERT INTO lks_fa.t1 VALUES (1, 1); INSERT INTO lks_fa.t2 VALUES (1, 2);
    INSERT INTO lks_fa.t3 VALUES (1, 3); INSERT INTO lks_fb.t1 VALUES (1, 4);" >"$tmp/h_setup.log" 2>&1 ||
    bad "(h) setup" "$(oneline "$tmp/h_setup.log")"
lake_tables() { # WAREHOUSE: db/table of every lake table, sorted, space-separated
    (cd "$1" 2>/dev/null && find . -mindepth 3 -maxdepth 3 -name _delta_log | sed 's|^\./||; s|/_delta_log$||' | sort | tr '\n' ' ')
}
# filter_case NAME WAREHOUSE EXPECTED PROPERTY...
filter_case() {
    local name=$1 wh=$2 want=$3
    shift 3
    props "$tmp/h.properties" "$wh" "$@"
    run_end "(h) $name: first run" "$tmp/h.properties" "$tmp/h_run1.log" || return
    local got
    got=$(lake_tables "$wh")
    if [ "$got" = "$want" ]; then ok "(h) $name: snapshot tables: $got"; else bad "(h) $name" "lake tables '$got', expected '$want'"; fi
    my -e "INSERT INTO lks_fa.t1 VALUES (2, 10); INSERT INTO lks_fa.t2 VALUES (2, 20); INSERT INTO lks_fa.t3 VALUES (2, 30);
        INSERT INTO lks_fb.t1 VALUES (2, 40); CREATE TABLE lks_fb.t9 (id INT PRIMARY KEY); INSERT INTO lks_fb.t9 VALUES (1);"
    run_end "(h) $name: second run" "$tmp/h.properties" "$tmp/h_run2.log" || return
    got=$(lake_tables "$wh")
    if [ "$got" = "$want" ]; then ok "(h) $name: streamed changes only to admitted tables"; else bad "(h) $name: streaming" "lake tables '$got', expected '$want'"; fi
    local t
    for t in $want; do
        same "(h) $name: $t" "${t%%/*}" "${t#*/}" "$wh" "id:int,v:int"
    done
    my -e "DELETE FROM lks_fa.t1 WHERE id = 2; DELETE FROM lks_fa.t2 WHERE id = 2; DELETE FROM lks_fa.t3 WHERE id = 2;
        DELETE FROM lks_fb.t1 WHERE id = 2; DROP TABLE lks_fb.t9;"
}
filter_case "table.include.list" "$tmp/wh_h1" "lks_fa/t1 lks_fa/t2 " 'table.include.list=lks_fa[.]t[12]'
filter_case "table.exclude.list" "$tmp/wh_h2" "lks_fa/t1 lks_fa/t3 lks_fb/t1 " \
    'database.include.list=lks_f[ab]' 'table.exclude.list=lks_fa[.]t2,.*[.]t9'
filter_case "database.include.list" "$tmp/wh_h3" "lks_fb/t1 " 'database.include.list=lks_fb' \
    'table.exclude.list=lks_fb[.]t9'

# =============================================================================================
# (i) server settings capture needs
# =============================================================================================

# setting_case NAME SET-STATEMENT RESET-STATEMENT PATTERN
setting_case() {
    props "$tmp/i.properties" "$tmp/wh_i" 'database.include.list=lks_fa'
    my -e "$2" || { bad "(i) $1" "could not $2"; return; }
    timeout 60 "$bin" run -c "$tmp/i.properties" --stop-at-end >"$tmp/i.log" 2>&1 </dev/null
    local rc=$?
    my -e "$3"
    if [ "$rc" -eq 0 ]; then
        bad "(i) $1" "run exited 0"
    elif [ "$rc" -ge 124 ]; then
        bad "(i) $1" "run exited $rc (timeout or crash): $(oneline "$tmp/i.log")"
    elif ! grep -q "$4" "$tmp/i.log"; then
        bad "(i) $1" "the message does not name $4: $(oneline "$tmp/i.log")"
    else
        ok "(i) $1: exit $rc, $(grep -m1 "$4" "$tmp/i.log" | head -c 200)"
    fi
}
setting_case "binlog_format=STATEMENT" "SET GLOBAL binlog_format = STATEMENT" \
    "SET GLOBAL binlog_format = ROW" binlog_format

# =============================================================================================
# (j) credentials
# =============================================================================================

secret='Wr0ng-S3cret-pw'
props "$tmp/j.properties" "$tmp/wh_j" 'database.include.list=lks_fa' "database.password=$secret"
sed -i '/^database.password=lakesync$/d' "$tmp/j.properties"
timeout 60 "$bin" run -c "$tmp/j.properties" --stop-at-end >"$tmp/j.out" 2>"$tmp/j.err" </dev/null
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
    bad "(j) wrong password" "exit status $rc: $(oneline "$tmp/j.err")"
elif grep -q "$secret" "$tmp/j.out" "$tmp/j.err"; then
    bad "(j) wrong password" "the password appears in the output: $(oneline "$tmp/j.err")"
elif ! grep -qi 'access denied\|password\|authenticat' "$tmp/j.err"; then
    bad "(j) wrong password" "no clear error: $(oneline "$tmp/j.err")"
else
    ok "(j) wrong password: exit $rc, $(grep -i -m1 'access denied\|password\|authenticat' "$tmp/j.err" | head -c 200)"
fi
if [ -e "$tmp/wh_j/lks_fa" ]; then bad "(j) wrong password" "tables were created in the warehouse"; fi
# the right password from database.password.file, then from the environment
printf 'lakesync\n' >"$tmp/pw"
props "$tmp/j2.properties" "$tmp/wh_j2" 'database.include.list=lks_fb' "database.password.file=$tmp/pw" 'table.exclude.list=.*[.]t9'
sed -i '/^database.password=lakesync$/d' "$tmp/j2.properties"
if run_end "(j) database.password.file" "$tmp/j2.properties" "$tmp/j2.log"; then
    same "(j) database.password.file: lks_fb.t1" lks_fb t1 "$tmp/wh_j2" "id:int,v:int"
fi
props "$tmp/j3.properties" "$tmp/wh_j3" 'database.include.list=lks_fb' 'table.exclude.list=.*[.]t9'
sed -i '/^database.password=lakesync$/d' "$tmp/j3.properties"
if LAKESYNC_DATABASE_PASSWORD=lakesync run_end "(j) LAKESYNC_DATABASE_PASSWORD" "$tmp/j3.properties" "$tmp/j3.log"; then
    same "(j) LAKESYNC_DATABASE_PASSWORD: lks_fb.t1" lks_fb t1 "$tmp/wh_j3" "id:int,v:int"
fi

# =============================================================================================
# (k) a purged binlog position; SIGINT
# =============================================================================================

wh_k=$tmp/wh_k
props "$tmp/k.properties" "$wh_k" 'database.include.list=lks_pg'
if ! my -e "CREATE DATABASE lks_pg; USE lks_pg; CREATE TABLE t (id INT PRIMARY KEY, v INT);
        INSERT INTO t SELECT seq, seq FROM seq_1_to_10;" >"$tmp/k_setup.log" 2>&1; then
    bad "(k) setup" "$(oneline "$tmp/k_setup.log")"
elif run_end "(k) first run" "$tmp/k.properties" "$tmp/k_run1.log"; then
    # changes, then the files holding them (and the table's position) purged;
    # the server keeps a file until its binlog checkpoint passed: retry
    f0=$(my -e "SHOW MASTER STATUS" | cut -f1)
    my -e "INSERT INTO lks_pg.t VALUES (11, 11); FLUSH BINARY LOGS; UPDATE lks_pg.t SET v = -v WHERE id <= 3;"
    for _ in $(seq 1 50); do
        my -e "FLUSH BINARY LOGS"
        sleep 0.2
        cur=$(my -e "SHOW MASTER STATUS" | cut -f1)
        my -e "PURGE BINARY LOGS TO '$cur'"
        my -e "SHOW BINARY LOGS" | cut -f1 | grep -qx "$f0" || break
    done
    my -e "SHOW BINARY LOGS" >"$tmp/k_purge.log" 2>&1
    timeout 60 "$bin" run -c "$tmp/k.properties" --stop-at-end >"$tmp/k_run2.log" 2>&1 </dev/null
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && grep -q 'purged' "$tmp/k_run2.log" && grep -q 'when_needed' "$tmp/k_run2.log"; then
        ok "(k) a purged position stops the run: exit $rc, $(grep -m1 purged "$tmp/k_run2.log" | head -c 250)"
    else
        bad "(k) purged position" "exit $rc: $(oneline "$tmp/k_run2.log"); (position in $f0; binary logs now: $(oneline "$tmp/k_purge.log"))"
    fi
    if timeout 60 "$bin" run -c "$tmp/k.properties" -o snapshot.mode=when_needed --stop-at-end >"$tmp/k_run3.log" 2>&1 </dev/null; then
        same "(k) snapshot.mode=when_needed snapshots the table again" lks_pg t "$wh_k" "id:int,v:int"
    else
        bad "(k) snapshot.mode=when_needed" "$(oneline "$tmp/k_run3.log")"
    fi
    # SIGINT: commits what was read, exits 0
    "$bin" run -c "$tmp/k.properties" >"$tmp/k_run4.log" 2>&1 </dev/null &
    bgpid=$!
    sleep 1
    my -e "INSERT INTO lks_pg.t VALUES (12, 12)"
    wait_for 30 lake_has "$wh_k/lks_pg/t" 12
    my -e "INSERT INTO lks_pg.t VALUES (13, 13)"
    sleep 0.3
    kill -INT "$bgpid"
    wait "$bgpid"
    rc=$?
    bgpid=""
    if [ "$rc" -eq 0 ]; then ok "(k) SIGINT: exit 0"; else bad "(k) SIGINT" "exit status $rc: $(oneline "$tmp/k_run4.log")"; fi
    same "(k) after SIGINT the lake holds what was read" lks_pg t "$wh_k" "id:int,v:int"
fi

finish
