/* test_merge.c — merge batches (src/merge/batch.c, apply.c, types.c) with
 * hand-built change events: table creation and the type mapping, upserts,
 * updates, deletes, key changes, repeated keys, `r` and `c` on existing
 * keys, truncates; a property test against an in-memory model for
 * copy-on-write and deletion-vector tables; stream positions; schema
 * evolution and refused type changes; files skipped by stats and bloom
 * filters; concurrent batches on disjoint and overlapping keys.  Every
 * table written passes the log validator (tests/tools/delta_validate.h).
 * Lines starting with "# " are information (counts), not results. */
#include "merge/merge_int.h"
#include "harness.h"
#include "tools/delta_validate.h"

#include "parquet/bloom.h"

#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- fixtures ------------------------------------------------------------------------- */

typedef struct fx {
    char dir[256];
    lks_store *st;
    lks_delta_table *t;
} fx;

static int fx_open(fx *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/lks_merge.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    lks_err err;
    if (lks_store_open(f->dir, &f->st, &err)) return -1;
    return lks_delta_table_open(f->st, "", &f->t, &err);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fx_close(fx *f) {
    char msg[2048];
    int problems = lks_delta_validate(f->dir, msg, sizeof msg);
    if (problems) FAILF("log validator: %d problem(s) in %s: %s", problems, f->dir, msg);
    lks_delta_table_close(f->t);
    lks_store_close(f->st);
    if (!problems && !getenv("LKS_MERGE_KEEP")) nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    else printf("# kept %s\n", f->dir);
}

/* Runs the log validator over the table at prefix `sub` of the fixture. */
static void validate_sub(const fx *f, const char *sub) {
    char dir[512], msg[2048];
    snprintf(dir, sizeof dir, "%s/%s", f->dir, sub);
    int problems = lks_delta_validate(dir, msg, sizeof msg);
    if (problems) FAILF("log validator: %d problem(s) in %s: %s", problems, dir, msg);
}

static const lks_delta_kv DV_PROPS[] = {{"delta.enableDeletionVectors", "true"}};

static lks_merge_opts opts_for(int dv) {
    lks_merge_opts o;
    memset(&o, 0, sizeof o);
    if (dv) {
        o.table_properties = DV_PROPS;
        o.ntable_properties = 1;
    }
    return o;
}

/* ---- events: (id INT64 key, v INT32, s STRING) -------------------------------------------- */

static lks_cdc_field F3[] = {
    {"id", {LKS_CT_INT64, 0, 0, 0, 0}, NULL},
    {"v", {LKS_CT_INT32, 0, 0, 1, 0}, NULL},
    {"s", {LKS_CT_STRING, 0, 0, 1, 0}, NULL},
};
static lks_cdc_schema S3 = {F3, 3};
static const int KEY0[] = {0};

static void set_row(lks_cdc_value *r, int64_t id, int32_t v, const char *s) {
    memset(r, 0, 3 * sizeof *r);
    r[0].kind = LKS_CV_INT, r[0].u.i64 = id;
    r[1].kind = LKS_CV_INT, r[1].u.i64 = v;
    if (s) {
        r[2].kind = LKS_CV_BYTES;
        r[2].u.bytes.ptr = (const uint8_t *)s;
        r[2].u.bytes.len = strlen(s);
    }
}

/* The property test's composite-key layout: (a INT32, b STRING) keys
 * derived from an id, then v and s. */
static lks_cdc_field FC[] = {
    {"a", {LKS_CT_INT32, 0, 0, 0, 0}, NULL},
    {"b", {LKS_CT_STRING, 0, 0, 0, 0}, NULL},
    {"v", {LKS_CT_INT32, 0, 0, 1, 0}, NULL},
    {"s", {LKS_CT_STRING, 0, 0, 1, 0}, NULL},
};
static lks_cdc_schema SC = {FC, 4};
static const int KEYC[] = {0, 1};
static int g_composite;

static void set_crow(lks_cdc_value *r, char *kb, int64_t id, int32_t v, const char *s) {
    memset(r, 0, 4 * sizeof *r);
    r[0].kind = LKS_CV_INT, r[0].u.i64 = id % 7;
    int n = snprintf(kb, 24, "k%c%lld", '#', (long long)(id / 7));
    r[1].kind = LKS_CV_BYTES, r[1].u.bytes.ptr = (const uint8_t *)kb, r[1].u.bytes.len = (size_t)n;
    r[2].kind = LKS_CV_INT, r[2].u.i64 = v;
    if (s) {
        r[3].kind = LKS_CV_BYTES;
        r[3].u.bytes.ptr = (const uint8_t *)s;
        r[3].u.bytes.len = strlen(s);
    }
}

/* Adds one event: op c/u/r (after = aid), u with a before image (bid), d (bid), t. */
static int add3(lks_merge_batch *b, int op, int64_t bid, int64_t aid, int32_t v, const char *s, const char *stream,
                int64_t pos, lks_err *err) {
    lks_cdc_value before[4], after[4];
    char kb1[24], kb2[24];
    lks_cdc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = op;
    ev.schema = g_composite ? &SC : &S3;
    ev.key = g_composite ? KEYC : KEY0;
    ev.nkey = g_composite ? 2 : 1;
    ev.ts_ms = -1;
    int n = g_composite ? 4 : 3;
    if (op == 'd' || (op == 'u' && bid >= 0)) {
        if (g_composite) set_crow(before, kb1, bid, 0, "old");
        else set_row(before, bid, 0, "old");
        ev.has_before = 1;
        ev.before.v = before;
        ev.before.n = n;
    }
    if (op == 'c' || op == 'u' || op == 'r') {
        if (g_composite) set_crow(after, kb2, aid, v, s);
        else set_row(after, aid, v, s);
        ev.has_after = 1;
        ev.after.v = after;
        ev.after.n = n;
    }
    return lks_merge_batch_add(b, &ev, stream, pos, err);
}

/* ---- reading the table back ------------------------------------------------------------- */

#define MAXK 10000

typedef struct model {
    int present[MAXK];
    int32_t v[MAXK];
    char s[MAXK][24];
} model;

static int col_index(const lks_delta_snapshot *s, const char *name) {
    for (int i = 0; i < s->metadata.schema->nchildren; i++)
        if (strcmp(s->metadata.schema->children[i].name, name) == 0) return i;
    return -1;
}

/* Scans the table and compares it with the model; "" or what differs. */
static void check_model(lks_delta_table *t, const model *m, char *why, size_t cap) {
    why[0] = 0;
    lks_err err;
    lks_delta_snapshot *s = NULL;
    if (lks_delta_snapshot_latest(t, &s, &err)) {
        snprintf(why, cap, "snapshot: %.200s", err.msg);
        return;
    }
    int ci = col_index(s, "id"), cv = col_index(s, "v"), cs = col_index(s, "s");
    lks_delta_scan *sc = NULL;
    if (lks_delta_scan_open(t, s, NULL, &sc, &err)) {
        snprintf(why, cap, "scan: %.200s", err.msg);
        lks_delta_snapshot_free(s);
        return;
    }
    static int seen[MAXK];
    memset(seen, 0, sizeof seen);
    int rows = 0, expect = 0;
    for (int k = 0; k < MAXK; k++) expect += m->present[k];
    for (;;) {
        const lks_pq_value *row;
        int rc = lks_delta_scan_next(sc, &row, &err);
        if (rc < 0) {
            snprintf(why, cap, "scan next: %.200s", err.msg);
            break;
        }
        if (rc == 0) break;
        rows++;
        const lks_pq_value *it = row->u.list.items;
        int64_t id;
        if (ci < 0) { /* composite key (a, b) */
            int ca = col_index(s, "a"), cb = col_index(s, "b");
            if (it[ca].kind != LKS_PQ_V_INT32 || it[cb].kind != LKS_PQ_V_BYTES || it[cb].u.bytes.len < 3) {
                snprintf(why, cap, "bad key");
                break;
            }
            char num[24];
            size_t nl = it[cb].u.bytes.len - 2 < sizeof num - 1 ? it[cb].u.bytes.len - 2 : sizeof num - 1;
            memcpy(num, it[cb].u.bytes.ptr + 2, nl);
            num[nl] = 0;
            id = it[ca].u.i32 + 7 * atoll(num);
        } else {
            id = it[ci].u.i64;
            if (it[ci].kind != LKS_PQ_V_INT64) id = -1;
        }
        if (id < 0 || id >= MAXK) {
            snprintf(why, cap, "bad id %lld", (long long)id);
            break;
        }
        if (seen[id]++) {
            snprintf(why, cap, "id %lld twice", (long long)id);
            break;
        }
        if (!m->present[id]) {
            snprintf(why, cap, "id %lld should be absent", (long long)id);
            break;
        }
        if (it[cv].kind != LKS_PQ_V_INT32 || it[cv].u.i32 != m->v[id]) {
            snprintf(why, cap, "id %lld: v %d, want %d", (long long)id, it[cv].u.i32, m->v[id]);
            break;
        }
        if (it[cs].kind != LKS_PQ_V_BYTES || it[cs].u.bytes.len != strlen(m->s[id]) ||
            memcmp(it[cs].u.bytes.ptr, m->s[id], it[cs].u.bytes.len) != 0) {
            snprintf(why, cap, "id %lld: s differs", (long long)id);
            break;
        }
    }
    if (!why[0] && rows != expect) snprintf(why, cap, "%d rows, want %d", rows, expect);
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
}

static void mset(model *m, int64_t id, int32_t v, const char *s) {
    m->present[id] = 1;
    m->v[id] = v;
    snprintf(m->s[id], sizeof m->s[id], "%s", s);
}

static int64_t live_files(lks_delta_table *t) {
    lks_err err;
    lks_delta_snapshot *s = NULL;
    if (lks_delta_snapshot_latest(t, &s, &err)) return -1;
    int64_t n = (int64_t)s->nfiles;
    lks_delta_snapshot_free(s);
    return n;
}

#define CHECK_MODEL(t, m)                                                                                              \
    do {                                                                                                               \
        char why_[512];                                                                                                \
        check_model((t), (m), why_, sizeof why_);                                                                      \
        if (why_[0]) FAILF("table differs from the model: %s", why_);                                                  \
    } while (0)

/* ---- the key encoding ------------------------------------------------------------------------ */

/* Encodes each value, checks the encodings sort as the values (given in
 * ascending order), decode to their length and hash as Parquet's bloom
 * filters hash the physical values. */
static void check_order(const lks_delta_type *dt, const lks_pq_value *vals, int n, const char *what) {
    lks_buf enc[16], tmp;
    lks_buf_init(&tmp, 0);
    for (int i = 0; i < n; i++) {
        lks_buf_init(&enc[i], 0);
        CHECK_EQ_INT(lks_merge__key_put(&enc[i], dt, &vals[i]), LKS_OK);
        CHECK_EQ_INT(lks_merge__key_seg_len(dt, enc[i].ptr, enc[i].len), enc[i].len);
        uint8_t le[8];
        uint64_t want;
        switch (vals[i].kind) {
        case LKS_PQ_V_INT32: lks_store_le32(le, (uint32_t)vals[i].u.i32), want = lks_pq_bloom_hash(le, 4); break;
        case LKS_PQ_V_INT64: lks_store_le64(le, (uint64_t)vals[i].u.i64), want = lks_pq_bloom_hash(le, 8); break;
        case LKS_PQ_V_DOUBLE: memcpy(le, &vals[i].u.f64, 8), want = lks_pq_bloom_hash(le, 8); break;
        default: want = lks_pq_bloom_hash(vals[i].u.bytes.ptr, vals[i].u.bytes.len); break;
        }
        if (!(vals[i].kind == LKS_PQ_V_DOUBLE && vals[i].u.f64 == 0)) /* -0 encodes as 0 */
            if (lks_merge__key_seg_bloom_hash(dt, enc[i].ptr, enc[i].len, &tmp) != want)
                FAILF("%s: value %d: bloom hash differs", what, i);
    }
    for (int i = 0; i + 1 < n; i++)
        if (lks_bytes_cmp(enc[i].ptr, enc[i].len, enc[i + 1].ptr, enc[i + 1].len) >= 0)
            FAILF("%s: value %d does not sort before value %d", what, i, i + 1);
    /* a two-column key splits back at the column boundary */
    lks_buf two;
    lks_buf_init(&two, 0);
    lks_merge__key_put(&two, dt, &vals[n - 1]);
    lks_merge__key_put(&two, dt, &vals[0]);
    CHECK_EQ_INT(lks_merge__key_seg_len(dt, two.ptr, two.len), enc[n - 1].len);
    lks_buf_free(&two);
    for (int i = 0; i < n; i++) lks_buf_free(&enc[i]);
    lks_buf_free(&tmp);
}

static void t_key_encoding(void) {
    lks_delta_type dt;
    memset(&dt, 0, sizeof dt);
    lks_pq_value v[16];
    memset(v, 0, sizeof v);
    static const int64_t longs[] = {INT64_MIN, -5, -1, 0, 1, 7, INT64_MAX};
    dt.kind = LKS_DT_LONG;
    for (int i = 0; i < 7; i++) v[i].kind = LKS_PQ_V_INT64, v[i].u.i64 = longs[i];
    check_order(&dt, v, 7, "long");
    dt.kind = LKS_DT_INTEGER;
    for (int i = 0; i < 5; i++) v[i].kind = LKS_PQ_V_INT32, v[i].u.i32 = (int32_t)(i == 0 ? INT32_MIN : (i - 2) * 1000);
    check_order(&dt, v, 5, "integer");
    static const double dbl[] = {-INFINITY, -1.5, -1e-300, 0.0, 1e-300, 2.5, INFINITY};
    dt.kind = LKS_DT_DOUBLE;
    for (int i = 0; i < 7; i++) v[i].kind = LKS_PQ_V_DOUBLE, v[i].u.f64 = dbl[i];
    check_order(&dt, v, 7, "double");
    static const struct {
        const char *s;
        size_t n;
    } strs[] = {{"", 0}, {"\0", 1}, {"\0\0", 2}, {"\0a", 2}, {"a", 1}, {"a\0", 2}, {"a\0b", 3}, {"ab", 2}, {"b", 1}, {"\xff", 1}};
    dt.kind = LKS_DT_STRING;
    for (int i = 0; i < 10; i++)
        v[i].kind = LKS_PQ_V_BYTES, v[i].u.bytes.ptr = (const uint8_t *)strs[i].s, v[i].u.bytes.len = strs[i].n;
    check_order(&dt, v, 10, "string");
    /* decimal(30,2): FIXED_LEN_BYTE_ARRAY, converted from event decimals */
    dt.kind = LKS_DT_DECIMAL, dt.precision = 30, dt.scale = 2;
    int width;
    CHECK_EQ_INT(lks_merge__pq_kind(&dt, &width), LKS_PQ_V_BYTES);
    CHECK_EQ_INT(width, 13);
    static const uint8_t d0[] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}, d1[] = {0xff}, d2[] = {0x00}, d3[] = {0x01},
                         d4[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *ds[] = {d0, d1, d2, d3, d4};
    size_t dl[] = {10, 1, 1, 1, 10};
    lks_arena a;
    lks_arena_init(&a, 0);
    for (int i = 0; i < 5; i++) {
        lks_cdc_value cv;
        memset(&cv, 0, sizeof cv);
        cv.kind = LKS_CV_DECIMAL, cv.u.dec.be = ds[i], cv.u.dec.len = dl[i], cv.u.dec.scale = 1;
        CHECK_EQ_INT(lks_merge__conv_value(&cv, &dt, &a, &v[i]), LKS_OK);
        CHECK_EQ_INT(v[i].u.bytes.len, 13);
    }
    check_order(&dt, v, 5, "decimal(30,2)");
    /* conversions that do not fit */
    lks_cdc_value cv;
    memset(&cv, 0, sizeof cv);
    lks_pq_value out;
    cv.kind = LKS_CV_DECIMAL, cv.u.dec.be = d3, cv.u.dec.len = 1, cv.u.dec.scale = 3; /* 0.001 */
    CHECK_EQ_INT(lks_merge__conv_value(&cv, &dt, &a, &out), LKS_EINVAL);
    dt.kind = LKS_DT_BYTE;
    cv.kind = LKS_CV_INT, cv.u.i64 = 128;
    CHECK_EQ_INT(lks_merge__conv_value(&cv, &dt, &a, &out), LKS_EINVAL);
    dt.kind = LKS_DT_LONG;
    cv.kind = LKS_CV_UINT, cv.u.u64 = UINT64_MAX;
    CHECK_EQ_INT(lks_merge__conv_value(&cv, &dt, &a, &out), LKS_EINVAL);
    cv.kind = LKS_CV_ABSENT;
    CHECK_EQ_INT(lks_merge__conv_value(&cv, &dt, &a, &out), LKS_EINVAL);
    lks_arena_free(&a);
}

/* ---- basic operations ----------------------------------------------------------------------- */

static void basic_ops(int dv) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_opts o = opts_for(dv);
    lks_merge_batch *b = NULL;
    model m;
    memset(&m, 0, sizeof m);
    lks_merge_stats st;
    /* 1: creation with snapshot rows and inserts */
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    for (int i = 0; i < 10; i++) {
        CHECK_OK(add3(b, i < 5 ? 'r' : 'c', -1, i, i * 10, "a", "s:0", i + 1, &err), &err);
        mset(&m, i, i * 10, "a");
    }
    int64_t ev = 0;
    size_t bytes = 0;
    lks_merge_batch_size(b, &ev, &bytes);
    CHECK_EQ_INT(ev, 10);
    CHECK(bytes > 0);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.created, 1);
    CHECK_EQ_INT(st.version, 0);
    CHECK_EQ_INT(st.upserts, 10);
    CHECK_EQ_INT(st.rows_written, 10);
    CHECK_EQ_INT(st.files_added, 1);
    CHECK_MODEL(f.t, &m);
    lks_merge_batch_free(b);
    b = NULL;
    /* the new table: key column, property, protocol */
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_STR(lks_delta_snapshot_property(s, "lakesync.primaryKey"), "id");
        CHECK_EQ_INT(s->metadata.schema->children[0].nullable, 0);
        CHECK_EQ_INT(s->metadata.schema->children[1].nullable, 1);
        CHECK_EQ_INT(s->protocol.min_reader, dv ? 3 : 1);
        CHECK_EQ_INT(s->protocol.min_writer, dv ? 7 : 2);
        CHECK_EQ_INT(lks_merge_stream_version(s, "s:0"), 10);
        CHECK_EQ_INT(lks_merge_stream_version(s, "s:1"), -1);
    }
    lks_delta_snapshot_free(s);
    /* 2: update, delete, `c` on an existing key, repeated keys, a delete of
     * a missing key, a key change */
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err); /* key from the table property */
    REQUIRE(b);
    CHECK_OK(add3(b, 'u', 1, 1, 111, "b", "s:0", 11, &err), &err);
    mset(&m, 1, 111, "b");
    CHECK_OK(add3(b, 'd', 2, -1, 0, NULL, "s:0", 12, &err), &err);
    m.present[2] = 0;
    CHECK_OK(add3(b, 'c', -1, 3, 333, "c", "s:0", 13, &err), &err);
    mset(&m, 3, 333, "c");
    CHECK_OK(add3(b, 'u', 4, 4, 1, "x", "s:0", 14, &err), &err);
    CHECK_OK(add3(b, 'u', 4, 4, 2, "y", "s:0", 15, &err), &err);
    CHECK_OK(add3(b, 'u', 4, 4, 3, "zz-longer-string", "s:0", 16, &err), &err);
    mset(&m, 4, 3, "zz-longer-string");
    CHECK_OK(add3(b, 'd', 99, -1, 0, NULL, "s:0", 17, &err), &err);
    CHECK_OK(add3(b, 'u', 5, 50, 55, "moved", "s:0", 18, &err), &err); /* key change 5 → 50 */
    m.present[5] = 0;
    mset(&m, 50, 55, "moved");
    CHECK_OK(add3(b, 'd', 6, -1, 0, NULL, "s:0", 19, &err), &err); /* delete then re-insert */
    CHECK_OK(add3(b, 'c', -1, 6, 66, "again", "s:0", 20, &err), &err);
    mset(&m, 6, 66, "again");
    lks_merge_batch_size(b, &ev, &bytes);
    CHECK_EQ_INT(ev, 8); /* 1 2 3 4 99 5 50 6 */
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.events, 10);
    CHECK_EQ_INT(st.upserts, 5);
    CHECK_EQ_INT(st.deletes, 3);
    CHECK_EQ_INT(st.created, 0);
    if (dv) {
        CHECK_EQ_INT(st.files_dv, 1);
        CHECK_EQ_INT(st.files_removed, 0);
        CHECK_EQ_INT(st.rows_written, 5);
    } else {
        CHECK_EQ_INT(st.files_removed, 1);
        CHECK_EQ_INT(st.rows_written, 5 + 10 - 6); /* upserts + rows carried over */
    }
    CHECK_MODEL(f.t, &m);
    /* the batch is empty again and takes more */
    lks_merge_batch_size(b, &ev, &bytes);
    CHECK_EQ_INT(ev, 0);
    /* 3: a key change and back within one batch */
    CHECK_OK(add3(b, 'u', 7, 70, 7, "seven", "s:0", 21, &err), &err);
    CHECK_OK(add3(b, 'u', 70, 7, 8, "back", "s:0", 22, &err), &err);
    mset(&m, 7, 8, "back");
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.upserts, 1);
    CHECK_EQ_INT(st.deletes, 1);
    CHECK_MODEL(f.t, &m);
    /* 4: truncate in the middle of a batch */
    CHECK_OK(add3(b, 'c', -1, 8, 88, "gone", "s:0", 23, &err), &err);
    lks_cdc_event tev;
    memset(&tev, 0, sizeof tev);
    tev.op = 't';
    CHECK_OK(lks_merge_batch_add(b, &tev, "s:0", 24, &err), &err);
    CHECK_OK(add3(b, 'c', -1, 9, 99, "after", "s:0", 25, &err), &err);
    memset(&m, 0, sizeof m);
    mset(&m, 9, 99, "after");
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.truncates, 1);
    CHECK(st.files_removed >= 1);
    CHECK_EQ_INT(live_files(f.t), 1);
    CHECK_MODEL(f.t, &m);
    /* 5: positions only */
    CHECK_OK(lks_merge_batch_add(b, NULL, "s:0", 40, &err), &err);
    CHECK_OK(lks_merge_batch_add(b, NULL, "s:9", 7, &err), &err);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK(st.version > 0);
    CHECK_EQ_INT(st.files_added, 0);
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(lks_merge_stream_version(s, "s:0"), 40);
        CHECK_EQ_INT(lks_merge_stream_version(s, "s:9"), 7);
    }
    lks_delta_snapshot_free(s);
    /* 6: a batch behind the table's position is refused */
    CHECK_OK(add3(b, 'c', -1, 10, 1, "old", "s:0", 30, &err), &err);
    CHECK_EQ_INT(lks_merge_batch_commit(b, &st, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "s:0") != NULL);
    CHECK_MODEL(f.t, &m);
    lks_merge_batch_free(b);
    /* an empty batch commits nothing */
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.version, -1);
    lks_merge_batch_free(b);
    fx_close(&f);
}

static void t_basic_cow(void) { basic_ops(0); }
static void t_basic_dv(void) { basic_ops(1); }

/* ---- property test -------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void property(int dv, uint64_t seed, int nops, int nkeys, int clustered) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    rng_state = seed;
    lks_err err;
    lks_merge_opts o = opts_for(dv);
    lks_merge_batch *b = NULL;
    model m;
    memset(&m, 0, sizeof m);
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    int64_t pos = 0, commits = 0, dvs = 0, removed = 0, skipped = 0;
    int cut = 1 + (int)(rnd() % 40), inbatch = 0, failed = 0;
    char s[24];
    for (int op = 0; op < nops && !failed; op++) {
        int r = (int)(rnd() % 100);
        /* clustered: keys near a position drifting through the key space, so
         * files hold narrow ranges and most are skipped */
        int64_t k = clustered ? (int64_t)((uint64_t)(op / 3) + rnd() % 12) % nkeys : (int64_t)(rnd() % (uint64_t)nkeys);
        int32_t v = (int32_t)(rnd() % 100000);
        snprintf(s, sizeof s, "s%d-%d", (int)k, v % 97);
        int rc;
        pos++;
        if (r < 45) {
            int opc = "cur"[rnd() % 3];
            rc = add3(b, opc, opc == 'u' ? k : -1, k, v, s, "p:0", pos, &err);
            mset(&m, k, v, s);
        } else if (r < 70) {
            rc = add3(b, 'd', k, -1, 0, NULL, "p:0", pos, &err);
            m.present[k] = 0;
        } else if (r < 88) {
            int64_t k2 = clustered ? (k + 1 + (int64_t)(rnd() % 5)) % nkeys : (int64_t)(rnd() % (uint64_t)nkeys);
            rc = add3(b, 'u', k, k2, v, s, "p:0", pos, &err);
            m.present[k] = 0;
            mset(&m, k2, v, s);
        } else if (r < (clustered ? 88 : 89)) {
            lks_cdc_event tev;
            memset(&tev, 0, sizeof tev);
            tev.op = 't';
            rc = lks_merge_batch_add(b, &tev, "p:0", pos, &err);
            memset(&m, 0, sizeof m);
        } else {
            /* a second stream */
            rc = add3(b, 'r', -1, k, v, s, "p:1", pos, &err);
            mset(&m, k, v, s);
        }
        if (rc) {
            FAILF("add: %s", err.msg);
            break;
        }
        if (++inbatch < cut && op + 1 < nops) continue;
        lks_merge_stats st;
        rc = lks_merge_batch_commit(b, &st, &err);
        if (rc) {
            FAILF("commit %lld: %s", (long long)commits, err.msg);
            break;
        }
        commits++;
        dvs += st.files_dv;
        removed += st.files_removed;
        skipped += st.files_skipped;
        char why[512];
        check_model(f.t, &m, why, sizeof why);
        if (why[0]) {
            FAILF("after commit %lld (version %lld): %s", (long long)commits, (long long)st.version, why);
            failed = 1;
        }
        lks_delta_snapshot *sn = NULL;
        if (lks_delta_snapshot_latest(f.t, &sn, &err) == LKS_OK) {
            if (lks_merge_stream_version(sn, "p:0") > pos || lks_merge_stream_version(sn, "p:0") < pos - inbatch) {
                FAILF("stream p:0 at %lld, pos %lld", (long long)lks_merge_stream_version(sn, "p:0"), (long long)pos);
                failed = 1;
            }
            lks_delta_snapshot_free(sn);
        }
        inbatch = 0;
        cut = 1 + (int)(rnd() % 40);
    }
    if (dv) CHECK(dvs > 0);
    else CHECK(removed > 0);
    printf("# property %s%s seed %llu: %d ops, %lld commits, %lld files with new DVs, %lld removed, %lld skipped, "
           "%lld live files\n",
           dv ? "dv" : "cow", g_composite ? " composite key" : "", (unsigned long long)seed, nops, (long long)commits, (long long)dvs, (long long)removed,
           (long long)skipped, (long long)live_files(f.t));
    lks_merge_batch_free(b);
    fx_close(&f);
}

static void t_property_cow(void) {
    property(0, 0x1234567ULL, 400, 40, 0);
    property(0, 0xBADC0FFEEULL, 300, 200, 0);
    property(0, 0xC1C1ULL, 600, 250, 1);
    g_composite = 1;
    property(0, 0xC0C0AULL, 400, 150, 0);
    property(0, 0xC2C2ULL, 600, 250, 1);
    g_composite = 0;
}
static void t_property_dv(void) {
    property(1, 0x7654321ULL, 400, 40, 0);
    property(1, 0xFEEDFACEULL, 300, 200, 0);
    property(1, 0xD3D3ULL, 600, 250, 1);
    g_composite = 1;
    property(1, 0xD1D1ULL, 400, 150, 0);
    property(1, 0xD2D2ULL, 600, 250, 1);
    g_composite = 0;
}

/* ---- the type mapping -------------------------------------------------------------------- */

static void t_types(void) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    static lks_cdc_field F[] = {
        {"id", {LKS_CT_INT32, 0, 0, 0, 0}, NULL},       {"b", {LKS_CT_BOOL, 0, 0, 1, 0}, NULL},
        {"i8", {LKS_CT_INT8, 0, 0, 1, 0}, NULL},        {"i16", {LKS_CT_INT16, 0, 0, 1, 0}, NULL},
        {"u64", {LKS_CT_UINT64, 0, 0, 1, 0}, NULL},     {"f", {LKS_CT_FLOAT, 0, 0, 1, 0}, NULL},
        {"d", {LKS_CT_DOUBLE, 0, 0, 1, 0}, NULL},       {"dec", {LKS_CT_DECIMAL, 5, 2, 1, 0}, NULL},
        {"decw", {LKS_CT_DECIMAL, 30, 4, 1, 0}, NULL},  {"decu", {LKS_CT_DECIMAL, 0, 0, 1, 0}, NULL},
        {"dec50", {LKS_CT_DECIMAL, 50, 2, 1, 0}, NULL}, {"str", {LKS_CT_STRING, 0, 0, 1, 0}, NULL},
        {"bin", {LKS_CT_BYTES, 0, 0, 1, 0}, NULL},      {"day", {LKS_CT_DATE, 0, 0, 1, 0}, NULL},
        {"tod", {LKS_CT_TIME, 6, 0, 1, 0}, NULL},       {"dtm", {LKS_CT_DATETIME, 6, 0, 1, 0}, NULL},
        {"ts", {LKS_CT_TIMESTAMP, 6, 0, 1, 0}, NULL},   {"js", {LKS_CT_JSON, 0, 0, 1, 0}, NULL},
    };
    enum { NF = sizeof F / sizeof *F };
    lks_cdc_schema sch = {F, NF};
    static const int key[] = {0};
    lks_cdc_value v[NF];
    memset(v, 0, sizeof v);
    static const uint8_t dec12345[] = {0x30, 0x39};          /* 12345 */
    static const uint8_t decneg[] = {0xff, 0xff, 0xcf, 0xc7}; /* -12345 */
    static const uint8_t bin[] = {0, 1, 2, 0xff};
    v[0].kind = LKS_CV_INT, v[0].u.i64 = 7;
    v[1].kind = LKS_CV_BOOL, v[1].u.b = 1;
    v[2].kind = LKS_CV_INT, v[2].u.i64 = -128;
    v[3].kind = LKS_CV_INT, v[3].u.i64 = 2024;
    v[4].kind = LKS_CV_UINT, v[4].u.u64 = UINT64_MAX;
    v[5].kind = LKS_CV_DOUBLE, v[5].u.f64 = (double)0.1f;
    v[6].kind = LKS_CV_DOUBLE, v[6].u.f64 = 0.1;
    v[7].kind = LKS_CV_DECIMAL, v[7].u.dec.be = dec12345, v[7].u.dec.len = 2, v[7].u.dec.scale = 2;
    v[8].kind = LKS_CV_DECIMAL, v[8].u.dec.be = decneg, v[8].u.dec.len = 4, v[8].u.dec.scale = 2; /* rescaled to 4 */
    v[9].kind = LKS_CV_DECIMAL, v[9].u.dec.be = dec12345, v[9].u.dec.len = 2, v[9].u.dec.scale = 3;
    v[10].kind = LKS_CV_DECIMAL, v[10].u.dec.be = decneg, v[10].u.dec.len = 4, v[10].u.dec.scale = 2;
    v[11].kind = LKS_CV_BYTES, v[11].u.bytes.ptr = (const uint8_t *)"héllo", v[11].u.bytes.len = 6;
    v[12].kind = LKS_CV_BYTES, v[12].u.bytes.ptr = bin, v[12].u.bytes.len = 4;
    v[13].kind = LKS_CV_INT, v[13].u.i64 = 19723;                    /* 2024-01-01 */
    v[14].kind = LKS_CV_INT, v[14].u.i64 = -1;                       /* -1 µs */
    v[15].kind = LKS_CV_INT, v[15].u.i64 = 1704067200123456LL;       /* 2024-01-01T00:00:00.123456 */
    v[16].kind = LKS_CV_INT, v[16].u.i64 = 1704067200000001LL;
    v[17].kind = LKS_CV_BYTES, v[17].u.bytes.ptr = (const uint8_t *)"{\"a\":1}", v[17].u.bytes.len = 7;
    for (int ntz = 0; ntz < 2; ntz++) {
        lks_merge_opts o;
        memset(&o, 0, sizeof o);
        o.datetime_as_ntz = ntz;
        char pfx[32];
        snprintf(pfx, sizeof pfx, "t%d", ntz);
        lks_delta_table *t = NULL;
        CHECK_OK(lks_delta_table_open(f.st, pfx, &t, &err), &err);
        lks_merge_batch *b = NULL;
        CHECK_OK(lks_merge_batch_new(t, &o, &b, &err), &err);
        REQUIRE(b);
        lks_cdc_event ev;
        memset(&ev, 0, sizeof ev);
        ev.op = 'c';
        ev.schema = &sch;
        ev.key = key;
        ev.nkey = 1;
        ev.has_after = 1;
        ev.after.v = v;
        ev.after.n = NF;
        CHECK_OK(lks_merge_batch_add(b, &ev, "x", 1, &err), &err);
        lks_merge_stats st;
        CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
        lks_merge_batch_free(b);
        lks_delta_snapshot *s = NULL;
        CHECK_OK(lks_delta_snapshot_latest(t, &s, &err), &err);
        if (s) {
            const char *want = ntz ? "\"timestamp_ntz\"" : "\"timestamp\"";
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"u64\",\"type\":\"decimal(20,0)\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"decw\",\"type\":\"decimal(30,4)\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"decu\",\"type\":\"string\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"dec50\",\"type\":\"string\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"tod\",\"type\":\"long\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"i8\",\"type\":\"byte\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"i16\",\"type\":\"short\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"js\",\"type\":\"string\"") != NULL);
            CHECK(strstr(s->metadata.schema_string, "{\"name\":\"bin\",\"type\":\"binary\"") != NULL);
            char pat[64];
            snprintf(pat, sizeof pat, "{\"name\":\"dtm\",\"type\":%s", want);
            CHECK(strstr(s->metadata.schema_string, pat) != NULL);
            CHECK_EQ_INT(s->protocol.min_reader, ntz ? 3 : 1);
            if (ntz) CHECK(s->protocol.nwriter_features == 1 && !strcmp(s->protocol.writer_features[0], "timestampNtz"));
            lks_delta_scan *sc = NULL;
            CHECK_OK(lks_delta_scan_open(t, s, NULL, &sc, &err), &err);
            const lks_pq_value *row = NULL;
            if (sc && lks_delta_scan_next(sc, &row, &err) == 1) {
                lks_buf j;
                lks_buf_init(&j, 0);
                lks_pq_value_to_json(&j, lks_delta_scan_schema(sc), 0, row);
                lks_buf_cstr(&j);
                const char *exp =
                    ntz ? "{\"id\":7,\"b\":true,\"i8\":-128,\"i16\":2024,\"u64\":\"18446744073709551615\",\"f\":0.1,"
                          "\"d\":0.1,\"dec\":\"123.45\",\"decw\":\"-123.4500\",\"decu\":\"12.345\",\"dec50\":\"-123.45\","
                          "\"str\":\"héllo\",\"bin\":\"AAEC/w==\",\"day\":\"2024-01-01\",\"tod\":-1,"
                          "\"dtm\":\"2024-01-01T00:00:00.123456\",\"ts\":\"2024-01-01T00:00:00.000001Z\","
                          "\"js\":\"{\\\"a\\\":1}\"}"
                        : "{\"id\":7,\"b\":true,\"i8\":-128,\"i16\":2024,\"u64\":\"18446744073709551615\",\"f\":0.1,"
                          "\"d\":0.1,\"dec\":\"123.45\",\"decw\":\"-123.4500\",\"decu\":\"12.345\",\"dec50\":\"-123.45\","
                          "\"str\":\"héllo\",\"bin\":\"AAEC/w==\",\"day\":\"2024-01-01\",\"tod\":-1,"
                          "\"dtm\":\"2024-01-01T00:00:00.123456Z\",\"ts\":\"2024-01-01T00:00:00.000001Z\","
                          "\"js\":\"{\\\"a\\\":1}\"}";
                CHECK_EQ_STR((const char *)j.ptr, exp);
                lks_buf_free(&j);
            } else {
                FAILF("no row: %s", err.msg);
            }
            lks_delta_scan_free(sc);
        }
        lks_delta_snapshot_free(s);
        /* a second batch keyed by the same table: update the row through
         * an INT16 key value (fits the integer key) */
        CHECK_OK(lks_merge_batch_new(t, NULL, &b, &err), &err);
        if (b) {
            v[7].u.dec.scale = 1; /* 1234.5 → still fits decimal(5,2)? no: 1234.50 has 6 digits */
            CHECK_OK(lks_merge_batch_add(b, &ev, "x", 2, &err), &err);
            CHECK_EQ_INT(lks_merge_batch_commit(b, &st, &err), LKS_EINVAL);
            CHECK(strstr(err.msg, "'dec'") != NULL);
            v[7].u.dec.scale = 2;
            lks_merge_batch_free(b);
        }
        lks_delta_table_close(t);
        validate_sub(&f, pfx);
    }
    lks_merge_batch *b = NULL; /* and a table at the root, which fx_close validates */
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    if (b) CHECK_OK(add3(b, 'c', -1, 1, 1, "x", "x", 1, &err), &err);
    if (b) CHECK_OK(lks_merge_batch_commit(b, NULL, &err), &err);
    lks_merge_batch_free(b);
    fx_close(&f);
}

/* ---- schema evolution ----------------------------------------------------------------------- */

static void t_schema_evolution(void) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_batch *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    REQUIRE(b);
    for (int i = 0; i < 5; i++) CHECK_OK(add3(b, 'c', -1, i, i, "a", "e:0", i + 1, &err), &err);
    lks_merge_stats st;
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    /* a new column appears mid-stream (and the old layout keeps coming) */
    static lks_cdc_field F4[] = {
        {"id", {LKS_CT_INT64, 0, 0, 0, 0}, NULL},
        {"v", {LKS_CT_INT16, 0, 0, 1, 0}, NULL}, /* narrower: fits the integer column */
        {"s", {LKS_CT_STRING, 0, 0, 1, 0}, NULL},
        {"extra", {LKS_CT_DECIMAL, 12, 3, 1, 0}, NULL},
    };
    lks_cdc_schema s4 = {F4, 4};
    lks_cdc_value vals[4];
    set_row(vals, 10, 10, "new");
    static const uint8_t one[] = {0x03, 0xe8}; /* 1.000 */
    vals[3].kind = LKS_CV_DECIMAL, vals[3].u.dec.be = one, vals[3].u.dec.len = 2, vals[3].u.dec.scale = 3;
    lks_cdc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = 'c';
    ev.schema = &s4;
    ev.key = KEY0;
    ev.nkey = 1;
    ev.has_after = 1;
    ev.after.v = vals;
    ev.after.n = 4;
    CHECK_OK(lks_merge_batch_add(b, &ev, "e:0", 6, &err), &err);
    set_row(vals, 1, 100, "upd"); /* update an old row through the new layout */
    CHECK_OK(lks_merge_batch_add(b, &ev, "e:0", 7, &err), &err);
    CHECK_OK(add3(b, 'u', 2, 2, 200, "old-layout", "e:0", 8, &err), &err);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s);
    REQUIRE(s->metadata.schema->nchildren == 4);
    CHECK_EQ_STR(s->metadata.schema->children[3].name, "extra");
    CHECK_EQ_INT(s->metadata.schema->children[3].kind, LKS_DT_DECIMAL);
    CHECK_EQ_INT(s->metadata.schema->children[3].nullable, 1);
    CHECK_EQ_INT(s->metadata.schema->children[1].kind, LKS_DT_INTEGER);
    lks_delta_scan *sc = NULL;
    CHECK_OK(lks_delta_scan_open(f.t, s, NULL, &sc, &err), &err);
    int rows = 0, with_extra = 0;
    for (;;) {
        const lks_pq_value *row;
        int rc = lks_delta_scan_next(sc, &row, &err);
        if (rc <= 0) {
            CHECK_EQ_INT(rc, 0);
            break;
        }
        rows++;
        const lks_pq_value *it = row->u.list.items;
        int64_t id = it[0].u.i64;
        if (id == 10 || id == 1) {
            CHECK_EQ_INT(it[3].kind, LKS_PQ_V_INT64);
            CHECK_EQ_INT(it[3].u.i64, 1000);
            with_extra++;
        } else {
            CHECK_EQ_INT(it[3].kind, LKS_PQ_V_NULL);
        }
        if (id == 1) CHECK_EQ_INT(it[1].u.i32, 100);
        if (id == 2) CHECK_EQ_INT(it[1].u.i32, 200);
    }
    CHECK_EQ_INT(rows, 6);
    CHECK_EQ_INT(with_extra, 2);
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(s);
    /* an incompatible change: v becomes BIGINT, s becomes an INT */
    static lks_cdc_field FB[] = {
        {"id", {LKS_CT_INT64, 0, 0, 0, 0}, NULL},
        {"v", {LKS_CT_INT64, 0, 0, 1, 0}, NULL},
        {"s", {LKS_CT_STRING, 0, 0, 1, 0}, NULL},
    };
    lks_cdc_schema sb = {FB, 3};
    set_row(vals, 3, 3, "x");
    ev.schema = &sb;
    ev.after.n = 3;
    CHECK_OK(lks_merge_batch_add(b, &ev, "e:0", 9, &err), &err);
    CHECK_EQ_INT(lks_merge_batch_commit(b, &st, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "column 'v'") != NULL);
    lks_merge_batch_free(b);
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    FB[1].type.kind = LKS_CT_INT32;
    FB[2].type.kind = LKS_CT_BYTES;
    vals[2].kind = LKS_CV_BYTES;
    CHECK_OK(lks_merge_batch_add(b, &ev, "e:0", 9, &err), &err);
    CHECK_EQ_INT(lks_merge_batch_commit(b, &st, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "column 's'") != NULL);
    lks_merge_batch_free(b);
    /* a null key and a missing key column are refused when added */
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    FB[2].type.kind = LKS_CT_STRING;
    vals[0].kind = LKS_CV_NULL;
    CHECK_EQ_INT(lks_merge_batch_add(b, &ev, "e:0", 9, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "'id'") != NULL);
    lks_merge_batch_free(b);
    const char *kc[] = {"nope"};
    lks_merge_opts o;
    memset(&o, 0, sizeof o);
    o.key_columns = kc;
    o.nkey_columns = 1;
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    CHECK_EQ_INT(add3(b, 'c', -1, 1, 1, "a", "e:0", 9, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "nope") != NULL);
    lks_merge_batch_free(b);
    fx_close(&f);
}

/* ---- skipping files ----------------------------------------------------------------------- */

static void skipping(int dv) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_opts o = opts_for(dv);
    lks_merge_batch *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    lks_merge_stats st;
    /* ten files with disjoint key ranges */
    int64_t pos = 0;
    for (int k = 0; k < 10; k++) {
        for (int i = 0; i < 20; i++) CHECK_OK(add3(b, 'c', -1, k * 20 + i, i, "r", "k:0", ++pos, &err), &err);
        CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    }
    CHECK_EQ_INT(live_files(f.t), 10);
    CHECK_OK(add3(b, 'u', 125, 125, 7, "hit", "k:0", ++pos, &err), &err);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.files_skipped, 9);
    CHECK_EQ_INT(dv ? st.files_dv : st.files_removed, 1);
    /* a delete of a key no file holds within range: skipped by bloom filters
     * (ranges of the even and odd files overlap) */
    lks_merge_batch_free(b);
    lks_delta_table *t2 = NULL;
    CHECK_OK(lks_delta_table_open(f.st, "eo", &t2, &err), &err);
    CHECK_OK(lks_merge_batch_new(t2, &o, &b, &err), &err);
    REQUIRE(b);
    for (int par = 0; par < 2; par++) {
        for (int i = par; i < 200; i += 2) CHECK_OK(add3(b, 'c', -1, i, i, "eo", "k:1", ++pos, &err), &err);
        CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    }
    CHECK_OK(add3(b, 'u', 50, 50, 1, "even", "k:1", ++pos, &err), &err);
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.files_skipped, 1); /* the odd file, by its bloom filter */
    CHECK_EQ_INT(dv ? st.files_dv : st.files_removed, 1);
    CHECK_OK(add3(b, 'd', 1001, -1, 0, NULL, "k:1", ++pos, &err), &err); /* beyond every range */
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.files_skipped, live_files(t2));
    CHECK_EQ_INT(st.files_removed + st.files_dv, 0);
    lks_merge_batch_free(b);
    lks_delta_table_close(t2);
    validate_sub(&f, "eo");
    fx_close(&f);
}

static void t_skip_cow(void) { skipping(0); }
static void t_skip_dv(void) { skipping(1); }

/* ---- concurrent batches ------------------------------------------------------------------------ */

static void concurrency(int dv) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_opts o = opts_for(dv);
    lks_merge_batch *a = NULL, *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, &o, &a, &err), &err);
    REQUIRE(a);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 10; i++) CHECK_OK(add3(a, 'c', -1, k * 100 + i, i, "base", "a:0", k * 10 + i + 1, &err), &err);
        lks_merge_stats st;
        CHECK_OK(lks_merge_batch_commit(a, &st, &err), &err);
    }
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    lks_merge_stats sa, sb;
    /* disjoint keys from one snapshot: new keys on both sides, and updates
     * in different files */
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s);
    CHECK_OK(add3(a, 'c', -1, 50, 1, "a", "a:0", 100, &err), &err);
    CHECK_OK(add3(a, 'u', 5, 5, 1, "a", "a:0", 101, &err), &err);
    CHECK_OK(add3(b, 'c', -1, 150, 2, "b", "b:0", 1, &err), &err);
    CHECK_OK(add3(b, 'u', 205, 205, 2, "b", "b:0", 2, &err), &err);
    CHECK_OK(lks_merge__batch_commit_at(a, s, &sa, &err), &err);
    CHECK_OK(lks_merge__batch_commit_at(b, s, &sb, &err), &err);
    CHECK_EQ_INT(sb.version, sa.version + 1);
    lks_delta_snapshot_free(s);
    /* overlapping: both insert key 300 */
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s);
    CHECK_OK(add3(a, 'c', -1, 300, 1, "a", "a:0", 102, &err), &err);
    CHECK_OK(add3(b, 'c', -1, 300, 2, "b", "b:0", 3, &err), &err);
    CHECK_OK(lks_merge__batch_commit_at(a, s, &sa, &err), &err);
    CHECK_EQ_INT(lks_merge__batch_commit_at(b, s, &sb, &err), LKS_ECONFLICT);
    lks_delta_snapshot_free(s);
    /* the batch is intact: committing again from a fresh snapshot works */
    int64_t ev;
    lks_merge_batch_size(b, &ev, NULL);
    CHECK_EQ_INT(ev, 1);
    CHECK_OK(lks_merge_batch_commit(b, &sb, &err), &err);
    /* overlapping: both update key 105 (an existing file) */
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    REQUIRE(s);
    CHECK_OK(add3(a, 'u', 105, 105, 1, "a", "a:0", 103, &err), &err);
    CHECK_OK(add3(b, 'd', 105, -1, 0, NULL, "b:0", 4, &err), &err);
    CHECK_OK(lks_merge__batch_commit_at(a, s, &sa, &err), &err);
    CHECK_EQ_INT(lks_merge__batch_commit_at(b, s, &sb, &err), LKS_ECONFLICT);
    lks_delta_snapshot_free(s);
    /* the result: b's retry of key 300 came last, a's update of 105 won */
    CHECK_OK(lks_delta_snapshot_latest(f.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(lks_merge_stream_version(s, "a:0"), 103);
        CHECK_EQ_INT(lks_merge_stream_version(s, "b:0"), 3);
        lks_delta_scan *sc = NULL;
        CHECK_OK(lks_delta_scan_open(f.t, s, NULL, &sc, &err), &err);
        int rows = 0;
        const lks_pq_value *row;
        while (sc && lks_delta_scan_next(sc, &row, &err) == 1) {
            rows++;
            int64_t id = row->u.list.items[0].u.i64;
            int32_t v = row->u.list.items[1].u.i32;
            if (id == 300) CHECK_EQ_INT(v, 2);
            if (id == 105) CHECK_EQ_INT(v, 1);
            if (id == 5) CHECK_EQ_INT(v, 1);
        }
        CHECK_EQ_INT(rows, 30 + 3);
        lks_delta_scan_free(sc);
        lks_delta_snapshot_free(s);
    }
    lks_merge_batch_free(a);
    lks_merge_batch_free(b);
    fx_close(&f);
}

static void t_concurrent_cow(void) { concurrency(0); }
static void t_concurrent_dv(void) { concurrency(1); }

/* ---- larger batches --------------------------------------------------------------------------- */

/* Many files with disjoint key ranges: ten updates spread over the key
 * space touch ten files and skip the rest by stats. */
static void spread_updates(int dv, int nfiles, int per_file) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_opts o = opts_for(dv);
    lks_merge_batch *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    lks_merge_stats st;
    int64_t pos = 0;
    for (int k = 0; k < nfiles; k++) {
        for (int i = 0; i < per_file; i++)
            CHECK_OK(add3(b, 'c', -1, (int64_t)k * per_file + i, i, "some-string-value", "m:0", ++pos, &err), &err);
        CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    }
    for (int i = 0; i < 10; i++) {
        int64_t id = (int64_t)(i * 7919 % nfiles) * per_file + i;
        CHECK_OK(add3(b, 'u', id, id, -1, "upd", "m:0", ++pos, &err), &err);
    }
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.files_skipped, nfiles - 10);
    lks_merge_batch_free(b);
    fx_close(&f);
}

/* Copy-on-write of files whose changed rows come after the first scan
 * batch of the file. */
static void t_cow_late_hits(void) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_opts o = opts_for(0);
    lks_merge_batch *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, &o, &b, &err), &err);
    REQUIRE(b);
    model *m = calloc(1, sizeof *m);
    REQUIRE(m);
    lks_merge_stats st;
    int64_t pos = 0;
    enum { PER = 3000 };
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < PER; i++) {
            int64_t id = (int64_t)k * PER + i;
            CHECK_OK(add3(b, 'c', -1, id, i, "row", "m:0", ++pos, &err), &err);
            mset(m, id, i, "row");
        }
        CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    }
    /* file 0: an update of its row 2500; file 1: a delete of its row 1500 and a key change from its row 2999 */
    CHECK_OK(add3(b, 'u', 2500, 2500, -1, "upd", "m:0", ++pos, &err), &err);
    mset(m, 2500, -1, "upd");
    CHECK_OK(add3(b, 'd', PER + 1500, -1, 0, NULL, "m:0", ++pos, &err), &err);
    m->present[PER + 1500] = 0;
    CHECK_OK(add3(b, 'u', 2 * PER - 1, 3 * PER + 5, 7, "moved", "m:0", ++pos, &err), &err);
    m->present[2 * PER - 1] = 0;
    mset(m, 3 * PER + 5, 7, "moved");
    CHECK_OK(lks_merge_batch_commit(b, &st, &err), &err);
    CHECK_EQ_INT(st.files_removed, 2);
    CHECK_EQ_INT(st.rows_written, 2 * PER - 3 + 2); /* the kept rows, the two after images */
    char why[512];
    check_model(f.t, m, why, sizeof why);
    if (why[0]) FAILF("%s", why);
    free(m);
    lks_merge_batch_free(b);
    fx_close(&f);
}

/* A second version of every key replaces the first: the batch holds one
 * event per key. */
static void t_large_batches(void) {
    fx f;
    REQUIRE(fx_open(&f) == 0);
    lks_err err;
    lks_merge_batch *b = NULL;
    CHECK_OK(lks_merge_batch_new(f.t, NULL, &b, &err), &err);
    REQUIRE(b);
    int n = 200000;
    for (int i = 0; i < n; i++)
        if (add3(b, 'c', -1, i, i, "a-string-of-24-bytes....", "m:0", i + 1, &err) != LKS_OK) {
            FAILF("add: %s", err.msg);
            break;
        }
    for (int i = 0; i < n; i++)
        if (add3(b, 'u', i, i, -i, "another-string-24-bytes.", "m:0", n + i + 1, &err) != LKS_OK) {
            FAILF("add: %s", err.msg);
            break;
        }
    int64_t ev;
    size_t bytes;
    lks_merge_batch_size(b, &ev, &bytes);
    CHECK_EQ_INT(ev, n);
    lks_merge_batch_free(b);
    lks_delta_table_close(f.t);
    lks_store_close(f.st);
    nftw(f.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    spread_updates(0, 50, 2000);
    spread_updates(1, 50, 2000);
}

/* Keys sort as lks_bytes_cmp orders them: shared prefixes, runs of
 * equal first 8 bytes long and short, empty and short keys. */
static void t_sort_keys(void) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    enum { N = 5000 };
    static uint8_t store[N][24];
    static lks_merge_keyref k[N];
    for (int shape = 0; shape < 4; shape++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t n = shape == 0 ? 9 : shape == 1 ? 8 + x % 16 : shape == 2 ? x % 11 : 1 + x % 23;
            for (size_t j = 0; j < n; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                store[i][j] = (uint8_t)x;
            }
            if (shape == 0) /* an int key: a tag, then a big-endian value from a small range */
                store[i][0] = 2, memset(store[i] + 1, 0, 5), store[i][6] = (uint8_t)(x >> 20 & 1);
            if (shape == 1) /* one long shared prefix: everything ties on 8 bytes */
                memcpy(store[i], "Customer", 8);
            if (shape == 3 && (x & 1)) /* runs of a few shared prefixes */
                memcpy(store[i], "ab\0cd", n < 5 ? n : 5);
            k[i].k = store[i];
            k[i].n = (uint32_t)n;
        }
        lks_merge__sort_keys(k, N);
        int bad = 0;
        for (int i = 0; i + 1 < N; i++)
            if (lks_bytes_cmp(k[i].k, k[i].n, k[i + 1].k, k[i + 1].n) > 0) bad++;
        /* a permutation: every key once */
        uint8_t *seen = calloc(N, 1);
        for (int i = 0; i < N; i++) {
            size_t at = (size_t)((const uint8_t(*)[24])(const void *)k[i].k - store);
            if (at >= N || seen[at]++) bad++;
        }
        free(seen);
        if (bad) FAILF("shape %d: %d keys out of order or lost", shape, bad);
    }
}

int main(void) {
    RUN(t_key_encoding);
    RUN(t_sort_keys);
    RUN(t_basic_cow);
    RUN(t_basic_dv);
    RUN(t_types);
    RUN(t_schema_evolution);
    RUN(t_skip_cow);
    RUN(t_skip_dv);
    RUN(t_concurrent_cow);
    RUN(t_concurrent_dv);
    RUN(t_property_cow);
    RUN(t_property_dv);
    RUN(t_large_batches);
    RUN(t_cow_late_hits);
    return lks_test_done();
}
