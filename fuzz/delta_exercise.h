/*
 * delta_exercise.h — drives the Delta log action parser and the deletion
 * vector decoder over one untrusted input.  Shared by the libFuzzer targets
 * (fuzz/fuzz_delta_action.c, fuzz/fuzz_delta_dv.c) and the unit test that
 * replays fuzz/seeds_delta_action/, fuzz/seeds_delta_dv/ and
 * fuzz/crashes_delta/ (tests/unit/test_delta_hostile.c), so both run exactly the same code.
 *
 * Actions: each line of the input is parsed; a line that parses is written
 * back with lks_delta_action_write, which must give one JSON line that
 * parses again to the same kind and writes back to the same bytes (the
 * writer is a fixed point after one round).  A metaData action's schema is
 * printed, re-parsed (same text again) and mapped to Parquet.
 *
 * Deletion vectors: the input is decoded as a serialized bitmap, as inline
 * Z85 text (both the input itself and its Z85 encoding, through
 * lks_delta_dv_load), and as a DV file whose descriptor's offset and
 * sizeInBytes are the first 8 bytes (big-endian), plus a well-formed file
 * wrapping the input with a correct size and CRC-32.
 *
 * A status outside the documented set, an error without a message, or a
 * broken round trip is a bug, reported with abort().
 */
#ifndef LKS_FUZZ_DELTA_EXERCISE_H
#define LKS_FUZZ_DELTA_EXERCISE_H

#include "delta/delta_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void lks_dfuzz_bug(const char *what, int rc, const lks_err *err) {
    fprintf(stderr, "delta exercise: %s (status %d: %s)\n", what, rc, err ? err->msg : "");
    abort();
}

/* A status a decoder may return on hostile input, with a message. */
static inline void lks_dfuzz_check_rc(const char *what, int rc, const lks_err *err) {
    switch (rc) {
    case LKS_OK: return;
    case LKS_ECORRUPT:
    case LKS_ELIMIT:
    case LKS_EUNSUPPORTED:
    case LKS_ECHECKSUM:
    case LKS_ENOMEM:
        if (err && err->msg[0] == 0) lks_dfuzz_bug(what, rc, err);
        return;
    default: lks_dfuzz_bug(what, rc, err);
    }
}

/* ---- actions ----------------------------------------------------------------- */

/* Schema of a parsed metaData: print → parse → print gives the same text;
 * the Parquet mapping answers with a status. */
static inline void lks_dfuzz_schema(const lks_delta_type *root, lks_arena *a) {
    lks_buf j1, j2;
    lks_buf_init(&j1, 0);
    lks_buf_init(&j2, 0);
    lks_err err = {0};
    if (lks_delta_schema_to_json(&j1, root) != LKS_OK) lks_dfuzz_bug("schema_to_json failed", 0, NULL);
    lks_delta_type *again = NULL;
    int rc = lks_delta_schema_parse((const char *)j1.ptr, j1.len, a, &again, &err);
    if (rc != LKS_OK) {
        fprintf(stderr, "schema: %.*s\n", (int)j1.len, (const char *)j1.ptr);
        lks_dfuzz_bug("printed schema does not parse", rc, &err);
    }
    if (lks_delta_schema_to_json(&j2, again) != LKS_OK) lks_dfuzz_bug("schema_to_json failed (2)", 0, NULL);
    if (j1.len != j2.len || memcmp(j1.ptr, j2.ptr, j1.len) != 0) {
        fprintf(stderr, "first:  %.*s\nsecond: %.*s\n", (int)j1.len, (const char *)j1.ptr, (int)j2.len,
                (const char *)j2.ptr);
        lks_dfuzz_bug("schema print is not a fixed point", 0, NULL);
    }
    for (int physical = 0; physical < 2; physical++) {
        lks_pq_schema *ps = NULL;
        lks_err_clear(&err);
        rc = lks_delta_schema_to_parquet(root, physical, &ps, &err);
        lks_dfuzz_check_rc("lks_delta_schema_to_parquet", rc, &err);
        if (rc == LKS_OK && !ps) lks_dfuzz_bug("schema_to_parquet gave no schema", 0, NULL);
        lks_pq_schema_free(ps);
    }
    lks_buf_free(&j1);
    lks_buf_free(&j2);
}

/* One line: parse, write, re-parse, re-write.  Returns the kind (or -1
 * when the line is refused). */
static inline int lks_dfuzz_action_line(const char *line, size_t len, lks_arena *a) {
    lks_err err = {0};
    lks_delta_action act;
    int rc = lks_delta_action_parse(line, len, a, &act, &err);
    lks_dfuzz_check_rc("lks_delta_action_parse", rc, &err);
    if (rc != LKS_OK) return -1;
    if (act.kind == LKS_DA_NONE) return LKS_DA_NONE;
    lks_buf w1, w2;
    lks_buf_init(&w1, 0);
    lks_buf_init(&w2, 0);
    rc = lks_delta_action_write(&w1, &act);
    if (rc != LKS_OK) lks_dfuzz_bug("lks_delta_action_write refused a parsed action", rc, NULL);
    if (w1.len == 0 || w1.ptr[w1.len - 1] != '\n' || memchr(w1.ptr, '\n', w1.len - 1))
        lks_dfuzz_bug("written action is not one line", 0, NULL);
    lks_delta_action act2;
    lks_err_clear(&err);
    rc = lks_delta_action_parse((const char *)w1.ptr, w1.len - 1, a, &act2, &err);
    if (rc != LKS_OK) {
        fprintf(stderr, "input:   %.*s\nwritten: %.*s", (int)len, line, (int)w1.len, (const char *)w1.ptr);
        lks_dfuzz_bug("written action does not parse", rc, &err);
    }
    if (act2.kind != act.kind) lks_dfuzz_bug("written action parses to another kind", act2.kind, NULL);
    rc = lks_delta_action_write(&w2, &act2);
    if (rc != LKS_OK) lks_dfuzz_bug("lks_delta_action_write refused a re-parsed action", rc, NULL);
    if (w1.len != w2.len || memcmp(w1.ptr, w2.ptr, w1.len) != 0) {
        fprintf(stderr, "first:  %.*ssecond: %.*s", (int)w1.len, (const char *)w1.ptr, (int)w2.len,
                (const char *)w2.ptr);
        lks_dfuzz_bug("action write is not a fixed point", 0, NULL);
    }
    if (act.kind == LKS_DA_METADATA) {
        if (!act.u.metadata.schema) lks_dfuzz_bug("metaData parsed without a schema", 0, NULL);
        lks_dfuzz_schema(act.u.metadata.schema, a);
    }
    lks_buf_free(&w1);
    lks_buf_free(&w2);
    return act.kind;
}

/* Every line of the input (blank and whitespace-only lines skipped, as log
 * replay does).  Returns how many lines parsed to a known action. */
static inline int lks_dfuzz_actions(const uint8_t *data, size_t size) {
    const char *p = (const char *)data, *end = p + size;
    lks_arena a;
    lks_arena_init(&a, (size_t)256 << 20);
    int known = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p, *qe = le;
        while (q < qe && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        while (qe > q && (qe[-1] == ' ' || qe[-1] == '\t' || qe[-1] == '\r')) qe--;
        if (q < qe) {
            known += lks_dfuzz_action_line(q, (size_t)(qe - q), &a) > 0;
            lks_arena_reset(&a);
        }
        p = nl ? nl + 1 : end;
    }
    lks_arena_free(&a);
    return known;
}

/* ---- deletion vectors --------------------------------------------------------- */

/* Probes a decoded row set: its cardinality matches what the caller saw,
 * lookups answer 0 or 1 in any order. */
static inline void lks_dfuzz_rowset(const lks_delta_rowset *rs, const uint8_t *data, size_t size) {
    uint64_t probes[] = {0, 1, 2, 63, 64, 65535, 65536, 1u << 20, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                         ((uint64_t)1 << 40) + 7, (uint64_t)1 << 62, UINT64_MAX};
    uint64_t card = lks_delta_rowset_cardinality(rs);
    uint64_t hits = 0;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int c = lks_delta_rowset_contains(rs, probes[i]);
        if (c != 0 && c != 1) lks_dfuzz_bug("rowset_contains answered neither 0 nor 1", c, NULL);
        hits += (uint64_t)c;
    }
    /* rows made of input bytes, descending then ascending (the lookup hint) */
    for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
        uint64_t v = 0;
        memcpy(&v, data + i, 8);
        (void)lks_delta_rowset_contains(rs, v >> 1);
        (void)lks_delta_rowset_contains(rs, v & 0xFFFFFFFFu);
    }
    if (card == 0 && hits) lks_dfuzz_bug("an empty rowset contains rows", (int)hits, NULL);
    /* the rows, ascending and contained; serialized again they decode to
     * the same set (a run container may stand for 2^32 rows: capped) */
    if (card > 0 && card <= ((uint64_t)1 << 20)) {
        uint64_t *rows = malloc((size_t)card * sizeof *rows);
        if (!rows) lks_dfuzz_bug("out of memory", 0, NULL);
        if (lks_delta_rowset_rows(rs, rows) != LKS_OK) lks_dfuzz_bug("rowset_rows failed", 0, NULL);
        for (uint64_t i = 0; i < card; i++) {
            if (i > 0 && rows[i] <= rows[i - 1]) lks_dfuzz_bug("rowset rows not ascending", (int)i, NULL);
            if (i % 97 == 0 && !lks_delta_rowset_contains(rs, rows[i]))
                lks_dfuzz_bug("rowset does not contain its own row", (int)i, NULL);
        }
        if (rows[card - 1] >> 63 == 0) {
            lks_buf ser;
            lks_buf_init(&ser, 0);
            if (lks_delta_dv_serialize(rows, (size_t)card, &ser) != LKS_OK) lks_dfuzz_bug("dv_serialize failed", 0, NULL);
            lks_delta_rowset *back = NULL;
            lks_err err = {0};
            int rc = lks_delta_dv_parse(ser.ptr, ser.len, &back, &err);
            if (rc != LKS_OK) lks_dfuzz_bug("a serialized rowset does not parse", rc, &err);
            if (lks_delta_rowset_cardinality(back) != card) lks_dfuzz_bug("reserialized cardinality differs", 0, NULL);
            for (uint64_t i = 0; i < card; i += 1 + i / 8)
                if (!lks_delta_rowset_contains(back, rows[i])) lks_dfuzz_bug("reserialized rowset lost a row", 0, NULL);
            lks_delta_rowset_free(back);
            lks_buf_free(&ser);
        }
        free(rows);
    }
}

/* Decodes `raw` as inline Z85 text through lks_delta_dv_load: the answer
 * must agree with decoding and parsing by hand. */
static inline void lks_dfuzz_inline(const char *z85, size_t zlen, size_t size_adjust) {
    lks_err err = {0};
    lks_buf dec;
    lks_buf_init(&dec, (size_t)1 << 24);
    int rc = lks_delta_z85_decode(z85, zlen, &dec, &err);
    lks_dfuzz_check_rc("lks_delta_z85_decode", rc, &err);
    int64_t card = -1;
    size_t size = 0;
    if (rc == LKS_OK) {
        size = dec.len >= size_adjust ? dec.len - size_adjust : 0;
        if (size > INT32_MAX) size = INT32_MAX;
        lks_delta_rowset *rs = NULL;
        lks_err_clear(&err);
        rc = lks_delta_dv_parse(dec.ptr, size, &rs, &err);
        lks_dfuzz_check_rc("lks_delta_dv_parse (inline)", rc, &err);
        if (rc == LKS_OK) {
            card = (int64_t)lks_delta_rowset_cardinality(rs);
            lks_dfuzz_rowset(rs, dec.ptr, dec.len);
        }
        lks_delta_rowset_free(rs);
    }
    /* the same through the descriptor path (it needs NUL-free text) */
    char *s = malloc(zlen + 1);
    if (!s) lks_dfuzz_bug("out of memory", 0, NULL);
    memcpy(s, z85, zlen);
    s[zlen] = 0;
    if (strlen(s) == zlen) {
        lks_delta_dv dv = {.storage_type = 'i', .path_or_inline = s, .offset = -1,
                           .size_in_bytes = (int32_t)size, .cardinality = card < 0 ? 0 : card};
        lks_delta_rowset *rs = NULL;
        lks_err_clear(&err);
        int rc2 = lks_delta_dv_load(NULL, &dv, &rs, &err);
        lks_dfuzz_check_rc("lks_delta_dv_load (inline)", rc2, &err);
        if ((rc2 == LKS_OK) != (card >= 0)) {
            fprintf(stderr, "by hand: card %lld; load: %d %s\n", (long long)card, rc2, err.msg);
            lks_dfuzz_bug("inline load disagrees with decoding by hand", rc2, &err);
        }
        if (rc2 == LKS_OK && (int64_t)lks_delta_rowset_cardinality(rs) != card)
            lks_dfuzz_bug("inline load gave another cardinality", 0, NULL);
        lks_delta_rowset_free(rs);
        /* a wrong cardinality must be refused */
        if (card >= 0) {
            dv.cardinality = card + 1;
            lks_err_clear(&err);
            rc2 = lks_delta_dv_load(NULL, &dv, &rs, &err);
            if (rc2 != LKS_ECORRUPT || rs) lks_dfuzz_bug("a wrong cardinality was accepted", rc2, &err);
        }
    }
    free(s);
    lks_buf_free(&dec);
}

static inline uint32_t lks_dfuzz_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void lks_dfuzz_file(const uint8_t *file, size_t n, int64_t off, int32_t size) {
    lks_err err = {0};
    lks_delta_rowset *rs = NULL;
    int rc = lks_delta_dv_decode_file(file, n, off, size, &rs, &err);
    lks_dfuzz_check_rc("lks_delta_dv_decode_file", rc, &err);
    if ((rc == LKS_OK) != (rs != NULL)) lks_dfuzz_bug("decode_file: status and result disagree", rc, &err);
    if (rs) lks_dfuzz_rowset(rs, file, n);
    lks_delta_rowset_free(rs);
}

static inline void lks_dfuzz_dv(const uint8_t *data, size_t size) {
    lks_err err = {0};
    /* 1. the serialized bitmap itself */
    lks_delta_rowset *rs = NULL;
    int rc = lks_delta_dv_parse(data, size, &rs, &err);
    lks_dfuzz_check_rc("lks_delta_dv_parse", rc, &err);
    if ((rc == LKS_OK) != (rs != NULL)) lks_dfuzz_bug("dv_parse: status and result disagree", rc, &err);
    if (rs) lks_dfuzz_rowset(rs, data, size);
    lks_delta_rowset_free(rs);
    /* 2. inline: the input as Z85 text, and the input Z85-encoded */
    size_t adj = size ? data[0] & 3 : 0;
    lks_dfuzz_inline((const char *)data, size, adj);
    lks_buf z;
    lks_buf_init(&z, 0);
    if (lks_delta_z85_encode(&z, data, size) != LKS_OK) lks_dfuzz_bug("z85_encode failed", 0, NULL);
    if (z.len != (size + 3) / 4 * 5) lks_dfuzz_bug("z85_encode length", (int)z.len, NULL);
    lks_dfuzz_inline((const char *)z.ptr, z.len, (size_t)((4 - size % 4) % 4));
    /* Z85 round trip of whole groups */
    lks_buf back;
    lks_buf_init(&back, 0);
    lks_err_clear(&err);
    rc = lks_delta_z85_decode((const char *)z.ptr, z.len, &back, &err);
    if (rc != LKS_OK || back.len < size || memcmp(back.ptr, data, size) != 0)
        lks_dfuzz_bug("Z85 round trip", rc, &err);
    lks_buf_free(&back);
    lks_buf_free(&z);
    /* 3. a DV file: offset and sizeInBytes from the first 8 bytes */
    if (size >= 8) {
        uint32_t off = lks_dfuzz_be32(data);
        int32_t sz = (int32_t)lks_dfuzz_be32(data + 4);
        /* mostly in range, sometimes absent or far out */
        int64_t o = off == UINT32_MAX ? -1 : (int64_t)(off % (uint32_t)(size + 8));
        lks_dfuzz_file(data + 8, size - 8, o, sz);
        lks_dfuzz_file(data + 8, size - 8, (int64_t)off, sz);
    }
    /* 4. a well-formed file around the input: version, size, bytes, CRC */
    uint8_t *f = malloc(size + 9);
    if (!f) lks_dfuzz_bug("out of memory", 0, NULL);
    f[0] = 1;
    f[1] = (uint8_t)(size >> 24), f[2] = (uint8_t)(size >> 16), f[3] = (uint8_t)(size >> 8), f[4] = (uint8_t)size;
    if (size) memcpy(f + 5, data, size);
    uint32_t crc = lks_crc32(0, data, size);
    f[5 + size] = (uint8_t)(crc >> 24), f[6 + size] = (uint8_t)(crc >> 16), f[7 + size] = (uint8_t)(crc >> 8);
    f[8 + size] = (uint8_t)crc;
    lks_delta_rowset *r1 = NULL, *r2 = NULL;
    lks_err e2 = {0};
    lks_err_clear(&err);
    int a = lks_delta_dv_parse(data, size, &r1, &err);
    int b = lks_delta_dv_decode_file(f, size + 9, 1, (int32_t)size, &r2, &e2);
    lks_dfuzz_check_rc("lks_delta_dv_decode_file (wrapped)", b, &e2);
    if (a != b) lks_dfuzz_bug("a well-formed file decodes unlike its bitmap", b, &e2);
    if (r1 && r2 && lks_delta_rowset_cardinality(r1) != lks_delta_rowset_cardinality(r2))
        lks_dfuzz_bug("a well-formed file decodes to another cardinality", 0, NULL);
    lks_delta_rowset_free(r1);
    lks_delta_rowset_free(r2);
    /* a flipped bit in the stored CRC must be refused */
    f[8 + size] ^= 1;
    lks_err_clear(&e2);
    b = lks_delta_dv_decode_file(f, size + 9, 1, (int32_t)size, &r2, &e2);
    if (b != LKS_ECHECKSUM || r2) lks_dfuzz_bug("a bad CRC-32 was accepted", b, &e2);
    free(f);
}

#endif
