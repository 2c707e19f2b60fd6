/* cmd_run.c — `lakesync run` (a MySQL/MariaDB source into Delta tables) and
 * `lakesync capture` (the same source as Debezium JSON lines). */
#include "cli/cli.h"
#include "pipeline/pipeline.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: lakesync run -c FILE [-o KEY=VALUE]... [--stop-at-end]\n"
    "\n"
    "Keeps Delta tables in sync with a MySQL/MariaDB database: snapshots the tables\n"
    "the lake does not hold yet (one consistent read view, no global lock on\n"
    "MariaDB), then follows the binlog and applies every insert, update and delete\n"
    "to <warehouse>/<db>/<table> as UPSERTs, committing every merge.interval.ms at\n"
    "a source transaction boundary.  Each commit stores the binlog position with\n"
    "the data (a `txn` action \"lakesync:binlog:<topic.prefix>\"), so a run that is\n"
    "stopped or killed continues exactly where each table stands.\n"
    "\n"
    "  -c FILE         properties file (see `lakesync config list`: database.*,\n"
    "                  table.include.list, snapshot.mode, warehouse, merge.*)\n"
    "  -o KEY=VALUE    set one property (after the file; repeatable)\n"
    "  --stop-at-end   exit once the binlog end seen at start is in the lake\n"
    "                  (default: run until SIGINT/SIGTERM, then commit and exit 0)\n"
    "\n"
    "The server needs binlog_format=ROW and binlog_row_metadata=FULL (MariaDB >=\n"
    "10.5, MySQL >= 8.0.1); the user needs SELECT, RELOAD, SHOW DATABASES,\n"
    "REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: also BINLOG MONITOR).\n"
    "A status line (phase, events/s, lag, last version, binlog position) is drawn\n"
    "on a terminal; -v logs every commit.\n";

static const char capture_usage[] =
    "usage: lakesync capture -c FILE [-o KEY=VALUE]... [--stop-at-end] [--schemas]\n"
    "                        [--from-position FILE:POS]\n"
    "\n"
    "Writes the changes of a MySQL/MariaDB database to stdout as Debezium change\n"
    "events (the MySQL connector's JSON, one line per row change and nothing\n"
    "else): first a snapshot of the admitted tables as `r` events (per\n"
    "snapshot.mode), then the binlog's inserts, updates and deletes.  Logs and\n"
    "the status line go to stderr.\n"
    "\n"
    "  -c FILE, -o KEY=VALUE, --stop-at-end   as for `lakesync run`\n"
    "  --schemas                 each line with the {\"schema\",\"payload\"} envelope\n"
    "  --from-position FILE:POS  no snapshot: stream from this binlog position\n"
    "\n"
    "capture stores no position: resume with --from-position (each event's\n"
    "source.file and source.pos say where it is; a transaction interrupted by a\n"
    "lost connection is sent again from its start).\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void draw_status(void *ud, const lks_pipeline_status *st) {
    (void)ud;
    char line[256];
    if (st->phase && strcmp(st->phase, "snapshot") == 0 && st->table) {
        if (st->snap_total > 0)
            snprintf(line, sizeof line, "snapshot %s: %lld of ~%lld rows (%.0f%%)", st->table, (long long)st->snap_rows,
                     (long long)st->snap_total,
                     st->snap_rows >= st->snap_total ? 100.0 : 100.0 * (double)st->snap_rows / (double)st->snap_total);
        else
            snprintf(line, sizeof line, "snapshot %s: %lld rows", st->table, (long long)st->snap_rows);
    } else {
        snprintf(line, sizeof line, "%s | %lld events, %.0f/s | lag %.0f s | %lld commits, last version %lld | %s:%llu",
                 st->phase ? st->phase : "", (long long)st->events, st->events_per_s, st->lag_s,
                 (long long)st->commits, (long long)st->last_version, st->file ? st->file : "",
                 (unsigned long long)st->pos);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static int run_or_capture(int argc, char **argv, int capture) {
    const char *name = capture ? "capture" : "run";
    const char *conf = NULL, *from = NULL;
    char **ov = calloc((size_t)argc + 1, sizeof *ov);
    int nov = 0, stop_at_end = 0, schemas = 0;
    if (!ov) return lks_cli_errorf("out of memory");
    int rc = LKS_EXIT_OK;
    for (int i = 1; i < argc && rc == LKS_EXIT_OK; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(capture ? capture_usage : run_usage, stdout);
            free(ov);
            return LKS_EXIT_OK;
        } else if ((m = lks_cli_opt_value(name, argc, argv, &i, "-c", &v)) != 0 ||
                   (m = lks_cli_opt_value(name, argc, argv, &i, "--config", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else conf = v;
        } else if ((m = lks_cli_opt_value(name, argc, argv, &i, "-o", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else ov[nov++] = (char *)v;
        } else if (strcmp(argv[i], "--stop-at-end") == 0) {
            stop_at_end = 1;
        } else if (capture && strcmp(argv[i], "--schemas") == 0) {
            schemas = 1;
        } else if (capture && (m = lks_cli_opt_value(name, argc, argv, &i, "--from-position", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else from = v;
        } else {
            rc = lks_cli_usage_error(name, "unknown argument '%s'", argv[i]);
        }
    }
    if (rc == LKS_EXIT_OK && !conf && !nov) rc = lks_cli_usage_error(name, "needs -c FILE (or -o KEY=VALUE settings)");
    lks_config *cfg = NULL;
    if (rc == LKS_EXIT_OK) rc = lks_cli_load_config(conf, ov, nov, &cfg);
    free(ov);
    if (rc != LKS_EXIT_OK) return rc;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lks_pipeline_opts o;
    memset(&o, 0, sizeof o);
    o.cfg = cfg;
    o.stop_at_end = stop_at_end;
    o.stop = &stop_flag;
    o.events_out = capture ? stdout : NULL;
    o.events_schemas = schemas;
    o.from_position = from;
    int tty = isatty(STDERR_FILENO);
    if (tty) o.status = draw_status;
    lks_err err;
    lks_err_clear(&err);
    int r = lks_pipeline_run(&o, &err);
    if (tty) fputs("\r\033[K", stderr);
    lks_config_free(cfg);
    if (r != LKS_OK) return lks_cli_error(&err);
    if (capture && fflush(stdout) != 0) return lks_cli_errorf("capture: writing stdout failed");
    return LKS_EXIT_OK;
}

int lks_cmd_run(int argc, char **argv) { return run_or_capture(argc, argv, 0); }
int lks_cmd_capture(int argc, char **argv) { return run_or_capture(argc, argv, 1); }
