/*
 * source.c — byte sources for the reader (memory, local file via pread) and
 * byte sinks for the writer (lks_buf, stdio FILE *).
 */
#include "parquet/parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- memory -------------------------------------------------------------- */

/* ud is the bytes themselves (parquet.h), so this read cannot see the size:
 * callers stay within src->size, as the reader must anyway to report a
 * corrupt offset with the file's name. */
static int mem_read(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    (void)err;
    if (n)
        memcpy(dst, (const uint8_t *)ud + off, n);
    return LKS_OK;
}

int lks_pq_source_mem(lks_pq_source *src, const void *p, size_t n, const char *name) {
    memset(src, 0, sizeof *src);
    if (!p && n)
        return LKS_EINVAL;
    src->read = mem_read;
    src->ud = (void *)(uintptr_t)p; /* borrowed, never written through */
    src->size = n;
    src->name = name ? name : "(memory)";
    return LKS_OK;
}

/* ---- local file ---------------------------------------------------------- */

typedef struct file_src {
    int fd;
    uint64_t size;
    char name[]; /* the path, for messages */
} file_src;

static int file_read(void *ud, uint64_t off, size_t n, uint8_t *dst, lks_err *err) {
    file_src *fs = ud;
    if (off > fs->size || n > fs->size - off)
        return lks_err_set(err, LKS_ECORRUPT,
                           "read past end of file %s at offset %" PRIu64 " (%zu bytes, file size %" PRIu64 ")",
                           fs->name, off, n, fs->size);
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fs->fd, dst + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return lks_err_set(err, LKS_EIO, "read %s at offset %" PRIu64 ": %s", fs->name, off + done,
                               strerror(errno));
        }
        if (r == 0) /* the file shrank under us */
            return lks_err_set(err, LKS_ECORRUPT,
                               "read past end of file %s at offset %" PRIu64 " (file truncated while reading)",
                               fs->name, off + done);
        done += (size_t)r;
    }
    return LKS_OK;
}

int lks_pq_source_file(lks_pq_source *src, const char *path, lks_err *err) {
    memset(src, 0, sizeof *src);
    if (!path)
        return lks_err_set(err, LKS_EINVAL, "source: no path");
    size_t plen = strlen(path);
    file_src *fs = malloc(sizeof *fs + plen + 1);
    if (!fs)
        return lks_err_set(err, LKS_ENOMEM, "open %s: out of memory", path);
    memcpy(fs->name, path, plen + 1);
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        free(fs);
        return lks_err_set(err, e == ENOENT ? LKS_ENOTFOUND : LKS_EIO, "open %s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        free(fs);
        return lks_err_set(err, LKS_EIO, "stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        free(fs);
        return lks_err_set(err, LKS_EINVAL, "open %s: not a regular file", path);
    }
    fs->fd = fd;
    fs->size = (uint64_t)st.st_size;
    src->read = file_read;
    src->ud = fs;
    src->size = fs->size;
    src->name = fs->name;
    return LKS_OK;
}

void lks_pq_source_close(lks_pq_source *src) {
    if (!src)
        return;
    if (src->read == file_read && src->ud) {
        file_src *fs = src->ud;
        close(fs->fd);
        free(fs);
    }
    memset(src, 0, sizeof *src);
}

/* ---- sinks --------------------------------------------------------------- */

int lks_pq_sink_buf(void *ud, const void *p, size_t n, lks_err *err) {
    lks_buf *b = ud;
    int rc = lks_buf_append(b, p, n);
    if (rc)
        return lks_err_set(err, rc, "output buffer: %s appending %zu bytes", lks_strerror(rc), n);
    return LKS_OK;
}

int lks_pq_sink_stdio(void *ud, const void *p, size_t n, lks_err *err) {
    FILE *f = ud;
    if (n == 0)
        return LKS_OK;
    if (fwrite(p, 1, n, f) != n)
        return lks_err_set(err, LKS_EIO, "write: %s", ferror(f) && errno ? strerror(errno) : "short write");
    return LKS_OK;
}
