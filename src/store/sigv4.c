/* sigv4.c — AWS Signature Version 4: canonical request, string to sign,
 * signing key, the Authorization header (S3 store requests) and presigned
 * URLs (MSK IAM tokens), over OpenSSL's SHA-256 and HMAC.
 *
 * The signer never parses a URL: the caller hands it the encoded path and a
 * canonical query built here from unencoded parameters, and sends those same
 * strings, so sorting and encoding (valueless "?uploads", '/' inside values)
 * cannot differ between what is signed and what goes on the wire. */
#include "store/s3_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUERY_MAX 64

/* ---- hashing --------------------------------------------------------------- */

void lks_sha256(const void *p, size_t len, uint8_t out[32]) {
    unsigned int n = 32;
    EVP_Digest(p, len, out, &n, EVP_sha256(), NULL);
}

void lks_md5(const void *p, size_t len, uint8_t out[16]) {
    unsigned int n = 16;
    EVP_Digest(p, len, out, &n, EVP_md5(), NULL);
}

void lks_hex_lower(const uint8_t *p, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
}

void lks_sha256_hex(const void *p, size_t len, char out[65]) {
    uint8_t d[32];
    lks_sha256(p, len, d);
    lks_hex_lower(d, 32, out);
}

void lks_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]) {
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

/* ---- encoding ----------------------------------------------------------------- */

int lks_sigv4_uri_encode(lks_buf *b, const char *s, size_t len, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    int rc = lks_buf_reserve(b, len * 3);
    if (rc)
        return rc;
    uint8_t *o = b->ptr + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || (c == '/' && keep_slash)) {
            *o++ = c;
        } else {
            *o++ = '%';
            *o++ = (uint8_t)hex[c >> 4];
            *o++ = (uint8_t)hex[c & 15];
        }
    }
    b->len = (size_t)(o - b->ptr);
    return LKS_OK;
}

typedef struct enc_param {
    char *name, *value; /* encoded, NUL-terminated, pointing into one buffer */
} enc_param;

static int enc_param_cmp(const void *a, const void *b) {
    const enc_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

int lks_sigv4_canonical_query(lks_buf *b, const lks_sigv4_param *params, size_t n) {
    if (n == 0)
        return LKS_OK;
    if (n > QUERY_MAX)
        return LKS_ELIMIT;
    /* encode every name and value into one scratch buffer, then sort views */
    lks_buf tmp;
    lks_buf_init(&tmp, 0);
    size_t offs[QUERY_MAX][2];
    int rc = LKS_OK;
    for (size_t i = 0; i < n && rc == LKS_OK; i++) {
        const char *v = params[i].value ? params[i].value : "";
        offs[i][0] = tmp.len;
        if ((rc = lks_sigv4_uri_encode(&tmp, params[i].name, strlen(params[i].name), 0)) ||
            (rc = lks_buf_append_byte(&tmp, 0)))
            break;
        offs[i][1] = tmp.len;
        if ((rc = lks_sigv4_uri_encode(&tmp, v, strlen(v), 0)) || (rc = lks_buf_append_byte(&tmp, 0)))
            break;
    }
    if (rc) {
        lks_buf_free(&tmp);
        return rc;
    }
    enc_param ep[QUERY_MAX];
    for (size_t i = 0; i < n; i++) {
        ep[i].name = (char *)tmp.ptr + offs[i][0];
        ep[i].value = (char *)tmp.ptr + offs[i][1];
    }
    qsort(ep, n, sizeof ep[0], enc_param_cmp);
    for (size_t i = 0; i < n && rc == LKS_OK; i++)
        rc = lks_buf_printf(b, "%s%s=%s", i ? "&" : "", ep[i].name, ep[i].value);
    lks_buf_free(&tmp);
    return rc;
}

/* ---- canonical request ------------------------------------------------------------- */

typedef struct canon_hdr {
    char name[64]; /* lowercased */
    const char *value;
} canon_hdr;

static int canon_hdr_cmp(const void *a, const void *b) {
    return strcmp(((const canon_hdr *)a)->name, ((const canon_hdr *)b)->name);
}

/* Appends a header value trimmed, with inner runs of spaces collapsed to one. */
static int append_trimmed(lks_buf *b, const char *v) {
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    int rc = lks_buf_reserve(b, n);
    if (rc)
        return rc;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ' ' || c == '\t') {
            space = 1;
            continue;
        }
        if (space)
            b->ptr[b->len++] = ' ';
        space = 0;
        b->ptr[b->len++] = (uint8_t)c;
    }
    return LKS_OK;
}

static int check_date(const char *d) {
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

int lks_sigv4_canonical_request(const lks_sigv4_req *rq, lks_buf *out, lks_buf *signed_headers, lks_err *err) {
    if (rq->nheaders > LKS_SIGV4_MAX_HEADERS)
        return lks_err_set(err, LKS_EINVAL, "sigv4: %zu headers (at most %d)", rq->nheaders, LKS_SIGV4_MAX_HEADERS);
    if (!check_date(rq->amz_date))
        return lks_err_set(err, LKS_EINVAL, "sigv4: bad x-amz-date '%s'", rq->amz_date ? rq->amz_date : "");
    canon_hdr h[LKS_SIGV4_MAX_HEADERS];
    for (size_t i = 0; i < rq->nheaders; i++) {
        const char *nm = rq->headers[i].name;
        size_t n = strlen(nm);
        if (n == 0 || n >= sizeof h[i].name)
            return lks_err_set(err, LKS_EINVAL, "sigv4: bad header name '%.64s'", nm);
        for (size_t k = 0; k <= n; k++) {
            char c = nm[k];
            h[i].name[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        h[i].value = rq->headers[i].value;
    }
    qsort(h, rq->nheaders, sizeof h[0], canon_hdr_cmp);
    for (size_t i = 1; i < rq->nheaders; i++)
        if (strcmp(h[i - 1].name, h[i].name) == 0)
            return lks_err_set(err, LKS_EINVAL, "sigv4: header '%s' given twice", h[i].name);
    int rc = lks_buf_printf(out, "%s\n%s\n%s\n", rq->method, rq->canonical_uri,
                            rq->canonical_query ? rq->canonical_query : "");
    for (size_t i = 0; i < rq->nheaders && rc == LKS_OK; i++) {
        if ((rc = lks_buf_printf(out, "%s:", h[i].name)) == LKS_OK && (rc = append_trimmed(out, h[i].value)) == LKS_OK)
            rc = lks_buf_append_byte(out, '\n');
    }
    if (rc == LKS_OK)
        rc = lks_buf_append_byte(out, '\n');
    size_t sh_start = out->len;
    for (size_t i = 0; i < rq->nheaders && rc == LKS_OK; i++)
        rc = lks_buf_printf(out, "%s%s", i ? ";" : "", h[i].name);
    if (rc == LKS_OK && signed_headers)
        rc = lks_buf_append(signed_headers, out->ptr + sh_start, out->len - sh_start);
    if (rc == LKS_OK)
        rc = lks_buf_printf(out, "\n%s", rq->payload_hash);
    if (rc)
        return lks_err_set(err, rc, "sigv4: out of memory");
    return LKS_OK;
}

int lks_sigv4_string_to_sign(const lks_sigv4_req *rq, const void *canonical, size_t len, lks_buf *out) {
    char hex[65];
    lks_sha256_hex(canonical, len, hex);
    return lks_buf_printf(out, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", rq->amz_date, rq->amz_date,
                          rq->region, rq->service, hex);
}

void lks_sigv4_signing_key(const char *secret, const char *date8, const char *region, const char *service,
                           uint8_t out[32]) {
    /* "AWS4" + secret keys the first HMAC; secrets are 40 bytes, but any
     * length works through a heap copy */
    size_t sl = strlen(secret);
    char stack[128], *k = sl + 5 <= sizeof stack ? stack : malloc(sl + 5);
    uint8_t a[32], b[32];
    if (!k) {
        memset(out, 0, 32);
        return;
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, sl);
    lks_hmac_sha256(k, sl + 4, date8, 8, a);
    lks_hmac_sha256(a, 32, region, strlen(region), b);
    lks_hmac_sha256(b, 32, service, strlen(service), a);
    lks_hmac_sha256(a, 32, "aws4_request", 12, out);
    memset(k, 0, sl + 4);
    if (k != stack)
        free(k);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
}

/* The hex signature of a request; the "a;b;c" signed-header list is appended
 * to signed_headers when it is not NULL. */
static int signature_of(const lks_sigv4_req *rq, const char *secret, lks_buf *signed_headers, char hex[65],
                        lks_err *err) {
    lks_buf canon, sts;
    lks_buf_init(&canon, 0);
    lks_buf_init(&sts, 0);
    int rc = lks_sigv4_canonical_request(rq, &canon, signed_headers, err);
    if (rc == LKS_OK && (rc = lks_sigv4_string_to_sign(rq, canon.ptr, canon.len, &sts)) != LKS_OK)
        rc = lks_err_set(err, rc, "sigv4: out of memory");
    if (rc == LKS_OK) {
        uint8_t key[32], mac[32];
        char date8[9];
        memcpy(date8, rq->amz_date, 8);
        date8[8] = 0;
        lks_sigv4_signing_key(secret, date8, rq->region, rq->service, key);
        lks_hmac_sha256(key, 32, sts.ptr, sts.len, mac);
        memset(key, 0, sizeof key);
        lks_hex_lower(mac, 32, hex);
    }
    lks_buf_free(&canon);
    lks_buf_free(&sts);
    return rc;
}

int lks_sigv4_authorization(const lks_sigv4_req *rq, const char *access_key, const char *secret, lks_buf *out,
                            char *signature, lks_err *err) {
    lks_buf sh;
    lks_buf_init(&sh, 0);
    char hex[65];
    int rc = signature_of(rq, secret, &sh, hex, err);
    if (rc == LKS_OK && (rc = lks_buf_cstr(&sh)) != LKS_OK)
        rc = lks_err_set(err, rc, "sigv4: out of memory");
    if (rc == LKS_OK) {
        if (signature)
            memcpy(signature, hex, 65);
        rc = lks_buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request,SignedHeaders=%s,Signature=%s",
                            access_key, rq->amz_date, rq->region, rq->service, (const char *)sh.ptr, hex);
        if (rc)
            rc = lks_err_set(err, rc, "sigv4: out of memory");
    }
    lks_buf_free(&sh);
    return rc;
}

/* ---- presigned URLs ----------------------------------------------------------------- */

#define PRESIGN_PARAMS 6           /* X-Amz-* parameters besides the signature */
#define PRESIGN_MAX_EXPIRES 604800 /* seven days */

static int append_param(lks_buf *b, int first, const char *name, const char *value) {
    int rc = first ? LKS_OK : lks_buf_append_byte(b, '&');
    if (rc == LKS_OK)
        rc = lks_sigv4_uri_encode(b, name, strlen(name), 0);
    if (rc == LKS_OK)
        rc = lks_buf_append_byte(b, '=');
    if (rc == LKS_OK && value)
        rc = lks_sigv4_uri_encode(b, value, strlen(value), 0);
    return rc;
}

int lks_sigv4_presign_query(const lks_sigv4_presign_req *rq, const char *access_key, const char *secret,
                            const char *token, lks_buf *out, lks_err *err) {
    if (rq->nparams > QUERY_MAX - PRESIGN_PARAMS)
        return lks_err_set(err, LKS_EINVAL, "sigv4: %zu query parameters to presign (at most %d)", rq->nparams,
                           QUERY_MAX - PRESIGN_PARAMS);
    if (!check_date(rq->amz_date))
        return lks_err_set(err, LKS_EINVAL, "sigv4: bad signing time '%s'", rq->amz_date ? rq->amz_date : "");
    if (rq->expires_s < 1 || rq->expires_s > PRESIGN_MAX_EXPIRES)
        return lks_err_set(err, LKS_EINVAL, "sigv4: presigned URL expiry %lld s (1 to %d)", (long long)rq->expires_s,
                           PRESIGN_MAX_EXPIRES);
    lks_sigv4_param all[QUERY_MAX];
    size_t n = 0;
    for (size_t i = 0; i < rq->nparams; i++) {
        if (strncasecmp(rq->params[i].name, "X-Amz-", 6) == 0)
            return lks_err_set(err, LKS_EINVAL, "sigv4: query parameter '%.64s' is the presigner's",
                               rq->params[i].name);
        all[n++] = rq->params[i];
    }
    char credential[256], expires[24];
    int cl = snprintf(credential, sizeof credential, "%s/%.8s/%s/%s/aws4_request", access_key, rq->amz_date, rq->region,
                      rq->service);
    if (cl < 0 || (size_t)cl >= sizeof credential)
        return lks_err_set(err, LKS_EINVAL, "sigv4: access key id, region or service too long");
    snprintf(expires, sizeof expires, "%lld", (long long)rq->expires_s);
    all[n++] = (lks_sigv4_param){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
    all[n++] = (lks_sigv4_param){"X-Amz-Credential", credential};
    all[n++] = (lks_sigv4_param){"X-Amz-Date", rq->amz_date};
    all[n++] = (lks_sigv4_param){"X-Amz-Expires", expires};
    all[n++] = (lks_sigv4_param){"X-Amz-SignedHeaders", "host"};
    if (token && *token)
        all[n++] = (lks_sigv4_param){"X-Amz-Security-Token", token};
    lks_buf cq;
    lks_buf_init(&cq, 0);
    int rc = lks_sigv4_canonical_query(&cq, all, n);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(&cq);
    if (rc) {
        lks_buf_free(&cq);
        return lks_err_set(err, rc, "sigv4: out of memory");
    }
    lks_sigv4_header host = {"host", rq->host};
    lks_sigv4_req sr = {rq->method,       rq->canonical_uri, (const char *)cq.ptr, &host,      1,
                        rq->payload_hash, rq->amz_date,      rq->region,           rq->service};
    char hex[65];
    rc = signature_of(&sr, secret, NULL, hex, err);
    lks_buf_free(&cq);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == LKS_OK; i++)
        rc = append_param(out, i == 0, all[i].name, all[i].value);
    if (rc == LKS_OK)
        rc = append_param(out, 0, "X-Amz-Signature", hex);
    if (rc)
        rc = lks_err_set(err, rc, "sigv4: out of memory");
    return rc;
}
