/*
 * run.c — the capture loop of `lakesync run` and `lakesync capture`
 * (pipeline.h): snapshot what the lake lacks, then stream the binlog into
 * one merge batch per table and commit at transaction boundaries.
 *
 * One thread.  The stream returns at least every heartbeat (a quarter of
 * merge.interval.ms, 100 ms to 1 s), so timers
 * (commit interval, status line, stop flag) are checked without a second
 * thread.  Positions are compared in their 64-bit encoding (file index << 32
 * | pos), which orders them as the binlog does.
 *
 * GTIDs (MariaDB): each table also holds, next to its binlog position, the
 * GTID position of that place (one txn action per replication domain and
 * server: appId "lakesync:gtid:<topic.prefix>:<domain>-<server>", version
 * = sequence number; the latest per domain counts).  At start a table's
 * file:pos is used only when the server still has the file and
 * BINLOG_GTID_POS(file, pos) is the GTID position the table holds: the same
 * binlog history.  Otherwise (a failover to a replica, whose files and
 * offsets differ) the stream starts from the earliest GTID position of the
 * tables, and until a table has caught up it judges transactions by GTID
 * (it holds every transaction of a domain up to its sequence number, as
 * sequence numbers only grow within a domain) instead of by position.
 *
 * Without binlog_row_metadata=FULL the table maps do not name columns or
 * keys, nor ENUM/SET members (rows give their numbers): a table's columns
 * and members then come from information_schema, fetched when
 * its first rows arrive and again after each DDL that names it.  A fetch
 * sees the schema as of the binlog end E at that moment, so it is only
 * right for the rows being read when no DDL of the table lies between them
 * and E: the binlog up to E is scanned for DDL first (the scan remembers
 * what it covered, so the backlog is read once), and such a DDL stops the
 * run — it cannot be placed.  Every table map is also checked against the
 * fetched columns (count and types); a difference stops the run too.
 */
#include "pipeline/pipeline.h"
#include "source/source.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct ptable {
    char *db, *table, *name;  /* name: "db.table" */
    lks_delta_table *t;
    lks_merge_batch *b;
    int64_t version;          /* the position the lake table holds, -1 none */
    int64_t pending;          /* position noted in the batch, -1 none */
    int64_t nevents;          /* row changes in the batch */
    int touched;              /* rows of the current transaction went into the batch */
    int64_t last_commit_ms;
    int gone;                 /* dropped at the source: no longer tracked */
    int has_g;                /* g: the GTID position the lake table holds */
    lks_gtid_pos g;
    int by_gtid;              /* held transactions are told by GTID, not by position */
    int rebase;               /* snapshotted again: its binlog position starts over */
    /* without full metadata: the columns and key from information_schema */
    int has_src;
    lks_arena src_arena;
    lks_cdc_schema src;
    int *src_key, src_nkey;
    lks_src_members *src_members;   /* ENUM/SET members per column */
    const lks_binlog_table *src_ok; /* the table map last found to agree */
    lks_arena conv;                 /* SET texts of the rows being passed on */
    int has_pending_g, pending_caught;
    lks_gtid_pos pending_g;   /* GTID position noted in the batch */
} ptable;

typedef struct runner {
    const lks_pipeline_opts *o;
    const lks_config *cfg;
    lks_src_conf sc;
    char *password;
    lks_src_filter *filter;
    lks_store *wh;
    lks_merge_opts mo;
    lks_delta_kv props[2];
    ptable **tabs;
    int ntabs, ctabs;
    char stream[300];         /* merge stream name: "binlog:<topic.prefix>" */
    char gstream[300];        /* GTID stream names' start: "gtid:<topic.prefix>:" */
    const char *prefix;
    char base[256];           /* binlog base name ("binlog" of binlog.000042) */
    lks_binlog_decoder *dec;
    lks_dbz_write_opts wo;
    lks_buf line;
    /* stream state */
    char file[300];
    int in_tx;
    int64_t tx_enc;           /* position of the transaction being read */
    char bfile[300];          /* last boundary read: where a reconnect resumes */
    uint64_t bpos;
    int64_t end_enc;          /* stop_at_end: the target, -1 none */
    /* GTIDs (MariaDB) */
    int gtid_on;              /* GTID positions are tracked and stored */
    lks_gtid_pos g;           /* the GTID position of bfile:bpos */
    int tx_gtid;              /* the transaction being read has a GTID: */
    uint32_t tx_dom, tx_srv;
    uint64_t tx_seq;
    int gtid_start;           /* started from start_g, no boundary passed yet */
    lks_gtid_pos start_g;
    /* binlog_row_metadata other than FULL (see the top of this file) */
    int minimal;
    lks_src_conn *aux;        /* information_schema queries while streaming */
    int64_t scanned_to;       /* the DDL scan covered the binlog up to here */
    struct ddl_hit {
        int64_t pos;
        char *db, *table;
    } *hits;                  /* DDL found by the scan past the stream's position */
    int nhits, chits;
    int done;
    uint32_t last_ts;         /* header timestamp of the last commit read */
    /* timers and counters */
    int64_t last_commit_ms, last_status_ms, held;
    int64_t idle_ms, interval_ms, max_events;
    lks_pipeline_status st;
    int64_t rate_events, rate_ms;
    int64_t snap_start_ms;    /* when the table being snapshotted started */
} runner;

static int64_t now_ms(void) { return lks_now_us() / 1000; }

/* capture: changes go out as events (lines or the emit hook), not into a lake */
static int capturing(const lks_pipeline_opts *o) { return o->events_out || o->emit; }

int64_t lks_pipeline_pos_encode(const char *file, uint64_t pos) {
    const char *dot = file ? strrchr(file, '.') : NULL;
    if (!dot || !dot[1] || pos > UINT32_MAX) return -1;
    uint64_t idx = 0;
    for (const char *p = dot + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || idx > (UINT64_C(1) << 30)) return -1;
        idx = idx * 10 + (uint64_t)(*p - '0');
    }
    if (idx >= (UINT64_C(1) << 31)) return -1;
    return (int64_t)(idx << 32 | pos);
}

/* The file name of an encoded position, from the base name. */
static void pos_file(const runner *p, int64_t enc, char *out, size_t cap) {
    snprintf(out, cap, "%s.%06" PRIu64, p->base, (uint64_t)enc >> 32);
}

static void status(runner *p, const char *phase, int force) {
    if (phase) p->st.phase = phase;
    if (!p->o->status) return;
    int64_t t = now_ms();
    if (!force && t - p->last_status_ms < 250) return;
    if (t - p->rate_ms >= 1000) {
        p->st.events_per_s = (double)(p->st.events - p->rate_events) * 1000.0 / (double)(t - p->rate_ms);
        p->rate_events = p->st.events;
        p->rate_ms = t;
    }
    p->last_status_ms = t;
    if (p->st.table && t > p->snap_start_ms)
        p->st.snap_rate = (double)p->st.snap_rows * 1000.0 / (double)(t - p->snap_start_ms);
    p->st.file = p->file;
    p->o->status(p->o->status_ud, &p->st);
}

/* ---- tables -------------------------------------------------------------------------------- */

static void ptable_free(ptable *t) {
    if (!t) return;
    lks_arena_free(&t->src_arena);
    lks_arena_free(&t->conv);
    lks_merge_batch_free(t->b);
    lks_delta_table_close(t->t);
    free(t->db);
    free(t->table);
    free(t->name);
    free(t);
}

static ptable *find_table(runner *p, const char *db, const char *table) {
    for (int i = 0; i < p->ntabs; i++)
        if (strcmp(p->tabs[i]->db, db) == 0 && strcmp(p->tabs[i]->table, table) == 0) return p->tabs[i];
    return NULL;
}

/* The GTID position a lake table holds: per domain, the txn of the
 * highest sequence number among "lakesync:gtid:<prefix>:<domain>-<server>". */
static int read_gtids(runner *p, ptable *t, const lks_delta_snapshot *s, lks_err *err) {
    char pre[320];
    int n = snprintf(pre, sizeof pre, "lakesync:%s", p->gstream);
    if (n < 0 || (size_t)n >= sizeof pre) return LKS_OK;
    for (size_t i = 0; i < s->ntxns; i++) {
        const char *id = s->txns[i].app_id;
        if (!id || strncmp(id, pre, (size_t)n) != 0) continue;
        unsigned long long d, sv;
        int used = 0;
        if (sscanf(id + n, "%llu-%llu%n", &d, &sv, &used) != 2 || id[n + used] || d > UINT32_MAX || sv > UINT32_MAX ||
            s->txns[i].version < 0)
            return lks_err_set(err, LKS_ECORRUPT, "run: lake table %s: txn appId '%s' (version %" PRId64 ") is not a GTID position",
                               t->name, id, s->txns[i].version);
        if (lks_gtid_pos_seq(&t->g, (uint32_t)d) >= s->txns[i].version) continue;
        if (lks_gtid_pos_set(&t->g, (uint32_t)d, (uint32_t)sv, (uint64_t)s->txns[i].version))
            return lks_err_set(err, LKS_ELIMIT, "run: lake table %s: more than %d GTID domains", t->name,
                               LKS_GTID_DOMAINS_MAX);
        t->has_g = 1;
    }
    return LKS_OK;
}

/* Notes in t's batch that it holds the stream up to `pos`, whose GTID
 * position is g (NULL: unknown) — what the table holds once it commits. */
static int note_position(runner *p, ptable *t, int64_t pos, const lks_gtid_pos *g, lks_err *err) {
    /* resumed by GTID on another server: the binlog position starts over */
    int rc = t->by_gtid || t->rebase ? lks_merge_batch_rebase(t->b, p->stream, pos, err)
                        : lks_merge_batch_add(t->b, NULL, p->stream, pos, err);
    if (rc) return rc;
    t->pending = pos;
    if (!g || !p->gtid_on) return LKS_OK;
    lks_gtid_pos m = *g;
    t->pending_caught = !t->has_g || lks_gtid_pos_covers(g, &t->g);
    if (t->has_g) lks_gtid_pos_merge_max(&m, &t->g); /* never back in a domain the table is ahead in */
    char name[400];
    for (int i = 0; i < m.n && !rc; i++) {
        snprintf(name, sizeof name, "%s%" PRIu32 "-%" PRIu32, p->gstream, m.g[i].domain, m.g[i].server);
        rc = lks_merge_batch_add(t->b, NULL, name, (int64_t)m.g[i].seq, err);
    }
    t->pending_g = m;
    t->has_pending_g = 1;
    return rc;
}

/* 1 when the lake table already holds the transaction being read. */
static int holds(const runner *p, const ptable *t) {
    if (t->by_gtid) return p->tx_gtid && t->has_g && lks_gtid_pos_seq(&t->g, p->tx_dom) >= (int64_t)p->tx_seq;
    return t->version > p->tx_enc;
}

/* Starts tracking db.table: opens (or prepares) <warehouse>/<db>/<table>
 * and reads the position it holds. */
static int add_table(runner *p, const char *db, const char *table, ptable **out, lks_err *err) {
    ptable *t = calloc(1, sizeof *t);
    if (!t) return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    t->version = t->pending = -1;
    lks_arena_init(&t->src_arena, 0);
    lks_arena_init(&t->conv, 0);
    size_t n = strlen(db) + strlen(table) + 2;
    t->db = strdup(db);
    t->table = strdup(table);
    t->name = malloc(n);
    if (!t->db || !t->table || !t->name) {
        ptable_free(t);
        return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    }
    snprintf(t->name, n, "%s.%s", db, table);
    if (capturing(p->o)) goto done; /* capture: no lake */
    char *prefix = malloc(n);
    if (!prefix) {
        ptable_free(t);
        return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    }
    snprintf(prefix, n, "%s/%s", db, table);
    int rc = lks_delta_table_open(p->wh, prefix, &t->t, err);
    free(prefix);
    if (!rc) rc = lks_merge_batch_new(t->t, &p->mo, &t->b, err);
    if (!rc) {
        lks_delta_snapshot *s = NULL;
        rc = lks_delta_snapshot_latest(t->t, &s, err);
        if (rc == LKS_ENOTFOUND) {
            rc = LKS_OK;
            lks_err_clear(err);
        } else if (!rc) {
            t->version = lks_merge_stream_version(s, p->stream);
            rc = read_gtids(p, t, s, err);
            lks_delta_snapshot_free(s);
        }
    }
    if (rc) {
        lks_err_prefix(err, "run: lake table %s", t->name);
        ptable_free(t);
        return rc;
    }
done:
    if (p->ntabs == p->ctabs) {
        int c = p->ctabs ? p->ctabs * 2 : 16;
        ptable **nt = realloc(p->tabs, (size_t)c * sizeof *nt);
        if (!nt) {
            ptable_free(t);
            return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
        }
        p->tabs = nt;
        p->ctabs = c;
    }
    p->tabs[p->ntabs++] = t;
    *out = t;
    return LKS_OK;
}

/* Commits one table's batch (retrying lost races). */
static int commit_table(runner *p, ptable *t, lks_err *err) {
    if (!t->b || (!t->nevents && t->pending < 0)) return LKS_OK;
    lks_merge_stats ms;
    int rc = LKS_ECONFLICT;
    for (int attempt = 0; attempt < 5 && rc == LKS_ECONFLICT; attempt++) {
        if (attempt) lks_err_clear(err);
        rc = lks_merge_batch_commit(t->b, &ms, err);
    }
    if (rc == LKS_EINVAL) {
        /* a column change the lake cannot take (a type it cannot widen) */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return lks_err_set(err, rc,
                           "run: committing %s: %s.  To go on: remove the lake table %s/%s (the next run snapshots "
                           "it again with the new columns), or leave the table out with table.exclude.list",
                           t->name, msg, t->db, t->table);
    }
    if (rc) return lks_err_prefix(err, "run: committing %s", t->name);
    if (ms.version >= 0) {
        p->st.commits++;
        p->st.last_version = ms.version;
        lks_log(LKS_LOG_INFO, "run", "%s: version %" PRId64 ": %" PRId64 " upserts, %" PRId64 " deletes%s", t->name, ms.version,
                ms.upserts, ms.deletes, ms.created ? " (table created)" : "");
    }
    if (t->pending >= 0) {
        t->version = t->pending;
        t->rebase = 0;
    }
    t->pending = -1;
    if (t->has_pending_g) {
        t->g = t->pending_g;
        t->has_g = 1;
        if (t->pending_caught) t->by_gtid = 0; /* its position is one of this server's now */
        t->has_pending_g = 0;
    }
    t->nevents = 0;
    t->last_commit_ms = now_ms();
    return LKS_OK;
}

static int commit_all(runner *p, int idle_too, lks_err *err) {
    int64_t now = now_ms();
    if (p->o->boundary && idle_too && p->bfile[0]) {
        /* capture stopping: the last boundary passed is where it resumes */
        int rc = p->o->boundary(p->o->emit_ud, p->bfile, p->bpos, 1, err);
        if (rc) return rc;
    }
    int64_t boundary = lks_pipeline_pos_encode(p->bfile, p->bpos);
    for (int i = 0; i < p->ntabs; i++) {
        ptable *t = p->tabs[i];
        if (!t->b || t->gone) continue;
        /* an idle table's position moves now and then, so a restart does
         * not re-read what it had no part in */
        int behind = t->by_gtid ? lks_gtid_pos_covers(&p->g, &t->g) : boundary > t->version;
        if (!t->nevents && t->pending < 0 && !p->in_tx && !p->gtid_start && behind && t->version >= 0 &&
            (idle_too || now - t->last_commit_ms >= p->idle_ms)) {
            int rc = note_position(p, t, boundary, &p->g, err);
            if (rc) return rc;
        }
        int rc = commit_table(p, t, err);
        if (rc) return rc;
    }
    p->held = 0;
    p->last_commit_ms = now;
    return LKS_OK;
}

/* ---- events ---------------------------------------------------------------------------------- */

static int emit_line(runner *p, const lks_cdc_event *ev, lks_err *err) {
    if (p->o->emit) return p->o->emit(p->o->emit_ud, ev, err);
    lks_buf_reset(&p->line);
    int rc = lks_dbz_write(&p->line, ev, &p->wo, err);
    if (!rc) rc = lks_buf_append_byte(&p->line, '\n');
    if (rc) return rc;
    if (fwrite(p->line.ptr, 1, p->line.len, p->o->events_out) != p->line.len)
        return lks_err_set(err, LKS_EIO, "capture: writing events: %s", strerror(errno));
    return LKS_OK;
}

/* A table without primary key cannot be merged (nothing says which lake
 * row a change is about): it is left out, loudly, and the rest goes on. */
static void keyless(ptable *t) {
    t->gone = 1;
    lks_log(LKS_LOG_WARN, "run",
            "%s has no primary key (nor a unique index on NOT NULL columns): it is not synced; give it a primary key "
            "or leave it out with table.exclude.list",
            t->name);
}

/* The table a row event or DDL names, started when the filters admit it. */
static int table_for(runner *p, const char *db, const char *table, ptable **out, lks_err *err) {
    *out = find_table(p, db, table);
    if (*out) return (*out)->gone ? (*out = NULL, LKS_OK) : LKS_OK;
    if (!lks_src_filter_match(p->filter, db, table)) return LKS_OK;
    lks_log(LKS_LOG_INFO, "run", "%s.%s: new table, tracked from the binlog", db, table);
    return add_table(p, db, table, out, err);
}

static int want_table(void *ud, const char *db, const char *table) {
    runner *p = ud;
    ptable *t = find_table(p, db, table);
    if (t) return !t->gone;
    return lks_src_filter_match(p->filter, db, table);
}

static int add_event(runner *p, ptable *t, const lks_cdc_event *ev, lks_err *err) {
    p->st.events++;
    if (capturing(p->o)) return emit_line(p, ev, err);
    int rc = lks_merge_batch_add(t->b, ev, NULL, 0, err);
    if (rc) return lks_err_prefix(err, "run: %s", t->name);
    t->nevents++;
    t->touched = 1;
    p->held++;
    return LKS_OK;
}

/* Skips spaces and comments; returns the next word (identifier or
 * `quoted`) of a DDL statement into buf, an unquoted one lower-cased when
 * `lower` (keywords) and as written otherwise (names). */
static const char *ddl_token(const char *s, char *buf, size_t cap, int lower) {
    for (;;) {
        while (*s && isspace((unsigned char)*s)) s++;
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
        } else if ((s[0] == '-' && s[1] == '-') || s[0] == '#') {
            while (*s && *s != '\n') s++;
        } else {
            break;
        }
    }
    size_t n = 0;
    if (*s == '`') {
        s++;
        while (*s && !(*s == '`' && s[1] != '`')) {
            if (*s == '`') s++;
            if (n + 1 < cap) buf[n++] = *s;
            s++;
        }
        if (*s == '`') s++;
    } else {
        while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '$')) {
            if (n + 1 < cap) buf[n++] = lower ? (char)tolower((unsigned char)*s) : *s;
            s++;
        }
        if (!n && *s) {
            if (n + 1 < cap) buf[n++] = *s;
            s++;
        }
    }
    buf[n] = 0;
    return s;
}

static const char *ddl_word(const char *s, char *buf, size_t cap) { return ddl_token(s, buf, cap, 1); }

/* Reads "[db.]table" at s (names as written). */
static const char *ddl_name(const char *s, const char *defdb, char *db, char *tb, size_t cap) {
    char w[256];
    s = ddl_token(s, w, sizeof w, 0);
    snprintf(db, cap, "%s", defdb ? defdb : "");
    snprintf(tb, cap, "%s", w);
    if (*s == '.') {
        snprintf(db, cap, "%s", w);
        s = ddl_token(s + 1, w, sizeof w, 0);
        snprintf(tb, cap, "%s", w);
    }
    return s;
}

/* ---- columns from information_schema (binlog_row_metadata other than FULL) ------------------------ */

/* 1 when sql changes a table's columns (ALTER, CREATE, DROP or RENAME
 * TABLE), with the first table it names in db/tb. */
static int ddl_schema_target(const char *sql, const char *defdb, char *db, char *tb, size_t cap) {
    char w[64];
    const char *s = ddl_word(sql, w, sizeof w);
    if (strcmp(w, "alter") && strcmp(w, "create") && strcmp(w, "drop") && strcmp(w, "rename")) return 0;
    /* CREATE [OR REPLACE] [TEMPORARY] TABLE, ALTER [ONLINE] [IGNORE] TABLE */
    for (int i = 0; i < 4; i++) {
        s = ddl_word(s, w, sizeof w);
        if (!strcmp(w, "table")) break;
        if (strcmp(w, "or") && strcmp(w, "replace") && strcmp(w, "temporary") && strcmp(w, "online") &&
            strcmp(w, "ignore"))
            return 0;
    }
    if (strcmp(w, "table")) return 0;
    const char *q = ddl_word(s, w, sizeof w);
    if (!strcmp(w, "if")) { /* IF [NOT] EXISTS */
        s = ddl_word(q, w, sizeof w);
        if (!strcmp(w, "not")) s = ddl_word(s, w, sizeof w);
    }
    ddl_name(s, defdb, db, tb, cap);
    return tb[0] != 0;
}

static int note_hit(void *ud, const char *file, uint64_t pos, const char *db, const char *sql, lks_err *err) {
    runner *p = ud;
    char hdb[256], htb[256];
    if (!ddl_schema_target(sql, db, hdb, htb, sizeof hdb) || !lks_src_filter_match(p->filter, hdb, htb)) return LKS_OK;
    if (p->nhits == p->chits) {
        int c = p->chits ? p->chits * 2 : 8;
        struct ddl_hit *nh = realloc(p->hits, (size_t)c * sizeof *nh);
        if (!nh) return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
        p->hits = nh;
        p->chits = c;
    }
    struct ddl_hit *h = &p->hits[p->nhits];
    h->pos = lks_pipeline_pos_encode(file, pos);
    h->db = strdup(hdb);
    h->table = strdup(htb);
    if (!h->db || !h->table) {
        free(h->db);
        free(h->table);
        return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    }
    p->nhits++;
    return LKS_OK;
}

/* t's columns and key from information_schema, right for the rows at
 * stream position `at` (a table map of `it`): fetched now, then the binlog
 * from `at` to its end after the fetch is checked for DDL of the table. */
static int fetch_source_schema(runner *p, ptable *t, int64_t at, lks_err *err) {
    int rc = LKS_OK;
    if (!p->aux) rc = lks_src_connect(&p->sc, &p->aux, err);
    lks_arena_reset(&t->src_arena);
    t->has_src = 0;
    t->src_ok = NULL;
    if (!rc) rc = lks_src_table_schema(p->aux, t->db, t->table, &t->src_arena, &t->src, &t->src_key, &t->src_nkey,
                                       &t->src_members, err);
    char ef[256];
    uint64_t ep = 0;
    if (!rc) rc = lks_src_binlog_end(p->aux, ef, sizeof ef, &ep, err);
    if (rc) return lks_err_prefix(err, "run: %s: columns from information_schema", t->name);
    int64_t end = lks_pipeline_pos_encode(ef, ep);
    /* forget what the stream has passed, scan what is new */
    int k = 0;
    for (int i = 0; i < p->nhits; i++) {
        if (p->hits[i].pos > at) {
            p->hits[k++] = p->hits[i];
        } else {
            free(p->hits[i].db);
            free(p->hits[i].table);
        }
    }
    p->nhits = k;
    int64_t from = p->scanned_to > at ? p->scanned_to : at;
    if (from < end) {
        char ff[300];
        pos_file(p, from, ff, sizeof ff);
        rc = lks_src_scan_queries(p->aux, ff, (uint64_t)from & 0xffffffffu, ef, ep, note_hit, p, err);
        if (rc) return lks_err_prefix(err, "run: %s: scanning the binlog for DDL", t->name);
        p->scanned_to = end;
    }
    for (int i = 0; i < p->nhits; i++)
        if (p->hits[i].pos > at && !strcmp(p->hits[i].db, t->db) && !strcmp(p->hits[i].table, t->table)) {
            char hf[300], af[300];
            pos_file(p, p->hits[i].pos, hf, sizeof hf);
            pos_file(p, at, af, sizeof af);
            return lks_err_set(err, LKS_EUNSUPPORTED,
                               "run: %s: the binlog has rows of it at %s:%" PRIu64 " and a DDL changing it later, at "
                               "%s:%" PRIu64 "; without binlog_row_metadata=FULL its columns come from "
                               "information_schema, which only knows them after that DDL, so those rows cannot be "
                               "decoded safely.  Set binlog_row_metadata=FULL (SET GLOBAL binlog_row_metadata=FULL), "
                               "or remove the lake table %s/%s to snapshot it again after the DDL",
                               t->name, af, (uint64_t)at & 0xffffffffu, hf, (uint64_t)p->hits[i].pos & 0xffffffffu,
                               t->db, t->table);
        }
    t->has_src = 1;
    lks_log(LKS_LOG_DEBUG, "run", "%s: %d columns from information_schema", t->name, t->src.nfields);
    return LKS_OK;
}

static int same_type(const lks_cdc_type *a, const lks_cdc_type *b) {
    return a->kind == b->kind && a->precision == b->precision && a->scale == b->scale && a->detail == b->detail &&
           !a->optional == !b->optional;
}

/* Rows whose table map names no columns get t's columns and key from
 * information_schema, after checking the map agrees with them; ENUM and SET
 * values, which such a map gives as numbers, become their members' text. */
static int use_source_schema(runner *p, ptable *t, const lks_binlog_item *it, lks_err *err) {
    int64_t at = lks_pipeline_pos_encode(p->file, it->pos);
    int rc = t->has_src ? LKS_OK : fetch_source_schema(p, t, at, err);
    if (rc) return rc;
    const lks_binlog_table *m = it->table;
    if (t->src_ok != m) {
        const lks_cdc_schema *b = &m->schema;
        const char *why = NULL;
        int col = -1;
        if (b->nfields != t->src.nfields) {
            why = "a different number of columns";
        } else {
            for (int i = 0; i < b->nfields && !why; i++) {
                if (!same_type(&b->fields[i].type, &t->src.fields[i].type)) {
                    why = "a different type";
                    col = i;
                }
            }
        }
        if (why) {
            char where[64] = "";
            if (col >= 0) snprintf(where, sizeof where, " in column %d", col + 1);
            return lks_err_set(err, LKS_EUNSUPPORTED,
                               "run: %s: the binlog's table map at %s:%" PRIu64 " has %d columns and information_schema "
                               "%d, with %s%s (%s): the table changed in a way lakesync cannot place without "
                               "binlog_row_metadata=FULL (SET GLOBAL binlog_row_metadata=FULL)",
                               t->name, p->file, it->pos, b->nfields, t->src.nfields, why, where,
                               col >= 0 ? t->src.fields[col].name : "column count");
        }
        t->src_ok = m;
    }
    lks_arena_reset(&t->conv);
    for (int i = 0; i < it->nevents; i++) {
        lks_cdc_event *e = &it->events[i];
        e->schema = &t->src;
        e->key = t->src_key;
        e->nkey = t->src_nkey;
        for (int c = 0; c < t->src.nfields; c++) {
            if (!t->src.fields[c].allowed || m->schema.fields[c].allowed)
                continue;
            int is_set = t->src.fields[c].type.detail == LKS_CD_SET;
            lks_cdc_row *rows[2] = {e->has_before ? &e->before : NULL, e->has_after ? &e->after : NULL};
            for (int r = 0; r < 2; r++)
                if (rows[r] && c < rows[r]->n &&
                    lks_src_members_apply(&t->src_members[c], is_set, &rows[r]->v[c], &t->conv, err) != LKS_OK)
                    return lks_err_prefix(err, "run: %s: column %s at %s:%" PRIu64, t->name,
                                          t->src.fields[c].name, p->file, it->pos);
        }
    }
    return LKS_OK;
}

static int on_ddl(runner *p, const lks_binlog_item *it, lks_err *err) {
    char w1[64], w2[64], db[256], tb[256];
    if (p->minimal && ddl_schema_target(it->sql, it->db, db, tb, sizeof db)) {
        ptable *st = find_table(p, db, tb);
        if (st) st->has_src = 0; /* fetched again with its next rows */
    }
    const char *s = ddl_word(it->sql, w1, sizeof w1);
    if (strcmp(w1, "truncate") == 0) {
        const char *q = ddl_word(s, w2, sizeof w2);
        if (strcmp(w2, "table") == 0) s = q;
        ddl_name(s, it->db, db, tb, sizeof db);
        ptable *t = NULL;
        int rc = table_for(p, db, tb, &t, err);
        if (rc || !t) return rc;
        if (holds(p, t)) return LKS_OK;
        lks_cdc_event ev;
        memset(&ev, 0, sizeof ev);
        ev.op = LKS_CDC_TRUNCATE;
        ev.source.connector = "mysql";
        ev.source.name = p->prefix;
        ev.source.db = t->db;
        ev.source.table = t->table;
        ev.source.file = p->file;
        ev.source.pos = (int64_t)it->pos;
        ev.source.row = -1;
        ev.source.ts_ms = (int64_t)it->timestamp * 1000;
        ev.source.ts_us = -1;
        ev.ts_ms = now_ms();
        return add_event(p, t, &ev, err);
    }
    if (strcmp(w1, "drop") == 0) {
        s = ddl_word(s, w2, sizeof w2);
        if (strcmp(w2, "table") != 0) return LKS_OK;
        const char *q = ddl_word(s, w2, sizeof w2);
        if (strcmp(w2, "if") == 0) s = ddl_word(q, w2, sizeof w2); /* IF EXISTS */
        for (;;) {
            s = ddl_name(s, it->db, db, tb, sizeof db);
            ptable *t = find_table(p, db, tb);
            if (t && !t->gone) {
                int rc = commit_table(p, t, err);
                if (rc) return rc;
                t->gone = 1;
                lks_log(LKS_LOG_WARN, "run", "%s was dropped at the source: no longer tracked (the lake table stays)", t->name);
            }
            while (*s && isspace((unsigned char)*s)) s++;
            if (*s != ',') break;
            s++;
        }
        return LKS_OK;
    }
    if (strcmp(w1, "rename") == 0 || strcmp(w1, "alter") == 0) {
        int rename = strcmp(w1, "rename") == 0;
        s = ddl_word(s, w2, sizeof w2);
        if (strcmp(w2, "table") != 0) return LKS_OK;
        s = ddl_name(s, it->db, db, tb, sizeof db);
        ptable *t = find_table(p, db, tb);
        if (!t || t->gone) return LKS_OK;
        if (!rename) {
            /* ALTER TABLE t … RENAME [TO|AS] x (not RENAME COLUMN/INDEX/KEY) */
            const char *q = s;
            char w[64];
            while (*q) {
                q = ddl_word(q, w, sizeof w);
                if (strcmp(w, "rename") == 0) {
                    char w3[64];
                    ddl_word(q, w3, sizeof w3);
                    if (strcmp(w3, "column") != 0 && strcmp(w3, "index") != 0 && strcmp(w3, "key") != 0) {
                        rename = 1;
                        break;
                    }
                }
            }
            if (!rename) {
                lks_log(LKS_LOG_INFO, "run", "%s: %s", t->name, it->sql);
                return LKS_OK;
            }
        }
        return lks_err_set(err, LKS_EUNSUPPORTED,
                           "run: %s was renamed at the source (%s:%" PRIu64 ": %.200s); lakesync does not follow "
                           "renames: rename the lake table directory to match (or exclude the table), then run "
                           "again",
                           t->name, p->file, it->pos, it->sql);
    }
    lks_log(LKS_LOG_DEBUG, "run", "DDL at %s:%" PRIu64 ": %.200s", p->file, it->pos, it->sql);
    return LKS_OK;
}

static int on_item(void *ud, const lks_binlog_item *it, lks_err *err) {
    runner *p = ud;
    switch (it->kind) {
    case LKS_BL_ROTATE:
        if (it->rotate_file && *it->rotate_file) {
            snprintf(p->file, sizeof p->file, "%s", it->rotate_file);
            if (!p->in_tx) {
                snprintf(p->bfile, sizeof p->bfile, "%s", it->rotate_file);
                p->bpos = it->rotate_pos;
            }
        }
        return LKS_OK;
    case LKS_BL_BEGIN:
        p->in_tx = 1;
        p->tx_enc = lks_pipeline_pos_encode(p->file, it->pos);
        p->tx_gtid = p->gtid_on && it->gtid && it->gtid_server;
        p->tx_dom = it->gtid_domain;
        p->tx_srv = it->gtid_server;
        p->tx_seq = it->gtid_seq;
        return LKS_OK;
    case LKS_BL_ROWS: {
        if (!it->nevents) return LKS_OK;
        if (!p->in_tx) p->tx_enc = lks_pipeline_pos_encode(p->file, it->pos);
        const lks_cdc_event *e0 = &it->events[0];
        ptable *t = NULL;
        int rc = table_for(p, e0->source.db ? e0->source.db : "", e0->source.table ? e0->source.table : "", &t, err);
        if (rc || !t) return rc;
        if (holds(p, t)) return LKS_OK;
        if (p->minimal && !it->table->has_names && (rc = use_source_schema(p, t, it, err)) != LKS_OK) return rc;
        if (t->b && e0->nkey <= 0) {
            keyless(t);
            return LKS_OK;
        }
        for (int i = 0; i < it->nevents && !rc; i++) rc = add_event(p, t, &it->events[i], err);
        return rc;
    }
    case LKS_BL_DDL:
        if (!p->in_tx) p->tx_enc = lks_pipeline_pos_encode(p->file, it->pos);
        return on_ddl(p, it, err);
    case LKS_BL_COMMIT: {
        p->in_tx = 0;
        if (p->tx_gtid && lks_gtid_pos_set(&p->g, p->tx_dom, p->tx_srv, p->tx_seq))
            return lks_err_set(err, LKS_ELIMIT, "run: more than %d GTID domains", LKS_GTID_DOMAINS_MAX);
        p->tx_gtid = 0;
        p->gtid_start = 0;
        snprintf(p->bfile, sizeof p->bfile, "%s", p->file);
        p->bpos = it->next_pos;
        p->last_ts = it->timestamp;
        int64_t b = lks_pipeline_pos_encode(p->file, it->next_pos);
        for (int i = 0; i < p->ntabs; i++) {
            ptable *t = p->tabs[i];
            if (!t->touched) continue;
            t->touched = 0;
            if (t->b) {
                int rc = note_position(p, t, b, &p->g, err);
                if (rc) return rc;
            }
        }
        if (p->o->events_out && fflush(p->o->events_out) != 0)
            return lks_err_set(err, LKS_EIO, "capture: writing events: %s", strerror(errno));
        if (p->o->boundary) {
            int rc = p->o->boundary(p->o->emit_ud, p->bfile, p->bpos, 0, err);
            if (rc) return rc;
        }
        if (p->end_enc >= 0 && b >= p->end_enc) p->done = 1;
        return LKS_OK;
    }
    case LKS_BL_HEARTBEAT:
        if (p->end_enc >= 0 && !p->in_tx && lks_pipeline_pos_encode(p->file, it->next_pos) >= p->end_enc) p->done = 1;
        return LKS_OK;
    default:
        return LKS_OK;
    }
}

/* ---- snapshot ------------------------------------------------------------------------------------ */

/* A table's columns and key as the source has them; 1 when it has no key
 * (then it is left out, loudly). */
static int source_schema(lks_src_conn *c, ptable *t, lks_arena *a, lks_cdc_schema *schema, int **key, int *nkey,
                         lks_err *err) {
    int rc = lks_src_table_schema(c, t->db, t->table, a, schema, key, nkey, NULL, err);
    if (!rc && t->b && *nkey <= 0) {
        keyless(t);
        return 1;
    }
    return rc;
}

/* Commits the table at stream position `pos` with its schema declared, so
 * a table with no rows is still created. */
static int commit_position(runner *p, ptable *t, const lks_cdc_schema *schema, const int *key, int nkey, int64_t pos,
                           const lks_gtid_pos *g, lks_err *err) {
    int rc = lks_merge_batch_declare(t->b, schema, key, nkey, err);
    if (!rc) rc = note_position(p, t, pos, g, err);
    return rc ? rc : commit_table(p, t, err);
}

/* The GTID position of file:pos, or NULL when GTIDs are not tracked (or
 * the server cannot say: then they stop being tracked, with a warning). */
static const lks_gtid_pos *gtid_at(runner *p, lks_src_conn *c, const char *file, uint64_t pos, lks_gtid_pos *out,
                                   lks_err *err, int *rc) {
    *rc = LKS_OK;
    if (!p->gtid_on) return NULL;
    int valid = 0;
    *rc = lks_src_binlog_gtid_pos(c, file, pos, out, &valid, err);
    if (*rc) return NULL;
    if (!valid) {
        lks_log(LKS_LOG_WARN, "run", "%s: BINLOG_GTID_POS('%s', %" PRIu64 ") is NULL: GTID positions are not stored "
                "(a failover then needs snapshot.mode=when_needed)", lks_src_name(c), file, pos);
        p->gtid_on = 0;
        return NULL;
    }
    return out;
}

typedef struct snap_ctx {
    runner *p;
    ptable *t;
} snap_ctx;

static int on_snapshot_row(void *ud, const lks_cdc_event *ev, lks_err *err) {
    snap_ctx *c = ud;
    runner *p = c->p;
    p->st.snap_rows++;
    int rc;
    if (capturing(p->o)) {
        rc = emit_line(p, ev, err);
    } else {
        rc = lks_merge_batch_add(c->t->b, ev, NULL, 0, err);
        c->t->nevents++;
        if (!rc && c->t->nevents >= p->max_events) rc = commit_table(p, c->t, err);
    }
    if (p->o->stop && *p->o->stop && !rc) {
        lks_log(LKS_LOG_WARN, "run", "stopped during the snapshot of %s (it starts over next time)", c->t->name);
        return 1;
    }
    status(p, NULL, 0);
    return rc;
}

static int snapshot_tables(runner *p, ptable **need, int nneed, char *file, size_t cap, uint64_t *pos, lks_err *err) {
    lks_src_conn *c = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    int rc = lks_src_connect(&p->sc, &c, err);
    if (!rc) rc = lks_src_snapshot_begin(c, file, cap, pos, err);
    int64_t s_enc = rc ? -1 : lks_pipeline_pos_encode(file, *pos);
    if (!rc && s_enc < 0)
        rc = lks_err_set(err, LKS_EUNSUPPORTED, "run: binlog file name '%s' has no numeric suffix", file);
    lks_gtid_pos sg;
    const lks_gtid_pos *sgp = rc ? NULL : gtid_at(p, c, file, *pos, &sg, err, &rc);
    if (!rc) lks_log(LKS_LOG_INFO, "run", "snapshot of %d table(s) at %s:%" PRIu64, nneed, file, *pos);
    for (int i = 0; i < nneed && !rc; i++) {
        ptable *t = need[i];
        lks_cdc_schema schema;
        int *key = NULL, nkey = 0;
        lks_arena_reset(&a);
        rc = source_schema(c, t, &a, &schema, &key, &nkey, err);
        if (rc == 1) {
            rc = LKS_OK;
            continue;
        }
        if (rc) break;
        p->st.table = t->name;
        p->st.snap_rows = 0;
        p->st.snap_rate = 0;
        p->snap_start_ms = now_ms();
        p->st.snap_total = lks_src_table_rows_estimate(c, t->db, t->table);
        status(p, "snapshot", 1);
        if (t->b) {
            rc = lks_merge_batch_declare(t->b, &schema, key, nkey, err);
            if (!rc) {
                /* an earlier, interrupted snapshot (or a purged position)
                 * may have left rows the source no longer has */
                lks_cdc_event tr;
                memset(&tr, 0, sizeof tr);
                tr.op = LKS_CDC_TRUNCATE;
                rc = lks_merge_batch_add(t->b, &tr, NULL, 0, err);
            }
            if (rc) break;
        }
        lks_src_snapshot_opts so;
        memset(&so, 0, sizeof so);
        so.topic_prefix = p->prefix;
        so.file = file;
        so.pos = *pos;
        so.chunk_rows = lks_config_get_int(p->cfg, "snapshot.fetch.size");
        snap_ctx sc = {p, t};
        rc = lks_src_snapshot_table(c, t->db, t->table, &schema, key, nkey, &so, on_snapshot_row, &sc, err);
        if (rc == 1) { /* stopped: nothing more to do */
            rc = LKS_OK;
            break;
        }
        if (rc) break;
        if (t->b) rc = commit_position(p, t, &schema, key, nkey, s_enc, sgp, err);
        lks_log(LKS_LOG_INFO, "run", "%s: snapshot of %" PRId64 " rows done", t->name, p->st.snap_rows);
    }
    if (c) {
        lks_err e2;
        lks_err_clear(&e2);
        lks_src_snapshot_end(c, &e2);
        lks_src_close(c);
    }
    lks_arena_free(&a);
    p->st.table = NULL;
    return rc;
}

/* ---- setup --------------------------------------------------------------------------------------- */

static int read_password(runner *p, lks_err *err) {
    const char *pw = lks_config_get_str(p->cfg, "database.password");
    const char *pf = lks_config_get_str(p->cfg, "database.password.file");
    const char *env = getenv("LAKESYNC_DATABASE_PASSWORD");
    if (pw) {
        p->password = strdup(pw);
    } else if (pf) {
        FILE *f = fopen(pf, "r");
        if (!f) return lks_err_set(err, LKS_ECONFIG, "run: database.password.file %s: %s", pf, strerror(errno));
        char buf[1024];
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
        buf[strcspn(buf, "\r\n")] = 0;
        p->password = strdup(buf);
        memset(buf, 0, sizeof buf);
    } else if (env) {
        p->password = strdup(env);
    } else {
        return LKS_OK;
    }
    return p->password ? LKS_OK : lks_err_set(err, LKS_ENOMEM, "run: out of memory");
}

static int setup(runner *p, lks_err *err) {
    const lks_config *cfg = p->cfg;
    p->prefix = lks_config_get_str(cfg, "topic.prefix");
    snprintf(p->stream, sizeof p->stream, "binlog:%s", p->prefix);
    snprintf(p->gstream, sizeof p->gstream, "gtid:%s:", p->prefix);
    p->interval_ms = lks_config_get_int(cfg, "merge.interval.ms");
    p->max_events = lks_config_get_int(cfg, "merge.max.events");
    p->idle_ms = lks_config_get_int(cfg, "merge.idle.commit.ms");
    p->end_enc = -1;
    p->st.last_version = -1;
    p->sc.host = lks_config_get_str(cfg, "database.hostname");
    p->sc.port = (int)lks_config_get_int(cfg, "database.port");
    p->sc.socket = lks_config_get_str(cfg, "database.socket");
    p->sc.user = lks_config_get_str(cfg, "database.user");
    p->sc.ssl_mode = lks_config_get_str(cfg, "database.ssl.mode");
    p->sc.ssl_ca = lks_config_get_str(cfg, "database.ssl.truststore");
    p->sc.ssl_cert = p->sc.ssl_key = lks_config_get_str(cfg, "database.ssl.keystore");
    p->sc.server_id = (uint32_t)lks_config_get_int(cfg, "database.server.id");
    /* an idle stream wakes the loop every heartbeat: often enough that the
     * last changes before a quiet spell wait about one interval, not a
     * heartbeat more (no cost under load: the server sends heartbeats only
     * when it has nothing else to send) */
    int64_t hb = p->interval_ms / 4;
    p->sc.heartbeat_ms = (int)(hb < 100 ? 100 : hb > 1000 ? 1000 : hb);
    if (!p->sc.user) return lks_err_set(err, LKS_ECONFIG, "run: database.user is not set");
    int rc = read_password(p, err);
    if (rc) return rc;
    p->sc.password = p->password;
    rc = lks_src_filter_new(lks_config_get_str(cfg, "database.include.list"),
                            lks_config_get_str(cfg, "database.exclude.list"),
                            lks_config_get_str(cfg, "table.include.list"),
                            lks_config_get_str(cfg, "table.exclude.list"), &p->filter, err);
    if (rc) return rc;
    if (!capturing(p->o)) {
        const char *wh = lks_config_get_str(cfg, "warehouse.path");
        if (!wh) wh = lks_config_get_str(cfg, "warehouse");
        lks_store_opts so;
        lks_store_opts_from_config(&so, cfg);
        rc = lks_store_open_opts(wh, &so, &p->wh, err); /* a local one is created when missing */
        if (rc) return lks_err_prefix(err, "run: warehouse %s", wh);
        int n = 0;
        if (lks_config_get_bool(cfg, "delta.enableDeletionVectors"))
            p->props[n++] = (lks_delta_kv){"delta.enableDeletionVectors", "true"};
        p->mo.table_properties = p->props;
        p->mo.ntable_properties = n;
    }
    lks_binlog_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.topic_prefix = p->prefix;
    bo.want_table = want_table;
    bo.want_ud = p;
    rc = lks_binlog_decoder_new(&bo, &p->dec, err);
    if (rc) return rc;
    p->wo.schemas_enable = p->o->events_schemas;
    lks_buf_init(&p->line, 0);
    return LKS_OK;
}

static void teardown(runner *p) {
    lks_src_close(p->aux);
    for (int i = 0; i < p->nhits; i++) {
        free(p->hits[i].db);
        free(p->hits[i].table);
    }
    free(p->hits);
    for (int i = 0; i < p->ntabs; i++) ptable_free(p->tabs[i]);
    free(p->tabs);
    lks_binlog_decoder_free(p->dec);
    lks_src_filter_free(p->filter);
    lks_store_close(p->wh);
    lks_buf_free(&p->line);
    if (p->password) {
        memset(p->password, 0, strlen(p->password));
        free(p->password);
    }
}

static int parse_position(const char *s, char *file, size_t cap, uint64_t *pos, lks_err *err) {
    const char *colon = strrchr(s, ':');
    char *end = NULL;
    if (!colon || colon == s || (size_t)(colon - s) >= cap || !colon[1])
        return lks_err_set(err, LKS_EINVAL, "capture: position '%s' is not FILE:POS", s);
    errno = 0;
    unsigned long long v = strtoull(colon + 1, &end, 10);
    if (errno || *end || v > UINT32_MAX) return lks_err_set(err, LKS_EINVAL, "capture: position '%s' is not FILE:POS", s);
    memcpy(file, s, (size_t)(colon - s));
    file[colon - s] = 0;
    *pos = v;
    return LKS_OK;
}

/* ---- the stream ---------------------------------------------------------------------------------- */

static int stream_from(runner *p, const char *file, uint64_t pos, lks_err *err) {
    snprintf(p->file, sizeof p->file, "%s", file);
    snprintf(p->bfile, sizeof p->bfile, "%s", file);
    p->bpos = pos;
    int backoff_ms = 500;
    lks_src_stream *s = NULL;
    int rc = LKS_OK;
    status(p, "streaming", 1);
    while (!p->done && !(p->o->stop && *p->o->stop)) {
        if (!s) {
            p->in_tx = 0;
            for (int i = 0; i < p->ntabs; i++) p->tabs[i]->touched = 0;
            if (p->gtid_start) {
                p->g = p->start_g;
                rc = lks_src_stream_open_gtid(&p->sc, &p->start_g, &s, err);
            } else {
                rc = lks_src_stream_open(&p->sc, p->bfile, p->bpos, &s, err);
            }
            if (rc == LKS_EIO) {
                lks_log(LKS_LOG_WARN, "run", "%s; retrying in %d ms", err->msg, backoff_ms);
                lks_err_clear(err);
                usleep((useconds_t)backoff_ms * 1000);
                if (backoff_ms < 30000) backoff_ms *= 2;
                continue;
            }
            if (rc) break;
            snprintf(p->file, sizeof p->file, "%s", p->bfile);
            lks_binlog_decoder_set_checksum(p->dec, lks_src_stream_crc32(s));
            rc = lks_binlog_decoder_set_file(p->dec, p->file, err);
            if (rc) break;
        }
        const uint8_t *ev;
        size_t len;
        uint64_t epos;
        rc = lks_src_stream_next(s, &ev, &len, &epos, err);
        if (rc == LKS_EIO) {
            lks_log(LKS_LOG_WARN, "run", "%s; reconnecting", err->msg);
            lks_err_clear(err);
            lks_src_stream_close(s);
            s = NULL;
            rc = LKS_OK;
            continue;
        }
        if (rc) break;
        backoff_ms = 500;
        rc = lks_binlog_feed(p->dec, epos, ev, len, on_item, p, err);
        if (rc) break;
        int64_t t = now_ms();
        if (p->last_ts && !p->in_tx) p->st.lag_s = 0;
        else if (p->last_ts) p->st.lag_s = (double)(t / 1000 - (int64_t)p->last_ts);
        p->st.pos = p->bpos;
        if (!p->in_tx && (p->done || p->held >= p->max_events || t - p->last_commit_ms >= p->interval_ms)) {
            rc = commit_all(p, p->done, err);
            if (rc) break;
        } else if (p->in_tx && p->held >= 4 * p->max_events) {
            /* a huge transaction: commit its first part without moving the
             * position (a restart replays it whole, which converges) */
            rc = commit_all(p, 0, err);
            if (rc) break;
        }
        status(p, NULL, 0);
    }
    lks_src_stream_close(s);
    if (!rc) {
        status(p, "stopping", 1);
        rc = commit_all(p, 1, err);
    }
    return rc;
}

/* Where each lake table's position stands on this server: usable as it is
 * (the file is there and, with GTIDs, holds the same history), readable by
 * GTID (p->gtid_start), or lost — then the table is snapshotted again
 * (snapshot.mode=when_needed, into need[]) or the run stops. */
static int check_positions(runner *p, lks_src_conn *c, const char *mode, ptable **need, int *nneed, lks_err *err) {
    typedef struct seen {
        int64_t pos;
        int ok;
        lks_gtid_pos g;
    } seen;
    seen *cache = calloc((size_t)p->ntabs + 1, sizeof *cache);
    if (!cache) return lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    int ncache = 0, rc = LKS_OK;
    char checked[300] = "";
    int checked_ex = 0;
    ptable **lost = calloc((size_t)p->ntabs + 1, sizeof *lost);
    int nlost = 0;
    if (!lost) rc = lks_err_set(err, LKS_ENOMEM, "run: out of memory");
    for (int i = 0; i < p->ntabs && !rc; i++) {
        ptable *t = p->tabs[i];
        if (t->version < 0) {
            if (strcmp(mode, "never") != 0) need[(*nneed)++] = t;
            continue;
        }
        /* tables mostly stand in the same file: ask the server once per file */
        char tf[300];
        pos_file(p, t->version, tf, sizeof tf);
        if (strcmp(tf, checked) != 0) {
            checked_ex = lks_src_binlog_exists(c, tf, err);
            snprintf(checked, sizeof checked, "%s", tf);
        }
        int ok = checked_ex;
        if (ok < 0) {
            rc = ok;
            break;
        }
        if (ok && p->gtid_on && t->has_g) {
            /* the same file name on another server is another history */
            int k = 0;
            while (k < ncache && cache[k].pos != t->version) k++;
            if (k == ncache) {
                int valid = 0;
                cache[k].pos = t->version;
                rc = lks_src_binlog_gtid_pos(c, tf, (uint64_t)t->version & 0xffffffffu, &cache[k].g, &valid, err);
                if (rc) break;
                cache[k].ok = valid;
                ncache++;
            }
            ok = cache[k].ok && lks_gtid_pos_equal(&cache[k].g, &t->g);
        }
        if (!ok) lost[nlost++] = t;
    }
    free(cache);
    /* on MariaDB, tables that all hold GTID positions are read by GTID */
    int by_gtid = nlost > 0 && p->gtid_on;
    for (int i = 0; i < p->ntabs && by_gtid; i++)
        if (p->tabs[i]->version >= 0 && !p->tabs[i]->has_g) by_gtid = 0;
    if (!rc && by_gtid) {
        /* from the earliest GTID position any table holds, if the server has it */
        int first = 1;
        for (int i = 0; i < p->ntabs; i++) {
            if (p->tabs[i]->version < 0) continue;
            if (first) p->start_g = p->tabs[i]->g;
            else lks_gtid_pos_meet_min(&p->start_g, &p->tabs[i]->g);
            first = 0;
        }
        char tf[300];
        pos_file(p, lost[0]->version, tf, sizeof tf);
        lks_log(LKS_LOG_WARN, "run", "%s: %d table(s) hold binlog positions (%s:%" PRIu64 "…) of another history "
                "(a failover, or purged): resuming by GTID", lks_src_name(c), nlost, tf,
                (uint64_t)lost[0]->version & 0xffffffffu);
        lks_src_stream *probe = NULL;
        if (!p->start_g.n)
            rc = lks_err_set(err, LKS_ENOTFOUND, "run: the lake tables hold no GTID of a common replication domain to "
                             "resume from: set snapshot.mode=when_needed to snapshot them again");
        else
            rc = lks_src_stream_open_gtid(&p->sc, &p->start_g, &probe, err); /* the server's own answer */
        lks_src_stream_close(probe);
        if (!rc) {
            p->gtid_start = 1;
            nlost = 0;
        } else if (rc == LKS_ENOTFOUND && strcmp(mode, "when_needed") == 0) {
            lks_log(LKS_LOG_WARN, "run", "%s", err->msg);
            lks_err_clear(err);
            rc = LKS_OK;
        }
    }
    for (int i = 0; i < nlost && !rc; i++) {
        ptable *t = lost[i];
        char tf[300];
        pos_file(p, t->version, tf, sizeof tf);
        if (strcmp(mode, "when_needed") == 0) {
            lks_log(LKS_LOG_WARN, "run", "%s: its binlog position %s:%" PRIu64 " is not on the server: snapshotting it again",
                    t->name, tf, (uint64_t)t->version & 0xffffffffu);
            t->has_g = 0; /* another history's GTIDs say nothing here */
            t->rebase = 1;
            need[(*nneed)++] = t;
        } else {
            rc = lks_err_set(err, LKS_ENOTFOUND,
                             "run: %s holds binlog position %s:%" PRIu64 ", which %s does not have (purged, or "
                             "another server's history%s): set snapshot.mode=when_needed to snapshot the table again",
                             t->name, tf, (uint64_t)t->version & 0xffffffffu, lks_src_name(c),
                             t->has_g ? "" : "; the table holds no GTID position to resume from");
        }
    }
    free(lost);
    return rc;
}

int lks_pipeline_run(const lks_pipeline_opts *o, lks_err *err) {
    runner p;
    memset(&p, 0, sizeof p);
    p.o = o;
    p.cfg = o->cfg;
    p.rate_ms = p.last_commit_ms = now_ms();
    p.st.last_version = -1;
    status(&p, "connecting", 1);
    int rc = setup(&p, err);
    lks_src_conn *c = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    ptable **need = NULL;
    int nneed = 0;
    char file[256] = "";
    uint64_t pos = 0;
    if (!rc) rc = lks_src_connect(&p.sc, &c, err);
    lks_src_info info;
    if (!rc) rc = lks_src_info_get(c, &info, err);
    if (!rc) rc = lks_src_check(&info, lks_src_name(c), err);
    if (!rc) p.gtid_on = info.mariadb && !capturing(o);
    if (!rc && !lks_src_full_metadata(&info)) {
        p.minimal = 1;
        p.scanned_to = -1;
        lks_log(LKS_LOG_WARN, "run", "%s: binlog_row_metadata is %s: column names and keys come from information_schema, "
                "and a DDL of a table between a row and the binlog end when its columns are read stops the run "
                "(binlog_row_metadata=FULL avoids this)", lks_src_name(c), info.row_metadata[0] ? info.row_metadata : "absent");
    }
    if (!rc && !capturing(o) && info.row_image[0] && strcasecmp(info.row_image, "FULL") != 0)
        rc = lks_err_set(err, LKS_ECONFIG,
                         "run: %s has binlog_row_image=%s: its row events then carry only the columns a statement "
                         "set, and the lake needs whole rows to upsert (deletes alone would work).  Set "
                         "binlog_row_image=FULL (SET GLOBAL binlog_row_image=FULL, or binlog_row_image=FULL in "
                         "my.cnf); `lakesync capture` and `lakesync binlog` do decode partial images",
                         lks_src_name(c), info.row_image);
    if (!rc) rc = lks_src_binlog_end(c, file, sizeof file, &pos, err);
    if (!rc) {
        const char *dot = strrchr(file, '.');
        if (!dot || lks_pipeline_pos_encode(file, pos) < 0)
            rc = lks_err_set(err, LKS_EUNSUPPORTED, "run: binlog file name '%s' has no numeric suffix", file);
        else
            snprintf(p.base, sizeof p.base, "%.*s", (int)(dot - file), file);
    }
    const char **dbs = NULL, **tbs = NULL;
    int n = 0;
    if (!rc) rc = lks_src_list_tables(c, p.filter, &a, &dbs, &tbs, &n, err);
    for (int i = 0; i < n && !rc; i++) {
        ptable *t;
        rc = add_table(&p, dbs[i], tbs[i], &t, err);
    }
    if (!rc) lks_log(LKS_LOG_INFO, "run", "%s (%s): %d table(s) admitted by the filters", lks_src_name(c), info.version, n);
    if (!rc && !(need = calloc((size_t)p.ntabs + 1, sizeof *need))) rc = lks_err_set(err, LKS_ENOMEM, "run: out of memory");

    const char *mode = lks_config_get_str(p.cfg, "snapshot.mode");
    int64_t start = -1;
    if (!rc && o->from_position) {
        char f[256];
        uint64_t fp = 0;
        rc = parse_position(o->from_position, f, sizeof f, &fp, err);
        if (!rc && (start = lks_pipeline_pos_encode(f, fp)) < 0)
            rc = lks_err_set(err, LKS_EINVAL, "capture: position '%s': the file name has no numeric suffix",
                             o->from_position);
    } else if (!rc) {
        rc = check_positions(&p, c, mode, need, &nneed, err);
    }
    if (!rc && nneed) {
        char sf[256];
        uint64_t sp;
        rc = snapshot_tables(&p, need, nneed, sf, sizeof sf, &sp, err);
        if (!rc && capturing(o)) start = lks_pipeline_pos_encode(sf, sp);
    }
    if (!rc && start < 0) {
        int64_t end = lks_pipeline_pos_encode(file, pos);
        lks_gtid_pos eg;
        const lks_gtid_pos *egp = NULL; /* the end's GTID position, asked once */
        int asked = 0;
        for (int i = 0; i < p.ntabs; i++) {
            ptable *t = p.tabs[i];
            if (t->version < 0 && !capturing(o) && !t->gone) {
                /* snapshot.mode=never: the table starts at the binlog end */
                lks_cdc_schema schema;
                int *key = NULL, nkey = 0;
                rc = source_schema(c, t, &a, &schema, &key, &nkey, err);
                if (rc == 1) {
                    rc = LKS_OK;
                    continue;
                }
                if (!rc && !asked) {
                    egp = gtid_at(&p, c, file, pos, &eg, err, &rc);
                    asked = 1;
                }
                if (!rc) rc = commit_position(&p, t, &schema, key, nkey, end, egp, err);
                if (rc) break;
            }
            if (t->version >= 0 && !p.gtid_start && (start < 0 || t->version < start)) start = t->version;
        }
        if (start < 0) start = end;
    }
    if (!rc && p.gtid_start) {
        /* until they catch up, tables tell what they hold by GTID */
        for (int i = 0; i < p.ntabs; i++)
            if (p.tabs[i]->version >= 0 && p.tabs[i]->has_g) p.tabs[i]->by_gtid = 1;
        char gs[1400];
        lks_gtid_pos_format(&p.start_g, gs, sizeof gs);
        lks_log(LKS_LOG_INFO, "run", "streaming from GTID position %s", gs);
    }
    if (!rc && o->stop_at_end) {
        char ef[256];
        uint64_t ep;
        rc = lks_src_binlog_end(c, ef, sizeof ef, &ep, err);
        if (!rc) p.end_enc = lks_pipeline_pos_encode(ef, ep);
        if (!rc && !p.gtid_start && p.end_enc <= start) p.done = 1;
    }
    if (!rc && !p.gtid_start && p.gtid_on && start >= 0) {
        /* the GTID position the stream starts at, moved on by each transaction */
        char sf[300];
        pos_file(&p, start, sf, sizeof sf);
        gtid_at(&p, c, sf, (uint64_t)start & 0xffffffffu, &p.g, err, &rc);
    }
    lks_src_close(c);
    c = NULL;
    if (!rc && !(o->stop && *o->stop)) {
        char sf[300];
        pos_file(&p, start, sf, sizeof sf);
        if (p.gtid_start)
            sf[0] = 0;
        else
            lks_log(LKS_LOG_INFO, "run", "streaming from %s:%" PRIu64, sf, (uint64_t)start & 0xffffffffu);
        if (p.done) {
            snprintf(p.file, sizeof p.file, "%s", sf);
            snprintf(p.bfile, sizeof p.bfile, "%s", sf);
            p.bpos = (uint64_t)start & 0xffffffffu;
            rc = commit_all(&p, 1, err);
        } else {
            rc = stream_from(&p, sf, (uint64_t)start & 0xffffffffu, err);
        }
    }
    lks_src_close(c);
    free(need);
    lks_arena_free(&a);
    teardown(&p);
    return rc;
}
