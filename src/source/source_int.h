/*
 * source_int.h — what conn.c, snapshot.c and stream.c share about a server
 * connection (private to src/source/; never included outside it).
 */
#ifndef LKS_SOURCE_INT_H
#define LKS_SOURCE_INT_H

#include "source/source.h"

#include <mysql.h>

#define LKS_SRC_NAME_MAX 300

struct lks_src_conn {
    MYSQL *m;
    char name[LKS_SRC_NAME_MAX]; /* "host:port" or the socket path */
    int mariadb;                 /* the server says "MariaDB" in its version */
    unsigned long version;       /* mysql_get_server_version: 1001119, 80036 */
    int64_t server_id;           /* @@server_id, -1 until asked */
};

/* Opens a connection with the conf's address, credentials, TLS mode and
 * timeouts (session: utf8mb4, time_zone '+00:00').  `stream` also sets what
 * a binlog stream needs (a read timeout a few heartbeats long, 1 GiB
 * packets).  The name for messages goes to name[LKS_SRC_NAME_MAX] even on
 * failure.  Caller closes *out with mysql_close. */
int lks_src_mysql_open(const lks_src_conf *c, int stream, MYSQL **out, char *name, lks_err *err);

/* Records the connection's last error as "name: what: server error N: text"
 * and returns its status: LKS_ENOTFOUND for an unknown table or database,
 * LKS_ECONFIG for a refused login or a missing privilege, LKS_EIO
 * otherwise (lost connection, server failure). */
int lks_src_mysql_err(MYSQL *m, const char *name, const char *what, lks_err *err);

/* Runs a statement and stores its whole result (NULL when it has none). */
int lks_src_query(MYSQL *m, const char *name, const char *sql, MYSQL_RES **res, lks_err *err);

/* Appends `name` as a backquoted identifier. */
int lks_src_quote_ident(lks_buf *b, const char *name);
/* Appends a single-quoted string literal escaped for the connection. */
int lks_src_quote_str(lks_buf *b, MYSQL *m, const char *s, size_t n);

#endif
