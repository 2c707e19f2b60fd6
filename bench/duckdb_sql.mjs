#!/usr/bin/env node
// bench/duckdb_sql.mjs — DuckDB peer of the SQL benchmark (bench/sql.sh).
//
//   node bench/duckdb_sql.mjs FILES.txt REPS QUERY...
//
// FILES.txt lists the table's live Parquet files (absolute paths, one a line,
// `sql_bench files` prints them).  A view `events` reads them with
// read_parquet(..., hive_partitioning=true), so the partition column `part`
// comes from the part=…/ folder names as Delta keeps it out of the files.
// In each QUERY the text `benchdb.events` is replaced by `events`.
// DuckDB runs single-threaded (threads=1).  Each query runs once to warm up,
// then REPS times; prints one JSON line per query:
//   {"s": median wall seconds, "cpu_s": median CPU seconds, "result": "v1|v2"}
// Needs the npm packages of tests/duckdb (scripts/install-deps.sh).

import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(new URL('../tests/duckdb/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const sqlStr = (s) => "'" + String(s).replace(/'/g, "''") + "'";
const median = (v) => {
    const s = [...v].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(argv) {
    if (argv.length < 3) {
        process.stderr.write('usage: node bench/duckdb_sql.mjs FILES.txt REPS QUERY...\n');
        return 2;
    }
    const files = fs.readFileSync(argv[0], 'utf8').split('\n').filter((l) => l.length > 0);
    const reps = Number(argv[1]);
    const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await inst.connect();
    await con.run("SET threads=1; SET TimeZone='UTC'");
    await con.run(`CREATE VIEW events AS SELECT * FROM read_parquet([${files.map(sqlStr).join(',')}],
                   hive_partitioning=true)`);
    for (const q of argv.slice(2)) {
        const sql = q.replaceAll('benchdb.events', 'events');
        const walls = [], cpus = [];
        let result = '';
        for (let r = -1; r < reps; r++) {
            const c0 = process.cpuUsage();
            const t0 = process.hrtime.bigint();
            const res = await con.runAndReadAll(sql);
            const s = Number(process.hrtime.bigint() - t0) / 1e9;
            const c = process.cpuUsage(c0);
            if (r >= 0) {
                walls.push(s);
                cpus.push((c.user + c.system) / 1e6);
            }
            result = res.getRows()[0].map((v) => String(v)).join('|');
        }
        process.stdout.write(JSON.stringify({ s: median(walls), cpu_s: median(cpus), result }) + '\n');
    }
    return 0;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
    process.stderr.write(`duckdb_sql: ${e.message}\n`);
    process.exit(1);
});
