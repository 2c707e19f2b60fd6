/*
 * binlog_int.h — what binlog.c (events, table maps, row images) and
 * binlog_value.c (column values: integers, decimals, temporals, strings and
 * their charsets) share.  Not a public interface.
 */
#ifndef LKS_SOURCE_BINLOG_INT_H
#define LKS_SOURCE_BINLOG_INT_H

#include "source/binlog.h"

#include <iconv.h>

/* MYSQL_TYPE_* codes as they appear in TABLE_MAP events. */
enum {
    BL_T_DECIMAL = 0,
    BL_T_TINY = 1,
    BL_T_SHORT = 2,
    BL_T_LONG = 3,
    BL_T_FLOAT = 4,
    BL_T_DOUBLE = 5,
    BL_T_NULL = 6,
    BL_T_TIMESTAMP = 7,
    BL_T_LONGLONG = 8,
    BL_T_INT24 = 9,
    BL_T_DATE = 10,
    BL_T_TIME = 11,
    BL_T_DATETIME = 12,
    BL_T_YEAR = 13,
    BL_T_NEWDATE = 14,
    BL_T_VARCHAR = 15,
    BL_T_BIT = 16,
    BL_T_TIMESTAMP2 = 17,
    BL_T_DATETIME2 = 18,
    BL_T_TIME2 = 19,
    BL_T_BLOB_COMPRESSED = 140,    /* MariaDB column compression */
    BL_T_VARCHAR_COMPRESSED = 141, /* MariaDB column compression */
    BL_T_VECTOR = 242,
    BL_T_JSON = 245,
    BL_T_NEWDECIMAL = 246,
    BL_T_ENUM = 247,
    BL_T_SET = 248,
    BL_T_TINY_BLOB = 249,
    BL_T_MEDIUM_BLOB = 250,
    BL_T_LONG_BLOB = 251,
    BL_T_BLOB = 252,
    BL_T_VAR_STRING = 253,
    BL_T_STRING = 254,
    BL_T_GEOMETRY = 255
};

/* How a column's bytes in a row image are read (one switch per value). */
enum {
    BL_OP_INT = 1,    /* little-endian integer of `width` bytes, signed unless `uns` */
    BL_OP_FLOAT,      /* 4-byte IEEE */
    BL_OP_DOUBLE,     /* 8-byte IEEE */
    BL_OP_DECIMAL,    /* binary decimal of `width` bytes (prec, scale) */
    BL_OP_YEAR,       /* 1 byte, 1900 + n (0: year 0) */
    BL_OP_DATE,       /* 3 bytes */
    BL_OP_TIME,       /* 3 bytes, old HHMMSS */
    BL_OP_TIME2,      /* 3 bytes + fraction */
    BL_OP_DATETIME,   /* 8 bytes, old YYYYMMDDhhmmss */
    BL_OP_DATETIME2,  /* 5 bytes + fraction */
    BL_OP_TIMESTAMP,  /* 4 bytes LE seconds */
    BL_OP_TIMESTAMP2, /* 4 bytes BE seconds + fraction */
    BL_OP_STR,        /* length prefix of `lenbytes` (1..4), then bytes */
    BL_OP_ENUM,       /* 1 or 2 bytes index */
    BL_OP_SET,        /* 1..8 bytes bitmap */
    BL_OP_BIT,        /* `width` bytes big-endian */
    BL_OP_NULLTYPE    /* MYSQL_TYPE_NULL: no bytes */
};

/* How string bytes become the value (BL_OP_STR). */
enum {
    BL_CS_RAW = 0, /* bytes as stored (binary, or charset unknown) */
    BL_CS_UTF8,    /* utf8mb3/utf8mb4/ascii: validated, passed through */
    BL_CS_LATIN1,  /* MySQL's latin1 (cp1252 with the five holes kept) */
    BL_CS_ICONV    /* another charset, converted with iconv */
};

/* One column of a mapped table: how to read and convert its values. */
typedef struct bl_col {
    uint8_t type;       /* real type (ENUM/SET resolved from STRING metadata) */
    uint8_t op;         /* BL_OP_* */
    uint8_t width;      /* fixed byte width (INT, DECIMAL, BIT, ENUM, SET) */
    uint8_t lenbytes;   /* STR: length prefix bytes */
    uint8_t uns;        /* INT: unsigned */
    uint8_t fsp;        /* TIME2/DATETIME2/TIMESTAMP2 fraction digits */
    uint8_t cs;         /* BL_CS_* */
    uint8_t kind;       /* lks_cdc_type kind (INT vs UINT for 8-byte unsigned) */
    uint8_t geometry;   /* STR: strip the 4-byte SRID */
    uint8_t json;       /* STR: MySQL binary JSON */
    uint8_t compressed; /* STR: MariaDB compressed column */
    uint8_t binary;     /* STR: the binary charset */
    uint16_t fixlen;    /* STR of a CHAR/BINARY column: its length in bytes */
    int16_t json_index; /* index among the table's JSON columns, -1 otherwise */
    uint16_t meta;
    int coll;        /* collation id, -1 when unknown */
    int cs_index;    /* BL_CS_ICONV: index into the iconv charset table */
    int prec, scale; /* DECIMAL */
    int nbits;       /* BIT */
    int nmembers;    /* ENUM/SET members (0: none known) */
    const char **members;
    const size_t *member_len;
} bl_col;

/* iconv handles per charset, opened on first use (the decoder owns them). */
#define BL_NCHARSETS 48
typedef struct bl_iconv_cache {
    iconv_t cd[BL_NCHARSETS];
    uint8_t tried[BL_NCHARSETS];
} bl_iconv_cache;

void lks_bl_iconv_init(bl_iconv_cache *c);
void lks_bl_iconv_free(bl_iconv_cache *c);

/* Charset handling for a collation id: BL_CS_*, with *cs_index for
 * BL_CS_ICONV.  Returns -1 for an unknown id and 63 (binary) as BL_CS_RAW
 * with *binary set. */
int lks_bl_charset_of(int coll, int *cs_index, int *binary);
/* The MySQL name of an iconv charset index ("cp1250"), for messages. */
const char *lks_bl_charset_name(int cs_index);

/* Converts string bytes of column c to UTF-8 (into the arena when they must
 * change).  Returns LKS_OK, LKS_ECORRUPT (invalid bytes, msg set) or
 * LKS_EUNSUPPORTED (iconv does not know the charset). */
int lks_bl_text(bl_iconv_cache *ic, const bl_col *c, const uint8_t *p, size_t n, lks_arena *a, lks_slice *out,
                char *msg, size_t msgcap);

/* Reads one non-NULL value of column c at p[0..n) (bytes the row image has
 * left): sets *out and *used (bytes consumed).  Returns LKS_OK, or
 * LKS_ECORRUPT / LKS_EUNSUPPORTED / LKS_ENOMEM with msg saying what.  JSON
 * and compressed columns are not decoded here: their bytes come back raw
 * in out->u.bytes for the caller. */
int lks_bl_value(bl_iconv_cache *ic, const bl_col *c, const uint8_t *p, size_t n, lks_arena *a, lks_cdc_value *out,
                 size_t *used, char *msg, size_t msgcap);

/* Byte width of a binary DECIMAL(p,s); 0 when p/s are out of range. */
size_t lks_bl_decimal_size(int precision, int scale);

#endif
