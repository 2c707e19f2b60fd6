/* test_source.c — the live MySQL/MariaDB source (source.h) against a private
 * MariaDB the test starts itself (scripts/mariadb.sh in a temporary
 * directory, on a free port, stopped and removed at the end): connecting
 * (TLS modes, a wrong password, a refused port), server facts and checks
 * (also with binlog_row_metadata switched to MINIMAL), filters, table
 * listing, schemas of every column type and of promoted keys, the snapshot
 * (every type with extreme values, keyset chunks over a composite key, a
 * table without key, a DOUBLE key, empty tables, the read view and its
 * position, a callback that stops), the binlog stream (row events and
 * their bytes, heartbeats, a purged file, a killed connection), and the
 * same rows read by the snapshot and decoded from the stream (binlog.h),
 * which must agree in schema and every value.  The filter and check tests
 * need no server; the others skip visibly without mariadbd. */
#include "harness.h"
#include "mariadb_harness.h"
#include "source/source.h"

#include <arpa/inet.h>
#include <mariadb/mysql.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the server ------------------------------------------------------------------------------ */

static lks_test_mdb srv;
static int up;
static MYSQL *adm; /* root over the socket: setup and server variables */

/* Starts the server and connects adm; leaves up 0 and srv.why set when it cannot. */
static void start_server(void) {
    if (lks_test_mdb_start(&srv, "test_source", 3320) != 0)
        return;
    adm = mysql_init(NULL);
    if (!mysql_real_connect(adm, NULL, "root", NULL, NULL, 0, srv.sock, 0)) {
        snprintf(srv.why, sizeof srv.why, "cannot connect as root: %s", mysql_error(adm));
        return;
    }
    mysql_set_character_set(adm, "utf8mb4");
    up = 1;
}

static void stop_server(void) {
    if (adm)
        mysql_close(adm);
    lks_test_mdb_stop(&srv);
}

/* Runs admin statements; reports the first failure. */
static int sql(const char *fmt, ...) {
    char q[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    if (mysql_query(adm, q)) {
        FAILF("admin SQL failed: %s: %s", q, mysql_error(adm));
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(adm);
    mysql_free_result(r);
    return 0;
}

/* One value from an admin query, into out (empty on failure). */
static void sql_value(char *out, size_t cap, const char *q) {
    out[0] = 0;
    if (mysql_query(adm, q)) {
        FAILF("admin SQL failed: %s: %s", q, mysql_error(adm));
        return;
    }
    MYSQL_RES *r = mysql_store_result(adm);
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    if (row && row[mysql_num_fields(r) - 1])
        snprintf(out, cap, "%s", row[mysql_num_fields(r) - 1]);
    mysql_free_result(r);
}

static long long com_select(void) {
    char v[64];
    sql_value(v, sizeof v, "SHOW GLOBAL STATUS LIKE 'Com_select'");
    return atoll(v);
}

static lks_src_conf conf(void) {
    lks_src_conf c;
    memset(&c, 0, sizeof c);
    c.host = "127.0.0.1";
    c.port = srv.port;
    c.user = "lakesync";
    c.password = "lakesync";
    c.ssl_mode = "disabled";
    return c;
}

static lks_src_conn *connect_ok(void) {
    lks_src_conf c = conf();
    lks_src_conn *conn = NULL;
    lks_err err;
    CHECK_OK(lks_src_connect(&c, &conn, &err), &err);
    return conn;
}

#define NEED_SERVER()                                                                                                  \
    do {                                                                                                               \
        if (!up)                                                                                                       \
            SKIP("%s", srv.why);                                                                                       \
    } while (0)

/* ---- collected snapshot rows ------------------------------------------------------------------ */

typedef struct got {
    int op, has_before, has_after, snapshot, nkey;
    int64_t row, pos, server_id, ts_ms, src_ts_ms;
    const char *file, *connector, *name, *db, *table;
    lks_cdc_value *v;
    int n;
} got;

typedef struct collect {
    lks_arena a;
    got rows[64];
    int n;       /* rows seen (only the first 64 kept) */
    int stop_at; /* return 7 when this many rows were seen (0: never) */
} collect;

static int collect_cb(void *ud, const lks_cdc_event *ev, lks_err *err) {
    (void)err;
    collect *c = ud;
    if (c->n < 64) {
        got *g = &c->rows[c->n];
        g->op = ev->op;
        g->has_before = ev->has_before;
        g->has_after = ev->has_after;
        g->snapshot = ev->source.snapshot;
        g->nkey = ev->nkey;
        g->row = ev->source.row;
        g->pos = ev->source.pos;
        g->server_id = ev->source.server_id;
        g->ts_ms = ev->ts_ms;
        g->src_ts_ms = ev->source.ts_ms;
        g->file = ev->source.file ? lks_arena_strdup(&c->a, ev->source.file) : NULL;
        g->connector = lks_arena_strdup(&c->a, ev->source.connector);
        g->name = lks_arena_strdup(&c->a, ev->source.name);
        g->db = lks_arena_strdup(&c->a, ev->source.db);
        g->table = lks_arena_strdup(&c->a, ev->source.table);
        g->n = ev->after.n;
        g->v = lks_arena_memdup(&c->a, ev->after.v, (size_t)ev->after.n * sizeof *g->v);
        for (int i = 0; i < g->n; i++) {
            lks_cdc_value *v = &g->v[i];
            if (v->kind == LKS_CV_BYTES)
                v->u.bytes.ptr = lks_arena_memdup(&c->a, v->u.bytes.ptr, v->u.bytes.len);
            else if (v->kind == LKS_CV_DECIMAL)
                v->u.dec.be = lks_arena_memdup(&c->a, v->u.dec.be, v->u.dec.len);
        }
    }
    c->n++;
    return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static void collect_init(collect *c) {
    memset(c, 0, sizeof *c);
    lks_arena_init(&c->a, 0);
}

/* Reads a whole table (schema, key, snapshot) into c. */
static int read_table(lks_src_conn *conn, const char *db, const char *table, int64_t chunk, collect *c, lks_arena *a,
                      lks_cdc_schema *s, lks_err *err) {
    int *key, nkey;
    int rc = lks_src_table_schema(conn, db, table, a, s, &key, &nkey, NULL, err);
    if (rc)
        return rc;
    lks_src_snapshot_opts o;
    memset(&o, 0, sizeof o);
    o.topic_prefix = "salesdb-cdc";
    o.file = "binlog.000001";
    o.pos = 1234;
    o.chunk_rows = chunk;
    return lks_src_snapshot_table(conn, db, table, s, key, nkey, &o, collect_cb, c, err);
}

static const lks_cdc_value *val(const collect *c, const lks_cdc_schema *s, int row, const char *col) {
    int i = lks_cdc_schema_find(s, col);
    if (i < 0 || row >= c->n || row >= 64)
        return NULL;
    return &c->rows[row].v[i];
}

#define CHECK_VINT(c, s, r, col, x)                                                                                    \
    do {                                                                                                               \
        const lks_cdc_value *v_ = val(c, s, r, col);                                                                   \
        if (!v_ || v_->kind != LKS_CV_INT || v_->u.i64 != (int64_t)(x))                                                \
            FAILF("row %d %s: want int %lld, got kind %d value %lld", r, col, (long long)(x), v_ ? v_->kind : -1,      \
                  v_ ? (long long)v_->u.i64 : 0LL);                                                                    \
    } while (0)

#define CHECK_VNULL(c, s, r, col)                                                                                      \
    do {                                                                                                               \
        const lks_cdc_value *v_ = val(c, s, r, col);                                                                   \
        if (!v_ || v_->kind != LKS_CV_NULL)                                                                            \
            FAILF("row %d %s: want NULL, got kind %d", r, col, v_ ? v_->kind : -1);                                    \
    } while (0)

#define CHECK_VBYTES(c, s, r, col, p, n)                                                                               \
    do {                                                                                                               \
        const lks_cdc_value *v_ = val(c, s, r, col);                                                                   \
        if (!v_ || v_->kind != LKS_CV_BYTES || v_->u.bytes.len != (size_t)(n) ||                                       \
            memcmp(v_->u.bytes.ptr, p, (size_t)(n)) != 0)                                                              \
            FAILF("row %d %s: bytes differ (kind %d, %zu bytes)", r, col, v_ ? v_->kind : -1,                          \
                  v_ && v_->kind == LKS_CV_BYTES ? v_->u.bytes.len : 0);                                               \
    } while (0)

#define CHECK_VSTR(c, s, r, col, str) CHECK_VBYTES(c, s, r, col, str, strlen(str))

static void check_vdec(const collect *c, const lks_cdc_schema *s, int r, const char *col, const char *want) {
    const lks_cdc_value *v = val(c, s, r, col);
    if (!v || v->kind != LKS_CV_DECIMAL) {
        FAILF("row %d %s: want decimal %s, got kind %d", r, col, want, v ? v->kind : -1);
        return;
    }
    lks_buf b;
    lks_buf_init(&b, 1 << 10);
    lks_fmt_decimal_be(&b, v->u.dec.be, v->u.dec.len, v->u.dec.scale);
    lks_buf_cstr(&b);
    if (strcmp((const char *)b.ptr, want))
        FAILF("row %d %s: want decimal %s, got %s", r, col, want, (const char *)b.ptr);
    /* minimal two's complement: no redundant leading byte */
    if (v->u.dec.len > 1 &&
        ((v->u.dec.be[0] == 0 && !(v->u.dec.be[1] & 0x80)) || (v->u.dec.be[0] == 0xFF && (v->u.dec.be[1] & 0x80))))
        FAILF("row %d %s: decimal not minimal", r, col);
    lks_buf_free(&b);
}

static int64_t us_of(int64_t y, unsigned m, unsigned d, int64_t hh, int64_t mi, int64_t ss, int64_t frac) {
    return lks_days_from_civil(y, m, d) * 86400LL * 1000000 + ((hh * 60 + mi) * 60 + ss) * 1000000 + frac;
}

/* ---- tests without a server -------------------------------------------------------------------- */

static void t_filters(void) {
    lks_src_filter *f = NULL;
    lks_err err;
    CHECK_OK(lks_src_filter_new(NULL, NULL, NULL, NULL, &f, &err), &err);
    CHECK(lks_src_filter_match(f, "shop", "orders"));
    CHECK(lks_src_filter_match(f, "shop", NULL));
    CHECK(!lks_src_filter_match(f, "mysql", "user"));
    CHECK(!lks_src_filter_match(f, "INFORMATION_SCHEMA", "TABLES"));
    CHECK(!lks_src_filter_match(f, "performance_schema", "threads"));
    CHECK(!lks_src_filter_match(f, "sys", "x"));
    lks_src_filter_free(f);
    CHECK(lks_src_filter_match(NULL, "shop", "orders"));
    CHECK(!lks_src_filter_match(NULL, "mysql", "db"));

    /* anchored, case-insensitive, spaces trimmed */
    CHECK_OK(lks_src_filter_new(" sales.* , hr ", NULL, NULL, NULL, &f, &err), &err);
    CHECK(lks_src_filter_match(f, "salesdb", "x"));
    CHECK(lks_src_filter_match(f, "SALESDB", "x"));
    CHECK(lks_src_filter_match(f, "hr", "x"));
    CHECK(!lks_src_filter_match(f, "hrx", "x"));
    CHECK(!lks_src_filter_match(f, "xsales", "x"));
    CHECK(!lks_src_filter_match(f, "mysql", NULL));
    lks_src_filter_free(f);

    CHECK_OK(lks_src_filter_new(NULL, "test,tmp_.*", NULL, NULL, &f, &err), &err);
    CHECK(!lks_src_filter_match(f, "test", "a"));
    CHECK(!lks_src_filter_match(f, "tmp_1", NULL));
    CHECK(lks_src_filter_match(f, "testing", "a"));
    lks_src_filter_free(f);

    CHECK_OK(lks_src_filter_new(NULL, NULL, "salesdb\\.customer,salesdb\\.order_.*", NULL, &f, &err), &err);
    CHECK(lks_src_filter_match(f, "salesdb", "CUSTOMER"));
    CHECK(lks_src_filter_match(f, "salesdb", "order_2024"));
    CHECK(!lks_src_filter_match(f, "salesdb", "orders"));
    CHECK(!lks_src_filter_match(f, "salesdb", "customers"));
    CHECK(!lks_src_filter_match(f, "other", "customer"));
    CHECK(lks_src_filter_match(f, "salesdb", NULL)); /* database level alone */
    lks_src_filter_free(f);

    /* a backslash-escaped comma stays inside the expression */
    CHECK_OK(lks_src_filter_new(NULL, NULL, NULL, "db\\.t{1\\,2}", &f, &err), &err);
    CHECK(!lks_src_filter_match(f, "db", "t"));
    CHECK(!lks_src_filter_match(f, "db", "tt"));
    CHECK(lks_src_filter_match(f, "db", "ttt"));
    lks_src_filter_free(f);

    /* db include with table exclude combine */
    CHECK_OK(lks_src_filter_new("shop", NULL, NULL, "shop\\.audit", &f, &err), &err);
    CHECK(lks_src_filter_match(f, "shop", "orders"));
    CHECK(!lks_src_filter_match(f, "shop", "audit"));
    CHECK(!lks_src_filter_match(f, "other", "orders"));
    lks_src_filter_free(f);

    f = NULL;
    CHECK_EQ_INT(lks_src_filter_new("a", "b", NULL, NULL, &f, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "database.include.list") && strstr(err.msg, "database.exclude.list"));
    CHECK(f == NULL);
    CHECK_EQ_INT(lks_src_filter_new(NULL, NULL, "a\\.b", "c\\.d", &f, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "table.include.list") && strstr(err.msg, "table.exclude.list"));
    CHECK_EQ_INT(lks_src_filter_new(NULL, NULL, "ok,(broken", NULL, &f, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "table.include.list") && strstr(err.msg, "(broken"));
    /* blank lists are no lists */
    CHECK_OK(lks_src_filter_new(" , ", "", NULL, NULL, &f, &err), &err);
    CHECK(lks_src_filter_match(f, "any", "t"));
    lks_src_filter_free(f);
}

static void t_check_messages(void) {
    lks_src_info i;
    memset(&i, 0, sizeof i);
    snprintf(i.version, sizeof i.version, "10.11.6-MariaDB");
    i.mariadb = 1;
    i.log_bin = 1;
    snprintf(i.binlog_format, sizeof i.binlog_format, "ROW");
    snprintf(i.row_image, sizeof i.row_image, "MINIMAL"); /* allowed */
    snprintf(i.row_metadata, sizeof i.row_metadata, "FULL");
    lks_err err;
    CHECK_OK(lks_src_check(&i, "db1:3306", &err), &err);

    i.log_bin = 0;
    CHECK_EQ_INT(lks_src_check(&i, "db1:3306", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "db1:3306") && strstr(err.msg, "log_bin") && strstr(err.msg, "[mariadbd]"));
    i.log_bin = 1;

    snprintf(i.binlog_format, sizeof i.binlog_format, "MIXED");
    CHECK_EQ_INT(lks_src_check(&i, "db1:3306", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "binlog_format is MIXED") && strstr(err.msg, "SET GLOBAL binlog_format=ROW") &&
          strstr(err.msg, "binlog_format=ROW under [mariadbd]"));
    snprintf(i.binlog_format, sizeof i.binlog_format, "ROW");

    /* without full metadata columns come from information_schema: allowed */
    snprintf(i.row_metadata, sizeof i.row_metadata, "MINIMAL");
    CHECK_OK(lks_src_check(&i, "db1:3306", &err), &err);
    CHECK(!lks_src_full_metadata(&i));
    snprintf(i.row_metadata, sizeof i.row_metadata, "full");
    CHECK(lks_src_full_metadata(&i));
    i.mariadb = 0;
    snprintf(i.binlog_format, sizeof i.binlog_format, "STATEMENT");
    CHECK_EQ_INT(lks_src_check(&i, "db1:3306", &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "[mysqld]") != NULL);
    snprintf(i.binlog_format, sizeof i.binlog_format, "ROW");

    i.row_metadata[0] = 0; /* a server without the variable */
    CHECK_OK(lks_src_check(&i, NULL, &err), &err);
    CHECK(!lks_src_full_metadata(&i));
}

/* ---- connection and server facts ------------------------------------------------------------ */

static void t_connect(void) {
    NEED_SERVER();
    lks_err err;
    char name[64];
    snprintf(name, sizeof name, "127.0.0.1:%d", srv.port);

    lks_src_conf c = conf();
    lks_src_conn *conn = NULL;
    CHECK_OK(lks_src_connect(&c, &conn, &err), &err);
    REQUIRE(conn);
    CHECK_EQ_STR(lks_src_name(conn), name);
    CHECK_OK(lks_src_exec(conn, "SELECT 1", &err), &err);
    CHECK_EQ_INT(lks_src_exec(conn, "SELECT * FROM no_such_db.no_such_table", &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, name) && strstr(err.msg, "1146"));
    lks_src_close(conn);

    /* preferred (the default): the server has no certificates, still connects */
    c.ssl_mode = NULL;
    conn = NULL;
    CHECK_OK(lks_src_connect(&c, &conn, &err), &err);
    lks_src_close(conn);
    c.ssl_mode = "PREFERRED";
    conn = NULL;
    CHECK_OK(lks_src_connect(&c, &conn, &err), &err);
    lks_src_close(conn);

    /* required / verify_identity: no TLS on this server, refused */
    c.ssl_mode = "required";
    conn = NULL;
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_ECONFIG);
    CHECK(conn == NULL && strstr(err.msg, "ssl.mode") && strstr(err.msg, name));
    c.ssl_mode = "verify_identity";
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_ECONFIG);
    c.ssl_mode = "sometimes";
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "sometimes") != NULL);

    /* a wrong password: refused, and the message never holds it */
    c = conf();
    c.password = "Wr0ng-Secret-Pw";
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_ECONFIG);
    CHECK(conn == NULL);
    CHECK(strstr(err.msg, "Wr0ng-Secret-Pw") == NULL);
    CHECK(strstr(err.msg, name) && strstr(err.msg, "lakesync") && strstr(err.msg, "1045"));

    /* over the socket */
    c = conf();
    c.socket = srv.sock;
    conn = NULL;
    CHECK_OK(lks_src_connect(&c, &conn, &err), &err);
    if (conn)
        CHECK_EQ_STR(lks_src_name(conn), srv.sock);
    lks_src_close(conn);

    /* nobody listening: an I/O error naming the address */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    c = conf();
    c.port = ntohs(sa.sin_port);
    c.connect_timeout_ms = 2000;
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_EIO);
    snprintf(name, sizeof name, "127.0.0.1:%d", c.port);
    CHECK(strstr(err.msg, name) != NULL);
    close(fd);

    c = conf();
    c.user = NULL;
    CHECK_EQ_INT(lks_src_connect(&c, &conn, &err), LKS_ECONFIG);
}

static void t_info_check(void) {
    NEED_SERVER();
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_src_info i;
    CHECK_OK(lks_src_info_get(conn, &i, &err), &err);
    CHECK(strstr(i.version, "MariaDB") != NULL);
    CHECK_EQ_INT(i.mariadb, 1);
    CHECK_EQ_INT(i.log_bin, 1);
    CHECK_EQ_STR(i.binlog_format, "ROW");
    CHECK_EQ_STR(i.row_image, "FULL");
    CHECK_EQ_STR(i.row_metadata, "FULL");
    CHECK_EQ_INT(i.checksum_crc32, 1);
    CHECK_EQ_STR(i.server_uuid, "");
    CHECK_EQ_INT(i.server_id, 1);
    CHECK_OK(lks_src_check(&i, lks_src_name(conn), &err), &err);

    /* switched to MINIMAL: accepted, not full (columns then come from
     * information_schema); then restored */
    if (sql("SET GLOBAL binlog_row_metadata = MINIMAL") == 0) {
        CHECK_OK(lks_src_info_get(conn, &i, &err), &err);
        CHECK_EQ_STR(i.row_metadata, "MINIMAL");
        CHECK_OK(lks_src_check(&i, lks_src_name(conn), &err), &err);
        CHECK(!lks_src_full_metadata(&i));
        sql("SET GLOBAL binlog_row_metadata = FULL");
        CHECK_OK(lks_src_info_get(conn, &i, &err), &err);
        CHECK_EQ_STR(i.row_metadata, "FULL");
    }
    if (sql("SET GLOBAL binlog_format = MIXED") == 0) {
        CHECK_OK(lks_src_info_get(conn, &i, &err), &err);
        CHECK_EQ_INT(lks_src_check(&i, lks_src_name(conn), &err), LKS_ECONFIG);
        CHECK(strstr(err.msg, "binlog_format is MIXED") != NULL);
        sql("SET GLOBAL binlog_format = ROW");
    }

    /* the binlog's end and files */
    char file[256];
    uint64_t pos = 0;
    CHECK_OK(lks_src_binlog_end(conn, file, sizeof file, &pos, &err), &err);
    CHECK(strncmp(file, "binlog.", 7) == 0);
    CHECK(pos > 4);
    char small[4];
    CHECK_EQ_INT(lks_src_binlog_end(conn, small, sizeof small, &pos, &err), LKS_ELIMIT);
    CHECK_EQ_INT(lks_src_binlog_exists(conn, file, &err), 1);
    CHECK_EQ_INT(lks_src_binlog_exists(conn, "binlog.999999", &err), 0);
    lks_src_close(conn);
}

/* ---- tables and schemas ---------------------------------------------------------------------- */

static void t_list_tables(void) {
    NEED_SERVER();
    sql("CREATE DATABASE lks_la");
    sql("CREATE DATABASE lks_lb");
    sql("CREATE DATABASE other_lc");
    sql("CREATE TABLE lks_la.t2 (id INT PRIMARY KEY)");
    sql("CREATE TABLE lks_la.T1 (id INT PRIMARY KEY)");
    sql("CREATE TABLE lks_la.t1 (id INT PRIMARY KEY)");
    sql("CREATE VIEW lks_la.v AS SELECT id FROM lks_la.t1");
    sql("CREATE TABLE lks_lb.x (id INT)");
    sql("CREATE TABLE other_lc.y (id INT)");
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_src_filter *f = NULL;
    CHECK_OK(lks_src_filter_new("lks_l.*", NULL, NULL, NULL, &f, &err), &err);
    const char **dbs, **tabs;
    int n = 0;
    CHECK_OK(lks_src_list_tables(conn, f, &a, &dbs, &tabs, &n, &err), &err);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_STR(dbs[0], "lks_la");
        CHECK_EQ_STR(tabs[0], "T1");
        CHECK_EQ_STR(tabs[1], "t1");
        CHECK_EQ_STR(tabs[2], "t2");
        CHECK_EQ_STR(dbs[3], "lks_lb");
        CHECK_EQ_STR(tabs[3], "x");
    }
    lks_src_filter_free(f);

    CHECK_OK(lks_src_filter_new("lks_l.*", NULL, NULL, "lks_la\\.t.*", &f, &err), &err);
    CHECK_OK(lks_src_list_tables(conn, f, &a, &dbs, &tabs, &n, &err), &err);
    CHECK_EQ_INT(n, 1); /* case-insensitive: T1 goes too */
    if (n == 1)
        CHECK_EQ_STR(tabs[0], "x");
    lks_src_filter_free(f);

    /* no filter: everything but the system schemas */
    CHECK_OK(lks_src_list_tables(conn, NULL, &a, &dbs, &tabs, &n, &err), &err);
    int saw_other = 0, saw_system = 0;
    for (int i = 0; i < n; i++) {
        saw_other |= !strcmp(dbs[i], "other_lc");
        saw_system |= !strcmp(dbs[i], "mysql") || !strcmp(dbs[i], "information_schema");
    }
    CHECK(saw_other && !saw_system);

    /* the exact-case table, and the row estimate */
    lks_cdc_schema s;
    int *key, nkey;
    CHECK_OK(lks_src_table_schema(conn, "lks_la", "T1", &a, &s, &key, &nkey, NULL, &err), &err);
    CHECK_EQ_INT(s.nfields, 1);
    CHECK_EQ_INT(lks_src_table_schema(conn, "lks_la", "t3", &a, &s, &key, &nkey, NULL, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "lks_la.t3") != NULL);
    CHECK(lks_src_table_rows_estimate(conn, "lks_la", "t1") >= 0);
    CHECK_EQ_INT(lks_src_table_rows_estimate(conn, "lks_la", "nope"), -1);
    lks_arena_free(&a);
    lks_src_close(conn);
}

static const char alltypes_ddl[] =
    "CREATE TABLE lks_t.alltypes ("
    " id INT PRIMARY KEY,"
    " ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,"
    " i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,"
    " f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec2 DECIMAL(65,30),"
    " dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(2) NULL, yr YEAR,"
    " c CHAR(5), vc VARCHAR(20), tx TEXT, bn BINARY(4), vb VARBINARY(10), bl BLOB,"
    " e ENUM('a','b,c','it''s','x\\\\y'), st SET('x','y','z'),"
    " b1 BIT(1), b9 BIT(9), j JSON, g GEOMETRY, pt POINT, lt TEXT CHARACTER SET latin1,"
    " u UUID, ip INET6, i4 INET4, d2 DATE NOT NULL DEFAULT '2000-01-01', n2 INT NOT NULL DEFAULT 0"
    ") CHARACTER SET utf8mb4";

static void t_schema_types(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    sql("%s", alltypes_ddl);
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;
    int *key, nkey;
    CHECK_OK(lks_src_table_schema(conn, "lks_t", "alltypes", &a, &s, &key, &nkey, NULL, &err), &err);
    CHECK_EQ_INT(s.nfields, 39);
    CHECK_EQ_INT(nkey, 1);
    if (nkey == 1)
        CHECK_EQ_INT(key[0], 0);
    static const struct {
        const char *name;
        int kind, precision, scale, optional, detail;
        const char *allowed;
    } want[] = {
        {"id", LKS_CT_INT32, 0, 0, 0, 0, NULL},
        {"ti", LKS_CT_INT8, 0, 0, 1, 0, NULL},
        {"tiu", LKS_CT_INT16, 0, 0, 1, 0, NULL},
        {"si", LKS_CT_INT16, 0, 0, 1, 0, NULL},
        {"siu", LKS_CT_INT32, 0, 0, 1, 0, NULL},
        {"mi", LKS_CT_INT32, 0, 0, 1, 0, NULL},
        {"miu", LKS_CT_INT32, 0, 0, 1, 0, NULL},
        {"i", LKS_CT_INT32, 0, 0, 1, 0, NULL},
        {"iu", LKS_CT_INT64, 0, 0, 1, 0, NULL},
        {"bi", LKS_CT_INT64, 0, 0, 1, 0, NULL},
        {"biu", LKS_CT_UINT64, 0, 0, 1, 0, NULL},
        {"f", LKS_CT_FLOAT, 0, 0, 1, 0, NULL},
        {"d", LKS_CT_DOUBLE, 0, 0, 1, 0, NULL},
        {"dec1", LKS_CT_DECIMAL, 10, 2, 1, 0, NULL},
        {"dec2", LKS_CT_DECIMAL, 65, 30, 1, 0, NULL},
        {"dt", LKS_CT_DATE, 0, 0, 1, 0, NULL},
        {"tm", LKS_CT_TIME, 3, 0, 1, 0, NULL},
        {"dtm", LKS_CT_DATETIME, 6, 0, 1, 0, NULL},
        {"ts", LKS_CT_TIMESTAMP, 2, 0, 1, 0, NULL},
        {"yr", LKS_CT_INT16, 0, 0, 1, LKS_CD_YEAR, NULL},
        {"c", LKS_CT_STRING, 0, 0, 1, 0, NULL},
        {"vc", LKS_CT_STRING, 0, 0, 1, 0, NULL},
        {"tx", LKS_CT_STRING, 0, 0, 1, 0, NULL},
        {"bn", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"vb", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"bl", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"e", LKS_CT_STRING, 0, 0, 1, LKS_CD_ENUM, "a,b,c,it's,x\\y"},
        {"st", LKS_CT_STRING, 0, 0, 1, LKS_CD_SET, "x,y,z"},
        {"b1", LKS_CT_BOOL, 0, 0, 1, 0, NULL},
        {"b9", LKS_CT_BYTES, 9, 0, 1, LKS_CD_BIT, NULL},
        {"j", LKS_CT_STRING, 0, 0, 1, 0, NULL}, /* MariaDB's JSON is LONGTEXT */
        {"g", LKS_CT_BYTES, 0, 0, 1, LKS_CD_GEOMETRY, NULL},
        {"pt", LKS_CT_BYTES, 0, 0, 1, LKS_CD_GEOMETRY, NULL},
        {"lt", LKS_CT_STRING, 0, 0, 1, 0, NULL},
        {"u", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"ip", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"i4", LKS_CT_BYTES, 0, 0, 1, 0, NULL},
        {"d2", LKS_CT_DATE, 0, 0, 1, 0, NULL}, /* NOT NULL, but a zero date reads as NULL */
        {"n2", LKS_CT_INT32, 0, 0, 0, 0, NULL},
    };
    for (size_t k = 0; k < sizeof want / sizeof *want && (int)k < s.nfields; k++) {
        const lks_cdc_field *fd = &s.fields[k];
        if (strcmp(fd->name, want[k].name) || fd->type.kind != want[k].kind ||
            fd->type.precision != want[k].precision || fd->type.scale != want[k].scale ||
            fd->type.optional != want[k].optional || fd->type.detail != want[k].detail ||
            (want[k].allowed ? !fd->allowed || strcmp(fd->allowed, want[k].allowed) : fd->allowed != NULL))
            FAILF("column %zu: got %s kind %d p %d s %d opt %d detail %d allowed %s; want %s kind %d p %d s %d opt %d "
                  "detail %d allowed %s",
                  k, fd->name, fd->type.kind, fd->type.precision, fd->type.scale, fd->type.optional, fd->type.detail,
                  fd->allowed ? fd->allowed : "-", want[k].name, want[k].kind, want[k].precision, want[k].scale,
                  want[k].optional, want[k].detail, want[k].allowed ? want[k].allowed : "-");
    }

    /* ENUM/SET members one by one (a member may hold a comma) */
    lks_src_members *mb;
    sql("CREATE TABLE lks_t.em (id INT PRIMARY KEY, k ENUM('a,b','c','it''s'), s SET('x','y'))");
    CHECK_OK(lks_src_table_schema(conn, "lks_t", "em", &a, &s, &key, &nkey, &mb, &err), &err);
    REQUIRE(mb && s.nfields == 3);
    CHECK_EQ_INT(mb[0].n, 0);
    CHECK_EQ_INT(mb[1].n, 3);
    CHECK_EQ_INT(mb[2].n, 2);
    if (mb[1].n == 3) {
        CHECK(mb[1].len[0] == 3 && !memcmp(mb[1].m[0], "a,b", 3));
        CHECK(mb[1].len[1] == 1 && !memcmp(mb[1].m[1], "c", 1));
        CHECK(mb[1].len[2] == 4 && !memcmp(mb[1].m[2], "it's", 4));
    }
    CHECK_EQ_STR(s.fields[1].allowed, "a,b,c,it's");
    /* keys: composite in index order; a promoted unique key; none */
    sql("CREATE TABLE lks_t.ck (a INT, b VARCHAR(10), c INT, PRIMARY KEY (b, a))");
    CHECK_OK(lks_src_table_schema(conn, "lks_t", "ck", &a, &s, &key, &nkey, NULL, &err), &err);
    CHECK_EQ_INT(nkey, 2);
    if (nkey == 2) {
        CHECK_EQ_INT(key[0], 1);
        CHECK_EQ_INT(key[1], 0);
    }
    sql("CREATE TABLE lks_t.uk (a INT, b INT NOT NULL, c INT NOT NULL, d VARCHAR(20) NOT NULL, UNIQUE KEY kn (a), "
        "UNIQUE KEY kp (d(5)), UNIQUE KEY zz (c, b), UNIQUE KEY aa (b), KEY k (a))");
    CHECK_OK(lks_src_table_schema(conn, "lks_t", "uk", &a, &s, &key, &nkey, NULL, &err), &err);
    CHECK_EQ_INT(nkey, 2); /* zz: the first unique key, all NOT NULL, no prefix */
    if (nkey == 2) {
        CHECK_EQ_INT(key[0], 2);
        CHECK_EQ_INT(key[1], 1);
    }
    sql("CREATE TABLE lks_t.nokey (a INT, b INT, KEY (a))");
    CHECK_OK(lks_src_table_schema(conn, "lks_t", "nokey", &a, &s, &key, &nkey, NULL, &err), &err);
    CHECK_EQ_INT(nkey, 0);
    CHECK_EQ_INT(s.nfields, 2);
    lks_arena_free(&a);
    lks_src_close(conn);
}

/* ENUM and SET numbers (as the binlog decoder gives them without FULL
 * metadata) become member texts; numbers past the members are refused. */
static void t_members_apply(void) {
    const char *km[] = {"a,b", "c", "it's"}, *sm[] = {"x", "y", "zz"};
    size_t kl[] = {3, 1, 4}, sl[] = {1, 1, 2};
    lks_src_members ke = {km, kl, 3}, se = {sm, sl, 3};
    lks_arena a;
    lks_arena_init(&a, 0);
    static const struct {
        int set;
        const char *in, *out; /* out NULL: refused */
    } cases[] = {
        {0, "0", ""},   {0, "1", "a,b"}, {0, "3", "it's"}, {0, "4", NULL},    {0, "", NULL},
        {0, "x", NULL}, {0, "-1", NULL}, {1, "0", ""},     {1, "5", "x,zz"},  {1, "7", "x,y,zz"},
        {1, "8", NULL}, {1, "2", "y"},   {1, "99999999999999999999", NULL},   {1, "18446744073709551615", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lks_cdc_value v = {.kind = LKS_CV_BYTES};
        v.u.bytes.ptr = (const uint8_t *)cases[i].in;
        v.u.bytes.len = strlen(cases[i].in);
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_src_members_apply(cases[i].set ? &se : &ke, cases[i].set, &v, &a, &err);
        if (cases[i].out ? rc != LKS_OK || v.u.bytes.len != strlen(cases[i].out) ||
                               memcmp(v.u.bytes.ptr, cases[i].out, v.u.bytes.len)
                         : rc != LKS_ECORRUPT || !err.msg[0])
            FAILF("case %zu (%s %s): rc %d, got %.*s (%s)", i, cases[i].set ? "SET" : "ENUM", cases[i].in, rc,
                  (int)v.u.bytes.len, (const char *)v.u.bytes.ptr, err.msg);
    }
    lks_cdc_value nul = {.kind = LKS_CV_NULL};
    lks_err err;
    CHECK_OK(lks_src_members_apply(&ke, 0, &nul, &a, &err), &err);
    CHECK_EQ_INT(nul.kind, LKS_CV_NULL);
    lks_arena_free(&a);
}

/* ---- snapshot -------------------------------------------------------------------------------- */

static void t_snapshot_types(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    char v[64];
    sql_value(v, sizeof v, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'alltypes'");
    if (strcmp(v, "1"))
        sql("%s", alltypes_ddl);
    /* TIMESTAMP text is written in +05:00 and must come back as UTC */
    sql("SET time_zone = '+05:00'");
    sql("INSERT INTO lks_t.alltypes (id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, f, d, dec1, dec2, dt, tm, dtm, "
        "ts, yr, c, vc, tx, bn, vb, bl, e, st, b1, b9, j, g, pt, lt, u, ip, i4) VALUES "
        "(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, "
        "18446744073709551615, -3.40282e38, 1.7976931348623157e308, -99999999.99, "
        "-99999999999999999999999999999999999.999999999999999999999999999999, '9999-12-31', '-838:59:59.000', "
        "'9999-12-31 23:59:59.999999', '2038-01-19 08:14:07.99', 2155, 'abc', 'é€😀', 't', X'01000000', X'00ff', "
        "X'de00adbeef', 'b,c', 'x,z', b'1', b'100000001', '{\"a\": [1, 2.5]}', ST_GeomFromText('POINT(1 2)'), "
        "ST_GeomFromText('POINT(3 4)', 4326), 'café', '123e4567-e89b-12d3-a456-426614174000', '::1', '1.2.3.4')");
    sql("INSERT INTO lks_t.alltypes (id, ti, bi, biu, f, d, dec1, dec2, dt, tm, dtm, ts, yr, c, vb, b1, b9, e, st, d2) "
        "VALUES (2, 127, 9223372036854775807, 0, 1.0000001, 4.9e-324, 0, 0.000000000000000000000000000001, "
        "'0000-00-00', '838:59:59', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '', '', b'0', b'0', NULL, '', "
        "'0000-00-00')");
    sql("INSERT INTO lks_t.alltypes (id, dec1, dt, tm, dtm, ts, f, d) VALUES (3, -0.01, '2020-00-15', "
        "'-00:00:00.500', '1000-01-01 00:00:00', '1970-01-01 05:00:01', -0.0, -1.5)");
    sql("SET time_zone = SYSTEM");

    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;
    collect c;
    collect_init(&c);
    CHECK_OK(read_table(conn, "lks_t", "alltypes", 0, &c, &a, &s, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    if (c.n == 3) {
        for (int r = 0; r < 3; r++) {
            got *g = &c.rows[r];
            CHECK_EQ_INT(g->op, 'r');
            CHECK(g->has_after && !g->has_before);
            CHECK_EQ_INT(g->row, r);
            CHECK_EQ_INT(g->snapshot, r == 2 ? LKS_SNAP_LAST : LKS_SNAP_TRUE);
            CHECK_EQ_STR(g->connector, "mysql");
            CHECK_EQ_STR(g->name, "salesdb-cdc");
            CHECK_EQ_STR(g->db, "lks_t");
            CHECK_EQ_STR(g->table, "alltypes");
            CHECK_EQ_STR(g->file, "binlog.000001");
            CHECK_EQ_INT(g->pos, 1234);
            CHECK_EQ_INT(g->server_id, 1);
            CHECK_EQ_INT(g->nkey, 1);
            CHECK(g->ts_ms > 1600000000000LL && g->src_ts_ms == g->ts_ms);
            CHECK_EQ_INT(g->n, 39);
        }
        /* row 0: extremes */
        CHECK_VINT(&c, &s, 0, "id", 1);
        CHECK_VINT(&c, &s, 0, "ti", -128);
        CHECK_VINT(&c, &s, 0, "tiu", 255);
        CHECK_VINT(&c, &s, 0, "si", -32768);
        CHECK_VINT(&c, &s, 0, "siu", 65535);
        CHECK_VINT(&c, &s, 0, "mi", -8388608);
        CHECK_VINT(&c, &s, 0, "miu", 16777215);
        CHECK_VINT(&c, &s, 0, "i", INT32_MIN);
        CHECK_VINT(&c, &s, 0, "iu", 4294967295LL);
        CHECK_VINT(&c, &s, 0, "bi", INT64_MIN);
        const lks_cdc_value *x = val(&c, &s, 0, "biu");
        CHECK(x && x->kind == LKS_CV_UINT && x->u.u64 == UINT64_MAX);
        x = val(&c, &s, 0, "f");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == (double)strtof("-3.40282e38", NULL));
        x = val(&c, &s, 0, "d");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == 1.7976931348623157e308);
        check_vdec(&c, &s, 0, "dec1", "-99999999.99");
        check_vdec(&c, &s, 0, "dec2", "-99999999999999999999999999999999999.999999999999999999999999999999");
        CHECK_VINT(&c, &s, 0, "dt", lks_days_from_civil(9999, 12, 31));
        CHECK_VINT(&c, &s, 0, "tm", -((838LL * 60 + 59) * 60 + 59) * 1000000);
        CHECK_VINT(&c, &s, 0, "dtm", us_of(9999, 12, 31, 23, 59, 59, 999999));
        CHECK_VINT(&c, &s, 0, "ts", 2147483647LL * 1000000 + 990000);
        CHECK_VINT(&c, &s, 0, "yr", 2155);
        CHECK_VSTR(&c, &s, 0, "c", "abc");
        CHECK_VSTR(&c, &s, 0, "vc", "é€😀");
        CHECK_VSTR(&c, &s, 0, "tx", "t");
        CHECK_VBYTES(&c, &s, 0, "bn", "\x01\x00\x00\x00", 4);
        CHECK_VBYTES(&c, &s, 0, "vb", "\x00\xff", 2);
        CHECK_VBYTES(&c, &s, 0, "bl", "\xde\x00\xad\xbe\xef", 5);
        CHECK_VSTR(&c, &s, 0, "e", "b,c");
        CHECK_VSTR(&c, &s, 0, "st", "x,z");
        x = val(&c, &s, 0, "b1");
        CHECK(x && x->kind == LKS_CV_BOOL && x->u.b == 1);
        CHECK_VBYTES(&c, &s, 0, "b9", "\x01\x01", 2);
        CHECK_VSTR(&c, &s, 0, "j", "{\"a\": [1, 2.5]}");
        CHECK_VBYTES(&c, &s, 0, "g",
                     "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40", 21);
        CHECK_VBYTES(&c, &s, 0, "pt",
                     "\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x40\x00\x00\x00\x00\x00\x00\x10\x40", 21);
        CHECK_VSTR(&c, &s, 0, "lt", "café");
        CHECK_VBYTES(&c, &s, 0, "u", "\x12\x3e\x45\x67\xe8\x9b\x12\xd3\xa4\x56\x42\x66\x14\x17\x40\x00", 16);
        CHECK_VBYTES(&c, &s, 0, "ip", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
        CHECK_VBYTES(&c, &s, 0, "i4", "\x01\x02\x03\x04", 4);
        CHECK_VINT(&c, &s, 0, "d2", lks_days_from_civil(2000, 1, 1));
        CHECK_VINT(&c, &s, 0, "n2", 0);

        /* row 1: zero dates, the other ends, a FLOAT whose text would lose digits */
        CHECK_VINT(&c, &s, 1, "ti", 127);
        CHECK_VINT(&c, &s, 1, "bi", INT64_MAX);
        x = val(&c, &s, 1, "biu");
        CHECK(x && x->kind == LKS_CV_UINT && x->u.u64 == 0);
        x = val(&c, &s, 1, "f");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == (double)1.0000001f);
        x = val(&c, &s, 1, "d");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == 4.9e-324);
        check_vdec(&c, &s, 1, "dec1", "0.00");
        check_vdec(&c, &s, 1, "dec2", "0.000000000000000000000000000001");
        CHECK_VNULL(&c, &s, 1, "dt");
        CHECK_VNULL(&c, &s, 1, "dtm");
        CHECK_VNULL(&c, &s, 1, "ts");
        CHECK_VNULL(&c, &s, 1, "d2");
        CHECK_VINT(&c, &s, 1, "tm", ((838LL * 60 + 59) * 60 + 59) * 1000000);
        CHECK_VINT(&c, &s, 1, "yr", 0);
        CHECK_VSTR(&c, &s, 1, "c", "");
        CHECK_VBYTES(&c, &s, 1, "vb", "", 0);
        x = val(&c, &s, 1, "b1");
        CHECK(x && x->kind == LKS_CV_BOOL && x->u.b == 0);
        CHECK_VBYTES(&c, &s, 1, "b9", "\0\0", 2);
        CHECK_VNULL(&c, &s, 1, "e");
        CHECK_VSTR(&c, &s, 1, "st", "");
        CHECK_VNULL(&c, &s, 1, "g");
        CHECK_VNULL(&c, &s, 1, "u");
        CHECK_VNULL(&c, &s, 1, "i");

        /* row 2: a zero month, the first DATETIME, the first TIMESTAMP, a small negative TIME */
        check_vdec(&c, &s, 2, "dec1", "-0.01");
        CHECK_VNULL(&c, &s, 2, "dt");
        CHECK_VINT(&c, &s, 2, "tm", -500000);
        CHECK_VINT(&c, &s, 2, "dtm", us_of(1000, 1, 1, 0, 0, 0, 0));
        CHECK_VINT(&c, &s, 2, "ts", 1000000);
        x = val(&c, &s, 2, "f");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == 0.0);
        x = val(&c, &s, 2, "d");
        CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == -1.5);
    }
    lks_arena_free(&c.a);
    lks_arena_free(&a);
    lks_src_close(conn);
}

static void t_snapshot_chunks(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    sql("CREATE TABLE lks_t.chunky (g INT, name VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, "
        "note VARCHAR(10), PRIMARY KEY (g, name))");
    /* 10 rows, inserted out of order; names compare as text ('b' < 'ba' < 'c') */
    sql("INSERT INTO lks_t.chunky VALUES (2,'c','r5'),(1,'b','r1'),(3,'a','r7'),(2,'ba','r4'),(1,'c','r2'),"
        "(2,'a','r3'),(3,'b''q','r8'),(4,'z','r10'),(3,'zz','r9'),(0,'x','r0')");
    static const char *order[10] = {"r0", "r1", "r2", "r3", "r4", "r5", "r7", "r8", "r9", "r10"};
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;
    const int64_t chunks[] = {3, 5, 1, 10, 11, 0};
    const long long queries[] = {4, 3, 11, 2, 1, 1};
    lks_src_info info;
    CHECK_OK(lks_src_info_get(conn, &info, &err), &err); /* caches @@server_id in the connection */
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        collect c;
        collect_init(&c);
        long long before = com_select();
        CHECK_OK(read_table(conn, "lks_t", "chunky", chunks[k], &c, &a, &s, &err), &err);
        long long after = com_select();
        CHECK_EQ_INT(c.n, 10);
        for (int r = 0; r < 10 && r < c.n; r++) {
            CHECK_VSTR(&c, &s, r, "note", order[r]);
            CHECK_EQ_INT(c.rows[r].row, r);
            CHECK_EQ_INT(c.rows[r].snapshot, r == 9 ? LKS_SNAP_LAST : LKS_SNAP_TRUE);
            CHECK_EQ_INT(c.rows[r].nkey, 2);
        }
        /* schema queries (2) + chunk queries */
        if (after - before != 2 + queries[k])
            FAILF("chunk_rows %lld: %lld SELECTs, want %lld", (long long)chunks[k], after - before - 2, queries[k]);
        lks_arena_free(&c.a);
    }
    lks_arena_free(&a);
    lks_src_close(conn);
}

static void t_snapshot_nokey_empty(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    sql("CREATE TABLE lks_t.heap (a INT, b VARCHAR(5))");
    sql("INSERT INTO lks_t.heap VALUES (3, 'c'), (1, NULL), (2, 'b')");
    sql("CREATE TABLE lks_t.fkey (f DOUBLE PRIMARY KEY, v INT)");
    sql("INSERT INTO lks_t.fkey VALUES (0.1, 1), (0.30000000000000004, 3), (0.2, 2), (-1e300, 0)");
    sql("CREATE TABLE lks_t.empty (id INT PRIMARY KEY)");
    sql("CREATE TABLE lks_t.emptyheap (id INT)");
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;

    collect c;
    collect_init(&c);
    CHECK_OK(read_table(conn, "lks_t", "heap", 2, &c, &a, &s, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    int64_t sum = 0;
    for (int r = 0; r < c.n && r < 3; r++) {
        const lks_cdc_value *x = val(&c, &s, r, "a");
        sum += x && x->kind == LKS_CV_INT ? x->u.i64 : 100;
        CHECK_EQ_INT(c.rows[r].nkey, 0);
        CHECK_EQ_INT(c.rows[r].snapshot, r == 2 ? LKS_SNAP_LAST : LKS_SNAP_TRUE);
    }
    CHECK_EQ_INT(sum, 6);
    lks_arena_free(&c.a);

    /* a DOUBLE key reads in one ordered pass */
    collect_init(&c);
    long long before = com_select();
    CHECK_OK(read_table(conn, "lks_t", "fkey", 1, &c, &a, &s, &err), &err);
    CHECK_EQ_INT(com_select() - before, 2 + 1);
    CHECK_EQ_INT(c.n, 4);
    for (int r = 0; r < c.n && r < 4; r++)
        CHECK_VINT(&c, &s, r, "v", r);
    const lks_cdc_value *x = val(&c, &s, 2, "f");
    CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == 0.2);
    x = val(&c, &s, 3, "f");
    CHECK(x && x->kind == LKS_CV_DOUBLE && x->u.f64 == 0.30000000000000004);
    lks_arena_free(&c.a);

    const char *empties[] = {"empty", "emptyheap"};
    for (int k = 0; k < 2; k++) {
        collect_init(&c);
        CHECK_OK(read_table(conn, "lks_t", empties[k], 3, &c, &a, &s, &err), &err);
        CHECK_EQ_INT(c.n, 0);
        lks_arena_free(&c.a);
    }

    /* a callback that stops: its value comes back */
    collect_init(&c);
    c.stop_at = 2;
    CHECK_EQ_INT(read_table(conn, "lks_t", "heap", 0, &c, &a, &s, &err), 7);
    CHECK_EQ_INT(c.n, 2);
    lks_arena_free(&c.a);
    collect_init(&c);
    c.stop_at = 2;
    CHECK_EQ_INT(read_table(conn, "lks_t", "fkey", 1, &c, &a, &s, &err), 7);
    lks_arena_free(&c.a);
    /* the connection still works after a stopped stream */
    CHECK_OK(lks_src_exec(conn, "SELECT 1", &err), &err);
    lks_arena_free(&a);
    lks_src_close(conn);
}

static void t_snapshot_view(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    sql("CREATE TABLE lks_t.view (id INT PRIMARY KEY)");
    sql("INSERT INTO lks_t.view VALUES (1), (2)");
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    char end[256], file[256];
    uint64_t endpos = 0, pos = 0;
    CHECK_OK(lks_src_binlog_end(conn, end, sizeof end, &endpos, &err), &err);
    CHECK_OK(lks_src_snapshot_begin(conn, file, sizeof file, &pos, &err), &err);
    /* nobody writes: the read view sits at the binlog's end */
    CHECK_EQ_STR(file, end);
    CHECK_EQ_INT(pos, endpos);

    /* a row committed after the view started is not in it */
    sql("INSERT INTO lks_t.view VALUES (3)");
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;
    collect c;
    collect_init(&c);
    CHECK_OK(read_table(conn, "lks_t", "view", 0, &c, &a, &s, &err), &err);
    CHECK_EQ_INT(c.n, 2);
    lks_arena_free(&c.a);
    CHECK_OK(lks_src_snapshot_end(conn, &err), &err);

    collect_init(&c);
    CHECK_OK(read_table(conn, "lks_t", "view", 0, &c, &a, &s, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    lks_arena_free(&c.a);

    /* the new end is past the view's position */
    CHECK_OK(lks_src_binlog_end(conn, end, sizeof end, &endpos, &err), &err);
    CHECK(strcmp(end, file) != 0 || endpos > pos);
    lks_arena_free(&a);
    lks_src_close(conn);
}

/* ---- the binlog stream ---------------------------------------------------------------------- */

static int crc_ok(const uint8_t *ev, size_t len) {
    return len > 23 && lks_crc32(0, ev, len - 4) == lks_load_le32(ev + len - 4);
}

/* A stream from the binlog's current end (its file and position into
 * file[256] and *start), as replica server_id with 200 ms heartbeats; NULL
 * (the failure reported) when it cannot open. */
static lks_src_stream *stream_at_end(uint32_t server_id, char file[256], uint64_t *start) {
    lks_src_conn *conn = connect_ok();
    if (!conn)
        return NULL;
    lks_err err;
    int rc = lks_src_binlog_end(conn, file, 256, start, &err);
    CHECK_OK(rc, &err);
    lks_src_close(conn);
    if (rc)
        return NULL;
    lks_src_conf c = conf();
    c.server_id = server_id;
    c.heartbeat_ms = 200;
    lks_src_stream *st = NULL;
    CHECK_OK(lks_src_stream_open(&c, file, *start, &st, &err), &err);
    return st;
}

static void t_stream_rows(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    sql("CREATE TABLE lks_t.live (id INT PRIMARY KEY, name VARCHAR(20))");
    char file[256];
    uint64_t start = 0;
    lks_src_stream *st = stream_at_end(5401, file, &start);
    REQUIRE(st);
    lks_err err;
    CHECK_EQ_INT(lks_src_stream_crc32(st), 1);
    sql("BEGIN");
    sql("INSERT INTO lks_t.live VALUES (1, 'one'), (2, 'two')");
    sql("INSERT INTO lks_t.live VALUES (3, 'three')");
    sql("COMMIT");

    int types[100], n = 0, rows_after_map = 0, saw_map = 0, saw_xid = 0;
    uint64_t last = 0, first_real = 0;
    while (n < 100 && !saw_xid) {
        const uint8_t *ev;
        size_t len;
        uint64_t pos;
        int rc = lks_src_stream_next(st, &ev, &len, &pos, &err);
        if (rc) {
            FAILF("stream_next: %s", err.msg);
            break;
        }
        REQUIRE(len >= 19);
        int type = ev[4];
        types[n++] = type;
        CHECK_EQ_INT(lks_load_le32(ev + 9), len);
        if (!crc_ok(ev, len))
            FAILF("event %d (type %d) at %llu: checksum mismatch", n, type, (unsigned long long)pos);
        if (n == 1) {
            CHECK_EQ_INT(type, LKS_BLE_ROTATE);
            CHECK_EQ_INT(pos, 0);
            /* the artificial ROTATE names the file and position asked for */
            CHECK(len == 19 + 8 + strlen(file) + 4 && lks_load_le64(ev + 19) == start &&
                  memcmp(ev + 27, file, strlen(file)) == 0);
        }
        if (pos) {
            if (!first_real)
                first_real = pos;
            CHECK(pos > last);
            CHECK_EQ_INT(lks_load_le32(ev + 13), pos + len); /* log_pos is the next event */
            last = pos;
        }
        if (type == LKS_BLE_TABLE_MAP)
            saw_map = 1;
        if (type == LKS_BLE_WRITE_ROWS_V1) {
            CHECK(saw_map);
            rows_after_map++;
        }
        if (type == LKS_BLE_XID)
            saw_xid = 1;
    }
    CHECK(saw_xid);
    CHECK_EQ_INT(first_real, start);
    CHECK_EQ_INT(rows_after_map, 2); /* one rows event per INSERT statement */
    CHECK(n >= 2 && types[1] == LKS_BLE_FORMAT_DESCRIPTION);
    lks_src_stream_close(st);
}

static void t_stream_heartbeat(void) {
    NEED_SERVER();
    char file[256];
    uint64_t start = 0;
    lks_src_stream *st = stream_at_end(5402, file, &start);
    REQUIRE(st);
    lks_err err;
    int hb = 0, n = 0;
    while (n++ < 50 && hb < 2) {
        const uint8_t *ev;
        size_t len;
        uint64_t pos;
        if (lks_src_stream_next(st, &ev, &len, &pos, &err)) {
            FAILF("stream_next: %s", err.msg);
            break;
        }
        if (ev[4] == LKS_BLE_HEARTBEAT) {
            hb++;
            CHECK_EQ_INT(pos, 0);
            CHECK(crc_ok(ev, len));
        }
    }
    CHECK_EQ_INT(hb, 2);
    lks_src_stream_close(st);
}

static void t_stream_killed(void) {
    NEED_SERVER();
    char file[256];
    uint64_t start = 0;
    lks_src_stream *st = stream_at_end(5403, file, &start);
    REQUIRE(st);
    lks_err err;
    const uint8_t *ev;
    size_t len;
    uint64_t pos;
    CHECK_OK(lks_src_stream_next(st, &ev, &len, &pos, &err), &err);
    /* kill every dump thread (the test's own) */
    if (mysql_query(adm, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'") == 0) {
        MYSQL_RES *r = mysql_store_result(adm);
        MYSQL_ROW row;
        int killed = 0;
        while (r && (row = mysql_fetch_row(r)))
            killed += sql("KILL %s", row[0]) == 0;
        mysql_free_result(r);
        CHECK(killed >= 1);
    }
    int rc = 0, n = 0;
    while (n++ < 100 && (rc = lks_src_stream_next(st, &ev, &len, &pos, &err)) == 0)
        ;
    CHECK_EQ_INT(rc, LKS_EIO);
    CHECK(strstr(err.msg, file) != NULL);
    lks_src_stream_close(st);
}

static void t_stream_purged(void) {
    NEED_SERVER();
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    lks_err err;
    char first[256], file[256];
    uint64_t pos;
    CHECK_OK(lks_src_binlog_end(conn, first, sizeof first, &pos, &err), &err);
    sql("FLUSH BINARY LOGS");
    sql("FLUSH BINARY LOGS");
    CHECK_OK(lks_src_binlog_end(conn, file, sizeof file, &pos, &err), &err);
    CHECK(strcmp(first, file) != 0);
    /* the server keeps files a dump thread still reads: end the earlier
     * tests' dump threads first (a closed stream's thread ends at its next
     * heartbeat) */
    for (int k = 0; k < 400; k++) {
        char cnt[32];
        sql_value(cnt, sizeof cnt,
                  "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
        if (!strcmp(cnt, "0"))
            break;
        usleep(25000);
    }
    /* a file stays until InnoDB has made its transactions durable (the
     * binlog checkpoint, written in the background): purge until it goes */
    sql("FLUSH ENGINE LOGS");
    for (int k = 0; k < 400; k++) {
        sql("PURGE BINARY LOGS TO '%s'", file);
        if (lks_src_binlog_exists(conn, first, &err) == 0)
            break;
        usleep(25000);
    }
    CHECK_EQ_INT(lks_src_binlog_exists(conn, first, &err), 0);
    CHECK_EQ_INT(lks_src_binlog_exists(conn, file, &err), 1);
    lks_src_close(conn);

    lks_src_conf c = conf();
    c.server_id = 5404;
    lks_src_stream *st = NULL;
    CHECK_EQ_INT(lks_src_stream_open(&c, first, 4, &st, &err), LKS_ENOTFOUND);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, first) && strstr(err.msg, "snapshot.mode=when_needed") && strstr(err.msg, "1236"));
    CHECK_EQ_INT(lks_src_stream_open(&c, "nosuch.000042", 4, &st, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "nosuch.000042") != NULL);

    /* the current file still streams */
    CHECK_OK(lks_src_stream_open(&c, file, 4, &st, &err), &err);
    lks_src_stream_close(st);

    /* a wrong password on the stream is refused before any dump */
    c.password = "Wr0ng-Secret-Pw";
    CHECK_EQ_INT(lks_src_stream_open(&c, file, 4, &st, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "Wr0ng-Secret-Pw") == NULL);
}

/* ---- snapshot and stream agree ---------------------------------------------------------------- */

typedef struct decoded {
    lks_arena a;
    lks_cdc_schema schema; /* the TABLE_MAP's, copied */
    int *key, nkey;
    collect rows; /* the after images */
    int have_map;
} decoded;

static int decode_cb(void *ud, const lks_binlog_item *it, lks_err *err) {
    decoded *d = ud;
    if (it->kind == LKS_BL_TABLE_MAP && !strcmp(it->table->table, "agree") && !d->have_map) {
        const lks_cdc_schema *s = &it->table->schema;
        d->schema.nfields = s->nfields;
        d->schema.fields = lks_arena_memdup(&d->a, s->fields, (size_t)s->nfields * sizeof *s->fields);
        for (int i = 0; i < s->nfields; i++) {
            d->schema.fields[i].name = lks_arena_strdup(&d->a, s->fields[i].name);
            if (s->fields[i].allowed)
                d->schema.fields[i].allowed = lks_arena_strdup(&d->a, s->fields[i].allowed);
        }
        d->nkey = it->table->nkey;
        d->key = lks_arena_memdup(&d->a, it->table->key, (size_t)(d->nkey ? d->nkey : 1) * sizeof *d->key);
        d->have_map = 1;
    }
    if (it->kind == LKS_BL_ROWS && it->table && !strcmp(it->table->table, "agree"))
        for (int i = 0; i < it->nevents; i++)
            collect_cb(&d->rows, &it->events[i], err);
    return 0;
}

static int same_value(const lks_cdc_value *x, const lks_cdc_value *y) {
    if (x->kind != y->kind)
        return 0;
    switch (x->kind) {
    case LKS_CV_NULL: return 1;
    case LKS_CV_BOOL: return !x->u.b == !y->u.b;
    case LKS_CV_INT: return x->u.i64 == y->u.i64;
    case LKS_CV_UINT: return x->u.u64 == y->u.u64;
    case LKS_CV_DOUBLE: return memcmp(&x->u.f64, &y->u.f64, sizeof x->u.f64) == 0;
    case LKS_CV_DECIMAL:
        return x->u.dec.scale == y->u.dec.scale && x->u.dec.len == y->u.dec.len &&
               memcmp(x->u.dec.be, y->u.dec.be, x->u.dec.len) == 0;
    case LKS_CV_BYTES:
        return x->u.bytes.len == y->u.bytes.len && memcmp(x->u.bytes.ptr, y->u.bytes.ptr, x->u.bytes.len) == 0;
    default: return 0;
    }
}

/* The same rows through the snapshot and through the binlog decoder: the
 * schemas and every value must be equal (binlog.h's promise). */
static void t_snapshot_stream_agree(void) {
    NEED_SERVER();
    sql("CREATE DATABASE IF NOT EXISTS lks_t");
    lks_src_conn *conn = connect_ok();
    REQUIRE(conn);
    char file[256];
    uint64_t start = 0;
    lks_src_stream *st = stream_at_end(5405, file, &start);
    REQUIRE(st);
    lks_err err;

    char ddl[sizeof alltypes_ddl + 16];
    const char *at = strstr(alltypes_ddl, "alltypes");
    snprintf(ddl, sizeof ddl, "%.*sagree%s", (int)(at - alltypes_ddl), alltypes_ddl, at + strlen("alltypes"));
    sql("%s", ddl);
    sql("SET time_zone = '+05:00'");
    sql("INSERT INTO lks_t.agree SELECT * FROM lks_t.alltypes");
    sql("INSERT INTO lks_t.agree (id, f, d, tm, dec2, e, st, c, lt, b9) VALUES (10, 3.40282e38, "
        "-2.2250738585072014e-308, "
        "'00:00:00.001', 12345678901234567890123456789012345.123456789012345678901234567890, 'it''s', 'y', 'a  ', "
        "'Ÿ€', b'111111111'), (11, 1.17549435e-38, 123.456, '-12:00:00', -1, 'x\\\\y', 'x,y,z', NULL, NULL, NULL)");
    sql("SET time_zone = SYSTEM");
    char cnt[32];
    sql_value(cnt, sizeof cnt, "SELECT COUNT(*) FROM lks_t.agree");
    int want_rows = atoi(cnt);
    CHECK(want_rows >= 5);

    /* the stream, decoded */
    decoded d;
    memset(&d, 0, sizeof d);
    lks_arena_init(&d.a, 0);
    collect_init(&d.rows);
    lks_binlog_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.topic_prefix = "salesdb-cdc";
    bo.file = file;
    lks_binlog_decoder *dec = NULL;
    CHECK_OK(lks_binlog_decoder_new(&bo, &dec, &err), &err);
    REQUIRE(dec);
    lks_binlog_decoder_set_checksum(dec, lks_src_stream_crc32(st));
    for (int n = 0; n < 200 && d.rows.n < want_rows; n++) {
        const uint8_t *ev;
        size_t len;
        uint64_t pos;
        if (lks_src_stream_next(st, &ev, &len, &pos, &err)) {
            FAILF("stream_next: %s", err.msg);
            break;
        }
        if (lks_binlog_feed(dec, pos, ev, len, decode_cb, &d, &err)) {
            FAILF("decoding type %d at %llu: %s", ev[4], (unsigned long long)pos, err.msg);
            break;
        }
    }
    lks_binlog_decoder_free(dec);
    lks_src_stream_close(st);
    CHECK(d.have_map);
    CHECK_EQ_INT(d.rows.n, want_rows);

    /* the snapshot */
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_cdc_schema s;
    collect snap;
    collect_init(&snap);
    CHECK_OK(read_table(conn, "lks_t", "agree", 0, &snap, &a, &s, &err), &err);
    CHECK_EQ_INT(snap.n, want_rows);

    if (d.have_map) {
        CHECK_EQ_INT(d.schema.nfields, s.nfields);
        for (int i = 0; i < s.nfields && i < d.schema.nfields; i++) {
            const lks_cdc_field *x = &s.fields[i], *y = &d.schema.fields[i];
            if (strcmp(x->name, y->name) || x->type.kind != y->type.kind || x->type.precision != y->type.precision ||
                x->type.scale != y->type.scale || x->type.optional != y->type.optional ||
                x->type.detail != y->type.detail || !x->allowed != !y->allowed ||
                (x->allowed && strcmp(x->allowed, y->allowed)))
                FAILF("column %s: snapshot kind %d p %d s %d opt %d detail %d allowed %s; binlog %s kind %d p %d s %d "
                      "opt %d detail %d allowed %s",
                      x->name, x->type.kind, x->type.precision, x->type.scale, x->type.optional, x->type.detail,
                      x->allowed ? x->allowed : "-", y->name, y->type.kind, y->type.precision, y->type.scale,
                      y->type.optional, y->type.detail, y->allowed ? y->allowed : "-");
        }
        CHECK_EQ_INT(d.nkey, 1);
    }
    /* rows: the stream's are in insert order, the snapshot's in key order; match by id */
    for (int r = 0; r < snap.n && r < 64; r++) {
        const got *g = &snap.rows[r];
        const got *h = NULL;
        for (int k = 0; k < d.rows.n && k < 64; k++)
            if (d.rows.rows[k].n == g->n && same_value(&d.rows.rows[k].v[0], &g->v[0]))
                h = &d.rows.rows[k];
        if (!h) {
            FAILF("snapshot row %d: no binlog row with its id", r);
            continue;
        }
        for (int i = 0; i < g->n; i++)
            if (!same_value(&g->v[i], &h->v[i]))
                FAILF("id %lld column %s: snapshot kind %d (%zu bytes), binlog kind %d (%zu bytes): values differ",
                      (long long)g->v[0].u.i64, s.fields[i].name, g->v[i].kind,
                      g->v[i].kind == LKS_CV_BYTES ? g->v[i].u.bytes.len : 0, h->v[i].kind,
                      h->v[i].kind == LKS_CV_BYTES ? h->v[i].u.bytes.len : 0);
    }
    lks_arena_free(&snap.a);
    lks_arena_free(&d.rows.a);
    lks_arena_free(&d.a);
    lks_arena_free(&a);
    lks_src_close(conn);
}

int main(void) {
    RUN(t_filters);
    RUN(t_check_messages);
    RUN(t_members_apply);
    start_server();
    if (!up)
        printf("# no server: %s\n", srv.why);
    RUN(t_connect);
    RUN(t_info_check);
    RUN(t_list_tables);
    RUN(t_schema_types);
    RUN(t_snapshot_types);
    RUN(t_snapshot_chunks);
    RUN(t_snapshot_nokey_empty);
    RUN(t_snapshot_view);
    RUN(t_stream_rows);
    RUN(t_stream_heartbeat);
    RUN(t_stream_killed);
    RUN(t_snapshot_stream_agree);
    RUN(t_stream_purged); /* last: purges the binlog */
    stop_server();
    mysql_library_end();
    return lks_test_done();
}
