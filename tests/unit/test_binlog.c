/* test_binlog.c — source/binlog: the binlog decoder on hand-built events
 * (every column type with its edge values, row event versions and images,
 * checksums, transactions, payloads, hostile bytes), and on a live MariaDB's
 * binlog holding every MariaDB column type (skipped without mariadbd). */
#include "core/core.h"
#include "harness.h"
#include "mariadb_harness.h"
#include "source/binlog.h"

#include <math.h>
#include <zlib.h>
#include <zstd.h>

/* ---- building events ------------------------------------------------------------------------- */

static lks_buf ev;   /* the event being built */
static lks_buf file; /* a binlog file: magic, then events */
static int crc_on = 1;

static void b_u8(unsigned v) { lks_buf_append_byte(&ev, (uint8_t)v); }
static void b_le(uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        b_u8((unsigned)(v >> (8 * i)) & 0xff);
}
static void b_bytes(const void *p, size_t n) { lks_buf_append(&ev, p, n); }
static void b_str(const char *s) { b_bytes(s, strlen(s)); }
static void b_packed(uint64_t v) {
    if (v < 251)
        b_u8((unsigned)v);
    else if (v < 65536)
        b_u8(252), b_le(v, 2);
    else if (v < (1u << 24))
        b_u8(253), b_le(v, 3);
    else
        b_u8(254), b_le(v, 8);
}

static void ev_start(int type) {
    lks_buf_reset(&ev);
    b_le(1700000000, 4); /* timestamp */
    b_u8((unsigned)type);
    b_le(7, 4); /* server id */
    b_le(0, 4); /* length, set by ev_end */
    b_le(0, 4); /* log_pos */
    b_le(0, 2); /* flags */
}

/* Finishes the event as if it started at pos: length, log_pos, CRC. */
static void ev_end_at(uint64_t pos, int crc) {
    size_t len = ev.len + (crc ? 4 : 0);
    lks_store_le32(ev.ptr + 9, (uint32_t)len);
    lks_store_le32(ev.ptr + 13, (uint32_t)(pos + len));
    if (crc) {
        uint32_t c = (uint32_t)crc32(0, ev.ptr, (uInt)ev.len);
        b_le(c, 4);
    }
}

/* Appends the current event (finished for its position) to the file. */
static void add(void) {
    ev_end_at(file.len, crc_on);
    lks_buf_append(&file, ev.ptr, ev.len);
}

static void file_start(void) {
    lks_buf_reset(&file);
    lks_buf_append(&file,
                   "\xfe"
                   "bin",
                   4);
}

/* FORMAT_DESCRIPTION of a server version; MySQL 8 or MariaDB post-header
 * lengths. */
static void fde(const char *version, int crc) {
    ev_start(LKS_BLE_FORMAT_DESCRIPTION);
    b_le(4, 2);
    char sv[50] = {0};
    memcpy(sv, version, strlen(version));
    b_bytes(sv, 50);
    b_le(1700000000, 4);
    b_u8(19);
    uint8_t post[171] = {0};
    post[LKS_BLE_QUERY - 1] = 13;
    post[LKS_BLE_ROTATE - 1] = 8;
    post[LKS_BLE_FORMAT_DESCRIPTION - 1] = 98;
    post[LKS_BLE_TABLE_MAP - 1] = 8;
    for (int t = LKS_BLE_WRITE_ROWS_V1; t <= LKS_BLE_DELETE_ROWS_V1; t++)
        post[t - 1] = 8;
    for (int t = LKS_BLE_WRITE_ROWS_V2; t <= LKS_BLE_DELETE_ROWS_V2; t++)
        post[t - 1] = 10;
    post[LKS_BLE_PARTIAL_UPDATE_ROWS - 1] = 10;
    post[LKS_BLE_GTID - 1] = post[LKS_BLE_ANONYMOUS_GTID - 1] = 42;
    for (int t = LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1; t <= LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1; t++)
        post[t - 1] = 8;
    post[LKS_BLE_MARIA_QUERY_COMPRESSED - 1] = 13;
    b_bytes(post, strstr(version, "MariaDB") ? 171 : 42);
    b_u8(crc ? 1 : 0); /* checksum algorithm */
    crc_on = crc;
    ev_end_at(file.len, 1); /* an FDE of a checksum-aware server always ends with 4 bytes */
    if (!crc)
        lks_store_le32(ev.ptr + ev.len - 4, 0);
    lks_buf_append(&file, ev.ptr, ev.len);
}

static void query(const char *db, const char *sql) {
    ev_start(LKS_BLE_QUERY);
    b_le(11, 4); /* thread */
    b_le(0, 4);  /* exec time */
    b_u8((unsigned)strlen(db));
    b_le(0, 2);          /* error */
    b_le(3, 2);          /* status vars */
    b_u8(0), b_le(0, 2); /* Q_FLAGS2_CODE-like filler: 3 bytes */
    b_str(db);
    b_u8(0);
    b_str(sql);
    add();
}

static void xid(void) {
    ev_start(LKS_BLE_XID);
    b_le(99, 8);
    add();
}

static void mysql_gtid(uint64_t gno) {
    ev_start(LKS_BLE_GTID);
    b_u8(1);
    for (int i = 0; i < 16; i++)
        b_u8((unsigned)(0x10 + i));
    b_le(gno, 8);
    b_u8(2), b_le(0, 8), b_le(1, 8);
    add();
}

/* Optional metadata being collected for the next table map. */
static lks_buf opt;
static void om(int type, const void *p, size_t n) {
    lks_buf_append_byte(&opt, (uint8_t)type);
    uint8_t t[9];
    size_t k = 0;
    if (n < 251)
        t[k++] = (uint8_t)n;
    else
        t[k++] = 252, t[k++] = (uint8_t)n, t[k++] = (uint8_t)(n >> 8);
    lks_buf_append(&opt, t, k);
    lks_buf_append(&opt, p, n);
}

static void table_map(uint64_t id, const char *db, const char *tb, int n, const uint8_t *types, const void *meta,
                      size_t metalen, const uint8_t *nulls) {
    ev_start(LKS_BLE_TABLE_MAP);
    b_le(id, 6);
    b_le(1, 2);
    b_u8((unsigned)strlen(db)), b_str(db), b_u8(0);
    b_u8((unsigned)strlen(tb)), b_str(tb), b_u8(0);
    b_packed((uint64_t)n);
    b_bytes(types, (size_t)n);
    b_packed(metalen);
    b_bytes(meta, metalen);
    if (nulls)
        b_bytes(nulls, ((size_t)n + 7) / 8);
    else
        for (int i = 0; i < (n + 7) / 8; i++)
            b_u8(0xff);
    b_bytes(opt.ptr, opt.len);
    lks_buf_reset(&opt);
    add();
}

/* A rows event; bitmaps all-ones when NULL; data = the row images. */
static void rows_ev(int type, uint64_t id, int width, const uint8_t *bi, const uint8_t *ai, const void *data,
                    size_t n) {
    ev_start(type);
    b_le(id, 6);
    b_le(1, 2); /* STMT_END */
    if ((type >= LKS_BLE_WRITE_ROWS_V2 && type <= LKS_BLE_DELETE_ROWS_V2) || type == LKS_BLE_PARTIAL_UPDATE_ROWS)
        b_le(2, 2);
    b_packed((uint64_t)width);
    uint8_t ones[64];
    memset(ones, 0xff, sizeof ones);
    b_bytes(bi ? bi : ones, ((size_t)width + 7) / 8);
    if (type == LKS_BLE_UPDATE_ROWS_V1 || type == LKS_BLE_UPDATE_ROWS_V2 || type == LKS_BLE_PARTIAL_UPDATE_ROWS ||
        type == LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED_V1)
        b_bytes(ai ? ai : ones, ((size_t)width + 7) / 8);
    b_bytes(data, n);
    add();
}

/* ---- collecting what the decoder says -------------------------------------------------------- */

typedef struct got {
    int nitems, nrows;
    int kinds[512];
    char rows[64][1024]; /* "c before | after" per row change */
    char gtid[128], db[64], sql[256], rotate[128], version[64];
    uint64_t rotate_pos;
    int64_t pos[64], row[64];
    char rgtid[64][128];
    lks_cdc_field fields[16]; /* the last TABLE_MAP's columns (names not kept) */
    int nfields, nkey, key0, has_names;
    char allowed[16][128];
    char names[16][32];
    int nevents_last;
} got;

static void hex(char *o, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        sprintf(o + 2 * i, "%02x", p[i]);
    o[2 * n] = 0;
}

/* A value as text: N (null), A (absent), b:1, i:-5, u:5, f:1.5, d:-1.20,
 * s:text, x:hex. */
static void val_text(char *o, size_t cap, const lks_cdc_field *f, const lks_cdc_value *v) {
    switch (v->kind) {
    case LKS_CV_NULL: snprintf(o, cap, "N"); break;
    case LKS_CV_ABSENT: snprintf(o, cap, "A"); break;
    case LKS_CV_BOOL: snprintf(o, cap, "b:%d", v->u.b); break;
    case LKS_CV_INT: snprintf(o, cap, "i:%lld", (long long)v->u.i64); break;
    case LKS_CV_UINT: snprintf(o, cap, "u:%llu", (unsigned long long)v->u.u64); break;
    case LKS_CV_DOUBLE: snprintf(o, cap, "f:%.9g", v->u.f64); break;
    case LKS_CV_DECIMAL: {
        lks_buf b;
        lks_buf_init(&b, 0);
        lks_fmt_decimal_be(&b, v->u.dec.be, v->u.dec.len, v->u.dec.scale);
        snprintf(o, cap, "d:%.*s", (int)b.len, (const char *)b.ptr);
        lks_buf_free(&b);
        break;
    }
    case LKS_CV_BYTES:
        if (f->type.kind == LKS_CT_BYTES) {
            char h[600];
            hex(h, v->u.bytes.ptr, v->u.bytes.len < 290 ? v->u.bytes.len : 290);
            snprintf(o, cap, "x:%s", h);
        } else {
            snprintf(o, cap, "s:%.*s", (int)v->u.bytes.len, (const char *)v->u.bytes.ptr);
        }
        break;
    default: snprintf(o, cap, "?%d", v->kind);
    }
}

static void row_text(char *o, size_t cap, const lks_cdc_schema *s, const lks_cdc_row *r) {
    size_t n = 0;
    o[0] = 0;
    for (int i = 0; i < r->n && n + 1 < cap; i++) {
        char t[700];
        val_text(t, sizeof t, &s->fields[i], &r->v[i]);
        n += (size_t)snprintf(o + n, cap - n, "%s%s", i ? " " : "", t);
    }
}

static int collect(void *ud, const lks_binlog_item *it, lks_err *err) {
    (void)err;
    got *g = ud;
    if (g->nitems < 512)
        g->kinds[g->nitems++] = it->kind;
    switch (it->kind) {
    case LKS_BL_FDE: snprintf(g->version, sizeof g->version, "%s", it->server_version); break;
    case LKS_BL_BEGIN: snprintf(g->gtid, sizeof g->gtid, "%s", it->gtid ? it->gtid : "-"); break;
    case LKS_BL_DDL:
        snprintf(g->db, sizeof g->db, "%s", it->db);
        snprintf(g->sql, sizeof g->sql, "%s", it->sql);
        break;
    case LKS_BL_ROTATE:
        snprintf(g->rotate, sizeof g->rotate, "%s", it->rotate_file);
        g->rotate_pos = it->rotate_pos;
        break;
    case LKS_BL_TABLE_MAP: {
        const lks_binlog_table *t = it->table;
        g->nfields = t->ncols < 16 ? t->ncols : 16;
        g->nkey = t->nkey;
        g->key0 = t->nkey ? t->key[0] : -1;
        g->has_names = t->has_names;
        for (int i = 0; i < g->nfields; i++) {
            g->fields[i] = t->schema.fields[i];
            snprintf(g->names[i], sizeof g->names[i], "%s", t->schema.fields[i].name);
            snprintf(g->allowed[i], sizeof g->allowed[i], "%s",
                     t->schema.fields[i].allowed ? t->schema.fields[i].allowed : "");
            g->fields[i].name = g->names[i];
            g->fields[i].allowed = NULL;
        }
        break;
    }
    case LKS_BL_ROWS:
        g->nevents_last = it->nevents;
        for (int i = 0; i < it->nevents && g->nrows < 64; i++) {
            const lks_cdc_event *e = &it->events[i];
            char b[500] = "-", a[500] = "-";
            if (e->has_before)
                row_text(b, sizeof b, e->schema, &e->before);
            if (e->has_after)
                row_text(a, sizeof a, e->schema, &e->after);
            snprintf(g->rows[g->nrows], sizeof g->rows[0], "%c %s | %s", e->op, b, a);
            g->pos[g->nrows] = e->source.pos;
            g->row[g->nrows] = e->source.row;
            snprintf(g->rgtid[g->nrows], sizeof g->rgtid[0], "%s", e->source.gtid ? e->source.gtid : "-");
            g->nrows++;
        }
        break;
    default: break;
    }
    return 0;
}

/* Decodes `file`; returns the status, err filled. */
static int decode(got *g, lks_err *err) {
    memset(g, 0, sizeof *g);
    lks_err_clear(err);
    lks_binlog_decoder *d;
    int rc = lks_binlog_decoder_new(NULL, &d, err);
    if (rc)
        return rc;
    rc = lks_binlog_decode_file(d, "test-bin.000001", file.ptr, file.len, 0, collect, g, err);
    lks_binlog_decoder_free(d);
    return rc;
}

/* ---- one column ------------------------------------------------------------------------------- */

static char one_out[1200];
static got one_got;

/* One row of a one-column table (MySQL 8 unless `maria`): `type` and its
 * metadata bytes as a TABLE_MAP holds them, optional metadata already in
 * `opt`, `val` the value bytes (NULL: the value is NULL).  Returns the
 * value's text, or "ERR <code>: message". */
static const char *one_col(int maria, int type, const void *meta, size_t metalen, const void *val, size_t vlen) {
    file_start();
    fde(maria ? "10.11.6-MariaDB-log" : "8.0.36", 1);
    uint8_t t = (uint8_t)type;
    table_map(42, "db", "t", 1, &t, meta, metalen, NULL);
    uint8_t row[4096];
    row[0] = val ? 0 : 1; /* null bitmap */
    if (val)
        memcpy(row + 1, val, vlen);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 42, 1, NULL, NULL, row, 1 + (val ? vlen : 0));
    lks_err err;
    int rc = decode(&one_got, &err);
    if (rc) {
        snprintf(one_out, sizeof one_out, "ERR %d: %s", rc, err.msg);
        return one_out;
    }
    const char *bar = strstr(one_got.rows[0], "| ");
    snprintf(one_out, sizeof one_out, "%s", bar ? bar + 2 : "(no row)");
    return one_out;
}

static const char *one_int(int type, int uns, uint64_t raw, int width) {
    uint8_t v[8];
    for (int i = 0; i < width; i++)
        v[i] = (uint8_t)(raw >> (8 * i));
    if (uns)
        om(1, "\x80", 1);
    return one_col(0, type, NULL, 0, v, (size_t)width);
}

static void t_integers(void) {
    CHECK_EQ_STR(one_int(1, 0, 0x80, 1), "i:-128");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_INT8);
    CHECK_EQ_STR(one_int(1, 0, 0x7f, 1), "i:127");
    CHECK_EQ_STR(one_int(1, 1, 0xff, 1), "i:255");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_INT16);
    CHECK_EQ_STR(one_int(2, 0, 0x8000, 2), "i:-32768");
    CHECK_EQ_STR(one_int(2, 1, 0xffff, 2), "i:65535");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_INT32);
    CHECK_EQ_STR(one_int(9, 0, 0x800000, 3), "i:-8388608");
    CHECK_EQ_STR(one_int(9, 1, 0xffffff, 3), "i:16777215");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_INT32);
    CHECK_EQ_STR(one_int(3, 0, 0x80000000u, 4), "i:-2147483648");
    CHECK_EQ_STR(one_int(3, 1, 0xffffffffu, 4), "i:4294967295");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_INT64);
    CHECK_EQ_STR(one_int(8, 0, UINT64_C(0x8000000000000000), 8), "i:-9223372036854775808");
    CHECK_EQ_STR(one_int(8, 0, UINT64_MAX, 8), "i:-1");
    CHECK_EQ_STR(one_int(8, 1, UINT64_MAX, 8), "u:18446744073709551615");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_UINT64);
    CHECK_EQ_STR(one_int(8, 1, 0, 8), "u:0");
    /* YEAR: 1900 + n, 0 for 0000 */
    CHECK_EQ_STR(one_col(0, 13, NULL, 0, "\x7b", 1), "i:2023");
    CHECK_EQ_INT(one_got.fields[0].type.detail, LKS_CD_YEAR);
    CHECK_EQ_STR(one_col(0, 13, NULL, 0, "\x00", 1), "i:0");
    CHECK_EQ_STR(one_col(0, 13, NULL, 0, "\xff", 1), "i:2155");
    /* NULL */
    CHECK_EQ_STR(one_col(0, 3, NULL, 0, NULL, 0), "N");
}

static void t_signedness_flavours(void) {
    /* columns: TINY, YEAR, TINY; signedness bits 1,1 (MySQL: YEAR not
     * numeric, so the second bit is the last TINY's) */
    uint8_t types[3] = {1, 13, 1};
    for (int maria = 0; maria < 2; maria++) {
        file_start();
        fde(maria ? "10.11.6-MariaDB-log" : "8.0.36", 1);
        om(1, maria ? "\xa0" : "\xc0", 1); /* MariaDB: TINY=1, YEAR=0, TINY=1 */
        table_map(5, "db", "t", 3, types, NULL, 0, NULL);
        uint8_t row[] = {0, 0xff, 0x01, 0xff};
        rows_ev(LKS_BLE_WRITE_ROWS_V1, 5, 3, NULL, NULL, row, sizeof row);
        got g;
        lks_err err;
        CHECK_OK(decode(&g, &err), &err);
        CHECK_EQ_STR(g.rows[0], "c - | i:255 i:1901 i:255");
    }
}

static void t_floats(void) {
    float f = -1.5f;
    uint8_t b[8];
    memcpy(b, &f, 4);
    CHECK_EQ_STR(one_col(0, 4, "\x04", 1, b, 4), "f:-1.5");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_FLOAT);
    double d = 1e300;
    memcpy(b, &d, 8);
    CHECK_EQ_STR(one_col(0, 5, "\x08", 1, b, 8), "f:1e+300");
    d = -0.1;
    memcpy(b, &d, 8);
    CHECK_EQ_STR(one_col(0, 5, "\x08", 1, b, 8), "f:-0.1");
}

/* ---- decimals ----------------------------------------------------------------------------------- */

/* MySQL's binary DECIMAL(p,s) of the decimal text t. */
static size_t enc_decimal(const char *t, int p, int s, uint8_t *out) {
    static const int d2b[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    int neg = *t == '-';
    if (neg)
        t++;
    char ip[100], fp[100];
    const char *dot = strchr(t, '.');
    size_t il = dot ? (size_t)(dot - t) : strlen(t);
    int intg = p - s;
    while ((int)il > intg && *t == '0') /* "0.5" in DECIMAL(1,1) */
        t++, il--;
    memset(ip, '0', sizeof ip);
    memcpy(ip + intg - (int)il, t, il);
    memset(fp, '0', sizeof fp);
    if (dot)
        memcpy(fp, dot + 1, strlen(dot + 1));
    size_t n = 0;
    const char *q = ip;
    int lead = intg % 9;
    uint64_t v = 0;
    for (int i = 0; i < lead; i++)
        v = v * 10 + (uint64_t)(*q++ - '0');
    for (int i = d2b[lead] - 1; i >= 0; i--)
        out[n++] = (uint8_t)(v >> (8 * i));
    for (int g = 0; g < intg / 9; g++) {
        v = 0;
        for (int i = 0; i < 9; i++)
            v = v * 10 + (uint64_t)(*q++ - '0');
        for (int i = 3; i >= 0; i--)
            out[n++] = (uint8_t)(v >> (8 * i));
    }
    q = fp;
    for (int g = 0; g < s / 9; g++) {
        v = 0;
        for (int i = 0; i < 9; i++)
            v = v * 10 + (uint64_t)(*q++ - '0');
        for (int i = 3; i >= 0; i--)
            out[n++] = (uint8_t)(v >> (8 * i));
    }
    v = 0;
    for (int i = 0; i < s % 9; i++)
        v = v * 10 + (uint64_t)(*q++ - '0');
    for (int i = d2b[s % 9] - 1; i >= 0; i--)
        out[n++] = (uint8_t)(v >> (8 * i));
    out[0] ^= 0x80;
    if (neg)
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)~out[i];
    return n;
}

static const char *dec_text(const uint8_t *p, size_t n, int prec, int scale, size_t *used) {
    static char out[200];
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_value v;
    *used = lks_binlog_decimal(p, n, prec, scale, &a, &v);
    if (!*used) {
        lks_arena_free(&a);
        return "malformed";
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_fmt_decimal_be(&b, v.u.dec.be, v.u.dec.len, v.u.dec.scale);
    snprintf(out, sizeof out, "%.*s", (int)b.len, (const char *)b.ptr);
    lks_buf_free(&b);
    lks_arena_free(&a);
    return out;
}

static void t_decimal_binary(void) {
    /* MySQL's documented example: 1234567890.1234 as DECIMAL(14,4) */
    static const uint8_t pos[] = {0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2};
    static const uint8_t neg[] = {0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D};
    size_t used;
    CHECK_EQ_STR(dec_text(pos, sizeof pos, 14, 4, &used), "1234567890.1234");
    CHECK_EQ_INT(used, 7);
    CHECK_EQ_STR(dec_text(neg, sizeof neg, 14, 4, &used), "-1234567890.1234");
    CHECK_EQ_STR(dec_text(pos, 6, 14, 4, &used), "malformed"); /* short */
    /* round trips through our encoder, small and wide */
    static const struct {
        const char *t;
        int p, s;
    } cases[] = {
        {"0.00", 10, 2},
        {"-0.50", 10, 2},
        {"-123.45", 10, 2},
        {"99999999.99", 10, 2},
        {"-99999999.99", 10, 2},
        {"7", 1, 0},
        {"-9", 1, 0},
        {"123456789012345678", 18, 0},
        {"-999999999999999999", 18, 0},
        {"1234567890123456789", 19, 0},
        {"99999999999999999999999999999999999999999999999999999999999999999", 65, 0},
        {"-99999999999999999999999999999999999999999999999999999999999999999", 65, 0},
        {"12345678901234567890123456789012345.123456789012345678901234567891", 65, 30},
        {"-0.000000000000000000000000000001", 65, 30},
        {"-0.000000000000000000000000000001", 31, 30},
        {"0.123456789", 9, 9},
        {"-12.3456789012", 20, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[40];
        size_t n = enc_decimal(cases[i].t, cases[i].p, cases[i].s, b);
        const char *got_t = dec_text(b, n, cases[i].p, cases[i].s, &used);
        if (strcmp(got_t, cases[i].t) != 0 || used != n)
            FAILF("DECIMAL(%d,%d) %s: got %s (%zu of %zu bytes)", cases[i].p, cases[i].s, cases[i].t, got_t, used, n);
    }
    /* a group over 999999999 is corrupt, not a wrong number */
    uint8_t bad[] = {0x80, 0x00, 0x00, 0x00, 0x3b, 0x9a, 0xca, 0x00}; /* second group 1000000000 */
    CHECK_EQ_STR(dec_text(bad, sizeof bad, 18, 0, &used), "malformed");
    CHECK_EQ_STR(dec_text(pos, sizeof pos, 66, 0, &used), "malformed");
    CHECK_EQ_STR(dec_text(pos, sizeof pos, 10, 11, &used), "malformed");
    /* in a row: type and value */
    uint8_t b[40];
    size_t n = enc_decimal("-123.45", 10, 2, b);
    CHECK_EQ_STR(one_col(0, 246, "\x0a\x02", 2, b, n), "d:-123.45");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_DECIMAL);
    CHECK_EQ_INT(one_got.fields[0].type.precision, 10);
    CHECK_EQ_INT(one_got.fields[0].type.scale, 2);
    CHECK(strncmp(one_col(0, 246, "\x42\x02", 2, b, n), "ERR", 3) == 0); /* DECIMAL(66,2) */
}

static void t_decimal_text(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_value v;
    static const struct {
        const char *in;
        int scale;
        const char *out;
    } ok[] = {{"-123.4", 2, "-123.40"},
              {"0", 3, "0.000"},
              {"+7.25", 2, "7.25"},
              {"-0.001", 3, "-0.001"},
              {"00012", 0, "12"},
              {"-.5", 1, "-0.5"},
              {"123.", 0, "123"},
              {"99999999999999999999999999999999999.999999999999999999999999999999", 30,
               "99999999999999999999999999999999999.999999999999999999999999999999"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = lks_decimal_from_text(ok[i].in, strlen(ok[i].in), ok[i].scale, &a, &v);
        lks_buf b;
        lks_buf_init(&b, 0);
        if (!rc)
            lks_fmt_decimal_be(&b, v.u.dec.be, v.u.dec.len, v.u.dec.scale);
        if (rc || b.len != strlen(ok[i].out) || memcmp(b.ptr, ok[i].out, b.len) != 0)
            FAILF("%s scale %d: rc %d, got %.*s", ok[i].in, ok[i].scale, rc, (int)b.len, b.ptr ? (char *)b.ptr : "");
        lks_buf_free(&b);
    }
    static const char *const bad[] = {"", "-", "1.2.3", "12a", "1.234", " 1", "1e5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lks_decimal_from_text(bad[i], strlen(bad[i]), 2, &a, &v) != LKS_EINVAL)
            FAILF("\"%s\" was accepted", bad[i]);
    lks_arena_free(&a);
}

/* ---- temporals ---------------------------------------------------------------------------------- */

static size_t enc_frac(uint8_t *o, int fsp, int64_t frac_us) {
    if (fsp == 0)
        return 0;
    if (fsp <= 2) {
        o[0] = (uint8_t)(int8_t)(frac_us / 10000);
        return 1;
    }
    if (fsp <= 4) {
        int v = (int)(frac_us / 100);
        o[0] = (uint8_t)(v >> 8), o[1] = (uint8_t)v;
        return 2;
    }
    o[0] = (uint8_t)(frac_us >> 16), o[1] = (uint8_t)(frac_us >> 8), o[2] = (uint8_t)frac_us;
    return 3;
}

static size_t enc_datetime2(uint8_t *o, int y, int mo, int d, int h, int mi, int s, int64_t frac, int fsp) {
    uint64_t ip =
        ((uint64_t)(y * 13 + mo) << 22) | (uint64_t)d << 17 | (uint64_t)h << 12 | (uint64_t)mi << 6 | (uint64_t)s;
    ip += UINT64_C(0x8000000000);
    for (int i = 0; i < 5; i++)
        o[i] = (uint8_t)(ip >> (8 * (4 - i)));
    return 5 + enc_frac(o + 5, fsp, frac);
}

/* TIME2 as MySQL packs it: packed = ±(hms << 24 | µs). */
static size_t enc_time2(uint8_t *o, int neg, int h, int mi, int s, int64_t us, int fsp) {
    int64_t packed = ((int64_t)((h << 12) | (mi << 6) | s) << 24) + us;
    if (neg)
        packed = -packed;
    if (fsp >= 5) {
        uint64_t v = (uint64_t)(packed + INT64_C(0x800000000000));
        for (int i = 0; i < 6; i++)
            o[i] = (uint8_t)(v >> (8 * (5 - i)));
        return 6;
    }
    int64_t ip = packed >> 24, fr = packed % (INT64_C(1) << 24);
    uint32_t v = (uint32_t)(ip + 0x800000);
    o[0] = (uint8_t)(v >> 16), o[1] = (uint8_t)(v >> 8), o[2] = (uint8_t)v;
    if (fsp == 0)
        return 3;
    if (fsp <= 2) {
        o[3] = (uint8_t)(int8_t)(fr / 10000);
        return 4;
    }
    int16_t f2 = (int16_t)(fr / 100);
    o[3] = (uint8_t)((uint16_t)f2 >> 8), o[4] = (uint8_t)f2;
    return 5;
}

static void t_temporals(void) {
    uint8_t b[16];
    size_t n;
    /* DATE: day | month << 5 | year << 9 */
    uint32_t dv = 29 | 2 << 5 | 2024 << 9;
    uint8_t date[3] = {(uint8_t)dv, (uint8_t)(dv >> 8), (uint8_t)(dv >> 16)};
    CHECK_EQ_STR(one_col(0, 10, NULL, 0, date, 3), "i:19782"); /* 2024-02-29 */
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_DATE);
    CHECK(one_got.fields[0].type.optional);
    CHECK_EQ_STR(one_col(0, 10, NULL, 0, "\x00\x00\x00", 3), "N"); /* 0000-00-00 */
    dv = 0 | 5 << 5 | 2020 << 9;                                   /* 2020-05-00 */
    uint8_t zday[3] = {(uint8_t)dv, (uint8_t)(dv >> 8), (uint8_t)(dv >> 16)};
    CHECK_EQ_STR(one_col(0, 10, NULL, 0, zday, 3), "N");
    dv = 1 | 13 << 5 | 2020 << 9;
    uint8_t m13[3] = {(uint8_t)dv, (uint8_t)(dv >> 8), (uint8_t)(dv >> 16)};
    CHECK(strncmp(one_col(0, 10, NULL, 0, m13, 3), "ERR -40", 7) == 0);
    /* DATETIME2 */
    n = enc_datetime2(b, 2024, 1, 2, 3, 4, 5, 123456, 6);
    CHECK_EQ_STR(one_col(0, 18, "\x06", 1, b, n), "i:1704164645123456");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_DATETIME);
    CHECK_EQ_INT(one_got.fields[0].type.precision, 6);
    n = enc_datetime2(b, 2024, 1, 2, 3, 4, 5, 120000, 2);
    CHECK_EQ_STR(one_col(0, 18, "\x02", 1, b, n), "i:1704164645120000");
    n = enc_datetime2(b, 1000, 1, 1, 0, 0, 0, 500, 4);
    CHECK_EQ_STR(one_col(0, 18, "\x04", 1, b, n), "i:-30610223999999500");
    n = enc_datetime2(b, 9999, 12, 31, 23, 59, 59, 999999, 6);
    CHECK_EQ_STR(one_col(0, 18, "\x06", 1, b, n), "i:253402300799999999");
    n = enc_datetime2(b, 0, 0, 0, 0, 0, 0, 0, 0);
    CHECK_EQ_STR(one_col(0, 18, "\x00", 1, b, n), "N");
    n = enc_datetime2(b, 2024, 1, 2, 25, 0, 0, 0, 0); /* hour 25 */
    CHECK(strncmp(one_col(0, 18, "\x00", 1, b, n), "ERR -40", 7) == 0);
    CHECK(strncmp(one_col(0, 18, "\x07", 1, b, n), "ERR -40", 7) == 0); /* fsp 7 */
    /* TIMESTAMP2: seconds BE + fraction; the zero timestamp is NULL */
    uint8_t ts[7] = {0x65, 0x53, 0xf1, 0x00, 0x01, 0xe2, 0x40}; /* 1700000000.123456 */
    CHECK_EQ_STR(one_col(0, 17, "\x06", 1, ts, 7), "i:1700000000123456");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_TIMESTAMP);
    CHECK_EQ_STR(one_col(0, 17, "\x00", 1, "\x00\x00\x00\x00", 4), "N");
    /* TIME2: positive, negative with and without fraction, every fsp */
    static const struct {
        int neg, h, m, s;
        int64_t us;
        int fsp;
    } tc[] = {{0, 12, 34, 56, 0, 0},   {1, 838, 59, 59, 0, 0},  {1, 0, 0, 1, 500000, 1}, {1, 0, 0, 0, 10000, 2},
              {1, 1, 2, 3, 456700, 3}, {1, 1, 2, 3, 456700, 4}, {0, 1, 2, 3, 456789, 5}, {1, 838, 59, 59, 999999, 6},
              {1, 0, 0, 0, 1, 6},      {0, 0, 0, 0, 0, 6}};
    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        n = enc_time2(b, tc[i].neg, tc[i].h, tc[i].m, tc[i].s, tc[i].us, tc[i].fsp);
        uint8_t meta = (uint8_t)tc[i].fsp;
        int64_t want = ((int64_t)tc[i].h * 3600 + tc[i].m * 60 + tc[i].s) * 1000000 + tc[i].us;
        char w[40];
        snprintf(w, sizeof w, "i:%lld", (long long)(tc[i].neg ? -want : want));
        const char *r = one_col(0, 19, &meta, 1, b, n);
        if (strcmp(r, w) != 0)
            FAILF("TIME2(%d) case %zu: got %s, want %s", tc[i].fsp, i, r, w);
    }
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_TIME);
    /* old formats */
    uint32_t tv = (uint32_t)(-(123 * 10000 + 45 * 100 + 6)) & 0xffffff; /* -123:45:06 */
    uint8_t oldt[3] = {(uint8_t)tv, (uint8_t)(tv >> 8), (uint8_t)(tv >> 16)};
    CHECK_EQ_STR(one_col(0, 11, NULL, 0, oldt, 3), "i:-445506000000");
    uint64_t dtv = UINT64_C(20240102030405);
    uint8_t olddt[8];
    for (int i = 0; i < 8; i++)
        olddt[i] = (uint8_t)(dtv >> (8 * i));
    CHECK_EQ_STR(one_col(0, 12, NULL, 0, olddt, 8), "i:1704164645000000");
    CHECK_EQ_STR(one_col(0, 12, NULL, 0, "\0\0\0\0\0\0\0\0", 8), "N");
    CHECK_EQ_STR(one_col(0, 7, NULL, 0, "\x00\xf1\x53\x65", 4), "i:1700000000000000");
    CHECK_EQ_STR(one_col(0, 7, NULL, 0, "\0\0\0\0", 4), "N");
}

/* ---- strings ---------------------------------------------------------------------------------- */

static void charset(int coll) {
    uint8_t c[3];
    if (coll < 251) {
        c[0] = (uint8_t)coll;
        om(3, c, 1);
    } else {
        c[0] = 252, c[1] = (uint8_t)coll, c[2] = (uint8_t)(coll >> 8);
        om(3, c, 3);
    }
}

static void t_strings(void) {
    /* VARCHAR(100) utf8mb4 */
    charset(255);
    CHECK_EQ_STR(one_col(0, 15, "\x64\x00", 2, "\x05h\xc3\xa9!!", 6), "s:h\xc3\xa9!!");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_STRING);
    /* invalid UTF-8 in a utf8mb4 column is an error naming the column */
    charset(45);
    const char *r = one_col(0, 15, "\x64\x00", 2, "\x02\xc3\x28", 3);
    CHECK(strncmp(r, "ERR -40", 7) == 0 && strstr(r, "@1") && strstr(r, "UTF-8"));
    /* VARCHAR(300): two length bytes */
    charset(33);
    CHECK_EQ_STR(one_col(0, 15, "\x2c\x01", 2,
                         "\x03\x00"
                         "abc",
                         5),
                 "s:abc");
    /* latin1: é and MySQL's cp1252 € and the 0x81 hole */
    charset(8);
    CHECK_EQ_STR(one_col(0, 254, "\xfe\x0a", 2, "\x03\xe9\x80\x81", 4), "s:\xc3\xa9\xe2\x82\xac\xc2\x81");
    /* cp1251 through iconv: Cyrillic "да" */
    charset(51);
    CHECK_EQ_STR(one_col(0, 15, "\x0a\x00", 2, "\x02\xe4\xe0", 3), "s:\xd0\xb4\xd0\xb0");
    /* ucs2 */
    charset(35);
    CHECK_EQ_STR(one_col(0, 15, "\x14\x00", 2, "\x04\x00\x41\x04\x34", 5), "s:A\xd0\xb4");
    /* an unknown collation id is unsupported, naming column and id */
    charset(1999);
    r = one_col(0, 15, "\x0a\x00", 2, "\x01x", 2);
    CHECK(strncmp(r, "ERR -42", 7) == 0 && strstr(r, "1999"));
    /* binary: BYTES, kept as sent (BINARY(4) padding included) */
    charset(63);
    CHECK_EQ_STR(one_col(0, 254, "\xfe\x04", 2, "\x04\x01\x02\x00\x00", 5), "x:01020000");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_BYTES);
    /* CHAR(300) utf8mb4: real type and length in the two metadata bytes */
    charset(45);
    CHECK_EQ_STR(one_col(0, 254, "\xee\x2c", 2, "\x02\x00hi", 4), "s:hi");
    /* BLOB without charset metadata: bytes; TEXT with a charset: string */
    CHECK_EQ_STR(one_col(0, 252, "\x02", 1, "\x02\x00\xff\x00", 4), "x:ff00");
    charset(8);
    CHECK_EQ_STR(one_col(0, 252, "\x03", 1,
                         "\x02\x00\x00"
                         "ab",
                         5),
                 "s:ab");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_STRING);
    /* a length past the row is corrupt */
    r = one_col(0, 252, "\x04", 1,
                "\xff\xff\xff\x7f"
                "abc",
                7);
    CHECK(strncmp(r, "ERR -40", 7) == 0);
    /* VARCHAR without metadata: passed on as stored */
    CHECK_EQ_STR(one_col(0, 15, "\x0a\x00", 2, "\x02\xe9x", 3), "s:\xe9x");
}

static void t_enum_set_bit(void) {
    /* ENUM('a','b,c') as STRING real type 247, 1 byte */
    om(6,
       "\x02\x01"
       "a\x03"
       "b,c",
       7);
    CHECK_EQ_STR(one_col(0, 254, "\xf7\x01", 2, "\x02", 1), "s:b,c");
    CHECK_EQ_INT(one_got.fields[0].type.detail, LKS_CD_ENUM);
    CHECK_EQ_STR(one_got.allowed[0], "a,b,c");
    om(6,
       "\x02\x01"
       "a\x01"
       "b",
       5);
    CHECK_EQ_STR(one_col(0, 254, "\xf7\x01", 2, "\x00", 1), "s:"); /* the '' error member */
    om(6,
       "\x02\x01"
       "a\x01"
       "b",
       5);
    CHECK(strncmp(one_col(0, 254, "\xf7\x01", 2, "\x03", 1), "ERR -40", 7) == 0);
    CHECK_EQ_STR(one_col(0, 254, "\xf7\x02", 2, "\x2c\x01", 2), "s:300"); /* no metadata: the index */
    /* SET('x','y','z'): bits 0 and 2 */
    om(5, "\x03\x01x\x01y\x01z", 7);
    CHECK_EQ_STR(one_col(0, 254, "\xf8\x01", 2, "\x05", 1), "s:x,z");
    CHECK_EQ_INT(one_got.fields[0].type.detail, LKS_CD_SET);
    om(5, "\x03\x01x\x01y\x01z", 7);
    CHECK_EQ_STR(one_col(0, 254, "\xf8\x01", 2, "\x00", 1), "s:");
    om(5, "\x03\x01x\x01y\x01z", 7);
    CHECK(strncmp(one_col(0, 254, "\xf8\x01", 2, "\x08", 1), "ERR -40", 7) == 0);
    CHECK_EQ_STR(one_col(0, 254, "\xf8\x08", 2, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), "s:18446744073709551615");
    /* latin1 members convert */
    om(10, "\x08", 1);
    om(6, "\x01\x02\xe9t", 4);
    CHECK_EQ_STR(one_col(0, 254, "\xf7\x01", 2, "\x01", 1), "s:\xc3\xa9t");
    /* BIT(1) → BOOL, BIT(10) → 2 bytes big-endian */
    CHECK_EQ_STR(one_col(0, 16, "\x01\x00", 2, "\x01", 1), "b:1");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_BOOL);
    CHECK_EQ_STR(one_col(0, 16, "\x02\x01", 2, "\x03\xff", 2), "x:03ff");
    CHECK_EQ_INT(one_got.fields[0].type.detail, LKS_CD_BIT);
    CHECK_EQ_INT(one_got.fields[0].type.precision, 10);
    CHECK(strncmp(one_col(0, 16, "\x00\x09", 2, "\x00", 1), "ERR -40", 7) == 0); /* BIT(72) */
}

static void t_json_geometry_vector(void) {
    /* {"a":1}: small object, one key, an inlined int16 */
    static const uint8_t obj[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 'a'};
    uint8_t v[64];
    lks_store_le32(v, sizeof obj);
    memcpy(v + 4, obj, sizeof obj);
    CHECK_EQ_STR(one_col(0, 245, "\x04", 1, v, 4 + sizeof obj), "s:{\"a\":1}");
    CHECK_EQ_INT(one_got.fields[0].type.kind, LKS_CT_JSON);
    /* an empty JSON value is null text; a broken one an error */
    CHECK_EQ_STR(one_col(0, 245, "\x04", 1, "\0\0\0\0", 4), "s:null");
    CHECK(strncmp(one_col(0, 245, "\x04", 1, "\x03\0\0\0\x00\x05\x00", 7), "ERR -40", 7) == 0);
    /* GEOMETRY: the WKB after the SRID */
    CHECK_EQ_STR(one_col(0, 255, "\x04", 1, "\x09\0\0\0\x00\x00\x00\x00\x01\x02\x03\x04\x05", 13), "x:0102030405");
    CHECK_EQ_INT(one_got.fields[0].type.detail, LKS_CD_GEOMETRY);
    /* VECTOR (MySQL 9): bytes */
    CHECK_EQ_STR(one_col(0, 242, "\x04", 1, "\x04\0\0\0\x00\x00\x80\x3f", 8), "x:0000803f");
}

/* ---- events, images, transactions --------------------------------------------------------------- */

/* A two-column table (INT key, VARCHAR(10) utf8mb4 named id/name) mapped
 * as table id 9. */
static void map_t2(void) {
    uint8_t types[2] = {3, 15};
    om(3, "\x2d", 1);
    om(4, "\x02id\x04name", 8);
    om(8, "\x00", 1);
    uint8_t nulls = 0x02;
    table_map(9, "shop", "t2", 2, types, "\x0a\x00", 2, &nulls);
}

static void row2(lks_buf *b, int null_name, int id, const char *name) {
    lks_buf_append_byte(b, null_name ? 2 : 0);
    uint8_t i[4];
    lks_store_le32(i, (uint32_t)id);
    lks_buf_append(b, i, 4);
    if (!null_name) {
        lks_buf_append_byte(b, (uint8_t)strlen(name));
        lks_buf_append(b, name, strlen(name));
    }
}

static void t_rows_v1_v2_images(void) {
    for (int v2 = 0; v2 < 2; v2++) {
        file_start();
        fde("8.0.36", 1);
        mysql_gtid(42);
        query("shop", "BEGIN");
        map_t2();
        lks_buf r;
        lks_buf_init(&r, 0);
        row2(&r, 0, 1, "one");
        row2(&r, 1, -2, NULL);
        rows_ev(v2 ? LKS_BLE_WRITE_ROWS_V2 : LKS_BLE_WRITE_ROWS_V1, 9, 2, NULL, NULL, r.ptr, r.len);
        lks_buf_reset(&r);
        row2(&r, 0, 1, "one");
        row2(&r, 0, 1, "uno");
        rows_ev(v2 ? LKS_BLE_UPDATE_ROWS_V2 : LKS_BLE_UPDATE_ROWS_V1, 9, 2, NULL, NULL, r.ptr, r.len);
        lks_buf_reset(&r);
        row2(&r, 1, -2, NULL);
        rows_ev(v2 ? LKS_BLE_DELETE_ROWS_V2 : LKS_BLE_DELETE_ROWS_V1, 9, 2, NULL, NULL, r.ptr, r.len);
        /* a partial image (binlog_row_image=MINIMAL): key only before,
         * name only after */
        lks_buf_reset(&r);
        lks_buf_append(&r, "\x00\x01\x00\x00\x00", 5); /* before: null bits, id=1 */
        lks_buf_append(&r, "\x00\x02hi", 4);           /* after: null bits, name="hi" */
        rows_ev(v2 ? LKS_BLE_UPDATE_ROWS_V2 : LKS_BLE_UPDATE_ROWS_V1, 9, 2, (const uint8_t *)"\x01",
                (const uint8_t *)"\x02", r.ptr, r.len);
        lks_buf_free(&r);
        xid();
        got g;
        lks_err err;
        CHECK_OK(decode(&g, &err), &err);
        CHECK_EQ_INT(g.nrows, 5);
        CHECK_EQ_STR(g.rows[0], "c - | i:1 s:one");
        CHECK_EQ_STR(g.rows[1], "c - | i:-2 N");
        CHECK_EQ_STR(g.rows[2], "u i:1 s:one | i:1 s:uno");
        CHECK_EQ_STR(g.rows[3], "d i:-2 N | -");
        CHECK_EQ_STR(g.rows[4], "u i:1 A | A s:hi");
        CHECK_EQ_STR(g.names[1], "name");
        CHECK(g.has_names);
        CHECK_EQ_INT(g.nkey, 1);
        CHECK_EQ_INT(g.key0, 0);
        CHECK(!g.fields[0].type.optional && g.fields[1].type.optional);
        /* source positions: the transaction's first event (the GTID at 4 +
         * the FDE), row index across rows events */
        for (int i = 0; i < 5; i++) {
            CHECK_EQ_INT(g.row[i], i);
            CHECK_EQ_INT(g.pos[i], g.pos[0]);
        }
        CHECK_EQ_STR(g.rgtid[0], "10111213-1415-1617-1819-1a1b1c1d1e1f:42");
        CHECK_EQ_STR(g.gtid, "10111213-1415-1617-1819-1a1b1c1d1e1f:42");
    }
}

static void t_transactions(void) {
    file_start();
    fde("8.0.36", 1);
    query("shop", "BEGIN");
    map_t2();
    lks_buf r;
    lks_buf_init(&r, 0);
    row2(&r, 0, 5, "x");
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 9, 2, NULL, NULL, r.ptr, r.len);
    query("shop", "COMMIT");
    query("shop", "CREATE TABLE z (a int)");
    mysql_gtid(7);
    query("shop", "DROP TABLE z");
    mysql_gtid(8);
    query("shop", "BEGIN");
    query("shop", "SAVEPOINT s1");
    query("shop", "ROLLBACK TO s1");
    query("shop", "INSERT INTO z VALUES (1)"); /* statement-based DML inside BEGIN: no COMMIT after it */
    query("shop", "ROLLBACK");
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 9, 2, NULL, NULL, r.ptr, r.len); /* rows outside a transaction */
    xid();
    lks_buf_free(&r);
    got g;
    lks_err err;
    CHECK_OK(decode(&g, &err), &err);
    static const int want[] = {LKS_BL_FDE,    LKS_BL_BEGIN,  LKS_BL_TABLE_MAP, LKS_BL_ROWS,  LKS_BL_COMMIT,
                               LKS_BL_DDL,    LKS_BL_COMMIT, LKS_BL_BEGIN,     LKS_BL_DDL,   LKS_BL_COMMIT,
                               LKS_BL_BEGIN,  LKS_BL_OTHER,  LKS_BL_OTHER,     LKS_BL_OTHER, LKS_BL_DDL,
                               LKS_BL_COMMIT, LKS_BL_ROWS,   LKS_BL_COMMIT};
    CHECK_EQ_INT(g.nitems, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < g.nitems && i < (int)(sizeof want / sizeof want[0]); i++)
        if (g.kinds[i] != want[i])
            FAILF("item %d: kind %d, want %d", i, g.kinds[i], want[i]);
    CHECK_EQ_STR(g.sql, "INSERT INTO z VALUES (1)");
    CHECK_EQ_STR(g.db, "shop");
    /* the rows outside a transaction start one at their own event */
    CHECK_EQ_INT(g.row[1], 0);
    CHECK(g.pos[1] > g.pos[0]);
    CHECK_EQ_STR(g.rgtid[1], "-");
}

static void t_mariadb_events(void) {
    file_start();
    fde("10.11.6-MariaDB-log", 1);
    ev_start(LKS_BLE_MARIA_GTID_LIST);
    b_le(0, 4);
    add();
    ev_start(LKS_BLE_MARIA_GTID); /* 0-7-123, transactional */
    b_le(123, 8), b_le(0, 4), b_u8(0);
    add();
    ev_start(LKS_BLE_MARIA_ANNOTATE_ROWS);
    b_str("insert into t2 ...");
    add();
    map_t2();
    /* a compressed rows event: 0x80 | 1 length byte, the length, zlib */
    lks_buf r;
    lks_buf_init(&r, 0);
    row2(&r, 0, 3, "zip");
    uint8_t z[256];
    uLongf zl = sizeof z - 2;
    compress2(z + 2, &zl, r.ptr, r.len, 6);
    z[0] = 0x81, z[1] = (uint8_t)r.len;
    rows_ev(LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1, 9, 2, NULL, NULL, z, zl + 2);
    xid();
    /* a compressed query */
    ev_start(LKS_BLE_MARIA_GTID);
    b_le(124, 8), b_le(0, 4), b_u8(1); /* standalone (DDL) */
    add();
    const char *sql = "CREATE TABLE compressed_one (a int)";
    zl = sizeof z - 2;
    compress2(z + 2, &zl, (const uint8_t *)sql, strlen(sql), 6);
    z[0] = 0x81, z[1] = (uint8_t)strlen(sql);
    ev_start(LKS_BLE_MARIA_QUERY_COMPRESSED);
    b_le(11, 4), b_le(0, 4), b_u8(4), b_le(0, 2), b_le(0, 2);
    b_str("shop"), b_u8(0);
    b_bytes(z, zl + 2);
    add();
    /* a ROTATE whose name carries bytes no file name holds */
    ev_start(LKS_BLE_ROTATE);
    b_le(4, 8);
    b_str("mariadb-bin.000002");
    b_bytes("\x01\xfe\x00x", 4);
    add();
    lks_buf_free(&r);
    got g;
    lks_err err;
    CHECK_OK(decode(&g, &err), &err);
    CHECK_EQ_STR(g.rows[0], "c - | i:3 s:zip");
    CHECK_EQ_STR(g.rgtid[0], "0-7-123");
    CHECK_EQ_STR(g.sql, "CREATE TABLE compressed_one (a int)");
    CHECK_EQ_STR(g.gtid, "0-7-124");
    CHECK_EQ_STR(g.rotate, "mariadb-bin.000002");
    CHECK_EQ_INT(g.rotate_pos, 4);
    CHECK_EQ_INT(g.kinds[g.nitems - 2], LKS_BL_COMMIT); /* the standalone DDL is its own transaction */
    CHECK_EQ_STR(g.version, "10.11.6-MariaDB-log");
    /* a corrupt compressed body */
    file_start();
    fde("10.11.6-MariaDB-log", 1);
    map_t2();
    rows_ev(LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1, 9, 2, NULL, NULL, "\x81\x09\x78\x9c\x01", 5);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "WRITE_ROWS_COMPRESSED_V1") != NULL);
}

static void t_checksums(void) {
    file_start();
    fde("8.0.36", 1);
    query("", "CREATE DATABASE x");
    got g;
    lks_err err;
    CHECK_OK(decode(&g, &err), &err);
    /* one flipped bit in the query text */
    file.ptr[file.len - 6] ^= 0x04;
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "checksum mismatch") && strstr(err.msg, "QUERY event at"));
    /* skip_checksum decodes it anyway */
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    o.skip_checksum = 1;
    lks_binlog_decoder *d;
    CHECK_OK(lks_binlog_decoder_new(&o, &d, &err), &err);
    memset(&g, 0, sizeof g);
    CHECK_OK(lks_binlog_decode_file(d, "x", file.ptr, file.len, 0, collect, &g, &err), &err);
    lks_binlog_decoder_free(d);
    /* the format description's CRC is computed without the in-use flag */
    file_start();
    fde("8.0.36", 1);
    file.ptr[4 + 17] |= 1; /* LOG_EVENT_BINLOG_IN_USE_F, set in place by a running server */
    CHECK_OK(decode(&g, &err), &err);
    file.ptr[4 + 30] ^= 1;
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    /* without checksums (algorithm OFF): no trailing bytes */
    file_start();
    fde("8.0.36", 0);
    query("", "CREATE DATABASE y");
    CHECK_OK(decode(&g, &err), &err);
    CHECK_EQ_STR(g.sql, "CREATE DATABASE y");
    /* pre-5.6 format descriptions have no algorithm byte */
    file_start();
    ev_start(LKS_BLE_FORMAT_DESCRIPTION);
    b_le(4, 2);
    char sv[50] = "5.1.73-log";
    b_bytes(sv, 50);
    b_le(0, 4), b_u8(19);
    uint8_t post[27] = {0};
    post[1] = 13;
    b_bytes(post, sizeof post);
    crc_on = 0;
    add();
    query("", "CREATE DATABASE z");
    CHECK_OK(decode(&g, &err), &err);
    CHECK_EQ_STR(g.sql, "CREATE DATABASE z");
    /* an unknown checksum algorithm */
    file_start();
    fde("8.0.36", 1);
    file.ptr[file.len - 5] = 7;
    CHECK_EQ_INT(decode(&g, &err), LKS_EUNSUPPORTED);
}

static void t_payload(void) {
    /* the inner events: BEGIN, TABLE_MAP, WRITE_ROWS, XID, without checksums */
    file_start();
    fde("8.0.36", 1);
    lks_buf inner, r;
    lks_buf_init(&inner, 0);
    lks_buf_init(&r, 0);
    crc_on = 0;
    size_t keep = file.len;
    query("shop", "BEGIN");
    map_t2();
    row2(&r, 0, 77, "payload");
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 9, 2, NULL, NULL, r.ptr, r.len);
    xid();
    lks_buf_append(&inner, file.ptr + keep, file.len - keep);
    file.len = keep;
    crc_on = 1;
    mysql_gtid(5);
    uint8_t z[1024];
    size_t zl = ZSTD_compress(z, sizeof z, inner.ptr, inner.len, 3);
    REQUIRE(!ZSTD_isError(zl));
    ev_start(LKS_BLE_TRANSACTION_PAYLOAD);
    b_u8(2), b_u8(1), b_u8(0);                       /* compression type zstd */
    b_u8(3), b_u8(3), b_u8(252), b_le(inner.len, 2); /* uncompressed size */
    b_u8(1), b_u8(3), b_u8(252), b_le(zl, 2);        /* payload size */
    b_u8(0);
    b_bytes(z, zl);
    add();
    size_t payload_pos = file.len - ev.len;
    got g;
    lks_err err;
    CHECK_OK(decode(&g, &err), &err);
    CHECK_EQ_INT(g.nrows, 1);
    CHECK_EQ_STR(g.rows[0], "c - | i:77 s:payload");
    CHECK_EQ_STR(g.rgtid[0], "10111213-1415-1617-1819-1a1b1c1d1e1f:5");
    CHECK(g.pos[0] < (int64_t)payload_pos); /* the GTID began the transaction */
    /* a payload whose zstd data is cut */
    file.len = payload_pos;
    ev_start(LKS_BLE_TRANSACTION_PAYLOAD);
    b_u8(2), b_u8(1), b_u8(0), b_u8(0);
    b_bytes(z, zl - 3);
    add();
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "TRANSACTION_PAYLOAD") != NULL);
    lks_buf_free(&inner);
    lks_buf_free(&r);
}

static void t_partial_json(void) {
    /* table: INT id, JSON doc; UPDATE with a partial JSON after image */
    static const uint8_t obj[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 'a'};
    uint8_t types[2] = {3, 245};
    for (int with_before = 1; with_before >= 0; with_before--) {
        file_start();
        fde("8.0.36", 1);
        om(4,
           "\x02id\x03"
           "doc",
           7);
        table_map(3, "db", "j", 2, types, "\x04", 1, NULL);
        lks_buf r;
        lks_buf_init(&r, 0);
        uint8_t l[4];
        if (with_before) {
            lks_buf_append(&r, "\x00\x01\x00\x00\x00", 5); /* before: id=1, doc */
            lks_store_le32(l, sizeof obj);
            lks_buf_append(&r, l, 4);
            lks_buf_append(&r, obj, sizeof obj);
        } else {
            lks_buf_append(&r, "\x00\x01\x00\x00\x00", 5); /* before: id only */
        }
        lks_buf_append(&r, "\x01\x01", 2); /* value options: partial JSON; doc is partial */
        /* diff: REPLACE $.a with int16 2 */
        static const uint8_t diff[] = {0x00, 0x03, '$', '.', 'a', 0x03, 0x05, 0x02, 0x00};
        lks_buf_append(&r, "\x00\x01\x00\x00\x00", 5);
        lks_store_le32(l, sizeof diff);
        lks_buf_append(&r, l, 4);
        lks_buf_append(&r, diff, sizeof diff);
        rows_ev(LKS_BLE_PARTIAL_UPDATE_ROWS, 3, 2, (const uint8_t *)(with_before ? "\x03" : "\x01"), NULL, r.ptr,
                r.len);
        lks_buf_free(&r);
        got g;
        lks_err err;
        int rc = decode(&g, &err);
        if (with_before) {
            CHECK_OK(rc, &err);
            CHECK_EQ_STR(g.rows[0], "u i:1 s:{\"a\":1} | i:1 s:{\"a\":2}");
        } else {
            CHECK_EQ_INT(rc, LKS_EUNSUPPORTED);
            CHECK(strstr(err.msg, "doc") != NULL);
        }
    }
}

static int refuse_secret(void *ud, const char *db, const char *table) {
    (void)ud;
    return !(strcmp(db, "shop") == 0 && strcmp(table, "t2") == 0);
}

static void t_want_table(void) {
    file_start();
    fde("8.0.36", 1);
    map_t2();
    lks_buf r;
    lks_buf_init(&r, 0);
    row2(&r, 0, 1, "x");
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 9, 2, NULL, NULL, r.ptr, r.len);
    /* a declined table whose columns cannot even be parsed (type 100) */
    uint8_t types[1] = {100};
    table_map(10, "shop", "t2", 1, types, NULL, 0, NULL);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 10, 1, NULL, NULL, "\x00\x01", 2);
    lks_buf_free(&r);
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    o.want_table = refuse_secret;
    lks_binlog_decoder *d;
    lks_err err;
    got g;
    memset(&g, 0, sizeof g);
    CHECK_OK(lks_binlog_decoder_new(&o, &d, &err), &err);
    CHECK_OK(lks_binlog_decode_file(d, "x", file.ptr, file.len, 0, collect, &g, &err), &err);
    lks_binlog_decoder_free(d);
    CHECK_EQ_INT(g.nrows, 0);
    CHECK_EQ_INT(g.nevents_last, 0);
    /* wanted, the unknown type is an error */
    CHECK_EQ_INT(decode(&g, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "type 100") != NULL);
}

static void t_rows_without_table_map(void) {
    file_start();
    fde("8.0.36", 1);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 12, 1, NULL, NULL, "\x00\x01", 2);
    got g;
    lks_err err;
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "12") && strstr(err.msg, "TABLE_MAP"));
    /* MySQL's empty end-of-statement event for no table is harmless */
    file_start();
    fde("8.0.36", 1);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 0xffffff, 1, NULL, NULL, "", 0);
    CHECK_OK(decode(&g, &err), &err);
}

/* ---- hostile input ---------------------------------------------------------------------------------- */

static int count_items(void *ud, const lks_binlog_item *it, lks_err *err) {
    (void)it, (void)err;
    (*(int *)ud)++;
    return 0;
}

/* A file with one of everything the decoder reads. */
static void sample_file(void) {
    file_start();
    fde("8.0.36", 1);
    mysql_gtid(1);
    query("shop", "BEGIN");
    uint8_t types[8] = {3, 15, 246, 18, 254, 16, 245, 8};
    om(1, "\x20", 1);
    om(3, "\x2d\x08", 2);
    om(4,
       "\x01"
       "a\x01"
       "b\x01"
       "c\x01"
       "d\x01"
       "e\x01"
       "f\x01"
       "g\x01"
       "h",
       16);
    om(6, "\x02\x01x\x01y", 5);
    om(8, "\x00", 1);
    table_map(9, "shop", "all", 8, types, "\x0a\x00\x0a\x02\x06\xf7\x01\x03\x00\x04", 10, NULL);
    lks_buf r;
    lks_buf_init(&r, 0);
    uint8_t dec[16], dt[8];
    size_t dn = enc_decimal("-12.34", 10, 2, dec), tn = enc_datetime2(dt, 2024, 5, 6, 7, 8, 9, 123456, 6);
    static const uint8_t obj[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 'a'};
    for (int k = 0; k < 2; k++) {
        lks_buf_append(&r, "\x00", 1);
        lks_buf_append(&r, "\x05\x00\x00\x00", 4);
        lks_buf_append(&r,
                       "\x03"
                       "abc",
                       4);
        lks_buf_append(&r, dec, dn);
        lks_buf_append(&r, dt, tn);
        lks_buf_append(&r, "\x02", 1);
        lks_buf_append(&r, "\x05", 1);
        uint8_t l[4];
        lks_store_le32(l, sizeof obj);
        lks_buf_append(&r, l, 4);
        lks_buf_append(&r, obj, sizeof obj);
        lks_buf_append(&r, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    }
    rows_ev(LKS_BLE_UPDATE_ROWS_V2, 9, 8, NULL, NULL, r.ptr, r.len);
    lks_buf_free(&r);
    xid();
}

static void t_truncation_every_offset(void) {
    sample_file();
    got g;
    lks_err err;
    CHECK_OK(decode(&g, &err), &err);
    CHECK_EQ_STR(g.rows[0], "u i:5 s:abc d:-12.34 i:1714979289123456 s:y x:05 s:{\"a\":1} u:18446744073709551615 | "
                            "i:5 s:abc d:-12.34 i:1714979289123456 s:y x:05 s:{\"a\":1} u:18446744073709551615");
    size_t full = file.len;
    uint8_t *copy = malloc(full);
    memcpy(copy, file.ptr, full);
    lks_binlog_decoder *d;
    /* the file cut at every length: an error naming the truncated event, or
     * (cut at an event boundary) a clean stop */
    for (size_t cut = 0; cut < full; cut++) {
        CHECK_OK(lks_binlog_decoder_new(NULL, &d, &err), &err);
        int n = 0, rc = lks_binlog_decode_file(d, "cut", copy, cut, 0, count_items, &n, &err);
        if (rc != LKS_OK && rc != LKS_ECORRUPT)
            FAILF("cut at %zu: rc %d (%s)", cut, rc, err.msg);
        if (rc == LKS_ECORRUPT && cut >= 4 && !strstr(err.msg, "truncated event at"))
            FAILF("cut at %zu: %s", cut, err.msg);
        int m = 0;
        lks_err_clear(&err);
        if (lks_binlog_decode_file(d, "cut", copy, cut, 1, count_items, &m, &err) != LKS_OK && cut >= 4)
            FAILF("cut at %zu with a truncated tail allowed: %s", cut, err.msg);
        lks_binlog_decoder_free(d);
    }
    /* each event's body cut at every length, its header and CRC made
     * consistent (so the decoder must find the damage inside) */
    size_t pos = 4;
    while (pos < full) {
        uint32_t elen = lks_load_le32(copy + pos + 9);
        for (uint32_t k = 19; k < elen; k++) {
            lks_buf_reset(&file);
            lks_buf_append(&file, copy, pos);
            lks_buf_append(&file, copy + pos, k);
            size_t at = pos;
            lks_buf_reset(&ev);
            lks_buf_append(&ev, copy + pos, k >= 4 ? k - 4 : k);
            ev_end_at(at, 1);
            file.len = at;
            lks_buf_append(&file, ev.ptr, ev.len);
            int rc = decode(&g, &err);
            if (rc != LKS_OK && rc != LKS_ECORRUPT && rc != LKS_EUNSUPPORTED)
                FAILF("event at %zu cut to %u: rc %d (%s)", pos, k, rc, err.msg);
            if (rc && !strstr(err.msg, "event at"))
                FAILF("event at %zu cut to %u: message without position: %s", pos, k, err.msg);
        }
        pos += elen;
    }
    /* every byte of the file flipped in turn, checksums off */
    for (size_t i = 4; i < full; i++) {
        copy[i] ^= 0x5a;
        lks_binlog_opts o;
        memset(&o, 0, sizeof o);
        o.skip_checksum = 1;
        o.max_event_bytes = 1 << 20;
        CHECK_OK(lks_binlog_decoder_new(&o, &d, &err), &err);
        int n = 0;
        (void)lks_binlog_decode_file(d, "flip", copy, full, 1, count_items, &n, &err);
        lks_binlog_decoder_free(d);
        copy[i] ^= 0x5a;
    }
    free(copy);
}

/* A file handed to lks_binlog_decode_stream in pieces of 1 to 37 bytes (a
 * read error at `fail_at` when not negative). */
typedef struct pieces {
    const uint8_t *p;
    size_t n, at;
    uint64_t x;
    long fail_at;
} pieces;

static long read_pieces(void *ud, uint8_t *buf, size_t cap, lks_err *err) {
    pieces *r = ud;
    if (r->fail_at >= 0 && r->at >= (size_t)r->fail_at)
        return lks_err_set(err, LKS_EIO, "reader: failed at %zu", r->at);
    r->x ^= r->x << 13, r->x ^= r->x >> 7, r->x ^= r->x << 17;
    size_t k = 1 + r->x % 37;
    k = k < cap ? k : cap;
    k = k < r->n - r->at ? k : r->n - r->at;
    memcpy(buf, r->p + r->at, k);
    r->at += k;
    return (long)k;
}

static got g_whole, g_pieces;

/* data[0..len) decoded whole and in pieces: 1 when the status, the message
 * and every item agree. */
static int same_both_ways(const uint8_t *data, size_t len, int tail, const lks_binlog_opts *o, const char *what) {
    lks_err e1, e2;
    lks_binlog_decoder *d;
    memset(&g_whole, 0, sizeof g_whole);
    memset(&g_pieces, 0, sizeof g_pieces);
    lks_err_clear(&e1);
    lks_err_clear(&e2);
    if (lks_binlog_decoder_new(o, &d, &e1))
        return 0;
    int r1 = lks_binlog_decode_file(d, "x-bin.000001", data, len, tail, collect, &g_whole, &e1);
    lks_binlog_decoder_free(d);
    if (lks_binlog_decoder_new(o, &d, &e2))
        return 0;
    pieces pc = {data, len, 0, 0x9e3779b97f4a7c15u ^ len, -1};
    int r2 = lks_binlog_decode_stream(d, "x-bin.000001", read_pieces, &pc, tail, collect, &g_pieces, &e2);
    lks_binlog_decoder_free(d);
    int ok = r1 == r2 && strcmp(e1.msg, e2.msg) == 0 && g_whole.nitems == g_pieces.nitems &&
             g_whole.nrows == g_pieces.nrows && memcmp(g_whole.kinds, g_pieces.kinds, sizeof g_whole.kinds) == 0 &&
             memcmp(g_whole.pos, g_pieces.pos, sizeof g_whole.pos) == 0 && strcmp(g_whole.sql, g_pieces.sql) == 0;
    for (int i = 0; ok && i < g_whole.nrows && i < 64; i++)
        ok = strcmp(g_whole.rows[i], g_pieces.rows[i]) == 0;
    if (!ok)
        printf("     %s: whole %d \"%s\" (%d items), in pieces %d \"%s\" (%d items)\n", what, r1, e1.msg,
               g_whole.nitems, r2, e2.msg, g_pieces.nitems);
    return ok;
}

/* lks_binlog_decode_stream decodes what lks_binlog_decode_file decodes, and
 * fails the same way: the sample cut at every length (with and without a
 * truncated tail allowed), events over the size limit (in the file or past
 * its end), an event larger than the decoder's buffer, a read error. */
static void t_stream_as_whole(void) {
    sample_file();
    size_t full = file.len;
    uint8_t *copy = malloc(full);
    REQUIRE(copy);
    memcpy(copy, file.ptr, full);
    int bad = 0;
    for (size_t cut = 0; cut <= full; cut++)
        for (int tail = 0; tail < 2; tail++) {
            char what[64];
            snprintf(what, sizeof what, "cut at %zu, tail %d", cut, tail);
            if (!same_both_ways(copy, cut, tail, NULL, what) && bad++ < 3)
                FAILF("%s: the two ways differ", what);
        }
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    o.max_event_bytes = 40;
    for (size_t cut = 0; cut <= full; cut += 7) {
        char what[64];
        snprintf(what, sizeof what, "limit 40, cut at %zu", cut);
        if (!same_both_ways(copy, cut, 0, &o, what) && bad++ < 3)
            FAILF("%s: the two ways differ", what);
    }
    CHECK(same_both_ways(copy, full, 0, &o, "limit 40"));
    lks_binlog_decoder *d;
    lks_err err;
    CHECK_OK(lks_binlog_decoder_new(&o, &d, &err), &err);
    pieces lim = {copy, full, 0, 7, -1};
    CHECK_EQ_INT(lks_binlog_decode_stream(d, "x", read_pieces, &lim, 0, NULL, NULL, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "over the 40-byte limit") != NULL);
    lks_binlog_decoder_free(d);
    /* an event of 600 KB: the buffer grows for it */
    file_start();
    fde("8.0.36", 1);
    size_t bign = 600000;
    char *big = malloc(bign + 1);
    REQUIRE(big);
    memset(big, 'x', bign);
    memcpy(big, "SELECT '", 8);
    memcpy(big + bign - 1, "'", 2);
    query("db", big);
    query("db", "COMMIT");
    free(big);
    CHECK(same_both_ways(file.ptr, file.len, 0, NULL, "large event"));
    CHECK(g_pieces.nitems >= 3 && strncmp(g_pieces.sql, "SELECT 'xx", 10) == 0);
    CHECK(same_both_ways(file.ptr, file.len - 100, 0, NULL, "large event, cut"));
    /* a read error comes back as the reader said it */
    CHECK_OK(lks_binlog_decoder_new(NULL, &d, &err), &err);
    pieces pc = {copy, full, 0, 1, (long)(full / 2)};
    int n = 0;
    CHECK_EQ_INT(lks_binlog_decode_stream(d, "x", read_pieces, &pc, 0, count_items, &n, &err), LKS_EIO);
    CHECK(strstr(err.msg, "reader: failed at") != NULL);
    CHECK(n > 0);
    lks_binlog_decoder_free(d);
    free(copy);
}

static void t_absurd_lengths(void) {
    got g;
    lks_err err;
    /* an event claiming 4 GiB */
    file_start();
    fde("8.0.36", 1);
    lks_buf_append(&file, "\0\0\0\0\x02\x01\0\0\0\xff\xff\xff\xff\0\0\0\0\0\0", 19);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "truncated event at") != NULL);
    /* an event shorter than its header */
    file_start();
    fde("8.0.36", 1);
    lks_buf_append(&file, "\0\0\0\0\x02\x01\0\0\0\x05\0\0\0\0\0\0\0\0\0", 19);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    /* a table map with a huge column count, metadata length, names */
    file_start();
    fde("8.0.36", 1);
    ev_start(LKS_BLE_TABLE_MAP);
    b_le(1, 6), b_le(0, 2), b_u8(1), b_str("d"), b_u8(0), b_u8(1), b_str("t"), b_u8(0);
    b_u8(254), b_le(UINT64_C(1) << 40, 8);
    add();
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "column count") != NULL);
    file_start();
    fde("8.0.36", 1);
    ev_start(LKS_BLE_TABLE_MAP);
    b_le(1, 6), b_le(0, 2), b_u8(200), b_str("d");
    add();
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    file_start();
    fde("8.0.36", 1);
    uint8_t t = 3;
    om(4, "\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 9); /* a column name of 2^63 bytes */
    table_map(1, "d", "t", 1, &t, NULL, 0, NULL);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    /* a rows event with a huge width */
    file_start();
    fde("8.0.36", 1);
    table_map(1, "d", "t", 1, &t, NULL, 0, NULL);
    ev_start(LKS_BLE_WRITE_ROWS_V2);
    b_le(1, 6), b_le(0, 2), b_le(2, 2), b_u8(254), b_le(UINT64_C(1) << 62, 8);
    add();
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    /* a width larger than the table map's */
    file_start();
    fde("8.0.36", 1);
    table_map(1, "d", "t", 1, &t, NULL, 0, NULL);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 1, 9, NULL, NULL, "\x00\x00\x01\x00\x00\x00", 6);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    /* no column present: empty images must not repeat forever (found by
     * fuzzing: fuzz/crashes_binlog/rows-empty-images.bin) */
    file_start();
    fde("8.0.36", 1);
    table_map(1, "d", "t", 1, &t, NULL, 0, NULL);
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 1, 1, (const uint8_t *)"\x00", NULL, "\x00", 1);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "empty images") != NULL);
    /* the max_event_bytes cap */
    file_start();
    fde("8.0.36", 1);
    query("", "SELECT 'a long enough statement'");
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    o.max_event_bytes = 40;
    lks_binlog_decoder *d;
    CHECK_OK(lks_binlog_decoder_new(&o, &d, &err), &err);
    CHECK_EQ_INT(lks_binlog_decode_file(d, "cap", file.ptr, file.len, 0, NULL, NULL, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "limit") != NULL);
    lks_binlog_decoder_free(d);
    /* not a binlog at all */
    lks_buf_reset(&file);
    lks_buf_append(&file, "PAR1", 4);
    CHECK_EQ_INT(decode(&g, &err), LKS_ECORRUPT);
}

static int stop_at_rows(void *ud, const lks_binlog_item *it, lks_err *err) {
    (void)ud;
    if (it->kind == LKS_BL_ROWS)
        return lks_err_set(err, LKS_EINTERNAL, "stopped by the callback");
    return 0;
}

static void t_feed_and_callback_stop(void) {
    /* live-stream style: checksum known up front, events one by one */
    file_start();
    fde("8.0.36", 1);
    size_t fde_end = file.len;
    map_t2();
    lks_buf r;
    lks_buf_init(&r, 0);
    row2(&r, 0, 1, "a");
    rows_ev(LKS_BLE_WRITE_ROWS_V2, 9, 2, NULL, NULL, r.ptr, r.len);
    lks_buf_free(&r);
    lks_binlog_decoder *d;
    lks_err err;
    CHECK_OK(lks_binlog_decoder_new(NULL, &d, &err), &err);
    lks_binlog_decoder_set_checksum(d, 1);
    CHECK_OK(lks_binlog_decoder_set_file(d, "live-bin.000009", &err), &err);
    size_t pos = fde_end;
    got g;
    memset(&g, 0, sizeof g);
    while (pos < file.len) {
        uint32_t n = lks_load_le32(file.ptr + pos + 9);
        CHECK_OK(lks_binlog_feed(d, pos, file.ptr + pos, n, collect, &g, &err), &err);
        pos += n;
    }
    CHECK_EQ_STR(g.rows[0], "c - | i:1 s:a");
    /* a callback's non-zero status stops decoding and comes back */
    int rc = lks_binlog_decode_file(d, "x", file.ptr, file.len, 0, stop_at_rows, NULL, &err);
    CHECK_EQ_INT(rc, LKS_EINTERNAL);
    CHECK_EQ_STR(err.msg, "stopped by the callback");
    lks_binlog_decoder_free(d);
    CHECK_EQ_STR(lks_binlog_type_name(LKS_BLE_WRITE_ROWS_V2), "WRITE_ROWS_V2");
    CHECK_EQ_STR(lks_binlog_type_name(201), "UNKNOWN(201)");
}

/* ---- a live MariaDB -------------------------------------------------------------------------------- */

static lks_test_mdb srv;

typedef struct live {
    int n;
    char rows[64][4200];
    char tables[64][64];
} live;

static int collect_live(void *ud, const lks_binlog_item *it, lks_err *err) {
    (void)err;
    live *l = ud;
    if (it->kind != LKS_BL_ROWS)
        return 0;
    for (int i = 0; i < it->nevents && l->n < 64; i++) {
        const lks_cdc_event *e = &it->events[i];
        char b[2000] = "-", a[2000] = "-";
        if (e->has_before)
            row_text(b, sizeof b, e->schema, &e->before);
        if (e->has_after)
            row_text(a, sizeof a, e->schema, &e->after);
        snprintf(l->tables[l->n], sizeof l->tables[0], "%s.%s", e->source.db, e->source.table);
        snprintf(l->rows[l->n++], sizeof l->rows[0], "%c %s | %s", e->op, b, a);
    }
    return 0;
}

static void live_checks(void);

static void t_live_mariadb(void) {
    int rc = lks_test_mdb_start(&srv, "test_binlog", 3840);
    if (rc > 0)
        SKIP("%s", srv.why);
    if (rc < 0)
        FAILF("%s", srv.why);
    else
        live_checks();
    lks_test_mdb_stop(&srv);
}

/* The statements and the checks of t_live_mariadb, on the started server. */
static void live_checks(void) {
    /* every MariaDB column type, extreme values, in latin1 and utf8mb4 */
    int rc = lks_test_mdb_sql(
        &srv,
        "SET time_zone = '+00:00';\n"
        "CREATE DATABASE lt;\n"
        "CREATE TABLE lt.every (id INT PRIMARY KEY,\n"
        "  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT "
        "UNSIGNED,\n"
        "  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, f FLOAT, d DOUBLE,\n"
        "  dc DECIMAL(10,2), dw DECIMAL(65,30), y YEAR, dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME,\n"
        "  dtm3 DATETIME(3), ts TIMESTAMP(6) NULL, c CHAR(5) CHARACTER SET latin1, vc VARCHAR(300) CHARACTER SET "
        "utf8mb4,\n"
        "  bn BINARY(4), vb VARBINARY(10), tx TEXT CHARACTER SET utf8mb4, bl BLOB, e ENUM('red','gr,een','blue'),\n"
        "  st SET('a','b','c','d'), b1 BIT(1), b12 BIT(12), j JSON, g GEOMETRY, pt POINT, inet INET6, u UUID)\n"
        "  CHARACTER SET latin1;\n"
        "SET sql_mode = 'ALLOW_INVALID_DATES';\n"
        "INSERT INTO lt.every VALUES (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,\n"
        "  -9223372036854775808, 18446744073709551615, -1.5, 2.2250738585072014e-308,\n"
        "  -12345678.91, -12345678901234567890123456789012345.123456789012345678901234567891, 2155,\n"
        "  '9999-12-31', '-838:59:59', '-00:00:00.000001', '1000-01-01 00:00:00', '2024-02-29 23:59:59.999',\n"
        "  '2038-01-19 03:14:07.999999', 'caf\xc3\xa9', 'h\xc3\xa9llo \xf0\x9f\x98\x80', x'01020000', x'00ff',\n"
        "  'text \xe2\x82\xac', x'deadbeef', 'gr,een', 'a,d', b'1', b'101010101010', '{\"k\": [1, 2.5, null]}',\n"
        "  ST_GeomFromText('LINESTRING(0 0,1 1)'), ST_GeomFromText('POINT(1 2)'), '::1', "
        "'123e4567-e89b-12d3-a456-426614174000');\n"
        "INSERT INTO lt.every (id, dt, dtm, y) VALUES (2, '0000-00-00', '0000-00-00 00:00:00', 0);\n"
        "INSERT INTO lt.every (id) VALUES (3);\n"
        "UPDATE lt.every SET i = 0, vc = 'x', dw = 0, tm6 = '12:00:00.5' WHERE id = 1;\n"
        "DELETE FROM lt.every WHERE id = 2;\n"
        "FLUSH BINARY LOGS;\n");
    if (rc != 0) {
        char p[400];
        snprintf(p, sizeof p, "%s/q.out", srv.dir);
        size_t n;
        uint8_t *o = lks_test_read_file(p, &n);
        FAILF("SQL failed: %.*s", o ? (int)n : 0, o ? (char *)o : "");
        free(o);
    } else {
        char path[400];
        snprintf(path, sizeof path, "%s/data/binlog.000001", srv.dir);
        size_t len;
        uint8_t *data = lks_test_read_file(path, &len);
        if (!data) {
            FAILF("cannot read %s", path);
            return;
        }
        lks_binlog_decoder *d;
        lks_err err;
        CHECK_OK(lks_binlog_decoder_new(NULL, &d, &err), &err);
        live l;
        memset(&l, 0, sizeof l);
        CHECK_OK(lks_binlog_decode_file(d, "binlog.000001", data, len, 0, collect_live, &l, &err), &err);
        lks_binlog_decoder_free(d);
        free(data);
        CHECK_EQ_INT(l.n, 5);
        static const char row1[] =
            "i:1 i:-128 i:255 i:-32768 i:65535 i:-8388608 i:16777215 i:-2147483648 i:4294967295 "
            "i:-9223372036854775808 u:18446744073709551615 f:-1.5 f:2.22507386e-308 d:-12345678.91 "
            "d:-12345678901234567890123456789012345.123456789012345678901234567891 i:2155 i:2932896 "
            "i:-3020399000000 i:-1 i:-30610224000000000 i:1709251199999000 i:2147483647999999 s:caf\xc3\xa9 "
            "s:h\xc3\xa9llo \xf0\x9f\x98\x80 x:01020000 x:00ff s:text \xe2\x82\xac x:deadbeef s:gr,een s:a,d b:1 "
            "x:0aaa s:{\"k\": [1, 2.5, null]} "
            "x:01020000000200000000000000000000000000000000000000000000000000f03f000000000000f03f "
            "x:0101000000000000000000f03f0000000000000040 x:00000000000000000000000000000001 "
            "x:123e4567e89b12d3a456426614174000";
        char want[2100];
        snprintf(want, sizeof want, "c - | %s", row1);
        CHECK_EQ_STR(l.rows[0], want);
        CHECK_EQ_STR(l.tables[0], "lt.every");
        /* zero dates are NULL, YEAR 0000 is 0 */
        CHECK_EQ_STR(l.rows[1], "c - | i:2 N N N N N N N N N N N N N N i:0 N N N N N N N N N N N N N N N N N N N N N");
        CHECK(strstr(l.rows[2], "c - | i:3 N N") != NULL);
        CHECK(strstr(l.rows[3], "u i:1 i:-128") == l.rows[3]);
        CHECK(strstr(l.rows[3], "| i:1 i:-128 i:255 i:-32768 i:65535 i:-8388608 i:16777215 i:0 ") != NULL);
        CHECK(strstr(l.rows[3], "d:0.000000000000000000000000000000 i:2155") != NULL);
        CHECK(strstr(l.rows[3], "i:-1 i:-30610224") != NULL);          /* tm6 before */
        CHECK(strstr(l.rows[3], "i:43200500000 i:-30610224") != NULL); /* tm6 after */
        CHECK(strncmp(l.rows[4], "d i:2 ", 6) == 0);
    }
}

int main(void) {
    lks_buf_init(&ev, 0);
    lks_buf_init(&file, 0);
    lks_buf_init(&opt, 0);
    RUN(t_integers);
    RUN(t_signedness_flavours);
    RUN(t_floats);
    RUN(t_decimal_binary);
    RUN(t_decimal_text);
    RUN(t_temporals);
    RUN(t_strings);
    RUN(t_enum_set_bit);
    RUN(t_json_geometry_vector);
    RUN(t_rows_v1_v2_images);
    RUN(t_transactions);
    RUN(t_mariadb_events);
    RUN(t_checksums);
    RUN(t_payload);
    RUN(t_partial_json);
    RUN(t_want_table);
    RUN(t_rows_without_table_map);
    RUN(t_truncation_every_offset);
    RUN(t_stream_as_whole);
    RUN(t_absurd_lengths);
    RUN(t_feed_and_callback_stop);
    RUN(t_live_mariadb);
    lks_buf_free(&ev);
    lks_buf_free(&file);
    lks_buf_free(&opt);
    return lks_test_done();
}
