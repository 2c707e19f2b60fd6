/* test_store_s3.c — the S3 store backend against an S3-protocol server on
 * 127.0.0.1: the image's moto server, started here on a free port, or the
 * endpoint named by LAKESYNC_TEST_S3_ENDPOINT (credentials then come from
 * the environment as usual; bucket LAKESYNC_TEST_S3_BUCKET, default
 * "lakesync-test").  Without either, every test that needs a server skips
 * visibly.
 *
 * Covered: location parsing and configuration (endpoints, regions, path or
 * virtual-hosted style, profiles in the shared files, credential sources);
 * the store conformance checks the local backend passes
 * (store_conformance.h), the put-if-absent race between processes against a
 * single-threaded moto (see t_put_if_absent_race); If-None-Match
 * put-if-absent, and the once-per-bucket check that the server honours it
 * (a bucket that ignores it is refused unless a single writer is declared);
 * the store properties; retries and connection reuse; ListObjectsV2
 * pagination and DeleteObjects batches; multipart upload, and its abort when
 * completing fails; errors naming bucket, key, status and S3 code without
 * secrets; container credentials, IMDSv2 and web identity (STS
 * AssumeRoleWithWebIdentity, moto's STS) with refresh before expiry, served
 * by tests/tools/cred_standin.py. */
#include "harness.h"
#include "proc_harness.h"
#include "delta/delta.h"
#include "store/s3_int.h"
#include "store_conformance.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static pid_t moto_pid = -1, standin_pid = -1;
static char endpoint[256];    /* the S3 server; "" when none */
static char standin_url[128]; /* the credential stand-in; "" when none */
static char bucket[128] = "lakesync-test";
static int external; /* LAKESYNC_TEST_S3_ENDPOINT given */
static char tmpdir[128];
static int run_seq;

/* ---- servers ------------------------------------------------------------------ */

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void stop_all(void) {
    stop(&moto_pid);
    stop(&standin_pid);
}

static const char *find_moto(void) {
    static char path[4096];
    const char *e = getenv("LAKESYNC_MOTO_SERVER");
    if (e && *e)
        return access(e, X_OK) == 0 ? e : NULL;
    const char *pathenv = getenv("PATH");
    if (pathenv) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", pathenv);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            snprintf(path, sizeof path, "%s/moto_server", d);
            if (access(path, X_OK) == 0)
                return path;
        }
    }
    return access("/root/.pyenv/shims/moto_server", X_OK) == 0 ? "/root/.pyenv/shims/moto_server" : NULL;
}

/* Starts argv (argv[port_arg] is replaced by a free port) and waits until
 * it listens: 1 with *pid and ep ("http://127.0.0.1:PORT") set, else 0. */
static int start_listener(char **argv, int port_arg, pid_t *pid, char *ep, size_t cap) {
    for (int tries = 0; tries < 3; tries++) {
        int port = free_port();
        if (port <= 0)
            return 0;
        char ps[16];
        snprintf(ps, sizeof ps, "%d", port);
        argv[port_arg] = ps;
        *pid = spawn(argv, -1);
        /* until it listens or exits, however long that takes (a server
         * that does neither is ended by the test runner's timeout) */
        for (;;) {
            if (port_open(port)) {
                snprintf(ep, cap, "http://127.0.0.1:%d", port);
                return 1;
            }
            if (waitpid(*pid, NULL, WNOHANG) == *pid) {
                *pid = -1;
                break; /* exited: port taken meanwhile? try another */
            }
            nap_ms(100);
        }
    }
    return 0;
}

static int start_moto(void) {
    const char *moto = find_moto();
    if (!moto)
        return 0;
    char *argv[] = {(char *)moto, "-H", "127.0.0.1", "-p", NULL, NULL};
    return start_listener(argv, 4, &moto_pid, endpoint, sizeof endpoint);
}

static int start_standin(void) {
    int p[2];
    if (pipe(p) != 0)
        return 0;
    char *argv[] = {"python3", "tests/tools/cred_standin.py", "--token", "Bearer standin-secret-token", NULL};
    standin_pid = spawn(argv, p[1]);
    close(p[1]);
    char line[32] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(p[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    close(p[0]);
    int port = atoi(line);
    if (port <= 0) {
        stop(&standin_pid);
        return 0;
    }
    snprintf(standin_url, sizeof standin_url, "http://127.0.0.1:%d", port);
    return 1;
}

/* A plain HTTP request to the stand-in; the body into out. */
static size_t sink(char *p, size_t s, size_t n, void *ud) {
    lks_buf_append(ud, p, s * n);
    return s * n;
}

static int standin_req(const char *method, const char *path, char *out, size_t cap) {
    CURL *h = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s%s", standin_url, path);
    lks_buf b;
    lks_buf_init(&b, 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    int ok = curl_easy_perform(h) == CURLE_OK;
    curl_easy_cleanup(h);
    if (out) {
        size_t k = b.len < cap - 1 ? b.len : cap - 1;
        if (k)
            memcpy(out, b.ptr, k);
        out[k] = 0;
    }
    lks_buf_free(&b);
    return ok;
}

/* A counter of the stand-in's /stats. */
static int standin_count(const char *name) {
    char body[512], pat[64];
    if (!standin_req("GET", "/stats", body, sizeof body))
        return -1;
    snprintf(pat, sizeof pat, "\"%s\": ", name);
    const char *p = strstr(body, pat);
    return p ? atoi(p + strlen(pat)) : -1;
}

/* ---- environment ------------------------------------------------------------------ */

static const char *aws_vars[] = {"AWS_ACCESS_KEY_ID",
                                 "AWS_SECRET_ACCESS_KEY",
                                 "AWS_SESSION_TOKEN",
                                 "AWS_PROFILE",
                                 "AWS_REGION",
                                 "AWS_DEFAULT_REGION",
                                 "AWS_ENDPOINT_URL",
                                 "AWS_ENDPOINT_URL_S3",
                                 "AWS_ENDPOINT_URL_STS",
                                 "AWS_SHARED_CREDENTIALS_FILE",
                                 "AWS_CONFIG_FILE",
                                 "AWS_WEB_IDENTITY_TOKEN_FILE",
                                 "AWS_ROLE_ARN",
                                 "AWS_ROLE_SESSION_NAME",
                                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                 "AWS_EC2_METADATA_DISABLED",
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                 "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                 "LAKESYNC_S3_PATH_STYLE",
                                 "LAKESYNC_S3_SINGLE_WRITER"};
#define NVARS (sizeof aws_vars / sizeof aws_vars[0])
static char *saved_env[NVARS];

/* Nothing configured: no variables, no shared files, no instance metadata. */
static void env_clean(void) {
    for (size_t i = 0; i < NVARS; i++)
        unsetenv(aws_vars[i]);
    char p[256];
    snprintf(p, sizeof p, "%s/no-credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    snprintf(p, sizeof p, "%s/no-config", tmpdir);
    setenv("AWS_CONFIG_FILE", p, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

/* The configuration the conformance checks run with. */
static void env_server(void) {
    if (external) {
        for (size_t i = 0; i < NVARS; i++) {
            if (saved_env[i])
                setenv(aws_vars[i], saved_env[i], 1);
            else
                unsetenv(aws_vars[i]);
        }
    } else {
        env_clean();
        setenv("AWS_ACCESS_KEY_ID", "testing", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-do-not-print", 1);
        setenv("AWS_REGION", "us-east-1", 1);
    }
    setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* ---- the backend for the conformance checks ------------------------------------------ */

static lks_store *s3_fresh(void) {
    env_server();
    char uri[512];
    snprintf(uri, sizeof uri, "s3://%s/run-%ld-%d-%d", bucket, (long)getpid(), (int)time(NULL) % 100000, ++run_seq);
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_open(uri, &st, &err) != LKS_OK) {
        printf("# open %s: %s\n", uri, err.msg);
        return NULL;
    }
    return st;
}

static const char *s3_where(lks_store *st) { return st->uri; }

/* What other tools leave in a bucket: a folder marker, a key with an empty
 * segment, a name of the local backend's temporary form.  Written through
 * the backend's own put (the checked entry points refuse such keys). */
static const char *junk[] = {"emptydir/", "a//double", "a/.b.tmp.4242.00112233aabbccdd"};

static int s3_plant_junk(lks_store *st) {
    lks_err err;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        if (st->ops->put(st, junk[i], "j", 1, 0, &err) != LKS_OK) {
            printf("# junk %s: %s\n", junk[i], err.msg);
            return -1;
        }
    return 0;
}

static int s3_leftovers(lks_store *st) {
    int n = -1;
    lks_err err;
    if (lks_s3_count_uploads(st, &n, &err) != LKS_OK)
        printf("# count uploads: %s\n", err.msg);
    return n;
}

typedef struct keylist {
    char **keys;
    size_t n, cap;
} keylist;

static int add_key(void *ud, const lks_store_entry *ent) {
    keylist *kl = ud;
    if (kl->n == kl->cap) {
        kl->cap = kl->cap ? kl->cap * 2 : 64;
        kl->keys = realloc(kl->keys, kl->cap * sizeof *kl->keys);
    }
    kl->keys[kl->n++] = strdup(ent->key);
    return 0;
}

static void s3_finish(lks_store *st) {
    lks_err err;
    keylist kl = {0};
    if (lks_store_list(st, "", add_key, &kl, &err) == LKS_OK && kl.n)
        if (lks_s3_delete_many(st, (const char *const *)kl.keys, kl.n, &err) != LKS_OK)
            printf("# clean-up: %s\n", err.msg);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        st->ops->del(st, junk[i], &err);
    for (size_t i = 0; i < kl.n; i++)
        free(kl.keys[i]);
    free(kl.keys);
    lks_store_close(st);
}

static const conf_backend s3_be = {s3_fresh, s3_where, s3_plant_junk, s3_leftovers, s3_finish, 0};

#define NEED_SERVER()                                                                                                  \
    do {                                                                                                               \
        if (!endpoint[0])                                                                                              \
            SKIP("no S3 server (moto_server not found and LAKESYNC_TEST_S3_ENDPOINT unset)");                          \
    } while (0)

#define NEED_MOTO()                                                                                                    \
    do {                                                                                                               \
        NEED_SERVER();                                                                                                 \
        if (external)                                                                                                  \
            SKIP("needs the local moto server (signatures unchecked, STS): LAKESYNC_TEST_S3_ENDPOINT is set");         \
    } while (0)

/* ---- configuration (no server needed) -------------------------------------------------- */

static void describe(const char *uri, char *url, char *region, int *rc, lks_err *err) {
    lks_store *st = NULL;
    *rc = lks_store_open(uri, &st, err);
    url[0] = region[0] = 0;
    if (*rc == LKS_OK) {
        lks_s3_describe(st, url, 256, region, 64);
        lks_store_close(st);
    }
}

static void t_locations(void) {
    env_clean();
    lks_store *st = NULL;
    lks_err err;
    static const struct {
        const char *uri, *norm;
    } good[] = {
        {"s3://bkt", "s3://bkt"},
        {"s3://bkt/", "s3://bkt"},
        {"s3://bkt/wh", "s3://bkt/wh"},
        {"s3://bkt/wh/db/t//", "s3://bkt/wh/db/t"},
        {"s3://My_Legacy.Bucket/x", "s3://My_Legacy.Bucket/x"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_OK(lks_store_open(good[i].uri, &st, &err), &err);
        if (st) {
            CHECK_EQ_STR(st->uri, good[i].norm);
            CHECK_EQ_STR(st->ops->scheme, "s3");
            lks_store_close(st);
            st = NULL;
        }
    }
    static const char *bad[] = {"s3://",         "s3:///x",      "s3://b ad/x",  "s3://bkt/a/../x",
                                "s3://bkt/a//b", "s3://bkt/./x", "s3://bkt/a\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lks_store_open(bad[i], &st, &err);
        if (rc != LKS_EINVAL)
            FAILF("%s: rc %d, want LKS_EINVAL", bad[i], rc);
        CHECK(st == NULL);
    }
}

static void t_endpoints_and_style(void) {
    char url[256], region[64];
    int rc;
    lks_err err;
    /* AWS: regional endpoint, virtual-hosted, HTTPS */
    env_clean();
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_OK(rc, &err);
    CHECK_EQ_STR(url, "https://bkt.s3.us-east-1.amazonaws.com");
    CHECK_EQ_STR(region, "us-east-1");
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://bkt.s3.eu-central-1.amazonaws.com");
    setenv("AWS_REGION", "eu-west-1", 1); /* before AWS_DEFAULT_REGION */
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://bkt.s3.eu-west-1.amazonaws.com");
    CHECK_EQ_STR(region, "eu-west-1");
    /* a dotted bucket cannot be a TLS host name: path style */
    describe("s3://my.bucket/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://s3.eu-west-1.amazonaws.com/my.bucket");
    setenv("LAKESYNC_S3_PATH_STYLE", "false", 1);
    describe("s3://my.bucket/p", url, region, &rc, &err);
    CHECK_EQ_INT(rc, LKS_ECONFIG);
    CHECK(strstr(err.msg, "my.bucket") != NULL);
    unsetenv("LAKESYNC_S3_PATH_STYLE");
    /* a custom endpoint: path style by default; the S3-specific variable first */
    setenv("AWS_ENDPOINT_URL", "http://10.0.0.1:9000", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "http://10.0.0.1:9000/bkt");
    setenv("AWS_ENDPOINT_URL_S3", "minio.local:9000/", 1); /* no scheme: HTTPS */
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://minio.local:9000/bkt");
    setenv("LAKESYNC_S3_PATH_STYLE", "false", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://bkt.minio.local:9000");
    setenv("LAKESYNC_S3_PATH_STYLE", "maybe", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_INT(rc, LKS_ECONFIG);
    unsetenv("LAKESYNC_S3_PATH_STYLE");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_EQ_STR(url, "https://bkt.s3.eu-west-1.amazonaws.com");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    static const char *bad_ep[] = {"ftp://host", "http://host/path", "http://user@host", "http://"};
    for (size_t i = 0; i < sizeof bad_ep / sizeof bad_ep[0]; i++) {
        setenv("AWS_ENDPOINT_URL_S3", bad_ep[i], 1);
        describe("s3://bkt/p", url, region, &rc, &err);
        if (rc != LKS_ECONFIG)
            FAILF("endpoint %s: rc %d", bad_ep[i], rc);
    }
    /* explicit options (the pipeline's s3.* properties) override the environment */
    lks_s3_opts o = {"http://127.0.0.1:1234", "ap-south-1", 0, -1};
    lks_store *st = NULL;
    CHECK_OK(lks_store_s3_open("s3://bkt/p", &o, &st, &err), &err);
    if (st) {
        lks_s3_describe(st, url, sizeof url, region, sizeof region);
        CHECK_EQ_STR(url, "http://bkt.127.0.0.1:1234");
        CHECK_EQ_STR(region, "ap-south-1");
        lks_store_close(st);
    }
    env_clean();
}

static void t_profiles_and_credentials(void) {
    env_clean();
    char cred[256], conf[256], url[256], region[64], key[128];
    snprintf(cred, sizeof cred, "%s/credentials", tmpdir);
    snprintf(conf, sizeof conf, "%s/config", tmpdir);
    write_file(cred, "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n"
                     "[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s2\naws_session_token = tok\n"
                     "[half]\naws_access_key_id = AKIDHALF\n");
    write_file(conf, "[default]\nregion = sa-east-1\n\n[profile dev]\nregion=ca-central-1\n"
                     "endpoint_url = http://192.168.1.5:9000\ns3 =\n  addressing_style = virtual\n"
                     "[profile half]\n[profile assumer]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = dev\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    lks_err err;
    lks_store *st = NULL;
    int rc;
    /* the default profile: keys and region */
    CHECK_OK(lks_store_open("s3://bkt/p", &st, &err), &err);
    if (st) {
        CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
        CHECK_EQ_STR(key, "AKIDDEFAULT");
        lks_s3_describe(st, url, sizeof url, region, sizeof region);
        CHECK_EQ_STR(region, "sa-east-1");
        lks_store_close(st);
    }
    /* AWS_PROFILE: its keys, region, endpoint and nested s3 addressing style */
    setenv("AWS_PROFILE", "dev", 1);
    describe("s3://bkt/p", url, region, &rc, &err);
    CHECK_OK(rc, &err);
    CHECK_EQ_STR(url, "http://bkt.192.168.1.5:9000");
    CHECK_EQ_STR(region, "ca-central-1");
    CHECK_OK(lks_store_open("s3://bkt/p", &st, &err), &err);
    if (st) {
        CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
        CHECK_EQ_STR(key, "AKIDDEV");
        lks_store_close(st);
    }
    /* environment keys come before the files */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
    CHECK_OK(lks_store_open("s3://bkt/p", &st, &err), &err);
    if (st) {
        CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
        CHECK_EQ_STR(key, "AKIDENV");
        lks_store_close(st);
    }
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK_EQ_INT(lks_store_open("s3://bkt/p", &st, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
    unsetenv("AWS_ACCESS_KEY_ID");
    /* broken and unsupported profiles, a profile that does not exist */
    setenv("AWS_PROFILE", "half", 1);
    CHECK_EQ_INT(lks_store_open("s3://bkt/p", &st, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "half") != NULL);
    setenv("AWS_PROFILE", "assumer", 1);
    CHECK_EQ_INT(lks_store_open("s3://bkt/p", &st, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "role_arn") != NULL);
    setenv("AWS_PROFILE", "nosuch", 1);
    CHECK_EQ_INT(lks_store_open("s3://bkt/p", &st, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "nosuch") != NULL);
    /* nothing anywhere, instance metadata off: the first request says so */
    env_clean();
    CHECK_OK(lks_store_open("s3://bkt/p", &st, &err), &err);
    if (st) {
        CHECK_EQ_INT(lks_s3_access_key_id(st, key, sizeof key, &err), LKS_ECONFIG);
        CHECK(strstr(err.msg, "no AWS credentials") != NULL);
        lks_store_close(st);
    }
    /* a container endpoint must be local or TLS */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://203.0.113.9/creds", 1);
    CHECK_EQ_INT(lks_store_open("s3://bkt/p", &st, &err), LKS_ECONFIG);
    env_clean();
}

/* ---- against the server ------------------------------------------------------------- */

static void t_bad_keys(void) {
    NEED_SERVER();
    conf_bad_keys(&s3_be);
}
static void t_roundtrip(void) {
    NEED_SERVER();
    conf_roundtrip(&s3_be);
}
static void t_ranged(void) {
    NEED_SERVER();
    conf_ranged(&s3_be);
}
static void t_list(void) {
    NEED_SERVER();
    conf_list(&s3_be);
}
static void t_delete_many(void) {
    NEED_SERVER();
    conf_delete_many(&s3_be);
}
static void t_put_if_absent(void) {
    NEED_SERVER();
    conf_put_if_absent(&s3_be, 0);
}
static void t_writer(void) {
    NEED_SERVER();
    conf_writer(&s3_be);
}
/* Moto checks If-None-Match and then stores in two unlocked steps, so two
 * concurrent conditional PUTs can both get 200 from moto_server, which
 * answers on many threads (a few rounds in a hundred with 8 writers, each
 * winner on its first try).  The race therefore runs against a real
 * endpoint, or against a second moto serving one request at a time
 * (tests/tools/moto_serial.py), where put-if-absent is atomic. */
static void t_put_if_absent_race(void) {
    NEED_SERVER();
    if (external) {
        conf_put_if_absent(&s3_be, 12);
        return;
    }
    char *argv[] = {"python3", "tests/tools/moto_serial.py", "127.0.0.1", NULL, NULL};
    pid_t serial = -1;
    char saved[sizeof endpoint];
    snprintf(saved, sizeof saved, "%s", endpoint);
    if (!start_listener(argv, 3, &serial, endpoint, sizeof endpoint)) {
        snprintf(endpoint, sizeof endpoint, "%s", saved);
        SKIP("python3 tests/tools/moto_serial.py did not start (python3 cannot import moto?)");
    }
    env_server();
    lks_store *st = NULL;
    lks_err err;
    char uri[256];
    snprintf(uri, sizeof uri, "s3://%s", bucket);
    if (lks_store_open(uri, &st, &err) == LKS_OK && lks_s3_create_bucket(st, &err) == LKS_OK)
        conf_put_if_absent(&s3_be, 12);
    else
        FAILF("bucket %s on the single-threaded moto: %s", bucket, err.msg);
    lks_store_close(st);
    stop(&serial);
    snprintf(endpoint, sizeof endpoint, "%s", saved);
    env_server();
}
static void t_put_is_atomic(void) {
    NEED_SERVER();
    conf_put_is_atomic(&s3_be, 10);
}

/* The server must refuse a second conditional PUT (412): a store that
 * ignores If-None-Match would let two writers both "win" a Delta version. */
static void t_if_none_match_honoured(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    CHECK_OK(lks_store_put_if_absent(st, "_delta_log/00000000000000000007.json", "a", 1, &err), &err);
    int rc = lks_store_put_if_absent(st, "_delta_log/00000000000000000007.json", "b", 1, &err);
    if (rc != LKS_EEXIST)
        FAILF("the server accepted a second If-None-Match: * PUT (rc %d): put-if-absent is unsafe there", rc);
    CHECK(strstr(err.msg, st->uri) != NULL);
    s3_finish(st);
}

static void t_pagination_and_batch_delete(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    /* more than one ListObjectsV2 page (1000 keys) */
    enum { N = 1013 };
    char **keys = calloc(N, sizeof *keys);
    REQUIRE(keys);
    int put_fail = 0;
    for (int i = 0; i < N && !put_fail; i++) {
        char k[64];
        snprintf(k, sizeof k, "p/%05d%s", i, i % 2 ? " odd+" : "");
        keys[i] = strdup(k);
        if (lks_store_put(st, k, k, strlen(k), &err) != LKS_OK) {
            FAILF("put %s: %s", k, err.msg);
            put_fail = 1;
        }
    }
    keylist kl = {0};
    CHECK_OK(lks_store_list(st, "p/", add_key, &kl, &err), &err);
    CHECK_EQ_INT(kl.n, N);
    for (size_t i = 0; i < kl.n && i < N; i++)
        if (strcmp(kl.keys[i], keys[i]) != 0) {
            FAILF("key %zu: %s, want %s", i, kl.keys[i], keys[i]);
            break;
        }
    /* DeleteObjects in batches of 1000 (with Content-MD5); absent keys are fine */
    keys[N - 1][0] = 'q'; /* "q/...": never written */
    CHECK_OK(lks_s3_delete_many(st, (const char *const *)keys, N, &err), &err);
    for (size_t i = 0; i < kl.n; i++)
        free(kl.keys[i]);
    kl.n = 0;
    CHECK_OK(lks_store_list(st, "p/", add_key, &kl, &err), &err);
    CHECK_EQ_INT(kl.n, 1); /* only the one whose name was changed */
    const char *bad[] = {"ok", "../x"};
    CHECK_EQ_INT(lks_s3_delete_many(st, bad, 2, &err), LKS_EINVAL);
    for (size_t i = 0; i < kl.n; i++)
        free(kl.keys[i]);
    free(kl.keys);
    for (int i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
    s3_finish(st);
}

static uint8_t *pattern(size_t n, unsigned seed) {
    uint8_t *p = malloc(n);
    if (p)
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
    return p;
}

static void t_multipart(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    /* 3 parts of 5 MiB (S3's minimum) above a 6 MiB threshold */
    lks_s3_set_multipart(st, (size_t)6 << 20, (size_t)5 << 20);
    size_t n = ((size_t)12 << 20) + 12345;
    uint8_t *data = pattern(n, 7);
    REQUIRE(data);
    CHECK_OK(lks_store_put(st, "big/obj.parquet", data, n, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "big/obj.parquet", &b, &err), &err);
    CHECK(b.len == n && memcmp(b.ptr, data, n) == 0);
    lks_buf_reset(&b);
    CHECK_OK(lks_store_get_range(st, "big/obj.parquet", ((size_t)5 << 20) - 10, 20, &b, &err), &err);
    CHECK(b.len == 20 && memcmp(b.ptr, data + ((size_t)5 << 20) - 10, 20) == 0);
    lks_store_entry ent;
    CHECK_OK(lks_store_head(st, "big/obj.parquet", &ent, &err), &err);
    CHECK_EQ_INT(ent.size, n);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    /* put-if-absent on a taken key: refused at completion, upload aborted */
    CHECK_EQ_INT(lks_store_put_if_absent(st, "big/obj.parquet", data, n, &err), LKS_EEXIST);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    CHECK_OK(lks_store_put_if_absent(st, "big/new.parquet", data, n, &err), &err);
    /* parts under S3's 5 MiB minimum: completing fails, the upload is aborted
     * and no object appears */
    lks_s3_set_multipart(st, (size_t)2 << 20, (size_t)1 << 20);
    int rc = lks_store_put(st, "big/too-small-parts", data, (size_t)3 << 20, &err);
    CHECK(rc != LKS_OK);
    CHECK(strstr(err.msg, "big/too-small-parts") != NULL && strstr(err.msg, "EntityTooSmall") != NULL);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    CHECK_EQ_INT(lks_store_head(st, "big/too-small-parts", &ent, &err), LKS_ENOTFOUND);
    lks_buf_free(&b);
    free(data);
    s3_finish(st);
}

/* lks_store_writer on S3: held until it fills a part, then uploaded part by
 * part; nothing visible before commit, no upload left after commit or abort;
 * a completion S3 refuses aborts the upload. */
static void t_writer_multipart(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    lks_s3_set_multipart(st, (size_t)6 << 20, (size_t)5 << 20);
    size_t n = ((size_t)12 << 20) + 12345;
    uint8_t *data = pattern(n, 5);
    REQUIRE(data);
    lks_store_writer *w;
    CHECK_OK(lks_store_writer_open(st, "w/big.parquet", &w, &err), &err);
    REQUIRE(w);
    size_t off = 0, piece = 3, uploads_seen = 0;
    while (off < n) { /* pieces from 3 bytes to 3 MiB */
        size_t k = piece < n - off ? piece : n - off;
        CHECK_OK(lks_store_writer_write(w, data + off, k, &err), &err);
        off += k;
        piece = piece * 7 % ((size_t)3 << 20) + 1;
        if (off > ((size_t)6 << 20) && !uploads_seen) {
            uploads_seen = 1;
            CHECK_EQ_INT(s3_leftovers(st), 1); /* the upload under way */
            lks_store_entry e0;
            CHECK_EQ_INT(lks_store_head(st, "w/big.parquet", &e0, &err), LKS_ENOTFOUND);
        }
    }
    CHECK_OK(lks_store_writer_commit(w, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "w/big.parquet", &b, &err), &err);
    CHECK(b.len == n && memcmp(b.ptr, data, n) == 0);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    /* abort after a part went up: the upload is aborted, no object */
    CHECK_OK(lks_store_writer_open(st, "w/aborted.parquet", &w, &err), &err);
    CHECK_OK(lks_store_writer_write(w, data, (size_t)7 << 20, &err), &err);
    CHECK_EQ_INT(s3_leftovers(st), 1);
    lks_store_writer_abort(w);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    lks_store_entry ent;
    CHECK_EQ_INT(lks_store_head(st, "w/aborted.parquet", &ent, &err), LKS_ENOTFOUND);
    /* parts under S3's 5 MiB minimum: the completion is refused, the upload
     * aborted, the error names the key */
    lks_s3_set_multipart(st, (size_t)2 << 20, (size_t)1 << 20);
    CHECK_OK(lks_store_writer_open(st, "w/small-parts", &w, &err), &err);
    CHECK_OK(lks_store_writer_write(w, data, (size_t)3 << 20, &err), &err);
    CHECK(lks_store_writer_commit(w, &err) != LKS_OK);
    CHECK(strstr(err.msg, "w/small-parts") != NULL && strstr(err.msg, "EntityTooSmall") != NULL);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    CHECK_EQ_INT(lks_store_head(st, "w/small-parts", &ent, &err), LKS_ENOTFOUND);
    lks_buf_free(&b);
    free(data);
    s3_finish(st);
}

/* Unfinished uploads of killed writers: purged by prefix (a dry run only
 * counts), and by vacuum under a table's root only. */
static void t_purge_uploads(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    lks_s3_set_multipart(st, (size_t)6 << 20, (size_t)5 << 20);
    size_t n = (size_t)6 << 20;
    uint8_t *data = pattern(n, 9);
    REQUIRE(data);
    lks_store_writer *wa, *wb, *wc;
    CHECK_OK(lks_store_writer_open(st, "t1/part-a.parquet", &wa, &err), &err);
    CHECK_OK(lks_store_writer_write(wa, data, n, &err), &err);
    CHECK_OK(lks_store_writer_open(st, "t2/part-b.parquet", &wb, &err), &err);
    CHECK_OK(lks_store_writer_write(wb, data, n, &err), &err);
    CHECK_EQ_INT(s3_leftovers(st), 2);
    /* (moto dates every upload 2010: ages are t_purge_uploads_age's) */
    int64_t now = lks_now_us(), k = -1;
    CHECK_OK(lks_store_purge_uploads(st, "t1/", now + 60 * INT64_C(1000000), 1, &k, &err), &err);
    CHECK_EQ_INT(k, 1); /* dry run: counted */
    CHECK_EQ_INT(s3_leftovers(st), 2);
    CHECK_OK(lks_store_purge_uploads(st, "t1/", now + 60 * INT64_C(1000000), 0, &k, &err), &err);
    CHECK_EQ_INT(k, 1);
    CHECK_EQ_INT(s3_leftovers(st), 1);
    /* the purged writer cannot publish: its upload is gone, named in the error */
    CHECK(lks_store_writer_commit(wa, &err) != LKS_OK);
    CHECK(strstr(err.msg, "t1/part-a.parquet") != NULL);
    lks_store_entry ent;
    CHECK_EQ_INT(lks_store_head(st, "t1/part-a.parquet", &ent, &err), LKS_ENOTFOUND);
    /* vacuum of a table at t2 (0-hour retention, forced) aborts the upload
     * under it, not one beside it */
    static const char commit0[] =
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
        "{\"metaData\":{\"id\":\"6f2a1c3e-0000-4000-8000-000000000001\",\"format\":{\"provider\":\"parquet\","
        "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\","
        "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],"
        "\"configuration\":{},\"createdTime\":1700000000000}}\n";
    CHECK_OK(lks_store_put(st, "t2/_delta_log/00000000000000000000.json", commit0, sizeof commit0 - 1, &err), &err);
    CHECK_OK(lks_store_writer_open(st, "t3/part-c.parquet", &wc, &err), &err);
    CHECK_OK(lks_store_writer_write(wc, data, n, &err), &err);
    CHECK_EQ_INT(s3_leftovers(st), 2);
    lks_delta_table *t;
    CHECK_OK(lks_delta_table_open(st, "t2", &t, &err), &err);
    if (t) {
        lks_delta_vacuum_opts vo = {0, 0, 1, NULL, NULL};
        lks_delta_vacuum_result r;
        CHECK_OK(lks_delta_vacuum(t, &vo, &r, &err), &err);
        CHECK_EQ_INT(r.uploads, 1);
        CHECK_EQ_INT(s3_leftovers(st), 1);
        lks_delta_table_close(t);
    }
    lks_store_writer_abort(wb);
    lks_store_writer_abort(wc);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    free(data);
    s3_finish(st);
}

/* Past the default 64 MiB threshold: the default part size and count. */
static void t_multipart_default_threshold(void) {
    NEED_SERVER();
    lks_store *st = s3_fresh();
    REQUIRE(st);
    lks_err err;
    size_t n = ((size_t)64 << 20) + 1;
    uint8_t *data = pattern(n, 11);
    REQUIRE(data);
    CHECK_OK(lks_store_put(st, "huge.bin", data, n, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get_range(st, "huge.bin", n - 100, 100, &b, &err), &err);
    CHECK(b.len == 100 && memcmp(b.ptr, data + n - 100, 100) == 0);
    lks_store_entry ent;
    CHECK_OK(lks_store_head(st, "huge.bin", &ent, &err), &err);
    CHECK_EQ_INT(ent.size, n);
    CHECK_EQ_INT(s3_leftovers(st), 0);
    lks_buf_free(&b);
    free(data);
    s3_finish(st);
}

/* Permanent errors are final at once and name bucket, key, status and the
 * S3 code; the secret key never shows. */
static void t_errors(void) {
    NEED_SERVER();
    env_server();
    lks_store *st = NULL;
    lks_err err;
    CHECK_OK(lks_store_open("s3://lakesync-no-such-bucket/wh", &st, &err), &err);
    REQUIRE(st);
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = lks_store_get(st, "t/_delta_log/0.json", &b, &err);
    CHECK(rc != LKS_OK && rc != LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "s3://lakesync-no-such-bucket/wh/t/_delta_log/0.json") != NULL);
    CHECK(strstr(err.msg, "404") != NULL && strstr(err.msg, "NoSuchBucket") != NULL);
    CHECK(strstr(err.msg, "tries") == NULL); /* not retried */
    CHECK(strstr(err.msg, "testing-secret") == NULL);
    rc = lks_store_put(st, "k", "v", 1, &err);
    CHECK(rc != LKS_OK && strstr(err.msg, "NoSuchBucket") != NULL && strstr(err.msg, "testing-secret") == NULL);
    CHECK(lks_store_list(st, "", add_key, NULL, &err) != LKS_OK);
    CHECK(strstr(err.msg, "lakesync-no-such-bucket") != NULL && strstr(err.msg, "NoSuchBucket") != NULL);
    lks_buf_free(&b);
    lks_store_close(st);
}

/* ---- retries and connection reuse, against the stand-in's scripted bucket ---------------- */

static void script(const char *codes) {
    char p[256];
    snprintf(p, sizeof p, "/script?codes=%s", codes);
    standin_req("POST", p, NULL, 0);
}

/* A store at url (a bucket of the stand-in) as key_id/secret, the
 * environment cleaned first, retrying with a 1 ms backoff base (the test
 * does not wait); NULL (the failure reported) when it does not open. */
static lks_store *standin_store(const char *url, const char *key_id, const char *secret) {
    env_clean();
    setenv("AWS_ACCESS_KEY_ID", key_id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    setenv("AWS_ENDPOINT_URL_S3", standin_url, 1);
    lks_store *st = NULL;
    lks_err err;
    CHECK_OK(lks_store_open(url, &st, &err), &err);
    if (st)
        lks_s3_set_retry(st, 0, 1);
    return st;
}

static void t_retries_and_reuse(void) {
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    lks_store *st = standin_store("s3://fault/p", "AKIDRETRY", "retry-secret-do-not-print");
    REQUIRE(st);
    lks_err err;
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_store_entry ent;
    /* the bucket's If-None-Match check, before scripted answers */
    script("");
    int honoured = 0;
    CHECK_OK(lks_s3_check_put_if_absent(st, &honoured, &err), &err);
    CHECK(honoured);
    /* one kept-alive connection for many requests (the /stats request
     * that reads the counter is a connection of its own) */
    int c0 = standin_count("connections");
    CHECK_OK(lks_store_put(st, "k", "hello", 5, &err), &err);
    for (int i = 0; i < 5; i++) {
        lks_buf_reset(&b);
        CHECK_OK(lks_store_get(st, "k", &b, &err), &err);
    }
    CHECK_OK(lks_store_head(st, "k", &ent, &err), &err);
    CHECK_EQ_INT(standin_count("connections"), c0 + 1); /* the store's own is open since the check */
    /* throttling and server errors are retried */
    int r0 = standin_count("fault_requests");
    script("503,503,500");
    lks_buf_reset(&b);
    CHECK_OK(lks_store_get(st, "k", &b, &err), &err);
    CHECK(b.len == 5 && memcmp(b.ptr, "hello", 5) == 0);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 4);
    /* a connection closed without an answer, and 400 RequestTimeout, too */
    r0 = standin_count("fault_requests");
    script("reset,400");
    CHECK_OK(lks_store_put(st, "k2", "v2", 2, &err), &err);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 3);
    /* other 4xx are final at once */
    r0 = standin_count("fault_requests");
    script("403");
    lks_buf_reset(&b);
    CHECK_EQ_INT(lks_store_get(st, "k", &b, &err), LKS_EIO);
    CHECK(strstr(err.msg, "s3://fault/p/k") != NULL && strstr(err.msg, "403 AccessDenied") != NULL);
    CHECK(strstr(err.msg, "retry-secret") == NULL);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 1);
    /* the wrong region: S3 names the right one */
    script("301");
    CHECK_EQ_INT(lks_store_head(st, "k", &ent, &err), LKS_EIO);
    CHECK(strstr(err.msg, "301") != NULL && strstr(err.msg, "region eu-west-1") != NULL &&
          strstr(err.msg, "AWS_REGION") != NULL);
    /* bounded: 8 tries, then the error says so */
    r0 = standin_count("fault_requests");
    script("500,500,500,500,500,500,500,500,500,500");
    CHECK_EQ_INT(lks_store_put(st, "k3", "v", 1, &err), LKS_EIO);
    CHECK(strstr(err.msg, "s3://fault/p/k3") != NULL && strstr(err.msg, "500 InternalError") != NULL &&
          strstr(err.msg, "after 8 tries") != NULL);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 8);
    script("");
    /* 409 ConditionalRequestConflict: retried for put-if-absent only */
    r0 = standin_count("fault_requests");
    script("409");
    CHECK_OK(lks_store_put_if_absent(st, "c/1.json", "mine", 4, &err), &err);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 2);
    script("409");
    CHECK_EQ_INT(lks_store_put(st, "c/2.json", "x", 1, &err), LKS_EIO);
    CHECK(strstr(err.msg, "409 ConditionalRequestConflict") != NULL);
    /* a put-if-absent whose first try landed but whose answer was lost:
     * the retry's 412 finds our own bytes, so it succeeded */
    script("500s,412");
    CHECK_OK(lks_store_put_if_absent(st, "c/3.json", "ours", 4, &err), &err);
    /* ... but someone else's bytes make it taken */
    CHECK_OK(lks_store_put(st, "c/4.json", "theirs", 6, &err), &err);
    script("500,412");
    CHECK_EQ_INT(lks_store_put_if_absent(st, "c/4.json", "ours", 4, &err), LKS_EEXIST);
    /* a plain 412 (no earlier try) is taken without a look */
    r0 = standin_count("fault_requests");
    script("412");
    CHECK_EQ_INT(lks_store_put_if_absent(st, "c/3.json", "ours", 4, &err), LKS_EEXIST);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 1);
    script("");
    lks_buf_free(&b);
    lks_store_close(st);
    env_clean();
}

/* Multipart against lost answers and failing parts. */
static void t_multipart_retries(void) {
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    lks_store *st = standin_store("s3://fault/mp", "AKIDRETRY", "retry-secret-do-not-print");
    REQUIRE(st);
    lks_err err;
    lks_s3_set_multipart(st, 1024, 512); /* 2000 bytes: 4 parts */
    script("");
    int honoured = 0;
    CHECK_OK(lks_s3_check_put_if_absent(st, &honoured, &err), &err);
    CHECK(honoured);
    uint8_t *data = pattern(2000, 3);
    REQUIRE(data);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_store_entry ent;
    /* create, 4 parts, then a completion that is applied but answered 500:
     * the retried completion finds no upload, and the object's ETag proves
     * it is ours */
    script("200,200,200,200,200,500s");
    CHECK_OK(lks_store_put(st, "a.bin", data, 2000, &err), &err);
    CHECK_OK(lks_store_get(st, "a.bin", &b, &err), &err);
    CHECK(b.len == 2000 && memcmp(b.ptr, data, 2000) == 0);
    script("200,200,200,200,200,500s");
    CHECK_OK(lks_store_put_if_absent(st, "c.bin", data, 2000, &err), &err);
    /* a part refused for good: the upload is aborted, no object appears */
    script("200,200,403");
    CHECK_EQ_INT(lks_store_put(st, "b.bin", data, 2000, &err), LKS_EIO);
    CHECK(strstr(err.msg, "s3://fault/mp/b.bin") != NULL && strstr(err.msg, "UploadPart") != NULL &&
          strstr(err.msg, "403") != NULL);
    CHECK_EQ_INT(standin_count("uploads"), 0);
    CHECK_EQ_INT(lks_store_head(st, "b.bin", &ent, &err), LKS_ENOTFOUND);
    /* the same through a writer, whose object goes in parts at commit */
    script("200,200,403");
    lks_store_writer *w;
    CHECK_OK(lks_store_writer_open(st, "d.bin", &w, &err), &err);
    for (size_t off = 0; off < 2000; off += 100)
        CHECK_OK(lks_store_writer_write(w, data + off, 100, &err), &err);
    CHECK_EQ_INT(lks_store_writer_commit(w, &err), LKS_EIO);
    CHECK(strstr(err.msg, "s3://fault/mp/d.bin") != NULL && strstr(err.msg, "UploadPart") != NULL);
    CHECK_EQ_INT(standin_count("uploads"), 0);
    CHECK_EQ_INT(lks_store_head(st, "d.bin", &ent, &err), LKS_ENOTFOUND);
    script("");
    lks_buf_free(&b);
    free(data);
    lks_store_close(st);
    env_clean();
}

/* Purging unfinished uploads by age, over pages of the listing (the
 * stand-in lists two a page, with the real start times). */
static void t_purge_uploads_age(void) {
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    lks_store *st = standin_store("s3://fault/pg", "AKIDPURGE", "purge-secret-do-not-print");
    REQUIRE(st);
    lks_err err;
    script("");
    lks_s3_set_multipart(st, (size_t)2 << 20, (size_t)600 << 10);
    size_t n = ((size_t)1 << 20) + 1; /* one part goes up at the writer's first 1 MiB */
    uint8_t *data = pattern(n, 13);
    REQUIRE(data);
    int u0 = standin_count("uploads");
    lks_store_writer *w[6];
    for (int i = 0; i < 6; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s/part-%d.bin", i < 5 ? "a" : "b", i);
        CHECK_OK(lks_store_writer_open(st, key, &w[i], &err), &err);
        CHECK_OK(lks_store_writer_write(w[i], data, n, &err), &err);
    }
    CHECK_EQ_INT(standin_count("uploads"), u0 + 6);
    int64_t now = lks_now_us(), k = -1;
    CHECK_OK(lks_store_purge_uploads(st, "a/", now - 3600 * INT64_C(1000000), 0, &k, &err), &err);
    CHECK_EQ_INT(k, 0); /* begun less than an hour ago */
    CHECK_OK(lks_store_purge_uploads(st, "a/", now + 60 * INT64_C(1000000), 0, &k, &err), &err);
    CHECK_EQ_INT(k, 5); /* three pages */
    CHECK_EQ_INT(standin_count("uploads"), u0 + 1);
    for (int i = 0; i < 6; i++)
        lks_store_writer_abort(w[i]);
    CHECK_EQ_INT(standin_count("uploads"), u0);
    free(data);
    lks_store_close(st);
    env_clean();
}

/* A bucket that ignores If-None-Match (the stand-in's "lax"): put_if_absent
 * is refused there, unless a single writer is declared, which then looks
 * (HEAD) before it writes.  The check runs once per process and bucket and
 * leaves no probe object behind. */
static void t_if_none_match_ignored(void) {
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    script("");
    lks_store *st = standin_store("s3://lax/p", "AKIDLAX", "lax-secret-do-not-print");
    REQUIRE(st);
    lks_err err;
    int honoured = 1;
    int r0 = standin_count("fault_requests"), o0 = standin_count("objects");
    CHECK_OK(lks_s3_check_put_if_absent(st, &honoured, &err), &err);
    CHECK(!honoured);
    CHECK_EQ_INT(standin_count("fault_requests"), r0 + 3); /* two conditional PUTs and the DELETE */
    CHECK_EQ_INT(standin_count("objects"), o0);            /* the probe object is gone */
    CHECK_EQ_INT(lks_store_put_if_absent(st, "_delta_log/00000000000000000000.json", "{}", 2, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "s3://lax") != NULL && strstr(err.msg, "If-None-Match") != NULL &&
          strstr(err.msg, "s3.single.writer") != NULL && strstr(err.msg, "LAKESYNC_S3_SINGLE_WRITER") != NULL);
    CHECK_OK(lks_store_put(st, "data.bin", "d", 1, &err), &err); /* plain puts are fine */
    lks_store_close(st);
    st = NULL;

    /* another store on the same bucket: no new probe */
    r0 = standin_count("fault_requests");
    CHECK_OK(lks_store_open("s3://lax/other", &st, &err), &err);
    REQUIRE(st);
    CHECK_OK(lks_s3_check_put_if_absent(st, &honoured, &err), &err);
    CHECK(!honoured);
    CHECK_EQ_INT(standin_count("fault_requests"), r0);
    lks_store_close(st);
    st = NULL;

    /* a declared single writer: HEAD, then PUT */
    setenv("LAKESYNC_S3_SINGLE_WRITER", "1", 1);
    CHECK_OK(lks_store_open("s3://lax/p", &st, &err), &err);
    REQUIRE(st);
    CHECK_OK(lks_store_put_if_absent(st, "_delta_log/00000000000000000000.json", "{}", 2, &err), &err);
    CHECK_EQ_INT(lks_store_put_if_absent(st, "_delta_log/00000000000000000000.json", "{x}", 3, &err), LKS_EEXIST);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "_delta_log/00000000000000000000.json", &b, &err), &err);
    CHECK(b.len == 2 && memcmp(b.ptr, "{}", 2) == 0);
    lks_buf_free(&b);
    lks_store_close(st);
    st = NULL;
    /* ... which an explicit setting overrides */
    lks_s3_opts o = {NULL, NULL, -1, 0};
    CHECK_OK(lks_store_s3_open("s3://lax/p", &o, &st, &err), &err);
    REQUIRE(st);
    CHECK_EQ_INT(lks_store_put_if_absent(st, "_delta_log/00000000000000000001.json", "{}", 2, &err), LKS_EUNSUPPORTED);
    lks_store_close(st);
    env_clean();
}

/* The store properties reach the backend. */
static void t_store_opts(void) {
    env_clean();
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", 1);
    setenv("AWS_REGION", "eu-west-3", 1);
    lks_store_opts o;
    lks_store_opts_init(&o);
    lks_store *st = NULL;
    lks_err err;
    char url[256], region[64];
    /* nothing set: the environment */
    CHECK_OK(lks_store_open_opts("s3://bkt/p", &o, &st, &err), &err);
    REQUIRE(st);
    lks_s3_describe(st, url, sizeof url, region, sizeof region);
    CHECK_EQ_STR(url, "http://127.0.0.1:9/bkt");
    CHECK_EQ_STR(region, "eu-west-3");
    lks_store_close(st);
    /* properties, through a configuration */
    const lks_conf_prop *const tables[] = {lks_conf_store, NULL};
    lks_config *cfg = NULL;
    CHECK_OK(lks_config_new(tables, &cfg, &err), &err);
    REQUIRE(cfg);
    CHECK_OK(lks_config_set(cfg, "s3.endpoint", "https://s3.example.net:8443", "-o", &err), &err);
    CHECK_OK(lks_config_set(cfg, "s3.region", "ap-south-1", "-o", &err), &err);
    CHECK_OK(lks_config_set(cfg, "s3.path.style.access", "false", "-o", &err), &err);
    lks_store_opts_from_config(&o, cfg);
    CHECK_EQ_INT(o.s3_single_writer, -1); /* left at its default: the environment decides */
    CHECK_OK(lks_store_open_opts("s3://bkt/p", &o, &st, &err), &err);
    REQUIRE(st);
    lks_s3_describe(st, url, sizeof url, region, sizeof region);
    CHECK_EQ_STR(url, "https://bkt.s3.example.net:8443");
    CHECK_EQ_STR(region, "ap-south-1");
    lks_store_close(st);
    CHECK_OK(lks_config_set(cfg, "s3.single.writer", "true", "-o", &err), &err);
    lks_store_opts_from_config(&o, cfg);
    CHECK_EQ_INT(o.s3_single_writer, 1);
    CHECK_EQ_INT(lks_config_set(cfg, "s3.path.style.access", "maybe", "-o", &err), LKS_ECONFIG);
    lks_config_free(cfg);
    env_clean();
}

/* ---- credential providers (moto ignores signatures, so any key works) -------------------- */

static lks_store *open_on_moto(lks_err *err) {
    char uri[256];
    snprintf(uri, sizeof uri, "s3://%s/creds-%ld-%d", bucket, (long)getpid(), ++run_seq);
    setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
    lks_store *st = NULL;
    if (lks_store_open(uri, &st, err) != LKS_OK)
        return NULL;
    return st;
}

/* put + get + head through the store: three signed requests. */
static int three_requests(lks_store *st, lks_err *err) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_store_entry ent;
    int rc = lks_store_put(st, "c", "creds", 5, err);
    if (rc == LKS_OK)
        rc = lks_store_get(st, "c", &b, err);
    if (rc == LKS_OK)
        rc = lks_store_head(st, "c", &ent, err);
    if (rc == LKS_OK && (b.len != 5 || memcmp(b.ptr, "creds", 5) != 0))
        rc = LKS_EIO;
    lks_buf_free(&b);
    return rc;
}

static void t_container_credentials(void) {
    NEED_MOTO();
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    env_clean();
    char url[256], key[128];
    snprintf(url, sizeof url, "%s/creds", standin_url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer standin-secret-token", 1);
    standin_req("POST", "/config?expiry=3600", NULL, 0);
    int c0 = standin_count("container");
    lks_err err;
    lks_store *st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_EQ_INT(standin_count("container"), c0); /* opening fetches nothing */
    CHECK_OK(three_requests(st, &err), &err);
    CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
    CHECK(strncmp(key, "ASIACONTAINER", 13) == 0);
    /* valid for an hour: fetched once */
    CHECK_EQ_INT(standin_count("container"), c0 + 1);
    s3_finish(st);

    /* credentials that expire within 5 minutes are fetched again before
     * each request */
    standin_req("POST", "/config?expiry=240", NULL, 0);
    c0 = standin_count("container");
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    CHECK_EQ_INT(standin_count("container"), c0 + 3);
    CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
    char want[32];
    snprintf(want, sizeof want, "ASIACONTAINER%04d", c0 + 4);
    CHECK_EQ_STR(key, want);
    s3_finish(st);

    /* the token from a file (read at each fetch), and a wrong token */
    char tf[256];
    snprintf(tf, sizeof tf, "%s/ct-token", tmpdir);
    write_file(tf, "Bearer standin-secret-token\n");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-set", 1);
    standin_req("POST", "/config?expiry=3600", NULL, 0);
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    s3_finish(st);
    write_file(tf, "Bearer wrong-token");
    int refused = standin_count("refused");
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK(three_requests(st, &err) != LKS_OK);
    CHECK(strstr(err.msg, "container credentials") != NULL && strstr(err.msg, "403") != NULL);
    CHECK(strstr(err.msg, "wrong-token") == NULL);
    CHECK(standin_count("refused") > refused);
    lks_store_close(st);
    env_clean();
}

static void t_imds_credentials(void) {
    NEED_MOTO();
    if (!standin_url[0])
        SKIP("python3 or tests/tools/cred_standin.py unavailable");
    env_clean();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", standin_url, 1);
    standin_req("POST", "/config?expiry=3600", NULL, 0);
    int t0 = standin_count("imds_token"), c0 = standin_count("imds_creds");
    lks_err err;
    lks_store *st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    char key[128], want[32];
    CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
    snprintf(want, sizeof want, "ASIAIMDS%04d", c0 + 1);
    CHECK_EQ_STR(key, want);
    /* IMDSv2: a session token was asked for before the role credentials */
    CHECK_EQ_INT(standin_count("imds_token"), t0 + 1);
    CHECK_EQ_INT(standin_count("imds_creds"), c0 + 1);
    s3_finish(st);
    /* near expiry: fetched again */
    standin_req("POST", "/config?expiry=120", NULL, 0);
    c0 = standin_count("imds_creds");
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    CHECK_EQ_INT(standin_count("imds_creds"), c0 + 3);
    s3_finish(st);
    standin_req("POST", "/config?expiry=3600", NULL, 0);
    env_clean();
}

static void t_web_identity(void) {
    NEED_MOTO();
    env_clean();
    char tf[256], conf[256], key[128];
    snprintf(tf, sizeof tf, "%s/web-identity-token", tmpdir);
    write_file(tf, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsYWtlc3luYyJ9.c2lnbmF0dXJl\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/lakesync-writer", 1);
    setenv("AWS_ENDPOINT_URL_STS", endpoint, 1); /* moto's STS */
    lks_err err;
    lks_store *st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
    CHECK(strlen(key) >= 16 && strncmp(key, "ASIA", 4) == 0);
    s3_finish(st);
    /* the same from a config-file profile */
    env_clean();
    snprintf(conf, sizeof conf, "%s/config-wi", tmpdir);
    char text[512];
    snprintf(text, sizeof text,
             "[profile irsa]\nweb_identity_token_file = %s\nrole_arn = arn:aws:iam::123456789012:role/r2\n"
             "role_session_name = lakesync-test\n",
             tf);
    write_file(conf, text);
    setenv("AWS_CONFIG_FILE", conf, 1);
    setenv("AWS_PROFILE", "irsa", 1);
    setenv("AWS_ENDPOINT_URL", endpoint, 1); /* the general variable reaches STS too */
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK_OK(three_requests(st, &err), &err);
    CHECK_OK(lks_s3_access_key_id(st, key, sizeof key, &err), &err);
    CHECK(strncmp(key, "ASIA", 4) == 0);
    s3_finish(st);
    /* an unreadable token file fails with a clear message */
    env_clean();
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
    setenv("AWS_ENDPOINT_URL_STS", endpoint, 1);
    st = open_on_moto(&err);
    REQUIRE(st);
    CHECK(three_requests(st, &err) != LKS_OK);
    CHECK(strstr(err.msg, "/nonexistent/token") != NULL);
    lks_store_close(st);
    env_clean();
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lks_test_s3_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL setup: mkdtemp\n");
        return 1;
    }
    for (size_t i = 0; i < NVARS; i++) {
        const char *v = getenv(aws_vars[i]);
        saved_env[i] = v ? strdup(v) : NULL;
    }
    const char *ext = getenv("LAKESYNC_TEST_S3_ENDPOINT");
    const char *bk = getenv("LAKESYNC_TEST_S3_BUCKET");
    if (bk && *bk)
        snprintf(bucket, sizeof bucket, "%s", bk);
    atexit(stop_all);
    if (ext && *ext) {
        external = 1;
        snprintf(endpoint, sizeof endpoint, "%s", ext);
    } else if (!start_moto()) {
        endpoint[0] = 0;
    }
    start_standin();
    if (endpoint[0]) {
        env_server();
        lks_store *st = NULL;
        lks_err err;
        char uri[256];
        snprintf(uri, sizeof uri, "s3://%s", bucket);
        if (lks_store_open(uri, &st, &err) != LKS_OK || lks_s3_create_bucket(st, &err) != LKS_OK) {
            printf("FAIL setup: bucket %s at %s: %s\n", bucket, endpoint, err.msg);
            endpoint[0] = 0;
        }
        lks_store_close(st);
    }
    RUN(t_locations);
    RUN(t_endpoints_and_style);
    RUN(t_profiles_and_credentials);
    RUN(t_bad_keys);
    RUN(t_roundtrip);
    RUN(t_ranged);
    RUN(t_list);
    RUN(t_delete_many);
    RUN(t_if_none_match_honoured);
    RUN(t_put_if_absent);
    RUN(t_put_if_absent_race);
    RUN(t_put_is_atomic);
    RUN(t_writer);
    RUN(t_pagination_and_batch_delete);
    RUN(t_multipart);
    RUN(t_writer_multipart);
    RUN(t_purge_uploads);
    RUN(t_multipart_default_threshold);
    RUN(t_errors);
    RUN(t_retries_and_reuse);
    RUN(t_multipart_retries);
    RUN(t_purge_uploads_age);
    RUN(t_if_none_match_ignored);
    RUN(t_store_opts);
    RUN(t_container_credentials);
    RUN(t_imds_credentials);
    RUN(t_web_identity);
    stop_all();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    for (size_t i = 0; i < NVARS; i++)
        free(saved_env[i]);
    curl_global_cleanup();
    return lks_test_done();
}
