/* test_parquet_rw.c — the Parquet writer and reader together, in memory:
 * every physical and logical type, nested value trees, statistics,
 * encodings, page and row-group limits, codecs, key/value metadata, bloom
 * filters, projection, writer errors, empty and large files. */
#include "harness.h"
#include "parquet/encoding.h"
#include "parquet/bloom.h"
#include "parquet/parquet.h"

#include <float.h>
#include <math.h>

/* ---- field builders ------------------------------------------------------- */

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))
enum { REQ = LKS_PQ_REQUIRED, OPT = LKS_PQ_OPTIONAL, REP = LKS_PQ_REPEATED };

static lks_pq_field G(const char *name, int rep, int nc) {
    lks_pq_field f = {name, rep, -1, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, nc};
    return f;
}
static lks_pq_field L(const char *name, int rep, int type) {
    lks_pq_field f = {name, rep, type, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, 0};
    return f;
}
static lks_pq_field LT(const char *name, int rep, int type, int len, lks_pq_logical lt) {
    lks_pq_field f = {name, rep, type, len, lt, -1, 0};
    return f;
}
static lks_pq_logical INTEGER(int bw, int is_signed) {
    lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_INTEGER);
    lt.bit_width = (uint8_t)bw;
    lt.is_signed = (uint8_t)is_signed;
    return lt;
}
/* Constant forms for static schemas. */
#define SG(name, rep, nc)                                                                                              \
    { name, rep, -1, 0, {0}, -1, nc }
#define SGL(name, rep, nc, lk)                                                                                         \
    { name, rep, -1, 0, {.kind = lk}, -1, nc }
#define SLF(name, rep, type)                                                                                           \
    { name, rep, type, 0, {0}, -1, 0 }
#define SLT(name, rep, type, lk)                                                                                       \
    { name, rep, type, 0, {.kind = lk}, -1, 0 }
#define NONE lks_pq_lt(LKS_PQ_LT_NONE)
#define STRING lks_pq_lt(LKS_PQ_LT_STRING)

/* ---- value builders -------------------------------------------------------- */

static lks_pq_value VI32(int32_t x) {
    lks_pq_value v = {.kind = LKS_PQ_V_INT32, .u.i32 = x};
    return v;
}
static lks_pq_value VI64(int64_t x) {
    lks_pq_value v = {.kind = LKS_PQ_V_INT64, .u.i64 = x};
    return v;
}
static lks_pq_value VD(double x) {
    lks_pq_value v = {.kind = LKS_PQ_V_DOUBLE, .u.f64 = x};
    return v;
}
static lks_pq_value VB(const void *p, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_BYTES};
    v.u.bytes.ptr = p;
    v.u.bytes.len = n;
    return v;
}
static lks_pq_value VS(const char *s) { return VB(s, strlen(s)); }
static lks_pq_value VG(lks_pq_value *items, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_GROUP};
    v.u.list.items = items;
    v.u.list.n = n;
    return v;
}
static lks_pq_value VR(lks_pq_value *items, size_t n) {
    lks_pq_value v = {.kind = LKS_PQ_V_REPEATED};
    v.u.list.items = items;
    v.u.list.n = n;
    return v;
}
static const lks_pq_value VNULL = {.kind = LKS_PQ_V_NULL};

static lks_slice SL(const void *p, size_t n) {
    lks_slice s = {p, n};
    return s;
}
static lks_slice SLS(const char *s) { return SL(s, strlen(s)); }

/* ---- an in-memory file: writer into a buffer, reader over it ----------------- */

typedef struct pqfile {
    lks_pq_schema *s;
    lks_pq_writer *w;
    lks_buf out;
    lks_pq_source src;
    lks_pq_reader *r;
    lks_err err;
} pqfile;

/* Builds the schema and opens a writer (o NULL: defaults). */
static int pf_open(pqfile *f, const lks_pq_field *fields, int n, const lks_pq_writer_opts *o) {
    memset(f, 0, sizeof *f);
    lks_err_clear(&f->err);
    lks_buf_init(&f->out, 0);
    int rc = lks_pq_schema_build(fields, n, &f->s, &f->err);
    if (rc != LKS_OK)
        return rc;
    return lks_pq_writer_open(f->s, o, lks_pq_sink_buf, &f->out, &f->w, &f->err);
}

/* Closes the writer and opens a reader over the bytes. */
static int pf_finish(pqfile *f) {
    int rc = lks_pq_writer_close(f->w, &f->err);
    if (rc != LKS_OK)
        return rc;
    rc = lks_pq_source_mem(&f->src, f->out.ptr, f->out.len, "mem.parquet");
    if (rc != LKS_OK)
        return rc;
    return lks_pq_reader_open(&f->src, NULL, &f->r, &f->err);
}

static void pf_free(pqfile *f) {
    lks_pq_reader_free(f->r);
    lks_pq_writer_free(f->w);
    lks_pq_schema_free(f->s);
    lks_buf_free(&f->out);
    memset(f, 0, sizeof *f);
}

static const lks_pq_column_meta *chunk_meta(const pqfile *f, int rg, int col) {
    return &lks_pq_reader_meta(f->r)->row_groups[rg].columns[col].meta;
}

static int has_encoding(const lks_pq_column_meta *cm, int enc) {
    for (int i = 0; i < cm->num_encodings; i++)
        if (cm->encodings[i] == enc)
            return 1;
    return 0;
}

/* Pages of a column chunk, found by walking its page headers. */
typedef struct pginfo {
    int type, enc, nvals;
    int first_rep; /* first repetition level of an uncompressed v1 data page, -1 unknown */
} pginfo;

static int walk_pages(const pqfile *f, int rg, int col, pginfo *pg, int maxpg) {
    const lks_pq_column_meta *cm = chunk_meta(f, rg, col);
    const lks_pq_column *c = &lks_pq_reader_schema(f->r)->cols[col];
    int64_t start = cm->dictionary_page_offset >= 0 ? cm->dictionary_page_offset : cm->data_page_offset;
    int64_t end = start + cm->total_compressed_size;
    if (start < 4 || end > (int64_t)f->out.len)
        return -1;
    int n = 0;
    size_t pos = (size_t)start;
    while (pos < (size_t)end) {
        lks_pq_page_header h;
        size_t used = 0;
        lks_err err;
        if (lks_pq_decode_page_header(f->out.ptr + pos, (size_t)end - pos, pos, &h, &used, &err) != LKS_OK)
            return -1;
        pos += used;
        if (h.compressed_size < 0 || (size_t)h.compressed_size > (size_t)end - pos || n == maxpg)
            return -1;
        pg[n].type = h.type;
        pg[n].enc = h.encoding;
        pg[n].nvals = h.num_values;
        pg[n].first_rep = -1;
        if (h.type == LKS_PQ_DATA_PAGE && cm->codec == LKS_PQ_UNCOMPRESSED && c->max_rep && h.num_values > 0 &&
            h.compressed_size >= 4) {
            const uint8_t *p = f->out.ptr + pos;
            uint32_t rl = lks_load_le32(p);
            uint16_t first;
            if (rl <= (uint32_t)h.compressed_size - 4 &&
                lks_pq_rle_decode_u16(p + 4, rl, lks_pq_bit_width((uint64_t)c->max_rep), &first, 1,
                                      (uint32_t)c->max_rep, &err) == LKS_OK)
                pg[n].first_rep = first;
        }
        n++;
        pos += (size_t)h.compressed_size;
    }
    return n;
}

/* JSON text of a value (field f of schema s) into a static buffer. */
static char jbuf[8192];
static const char *js(const lks_pq_schema *s, int f, const lks_pq_value *v) {
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = lks_pq_value_to_json(&b, s, f, v);
    if (rc)
        snprintf(jbuf, sizeof jbuf, "<error %d>", rc);
    else
        snprintf(jbuf, sizeof jbuf, "%.*s", (int)b.len, b.ptr ? (const char *)b.ptr : "");
    lks_buf_free(&b);
    return jbuf;
}

static int slice_eq(lks_slice a, lks_slice b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int cmp_bytes(lks_slice a, lks_slice b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* ---- every physical and logical type, column batches ---------------------------- */

typedef struct tspec {
    const char *name;
    int type, len;
    lks_pq_logical lt;
} tspec;

static tspec type_specs(int k) {
    tspec t[] = {
        {"bool", LKS_PQ_BOOLEAN, 0, NONE},
        {"i32", LKS_PQ_INT32, 0, NONE},
        {"i64", LKS_PQ_INT64, 0, NONE},
        {"i96", LKS_PQ_INT96, 0, NONE},
        {"f32", LKS_PQ_FLOAT, 0, NONE},
        {"f64", LKS_PQ_DOUBLE, 0, NONE},
        {"bin", LKS_PQ_BYTE_ARRAY, 0, NONE},
        {"flba", LKS_PQ_FIXED_LEN_BYTE_ARRAY, 5, NONE},
        {"str", LKS_PQ_BYTE_ARRAY, 0, STRING},
        {"date", LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_DATE)},
        {"ts_utc", LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1)},
        {"ts_local", LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 0)},
        {"dec32", LKS_PQ_INT32, 0, lks_pq_lt_decimal(9, 2)},
        {"dec64", LKS_PQ_INT64, 0, lks_pq_lt_decimal(18, 3)},
        {"decfl", LKS_PQ_FIXED_LEN_BYTE_ARRAY, 13, lks_pq_lt_decimal(30, 4)},
        {"json", LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_JSON)},
        {"u64", LKS_PQ_INT64, 0, INTEGER(64, 0)},
        {"u32", LKS_PQ_INT32, 0, INTEGER(32, 0)},
        {"i16", LKS_PQ_INT32, 0, INTEGER(16, 1)},
        {"uuid", LKS_PQ_FIXED_LEN_BYTE_ARRAY, 16, lks_pq_lt(LKS_PQ_LT_UUID)},
        {"enum", LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_ENUM)},
    };
    return t[k];
}
#define NSPECS 21
#define NROWS_FLAT 1000

static size_t elem_size(int type, int len) {
    switch (type) {
    case LKS_PQ_BOOLEAN: return 1;
    case LKS_PQ_INT32:
    case LKS_PQ_FLOAT: return 4;
    case LKS_PQ_INT64:
    case LKS_PQ_DOUBLE: return 8;
    case LKS_PQ_INT96: return 12;
    default: (void)len; return sizeof(lks_slice);
    }
}

/* Value i of a column of spec t into dst (the physical array form); byte
 * arrays get their bytes in pool (64 bytes per value). */
static void gen_value(const tspec *t, uint32_t i, void *dst, uint8_t *pool) {
    uint64_t mix = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    switch (t->type) {
    case LKS_PQ_BOOLEAN: *(uint8_t *)dst = (uint8_t)(i * 7 % 3 == 0); break;
    case LKS_PQ_INT32: {
        int32_t v;
        if (t->lt.kind == LKS_PQ_LT_DATE)
            v = (int32_t)i * 37 - 5000;
        else if (t->lt.kind == LKS_PQ_LT_DECIMAL)
            v = (int32_t)i * 12345 - 6000000;
        else if (t->lt.kind == LKS_PQ_LT_INTEGER && t->lt.bit_width == 16)
            v = (int32_t)((i * 131u) % 65536u) - 32768;
        else if (i == 1)
            v = INT32_MIN;
        else if (i == 2)
            v = INT32_MAX;
        else
            v = (int32_t)(uint32_t)(mix >> 32);
        memcpy(dst, &v, 4);
        break;
    }
    case LKS_PQ_INT64: {
        int64_t v;
        if (t->lt.kind == LKS_PQ_LT_TIMESTAMP)
            v = (i % 2 ? -1 : 1) * ((int64_t)1700000000000000 + (int64_t)i * 1234567);
        else if (i == 1)
            v = t->lt.kind == LKS_PQ_LT_INTEGER ? (int64_t)-1 /* UINT64_MAX */ : INT64_MIN;
        else if (i == 2)
            v = INT64_MAX;
        else
            v = (int64_t)mix;
        memcpy(dst, &v, 8);
        break;
    }
    case LKS_PQ_INT96: {
        uint8_t *b = dst;
        for (int k = 0; k < 12; k++)
            b[k] = (uint8_t)(mix >> (k % 8 * 8)) ^ (uint8_t)k;
        break;
    }
    case LKS_PQ_FLOAT: {
        float v = i == 3 ? NAN : i == 4 ? -0.0f : i == 5 ? INFINITY : i == 6 ? -FLT_MAX : (float)i * 0.25f - 100.0f;
        memcpy(dst, &v, 4);
        break;
    }
    case LKS_PQ_DOUBLE: {
        double v = i == 3 ? NAN : i == 4 ? -0.0 : i == 5 ? -INFINITY : i == 6 ? DBL_MIN : (double)i / 3.0 - 77.0;
        memcpy(dst, &v, 8);
        break;
    }
    case LKS_PQ_BYTE_ARRAY: {
        lks_slice *s = dst;
        int n;
        if (t->lt.kind == LKS_PQ_LT_STRING)
            n = i % 13 == 0 ? 0 : snprintf((char *)pool, 64, "v%u-\xc3\xa9-%u", i, i * i);
        else if (t->lt.kind == LKS_PQ_LT_JSON)
            n = snprintf((char *)pool, 64, "{\"k\":%u,\"s\":\"x\"}", i);
        else if (t->lt.kind == LKS_PQ_LT_ENUM)
            n = snprintf((char *)pool, 64, "%s", i % 3 == 0 ? "RED" : i % 3 == 1 ? "GREEN" : "BLUE");
        else {
            n = (int)(i % 20);
            for (int k = 0; k < n; k++)
                pool[k] = (uint8_t)(i * 31 + (uint32_t)k * 17);
        }
        *s = SL(pool, (size_t)n);
        break;
    }
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY: {
        lks_slice *s = dst;
        for (int k = 0; k < t->len; k++)
            pool[k] = (uint8_t)(mix >> (k % 8 * 8)) + (uint8_t)k;
        if (t->lt.kind == LKS_PQ_LT_DECIMAL) /* both signs, sign-extended */
            memset(pool, i % 2 ? 0xff : 0x00, 4);
        *s = SL(pool, (size_t)t->len);
        break;
    }
    }
}

static int values_equal(int type, const void *a, const void *b, size_t i) {
    size_t es = elem_size(type, 0);
    const uint8_t *pa = (const uint8_t *)a + i * es, *pb = (const uint8_t *)b + i * es;
    if (type == LKS_PQ_BYTE_ARRAY || type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
        lks_slice x, y;
        memcpy(&x, pa, sizeof x);
        memcpy(&y, pb, sizeof y);
        return slice_eq(x, y);
    }
    return memcmp(pa, pb, es) == 0; /* bit patterns: NaN and -0.0 too */
}

/* Writes every spec required (column 2k) and optional (2k+1) with codec,
 * in batches of uneven sizes (including an empty batch), and checks every
 * column reads back identically. */
/* The value tree form of element i of a physical value array. */
static lks_pq_value phys_value(int type, const void *arr, size_t i) {
    lks_pq_value v;
    memset(&v, 0, sizeof v);
    const uint8_t *p = (const uint8_t *)arr + i * elem_size(type, 0);
    switch (type) {
    case LKS_PQ_BOOLEAN: v.kind = LKS_PQ_V_BOOL, v.u.b = p[0]; break;
    case LKS_PQ_INT32: v.kind = LKS_PQ_V_INT32, memcpy(&v.u.i32, p, 4); break;
    case LKS_PQ_INT64: v.kind = LKS_PQ_V_INT64, memcpy(&v.u.i64, p, 8); break;
    case LKS_PQ_INT96: v.kind = LKS_PQ_V_INT96, memcpy(v.u.i96.b, p, 12); break;
    case LKS_PQ_FLOAT: v.kind = LKS_PQ_V_FLOAT, memcpy(&v.u.f32, p, 4); break;
    case LKS_PQ_DOUBLE: v.kind = LKS_PQ_V_DOUBLE, memcpy(&v.u.f64, p, 8); break;
    default: v.kind = LKS_PQ_V_BYTES, memcpy(&v.u.bytes, p, sizeof v.u.bytes); break;
    }
    return v;
}

/* lowcard: few distinct values per column, so every column but BOOLEAN is
 * dictionary-encoded.  Rows read back print as the JSON of what was
 * written (printed with the writer's schema). */
static void flat_roundtrip(int codec, int lowcard) {
    char names[NSPECS * 2][32];
    lks_pq_field fields[1 + NSPECS * 2];
    fields[0] = G("schema", REQ, NSPECS * 2);
    for (int k = 0; k < NSPECS; k++) {
        tspec t = type_specs(k);
        snprintf(names[2 * k], 32, "%s_r", t.name);
        snprintf(names[2 * k + 1], 32, "%s_o", t.name);
        fields[1 + 2 * k] = LT(names[2 * k], REQ, t.type, t.len, t.lt);
        fields[2 + 2 * k] = LT(names[2 * k + 1], OPT, t.type, t.len, t.lt);
    }
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.codec = codec;
    pqfile f;
    int rc = pf_open(&f, fields, NF(fields), &o);
    CHECK_OK(rc, &f.err);
    if (rc) {
        pf_free(&f);
        return;
    }
    REQUIRE(f.s->num_cols == NSPECS * 2);
    /* the values: per spec, one array of all rows; optional columns take
     * the values of their non-null rows, in order */
    uint8_t *vals[NSPECS], *ovals[NSPECS], *pool[NSPECS];
    uint16_t def[NROWS_FLAT];
    size_t nonnull_before[NROWS_FLAT + 1];
    size_t nn = 0;
    for (uint32_t i = 0; i < NROWS_FLAT; i++) {
        nonnull_before[i] = nn;
        def[i] = (uint16_t)(i % 7 != 3 && i % 11 != 0);
        nn += def[i];
    }
    nonnull_before[NROWS_FLAT] = nn;
    for (int k = 0; k < NSPECS; k++) {
        tspec t = type_specs(k);
        size_t es = elem_size(t.type, t.len);
        vals[k] = calloc(NROWS_FLAT, es);
        ovals[k] = calloc(NROWS_FLAT, es);
        pool[k] = calloc(NROWS_FLAT, 64);
        REQUIRE(vals[k] && ovals[k] && pool[k]);
        size_t o_n = 0;
        for (uint32_t i = 0; i < NROWS_FLAT; i++) {
            gen_value(&t, lowcard ? i % 5 : i, vals[k] + i * es, pool[k] + i * 64);
            if (def[i])
                memcpy(ovals[k] + o_n++ * es, vals[k] + i * es, es);
        }
    }
    static const size_t batches[] = {1, 0, 299, 400, 300};
    size_t at = 0;
    for (size_t bi = 0; bi < sizeof batches / sizeof batches[0] && !rc; bi++) {
        size_t n = batches[bi];
        for (int k = 0; k < NSPECS && !rc; k++) {
            tspec t = type_specs(k);
            size_t es = elem_size(t.type, t.len);
            rc = lks_pq_write_column(f.w, 2 * k, vals[k] + at * es, NULL, NULL, n, &f.err);
            CHECK_OK(rc, &f.err);
            if (!rc)
                rc = lks_pq_write_column(f.w, 2 * k + 1, ovals[k] + nonnull_before[at] * es, def + at, NULL, n, &f.err);
            CHECK_OK(rc, &f.err);
        }
        if (!rc)
            rc = lks_pq_writer_end_batch(f.w, (int64_t)n, &f.err);
        CHECK_OK(rc, &f.err);
        at += n;
    }
    CHECK_EQ_INT(at, NROWS_FLAT);
    CHECK(lks_pq_writer_meta(f.w) == NULL);
    if (!rc) {
        rc = pf_finish(&f);
        CHECK_OK(rc, &f.err);
    }
    if (!rc) {
        CHECK(lks_pq_writer_meta(f.w) != NULL);
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_rows, NROWS_FLAT);
        CHECK_EQ_INT(fm->num_row_groups, 1);
        const lks_pq_schema *rs = lks_pq_reader_schema(f.r);
        CHECK_EQ_INT(rs->num_cols, NSPECS * 2);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        for (int c = 0; c < rs->num_cols && c < NSPECS * 2; c++) {
            tspec t = type_specs(c / 2);
            int opt = c % 2;
            /* the schema comes back with the same types */
            CHECK_EQ_STR(rs->cols[c].path, names[c]);
            CHECK_EQ_INT(rs->cols[c].type, t.type);
            if (t.type == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
                CHECK_EQ_INT(rs->cols[c].type_length, t.len);
            const lks_pq_logical *lt = &rs->cols[c].logical;
            CHECK_EQ_INT(lt->kind, t.lt.kind);
            if (t.lt.kind == LKS_PQ_LT_TIMESTAMP) {
                CHECK_EQ_INT(lt->unit, t.lt.unit);
                CHECK_EQ_INT(lt->utc, t.lt.utc);
            }
            if (t.lt.kind == LKS_PQ_LT_DECIMAL) {
                CHECK_EQ_INT(lt->precision, t.lt.precision);
                CHECK_EQ_INT(lt->scale, t.lt.scale);
            }
            if (t.lt.kind == LKS_PQ_LT_INTEGER) {
                CHECK_EQ_INT(lt->bit_width, t.lt.bit_width);
                CHECK_EQ_INT(lt->is_signed, t.lt.is_signed);
            }
            CHECK_EQ_INT(rs->cols[c].max_def, opt);
            CHECK_EQ_INT(chunk_meta(&f, 0, c)->codec, codec);
            rc = lks_pq_read_column(f.r, 0, c, &b, &f.err);
            CHECK_OK(rc, &f.err);
            if (rc)
                break;
            CHECK_EQ_INT(b.n, NROWS_FLAT);
            CHECK_EQ_INT(b.nvals, opt ? nn : NROWS_FLAT);
            CHECK(b.rep == NULL);
            if (opt) {
                REQUIRE(b.def);
                size_t bad = 0;
                for (size_t i = 0; i < NROWS_FLAT; i++)
                    bad += b.def[i] != def[i];
                CHECK_EQ_INT(bad, 0);
            } else {
                CHECK(b.def == NULL);
            }
            const uint8_t *want = opt ? ovals[c / 2] : vals[c / 2];
            size_t bad = 0, first_bad = SIZE_MAX;
            for (size_t i = 0; i < b.nvals && i < NROWS_FLAT; i++)
                if (!values_equal(t.type, want, b.values, i)) {
                    bad++;
                    if (first_bad == SIZE_MAX)
                        first_bad = i;
                }
            if (bad)
                FAILF("column %s: %zu values differ, first at %zu", names[c], bad, first_bad);
            if (lowcard && t.type != LKS_PQ_BOOLEAN && !has_encoding(chunk_meta(&f, 0, c), LKS_PQ_ENC_RLE_DICTIONARY))
                FAILF("column %s: no dictionary for 5 distinct values", names[c]);
            if (t.type == LKS_PQ_BOOLEAN)
                CHECK(!has_encoding(chunk_meta(&f, 0, c), LKS_PQ_ENC_RLE_DICTIONARY));
        }
        lks_pq_colbatch_free(&b);
        /* as rows, printed */
        lks_pq_rows *it = NULL;
        rc = lks_pq_rows_open(f.r, NULL, 0, &it, &f.err);
        CHECK_OK(rc, &f.err);
        const lks_pq_value *row;
        lks_pq_value items[NSPECS * 2];
        static char want_text[16384];
        int got = 0, bad = 0;
        while (it && (rc = lks_pq_rows_next(it, &row, &f.err)) == 1 && got < NROWS_FLAT) {
            for (int k = 0; k < NSPECS; k++) {
                tspec t = type_specs(k);
                items[2 * k] = phys_value(t.type, vals[k], (size_t)got);
                items[2 * k + 1] = def[got] ? phys_value(t.type, ovals[k], nonnull_before[got]) : VNULL;
            }
            lks_pq_value want = VG(items, NSPECS * 2);
            snprintf(want_text, sizeof want_text, "%s", js(f.s, 0, &want));
            const char *text = js(lks_pq_reader_schema(f.r), 0, row);
            if (strcmp(text, want_text) != 0 && bad++ < 2)
                FAILF("row %d:\n  got  %s\n  want %s", got, text, want_text);
            if (got == 3 && !lowcard && codec == LKS_PQ_UNCOMPRESSED)
                CHECK(strstr(text, "\"f32_r\":\"NaN\"") && strstr(text, "\"ts_local_r\":\"") &&
                      strstr(text, "\"dec32_r\":\"-59629.65\"") && strstr(text, "\"str_r\":\"v3-\xc3\xa9-9\""));
            got++;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(got, NROWS_FLAT);
        lks_pq_rows_free(it);
    }
    for (int k = 0; k < NSPECS; k++) {
        free(vals[k]);
        free(ovals[k]);
        free(pool[k]);
    }
    pf_free(&f);
}

static void t_types_uncompressed(void) { flat_roundtrip(LKS_PQ_UNCOMPRESSED, 0); }
static void t_types_snappy(void) { flat_roundtrip(LKS_PQ_SNAPPY, 0); }
static void t_types_zstd(void) { flat_roundtrip(LKS_PQ_ZSTD, 0); }
static void t_types_gzip(void) { flat_roundtrip(LKS_PQ_GZIP, 0); }
static void t_types_brotli(void) { flat_roundtrip(LKS_PQ_BROTLI, 0); }
static void t_types_lz4_raw(void) { flat_roundtrip(LKS_PQ_LZ4_RAW, 0); }
static void t_types_dictionary(void) {
    flat_roundtrip(LKS_PQ_SNAPPY, 1);
    flat_roundtrip(LKS_PQ_UNCOMPRESSED, 1);
}

/* Codecs: a compressible column shrinks, values read back, and codecs the
 * writer does not produce are refused with LKS_EUNSUPPORTED. */
static void t_codecs(void) {
    static const int codecs[] = {LKS_PQ_UNCOMPRESSED, LKS_PQ_SNAPPY, LKS_PQ_GZIP,
                                 LKS_PQ_BROTLI,       LKS_PQ_ZSTD,   LKS_PQ_LZ4_RAW};
    lks_pq_field fields[] = {G("schema", REQ, 1), LT("s", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING)};
    char text[200];
    memset(text, 'q', sizeof text);
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        lks_pq_writer_opts o;
        lks_pq_writer_opts_default(&o);
        o.codec = codecs[ci];
        o.dictionary = 0;
        pqfile f;
        CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
        REQUIRE(f.w);
        enum { N = 2000 };
        static lks_slice v[N];
        static uint16_t def[N];
        size_t k = 0;
        for (int i = 0; i < N; i++) {
            def[i] = i % 5 != 0;
            if (def[i])
                v[k++] = SL(text, (size_t)(i % 150 + 1));
        }
        CHECK_OK(lks_pq_write_column(f.w, 0, v, def, NULL, N, &f.err), &f.err);
        CHECK_OK(lks_pq_writer_end_batch(f.w, N, &f.err), &f.err);
        int rc = pf_finish(&f);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            const lks_pq_column_meta *cm = chunk_meta(&f, 0, 0);
            CHECK_EQ_INT(cm->codec, codecs[ci]);
            if (codecs[ci] == LKS_PQ_UNCOMPRESSED)
                CHECK_EQ_INT(cm->total_compressed_size, cm->total_uncompressed_size);
            else if (cm->total_compressed_size * 4 >= cm->total_uncompressed_size)
                FAILF("codec %d: %lld compressed of %lld", codecs[ci], (long long)cm->total_compressed_size,
                      (long long)cm->total_uncompressed_size);
            lks_pq_colbatch b;
            lks_pq_colbatch_init(&b);
            rc = lks_pq_read_column(f.r, 0, 0, &b, &f.err);
            CHECK_OK(rc, &f.err);
            if (rc == LKS_OK) {
                CHECK_EQ_INT(b.n, N);
                CHECK_EQ_INT(b.nvals, k);
                size_t bad = 0;
                for (size_t i = 0; i < b.nvals && i < k; i++)
                    bad += !slice_eq(((const lks_slice *)b.values)[i], v[i]);
                for (size_t i = 0; i < N; i++)
                    bad += b.def[i] != def[i];
                CHECK_EQ_INT(bad, 0);
            }
            lks_pq_colbatch_free(&b);
        }
        pf_free(&f);
    }
    /* LZO and legacy LZ4 are read-only codecs */
    static const int refused[] = {LKS_PQ_LZO, LKS_PQ_LZ4};
    for (int ci = 0; ci < 2; ci++) {
        lks_pq_writer_opts o;
        lks_pq_writer_opts_default(&o);
        o.codec = refused[ci];
        pqfile f;
        CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
        REQUIRE(f.w);
        lks_slice v = SLS("x");
        uint16_t d = 1;
        int rc = lks_pq_write_column(f.w, 0, &v, &d, NULL, 1, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, 1, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_close(f.w, &f.err);
        CHECK_EQ_INT(rc, LKS_EUNSUPPORTED);
        pf_free(&f);
    }
}

/* ---- nested data, value trees ---------------------------------------------------- */

static const lks_pq_field nested_fields[] = {
    SG("schema", REQ, 7),
    SLF("id", REQ, LKS_PQ_INT64),                          /* 1 */
    SG("s", OPT, 2),                                       /* 2 */
    SLF("a", REQ, LKS_PQ_INT32),                           /* 3 */
    SG("b", OPT, 1),                                       /* 4 */
    SLF("c", OPT, LKS_PQ_DOUBLE),                          /* 5 */
    SGL("l", OPT, 1, LKS_PQ_LT_LIST),                      /* 6 */
    SG("list", REP, 1),                                    /* 7 */
    SLF("element", OPT, LKS_PQ_INT64),                     /* 8 */
    SGL("m", OPT, 1, LKS_PQ_LT_MAP),                       /* 9 */
    SG("key_value", REP, 2),                               /* 10 */
    SLT("key", REQ, LKS_PQ_BYTE_ARRAY, LKS_PQ_LT_STRING),  /* 11 */
    SLF("value", OPT, LKS_PQ_INT32),                       /* 12 */
    SGL("ll", OPT, 1, LKS_PQ_LT_LIST),                     /* 13 */
    SG("list", REP, 1),                                    /* 14 */
    SGL("element", OPT, 1, LKS_PQ_LT_LIST),                /* 15 */
    SG("list", REP, 1),                                    /* 16 */
    SLF("element", OPT, LKS_PQ_INT32),                     /* 17 */
    SLF("t", REP, LKS_PQ_INT32),                           /* 18 */
    SLT("name", OPT, LKS_PQ_BYTE_ARRAY, LKS_PQ_LT_STRING), /* 19 */
};

/* Storage for one row's value tree. */
typedef struct rowstore {
    lks_pq_value root[7];
    lks_pq_value s[2], b[1];
    lks_pq_value l[1], lreps[8], lel[8][1];
    lks_pq_value m[1], mreps[4], mkv[4][2];
    char keys[4][32];
    lks_pq_value ll[1], llreps[4], llel[4][1], llin[4][1], llinreps[4][4], llinel[4][4][1];
    lks_pq_value t[4];
    char name[32];
} rowstore;

/* Row i of the nested test: every pattern of nulls, empties and values. */
static lks_pq_value nested_row(rowstore *rs, int i) {
    memset(rs, 0, sizeof *rs);
    lks_pq_value *r = rs->root;
    r[0] = VI64((int64_t)i * 1000 - 7);
    /* s */
    switch (i % 4) {
    case 0:
        rs->b[0] = VD(i * 0.5);
        rs->s[0] = VI32(i), rs->s[1] = VG(rs->b, 1);
        r[1] = VG(rs->s, 2);
        break;
    case 1: rs->s[0] = VI32(-i), rs->s[1] = VNULL, r[1] = VG(rs->s, 2); break;
    case 2:
        rs->b[0] = VNULL;
        rs->s[0] = VI32(i), rs->s[1] = VG(rs->b, 1);
        r[1] = VG(rs->s, 2);
        break;
    default: r[1] = VNULL;
    }
    /* l: null, empty, or up to 4 items with null elements */
    if (i % 5 == 4) {
        r[2] = VNULL;
    } else {
        int n = i % 5;
        for (int k = 0; k < n; k++) {
            rs->lel[k][0] = (i + k) % 3 == 0 ? VNULL : VI64((int64_t)k - i);
            rs->lreps[k] = VG(rs->lel[k], 1);
        }
        rs->l[0] = n ? VR(rs->lreps, (size_t)n) : (i % 10 == 0 ? VNULL : VR(NULL, 0));
        r[2] = VG(rs->l, 1);
    }
    /* m: null, empty, or entries with a null value */
    if (i % 7 == 6) {
        r[3] = VNULL;
    } else {
        int n = i % 3;
        for (int k = 0; k < n; k++) {
            snprintf(rs->keys[k], sizeof rs->keys[k], "k%d_%d", k, i);
            rs->mkv[k][0] = VS(rs->keys[k]);
            rs->mkv[k][1] = k == 1 ? VNULL : VI32(i * 10 + k);
            rs->mreps[k] = VG(rs->mkv[k], 2);
        }
        rs->m[0] = VR(n ? rs->mreps : NULL, (size_t)n);
        r[3] = VG(rs->m, 1);
    }
    /* ll: list of lists */
    static const int shapes[6][4] = {/* per outer item: -1 null inner list, else inner item count (-2: end) */
                                     {-2}, {-2}, {2, 0, -2}, {-1, 1, -2}, {1, -2}, {0, 0, 3, -2}};
    int sh = i % 6;
    if (sh == 0) {
        r[4] = VNULL;
    } else {
        int n = 0;
        for (; n < 4 && shapes[sh][n] != -2; n++) {
            int m = shapes[sh][n];
            if (m == -1) {
                rs->llel[n][0] = VNULL;
            } else {
                for (int k = 0; k < m; k++) {
                    /* the single item of shape 3 is a null element */
                    rs->llinel[n][k][0] = sh == 3 ? VNULL : VI32(i + k);
                    rs->llinreps[n][k] = VG(rs->llinel[n][k], 1);
                }
                rs->llin[n][0] = VR(m ? rs->llinreps[n] : NULL, (size_t)m);
                rs->llel[n][0] = VG(rs->llin[n], 1);
            }
            rs->llreps[n] = VG(rs->llel[n], 1);
        }
        rs->ll[0] = VR(n ? rs->llreps : NULL, (size_t)n);
        r[4] = VG(rs->ll, 1);
    }
    /* t: a bare repeated leaf */
    int nt = i % 4;
    for (int k = 0; k < nt; k++)
        rs->t[k] = VI32(i * 3 + k);
    r[5] = VR(nt ? rs->t : NULL, (size_t)nt);
    /* name */
    if (i % 3 == 0) {
        r[6] = VNULL;
    } else {
        snprintf(rs->name, sizeof rs->name, "n\"%d\xc3\xa9", i);
        r[6] = VS(rs->name);
    }
    return VG(r, 7);
}

/* Writes nrows nested rows with opts o, reads them back with all columns
 * and compares the JSON text of every row. */
static void nested_roundtrip(const lks_pq_writer_opts *o, int nrows, int want_rgs) {
    pqfile f;
    int rc = pf_open(&f, nested_fields, NF(nested_fields), o);
    CHECK_OK(rc, &f.err);
    if (rc) {
        pf_free(&f);
        return;
    }
    REQUIRE(f.s->num_cols == 9);
    char **want = calloc((size_t)nrows, sizeof *want);
    REQUIRE(want);
    rowstore rs;
    for (int i = 0; i < nrows && !rc; i++) {
        lks_pq_value row = nested_row(&rs, i);
        want[i] = strdup(js(f.s, 0, &row));
        rc = lks_pq_write_row(f.w, &row, &f.err);
        CHECK_OK(rc, &f.err);
    }
    if (!rc) {
        rc = pf_finish(&f);
        CHECK_OK(rc, &f.err);
    }
    if (!rc) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_rows, nrows);
        if (want_rgs)
            CHECK_EQ_INT(fm->num_row_groups, want_rgs);
        const lks_pq_schema *rsch = lks_pq_reader_schema(f.r);
        lks_pq_rows *it = NULL;
        rc = lks_pq_rows_open(f.r, NULL, 0, &it, &f.err);
        CHECK_OK(rc, &f.err);
        int got = 0, bad = 0;
        const lks_pq_value *row;
        while (it && (rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
            const char *text = js(rsch, 0, row);
            if (got < nrows && strcmp(text, want[got]) != 0 && bad++ < 3)
                FAILF("row %d:\n  got  %s\n  want %s", got, text, want[got]);
            got++;
        }
        CHECK_EQ_INT(rc, 0);
        if (rc < 0)
            FAILF("rows_next: %s", f.err.msg);
        CHECK_EQ_INT(got, nrows);
        lks_pq_rows_free(it);
    }
    for (int i = 0; i < nrows; i++)
        free(want[i]);
    free(want);
    pf_free(&f);
}

static void t_nested(void) {
    /* the JSON of a few rows, spelled out, so the comparison is not vacuous */
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_build(nested_fields, NF(nested_fields), &s, &err), &err);
    REQUIRE(s);
    rowstore rs;
    lks_pq_value row = nested_row(&rs, 3);
    CHECK_EQ_STR(js(s, 0, &row), "{\"id\":2993,\"s\":null,\"l\":[null,-2,-1],\"m\":{},\"ll\":[null,[null]],"
                                 "\"t\":[9,10,11],\"name\":null}");
    row = nested_row(&rs, 10);
    CHECK_EQ_STR(js(s, 0, &row), "{\"id\":9993,\"s\":{\"a\":10,\"b\":{\"c\":null}},\"l\":[],\"m\":{\"k0_10\":100},"
                                 "\"ll\":[[10]],\"t\":[30,31],\"name\":\"n\\\"10\xc3\xa9\"}");
    row = nested_row(&rs, 11);
    CHECK_EQ_STR(js(s, 0, &row), "{\"id\":10993,\"s\":null,\"l\":[-11],\"m\":{\"k0_11\":110,\"k1_11\":null},"
                                 "\"ll\":[[],[],[11,12,13]],\"t\":[33,34,35],\"name\":\"n\\\"11\xc3\xa9\"}");
    row = nested_row(&rs, 4);
    CHECK_EQ_STR(js(s, 0, &row), "{\"id\":3993,\"s\":{\"a\":4,\"b\":{\"c\":2}},\"l\":null,\"m\":{\"k0_4\":40},"
                                 "\"ll\":[[4]],\"t\":[],\"name\":\"n\\\"4\xc3\xa9\"}");
    lks_pq_schema_free(s);
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    nested_roundtrip(&o, 300, 1);
}

/* The same with tiny pages and row groups: page and row-group boundaries
 * fall everywhere inside the nested columns. */
static void t_nested_small_pages(void) {
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.page_bytes = 40;
    o.row_group_rows = 7;
    o.codec = LKS_PQ_UNCOMPRESSED;
    nested_roundtrip(&o, 300, 43);
    o.dictionary = 0;
    o.codec = LKS_PQ_ZSTD;
    nested_roundtrip(&o, 100, 15);
}

/* Data pages of a repeated column start at row boundaries. */
static void t_pages_row_aligned(void) {
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.page_bytes = 64;
    o.codec = LKS_PQ_UNCOMPRESSED;
    pqfile f;
    CHECK_OK(pf_open(&f, nested_fields, NF(nested_fields), &o), &f.err);
    REQUIRE(f.w);
    rowstore rs;
    for (int i = 0; i < 500; i++) {
        lks_pq_value row = nested_row(&rs, i);
        CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    }
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        static pginfo pg[4096];
        for (int c = 0; c < f.s->num_cols; c++) {
            if (!f.s->cols[c].max_rep)
                continue;
            int n = walk_pages(&f, 0, c, pg, 4096);
            CHECK(n > 3);
            int64_t total = 0;
            int data = 0;
            for (int k = 0; k < n; k++) {
                if (pg[k].type != LKS_PQ_DATA_PAGE)
                    continue;
                data++;
                total += pg[k].nvals;
                if (pg[k].first_rep != 0)
                    FAILF("column %s page %d starts with repetition level %d", f.s->cols[c].path, k, pg[k].first_rep);
            }
            CHECK(data > 3);
            CHECK_EQ_INT(total, chunk_meta(&f, 0, c)->num_values);
        }
    }
    pf_free(&f);
}

/* ---- statistics ------------------------------------------------------------------ */

static int col_of(const pqfile *f, const char *path) { return lks_pq_schema_find(f->s, path); }

static void t_stats(void) {
    uint8_t ff[100], aff[100], zz[100], big[100], low[100];
    memset(ff, 0xff, sizeof ff);
    aff[0] = 'a';
    memset(aff + 1, 0xff, sizeof aff - 1);
    memset(zz, 'z', sizeof zz);
    memset(big, 'm', sizeof big);
    memset(low, 'b', sizeof low);
    lks_pq_field fields[] = {
        G("schema", REQ, 17),
        L("i32", OPT, LKS_PQ_INT32),
        L("i64", REQ, LKS_PQ_INT64),
        LT("u64", REQ, LKS_PQ_INT64, 0, INTEGER(64, 0)),
        LT("u32", REQ, LKS_PQ_INT32, 0, INTEGER(32, 0)),
        L("f_nan", REQ, LKS_PQ_FLOAT),
        L("f_zero", REQ, LKS_PQ_FLOAT),
        L("d_nan", OPT, LKS_PQ_DOUBLE),
        L("d_zero", REQ, LKS_PQ_DOUBLE),
        LT("str", REQ, LKS_PQ_BYTE_ARRAY, 0, STRING),
        LT("dec", REQ, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 4, lks_pq_lt_decimal(9, 2)),
        L("long", REQ, LKS_PQ_BYTE_ARRAY),
        L("long_ff", REQ, LKS_PQ_BYTE_ARRAY),
        L("all_ff", REQ, LKS_PQ_BYTE_ARRAY),
        L("all_null", OPT, LKS_PQ_INT32),
        L("i96", OPT, LKS_PQ_INT96),
        L("b", REQ, LKS_PQ_BOOLEAN),
        L("all_nan", REQ, LKS_PQ_DOUBLE),
    };
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), NULL), &f.err);
    REQUIRE(f.w);
    /* two batches of 3 rows, so statistics merge across calls */
    enum { N = 6 };
    int32_t i32[N] = {7, -5, 100, 3, 0}; /* 5 values, one null */
    uint16_t i32_def[N] = {1, 1, 0, 1, 1, 1};
    int64_t i64[N] = {0, INT64_MAX, -1, INT64_MIN, 42, 1};
    int64_t u64[N] = {5, (int64_t)-1 /* UINT64_MAX */, 1, 7, 1000, (int64_t)0x8000000000000000ull};
    int32_t u32[N] = {1, (int32_t)-1 /* UINT32_MAX */, 2, 3, (int32_t)0x80000000u, 9};
    float f_nan[N] = {NAN, -1.5f, 2.5f, NAN, 0.5f, -NAN};
    float f_zero[N] = {NAN, 0.0f, -0.0f, 0.0f, NAN, -0.0f};
    double d_nan[N] = {NAN, -3.25, 1e300}; /* 3 values, three nulls */
    uint16_t d_def[N] = {1, 0, 1, 0, 1, 0};
    double d_zero[N] = {0.0, 0.0, NAN, 0.0, 0.0, 0.0}; /* only +0.0 */
    lks_slice str[N] = {SLS("z"), SLS("\xc3\xa9"), SLS("a"), SLS("za"), SLS("\xc3"), SLS("")};
    uint8_t dec[N][4] = {
        {0, 0, 0, 5}, {0xff, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xfe, 0xd4}, {0x7f, 0xff, 0xff, 0xff}, {0x80, 0, 0, 0},
        {0, 0, 1, 0}};
    lks_slice decs[N];
    for (int i = 0; i < N; i++)
        decs[i] = SL(dec[i], 4);
    lks_slice lng[N] = {SL(big, 100), SL(zz, 100), SL(low, 100), SL(big, 70), SL(low, 65), SL(zz, 64)};
    lks_slice lng_ff[N] = {SL(aff, 100), SLS("a"), SL(aff, 64), SL(aff, 65), SLS("0"), SL(aff, 2)};
    lks_slice all_ff[N] = {SL(ff, 100), SL(ff, 66), SL(ff, 65), SL(ff, 100), SL(ff, 99), SL(ff, 70)};
    uint16_t zero_def[N] = {0};
    lks_pq_int96 i96[N];
    memset(i96, 0x11, sizeof i96);
    uint8_t bools[N] = {1, 1, 0, 1, 1, 1};
    double all_nan[N] = {NAN, NAN, NAN, NAN, NAN, NAN};
    int rc = LKS_OK;
    for (int half = 0; half < 2 && rc == LKS_OK; half++) {
        size_t a = (size_t)half * 3;
        /* index of the first value of this half in the non-null arrays */
        size_t ai = half ? 2 : 0, ad = half ? 2 : 0;
#define W(col, vals, def)                                                                                              \
    if (rc == LKS_OK) {                                                                                                \
        rc = lks_pq_write_column(f.w, col_of(&f, col), vals, def, NULL, 3, &f.err);                                    \
        CHECK_OK(rc, &f.err);                                                                                          \
    }
        W("i32", i32 + ai, i32_def + a);
        W("i64", i64 + a, NULL);
        W("u64", u64 + a, NULL);
        W("u32", u32 + a, NULL);
        W("f_nan", f_nan + a, NULL);
        W("f_zero", f_zero + a, NULL);
        W("d_nan", d_nan + ad, d_def + a);
        W("d_zero", d_zero + a, NULL);
        W("str", str + a, NULL);
        W("dec", decs + a, NULL);
        W("long", lng + a, NULL);
        W("long_ff", lng_ff + a, NULL);
        W("all_ff", all_ff + a, NULL);
        W("all_null", NULL, zero_def);
        W("i96", i96, i32_def + a);
        W("b", bools + a, NULL);
        W("all_nan", all_nan + a, NULL);
#undef W
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, 3, &f.err);
        CHECK_OK(rc, &f.err);
    }
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc != LKS_OK) {
        pf_free(&f);
        return;
    }
    lks_pq_minmax mm;
    /* signed ints, with a null */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "i32"), &mm), 1);
    CHECK_EQ_INT(mm.min.kind, LKS_PQ_V_INT32);
    CHECK_EQ_INT(mm.min.u.i32, -5);
    CHECK_EQ_INT(mm.max.u.i32, 100);
    CHECK_EQ_INT(mm.null_count, 1);
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "i64"), &mm), 1);
    CHECK(mm.min.u.i64 == INT64_MIN && mm.max.u.i64 == INT64_MAX);
    CHECK_EQ_INT(mm.null_count, 0);
    /* unsigned: UINT64_MAX is the largest, not -1 */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "u64"), &mm), 1);
    CHECK((uint64_t)mm.min.u.i64 == 1);
    CHECK((uint64_t)mm.max.u.i64 == UINT64_MAX);
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "u32"), &mm), 1);
    CHECK((uint32_t)mm.min.u.i32 == 1);
    CHECK((uint32_t)mm.max.u.i32 == UINT32_MAX);
    /* floats: NaN ignored */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "f_nan"), &mm), 1);
    CHECK_EQ_INT(mm.min.kind, LKS_PQ_V_FLOAT);
    CHECK(mm.min.u.f32 == -1.5f && mm.max.u.f32 == 2.5f);
    /* zeros: min -0.0, max +0.0 */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "f_zero"), &mm), 1);
    CHECK(mm.min.u.f32 == 0.0f && signbit(mm.min.u.f32));
    CHECK(mm.max.u.f32 == 0.0f && !signbit(mm.max.u.f32));
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "d_nan"), &mm), 1);
    CHECK_EQ_INT(mm.min.kind, LKS_PQ_V_DOUBLE);
    CHECK(mm.min.u.f64 == -3.25 && mm.max.u.f64 == 1e300);
    CHECK_EQ_INT(mm.null_count, 3);
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "d_zero"), &mm), 1);
    CHECK(mm.min.u.f64 == 0.0 && signbit(mm.min.u.f64));
    CHECK(mm.max.u.f64 == 0.0 && !signbit(mm.max.u.f64));
    /* only NaNs: no min/max */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "all_nan"), &mm), 0);
    CHECK_EQ_INT(mm.null_count, 0);
    /* strings: unsigned bytewise, "é" (c3 a9) > "z" */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "str"), &mm), 1);
    CHECK_EQ_INT(mm.min.kind, LKS_PQ_V_BYTES);
    CHECK(slice_eq(mm.min.u.bytes, SLS("")));
    CHECK(slice_eq(mm.max.u.bytes, SLS("\xc3\xa9")));
    /* decimal in FLBA: signed big-endian */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "dec"), &mm), 1);
    CHECK(slice_eq(mm.min.u.bytes, decs[4])); /* 0x80000000, the most negative */
    CHECK(slice_eq(mm.max.u.bytes, decs[3])); /* 0x7fffffff */
    /* long strings: truncated min is a prefix, max rounded up, both bound */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "long"), &mm), 1);
    CHECK(mm.min.u.bytes.len <= 64 && mm.max.u.bytes.len <= 64);
    CHECK(slice_eq(mm.min.u.bytes, SL(low, 64)));
    uint8_t zmax[64];
    memset(zmax, 'z', 64);
    zmax[63] = 'z' + 1;
    CHECK(slice_eq(mm.max.u.bytes, SL(zmax, 64)));
    for (int i = 0; i < N; i++)
        CHECK(cmp_bytes(mm.min.u.bytes, lng[i]) <= 0 && cmp_bytes(lng[i], mm.max.u.bytes) <= 0);
    const lks_pq_stats *st = &chunk_meta(&f, 0, col_of(&f, "long"))->stats;
    CHECK((st->has & LKS_PQ_ST_MIN_EXACT) && !st->is_min_value_exact);
    CHECK((st->has & LKS_PQ_ST_MAX_EXACT) && !st->is_max_value_exact);
    /* a max whose prefix ends in 0xff bytes rounds up an earlier byte */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "long_ff"), &mm), 1);
    CHECK(slice_eq(mm.min.u.bytes, SLS("0")));
    CHECK(slice_eq(mm.max.u.bytes, SLS("b")));
    for (int i = 0; i < N; i++)
        CHECK(cmp_bytes(mm.min.u.bytes, lng_ff[i]) <= 0 && cmp_bytes(lng_ff[i], mm.max.u.bytes) <= 0);
    /* all 0xff past the limit: no upper bound that short, so no max */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "all_ff"), &mm), 0);
    st = &chunk_meta(&f, 0, col_of(&f, "all_ff"))->stats;
    CHECK(!(st->has & LKS_PQ_ST_MAX_VALUE));
    CHECK((st->has & LKS_PQ_ST_MIN_VALUE) && st->min_value.len <= 64);
    /* all null */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "all_null"), &mm), 0);
    CHECK_EQ_INT(mm.has_minmax, 0);
    CHECK_EQ_INT(mm.null_count, N);
    st = &chunk_meta(&f, 0, col_of(&f, "all_null"))->stats;
    CHECK(!(st->has & (LKS_PQ_ST_MIN_VALUE | LKS_PQ_ST_MAX_VALUE | LKS_PQ_ST_MIN | LKS_PQ_ST_MAX)));
    /* INT96: no order, no min/max, null count still */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "i96"), &mm), 0);
    CHECK_EQ_INT(mm.null_count, 1);
    st = &chunk_meta(&f, 0, col_of(&f, "i96"))->stats;
    CHECK(!(st->has & (LKS_PQ_ST_MIN_VALUE | LKS_PQ_ST_MAX_VALUE)));
    /* booleans */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, col_of(&f, "b"), &mm), 1);
    CHECK_EQ_INT(mm.min.kind, LKS_PQ_V_BOOL);
    CHECK(mm.min.u.b == 0 && mm.max.u.b == 1);
    /* out of range */
    CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 1, 0, &mm), 0);
    CHECK_EQ_INT(mm.null_count, -1);
    pf_free(&f);
}

/* stats = 0: no statistics at all. */
static void t_stats_off(void) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", OPT, LKS_PQ_INT64)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.stats = 0;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    int64_t v[2] = {1, 2};
    uint16_t d[3] = {1, 0, 1};
    CHECK_OK(lks_pq_write_column(f.w, 0, v, d, NULL, 3, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_end_batch(f.w, 3, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        lks_pq_minmax mm;
        CHECK_EQ_INT(lks_pq_chunk_stats(f.r, 0, 0, &mm), 0);
        CHECK_EQ_INT(mm.null_count, -1);
    }
    pf_free(&f);
}

/* ---- encodings --------------------------------------------------------------------- */

/* Reads column col of row group rg as int64 values and checks them against
 * want (n values, all non-null). */
static void check_i64_column(pqfile *f, int rg, int col, const int64_t *want, size_t n) {
    lks_pq_colbatch b;
    lks_pq_colbatch_init(&b);
    int rc = lks_pq_read_column(f->r, rg, col, &b, &f->err);
    CHECK_OK(rc, &f->err);
    if (rc == LKS_OK) {
        CHECK_EQ_INT(b.n, n);
        CHECK_EQ_INT(b.nvals, n);
        size_t bad = 0;
        for (size_t i = 0; i < n && i < b.nvals; i++)
            bad += ((const int64_t *)b.values)[i] != want[i];
        CHECK_EQ_INT(bad, 0);
    }
    lks_pq_colbatch_free(&b);
}

/* Column col of row group rg reads back as the byte values want[0..nvals)
 * (nulls left out). */
static void check_slice_column(pqfile *f, int rg, int col, const lks_slice *want, size_t nvals) {
    lks_pq_colbatch b;
    lks_pq_colbatch_init(&b);
    int rc = lks_pq_read_column(f->r, rg, col, &b, &f->err);
    CHECK_OK(rc, &f->err);
    if (rc == LKS_OK) {
        CHECK_EQ_INT(b.nvals, nvals);
        size_t bad = 0;
        for (size_t i = 0; i < nvals && i < b.nvals; i++)
            bad += !slice_eq(((const lks_slice *)b.values)[i], want[i]);
        CHECK_EQ_INT(bad, 0);
    }
    lks_pq_colbatch_free(&b);
}

static void t_encodings(void) {
    lks_pq_field fields[] = {G("schema", REQ, 4), L("low", REQ, LKS_PQ_INT64), L("uniq", REQ, LKS_PQ_INT64),
                             LT("lows", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING), L("flag", REQ, LKS_PQ_BOOLEAN)};
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), NULL), &f.err);
    REQUIRE(f.w);
    enum { N = 10000 };
    static int64_t low[N], uniq[N];
    static lks_slice lows[N];
    static uint16_t def[N];
    static uint8_t flag[N];
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        low[i] = (i * 7) % 10 - 3;
        uniq[i] = (int64_t)i * 1000003;
        def[i] = i % 9 != 0;
        if (def[i])
            lows[k++] = SLS(words[i % 5]);
        flag[i] = (uint8_t)(i % 2);
    }
    CHECK_OK(lks_pq_write_column(f.w, 0, low, NULL, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 1, uniq, NULL, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 2, lows, def, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 3, flag, NULL, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_end_batch(f.w, N, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_column_meta *cm = chunk_meta(&f, 0, 0);
        CHECK(has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(cm->dictionary_page_offset >= 4);
        cm = chunk_meta(&f, 0, 1);
        CHECK(!has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(has_encoding(cm, LKS_PQ_ENC_PLAIN));
        CHECK_EQ_INT(cm->dictionary_page_offset, -1);
        cm = chunk_meta(&f, 0, 2);
        CHECK(has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(has_encoding(cm, LKS_PQ_ENC_RLE)); /* definition levels */
        cm = chunk_meta(&f, 0, 3);
        CHECK(!has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        /* the pages say the same */
        pginfo pg[16];
        int n = walk_pages(&f, 0, 0, pg, 16);
        CHECK(n >= 2);
        if (n >= 2) {
            CHECK_EQ_INT(pg[0].type, LKS_PQ_DICTIONARY_PAGE);
            CHECK_EQ_INT(pg[0].nvals, 10);
            CHECK_EQ_INT(pg[1].type, LKS_PQ_DATA_PAGE);
            CHECK_EQ_INT(pg[1].enc, LKS_PQ_ENC_RLE_DICTIONARY);
        }
        /* the dictionary pays: far smaller than the plain values */
        CHECK(chunk_meta(&f, 0, 0)->total_uncompressed_size < N * 8 / 4);
        n = walk_pages(&f, 0, 1, pg, 16);
        CHECK(n >= 1);
        for (int i = 0; i < n; i++)
            CHECK(pg[i].type == LKS_PQ_DATA_PAGE && pg[i].enc == LKS_PQ_ENC_PLAIN);
        check_i64_column(&f, 0, 0, low, N);
        check_i64_column(&f, 0, 1, uniq, N);
        check_slice_column(&f, 0, 2, lows, k);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        rc = lks_pq_read_column(f.r, 0, 3, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.nvals, N);
            CHECK(memcmp(b.values, flag, N) == 0);
        }
        lks_pq_colbatch_free(&b);
    }
    pf_free(&f);
}

/* The dictionary probe: a chunk whose first 8192 values are all distinct is
 * written PLAIN at once; one repeat among them leaves the decision to the
 * page's end.  Values are written in pieces so the probe's boundary falls
 * inside a call. */
static void t_dictionary_probe(void) {
    lks_pq_field fields[] = {G("schema", REQ, 4), L("uniq", REQ, LKS_PQ_INT64), L("late", REQ, LKS_PQ_INT64),
                             L("cyc", REQ, LKS_PQ_INT64), LT("late_s", REQ, LKS_PQ_BYTE_ARRAY, 0, STRING)};
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), NULL), &f.err);
    REQUIRE(f.w);
    enum { N = 40000 };
    static int64_t uniq[N], late[N], cyc[N];
    static lks_slice late_s[N];
    static char txt[N][12];
    for (int i = 0; i < N; i++) {
        uniq[i] = (int64_t)i * 7919;
        late[i] = i == 8191 ? 0 : i % 9000; /* a repeat as the probe's last value */
        cyc[i] = i % 9000;                  /* 9000 distinct in order: the probe refuses it */
        snprintf(txt[i], sizeof txt[i], "k%d", (int)late[i]);
        late_s[i] = SLS(txt[i]);
    }
    static const size_t piece[] = {1000, 7000, 200, 31800};
    size_t at = 0;
    for (size_t p = 0; p < 4; p++) {
        CHECK_OK(lks_pq_write_column(f.w, 0, uniq + at, NULL, NULL, piece[p], &f.err), &f.err);
        CHECK_OK(lks_pq_write_column(f.w, 1, late + at, NULL, NULL, piece[p], &f.err), &f.err);
        CHECK_OK(lks_pq_write_column(f.w, 2, cyc + at, NULL, NULL, piece[p], &f.err), &f.err);
        CHECK_OK(lks_pq_write_column(f.w, 3, late_s + at, NULL, NULL, piece[p], &f.err), &f.err);
        CHECK_OK(lks_pq_writer_end_batch(f.w, (int64_t)piece[p], &f.err), &f.err);
        at += piece[p];
    }
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_column_meta *cm = chunk_meta(&f, 0, 0);
        CHECK(!has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK_EQ_INT(cm->dictionary_page_offset, -1);
        CHECK(has_encoding(chunk_meta(&f, 0, 1), LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(!has_encoding(chunk_meta(&f, 0, 2), LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(has_encoding(chunk_meta(&f, 0, 3), LKS_PQ_ENC_RLE_DICTIONARY));
        check_i64_column(&f, 0, 0, uniq, N);
        check_i64_column(&f, 0, 1, late, N);
        check_i64_column(&f, 0, 2, cyc, N);
        check_slice_column(&f, 0, 3, late_s, N);
    }
    pf_free(&f);
}

/* dictionary = 0: every page PLAIN even for one repeated value. */
static void t_dictionary_off(void) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", REQ, LKS_PQ_INT32)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.dictionary = 0;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    int32_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 4;
    CHECK_OK(lks_pq_write_column(f.w, 0, v, NULL, NULL, 100, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_end_batch(f.w, 100, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        CHECK(!has_encoding(chunk_meta(&f, 0, 0), LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK_EQ_INT(chunk_meta(&f, 0, 0)->dictionary_page_offset, -1);
    }
    pf_free(&f);
}

/* A dictionary past dict_max_bytes closes mid-chunk: the first pages use
 * it, the rest of the chunk is PLAIN, the values are intact. */
static void dict_overflow(int type) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", OPT, type)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.dict_max_bytes = 4096;
    o.page_bytes = 8192;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    enum { N = 60000 };
    static int64_t iv[N];
    static lks_slice sv[N];
    static char text[N][12];
    static uint16_t def[N];
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        def[i] = i % 17 != 5;
        if (!def[i])
            continue;
        /* few distinct values at first, then ever new ones */
        int x = i < 20000 ? i % 300 : i;
        iv[k] = (int64_t)x * 3;
        snprintf(text[k], sizeof text[k], "s%d", x);
        sv[k] = SLS(text[k]);
        k++;
    }
    const void *vals = type == LKS_PQ_INT64 ? (const void *)iv : (const void *)sv;
    size_t es = type == LKS_PQ_INT64 ? 8 : sizeof(lks_slice);
    /* in batches of 1000 rows */
    size_t vi = 0;
    int rc = LKS_OK;
    for (int at = 0; at < N && rc == LKS_OK; at += 1000) {
        size_t nn = 0;
        for (int i = at; i < at + 1000; i++)
            nn += def[i];
        rc = lks_pq_write_column(f.w, 0, (const uint8_t *)vals + vi * es, def + at, NULL, 1000, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, 1000, &f.err);
        CHECK_OK(rc, &f.err);
        vi += nn;
    }
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        CHECK_EQ_INT(lks_pq_reader_meta(f.r)->num_row_groups, 1);
        const lks_pq_column_meta *cm = chunk_meta(&f, 0, 0);
        CHECK(has_encoding(cm, LKS_PQ_ENC_RLE_DICTIONARY));
        CHECK(has_encoding(cm, LKS_PQ_ENC_PLAIN));
        static pginfo pg[4096];
        int n = walk_pages(&f, 0, 0, pg, 4096);
        CHECK(n > 3);
        int dict_pages = 0, dict_data = 0, plain_data = 0, plain_then_dict = 0, total = 0;
        for (int i = 0; i < n; i++) {
            if (pg[i].type == LKS_PQ_DICTIONARY_PAGE) {
                dict_pages++;
                CHECK_EQ_INT(i, 0);
                continue;
            }
            total += pg[i].nvals;
            if (pg[i].enc == LKS_PQ_ENC_RLE_DICTIONARY) {
                dict_data++;
                plain_then_dict += plain_data > 0;
            } else {
                CHECK_EQ_INT(pg[i].enc, LKS_PQ_ENC_PLAIN);
                plain_data++;
            }
        }
        CHECK_EQ_INT(dict_pages, 1);
        CHECK(dict_data >= 1);
        CHECK(plain_data >= 1);
        CHECK_EQ_INT(plain_then_dict, 0);
        CHECK_EQ_INT(total, N);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        rc = lks_pq_read_column(f.r, 0, 0, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.n, N);
            CHECK_EQ_INT(b.nvals, k);
            size_t bad = 0;
            for (size_t i = 0; i < k && i < b.nvals; i++)
                bad += !values_equal(type, vals, b.values, i);
            for (size_t i = 0; i < N; i++)
                bad += b.def[i] != def[i];
            CHECK_EQ_INT(bad, 0);
        }
        lks_pq_colbatch_free(&b);
    }
    pf_free(&f);
}

/* Byte values that share memory: the same address with other lengths, the
 * same addresses again, and one buffer rewritten between calls: every value
 * reads back as written, through the dictionary. */
static void t_dict_shared_memory(void) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", REQ, LKS_PQ_BYTE_ARRAY)};
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), NULL), &f.err);
    REQUIRE(f.w);
    enum { B = 500, CALLS = 6 };
    static char buf[64];
    static char want[CALLS * B][16];
    static lks_slice sv[B];
    int rc = LKS_OK;
    for (int call = 0; call < CALLS && rc == LKS_OK; call++) {
        snprintf(buf, sizeof buf, "%c%c-abcdefghijklmnop", 'a' + call, 'z' - call); /* rewritten each call */
        for (int i = 0; i < B; i++) {
            size_t off = (size_t)(i % 3), len = (size_t)(i * 7 % 11);
            sv[i] = SL(buf + off, len);
            memcpy(want[call * B + i], buf + off, len);
            want[call * B + i][len] = 0;
        }
        rc = lks_pq_write_column(f.w, 0, sv, NULL, NULL, B, &f.err);
        if (rc == LKS_OK) rc = lks_pq_writer_end_batch(f.w, B, &f.err);
    }
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        CHECK(has_encoding(chunk_meta(&f, 0, 0), LKS_PQ_ENC_RLE_DICTIONARY));
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        rc = lks_pq_read_column(f.r, 0, 0, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.nvals, CALLS * B);
            size_t bad = 0;
            const lks_slice *got = (const lks_slice *)b.values;
            for (size_t i = 0; i < b.nvals && i < CALLS * B; i++)
                bad += !slice_eq(got[i], SLS(want[i]));
            CHECK_EQ_INT(bad, 0);
        }
        lks_pq_colbatch_free(&b);
    }
    pf_free(&f);
}

static void t_dict_overflow_int64(void) { dict_overflow(LKS_PQ_INT64); }
static void t_dict_overflow_string(void) { dict_overflow(LKS_PQ_BYTE_ARRAY); }

/* ---- limits ----------------------------------------------------------------------- */

static void t_small_pages(void) {
    lks_pq_field fields[] = {G("schema", REQ, 2), L("x", REQ, LKS_PQ_INT64), L("y", OPT, LKS_PQ_DOUBLE)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.page_bytes = 1024;
    o.dictionary = 0;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    enum { N = 10000 };
    static int64_t x[N];
    static double y[N];
    static uint16_t def[N];
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        x[i] = (int64_t)i * i;
        def[i] = i % 4 != 0;
        if (def[i])
            y[k++] = i / 7.0;
    }
    CHECK_OK(lks_pq_write_column(f.w, 0, x, NULL, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 1, y, def, NULL, N, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_end_batch(f.w, N, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        static pginfo pg[4096];
        int n = walk_pages(&f, 0, 0, pg, 4096);
        /* 80000 bytes of values in pages of about 1 KiB */
        CHECK(n >= 60 && n <= 100);
        int total = 0;
        for (int i = 0; i < n; i++) {
            CHECK_EQ_INT(pg[i].type, LKS_PQ_DATA_PAGE);
            total += pg[i].nvals;
        }
        CHECK_EQ_INT(total, N);
        n = walk_pages(&f, 0, 1, pg, 4096);
        CHECK(n >= 40);
        check_i64_column(&f, 0, 0, x, N);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        rc = lks_pq_read_column(f.r, 0, 1, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.nvals, k);
            CHECK(b.nvals == k && memcmp(b.values, y, k * 8) == 0);
            CHECK(memcmp(b.def, def, sizeof def) == 0);
        }
        lks_pq_colbatch_free(&b);
    }
    pf_free(&f);
}

/* row_group_rows splits the file; rows_skip_row_group skips exactly the
 * rows of the groups it names. */
static void t_row_groups(void) {
    lks_pq_field fields[] = {G("schema", REQ, 2), L("id", REQ, LKS_PQ_INT64),
                             LT("s", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_rows = 1000;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    enum { N = 3500 };
    static int64_t id[N];
    static char text[N][16];
    static lks_slice sv[N];
    static uint16_t def[N];
    for (int i = 0; i < N; i++) {
        id[i] = i;
        def[i] = i % 3 != 0;
        snprintf(text[i], sizeof text[i], "r%d", i);
    }
    int rc = LKS_OK;
    for (int at = 0; at < N && rc == LKS_OK; at += 250) {
        size_t k = 0;
        for (int i = at; i < at + 250; i++)
            if (def[i])
                sv[k++] = SLS(text[i]);
        rc = lks_pq_write_column(f.w, 0, id + at, NULL, NULL, 250, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_write_column(f.w, 1, sv, def + at, NULL, 250, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, 250, &f.err);
        CHECK_OK(rc, &f.err);
    }
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc != LKS_OK) {
        pf_free(&f);
        return;
    }
    const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
    CHECK_EQ_INT(fm->num_rows, N);
    CHECK_EQ_INT(fm->num_row_groups, 4);
    static const int64_t want_rows[] = {1000, 1000, 1000, 500};
    for (int g = 0; g < fm->num_row_groups && g < 4; g++) {
        CHECK_EQ_INT(fm->row_groups[g].num_rows, want_rows[g]);
        /* per row group statistics */
        lks_pq_minmax mm;
        CHECK_EQ_INT(lks_pq_chunk_stats(f.r, g, 0, &mm), 1);
        CHECK_EQ_INT(mm.min.u.i64, g * 1000);
        CHECK_EQ_INT(mm.max.u.i64, g * 1000 + want_rows[g] - 1);
        check_i64_column(&f, g, 0, id + g * 1000, (size_t)want_rows[g]);
    }
    /* skip groups 1 and 3 */
    lks_pq_rows *it = NULL;
    CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
    REQUIRE(it);
    lks_pq_rows_skip_row_group(it, 1);
    lks_pq_rows_skip_row_group(it, 3);
    lks_pq_rows_skip_row_group(it, 99); /* ignored */
    const lks_pq_value *row;
    int got = 0, bad = 0;
    while ((rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
        int64_t want = got < 1000 ? got : got + 1000;
        REQUIRE(row->kind == LKS_PQ_V_GROUP && row->u.list.n == 2);
        const lks_pq_value *s = &row->u.list.items[1];
        bad += row->u.list.items[0].kind != LKS_PQ_V_INT64 || row->u.list.items[0].u.i64 != want;
        if (def[want])
            bad += s->kind != LKS_PQ_V_BYTES || !slice_eq(s->u.bytes, SLS(text[want]));
        else
            bad += s->kind != LKS_PQ_V_NULL;
        got++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, 2000);
    CHECK_EQ_INT(bad, 0);
    /* at the end it stays at the end */
    CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 0);
    lks_pq_rows_free(it);
    /* skipping everything gives no rows */
    CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
    REQUIRE(it);
    for (int g = 0; g < 4; g++)
        lks_pq_rows_skip_row_group(it, g);
    CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 0);
    lks_pq_rows_free(it);
    pf_free(&f);
}

/* Flat rows read column by column (lks_pq_rows_next_columns): the values
 * lks_pq_rows_next gives, batches within one row group, skipped row
 * groups, both ways mixed on one iterator; nested selections refused. */
static void t_rows_columns(void) {
    lks_pq_field fields[] = {G("schema", REQ, 6),
                             L("id", REQ, LKS_PQ_INT64),
                             L("i", OPT, LKS_PQ_INT32),
                             L("d", OPT, LKS_PQ_DOUBLE),
                             LT("s", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING),
                             L("b", OPT, LKS_PQ_BOOLEAN),
                             G("g", OPT, 1),
                             L("x", OPT, LKS_PQ_INT32)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_rows = 700;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    enum { N = 2600 };
    static char text[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "s%d", i);
        lks_pq_value gx[1] = {VI32(i)};
        lks_pq_value items[6] = {VI64(i * 3),
                                 i % 5 == 1 ? VNULL : VI32(-i),
                                 i % 7 < 3 ? VNULL : VD(i / 4.0),
                                 i % 2 ? VS(text[i]) : VNULL,
                                 i % 3 == 0 ? VNULL : (lks_pq_value){.kind = LKS_PQ_V_BOOL, .u.b = i % 3 == 1},
                                 i % 4 == 0 ? VNULL : VG(gx, 1)};
        lks_pq_value row = VG(items, 6);
        CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    }
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc != LKS_OK) {
        pf_free(&f);
        return;
    }
    REQUIRE(lks_pq_reader_meta(f.r)->num_row_groups == 4);
    int leaves[] = {0, 1, 2, 3, 4};
    static lks_pq_value store[6][64];
    lks_pq_value *cols[6] = {store[0], store[1], store[2], store[3], store[4], NULL};
    static const size_t maxes[] = {1, 7, 64};
    for (int pass = 0; pass < 4; pass++) {
        size_t max = maxes[pass % 3];
        int mixed = pass == 3, skip1 = pass >= 1;
        lks_pq_rows *it = NULL, *ref = NULL;
        CHECK_OK(lks_pq_rows_open(f.r, leaves, 5, &it, &f.err), &f.err);
        CHECK_OK(lks_pq_rows_open(f.r, leaves, 5, &ref, &f.err), &f.err);
        REQUIRE(it && ref);
        CHECK(lks_pq_rows_is_flat(it));
        if (skip1) {
            lks_pq_rows_skip_row_group(it, 1);
            lks_pq_rows_skip_row_group(ref, 1);
        }
        long rows = 0, bad = 0, batches = 0;
        int64_t want_rg = 0, want_first = 0;
        for (;;) {
            size_t n = 0;
            int rg = -1;
            int64_t first = -1;
            const lks_pq_value *row;
            if (want_first >= 700) {
                /* the next row group that is read */
                want_rg += skip1 && want_rg == 0 ? 2 : 1;
                want_first = 0;
            }
            if (mixed && batches % 2 == 1) {
                /* a row by row step in between */
                rc = lks_pq_rows_next(it, &row, &f.err);
                if (rc != 1)
                    break;
                for (int k = 0; k < 5; k++)
                    cols[k][0] = row->u.list.items[k];
                n = 1;
                rg = (int)want_rg, first = want_first;
            } else {
                rc = lks_pq_rows_next_columns(it, max, cols, &n, &rg, &first, &f.err);
                if (rc != 1)
                    break;
            }
            batches++;
            bad += rg != want_rg || first != want_first || n == 0 || n > max || (int64_t)n > 700 - first;
            want_first += (int64_t)n;
            for (size_t i = 0; i < n; i++) {
                CHECK_EQ_INT(lks_pq_rows_next(ref, &row, &f.err), 1);
                for (int k = 0; k < 5; k++) {
                    const lks_pq_value *a = &cols[k][i], *b = &row->u.list.items[k];
                    int same = a->kind == b->kind;
                    if (same && a->kind == LKS_PQ_V_BYTES)
                        same = slice_eq(a->u.bytes, b->u.bytes);
                    else if (same && a->kind != LKS_PQ_V_NULL)
                        same = a->kind == LKS_PQ_V_DOUBLE  ? a->u.f64 == b->u.f64
                               : a->kind == LKS_PQ_V_INT64 ? a->u.i64 == b->u.i64
                               : a->kind == LKS_PQ_V_INT32 ? a->u.i32 == b->u.i32
                                                           : a->u.b == b->u.b;
                    bad += !same;
                }
            }
            rows += (long)n;
        }
        CHECK_EQ_INT(rc, 0);
        const lks_pq_value *row;
        CHECK_EQ_INT(lks_pq_rows_next(ref, &row, &f.err), 0);
        CHECK_EQ_INT(rows, skip1 ? N - 700 : N);
        if (bad)
            FAILF("pass %d (max %zu): %ld mismatches", pass, max, bad);
        /* at the end it stays at the end */
        size_t n = 9;
        int rg;
        int64_t first;
        CHECK_EQ_INT(lks_pq_rows_next_columns(it, max, cols, &n, &rg, &first, &f.err), 0);
        CHECK_EQ_INT(n, 0);
        lks_pq_rows_free(it);
        lks_pq_rows_free(ref);
    }
    /* spot values: row 701 is in group 1, position 1 */
    lks_pq_rows *it = NULL;
    CHECK_OK(lks_pq_rows_open(f.r, leaves, 5, &it, &f.err), &f.err);
    REQUIRE(it);
    lks_pq_rows_skip_row_group(it, 0);
    size_t n;
    int rg;
    int64_t first;
    CHECK_EQ_INT(lks_pq_rows_next_columns(it, 2, cols, &n, &rg, &first, &f.err), 1);
    CHECK(n == 2 && rg == 1 && first == 0);
    CHECK(cols[0][1].kind == LKS_PQ_V_INT64 && cols[0][1].u.i64 == 701 * 3);
    CHECK(cols[1][1].kind == LKS_PQ_V_NULL); /* 701 % 5 == 1 */
    CHECK(cols[2][1].kind == LKS_PQ_V_NULL); /* 701 % 7 == 1 */
    CHECK(cols[2][0].kind == LKS_PQ_V_NULL && cols[4][0].kind == LKS_PQ_V_BOOL && cols[4][0].u.b == 1);
    CHECK(cols[3][1].kind == LKS_PQ_V_BYTES && slice_eq(cols[3][1].u.bytes, SLS("s701")));
    lks_pq_rows_free(it);
    /* the group column selected: not flat, refused with a message */
    CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
    REQUIRE(it);
    CHECK(!lks_pq_rows_is_flat(it));
    CHECK_EQ_INT(lks_pq_rows_next_columns(it, 4, cols, &n, &rg, &first, &f.err), LKS_EINVAL);
    CHECK(strstr(f.err.msg, "not flat") != NULL);
    lks_pq_rows_free(it);
    pf_free(&f);
}

/* A row group also closes past row_group_bytes, and flush closes one now. */
static void t_row_group_bytes_and_flush(void) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", REQ, LKS_PQ_INT64)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_bytes = 4000;
    o.dictionary = 0;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    int64_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i;
    /* 100 rows of 8 bytes per batch: past 4000 bytes every 5 batches */
    for (int b = 0; b < 10; b++) {
        CHECK_OK(lks_pq_write_column(f.w, 0, v, NULL, NULL, 100, &f.err), &f.err);
        CHECK_OK(lks_pq_writer_end_batch(f.w, 100, &f.err), &f.err);
    }
    CHECK_OK(lks_pq_writer_flush(f.w, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_flush(f.w, &f.err), &f.err); /* empty: no-op */
    CHECK_OK(lks_pq_write_column(f.w, 0, v, NULL, NULL, 7, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_end_batch(f.w, 7, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_rows, 1007);
        CHECK(fm->num_row_groups >= 3);
        int64_t sum = 0;
        for (int g = 0; g < fm->num_row_groups; g++) {
            sum += fm->row_groups[g].num_rows;
            CHECK(fm->row_groups[g].num_rows > 0);
            CHECK(fm->row_groups[g].num_rows % 100 == 0 || g == fm->num_row_groups - 1);
        }
        CHECK_EQ_INT(sum, 1007);
        CHECK_EQ_INT(fm->row_groups[fm->num_row_groups - 1].num_rows, 7);
    }
    pf_free(&f);
}

/* ---- key/value metadata ------------------------------------------------------------ */

static void t_kv(void) {
    lks_pq_field fields[] = {G("schema", REQ, 1), L("x", REQ, LKS_PQ_INT32)};
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), NULL), &f.err);
    REQUIRE(f.w);
    char key[8] = "a", val[8] = "1";
    CHECK_OK(lks_pq_writer_set_kv(f.w, key, val), (lks_err *)NULL);
    strcpy(val, "X"); /* copied: later changes do not show */
    CHECK_OK(lks_pq_writer_set_kv(f.w, "nullv", NULL), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_kv(f.w, "b", "x"), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_kv(f.w, "a", "2"), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_kv(f.w, "b", NULL), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_kv(f.w, "nullv", "now set"), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_kv(f.w, "n2", NULL), (lks_err *)NULL);
    CHECK_EQ_INT(lks_pq_writer_set_kv(f.w, NULL, "v"), LKS_EINVAL);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_kv, 4);
        int seen = 0;
        for (int i = 0; i < fm->num_kv; i++) {
            const lks_pq_kv *kv = &fm->kv[i];
            if (strcmp(kv->key, "a") == 0) {
                CHECK_EQ_STR(kv->value, "2");
                seen |= 1;
            } else if (strcmp(kv->key, "b") == 0) {
                CHECK(kv->value == NULL);
                seen |= 2;
            } else if (strcmp(kv->key, "nullv") == 0) {
                CHECK_EQ_STR(kv->value, "now set");
                seen |= 4;
            } else if (strcmp(kv->key, "n2") == 0) {
                CHECK(kv->value == NULL);
                seen |= 8;
            } else {
                FAILF("unexpected key %s", kv->key);
            }
        }
        CHECK_EQ_INT(seen, 15);
        CHECK(fm->created_by && strncmp(fm->created_by, "lakesync", 8) == 0);
        CHECK_EQ_INT(fm->num_row_groups, 0);
    }
    pf_free(&f);
}

/* ---- bloom filters ---------------------------------------------------------------- */

/* The bloom hash of 4- and 8-byte values (computed inline) is XXH64's. */
static void t_bloom_hash(void) {
    uint64_t x = 0x0123456789ABCDEFull;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint8_t b[9];
        memcpy(b, &x, 8);
        b[8] = (uint8_t)i;
        for (size_t len = 0; len <= 9; len++)
            bad += lks_pq_bloom_hash(b, len) != lks_xxh64(b, len, 0);
    }
    CHECK_EQ_INT(bad, 0);
}

static void t_bloom(void) {
    lks_pq_field fields[] = {G("schema", REQ, 4), L("id", REQ, LKS_PQ_INT64),
                             LT("s", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING), L("plain", REQ, LKS_PQ_INT64),
                             L("fl", REQ, LKS_PQ_FIXED_LEN_BYTE_ARRAY)};
    fields[4].type_length = 3;
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_rows = 1000;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    CHECK_OK(lks_pq_writer_set_bloom(f.w, 0, 1000, 0.01), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_bloom(f.w, 1, 1000, 0.01), (lks_err *)NULL);
    CHECK_OK(lks_pq_writer_set_bloom(f.w, 3, 1000, 0.01), (lks_err *)NULL);
    CHECK_EQ_INT(lks_pq_writer_set_bloom(f.w, 9, 1000, 0.01), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_writer_set_bloom(f.w, 0, 1000, 0), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_writer_set_bloom(f.w, 0, 1000, 1.5), LKS_EINVAL);
    enum { N = 2000 };
    static int64_t id[N];
    static char text[N][16];
    static lks_slice sv[N], fv[N];
    static uint8_t fb[N][3];
    static uint16_t def[N];
    for (int i = 0; i < N; i++) {
        id[i] = (int64_t)i * 7919 + 13;
        snprintf(text[i], sizeof text[i], "key-%d", i);
        def[i] = i % 10 != 0;
        fb[i][0] = (uint8_t)i, fb[i][1] = (uint8_t)(i >> 8), fb[i][2] = 0x5a;
        fv[i] = SL(fb[i], 3);
    }
    int rc = LKS_OK;
    for (int g = 0; g < 2 && rc == LKS_OK; g++) {
        size_t k = 0;
        for (int i = g * 1000; i < g * 1000 + 1000; i++)
            if (def[i])
                sv[k++] = SLS(text[i]);
        rc = lks_pq_write_column(f.w, 0, id + g * 1000, NULL, NULL, 1000, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_write_column(f.w, 1, sv, def + g * 1000, NULL, 1000, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_write_column(f.w, 2, id + g * 1000, NULL, NULL, 1000, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_write_column(f.w, 3, fv + g * 1000, NULL, NULL, 1000, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, 1000, &f.err);
        CHECK_OK(rc, &f.err);
    }
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc != LKS_OK) {
        pf_free(&f);
        return;
    }
    CHECK_EQ_INT(lks_pq_reader_meta(f.r)->num_row_groups, 2);
    for (int g = 0; g < 2; g++) {
        CHECK(chunk_meta(&f, g, 0)->bloom_filter_offset > 0);
        CHECK(chunk_meta(&f, g, 0)->bloom_filter_length > 32);
        CHECK_EQ_INT(chunk_meta(&f, g, 2)->bloom_filter_offset, -1);
        int missing = 0;
        for (int i = g * 1000; i < g * 1000 + 1000; i++) {
            missing += lks_pq_bloom_may_contain(f.r, g, 0, &id[i], &f.err) != 1;
            if (def[i]) {
                lks_slice s = SLS(text[i]);
                missing += lks_pq_bloom_may_contain(f.r, g, 1, &s, &f.err) != 1;
            }
            missing += lks_pq_bloom_may_contain(f.r, g, 3, &fv[i], &f.err) != 1;
        }
        CHECK_EQ_INT(missing, 0);
        /* 10000 absent values: about 1% false positives */
        int fp_id = 0, fp_s = 0, fp_fl = 0, no_filter = 0, errors = 0;
        for (int i = 0; i < 10000; i++) {
            int64_t x = (int64_t)i * 7919 + 14; /* never i*7919+13 */
            char t[32];
            snprintf(t, sizeof t, "absent-%d", i);
            lks_slice s = SLS(t);
            uint8_t fx[3] = {(uint8_t)i, (uint8_t)(i >> 8), 0xa5};
            lks_slice fs = SL(fx, 3);
            int a = lks_pq_bloom_may_contain(f.r, g, 0, &x, &f.err);
            int b = lks_pq_bloom_may_contain(f.r, g, 1, &s, &f.err);
            int c = lks_pq_bloom_may_contain(f.r, g, 2, &x, &f.err);
            int d = lks_pq_bloom_may_contain(f.r, g, 3, &fs, &f.err);
            errors += a < 0 || b < 0 || c < 0 || d < 0;
            fp_id += a == 1;
            fp_s += b == 1;
            no_filter += c == 1;
            fp_fl += d == 1;
        }
        CHECK_EQ_INT(errors, 0);
        if (fp_id >= 300 || fp_s >= 300 || fp_fl >= 300)
            FAILF("row group %d: false positives id %d, s %d, fl %d of 10000", g, fp_id, fp_s, fp_fl);
        CHECK_EQ_INT(no_filter, 10000); /* no filter: always maybe */
    }
    /* values of the other row group are mostly absent from this one */
    int cross = 0;
    for (int i = 1000; i < 2000; i++)
        cross += lks_pq_bloom_may_contain(f.r, 0, 0, &id[i], &f.err) == 1;
    CHECK(cross < 30);
    CHECK_EQ_INT(lks_pq_bloom_may_contain(f.r, 5, 0, &id[0], &f.err), LKS_EINVAL);
    pf_free(&f);
}

/* ---- projection ------------------------------------------------------------------ */

/* A source over memory that records which byte ranges were read. */
typedef struct rsrc {
    const uint8_t *p;
    uint64_t off[1024], n[1024];
    int nreads;
} rsrc;

static int rsrc_read(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    (void)err;
    rsrc *r = ud;
    if (r->nreads < 1024) {
        r->off[r->nreads] = off;
        r->n[r->nreads] = n;
    }
    r->nreads++;
    memcpy(dst, r->p + off, n);
    return LKS_OK;
}

static int read_overlaps(const rsrc *r, uint64_t start, uint64_t len) {
    for (int i = 0; i < r->nreads && i < 1024; i++)
        if (r->off[i] < start + len && start < r->off[i] + r->n[i])
            return 1;
    return 0;
}

static void t_projection(void) {
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_rows = 50;
    pqfile f;
    CHECK_OK(pf_open(&f, nested_fields, NF(nested_fields), &o), &f.err);
    REQUIRE(f.w);
    rowstore rs;
    enum { N = 120 };
    for (int i = 0; i < N; i++) {
        lks_pq_value row = nested_row(&rs, i);
        CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    }
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc != LKS_OK) {
        pf_free(&f);
        return;
    }
    /* a second reader over a recording source */
    static rsrc rec;
    memset(&rec, 0, sizeof rec);
    rec.p = f.out.ptr;
    lks_pq_source src = {rsrc_read, &rec, f.out.len, "rec.parquet"};
    lks_pq_reader *r = NULL;
    CHECK_OK(lks_pq_reader_open(&src, NULL, &r, &f.err), &f.err);
    REQUIRE(r);
    int c_id = lks_pq_schema_find(f.s, "id"), c_a = lks_pq_schema_find(f.s, "s.a"),
        c_le = lks_pq_schema_find(f.s, "l.list.element"), c_name = lks_pq_schema_find(f.s, "name");
    REQUIRE(c_id >= 0 && c_a >= 0 && c_le >= 0 && c_name >= 0);
    int sel[] = {c_le, c_id, c_a};
    lks_pq_rows *it = NULL;
    rec.nreads = 0;
    CHECK_OK(lks_pq_rows_open(r, sel, 3, &it, &f.err), &f.err);
    REQUIRE(it);
    const lks_pq_value *row;
    int got = 0, bad = 0;
    lks_pq_value items[7];
    while ((rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
        /* what the row should be: the written row with unselected fields NULL
         * and s holding a only */
        lks_pq_value w = nested_row(&rs, got);
        memcpy(items, w.u.list.items, sizeof items);
        lks_pq_value s_items[2];
        if (items[1].kind == LKS_PQ_V_GROUP) {
            s_items[0] = items[1].u.list.items[0];
            s_items[1] = VNULL;
            items[1] = VG(s_items, 2);
        }
        items[3] = VNULL, items[4] = VNULL, items[5] = VNULL, items[6] = VNULL;
        lks_pq_value want = VG(items, 7);
        char want_text[4096];
        snprintf(want_text, sizeof want_text, "%s", js(f.s, 0, &want));
        const char *text = js(lks_pq_reader_schema(r), 0, row);
        if (strcmp(text, want_text) != 0 && bad++ < 3)
            FAILF("row %d:\n  got  %s\n  want %s", got, text, want_text);
        /* unselected top-level fields are NULL values */
        REQUIRE(row->kind == LKS_PQ_V_GROUP && row->u.list.n == 7);
        for (int k = 3; k < 7; k++)
            bad += row->u.list.items[k].kind != LKS_PQ_V_NULL;
        got++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, N);
    CHECK_EQ_INT(bad, 0);
    lks_pq_rows_free(it);
    /* only the selected chunks were read */
    CHECK(rec.nreads > 0 && rec.nreads <= 1024);
    const lks_pq_file_meta *fm = lks_pq_reader_meta(r);
    CHECK_EQ_INT(fm->num_row_groups, 3);
    for (int g = 0; g < fm->num_row_groups; g++)
        for (int c = 0; c < f.s->num_cols; c++) {
            const lks_pq_column_meta *cm = &fm->row_groups[g].columns[c].meta;
            int64_t start = cm->dictionary_page_offset >= 0 ? cm->dictionary_page_offset : cm->data_page_offset;
            int selected = c == c_id || c == c_a || c == c_le;
            if (read_overlaps(&rec, (uint64_t)start, (uint64_t)cm->total_compressed_size) != selected)
                FAILF("row group %d column %s: %s", g, f.s->cols[c].path, selected ? "not read" : "read");
        }
    /* deep leaves only: map values (keys come back NULL), the inner list
     * elements of ll, and s.b.c (s.a comes back NULL) */
    int c_mv = lks_pq_schema_find(f.s, "m.key_value.value"),
        c_ll = lks_pq_schema_find(f.s, "ll.list.element.list.element"), c_c = lks_pq_schema_find(f.s, "s.b.c");
    REQUIRE(c_mv >= 0 && c_ll >= 0 && c_c >= 0);
    int sel2[] = {c_mv, c_ll, c_c};
    CHECK_OK(lks_pq_rows_open(r, sel2, 3, &it, &f.err), &f.err);
    REQUIRE(it);
    got = 0, bad = 0;
    while ((rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
        lks_pq_value w = nested_row(&rs, got);
        memcpy(items, w.u.list.items, sizeof items);
        lks_pq_value s_items[2], kv[4][2], reps[4], m_items[1];
        if (items[1].kind == LKS_PQ_V_GROUP) {
            s_items[0] = VNULL;
            s_items[1] = items[1].u.list.items[1];
            items[1] = VG(s_items, 2);
        }
        if (items[3].kind == LKS_PQ_V_GROUP) {
            const lks_pq_value *mr = &items[3].u.list.items[0];
            for (size_t k = 0; k < mr->u.list.n; k++) {
                kv[k][0] = VNULL;
                kv[k][1] = mr->u.list.items[k].u.list.items[1];
                reps[k] = VG(kv[k], 2);
            }
            m_items[0] = VR(mr->u.list.n ? reps : NULL, mr->u.list.n);
            items[3] = VG(m_items, 1);
        }
        items[0] = VNULL, items[2] = VNULL, items[5] = VNULL, items[6] = VNULL;
        lks_pq_value want = VG(items, 7);
        char want_text[4096];
        snprintf(want_text, sizeof want_text, "%s", js(f.s, 0, &want));
        const char *text = js(lks_pq_reader_schema(r), 0, row);
        if (strcmp(text, want_text) != 0 && bad++ < 3)
            FAILF("row %d:\n  got  %s\n  want %s", got, text, want_text);
        if (got == 11)
            CHECK_EQ_STR(text, "{\"id\":null,\"s\":null,\"l\":null,\"m\":{\"null\":110,\"null\":null},"
                               "\"ll\":[[],[],[11,12,13]],\"t\":null,\"name\":null}");
        if (got == 8)
            CHECK_EQ_STR(text, "{\"id\":null,\"s\":{\"a\":null,\"b\":{\"c\":4}},\"l\":null,\"m\":{\"null\":80,"
                               "\"null\":null},\"ll\":[[8,9],[]],\"t\":null,\"name\":null}");
        got++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, N);
    CHECK_EQ_INT(bad, 0);
    lks_pq_rows_free(it);
    /* an empty selection: every field NULL, one row per row */
    CHECK_OK(lks_pq_rows_open(r, sel, 0, &it, &f.err), &f.err);
    REQUIRE(it);
    got = 0;
    while ((rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
        if (got == 0)
            CHECK_EQ_STR(js(lks_pq_reader_schema(r), 0, row),
                         "{\"id\":null,\"s\":null,\"l\":null,\"m\":null,\"ll\":null,\"t\":null,\"name\":null}");
        got++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, N);
    lks_pq_rows_free(it);
    /* a column index out of range */
    int badsel[] = {0, 9};
    it = (lks_pq_rows *)1;
    CHECK_EQ_INT(lks_pq_rows_open(r, badsel, 2, &it, &f.err), LKS_EINVAL);
    CHECK(it == NULL);
    lks_pq_reader_free(r);
    pf_free(&f);
}

/* ---- errors ------------------------------------------------------------------------ */

static int msg_has(const lks_err *err, const char *what) { return strstr(err->msg, what) != NULL; }

static const lks_pq_field err_fields[] = {
    SG("schema", REQ, 4),
    SLF("id", REQ, LKS_PQ_INT64),
    SLF("opt", OPT, LKS_PQ_INT32),
    {"fixed", OPT, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 4, {0}, -1, 0},
    SGL("lst", OPT, 1, LKS_PQ_LT_LIST),
    SG("list", REP, 1),
    SLF("element", OPT, LKS_PQ_INT32),
};

/* Rejected level batches leave the writer untouched: the file written
 * afterwards reads back exactly. */
static void t_errors_levels(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    REQUIRE(f.s->num_cols == 4);
    int32_t iv[4] = {1, 2, 3, 4};
    /* definition level above max */
    uint16_t d_bad[3] = {1, 2, 0};
    CHECK_EQ_INT(lks_pq_write_column(f.w, 1, iv, d_bad, NULL, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "opt"));
    /* repetition level above max */
    uint16_t d3[3] = {3, 3, 3}, r_bad[3] = {0, 2, 1};
    CHECK_EQ_INT(lks_pq_write_column(f.w, 3, iv, d3, r_bad, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "lst.list.element"));
    /* a batch starting inside a row */
    uint16_t r_in[3] = {1, 0, 1};
    CHECK_EQ_INT(lks_pq_write_column(f.w, 3, iv, d3, r_in, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "lst.list.element"));
    /* levels missing */
    CHECK_EQ_INT(lks_pq_write_column(f.w, 1, iv, NULL, NULL, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "opt"));
    CHECK_EQ_INT(lks_pq_write_column(f.w, 3, iv, d3, NULL, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "lst.list.element"));
    /* values missing for non-null entries */
    uint16_t d_ok[3] = {0, 1, 1};
    CHECK_EQ_INT(lks_pq_write_column(f.w, 1, NULL, d_ok, NULL, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "opt"));
    /* no such column */
    CHECK_EQ_INT(lks_pq_write_column(f.w, 4, iv, NULL, NULL, 1, &f.err), LKS_EINVAL);
    CHECK_EQ_INT(lks_pq_write_column(f.w, -1, iv, NULL, NULL, 1, &f.err), LKS_EINVAL);
    /* the writer is still fine: two rows */
    int64_t ids[2] = {10, 20};
    uint8_t fx[4] = {1, 2, 3, 4};
    lks_slice fv[1] = {SL(fx, 4)};
    uint16_t d_opt[2] = {1, 0}, d_fix[2] = {0, 1};
    uint16_t d_l[3] = {3, 2, 0}, r_l[3] = {0, 1, 0}; /* [1, null], null list */
    int rc = lks_pq_write_column(f.w, 0, ids, NULL, NULL, 2, &f.err);
    if (rc == LKS_OK)
        rc = lks_pq_write_column(f.w, 1, iv, d_opt, NULL, 2, &f.err);
    if (rc == LKS_OK)
        rc = lks_pq_write_column(f.w, 2, fv, d_fix, NULL, 2, &f.err);
    if (rc == LKS_OK)
        rc = lks_pq_write_column(f.w, 3, iv, d_l, r_l, 3, &f.err);
    if (rc == LKS_OK)
        rc = lks_pq_writer_end_batch(f.w, 2, &f.err);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        rc = lks_pq_read_column(f.r, 0, 1, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.n, 2);
            CHECK_EQ_INT(b.nvals, 1);
            CHECK(b.n == 2 && b.def[0] == 1 && b.def[1] == 0);
            CHECK(b.nvals == 1 && ((const int32_t *)b.values)[0] == 1);
        }
        rc = lks_pq_read_column(f.r, 0, 3, &b, &f.err);
        CHECK_OK(rc, &f.err);
        if (rc == LKS_OK) {
            CHECK_EQ_INT(b.n, 3);
            CHECK(b.n == 3 && memcmp(b.def, d_l, 6) == 0 && memcmp(b.rep, r_l, 6) == 0);
            CHECK_EQ_INT(b.nvals, 1);
        }
        lks_pq_colbatch_free(&b);
        lks_pq_rows *it = NULL;
        CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
        const lks_pq_value *row;
        REQUIRE(it);
        CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 1);
        CHECK_EQ_STR(js(lks_pq_reader_schema(f.r), 0, row), "{\"id\":10,\"opt\":1,\"fixed\":null,\"lst\":[1,null]}");
        CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 1);
        CHECK_EQ_STR(js(lks_pq_reader_schema(f.r), 0, row),
                     "{\"id\":20,\"opt\":null,\"fixed\":\"AQIDBA==\",\"lst\":null}");
        CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 0);
        lks_pq_rows_free(it);
    }
    pf_free(&f);
}

/* Columns given different row counts: end_batch names the column. */
static void t_errors_row_counts(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    int64_t ids[3] = {1, 2, 3};
    int32_t iv[3] = {1, 2, 3};
    uint16_t d[3] = {1, 1, 1}, d0[3] = {0, 0, 0}, rl[3] = {0, 1, 0};
    CHECK_OK(lks_pq_write_column(f.w, 0, ids, NULL, NULL, 3, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 1, iv, d, NULL, 2, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 2, NULL, d0, NULL, 3, &f.err), &f.err);
    /* 3 entries but 2 rows: [x, y], [] */
    uint16_t dl[3] = {3, 3, 1};
    CHECK_OK(lks_pq_write_column(f.w, 3, iv, dl, rl, 3, &f.err), &f.err);
    CHECK_EQ_INT(lks_pq_writer_end_batch(f.w, 3, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "opt") || msg_has(&f.err, "lst.list.element"));
    /* the writer is unusable now */
    CHECK_EQ_INT(lks_pq_write_column(f.w, 0, ids, NULL, NULL, 1, &f.err), LKS_EINVAL);
    CHECK(lks_pq_writer_close(f.w, &f.err) != LKS_OK);
    pf_free(&f);
    /* each mismatching column is named */
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    CHECK_OK(lks_pq_write_column(f.w, 0, ids, NULL, NULL, 2, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 1, iv, d, NULL, 2, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 2, NULL, d0, NULL, 2, &f.err), &f.err);
    CHECK_OK(lks_pq_write_column(f.w, 3, iv, dl, rl, 3, &f.err), &f.err); /* 2 rows */
    CHECK_OK(lks_pq_write_column(f.w, 3, iv, dl, rl, 1, &f.err), &f.err); /* 3 rows */
    CHECK_EQ_INT(lks_pq_writer_end_batch(f.w, 2, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "lst.list.element"));
    pf_free(&f);
    /* flush or close with rows outside a batch */
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    CHECK_OK(lks_pq_write_column(f.w, 0, ids, NULL, NULL, 2, &f.err), &f.err);
    CHECK_EQ_INT(lks_pq_writer_flush(f.w, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "id"));
    CHECK_EQ_INT(lks_pq_writer_close(f.w, &f.err), LKS_EINVAL);
    pf_free(&f);
}

/* A FIXED_LEN_BYTE_ARRAY value of the wrong width. */
static void t_errors_flba_width(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    uint8_t five[5] = {1, 2, 3, 4, 5};
    lks_slice fv[2] = {SL(five, 4), SL(five, 5)};
    uint16_t d[2] = {1, 1};
    CHECK_EQ_INT(lks_pq_write_column(f.w, 2, fv, d, NULL, 2, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "fixed"));
    /* the same through a value tree */
    pf_free(&f);
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    lks_pq_value items[4] = {VI64(1), VNULL, VB(five, 3), VNULL};
    lks_pq_value row = VG(items, 4);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "fixed"));
    pf_free(&f);
}

/* write_row refusals: a required field null, a value of the wrong kind, a
 * group of the wrong size.  The writer stays usable and later rows land. */
static void t_errors_write_row(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    lks_pq_value el[2][1] = {{VI32(5)}, {VNULL}};
    lks_pq_value reps[2] = {VG(el[0], 1), VG(el[1], 1)};
    lks_pq_value lst[1] = {VR(reps, 2)};
    uint8_t fx[4] = {9, 8, 7, 6};
    /* good */
    lks_pq_value good[4] = {VI64(1), VI32(2), VB(fx, 4), VG(lst, 1)};
    lks_pq_value row = VG(good, 4);
    CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    /* required id null */
    lks_pq_value bad1[4] = {VNULL, VI32(2), VB(fx, 4), VG(lst, 1)};
    row = VG(bad1, 4);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "id"));
    /* wrong kind, after other columns were staged */
    lks_pq_value bad2[4] = {VI64(3), VI32(2), VB(fx, 4), VNULL};
    bad2[1] = VI64(7);
    row = VG(bad2, 4);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "opt"));
    /* an element of the list of the wrong kind */
    lks_pq_value elx[1] = {VS("no")};
    lks_pq_value repx[2] = {VG(el[0], 1), VG(elx, 1)};
    lks_pq_value lstx[1] = {VR(repx, 2)};
    lks_pq_value bad3[4] = {VI64(4), VNULL, VNULL, VG(lstx, 1)};
    row = VG(bad3, 4);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "lst.list.element"));
    /* a root of the wrong size, a repeated field given a scalar */
    row = VG(good, 3);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    lks_pq_value scal[1] = {VI32(1)};
    lks_pq_value bad4[4] = {VI64(5), VNULL, VNULL, VG(scal, 1)};
    row = VG(bad4, 4);
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "list"));
    /* still usable */
    lks_pq_value later[4] = {VI64(6), VNULL, VNULL, VNULL};
    row = VG(later, 4);
    CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        CHECK_EQ_INT(lks_pq_reader_meta(f.r)->num_rows, 2);
        lks_pq_rows *it = NULL;
        CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
        REQUIRE(it);
        const lks_pq_value *r;
        CHECK_EQ_INT(lks_pq_rows_next(it, &r, &f.err), 1);
        CHECK_EQ_STR(js(lks_pq_reader_schema(f.r), 0, r),
                     "{\"id\":1,\"opt\":2,\"fixed\":\"CQgHBg==\",\"lst\":[5,null]}");
        CHECK_EQ_INT(lks_pq_rows_next(it, &r, &f.err), 1);
        CHECK_EQ_STR(js(lks_pq_reader_schema(f.r), 0, r), "{\"id\":6,\"opt\":null,\"fixed\":null,\"lst\":null}");
        CHECK_EQ_INT(lks_pq_rows_next(it, &r, &f.err), 0);
        lks_pq_rows_free(it);
    }
    pf_free(&f);
}

/* Everything after close is refused; close twice is fine. */
static void t_errors_after_close(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, err_fields, NF(err_fields), NULL), &f.err);
    REQUIRE(f.w);
    lks_pq_value items[4] = {VI64(1), VNULL, VNULL, VNULL};
    lks_pq_value row = VG(items, 4);
    CHECK_OK(lks_pq_write_row(f.w, &row, &f.err), &f.err);
    CHECK_OK(lks_pq_writer_close(f.w, &f.err), &f.err);
    size_t len = f.out.len;
    int64_t id = 2;
    CHECK_EQ_INT(lks_pq_write_column(f.w, 0, &id, NULL, NULL, 1, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "closed"));
    CHECK_EQ_INT(lks_pq_write_row(f.w, &row, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "closed"));
    CHECK_EQ_INT(lks_pq_writer_end_batch(f.w, 0, &f.err), LKS_EINVAL);
    CHECK(msg_has(&f.err, "closed"));
    CHECK_OK(lks_pq_writer_close(f.w, &f.err), &f.err);
    CHECK_EQ_INT(f.out.len, len); /* nothing more written */
    CHECK(lks_pq_writer_meta(f.w) != NULL);
    CHECK_EQ_INT(lks_pq_writer_meta(f.w)->num_rows, 1);
    pf_free(&f);
}

/* A sink error makes the writer fail and stay failed. */
static int failing_sink(void *ud, const void *p, size_t n, lks_err *err) {
    int *budget = ud;
    (void)p;
    if ((int)n > *budget)
        return lks_err_set(err, LKS_EIO, "sink full");
    *budget -= (int)n;
    return LKS_OK;
}

static void t_errors_sink(void) {
    lks_pq_schema *s;
    lks_err err;
    CHECK_OK(lks_pq_schema_build(err_fields, NF(err_fields), &s, &err), &err);
    REQUIRE(s);
    int budget = 2;
    lks_pq_writer *w = (lks_pq_writer *)1;
    CHECK_EQ_INT(lks_pq_writer_open(s, NULL, failing_sink, &budget, &w, &err), LKS_EIO);
    CHECK(w == NULL);
    budget = 100;
    CHECK_OK(lks_pq_writer_open(s, NULL, failing_sink, &budget, &w, &err), &err);
    REQUIRE(w);
    lks_pq_value items[4] = {VI64(1), VNULL, VNULL, VNULL};
    lks_pq_value row = VG(items, 4);
    CHECK_OK(lks_pq_write_row(w, &row, &err), &err);
    CHECK_EQ_INT(lks_pq_writer_close(w, &err), LKS_EIO);
    CHECK(lks_pq_writer_close(w, &err) != LKS_OK);
    CHECK(lks_pq_write_row(w, &row, &err) != LKS_OK);
    CHECK(lks_pq_writer_meta(w) == NULL);
    lks_pq_writer_free(w);
    lks_pq_schema_free(s);
}

/* ---- empty and large files --------------------------------------------------------- */

static void t_empty_file(void) {
    pqfile f;
    CHECK_OK(pf_open(&f, nested_fields, NF(nested_fields), NULL), &f.err);
    REQUIRE(f.w);
    /* an empty batch changes nothing */
    CHECK_OK(lks_pq_writer_end_batch(f.w, 0, &f.err), &f.err);
    int rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_rows, 0);
        CHECK_EQ_INT(fm->num_row_groups, 0);
        CHECK_EQ_INT(fm->num_schema, NF(nested_fields));
        CHECK_EQ_INT(lks_pq_reader_schema(f.r)->num_cols, 9);
        CHECK(memcmp(f.out.ptr, "PAR1", 4) == 0 && memcmp(f.out.ptr + f.out.len - 4, "PAR1", 4) == 0);
        lks_pq_rows *it = NULL;
        CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
        REQUIRE(it);
        const lks_pq_value *row;
        CHECK_EQ_INT(lks_pq_rows_next(it, &row, &f.err), 0);
        lks_pq_rows_free(it);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        CHECK_EQ_INT(lks_pq_read_column(f.r, 0, 0, &b, &f.err), LKS_EINVAL);
        lks_pq_colbatch_free(&b);
    }
    pf_free(&f);
}

static void t_large(void) {
    lks_pq_field fields[] = {G("schema", REQ, 2), L("id", REQ, LKS_PQ_INT64),
                             LT("s", OPT, LKS_PQ_BYTE_ARRAY, 0, STRING)};
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.row_group_rows = 100000;
    pqfile f;
    CHECK_OK(pf_open(&f, fields, NF(fields), &o), &f.err);
    REQUIRE(f.w);
    enum { N = 300000, B = 7000 };
    int64_t *id = malloc(sizeof(int64_t) * N);
    uint16_t *def = malloc(sizeof(uint16_t) * N);
    char(*text)[24] = malloc(sizeof *text * N);
    lks_slice *sv = malloc(sizeof *sv * B);
    REQUIRE(id && def && text && sv);
    for (int i = 0; i < N; i++) {
        id[i] = (int64_t)i * 1000003 - 150000000000;
        def[i] = i % 13 != 0;
        snprintf(text[i], sizeof text[i], "row %d %x", i, (unsigned)(i * 2654435761u));
    }
    int rc = LKS_OK;
    for (int at = 0; at < N && rc == LKS_OK; at += B) {
        int n = at + B <= N ? B : N - at;
        size_t k = 0;
        for (int i = at; i < at + n; i++)
            if (def[i])
                sv[k++] = SLS(text[i]);
        rc = lks_pq_write_column(f.w, 0, id + at, NULL, NULL, (size_t)n, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_write_column(f.w, 1, sv, def + at, NULL, (size_t)n, &f.err);
        if (rc == LKS_OK)
            rc = lks_pq_writer_end_batch(f.w, n, &f.err);
        CHECK_OK(rc, &f.err);
    }
    if (rc == LKS_OK)
        rc = pf_finish(&f);
    CHECK_OK(rc, &f.err);
    if (rc == LKS_OK) {
        const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
        CHECK_EQ_INT(fm->num_rows, N);
        /* batches of 7000 rows: a group closes at the first batch end past 100000 */
        CHECK_EQ_INT(fm->num_row_groups, 3);
        lks_pq_colbatch b;
        lks_pq_colbatch_init(&b);
        int64_t first = 0;
        size_t bad = 0;
        for (int g = 0; g < fm->num_row_groups; g++) {
            int64_t n = fm->row_groups[g].num_rows;
            CHECK(n >= 100000 || g == fm->num_row_groups - 1);
            rc = lks_pq_read_column(f.r, g, 0, &b, &f.err);
            CHECK_OK(rc, &f.err);
            if (rc != LKS_OK)
                break;
            CHECK_EQ_INT(b.n, n);
            for (int64_t i = 0; i < n && i < (int64_t)b.n; i++)
                bad += ((const int64_t *)b.values)[i] != id[first + i];
            rc = lks_pq_read_column(f.r, g, 1, &b, &f.err);
            CHECK_OK(rc, &f.err);
            if (rc != LKS_OK)
                break;
            CHECK_EQ_INT(b.n, n);
            size_t v = 0;
            for (int64_t i = 0; i < n && i < (int64_t)b.n; i++) {
                bad += b.def[i] != def[first + i];
                if (def[first + i] && b.def[i] && v < b.nvals)
                    bad += !slice_eq(((const lks_slice *)b.values)[v++], SLS(text[first + i]));
            }
            CHECK_EQ_INT(v, b.nvals);
            first += n;
        }
        CHECK_EQ_INT(first, N);
        CHECK_EQ_INT(bad, 0);
        lks_pq_colbatch_free(&b);
        /* and as rows */
        lks_pq_rows *it = NULL;
        CHECK_OK(lks_pq_rows_open(f.r, NULL, 0, &it, &f.err), &f.err);
        REQUIRE(it);
        const lks_pq_value *row;
        int64_t got = 0;
        bad = 0;
        while ((rc = lks_pq_rows_next(it, &row, &f.err)) == 1) {
            bad += row->u.list.items[0].u.i64 != id[got];
            bad += (row->u.list.items[1].kind == LKS_PQ_V_NULL) != !def[got];
            got++;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(got, N);
        CHECK_EQ_INT(bad, 0);
        lks_pq_rows_free(it);
    }
    free(id);
    free(def);
    free(text);
    free(sv);
    pf_free(&f);
}

int main(void) {
    RUN(t_types_uncompressed);
    RUN(t_types_snappy);
    RUN(t_types_zstd);
    RUN(t_types_gzip);
    RUN(t_types_brotli);
    RUN(t_types_lz4_raw);
    RUN(t_types_dictionary);
    RUN(t_codecs);
    RUN(t_nested);
    RUN(t_nested_small_pages);
    RUN(t_pages_row_aligned);
    RUN(t_stats);
    RUN(t_stats_off);
    RUN(t_encodings);
    RUN(t_dictionary_probe);
    RUN(t_dictionary_off);
    RUN(t_dict_overflow_int64);
    RUN(t_dict_shared_memory);
    RUN(t_dict_overflow_string);
    RUN(t_small_pages);
    RUN(t_row_groups);
    RUN(t_row_group_bytes_and_flush);
    RUN(t_rows_columns);
    RUN(t_kv);
    RUN(t_bloom);
    RUN(t_bloom_hash);
    RUN(t_projection);
    RUN(t_errors_levels);
    RUN(t_errors_row_counts);
    RUN(t_errors_flba_width);
    RUN(t_errors_write_row);
    RUN(t_errors_after_close);
    RUN(t_errors_sink);
    RUN(t_empty_file);
    RUN(t_large);
    return lks_test_done();
}
