/* test_gtid.c — source/gtid.c: MariaDB GTID positions in text (parse and
 * format round trips, hostile text), and the order between positions that
 * the GTID resume of `lakesync run` relies on (covers, per-domain maximum
 * and minimum). */
#include "core/core.h"
#include "harness.h"
#include "source/source.h"

static void fmt(const lks_gtid_pos *g, char *out, size_t cap) {
    if (lks_gtid_pos_format(g, out, cap)) snprintf(out, cap, "(too long)");
}

static void t_parse_format(void) {
    lks_gtid_pos g;
    lks_err err;
    char out[512];
    CHECK_OK(lks_gtid_pos_parse("0-1-100", &g, &err), &err);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(lks_gtid_pos_seq(&g, 0), 100);
    CHECK_EQ_INT(lks_gtid_pos_seq(&g, 1), -1);
    /* sorted by domain, spaces and a line break after commas as servers print them */
    CHECK_OK(lks_gtid_pos_parse("9-2-3, 0-1-10,\n4294967295-4294967295-9223372036854775807", &g, &err), &err);
    CHECK_EQ_INT(g.n, 3);
    fmt(&g, out, sizeof out);
    CHECK_EQ_STR(out, "0-1-10,9-2-3,4294967295-4294967295-9223372036854775807");
    lks_gtid_pos back;
    CHECK_OK(lks_gtid_pos_parse(out, &back, &err), &err);
    CHECK(lks_gtid_pos_equal(&g, &back));
    /* the empty position */
    CHECK_OK(lks_gtid_pos_parse("", &g, &err), &err);
    CHECK_EQ_INT(g.n, 0);
    fmt(&g, out, sizeof out);
    CHECK_EQ_STR(out, "");
    /* a buffer too small is an error, not a cut position */
    CHECK_OK(lks_gtid_pos_parse("0-1-100,1-1-100", &g, &err), &err);
    CHECK_EQ_INT(lks_gtid_pos_format(&g, out, 10), LKS_ELIMIT);
}

static void t_hostile(void) {
    static const char *bad[] = {
        "0-1",          "0-1-",        "-1-2",           "0--2",          "0-1-2,",     "0-1-2,,1-1-1",
        "a-1-2",        "0-1-2x",      "0-1-2;DROP",     "4294967296-1-1", "0-4294967296-1",
        "0-1-9223372036854775808",     "0-1-99999999999999999999", "0-1-2,0-3-4", "0-1-2 1-1-1", "0 -1-2",
        "0-1-+2",       "0x1-1-1",     "'0-1-1'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lks_gtid_pos g;
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_gtid_pos_parse(bad[i], &g, &err);
        if (rc != LKS_EINVAL) FAILF("'%s': status %d, want LKS_EINVAL", bad[i], rc);
        if (!strstr(err.msg, "GTID position")) FAILF("'%s': message '%s' does not say what it read", bad[i], err.msg);
    }
    /* more domains than fit */
    lks_buf b;
    lks_buf_init(&b, 0);
    for (int d = 0; d <= LKS_GTID_DOMAINS_MAX; d++) lks_buf_printf(&b, "%s%d-1-1", d ? "," : "", d);
    lks_buf_append_byte(&b, 0);
    lks_gtid_pos g;
    lks_err err;
    CHECK_EQ_INT(lks_gtid_pos_parse((const char *)b.ptr, &g, &err), LKS_ELIMIT);
    lks_buf_free(&b);
    /* random bytes: an answer or a clean error, never a crash */
    uint64_t x = 0x9e3779b97f4a7c15u;
    char s[40];
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(i % 39);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            static const char alpha[] = "0123456789--,, x";
            s[k] = alpha[x % (sizeof alpha - 1)];
        }
        s[n] = 0;
        int rc = lks_gtid_pos_parse(s, &g, &err);
        if (rc != LKS_OK && rc != LKS_EINVAL && rc != LKS_ELIMIT) FAILF("'%s': status %d", s, rc);
        if (rc == LKS_OK) {
            char out[2048], out2[2048];
            fmt(&g, out, sizeof out);
            lks_gtid_pos g2;
            if (lks_gtid_pos_parse(out, &g2, &err) || !lks_gtid_pos_equal(&g, &g2)) FAILF("'%s' → '%s' does not read back", s, out);
            fmt(&g2, out2, sizeof out2);
            CHECK_EQ_STR(out, out2);
        }
    }
}

static lks_gtid_pos P(const char *s) {
    lks_gtid_pos g;
    lks_err err;
    if (lks_gtid_pos_parse(s, &g, &err)) memset(&g, 0, sizeof g);
    return g;
}

static void t_order(void) {
    lks_gtid_pos a = P("0-1-10,9-2-3"), b = P("0-2-12"), c = P("0-1-10");
    CHECK(lks_gtid_pos_covers(&a, &c));
    CHECK(!lks_gtid_pos_covers(&c, &a)); /* c lacks domain 9 */
    CHECK(!lks_gtid_pos_covers(&a, &b)); /* 10 < 12 in domain 0, whoever wrote them */
    CHECK(lks_gtid_pos_covers(&b, &c));
    lks_gtid_pos e = P("");
    CHECK(lks_gtid_pos_covers(&e, &e));
    CHECK(lks_gtid_pos_covers(&c, &e));
    CHECK(!lks_gtid_pos_covers(&e, &c));

    char out[256];
    lks_gtid_pos m = a;
    lks_gtid_pos_merge_max(&m, &b); /* domain 0 from b (server 2), domain 9 kept */
    fmt(&m, out, sizeof out);
    CHECK_EQ_STR(out, "0-2-12,9-2-3");
    m = b;
    lks_gtid_pos o = P("5-7-1");
    lks_gtid_pos_merge_max(&m, &o);
    fmt(&m, out, sizeof out);
    CHECK_EQ_STR(out, "0-2-12,5-7-1");

    lks_gtid_pos n = a;
    lks_gtid_pos_meet_min(&n, &b); /* domain 9 only in a: read from its start */
    fmt(&n, out, sizeof out);
    CHECK_EQ_STR(out, "0-1-10");
    n = P("0-3-40,1-1-5,2-2-2");
    o = P("2-2-1,0-1-50,1-1-5");
    lks_gtid_pos_meet_min(&n, &o);
    fmt(&n, out, sizeof out);
    CHECK_EQ_STR(out, "0-3-40,1-1-5,2-2-1");

    /* set moves a domain (any direction: the caller decides) and keeps order */
    lks_gtid_pos s = P("3-1-1");
    CHECK_EQ_INT(lks_gtid_pos_set(&s, 1, 4, 8), LKS_OK);
    CHECK_EQ_INT(lks_gtid_pos_set(&s, 3, 2, 0), LKS_OK);
    fmt(&s, out, sizeof out);
    CHECK_EQ_STR(out, "1-4-8,3-2-0");
}

int main(void) {
    RUN(t_parse_format);
    RUN(t_hostile);
    RUN(t_order);
    return lks_test_done();
}
