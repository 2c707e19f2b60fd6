/* err.c — status code names, error detail and the logging callback. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

const char *lks_strerror(int code) {
    switch (code) {
    case LKS_OK: return "ok";
    case LKS_ENOMEM: return "out of memory";
    case LKS_EINVAL: return "invalid argument";
    case LKS_EIO: return "I/O error";
    case LKS_ELIMIT: return "limit exceeded";
    case LKS_ECONFIG: return "configuration error";
    case LKS_EINTERNAL: return "internal error";
    case LKS_ENOTFOUND: return "not found";
    case LKS_EEXIST: return "already exists";
    case LKS_ECONFLICT: return "concurrent commit conflict";
    case LKS_ECORRUPT: return "corrupt input";
    case LKS_ECHECKSUM: return "checksum mismatch";
    case LKS_EUNSUPPORTED: return "unsupported feature";
    default: return "unknown error";
    }
}

int lks_err_vset(lks_err *err, int code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int lks_err_set(lks_err *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lks_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int lks_err_prefix(lks_err *err, const char *fmt, ...) {
    if (!err || err->code == LKS_OK)
        return err && err->code ? err->code : LKS_EINTERNAL;
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    /* "ctx: old", truncated to the buffer */
    size_t pos = (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++)
        for (const char *c = parts[i]; *c && pos + 1 < sizeof err->msg; c++)
            err->msg[pos++] = *c;
    err->msg[pos] = 0;
    return err->code;
}

void lks_err_clear(lks_err *err) {
    if (err) {
        err->code = LKS_OK;
        err->msg[0] = 0;
    }
}

static lks_log_fn *log_fn;
static void *log_ud;
static int log_max = -1;

void lks_log_set(lks_log_fn *fn, void *ud, int max_level) {
    log_fn = fn;
    log_ud = ud;
    log_max = fn ? max_level : -1;
}

int lks_log_enabled(int level) { return level <= log_max; }

void lks_log(int level, const char *subsys, const char *fmt, ...) {
    if (level > log_max || !log_fn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_fn(log_ud, level, subsys, line);
}
