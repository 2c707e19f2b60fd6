/* test_parquet_meta.c — Thrift compact protocol and Parquet metadata:
 * round trips, every corpus footer, truncation, byte flips, nesting bombs,
 * huge list counts. */
#include "core/core.h"
#include "harness.h"
#include "parquet/meta.h"
#include "parquet/thrift.h"

#include <dirent.h>

/* ---- helpers ------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Locates the footer: 0 with *off and *flen set, 1 for an encrypted footer ("PARE"),
 * -1 when the file is not Parquet. */
static int find_footer(const uint8_t *p, size_t len, size_t *off, size_t *flen) {
    if (len < 12)
        return -1;
    if (memcmp(p + len - 4, "PARE", 4) == 0)
        return 1;
    if (memcmp(p + len - 4, "PAR1", 4) != 0 || memcmp(p, "PAR1", 4) != 0)
        return -1;
    uint32_t n = lks_load_le32(p + len - 8);
    if (n > len - 12)
        return -1;
    *off = len - 8 - n;
    *flen = n;
    return 0;
}

static int slice_eq(lks_slice a, lks_slice b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int streq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* ---- a rich FileMetaData ------------------------------------------------------------ */

static const uint8_t MINV[] = {1, 2, 3}, MAXV[] = {0xff, 0, 0x7f, 9};

static void fill_stats(lks_pq_stats *st) {
    memset(st, 0, sizeof *st);
    st->has = LKS_PQ_ST_MAX | LKS_PQ_ST_MIN | LKS_PQ_ST_NULL_COUNT | LKS_PQ_ST_DISTINCT | LKS_PQ_ST_MAX_VALUE |
              LKS_PQ_ST_MIN_VALUE | LKS_PQ_ST_MAX_EXACT | LKS_PQ_ST_MIN_EXACT;
    st->max = (lks_slice){MAXV, sizeof MAXV};
    st->min = (lks_slice){MINV, sizeof MINV};
    st->null_count = 7;
    st->distinct_count = INT64_MAX;
    st->max_value = (lks_slice){MAXV, 2};
    st->min_value = (lks_slice){MINV, 0};
    st->is_max_value_exact = 1;
    st->is_min_value_exact = 0;
}

static lks_pq_schema_elem SCHEMA[9];
static int32_t ENCS[] = {0, 3, 8, 9};
static const char *PATH1[] = {"a"}, *PATH2[] = {"b", "list", "element"};
static lks_pq_kv KV[] = {{"k1", "v1"}, {"nullvalue", NULL}, {"", ""}};
static lks_pq_page_enc_stats ES[] = {{0, 8, 3}, {2, 0, 1}};
static lks_pq_column_chunk COLS[2][2];
static lks_pq_sorting_column SORT[] = {{1, 1, 0}, {0, 0, 1}};
static lks_pq_row_group RGS[2];
static uint8_t ORDERS[] = {1, 0, 1, 1, 1, 1, 1, 1};

static void schema_leaf(lks_pq_schema_elem *se, const char *name, int type, int rep) {
    memset(se, 0, sizeof *se);
    se->name = name;
    se->type = type;
    se->repetition = rep;
    se->converted_type = -1;
}

static void rich_meta(lks_pq_file_meta *m) {
    memset(m, 0, sizeof *m);
    lks_pq_schema_elem *s = SCHEMA;
    schema_leaf(&s[0], "root", -1, -1);
    s[0].num_children = 8;
    schema_leaf(&s[1], "dec", LKS_PQ_FIXED_LEN_BYTE_ARRAY, LKS_PQ_OPTIONAL);
    s[1].type_length = 11;
    s[1].converted_type = LKS_PQ_CT_DECIMAL;
    s[1].scale = 2;
    s[1].precision = 25;
    s[1].logical = (lks_pq_logical){.kind = LKS_PQ_LT_DECIMAL, .scale = 2, .precision = 25};
    s[1].field_id = -5;
    s[1].has_field_id = 1;
    schema_leaf(&s[2], "ts", LKS_PQ_INT64, LKS_PQ_REQUIRED);
    s[2].logical = (lks_pq_logical){.kind = LKS_PQ_LT_TIMESTAMP, .unit = LKS_PQ_UNIT_MICROS, .utc = 1};
    schema_leaf(&s[3], "t", LKS_PQ_INT32, LKS_PQ_OPTIONAL);
    s[3].logical = (lks_pq_logical){.kind = LKS_PQ_LT_TIME, .unit = LKS_PQ_UNIT_MILLIS, .utc = 0};
    s[3].converted_type = LKS_PQ_CT_TIME_MILLIS;
    schema_leaf(&s[4], "u16", LKS_PQ_INT32, LKS_PQ_OPTIONAL);
    s[4].logical = (lks_pq_logical){.kind = LKS_PQ_LT_INTEGER, .bit_width = 16, .is_signed = 0};
    schema_leaf(&s[5], "s", LKS_PQ_BYTE_ARRAY, LKS_PQ_OPTIONAL);
    s[5].logical.kind = LKS_PQ_LT_STRING;
    s[5].converted_type = LKS_PQ_CT_UTF8;
    schema_leaf(&s[6], "uuid", LKS_PQ_FIXED_LEN_BYTE_ARRAY, LKS_PQ_OPTIONAL);
    s[6].type_length = 16;
    s[6].logical.kind = LKS_PQ_LT_UUID;
    schema_leaf(&s[7], "future", LKS_PQ_BYTE_ARRAY, LKS_PQ_OPTIONAL);
    s[7].logical.kind = 300; /* a kind from the future: an empty struct with that id */
    schema_leaf(&s[8], "ns", LKS_PQ_INT64, LKS_PQ_REPEATED);
    s[8].logical = (lks_pq_logical){.kind = LKS_PQ_LT_TIMESTAMP, .unit = LKS_PQ_UNIT_NANOS, .utc = 1};
    m->version = 2;
    m->schema = s;
    m->num_schema = 9;
    m->num_rows = 12345678901ll;
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < 2; c++) {
            lks_pq_column_chunk *cc = &COLS[g][c];
            memset(cc, 0, sizeof *cc);
            cc->file_path = c ? "other.parquet" : NULL;
            cc->file_offset = 4 + g * 1000 + c;
            cc->has_meta = 1;
            cc->offset_index_offset = c ? -1 : 5000;
            cc->offset_index_length = c ? -1 : 77;
            cc->column_index_offset = c ? 6000 : -1;
            cc->column_index_length = c ? 88 : -1;
            lks_pq_column_meta *cm = &cc->meta;
            cm->type = c ? LKS_PQ_BYTE_ARRAY : LKS_PQ_INT32;
            cm->encodings = ENCS;
            cm->num_encodings = c ? 4 : 1;
            cm->path = c ? PATH2 : PATH1;
            cm->path_len = c ? 3 : 1;
            cm->codec = c ? LKS_PQ_ZSTD : LKS_PQ_SNAPPY;
            cm->num_values = 100 + g;
            cm->total_uncompressed_size = 1 << 20;
            cm->total_compressed_size = 999;
            cm->kv = c ? KV : NULL;
            cm->num_kv = c ? 3 : 0;
            cm->data_page_offset = 4 + g * 1000;
            cm->index_page_offset = -1;
            cm->dictionary_page_offset = c ? 17 : -1;
            cm->has_stats = (uint8_t)c;
            if (c)
                fill_stats(&cm->stats);
            cm->enc_stats = c ? ES : NULL;
            cm->num_enc_stats = c ? 2 : 0;
            cm->bloom_filter_offset = c ? 1ll << 40 : -1;
            cm->bloom_filter_length = c ? 4096 : -1;
        }
        lks_pq_row_group *rg = &RGS[g];
        memset(rg, 0, sizeof *rg);
        rg->columns = COLS[g];
        rg->num_columns = 2;
        rg->total_byte_size = 77777;
        rg->num_rows = 1000 + g;
        rg->sorting = g ? SORT : NULL;
        rg->num_sorting = g ? 2 : 0;
        rg->file_offset = g ? 4000 : -1;
        rg->total_compressed_size = g ? 5555 : -1;
        rg->ordinal = g ? 1 : -1;
    }
    m->row_groups = RGS;
    m->num_row_groups = 2;
    m->kv = KV;
    m->num_kv = 3;
    m->created_by = "lakesync version 0.1.0";
    m->column_orders = ORDERS;
    m->num_column_orders = 8;
}

static void check_stats_eq(const lks_pq_stats *a, const lks_pq_stats *b) {
    CHECK_EQ_INT(a->has, b->has);
    unsigned has = a->has;
    CHECK(!(has & LKS_PQ_ST_MAX) || slice_eq(a->max, b->max));
    CHECK(!(has & LKS_PQ_ST_MIN) || slice_eq(a->min, b->min));
    CHECK(!(has & LKS_PQ_ST_MAX_VALUE) || slice_eq(a->max_value, b->max_value));
    CHECK(!(has & LKS_PQ_ST_MIN_VALUE) || slice_eq(a->min_value, b->min_value));
    CHECK(!(has & LKS_PQ_ST_NULL_COUNT) || a->null_count == b->null_count);
    CHECK(!(has & LKS_PQ_ST_DISTINCT) || a->distinct_count == b->distinct_count);
    CHECK(!(has & LKS_PQ_ST_MAX_EXACT) || a->is_max_value_exact == b->is_max_value_exact);
    CHECK(!(has & LKS_PQ_ST_MIN_EXACT) || a->is_min_value_exact == b->is_min_value_exact);
}

static void check_meta_eq(const lks_pq_file_meta *a, const lks_pq_file_meta *b) {
    CHECK_EQ_INT(a->version, b->version);
    CHECK_EQ_INT(a->num_rows, b->num_rows);
    CHECK(streq(a->created_by, b->created_by));
    REQUIRE(a->num_schema == b->num_schema);
    for (int i = 0; i < a->num_schema; i++) {
        const lks_pq_schema_elem *x = &a->schema[i], *y = &b->schema[i];
        CHECK_EQ_STR(x->name, y->name);
        CHECK_EQ_INT(x->type, y->type);
        CHECK_EQ_INT(x->type_length, y->type_length);
        CHECK_EQ_INT(x->repetition, y->repetition);
        CHECK_EQ_INT(x->num_children, y->num_children);
        CHECK_EQ_INT(x->converted_type, y->converted_type);
        CHECK_EQ_INT(x->scale, y->scale);
        CHECK_EQ_INT(x->precision, y->precision);
        CHECK_EQ_INT(x->has_field_id, y->has_field_id);
        CHECK_EQ_INT(x->field_id, y->field_id);
        CHECK(memcmp(&x->logical, &y->logical, sizeof x->logical) == 0);
    }
    REQUIRE(a->num_row_groups == b->num_row_groups);
    for (int g = 0; g < a->num_row_groups; g++) {
        const lks_pq_row_group *x = &a->row_groups[g], *y = &b->row_groups[g];
        CHECK_EQ_INT(x->total_byte_size, y->total_byte_size);
        CHECK_EQ_INT(x->num_rows, y->num_rows);
        CHECK_EQ_INT(x->file_offset, y->file_offset);
        CHECK_EQ_INT(x->total_compressed_size, y->total_compressed_size);
        CHECK_EQ_INT(x->ordinal, y->ordinal);
        REQUIRE(x->num_sorting == y->num_sorting);
        for (int i = 0; i < x->num_sorting; i++) {
            CHECK_EQ_INT(x->sorting[i].column_idx, y->sorting[i].column_idx);
            CHECK_EQ_INT(x->sorting[i].descending, y->sorting[i].descending);
            CHECK_EQ_INT(x->sorting[i].nulls_first, y->sorting[i].nulls_first);
        }
        REQUIRE(x->num_columns == y->num_columns);
        for (int c = 0; c < x->num_columns; c++) {
            const lks_pq_column_chunk *p = &x->columns[c], *q = &y->columns[c];
            CHECK(streq(p->file_path, q->file_path));
            CHECK_EQ_INT(p->file_offset, q->file_offset);
            CHECK_EQ_INT(p->offset_index_offset, q->offset_index_offset);
            CHECK_EQ_INT(p->offset_index_length, q->offset_index_length);
            CHECK_EQ_INT(p->column_index_offset, q->column_index_offset);
            CHECK_EQ_INT(p->column_index_length, q->column_index_length);
            CHECK_EQ_INT(p->encrypted, q->encrypted);
            REQUIRE(p->has_meta == q->has_meta);
            const lks_pq_column_meta *u = &p->meta, *v = &q->meta;
            CHECK_EQ_INT(u->type, v->type);
            CHECK_EQ_INT(u->codec, v->codec);
            REQUIRE(u->num_encodings == v->num_encodings);
            for (int i = 0; i < u->num_encodings; i++)
                CHECK_EQ_INT(u->encodings[i], v->encodings[i]);
            REQUIRE(u->path_len == v->path_len);
            for (int i = 0; i < u->path_len; i++)
                CHECK_EQ_STR(u->path[i], v->path[i]);
            CHECK_EQ_INT(u->num_values, v->num_values);
            CHECK_EQ_INT(u->total_uncompressed_size, v->total_uncompressed_size);
            CHECK_EQ_INT(u->total_compressed_size, v->total_compressed_size);
            REQUIRE(u->num_kv == v->num_kv);
            for (int i = 0; i < u->num_kv; i++) {
                CHECK_EQ_STR(u->kv[i].key, v->kv[i].key);
                CHECK(streq(u->kv[i].value, v->kv[i].value));
            }
            CHECK_EQ_INT(u->data_page_offset, v->data_page_offset);
            CHECK_EQ_INT(u->index_page_offset, v->index_page_offset);
            CHECK_EQ_INT(u->dictionary_page_offset, v->dictionary_page_offset);
            CHECK_EQ_INT(u->has_stats, v->has_stats);
            if (u->has_stats)
                check_stats_eq(&u->stats, &v->stats);
            REQUIRE(u->num_enc_stats == v->num_enc_stats);
            for (int i = 0; i < u->num_enc_stats; i++)
                CHECK(memcmp(&u->enc_stats[i], &v->enc_stats[i], sizeof u->enc_stats[i]) == 0);
            CHECK_EQ_INT(u->bloom_filter_offset, v->bloom_filter_offset);
            CHECK_EQ_INT(u->bloom_filter_length, v->bloom_filter_length);
        }
    }
    REQUIRE(a->num_kv == b->num_kv);
    for (int i = 0; i < a->num_kv; i++) {
        CHECK_EQ_STR(a->kv[i].key, b->kv[i].key);
        CHECK(streq(a->kv[i].value, b->kv[i].value));
    }
    REQUIRE(a->num_column_orders == b->num_column_orders);
    CHECK(a->num_column_orders == 0 || memcmp(a->column_orders, b->column_orders, (size_t)a->num_column_orders) == 0);
    CHECK_EQ_INT(a->encrypted, b->encrypted);
}

/* ---- Thrift primitives ------------------------------------------------------------- */

static void t_thrift_primitives(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_thr_wr w;
    lks_thr_wr_init(&w, &b);
    static const uint8_t bin[] = {0, 1, 2, 0x80, 0xff};
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i16(&w, 1, INT16_MIN);
    lks_thr_w_field_i32(&w, 2, INT32_MIN);
    lks_thr_w_field_i64(&w, 3, INT64_MIN);
    lks_thr_w_field_i64(&w, 30, INT64_MAX); /* long-form id (delta 27) */
    lks_thr_w_field_i32(&w, 4, -1);         /* id goes down: long form */
    lks_thr_w_field_bool(&w, 5, 1);
    lks_thr_w_field_bool(&w, 6, 0);
    lks_thr_w_field_i8(&w, 7, -128);
    lks_thr_w_field_binary(&w, 8, bin, sizeof bin);
    lks_thr_w_field_list(&w, 9, LKS_THR_I32, 20); /* long list header */
    for (int i = 0; i < 20; i++)
        lks_thr_w_i32(&w, i * 1000 - 7000);
    lks_thr_w_field_struct(&w, 32767);
    lks_thr_w_field_i32(&w, 1, 42);
    lks_thr_w_struct_end(&w);
    lks_thr_w_field_i32(&w, -3, 5); /* negative ids exist in the wild */
    lks_thr_w_struct_end(&w);
    CHECK_OK(w.rc, (lks_err *)NULL);
    REQUIRE(w.rc == 0);

    lks_thr_rd r;
    lks_thr_rd_init(&r, b.ptr, b.len, 100);
    REQUIRE(lks_thr_r_struct_begin(&r, "T") == 0);
    int16_t id;
    int t, n = 0;
    while (lks_thr_r_field(&r, &id, &t)) {
        n++;
        switch (id) {
        case 1: CHECK_EQ_INT(lks_thr_r_i16(&r), INT16_MIN); break;
        case 2: CHECK_EQ_INT(lks_thr_r_i32(&r), INT32_MIN); break;
        case 3: CHECK(lks_thr_r_i64(&r) == INT64_MIN); break;
        case 30: CHECK(lks_thr_r_i64(&r) == INT64_MAX); break;
        case 4: CHECK_EQ_INT(lks_thr_r_i32(&r), -1); break;
        case 5: CHECK_EQ_INT(lks_thr_r_bool(&r, t), 1); break;
        case 6: CHECK_EQ_INT(lks_thr_r_bool(&r, t), 0); break;
        case 7: CHECK_EQ_INT(lks_thr_r_i8(&r), -128); break;
        case 8: {
            lks_slice s = lks_thr_r_binary(&r);
            CHECK(s.len == sizeof bin && memcmp(s.ptr, bin, sizeof bin) == 0);
            break;
        }
        case 9: {
            size_t cnt;
            int et;
            CHECK_EQ_INT(lks_thr_r_list(&r, LKS_THR_I32, 1, &et, &cnt), 0);
            CHECK_EQ_INT(cnt, 20);
            for (size_t i = 0; i < cnt; i++)
                CHECK_EQ_INT(lks_thr_r_i32(&r), (int)i * 1000 - 7000);
            break;
        }
        case 32767: CHECK_EQ_INT(lks_thr_r_skip(&r, t), 0); break;
        case -3: CHECK_EQ_INT(lks_thr_r_i32(&r), 5); break;
        default: CHECK(!"unexpected field");
        }
    }
    lks_thr_r_struct_end(&r);
    CHECK_EQ_INT(r.code, 0);
    CHECK_EQ_INT(n, 12);
    CHECK(r.cur.p == r.cur.end);

    /* skipping every wire type, including ones Parquet never uses */
    static const uint8_t all[] = {
        0x11,                                                 /* 1: bool true */
        0x12,                                                 /* 2: bool false */
        0x13, 0xff,                                           /* 3: i8 */
        0x14, 0x81, 0x01,                                     /* 4: i16 */
        0x17, 0,    0,    0,    0,    0,    0,    0xf0, 0x3f, /* 5: double 1.0 */
        0x1a, 0x31, 1,    2,    0,                            /* 6: set<bool> {1,2,0} */
        0x1b, 0x02, 0x85, 0x01, 'a',  0x04, 0x00, 0x03,       /* 7: map<binary,i32> {"a": 2, "": -2} */
        0x1b, 0x00,                                           /* 8: empty map */
        0x19, 0x2c, 0x00, 0x15, 0x02, 0x00,                   /* 9: list<struct> {}, {1: 1} */
        0x00};
    lks_thr_rd_init(&r, all, sizeof all, 0);
    lks_thr_r_struct_begin(&r, "all");
    n = 0;
    while (lks_thr_r_field(&r, &id, &t)) {
        n++;
        if (id == 5) {
            CHECK(lks_thr_r_double(&r) == 1.0);
            continue;
        }
        CHECK_EQ_INT(lks_thr_r_skip(&r, t), 0);
    }
    CHECK_EQ_INT(r.code, 0);
    CHECK_EQ_INT(n, 9);
    CHECK(r.cur.p == r.cur.end);

    /* varint overflow: 11 bytes, and a 10th byte > 1; i32 out of range */
    static const uint8_t ov1[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00};
    static const uint8_t ov2[] = {0x15, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00};
    const uint8_t *ovs[] = {ov1, ov2};
    size_t ovl[] = {sizeof ov1, sizeof ov2};
    for (int i = 0; i < 2; i++) {
        lks_thr_rd_init(&r, ovs[i], ovl[i], 1000);
        lks_thr_r_struct_begin(&r, "X");
        CHECK(lks_thr_r_field(&r, &id, &t));
        if (i == 0)
            lks_thr_r_i64(&r);
        else
            lks_thr_r_i32(&r);
        CHECK_EQ_INT(r.code, LKS_ECORRUPT);
        CHECK_EQ_INT(r.offset, 1001);
        CHECK(!lks_thr_r_field(&r, &id, &t)); /* sticky */
        lks_err err;
        CHECK_EQ_INT(lks_thr_r_status(&r, "ctx", &err), LKS_ECORRUPT);
        CHECK(strstr(err.msg, "ctx: ") && strstr(err.msg, "in X field 1 at offset 1001"));
    }
    /* binary longer than the input */
    static const uint8_t longbin[] = {0x18, 0x10, 'a', 'b', 0x00};
    lks_thr_rd_init(&r, longbin, sizeof longbin, 0);
    lks_thr_r_struct_begin(&r, "X");
    CHECK(lks_thr_r_field(&r, &id, &t));
    lks_slice s = lks_thr_r_binary(&r);
    CHECK(s.ptr == NULL && s.len == 0);
    CHECK_EQ_INT(r.code, LKS_ECORRUPT);
    CHECK(strstr(r.what, "binary length"));
    lks_buf_free(&b);
}

/* ---- FileMetaData round trip ----------------------------------------------------------- */

static void t_file_meta_roundtrip(void) {
    lks_pq_file_meta m, back;
    rich_meta(&m);
    lks_buf b, b2;
    lks_buf_init(&b, 0);
    lks_buf_init(&b2, 0);
    CHECK_OK(lks_pq_encode_file_meta(&b, &m), (lks_err *)NULL);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_err_clear(&err);
    CHECK_OK(lks_pq_decode_file_meta(b.ptr, b.len, &a, &back, &err), &err);
    check_meta_eq(&m, &back);
    /* re-encoding what was decoded gives the same bytes */
    CHECK_OK(lks_pq_encode_file_meta(&b2, &back), (lks_err *)NULL);
    CHECK(b.len == b2.len && memcmp(b.ptr, b2.ptr, b.len) == 0);
    /* decoded binaries live in the arena, not in the input */
    const lks_pq_stats *st = &back.row_groups[0].columns[1].meta.stats;
    CHECK(st->max.ptr < b.ptr || st->max.ptr >= b.ptr + b.len);
    CHECK_EQ_INT(back.schema[7].logical.kind, 300);
    CHECK_EQ_INT(back.schema[0].type, -1);
    CHECK_EQ_INT(back.schema[0].repetition, -1);
    CHECK(back.row_groups[0].columns[0].file_path == NULL);
    CHECK(back.kv[1].value == NULL);
    lks_arena_free(&a);
    lks_buf_free(&b);
    lks_buf_free(&b2);
}

/* A minimal FileMetaData written field by field, leaving out `skip_id`. */
static void minimal_meta(lks_buf *b, int skip_id) {
    lks_thr_wr w;
    lks_thr_wr_init(&w, b);
    lks_thr_w_struct_begin(&w);
    if (skip_id != 1)
        lks_thr_w_field_i32(&w, 1, 1);
    if (skip_id != 2) {
        lks_thr_w_field_list(&w, 2, LKS_THR_STRUCT, 1);
        lks_thr_w_struct_begin(&w);
        lks_thr_w_field_string(&w, 4, "root");
        lks_thr_w_struct_end(&w);
    }
    if (skip_id != 3)
        lks_thr_w_field_i64(&w, 3, 0);
    if (skip_id != 4)
        lks_thr_w_field_list(&w, 4, LKS_THR_STRUCT, 0);
    lks_thr_w_struct_end(&w);
}

static void t_required_fields(void) {
    static const char *names[] = {NULL, "version", "schema", "num_rows", "row_groups"};
    lks_arena a;
    lks_arena_init(&a, 0);
    for (int skip = 0; skip <= 4; skip++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        minimal_meta(&b, skip);
        lks_pq_file_meta m;
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_pq_decode_file_meta(b.ptr, b.len, &a, &m, &err);
        if (skip == 0) {
            CHECK_OK(rc, &err);
            CHECK_EQ_INT(m.num_schema, 1);
            CHECK_EQ_INT(m.num_row_groups, 0);
            CHECK(m.created_by == NULL);
        } else {
            CHECK_EQ_INT(rc, LKS_ECORRUPT);
            CHECK(strstr(err.msg, names[skip]) != NULL);
            CHECK(strstr(err.msg, "FileMetaData") != NULL);
        }
        lks_buf_free(&b);
    }
    /* a ColumnMetaData without its codec names the field */
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_thr_wr w;
    lks_thr_wr_init(&w, &b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, 1);
    lks_thr_w_field_list(&w, 2, LKS_THR_STRUCT, 1);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_string(&w, 4, "root");
    lks_thr_w_struct_end(&w);
    lks_thr_w_field_i64(&w, 3, 0);
    lks_thr_w_field_list(&w, 4, LKS_THR_STRUCT, 1);
    lks_thr_w_struct_begin(&w); /* RowGroup */
    lks_thr_w_field_list(&w, 1, LKS_THR_STRUCT, 1);
    lks_thr_w_struct_begin(&w); /* ColumnChunk */
    lks_thr_w_field_i64(&w, 2, 4);
    lks_thr_w_field_struct(&w, 3);
    lks_thr_w_field_i32(&w, 1, 1);
    lks_thr_w_field_list(&w, 2, LKS_THR_I32, 0);
    lks_thr_w_field_list(&w, 3, LKS_THR_BINARY, 0);
    lks_thr_w_field_i64(&w, 5, 0);
    lks_thr_w_field_i64(&w, 6, 0);
    lks_thr_w_field_i64(&w, 7, 0);
    lks_thr_w_field_i64(&w, 9, 4);
    lks_thr_w_struct_end(&w);
    lks_thr_w_struct_end(&w);
    lks_thr_w_field_i64(&w, 2, 0);
    lks_thr_w_field_i64(&w, 3, 0);
    lks_thr_w_struct_end(&w);
    lks_thr_w_struct_end(&w);
    REQUIRE(w.rc == 0);
    lks_pq_file_meta m;
    lks_err err;
    CHECK_EQ_INT(lks_pq_decode_file_meta(b.ptr, b.len, &a, &m, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "ColumnMetaData.codec") != NULL);
    lks_buf_free(&b);
    lks_arena_free(&a);
}

/* ---- page and bloom headers -------------------------------------------------------------- */

static void t_page_header_roundtrip(void) {
    lks_pq_page_header hs[5];
    memset(hs, 0, sizeof hs);
    hs[0] = (lks_pq_page_header){.type = LKS_PQ_DATA_PAGE,
                                 .uncompressed_size = 1000,
                                 .compressed_size = 600,
                                 .crc = -123456,
                                 .has_crc = 1,
                                 .num_values = 100,
                                 .encoding = LKS_PQ_ENC_RLE_DICTIONARY,
                                 .def_encoding = LKS_PQ_ENC_RLE,
                                 .rep_encoding = LKS_PQ_ENC_BIT_PACKED,
                                 .is_compressed = 1,
                                 .has_stats = 1};
    fill_stats(&hs[0].stats);
    hs[1] = (lks_pq_page_header){.type = LKS_PQ_DICTIONARY_PAGE,
                                 .uncompressed_size = 40,
                                 .compressed_size = 40,
                                 .num_values = 10,
                                 .encoding = LKS_PQ_ENC_PLAIN,
                                 .is_sorted = 1,
                                 .is_compressed = 1};
    hs[2] = (lks_pq_page_header){.type = LKS_PQ_DATA_PAGE_V2,
                                 .uncompressed_size = 5000,
                                 .compressed_size = 5000,
                                 .num_values = 300,
                                 .encoding = LKS_PQ_ENC_DELTA_BINARY_PACKED,
                                 .num_nulls = 20,
                                 .num_rows = 280,
                                 .def_levels_len = 12,
                                 .rep_levels_len = 3,
                                 .is_compressed = 0,
                                 .has_stats = 1};
    fill_stats(&hs[2].stats);
    hs[2].stats.has = LKS_PQ_ST_NULL_COUNT | LKS_PQ_ST_MIN_VALUE;
    hs[3] = (lks_pq_page_header){.type = LKS_PQ_DATA_PAGE_V2,
                                 .uncompressed_size = 0,
                                 .compressed_size = 9,
                                 .num_values = 1,
                                 .num_rows = 1,
                                 .is_compressed = 1,
                                 .crc = 7,
                                 .has_crc = 1};
    hs[4] = (lks_pq_page_header){
        .type = LKS_PQ_INDEX_PAGE, .uncompressed_size = 8, .compressed_size = 8, .is_compressed = 1};
    for (int i = 0; i < 5; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_pq_encode_page_header(&b, &hs[i]), (lks_err *)NULL);
        size_t hlen = b.len;
        CHECK_OK(lks_buf_append(&b, "page-data", 9), (lks_err *)NULL); /* what follows a header */
        lks_pq_page_header h;
        size_t used = 0;
        lks_err err;
        lks_err_clear(&err);
        CHECK_OK(lks_pq_decode_page_header(b.ptr, b.len, 4096, &h, &used, &err), &err);
        CHECK_EQ_INT(used, hlen);
        CHECK_EQ_INT(h.type, hs[i].type);
        CHECK_EQ_INT(h.uncompressed_size, hs[i].uncompressed_size);
        CHECK_EQ_INT(h.compressed_size, hs[i].compressed_size);
        CHECK_EQ_INT(h.has_crc, hs[i].has_crc);
        CHECK_EQ_INT(h.crc, hs[i].crc);
        CHECK_EQ_INT(h.num_values, hs[i].num_values);
        CHECK_EQ_INT(h.encoding, hs[i].encoding);
        CHECK_EQ_INT(h.def_encoding, hs[i].def_encoding);
        CHECK_EQ_INT(h.rep_encoding, hs[i].rep_encoding);
        CHECK_EQ_INT(h.num_nulls, hs[i].num_nulls);
        CHECK_EQ_INT(h.num_rows, hs[i].num_rows);
        CHECK_EQ_INT(h.def_levels_len, hs[i].def_levels_len);
        CHECK_EQ_INT(h.rep_levels_len, hs[i].rep_levels_len);
        CHECK_EQ_INT(h.is_compressed, hs[i].is_compressed);
        CHECK_EQ_INT(h.is_sorted, hs[i].is_sorted);
        CHECK_EQ_INT(h.has_stats, hs[i].has_stats);
        if (h.has_stats) {
            check_stats_eq(&h.stats, &hs[i].stats);
            /* page-header statistics point into the input */
            if (h.stats.has & LKS_PQ_ST_MAX)
                CHECK(h.stats.max.ptr >= b.ptr && h.stats.max.ptr < b.ptr + hlen);
        }
        /* every truncation fails cleanly */
        for (size_t k = 0; k < hlen; k++) {
            uint8_t *cp = malloc(k ? k : 1);
            memcpy(cp, b.ptr, k);
            CHECK(lks_pq_decode_page_header(cp, k, 0, &h, &used, &err) != LKS_OK);
            free(cp);
        }
        lks_buf_free(&b);
    }
    /* a DataPageHeaderV2 without is_compressed defaults to compressed */
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_thr_wr w;
    lks_thr_wr_init(&w, &b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, LKS_PQ_DATA_PAGE_V2);
    lks_thr_w_field_i32(&w, 2, 10);
    lks_thr_w_field_i32(&w, 3, 10);
    lks_thr_w_field_struct(&w, 8);
    for (int16_t id = 1; id <= 6; id++)
        lks_thr_w_field_i32(&w, id, 0);
    lks_thr_w_struct_end(&w);
    lks_thr_w_struct_end(&w);
    lks_pq_page_header h;
    lks_err err;
    CHECK_OK(lks_pq_decode_page_header(b.ptr, b.len, 0, &h, NULL, &err), &err);
    CHECK_EQ_INT(h.is_compressed, 1);
    /* a DATA_PAGE without its sub-header is refused; negative sizes too */
    lks_buf_reset(&b);
    lks_thr_wr_init(&w, &b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, LKS_PQ_DATA_PAGE);
    lks_thr_w_field_i32(&w, 2, 10);
    lks_thr_w_field_i32(&w, 3, 10);
    lks_thr_w_struct_end(&w);
    CHECK_EQ_INT(lks_pq_decode_page_header(b.ptr, b.len, 0, &h, NULL, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "data_page_header") != NULL);
    lks_buf_reset(&b);
    lks_thr_wr_init(&w, &b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, LKS_PQ_DICTIONARY_PAGE);
    lks_thr_w_field_i32(&w, 2, 10);
    lks_thr_w_field_i32(&w, 3, 10);
    lks_thr_w_field_struct(&w, 7);
    lks_thr_w_field_i32(&w, 1, -5);
    lks_thr_w_field_i32(&w, 2, 0);
    lks_thr_w_struct_end(&w);
    lks_thr_w_struct_end(&w);
    CHECK_EQ_INT(lks_pq_decode_page_header(b.ptr, b.len, 0, &h, NULL, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "negative num_values") != NULL);
    lks_buf_free(&b);
}

static void t_bloom_header(void) {
    lks_pq_bloom_header h = {1024}, back;
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_pq_encode_bloom_header(&b, &h), (lks_err *)NULL);
    size_t used;
    lks_err err;
    CHECK_OK(lks_pq_decode_bloom_header(b.ptr, b.len, 0, &back, &used, &err), &err);
    CHECK_EQ_INT(back.num_bytes, 1024);
    CHECK_EQ_INT(used, b.len);
    /* another hash (member 2) is well-formed but unsupported */
    for (int16_t which = 2; which <= 4; which++) {
        lks_buf_reset(&b);
        lks_thr_wr w;
        lks_thr_wr_init(&w, &b);
        lks_thr_w_struct_begin(&w);
        lks_thr_w_field_i32(&w, 1, 32);
        for (int16_t id = 2; id <= 4; id++) {
            lks_thr_w_field_struct(&w, id);
            lks_thr_w_field_struct(&w, id == which ? 2 : 1);
            lks_thr_w_struct_end(&w);
            lks_thr_w_struct_end(&w);
        }
        lks_thr_w_struct_end(&w);
        CHECK_EQ_INT(lks_pq_decode_bloom_header(b.ptr, b.len, 0, &back, &used, &err), LKS_EUNSUPPORTED);
    }
    lks_buf_free(&b);
    /* the corpus's xxhash bloom filter: header, then numBytes of bitset */
    char path[4200];
    if (!lks_test_corpus_path(path, sizeof path, "parquet/data/bloom_filter.xxhash.bin"))
        SKIP("no corpus");
    size_t len;
    uint8_t *p = lks_test_read_file(path, &len);
    if (!p)
        SKIP("no %s", path);
    CHECK_OK(lks_pq_decode_bloom_header(p, len, 0, &back, &used, &err), &err);
    CHECK(back.num_bytes > 0 && used + (size_t)back.num_bytes == len);
    free(p);
}

/* ---- corpus footers ------------------------------------------------------------------------ */

typedef struct footer {
    char name[256];
    uint8_t *file;
    size_t off, len;
} footer;

static footer FOOTERS[128];
static int NFOOTERS;

static void load_footers(void) {
    if (NFOOTERS)
        return;
    char dir[4200];
    if (!lks_test_corpus_path(dir, sizeof dir, "parquet/data"))
        return;
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *de;
    while ((de = readdir(dh)) && NFOOTERS < 128) {
        size_t nl = strlen(de->d_name);
        if (nl < 8 || strcmp(de->d_name + nl - 8, ".parquet") != 0)
            continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        footer *f = &FOOTERS[NFOOTERS];
        size_t flen;
        f->file = lks_test_read_file(path, &flen);
        if (!f->file)
            continue;
        snprintf(f->name, sizeof f->name, "%s", de->d_name);
        int k = find_footer(f->file, flen, &f->off, &f->len);
        if (k != 0) {
            printf("  note: %s: %s, skipped\n", f->name, k > 0 ? "encrypted footer" : "no footer");
            free(f->file);
            continue;
        }
        NFOOTERS++;
    }
    closedir(dh);
}

static const footer *find(const char *name) {
    for (int i = 0; i < NFOOTERS; i++)
        if (strcmp(FOOTERS[i].name, name) == 0)
            return &FOOTERS[i];
    return NULL;
}

static void t_corpus_footers(void) {
    load_footers();
    if (!NFOOTERS)
        SKIP("no corpus parquet/data");
    lks_arena a;
    lks_arena_init(&a, 0);
    int ok = 0, bad = 0;
    for (int i = 0; i < NFOOTERS; i++) {
        const footer *f = &FOOTERS[i];
        lks_pq_file_meta m, m2;
        lks_err err;
        lks_err_clear(&err);
        lks_arena_reset(&a);
        int rc = lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err);
        if (rc) {
            bad++;
            FAILF("%s: %s", f->name, err.msg);
            continue;
        }
        ok++;
        CHECK(m.num_schema >= 1);
        int64_t rows = 0;
        for (int g = 0; g < m.num_row_groups; g++)
            rows += m.row_groups[g].num_rows;
        CHECK_EQ_INT(rows, m.num_rows);
        /* decode(encode(decode(footer))) is the same metadata */
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_pq_encode_file_meta(&b, &m), (lks_err *)NULL);
        CHECK_OK(lks_pq_decode_file_meta(b.ptr, b.len, &a, &m2, &err), &err);
        check_meta_eq(&m, &m2);
        lks_buf_free(&b);
    }
    printf("  corpus footers: %d decoded, %d failed, 0 skipped as encrypted/malformed\n", ok, bad);

    /* spot checks against MANIFEST.md and the DuckDB metadata dumps */
    lks_pq_file_meta m;
    lks_err err;
    const footer *f;
    if ((f = find("alltypes_plain.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        CHECK_EQ_INT(m.num_rows, 8);
        CHECK(m.created_by && strncmp(m.created_by, "impala version 1.3.0-INTERNAL", 29) == 0);
        CHECK_EQ_INT(m.num_schema, 12);
    }
    if ((f = find("sort_columns.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        CHECK_EQ_INT(m.num_row_groups, 2);
        REQUIRE(m.row_groups[0].num_sorting == 2);
        CHECK_EQ_INT(m.row_groups[0].sorting[0].column_idx, 0);
        CHECK_EQ_INT(m.row_groups[0].sorting[0].descending, 1);
        CHECK_EQ_INT(m.row_groups[0].sorting[0].nulls_first, 1);
        CHECK_EQ_INT(m.row_groups[0].sorting[1].descending, 0);
        CHECK_EQ_INT(m.row_groups[0].sorting[1].nulls_first, 0);
    }
    if ((f = find("column_chunk_key_value_metadata.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        REQUIRE(m.num_row_groups >= 1 && m.row_groups[0].num_columns >= 1);
        const lks_pq_column_meta *cm = &m.row_groups[0].columns[0].meta;
        REQUIRE(cm->num_kv == 2);
        CHECK_EQ_STR(cm->kv[0].key, "foo");
        CHECK_EQ_STR(cm->kv[0].value, "bar");
        CHECK_EQ_STR(cm->kv[1].key, "thisiskeywithoutvalue");
        CHECK(cm->kv[1].value == NULL);
    }
    if ((f = find("data_index_bloom_encoding_with_length.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        REQUIRE(m.num_row_groups >= 1 && m.row_groups[0].num_columns >= 1);
        const lks_pq_column_meta *cm = &m.row_groups[0].columns[0].meta;
        CHECK(cm->bloom_filter_offset > 0);
        CHECK(cm->bloom_filter_length > 0);
    }
    if ((f = find("unknown-logical-type.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        int unknown = 0;
        for (int i = 0; i < m.num_schema; i++)
            unknown += m.schema[i].logical.kind > LKS_PQ_LT_GEOGRAPHY;
        CHECK_EQ_INT(unknown, 1);
    }
    if ((f = find("binary_truncated_min_max.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        REQUIRE(m.num_row_groups >= 1 && m.row_groups[0].num_columns >= 1);
        int exact_flags = 0;
        for (int c = 0; c < m.row_groups[0].num_columns; c++)
            exact_flags += (m.row_groups[0].columns[c].meta.stats.has & LKS_PQ_ST_MAX_EXACT) != 0;
        CHECK_EQ_INT(exact_flags, m.row_groups[0].num_columns);
    }
    if ((f = find("alltypes_tiny_pages.parquet"))) {
        CHECK_OK(lks_pq_decode_file_meta(f->file + f->off, f->len, &a, &m, &err), &err);
        REQUIRE(m.num_row_groups >= 1 && m.row_groups[0].num_columns >= 1);
        CHECK(m.row_groups[0].columns[0].offset_index_offset > 0);
        CHECK(m.row_groups[0].columns[0].column_index_length > 0);
    }
    lks_arena_free(&a);
}

/* bad_data/: whatever the footer holds, decoding never crashes; report. */
static void t_corpus_bad_data(void) {
    if (!lks_test_corpus())
        SKIP("no corpus");
    static const char *files[] = {"ARROW-GH-43605.parquet", "ARROW-GH-47662.parquet",
                                  "ARROW-RS-GH-6229-DICTHEADER.parquet", "PARQUET-1481.parquet"};
    lks_arena a;
    lks_arena_init(&a, 0);
    int ok = 0, bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4200];
        lks_test_corpus_path(path, sizeof path, "parquet/bad_data/%s", files[i]);
        size_t len, off, flen;
        uint8_t *p = lks_test_read_file(path, &len);
        if (!p)
            continue;
        if (find_footer(p, len, &off, &flen) == 0) {
            lks_pq_file_meta m;
            lks_err err;
            lks_err_clear(&err);
            int rc = lks_pq_decode_file_meta(p + off, flen, &a, &m, &err);
            if (rc == LKS_OK)
                ok++;
            else
                bad++, printf("  note: %s: %s\n", files[i], err.msg);
            /* its schema holds physical type -7; the others are bad in their pages */
            if (strcmp(files[i], "PARQUET-1481.parquet") == 0) {
                CHECK_EQ_INT(rc, LKS_ECORRUPT);
                CHECK(strstr(err.msg, "physical type") != NULL);
            } else {
                CHECK_OK(rc, &err);
            }
        }
        free(p);
    }
    printf("  bad_data footers: %d decoded, %d refused\n", ok, bad);
    lks_arena_free(&a);
}

/* ---- hostile input ---------------------------------------------------------------------------- */

static void t_truncation(void) {
    load_footers();
    lks_pq_file_meta m;
    rich_meta(&m);
    lks_buf rich;
    lks_buf_init(&rich, 0);
    CHECK_OK(lks_pq_encode_file_meta(&rich, &m), (lks_err *)NULL);
    lks_arena a;
    lks_arena_init(&a, 0);
    int tried = 0;
    for (int i = -1; i < NFOOTERS; i++) {
        const uint8_t *p = i < 0 ? rich.ptr : FOOTERS[i].file + FOOTERS[i].off;
        size_t len = i < 0 ? rich.len : FOOTERS[i].len;
        if (len > 20000) /* keep the run short: the big footers are covered by flips */
            continue;
        for (size_t k = 0; k < len; k++) {
            uint8_t *cp = malloc(k ? k : 1); /* exact size: ASan sees any overread */
            memcpy(cp, p, k);
            lks_err err;
            lks_arena_reset(&a);
            int rc = lks_pq_decode_file_meta(cp, k, &a, &m, &err);
            if (rc == LKS_OK)
                FAILF("%s truncated to %zu bytes decoded", i < 0 ? "rich" : FOOTERS[i].name, k);
            free(cp);
            tried++;
        }
    }
    printf("  %d truncations refused\n", tried);
    lks_arena_free(&a);
    lks_buf_free(&rich);
}

static void flip_run(const uint8_t *p, size_t len, int rounds, int *ok, int *bad, lks_arena *a, int page) {
    uint8_t *cp = malloc(len);
    for (int r = 0; r < rounds; r++) {
        memcpy(cp, p, len);
        int nflip = 1 + (int)(rng() % 4);
        for (int j = 0; j < nflip; j++) {
            size_t at = (size_t)(rng() % len);
            if (rng() & 1)
                cp[at] ^= (uint8_t)(1u << (rng() % 8));
            else
                cp[at] = (uint8_t)rng();
        }
        lks_err err;
        int rc;
        if (page) {
            lks_pq_page_header h;
            size_t used;
            rc = lks_pq_decode_page_header(cp, len, 0, &h, &used, &err);
            if (rc == LKS_OK && used > len)
                FAILF("used %zu > %zu", used, len);
        } else {
            lks_pq_file_meta m;
            lks_arena_reset(a);
            rc = lks_pq_decode_file_meta(cp, len, a, &m, &err);
            /* memory stays proportional to the input */
            if (a->used_total > 128 * len + 4096)
                FAILF("arena used %zu for %zu input bytes", a->used_total, len);
        }
        if (rc == LKS_OK)
            ++*ok;
        else {
            ++*bad;
            if (rc != LKS_ECORRUPT && rc != LKS_EUNSUPPORTED)
                FAILF("unexpected status %d: %s", rc, err.msg);
        }
    }
    free(cp);
}

static void t_byte_flips(void) {
    load_footers();
    rng_state = 0x243F6A8885A308D3ull;
    lks_arena a;
    lks_arena_init(&a, 0);
    int ok = 0, bad = 0;
    lks_pq_file_meta m;
    rich_meta(&m);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_pq_encode_file_meta(&b, &m), (lks_err *)NULL);
    flip_run(b.ptr, b.len, 3000, &ok, &bad, &a, 0);
    int files = 0;
    for (int i = 0; i < NFOOTERS; i++)
        if (FOOTERS[i].len < 20000 && files++ < 24)
            flip_run(FOOTERS[i].file + FOOTERS[i].off, FOOTERS[i].len, 250, &ok, &bad, &a, 0);
    lks_pq_page_header h = {.type = LKS_PQ_DATA_PAGE_V2,
                            .uncompressed_size = 9,
                            .compressed_size = 9,
                            .num_values = 3,
                            .is_compressed = 1,
                            .has_stats = 1,
                            .has_crc = 1,
                            .crc = 5};
    fill_stats(&h.stats);
    lks_buf_reset(&b);
    CHECK_OK(lks_pq_encode_page_header(&b, &h), (lks_err *)NULL);
    flip_run(b.ptr, b.len, 2000, &ok, &bad, &a, 1);
    printf("  byte flips: %d still decoded, %d refused\n", ok, bad);
    lks_buf_free(&b);
    lks_arena_free(&a);
}

/* A valid minimal FileMetaData with an unknown field 100 holding `depth`
 * nested structs (or lists of lists) before the required fields. */
static void nested_bomb(lks_buf *b, int depth, int lists) {
    lks_buf_reset(b);
    lks_buf_append_byte(b, lists ? LKS_THR_LIST : LKS_THR_STRUCT); /* long-form header */
    lks_buf_append(b, "\xc8\x01", 2);                              /* id 100, zigzag */
    if (lists) {
        for (int i = 0; i < depth - 1; i++)
            lks_buf_append_byte(b, 0x19); /* 1 element, a list */
        lks_buf_append_byte(b, 0x05);     /* empty list of i32 */
    } else {
        for (int i = 0; i < depth - 1; i++)
            lks_buf_append_byte(b, 0x1c); /* field 1: struct */
        for (int i = 0; i < depth; i++)
            lks_buf_append_byte(b, 0x00);
    }
    /* the required fields, with long-form ids since the last id was 100 */
    lks_buf_append(b, "\x05\x02\x02", 3);                  /* 1: version 1 */
    lks_buf_append(b, "\x09\x04\x1c\x48\x04root\x00", 10); /* 2: schema [{4: "root"}] */
    lks_buf_append(b, "\x06\x06\x00", 3);                  /* 3: num_rows 0 */
    lks_buf_append(b, "\x09\x08\x0c", 3);                  /* 4: row_groups [] */
    lks_buf_append_byte(b, 0x00);
}

static void t_nesting_bomb(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_arena a;
    lks_arena_init(&a, 0);
    for (int lists = 0; lists <= 1; lists++) {
        lks_pq_file_meta m;
        lks_err err;
        lks_err_clear(&err);
        nested_bomb(&b, 40, lists); /* deep but under the cap: skipped */
        CHECK_OK(lks_pq_decode_file_meta(b.ptr, b.len, &a, &m, &err), &err);
        CHECK_EQ_INT(m.num_schema, 1);
        nested_bomb(&b, 100000, lists);
        CHECK_EQ_INT(lks_pq_decode_file_meta(b.ptr, b.len, &a, &m, &err), LKS_ECORRUPT);
        CHECK(strstr(err.msg, "nesting") != NULL);
    }
    lks_buf_free(&b);
    lks_arena_free(&a);
}

static void t_huge_list(void) {
    /* FileMetaData { 2: list<struct> of 2^31 - 1 elements, then a few bytes } */
    static const uint8_t l1[] = {0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00, 0x00};
    /* ... of 2^31 elements (out of i32 range) */
    static const uint8_t l2[] = {0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x00, 0x00};
    /* 14 schema elements in a short header but only 3 bytes follow */
    static const uint8_t l3[] = {0x15, 0x02, 0x19, 0xec, 0x00, 0x00, 0x00};
    /* an unknown field holding a list of 2^31 - 1 bools, and a map of 2^31 - 1 */
    static const uint8_t l4[] = {0x09, 0xc8, 0x01, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x01, 0x00};
    static const uint8_t l5[] = {0x0b, 0xc8, 0x01, 0xff, 0xff, 0xff, 0xff, 0x07, 0x55, 0x00, 0x00};
    const uint8_t *in[] = {l1, l2, l3, l4, l5};
    size_t lens[] = {sizeof l1, sizeof l2, sizeof l3, sizeof l4, sizeof l5};
    for (int i = 0; i < 5; i++) {
        lks_arena a;
        lks_arena_init(&a, 1 << 20);
        lks_pq_file_meta m;
        lks_err err;
        lks_err_clear(&err);
        CHECK_EQ_INT(lks_pq_decode_file_meta(in[i], lens[i], &a, &m, &err), LKS_ECORRUPT);
        CHECK_EQ_INT(a.used_total, 0); /* refused before allocating */
        CHECK(strstr(err.msg, "count") != NULL || strstr(err.msg, "range") != NULL);
        lks_arena_free(&a);
    }
}

int main(void) {
    RUN(t_thrift_primitives);
    RUN(t_file_meta_roundtrip);
    RUN(t_required_fields);
    RUN(t_page_header_roundtrip);
    RUN(t_bloom_header);
    RUN(t_corpus_footers);
    RUN(t_corpus_bad_data);
    RUN(t_truncation);
    RUN(t_byte_flips);
    RUN(t_nesting_bomb);
    RUN(t_huge_list);
    for (int i = 0; i < NFOOTERS; i++)
        free(FOOTERS[i].file);
    return lks_test_done();
}
