/*
 * s3_int.h — internals of the S3 store backend, shared by s3.c, sigv4.c,
 * their unit tests and the Kafka transport's Amazon MSK IAM authentication
 * (which signs with the same SigV4 code and credentials); not part of the
 * public store interface.
 *
 * SigV4 (sigv4.c): the request signer for AWS Signature Version 4 with
 * signed payloads, and presigned URLs, written from the published algorithm
 * and proven by the known-answer tests in tests/unit/test_sigv4.c.  The
 * caller builds the canonical query with lks_sigv4_canonical_query() and
 * sends exactly that string as the URL's query, so what is signed is what
 * is sent.
 *
 * AWS configuration and credentials (s3.c): the shared files, the region
 * check and the credential sources, used by the S3 store and by MSK IAM.
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

/* A request to presign (query-string authentication): "host" is the only
 * signed header, the credentials travel in the query. */
typedef struct lks_sigv4_presign_req {
    const char *method;            /* "GET" */
    const char *host;              /* the Host header value */
    const char *canonical_uri;     /* the encoded path as sent, "/" at least */
    const lks_sigv4_param *params; /* the request's own query parameters, unencoded */
    size_t nparams;                /* at most 56 */
    const char *payload_hash;      /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" (S3) */
    const char *amz_date;          /* signing time, "YYYYMMDDTHHMMSSZ" */
    const char *region;
    const char *service; /* "s3", "kafka-cluster" */
    int64_t expires_s;   /* X-Amz-Expires: 1 to 604800 seconds */
} lks_sigv4_presign_req;

/* Appends the query string of the presigned URL (without the '?'): the
 * request's parameters in the order given, then X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Security-Token (when token is not NULL or "") and X-Amz-Signature,
 * every name and value UriEncoded.  That is the order AWS SDKs send; what is
 * signed is the canonical (sorted) form of the same parameters, as the
 * server rebuilds it.  LKS_EINVAL on a malformed request (bad date, expiry
 * out of range, too many parameters, a parameter named X-Amz-*). */
int lks_sigv4_presign_query(const lks_sigv4_presign_req *rq, const char *access_key, const char *secret,
                            const char *token, lks_buf *out, lks_err *err);

/* ---- AWS configuration and credentials (s3.c) ----------------------------------- */

/* The shared configuration AWS tools read: the profile AWS_PROFILE names
 * ("default" without it) in the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) and in the config
 * file (AWS_CONFIG_FILE, else ~/.aws/config). */
typedef struct lks_aws_config lks_aws_config;

/* Reads both files (an absent file configures nothing).  LKS_ECONFIG when a
 * file is unreadable or larger than 1 MiB, or when AWS_PROFILE names a
 * profile neither file has.  Free with lks_aws_config_free(). */
int lks_aws_config_load(lks_aws_config **out, lks_err *err);
/* A setting of the profile in the config file ("region", nested
 * "s3.endpoint_url"); NULL when absent or empty.  Borrowed until
 * lks_aws_config_free(). */
const char *lks_aws_config_get(const lks_aws_config *cfg, const char *key);
void lks_aws_config_free(lks_aws_config *cfg);

/* LKS_OK for a well-formed region name (1 to 63 of a-z 0-9 -), else
 * LKS_ECONFIG "bad AWS region". */
int lks_aws_region_check(const char *region, lks_err *err);

/* Credentials to sign with: views into the lks_aws_creds they came from. */
typedef struct lks_aws_key {
    const char *access_key;
    const char *secret;
    const char *token;  /* the session token, NULL without one */
    int64_t expires_us; /* when temporary credentials lapse (Unix µs); 0: never */
} lks_aws_key;

/* A credential source, looked up the way AWS tools do (s3.c's header lists
 * the order): static keys, web identity, container or instance credentials. */
typedef struct lks_aws_creds lks_aws_creds;

/* Picks the source from the environment and cfg (NULL: loaded here); no
 * network.  region chooses the STS endpoint for web identity; who names
 * the user in messages ("s3://bucket").  LKS_ECONFIG on a bad region or
 * inconsistent settings (a key id without its secret, unsupported profile
 * kinds, a non-local container endpoint).  Free with lks_aws_creds_free(). */
int lks_aws_creds_open(const lks_aws_config *cfg, const char *region, const char *who, lks_aws_creds **out,
                       lks_err *err);
/* Usable credentials in *key, valid until the next call on c or its free:
 * temporary ones are fetched on first use and again 5 minutes before they
 * expire, or at once with force (after an ExpiredToken); a failed refresh
 * keeps credentials that have not expired yet (logged).  LKS_ECONFIG when
 * no source has credentials, LKS_EIO / LKS_ECORRUPT when fetching them
 * fails; messages start with who and never hold a secret.  One caller at a
 * time. */
int lks_aws_creds_get(lks_aws_creds *c, int force, lks_aws_key *key, lks_err *err);
/* Non-zero when the source hands out temporary credentials it can renew. */
int lks_aws_creds_renewable(const lks_aws_creds *c);
/* Where the credentials come from ("the environment", "profile 'dev' in
 * ..."), for messages.  Borrowed from c. */
const char *lks_aws_creds_source(const lks_aws_creds *c);
void lks_aws_creds_free(lks_aws_creds *c);

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
 * (a dry run of lks_store_purge_uploads).  For tests: aborted uploads leave
 * none. */
int lks_s3_count_uploads(lks_store *st, int *count, lks_err *err);

/* The access key id of the credentials in use (fetching them if needed):
 * for tests of the credential providers.  Never the secret. */
int lks_s3_access_key_id(lks_store *st, char *out, size_t cap, lks_err *err);

/* Where the endpoint, style and region came from, for tests and diagnostics:
 * "https://bucket.s3.us-east-1.amazonaws.com" style base URL and region. */
int lks_s3_describe(lks_store *st, char *base_url, size_t url_cap, char *region, size_t region_cap);

#endif
