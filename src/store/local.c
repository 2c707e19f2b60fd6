/* local.c — the local-filesystem store backend.
 *
 * Objects are files under a root directory, opened relative to a directory
 * descriptor (the *at() calls).  Publishing is atomic: the bytes go to a
 * temporary file ".<name>.tmp.<pid>.<random>" in the target's directory,
 * which is fsynced, then renamed over the target (put) or hard-linked to it
 * (put_if_absent: link(2) fails when the name is taken, between processes
 * too), and the directory is fsynced.  Temporary files never show in list. */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct local_store {
    lks_store base; /* first: the generic handle */
    char *root;     /* absolute path of the root directory */
    int rootfd;
} local_store;

#define LIST_DEPTH_MAX 64

static local_store *L(lks_store *st) { return (local_store *)st; }

static int io_err(lks_err *err, int e, const local_store *ls, const char *key, const char *what) {
    int code = (e == ENOENT || e == ENOTDIR) ? LKS_ENOTFOUND : LKS_EIO;
    return lks_err_set(err, code, "%s %s/%s: %s", what, ls->root, key ? key : "", strerror(e));
}

/* ---- reading ---------------------------------------------------------------- */

static int read_full(int fd, uint8_t *dst, size_t n, uint64_t off, size_t *got) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, dst + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Opens key read-only; LKS_ENOTFOUND unless it is a regular file. */
static int open_regular(local_store *ls, const char *key, int *fdp, uint64_t *size, lks_err *err) {
    int fd;
    do
        fd = openat(ls->rootfd, key, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return io_err(err, errno, ls, key, "open");
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return io_err(err, e, ls, key, "stat");
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return lks_err_set(err, LKS_ENOTFOUND, "%s/%s: not a regular file", ls->root, key);
    }
    *fdp = fd;
    *size = (uint64_t)sb.st_size;
    return LKS_OK;
}

static int local_get(lks_store *st, const char *key, uint64_t off, uint64_t len, int ranged, lks_buf *out,
                     lks_err *err) {
    local_store *ls = L(st);
    int fd;
    uint64_t size;
    int rc = open_regular(ls, key, &fd, &size, err);
    if (rc)
        return rc;
    if (!ranged) {
        off = 0;
        len = size;
    } else if (off > size || len > size - off) {
        rc = lks_err_set(err, LKS_ECORRUPT, "%s/%s: range [%llu, +%llu) is past the end of the %llu-byte object",
                         ls->root, key, (unsigned long long)off, (unsigned long long)len, (unsigned long long)size);
        goto done;
    }
    if (len > SIZE_MAX || (rc = lks_buf_reserve(out, (size_t)len)) != LKS_OK) {
        rc = lks_err_set(err, rc ? rc : LKS_ELIMIT, "%s/%s: %llu bytes do not fit the buffer", ls->root, key,
                         (unsigned long long)len);
        goto done;
    }
    size_t got;
    int e = read_full(fd, out->ptr + out->len, (size_t)len, off, &got);
    if (e) {
        rc = lks_err_set(err, LKS_EIO, "read %s/%s: %s", ls->root, key, strerror(e));
        goto done;
    }
    if (got != len) {
        rc = lks_err_set(err, LKS_EIO, "%s/%s: object shrank while reading (%zu of %llu bytes)", ls->root, key, got,
                         (unsigned long long)len);
        goto done;
    }
    out->len += got;
done:
    close(fd);
    return rc;
}

static int local_head(lks_store *st, const char *key, lks_store_entry *ent, lks_err *err) {
    local_store *ls = L(st);
    struct stat sb;
    if (fstatat(ls->rootfd, key, &sb, 0) != 0)
        return io_err(err, errno, ls, key, "stat");
    if (!S_ISREG(sb.st_mode))
        return lks_err_set(err, LKS_ENOTFOUND, "%s/%s: not a regular file", ls->root, key);
    ent->key = NULL;
    ent->size = (uint64_t)sb.st_size;
    ent->mtime_us = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
    return LKS_OK;
}

/* ---- writing ------------------------------------------------------------------- */

static int fsync_retry(int fd) {
    int r;
    do
        r = fsync(fd);
    while (r != 0 && errno == EINTR);
    return r;
}

/* Opens (creating as needed) the directory part of key, key[0..dirlen),
 * relative to the root; returns an fd or -1 with errno set. */
static int open_dir(local_store *ls, const char *key, size_t dirlen) {
    int fd = dup(ls->rootfd);
    if (fd < 0)
        return -1;
    if (dirlen == 0)
        return fd;
    char seg[NAME_MAX + 1];
    size_t i = 0;
    while (i < dirlen) {
        size_t j = i;
        while (j < dirlen && key[j] != '/')
            j++;
        size_t n = j - i;
        memcpy(seg, key + i, n);
        seg[n] = 0;
        int created = 0;
        if (mkdirat(fd, seg, 0777) == 0)
            created = 1;
        else if (errno != EEXIST) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        int sub = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        /* a new directory entry is durable once its parent is synced */
        if (created && fsync_retry(fd) != 0) {
            int e = errno;
            close(sub);
            close(fd);
            errno = e;
            return -1;
        }
        close(fd);
        fd = sub;
        i = j + 1;
    }
    return fd;
}

static uint64_t random64(void) {
    uint64_t r;
    lks_random_bytes(&r, sizeof r);
    return r;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates the temporary file ".<name>.tmp.<pid>.<16 hex>" next to key (its
 * directories made as needed): *dfd is the directory, *fd the file, tmp its
 * name (the name part is cut so the whole stays within NAME_MAX). */
static int create_tmp(local_store *ls, const char *key, int *dfd, int *fd, char tmp[NAME_MAX + 1], lks_err *err) {
    const char *slash = strrchr(key, '/');
    size_t dirlen = slash ? (size_t)(slash - key) : 0;
    const char *name = slash ? slash + 1 : key;
    *dfd = open_dir(ls, key, dirlen);
    if (*dfd < 0) {
        int e = errno;
        return lks_err_set(err, LKS_EIO, "create directory %s/%.*s: %s", ls->root, (int)dirlen, key, strerror(e));
    }
    snprintf(tmp, NAME_MAX + 1, ".%.200s.tmp.%ld.%016llx", name, (long)getpid(), (unsigned long long)random64());
    do
        *fd = openat(*dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    while (*fd < 0 && errno == EINTR);
    if (*fd < 0) {
        int rc = lks_err_set(err, LKS_EIO, "create %s/%.*s%s%s: %s", ls->root, (int)dirlen, key, dirlen ? "/" : "", tmp,
                             strerror(errno));
        close(*dfd);
        return rc;
    }
    return LKS_OK;
}

/* Publishes the complete, synced temporary file tmp of directory dfd as key
 * (rename, or link when if_absent), removes the temporary name and closes
 * dfd. */
static int publish_tmp(local_store *ls, int dfd, const char *tmp, const char *key, int if_absent, lks_err *err) {
    const char *slash = strrchr(key, '/');
    const char *name = slash ? slash + 1 : key;
    int rc = LKS_OK, e;
    if (if_absent) {
        if (linkat(dfd, tmp, dfd, name, 0) != 0) {
            e = errno;
            if (e == EEXIST)
                rc = lks_err_set(err, LKS_EEXIST, "%s/%s already exists", ls->root, key);
            else
                rc = lks_err_set(err, LKS_EIO, "link %s/%s: %s", ls->root, key, strerror(e));
        }
        unlinkat(dfd, tmp, 0);
    } else if (renameat(dfd, tmp, dfd, name) != 0) {
        e = errno;
        rc = lks_err_set(err, LKS_EIO, "rename to %s/%s: %s", ls->root, key, strerror(e));
        unlinkat(dfd, tmp, 0);
    }
    if (rc == LKS_OK && fsync_retry(dfd) != 0)
        rc = lks_err_set(err, LKS_EIO, "fsync directory of %s/%s: %s", ls->root, key, strerror(errno));
    close(dfd);
    return rc;
}

/* Writes n bytes to fd, syncs it if asked and closes it; on failure the
 * error names the step and the temporary file is removed. */
static int finish_tmp(local_store *ls, int fd, const void *p, size_t n, int sync, int dfd, const char *tmp,
                      const char *key, lks_err *err) {
    const char *step = "write";
    int ok = write_all(fd, p, n) == 0 && (!sync || (step = "fsync", fsync_retry(fd) == 0));
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        step = "close";
        e = errno;
    }
    if (ok)
        return LKS_OK;
    unlinkat(dfd, tmp, 0);
    return lks_err_set(err, LKS_EIO, "%s %s/%s (temporary file): %s", step, ls->root, key, strerror(e));
}

static int local_put(lks_store *st, const char *key, const void *data, size_t len, int if_absent, lks_err *err) {
    local_store *ls = L(st);
    char tmp[NAME_MAX + 1];
    int dfd, fd;
    int rc = create_tmp(ls, key, &dfd, &fd, tmp, err);
    if (rc)
        return rc;
    rc = finish_tmp(ls, fd, data, len, 1, dfd, tmp, key, err);
    if (rc) {
        close(dfd);
        return rc;
    }
    return publish_tmp(ls, dfd, tmp, key, if_absent, err);
}

/* An object written in pieces: a temporary file opened for each piece (a
 * descriptor per writer would run out with many open partitions). */
typedef struct lwriter {
    char *key;
    char *tmpkey; /* the temporary file, relative to the root */
} lwriter;

static void lwriter_free(lwriter *h) {
    free(h->key);
    free(h->tmpkey);
    free(h);
}

static int local_wopen(lks_store *st, const char *key, void **hp, lks_err *err) {
    local_store *ls = L(st);
    char tmp[NAME_MAX + 1];
    int dfd, fd;
    int rc = create_tmp(ls, key, &dfd, &fd, tmp, err);
    if (rc)
        return rc;
    close(fd);
    close(dfd);
    const char *slash = strrchr(key, '/');
    size_t dirlen = slash ? (size_t)(slash - key) + 1 : 0, tl = strlen(tmp);
    lwriter *h = calloc(1, sizeof *h);
    if (h && (h->key = strdup(key)) && (h->tmpkey = malloc(dirlen + tl + 1))) {
        memcpy(h->tmpkey, key, dirlen);
        memcpy(h->tmpkey + dirlen, tmp, tl + 1);
        *hp = h;
        return LKS_OK;
    }
    if (h)
        lwriter_free(h);
    return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", key);
}

/* Appends n bytes to the writer's temporary file (synced when asked); on
 * failure the file is removed. */
static int wappend_tmp(local_store *ls, lwriter *h, const void *p, size_t n, int sync, lks_err *err) {
    int fd;
    do
        fd = openat(ls->rootfd, h->tmpkey, O_WRONLY | O_APPEND | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int rc = lks_err_set(err, LKS_EIO, "open %s/%s (temporary file): %s", ls->root, h->tmpkey, strerror(errno));
        unlinkat(ls->rootfd, h->tmpkey, 0);
        return rc;
    }
    return finish_tmp(ls, fd, p, n, sync, ls->rootfd, h->tmpkey, h->key, err);
}

static int local_wappend(lks_store *st, void *hp, const void *p, size_t n, lks_err *err) {
    return wappend_tmp(L(st), hp, p, n, 0, err);
}

static int local_wcommit(lks_store *st, void *hp, const void *p, size_t n, lks_err *err) {
    local_store *ls = L(st);
    lwriter *h = hp;
    int rc = wappend_tmp(ls, h, p, n, 1, err);
    if (rc == LKS_OK) {
        const char *slash = strrchr(h->tmpkey, '/');
        int dfd = open_dir(ls, h->key, slash ? (size_t)(slash - h->tmpkey) : 0);
        if (dfd < 0) {
            rc = lks_err_set(err, LKS_EIO, "open the directory of %s/%s: %s", ls->root, h->key, strerror(errno));
            unlinkat(ls->rootfd, h->tmpkey, 0);
        } else {
            rc = publish_tmp(ls, dfd, slash ? slash + 1 : h->tmpkey, h->key, 0, err);
        }
    }
    lwriter_free(h);
    return rc;
}

static void local_wabort(lks_store *st, void *hp) {
    lwriter *h = hp;
    unlinkat(L(st)->rootfd, h->tmpkey, 0);
    lwriter_free(h);
}

static int local_del(lks_store *st, const char *key, lks_err *err) {
    local_store *ls = L(st);
    if (unlinkat(ls->rootfd, key, 0) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return LKS_OK;
        return lks_err_set(err, LKS_EIO, "delete %s/%s: %s", ls->root, key, strerror(errno));
    }
    return LKS_OK;
}

/* ---- listing ---------------------------------------------------------------------- */

typedef struct dent {
    char *name; /* owned; directories carry a trailing '/' for ordering */
    int is_dir;
    uint64_t size;
    int64_t mtime_us;
} dent;

static int dent_cmp(const void *a, const void *b) { return strcmp(((const dent *)a)->name, ((const dent *)b)->name); }

typedef struct lister {
    local_store *ls;
    lks_store_list_fn *fn;
    void *ud;
    lks_buf path; /* the key being built */
    int flags;    /* LKS_STORE_LIST_* */
    int stopped;
    lks_err *err;
} lister;

/* Lists directory `dir_fd` whose keys start with lst->path; at the first
 * level only names starting with `name_prefix` count.  Takes dir_fd. */
static int walk(lister *lst, int dir_fd, const char *name_prefix, int depth) {
    local_store *ls = lst->ls;
    if (depth > LIST_DEPTH_MAX) {
        close(dir_fd);
        return lks_err_set(lst->err, LKS_ELIMIT, "list %s/%.*s: directories nested deeper than %d", ls->root,
                           (int)lst->path.len, (const char *)lst->path.ptr, LIST_DEPTH_MAX);
    }
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        int e = errno;
        close(dir_fd);
        return lks_err_set(lst->err, LKS_EIO, "list %s/%.*s: %s", ls->root, (int)lst->path.len,
                           (const char *)lst->path.ptr, strerror(e));
    }
    size_t plen = strlen(name_prefix);
    dent *ents = NULL;
    size_t n = 0, cap = 0;
    int rc = LKS_OK;
    struct dirent *de;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = lks_err_set(lst->err, LKS_EIO, "list %s/%.*s: %s", ls->root, (int)lst->path.len,
                                 (const char *)lst->path.ptr, strerror(errno));
            break;
        }
        const char *nm = de->d_name;
        size_t nlen = strlen(nm);
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            continue;
        if (strncmp(nm, name_prefix, plen) != 0 ||
            (!(lst->flags & LKS_STORE_LIST_TEMP) && lks_store_is_temp_name(nm, nlen)))
            continue;
        struct stat sb;
        if ((lst->flags & LKS_STORE_LIST_NAMES) && (de->d_type == DT_REG || de->d_type == DT_DIR)) {
            /* names only: the entry's type is known without a stat */
            memset(&sb, 0, sizeof sb);
            sb.st_mode = de->d_type == DT_REG ? S_IFREG : S_IFDIR;
        } else if (fstatat(dirfd(d), nm, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            continue; /* vanished meanwhile */
        }
        if (S_ISLNK(sb.st_mode)) {
            /* follow links to files; never to directories (no cycles) */
            if (fstatat(dirfd(d), nm, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
                continue;
        }
        if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            dent *ne = realloc(ents, ncap * sizeof *ents);
            if (!ne) {
                rc = lks_err_set(lst->err, LKS_ENOMEM, "out of memory listing %s", ls->root);
                break;
            }
            ents = ne;
            cap = ncap;
        }
        dent *en = &ents[n];
        en->is_dir = S_ISDIR(sb.st_mode);
        en->name = malloc(nlen + 2);
        if (!en->name) {
            rc = lks_err_set(lst->err, LKS_ENOMEM, "out of memory listing %s", ls->root);
            break;
        }
        memcpy(en->name, nm, nlen);
        en->name[nlen] = en->is_dir ? '/' : 0;
        en->name[nlen + 1] = 0;
        if (lst->flags & LKS_STORE_LIST_NAMES) {
            en->size = 0; /* unknown, as the flag allows */
            en->mtime_us = 0;
        } else {
            en->size = (uint64_t)sb.st_size;
            en->mtime_us = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
        }
        n++;
    }
    if (rc == LKS_OK && n > 1)
        qsort(ents, n, sizeof *ents, dent_cmp);
    size_t base = lst->path.len;
    for (size_t i = 0; i < n && rc == LKS_OK && !lst->stopped; i++) {
        dent *en = &ents[i];
        lst->path.len = base;
        if ((rc = lks_buf_append(&lst->path, en->name, strlen(en->name))) || (rc = lks_buf_cstr(&lst->path))) {
            rc = lks_err_set(lst->err, rc, "list %s: key too long or out of memory", ls->root);
            break;
        }
        if (en->is_dir) {
            char *nm = en->name;
            nm[strlen(nm) - 1] = 0;
            int sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                    continue;
                rc = lks_err_set(lst->err, LKS_EIO, "list %s/%s: %s", ls->root, (const char *)lst->path.ptr,
                                 strerror(errno));
                break;
            }
            rc = walk(lst, sub, "", depth + 1);
        } else {
            lks_store_entry ent = {(const char *)lst->path.ptr, en->size, en->mtime_us};
            if (lst->fn(lst->ud, &ent))
                lst->stopped = 1;
        }
    }
    lst->path.len = base;
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
    closedir(d);
    return rc;
}

static int local_list(lks_store *st, const char *prefix, int flags, lks_store_list_fn *fn, void *ud, lks_err *err) {
    local_store *ls = L(st);
    const char *slash = strrchr(prefix, '/');
    size_t dirlen = slash ? (size_t)(slash - prefix) : 0;
    int fd;
    if (dirlen) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%.*s", (int)dirlen, prefix);
        fd = openat(ls->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        fd = openat(ls->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return LKS_OK; /* nothing under a missing folder */
        return lks_err_set(err, LKS_EIO, "list %s/%.*s: %s", ls->root, (int)dirlen, prefix, strerror(errno));
    }
    lister lst = {ls, fn, ud, {0}, flags, 0, err};
    lks_buf_init(&lst.path, 1 << 16);
    int rc = LKS_OK;
    if (slash)
        rc = lks_buf_append(&lst.path, prefix, dirlen + 1);
    if (rc) {
        close(fd);
        lks_buf_free(&lst.path);
        return lks_err_set(err, rc, "out of memory");
    }
    rc = walk(&lst, fd, slash ? slash + 1 : prefix, 0);
    lks_buf_free(&lst.path);
    return rc;
}

/* ---- open / close -------------------------------------------------------------------- */

static void local_close(lks_store *st) {
    local_store *ls = L(st);
    if (ls->rootfd >= 0)
        close(ls->rootfd);
    free(ls->root);
    free(ls->base.uri);
    free(ls);
}

static int local_open_fd(lks_store *st, const char *key, int *fdp, lks_err *err) {
    uint64_t size;
    return open_regular(L(st), key, fdp, &size, err);
}

static const lks_store_ops local_ops = {
    "file",      local_get,     local_head,  local_put,     local_list,    local_del,    NULL,
    local_close, local_open_fd, local_wopen, local_wappend, local_wcommit, local_wabort, NULL,
};

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    return 0;
}

/* "file://" + the path with bytes outside [A-Za-z0-9/._~-] percent-encoded. */
static char *path_to_uri(const char *path) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *u = malloc(7 + 3 * n + 1), *o = u;
    if (!u)
        return NULL;
    memcpy(o, "file://", 7);
    o += 7;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
            c == '_' || c == '~' || c == '-')
            *o++ = (char)c;
        else
            *o++ = '%', *o++ = hex[c >> 4], *o++ = hex[c & 15];
    }
    *o = 0;
    return u;
}

int lks_store_local_open(const char *path, lks_store **out, lks_err *err) {
    *out = NULL;
    if (!path || !*path)
        return lks_err_set(err, LKS_EINVAL, "empty store path");
    if (make_dirs(path) != 0)
        return lks_err_set(err, LKS_EIO, "create directory %s: %s", path, strerror(errno));
    local_store *ls = calloc(1, sizeof *ls);
    if (!ls)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    ls->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ls->rootfd < 0) {
        int e = errno;
        free(ls);
        return lks_err_set(err, LKS_EIO, "open directory %s: %s", path, strerror(e));
    }
    ls->root = realpath(path, NULL);
    if (!ls->root) {
        int e = errno;
        close(ls->rootfd);
        free(ls);
        return lks_err_set(err, LKS_EIO, "resolve %s: %s", path, strerror(e));
    }
    ls->base.ops = &local_ops;
    ls->base.uri = path_to_uri(ls->root);
    if (!ls->base.uri) {
        local_close(&ls->base);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    *out = &ls->base;
    return LKS_OK;
}
