/*
 * touch.h — what the fuzz targets of change events share: reading every
 * byte a decoded event points at (so ASan catches a pointer outside live
 * memory), a decimal's length checked against the model's bound.
 */
#ifndef LKS_FUZZ_TOUCH_H
#define LKS_FUZZ_TOUCH_H

#include "cdc/cdc.h"

#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink;

static void touch(const void *p, size_t n) {
    const uint8_t *q = p;
    uint64_t h = sink;
    for (size_t i = 0; i < n; i++)
        h = h * 31 + q[i];
    sink = h;
}

static void touch_str(const char *s) {
    if (s)
        touch(s, strlen(s) + 1);
}

static void touch_value(const lks_cdc_value *v) {
    switch (v->kind) {
    case LKS_CV_DECIMAL:
        if (v->u.dec.len < 1 || v->u.dec.len > 32)
            abort();
        touch(v->u.dec.be, v->u.dec.len);
        break;
    case LKS_CV_BYTES: touch(v->u.bytes.ptr, v->u.bytes.len); break;
    default: touch(&v->u, sizeof v->u); break;
    }
}

/* Every value of an event's before and after images, each image as long as
 * the event's schema. */
static void touch_rows(const lks_cdc_event *ev) {
    for (int img = 0; img < 2; img++) {
        const lks_cdc_row *r = img ? &ev->after : &ev->before;
        if (!(img ? ev->has_after : ev->has_before))
            continue;
        if (r->n != ev->schema->nfields)
            abort();
        for (int i = 0; i < r->n; i++)
            touch_value(&r->v[i]);
    }
}

#endif
