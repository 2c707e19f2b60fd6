#!/usr/bin/env node
// tests/duckdb/corpus.mjs — conformance of lakesync's Parquet reader on the
// apache/parquet-testing corpus (../shared/corpus/parquet, MANIFEST.md §1).
//
//   node tests/duckdb/corpus.mjs
//
// For every file under parquet/data, parquet/nested_reference and
// parquet/bad_data it runs `lakesync parquet cat --format jsonl FILE` and
//   - compares every row, value by value, with the stored reference rows:
//     duckdb_reference/<file>.rows.jsonl (DuckDB's JSON conventions) or, for
//     the LZ4 files DuckDB cannot decode, hyparquet_reference/<file>.rows.
//     hyparquet.jsonl; the upstream *_expect.csv when there is one (in
//     addition); int96_from_spark.md for that file (the DuckDB reference
//     wraps years there);
//   - or, for a file listed in REFUSE, checks that lakesync refuses it: exit
//     status 1..127, one "lakesync: FILE: ..." line on stderr matching the
//     listed pattern;
//   - or, with no reference at all, checks the number of rows printed
//     against `lakesync parquet meta` ("read, no reference"); the nested
//     files are compared with DuckDB run live (tests/duckdb/pq.mjs) when
//     @duckdb/node-api is installed.
// Every file is also run through `lakesync parquet meta`; with
// LAKESYNC_ASAN_BIN set, the sanitizer build runs cat and meta on every file
// too and must print the same and report nothing.
//
// Normalisation, exact where possible (the column's type comes from the
// reference's DuckDB schema.jsonl): integers compare as BigInt; FLOAT as
// float32 (both sides rounded with Math.fround, and the printed text must be
// the same shortest decimal); FLOAT16 as float16; DOUBLE as doubles; NaN and
// infinity spellings are unified, a signed zero keeps its sign; DECIMAL by
// exact decimal value (our text must have exactly `scale` fraction digits);
// timestamps as nanoseconds since the epoch (date, time, fraction to nine
// digits, UTC); BLOB as bytes (base64, hex or decoded text on the reference
// side); null equals only null.
//
// Environment: LAKESYNC_CORPUS (default ../shared/corpus from the repository
// root), LAKESYNC_BIN (default build/lakesync), LAKESYNC_ASAN_BIN (optional).
// Output: one "ok corpus/NAME: ..." / "FAIL corpus/NAME: ..." line per file, a
// summary, and the last line "N passed, N failed, N skipped" (tests/run.sh).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const corpus = path.resolve(root, process.env.LAKESYNC_CORPUS || path.join('..', 'shared', 'corpus'));
const pqdir = path.join(corpus, 'parquet');
const bin = path.resolve(root, process.env.LAKESYNC_BIN || path.join('build', 'lakesync'));
let asanBin = process.env.LAKESYNC_ASAN_BIN ? path.resolve(root, process.env.LAKESYNC_ASAN_BIN) : null;
const MAX_DIFFS = 5;

/* ------------------------------------------------------------------------ */
/* Files lakesync must refuse                                               */
/* ------------------------------------------------------------------------ */

// key: path under parquet/; why: the group in the summary; re: what the
// message after "lakesync: FILE: " must match; names: words the message must
// also contain (e.g. the column).
const REFUSE = {
    'data/datapage_v1-corrupt-checksum.parquet': {
        why: 'page CRC mismatch',
        re: /page CRC mismatch/i,
    },
    'data/rle-dict-uncompressed-corrupt-checksum.parquet': {
        why: 'page CRC mismatch',
        re: /page CRC mismatch/i,
    },
    // The last page of column "name" runs past the column chunk (Arrow calls
    // the file "nation_dict_truncated_data_page"); DuckDB reads past the
    // chunk's end and prints rows, a bounded reader must not.
    'data/nation.dict-malformed.parquet': {
        why: 'malformed dictionary-encoded chunk (page past the chunk end)',
        re: /column name\b.*(past the chunk end|truncated|exceeds)/i,
    },
    'data/unknown-logical-type.parquet': {
        why: 'unsupported logical type',
        re: /column with unknown type.*(unknown|unsupported) logical type/i,
    },
    // A required FIXED_LEN_BYTE_ARRAY(4) column whose page holds nulls: the
    // page has fewer values than num_values says.
    'bad_data/ARROW-GH-47662.parquet': {
        why: 'required column with nulls (page values short)',
        re: /flba_field.*(exceed|present|truncated|null)/i,
    },
    // A fuzzed nation file: the first data page header is damaged (its
    // num_values field carries a wrong Thrift type; upstream describes a
    // negative dictionary num_values further on).
    'bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet': {
        why: 'corrupt page header',
        re: /page header|dictionary|num_values|negative/i,
    },
    'bad_data/PARQUET-1481.parquet': {
        why: 'corrupt schema in the footer',
        re: /footer.*(schema|physical type|type)/i,
    },
};

// Files read against a value given here instead of a row file.
//  ARROW-GH-43605: the data page's RLE_DICTIONARY indices have bit width 0.
//  Encodings.md: the indices are RLE/bit-packed hybrid values of the stored
//  bit width; with width 0 every index is 0, which is valid for the file's
//  one-entry dictionary (its ZSTD dictionary page holds the single INT32 0,
//  raw block "00 00 00 00"), and the v2 page has num_nulls 0 with all
//  definition levels 1.  So every one of the 21186 rows is {"min_fl": 0}.
const CONSTANT_ROWS = {
    'bad_data/ARROW-GH-43605.parquet': { rows: 21186, row: '{"min_fl":0}' },
};

/* ------------------------------------------------------------------------ */
/* JSON with exact number text (and DuckDB's bare NaN / Infinity)           */
/* ------------------------------------------------------------------------ */

class Num {
    constructor(s) { this.s = s; }
}
class Obj {
    constructor(entries) { this.entries = entries; } // [[key, value], ...]
}

function parseJson(text) {
    let i = 0;
    const n = text.length;
    const fail = (what) => { throw new Error(`${what} at offset ${i}`); };
    const ws = () => { while (i < n && ' \t\r\n'.includes(text[i])) i++; };
    const word = (w) => { if (text.startsWith(w, i)) { i += w.length; return true; } return false; };
    function str() {
        i++; // opening quote
        let out = '';
        for (;;) {
            if (i >= n) fail('unterminated string');
            const c = text[i++];
            if (c === '"') return out;
            if (c !== '\\') { out += c; continue; }
            const e = text[i++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                const h = text.slice(i, i + 4);
                if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
                out += String.fromCharCode(parseInt(h, 16));
                i += 4;
                break;
            }
            default: fail('bad escape');
            }
        }
    }
    function value() {
        ws();
        if (i >= n) fail('unexpected end');
        const c = text[i];
        if (c === '{') {
            i++;
            const entries = [];
            ws();
            if (text[i] === '}') { i++; return new Obj(entries); }
            for (;;) {
                ws();
                if (text[i] !== '"') fail('expected a key');
                const k = str();
                ws();
                if (text[i++] !== ':') fail('expected ":"');
                entries.push([k, value()]);
                ws();
                const d = text[i++];
                if (d === '}') return new Obj(entries);
                if (d !== ',') fail('expected "," or "}"');
            }
        }
        if (c === '[') {
            i++;
            const arr = [];
            ws();
            if (text[i] === ']') { i++; return arr; }
            for (;;) {
                arr.push(value());
                ws();
                const d = text[i++];
                if (d === ']') return arr;
                if (d !== ',') fail('expected "," or "]"');
            }
        }
        if (c === '"') return str();
        if (word('null')) return null;
        if (word('true')) return true;
        if (word('false')) return false;
        for (const w of ['NaN', '-NaN', 'Infinity', '-Infinity', 'nan', '-nan', 'inf', '-inf'])
            if (word(w)) return new Num(w);
        const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
        if (!m) fail('unexpected character');
        i += m[0].length;
        return new Num(m[0]);
    }
    const v = value();
    ws();
    if (i !== n) fail('trailing text');
    return v;
}

function show(v) {
    if (v === null) return 'null';
    if (v instanceof Num) return v.s;
    if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 77) + '...' : v);
    if (typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return '[' + v.map(show).join(',') + ']';
    if (v instanceof Obj) return '{' + v.entries.map(([k, x]) => JSON.stringify(k) + ':' + show(x)).join(',') + '}';
    return JSON.stringify(v);
}

/* ------------------------------------------------------------------------ */
/* Value normalisation                                                      */
/* ------------------------------------------------------------------------ */

// A float from a JSON number, a numeric string or a NaN/infinity spelling;
// undefined when the text is none of these.
function floatOf(v) {
    let s;
    if (v instanceof Num) s = v.s;
    else if (typeof v === 'string') s = v;
    else return undefined;
    const t = s.trim().toLowerCase();
    if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
    if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
    if (t === '-inf' || t === '-infinity') return -Infinity;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
    return Number(t);
}

function sameFloat(a, b) {
    return Object.is(a, b); // NaN equals NaN; 0 and -0 differ
}

// Round a double to the nearest float16 value (ties to even).
function f16round(x) {
    if (!Number.isFinite(x) || x === 0) return x;
    const sign = x < 0 ? -1 : 1;
    const a = Math.abs(x);
    if (a >= 65520) return sign * Infinity;
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e--;
    if (2 ** (e + 1) <= a) e++;
    if (e < -14) e = -14;
    const q = 2 ** (e - 10);
    const m = a / q; // exact: q is a power of two
    const fl = Math.floor(m);
    let r;
    if (m - fl > 0.5) r = fl + 1;
    else if (m - fl < 0.5) r = fl;
    else r = fl % 2 === 0 ? fl : fl + 1;
    return sign * r * q;
}

// Exact decimal value of a decimal or scientific number text:
// {neg, digits: BigInt, exp} normalised (no trailing zero digits).
function decimalOf(v) {
    let s;
    if (v instanceof Num) s = v.s;
    else if (typeof v === 'string') s = v;
    else return undefined;
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return undefined;
    const frac = m[3] || '';
    let digits = BigInt((m[2] || '0') + frac);
    let exp = (m[4] ? parseInt(m[4], 10) : 0) - frac.length;
    if (digits === 0n) return { neg: false, digits: 0n, exp: 0 };
    while (digits % 10n === 0n) { digits /= 10n; exp++; }
    return { neg: m[1] === '-', digits, exp };
}

function sameDecimal(a, b) {
    return a && b && a.neg === b.neg && a.digits === b.digits && a.exp === b.exp;
}

const floorDiv = (a, b) => { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q; };

function daysFromCivil(y, m, d) {
    y -= m <= 2n ? 1n : 0n;
    const era = floorDiv(y, 400n);
    const yoe = y - era * 400n;
    const mp = (m + 9n) % 12n;
    const doy = (153n * mp + 2n) / 5n + d - 1n;
    const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
    return era * 146097n + doe - 719468n;
}

function civilFromDays(z) {
    z += 719468n;
    const era = floorDiv(z, 146097n);
    const doe = z - era * 146097n;
    const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
    const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
    const mp = (5n * doy + 2n) / 153n;
    const d = doy - (153n * mp + 2n) / 5n + 1n;
    const m = mp < 10n ? mp + 3n : mp - 9n;
    return [yoe + era * 400n + (m <= 2n ? 1n : 0n), m, d];
}

const NS_PER_DAY = 86400000000000n;

// Timestamp text → nanoseconds since 1970-01-01T00:00:00Z.  Accepts ours
// ("2009-01-01T00:00:00.000000000Z", "+290000-...") and DuckDB's ("2009-01-01
// 00:00:00.41", "226414-01-07 (BC) 22:21:39", "+00" offsets).
function tsNanos(v) {
    if (typeof v !== 'string') return undefined;
    const m = /^([+-]?\d{4,})-(\d\d)-(\d\d)( \(BC\))?[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(v);
    if (!m) return undefined;
    let y = BigInt(m[1]);
    if (m[4]) y = 1n - y;
    const days = daysFromCivil(y, BigInt(m[2]), BigInt(m[3]));
    let ns = days * NS_PER_DAY + (BigInt(m[5]) * 3600n + BigInt(m[6]) * 60n + BigInt(m[7])) * 1000000000n +
        BigInt((m[8] || '').padEnd(9, '0'));
    if (m[9] && m[9] !== 'Z') {
        const sign = m[9][0] === '-' ? -1n : 1n;
        const hh = BigInt(m[9].slice(1, 3));
        const mm = BigInt(m[9].replace(':', '').slice(3, 5) || '0');
        ns -= sign * (hh * 3600n + mm * 60n) * 1000000000n;
    }
    return ns;
}

function nanosIso(ns) {
    const days = floorDiv(ns, NS_PER_DAY);
    let r = ns - days * NS_PER_DAY;
    const [y, m, d] = civilFromDays(days);
    const p2 = (x) => String(x).padStart(2, '0');
    const frac = String(r % 1000000000n).padStart(9, '0');
    r /= 1000000000n;
    const ys = y >= 0n && y <= 9999n ? String(y).padStart(4, '0') : (y > 0n ? '+' : '') + String(y);
    return `${ys}-${p2(m)}-${p2(d)}T${p2(r / 3600n)}:${p2((r / 60n) % 60n)}:${p2(r % 60n)}.${frac}Z`;
}

function base64Bytes(s) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
    const b = Buffer.from(s, 'base64');
    return b.toString('base64') === s ? b : undefined; // canonical only
}

// Bytes of a reference BLOB value: DuckDB base64, hyparquet text or hex.
function refBytes(v, source) {
    if (v instanceof Obj) {
        const e = v.entries.find(([k]) => k === '$bytes_hex');
        return e && typeof e[1] === 'string' ? Buffer.from(e[1], 'hex') : undefined;
    }
    if (typeof v !== 'string') return undefined;
    return source === 'hyparquet' ? Buffer.from(v, 'utf8') : base64Bytes(v);
}

function intText(v) {
    const s = v instanceof Num ? v.s : typeof v === 'string' ? v : null;
    return s !== null && /^-?\d+$/.test(s) ? BigInt(s) : undefined;
}

/* ------------------------------------------------------------------------ */
/* Column kinds from DuckDB's parquet_schema() dump                         */
/* ------------------------------------------------------------------------ */

function loadKinds(name) {
    const f = path.join(pqdir, 'duckdb_reference', name + '.schema.jsonl');
    if (!fs.existsSync(f)) return null;
    const kinds = new Map();
    const rows = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    for (const r of rows.slice(1)) {
        if (r.num_children) return null; // nested: compare generically
        const dt = String(r.duckdb_type || '');
        const lt = String(r.logical_type || '');
        let k = { kind: 'any' };
        if (/Float16/i.test(lt)) k = { kind: 'f16' };
        else if (dt === 'FLOAT') k = { kind: 'f32' };
        else if (dt === 'DOUBLE') k = { kind: 'f64' };
        else if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(dt)) k = { kind: 'int' };
        else if (dt.startsWith('DECIMAL')) {
            const m = /DECIMAL\((\d+),(\d+)\)/.exec(dt);
            k = { kind: 'decimal', precision: m ? +m[1] : null, scale: m ? +m[2] : r.scale };
        } else if (dt.startsWith('TIMESTAMP')) k = { kind: 'ts' };
        else if (dt === 'BLOB') k = { kind: 'blob' };
        else if (dt === 'VARCHAR') k = { kind: 'string' };
        else if (dt === 'BOOLEAN') k = { kind: 'bool' };
        else if (dt === 'DATE') k = { kind: 'date' };
        kinds.set(r.name, k);
    }
    return kinds;
}

/* ------------------------------------------------------------------------ */
/* Value comparison: returns null when equal, else a reason                  */
/* ------------------------------------------------------------------------ */

function compareValue(ours, ref, kind, source) {
    if (ours === null || ref === null) return ours === ref ? null : 'null mismatch';
    switch (kind.kind) {
    case 'int': {
        const a = intText(ours), b = intText(ref);
        if (a === undefined || !(ours instanceof Num)) return 'not an integer number';
        if (b === undefined) return 'reference not an integer';
        return a === b ? null : 'different integer';
    }
    case 'f32': {
        const a = floatOf(ours), b = floatOf(ref);
        if (a === undefined || b === undefined) return 'not a float';
        if (Number.isNaN(a) && ours !== 'NaN') return 'NaN not spelled "NaN"';
        if (!sameFloat(Math.fround(a), Math.fround(b))) return 'different float32';
        // both sides print the shortest text of the float32 value
        if (Number.isFinite(a) && !sameFloat(a, b)) return 'same float32 but not its shortest text';
        return null;
    }
    case 'f16': {
        const a = floatOf(ours), b = floatOf(ref);
        if (a === undefined || b === undefined) return 'not a float';
        return sameFloat(f16round(a), f16round(b)) ? null : 'different float16';
    }
    case 'f64': {
        const a = floatOf(ours), b = floatOf(ref);
        if (a === undefined || b === undefined) return 'not a float';
        if (Number.isFinite(a) && !(ours instanceof Num)) return 'finite float printed as a string';
        if (!Number.isFinite(a) && typeof ours !== 'string') return 'non-finite float not a string';
        return sameFloat(a, b) ? null : 'different double';
    }
    case 'decimal': {
        if (typeof ours !== 'string') return 'decimal not a string';
        const m = /^-?\d+(?:\.(\d+))?$/.exec(ours);
        if (!m) return 'decimal text malformed';
        if (kind.scale != null && (m[1] || '').length !== kind.scale) return `decimal not at scale ${kind.scale}`;
        const a = decimalOf(ours), b = decimalOf(ref);
        if (!b) return 'reference not a decimal';
        if (sameDecimal(a, b)) return null;
        // DuckDB prints wide decimals as doubles: fall back to double equality there
        if (ref instanceof Num && /[eE]/.test(ref.s) && Number(ours) === Number(ref.s)) return null;
        return 'different decimal';
    }
    case 'ts': {
        if (typeof ours !== 'string' || !/^[+-]?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{6}|\d{9})Z?$/.test(ours))
            return 'timestamp text malformed';
        const a = tsNanos(ours), b = tsNanos(ref);
        if (b === undefined) return 'reference not a timestamp';
        return a === b ? null : 'different timestamp';
    }
    case 'blob': {
        const a = base64Bytes(ours);
        if (!a) return 'binary not canonical base64';
        const b = refBytes(ref, source);
        if (!b) return 'reference not bytes';
        return a.equals(b) ? null : 'different bytes';
    }
    case 'string':
        if (typeof ours !== 'string') return 'not a string';
        return ours === ref ? null : 'different string';
    case 'bool':
        if (typeof ours !== 'boolean') return 'not a boolean';
        return ours === ref ? null : 'different boolean';
    case 'date':
        if (typeof ours !== 'string') return 'not a date string';
        return ours === ref ? null : 'different date';
    default:
        return compareAny(ours, ref, source);
    }
}

// No column type known (nested files, live DuckDB): structural comparison.
function compareAny(ours, ref, source) {
    if (ours === null || ref === null) return ours === ref ? null : 'null mismatch';
    if (ours instanceof Num || ref instanceof Num) {
        const ai = intText(ours), bi = intText(ref);
        if (ai !== undefined && bi !== undefined) return ai === bi ? null : 'different integer';
        const a = floatOf(ours), b = floatOf(ref);
        if (a !== undefined && b !== undefined) return sameFloat(a, b) ? null : 'different number';
        const da = decimalOf(ours), db = decimalOf(ref);
        return sameDecimal(da, db) ? null : 'different number';
    }
    if (Array.isArray(ours) || Array.isArray(ref)) {
        if (!Array.isArray(ours) || !Array.isArray(ref)) return 'list vs non-list';
        if (ours.length !== ref.length) return `list of ${ours.length} vs ${ref.length}`;
        for (let k = 0; k < ours.length; k++) {
            const r = compareAny(ours[k], ref[k], source);
            if (r) return `[${k}]: ${r}`;
        }
        return null;
    }
    if (ours instanceof Obj || ref instanceof Obj) {
        if (!(ours instanceof Obj) || !(ref instanceof Obj)) return 'object vs non-object';
        const ka = ours.entries.map((e) => e[0]).join(','), kb = ref.entries.map((e) => e[0]).join(',');
        if (ka !== kb) return `keys {${ka}} vs {${kb}}`;
        for (let k = 0; k < ours.entries.length; k++) {
            const r = compareAny(ours.entries[k][1], ref.entries[k][1], source);
            if (r) return `.${ours.entries[k][0]}: ${r}`;
        }
        return null;
    }
    if (typeof ours === 'string' && typeof ref === 'string') {
        if (ours === ref) return null;
        const a = floatOf(ours), b = floatOf(ref);
        if (a !== undefined && b !== undefined && Number.isNaN(a) && Number.isNaN(b)) return null;
        const ta = tsNanos(ours), tb = tsNanos(ref);
        if (ta !== undefined && tb !== undefined) return ta === tb ? null : 'different timestamp';
        return 'different string';
    }
    return ours === ref ? null : 'different value';
}

// Compares our rows (parsed) with reference rows; returns a list of
// difference texts (at most MAX_DIFFS, plus a count line).
function compareRows(ours, refs, kinds, source) {
    const diffs = [];
    let total = 0;
    const note = (s) => { total++; if (diffs.length < MAX_DIFFS) diffs.push(s); };
    if (ours.length !== refs.length) note(`${ours.length} rows, reference has ${refs.length}`);
    const n = Math.min(ours.length, refs.length);
    for (let r = 0; r < n; r++) {
        const a = ours[r], b = refs[r];
        if (!(a instanceof Obj) || !(b instanceof Obj)) { note(`row ${r}: not an object`); continue; }
        const ka = a.entries.map((e) => e[0]), kb = b.entries.map((e) => e[0]);
        if (ka.join('\u0000') !== kb.join('\u0000')) {
            note(`row ${r}: columns [${ka.join(',')}] vs reference [${kb.join(',')}]`);
            continue;
        }
        for (let c = 0; c < ka.length; c++) {
            const kind = (kinds && kinds.get(ka[c])) || { kind: 'any' };
            const why = compareValue(a.entries[c][1], b.entries[c][1], kind, source);
            if (why) note(`row ${r} ${ka[c]}: got ${show(a.entries[c][1])}, want ${show(b.entries[c][1])} (${why})`);
        }
    }
    if (total > diffs.length) diffs.push(`... ${total} differences in all`);
    return diffs;
}

/* ------------------------------------------------------------------------ */
/* Other reference forms                                                    */
/* ------------------------------------------------------------------------ */

// RFC 4180 CSV: a record is a list of {text, quoted}.
function parseCsv(text) {
    const recs = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
        const rec = [];
        for (;;) {
            let f = '', quoted = false;
            if (text[i] === '"') {
                quoted = true;
                i++;
                for (;;) {
                    if (i >= n) throw new Error('unterminated quoted field');
                    if (text[i] === '"') {
                        if (text[i + 1] === '"') { f += '"'; i += 2; continue; }
                        i++;
                        break;
                    }
                    f += text[i++];
                }
            } else {
                while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') f += text[i++];
            }
            rec.push({ text: f, quoted });
            if (text[i] === ',') { i++; continue; }
            if (text[i] === '\r') i++;
            if (text[i] === '\n') i++;
            break;
        }
        recs.push(rec);
    }
    return recs;
}

// Upstream *_expect.csv: header row, then one record per row, columns by
// position (the header names differ slightly from the schema's); an empty
// unquoted field is null.
function compareCsv(ours, csvFile) {
    const recs = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    const body = recs.slice(1);
    const diffs = [];
    let total = 0;
    const note = (s) => { total++; if (diffs.length < MAX_DIFFS) diffs.push(s); };
    if (body.length !== ours.length) note(`${ours.length} rows, expect CSV has ${body.length}`);
    for (let r = 0; r < Math.min(body.length, ours.length); r++) {
        const vals = ours[r].entries;
        if (vals.length !== body[r].length) { note(`row ${r}: ${vals.length} columns, CSV has ${body[r].length}`); continue; }
        for (let c = 0; c < vals.length; c++) {
            const [k, v] = vals[c];
            const f = body[r][c];
            const want = !f.quoted && f.text === '' ? null : f.text;
            let got;
            if (v === null) got = null;
            else if (v instanceof Num) got = v.s;
            else if (typeof v === 'string') got = v;
            else got = show(v);
            if (got !== want) note(`row ${r} ${k}: got ${show(v)}, CSV has ${want === null ? 'null' : JSON.stringify(want)}`);
        }
    }
    if (total > diffs.length) diffs.push(`... ${total} differences in all`);
    return diffs;
}

// int96_from_spark.md: the values "As microseconds since the epoch" in the
// code block after that sentence.
function int96Expected(mdFile) {
    const md = fs.readFileSync(mdFile, 'utf8');
    const m = /As microseconds since the epoch[^`]*```\s*\n([^`]*)```/.exec(md);
    if (!m) throw new Error(`${mdFile}: no microsecond list found`);
    return m[1].split(',').map((s) => s.trim()).filter((s) => s).map((s) => (s === 'null' ? null : BigInt(s) * 1000n));
}

function compareInt96(ours, expected) {
    const diffs = [];
    if (ours.length !== expected.length) diffs.push(`${ours.length} rows, ${path.basename('int96_from_spark.md')} lists ${expected.length}`);
    for (let r = 0; r < Math.min(ours.length, expected.length); r++) {
        const v = ours[r].entries[0] ? ours[r].entries[0][1] : undefined;
        const want = expected[r];
        if (want === null) {
            if (v !== null) diffs.push(`row ${r}: got ${show(v)}, want null`);
            continue;
        }
        const got = tsNanos(v);
        if (got !== want) diffs.push(`row ${r}: got ${show(v)}, want "${nanosIso(want)}" (${want / 1000n} us, int96_from_spark.md)`);
    }
    return diffs;
}

/* ------------------------------------------------------------------------ */
/* Running lakesync                                                         */
/* ------------------------------------------------------------------------ */

const SAN_RE = /(ERROR|WARNING): (Address|Leak|Memory|Thread|Undefined)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;

function run(exe, args, env) {
    const r = spawnSync(exe, args, {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        env: env ? { ...process.env, ...env } : process.env,
        timeout: 300000,
    });
    return {
        status: r.status,
        signal: r.signal,
        stdout: r.stdout || '',
        stderr: r.stderr || '',
        error: r.error,
    };
}

function crashText(r) {
    if (r.error) return `could not run: ${r.error.message}`;
    if (r.signal) return `killed by ${r.signal}`;
    if (r.status >= 128) return `exit status ${r.status} (crash)`;
    return null;
}

function metaRows(text) {
    const m = /^rows: (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
}

const ASAN_ENV = {
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'halt_on_error=1:print_stacktrace=1',
};

// The sanitizer build on one file: same output and status as the release
// build, nothing reported.  Returns a problem text or null.
function asanCheck(file, cat, meta) {
    for (const [args, rel] of [[['parquet', 'cat', '--format', 'jsonl', file], cat], [['parquet', 'meta', file], meta]]) {
        const r = run(asanBin, args, ASAN_ENV);
        const what = `asan ${args[1]}`;
        if (SAN_RE.test(r.stderr)) return `${what}: sanitizer report: ${r.stderr.split('\n').find((l) => SAN_RE.test(l))}`;
        const crash = crashText(r);
        if (crash) return `${what}: ${crash}`;
        if (r.status !== rel.status) return `${what}: exit status ${r.status}, release build ${rel.status}`;
        if (r.stdout !== rel.stdout) return `${what}: output differs from the release build`;
    }
    return null;
}

/* ------------------------------------------------------------------------ */
/* Per-file checks                                                          */
/* ------------------------------------------------------------------------ */

const results = []; // {rel, status: 'ok'|'FAIL', group, text}
const refusedGroups = new Map();
let pass = 0, fail = 0, skip = 0;

function report(rel, ok, text, group) {
    const label = 'corpus/' + rel.replace(/^data\//, '');
    console.log(`${ok ? 'ok' : 'FAIL'} ${label}: ${text}`);
    if (ok) pass++;
    else fail++;
    results.push({ rel, ok, group });
}

function parseLines(text, what) {
    const out = [];
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    for (let k = 0; k < lines.length; k++) {
        try {
            out.push(parseJson(lines[k]));
        } catch (e) {
            throw new Error(`${what} line ${k + 1}: ${e.message}`);
        }
    }
    return out;
}

let duckdbLive; // undefined: not tried; null: unavailable
function liveDuckdb(file) {
    const pq = path.join(here, 'pq.mjs');
    if (duckdbLive === undefined)
        duckdbLive = fs.existsSync(path.join(here, 'node_modules', '@duckdb', 'node-api')) && fs.existsSync(pq) ? true : null;
    if (!duckdbLive) return null;
    const r = run(process.execPath, [pq, 'cat', file]);
    if (r.status !== 0) return null;
    return r.stdout;
}

function checkFile(rel) {
    const file = path.join(pqdir, rel);
    const name = path.basename(rel);
    const cat = run(bin, ['parquet', 'cat', '--format', 'jsonl', file]);
    const meta = run(bin, ['parquet', 'meta', file]);
    const problems = [];
    for (const [what, r] of [['cat', cat], ['meta', meta]]) {
        const crash = crashText(r);
        if (crash) problems.push(`${what}: ${crash}`);
        if (SAN_RE.test(r.stderr)) problems.push(`${what}: sanitizer report`);
    }
    if (asanBin) {
        const a = asanCheck(file, cat, meta);
        if (a) problems.push(a);
    }
    if (problems.length) return report(rel, false, problems.join('; '));

    const refuse = REFUSE[rel];
    if (refuse) {
        if (cat.status === 0) return report(rel, false, `read (${cat.stdout.split('\n').length - 1} rows), expected a refusal: ${refuse.why}`);
        const lines = cat.stderr.split('\n').filter((l) => l !== '');
        const msg = lines[0] || '';
        const prefix = `lakesync: ${file}: `;
        if (lines.length !== 1 || !cat.stderr.endsWith('\n')) return report(rel, false, `expected one error line, got ${JSON.stringify(cat.stderr.slice(0, 300))}`);
        if (!msg.startsWith(prefix)) return report(rel, false, `error does not start "lakesync: FILE: ": ${msg}`);
        if (!refuse.re.test(msg.slice(prefix.length))) return report(rel, false, `error does not match ${refuse.re}: ${msg}`);
        const shown = msg.slice(prefix.length);
        refusedGroups.set(refuse.why, (refusedGroups.get(refuse.why) || 0) + 1);
        return report(rel, true, `refused as expected: ${shown}`, 'refused');
    }

    if (cat.status !== 0) return report(rel, false, `exit status ${cat.status}: ${cat.stderr.trim().split('\n')[0]}`);
    if (cat.stderr.trim() !== '') return report(rel, false, `unexpected stderr: ${cat.stderr.trim().split('\n')[0]}`);
    let ours;
    try {
        ours = parseLines(cat.stdout, 'lakesync output');
    } catch (e) {
        return report(rel, false, e.message);
    }
    const want = metaRows(meta.stdout);
    const countNote = want === undefined ? 'meta printed no row count' : ours.length !== want ? `${ours.length} rows printed, meta says ${want}` : null;
    if (countNote) return report(rel, false, countNote);

    const constant = CONSTANT_ROWS[rel];
    if (constant) {
        const expect = parseJson(constant.row);
        const diffs = [];
        if (ours.length !== constant.rows) diffs.push(`${ours.length} rows, want ${constant.rows}`);
        for (let r = 0; r < ours.length && diffs.length < MAX_DIFFS; r++) {
            const why = compareAny(ours[r], expect, 'expected');
            if (why) diffs.push(`row ${r}: got ${show(ours[r])}, want ${constant.row} (${why})`);
        }
        if (diffs.length) return report(rel, false, diffs.join('; '));
        return report(rel, true, `${ours.length} rows identical (every row ${constant.row}, as the spec reads it)`, 'identical');
    }

    if (name === 'int96_from_spark.parquet') {
        const md = path.join(pqdir, 'data', 'int96_from_spark.md');
        const diffs = compareInt96(ours, int96Expected(md));
        if (diffs.length) return report(rel, false, diffs.join('; '));
        return report(rel, true, `${ours.length} rows identical (int96_from_spark.md)`, 'identical');
    }

    const sources = [];
    const duck = path.join(pqdir, 'duckdb_reference', name + '.rows.jsonl');
    const hyp = path.join(pqdir, 'hyparquet_reference', name + '.rows.hyparquet.jsonl');
    const csv = path.join(path.dirname(file), name.replace(/\.parquet$/, '_expect.csv'));
    const diffs = [];
    try {
        if (fs.existsSync(duck)) {
            sources.push('DuckDB');
            for (const d of compareRows(ours, parseLines(fs.readFileSync(duck, 'utf8'), 'DuckDB reference'), loadKinds(name), 'duckdb'))
                diffs.push(`DuckDB: ${d}`);
        } else if (fs.existsSync(hyp)) {
            sources.push('hyparquet');
            for (const d of compareRows(ours, parseLines(fs.readFileSync(hyp, 'utf8'), 'hyparquet reference'), loadKinds(name), 'hyparquet'))
                diffs.push(`hyparquet: ${d}`);
        }
        if (fs.existsSync(csv)) {
            sources.push('expect CSV');
            for (const d of compareCsv(ours, csv)) diffs.push(`expect CSV: ${d}`);
        }
        if (!sources.length) {
            const live = liveDuckdb(file);
            if (live !== null) {
                sources.push('DuckDB live');
                for (const d of compareRows(ours, parseLines(live, 'DuckDB live'), null, 'duckdb-live')) diffs.push(`DuckDB live: ${d}`);
            }
        }
    } catch (e) {
        diffs.push(e.message);
    }
    if (diffs.length) return report(rel, false, diffs.slice(0, MAX_DIFFS + 1).join('; '));
    if (!sources.length) return report(rel, true, `${ours.length} rows read, no reference (row count matches meta)`, 'noref');
    return report(rel, true, `${ours.length} rows identical (${sources.join(' and ')})`, 'identical');
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

function main() {
    if (!fs.existsSync(pqdir)) {
        console.log(`skip corpus: no corpus at ${pqdir}`);
        console.log('0 passed, 0 failed, 1 skipped');
        return 0;
    }
    if (!fs.existsSync(bin)) {
        console.log(`FAIL corpus: no lakesync binary at ${bin} (run make)`);
        console.log('0 passed, 1 failed, 0 skipped');
        return 1;
    }
    if (asanBin && !fs.existsSync(asanBin)) {
        console.log(`skip corpus/asan: no sanitizer binary at ${asanBin} (run make SAN=1)`);
        skip++;
        asanBin = null;
    }
    const useAsan = asanBin !== null;

    const files = [];
    for (const dir of ['data', 'nested_reference', 'bad_data']) {
        const d = path.join(pqdir, dir);
        if (!fs.existsSync(d)) continue;
        for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.parquet')) files.push(`${dir}/${f}`);
    }
    for (const rel of Object.keys(REFUSE).concat(Object.keys(CONSTANT_ROWS)))
        if (!files.includes(rel)) {
            console.log(`skip corpus/${rel}: listed but not in the corpus`);
            skip++;
        }
    for (const rel of files) {
        try {
            checkFile(rel);
        } catch (e) {
            report(rel, false, `test error: ${e.message}`);
        }
    }

    const count = (g) => results.filter((r) => r.ok && r.group === g).length;
    console.log('');
    console.log(`summary: ${files.length} files${useAsan ? ' (each also under the sanitizer build)' : ''}`);
    console.log(`  read, identical to a reference: ${count('identical')}`);
    console.log(`  refused as expected: ${count('refused')}`);
    for (const [why, k] of [...refusedGroups].sort()) console.log(`    ${k} x ${why}`);
    console.log(`  read, no reference (row count checked): ${count('noref')}`);
    const failed = results.filter((r) => !r.ok).map((r) => r.rel);
    console.log(`  failed: ${failed.length}${failed.length ? ' (' + failed.join(', ') + ')' : ''}`);
    console.log(`${pass} passed, ${fail} failed, ${skip} skipped`);
    return fail ? 1 : 0;
}

process.exitCode = main();
