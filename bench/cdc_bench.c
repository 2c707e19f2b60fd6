/*
 * cdc_bench — the Debezium JSON reader against the physical ceiling and a
 * DOM parser, in one run.
 *
 *   cdc_bench [NEVENTS]        (default 1000000)
 *
 * Builds, untimed, NEVENTS change events of a 10-column customer table
 * (id INT, first/last name, email, phone VARCHAR, balance DECIMAL(12,2),
 * birth DATE, created DATETIME(6), updated TIMESTAMP, active BIT(1); 40%
 * inserts, 50% updates with before images, 10% deletes) and writes them
 * with lks_dbz_write twice: with the {"schema","payload"} envelope (as
 * Kafka Connect's JsonConverter with schemas.enable=true) and without it
 * (the Confluent S3 sink's raw zone).  Then times, for each set:
 *   memcpy   the same bytes copied once (the ceiling: touching every byte);
 *   lakesync lks_dbz_parse of every document into typed events (bare
 *            documents once with the table as hint, once inferring types);
 *   jansson  json_loadb of every document (a DOM per event), then freed.
 * Prints events/s, MB/s and the ratios; every parse is checked (sum of ids).
 */
#include "cdc/cdc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const lks_err *err) {
    fprintf(stderr, "cdc_bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static lks_cdc_field cols[] = {
    {"id", {LKS_CT_INT32, -1, 0, 0, 0}, NULL},
    {"first_name", {LKS_CT_STRING, -1, 0, 0, 0}, NULL},
    {"last_name", {LKS_CT_STRING, -1, 0, 0, 0}, NULL},
    {"email", {LKS_CT_STRING, -1, 0, 1, 0}, NULL},
    {"phone", {LKS_CT_STRING, -1, 0, 1, 0}, NULL},
    {"balance", {LKS_CT_DECIMAL, 12, 2, 1, 0}, NULL},
    {"birth", {LKS_CT_DATE, -1, 0, 1, 0}, NULL},
    {"created", {LKS_CT_DATETIME, 6, 0, 1, 0}, NULL},
    {"updated", {LKS_CT_TIMESTAMP, 6, 0, 1, 0}, NULL},
    {"active", {LKS_CT_BOOL, -1, 0, 1, 0}, NULL},
};
#define NCOLS 10
static const lks_cdc_schema table = {cols, NCOLS};

static const char *firsts[] = {"Anne", "Bob", "Carla", "Dmitri", "Eve", "Farid", "Grace", "Hiro"};
static const char *lasts[] = {"Kretchmar", "Walker", "Nguyen", "Okafor", "Schmidt", "Rossi", "Tanaka", "Silva"};

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Fills a row image for customer id (variant v changes some columns). */
static void fill_row(lks_cdc_value *v, int id, int variant, char *strs, uint8_t *dec) {
    int k = 0;
    v[k].kind = LKS_CV_INT, v[k++].u.i64 = id;
    const char *f = firsts[(id + variant) % 8], *l = lasts[(id / 8) % 8];
    v[k].kind = LKS_CV_BYTES, v[k].u.bytes.ptr = (const uint8_t *)f, v[k++].u.bytes.len = strlen(f);
    v[k].kind = LKS_CV_BYTES, v[k].u.bytes.ptr = (const uint8_t *)l, v[k++].u.bytes.len = strlen(l);
    int n = snprintf(strs, 64, "%s.%s%d@example.org", f, l, id);
    v[k].kind = LKS_CV_BYTES, v[k].u.bytes.ptr = (const uint8_t *)strs, v[k++].u.bytes.len = (size_t)n;
    n = snprintf(strs + 64, 32, "+1-555-%07d", (id * 7 + variant) % 10000000);
    v[k].kind = LKS_CV_BYTES, v[k].u.bytes.ptr = (const uint8_t *)strs + 64, v[k++].u.bytes.len = (size_t)n;
    int64_t cents = (int64_t)(next() % 100000000) - 1000000;
    for (int b = 0; b < 8; b++)
        dec[b] = (uint8_t)(cents >> (56 - 8 * b));
    v[k].kind = LKS_CV_DECIMAL, v[k].u.dec.be = dec, v[k].u.dec.len = 8, v[k++].u.dec.scale = 2;
    v[k].kind = LKS_CV_INT, v[k++].u.i64 = 3000 + id % 15000;
    v[k].kind = LKS_CV_INT, v[k++].u.i64 = 1600000000000000LL + (int64_t)id * 1000003 + variant;
    v[k].kind = LKS_CV_INT, v[k++].u.i64 = 1700000000000000LL + (int64_t)id * 999983 + variant * 7;
    v[k].kind = LKS_CV_BOOL, v[k++].u.b = (id + variant) & 1;
}

typedef struct docs {
    lks_buf text;
    size_t *off; /* document i is text[off[i] .. off[i+1]-1) (newline excluded) */
    size_t n;
} docs;

static void build(docs *d, size_t n, int schemas) {
    lks_buf_init(&d->text, (size_t)1 << 36);
    d->off = malloc((n + 1) * sizeof *d->off);
    d->n = n;
    lks_dbz_write_opts wo = {schemas, NULL, NULL, NULL};
    lks_cdc_value before[NCOLS], after[NCOLS];
    char sb[128], sa[128];
    uint8_t db[8], da[8];
    static const int key[1] = {0};
    lks_err err;
    rng = 0x243f6a8885a308d3ULL;
    int maxid = 0;
    for (size_t i = 0; i < n; i++) {
        lks_cdc_event ev;
        memset(&ev, 0, sizeof ev);
        uint64_t r = next() % 10;
        ev.op = r < 4 || maxid < 10 ? 'c' : r < 9 ? 'u' : 'd';
        int id = ev.op == 'c' ? ++maxid : 1 + (int)(next() % (uint64_t)maxid);
        ev.schema = &table;
        ev.key = key;
        ev.nkey = 1;
        if (ev.op != 'c') {
            fill_row(before, id, 0, sb, db);
            ev.has_before = 1;
            ev.before.v = before, ev.before.n = NCOLS;
        }
        if (ev.op != 'd') {
            fill_row(after, id, (int)(i % 5), sa, da);
            ev.has_after = 1;
            ev.after.v = after, ev.after.n = NCOLS;
        }
        ev.source.connector = "mysql";
        ev.source.name = "salesdb-cdc";
        ev.source.db = "salesdb";
        ev.source.table = "CUSTOMER";
        ev.source.server_id = 223344;
        ev.source.file = "mysql-bin.000003";
        ev.source.pos = 154 + (int64_t)i * 311;
        ev.source.row = 0;
        ev.source.ts_ms = 1700000000000LL + (int64_t)i;
        ev.source.ts_us = -1;
        ev.ts_ms = 1700000000100LL + (int64_t)i;
        d->off[i] = d->text.len;
        if (lks_dbz_write(&d->text, &ev, &wo, &err) || lks_buf_append_byte(&d->text, '\n'))
            die("write", &err);
    }
    d->off[n] = d->text.len;
}

typedef struct result {
    double s;
    int64_t idsum;
} result;

static result run_ours(const docs *d, const lks_dbz_opts *o) {
    lks_dbz_parser *p;
    lks_err err;
    if (lks_dbz_parser_new(o, &p, &err))
        die("parser", &err);
    lks_arena a;
    lks_arena_init(&a, 0);
    result r = {0, 0};
    double t0 = now_s();
    for (size_t i = 0; i < d->n; i++) {
        lks_cdc_event ev;
        const char *doc = (const char *)d->text.ptr + d->off[i];
        if (lks_dbz_parse(p, doc, d->off[i + 1] - d->off[i] - 1, &a, &ev, NULL, &err) != 1)
            die("parse", &err);
        const lks_cdc_row *row = ev.has_after ? &ev.after : &ev.before;
        r.idsum += row->v[0].u.i64;
        if ((i & 1023) == 1023)
            lks_arena_reset(&a);
    }
    r.s = now_s() - t0;
    lks_arena_free(&a);
    lks_dbz_parser_free(p);
    return r;
}

static result run_jansson(const docs *d) {
    result r = {0, 0};
    double t0 = now_s();
    for (size_t i = 0; i < d->n; i++) {
        json_error_t je;
        json_t *j = json_loadb((const char *)d->text.ptr + d->off[i], d->off[i + 1] - d->off[i] - 1, 0, &je);
        if (!j)
            die("jansson", NULL);
        json_t *pl = json_object_get(j, "payload");
        if (!pl)
            pl = j;
        json_t *row = json_object_get(pl, "after");
        if (json_is_null(row))
            row = json_object_get(pl, "before");
        r.idsum += json_integer_value(json_object_get(row, "id"));
        json_decref(j);
    }
    r.s = now_s() - t0;
    return r;
}

static double run_memcpy(const docs *d) {
    char *dst = malloc(d->text.len);
    if (!dst)
        die("memcpy buffer", NULL);
    memset(dst, 0, d->text.len); /* fault the pages in, untimed */
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        memcpy(dst, d->text.ptr, d->text.len);
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    volatile char sink = dst[d->text.len / 2];
    (void)sink;
    free(dst);
    return best;
}

static void report(const char *set, const char *who, const docs *d, double s, double ours_s) {
    double mb = (double)d->text.len / 1e6;
    printf("%-9s %-22s %8.3f s %12.0f events/s %9.1f MB/s", set, who, s, (double)d->n / s, mb / s);
    if (ours_s > 0)
        printf("   lakesync is %.2fx %s", s / ours_s, s > ours_s ? "faster" : "slower");
    printf("\n");
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 10)
        n = 10;
    for (int env = 1; env >= 0; env--) {
        docs d;
        double t0 = now_s();
        build(&d, n, env);
        const char *set = env ? "envelope" : "bare";
        fprintf(stderr, "%s: %zu events, %.1f MB (%.0f B/event) built in %.1f s\n", set, n, d.text.len / 1e6,
                (double)d.text.len / (double)n, now_s() - t0);
        double mc = run_memcpy(&d);
        lks_dbz_opts hint = {0};
        hint.hint = &table;
        result ours = run_ours(&d, env ? NULL : &hint);
        result infer = {0, 0};
        if (!env)
            infer = run_ours(&d, NULL);
        result js = run_jansson(&d);
        if (ours.idsum != js.idsum || (!env && infer.idsum != js.idsum))
            die("results differ between lakesync and jansson", NULL);
        report(set, "memcpy (ceiling)", &d, mc, 0);
        report(set, env ? "lakesync" : "lakesync (hint)", &d, ours.s, 0);
        if (!env)
            report(set, "lakesync (inferred)", &d, infer.s, 0);
        report(set, "jansson json_loadb", &d, js.s, ours.s);
        printf("%-9s lakesync at %.1f%% of memcpy speed (memcpy %.1fx faster)\n", set, 100.0 * mc / ours.s, ours.s / mc);
        free(d.off);
        lks_buf_free(&d.text);
    }
    return 0;
}
