/*
 * meta_encode.c — Parquet FileMetaData, PageHeader and BloomFilterHeader to
 * Thrift compact bytes (field ids from parquet.thrift).
 *
 * Absent-field conventions are those of meta.h: -1 / NULL / has-bits / zero
 * counts mean "do not write".  The encrypted flags are not encoded (writing
 * encrypted files is not supported).
 */
#include "parquet/meta.h"
#include "parquet/thrift.h"

#include <string.h>

/* On failure, drops whatever this call appended (a failed allocation has
 * already emptied the buffer). */
static int finish(lks_thr_wr *w, size_t start) {
    if (w->rc && w->b->len > start)
        w->b->len = start;
    return w->rc;
}

static void enc_empty_struct(lks_thr_wr *w, int16_t id) {
    lks_thr_w_field_struct(w, id);
    lks_thr_w_struct_end(w);
}

static void enc_kv_list(lks_thr_wr *w, int16_t id, const lks_pq_kv *kv, int n) {
    lks_thr_w_field_list(w, id, LKS_THR_STRUCT, (size_t)n);
    for (int i = 0; i < n; i++) {
        lks_thr_w_struct_begin(w);
        lks_thr_w_field_string(w, 1, kv[i].key ? kv[i].key : "");
        if (kv[i].value)
            lks_thr_w_field_string(w, 2, kv[i].value);
        lks_thr_w_struct_end(w);
    }
}

/* Statistics (fields 1..8). */
static void enc_stats(lks_thr_wr *w, const lks_pq_stats *st) {
    if (st->has & LKS_PQ_ST_MAX)
        lks_thr_w_field_binary(w, 1, st->max.ptr, st->max.len);
    if (st->has & LKS_PQ_ST_MIN)
        lks_thr_w_field_binary(w, 2, st->min.ptr, st->min.len);
    if (st->has & LKS_PQ_ST_NULL_COUNT)
        lks_thr_w_field_i64(w, 3, st->null_count);
    if (st->has & LKS_PQ_ST_DISTINCT)
        lks_thr_w_field_i64(w, 4, st->distinct_count);
    if (st->has & LKS_PQ_ST_MAX_VALUE)
        lks_thr_w_field_binary(w, 5, st->max_value.ptr, st->max_value.len);
    if (st->has & LKS_PQ_ST_MIN_VALUE)
        lks_thr_w_field_binary(w, 6, st->min_value.ptr, st->min_value.len);
    if (st->has & LKS_PQ_ST_MAX_EXACT)
        lks_thr_w_field_bool(w, 7, st->is_max_value_exact);
    if (st->has & LKS_PQ_ST_MIN_EXACT)
        lks_thr_w_field_bool(w, 8, st->is_min_value_exact);
}

/* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS, each an empty struct. */
static void enc_time_like(lks_thr_wr *w, const lks_pq_logical *lt) {
    lks_thr_w_field_bool(w, 1, lt->utc);
    lks_thr_w_field_struct(w, 2);
    if (lt->unit >= LKS_PQ_UNIT_MILLIS && lt->unit <= LKS_PQ_UNIT_NANOS)
        enc_empty_struct(w, (int16_t)lt->unit);
    else if (!w->rc)
        w->rc = LKS_EINVAL;
    lks_thr_w_struct_end(w);
}

/* LogicalType union: the member's field id is the kind. */
static void enc_logical(lks_thr_wr *w, const lks_pq_logical *lt) {
    lks_thr_w_field_struct(w, 10);
    lks_thr_w_field_struct(w, lt->kind);
    switch (lt->kind) {
    case LKS_PQ_LT_DECIMAL:
        lks_thr_w_field_i32(w, 1, lt->scale);
        lks_thr_w_field_i32(w, 2, lt->precision);
        break;
    case LKS_PQ_LT_TIME:
    case LKS_PQ_LT_TIMESTAMP: enc_time_like(w, lt); break;
    case LKS_PQ_LT_INTEGER:
        lks_thr_w_field_i8(w, 1, (int8_t)lt->bit_width);
        lks_thr_w_field_bool(w, 2, lt->is_signed);
        break;
    default: break; /* an empty struct (STRING, DATE, UUID, ...) */
    }
    lks_thr_w_struct_end(w);
    lks_thr_w_struct_end(w);
}

static void enc_schema_elem(lks_thr_wr *w, const lks_pq_schema_elem *se) {
    lks_thr_w_struct_begin(w);
    if (se->type >= 0)
        lks_thr_w_field_i32(w, 1, se->type);
    if (se->type_length != 0 || se->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
        lks_thr_w_field_i32(w, 2, se->type_length);
    if (se->repetition >= 0)
        lks_thr_w_field_i32(w, 3, se->repetition);
    lks_thr_w_field_string(w, 4, se->name ? se->name : "");
    if (se->type < 0 || se->num_children > 0)
        lks_thr_w_field_i32(w, 5, se->num_children);
    if (se->converted_type >= 0)
        lks_thr_w_field_i32(w, 6, se->converted_type);
    if (se->converted_type == LKS_PQ_CT_DECIMAL || se->scale || se->precision) {
        lks_thr_w_field_i32(w, 7, se->scale);
        lks_thr_w_field_i32(w, 8, se->precision);
    }
    if (se->has_field_id)
        lks_thr_w_field_i32(w, 9, se->field_id);
    if (se->logical.kind > 0)
        enc_logical(w, &se->logical);
    lks_thr_w_struct_end(w);
}

static void enc_column_meta(lks_thr_wr *w, const lks_pq_column_meta *cm) {
    lks_thr_w_field_struct(w, 3);
    lks_thr_w_field_i32(w, 1, cm->type);
    lks_thr_w_field_list(w, 2, LKS_THR_I32, (size_t)(cm->num_encodings > 0 ? cm->num_encodings : 0));
    for (int i = 0; i < cm->num_encodings; i++)
        lks_thr_w_i32(w, cm->encodings[i]);
    lks_thr_w_field_list(w, 3, LKS_THR_BINARY, (size_t)(cm->path_len > 0 ? cm->path_len : 0));
    for (int i = 0; i < cm->path_len; i++) {
        const char *s = cm->path[i] ? cm->path[i] : "";
        lks_thr_w_binary(w, s, strlen(s));
    }
    lks_thr_w_field_i32(w, 4, cm->codec);
    lks_thr_w_field_i64(w, 5, cm->num_values);
    lks_thr_w_field_i64(w, 6, cm->total_uncompressed_size);
    lks_thr_w_field_i64(w, 7, cm->total_compressed_size);
    if (cm->num_kv > 0)
        enc_kv_list(w, 8, cm->kv, cm->num_kv);
    lks_thr_w_field_i64(w, 9, cm->data_page_offset);
    if (cm->index_page_offset >= 0)
        lks_thr_w_field_i64(w, 10, cm->index_page_offset);
    if (cm->dictionary_page_offset >= 0)
        lks_thr_w_field_i64(w, 11, cm->dictionary_page_offset);
    if (cm->has_stats) {
        lks_thr_w_field_struct(w, 12);
        enc_stats(w, &cm->stats);
        lks_thr_w_struct_end(w);
    }
    if (cm->num_enc_stats > 0) {
        lks_thr_w_field_list(w, 13, LKS_THR_STRUCT, (size_t)cm->num_enc_stats);
        for (int i = 0; i < cm->num_enc_stats; i++) {
            lks_thr_w_struct_begin(w);
            lks_thr_w_field_i32(w, 1, cm->enc_stats[i].page_type);
            lks_thr_w_field_i32(w, 2, cm->enc_stats[i].encoding);
            lks_thr_w_field_i32(w, 3, cm->enc_stats[i].count);
            lks_thr_w_struct_end(w);
        }
    }
    if (cm->bloom_filter_offset >= 0)
        lks_thr_w_field_i64(w, 14, cm->bloom_filter_offset);
    if (cm->bloom_filter_length >= 0)
        lks_thr_w_field_i32(w, 15, cm->bloom_filter_length);
    lks_thr_w_struct_end(w);
}

static void enc_column_chunk(lks_thr_wr *w, const lks_pq_column_chunk *cc) {
    lks_thr_w_struct_begin(w);
    if (cc->file_path)
        lks_thr_w_field_string(w, 1, cc->file_path);
    lks_thr_w_field_i64(w, 2, cc->file_offset);
    if (cc->has_meta)
        enc_column_meta(w, &cc->meta);
    if (cc->offset_index_offset >= 0)
        lks_thr_w_field_i64(w, 4, cc->offset_index_offset);
    if (cc->offset_index_length >= 0)
        lks_thr_w_field_i32(w, 5, cc->offset_index_length);
    if (cc->column_index_offset >= 0)
        lks_thr_w_field_i64(w, 6, cc->column_index_offset);
    if (cc->column_index_length >= 0)
        lks_thr_w_field_i32(w, 7, cc->column_index_length);
    lks_thr_w_struct_end(w);
}

static void enc_row_group(lks_thr_wr *w, const lks_pq_row_group *rg) {
    lks_thr_w_struct_begin(w);
    int nc = rg->num_columns > 0 ? rg->num_columns : 0;
    lks_thr_w_field_list(w, 1, LKS_THR_STRUCT, (size_t)nc);
    for (int i = 0; i < nc; i++)
        enc_column_chunk(w, &rg->columns[i]);
    lks_thr_w_field_i64(w, 2, rg->total_byte_size);
    lks_thr_w_field_i64(w, 3, rg->num_rows);
    if (rg->num_sorting > 0) {
        lks_thr_w_field_list(w, 4, LKS_THR_STRUCT, (size_t)rg->num_sorting);
        for (int i = 0; i < rg->num_sorting; i++) {
            lks_thr_w_struct_begin(w);
            lks_thr_w_field_i32(w, 1, rg->sorting[i].column_idx);
            lks_thr_w_field_bool(w, 2, rg->sorting[i].descending);
            lks_thr_w_field_bool(w, 3, rg->sorting[i].nulls_first);
            lks_thr_w_struct_end(w);
        }
    }
    if (rg->file_offset >= 0)
        lks_thr_w_field_i64(w, 5, rg->file_offset);
    if (rg->total_compressed_size >= 0)
        lks_thr_w_field_i64(w, 6, rg->total_compressed_size);
    if (rg->ordinal >= 0 && rg->ordinal <= INT16_MAX)
        lks_thr_w_field_i16(w, 7, (int16_t)rg->ordinal);
    lks_thr_w_struct_end(w);
}

int lks_pq_encode_file_meta(lks_buf *b, const lks_pq_file_meta *m) {
    size_t start = b->len;
    lks_thr_wr w;
    lks_thr_wr_init(&w, b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, m->version);
    int ns = m->num_schema > 0 ? m->num_schema : 0;
    lks_thr_w_field_list(&w, 2, LKS_THR_STRUCT, (size_t)ns);
    for (int i = 0; i < ns; i++)
        enc_schema_elem(&w, &m->schema[i]);
    lks_thr_w_field_i64(&w, 3, m->num_rows);
    int nr = m->num_row_groups > 0 ? m->num_row_groups : 0;
    lks_thr_w_field_list(&w, 4, LKS_THR_STRUCT, (size_t)nr);
    for (int i = 0; i < nr; i++)
        enc_row_group(&w, &m->row_groups[i]);
    if (m->num_kv > 0)
        enc_kv_list(&w, 5, m->kv, m->num_kv);
    if (m->created_by)
        lks_thr_w_field_string(&w, 6, m->created_by);
    if (m->num_column_orders > 0) {
        /* ColumnOrder union: field 1 TYPE_ORDER (TypeDefinedOrder, empty) */
        lks_thr_w_field_list(&w, 7, LKS_THR_STRUCT, (size_t)m->num_column_orders);
        for (int i = 0; i < m->num_column_orders; i++) {
            lks_thr_w_struct_begin(&w);
            if (m->column_orders[i] == 1)
                enc_empty_struct(&w, 1);
            lks_thr_w_struct_end(&w);
        }
    }
    lks_thr_w_struct_end(&w);
    return finish(&w, start);
}

int lks_pq_encode_page_header(lks_buf *b, const lks_pq_page_header *h) {
    size_t start = b->len;
    lks_thr_wr w;
    lks_thr_wr_init(&w, b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, h->type);
    lks_thr_w_field_i32(&w, 2, h->uncompressed_size);
    lks_thr_w_field_i32(&w, 3, h->compressed_size);
    if (h->has_crc)
        lks_thr_w_field_i32(&w, 4, h->crc);
    switch (h->type) {
    case LKS_PQ_DATA_PAGE:
        lks_thr_w_field_struct(&w, 5);
        lks_thr_w_field_i32(&w, 1, h->num_values);
        lks_thr_w_field_i32(&w, 2, h->encoding);
        lks_thr_w_field_i32(&w, 3, h->def_encoding);
        lks_thr_w_field_i32(&w, 4, h->rep_encoding);
        if (h->has_stats) {
            lks_thr_w_field_struct(&w, 5);
            enc_stats(&w, &h->stats);
            lks_thr_w_struct_end(&w);
        }
        lks_thr_w_struct_end(&w);
        break;
    case LKS_PQ_INDEX_PAGE: enc_empty_struct(&w, 6); break;
    case LKS_PQ_DICTIONARY_PAGE:
        lks_thr_w_field_struct(&w, 7);
        lks_thr_w_field_i32(&w, 1, h->num_values);
        lks_thr_w_field_i32(&w, 2, h->encoding);
        if (h->is_sorted)
            lks_thr_w_field_bool(&w, 3, 1);
        lks_thr_w_struct_end(&w);
        break;
    case LKS_PQ_DATA_PAGE_V2:
        lks_thr_w_field_struct(&w, 8);
        lks_thr_w_field_i32(&w, 1, h->num_values);
        lks_thr_w_field_i32(&w, 2, h->num_nulls);
        lks_thr_w_field_i32(&w, 3, h->num_rows);
        lks_thr_w_field_i32(&w, 4, h->encoding);
        lks_thr_w_field_i32(&w, 5, h->def_levels_len);
        lks_thr_w_field_i32(&w, 6, h->rep_levels_len);
        lks_thr_w_field_bool(&w, 7, h->is_compressed);
        if (h->has_stats) {
            lks_thr_w_field_struct(&w, 8);
            enc_stats(&w, &h->stats);
            lks_thr_w_struct_end(&w);
        }
        lks_thr_w_struct_end(&w);
        break;
    default:
        if (!w.rc)
            w.rc = LKS_EINVAL;
        break;
    }
    lks_thr_w_struct_end(&w);
    return finish(&w, start);
}

int lks_pq_encode_bloom_header(lks_buf *b, const lks_pq_bloom_header *h) {
    size_t start = b->len;
    lks_thr_wr w;
    lks_thr_wr_init(&w, b);
    lks_thr_w_struct_begin(&w);
    lks_thr_w_field_i32(&w, 1, h->num_bytes);
    /* algorithm BLOCK, hash XXHASH, compression UNCOMPRESSED: each a union
     * whose member 1 is an empty struct */
    for (int16_t id = 2; id <= 4; id++) {
        lks_thr_w_field_struct(&w, id);
        enc_empty_struct(&w, 1);
        lks_thr_w_struct_end(&w);
    }
    lks_thr_w_struct_end(&w);
    return finish(&w, start);
}
