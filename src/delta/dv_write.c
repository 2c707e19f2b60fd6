/*
 * dv_write.c — deleting rows by deletion vector (PROTOCOL.md "Deletion
 * Vectors", appendix "Deletion Vector Format" and "Per-file Statistics").
 *
 * A delete turns the live logical file (path, old DV) into (path, new DV):
 * the commit carries a remove of the old pair and an add of the new one,
 * which replay keys by (path, DV unique id).  The new DV is the union of the
 * old one and the deleted row indexes.  Its serialized bitmap goes inline
 * into the log (storageType 'i', Z85) when it is at most DV_INLINE_MAX bytes
 * — a log line stays short and readers need no extra request — and
 * otherwise into its own file `deletion_vector_<uuid>.bin` in the table root
 * (storageType 'u': the Z85 text of the UUID's 16 bytes; offset 1, after the
 * format's version byte).  The physical file is unchanged, so the add keeps
 * its stats: numRecords stays the number of rows in the data file, as the
 * spec requires of a file with a DV, and the min/max/nullCount bounds
 * become "wide" (they may still count deleted rows): the add's stats get
 * "tightBounds":false.  A file whose rows are all deleted is just removed.
 */
#include "delta/delta_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Serialized bitmaps up to this size are stored inline (Z85: 80 characters). */
#define DV_INLINE_MAX 64

static int has_feature(const char **v, int n, const char *name) {
    for (int i = 0; v && i < n; i++)
        if (v[i] && strcmp(v[i], name) == 0)
            return 1;
    return 0;
}

static const char *config_get(const lks_delta_metadata *m, const char *key) {
    for (int i = 0; m && i < m->nconfiguration; i++)
        if (m->configuration[i].key && strcmp(m->configuration[i].key, key) == 0)
            return m->configuration[i].value;
    return NULL;
}

static int same_dv(const lks_delta_add *a, const lks_delta_add *b) {
    if (a->has_dv != b->has_dv)
        return 0;
    if (!a->has_dv)
        return 1;
    const char *p = a->dv.path_or_inline ? a->dv.path_or_inline : "";
    const char *q = b->dv.path_or_inline ? b->dv.path_or_inline : "";
    return a->dv.storage_type == b->dv.storage_type && strcmp(p, q) == 0 && a->dv.offset == b->dv.offset;
}

/* The snapshot's live add of `path` (files are sorted by path), or NULL. */
static const lks_delta_add *live_add(const lks_delta_snapshot *s, const char *path) {
    size_t lo = 0, hi = s->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->files[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nfiles && strcmp(s->files[lo].path, path) == 0 ? &s->files[lo] : NULL;
}

/* Where the value of top-level key `key` starts and ends in the JSON
 * object text s (already known to parse), or 0 when absent. */
static int find_member(const char *s, const char *key, size_t *vb, size_t *ve) {
    size_t i = 0, kl = strlen(key);
    int depth = 0;
    size_t key_start = 0, key_end = 0;
    int expect_key = 0, in_value = 0;
    while (s[i]) {
        char c = s[i];
        if (c == '"') {
            size_t st = i++;
            while (s[i] && s[i] != '"')
                i += s[i] == '\\' && s[i + 1] ? 2 : 1;
            if (!s[i])
                return 0;
            if (depth == 1 && expect_key) {
                key_start = st + 1;
                key_end = i;
                expect_key = 0;
            }
            i++;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == 0 && c == '{')
                expect_key = 1;
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0 && in_value) {
                *ve = i;
                return 1;
            }
        } else if (c == ':' && depth == 1) {
            if (key_end - key_start == kl && memcmp(s + key_start, key, kl) == 0) {
                in_value = 1;
                *vb = i + 1;
            }
        } else if (c == ',' && depth == 1) {
            if (in_value) {
                *ve = i;
                return 1;
            }
            expect_key = 1;
        }
        i++;
    }
    return 0;
}

/* The stats of a file that gets a DV: numRecords (required) out, and the
 * same JSON with "tightBounds":false into out (NUL-terminated). */
static int widen_stats(const char *path, const char *stats, int64_t *num_records, lks_buf *out, lks_err *err) {
    if (!stats)
        return lks_err_set(err, LKS_EINVAL,
                           "delete rows: '%s' has no stats; a file with a deletion vector needs numRecords", path);
    json_error_t je;
    /* integers as reals: a decimal(38) bound does not fit jansson's int */
    json_t *j = json_loads(stats, JSON_DECODE_INT_AS_REAL, &je);
    json_t *nr = json_object_get(j, "numRecords");
    double d = json_is_number(nr) ? json_number_value(nr) : -1;
    if (!json_is_object(j) || !(d >= 0 && d < 9007199254740992.0) || d != (double)(int64_t)d) {
        json_decref(j);
        return lks_err_set(err, LKS_EINVAL,
                           "delete rows: the stats of '%s' have no numRecords, which a deletion vector needs", path);
    }
    *num_records = (int64_t)d;
    size_t nmembers = json_object_size(j);
    json_decref(j);
    size_t vb = 0, ve = 0;
    int rc;
    if (find_member(stats, "tightBounds", &vb, &ve)) {
        rc = lks_buf_append(out, stats, vb);
        if (!rc)
            rc = lks_buf_printf(out, "false");
        if (!rc)
            rc = lks_buf_append(out, stats + ve, strlen(stats + ve));
    } else {
        const char *end = strrchr(stats, '}');
        rc = lks_buf_append(out, stats, (size_t)(end - stats));
        if (!rc)
            rc = lks_buf_printf(out, "%s\"tightBounds\":false}", nmembers ? "," : "");
    }
    if (!rc)
        rc = lks_buf_cstr(out);
    return rc ? lks_err_set(err, rc, "delete rows: out of memory") : LKS_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes `bitmap` as a one-DV file in the table root; fills the 'u'
 * descriptor (path string allocated in a). */
static int write_dv_file(lks_delta_table *t, const lks_buf *bitmap, lks_arena *a, lks_delta_dv *dv, lks_err *err) {
    uint8_t id[16];
    lks_random_bytes(id, sizeof id);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* a version 4 UUID */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    char uuid[37];
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            uuid[o++] = '-';
        uuid[o++] = hx[id[i] >> 4];
        uuid[o++] = hx[id[i] & 15];
    }
    uuid[o] = 0;
    lks_buf z, file;
    lks_buf_init(&z, 0);
    lks_buf_init(&file, 0);
    int rc = lks_delta_z85_encode(&z, id, sizeof id);
    if (!rc)
        rc = lks_buf_cstr(&z);
    uint32_t n = (uint32_t)bitmap->len, crc = lks_crc32(0, bitmap->ptr, bitmap->len);
    uint8_t head[5] = {1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    if (!rc)
        rc = lks_buf_append(&file, head, sizeof head);
    if (!rc)
        rc = lks_buf_append(&file, bitmap->ptr, bitmap->len);
    if (!rc)
        rc = lks_buf_append(&file, tail, sizeof tail);
    const char *name = rc ? NULL : lks_arena_printf(a, "deletion_vector_%s.bin", uuid);
    const char *key = name ? lks_delta_table_key(t, name, a) : NULL;
    const char *zs = key ? lks_arena_strndup(a, (const char *)z.ptr, z.len) : NULL;
    if (!rc && !zs)
        rc = LKS_ENOMEM;
    if (rc) {
        rc = lks_err_set(err, rc, "delete rows: out of memory");
    } else if ((rc = lks_store_put_if_absent(t->st, key, file.ptr, file.len, err)) != LKS_OK) {
        lks_err_prefix(err, "delete rows: writing deletion vector %s", key);
    } else {
        dv->storage_type = 'u';
        dv->path_or_inline = zs;
        dv->offset = 1;
    }
    lks_buf_free(&z);
    lks_buf_free(&file);
    return rc;
}

int lks_delta_txn_delete_rows(lks_delta_txn *x, const lks_delta_add *file, const uint64_t *rows, size_t n,
                              lks_err *err) {
    if (!x || !file || !file->path || (n && !rows))
        return lks_err_set(err, LKS_EINVAL, "delete rows: no transaction, file or rows");
    const char *path = file->path;
    const lks_delta_snapshot *read = lks_delta__txn_read(x);
    const lks_delta_protocol *p = lks_delta__txn_protocol(x);
    const lks_delta_metadata *m = lks_delta__txn_metadata(x);
    if (!read || !p || !m)
        return lks_err_set(err, LKS_EINVAL, "delete rows: the transaction reads no snapshot of an existing table");
    if (p->min_reader < 3 || p->min_writer < 7 ||
        !has_feature(p->reader_features, p->nreader_features, "deletionVectors") ||
        !has_feature(p->writer_features, p->nwriter_features, "deletionVectors"))
        return lks_err_set(err, LKS_EINVAL,
                           "delete rows: the table does not support deletion vectors (protocol %d/%d; it needs "
                           "reader 3 / writer 7 with the 'deletionVectors' reader and writer feature)",
                           p->min_reader, p->min_writer);
    const char *en = config_get(m, "delta.enableDeletionVectors");
    if (!en || strcasecmp(en, "true") != 0)
        return lks_err_set(err, LKS_EINVAL,
                           "delete rows: deletion vectors are not enabled on the table "
                           "(delta.enableDeletionVectors=true)");
    /* the logical file as the transaction sees it: a DV staged by an
     * earlier call, else the snapshot's live add */
    const lks_delta_add *pending = lks_delta__txn_pending_add(x, path);
    const lks_delta_add *live = live_add(read, path);
    const lks_delta_add *base = pending;
    if (!pending) {
        if (!live || !same_dv(live, file))
            return lks_err_set(err, LKS_EINVAL, "delete rows: '%s' is not a live file of version %" PRId64
                               "%s", path, read->version, live ? " (its deletion vector differs)" : "");
        if (lks_delta__txn_removes(x, path))
            return lks_err_set(err, LKS_EINVAL, "delete rows: '%s' is already removed by this transaction", path);
        base = live;
    }
    lks_delta_table *t = lks_delta__txn_table(x);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_buf stats, bitmap;
    lks_buf_init(&stats, 0);
    lks_buf_init(&bitmap, 0);
    lks_delta_rowset *old = NULL;
    uint64_t *all = NULL;
    int64_t nrec = 0;
    int rc = widen_stats(path, base->stats, &nrec, &stats, err);
    for (size_t i = 0; rc == LKS_OK && i < n; i++)
        if (rows[i] >= (uint64_t)nrec)
            rc = lks_err_set(err, LKS_EINVAL, "delete rows: row index %" PRIu64 " of '%s' is out of range (%" PRId64
                             " rows)", rows[i], path, nrec);
    if (rc == LKS_OK && base->has_dv && (rc = lks_delta_dv_load(t, &base->dv, &old, err)) != LKS_OK)
        lks_err_prefix(err, "delete rows: '%s'", path);
    uint64_t nold = lks_delta_rowset_cardinality(old);
    if (rc == LKS_OK && nold > (uint64_t)nrec)
        rc = lks_err_set(err, LKS_ECORRUPT, "delete rows: the deletion vector of '%s' holds %" PRIu64
                         " rows, more than its %" PRId64, path, nold, nrec);
    /* the union, sorted and without duplicates */
    size_t nall = 0;
    if (rc == LKS_OK && (all = malloc(((size_t)nold + n + 1) * sizeof *all)) == NULL)
        rc = lks_err_set(err, LKS_ENOMEM, "delete rows: out of memory");
    if (rc == LKS_OK && old && (rc = lks_delta_rowset_rows(old, all)) != LKS_OK)
        rc = lks_err_set(err, rc, "delete rows: out of memory");
    if (rc == LKS_OK) {
        if (n)
            memcpy(all + nold, rows, n * sizeof *rows);
        nall = (size_t)nold + n;
        qsort(all, nall, sizeof *all, cmp_u64);
        size_t k = 0;
        for (size_t i = 0; i < nall; i++)
            if (k == 0 || all[k - 1] != all[i])
                all[k++] = all[i];
        nall = k;
    }
    if (rc != LKS_OK || nall == nold)
        goto done; /* an error, or nothing new to delete */

    lks_delta_remove rm;
    memset(&rm, 0, sizeof rm);
    if (!pending) {
        rm.path = path;
        rm.deletion_timestamp = lks_now_us() / 1000;
        rm.data_change = 1;
        rm.extended_file_metadata = 1;
        rm.partition_values = base->partition_values;
        rm.npartition_values = base->npartition_values;
        rm.size = base->size;
        rm.dv = base->dv;
        rm.has_dv = base->has_dv;
    }
    lks_delta_add ad = *base; /* strings stay valid: snapshot / transaction arena */
    if (nall < (uint64_t)nrec) {
        if ((rc = lks_delta_dv_serialize(all, nall, &bitmap)) != LKS_OK) {
            rc = lks_err_set(err, rc, "delete rows: serializing the deletion vector of '%s'", path);
            goto done;
        }
        memset(&ad.dv, 0, sizeof ad.dv);
        if (bitmap.len <= DV_INLINE_MAX) {
            lks_buf z;
            lks_buf_init(&z, 0);
            rc = lks_delta_z85_encode(&z, bitmap.ptr, bitmap.len);
            const char *zs = rc ? NULL : lks_arena_strndup(&a, (const char *)z.ptr, z.len);
            lks_buf_free(&z);
            if (!zs) {
                rc = lks_err_set(err, LKS_ENOMEM, "delete rows: out of memory");
                goto done;
            }
            ad.dv.storage_type = 'i';
            ad.dv.path_or_inline = zs;
            ad.dv.offset = -1;
        } else if ((rc = write_dv_file(t, &bitmap, &a, &ad.dv, err)) != LKS_OK) {
            goto done;
        }
        ad.dv.size_in_bytes = (int32_t)bitmap.len;
        ad.dv.cardinality = (int64_t)nall;
        ad.has_dv = 1;
        ad.data_change = 1;
        ad.stats = (const char *)stats.ptr;
    }
    /* stage: the remove (once per file), then the new add replacing any
     * earlier one of this transaction */
    if (!pending && (rc = lks_delta_txn_remove(x, &rm)) != LKS_OK) {
        rc = lks_err_set(err, rc, "delete rows: staging the remove of '%s'", path);
        goto done;
    }
    if (pending)
        lks_delta__txn_drop_add(x, path); /* `base` dangles from here on; `ad` holds a copy */
    if (nall < (uint64_t)nrec && (rc = lks_delta_txn_add(x, &ad)) != LKS_OK) {
        rc = lks_err_set(err, rc, "delete rows: staging the add of '%s'", path);
        goto done;
    }
    if ((rc = lks_delta_txn_read_file(x, path)) != LKS_OK)
        rc = lks_err_set(err, rc, "delete rows: out of memory");
done:
    free(all);
    lks_delta_rowset_free(old);
    lks_buf_free(&stats);
    lks_buf_free(&bitmap);
    lks_arena_free(&a);
    return rc;
}
