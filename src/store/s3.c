/* s3.c — the S3 store backend, over libcurl with our own SigV4 signer.
 *
 * One store is one bucket and a key prefix ("s3://bucket/prefix"): a store
 * key k is the object "prefix/k".  Each store owns one CURL handle, reset
 * between requests but kept with its connection cache, so successive
 * requests reuse one kept-alive connection.
 *
 * Every request goes through s3_exec(): it makes sure the credentials are
 * fresh, signs (x-amz-content-sha256 carries the payload hash, which S3
 * checks, so a retried or cut-off PUT can never store different bytes),
 * sends, and retries with exponential backoff and full jitter on network
 * errors, 5xx (503 SlowDown included), 429, 400 RequestTimeout and 409
 * ConditionalRequestConflict, at most RETRY_ATTEMPTS tries within
 * RETRY_BUDGET_MS.  Other 4xx are final.  Errors name the object as
 * "s3://bucket/prefix/key", the HTTP status and the S3 error code; secrets
 * never appear in messages or logs.
 *
 * put_if_absent sends If-None-Match: * (412: LKS_EEXIST).  When an earlier
 * try of the same call may have been applied (a network error or 5xx after
 * sending), a 412 is checked against the object: exactly our bytes means our
 * own write landed and its answer was lost.  Some S3-compatible servers
 * ignore If-None-Match and overwrite: two writers could then both "win" a
 * Delta version.  So before its first conditional PUT to a bucket the
 * process checks that a second conditional PUT of a probe object is
 * refused, and refuses put_if_absent on a bucket that fails the check
 * (LKS_EUNSUPPORTED) unless told that a single writer uses it
 * (single_writer / LAKESYNC_S3_SINGLE_WRITER), which then looks before it
 * writes (HEAD, then PUT).  Objects above 64 MiB go up as
 * multipart uploads (If-None-Match on the completion), aborted on any
 * failure; a completion retried after a lost answer is recognised by the
 * multipart ETag computed from the parts.
 *
 * Credentials are looked up the way the AWS tools do, in this order:
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; web
 * identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, exchanged with STS
 * AssumeRoleWithWebIdentity); the profile (AWS_PROFILE, "default") in the
 * shared credentials file, then in the config file (static keys or
 * web_identity_token_file + role_arn); container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); instance metadata (IMDSv2)
 * unless AWS_EC2_METADATA_DISABLED=true.  Temporary credentials are fetched
 * again 5 minutes before they expire.
 *
 * Listing is ListObjectsV2 without a delimiter, with encoding-type=url (so
 * any key survives XML), following continuation tokens; S3 returns keys in
 * ascending UTF-8 byte order, which is checked.  Objects whose relative key
 * is not a valid store key (folder markers "dir/", "a//b") are skipped, as
 * the local backend skips what is not a regular file. */
#include "store/s3_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RETRY_ATTEMPTS 8
#define RETRY_BUDGET_MS 60000
#define RETRY_BASE_MS 100
#define RETRY_CAP_MS 20000
#define CONNECT_TIMEOUT_MS 10000
#define LOW_SPEED_TIME_S 60         /* a transfer below 1 byte/s this long fails (and is retried) */
#define RESP_MAX ((size_t)16 << 20) /* XML and JSON responses */
#define ERRBODY_MAX 65536           /* kept bytes of an error body */
#define MPU_THRESHOLD ((size_t)64 << 20)
#define MPU_PART_MIN ((size_t)16 << 20)
#define MPU_PARTS_MAX 10000
#define DELETE_BATCH 1000
#define REFRESH_MARGIN_US (INT64_C(300) * 1000000)
#define TOKEN_FILE_MAX 65536
#define INI_FILE_MAX ((size_t)1 << 20)

typedef struct s3_store {
    lks_store base; /* first: the generic handle */
    char *bucket;
    char *prefix; /* "" or "dir/sub/" */
    char *region;
    int https;
    char *host; /* the Host header: "host[:port]", bucket included when virtual-hosted */
    int path_style;
    CURL *curl;
    pthread_mutex_t lock; /* one request at a time on the handle */
    size_t mpu_threshold, mpu_part;
    int retry_attempts;
    long retry_base_ms;
    lks_aws_creds *creds; /* used under `lock` */
    int single_writer;    /* put_if_absent may fall back to HEAD + PUT */
    int cond;             /* COND_*: does the bucket honour If-None-Match */
    int warned_single;    /* the single-writer fallback was logged */
} s3_store;

enum { COND_UNKNOWN, COND_HONOURED, COND_IGNORED };

static s3_store *S(lks_store *st) { return (s3_store *)st; }

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void free_secret(char **p) {
    if (*p) {
        memset(*p, 0, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct http_resp {
    long status;
    CURLcode cc;
    char curl_msg[CURL_ERROR_SIZE];
    lks_buf body;           /* the body when no sink is given, or an error body (first ERRBODY_MAX bytes) */
    int64_t content_length; /* -1 unknown */
    int has_range;
    uint64_t range_first, range_last, range_total;
    char etag[256];
    int64_t filetime; /* Last-Modified, seconds (-1 unknown) */
    int sink_err;     /* LKS_ELIMIT / LKS_ENOMEM when the sink overflowed */
    char code[128];   /* S3 error <Code> of a final error response */
    char message[256];
    char bucket_region[64]; /* x-amz-bucket-region (a wrong-region answer names the right one) */
    int resent;             /* the body was rewound: libcurl sent the request again on its own */
} http_resp;

typedef struct http_ctx {
    http_resp *rs;
    lks_buf *out; /* 2xx body sink (NULL: rs->body, capped at RESP_MAX) */
    int reserved;
    const uint8_t *up; /* upload body */
    size_t up_len, up_pos;
} http_ctx;

static void resp_init(http_resp *rs) {
    memset(rs, 0, sizeof *rs);
    lks_buf_init(&rs->body, RESP_MAX);
    rs->content_length = -1;
    rs->filetime = -1;
}

/* Clears everything but the body's memory. */
static void resp_reset(http_resp *rs) {
    lks_buf body = rs->body;
    memset(rs, 0, sizeof *rs);
    rs->body = body;
    lks_buf_reset(&rs->body);
    rs->content_length = -1;
    rs->filetime = -1;
}

static void resp_free(http_resp *rs) { lks_buf_free(&rs->body); }

static int ci_prefix(const char *s, size_t n, const char *p) {
    size_t k = strlen(p);
    return n >= k && strncasecmp(s, p, k) == 0;
}

static size_t header_cb(char *p, size_t size, size_t nitems, void *ud) {
    http_ctx *cx = ud;
    http_resp *rs = cx->rs;
    size_t n = size * nitems, len = n;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue, say): start over */
        const char *sp = memchr(p, ' ', len);
        rs->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        rs->content_length = -1;
        rs->has_range = 0;
        rs->etag[0] = 0;
        rs->bucket_region[0] = 0;
        return n;
    }
    const char *v;
    char tmp[256];
    if (ci_prefix(p, len, "content-length:")) {
        v = p + 15;
        size_t vl = len - 15;
        snprintf(tmp, sizeof tmp, "%.*s", (int)(vl < 64 ? vl : 64), v);
        char *e;
        long long cl = strtoll(tmp, &e, 10);
        if (cl >= 0)
            rs->content_length = cl;
    } else if (ci_prefix(p, len, "content-range:")) {
        v = p + 14;
        size_t vl = len - 14;
        snprintf(tmp, sizeof tmp, "%.*s", (int)(vl < 200 ? vl : 200), v);
        unsigned long long a, b, t;
        if (sscanf(tmp, " bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
            rs->has_range = 1;
            rs->range_first = a;
            rs->range_last = b;
            rs->range_total = t;
        }
    } else if (ci_prefix(p, len, "x-amz-bucket-region:")) {
        v = p + 20;
        size_t vl = len - 20, k = 0;
        while (vl && *v == ' ')
            v++, vl--;
        for (; k < vl && k < sizeof rs->bucket_region - 1; k++) {
            char c = v[k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                break;
            rs->bucket_region[k] = c;
        }
        rs->bucket_region[k] = 0;
    } else if (ci_prefix(p, len, "etag:")) {
        v = p + 5;
        size_t vl = len - 5;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        snprintf(rs->etag, sizeof rs->etag, "%.*s", (int)(vl < sizeof rs->etag - 1 ? vl : sizeof rs->etag - 1), v);
    }
    return n;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud) {
    http_ctx *cx = ud;
    http_resp *rs = cx->rs;
    size_t n = size * nmemb;
    if (rs->status >= 200 && rs->status < 300) {
        lks_buf *b = cx->out ? cx->out : &rs->body;
        if (!cx->reserved && rs->content_length > 0) {
            cx->reserved = 1;
            if ((uint64_t)rs->content_length > SIZE_MAX ||
                (rs->sink_err = lks_buf_reserve(b, (size_t)rs->content_length)))
                return rs->sink_err ? 0 : (rs->sink_err = LKS_ELIMIT, 0);
        }
        if ((rs->sink_err = lks_buf_append(b, p, n)) != LKS_OK)
            return 0;
        return n;
    }
    /* an error body: keep its head for the <Code> */
    size_t room = rs->body.len < ERRBODY_MAX ? ERRBODY_MAX - rs->body.len : 0;
    if (room)
        lks_buf_append(&rs->body, p, n < room ? n : room);
    return n;
}

static size_t read_cb(char *dst, size_t size, size_t nitems, void *ud) {
    http_ctx *cx = ud;
    size_t n = size * nitems, left = cx->up_len - cx->up_pos;
    if (n > left)
        n = left;
    if (n == 0)
        return 0;
    memcpy(dst, cx->up + cx->up_pos, n);
    cx->up_pos += n;
    return n;
}

/* libcurl rewinds the body only to send the request again, which it does
 * by itself when a reused connection turns out dead before any answer: the
 * first sending may have been applied, so the caller must know. */
static int seek_cb(void *ud, curl_off_t off, int origin) {
    http_ctx *cx = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > cx->up_len)
        return CURL_SEEKFUNC_FAIL;
    cx->rs->resent = 1;
    cx->up_pos = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

typedef struct http_req {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *url;
    struct curl_slist *headers;
    const void *body;
    size_t body_len;
    lks_buf *out; /* 2xx body sink, NULL: rs->body */
    long connect_timeout_ms;
    long timeout_ms; /* whole exchange, 0: none (S3 transfers rely on the low-speed limit) */
} http_req;

/* One HTTP exchange on handle h; the outcome is in rs (cc and status).
 * Never retries. */
static void http_perform(CURL *h, const http_req *rq, http_resp *rs) {
    curl_easy_reset(h);
    http_ctx cx = {rs, rq->out, 0, rq->body, rq->body_len, 0};
    rs->curl_msg[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &cx);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &cx);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->curl_msg);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     rq->connect_timeout_ms ? rq->connect_timeout_ms : CONNECT_TIMEOUT_MS);
    if (rq->timeout_ms)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "POST") == 0) {
        /* bodies go through read_cb/seek_cb, so a resend is seen (rs->resent) */
        if (rq->method[1] == 'U') {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
        } else {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        }
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &cx);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &cx);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    rs->cc = curl_easy_perform(h);
    if (rs->cc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        rs->status = code;
        curl_off_t ft = -1;
        if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) == CURLE_OK)
            rs->filetime = ft;
    }
    if (!rs->curl_msg[0])
        snprintf(rs->curl_msg, sizeof rs->curl_msg, "%s", curl_easy_strerror(rs->cc));
}

/* Network failures worth another try (not bad URLs, TLS trust or our own
 * sink refusing bytes). */
static int net_retryable(CURLcode cc) {
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SEND_FAIL_REWIND: return 1;
    default: return 0;
    }
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. */
static long backoff_ms(int attempt, long base) {
    long ceil = base;
    for (int i = 1; i < attempt && ceil < RETRY_CAP_MS; i++)
        ceil *= 2;
    if (ceil > RETRY_CAP_MS)
        ceil = RETRY_CAP_MS;
    uint32_t r;
    lks_random_bytes(&r, sizeof r);
    return (long)(r % (uint32_t)(ceil + 1));
}

/* ---- XML (S3 responses are untrusted) -------------------------------------------------- */

/* Finds the next element <name ...>...</name> or <name/> in [*p, end) and
 * sets [*cs, *cs + *cl) to its content; advances *p past it.  0 when none. */
static int xml_next(const char **p, const char *end, const char *name, const char **cs, size_t *cl) {
    size_t nl = strlen(name);
    const char *q = *p;
    while (q < end) {
        const char *lt = memchr(q, '<', (size_t)(end - q));
        if (!lt || (size_t)(end - lt) < nl + 2)
            return 0;
        const char *a = lt + 1 + nl;
        if (memcmp(lt + 1, name, nl) != 0 ||
            (*a != '>' && *a != ' ' && *a != '/' && *a != '\t' && *a != '\n' && *a != '\r')) {
            q = lt + 1;
            continue;
        }
        const char *gt = memchr(a, '>', (size_t)(end - a));
        if (!gt)
            return 0;
        if (gt[-1] == '/') { /* <name/> */
            *cs = gt + 1;
            *cl = 0;
            *p = gt + 1;
            return 1;
        }
        const char *c = gt + 1;
        /* the closing tag */
        for (const char *r = c; r < end;) {
            const char *lt2 = memchr(r, '<', (size_t)(end - r));
            if (!lt2 || (size_t)(end - lt2) < nl + 3)
                return 0;
            if (lt2[1] == '/' && memcmp(lt2 + 2, name, nl) == 0 && lt2[2 + nl] == '>') {
                *cs = c;
                *cl = (size_t)(lt2 - c);
                *p = lt2 + 3 + nl;
                return 1;
            }
            r = lt2 + 1;
        }
        return 0;
    }
    return 0;
}

/* Appends the text of an element with entities decoded (no NUL added).
 * LKS_ECORRUPT on a bad entity or markup inside the text. */
static int xml_text(lks_buf *b, const char *s, size_t n) {
    int rc = lks_buf_reserve(b, n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '<')
            return LKS_ECORRUPT;
        if (c != '&') {
            b->ptr[b->len++] = (uint8_t)c;
            i++;
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        if (!semi)
            return LKS_ECORRUPT;
        size_t el = (size_t)(semi - (s + i)) + 1;
        const char *e = s + i;
        unsigned long cp;
        if (el == 4 && memcmp(e, "&lt;", 4) == 0)
            cp = '<';
        else if (el == 4 && memcmp(e, "&gt;", 4) == 0)
            cp = '>';
        else if (el == 5 && memcmp(e, "&amp;", 5) == 0)
            cp = '&';
        else if (el == 6 && memcmp(e, "&quot;", 6) == 0)
            cp = '"';
        else if (el == 6 && memcmp(e, "&apos;", 6) == 0)
            cp = '\'';
        else if (el >= 4 && e[1] == '#') {
            char num[12];
            memcpy(num, e + 2, el - 3);
            num[el - 3] = 0;
            char *endp;
            int hex = num[0] == 'x' || num[0] == 'X';
            cp = strtoul(num + hex, &endp, hex ? 16 : 10);
            if (*endp || endp == num + hex || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return LKS_ECORRUPT;
        } else {
            return LKS_ECORRUPT;
        }
        /* UTF-8 of cp: an entity is at least as long as its encoding */
        if (cp < 0x80) {
            b->ptr[b->len++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            b->ptr[b->len++] = (uint8_t)(0xC0 | cp >> 6);
            b->ptr[b->len++] = (uint8_t)(0x80 | (cp & 63));
        } else if (cp < 0x10000) {
            b->ptr[b->len++] = (uint8_t)(0xE0 | cp >> 12);
            b->ptr[b->len++] = (uint8_t)(0x80 | ((cp >> 6) & 63));
            b->ptr[b->len++] = (uint8_t)(0x80 | (cp & 63));
        } else {
            b->ptr[b->len++] = (uint8_t)(0xF0 | cp >> 18);
            b->ptr[b->len++] = (uint8_t)(0x80 | ((cp >> 12) & 63));
            b->ptr[b->len++] = (uint8_t)(0x80 | ((cp >> 6) & 63));
            b->ptr[b->len++] = (uint8_t)(0x80 | (cp & 63));
        }
        i += el;
    }
    return LKS_OK;
}

/* The decoded text of the first <name> in [s, s+n) into out (NUL-terminated,
 * cut to cap).  0 when absent or malformed. */
static int xml_get(const char *s, size_t n, const char *name, char *out, size_t cap) {
    const char *p = s, *cs;
    size_t cl;
    out[0] = 0;
    if (!xml_next(&p, s + n, name, &cs, &cl))
        return 0;
    lks_buf b;
    lks_buf_init(&b, 0);
    int ok = xml_text(&b, cs, cl) == LKS_OK;
    if (ok) {
        size_t k = b.len < cap - 1 ? b.len : cap - 1;
        if (k)
            memcpy(out, b.ptr, k);
        out[k] = 0;
    }
    lks_buf_free(&b);
    return ok;
}

/* Appends s XML-escaped. */
static int xml_escape(lks_buf *b, const char *s) {
    int rc = LKS_OK;
    for (; *s && rc == LKS_OK; s++) {
        switch (*s) {
        case '<': rc = lks_buf_append(b, "&lt;", 4); break;
        case '>': rc = lks_buf_append(b, "&gt;", 4); break;
        case '&': rc = lks_buf_append(b, "&amp;", 5); break;
        case '"': rc = lks_buf_append(b, "&quot;", 6); break;
        case '\'': rc = lks_buf_append(b, "&apos;", 6); break;
        default: rc = lks_buf_append_byte(b, (uint8_t)*s);
        }
    }
    return rc;
}

/* Decodes encoding-type=url text in place ('+' is a space, as S3 writes it). */
static int url_decode(lks_buf *b) {
    size_t o = 0;
    for (size_t i = 0; i < b->len; i++) {
        uint8_t c = b->ptr[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (b->len - i < 3)
                return LKS_ECORRUPT;
            int hi = lks_hex_value(b->ptr[i + 1]), lo = lks_hex_value(b->ptr[i + 2]);
            if (hi < 0 || lo < 0)
                return LKS_ECORRUPT;
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        }
        b->ptr[o++] = c;
    }
    b->len = o;
    return LKS_OK;
}

/* ---- errors ------------------------------------------------------------------------------ */

/* The object's name in messages: s3://bucket/prefix/key. */
static void obj_name(const s3_store *s, const char *key, char *out, size_t cap) {
    snprintf(out, cap, "s3://%s/%s%s", s->bucket, s->prefix, key ? key : "");
}

/* Fills rs->code/message from an error body (HEAD has none). */
static void parse_error_body(http_resp *rs) {
    if (rs->status < 300 || rs->code[0])
        return;
    xml_get((const char *)rs->body.ptr, rs->body.len, "Code", rs->code, sizeof rs->code);
    xml_get((const char *)rs->body.ptr, rs->body.len, "Message", rs->message, sizeof rs->message);
}

/* " (the bucket is in region X; set AWS_REGION)" when S3 said so, else "". */
static const char *region_hint(const s3_store *s, const http_resp *rs, char *buf, size_t cap) {
    buf[0] = 0;
    if (rs->bucket_region[0] && strcmp(rs->bucket_region, s->region) != 0)
        snprintf(buf, cap, " (the bucket is in region %s, not %s: set AWS_REGION)", rs->bucket_region, s->region);
    return buf;
}

static int fail_http(const s3_store *s, lks_err *err, int code, const char *op, const char *key, const http_resp *rs) {
    char nm[1400], hint[128];
    obj_name(s, key, nm, sizeof nm);
    return lks_err_set(err, code, "%s: %s: HTTP %ld%s%s%s%s%s", nm, op, rs->status, rs->code[0] ? " " : "", rs->code,
                       rs->message[0] ? ": " : "", rs->message, region_hint(s, rs, hint, sizeof hint));
}

/* ---- credentials ---------------------------------------------------------------------------- */

enum { SRC_NONE, SRC_STATIC, SRC_WEB_IDENTITY, SRC_CONTAINER, SRC_IMDS };

struct lks_aws_creds {
    char who[160]; /* names the user in messages: "s3://bucket" */
    CURL *curl;    /* for the providers of temporary credentials, made on first use */
    /* credentials in use */
    int src;
    char *ak, *sk, *token; /* token NULL without a session */
    int64_t expires_us;    /* 0: never */
    /* providers of temporary credentials */
    char *wi_token_file, *wi_role_arn, *wi_session, *sts_url;
    char *ct_url, *ct_token, *ct_token_file;
    char *imds_url;
    char where[256]; /* where the credentials come from, for messages */
};

/* Credentials go into headers: no control characters (no header injection
 * from a hostile credentials endpoint). */
static int clean_value(const char *v) {
    for (; v && *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7F)
            return 0;
    return 1;
}

static int set_creds(lks_aws_creds *c, const char *ak, const char *sk, const char *token, int64_t expires_us) {
    if (!clean_value(ak) || !clean_value(sk) || !clean_value(token))
        return LKS_ECORRUPT;
    char *a = strdup(ak), *k = strdup(sk), *t = token && *token ? strdup(token) : NULL;
    if (!a || !k || (token && *token && !t)) {
        free(a);
        free_secret(&k);
        free_secret(&t);
        return LKS_ENOMEM;
    }
    free(c->ak);
    free_secret(&c->sk);
    free_secret(&c->token);
    c->ak = a;
    c->sk = k;
    c->token = t;
    c->expires_us = expires_us;
    return LKS_OK;
}

/* Reads a small file whole (NUL-terminated, trailing whitespace cut). */
static int read_small_file(const char *path, size_t max, lks_buf *b) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return LKS_EIO;
    char chunk[4096];
    size_t n;
    int rc = LKS_OK;
    while (rc == LKS_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > max)
            rc = LKS_ELIMIT;
        else
            rc = lks_buf_append(b, chunk, n);
    }
    if (rc == LKS_OK && ferror(f))
        rc = LKS_EIO;
    fclose(f);
    while (rc == LKS_OK && b->len &&
           (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r' || b->ptr[b->len - 1] == ' ' ||
            b->ptr[b->len - 1] == '\t'))
        b->len--;
    if (rc == LKS_OK)
        rc = lks_buf_cstr(b);
    return rc;
}

/* An unsigned request for the credential providers, retried a few times on
 * network errors and 5xx.  LKS_OK with rs->status set, or LKS_EIO. */
static int cred_http(lks_aws_creds *c, const char *method, const char *url, struct curl_slist *hdrs, const char *body,
                     long connect_ms, int attempts, http_resp *rs, lks_err *err, const char *what) {
    if (!c->curl && !(c->curl = curl_easy_init()))
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", what);
    /* metadata endpoints answer at once; STS gets longer */
    http_req rq = {
        method, url, hdrs, body, body ? strlen(body) : 0, NULL, connect_ms, connect_ms < 5000 ? 5000 : 30000};
    for (int attempt = 1;; attempt++) {
        resp_reset(rs);
        http_perform(c->curl, &rq, rs);
        int retry = rs->cc != CURLE_OK ? net_retryable(rs->cc) : rs->status >= 500 || rs->status == 429;
        if (!retry || attempt >= attempts)
            break;
        sleep_ms(backoff_ms(attempt, RETRY_BASE_MS) + 50);
    }
    if (rs->cc != CURLE_OK)
        return lks_err_set(err, LKS_EIO, "%s: %s: %s", what, url, rs->curl_msg);
    return LKS_OK;
}

/* Credentials from the JSON that container endpoints and IMDS return. */
static int creds_from_json(lks_aws_creds *c, const lks_buf *body, const char *what, lks_err *err) {
    json_error_t je;
    json_t *j = json_loadb((const char *)body->ptr, body->len, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return lks_err_set(err, LKS_ECORRUPT, "%s: the credentials response is not a JSON object", what);
    }
    const char *ak = json_string_value(json_object_get(j, "AccessKeyId"));
    const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(j, "Token"));
    const char *exp = json_string_value(json_object_get(j, "Expiration"));
    const char *code = json_string_value(json_object_get(j, "Code"));
    int rc = LKS_OK;
    int64_t exp_us = 0;
    if (code && strcmp(code, "Success") != 0)
        rc = lks_err_set(err, LKS_EIO, "%s: credentials not available (Code %.64s)", what, code);
    else if (!ak || !sk || !*ak || !*sk)
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: AccessKeyId or SecretAccessKey missing in the response", what);
    else if (exp && lks_parse_timestamp_us(exp, strlen(exp), &exp_us) != LKS_OK)
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: bad Expiration '%.40s'", what, exp);
    else if ((rc = set_creds(c, ak, sk, tok, exp ? exp_us : 0)) != LKS_OK)
        rc = lks_err_set(err, rc, "%s: %s", what,
                         rc == LKS_ECORRUPT ? "control characters in the credentials" : "out of memory");
    json_decref(j);
    return rc;
}

static int fetch_container(lks_aws_creds *c, lks_err *err) {
    struct curl_slist *hdrs = NULL;
    lks_buf tok;
    lks_buf_init(&tok, TOKEN_FILE_MAX + 1);
    int rc = LKS_OK;
    const char *auth = c->ct_token;
    if (c->ct_token_file) {
        if (read_small_file(c->ct_token_file, TOKEN_FILE_MAX, &tok) != LKS_OK) {
            lks_buf_free(&tok);
            return lks_err_set(err, LKS_ECONFIG,
                               "container credentials: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s",
                               c->ct_token_file);
        }
        auth = (const char *)tok.ptr;
    }
    if (auth && *auth) {
        if (strchr(auth, '\r') || strchr(auth, '\n')) {
            lks_buf_free(&tok);
            return lks_err_set(err, LKS_ECONFIG, "container credentials: the authorization token has a line break");
        }
        lks_buf h;
        lks_buf_init(&h, 0);
        if (lks_buf_printf(&h, "Authorization: %s", auth) == LKS_OK && lks_buf_cstr(&h) == LKS_OK)
            hdrs = curl_slist_append(hdrs, (const char *)h.ptr);
        if (h.ptr)
            memset(h.ptr, 0, h.len);
        lks_buf_free(&h);
    }
    if (tok.ptr)
        memset(tok.ptr, 0, tok.len);
    lks_buf_free(&tok);
    http_resp rs;
    resp_init(&rs);
    rc = cred_http(c, "GET", c->ct_url, hdrs, NULL, 2000, 3, &rs, err, "container credentials");
    curl_slist_free_all(hdrs);
    if (rc == LKS_OK && rs.status != 200)
        rc = lks_err_set(err, LKS_EIO, "container credentials: %s: HTTP %ld", c->ct_url, rs.status);
    if (rc == LKS_OK)
        rc = creds_from_json(c, &rs.body, "container credentials", err);
    resp_free(&rs);
    return rc;
}

static int fetch_imds(lks_aws_creds *c, int first, lks_err *err) {
    char url[1024];
    http_resp rs;
    resp_init(&rs);
    int attempts = first ? 1 : 3;
    /* IMDSv2: a session token first */
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    snprintf(url, sizeof url, "%s/latest/api/token", c->imds_url);
    int rc = cred_http(c, "PUT", url, hdrs, "", 1000, attempts, &rs, err, "instance metadata");
    curl_slist_free_all(hdrs);
    hdrs = NULL;
    char token[256];
    if (rc == LKS_OK && (rs.status != 200 || rs.body.len == 0 || rs.body.len >= sizeof token))
        rc = lks_err_set(err, LKS_EIO, "instance metadata: %s: HTTP %ld (IMDSv2 token refused)", url, rs.status);
    if (rc == LKS_OK) {
        memcpy(token, rs.body.ptr, rs.body.len);
        token[rs.body.len] = 0;
        if (strpbrk(token, "\r\n"))
            rc = lks_err_set(err, LKS_ECORRUPT, "instance metadata: bad session token");
    }
    char role[256] = "";
    if (rc == LKS_OK) {
        char th[320];
        snprintf(th, sizeof th, "X-aws-ec2-metadata-token: %s", token);
        hdrs = curl_slist_append(NULL, th);
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", c->imds_url);
        rc = cred_http(c, "GET", url, hdrs, NULL, 1000, attempts, &rs, err, "instance metadata");
        if (rc == LKS_OK && rs.status != 200)
            rc = lks_err_set(err, LKS_EIO, "instance metadata: %s: HTTP %ld (no instance role?)", url, rs.status);
        if (rc == LKS_OK) {
            size_t n = 0;
            while (n < rs.body.len && n < sizeof role - 1 && rs.body.ptr[n] != '\n' && rs.body.ptr[n] != '\r')
                n++;
            memcpy(role, rs.body.ptr, n);
            role[n] = 0;
            for (size_t i = 0; i < n && rc == LKS_OK; i++)
                if (role[i] == '/' || role[i] == '?' || role[i] == '#' || (unsigned char)role[i] < 0x21)
                    rc = lks_err_set(err, LKS_ECORRUPT, "instance metadata: bad role name");
            if (rc == LKS_OK && n == 0)
                rc = lks_err_set(err, LKS_EIO, "instance metadata: no instance role");
        }
        if (rc == LKS_OK) {
            snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", c->imds_url, role);
            rc = cred_http(c, "GET", url, hdrs, NULL, 1000, attempts, &rs, err, "instance metadata");
            if (rc == LKS_OK && rs.status != 200)
                rc = lks_err_set(err, LKS_EIO, "instance metadata: %s: HTTP %ld", url, rs.status);
            if (rc == LKS_OK)
                rc = creds_from_json(c, &rs.body, "instance metadata", err);
        }
        memset(th, 0, sizeof th);
        curl_slist_free_all(hdrs);
    }
    memset(token, 0, sizeof token);
    resp_free(&rs);
    return rc;
}

/* Appends application/x-www-form-urlencoded s. */
static int form_encode(lks_buf *b, const char *s) { return lks_sigv4_uri_encode(b, s, strlen(s), 0); }

static int fetch_web_identity(lks_aws_creds *c, lks_err *err) {
    lks_buf tok, body;
    lks_buf_init(&tok, TOKEN_FILE_MAX + 1);
    lks_buf_init(&body, 0);
    if (read_small_file(c->wi_token_file, TOKEN_FILE_MAX, &tok) != LKS_OK || tok.len == 0) {
        lks_buf_free(&tok);
        return lks_err_set(err, LKS_ECONFIG, "web identity: cannot read the token file %s", c->wi_token_file);
    }
    int rc = lks_buf_printf(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
    if (rc == LKS_OK)
        rc = form_encode(&body, c->wi_role_arn);
    if (rc == LKS_OK)
        rc = lks_buf_printf(&body, "&RoleSessionName=");
    if (rc == LKS_OK)
        rc = form_encode(&body, c->wi_session);
    if (rc == LKS_OK)
        rc = lks_buf_printf(&body, "&WebIdentityToken=");
    if (rc == LKS_OK)
        rc = form_encode(&body, (const char *)tok.ptr);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(&body);
    memset(tok.ptr, 0, tok.len);
    lks_buf_free(&tok);
    if (rc) {
        lks_buf_free(&body);
        return lks_err_set(err, rc, "out of memory");
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
    hdrs = curl_slist_append(hdrs, "Expect:");
    http_resp rs;
    resp_init(&rs);
    rc = cred_http(c, "POST", c->sts_url, hdrs, (const char *)body.ptr, CONNECT_TIMEOUT_MS, 3, &rs, err,
                   "web identity (STS AssumeRoleWithWebIdentity)");
    curl_slist_free_all(hdrs);
    memset(body.ptr, 0, body.len);
    lks_buf_free(&body);
    if (rc == LKS_OK && rs.status != 200) {
        parse_error_body(&rs);
        rc = lks_err_set(err, LKS_EIO, "web identity: STS AssumeRoleWithWebIdentity at %s for %s: HTTP %ld %s%s%s",
                         c->sts_url, c->wi_role_arn, rs.status, rs.code, rs.message[0] ? ": " : "", rs.message);
    }
    if (rc == LKS_OK) {
        const char *p = (const char *)rs.body.ptr, *cs;
        size_t cl;
        char *ak = malloc(256), *sk = malloc(256), *st = malloc(8192), exp[64];
        if (!ak || !sk || !st)
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
        else if (!xml_next(&p, p + rs.body.len, "Credentials", &cs, &cl) || !xml_get(cs, cl, "AccessKeyId", ak, 256) ||
                 !xml_get(cs, cl, "SecretAccessKey", sk, 256) || !xml_get(cs, cl, "SessionToken", st, 8192) || !*ak ||
                 !*sk)
            rc = lks_err_set(err, LKS_ECORRUPT, "web identity: no credentials in the STS response");
        else {
            int64_t exp_us = 0;
            if (xml_get(cs, cl, "Expiration", exp, sizeof exp) &&
                lks_parse_timestamp_us(exp, strlen(exp), &exp_us) != LKS_OK)
                rc = lks_err_set(err, LKS_ECORRUPT, "web identity: bad Expiration '%s'", exp);
            else if ((rc = set_creds(c, ak, sk, st, exp_us)) != LKS_OK)
                rc = lks_err_set(err, rc, "web identity: %s",
                                 rc == LKS_ECORRUPT ? "control characters in the credentials" : "out of memory");
        }
        if (sk)
            memset(sk, 0, 256);
        if (st)
            memset(st, 0, 8192);
        free(ak);
        free(sk);
        free(st);
    }
    resp_free(&rs);
    return rc;
}

int lks_aws_creds_get(lks_aws_creds *c, int force, lks_aws_key *key, lks_err *err) {
    int64_t now = lks_now_us();
    int rc = LKS_OK;
    if (c->src == SRC_STATIC || (c->ak && !force && (c->expires_us == 0 || now + REFRESH_MARGIN_US < c->expires_us)))
        goto have;
    lks_err e2;
    lks_err_clear(&e2);
    switch (c->src) {
    case SRC_WEB_IDENTITY: rc = fetch_web_identity(c, &e2); break;
    case SRC_CONTAINER: rc = fetch_container(c, &e2); break;
    case SRC_IMDS: rc = fetch_imds(c, c->ak == NULL, &e2); break;
    default:
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: no AWS credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, %s, "
                           "web identity, container credentials; instance metadata disabled)",
                           c->who, c->where);
    }
    if (rc == LKS_OK) {
        size_t n = strlen(c->ak);
        lks_log(LKS_LOG_DEBUG, "aws", "%s: credentials from %s (key id ...%s)", c->who, c->where,
                c->ak + (n > 4 ? n - 4 : n));
        goto have;
    }
    if (c->ak && (c->expires_us == 0 || now < c->expires_us) && !force) {
        lks_log(LKS_LOG_WARN, "aws", "%s: refreshing credentials failed, using the current ones: %s", c->who, e2.msg);
        goto have;
    }
    if (c->src == SRC_IMDS && !c->ak)
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: no AWS credentials found (environment, %s, web identity, container "
                           "credentials; instance metadata: %s)",
                           c->who, c->where, e2.msg);
    return lks_err_set(err, rc, "%s: %s", c->who, e2.msg);
have:
    key->access_key = c->ak;
    key->secret = c->sk;
    key->token = c->token;
    key->expires_us = c->expires_us;
    return LKS_OK;
}

int lks_aws_creds_renewable(const lks_aws_creds *c) {
    return c->src == SRC_WEB_IDENTITY || c->src == SRC_CONTAINER || c->src == SRC_IMDS;
}

const char *lks_aws_creds_source(const lks_aws_creds *c) { return c->where; }

/* ---- signed S3 requests ----------------------------------------------------------------------- */

typedef struct s3_call {
    const char *method;
    const char *key; /* store key (prefix added here), NULL: the bucket */
    int raw_key;     /* key is the full object key (no store prefix) */
    const lks_sigv4_param *query;
    size_t nquery;
    lks_sigv4_header extra[8]; /* Range, Content-Type, If-None-Match, Content-MD5 ... */
    size_t nextra;
    const void *body;
    size_t body_len;
    lks_buf *out;    /* 2xx body sink (NULL: rs->body) */
    int conditional; /* 409 ConditionalRequestConflict is retried */
    const char *op;  /* for messages: "GET", "PUT", "list" ... */
    int ambiguous;   /* out: an earlier try of a write may have been applied */
    int attempts;    /* out: tries made */
} s3_call;

static int build_target(const s3_store *s, const s3_call *c, const char *cquery, lks_buf *path, lks_buf *url) {
    int rc = lks_buf_append_byte(path, '/');
    if (rc == LKS_OK && s->path_style) {
        rc = lks_sigv4_uri_encode(path, s->bucket, strlen(s->bucket), 0);
        if (rc == LKS_OK && c->key)
            rc = lks_buf_append_byte(path, '/');
    }
    if (rc == LKS_OK && c->key) {
        if (!c->raw_key)
            rc = lks_sigv4_uri_encode(path, s->prefix, strlen(s->prefix), 1);
        if (rc == LKS_OK)
            rc = lks_sigv4_uri_encode(path, c->key, strlen(c->key), 1);
    }
    if (rc == LKS_OK)
        rc = lks_buf_cstr(path);
    if (rc == LKS_OK)
        rc = lks_buf_printf(url, "%s://%s%s%s%s", s->https ? "https" : "http", s->host, (const char *)path->ptr,
                            *cquery ? "?" : "", cquery);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(url);
    return rc;
}

static int add_header(struct curl_slist **l, const char *name, const char *value) {
    char line[9000];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return LKS_ELIMIT;
    struct curl_slist *t = curl_slist_append(*l, line);
    memset(line, 0, (size_t)n);
    if (!t)
        return LKS_ENOMEM;
    *l = t;
    return LKS_OK;
}

/* One try signed with key. */
static int s3_try(s3_store *s, s3_call *c, const lks_aws_key *key, const char *payload_hash, http_resp *rs,
                  lks_err *err) {
    lks_buf q, path, url, auth;
    lks_buf_init(&q, 0);
    lks_buf_init(&path, 0);
    lks_buf_init(&url, 0);
    lks_buf_init(&auth, 0);
    struct curl_slist *hl = NULL;
    int rc = lks_sigv4_canonical_query(&q, c->query, c->nquery);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(&q);
    if (rc == LKS_OK)
        rc = build_target(s, c, (const char *)q.ptr, &path, &url);
    if (rc) {
        rc = lks_err_set(err, rc, "s3://%s: cannot build the request URL", s->bucket);
        goto done;
    }
    char amz_date[20];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tmv);
    lks_sigv4_header h[LKS_SIGV4_MAX_HEADERS];
    size_t nh = 0;
    h[nh++] = (lks_sigv4_header){"host", s->host};
    h[nh++] = (lks_sigv4_header){"x-amz-date", amz_date};
    h[nh++] = (lks_sigv4_header){"x-amz-content-sha256", payload_hash};
    if (key->token)
        h[nh++] = (lks_sigv4_header){"x-amz-security-token", key->token};
    for (size_t i = 0; i < c->nextra; i++)
        h[nh++] = c->extra[i];
    lks_sigv4_req sr = {
        c->method, (const char *)path.ptr, (const char *)q.ptr, h, nh, payload_hash, amz_date, s->region, "s3"};
    if ((rc = lks_sigv4_authorization(&sr, key->access_key, key->secret, &auth, NULL, err)) != LKS_OK)
        goto done;
    if ((rc = lks_buf_cstr(&auth)) != LKS_OK) {
        rc = lks_err_set(err, rc, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nh && rc == LKS_OK; i++)
        rc = add_header(&hl, h[i].name, h[i].value);
    if (rc == LKS_OK)
        rc = add_header(&hl, "Authorization", (const char *)auth.ptr);
    if (rc == LKS_OK) {
        struct curl_slist *t = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
        rc = t ? LKS_OK : LKS_ENOMEM;
        if (t)
            hl = t;
    }
    if (rc) {
        rc = lks_err_set(err, rc, "s3://%s: cannot build the request headers", s->bucket);
        goto done;
    }
    http_req rq = {c->method, (const char *)url.ptr, hl, c->body, c->body_len, c->out, 0, 0};
    http_perform(s->curl, &rq, rs);
done:
    curl_slist_free_all(hl);
    if (auth.ptr)
        memset(auth.ptr, 0, auth.len);
    lks_buf_free(&q);
    lks_buf_free(&path);
    lks_buf_free(&url);
    lks_buf_free(&auth);
    return rc;
}

/* Sends a call with retries.  LKS_OK once a final HTTP response is in rs
 * (any status: the caller maps it; error responses have rs->code parsed);
 * otherwise an error naming the object and the last failure. */
static int s3_exec_locked(s3_store *s, s3_call *c, http_resp *rs, lks_err *err);

static int s3_exec(s3_store *s, s3_call *c, http_resp *rs, lks_err *err) {
    pthread_mutex_lock(&s->lock);
    int rc = s3_exec_locked(s, c, rs, err);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int s3_exec_locked(s3_store *s, s3_call *c, http_resp *rs, lks_err *err) {
    char payload_hash[65];
    lks_sha256_hex(c->body ? c->body : "", c->body ? c->body_len : 0, payload_hash);
    size_t out_len0 = c->out ? c->out->len : 0;
    uint64_t t0 = lks_mono_ns();
    int refreshed = 0, is_write = strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0;
    c->ambiguous = 0;
    for (int attempt = 1;; attempt++) {
        c->attempts = attempt;
        lks_aws_key key;
        int rc = lks_aws_creds_get(s->creds, 0, &key, err);
        if (rc)
            return rc;
        resp_reset(rs);
        if (c->out)
            c->out->len = out_len0;
        if ((rc = s3_try(s, c, &key, payload_hash, rs, err)) != LKS_OK)
            return rc;
        int retry = 0;
        if (rs->resent && is_write)
            c->ambiguous = 1;
        if (rs->cc != CURLE_OK) {
            if (rs->sink_err) {
                char nm[1400];
                obj_name(s, c->key, nm, sizeof nm);
                return lks_err_set(err, rs->sink_err, "%s: %s: the %lld-byte response does not fit the buffer", nm,
                                   c->op, (long long)rs->content_length);
            }
            retry = net_retryable(rs->cc);
            if (retry && is_write)
                c->ambiguous = 1;
        } else {
            parse_error_body(rs);
            long st = rs->status;
            if (st >= 500 || st == 429) {
                retry = 1;
                if (is_write && st != 503)
                    c->ambiguous = 1;
            } else if (st == 409 && c->conditional && strcmp(rs->code, "ConditionalRequestConflict") == 0) {
                retry = 1;
            } else if (st == 400 && strcmp(rs->code, "RequestTimeout") == 0) {
                retry = 1;
            } else if ((st == 400 || st == 403) && strcmp(rs->code, "ExpiredToken") == 0 && !refreshed &&
                       lks_aws_creds_renewable(s->creds)) {
                refreshed = 1;
                if ((rc = lks_aws_creds_get(s->creds, 1, &key, err)) != LKS_OK)
                    return rc;
                retry = 1;
            }
            if (!retry)
                return LKS_OK;
        }
        long delay = backoff_ms(attempt, s->retry_base_ms);
        uint64_t spent_ms = (lks_mono_ns() - t0) / 1000000;
        if (!retry || attempt >= s->retry_attempts || spent_ms + (uint64_t)delay > RETRY_BUDGET_MS) {
            char nm[1400];
            obj_name(s, c->key, nm, sizeof nm);
            if (rs->cc != CURLE_OK)
                return lks_err_set(err, LKS_EIO, "%s: %s: %s (after %d %s)", nm, c->op, rs->curl_msg, attempt,
                                   attempt == 1 ? "try" : "tries");
            return lks_err_set(err, LKS_EIO, "%s: %s: HTTP %ld%s%s%s%s (after %d tries)", nm, c->op, rs->status,
                               rs->code[0] ? " " : "", rs->code, rs->message[0] ? ": " : "", rs->message, attempt);
        }
        if (rs->cc != CURLE_OK)
            lks_log(LKS_LOG_DEBUG, "store", "s3://%s/%s%s: %s: %s; retrying in %ld ms", s->bucket, s->prefix,
                    c->key ? c->key : "", c->op, rs->curl_msg, delay);
        else
            lks_log(LKS_LOG_DEBUG, "store", "s3://%s/%s%s: %s: HTTP %ld %s; retrying in %ld ms", s->bucket, s->prefix,
                    c->key ? c->key : "", c->op, rs->status, rs->code, delay);
        sleep_ms(delay);
    }
}

/* Maps a final non-2xx response of an object request to a status. */
static int object_error(const s3_store *s, lks_err *err, const char *op, const char *key, const http_resp *rs) {
    int code = LKS_EIO;
    if (rs->status == 404 && (rs->code[0] == 0 || strcmp(rs->code, "NoSuchKey") == 0))
        code = LKS_ENOTFOUND;
    return fail_http(s, err, code, op, key, rs);
}

/* ---- operations ------------------------------------------------------------------------------ */

static int s3_head(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err) {
    s3_store *s = S(st);
    s3_call c = {0};
    c.method = "HEAD";
    c.key = key;
    c.op = "HEAD";
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK) {
        if (rs.status == 200) {
            ent->key = NULL;
            ent->size = rs.content_length > 0 ? (uint64_t)rs.content_length : 0;
            ent->mtime_us = rs.filetime > 0 ? rs.filetime * 1000000 : 0;
        } else {
            rc = object_error(s, err, "HEAD", key, &rs);
        }
    }
    resp_free(&rs);
    return rc;
}

static int s3_get(lks_store *st, const char *key, uint64_t off, uint64_t len, int ranged, lks_buf *out, lks_err *err) {
    s3_store *s = S(st);
    char nm[1400];
    if (ranged && len == 0) {
        /* no HTTP range is empty: check the offset against the size */
        lks_store_entry ent;
        int rc = s3_head(st, key, &ent, err);
        if (rc)
            return rc;
        if (off > ent.size) {
            obj_name(s, key, nm, sizeof nm);
            return lks_err_set(err, LKS_ECORRUPT, "%s: range [%llu, +0) is past the end of the %llu-byte object", nm,
                               (unsigned long long)off, (unsigned long long)ent.size);
        }
        return LKS_OK;
    }
    char range[64];
    s3_call c = {0};
    c.method = "GET";
    c.key = key;
    c.op = "GET";
    c.out = out;
    if (ranged) {
        if (len - 1 > UINT64_MAX - off) { /* the end offset overflows: past any object */
            obj_name(s, key, nm, sizeof nm);
            return lks_err_set(err, LKS_ECORRUPT, "%s: range %llu+%llu is past the end of the object", nm,
                               (unsigned long long)off, (unsigned long long)len);
        }
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
        c.extra[c.nextra++] = (lks_sigv4_header){"Range", range};
    }
    size_t len0 = out->len;
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK) {
        obj_name(s, key, nm, sizeof nm);
        if (rs.status == 416) {
            rc = lks_err_set(err, LKS_ECORRUPT, "%s: range [%llu, +%llu) is past the end of the object", nm,
                             (unsigned long long)off, (unsigned long long)len);
        } else if (rs.status != 200 && rs.status != 206) {
            rc = object_error(s, err, "GET", key, &rs);
        } else if (!ranged) {
            if (rs.content_length >= 0 && (uint64_t)rs.content_length != out->len - len0)
                rc = lks_err_set(err, LKS_EIO, "%s: GET: %zu bytes received, Content-Length %lld", nm, out->len - len0,
                                 (long long)rs.content_length);
        } else if (rs.status == 206) {
            if (!rs.has_range || rs.range_first != off)
                rc = lks_err_set(err, LKS_EIO, "%s: GET: the response's Content-Range does not match bytes=%llu-", nm,
                                 (unsigned long long)off);
            else if (rs.range_last != off + len - 1)
                rc = lks_err_set(err, LKS_ECORRUPT, "%s: range [%llu, +%llu) is past the end of the %llu-byte object",
                                 nm, (unsigned long long)off, (unsigned long long)len,
                                 (unsigned long long)rs.range_total);
            else if (out->len - len0 != len)
                rc = lks_err_set(err, LKS_EIO, "%s: GET: %zu bytes received for a %llu-byte range", nm, out->len - len0,
                                 (unsigned long long)len);
        } else {
            /* a server that ignores Range sends the whole object: cut it */
            size_t got = out->len - len0;
            if (off > got || len > got - off) {
                rc = lks_err_set(err, LKS_ECORRUPT, "%s: range [%llu, +%llu) is past the end of the %zu-byte object",
                                 nm, (unsigned long long)off, (unsigned long long)len, got);
            } else {
                memmove(out->ptr + len0, out->ptr + len0 + off, (size_t)len);
                out->len = len0 + (size_t)len;
            }
        }
    }
    if (rc != LKS_OK && out->ptr)
        out->len = len0 < out->len ? len0 : out->len;
    resp_free(&rs);
    return rc;
}

/* Content-Type by key suffix: S3 stores it, and readers (browsers, Spark
 * tooling) look at it. */
static const char *content_type(const char *key) {
    size_t n = strlen(key);
    if (n >= 5 && strcmp(key + n - 5, ".json") == 0)
        return "application/json";
    if (n >= 4 && (strcmp(key + n - 4, ".txt") == 0 || strcmp(key + n - 3, ".md") == 0))
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

/* After a 412 on a put_if_absent whose earlier try may have landed (its
 * response lost): the object holding exactly our bytes is our own write. */
static int is_our_object(s3_store *s, const char *key, const void *data, size_t len) {
    lks_buf b;
    lks_buf_init(&b, len + 1);
    lks_err e;
    int same =
        s3_get(&s->base, key, 0, 0, 0, &b, &e) == LKS_OK && b.len == len && (len == 0 || memcmp(b.ptr, data, len) == 0);
    lks_buf_free(&b);
    return same;
}

static int put_single(s3_store *s, const char *key, const void *data, size_t len, int if_absent, lks_err *err) {
    s3_call c = {0};
    c.method = "PUT";
    c.key = key;
    c.op = if_absent ? "PUT (if absent)" : "PUT";
    c.body = data ? data : "";
    c.body_len = len;
    c.conditional = if_absent;
    c.extra[c.nextra++] = (lks_sigv4_header){"Content-Type", content_type(key)};
    if (if_absent)
        c.extra[c.nextra++] = (lks_sigv4_header){"If-None-Match", "*"};
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK && rs.status != 200) {
        char nm[1400];
        obj_name(s, key, nm, sizeof nm);
        if (if_absent && rs.status == 412) {
            if (c.ambiguous && is_our_object(s, key, data, len))
                rc = LKS_OK;
            else
                rc = lks_err_set(err, LKS_EEXIST, "%s already exists", nm);
        } else {
            rc = fail_http(s, err, LKS_EIO, c.op, key, &rs);
        }
    }
    resp_free(&rs);
    return rc;
}

/* AbortMultipartUpload; an upload already gone (404) is no error. */
static int abort_upload_err(s3_store *s, const char *key, const char *upload_id, lks_err *err) {
    lks_sigv4_param q[] = {{"uploadId", upload_id}};
    s3_call c = {0};
    c.method = "DELETE";
    c.key = key;
    c.op = "AbortMultipartUpload";
    c.query = q;
    c.nquery = 1;
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK && rs.status != 204 && rs.status != 200 && rs.status != 404)
        rc = fail_http(s, err, LKS_EIO, c.op, key, &rs);
    resp_free(&rs);
    return rc;
}

/* Ends an upload that failed: a failure to abort is only logged (the
 * caller reports the first error). */
static void abort_upload(s3_store *s, const char *key, const char *upload_id) {
    lks_err e;
    if (abort_upload_err(s, key, upload_id, &e) != LKS_OK)
        lks_log(LKS_LOG_WARN, "store", "%s", e.msg);
}

/* The ETag S3 gives a completed multipart object: MD5 of the parts' binary
 * MD5s, "-" and the part count.  0 when a part ETag is not a plain MD5
 * (encrypted uploads), so it cannot be predicted. */
static int multipart_etag(const lks_buf *md5s, size_t nparts, char *out, size_t cap) {
    if (md5s->len != nparts * 16)
        return 0;
    uint8_t d[16];
    char hex[33];
    lks_md5(md5s->ptr, md5s->len, d);
    lks_hex_lower(d, 16, hex);
    snprintf(out, cap, "%s-%zu", hex, nparts);
    return 1;
}

/* Appends the 16 bytes of a quoted hex MD5 ETag; LKS_EINVAL otherwise. */
static int etag_md5(lks_buf *md5s, const char *etag) {
    size_t n = strlen(etag);
    if (n == 34 && etag[0] == '"' && etag[33] == '"')
        etag++, n = 32;
    if (n != 32)
        return LKS_EINVAL;
    uint8_t d[16];
    for (int i = 0; i < 16; i++) {
        int hi = lks_hex_value(etag[2 * i]), lo = lks_hex_value(etag[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LKS_EINVAL;
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    return lks_buf_append(md5s, d, 16);
}

/* Whether the object's ETag is `want` (quotes ignored). */
static int object_has_etag(s3_store *s, const char *key, const char *want) {
    s3_call c = {0};
    c.method = "HEAD";
    c.key = key;
    c.op = "HEAD";
    http_resp rs;
    resp_init(&rs);
    lks_err e;
    int same = 0;
    if (s3_exec(s, &c, &rs, &e) == LKS_OK && rs.status == 200) {
        const char *t = rs.etag;
        size_t n = strlen(t);
        if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
            t++, n -= 2;
        same = n == strlen(want) && strncasecmp(t, want, n) == 0;
    }
    resp_free(&rs);
    return same;
}

/* A multipart upload under way: parts go up as they come, the completion
 * request is built along. */
typedef struct s3_mpu {
    char *key;
    char upload_id[1024];
    size_t nparts;
    lks_buf done; /* the CompleteMultipartUpload body so far */
    lks_buf md5s; /* the parts' MD5s, while their ETags are plain MD5s */
    int etags_known;
} s3_mpu;

static void mpu_free(s3_mpu *u) {
    lks_buf_free(&u->done);
    lks_buf_free(&u->md5s);
    free(u->key);
    u->key = NULL;
}

/* CreateMultipartUpload. */
static int mpu_start(s3_store *s, s3_mpu *u, const char *key, lks_err *err) {
    memset(u, 0, sizeof *u);
    lks_buf_init(&u->done, 0);
    lks_buf_init(&u->md5s, 0);
    u->etags_known = 1;
    if (!(u->key = strdup(key)))
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    char nm[1400];
    obj_name(s, key, nm, sizeof nm);
    lks_sigv4_param qi[] = {{"uploads", NULL}};
    s3_call c = {0};
    c.method = "POST";
    c.key = key;
    c.op = "CreateMultipartUpload";
    c.query = qi;
    c.nquery = 1;
    c.extra[c.nextra++] = (lks_sigv4_header){"Content-Type", content_type(key)};
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK && rs.status != 200)
        rc = fail_http(s, err, LKS_EIO, c.op, key, &rs);
    if (rc == LKS_OK &&
        (!xml_get((const char *)rs.body.ptr, rs.body.len, "UploadId", u->upload_id, sizeof u->upload_id) ||
         !u->upload_id[0]))
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: CreateMultipartUpload: no UploadId in the response", nm);
    if (rc == LKS_OK &&
        (rc = lks_buf_printf(&u->done, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">")))
        rc = lks_err_set(err, rc, "out of memory");
    resp_free(&rs);
    if (rc) {
        if (u->upload_id[0])
            abort_upload(s, key, u->upload_id);
        mpu_free(u);
    }
    return rc;
}

/* UploadPart: the next part. */
static int mpu_part(s3_store *s, s3_mpu *u, const uint8_t *data, size_t len, lks_err *err) {
    char nm[1400];
    obj_name(s, u->key, nm, sizeof nm);
    if (u->nparts >= MPU_PARTS_MAX)
        return lks_err_set(err, LKS_ELIMIT, "%s: more than %d parts", nm, MPU_PARTS_MAX);
    char pn[24];
    snprintf(pn, sizeof pn, "%zu", u->nparts + 1);
    lks_sigv4_param qp[] = {{"partNumber", pn}, {"uploadId", u->upload_id}};
    s3_call pc = {0};
    pc.method = "PUT";
    pc.key = u->key;
    pc.op = "UploadPart";
    pc.query = qp;
    pc.nquery = 2;
    pc.body = len ? (const void *)data : "";
    pc.body_len = len;
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &pc, &rs, err);
    if (rc == LKS_OK && rs.status != 200)
        rc = fail_http(s, err, LKS_EIO, "UploadPart", u->key, &rs);
    if (rc == LKS_OK && !rs.etag[0])
        rc = lks_err_set(err, LKS_ECORRUPT, "%s: UploadPart %zu: no ETag in the response", nm, u->nparts + 1);
    if (rc == LKS_OK && u->etags_known && etag_md5(&u->md5s, rs.etag) != LKS_OK)
        u->etags_known = 0; /* the final ETag cannot be predicted */
    if (rc == LKS_OK && (lks_buf_printf(&u->done, "<Part><PartNumber>%zu</PartNumber><ETag>", u->nparts + 1) ||
                         xml_escape(&u->done, rs.etag) || lks_buf_printf(&u->done, "</ETag></Part>")))
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    if (rc == LKS_OK)
        u->nparts++;
    resp_free(&rs);
    return rc;
}

/* CompleteMultipartUpload.  Either way the upload ends: a failure aborts
 * it, so no parts linger. */
static int mpu_complete(s3_store *s, s3_mpu *u, int if_absent, lks_err *err) {
    char nm[1400];
    obj_name(s, u->key, nm, sizeof nm);
    int rc = lks_buf_printf(&u->done, "</CompleteMultipartUpload>");
    if (rc)
        rc = lks_err_set(err, rc, "out of memory");
    http_resp rs;
    resp_init(&rs);
    if (rc == LKS_OK) {
        lks_sigv4_param qc[] = {{"uploadId", u->upload_id}};
        s3_call cc = {0};
        cc.method = "POST";
        cc.key = u->key;
        cc.op = "CompleteMultipartUpload";
        cc.query = qc;
        cc.nquery = 1;
        cc.body = u->done.ptr;
        cc.body_len = u->done.len;
        cc.conditional = if_absent;
        cc.extra[cc.nextra++] = (lks_sigv4_header){"Content-Type", "application/xml"};
        if (if_absent)
            cc.extra[cc.nextra++] = (lks_sigv4_header){"If-None-Match", "*"};
        rc = s3_exec(s, &cc, &rs, err);
        char want[64];
        if (rc == LKS_OK && cc.ambiguous && (rs.status == 404 || rs.status == 412) && u->etags_known &&
            multipart_etag(&u->md5s, u->nparts, want, sizeof want) && object_has_etag(s, u->key, want)) {
            /* an earlier try completed it and its answer was lost: the
             * object with our parts' ETag is our upload */
            resp_free(&rs);
            mpu_free(u);
            return LKS_OK;
        }
        if (rc == LKS_OK && rs.status == 412 && if_absent)
            rc = lks_err_set(err, LKS_EEXIST, "%s already exists", nm);
        else if (rc == LKS_OK && rs.status != 200)
            rc = fail_http(s, err, LKS_EIO, cc.op, u->key, &rs);
        else if (rc == LKS_OK) {
            /* a 200 may still carry an <Error> (the failure came after the headers) */
            char code[128];
            if (xml_get((const char *)rs.body.ptr, rs.body.len, "Code", code, sizeof code) &&
                memmem(rs.body.ptr, rs.body.len, "<Error>", 7)) {
                xml_get((const char *)rs.body.ptr, rs.body.len, "Message", rs.message, sizeof rs.message);
                snprintf(rs.code, sizeof rs.code, "%s", code);
                rc = fail_http(s, err, LKS_EIO, cc.op, u->key, &rs);
            }
        }
    }
    if (rc != LKS_OK)
        abort_upload(s, u->key, u->upload_id);
    resp_free(&rs);
    mpu_free(u);
    return rc;
}

/* Uploads in parts; any failure aborts the upload so no parts linger. */
static int put_multipart(s3_store *s, const char *key, const uint8_t *data, size_t len, int if_absent, lks_err *err) {
    size_t part = s->mpu_part;
    if (len / part >= MPU_PARTS_MAX)
        part = (len + MPU_PARTS_MAX - 1) / MPU_PARTS_MAX;
    size_t nparts = (len + part - 1) / part;
    s3_mpu u;
    int rc = mpu_start(s, &u, key, err);
    for (size_t i = 0; i < nparts && rc == LKS_OK; i++)
        rc = mpu_part(s, &u, data + i * part, i + 1 < nparts ? part : len - i * part, err);
    if (rc == LKS_OK)
        return mpu_complete(s, &u, if_absent, err);
    if (u.key) { /* started, a part failed */
        abort_upload(s, u.key, u.upload_id);
        mpu_free(&u);
    }
    return rc;
}

/* ---- writing in pieces ------------------------------------------------------------------------- */

/* An object written in pieces: held until it fills a part, then uploaded
 * part by part (invisible until the completion publishes the object); one
 * that never filled a part is put whole at commit (in parts past the
 * multipart threshold). */
typedef struct s3_writer {
    char *key;
    lks_buf pending; /* bytes not uploaded yet (less than a part after each call) */
    int started;
    s3_mpu u;
} s3_writer;

static void s3_writer_free(s3_writer *w) {
    lks_buf_free(&w->pending);
    free(w->key);
    free(w);
}

static int s3_wopen(lks_store *st, const char *key, void **h, lks_err *err) {
    (void)st;
    s3_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->key = strdup(key))) {
        free(w);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    lks_buf_init(&w->pending, 0);
    *h = w;
    return LKS_OK;
}

/* Uploads the pending bytes a part at a time while they fill one (last:
 * all of them); what is left stays pending. */
static int s3_wflush(s3_store *s, s3_writer *w, int last, lks_err *err) {
    size_t part = s->mpu_part, off = 0;
    int rc = LKS_OK;
    while (rc == LKS_OK && (w->pending.len - off >= part || (last && off < w->pending.len))) {
        if (!w->started) {
            if ((rc = mpu_start(s, &w->u, w->key, err)) != LKS_OK)
                break;
            w->started = 1;
        }
        size_t n = w->pending.len - off < part ? w->pending.len - off : part;
        rc = mpu_part(s, &w->u, w->pending.ptr + off, n, err);
        off += n;
    }
    if (off) {
        memmove(w->pending.ptr, w->pending.ptr + off, w->pending.len - off);
        w->pending.len -= off;
    }
    return rc;
}

static int s3_wappend(lks_store *st, void *h, const void *p, size_t n, lks_err *err) {
    s3_writer *w = h;
    if (n && lks_buf_append(&w->pending, p, n) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    return s3_wflush(S(st), w, 0, err);
}

static void s3_wabort(lks_store *st, void *h) {
    s3_writer *w = h;
    if (w->started) {
        abort_upload(S(st), w->u.key, w->u.upload_id);
        mpu_free(&w->u);
    }
    s3_writer_free(w);
}

static int s3_wcommit(lks_store *st, void *h, const void *p, size_t n, lks_err *err) {
    s3_store *s = S(st);
    s3_writer *w = h;
    int rc = LKS_OK;
    if (n && lks_buf_append(&w->pending, p, n) != LKS_OK)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    if (rc == LKS_OK && !w->started && w->pending.len <= s->mpu_threshold) { /* one PUT */
        rc = put_single(s, w->key, w->pending.ptr, w->pending.len, 0, err);
        s3_writer_free(w);
        return rc;
    }
    if (rc == LKS_OK)
        rc = s3_wflush(s, w, 1, err);
    if (rc != LKS_OK) {
        s3_wabort(st, w);
        return rc;
    }
    rc = mpu_complete(s, &w->u, 0, err);
    s3_writer_free(w);
    return rc;
}

/* ---- the put-if-absent check ------------------------------------------------------------------ */

static int s3_del(lks_store *st, const char *key, lks_err *err);

/* What this process learnt per bucket ("host|bucket"), so each bucket is
 * probed once however many stores are opened on it. */
typedef struct cond_seen {
    char *where;
    int cond;
} cond_seen;

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static cond_seen *cond_tab;
static size_t cond_n, cond_cap;

static int cond_lookup(const char *where) {
    for (size_t i = 0; i < cond_n; i++)
        if (strcmp(cond_tab[i].where, where) == 0)
            return cond_tab[i].cond;
    return COND_UNKNOWN;
}

static void cond_remember(const char *where, int cond) {
    if (cond_n == cond_cap) {
        size_t nc = cond_cap ? cond_cap * 2 : 8;
        cond_seen *t = realloc(cond_tab, nc * sizeof *t);
        if (!t)
            return; /* not remembered: probed again next time */
        cond_tab = t;
        cond_cap = nc;
    }
    char *w = strdup(where);
    if (w)
        cond_tab[cond_n++] = (cond_seen){w, cond};
}

/* Two conditional PUTs of one fresh probe key: the second must be refused.
 * The probe object is deleted afterwards (a failure to delete is logged:
 * a stray hidden object is harmless, Delta ignores dot files). */
static int probe_conditional(s3_store *s, int *cond, lks_err *err) {
    uint8_t r[8];
    char hex[17], key[64];
    lks_random_bytes(r, sizeof r);
    lks_hex_lower(r, sizeof r, hex);
    snprintf(key, sizeof key, ".lakesync-if-none-match-check-%s", hex);
    int rc = put_single(s, key, "first", 5, 1, err);
    if (rc == LKS_EEXIST)
        rc = lks_err_set(err, LKS_EIO, "s3://%s/%s%s: a fresh probe object already exists", s->bucket, s->prefix, key);
    if (rc != LKS_OK)
        return lks_err_prefix(err, "checking that s3://%s honours If-None-Match", s->bucket);
    rc = put_single(s, key, "second", 6, 1, err);
    if (rc == LKS_EEXIST || rc == LKS_OK) {
        *cond = rc == LKS_EEXIST ? COND_HONOURED : COND_IGNORED;
        rc = LKS_OK;
    } else {
        lks_err_prefix(err, "checking that s3://%s honours If-None-Match", s->bucket);
    }
    lks_err e;
    if (s3_del(&s->base, key, &e) != LKS_OK)
        lks_log(LKS_LOG_WARN, "store", "could not delete the probe object: %s", e.msg);
    return rc;
}

int lks_s3_check_put_if_absent(lks_store *st, int *honoured, lks_err *err) {
    s3_store *s = S(st);
    *honoured = 0;
    if (strcmp(st->ops->scheme, "s3") != 0)
        return lks_err_set(err, LKS_EINVAL, "lks_s3_check_put_if_absent: %s is not an S3 store", st->uri);
    if (s->cond == COND_UNKNOWN) {
        char where[600];
        snprintf(where, sizeof where, "%s|%s", s->host, s->bucket);
        /* one probe at a time, so concurrent first commits probe once */
        pthread_mutex_lock(&cond_lock);
        int cond = cond_lookup(where), rc = LKS_OK;
        if (cond == COND_UNKNOWN) {
            rc = probe_conditional(s, &cond, err);
            if (rc == LKS_OK) {
                cond_remember(where, cond);
                lks_log(LKS_LOG_DEBUG, "store", "s3://%s: a second If-None-Match: * PUT was %s", s->bucket,
                        cond == COND_HONOURED ? "refused (put-if-absent is safe)" : "accepted");
            }
        }
        pthread_mutex_unlock(&cond_lock);
        if (rc != LKS_OK)
            return rc;
        s->cond = cond;
    }
    *honoured = s->cond == COND_HONOURED;
    return LKS_OK;
}

/* put_if_absent on a bucket that ignores If-None-Match: refused, or for a
 * declared single writer, a look (HEAD) before the PUT. */
static int put_if_absent_unconditional(s3_store *s, const char *key, const void *data, size_t len, lks_err *err) {
    if (!s->single_writer)
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "s3://%s: the server accepted a second PUT with If-None-Match: * of the same object, so "
                           "it cannot stop two writers from committing the same table version; lakesync does not "
                           "commit there.  If only one process ever writes these tables, set s3.single.writer=true "
                           "(or LAKESYNC_S3_SINGLE_WRITER=1)",
                           s->bucket);
    if (!s->warned_single) {
        s->warned_single = 1;
        lks_log(LKS_LOG_WARN, "store",
                "s3://%s ignores If-None-Match: committing as its single writer (s3.single.writer); a second "
                "writer would overwrite commits",
                s->bucket);
    }
    lks_store_entry ent;
    int rc = s3_head(&s->base, key, &ent, err);
    if (rc == LKS_OK) {
        char nm[1400];
        obj_name(s, key, nm, sizeof nm);
        return lks_err_set(err, LKS_EEXIST, "%s already exists", nm);
    }
    if (rc != LKS_ENOTFOUND)
        return rc;
    if (len > s->mpu_threshold)
        return put_multipart(s, key, data, len, 0, err);
    return put_single(s, key, data, len, 0, err);
}

static int s3_put(lks_store *st, const char *key, const void *data, size_t len, int if_absent, lks_err *err) {
    s3_store *s = S(st);
    if (if_absent) {
        int honoured;
        int rc = lks_s3_check_put_if_absent(st, &honoured, err);
        if (rc != LKS_OK)
            return rc;
        if (!honoured)
            return put_if_absent_unconditional(s, key, data, len, err);
    }
    if (len > s->mpu_threshold)
        return put_multipart(s, key, data, len, if_absent, err);
    return put_single(s, key, data, len, if_absent, err);
}

static int s3_del(lks_store *st, const char *key, lks_err *err) {
    s3_store *s = S(st);
    s3_call c = {0};
    c.method = "DELETE";
    c.key = key;
    c.op = "DELETE";
    http_resp rs;
    resp_init(&rs);
    int rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK && rs.status != 204 && rs.status != 200 &&
        !(rs.status == 404 && (rs.code[0] == 0 || strcmp(rs.code, "NoSuchKey") == 0)))
        rc = fail_http(s, err, LKS_EIO, "DELETE", key, &rs);
    resp_free(&rs);
    return rc;
}

/* ListObjectsV2 carries size and time with every key: flags change nothing. */
static int s3_list(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err) {
    (void)flags;
    s3_store *s = S(st);
    size_t plen = strlen(s->prefix);
    lks_buf full, token, key, prev;
    lks_buf_init(&full, 0);
    lks_buf_init(&token, 0);
    lks_buf_init(&key, 0);
    lks_buf_init(&prev, 0);
    int rc = lks_buf_printf(&full, "%s%s", s->prefix, prefix);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(&full);
    if (rc)
        rc = lks_err_set(err, rc, "out of memory");
    http_resp rs;
    resp_init(&rs);
    char nm[1400];
    obj_name(s, prefix, nm, sizeof nm);
    int stopped = 0, pages = 0;
    while (rc == LKS_OK && !stopped) {
        lks_sigv4_param q[4];
        size_t nq = 0;
        q[nq++] = (lks_sigv4_param){"list-type", "2"};
        q[nq++] = (lks_sigv4_param){"encoding-type", "url"};
        if (full.len)
            q[nq++] = (lks_sigv4_param){"prefix", (const char *)full.ptr};
        if (token.len)
            q[nq++] = (lks_sigv4_param){"continuation-token", (const char *)token.ptr};
        s3_call c = {0};
        c.method = "GET";
        c.op = "ListObjectsV2";
        c.query = q;
        c.nquery = nq;
        if ((rc = s3_exec(s, &c, &rs, err)) != LKS_OK)
            break;
        if (rs.status != 200) {
            rc = fail_http(s, err, LKS_EIO, "list", prefix, &rs);
            break;
        }
        pages++;
        const char *body = (const char *)rs.body.ptr, *end = body + rs.body.len;
        char enc[16];
        xml_get(body, rs.body.len, "EncodingType", enc, sizeof enc);
        int url_enc = strcmp(enc, "url") == 0;
        const char *p = body, *cs;
        size_t cl;
        while (!stopped && xml_next(&p, end, "Contents", &cs, &cl)) {
            const char *kp = cs, *ks;
            size_t kl;
            char num[32], lm[64];
            lks_buf_reset(&key);
            if (!xml_next(&kp, cs + cl, "Key", &ks, &kl) || xml_text(&key, ks, kl) != LKS_OK ||
                (url_enc && url_decode(&key) != LKS_OK) || lks_buf_cstr(&key) != LKS_OK ||
                memchr(key.ptr, 0, key.len)) {
                rc = lks_err_set(err, LKS_ECORRUPT, "%s: list: malformed <Key> in page %d", nm, pages);
                break;
            }
            const char *k = (const char *)key.ptr;
            /* ascending byte order across pages, as the contract promises */
            if (prev.len && strcmp((const char *)prev.ptr, k) >= 0) {
                rc = lks_err_set(err, LKS_ECORRUPT,
                                 "%s: list: key '%.200s' comes after '%.200s' (not in ascending order)", nm, k,
                                 (const char *)prev.ptr);
                break;
            }
            lks_buf_reset(&prev);
            if ((rc = lks_buf_append(&prev, key.ptr, key.len + 1)) != LKS_OK) {
                rc = lks_err_set(err, rc, "out of memory");
                break;
            }
            prev.len = key.len;
            if (key.len < full.len || memcmp(k, full.ptr, full.len) != 0)
                continue; /* outside the prefix: a server's oddity, not ours */
            const char *rel = k + plen;
            if (lks_store_check_key(rel, NULL) != LKS_OK)
                continue; /* folder markers and the like are not store objects */
            lks_store_entry ent = {rel, 0, 0};
            if (xml_get(cs, cl, "Size", num, sizeof num)) {
                char *e;
                unsigned long long v = strtoull(num, &e, 10);
                if (*e || e == num) {
                    rc = lks_err_set(err, LKS_ECORRUPT, "%s: list: bad <Size> '%s' of %s", nm, num, rel);
                    break;
                }
                ent.size = v;
            }
            if (xml_get(cs, cl, "LastModified", lm, sizeof lm)) {
                int64_t us;
                if (lks_parse_timestamp_us(lm, strlen(lm), &us) == LKS_OK)
                    ent.mtime_us = us;
            }
            if (fn(ud, &ent))
                stopped = 1;
        }
        if (rc || stopped)
            break;
        char trunc[16];
        xml_get(body, rs.body.len, "IsTruncated", trunc, sizeof trunc);
        if (strcmp(trunc, "true") != 0)
            break;
        const char *tp = body, *ts;
        size_t tl;
        lks_buf next;
        lks_buf_init(&next, 0);
        if (!xml_next(&tp, end, "NextContinuationToken", &ts, &tl) || tl == 0 || xml_text(&next, ts, tl) != LKS_OK ||
            lks_buf_cstr(&next) != LKS_OK) {
            lks_buf_free(&next);
            rc = lks_err_set(err, LKS_ECORRUPT, "%s: list: a truncated page without NextContinuationToken", nm);
            break;
        }
        if (next.len == token.len && memcmp(next.ptr, token.ptr, next.len) == 0) {
            lks_buf_free(&next);
            rc = lks_err_set(err, LKS_ECORRUPT, "%s: list: the server repeats the same continuation token", nm);
            break;
        }
        lks_buf_free(&token);
        token = next;
    }
    resp_free(&rs);
    lks_buf_free(&full);
    lks_buf_free(&token);
    lks_buf_free(&key);
    lks_buf_free(&prev);
    return rc;
}

int lks_s3_delete_many(lks_store *st, const char *const *keys, size_t n, lks_err *err) {
    s3_store *s = S(st);
    if (strcmp(st->ops->scheme, "s3") != 0)
        return lks_err_set(err, LKS_EINVAL, "lks_s3_delete_many: %s is not an S3 store", st->uri);
    int rc = LKS_OK;
    http_resp rs;
    resp_init(&rs);
    lks_buf body;
    lks_buf_init(&body, 0);
    for (size_t at = 0; at < n && rc == LKS_OK; at += DELETE_BATCH) {
        size_t m = n - at < DELETE_BATCH ? n - at : DELETE_BATCH;
        lks_buf_reset(&body);
        rc = lks_buf_printf(&body, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
        for (size_t i = 0; i < m && rc == LKS_OK; i++) {
            if ((rc = lks_store_check_key(keys[at + i], err)) != LKS_OK)
                break;
            if ((rc = lks_buf_printf(&body, "<Object><Key>")) == LKS_OK &&
                (rc = xml_escape(&body, s->prefix)) == LKS_OK && (rc = xml_escape(&body, keys[at + i])) == LKS_OK)
                rc = lks_buf_printf(&body, "</Key></Object>");
        }
        if (rc == LKS_OK)
            rc = lks_buf_printf(&body, "</Delete>");
        if (rc) {
            if (rc != LKS_EINVAL)
                rc = lks_err_set(err, rc, "out of memory");
            break;
        }
        uint8_t md5[16];
        lks_md5(body.ptr, body.len, md5);
        lks_buf b64;
        lks_buf_init(&b64, 0);
        if (lks_base64_encode(&b64, md5, 16) != LKS_OK || lks_buf_cstr(&b64) != LKS_OK) {
            lks_buf_free(&b64);
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            break;
        }
        lks_sigv4_param q[] = {{"delete", NULL}};
        s3_call c = {0};
        c.method = "POST";
        c.op = "DeleteObjects";
        c.query = q;
        c.nquery = 1;
        c.body = body.ptr;
        c.body_len = body.len;
        c.extra[c.nextra++] = (lks_sigv4_header){"Content-Type", "application/xml"};
        c.extra[c.nextra++] = (lks_sigv4_header){"Content-MD5", (const char *)b64.ptr};
        rc = s3_exec(s, &c, &rs, err);
        lks_buf_free(&b64);
        if (rc == LKS_OK && rs.status != 200) {
            rc = fail_http(s, err, LKS_EIO, "DeleteObjects", NULL, &rs);
            break;
        }
        if (rc)
            break;
        /* per-key failures come back as <Error> elements (Quiet mode lists only those) */
        const char *p = (const char *)rs.body.ptr, *end = p + rs.body.len, *cs;
        size_t cl;
        while (xml_next(&p, end, "Error", &cs, &cl)) {
            char k[1100], code[128], msg[256];
            xml_get(cs, cl, "Key", k, sizeof k);
            xml_get(cs, cl, "Code", code, sizeof code);
            xml_get(cs, cl, "Message", msg, sizeof msg);
            if (strcmp(code, "NoSuchKey") == 0)
                continue;
            rc = lks_err_set(err, LKS_EIO, "s3://%s/%s: DeleteObjects: %s%s%s", s->bucket, k, code, msg[0] ? ": " : "",
                             msg);
            break;
        }
    }
    lks_buf_free(&body);
    resp_free(&rs);
    return rc;
}

int lks_s3_create_bucket(lks_store *st, lks_err *err) {
    s3_store *s = S(st);
    if (strcmp(st->ops->scheme, "s3") != 0)
        return lks_err_set(err, LKS_EINVAL, "lks_s3_create_bucket: %s is not an S3 store", st->uri);
    lks_buf body;
    lks_buf_init(&body, 0);
    int rc = LKS_OK;
    if (strcmp(s->region, "us-east-1") != 0)
        rc = lks_buf_printf(&body,
                            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                            "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                            s->region);
    if (rc) {
        lks_buf_free(&body);
        return lks_err_set(err, rc, "out of memory");
    }
    s3_call c = {0};
    c.method = "PUT";
    c.op = "CreateBucket";
    c.body = body.len ? body.ptr : NULL;
    c.body_len = body.len;
    if (body.len)
        c.extra[c.nextra++] = (lks_sigv4_header){"Content-Type", "application/xml"};
    http_resp rs;
    resp_init(&rs);
    rc = s3_exec(s, &c, &rs, err);
    if (rc == LKS_OK && rs.status != 200 && !(rs.status == 409 && strcmp(rs.code, "BucketAlreadyOwnedByYou") == 0))
        rc = lks_err_set(err, LKS_EIO, "s3://%s: CreateBucket: HTTP %ld %s%s%s", s->bucket, rs.status, rs.code,
                         rs.message[0] ? ": " : "", rs.message);
    resp_free(&rs);
    lks_buf_free(&body);
    return rc;
}

void lks_s3_set_multipart(lks_store *st, size_t threshold, size_t part_size) {
    s3_store *s = S(st);
    if (threshold)
        s->mpu_threshold = threshold;
    if (part_size)
        s->mpu_part = part_size;
}

void lks_s3_set_retry(lks_store *st, int attempts, long base_ms) {
    s3_store *s = S(st);
    if (attempts > 0)
        s->retry_attempts = attempts;
    if (base_ms > 0)
        s->retry_base_ms = base_ms;
}

/* ListMultipartUploads under the store prefix + prefix, every page, then
 * AbortMultipartUpload for each begun before before_us. */
static int s3_purge_uploads(lks_store *st, const char *prefix, int64_t before_us, int dry_run, int64_t *n,
                            lks_err *err) {
    s3_store *s = S(st);
    size_t pl = strlen(s->prefix);
    lks_buf full, keys, ids;
    lks_buf_init(&full, 0);
    lks_buf_init(&keys, 0); /* NUL-separated keys (relative) of the uploads to abort */
    lks_buf_init(&ids, 0);
    int rc = lks_buf_printf(&full, "%s%s", s->prefix, prefix);
    if (!rc)
        rc = lks_buf_cstr(&full);
    if (rc)
        rc = lks_err_set(err, rc, "out of memory");
    char kmark[1100] = "", umark[1100] = "";
    size_t found = 0;
    for (int more = 1; more && rc == LKS_OK;) {
        lks_sigv4_param q[4] = {{"uploads", NULL}, {"prefix", (const char *)full.ptr}};
        int nq = 2;
        if (kmark[0]) {
            q[nq++] = (lks_sigv4_param){"key-marker", kmark};
            q[nq++] = (lks_sigv4_param){"upload-id-marker", umark};
        }
        s3_call c = {0};
        c.method = "GET";
        c.op = "ListMultipartUploads";
        c.query = q;
        c.nquery = nq;
        http_resp rs;
        resp_init(&rs);
        rc = s3_exec(s, &c, &rs, err);
        if (rc == LKS_OK && rs.status != 200)
            rc = fail_http(s, err, LKS_EIO, c.op, prefix, &rs);
        const char *p = (const char *)rs.body.ptr, *end = p + rs.body.len, *cs;
        size_t cl;
        while (rc == LKS_OK && xml_next(&p, end, "Upload", &cs, &cl)) {
            char key[1100], id[1100], when[64];
            int64_t us;
            if (!xml_get(cs, cl, "Key", key, sizeof key) || !xml_get(cs, cl, "UploadId", id, sizeof id) ||
                !xml_get(cs, cl, "Initiated", when, sizeof when) || strlen(key) < pl ||
                memcmp(key, s->prefix, pl) != 0 || strlen(key) >= sizeof key - 1 || strlen(id) >= sizeof id - 1) {
                rc = lks_err_set(err, LKS_ECORRUPT,
                                 "s3://%s/%s: ListMultipartUploads: an upload without its key, id "
                                 "or time",
                                 s->bucket, (const char *)full.ptr);
                break;
            }
            if (lks_parse_timestamp_us(when, strlen(when), &us) != LKS_OK) {
                rc = lks_err_set(err, LKS_ECORRUPT, "s3://%s/%s: ListMultipartUploads: bad Initiated time \"%s\"",
                                 s->bucket, key, when);
                break;
            }
            if (us < before_us &&
                (lks_buf_append(&keys, key + pl, strlen(key + pl) + 1) || lks_buf_append(&ids, id, strlen(id) + 1)))
                rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            else if (us < before_us)
                found++;
        }
        char trunc[16];
        more = rc == LKS_OK && xml_get((const char *)rs.body.ptr, rs.body.len, "IsTruncated", trunc, sizeof trunc) &&
               !strcmp(trunc, "true");
        if (more &&
            (!xml_get((const char *)rs.body.ptr, rs.body.len, "NextKeyMarker", kmark, sizeof kmark) || !kmark[0] ||
             !xml_get((const char *)rs.body.ptr, rs.body.len, "NextUploadIdMarker", umark, sizeof umark)))
            rc = lks_err_set(err, LKS_ECORRUPT, "s3://%s/%s: ListMultipartUploads: truncated without a next marker",
                             s->bucket, (const char *)full.ptr);
        resp_free(&rs);
    }
    const char *k = (const char *)keys.ptr, *u = (const char *)ids.ptr;
    for (size_t i = 0; i < found && rc == LKS_OK; i++) {
        if (!dry_run && (rc = abort_upload_err(s, k, u, err)) != LKS_OK)
            break;
        (*n)++;
        k += strlen(k) + 1;
        u += strlen(u) + 1;
    }
    lks_buf_free(&full);
    lks_buf_free(&keys);
    lks_buf_free(&ids);
    return rc;
}

int lks_s3_count_uploads(lks_store *st, int *count, lks_err *err) {
    int64_t n = 0;
    int rc = s3_purge_uploads(st, "", INT64_MAX, 1, &n, err);
    *count = (int)n;
    return rc;
}

int lks_s3_access_key_id(lks_store *st, char *out, size_t cap, lks_err *err) {
    s3_store *s = S(st);
    pthread_mutex_lock(&s->lock);
    lks_aws_key key;
    int rc = lks_aws_creds_get(s->creds, 0, &key, err);
    if (rc == LKS_OK)
        snprintf(out, cap, "%s", key.access_key);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int lks_s3_describe(lks_store *st, char *base_url, size_t url_cap, char *region, size_t region_cap) {
    s3_store *s = S(st);
    if (s->path_style)
        snprintf(base_url, url_cap, "%s://%s/%s", s->https ? "https" : "http", s->host, s->bucket);
    else
        snprintf(base_url, url_cap, "%s://%s", s->https ? "https" : "http", s->host);
    snprintf(region, region_cap, "%s", s->region);
    return LKS_OK;
}

/* ---- configuration ------------------------------------------------------------------------------ */

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_true(const char *name) {
    const char *v = env(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* "~/x" expanded with $HOME; caller frees. */
static char *expand_home(const char *path) {
    if (path[0] == '~' && (path[1] == '/' || path[1] == 0)) {
        const char *home = env("HOME");
        if (!home)
            return strdup(path);
        size_t n = strlen(home) + strlen(path);
        char *r = malloc(n + 1);
        if (r)
            snprintf(r, n + 1, "%s%s", home, path + 1);
        return r;
    }
    return strdup(path);
}

static char *shared_file(const char *env_name, const char *dflt) {
    const char *v = env(env_name);
    return expand_home(v ? v : dflt);
}

/* A parsed profile section of an INI file: keys lowercased; nested
 * "s3 =" sub-keys stored as "s3.key". */
#define PROFILE_KEYS 64
typedef struct profile {
    int found;
    int n;
    char key[PROFILE_KEYS][64];
    char *val[PROFILE_KEYS];
} profile;

static void profile_free(profile *pr) {
    for (int i = 0; i < pr->n; i++)
        free_secret(&pr->val[i]);
    pr->n = 0;
}

static const char *profile_get(const profile *pr, const char *key) {
    for (int i = 0; i < pr->n; i++)
        if (strcmp(pr->key[i], key) == 0)
            return pr->val[i][0] ? pr->val[i] : NULL;
    return NULL;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Reads section `section` of the INI file at path (absent file: not found).
 * In the config file, profiles are "[profile NAME]" except "[default]". */
static int profile_load(const char *path, const char *name, int config_file, profile *pr, lks_err *err) {
    memset(pr, 0, sizeof *pr);
    lks_buf b;
    lks_buf_init(&b, INI_FILE_MAX + 1);
    int rc = read_small_file(path, INI_FILE_MAX, &b);
    if (rc == LKS_EIO) {
        lks_buf_free(&b);
        return LKS_OK; /* no file: nothing configured there */
    }
    if (rc) {
        lks_buf_free(&b);
        return lks_err_set(err, LKS_ECONFIG, "%s: unreadable or larger than %zu bytes", path, INI_FILE_MAX);
    }
    char *text = (char *)b.ptr, *save = NULL;
    int in = 0;
    char parent[32] = "";
    for (char *line = strtok_r(text, "\n", &save); line && rc == LKS_OK; line = strtok_r(NULL, "\n", &save)) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *t = trim(line);
        if (!*t || *t == '#' || *t == ';')
            continue;
        if (*t == '[' && !indented) {
            char *close = strrchr(t, ']');
            in = 0;
            parent[0] = 0;
            if (!close)
                continue;
            *close = 0;
            char *sec = trim(t + 1);
            if (config_file && strcmp(name, "default") != 0) {
                if (strncmp(sec, "profile", 7) != 0 || (sec[7] != ' ' && sec[7] != '\t'))
                    continue;
                sec = trim(sec + 8);
            } else if (config_file && strncmp(sec, "profile ", 8) == 0) {
                sec = trim(sec + 8); /* "[profile default]" also names the default */
            }
            if (strcmp(sec, name) == 0)
                in = pr->found = 1;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *k = trim(t), *v = trim(eq + 1);
        char full[64];
        if (indented && parent[0])
            snprintf(full, sizeof full, "%s.%s", parent, k);
        else {
            snprintf(full, sizeof full, "%s", k);
            snprintf(parent, sizeof parent, "%s", *v ? "" : k);
        }
        for (char *q = full; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q + 32);
        if (pr->n == PROFILE_KEYS)
            continue;
        /* a later duplicate replaces an earlier one */
        int slot = pr->n;
        for (int i = 0; i < pr->n; i++)
            if (strcmp(pr->key[i], full) == 0)
                slot = i;
        char *dup = strdup(v);
        if (!dup) {
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            break;
        }
        if (slot == pr->n) {
            snprintf(pr->key[pr->n], sizeof pr->key[0], "%s", full);
            pr->val[pr->n++] = dup;
        } else {
            free_secret(&pr->val[slot]);
            pr->val[slot] = dup;
        }
    }
    memset(b.ptr, 0, b.len);
    lks_buf_free(&b);
    if (rc)
        profile_free(pr);
    return rc;
}

struct lks_aws_config {
    char *pname; /* the profile */
    char *cred_path, *conf_path;
    profile cred, conf;
};

void lks_aws_config_free(lks_aws_config *cfg) {
    if (!cfg)
        return;
    profile_free(&cfg->cred);
    profile_free(&cfg->conf);
    free(cfg->pname);
    free(cfg->cred_path);
    free(cfg->conf_path);
    free(cfg);
}

int lks_aws_config_load(lks_aws_config **out, lks_err *err) {
    *out = NULL;
    lks_aws_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    const char *pname = env("AWS_PROFILE");
    int explicit_profile = pname != NULL;
    cfg->pname = strdup(pname ? pname : "default");
    cfg->cred_path = shared_file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
    cfg->conf_path = shared_file("AWS_CONFIG_FILE", "~/.aws/config");
    int rc = LKS_OK;
    if (!cfg->pname || !cfg->cred_path || !cfg->conf_path)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    else if ((rc = profile_load(cfg->cred_path, cfg->pname, 0, &cfg->cred, err)) == LKS_OK &&
             (rc = profile_load(cfg->conf_path, cfg->pname, 1, &cfg->conf, err)) == LKS_OK && explicit_profile &&
             !cfg->cred.found && !cfg->conf.found)
        rc = lks_err_set(err, LKS_ECONFIG, "AWS_PROFILE '%s' is in neither %s nor %s", cfg->pname, cfg->cred_path,
                         cfg->conf_path);
    if (rc) {
        lks_aws_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return LKS_OK;
}

const char *lks_aws_config_get(const lks_aws_config *cfg, const char *key) { return profile_get(&cfg->conf, key); }

int lks_aws_region_check(const char *region, lks_err *err) {
    size_t n = strlen(region);
    int ok = n > 0 && n <= 63;
    for (size_t i = 0; i < n && ok; i++)
        ok = (region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') || region[i] == '-';
    return ok ? LKS_OK : lks_err_set(err, LKS_ECONFIG, "bad AWS region '%.64s'", region);
}

/* Bucket names usable as a DNS label under TLS: 3-63 of [a-z0-9-], starting
 * and ending alphanumeric (a '.' would break the wildcard certificate). */
static int dns_bucket(const char *b, int allow_dots) {
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && allow_dots)))
            return 0;
        if (c == '.' && (i == 0 || b[i - 1] == '.' || b[i - 1] == '-' || b[i + 1] == '-'))
            return 0;
    }
    return b[0] != '-' && b[n - 1] != '-' && b[n - 1] != '.';
}

static int valid_bucket(const char *b) {
    size_t n = strlen(b);
    if (n < 1 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* Splits an endpoint "[scheme://]host[:port][/]" into https flag and host. */
static int parse_endpoint(const char *ep, int *https, char **host, lks_err *err) {
    const char *p = ep;
    *https = 1;
    if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncasecmp(p, "http://", 7) == 0) {
        p += 7;
        *https = 0;
    } else if (strstr(p, "://"))
        return lks_err_set(err, LKS_ECONFIG, "S3 endpoint '%s': only http:// and https:// are supported", ep);
    size_t n = strcspn(p, "/?#");
    if (p[n] == '/' && p[n + 1] == 0)
        ; /* a trailing slash is fine */
    else if (p[n])
        return lks_err_set(err, LKS_ECONFIG, "S3 endpoint '%s': a path, query or fragment is not supported", ep);
    if (n == 0 || memchr(p, '@', n))
        return lks_err_set(err, LKS_ECONFIG, "S3 endpoint '%s': expected scheme://host[:port]", ep);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7F)
            return lks_err_set(err, LKS_ECONFIG, "S3 endpoint '%s': bad character in host", ep);
    *host = strndup(p, n);
    return *host ? LKS_OK : lks_err_set(err, LKS_ENOMEM, "out of memory");
}

/* Container endpoints must be local (or TLS): the credentials are bearer
 * secrets.  Loopback (127.0.0.0/8, localhost, [::1]) or the ECS/EKS agent
 * addresses. */
static int container_url_ok(const char *url) {
    if (strncasecmp(url, "https://", 8) == 0)
        return 1;
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    const char *h = url + 7;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
    if (h[n] != 0 && h[n] != ':' && h[n] != '/')
        return 0;
    char host[64];
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = 0;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "169.254.170.2") == 0 ||
        strcmp(host, "169.254.170.23") == 0 || strcasecmp(host, "[fd00:ec2::23]") == 0)
        return 1;
    /* 127.a.b.c in dotted digits only (not a name like 127.0.0.1.example.com) */
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (host[i] == '.')
            dots++;
        else if (host[i] < '0' || host[i] > '9')
            return 0;
    }
    return dots == 3 && strncmp(host, "127.", 4) == 0;
}

static void s3_close(lks_store *st) {
    s3_store *s = S(st);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    pthread_mutex_destroy(&s->lock);
    free(s->bucket);
    free(s->prefix);
    free(s->region);
    free(s->host);
    lks_aws_creds_free(s->creds);
    free(s->base.uri);
    free(s);
}

static const lks_store_ops s3_ops = {
    "s3",     s3_get, s3_head,  s3_put,     s3_list,    s3_del,    lks_s3_delete_many,
    s3_close, NULL,   s3_wopen, s3_wappend, s3_wcommit, s3_wabort, s3_purge_uploads,
};

/* Picks the credential source (no network here). */
static int resolve_creds(lks_aws_creds *c, const lks_aws_config *cfg, lks_err *err) {
    const profile *cred = &cfg->cred, *conf = &cfg->conf;
    const char *pname = cfg->pname, *cred_path = cfg->cred_path, *conf_path = cfg->conf_path;
    const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
    if (ak || sk) {
        if (!ak || !sk)
            return lks_err_set(err, LKS_ECONFIG, "%s is set but %s is not",
                               ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                               ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        snprintf(c->where, sizeof c->where, "the environment");
        c->src = SRC_STATIC;
        return set_creds(c, ak, sk, env("AWS_SESSION_TOKEN"), 0)
                   ? lks_err_set(err, LKS_ECONFIG,
                                 "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN "
                                 "holds control characters (or out of memory)")
                   : LKS_OK;
    }
    const char *tf = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *arn = env("AWS_ROLE_ARN");
    const char *sess = env("AWS_ROLE_SESSION_NAME");
    const char *where = "AWS_WEB_IDENTITY_TOKEN_FILE";
    if (!(tf && arn)) {
        tf = NULL;
        arn = NULL;
    }
    /* the shared credentials file, then the config file's profile */
    for (int f = 0; f < 2 && !tf; f++) {
        const profile *pr = f ? conf : cred;
        const char *path = f ? conf_path : cred_path;
        const char *pak = profile_get(pr, "aws_access_key_id"), *psk = profile_get(pr, "aws_secret_access_key");
        if (pak && psk) {
            snprintf(c->where, sizeof c->where, "profile '%s' in %s", pname, path);
            c->src = SRC_STATIC;
            return set_creds(c, pak, psk, profile_get(pr, "aws_session_token"), 0)
                       ? lks_err_set(err, LKS_ECONFIG, "profile '%s' in %s: credentials with control characters", pname,
                                     path)
                       : LKS_OK;
        }
        if (pak || psk)
            return lks_err_set(err, LKS_ECONFIG,
                               "profile '%s' in %s: aws_access_key_id without aws_secret_access_key "
                               "or the reverse",
                               pname, path);
        if (profile_get(pr, "web_identity_token_file") && profile_get(pr, "role_arn")) {
            tf = profile_get(pr, "web_identity_token_file");
            arn = profile_get(pr, "role_arn");
            if (profile_get(pr, "role_session_name"))
                sess = profile_get(pr, "role_session_name");
            where = "web_identity_token_file";
            break;
        }
        static const char *unsupported[] = {"role_arn", "credential_process", "sso_session", "sso_start_url"};
        for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
            if (profile_get(pr, unsupported[i]))
                return lks_err_set(err, LKS_ECONFIG,
                                   "profile '%s' in %s: %s is not supported (use static keys, web "
                                   "identity, container or instance credentials)",
                                   pname, path, unsupported[i]);
    }
    if (tf) {
        char sbuf[96];
        if (!sess) {
            snprintf(sbuf, sizeof sbuf, "lakesync-%ld-%lld", (long)getpid(), (long long)(lks_now_us() / 1000000));
            sess = sbuf;
        }
        c->src = SRC_WEB_IDENTITY;
        snprintf(c->where, sizeof c->where, "web identity (%s, role %.120s)", where, arn);
        c->wi_token_file = expand_home(tf);
        c->wi_role_arn = strdup(arn);
        c->wi_session = strdup(sess);
        if (!c->wi_token_file || !c->wi_role_arn || !c->wi_session)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        return LKS_OK;
    }
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel || full) {
        size_t n = rel ? strlen(rel) + 32 : strlen(full) + 1;
        c->ct_url = malloc(n);
        if (!c->ct_url)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        if (rel)
            snprintf(c->ct_url, n, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
        else
            snprintf(c->ct_url, n, "%s", full);
        if (!rel && !container_url_ok(full))
            return lks_err_set(err, LKS_ECONFIG,
                               "AWS_CONTAINER_CREDENTIALS_FULL_URI %s: must be https or a loopback/container host",
                               full);
        const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                   *tokf = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (tokf && !(c->ct_token_file = strdup(tokf)))
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        if (!tokf && tok && !(c->ct_token = strdup(tok)))
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        c->src = SRC_CONTAINER;
        snprintf(c->where, sizeof c->where, "container credentials (%.200s)", c->ct_url);
        return LKS_OK;
    }
    snprintf(c->where, sizeof c->where, "profile '%s' in %s and %s", pname, cred_path, conf_path);
    if (env_true("AWS_EC2_METADATA_DISABLED")) {
        c->src = SRC_NONE;
        return LKS_OK; /* the first request says no credentials were found */
    }
    const char *imds = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!imds)
        imds = profile_get(conf, "ec2_metadata_service_endpoint");
    c->imds_url = strdup(imds ? imds : "http://169.254.169.254");
    if (!c->imds_url)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    size_t n = strlen(c->imds_url);
    while (n && c->imds_url[n - 1] == '/')
        c->imds_url[--n] = 0;
    c->src = SRC_IMDS;
    return LKS_OK;
}

void lks_aws_creds_free(lks_aws_creds *c) {
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->ak);
    free_secret(&c->sk);
    free_secret(&c->token);
    free(c->wi_token_file);
    free(c->wi_role_arn);
    free(c->wi_session);
    free(c->sts_url);
    free(c->ct_url);
    free_secret(&c->ct_token);
    free(c->ct_token_file);
    free(c->imds_url);
    free(c);
}

int lks_aws_creds_open(const lks_aws_config *cfg, const char *region, const char *who, lks_aws_creds **out,
                       lks_err *err) {
    *out = NULL;
    lks_aws_config *own = NULL;
    int rc = lks_aws_region_check(region, err);
    if (rc == LKS_OK && !cfg && (rc = lks_aws_config_load(&own, err)) == LKS_OK)
        cfg = own;
    if (rc)
        return rc;
    pthread_once(&curl_once, curl_init_once);
    lks_aws_creds *c = calloc(1, sizeof *c);
    if (!c) {
        lks_aws_config_free(own);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    snprintf(c->who, sizeof c->who, "%s", who);
    /* STS for web identity: its own endpoint variable, else the general one */
    const char *sts = env("AWS_ENDPOINT_URL_STS");
    if (!sts && !env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        sts = env("AWS_ENDPOINT_URL");
    size_t n = (sts ? strlen(sts) : strlen(region)) + 48;
    if (!(c->sts_url = malloc(n)))
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    else if (sts)
        snprintf(c->sts_url, n, "%s%s", strstr(sts, "://") ? "" : "https://", sts);
    else
        snprintf(c->sts_url, n, "https://sts.%s.amazonaws.com%s/", region, strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    if (rc == LKS_OK)
        rc = resolve_creds(c, cfg, err);
    lks_aws_config_free(own);
    if (rc) {
        lks_aws_creds_free(c);
        return rc;
    }
    *out = c;
    return LKS_OK;
}

int lks_store_s3_open(const char *uri, const lks_s3_opts *opts, lks_store **out, lks_err *err) {
    *out = NULL;
    if (strncmp(uri, "s3://", 5) != 0)
        return lks_err_set(err, LKS_EINVAL, "%s: expected s3://bucket[/prefix]", uri);
    const char *b = uri + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    char bucket[256];
    if (blen == 0 || blen >= sizeof bucket)
        return lks_err_set(err, LKS_EINVAL, "%s: expected s3://bucket[/prefix] (bucket name of 1 to 255 characters)",
                           uri);
    memcpy(bucket, b, blen);
    bucket[blen] = 0;
    if (!valid_bucket(bucket))
        return lks_err_set(err, LKS_EINVAL, "%s: bad bucket name '%s'", uri, bucket);
    /* the prefix: a valid key path, trailing slashes dropped */
    char prefix[1100] = "";
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        while (n && p[n - 1] == '/')
            n--;
        if (n >= 1000)
            return lks_err_set(err, LKS_EINVAL, "%s: prefix too long", uri);
        memcpy(prefix, p, n);
        prefix[n] = 0;
        if (n && lks_store_check_key(prefix, err) != LKS_OK)
            return lks_err_prefix(err, "%s: bad prefix", uri);
    }
    pthread_once(&curl_once, curl_init_once);
    s3_store *s = calloc(1, sizeof *s);
    if (!s)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    s->base.ops = &s3_ops;
    s->mpu_threshold = MPU_THRESHOLD;
    s->mpu_part = MPU_PART_MIN;
    s->retry_attempts = RETRY_ATTEMPTS;
    s->retry_base_ms = RETRY_BASE_MS;
    lks_aws_config *acfg = NULL;
    char *ep_host = NULL;
    int rc = LKS_OK;
    size_t ul = strlen(bucket) + strlen(prefix) + 8;
    s->bucket = strdup(bucket);
    s->prefix = malloc(strlen(prefix) + 2);
    s->base.uri = malloc(ul);
    s->curl = curl_easy_init();
    pthread_mutex_init(&s->lock, NULL);
    if (!s->bucket || !s->prefix || !s->base.uri || !s->curl) {
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(s->prefix, strlen(prefix) + 2, "%s%s", prefix, prefix[0] ? "/" : "");
    snprintf(s->base.uri, ul, "s3://%s%s%s", bucket, prefix[0] ? "/" : "", prefix);

    /* profile and shared files */
    if ((rc = lks_aws_config_load(&acfg, err)) != LKS_OK)
        goto fail;

    /* region */
    const char *region = opts && opts->region && *opts->region ? opts->region : NULL;
    if (!region)
        region = env("AWS_REGION");
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    if (!region)
        region = lks_aws_config_get(acfg, "region");
    if (!region)
        region = "us-east-1";
    if ((rc = lks_aws_region_check(region, err)) != LKS_OK)
        goto fail;
    if (!(s->region = strdup(region))) {
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
        goto fail;
    }

    /* endpoint and addressing style */
    const char *ep = opts && opts->endpoint && *opts->endpoint ? opts->endpoint : NULL;
    if (!ep && !env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        ep = env("AWS_ENDPOINT_URL_S3");
        if (!ep)
            ep = env("AWS_ENDPOINT_URL");
        if (!ep)
            ep = lks_aws_config_get(acfg, "s3.endpoint_url");
        if (!ep)
            ep = lks_aws_config_get(acfg, "endpoint_url");
    }
    int custom = ep != NULL;
    if (custom) {
        if ((rc = parse_endpoint(ep, &s->https, &ep_host, err)) != LKS_OK)
            goto fail;
    } else {
        size_t n = strlen(region) + 40;
        ep_host = malloc(n);
        if (!ep_host) {
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            goto fail;
        }
        snprintf(ep_host, n, "s3.%s.amazonaws.com%s", region, strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
        s->https = 1;
    }
    int style = opts ? opts->path_style : -1;
    const char *ps = env("LAKESYNC_S3_PATH_STYLE");
    if (style < 0 && ps) {
        if (strcasecmp(ps, "true") == 0 || strcmp(ps, "1") == 0)
            style = 1;
        else if (strcasecmp(ps, "false") == 0 || strcmp(ps, "0") == 0)
            style = 0;
        else {
            rc = lks_err_set(err, LKS_ECONFIG, "LAKESYNC_S3_PATH_STYLE '%.32s': expected true or false", ps);
            goto fail;
        }
    }
    const char *as = lks_aws_config_get(acfg, "s3.addressing_style");
    if (style < 0 && as && strcasecmp(as, "path") == 0)
        style = 1;
    else if (style < 0 && as && strcasecmp(as, "virtual") == 0)
        style = 0;
    int hostable = dns_bucket(bucket, !s->https);
    if (style < 0)
        style = custom || !hostable;
    if (style == 0 && !hostable) {
        rc = lks_err_set(err, LKS_ECONFIG, "bucket '%s' cannot be addressed virtual-hosted style%s; use path style",
                         bucket, strchr(bucket, '.') && s->https ? " over HTTPS (it has a '.')" : "");
        goto fail;
    }
    s->path_style = style;
    s->single_writer =
        opts && opts->single_writer >= 0 ? opts->single_writer != 0 : env_true("LAKESYNC_S3_SINGLE_WRITER");
    if (style) {
        s->host = ep_host;
        ep_host = NULL;
    } else {
        size_t n = strlen(bucket) + strlen(ep_host) + 2;
        if (!(s->host = malloc(n))) {
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
            goto fail;
        }
        snprintf(s->host, n, "%s.%s", bucket, ep_host);
    }

    char who[300];
    snprintf(who, sizeof who, "s3://%s", bucket);
    if ((rc = lks_aws_creds_open(acfg, region, who, &s->creds, err)) != LKS_OK)
        goto fail;
    lks_aws_config_free(acfg);
    free(ep_host);
    *out = &s->base;
    return LKS_OK;
fail:
    lks_aws_config_free(acfg);
    free(ep_host);
    s3_close(&s->base);
    return rc;
}
