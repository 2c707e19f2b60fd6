/* test_rawzone.c — the raw zone (Confluent S3 sink layout): names, listing,
 * writer rotations (count, record time, wall clock, offset gaps), gzip,
 * keys, tombstones, bookmarks at every offset, rewritten and overlapping
 * objects, hostile objects (truncated gzip, keys out of step, long and
 * empty lines), and a property test of random streams read back in random
 * runs from random bookmarks. */
#include "harness.h"
#include "rawzone/rawzone.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static char root[256];

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A fresh local store in a temporary directory (closed and removed by
 * done_store).  On tmpfs (/dev/shm) when there is one: the store fsyncs
 * every put, and the property test puts thousands of small objects. */
static lks_store *new_store(void) {
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : "/tmp";
    snprintf(root, sizeof root, "%s/lks_test_rawzone_XXXXXX", base);
    if (!mkdtemp(root))
        return NULL;
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_local_open(root, &st, &err) != LKS_OK)
        return NULL;
    return st;
}

static void done_store(lks_store *st) {
    lks_store_close(st);
    rm_rf(root);
}

static int put_str(lks_store *st, const char *key, const char *s) {
    lks_err err;
    return lks_store_put(st, key, s, strlen(s), &err);
}

static int put_gz(lks_store *st, const char *key, const void *p, size_t n) {
    uLongf cap = compressBound((uLong)n) + 64;
    uint8_t *out = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    size_t len = cap - zs.avail_out;
    deflateEnd(&zs);
    lks_err err;
    int rc = lks_store_put(st, key, out, len, &err);
    free(out);
    return rc;
}

static lks_slice S(const char *s) {
    lks_slice v = {(const uint8_t *)s, s ? strlen(s) : 0};
    return v;
}

static int exists(const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* One record read back, owned. */
typedef struct rrec {
    char topic[64];
    int partition;
    int64_t offset;
    char *value;
    char *key; /* NULL without keys */
    int tombstone;
} rrec;

typedef struct rrecs {
    rrec *v;
    size_t n, cap;
} rrecs;

static void recs_push(rrecs *rs, const char *topic, int partition, int64_t offset, const void *val, size_t vlen,
                      const void *key, size_t klen, int has_key, int tomb) {
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rrec *r = &rs->v[rs->n++];
    snprintf(r->topic, sizeof r->topic, "%s", topic);
    r->partition = partition;
    r->offset = offset;
    r->value = malloc(vlen + 1);
    memcpy(r->value, val, vlen);
    r->value[vlen] = 0;
    r->key = NULL;
    if (has_key) {
        r->key = malloc(klen + 1);
        memcpy(r->key, key, klen);
        r->key[klen] = 0;
    }
    r->tombstone = tomb;
}

static void recs_free(rrecs *rs) {
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].value);
        free(rs->v[i].key);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

/* Reads with the given options, appending records to rs.  Returns the
 * final status (0 at a clean end); err receives the detail. */
static int read_into(lks_store *st, const lks_rz_reader_opts *o, rrecs *rs, lks_err *err) {
    lks_rz_reader *r = NULL;
    int rc = lks_rz_reader_open(st, o, &r, err);
    if (rc)
        return rc;
    lks_rz_record rec;
    while ((rc = lks_rz_reader_next(r, &rec, err)) == 1)
        recs_push(rs, rec.topic, rec.partition, rec.offset, rec.value.ptr, rec.value.len, rec.key.ptr, rec.key.len,
                  rec.key.ptr != NULL, rec.tombstone);
    lks_rz_reader_free(r);
    return rc;
}

/* ---- names and listing --------------------------------------------------------------------- */

static void t_parse_name(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_rz_object o;
    CHECK_OK(lks_rz_parse_name("orders+0+0000000000.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_STR(o.topic, "orders");
    CHECK_EQ_INT(o.partition, 0);
    CHECK_EQ_INT(o.start_offset, 0);
    CHECK_EQ_INT(o.gzip, 0);
    CHECK_OK(lks_rz_parse_name("salesdb-cdc.salesdb.CUSTOMER_x+12+0000001234.json.gz", &a, &o), (lks_err *)NULL);
    CHECK_EQ_STR(o.topic, "salesdb-cdc.salesdb.CUSTOMER_x");
    CHECK_EQ_INT(o.partition, 12);
    CHECK_EQ_INT(o.start_offset, 1234);
    CHECK_EQ_INT(o.gzip, 1);
    /* '+' inside a topic: the last two '+' separate partition and offset */
    CHECK_OK(lks_rz_parse_name("a+b++c+3+0000000007.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_STR(o.topic, "a+b++c");
    CHECK_EQ_INT(o.partition, 3);
    CHECK_EQ_INT(o.start_offset, 7);
    /* offsets wider than 10 digits, up to 2^63-1 */
    CHECK_OK(lks_rz_parse_name("t+1+12345678901.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_INT(o.start_offset, 12345678901LL);
    CHECK_OK(lks_rz_parse_name("t+1+9223372036854775807.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_INT(o.start_offset, INT64_MAX);
    /* a narrower pad width (filename.offset.zero.pad.width) */
    CHECK_OK(lks_rz_parse_name("t+0+5.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_INT(o.start_offset, 5);
    /* a full key: the last segment is parsed, the key kept */
    CHECK_OK(lks_rz_parse_name("topics/t/partition=2/t+2+0000000009.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_STR(o.key, "topics/t/partition=2/t+2+0000000009.json");
    CHECK_EQ_INT(o.partition, 2);
    CHECK_EQ_INT(o.start_offset, 9);
    CHECK_OK(lks_rz_parse_name("t+2147483647+0000000000.json", &a, &o), (lks_err *)NULL);
    CHECK_EQ_INT(o.partition, 2147483647);

    static const char *bad[] = {
        "t+0+0000000000.avro",       "t+0+0000000000.keys.json", "t+0+0000000000.keys.json.gz",
        "t+0000000000.json",         "+0+0000000000.json",       "t+-1+0000000000.json",
        "t+01+0000000000.json",      "t++0000000000.json",       "t+0+.json",
        "t+0+00000x0000.json",       "t+0+-000000001.json",      "t+0+9223372036854775808.json",
        "t+0+99999999999999999999.json", "t+2147483648+0000000000.json", "t+0+0000000000.JSON",
        "t+0+0000000000.json.gz.tmp", "t+0+0000000000.gz",       "t+0+0000000000",
        "t+ 1+0000000000.json",      "t+0+ 000000000.json",      ".json",
        "",                          "t+0+0000000000.headers.json", "t+0+0000000000.json.json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = lks_rz_parse_name(bad[i], &a, &o);
        if (rc != LKS_EINVAL)
            FAILF("'%s' parsed (rc %d)", bad[i], rc);
    }
    lks_arena_free(&a);
}

static void t_list(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    const char *keys[] = {
        "topics/b/partition=10/b+10+0000000000.json",
        "topics/b/partition=2/b+2+0000000100.json",
        "topics/b/partition=2/b+2+12345678901.json",
        "topics/b/partition=2/b+2+0000000020.json.gz",
        "topics/b/partition=2/b+2+0000000020.keys.json.gz",
        "topics/a.x/partition=0/a.x+0+0000000003.json",
        "topics/a.x/partition=0/a.x+0+0000000003.keys.json",
        /* not the layout: counted as skipped */
        "topics/a.x/partition=0/a.x+0+0000000009.keys.json", /* keys without values */
        "topics/a.x/partition=0/a.x+0+0000000003.keys.json.gz", /* keys in another compression */
        "topics/a.x/partition=0/a.x+0+0000000005.json",
        "topics/a.x/partition=0/a.x+0+0000000005.keys.json.gz", /* keys in another compression only */
        "topics/a.x/partition=1/a.x+0+0000000000.json",      /* wrong partition folder */
        "topics/a.x/partition=01/a.x+1+0000000000.json",     /* non-canonical folder */
        "topics/c/partition=0/a.x+0+0000000000.json",        /* wrong topic folder */
        "topics/a.x/year=2024/a.x+0+0000000000.json",        /* time-based partitioner */
        "topics/a.x/partition=0/x/a.x+0+0000000000.json",    /* too deep */
        "topics/a.x/partition=0/a.x+0+0000000000.avro",
        "topics/a.x/partition=0/a.x+0+0000000000.headers.json",
        "topics/README",
        "other/a+0+0000000000.json", /* outside topics.dir */
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        REQUIRE(put_str(st, keys[i], "{}\n") == 0);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_rz_object *objs;
    size_t n, skipped;
    CHECK_OK(lks_rz_list(st, NULL, NULL, &a, &objs, &n, &skipped, &err), &err);
    REQUIRE(n == 6);
    CHECK_EQ_INT(skipped, 11);
    CHECK_EQ_STR(objs[0].topic, "a.x");
    CHECK_EQ_INT(objs[0].start_offset, 3);
    CHECK_EQ_INT(objs[0].has_keys, 1);
    CHECK_EQ_INT(objs[0].size, 3);
    CHECK_EQ_INT(objs[1].start_offset, 5);
    CHECK_EQ_INT(objs[1].has_keys, 0);
    /* numeric order: partition 2 before 10, offset 20 < 100 < 12345678901 */
    CHECK_EQ_STR(objs[2].key, "topics/b/partition=2/b+2+0000000020.json.gz");
    CHECK_EQ_INT(objs[2].gzip, 1);
    CHECK_EQ_INT(objs[2].has_keys, 1);
    CHECK_EQ_INT(objs[3].start_offset, 100);
    CHECK_EQ_INT(objs[3].has_keys, 0);
    CHECK_EQ_INT(objs[4].start_offset, 12345678901LL);
    CHECK_EQ_INT(objs[5].partition, 10);
    CHECK_EQ_STR(objs[5].topic, "b");
    /* one topic */
    CHECK_OK(lks_rz_list(st, "topics/", "b", &a, &objs, &n, &skipped, &err), &err);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(skipped, 0);
    /* another topics.dir, and the store root */
    REQUIRE(put_str(st, "raw/zone/t+t/partition=0/t+t+0+0000000000.json", "1\n") == 0);
    CHECK_OK(lks_rz_list(st, "raw/zone", NULL, &a, &objs, &n, &skipped, &err), &err);
    REQUIRE(n == 1);
    CHECK_EQ_STR(objs[0].topic, "t+t");
    CHECK_OK(lks_rz_list(st, "", NULL, &a, &objs, &n, &skipped, &err), &err);
    CHECK_EQ_INT(n, 0); /* "topics/..." is one level too deep for the root */
    CHECK_OK(lks_rz_list(st, "topics", "nothing", &a, &objs, &n, &skipped, &err), &err);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(lks_rz_list(st, "topics", "a/b", &a, &objs, &n, &skipped, &err), LKS_EINVAL);
    lks_arena_free(&a);
    done_store(st);
}

/* ---- writer and reader ----------------------------------------------------------------------- */

static void t_roundtrip(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    lks_rz_writer *w;
    lks_rz_writer_opts wo = {.flush_size = 3, .tombstones = 1};
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    REQUIRE(w);
    const char *topics[] = {"db.inv.customers", "db.inv.orders"};
    rrecs want = {0};
    /* interleaved: topics x partitions, offsets from 5 */
    for (int i = 0; i < 10; i++)
        for (int t = 0; t < 2; t++)
            for (int p = 0; p < 3; p++) {
                char v[64];
                snprintf(v, sizeof v, "{\"t\":%d,\"p\":%d,\"i\":%d}", t, p, i);
                CHECK_OK(lks_rz_writer_append(w, topics[t], p, 5 + i, S(NULL), S(v), 1000 + i, &err), &err);
            }
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < 10; i++) {
                char v[64];
                snprintf(v, sizeof v, "{\"t\":%d,\"p\":%d,\"i\":%d}", t, p, i);
                recs_push(&want, topics[t], p, 5 + i, v, strlen(v), NULL, 0, 0, 0);
            }
    const lks_rz_bookmark *dur;
    size_t nd;
    CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
    CHECK_EQ_INT(nd, 6);
    for (size_t i = 0; i < nd; i++)
        CHECK_EQ_INT(dur[i].next_offset, 15);
    lks_rz_writer_free(w);
    CHECK(exists("topics/db.inv.orders/partition=2/db.inv.orders+2+0000000005.json"));
    CHECK(exists("topics/db.inv.orders/partition=2/db.inv.orders+2+0000000014.json"));

    rrecs got = {0};
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    REQUIRE(got.n == want.n);
    for (size_t i = 0; i < got.n; i++) {
        CHECK_EQ_STR(got.v[i].topic, want.v[i].topic);
        CHECK_EQ_INT(got.v[i].partition, want.v[i].partition);
        CHECK_EQ_INT(got.v[i].offset, want.v[i].offset);
        CHECK_EQ_STR(got.v[i].value, want.v[i].value);
        CHECK(got.v[i].key == NULL);
        CHECK_EQ_INT(got.v[i].tombstone, 0);
    }
    recs_free(&got);
    /* one topic only, and the positions it reports */
    lks_rz_reader_opts ro = {.topic = "db.inv.orders"};
    lks_rz_reader *r;
    CHECK_OK(lks_rz_reader_open(st, &ro, &r, &err), &err);
    lks_rz_record rec;
    int n = 0, rc;
    while ((rc = lks_rz_reader_next(r, &rec, &err)) == 1) {
        CHECK_EQ_STR(rec.topic, "db.inv.orders");
        n++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 30);
    const lks_rz_bookmark *pos;
    size_t np;
    CHECK_OK(lks_rz_reader_positions(r, &pos, &np), (lks_err *)NULL);
    CHECK_EQ_INT(np, 3);
    for (size_t i = 0; i < np; i++) {
        CHECK_EQ_INT(pos[i].partition, (int)i);
        CHECK_EQ_INT(pos[i].next_offset, 15);
    }
    lks_rz_reader_free(r);
    recs_free(&want);
    done_store(st);
}

static void t_flush_size(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    lks_rz_writer *w;
    lks_rz_writer_opts wo = {.flush_size = 4, .tombstones = 1};
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    const lks_rz_bookmark *dur;
    size_t nd;
    for (int i = 0; i < 10; i++) {
        CHECK_OK(lks_rz_writer_append(w, "t", 0, i, S(NULL), S("{}"), 0, &err), &err);
        CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
        if (i < 3)
            CHECK_EQ_INT(nd, 0);
        else {
            REQUIRE(nd == 1);
            CHECK_EQ_INT(dur[0].next_offset, (i + 1) / 4 * 4);
        }
    }
    CHECK(exists("topics/t/partition=0/t+0+0000000000.json"));
    CHECK(exists("topics/t/partition=0/t+0+0000000004.json"));
    CHECK(!exists("topics/t/partition=0/t+0+0000000008.json"));
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    CHECK(exists("topics/t/partition=0/t+0+0000000008.json"));
    CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
    CHECK_EQ_INT(dur[0].next_offset, 10);
    /* a gap (compacted topic) starts a new object: line i is offset start+i */
    CHECK_OK(lks_rz_writer_append(w, "t", 0, 20, S(NULL), S("{}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "t", 0, 21, S(NULL), S("{}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "t", 0, 30, S(NULL), S("{}"), 0, &err), &err);
    CHECK(exists("topics/t/partition=0/t+0+0000000020.json"));
    /* offsets must increase; values must be one line */
    CHECK_EQ_INT(lks_rz_writer_append(w, "t", 0, 30, S(NULL), S("{}"), 0, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_rz_writer_append(w, "t", 0, 31, S(NULL), S("{\n}"), 0, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_rz_writer_append(w, "t", 0, 31, S(NULL), S("{}\r"), 0, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_rz_writer_append(w, "a/b", 0, 31, S(NULL), S("{}"), 0, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_rz_writer_append(w, "t", -1, 31, S(NULL), S("{}"), 0, &err), LKS_EINVAL);
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    lks_rz_writer_free(w);
    rrecs got = {0};
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    REQUIRE(got.n == 13);
    CHECK_EQ_INT(got.v[9].offset, 9);
    CHECK_EQ_INT(got.v[10].offset, 20);
    CHECK_EQ_INT(got.v[11].offset, 21);
    CHECK_EQ_INT(got.v[12].offset, 30);
    recs_free(&got);
    done_store(st);
}

static void t_time_rotation(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    lks_rz_writer *w;
    lks_rz_writer_opts wo = {.flush_size = 100, .rotate_interval_ms = 100, .tombstones = 1};
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    /* first 1000: rotate before the first record at >= 1100 */
    int64_t ts[] = {1000, 1050, 1099, 1100, 1150, 1199, 1300, 900 /* older: no rotation */, 1399, 1400};
    for (int i = 0; i < 10; i++)
        CHECK_OK(lks_rz_writer_append(w, "t", 0, i, S(NULL), S("1"), ts[i], &err), &err);
    CHECK(exists("topics/t/partition=0/t+0+0000000000.json"));
    CHECK(exists("topics/t/partition=0/t+0+0000000003.json"));
    CHECK(exists("topics/t/partition=0/t+0+0000000006.json"));
    CHECK(!exists("topics/t/partition=0/t+0+0000000009.json"));
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    CHECK(exists("topics/t/partition=0/t+0+0000000009.json"));
    lks_rz_writer_free(w);

    /* rotate.schedule.interval.ms: by the wall clock */
    lks_rz_writer_opts wo2 = {.flush_size = 100, .rotate_schedule_interval_ms = 1, .tombstones = 1};
    CHECK_OK(lks_rz_writer_open(st, &wo2, &w, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "s", 0, 0, S(NULL), S("1"), 0, &err), &err);
    struct timespec ts5 = {0, 5 * 1000 * 1000};
    nanosleep(&ts5, NULL);
    CHECK_OK(lks_rz_writer_append(w, "s", 0, 1, S(NULL), S("1"), 0, &err), &err);
    CHECK(exists("topics/s/partition=0/s+0+0000000000.json"));
    CHECK(!exists("topics/s/partition=0/s+0+0000000001.json"));
    lks_rz_writer_free(w); /* drops offset 1 */
    CHECK(!exists("topics/s/partition=0/s+0+0000000001.json"));
    rrecs got = {0};
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    CHECK_EQ_INT(got.n, 11);
    recs_free(&got);
    done_store(st);
}

static void t_gzip_keys(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    lks_rz_writer *w;
    lks_rz_writer_opts wo = {.flush_size = 2, .gzip = 1, .store_keys = 1, .tombstones = 1};
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "k", 0, 0, S("{\"id\":1}"), S("{\"id\":1,\"v\":\"a\"}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "k", 0, 1, S("{\"id\":2}"), S(NULL), 0, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "k", 0, 2, S(NULL), S("{\"nokey\":true}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    lks_rz_writer_free(w);
    CHECK(exists("topics/k/partition=0/k+0+0000000000.json.gz"));
    CHECK(exists("topics/k/partition=0/k+0+0000000000.keys.json.gz"));
    CHECK(exists("topics/k/partition=0/k+0+0000000002.keys.json.gz"));
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_store_get(st, "topics/k/partition=0/k+0+0000000000.json.gz", &b, &err), &err);
    CHECK(b.len > 2 && b.ptr[0] == 0x1f && b.ptr[1] == 0x8b);
    lks_buf_free(&b);
    rrecs got = {0};
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    REQUIRE(got.n == 3);
    CHECK_EQ_STR(got.v[0].key, "{\"id\":1}");
    CHECK_EQ_STR(got.v[0].value, "{\"id\":1,\"v\":\"a\"}");
    CHECK_EQ_INT(got.v[0].tombstone, 0);
    CHECK_EQ_STR(got.v[1].key, "{\"id\":2}");
    CHECK_EQ_STR(got.v[1].value, "null");
    CHECK_EQ_INT(got.v[1].tombstone, 1);
    CHECK_EQ_STR(got.v[2].key, "null");
    recs_free(&got);

    /* concatenated gzip members, a line split across members, \r\n */
    const char *m1 = "{\"a\":1}\r\n{\"a\":", *m2 = "2}\r\n{\"a\":3}";
    uLongf c1 = compressBound(64) + 32, c2 = c1;
    uint8_t g[512];
    z_stream zs;
    size_t len = 0;
    for (int k = 0; k < 2; k++) {
        const char *m = k ? m2 : m1;
        memset(&zs, 0, sizeof zs);
        deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = (Bytef *)(uintptr_t)m;
        zs.avail_in = (uInt)strlen(m);
        zs.next_out = g + len;
        zs.avail_out = (uInt)(k ? c2 : c1);
        deflate(&zs, Z_FINISH);
        len += (size_t)(zs.next_out - (g + len));
        deflateEnd(&zs);
    }
    lks_store *st2 = st;
    CHECK_OK(lks_store_put(st2, "topics/m/partition=0/m+0+0000000000.json.gz", g, len, &err), &err);
    lks_rz_reader_opts ro = {.topic = "m"};
    CHECK_OK(read_into(st, &ro, &got, &err), &err);
    REQUIRE(got.n == 3);
    CHECK_EQ_STR(got.v[0].value, "{\"a\":1}");
    CHECK_EQ_STR(got.v[1].value, "{\"a\":2}");
    CHECK_EQ_STR(got.v[2].value, "{\"a\":3}");
    CHECK_EQ_INT(got.v[2].offset, 2);
    recs_free(&got);
    done_store(st);
}

static void t_tombstones(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    for (int on = 0; on <= 1; on++) {
        char topic[16];
        snprintf(topic, sizeof topic, "t%d", on);
        lks_rz_writer *w;
        lks_rz_writer_opts wo = {.flush_size = 100, .tombstones = on};
        CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
        const char *vals[] = {"{\"op\":\"c\"}", "{\"op\":\"d\"}", NULL, "{\"op\":\"c\"}", "null", NULL};
        for (int i = 0; i < 6; i++)
            CHECK_OK(lks_rz_writer_append(w, topic, 0, i, S(NULL), S(vals[i]), 0, &err), &err);
        CHECK_OK(lks_rz_writer_flush(w, &err), &err);
        const lks_rz_bookmark *dur;
        size_t nd;
        CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
        REQUIRE(nd == 1);
        CHECK_EQ_INT(dur[0].next_offset, 6); /* past the trailing skipped tombstone too */
        lks_rz_writer_free(w);
        rrecs got = {0};
        lks_rz_reader_opts ro = {.topic = topic};
        CHECK_OK(read_into(st, &ro, &got, &err), &err);
        if (on) {
            REQUIRE(got.n == 6);
            for (int i = 0; i < 6; i++) {
                CHECK_EQ_INT(got.v[i].offset, i);
                CHECK_EQ_INT(got.v[i].tombstone, vals[i] == NULL || !strcmp(vals[i], "null"));
            }
        } else {
            /* skipped tombstones leave gaps; offsets stay exact */
            REQUIRE(got.n == 3);
            CHECK_EQ_INT(got.v[0].offset, 0);
            CHECK_EQ_INT(got.v[1].offset, 1);
            CHECK_EQ_INT(got.v[2].offset, 3);
            CHECK(exists("topics/t0/partition=0/t0+0+0000000003.json"));
        }
        recs_free(&got);
    }
    /* a skipped tombstone on a fresh partition is durable at once */
    lks_rz_writer *w;
    lks_rz_writer_opts wo = {.tombstones = 0};
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    CHECK_OK(lks_rz_writer_append(w, "z", 4, 41, S("{}"), S(NULL), 0, &err), &err);
    const lks_rz_bookmark *dur;
    size_t nd;
    CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
    REQUIRE(nd == 1);
    CHECK_EQ_STR(dur[0].topic, "z");
    CHECK_EQ_INT(dur[0].partition, 4);
    CHECK_EQ_INT(dur[0].next_offset, 42);
    /* a skipped tombstone after buffered records ends their object, and the
     * durable position moves past the tombstone */
    CHECK_OK(lks_rz_writer_append(w, "z", 4, 50, S("{}"), S("{}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
    CHECK_EQ_INT(dur[0].next_offset, 42);
    CHECK_OK(lks_rz_writer_append(w, "z", 4, 51, S("{}"), S("null"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_durable(w, &dur, &nd), (lks_err *)NULL);
    CHECK_EQ_INT(dur[0].next_offset, 52);
    CHECK(exists("topics/z/partition=4/z+4+0000000050.json"));
    lks_rz_writer_free(w);
    done_store(st);
}

/* Reads topic t partition 0 from bookmark b; checks exactly offsets >= b
 * of the written stream come back. */
static void check_suffix(lks_store *st, const int64_t *offs, size_t n, int64_t b) {
    lks_rz_bookmark bm = {.topic = "t", .partition = 0, .next_offset = b};
    lks_rz_reader_opts ro = {.start = &bm, .nstart = 1};
    rrecs got = {0};
    lks_err err;
    int rc = read_into(st, &ro, &got, &err);
    if (rc)
        FAILF("bookmark %lld: %s", (long long)b, err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (offs[i] < b)
            continue;
        if (k >= got.n || got.v[k].offset != offs[i]) {
            FAILF("bookmark %lld: record %zu should be offset %lld", (long long)b, k, (long long)offs[i]);
            break;
        }
        char v[32];
        snprintf(v, sizeof v, "{\"o\":%lld}", (long long)offs[i]);
        CHECK_EQ_STR(got.v[k].value, v);
        k++;
    }
    CHECK_EQ_INT(got.n, k);
    recs_free(&got);
}

static void t_bookmarks_every_offset(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    for (int gz = 0; gz <= 1; gz++) {
        lks_rz_writer *w;
        lks_rz_writer_opts wo = {.flush_size = 4, .gzip = gz, .tombstones = 1};
        CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
        /* 0..9, a gap, 13..17, 30 */
        int64_t offs[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 30};
        size_t n = sizeof offs / sizeof *offs;
        for (size_t i = 0; i < n; i++) {
            char v[32];
            snprintf(v, sizeof v, "{\"o\":%lld}", (long long)offs[i]);
            CHECK_OK(lks_rz_writer_append(w, "t", 0, offs[i], S(NULL), S(v), 0, &err), &err);
        }
        CHECK_OK(lks_rz_writer_flush(w, &err), &err);
        lks_rz_writer_free(w);
        for (int64_t b = 0; b <= 33; b++)
            check_suffix(st, offs, n, b);
        /* positions with nothing left to read stay at the bookmark */
        lks_rz_bookmark bm[2] = {{.topic = "t", .partition = 0, .next_offset = 31},
                                 {.topic = "other", .partition = 7, .next_offset = 5}};
        lks_rz_reader_opts ro = {.start = bm, .nstart = 2};
        lks_rz_reader *r;
        CHECK_OK(lks_rz_reader_open(st, &ro, &r, &err), &err);
        lks_rz_record rec;
        CHECK_EQ_INT(lks_rz_reader_next(r, &rec, &err), 0);
        const lks_rz_bookmark *pos;
        size_t np;
        lks_rz_reader_positions(r, &pos, &np);
        REQUIRE(np == 2);
        CHECK_EQ_STR(pos[0].topic, "other");
        CHECK_EQ_INT(pos[0].next_offset, 5);
        CHECK_EQ_INT(pos[1].next_offset, 31);
        lks_rz_reader_free(r);
        if (!gz) {
            /* clear the plain objects before the gzip round */
            done_store(st);
            st = new_store();
            REQUIRE(st);
        }
    }
    /* bad bookmarks */
    lks_rz_bookmark dup[2] = {{.topic = "t", .partition = 0, .next_offset = 1},
                              {.topic = "t", .partition = 0, .next_offset = 2}};
    lks_rz_reader_opts ro = {.start = dup, .nstart = 2};
    lks_rz_reader *r;
    CHECK_EQ_INT(lks_rz_reader_open(st, &ro, &r, &err), LKS_EINVAL);
    dup[1].partition = 1;
    dup[1].next_offset = -1;
    CHECK_EQ_INT(lks_rz_reader_open(st, &ro, &r, &err), LKS_EINVAL);
    done_store(st);
}

static void t_rewrite_idempotent(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    lks_rz_writer_opts wo = {.flush_size = 10, .tombstones = 1, .store_keys = 1};
    lks_rz_writer *w;
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    for (int i = 0; i < 10; i++)
        CHECK_OK(lks_rz_writer_append(w, "t", 0, i, S("k"), S("{\"v\":1}"), 0, &err), &err);
    lks_rz_writer_free(w);
    /* a consumer reads the first 5 */
    lks_rz_reader_opts ro = {.max_records = 5};
    lks_rz_reader *r;
    CHECK_OK(lks_rz_reader_open(st, &ro, &r, &err), &err);
    lks_rz_record rec;
    int n = 0;
    while (lks_rz_reader_next(r, &rec, &err) == 1)
        n++;
    CHECK_EQ_INT(n, 5);
    const lks_rz_bookmark *pos;
    size_t np;
    lks_rz_reader_positions(r, &pos, &np);
    REQUIRE(np == 1);
    lks_rz_bookmark bm = {.topic = "t", .partition = 0, .next_offset = pos[0].next_offset};
    CHECK_EQ_INT(bm.next_offset, 5);
    lks_rz_reader_free(r);
    /* the sink retries: the same object again, the same name */
    CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
    for (int i = 0; i < 10; i++)
        CHECK_OK(lks_rz_writer_append(w, "t", 0, i, S("k"), S("{\"v\":1}"), 0, &err), &err);
    for (int i = 10; i < 13; i++)
        CHECK_OK(lks_rz_writer_append(w, "t", 0, i, S("k"), S("{\"v\":2}"), 0, &err), &err);
    CHECK_OK(lks_rz_writer_flush(w, &err), &err);
    lks_rz_writer_free(w);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_rz_object *objs;
    size_t nobj;
    CHECK_OK(lks_rz_list(st, NULL, NULL, &a, &objs, &nobj, NULL, &err), &err);
    CHECK_EQ_INT(nobj, 2);
    lks_arena_free(&a);
    lks_rz_reader_opts ro2 = {.start = &bm, .nstart = 1};
    rrecs got = {0};
    CHECK_OK(read_into(st, &ro2, &got, &err), &err);
    REQUIRE(got.n == 8);
    for (size_t i = 0; i < got.n; i++)
        CHECK_EQ_INT(got.v[i].offset, 5 + (int64_t)i);
    recs_free(&got);
    done_store(st);
}

static void t_overlap(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    REQUIRE(put_str(st, "topics/t/partition=0/t+0+0000000000.json", "0\n1\n2\n3\n4\n") == 0);
    REQUIRE(put_str(st, "topics/t/partition=0/t+0+0000000003.json", "3\n4\n5\n") == 0);
    rrecs got = {0};
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "t+0+0000000000.json") && strstr(err.msg, "t+0+0000000003.json"));
    CHECK_EQ_INT(got.n, 5); /* the first object, then the stop */
    recs_free(&got);
    /* a bookmark past the first object's start but before the second: still
     * reads the first and catches the overlap */
    lks_rz_bookmark bm = {.topic = "t", .partition = 0, .next_offset = 2};
    lks_rz_reader_opts ro = {.start = &bm, .nstart = 1};
    CHECK_EQ_INT(read_into(st, &ro, &got, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(got.n, 3);
    recs_free(&got);
    /* the error is sticky */
    lks_rz_reader *r;
    CHECK_OK(lks_rz_reader_open(st, NULL, &r, &err), &err);
    lks_rz_record rec;
    int rc;
    while ((rc = lks_rz_reader_next(r, &rec, &err)) == 1)
        ;
    CHECK_EQ_INT(rc, LKS_ECORRUPT);
    CHECK_EQ_INT(lks_rz_reader_next(r, &rec, NULL), LKS_ECORRUPT);
    lks_rz_reader_free(r);
    /* contiguous objects and gaps are fine */
    REQUIRE(put_str(st, "topics/t/partition=0/t+0+0000000003.json", "") == 0); /* empty object */
    REQUIRE(put_str(st, "topics/t/partition=0/t+0+0000000005.json", "5\n6\n") == 0);
    REQUIRE(put_str(st, "topics/t/partition=0/t+0+0000000100.json", "100\n") == 0);
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    CHECK_EQ_INT(got.n, 8);
    recs_free(&got);
    /* the same start twice, in two compressions */
    REQUIRE(put_gz(st, "topics/t/partition=0/t+0+0000000005.json.gz", "5\n6\n", 4) == 0);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "t+0+0000000005.json ") && strstr(err.msg, "t+0+0000000005.json.gz"));
    recs_free(&got);
    done_store(st);
}

static void t_hostile_objects(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    rrecs got = {0};
    /* a truncated gzip object */
    char big[4096];
    size_t bl = 0;
    for (int i = 0; i < 200; i++)
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "{\"i\":%d}\n", i);
    uLongf cl = compressBound((uLong)bl) + 64;
    uint8_t *gz = malloc(cl);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)big;
    zs.avail_in = (uInt)bl;
    zs.next_out = gz;
    zs.avail_out = (uInt)cl;
    deflate(&zs, Z_FINISH);
    size_t gl = cl - zs.avail_out;
    deflateEnd(&zs);
    const char *key = "topics/g/partition=0/g+0+0000000000.json.gz";
    size_t cuts[] = {gl - 1, gl - 4, gl - 8, gl / 2, 10, 3};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        CHECK_OK(lks_store_put(st, key, gz, cuts[c], &err), &err);
        int rc = read_into(st, NULL, &got, &err);
        if (rc != LKS_ECORRUPT)
            FAILF("cut at %zu of %zu: rc %d", cuts[c], gl, rc);
        CHECK(strstr(err.msg, key) != NULL);
        recs_free(&got);
    }
    /* a flipped byte in the deflate data, trailing garbage, an empty .gz */
    uint8_t *bad = malloc(gl + 4);
    memcpy(bad, gz, gl);
    bad[gl / 2] ^= 0x55;
    CHECK_OK(lks_store_put(st, key, bad, gl, &err), &err);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    recs_free(&got);
    memcpy(bad, gz, gl);
    memcpy(bad + gl, "junk", 4);
    CHECK_OK(lks_store_put(st, key, bad, gl + 4, &err), &err);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, key) != NULL);
    CHECK_EQ_INT(got.n, 200);
    recs_free(&got);
    CHECK_OK(lks_store_put(st, key, "", 0, &err), &err);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    recs_free(&got);
    CHECK_OK(lks_store_put(st, key, gz, gl, &err), &err);
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    CHECK_EQ_INT(got.n, 200);
    recs_free(&got);
    free(bad);
    free(gz);
    lks_store_delete(st, key, &err);

    /* keys and values out of step, both ways */
    REQUIRE(put_str(st, "topics/k/partition=0/k+0+0000000000.json", "1\n2\n3\n") == 0);
    REQUIRE(put_str(st, "topics/k/partition=0/k+0+0000000000.keys.json", "1\n2\n") == 0);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "k+0+0000000000.json") && strstr(err.msg, "k+0+0000000000.keys.json"));
    CHECK_EQ_INT(got.n, 2);
    recs_free(&got);
    REQUIRE(put_str(st, "topics/k/partition=0/k+0+0000000000.keys.json", "1\n2\n3\n4\n") == 0);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "k+0+0000000000.keys.json") != NULL);
    recs_free(&got);
    /* ...even when the bookmark skips every line */
    lks_rz_bookmark bm = {.topic = "k", .partition = 0, .next_offset = 3};
    lks_rz_reader_opts ro = {.start = &bm, .nstart = 1};
    CHECK_EQ_INT(read_into(st, &ro, &got, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(got.n, 0);
    recs_free(&got);
    lks_store_delete(st, "topics/k/partition=0/k+0+0000000000.keys.json", &err);
    lks_store_delete(st, "topics/k/partition=0/k+0+0000000000.json", &err);

    /* line endings, empty lines, tombstones */
    REQUIRE(put_str(st, "topics/l/partition=0/l+0+0000000000.json", "{\"a\":1}\r\nnull\n  \n\tnull \n{\"b\":2}") == 0);
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    REQUIRE(got.n == 5);
    CHECK_EQ_STR(got.v[0].value, "{\"a\":1}");
    CHECK_EQ_INT(got.v[0].tombstone, 0);
    CHECK_EQ_INT(got.v[1].tombstone, 1);
    CHECK_EQ_INT(got.v[2].tombstone, 1);
    CHECK_EQ_INT(got.v[3].tombstone, 1);
    CHECK_EQ_STR(got.v[4].value, "{\"b\":2}");
    CHECK_EQ_INT(got.v[4].offset, 4);
    recs_free(&got);
    REQUIRE(put_str(st, "topics/l/partition=0/l+0+0000000000.json", "1\n2\n\n\r\n\n") == 0); /* trailing empties */
    CHECK_OK(read_into(st, NULL, &got, &err), &err);
    CHECK_EQ_INT(got.n, 2);
    recs_free(&got);
    REQUIRE(put_str(st, "topics/l/partition=0/l+0+0000000000.json", "1\n2\n\n3\n") == 0);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "l+0+0000000000.json") && strstr(err.msg, "line 3"));
    CHECK_EQ_INT(got.n, 2);
    recs_free(&got);
    REQUIRE(put_gz(st, "topics/l/partition=0/l+0+0000000000.json.gz", "1\n\r\n3\n", 6) == 0);
    lks_store_delete(st, "topics/l/partition=0/l+0+0000000000.json", &err);
    CHECK_EQ_INT(read_into(st, NULL, &got, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "line 2") != NULL);
    recs_free(&got);
    lks_store_delete(st, "topics/l/partition=0/l+0+0000000000.json.gz", &err);

    /* lines longer than max_line_bytes, plain and gzip */
    char line[256];
    for (int gzv = 0; gzv <= 1; gzv++) {
        const char *k = gzv ? "topics/x/partition=0/x+0+0000000000.json.gz" : "topics/x/partition=0/x+0+0000000000.json";
        for (int len = 99; len <= 101; len++) {
            memset(line, 'a', (size_t)len);
            memcpy(line + len, "\r\nb\n", 5);
            if (gzv)
                REQUIRE(put_gz(st, k, line, strlen(line)) == 0);
            else
                REQUIRE(put_str(st, k, line) == 0);
            lks_rz_reader_opts lo = {.max_line_bytes = 100};
            int rc = read_into(st, &lo, &got, &err);
            if (len <= 100) {
                CHECK_EQ_INT(rc, 0);
                CHECK_EQ_INT(got.n, 2);
            } else {
                CHECK_EQ_INT(rc, LKS_ELIMIT);
                CHECK(strstr(err.msg, "x+0+0000000000.json") && strstr(err.msg, "line 1"));
            }
            recs_free(&got);
        }
        /* an endless line in a compressed bomb stops at the limit */
        if (gzv) {
            size_t nb = 8 << 20;
            char *bomb = malloc(nb);
            memset(bomb, 'z', nb);
            REQUIRE(put_gz(st, k, bomb, nb) == 0);
            free(bomb);
            lks_rz_reader_opts lo = {.max_line_bytes = 1 << 16};
            CHECK_EQ_INT(read_into(st, &lo, &got, &err), LKS_ELIMIT);
            recs_free(&got);
        }
        lks_store_delete(st, k, &err);
    }
    done_store(st);
}

/* ---- property test ------------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static void t_random_streams(void) {
    int iters = 300;
    int failures = 0;
    for (int it = 0; it < iters && failures < 3; it++) {
        rng_state = 0x5EED0000u + (uint64_t)it;
        lks_store *st = new_store();
        REQUIRE(st);
        lks_err err;
        lks_rz_writer_opts wo = {.flush_size = rnd_in(1, 12),
                                 .rotate_interval_ms = rnd() % 2 ? rnd_in(1, 50) : 0,
                                 .gzip = (int)(rnd() % 2),
                                 .store_keys = (int)(rnd() % 2),
                                 .tombstones = (int)(rnd() % 3 != 0)};
        lks_rz_writer *w;
        CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
        int ntopics = (int)rnd_in(1, 2), nparts = (int)rnd_in(1, 3);
        int nrec = (int)rnd_in(0, 80);
        int64_t next[2][3] = {{0}}, ts = 0;
        for (int t = 0; t < 2; t++)
            for (int p = 0; p < 3; p++)
                next[t][p] = rnd_in(0, 3) == 0 ? rnd_in(0, 5000000000LL) : 0;
        rrecs want = {0};
        for (int i = 0; i < nrec; i++) {
            int t = (int)rnd_in(0, ntopics - 1), p = (int)rnd_in(0, nparts - 1);
            char topic[16];
            snprintf(topic, sizeof topic, t ? "db.s+x.t%d" : "db-s_t%d", t);
            int64_t off = next[t][p];
            next[t][p] += rnd() % 6 == 0 ? rnd_in(2, 5) : 1; /* sometimes a gap */
            ts += rnd_in(0, 20);
            char v[128], k[32];
            int tomb = rnd() % 5 == 0;
            int vl = snprintf(v, sizeof v, "{\"t\":%d,\"p\":%d,\"o\":%lld,\"pad\":\"%.*s\"}", t, p, (long long)off,
                              (int)rnd_in(0, 40), "0123456789abcdef0123456789abcdef0123456789");
            int kl = snprintf(k, sizeof k, "{\"id\":%d}", i);
            lks_slice key = {(const uint8_t *)k, (size_t)kl};
            lks_slice val = {(const uint8_t *)v, (size_t)vl};
            if (tomb)
                val = S(rnd() % 2 ? "null" : NULL);
            int rc = lks_rz_writer_append(w, topic, p, off, key, val, ts, &err);
            if (rc) {
                FAILF("iter %d append: %s", it, err.msg);
                failures++;
                break;
            }
            if (rnd() % 40 == 0)
                CHECK_OK(lks_rz_writer_flush(w, &err), &err);
            if (tomb && !wo.tombstones)
                continue;
            recs_push(&want, topic, p, off, tomb ? "null" : v, tomb ? 4 : (size_t)vl, k, (size_t)kl, wo.store_keys,
                      tomb);
        }
        CHECK_OK(lks_rz_writer_flush(w, &err), &err);
        lks_rz_writer_free(w);
        /* expected order: topic, partition, offset */
        for (size_t i = 1; i < want.n; i++)
            for (size_t j = i; j > 0; j--) {
                rrec *a = &want.v[j - 1], *b = &want.v[j];
                int c = strcmp(a->topic, b->topic);
                if (c < 0 || (c == 0 && (a->partition < b->partition ||
                                         (a->partition == b->partition && a->offset < b->offset))))
                    break;
                rrec tmp = *a;
                *a = *b;
                *b = tmp;
            }

        for (int run = 0; run < 3 && !lks_t_cur_failed; run++) {
            /* random starting bookmarks for some partitions */
            lks_rz_bookmark bms[6];
            char names[6][16];
            size_t nb = 0;
            for (int t = 0; t < ntopics; t++)
                for (int p = 0; p < nparts; p++) {
                    if (rnd() % 2)
                        continue;
                    snprintf(names[nb], sizeof names[nb], t ? "db.s+x.t%d" : "db-s_t%d", t);
                    int64_t hi = next[t][p] + 2;
                    bms[nb].topic = names[nb];
                    bms[nb].partition = p;
                    bms[nb].next_offset = rnd() % 2 ? rnd_in(0, hi) : 0;
                    /* sometimes a bookmark near the end of the written offsets */
                    if (rnd() % 4 == 0 && hi > 4)
                        bms[nb].next_offset = rnd_in(hi - 4, hi);
                    nb++;
                }
            /* the expected suffix */
            rrecs exp = {0};
            for (size_t i = 0; i < want.n; i++) {
                int64_t b = 0;
                for (size_t j = 0; j < nb; j++)
                    if (!strcmp(bms[j].topic, want.v[i].topic) && bms[j].partition == want.v[i].partition)
                        b = bms[j].next_offset;
                if (want.v[i].offset >= b)
                    recs_push(&exp, want.v[i].topic, want.v[i].partition, want.v[i].offset, want.v[i].value,
                              strlen(want.v[i].value), want.v[i].key, want.v[i].key ? strlen(want.v[i].key) : 0,
                              want.v[i].key != NULL, want.v[i].tombstone);
            }
            /* read in several runs, each from the previous run's positions */
            rrecs got = {0};
            lks_rz_bookmark cur[16];
            char curnames[16][16];
            size_t ncur = nb;
            memcpy(cur, bms, nb * sizeof *bms);
            for (size_t j = 0; j < nb; j++) {
                snprintf(curnames[j], sizeof curnames[j], "%s", bms[j].topic);
                cur[j].topic = curnames[j];
            }
            for (int pass = 0; pass < 50; pass++) {
                lks_rz_reader_opts ro = {.start = cur, .nstart = ncur, .max_records = rnd_in(0, 15)};
                size_t before = got.n;
                lks_rz_reader *r;
                int rc = lks_rz_reader_open(st, &ro, &r, &err);
                if (rc) {
                    FAILF("iter %d: open: %s", it, err.msg);
                    break;
                }
                lks_rz_record rec;
                while ((rc = lks_rz_reader_next(r, &rec, &err)) == 1)
                    recs_push(&got, rec.topic, rec.partition, rec.offset, rec.value.ptr, rec.value.len, rec.key.ptr,
                              rec.key.len, rec.key.ptr != NULL, rec.tombstone);
                if (rc) {
                    FAILF("iter %d: next: %s", it, err.msg);
                    lks_rz_reader_free(r);
                    break;
                }
                const lks_rz_bookmark *pos;
                size_t np;
                lks_rz_reader_positions(r, &pos, &np);
                REQUIRE(np <= 16);
                for (size_t j = 0; j < np; j++) {
                    snprintf(curnames[j], sizeof curnames[j], "%s", pos[j].topic);
                    cur[j] = pos[j];
                    cur[j].topic = curnames[j];
                }
                ncur = np;
                lks_rz_reader_free(r);
                if (got.n == before && ro.max_records != 0)
                    break;
                if (ro.max_records == 0)
                    break;
            }
            if (got.n != exp.n)
                FAILF("iter %d run %d: %zu records read, %zu expected", it, run, got.n, exp.n);
            for (size_t i = 0; i < got.n && i < exp.n && !lks_t_cur_failed; i++) {
                rrec *g = &got.v[i], *e = &exp.v[i];
                if (strcmp(g->topic, e->topic) || g->partition != e->partition || g->offset != e->offset ||
                    strcmp(g->value, e->value) || g->tombstone != e->tombstone || (!g->key) != (!e->key) ||
                    (g->key && strcmp(g->key, e->key)))
                    FAILF("iter %d run %d: record %zu: got %s:%d@%lld '%s' want %s:%d@%lld '%s'", it, run, i, g->topic,
                          g->partition, (long long)g->offset, g->value, e->topic, e->partition, (long long)e->offset,
                          e->value);
            }
            recs_free(&got);
            recs_free(&exp);
        }
        if (lks_t_cur_failed)
            failures++;
        recs_free(&want);
        done_store(st);
    }
}

/* ---- a larger stream ---------------------------------------------------------------------------- */

/* 200k records, plain and gzip: every record and byte comes back. */
/* Lines of every length, some far longer than a read piece, "\n" and
 * "\r\n" ends, the last one unterminated: the same lines come back, byte
 * for byte, from a plain and a gzip object of the same bytes. */
static void t_piece_boundaries(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    rng_state = 42;
    const int nl = 400;
    size_t *len = malloc(nl * sizeof *len);
    size_t cap = 0;
    for (int i = 0; i < nl; i++) {
        uint64_t k = rnd() % 10;
        len[i] = 1 + (size_t)(k < 7 ? rnd() % 300 : k < 9 ? rnd() % 70000 : rnd() % 700000);
        cap += len[i] + 2;
    }
    char *doc = malloc(cap);
    size_t o = 0;
    for (int i = 0; i < nl; i++) {
        for (size_t j = 0; j < len[i]; j++)
            doc[o + j] = (char)('a' + (i + j) % 26);
        o += len[i];
        if (i == nl - 1)
            break; /* the last line without an end */
        if (rnd() & 1)
            doc[o++] = '\r';
        doc[o++] = '\n';
    }
    for (int gz = 0; gz <= 1; gz++) {
        const char *k = gz ? "topics/p/partition=0/p+0+0000000000.json.gz" : "topics/p/partition=0/p+0+0000000000.json";
        if (gz)
            REQUIRE(put_gz(st, k, doc, o) == 0);
        else
            REQUIRE(lks_store_put(st, k, doc, o, &err) == 0);
        rrecs got = {0};
        lks_rz_reader_opts lo = {.max_line_bytes = 1 << 20};
        CHECK_OK(read_into(st, &lo, &got, &err), &err);
        CHECK_EQ_INT(got.n, nl);
        int bad = 0;
        for (int i = 0; i < nl && i < (int)got.n; i++) {
            const char *v = got.v[i].value;
            int same = strlen(v) == len[i] && got.v[i].offset == i;
            for (size_t j = 0; same && j < len[i]; j++)
                same = v[j] == (char)('a' + (i + j) % 26);
            if (!same && bad++ < 3)
                printf("     %s line %d: %zu bytes, want %zu\n", gz ? "gzip" : "plain", i, strlen(v), len[i]);
        }
        CHECK_EQ_INT(bad, 0);
        recs_free(&got);
        lks_store_delete(st, k, &err);
    }
    free(doc);
    free(len);
    done_store(st);
}

static void t_large_stream(void) {
    lks_store *st = new_store();
    REQUIRE(st);
    lks_err err;
    const int n = 200000;
    char v[256];
    for (int gz = 0; gz <= 1; gz++) {
        lks_rz_writer_opts wo = {.flush_size = 50000, .gzip = gz, .tombstones = 1};
        lks_rz_writer *w;
        CHECK_OK(lks_rz_writer_open(st, &wo, &w, &err), &err);
        char topic[8];
        snprintf(topic, sizeof topic, "m%d", gz);
        size_t bytes = 0;
        for (int i = 0; i < n; i++) {
            int vl = snprintf(v, sizeof v,
                              "{\"before\":null,\"after\":{\"id\":%d,\"name\":\"customer %d\",\"balance\":\"AYag\"},"
                              "\"op\":\"c\",\"ts_ms\":%d}",
                              i, i, 1700000000 + i);
            bytes += (size_t)vl + 1;
            lks_slice val = {(const uint8_t *)v, (size_t)vl};
            CHECK_OK(lks_rz_writer_append(w, topic, 0, i, S(NULL), val, 0, &err), &err);
        }
        CHECK_OK(lks_rz_writer_flush(w, &err), &err);
        lks_rz_writer_free(w);
        lks_rz_reader_opts ro = {.topic = topic};
        lks_rz_reader *r;
        CHECK_OK(lks_rz_reader_open(st, &ro, &r, &err), &err);
        lks_rz_record rec;
        int cnt = 0;
        size_t rb = 0;
        while (lks_rz_reader_next(r, &rec, &err) == 1) {
            cnt++;
            rb += rec.value.len + 1;
        }
        lks_rz_reader_free(r);
        CHECK_EQ_INT(cnt, n);
        CHECK_EQ_INT(rb, bytes);
    }
    done_store(st);
}

int main(void) {
    RUN(t_parse_name);
    RUN(t_list);
    RUN(t_roundtrip);
    RUN(t_flush_size);
    RUN(t_time_rotation);
    RUN(t_gzip_keys);
    RUN(t_tombstones);
    RUN(t_bookmarks_every_offset);
    RUN(t_rewrite_idempotent);
    RUN(t_overlap);
    RUN(t_hostile_objects);
    RUN(t_random_streams);
    RUN(t_large_stream);
    RUN(t_piece_boundaries);
    return lks_test_done();
}
