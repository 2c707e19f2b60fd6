/*
 * merge_bench — lakesync's side of the CDC merge benchmark (bench/merge.sh
 * runs it next to bench/duckdb_merge.mjs and prints the ratios).  Each step
 * is its own process, so that its peak RSS (getrusage) is its own:
 *
 *   merge_bench gen RAWDIR NROWS NEVENTS [DECIMAL]     untimed setup
 *   merge_bench load RAWDIR/snap TABLEDIR cow|dv [DECIMAL]
 *   merge_bench merge RAWDIR/chg TABLEDIR [DECIMAL]
 *   merge_bench check TABLEDIR                          untimed
 *   merge_bench split RAWDIR/chg TABLEDIR [DECIMAL]     where the time goes
 *
 * The table: customer-like (cust_id BIGINT primary key, name VARCHAR,
 * mktsegment VARCHAR, balance DECIMAL(12,2), updated_at TIMESTAMP(6)).
 * DECIMAL is Debezium's decimal.handling.mode the events are written with:
 * "precise" (the default: base64 of the unscaled big-endian bytes) or
 * "string".
 *
 * gen writes, with lks_dbz_write (payloads without the schema envelope, as
 * the S3 sink's JsonConverter with schemas.enable=false writes them) and
 * lks_rz_writer (flush_size 100000, no keys, no tombstones), topic
 * bench.salesdb.customer partition 0:
 *   RAWDIR/snap: NROWS snapshot events (op "r", one per cust_id 1..NROWS,
 *                offsets 0..NROWS-1, all at the same binlog file/pos as a
 *                Debezium snapshot is);
 *   RAWDIR/chg:  NEVENTS change events at offsets NROWS.., each drawn
 *                50% update of a live key (uniform over the live keys,
 *                repeats allowed), 10% delete of a live key, 40% insert of
 *                a new key (max key + 1); source.pos strictly increasing,
 *                so offset order = binlog order (the DuckDB peer orders by
 *                source.pos, lakesync by offset).
 * A row's values are a function of (cust_id, version) (row_values below).
 *
 * load creates the Delta table (the CREATE TABLE commit `lakesync merge
 * --schema` makes: the schema, lakesync.primaryKey=cust_id, and for dv
 * delta.enableDeletionVectors=true with protocol 3/7) and runs one
 * lks_merge_rawzone pass over RAWDIR/snap; merge runs one pass over
 * RAWDIR/chg (the table's stream position says where to start: NROWS).
 * Both print one JSON line: wall and CPU seconds, peak RSS, the merge stats.
 *
 * check scans the latest snapshot (lks_delta_scan) and prints the row count
 * and an order-independent checksum: the sum mod 2^64 of, per row, the
 * first 8 bytes (big-endian) of the MD5 of the row's canonical text
 *   cust_id|name|mktsegment|balance unscaled (cents)|updated_at epoch µs
 * (NULL as \N), which bench/duckdb_merge.mjs computes with md5() on its
 * own output.
 *
 * split measures the front half of a merge without committing, in three
 * passes over the raw zone timed by process CPU time (the better of two
 * runs each): reading alone
 * (lks_rz_reader), reading + parsing (lks_dbz_parse, the table's types as
 * hint), reading + parsing + adding to a batch (lks_merge_batch_add); the
 * differences give each part, and merge's CPU time minus the last pass is
 * the commit (finding hit rows, rewriting / DVs, writing new files).
 */
#include "merge/merge.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define TOPIC "bench.salesdb.customer"
#define STREAM TOPIC ":0"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void die(const char *what, const lks_err *err) {
    fprintf(stderr, "merge_bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* ---- the table ---------------------------------------------------------------------------- */

static lks_cdc_field cols[] = {
    {"cust_id", {LKS_CT_INT64, -1, 0, 0, 0}, NULL},
    {"name", {LKS_CT_STRING, -1, 0, 1, 0}, NULL},
    {"mktsegment", {LKS_CT_STRING, -1, 0, 1, 0}, NULL},
    {"balance", {LKS_CT_DECIMAL, 12, 2, 1, 0}, NULL},
    {"updated_at", {LKS_CT_TIMESTAMP, 6, 0, 1, 0}, NULL},
};
#define NCOLS 5
static const lks_cdc_schema table_schema = {cols, NCOLS};
static const int key_index[1] = {0};
static const char *const key_names[1] = {"cust_id"};

static const char schema_json[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"cust_id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"mktsegment\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"balance\",\"type\":\"decimal(12,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"updated_at\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}}]}";

static const char *const segments[] = {"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"};

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The row of cust_id k at version v (0: the snapshot's). */
typedef struct rowvals {
    char name[48];
    const char *seg;
    int64_t cents;
    int64_t ts_us;
    uint8_t dec[8];
} rowvals;

static void row_values(int64_t k, int v, rowvals *r, lks_cdc_value *out) {
    uint64_t h = mix64((uint64_t)k * 0x100000001b3ULL ^ (uint64_t)v);
    int n = snprintf(r->name, sizeof r->name, "Customer#%09lld%s", (long long)k, v % 4 == 3 ? " (renamed)" : "");
    r->seg = segments[h % 5];
    r->cents = (int64_t)((h >> 8) % 1100000) - 100000; /* -1000.00 .. 9999.99 */
    r->ts_us = 1704067200000000LL + k * 1000 + (int64_t)v * 86400000000LL + (int64_t)((h >> 32) % 1000000);
    for (int b = 0; b < 8; b++)
        r->dec[b] = (uint8_t)((uint64_t)r->cents >> (56 - 8 * b));
    out[0].kind = LKS_CV_INT, out[0].u.i64 = k;
    out[1].kind = LKS_CV_BYTES, out[1].u.bytes.ptr = (const uint8_t *)r->name, out[1].u.bytes.len = (size_t)n;
    out[2].kind = LKS_CV_BYTES, out[2].u.bytes.ptr = (const uint8_t *)r->seg, out[2].u.bytes.len = strlen(r->seg);
    /* the fewest big-endian bytes, as Java's BigInteger.toByteArray() */
    int skip = 0;
    while (skip < 7 && ((r->dec[skip] == 0 && !(r->dec[skip + 1] & 0x80)) ||
                        (r->dec[skip] == 0xff && (r->dec[skip + 1] & 0x80))))
        skip++;
    out[3].kind = LKS_CV_DECIMAL, out[3].u.dec.be = r->dec + skip, out[3].u.dec.len = (size_t)(8 - skip);
    out[3].u.dec.scale = 2;
    out[4].kind = LKS_CV_INT, out[4].u.i64 = r->ts_us;
}

/* ---- gen ------------------------------------------------------------------------------------ */

typedef struct gen {
    lks_rz_writer *w;
    lks_buf doc;
    lks_dbz_write_opts wo;
    int64_t bytes;
} gen;

static lks_store *open_store(const char *path) {
    lks_store *st;
    lks_err err = {0};
    if (lks_store_open(path, &st, &err) != LKS_OK)
        die(path, &err);
    return st;
}

static void gen_emit(gen *g, lks_cdc_event *ev, int64_t offset) {
    lks_err err = {0};
    lks_buf_reset(&g->doc);
    if (lks_dbz_write(&g->doc, ev, &g->wo, &err) != LKS_OK)
        die("dbz_write", &err);
    g->bytes += (int64_t)g->doc.len + 1;
    if (lks_rz_writer_append(g->w, TOPIC, 0, offset, (lks_slice){NULL, 0}, (lks_slice){g->doc.ptr, g->doc.len},
                             ev->source.ts_ms, &err) != LKS_OK)
        die("rz_writer_append", &err);
}

static void gen_open(gen *g, lks_store *st, const char *decimal) {
    lks_rz_writer_opts o = {0};
    o.flush_size = 100000;
    lks_err err = {0};
    if (lks_rz_writer_open(st, &o, &g->w, &err) != LKS_OK)
        die("rz_writer_open", &err);
    lks_buf_init(&g->doc, 0);
    memset(&g->wo, 0, sizeof g->wo);
    g->wo.schemas_enable = 0;
    g->wo.decimal_handling_mode = decimal;
    g->bytes = 0;
}

static void gen_close(gen *g) {
    lks_err err = {0};
    if (lks_rz_writer_flush(g->w, &err) != LKS_OK)
        die("rz_writer_flush", &err);
    lks_rz_writer_free(g->w);
    lks_buf_free(&g->doc);
}

static void base_event(lks_cdc_event *ev) {
    memset(ev, 0, sizeof *ev);
    ev->schema = &table_schema;
    ev->key = key_index;
    ev->nkey = 1;
    ev->source.connector = "mysql";
    ev->source.name = "bench";
    ev->source.db = "salesdb";
    ev->source.table = "customer";
    ev->source.server_id = 223344;
    ev->source.row = 0;
    ev->source.ts_us = -1;
}

static int cmd_gen(const char *dir, int64_t nrows, int64_t nevents, const char *decimal) {
    char path[4096];
    mkdir(dir, 0777);
    double t0 = now_s();
    lks_cdc_value before[NCOLS], after[NCOLS];
    rowvals rb, ra;
    lks_cdc_event ev;

    /* snapshot */
    snprintf(path, sizeof path, "%s/snap", dir);
    lks_store *st = open_store(path);
    gen g;
    gen_open(&g, st, decimal);
    for (int64_t k = 1; k <= nrows; k++) {
        base_event(&ev);
        ev.op = LKS_CDC_READ;
        row_values(k, 0, &ra, after);
        ev.has_after = 1;
        ev.after.v = after, ev.after.n = NCOLS;
        ev.source.file = "mysql-bin.000041";
        ev.source.pos = 154;
        ev.source.snapshot = k == nrows ? LKS_SNAP_LAST : LKS_SNAP_TRUE;
        ev.source.ts_ms = 1704067200000LL;
        ev.ts_ms = 1704067200000LL + 17 + k / 10000;
        gen_emit(&g, &ev, k - 1);
    }
    gen_close(&g);
    int64_t snap_bytes = g.bytes;
    lks_store_close(st);

    /* changes: versions and deletions per key */
    int64_t cap = nrows + nevents + 2, maxkey = nrows, live = nrows;
    uint16_t *ver = calloc((size_t)cap, sizeof *ver);
    uint8_t *dead = calloc((size_t)cap / 8 + 1, 1);
    if (!ver || !dead)
        die("out of memory", NULL);
    snprintf(path, sizeof path, "%s/chg", dir);
    st = open_store(path);
    gen_open(&g, st, decimal);
    int64_t nu = 0, nd = 0, ni = 0;
    for (int64_t i = 0; i < nevents; i++) {
        uint64_t h = mix64(0x5eed0000ULL + (uint64_t)i);
        int r = (int)(h % 100);
        base_event(&ev);
        int64_t k;
        if (r < 60 && live > 0) {
            uint64_t hh = h >> 8;
            do {
                hh = mix64(hh);
                k = 1 + (int64_t)(hh % (uint64_t)maxkey);
            } while (dead[k >> 3] & (1u << (k & 7)));
            row_values(k, ver[k], &rb, before);
            ev.has_before = 1;
            ev.before.v = before, ev.before.n = NCOLS;
            if (r < 50) {
                ev.op = LKS_CDC_UPDATE;
                ver[k]++;
                row_values(k, ver[k], &ra, after);
                ev.has_after = 1;
                ev.after.v = after, ev.after.n = NCOLS;
                nu++;
            } else {
                ev.op = LKS_CDC_DELETE;
                dead[k >> 3] |= (uint8_t)(1u << (k & 7));
                live--;
                nd++;
            }
        } else {
            ev.op = LKS_CDC_CREATE;
            k = ++maxkey;
            row_values(k, 0, &ra, after);
            ev.has_after = 1;
            ev.after.v = after, ev.after.n = NCOLS;
            live++;
            ni++;
        }
        ev.source.file = "mysql-bin.000042";
        ev.source.pos = 4 + i * 331;
        ev.source.ts_ms = 1704153600000LL + i / 10;
        ev.ts_ms = ev.source.ts_ms + 25;
        gen_emit(&g, &ev, nrows + i);
    }
    gen_close(&g);
    lks_store_close(st);
    free(ver);
    free(dead);
    printf("{\"rows\":%" PRId64 ",\"events\":%" PRId64 ",\"updates\":%" PRId64 ",\"deletes\":%" PRId64
           ",\"inserts\":%" PRId64 ",\"live\":%" PRId64 ",\"snap_bytes\":%" PRId64 ",\"chg_bytes\":%" PRId64
           ",\"gen_s\":%.3f}\n",
           nrows, nevents, nu, nd, ni, live, snap_bytes, g.bytes, now_s() - t0);
    return 0;
}

/* ---- load / merge --------------------------------------------------------------------------- */

static void create_table(lks_delta_table *t, int dv) {
    lks_err err = {0};
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_type *schema;
    if (lks_delta_schema_parse(schema_json, strlen(schema_json), &a, &schema, &err) != LKS_OK)
        die("schema", &err);
    lks_delta_kv conf[2] = {{"lakesync.primaryKey", "cust_id"}, {"delta.enableDeletionVectors", "true"}};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    char id[37];
    lks_uuid4(id);
    m.id = id;
    m.format_provider = "parquet";
    m.schema_string = schema_json;
    m.schema = schema;
    m.created_time = lks_now_us() / 1000;
    m.configuration = conf;
    m.nconfiguration = dv ? 2 : 1;
    static const char *dv_features[] = {"deletionVectors"};
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    if (dv)
        p = (lks_delta_protocol){3, 7, dv_features, 1, dv_features, 1};
    lks_delta_txn *x;
    int64_t version;
    if (lks_delta_txn_begin(t, NULL, "CREATE TABLE", &x, &err) != LKS_OK || lks_delta_txn_set_protocol(x, &p) ||
        lks_delta_txn_set_metadata(x, &m) || lks_delta_txn_commit(x, 1, &version, &err) != LKS_OK)
        die("create table", &err);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
}

static void on_progress(void *ud, const lks_merge_stats *st, int committed, double elapsed) {
    (void)ud;
    if (committed)
        fprintf(stderr, "  batch: %lld events, %lld upserts, %lld deletes, files +%lld -%lld dv %lld, v%lld, %.2f s\n",
                (long long)st->events, (long long)st->upserts, (long long)st->deletes, (long long)st->files_added,
                (long long)st->files_removed, (long long)st->files_dv, (long long)st->version, elapsed);
}

static int cmd_merge(const char *raw, const char *tabledir, int create, int dv, const char *decimal) {
    lks_err err = {0};
    lks_store *rs = open_store(raw);
    double c0 = cpu_s(), t0 = now_s();
    lks_store *ts = open_store(tabledir);
    lks_delta_table *t;
    if (lks_delta_table_open(ts, "", &t, &err) != LKS_OK)
        die("table open", &err);
    if (create)
        create_table(t, dv);
    lks_dbz_opts d = {0};
    d.decimal_handling_mode = decimal;
    lks_merge_rawzone_opts o;
    memset(&o, 0, sizeof o);
    o.merge.key_columns = key_names;
    o.merge.nkey_columns = 1;
    o.topic = TOPIC;
    o.table = t;
    o.dbz = &d;
    o.progress = on_progress;
    lks_merge_stats tot;
    memset(&tot, 0, sizeof tot);
    if (lks_merge_rawzone(rs, &o, &tot, &err) != LKS_OK)
        die("merge", &err);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    printf("{\"s\":%.4f,\"cpu_s\":%.4f,\"maxrss_kb\":%ld,\"events\":%lld,\"upserts\":%lld,\"deletes\":%lld,"
           "\"rows_written\":%lld,\"files_added\":%lld,\"files_removed\":%lld,\"files_dv\":%lld,"
           "\"files_skipped\":%lld,\"version\":%lld}\n",
           secs, cpu, maxrss_kb(), (long long)tot.events, (long long)tot.upserts, (long long)tot.deletes,
           (long long)tot.rows_written, (long long)tot.files_added, (long long)tot.files_removed,
           (long long)tot.files_dv, (long long)tot.files_skipped, (long long)tot.version);
    lks_delta_table_close(t);
    lks_store_close(ts);
    lks_store_close(rs);
    return 0;
}

/* ---- check: count and checksum ---------------------------------------------------------------- */

/* MD5 (RFC 1321). */
static void md5_block(uint32_t h[4], const uint8_t *blk) {
    static uint32_t k[64];
    static const uint8_t sh[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    if (!k[0])
        for (int i = 0; i < 64; i++)
            k[i] = (uint32_t)(fabs(sin((double)(i + 1))) * 4294967296.0);
    uint32_t m[16];
    for (int j = 0; j < 16; j++)
        m[j] = (uint32_t)blk[4 * j] | (uint32_t)blk[4 * j + 1] << 8 | (uint32_t)blk[4 * j + 2] << 16 |
               (uint32_t)blk[4 * j + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16)
            f = (b & c) | (~b & d), g = i;
        else if (i < 32)
            f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
        else if (i < 48)
            f = b ^ c ^ d, g = (3 * i + 5) % 16;
        else
            f = c ^ (b | ~d), g = (7 * i) % 16;
        f += a + k[i] + m[g];
        a = d, d = c, c = b;
        int s = sh[i / 16][i % 4];
        b += (f << s) | (f >> (32 - s));
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
}

static void md5(const uint8_t *msg, size_t len, uint8_t out[16]) {
    uint32_t h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    size_t full = len / 64 * 64;
    for (size_t off = 0; off < full; off += 64)
        md5_block(h, msg + off);
    uint8_t tail[128];
    size_t rest = len - full, tl = rest + 9 <= 64 ? 64 : 128;
    memset(tail, 0, sizeof tail);
    memcpy(tail, msg + full, rest);
    tail[rest] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int b = 0; b < 8; b++)
        tail[tl - 8 + (size_t)b] = (uint8_t)(bits >> (8 * b));
    md5_block(h, tail);
    if (tl == 128)
        md5_block(h, tail + 64);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (8 * j));
}

static void put_text(lks_buf *b, const lks_pq_value *v) {
    if (v->kind == LKS_PQ_V_NULL)
        lks_buf_append(b, "\\N", 2);
    else
        lks_buf_append(b, v->u.bytes.ptr, v->u.bytes.len);
}

static void put_int(lks_buf *b, const lks_pq_value *v) {
    if (v->kind == LKS_PQ_V_NULL)
        lks_buf_append(b, "\\N", 2);
    else
        lks_buf_printf(b, "%lld", (long long)(v->kind == LKS_PQ_V_INT32 ? v->u.i32 : v->u.i64));
}

static int cmd_check(const char *tabledir) {
    lks_err err = {0};
    lks_store *ts = open_store(tabledir);
    lks_delta_table *t;
    lks_delta_snapshot *s;
    lks_delta_scan *sc;
    if (lks_delta_table_open(ts, "", &t, &err) != LKS_OK || lks_delta_snapshot_latest(t, &s, &err) != LKS_OK ||
        lks_delta_scan_open(t, s, NULL, &sc, &err) != LKS_OK)
        die("scan", &err);
    double t0 = now_s();
    lks_buf b;
    lks_buf_init(&b, 0);
    uint64_t sum = 0;
    int64_t n = 0;
    const lks_pq_value *row;
    int rc;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1) {
        const lks_pq_value *v = row->u.list.items;
        lks_buf_reset(&b);
        put_int(&b, &v[0]);
        lks_buf_append_byte(&b, '|');
        put_text(&b, &v[1]);
        lks_buf_append_byte(&b, '|');
        put_text(&b, &v[2]);
        lks_buf_append_byte(&b, '|');
        put_int(&b, &v[3]);
        lks_buf_append_byte(&b, '|');
        put_int(&b, &v[4]);
        uint8_t dg[16];
        md5(b.ptr, b.len, dg);
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | dg[i];
        sum += x;
        n++;
    }
    if (rc < 0)
        die("scan", &err);
    size_t skipped, read;
    lks_delta_scan_counts(sc, &skipped, &read);
    printf("{\"rows\":%lld,\"checksum\":\"%" PRIu64 "\",\"files\":%zu,\"version\":%lld,\"check_s\":%.3f}\n",
           (long long)n, sum, s->nfiles, (long long)s->version, now_s() - t0);
    lks_buf_free(&b);
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
    lks_delta_table_close(t);
    lks_store_close(ts);
    return 0;
}

/* ---- split: read / parse / batch add ------------------------------------------------------------ */

/* One pass over the raw zone: read (depth 0), + parse (1), + batch add (2).
 * Returns the process CPU seconds it took (steadier than wall time on a
 * shared machine). */
static double split_pass(lks_store *rs, lks_delta_table *t, const char *decimal, int depth, int64_t *n,
                         int64_t *held, size_t *bytes) {
    lks_err err = {0};
    lks_dbz_opts d = {0};
    d.hint = &table_schema;
    d.key_columns = key_names;
    d.nkey_columns = 1;
    d.decimal_handling_mode = decimal;
    lks_dbz_parser *p;
    if (lks_dbz_parser_new(&d, &p, &err) != LKS_OK)
        die("parser", &err);
    lks_merge_opts mo = {0};
    mo.key_columns = key_names;
    mo.nkey_columns = 1;
    lks_merge_batch *batch;
    if (lks_merge_batch_new(t, &mo, &batch, &err) != LKS_OK)
        die("batch", &err);
    lks_rz_reader_opts ro = {0};
    ro.topic = TOPIC;
    lks_rz_reader *r;
    lks_arena a;
    lks_arena_init(&a, 0);
    double c0 = cpu_s();
    if (lks_rz_reader_open(rs, &ro, &r, &err) != LKS_OK)
        die("reader", &err);
    *n = 0;
    for (;;) {
        lks_rz_record rec;
        int rc = lks_rz_reader_next(r, &rec, &err);
        if (rc < 0)
            die("read", &err);
        if (rc == 0)
            break;
        (*n)++;
        if (depth == 0)
            continue;
        lks_cdc_event ev;
        const char *what;
        rc = lks_dbz_parse(p, (const char *)rec.value.ptr, rec.value.len, &a, &ev, &what, &err);
        if (rc < 0)
            die("parse", &err);
        if (depth >= 2 && lks_merge_batch_add(batch, rc == 1 ? &ev : NULL, STREAM, rec.offset + 1, &err) != LKS_OK)
            die("batch add", &err);
        if ((*n & 1023) == 0)
            lks_arena_reset(&a);
    }
    double c = cpu_s() - c0;
    lks_merge_batch_size(batch, held, bytes);
    lks_arena_free(&a);
    lks_rz_reader_free(r);
    lks_merge_batch_free(batch);
    lks_dbz_parser_free(p);
    return c;
}

static int cmd_split(const char *raw, const char *tabledir, const char *decimal) {
    lks_err err = {0};
    lks_store *rs = open_store(raw), *ts = open_store(tabledir);
    lks_delta_table *t;
    if (lks_delta_table_open(ts, "", &t, &err) != LKS_OK)
        die("table open", &err);
    int64_t n, held;
    size_t bytes;
    double c[3];
    for (int depth = 0; depth < 3; depth++) { /* the better of two runs each */
        c[depth] = split_pass(rs, t, decimal, depth, &n, &held, &bytes);
        double again = split_pass(rs, t, decimal, depth, &n, &held, &bytes);
        c[depth] = again < c[depth] ? again : c[depth];
    }
    double c_read = c[0], c_parse = c[1], c_add = c[2];
    printf("{\"events\":%lld,\"read_cpu_s\":%.4f,\"parse_cpu_s\":%.4f,\"add_cpu_s\":%.4f,\"total_cpu_s\":%.4f,"
           "\"held\":%lld,\"batch_bytes\":%zu}\n",
           (long long)n, c_read, c_parse - c_read, c_add - c_parse, c_add, (long long)held, bytes);
    lks_delta_table_close(t);
    lks_store_close(ts);
    lks_store_close(rs);
    return 0;
}

static const char *decimal_arg(int argc, char **argv, int i) {
    const char *m = argc > i ? argv[i] : "precise";
    if (strcmp(m, "precise") != 0 && strcmp(m, "string") != 0) {
        fprintf(stderr, "merge_bench: decimal mode is precise or string, not %s\n", m);
        exit(2);
    }
    return m;
}

int main(int argc, char **argv) {
    lks_alloc_tune(); /* as lakesync does */
    if (argc >= 5 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10), decimal_arg(argc, argv, 5));
    if (argc >= 5 && strcmp(argv[1], "load") == 0)
        return cmd_merge(argv[2], argv[3], 1, strcmp(argv[4], "dv") == 0, decimal_arg(argc, argv, 5));
    if (argc >= 4 && strcmp(argv[1], "merge") == 0)
        return cmd_merge(argv[2], argv[3], 0, 0, decimal_arg(argc, argv, 4));
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return cmd_check(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "split") == 0)
        return cmd_split(argv[2], argv[3], decimal_arg(argc, argv, 4));
    fprintf(stderr, "usage: merge_bench gen RAWDIR NROWS NEVENTS [precise|string]\n"
                    "       merge_bench load RAWDIR/snap TABLEDIR cow|dv [precise|string]\n"
                    "       merge_bench merge RAWDIR/chg TABLEDIR [precise|string]\n"
                    "       merge_bench check TABLEDIR\n"
                    "       merge_bench split RAWDIR/chg TABLEDIR [precise|string]\n");
    return 2;
}
