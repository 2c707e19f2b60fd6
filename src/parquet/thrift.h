/*
 * thrift.h — the Thrift compact protocol, as much of it as Parquet needs
 * (internal to src/parquet/).
 *
 * Writer: appends to an lks_buf.  Failures are sticky (the first status is
 * kept in w->rc and later calls do nothing), so an encoder writes a whole
 * struct and checks once at the end.
 *
 * Reader: decodes hostile bytes through an lks_cur.  Every read is bounds
 * checked; varints are checked for overflow against the target width;
 * binary lengths and list/map counts are checked against the bytes left
 * (each element takes at least one byte, so a count never justifies more
 * memory than the input); unknown fields of any type are skipped; structs,
 * lists and maps nest at most LKS_THR_MAX_DEPTH deep.  The first error is
 * sticky: it records a status, a static "what" text, the byte offset, and
 * the struct and field being read; afterwards every read returns zero and
 * lks_thr_r_field() reports the end of the struct, so decoding loops end
 * quickly and the caller checks once with lks_thr_r_status().
 */
#ifndef LKS_PARQUET_THRIFT_H
#define LKS_PARQUET_THRIFT_H

#include "core/core.h"

#define LKS_THR_MAX_DEPTH 64

/* Compact-protocol wire types (field header low nibble, list element type). */
enum {
    LKS_THR_STOP = 0,
    LKS_THR_TRUE = 1, /* bool field with value true; bool list elements */
    LKS_THR_FALSE = 2,
    LKS_THR_I8 = 3,
    LKS_THR_I16 = 4,
    LKS_THR_I32 = 5,
    LKS_THR_I64 = 6,
    LKS_THR_DOUBLE = 7,
    LKS_THR_BINARY = 8,
    LKS_THR_LIST = 9,
    LKS_THR_SET = 10,
    LKS_THR_MAP = 11,
    LKS_THR_STRUCT = 12
};

/* ---- writer ------------------------------------------------------------- */

typedef struct lks_thr_wr {
    lks_buf *b;                      /* borrowed */
    int rc;                          /* first failure (LKS_ENOMEM, LKS_ELIMIT, LKS_EINVAL) */
    int depth;                       /* open structs */
    int16_t last[LKS_THR_MAX_DEPTH]; /* previous field id per open struct */
} lks_thr_wr;

void lks_thr_wr_init(lks_thr_wr *w, lks_buf *b);

/* Opens a struct that has no field header of its own (the outermost struct,
 * or a list element).  lks_thr_w_struct_end() writes its stop byte. */
void lks_thr_w_struct_begin(lks_thr_wr *w);
void lks_thr_w_struct_end(lks_thr_wr *w);

/* A field header (delta form when 1..15 past the previous id, else long
 * form).  Bool fields use lks_thr_w_field_bool() instead. */
void lks_thr_w_field(lks_thr_wr *w, int16_t id, int type);

/* Field header plus value. */
void lks_thr_w_field_bool(lks_thr_wr *w, int16_t id, int v);
void lks_thr_w_field_i8(lks_thr_wr *w, int16_t id, int8_t v);
void lks_thr_w_field_i16(lks_thr_wr *w, int16_t id, int16_t v);
void lks_thr_w_field_i32(lks_thr_wr *w, int16_t id, int32_t v);
void lks_thr_w_field_i64(lks_thr_wr *w, int16_t id, int64_t v);
void lks_thr_w_field_binary(lks_thr_wr *w, int16_t id, const void *p, size_t len);
void lks_thr_w_field_string(lks_thr_wr *w, int16_t id, const char *s);
/* Field header of type STRUCT, then opens the struct. */
void lks_thr_w_field_struct(lks_thr_wr *w, int16_t id);
/* Field header of type LIST, then the list header. */
void lks_thr_w_field_list(lks_thr_wr *w, int16_t id, int elem_type, size_t count);

/* Bare values (list elements). */
void lks_thr_w_list_header(lks_thr_wr *w, int elem_type, size_t count);
void lks_thr_w_i32(lks_thr_wr *w, int32_t v);
void lks_thr_w_i64(lks_thr_wr *w, int64_t v);
void lks_thr_w_binary(lks_thr_wr *w, const void *p, size_t len);
void lks_thr_w_uvarint(lks_thr_wr *w, uint64_t v);

/* ---- reader --------------------------------------------------------------- */

typedef struct lks_thr_rd {
    lks_cur cur;
    int depth;                            /* open structs/containers */
    const char *names[LKS_THR_MAX_DEPTH]; /* struct name per level (NULL: container) */
    int16_t last[LKS_THR_MAX_DEPTH];      /* previous field id per level */
    /* sticky error */
    int code;         /* LKS_OK or the first failure */
    const char *what; /* static text: "truncated varint", ... */
    const char *in;   /* struct being read, or NULL */
    int field;        /* its field being read (0: none yet) */
    uint64_t offset;  /* absolute byte offset of the failure */
} lks_thr_rd;

void lks_thr_rd_init(lks_thr_rd *r, const void *p, size_t len, uint64_t base);

/* Records the first failure (later ones are ignored), stops the cursor and
 * returns r->code.  `what` must be a string literal (it is kept). */
int lks_thr_r_fail(lks_thr_rd *r, int code, const char *what);
/* Same, with the offset given explicitly. */
int lks_thr_r_fail_at(lks_thr_rd *r, int code, const char *what, uint64_t offset);

/* Converts the sticky state into an lks_err: "<ctx>: <what> in <struct>
 * field <id> at offset N".  Returns LKS_OK or the recorded code. */
int lks_thr_r_status(const lks_thr_rd *r, const char *ctx, lks_err *err);

/* Opens a struct named `name` (for error messages): fails past the depth
 * cap.  Returns 0 on success. */
int lks_thr_r_struct_begin(lks_thr_rd *r, const char *name);
void lks_thr_r_struct_end(lks_thr_rd *r);

/* Reads the next field header of the innermost open struct.  Returns 1 with
 * *id and *type set, or 0 at the stop byte or on error. */
int lks_thr_r_field(lks_thr_rd *r, int16_t *id, int *type);

/* Values.  Each checks bounds and range; on failure the error is recorded and
 * 0 / an empty slice is returned. */
uint64_t lks_thr_r_uvarint(lks_thr_rd *r, unsigned max_bits);
int8_t lks_thr_r_i8(lks_thr_rd *r);
int16_t lks_thr_r_i16(lks_thr_rd *r);
int32_t lks_thr_r_i32(lks_thr_rd *r);
int64_t lks_thr_r_i64(lks_thr_rd *r);
double lks_thr_r_double(lks_thr_rd *r);
/* Bool value: from a field's wire type (TRUE/FALSE), or a list element byte
 * when `type` is -1. */
int lks_thr_r_bool(lks_thr_rd *r, int type);
/* Binary: the slice points into the input. */
lks_slice lks_thr_r_binary(lks_thr_rd *r);

/* List (or set) header.  Checks the element type is `want_type` (-1: any,
 * the actual one is returned in *elem_type) and that count * min_elem_bytes
 * fits in the bytes left.  Returns 0 and *count on success. */
int lks_thr_r_list(lks_thr_rd *r, int want_type, size_t min_elem_bytes, int *elem_type, size_t *count);

/* Skips one field value of wire type `type` (bools live in the field header);
 * lks_thr_r_skip_elem() skips a list element (a bool takes one byte). */
int lks_thr_r_skip(lks_thr_rd *r, int type);
int lks_thr_r_skip_elem(lks_thr_rd *r, int type);

/* Checks that a known field has the expected wire type (bool: TRUE or
 * FALSE); otherwise records "wrong wire type" and returns 0. */
int lks_thr_r_expect(lks_thr_rd *r, int type, int want);

#endif
