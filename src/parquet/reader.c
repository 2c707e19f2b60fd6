/*
 * reader.c — the Parquet file reader: footer, column chunks, pages, values,
 * statistics and bloom filter probes.
 *
 * A column chunk is read whole (one ranged read), its pages decompressed and
 * decoded one after another into a column batch.  Byte-array values point
 * into the batch's data buffer, which holds the dictionary and the value
 * regions of PLAIN pages: while decoding, slices hold offsets into that
 * buffer (it may move as it grows) and become pointers at the end.
 */
#include "parquet/bloom.h"
#include "parquet/compress.h"
#include "parquet/encoding.h"
#include "parquet/parquet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lks_pq_reader {
    lks_pq_source src;
    lks_pq_reader_opts o;
    lks_arena arena;
    lks_pq_file_meta fm;
    lks_pq_schema *schema;
    lks_buf chunk; /* raw bytes of the column chunk being read */
    lks_buf page;  /* decompressed page */
    lks_buf dict;  /* dictionary values (fixed bytes, or slices holding offsets) */
    lks_buf idx;   /* dictionary indices of a page */
    size_t ndict;
};

void lks_pq_reader_opts_default(lks_pq_reader_opts *o) {
    memset(o, 0, sizeof *o);
    o->verify_crc = 1;
    o->max_footer_bytes = (size_t)64 << 20;
    o->max_page_bytes = (size_t)256 << 20;
    o->max_chunk_values = (size_t)1 << 28;
}

static const char *enc_name(int e) {
    switch (e) {
    case LKS_PQ_ENC_PLAIN: return "PLAIN";
    case LKS_PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case LKS_PQ_ENC_RLE: return "RLE";
    case LKS_PQ_ENC_BIT_PACKED: return "BIT_PACKED";
    case LKS_PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case LKS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case LKS_PQ_ENC_DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case LKS_PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
    case LKS_PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
    default: return "unknown";
    }
}

static size_t type_width(int type, int type_length) {
    switch (type) {
    case LKS_PQ_BOOLEAN: return 1;
    case LKS_PQ_INT32:
    case LKS_PQ_FLOAT: return 4;
    case LKS_PQ_INT64:
    case LKS_PQ_DOUBLE: return 8;
    case LKS_PQ_INT96: return 12;
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY: return (size_t)type_length;
    default: return 0;
    }
}

static int is_bytes(int type) { return type == LKS_PQ_BYTE_ARRAY || type == LKS_PQ_FIXED_LEN_BYTE_ARRAY; }

static int src_read(const lks_pq_source *src, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    if (off > src->size || n > src->size - off)
        return lks_err_set(err, LKS_ECORRUPT, "%s: read of %zu bytes at offset %llu past the end (%llu bytes)",
                           src->name ? src->name : "parquet", n, (unsigned long long)off,
                           (unsigned long long)src->size);
    return src->read(src->ud, off, n, dst, err);
}

/* ---- open -------------------------------------------------------------------------- */

int lks_pq_reader_open(const lks_pq_source *src, const lks_pq_reader_opts *o, lks_pq_reader **out, lks_err *err) {
    *out = NULL;
    const char *name = src->name ? src->name : "parquet";
    if (src->size < 12)
        return lks_err_set(err, LKS_ECORRUPT, "%s: %llu bytes is too small for a Parquet file", name,
                           (unsigned long long)src->size);
    lks_pq_reader *r = calloc(1, sizeof *r);
    if (!r)
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", name);
    r->src = *src;
    if (o)
        r->o = *o;
    else
        lks_pq_reader_opts_default(&r->o);
    lks_arena_init(&r->arena, 0);
    lks_buf_init(&r->chunk, 0);
    lks_buf_init(&r->page, 0);
    lks_buf_init(&r->dict, 0);
    lks_buf_init(&r->idx, 0);
    uint8_t head[4], tail[8];
    int rc = src_read(src, 0, 4, head, err);
    if (rc == LKS_OK)
        rc = src_read(src, src->size - 8, 8, tail, err);
    if (rc != LKS_OK)
        goto fail;
    if (memcmp(tail + 4, "PARE", 4) == 0) {
        rc = lks_err_set(err, LKS_EUNSUPPORTED, "%s: encrypted footer (Parquet modular encryption)", name);
        goto fail;
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: not a Parquet file (magic \"PAR1\" missing at %s)", name,
                         memcmp(head, "PAR1", 4) != 0 ? "offset 0" : "the end");
        goto fail;
    }
    uint32_t flen = lks_load_le32(tail);
    if (flen == 0 || flen > src->size - 12) {
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: footer length %u does not fit a file of %llu bytes", name, flen,
                         (unsigned long long)src->size);
        goto fail;
    }
    if (flen > r->o.max_footer_bytes) {
        rc = lks_err_set(err, LKS_ELIMIT, "%s: footer of %u bytes exceeds the limit of %zu", name, flen,
                         r->o.max_footer_bytes);
        goto fail;
    }
    uint8_t *fb = malloc(flen);
    if (!fb) {
        rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory for a %u-byte footer", name, flen);
        goto fail;
    }
    uint64_t foff = src->size - 8 - flen;
    rc = src_read(src, foff, flen, fb, err);
    if (rc == LKS_OK)
        rc = lks_pq_decode_file_meta(fb, flen, &r->arena, &r->fm, err);
    free(fb);
    if (rc != LKS_OK) {
        lks_err_prefix(err, "%s: footer at offset %llu", name, (unsigned long long)foff);
        goto fail;
    }
    rc = lks_pq_schema_from_meta(r->fm.schema, r->fm.num_schema, &r->schema, err);
    if (rc != LKS_OK) {
        lks_err_prefix(err, "%s: schema", name);
        goto fail;
    }
    for (int g = 0; g < r->fm.num_row_groups; g++) {
        const lks_pq_row_group *rg = &r->fm.row_groups[g];
        if (rg->num_columns != r->schema->num_cols || rg->num_rows < 0) {
            rc = lks_err_set(err, LKS_ECORRUPT, "%s: row group %d has %d columns and %lld rows; the schema has %d "
                             "columns", name, g, rg->num_columns, (long long)rg->num_rows, r->schema->num_cols);
            goto fail;
        }
        for (int c = 0; c < rg->num_columns; c++) {
            const lks_pq_column_chunk *cc = &rg->columns[c];
            if (cc->has_meta && cc->meta.type != r->schema->cols[c].type) {
                rc = lks_err_set(err, LKS_ECORRUPT, "%s: row group %d column %s: chunk type %d, schema type %d", name,
                                 g, r->schema->cols[c].path, cc->meta.type, r->schema->cols[c].type);
                goto fail;
            }
        }
    }
    *out = r;
    return LKS_OK;
fail:
    lks_pq_reader_free(r);
    return rc;
}

void lks_pq_reader_free(lks_pq_reader *r) {
    if (!r)
        return;
    lks_pq_schema_free(r->schema);
    lks_arena_free(&r->arena);
    lks_buf_free(&r->chunk);
    lks_buf_free(&r->page);
    lks_buf_free(&r->dict);
    lks_buf_free(&r->idx);
    free(r);
}

/* Gives dst src's memory when dst has none; both stay empty and valid. */
static void take_buf(lks_buf *dst, lks_buf *src) {
    if (dst->ptr || !src->ptr)
        return;
    dst->ptr = src->ptr;
    dst->cap = src->cap;
    dst->len = 0;
    src->ptr = NULL;
    src->len = src->cap = 0;
}

void lks_pq_reader_take_buffers(lks_pq_reader *r, lks_pq_reader *from) {
    if (!r || !from || r == from)
        return;
    take_buf(&r->chunk, &from->chunk);
    take_buf(&r->page, &from->page);
    take_buf(&r->dict, &from->dict);
    take_buf(&r->idx, &from->idx);
}

const lks_pq_file_meta *lks_pq_reader_meta(const lks_pq_reader *r) { return &r->fm; }
const lks_pq_schema *lks_pq_reader_schema(const lks_pq_reader *r) { return r->schema; }

/* ---- column batches ------------------------------------------------------------------ */

void lks_pq_colbatch_init(lks_pq_colbatch *b) {
    memset(b, 0, sizeof *b);
    lks_buf_init(&b->vals_buf, 0);
    lks_buf_init(&b->def_buf, 0);
    lks_buf_init(&b->rep_buf, 0);
    lks_buf_init(&b->data_buf, 0);
}

void lks_pq_colbatch_free(lks_pq_colbatch *b) {
    lks_buf_free(&b->vals_buf);
    lks_buf_free(&b->def_buf);
    lks_buf_free(&b->rep_buf);
    lks_buf_free(&b->data_buf);
    memset(b, 0, sizeof *b);
}

/* What the decoding of one column chunk needs. */
typedef struct chunkctx {
    lks_pq_reader *r;
    lks_pq_colbatch *b;
    const lks_pq_column *col;
    int type;
    size_t width;
    int codec;
    size_t nvals;  /* values decoded so far */
    uint64_t page_off; /* absolute offset of the current page, for errors */
    int have_dict;
} chunkctx;

static int oom(lks_err *err) { return lks_err_set(err, LKS_ENOMEM, "out of memory"); }

/* Reserves room for k more values in vals_buf; returns where they go. */
static void *vals_room(chunkctx *x, size_t k, size_t elem, lks_err *err) {
    if (k > SIZE_MAX / elem || lks_buf_reserve(&x->b->vals_buf, k * elem) != LKS_OK) {
        oom(err);
        return NULL;
    }
    return x->b->vals_buf.ptr + x->b->vals_buf.len;
}

/* Copies a region of page bytes into data_buf and rebases slices that point
 * into it to offsets within data_buf. */
static int keep_region(chunkctx *x, const uint8_t *region, size_t len, lks_slice *s, size_t k, lks_err *err) {
    lks_buf *d = &x->b->data_buf;
    size_t base;
    if (d->ptr && region >= d->ptr && region < d->ptr + d->len) {
        base = (size_t)(region - d->ptr); /* decompressed in place: no copy */
    } else {
        base = d->len;
        if (len && lks_buf_append(d, region, len) != LKS_OK)
            return oom(err);
    }
    for (size_t i = 0; i < k; i++)
        s[i].ptr = (const uint8_t *)(uintptr_t)(base + (size_t)(s[i].ptr - region));
    return LKS_OK;
}

static int decode_plain(chunkctx *x, const uint8_t *p, size_t len, size_t k, void *dst, size_t *used, lks_err *err) {
    switch (x->type) {
    case LKS_PQ_BOOLEAN: return lks_pq_plain_decode_bool(p, len, dst, k, used, err);
    case LKS_PQ_BYTE_ARRAY: {
        int rc = lks_pq_plain_decode_byte_array(p, len, dst, k, used, err);
        return rc != LKS_OK ? rc : keep_region(x, p, *used, dst, k, err);
    }
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY: {
        int rc = lks_pq_plain_decode_flba(p, len, dst, k, x->width, used, err);
        return rc != LKS_OK ? rc : keep_region(x, p, *used, dst, k, err);
    }
    default: return lks_pq_plain_decode_fixed(p, len, dst, k, x->width, used, err);
    }
}

static int read_dict_page(chunkctx *x, const lks_pq_page_header *h, const uint8_t *p, size_t len, lks_err *err) {
    lks_pq_reader *r = x->r;
    if (x->have_dict)
        return lks_err_set(err, LKS_ECORRUPT, "a second dictionary page");
    if (h->encoding != LKS_PQ_ENC_PLAIN && h->encoding != LKS_PQ_ENC_PLAIN_DICTIONARY)
        return lks_err_set(err, LKS_EUNSUPPORTED, "dictionary page encoding %s", enc_name(h->encoding));
    if (h->num_values < 0)
        return lks_err_set(err, LKS_ECORRUPT, "dictionary page with %d values", h->num_values);
    size_t k = (size_t)h->num_values;
    size_t elem = is_bytes(x->type) ? sizeof(lks_slice) : x->width;
    /* every PLAIN value takes at least one byte (BOOLEAN: a bit) */
    if (x->type != LKS_PQ_BOOLEAN && k > len / (x->type == LKS_PQ_BYTE_ARRAY ? 4 : (x->width ? x->width : 1)) +
                                             (x->width == 0 && x->type != LKS_PQ_BYTE_ARRAY))
        return lks_err_set(err, LKS_ECORRUPT, "dictionary page claims %zu values in %zu bytes", k, len);
    lks_buf_reset(&r->dict);
    if (lks_buf_reserve(&r->dict, k * elem + 1) != LKS_OK)
        return oom(err);
    size_t used = 0;
    int rc = decode_plain(x, p, len, k, r->dict.ptr, &used, err);
    if (rc != LKS_OK)
        return rc;
    r->dict.len = k * elem;
    r->ndict = k;
    x->have_dict = 1;
    return LKS_OK;
}

static int decode_dict_values(chunkctx *x, const uint8_t *p, size_t len, size_t k, uint8_t *dst, lks_err *err) {
    lks_pq_reader *r = x->r;
    if (!x->have_dict)
        return lks_err_set(err, LKS_ECORRUPT, "dictionary-encoded page without a dictionary page");
    if (k == 0)
        return LKS_OK;
    if (len < 1)
        return lks_err_set(err, LKS_ECORRUPT, "dictionary indices missing");
    int bw = p[0];
    if (bw > 32)
        return lks_err_set(err, LKS_ECORRUPT, "dictionary index bit width %d", bw);
    if (r->ndict == 0)
        return lks_err_set(err, LKS_ECORRUPT, "dictionary indices into an empty dictionary");
    lks_buf_reset(&r->idx);
    if (lks_buf_reserve(&r->idx, k * 4) != LKS_OK)
        return oom(err);
    uint32_t *ix = (uint32_t *)r->idx.ptr;
    int rc = lks_pq_rle_decode_u32(p + 1, len - 1, bw, ix, k, (uint32_t)(r->ndict - 1), err);
    if (rc != LKS_OK)
        return rc;
    if (is_bytes(x->type)) {
        const lks_slice *d = (const lks_slice *)r->dict.ptr;
        lks_slice *o = (lks_slice *)dst;
        for (size_t i = 0; i < k; i++)
            o[i] = d[ix[i]];
    } else if (x->width == 8) {
        const uint64_t *d = (const uint64_t *)r->dict.ptr;
        uint64_t *o = (uint64_t *)dst;
        for (size_t i = 0; i < k; i++)
            o[i] = d[ix[i]];
    } else if (x->width == 4) {
        const uint32_t *d = (const uint32_t *)r->dict.ptr;
        uint32_t *o = (uint32_t *)dst;
        for (size_t i = 0; i < k; i++)
            o[i] = d[ix[i]];
    } else {
        for (size_t i = 0; i < k; i++)
            memcpy(dst + i * x->width, r->dict.ptr + (size_t)ix[i] * x->width, x->width);
    }
    return LKS_OK;
}

/* Decodes k non-null values of encoding enc from p, appending to vals_buf. */
static int decode_values(chunkctx *x, int enc, const uint8_t *p, size_t len, size_t k, lks_err *err) {
    size_t elem = is_bytes(x->type) ? sizeof(lks_slice) : x->width;
    uint8_t *dst = vals_room(x, k, elem, err);
    if (!dst)
        return LKS_ENOMEM;
    size_t used = 0;
    int rc;
    switch (enc) {
    case LKS_PQ_ENC_PLAIN: rc = decode_plain(x, p, len, k, dst, &used, err); break;
    case LKS_PQ_ENC_PLAIN_DICTIONARY:
    case LKS_PQ_ENC_RLE_DICTIONARY: rc = decode_dict_values(x, p, len, k, dst, err); break;
    case LKS_PQ_ENC_RLE:
        if (x->type != LKS_PQ_BOOLEAN)
            return lks_err_set(err, LKS_ECORRUPT, "RLE encoding on a non-boolean column");
        if (len < 4 || lks_load_le32(p) > len - 4)
            return lks_err_set(err, LKS_ECORRUPT, "RLE boolean values: bad length prefix");
        {
            /* decode as u16 then narrow */
            uint16_t *t = malloc(k ? k * 2 : 1);
            if (!t)
                return oom(err);
            rc = lks_pq_rle_decode_u16(p + 4, lks_load_le32(p), 1, t, k, 1, err);
            for (size_t i = 0; rc == LKS_OK && i < k; i++)
                dst[i] = (uint8_t)t[i];
            free(t);
        }
        break;
    case LKS_PQ_ENC_DELTA_BINARY_PACKED:
        if (x->type != LKS_PQ_INT32 && x->type != LKS_PQ_INT64)
            return lks_err_set(err, LKS_ECORRUPT, "DELTA_BINARY_PACKED on a column of physical type %d", x->type);
        rc = lks_pq_delta_decode_int(p, len, dst, k, x->width, &used, err);
        break;
    case LKS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (x->type != LKS_PQ_BYTE_ARRAY)
            return lks_err_set(err, LKS_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
        rc = lks_pq_delta_length_decode(p, len, (lks_slice *)dst, k, &used, err);
        if (rc == LKS_OK)
            rc = keep_region(x, p, len, (lks_slice *)dst, k, err);
        break;
    case LKS_PQ_ENC_DELTA_BYTE_ARRAY: {
        if (!is_bytes(x->type))
            return lks_err_set(err, LKS_ECORRUPT, "DELTA_BYTE_ARRAY on a non-byte-array column");
        lks_buf *d = &x->b->data_buf;
        size_t base = d->len;
        lks_slice *o = (lks_slice *)dst;
        /* values sharing prefixes decode to up to n^2/2 bytes from a small
         * page: hold a page's values to the page size limit */
        size_t dmax = d->max;
        if (d->max - d->len > x->r->o.max_page_bytes)
            d->max = d->len + x->r->o.max_page_bytes;
        rc = lks_pq_delta_byte_array_decode(p, len, o, k, d, err);
        d->max = dmax;
        if (rc != LKS_OK)
            break;
        for (size_t i = 0; i < k; i++) {
            if (x->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && o[i].len != x->width)
                return lks_err_set(err, LKS_ECORRUPT, "DELTA_BYTE_ARRAY value of %zu bytes in a %zu-byte column",
                                   o[i].len, x->width);
            o[i].ptr = (const uint8_t *)(uintptr_t)(size_t)(o[i].ptr - d->ptr);
        }
        (void)base;
        break;
    }
    case LKS_PQ_ENC_BYTE_STREAM_SPLIT:
        if (x->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY) {
            lks_buf *d = &x->b->data_buf;
            size_t base = d->len;
            if (k > SIZE_MAX / (x->width ? x->width : 1) || lks_buf_reserve(d, k * x->width) != LKS_OK)
                return oom(err);
            rc = lks_pq_byte_stream_split_decode(p, len, d->ptr + base, k, x->width, err);
            if (rc != LKS_OK)
                break;
            d->len += k * x->width;
            lks_slice *o = (lks_slice *)dst;
            for (size_t i = 0; i < k; i++)
                o[i] = (lks_slice){(const uint8_t *)(uintptr_t)(base + i * x->width), x->width};
        } else if (x->type == LKS_PQ_FLOAT || x->type == LKS_PQ_DOUBLE || x->type == LKS_PQ_INT32 ||
                   x->type == LKS_PQ_INT64) {
            rc = lks_pq_byte_stream_split_decode(p, len, dst, k, x->width, err);
        } else {
            return lks_err_set(err, LKS_ECORRUPT, "BYTE_STREAM_SPLIT on a column of physical type %d", x->type);
        }
        break;
    default: return lks_err_set(err, LKS_EUNSUPPORTED, "value encoding %s (%d)", enc_name(enc), enc);
    }
    if (rc != LKS_OK)
        return rc;
    x->b->vals_buf.len += k * elem;
    x->nvals += k;
    return LKS_OK;
}

/* Decodes n levels of a v1 page at *p, advancing it. */
static int levels_v1(int enc, int max, const uint8_t **p, size_t *len, uint16_t *out, size_t n, const char *what,
                     lks_err *err) {
    int bw = lks_pq_bit_width((uint64_t)max);
    if (enc == LKS_PQ_ENC_RLE) {
        if (*len < 4)
            return lks_err_set(err, LKS_ECORRUPT, "%s levels: length prefix missing", what);
        uint32_t l = lks_load_le32(*p);
        if (l > *len - 4)
            return lks_err_set(err, LKS_ECORRUPT, "%s levels: length %u past the page end", what, l);
        int rc = lks_pq_rle_decode_u16(*p + 4, l, bw, out, n, (uint32_t)max, err);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "%s levels", what);
        *p += 4 + l;
        *len -= 4 + l;
        return LKS_OK;
    }
    if (enc == LKS_PQ_ENC_BIT_PACKED) {
        uint64_t bytes = ((uint64_t)n * (uint64_t)bw + 7) / 8;
        if (bytes > *len)
            return lks_err_set(err, LKS_ECORRUPT, "%s levels: %llu bytes past the page end", what,
                               (unsigned long long)bytes);
        int rc = lks_pq_bitpacked_legacy_decode(*p, (size_t)bytes, bw, out, n, err);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "%s levels", what);
        for (size_t i = 0; i < n; i++)
            if (out[i] > max)
                return lks_err_set(err, LKS_ECORRUPT, "%s level %u above the maximum %d", what, out[i], max);
        *p += bytes;
        *len -= (size_t)bytes;
        return LKS_OK;
    }
    return lks_err_set(err, LKS_EUNSUPPORTED, "%s level encoding %s", what, enc_name(enc));
}

static uint16_t *levels_room(lks_buf *b, size_t at, size_t n, lks_err *err) {
    if (lks_buf_reserve(b, n * 2) != LKS_OK) {
        oom(err);
        return NULL;
    }
    (void)at;
    return (uint16_t *)(b->ptr + b->len);
}

/* Decompresses a page body into r->page unless uncompressed.  Pages of
 * PLAIN byte arrays (`keep`) are decompressed straight into the batch's
 * data buffer, where their values stay: no second copy. */
static int page_body(chunkctx *x, const uint8_t *p, size_t clen, size_t ulen, int compressed, int keep,
                     const uint8_t **out, lks_err *err) {
    if (!compressed || x->codec == LKS_PQ_UNCOMPRESSED) {
        if (clen != ulen)
            return lks_err_set(err, LKS_ECORRUPT, "uncompressed page of %zu bytes claims %zu", clen, ulen);
        *out = p;
        return LKS_OK;
    }
    lks_buf *dst = keep && is_bytes(x->type) ? &x->b->data_buf : &x->r->page;
    if (dst == &x->r->page)
        lks_buf_reset(dst);
    if (lks_buf_reserve(dst, ulen + 1) != LKS_OK)
        return oom(err);
    int rc = lks_pq_decompress(x->codec, p, clen, dst->ptr + dst->len, ulen, err);
    if (rc != LKS_OK)
        return rc;
    *out = dst->ptr + dst->len;
    if (dst != &x->r->page)
        dst->len += ulen;
    return LKS_OK;
}

static int read_data_page(chunkctx *x, const lks_pq_page_header *h, const uint8_t *raw, size_t clen, lks_err *err) {
    lks_pq_colbatch *b = x->b;
    const lks_pq_column *col = x->col;
    if (h->num_values < 0)
        return lks_err_set(err, LKS_ECORRUPT, "page with %d values", h->num_values);
    size_t n = (size_t)h->num_values;
    if (b->n + n > x->r->o.max_chunk_values)
        return lks_err_set(err, LKS_ELIMIT, "column chunk past %zu values", x->r->o.max_chunk_values);
    size_t ulen = (size_t)h->uncompressed_size;
    /* only PLAIN-like pages may live in data_buf: other decoders append to it */
    int keep = h->encoding == LKS_PQ_ENC_PLAIN || h->encoding == LKS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
    uint16_t *rep = NULL, *def = NULL;
    if (col->max_rep && !(rep = levels_room(&b->rep_buf, b->n, n, err)))
        return LKS_ENOMEM;
    if (col->max_def && !(def = levels_room(&b->def_buf, b->n, n, err)))
        return LKS_ENOMEM;
    const uint8_t *p;
    size_t len;
    int rc;
    if (h->type == LKS_PQ_DATA_PAGE) {
        rc = page_body(x, raw, clen, ulen, 1, keep, &p, err);
        if (rc != LKS_OK)
            return rc;
        len = ulen;
        if (rep && (rc = levels_v1(h->rep_encoding, col->max_rep, &p, &len, rep, n, "repetition", err)) != LKS_OK)
            return rc;
        if (def && (rc = levels_v1(h->def_encoding, col->max_def, &p, &len, def, n, "definition", err)) != LKS_OK)
            return rc;
    } else {
        if (h->rep_levels_len < 0 || h->def_levels_len < 0 ||
            (uint64_t)h->rep_levels_len + (uint64_t)h->def_levels_len > clen ||
            (uint64_t)h->rep_levels_len + (uint64_t)h->def_levels_len > ulen)
            return lks_err_set(err, LKS_ECORRUPT, "v2 page level lengths %d + %d past the page (%zu bytes)",
                               h->rep_levels_len, h->def_levels_len, clen);
        size_t rl = (size_t)h->rep_levels_len, dl = (size_t)h->def_levels_len;
        if (rep && (rc = lks_pq_rle_decode_u16(raw, rl, lks_pq_bit_width((uint64_t)col->max_rep), rep, n,
                                               (uint32_t)col->max_rep, err)) != LKS_OK)
            return lks_err_prefix(err, "repetition levels");
        if (def && (rc = lks_pq_rle_decode_u16(raw + rl, dl, lks_pq_bit_width((uint64_t)col->max_def), def, n,
                                               (uint32_t)col->max_def, err)) != LKS_OK)
            return lks_err_prefix(err, "definition levels");
        rc = page_body(x, raw + rl + dl, clen - rl - dl, ulen - rl - dl, h->is_compressed, keep, &p, err);
        if (rc != LKS_OK)
            return rc;
        len = ulen - rl - dl;
    }
    if (rep && n && rep[0] != 0 && b->n == 0)
        return lks_err_set(err, LKS_ECORRUPT, "column chunk starts inside a row (repetition level %u)", rep[0]);
    size_t k = n;
    if (def) {
        k = 0;
        uint16_t m = (uint16_t)col->max_def;
        for (size_t i = 0; i < n; i++)
            k += def[i] == m;
    }
    if (h->type == LKS_PQ_DATA_PAGE_V2 && h->num_nulls >= 0 && (size_t)h->num_nulls != n - k)
        return lks_err_set(err, LKS_ECORRUPT, "v2 page says %d nulls, levels say %zu", h->num_nulls, n - k);
    rc = decode_values(x, h->encoding, p, len, k, err);
    if (rc != LKS_OK)
        return rc;
    if (rep)
        b->rep_buf.len += n * 2;
    if (def)
        b->def_buf.len += n * 2;
    b->n += n;
    return LKS_OK;
}

int lks_pq_read_column(lks_pq_reader *r, int rg, int col, lks_pq_colbatch *b, lks_err *err) {
    const char *name = r->src.name ? r->src.name : "parquet";
    if (rg < 0 || rg >= r->fm.num_row_groups || col < 0 || col >= r->schema->num_cols)
        return lks_err_set(err, LKS_EINVAL, "%s: no row group %d column %d", name, rg, col);
    const lks_pq_column *c = &r->schema->cols[col];
    const lks_pq_row_group *g = &r->fm.row_groups[rg];
    const lks_pq_column_chunk *cc = &g->columns[col];
    b->n = b->nvals = 0;
    b->def = b->rep = NULL;
    b->values = NULL;
    lks_buf_reset(&b->vals_buf);
    lks_buf_reset(&b->def_buf);
    lks_buf_reset(&b->rep_buf);
    lks_buf_reset(&b->data_buf);
    if (cc->encrypted || !cc->has_meta)
        return lks_err_set(err, LKS_EUNSUPPORTED, "%s: row group %d column %s: encrypted column chunk", name, rg,
                           c->path);
    if (cc->file_path)
        return lks_err_set(err, LKS_EUNSUPPORTED, "%s: row group %d column %s: column chunk in another file (%s)",
                           name, rg, c->path, cc->file_path);
    const lks_pq_column_meta *cm = &cc->meta;
    if (c->logical.kind != LKS_PQ_LT_NONE && c->logical.kind > LKS_PQ_LT_GEOGRAPHY)
        return lks_err_set(err, LKS_EUNSUPPORTED, "%s: column %s: unknown logical type (id %d)", name, c->path,
                           c->logical.kind);
    if (cm->num_values == 0 && g->num_rows == 0) {
        b->values = b->vals_buf.ptr;
        return LKS_OK; /* an empty chunk: nothing to read, wherever it claims to be */
    }
    int64_t start = cm->data_page_offset;
    if (cm->dictionary_page_offset >= 4 && cm->dictionary_page_offset < start)
        start = cm->dictionary_page_offset;
    int64_t clen = cm->total_compressed_size;
    if (start < 4 || clen <= 0 || (uint64_t)start > r->src.size || (uint64_t)clen > r->src.size - (uint64_t)start)
        return lks_err_set(err, LKS_ECORRUPT, "%s: row group %d column %s: chunk at %lld of %lld bytes is outside "
                           "the file", name, rg, c->path, (long long)start, (long long)clen);
    if (cm->num_values < 0 || (uint64_t)cm->num_values > r->o.max_chunk_values)
        return lks_err_set(err, cm->num_values < 0 ? LKS_ECORRUPT : LKS_ELIMIT,
                           "%s: row group %d column %s: %lld values", name, rg, c->path,
                           (long long)cm->num_values);
    lks_buf_reset(&r->chunk);
    if (lks_buf_reserve(&r->chunk, (size_t)clen) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory for a chunk of %lld bytes", name, (long long)clen);
    int rc = src_read(&r->src, (uint64_t)start, (size_t)clen, r->chunk.ptr, err);
    if (rc != LKS_OK)
        return rc;
    chunkctx x = {r, b, c, c->type, type_width(c->type, c->type_length), cm->codec, 0, 0, 0};
    r->ndict = 0;
    size_t pos = 0, total = (size_t)clen;
    while (pos < total && b->n < (size_t)cm->num_values) {
        x.page_off = (uint64_t)start + pos;
        lks_pq_page_header h;
        size_t used = 0;
        rc = lks_pq_decode_page_header(r->chunk.ptr + pos, total - pos, x.page_off, &h, &used, err);
        if (rc != LKS_OK)
            goto page_fail;
        pos += used;
        if (h.compressed_size < 0 || (size_t)h.compressed_size > total - pos || h.uncompressed_size < 0) {
            rc = lks_err_set(err, LKS_ECORRUPT, "page of %d bytes past the chunk end (%zu bytes left)",
                             h.compressed_size, total - pos);
            goto page_fail;
        }
        if ((size_t)h.uncompressed_size > r->o.max_page_bytes) {
            rc = lks_err_set(err, LKS_ELIMIT, "page of %d bytes exceeds the limit of %zu", h.uncompressed_size,
                             r->o.max_page_bytes);
            goto page_fail;
        }
        const uint8_t *raw = r->chunk.ptr + pos;
        size_t cl = (size_t)h.compressed_size;
        if (h.has_crc && r->o.verify_crc && (uint32_t)h.crc != lks_crc32(0, raw, cl)) {
            rc = lks_err_set(err, LKS_ECHECKSUM, "page CRC mismatch");
            goto page_fail;
        }
        switch (h.type) {
        case LKS_PQ_DICTIONARY_PAGE: {
            const uint8_t *p;
            rc = page_body(&x, raw, cl, (size_t)h.uncompressed_size, 1, 1, &p, err);
            if (rc == LKS_OK)
                rc = read_dict_page(&x, &h, p, (size_t)h.uncompressed_size, err);
            break;
        }
        case LKS_PQ_DATA_PAGE:
        case LKS_PQ_DATA_PAGE_V2: rc = read_data_page(&x, &h, raw, cl, err); break;
        default: break; /* index pages and unknown types are skipped */
        }
        if (rc != LKS_OK)
            goto page_fail;
        pos += cl;
    }
    if (b->n != (size_t)cm->num_values)
        return lks_err_set(err, LKS_ECORRUPT, "%s: row group %d column %s: pages hold %zu values, metadata says %lld",
                           name, rg, c->path, b->n, (long long)cm->num_values);
    if (c->max_rep == 0 && b->n != (size_t)g->num_rows)
        return lks_err_set(err, LKS_ECORRUPT, "%s: row group %d column %s: %zu values in a row group of %lld rows",
                           name, rg, c->path, b->n, (long long)g->num_rows);
    if (c->max_rep) {
        size_t rows = 0;
        const uint16_t *rp = (const uint16_t *)b->rep_buf.ptr;
        for (size_t i = 0; i < b->n; i++)
            rows += rp[i] == 0;
        if (rows != (size_t)g->num_rows)
            return lks_err_set(err, LKS_ECORRUPT, "%s: row group %d column %s: %zu rows in a row group of %lld",
                               name, rg, c->path, rows, (long long)g->num_rows);
    }
    b->nvals = x.nvals;
    b->def = c->max_def ? (uint16_t *)b->def_buf.ptr : NULL;
    b->rep = c->max_rep ? (uint16_t *)b->rep_buf.ptr : NULL;
    b->values = b->vals_buf.ptr;
    if (is_bytes(c->type)) {
        lks_slice *s = (lks_slice *)b->vals_buf.ptr;
        for (size_t i = 0; i < b->nvals; i++)
            s[i].ptr = b->data_buf.ptr + (size_t)(uintptr_t)s[i].ptr;
    }
    return LKS_OK;
page_fail:
    lks_err_prefix(err, "%s: row group %d column %s: page at offset %llu", name, rg, c->path,
                   (unsigned long long)x.page_off);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------ */

static int stat_value(const lks_pq_column *c, lks_slice s, lks_pq_value *v) {
    switch (c->type) {
    case LKS_PQ_BOOLEAN:
        if (s.len < 1)
            return 0;
        v->kind = LKS_PQ_V_BOOL;
        v->u.b = s.ptr[0] != 0;
        return 1;
    case LKS_PQ_INT32:
        if (s.len != 4)
            return 0;
        v->kind = LKS_PQ_V_INT32;
        v->u.i32 = (int32_t)lks_load_le32(s.ptr);
        return 1;
    case LKS_PQ_INT64:
        if (s.len != 8)
            return 0;
        v->kind = LKS_PQ_V_INT64;
        v->u.i64 = (int64_t)lks_load_le64(s.ptr);
        return 1;
    case LKS_PQ_FLOAT: {
        if (s.len != 4)
            return 0;
        v->kind = LKS_PQ_V_FLOAT;
        memcpy(&v->u.f32, s.ptr, 4);
        return !isnan(v->u.f32);
    }
    case LKS_PQ_DOUBLE:
        if (s.len != 8)
            return 0;
        v->kind = LKS_PQ_V_DOUBLE;
        memcpy(&v->u.f64, s.ptr, 8);
        return !isnan(v->u.f64);
    case LKS_PQ_BYTE_ARRAY:
    case LKS_PQ_FIXED_LEN_BYTE_ARRAY:
        if (c->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY && s.len != (size_t)c->type_length)
            return 0;
        v->kind = LKS_PQ_V_BYTES;
        v->u.bytes = s;
        return 1;
    default: return 0;
    }
}

int lks_pq_chunk_stats(const lks_pq_reader *r, int rg, int col, lks_pq_minmax *out) {
    memset(out, 0, sizeof *out);
    out->null_count = -1;
    if (rg < 0 || rg >= r->fm.num_row_groups || col < 0 || col >= r->schema->num_cols)
        return 0;
    const lks_pq_column_chunk *cc = &r->fm.row_groups[rg].columns[col];
    if (!cc->has_meta || !cc->meta.has_stats)
        return 0;
    const lks_pq_stats *st = &cc->meta.stats;
    const lks_pq_column *c = &r->schema->cols[col];
    if (st->has & LKS_PQ_ST_NULL_COUNT)
        out->null_count = st->null_count;
    int type_order = col < r->fm.num_column_orders && r->fm.column_orders[col] == 1;
    const lks_pq_logical *lt = &c->logical;
    int unsigned_int = lt->kind == LKS_PQ_LT_INTEGER && !lt->is_signed;
    lks_slice mn = {0}, mx = {0};
    int have = 0;
    if ((st->has & LKS_PQ_ST_MIN_VALUE) && (st->has & LKS_PQ_ST_MAX_VALUE) && type_order) {
        mn = st->min_value, mx = st->max_value, have = 1;
        /* orders we do not compare by: decimals in byte arrays, float16, INT96, intervals */
        if (c->type == LKS_PQ_INT96 || (c->type == LKS_PQ_BYTE_ARRAY && lt->kind == LKS_PQ_LT_DECIMAL) ||
            lt->kind == LKS_PQ_LT_FLOAT16 || lt->kind == LKS_PQ_LT_UNKNOWN)
            have = 0;
    } else if ((st->has & LKS_PQ_ST_MIN) && (st->has & LKS_PQ_ST_MAX)) {
        /* legacy fields: signed order, trustworthy only for signed numbers */
        if ((c->type == LKS_PQ_INT32 || c->type == LKS_PQ_INT64 || c->type == LKS_PQ_FLOAT ||
             c->type == LKS_PQ_DOUBLE || c->type == LKS_PQ_BOOLEAN) &&
            !unsigned_int)
            mn = st->min, mx = st->max, have = 1;
    }
    if (have && stat_value(c, mn, &out->min) && stat_value(c, mx, &out->max))
        out->has_minmax = 1;
    else
        memset(&out->min, 0, sizeof out->min), memset(&out->max, 0, sizeof out->max);
    return out->has_minmax;
}

/* ---- bloom filters ---------------------------------------------------------------- */

int lks_pq_bloom_may_contain(lks_pq_reader *r, int rg, int col, const void *value, lks_err *err) {
    const char *name = r->src.name ? r->src.name : "parquet";
    if (rg < 0 || rg >= r->fm.num_row_groups || col < 0 || col >= r->schema->num_cols)
        return lks_err_set(err, LKS_EINVAL, "%s: no row group %d column %d", name, rg, col);
    const lks_pq_column_chunk *cc = &r->fm.row_groups[rg].columns[col];
    if (!cc->has_meta || cc->meta.bloom_filter_offset < 0)
        return 1;
    const lks_pq_column *c = &r->schema->cols[col];
    uint64_t off = (uint64_t)cc->meta.bloom_filter_offset;
    if (off >= r->src.size)
        return lks_err_set(err, LKS_ECORRUPT, "%s: column %s: bloom filter offset %llu past the end", name, c->path,
                           (unsigned long long)off);
    uint8_t hb[64];
    size_t hn = r->src.size - off < sizeof hb ? (size_t)(r->src.size - off) : sizeof hb;
    int rc = src_read(&r->src, off, hn, hb, err);
    if (rc != LKS_OK)
        return rc;
    lks_pq_bloom_header bh;
    size_t used = 0;
    rc = lks_pq_decode_bloom_header(hb, hn, off, &bh, &used, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "%s: column %s: bloom filter", name, c->path);
    if (bh.num_bytes < 32 || bh.num_bytes % 32 || bh.num_bytes > (128 << 20) ||
        (uint64_t)bh.num_bytes > r->src.size - off - used)
        return lks_err_set(err, LKS_ECORRUPT, "%s: column %s: bloom filter of %d bytes at %llu", name, c->path,
                           bh.num_bytes, (unsigned long long)off);
    uint8_t *bits = malloc((size_t)bh.num_bytes);
    if (!bits)
        return oom(err);
    rc = src_read(&r->src, off + used, (size_t)bh.num_bytes, bits, err);
    if (rc != LKS_OK) {
        free(bits);
        return rc;
    }
    uint64_t hsh;
    if (is_bytes(c->type)) {
        const lks_slice *s = value;
        hsh = lks_pq_bloom_hash(s->ptr, s->len);
    } else {
        hsh = lks_pq_bloom_hash(value, type_width(c->type, c->type_length));
    }
    int hit = lks_pq_bloom_check(bits, (size_t)bh.num_bytes, hsh);
    free(bits);
    return hit;
}
