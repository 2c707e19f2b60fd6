/* buf.c — bounded growable byte buffer (frees itself on failure). */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lks_buf_init(lks_buf *b, size_t max) {
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : LKS_BUF_MAX_DEFAULT;
}

void lks_buf_free(lks_buf *b) {
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void lks_buf_reset(lks_buf *b) { b->len = 0; }

int lks_buf__grow(lks_buf *b, size_t extra) {
    /* keep one byte for lks_buf_cstr; len never exceeds max */
    if (b->cap - b->len > extra && b->max - b->len >= extra)
        return LKS_OK;
    if (extra > b->max || b->len > b->max - extra || extra >= SIZE_MAX - b->len) {
        lks_buf_free(b);
        return LKS_ELIMIT;
    }
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->ptr, cap);
    if (!p) {
        lks_buf_free(b);
        return LKS_ENOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return LKS_OK;
}

int lks_buf_printf(lks_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LKS_EINVAL;
    int rc = lks_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LKS_OK;
}

int lks_buf_cstr(lks_buf *b) {
    int rc = lks_buf_reserve(b, 0);
    if (rc)
        return rc;
    b->ptr[b->len] = 0;
    return LKS_OK;
}

uint8_t *lks_buf_detach(lks_buf *b, size_t *len) {
    uint8_t *p = b->ptr;
    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
