/* test_delta_scan.c — deletion vectors (Z85, the bitmap format, DV files,
 * corpus DVs, hostile DVs), partition value parsing, file skipping, and
 * batches (lks_delta_scan_next_batch) against rows on every corpus table. */
#include "delta/delta_int.h"
#include "harness.h"

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static lks_store *tmp_store(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/lks_dscan_XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_open(dir, &st, &err) != LKS_OK)
        return NULL;
    return st;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A DV file: version byte, then size, bitmap, CRC. */
static void dv_file(lks_buf *f, const uint8_t *bm, size_t n) {
    uint8_t w[4];
    lks_buf_append_byte(f, 1);
    be32(w, (uint32_t)n);
    lks_buf_append(f, w, 4);
    lks_buf_append(f, bm, n);
    be32(w, lks_crc32(0, bm, n));
    lks_buf_append(f, w, 4);
}

/* ---- Z85 ---------------------------------------------------------------------------- */

static void t_z85_known(void) {
    /* ZeroMQ RFC 32's test vector */
    static const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_delta_z85_encode(&b, hello, 8), (lks_err *)NULL);
    CHECK(b.len == 10 && memcmp(b.ptr, "HelloWorld", 10) == 0);
    lks_buf_reset(&b);
    lks_err err;
    CHECK_OK(lks_delta_z85_decode("HelloWorld", 10, &b, &err), &err);
    CHECK(b.len == 8 && memcmp(b.ptr, hello, 8) == 0);
    /* PROTOCOL.md JSON example 1: "ab" prefix + the Z85 of UUID
     * d2c639aa-8816-431a-aaf6-d3fe2512ff61 */
    static const uint8_t uuid[16] = {0xd2, 0xc6, 0x39, 0xaa, 0x88, 0x16, 0x43, 0x1a,
                                     0xaa, 0xf6, 0xd3, 0xfe, 0x25, 0x12, 0xff, 0x61};
    const char *ex = "ab^-aqEH.-t@S}K{vb[*k^";
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_z85_decode(ex + 2, 20, &b, &err), &err);
    CHECK(b.len == 16 && memcmp(b.ptr, uuid, 16) == 0);
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_z85_encode(&b, uuid, 16), (lks_err *)NULL);
    CHECK(b.len == 20 && memcmp(b.ptr, ex + 2, 20) == 0);
    /* every byte value round-trips */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_z85_encode(&b, all, 256), (lks_err *)NULL);
    lks_buf back;
    lks_buf_init(&back, 0);
    CHECK_OK(lks_delta_z85_decode((const char *)b.ptr, b.len, &back, &err), &err);
    CHECK(back.len == 256 && memcmp(back.ptr, all, 256) == 0);
    lks_buf_free(&back);
    lks_buf_free(&b);
}

static void t_z85_hostile(void) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    CHECK_EQ_INT(lks_delta_z85_decode("Hello", 4, &b, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "multiple of 5") != NULL);
    CHECK_EQ_INT(lks_delta_z85_decode("Hel o", 5, &b, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "offset 3") != NULL);
    CHECK_EQ_INT(lks_delta_z85_decode("Hell\"", 5, &b, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_delta_z85_decode("Hell\\", 5, &b, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_delta_z85_decode("Hell\x80", 5, &b, &err), LKS_ECORRUPT);
    CHECK_EQ_INT(lks_delta_z85_decode("Hell\0", 5, &b, &err), LKS_ECORRUPT);
    /* "%%%%%" > 2^32 - 1 */
    CHECK_EQ_INT(lks_delta_z85_decode("HelloWorld%%%%%", 15, &b, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "32 bits") != NULL);
    CHECK_OK(lks_delta_z85_decode("", 0, &b, &err), &err);
    /* the padded tail of the Rust z85 crate: "##093" holds 2 bytes */
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_z85_decode("HelloWorld##093", 15, &b, &err), &err);
    CHECK(b.len == 10 && b.ptr[8] == 0x03 && b.ptr[9] == 0x00);
    CHECK_EQ_INT(lks_delta_z85_decode("##093HelloWorld", 15, &b, &err), LKS_ECORRUPT); /* only last */
    CHECK_EQ_INT(lks_delta_z85_decode("Hello###zz", 10, &b, &err), LKS_ECORRUPT);     /* > 8 bits */
    CHECK_EQ_INT(lks_delta_z85_decode("Hello####0", 10, &b, &err), LKS_ECORRUPT);
    lks_buf_free(&b);
}

/* ---- the bitmap format --------------------------------------------------------------------- */

static void t_dv_inline_example(void) {
    /* PROTOCOL.md JSON example 3 */
    lks_delta_dv dv = {'i', "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", -1, 40, 6};
    lks_delta_rowset *rs = NULL;
    lks_err err;
    CHECK_OK(lks_delta_dv_load(NULL, &dv, &rs, &err), &err);
    REQUIRE(rs);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 6);
    static const uint64_t in[] = {3, 4, 7, 11, 18, 29};
    for (size_t i = 0; i < 6; i++)
        CHECK(lks_delta_rowset_contains(rs, in[i]));
    CHECK(!lks_delta_rowset_contains(rs, 0));
    CHECK(!lks_delta_rowset_contains(rs, 5));
    CHECK(!lks_delta_rowset_contains(rs, ((uint64_t)1 << 32) + 3));
    lks_delta_rowset_free(rs);
    /* the same bytes with a wrong cardinality or size */
    dv.cardinality = 7;
    CHECK_EQ_INT(lks_delta_dv_load(NULL, &dv, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "holds 6 rows") != NULL);
    CHECK(rs == NULL);
    dv.cardinality = 6;
    dv.size_in_bytes = 30;
    CHECK_EQ_INT(lks_delta_dv_load(NULL, &dv, &rs, &err), LKS_ECORRUPT);
    dv.size_in_bytes = 40;
    dv.path_or_inline = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{";
    CHECK_EQ_INT(lks_delta_dv_load(NULL, &dv, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "inline") != NULL);
    dv.path_or_inline = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{ ";
    CHECK_EQ_INT(lks_delta_dv_load(NULL, &dv, &rs, &err), LKS_ECORRUPT);
    dv.storage_type = 'x';
    CHECK_EQ_INT(lks_delta_dv_load(NULL, &dv, &rs, &err), LKS_ECORRUPT);
}

static void t_dv_serialize_roundtrip(void) {
    static const uint64_t rows[] = {5, 0, 65536 * 3 + 7, ((uint64_t)1 << 32) + 1, (uint64_t)1 << 40, 5, 1000000};
    lks_buf b;
    lks_buf_init(&b, 0);
    CHECK_OK(lks_delta_dv_serialize(rows, 7, &b), (lks_err *)NULL);
    lks_delta_rowset *rs = NULL;
    lks_err err;
    CHECK_OK(lks_delta_dv_parse(b.ptr, b.len, &rs, &err), &err);
    REQUIRE(rs);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 6);
    for (size_t i = 0; i < 7; i++)
        CHECK(lks_delta_rowset_contains(rs, rows[i]));
    CHECK(!lks_delta_rowset_contains(rs, 6));
    CHECK(!lks_delta_rowset_contains(rs, ((uint64_t)1 << 32)));
    CHECK(!lks_delta_rowset_contains(rs, ((uint64_t)2 << 32) + 1));
    lks_delta_rowset_free(rs);
    /* the same rows given sorted (the path without a sort) give the same bytes */
    static const uint64_t sorted[] = {0, 5, 5, 65536 * 3 + 7, 1000000, ((uint64_t)1 << 32) + 1, (uint64_t)1 << 40};
    lks_buf b2;
    lks_buf_init(&b2, 0);
    CHECK_OK(lks_delta_dv_serialize(sorted, 7, &b2), (lks_err *)NULL);
    CHECK(b2.len == b.len && memcmp(b2.ptr, b.ptr, b.len) == 0);
    lks_buf_free(&b2);
    /* empty */
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_dv_serialize(NULL, 0, &b), (lks_err *)NULL);
    CHECK_EQ_INT(b.len, 12);
    CHECK_OK(lks_delta_dv_parse(b.ptr, b.len, &rs, &err), &err);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 0);
    lks_delta_rowset_free(rs);
    /* a run of rows serializes compactly and reads back */
    uint64_t *many = malloc(100000 * sizeof *many);
    REQUIRE(many);
    for (size_t i = 0; i < 100000; i++)
        many[i] = 1000 + i;
    lks_buf_reset(&b);
    CHECK_OK(lks_delta_dv_serialize(many, 100000, &b), (lks_err *)NULL);
    CHECK(b.len < 100);
    CHECK_OK(lks_delta_dv_parse(b.ptr, b.len, &rs, &err), &err);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 100000);
    CHECK(lks_delta_rowset_contains(rs, 1000) && lks_delta_rowset_contains(rs, 100999) &&
          !lks_delta_rowset_contains(rs, 101000) && !lks_delta_rowset_contains(rs, 999));
    lks_delta_rowset_free(rs);
    free(many);
    /* row indexes must keep the top bit clear */
    uint64_t big = (uint64_t)1 << 63;
    lks_buf_reset(&b);
    CHECK_EQ_INT(lks_delta_dv_serialize(&big, 1, &b), LKS_EINVAL);
    lks_buf_free(&b);
}

static void t_dv_parse_hostile(void) {
    static const uint64_t rows[] = {1, 2, 3, ((uint64_t)7 << 32) + 9};
    lks_buf b;
    lks_buf_init(&b, 0);
    REQUIRE(lks_delta_dv_serialize(rows, 4, &b) == LKS_OK);
    lks_delta_rowset *rs = NULL;
    lks_err err;
    uint8_t *m = malloc(b.len + 16);
    REQUIRE(m);
    /* bad magic */
    memcpy(m, b.ptr, b.len);
    m[1] ^= 1;
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "magic") != NULL);
    /* every truncation fails cleanly */
    for (size_t n = 0; n < b.len; n++)
        CHECK_EQ_INT(lks_delta_dv_parse(b.ptr, n, &rs, &err), LKS_ECORRUPT);
    /* trailing bytes */
    memcpy(m, b.ptr, b.len);
    m[b.len] = 0;
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len + 1, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "trailing") != NULL);
    /* a bucket count the bytes cannot hold */
    memcpy(m, b.ptr, b.len);
    lks_store_le64(m + 4, UINT64_C(1) << 60);
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "buckets") != NULL);
    /* second key not above the first */
    memcpy(m, b.ptr, b.len);
    size_t first = 12 + 4 + (size_t)0; /* first bucket: key at 12, bitmap after */
    (void)first;
    uint32_t k0 = lks_load_le32(m + 12);
    CHECK_EQ_INT(k0, 0);
    /* find the second key: serialize the first bucket alone to learn its size */
    lks_buf one;
    lks_buf_init(&one, 0);
    REQUIRE(lks_delta_dv_serialize(rows, 3, &one) == LKS_OK);
    size_t k1 = one.len; /* 12 + 4 + first bitmap == offset of the second key */
    lks_buf_free(&one);
    CHECK_EQ_INT(lks_load_le32(m + k1), 7);
    lks_store_le32(m + k1, 0);
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "ascending") != NULL);
    lks_store_le32(m + k1, 0x80000001u);
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "top bit") != NULL);
    /* a garbage 32-bit bitmap */
    memcpy(m, b.ptr, b.len);
    memset(m + 16, 0xEE, 8);
    CHECK_EQ_INT(lks_delta_dv_parse(m, b.len, &rs, &err), LKS_ECORRUPT);
    /* random mutations never crash or leak (run under ASan) */
    srand(7);
    int ok = 0;
    for (int i = 0; i < 5000; i++) {
        memcpy(m, b.ptr, b.len);
        int nmut = 1 + rand() % 4;
        for (int j = 0; j < nmut; j++)
            m[(size_t)rand() % b.len] = (uint8_t)rand();
        size_t n = (size_t)rand() % (b.len + 1);
        if (lks_delta_dv_parse(m, n, &rs, &err) == LKS_OK) {
            ok++;
            (void)lks_delta_rowset_contains(rs, 3);
            (void)lks_delta_rowset_cardinality(rs);
            lks_delta_rowset_free(rs);
        }
    }
    printf("# %d of 5000 mutated bitmaps still parse\n", ok);
    free(m);
    lks_buf_free(&b);
}

/* ---- DV files --------------------------------------------------------------------------------- */

static void t_dv_files_hostile(void) {
    char dir[64];
    lks_store *st = tmp_store(dir, sizeof dir);
    REQUIRE(st);
    lks_delta_table *t = NULL;
    lks_err err;
    CHECK_OK(lks_delta_table_open(st, "t", &t, &err), &err);
    static const uint8_t uuid[16] = {0x89, 0x9c, 0xef, 0x78, 0x06, 0xb3, 0x4c, 0x14,
                                     0xb0, 0x24, 0x03, 0x86, 0x0e, 0x62, 0xcd, 0x40};
    const char *file = "t/deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin";
    char z[32];
    lks_buf zb;
    lks_buf_init(&zb, 0);
    lks_delta_z85_encode(&zb, uuid, 16);
    memcpy(z, zb.ptr, 20);
    z[20] = 0;
    lks_buf_free(&zb);
    static const uint64_t rows[] = {1, 2, 3};
    lks_buf bm, f;
    lks_buf_init(&bm, 0);
    lks_buf_init(&f, 0);
    REQUIRE(lks_delta_dv_serialize(rows, 3, &bm) == LKS_OK);
    /* two DVs in one file: the second at offset 1 + 4 + n + 4 */
    dv_file(&f, bm.ptr, bm.len);
    size_t off2 = f.len;
    uint8_t w[4];
    be32(w, (uint32_t)bm.len);
    lks_buf_append(&f, w, 4);
    lks_buf_append(&f, bm.ptr, bm.len);
    be32(w, lks_crc32(0, bm.ptr, bm.len));
    lks_buf_append(&f, w, 4);
    CHECK_OK(lks_store_put(st, file, f.ptr, f.len, &err), &err);
    lks_delta_dv dv = {'u', z, 1, (int32_t)bm.len, 3};
    lks_delta_rowset *rs = NULL;
    CHECK_OK(lks_delta_dv_load(t, &dv, &rs, &err), &err);
    CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), 3);
    CHECK(lks_delta_rowset_contains(rs, 2) && !lks_delta_rowset_contains(rs, 4));
    lks_delta_rowset_free(rs);
    dv.offset = (int32_t)off2;
    CHECK_OK(lks_delta_dv_load(t, &dv, &rs, &err), &err);
    lks_delta_rowset_free(rs);
    dv.offset = -1; /* absent: 0, which is the version byte */
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    /* cardinality mismatch */
    dv.offset = 1;
    dv.cardinality = 4;
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "deletion_vector_899cef78") != NULL);
    dv.cardinality = 3;
    /* size field disagrees with sizeInBytes */
    dv.size_in_bytes = (int32_t)bm.len - 1;
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    dv.size_in_bytes = (int32_t)bm.len;
    /* past the end */
    dv.offset = (int32_t)f.len - 4;
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "past the end") != NULL);
    dv.offset = 1;
    /* a flipped bitmap byte: checksum */
    f.ptr[1 + 4 + 6] ^= 0x10;
    CHECK_OK(lks_store_put(st, file, f.ptr, f.len, &err), &err);
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECHECKSUM);
    CHECK(strstr(err.msg, "CRC-32") != NULL);
    f.ptr[1 + 4 + 6] ^= 0x10;
    /* a bad magic with a matching checksum */
    lks_buf g;
    lks_buf_init(&g, 0);
    bm.ptr[0] ^= 0xFF;
    dv_file(&g, bm.ptr, bm.len);
    bm.ptr[0] ^= 0xFF;
    CHECK_OK(lks_store_put(st, file, g.ptr, g.len, &err), &err);
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "magic") != NULL);
    /* truncated file */
    CHECK_OK(lks_store_put(st, file, f.ptr, 1 + 4 + bm.len + 2, &err), &err);
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    /* unknown file version */
    f.ptr[0] = 2;
    CHECK_OK(lks_store_put(st, file, f.ptr, f.len, &err), &err);
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_EUNSUPPORTED);
    f.ptr[0] = 1;
    CHECK_OK(lks_store_put(st, file, f.ptr, f.len, &err), &err);
    /* a random prefix is a directory */
    char zp[40];
    snprintf(zp, sizeof zp, "ab%s", z);
    dv.path_or_inline = zp;
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "t/ab/deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin") != NULL);
    CHECK_OK(lks_store_put(st, "t/ab/deletion_vector_899cef78-06b3-4c14-b024-03860e62cd40.bin", f.ptr, f.len, &err),
             &err);
    CHECK_OK(lks_delta_dv_load(t, &dv, &rs, &err), &err);
    lks_delta_rowset_free(rs);
    /* bad Z85 in the path; too short */
    dv.path_or_inline = "ab^-aqEH.-t@S}K{vb[* ^";
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    dv.path_or_inline = "short";
    CHECK_EQ_INT(lks_delta_dv_load(t, &dv, &rs, &err), LKS_ECORRUPT);
    /* an absolute path */
    char abs[256];
    snprintf(abs, sizeof abs, "file://%s/%s", dir, file);
    lks_delta_dv pdv = {'p', abs, 1, (int32_t)bm.len, 3};
    CHECK_OK(lks_delta_dv_load(t, &pdv, &rs, &err), &err);
    lks_delta_rowset_free(rs);
    snprintf(abs, sizeof abs, "file:%s/%s", dir, file);
    CHECK_OK(lks_delta_dv_load(t, &pdv, &rs, &err), &err);
    lks_delta_rowset_free(rs);
    snprintf(abs, sizeof abs, "%s/t/nope.bin", dir);
    CHECK_EQ_INT(lks_delta_dv_load(t, &pdv, &rs, &err), LKS_ENOTFOUND);
    lks_buf_free(&g);
    lks_buf_free(&f);
    lks_buf_free(&bm);
    lks_delta_table_close(t);
    lks_store_close(st);
    rm_rf(dir);
}

/* ---- corpus DVs ----------------------------------------------------------------------------------- */

typedef struct keylist {
    char **k;
    size_t n;
} keylist;

static int collect(void *ud, const lks_store_entry *e) {
    keylist *kl = ud;
    size_t n = strlen(e->key);
    if (n < 5 || strcmp(e->key + n - 5, ".json") != 0 || strchr(e->key, '/') == NULL)
        return 0;
    const char *base = strrchr(e->key, '/') + 1;
    if (strlen(base) != 25) /* NNNNNNNNNNNNNNNNNNNN.json */
        return 0;
    kl->k = realloc(kl->k, (kl->n + 1) * sizeof *kl->k);
    kl->k[kl->n++] = strdup(e->key);
    return 0;
}

/* Loads every DV referenced by the case's JSON commits; returns how many
 * loaded, -1 on a setup failure; *notfound counts missing DV files. */
static int load_case_dvs(lks_store *st, const char *cs, int *notfound, int *checked_prefixed) {
    char prefix[256], logp[300];
    snprintf(prefix, sizeof prefix, "%s/delta", cs);
    snprintf(logp, sizeof logp, "%s/_delta_log/", prefix);
    lks_err err;
    keylist kl = {0, 0};
    if (lks_store_list(st, logp, collect, &kl, &err) != LKS_OK)
        return -1;
    lks_delta_table *t = NULL;
    if (lks_delta_table_open(st, prefix, &t, &err) != LKS_OK)
        return -1;
    int loaded = 0;
    *notfound = 0;
    for (size_t i = 0; i < kl.n; i++) {
        lks_buf b;
        lks_buf_init(&b, 0);
        CHECK_OK(lks_store_get(st, kl.k[i], &b, &err), &err);
        lks_arena a;
        lks_arena_init(&a, 0);
        const char *p = (const char *)b.ptr, *end = p + b.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            lks_delta_action act;
            if (n > 1 && lks_delta_action_parse(p, n, &a, &act, &err) == LKS_OK &&
                (act.kind == LKS_DA_ADD || act.kind == LKS_DA_REMOVE)) {
                const lks_delta_dv *dv = act.kind == LKS_DA_ADD ? &act.u.add.dv : &act.u.remove.dv;
                int has = act.kind == LKS_DA_ADD ? act.u.add.has_dv : act.u.remove.has_dv;
                if (has) {
                    lks_delta_rowset *rs = NULL;
                    int rc = lks_delta_dv_load(t, dv, &rs, &err);
                    if (rc == LKS_ENOTFOUND && dv->storage_type == 'u') {
                        (*notfound)++;
                        CHECK(strstr(err.msg, "deletion_vector_") != NULL);
                        /* Spark's test prefix the descriptor does not record:
                         * check the bytes themselves */
                        const char *q = strstr(err.msg, "deletion_vector_");
                        char key[512];
                        snprintf(key, sizeof key, "%s/test%%dv%%prefix-%.56s", prefix, q);
                        lks_buf fb;
                        lks_buf_init(&fb, 0);
                        if (lks_store_get_range(st, key, (uint64_t)dv->offset, 4 + (uint64_t)dv->size_in_bytes + 4,
                                                &fb, &err) == LKS_OK) {
                            uint32_t sz = (uint32_t)fb.ptr[0] << 24 | (uint32_t)fb.ptr[1] << 16 |
                                          (uint32_t)fb.ptr[2] << 8 | fb.ptr[3];
                            CHECK_EQ_INT(sz, dv->size_in_bytes);
                            const uint8_t *c = fb.ptr + 4 + sz;
                            uint32_t crc = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
                            CHECK_EQ_INT(crc, lks_crc32(0, fb.ptr + 4, sz));
                            CHECK_OK(lks_delta_dv_parse(fb.ptr + 4, sz, &rs, &err), &err);
                            CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), dv->cardinality);
                            lks_delta_rowset_free(rs);
                            (*checked_prefixed)++;
                        }
                        lks_buf_free(&fb);
                    } else {
                        CHECK_OK(rc, &err);
                        if (rc == LKS_OK) {
                            CHECK_EQ_INT(lks_delta_rowset_cardinality(rs), dv->cardinality);
                            loaded++;
                        }
                        lks_delta_rowset_free(rs);
                    }
                }
            }
            lks_arena_reset(&a);
            p += n + 1;
        }
        lks_arena_free(&a);
        lks_buf_free(&b);
        free(kl.k[i]);
    }
    free(kl.k);
    lks_delta_table_close(t);
    return loaded;
}

static void t_dv_corpus(void) {
    const char *corpus = lks_test_corpus();
    if (!corpus)
        SKIP("no corpus");
    char path[4200];
    snprintf(path, sizeof path, "%s/delta", corpus);
    lks_store *st = NULL;
    lks_err err;
    REQUIRE(lks_store_open(path, &st, &err) == LKS_OK);
    static const struct {
        const char *cs;
        int prefixed; /* Spark test tables with the unrecorded file-name prefix */
    } cases[] = {{"kerneljava-basic-dv-no-checkpoint", 0},
                 {"kerneljava-basic-dv-with-checkpoint", 0},
                 {"deltars-table-with-dv-small", 0},
                 {"deltars-table_with_deletion_logs", 0},
                 {"deltars-cdf-table-with-cdc-and-dvs", 0},
                 {"kernelrs-with-short-dv", 0},
                 {"kernelrs-cdf-table-with-dv", 0},
                 {"kernelrs-compacted-log-files-table", 0},
                 {"golden-dv-with-columnmapping", 0},
                 {"spark-table-with-dv-small", 1},
                 {"spark-table-with-dv-large", 1}};
    int total = 0, prefixed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int nf = 0;
        int n = load_case_dvs(st, cases[i].cs, &nf, &prefixed);
        CHECK(n >= 0);
        if (cases[i].prefixed) {
            CHECK(nf > 0);
            CHECK_EQ_INT(n, 0);
        } else {
            CHECK_EQ_INT(nf, 0);
            CHECK(n > 0);
        }
        printf("# %s: %d DVs loaded, %d files not found (Spark test prefix)\n", cases[i].cs, n, nf);
        total += n;
    }
    printf("# %d DVs loaded with matching cardinality, %d prefixed DVs checked byte-wise\n", total, prefixed);
    CHECK(total >= 60);
    CHECK(prefixed > 0);
    lks_store_close(st);
}

/* ---- partition values -------------------------------------------------------------------------- */

static const char *pv_schema =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"b\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"sh\",\"type\":\"short\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"i\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"l\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"f\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dec\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dec2\",\"type\":\"decimal(25,3)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"bo\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"bin\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dt\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"tn\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{}}]}";

static void t_partition_values(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_type *root = NULL;
    lks_err err;
    REQUIRE(lks_delta_schema_parse(pv_schema, strlen(pv_schema), &a, &root, &err) == LKS_OK);
    lks_pq_schema *rs = NULL;
    REQUIRE(lks_delta_schema_to_parquet(root, 0, &rs, &err) == LKS_OK);
    static const struct {
        const char *col, *in, *want; /* want NULL: LKS_ECORRUPT */
    } cases[] = {
        {"s", "abc", "\"abc\""},
        {"s", "", "null"},
        {"s", NULL, "null"},
        {"s", "a b/c=d", "\"a b/c=d\""},
        {"b", "-128", "-128"},
        {"b", "128", NULL},
        {"sh", "32767", "32767"},
        {"sh", "-32769", NULL},
        {"i", "2147483647", "2147483647"},
        {"i", "x", NULL},
        {"i", "1.5", NULL},
        {"i", "", "null"},
        {"l", "-9223372036854775808", "-9223372036854775808"},
        {"l", "9223372036854775808", NULL},
        {"f", "1.5", "1.5"},
        {"f", "-0.1", "-0.1"},
        {"d", "NaN", "\"NaN\""},
        {"d", "-Infinity", "\"-Infinity\""},
        {"d", "2.5e10", "25000000000"},
        {"d", "abc", NULL},
        {"dec", "123.4", "\"123.40\""},
        {"dec", "-0.01", "\"-0.01\""},
        {"dec", "1E+2", "\"100.00\""},
        {"dec", "12345678.99", "\"12345678.99\""},
        {"dec", "1.234", NULL},
        {"dec", "123456789.00", NULL},
        {"dec", "1.2.3", NULL},
        {"dec2", "12345678901234567890.123", "\"12345678901234567890.123\""},
        {"dec2", "-99999999999999999999.999", "\"-99999999999999999999.999\""},
        {"bo", "true", "true"},
        {"bo", "FALSE", "false"},
        {"bo", "yes", NULL},
        {"bin", "\x01\x02", "\"AQI=\""},
        {"dt", "2021-02-03", "\"2021-02-03\""},
        {"dt", "1969-12-31", "\"1969-12-31\""},
        {"dt", "2021-02-30x", NULL},
        {"ts", "2021-01-01 00:00:00", "\"2021-01-01T00:00:00.000000Z\""},
        {"ts", "2021-01-01 12:34:56.123456", "\"2021-01-01T12:34:56.123456Z\""},
        {"ts", "1970-01-01T00:00:00.123456Z", "\"1970-01-01T00:00:00.123456Z\""},
        {"ts", "2021-01-01T01:00:00+01:00", "\"2021-01-01T00:00:00.000000Z\""},
        {"ts", "yesterday", NULL},
        {"tn", "2021-01-01 00:00:00.5", "\"2021-01-01T00:00:00.500000\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int k = 0;
        while (k < root->nchildren && strcmp(root->children[k].name, cases[i].col) != 0)
            k++;
        REQUIRE(k < root->nchildren);
        int g = 1;
        for (int j = 0; j < k; j++) {
            /* top-level leaves only: one field each */
            g++;
        }
        lks_pq_value v;
        int rc = lks_delta_partition_value_parse(&root->children[k], &rs->fields[g], cases[i].in, &a, &v, &err);
        if (!cases[i].want) {
            if (rc != LKS_ECORRUPT)
                FAILF("%s '%s': want LKS_ECORRUPT, got %d", cases[i].col, cases[i].in, rc);
            else
                CHECK(strstr(err.msg, cases[i].col) != NULL);
            continue;
        }
        if (rc != LKS_OK) {
            FAILF("%s '%s': %s", cases[i].col, cases[i].in, err.msg);
            continue;
        }
        lks_buf b;
        lks_buf_init(&b, 0);
        if (v.kind == LKS_PQ_V_NULL)
            lks_buf_printf(&b, "null");
        else
            CHECK_OK(lks_pq_value_to_json(&b, rs, g, &v), (lks_err *)NULL);
        lks_buf_cstr(&b);
        if (strcmp((const char *)b.ptr, cases[i].want) != 0)
            FAILF("%s '%s': got %s, want %s", cases[i].col, cases[i].in, (const char *)b.ptr, cases[i].want);
        lks_buf_free(&b);
    }
    lks_pq_schema_free(rs);
    lks_arena_free(&a);
}

/* ---- skipping ------------------------------------------------------------------------------------ */

static const char *sk_schema = "{\"type\":\"struct\",\"fields\":["
                               "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
                               "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                               "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
                               "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
static const char *sk_data_schema = "{\"type\":\"struct\",\"fields\":["
                                    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
                                    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                                    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}}]}";

#define LONGNAME "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" /* 40 characters */

typedef struct skrow {
    int64_t id;
    const char *name; /* NULL: null */
    int64_t ts;
} skrow;

/* Writes a data file and returns its add action line. */
static int write_file(lks_store *st, const lks_pq_schema *ds, const char *path, const char *pval, const skrow *rows,
                      int n, const char *stats, lks_buf *log) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_pq_writer_opts wo;
    lks_pq_writer_opts_default(&wo);
    wo.row_group_rows = 2; /* several row groups */
    lks_pq_writer *w = NULL;
    lks_err err;
    if (lks_pq_writer_open(ds, &wo, lks_pq_sink_buf, &b, &w, &err) != LKS_OK)
        return -1;
    for (int i = 0; i < n; i++) {
        lks_pq_value items[3];
        memset(items, 0, sizeof items);
        items[0].kind = LKS_PQ_V_INT64, items[0].u.i64 = rows[i].id;
        if (rows[i].name) {
            items[1].kind = LKS_PQ_V_BYTES;
            items[1].u.bytes.ptr = (const uint8_t *)rows[i].name;
            items[1].u.bytes.len = strlen(rows[i].name);
        }
        items[2].kind = LKS_PQ_V_INT64, items[2].u.i64 = rows[i].ts;
        lks_pq_value row = {.kind = LKS_PQ_V_GROUP};
        row.u.list.items = items;
        row.u.list.n = 3;
        if (lks_pq_write_row(w, &row, &err) != LKS_OK)
            return -1;
    }
    if (lks_pq_writer_close(w, &err) != LKS_OK)
        return -1;
    lks_pq_writer_free(w);
    char key[256];
    snprintf(key, sizeof key, "t/%s", path);
    if (lks_store_put(st, key, b.ptr, b.len, &err) != LKS_OK)
        return -1;
    json_t *pv = json_object();
    json_object_set_new(pv, "p", pval ? json_string(pval) : json_null());
    json_t *add = json_pack("{s:s, s:o, s:I, s:I, s:b}", "path", path, "partitionValues", pv, "size",
                            (json_int_t)b.len, "modificationTime", (json_int_t)0, "dataChange", 1);
    if (stats)
        json_object_set_new(add, "stats", json_string(stats));
    json_t *line = json_pack("{s:o}", "add", add);
    char *txt = json_dumps(line, JSON_COMPACT);
    lks_buf_printf(log, "%s\n", txt);
    free(txt);
    json_decref(line);
    lks_buf_free(&b);
    return 0;
}

static int64_t ts_us(const char *s) {
    int64_t us = 0;
    lks_parse_timestamp_us(s, strlen(s), &us);
    return us;
}

static void scan_count(lks_delta_table *t, const lks_delta_snapshot *snap, const lks_delta_pred *preds, int np,
                       size_t *skipped, size_t *read, int *rows) {
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    o.preds = preds;
    o.npreds = np;
    lks_delta_scan *sc = NULL;
    lks_err err;
    *rows = -1;
    CHECK_OK(lks_delta_scan_open(t, snap, &o, &sc, &err), &err);
    if (!sc)
        return;
    const lks_pq_value *row;
    int n = 0, rc;
    while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1)
        n++;
    CHECK_OK(rc, &err);
    lks_delta_scan_counts(sc, skipped, read);
    lks_delta_scan_free(sc);
    *rows = n;
}

static void t_skipping(void) {
    char dir[64];
    lks_store *st = tmp_store(dir, sizeof dir);
    REQUIRE(st);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_type *droot = NULL;
    lks_pq_schema *ds = NULL;
    REQUIRE(lks_delta_schema_parse(sk_data_schema, strlen(sk_data_schema), &a, &droot, &err) == LKS_OK);
    REQUIRE(lks_delta_schema_to_parquet(droot, 0, &ds, &err) == LKS_OK);
    lks_buf log;
    lks_buf_init(&log, 0);
    lks_buf_printf(&log, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
    json_t *md = json_pack("{s:{s:s, s:{s:s, s:{}}, s:s, s:[s], s:{}, s:I}}", "metaData", "id", "skip-test", "format",
                           "provider", "parquet", "options", "schemaString", sk_schema, "partitionColumns", "p",
                           "configuration", "createdTime", (json_int_t)0);
    char *mdt = json_dumps(md, JSON_COMPACT);
    lks_buf_printf(&log, "%s\n", mdt);
    free(mdt);
    json_decref(md);
    int64_t t0 = ts_us("2021-01-01T00:00:00Z");
    skrow f1[] = {{1, "apple", t0}, {2, "banana", t0 + 5000}, {3, "cherry", t0 + 123456}};
    skrow f2[] = {{10, NULL, t0}, {11, NULL, t0}, {12, NULL, t0}};
    skrow f3[] = {{20, "x", t0}, {21, "y", t0}};
    skrow f4[] = {{30, "a", t0}, {31, LONGNAME, t0}};
    REQUIRE(write_file(st, ds, "p=a/f1.parquet", "a", f1, 3,
                       "{\"numRecords\":3,\"minValues\":{\"id\":1,\"name\":\"apple\",\"ts\":\"2021-01-01T00:00:00.000Z\"},"
                       "\"maxValues\":{\"id\":3,\"name\":\"cherry\",\"ts\":\"2021-01-01T00:00:00.123Z\"},"
                       "\"nullCount\":{\"id\":0,\"name\":0,\"ts\":0}}",
                       &log) == 0);
    REQUIRE(write_file(st, ds, "p=b/f2.parquet", "b", f2, 3,
                       "{\"numRecords\":3,\"minValues\":{\"id\":10,\"ts\":\"2021-01-01T00:00:00.000Z\"},"
                       "\"maxValues\":{\"id\":12,\"ts\":\"2021-01-01T00:00:00.000Z\"},"
                       "\"nullCount\":{\"id\":0,\"name\":3,\"ts\":0}}",
                       &log) == 0);
    REQUIRE(write_file(st, ds, "p=__HIVE_DEFAULT_PARTITION__/f3.parquet", NULL, f3, 2, NULL, &log) == 0);
    REQUIRE(write_file(st, ds, "p=c/f4.parquet", "c", f4, 2,
                       "{\"numRecords\":2,\"minValues\":{\"id\":30,\"name\":\"a\"},"
                       "\"maxValues\":{\"id\":31,\"name\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"},"
                       "\"nullCount\":{\"id\":0,\"name\":0}}",
                       &log) == 0);
    CHECK_OK(lks_store_put(st, "t/_delta_log/00000000000000000000.json", log.ptr, log.len, &err), &err);
    lks_delta_table *t = NULL;
    lks_delta_snapshot *snap = NULL;
    CHECK_OK(lks_delta_table_open(st, "t", &t, &err), &err);
    CHECK_OK(lks_delta_snapshot_latest(t, &snap, &err), &err);
    REQUIRE(snap);
    REQUIRE(snap->nfiles == 4);
    size_t sk, rd;
    int rows;
    /* no predicates: everything */
    scan_count(t, snap, NULL, 0, &sk, &rd, &rows);
    CHECK_EQ_INT(rows, 10);
    CHECK_EQ_INT(sk, 0);
    CHECK_EQ_INT(rd, 4);
    /* partition value */
    lks_delta_pred p1 = {"p", LKS_DELTA_EQ, {.kind = LKS_PQ_V_BYTES}};
    p1.value.u.bytes.ptr = (const uint8_t *)"a";
    p1.value.u.bytes.len = 1;
    scan_count(t, snap, &p1, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(rows, 3);
    CHECK_EQ_INT(sk, 3);
    lks_delta_pred p2 = {"p", LKS_DELTA_IS_NULL, {.kind = LKS_PQ_V_NULL}};
    scan_count(t, snap, &p2, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(rows, 2);
    CHECK_EQ_INT(rd, 1);
    /* integer stats: f1 (max 3) skipped, f3 has no stats */
    lks_delta_pred p3 = {"id", LKS_DELTA_GT, {.kind = LKS_PQ_V_INT64, .u.i64 = 11}};
    scan_count(t, snap, &p3, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 1);
    CHECK_EQ_INT(rd, 3);
    lks_delta_pred p4 = {"id", LKS_DELTA_EQ, {.kind = LKS_PQ_V_INT64, .u.i64 = 5}};
    scan_count(t, snap, &p4, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 3);
    CHECK_EQ_INT(rd, 1);
    CHECK_EQ_INT(rows, 0); /* f3's one row group skipped by its Parquet stats */
    /* id <= 1: only f1 and f3 */
    lks_delta_pred p5 = {"id", LKS_DELTA_LE, {.kind = LKS_PQ_V_INT64, .u.i64 = 1}};
    scan_count(t, snap, &p5, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 2);
    /* row groups of 2 rows: f1's second row group (id 3) is skipped by
     * Parquet stats, and so is f3's only one */
    CHECK_EQ_INT(rows, 2);
    /* a truncated string max must not skip f4, whose real max is longer */
    lks_delta_pred p6 = {"name", LKS_DELTA_EQ, {.kind = LKS_PQ_V_BYTES}};
    p6.value.u.bytes.ptr = (const uint8_t *)LONGNAME;
    p6.value.u.bytes.len = strlen(LONGNAME);
    scan_count(t, snap, &p6, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 2); /* f1 (max cherry), f2 (all null) */
    CHECK_EQ_INT(rd, 2); /* f3, f4 */
    /* a timestamp max truncated to ms: .123 covers .123456 */
    lks_delta_pred p7 = {"ts", LKS_DELTA_GE, {.kind = LKS_PQ_V_INT64, .u.i64 = t0 + 123400}};
    lks_delta_pred p8 = {"p", LKS_DELTA_EQ, {.kind = LKS_PQ_V_BYTES}};
    p8.value.u.bytes.ptr = (const uint8_t *)"a";
    p8.value.u.bytes.len = 1;
    lks_delta_pred both[2] = {p7, p8};
    scan_count(t, snap, both, 2, &sk, &rd, &rows);
    CHECK_EQ_INT(rd, 1);
    lks_delta_pred p9 = {"ts", LKS_DELTA_GT, {.kind = LKS_PQ_V_INT64, .u.i64 = t0 + 124000}};
    both[0] = p9;
    scan_count(t, snap, both, 2, &sk, &rd, &rows);
    CHECK_EQ_INT(rd, 0);
    CHECK_EQ_INT(rows, 0);
    /* NOT NULL on a column that is all null in f2 */
    lks_delta_pred p10 = {"name", LKS_DELTA_NOT_NULL, {.kind = LKS_PQ_V_NULL}};
    scan_count(t, snap, &p10, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 1);
    /* IS NULL: files with nullCount 0 skipped (f1, f4); f3 unknown */
    lks_delta_pred p11 = {"name", LKS_DELTA_IS_NULL, {.kind = LKS_PQ_V_NULL}};
    scan_count(t, snap, &p11, 1, &sk, &rd, &rows);
    CHECK_EQ_INT(sk, 2);
    /* projection: unselected columns come back NULL; partition filled */
    const char *cols[] = {"p", "name"};
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    o.columns = cols;
    o.ncolumns = 2;
    o.preds = &p1;
    o.npreds = 1;
    lks_delta_scan *sc = NULL;
    CHECK_OK(lks_delta_scan_open(t, snap, &o, &sc, &err), &err);
    if (sc) {
        const lks_pq_value *row;
        lks_buf b;
        lks_buf_init(&b, 0);
        int rc = lks_delta_scan_next(sc, &row, &err);
        CHECK_EQ_INT(rc, 1);
        if (rc == 1) {
            CHECK_OK(lks_pq_value_to_json(&b, lks_delta_scan_schema(sc), 0, row), (lks_err *)NULL);
            lks_buf_cstr(&b);
            CHECK_EQ_STR((const char *)b.ptr, "{\"id\":null,\"name\":\"apple\",\"ts\":null,\"p\":\"a\"}");
        }
        lks_buf_free(&b);
        lks_delta_scan_free(sc);
    }
    /* bad arguments */
    const char *bad[] = {"nope"};
    o.columns = bad;
    o.ncolumns = 1;
    CHECK_EQ_INT(lks_delta_scan_open(t, snap, &o, &sc, &err), LKS_EINVAL);
    CHECK(strstr(err.msg, "nope") != NULL);
    /* a missing data file is named */
    CHECK_OK(lks_store_delete(st, "t/p=c/f4.parquet", &err), &err);
    lks_delta_pred p12 = {"p", LKS_DELTA_EQ, {.kind = LKS_PQ_V_BYTES}};
    p12.value.u.bytes.ptr = (const uint8_t *)"c";
    p12.value.u.bytes.len = 1;
    o.columns = NULL;
    o.preds = &p12;
    CHECK_OK(lks_delta_scan_open(t, snap, &o, &sc, &err), &err);
    if (sc) {
        const lks_pq_value *row;
        CHECK_EQ_INT(lks_delta_scan_next(sc, &row, &err), LKS_ENOTFOUND);
        CHECK(strstr(err.msg, "f4.parquet") != NULL);
        lks_delta_scan_free(sc);
    }
    lks_delta_snapshot_free(snap);
    lks_delta_table_close(t);
    lks_buf_free(&log);
    lks_pq_schema_free(ds);
    lks_arena_free(&a);
    lks_store_close(st);
    rm_rf(dir);
}

/* Deletion vectors index rows by their position in the file, also when
 * row groups before them are skipped. */
static void t_scan_dv_rowgroups(void) {
    char dir[64];
    lks_store *st = tmp_store(dir, sizeof dir);
    REQUIRE(st);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_type *droot = NULL;
    lks_pq_schema *ds = NULL;
    REQUIRE(lks_delta_schema_parse(sk_data_schema, strlen(sk_data_schema), &a, &droot, &err) == LKS_OK);
    REQUIRE(lks_delta_schema_to_parquet(droot, 0, &ds, &err) == LKS_OK);
    lks_buf log;
    lks_buf_init(&log, 0);
    lks_buf_printf(&log, "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
                         "[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n");
    json_t *md = json_pack("{s:{s:s, s:{s:s, s:{}}, s:s, s:[], s:{}, s:I}}", "metaData", "id", "dv-test", "format",
                           "provider", "parquet", "options", "schemaString", sk_data_schema, "partitionColumns",
                           "configuration", "createdTime", (json_int_t)0);
    char *mdt = json_dumps(md, JSON_COMPACT);
    lks_buf_printf(&log, "%s\n", mdt);
    free(mdt);
    json_decref(md);
    skrow rows[6] = {{0, "a", 0}, {1, "b", 0}, {2, "c", 0}, {3, "d", 0}, {4, "e", 0}, {5, "f", 0}};
    lks_buf add;
    lks_buf_init(&add, 0);
    /* write_file emits the add line; we splice a deletionVector into it */
    REQUIRE(write_file(st, ds, "f.parquet", NULL, rows, 6, "{\"numRecords\":6}", &add) == 0);
    static const uint64_t del[] = {1, 4};
    lks_buf bm, f;
    lks_buf_init(&bm, 0);
    lks_buf_init(&f, 0);
    REQUIRE(lks_delta_dv_serialize(del, 2, &bm) == LKS_OK);
    dv_file(&f, bm.ptr, bm.len);
    CHECK_OK(lks_store_put(st, "t/deletion_vector_00000000-0000-0000-0000-000000000001.bin", f.ptr, f.len, &err),
             &err);
    static const uint8_t uuid[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    lks_buf z;
    lks_buf_init(&z, 0);
    lks_delta_z85_encode(&z, uuid, 16);
    lks_buf_cstr(&z);
    json_error_t je;
    json_t *line = json_loadb((const char *)add.ptr, add.len, 0, &je);
    REQUIRE(line);
    json_t *dv = json_pack("{s:s, s:s, s:i, s:i, s:i}", "storageType", "u", "pathOrInlineDv", (const char *)z.ptr,
                           "offset", 1, "sizeInBytes", (int)bm.len, "cardinality", 2);
    json_object_set_new(json_object_get(line, "add"), "deletionVector", dv);
    char *txt = json_dumps(line, JSON_COMPACT);
    lks_buf_printf(&log, "%s\n", txt);
    free(txt);
    json_decref(line);
    CHECK_OK(lks_store_put(st, "t/_delta_log/00000000000000000000.json", log.ptr, log.len, &err), &err);
    lks_delta_table *t = NULL;
    lks_delta_snapshot *snap = NULL;
    CHECK_OK(lks_delta_table_open(st, "t", &t, &err), &err);
    CHECK_OK(lks_delta_snapshot_latest(t, &snap, &err), &err);
    REQUIRE(snap && snap->nfiles == 1 && snap->files[0].has_dv);
    static const struct {
        int64_t ge; /* id >= ge; -1: no predicate */
        int keep;
        const char *want;
    } cases[] = {
        {-1, 0, "0,2,3,5,"}, {-1, 1, "0,1,2,3,4,5,"}, {4, 0, "5,"}, {2, 0, "2,3,5,"}, {4, 1, "4,5,"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_delta_pred p = {"id", LKS_DELTA_GE, {.kind = LKS_PQ_V_INT64, .u.i64 = cases[i].ge}};
        lks_delta_scan_opts o;
        memset(&o, 0, sizeof o);
        o.keep_deleted = cases[i].keep;
        if (cases[i].ge >= 0)
            o.preds = &p, o.npreds = 1;
        lks_delta_scan *sc = NULL;
        CHECK_OK(lks_delta_scan_open(t, snap, &o, &sc, &err), &err);
        if (!sc)
            continue;
        char got[64] = "";
        const lks_pq_value *row;
        int rc;
        while ((rc = lks_delta_scan_next(sc, &row, &err)) == 1)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%lld,", (long long)row->u.list.items[0].u.i64);
        CHECK_OK(rc, &err);
        if (strcmp(got, cases[i].want) != 0)
            FAILF("id >= %lld keep %d: got %s want %s", (long long)cases[i].ge, cases[i].keep, got, cases[i].want);
        lks_delta_scan_free(sc);
    }
    /* a corrupt DV file fails the scan, naming the data file */
    f.ptr[f.len - 1] ^= 1;
    CHECK_OK(lks_store_put(st, "t/deletion_vector_00000000-0000-0000-0000-000000000001.bin", f.ptr, f.len, &err),
             &err);
    lks_delta_scan *sc = NULL;
    CHECK_OK(lks_delta_scan_open(t, snap, NULL, &sc, &err), &err);
    if (sc) {
        const lks_pq_value *row;
        CHECK_EQ_INT(lks_delta_scan_next(sc, &row, &err), LKS_ECHECKSUM);
        CHECK(strstr(err.msg, "f.parquet") != NULL);
        lks_delta_scan_free(sc);
    }
    lks_delta_snapshot_free(snap);
    lks_delta_table_close(t);
    lks_buf_free(&z);
    lks_buf_free(&f);
    lks_buf_free(&bm);
    lks_buf_free(&add);
    lks_buf_free(&log);
    lks_pq_schema_free(ds);
    lks_arena_free(&a);
    lks_store_close(st);
    rm_rf(dir);
}

/* ---- batches against rows ------------------------------------------------------------------ */

/* Appends "file@row:" and the JSON of each selected column of one row. */
static void render_row(lks_buf *out, const lks_pq_schema *rs, const lks_delta_type *root, const uint8_t *sel,
                       const char *file, int64_t ri, const lks_pq_value *const *vals) {
    lks_buf_printf(out, "%s@%lld:", file ? file : "?", (long long)ri);
    for (int k = 0, g = 1; k < root->nchildren; k++, g = lks_pq_schema_subtree_end(rs, g)) {
        if (!sel[k])
            continue;
        lks_buf_append_byte(out, '|');
        if (lks_pq_value_to_json(out, rs, g, vals[k]) != LKS_OK)
            lks_buf_printf(out, "(unprintable)");
    }
    lks_buf_append_byte(out, '\n');
}

/* Renders a scan of columns sel (NULL: all) row by row (batches 0) or in
 * batches into out.  *prev: the last batch scan, whose memory the next
 * one takes (and which is freed then).  LKS status back. */
static int render_scan(lks_delta_table *t, const lks_delta_snapshot *s, const uint8_t *sel, int batches,
                       lks_delta_scan **prev, lks_buf *out, lks_err *err) {
    const lks_delta_type *root = s->metadata.schema;
    const char *names[256];
    int n = 0;
    for (int k = 0; k < root->nchildren && n < 256; k++)
        if (sel[k])
            names[n++] = root->children[k].name;
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    o.columns = names;
    o.ncolumns = n;
    lks_delta_scan *sc = NULL;
    int rc = lks_delta_scan_open(t, s, &o, &sc, err);
    if (rc != LKS_OK)
        return rc;
    const lks_pq_schema *rs = lks_delta_scan_schema(sc);
    if (!batches) {
        const lks_pq_value *row;
        const lks_pq_value *vals[256];
        while ((rc = lks_delta_scan_next(sc, &row, err)) == 1) {
            const lks_delta_add *file;
            int64_t ri;
            lks_delta_scan_position(sc, &file, &ri);
            for (int k = 0; k < root->nchildren && k < 256; k++)
                vals[k] = &row->u.list.items[k];
            render_row(out, rs, root, sel, file ? file->path : NULL, ri, vals);
        }
        lks_delta_scan_free(sc);
        return rc < 0 ? rc : LKS_OK;
    }
    if (*prev) {
        lks_delta_scan_take_buffers(sc, *prev);
        lks_delta_scan_free(*prev);
        *prev = NULL;
    }
    const lks_delta_batch *b;
    const lks_pq_value *vals[256];
    while ((rc = lks_delta_scan_next_batch(sc, &b, err)) == 1) {
        for (int k = 0; k < root->nchildren && k < 256; k++)
            if (sel[k] && !b->cols[k])
                return lks_err_set(err, LKS_EINTERNAL, "batch without selected column %d", k);
        for (size_t i = 0; i < b->n; i++) {
            for (int k = 0; k < root->nchildren && k < 256; k++)
                vals[k] = sel[k] ? &b->cols[k][i] : NULL;
            render_row(out, rs, root, sel, b->file ? b->file->path : NULL, b->row_index[i], vals);
        }
    }
    *prev = sc;
    return rc < 0 ? rc : LKS_OK;
}

/* Every readable corpus table, all its columns and each column alone: the
 * batches hold the rows lks_delta_scan_next gives, in order, at the same
 * file positions; a batch scan taking the memory of the one before reads
 * the same. */
static void t_batches_match_rows(void) {
    const char *corpus = lks_test_corpus();
    if (!corpus)
        SKIP("no corpus");
    char root[4200];
    snprintf(root, sizeof root, "%s/delta", corpus);
    DIR *d = opendir(root);
    if (!d)
        SKIP("no delta corpus");
    struct dirent *de;
    int tables = 0, scans = 0, failed = 0;
    lks_delta_scan *prev = NULL;
    lks_buf a, b;
    lks_buf_init(&a, 0);
    lks_buf_init(&b, 0);
    while ((de = readdir(d)) != NULL) {
        char dir[4600];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/%s/delta", root, de->d_name);
        if (de->d_name[0] == '.' || stat(dir, &sb) != 0)
            continue;
        lks_err err;
        lks_store *st = NULL;
        lks_delta_table *t = NULL;
        lks_delta_snapshot *s = NULL;
        if (lks_store_open(dir, &st, &err) == LKS_OK && lks_delta_table_open(st, "", &t, &err) == LKS_OK &&
            lks_delta_snapshot_latest(t, &s, &err) == LKS_OK && s->metadata.schema &&
            s->metadata.schema->nchildren <= 256) {
            int nc = s->metadata.schema->nchildren;
            uint8_t sel[256];
            tables++;
            for (int one = -1; one < nc && failed < 5; one++) {
                for (int k = 0; k < nc; k++)
                    sel[k] = one < 0 || k == one;
                lks_buf_reset(&a);
                lks_buf_reset(&b);
                lks_err e1, e2;
                int r1 = render_scan(t, s, sel, 0, &prev, &a, &e1);
                int r2 = render_scan(t, s, sel, 1, &prev, &b, &e2);
                scans++;
                if (r1 != r2 || (r1 == LKS_OK && (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0))) {
                    FAILF("%s column %d: rows (%d %s) and batches (%d %s) differ", de->d_name, one, r1,
                          r1 ? e1.msg : "", r2, r2 ? e2.msg : "");
                    failed++;
                }
            }
        }
        lks_delta_snapshot_free(s);
        lks_delta_table_close(t);
        lks_store_close(st);
    }
    closedir(d);
    lks_delta_scan_free(prev);
    lks_buf_free(&a);
    lks_buf_free(&b);
    printf("# %d corpus tables, %d projections read the same both ways\n", tables, scans - failed);
    CHECK(tables > 50);
    CHECK_EQ_INT(failed, 0);
}

int main(void) {
    RUN(t_z85_known);
    RUN(t_z85_hostile);
    RUN(t_dv_inline_example);
    RUN(t_dv_serialize_roundtrip);
    RUN(t_dv_parse_hostile);
    RUN(t_dv_files_hostile);
    RUN(t_dv_corpus);
    RUN(t_partition_values);
    RUN(t_skipping);
    RUN(t_scan_dv_rowgroups);
    RUN(t_batches_match_rows);
    return lks_test_done();
}
