/*
 * conn.c — the server connection of a live source: connecting (TLS modes),
 * server facts and the capture checks, the binlog's end and file list,
 * include/exclude filters, table listing and table schemas from
 * information_schema.
 *
 * TLS with libmariadb 3.3: MYSQL_OPT_SSL_ENFORCE asks for TLS but falls back
 * to a plain connection when the server offers none, and only
 * MYSQL_OPT_SSL_VERIFY_SERVER_CERT refuses such a server before logging in.
 * So "preferred" is ENFORCE alone; "required" is ENFORCE plus a check right
 * after the handshake that the session is encrypted (the login itself may
 * then have gone out in the clear — with the native and SHA-2 plugins that
 * is a scramble, not the password); "verify_ca" and "verify_identity" both
 * verify the certificate chain and the host name (3.3 has no chain-only
 * check).
 *
 * Schemas: information_schema.COLUMNS mapped as binlog.h maps TABLE_MAP
 * columns.  The key mirrors what the server writes as the binlog's primary
 * key: the PRIMARY index, or, for a table without one, the first unique
 * index whose columns are all NOT NULL and unprefixed (the server promotes
 * it; information_schema.STATISTICS lists indexes in the server's order).
 */
#include "source/source_int.h"

#include <ctype.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- connecting -------------------------------------------------------------------------- */

/* Replaces every occurrence of the password (4 bytes or longer: shorter
 * ones would blank unrelated text) in msg with "***". */
static void scrub(char *msg, const char *password) {
    size_t pl = password ? strlen(password) : 0;
    if (pl < 4)
        return;
    char *hit;
    /* the text only shrinks (pl > 3), so it always fits */
    while ((hit = strstr(msg, password))) {
        memmove(hit + 3, hit + pl, strlen(hit + pl) + 1);
        memcpy(hit, "***", 3);
    }
}

static int map_errno(unsigned n) {
    switch (n) {
    case ER_NO_SUCH_TABLE:
    case ER_BAD_DB_ERROR: return LKS_ENOTFOUND;
    case ER_DBACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_PROCACCESS_DENIED_ERROR:
    case 1698: /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */
    case 1129: /* ER_HOST_IS_BLOCKED */
    case 1130: /* ER_HOST_NOT_PRIVILEGED */
    case 1251: /* ER_NOT_SUPPORTED_AUTH_MODE */
    case CR_SSL_CONNECTION_ERROR:
    case 2059: /* CR_AUTH_PLUGIN_CANNOT_LOAD */ return LKS_ECONFIG;
    default: return LKS_EIO;
    }
}

int lks_src_mysql_err(MYSQL *m, const char *name, const char *what, lks_err *err) {
    unsigned n = mysql_errno(m);
    return lks_err_set(err, map_errno(n), "%s: %s: %s %u: %s", name, what, n >= 2000 ? "client error" : "server error",
                       n, mysql_error(m));
}

static int set_tls(MYSQL *m, const lks_src_conf *c, int *require, lks_err *err, const char *name) {
    const char *mode = c->ssl_mode && *c->ssl_mode ? c->ssl_mode : "preferred";
    my_bool on = 1;
    *require = 0;
    if (!strcasecmp(mode, "disabled"))
        return LKS_OK;
    int verify;
    if (!strcasecmp(mode, "preferred"))
        verify = 0;
    else if (!strcasecmp(mode, "required"))
        verify = 0, *require = 1;
    else if (!strcasecmp(mode, "verify_ca") || !strcasecmp(mode, "verify_identity"))
        verify = 1, *require = 1;
    else
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: database.ssl.mode '%s' is not one of disabled, preferred, required, verify_ca, "
                           "verify_identity",
                           name, mode);
    if (c->ssl_key && *c->ssl_key)
        mysql_optionsv(m, MYSQL_OPT_SSL_KEY, c->ssl_key);
    if (c->ssl_cert && *c->ssl_cert)
        mysql_optionsv(m, MYSQL_OPT_SSL_CERT, c->ssl_cert);
    if (c->ssl_ca && *c->ssl_ca)
        mysql_optionsv(m, MYSQL_OPT_SSL_CA, c->ssl_ca);
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
    if (verify)
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    return LKS_OK;
}

/* mysql_init initialises the library on first use, which is not
 * thread-safe: do it once. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mysql_library_init(0, NULL, NULL); }

int lks_src_mysql_open(const lks_src_conf *c, int stream, MYSQL **out, char *name, lks_err *err) {
    *out = NULL;
    pthread_once(&lib_once, lib_init);
    const char *host = c->host && *c->host ? c->host : "127.0.0.1";
    unsigned port = c->port > 0 ? (unsigned)c->port : 3306;
    if (c->socket && *c->socket)
        snprintf(name, LKS_SRC_NAME_MAX, "%s", c->socket);
    else if (strchr(host, ':'))
        snprintf(name, LKS_SRC_NAME_MAX, "[%s]:%u", host, port);
    else
        snprintf(name, LKS_SRC_NAME_MAX, "%s:%u", host, port);
    if (!c->user || !*c->user)
        return lks_err_set(err, LKS_ECONFIG, "%s: database.user is not set", name);

    MYSQL *m = mysql_init(NULL);
    if (!m)
        return lks_err_set(err, LKS_ENOMEM, "%s: cannot allocate a connection", name);
    int require = 0;
    int rc = set_tls(m, c, &require, err, name);
    if (rc) {
        mysql_close(m);
        return rc;
    }
    unsigned timeout = c->connect_timeout_ms > 0 ? (unsigned)((c->connect_timeout_ms + 999) / 1000) : 10;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* without a socket, "localhost" must still mean TCP, not the default socket */
    unsigned proto = c->socket && *c->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &proto);
    if (stream) {
        /* the server sends a heartbeat every period when idle: a silence of
         * several periods (at least 30 s) is a dead connection */
        int hb = c->heartbeat_ms > 0 ? c->heartbeat_ms : 1000;
        unsigned rt = (unsigned)((4LL * hb + 999) / 1000);
        if (rt < 30)
            rt = 30;
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rt);
        unsigned long maxpkt = 1UL << 30;
        mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxpkt);
    }
    if (!mysql_real_connect(m, c->socket && *c->socket ? NULL : host, c->user, c->password ? c->password : "", NULL,
                            port, c->socket && *c->socket ? c->socket : NULL, 0)) {
        unsigned n = mysql_errno(m);
        char msg[400];
        snprintf(msg, sizeof msg, "%s", mysql_error(m));
        scrub(msg, c->password);
        mysql_close(m);
        return lks_err_set(err, map_errno(n), "%s: cannot connect as '%s': %s %u: %s", name, c->user,
                           n >= 2000 ? "client error" : "server error", n, msg);
    }
    if (require && !mysql_get_ssl_cipher(m)) {
        mysql_close(m);
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: database.ssl.mode=%s but the server does not offer TLS: configure ssl_cert/ssl_key "
                           "on the server, or set database.ssl.mode=preferred",
                           name, c->ssl_mode);
    }
    if (mysql_query(m, "SET time_zone = '+00:00'")) {
        rc = lks_src_mysql_err(m, name, "SET time_zone", err);
        mysql_close(m);
        return rc;
    }
    *out = m;
    return LKS_OK;
}

int lks_src_query(MYSQL *m, const char *name, const char *sql, MYSQL_RES **res, lks_err *err) {
    *res = NULL;
    if (mysql_real_query(m, sql, strlen(sql))) {
        char what[160];
        snprintf(what, sizeof what, "%.150s", sql);
        return lks_src_mysql_err(m, name, what, err);
    }
    if (mysql_field_count(m) == 0)
        return LKS_OK;
    *res = mysql_store_result(m);
    if (!*res) {
        char what[160];
        snprintf(what, sizeof what, "%.150s", sql);
        return lks_src_mysql_err(m, name, what, err);
    }
    return LKS_OK;
}

int lks_src_quote_ident(lks_buf *b, const char *name) {
    int rc = lks_buf_append_byte(b, '`');
    for (const char *p = name; !rc && *p; p++)
        rc = *p == '`' ? lks_buf_append(b, "``", 2) : lks_buf_append_byte(b, (uint8_t)*p);
    return rc ? rc : lks_buf_append_byte(b, '`');
}

int lks_src_quote_str(lks_buf *b, MYSQL *m, const char *s, size_t n) {
    int rc = lks_buf_reserve(b, 2 * n + 3);
    if (rc)
        return rc;
    b->ptr[b->len++] = '\'';
    b->len += mysql_real_escape_string(m, (char *)b->ptr + b->len, s, (unsigned long)n);
    b->ptr[b->len++] = '\'';
    return LKS_OK;
}

int lks_src_connect(const lks_src_conf *c, lks_src_conn **out, lks_err *err) {
    *out = NULL;
    lks_src_conn *conn = calloc(1, sizeof *conn);
    if (!conn)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    int rc = lks_src_mysql_open(c, 0, &conn->m, conn->name, err);
    if (rc) {
        free(conn);
        return rc;
    }
    const char *v = mysql_get_server_info(conn->m);
    conn->mariadb = v && strstr(v, "MariaDB") != NULL;
    conn->version = mysql_get_server_version(conn->m);
    conn->server_id = -1;
    *out = conn;
    return LKS_OK;
}

void lks_src_close(lks_src_conn *c) {
    if (!c)
        return;
    mysql_close(c->m);
    free(c);
}

const char *lks_src_name(const lks_src_conn *c) { return c->name; }

int lks_src_exec(lks_src_conn *c, const char *sql, lks_err *err) {
    MYSQL_RES *res;
    int rc = lks_src_query(c->m, c->name, sql, &res, err);
    mysql_free_result(res);
    return rc;
}

/* ---- server facts ------------------------------------------------------------------------ */

/* Runs a one-row query; *row NULL when it returned no row.  Caller frees *res. */
static int query_row(lks_src_conn *c, const char *sql, MYSQL_RES **res, MYSQL_ROW *row, lks_err *err) {
    *row = NULL;
    int rc = lks_src_query(c->m, c->name, sql, res, err);
    if (rc)
        return rc;
    if (!*res)
        return lks_err_set(err, LKS_EIO, "%s: %s: returned no result set", c->name, sql);
    *row = mysql_fetch_row(*res);
    return LKS_OK;
}

static void copy_field(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s ? s : ""); }

int lks_src_info_get(lks_src_conn *c, lks_src_info *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc = query_row(c,
                       "SELECT VERSION(), @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image, "
                       "@@global.server_id, @@global.binlog_checksum",
                       &res, &row, err);
    if (rc || !row) {
        mysql_free_result(res);
        return rc ? rc : lks_err_set(err, LKS_EIO, "%s: server variables: no row", c->name);
    }
    copy_field(out->version, sizeof out->version, row[0]);
    out->mariadb = strstr(out->version, "MariaDB") != NULL;
    out->log_bin = row[1] && (!strcmp(row[1], "1") || !strcasecmp(row[1], "ON"));
    copy_field(out->binlog_format, sizeof out->binlog_format, row[2]);
    copy_field(out->row_image, sizeof out->row_image, row[3]);
    out->server_id = row[4] ? (uint32_t)strtoul(row[4], NULL, 10) : 0;
    out->checksum_crc32 = row[5] && !strcasecmp(row[5], "CRC32");
    mysql_free_result(res);

    /* older servers have no binlog_row_metadata: "" (lks_src_check says what to do) */
    if (mysql_query(c->m, "SELECT @@global.binlog_row_metadata")) {
        if (mysql_errno(c->m) != ER_UNKNOWN_SYSTEM_VARIABLE)
            return lks_src_mysql_err(c->m, c->name, "SELECT @@global.binlog_row_metadata", err);
    } else {
        res = mysql_store_result(c->m);
        if (!res)
            return lks_src_mysql_err(c->m, c->name, "SELECT @@global.binlog_row_metadata", err);
        row = mysql_fetch_row(res);
        copy_field(out->row_metadata, sizeof out->row_metadata, row ? row[0] : NULL);
        mysql_free_result(res);
    }
    if (!out->mariadb) {
        if (mysql_query(c->m, "SELECT @@server_uuid")) {
            if (mysql_errno(c->m) != ER_UNKNOWN_SYSTEM_VARIABLE)
                return lks_src_mysql_err(c->m, c->name, "SELECT @@server_uuid", err);
        } else {
            res = mysql_store_result(c->m);
            if (!res)
                return lks_src_mysql_err(c->m, c->name, "SELECT @@server_uuid", err);
            row = mysql_fetch_row(res);
            copy_field(out->server_uuid, sizeof out->server_uuid, row ? row[0] : NULL);
            mysql_free_result(res);
        }
    }
    c->server_id = out->server_id;
    return LKS_OK;
}

int lks_src_check(const lks_src_info *i, const char *server_name, lks_err *err) {
    const char *n = server_name ? server_name : "server";
    const char *sec = i->mariadb ? "[mariadbd]" : "[mysqld]";
    if (!i->log_bin)
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: binary logging is off (log_bin=OFF): lakesync reads changes from the binlog: "
                           "log_bin=binlog and server_id=1 under %s in my.cnf and restart the server (log_bin "
                           "cannot be switched on at run time)",
                           n, sec);
    if (strcasecmp(i->binlog_format, "ROW"))
        return lks_err_set(err, LKS_ECONFIG,
                           "%s: binlog_format is %s: lakesync needs ROW (row images in the binlog): SET GLOBAL "
                           "binlog_format=ROW (for sessions opened afterwards), or binlog_format=ROW under %s in "
                           "my.cnf",
                           n, i->binlog_format[0] ? i->binlog_format : "unknown", sec);
    /* binlog_row_metadata other than FULL: the caller takes column names
     * and keys from information_schema (lks_src_full_metadata) */
    return LKS_OK;
}

int lks_src_full_metadata(const lks_src_info *i) { return strcasecmp(i->row_metadata, "FULL") == 0; }

int lks_src_binlog_end(lks_src_conn *c, char *file, size_t cap, uint64_t *pos, lks_err *err) {
    MYSQL_RES *res;
    MYSQL_ROW row;
    /* MySQL 8.4 dropped SHOW MASTER STATUS for SHOW BINARY LOG STATUS */
    const char *sql = "SHOW MASTER STATUS";
    if (mysql_query(c->m, sql)) {
        if (mysql_errno(c->m) != ER_PARSE_ERROR)
            return lks_src_mysql_err(c->m, c->name, sql, err);
        sql = "SHOW BINARY LOG STATUS";
        if (mysql_query(c->m, sql))
            return lks_src_mysql_err(c->m, c->name, sql, err);
    }
    res = mysql_store_result(c->m);
    if (!res)
        return lks_src_mysql_err(c->m, c->name, sql, err);
    row = mysql_fetch_row(res);
    int rc = LKS_OK;
    if (!row || !row[0] || !row[1])
        rc = lks_err_set(err, LKS_ECONFIG, "%s: %s returned nothing: binary logging is off", c->name, sql);
    else if (strlen(row[0]) >= cap)
        rc = lks_err_set(err, LKS_ELIMIT, "%s: binlog file name '%s' is too long", c->name, row[0]);
    else {
        char *end;
        *pos = strtoull(row[1], &end, 10);
        if (end == row[1] || *end)
            rc = lks_err_set(err, LKS_EIO, "%s: %s: position '%s' is not a number", c->name, sql, row[1]);
        else
            memcpy(file, row[0], strlen(row[0]) + 1);
    }
    mysql_free_result(res);
    return rc;
}

int lks_src_binlog_exists(lks_src_conn *c, const char *file, lks_err *err) {
    MYSQL_RES *res;
    if (mysql_query(c->m, "SHOW BINARY LOGS")) {
        if (mysql_errno(c->m) == ER_NO_BINARY_LOGGING)
            return lks_err_set(err, LKS_ECONFIG, "%s: SHOW BINARY LOGS: binary logging is off", c->name);
        return lks_src_mysql_err(c->m, c->name, "SHOW BINARY LOGS", err);
    }
    res = mysql_store_result(c->m);
    if (!res)
        return lks_src_mysql_err(c->m, c->name, "SHOW BINARY LOGS", err);
    int found = 0;
    MYSQL_ROW row;
    while (!found && (row = mysql_fetch_row(res)))
        found = row[0] && !strcmp(row[0], file);
    mysql_free_result(res);
    return found;
}

int lks_src_binlog_gtid_pos(lks_src_conn *c, const char *file, uint64_t pos, lks_gtid_pos *out, int *valid,
                            lks_err *err) {
    memset(out, 0, sizeof *out);
    *valid = 0;
    lks_buf q;
    lks_buf_init(&q, 0);
    int rc = lks_buf_printf(&q, "SELECT BINLOG_GTID_POS(");
    if (!rc) rc = lks_src_quote_str(&q, c->m, file, strlen(file));
    if (!rc) rc = lks_buf_printf(&q, ", %llu)", (unsigned long long)pos);
    if (!rc) rc = lks_buf_append_byte(&q, 0);
    if (rc) {
        lks_buf_free(&q);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    MYSQL_RES *res = NULL;
    rc = lks_src_query(c->m, c->name, (const char *)q.ptr, &res, err);
    lks_buf_free(&q);
    if (rc) return rc;
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (row && row[0]) {
        *valid = 1;
        rc = lks_gtid_pos_parse(row[0], out, err);
        if (rc) lks_err_prefix(err, "%s: BINLOG_GTID_POS('%s', %llu)", c->name, file, (unsigned long long)pos);
    }
    mysql_free_result(res);
    return rc;
}

int lks_src_scan_queries(lks_src_conn *c, const char *file, uint64_t pos, const char *end_file, uint64_t end_pos,
                         lks_src_query_cb *cb, void *ud, lks_err *err) {
    /* the files from `file` to `end_file`, in the server's order */
    MYSQL_RES *res = NULL;
    int rc = lks_src_query(c->m, c->name, "SHOW BINARY LOGS", &res, err);
    if (rc) return rc;
    char **files = NULL;
    size_t nf = 0, cap = 0;
    int on = 0;
    MYSQL_ROW row;
    while (res && (row = mysql_fetch_row(res))) {
        if (!row[0]) continue;
        if (!strcmp(row[0], file)) on = 1;
        if (!on) continue;
        if (nf == cap) {
            cap = cap ? cap * 2 : 16;
            char **nfp = realloc(files, cap * sizeof *nfp);
            if (!nfp) break;
            files = nfp;
        }
        if (!(files[nf] = strdup(row[0]))) break;
        nf++;
        if (!strcmp(row[0], end_file)) break;
    }
    mysql_free_result(res);
    if (!on || !nf) {
        free(files);
        return lks_err_set(err, LKS_ENOTFOUND, "%s: binlog file %s is not on the server", c->name, file);
    }
    lks_buf q;
    lks_buf_init(&q, 0);
    enum { CHUNK = 5000 };
    int done = 0;
    for (size_t i = 0; i < nf && !rc && !done; i++) {
        uint64_t from = i ? 4 : pos;
        int last = !strcmp(files[i], end_file);
        for (;;) {
            lks_buf_reset(&q);
            rc = lks_buf_printf(&q, "SHOW BINLOG EVENTS IN ");
            if (!rc) rc = lks_src_quote_str(&q, c->m, files[i], strlen(files[i]));
            if (!rc) rc = lks_buf_printf(&q, " FROM %llu LIMIT %d", (unsigned long long)from, CHUNK);
            if (!rc) rc = lks_buf_append_byte(&q, 0);
            if (rc) {
                rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
                break;
            }
            rc = lks_src_query(c->m, c->name, (const char *)q.ptr, &res, err);
            if (rc) break;
            int n = 0;
            while (!rc && !done && res && (row = mysql_fetch_row(res))) {
                n++;
                /* Log_name, Pos, Event_type, Server_id, End_log_pos, Info */
                if (mysql_num_fields(res) < 6 || !row[1] || !row[2] || !row[4]) {
                    rc = lks_err_set(err, LKS_ECORRUPT, "%s: SHOW BINLOG EVENTS IN %s: unexpected columns", c->name,
                                     files[i]);
                    break;
                }
                uint64_t at = strtoull(row[1], NULL, 10), next = strtoull(row[4], NULL, 10);
                if (last && at >= end_pos) {
                    done = 1;
                    break;
                }
                if (!strncmp(row[2], "Query", 5) && row[5]) {
                    /* Info: "use `db`; statement" (the name's backquotes doubled) or the statement */
                    const char *info = row[5], *sql = info;
                    char db[256] = "";
                    if (!strncmp(info, "use `", 5)) {
                        const char *e = info + 5;
                        size_t k = 0;
                        while (*e && !(e[0] == '`' && e[1] != '`')) {
                            if (e[0] == '`') e++;
                            if (k + 1 < sizeof db) db[k++] = *e;
                            e++;
                        }
                        db[k] = 0;
                        if (e[0] == '`' && e[1] == ';') sql = e[2] == ' ' ? e + 3 : e + 2;
                    }
                    rc = cb(ud, files[i], at, db, sql, err);
                }
                if (next > from) from = next;
            }
            mysql_free_result(res);
            res = NULL;
            if (rc || done || n < CHUNK) break;
        }
    }
    lks_buf_free(&q);
    for (size_t i = 0; i < nf; i++) free(files[i]);
    free(files);
    return rc;
}

/* ---- filters ------------------------------------------------------------------------------ */

typedef struct relist {
    regex_t *re;
    int n;
} relist;

struct lks_src_filter {
    relist db_inc, db_exc, tab_inc, tab_exc;
};

static void relist_free(relist *l) {
    for (int i = 0; i < l->n; i++)
        regfree(&l->re[i]);
    free(l->re);
    l->re = NULL;
    l->n = 0;
}

/* Compiles a comma-separated list (a backslash-escaped comma stays in the
 * expression, as Debezium reads these lists) into anchored, case-insensitive
 * expressions.  NULL or blank: an empty list. */
static int relist_parse(relist *l, const char *prop, const char *s, lks_err *err) {
    l->re = NULL;
    l->n = 0;
    if (!s)
        return LKS_OK;
    size_t len = strlen(s);
    int cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += s[i] == ',';
    l->re = calloc((size_t)cap, sizeof *l->re);
    char *item = malloc(len + 8);
    if (!l->re || !item) {
        free(item);
        free(l->re);
        l->re = NULL;
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", prop);
    }
    size_t i = 0;
    while (i <= len) {
        size_t n = 0;
        memcpy(item, "^(", 2);
        n = 2;
        for (; i < len && s[i] != ','; i++) {
            if (s[i] == '\\' && i + 1 < len && s[i + 1] == ',')
                i++;
            item[n++] = s[i];
        }
        i++; /* the comma, or past the end */
        size_t b = 2, e = n;
        while (b < e && isspace((unsigned char)item[b]))
            b++;
        while (e > b && isspace((unsigned char)item[e - 1]))
            e--;
        if (b == e)
            continue;
        memmove(item + 2, item + b, e - b);
        n = 2 + (e - b);
        memcpy(item + n, ")$", 3);
        int rc = regcomp(&l->re[l->n], item, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror(rc, &l->re[l->n], why, sizeof why);
            item[n] = 0;
            lks_err_set(err, LKS_ECONFIG, "%s: '%s' is not a valid regular expression: %s", prop, item + 2, why);
            free(item);
            relist_free(l);
            return LKS_ECONFIG;
        }
        l->n++;
    }
    free(item);
    return LKS_OK;
}

static int relist_match(const relist *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (regexec(&l->re[i], s, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

int lks_src_filter_new(const char *db_include, const char *db_exclude, const char *table_include,
                       const char *table_exclude, lks_src_filter **out, lks_err *err) {
    *out = NULL;
    lks_src_filter *f = calloc(1, sizeof *f);
    if (!f)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    int rc = relist_parse(&f->db_inc, "database.include.list", db_include, err);
    if (!rc)
        rc = relist_parse(&f->db_exc, "database.exclude.list", db_exclude, err);
    if (!rc)
        rc = relist_parse(&f->tab_inc, "table.include.list", table_include, err);
    if (!rc)
        rc = relist_parse(&f->tab_exc, "table.exclude.list", table_exclude, err);
    if (!rc && f->db_inc.n && f->db_exc.n)
        rc = lks_err_set(err, LKS_ECONFIG,
                         "database.include.list and database.exclude.list are both set: use one of them");
    if (!rc && f->tab_inc.n && f->tab_exc.n)
        rc = lks_err_set(err, LKS_ECONFIG, "table.include.list and table.exclude.list are both set: use one of them");
    if (rc) {
        lks_src_filter_free(f);
        return rc;
    }
    *out = f;
    return LKS_OK;
}

void lks_src_filter_free(lks_src_filter *f) {
    if (!f)
        return;
    relist_free(&f->db_inc);
    relist_free(&f->db_exc);
    relist_free(&f->tab_inc);
    relist_free(&f->tab_exc);
    free(f);
}

static int is_system_db(const char *db) {
    static const char *const sys[] = {"mysql", "information_schema", "performance_schema", "sys"};
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
        if (!strcasecmp(db, sys[i]))
            return 1;
    return 0;
}

/* table NULL: the database level alone. */
int lks_src_filter_match(const lks_src_filter *f, const char *db, const char *table) {
    if (!db || is_system_db(db))
        return 0;
    if (!f)
        return 1;
    if (f->db_inc.n && !relist_match(&f->db_inc, db))
        return 0;
    if (relist_match(&f->db_exc, db))
        return 0;
    if (!table || (!f->tab_inc.n && !f->tab_exc.n))
        return 1;
    size_t dl = strlen(db), tl = strlen(table);
    char stackbuf[256];
    char *full = dl + tl + 2 <= sizeof stackbuf ? stackbuf : malloc(dl + tl + 2);
    if (!full)
        return 0;
    memcpy(full, db, dl);
    full[dl] = '.';
    memcpy(full + dl + 1, table, tl + 1);
    int ok = (!f->tab_inc.n || relist_match(&f->tab_inc, full)) && !relist_match(&f->tab_exc, full);
    if (full != stackbuf)
        free(full);
    return ok;
}

/* ---- tables ------------------------------------------------------------------------------ */

typedef struct tabname {
    const char *db, *table;
} tabname;

static int tabname_cmp(const void *a, const void *b) {
    const tabname *x = a, *y = b;
    int c = strcmp(x->db, y->db);
    return c ? c : strcmp(x->table, y->table);
}

int lks_src_list_tables(lks_src_conn *c, const lks_src_filter *f, lks_arena *a, const char ***dbs, const char ***tables,
                        int *n, lks_err *err) {
    *dbs = *tables = NULL;
    *n = 0;
    MYSQL_RES *res;
    int rc = lks_src_query(c->m, c->name,
                           "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE "
                           "TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', "
                           "'sys')",
                           &res, err);
    if (rc)
        return rc;
    uint64_t rows = mysql_num_rows(res);
    tabname *tn = lks_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *tn);
    if (!tn) {
        mysql_free_result(res);
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory listing tables", c->name);
    }
    int k = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1] || !lks_src_filter_match(f, row[0], row[1]))
            continue;
        tn[k].db = lks_arena_strdup(a, row[0]);
        tn[k].table = lks_arena_strdup(a, row[1]);
        if (!tn[k].db || !tn[k].table) {
            mysql_free_result(res);
            return lks_err_set(err, LKS_ENOMEM, "%s: out of memory listing tables", c->name);
        }
        k++;
    }
    mysql_free_result(res);
    qsort(tn, (size_t)k, sizeof *tn, tabname_cmp);
    const char **d = lks_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *d);
    const char **t = lks_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *t);
    if (!d || !t)
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory listing tables", c->name);
    for (int i = 0; i < k; i++)
        d[i] = tn[i].db, t[i] = tn[i].table;
    *dbs = d;
    *tables = t;
    *n = k;
    return LKS_OK;
}

/* "WHERE TABLE_SCHEMA = '<db>' AND TABLE_NAME = '<table>'" */
static int where_table(lks_buf *b, MYSQL *m, const char *db, const char *table) {
    int rc = lks_buf_printf(b, " WHERE TABLE_SCHEMA = ");
    if (!rc)
        rc = lks_src_quote_str(b, m, db, strlen(db));
    if (!rc)
        rc = lks_buf_printf(b, " AND TABLE_NAME = ");
    if (!rc)
        rc = lks_src_quote_str(b, m, table, strlen(table));
    return rc;
}

/* The members of "enum('a','b''c','d\\e')" / "set(...)" unquoted and joined
 * with commas as Debezium writes `allowed`, and, when mb is not NULL, one by
 * one there (a member may hold a comma).  NULL when malformed. */
static char *parse_members(const char *ct, lks_arena *a, lks_src_members *mb) {
    const char *p = strchr(ct, '(');
    if (!p)
        return NULL;
    p++;
    size_t n = strlen(p);
    char *out = lks_arena_alloc(a, n + 1);
    /* at most one member per two bytes of the list (its quotes) */
    const char **m = mb ? lks_arena_alloc(a, (n / 2 + 1) * sizeof *m) : NULL;
    size_t *ml = mb ? lks_arena_alloc(a, (n / 2 + 1) * sizeof *ml) : NULL;
    if (!out || (mb && (!m || !ml)))
        return NULL;
    size_t o = 0;
    int first = 1, k = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == ')' && first)
            break;
        if (*p != '\'')
            return NULL;
        p++;
        if (!first)
            out[o++] = ',';
        first = 0;
        size_t start = o;
        for (;;) {
            if (!*p)
                return NULL;
            if (*p == '\'') {
                if (p[1] != '\'')
                    break;
                out[o++] = '\'';
                p += 2;
            } else if (*p == '\\') {
                if (!p[1])
                    return NULL;
                char e = p[1];
                out[o++] = e == '0'   ? 0
                           : e == 'n' ? '\n'
                           : e == 'r' ? '\r'
                           : e == 't' ? '\t'
                           : e == 'Z' ? 26
                           : e == 'b' ? '\b'
                                      : e;
                p += 2;
            } else {
                out[o++] = *p++;
            }
        }
        p++; /* closing quote */
        if (mb)
            m[k] = out + start, ml[k] = o - start;
        k++;
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        if (*p != ',')
            return NULL;
        p++;
    }
    out[o] = 0;
    if (mb)
        mb->m = m, mb->len = ml, mb->n = k;
    return out;
}

int lks_src_members_apply(const lks_src_members *mb, int is_set, lks_cdc_value *v, lks_arena *a, lks_err *err) {
    if (v->kind != LKS_CV_BYTES)
        return LKS_OK; /* NULL or absent */
    const char *what = is_set ? "SET" : "ENUM";
    const uint8_t *q = v->u.bytes.ptr;
    size_t n = v->u.bytes.len;
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return lks_err_set(err, LKS_ECORRUPT, "%s value \"%.*s\" is not the number of a member", what,
                           (int)(n > 40 ? 40 : n), (const char *)q);
    for (size_t i = 0; i < n; i++) {
        if (q[i] < '0' || q[i] > '9' || x > (UINT64_MAX - (q[i] - '0')) / 10)
            return lks_err_set(err, LKS_ECORRUPT, "%s value \"%.*s\" is not the number of a member", what, (int)n,
                               (const char *)q);
        x = x * 10 + (q[i] - '0');
    }
    if (!is_set) {
        if (x > (uint64_t)mb->n)
            return lks_err_set(err, LKS_ECORRUPT, "ENUM index %llu past its %d members", (unsigned long long)x,
                               mb->n);
        if (x == 0) /* MySQL's error member '' */
            v->u.bytes.ptr = (const uint8_t *)"", v->u.bytes.len = 0;
        else
            v->u.bytes.ptr = (const uint8_t *)mb->m[x - 1], v->u.bytes.len = mb->len[x - 1];
        return LKS_OK;
    }
    if (mb->n < 64 && (x >> mb->n))
        return lks_err_set(err, LKS_ECORRUPT, "SET bitmap 0x%llx has bits past its %d members", (unsigned long long)x,
                           mb->n);
    if (lks_bl_set_text(mb->m, mb->len, mb->n, x, a, &v->u.bytes) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    return LKS_OK;
}

enum { C_NAME, C_DATA_TYPE, C_COLUMN_TYPE, C_PREC, C_SCALE, C_FSP, C_CHARSET, C_NULLABLE, C_SCHEMA, C_TABLE };

/* One information_schema.COLUMNS row into a field (the mapping binlog.h
 * gives TABLE_MAP columns with full metadata). */
static int map_column(MYSQL_ROW row, lks_cdc_field *fd, lks_src_members *mb, lks_arena *a, const char *where,
                      lks_err *err) {
    const char *dt = row[C_DATA_TYPE] ? row[C_DATA_TYPE] : "";
    const char *ct = row[C_COLUMN_TYPE] ? row[C_COLUMN_TYPE] : "";
    const char *cs = row[C_CHARSET];
    int uns = strstr(ct, "unsigned") != NULL || strstr(ct, "UNSIGNED") != NULL;
    int prec = row[C_PREC] ? atoi(row[C_PREC]) : 0;
    int scale = row[C_SCALE] ? atoi(row[C_SCALE]) : 0;
    int fsp = row[C_FSP] ? atoi(row[C_FSP]) : 0;
    int binary = !cs || !strcasecmp(cs, "binary");
    lks_cdc_type *t = &fd->type;
    memset(t, 0, sizeof *t);
    t->optional = row[C_NULLABLE] && !strcasecmp(row[C_NULLABLE], "YES");
    fd->allowed = NULL;

#define IS(s) (!strcasecmp(dt, s))
    if (IS("tinyint"))
        t->kind = uns ? LKS_CT_INT16 : LKS_CT_INT8;
    else if (IS("smallint"))
        t->kind = uns ? LKS_CT_INT32 : LKS_CT_INT16;
    else if (IS("mediumint"))
        t->kind = LKS_CT_INT32;
    else if (IS("int") || IS("integer"))
        t->kind = uns ? LKS_CT_INT64 : LKS_CT_INT32;
    else if (IS("bigint"))
        t->kind = uns ? LKS_CT_UINT64 : LKS_CT_INT64;
    else if (IS("float"))
        t->kind = LKS_CT_FLOAT;
    else if (IS("double") || IS("real") || IS("double precision"))
        t->kind = LKS_CT_DOUBLE;
    else if (IS("decimal") || IS("numeric"))
        t->kind = LKS_CT_DECIMAL, t->precision = prec, t->scale = scale;
    else if (IS("date"))
        t->kind = LKS_CT_DATE, t->optional = 1; /* zero dates read as NULL */
    else if (IS("time"))
        t->kind = LKS_CT_TIME, t->precision = fsp;
    else if (IS("datetime"))
        t->kind = LKS_CT_DATETIME, t->precision = fsp, t->optional = 1;
    else if (IS("timestamp"))
        t->kind = LKS_CT_TIMESTAMP, t->precision = fsp, t->optional = 1;
    else if (IS("year"))
        t->kind = LKS_CT_INT16, t->detail = LKS_CD_YEAR;
    else if (IS("char") || IS("varchar") || IS("tinytext") || IS("text") || IS("mediumtext") || IS("longtext"))
        t->kind = binary ? LKS_CT_BYTES : LKS_CT_STRING;
    else if (IS("binary") || IS("varbinary") || IS("tinyblob") || IS("blob") || IS("mediumblob") || IS("longblob"))
        t->kind = LKS_CT_BYTES;
    else if (IS("enum") || IS("set")) {
        t->kind = LKS_CT_STRING;
        t->detail = IS("enum") ? LKS_CD_ENUM : LKS_CD_SET;
        fd->allowed = parse_members(ct, a, mb);
        if (!fd->allowed)
            return lks_err_set(err, LKS_EUNSUPPORTED, "%s: column %s: cannot read the members of %.200s", where,
                               fd->name, ct);
    } else if (IS("bit")) {
        if (prec <= 1)
            t->kind = LKS_CT_BOOL;
        else
            t->kind = LKS_CT_BYTES, t->detail = LKS_CD_BIT, t->precision = prec;
    } else if (IS("json"))
        t->kind = LKS_CT_JSON; /* MySQL's binary JSON; MariaDB's JSON is LONGTEXT */
    else if (IS("geometry") || IS("point") || IS("linestring") || IS("polygon") || IS("multipoint") ||
             IS("multilinestring") || IS("multipolygon") || IS("geometrycollection") || IS("geomcollection"))
        t->kind = LKS_CT_BYTES, t->detail = LKS_CD_GEOMETRY;
    else if (IS("uuid") || IS("inet4") || IS("inet6") || IS("vector"))
        t->kind = LKS_CT_BYTES; /* MariaDB logs these as BINARY(n) */
    else
        return lks_err_set(err, LKS_EUNSUPPORTED, "%s: column %s has type %s, which lakesync does not map", where,
                           fd->name, ct);
#undef IS
    return LKS_OK;
}

/* The binlog's primary key of the table (see the file comment). */
static int table_key(lks_src_conn *c, const char *db, const char *table, const lks_cdc_schema *s, lks_arena *a,
                     int **key, int *nkey, lks_err *err) {
    *key = NULL;
    *nkey = 0;
    lks_buf q;
    lks_buf_init(&q, 1 << 16);
    int rc = lks_buf_printf(&q, "SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, NULLABLE, SUB_PART, SEQ_IN_INDEX, "
                                "TABLE_SCHEMA, TABLE_NAME FROM information_schema.STATISTICS");
    if (!rc)
        rc = where_table(&q, c->m, db, table);
    if (!rc)
        rc = lks_buf_cstr(&q);
    if (rc) {
        lks_buf_free(&q);
        return lks_err_set(err, rc, "%s: %s.%s: cannot build the index query", c->name, db, table);
    }
    MYSQL_RES *res;
    rc = lks_src_query(c->m, c->name, (const char *)q.ptr, &res, err);
    lks_buf_free(&q);
    if (rc)
        return rc;
    uint64_t nrows = mysql_num_rows(res);
    MYSQL_ROW *rows = lks_arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *rows);
    if (!rows) {
        mysql_free_result(res);
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", c->name);
    }
    int n = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        if (row[0] && row[6] && row[7] && !strcmp(row[6], db) && !strcmp(row[7], table))
            rows[n++] = row;

    /* the PRIMARY index, else the first unique one the server promotes */
    const char *pick = NULL;
    for (int i = 0; i < n && !pick; i++)
        if (!strcmp(rows[i][0], "PRIMARY"))
            pick = "PRIMARY";
    for (int i = 0; i < n && !pick; i++) {
        if (!rows[i][2] || strcmp(rows[i][2], "0"))
            continue;
        int ok = 1;
        for (int j = 0; j < n && ok; j++)
            if (!strcmp(rows[j][0], rows[i][0]))
                ok = rows[j][1] && (!rows[j][3] || strcasecmp(rows[j][3], "YES")) && !rows[j][4];
        if (ok)
            pick = rows[i][0];
    }
    rc = LKS_OK;
    if (pick) {
        int cnt = 0;
        for (int i = 0; i < n; i++)
            cnt += !strcmp(rows[i][0], pick);
        int *k = lks_arena_alloc(a, (size_t)cnt * sizeof *k);
        if (!k)
            rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory", c->name);
        for (int i = 0; i < cnt && !rc; i++)
            k[i] = -1;
        for (int i = 0; i < n && !rc; i++) {
            if (strcmp(rows[i][0], pick))
                continue;
            int seq = rows[i][5] ? atoi(rows[i][5]) : 0;
            int col = rows[i][1] ? lks_cdc_schema_find(s, rows[i][1]) : -1;
            if (seq < 1 || seq > cnt || col < 0 || k[seq - 1] != -1)
                rc = lks_err_set(err, LKS_EIO, "%s: %s.%s: index %s: inconsistent information_schema rows", c->name, db,
                                 table, pick);
            else
                k[seq - 1] = col;
        }
        if (!rc) {
            *key = k;
            *nkey = cnt;
        }
    }
    mysql_free_result(res);
    return rc;
}

int lks_src_table_schema(lks_src_conn *c, const char *db, const char *table, lks_arena *a, lks_cdc_schema *out,
                         int **key, int *nkey, lks_src_members **members, lks_err *err) {
    memset(out, 0, sizeof *out);
    *key = NULL;
    *nkey = 0;
    if (members)
        *members = NULL;
    lks_buf q;
    lks_buf_init(&q, 1 << 16);
    int rc = lks_buf_printf(&q, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, "
                                "DATETIME_PRECISION, CHARACTER_SET_NAME, IS_NULLABLE, TABLE_SCHEMA, TABLE_NAME FROM "
                                "information_schema.COLUMNS");
    if (!rc)
        rc = where_table(&q, c->m, db, table);
    if (!rc)
        rc = lks_buf_printf(&q, " ORDER BY ORDINAL_POSITION");
    if (!rc)
        rc = lks_buf_cstr(&q);
    if (rc) {
        lks_buf_free(&q);
        return lks_err_set(err, rc, "%s: %s.%s: cannot build the column query", c->name, db, table);
    }
    MYSQL_RES *res;
    rc = lks_src_query(c->m, c->name, (const char *)q.ptr, &res, err);
    lks_buf_free(&q);
    if (rc)
        return rc;
    char where[600];
    snprintf(where, sizeof where, "%s: %s.%s", c->name, db, table);
    uint64_t nrows = mysql_num_rows(res);
    lks_cdc_field *fields = lks_arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *fields);
    lks_src_members *mbs = members ? lks_arena_alloc(a, (size_t)(nrows ? nrows : 1) * sizeof *mbs) : NULL;
    if (mbs)
        memset(mbs, 0, (size_t)(nrows ? nrows : 1) * sizeof *mbs);
    if (!fields || (members && !mbs)) {
        mysql_free_result(res);
        return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", where);
    }
    int n = 0;
    MYSQL_ROW row;
    while (!rc && (row = mysql_fetch_row(res))) {
        /* information_schema compares names case-insensitively */
        if (!row[C_NAME] || !row[C_SCHEMA] || !row[C_TABLE] || strcmp(row[C_SCHEMA], db) || strcmp(row[C_TABLE], table))
            continue;
        lks_cdc_field *fd = &fields[n];
        fd->name = lks_arena_strdup(a, row[C_NAME]);
        if (!fd->name)
            rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory", where);
        else
            rc = map_column(row, fd, mbs ? &mbs[n] : NULL, a, where, err);
        n++;
    }
    mysql_free_result(res);
    if (rc)
        return rc;
    if (n == 0)
        return lks_err_set(err, LKS_ENOTFOUND, "%s: no such table (or the user cannot see it)", where);
    out->fields = fields;
    out->nfields = n;
    if (members)
        *members = mbs;
    return table_key(c, db, table, out, a, key, nkey, err);
}

int64_t lks_src_table_rows_estimate(lks_src_conn *c, const char *db, const char *table) {
    lks_buf q;
    lks_buf_init(&q, 1 << 16);
    int rc = lks_buf_printf(&q, "SELECT TABLE_ROWS, TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES");
    if (!rc)
        rc = where_table(&q, c->m, db, table);
    if (!rc)
        rc = lks_buf_cstr(&q);
    MYSQL_RES *res = NULL;
    if (!rc)
        rc = lks_src_query(c->m, c->name, (const char *)q.ptr, &res, NULL);
    lks_buf_free(&q);
    int64_t est = -1;
    MYSQL_ROW row;
    while (!rc && res && (row = mysql_fetch_row(res)))
        if (row[0] && row[1] && row[2] && !strcmp(row[1], db) && !strcmp(row[2], table))
            est = strtoll(row[0], NULL, 10);
    mysql_free_result(res);
    return est;
}
