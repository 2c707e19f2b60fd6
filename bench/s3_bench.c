/*
 * s3_bench.c — object-store throughput and commit latency through the store
 * interface (bench/s3.sh runs it against a local S3 server next to curl).
 *
 *   s3_bench LOCATION [OBJECT_MIB [NOBJECTS [NCOMMITS]]]   (16, 8, 50)
 *
 * Writes NOBJECTS objects of OBJECT_MIB random bytes (PUT; multipart above
 * the backend's threshold), reads them back whole (GET) and in 1 MiB ranges,
 * then times NCOMMITS put-if-absent writes of a 1 KiB commit file at
 * consecutive `_delta_log/NNN.json` keys — the step a Delta commit waits on
 * — and one refused put-if-absent per key afterwards.  Prints MiB/s and
 * latency percentiles; deletes what it wrote.
 */
#include "core/core.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double now_s(void) { return (double)lks_now_us() / 1e6; }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int die(const char *what, const lks_err *e) {
    fprintf(stderr, "s3_bench: %s: %s\n", what, e->msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: s3_bench LOCATION [OBJECT_MIB [NOBJECTS [NCOMMITS]]]\n");
        return 2;
    }
    const char *loc = argv[1];
    size_t mib = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 16;
    int nobj = argc > 3 ? atoi(argv[3]) : 8;
    int ncommit = argc > 4 ? atoi(argv[4]) : 50;
    if (mib < 1 || nobj < 1 || ncommit < 1) {
        fprintf(stderr, "s3_bench: sizes and counts must be positive\n");
        return 2;
    }
    lks_err e;
    lks_err_clear(&e);
    lks_store *st;
    if (lks_store_open(loc, &st, &e)) return die(loc, &e);
    size_t sz = mib << 20;
    uint8_t *data = malloc(sz);
    if (!data) return 1;
    lks_random_bytes(data, sz);
    char key[128];

    double t0 = now_s();
    for (int i = 0; i < nobj; i++) {
        snprintf(key, sizeof key, "bench/obj-%03d.bin", i);
        if (lks_store_put(st, key, data, sz, &e)) return die("put", &e);
    }
    double t_put = now_s() - t0;

    lks_buf b;
    lks_buf_init(&b, 0);
    t0 = now_s();
    for (int i = 0; i < nobj; i++) {
        snprintf(key, sizeof key, "bench/obj-%03d.bin", i);
        lks_buf_reset(&b);
        if (lks_store_get(st, key, &b, &e)) return die("get", &e);
        if (b.len != sz || memcmp(b.ptr, data, sz) != 0) {
            fprintf(stderr, "s3_bench: %s read back differently\n", key);
            return 1;
        }
    }
    double t_get = now_s() - t0;

    int nranges = 0;
    t0 = now_s();
    for (int i = 0; i < nobj; i++) {
        snprintf(key, sizeof key, "bench/obj-%03d.bin", i);
        for (size_t off = 0; off < sz; off += 1 << 20) {
            lks_buf_reset(&b);
            if (lks_store_get_range(st, key, off, 1 << 20, &b, &e)) return die("get range", &e);
            nranges++;
        }
    }
    double t_range = now_s() - t0;

    char commit[1024];
    memset(commit, ' ', sizeof commit);
    memcpy(commit, "{\"commitInfo\":{}}", 17);
    commit[sizeof commit - 1] = '\n';
    double *lat = calloc((size_t)ncommit, sizeof *lat), *ref = calloc((size_t)ncommit, sizeof *ref);
    if (!lat || !ref) return 1;
    for (int i = 0; i < ncommit; i++) {
        snprintf(key, sizeof key, "bench/_delta_log/%020d.json", i);
        double s = now_s();
        if (lks_store_put_if_absent(st, key, commit, sizeof commit, &e)) return die("put if absent", &e);
        lat[i] = (now_s() - s) * 1000;
    }
    for (int i = 0; i < ncommit; i++) {
        snprintf(key, sizeof key, "bench/_delta_log/%020d.json", i);
        double s = now_s();
        int rc = lks_store_put_if_absent(st, key, commit, sizeof commit, &e);
        ref[i] = (now_s() - s) * 1000;
        if (rc != LKS_EEXIST) {
            fprintf(stderr, "s3_bench: a second put-if-absent of %s was not refused (%d)\n", key, rc);
            return 1;
        }
        lks_err_clear(&e);
    }
    qsort(lat, (size_t)ncommit, sizeof *lat, cmp_d);
    qsort(ref, (size_t)ncommit, sizeof *ref, cmp_d);

    double mb = (double)nobj * (double)mib;
    printf("%-34s %10.1f MiB/s  (%d x %zu MiB in %.2f s)\n", "lakesync PUT", mb / t_put, nobj, mib, t_put);
    printf("%-34s %10.1f MiB/s  (%.2f s)\n", "lakesync GET", mb / t_get, t_get);
    printf("%-34s %10.1f MiB/s  (%d requests of 1 MiB, %.2f ms each)\n", "lakesync ranged GET", mb / t_range,
           nranges, t_range * 1000 / nranges);
    printf("%-34s p50 %.2f ms, p90 %.2f ms, max %.2f ms (%d commits of 1 KiB)\n", "lakesync commit (put-if-absent)",
           lat[ncommit / 2], lat[ncommit * 9 / 10], lat[ncommit - 1], ncommit);
    printf("%-34s p50 %.2f ms (the refusal a losing writer gets)\n", "lakesync refused commit", ref[ncommit / 2]);

    for (int i = 0; i < nobj; i++) {
        snprintf(key, sizeof key, "bench/obj-%03d.bin", i);
        lks_store_delete(st, key, &e);
    }
    for (int i = 0; i < ncommit; i++) {
        snprintf(key, sizeof key, "bench/_delta_log/%020d.json", i);
        lks_store_delete(st, key, &e);
    }
    free(lat);
    free(ref);
    lks_buf_free(&b);
    free(data);
    lks_store_close(st);
    return 0;
}
