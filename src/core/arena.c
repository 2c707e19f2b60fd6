/* arena.c — bump allocator for per-file and per-commit lifetimes. */
#include "core/core.h"
#include <malloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct lks_arena_block {
    lks_arena_block *next;
    size_t size, used;
    _Alignas(16) uint8_t data[];
};

#define ARENA_MIN_BLOCK ((size_t)16 << 10)
#define ARENA_MAX_BLOCK ((size_t)4 << 20)

void lks_arena_init(lks_arena *a, size_t max) {
    a->head = NULL;
    a->used_total = 0;
    a->max = max ? max : LKS_BUF_MAX_DEFAULT;
    a->block_size = ARENA_MIN_BLOCK;
}

void *lks_arena_alloc(lks_arena *a, size_t n) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n || need > a->max - a->used_total)
        return NULL;
    lks_arena_block *blk = a->head;
    if (!blk || blk->size - blk->used < need) {
        size_t size = a->block_size;
        if (size < ARENA_MAX_BLOCK)
            a->block_size = size * 2;
        if (size < need)
            size = need;
        blk = malloc(sizeof *blk + size);
        if (!blk)
            return NULL;
        blk->size = size;
        blk->used = 0;
        /* A large one-off block goes behind the current one so the
         * current block's free tail stays usable. */
        if (a->head && need > a->block_size && a->head->size - a->head->used >= 256) {
            blk->next = a->head->next;
            a->head->next = blk;
        } else {
            blk->next = a->head;
            a->head = blk;
        }
    }
    void *p = blk->data + blk->used;
    blk->used += need;
    a->used_total += need;
    return p;
}

void *lks_arena_memdup(lks_arena *a, const void *p, size_t n) {
    void *q = lks_arena_alloc(a, n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *lks_arena_strndup(lks_arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX)
        return NULL;
    char *q = lks_arena_alloc(a, n + 1);
    if (q) {
        if (n)
            memcpy(q, s, n);
        q[n] = 0;
    }
    return q;
}

char *lks_arena_strdup(lks_arena *a, const char *s) { return lks_arena_strndup(a, s, strlen(s)); }

char *lks_arena_printf(lks_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *q = lks_arena_alloc(a, (size_t)n + 1);
    if (!q)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(q, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return q;
}

void lks_arena_reset(lks_arena *a) {
    lks_arena_block *blk = a->head;
    if (!blk)
        return;
    /* keep the largest-recent block (the head), free the rest */
    lks_arena_block *rest = blk->next;
    while (rest) {
        lks_arena_block *next = rest->next;
        free(rest);
        rest = next;
    }
    blk->next = NULL;
    blk->used = 0;
    a->used_total = 0;
}

void lks_arena_free(lks_arena *a) {
    lks_arena_block *blk = a->head;
    while (blk) {
        lks_arena_block *next = blk->next;
        free(blk);
        blk = next;
    }
    a->head = NULL;
    a->used_total = 0;
    a->block_size = ARENA_MIN_BLOCK;
}

void lks_alloc_tune(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    /* Grow the heap by 256 MiB at once and ask for huge pages there: a merge
     * first touches its ~100-200 MB page by page, and a page fault costs
     * microseconds on a virtual machine (bench/merge.sh: 20k faults of a
     * 2M-row copy-on-write merge become 900, 10% of its time).  Only where
     * the heap is glibc's brk heap (p below the break); untouched pages
     * cost nothing. */
    mallopt(M_TOP_PAD, 256 << 20);
    void *p = malloc(1 << 20);
    if (!p)
        return;
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t at = (uintptr_t)p, brk = (uintptr_t)sbrk(0);
    free(p);
    uintptr_t lo = (at + huge - 1) & ~(huge - 1), hi = brk & ~(huge - 1);
    if (at < brk && hi > lo && hi - lo <= (uintptr_t)512 << 20)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}
