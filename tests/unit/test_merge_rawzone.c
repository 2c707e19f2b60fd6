/* test_merge_rawzone.c — lks_merge_rawzone: positions, rewritten objects,
 * malformed records, dead letters, tombstones, mixed envelopes, the
 * warehouse mapping, keys from stored Kafka keys. */
#include "harness.h"
#include "merge/merge.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOPIC "shop.sales.items"

static char base_dir[256];
static int seq;

/* A fresh directory for one test. */
static const char *fresh(const char *what) {
    static char path[512];
    if (!base_dir[0]) {
        snprintf(base_dir, sizeof base_dir, "/tmp/lks_tmrz.XXXXXX");
        if (!mkdtemp(base_dir))
            abort();
    }
    snprintf(path, sizeof path, "%s/%d-%s", base_dir, ++seq, what);
    return path;
}

static void cleanup(void) {
    if (base_dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", base_dir);
    }
}

/* ---- events ---------------------------------------------------------------------------------- */

static const char FIELDS[] = "[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
                             "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"}]";

/* A record value: op, before/after as (id, name) pairs (id < 0: null image). */
static char *ev(int env, char op, int bid, const char *bname, int aid, const char *aname) {
    static char buf[8][2048];
    static int k;
    char *b = buf[k++ % 8];
    char before[128], after[128];
    if (bid < 0)
        snprintf(before, sizeof before, "null");
    else
        snprintf(before, sizeof before, "{\"id\":%d,\"name\":\"%s\"}", bid, bname);
    if (aid < 0)
        snprintf(after, sizeof after, "null");
    else
        snprintf(after, sizeof after, "{\"id\":%d,\"name\":\"%s\"}", aid, aname);
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"before\":%s,\"after\":%s,\"source\":{\"connector\":\"mysql\",\"name\":\"shop\",\"db\":\"sales\","
             "\"table\":\"items\",\"file\":\"bin.000001\",\"pos\":4,\"row\":0},\"op\":\"%c\",\"ts_ms\":1}",
             before, after, op);
    if (!env) {
        snprintf(b, 2048, "%s", payload);
        return b;
    }
    snprintf(b, 2048,
             "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":%s,\"optional\":true,"
             "\"field\":\"before\"},{\"type\":\"struct\",\"fields\":%s,\"optional\":true,\"field\":\"after\"},"
             "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
             "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},{\"type\":\"string\",\"optional\":true,"
             "\"field\":\"table\"},{\"type\":\"string\",\"optional\":false,\"field\":\"file\"},{\"type\":"
             "\"int64\",\"optional\":false,\"field\":\"pos\"}],\"optional\":false,\"field\":\"source\"},"
             "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}],\"optional\":false,\"name\":\"e\"},"
             "\"payload\":%s}",
             FIELDS, FIELDS, payload);
    return b;
}

static char *ins(int id, const char *name) { return ev(id % 2, 'c', -1, NULL, id, name); }

/* Publishes one object of the layout: n value lines (and key lines when
 * keys is non-NULL). */
static int put_obj(lks_store *st, const char *topic, int p, long long start, const char *const *vals, int n,
                   const char *const *keys) {
    lks_err err = {0};
    lks_buf b;
    lks_buf_init(&b, 0);
    for (int i = 0; i < n; i++) {
        lks_buf_append(&b, vals[i], strlen(vals[i]));
        lks_buf_append_byte(&b, '\n');
    }
    char key[512];
    snprintf(key, sizeof key, "topics/%s/partition=%d/%s+%d+%010lld.json", topic, p, topic, p, start);
    int rc = lks_store_put(st, key, b.ptr, b.len, &err);
    if (rc == LKS_OK && keys) {
        lks_buf_reset(&b);
        for (int i = 0; i < n; i++) {
            lks_buf_append(&b, keys[i], strlen(keys[i]));
            lks_buf_append_byte(&b, '\n');
        }
        snprintf(key, sizeof key, "topics/%s/partition=%d/%s+%d+%010lld.keys.json", topic, p, topic, p, start);
        rc = lks_store_put(st, key, b.ptr, b.len, &err);
    }
    lks_buf_free(&b);
    return rc;
}

/* ---- the table as text --------------------------------------------------------------------- */

static int cmp_line(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The rows of the table at prefix, as sorted JSON lines joined by ' ';
 * "(none)" when there is no table. */
static char *table_text(lks_store *st, const char *prefix) {
    static char out[65536];
    lks_err err = {0};
    lks_delta_table *t = NULL;
    lks_delta_snapshot *snap = NULL;
    lks_delta_scan *sc = NULL;
    snprintf(out, sizeof out, "(none)");
    if (lks_delta_table_open(st, prefix, &t, &err) != LKS_OK || lks_delta_snapshot_latest(t, &snap, &err) != LKS_OK ||
        lks_delta_scan_open(t, snap, NULL, &sc, &err) != LKS_OK) {
        lks_delta_snapshot_free(snap);
        lks_delta_table_close(t);
        return out;
    }
    char *lines[1024];
    int n = 0;
    const lks_pq_value *row;
    lks_buf b;
    lks_buf_init(&b, 0);
    while (n < 1024 && lks_delta_scan_next(sc, &row, &err) == 1) {
        lks_buf_reset(&b);
        lks_pq_value_to_json(&b, lks_delta_scan_schema(sc), 0, row);
        lks_buf_cstr(&b);
        lines[n++] = strdup((const char *)b.ptr);
    }
    lks_buf_free(&b);
    qsort(lines, (size_t)n, sizeof *lines, cmp_line);
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "", lines[i]);
        free(lines[i]);
        if (len >= sizeof out)
            break;
    }
    lks_delta_scan_free(sc);
    lks_delta_snapshot_free(snap);
    lks_delta_table_close(t);
    return out;
}

static int64_t position(lks_store *st, const char *prefix, const char *stream) {
    lks_err err = {0};
    lks_delta_table *t = NULL;
    lks_delta_snapshot *snap = NULL;
    int64_t v = -2;
    if (lks_delta_table_open(st, prefix, &t, &err) == LKS_OK && lks_delta_snapshot_latest(t, &snap, &err) == LKS_OK)
        v = lks_merge_stream_version(snap, stream);
    lks_delta_snapshot_free(snap);
    lks_delta_table_close(t);
    return v;
}

typedef struct fixture {
    lks_store *raw, *wh;
    lks_delta_table *t;
    lks_merge_rawzone_opts o;
    const char *key[1];
} fixture;

static void fx_open(fixture *f, const char *name) {
    memset(f, 0, sizeof *f);
    lks_err err = {0};
    char path[600];
    snprintf(path, sizeof path, "%s-raw", fresh(name));
    if (lks_store_open(path, &f->raw, &err) != LKS_OK)
        abort();
    snprintf(path, sizeof path, "%s-table", fresh(name));
    if (lks_store_open(path, &f->wh, &err) != LKS_OK || lks_delta_table_open(f->wh, "", &f->t, &err) != LKS_OK)
        abort();
    f->key[0] = "id";
    f->o.merge.key_columns = f->key;
    f->o.merge.nkey_columns = 1;
    f->o.table = f->t;
}

static void fx_close(fixture *f) {
    lks_delta_table_close(f->t);
    lks_store_close(f->raw);
    lks_store_close(f->wh);
}

/* ---- tests ----------------------------------------------------------------------------------- */

/* Positions resume exactly: a second pass reads only the new records. */
static void t_resume(void) {
    fixture f;
    fx_open(&f, "resume");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"), ins(2, "b"), ins(3, "c")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 3, NULL) == LKS_OK);
    const char *b[] = {ins(4, "d"), ev(0, 'u', 1, "a", 1, "a2")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 3, b, 2, NULL) == LKS_OK);
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 5);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 5);
    /* more objects, one of them in a new partition */
    const char *c[] = {ev(1, 'u', 2, "b", 2, "b2"), ev(0, 'd', 3, "c", -1, NULL), ins(5, "e")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 5, c, 3, NULL) == LKS_OK);
    const char *d[] = {ins(6, "f")};
    REQUIRE(put_obj(f.raw, TOPIC, 1, 0, d, 1, NULL) == LKS_OK);
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 4);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 8);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":1"), 1);
    CHECK_EQ_STR(table_text(f.wh, ""),
                 "{\"id\":1,\"name\":\"a2\"} {\"id\":2,\"name\":\"b2\"} {\"id\":4,\"name\":\"d\"} "
                 "{\"id\":5,\"name\":\"e\"} {\"id\":6,\"name\":\"f\"}");
    /* nothing new: nothing read, nothing committed */
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 0);
    CHECK_EQ_INT(st.version, -1);
    /* small batches: every batch commits its own positions */
    const char *e[] = {ins(7, "g"), ins(8, "h"), ins(9, "i"), ins(10, "j"), ins(11, "k")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 8, e, 5, NULL) == LKS_OK);
    f.o.max_batch_events = 2;
    int64_t v0 = -1;
    {
        lks_delta_snapshot *snap = NULL;
        if (lks_delta_snapshot_latest(f.t, &snap, &err) == LKS_OK)
            v0 = snap->version;
        lks_delta_snapshot_free(snap);
    }
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 5);
    CHECK_EQ_INT(st.version, v0 + 3);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 13);
    fx_close(&f);
}

/* An object rewritten by a retrying sink (same start, more lines) is read
 * from where the table stands. */
static void t_rewritten_object(void) {
    fixture f;
    fx_open(&f, "rewrite");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"), ins(2, "b"), ev(0, 'u', 1, "a", 1, "a2"), ins(3, "c"), ev(1, 'u', 2, "b", 2, "b2")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 3, NULL) == LKS_OK);
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 3);
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 5, NULL) == LKS_OK); /* the same object, whole */
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 2);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 5);
    CHECK_EQ_STR(table_text(f.wh, ""),
                 "{\"id\":1,\"name\":\"a2\"} {\"id\":2,\"name\":\"b2\"} {\"id\":3,\"name\":\"c\"}");
    fx_close(&f);
}

/* Malformed records stop the merge naming object and line; batches
 * committed before stay. */
static void t_malformed_stops(void) {
    static const struct {
        const char *what;
        const char *line;
    } bad[] = {
        {"bad JSON", "{\"before\":null,\"after\":{\"id\":9,\"name\":\"x\"},\"op\":\"c\""},
        {"unknown op", "{\"before\":null,\"after\":{\"id\":9,\"name\":\"x\"},\"op\":\"z\"}"},
        {"missing key", "{\"before\":null,\"after\":{\"name\":\"x\"},\"op\":\"c\"}"},
        {"null key", "{\"before\":null,\"after\":{\"id\":null,\"name\":\"x\"},\"op\":\"c\"}"},
        {"wrong type", "{\"before\":null,\"after\":{\"id\":\"nine\",\"name\":\"x\"},\"op\":\"c\"}"},
        {"no after image", "{\"before\":null,\"after\":null,\"op\":\"u\"}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fixture f;
        fx_open(&f, "malformed");
        lks_err err = {0};
        const char *a[] = {ins(1, "a"), ins(2, "b")};
        REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 2, NULL) == LKS_OK);
        lks_merge_stats st;
        CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err); /* the table exists: id is an integer */
        const char *b[] = {ins(3, "c"), bad[i].line, ins(4, "d")};
        REQUIRE(put_obj(f.raw, TOPIC, 0, 2, b, 3, NULL) == LKS_OK);
        f.o.max_batch_events = 1;
        int rc = lks_merge_rawzone(f.raw, &f.o, &st, &err);
        if (rc != LKS_ECORRUPT && rc != LKS_EINVAL)
            FAILF("%s: rc %d (%s)", bad[i].what, rc, err.msg);
        if (!strstr(err.msg, "partition=0/" TOPIC "+0+0000000002.json line 2"))
            FAILF("%s: message does not name object and line: %s", bad[i].what, err.msg);
        /* the record before it was committed, nothing after it */
        CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 3);
        CHECK_EQ_STR(table_text(f.wh, ""),
                     "{\"id\":1,\"name\":\"a\"} {\"id\":2,\"name\":\"b\"} {\"id\":3,\"name\":\"c\"}");
        /* it stops there again */
        f.o.max_batch_events = 0;
        CHECK(lks_merge_rawzone(f.raw, &f.o, &st, &err) < 0);
        CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 3);
        fx_close(&f);
    }
}

/* With a dead-letter prefix, undecodable records are written there and the
 * merge goes on past them. */
static void t_dead_letter(void) {
    fixture f;
    fx_open(&f, "deadletter");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"), "{\"op\":\"c\",\"after\":{\"id\":tru", ins(2, "b"),
                       "{\"before\":null,\"after\":{\"name\":\"no id\"},\"op\":\"c\"}", ins(3, "c")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 5, NULL) == LKS_OK);
    f.o.dead_letter = "dead/letters/";
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 3);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 5);
    CHECK_EQ_STR(table_text(f.wh, ""), "{\"id\":1,\"name\":\"a\"} {\"id\":2,\"name\":\"b\"} {\"id\":3,\"name\":\"c\"}");
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(f.raw, "dead/letters/" TOPIC "+0+0000000001.json", &b, &err), &err);
    lks_buf_cstr(&b);
    CHECK(b.ptr && strstr((const char *)b.ptr, "\"offset\":1"));
    CHECK(b.ptr && strstr((const char *)b.ptr, "\"line\":2"));
    CHECK(b.ptr && strstr((const char *)b.ptr, "\"value\":\"{\\\"op\\\":\\\"c\\\",\\\"after\\\":{\\\"id\\\":tru\""));
    lks_buf_reset(&b);
    CHECK_OK(lks_store_get(f.raw, "dead/letters/" TOPIC "+0+0000000003.json", &b, &err), &err);
    lks_buf_cstr(&b);
    CHECK(b.ptr && strstr((const char *)b.ptr, "\"error\":") && strstr((const char *)b.ptr, "id"));
    lks_buf_free(&b);
    /* a second pass does not see them again */
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 0);
    CHECK_EQ_INT(st.version, -1);
    fx_close(&f);
}

/* Tombstones and records that are no row change move the position only. */
static void t_tombstones(void) {
    fixture f;
    fx_open(&f, "tombstones");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"),
                       ev(1, 'd', 1, "a", -1, NULL),
                       "null",
                       ins(2, "b"),
                       "{\"status\":\"END\",\"id\":\"571:53195832\",\"event_count\":2,\"data_collections\":[]}",
                       ev(0, 'd', 2, "b", -1, NULL),
                       "null",
                       ins(3, "c"),
                       "null"};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 9, NULL) == LKS_OK);
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 5);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 9);
    CHECK_EQ_STR(table_text(f.wh, ""), "{\"id\":3,\"name\":\"c\"}");
    /* only tombstones after it: the position moves, the rows do not */
    const char *b[] = {"null", ""};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 9, b, 1, NULL) == LKS_OK);
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(position(f.wh, "", TOPIC ":0"), 10);
    CHECK_EQ_STR(table_text(f.wh, ""), "{\"id\":3,\"name\":\"c\"}");
    fx_close(&f);
}

/* Events with and without the envelope mix in one topic (the table created
 * from either). */
static void t_mixed_envelope(void) {
    for (int first = 0; first < 2; first++) {
        fixture f;
        fx_open(&f, "mixed");
        lks_err err = {0};
        const char *a[] = {ev(first, 'r', -1, NULL, 1, "a"), ev(!first, 'r', -1, NULL, 2, "b"),
                           ev(first, 'c', -1, NULL, 3, "c"), ev(!first, 'u', 1, "a", 1, "a2"),
                           ev(first, 'u', 2, "b", 20, "b2"), ev(!first, 'd', 3, "c", -1, NULL),
                           ev(first, 'c', -1, NULL, 3, "c3")};
        REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 4, NULL) == LKS_OK);
        REQUIRE(put_obj(f.raw, TOPIC, 0, 4, a + 4, 3, NULL) == LKS_OK);
        lks_merge_stats st;
        f.o.max_batch_events = 3;
        CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
        CHECK_EQ_INT(st.events, 7);
        CHECK_EQ_STR(table_text(f.wh, ""),
                     "{\"id\":1,\"name\":\"a2\"} {\"id\":20,\"name\":\"b2\"} {\"id\":3,\"name\":\"c3\"}");
        fx_close(&f);
    }
}

/* The warehouse maps topics <prefix>.<db>.<table> to <db>/<table>. */
static void t_warehouse(void) {
    fixture f;
    fx_open(&f, "warehouse");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"), ins(2, "b")};
    const char *b[] = {ins(10, "x"), ev(0, 'u', 10, "x", 10, "y"), ins(11, "z")};
    const char *c[] = {ins(99, "no table")};
    REQUIRE(put_obj(f.raw, "shop.sales.orders", 0, 0, a, 2, NULL) == LKS_OK);
    REQUIRE(put_obj(f.raw, "shop.stock.levels", 0, 0, b, 3, NULL) == LKS_OK);
    REQUIRE(put_obj(f.raw, "shop", 0, 0, c, 1, NULL) == LKS_OK); /* not <prefix>.<db>.<table>: skipped */
    f.o.table = NULL;
    f.o.warehouse = f.wh;
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 5);
    CHECK_EQ_STR(table_text(f.wh, "sales/orders"), "{\"id\":1,\"name\":\"a\"} {\"id\":2,\"name\":\"b\"}");
    CHECK_EQ_STR(table_text(f.wh, "stock/levels"), "{\"id\":10,\"name\":\"y\"} {\"id\":11,\"name\":\"z\"}");
    CHECK_EQ_INT(position(f.wh, "sales/orders", "shop.sales.orders:0"), 2);
    CHECK_EQ_INT(position(f.wh, "stock/levels", "shop.stock.levels:0"), 3);
    /* one topic picked */
    const char *d[] = {ins(3, "c")};
    const char *e[] = {ins(12, "w")};
    REQUIRE(put_obj(f.raw, "shop.sales.orders", 0, 2, d, 1, NULL) == LKS_OK);
    REQUIRE(put_obj(f.raw, "shop.stock.levels", 0, 3, e, 1, NULL) == LKS_OK);
    f.o.topic = "shop.stock.levels";
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 1);
    CHECK_EQ_INT(position(f.wh, "sales/orders", "shop.sales.orders:0"), 2);
    CHECK_EQ_INT(position(f.wh, "stock/levels", "shop.stock.levels:0"), 4);
    /* one table and several topics: refused */
    f.o.topic = NULL;
    f.o.warehouse = NULL;
    f.o.table = f.t;
    CHECK_EQ_INT(lks_merge_rawzone(f.raw, &f.o, &st, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "topics") != NULL);
    fx_close(&f);
}

/* Without key columns given, the stored Kafka keys name them (and the table
 * remembers them). */
static void t_kafka_keys(void) {
    fixture f;
    fx_open(&f, "kafkakeys");
    lks_err err = {0};
    f.o.merge.nkey_columns = 0;
    f.o.merge.key_columns = NULL;
    const char *v[] = {"null", ins(1, "a"), ins(2, "b"), ev(0, 'u', 1, "a", 1, "a2")};
    const char *k[] = {"{\"id\":7}",
                       "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                       "\"field\":\"id\"}],\"optional\":false,\"name\":\"k\"},\"payload\":{\"id\":1}}",
                       "{\"id\":2}", "{\"id\":1}"};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, v, 4, k) == LKS_OK);
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 3);
    CHECK_EQ_STR(table_text(f.wh, ""), "{\"id\":1,\"name\":\"a2\"} {\"id\":2,\"name\":\"b\"}");
    /* a later pass without keys stored: the table's lakesync.primaryKey */
    const char *w[] = {ev(1, 'u', 2, "b", 2, "b2")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 4, w, 1, NULL) == LKS_OK);
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_STR(table_text(f.wh, ""), "{\"id\":1,\"name\":\"a2\"} {\"id\":2,\"name\":\"b2\"}");
    /* no keys anywhere: a clear error even with a dead-letter prefix */
    fixture g;
    fx_open(&g, "nokeys");
    g.o.merge.nkey_columns = 0;
    g.o.merge.key_columns = NULL;
    g.o.dead_letter = "dlq";
    REQUIRE(put_obj(g.raw, TOPIC, 0, 0, v + 1, 1, NULL) == LKS_OK);
    CHECK(lks_merge_rawzone(g.raw, &g.o, &st, &err) < 0);
    CHECK(strstr(err.msg, "primary key") != NULL);
    fx_close(&g);
    fx_close(&f);
}

/* The stop flag ends the pass after committing what was read. */
static void t_stop(void) {
    fixture f;
    fx_open(&f, "stop");
    lks_err err = {0};
    const char *a[] = {ins(1, "a"), ins(2, "b"), ins(3, "c")};
    REQUIRE(put_obj(f.raw, TOPIC, 0, 0, a, 3, NULL) == LKS_OK);
    volatile sig_atomic_t stop = 1;
    f.o.stop = &stop;
    lks_merge_stats st;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 0);
    stop = 0;
    CHECK_OK(lks_merge_rawzone(f.raw, &f.o, &st, &err), &err);
    CHECK_EQ_INT(st.events, 3);
    fx_close(&f);
}

int main(void) {
    RUN(t_resume);
    RUN(t_rewritten_object);
    RUN(t_malformed_stops);
    RUN(t_dead_letter);
    RUN(t_tombstones);
    RUN(t_mixed_envelope);
    RUN(t_warehouse);
    RUN(t_kafka_keys);
    RUN(t_stop);
    cleanup();
    return lks_test_done();
}
