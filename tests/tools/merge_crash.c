/*
 * merge_crash.c — random change streams in a raw zone, and the table they
 * must end in (for tests/scenario/merge_crash.sh).
 *
 *   merge_crash gen RAW SEED OPS ROUNDS ROUND
 *       publishes, under RAW/topics/, the raw objects of rounds 1..ROUND of
 *       the stream SEED (OPS operations cut into ROUNDS rounds).  Idempotent:
 *       run it with increasing ROUND as the sink would write over time.
 *   merge_crash model SEED OPS ROUNDS
 *       prints the table after all rounds, one JSON line per row as
 *       `lakesync table scan --format jsonl` prints it, sorted.
 *
 * The stream is one table `rnd.db.items` (id int, name string, qty long,
 * note string nullable) in 2 partitions (partition = id % 2, as Kafka
 * partitions by key): inserts (`c`, sometimes `r`), updates, deletes
 * followed by their tombstone, primary-key changes (an `u` whose before and
 * after keys differ when both keys live in one partition, else Debezium's
 * delete + tombstone + create), and runs of events on a few hot keys.
 * Every event is written with or without the schema envelope at random.
 * Each round's records are cut into objects of 1..24 lines; the last object
 * of a partition in a round is sometimes published short and rewritten
 * whole in the next round (a retrying sink), so offsets overlap.
 */
#include "core/core.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPART 2
#define TOPIC "rnd.db.items"
#define MAXID 100000

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

typedef struct row {
    int live;
    char name[32];
    long long qty;
    int has_note;
    char note[32];
} row;

typedef struct rec {
    char *value; /* line without newline */
    int round;
} rec;

typedef struct part {
    rec *recs;
    int n, cap;
} part;

static row *model;
static part parts[NPART];
static lks_buf tmp;

static void push(int p, const char *line, int round) {
    part *pp = &parts[p];
    if (pp->n == pp->cap) {
        pp->cap = pp->cap ? pp->cap * 2 : 256;
        pp->recs = realloc(pp->recs, (size_t)pp->cap * sizeof *pp->recs);
        if (!pp->recs)
            abort();
    }
    pp->recs[pp->n].value = strdup(line);
    pp->recs[pp->n].round = round;
    pp->n++;
}

static const char ROW_FIELDS[] =
    "[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},{\"type\":\"string\",\"optional\":true,"
    "\"field\":\"name\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"qty\"},{\"type\":\"string\","
    "\"optional\":true,\"field\":\"note\"}]";

static void row_json(lks_buf *b, int id, const row *r) {
    if (!r) {
        lks_buf_printf(b, "null");
        return;
    }
    lks_buf_printf(b, "{\"id\":%d,\"name\":\"%s\",\"qty\":%lld,\"note\":", id, r->name, r->qty);
    if (r->has_note)
        lks_buf_printf(b, "\"%s\"", r->note);
    else
        lks_buf_printf(b, "null");
    lks_buf_printf(b, "}");
}

static long long pos_counter = 4;

/* One event line into partition p. */
static void emit(int round, int p, char op, int bid, const row *before, int aid, const row *after) {
    lks_buf_reset(&tmp);
    int env = rndn(2);
    if (env) {
        lks_buf_printf(
            &tmp,
            "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":%s,"
            "\"optional\":true,\"name\":\"" TOPIC ".Value\",\"field\":\"before\"},"
            "{\"type\":\"struct\",\"fields\":%s,\"optional\":true,\"name\":\"" TOPIC ".Value\",\"field\":\"after\"},"
            "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":"
            "\"connector\"},{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
            "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},{\"type\":\"string\","
            "\"optional\":true,\"field\":\"table\"},{\"type\":\"string\",\"optional\":false,"
            "\"field\":\"file\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"},"
            "{\"type\":\"int32\",\"optional\":false,\"field\":\"row\"}],\"optional\":false,"
            "\"name\":\"io.debezium.connector.mysql.Source\",\"field\":\"source\"},"
            "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\","
            "\"optional\":true,\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"" TOPIC ".Envelope\"},\"payload\":",
            ROW_FIELDS, ROW_FIELDS);
    }
    lks_buf_printf(&tmp, "{\"before\":");
    row_json(&tmp, bid, before);
    lks_buf_printf(&tmp, ",\"after\":");
    row_json(&tmp, aid, after);
    /* `r` rows of a snapshot share one position: the stream order decides */
    long long pos = op == 'r' ? 4 : (pos_counter += 100);
    lks_buf_printf(&tmp,
                   ",\"source\":{\"connector\":\"mysql\",\"name\":\"rnd\",\"db\":\"db\",\"table\":\"items\","
                   "\"file\":\"mysql-bin.000001\",\"pos\":%lld,\"row\":0},\"op\":\"%c\",\"ts_ms\":1700000000000}",
                   pos, op);
    if (env)
        lks_buf_printf(&tmp, "}");
    lks_buf_cstr(&tmp);
    push(p, (const char *)tmp.ptr, round);
}

static void fill(row *r, int id, int serial) {
    r->live = 1;
    snprintf(r->name, sizeof r->name, "n%d_%d", id, serial);
    r->qty = (long long)(rnd() % 2000001) - 1000000;
    r->has_note = rndn(3) == 0;
    if (r->has_note)
        snprintf(r->note, sizeof r->note, "note%d", rndn(1000));
}

/* Generates the whole stream, applying it to the model. */
static void generate(uint64_t seed, int ops, int rounds) {
    rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
    model = calloc(MAXID, sizeof *model);
    if (!model)
        abort();
    lks_buf_init(&tmp, 0);
    int *live = malloc(MAXID * sizeof *live); /* ids that are live (unordered; rebuilt lazily) */
    int nlive = 0;
    int hot[4] = {0, 0, 0, 0};
    int serial = 0;
    int next_new = 1;
    for (int i = 0; i < ops; i++) {
        int round = 1 + (int)((long long)i * rounds / ops);
        /* refresh the live list now and then */
        if (i % 16 == 0) {
            nlive = 0;
            for (int id = 1; id < next_new && id < MAXID; id++)
                if (model[id].live)
                    live[nlive++] = id;
        }
        int dice = rndn(100);
        int id = 0;
        if (nlive > 0) {
            id = live[rndn(nlive)];
            int h = hot[rndn(4)];
            if (rndn(3) == 0 && h && model[h].live) /* hot keys repeat */
                id = h;
            if (!model[id].live)
                dice = 0; /* stale pick: insert instead */
        } else {
            dice = 0;
        }
        serial++;
        if (dice < 35 || next_new < 20) {
            /* insert a new key (or re-insert a deleted one) */
            int nid = rndn(8) == 0 && next_new > 10 ? 1 + rndn(next_new - 1) : next_new++;
            if (model[nid].live)
                nid = next_new++;
            if (nid >= MAXID)
                break;
            row r;
            fill(&r, nid, serial);
            emit(round, nid % NPART, rndn(6) == 0 ? 'r' : 'c', 0, NULL, nid, &r);
            model[nid] = r;
            hot[rndn(4)] = nid;
        } else if (dice < 75) {
            row r = model[id];
            fill(&r, id, serial);
            if (rndn(5) == 0)
                emit(round, id % NPART, 'c', 0, NULL, id, &r); /* `c` of an existing key: an upsert */
            else
                emit(round, id % NPART, 'u', id, &model[id], id, &r);
            model[id] = r;
            hot[rndn(4)] = id;
        } else if (dice < 88) {
            emit(round, id % NPART, 'd', id, &model[id], 0, NULL);
            push(id % NPART, "null", round);
            model[id].live = 0;
        } else {
            /* primary-key change id → nid */
            int nid = next_new++;
            if (nid >= MAXID)
                break;
            row r = model[id];
            fill(&r, nid, serial);
            if (id % NPART == nid % NPART) {
                emit(round, id % NPART, 'u', id, &model[id], nid, &r);
            } else {
                emit(round, id % NPART, 'd', id, &model[id], 0, NULL);
                push(id % NPART, "null", round);
                emit(round, nid % NPART, 'c', 0, NULL, nid, &r);
            }
            model[id].live = 0;
            model[nid] = r;
            hot[rndn(4)] = nid;
        }
    }
    free(live);
}

static int publish(lks_store *st, int p, long long start, int nlines, lks_err *err) {
    lks_buf b;
    lks_buf_init(&b, 0);
    for (int i = 0; i < nlines; i++) {
        const char *v = parts[p].recs[start + i].value;
        lks_buf_append(&b, v, strlen(v));
        lks_buf_append_byte(&b, '\n');
    }
    char key[256];
    snprintf(key, sizeof key, "topics/" TOPIC "/partition=%d/" TOPIC "+%d+%010lld.json", p, p, start);
    int rc = lks_store_put(st, key, b.ptr, b.len, err);
    lks_buf_free(&b);
    return rc;
}

static int cmd_gen(const char *raw, uint64_t seed, int ops, int rounds, int upto) {
    generate(seed, ops, rounds);
    lks_err err = {0};
    lks_store *st;
    if (lks_store_open(raw, &st, &err) != LKS_OK) {
        fprintf(stderr, "merge_crash: %s\n", err.msg);
        return 1;
    }
    /* object cuts depend only on the seed, not on `upto` */
    rng_state = seed ^ 0xA5A5A5A5DEADBEEFull;
    for (int p = 0; p < NPART; p++) {
        int i = 0;
        while (i < parts[p].n) {
            int round = parts[p].recs[i].round;
            int end = i;
            while (end < parts[p].n && parts[p].recs[end].round == round)
                end++;
            /* the records of this round: objects of 1..24 lines */
            int j = i;
            while (j < end) {
                int len = 1 + rndn(24);
                if (j + len > end)
                    len = end - j;
                int last = j + len == end;
                int short_len = last && len > 1 && rndn(2) ? 1 + rndn(len - 1) : len;
                if (round < upto || (round == upto && short_len == len)) {
                    if (publish(st, p, j, len, &err) != LKS_OK)
                        goto fail;
                } else if (round == upto) {
                    if (publish(st, p, j, short_len, &err) != LKS_OK)
                        goto fail;
                }
                j += len;
            }
            i = end;
        }
    }
    lks_store_close(st);
    return 0;
fail:
    fprintf(stderr, "merge_crash: %s\n", err.msg);
    lks_store_close(st);
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmd_model(uint64_t seed, int ops, int rounds) {
    generate(seed, ops, rounds);
    char **lines = malloc(MAXID * sizeof *lines);
    int n = 0;
    lks_buf b;
    lks_buf_init(&b, 0);
    for (int id = 1; id < MAXID; id++) {
        if (!model[id].live)
            continue;
        lks_buf_reset(&b);
        row_json(&b, id, &model[id]);
        lks_buf_cstr(&b);
        lines[n++] = strdup((const char *)b.ptr);
    }
    qsort(lines, (size_t)n, sizeof *lines, cmp_str);
    for (int i = 0; i < n; i++)
        printf("%s\n", lines[i]);
    lks_buf_free(&b);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    if (argc == 5 && strcmp(argv[1], "model") == 0)
        return cmd_model(strtoull(argv[2], NULL, 10), atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: merge_crash gen RAW SEED OPS ROUNDS ROUND\n"
                    "       merge_crash model SEED OPS ROUNDS\n");
    return 2;
}
