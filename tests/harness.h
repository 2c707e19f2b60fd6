/*
 * harness.h — the test harness: numbered-free, table-less, tiny.
 *
 * A test file defines test functions and lists them in main():
 *
 *     static void t_roundtrip(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *     int main(void) { RUN(t_roundtrip); return lks_test_done(); }
 *
 * Each test prints one line: "ok NAME", "FAIL NAME: file:line: what" or
 * "skip NAME: why" (a test calls SKIP("why") to skip itself, visibly).
 * lks_test_done() prints "N passed, N failed, N skipped" and returns the
 * exit status.  tests/run.sh adds the lines of every program together.
 */
#ifndef LKS_TEST_HARNESS_H
#define LKS_TEST_HARNESS_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lks_t_pass, lks_t_fail, lks_t_skip;
static int lks_t_cur_failed, lks_t_cur_skipped;
static const char *lks_t_name;

#define FAILF(...)                                                                                                     \
    do {                                                                                                               \
        if (!lks_t_cur_failed)                                                                                         \
            printf("FAIL %s: %s:%d: ", lks_t_name, __FILE__, __LINE__);                                              \
        else                                                                                                           \
            printf("     %s: %s:%d: ", lks_t_name, __FILE__, __LINE__);                                              \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        fflush(stdout);                                                                                                \
        lks_t_cur_failed = 1;                                                                                          \
    } while (0)

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            FAILF("check failed: %s", #cond);                                                                          \
    } while (0)

/* Stops the current test function when the check fails. */
#define REQUIRE(cond)                                                                                                  \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            FAILF("required: %s", #cond);                                                                              \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                                             \
    do {                                                                                                               \
        long long lks_a_ = (long long)(a), lks_b_ = (long long)(b);                                                    \
        if (lks_a_ != lks_b_)                                                                                          \
            FAILF("%s == %s: %lld != %lld", #a, #b, lks_a_, lks_b_);                                                   \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                                             \
    do {                                                                                                               \
        const char *lks_a_ = (a), *lks_b_ = (b);                                                                       \
        if (!lks_a_ || !lks_b_ || strcmp(lks_a_, lks_b_) != 0)                                                         \
            FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, lks_a_ ? lks_a_ : "(null)", lks_b_ ? lks_b_ : "(null)");       \
    } while (0)

/* Checks a status code is LKS_OK, printing the error detail otherwise. */
#define CHECK_OK(expr, errp)                                                                                           \
    do {                                                                                                               \
        int lks_rc_ = (expr);                                                                                          \
        const struct lks_err *lks_e_ = (errp); /* a variable: no -Waddress on &err */                                  \
        if (lks_rc_ != 0)                                                                                              \
            FAILF("%s returned %d: %s", #expr, lks_rc_, lks_e_ ? lks_e_->msg : "");                                    \
    } while (0)

#define SKIP(...)                                                                                                      \
    do {                                                                                                               \
        printf("skip %s: ", lks_t_name);                                                                               \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        lks_t_cur_skipped = 1;                                                                                         \
        return;                                                                                                        \
    } while (0)

#define RUN(fn)                                                                                                        \
    do {                                                                                                               \
        lks_t_name = #fn;                                                                                              \
        lks_t_cur_failed = lks_t_cur_skipped = 0;                                                                      \
        fn();                                                                                                          \
        if (lks_t_cur_failed)                                                                                          \
            lks_t_fail++;                                                                                              \
        else if (lks_t_cur_skipped)                                                                                    \
            lks_t_skip++;                                                                                              \
        else {                                                                                                         \
            lks_t_pass++;                                                                                              \
            printf("ok %s\n", #fn);                                                                                    \
        }                                                                                                              \
        fflush(stdout);                                                                                                \
    } while (0)

static inline int lks_test_done(void) {
    printf("%d passed, %d failed, %d skipped\n", lks_t_pass, lks_t_fail, lks_t_skip);
    fflush(stdout); /* before any sanitizer report at exit */
    return lks_t_fail ? 1 : 0;
}

/* Where the shared corpus is: $LAKESYNC_CORPUS or ../shared/corpus relative
 * to the repository root (tests run from the root).  NULL when absent. */
static inline const char *lks_test_corpus(void) {
    static char path[4096];
    const char *env = getenv("LAKESYNC_CORPUS");
    const char *cand = env && *env ? env : "../shared/corpus";
    snprintf(path, sizeof path, "%s/MANIFEST.md", cand);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fclose(f);
    snprintf(path, sizeof path, "%s", cand);
    return path;
}

/* Writes the path of a corpus file (fmt and its arguments, relative to the
 * corpus) into out; returns out, or NULL (out empty) when the corpus is
 * absent. */
__attribute__((format(printf, 3, 4))) static inline char *lks_test_corpus_path(char *out, size_t cap,
                                                                               const char *fmt, ...) {
    const char *corpus = lks_test_corpus();
    out[0] = 0;
    if (!corpus)
        return NULL;
    int n = snprintf(out, cap, "%s/", corpus);
    if (n < 0 || (size_t)n >= cap)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return out;
}

/* The whole file at path, with a NUL byte after its *len bytes (not
 * counted); the caller frees it.  NULL when the file cannot be read. */
static inline void *lks_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *p = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

#endif
