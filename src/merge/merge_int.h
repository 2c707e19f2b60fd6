/*
 * merge_int.h — what the batch files of src/merge/ share: the batch itself
 * (batch.c collects and dedupes events, apply.c commits them) and the type
 * helpers of types.c (DESIGN.md §3 type mapping, value conversion to the
 * read schema's canonical forms, the primary-key byte encoding).
 *
 * Primary-key encoding: each key column's canonical value (lks_pq_value of
 * the column's Delta type, delta.h) encoded so that the bytes of a key
 * compare with memcmp in the column's value order and no column's encoding
 * is a prefix of another value's: integers big-endian with the sign bit
 * flipped, floats with the IEEE order trick, wide decimals as their fixed
 * width two's complement with the sign bit flipped, strings and binary with
 * 0x00 escaped as 00 FF and terminated by 00 01.  A key is the
 * concatenation over the key columns; keys sorted as bytes are sorted by
 * their first column, which stats pruning uses.
 */
#ifndef LKS_MERGE_INT_H
#define LKS_MERGE_INT_H

#include "merge/merge.h"

/* ---- types (types.c) ----------------------------------------------------------------- */

/* The Delta type an event column maps to: kind, precision, scale (other
 * members untouched). */
void lks_merge__map_type(const lks_cdc_type *ct, int datetime_as_ntz, lks_delta_type *out);
/* Name of a Delta type for messages ("decimal(10,2)"): written into buf. */
const char *lks_merge__type_name(const lks_delta_type *dt, char *buf, size_t cap);
const char *lks_merge__cdc_type_name(const lks_cdc_type *ct, char *buf, size_t cap);
/* 1 when every value of event type ct can be stored exactly in a column of
 * Delta type dt (same type, or a widening: integers to wider integers or
 * wide-enough decimals, float to double, decimals to decimals with enough
 * integer and fraction digits or to string, DATETIME to either timestamp). */
int lks_merge__type_fits(const lks_cdc_type *ct, const lks_delta_type *dt);
/* The canonical lks_pq_value kind of a Delta type, and for wide decimals the
 * FIXED_LEN_BYTE_ARRAY width (0 otherwise); -1 for types a merge cannot
 * fill (struct, array, map, void). */
int lks_merge__pq_kind(const lks_delta_type *dt, int *width);
/* Converts one event value into the canonical form of dt.  Bytes point
 * into the event value or into a.  LKS_EINVAL (no message) when the value
 * does not fit (out of range, lossy rescale, wrong kind, ABSENT);
 * LKS_ENOMEM.  NULL gives a NULL value. */
int lks_merge__conv_value(const lks_cdc_value *v, const lks_delta_type *dt, lks_arena *a, lks_pq_value *out);

/* Appends the key encoding of v (canonical form of dt).  LKS_EINVAL for a
 * NULL or a value of the wrong kind; LKS_ENOMEM. */
int lks_merge__key_put(lks_buf *b, const lks_delta_type *dt, const lks_pq_value *v);
/* Length of the encoded column value of type dt at p (n bytes left), 0
 * when malformed. */
size_t lks_merge__key_seg_len(const lks_delta_type *dt, const uint8_t *p, size_t n);
/* Hash of one encoded column value as Parquet bloom filters hash its
 * physical value (plain encoding).  tmp: scratch. */
uint64_t lks_merge__key_seg_bloom_hash(const lks_delta_type *dt, const uint8_t *p, size_t n, lks_buf *tmp);
/* Encoded column values and whole keys compare with lks_bytes_cmp (core.h):
 * memcmp order, a prefix sorting first. */

/* An encoded key, by reference. */
typedef struct lks_merge_keyref {
    const uint8_t *k;
    uint32_t n;
} lks_merge_keyref;

/* Sorts keys in lks_bytes_cmp order (not stable). */
void lks_merge__sort_keys(lks_merge_keyref *keys, size_t n);

/* ---- the batch (batch.c) ---------------------------------------------------------------- */

/* An event column layout seen in the batch (interned by content). */
typedef struct lks_merge_schema {
    uint64_t hash;
    lks_cdc_field *fields;
    int nfields;
    int *key; /* per key column: field index */
} lks_merge_schema;

/* The latest event of one primary key. */
typedef struct lks_merge_entry {
    uint64_t hash;
    uint8_t *key;       /* encoded key (data arena) */
    uint8_t *row;       /* serialized after image (data arena), NULL for deletes */
    uint32_t klen, rlen, rcap;
    int32_t schema;     /* index into schemas (upserts) */
    uint8_t op;         /* 'u' upsert, 'd' delete */
} lks_merge_entry;

typedef struct lks_merge_stream {
    char *name;
    int64_t next_pos;
    int rebase; /* positions restart here: the table may hold a larger one */
} lks_merge_stream;

/* A top-level table column known when the batch started. */
typedef struct lks_merge_tcol {
    char *name;
    lks_delta_type type; /* scalar members only */
} lks_merge_tcol;

struct lks_merge_batch {
    lks_delta_table *t;
    int datetime_as_ntz;
    lks_delta_kv *props; /* table properties for a new table (meta arena) */
    int nprops;
    lks_arena meta;      /* names, schemas, streams: kept across truncates and commits */
    lks_arena data;      /* keys and rows: reset by a truncate and a commit */
    uint8_t *pool;       /* unaligned bump space in data's current chunk */
    size_t pool_left;
    /* the primary key, fixed by the options, the table or the first event */
    char **keys;
    int nkeys;
    lks_delta_type *ktypes; /* per key column: the Delta type its values are encoded in */
    int keys_fixed;
    char *table_pk;         /* lakesync.primaryKey of the table at batch start */
    lks_merge_tcol *tcols;  /* the table's top-level columns at batch start (none: no table) */
    int ntcols;
    lks_merge_schema *schemas;
    int nschemas, cschemas;
    int last_schema; /* the schema the last event used (checked first) */
    lks_merge_entry **eblk; /* entries in blocks of LKS_MERGE_EBLK (never moved: no copy as they grow) */
    size_t nents, neblk;
    uint64_t *slots;        /* open addressing: 0 empty, else the hash's high 32 bits << 32 | entry index + 1 */
    size_t nslots;
    lks_merge_stream *streams;
    int nstreams, cstreams;
    int truncate;           /* empty the table before applying the entries */
    int64_t nevents, ntruncates;
    lks_buf kbuf, rbuf;     /* scratch: a key, a serialized row */
    lks_arena conv;         /* scratch for key conversion */
};

#define LKS_MERGE_EBITS 14
#define LKS_MERGE_EBLK ((size_t)1 << LKS_MERGE_EBITS)
/* Entry j of batch b. */
#define LKS_MERGE_ENT(b, j) (&(b)->eblk[(size_t)(j) >> LKS_MERGE_EBITS][(size_t)(j) & (LKS_MERGE_EBLK - 1)])

/* The entry of an encoded key, or NULL. */
const lks_merge_entry *lks_merge__find(const lks_merge_batch *b, const uint8_t *key, size_t len, uint64_t hash);
/* Decodes an entry's row into v (room for its schema's nfields). */
void lks_merge__row_decode(const lks_merge_entry *e, lks_cdc_value *v, int n);
/* Empties the batch after a commit (keeps schemas and the key). */
void lks_merge__batch_reset(lks_merge_batch *b);

/* Applies the batch on top of `read` (NULL: the latest snapshot).  Used by
 * lks_merge_batch_commit and by tests that race two batches from one
 * snapshot. */
int lks_merge__batch_commit_at(lks_merge_batch *b, const lks_delta_snapshot *read, lks_merge_stats *st,
                               lks_err *err);

#endif
