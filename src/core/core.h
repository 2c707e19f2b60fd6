/*
 * core.h — status codes, error detail, logging, bounded buffers, cursors,
 * arenas, hashing and time helpers shared by every lakesync module.
 *
 * Conventions (see STYLE.md): functions return an int status (LKS_OK == 0,
 * negative on failure) and take an optional `lks_err *` that receives a
 * human-readable message naming where the failure is (file, offset, column).
 * Reporting an error never allocates.  The library never prints: log lines go
 * through the callback installed with lks_log_set().
 */
#ifndef LKS_CORE_H
#define LKS_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __GNUC__
#define LKS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LKS_LIKELY(x) __builtin_expect(!!(x), 1)
#define LKS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LKS_PRINTF(a, b)
#define LKS_LIKELY(x) (x)
#define LKS_UNLIKELY(x) (x)
#endif

#define LKS_VERSION "0.1.0"

/* ---- status codes ------------------------------------------------------ */

enum {
    LKS_OK = 0,
    /* general */
    LKS_ENOMEM = -1,       /* allocation failed */
    LKS_EINVAL = -2,       /* bad argument or usage */
    LKS_EIO = -3,          /* operating-system I/O error (errno in message) */
    LKS_ELIMIT = -4,       /* a size, count or depth cap was exceeded */
    LKS_ECONFIG = -5,      /* bad configuration property */
    LKS_EINTERNAL = -6,    /* broken internal invariant (a bug) */
    /* store */
    LKS_ENOTFOUND = -20,   /* object or key does not exist */
    LKS_EEXIST = -21,      /* put-if-absent: the key is already taken */
    LKS_ECONFLICT = -22,   /* a concurrent commit conflicts logically with ours */
    /* decoding untrusted input */
    LKS_ECORRUPT = -40,    /* malformed input: truncated, out of bounds, bad value */
    LKS_ECHECKSUM = -41,   /* checksum mismatch */
    LKS_EUNSUPPORTED = -42 /* well-formed input using a feature we do not implement */
};

/* Name of a status code ("corrupt input", ...). Never NULL. */
const char *lks_strerror(int code);

/* Error detail: a status code and a fixed-size message. */
typedef struct lks_err {
    int code;
    char msg[512];
} lks_err;

/* Records `code` and a formatted message in `err` (which may be NULL) and
 * returns `code`, so callers can write `return lks_err_set(err, ...)`.
 * If `err` already holds an error, it is overwritten. */
int lks_err_set(lks_err *err, int code, const char *fmt, ...) LKS_PRINTF(3, 4);
int lks_err_vset(lks_err *err, int code, const char *fmt, va_list ap) LKS_PRINTF(3, 0);

/* Prepends context to an existing message: "ctx: old message".  Returns
 * err->code (or LKS_EINTERNAL when err is NULL or holds no error), so a
 * caller can add context while propagating: return lks_err_prefix(err, ...). */
int lks_err_prefix(lks_err *err, const char *fmt, ...) LKS_PRINTF(2, 3);

/* Clears err to LKS_OK and an empty message. */
void lks_err_clear(lks_err *err);

/* ---- logging ------------------------------------------------------------ */

enum { LKS_LOG_ERROR = 0, LKS_LOG_WARN = 1, LKS_LOG_INFO = 2, LKS_LOG_DEBUG = 3 };

/* Callback receiving one complete log line (no trailing newline).
 * `subsys` names the module ("store", "parquet", ...). */
typedef void lks_log_fn(void *ud, int level, const char *subsys, const char *msg);

/* Installs the process-wide log callback (NULL: discard) and the most
 * verbose level passed to it.  Not thread-safe against concurrent logging;
 * call it at start-up. */
void lks_log_set(lks_log_fn *fn, void *ud, int max_level);
int lks_log_enabled(int level);
void lks_log(int level, const char *subsys, const char *fmt, ...) LKS_PRINTF(3, 4);

/* ---- borrowed views ------------------------------------------------------ */

typedef struct lks_slice {
    const uint8_t *ptr;
    size_t len;
} lks_slice;

/* ---- bounded growable buffer ------------------------------------------- */

/* An owning byte buffer with a size cap (the curl dynbuf idea).  Any failing
 * append frees the buffer's memory and leaves it empty, so a caller that
 * ignores one failure cannot keep using half-built content. */
typedef struct lks_buf {
    uint8_t *ptr;
    size_t len;
    size_t cap; /* allocated bytes */
    size_t max; /* hard cap on len */
} lks_buf;

#define LKS_BUF_MAX_DEFAULT ((size_t)1 << 32) /* 4 GiB */

void lks_buf_init(lks_buf *b, size_t max);
void lks_buf_free(lks_buf *b);
/* Sets len to 0, keeps memory. */
void lks_buf_reset(lks_buf *b);
/* Ensures room for `extra` more bytes (and one for lks_buf_cstr).
 * LKS_ELIMIT past max, LKS_ENOMEM.  The common case, room already there, is
 * inline: writers of many small pieces (JSON, Debezium events) append a
 * few bytes at a time. */
int lks_buf__grow(lks_buf *b, size_t extra);
static inline int lks_buf_reserve(lks_buf *b, size_t extra) {
    if (LKS_LIKELY(b->cap - b->len > extra && b->max - b->len >= extra))
        return 0;
    return lks_buf__grow(b, extra);
}
static inline int lks_buf_append(lks_buf *b, const void *data, size_t len) {
    int rc = lks_buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    return 0;
}
static inline int lks_buf_append_byte(lks_buf *b, uint8_t byte) {
    int rc = lks_buf_reserve(b, 1);
    if (rc)
        return rc;
    b->ptr[b->len++] = byte;
    return 0;
}
int lks_buf_printf(lks_buf *b, const char *fmt, ...) LKS_PRINTF(2, 3);
/* Appends a NUL without counting it in len, so ptr reads as a C string. */
int lks_buf_cstr(lks_buf *b);
/* Hands the memory to the caller (free() it) and re-initialises b. */
uint8_t *lks_buf_detach(lks_buf *b, size_t *len);

/* ---- bounded read cursor ------------------------------------------------ */

/* Reads untrusted bytes.  Every getter checks bounds; on overrun the cursor
 * becomes failed (sticky) and returns zeros, so a decoder checks once at the
 * end of a record.  `base` lets errors report absolute offsets. */
typedef struct lks_cur {
    const uint8_t *p, *end;
    const uint8_t *start;
    uint64_t base; /* offset of start within the whole input */
    int failed;
} lks_cur;

static inline void lks_cur_init(lks_cur *c, const void *p, size_t len, uint64_t base) {
    c->p = c->start = (const uint8_t *)p;
    c->end = c->p + len;
    c->base = base;
    c->failed = 0;
}
static inline size_t lks_cur_left(const lks_cur *c) { return (size_t)(c->end - c->p); }
static inline uint64_t lks_cur_offset(const lks_cur *c) { return c->base + (uint64_t)(c->p - c->start); }
/* Returns a pointer to the next n bytes and advances, or NULL (and fails). */
static inline const uint8_t *lks_cur_take(lks_cur *c, size_t n) {
    if (LKS_UNLIKELY(c->failed || (size_t)(c->end - c->p) < n)) {
        c->failed = 1;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}
static inline uint8_t lks_cur_u8(lks_cur *c) {
    const uint8_t *q = lks_cur_take(c, 1);
    return q ? q[0] : 0;
}
static inline uint16_t lks_cur_le16(lks_cur *c) {
    const uint8_t *q = lks_cur_take(c, 2);
    return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}
static inline uint32_t lks_cur_le32(lks_cur *c) {
    const uint8_t *q = lks_cur_take(c, 4);
    return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}
static inline uint64_t lks_cur_le64(lks_cur *c) {
    uint64_t lo = lks_cur_le32(c);
    uint64_t hi = lks_cur_le32(c);
    return lo | hi << 32;
}

/* Little-endian stores/loads on raw memory (no bounds checks: caller's job). */
static inline uint32_t lks_load_le32(const uint8_t *q) {
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}
static inline uint64_t lks_load_le64(const uint8_t *q) {
    return (uint64_t)lks_load_le32(q) | (uint64_t)lks_load_le32(q + 4) << 32;
}
static inline void lks_store_le32(uint8_t *q, uint32_t v) {
    q[0] = (uint8_t)v, q[1] = (uint8_t)(v >> 8), q[2] = (uint8_t)(v >> 16), q[3] = (uint8_t)(v >> 24);
}
static inline void lks_store_le64(uint8_t *q, uint64_t v) {
    lks_store_le32(q, (uint32_t)v);
    lks_store_le32(q + 4, (uint32_t)(v >> 32));
}

/* Big-endian 8-byte load (an unsigned word that orders as the bytes do). */
static inline uint64_t lks_load_be64(const uint8_t *q) {
    uint64_t x;
    memcpy(&x, q, 8);
    return __builtin_bswap64(x);
}

static inline uint32_t lks_load_be32(const uint8_t *q) {
    uint32_t x;
    memcpy(&x, q, 4);
    return __builtin_bswap32(x);
}

/* memcmp-then-length order of two byte strings, <0, 0 or >0, inline: the
 * short keys and values of min/max tracking and sorting pay more for a
 * call into memcmp than for the compare.  Words are compared big-endian;
 * a tail re-reads the last word, whose overlap with the words before is
 * already known equal. */
static inline int lks_bytes_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    size_t n = na < nb ? na : nb;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t x = lks_load_be64(a + i), y = lks_load_be64(b + i);
            if (x != y) return x < y ? -1 : 1;
        }
        if (i < n) {
            uint64_t x = lks_load_be64(a + n - 8), y = lks_load_be64(b + n - 8);
            if (x != y) return x < y ? -1 : 1;
        }
    } else if (n >= 4) {
        uint32_t x = lks_load_be32(a), y = lks_load_be32(b);
        if (x == y) x = lks_load_be32(a + n - 4), y = lks_load_be32(b + n - 4);
        if (x != y) return x < y ? -1 : 1;
    } else {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return (na > nb) - (na < nb);
}

/* Whether n bytes at a and b are equal (memcmp(a, b, n) == 0), inline. */
static inline int lks_bytes_eq(const void *pa, const void *pb, size_t n) {
    const uint8_t *a = pa, *b = pb;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            if (lks_load_be64(a + i) != lks_load_be64(b + i)) return 0;
        return i == n || lks_load_be64(a + n - 8) == lks_load_be64(b + n - 8);
    }
    if (n >= 4) return lks_load_be32(a) == lks_load_be32(b) && lks_load_be32(a + n - 4) == lks_load_be32(b + n - 4);
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* ---- arena --------------------------------------------------------------- */

/* Bump allocator for per-file / per-commit lifetimes.  Memory is returned
 * all at once by lks_arena_reset()/lks_arena_free().  `max` caps the total
 * bytes handed out (0: LKS_BUF_MAX_DEFAULT). */
typedef struct lks_arena_block lks_arena_block;
typedef struct lks_arena {
    lks_arena_block *head;
    size_t used_total; /* bytes handed out since the last reset */
    size_t max;
    size_t block_size;
} lks_arena;

void lks_arena_init(lks_arena *a, size_t max);
/* 16-byte aligned memory valid until reset/free, or NULL on cap/ENOMEM. */
void *lks_arena_alloc(lks_arena *a, size_t n);
void *lks_arena_memdup(lks_arena *a, const void *p, size_t n);
/* NUL-terminated copy of n bytes. */
char *lks_arena_strndup(lks_arena *a, const char *s, size_t n);
char *lks_arena_strdup(lks_arena *a, const char *s);
char *lks_arena_printf(lks_arena *a, const char *fmt, ...) LKS_PRINTF(2, 3);
void lks_arena_reset(lks_arena *a); /* keeps the first block */
void lks_arena_free(lks_arena *a);

/* Process-wide allocator settings for lakesync's programs (not for a host
 * that loads the SQLite extension): a merge allocates and frees batches of
 * tens to hundreds of MB per commit, which glibc would otherwise hand back
 * to the kernel and fault in again page by page.  Blocks up to 32 MiB come
 * from the heap, up to 256 MiB of free heap stay mapped, and the heap grows
 * 256 MiB at a time with transparent huge pages asked for there. */
void lks_alloc_tune(void);

/* ---- hashing -------------------------------------------------------------- */

/* XXH64 (the hash Parquet bloom filters specify). */
uint64_t lks_xxh64(const void *p, size_t len, uint64_t seed);
/* Fast 64-bit hash for in-memory tables (not stable across versions). */
uint64_t lks_hash(const void *p, size_t len);
/* CRC-32 (zlib/IEEE polynomial), continuing from `crc` (start with 0). */
uint32_t lks_crc32(uint32_t crc, const void *p, size_t len);

/* ---- time ----------------------------------------------------------------- */

/* Wall clock, microseconds since the Unix epoch (UTC). */
int64_t lks_now_us(void);
/* Monotonic clock in nanoseconds. */
uint64_t lks_mono_ns(void);
/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t lks_days_from_civil(int64_t y, unsigned m, unsigned d);
void lks_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Formats a date "YYYY-MM-DD" (years outside 0..9999 get a sign / more
 * digits).  Returns the length written (buffer of 32 is always enough). */
int lks_fmt_date(char *out, int64_t days);
/* Formats microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.ffffff",
 * followed by "Z" when `utc` is set.  Buffer of 40 is always enough. */
int lks_fmt_timestamp_us(char *out, int64_t us, int utc);
/* Formats a time of day "HH:MM:SS.ffffff" from microseconds (negative or
 * past 24h values are printed with a sign / larger hour field). */
int lks_fmt_time_us(char *out, int64_t us);
/* Parses "YYYY-MM-DD[( |T)HH:MM[:SS[.f{1,9}]]][Z|(+|-)HH[:MM]]" into
 * microseconds since the epoch (an offset is applied, no offset means UTC).
 * LKS_ECORRUPT on anything else. */
int lks_parse_timestamp_us(const char *s, size_t len, int64_t *us);

/* ---- randomness ------------------------------------------------------------ */

/* n random bytes from the kernel (getrandom); never fails. */
void lks_random_bytes(void *p, size_t n);
/* A random (version 4) UUID, lowercase "8-4-4-4-12" text plus NUL. */
void lks_uuid4(char out[37]);
/* The text form of 16 UUID bytes (lowercase "8-4-4-4-12" plus NUL). */
void lks_uuid_format(char out[37], const uint8_t b[16]);

/* ---- small text helpers --------------------------------------------------- */

/* Shortest decimal text that reads back as the same double / float.
 * NaN and infinities are written "NaN", "Infinity", "-Infinity".
 * Returns the length; out must hold 32 bytes. */
int lks_fmt_double(char *out, double v);
int lks_fmt_float(char *out, float v);
/* Writes the decimal digits of u (of v, with '-' when negative) at out,
 * which has room for 20 bytes; no NUL.  Returns the end.  For writers that
 * format straight into their output buffer. */
char *lks_put_u64(char *out, uint64_t u);
char *lks_put_i64(char *out, int64_t v);
/* The value of a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), -1 for any other c. */
static inline int lks_hex_value(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
/* Whether s[0..n) is well-formed UTF-8 (no surrogates, no overlong forms). */
int lks_utf8_valid(const char *s, size_t n);
/* Length of the well-formed UTF-8 sequence at s[0..left) (1..4), or,
 * negated, the length of its maximal ill-formed prefix (at least 1; all of
 * left when the sequence is cut short), the bytes one U+FFFD replaces (the
 * Unicode "maximal subpart" practice).  left >= 1. */
int lks_utf8_seq(const uint8_t *s, size_t left);
/* Appends s as a JSON string literal (quotes, escapes, invalid UTF-8 bytes
 * replaced by U+FFFD). */
int lks_json_quote(lks_buf *b, const char *s, size_t len);
/* Standard base64 (with padding). */
int lks_base64_encode(lks_buf *b, const void *p, size_t len);
/* Decodes standard base64; LKS_ECORRUPT on bad input. */
int lks_base64_decode(lks_buf *b, const char *s, size_t len);
/* Formats a two's-complement big-endian unscaled integer of `len` bytes
 * (1..32, else LKS_EINVAL) with `scale` fraction digits: "-123.40".  Exact
 * for any width; a scale outside -1000..1000 is LKS_EUNSUPPORTED. */
int lks_fmt_decimal_be(lks_buf *b, const uint8_t *be, size_t len, int scale);
int lks_fmt_decimal_i64(lks_buf *b, int64_t unscaled, int scale);

#endif
