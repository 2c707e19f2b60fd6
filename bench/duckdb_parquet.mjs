#!/usr/bin/env node
// bench/duckdb_parquet.mjs — DuckDB peer of the Parquet write/scan benchmark.
//
//   node bench/duckdb_parquet.mjs NROWS DIR
//
// Needs the npm packages of tests/duckdb (scripts/install-deps.sh installs them).
// DuckDB runs single-threaded (threads=1, TimeZone UTC).  Untimed, it builds an
// in-memory table of NROWS rows; row i (i = 0..NROWS-1) is, in integer
// arithmetic that any peer can reproduce exactly:
//
//   id    BIGINT         i
//   qty   INTEGER        (i * 7919) % 1000
//   price DECIMAL(12,2)  unscaled (i * 104729) % 10000000   (i.e. that / 100)
//   code  VARCHAR        'C' || i*31 % 100000 zero-padded to 7 digits  (8 chars)
//   note  VARCHAR        printf('order %010d status %s region %02d', i,
//                               ['new','paid','shipped','returned','cancelled'][i % 5],
//                               (i * 13) % 97)                    (37..43 chars)
//   ts    TIMESTAMP WITH TIME ZONE   epoch micros 1704067200000000 + i * 1000003
//                                    (Parquet INT64 TIMESTAMP(MICROS, UTC))
//
// Then it times
//   write: COPY src TO DIR/duckdb.parquet (FORMAT parquet, COMPRESSION snappy,
//          ROW_GROUP_SIZE 1048576)
//   scan:  SELECT sum(id), sum(qty), sum(price), sum(length(code)),
//          sum(length(note)), max(ts) FROM read_parquet(DIR/duckdb.parquet)
// and prints one JSON line on stdout:
//   {"rows":N,"write_s":..,"scan_s":..,"bytes":<size of duckdb.parquet>}
// The scan's result goes to stderr so a peer can check it computes the same.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../tests/duckdb/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const sqlStr = (s) => "'" + String(s).replace(/'/g, "''") + "'";

async function main(argv) {
    if (argv.length !== 2 || !/^\d+$/.test(argv[0])) {
        process.stderr.write('usage: node bench/duckdb_parquet.mjs NROWS DIR\n');
        return 2;
    }
    const nrows = Number(argv[0]);
    const dir = argv[1];
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, 'duckdb.parquet');
    fs.rmSync(out, { force: true });

    const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await inst.connect();
    await con.run("SET threads=1; SET TimeZone='UTC'; SET preserve_insertion_order=true");
    await con.run(`
        CREATE TABLE src AS
        SELECT i AS id,
               CAST((i * 7919) % 1000 AS INTEGER) AS qty,
               CAST(CAST((i * 104729) % 10000000 AS DECIMAL(18,0)) / 100 AS DECIMAL(12,2)) AS price,
               'C' || lpad(CAST((i * 31) % 100000 AS VARCHAR), 7, '0') AS code,
               printf('order %010d status %s region %02d', i,
                      (['new','paid','shipped','returned','cancelled'])[i % 5 + 1],
                      (i * 13) % 97) AS note,
               CAST(make_timestamp(1704067200000000 + i * 1000003) AS TIMESTAMPTZ) AS ts
        FROM range(CAST(${nrows} AS BIGINT)) r(i)
        ORDER BY i`);

    let t0 = process.hrtime.bigint();
    await con.run(`COPY src TO ${sqlStr(out)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1048576)`);
    const writeNs = process.hrtime.bigint() - t0;
    const bytes = fs.statSync(out).size;

    t0 = process.hrtime.bigint();
    const reader = await con.runAndReadAll(`
        SELECT sum(id), sum(qty), sum(price), sum(length(code)), sum(length(note)), max(ts)
        FROM read_parquet(${sqlStr(out)})`);
    const scanNs = process.hrtime.bigint() - t0;
    process.stderr.write('scan: ' + JSON.stringify(reader.getRowsJson()[0]) + '\n');

    const secs = (ns) => Number(ns) / 1e9;
    process.stdout.write(JSON.stringify({ rows: nrows, write_s: secs(writeNs), scan_s: secs(scanNs), bytes }) + '\n');
    return 0;
}

main(process.argv.slice(2)).then(
    (rc) => { process.exitCode = rc; },
    (e) => { process.stderr.write(`duckdb_parquet.mjs: ${e.message}\n`); process.exitCode = 1; },
);
