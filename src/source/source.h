/*
 * source.h — a live MySQL/MariaDB source: connection, server checks, table
 * schemas, the consistent snapshot, and the binlog stream (DESIGN.md §2
 * source/).  Built on Debian's libmariadb (Connector/C 3.3): the text
 * protocol for queries, its replication API (mariadb_rpl_*) for the binlog
 * stream, whose raw event bytes go to our own decoder (binlog.h).
 *
 * Passwords never appear in messages or logs.  Every error names the server
 * (host:port or socket) and what failed; server errors carry the server's
 * error number and text.
 */
#ifndef LKS_SOURCE_H
#define LKS_SOURCE_H

#include "cdc/cdc.h"
#include "source/binlog.h"

/* ---- connection ------------------------------------------------------------------------ */

typedef struct lks_src_conf {
    const char *host;         /* NULL: "127.0.0.1" (ignored when socket is set) */
    int port;                 /* 0: 3306 */
    const char *socket;       /* unix socket path, or NULL */
    const char *user;         /* required */
    const char *password;     /* may be NULL */
    /* database.ssl.mode as Debezium: "disabled", "preferred" (default),
     * "required", "verify_ca", "verify_identity"; with ca/cert/key paths. */
    const char *ssl_mode;
    const char *ssl_ca, *ssl_cert, *ssl_key;
    uint32_t server_id;       /* the replica id we register with (0: 5400) */
    int connect_timeout_ms;   /* 0: 10000 */
    int heartbeat_ms;         /* binlog heartbeat period asked of the server (0: 1000) */
} lks_src_conf;

typedef struct lks_src_conn lks_src_conn;

/* Connects (session: time_zone '+00:00', character set utf8mb4, autocommit). */
int lks_src_connect(const lks_src_conf *c, lks_src_conn **out, lks_err *err);
void lks_src_close(lks_src_conn *c);
/* "host:port" or the socket path, for messages. */
const char *lks_src_name(const lks_src_conn *c);
/* Runs one statement that returns no rows. */
int lks_src_exec(lks_src_conn *c, const char *sql, lks_err *err);

typedef struct lks_src_info {
    char version[96];         /* SELECT VERSION() */
    int mariadb;              /* the server is MariaDB */
    int log_bin;              /* @@log_bin */
    char binlog_format[16];   /* ROW, MIXED, STATEMENT */
    char row_image[16];       /* FULL, MINIMAL, NOBLOB */
    char row_metadata[16];    /* FULL, MINIMAL, NO_LOG ("" when the server has no such variable) */
    int checksum_crc32;       /* @@binlog_checksum = CRC32 */
    char server_uuid[64];     /* MySQL @@server_uuid, "" on MariaDB */
    uint32_t server_id;       /* @@server_id */
} lks_src_info;

int lks_src_info_get(lks_src_conn *c, lks_src_info *out, lks_err *err);
/* What capture needs: binary logging on, binlog_format=ROW.  LKS_ECONFIG
 * naming the setting and how to set it (the SET GLOBAL statement and the
 * my.cnf line) otherwise.  binlog_row_image other than FULL is allowed
 * (rows then carry LKS_CV_ABSENT columns); so is binlog_row_metadata other
 * than FULL (lks_src_full_metadata tells: then column names and primary
 * keys must come from information_schema). */
int lks_src_check(const lks_src_info *i, const char *server_name, lks_err *err);
/* 1 when binlog_row_metadata=FULL: the binlog names columns and keys. */
int lks_src_full_metadata(const lks_src_info *i);

/* SHOW MASTER STATUS (MariaDB: SHOW BINLOG STATUS also accepted): the
 * current end of the binlog. */
int lks_src_binlog_end(lks_src_conn *c, char *file, size_t cap, uint64_t *pos, lks_err *err);
/* 1 when `file` is still on the server (SHOW BINARY LOGS), 0 when purged. */
int lks_src_binlog_exists(lks_src_conn *c, const char *file, lks_err *err);

/* Every statement event (QUERY) of the binlog from file:pos up to
 * end_file:end_pos, read with SHOW BINLOG EVENTS (no replica connection):
 * cb gets its file and position, default database ("" when none) and text.
 * A non-zero return from cb stops the scan and is returned. */
typedef int lks_src_query_cb(void *ud, const char *file, uint64_t pos, const char *db, const char *sql,
                             lks_err *err);
int lks_src_scan_queries(lks_src_conn *c, const char *file, uint64_t pos, const char *end_file, uint64_t end_pos,
                         lks_src_query_cb *cb, void *ud, lks_err *err);

/* ---- GTID positions (MariaDB) ------------------------------------------------------------ */

/* A MariaDB GTID position: the last GTID of each replication domain,
 * sorted by domain ("0-1-100,1-2-7" in text, as @@gtid_binlog_pos). */
#define LKS_GTID_DOMAINS_MAX 64
typedef struct lks_gtid_pos {
    int n;
    struct {
        uint32_t domain, server;
        uint64_t seq;
    } g[LKS_GTID_DOMAINS_MAX];
} lks_gtid_pos;

/* "" is the empty position; anything but domain-server-seq items joined by
 * commas (seq below 2^63) is LKS_EINVAL naming the byte. */
int lks_gtid_pos_parse(const char *s, lks_gtid_pos *out, lks_err *err);
/* LKS_ELIMIT when it does not fit in cap. */
int lks_gtid_pos_format(const lks_gtid_pos *g, char *out, size_t cap);
/* Sets the domain's GTID (LKS_ELIMIT past LKS_GTID_DOMAINS_MAX domains). */
int lks_gtid_pos_set(lks_gtid_pos *g, uint32_t domain, uint32_t server, uint64_t seq);
/* The domain's sequence number, -1 when the position does not name it. */
int64_t lks_gtid_pos_seq(const lks_gtid_pos *g, uint32_t domain);
/* 1 when a is at or past b in every domain b names. */
int lks_gtid_pos_covers(const lks_gtid_pos *a, const lks_gtid_pos *b);
int lks_gtid_pos_equal(const lks_gtid_pos *a, const lks_gtid_pos *b);
/* a := the later of a and b per domain (domains of either). */
void lks_gtid_pos_merge_max(lks_gtid_pos *a, const lks_gtid_pos *b);
/* a := the earlier of a and b per domain, keeping only domains both name
 * (a domain one of them lacks must be read from its start). */
void lks_gtid_pos_meet_min(lks_gtid_pos *a, const lks_gtid_pos *b);

/* MariaDB: BINLOG_GTID_POS(file, pos), the GTID position of everything
 * before file:pos; *valid 0 when the server knows no such place (NULL). */
int lks_src_binlog_gtid_pos(lks_src_conn *c, const char *file, uint64_t pos, lks_gtid_pos *out, int *valid,
                            lks_err *err);

/* ---- tables ------------------------------------------------------------------------------ */

/* Debezium's include/exclude lists: comma-separated POSIX extended regular
 * expressions, each matched against the whole name (anchored): databases by
 * "db", tables by "db.table".  An include list, when set, admits only what
 * it matches; an exclude list removes what it matches; setting both include
 * and exclude for the same level is LKS_ECONFIG (as in Debezium).  System
 * schemas (mysql, information_schema, performance_schema, sys) are never
 * captured. */
typedef struct lks_src_filter lks_src_filter;
int lks_src_filter_new(const char *db_include, const char *db_exclude, const char *table_include,
                       const char *table_exclude, lks_src_filter **out, lks_err *err);
void lks_src_filter_free(lks_src_filter *f);
int lks_src_filter_match(const lks_src_filter *f, const char *db, const char *table);

/* Base tables the filter admits, sorted by db then table; names
 * arena-allocated. */
int lks_src_list_tables(lks_src_conn *c, const lks_src_filter *f, lks_arena *a, const char ***dbs,
                        const char ***tables, int *n, lks_err *err);

/* ENUM or SET members of one column, one by one as its COLUMN_TYPE lists
 * them (n 0 for other columns). */
typedef struct lks_src_members {
    const char **m;
    size_t *len;
    int n;
} lks_src_members;

/* A table's columns from information_schema, mapped exactly as binlog.h maps
 * TABLE_MAP columns with full metadata (the two must agree, so a table
 * created from the snapshot takes the stream's events), and its primary key
 * (column indexes in key order; nkey 0 when it has none); with members not
 * NULL, also each column's ENUM/SET members (an array of nfields).
 * Arena-allocated.  LKS_ENOTFOUND when the table does not exist. */
int lks_src_table_schema(lks_src_conn *c, const char *db, const char *table, lks_arena *a, lks_cdc_schema *out,
                         int **key, int *nkey, lks_src_members **members, lks_err *err);

/* Without FULL metadata the binlog decoder gives an ENUM's index or a SET's
 * bit set as decimal text; v (such a value) becomes the member's text (SET:
 * the members joined with commas, in the column's order, in a).  NULL and
 * absent values stay; a number past the members is LKS_ECORRUPT. */
int lks_src_members_apply(const lks_src_members *mb, int is_set, lks_cdc_value *v, lks_arena *a, lks_err *err);
/* information_schema's row estimate (for progress), -1 when unknown. */
int64_t lks_src_table_rows_estimate(lks_src_conn *c, const char *db, const char *table);

/* ---- consistent snapshot ------------------------------------------------------------------------ */

/* Starts a consistent read view and returns the binlog position it matches:
 * MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then the
 * binlog_snapshot_file / binlog_snapshot_position status (no global lock);
 * MySQL: FLUSH TABLES WITH READ LOCK, START TRANSACTION WITH CONSISTENT
 * SNAPSHOT, SHOW MASTER STATUS, UNLOCK TABLES (the lock is held only for
 * those three statements).  The connection is then inside the read view
 * until lks_src_snapshot_end. */
int lks_src_snapshot_begin(lks_src_conn *c, char *file, size_t cap, uint64_t *pos, lks_err *err);
int lks_src_snapshot_end(lks_src_conn *c, lks_err *err);

typedef struct lks_src_snapshot_opts {
    const char *topic_prefix; /* source.name */
    const char *file;         /* snapshot position: source.file/pos of every event */
    uint64_t pos;
    int64_t chunk_rows;       /* rows per primary-key chunk (0: 10000) */
} lks_src_snapshot_opts;

/* Called once per row ('r' event: after image only, source.snapshot TRUE
 * ("last" for the table's final row), row = row number in the table, ts_ms
 * of source and event = now).  Non-zero stops the snapshot and is returned. */
typedef int lks_src_row_cb(void *ud, const lks_cdc_event *ev, lks_err *err);

/* Reads the table inside the read view in primary-key chunks (keyset
 * pagination: WHERE (k1,k2,…) > (last key) ORDER BY k1,k2,… LIMIT chunk;
 * a table without primary key is read in one pass), converting the text
 * protocol's values into the schema's value forms (the same values the
 * binlog decoder gives for the same row: DECIMAL from text, DATE as days,
 * TIME/DATETIME/TIMESTAMP in µs (the session is UTC), zero dates NULL, BIT
 * as bytes / BOOL, YEAR as integer, ENUM/SET as their text, binary strings
 * as bytes).  The schema and key are those lks_src_table_schema returned. */
int lks_src_snapshot_table(lks_src_conn *c, const char *db, const char *table, const lks_cdc_schema *schema,
                           const int *key, int nkey, const lks_src_snapshot_opts *o, lks_src_row_cb *cb, void *ud,
                           lks_err *err);

/* ---- the binlog stream ------------------------------------------------------------------------ */

typedef struct lks_src_stream lks_src_stream;

/* Registers as a replica (server_id) and asks for the binlog from
 * file:pos, with CRC32 checksums when the server writes them and
 * heartbeats every conf->heartbeat_ms.  A purged or unknown file is
 * LKS_ENOTFOUND whose message names the file and the fix
 * (snapshot.mode=when_needed). */
int lks_src_stream_open(const lks_src_conf *c, const char *file, uint64_t pos, lks_src_stream **out,
                        lks_err *err);
/* MariaDB: asks for the binlog after GTID position `from`
 * (@slave_connect_state), wherever the server holds it: after a failover
 * the new primary's files and offsets differ from the old one's.  The
 * first events are the server's ROTATE naming the file it starts in.  A
 * position the server cannot serve (purged, or GTIDs it never had) is
 * LKS_ENOTFOUND naming it and the fix. */
int lks_src_stream_open_gtid(const lks_src_conf *c, const lks_gtid_pos *from, lks_src_stream **out, lks_err *err);
/* Blocks until the next event (heartbeats included, so it returns at least
 * every heartbeat period): its bytes (header … checksum, valid until the
 * next call) and its position in its file (log_pos − length; 0 for
 * artificial events such as the first ROTATE).  *crc32 tells whether the
 * stream carries checksums.  A lost connection is LKS_EIO (the caller
 * reconnects from its last position). */
int lks_src_stream_next(lks_src_stream *s, const uint8_t **ev, size_t *len, uint64_t *pos, lks_err *err);
int lks_src_stream_crc32(const lks_src_stream *s);
void lks_src_stream_close(lks_src_stream *s);

#endif
