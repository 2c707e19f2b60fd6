/*
 * dv.c — deletion vectors (PROTOCOL.md "Deletion Vectors" and appendix
 * "Deletion Vector Format"): Z85 text, the serialized bitmap (magic
 * 1681511377 little-endian + a portable 64-bit RoaringTreemap: bucket count,
 * then per bucket a 32-bit high key and a portable 32-bit roaring bitmap),
 * and DV files (version byte 1; at `offset` a big-endian size, the bitmap,
 * a big-endian CRC-32 of the bitmap).  Every byte is treated as hostile:
 * counts are checked against the bytes that remain before anything is
 * allocated, and CRoaring only sees buffers with their true length.
 */
#include "delta/delta_int.h"

#include <inttypes.h>
#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>

#define DV_MAGIC UINT32_C(1681511377)
#define DV_MAGIC_NATIVE UINT32_C(1681511376)
#define DV_MAX_BYTES ((size_t)1 << 31) /* sizeInBytes is an Int */

/* ---- Z85 (https://rfc.zeromq.org/spec/32/) ------------------------------------------ */

static const char z85_chars[86] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* Character → digit, -1 for characters outside the alphabet. */
static int z85_digit(unsigned char c) {
    static signed char map[256];
    static int ready;
    if (!ready) { /* idempotent: racing threads write the same bytes */
        for (int i = 0; i < 256; i++)
            map[i] = -1;
        for (int i = 0; i < 85; i++)
            map[(unsigned char)z85_chars[i]] = (signed char)i;
        ready = 1;
    }
    return map[c];
}

int lks_delta_z85_encode(lks_buf *b, const uint8_t *p, size_t n) {
    size_t full = n / 4 * 4;
    int rc = lks_buf_reserve(b, (n + 3) / 4 * 5);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i += 4) {
        uint8_t w[4] = {0, 0, 0, 0}; /* a short tail is zero-padded */
        memcpy(w, p + i, i < full ? 4 : n - i);
        uint32_t v = (uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3];
        char out[5];
        for (int k = 4; k >= 0; k--) {
            out[k] = z85_chars[v % 85];
            v /= 85;
        }
        lks_buf_append(b, out, 5);
    }
    return LKS_OK;
}

/* The last group may use the padded tail of the Rust z85 crate, which some
 * Delta writers use for lengths that are not a multiple of 4: k leading
 * '#' (1..3) stand for k padding bytes before 4-k data bytes.  A group can
 * never start with '#' in plain Z85 (84 * 85^4 > 2^32 - 1), so the form is
 * unambiguous. */
int lks_delta_z85_decode(const char *s, size_t n, lks_buf *out, lks_err *err) {
    if (n % 5 != 0)
        return lks_err_set(err, LKS_ECORRUPT, "Z85: length %zu is not a multiple of 5", n);
    int rc = lks_buf_reserve(out, n / 5 * 4);
    if (rc)
        return lks_err_set(err, rc, "Z85: out of memory for %zu bytes", n / 5 * 4);
    for (size_t i = 0; i < n; i += 5) {
        int pad = 0;
        if (i + 5 == n)
            while (pad < 3 && s[i + (size_t)pad] == '#')
                pad++;
        uint64_t v = 0;
        for (int k = 0; k < 5; k++) {
            int d = k < pad ? 0 : z85_digit((unsigned char)s[i + (size_t)k]);
            if (d < 0)
                return lks_err_set(err, LKS_ECORRUPT, "Z85: bad character 0x%02x at offset %zu",
                                   (unsigned char)s[i + (size_t)k], i + (size_t)k);
            v = v * 85 + (uint64_t)d;
        }
        if (v > (UINT32_MAX >> (8 * pad)))
            return lks_err_set(err, LKS_ECORRUPT, "Z85: group at offset %zu exceeds %d bits", i, 32 - 8 * pad);
        uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        lks_buf_append(out, w + pad, (size_t)(4 - pad));
    }
    return LKS_OK;
}

/* ---- row sets ------------------------------------------------------------------------ */

typedef struct dv_bucket {
    uint32_t high;
    roaring_bitmap_t *bm;
} dv_bucket;

struct lks_delta_rowset {
    dv_bucket *b;
    size_t n;
    uint64_t card;
    size_t last; /* bucket of the last lookup (scans probe in ascending order) */
};

void lks_delta_rowset_free(lks_delta_rowset *rs) {
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        roaring_bitmap_free(rs->b[i].bm);
    free(rs->b);
    free(rs);
}

int lks_delta_rowset_contains(const lks_delta_rowset *rs, uint64_t row) {
    if (!rs || rs->n == 0)
        return 0;
    uint32_t high = (uint32_t)(row >> 32);
    size_t i = rs->last;
    if (rs->b[i].high != high) {
        size_t lo = 0, hi = rs->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rs->b[mid].high < high)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= rs->n || rs->b[lo].high != high)
            return 0;
        i = lo;
        ((lks_delta_rowset *)rs)->last = i; /* a lookup hint only */
    }
    return roaring_bitmap_contains(rs->b[i].bm, (uint32_t)row);
}

uint64_t lks_delta_rowset_cardinality(const lks_delta_rowset *rs) { return rs ? rs->card : 0; }

int lks_delta_rowset_rows(const lks_delta_rowset *rs, uint64_t *out) {
    if (!rs)
        return LKS_OK;
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++) {
        uint64_t c = roaring_bitmap_get_cardinality(rs->b[i].bm);
        uint32_t *lows = malloc((size_t)(c ? c : 1) * sizeof *lows);
        if (!lows)
            return LKS_ENOMEM;
        roaring_bitmap_to_uint32_array(rs->b[i].bm, lows);
        uint64_t high = (uint64_t)rs->b[i].high << 32;
        for (uint64_t j = 0; j < c; j++)
            out[k++] = high | lows[j];
        free(lows);
    }
    return LKS_OK;
}

static uint32_t bswap32(uint32_t v) {
    return v >> 24 | (v >> 8 & 0xFF00u) | (v << 8 & 0xFF0000u) | v << 24;
}

/* Checks a portable 32-bit roaring bitmap (RoaringFormatSpec) at p[0..len)
 * before CRoaring sees it, and gives its exact size: CRoaring 0.2 trusts
 * the header (it multiplies the container count in 32 bits and allocates
 * by it; a bitset container's cardinality is taken from the header, not
 * counted), so a hostile header could make it over-allocate or report
 * cardinalities that its own row extraction then overruns.  Keys must
 * ascend, array values ascend, runs ascend without overlap, and every
 * container's cardinality match its content. */
#define RB_COOKIE_NO_RUN 12346
#define RB_COOKIE 12347
static int check_portable(const uint8_t *p, size_t len, uint64_t at, size_t *used, lks_err *err) {
    lks_cur c;
    lks_cur_init(&c, p, len, at);
    uint32_t cookie = lks_cur_le32(&c), n;
    const uint8_t *runs = NULL;
    int has_offsets = 1;
    if ((cookie & 0xFFFF) == RB_COOKIE) {
        n = (cookie >> 16) + 1;
        runs = lks_cur_take(&c, (n + 7) / 8);
        has_offsets = n >= 4;
    } else if (!c.failed && cookie == RB_COOKIE_NO_RUN) {
        n = lks_cur_le32(&c);
        if (!c.failed && n > 65536)
            return lks_err_set(err, LKS_ECORRUPT, "deletion vector: 32-bit bitmap at offset %" PRIu64
                               " claims %" PRIu32 " containers", at, n);
    } else {
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: 32-bit bitmap at offset %" PRIu64
                           " has no portable-format cookie", at);
    }
    const uint8_t *hdr = lks_cur_take(&c, (size_t)n * 4);
    if (has_offsets)
        lks_cur_take(&c, (size_t)n * 4);
    if (c.failed)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: 32-bit bitmap header at offset %" PRIu64
                           " runs past the end", at);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t key = (uint32_t)hdr[4 * k] | (uint32_t)hdr[4 * k + 1] << 8;
        uint32_t card = ((uint32_t)hdr[4 * k + 2] | (uint32_t)hdr[4 * k + 3] << 8) + 1;
        uint64_t cat = lks_cur_offset(&c);
        if (k > 0 && key <= ((uint32_t)hdr[4 * k - 4] | (uint32_t)hdr[4 * k - 3] << 8))
            return lks_err_set(err, LKS_ECORRUPT, "deletion vector: container keys not ascending at offset %" PRIu64,
                               at);
        uint64_t got = 0;
        if (runs && (runs[k / 8] >> (k % 8) & 1)) {
            uint32_t nr = lks_cur_le16(&c);
            const uint8_t *r = lks_cur_take(&c, (size_t)nr * 4);
            if (c.failed)
                break;
            int32_t prev_end = -1;
            for (uint32_t j = 0; j < nr; j++) {
                uint32_t start = (uint32_t)r[4 * j] | (uint32_t)r[4 * j + 1] << 8;
                uint32_t rl = (uint32_t)r[4 * j + 2] | (uint32_t)r[4 * j + 3] << 8;
                if ((int32_t)start <= prev_end || start + rl > 65535)
                    return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad run %" PRIu32 " in the container at "
                                       "offset %" PRIu64, j, cat);
                prev_end = (int32_t)(start + rl);
                got += rl + 1;
            }
        } else if (card <= 4096) {
            const uint8_t *v = lks_cur_take(&c, (size_t)card * 2);
            if (c.failed)
                break;
            for (uint32_t j = 1; j < card; j++)
                if (((uint32_t)v[2 * j] | (uint32_t)v[2 * j + 1] << 8) <=
                    ((uint32_t)v[2 * j - 2] | (uint32_t)v[2 * j - 1] << 8))
                    return lks_err_set(err, LKS_ECORRUPT, "deletion vector: array container at offset %" PRIu64
                                       " not ascending", cat);
            got = card;
        } else {
            const uint8_t *w = lks_cur_take(&c, 8192);
            if (c.failed)
                break;
            for (size_t j = 0; j < 8192; j++)
                got += (uint64_t)__builtin_popcount(w[j]);
        }
        if (got != card)
            return lks_err_set(err, LKS_ECORRUPT, "deletion vector: container at offset %" PRIu64 " holds %" PRIu64
                               " values, its header says %" PRIu32, cat, got, card);
    }
    if (c.failed)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: 32-bit bitmap at offset %" PRIu64 " runs past the end",
                           at);
    *used = (size_t)(lks_cur_offset(&c) - at);
    return LKS_OK;
}

/* Adds a 32-bit portable bitmap at the cursor as bucket `high`. */
static int add_bucket(lks_delta_rowset *rs, size_t i, uint32_t high, lks_cur *c, size_t len, lks_err *err) {
    size_t used = 0;
    int rc = check_portable(c->p, len, lks_cur_offset(c), &used, err);
    if (rc != LKS_OK)
        return rc;
    size_t sz = roaring_bitmap_portable_deserialize_size((const char *)c->p, len);
    if (sz != used)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad 32-bit bitmap at offset %" PRIu64,
                           lks_cur_offset(c));
    roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe((const char *)c->p, sz);
    if (!bm)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad 32-bit bitmap at offset %" PRIu64,
                           lks_cur_offset(c));
    rs->b[i].high = high;
    rs->b[i].bm = bm;
    rs->n = i + 1;
    rs->card += roaring_bitmap_get_cardinality(bm);
    lks_cur_take(c, sz);
    return LKS_OK;
}

/* The older "native" RoaringBitmapArray form (magic 1681511376; the
 * inline example of PROTOCOL.md uses it, big-endian): a 32-bit bitmap
 * count, then per bitmap i (covering high key i) a 32-bit size and a
 * portable 32-bit bitmap of that size. */
static int parse_native(const uint8_t *p, size_t n, int le, lks_delta_rowset **out, lks_err *err) {
    lks_cur c;
    lks_cur_init(&c, p, n, 0);
    lks_cur_take(&c, 4);
    uint32_t nb = lks_cur_le32(&c);
    if (!le)
        nb = bswap32(nb);
    if (c.failed)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: truncated bitmap count at offset 4");
    if (nb > lks_cur_left(&c) / 12 || nb > UINT32_C(0x80000000))
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: %" PRIu32 " bitmaps cannot fit in %zu bytes", nb,
                           lks_cur_left(&c));
    lks_delta_rowset *rs = calloc(1, sizeof *rs);
    if (!rs || (nb && !(rs->b = calloc(nb, sizeof *rs->b)))) {
        free(rs);
        return lks_err_set(err, LKS_ENOMEM, "deletion vector: out of memory");
    }
    int rc = LKS_OK;
    for (uint32_t i = 0; i < nb && rc == LKS_OK; i++) {
        uint64_t at = lks_cur_offset(&c);
        uint32_t sz = lks_cur_le32(&c);
        if (!le)
            sz = bswap32(sz);
        if (c.failed || sz > lks_cur_left(&c))
            rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: bitmap %" PRIu32 " size at offset %" PRIu64
                             " runs past the end", i, at);
        else {
            const uint8_t *start = c.p;
            rc = add_bucket(rs, i, i, &c, sz, err);
            if (rc == LKS_OK && (size_t)(c.p - start) != sz)
                rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: bitmap %" PRIu32 " at offset %" PRIu64
                                 " is shorter than its size", i, at);
        }
    }
    if (rc == LKS_OK && lks_cur_left(&c) != 0)
        rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: %zu trailing bytes at offset %" PRIu64, lks_cur_left(&c),
                         lks_cur_offset(&c));
    if (rc != LKS_OK) {
        lks_delta_rowset_free(rs);
        return rc;
    }
    *out = rs;
    return LKS_OK;
}

/* Parses the serialized bitmap: magic, then the portable RoaringTreemap. */
int lks_delta_dv_parse(const uint8_t *p, size_t n, lks_delta_rowset **out, lks_err *err) {
    *out = NULL;
    lks_cur c;
    lks_cur_init(&c, p, n, 0);
    uint32_t magic = lks_cur_le32(&c);
    if (c.failed)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: %zu bytes, too short for the magic number", n);
    if (magic == DV_MAGIC_NATIVE || bswap32(magic) == DV_MAGIC_NATIVE)
        return parse_native(p, n, magic == DV_MAGIC_NATIVE, out, err);
    if (magic != DV_MAGIC)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad magic number %" PRIu32 " at offset 0 (want %" PRIu32 ")",
                           magic, DV_MAGIC);
    uint64_t nb = lks_cur_le64(&c);
    if (c.failed)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: truncated bucket count at offset 4");
    /* each bucket needs at least a key and an 8-byte empty bitmap */
    if (nb > lks_cur_left(&c) / 12)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: %" PRIu64 " buckets cannot fit in %zu bytes", nb,
                           lks_cur_left(&c));
    lks_delta_rowset *rs = calloc(1, sizeof *rs);
    if (!rs || (nb && !(rs->b = calloc((size_t)nb, sizeof *rs->b)))) {
        free(rs);
        return lks_err_set(err, LKS_ENOMEM, "deletion vector: out of memory");
    }
    int rc = LKS_OK;
    for (uint64_t i = 0; i < nb; i++) {
        uint64_t at = lks_cur_offset(&c);
        uint32_t high = lks_cur_le32(&c);
        if (c.failed) {
            rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: truncated bucket %" PRIu64 " key at offset %" PRIu64, i,
                             at);
            break;
        }
        if (high & UINT32_C(0x80000000)) {
            rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: bucket key %" PRIu32 " at offset %" PRIu64
                             " has its top bit set", high, at);
            break;
        }
        if (i > 0 && high <= rs->b[i - 1].high) {
            rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: bucket keys not ascending at offset %" PRIu64, at);
            break;
        }
        if ((rc = add_bucket(rs, (size_t)i, high, &c, lks_cur_left(&c), err)) != LKS_OK)
            break;
    }
    if (rc == LKS_OK && lks_cur_left(&c) != 0)
        rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector: %zu trailing bytes at offset %" PRIu64, lks_cur_left(&c),
                         lks_cur_offset(&c));
    if (rc != LKS_OK) {
        lks_delta_rowset_free(rs);
        return rc;
    }
    *out = rs;
    return LKS_OK;
}

/* ---- writing -------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int lks_delta_dv_serialize(const uint64_t *rows, size_t n, lks_buf *out) {
    uint64_t *v = NULL;
    if (n) {
        v = malloc(n * sizeof *v);
        if (!v)
            return LKS_ENOMEM;
        memcpy(v, rows, n * sizeof *v);
        size_t i = 1;
        while (i < n && v[i - 1] <= v[i]) /* callers mostly pass them sorted */
            i++;
        if (i < n)
            qsort(v, n, sizeof *v, cmp_u64);
        if (v[n - 1] >> 63) {
            free(v);
            return LKS_EINVAL;
        }
    }
    uint64_t nb = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || (v[i] >> 32) != (v[i - 1] >> 32))
            nb++;
    uint8_t hdr[12];
    lks_store_le32(hdr, DV_MAGIC);
    lks_store_le64(hdr + 4, nb);
    int rc = lks_buf_append(out, hdr, sizeof hdr);
    uint32_t *lows = NULL;
    if (!rc && n && !(lows = malloc(n * sizeof *lows)))
        rc = LKS_ENOMEM;
    for (size_t i = 0; i < n && !rc;) {
        uint32_t high = (uint32_t)(v[i] >> 32);
        size_t k = 0;
        for (; i < n && (uint32_t)(v[i] >> 32) == high; i++)
            lows[k++] = (uint32_t)v[i];
        roaring_bitmap_t *bm = roaring_bitmap_of_ptr(k, lows);
        if (!bm) {
            rc = LKS_ENOMEM;
            break;
        }
        roaring_bitmap_run_optimize(bm);
        size_t sz = roaring_bitmap_portable_size_in_bytes(bm);
        uint8_t key[4];
        lks_store_le32(key, high);
        rc = lks_buf_append(out, key, 4);
        if (!rc)
            rc = lks_buf_reserve(out, sz);
        if (!rc)
            out->len += roaring_bitmap_portable_serialize(bm, (char *)out->ptr + out->len);
        roaring_bitmap_free(bm);
    }
    free(lows);
    free(v);
    return rc;
}

/* ---- objects by log path ---------------------------------------------------------------- */

/* "scheme:..." per RFC 3986: a letter, then letters, digits, '+', '-' or
 * '.', then ':' ("time=12:00/x" is a relative path). */
static int has_scheme(const char *p) {
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    size_t i = 1;
    while ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
           p[i] == '+' || p[i] == '-' || p[i] == '.')
        i++;
    return p[i] == ':';
}

/* "<table prefix>/<path, %XX-decoded>" (an invalid escape stays as it is). */
static char *relative_key(const lks_delta_table *t, const char *path, lks_arena *a) {
    size_t pl = strlen(t->prefix), n = strlen(path);
    char *out = lks_arena_alloc(a, pl + 1 + n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    if (pl) {
        memcpy(out, t->prefix, pl);
        out[pl] = '/';
        o = pl + 1;
    }
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (path[i] == '%' && i + 2 < n && (h = lks_hex_value(path[i + 1])) >= 0 && (l = lks_hex_value(path[i + 2])) >= 0) {
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else {
            out[o++] = path[i];
        }
    }
    out[o] = 0;
    return out;
}

int lks_delta_obj_open(lks_delta_table *t, const char *path, int is_key, lks_arena *a, lks_delta_obj *o,
                       lks_err *err) {
    memset(o, 0, sizeof *o);
    const char *k = path;
    if (!is_key)
        k = path[0] == '/' || has_scheme(path) ? lks_delta_table_key(t, path, a) : relative_key(t, path, a);
    if (!k)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    const char *fs = NULL;
    if (k[0] == '/')
        fs = k;
    else if (strncmp(k, "file:", 5) == 0) {
        fs = k + 5;
        if (strncmp(fs, "//localhost/", 12) == 0)
            fs += 11;
        else if (strncmp(fs, "///", 3) == 0)
            fs += 2;
        if (fs[0] != '/')
            return lks_err_set(err, LKS_EUNSUPPORTED, "%s: unsupported file URI", k);
    } else if (has_scheme(k)) { /* another scheme: open its parent as a store */
        const char *slash = strrchr(k, '/');
        if (!slash || !slash[1])
            return lks_err_set(err, LKS_EINVAL, "%s: not an object path", k);
        char *parent = lks_arena_strndup(a, k, (size_t)(slash - k));
        if (!parent)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        int rc = lks_store_open(parent, &o->owned, err);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "%s", k);
        o->st = o->owned;
        o->key = slash + 1;
        o->name = k;
        return LKS_OK;
    } else {
        o->st = t->st;
        o->key = k;
        o->name = k;
        return LKS_OK;
    }
    const char *slash = strrchr(fs, '/');
    if (!slash[1])
        return lks_err_set(err, LKS_EINVAL, "%s: not a file path", k);
    char *parent = lks_arena_strndup(a, fs, slash == fs ? 1 : (size_t)(slash - fs));
    if (!parent)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    int rc = lks_store_open(parent, &o->owned, err);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "%s", k);
    o->st = o->owned;
    o->key = slash + 1;
    o->name = k;
    return LKS_OK;
}

void lks_delta_obj_close(lks_delta_obj *o) {
    if (o->owned)
        lks_store_close(o->owned);
    memset(o, 0, sizeof *o);
}

/* ---- loading --------------------------------------------------------------------------- */

static int check_card(const lks_delta_dv *dv, lks_delta_rowset *rs, const char *what, lks_err *err) {
    if ((int64_t)rs->card != dv->cardinality || dv->cardinality < 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: deletion vector holds %" PRIu64 " rows, the log says %" PRId64, what,
                           rs->card, dv->cardinality);
    return LKS_OK;
}

/* "<prefix>/deletion_vector_<uuid>.bin" from a 'u' descriptor. */
const char *lks_delta_dv_uuid_path(const lks_delta_dv *dv, lks_arena *a, lks_err *err) {
    const char *s = dv->path_or_inline ? dv->path_or_inline : "";
    size_t n = strlen(s);
    if (n < 20) {
        lks_err_set(err, LKS_ECORRUPT, "deletion vector: relative path '%s' is shorter than a 20-character Z85 UUID", s);
        return NULL;
    }
    lks_buf u;
    lks_buf_init(&u, 64);
    if (lks_delta_z85_decode(s + n - 20, 20, &u, err) != LKS_OK || u.len < 16) {
        lks_buf_free(&u);
        if (err && err->code == LKS_OK)
            lks_err_set(err, LKS_ECORRUPT, "bad UUID");
        lks_err_prefix(err, "deletion vector '%s'", s);
        return NULL;
    }
    char id[37];
    lks_uuid_format(id, u.ptr);
    lks_buf_free(&u);
    const char *p = n > 20 ? lks_arena_printf(a, "%.*s/deletion_vector_%s.bin", (int)(n - 20), s, id)
                           : lks_arena_printf(a, "deletion_vector_%s.bin", id);
    if (!p)
        lks_err_set(err, LKS_ENOMEM, "out of memory");
    return p;
}

/* The version byte of a DV file and where a DV may start. */
static int check_file_head(uint8_t version, int64_t off, lks_err *err) {
    if (version != 1)
        return lks_err_set(err, LKS_EUNSUPPORTED, "deletion vector file version %u at offset 0 (want 1)", version);
    if (off < 1)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector offset %" PRId64 " overlaps the version byte", off);
    return LKS_OK;
}

/* One stored DV of a file, read from `off`: rec holds 4 + size + 4 bytes
 * (big-endian size, the bitmap, big-endian CRC-32 of the bitmap). */
static int decode_record(const uint8_t *rec, int64_t off, size_t size, lks_delta_rowset **out, lks_err *err) {
    uint32_t dsz = (uint32_t)rec[0] << 24 | (uint32_t)rec[1] << 16 | (uint32_t)rec[2] << 8 | rec[3];
    if (dsz != size)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector at offset %" PRId64 ": size field %" PRIu32
                           ", sizeInBytes %zu", off, dsz, size);
    const uint8_t *q = rec + 4 + size;
    uint32_t want = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    uint32_t got = lks_crc32(0, rec + 4, size);
    if (want != got)
        return lks_err_set(err, LKS_ECHECKSUM, "deletion vector at offset %" PRId64 ": CRC-32 %08" PRIx32
                           " != stored %08" PRIx32, off, got, want);
    return lks_delta_dv_parse(rec + 4, size, out, err);
}

int lks_delta_dv_decode_file(const uint8_t *p, size_t n, int64_t offset, int32_t size, lks_delta_rowset **out,
                             lks_err *err) {
    *out = NULL;
    if (size < 0)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad sizeInBytes %" PRId32, size);
    if (n < 1)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector file: empty");
    int64_t off = offset < 0 ? 0 : offset;
    int rc = check_file_head(p[0], off, err);
    if (rc != LKS_OK)
        return rc;
    if ((uint64_t)off > n || n - (uint64_t)off < 8 || n - (uint64_t)off - 8 < (uint64_t)size)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector of %" PRId32 " bytes at offset %" PRId64
                           " runs past the end of the file (%zu bytes)", size, off, n);
    return decode_record(p + off, off, (size_t)size, out, err);
}

int lks_delta_dv_load(lks_delta_table *t, const lks_delta_dv *dv, lks_delta_rowset **out, lks_err *err) {
    *out = NULL;
    if (dv->size_in_bytes < 0 || (size_t)dv->size_in_bytes > DV_MAX_BYTES)
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: bad sizeInBytes %" PRId32, dv->size_in_bytes);
    size_t size = (size_t)dv->size_in_bytes;
    if (dv->storage_type == 'i') {
        const char *s = dv->path_or_inline ? dv->path_or_inline : "";
        lks_buf b;
        lks_buf_init(&b, DV_MAX_BYTES);
        int rc = lks_delta_z85_decode(s, strlen(s), &b, err);
        if (rc != LKS_OK) {
            lks_buf_free(&b);
            return lks_err_prefix(err, "inline deletion vector");
        }
        if (b.len < size || b.len - size >= 4) {
            lks_buf_free(&b);
            return lks_err_set(err, LKS_ECORRUPT, "inline deletion vector: %zu bytes decoded, sizeInBytes %zu", b.len,
                               size);
        }
        rc = lks_delta_dv_parse(b.ptr, size, out, err);
        lks_buf_free(&b);
        if (rc != LKS_OK)
            return lks_err_prefix(err, "inline deletion vector");
        if ((rc = check_card(dv, *out, "inline deletion vector", err)) != LKS_OK) {
            lks_delta_rowset_free(*out);
            *out = NULL;
        }
        return rc;
    }
    if (dv->storage_type != 'u' && dv->storage_type != 'p')
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: unknown storageType '%c'", dv->storage_type);
    if (dv->storage_type == 'p' && (!dv->path_or_inline || !*dv->path_or_inline))
        return lks_err_set(err, LKS_ECORRUPT, "deletion vector: empty absolute path");
    int64_t off = dv->offset < 0 ? 0 : dv->offset;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_obj o;
    memset(&o, 0, sizeof o);
    lks_buf b;
    lks_buf_init(&b, DV_MAX_BYTES + 16);
    int rc = LKS_OK;
    const char *path = dv->storage_type == 'u' ? lks_delta_dv_uuid_path(dv, &a, err) : dv->path_or_inline;
    if (!path) {
        rc = err ? err->code : LKS_ECORRUPT;
        goto done;
    }
    if ((rc = lks_delta_obj_open(t, path, 0, &a, &o, err)) != LKS_OK)
        goto done;
    /* the version byte, then this DV's size, bitmap and checksum */
    rc = lks_store_get_range(o.st, o.key, 0, 1, &b, err);
    if (rc == LKS_OK)
        rc = check_file_head(b.ptr[0], off, err);
    if (rc == LKS_OK) {
        lks_buf_reset(&b);
        rc = lks_store_get_range(o.st, o.key, (uint64_t)off, 4 + (uint64_t)size + 4, &b, err);
        if (rc == LKS_ECORRUPT || rc == LKS_EINVAL)
            rc = lks_err_set(err, LKS_ECORRUPT, "deletion vector of %zu bytes at offset %" PRId64
                             " runs past the end of the file", size, off);
    }
    if (rc == LKS_OK)
        rc = decode_record(b.ptr, off, size, out, err);
    if (rc == LKS_OK && (rc = check_card(dv, *out, "deletion vector", err)) != LKS_OK) {
        lks_delta_rowset_free(*out);
        *out = NULL;
    }
    if (rc != LKS_OK)
        lks_err_prefix(err, "%s", o.name ? o.name : path);
done:
    lks_buf_free(&b);
    lks_delta_obj_close(&o);
    lks_arena_free(&a);
    return rc;
}
