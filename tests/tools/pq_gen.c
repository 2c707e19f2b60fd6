/*
 * pq_gen — writes a Parquet file with a random schema and random rows
 * (deterministic from SEED) through lakesync's writer, and the rows it
 * meant to write as JSONL (DESIGN.md "Rows as text"), for an independent
 * reader to be checked against.
 *
 *   pq_gen SEED NROWS OUT.parquet EXPECTED.jsonl [snappy|zstd|gzip|none]
 *
 * Values include nulls, empty and long strings, 1- to 4-byte UTF-8,
 * extremes of every type, float32 and float64 specials, decimals of
 * several precisions, structs, lists and maps.  Small page and row-group
 * limits make every file hold several pages and row groups.
 */
#include "parquet/compress.h"
#include "parquet/parquet.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int pick(int n) { return (int)(next() % (uint64_t)n); }

enum {
    K_BOOL, K_I8, K_I16, K_I32, K_I64, K_U64, K_F32, K_F64, K_STR, K_BIN, K_DATE, K_TS_UTC, K_TS_LOCAL,
    K_DEC4, K_DEC9, K_DEC18, K_DEC38, K_DEC12_FLBA, K_STRUCT, K_LIST, K_MAP, K_COUNT
};

#define MAXF 256
static lks_pq_field fields[MAXF];
static int kinds[MAXF]; /* per top-level field index into fields: its kind */
static int nfields;
static char names[MAXF][32];

static int add(const char *name, int rep, int type, lks_pq_logical lt, int nch, int tl) {
    int i = nfields++;
    snprintf(names[i], sizeof names[i], "%s", name);
    fields[i] = (lks_pq_field){names[i], rep, type, tl, lt, -1, nch};
    return i;
}

static void add_column(int idx, int kind, int rep) {
    char nm[32];
    snprintf(nm, sizeof nm, "c%d", idx);
    lks_pq_logical none = lks_pq_lt(LKS_PQ_LT_NONE);
    int f = nfields;
    switch (kind) {
    case K_BOOL: add(nm, rep, LKS_PQ_BOOLEAN, none, 0, 0); break;
    case K_I8: {
        lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_INTEGER);
        lt.bit_width = 8, lt.is_signed = 1;
        add(nm, rep, LKS_PQ_INT32, lt, 0, 0);
        break;
    }
    case K_I16: {
        lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_INTEGER);
        lt.bit_width = 16, lt.is_signed = 1;
        add(nm, rep, LKS_PQ_INT32, lt, 0, 0);
        break;
    }
    case K_I32: add(nm, rep, LKS_PQ_INT32, none, 0, 0); break;
    case K_I64: add(nm, rep, LKS_PQ_INT64, none, 0, 0); break;
    case K_U64: {
        lks_pq_logical lt = lks_pq_lt(LKS_PQ_LT_INTEGER);
        lt.bit_width = 64, lt.is_signed = 0;
        add(nm, rep, LKS_PQ_INT64, lt, 0, 0);
        break;
    }
    case K_F32: add(nm, rep, LKS_PQ_FLOAT, none, 0, 0); break;
    case K_F64: add(nm, rep, LKS_PQ_DOUBLE, none, 0, 0); break;
    case K_STR: add(nm, rep, LKS_PQ_BYTE_ARRAY, lks_pq_lt(LKS_PQ_LT_STRING), 0, 0); break;
    case K_BIN: add(nm, rep, LKS_PQ_BYTE_ARRAY, none, 0, 0); break;
    case K_DATE: add(nm, rep, LKS_PQ_INT32, lks_pq_lt(LKS_PQ_LT_DATE), 0, 0); break;
    case K_TS_UTC: add(nm, rep, LKS_PQ_INT64, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1), 0, 0); break;
    case K_TS_LOCAL: add(nm, rep, LKS_PQ_INT64, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 0), 0, 0); break;
    case K_DEC4: add(nm, rep, LKS_PQ_INT32, lks_pq_lt_decimal(4, 2), 0, 0); break;
    case K_DEC9: add(nm, rep, LKS_PQ_INT32, lks_pq_lt_decimal(9, 3), 0, 0); break;
    case K_DEC18: add(nm, rep, LKS_PQ_INT64, lks_pq_lt_decimal(18, 6), 0, 0); break;
    case K_DEC38: add(nm, rep, LKS_PQ_FIXED_LEN_BYTE_ARRAY, lks_pq_lt_decimal(38, 10), 0, 16); break;
    case K_DEC12_FLBA: add(nm, rep, LKS_PQ_FIXED_LEN_BYTE_ARRAY, lks_pq_lt_decimal(12, 2), 0, 6); break;
    case K_STRUCT:
        add(nm, rep, -1, none, 3, 0);
        add("a", LKS_PQ_OPTIONAL, LKS_PQ_INT32, none, 0, 0);
        add("b", LKS_PQ_OPTIONAL, LKS_PQ_BYTE_ARRAY, lks_pq_lt(LKS_PQ_LT_STRING), 0, 0);
        add("c", LKS_PQ_REQUIRED, LKS_PQ_DOUBLE, none, 0, 0);
        break;
    case K_LIST:
        add(nm, rep, -1, lks_pq_lt(LKS_PQ_LT_LIST), 1, 0);
        add("list", LKS_PQ_REPEATED, -1, none, 1, 0);
        add("element", LKS_PQ_OPTIONAL, LKS_PQ_INT64, none, 0, 0);
        break;
    case K_MAP:
        add(nm, rep, -1, lks_pq_lt(LKS_PQ_LT_MAP), 1, 0);
        add("key_value", LKS_PQ_REPEATED, -1, none, 2, 0);
        add("key", LKS_PQ_REQUIRED, LKS_PQ_BYTE_ARRAY, lks_pq_lt(LKS_PQ_LT_STRING), 0, 0);
        add("value", LKS_PQ_OPTIONAL, LKS_PQ_INT32, none, 0, 0);
        break;
    }
    kinds[f] = kind;
}

/* ---- values ------------------------------------------------------------------- */

static lks_arena A;

static lks_slice rand_string(void) {
    static const char *const pieces[] = {"a", "Z", "0", " ", "é", "ß", "€", "中", "😀", "\"", "\\", "\n", ",", "\t"};
    int shape = pick(10);
    size_t n = shape == 0 ? 0 : shape == 1 ? 200 + (size_t)pick(800) : (size_t)pick(12);
    char *s = lks_arena_alloc(&A, n * 4 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[pick((int)(sizeof pieces / sizeof pieces[0]))];
        memcpy(s + len, p, strlen(p));
        len += strlen(p);
    }
    return (lks_slice){(const uint8_t *)s, len};
}

static int64_t rand_i64(void) {
    switch (pick(6)) {
    case 0: return INT64_MIN;
    case 1: return INT64_MAX;
    case 2: return 0;
    case 3: return -1;
    default: return (int64_t)next();
    }
}

static int32_t rand_i32(void) {
    switch (pick(6)) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return 0;
    default: return (int32_t)next();
    }
}

static double rand_f64(void) {
    switch (pick(12)) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return -0.0;
    case 4: return DBL_MAX;
    case 5: return DBL_MIN;
    case 6: return 4.9e-324;
    case 7: return 0.1;
    default: {
        double d;
        uint64_t u = next();
        memcpy(&d, &u, 8);
        return isnan(d) ? 1.5 : d;
    }
    }
}

static float rand_f32(void) {
    switch (pick(10)) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -FLT_MAX;
    case 3: return FLT_MIN;
    case 4: return 1e-45f;
    case 5: return 0.1f;
    case 6: return -0.0f;
    default: {
        float f;
        uint32_t u = (uint32_t)next();
        memcpy(&f, &u, 4);
        return isnan(f) ? 2.5f : f;
    }
    }
}

/* Unscaled decimal below 10^digits in magnitude, as int64 (digits <= 18). */
static int64_t rand_unscaled(int digits) {
    int64_t lim = 1;
    for (int i = 0; i < digits; i++)
        lim *= 10;
    switch (pick(5)) {
    case 0: return lim - 1;
    case 1: return -(lim - 1);
    case 2: return 0;
    default: return (int64_t)(next() % (uint64_t)lim) * (pick(2) ? 1 : -1);
    }
}

static lks_slice be_bytes(const uint8_t *le16, int width) {
    uint8_t *o = lks_arena_alloc(&A, (size_t)width);
    for (int i = 0; i < width; i++)
        o[i] = le16[width - 1 - i];
    return (lks_slice){o, (size_t)width};
}

/* 38-digit decimal: 10^38-1 fits in 127 bits; build random values below it. */
static lks_slice rand_dec38(void) {
    uint8_t le[16];
    int sel = pick(4);
    if (sel == 0) { /* 10^38 - 1 */
        static const uint8_t max38[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f,
                                          0x22, 0x8a, 0x09, 0x7a, 0xc4, 0x86, 0x5a, 0x4b};
        memcpy(le, max38, 16);
    } else if (sel == 1) {
        memset(le, 0, 16);
    } else {
        uint64_t lo = next(), hi = next() % 0x4b3b4ca85a86c47aULL;
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(lo >> (8 * i)), le[8 + i] = (uint8_t)(hi >> (8 * i));
    }
    if (pick(2)) { /* negate (two's complement) */
        int carry = 1;
        for (int i = 0; i < 16; i++) {
            int v = (uint8_t)~le[i] + carry;
            le[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    return be_bytes(le, 16);
}

static lks_slice dec_flba(int64_t unscaled, int width) {
    uint8_t le[16];
    for (int i = 0; i < 16; i++)
        le[i] = (uint8_t)((uint64_t)unscaled >> (8 * (i < 8 ? i : 7)) >> (i < 8 ? 0 : 8));
    for (int i = 8; i < 16; i++)
        le[i] = unscaled < 0 ? 0xff : 0;
    return be_bytes(le, width);
}

static void gen_value(int f, lks_pq_value *v);

static void gen_present(int f, lks_pq_value *v) {
    const lks_pq_field *fd = &fields[f];
    memset(v, 0, sizeof *v);
    switch (kinds[f]) {
    case K_BOOL: v->kind = LKS_PQ_V_BOOL, v->u.b = pick(2); return;
    case K_I8: v->kind = LKS_PQ_V_INT32, v->u.i32 = pick(3) ? (int8_t)next() : (pick(2) ? -128 : 127); return;
    case K_I16: v->kind = LKS_PQ_V_INT32, v->u.i32 = pick(3) ? (int16_t)next() : (pick(2) ? -32768 : 32767); return;
    case K_I32: v->kind = LKS_PQ_V_INT32, v->u.i32 = rand_i32(); return;
    case K_I64: v->kind = LKS_PQ_V_INT64, v->u.i64 = rand_i64(); return;
    case K_U64: v->kind = LKS_PQ_V_INT64, v->u.i64 = pick(3) ? (int64_t)next() : -1; return;
    case K_F32: v->kind = LKS_PQ_V_FLOAT, v->u.f32 = rand_f32(); return;
    case K_F64: v->kind = LKS_PQ_V_DOUBLE, v->u.f64 = rand_f64(); return;
    case K_STR: v->kind = LKS_PQ_V_BYTES, v->u.bytes = rand_string(); return;
    case K_BIN: {
        size_t n = (size_t)pick(40);
        uint8_t *p = lks_arena_alloc(&A, n + 1);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)next();
        v->kind = LKS_PQ_V_BYTES, v->u.bytes = (lks_slice){p, n};
        return;
    }
    case K_DATE: /* 0001-01-01 .. 9999-12-31 */
        v->kind = LKS_PQ_V_INT32;
        v->u.i32 = pick(4) == 0 ? (pick(2) ? -719162 : 2932896) : (int32_t)(next() % 3652059) - 719162;
        return;
    case K_TS_UTC:
    case K_TS_LOCAL: /* years 1000 .. 9000 */
        v->kind = LKS_PQ_V_INT64;
        v->u.i64 = (int64_t)(next() % 252455616000000000ULL) - 30610224000000000LL;
        return;
    case K_DEC4: v->kind = LKS_PQ_V_INT32, v->u.i32 = (int32_t)rand_unscaled(4); return;
    case K_DEC9: v->kind = LKS_PQ_V_INT32, v->u.i32 = (int32_t)rand_unscaled(9); return;
    case K_DEC18: v->kind = LKS_PQ_V_INT64, v->u.i64 = rand_unscaled(18); return;
    case K_DEC38: v->kind = LKS_PQ_V_BYTES, v->u.bytes = rand_dec38(); return;
    case K_DEC12_FLBA: v->kind = LKS_PQ_V_BYTES, v->u.bytes = dec_flba(rand_unscaled(12), 6); return;
    default: break;
    }
    /* groups */
    v->kind = LKS_PQ_V_GROUP;
    v->u.list.n = (size_t)fd->num_children;
    v->u.list.items = lks_arena_alloc(&A, sizeof(lks_pq_value) * v->u.list.n);
    if (kinds[f] == K_STRUCT) {
        gen_value(f + 1, &v->u.list.items[0]);
        gen_value(f + 2, &v->u.list.items[1]);
        gen_value(f + 3, &v->u.list.items[2]);
        return;
    }
    /* LIST / MAP: one child, the repeated group */
    lks_pq_value *rep = &v->u.list.items[0];
    size_t n = (size_t)pick(5);
    rep->kind = LKS_PQ_V_REPEATED;
    rep->u.list.n = n;
    rep->u.list.items = lks_arena_alloc(&A, sizeof(lks_pq_value) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        lks_pq_value *item = &rep->u.list.items[i];
        int g = f + 1;
        item->kind = LKS_PQ_V_GROUP;
        item->u.list.n = (size_t)fields[g].num_children;
        item->u.list.items = lks_arena_alloc(&A, sizeof(lks_pq_value) * item->u.list.n);
        if (kinds[f] == K_LIST) {
            gen_value(g + 1, &item->u.list.items[0]);
        } else {
            /* unique keys: "k<i>" plus random text */
            char *k = lks_arena_printf(&A, "k%zu%s", i, pick(2) ? "é" : "");
            item->u.list.items[0] = (lks_pq_value){.kind = LKS_PQ_V_BYTES};
            item->u.list.items[0].u.bytes = (lks_slice){(const uint8_t *)k, strlen(k)};
            gen_value(g + 2, &item->u.list.items[1]);
        }
    }
}

static void gen_value(int f, lks_pq_value *v) {
    if (fields[f].repetition == LKS_PQ_OPTIONAL && pick(5) == 0) {
        memset(v, 0, sizeof *v);
        return;
    }
    gen_present(f, v);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: pq_gen SEED NROWS OUT.parquet EXPECTED.jsonl [codec]\n");
        return 2;
    }
    rng = strtoull(argv[1], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
    long nrows = strtol(argv[2], NULL, 10);
    int codec = argc > 5 ? lks_pq_codec_parse(argv[5]) : LKS_PQ_SNAPPY;
    if (codec < 0) {
        fprintf(stderr, "pq_gen: unknown codec %s\n", argv[5]);
        return 2;
    }
    /* nested kinds get a sub-field kind tag too */
    memset(kinds, -1, sizeof kinds);
    int ncols = 2 + pick(10);
    int *topk = calloc((size_t)ncols, sizeof(int));
    add("schema", LKS_PQ_REQUIRED, -1, lks_pq_lt(LKS_PQ_LT_NONE), ncols, 0);
    for (int i = 0; i < ncols; i++) {
        int kind = pick(K_COUNT);
        int rep = kind >= K_STRUCT || pick(3) ? LKS_PQ_OPTIONAL : LKS_PQ_REQUIRED;
        topk[i] = kind;
        add_column(i, kind, rep);
    }
    /* tag the scalar children of nested fields with their kinds */
    for (int f = 1; f < nfields; f++)
        if (kinds[f] < 0 && fields[f].type >= 0) {
            const lks_pq_field *fd = &fields[f];
            kinds[f] = fd->type == LKS_PQ_INT32 ? K_I32 : fd->type == LKS_PQ_INT64 ? K_I64
                     : fd->type == LKS_PQ_DOUBLE ? K_F64 : K_STR;
        }
    lks_err err = {0};
    lks_pq_schema *s = NULL;
    if (lks_pq_schema_build(fields, nfields, &s, &err) != LKS_OK) {
        fprintf(stderr, "pq_gen: %s\n", err.msg);
        return 1;
    }
    FILE *out = fopen(argv[3], "wb"), *exp = fopen(argv[4], "wb");
    if (!out || !exp) {
        perror("pq_gen");
        return 1;
    }
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.codec = codec;
    o.page_bytes = 512 + (size_t)pick(4096);
    o.row_group_rows = 50 + pick(400);
    o.dict_max_bytes = 256 + (size_t)pick(2048);
    lks_pq_writer *w = NULL;
    if (lks_pq_writer_open(s, &o, lks_pq_sink_stdio, out, &w, &err) != LKS_OK) {
        fprintf(stderr, "pq_gen: %s\n", err.msg);
        return 1;
    }
    for (int c = 0; c < s->num_cols; c++)
        if (s->cols[c].type != LKS_PQ_BOOLEAN && pick(3) == 0)
            lks_pq_writer_set_bloom(w, c, 1000, 0.01);
    lks_pq_writer_set_kv(w, "pq_gen.seed", argv[1]);
    lks_arena_init(&A, 0);
    lks_buf line;
    lks_buf_init(&line, 0);
    for (long r = 0; r < nrows; r++) {
        lks_arena_reset(&A);
        lks_pq_value row;
        row.kind = LKS_PQ_V_GROUP;
        row.u.list.n = (size_t)ncols;
        row.u.list.items = lks_arena_alloc(&A, sizeof(lks_pq_value) * (size_t)ncols);
        for (int i = 0, f = 1; i < ncols; i++) {
            gen_value(f, &row.u.list.items[i]);
            /* next top-level field */
            int pending = 1;
            while (pending > 0) {
                pending += fields[f].type < 0 ? fields[f].num_children : 0;
                pending--;
                f++;
            }
        }
        if (lks_pq_write_row(w, &row, &err) != LKS_OK) {
            fprintf(stderr, "pq_gen: row %ld: %s\n", r, err.msg);
            return 1;
        }
        lks_buf_reset(&line);
        if (lks_pq_value_to_json(&line, s, 0, &row) != LKS_OK) {
            fprintf(stderr, "pq_gen: row %ld: cannot print\n", r);
            return 1;
        }
        lks_buf_append_byte(&line, '\n');
        fwrite(line.ptr, 1, line.len, exp);
    }
    if (lks_pq_writer_close(w, &err) != LKS_OK) {
        fprintf(stderr, "pq_gen: %s\n", err.msg);
        return 1;
    }
    lks_pq_writer_free(w);
    lks_pq_schema_free(s);
    lks_buf_free(&line);
    lks_arena_free(&A);
    free(topk);
    if (fclose(out) != 0 || fclose(exp) != 0) {
        perror("pq_gen");
        return 1;
    }
    return 0;
}
