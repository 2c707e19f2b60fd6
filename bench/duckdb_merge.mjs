#!/usr/bin/env node
// bench/duckdb_merge.mjs — DuckDB peer of the CDC merge benchmark (bench/merge.sh).
//
//   node bench/duckdb_merge.mjs load  RAWDIR/snap OUT.parquet [precise|string]
//   node bench/duckdb_merge.mjs merge RAWDIR/chg BASE.parquet OUT.parquet [precise|string]
//   node bench/duckdb_merge.mjs check FILE.parquet
//
// Needs the npm packages of tests/duckdb (scripts/install-deps.sh installs them).
// DuckDB runs single-threaded (threads=1, TimeZone UTC); each step is its own
// process (merge.sh runs one per step), so peak RSS is the step's own.
//
// The raw zone is what bench/merge_bench.c `gen` writes: Debezium payloads without
// the schema envelope, one per line, in the S3-sink layout
// RAWDIR/{snap,chg}/topics/bench.salesdb.customer/partition=0/*.json.  Decimals are
// in Debezium's decimal.handling.mode: "precise" (base64 of the unscaled big-endian
// two's complement; decoded here in SQL) or "string".
//
// load (timed):  COPY (SELECT after.* FROM read_json(snap)) TO OUT (parquet, snappy)
// merge (timed): the same upsert as lakesync's merge, as one query:
//   changes = read_json(chg) → (op, source.pos, key = coalesce(after, before).cust_id, after)
//   latest  = changes QUALIFY row_number() OVER (PARTITION BY key ORDER BY pos DESC) = 1
//   COPY (read_parquet(BASE) ANTI JOIN latest ON cust_id = key
//         UNION ALL SELECT after.* FROM latest WHERE op <> 'd') TO OUT (parquet, snappy)
//   source.pos rises with the offset in this raw zone, so ordering by it is
//   ordering by offset (what lakesync uses).
// check (untimed): count(*) and the order-independent checksum merge_bench.c `check`
//   computes: sum mod 2^64 of the first 8 bytes (big-endian) of md5 of
//   cust_id|name|mktsegment|balance in cents|updated_at epoch µs  (NULL as \N).
//
// load and merge print one JSON line {"s":..,"cpu_s":..,"maxrss_kb":..,"rows":..}
// (maxrss is the node process's: DuckDB plus the node runtime, ~50 MB);
// check prints {"rows":..,"checksum":".."}.

import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(new URL('../tests/duckdb/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const sqlStr = (s) => "'" + String(s).replace(/'/g, "''") + "'";
const TOPIC = 'bench.salesdb.customer';
const ROW = 'STRUCT(cust_id BIGINT, name VARCHAR, mktsegment VARCHAR, balance VARCHAR, updated_at TIMESTAMPTZ)';

function rawJson(dir, cols) {
    const glob = `${dir}/topics/${TOPIC}/partition=0/*.json`;
    return `read_json(${sqlStr(glob)}, format='newline_delimited', hive_partitioning=false, columns={${cols}})`;
}

async function open() {
    const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await inst.connect();
    await con.run("SET threads=1; SET TimeZone='UTC'");
    // Debezium precise-mode DECIMAL(12,2): base64 of the unscaled big-endian two's complement
    // (at most 8 bytes for 12 digits: DuckDB casts hex text to UBIGINT, not to HUGEINT).
    await con.run(`CREATE MACRO dbz_unscaled(h) AS
        ('0x' || h)::UBIGINT::HUGEINT - CASE WHEN left(h, 1) >= '8' THEN pow(2, 4 * length(h))::HUGEINT ELSE 0 END`);
    await con.run(`CREATE MACRO dbz_precise(s) AS
        (dbz_unscaled(hex(from_base64(s)))::DECIMAL(18,0) * 0.01)::DECIMAL(12,2)`);
    await con.run('CREATE MACRO dbz_string(s) AS CAST(s AS DECIMAL(12,2))');
    return con;
}

function usage() {
    process.stderr.write('usage: node bench/duckdb_merge.mjs load RAWDIR/snap OUT.parquet [precise|string]\n' +
        '       node bench/duckdb_merge.mjs merge RAWDIR/chg BASE.parquet OUT.parquet [precise|string]\n' +
        '       node bench/duckdb_merge.mjs check FILE.parquet\n');
    return 2;
}

function decimalMode(m) {
    m = m || 'precise';
    if (m !== 'precise' && m !== 'string')
        throw new Error(`decimal mode is precise or string, not ${m}`);
    return m;
}

async function timed(con, sql) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await con.run(sql);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { s, cpu_s: (c.user + c.system) / 1e6, maxrss_kb: process.resourceUsage().maxRSS };
}

async function count(con, file) {
    const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlStr(file)})`);
    return Number(r.getRows()[0][0]);
}

async function main(argv) {
    const [cmd, ...a] = argv;
    if (cmd === 'load' && (a.length === 2 || a.length === 3)) {
        const dec = decimalMode(a[2]);
        const con = await open();
        fs.rmSync(a[1], { force: true });
        const src = rawJson(a[0], `after: '${ROW}'`);
        const r = await timed(con, `COPY (
            SELECT after.cust_id, after.name, after.mktsegment, dbz_${dec}(after.balance) AS balance,
                   after.updated_at
            FROM ${src}) TO ${sqlStr(a[1])} (FORMAT parquet, COMPRESSION snappy)`);
        r.rows = await count(con, a[1]);
        process.stdout.write(JSON.stringify(r) + '\n');
        return 0;
    }
    if (cmd === 'merge' && (a.length === 3 || a.length === 4)) {
        const dec = decimalMode(a[3]);
        const con = await open();
        fs.rmSync(a[2], { force: true });
        const src = rawJson(a[0], `before: 'STRUCT(cust_id BIGINT)', after: '${ROW}', source: 'STRUCT(pos BIGINT)', op: 'VARCHAR'`);
        const r = await timed(con, `COPY (
            WITH changes AS (
                SELECT op, source.pos AS pos, coalesce(after.cust_id, before.cust_id) AS k, after FROM ${src}),
            latest AS (
                SELECT * FROM changes QUALIFY row_number() OVER (PARTITION BY k ORDER BY pos DESC) = 1)
            SELECT b.* FROM read_parquet(${sqlStr(a[1])}) b ANTI JOIN latest l ON b.cust_id = l.k
            UNION ALL
            SELECT after.cust_id, after.name, after.mktsegment, dbz_${dec}(after.balance), after.updated_at
            FROM latest WHERE op <> 'd'
        ) TO ${sqlStr(a[2])} (FORMAT parquet, COMPRESSION snappy)`);
        r.rows = await count(con, a[2]);
        process.stdout.write(JSON.stringify(r) + '\n');
        return 0;
    }
    if (cmd === 'check' && a.length === 1) {
        const con = await open();
        const r = await con.runAndReadAll(`
            SELECT count(*), sum(('0x' || substr(md5(concat_ws('|',
                       cust_id::VARCHAR, coalesce(name, '\\N'), coalesce(mktsegment, '\\N'),
                       coalesce((balance * 100)::BIGINT::VARCHAR, '\\N'),
                       coalesce(epoch_us(updated_at)::VARCHAR, '\\N'))), 1, 16))::UBIGINT::HUGEINT)
                   % 18446744073709551616
            FROM read_parquet(${sqlStr(a[0])})`);
        const [n, sum] = r.getRows()[0];
        process.stdout.write(JSON.stringify({ rows: Number(n), checksum: String(sum ?? 0) }) + '\n');
        return 0;
    }
    return usage();
}

main(process.argv.slice(2)).then(
    (rc) => { process.exitCode = rc; },
    (e) => { process.stderr.write(`duckdb_merge.mjs: ${e.message}\n`); process.exitCode = 1; },
);
