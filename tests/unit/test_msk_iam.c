/* test_msk_iam.c — Amazon MSK IAM authentication (transport/msk_iam.h,
 * kafka.aws.msk.iam): tokens compared byte for byte with the ones botocore's
 * SigV4QueryAuth makes for the same inputs, as AWS's MSK IAM signer for
 * Python does (tests/tools/msk_token.py; skipped, visibly, without python3
 * and botocore); what a decoded token holds, with and without a session
 * token; the lifetime; clear errors for a bad or missing region and missing
 * credentials; the region in MSK broker names; credentials from the S3
 * store's sources (environment, profile, container credentials served by
 * tests/tools/cred_standin.py); the kafka.aws.* properties, which never
 * reach librdkafka; and the token refresh on real librdkafka handles: a
 * producer on librdkafka's mock cluster (which has no SASL: the token is
 * set, the handshake then fails) and a SASL/OAUTHBEARER handshake with
 * tests/tools/sasl_standin.py, which checks the token's signature as MSK
 * does. */
#include "harness.h"
#include "kafka_harness.h"
#include "proc_harness.h"
#include "transport/kafka.h"
#include "transport/msk_iam.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* a session token with the characters that need encoding */
#define TOK "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+a=="

static char tmpdir[128];

/* Runs a program to its end; its stdout into out.  The exit status, or -1. */
static int run_tool(char *const argv[], lks_buf *out) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = spawn(argv, p[1]);
    close(p[1]);
    char chunk[4096];
    ssize_t r;
    while ((r = read(p[0], chunk, sizeof chunk)) > 0)
        lks_buf_append(out, chunk, (size_t)r);
    close(p[0]);
    lks_buf_cstr(out);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The URL inside a token: base64url without padding, decoded. */
static int token_url(const char *token, lks_buf *url) {
    lks_buf b64;
    lks_buf_init(&b64, 0);
    for (const char *p = token; *p; p++) {
        char c = *p == '-' ? '+' : *p == '_' ? '/' : *p;
        if (*p == '+' || *p == '/' || *p == '=')
            c = '!'; /* not base64url: fails below */
        lks_buf_append_byte(&b64, (uint8_t)c);
    }
    while (b64.len % 4)
        lks_buf_append_byte(&b64, '=');
    int rc = lks_base64_decode(url, (const char *)b64.ptr, b64.len);
    if (rc == LKS_OK)
        rc = lks_buf_cstr(url);
    lks_buf_free(&b64);
    return rc;
}

static const char *const aws_vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_SHARED_CREDENTIALS_FILE",
                                       "AWS_CONFIG_FILE",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_EC2_METADATA_DISABLED",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION"};

/* No AWS settings but empty shared files and no instance metadata. */
static void env_clean(void) {
    for (size_t i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
        unsetenv(aws_vars[i]);
    char path[256];
    snprintf(path, sizeof path, "%s/no-credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof path, "%s/no-config", tmpdir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void env_keys(const char *token) {
    env_clean();
    setenv("AWS_ACCESS_KEY_ID", AK, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SK, 1);
    if (token)
        setenv("AWS_SESSION_TOKEN", token, 1);
}

/* ---- the token -------------------------------------------------------------------------- */

/* lakesync's token for fixed credentials and signing times equals, byte for
 * byte, the one botocore makes; its URL too. */
static void t_token_matches_botocore(void) {
    static const struct {
        const char *region, *token;
        int64_t when;
    } cases[] = {
        {"eu-west-1", NULL, INT64_C(1709164800)},     /* 2024-02-29T00:00:00Z */
        {"eu-west-1", TOK, INT64_C(1709164800)},      /* the session token, encoded and signed */
        {"us-east-1", NULL, INT64_C(1735689599)},     /* 2024-12-31T23:59:59Z */
        {"ap-southeast-2", TOK, INT64_C(1700000000)}, /* 2023-11-14T22:13:20Z */
        {"cn-north-1", "short", INT64_C(1234567890)}, /* 2009-02-13T23:31:30Z */
    };
    lks_buf out, mine, url;
    lks_buf_init(&out, 0);
    lks_buf_init(&mine, 0);
    lks_buf_init(&url, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char when[32];
        snprintf(when, sizeof when, "%lld", (long long)cases[i].when);
        char *argv[] = {"python3",
                        "tests/tools/msk_token.py",
                        (char *)cases[i].region,
                        AK,
                        SK,
                        cases[i].token ? (char *)cases[i].token : "-",
                        when,
                        LKS_MSK_IAM_USER_AGENT,
                        NULL};
        lks_buf_reset(&out);
        int st = run_tool(argv, &out);
        if (st == 127)
            SKIP("python3 not found");
        if (st == 3)
            SKIP("python3 cannot import botocore");
        if (st == 4)
            SKIP("tests/tools/msk_token.py could not fix botocore's signing time");
        REQUIRE(st == 0);
        char *want_url = (char *)out.ptr, *nl = strchr(want_url, '\n');
        REQUIRE(nl != NULL);
        *nl = 0;
        char *want_token = nl + 1;
        if ((nl = strchr(want_token, '\n')) != NULL)
            *nl = 0;
        lks_aws_key key = {AK, SK, cases[i].token, 0};
        int64_t life = 0;
        lks_err err;
        lks_buf_reset(&mine);
        CHECK_OK(lks_msk_iam_token(cases[i].region, &key, cases[i].when, &mine, &life, &err), &err);
        CHECK_EQ_STR((const char *)mine.ptr, want_token);
        lks_buf_reset(&url);
        CHECK_OK(token_url((const char *)mine.ptr, &url), (lks_err *)NULL);
        CHECK_EQ_STR((const char *)url.ptr, want_url);
        CHECK_EQ_INT(life, (cases[i].when + 900) * 1000);
    }
    lks_buf_free(&out);
    lks_buf_free(&mine);
    lks_buf_free(&url);
}

/* What the token holds, independently of botocore. */
static void t_token_contents(void) {
    lks_buf tok, url;
    lks_buf_init(&tok, 0);
    lks_buf_init(&url, 0);
    lks_err err;
    int64_t life = 0;
    lks_aws_key key = {AK, SK, NULL, 0};
    CHECK_OK(lks_msk_iam_token("eu-west-1", &key, INT64_C(1709164800), &tok, &life, &err), &err);
    const char *t = (const char *)tok.ptr;
    CHECK(strcspn(t, "+/=") == strlen(t)); /* base64url, no padding */
    CHECK_OK(token_url(t, &url), (lks_err *)NULL);
    const char *u = (const char *)url.ptr;
    static const char head[] = "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect"
                               "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=" AK "%2F20240229%2Feu-west-1%2Fkafka-cluster%2Faws4_request"
                               "&X-Amz-Date=20240229T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
                               "&X-Amz-Signature=";
    CHECK(strncmp(u, head, sizeof head - 1) == 0);
    const char *sig = u + sizeof head - 1;
    CHECK(strspn(sig, "0123456789abcdef") == 64);
    CHECK_EQ_STR(sig + 64, "&User-Agent=lakesync%2F" LKS_VERSION);
    CHECK(strstr(u, SK) == NULL && strstr(u, "Security-Token") == NULL);
    CHECK_EQ_INT(life, INT64_C(1709165700000));
    char sig_plain[65];
    snprintf(sig_plain, sizeof sig_plain, "%.64s", sig);

    /* with a session token: encoded, placed after SignedHeaders, signed */
    key.token = TOK;
    lks_buf_reset(&tok);
    lks_buf_reset(&url);
    CHECK_OK(lks_msk_iam_token("eu-west-1", &key, INT64_C(1709164800), &tok, &life, &err), &err);
    CHECK_OK(token_url((const char *)tok.ptr, &url), (lks_err *)NULL);
    u = (const char *)url.ptr;
    CHECK(strstr(u,
                 "&X-Amz-SignedHeaders=host&X-Amz-Security-Token="
                 "IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaCXVzLWVhc3QtMSJH%2Ba%3D%3D&X-Amz-Signature=") !=
          NULL);
    const char *sig2 = strstr(u, "&X-Amz-Signature=");
    CHECK(sig2 && strncmp(sig2 + 17, sig_plain, 64) != 0);

    /* temporary credentials that lapse before the 900 s: the token's
     * lifetime ends with them; later ones do not lengthen it */
    key.expires_us = (INT64_C(1709164800) + 600) * 1000000;
    lks_buf_reset(&tok);
    CHECK_OK(lks_msk_iam_token("eu-west-1", &key, INT64_C(1709164800), &tok, &life, &err), &err);
    CHECK_EQ_INT(life, INT64_C(1709165400000));
    key.expires_us = (INT64_C(1709164800) + 3600) * 1000000;
    CHECK_OK(lks_msk_iam_token("eu-west-1", &key, INT64_C(1709164800), &tok, &life, &err), &err);
    CHECK_EQ_INT(life, INT64_C(1709165700000));
    lks_buf_free(&tok);
    lks_buf_free(&url);
}

static void t_token_errors(void) {
    lks_buf tok;
    lks_buf_init(&tok, 0);
    lks_err err;
    int64_t life = 0;
    lks_aws_key key = {AK, SK, NULL, 0};
    static const char *const bad[] = {"",
                                      "EU-WEST-1",
                                      "eu_west_1",
                                      "eu-west-1/x",
                                      "eu-west-1.amazonaws.com",
                                      "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(lks_msk_iam_token(bad[i], &key, 1709164800, &tok, &life, &err), LKS_ECONFIG);
        CHECK(strstr(err.msg, "kafka.aws.region") != NULL);
    }
    CHECK_EQ_INT(lks_msk_iam_token(NULL, &key, 1709164800, &tok, &life, &err), LKS_ECONFIG);
    lks_aws_key nokey = {"", SK, NULL, 0}, nosecret = {AK, "", NULL, 0};
    CHECK_EQ_INT(lks_msk_iam_token("eu-west-1", &nokey, 1709164800, &tok, &life, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "access key") != NULL);
    CHECK_EQ_INT(lks_msk_iam_token("eu-west-1", &nosecret, 1709164800, &tok, &life, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, SK) == NULL);
    CHECK_EQ_INT(lks_msk_iam_token("eu-west-1", &key, -1, &tok, &life, &err), LKS_EINVAL);
    CHECK_EQ_INT(tok.len, 0); /* nothing appended on errors */
    lks_buf_free(&tok);
}

static void t_region_of_brokers(void) {
    static const struct {
        const char *brokers, *region; /* NULL: none */
    } cases[] = {
        {"b-1.mycluster.abc123.c2.kafka.eu-west-1.amazonaws.com:9098", "eu-west-1"},
        {"b-1.c.x.c2.kafka.us-east-1.amazonaws.com:9098,b-2.c.x.c2.kafka.us-east-1.amazonaws.com:9098", "us-east-1"},
        {" SASL_SSL://B-1.C.X.C2.KAFKA.AP-SOUTH-1.AMAZONAWS.COM:9098 , b-2.c.x.c2.kafka.ap-south-1.amazonaws.com.",
         "ap-south-1"},
        {"boot-abc.c1.kafka-serverless.us-east-2.amazonaws.com:9098", "us-east-2"},
        {"b-1.c.x.c1.kafka.cn-north-1.amazonaws.com.cn:9098", "cn-north-1"},
        {"b-1.c.x.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.c.x.c2.kafka.eu-west-2.amazonaws.com:9098", NULL},
        {"b-1.c.x.c2.kafka.eu-west-1.amazonaws.com:9098,broker.internal:9098", NULL},
        {"127.0.0.1:9092", NULL},
        {"kafka.eu-west-1.amazonaws.com:9098", "eu-west-1"},
        {"b-1.c.x.s3.eu-west-1.amazonaws.com:443", NULL},
        {"b-1.c.x.kafka..amazonaws.com:9098", NULL},
        {"b-1.c.x.kafka.EU_WEST_1.amazonaws.com:9098", NULL},
        {"amazonaws.com", NULL},
        {"", NULL},
        {",", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char region[64] = "";
        int got = lks_msk_iam_region_of(cases[i].brokers, region, sizeof region);
        if (got != (cases[i].region != NULL) || (got && strcmp(region, cases[i].region) != 0))
            FAILF("'%s': got %d '%s'", cases[i].brokers, got, region);
    }
    char small[4];
    CHECK_EQ_INT(lks_msk_iam_region_of(cases[0].brokers, small, sizeof small), 0);
    CHECK_EQ_INT(lks_msk_iam_region_of(NULL, small, sizeof small), 0);
}

/* ---- the signer: credentials from the S3 store's sources ------------------------------------------ */

static void check_signed(lks_msk_iam *m, const char *principal_want, const char *token_in_url) {
    lks_buf tok, url;
    lks_buf_init(&tok, 0);
    lks_buf_init(&url, 0);
    lks_err err;
    int64_t life = 0;
    char principal[128] = "";
    int64_t before = (int64_t)time(NULL);
    CHECK_OK(lks_msk_iam_sign(m, &tok, &life, principal, sizeof principal, &err), &err);
    int64_t after = (int64_t)time(NULL);
    CHECK_EQ_STR(principal, principal_want);
    CHECK(life >= (before + 900) * 1000 && life <= (after + 900) * 1000);
    CHECK_OK(token_url((const char *)tok.ptr, &url), (lks_err *)NULL);
    char cred[160];
    snprintf(cred, sizeof cred, "&X-Amz-Credential=%s%%2F", principal_want);
    CHECK(url.ptr && strstr((const char *)url.ptr, cred) != NULL);
    if (token_in_url)
        CHECK(url.ptr && strstr((const char *)url.ptr, token_in_url) != NULL);
    else
        CHECK(url.ptr && strstr((const char *)url.ptr, "Security-Token") == NULL);
    lks_buf_free(&tok);
    lks_buf_free(&url);
}

static void t_signer_credentials(void) {
    lks_msk_iam *m = NULL;
    lks_err err;
    /* the environment, with and without a session token */
    env_keys(NULL);
    CHECK_OK(lks_msk_iam_new("eu-west-1", NULL, &m, &err), &err);
    if (m) {
        CHECK_EQ_STR(lks_msk_iam_region(m), "eu-west-1");
        check_signed(m, AK, NULL);
        lks_msk_iam_free(m);
    }
    env_keys("envtoken/1");
    CHECK_OK(lks_msk_iam_new("eu-west-1", NULL, &m, &err), &err);
    if (m) {
        check_signed(m, AK, "&X-Amz-Security-Token=envtoken%2F1&");
        lks_msk_iam_free(m);
    }
    /* a profile of the shared credentials file; the region from the
     * broker names */
    env_clean();
    char path[256];
    snprintf(path, sizeof path, "%s/credentials", tmpdir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n"
          "[msk]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s2\naws_session_token = ptok\n",
          f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "msk", 1);
    CHECK_OK(lks_msk_iam_new(NULL, "b-1.c.x.c2.kafka.eu-central-1.amazonaws.com:9098", &m, &err), &err);
    if (m) {
        CHECK_EQ_STR(lks_msk_iam_region(m), "eu-central-1");
        check_signed(m, "AKIDPROFILE", "&X-Amz-Security-Token=ptok&");
        lks_msk_iam_free(m);
    }
    /* no credentials anywhere: the error says so and names the property */
    env_clean();
    CHECK_EQ_INT(lks_msk_iam_new("eu-west-1", NULL, &m, &err), LKS_ECONFIG);
    CHECK(m == NULL);
    CHECK(strstr(err.msg, "kafka.aws.msk.iam") != NULL && strstr(err.msg, "no AWS credentials") != NULL);
    /* half the keys */
    setenv("AWS_ACCESS_KEY_ID", AK, 1);
    CHECK_EQ_INT(lks_msk_iam_new("eu-west-1", NULL, &m, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
    /* no region: neither given nor in the broker names; a bad one */
    env_keys(NULL);
    CHECK_EQ_INT(lks_msk_iam_new(NULL, "broker.internal:9098", &m, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.aws.region") != NULL && strstr(err.msg, "broker.internal:9098") != NULL);
    CHECK_EQ_INT(lks_msk_iam_new(NULL, NULL, &m, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.aws.region") != NULL);
    CHECK_EQ_INT(lks_msk_iam_new("Ireland", NULL, &m, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.aws.region 'Ireland'") != NULL);
    CHECK(strstr(err.msg, SK) == NULL);
    env_clean();
}

/* Container credentials (temporary, renewable) from the stand-in: the
 * session token is signed and the token lives no longer than they do. */
static void t_signer_container_credentials(void) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    char *argv[] = {"python3", "tests/tools/cred_standin.py", "--expiry", "600", NULL};
    pid_t pid = spawn(argv, p[1]);
    close(p[1]);
    char line[32];
    int ok = read_line(p[0], line, sizeof line);
    close(p[0]);
    if (!ok || atoi(line) <= 0) {
        stop(&pid);
        SKIP("python3 tests/tools/cred_standin.py did not start");
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", atoi(line));
    env_clean();
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    lks_msk_iam *m = NULL;
    lks_err err;
    /* the stand-in stamps Expiration (whole seconds) when it serves the
     * credentials, somewhere between these two readings of the clock */
    int64_t before = (int64_t)time(NULL);
    CHECK_OK(lks_msk_iam_new("eu-west-1", NULL, &m, &err), &err);
    if (m) {
        lks_buf tok, u;
        lks_buf_init(&tok, 0);
        lks_buf_init(&u, 0);
        int64_t life = 0;
        char principal[64] = "";
        CHECK_OK(lks_msk_iam_sign(m, &tok, &life, principal, sizeof principal, &err), &err);
        int64_t after = (int64_t)time(NULL);
        CHECK(strncmp(principal, "ASIACONTAINER", 13) == 0);
        /* the credentials' Expiration (now + 600 s) comes before the token's 900 s */
        CHECK(life >= (before + 600) * 1000 && life <= (after + 600) * 1000);
        CHECK_OK(token_url((const char *)tok.ptr, &u), (lks_err *)NULL);
        CHECK(u.ptr && strstr((const char *)u.ptr, "&X-Amz-Security-Token=session-asiacontainer-") != NULL);
        lks_buf_free(&tok);
        lks_buf_free(&u);
        lks_msk_iam_free(m);
    }
    stop(&pid);
    env_clean();
}

/* ---- configuration ----------------------------------------------------------------------------------- */

static void t_properties(void) {
    const lks_conf_prop *tables[] = {lks_conf_kafka, NULL};
    lks_config *cfg = NULL;
    lks_err err;
    REQUIRE(lks_config_new(tables, &cfg, &err) == LKS_OK);
    static const char text[] = "kafka.bootstrap.servers=b-1.c.x.c2.kafka.eu-west-1.amazonaws.com:9098\n"
                               "kafka.aws.msk.iam=true\nkafka.aws.region=eu-west-1\n"
                               "kafka.client.id=me\nkafka.security.protocol=SASL_SSL\n";
    CHECK_OK(lks_config_load_text(cfg, text, sizeof text - 1, "t.properties", &err), &err);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_kafka_opts o;
    CHECK_OK(lks_kafka_opts_from_config(cfg, 1, &a, &o, &err), &err);
    CHECK_EQ_INT(o.msk_iam, 1);
    CHECK_EQ_STR(o.aws_region, "eu-west-1");
    /* lakesync's own keys are not among what goes to librdkafka */
    CHECK_EQ_INT(o.nprops, 2);
    for (int i = 0; i < o.nprops; i++)
        CHECK(strncmp(o.props[i].name, "aws.", 4) != 0);
    /* off by default */
    lks_config *cfg2 = NULL;
    REQUIRE(lks_config_new(tables, &cfg2, &err) == LKS_OK);
    CHECK_OK(lks_kafka_opts_from_config(cfg2, 0, &a, &o, &err), &err);
    CHECK_EQ_INT(o.msk_iam, 0);
    CHECK(o.aws_region == NULL);
    /* a misspelt kafka.aws.* property is refused, not handed to librdkafka */
    CHECK_OK(lks_config_set(cfg2, "kafka.aws.regoin", "eu-west-1", "-o", &err), &err);
    CHECK_EQ_INT(lks_kafka_opts_from_config(cfg2, 0, &a, &o, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.aws.regoin") != NULL);
    CHECK_EQ_INT(lks_config_set(cfg2, "kafka.aws.msk.iam", "maybe", "-o", &err), LKS_ECONFIG);
    lks_config_free(cfg);
    lks_config_free(cfg2);
    lks_arena_free(&a);
}

/* ---- on librdkafka handles ------------------------------------------------------------------------------ */

/* Log lines of the library (librdkafka's from its threads), kept from the
 * start; log_reset() before what a test looks for. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static lks_buf log_text;

static void log_sink(void *ud, int level, const char *subsys, const char *msg) {
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_lock);
    lks_buf_printf(&log_text, "%s: %s\n", subsys ? subsys : "-", msg);
    pthread_mutex_unlock(&log_lock);
}

static int log_has(const char *what) {
    pthread_mutex_lock(&log_lock);
    lks_buf_cstr(&log_text);
    int has = log_text.ptr && strstr((const char *)log_text.ptr, what) != NULL;
    pthread_mutex_unlock(&log_lock);
    return has;
}

static void log_reset(void) {
    pthread_mutex_lock(&log_lock);
    lks_buf_reset(&log_text);
    pthread_mutex_unlock(&log_lock);
}

/* The refresh runs on librdkafka's background thread: the token is set
 * without the caller polling.  librdkafka's mock cluster has no SASL, so
 * the connection then fails at the handshake (no authentication happens
 * here: see t_sasl_handshake). */
static void t_producer_sets_token(void) {
    const char *boot = start_mock(1);
    REQUIRE(boot);
    env_keys(TOK);
    lks_kafka_prop props[] = {{"security.protocol", "SASL_PLAINTEXT"}, {"debug", "security"}};
    lks_kafka_opts o;
    memset(&o, 0, sizeof o);
    o.bootstrap = boot;
    o.props = props;
    o.nprops = 2;
    o.msk_iam = 1;
    o.aws_region = "eu-west-1";
    lks_kafka_producer *p = NULL;
    lks_err err;
    log_reset();
    CHECK_OK(lks_kafka_producer_new(&o, &p, &err), &err);
    REQUIRE(p);
    WAIT_UNTIL(lks_kafka_producer_tokens(p) >= 1);
    CHECK_EQ_INT(lks_kafka_producer_tokens(p), 1);
    /* librdkafka took it and went on to the SASL handshake the mock lacks */
    WAIT_UNTIL(log_has("SASL Handshake not supported"));
    CHECK(log_has("SASL Handshake not supported"));
    CHECK(!log_has(SK));
    lks_kafka_producer_free(p);

    /* what MSK IAM cannot work with is refused before any connection */
    lks_kafka_prop plain[] = {{"sasl.mechanism", "PLAIN"}};
    o.props = plain;
    o.nprops = 1;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "sasl.mechanism") != NULL && strstr(err.msg, "OAUTHBEARER") != NULL);
    lks_kafka_prop noauth[] = {{"security.protocol", "PLAINTEXT"}};
    o.props = noauth;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.security.protocol=PLAINTEXT") != NULL);
    /* no credentials: the producer is not made, and the error says why */
    env_clean();
    o.props = props;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "no AWS credentials") != NULL);
    /* nor without a region */
    env_keys(NULL);
    o.aws_region = NULL;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.aws.region") != NULL);
    /* a consumer takes the same path */
    lks_kafka_consumer_opts co;
    memset(&co, 0, sizeof co);
    co.k = o;
    co.k.aws_region = "eu-west-1";
    co.group = "g";
    lks_kafka_consumer *c = NULL;
    CHECK_OK(lks_kafka_consumer_new(&co, &c, &err), &err);
    lks_kafka_consumer_close(c, 1);
    env_clean();
    co.k.aws_region = "eu-west-1";
    CHECK_EQ_INT(lks_kafka_consumer_new(&co, &c, &err), LKS_ECONFIG);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "no AWS credentials") != NULL);
}

/* Starts tests/tools/sasl_standin.py checking tokens for eu-west-1, AK and
 * `secret`; its port in *port and its stdout (the verdicts) in *out_fd.
 * 0 when it did not start. */
static int start_sasl_standin(const char *secret, pid_t *pid, int *port, int *out_fd) {
    int p[2];
    if (pipe(p) != 0)
        return 0;
    char *argv[] = {"python3", "tests/tools/sasl_standin.py", "eu-west-1", AK, (char *)secret, NULL};
    *pid = spawn(argv, p[1]);
    close(p[1]);
    char line[32];
    if (!read_line(p[0], line, sizeof line) || (*port = atoi(line)) <= 0) {
        close(p[0]);
        stop(pid);
        return 0;
    }
    *out_fd = p[0];
    return 1;
}

/* A SASL/OAUTHBEARER handshake: the token the producer's refresh sets
 * reaches a broker in the client response, and the stand-in, checking it
 * as MSK does (signature recomputed with botocore, signing time, scope),
 * accepts it; with another secret it refuses, and librdkafka says so. */
static void t_sasl_handshake(void) {
    pid_t pid = -1;
    int port = 0, fd = -1;
    if (!start_sasl_standin(SK, &pid, &port, &fd))
        SKIP("python3 tests/tools/sasl_standin.py did not start (python3 cannot import botocore?)");
    char boot[64], line[512] = "";
    snprintf(boot, sizeof boot, "127.0.0.1:%d", port);
    env_keys(TOK);
    lks_kafka_prop props[] = {{"security.protocol", "SASL_PLAINTEXT"}, {"debug", "security"}};
    lks_kafka_opts o;
    memset(&o, 0, sizeof o);
    o.bootstrap = boot;
    o.props = props;
    o.nprops = 2;
    o.msk_iam = 1;
    o.aws_region = "eu-west-1";
    lks_kafka_producer *p = NULL;
    lks_err err;
    log_reset();
    CHECK_OK(lks_kafka_producer_new(&o, &p, &err), &err);
    CHECK(read_line(fd, line, sizeof line));
    CHECK_EQ_STR(line, "ok " AK);
    WAIT_UNTIL(log_has("authentication successful"));
    CHECK(log_has("SASL OAUTHBEARER authentication successful"));
    CHECK(!log_has(SK));
    lks_kafka_producer_free(p);
    close(fd);
    stop(&pid);

    /* a broker that knows another secret for the key refuses the token */
    REQUIRE(start_sasl_standin("another-secret", &pid, &port, &fd));
    snprintf(boot, sizeof boot, "127.0.0.1:%d", port);
    log_reset();
    CHECK_OK(lks_kafka_producer_new(&o, &p, &err), &err);
    CHECK(read_line(fd, line, sizeof line));
    CHECK_EQ_STR(line, "refused signature does not match");
    WAIT_UNTIL(log_has("signature does not match"));
    CHECK(log_has("signature does not match"));
    CHECK(!log_has("authentication successful"));
    lks_kafka_producer_free(p);
    close(fd);
    stop(&pid);
    env_clean();
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lks_test_msk_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL setup: mkdtemp\n");
        return 1;
    }
    lks_buf_init(&log_text, 0);
    lks_log_set(log_sink, NULL, LKS_LOG_DEBUG); /* before any thread logs */
    RUN(t_token_matches_botocore);
    RUN(t_token_contents);
    RUN(t_token_errors);
    RUN(t_region_of_brokers);
    RUN(t_signer_credentials);
    RUN(t_signer_container_credentials);
    RUN(t_properties);
    RUN(t_producer_sets_token);
    RUN(t_sasl_handshake);
    stop_mock();
    lks_buf_free(&log_text);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    return lks_test_done();
}
