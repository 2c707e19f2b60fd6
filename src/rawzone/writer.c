/*
 * writer.c — writes records in the raw zone layout (see list.c), as the
 * Confluent S3 sink does: per topic-partition one open object in memory,
 * published with lks_store_put when
 *   - it holds flush_size records (flush.size), checked after appending;
 *   - the next record's timestamp reaches the object's first record
 *     timestamp + rotate_interval_ms (rotate.interval.ms), checked before
 *     appending it;
 *   - the wall clock passed the next multiple of
 *     rotate_schedule_interval_ms (UTC-aligned) after the object was
 *     opened (rotate.schedule.interval.ms), checked before appending;
 *   - the next record's offset is not the object's next line offset (a gap
 *     in the offsets: compacted topics, or a tombstone skipped with
 *     tombstones off), since line i of an object must be offset start + i;
 *   - lks_rz_writer_flush is called.
 * Objects are named from their first offset (zero-padded to 10 digits), so
 * writing the same records again replaces the same objects.
 *
 * With store_keys, the keys object "<name>.keys.json[.gz]" is put before
 * its values object: a reader that sees the values object finds its keys.
 * A record without a key gets the key line "null".
 *
 * Store errors: an object whose put failed stays queued (sealed) and is
 * retried, in order, by the next append or flush of its partition; the
 * record of an append that reports a store error was accepted.  Argument
 * errors (LKS_EINVAL) leave the writer unchanged.  Running out of memory
 * while buffering loses unpublished records: the writer then refuses every
 * call, and the caller restarts from the durable positions (as a sink task
 * restarts from its committed offsets).
 */
#include "rawzone/rawzone.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct wobj {
    int64_t start;
    int64_t count;
    int64_t end_next; /* durable position once published (past skipped tombstones too) */
    int64_t first_ts;
    int64_t deadline_ms; /* schedule rotation, 0: none */
    lks_buf vals, keys;
} wobj;

typedef struct wpart {
    char *topic;
    int partition;
    int64_t last_offset; /* -1: none yet */
    int has_open;
    wobj open;
    wobj *sealed; /* published in order */
    size_t nsealed, capsealed;
    long durable_idx; /* index in w->durable, -1 until something is durable */
} wpart;

struct lks_rz_writer {
    lks_store *st;
    char *dir; /* "<topics_dir>/" or "" */
    lks_rz_writer_opts o;
    wpart **parts;
    size_t nparts, capparts;
    size_t *table; /* open addressing: index+1 into parts, 0 empty */
    size_t tcap;
    lks_rz_bookmark *durable;
    size_t ndurable, capdurable;
    z_stream zs;
    int zinit;
    lks_buf gz;
    lks_buf name;
    int broken; /* buffered records were lost (out of memory): every call fails */
};

static void wobj_free(wobj *ob) {
    lks_buf_free(&ob->vals);
    lks_buf_free(&ob->keys);
}

int lks_rz_writer_open(lks_store *st, const lks_rz_writer_opts *o, lks_rz_writer **out, lks_err *err) {
    if (!st || !out)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: missing argument");
    *out = NULL;
    lks_rz_writer_opts def = {0};
    if (!o)
        o = &def;
    if (o->flush_size < 0 || o->rotate_interval_ms < 0 || o->rotate_schedule_interval_ms < 0)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: negative flush_size or rotation interval");
    lks_rz_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
    w->st = st;
    w->o = *o;
    if (w->o.flush_size == 0)
        w->o.flush_size = 1000;
    const char *d = o->topics_dir ? o->topics_dir : "topics";
    size_t dl = strlen(d);
    while (dl > 0 && d[dl - 1] == '/')
        dl--;
    w->dir = malloc(dl + 2);
    if (!w->dir) {
        free(w);
        return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
    }
    memcpy(w->dir, d, dl);
    if (dl)
        w->dir[dl++] = '/';
    w->dir[dl] = 0;
    w->o.topics_dir = w->dir;
    lks_buf_init(&w->gz, 0);
    lks_buf_init(&w->name, 1 << 16);
    *out = w;
    return LKS_OK;
}

/* ---- partitions ----------------------------------------------------------------------- */

static size_t part_hash(const char *topic, size_t tl, int partition) {
    return (size_t)(lks_hash(topic, tl) ^ ((uint64_t)(uint32_t)partition * 0x9E3779B97F4A7C15ull));
}

static int table_grow(lks_rz_writer *w) {
    size_t ncap = w->tcap ? w->tcap * 2 : 64;
    size_t *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return LKS_ENOMEM;
    for (size_t i = 0; i < w->nparts; i++) {
        size_t h = part_hash(w->parts[i]->topic, strlen(w->parts[i]->topic), w->parts[i]->partition) & (ncap - 1);
        while (nt[h])
            h = (h + 1) & (ncap - 1);
        nt[h] = i + 1;
    }
    free(w->table);
    w->table = nt;
    w->tcap = ncap;
    return LKS_OK;
}

static int valid_topic(const char *t, size_t tl) {
    if (tl == 0 || (tl == 1 && t[0] == '.') || (tl == 2 && t[0] == '.' && t[1] == '.'))
        return 0;
    for (size_t i = 0; i < tl; i++)
        if (t[i] == '/' || (unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return 0;
    return 1;
}

static int find_part(lks_rz_writer *w, const char *topic, int partition, wpart **out, lks_err *err) {
    size_t tl = strlen(topic);
    if (w->tcap) {
        size_t h = part_hash(topic, tl, partition) & (w->tcap - 1);
        while (w->table[h]) {
            wpart *p = w->parts[w->table[h] - 1];
            if (p->partition == partition && !strcmp(p->topic, topic)) {
                *out = p;
                return LKS_OK;
            }
            h = (h + 1) & (w->tcap - 1);
        }
    }
    if (!valid_topic(topic, tl))
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: invalid topic name '%s'", topic);
    if ((w->nparts + 1) * 2 > w->tcap && table_grow(w))
        return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
    if (w->nparts == w->capparts) {
        size_t nc = w->capparts ? w->capparts * 2 : 16;
        wpart **np = realloc(w->parts, nc * sizeof *np);
        if (!np)
            return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
        w->parts = np;
        w->capparts = nc;
    }
    wpart *p = calloc(1, sizeof *p);
    char *t = p ? strdup(topic) : NULL;
    if (!t) {
        free(p);
        return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
    }
    p->topic = t;
    p->partition = partition;
    p->last_offset = -1;
    p->durable_idx = -1;
    w->parts[w->nparts++] = p;
    size_t h = part_hash(topic, tl, partition) & (w->tcap - 1);
    while (w->table[h])
        h = (h + 1) & (w->tcap - 1);
    w->table[h] = w->nparts;
    *out = p;
    return LKS_OK;
}

static int set_durable(lks_rz_writer *w, wpart *p, int64_t next) {
    if (p->durable_idx < 0) {
        if (w->ndurable == w->capdurable) {
            size_t nc = w->capdurable ? w->capdurable * 2 : 16;
            lks_rz_bookmark *nd = realloc(w->durable, nc * sizeof *nd);
            if (!nd)
                return LKS_ENOMEM;
            w->durable = nd;
            w->capdurable = nc;
        }
        p->durable_idx = (long)w->ndurable++;
        w->durable[p->durable_idx].topic = p->topic;
        w->durable[p->durable_idx].partition = p->partition;
    }
    w->durable[p->durable_idx].next_offset = next;
    return LKS_OK;
}

/* ---- publishing ------------------------------------------------------------------------ */

static int gzip_into(lks_rz_writer *w, const lks_buf *in, lks_err *err) {
    if (!w->zinit) {
        memset(&w->zs, 0, sizeof w->zs);
        if (deflateInit2(&w->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return lks_err_set(err, LKS_ENOMEM, "rawzone writer: cannot start deflate");
        w->zinit = 1;
    } else if (deflateReset(&w->zs) != Z_OK) {
        return lks_err_set(err, LKS_EINTERNAL, "rawzone writer: deflateReset failed");
    }
    lks_buf_reset(&w->gz);
    const uint8_t *src = in->ptr;
    size_t left = in->len;
    for (;;) {
        int rc = lks_buf_reserve(&w->gz, (size_t)1 << 16);
        if (rc)
            return lks_err_set(err, rc, "rawzone writer: cannot grow the gzip buffer");
        uInt chunk_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
        w->zs.next_in = (Bytef *)(uintptr_t)src;
        w->zs.avail_in = chunk_in;
        w->zs.next_out = w->gz.ptr + w->gz.len;
        size_t room = w->gz.cap - w->gz.len - 1;
        w->zs.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        int zr = deflate(&w->zs, chunk_in == left ? Z_FINISH : Z_NO_FLUSH);
        size_t used = chunk_in - w->zs.avail_in;
        src += used;
        left -= used;
        w->gz.len = (size_t)(w->zs.next_out - w->gz.ptr);
        if (zr == Z_STREAM_END)
            return LKS_OK;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return lks_err_set(err, LKS_EINTERNAL, "rawzone writer: deflate failed (%d)", zr);
    }
}

static int put_one(lks_rz_writer *w, const char *key, const lks_buf *data, lks_err *err) {
    if (!w->o.gzip)
        return lks_store_put(w->st, key, data->ptr ? (const void *)data->ptr : "", data->len, err);
    int rc = gzip_into(w, data, err);
    if (rc)
        return rc;
    return lks_store_put(w->st, key, w->gz.ptr, w->gz.len, err);
}

static int publish(lks_rz_writer *w, wpart *p, wobj *ob, lks_err *err) {
    const char *ext = w->o.gzip ? ".json.gz" : ".json";
    int rc;
    if (w->o.store_keys) {
        lks_buf_reset(&w->name);
        rc = lks_buf_printf(&w->name, "%s%s/partition=%d/%s+%d+%010lld.keys%s", w->dir, p->topic, p->partition,
                            p->topic, p->partition, (long long)ob->start, ext);
        if (!rc)
            rc = lks_buf_cstr(&w->name);
        if (rc)
            return lks_err_set(err, rc, "rawzone writer: object name too long");
        rc = put_one(w, (const char *)w->name.ptr, &ob->keys, err);
        if (rc)
            return rc;
    }
    lks_buf_reset(&w->name);
    rc = lks_buf_printf(&w->name, "%s%s/partition=%d/%s+%d+%010lld%s", w->dir, p->topic, p->partition, p->topic,
                        p->partition, (long long)ob->start, ext);
    if (!rc)
        rc = lks_buf_cstr(&w->name);
    if (rc)
        return lks_err_set(err, rc, "rawzone writer: object name too long");
    return put_one(w, (const char *)w->name.ptr, &ob->vals, err);
}

/* Moves the open object to the sealed queue. */
static int seal(wpart *p, lks_err *err) {
    if (!p->has_open)
        return LKS_OK;
    if (p->nsealed == p->capsealed) {
        size_t nc = p->capsealed ? p->capsealed * 2 : 2;
        wobj *ns = realloc(p->sealed, nc * sizeof *ns);
        if (!ns)
            return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
        p->sealed = ns;
        p->capsealed = nc;
    }
    p->sealed[p->nsealed++] = p->open;
    memset(&p->open, 0, sizeof p->open);
    p->has_open = 0;
    return LKS_OK;
}

/* Publishes the sealed objects in order; stops at the first failure. */
static int publish_sealed(lks_rz_writer *w, wpart *p, lks_err *err) {
    size_t done = 0;
    int rc = LKS_OK;
    while (done < p->nsealed) {
        wobj *ob = &p->sealed[done];
        rc = publish(w, p, ob, err);
        if (rc)
            break;
        int drc = set_durable(w, p, ob->end_next);
        wobj_free(ob);
        done++;
        if (drc) {
            rc = lks_err_set(err, drc, "rawzone writer: out of memory");
            break;
        }
    }
    if (done) {
        memmove(p->sealed, p->sealed + done, (p->nsealed - done) * sizeof *p->sealed);
        p->nsealed -= done;
    }
    return rc;
}

/* ---- appending ------------------------------------------------------------------------- */

static int has_newline(lks_slice s) {
    return s.len && (memchr(s.ptr, '\n', s.len) || memchr(s.ptr, '\r', s.len));
}

static int is_tombstone(lks_slice v) { return !v.ptr || v.len == 0 || (v.len == 4 && !memcmp(v.ptr, "null", 4)); }

int lks_rz_writer_append(lks_rz_writer *w, const char *topic, int partition, int64_t offset, lks_slice key,
                         lks_slice value, int64_t ts_ms, lks_err *err) {
    if (!w || !topic)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: missing argument");
    if (partition < 0 || offset < 0)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: %s:%d: negative partition or offset %lld", topic,
                           partition, (long long)offset);
    if (value.len > ((size_t)1 << 31) || key.len > ((size_t)1 << 31))
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: %s:%d offset %lld: record larger than 2 GiB", topic,
                           partition, (long long)offset);
    if (has_newline(value) || has_newline(key))
        return lks_err_set(err, LKS_EINVAL,
                           "rawzone writer: %s:%d offset %lld: key or value holds a line break", topic, partition,
                           (long long)offset);
    if (w->broken)
        return lks_err_set(err, w->broken, "rawzone writer: unusable after losing buffered records");
    wpart *p = NULL;
    int rc = find_part(w, topic, partition, &p, err);
    if (rc)
        return rc;
    if (offset <= p->last_offset)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: %s:%d: offset %lld after %lld (offsets must increase)",
                           topic, partition, (long long)offset, (long long)p->last_offset);
    int tomb = is_tombstone(value);
    /* an object stops short of the buffer cap (4 GiB) rather than failing */
    if (p->has_open && (p->open.vals.len > LKS_BUF_MAX_DEFAULT - value.len - 8 ||
                        p->open.keys.len > LKS_BUF_MAX_DEFAULT - key.len - 8) &&
        (rc = seal(p, err)))
        return rc;
    int64_t now_ms = 0;
    if (w->o.rotate_schedule_interval_ms)
        now_ms = lks_now_us() / 1000;

    /* rotations due before this record */
    if (p->has_open) {
        wobj *ob = &p->open;
        int due = offset != ob->start + ob->count;
        if (w->o.rotate_interval_ms && ob->first_ts <= INT64_MAX - w->o.rotate_interval_ms &&
            ob->first_ts + w->o.rotate_interval_ms <= ts_ms)
            due = 1;
        if (ob->deadline_ms && now_ms >= ob->deadline_ms)
            due = 1;
        if (due && (rc = seal(p, err)))
            return rc;
    }

    if (tomb && !w->o.tombstones) {
        /* skipped: a gap in the offsets of the objects */
        if (p->has_open && (rc = seal(p, err)))
            return rc;
        p->last_offset = offset;
        if (p->nsealed)
            p->sealed[p->nsealed - 1].end_next = offset + 1;
        else if (set_durable(w, p, offset + 1))
            return lks_err_set(err, LKS_ENOMEM, "rawzone writer: out of memory");
        return publish_sealed(w, p, err);
    }

    if (!p->has_open) {
        wobj *ob = &p->open;
        memset(ob, 0, sizeof *ob);
        ob->start = offset;
        ob->first_ts = ts_ms;
        lks_buf_init(&ob->vals, 0);
        lks_buf_init(&ob->keys, 0);
        if (w->o.rotate_schedule_interval_ms) {
            int64_t iv = w->o.rotate_schedule_interval_ms;
            ob->deadline_ms = (now_ms / iv + 1) * iv;
        }
        p->has_open = 1;
    }
    wobj *ob = &p->open;
    if (tomb)
        rc = lks_buf_append(&ob->vals, "null\n", 5);
    else {
        rc = lks_buf_append(&ob->vals, value.ptr, value.len);
        if (!rc)
            rc = lks_buf_append_byte(&ob->vals, '\n');
    }
    if (!rc && w->o.store_keys) {
        if (key.len)
            rc = lks_buf_append(&ob->keys, key.ptr, key.len);
        else
            rc = lks_buf_append(&ob->keys, "null", 4);
        if (!rc)
            rc = lks_buf_append_byte(&ob->keys, '\n');
    }
    if (rc) {
        /* a failed append freed the buffer: the open object is lost */
        wobj_free(ob);
        p->has_open = 0;
        w->broken = rc;
        return lks_err_set(err, rc, "rawzone writer: %s:%d: cannot buffer offset %lld (unpublished records lost)",
                           topic, partition, (long long)offset);
    }
    ob->count++;
    ob->end_next = offset + 1;
    p->last_offset = offset;
    if (ob->count >= w->o.flush_size && (rc = seal(p, err)))
        return rc;
    return publish_sealed(w, p, err);
}

int lks_rz_writer_flush(lks_rz_writer *w, lks_err *err) {
    if (!w)
        return lks_err_set(err, LKS_EINVAL, "rawzone writer: missing argument");
    if (w->broken)
        return lks_err_set(err, w->broken, "rawzone writer: unusable after losing buffered records");
    int first = LKS_OK;
    for (size_t i = 0; i < w->nparts; i++) {
        wpart *p = w->parts[i];
        int rc = seal(p, err);
        if (!rc)
            rc = publish_sealed(w, p, err);
        if (rc && !first)
            first = rc;
        if (first)
            break;
    }
    return first;
}

int lks_rz_writer_durable(const lks_rz_writer *w, const lks_rz_bookmark **out, size_t *n) {
    if (!w || !out || !n)
        return LKS_EINVAL;
    *out = w->durable;
    *n = w->ndurable;
    return LKS_OK;
}

void lks_rz_writer_free(lks_rz_writer *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->nparts; i++) {
        wpart *p = w->parts[i];
        if (p->has_open)
            wobj_free(&p->open);
        for (size_t k = 0; k < p->nsealed; k++)
            wobj_free(&p->sealed[k]);
        free(p->sealed);
        free(p->topic);
        free(p);
    }
    free(w->parts);
    free(w->table);
    free(w->durable);
    if (w->zinit)
        deflateEnd(&w->zs);
    lks_buf_free(&w->gz);
    lks_buf_free(&w->name);
    free(w->dir);
    free(w);
}
