/*
 * binlog.c — the binlog event decoder (binlog.h): the format description
 * and checksums, transaction boundaries, table maps with their optional
 * metadata, row events (v1/v2, MariaDB's compressed forms, MySQL's partial
 * JSON updates) and transaction payloads.  Column values are read by
 * binlog_value.c.
 *
 * Decisions the contract leaves open:
 *  - Which columns the optional metadata's per-column lists cover depends
 *    on the server: MariaDB counts YEAR among the numeric columns
 *    (signedness) and GEOMETRY among the character columns (charsets);
 *    MySQL does neither.  The flavour comes from the format description's
 *    server version.  VECTOR counts as a character column (binary).
 *  - A MySQL GTID event followed by QUERY "BEGIN" is one transaction: the
 *    GTID is its BEGIN item, the query an LKS_BL_OTHER item.  A QUERY
 *    ROLLBACK ends the transaction like COMMIT (the non-transactional
 *    changes it carries did happen).  XA statements are LKS_BL_OTHER.
 *  - Row events arriving outside a transaction (decoding that starts in
 *    the middle of one) open one at the row event's position.
 *  - A table id mapped again with byte-identical TABLE_MAP contents keeps
 *    its table (the common case: every transaction maps its tables again),
 *    so pointers to it stay valid longer than the contract promises.  At
 *    most 65536 table ids are kept: beyond that the least recently mapped
 *    one is dropped (a table is always mapped again before its rows).
 *  - A TABLE_MAP the decoder cannot parse (an unknown column type) is an
 *    error unless want_table declines the table: its row events are then
 *    skipped like any declined table's.
 *  - Without charset metadata (servers before MySQL 8.0.1 / MariaDB 10.5),
 *    CHAR/VARCHAR values are passed on as stored, the charset being unknown.
 */
#include "source/binlog_int.h"
#include "source/mysql_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#define HDR_LEN 19
#define FDE_FIXED 57 /* binlog version, server version[50], create time, header length */
#define MAX_COLS 4096
#define MAX_TABLES 65536
#define DEFAULT_MAX_EVENT ((size_t)1 << 30)
/* deflate expands at most about 1032 to 1: a larger declared length is a
 * lie that would only make us allocate */
#define DEFLATE_MAX_RATIO 1100

enum { TXN_NONE = 0, TXN_GTID, TXN_EXPLICIT };

/* TABLE_MAP optional metadata field types. */
enum {
    OM_SIGNEDNESS = 1,
    OM_DEFAULT_CHARSET,
    OM_COLUMN_CHARSET,
    OM_COLUMN_NAME,
    OM_SET_STR_VALUE,
    OM_ENUM_STR_VALUE,
    OM_GEOMETRY_TYPE,
    OM_SIMPLE_PRIMARY_KEY,
    OM_PRIMARY_KEY_WITH_PREFIX,
    OM_ENUM_AND_SET_DEFAULT_CHARSET,
    OM_ENUM_AND_SET_COLUMN_CHARSET,
    OM_COLUMN_VISIBILITY,
    OM_VECTOR_DIMENSIONALITY
};

typedef struct bl_table {
    lks_binlog_table pub;
    lks_arena arena;
    uint8_t *raw; /* the TABLE_MAP body it was built from */
    size_t rawlen;
    bl_col *cols;
    int want; /* rows are decoded */
    int ok;   /* the columns could be parsed */
    char why[256];
    int njson;
    uint64_t seq;
} bl_table;

struct lks_binlog_decoder {
    char *topic;
    char *file;
    const char *input; /* the file lks_binlog_decode_file reads (messages) */
    int verify;
    int crc; /* events carry a CRC32 */
    size_t max_event;
    int (*want_table)(void *ud, const char *db, const char *table);
    void *want_ud;

    unsigned hdr_len;
    uint8_t post_len[256];
    char server_version[51];
    int mariadb;

    bl_table **slots; /* open addressing on table id */
    size_t nslots, ntables;
    uint64_t seq;

    lks_arena scratch; /* per event */
    lks_buf tmp;       /* JSON text and decompressed column values */
    lks_buf rowsbuf;   /* decompressed rows of a MariaDB compressed event */
    lks_buf payload;   /* a TRANSACTION_PAYLOAD's events */
    ZSTD_DCtx *zstd;
    lks_cdc_event *evs;
    size_t evcap;
    bl_iconv_cache ic;

    int txn;
    uint64_t txn_pos;
    int64_t txn_row;
    char gtid[200];
    int has_gtid;
};

/* The event being decoded. */
typedef struct ectx {
    lks_binlog_decoder *d;
    int type;
    uint64_t pos, next_pos;
    uint32_t ts, server_id;
    const uint8_t *body; /* after the header, before the checksum */
    size_t blen;
    int inner; /* inside a TRANSACTION_PAYLOAD */
    lks_binlog_cb *cb;
    void *ud;
    lks_err *err;
} ectx;

/* ---- names and errors ------------------------------------------------------------------- */

const char *lks_binlog_type_name(int type) {
    switch (type) {
    case 1: return "START_V3";
    case LKS_BLE_QUERY: return "QUERY";
    case LKS_BLE_STOP: return "STOP";
    case LKS_BLE_ROTATE: return "ROTATE";
    case 5: return "INTVAR";
    case 6: return "LOAD";
    case 7: return "SLAVE";
    case 8: return "CREATE_FILE";
    case 9: return "APPEND_BLOCK";
    case 10: return "EXEC_LOAD";
    case 11: return "DELETE_FILE";
    case 12: return "NEW_LOAD";
    case 13: return "RAND";
    case 14: return "USER_VAR";
    case LKS_BLE_FORMAT_DESCRIPTION: return "FORMAT_DESCRIPTION";
    case LKS_BLE_XID: return "XID";
    case 17: return "BEGIN_LOAD_QUERY";
    case 18: return "EXECUTE_LOAD_QUERY";
    case LKS_BLE_TABLE_MAP: return "TABLE_MAP";
    case 20: return "PRE_GA_WRITE_ROWS";
    case 21: return "PRE_GA_UPDATE_ROWS";
    case 22: return "PRE_GA_DELETE_ROWS";
    case LKS_BLE_WRITE_ROWS_V1: return "WRITE_ROWS_V1";
    case LKS_BLE_UPDATE_ROWS_V1: return "UPDATE_ROWS_V1";
    case LKS_BLE_DELETE_ROWS_V1: return "DELETE_ROWS_V1";
    case 26: return "INCIDENT";
    case LKS_BLE_HEARTBEAT: return "HEARTBEAT";
    case 28: return "IGNORABLE";
    case LKS_BLE_ROWS_QUERY: return "ROWS_QUERY";
    case LKS_BLE_WRITE_ROWS_V2: return "WRITE_ROWS_V2";
    case LKS_BLE_UPDATE_ROWS_V2: return "UPDATE_ROWS_V2";
    case LKS_BLE_DELETE_ROWS_V2: return "DELETE_ROWS_V2";
    case LKS_BLE_GTID: return "GTID";
    case LKS_BLE_ANONYMOUS_GTID: return "ANONYMOUS_GTID";
    case LKS_BLE_PREVIOUS_GTIDS: return "PREVIOUS_GTIDS";
    case 36: return "TRANSACTION_CONTEXT";
    case 37: return "VIEW_CHANGE";
    case 38: return "XA_PREPARE";
    case LKS_BLE_PARTIAL_UPDATE_ROWS: return "PARTIAL_UPDATE_ROWS";
    case LKS_BLE_TRANSACTION_PAYLOAD: return "TRANSACTION_PAYLOAD";
    case LKS_BLE_HEARTBEAT_V2: return "HEARTBEAT_V2";
    case LKS_BLE_GTID_TAGGED: return "GTID_TAGGED";
    case LKS_BLE_MARIA_ANNOTATE_ROWS: return "ANNOTATE_ROWS";
    case LKS_BLE_MARIA_BINLOG_CHECKPOINT: return "BINLOG_CHECKPOINT";
    case LKS_BLE_MARIA_GTID: return "MARIADB_GTID";
    case LKS_BLE_MARIA_GTID_LIST: return "GTID_LIST";
    case LKS_BLE_MARIA_START_ENCRYPTION: return "START_ENCRYPTION";
    case LKS_BLE_MARIA_QUERY_COMPRESSED: return "QUERY_COMPRESSED";
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1: return "WRITE_ROWS_COMPRESSED_V1";
    case LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED_V1: return "UPDATE_ROWS_COMPRESSED_V1";
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1: return "DELETE_ROWS_COMPRESSED_V1";
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED: return "WRITE_ROWS_COMPRESSED";
    case LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED: return "UPDATE_ROWS_COMPRESSED";
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED: return "DELETE_ROWS_COMPRESSED";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "UNKNOWN(%d)", type);
        return buf;
    }
    }
}

/* The name errors use: the file being read (a relay log's ROTATE events
 * change source.file, not where the bytes are), else source.file. */
static const char *file_name(const lks_binlog_decoder *d) { return d->input ? d->input : d->file ? d->file : "binlog"; }

/* A name from the input, fit for a message: non-printable bytes as '?'. */
static const char *printable(const char *s, char *buf, size_t cap) {
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
    buf[i] = 0;
    return buf;
}

static int failv(const ectx *e, int code, const char *fmt, va_list ap) LKS_PRINTF(3, 0);
static int failv(const ectx *e, int code, const char *fmt, va_list ap) {
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return lks_err_set(e->err, code, "%s: %s event at %llu%s: %s", file_name(e->d), lks_binlog_type_name(e->type),
                       (unsigned long long)e->pos, e->inner ? " (in a TRANSACTION_PAYLOAD)" : "", msg);
}

static int fail(const ectx *e, int code, const char *fmt, ...) LKS_PRINTF(3, 4);
static int fail(const ectx *e, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(e, code, fmt, ap);
    va_end(ap);
    return rc;
}

static int nomem(const ectx *e) { return fail(e, LKS_ENOMEM, "out of memory"); }

/* ---- small readers --------------------------------------------------------------------------- */

static uint64_t le_uint(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* MySQL's length-encoded integer (net_field_length); 251 (NULL) and 255
 * are invalid here. */
static uint64_t cur_packed(lks_cur *c) {
    uint8_t b = lks_cur_u8(c);
    if (b < 251)
        return b;
    const uint8_t *q;
    switch (b) {
    case 252: return lks_cur_le16(c);
    case 253: return (q = lks_cur_take(c, 3)) ? le_uint(q, 3) : 0;
    case 254: return lks_cur_le64(c);
    default: c->failed = 1; return 0;
    }
}

static int bit_lsb(const uint8_t *map, size_t i) { return map[i >> 3] >> (i & 7) & 1; }

/* ---- decoder ------------------------------------------------------------------------------------ */

static void set_default_post_lens(lks_binlog_decoder *d) {
    memset(d->post_len, 0, sizeof d->post_len);
    d->post_len[LKS_BLE_QUERY] = 13;
    d->post_len[LKS_BLE_MARIA_QUERY_COMPRESSED] = 13;
    d->post_len[LKS_BLE_ROTATE] = 8;
    d->post_len[LKS_BLE_TABLE_MAP] = 8;
    for (int t = LKS_BLE_WRITE_ROWS_V1; t <= LKS_BLE_DELETE_ROWS_V1; t++)
        d->post_len[t] = 8;
    for (int t = LKS_BLE_WRITE_ROWS_V2; t <= LKS_BLE_DELETE_ROWS_V2; t++)
        d->post_len[t] = 10;
    d->post_len[LKS_BLE_PARTIAL_UPDATE_ROWS] = 10;
    for (int t = LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1; t <= LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1; t++)
        d->post_len[t] = 8;
    for (int t = LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED; t <= LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED; t++)
        d->post_len[t] = 10;
}

int lks_binlog_decoder_new(const lks_binlog_opts *o, lks_binlog_decoder **out, lks_err *err) {
    *out = NULL;
    lks_binlog_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return lks_err_set(err, LKS_ENOMEM, "binlog: out of memory");
    const char *topic = o && o->topic_prefix ? o->topic_prefix : "lakesync";
    d->topic = strdup(topic);
    d->file = o && o->file ? strdup(o->file) : NULL;
    d->verify = !(o && o->skip_checksum);
    d->max_event = o && o->max_event_bytes ? o->max_event_bytes : DEFAULT_MAX_EVENT;
    d->want_table = o ? o->want_table : NULL;
    d->want_ud = o ? o->want_ud : NULL;
    d->hdr_len = HDR_LEN;
    set_default_post_lens(d);
    lks_arena_init(&d->scratch, 0);
    lks_buf_init(&d->tmp, d->max_event);
    lks_buf_init(&d->rowsbuf, d->max_event);
    lks_buf_init(&d->payload, d->max_event);
    lks_bl_iconv_init(&d->ic);
    if (!d->topic || (o && o->file && !d->file)) {
        lks_binlog_decoder_free(d);
        return lks_err_set(err, LKS_ENOMEM, "binlog: out of memory");
    }
    *out = d;
    return LKS_OK;
}

static void table_free(bl_table *t) {
    if (!t)
        return;
    lks_arena_free(&t->arena);
    free(t);
}

void lks_binlog_decoder_free(lks_binlog_decoder *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->nslots; i++)
        table_free(d->slots[i]);
    free(d->slots);
    free(d->topic);
    free(d->file);
    lks_arena_free(&d->scratch);
    lks_buf_free(&d->tmp);
    lks_buf_free(&d->rowsbuf);
    lks_buf_free(&d->payload);
    ZSTD_freeDCtx(d->zstd);
    free(d->evs);
    lks_bl_iconv_free(&d->ic);
    free(d);
}

void lks_binlog_decoder_set_checksum(lks_binlog_decoder *d, int crc32) { d->crc = crc32 ? 1 : 0; }

int lks_binlog_decoder_set_file(lks_binlog_decoder *d, const char *file, lks_err *err) {
    char *f = strdup(file ? file : "");
    if (!f)
        return lks_err_set(err, LKS_ENOMEM, "binlog: out of memory");
    free(d->file);
    d->file = f;
    return LKS_OK;
}

/* ---- the table-id map ------------------------------------------------------------------------ */

static size_t slot_of(const lks_binlog_decoder *d, uint64_t id) {
    size_t mask = d->nslots - 1, i = (size_t)(id * UINT64_C(0x9e3779b97f4a7c15) >> 20) & mask;
    while (d->slots[i] && d->slots[i]->pub.table_id != id)
        i = (i + 1) & mask;
    return i;
}

static bl_table *table_find(const lks_binlog_decoder *d, uint64_t id) {
    if (!d->nslots)
        return NULL;
    return d->slots[slot_of(d, id)];
}

/* Removes the table in slot i, re-inserting the rest of its probe run. */
static void slot_remove(lks_binlog_decoder *d, size_t i) {
    size_t mask = d->nslots - 1;
    table_free(d->slots[i]);
    d->slots[i] = NULL;
    d->ntables--;
    for (size_t j = (i + 1) & mask; d->slots[j]; j = (j + 1) & mask) {
        bl_table *t = d->slots[j];
        d->slots[j] = NULL;
        d->slots[slot_of(d, t->pub.table_id)] = t;
    }
}

/* Takes ownership of t (replacing a table of the same id). */
static int table_put(lks_binlog_decoder *d, bl_table *t) {
    if (d->ntables + 1 > d->nslots / 2) {
        size_t n = d->nslots ? d->nslots * 2 : 64;
        bl_table **old = d->slots;
        size_t oldn = d->nslots;
        d->slots = calloc(n, sizeof *d->slots);
        if (!d->slots) {
            d->slots = old;
            return LKS_ENOMEM;
        }
        d->nslots = n;
        for (size_t i = 0; i < oldn; i++)
            if (old[i])
                d->slots[slot_of(d, old[i]->pub.table_id)] = old[i];
        free(old);
    }
    size_t i = slot_of(d, t->pub.table_id);
    if (d->slots[i]) {
        table_free(d->slots[i]);
        d->ntables--;
    }
    d->slots[i] = t;
    d->ntables++;
    t->seq = ++d->seq;
    if (d->ntables > MAX_TABLES) { /* drop the least recently mapped */
        size_t victim = d->nslots;
        for (size_t k = 0; k < d->nslots; k++)
            if (d->slots[k] && d->slots[k] != t && (victim == d->nslots || d->slots[k]->seq < d->slots[victim]->seq))
                victim = k;
        if (victim < d->nslots)
            slot_remove(d, victim);
    }
    return LKS_OK;
}

/* ---- items ---------------------------------------------------------------------------------------- */

static void item_init(const ectx *e, lks_binlog_item *it, int kind) {
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->type = e->type;
    it->pos = e->pos;
    it->next_pos = e->next_pos;
    it->timestamp = e->ts;
    it->server_id = e->server_id;
}

static int emit(const ectx *e, const lks_binlog_item *it) { return e->cb ? e->cb(e->ud, it, e->err) : 0; }

static int emit_kind(const ectx *e, int kind) {
    lks_binlog_item it;
    item_init(e, &it, kind);
    return emit(e, &it);
}

static void txn_begin(lks_binlog_decoder *d, const ectx *e, int state) {
    d->txn = state;
    d->txn_pos = e->pos;
    d->txn_row = 0;
    d->has_gtid = 0;
    d->gtid[0] = 0;
}

/* ---- FORMAT_DESCRIPTION ---------------------------------------------------------------------------- */

/* Version triple of a server version string ("10.5.15-MariaDB-…"). */
static void version_of(const char *s, int v[3]) {
    v[0] = v[1] = v[2] = 0;
    for (int k = 0; k < 3; k++) {
        while (*s >= '0' && *s <= '9') {
            if (v[k] < 100000)
                v[k] = v[k] * 10 + (*s - '0');
            s++;
        }
        if (*s != '.')
            break;
        s++;
    }
}

static int version_ge(const int v[3], int a, int b, int c) {
    return v[0] != a ? v[0] > a : v[1] != b ? v[1] > b : v[2] >= c;
}

static int fde(ectx *e, const uint8_t *ev, size_t len) {
    lks_binlog_decoder *d = e->d;
    if (e->inner)
        return fail(e, LKS_ECORRUPT, "a format description inside a transaction payload");
    if (len < HDR_LEN + FDE_FIXED)
        return fail(e, LKS_ECORRUPT, "event of %zu bytes is too short for a format description", len);
    const uint8_t *b = ev + HDR_LEN;
    unsigned version = (unsigned)(b[0] | b[1] << 8);
    char sv[51];
    memcpy(sv, b + 2, 50);
    sv[50] = 0;
    unsigned hdr = b[56];
    if (version != 4)
        return fail(e, LKS_EUNSUPPORTED, "binlog version %u (only version 4 is supported)", version);
    if (hdr < HDR_LEN)
        return fail(e, LKS_ECORRUPT, "header length %u is shorter than 19", hdr);
    int v[3];
    version_of(sv, v);
    int mariadb = strstr(sv, "MariaDB") != NULL;
    /* servers since MySQL 5.6.1 / MariaDB 5.3 end the event with the
     * checksum algorithm byte and a 4-byte checksum */
    int has_alg = version_ge(v, 5, 6, 1) || (mariadb && version_ge(v, 5, 3, 0));
    size_t ntypes = len - HDR_LEN - FDE_FIXED;
    unsigned alg = 0;
    if (has_alg) {
        if (ntypes < 5)
            return fail(e, LKS_ECORRUPT, "format description of %zu bytes has no checksum algorithm", len);
        ntypes -= 5;
        alg = ev[len - 5];
        if (alg != 0 && alg != 1 && alg != 255)
            return fail(e, LKS_EUNSUPPORTED, "checksum algorithm %u (only CRC32 and none are known)", alg);
        if (alg == 1 && d->verify) {
            /* computed with the "binlog in use" flag clear (the server
             * clears it in place when it closes the file) */
            uint8_t h[HDR_LEN];
            memcpy(h, ev, HDR_LEN);
            h[17] &= (uint8_t)~1u;
            uint32_t crc = lks_crc32(0, h, HDR_LEN);
            crc = lks_crc32(crc, ev + HDR_LEN, len - HDR_LEN - 4);
            uint32_t stored = lks_load_le32(ev + len - 4);
            if (crc != stored)
                return fail(e, LKS_ECORRUPT, "checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, crc);
        }
    }
    if (hdr > len - (has_alg ? 5 : 0))
        return fail(e, LKS_ECORRUPT, "header length %u does not fit the event", hdr);
    set_default_post_lens(d);
    for (size_t t = 1; t <= ntypes && t < 256; t++)
        d->post_len[t] = b[FDE_FIXED + t - 1];
    d->hdr_len = hdr;
    d->crc = alg == 1;
    d->mariadb = mariadb;
    memcpy(d->server_version, sv, sizeof sv);
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_FDE);
    it.server_version = d->server_version;
    return emit(e, &it);
}

/* ---- ROTATE / QUERY / GTID ------------------------------------------------------------------------ */

static int rotate(ectx *e) {
    lks_binlog_decoder *d = e->d;
    unsigned pl = d->post_len[LKS_BLE_ROTATE];
    if (e->blen < pl || pl < 8)
        return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short", e->blen);
    uint64_t next = lks_load_le64(e->body);
    const uint8_t *name = e->body + pl;
    size_t n = 0, max = e->blen - pl;
    /* some servers add bytes after the name (a checksum the client did
     * not ask for): cut at the first byte no file name holds */
    while (n < max && name[n] > 0x20 && name[n] < 0x7f && name[n] != '/' && name[n] != '\\')
        n++;
    if (!n)
        return fail(e, LKS_ECORRUPT, "empty file name");
    char *f = malloc(n + 1);
    if (!f)
        return nomem(e);
    memcpy(f, name, n);
    f[n] = 0;
    free(d->file);
    d->file = f;
    d->txn = TXN_NONE;
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_ROTATE);
    it.rotate_file = d->file;
    it.rotate_pos = next;
    return emit(e, &it);
}

/* MariaDB's compressed-buffer format (QUERY_COMPRESSED, compressed rows):
 * a byte 0x80 | n (algorithm in bits 4-6, 0 = zlib), the original length
 * in n big-endian bytes, then a zlib stream.  Output into b. */
static int maria_uncompress(ectx *e, const uint8_t *p, size_t n, lks_buf *b, const char *what) {
    if (n < 1 || (p[0] & 0xf0) != 0x80)
        return fail(e, LKS_ECORRUPT, "%s: bad compression header 0x%02x", what, n ? p[0] : 0);
    unsigned lenlen = p[0] & 7;
    if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
        return fail(e, LKS_ECORRUPT, "%s: bad compressed length field", what);
    size_t orig = 0;
    for (unsigned i = 0; i < lenlen; i++)
        orig = orig << 8 | p[1 + i];
    if (orig > e->d->max_event)
        return fail(e, LKS_ECORRUPT, "%s: decompresses to %zu bytes, over the %zu-byte limit", what, orig,
                    e->d->max_event);
    if (orig / DEFLATE_MAX_RATIO > n)
        return fail(e, LKS_ECORRUPT, "%s: %zu compressed bytes cannot hold the declared %zu", what, n, orig);
    lks_buf_reset(b);
    if (lks_buf_reserve(b, orig + 1))
        return nomem(e);
    uLongf outlen = (uLongf)orig;
    int zrc = uncompress(b->ptr, &outlen, p + 1 + lenlen, (uLong)(n - 1 - lenlen));
    if (zrc != Z_OK || outlen != orig)
        return fail(e, LKS_ECORRUPT, "%s: zlib data does not decompress to the declared %zu bytes", what, orig);
    b->len = orig;
    return LKS_OK;
}

/* Case-insensitive keyword at the start of s followed by the end or a space. */
static int keyword(const char *s, size_t n, const char *kw) {
    size_t k = strlen(kw);
    if (n < k || strncasecmp(s, kw, k) != 0)
        return 0;
    return n == k || s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r' || s[k] == ';';
}

static int query(ectx *e) {
    lks_binlog_decoder *d = e->d;
    unsigned pl = d->post_len[e->type];
    if (pl < 11 || e->blen < pl)
        return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short (post-header %u)", e->blen, pl);
    const uint8_t *b = e->body;
    size_t dblen = b[8], status = pl >= 13 ? (size_t)(b[11] | b[12] << 8) : 0;
    size_t off = pl;
    if (status > e->blen - off || dblen + 1 > e->blen - off - status)
        return fail(e, LKS_ECORRUPT, "status variables (%zu bytes) or database name (%zu) run past the event", status,
                    dblen);
    off += status;
    const char *db = (const char *)b + off;
    off += dblen + 1;
    const uint8_t *q = b + off;
    size_t qlen = e->blen - off;
    if (e->type == LKS_BLE_MARIA_QUERY_COMPRESSED) {
        int rc = maria_uncompress(e, q, qlen, &d->tmp, "query text");
        if (rc)
            return rc;
        q = d->tmp.ptr;
        qlen = d->tmp.len;
    }
    /* the keyword tests read past leading blanks and comments-free text */
    const char *s = (const char *)q;
    size_t n = qlen;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    if (keyword(s, n, "BEGIN") || keyword(s, n, "START TRANSACTION")) {
        if (d->txn == TXN_GTID) { /* MySQL: GTID, then BEGIN — one transaction */
            d->txn = TXN_EXPLICIT;
            return emit_kind(e, LKS_BL_OTHER);
        }
        txn_begin(d, e, TXN_EXPLICIT);
        return emit_kind(e, LKS_BL_BEGIN);
    }
    int to_savepoint = 0;
    if (keyword(s, n, "ROLLBACK")) {
        const char *r = s + 8;
        size_t rn = n - 8;
        while (rn && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
            r++, rn--;
        to_savepoint = keyword(r, rn, "TO");
    }
    if (keyword(s, n, "COMMIT") || (keyword(s, n, "ROLLBACK") && !to_savepoint)) {
        d->txn = TXN_NONE;
        return emit_kind(e, LKS_BL_COMMIT);
    }
    if (to_savepoint || keyword(s, n, "SAVEPOINT") || keyword(s, n, "RELEASE") || keyword(s, n, "XA"))
        return emit_kind(e, LKS_BL_OTHER);
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_DDL);
    it.db = lks_arena_strndup(&d->scratch, db, dblen);
    it.sql = lks_arena_strndup(&d->scratch, (const char *)q, qlen);
    if (!it.db || !it.sql)
        return nomem(e);
    int rc = emit(e, &it);
    if (rc || d->txn == TXN_EXPLICIT) /* a statement inside BEGIN … COMMIT */
        return rc;
    d->txn = TXN_NONE; /* a DDL statement is its own transaction */
    return emit_kind(e, LKS_BL_COMMIT);
}

/* mysql::serialization's variable-length unsigned integer: the number of
 * trailing one bits of the first byte, plus one, is the byte count. */
static int ser_varlen(lks_cur *c, uint64_t *v) {
    if (lks_cur_left(c) < 1)
        return -1;
    uint8_t first = c->p[0];
    int n = 1;
    while (n < 9 && (first >> (n - 1) & 1))
        n++;
    const uint8_t *q = lks_cur_take(c, (size_t)n);
    if (!q)
        return -1;
    if (n == 9)
        *v = lks_load_le64(q + 1);
    else
        *v = le_uint(q, n) >> n;
    return 0;
}

/* GTID_TAGGED: a serialized message (version, size, last non-ignorable
 * field, then fields by id: 0 flags, 1 uuid as 16 varlen bytes, 2 gno as a
 * signed varlen, 3 tag as a string; later ones are not needed). */
static int gtid_tagged(ectx *e, char *out, size_t cap) {
    lks_cur c;
    lks_cur_init(&c, e->body, e->blen, 0);
    uint64_t size, last, id, v;
    lks_cur_u8(&c); /* serialization version */
    if (ser_varlen(&c, &size) || ser_varlen(&c, &last))
        return fail(e, LKS_ECORRUPT, "bad message header");
    uint8_t uuid[16];
    int64_t gno = 0;
    char tag[64] = "";
    int have = 0;
    while (lks_cur_left(&c) && have != 0xf) {
        if (ser_varlen(&c, &id))
            return fail(e, LKS_ECORRUPT, "bad field id");
        if (id == 0) {
            if (ser_varlen(&c, &v))
                return fail(e, LKS_ECORRUPT, "bad flags field");
        } else if (id == 1) {
            for (int i = 0; i < 16; i++) {
                if (ser_varlen(&c, &v) || v > 255)
                    return fail(e, LKS_ECORRUPT, "bad uuid field");
                uuid[i] = (uint8_t)v;
            }
        } else if (id == 2) {
            if (ser_varlen(&c, &v))
                return fail(e, LKS_ECORRUPT, "bad gno field");
            gno = (v & 1) ? -(int64_t)(v >> 1) - 1 : (int64_t)(v >> 1);
        } else if (id == 3) {
            if (ser_varlen(&c, &v) || v >= sizeof tag)
                return fail(e, LKS_ECORRUPT, "bad tag field");
            const uint8_t *q = lks_cur_take(&c, (size_t)v);
            if (!q)
                return fail(e, LKS_ECORRUPT, "tag runs past the event");
            for (size_t i = 0; i < v; i++)
                if (q[i] < 0x21 || q[i] > 0x7e)
                    return fail(e, LKS_ECORRUPT, "bad byte in the tag");
            memcpy(tag, q, (size_t)v);
            tag[v] = 0;
        } else {
            break; /* fields past the GTID itself */
        }
        have |= 1 << (int)id;
    }
    if ((have & 6) != 6)
        return fail(e, LKS_ECORRUPT, "no uuid or gno field");
    char u[37];
    lks_uuid_format(u, uuid);
    if (tag[0])
        snprintf(out, cap, "%s:%s:%lld", u, tag, (long long)gno);
    else
        snprintf(out, cap, "%s:%lld", u, (long long)gno);
    return LKS_OK;
}

static int gtid(ectx *e) {
    lks_binlog_decoder *d = e->d;
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_BEGIN);
    char g[sizeof d->gtid];
    g[0] = 0;
    int state = TXN_GTID;
    if (e->type == LKS_BLE_MARIA_GTID) {
        if (e->blen < 13)
            return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short", e->blen);
        it.gtid_seq = lks_load_le64(e->body);
        it.gtid_domain = lks_load_le32(e->body + 8);
        it.gtid_server = e->server_id;
        /* not standalone: a transaction closed by XID or COMMIT; standalone
         * (DDL): a single statement without BEGIN */
        state = (e->body[12] & 1) ? TXN_GTID : TXN_EXPLICIT;
        snprintf(g, sizeof g, "%u-%u-%llu", it.gtid_domain, it.gtid_server, (unsigned long long)it.gtid_seq);
    } else if (e->type == LKS_BLE_GTID_TAGGED) {
        int rc = gtid_tagged(e, g, sizeof g);
        if (rc)
            return rc;
    } else {
        if (e->blen < 25)
            return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short", e->blen);
        if (e->type == LKS_BLE_GTID) {
            char u[37];
            lks_uuid_format(u, e->body + 1);
            snprintf(g, sizeof g, "%s:%lld", u, (long long)lks_load_le64(e->body + 17));
        }
    }
    txn_begin(d, e, state);
    if (g[0]) {
        memcpy(d->gtid, g, sizeof g);
        d->has_gtid = 1;
        it.gtid = d->gtid;
    }
    return emit(e, &it);
}

/* ---- TABLE_MAP ------------------------------------------------------------------------------------------ */

static int is_numeric(const lks_binlog_decoder *d, int type) {
    switch (type) {
    case BL_T_TINY:
    case BL_T_SHORT:
    case BL_T_INT24:
    case BL_T_LONG:
    case BL_T_LONGLONG:
    case BL_T_NEWDECIMAL:
    case BL_T_FLOAT:
    case BL_T_DOUBLE: return 1;
    case BL_T_YEAR: return d->mariadb;
    default: return 0;
    }
}

static int is_character(const lks_binlog_decoder *d, int type) {
    switch (type) {
    case BL_T_STRING:
    case BL_T_VAR_STRING:
    case BL_T_VARCHAR:
    case BL_T_BLOB:
    case BL_T_TINY_BLOB:
    case BL_T_MEDIUM_BLOB:
    case BL_T_LONG_BLOB:
    case BL_T_VARCHAR_COMPRESSED:
    case BL_T_BLOB_COMPRESSED:
    case BL_T_VECTOR: return 1;
    case BL_T_GEOMETRY: return d->mariadb;
    default: return 0;
    }
}

static int is_enum_set(int type) { return type == BL_T_ENUM || type == BL_T_SET; }

/* Sets a column's charset handling from its collation id. */
static int set_charset(bl_table *t, int col, int coll) {
    bl_col *c = &t->cols[col];
    int idx, binary;
    int cs = lks_bl_charset_of(coll, &idx, &binary);
    c->coll = coll;
    if (cs < 0) {
        snprintf(t->why, sizeof t->why, "column %d (%s) has unknown collation id %d", col + 1,
                 t->pub.schema.fields[col].name, coll);
        return LKS_EUNSUPPORTED;
    }
    c->cs = (uint8_t)cs;
    c->cs_index = idx;
    c->binary = (uint8_t)binary;
    if (binary && c->op == BL_OP_STR && !c->json && !c->geometry)
        t->pub.schema.fields[col].type.kind = LKS_CT_BYTES;
    else if (!binary && c->op == BL_OP_STR && t->pub.schema.fields[col].type.kind == LKS_CT_BYTES && !c->geometry &&
             c->type != BL_T_VECTOR)
        t->pub.schema.fields[col].type.kind = LKS_CT_STRING; /* TEXT: a BLOB with a charset */
    return LKS_OK;
}

/* A column list of optional metadata: the indexes of columns that pass
 * `sel` (0: character, 1: ENUM/SET, 2: numeric, 3: SET, 4: ENUM, 5: geometry). */
static int col_list(const lks_binlog_decoder *d, const bl_table *t, int sel, int *out) {
    int n = 0;
    for (int i = 0; i < t->pub.ncols; i++) {
        int ty = t->cols[i].type, ok;
        switch (sel) {
        case 0: ok = is_character(d, ty); break;
        case 1: ok = is_enum_set(ty); break;
        case 2: ok = is_numeric(d, ty); break;
        case 3: ok = ty == BL_T_SET; break;
        case 4: ok = ty == BL_T_ENUM; break;
        default: ok = ty == BL_T_GEOMETRY; break;
        }
        if (ok)
            out[n++] = i;
    }
    return n;
}

/* DEFAULT_CHARSET / COLUMN_CHARSET (and their ENUM/SET forms) over the
 * columns in list[0..n). */
static int charsets_meta(bl_table *t, int type, lks_cur *c, const int *list, int n) {
    if (type == OM_DEFAULT_CHARSET || type == OM_ENUM_AND_SET_DEFAULT_CHARSET) {
        int def = (int)cur_packed(c);
        int *coll = lks_arena_alloc(&t->arena, sizeof(int) * (size_t)(n + 1));
        if (!coll)
            return LKS_ENOMEM;
        for (int i = 0; i < n; i++)
            coll[i] = def;
        while (!c->failed && lks_cur_left(c)) {
            uint64_t idx = cur_packed(c), cl = cur_packed(c);
            if (c->failed || idx >= (uint64_t)n || cl > 65535) {
                snprintf(t->why, sizeof t->why, "charset metadata names character column %llu of %d",
                         (unsigned long long)idx, n);
                return LKS_ECORRUPT;
            }
            coll[idx] = (int)cl;
        }
        for (int i = 0; i < n && !c->failed; i++) {
            int rc = set_charset(t, list[i], coll[i]);
            if (rc)
                return rc;
        }
    } else {
        for (int i = 0; i < n; i++) {
            uint64_t cl = cur_packed(c);
            if (c->failed || cl > 65535) {
                snprintf(t->why, sizeof t->why, "column charset list shorter than its %d columns", n);
                return LKS_ECORRUPT;
            }
            int rc = set_charset(t, list[i], (int)cl);
            if (rc)
                return rc;
        }
    }
    return c->failed ? LKS_ECORRUPT : LKS_OK;
}

/* SET_STR_VALUE / ENUM_STR_VALUE: member texts, converted to UTF-8 with
 * the column's charset (set before: charsets come first in the event). */
static int members_meta(lks_binlog_decoder *d, bl_table *t, lks_cur *c, const int *list, int n) {
    for (int i = 0; i < n; i++) {
        bl_col *col = &t->cols[list[i]];
        uint64_t cnt = cur_packed(c);
        if (c->failed || cnt > 65535 || cnt > lks_cur_left(c)) {
            snprintf(t->why, sizeof t->why, "member list of column %d is malformed", list[i] + 1);
            return LKS_ECORRUPT;
        }
        if (col->type == BL_T_SET && cnt > 64) {
            snprintf(t->why, sizeof t->why, "SET column %d has %llu members (at most 64)", list[i] + 1,
                     (unsigned long long)cnt);
            return LKS_ECORRUPT;
        }
        const char **m = lks_arena_alloc(&t->arena, sizeof(char *) * (size_t)(cnt + 1));
        size_t *ml = lks_arena_alloc(&t->arena, sizeof(size_t) * (size_t)(cnt + 1));
        lks_buf allowed;
        lks_buf_init(&allowed, 0);
        if (!m || !ml)
            return LKS_ENOMEM;
        for (uint64_t k = 0; k < cnt; k++) {
            uint64_t len = cur_packed(c);
            const uint8_t *q = c->failed || len > lks_cur_left(c) ? NULL : lks_cur_take(c, (size_t)len);
            if (!q) {
                lks_buf_free(&allowed);
                snprintf(t->why, sizeof t->why, "member list of column %d runs past the event", list[i] + 1);
                return LKS_ECORRUPT;
            }
            lks_slice s = {NULL, 0};
            char msg[200];
            bl_col tc = *col;
            tc.op = BL_OP_STR;
            int rc = lks_bl_text(&d->ic, &tc, q, (size_t)len, &t->arena, &s, msg, sizeof msg);
            if (rc) {
                lks_buf_free(&allowed);
                snprintf(t->why, sizeof t->why, "member %llu of column %d: %s", (unsigned long long)k + 1, list[i] + 1,
                         msg);
                return rc;
            }
            m[k] = (const char *)s.ptr;
            ml[k] = s.len;
            if ((k && lks_buf_append_byte(&allowed, ',')) || lks_buf_append(&allowed, s.ptr, s.len)) {
                lks_buf_free(&allowed);
                return LKS_ENOMEM;
            }
        }
        col->members = m;
        col->member_len = ml;
        col->nmembers = (int)cnt;
        t->pub.schema.fields[list[i]].allowed =
            lks_arena_strndup(&t->arena, allowed.ptr ? (const char *)allowed.ptr : "", allowed.len);
        lks_buf_free(&allowed);
        if (!t->pub.schema.fields[list[i]].allowed)
            return LKS_ENOMEM;
    }
    return LKS_OK;
}

/* Type, metadata and mapping of column i; consumes its metadata bytes. */
static int column(const lks_binlog_decoder *d, bl_table *t, int i, int type, lks_cur *m) {
    bl_col *c = &t->cols[i];
    lks_cdc_type *ct = &t->pub.schema.fields[i].type;
    uint16_t *meta = (uint16_t *)&t->pub.meta[i];
    c->type = (uint8_t)type;
    c->coll = -1;
    c->json_index = -1;
    ct->precision = 0;
    (void)d;
    switch (type) {
    case BL_T_TINY: c->op = BL_OP_INT, c->width = 1, ct->kind = LKS_CT_INT8; break;
    case BL_T_SHORT: c->op = BL_OP_INT, c->width = 2, ct->kind = LKS_CT_INT16; break;
    case BL_T_INT24: c->op = BL_OP_INT, c->width = 3, ct->kind = LKS_CT_INT32; break;
    case BL_T_LONG: c->op = BL_OP_INT, c->width = 4, ct->kind = LKS_CT_INT32; break;
    case BL_T_LONGLONG: c->op = BL_OP_INT, c->width = 8, ct->kind = LKS_CT_INT64; break;
    case BL_T_FLOAT: *meta = lks_cur_u8(m), c->op = BL_OP_FLOAT, ct->kind = LKS_CT_FLOAT; break;
    case BL_T_DOUBLE: *meta = lks_cur_u8(m), c->op = BL_OP_DOUBLE, ct->kind = LKS_CT_DOUBLE; break;
    case BL_T_NEWDECIMAL: {
        int p = lks_cur_u8(m), s = lks_cur_u8(m);
        *meta = (uint16_t)(p << 8 | s);
        size_t w = lks_bl_decimal_size(p, s);
        if (!w && !m->failed) {
            snprintf(t->why, sizeof t->why, "column %d: DECIMAL(%d,%d) is out of range", i + 1, p, s);
            return LKS_ECORRUPT;
        }
        c->op = BL_OP_DECIMAL, c->width = (uint8_t)w, c->prec = p, c->scale = s;
        ct->kind = LKS_CT_DECIMAL, ct->precision = p, ct->scale = s;
        break;
    }
    case BL_T_YEAR: c->op = BL_OP_YEAR, ct->kind = LKS_CT_INT16, ct->detail = LKS_CD_YEAR; break;
    case BL_T_DATE:
    case BL_T_NEWDATE: c->op = BL_OP_DATE, ct->kind = LKS_CT_DATE; break;
    case BL_T_TIME: c->op = BL_OP_TIME, ct->kind = LKS_CT_TIME; break;
    case BL_T_DATETIME: c->op = BL_OP_DATETIME, ct->kind = LKS_CT_DATETIME; break;
    case BL_T_TIMESTAMP: c->op = BL_OP_TIMESTAMP, ct->kind = LKS_CT_TIMESTAMP; break;
    case BL_T_TIME2:
    case BL_T_DATETIME2:
    case BL_T_TIMESTAMP2: {
        int fsp = lks_cur_u8(m);
        *meta = (uint16_t)fsp;
        if (fsp > 6) {
            snprintf(t->why, sizeof t->why, "column %d: fractional precision %d > 6", i + 1, fsp);
            return LKS_ECORRUPT;
        }
        c->fsp = (uint8_t)fsp;
        ct->precision = fsp;
        c->op = type == BL_T_TIME2 ? BL_OP_TIME2 : type == BL_T_DATETIME2 ? BL_OP_DATETIME2 : BL_OP_TIMESTAMP2;
        ct->kind = type == BL_T_TIME2 ? LKS_CT_TIME : type == BL_T_DATETIME2 ? LKS_CT_DATETIME : LKS_CT_TIMESTAMP;
        break;
    }
    case BL_T_VARCHAR:
    case BL_T_VAR_STRING:
    case BL_T_VARCHAR_COMPRESSED: {
        unsigned max = lks_cur_le16(m);
        *meta = (uint16_t)max;
        c->op = BL_OP_STR, c->lenbytes = max < 256 ? 1 : 2, ct->kind = LKS_CT_STRING;
        c->compressed = type == BL_T_VARCHAR_COMPRESSED;
        break;
    }
    case BL_T_STRING:
    case BL_T_ENUM:
    case BL_T_SET: {
        unsigned b0 = lks_cur_u8(m), b1 = lks_cur_u8(m);
        *meta = (uint16_t)(b0 << 8 | b1);
        unsigned real = b0, len = b1;
        if ((b0 & 0x30) != 0x30) { /* CHAR longer than 255 bytes: length bits 8-9 in byte 0 */
            len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
            real = b0 | 0x30;
        }
        if (m->failed)
            break;
        if (real == BL_T_ENUM) {
            if (b1 != 1 && b1 != 2) {
                snprintf(t->why, sizeof t->why, "column %d: ENUM of %u bytes", i + 1, b1);
                return LKS_ECORRUPT;
            }
            c->type = BL_T_ENUM, c->op = BL_OP_ENUM, c->width = (uint8_t)b1;
            ct->kind = LKS_CT_STRING, ct->detail = LKS_CD_ENUM;
        } else if (real == BL_T_SET) {
            if (b1 < 1 || b1 > 8) {
                snprintf(t->why, sizeof t->why, "column %d: SET of %u bytes", i + 1, b1);
                return LKS_ECORRUPT;
            }
            c->type = BL_T_SET, c->op = BL_OP_SET, c->width = (uint8_t)b1;
            ct->kind = LKS_CT_STRING, ct->detail = LKS_CD_SET;
        } else if (real == BL_T_STRING) {
            c->type = BL_T_STRING, c->op = BL_OP_STR, c->lenbytes = len < 256 ? 1 : 2, ct->kind = LKS_CT_STRING;
            c->fixlen = (uint16_t)len;
        } else {
            snprintf(t->why, sizeof t->why, "column %d: STRING metadata names real type %u", i + 1, real);
            return LKS_EUNSUPPORTED;
        }
        break;
    }
    case BL_T_BIT: {
        unsigned bits = lks_cur_u8(m), bytes = lks_cur_u8(m);
        *meta = (uint16_t)(bits | bytes << 8);
        int nbits = (int)(bytes * 8 + bits);
        if ((nbits < 1 || nbits > 64 || bits > 7) && !m->failed) {
            snprintf(t->why, sizeof t->why, "column %d: BIT(%d)", i + 1, nbits);
            return LKS_ECORRUPT;
        }
        c->op = BL_OP_BIT, c->nbits = nbits, c->width = (uint8_t)((nbits + 7) / 8);
        if (nbits == 1)
            ct->kind = LKS_CT_BOOL;
        else
            ct->kind = LKS_CT_BYTES, ct->detail = LKS_CD_BIT, ct->precision = nbits;
        break;
    }
    case BL_T_TINY_BLOB:
    case BL_T_MEDIUM_BLOB:
    case BL_T_LONG_BLOB:
    case BL_T_BLOB:
    case BL_T_BLOB_COMPRESSED:
    case BL_T_JSON:
    case BL_T_GEOMETRY:
    case BL_T_VECTOR: {
        unsigned lb = lks_cur_u8(m);
        *meta = (uint16_t)lb;
        if ((lb < 1 || lb > 4) && !m->failed) {
            snprintf(t->why, sizeof t->why, "column %d: length prefix of %u bytes", i + 1, lb);
            return LKS_ECORRUPT;
        }
        c->op = BL_OP_STR, c->lenbytes = (uint8_t)lb, ct->kind = LKS_CT_BYTES;
        if (type == BL_T_JSON)
            c->json = 1, ct->kind = LKS_CT_JSON, c->json_index = (int16_t)t->njson++;
        else if (type == BL_T_GEOMETRY)
            c->geometry = 1, ct->detail = LKS_CD_GEOMETRY;
        c->compressed = type == BL_T_BLOB_COMPRESSED;
        break;
    }
    case BL_T_NULL: c->op = BL_OP_NULLTYPE, ct->kind = LKS_CT_STRING; break;
    default:
        snprintf(t->why, sizeof t->why, "column %d has type %d, which cannot be decoded", i + 1, type);
        return LKS_EUNSUPPORTED;
    }
    ct->kind = ct->kind ? ct->kind : LKS_CT_STRING;
    return LKS_OK;
}

/* Parses the TABLE_MAP body t->raw into t.  Returns a status with t->why
 * set; names are parsed first so a declined table can still be kept. */
static int table_parse(lks_binlog_decoder *d, bl_table *t, unsigned pl, int *names_ok) {
    lks_cur c;
    lks_cur_init(&c, t->raw + pl, t->rawlen - pl, 0);
    size_t dblen = lks_cur_u8(&c);
    const uint8_t *db = lks_cur_take(&c, dblen + 1);
    size_t tblen = lks_cur_u8(&c);
    const uint8_t *tb = lks_cur_take(&c, tblen + 1);
    if (c.failed) {
        snprintf(t->why, sizeof t->why, "database or table name runs past the event");
        return LKS_ECORRUPT;
    }
    t->pub.db = lks_arena_strndup(&t->arena, (const char *)db, dblen);
    t->pub.table = lks_arena_strndup(&t->arena, (const char *)tb, tblen);
    if (!t->pub.db || !t->pub.table)
        return LKS_ENOMEM;
    *names_ok = 1;
    uint64_t ncols = cur_packed(&c);
    if (c.failed || ncols > MAX_COLS || ncols > lks_cur_left(&c)) {
        snprintf(t->why, sizeof t->why, "column count %llu is malformed or too large", (unsigned long long)ncols);
        return LKS_ECORRUPT;
    }
    int n = (int)ncols;
    t->pub.ncols = n;
    const uint8_t *types = lks_cur_take(&c, (size_t)n);
    uint64_t metalen = cur_packed(&c);
    if (c.failed || metalen > lks_cur_left(&c)) {
        snprintf(t->why, sizeof t->why, "metadata block runs past the event");
        return LKS_ECORRUPT;
    }
    const uint8_t *metap = lks_cur_take(&c, (size_t)metalen);
    const uint8_t *nulls = lks_cur_take(&c, ((size_t)n + 7) / 8);
    if (c.failed) {
        snprintf(t->why, sizeof t->why, "null bitmap runs past the event");
        return LKS_ECORRUPT;
    }
    size_t cnt = (size_t)n + 1;
    t->cols = lks_arena_alloc(&t->arena, sizeof(bl_col) * cnt);
    t->pub.schema.fields = lks_arena_alloc(&t->arena, sizeof(lks_cdc_field) * cnt);
    t->pub.meta = lks_arena_alloc(&t->arena, sizeof(uint16_t) * cnt);
    uint8_t *rtypes = lks_arena_alloc(&t->arena, cnt);
    int *list = lks_arena_alloc(&t->arena, sizeof(int) * cnt);
    if (!t->cols || !t->pub.schema.fields || !t->pub.meta || !rtypes || !list)
        return LKS_ENOMEM;
    memset(t->cols, 0, sizeof(bl_col) * cnt);
    memset(t->pub.schema.fields, 0, sizeof(lks_cdc_field) * cnt);
    memset((void *)t->pub.meta, 0, sizeof(uint16_t) * cnt);
    t->pub.schema.nfields = n;
    lks_cur m;
    lks_cur_init(&m, metap, (size_t)metalen, 0);
    for (int i = 0; i < n; i++) {
        int rc = column(d, t, i, types[i], &m);
        if (rc)
            return rc;
        rtypes[i] = t->cols[i].type;
        lks_cdc_field *f = &t->pub.schema.fields[i];
        f->type.optional = bit_lsb(nulls, (size_t)i);
        if (f->type.kind == LKS_CT_DATE || f->type.kind == LKS_CT_DATETIME || f->type.kind == LKS_CT_TIMESTAMP)
            f->type.optional = 1; /* zero dates read as NULL */
        if (f->type.kind == LKS_CT_TIME || f->type.kind == LKS_CT_DATETIME || f->type.kind == LKS_CT_TIMESTAMP) {
            if (types[i] == BL_T_TIME || types[i] == BL_T_DATETIME || types[i] == BL_T_TIMESTAMP)
                f->type.precision = 0;
        }
    }
    if (m.failed || lks_cur_left(&m)) {
        snprintf(t->why, sizeof t->why, "metadata block of %llu bytes does not match the column types",
                 (unsigned long long)metalen);
        return LKS_ECORRUPT;
    }
    t->pub.types = rtypes;
    /* optional metadata */
    int have_names = 0;
    while (lks_cur_left(&c)) {
        int type = lks_cur_u8(&c);
        uint64_t len = cur_packed(&c);
        if (c.failed || len > lks_cur_left(&c)) {
            snprintf(t->why, sizeof t->why, "optional metadata field %d runs past the event", type);
            return LKS_ECORRUPT;
        }
        lks_cur v;
        lks_cur_init(&v, lks_cur_take(&c, (size_t)len), (size_t)len, 0);
        int rc = LKS_OK, k;
        switch (type) {
        case OM_SIGNEDNESS:
            k = col_list(d, t, 2, list);
            if ((size_t)(k + 7) / 8 > len) {
                snprintf(t->why, sizeof t->why, "signedness bitmap of %llu bytes for %d numeric columns",
                         (unsigned long long)len, k);
                return LKS_ECORRUPT;
            }
            for (int j = 0; j < k; j++) {
                bl_col *col = &t->cols[list[j]];
                if (!(v.p[j >> 3] & (0x80 >> (j & 7))))
                    continue;
                col->uns = 1;
                lks_cdc_type *ct = &t->pub.schema.fields[list[j]].type;
                switch (col->type) {
                case BL_T_TINY: ct->kind = LKS_CT_INT16; break;
                case BL_T_SHORT: ct->kind = LKS_CT_INT32; break;
                case BL_T_LONG: ct->kind = LKS_CT_INT64; break;
                case BL_T_LONGLONG: ct->kind = LKS_CT_UINT64; break;
                default: break;
                }
                col->kind = (uint8_t)ct->kind;
            }
            break;
        case OM_DEFAULT_CHARSET:
        case OM_COLUMN_CHARSET:
            k = col_list(d, t, 0, list);
            rc = charsets_meta(t, type, &v, list, k);
            break;
        case OM_ENUM_AND_SET_DEFAULT_CHARSET:
        case OM_ENUM_AND_SET_COLUMN_CHARSET:
            k = col_list(d, t, 1, list);
            rc = charsets_meta(t, type, &v, list, k);
            break;
        case OM_COLUMN_NAME:
            for (int j = 0; j < n; j++) {
                uint64_t l = cur_packed(&v);
                const uint8_t *q = v.failed || l > lks_cur_left(&v) ? NULL : lks_cur_take(&v, (size_t)l);
                if (!q) {
                    snprintf(t->why, sizeof t->why, "column names: name %d runs past the field", j + 1);
                    return LKS_ECORRUPT;
                }
                if (!(t->pub.schema.fields[j].name = lks_arena_strndup(&t->arena, (const char *)q, (size_t)l)))
                    return LKS_ENOMEM;
            }
            have_names = 1;
            break;
        case OM_SET_STR_VALUE:
        case OM_ENUM_STR_VALUE:
            k = col_list(d, t, type == OM_SET_STR_VALUE ? 3 : 4, list);
            rc = members_meta(d, t, &v, list, k);
            break;
        case OM_SIMPLE_PRIMARY_KEY:
        case OM_PRIMARY_KEY_WITH_PREFIX: {
            int *key = lks_arena_alloc(&t->arena, sizeof(int) * cnt);
            int nk = 0;
            if (!key)
                return LKS_ENOMEM;
            while (lks_cur_left(&v)) {
                uint64_t idx = cur_packed(&v);
                if (type == OM_PRIMARY_KEY_WITH_PREFIX)
                    cur_packed(&v);
                if (v.failed || idx >= (uint64_t)n || nk >= n) {
                    snprintf(t->why, sizeof t->why, "primary key names column %llu of %d", (unsigned long long)idx, n);
                    return LKS_ECORRUPT;
                }
                key[nk++] = (int)idx;
            }
            t->pub.key = key;
            t->pub.nkey = nk;
            break;
        }
        default: break; /* geometry types, visibility, vector dimensions, newer fields */
        }
        if (rc)
            return rc;
    }
    if (!have_names)
        for (int j = 0; j < n; j++)
            if (!(t->pub.schema.fields[j].name = lks_arena_printf(&t->arena, "@%d", j + 1)))
                return LKS_ENOMEM;
    t->pub.has_names = have_names;
    for (int j = 0; j < n; j++) {
        bl_col *col = &t->cols[j];
        if (!col->kind)
            col->kind = (uint8_t)t->pub.schema.fields[j].type.kind;
        /* without charset metadata: CHAR/VARCHAR as text, BLOBs as bytes */
        if (col->coll < 0 && col->op == BL_OP_STR && !col->json && !col->geometry)
            col->cs = BL_CS_RAW;
    }
    return LKS_OK;
}

static int table_map(ectx *e) {
    lks_binlog_decoder *d = e->d;
    unsigned pl = d->post_len[LKS_BLE_TABLE_MAP];
    int idw = pl == 6 ? 4 : 6;
    if (pl < (unsigned)idw + 2 || e->blen < pl)
        return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short (post-header %u)", e->blen, pl);
    uint64_t id = le_uint(e->body, idw);
    bl_table *t = table_find(d, id);
    if (!(t && t->rawlen == e->blen && memcmp(t->raw, e->body, e->blen) == 0)) {
        t = calloc(1, sizeof *t);
        if (!t)
            return nomem(e);
        lks_arena_init(&t->arena, 0);
        t->arena.block_size = 2048; /* most tables need a few hundred bytes */
        t->pub.table_id = id;
        t->raw = lks_arena_memdup(&t->arena, e->body, e->blen);
        t->rawlen = e->blen;
        int names_ok = 0;
        int rc = t->raw ? table_parse(d, t, pl, &names_ok) : LKS_ENOMEM;
        t->want = names_ok && (!d->want_table || d->want_table(d->want_ud, t->pub.db, t->pub.table));
        t->ok = rc == LKS_OK;
        if (rc == LKS_ENOMEM || (rc && t->want) || !names_ok) {
            if (rc == LKS_ENOMEM)
                snprintf(t->why, sizeof t->why, "out of memory");
            char dbb[80], tbb[80];
            rc = fail(e, rc ? rc : LKS_ECORRUPT, "table id %llu%s%s%s%s%s: %s", (unsigned long long)id,
                      names_ok ? " (" : "", names_ok ? printable(t->pub.db, dbb, sizeof dbb) : "", names_ok ? "." : "",
                      names_ok ? printable(t->pub.table, tbb, sizeof tbb) : "", names_ok ? ")" : "", t->why);
            table_free(t);
            return rc;
        }
        if (!t->ok) { /* declined and undecodable: keep what its rows need to be skipped */
            t->pub.ncols = 0;
            t->pub.schema.nfields = 0;
        }
        if (table_put(d, t)) {
            table_free(t);
            return nomem(e);
        }
    } else {
        t->seq = ++d->seq;
    }
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_TABLE_MAP);
    it.table = &t->pub;
    return emit(e, &it);
}

/* ---- row events ------------------------------------------------------------------------------------------- */

/* Decompresses a MariaDB compressed column value (a header byte 0: stored
 * as is; else 0x80 | length bytes, bit 3 = raw deflate, the original length
 * big-endian, then the deflate data) into the scratch arena. */
static int column_uncompress(ectx *e, const uint8_t *p, size_t n, lks_slice *out, const char *col) {
    if (n == 0) {
        out->ptr = p, out->len = 0;
        return LKS_OK;
    }
    if (p[0] == 0) {
        out->ptr = p + 1, out->len = n - 1;
        return LKS_OK;
    }
    unsigned lenlen = p[0] & 7;
    if ((p[0] & 0xf0) != 0x80 || lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
        return fail(e, LKS_ECORRUPT, "column %s: bad compressed value header 0x%02x", col, p[0]);
    size_t orig = 0;
    for (unsigned i = 0; i < lenlen; i++)
        orig = orig << 8 | p[1 + i];
    if (orig > e->d->max_event || orig / DEFLATE_MAX_RATIO > n)
        return fail(e, LKS_ECORRUPT, "column %s: %zu compressed bytes cannot hold the declared %zu", col, n, orig);
    uint8_t *q = lks_arena_alloc(&e->d->scratch, orig + 1);
    if (!q)
        return nomem(e);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, (p[0] & 8) ? -MAX_WBITS : MAX_WBITS) != Z_OK)
        return nomem(e);
    zs.next_in = (Bytef *)(uintptr_t)(p + 1 + lenlen);
    zs.avail_in = (uInt)(n - 1 - lenlen);
    zs.next_out = q;
    zs.avail_out = (uInt)orig;
    int zrc = inflate(&zs, Z_FINISH);
    size_t got = orig - zs.avail_out;
    inflateEnd(&zs);
    if (zrc != Z_STREAM_END || got != orig)
        return fail(e, LKS_ECORRUPT, "column %s: compressed value does not inflate to its %zu bytes", col, orig);
    out->ptr = q, out->len = orig;
    return LKS_OK;
}

/* Copies d->tmp into the scratch arena as a bytes value. */
static int tmp_to_value(ectx *e, lks_cdc_value *v) {
    uint8_t *q = lks_arena_memdup(&e->d->scratch, e->d->tmp.ptr ? e->d->tmp.ptr : (const uint8_t *)"", e->d->tmp.len);
    if (!q)
        return nomem(e);
    v->kind = LKS_CV_BYTES;
    v->u.bytes.ptr = q;
    v->u.bytes.len = e->d->tmp.len;
    return LKS_OK;
}

/* One row image: null bitmap over the present columns, then their values.
 * `partial` (PARTIAL_UPDATE_ROWS after images): the partial-JSON bitmap, one
 * bit per JSON column of the table, or NULL; `before` the row's before
 * image, which partial JSON updates apply to. */
static int image(ectx *e, const bl_table *t, int width, const uint8_t *present, size_t npresent, const uint8_t **pp,
                 const uint8_t *end, lks_cdc_value *out, const uint8_t *partial, const lks_cdc_value *before) {
    lks_binlog_decoder *d = e->d;
    const uint8_t *p = *pp;
    size_t nb = (npresent + 7) / 8;
    if ((size_t)(end - p) < nb)
        return fail(e, LKS_ECORRUPT, "row image truncated in its null bitmap");
    const uint8_t *nulls = p;
    p += nb;
    size_t k = 0;
    for (int i = 0; i < t->pub.ncols; i++) {
        lks_cdc_value *v = &out[i];
        if (i >= width || !bit_lsb(present, (size_t)i)) {
            v->kind = LKS_CV_ABSENT;
            continue;
        }
        if (bit_lsb(nulls, k++)) {
            v->kind = LKS_CV_NULL;
            continue;
        }
        const bl_col *c = &t->cols[i];
        if (c->op == BL_OP_INT && end - p >= 8) { /* the commonest value, without the call */
            unsigned w = c->width;
            uint64_t u = lks_load_le64(p);
            if (w < 8) {
                u &= (UINT64_C(1) << (8 * w)) - 1;
                if (!c->uns && (u >> (8 * w - 1)) & 1)
                    u |= ~UINT64_C(0) << (8 * w); /* sign-extend */
            }
            v->kind = c->kind == LKS_CT_UINT64 && c->uns ? LKS_CV_UINT : LKS_CV_INT;
            v->u.u64 = u;
            p += w;
            continue;
        }
        size_t used = 0;
        char msg[300];
        int rc = lks_bl_value(&d->ic, c, p, (size_t)(end - p), &d->scratch, v, &used, msg, sizeof msg);
        if (LKS_UNLIKELY(rc))
            return rc == LKS_ENOMEM ? nomem(e)
                                    : fail(e, rc, "table %s.%s column %s: %s", t->pub.db, t->pub.table,
                                           t->pub.schema.fields[i].name, msg);
        p += used;
        if (LKS_UNLIKELY(c->json)) {
            lks_err jerr;
            lks_err_clear(&jerr);
            lks_buf_reset(&d->tmp);
            if (partial && c->json_index >= 0 && bit_lsb(partial, (size_t)c->json_index)) {
                const lks_cdc_value *bv = before ? &before[i] : NULL;
                if (!bv || bv->kind != LKS_CV_BYTES)
                    return fail(e, LKS_EUNSUPPORTED,
                                "table %s.%s column %s: a partial JSON update without the column in the before image",
                                t->pub.db, t->pub.table, t->pub.schema.fields[i].name);
                rc = lks_mysql_json_apply_diff((const char *)bv->u.bytes.ptr, bv->u.bytes.len, v->u.bytes.ptr,
                                               v->u.bytes.len, &d->tmp, &jerr);
            } else {
                rc = lks_mysql_json_text(v->u.bytes.ptr, v->u.bytes.len, &d->tmp, &jerr);
            }
            if (rc)
                return fail(e, rc, "table %s.%s column %s: %s", t->pub.db, t->pub.table, t->pub.schema.fields[i].name,
                            jerr.msg);
            if ((rc = tmp_to_value(e, v)) != 0)
                return rc;
        } else if (LKS_UNLIKELY(c->compressed)) {
            lks_slice s = {NULL, 0};
            if ((rc = column_uncompress(e, v->u.bytes.ptr, v->u.bytes.len, &s, t->pub.schema.fields[i].name)) != 0)
                return rc;
            if ((rc = lks_bl_text(&d->ic, c, s.ptr, s.len, &d->scratch, &v->u.bytes, msg, sizeof msg)) != 0)
                return fail(e, rc, "table %s.%s column %s: %s", t->pub.db, t->pub.table, t->pub.schema.fields[i].name,
                            msg);
        }
    }
    *pp = p;
    return LKS_OK;
}

static int rows(ectx *e) {
    lks_binlog_decoder *d = e->d;
    int ty = e->type, op;
    switch (ty) {
    case LKS_BLE_WRITE_ROWS_V1:
    case LKS_BLE_WRITE_ROWS_V2:
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED: op = LKS_CDC_CREATE; break;
    case LKS_BLE_DELETE_ROWS_V1:
    case LKS_BLE_DELETE_ROWS_V2:
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED: op = LKS_CDC_DELETE; break;
    default: op = LKS_CDC_UPDATE; break;
    }
    int v2 = (ty >= LKS_BLE_WRITE_ROWS_V2 && ty <= LKS_BLE_DELETE_ROWS_V2) || ty == LKS_BLE_PARTIAL_UPDATE_ROWS ||
             ty >= LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED;
    int compressed = ty >= LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1;
    int partial = ty == LKS_BLE_PARTIAL_UPDATE_ROWS;
    unsigned pl = d->post_len[ty];
    int idw = pl == 6 ? 4 : 6;
    if (pl < (unsigned)idw + 2 + (v2 ? 2 : 0) || e->blen < pl)
        return fail(e, LKS_ECORRUPT, "body of %zu bytes is too short (post-header %u)", e->blen, pl);
    uint64_t id = le_uint(e->body, idw);
    lks_cur c;
    lks_cur_init(&c, e->body + pl, e->blen - pl, 0);
    if (v2) {
        unsigned extra = (unsigned)(e->body[idw + 2] | e->body[idw + 3] << 8);
        if (extra < 2 || !lks_cur_take(&c, extra - 2))
            return fail(e, LKS_ECORRUPT, "extra data of %u bytes is malformed", extra);
    }
    uint64_t width = cur_packed(&c);
    if (c.failed || width > MAX_COLS)
        return fail(e, LKS_ECORRUPT, "column count %llu is malformed or too large", (unsigned long long)width);
    size_t bm = ((size_t)width + 7) / 8;
    const uint8_t *cols_bi = lks_cur_take(&c, bm), *cols_ai = cols_bi;
    if (op == LKS_CDC_UPDATE)
        cols_ai = lks_cur_take(&c, bm);
    if (c.failed)
        return fail(e, LKS_ECORRUPT, "column bitmaps run past the event");
    const uint8_t *p = c.p, *end = c.end;
    bl_table *t = table_find(d, id);
    if (!t) {
        if (p == end) /* MySQL's dummy end-of-statement event */
            return emit_kind(e, LKS_BL_OTHER);
        return fail(e, LKS_ECORRUPT, "rows for table id %llu, which no TABLE_MAP announced", (unsigned long long)id);
    }
    lks_binlog_item it;
    item_init(e, &it, LKS_BL_ROWS);
    it.table = &t->pub;
    if (d->txn == TXN_NONE) /* decoding started inside a transaction */
        txn_begin(d, e, TXN_EXPLICIT);
    if (!t->want)
        return emit(e, &it);
    if (!t->ok)
        return fail(e, LKS_EUNSUPPORTED, "table %s.%s: %s", t->pub.db, t->pub.table, t->why);
    if (width > (uint64_t)t->pub.ncols)
        return fail(e, LKS_ECORRUPT, "%llu columns for table %s.%s, whose TABLE_MAP has %d", (unsigned long long)width,
                    t->pub.db, t->pub.table, t->pub.ncols);
    if (compressed && p < end) {
        int rc = maria_uncompress(e, p, (size_t)(end - p), &d->rowsbuf, "rows");
        if (rc)
            return rc;
        p = d->rowsbuf.ptr;
        end = p + d->rowsbuf.len;
    }
    size_t nbi = 0, nai = 0;
    for (size_t i = 0; i < width; i++) {
        nbi += bit_lsb(cols_bi, i);
        nai += bit_lsb(cols_ai, i);
    }
    int ncols = t->pub.ncols, nrows = 0;
    size_t njson_bytes = ((size_t)t->njson + 7) / 8;
    while (p < end) {
        const uint8_t *row_start = p;
        if ((size_t)nrows >= d->evcap) {
            size_t cap = d->evcap ? d->evcap * 2 : 64;
            lks_cdc_event *evs = realloc(d->evs, cap * sizeof *evs);
            if (!evs)
                return nomem(e);
            d->evs = evs;
            d->evcap = cap;
        }
        lks_cdc_event *ev = &d->evs[nrows];
        memset(ev, 0, sizeof *ev);
        ev->op = op;
        ev->schema = &t->pub.schema;
        ev->key = t->pub.key;
        ev->nkey = t->pub.nkey;
        ev->ts_ms = -1;
        lks_cdc_source *s = &ev->source;
        s->connector = "mysql";
        s->name = d->topic;
        s->db = t->pub.db;
        s->table = t->pub.table;
        s->server_id = e->server_id;
        s->gtid = d->has_gtid ? d->gtid : NULL;
        s->file = d->file;
        s->pos = (int64_t)d->txn_pos;
        s->row = d->txn_row + nrows;
        s->snapshot = LKS_SNAP_FALSE;
        s->ts_ms = (int64_t)e->ts * 1000;
        s->ts_us = -1;
        int nimg = op == LKS_CDC_UPDATE ? 2 : 1;
        lks_cdc_value *vals = lks_arena_alloc(&d->scratch, sizeof(lks_cdc_value) * (size_t)ncols * (size_t)nimg + 1);
        if (!vals)
            return nomem(e);
        int rc;
        if (op != LKS_CDC_CREATE) {
            ev->has_before = 1;
            ev->before.v = vals;
            ev->before.n = ncols;
            if ((rc = image(e, t, (int)width, cols_bi, nbi, &p, end, vals, NULL, NULL)) != 0)
                return rc;
        }
        if (op != LKS_CDC_DELETE) {
            const uint8_t *pbits = NULL;
            if (partial) {
                lks_cur pc;
                lks_cur_init(&pc, p, (size_t)(end - p), 0);
                uint64_t opts = cur_packed(&pc);
                if (pc.failed)
                    return fail(e, LKS_ECORRUPT, "row %d: value options run past the event", nrows + 1);
                if (opts & 1) { /* PARTIAL_JSON_UPDATES */
                    pbits = lks_cur_take(&pc, njson_bytes);
                    if (!pbits)
                        return fail(e, LKS_ECORRUPT, "row %d: partial-JSON bitmap runs past the event", nrows + 1);
                }
                p = pc.p;
            }
            lks_cdc_value *av = op == LKS_CDC_UPDATE ? vals + ncols : vals;
            ev->has_after = 1;
            ev->after.v = av;
            ev->after.n = ncols;
            if ((rc = image(e, t, (int)width, cols_ai, nai, &p, end, av, pbits, ev->has_before ? vals : NULL)) != 0)
                return rc;
        }
        if (p == row_start) /* no columns present: the images are empty and would repeat forever */
            return fail(e, LKS_ECORRUPT, "row %d has empty images (no column present)", nrows + 1);
        nrows++;
    }
    it.events = d->evs;
    it.nevents = nrows;
    d->txn_row += nrows;
    return emit(e, &it);
}

/* ---- TRANSACTION_PAYLOAD ----------------------------------------------------------------------------------- */

static int event(lks_binlog_decoder *d, uint64_t pos, uint64_t next_pos, const uint8_t *ev, size_t len, int inner,
                 lks_binlog_cb *cb, void *ud, lks_err *err);

static int payload(ectx *e) {
    lks_binlog_decoder *d = e->d;
    if (e->inner)
        return fail(e, LKS_ECORRUPT, "a transaction payload inside a transaction payload");
    lks_cur c;
    lks_cur_init(&c, e->body, e->blen, 0);
    uint64_t size = UINT64_MAX, ctype = UINT64_MAX, usize = UINT64_MAX;
    for (;;) {
        uint64_t ft = cur_packed(&c);
        if (c.failed)
            return fail(e, LKS_ECORRUPT, "header fields run past the event");
        if (ft == 0)
            break;
        uint64_t flen = cur_packed(&c);
        if (c.failed || flen > lks_cur_left(&c))
            return fail(e, LKS_ECORRUPT, "header field %llu runs past the event", (unsigned long long)ft);
        lks_cur v;
        lks_cur_init(&v, lks_cur_take(&c, (size_t)flen), (size_t)flen, 0);
        uint64_t val = cur_packed(&v);
        if (v.failed)
            return fail(e, LKS_ECORRUPT, "header field %llu is malformed", (unsigned long long)ft);
        if (ft == 1)
            size = val;
        else if (ft == 2)
            ctype = val;
        else if (ft == 3)
            usize = val;
    }
    const uint8_t *data = c.p;
    size_t n = lks_cur_left(&c);
    if (size != UINT64_MAX && size != n)
        return fail(e, LKS_ECORRUPT, "payload size %llu does not match the %zu bytes present", (unsigned long long)size,
                    n);
    lks_buf_reset(&d->payload);
    if (ctype == 255 || ctype == UINT64_MAX) { /* uncompressed */
        if (lks_buf_append(&d->payload, data, n))
            return nomem(e);
    } else if (ctype == 0) {
        if (usize != UINT64_MAX && usize > d->max_event)
            return fail(e, LKS_ECORRUPT, "payload decompresses to %llu bytes, over the %zu-byte limit",
                        (unsigned long long)usize, d->max_event);
        if (!d->zstd && !(d->zstd = ZSTD_createDCtx()))
            return nomem(e);
        ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);
        ZSTD_inBuffer in = {data, n, 0};
        size_t zr = 1;
        while (zr != 0) {
            if (d->payload.len >= d->max_event)
                return fail(e, LKS_ECORRUPT, "payload decompresses to more than the %zu-byte limit", d->max_event);
            if (lks_buf_reserve(&d->payload, 1 << 16))
                return nomem(e);
            size_t room = d->payload.cap - d->payload.len;
            if (room > d->max_event - d->payload.len)
                room = d->max_event - d->payload.len;
            ZSTD_outBuffer out = {d->payload.ptr + d->payload.len, room, 0};
            zr = ZSTD_decompressStream(d->zstd, &out, &in);
            if (ZSTD_isError(zr))
                return fail(e, LKS_ECORRUPT, "zstd: %s", ZSTD_getErrorName(zr));
            d->payload.len += out.pos;
            if (zr != 0 && in.pos == in.size && out.pos < room)
                return fail(e, LKS_ECORRUPT, "zstd data ends before its frame does");
        }
        if (in.pos != in.size)
            return fail(e, LKS_ECORRUPT, "%zu bytes after the zstd frame", in.size - in.pos);
        if (usize != UINT64_MAX && usize != d->payload.len)
            return fail(e, LKS_ECORRUPT, "payload decompressed to %zu bytes, its header says %llu", d->payload.len,
                        (unsigned long long)usize);
    } else {
        return fail(e, LKS_EUNSUPPORTED, "compression type %llu", (unsigned long long)ctype);
    }
    /* the inner events: back to back, no checksums */
    size_t off = 0;
    const uint8_t *b = d->payload.ptr;
    size_t total = d->payload.len;
    while (off < total) {
        if (total - off < HDR_LEN)
            return fail(e, LKS_ECORRUPT, "inner event at offset %zu is truncated", off);
        uint32_t elen = lks_load_le32(b + off + 9);
        if (elen < HDR_LEN || elen > total - off)
            return fail(e, LKS_ECORRUPT, "inner event at offset %zu has length %u (%zu bytes left)", off, elen,
                        total - off);
        lks_arena_reset(&d->scratch);
        int rc = event(d, e->pos, e->next_pos, b + off, elen, 1, e->cb, e->ud, e->err);
        if (rc)
            return rc;
        off += elen;
    }
    return LKS_OK;
}

/* ---- one event --------------------------------------------------------------------------------------------- */

static int event(lks_binlog_decoder *d, uint64_t pos, uint64_t next_pos, const uint8_t *ev, size_t len, int inner,
                 lks_binlog_cb *cb, void *ud, lks_err *err) {
    ectx e = {d, len >= 5 ? ev[4] : 0, pos, 0, 0, 0, NULL, 0, inner, cb, ud, err};
    if (len < HDR_LEN)
        return fail(&e, LKS_ECORRUPT, "event of %zu bytes is shorter than its 19-byte header", len);
    e.ts = lks_load_le32(ev);
    e.server_id = lks_load_le32(ev + 5);
    uint32_t evlen = lks_load_le32(ev + 9);
    e.next_pos = inner ? next_pos : lks_load_le32(ev + 13);
    if (evlen != len)
        return fail(&e, LKS_ECORRUPT, "header says %u bytes, the event has %zu", evlen, len);
    if (len > d->max_event)
        return fail(&e, LKS_ECORRUPT, "event of %zu bytes is over the %zu-byte limit", len, d->max_event);
    if (e.type == LKS_BLE_FORMAT_DESCRIPTION)
        return fde(&e, ev, len);
    int crc = d->crc && !inner;
    size_t hdr = d->hdr_len;
    if (len < hdr + (crc ? 4 : 0))
        return fail(&e, LKS_ECORRUPT, "event of %zu bytes is shorter than its header%s", len,
                    crc ? " and checksum" : "");
    if (crc && d->verify) {
        uint32_t stored = lks_load_le32(ev + len - 4), computed = lks_crc32(0, ev, len - 4);
        if (stored != computed)
            return fail(&e, LKS_ECORRUPT, "checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
    }
    e.body = ev + hdr;
    e.blen = len - hdr - (crc ? 4 : 0);
    switch (e.type) {
    case LKS_BLE_ROTATE: return rotate(&e);
    case LKS_BLE_QUERY:
    case LKS_BLE_MARIA_QUERY_COMPRESSED: return query(&e);
    case LKS_BLE_XID: d->txn = TXN_NONE; return emit_kind(&e, LKS_BL_COMMIT);
    case LKS_BLE_GTID:
    case LKS_BLE_ANONYMOUS_GTID:
    case LKS_BLE_GTID_TAGGED:
    case LKS_BLE_MARIA_GTID: return gtid(&e);
    case LKS_BLE_TABLE_MAP: return table_map(&e);
    case LKS_BLE_WRITE_ROWS_V1:
    case LKS_BLE_UPDATE_ROWS_V1:
    case LKS_BLE_DELETE_ROWS_V1:
    case LKS_BLE_WRITE_ROWS_V2:
    case LKS_BLE_UPDATE_ROWS_V2:
    case LKS_BLE_DELETE_ROWS_V2:
    case LKS_BLE_PARTIAL_UPDATE_ROWS:
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case LKS_BLE_MARIA_WRITE_ROWS_COMPRESSED:
    case LKS_BLE_MARIA_UPDATE_ROWS_COMPRESSED:
    case LKS_BLE_MARIA_DELETE_ROWS_COMPRESSED: return rows(&e);
    case LKS_BLE_TRANSACTION_PAYLOAD: return payload(&e);
    case LKS_BLE_HEARTBEAT:
    case LKS_BLE_HEARTBEAT_V2: return emit_kind(&e, LKS_BL_HEARTBEAT);
    case LKS_BLE_STOP: return emit_kind(&e, LKS_BL_STOP);
    case LKS_BLE_MARIA_START_ENCRYPTION:
        return fail(&e, LKS_EUNSUPPORTED, "the binlog is encrypted from here on (encrypt_binlog)");
    default: return emit_kind(&e, LKS_BL_OTHER);
    }
}

int lks_binlog_feed(lks_binlog_decoder *d, uint64_t pos, const uint8_t *ev, size_t len, lks_binlog_cb *cb, void *ud,
                    lks_err *err) {
    lks_arena_reset(&d->scratch);
    return event(d, pos, 0, ev, len, 0, cb, ud, err);
}

/* ---- whole files ---------------------------------------------------------------------------------------- */

/* A read file is held a piece at a time, in a buffer of at most about this
 * size (more only for an event that is larger): what the decoder reads stays
 * in the CPU's caches, and no page of the file has to be mapped. */
#define STREAM_CHUNK ((size_t)256 << 10)

/* The bytes of a file being decoded: all of it (lks_binlog_decode_file), or
 * what has been read of it and not decoded yet (lks_binlog_decode_stream). */
typedef struct held {
    const uint8_t *p; /* p[0..n) */
    size_t n;
    int eof;     /* nothing more to read */
    size_t size; /* bytes the buffer is to hold: doubles up to STREAM_CHUNK while reads fill it */
    lks_buf buf;
    lks_binlog_read_fn *rd;
    void *rd_ud;
} held;

/* Holds at least `want` bytes from *off on unless the file ends first:
 * moves what is held to the front of the buffer (*off becomes 0), grows it
 * for a large event, reads. */
static int hold(lks_binlog_decoder *d, held *h, size_t *off, size_t want, lks_err *err) {
    while (h->n - *off < want && !h->eof) {
        lks_buf *b = &h->buf;
        if (*off) {
            memmove(b->ptr, b->ptr + *off, b->len - *off);
            b->len -= *off;
            *off = 0;
        }
        size_t target = want > h->size ? want : h->size;
        if (lks_buf_reserve(b, target - b->len)) {
            h->p = NULL, h->n = 0;
            return lks_err_set(err, LKS_ENOMEM, "%s: out of memory for %zu bytes of the file", file_name(d), target);
        }
        size_t room = b->cap - 1 - b->len;
        long k = h->rd(h->rd_ud, b->ptr + b->len, room, err);
        if (k < 0)
            return (int)k;
        if ((size_t)k > room)
            return lks_err_set(err, LKS_EINTERNAL, "%s: the reader returned %ld bytes for %zu", file_name(d), k, room);
        if (k == 0)
            h->eof = 1;
        else if ((size_t)k == room && h->size < STREAM_CHUNK) /* a file larger than the buffer */
            h->size *= 2;
        b->len += (size_t)k;
        h->p = b->ptr, h->n = b->len;
    }
    return LKS_OK;
}

/* The event at pos is over the size limit (as event() says it). */
static int too_large(lks_binlog_decoder *d, uint64_t pos, const uint8_t *hdr, size_t len, lks_err *err) {
    ectx e = {d, hdr[4], pos, 0, 0, 0, NULL, 0, 0, NULL, NULL, err};
    return fail(&e, LKS_ECORRUPT, "event of %zu bytes is over the %zu-byte limit", len, d->max_event);
}

/* The magic, then events back to back, each decoded when it is held whole;
 * a file that ends inside an event is truncated. */
static int decode_held(lks_binlog_decoder *d, held *h, int allow_truncated_tail, lks_binlog_cb *cb, void *ud,
                       lks_err *err) {
    size_t off = 0, pos = 4; /* pos: the file offset of p[off] */
    int rc = hold(d, h, &off, 4, err);
    if (rc)
        return rc;
    if (h->n < 4 || memcmp(h->p,
                           "\xfe"
                           "bin",
                           4) != 0)
        return lks_err_set(err, LKS_ECORRUPT, "%s: not a binlog file (no \\xfebin magic)", file_name(d));
    off = 4;
    for (;;) {
        if ((rc = hold(d, h, &off, HDR_LEN, err)) != 0)
            return rc;
        size_t left = h->n - off;
        if (left == 0)
            return LKS_OK;
        if (left < HDR_LEN) {
            if (allow_truncated_tail)
                return LKS_OK;
            return lks_err_set(err, LKS_ECORRUPT, "%s: truncated event at %zu (%zu bytes, the header needs 19)",
                               file_name(d), pos, left);
        }
        const uint8_t *ev = h->p + off;
        uint32_t elen = lks_load_le32(ev + 9);
        if (elen < HDR_LEN)
            return lks_err_set(err, LKS_ECORRUPT, "%s: %s event at %zu: length %u is shorter than its header",
                               file_name(d), lks_binlog_type_name(ev[4]), pos, elen);
        if (elen > left && elen <= d->max_event) {
            if ((rc = hold(d, h, &off, elen, err)) != 0)
                return rc;
            ev = h->p + off;
            left = h->n - off;
        } else if (elen > left && !h->eof) {
            /* over the limit: not held, but whether the file has that many
             * bytes decides what is wrong with it */
            uint8_t hdr[HDR_LEN];
            memcpy(hdr, ev, HDR_LEN);
            while (left < elen && !h->eof) {
                size_t none = 0;
                h->buf.len = 0, h->n = 0;
                if ((rc = hold(d, h, &none, 1, err)) != 0)
                    return rc;
                left += h->n;
            }
            if (left >= elen)
                return too_large(d, pos, hdr, elen, err);
            if (allow_truncated_tail)
                return LKS_OK;
            return lks_err_set(err, LKS_ECORRUPT, "%s: truncated event at %zu (%s, %u bytes, %zu left in the file)",
                               file_name(d), pos, lks_binlog_type_name(hdr[4]), elen, left);
        }
        if (elen > left) {
            if (allow_truncated_tail)
                return LKS_OK;
            return lks_err_set(err, LKS_ECORRUPT, "%s: truncated event at %zu (%s, %u bytes, %zu left in the file)",
                               file_name(d), pos, lks_binlog_type_name(ev[4]), elen, left);
        }
        if ((rc = lks_binlog_feed(d, pos, ev, elen, cb, ud, err)) != 0)
            return rc;
        off += elen, pos += elen;
    }
}

int lks_binlog_decode_file(lks_binlog_decoder *d, const char *name, const uint8_t *data, size_t len,
                           int allow_truncated_tail, lks_binlog_cb *cb, void *ud, lks_err *err) {
    if (name && lks_binlog_decoder_set_file(d, name, err))
        return LKS_ENOMEM;
    d->input = name;
    held h = {data, len, 1, 0, {NULL, 0, 0, 0}, NULL, NULL};
    int rc = decode_held(d, &h, allow_truncated_tail, cb, ud, err);
    d->input = NULL;
    return rc;
}

int lks_binlog_decode_stream(lks_binlog_decoder *d, const char *name, lks_binlog_read_fn *rd, void *rd_ud,
                             int allow_truncated_tail, lks_binlog_cb *cb, void *ud, lks_err *err) {
    if (name && lks_binlog_decoder_set_file(d, name, err))
        return LKS_ENOMEM;
    d->input = name;
    held h = {(const uint8_t *)"", 0, 0, 4096, {NULL, 0, 0, 0}, rd, rd_ud};
    lks_buf_init(&h.buf, 0);
    int rc = decode_held(d, &h, allow_truncated_tail, cb, ud, err);
    lks_buf_free(&h.buf);
    d->input = NULL;
    return rc;
}
