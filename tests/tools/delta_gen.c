/*
 * delta_gen.c — Delta tables written by lakesync for tests/scenario/delta_duckdb.sh.
 *
 *   delta_gen build DIR
 *       writes two tables:
 *       DIR/plain (protocol 1/2, partitioned by `part` string with a null
 *         and a unicode value): v0 create + append, v1 append, v2 a
 *         rewrite-delete (one file removed, a rewritten copy without the
 *         ids divisible by 3 added), v3 append, v4 overwrite, v5 append;
 *         columns of many types (long, unicode strings with nulls,
 *         decimal(12,3), decimal(25,5), timestamp, date, double, boolean,
 *         integer);
 *       DIR/dv (protocol 3/7 with deletionVectors, delta.enableDeletionVectors):
 *         v0 create + append, v1 inline DV, v2 append, v3 file DVs on two
 *         files, v4 every row of a file deleted, then a checkpoint, v5 more
 *         rows of a file with a DV from the checkpoint, v6 append.
 *       Prints "<table> <latest version>" per table.
 *   delta_gen dump TABLE OUTDIR
 *       for every version N of the table writes OUTDIR/vN.lakesync.jsonl
 *       (the scan's rows, as `lakesync table scan --version N --format
 *       jsonl` prints them) and OUTDIR/vN.files.json:
 *         {"columns":[{"name":..,"type":<Delta type>,"partition":bool},..],
 *          "files":[{"path":<absolute>,"partitionValues":{..},
 *                    "deleted":[row indexes of its deletion vector]},..]}
 *       and prints the latest version.
 *
 * Rows are a function of their id (make_row), so a rewrite regenerates
 * rows from the ids read back.  Prints one diagnostic line on failure;
 * exit status 0 on success.
 */
#include "delta/delta_int.h"
#include "tools/delta_validate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *PLAIN_SCHEMA =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d\",\"type\":\"decimal(12,3)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"big\",\"type\":\"decimal(25,5)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"f\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"flag\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}}]}";
#define PLAIN_NCOLS 10
#define PLAIN_PART 5

static const char *DV_SCHEMA = "{\"type\":\"struct\",\"fields\":["
                               "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                               "{\"name\":\"v\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                               "{\"name\":\"amount\",\"type\":\"decimal(9,2)\",\"nullable\":true,\"metadata\":{}},"
                               "{\"name\":\"part\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
#define DV_NCOLS 4
#define DV_PART 3

static const char *PARTCOLS[] = {"part"};
static const char *DV_FEATURES[] = {"deletionVectors"};

static int die(const char *what, const lks_err *err) {
    fprintf(stderr, "delta_gen: %s: %s\n", what, err ? err->msg : "");
    return 1;
}

/* ---- rows ------------------------------------------------------------------------- */

static lks_pq_value v_null(void) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    return v;
}
static lks_pq_value v_str(const char *s) {
    lks_pq_value v = v_null();
    if (!s) return v;
    v.kind = LKS_PQ_V_BYTES;
    v.u.bytes.ptr = (const uint8_t *)s;
    v.u.bytes.len = strlen(s);
    return v;
}
static lks_pq_value v_i64(int64_t x) {
    lks_pq_value v = v_null();
    v.kind = LKS_PQ_V_INT64;
    v.u.i64 = x;
    return v;
}
static lks_pq_value v_i32(int32_t x) {
    lks_pq_value v = v_null();
    v.kind = LKS_PQ_V_INT32;
    v.u.i32 = x;
    return v;
}

static const char *plain_part(int64_t id) {
    static const char *parts[] = {"a", "\xc3\xbc x", NULL}; /* "ü x", null */
    return parts[id % 3];
}

/* Row `id` of the plain table. */
static lks_pq_value plain_row(lks_arena *a, int64_t id) {
    lks_pq_value r = v_null();
    r.kind = LKS_PQ_V_GROUP;
    r.u.list.n = PLAIN_NCOLS;
    r.u.list.items = lks_arena_alloc(a, PLAIN_NCOLS * sizeof(lks_pq_value));
    lks_pq_value *it = r.u.list.items;
    for (int i = 0; i < PLAIN_NCOLS; i++) it[i] = v_null();
    it[0] = v_i64(id);
    static const char *words[] = {"plain", "n\xc3\xa9v \xe2\x82\xac", "\xf0\x9f\x98\x80 emoji",
                                  "quote \" back\\slash\nnewline", "\xe4\xb8\xad\xe6\x96\x87", ""};
    if (id % 7 != 0) it[1] = v_str(lks_arena_printf(a, "%s-%" PRId64, words[id % 6], id));
    if (id % 9 != 0) it[2] = v_i64(id * 1237 - 50000); /* decimal(12,3) → INT64 */
    if (id % 4 != 1) { /* decimal(25,5): FIXED_LEN_BYTE_ARRAY(11) */
        __int128 u = (__int128)id * 100000000000000000LL + id;
        if (id % 2) u = -u;
        uint8_t *b = lks_arena_alloc(a, 11);
        for (int k = 10; k >= 0; k--) {
            b[k] = (uint8_t)(u & 0xff);
            u >>= 8;
        }
        it[3].kind = LKS_PQ_V_BYTES;
        it[3].u.bytes.ptr = b;
        it[3].u.bytes.len = 11;
    }
    it[4] = v_i64(id % 5 == 0 ? -id * 1000003 : INT64_C(1700000000000000) + id * 1234567);
    it[PLAIN_PART] = v_str(plain_part(id));
    if (id % 13 != 0) it[6] = v_i32((int32_t)(19000 + id % 400 - (id % 2) * 30000));
    it[7].kind = LKS_PQ_V_DOUBLE;
    it[7].u.f64 = (double)id / 8 - 3;
    if (id % 10 != 3) {
        it[8].kind = LKS_PQ_V_BOOL;
        it[8].u.b = (int)(id % 2);
    }
    if (id % 6 != 5) it[9] = v_i32((int32_t)(id * 7919 % 100003 - 50000));
    return r;
}

static lks_pq_value dv_row(lks_arena *a, int64_t id) {
    lks_pq_value r = v_null();
    r.kind = LKS_PQ_V_GROUP;
    r.u.list.n = DV_NCOLS;
    r.u.list.items = lks_arena_alloc(a, DV_NCOLS * sizeof(lks_pq_value));
    lks_pq_value *it = r.u.list.items;
    for (int i = 0; i < DV_NCOLS; i++) it[i] = v_null();
    it[0] = v_i64(id);
    if (id % 5 != 2) it[1] = v_str(lks_arena_printf(a, "v\xc3\xa4-%" PRId64, id));
    if (id % 8 != 7) it[2] = v_i32((int32_t)(id * 31 - 1000));
    it[DV_PART] = v_str(id % 2 ? "odd" : "even");
    return r;
}

typedef lks_pq_value row_fn(lks_arena *a, int64_t id);

/* ---- table operations ----------------------------------------------------------------- */

typedef struct tbl {
    lks_store *st;
    lks_delta_table *t;
    row_fn *row;
} tbl;

static int tbl_open(tbl *tb, const char *dir, row_fn *row, lks_err *err) {
    memset(tb, 0, sizeof *tb);
    tb->row = row;
    mkdir(dir, 0777);
    int rc = lks_store_open(dir, &tb->st, err);
    if (!rc) rc = lks_delta_table_open(tb->st, "", &tb->t, err);
    return rc;
}

static void tbl_close(tbl *tb) {
    lks_delta_table_close(tb->t);
    lks_store_close(tb->st);
}

/* Writes rows of ids [first, first+n) into the transaction. */
static int write_ids(tbl *tb, lks_delta_txn *x, const lks_delta_metadata *m, const int64_t *ids, size_t n,
                     lks_err *err) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_writer *w = NULL;
    int rc = lks_delta_writer_open(x, m, NULL, &w, err);
    for (size_t i = 0; i < n && !rc; i++) {
        lks_pq_value r = tb->row(&a, ids[i]);
        rc = lks_delta_writer_write(w, &r, err);
    }
    if (!rc) rc = lks_delta_writer_close(w, err);
    lks_delta_writer_free(w);
    lks_arena_free(&a);
    return rc;
}

static int64_t *range(int64_t first, size_t n) {
    int64_t *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++) v[i] = first + (int64_t)i;
    return v;
}

static int create(tbl *tb, const char *schema, int dv, int64_t first, size_t n, lks_err *err) {
    lks_delta_txn *x = NULL;
    int rc = lks_delta_txn_begin(tb->t, NULL, "CREATE TABLE", &x, err);
    if (rc) return rc;
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    if (dv) p = (lks_delta_protocol){3, 7, DV_FEATURES, 1, DV_FEATURES, 1};
    lks_delta_kv cfg = {"delta.enableDeletionVectors", "true"};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = schema;
    m.partition_columns = PARTCOLS;
    m.npartition_columns = 1;
    m.configuration = dv ? &cfg : NULL;
    m.nconfiguration = dv ? 1 : 0;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    rc = lks_delta_txn_set_metadata(x, &m);
    if (rc) rc = lks_err_set(err, rc, "set metadata");
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_metadata pm = m;
    if (!rc) rc = lks_delta_schema_parse(schema, strlen(schema), &a, &pm.schema, err);
    int64_t *ids = range(first, n);
    if (!rc) rc = write_ids(tb, x, &pm, ids, n, err);
    int64_t v;
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    free(ids);
    lks_arena_free(&a);
    lks_delta_txn_free(x);
    return rc;
}

static int append(tbl *tb, int64_t first, size_t n, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(tb->t, &s, err);
    lks_delta_txn *x = NULL;
    int64_t *ids = range(first, n), v;
    if (!rc) rc = lks_delta_txn_begin(tb->t, s, "WRITE", &x, err);
    if (!rc) rc = lks_delta_txn_set_param(x, "mode", "\"Append\"");
    if (!rc) rc = write_ids(tb, x, &s->metadata, ids, n, err);
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    free(ids);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

static void fill_remove(lks_delta_remove *r, const lks_delta_add *a) {
    memset(r, 0, sizeof *r);
    r->path = a->path;
    r->deletion_timestamp = -1;
    r->data_change = 1;
    r->extended_file_metadata = 1;
    r->partition_values = a->partition_values;
    r->npartition_values = a->npartition_values;
    r->size = a->size;
    r->dv = a->dv;
    r->has_dv = a->has_dv;
}

typedef struct idlist {
    int64_t *v;
    size_t n, cap;
} idlist;

static int push_id(idlist *l, int64_t id) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        int64_t *p = realloc(l->v, nc * sizeof *p);
        if (!p) return LKS_ENOMEM;
        l->v = p;
        l->cap = nc;
    }
    l->v[l->n++] = id;
    return LKS_OK;
}

static int collect_id(void *ud, const lks_pq_value *row, lks_err *err) {
    (void)err;
    return push_id(ud, row->u.list.items[0].u.i64);
}

/* The ids of a data file, in file order. */
static int file_ids(tbl *tb, const lks_delta_snapshot *s, const lks_delta_add *a, idlist *out, lks_err *err) {
    lks_arena ar;
    lks_arena_init(&ar, 0);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_pq_schema *rs = NULL;
    const char *key = lks_delta_table_key(tb->t, a->path, &ar);
    int rc = key ? lks_store_get(tb->st, key, &b, err) : LKS_ENOMEM;
    if (!rc) rc = lks_delta_schema_to_parquet(s->metadata.schema, 0, &rs, err);
    lks_pq_source src;
    if (!rc) rc = lks_pq_source_mem(&src, b.ptr, b.len, key);
    if (!rc) rc = lks_delta_read_parquet_as(s->metadata.schema, rs, &src, collect_id, out, err);
    lks_pq_schema_free(rs);
    lks_buf_free(&b);
    lks_arena_free(&ar);
    return rc;
}

/* Removes the live file holding id `which` and adds a rewritten copy
 * without the ids divisible by 3. */
static int rewrite_delete(tbl *tb, int64_t which, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(tb->t, &s, err);
    lks_delta_txn *x = NULL;
    idlist ids = {0}, keep = {0};
    const lks_delta_add *victim = NULL;
    for (size_t i = 0; !rc && i < s->nfiles && !victim; i++) {
        ids.n = 0;
        rc = file_ids(tb, s, &s->files[i], &ids, err);
        for (size_t k = 0; !rc && k < ids.n; k++)
            if (ids.v[k] == which) victim = &s->files[i];
    }
    if (!rc && !victim) rc = lks_err_set(err, LKS_ENOTFOUND, "no file holds id %" PRId64, which);
    for (size_t k = 0; !rc && k < ids.n; k++)
        if (ids.v[k] % 3 != 0 && push_id(&keep, ids.v[k])) rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    if (!rc) rc = lks_delta_txn_begin(tb->t, s, "DELETE", &x, err);
    if (!rc) rc = lks_delta_txn_read_file(x, victim->path);
    lks_delta_remove r;
    if (!rc) {
        fill_remove(&r, victim);
        rc = lks_delta_txn_remove(x, &r);
    }
    if (!rc) rc = write_ids(tb, x, &s->metadata, keep.v, keep.n, err);
    int64_t v;
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    free(ids.v);
    free(keep.v);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

static int overwrite(tbl *tb, int64_t first, size_t n, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(tb->t, &s, err);
    lks_delta_txn *x = NULL;
    int64_t *ids = range(first, n), v;
    if (!rc) rc = lks_delta_txn_begin(tb->t, s, "WRITE", &x, err);
    if (!rc) rc = lks_delta_txn_set_param(x, "mode", "\"Overwrite\"");
    if (!rc) rc = lks_delta_txn_read_all(x);
    for (size_t i = 0; !rc && i < s->nfiles; i++) {
        lks_delta_remove r;
        fill_remove(&r, &s->files[i]);
        rc = lks_delta_txn_remove(x, &r);
    }
    if (!rc) rc = write_ids(tb, x, &s->metadata, ids, n, err);
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    free(ids);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

/* Deletes, by DV, the rows whose id satisfies keep(id) == 0 from the live
 * file holding id `which` (rows located by reading the file's ids). */
static int dv_delete(tbl *tb, int64_t which, int (*del)(int64_t id), lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_latest(tb->t, &s, err);
    idlist ids = {0};
    const lks_delta_add *victim = NULL;
    for (size_t i = 0; !rc && i < s->nfiles && !victim; i++) {
        ids.n = 0;
        rc = file_ids(tb, s, &s->files[i], &ids, err);
        for (size_t k = 0; !rc && k < ids.n; k++)
            if (ids.v[k] == which) victim = &s->files[i];
    }
    if (!rc && !victim) rc = lks_err_set(err, LKS_ENOTFOUND, "no file holds id %" PRId64, which);
    uint64_t *rows = malloc((ids.n + 1) * sizeof *rows);
    size_t nrows = 0;
    for (size_t k = 0; !rc && rows && k < ids.n; k++)
        if (del(ids.v[k])) rows[nrows++] = k;
    lks_delta_txn *x = NULL;
    int64_t v;
    if (!rc) rc = lks_delta_txn_begin(tb->t, s, "DELETE", &x, err);
    if (!rc) rc = lks_delta_txn_delete_rows(x, victim, rows, nrows, err);
    if (!rc) rc = lks_delta_txn_commit(x, 0, &v, err);
    free(rows);
    free(ids.v);
    lks_delta_txn_free(x);
    lks_delta_snapshot_free(s);
    return rc;
}

static int del_few(int64_t id) { return id == 4 || id == 10 || id == 11; }
static int del_every3(int64_t id) { return id % 3 == 1; }
static int del_every5(int64_t id) { return id % 5 == 0 || id % 7 == 0; }
static int del_all(int64_t id) { return (void)id, 1; }
static int del_more(int64_t id) { return id % 4 == 2; }

static int build_plain(const char *dir, lks_err *err) {
    tbl tb;
    int rc = tbl_open(&tb, dir, plain_row, err);
    if (!rc) rc = create(&tb, PLAIN_SCHEMA, 0, 0, 60, err); /* v0 */
    if (!rc) rc = append(&tb, 60, 45, err);                  /* v1 */
    if (!rc) rc = rewrite_delete(&tb, 61, err);              /* v2 */
    if (!rc) rc = append(&tb, 105, 30, err);                 /* v3 */
    if (!rc) rc = overwrite(&tb, 1000, 40, err);             /* v4 */
    if (!rc) rc = append(&tb, 1040, 25, err);                /* v5 */
    tbl_close(&tb);
    return rc;
}

static int build_dv(const char *dir, lks_err *err) {
    tbl tb;
    int rc = tbl_open(&tb, dir, dv_row, err);
    if (!rc) rc = create(&tb, DV_SCHEMA, 1, 0, 400, err); /* v0: even, odd */
    if (!rc) rc = dv_delete(&tb, 4, del_few, err);       /* v1: inline */
    if (!rc) rc = append(&tb, 400, 300, err);             /* v2 */
    if (!rc) rc = dv_delete(&tb, 1, del_every3, err);     /* v3: file DV */
    if (!rc) rc = dv_delete(&tb, 400, del_every5, err);   /* v4: file DV, partition "even" of v2 */
    if (!rc) rc = dv_delete(&tb, 401, del_all, err);      /* v5: the file is removed */
    lks_delta_snapshot *s = NULL;
    if (!rc) rc = lks_delta_snapshot_latest(tb.t, &s, err);
    if (!rc) rc = lks_delta_checkpoint_write(tb.t, s, err);
    lks_delta_snapshot_free(s);
    if (!rc) rc = dv_delete(&tb, 4, del_more, err); /* v6: on top of the inline DV from the checkpoint */
    if (!rc) rc = append(&tb, 700, 50, err);         /* v7 */
    tbl_close(&tb);
    return rc;
}

/* ---- dump ------------------------------------------------------------------------------ */

static const char *type_name(const lks_delta_type *t, char *buf, size_t cap) {
    static const char *names[] = {"?", "string", "long", "integer", "short", "byte", "float", "double", "decimal",
                                  "boolean", "binary", "date", "timestamp", "timestamp_ntz", "void", "struct",
                                  "array", "map"};
    if (t->kind == LKS_DT_DECIMAL) {
        snprintf(buf, cap, "decimal(%d,%d)", t->precision, t->scale);
        return buf;
    }
    return t->kind > 0 && t->kind <= LKS_DT_MAP ? names[t->kind] : "?";
}

static int dump_version(lks_delta_table *t, const char *root, int64_t v, const char *out, lks_err *err) {
    lks_delta_snapshot *s = NULL;
    int rc = lks_delta_snapshot_at_version(t, v, &s, err);
    if (rc) return rc;
    char path[4096];
    /* (a) the rows */
    snprintf(path, sizeof path, "%s/v%" PRId64 ".lakesync.jsonl", out, v);
    FILE *f = fopen(path, "w");
    lks_delta_scan *sc = NULL;
    if (!f) rc = lks_err_set(err, LKS_EIO, "cannot write %s", path);
    if (!rc) rc = lks_delta_scan_open(t, s, NULL, &sc, err);
    lks_buf b;
    lks_buf_init(&b, 0);
    while (!rc) {
        const lks_pq_value *row;
        int more = lks_delta_scan_next(sc, &row, err);
        if (more < 0) rc = more;
        if (more <= 0) break;
        lks_buf_reset(&b);
        rc = lks_pq_value_to_json(&b, lks_delta_scan_schema(sc), 0, row);
        if (!rc) rc = lks_buf_append_byte(&b, '\n');
        if (!rc && fwrite(b.ptr, 1, b.len, f) != b.len) rc = lks_err_set(err, LKS_EIO, "writing %s", path);
    }
    lks_delta_scan_free(sc);
    if (f && fclose(f) != 0 && !rc) rc = lks_err_set(err, LKS_EIO, "writing %s", path);
    /* (b) the live files and their deleted row indexes */
    json_t *cols = json_array(), *files = json_array();
    const lks_delta_type *root_t = s->metadata.schema;
    for (int i = 0; !rc && i < root_t->nchildren; i++) {
        const lks_delta_type *c = &root_t->children[i];
        int part = 0;
        for (int k = 0; k < s->metadata.npartition_columns; k++)
            part |= strcmp(s->metadata.partition_columns[k], c->name) == 0;
        char tb[64];
        json_array_append_new(cols, json_pack("{s:s,s:s,s:b}", "name", c->name, "type", type_name(c, tb, sizeof tb),
                                              "partition", part));
    }
    lks_arena a;
    lks_arena_init(&a, 0);
    for (size_t i = 0; !rc && i < s->nfiles; i++) {
        const lks_delta_add *ad = &s->files[i];
        json_t *pv = json_object(), *del = json_array();
        for (int k = 0; k < ad->npartition_values; k++)
            json_object_set_new(pv, ad->partition_values[k].key,
                                ad->partition_values[k].value ? json_string(ad->partition_values[k].value)
                                                              : json_null());
        if (ad->has_dv) {
            lks_delta_rowset *rs = NULL;
            rc = lks_delta_dv_load(t, &ad->dv, &rs, err);
            uint64_t n = lks_delta_rowset_cardinality(rs);
            uint64_t *rows = rc ? NULL : malloc((size_t)(n + 1) * sizeof *rows);
            if (!rc && (!rows || lks_delta_rowset_rows(rs, rows)))
                rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            for (uint64_t k = 0; !rc && k < n; k++) json_array_append_new(del, json_integer((json_int_t)rows[k]));
            free(rows);
            lks_delta_rowset_free(rs);
        }
        const char *key = lks_delta_table_key(t, ad->path, &a);
        json_array_append_new(files, json_pack("{s:s,s:o,s:o}", "path", lks_arena_printf(&a, "%s/%s", root, key),
                                               "partitionValues", pv, "deleted", del));
    }
    lks_arena_free(&a);
    json_t *man = json_pack("{s:o,s:o}", "columns", cols, "files", files);
    snprintf(path, sizeof path, "%s/v%" PRId64 ".files.json", out, v);
    if (!rc && json_dump_file(man, path, JSON_COMPACT) != 0) rc = lks_err_set(err, LKS_EIO, "writing %s", path);
    json_decref(man);
    lks_buf_free(&b);
    lks_delta_snapshot_free(s);
    return rc;
}

static int dump(const char *dir, const char *out, lks_err *err) {
    tbl tb;
    int rc = tbl_open(&tb, dir, NULL, err);
    lks_delta_snapshot *s = NULL;
    if (!rc) rc = lks_delta_snapshot_latest(tb.t, &s, err);
    int64_t latest = s ? s->version : -1;
    lks_delta_snapshot_free(s);
    mkdir(out, 0777);
    for (int64_t v = 0; !rc && v <= latest; v++) rc = dump_version(tb.t, dir, v, out, err);
    if (!rc) printf("%" PRId64 "\n", latest);
    tbl_close(&tb);
    return rc;
}

int main(int argc, char **argv) {
    lks_err err;
    lks_err_clear(&err);
    if (argc == 3 && strcmp(argv[1], "build") == 0) {
        char p[4096], msg[2048];
        mkdir(argv[2], 0777);
        snprintf(p, sizeof p, "%s/plain", argv[2]);
        if (build_plain(p, &err)) return die(p, &err);
        if (lks_delta_validate(p, msg, sizeof msg)) {
            fprintf(stderr, "delta_gen: %s: log validator: %s\n", p, msg);
            return 1;
        }
        printf("plain\n");
        snprintf(p, sizeof p, "%s/dv", argv[2]);
        if (build_dv(p, &err)) return die(p, &err);
        if (lks_delta_validate(p, msg, sizeof msg)) {
            fprintf(stderr, "delta_gen: %s: log validator: %s\n", p, msg);
            return 1;
        }
        printf("dv\n");
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "dump") == 0) return dump(argv[2], argv[3], &err) ? die(argv[2], &err) : 0;
    fprintf(stderr, "usage: delta_gen build DIR | delta_gen dump TABLE OUTDIR\n");
    return 2;
}
