/*
 * meta_decode.c — Parquet FileMetaData, PageHeader and BloomFilterHeader from
 * Thrift compact bytes (field ids from parquet.thrift), for hostile input.
 *
 * Every struct reader opens its struct on the Thrift reader (nesting cap),
 * dispatches known field ids after checking their wire type, skips unknown
 * ones, and checks the fields parquet.thrift marks required once the struct
 * is closed.  Lists are sized from counts already checked against the bytes
 * left times the smallest encoding of one element.  The first error sticks;
 * the public functions turn it into an lks_err at the end.
 */
#include "parquet/meta.h"
#include "parquet/thrift.h"

#include <string.h>

typedef struct dec {
    lks_thr_rd r;
    lks_arena *a; /* NULL: binaries stay slices of the input */
} dec;

/* ---- typed field readers: check the wire type, then read ---------------- */

static int32_t get_i32(dec *d, int t) { return lks_thr_r_expect(&d->r, t, LKS_THR_I32) ? lks_thr_r_i32(&d->r) : 0; }

static int64_t get_i64(dec *d, int t) { return lks_thr_r_expect(&d->r, t, LKS_THR_I64) ? lks_thr_r_i64(&d->r) : 0; }

static uint8_t get_bool(dec *d, int t) {
    return lks_thr_r_expect(&d->r, t, LKS_THR_TRUE) ? (uint8_t)lks_thr_r_bool(&d->r, t) : 0;
}

static void *alloc_or_fail(dec *d, size_t n) {
    void *p = lks_arena_alloc(d->a, n ? n : 1);
    if (!p)
        lks_thr_r_fail(&d->r, LKS_ENOMEM, "arena allocation failed");
    return p;
}

/* A binary, copied into the arena when there is one. */
static lks_slice get_bin(dec *d, int t) {
    lks_slice s = {NULL, 0};
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_BINARY))
        return s;
    s = lks_thr_r_binary(&d->r);
    if (d->r.code || !d->a)
        return s;
    uint8_t *q = alloc_or_fail(d, s.len);
    if (q && s.len)
        memcpy(q, s.ptr, s.len);
    s.ptr = q;
    return s;
}

static const char *bin_to_str(dec *d, lks_slice s) {
    if (d->r.code)
        return NULL;
    char *q = alloc_or_fail(d, s.len + 1);
    if (!q)
        return NULL;
    if (s.len)
        memcpy(q, s.ptr, s.len);
    q[s.len] = 0;
    return q;
}

static const char *get_str(dec *d, int t) {
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_BINARY))
        return NULL;
    return bin_to_str(d, lks_thr_r_binary(&d->r));
}

/* A list field's header: its count (0 on error). */
static size_t get_list(dec *d, int t, int elem, size_t min_elem_bytes) {
    size_t n = 0;
    if (lks_thr_r_expect(&d->r, t, LKS_THR_LIST))
        lks_thr_r_list(&d->r, elem, min_elem_bytes, NULL, &n);
    return n;
}

/* Zeroed arena array of n elements (NULL for n == 0 or on error). */
static void *get_array(dec *d, size_t n, size_t size) {
    if (d->r.code || n == 0)
        return NULL;
    if (n > SIZE_MAX / size) {
        lks_thr_r_fail(&d->r, LKS_ECORRUPT, "list too large");
        return NULL;
    }
    void *p = alloc_or_fail(d, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void missing(dec *d, const char *what) { lks_thr_r_fail(&d->r, LKS_ECORRUPT, what); }

/* Skips a struct-typed field whose content is not needed (unions' empty
 * members, encryption metadata); 0 when the wire type is wrong. */
static int skip_struct(dec *d, int t) {
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT))
        return 0;
    return lks_thr_r_skip(&d->r, t) == LKS_OK;
}

/* ---- Statistics, KeyValue ------------------------------------------------- */

static void dec_stats(dec *d, int t, lks_pq_stats *st) {
    memset(st, 0, sizeof *st);
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, "Statistics"))
        return;
    int16_t id;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1: st->max = get_bin(d, t), st->has |= LKS_PQ_ST_MAX; break;
        case 2: st->min = get_bin(d, t), st->has |= LKS_PQ_ST_MIN; break;
        case 3: st->null_count = get_i64(d, t), st->has |= LKS_PQ_ST_NULL_COUNT; break;
        case 4: st->distinct_count = get_i64(d, t), st->has |= LKS_PQ_ST_DISTINCT; break;
        case 5: st->max_value = get_bin(d, t), st->has |= LKS_PQ_ST_MAX_VALUE; break;
        case 6: st->min_value = get_bin(d, t), st->has |= LKS_PQ_ST_MIN_VALUE; break;
        case 7: st->is_max_value_exact = get_bool(d, t), st->has |= LKS_PQ_ST_MAX_EXACT; break;
        case 8: st->is_min_value_exact = get_bool(d, t), st->has |= LKS_PQ_ST_MIN_EXACT; break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
}

static void dec_kv_list(dec *d, int t, lks_pq_kv **out, int *num) {
    size_t n = get_list(d, t, LKS_THR_STRUCT, 3);
    lks_pq_kv *kv = get_array(d, n, sizeof *kv);
    *out = kv;
    *num = kv ? (int)n : 0;
    for (size_t i = 0; i < n && !d->r.code; i++) {
        if (lks_thr_r_struct_begin(&d->r, "KeyValue"))
            return;
        int16_t id;
        while (lks_thr_r_field(&d->r, &id, &t)) {
            if (id == 1)
                kv[i].key = get_str(d, t);
            else if (id == 2)
                kv[i].value = get_str(d, t);
            else
                lks_thr_r_skip(&d->r, t);
        }
        lks_thr_r_struct_end(&d->r);
        if (!d->r.code && !kv[i].key)
            missing(d, "missing required field KeyValue.key");
    }
}

/* ---- SchemaElement and LogicalType -------------------------------------- */

/* TimeUnit union inside TimeType / TimestampType. */
static void dec_time_unit(dec *d, int t, uint8_t *unit) {
    *unit = 0;
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, "TimeUnit"))
        return;
    int16_t id;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (id >= LKS_PQ_UNIT_MILLIS && id <= LKS_PQ_UNIT_NANOS) {
            if (skip_struct(d, t))
                *unit = (uint8_t)id;
        } else {
            lks_thr_r_skip(&d->r, t); /* a unit we do not know: left 0 */
        }
    }
    lks_thr_r_struct_end(&d->r);
}

/* The member struct of a LogicalType of kind `kind` (DECIMAL, TIME,
 * TIMESTAMP or INTEGER). */
static void dec_logical_member(dec *d, int kind, lks_pq_logical *lt) {
    static const char *const names[] = {[LKS_PQ_LT_DECIMAL] = "DecimalType",
                                        [LKS_PQ_LT_TIME] = "TimeType",
                                        [LKS_PQ_LT_TIMESTAMP] = "TimestampType",
                                        [LKS_PQ_LT_INTEGER] = "IntType"};
    if (lks_thr_r_struct_begin(&d->r, names[kind]))
        return;
    unsigned seen = 0;
    int16_t id;
    int t;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (kind == LKS_PQ_LT_DECIMAL && id == 1)
            lt->scale = get_i32(d, t), seen |= 1;
        else if (kind == LKS_PQ_LT_DECIMAL && id == 2)
            lt->precision = get_i32(d, t), seen |= 2;
        else if ((kind == LKS_PQ_LT_TIME || kind == LKS_PQ_LT_TIMESTAMP) && id == 1)
            lt->utc = get_bool(d, t), seen |= 1;
        else if ((kind == LKS_PQ_LT_TIME || kind == LKS_PQ_LT_TIMESTAMP) && id == 2)
            dec_time_unit(d, t, &lt->unit), seen |= 2;
        else if (kind == LKS_PQ_LT_INTEGER && id == 1)
            lt->bit_width = lks_thr_r_expect(&d->r, t, LKS_THR_I8) ? (uint8_t)lks_thr_r_i8(&d->r) : 0, seen |= 1;
        else if (kind == LKS_PQ_LT_INTEGER && id == 2)
            lt->is_signed = get_bool(d, t), seen |= 2;
        else
            lks_thr_r_skip(&d->r, t);
    }
    lks_thr_r_struct_end(&d->r);
    if (d->r.code || seen == 3)
        return;
    switch (kind) {
    case LKS_PQ_LT_DECIMAL: missing(d, "missing required field DecimalType.scale/precision"); break;
    case LKS_PQ_LT_TIME: missing(d, "missing required field TimeType.isAdjustedToUTC/unit"); break;
    case LKS_PQ_LT_TIMESTAMP: missing(d, "missing required field TimestampType.isAdjustedToUTC/unit"); break;
    default: missing(d, "missing required field IntType.bitWidth/isSigned"); break;
    }
}

static void dec_logical(dec *d, int t, lks_pq_logical *lt) {
    memset(lt, 0, sizeof *lt);
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, "LogicalType"))
        return;
    int16_t id;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (id <= 0 || (t != LKS_THR_STRUCT && id > LKS_PQ_LT_GEOGRAPHY)) {
            lks_thr_r_skip(&d->r, t); /* not a member we could name */
            continue;
        }
        if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT))
            break;
        memset(lt, 0, sizeof *lt);
        lt->kind = id;
        switch (id) {
        case LKS_PQ_LT_DECIMAL:
        case LKS_PQ_LT_TIME:
        case LKS_PQ_LT_TIMESTAMP:
        case LKS_PQ_LT_INTEGER: dec_logical_member(d, id, lt); break;
        default: lks_thr_r_skip(&d->r, t); break; /* empty or unknown member */
        }
    }
    lks_thr_r_struct_end(&d->r);
}

static void dec_schema_elem(dec *d, lks_pq_schema_elem *se) {
    memset(se, 0, sizeof *se);
    se->type = -1;
    se->repetition = -1;
    se->converted_type = -1;
    if (lks_thr_r_struct_begin(&d->r, "SchemaElement"))
        return;
    int16_t id;
    int t;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1:
            se->type = get_i32(d, t);
            if (se->type < LKS_PQ_BOOLEAN || se->type > LKS_PQ_FIXED_LEN_BYTE_ARRAY)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "bad physical type");
            break;
        case 2: se->type_length = get_i32(d, t); break;
        case 3:
            se->repetition = get_i32(d, t);
            if (se->repetition < LKS_PQ_REQUIRED || se->repetition > LKS_PQ_REPEATED)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "bad repetition type");
            break;
        case 4: se->name = get_str(d, t); break;
        case 5:
            se->num_children = get_i32(d, t);
            if (se->num_children < 0)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "negative num_children");
            break;
        case 6: se->converted_type = get_i32(d, t); break;
        case 7: se->scale = get_i32(d, t); break;
        case 8: se->precision = get_i32(d, t); break;
        case 9: se->field_id = get_i32(d, t), se->has_field_id = 1; break;
        case 10: dec_logical(d, t, &se->logical); break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (!d->r.code && !se->name)
        missing(d, "missing required field SchemaElement.name");
}

/* ---- ColumnChunk, ColumnMetaData, RowGroup ------------------------------- */

static void dec_column_meta(dec *d, int t, lks_pq_column_meta *cm) {
    memset(cm, 0, sizeof *cm);
    cm->index_page_offset = cm->dictionary_page_offset = cm->bloom_filter_offset = -1;
    cm->bloom_filter_length = -1;
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, "ColumnMetaData"))
        return;
    unsigned seen = 0;
    int16_t id;
    size_t n;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (id >= 1 && id <= 9)
            seen |= 1u << id;
        switch (id) {
        case 1:
            cm->type = get_i32(d, t);
            if (cm->type < LKS_PQ_BOOLEAN || cm->type > LKS_PQ_FIXED_LEN_BYTE_ARRAY)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "bad physical type");
            break;
        case 2:
            n = get_list(d, t, LKS_THR_I32, 1);
            cm->encodings = get_array(d, n, sizeof *cm->encodings);
            cm->num_encodings = cm->encodings ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++)
                cm->encodings[i] = lks_thr_r_i32(&d->r);
            break;
        case 3:
            n = get_list(d, t, LKS_THR_BINARY, 1);
            cm->path = get_array(d, n, sizeof *cm->path);
            cm->path_len = cm->path ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++)
                cm->path[i] = bin_to_str(d, lks_thr_r_binary(&d->r));
            break;
        case 4: cm->codec = get_i32(d, t); break;
        case 5: cm->num_values = get_i64(d, t); break;
        case 6: cm->total_uncompressed_size = get_i64(d, t); break;
        case 7: cm->total_compressed_size = get_i64(d, t); break;
        case 8: dec_kv_list(d, t, &cm->kv, &cm->num_kv); break;
        case 9: cm->data_page_offset = get_i64(d, t); break;
        case 10: cm->index_page_offset = get_i64(d, t); break;
        case 11: cm->dictionary_page_offset = get_i64(d, t); break;
        case 12: dec_stats(d, t, &cm->stats), cm->has_stats = 1; break;
        case 13:
            n = get_list(d, t, LKS_THR_STRUCT, 7);
            cm->enc_stats = get_array(d, n, sizeof *cm->enc_stats);
            cm->num_enc_stats = cm->enc_stats ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++) {
                lks_pq_page_enc_stats *es = &cm->enc_stats[i];
                if (lks_thr_r_struct_begin(&d->r, "PageEncodingStats"))
                    break;
                unsigned got = 0;
                int16_t eid;
                int et;
                while (lks_thr_r_field(&d->r, &eid, &et)) {
                    if (eid == 1)
                        es->page_type = get_i32(d, et), got |= 1;
                    else if (eid == 2)
                        es->encoding = get_i32(d, et), got |= 2;
                    else if (eid == 3)
                        es->count = get_i32(d, et), got |= 4;
                    else
                        lks_thr_r_skip(&d->r, et);
                }
                lks_thr_r_struct_end(&d->r);
                if (!d->r.code && got != 7)
                    missing(d, "missing required field PageEncodingStats.page_type/encoding/count");
            }
            break;
        case 14: cm->bloom_filter_offset = get_i64(d, t); break;
        case 15: cm->bloom_filter_length = get_i32(d, t); break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (d->r.code)
        return;
    static const struct {
        int id;
        const char *what;
    } req[] = {{1, "missing required field ColumnMetaData.type"},
               {2, "missing required field ColumnMetaData.encodings"},
               {3, "missing required field ColumnMetaData.path_in_schema"},
               {4, "missing required field ColumnMetaData.codec"},
               {5, "missing required field ColumnMetaData.num_values"},
               {6, "missing required field ColumnMetaData.total_uncompressed_size"},
               {7, "missing required field ColumnMetaData.total_compressed_size"},
               {9, "missing required field ColumnMetaData.data_page_offset"}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!(seen & 1u << req[i].id)) {
            missing(d, req[i].what);
            return;
        }
}

static void dec_column_chunk(dec *d, lks_pq_column_chunk *cc) {
    memset(cc, 0, sizeof *cc);
    cc->offset_index_offset = cc->column_index_offset = -1;
    cc->offset_index_length = cc->column_index_length = -1;
    if (lks_thr_r_struct_begin(&d->r, "ColumnChunk"))
        return;
    int has_offset = 0;
    int16_t id;
    int t;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1: cc->file_path = get_str(d, t); break;
        case 2: cc->file_offset = get_i64(d, t), has_offset = 1; break;
        case 3: dec_column_meta(d, t, &cc->meta), cc->has_meta = 1; break;
        case 4: cc->offset_index_offset = get_i64(d, t); break;
        case 5: cc->offset_index_length = get_i32(d, t); break;
        case 6: cc->column_index_offset = get_i64(d, t); break;
        case 7: cc->column_index_length = get_i32(d, t); break;
        case 8: /* crypto_metadata */
        case 9: /* encrypted_column_metadata */
            lks_thr_r_skip(&d->r, t);
            cc->encrypted = 1;
            break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (!d->r.code && !has_offset)
        missing(d, "missing required field ColumnChunk.file_offset");
}

static void dec_row_group(dec *d, lks_pq_row_group *rg) {
    memset(rg, 0, sizeof *rg);
    rg->file_offset = rg->total_compressed_size = -1;
    rg->ordinal = -1;
    if (lks_thr_r_struct_begin(&d->r, "RowGroup"))
        return;
    unsigned seen = 0;
    int16_t id;
    int t;
    size_t n;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1:
            seen |= 1;
            n = get_list(d, t, LKS_THR_STRUCT, 3);
            rg->columns = get_array(d, n, sizeof *rg->columns);
            rg->num_columns = rg->columns ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++)
                dec_column_chunk(d, &rg->columns[i]);
            break;
        case 2: rg->total_byte_size = get_i64(d, t), seen |= 2; break;
        case 3:
            rg->num_rows = get_i64(d, t), seen |= 4;
            if (rg->num_rows < 0)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "negative num_rows");
            break;
        case 4:
            n = get_list(d, t, LKS_THR_STRUCT, 5);
            rg->sorting = get_array(d, n, sizeof *rg->sorting);
            rg->num_sorting = rg->sorting ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++) {
                lks_pq_sorting_column *sc = &rg->sorting[i];
                if (lks_thr_r_struct_begin(&d->r, "SortingColumn"))
                    break;
                unsigned got = 0;
                int16_t sid;
                int st;
                while (lks_thr_r_field(&d->r, &sid, &st)) {
                    if (sid == 1)
                        sc->column_idx = get_i32(d, st), got |= 1;
                    else if (sid == 2)
                        sc->descending = get_bool(d, st), got |= 2;
                    else if (sid == 3)
                        sc->nulls_first = get_bool(d, st), got |= 4;
                    else
                        lks_thr_r_skip(&d->r, st);
                }
                lks_thr_r_struct_end(&d->r);
                if (!d->r.code && got != 7)
                    missing(d, "missing required field SortingColumn.column_idx/descending/nulls_first");
            }
            break;
        case 5: rg->file_offset = get_i64(d, t); break;
        case 6: rg->total_compressed_size = get_i64(d, t); break;
        case 7: rg->ordinal = lks_thr_r_expect(&d->r, t, LKS_THR_I16) ? lks_thr_r_i16(&d->r) : 0; break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (d->r.code)
        return;
    if (!(seen & 1))
        missing(d, "missing required field RowGroup.columns");
    else if (!(seen & 2))
        missing(d, "missing required field RowGroup.total_byte_size");
    else if (!(seen & 4))
        missing(d, "missing required field RowGroup.num_rows");
}

/* ---- FileMetaData ------------------------------------------------------------ */

int lks_pq_decode_file_meta(const uint8_t *p, size_t len, lks_arena *a, lks_pq_file_meta *out, lks_err *err) {
    dec dd, *d = &dd;
    lks_thr_rd_init(&d->r, p, len, 0);
    d->a = a;
    memset(out, 0, sizeof *out);
    if (lks_thr_r_struct_begin(&d->r, "FileMetaData"))
        return lks_thr_r_status(&d->r, "parquet footer", err);
    unsigned seen = 0;
    int16_t id;
    int t;
    size_t n;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1: out->version = get_i32(d, t), seen |= 1; break;
        case 2:
            seen |= 2;
            n = get_list(d, t, LKS_THR_STRUCT, 3);
            out->schema = get_array(d, n, sizeof *out->schema);
            out->num_schema = out->schema ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++)
                dec_schema_elem(d, &out->schema[i]);
            break;
        case 3:
            out->num_rows = get_i64(d, t), seen |= 4;
            if (out->num_rows < 0)
                lks_thr_r_fail(&d->r, LKS_ECORRUPT, "negative num_rows");
            break;
        case 4:
            seen |= 8;
            n = get_list(d, t, LKS_THR_STRUCT, 7);
            out->row_groups = get_array(d, n, sizeof *out->row_groups);
            out->num_row_groups = out->row_groups ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++)
                dec_row_group(d, &out->row_groups[i]);
            break;
        case 5: dec_kv_list(d, t, &out->kv, &out->num_kv); break;
        case 6: out->created_by = get_str(d, t); break;
        case 7:
            /* list<ColumnOrder>; the union's member 1 is TYPE_ORDER */
            n = get_list(d, t, LKS_THR_STRUCT, 1);
            out->column_orders = get_array(d, n, 1);
            out->num_column_orders = out->column_orders ? (int)n : 0;
            for (size_t i = 0; i < n && !d->r.code; i++) {
                if (lks_thr_r_struct_begin(&d->r, "ColumnOrder"))
                    break;
                int16_t oid;
                int ot;
                while (lks_thr_r_field(&d->r, &oid, &ot)) {
                    if (oid == 1) {
                        if (skip_struct(d, ot))
                            out->column_orders[i] = 1;
                    } else {
                        lks_thr_r_skip(&d->r, ot);
                    }
                }
                lks_thr_r_struct_end(&d->r);
            }
            break;
        case 8: /* encryption_algorithm: plaintext footer of an encrypted file */
            lks_thr_r_skip(&d->r, t);
            out->encrypted = 1;
            break;
        default: lks_thr_r_skip(&d->r, t); break; /* 9: footer_signing_key_metadata, ... */
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (!d->r.code) {
        if (!(seen & 1))
            missing(d, "missing required field FileMetaData.version");
        else if (!(seen & 2))
            missing(d, "missing required field FileMetaData.schema");
        else if (!(seen & 4))
            missing(d, "missing required field FileMetaData.num_rows");
        else if (!(seen & 8))
            missing(d, "missing required field FileMetaData.row_groups");
    }
    return lks_thr_r_status(&d->r, "parquet footer", err);
}

/* ---- PageHeader ------------------------------------------------------------- */

static void nonneg(dec *d, int32_t v, const char *what) {
    if (v < 0)
        lks_thr_r_fail(&d->r, LKS_ECORRUPT, what);
}

/* DataPageHeader (5), DictionaryPageHeader (7) or DataPageHeaderV2 (8)
 * into the matching fields of *h. */
static void dec_page_sub(dec *d, int t, int16_t which, lks_pq_page_header *h) {
    static const char *const names[] = {[5] = "DataPageHeader", [7] = "DictionaryPageHeader", [8] = "DataPageHeaderV2"};
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, names[which]))
        return;
    unsigned seen = 0;
    int16_t id;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (which == 5) {
            switch (id) {
            case 1: h->num_values = get_i32(d, t), seen |= 1; break;
            case 2: h->encoding = get_i32(d, t), seen |= 2; break;
            case 3: h->def_encoding = get_i32(d, t), seen |= 4; break;
            case 4: h->rep_encoding = get_i32(d, t), seen |= 8; break;
            case 5: dec_stats(d, t, &h->stats), h->has_stats = 1; break;
            default: lks_thr_r_skip(&d->r, t); break;
            }
        } else if (which == 7) {
            switch (id) {
            case 1: h->num_values = get_i32(d, t), seen |= 1; break;
            case 2: h->encoding = get_i32(d, t), seen |= 2; break;
            case 3: h->is_sorted = get_bool(d, t); break;
            default: lks_thr_r_skip(&d->r, t); break;
            }
        } else {
            switch (id) {
            case 1: h->num_values = get_i32(d, t), seen |= 1; break;
            case 2: h->num_nulls = get_i32(d, t), seen |= 2; break;
            case 3: h->num_rows = get_i32(d, t), seen |= 4; break;
            case 4: h->encoding = get_i32(d, t), seen |= 8; break;
            case 5: h->def_levels_len = get_i32(d, t), seen |= 16; break;
            case 6: h->rep_levels_len = get_i32(d, t), seen |= 32; break;
            case 7: h->is_compressed = get_bool(d, t); break;
            case 8: dec_stats(d, t, &h->stats), h->has_stats = 1; break;
            default: lks_thr_r_skip(&d->r, t); break;
            }
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (d->r.code)
        return;
    if (which == 5 && seen != 15)
        missing(d, "missing required field DataPageHeader.num_values/encoding/"
                   "definition_level_encoding/repetition_level_encoding");
    else if (which == 7 && seen != 3)
        missing(d, "missing required field DictionaryPageHeader.num_values/encoding");
    else if (which == 8 && seen != 63)
        missing(d, "missing required field DataPageHeaderV2.num_values/num_nulls/num_rows/encoding/"
                   "definition_levels_byte_length/repetition_levels_byte_length");
    nonneg(d, h->num_values, "negative num_values");
    nonneg(d, h->num_nulls, "negative num_nulls");
    nonneg(d, h->num_rows, "negative num_rows");
    nonneg(d, h->def_levels_len, "negative definition_levels_byte_length");
    nonneg(d, h->rep_levels_len, "negative repetition_levels_byte_length");
}

int lks_pq_decode_page_header(const uint8_t *p, size_t len, uint64_t base, lks_pq_page_header *out, size_t *used,
                              lks_err *err) {
    dec dd, *d = &dd;
    lks_thr_rd_init(&d->r, p, len, base);
    d->a = NULL; /* statistics stay slices of p */
    memset(out, 0, sizeof *out);
    if (used)
        *used = 0;
    /* each sub-header is decoded on its own; the one matching `type` wins */
    lks_pq_page_header sub[3];
    uint8_t have[3] = {0, 0, 0};
    memset(sub, 0, sizeof sub);
    for (int i = 0; i < 3; i++)
        sub[i].is_compressed = 1;
    if (lks_thr_r_struct_begin(&d->r, "PageHeader"))
        return lks_thr_r_status(&d->r, "page header", err);
    unsigned seen = 0;
    int16_t id;
    int t;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1: out->type = get_i32(d, t), seen |= 1; break;
        case 2: out->uncompressed_size = get_i32(d, t), seen |= 2; break;
        case 3: out->compressed_size = get_i32(d, t), seen |= 4; break;
        case 4: out->crc = get_i32(d, t), out->has_crc = 1; break;
        case 5: dec_page_sub(d, t, 5, &sub[0]), have[0] = 1; break;
        case 7: dec_page_sub(d, t, 7, &sub[1]), have[1] = 1; break;
        case 8: dec_page_sub(d, t, 8, &sub[2]), have[2] = 1; break;
        default: lks_thr_r_skip(&d->r, t); break; /* 6: IndexPageHeader (empty), ... */
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (!d->r.code) {
        if (!(seen & 1))
            missing(d, "missing required field PageHeader.type");
        else if (!(seen & 2))
            missing(d, "missing required field PageHeader.uncompressed_page_size");
        else if (!(seen & 4))
            missing(d, "missing required field PageHeader.compressed_page_size");
        else if (out->uncompressed_size < 0 || out->compressed_size < 0)
            lks_thr_r_fail(&d->r, LKS_ECORRUPT, "negative page size");
    }
    if (!d->r.code) {
        int k = out->type == LKS_PQ_DATA_PAGE         ? 0
                : out->type == LKS_PQ_DICTIONARY_PAGE ? 1
                : out->type == LKS_PQ_DATA_PAGE_V2    ? 2
                                                      : -1;
        if (k >= 0 && !have[k]) {
            static const char *const what[] = {"DATA_PAGE without data_page_header",
                                               "DICTIONARY_PAGE without dictionary_page_header",
                                               "DATA_PAGE_V2 without data_page_header_v2"};
            lks_thr_r_fail(&d->r, LKS_ECORRUPT, what[k]);
        } else if (k >= 0) {
            const lks_pq_page_header *s = &sub[k];
            out->num_values = s->num_values;
            out->encoding = s->encoding;
            out->def_encoding = s->def_encoding;
            out->rep_encoding = s->rep_encoding;
            out->num_nulls = s->num_nulls;
            out->num_rows = s->num_rows;
            out->def_levels_len = s->def_levels_len;
            out->rep_levels_len = s->rep_levels_len;
            out->is_sorted = s->is_sorted;
            out->stats = s->stats;
            out->has_stats = s->has_stats;
        }
        out->is_compressed = k == 2 ? sub[2].is_compressed : 1;
    }
    if (!d->r.code && used)
        *used = (size_t)(d->r.cur.p - d->r.cur.start);
    return lks_thr_r_status(&d->r, "page header", err);
}

/* ---- BloomFilterHeader -------------------------------------------------------- */

/* One of the header's unions (algorithm / hash / compression) whose only
 * defined member is 1, an empty struct. */
static void dec_bloom_union(dec *d, int t, const char *name, const char *unsupported) {
    if (!lks_thr_r_expect(&d->r, t, LKS_THR_STRUCT) || lks_thr_r_struct_begin(&d->r, name))
        return;
    int ok = 0, other = 0;
    int16_t id;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        if (id == 1 && t == LKS_THR_STRUCT)
            ok = lks_thr_r_skip(&d->r, t) == LKS_OK;
        else
            other = 1, lks_thr_r_skip(&d->r, t);
    }
    if (!d->r.code && other)
        lks_thr_r_fail(&d->r, LKS_EUNSUPPORTED, unsupported);
    else if (!d->r.code && !ok)
        lks_thr_r_fail(&d->r, LKS_ECORRUPT, "union with no member");
    lks_thr_r_struct_end(&d->r);
}

int lks_pq_decode_bloom_header(const uint8_t *p, size_t len, uint64_t base, lks_pq_bloom_header *out, size_t *used,
                               lks_err *err) {
    dec dd, *d = &dd;
    lks_thr_rd_init(&d->r, p, len, base);
    d->a = NULL;
    memset(out, 0, sizeof *out);
    if (used)
        *used = 0;
    if (lks_thr_r_struct_begin(&d->r, "BloomFilterHeader"))
        return lks_thr_r_status(&d->r, "bloom filter header", err);
    unsigned seen = 0;
    int16_t id;
    int t;
    while (lks_thr_r_field(&d->r, &id, &t)) {
        switch (id) {
        case 1: out->num_bytes = get_i32(d, t), seen |= 1; break;
        case 2:
            dec_bloom_union(d, t, "BloomFilterAlgorithm", "bloom filter algorithm other than BLOCK");
            seen |= 2;
            break;
        case 3:
            dec_bloom_union(d, t, "BloomFilterHash", "bloom filter hash other than XXHASH");
            seen |= 4;
            break;
        case 4:
            dec_bloom_union(d, t, "BloomFilterCompression", "bloom filter compression other than UNCOMPRESSED");
            seen |= 8;
            break;
        default: lks_thr_r_skip(&d->r, t); break;
        }
    }
    lks_thr_r_struct_end(&d->r);
    if (!d->r.code) {
        if (!(seen & 1))
            missing(d, "missing required field BloomFilterHeader.numBytes");
        else if (!(seen & 2))
            missing(d, "missing required field BloomFilterHeader.algorithm");
        else if (!(seen & 4))
            missing(d, "missing required field BloomFilterHeader.hash");
        else if (!(seen & 8))
            missing(d, "missing required field BloomFilterHeader.compression");
        else if (out->num_bytes < 0)
            lks_thr_r_fail(&d->r, LKS_ECORRUPT, "negative numBytes");
    }
    if (!d->r.code && used)
        *used = (size_t)(d->r.cur.p - d->r.cur.start);
    return lks_thr_r_status(&d->r, "bloom filter header", err);
}
