/*
 * fuzz_dbz.c — libFuzzer target for the Debezium JSON reader (cdc/cdc.h).
 * An input is a stream of records, one per line, parsed in order by one
 * parser, so that its caches come into play as they do in a merge: the
 * envelope schemas it keeps, the source block it keeps (a repeat becomes
 * one opaque token), and the hint that bare rows decode with first.  Each
 * line goes through three parsers: without a hint, with a hint of the
 * first event's schema (string decimals, hex binary), and as a key
 * document.  Every byte of every event is read, so a value pointing
 * outside live memory is caught by ASan; an event that parses is written
 * back (lks_dbz_write) and must parse again.  The reader must answer with
 * a documented status and a message: anything else is a bug (abort).
 *
 *   make build/fuzz/fuzz_dbz
 *   build/fuzz/fuzz_dbz -malloc_limit_mb=512 -max_len=65536 CORPUS_DIR fuzz/seeds_dbz
 *
 * Seeds (fuzz/seeds_dbz/) are small streams written for this target.
 * Crashes found are kept, minimised, in fuzz/crashes_dbz/ and replayed by
 * tests/scenario/fuzz_dbz.sh.
 */
#include "cdc/cdc.h"
#include "touch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_event(const lks_cdc_event *ev) {
    touch_str(ev->source.connector), touch_str(ev->source.name), touch_str(ev->source.db);
    touch_str(ev->source.table), touch_str(ev->source.gtid), touch_str(ev->source.file);
    if (!ev->schema) {
        if (ev->op != 't')
            abort();
        return;
    }
    for (int i = 0; i < ev->schema->nfields; i++) {
        touch_str(ev->schema->fields[i].name);
        touch_str(ev->schema->fields[i].allowed);
    }
    for (int k = 0; k < ev->nkey; k++)
        if (ev->key[k] < 0 || ev->key[k] >= ev->schema->nfields)
            abort();
    touch_rows(ev);
}

static void check(const char *what, int rc, const lks_err *err) {
    if (rc >= 0)
        return;
    if (rc != LKS_ECORRUPT && rc != LKS_EINVAL && rc != LKS_EUNSUPPORTED && rc != LKS_ENOMEM && rc != LKS_ELIMIT) {
        fprintf(stderr, "dbz exercise: %s: unexpected status %d: %s\n", what, rc, err->msg);
        abort();
    }
    if (!err->msg[0]) {
        fprintf(stderr, "dbz exercise: %s: status %d without a message\n", what, rc);
        abort();
    }
}

/* Writes ev back and parses the result with a parser of the same modes:
 * what the writer makes, the reader takes. */
static void roundtrip(const lks_cdc_event *ev, const lks_dbz_opts *po, const char *dec) {
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_err err;
    lks_err_clear(&err);
    lks_dbz_write_opts wo = {1, dec, NULL, po ? po->binary_handling_mode : NULL};
    int rc = lks_dbz_write(&b, ev, &wo, &err);
    check("write", rc, &err);
    if (rc == LKS_OK) {
        lks_dbz_parser *p = NULL;
        if (lks_dbz_parser_new(po, &p, &err) != LKS_OK)
            abort();
        lks_arena a;
        lks_arena_init(&a, 0);
        lks_cdc_event e2;
        rc = lks_dbz_parse(p, (const char *)b.ptr, b.len, &a, &e2, NULL, &err);
        if (rc != 1) {
            fprintf(stderr, "dbz exercise: the writer's record does not parse (%d): %s\n%.*s\n", rc, err.msg,
                    (int)(b.len > 2000 ? 2000 : b.len), (const char *)b.ptr);
            abort();
        }
        touch_event(&e2);
        lks_arena_free(&a);
        lks_dbz_parser_free(p);
    }
    lks_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lks_err err;
    lks_dbz_parser *plain = NULL, *hinted = NULL, *keys = NULL;
    if (lks_dbz_parser_new(NULL, &plain, &err) != LKS_OK || lks_dbz_parser_new(NULL, &keys, &err) != LKS_OK)
        abort();
    lks_dbz_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.decimal_handling_mode = "string";
    ho.binary_handling_mode = "hex";
    lks_arena hint_mem; /* the hint's schema outlives the event it came from */
    lks_arena_init(&hint_mem, 0);
    lks_cdc_schema hint;
    const char *text = (const char *)data;
    size_t at = 0;
    for (int line = 0; at < size && line < 64; line++) {
        const char *nl = memchr(text + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : size - at;
        const char *doc = text + at;
        at += n + (nl != NULL);
        lks_arena a;
        lks_arena_init(&a, 0);
        lks_cdc_event ev;
        const char *what = NULL;
        lks_err_clear(&err);
        int rc = lks_dbz_parse(plain, doc, n, &a, &ev, &what, &err);
        check("parse", rc, &err);
        if (rc == 1) {
            touch_event(&ev);
            roundtrip(&ev, NULL, NULL);
            if (!hinted && ev.schema && ev.schema->nfields > 0) {
                /* the first event's columns become the hint of the second parser */
                hint.nfields = ev.schema->nfields;
                hint.fields = lks_arena_alloc(&hint_mem, (size_t)hint.nfields * sizeof *hint.fields);
                if (!hint.fields)
                    abort();
                for (int i = 0; i < hint.nfields; i++) {
                    hint.fields[i] = ev.schema->fields[i];
                    hint.fields[i].name = lks_arena_strdup(&hint_mem, ev.schema->fields[i].name);
                    hint.fields[i].allowed = ev.schema->fields[i].allowed
                                                 ? lks_arena_strdup(&hint_mem, ev.schema->fields[i].allowed)
                                                 : NULL;
                    if (!hint.fields[i].name)
                        abort();
                }
                ho.hint = &hint;
                rc = lks_dbz_parser_new(&ho, &hinted, &err);
                check("parser", rc, &err);
                if (rc < 0)
                    hinted = NULL;
            }
        } else if (rc == 0 && !what) {
            abort();
        }
        if (hinted) {
            lks_err_clear(&err);
            rc = lks_dbz_parse(hinted, doc, n, &a, &ev, NULL, &err);
            check("parse with a hint", rc, &err);
            if (rc == 1) {
                touch_event(&ev);
                roundtrip(&ev, &ho, "string");
            }
        }
        const char **names;
        lks_cdc_value *vals;
        lks_err_clear(&err);
        rc = lks_dbz_parse_key(keys, doc, n, &a, &names, &vals, &err);
        check("key", rc, &err);
        for (int i = 0; i < rc; i++) {
            touch_str(names[i]);
            touch_value(&vals[i]);
        }
        lks_arena_free(&a);
    }
    lks_dbz_parser_free(plain);
    lks_dbz_parser_free(hinted);
    lks_dbz_parser_free(keys);
    lks_arena_free(&hint_mem);
    return 0;
}
