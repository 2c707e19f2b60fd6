/* test_config.c — property tables, value types, .properties syntax, errors,
 * listings. */
#include "core/config.h"
#include "harness.h"

#include <unistd.h>

static const lks_conf_prop test_props[] = {
    {"name", LKS_CONF_STR, "anon", NULL, 0, 0, 0, "A name."},
    {"count", LKS_CONF_INT, "10", NULL, -5, 100, 0, "A count."},
    {"big", LKS_CONF_INT, NULL, NULL, 0, 0, 0, "Unbounded, unset by default."},
    {"flag", LKS_CONF_BOOL, "false", NULL, 0, 0, 0, "A flag."},
    {"codec", LKS_CONF_ENUM, "snappy", "snappy|zstd|gzip|none", 0, 0, 0, "A codec."},
    {"timeout", LKS_CONF_DURATION, "30s", NULL, 0, 86400000, 0, "A timeout."},
    {"buffer", LKS_CONF_SIZE, "1MiB", NULL, 1024, (int64_t)1 << 40, 0, "A buffer."},
    {"db.password", LKS_CONF_PASSWORD, NULL, NULL, 0, 0, 0, "A password."},
    {"api.token", LKS_CONF_STR, "tok-default", NULL, 0, 0, LKS_CONF_SECRET, "A token."},
    {"must", LKS_CONF_STR, NULL, NULL, 0, 0, LKS_CONF_REQUIRED, "Required."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};
static const lks_conf_prop *const test_tables[] = {test_props, NULL};

static lks_config *mk(void) {
    lks_config *cfg = NULL;
    lks_err err;
    if (lks_config_new(test_tables, &cfg, &err) != LKS_OK)
        return NULL;
    return cfg;
}

static void t_defaults(void) {
    lks_config *cfg = mk();
    REQUIRE(cfg);
    CHECK_EQ_STR(lks_config_get_str(cfg, "name"), "anon");
    CHECK_EQ_INT(lks_config_get_int(cfg, "count"), 10);
    CHECK(lks_config_get_str(cfg, "big") == NULL);
    CHECK_EQ_INT(lks_config_get_bool(cfg, "flag"), 0);
    CHECK_EQ_INT(lks_config_get_enum(cfg, "codec"), 0);
    CHECK_EQ_INT(lks_config_get_int(cfg, "timeout"), 30000);
    CHECK_EQ_INT(lks_config_get_int(cfg, "buffer"), 1 << 20);
    CHECK_EQ_INT(lks_config_is_set(cfg, "name"), 0);
    CHECK_EQ_STR(lks_config_origin(cfg, "name"), "default");
    CHECK(lks_config_origin(cfg, "big") == NULL);
    CHECK(lks_config_get_str(cfg, "no.such") == NULL);
    CHECK(lks_config_find(cfg, "codec") != NULL && lks_config_find(cfg, "codecs") == NULL);
    lks_err err;
    CHECK_EQ_INT(lks_config_check_required(cfg, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "'must'") != NULL);
    CHECK_OK(lks_config_set(cfg, "must", "x", NULL, &err), &err);
    CHECK_OK(lks_config_check_required(cfg, &err), &err);
    lks_config_free(cfg);
}

static void t_builtin_tables(void) {
    const lks_conf_prop *const tables[] = {lks_conf_core, lks_conf_parquet, NULL};
    lks_config *cfg;
    lks_err err;
    CHECK_OK(lks_config_new(tables, &cfg, &err), &err);
    REQUIRE(cfg);
    CHECK_EQ_STR(lks_config_get_str(cfg, "warehouse"), "./warehouse");
    CHECK_EQ_STR(lks_config_get_str(cfg, "parquet.compression"), "snappy");
    CHECK_EQ_INT(lks_config_get_int(cfg, "parquet.row.group.bytes"), 128 << 20);
    CHECK_EQ_INT(lks_config_get_int(cfg, "parquet.page.bytes"), 1 << 20);
    CHECK_EQ_STR(lks_config_get_str(cfg, "log.level"), "warn");
    CHECK_EQ_INT(lks_config_get_bool(cfg, "parquet.dictionary"), 1);
    lks_config_free(cfg);
}

static void t_bad_tables(void) {
    static const lks_conf_prop dup[] = {{"a", LKS_CONF_STR, NULL, NULL, 0, 0, 0, ""},
                                        {"a", LKS_CONF_INT, NULL, NULL, 0, 0, 0, ""},
                                        {NULL, 0, NULL, NULL, 0, 0, 0, NULL}};
    static const lks_conf_prop baddef[] = {{"n", LKS_CONF_INT, "12x", NULL, 0, 0, 0, ""},
                                           {NULL, 0, NULL, NULL, 0, 0, 0, NULL}};
    static const lks_conf_prop noenum[] = {{"e", LKS_CONF_ENUM, NULL, NULL, 0, 0, 0, ""},
                                           {NULL, 0, NULL, NULL, 0, 0, 0, NULL}};
    const lks_conf_prop *const t1[] = {dup, NULL}, *const t2[] = {baddef, NULL}, *const t3[] = {noenum, NULL};
    const lks_conf_prop *const t4[] = {test_props, test_props, NULL};
    const lks_conf_prop *const *all[] = {t1, t2, t3, t4};
    for (int i = 0; i < 4; i++) {
        lks_config *cfg = (lks_config *)1;
        lks_err err;
        lks_err_clear(&err);
        CHECK_EQ_INT(lks_config_new(all[i], &cfg, &err), LKS_EINTERNAL);
        CHECK(cfg == NULL);
        CHECK(err.msg[0] != 0);
    }
}

static void t_value_types(void) {
    static const struct {
        const char *name, *value;
        int rc;
        int64_t want; /* numeric value (bool 0/1, enum index) */
        const char *text;
    } cases[] = {
        {"count", "42", LKS_OK, 42, "42"},
        {"count", " -5 ", LKS_OK, -5, "-5"},
        {"count", "+100", LKS_OK, 100, "+100"},
        {"count", "101", LKS_ECONFIG, 0, NULL},
        {"count", "-6", LKS_ECONFIG, 0, NULL},
        {"count", "4x", LKS_ECONFIG, 0, NULL},
        {"count", "", LKS_ECONFIG, 0, NULL},
        {"count", "0x10", LKS_ECONFIG, 0, NULL},
        {"big", "9223372036854775807", LKS_OK, INT64_MAX, NULL},
        {"big", "-9223372036854775808", LKS_OK, INT64_MIN, NULL},
        {"big", "9223372036854775808", LKS_ECONFIG, 0, NULL},
        {"flag", "TRUE", LKS_OK, 1, "true"},
        {"flag", "yes", LKS_OK, 1, "true"},
        {"flag", "On", LKS_OK, 1, "true"},
        {"flag", "0", LKS_OK, 0, "false"},
        {"flag", "off", LKS_OK, 0, "false"},
        {"flag", "maybe", LKS_ECONFIG, 0, NULL},
        {"codec", "ZSTD", LKS_OK, 1, "zstd"},
        {"codec", " none ", LKS_OK, 3, "none"},
        {"codec", "lzo", LKS_ECONFIG, 0, NULL},
        {"codec", "zst", LKS_ECONFIG, 0, NULL},
        {"timeout", "1500", LKS_OK, 1500, NULL},
        {"timeout", "250ms", LKS_OK, 250, NULL},
        {"timeout", "30s", LKS_OK, 30000, NULL},
        {"timeout", "5 m", LKS_OK, 300000, NULL},
        {"timeout", "2h", LKS_OK, 7200000, NULL},
        {"timeout", "1d", LKS_OK, 86400000, NULL},
        {"timeout", "2d", LKS_ECONFIG, 0, NULL},
        {"timeout", "5 weeks", LKS_ECONFIG, 0, NULL},
        {"buffer", "4096", LKS_OK, 4096, NULL},
        {"buffer", "64KiB", LKS_OK, 65536, NULL},
        {"buffer", "64k", LKS_OK, 65536, NULL},
        {"buffer", "128MB", LKS_OK, 128 << 20, NULL},
        {"buffer", "2GiB", LKS_OK, (int64_t)2 << 30, NULL},
        {"buffer", "1t", LKS_OK, (int64_t)1 << 40, NULL},
        {"buffer", "2TiB", LKS_ECONFIG, 0, NULL},
        {"buffer", "1023", LKS_ECONFIG, 0, NULL},
        {"buffer", "9223372036854775807KiB", LKS_ECONFIG, 0, NULL},
        {"buffer", "12 parsecs", LKS_ECONFIG, 0, NULL},
        {"name", "  spaced value  ", LKS_OK, 0, "  spaced value  "},
        {"name", "", LKS_OK, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_config *cfg = mk();
        REQUIRE(cfg);
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_config_set(cfg, cases[i].name, cases[i].value, "test", &err);
        if (rc != cases[i].rc) {
            FAILF("%s=%s returned %d (%s), want %d", cases[i].name, cases[i].value, rc, err.msg, cases[i].rc);
        } else if (rc == LKS_OK) {
            const lks_conf_prop *p = lks_config_find(cfg, cases[i].name);
            int64_t got = p->type == LKS_CONF_BOOL   ? lks_config_get_bool(cfg, cases[i].name)
                          : p->type == LKS_CONF_ENUM ? lks_config_get_enum(cfg, cases[i].name)
                          : p->type == LKS_CONF_STR  ? 0
                                                     : lks_config_get_int(cfg, cases[i].name);
            if (got != cases[i].want)
                FAILF("%s=%s gives %lld, want %lld", cases[i].name, cases[i].value, (long long)got,
                      (long long)cases[i].want);
            if (cases[i].text)
                CHECK_EQ_STR(lks_config_get_str(cfg, cases[i].name), cases[i].text);
            CHECK_EQ_INT(lks_config_is_set(cfg, cases[i].name), 1);
            CHECK_EQ_STR(lks_config_origin(cfg, cases[i].name), "test");
        } else {
            /* errors name origin and property; the value is unchanged */
            CHECK(strstr(err.msg, "test: property '") == err.msg);
            CHECK_EQ_INT(lks_config_is_set(cfg, cases[i].name), 0);
        }
        lks_config_free(cfg);
    }
}

static void t_unknown_suggests(void) {
    lks_config *cfg = mk();
    REQUIRE(cfg);
    lks_err err;
    CHECK_EQ_INT(lks_config_set(cfg, "codek", "zstd", "app.properties:3", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "app.properties:3: unknown property 'codek'") == err.msg);
    CHECK(strstr(err.msg, "did you mean 'codec'?") != NULL);
    CHECK_EQ_INT(lks_config_set(cfg, "DB.PASSWORD", "x", NULL, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "did you mean 'db.password'?") != NULL);
    CHECK_EQ_INT(lks_config_set(cfg, "completely.different", "x", NULL, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "did you mean") == NULL);
    CHECK_EQ_INT(lks_config_set_kv(cfg, "novalue", "-o", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "key=value") != NULL);
    CHECK_OK(lks_config_set_kv(cfg, " codec = gzip", "-o", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "codec"), "gzip");
    CHECK_OK(lks_config_set_kv(cfg, "name=a=b", "-o", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "name"), "a=b");
    lks_config_free(cfg);
}

static void t_secrets_never_printed(void) {
    lks_config *cfg = mk();
    REQUIRE(cfg);
    lks_err err;
    CHECK_OK(lks_config_set(cfg, "db.password", "hunter2-secret", "f:1", &err), &err);
    CHECK_OK(lks_config_set(cfg, "api.token", "tok-zzz", "f:2", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "db.password"), "hunter2-secret");
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_config_dump(cfg, &b), (lks_err *)NULL);
    CHECK_OK(lks_config_describe(test_tables, &b), (lks_err *)NULL);
    CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
    CHECK(strstr((char *)b.ptr, "hunter2") == NULL);
    CHECK(strstr((char *)b.ptr, "tok-") == NULL);
    CHECK(strstr((char *)b.ptr, "db.password=********") != NULL);
    CHECK(strstr((char *)b.ptr, "api.token=********") != NULL);
    lks_buf_free(&b);
    /* a rejected secret value is not echoed in the error */
    static const lks_conf_prop sp[] = {{"pin", LKS_CONF_INT, NULL, NULL, 0, 9999, LKS_CONF_SECRET, "A PIN."},
                                       {NULL, 0, NULL, NULL, 0, 0, 0, NULL}};
    const lks_conf_prop *const st[] = {sp, NULL};
    lks_config *c2;
    CHECK_OK(lks_config_new(st, &c2, &err), &err);
    REQUIRE(c2);
    CHECK_EQ_INT(lks_config_set(c2, "pin", "123456789", "-o", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "123456789") == NULL);
    CHECK(strstr(err.msg, "'pin'") != NULL);
    lks_config_free(c2);
    lks_config_free(cfg);
}

static void t_properties_syntax(void) {
    static const char text[] = "# a comment\n"
                               "   ! another comment\n"
                               "\n"
                               "name = Ada Lovelace\n"
                               "count:7\r\n"
                               "flag true\n"
                               "codec=\\\n"
                               "     zstd\n"
                               "timeout   =   2m\r"
                               "api.token=a\\tb\\nc\\\\d\\u00e9\\uD83D\\uDE00\\q\n"
                               "must=# not a comment\n"
                               "db.password=x\\\\\n"
                               "  buffer = 2MiB";
    lks_config *cfg = mk();
    REQUIRE(cfg);
    lks_err err;
    CHECK_OK(lks_config_load_text(cfg, text, sizeof text - 1, "t.properties", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "name"), "Ada Lovelace");
    CHECK_EQ_INT(lks_config_get_int(cfg, "count"), 7);
    CHECK_EQ_INT(lks_config_get_bool(cfg, "flag"), 1);
    CHECK_EQ_STR(lks_config_get_str(cfg, "codec"), "zstd");
    CHECK_EQ_STR(lks_config_origin(cfg, "codec"), "t.properties:7");
    CHECK_EQ_INT(lks_config_get_int(cfg, "timeout"), 120000);
    CHECK_EQ_STR(lks_config_origin(cfg, "timeout"), "t.properties:9");
    CHECK_EQ_STR(lks_config_get_str(cfg, "api.token"), "a\tb\nc\\d\xc3\xa9\xf0\x9f\x98\x80q");
    CHECK_EQ_STR(lks_config_get_str(cfg, "must"), "# not a comment");
    CHECK_EQ_STR(lks_config_get_str(cfg, "db.password"), "x\\");
    CHECK_EQ_INT(lks_config_get_int(cfg, "buffer"), 2 << 20);
    CHECK_EQ_STR(lks_config_origin(cfg, "buffer"), "t.properties:13");
    lks_config_free(cfg);

    /* escaped separators in keys, a key with no value */
    static const lks_conf_prop kp[] = {{"a=b c", LKS_CONF_STR, NULL, NULL, 0, 0, 0, ""},
                                       {"empty", LKS_CONF_STR, "x", NULL, 0, 0, 0, ""},
                                       {NULL, 0, NULL, NULL, 0, 0, 0, NULL}};
    const lks_conf_prop *const kt[] = {kp, NULL};
    CHECK_OK(lks_config_new(kt, &cfg, &err), &err);
    REQUIRE(cfg);
    static const char t2[] = "a\\=b\\ c = v1\nempty\n";
    CHECK_OK(lks_config_load_text(cfg, t2, sizeof t2 - 1, "k", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "a=b c"), "v1");
    CHECK_EQ_STR(lks_config_get_str(cfg, "empty"), "");
    /* the dump loads back to the same values */
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_config_dump(cfg, &b), (lks_err *)NULL);
    lks_config *again;
    CHECK_OK(lks_config_new(kt, &again, &err), &err);
    REQUIRE(again);
    CHECK_OK(lks_config_load_text(again, (char *)b.ptr, b.len, "dump", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(again, "a=b c"), "v1");
    lks_config_free(again);
    lks_buf_free(&b);
    lks_config_free(cfg);
}

static void t_dump_roundtrip(void) {
    lks_config *cfg = mk();
    REQUIRE(cfg);
    lks_err err;
    CHECK_OK(lks_config_set(cfg, "name", " lead\\ing\n#x = y", NULL, &err), &err);
    CHECK_OK(lks_config_set(cfg, "codec", "gzip", NULL, &err), &err);
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_config_dump(cfg, &b), (lks_err *)NULL);
    CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
    CHECK(strstr((char *)b.ptr, "codec=gzip\n") != NULL);
    CHECK(strstr((char *)b.ptr, "#count=10\n") != NULL); /* defaults commented out */
    lks_config *again = mk();
    REQUIRE(again);
    CHECK_OK(lks_config_load_text(again, (char *)b.ptr, b.len, "dump", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(again, "name"), " lead\\ing\n#x = y");
    CHECK_EQ_STR(lks_config_get_str(again, "codec"), "gzip");
    CHECK_EQ_INT(lks_config_is_set(again, "count"), 0);
    lks_config_free(again);
    lks_buf_free(&b);
    lks_config_free(cfg);
}

static void t_load_errors(void) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"name=a\ncount=lots\n", "f.properties:2: property 'count': invalid value 'lots'"},
        {"\n\ncodek=zstd\n", "f.properties:3: unknown property 'codek' (did you mean 'codec'?)"},
        {"name=\\u12\n", "f.properties:1: malformed \\uXXXX escape"},
        {"name=\\uD800x\n", "f.properties:1: unpaired surrogate"},
        {"name=\\u0000\n", "f.properties:1: NUL character"},
        {"=value\n", "f.properties:1: missing property name"},
        {"name=a\\\n  b\ncount=\\\n 1\\\n 000\n", "f.properties:3: property 'count': invalid value '1000'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_config *cfg = mk();
        REQUIRE(cfg);
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_config_load_text(cfg, cases[i].text, strlen(cases[i].text), "f.properties", &err);
        if (rc != LKS_ECONFIG || strstr(err.msg, cases[i].want) != err.msg)
            FAILF("case %zu: rc %d msg '%s', want '%s'", i, rc, err.msg, cases[i].want);
        lks_config_free(cfg);
    }
}

static void t_load_file(void) {
    char path[] = "/tmp/lks_test_config_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char *text = "codec = gzip\ncount = 3\n";
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    lks_config *cfg = mk();
    REQUIRE(cfg);
    lks_err err;
    CHECK_OK(lks_config_load_file(cfg, path, &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "codec"), "gzip");
    char want[64];
    snprintf(want, sizeof want, "%s:2", path);
    CHECK_EQ_STR(lks_config_origin(cfg, "count"), want);
    unlink(path);
    CHECK_EQ_INT(lks_config_load_file(cfg, path, &err), LKS_EIO);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "No such file") != NULL);
    lks_config_free(cfg);
}

static void t_describe(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_config_describe(test_tables, &b), (lks_err *)NULL);
    CHECK_OK(lks_buf_cstr(&b), (lks_err *)NULL);
    const char *s = (const char *)b.ptr;
    CHECK(strstr(s, "codec  (enum, default: snappy)\n    A codec. Values: snappy|zstd|gzip|none.\n") != NULL);
    CHECK(strstr(s, "buffer  (size, default: 1MiB)\n    A buffer. Range: 1KiB .. 1TiB.\n") != NULL);
    CHECK(strstr(s, "timeout  (duration, default: 30s)\n    A timeout. Range: 0 .. 1d.\n") != NULL);
    CHECK(strstr(s, "must  (string, required)\n") != NULL);
    CHECK(strstr(s, "api.token  (string, default: (secret))") != NULL);
    /* the order is the table's */
    CHECK(strstr(s, "name") < strstr(s, "count") && strstr(s, "count") < strstr(s, "must"));
    lks_buf_free(&b);
    lks_buf_init(&b, 64);
    CHECK_EQ_INT(lks_config_describe(test_tables, &b), LKS_ELIMIT);
    CHECK(b.ptr == NULL);
}

/* A LKS_CONF_PREFIX family: any name under the prefix is kept, in order,
 * the last value winning; the prefix alone, and names outside it, are not
 * properties; table entries under the prefix stay typed; secrets by name
 * are masked in dumps. */
static int collect(void *ud, const char *name, const char *value) {
    lks_buf *b = ud;
    return lks_buf_printf(b, "%s=%s;", name, value);
}

static void t_prefix_family(void) {
    static const lks_conf_prop props[] = {
        {"kafka.bootstrap.servers", LKS_CONF_STR, NULL, NULL, 0, 0, 0, "Brokers."},
        {"kafka.", LKS_CONF_STR, NULL, NULL, 0, 0, LKS_CONF_PREFIX, "librdkafka pass-through."},
        {"kafkaesque", LKS_CONF_INT, "1", NULL, 0, 10, 0, "Not in the family."},
        {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
    };
    const lks_conf_prop *const tables[] = {props, NULL};
    lks_config *cfg;
    lks_err err;
    CHECK_OK(lks_config_new(tables, &cfg, &err), &err);
    REQUIRE(cfg);
    const char *text = "kafka.security.protocol=SASL_SSL\n"
                       "kafka.sasl.password=s3cret\n"
                       "kafka.bootstrap.servers=b1:9092\n"
                       "kafka.security.protocol=SSL\n";
    CHECK_OK(lks_config_load_text(cfg, text, strlen(text), "t.properties", &err), &err);
    CHECK_EQ_STR(lks_config_get_str(cfg, "kafka.bootstrap.servers"), "b1:9092");
    CHECK(lks_config_get_str(cfg, "kafka.security.protocol") == NULL); /* not a table property */
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_config_each(cfg, "kafka.", collect, &b), NULL);
    CHECK_OK(lks_buf_cstr(&b), NULL);
    CHECK_EQ_STR((const char *)b.ptr, "kafka.security.protocol=SSL;kafka.sasl.password=s3cret;");
    CHECK_EQ_INT(lks_config_set(cfg, "kafka.", "x", "-o", &err), LKS_ECONFIG);
    CHECK_EQ_INT(lks_config_set(cfg, "kafkax.y", "x", "-o", &err), LKS_ECONFIG);
    CHECK_EQ_INT(lks_config_set(cfg, "kafkaesque", "11", "-o", &err), LKS_ECONFIG);
    lks_buf_reset(&b);
    CHECK_OK(lks_config_dump(cfg, &b), NULL);
    CHECK_OK(lks_buf_cstr(&b), NULL);
    CHECK(strstr((const char *)b.ptr, "kafka.security.protocol=SSL\n") != NULL);
    CHECK(strstr((const char *)b.ptr, "kafka.sasl.password=********\n") != NULL);
    CHECK(strstr((const char *)b.ptr, "s3cret") == NULL);
    lks_buf_reset(&b);
    CHECK_OK(lks_config_describe(tables, &b), NULL);
    CHECK_OK(lks_buf_cstr(&b), NULL);
    CHECK(strstr((const char *)b.ptr, "kafka.*  (string)") != NULL);
    lks_buf_free(&b);
    lks_config_free(cfg);
}

int main(void) {
    RUN(t_defaults);
    RUN(t_builtin_tables);
    RUN(t_bad_tables);
    RUN(t_value_types);
    RUN(t_unknown_suggests);
    RUN(t_secrets_never_printed);
    RUN(t_properties_syntax);
    RUN(t_dump_roundtrip);
    RUN(t_load_errors);
    RUN(t_load_file);
    RUN(t_describe);
    RUN(t_prefix_family);
    return lks_test_done();
}
