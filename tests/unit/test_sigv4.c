/* test_sigv4.c — the SigV4 signer against AWS's published examples (the S3
 * docs' "Signature Calculations for the Authorization Header: Transferring
 * Payload in a Single Chunk": GET Object, PUT Object, GET Bucket Lifecycle,
 * GET Bucket (List Objects), key AKIAIOSFODNN7EXAMPLE, 2013-05-24), the
 * presigned URL example of "Authenticating Requests: Using Query Parameters",
 * the signing-key derivation example of the SigV4 reference, and the
 * canonical query and URI encoding rules (valueless "?uploads", '/' inside values,
 * byte-order sorting).  An S3 server emulator does not check signatures, so
 * these known answers are what proves signing right. */
#include "harness.h"
#include "store/s3_int.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SCOPE "20130524/us-east-1/s3/aws4_request"

typedef struct example {
    const char *name;
    lks_sigv4_req rq;
    const char *canonical;
    const char *sts_hash; /* last line of the string to sign */
    const char *signed_headers;
    const char *signature;
} example;

/* Checks one example end to end: canonical request, string to sign,
 * signature and the Authorization header value. */
static void check_example(const example *ex) {
    lks_buf canon, sh, sts, auth;
    lks_buf_init(&canon, 0);
    lks_buf_init(&sh, 0);
    lks_buf_init(&sts, 0);
    lks_buf_init(&auth, 0);
    lks_err err;
    CHECK_OK(lks_sigv4_canonical_request(&ex->rq, &canon, &sh, &err), &err);
    lks_buf_cstr(&canon);
    lks_buf_cstr(&sh);
    if (!canon.ptr || strcmp((const char *)canon.ptr, ex->canonical) != 0)
        FAILF("%s: canonical request\n--- got\n%s\n--- want\n%s", ex->name, canon.ptr ? (char *)canon.ptr : "",
              ex->canonical);
    CHECK_EQ_STR((const char *)sh.ptr, ex->signed_headers);
    CHECK_OK(lks_sigv4_string_to_sign(&ex->rq, canon.ptr, canon.len, &sts), (lks_err *)NULL);
    lks_buf_cstr(&sts);
    char want_sts[256];
    snprintf(want_sts, sizeof want_sts, "AWS4-HMAC-SHA256\n" DATE "\n" SCOPE "\n%s", ex->sts_hash);
    CHECK_EQ_STR((const char *)sts.ptr, want_sts);
    char sig[65];
    CHECK_OK(lks_sigv4_authorization(&ex->rq, AK, SK, &auth, sig, &err), &err);
    lks_buf_cstr(&auth);
    CHECK_EQ_STR(sig, ex->signature);
    char want_auth[512];
    snprintf(want_auth, sizeof want_auth, "AWS4-HMAC-SHA256 Credential=" AK "/" SCOPE ",SignedHeaders=%s,Signature=%s",
             ex->signed_headers, ex->signature);
    CHECK_EQ_STR((const char *)auth.ptr, want_auth);
    lks_buf_free(&canon);
    lks_buf_free(&sh);
    lks_buf_free(&sts);
    lks_buf_free(&auth);
}

static void t_get_object(void) {
    /* headers in a different order and case than the canonical form */
    static const lks_sigv4_header h[] = {
        {"X-Amz-Date", DATE}, {"Range", "bytes=0-9"}, {"Host", HOST}, {"x-amz-content-sha256", EMPTY_SHA}};
    example ex = {"GET Object",
                  {"GET", "/test.txt", "", h, 4, EMPTY_SHA, DATE, "us-east-1", "s3"},
                  "GET\n/test.txt\n\nhost:" HOST "\nrange:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA
                  "\nx-amz-date:" DATE "\n\nhost;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA,
                  "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
                  "host;range;x-amz-content-sha256;x-amz-date",
                  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"};
    check_example(&ex);
}

static void t_put_object(void) {
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    lks_sha256_hex(body, strlen(body), hash);
    CHECK_EQ_STR(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    /* the key "test$file.text" is encoded once: '$' -> %24 */
    lks_buf path;
    lks_buf_init(&path, 0);
    lks_buf_append_byte(&path, '/');
    CHECK_OK(lks_sigv4_uri_encode(&path, "test$file.text", 14, 1), (lks_err *)NULL);
    lks_buf_cstr(&path);
    CHECK_EQ_STR((const char *)path.ptr, "/test%24file.text");
    lks_sigv4_header h[] = {{"Host", HOST},
                            {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                            {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                            {"x-amz-date", DATE},
                            {"x-amz-content-sha256", hash}};
    example ex = {"PUT Object",
                  {"PUT", (const char *)path.ptr, "", h, 5, hash, DATE, "us-east-1", "s3"},
                  "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:" HOST
                  "\nx-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
                  "x-amz-date:" DATE "\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
                  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
                  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
                  "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
                  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"};
    check_example(&ex);
    lks_buf_free(&path);
}

/* A GET on the bucket ("/") with the query of q[0..n), whose canonical form
 * must be want_query, and three headers: ex (its rq filled in here) checked
 * end to end. */
static void check_bucket_get(example *ex, const lks_sigv4_param *q, size_t n, const char *want_query) {
    static const lks_sigv4_header h[] = {{"host", HOST}, {"x-amz-date", DATE}, {"x-amz-content-sha256", EMPTY_SHA}};
    lks_buf qs;
    lks_buf_init(&qs, 0);
    CHECK_OK(lks_sigv4_canonical_query(&qs, q, n), (lks_err *)NULL);
    lks_buf_cstr(&qs);
    CHECK_EQ_STR((const char *)qs.ptr, want_query);
    lks_sigv4_req rq = {"GET", "/", (const char *)qs.ptr, h, 3, EMPTY_SHA, DATE, "us-east-1", "s3"};
    ex->rq = rq;
    check_example(ex);
    lks_buf_free(&qs);
}

static void t_get_bucket_lifecycle(void) {
    /* "?lifecycle" has no value: it is signed (and sent) as "lifecycle=" */
    static const lks_sigv4_param q[] = {{"lifecycle", NULL}};
    example ex = {.name = "GET Bucket Lifecycle",
                  .canonical = "GET\n/\nlifecycle=\nhost:" HOST "\nx-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:" DATE
                               "\n\nhost;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA,
                  .sts_hash = "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
                  .signed_headers = "host;x-amz-content-sha256;x-amz-date",
                  .signature = "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"};
    check_bucket_get(&ex, q, 1, "lifecycle=");
}

static void t_get_bucket_list(void) {
    /* given out of order: the canonical query sorts */
    static const lks_sigv4_param q[] = {{"prefix", "J"}, {"max-keys", "2"}};
    example ex = {.name = "GET Bucket (List Objects)",
                  .canonical = "GET\n/\nmax-keys=2&prefix=J\nhost:" HOST "\nx-amz-content-sha256:" EMPTY_SHA
                               "\nx-amz-date:" DATE "\n\nhost;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA,
                  .sts_hash = "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
                  .signed_headers = "host;x-amz-content-sha256;x-amz-date",
                  .signature = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"};
    check_bucket_get(&ex, q, 2, "max-keys=2&prefix=J");
}

static void t_signing_key(void) {
    /* the SigV4 reference's derivation example (note '+' in this secret) */
    uint8_t k[32];
    char hex[65];
    lks_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam", k);
    lks_hex_lower(k, 32, hex);
    CHECK_EQ_STR(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    /* RFC 4231 test case 2 for the HMAC underneath */
    uint8_t mac[32];
    lks_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    lks_hex_lower(mac, 32, hex);
    CHECK_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    lks_sha256_hex("", 0, hex);
    CHECK_EQ_STR(hex, EMPTY_SHA);
    uint8_t md5[16];
    lks_md5("", 0, md5);
    lks_hex_lower(md5, 16, hex);
    CHECK_EQ_STR(hex, "d41d8cd98f00b204e9800998ecf8427e");
}

static void t_canonical_query(void) {
    static const struct {
        lks_sigv4_param p[4];
        size_t n;
        const char *want;
    } cases[] = {
        /* valueless sub-resources ("?uploads", "?delete") sign as "name=" */
        {{{"uploads", NULL}}, 1, "uploads="},
        {{{"delete", NULL}}, 1, "delete="},
        {{{"uploads", NULL}, {"prefix", "db/t/"}}, 2, "prefix=db%2Ft%2F&uploads="},
        /* '/' inside a value is encoded (curl 7.88's signer leaves it) */
        {{{"prefix", "a/b c"}, {"list-type", "2"}, {"encoding-type", "url"}},
         3,
         "encoding-type=url&list-type=2&prefix=a%2Fb%20c"},
        {{{"uploadId", "VXBsb2FkSUQ/x+y=="}, {"partNumber", "10"}},
         2,
         "partNumber=10&uploadId=VXBsb2FkSUQ%2Fx%2By%3D%3D"},
        {{{"continuation-token", "1+2/3=="}}, 1, "continuation-token=1%2B2%2F3%3D%3D"},
        /* byte order: uppercase before lowercase; equal names by value */
        {{{"b", "1"}, {"B", "2"}, {"a", ""}}, 3, "B=2&a=&b=1"},
        {{{"a", "z"}, {"a", "b"}}, 2, "a=b&a=z"},
        /* unreserved characters stay, everything else is %XX uppercase */
        {{{"k", "-._~*'()!$&,;:@"}}, 1, "k=-._~%2A%27%28%29%21%24%26%2C%3B%3A%40"},
        {{{"prefix", "caf\xc3\xa9"}}, 1, "prefix=caf%C3%A9"},
        {{{"x y", "%"}}, 1, "x%20y=%25"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_sigv4_canonical_query(&b, cases[i].p, cases[i].n), (lks_err *)NULL);
        lks_buf_cstr(&b);
        if (strcmp(b.ptr ? (const char *)b.ptr : "", cases[i].want) != 0)
            FAILF("case %zu: got [%s] want [%s]", i, b.ptr ? (const char *)b.ptr : "", cases[i].want);
        lks_buf_free(&b);
    }
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_sigv4_canonical_query(&b, NULL, 0), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 0);
    lks_buf_free(&b);
}

static void t_uri_encode(void) {
    static const struct {
        const char *in;
        int keep_slash;
        const char *want;
    } cases[] = {
        {"db/t/_delta_log/00000000000000000000.json", 1, "db/t/_delta_log/00000000000000000000.json"},
        {"d=2024-01-01/part 0+1.parquet", 1, "d%3D2024-01-01/part%200%2B1.parquet"},
        {"a/b", 0, "a%2Fb"},
        {"\xe2\x82\xac", 1, "%E2%82%AC"},
        {"A-Z_a.z~0", 0, "A-Z_a.z~0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_sigv4_uri_encode(&b, cases[i].in, strlen(cases[i].in), cases[i].keep_slash), (lks_err *)NULL);
        lks_buf_cstr(&b);
        CHECK_EQ_STR((const char *)b.ptr, cases[i].want);
        lks_buf_free(&b);
    }
}

static void t_headers_and_errors(void) {
    /* values are trimmed and inner space runs collapsed; the signature
     * depends on the session token header when there is one */
    lks_sigv4_header h1[] = {{"host", "h"}, {"x-amz-date", DATE}, {"x-amz-meta-a", "  one   two  "}};
    lks_sigv4_req rq = {"GET", "/", "", h1, 3, EMPTY_SHA, DATE, "eu-west-1", "s3"};
    lks_buf b, sh;
    lks_buf_init(&b, 0);
    lks_buf_init(&sh, 0);
    lks_err err;
    CHECK_OK(lks_sigv4_canonical_request(&rq, &b, &sh, &err), &err);
    lks_buf_cstr(&b);
    CHECK(b.ptr && strstr((const char *)b.ptr, "\nx-amz-meta-a:one two\n") != NULL);
    lks_buf_reset(&b);
    char sig1[65], sig2[65];
    CHECK_OK(lks_sigv4_authorization(&rq, "AK", "SK", &b, sig1, &err), &err);
    lks_sigv4_header h2[] = {
        {"host", "h"}, {"x-amz-date", DATE}, {"x-amz-meta-a", "one two"}, {"x-amz-security-token", "tok"}};
    rq.headers = h2;
    rq.nheaders = 4;
    lks_buf_reset(&b);
    CHECK_OK(lks_sigv4_authorization(&rq, "AK", "SK", &b, sig2, &err), &err);
    lks_buf_cstr(&b);
    CHECK(strcmp(sig1, sig2) != 0);
    CHECK(strstr((const char *)b.ptr, "SignedHeaders=host;x-amz-date;x-amz-meta-a;x-amz-security-token,") != NULL);
    CHECK(strstr((const char *)b.ptr, "Credential=AK/20130524/eu-west-1/s3/aws4_request,") != NULL);
    CHECK(strstr((const char *)b.ptr, "SK") == NULL);
    /* a header twice (any case) and a malformed date are refused */
    lks_sigv4_header dup[] = {{"Host", "h"}, {"host", "h"}};
    rq.headers = dup;
    rq.nheaders = 2;
    lks_buf_reset(&b);
    CHECK_EQ_INT(lks_sigv4_canonical_request(&rq, &b, NULL, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "host") != NULL);
    rq.headers = h1;
    rq.nheaders = 3;
    rq.amz_date = "2013-05-24T00:00:00Z";
    CHECK_EQ_INT(lks_sigv4_canonical_request(&rq, &b, NULL, &err), LKS_EINVAL);
    lks_buf_free(&b);
    lks_buf_free(&sh);
}

static void t_presign(void) {
    /* the S3 docs' presigned GET of examplebucket/test.txt, valid 24 hours */
    lks_sigv4_presign_req rq = {"GET", HOST, "/test.txt", NULL, 0, "UNSIGNED-PAYLOAD", DATE, "us-east-1", "s3", 86400};
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    CHECK_OK(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), &err);
    lks_buf_cstr(&b);
    CHECK_EQ_STR((const char *)b.ptr,
                 "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                 "&X-Amz-Date=" DATE "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                 "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    /* the request's own parameters come first, as given; a session token
     * goes after X-Amz-SignedHeaders, is signed, and changes the signature */
    lks_sigv4_param own[] = {{"b", "2/3"}, {"a", NULL}};
    rq.params = own;
    rq.nparams = 2;
    lks_buf_reset(&b);
    CHECK_OK(lks_sigv4_presign_query(&rq, AK, SK, "tok/en+", &b, &err), &err);
    lks_buf_cstr(&b);
    const char *q = (const char *)b.ptr;
    CHECK(strncmp(q, "b=2%2F3&a=&X-Amz-Algorithm=", 27) == 0);
    const char *tok = strstr(q, "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok%2Fen%2B&X-Amz-Signature=");
    CHECK(tok != NULL);
    char sig_tok[65] = "";
    if (tok)
        snprintf(sig_tok, sizeof sig_tok, "%s", strrchr(q, '=') + 1);
    lks_buf_reset(&b);
    CHECK_OK(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), &err);
    lks_buf_cstr(&b);
    CHECK(strlen(sig_tok) == 64 && strcmp(sig_tok, strrchr((const char *)b.ptr, '=') + 1) != 0);
    CHECK(strstr((const char *)b.ptr, "Security-Token") == NULL);
    /* refused: expiry out of range, a bad date, an X-Amz-* parameter */
    rq.expires_s = 604801;
    CHECK_EQ_INT(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "604801") != NULL);
    rq.expires_s = 0;
    CHECK_EQ_INT(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), LKS_EINVAL);
    rq.expires_s = 60;
    rq.amz_date = "20130524";
    CHECK_EQ_INT(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), LKS_EINVAL);
    rq.amz_date = DATE;
    lks_sigv4_param clash[] = {{"x-amz-date", "x"}};
    rq.params = clash;
    rq.nparams = 1;
    CHECK_EQ_INT(lks_sigv4_presign_query(&rq, AK, SK, NULL, &b, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "x-amz-date") != NULL);
    lks_buf_free(&b);
}

int main(void) {
    RUN(t_get_object);
    RUN(t_put_object);
    RUN(t_get_bucket_lifecycle);
    RUN(t_get_bucket_list);
    RUN(t_signing_key);
    RUN(t_canonical_query);
    RUN(t_uri_encode);
    RUN(t_headers_and_errors);
    RUN(t_presign);
    return lks_test_done();
}
