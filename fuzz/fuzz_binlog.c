/*
 * fuzz_binlog.c — libFuzzer target for the binlog decoder (source/binlog.h).
 * Every input is decoded three ways: as a whole binlog file
 * (lks_binlog_decode_file, truncated tail refused and allowed; and the same
 * through lks_binlog_decode_stream in small pieces, which must give the
 * same status and message), and as the events that follow a built-in
 * MySQL 8 and MariaDB format description (so mutations need not rebuild
 * one to reach table maps and rows).  A callback reads every byte of
 * every item it gets, so a value pointing outside live memory is caught by
 * ASan.  The decoder must answer with a
 * status code: a status outside the documented set, or an error without a
 * message naming where, is a bug (abort).
 *
 *   make build/fuzz/fuzz_binlog
 *   build/fuzz/fuzz_binlog -malloc_limit_mb=512 -max_len=65536 CORPUS_DIR fuzz/seeds_binlog
 *
 * Seeds (fuzz/seeds_binlog/) are small binlogs written by a MariaDB server
 * and by the unit tests' event builder.  Crashes found are kept, minimised,
 * in fuzz/crashes_binlog/ and replayed by tests/scenario/fuzz_binlog.sh.
 */
#include "source/binlog.h"
#include "touch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_item(void *ud, const lks_binlog_item *it, lks_err *err) {
    (void)ud, (void)err;
    touch_str(it->server_version);
    touch_str(it->rotate_file);
    touch_str(it->gtid);
    touch_str(it->db);
    touch_str(it->sql);
    if (it->table) {
        const lks_binlog_table *t = it->table;
        touch_str(t->db);
        touch_str(t->table);
        if (t->schema.nfields != t->ncols && t->ncols)
            abort();
        for (int i = 0; i < t->schema.nfields; i++) {
            touch_str(t->schema.fields[i].name);
            touch_str(t->schema.fields[i].allowed);
        }
        for (int k = 0; k < t->nkey; k++)
            if (t->key[k] < 0 || t->key[k] >= t->ncols)
                abort();
    }
    for (int e = 0; e < it->nevents; e++) {
        const lks_cdc_event *ev = &it->events[e];
        touch_str(ev->source.file);
        touch_str(ev->source.gtid);
        touch_rows(ev);
    }
    return 0;
}

static void check(int rc, const lks_err *err) {
    if (rc == LKS_OK)
        return;
    if (rc != LKS_ECORRUPT && rc != LKS_EUNSUPPORTED && rc != LKS_ENOMEM) {
        fprintf(stderr, "binlog exercise: unexpected status %d: %s\n", rc, err->msg);
        abort();
    }
    if (!err->msg[0]) {
        fprintf(stderr, "binlog exercise: status %d without a message\n", rc);
        abort();
    }
}

/* A format description event: binlog v4, the version string, 19-byte
 * headers, post-header lengths, checksum algorithm none. */
static size_t make_fde(uint8_t *out, const char *version, int ntypes) {
    size_t n = 0;
    memset(out, 0, 19);
    out[4] = LKS_BLE_FORMAT_DESCRIPTION;
    n = 19;
    out[n++] = 4, out[n++] = 0;
    memset(out + n, 0, 50);
    memcpy(out + n, version, strlen(version));
    n += 50;
    memset(out + n, 0, 4), n += 4;
    out[n++] = 19;
    uint8_t post[171] = {0};
    post[LKS_BLE_QUERY - 1] = 13;
    post[LKS_BLE_ROTATE - 1] = 8;
    post[LKS_BLE_TABLE_MAP - 1] = 8;
    for (int t = 23; t <= 25; t++)
        post[t - 1] = 8;
    for (int t = 30; t <= 32; t++)
        post[t - 1] = 10;
    post[LKS_BLE_PARTIAL_UPDATE_ROWS - 1] = 10;
    for (int t = 166; t <= 168; t++)
        post[t - 1] = 8;
    post[LKS_BLE_MARIA_QUERY_COMPRESSED - 1] = 13;
    memcpy(out + n, post, (size_t)ntypes);
    n += (size_t)ntypes;
    out[n++] = 0;                  /* checksum algorithm: none */
    memset(out + n, 0, 4), n += 4; /* its (unchecked) checksum field */
    out[9] = (uint8_t)n;
    return n;
}

/* The file handed over in pieces of 1 to 16 bytes or up to 4 KiB. */
typedef struct pieces {
    const uint8_t *p;
    size_t n, at;
    uint32_t x;
} pieces;

static long read_pieces(void *ud, uint8_t *buf, size_t cap, lks_err *err) {
    (void)err;
    pieces *r = ud;
    r->x = r->x * 1103515245u + 12345u;
    size_t k = 1 + (r->x >> 16) % (r->x >> 31 ? 16 : 4096);
    k = k < cap ? k : cap;
    k = k < r->n - r->at ? k : r->n - r->at;
    memcpy(buf, r->p + r->at, k);
    r->at += k;
    return (long)k;
}

static void decode_file(const uint8_t *data, size_t size, int tail, int also_in_pieces) {
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    o.max_event_bytes = 1 << 20;
    lks_binlog_decoder *d;
    lks_err err, serr;
    lks_err_clear(&err);
    lks_err_clear(&serr);
    if (lks_binlog_decoder_new(&o, &d, &err) != LKS_OK)
        abort();
    int rc = lks_binlog_decode_file(d, "fuzz-bin.000001", data, size, tail, on_item, NULL, &err);
    check(rc, &err);
    lks_binlog_decoder_free(d);
    if (!also_in_pieces)
        return;
    /* read piece by piece, the same file decodes the same way */
    if (lks_binlog_decoder_new(&o, &d, &serr) != LKS_OK)
        abort();
    pieces pc = {data, size, 0, (uint32_t)size};
    int src = lks_binlog_decode_stream(d, "fuzz-bin.000001", read_pieces, &pc, tail, on_item, NULL, &serr);
    check(src, &serr);
    lks_binlog_decoder_free(d);
    if (src != rc || strcmp(serr.msg, err.msg) != 0) {
        fprintf(stderr, "binlog exercise: whole %d \"%s\", in pieces %d \"%s\"\n", rc, err.msg, src, serr.msg);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    decode_file(data, size, 0, 1);
    decode_file(data, size, 1, 1);
    /* the input as events after a format description of each flavour */
    if (size >= 4 && memcmp(data,
                            "\xfe"
                            "bin",
                            4) == 0)
        data += 4, size -= 4;
    for (int maria = 0; maria < 2; maria++) {
        uint8_t *buf = malloc(4 + 512 + size);
        if (!buf)
            return 0;
        memcpy(buf,
               "\xfe"
               "bin",
               4);
        size_t n = 4 + make_fde(buf + 4, maria ? "10.11.6-MariaDB-log" : "8.0.36", maria ? 171 : 42);
        memcpy(buf + n, data, size);
        decode_file(buf, n + size, 1, 0);
        free(buf);
    }
    return 0;
}
