/*
 * test_parquet_hostile.c — the Parquet reader on hostile input.
 *
 * Valid files are written in memory with the writer, then damaged in
 * targeted and random ways: truncated at every length, bytes flipped
 * (deterministic PRNG), footer length, page header fields, chunk and schema
 * metadata, dictionary indices and compressed streams rewritten, absurd
 * schemas and hand-made Thrift footers.  Every damaged file goes through
 * fuzz/exercise.h — the same code path as the libFuzzer target — which
 * aborts on a status outside the documented set or a broken column batch;
 * the sanitizer build catches memory errors and leaks; a hang is caught by
 * the test runner's per-program timeout.  Finally every file in fuzz/seeds/
 * and fuzz/crashes/ is replayed.
 */
#include "../../fuzz/exercise.h"
#include "harness.h"
#include "parquet/encoding.h"

#include <dirent.h>

/* ---- deterministic PRNG ---------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t pick(size_t n) { return n ? (size_t)(next_rand() % n) : 0; }

/* ---- running a file --------------------------------------------------------- */

static long files_run, unencodable;

/* Exercises one file. */
#define RUN_FILE(p, n, resp)                                                                                         \
    do {                                                                                                               \
        lks_fuzz_exercise((p), (n), (resp));                                                                           \
        files_run++;                                                                                                   \
    } while (0)

/* ---- valid files ------------------------------------------------------------------ */

static lks_pq_logical none_lt(void) { return lks_pq_lt(LKS_PQ_LT_NONE); }

/* A flat file: 7 columns of assorted types, 300 rows, small pages and row
 * groups.  Returns LKS_OK with the bytes in *out. */
static int make_flat(int codec, int dict, int bloom, lks_buf *out) {
    lks_pq_field f[] = {
        {"schema", LKS_PQ_REQUIRED, -1, 0, none_lt(), -1, 7},
        {"id", LKS_PQ_REQUIRED, LKS_PQ_INT64, 0, none_lt(), -1, 0},
        {"n", LKS_PQ_OPTIONAL, LKS_PQ_INT32, 0, none_lt(), -1, 0},
        {"s", LKS_PQ_OPTIONAL, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), -1, 0},
        {"d", LKS_PQ_REQUIRED, LKS_PQ_DOUBLE, 0, none_lt(), -1, 0},
        {"b", LKS_PQ_OPTIONAL, LKS_PQ_BOOLEAN, 0, none_lt(), -1, 0},
        {"dec", LKS_PQ_OPTIONAL, LKS_PQ_FIXED_LEN_BYTE_ARRAY, 6, lks_pq_lt_decimal(12, 2), -1, 0},
        {"ts", LKS_PQ_REQUIRED, LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1), -1, 0},
    };
    lks_err err = {0};
    lks_pq_schema *s = NULL;
    int rc = lks_pq_schema_build(f, 8, &s, &err);
    if (rc != LKS_OK)
        return rc;
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.codec = codec;
    o.page_bytes = 256;
    o.row_group_rows = 120;
    o.dictionary = dict;
    lks_buf_init(out, 0);
    lks_pq_writer *w = NULL;
    rc = lks_pq_writer_open(s, &o, lks_pq_sink_buf, out, &w, &err);
    if (rc == LKS_OK && bloom) {
        lks_pq_writer_set_bloom(w, 0, 100, 0.05);
        lks_pq_writer_set_bloom(w, 2, 100, 0.05);
    }
    enum { N = 100 };
    static const char *const words[] = {"alpha", "beta", "", "gamma délta", "€uro"};
    for (int batch = 0; rc == LKS_OK && batch < 3; batch++) {
        int64_t ids[N], ts[N];
        int32_t ns[N];
        double ds[N];
        uint8_t bs[N];
        lks_slice ss[N], decs[N];
        uint8_t decb[N][6];
        uint16_t dn[N], dss[N], db[N], ddec[N];
        size_t kn = 0, ks = 0, kb = 0, kdec = 0;
        for (int i = 0; i < N; i++) {
            int r = batch * N + i;
            ids[i] = r * 7 - 100;
            ts[i] = 1700000000000000LL + r * 1000003LL;
            ds[i] = r * 0.25 - 3;
            dn[i] = r % 5 != 0;
            if (dn[i])
                ns[kn++] = r % 17 - 8;
            dss[i] = r % 7 != 3;
            if (dss[i])
                ss[ks++] = (lks_slice){(const uint8_t *)words[r % 5], strlen(words[r % 5])};
            db[i] = r % 4 != 1;
            if (db[i])
                bs[kb++] = (uint8_t)(r & 1);
            ddec[i] = r % 6 != 2;
            if (ddec[i]) {
                memset(decb[kdec], r % 3 == 0 ? 0xff : 0, 6);
                decb[kdec][5] = (uint8_t)r;
                decs[kdec] = (lks_slice){decb[kdec], 6};
                kdec++;
            }
        }
        if (!rc) rc = lks_pq_write_column(w, 0, ids, NULL, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 1, ns, dn, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 2, ss, dss, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 3, ds, NULL, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 4, bs, db, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 5, decs, ddec, NULL, N, &err);
        if (!rc) rc = lks_pq_write_column(w, 6, ts, NULL, NULL, N, &err);
        if (!rc) rc = lks_pq_writer_end_batch(w, N, &err);
    }
    if (rc == LKS_OK)
        rc = lks_pq_writer_close(w, &err);
    lks_pq_writer_free(w);
    lks_pq_schema_free(s);
    if (rc != LKS_OK) {
        if (codec != LKS_PQ_LZ4) /* LZ4 (Hadoop framing) is read-only */
            fprintf(stderr, "make_flat: %s\n", err.msg);
        lks_buf_free(out);
    }
    return rc;
}

/* A nested file: list<int64>, map<string,int32>, struct{a int32, b string}
 * and a repeated int32, 80 rows written row by row. */
static int make_nested(int codec, lks_buf *out) {
    lks_pq_field f[] = {
        {"schema", LKS_PQ_REQUIRED, -1, 0, none_lt(), -1, 4},
        {"l", LKS_PQ_OPTIONAL, -1, 0, lks_pq_lt(LKS_PQ_LT_LIST), -1, 1},
        {"list", LKS_PQ_REPEATED, -1, 0, none_lt(), -1, 1},
        {"element", LKS_PQ_OPTIONAL, LKS_PQ_INT64, 0, none_lt(), -1, 0},
        {"m", LKS_PQ_OPTIONAL, -1, 0, lks_pq_lt(LKS_PQ_LT_MAP), -1, 1},
        {"key_value", LKS_PQ_REPEATED, -1, 0, none_lt(), -1, 2},
        {"key", LKS_PQ_REQUIRED, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), -1, 0},
        {"value", LKS_PQ_OPTIONAL, LKS_PQ_INT32, 0, none_lt(), -1, 0},
        {"st", LKS_PQ_OPTIONAL, -1, 0, none_lt(), -1, 2},
        {"a", LKS_PQ_OPTIONAL, LKS_PQ_INT32, 0, none_lt(), -1, 0},
        {"b", LKS_PQ_REQUIRED, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), -1, 0},
        {"r", LKS_PQ_REPEATED, LKS_PQ_INT32, 0, none_lt(), -1, 0},
    };
    lks_err err = {0};
    lks_pq_schema *s = NULL;
    int rc = lks_pq_schema_build(f, 12, &s, &err);
    if (rc != LKS_OK)
        return rc;
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.codec = codec;
    o.page_bytes = 200;
    o.row_group_rows = 30;
    lks_buf_init(out, 0);
    lks_pq_writer *w = NULL;
    rc = lks_pq_writer_open(s, &o, lks_pq_sink_buf, out, &w, &err);
    static const char *const keys[] = {"k0", "k1", "k2", "k3"};
    for (int r = 0; rc == LKS_OK && r < 80; r++) {
        lks_pq_value top[4], litems[4], lelem[4], mitems[4], mkv[4][2], st[2], ritems[3], lrep, mrep, rrep;
        memset(top, 0, sizeof top);
        /* l */
        if (r % 5 != 0) {
            int n = r % 4;
            for (int i = 0; i < n; i++) {
                lelem[i] = (lks_pq_value){.kind = (r + i) % 3 ? LKS_PQ_V_INT64 : LKS_PQ_V_NULL};
                lelem[i].u.i64 = r * 100 + i;
                litems[i] = (lks_pq_value){.kind = LKS_PQ_V_GROUP};
                litems[i].u.list.n = 1;
                litems[i].u.list.items = &lelem[i];
            }
            lrep = (lks_pq_value){.kind = LKS_PQ_V_REPEATED};
            lrep.u.list.n = (size_t)n;
            lrep.u.list.items = litems;
            top[0].kind = LKS_PQ_V_GROUP;
            top[0].u.list.n = 1;
            top[0].u.list.items = &lrep;
        }
        /* m */
        if (r % 6 != 1) {
            int n = (r + 1) % 4;
            for (int i = 0; i < n; i++) {
                mkv[i][0] = (lks_pq_value){.kind = LKS_PQ_V_BYTES};
                mkv[i][0].u.bytes = (lks_slice){(const uint8_t *)keys[i], 2};
                mkv[i][1] = (lks_pq_value){.kind = i == 1 ? LKS_PQ_V_NULL : LKS_PQ_V_INT32};
                mkv[i][1].u.i32 = r - i;
                mitems[i] = (lks_pq_value){.kind = LKS_PQ_V_GROUP};
                mitems[i].u.list.n = 2;
                mitems[i].u.list.items = mkv[i];
            }
            mrep = (lks_pq_value){.kind = LKS_PQ_V_REPEATED};
            mrep.u.list.n = (size_t)n;
            mrep.u.list.items = mitems;
            top[1].kind = LKS_PQ_V_GROUP;
            top[1].u.list.n = 1;
            top[1].u.list.items = &mrep;
        }
        /* st */
        if (r % 7 != 2) {
            st[0] = (lks_pq_value){.kind = r % 2 ? LKS_PQ_V_INT32 : LKS_PQ_V_NULL};
            st[0].u.i32 = -r;
            st[1] = (lks_pq_value){.kind = LKS_PQ_V_BYTES};
            st[1].u.bytes = (lks_slice){(const uint8_t *)"struct text", (size_t)(r % 11)};
            top[2].kind = LKS_PQ_V_GROUP;
            top[2].u.list.n = 2;
            top[2].u.list.items = st;
        }
        /* r */
        int rn = r % 3;
        for (int i = 0; i < rn; i++)
            ritems[i] = (lks_pq_value){.kind = LKS_PQ_V_INT32, .u.i32 = r * i};
        rrep = (lks_pq_value){.kind = LKS_PQ_V_REPEATED};
        rrep.u.list.n = (size_t)rn;
        rrep.u.list.items = ritems;
        top[3] = rrep;
        lks_pq_value row = {.kind = LKS_PQ_V_GROUP};
        row.u.list.n = 4;
        row.u.list.items = top;
        rc = lks_pq_write_row(w, &row, &err);
    }
    if (rc == LKS_OK)
        rc = lks_pq_writer_close(w, &err);
    lks_pq_writer_free(w);
    lks_pq_schema_free(s);
    if (rc != LKS_OK) {
        fprintf(stderr, "make_nested: %s\n", err.msg);
        lks_buf_free(out);
    }
    return rc;
}

/* ---- rebuilding files ------------------------------------------------------------ */

/* A file split into its parts: body (everything before the footer) and the
 * decoded footer, which a test may change and re-encode. */
typedef struct pqfile {
    const uint8_t *p;
    size_t n;
    size_t body; /* footer offset */
    lks_arena arena;
    lks_pq_file_meta fm;
} pqfile;

static int pqfile_open(pqfile *f, const lks_buf *b) {
    memset(f, 0, sizeof *f);
    f->p = b->ptr;
    f->n = b->len;
    if (f->n < 12)
        return LKS_ECORRUPT;
    uint32_t flen = lks_load_le32(f->p + f->n - 8);
    f->body = f->n - 8 - flen;
    lks_arena_init(&f->arena, 0);
    lks_err err = {0};
    return lks_pq_decode_file_meta(f->p + f->body, flen, &f->arena, &f->fm, &err);
}

static void pqfile_close(pqfile *f) { lks_arena_free(&f->arena); }

/* Writes body + footer (encoded from m) + length + magic into out. */
static int assemble_file(lks_buf *out, const uint8_t *body, size_t nbody, const lks_pq_file_meta *m) {
    lks_buf_reset(out);
    int rc = lks_buf_append(out, body, nbody);
    size_t start = out->len;
    if (!rc)
        rc = lks_pq_encode_file_meta(out, m);
    uint8_t tail[8];
    lks_store_le32(tail, (uint32_t)(out->len - start));
    memcpy(tail + 4, "PAR1", 4);
    if (!rc)
        rc = lks_buf_append(out, tail, 8);
    return rc;
}

/* Wraps raw footer bytes into a minimal file. */
static void wrap_footer(lks_buf *out, const uint8_t *footer, size_t n) {
    lks_buf_reset(out);
    lks_buf_append(out, "PAR1", 4);
    lks_buf_append(out, footer, n);
    uint8_t tail[8];
    lks_store_le32(tail, (uint32_t)n);
    memcpy(tail + 4, "PAR1", 4);
    lks_buf_append(out, tail, 8);
}

/* Shifts every file offset at or past `at` by d, and grows the chunk that
 * holds `at` by d. */
static void shift_offsets(lks_pq_file_meta *m, int64_t at, int64_t d) {
    for (int g = 0; g < m->num_row_groups; g++) {
        lks_pq_row_group *rg = &m->row_groups[g];
        if (rg->file_offset >= at)
            rg->file_offset += d;
        for (int c = 0; c < rg->num_columns; c++) {
            lks_pq_column_chunk *cc = &rg->columns[c];
            lks_pq_column_meta *cm = &cc->meta;
            int64_t start = cm->dictionary_page_offset >= 4 && cm->dictionary_page_offset < cm->data_page_offset
                                ? cm->dictionary_page_offset
                                : cm->data_page_offset;
            if (at >= start && at < start + cm->total_compressed_size) {
                cm->total_compressed_size += d;
                cm->total_uncompressed_size += d;
                if (rg->total_compressed_size >= 0)
                    rg->total_compressed_size += d;
            }
            int64_t *offs[] = {&cc->file_offset, &cm->data_page_offset, &cm->dictionary_page_offset,
                               &cm->index_page_offset, &cm->bloom_filter_offset, &cc->offset_index_offset,
                               &cc->column_index_offset};
            for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
                if (*offs[i] > at)
                    *offs[i] += d;
        }
    }
}

/* A page found by walking a chunk. */
typedef struct pageloc {
    size_t off, hlen; /* header at off, hlen bytes */
    lks_pq_page_header h;
} pageloc;

/* Lists the pages of chunk (g, c); returns how many (up to max). */
static int find_pages(const pqfile *f, int g, int c, pageloc *out, int max) {
    const lks_pq_column_meta *cm = &f->fm.row_groups[g].columns[c].meta;
    int64_t start = cm->dictionary_page_offset >= 4 && cm->dictionary_page_offset < cm->data_page_offset
                        ? cm->dictionary_page_offset
                        : cm->data_page_offset;
    size_t pos = (size_t)start, end = (size_t)(start + cm->total_compressed_size);
    int n = 0;
    while (pos < end && n < max) {
        lks_err err = {0};
        size_t used = 0;
        if (lks_pq_decode_page_header(f->p + pos, end - pos, pos, &out[n].h, &used, &err) != LKS_OK)
            break;
        out[n].off = pos;
        out[n].hlen = used;
        pos += used + (size_t)out[n].h.compressed_size;
        n++;
    }
    return n;
}

/* Replaces the page header at pl with h (re-encoded) and exercises the
 * resulting file, footer offsets adjusted. */
static void run_with_header(pqfile *f, const pageloc *pl, const lks_pq_page_header *h, lks_buf *scratch,
                            lks_buf *out, lks_fuzz_result *res) {
    lks_buf_reset(scratch);
    memset(res, 0, sizeof *res);
    res->open_rc = LKS_EINVAL;
    if (lks_pq_encode_page_header(scratch, h) != LKS_OK) {
        unencodable++; /* a value the encoder refuses to write */
        return;
    }
    int64_t d = (int64_t)scratch->len - (int64_t)pl->hlen;
    lks_buf body;
    lks_buf_init(&body, 0);
    lks_buf_append(&body, f->p, pl->off);
    lks_buf_append(&body, scratch->ptr, scratch->len);
    lks_buf_append(&body, f->p + pl->off + pl->hlen, f->body - pl->off - pl->hlen);
    lks_pq_file_meta m = f->fm; /* shallow: the arrays are shared, so restore below */
    /* copy the row groups and their chunks so shifting does not touch f->fm */
    lks_arena a;
    lks_arena_init(&a, 0);
    m.row_groups = lks_arena_memdup(&a, f->fm.row_groups, sizeof *m.row_groups * (size_t)m.num_row_groups);
    for (int g = 0; g < m.num_row_groups; g++)
        m.row_groups[g].columns = lks_arena_memdup(&a, f->fm.row_groups[g].columns,
                                                   sizeof(lks_pq_column_chunk) * (size_t)m.row_groups[g].num_columns);
    shift_offsets(&m, (int64_t)pl->off, d);
    if (assemble_file(out, body.ptr, body.len, &m) == LKS_OK)
        RUN_FILE(out->ptr, out->len, res);
    else
        FAILF("cannot assemble a file");
    lks_arena_free(&a);
    lks_buf_free(&body);
}

/* ---- the valid files themselves --------------------------------------------------- */

static void t_valid_files(void) {
    static const int codecs[] = {LKS_PQ_UNCOMPRESSED, LKS_PQ_SNAPPY, LKS_PQ_GZIP, LKS_PQ_ZSTD,
                                 LKS_PQ_LZ4_RAW,      LKS_PQ_BROTLI, LKS_PQ_LZ4};
    int made = 0;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        lks_buf b;
        if (make_flat(codecs[i], 1, 1, &b) != LKS_OK)
            continue; /* a codec the writer does not offer */
        made++;
        lks_fuzz_result res;
        RUN_FILE(b.ptr, b.len, &res);
        CHECK_EQ_INT(res.open_rc, LKS_OK);
        CHECK_EQ_INT(res.columns_err, 0);
        CHECK(res.columns_ok >= 7 * 2); /* batches of 100 rows, groups past 120 */
        CHECK_EQ_INT(res.rows_rc, 0);
        CHECK_EQ_INT(res.rows, 300 * 2); /* all columns, then a projection */
        lks_buf_free(&b);
        if (make_nested(codecs[i], &b) != LKS_OK) {
            FAILF("make_nested(%d) failed", codecs[i]);
            continue;
        }
        RUN_FILE(b.ptr, b.len, &res);
        CHECK_EQ_INT(res.open_rc, LKS_OK);
        CHECK_EQ_INT(res.columns_err, 0);
        CHECK_EQ_INT(res.rows_rc, 0);
        CHECK_EQ_INT(res.rows, 80 * 2);
        lks_buf_free(&b);
    }
    CHECK(made >= 4);
}

static void dump(const char *name, const lks_buf *b);

/* ---- a file using the encodings our writer does not produce ------------------------ */

/* DELTA_BINARY_PACKED of n values: blocks of 128 in 4 miniblocks of 32. */
static void dbp_encode(lks_buf *b, const int64_t *v, size_t n, int bits32) {
    uint8_t tmp[16];
#define VARINT(x)                                                                                                      \
    do {                                                                                                               \
        uint64_t x_ = (x);                                                                                             \
        size_t k_ = 0;                                                                                                 \
        while (x_ >= 0x80) {                                                                                           \
            tmp[k_++] = (uint8_t)(x_ | 0x80);                                                                          \
            x_ >>= 7;                                                                                                  \
        }                                                                                                              \
        tmp[k_++] = (uint8_t)x_;                                                                                       \
        lks_buf_append(b, tmp, k_);                                                                                    \
    } while (0)
#define ZIGZAG(x) (((uint64_t)(x) << 1) ^ (uint64_t)((int64_t)(x) >> 63))
    VARINT(128);
    VARINT(4);
    VARINT(n);
    VARINT(ZIGZAG(n ? v[0] : 0));
    for (size_t i = 1; i < n; i += 128) {
        size_t k = n - i < 128 ? n - i : 128;
        uint64_t d[128];
        int64_t mind = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            int64_t dj = (int64_t)((uint64_t)v[i + j] - (uint64_t)v[i + j - 1]);
            if (bits32) /* INT32 columns: deltas wrap around in 32 bits */
                dj = (int32_t)(uint32_t)dj;
            d[j] = (uint64_t)dj;
            if (dj < mind)
                mind = dj;
        }
        for (size_t j = 0; j < 128; j++)
            d[j] = j < k ? (bits32 ? (uint32_t)(d[j] - (uint64_t)mind) : d[j] - (uint64_t)mind) : 0;
        VARINT(ZIGZAG(mind));
        uint8_t widths[4];
        for (int m = 0; m < 4; m++) {
            uint64_t mx = 0;
            for (int j = 0; j < 32; j++)
                mx |= d[m * 32 + j];
            widths[m] = (uint8_t)lks_pq_bit_width(mx);
        }
        lks_buf_append(b, widths, 4);
        for (int m = 0; m < 4 && (size_t)m * 32 < k; m++) {
            /* 32 values of widths[m] bits, LSB first */
            uint8_t packed[32 * 8];
            memset(packed, 0, sizeof packed);
            for (int j = 0; j < 32; j++)
                for (int bit = 0; bit < widths[m]; bit++)
                    if ((d[m * 32 + j] >> bit) & 1) {
                        size_t pos = (size_t)j * widths[m] + (size_t)bit;
                        packed[pos / 8] |= (uint8_t)(1u << (pos % 8));
                    }
            lks_buf_append(b, packed, (size_t)widths[m] * 4);
        }
    }
#undef VARINT
#undef ZIGZAG
}

static void dlba_encode(lks_buf *b, const lks_slice *v, size_t n) {
    int64_t lens[512] = {0};
    for (size_t i = 0; i < n; i++)
        lens[i] = (int64_t)v[i].len;
    dbp_encode(b, lens, n, 1);
    for (size_t i = 0; i < n; i++)
        lks_buf_append(b, v[i].ptr, v[i].len);
}

static void dba_encode(lks_buf *b, const lks_slice *v, size_t n) {
    int64_t pre[512] = {0};
    lks_slice suf[512] = {{0}};
    for (size_t i = 0; i < n; i++) {
        size_t p = 0;
        while (i > 0 && p < v[i].len && p < v[i - 1].len && v[i].ptr[p] == v[i - 1].ptr[p])
            p++;
        pre[i] = (int64_t)p;
        suf[i] = (lks_slice){v[i].ptr + p, v[i].len - p};
    }
    dbp_encode(b, pre, n, 1);
    dlba_encode(b, suf, n);
}

static void bss_encode(lks_buf *b, const uint8_t *v, size_t n, size_t width) {
    for (size_t k = 0; k < width; k++)
        for (size_t i = 0; i < n; i++)
            lks_buf_append_byte(b, v[i * width + k]);
}

enum { ENC_ROWS = 200, ENC_COLS = 8 };

/* Appends one uncompressed page (header + body) to file, returning its offset. */
static size_t put_page(lks_buf *file, lks_pq_page_header *h, const lks_buf *body) {
    size_t off = file->len;
    h->compressed_size = h->uncompressed_size = (int32_t)body->len;
    lks_pq_encode_page_header(file, h);
    lks_buf_append(file, body->ptr, body->len);
    return off;
}

/* A file of ENC_ROWS rows in one row group (uncompressed), one column per
 * encoding: DELTA_BINARY_PACKED (int32 in a v1 page, optional int64 in a v2
 * page), DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY (v2, with nulls),
 * BYTE_STREAM_SPLIT (float and FIXED_LEN_BYTE_ARRAY(4)), RLE booleans and a
 * repeated int32 in a v2 page with repetition levels. */
static int make_encodings(lks_buf *file) {
    static lks_pq_schema_elem els[ENC_COLS + 1];
    static const char *const names[ENC_COLS] = {"dbp32", "dbp64", "dlba", "dba", "bss_f", "bss_flba", "rle_b", "rep"};
    static const int types[ENC_COLS] = {LKS_PQ_INT32, LKS_PQ_INT64, LKS_PQ_BYTE_ARRAY, LKS_PQ_BYTE_ARRAY,
                                        LKS_PQ_FLOAT, LKS_PQ_FIXED_LEN_BYTE_ARRAY, LKS_PQ_BOOLEAN, LKS_PQ_INT32};
    static const int reps[ENC_COLS] = {LKS_PQ_REQUIRED, LKS_PQ_OPTIONAL, LKS_PQ_REQUIRED, LKS_PQ_OPTIONAL,
                                       LKS_PQ_REQUIRED, LKS_PQ_REQUIRED, LKS_PQ_REQUIRED, LKS_PQ_REPEATED};
    static const int encs[ENC_COLS] = {LKS_PQ_ENC_DELTA_BINARY_PACKED, LKS_PQ_ENC_DELTA_BINARY_PACKED,
                                       LKS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, LKS_PQ_ENC_DELTA_BYTE_ARRAY,
                                       LKS_PQ_ENC_BYTE_STREAM_SPLIT, LKS_PQ_ENC_BYTE_STREAM_SPLIT,
                                       LKS_PQ_ENC_RLE, LKS_PQ_ENC_PLAIN};
    static const char *const words[] = {"apple", "applesauce", "apply", "banana", "band", "", "bandana", "€"};
    static lks_pq_column_chunk cols[ENC_COLS];
    static int32_t enc_lists[ENC_COLS][2];
    static const char *paths[ENC_COLS][1];
    static lks_pq_row_group rg;
    lks_pq_file_meta m;
    memset(&m, 0, sizeof m);
    memset(els, 0, sizeof els);
    memset(cols, 0, sizeof cols);
    els[0] = (lks_pq_schema_elem){.name = "schema", .type = -1, .repetition = -1, .num_children = ENC_COLS,
                                  .converted_type = -1};
    for (int c = 0; c < ENC_COLS; c++) {
        els[c + 1] = (lks_pq_schema_elem){.name = names[c], .type = types[c], .repetition = reps[c],
                                          .converted_type = -1};
        if (types[c] == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
            els[c + 1].type_length = 4;
        if (types[c] == LKS_PQ_BYTE_ARRAY)
            els[c + 1].logical = lks_pq_lt(LKS_PQ_LT_STRING);
    }
    lks_buf_init(file, 0);
    lks_buf_append(file, "PAR1", 4);
    lks_buf body, lv;
    lks_buf_init(&body, 0);
    lks_buf_init(&lv, 0);
    enum { N = ENC_ROWS };
    for (int c = 0; c < ENC_COLS; c++) {
        lks_buf_reset(&body);
        lks_buf_reset(&lv);
        lks_pq_page_header h;
        memset(&h, 0, sizeof h);
        h.encoding = encs[c];
        h.def_encoding = h.rep_encoding = LKS_PQ_ENC_RLE;
        h.is_compressed = 0;
        int64_t nv = N;
        switch (c) {
        case 0: { /* v1, required: values only */
            int64_t v[N];
            for (int i = 0; i < N; i++)
                v[i] = (int32_t)((uint32_t)i * 2654435761u) >> (i % 20);
            dbp_encode(&body, v, N, 1);
            h.type = LKS_PQ_DATA_PAGE;
            break;
        }
        case 1:   /* v2, optional: def levels (no length prefix), values */
        case 3: { /* v2 optional byte arrays */
            uint16_t def[N];
            int64_t v[N];
            lks_slice sv[N];
            size_t k = 0;
            for (int i = 0; i < N; i++) {
                def[i] = i % 9 != 4;
                if (def[i]) {
                    v[k] = (int64_t)((uint64_t)i * 0x9E3779B97F4A7C15ULL);
                    sv[k] = (lks_slice){(const uint8_t *)words[i % 8], strlen(words[i % 8])};
                    k++;
                }
            }
            lks_pq_rle_encode_u16(&lv, def, N, 1);
            if (c == 1)
                dbp_encode(&body, v, k, 0);
            else
                dba_encode(&body, sv, k);
            h.type = LKS_PQ_DATA_PAGE_V2;
            h.num_nulls = (int32_t)(N - k);
            h.num_rows = N;
            h.def_levels_len = (int32_t)lv.len;
            break;
        }
        case 2: {
            lks_slice sv[N];
            for (int i = 0; i < N; i++)
                sv[i] = (lks_slice){(const uint8_t *)words[(i * 3) % 8], strlen(words[(i * 3) % 8])};
            dlba_encode(&body, sv, N);
            h.type = LKS_PQ_DATA_PAGE;
            break;
        }
        case 4:
        case 5: {
            uint8_t raw[N * 4];
            for (int i = 0; i < N; i++) {
                float f = (float)i * 0.5f - 7.25f;
                memcpy(raw + i * 4, &f, 4);
            }
            bss_encode(&body, raw, N, 4);
            h.type = LKS_PQ_DATA_PAGE;
            break;
        }
        case 6: {
            uint16_t bits[N];
            for (int i = 0; i < N; i++)
                bits[i] = (i / 3) % 2;
            lks_pq_rle_encode_u16(&lv, bits, N, 1);
            uint8_t len4[4];
            lks_store_le32(len4, (uint32_t)lv.len);
            lks_buf_append(&body, len4, 4);
            lks_buf_append(&body, lv.ptr, lv.len);
            lks_buf_reset(&lv);
            h.type = LKS_PQ_DATA_PAGE;
            break;
        }
        default: { /* repeated: row i holds i % 3 items */
            uint16_t rep[3 * N], def[3 * N];
            int32_t v[3 * N];
            size_t e = 0, k = 0;
            for (int i = 0; i < N; i++) {
                int items = i % 3;
                if (items == 0) {
                    rep[e] = 0, def[e] = 0, e++;
                    continue;
                }
                for (int j = 0; j < items; j++) {
                    rep[e] = j > 0, def[e] = 1, e++;
                    v[k++] = i * 10 + j;
                }
            }
            lks_pq_rle_encode_u16(&lv, rep, e, 1);
            h.rep_levels_len = (int32_t)lv.len;
            lks_pq_rle_encode_u16(&lv, def, e, 1);
            h.def_levels_len = (int32_t)lv.len - h.rep_levels_len;
            lks_pq_plain_encode_fixed(&body, v, k, 4);
            h.type = LKS_PQ_DATA_PAGE_V2;
            h.num_nulls = (int32_t)(e - k);
            h.num_rows = N;
            nv = (int64_t)e;
            break;
        }
        }
        h.num_values = (int32_t)nv;
        /* levels go first in the page body */
        lks_buf page;
        lks_buf_init(&page, 0);
        lks_buf_append(&page, lv.ptr, lv.len);
        lks_buf_append(&page, body.ptr, body.len);
        size_t off = put_page(file, &h, &page);
        lks_buf_free(&page);
        lks_pq_column_chunk *cc = &cols[c];
        enc_lists[c][0] = encs[c];
        enc_lists[c][1] = LKS_PQ_ENC_RLE;
        paths[c][0] = names[c];
        cc->file_offset = (int64_t)off;
        cc->has_meta = 1;
        cc->offset_index_offset = cc->column_index_offset = -1;
        cc->offset_index_length = cc->column_index_length = -1;
        cc->meta = (lks_pq_column_meta){.type = types[c], .encodings = enc_lists[c], .num_encodings = 2,
                                        .path = paths[c], .path_len = 1, .codec = LKS_PQ_UNCOMPRESSED,
                                        .num_values = nv, .data_page_offset = (int64_t)off,
                                        .index_page_offset = -1, .dictionary_page_offset = -1,
                                        .bloom_filter_offset = -1, .bloom_filter_length = -1};
        cc->meta.total_compressed_size = cc->meta.total_uncompressed_size = (int64_t)(file->len - off);
    }
    lks_buf_free(&body);
    lks_buf_free(&lv);
    rg = (lks_pq_row_group){.columns = cols, .num_columns = ENC_COLS, .total_byte_size = (int64_t)file->len - 4,
                            .num_rows = N, .file_offset = -1, .total_compressed_size = -1, .ordinal = -1};
    m.version = 2;
    m.schema = els;
    m.num_schema = ENC_COLS + 1;
    m.num_rows = N;
    m.row_groups = &rg;
    m.num_row_groups = 1;
    m.created_by = "test_parquet_hostile";
    size_t start = file->len;
    int rc = lks_pq_encode_file_meta(file, &m);
    uint8_t tail[8];
    lks_store_le32(tail, (uint32_t)(file->len - start));
    memcpy(tail + 4, "PAR1", 4);
    if (rc == LKS_OK)
        rc = lks_buf_append(file, tail, 8);
    return rc;
}

static void t_other_encodings(void) {
    lks_buf b;
    REQUIRE(make_encodings(&b) == LKS_OK);
    dump("encodings_v2.parquet", &b);
    /* read back exactly */
    lks_pq_source src;
    lks_pq_source_mem(&src, b.ptr, b.len, "encodings");
    lks_pq_reader *r = NULL;
    lks_err err = {0};
    CHECK_OK(lks_pq_reader_open(&src, NULL, &r, &err), &err);
    REQUIRE(r);
    lks_pq_colbatch cb;
    lks_pq_colbatch_init(&cb);
    for (int c = 0; c < ENC_COLS; c++) {
        lks_err_clear(&err);
        CHECK_OK(lks_pq_read_column(r, 0, c, &cb, &err), &err);
        if (c == 0 && cb.nvals == ENC_ROWS) {
            const int32_t *v = cb.values;
            for (int i = 0; i < ENC_ROWS; i++)
                CHECK_EQ_INT(v[i], (int32_t)((uint32_t)i * 2654435761u) >> (i % 20));
        }
        if (c == 3 && cb.nvals > 3) {
            const lks_slice *v = cb.values;
            CHECK(v[1].len == 10 && memcmp(v[1].ptr, "applesauce", 10) == 0);
        }
        if (c == 5 && cb.nvals == ENC_ROWS) {
            const lks_slice *v = cb.values;
            float f;
            memcpy(&f, v[3].ptr, 4);
            CHECK(f == 3 * 0.5f - 7.25f);
        }
    }
    lks_pq_colbatch_free(&cb);
    lks_pq_reader_free(r);
    lks_fuzz_result res;
    RUN_FILE(b.ptr, b.len, &res);
    CHECK_EQ_INT(res.open_rc, LKS_OK);
    CHECK_EQ_INT(res.columns_err, 0);
    CHECK_EQ_INT(res.rows_rc, 0);
    CHECK_EQ_INT(res.rows, ENC_ROWS * 2);
    /* and damaged: every truncation of the page area keeping the footer, flips */
    lks_buf m;
    lks_buf_init(&m, 0);
    size_t flen = lks_load_le32(b.ptr + b.len - 8), body = b.len - 8 - flen;
    for (int k = 0; k < 6000; k++) {
        lks_buf_reset(&m);
        lks_buf_append(&m, b.ptr, b.len);
        int nflips = 1 + (int)pick(3);
        for (int j = 0; j < nflips; j++) {
            size_t at = 4 + pick(body - 4);
            if (pick(2))
                m.ptr[at] ^= (uint8_t)(1u << pick(8));
            else
                m.ptr[at] = (uint8_t)next_rand();
        }
        RUN_FILE(m.ptr, m.len, &res);
        CHECK_EQ_INT(res.open_rc, LKS_OK);
    }
    lks_buf_free(&m);
    lks_buf_free(&b);
}

/* DELTA_BYTE_ARRAY values may share prefixes with earlier ones: n values of
 * lengths 1, 2, 3... cost a few bytes each yet decode to n^2/2 bytes.  A
 * small page must not make the reader allocate gigabytes. */
static int make_dba_bomb(int N, lks_buf *file_out) {
    int64_t *pre = malloc(sizeof *pre * (size_t)N);
    if (!pre)
        return LKS_ENOMEM;
    lks_buf page, file;
    lks_buf_init(&page, 0);
    lks_buf_init(&file, 0);
    for (int i = 0; i < N; i++)
        pre[i] = i; /* value i: the previous one (length i) plus one byte */
    dbp_encode(&page, pre, N, 1);
    for (int i = 0; i < N; i++)
        pre[i] = 1;
    dbp_encode(&page, pre, N, 1);
    for (int i = 0; i < N; i++)
        lks_buf_append_byte(&page, (uint8_t)('a' + i % 26));
    lks_pq_schema_elem els[2] = {
        {.name = "schema", .type = -1, .repetition = -1, .num_children = 1, .converted_type = -1},
        {.name = "s", .type = LKS_PQ_BYTE_ARRAY, .repetition = LKS_PQ_REQUIRED, .converted_type = -1}};
    lks_buf_append(&file, "PAR1", 4);
    lks_pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = LKS_PQ_DATA_PAGE;
    h.num_values = N;
    h.encoding = LKS_PQ_ENC_DELTA_BYTE_ARRAY;
    h.def_encoding = h.rep_encoding = LKS_PQ_ENC_RLE;
    size_t off = put_page(&file, &h, &page);
    int32_t encs[1] = {LKS_PQ_ENC_DELTA_BYTE_ARRAY};
    const char *path[1] = {"s"};
    lks_pq_column_chunk cc = {.file_offset = (int64_t)off, .has_meta = 1, .offset_index_offset = -1,
                              .column_index_offset = -1, .offset_index_length = -1, .column_index_length = -1};
    cc.meta = (lks_pq_column_meta){.type = LKS_PQ_BYTE_ARRAY, .encodings = encs, .num_encodings = 1, .path = path,
                                   .path_len = 1, .num_values = N, .data_page_offset = (int64_t)off,
                                   .index_page_offset = -1, .dictionary_page_offset = -1,
                                   .bloom_filter_offset = -1, .bloom_filter_length = -1};
    cc.meta.total_compressed_size = cc.meta.total_uncompressed_size = (int64_t)(file.len - off);
    lks_pq_row_group rg = {.columns = &cc, .num_columns = 1, .num_rows = N, .file_offset = -1,
                           .total_compressed_size = -1, .ordinal = -1};
    lks_pq_file_meta m = {.version = 2, .schema = els, .num_schema = 2, .num_rows = N, .row_groups = &rg,
                          .num_row_groups = 1};
    lks_buf body;
    lks_buf_init(&body, 0);
    lks_buf_append(&body, file.ptr, file.len);
    int rc = assemble_file(&file, body.ptr, body.len, &m);
    lks_buf_free(&body);
    lks_buf_free(&page);
    free(pre);
    *file_out = file;
    return rc;
}

static void dump(const char *name, const lks_buf *b) {
    const char *dir = getenv("LKS_HOSTILE_DUMP_DIR"); /* writes files out, e.g. as fuzzer seeds */
    if (!dir || !*dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(b->ptr, 1, b->len, fp);
        fclose(fp);
    }
}

static void t_delta_byte_array_bomb(void) {
    lks_buf file;
    REQUIRE(make_dba_bomb(90000, &file) == LKS_OK); /* 4.05e9 bytes decoded */
    CHECK(file.len < 200000);
    /* with the default limits (256 MiB pages) */
    lks_pq_source src;
    lks_pq_source_mem(&src, file.ptr, file.len, "dba-bomb");
    lks_pq_reader *r = NULL;
    lks_err err = {0};
    CHECK_OK(lks_pq_reader_open(&src, NULL, &r, &err), &err);
    if (r) {
        lks_pq_colbatch cb;
        lks_pq_colbatch_init(&cb);
        int rc = lks_pq_read_column(r, 0, 0, &cb, &err);
        CHECK(rc == LKS_ELIMIT || rc == LKS_ECORRUPT);
        /* nothing near the claimed size was kept */
        CHECK(cb.data_buf.cap < ((size_t)512 << 20));
        lks_pq_colbatch_free(&cb);
        lks_pq_reader_free(r);
    }
    lks_fuzz_result res;
    RUN_FILE(file.ptr, file.len, &res);
    CHECK_EQ_INT(res.columns_err, 1);
    lks_buf_free(&file);
    REQUIRE(make_dba_bomb(40000, &file) == LKS_OK); /* 800 MB decoded: past the fuzzer's malloc limit */
    dump("dba_prefix_bomb.parquet", &file);
    lks_buf_free(&file);
}

/* ---- truncation ---------------------------------------------------------------- */

static void t_truncate_every_length(void) {
    lks_buf files[3];
    REQUIRE(make_flat(LKS_PQ_SNAPPY, 1, 1, &files[0]) == LKS_OK);
    REQUIRE(make_nested(LKS_PQ_ZSTD, &files[1]) == LKS_OK);
    REQUIRE(make_flat(LKS_PQ_UNCOMPRESSED, 0, 0, &files[2]) == LKS_OK);
    lks_buf cut;
    lks_buf_init(&cut, 0);
    for (int i = 0; i < 3; i++) {
        const lks_buf *b = &files[i];
        lks_fuzz_result res;
        for (size_t len = 0; len < b->len; len++) {
            /* a plain prefix */
            RUN_FILE(b->ptr, len, &res);
            CHECK(res.open_rc != LKS_OK);
            /* the prefix with the original tail: footer length and magic kept */
            lks_buf_reset(&cut);
            lks_buf_append(&cut, b->ptr, len);
            lks_buf_append(&cut, b->ptr + b->len - 8, 8);
            RUN_FILE(cut.ptr, cut.len, &res);
            /* the file with bytes [len, len + 9) removed */
            if (len + 9 < b->len) {
                lks_buf_reset(&cut);
                lks_buf_append(&cut, b->ptr, len);
                lks_buf_append(&cut, b->ptr + len + 9, b->len - len - 9);
                RUN_FILE(cut.ptr, cut.len, &res);
            }
        }
    }
    /* the footer alone cut at every length, its length field fixed up */
    pqfile f;
    REQUIRE(pqfile_open(&f, &files[1]) == LKS_OK);
    size_t flen = f.n - 8 - f.body;
    for (size_t k = 0; k < flen; k++) {
        lks_buf_reset(&cut);
        lks_buf_append(&cut, f.p, f.body + k);
        uint8_t tail[8];
        lks_store_le32(tail, (uint32_t)k);
        memcpy(tail + 4, "PAR1", 4);
        lks_buf_append(&cut, tail, 8);
        lks_fuzz_result res;
        RUN_FILE(cut.ptr, cut.len, &res);
        CHECK(res.open_rc != LKS_OK);
    }
    pqfile_close(&f);
    lks_buf_free(&cut);
    for (int i = 0; i < 3; i++)
        lks_buf_free(&files[i]);
}

/* ---- random damage --------------------------------------------------------------------- */

static void t_byte_flips(void) {
    lks_buf files[4];
    REQUIRE(make_flat(LKS_PQ_UNCOMPRESSED, 1, 1, &files[0]) == LKS_OK);
    REQUIRE(make_flat(LKS_PQ_SNAPPY, 1, 0, &files[1]) == LKS_OK);
    REQUIRE(make_nested(LKS_PQ_UNCOMPRESSED, &files[2]) == LKS_OK);
    REQUIRE(make_nested(LKS_PQ_GZIP, &files[3]) == LKS_OK);
    static const uint8_t interesting[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x15, 0x19, 0x1c, 0x0c, 0x3c};
    lks_buf m;
    lks_buf_init(&m, 0);
    long opened = 0, rows = 0;
    for (int i = 0; i < 4; i++) {
        const lks_buf *b = &files[i];
        for (int k = 0; k < 2500; k++) {
            lks_buf_reset(&m);
            lks_buf_append(&m, b->ptr, b->len);
            int nflips = 1 + (int)pick(4);
            /* half the mutations aim at the footer, where one byte changes the most */
            size_t flen = lks_load_le32(b->ptr + b->len - 8);
            for (int j = 0; j < nflips; j++) {
                size_t at = pick(2) ? pick(m.len) : m.len - 8 - flen + pick(flen);
                switch (pick(3)) {
                case 0: m.ptr[at] ^= (uint8_t)(1u << pick(8)); break;
                case 1: m.ptr[at] = interesting[pick(sizeof interesting)]; break;
                default: m.ptr[at] = (uint8_t)next_rand(); break;
                }
            }
            lks_fuzz_result res;
            RUN_FILE(m.ptr, m.len, &res);
            opened += res.open_rc == LKS_OK;
            rows += res.rows;
        }
    }
    /* the mutations must reach past the footer into pages and rows */
    CHECK(opened > 1000);
    CHECK(rows > 10000);
    lks_buf_free(&m);
    for (int i = 0; i < 4; i++)
        lks_buf_free(&files[i]);
}

/* ---- footer length ---------------------------------------------------------------- */

static void t_footer_length(void) {
    lks_buf b, m;
    REQUIRE(make_flat(LKS_PQ_SNAPPY, 1, 1, &b) == LKS_OK);
    lks_buf_init(&m, 0);
    uint32_t flen = lks_load_le32(b.ptr + b.len - 8);
    const uint32_t vals[] = {0, 1, 2, flen - 1, flen + 1, flen + 4, (uint32_t)b.len - 12, (uint32_t)b.len - 11,
                             (uint32_t)b.len - 8, (uint32_t)b.len, (uint32_t)b.len + 1, 1u << 20, (1u << 20) + 1,
                             0x7fffffff, 0x80000000, 0xffffffff};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        lks_buf_reset(&m);
        lks_buf_append(&m, b.ptr, b.len);
        lks_store_le32(m.ptr + m.len - 8, vals[i]);
        lks_fuzz_result res;
        RUN_FILE(m.ptr, m.len, &res);
        CHECK(res.open_rc == LKS_ECORRUPT || res.open_rc == LKS_ELIMIT);
    }
    /* magic damaged at either end; the encrypted-footer magic */
    const char *tails[] = {"PAR0", "par1", "PARE"};
    for (int i = 0; i < 3; i++) {
        lks_buf_reset(&m);
        lks_buf_append(&m, b.ptr, b.len);
        memcpy(m.ptr + m.len - 4, tails[i], 4);
        lks_fuzz_result res;
        RUN_FILE(m.ptr, m.len, &res);
        CHECK_EQ_INT(res.open_rc, i == 2 ? LKS_EUNSUPPORTED : LKS_ECORRUPT);
        lks_buf_reset(&m);
        lks_buf_append(&m, b.ptr, b.len);
        memcpy(m.ptr, tails[i], 4);
        RUN_FILE(m.ptr, m.len, &res);
        CHECK_EQ_INT(res.open_rc, LKS_ECORRUPT);
    }
    /* a footer longer than the limit of exercise.h (1 MiB): refused before it is read */
    lks_buf big;
    lks_buf_init(&big, 0);
    lks_buf_append(&big, "PAR1", 4);
    REQUIRE(lks_buf_reserve(&big, (2u << 20) + 16) == LKS_OK);
    memset(big.ptr + 4, 0, 2u << 20);
    big.len += 2u << 20;
    uint8_t tail[8];
    lks_store_le32(tail, (2u << 20) - 8);
    memcpy(tail + 4, "PAR1", 4);
    lks_buf_append(&big, tail, 8);
    lks_fuzz_result res;
    RUN_FILE(big.ptr, big.len, &res);
    CHECK_EQ_INT(res.open_rc, LKS_ELIMIT);
    lks_buf_free(&big);
    lks_buf_free(&m);
    lks_buf_free(&b);
}

/* ---- page headers ---------------------------------------------------------------- */

enum { F_COMP, F_UNCOMP, F_NVALS, F_ENC, F_TYPE, F_DEFENC, F_REPENC, F_NFIELDS };

static void mutate_headers(const lks_buf *file, int *errors_seen) {
    pqfile f;
    if (pqfile_open(&f, file) != LKS_OK) {
        FAILF("cannot decode our own footer");
        return;
    }
    lks_buf scratch, out;
    lks_buf_init(&scratch, 0);
    lks_buf_init(&out, 0);
    for (int g = 0; g < f.fm.num_row_groups; g++) {
        for (int c = 0; c < f.fm.row_groups[g].num_columns; c++) {
            pageloc pages[64];
            int np = find_pages(&f, g, c, pages, 64);
            if (np == 0)
                FAILF("no pages found in row group %d column %d", g, c);
            for (int pi = 0; pi < np; pi++) {
                const lks_pq_page_header *h0 = &pages[pi].h;
                for (int fld = 0; fld < F_NFIELDS; fld++) {
                    int32_t vals[16];
                    int nv = 0;
                    switch (fld) {
                    case F_COMP:
                    case F_UNCOMP: {
                        int32_t v = fld == F_COMP ? h0->compressed_size : h0->uncompressed_size;
                        int32_t set[] = {-1, 0, 1, v - 1, v + 1, v * 2, 16 << 20, (16 << 20) + 1, INT32_MAX, INT32_MIN};
                        memcpy(vals, set, sizeof set);
                        nv = 10;
                        break;
                    }
                    case F_NVALS: {
                        int32_t v = h0->num_values;
                        int32_t set[] = {-1, 0, 1, v - 1, v + 1, v * 3, 1 << 20, (1 << 20) + 1, INT32_MAX, INT32_MIN};
                        memcpy(vals, set, sizeof set);
                        nv = 10;
                        break;
                    }
                    case F_ENC:
                        for (int e = 0; e <= 10; e++)
                            vals[nv++] = e;
                        vals[nv++] = -1;
                        vals[nv++] = 99;
                        break;
                    case F_TYPE: {
                        int32_t set[] = {0, 1, 2, 3, 7, -1};
                        memcpy(vals, set, sizeof set);
                        nv = 6;
                        break;
                    }
                    default: {
                        int32_t set[] = {LKS_PQ_ENC_PLAIN, LKS_PQ_ENC_RLE, LKS_PQ_ENC_BIT_PACKED, 99};
                        memcpy(vals, set, sizeof set);
                        nv = 4;
                        break;
                    }
                    }
                    for (int vi = 0; vi < nv; vi++) {
                        lks_pq_page_header h = *h0;
                        switch (fld) {
                        case F_COMP: h.compressed_size = vals[vi]; break;
                        case F_UNCOMP: h.uncompressed_size = vals[vi]; break;
                        case F_NVALS: h.num_values = vals[vi]; break;
                        case F_ENC: h.encoding = vals[vi]; break;
                        case F_TYPE:
                            h.type = vals[vi];
                            /* a v2 page needs its own fields: claim levels the body does not have */
                            h.num_rows = h.num_values;
                            h.num_nulls = 0;
                            h.def_levels_len = 3;
                            h.rep_levels_len = 0;
                            h.is_compressed = 1;
                            break;
                        case F_DEFENC: h.def_encoding = vals[vi]; break;
                        default: h.rep_encoding = vals[vi]; break;
                        }
                        lks_fuzz_result res;
                        run_with_header(&f, &pages[pi], &h, &scratch, &out, &res);
                        if (res.open_rc != LKS_OK && res.open_rc != LKS_EINVAL)
                            FAILF("a page header change broke the footer");
                        *errors_seen += res.columns_err > 0;
                    }
                }
            }
        }
    }
    lks_buf_free(&scratch);
    lks_buf_free(&out);
    pqfile_close(&f);
}

static void t_page_headers(void) {
    lks_buf b;
    int errors = 0;
    REQUIRE(make_flat(LKS_PQ_UNCOMPRESSED, 1, 0, &b) == LKS_OK);
    mutate_headers(&b, &errors);
    lks_buf_free(&b);
    REQUIRE(make_nested(LKS_PQ_SNAPPY, &b) == LKS_OK);
    mutate_headers(&b, &errors);
    lks_buf_free(&b);
    CHECK(errors > 1000);
}

/* ---- chunk, row group and schema metadata --------------------------------------------- */

static void t_footer_fields(void) {
    lks_buf b, out;
    REQUIRE(make_flat(LKS_PQ_SNAPPY, 1, 1, &b) == LKS_OK);
    lks_buf_init(&out, 0);
    pqfile f;
    REQUIRE(pqfile_open(&f, &b) == LKS_OK);
    lks_pq_file_meta *m = &f.fm;
    int64_t size = (int64_t)b.len;
    const int64_t v64[] = {-1, 0, 1, 3, 4, size - 9, size - 8, size, size + 1, (1 << 20) + 1, INT32_MAX,
                           INT64_MAX, INT64_MIN};
    const int nv = (int)(sizeof v64 / sizeof v64[0]);
    lks_fuzz_result res;
#define TRY(lvalue, val)                                                                                               \
    do {                                                                                                               \
        __typeof__(lvalue) saved_ = (lvalue);                                                                          \
        (lvalue) = (val);                                                                                              \
        if (assemble_file(&out, f.p, f.body, m) == LKS_OK)                                                             \
            RUN_FILE(out.ptr, out.len, &res);                                                                          \
        else                                                                                                           \
            unencodable++; /* a value the encoder refuses to write */                                                  \
        (lvalue) = saved_;                                                                                             \
    } while (0)
    for (int g = 0; g < m->num_row_groups; g++) {
        lks_pq_row_group *rg = &m->row_groups[g];
        for (int i = 0; i < nv; i++)
            TRY(rg->num_rows, v64[i]);
        TRY(rg->num_columns, rg->num_columns - 1);
        for (int c = 0; c < rg->num_columns; c++) {
            lks_pq_column_meta *cm = &rg->columns[c].meta;
            for (int i = 0; i < nv; i++) {
                TRY(cm->num_values, v64[i]);
                TRY(cm->total_compressed_size, v64[i]);
                TRY(cm->data_page_offset, v64[i]);
                TRY(cm->dictionary_page_offset, v64[i]);
                TRY(cm->bloom_filter_offset, v64[i]);
            }
            /* offsets pointing at other structures of the file */
            TRY(cm->data_page_offset, cm->dictionary_page_offset);
            TRY(cm->dictionary_page_offset, cm->data_page_offset);
            TRY(cm->bloom_filter_offset, cm->data_page_offset);
            TRY(cm->data_page_offset, (int64_t)f.body);
            TRY(cm->dictionary_page_offset, m->row_groups[(g + 1) % m->num_row_groups].columns[c].meta.data_page_offset);
            for (int codec = -1; codec <= 8; codec++)
                TRY(cm->codec, codec);
            for (int t = 0; t <= 7; t++)
                TRY(cm->type, t);
            TRY(rg->columns[c].has_meta, 0);
            TRY(rg->columns[c].encrypted, 1);
            TRY(rg->columns[c].file_path, "elsewhere.parquet");
            if (cm->has_stats) {
                lks_slice sv[] = {{(const uint8_t *)"", 0}, {(const uint8_t *)"abc", 3},
                                  {(const uint8_t *)"0123456789abcdef0123", 20}};
                for (int i = 0; i < 3; i++) {
                    TRY(cm->stats.min_value, sv[i]);
                    TRY(cm->stats.max_value, sv[i]);
                    TRY(cm->stats.min, sv[i]);
                }
                TRY(cm->stats.has, 0xff);
                TRY(cm->stats.null_count, -5);
            }
        }
    }
    for (int o = 0; o < m->num_column_orders; o++)
        TRY(m->column_orders[o], 1);
    TRY(m->num_rows, INT64_MAX);
    TRY(m->num_row_groups, 0);
    /* schema elements */
    for (int e = 0; e < m->num_schema; e++) {
        lks_pq_schema_elem *el = &m->schema[e];
        const int32_t v32[] = {-1, 0, 1, 2, 7, 100, INT32_MAX, INT32_MIN};
        for (int i = 0; i < 8; i++) {
            TRY(el->type, v32[i]);
            TRY(el->type_length, v32[i]);
            TRY(el->repetition, v32[i]);
            TRY(el->num_children, v32[i]);
            TRY(el->converted_type, v32[i]);
            TRY(el->scale, v32[i]);
            TRY(el->precision, v32[i]);
        }
        for (int k = 0; k <= 20; k++)
            TRY(el->logical.kind, k);
        lks_pq_logical lts[] = {lks_pq_lt_decimal(1000, 3), lks_pq_lt_decimal(5, 9), lks_pq_lt_decimal(-1, -1),
                                lks_pq_lt_decimal(38, 38), lks_pq_lt_timestamp(0, 1), lks_pq_lt_timestamp(99, 0),
                                lks_pq_lt_timestamp(LKS_PQ_UNIT_NANOS, 1), lks_pq_lt(LKS_PQ_LT_FLOAT16),
                                lks_pq_lt(LKS_PQ_LT_UUID), lks_pq_lt(99)};
        for (size_t i = 0; i < sizeof lts / sizeof lts[0]; i++)
            TRY(el->logical, lts[i]);
        lks_pq_logical in = lks_pq_lt(LKS_PQ_LT_INTEGER);
        const int widths[] = {0, 1, 8, 16, 32, 64, 128};
        for (int i = 0; i < 7; i++) {
            in.bit_width = (uint8_t)widths[i];
            in.is_signed = (uint8_t)(i & 1);
            TRY(el->logical, in);
        }
        TRY(el->name, "");
        TRY(el->name, "a.b");
    }
    TRY(m->num_schema, m->num_schema - 1);
    TRY(m->num_schema, 1);
#undef TRY
    pqfile_close(&f);
    lks_buf_free(&out);
    lks_buf_free(&b);
}

/* A FIXED_LEN_BYTE_ARRAY(600) DECIMAL(1400, 1200) is legal Parquet but has a
 * scale past what we print: its statistics must be refused as unsupported,
 * not treated as a caller bug (fuzz_parquet found this one). */
static void t_wide_decimal_stats(void) {
    lks_buf b, out;
    REQUIRE(make_flat(LKS_PQ_SNAPPY, 0, 0, &b) == LKS_OK);
    lks_buf_init(&out, 0);
    pqfile f;
    REQUIRE(pqfile_open(&f, &b) == LKS_OK);
    lks_pq_file_meta *m = &f.fm;
    int el = -1, col = 0;
    for (int e = 1; e < m->num_schema; e++)
        if (m->schema[e].type == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
            el = e, col = e - 1;
    REQUIRE(el > 0);
    static uint8_t zeros[600], ones[600];
    memset(ones, 0x7f, 1), memset(ones + 1, 0xff, sizeof ones - 1);
    m->schema[el].type_length = 600;
    m->schema[el].logical = lks_pq_lt_decimal(1400, 1200);
    m->schema[el].precision = 1400, m->schema[el].scale = 1200;
    for (int o = 0; o < m->num_column_orders; o++)
        m->column_orders[o] = 1;
    for (int g = 0; g < m->num_row_groups; g++) {
        lks_pq_stats *st = &m->row_groups[g].columns[col].meta.stats;
        m->row_groups[g].columns[col].meta.has_stats = 1;
        st->has |= LKS_PQ_ST_MIN_VALUE | LKS_PQ_ST_MAX_VALUE;
        st->min_value = (lks_slice){zeros, sizeof zeros};
        st->max_value = (lks_slice){ones, sizeof ones};
    }
    REQUIRE(assemble_file(&out, f.p, f.body, m) == LKS_OK);
    lks_fuzz_result res;
    RUN_FILE(out.ptr, out.len, &res); /* aborts on a status outside the documented set */
    CHECK_EQ_INT(res.open_rc, LKS_OK);
    /* the statistics are there to be read; printing them is what is refused */
    lks_pq_source src;
    lks_pq_reader *r = NULL;
    lks_err err = {0};
    REQUIRE(lks_pq_source_mem(&src, out.ptr, out.len, "wide.parquet") == LKS_OK);
    REQUIRE(lks_pq_reader_open(&src, NULL, &r, &err) == LKS_OK);
    lks_pq_minmax mm;
    CHECK_EQ_INT(lks_pq_chunk_stats(r, 0, col, &mm), 1);
    lks_buf j;
    lks_buf_init(&j, 0);
    CHECK_EQ_INT(lks_pq_value_to_json(&j, lks_pq_reader_schema(r), lks_pq_reader_schema(r)->cols[col].field, &mm.min),
                 LKS_EUNSUPPORTED);
    lks_buf_free(&j);
    lks_pq_reader_free(r);
    pqfile_close(&f);
    lks_buf_free(&out);
    lks_buf_free(&b);
}

/* ---- dictionary indices --------------------------------------------------------------- */

static void t_dictionary_indices(void) {
    lks_buf b, m;
    REQUIRE(make_flat(LKS_PQ_UNCOMPRESSED, 1, 0, &b) == LKS_OK);
    pqfile f;
    REQUIRE(pqfile_open(&f, &b) == LKS_OK);
    lks_buf_init(&m, 0);
    int dict_pages = 0, dict_data = 0;
    for (int g = 0; g < f.fm.num_row_groups; g++) {
        for (int c = 0; c < f.fm.row_groups[g].num_columns; c++) {
            pageloc pages[64];
            int np = find_pages(&f, g, c, pages, 64);
            for (int pi = 0; pi < np; pi++) {
                const lks_pq_page_header *h = &pages[pi].h;
                size_t body = pages[pi].off + pages[pi].hlen;
                if (h->type == LKS_PQ_DICTIONARY_PAGE) {
                    dict_pages++;
                    /* dictionary value count wrong in both directions */
                    const int32_t counts[] = {0, 1, h->num_values - 1, h->num_values + 1, 1 << 24, INT32_MAX, -1};
                    for (int i = 0; i < 7; i++) {
                        lks_pq_page_header h2 = *h;
                        h2.num_values = counts[i];
                        lks_buf scratch;
                        lks_buf_init(&scratch, 0);
                        lks_fuzz_result res;
                        run_with_header(&f, &pages[pi], &h2, &scratch, &m, &res);
                        lks_buf_free(&scratch);
                    }
                    continue;
                }
                if (h->type != LKS_PQ_DATA_PAGE || (h->encoding != LKS_PQ_ENC_RLE_DICTIONARY &&
                                                    h->encoding != LKS_PQ_ENC_PLAIN_DICTIONARY))
                    continue;
                dict_data++;
                /* skip the definition levels (optional columns): 4-byte length + RLE runs */
                size_t at = body;
                if (c == 1 || c == 2 || c == 4 || c == 5)
                    at += 4 + lks_load_le32(b.ptr + body);
                size_t end = body + (size_t)h->compressed_size;
                if (at >= end)
                    continue;
                /* every bit width, with the index bytes as they are and saturated */
                for (int bw = 0; bw <= 40; bw++) {
                    for (int sat = 0; sat < 3; sat++) {
                        lks_buf_reset(&m);
                        lks_buf_append(&m, b.ptr, b.len);
                        m.ptr[at] = (uint8_t)(bw == 40 ? 255 : bw);
                        for (size_t k = at + 1; sat && k < end; k++)
                            m.ptr[k] = sat == 1 ? 0xff : (uint8_t)next_rand();
                        lks_fuzz_result res;
                        RUN_FILE(m.ptr, m.len, &res);
                        CHECK_EQ_INT(res.open_rc, LKS_OK);
                    }
                }
                /* an RLE run of an index past the dictionary: header 2 (run of 1), value 0xff.. */
                lks_buf_reset(&m);
                lks_buf_append(&m, b.ptr, b.len);
                if (at + 3 < end) {
                    m.ptr[at] = 8;
                    m.ptr[at + 1] = 0x02;
                    m.ptr[at + 2] = 0xff;
                    lks_fuzz_result res;
                    RUN_FILE(m.ptr, m.len, &res);
                    CHECK(res.columns_err > 0);
                }
            }
        }
    }
    CHECK(dict_pages > 0);
    CHECK(dict_data > 0);
    pqfile_close(&f);
    lks_buf_free(&m);
    lks_buf_free(&b);
}

/* ---- compressed streams ------------------------------------------------------------------ */

static void t_compression_streams(void) {
    static const int codecs[] = {LKS_PQ_SNAPPY, LKS_PQ_GZIP, LKS_PQ_ZSTD, LKS_PQ_LZ4_RAW, LKS_PQ_BROTLI, LKS_PQ_LZ4};
    int tested = 0;
    lks_buf m;
    lks_buf_init(&m, 0);
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        lks_buf b;
        if (make_flat(codecs[ci], 1, 0, &b) != LKS_OK)
            continue;
        tested++;
        pqfile f;
        REQUIRE(pqfile_open(&f, &b) == LKS_OK);
        for (int g = 0; g < f.fm.num_row_groups; g++) {
            for (int c = 0; c < f.fm.row_groups[g].num_columns; c++) {
                pageloc pages[64];
                int np = find_pages(&f, g, c, pages, 64);
                for (int pi = 0; pi < np; pi++) {
                    size_t body = pages[pi].off + pages[pi].hlen, cl = (size_t)pages[pi].h.compressed_size;
                    if (cl == 0)
                        continue;
                    for (int k = 0; k < 24; k++) {
                        lks_buf_reset(&m);
                        lks_buf_append(&m, b.ptr, b.len);
                        switch (k % 4) {
                        case 0: m.ptr[body + pick(cl)] ^= (uint8_t)(1u << pick(8)); break;
                        case 1: m.ptr[body + pick(cl)] = (uint8_t)next_rand(); break;
                        case 2: memset(m.ptr + body + cl / 2, 0xff, cl - cl / 2); break;
                        default:
                            for (size_t j = pick(cl); j < cl; j++)
                                m.ptr[body + j] = (uint8_t)next_rand();
                            break;
                        }
                        lks_fuzz_result res;
                        RUN_FILE(m.ptr, m.len, &res);
                        CHECK_EQ_INT(res.open_rc, LKS_OK);
                    }
                    /* the stream claims to inflate to more / less than it does */
                    const int32_t us[] = {0, 1, pages[pi].h.uncompressed_size - 1, pages[pi].h.uncompressed_size + 1,
                                          16 << 20};
                    for (int i = 0; i < 5; i++) {
                        lks_pq_page_header h = pages[pi].h;
                        h.uncompressed_size = us[i];
                        lks_buf scratch;
                        lks_buf_init(&scratch, 0);
                        lks_fuzz_result res;
                        lks_buf out;
                        lks_buf_init(&out, 0);
                        run_with_header(&f, &pages[pi], &h, &scratch, &out, &res);
                        if (i != 2 && i != 3 && us[i] != pages[pi].h.uncompressed_size)
                            CHECK(res.columns_err > 0);
                        lks_buf_free(&out);
                        lks_buf_free(&scratch);
                    }
                }
            }
        }
        pqfile_close(&f);
        lks_buf_free(&b);
    }
    CHECK(tested >= 3);
    lks_buf_free(&m);
}

/* ---- absurd schemas ------------------------------------------------------------------- */

/* A file whose footer holds the given schema and no row groups. */
static void run_schema(lks_pq_schema_elem *els, int n, lks_fuzz_result *res, lks_buf *out) {
    lks_pq_file_meta m;
    memset(&m, 0, sizeof m);
    m.version = 2;
    m.schema = els;
    m.num_schema = n;
    m.num_rows = 0;
    REQUIRE(assemble_file(out, (const uint8_t *)"PAR1", 4, &m) == LKS_OK);
    RUN_FILE(out->ptr, out->len, res);
}

static lks_pq_schema_elem group_elem(const char *name, int rep, int nch) {
    lks_pq_schema_elem e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.type = -1;
    e.repetition = rep;
    e.num_children = nch;
    e.converted_type = -1;
    return e;
}

static void t_absurd_schemas(void) {
    lks_buf out;
    lks_buf_init(&out, 0);
    lks_fuzz_result res;
    enum { DEEP = 10000 };
    lks_pq_schema_elem *els = calloc(DEEP + 2, sizeof *els);
    REQUIRE(els);
    /* 10000-deep groups, each optional, ending in one leaf */
    int depths[] = {10, 63, 64, 65, 100, DEEP};
    for (int di = 0; di < 6; di++) {
        int d = depths[di];
        els[0] = group_elem("schema", -1, 1);
        for (int i = 1; i <= d; i++)
            els[i] = group_elem("g", i % 3 ? LKS_PQ_OPTIONAL : LKS_PQ_REPEATED, 1);
        els[d + 1] = group_elem("leaf", LKS_PQ_OPTIONAL, 0);
        els[d + 1].type = LKS_PQ_INT32;
        run_schema(els, d + 2, &res, &out);
        if (d >= LKS_PQ_MAX_DEPTH)
            CHECK(res.open_rc == LKS_ECORRUPT || res.open_rc == LKS_ELIMIT);
        else
            CHECK_EQ_INT(res.open_rc, LKS_OK);
    }
    /* a root claiming more children than there are elements, or absurd counts */
    const int32_t nch[] = {INT32_MAX, -1, 3, 0};
    for (int i = 0; i < 4; i++) {
        els[0] = group_elem("schema", -1, nch[i]);
        els[1] = group_elem("a", LKS_PQ_OPTIONAL, 0);
        els[1].type = LKS_PQ_INT64;
        els[2] = group_elem("b", LKS_PQ_OPTIONAL, INT32_MAX);
        run_schema(els, 3, &res, &out);
        CHECK(res.open_rc != LKS_OK);
    }
    /* a group in the middle claiming everything below */
    els[0] = group_elem("schema", -1, 2);
    els[1] = group_elem("g", LKS_PQ_OPTIONAL, 1 << 30);
    els[2] = group_elem("x", LKS_PQ_OPTIONAL, 0);
    els[2].type = LKS_PQ_INT32;
    run_schema(els, 3, &res, &out);
    CHECK(res.open_rc != LKS_OK);
    free(els);
    /* wider than the column cap: 100001 leaves; the footer is ~1 MB, so use
     * a file with a roomy footer limit through the reader directly */
    int wide = LKS_PQ_MAX_COLUMNS + 1;
    lks_pq_schema_elem *w = calloc((size_t)wide + 1, sizeof *w);
    REQUIRE(w);
    w[0] = group_elem("schema", -1, wide);
    for (int i = 1; i <= wide; i++) {
        w[i] = group_elem("c", LKS_PQ_REQUIRED, 0);
        w[i].type = LKS_PQ_BOOLEAN;
    }
    lks_pq_file_meta m;
    memset(&m, 0, sizeof m);
    m.schema = w;
    m.num_schema = wide + 1;
    REQUIRE(assemble_file(&out, (const uint8_t *)"PAR1", 4, &m) == LKS_OK);
    lks_pq_source src;
    lks_pq_source_mem(&src, out.ptr, out.len, "wide");
    lks_pq_reader *r = NULL;
    lks_err err = {0};
    int rc = lks_pq_reader_open(&src, NULL, &r, &err);
    CHECK(rc == LKS_ELIMIT || rc == LKS_ECORRUPT);
    CHECK(r == NULL);
    lks_pq_reader_free(r);
    RUN_FILE(out.ptr, out.len, &res); /* and with the 1 MiB footer limit */
    CHECK(res.open_rc != LKS_OK);
    free(w);
    lks_buf_free(&out);
}

/* ---- hand-made Thrift footers ----------------------------------------------------------- */

static void t_thrift_footers(void) {
    lks_buf out, fb;
    lks_buf_init(&out, 0);
    lks_buf_init(&fb, 0);
    lks_fuzz_result res;
    /* FileMetaData.schema (field 2, list): a list header claiming 2^32-1 structs */
    static const uint8_t huge_list[] = {0x15, 0x04, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x18, 0x01, 0x61, 0x00};
    wrap_footer(&out, huge_list, sizeof huge_list);
    RUN_FILE(out.ptr, out.len, &res);
    CHECK_EQ_INT(res.open_rc, LKS_ECORRUPT);
    /* row_groups (field 4) of 2^31 empty structs; each would take one byte */
    static const uint8_t huge_rg[] = {0x15, 0x04, 0x19, 0x1c, 0x18, 0x01, 0x61, 0x00, 0x16, 0x00,
                                      0x19, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x00, 0x00};
    wrap_footer(&out, huge_rg, sizeof huge_rg);
    RUN_FILE(out.ptr, out.len, &res);
    CHECK_EQ_INT(res.open_rc, LKS_ECORRUPT);
    /* a string (created_by, field 6) claiming 2^63 bytes via an over-long varint */
    static const uint8_t huge_str[] = {0x15, 0x04, 0x58, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0x01, 0x61, 0x00};
    wrap_footer(&out, huge_str, sizeof huge_str);
    RUN_FILE(out.ptr, out.len, &res);
    CHECK(res.open_rc == LKS_ECORRUPT);
    /* unknown field 15 of struct type, nested 10000 deep */
    lks_buf_reset(&fb);
    lks_buf_append(&fb, "\x15\x04", 2);
    for (int i = 0; i < 10000; i++)
        lks_buf_append_byte(&fb, 0xfc);
    for (int i = 0; i < 10001; i++)
        lks_buf_append_byte(&fb, 0x00);
    wrap_footer(&out, fb.ptr, fb.len);
    RUN_FILE(out.ptr, out.len, &res);
    CHECK(res.open_rc == LKS_ECORRUPT || res.open_rc == LKS_ELIMIT);
    /* unknown field of list-of-lists type, nested 10000 deep */
    lks_buf_reset(&fb);
    lks_buf_append(&fb, "\x15\x04", 2);
    lks_buf_append_byte(&fb, 0xf9);
    for (int i = 0; i < 10000; i++)
        lks_buf_append_byte(&fb, 0x19);
    wrap_footer(&out, fb.ptr, fb.len);
    RUN_FILE(out.ptr, out.len, &res);
    CHECK(res.open_rc == LKS_ECORRUPT || res.open_rc == LKS_ELIMIT);
    /* every compact type id as an unknown field, then garbage */
    for (int t = 0; t < 16; t++) {
        uint8_t bad[] = {0x15, 0x04, (uint8_t)(0xf0 | t), 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
        wrap_footer(&out, bad, sizeof bad);
        RUN_FILE(out.ptr, out.len, &res);
        CHECK(res.open_rc != LKS_OK);
    }
    /* random footers: valid start, random rest */
    for (int k = 0; k < 3000; k++) {
        lks_buf_reset(&fb);
        size_t n = 1 + pick(64);
        for (size_t i = 0; i < n; i++)
            lks_buf_append_byte(&fb, (uint8_t)next_rand());
        wrap_footer(&out, fb.ptr, fb.len);
        RUN_FILE(out.ptr, out.len, &res);
    }
    lks_buf_free(&fb);
    lks_buf_free(&out);
}

/* ---- fuzzer seeds and crashes ------------------------------------------------------------ */

static int replay_dir(const char *dir, int expect_valid, int *count) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        lks_buf b;
        lks_buf_init(&b, 0);
        uint8_t chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
            lks_buf_append(&b, chunk, got);
        fclose(fp);
        lks_fuzz_result res;
        RUN_FILE(b.ptr, b.len, &res);
        if (expect_valid && (res.open_rc != LKS_OK || res.columns_err || res.rows_rc != 0))
            FAILF("seed %s does not read cleanly", path);
        lks_buf_free(&b);
        (*count)++;
    }
    closedir(d);
    return 0;
}

static void t_replay_fuzz_files(void) {
    int seeds = 0, crashes = 0;
    if (replay_dir("fuzz/seeds", 1, &seeds) != 0)
        SKIP("fuzz/seeds not found (run from the repository root)");
    CHECK(seeds > 0);
    replay_dir("fuzz/crashes", 0, &crashes);
}

int main(void) {
    RUN(t_valid_files);
    RUN(t_other_encodings);
    RUN(t_delta_byte_array_bomb);
    RUN(t_truncate_every_length);
    RUN(t_byte_flips);
    RUN(t_footer_length);
    RUN(t_page_headers);
    RUN(t_footer_fields);
    RUN(t_wide_decimal_stats);
    RUN(t_dictionary_indices);
    RUN(t_compression_streams);
    RUN(t_absurd_schemas);
    RUN(t_thrift_footers);
    RUN(t_replay_fuzz_files);
    printf("# %ld files exercised (%ld mutations the encoders refused)\n", files_run, unencodable);
    return lks_test_done();
}
