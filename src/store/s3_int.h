/*
 * s3_int.h — internals of the S3 store backend, shared by s3.c, sigv4.c and
 * their unit tests (not part of the public store interface).
 *
 * SigV4 (sigv4.c): the request signer for AWS Signature Version 4 with
 * signed payloads, written from the published algorithm and proven by the
 * known-answer tests in tests/unit/test_sigv4.c.  The caller builds the
 * canonical query with lks_sigv4_canonical_query() and sends exactly that
 * string as the URL's query, so what is signed is what is sent.
 *
 * S3 store (s3.c): opened on "s3://bucket[/prefix]" with the configuration
 * AWS tools use (environment, shared credentials/config files, container and
 * instance credentials, web identity), optionally overridden by lks_s3_opts.
 */
#ifndef LKS_STORE_S3_INT_H
#define LKS_STORE_S3_INT_H

#include "store/store.h"

/* ---- hashing ------------------------------------------------------------- */

void lks_sha256(const void *p, size_t len, uint8_t out[32]);
/* Lowercase hex of SHA-256, NUL-terminated. */
void lks_sha256_hex(const void *p, size_t len, char out[65]);
void lks_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]);
void lks_md5(const void *p, size_t len, uint8_t out[16]);
/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void lks_hex_lower(const uint8_t *p, size_t n, char *out);

/* ---- SigV4 ------------------------------------------------------------------ */

#define LKS_SIGV4_MAX_HEADERS 24

/* A query parameter, unencoded.  value NULL is a valueless parameter
 * ("?uploads"), signed and sent as "uploads=". */
typedef struct lks_sigv4_param {
    const char *name;
    const char *value;
} lks_sigv4_param;

/* A header to sign and send.  Names in any case; values are trimmed and
 * inner runs of spaces collapsed for signing (send values without such runs). */
typedef struct lks_sigv4_header {
    const char *name;
    const char *value;
} lks_sigv4_header;

/* Appends UriEncode(s[0..len)): every byte but A-Z a-z 0-9 - . _ ~ as %XX
 * (uppercase hex); '/' kept as is when keep_slash (object key paths). */
int lks_sigv4_uri_encode(lks_buf *b, const char *s, size_t len, int keep_slash);

/* Appends the canonical query string of n parameters: each name and value
 * UriEncoded (slashes too), pairs sorted by encoded name then encoded value
 * (byte order), joined with '&'.  "" for n == 0.  LKS_ELIMIT past 64
 * parameters. */
int lks_sigv4_canonical_query(lks_buf *b, const lks_sigv4_param *params, size_t n);

typedef struct lks_sigv4_req {
    const char *method;              /* "GET", "PUT", ... */
    const char *canonical_uri;       /* the encoded path as sent, "/" at least */
    const char *canonical_query;     /* from lks_sigv4_canonical_query ("" if none) */
    const lks_sigv4_header *headers; /* every signed header, "host" included */
    size_t nheaders;                 /* at most LKS_SIGV4_MAX_HEADERS */
    const char *payload_hash;        /* lowercase hex SHA-256 of the body */
    const char *amz_date;            /* "YYYYMMDDTHHMMSSZ" (x-amz-date) */
    const char *region;              /* "us-east-1" */
    const char *service;             /* "s3", "sts" */
} lks_sigv4_req;

/* Appends the canonical request; when signed_headers is not NULL, the
 * "a;b;c" list is appended to it too.  LKS_EINVAL on a malformed request
 * (too many or duplicate headers, bad date). */
int lks_sigv4_canonical_request(const lks_sigv4_req *rq, lks_buf *out, lks_buf *signed_headers, lks_err *err);
/* Appends the string to sign for a canonical request. */
int lks_sigv4_string_to_sign(const lks_sigv4_req *rq, const void *canonical, size_t len, lks_buf *out);
/* The signing key HMAC chain: kSigning for date (8 digits), region, service. */
void lks_sigv4_signing_key(const char *secret, const char *date8, const char *region, const char *service,
                           uint8_t out[32]);
/* Appends the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=...,Signature=...").  signature (65 bytes) receives the hex
 * signature when not NULL. */
int lks_sigv4_authorization(const lks_sigv4_req *rq, const char *access_key, const char *secret, lks_buf *out,
                            char *signature, lks_err *err);

/* ---- the S3 store ------------------------------------------------------------- */

/* Settings that override the environment and shared files (the pipeline
 * properties s3.endpoint, s3.region, s3.path.style.access).  NULL / -1:
 * not set. */
typedef struct lks_s3_opts {
    const char *endpoint; /* "https://host[:port]" or "host[:port]" (https) */
    const char *region;
    int path_style;    /* 1 path style, 0 virtual-hosted, -1 default */
    int single_writer; /* 1 yes, 0 no, -1 LAKESYNC_S3_SINGLE_WRITER decides */
} lks_s3_opts;

/* Opens the S3 store at "s3://bucket[/prefix]".  No network traffic: the
 * configuration and static credentials are resolved here, remote
 * credentials on the first request.  LKS_EINVAL on a malformed location,
 * LKS_ECONFIG on bad configuration.  Close with lks_store_close(). */
int lks_store_s3_open(const char *uri, const lks_s3_opts *opts, lks_store **out, lks_err *err);

/* Whether the bucket refuses a second conditional PUT of one key (412), as
 * put_if_absent needs: checked once per process and bucket (endpoint host
 * and bucket name), with a probe object under the store prefix that is
 * deleted afterwards; put_if_absent runs this check itself before its
 * first request to a bucket.  *honoured is 1 or 0; errors of the probe
 * requests are returned (and the check is made again next time). */
int lks_s3_check_put_if_absent(lks_store *st, int *honoured, lks_err *err);

/* Deletes n keys (relative to the store root) with DeleteObjects requests
 * of at most 1000 keys each, carrying the Content-MD5 the API requires.
 * Absent keys are not an error; the first per-key error fails the call
 * naming that key; an invalid key is LKS_EINVAL before anything is sent
 * for its batch.  st must be an S3 store. */
int lks_s3_delete_many(lks_store *st, const char *const *keys, size_t n, lks_err *err);

/* Creates the store's bucket (PUT Bucket; region constraint outside
 * us-east-1).  An existing bucket owned by the caller is LKS_OK.  For tests
 * and set-up tools. */
int lks_s3_create_bucket(lks_store *st, lks_err *err);

/* Multipart tuning for tests: objects larger than `threshold` bytes go up in
 * parts of `part_size` bytes (0 keeps a value). */
void lks_s3_set_multipart(lks_store *st, size_t threshold, size_t part_size);

/* Retry tuning for tests: at most `attempts` tries, backoff ceilings
 * starting at base_ms (0 keeps a value; defaults 8 and 100 ms). */
void lks_s3_set_retry(lks_store *st, int attempts, long base_ms);

/* Counts the bucket's unfinished multipart uploads under the store prefix
 * (ListMultipartUploads, first page).  For tests: aborted uploads leave none. */
int lks_s3_count_uploads(lks_store *st, int *count, lks_err *err);

/* The access key id of the credentials in use (fetching them if needed):
 * for tests of the credential providers.  Never the secret. */
int lks_s3_access_key_id(lks_store *st, char *out, size_t cap, lks_err *err);

/* Where the endpoint, style and region came from, for tests and diagnostics:
 * "https://bucket.s3.us-east-1.amazonaws.com" style base URL and region. */
int lks_s3_describe(lks_store *st, char *base_url, size_t url_cap, char *region, size_t region_cap);

#endif
