/*
 * dbz_read.c — reads Debezium MySQL connector JSON records into change
 * events (cdc.h), without a DOM.
 *
 * One record is scanned once at the top level by hand to find the envelope's
 * "schema" and "payload" byte spans.  The schema span is looked up by its
 * bytes in the parser's cache (a stream of one table tokenizes and maps its
 * schema once); only on a miss is it tokenized.  The payload is tokenized in
 * one pass that also checks the JSON grammar (json_scan.c: flat tokens with
 * parent links, so every step is O(1) and errors can name the JSON path)
 * into a token array the parser reuses, then decoded straight from the
 * token text into the caller's arena.  No allocation per record beyond that
 * arena.
 *
 * Decisions worth knowing (see also cdc.h):
 *  - Envelope: a top-level object whose first key is "schema" or "payload"
 *    and whose keys are only those.  Anything else is a bare payload.
 *  - A payload without "op": {"status": ...} is transaction metadata, one
 *    with "ddl"/"tableChanges"/"historyRecord" a schema change (both return
 *    0); one with none of before/after/source is an unwrapped row
 *    (ExtractNewRecordState): op 'c', or 'd' when "__deleted" is "true".
 *  - Decimal values are accepted as base64 unscaled bytes (JsonConverter's
 *    decimal.format=BASE64, Debezium's default), as JSON numbers
 *    (decimal.format=NUMERIC, as Flink CDC and SeaTunnel write them) decoded
 *    exactly from the text, or as strings in decimal.handling.mode=string.
 *  - A Connect Decimal with scale 0 and no connect.decimal.precision is how
 *    Debezium's MySQL connector spells BIGINT UNSIGNED in precise mode: it
 *    reads as UINT64.  A BIGINT UNSIGNED written as int64
 *    (bigint.unsigned.handling.mode=long, the default) is negative for
 *    values >= 2^63: where the type is known to be UINT64 (from
 *    __debezium.source.column.type or a hint) a negative integer is taken
 *    as that two's complement wrap.
 *  - io.debezium.data.Bits arrives little-endian; the model holds BIT(n) as
 *    MySQL stores it: big-endian, (n+7)/8 bytes.
 *  - Without an envelope and without a hint, types are inferred per record
 *    (cdc.h).  A base64 DECIMAL cannot be recognised then: it reads as a
 *    STRING.  With a hint, DATETIME/TIME of unknown fsp in the adaptive
 *    time modes cannot be told ms from µs: LKS_EINVAL, never a guess.
 */
#include "cdc/json_tok.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_MAX ((size_t)1 << 30)    /* token offsets are int */
#define DEPTH_MAX 512                /* nesting accepted in a document */
#define CACHE_MAX_ENTRIES 256        /* cached schemas (envelope + inferred) */
#define CACHE_MAX_BYTES ((size_t)64 << 20)

/* How a field's value is spelled in JSON. */
enum {
    ENC_PLAIN = 0,
    ENC_MS,        /* integer milliseconds → µs */
    ENC_US,        /* integer microseconds */
    ENC_NS,        /* integer nanoseconds → µs */
    ENC_NEED_FSP,  /* DATETIME/TIME whose unit depends on an unknown fsp */
    ENC_ZONED,     /* ISO-8601 string → µs UTC */
    ENC_DEC_BYTES, /* base64 unscaled bytes (or a JSON number) */
    ENC_DEC_VAR,   /* {"scale":s,"value":base64} */
    ENC_DEC_TEXT,  /* decimal text, string or number */
    ENC_B64,       /* base64 bytes */
    ENC_HEX,       /* hex bytes */
    ENC_BITS,      /* base64 little-endian bits */
    ENC_GEOM,      /* {"wkb":base64,"srid":n} */
    ENC_RAW        /* any JSON kept as text */
};

/* A row schema with its decoding plan. */
typedef struct entry {
    struct entry *next;
    uint64_t hash;
    const char *text; /* envelope schema bytes (cache key), or NULL */
    size_t len;
    const struct entry *base; /* inferred: the hint entry it extends */
    int is_row;               /* the schema described a row */
    lks_cdc_schema schema;
    size_t *nlen;
    uint8_t *enc;
    uint8_t *ikind; /* inferred entries: the inferred kind per field */
    uint32_t *slot; /* name index, field+1; nslot a power of two or 0 */
    uint32_t nslot;
    int *key;
    int nkey;
    const char *missing_key;
} entry;

struct lks_dbz_parser {
    const lks_cdc_schema *hint;
    char **keycols;
    int nkeycols;
    int dec_mode, time_mode, bin_mode;
    lks_jtok *tok, *stok; /* payload tokens, schema tokens */
    unsigned ntok, nstok;
    lks_arena mem; /* cached entries */
    entry *cache;
    entry *inferred;
    int ncached;
    entry *hint_ent;
    /* the last source object decoded: its JSON text, and its value with the
     * strings packed in src_strs (the events of a snapshot, and of one row
     * event, share their source block) */
    lks_buf src_text, src_strs;
    lks_cdc_source src_val;
    int src_ok;
};

/* What one decode works on: a tokenized span of the document. */
typedef struct ctx {
    const char *s; /* span start */
    size_t n;
    size_t base; /* offset of the span in the document */
    const lks_jtok *t;
    int nt;
    const char *root; /* path of the span's root ("payload", "schema", "") */
    lks_arena *a;
    lks_err *err;
    lks_dbz_parser *p;
} ctx;

#define TS(c, i) ((c)->s + (c)->t[i].start)
#define TL(c, i) ((size_t)((c)->t[i].end - (c)->t[i].start))

/* ---- errors with JSON paths ------------------------------------------------------- */

static void path_of(const ctx *c, int ti, char *buf, size_t cap) {
    int chain[48];
    int nc = 0, cur = ti, cut = 0;
    while (cur >= 0 && cur < c->nt) {
        if (nc == (int)(sizeof chain / sizeof chain[0])) {
            cut = 1;
            break;
        }
        chain[nc++] = cur;
        cur = c->t[cur].parent;
    }
    size_t o = 0;
    int w = snprintf(buf, cap, "%s%s", cut ? "..." : "", c->root && *c->root ? c->root : "");
    o = w > 0 ? (size_t)w : 0;
    for (int k = nc - 1; k >= 0 && o + 1 < cap; k--) {
        int x = chain[k], par = c->t[x].parent;
        if (par < 0)
            continue;
        if (c->t[par].type == LKS_JT_OBJECT && c->t[x].type == LKS_JT_STRING) {
            size_t kl = TL(c, x);
            if (kl > 64)
                kl = 64;
            w = snprintf(buf + o, cap - o, "%s%.*s", o ? "." : "", (int)kl, TS(c, x));
        } else if (c->t[par].type == LKS_JT_ARRAY) {
            int idx = 0;
            for (int j = par + 1; j < x; j++)
                if (c->t[j].parent == par)
                    idx++;
            w = snprintf(buf + o, cap - o, "[%d]", idx);
        } else {
            continue;
        }
        if (w < 0)
            break;
        o += (size_t)w;
        if (o >= cap)
            o = cap - 1;
    }
    if (o == 0)
        snprintf(buf, cap, "(document)");
}

static int fail(const ctx *c, int code, int ti, size_t off, const char *fmt, ...) LKS_PRINTF(5, 6);
static int fail(const ctx *c, int code, int ti, size_t off, const char *fmt, ...) {
    char path[256], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    path_of(c, ti, path, sizeof path);
    return lks_err_set(c->err, code, "%s: %s at offset %zu", path, msg, c->base + off);
}

#define FAILT(c, ti, ...) fail((c), LKS_ECORRUPT, (ti), (size_t)(c)->t[ti].start, __VA_ARGS__)

static void *aalloc(const ctx *c, size_t n) {
    void *q = lks_arena_alloc(c->a, n ? n : 1);
    if (!q)
        lks_err_set(c->err, LKS_ENOMEM, "cdc: arena exhausted (%zu bytes)", n);
    return q;
}

/* ---- tokenizing and grammar check --------------------------------------------------- */

static size_t skip_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Tokenizes s[0..n) (at document offset base) into *tokp, growing it as
 * the scanner asks; the grammar is checked on the way.  Fills c. */
static int tokenize(lks_dbz_parser *p, int which, const char *s, size_t n, size_t base, const char *root,
                    const lks_json_known *kn, lks_arena *a, ctx *c, lks_err *err) {
    lks_jtok **tokp = which ? &p->stok : &p->tok;
    unsigned *capp = which ? &p->nstok : &p->ntok;
    memset(c, 0, sizeof *c);
    c->s = s;
    c->n = n;
    c->base = base;
    c->root = root;
    c->a = a;
    c->err = err;
    c->p = p;
    lks_json_scan_err e;
    int r;
    for (;;) {
        r = lks_json_scan_known(s, n, *tokp, *capp, DEPTH_MAX, kn, &e);
        if (r != -2)
            break;
        size_t want = *capp ? (size_t)*capp * 2 : 64;
        if (want > n / 2 + 2)
            want = n / 2 + 2;
        if (want <= *capp)
            return lks_err_set(err, LKS_EINTERNAL, "cdc: tokenizer wants more tokens than bytes");
        lks_jtok *nt = realloc(*tokp, want * sizeof *nt);
        if (!nt)
            return lks_err_set(err, LKS_ENOMEM, "cdc: no memory for %zu tokens", want);
        *tokp = nt;
        *capp = (unsigned)want;
    }
    c->t = *tokp;
    if (r < 0) {
        c->nt = (int)e.ntok;
        int trunc = strcmp(e.what, "truncated JSON") == 0 || strcmp(e.what, "NUL byte in JSON") == 0;
        return fail(c, LKS_ECORRUPT, e.tok, e.off, "%s%s", trunc ? "" : "invalid JSON: ", e.what);
    }
    c->nt = r;
    return LKS_OK;
}

/* ---- token helpers -------------------------------------------------------------------- */

/* Index of the token after ti's subtree. */
static int skip(const ctx *c, int ti) {
    int end = c->t[ti].end, j = ti + 1;
    if (c->t[ti].type == LKS_JT_STRING || c->t[ti].type == LKS_JT_PRIMITIVE)
        return j;
    while (j < c->nt && c->t[j].start < end)
        j++;
    return j;
}

static int is_null(const ctx *c, int ti) { return c->t[ti].type == LKS_JT_PRIMITIVE && TS(c, ti)[0] == 'n'; }

static void put_utf8(char *out, size_t *o, uint32_t cp) {
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | cp >> 6);
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | cp >> 12);
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | cp >> 18);
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static uint32_t hex4(const char *q) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char ch = q[k];
        v = v << 4 | (uint32_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
    }
    return v;
}

/* Unescapes a validated JSON string body into out (room for n + 1). */
static size_t unescape(const char *q, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = q[i];
        if (ch != '\\') {
            out[o++] = ch;
            continue;
        }
        ch = q[++i];
        switch (ch) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            uint32_t cp = hex4(q + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && q[i + 1] == '\\' && q[i + 2] == 'u') {
                uint32_t lo = hex4(q + i + 3);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (cp >= 0xd800 && cp < 0xe000)
                cp = 0xfffd; /* lone surrogate */
            put_utf8(out, &o, cp);
            break;
        }
        default: out[o++] = ch; break; /* " \ / */
        }
    }
    out[o] = 0;
    return o;
}

/* The string token's text, unescaped, NUL-terminated, in the arena. */
static int tok_cstr(const ctx *c, int ti, char **out, size_t *len) {
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    char *d = aalloc(c, n + 1);
    if (!d)
        return LKS_ENOMEM;
    if (memchr(q, '\\', n)) {
        *len = unescape(q, n, d);
    } else {
        memcpy(d, q, n);
        d[n] = 0;
        *len = n;
    }
    *out = d;
    return LKS_OK;
}

/* A key's text: the raw bytes when unescaped, else decoded into buf (or the
 * arena when longer). */
static int key_text(const ctx *c, int ti, char *buf, size_t cap, const char **kp, size_t *kl) {
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    if (!memchr(q, '\\', n)) {
        *kp = q;
        *kl = n;
        return LKS_OK;
    }
    char *d = n + 1 <= cap ? buf : aalloc(c, n + 1);
    if (!d)
        return LKS_ENOMEM;
    *kl = unescape(q, n, d);
    *kp = d;
    return LKS_OK;
}

#define KEY_IS(kp, kl, lit) ((kl) == sizeof(lit) - 1 && lks_bytes_eq((kp), (lit), sizeof(lit) - 1))

static int key_is(const char *kp, size_t kl, const char *lit) {
    size_t n = strlen(lit);
    return kl == n && memcmp(kp, lit, n) == 0;
}

/* Integer token: 0 ok, -1 not an integer, -2 out of int64 range. */
static int tok_i64(const ctx *c, int ti, int64_t *v) {
    if (c->t[ti].type != LKS_JT_PRIMITIVE)
        return -1;
    const char *q = TS(c, ti);
    size_t n = TL(c, ti), i = 0;
    int neg = 0;
    if (q[0] == '-')
        neg = 1, i = 1;
    if (i >= n)
        return -1;
    uint64_t acc = 0;
    size_t k = 0;
    while (n - i >= 8 && k < 16) { /* eight digits at a time, while they surely fit */
        uint64_t x;
        memcpy(&x, q + i, 8);
        if ((((x & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull) |
             (((x + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull)) != 0)
            break;
        x -= 0x3030303030303030ull;
        x = x * 10 + (x >> 8); /* pairs of digits (first digit in the lowest byte) */
        x = (((x & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
             (((x >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >> 32;
        acc = acc * 100000000u + (uint32_t)x;
        i += 8, k += 8;
    }
    for (; i < n; i++, k++) {
        unsigned d = (unsigned)(unsigned char)q[i] - '0';
        if (d > 9)
            return -1;
        if (k >= 19 && acc > (UINT64_MAX - d) / 10) /* 19 digits always fit */
            return -2;
        acc = acc * 10 + d;
    }
    if (neg) {
        if (acc > (uint64_t)INT64_MAX + 1)
            return -2;
        *v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    } else {
        if (acc > (uint64_t)INT64_MAX)
            return -2;
        *v = (int64_t)acc;
    }
    return 0;
}

static int tok_f64(const ctx *c, int ti, double *v) {
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    if (c->t[ti].type == LKS_JT_STRING) {
        if (n == 3 && memcmp(q, "NaN", 3) == 0)
            *v = NAN;
        else if (n == 8 && memcmp(q, "Infinity", 8) == 0)
            *v = INFINITY;
        else if (n == 9 && memcmp(q, "-Infinity", 9) == 0)
            *v = -INFINITY;
        else
            return -1;
        return 0;
    }
    if (c->t[ti].type != LKS_JT_PRIMITIVE || !lks_json_valid_number(q, n))
        return -1;
    char buf[128];
    char *z = n < sizeof buf ? buf : aalloc(c, n + 1);
    if (!z)
        return -1;
    memcpy(z, q, n);
    z[n] = 0;
    *v = strtod(z, NULL);
    return 0;
}

/* Parses a decimal integer held in a string token (Connect parameters). */
static int tok_param_int(const ctx *c, int ti, int *out) {
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    if (c->t[ti].type != LKS_JT_STRING || n == 0 || n > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i] < '0' || q[i] > '9')
            return -1;
        v = v * 10 + (q[i] - '0');
    }
    *out = v;
    return 0;
}

/* ---- value decoding ------------------------------------------------------------------- */

static int b64_tok(const ctx *c, int ti, uint8_t **out, size_t *len) {
    size_t n = TL(c, ti);
    uint8_t *d = aalloc(c, n / 4 * 3 + 3);
    if (!d)
        return LKS_ENOMEM;
    long r = lks_dbz_b64_decode(TS(c, ti), n, d);
    if (r < 0)
        return FAILT(c, ti, "bad base64");
    *out = d;
    *len = (size_t)r;
    return LKS_OK;
}

static int dec_from_bytes(const ctx *c, int ti, const uint8_t *d, size_t len, int scale, lks_cdc_value *v) {
    if (len == 0)
        return FAILT(c, ti, "empty decimal bytes");
    size_t off = lks_dbz_dec_trim(d, len);
    if (len - off > DBZ_DEC_MAX)
        return FAILT(c, ti, "decimal wider than %d bytes", DBZ_DEC_MAX);
    v->kind = LKS_CV_DECIMAL;
    v->u.dec.be = d + off;
    v->u.dec.len = len - off;
    v->u.dec.scale = scale;
    return LKS_OK;
}

static int dec_from_text_tok(const ctx *c, int ti, const char *q, size_t n, int scale, lks_cdc_value *v) {
    uint8_t tmp[DBZ_DEC_MAX];
    size_t len;
    int sc;
    int r = lks_dbz_dec_from_text(q, n, scale, tmp, &len, &sc);
    if (r == -1)
        return FAILT(c, ti, "not a decimal number");
    if (r == -2)
        return fail(c, LKS_EINVAL, ti, (size_t)c->t[ti].start, "decimal has more fraction digits than scale %d",
                    scale);
    if (r == -3)
        return FAILT(c, ti, "decimal wider than %d bytes", DBZ_DEC_MAX);
    uint8_t *d = aalloc(c, len);
    if (!d)
        return LKS_ENOMEM;
    memcpy(d, tmp, len);
    v->kind = LKS_CV_DECIMAL;
    v->u.dec.be = d;
    v->u.dec.len = len;
    v->u.dec.scale = sc;
    return LKS_OK;
}

/* Finds member `name` of the object at ti; -1 when absent. */
static int member(const ctx *c, int ti, const char *name) {
    int k = ti + 1;
    for (int m = 0; m < c->t[ti].size; m++) {
        if (key_is(TS(c, k), TL(c, k), name))
            return k + 1;
        k = skip(c, k + 1);
    }
    return -1;
}

static int decode_decimal(const ctx *c, int ti, const lks_cdc_type *ty, int enc, lks_cdc_value *v) {
    const lks_jtok *t = &c->t[ti];
    int varscale = ty->precision == 0;
    if (t->type == LKS_JT_OBJECT) { /* VariableScaleDecimal */
        int st = member(c, ti, "scale"), vt = member(c, ti, "value");
        int64_t sc;
        if (st < 0 || vt < 0)
            return FAILT(c, ti, "variable-scale decimal needs \"scale\" and \"value\"");
        if (tok_i64(c, st, &sc) != 0 || sc < -1000 || sc > 1000)
            return FAILT(c, st, "bad decimal scale");
        if (c->t[vt].type != LKS_JT_STRING)
            return FAILT(c, vt, "expected base64 decimal bytes");
        uint8_t *d;
        size_t len;
        int rc = b64_tok(c, vt, &d, &len);
        return rc ? rc : dec_from_bytes(c, vt, d, len, (int)sc, v);
    }
    if (t->type == LKS_JT_PRIMITIVE) {
        if (TS(c, ti)[0] == 't' || TS(c, ti)[0] == 'f')
            return FAILT(c, ti, "expected a decimal, found a boolean");
        return dec_from_text_tok(c, ti, TS(c, ti), TL(c, ti), varscale ? -1 : ty->scale, v);
    }
    if (t->type != LKS_JT_STRING)
        return FAILT(c, ti, "expected a decimal");
    if (enc == ENC_DEC_TEXT)
        return dec_from_text_tok(c, ti, TS(c, ti), TL(c, ti), varscale ? -1 : ty->scale, v);
    if (varscale)
        return fail(c, LKS_EINVAL, ti, (size_t)t->start,
                    "precise-mode DECIMAL of unknown scale (base64 bytes without a scale): give the column's type");
    uint8_t *d;
    size_t len;
    int rc = b64_tok(c, ti, &d, &len);
    return rc ? rc : dec_from_bytes(c, ti, d, len, ty->scale, v);
}

static int decode_u64(const ctx *c, int ti, lks_cdc_value *v) {
    const lks_jtok *t = &c->t[ti];
    uint8_t tmp[DBZ_DEC_MAX];
    const uint8_t *be;
    size_t len;
    if (t->type == LKS_JT_STRING) {
        uint8_t *d;
        int rc = b64_tok(c, ti, &d, &len);
        if (rc)
            return rc;
        be = d;
    } else if (t->type == LKS_JT_PRIMITIVE) {
        int64_t i;
        if (tok_i64(c, ti, &i) == 0 && i < 0) { /* bigint.unsigned.handling.mode=long wrap */
            v->kind = LKS_CV_UINT;
            v->u.u64 = (uint64_t)i;
            return LKS_OK;
        }
        int r = lks_dbz_dec_from_text(TS(c, ti), TL(c, ti), 0, tmp, &len, NULL);
        if (r != 0)
            return FAILT(c, ti, "not an unsigned 64-bit integer");
        be = tmp;
    } else {
        return FAILT(c, ti, "expected an unsigned integer");
    }
    if (len == 0)
        return FAILT(c, ti, "empty integer bytes");
    if (be[0] & 0x80)
        return FAILT(c, ti, "negative value for BIGINT UNSIGNED");
    size_t off = lks_dbz_dec_trim(be, len);
    if (len - off > 9 || (len - off == 9 && be[off] != 0))
        return FAILT(c, ti, "value exceeds 2^64-1");
    uint64_t u = 0;
    for (size_t k = off; k < len; k++)
        u = u << 8 | be[k];
    v->kind = LKS_CV_UINT;
    v->u.u64 = u;
    return LKS_OK;
}

static int decode_bytes(const ctx *c, int ti, const lks_cdc_type *ty, int enc, lks_cdc_value *v) {
    if (enc == ENC_GEOM && c->t[ti].type == LKS_JT_OBJECT) {
        int wt = member(c, ti, "wkb");
        if (wt < 0 || c->t[wt].type != LKS_JT_STRING)
            return FAILT(c, ti, "geometry without \"wkb\" bytes");
        ti = wt;
    }
    if (c->t[ti].type != LKS_JT_STRING)
        return FAILT(c, ti, "expected encoded bytes (a string)");
    uint8_t *d;
    size_t len;
    if (enc == ENC_HEX) {
        d = aalloc(c, TL(c, ti) / 2 + 1);
        if (!d)
            return LKS_ENOMEM;
        long r = lks_dbz_hex_decode(TS(c, ti), TL(c, ti), d);
        if (r < 0)
            return FAILT(c, ti, "bad hex");
        len = (size_t)r;
    } else {
        int rc = b64_tok(c, ti, &d, &len);
        if (rc)
            return rc;
    }
    if (enc == ENC_BITS) { /* little-endian → big-endian, (n+7)/8 bytes */
        size_t want = ty->precision > 0 ? ((size_t)ty->precision + 7) / 8 : len;
        if (len > want) {
            for (size_t k = want; k < len; k++)
                if (d[k])
                    return FAILT(c, ti, "BIT(%d) value has more bits", ty->precision);
            len = want;
        }
        uint8_t *be = aalloc(c, want);
        if (!be)
            return LKS_ENOMEM;
        memset(be, 0, want);
        for (size_t k = 0; k < len; k++)
            be[want - 1 - k] = d[k];
        d = be;
        len = want;
    }
    v->kind = LKS_CV_BYTES;
    v->u.bytes.ptr = d;
    v->u.bytes.len = len;
    return LKS_OK;
}

static int decode_value(const ctx *c, int ti, const lks_cdc_field *f, int enc, lks_cdc_value *v) {
    const lks_jtok *t = &c->t[ti];
    if (is_null(c, ti)) {
        v->kind = LKS_CV_NULL;
        return LKS_OK;
    }
    int64_t i;
    int r;
    switch (f->type.kind) {
    case LKS_CT_BOOL:
        if (t->type == LKS_JT_PRIMITIVE && (TS(c, ti)[0] == 't' || TS(c, ti)[0] == 'f')) {
            v->kind = LKS_CV_BOOL;
            v->u.b = TS(c, ti)[0] == 't';
            return LKS_OK;
        }
        if (tok_i64(c, ti, &i) == 0 && (i == 0 || i == 1)) {
            v->kind = LKS_CV_BOOL;
            v->u.b = (int)i;
            return LKS_OK;
        }
        return FAILT(c, ti, "expected a boolean");
    case LKS_CT_INT8:
    case LKS_CT_INT16:
    case LKS_CT_INT32:
    case LKS_CT_INT64:
    case LKS_CT_DATE: {
        r = tok_i64(c, ti, &i);
        if (r == -1)
            return FAILT(c, ti, "expected an integer");
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (f->type.kind == LKS_CT_INT8)
            lo = -128, hi = 127;
        else if (f->type.kind == LKS_CT_INT16)
            lo = -32768, hi = 32767;
        else if (f->type.kind == LKS_CT_INT32 || f->type.kind == LKS_CT_DATE)
            lo = INT32_MIN, hi = INT32_MAX;
        if (r == -2 || i < lo || i > hi)
            return FAILT(c, ti, "integer out of range for the column's type");
        v->kind = LKS_CV_INT;
        v->u.i64 = i;
        return LKS_OK;
    }
    case LKS_CT_UINT64:
        return decode_u64(c, ti, v);
    case LKS_CT_FLOAT:
    case LKS_CT_DOUBLE:
        if (tok_f64(c, ti, &v->u.f64) != 0)
            return FAILT(c, ti, "expected a number");
        v->kind = LKS_CV_DOUBLE;
        return LKS_OK;
    case LKS_CT_DECIMAL:
        return decode_decimal(c, ti, &f->type, enc, v);
    case LKS_CT_STRING:
        if (t->type != LKS_JT_STRING)
            return FAILT(c, ti, "expected a string");
        goto text;
    case LKS_CT_JSON:
        if (t->type != LKS_JT_STRING) { /* inline JSON: keep its text */
            char *d = aalloc(c, TL(c, ti) + 1);
            if (!d)
                return LKS_ENOMEM;
            memcpy(d, TS(c, ti), TL(c, ti));
            d[TL(c, ti)] = 0;
            v->kind = LKS_CV_BYTES;
            v->u.bytes.ptr = (const uint8_t *)d;
            v->u.bytes.len = TL(c, ti);
            return LKS_OK;
        }
    text: {
        char *d;
        size_t len;
        int rc = tok_cstr(c, ti, &d, &len);
        if (rc)
            return rc;
        v->kind = LKS_CV_BYTES;
        v->u.bytes.ptr = (const uint8_t *)d;
        v->u.bytes.len = len;
        return LKS_OK;
    }
    case LKS_CT_BYTES:
        if (enc == ENC_RAW)
            goto text;
        return decode_bytes(c, ti, &f->type, enc, v);
    case LKS_CT_TIME:
    case LKS_CT_DATETIME:
        r = tok_i64(c, ti, &i);
        if (r == -1)
            return FAILT(c, ti, "expected an integer time");
        if (r == -2)
            return FAILT(c, ti, "time out of range");
        if (enc == ENC_NEED_FSP)
            return fail(c, LKS_EINVAL, ti, (size_t)t->start,
                        "%s of unknown fractional-second precision: milliseconds or microseconds cannot be told "
                        "apart; give the column's fsp",
                        f->type.kind == LKS_CT_TIME ? "TIME" : "DATETIME");
        if (enc == ENC_MS) {
            if (i > INT64_MAX / 1000 || i < INT64_MIN / 1000)
                return FAILT(c, ti, "time out of range");
            i *= 1000;
        } else if (enc == ENC_NS) {
            i = i / 1000 - (i % 1000 < 0); /* floor */
        }
        v->kind = LKS_CV_INT;
        v->u.i64 = i;
        return LKS_OK;
    case LKS_CT_TIMESTAMP: {
        if (t->type != LKS_JT_STRING)
            return FAILT(c, ti, "expected an ISO-8601 timestamp string");
        char buf[96];
        size_t n = TL(c, ti);
        if (n >= sizeof buf)
            return FAILT(c, ti, "timestamp text too long");
        memcpy(buf, TS(c, ti), n);
        buf[n] = 0;
        if (lks_parse_timestamp_us(buf, n, &i) != LKS_OK)
            return FAILT(c, ti, "bad ISO-8601 timestamp");
        v->kind = LKS_CV_INT;
        v->u.i64 = i;
        return LKS_OK;
    }
    default:
        return fail(c, LKS_EINTERNAL, ti, (size_t)t->start, "column type %d unknown", f->type.kind);
    }
}

/* ---- entries: schemas with decoding plans ------------------------------------------- */

static entry *entry_new(lks_arena *m, int nf) {
    entry *e = lks_arena_alloc(m, sizeof *e);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    size_t n = nf > 0 ? (size_t)nf : 1;
    e->schema.fields = lks_arena_alloc(m, n * sizeof *e->schema.fields);
    e->nlen = lks_arena_alloc(m, n * sizeof *e->nlen);
    e->enc = lks_arena_alloc(m, n);
    e->ikind = lks_arena_alloc(m, n);
    if (!e->schema.fields || !e->nlen || !e->enc || !e->ikind)
        return NULL;
    memset(e->schema.fields, 0, n * sizeof *e->schema.fields);
    memset(e->enc, 0, n);
    memset(e->ikind, 0, n);
    e->schema.nfields = nf;
    return e;
}

static int entry_find(const entry *e, const char *name, size_t len, int guess) {
    int nf = e->schema.nfields;
    if (guess >= 0 && guess < nf && e->nlen[guess] == len && lks_bytes_eq(e->schema.fields[guess].name, name, len))
        return guess;
    if (e->nslot) {
        uint32_t mask = e->nslot - 1, k = (uint32_t)lks_hash(name, len) & mask;
        while (e->slot[k]) {
            int f = (int)e->slot[k] - 1;
            if (e->nlen[f] == len && lks_bytes_eq(e->schema.fields[f].name, name, len))
                return f;
            k = (k + 1) & mask;
        }
        return -1;
    }
    for (int f = 0; f < nf; f++)
        if (e->nlen[f] == len && memcmp(e->schema.fields[f].name, name, len) == 0)
            return f;
    return -1;
}

/* Name lengths, the name index and the key columns. */
static int entry_finish(lks_dbz_parser *p, entry *e, lks_arena *m, lks_err *err) {
    int nf = e->schema.nfields;
    for (int f = 0; f < nf; f++)
        e->nlen[f] = strlen(e->schema.fields[f].name);
    if (nf > 8) {
        uint32_t ns = 16;
        while (ns < (uint32_t)nf * 2)
            ns <<= 1;
        e->slot = lks_arena_alloc(m, ns * sizeof *e->slot);
        if (!e->slot)
            return lks_err_set(err, LKS_ENOMEM, "cdc: arena exhausted");
        memset(e->slot, 0, ns * sizeof *e->slot);
        e->nslot = ns;
        for (int f = 0; f < nf; f++) {
            uint32_t k = (uint32_t)lks_hash(e->schema.fields[f].name, e->nlen[f]) & (ns - 1);
            while (e->slot[k]) {
                int g = (int)e->slot[k] - 1;
                if (e->nlen[g] == e->nlen[f] && memcmp(e->schema.fields[g].name, e->schema.fields[f].name, e->nlen[f]) == 0)
                    return lks_err_set(err, LKS_ECORRUPT, "schema: column \"%s\" appears twice",
                                       e->schema.fields[f].name);
                k = (k + 1) & (ns - 1);
            }
            e->slot[k] = (uint32_t)f + 1;
        }
    }
    if (p->nkeycols) {
        e->key = lks_arena_alloc(m, (size_t)p->nkeycols * sizeof *e->key);
        if (!e->key)
            return lks_err_set(err, LKS_ENOMEM, "cdc: arena exhausted");
        for (int k = 0; k < p->nkeycols; k++) {
            int f = entry_find(e, p->keycols[k], strlen(p->keycols[k]), -1);
            if (f < 0) {
                e->missing_key = p->keycols[k];
                e->nkey = 0;
                break;
            }
            e->key[k] = f;
            e->nkey = k + 1;
        }
    }
    return LKS_OK;
}

static int enc_for_type(const lks_dbz_parser *p, const lks_cdc_type *ty) {
    switch (ty->kind) {
    case LKS_CT_DECIMAL:
        if (p->dec_mode != DBZ_DEC_PRECISE)
            return ENC_DEC_TEXT;
        return ty->precision == 0 ? ENC_DEC_VAR : ENC_DEC_BYTES;
    case LKS_CT_BYTES:
        if (ty->detail == LKS_CD_BIT)
            return ENC_BITS;
        if (ty->detail == LKS_CD_GEOMETRY || ty->detail == LKS_CD_POINT)
            return ENC_GEOM;
        return p->bin_mode == DBZ_BIN_HEX ? ENC_HEX : ENC_B64;
    case LKS_CT_DATETIME:
    case LKS_CT_TIME:
        if (p->time_mode == DBZ_TIME_CONNECT)
            return ENC_MS;
        if (ty->kind == LKS_CT_TIME && p->time_mode == DBZ_TIME_ADAPTIVE_US)
            return ENC_US;
        if (ty->precision < 0)
            return ENC_NEED_FSP;
        return ty->precision <= 3 ? ENC_MS : ty->precision <= 6 ? ENC_US : ENC_NS;
    case LKS_CT_TIMESTAMP:
        return ENC_ZONED;
    default:
        return ENC_PLAIN;
    }
}

/* Maps one Connect field schema (the object at ti) to a field and its plan. */
static int parse_field(const ctx *c, int ti, lks_cdc_field *f, uint8_t *enc) {
    if (c->t[ti].type != LKS_JT_OBJECT)
        return FAILT(c, ti, "expected a field schema object");
    int tt = -1, nt = -1, ft = -1, ot = -1, pt = -1;
    int k = ti + 1;
    for (int m = 0; m < c->t[ti].size; m++) {
        const char *kp = TS(c, k);
        size_t kl = TL(c, k);
        if (KEY_IS(kp, kl, "type"))
            tt = k + 1;
        else if (KEY_IS(kp, kl, "name"))
            nt = k + 1;
        else if (KEY_IS(kp, kl, "field"))
            ft = k + 1;
        else if (KEY_IS(kp, kl, "optional"))
            ot = k + 1;
        else if (KEY_IS(kp, kl, "parameters"))
            pt = k + 1;
        k = skip(c, k + 1);
    }
    if (ft < 0 || c->t[ft].type != LKS_JT_STRING)
        return FAILT(c, ti, "field schema without a \"field\" name");
    if (tt < 0 || c->t[tt].type != LKS_JT_STRING)
        return FAILT(c, ti, "field schema without a \"type\"");
    char *name;
    size_t nl;
    int rc = tok_cstr(c, ft, &name, &nl);
    if (rc)
        return rc;
    if (nl == 0 || memchr(name, 0, nl) || !lks_utf8_valid(name, nl))
        return FAILT(c, ft, "bad field name (empty, a NUL or not UTF-8)");
    f->name = name;
    f->allowed = NULL;
    memset(&f->type, 0, sizeof f->type);
    f->type.optional = ot >= 0 && TS(c, ot)[0] == 't';
    f->type.precision = -1;
    /* parameters */
    int scale = 0, prec = -1, length = -1, has_scale = 0;
    int ct = -1, clen = -1, cscale = -1;
    if (pt >= 0 && c->t[pt].type == LKS_JT_OBJECT) {
        int q = pt + 1;
        for (int m = 0; m < c->t[pt].size; m++) {
            const char *kp = TS(c, q);
            size_t kl = TL(c, q);
            int vt = q + 1;
            if (KEY_IS(kp, kl, "scale")) {
                if (tok_param_int(c, vt, &scale) != 0 || scale > 1000)
                    return FAILT(c, vt, "bad decimal scale parameter (0 to 1000)");
                has_scale = 1;
            } else if (KEY_IS(kp, kl, "connect.decimal.precision")) {
                if (tok_param_int(c, vt, &prec) != 0)
                    return FAILT(c, vt, "bad decimal precision parameter");
            } else if (KEY_IS(kp, kl, "length")) {
                if (tok_param_int(c, vt, &length) != 0)
                    return FAILT(c, vt, "bad length parameter");
            } else if (KEY_IS(kp, kl, "allowed") && c->t[vt].type == LKS_JT_STRING) {
                char *al;
                size_t all;
                if ((rc = tok_cstr(c, vt, &al, &all)) != 0)
                    return rc;
                f->allowed = al;
            } else if (KEY_IS(kp, kl, "__debezium.source.column.type") && c->t[vt].type == LKS_JT_STRING) {
                ct = vt;
            } else if (KEY_IS(kp, kl, "__debezium.source.column.length")) {
                (void)tok_param_int(c, vt, &clen);
            } else if (KEY_IS(kp, kl, "__debezium.source.column.scale")) {
                (void)tok_param_int(c, vt, &cscale);
            }
            q = skip(c, vt);
        }
    }
    const char *ty = TS(c, tt);
    size_t tl = TL(c, tt);
    const char *ln = nt >= 0 && c->t[nt].type == LKS_JT_STRING ? TS(c, nt) : "";
    size_t ll = nt >= 0 && c->t[nt].type == LKS_JT_STRING ? TL(c, nt) : 0;
    lks_cdc_type *T = &f->type;
    *enc = ENC_PLAIN;
#define LN(s) KEY_IS(ln, ll, s)
    if (LN("org.apache.kafka.connect.data.Decimal")) {
        if (!has_scale)
            return FAILT(c, ti, "Decimal without a scale parameter");
        if (prec < 0 && scale == 0) { /* Debezium's BIGINT UNSIGNED (precise) */
            T->kind = LKS_CT_UINT64;
        } else {
            T->kind = LKS_CT_DECIMAL;
            T->precision = prec < 0 ? 0 : prec;
            T->scale = scale;
            *enc = ENC_DEC_BYTES;
        }
    } else if (LN("io.debezium.data.VariableScaleDecimal")) {
        T->kind = LKS_CT_DECIMAL, T->precision = 0, *enc = ENC_DEC_VAR;
    } else if (LN("io.debezium.data.Bits")) {
        T->kind = LKS_CT_BYTES, T->detail = LKS_CD_BIT, T->precision = length, *enc = ENC_BITS;
    } else if (LN("io.debezium.time.Date") || LN("org.apache.kafka.connect.data.Date")) {
        T->kind = LKS_CT_DATE;
    } else if (LN("io.debezium.time.Time") || LN("org.apache.kafka.connect.data.Time")) {
        T->kind = LKS_CT_TIME, T->precision = 3, *enc = ENC_MS;
    } else if (LN("io.debezium.time.MicroTime")) {
        T->kind = LKS_CT_TIME, T->precision = 6, *enc = ENC_US;
    } else if (LN("io.debezium.time.NanoTime")) {
        T->kind = LKS_CT_TIME, T->precision = 9, *enc = ENC_NS;
    } else if (LN("io.debezium.time.Timestamp") || LN("org.apache.kafka.connect.data.Timestamp")) {
        T->kind = LKS_CT_DATETIME, T->precision = 3, *enc = ENC_MS;
    } else if (LN("io.debezium.time.MicroTimestamp")) {
        T->kind = LKS_CT_DATETIME, T->precision = 6, *enc = ENC_US;
    } else if (LN("io.debezium.time.NanoTimestamp")) {
        T->kind = LKS_CT_DATETIME, T->precision = 9, *enc = ENC_NS;
    } else if (LN("io.debezium.time.ZonedTimestamp")) {
        T->kind = LKS_CT_TIMESTAMP, *enc = ENC_ZONED;
    } else if (LN("io.debezium.time.Year")) {
        T->kind = LKS_CT_INT16, T->detail = LKS_CD_YEAR;
    } else if (LN("io.debezium.data.Json")) {
        T->kind = LKS_CT_JSON;
    } else if (LN("io.debezium.data.Enum")) {
        T->kind = LKS_CT_STRING, T->detail = LKS_CD_ENUM;
    } else if (LN("io.debezium.data.EnumSet")) {
        T->kind = LKS_CT_STRING, T->detail = LKS_CD_SET;
    } else if (LN("io.debezium.data.geometry.Geometry")) {
        T->kind = LKS_CT_BYTES, T->detail = LKS_CD_GEOMETRY, *enc = ENC_GEOM;
    } else if (LN("io.debezium.data.geometry.Point")) {
        T->kind = LKS_CT_BYTES, T->detail = LKS_CD_POINT, *enc = ENC_GEOM;
    } else if (KEY_IS(ty, tl, "boolean")) {
        T->kind = LKS_CT_BOOL;
    } else if (KEY_IS(ty, tl, "int8")) {
        T->kind = LKS_CT_INT8;
    } else if (KEY_IS(ty, tl, "int16")) {
        T->kind = LKS_CT_INT16;
    } else if (KEY_IS(ty, tl, "int32")) {
        T->kind = LKS_CT_INT32;
    } else if (KEY_IS(ty, tl, "int64")) {
        T->kind = LKS_CT_INT64;
    } else if (KEY_IS(ty, tl, "float32") || KEY_IS(ty, tl, "float")) {
        T->kind = LKS_CT_FLOAT;
    } else if (KEY_IS(ty, tl, "float64") || KEY_IS(ty, tl, "double")) {
        T->kind = LKS_CT_DOUBLE;
    } else if (KEY_IS(ty, tl, "string")) {
        T->kind = LKS_CT_STRING;
    } else if (KEY_IS(ty, tl, "bytes")) {
        T->kind = LKS_CT_BYTES, *enc = ENC_B64;
    } else if (KEY_IS(ty, tl, "struct") || KEY_IS(ty, tl, "array") || KEY_IS(ty, tl, "map")) {
        T->kind = LKS_CT_JSON, *enc = ENC_RAW; /* an unknown structure: kept as JSON text */
    } else {
        return fail(c, LKS_EUNSUPPORTED, tt, (size_t)c->t[tt].start, "unknown Connect type \"%.*s\"", (int)tl, ty);
    }
#undef LN
    /* column.propagate.source.type: the MySQL type refines the Connect one */
    if (ct >= 0) {
        char up[48];
        size_t n = TL(c, ct) < sizeof up - 1 ? TL(c, ct) : sizeof up - 1;
        for (size_t q = 0; q < n; q++) {
            char ch = TS(c, ct)[q];
            up[q] = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
        }
        up[n] = 0;
        int uns = strstr(up, "UNSIGNED") != NULL;
        char *sp = strchr(up, ' ');
        if (sp)
            *sp = 0;
        int isint = T->kind >= LKS_CT_INT8 && T->kind <= LKS_CT_INT64 && !T->detail;
        if (isint && strcmp(up, "TINYINT") == 0)
            T->kind = uns ? LKS_CT_INT16 : LKS_CT_INT8;
        else if (isint && strcmp(up, "SMALLINT") == 0)
            T->kind = uns ? LKS_CT_INT32 : LKS_CT_INT16;
        else if (isint && (strcmp(up, "MEDIUMINT") == 0))
            T->kind = LKS_CT_INT32;
        else if (isint && (strcmp(up, "INT") == 0 || strcmp(up, "INTEGER") == 0))
            T->kind = uns ? LKS_CT_INT64 : LKS_CT_INT32;
        else if (strcmp(up, "BIGINT") == 0 && uns && (T->kind == LKS_CT_INT64 || T->kind == LKS_CT_UINT64 ||
                                                      T->kind == LKS_CT_DECIMAL || T->kind == LKS_CT_STRING))
            T->kind = LKS_CT_UINT64, T->precision = -1, T->scale = 0, *enc = ENC_PLAIN;
        else if ((strcmp(up, "DECIMAL") == 0 || strcmp(up, "NUMERIC") == 0 || strcmp(up, "FIXED") == 0 ||
                  strcmp(up, "DEC") == 0) &&
                 (T->kind == LKS_CT_DOUBLE || T->kind == LKS_CT_STRING || T->kind == LKS_CT_DECIMAL)) {
            if (T->kind != LKS_CT_DECIMAL)
                *enc = ENC_DEC_TEXT;
            T->kind = LKS_CT_DECIMAL;
            if (clen > 0)
                T->precision = clen;
            else if (T->precision < 0)
                T->precision = 0;
            if (cscale >= 0)
                T->scale = cscale;
            else if (T->precision == 0)
                T->scale = 0;
        } else if ((strcmp(up, "DATETIME") == 0 && T->kind == LKS_CT_DATETIME) ||
                   (strcmp(up, "TIME") == 0 && T->kind == LKS_CT_TIME) ||
                   (strcmp(up, "TIMESTAMP") == 0 && T->kind == LKS_CT_TIMESTAMP))
            T->precision = clen >= 0 ? clen : 0;
        else if (strcmp(up, "BIT") == 0 && T->kind == LKS_CT_BYTES && clen > 0)
            T->precision = clen;
        else if ((strstr(up, "BINARY") || strstr(up, "BLOB")) && T->kind == LKS_CT_STRING) {
            T->kind = LKS_CT_BYTES; /* binary.handling.mode base64/hex */
            *enc = c->p->bin_mode == DBZ_BIN_HEX ? ENC_HEX : ENC_B64;
        }
    }
    return LKS_OK;
}

/* Builds the entry an envelope (or key) schema describes; *out NULL-free. */
static int build_schema_entry(lks_dbz_parser *p, const ctx *c, lks_arena *m, entry **out) {
    entry *e = NULL;
    if (c->t[0].type != LKS_JT_OBJECT)
        return FAILT(c, 0, "expected a schema object");
    int fl = member(c, 0, "fields");
    if (fl < 0 || c->t[fl].type != LKS_JT_ARRAY) { /* not a row schema, e.g. {} */
        e = entry_new(m, 0);
        if (!e)
            return lks_err_set(c->err, LKS_ENOMEM, "cdc: arena exhausted");
        *out = e;
        return entry_finish(p, e, m, c->err);
    }
    int row = -1, k = fl + 1;
    for (int i = 0; i < c->t[fl].size; i++) {
        if (c->t[k].type == LKS_JT_OBJECT) {
            int nm = member(c, k, "field");
            if (nm >= 0 && KEY_IS(TS(c, nm), TL(c, nm), "after"))
                row = k;
            else if (nm >= 0 && row < 0 && KEY_IS(TS(c, nm), TL(c, nm), "before"))
                row = k;
        }
        k = skip(c, k);
    }
    int cols = fl;
    if (row >= 0) {
        cols = member(c, row, "fields");
        if (cols < 0 || c->t[cols].type != LKS_JT_ARRAY)
            return FAILT(c, row, "row schema without \"fields\"");
    }
    int nf = c->t[cols].size;
    e = entry_new(m, nf);
    if (!e)
        return lks_err_set(c->err, LKS_ENOMEM, "cdc: arena exhausted");
    e->is_row = 1;
    lks_arena *keep = ((ctx *)c)->a;
    ((ctx *)c)->a = m; /* names live with the entry */
    k = cols + 1;
    int rc = LKS_OK;
    for (int i = 0; i < nf && rc == LKS_OK; i++) {
        rc = parse_field(c, k, &e->schema.fields[i], &e->enc[i]);
        k = skip(c, k);
    }
    ((ctx *)c)->a = keep;
    if (rc)
        return rc;
    *out = e;
    return entry_finish(p, e, m, c->err);
}

/* The entry for envelope schema text s[0..n) at document offset base. */
static int schema_entry(lks_dbz_parser *p, const char *s, size_t n, size_t base, lks_arena *a, entry **out,
                        lks_err *err) {
    uint64_t h = lks_hash(s, n);
    for (entry *e = p->cache; e; e = e->next)
        if (e->hash == h && e->len == n && memcmp(e->text, s, n) == 0) {
            *out = e;
            return LKS_OK;
        }
    ctx c;
    int rc = tokenize(p, 1, s, n, base, "schema", NULL, a, &c, err);
    if (rc)
        return rc;
    int cacheable = p->ncached < CACHE_MAX_ENTRIES && p->mem.used_total + n * 4 < CACHE_MAX_BYTES;
    lks_arena *m = cacheable ? &p->mem : a;
    entry *e = NULL;
    rc = build_schema_entry(p, &c, m, &e);
    if (rc)
        return rc;
    if (cacheable) {
        char *t = lks_arena_memdup(m, s, n);
        if (!t)
            return lks_err_set(err, LKS_ENOMEM, "cdc: arena exhausted");
        e->text = t;
        e->len = n;
        e->hash = h;
        e->next = p->cache;
        p->cache = e;
        p->ncached++;
    }
    *out = e;
    return LKS_OK;
}

/* ---- inference (no envelope) ------------------------------------------------------------ */

static int infer_kind(const ctx *c, int ti) {
    switch (c->t[ti].type) {
    case LKS_JT_OBJECT:
    case LKS_JT_ARRAY: return LKS_CT_JSON;
    case LKS_JT_STRING: return LKS_CT_STRING;
    default: break;
    }
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    if (q[0] == 't' || q[0] == 'f')
        return LKS_CT_BOOL;
    if (q[0] == 'n')
        return 0;
    if (memchr(q, '.', n) || memchr(q, 'e', n) || memchr(q, 'E', n))
        return LKS_CT_DOUBLE;
    int64_t i;
    if (tok_i64(c, ti, &i) == 0)
        return LKS_CT_INT64;
    return q[0] != '-' && n <= 20 ? LKS_CT_UINT64 : LKS_CT_DOUBLE;
}

typedef struct extra {
    int key; /* key token */
    int kind;
} extra;

/* The entry for rows without a schema: the hint's, extended by columns it
 * lacks (with inferred types).  Inferred entries are cached by their names
 * and kinds. */
static int infer_entry(lks_dbz_parser *p, const ctx *c, const int *img, int nimg, int skip_meta, entry **out) {
    const entry *base = p->hint_ent;
    int cap = 0;
    for (int i = 0; i < nimg; i++)
        if (img[i] >= 0)
            cap += c->t[img[i]].size;
    extra stackx[64];
    extra *x = cap <= 64 ? stackx : aalloc(c, (size_t)cap * sizeof *x);
    if (!x)
        return LKS_ENOMEM;
    int nx = 0;
    char kb[256];
    for (int i = 0; i < nimg; i++) {
        if (img[i] < 0)
            continue;
        int k = img[i] + 1;
        for (int m = 0; m < c->t[img[i]].size; m++) {
            const char *kp;
            size_t kl;
            int rc = key_text(c, k, kb, sizeof kb, &kp, &kl);
            if (rc)
                return rc;
            if (skip_meta && kl > 2 && kp[0] == '_' && kp[1] == '_') {
                k = skip(c, k + 1);
                continue;
            }
            if (!base || entry_find(base, kp, kl, m) < 0) {
                int j;
                for (j = 0; j < nx; j++) {
                    const char *jp;
                    size_t jl;
                    char jb[256];
                    if ((rc = key_text(c, x[j].key, jb, sizeof jb, &jp, &jl)) != 0)
                        return rc;
                    if (jl == kl && memcmp(jp, kp, kl) == 0)
                        break;
                }
                int kind = infer_kind(c, k + 1);
                if (j == nx)
                    x[nx++] = (extra){k, kind};
                else if (!x[j].kind)
                    x[j].kind = kind;
            }
            k = skip(c, k + 1);
        }
    }
    if (nx == 0 && base) {
        *out = (entry *)base;
        return LKS_OK;
    }
    int nb = base ? base->schema.nfields : 0;
    /* a cached inferred entry with the same base, names and kinds? */
    for (entry *e = p->inferred; e; e = e->next) {
        if (e->base != base || e->schema.nfields != nb + nx)
            continue;
        int same = 1;
        for (int j = 0; j < nx && same; j++) {
            const char *kp;
            size_t kl;
            int rc = key_text(c, x[j].key, kb, sizeof kb, &kp, &kl);
            if (rc)
                return rc;
            int kind = x[j].kind ? x[j].kind : LKS_CT_STRING;
            same = e->nlen[nb + j] == kl && memcmp(e->schema.fields[nb + j].name, kp, kl) == 0 &&
                   e->ikind[nb + j] == kind;
        }
        if (same) {
            *out = e;
            return LKS_OK;
        }
    }
    int cacheable = p->ncached < CACHE_MAX_ENTRIES && p->mem.used_total < CACHE_MAX_BYTES;
    lks_arena *m = cacheable ? &p->mem : c->a;
    entry *e = entry_new(m, nb + nx);
    if (!e)
        return lks_err_set(c->err, LKS_ENOMEM, "cdc: arena exhausted");
    e->is_row = 1;
    e->base = base;
    for (int f = 0; f < nb; f++) {
        e->schema.fields[f] = base->schema.fields[f];
        e->enc[f] = base->enc[f];
    }
    for (int j = 0; j < nx; j++) {
        lks_cdc_field *f = &e->schema.fields[nb + j];
        const char *kp;
        size_t kl;
        int rc = key_text(c, x[j].key, kb, sizeof kb, &kp, &kl);
        if (rc)
            return rc;
        char *nm = lks_arena_strndup(m, kp, kl);
        if (!nm)
            return lks_err_set(c->err, LKS_ENOMEM, "cdc: arena exhausted");
        if (kl == 0 || strlen(nm) != kl || !lks_utf8_valid(nm, kl))
            return FAILT(c, x[j].key, "bad column name (empty, a NUL or not UTF-8)");
        f->name = nm;
        f->type.kind = x[j].kind ? x[j].kind : LKS_CT_STRING;
        f->type.precision = -1;
        f->type.optional = 1;
        e->ikind[nb + j] = (uint8_t)f->type.kind;
        e->enc[nb + j] = f->type.kind == LKS_CT_JSON ? ENC_RAW : ENC_PLAIN;
    }
    int rc = entry_finish(p, e, m, c->err);
    if (rc)
        return rc;
    if (cacheable) {
        e->next = p->inferred;
        p->inferred = e;
        p->ncached++;
    }
    *out = e;
    return LKS_OK;
}

/* ---- rows, source ----------------------------------------------------------------------- */

static int decode_row(const ctx *c, int ti, const entry *e, lks_cdc_row *row, int *has, int skip_meta) {
    row->v = NULL;
    row->n = 0;
    *has = 0;
    if (ti < 0 || is_null(c, ti))
        return LKS_OK;
    if (c->t[ti].type != LKS_JT_OBJECT)
        return FAILT(c, ti, "expected a row object or null");
    int n = e->schema.nfields;
    lks_cdc_value *v = aalloc(c, (size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return LKS_ENOMEM;
    for (int i = 0; i < n; i++)
        v[i].kind = LKS_CV_ABSENT;
    int k = ti + 1;
    char kb[256];
    for (int m = 0; m < c->t[ti].size; m++) {
        const char *kp;
        size_t kl;
        int rc = key_text(c, k, kb, sizeof kb, &kp, &kl);
        if (rc)
            return rc;
        int f = entry_find(e, kp, kl, m);
        if (f < 0) {
            if (skip_meta && kl > 2 && kp[0] == '_' && kp[1] == '_') { /* unwrapped rows' __deleted, __op... */
                k = skip(c, k + 1);
                continue;
            }
            return FAILT(c, k, "column not in the event's schema");
        }
        if (v[f].kind != LKS_CV_ABSENT)
            return FAILT(c, k, "column appears twice");
        rc = decode_value(c, k + 1, &e->schema.fields[f], e->enc[f], &v[f]);
        if (rc)
            return rc;
        k = skip(c, k + 1);
    }
    row->v = v;
    row->n = n;
    *has = 1;
    return LKS_OK;
}

static int src_str(const ctx *c, int vt, const char **out) {
    if (is_null(c, vt)) {
        *out = NULL;
        return LKS_OK;
    }
    if (c->t[vt].type != LKS_JT_STRING)
        return FAILT(c, vt, "expected a string");
    char *d;
    size_t len;
    int rc = tok_cstr(c, vt, &d, &len);
    *out = d;
    return rc;
}

static int src_int(const ctx *c, int vt, int64_t *out) {
    if (is_null(c, vt))
        return LKS_OK;
    if (tok_i64(c, vt, out) != 0)
        return FAILT(c, vt, "expected an integer");
    return LKS_OK;
}

static int decode_source_fields(const ctx *c, int ti, lks_cdc_source *s) {
    memset(s, 0, sizeof *s);
    s->pos = s->row = s->ts_ms = s->ts_us = -1;
    if (ti < 0 || is_null(c, ti))
        return LKS_OK;
    if (c->t[ti].type != LKS_JT_OBJECT)
        return FAILT(c, ti, "expected the source object");
    int k = ti + 1, rc = LKS_OK;
    for (int m = 0; m < c->t[ti].size && rc == LKS_OK; m++) {
        const char *kp = TS(c, k);
        size_t kl = TL(c, k);
        int vt = k + 1;
        if (KEY_IS(kp, kl, "connector"))
            rc = src_str(c, vt, &s->connector);
        else if (KEY_IS(kp, kl, "name"))
            rc = src_str(c, vt, &s->name);
        else if (KEY_IS(kp, kl, "db"))
            rc = src_str(c, vt, &s->db);
        else if (KEY_IS(kp, kl, "table"))
            rc = src_str(c, vt, &s->table);
        else if (KEY_IS(kp, kl, "gtid"))
            rc = src_str(c, vt, &s->gtid);
        else if (KEY_IS(kp, kl, "file"))
            rc = src_str(c, vt, &s->file);
        else if (KEY_IS(kp, kl, "server_id"))
            rc = src_int(c, vt, &s->server_id);
        else if (KEY_IS(kp, kl, "pos"))
            rc = src_int(c, vt, &s->pos);
        else if (KEY_IS(kp, kl, "row"))
            rc = src_int(c, vt, &s->row);
        else if (KEY_IS(kp, kl, "ts_ms"))
            rc = src_int(c, vt, &s->ts_ms);
        else if (KEY_IS(kp, kl, "ts_us"))
            rc = src_int(c, vt, &s->ts_us);
        else if (KEY_IS(kp, kl, "snapshot")) {
            static const char *const snaps[] = {"false", "true", "last", "first", "first_in_data_collection",
                                                "last_in_data_collection", "incremental"};
            const char *q = TS(c, vt);
            size_t n = TL(c, vt);
            int found = is_null(c, vt);
            if (c->t[vt].type == LKS_JT_PRIMITIVE && !found) {
                if (q[0] == 't' || q[0] == 'f')
                    s->snapshot = q[0] == 't', found = 1;
            } else if (c->t[vt].type == LKS_JT_STRING) {
                for (int j = 0; j < 7 && !found; j++)
                    if (key_is(q, n, snaps[j]))
                        s->snapshot = j, found = 1;
            }
            if (!found)
                rc = FAILT(c, vt, "unknown snapshot value");
        }
        k = skip(c, vt);
    }
    return rc;
}

/* The string members of a source, for moving them as one block. */
#define SRC_STRS(s) {&(s)->connector, &(s)->name, &(s)->db, &(s)->table, &(s)->gtid, &(s)->file}

/* Packs s's strings into p->src_strs and keeps s as the value of the
 * source text held in p->src_text; on failure the cache holds no value. */
static void source_keep(lks_dbz_parser *p, const lks_cdc_source *s) {
    p->src_ok = 0;
    lks_buf_reset(&p->src_strs);
    p->src_val = *s;
    const char **dst[] = SRC_STRS(&p->src_val);
    size_t off[6];
    for (int i = 0; i < 6; i++) {
        off[i] = SIZE_MAX;
        if (!*dst[i])
            continue;
        off[i] = p->src_strs.len;
        if (lks_buf_append(&p->src_strs, *dst[i], strlen(*dst[i]) + 1) != LKS_OK)
            return;
    }
    for (int i = 0; i < 6; i++)
        *dst[i] = off[i] == SIZE_MAX ? NULL : (const char *)p->src_strs.ptr + off[i];
    p->src_ok = 1;
}

/* The source object at ti: decoded, or copied from the last one when its
 * text is the same (strings copied into the event's arena).  A text is
 * kept on sight, its value only when it comes again: a stream whose source
 * changes every event pays a copy of the text, not the packing. */
static int decode_source(const ctx *c, int ti, lks_cdc_source *s) {
    lks_dbz_parser *p = c->p;
    if (ti < 0 || c->t[ti].type != LKS_JT_OBJECT || c->t[ti].end < c->t[ti].start)
        return decode_source_fields(c, ti, s);
    const char *q = TS(c, ti);
    size_t n = TL(c, ti);
    /* an opaque token (front) is the kept text by construction: no second compare */
    int same = c->t[ti].size < 0 || (n == p->src_text.len && memcmp(q, p->src_text.ptr, n) == 0);
    if (c->t[ti].size < 0 && !p->src_ok)
        return lks_err_set(c->err, LKS_EINTERNAL, "cdc: source token without its value");
    if (same && p->src_ok) {
        *s = p->src_val;
        if (p->src_strs.len) {
            char *d = lks_arena_alloc(c->a, p->src_strs.len);
            if (!d)
                return lks_err_set(c->err, LKS_ENOMEM, "cdc: out of memory");
            memcpy(d, p->src_strs.ptr, p->src_strs.len);
            const char **dst[] = SRC_STRS(s);
            for (int i = 0; i < 6; i++)
                if (*dst[i])
                    *dst[i] = d + (*dst[i] - (const char *)p->src_strs.ptr);
        }
        return LKS_OK;
    }
    int rc = decode_source_fields(c, ti, s);
    if (rc != LKS_OK)
        return rc;
    if (same) {
        source_keep(p, s);
    } else {
        p->src_ok = 0;
        lks_buf_reset(&p->src_text);
        if (lks_buf_append(&p->src_text, q, n) != LKS_OK)
            lks_buf_reset(&p->src_text);
    }
    return LKS_OK;
}

/* ---- top level ---------------------------------------------------------------------------- */

/* End (exclusive) of the JSON value starting at i: brackets and strings
 * balanced, nothing else checked (the tokenizer checks what is used). */
static const uint8_t scan_cls[256] = {['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3};

/* Index of the quote closing the string whose opening quote is at i. */
static int scan_string(const char *s, size_t n, size_t i, size_t *close) {
    size_t j = i + 1;
    for (;;) {
        const char *q = j < n ? memchr(s + j, '"', n - j) : NULL;
        if (!q)
            return -1;
        size_t at = (size_t)(q - s), bs = 0;
        while (at - bs > i + 1 && s[at - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0) {
            *close = at;
            return 0;
        }
        j = at + 1;
    }
}

static int scan_value(const char *s, size_t n, size_t i, size_t *end) {
    if (i >= n)
        return -1;
    char ch = s[i];
    size_t close;
    if (ch == '"') {
        if (scan_string(s, n, i, &close))
            return -1;
        *end = close + 1;
        return 0;
    }
    if (ch == '{' || ch == '[') {
        size_t depth = 0;
        for (; i < n; i++) {
            uint8_t k = scan_cls[(uint8_t)s[i]];
            if (LKS_LIKELY(!k))
                continue;
            if (k == 1) {
                if (scan_string(s, n, i, &close))
                    return -1;
                i = close;
            } else if (k == 2) {
                depth++;
            } else if (--depth == 0) {
                *end = i + 1;
                return 0;
            }
        }
        return -1;
    }
    size_t st = i;
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
           s[i] != '\r')
        i++;
    if (i == st)
        return -1;
    *end = i;
    return 0;
}

typedef struct top {
    int envelope;
    entry *hit; /* the cached schema found at sch, or NULL */
    size_t sch, sch_end; /* schema span (sch_end 0: none) */
    size_t pay, pay_end;
} top;

static int top_err(lks_err *err, size_t off, const char *what) {
    return lks_err_set(err, LKS_ECORRUPT, "(document): invalid JSON: %s at offset %zu", what, off);
}

/* Reads a top-level key at s[i] (a '"'); sets *which 1 schema, 2 payload,
 * 0 other; *i past the closing quote. */
static int top_key(const char *s, size_t n, size_t *i, int *which, lks_err *err) {
    size_t st = *i, e;
    if (st >= n || s[st] != '"' || scan_value(s, n, st, &e) != 0)
        return top_err(err, st, "expected a key");
    const char *q = s + st + 1;
    size_t kl = e - st - 2;
    char buf[16];
    if (memchr(q, '\\', kl) && kl < sizeof buf) {
        /* escaped spelling of a short key */
        size_t o = 0;
        for (size_t k = 0; k < kl; k++) {
            if (q[k] == '\\' && k + 5 < kl + 1 && q[k + 1] == 'u') {
                uint32_t cp = 0;
                for (int h = 2; h < 6; h++) {
                    char ch = q[k + (size_t)h];
                    int v = lks_hex_value(ch);
                    if (v < 0)
                        cp = 0x100;
                    else
                        cp = cp << 4 | (uint32_t)v;
                }
                buf[o++] = cp < 0x80 ? (char)cp : '?';
                k += 5;
            } else if (q[k] == '\\' && k + 1 < kl) {
                buf[o++] = q[++k];
            } else {
                buf[o++] = q[k];
            }
        }
        q = buf;
        kl = o;
    }
    *which = KEY_IS(q, kl, "schema") ? 1 : KEY_IS(q, kl, "payload") ? 2 : 0;
    *i = e;
    return LKS_OK;
}

/* A cached schema whose bytes stand at s[j]: a complete JSON value, so
 * equal bytes mean the same value (no scan needed).  Most recent first. */
static entry *cache_probe(lks_dbz_parser *p, const char *s, size_t n, size_t j) {
    entry *prev = NULL;
    for (entry *e = p->cache; e; prev = e, e = e->next)
        if (e->len <= n - j && s[j + e->len / 2] == e->text[e->len / 2] && memcmp(s + j, e->text, e->len) == 0) {
            if (prev) { /* move to front */
                prev->next = e->next;
                e->next = p->cache;
                p->cache = e;
            }
            return e;
        }
    return NULL;
}

static int top_scan(lks_dbz_parser *p, const char *s, size_t n, size_t i, top *tp, lks_err *err) {
    memset(tp, 0, sizeof *tp);
    /* s[i] == '{' */
    size_t j = skip_ws(s, n, i + 1);
    int which;
    if (j >= n || s[j] != '"')
        return LKS_OK; /* bare (or broken: the tokenizer says) */
    size_t k = j;
    if (top_key(s, n, &k, &which, err))
        return LKS_OK;
    if (!which)
        return LKS_OK;
    tp->envelope = 1;
    j = i + 1;
    int first = 1;
    for (;;) {
        j = skip_ws(s, n, j);
        if (j < n && s[j] == '}' && first)
            break;
        if (!first) {
            if (j < n && s[j] == '}')
                break;
            if (j >= n || s[j] != ',')
                return top_err(err, j, "expected ',' or '}' in the envelope");
            j = skip_ws(s, n, j + 1);
        }
        first = 0;
        if (top_key(s, n, &j, &which, err))
            return err ? err->code : LKS_ECORRUPT;
        if (!which)
            return lks_err_set(err, LKS_ECORRUPT,
                               "(document): envelope has a key other than \"schema\" and \"payload\" at offset %zu", j);
        j = skip_ws(s, n, j);
        if (j >= n || s[j] != ':')
            return top_err(err, j, "expected ':'");
        j = skip_ws(s, n, j + 1);
        size_t e;
        entry *hit = which == 1 && j < n && s[j] == '{' ? cache_probe(p, s, n, j) : NULL;
        if (hit)
            e = j + hit->len, tp->hit = hit;
        else if (scan_value(s, n, j, &e) != 0)
            return lks_err_set(err, LKS_ECORRUPT, "%s: truncated JSON at offset %zu", which == 1 ? "schema" : "payload",
                               j);
        if ((which == 1 ? tp->sch_end : tp->pay_end) != 0)
            return lks_err_set(err, LKS_ECORRUPT, "(document): \"%s\" appears twice at offset %zu",
                               which == 1 ? "schema" : "payload", j);
        if (which == 1)
            tp->sch = j, tp->sch_end = e;
        else
            tp->pay = j, tp->pay_end = e;
        j = e;
    }
    if (skip_ws(s, n, j + 1) != n)
        return top_err(err, skip_ws(s, n, j + 1), "trailing bytes after the value");
    if (!tp->pay_end)
        return lks_err_set(err, LKS_ECORRUPT, "(document): envelope without \"payload\" at offset %zu", i);
    return LKS_OK;
}

static int is_null_text(const char *s, size_t a, size_t b) { return b - a == 4 && memcmp(s + a, "null", 4) == 0; }

/* Shared front: trims, detects tombstones, finds the spans, tokenizes the
 * payload (a "source" like the last one as one opaque token when
 * use_src).  Returns 1 ready, 0 tombstone, negative error. */
static int front(lks_dbz_parser *p, const char *json, size_t len, int use_src, lks_arena *a, top *tp, ctx *c,
                 lks_err *err) {
    if (!json && len)
        return lks_err_set(err, LKS_EINVAL, "cdc: NULL document");
    if (len > DOC_MAX)
        return lks_err_set(err, LKS_ELIMIT, "cdc: document of %zu bytes exceeds the %zu-byte cap", len, DOC_MAX);
    size_t i = skip_ws(json, len, 0), e = len;
    while (e > i && (json[e - 1] == ' ' || json[e - 1] == '\t' || json[e - 1] == '\n' || json[e - 1] == '\r'))
        e--;
    if (i == e || is_null_text(json, i, e))
        return 0;
    if (json[i] != '{')
        return lks_err_set(err, LKS_ECORRUPT, "(document): expected a JSON object at offset %zu", i);
    int rc = top_scan(p, json, e, i, tp, err);
    if (rc)
        return rc;
    lks_json_known kn = {"source", 6, (const char *)p->src_text.ptr, p->src_text.len};
    const lks_json_known *k = use_src && p->src_ok ? &kn : NULL;
    if (tp->envelope) {
        if (is_null_text(json, tp->pay, tp->pay_end))
            return 0;
        rc = tokenize(p, 0, json + tp->pay, tp->pay_end - tp->pay, tp->pay, "payload", k, a, c, err);
    } else {
        rc = tokenize(p, 0, json, e, 0, "", k, a, c, err);
    }
    if (rc)
        return rc;
    if (c->t[0].type != LKS_JT_OBJECT)
        return FAILT(c, 0, "expected an object");
    return 1;
}

int lks_dbz_parse(lks_dbz_parser *p, const char *json, size_t len, lks_arena *a, lks_cdc_event *ev, const char **what,
                  lks_err *err) {
    const char *dummy;
    if (!what)
        what = &dummy;
    *what = "tombstone";
    memset(ev, 0, sizeof *ev);
    ev->ts_ms = -1;
    ev->source.pos = ev->source.row = ev->source.ts_ms = ev->source.ts_us = -1;
    top tp;
    ctx c;
    int rc = front(p, json, len, 1, a, &tp, &c, err);
    if (rc <= 0)
        return rc;
    /* the payload's members */
    int before = -1, after = -1, source = -1, op = -1, tsms = -1;
    int status = 0, ddl = 0, deleted = -1;
    int k = 1;
    for (int m = 0; m < c.t[0].size; m++) {
        const char *kp = TS(&c, k);
        size_t kl = TL(&c, k);
        int vt = k + 1, *slot = NULL;
        if (KEY_IS(kp, kl, "before"))
            slot = &before;
        else if (KEY_IS(kp, kl, "after"))
            slot = &after;
        else if (KEY_IS(kp, kl, "source"))
            slot = &source;
        else if (KEY_IS(kp, kl, "op"))
            slot = &op;
        else if (KEY_IS(kp, kl, "ts_ms"))
            slot = &tsms;
        else if (KEY_IS(kp, kl, "status"))
            status = 1;
        else if (KEY_IS(kp, kl, "ddl") || KEY_IS(kp, kl, "tableChanges") || KEY_IS(kp, kl, "historyRecord"))
            ddl = 1;
        else if (KEY_IS(kp, kl, "__deleted"))
            deleted = vt;
        if (slot) {
            if (*slot >= 0)
                return FAILT(&c, k, "key appears twice");
            *slot = vt;
        }
        k = skip(&c, vt);
    }
    int unwrapped = 0;
    if (op < 0) {
        if (status && before < 0 && after < 0) {
            *what = "transaction";
            return 0;
        }
        if (ddl) {
            *what = "schema change";
            return 0;
        }
        if (before >= 0 || after >= 0 || source >= 0)
            return fail(&c, LKS_ECORRUPT, 0, 0, "change event without \"op\"");
        unwrapped = 1; /* ExtractNewRecordState: the row itself */
    }
    *what = "change";
    if (unwrapped) {
        int del = deleted >= 0 && c.t[deleted].type == LKS_JT_STRING && KEY_IS(TS(&c, deleted), TL(&c, deleted), "true");
        ev->op = del ? LKS_CDC_DELETE : LKS_CDC_CREATE;
        if (del)
            before = 0;
        else
            after = 0;
    } else {
        if (c.t[op].type != LKS_JT_STRING || TL(&c, op) != 1 || !strchr("cudrt", TS(&c, op)[0]))
            return FAILT(&c, op, "unknown op");
        ev->op = TS(&c, op)[0];
        if (tsms >= 0 && (rc = src_int(&c, tsms, &ev->ts_ms)) != 0)
            return rc;
    }
    /* the row schema */
    entry *e = NULL;
    int decoded = 0; /* the rows are decoded already */
    if (tp.hit) {
        e = tp.hit;
        if (!e->is_row && ev->op != LKS_CDC_TRUNCATE)
            return lks_err_set(err, LKS_ECORRUPT, "schema: not a row-change schema (no before/after fields) at offset %zu",
                               tp.sch);
    } else if (tp.envelope && tp.sch_end && !is_null_text(json, tp.sch, tp.sch_end)) {
        rc = schema_entry(p, json + tp.sch, tp.sch_end - tp.sch, tp.sch, a, &e, err);
        if (rc)
            return rc;
        if (!e->is_row && ev->op != LKS_CDC_TRUNCATE)
            return lks_err_set(err, LKS_ECORRUPT, "schema: not a row-change schema (no before/after fields) at offset %zu",
                               tp.sch);
    } else {
        int img[2] = {after, before};
        for (int j = 0; j < 2; j++)
            if (img[j] >= 0 && (is_null(&c, img[j]) || c.t[img[j]].type != LKS_JT_OBJECT))
                img[j] = -1;
        /* Rows whose columns the hint has all decode with it: what
         * infer_entry would find, without its pass over the names.  Any
         * failure takes the long way, which reports it. */
        if (p->hint_ent && ev->op != LKS_CDC_TRUNCATE &&
            decode_row(&c, before, p->hint_ent, &ev->before, &ev->has_before, unwrapped) == LKS_OK &&
            decode_row(&c, after, p->hint_ent, &ev->after, &ev->has_after, unwrapped) == LKS_OK) {
            e = p->hint_ent;
            decoded = 1;
            lks_err_clear(err);
        } else if (img[0] < 0 && img[1] < 0 && p->hint_ent) {
            e = p->hint_ent;
        } else if ((rc = infer_entry(p, &c, img, 2, unwrapped, &e)) != 0) {
            return rc;
        }
    }
    ev->schema = &e->schema;
    if (ev->op != LKS_CDC_TRUNCATE) {
        if (!decoded && (rc = decode_row(&c, before, e, &ev->before, &ev->has_before, unwrapped)) != 0)
            return rc;
        if (!decoded && (rc = decode_row(&c, after, e, &ev->after, &ev->has_after, unwrapped)) != 0)
            return rc;
        if (!ev->has_after && ev->op != LKS_CDC_DELETE)
            return fail(&c, LKS_ECORRUPT, after >= 0 ? after : 0, after >= 0 ? (size_t)c.t[after].start : 0,
                        "op '%c' without an after image", ev->op);
        if (e->missing_key)
            return fail(&c, LKS_EINVAL, 0, 0, "key column \"%s\" is not a column of the event", e->missing_key);
        ev->key = e->key;
        ev->nkey = e->nkey;
    }
    if (!unwrapped && (rc = decode_source(&c, source, &ev->source)) != 0)
        return rc;
    return 1;
}

int lks_dbz_parse_key(lks_dbz_parser *p, const char *json, size_t len, lks_arena *a, const char ***names,
                      lks_cdc_value **values, lks_err *err) {
    *names = NULL;
    *values = NULL;
    top tp;
    ctx c;
    int rc = front(p, json, len, 0, a, &tp, &c, err);
    if (rc <= 0)
        return rc; /* a null key: a table without a primary key */
    entry *e = tp.hit;
    if (e) {
        /* cached */
    } else if (tp.envelope && tp.sch_end && !is_null_text(json, tp.sch, tp.sch_end)) {
        rc = schema_entry(p, json + tp.sch, tp.sch_end - tp.sch, tp.sch, a, &e, err);
        if (rc)
            return rc;
    } else {
        int img[1] = {0};
        if ((rc = infer_entry(p, &c, img, 1, 0, &e)) != 0)
            return rc;
    }
    lks_cdc_row row;
    int has;
    if ((rc = decode_row(&c, 0, e, &row, &has, 0)) != 0)
        return rc;
    int cnt = 0;
    for (int i = 0; i < row.n; i++)
        cnt += row.v[i].kind != LKS_CV_ABSENT;
    const char **nm = aalloc(&c, (size_t)(cnt ? cnt : 1) * sizeof *nm);
    lks_cdc_value *vv = aalloc(&c, (size_t)(cnt ? cnt : 1) * sizeof *vv);
    if (!nm || !vv)
        return LKS_ENOMEM;
    int j = 0;
    for (int i = 0; i < row.n; i++)
        if (row.v[i].kind != LKS_CV_ABSENT) {
            nm[j] = e->schema.fields[i].name;
            vv[j++] = row.v[i];
        }
    *names = nm;
    *values = vv;
    return cnt;
}

/* ---- parser ---------------------------------------------------------------------------------- */

int lks_dbz_parser_new(const lks_dbz_opts *o, lks_dbz_parser **out, lks_err *err) {
    *out = NULL;
    lks_dbz_parser *p = calloc(1, sizeof *p);
    if (!p)
        return lks_err_set(err, LKS_ENOMEM, "cdc: no memory for a parser");
    lks_arena_init(&p->mem, CACHE_MAX_BYTES * 2);
    lks_buf_init(&p->src_text, 0);
    lks_buf_init(&p->src_strs, 0);
    int rc = LKS_OK;
    if (o) {
        if ((rc = lks_dbz_mode_decimal(o->decimal_handling_mode, &p->dec_mode, err)) ||
            (rc = lks_dbz_mode_time(o->time_precision_mode, &p->time_mode, err)) ||
            (rc = lks_dbz_mode_binary(o->binary_handling_mode, &p->bin_mode, err)))
            goto fail;
        p->hint = o->hint;
        if (o->nkey_columns < 0 || (o->nkey_columns > 0 && !o->key_columns)) {
            rc = lks_err_set(err, LKS_EINVAL, "cdc: bad key column list");
            goto fail;
        }
        if (o->nkey_columns) {
            p->keycols = lks_arena_alloc(&p->mem, (size_t)o->nkey_columns * sizeof *p->keycols);
            if (!p->keycols)
                goto nomem;
            for (int k = 0; k < o->nkey_columns; k++)
                if (!o->key_columns[k] || !(p->keycols[k] = lks_arena_strdup(&p->mem, o->key_columns[k])))
                    goto nomem;
            p->nkeycols = o->nkey_columns;
        }
    }
    p->ntok = 512;
    p->nstok = 512;
    p->tok = malloc(p->ntok * sizeof *p->tok);
    p->stok = malloc(p->nstok * sizeof *p->stok);
    if (!p->tok || !p->stok)
        goto nomem;
    if (p->hint) {
        const lks_cdc_schema *h = p->hint;
        entry *e = lks_arena_alloc(&p->mem, sizeof *e);
        if (!e)
            goto nomem;
        memset(e, 0, sizeof *e);
        e->is_row = 1;
        e->schema = *h;
        size_t n = h->nfields > 0 ? (size_t)h->nfields : 1;
        e->nlen = lks_arena_alloc(&p->mem, n * sizeof *e->nlen);
        e->enc = lks_arena_alloc(&p->mem, n);
        e->ikind = lks_arena_alloc(&p->mem, n);
        if (!e->nlen || !e->enc || !e->ikind)
            goto nomem;
        for (int f = 0; f < h->nfields; f++) {
            if (!h->fields[f].name) {
                rc = lks_err_set(err, LKS_EINVAL, "cdc: hint field %d has no name", f);
                goto fail;
            }
            e->enc[f] = (uint8_t)enc_for_type(p, &h->fields[f].type);
        }
        if ((rc = entry_finish(p, e, &p->mem, err)) != LKS_OK)
            goto fail;
        p->hint_ent = e;
    }
    *out = p;
    return LKS_OK;
nomem:
    rc = lks_err_set(err, LKS_ENOMEM, "cdc: no memory for a parser");
fail:
    lks_dbz_parser_free(p);
    return rc;
}

void lks_dbz_parser_free(lks_dbz_parser *p) {
    if (!p)
        return;
    free(p->tok);
    free(p->stok);
    lks_arena_free(&p->mem);
    lks_buf_free(&p->src_text);
    lks_buf_free(&p->src_strs);
    free(p);
}
