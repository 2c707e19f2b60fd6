/*
 * stream.c — the binlog stream: a replica connection that asks the server
 * for the binlog from file:pos and hands out each event's raw bytes.
 *
 * The session is prepared as a replica's is (@master_binlog_checksum
 * matching the server's @@binlog_checksum, @mariadb_slave_capability=4 so
 * MariaDB sends GTID events, @master_heartbeat_period in nanoseconds,
 * @slave_uuid/@replica_uuid for MySQL), then libmariadb's replication API
 * sends COM_BINLOG_DUMP (mariadb_rpl_open).  Events are read as raw
 * packets with mysql_net_read_packet rather than mariadb_rpl_fetch:
 * libmariadb 3.3's fetch parses every event itself and fails on events it
 * does not know unless they carry the ignorable flag — MySQL 8's
 * TRANSACTION_PAYLOAD (binlog_transaction_compression), HEARTBEAT_V2,
 * GTID_TAGGED, PARTIAL_UPDATE_ROWS and TRANSACTION_CONTEXT among them — and
 * copies every event.  Our own decoder (binlog.h) verifies and decodes the
 * bytes.  Each packet is the OK byte 0x00 followed by one whole event
 * (libmariadb joins packets over 16 MiB).
 *
 * The dump's answer to a purged or unknown file (error 1236) only arrives
 * with the first read, so lks_src_stream_open reads the first packet (the
 * server's artificial ROTATE comes at once) and keeps it for the first
 * lks_src_stream_next.
 *
 * Only MariaDB servers could be tried here; MySQL servers are served by
 * the same packets (COM_BINLOG_DUMP, not the GTID variant).
 */
#include "source/source_int.h"

#include <errmsg.h>
#include <mariadb_rpl.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_EVENT_ARTIFICIAL 0x20

struct lks_src_stream {
    MYSQL *m;
    MARIADB_RPL *rpl;
    char name[LKS_SRC_NAME_MAX];
    char file[256]; /* where the stream started, for messages */
    uint64_t start;
    char gtid[1400]; /* a GTID start: the position ("" for file:pos starts) */
    int crc32;
    int held; /* the first packet, read by open, not yet returned */
    unsigned long held_len;
};

/* A failed read: the server's refusal of the position, or a lost connection. */
static int read_error(lks_src_stream *s, lks_err *err) {
    unsigned n = mysql_errno(s->m);
    if (n == ER_MASTER_FATAL_ERROR_READING_BINLOG && s->gtid[0])
        return lks_err_set(err, LKS_ENOTFOUND,
                           "%s: cannot stream the binlog from GTID position %s: server error %u: %s: the server "
                           "no longer has (or never had) those transactions; set snapshot.mode=when_needed to "
                           "take a new snapshot",
                           s->name, s->gtid, n, mysql_error(s->m));
    if (n == ER_MASTER_FATAL_ERROR_READING_BINLOG)
        return lks_err_set(err, LKS_ENOTFOUND,
                           "%s: cannot stream the binlog from %s:%llu: server error %u: %s: the position is no "
                           "longer on the server (purged, or never written); set snapshot.mode=when_needed to "
                           "take a new snapshot",
                           s->name, s->file, (unsigned long long)s->start, n, mysql_error(s->m));
    if (s->gtid[0])
        return lks_err_set(err, LKS_EIO, "%s: binlog stream from GTID position %s: %s %u: %s (reconnect)", s->name,
                           s->gtid, n >= 2000 ? "client error" : "server error", n, mysql_error(s->m));
    return lks_err_set(err, LKS_EIO, "%s: binlog stream from %s:%llu: %s %u: %s (reconnect from the last position)",
                       s->name, s->file, (unsigned long long)s->start, n >= 2000 ? "client error" : "server error", n,
                       mysql_error(s->m));
}

/* Prepares the session as a replica's and asks for the binlog. */
static int start_dump(lks_src_stream *s, const lks_src_conf *c, lks_err *err) {
    MYSQL_RES *res;
    int rc = lks_src_query(s->m, s->name, "SELECT @@global.binlog_checksum", &res, err);
    if (rc)
        return rc;
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    s->crc32 = row && row[0] && !strcasecmp(row[0], "CRC32");
    mysql_free_result(res);

    int hb = c->heartbeat_ms > 0 ? c->heartbeat_ms : 1000;
    char uuid[37], sql[256];
    lks_uuid4(uuid);
    snprintf(sql, sizeof sql, "SET @master_binlog_checksum = '%s', @source_binlog_checksum = '%s'",
             s->crc32 ? "CRC32" : "NONE", s->crc32 ? "CRC32" : "NONE");
    rc = lks_src_query(s->m, s->name, sql, &res, err);
    if (!rc)
        rc = lks_src_query(s->m, s->name, "SET @mariadb_slave_capability = 4", &res, err);
    if (!rc) {
        /* MySQL 8.0.26+ also reads the "source" spellings */
        snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %lld, @source_heartbeat_period = %lld",
                 (long long)hb * 1000000LL, (long long)hb * 1000000LL);
        rc = lks_src_query(s->m, s->name, sql, &res, err);
    }
    if (!rc) {
        snprintf(sql, sizeof sql, "SET @slave_uuid = '%s', @replica_uuid = '%s'", uuid, uuid);
        rc = lks_src_query(s->m, s->name, sql, &res, err);
    }
    if (!rc && s->gtid[0]) {
        /* MariaDB: the dump starts after these GTIDs, the file name left empty */
        char q[sizeof s->gtid + 128];
        snprintf(q, sizeof q, "SET @slave_connect_state = '%s', @slave_gtid_strict_mode = 0, "
                              "@slave_gtid_ignore_duplicates = 0", s->gtid);
        rc = lks_src_query(s->m, s->name, q, &res, err);
    }
    if (rc)
        return rc;

    s->rpl = mariadb_rpl_init(s->m);
    if (!s->rpl)
        return lks_src_mysql_err(s->m, s->name, "starting replication", err);
    unsigned id = c->server_id ? c->server_id : 5400;
    if (mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FILENAME, s->file, strlen(s->file)) ||
        mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_START, (unsigned long)s->start) ||
        mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_SERVER_ID, id) || mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FLAGS, 0u))
        return lks_err_set(err, LKS_EINTERNAL, "%s: replication options refused", s->name);
    if (mariadb_rpl_open(s->rpl)) {
        const char *why = mariadb_rpl_error(s->rpl);
        return lks_err_set(err, LKS_EIO, "%s: COM_BINLOG_DUMP from %s:%llu%s%s with server_id %u: %s", s->name,
                           s->file, (unsigned long long)s->start, s->gtid[0] ? " GTID " : "", s->gtid, id,
                           why && *why ? why : mysql_error(s->m));
    }
    unsigned long len = mysql_net_read_packet(s->m);
    if (len == packet_error)
        return read_error(s, err);
    s->held = 1;
    s->held_len = len;
    return LKS_OK;
}

static int open_stream(const lks_src_conf *c, const char *file, uint64_t pos, const lks_gtid_pos *gtid,
                       lks_src_stream **out, lks_err *err) {
    *out = NULL;
    lks_src_stream *s = calloc(1, sizeof *s);
    if (!s)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    snprintf(s->file, sizeof s->file, "%s", file);
    s->start = pos;
    if (gtid && lks_gtid_pos_format(gtid, s->gtid, sizeof s->gtid)) {
        free(s);
        return lks_err_set(err, LKS_ELIMIT, "binlog stream: GTID position longer than %zu bytes", sizeof s->gtid);
    }
    int rc = lks_src_mysql_open(c, 1, &s->m, s->name, err);
    if (!rc)
        rc = start_dump(s, c, err);
    if (rc) {
        lks_src_stream_close(s);
        return rc;
    }
    *out = s;
    return LKS_OK;
}

int lks_src_stream_open(const lks_src_conf *c, const char *file, uint64_t pos, lks_src_stream **out, lks_err *err) {
    *out = NULL;
    if (!file || !*file || strlen(file) >= sizeof((lks_src_stream *)0)->file)
        return lks_err_set(err, LKS_EINVAL, "binlog stream: file name '%s' is empty or too long", file ? file : "");
    if (pos > UINT32_MAX)
        return lks_err_set(err, LKS_EINVAL, "binlog stream: position %llu is past 4 GiB", (unsigned long long)pos);
    return open_stream(c, file, pos, NULL, out, err);
}

int lks_src_stream_open_gtid(const lks_src_conf *c, const lks_gtid_pos *from, lks_src_stream **out, lks_err *err) {
    *out = NULL;
    if (!from || !from->n)
        return lks_err_set(err, LKS_EINVAL, "binlog stream: an empty GTID position");
    return open_stream(c, "", 4, from, out, err);
}

int lks_src_stream_next(lks_src_stream *s, const uint8_t **ev, size_t *len, uint64_t *pos, lks_err *err) {
    unsigned long n;
    if (s->held) {
        s->held = 0;
        n = s->held_len;
    } else {
        n = mysql_net_read_packet(s->m);
        if (n == packet_error)
            return read_error(s, err);
    }
    const uint8_t *p = s->m->net.read_pos;
    if (n == 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: binlog stream: empty packet", s->name);
    if (p[0] == 0xFE && n < 9)
        return lks_err_set(err, LKS_EIO,
                           "%s: binlog stream: the server ended the stream (reconnect from the last "
                           "position)",
                           s->name);
    if (p[0] != 0x00)
        return lks_err_set(err, LKS_ECORRUPT, "%s: binlog stream: packet starts with 0x%02x, not the OK byte", s->name,
                           p[0]);
    const uint8_t *e = p + 1;
    size_t elen = n - 1;
    if (elen < 19)
        return lks_err_set(err, LKS_ECORRUPT, "%s: binlog stream: %zu-byte event is shorter than its header", s->name,
                           elen);
    uint32_t hlen = lks_load_le32(e + 9);
    uint32_t log_pos = lks_load_le32(e + 13);
    unsigned flags = (unsigned)(e[17] | e[18] << 8);
    int type = e[4];
    if (hlen != elen)
        return lks_err_set(err, LKS_ECORRUPT, "%s: binlog stream: event of type %d says %u bytes, the packet holds %zu",
                           s->name, type, hlen, elen);
    /* artificial events (the first ROTATE, the FORMAT_DESCRIPTION sent for a
     * start past 4, heartbeats) are not at a place in the file */
    if (log_pos == 0 || (flags & LOG_EVENT_ARTIFICIAL) || type == LKS_BLE_HEARTBEAT || type == LKS_BLE_HEARTBEAT_V2)
        *pos = 0;
    else if (log_pos < elen)
        return lks_err_set(err, LKS_ECORRUPT, "%s: binlog stream: event of type %d ends at %u but is %zu bytes long",
                           s->name, type, log_pos, elen);
    else
        *pos = log_pos - elen;
    *ev = e;
    *len = elen;
    return LKS_OK;
}

int lks_src_stream_crc32(const lks_src_stream *s) { return s->crc32; }

void lks_src_stream_close(lks_src_stream *s) {
    if (!s)
        return;
    if (s->rpl)
        mariadb_rpl_close(s->rpl);
    if (s->m)
        mysql_close(s->m);
    free(s);
}
