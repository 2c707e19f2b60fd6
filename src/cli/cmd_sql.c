/* cmd_sql.c — `lakesync sql`: SQL over every table of a warehouse with the
 * SQLite engine (the delta virtual-table module and the warehouse
 * catalogue of src/sql/), one query from the command line or an
 * interactive shell. */
#include "cli/cli.h"
#include "sql/sql.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef LKS_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

static const char usage_text[] =
    "usage: lakesync sql [--warehouse URI] [--config FILE] [--format table|csv|jsonl]\n"
    "                    [--as-of VERSION|TIMESTAMP] [QUERY]\n"
    "\n"
    "Runs SQL (SQLite's dialect) over the Delta tables of a warehouse.  Every\n"
    "table <warehouse>/<db>/<table>/ is visible as db.table and, when no other\n"
    "database has a table of that name, as table; names match case-insensitively.\n"
    "With QUERY (one or more statements separated by ';') the results are printed\n"
    "and the first failing statement ends the command with exit status 1.\n"
    "Without QUERY an interactive shell reads statements from standard input\n"
    "(with line editing and history in ~/.lakesync_history on a terminal).\n"
    "\n"
    "  --warehouse URI   the warehouse: a directory, file:///URI or\n"
    "                    s3://bucket/prefix (default: the configuration property\n"
    "                    `warehouse`, itself ./warehouse by default)\n"
    "  --config FILE     a .properties file to take `warehouse` and the s3.*\n"
    "                    settings (s3.endpoint, s3.region, ...) from\n"
    "  --format FMT      table (default on a terminal), jsonl (default otherwise)\n"
    "                    or csv; values as DESIGN.md \"Rows as text\" says: integers\n"
    "                    and reals as JSON numbers, decimals as exact text,\n"
    "                    timestamps ISO-8601, blobs base64, NULL as null\n"
    "  --as-of V         reads every table as of version V (an integer) or as of a\n"
    "                    time (\"2024-05-01 12:00:00\", UTC unless it has an offset)\n"
    "\n"
    "Time travel in SQL: the hidden columns _version and _timestamp of every table,\n"
    "  SELECT * FROM salesdb.customer(3)                 -- as of version 3\n"
    "  SELECT * FROM customer(NULL, '2024-05-01 12:00')  -- as of a time\n"
    "  SELECT * FROM customer WHERE _version = 3\n"
    "or CREATE VIRTUAL TABLE t USING delta('/path/to/table', version=3).\n"
    "\n"
    "Shell commands:\n"
    "  .tables            the warehouse's tables\n"
    "  .schema [TABLE]    columns and types of a table (all tables without TABLE)\n"
    "  .format FMT        table, csv or jsonl\n"
    "  .help              this list\n"
    "  .quit              leave (so does end of input)\n"
    "\n"
    "In the shell an error is printed and the shell goes on; when standard input\n"
    "is not a terminal the exit status is 1 if any statement failed.\n";

static const char shell_help[] = ".tables            the warehouse's tables\n"
                                 ".schema [TABLE]    columns and types of a table (all tables without TABLE)\n"
                                 ".format FMT        table, csv or jsonl\n"
                                 ".help              this list\n"
                                 ".quit              leave (so does end of input)\n"
                                 "Statements end with ';'.  `lakesync sql --help` says more.\n";

typedef struct sqlsess {
    const char *uri; /* the warehouse */
    sqlite3 *db;
    lks_sql_warehouse *wh;
    int fmt;
    int quit;     /* .quit seen */
    int write_rc; /* a write to stdout failed: stop */
    lks_buf cells, msg;
} sqlsess;

static void sql_error(const char *fmt, ...) LKS_PRINTF(1, 2);
static void sql_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lakesync sql: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Prints SQLite's current error, clearer where the catalogue can say more. */
static void sqlite_error(sqlsess *ss) {
    const char *m = sqlite3_errmsg(ss->db);
    lks_buf_reset(&ss->msg);
    if (lks_sql_warehouse_explain(ss->wh, m, &ss->msg) && lks_buf_cstr(&ss->msg) == LKS_OK)
        m = (const char *)ss->msg.ptr;
    sql_error("%s", m);
}

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

/* Prints the rows of one prepared statement.  Returns 0, or 1 after
 * printing the error. */
static int print_rows(sqlsess *ss, sqlite3_stmt *st) {
    int ncol = sqlite3_column_count(st);
    lks_cli_rowout *o = NULL;
    lks_cli_cell *cells = NULL;
    size_t *offs = NULL;
    uint8_t *boolean = NULL; /* per column: declared BOOLEAN, so 0/1 print as false/true */
    if (ncol > 0) {
        const char **names = calloc((size_t)ncol, sizeof *names);
        cells = calloc((size_t)ncol, sizeof *cells);
        offs = calloc((size_t)ncol, sizeof *offs);
        boolean = calloc((size_t)ncol, 1);
        int rc = names && cells && offs && boolean ? LKS_EXIT_OK : LKS_EXIT_ERR;
        if (rc != LKS_EXIT_OK)
            sql_error("out of memory");
        for (int i = 0; i < ncol && rc == LKS_EXIT_OK; i++) {
            names[i] = sqlite3_column_name(st, i);
            const char *dt = sqlite3_column_decltype(st, i);
            boolean[i] = dt && strcasecmp(dt, "BOOLEAN") == 0;
        }
        if (rc == LKS_EXIT_OK)
            rc = lks_cli_rowout_open_names(names, ncol, ss->fmt, stdout, &o);
        free(names);
        if (rc != LKS_EXIT_OK) {
            free(cells);
            free(offs);
            free(boolean);
            return 1;
        }
    }
    int failed = 0;
    for (;;) {
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            sqlite_error(ss);
            failed = 1;
            break;
        }
        if (!o)
            continue;
        lks_buf *b = &ss->cells;
        lks_buf_reset(b);
        int rc = LKS_OK;
        for (int i = 0; i < ncol && rc == LKS_OK; i++) {
            offs[i] = b->len;
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_NULL: cells[i].kind = LKS_CLI_CELL_NULL; break;
            case SQLITE_INTEGER: {
                long long v = sqlite3_column_int64(st, i);
                cells[i].kind = LKS_CLI_CELL_RAW;
                if (boolean[i] && (v == 0 || v == 1))
                    rc = lks_buf_append(b, v ? "true" : "false", v ? 4 : 5);
                else
                    rc = lks_buf_printf(b, "%lld", v);
                break;
            }
            case SQLITE_FLOAT: {
                char num[32];
                double v = sqlite3_column_double(st, i);
                int n = lks_fmt_double(num, v);
                cells[i].kind = v - v == 0 ? LKS_CLI_CELL_RAW : LKS_CLI_CELL_STR; /* NaN, ±Infinity as strings */
                rc = lks_buf_append(b, num, (size_t)n);
                break;
            }
            case SQLITE_BLOB: {
                const void *p = sqlite3_column_blob(st, i);
                cells[i].kind = LKS_CLI_CELL_STR;
                rc = lks_base64_encode(b, p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            default: {
                const unsigned char *p = sqlite3_column_text(st, i);
                cells[i].kind = LKS_CLI_CELL_STR;
                rc = p ? lks_buf_append(b, p, (size_t)sqlite3_column_bytes(st, i)) : LKS_ENOMEM;
                break;
            }
            }
        }
        if (rc != LKS_OK) {
            sql_error("out of memory");
            failed = 1;
            break;
        }
        for (int i = 0; i < ncol; i++) {
            cells[i].p = b->ptr ? (const char *)b->ptr + offs[i] : "";
            cells[i].len = (i + 1 < ncol ? offs[i + 1] : b->len) - offs[i];
        }
        if (lks_cli_rowout_cells(o, cells) != LKS_EXIT_OK) {
            ss->write_rc = 1;
            failed = 1;
            break;
        }
    }
    if (o) {
        if (lks_cli_rowout_finish(o) != LKS_EXIT_OK) {
            ss->write_rc = 1;
            failed = 1;
        }
        lks_cli_rowout_free(o);
    }
    free(cells);
    free(offs);
    free(boolean);
    if (fflush(stdout) != 0 && !ss->write_rc) {
        sql_error("write error: %s", strerror(errno));
        ss->write_rc = 1;
        failed = 1;
    }
    return failed;
}

/* Runs one statement (text of a complete statement, or the unterminated
 * rest of the input).  Returns 0, or 1 after printing the error. */
static int run_statement(sqlsess *ss, const char *text, size_t len) {
    if (only_space(text, len))
        return 0;
    lks_buf q;
    lks_buf_init(&q, 0);
    lks_err err;
    lks_err_clear(&err);
    if (lks_sql_warehouse_rewrite(ss->wh, text, len, &q, &err) != LKS_OK) {
        lks_buf_free(&q);
        sql_error("%s", err.msg[0] ? err.msg : lks_strerror(err.code));
        return 1;
    }
    const char *p = (const char *)q.ptr, *end = p + q.len;
    int failed = 0;
    while (p < end && !failed) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(ss->db, p, (int)(end - p), &st, &tail) != SQLITE_OK) {
            sqlite_error(ss);
            failed = 1;
            break;
        }
        if (!st) /* only a comment or spaces */
            break;
        failed = print_rows(ss, st);
        sqlite3_finalize(st);
        p = tail ? tail : end;
    }
    lks_buf_free(&q);
    return failed;
}

/* Runs every statement of text; stops at the first failure when
 * stop_on_error.  Returns the number of failed statements. */
static int run_text(sqlsess *ss, const char *text, size_t len, int stop_on_error) {
    int nfail = 0;
    while (len > 0 && !ss->write_rc) {
        size_t n = lks_sql_statement_len(text, len);
        if (n == 0)
            n = len; /* the last statement may lack its ';' */
        if (run_statement(ss, text, n)) {
            nfail++;
            if (stop_on_error)
                break;
        }
        text += n;
        len -= n;
    }
    return nfail;
}

/* ---- meta-commands ------------------------------------------------------------------- */

static int meta_tables(sqlsess *ss) {
    size_t n = lks_sql_warehouse_count(ss->wh);
    for (size_t i = 0; i < n; i++) {
        const char *db, *name;
        int amb;
        lks_sql_warehouse_table(ss->wh, i, &db, &name, &amb);
        (void)amb;
        printf("%s.%s\n", db, name);
    }
    if (n == 0)
        fprintf(stderr, "lakesync sql: the warehouse has no tables\n");
    return 0;
}

/* Prints "CREATE TABLE name (…);" from the columns SQLite knows. */
static int schema_of(sqlsess *ss, const char *name) {
    char qual[1024];
    if (!strchr(name, '.')) { /* a bare name: show it as db.table */
        for (size_t i = 0, n = lks_sql_warehouse_count(ss->wh); i < n; i++) {
            const char *db, *tn;
            int amb;
            lks_sql_warehouse_table(ss->wh, i, &db, &tn, &amb);
            if (!amb && strcasecmp(tn, name) == 0 && (size_t)snprintf(qual, sizeof qual, "%s.%s", db, tn) < sizeof qual)
                name = qual;
        }
    }
    lks_buf vt;
    lks_buf_init(&vt, 0);
    lks_err err;
    lks_err_clear(&err);
    if (lks_sql_warehouse_use(ss->wh, name, &vt, &err) != LKS_OK || lks_buf_cstr(&vt) != LKS_OK) {
        lks_buf_free(&vt);
        sql_error("%s", err.msg[0] ? err.msg : lks_strerror(err.code));
        return 1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ss->db, "SELECT name, type, \"notnull\", hidden FROM pragma_table_xinfo(?1, 'temp')", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)vt.ptr, (int)vt.len, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite_error(ss);
        sqlite3_finalize(st);
        lks_buf_free(&vt);
        return 1;
    }
    lks_buf out, hidden;
    lks_buf_init(&out, 0);
    lks_buf_init(&hidden, 0);
    lks_buf_printf(&out, "CREATE TABLE %s (", (const char *)vt.ptr);
    int ncol = 0, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cn = (const char *)sqlite3_column_text(st, 0), *ty = (const char *)sqlite3_column_text(st, 1);
        if (sqlite3_column_int(st, 3)) {
            lks_buf_printf(&hidden, "%s%s", hidden.len ? ", " : "", cn ? cn : "");
            continue;
        }
        lks_buf_printf(&out, "%s\n  %s%s%s%s", ncol++ ? "," : "", cn ? cn : "", ty && *ty ? " " : "", ty ? ty : "",
                       sqlite3_column_int(st, 2) ? " NOT NULL" : "");
    }
    lks_buf_printf(&out, "\n);");
    if (hidden.len)
        lks_buf_printf(&out, " -- hidden: %.*s", (int)hidden.len, (const char *)hidden.ptr);
    lks_buf_append_byte(&out, '\n');
    int failed = 0;
    if (src != SQLITE_DONE) {
        sqlite_error(ss);
        failed = 1;
    } else if (lks_cli_write(stdout, &out) != LKS_EXIT_OK) {
        ss->write_rc = 1;
        failed = 1;
    }
    sqlite3_finalize(st);
    lks_buf_free(&out);
    lks_buf_free(&hidden);
    lks_buf_free(&vt);
    return failed;
}

static int meta_schema(sqlsess *ss, const char *arg) {
    if (*arg)
        return schema_of(ss, arg);
    int failed = 0;
    size_t n = lks_sql_warehouse_count(ss->wh);
    char name[1024];
    for (size_t i = 0; i < n && !ss->write_rc; i++) {
        const char *db, *tn;
        int amb;
        lks_sql_warehouse_table(ss->wh, i, &db, &tn, &amb);
        snprintf(name, sizeof name, "%s.%s", db, tn);
        failed |= schema_of(ss, name);
    }
    return failed;
}

/* Runs one ".command args" line.  Returns 0, or 1 after printing the error. */
static int run_meta(sqlsess *ss, char *line) {
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ';'))
        p[--n] = 0;
    char *arg = p + strcspn(p, " \t");
    if (*arg)
        *arg++ = 0;
    while (*arg == ' ' || *arg == '\t')
        arg++;
    if (strcmp(p, ".quit") == 0 || strcmp(p, ".exit") == 0 || strcmp(p, ".q") == 0) {
        ss->quit = 1;
        return 0;
    }
    if (strcmp(p, ".help") == 0) {
        fputs(shell_help, stdout);
        return 0;
    }
    if (strcmp(p, ".tables") == 0)
        return meta_tables(ss);
    if (strcmp(p, ".schema") == 0)
        return meta_schema(ss, arg);
    if (strcmp(p, ".format") == 0 || strcmp(p, ".mode") == 0) {
        static const char *const names[] = {"table", "csv", "jsonl"};
        for (int i = 0; i < 3; i++)
            if (strcmp(arg, names[i]) == 0) {
                ss->fmt = i;
                return 0;
            }
        sql_error("unknown format '%s' (expected table, csv or jsonl)", arg);
        return 1;
    }
    sql_error("unknown command '%s' (.help lists them)", p);
    return 1;
}

/* ---- the shell ------------------------------------------------------------------------ */

typedef struct reader {
    int tty;
    char *line;
    size_t cap;
    char *hist; /* history file, NULL: none */
} reader;

/* The next input line without its newline, or NULL at end of input.
 * Valid until the next call. */
static char *read_line(reader *r, const char *prompt) {
#ifdef LKS_HAVE_LIBEDIT
    if (r->tty) {
        free(r->line);
        r->line = readline(prompt);
        if (r->line && *r->line)
            add_history(r->line);
        return r->line;
    }
#endif
    if (r->tty) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    ssize_t n = getline(&r->line, &r->cap, stdin);
    if (n < 0)
        return NULL;
    if (n > 0 && r->line[n - 1] == '\n')
        r->line[n - 1] = 0;
    return r->line;
}

static int shell(sqlsess *ss) {
    reader r = {0};
    r.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
#ifdef LKS_HAVE_LIBEDIT
    const char *home = getenv("HOME");
    if (r.tty && home && *home && (r.hist = malloc(strlen(home) + 32)) != NULL) {
        sprintf(r.hist, "%s/.lakesync_history", home);
        using_history();
        stifle_history(1000);
        read_history(r.hist);
    }
#endif
    if (r.tty)
        printf("lakesync sql on %s (SQLite %s); .help for help, .quit to leave\n", ss->uri, sqlite3_libversion());
    lks_buf pending;
    lks_buf_init(&pending, 0);
    int nfail = 0;
    while (!ss->quit && !ss->write_rc) {
        char *line = read_line(&r, pending.len ? "     ...> " : "lakesync> ");
        if (!line)
            break;
        if (pending.len == 0) {
            const char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '.') {
                nfail += run_meta(ss, line);
                continue;
            }
        }
        if (lks_buf_append(&pending, line, strlen(line)) != LKS_OK || lks_buf_append_byte(&pending, '\n') != LKS_OK) {
            sql_error("out of memory");
            nfail++;
            break;
        }
        size_t n;
        while ((n = lks_sql_statement_len((const char *)pending.ptr, pending.len)) > 0) {
            nfail += run_statement(ss, (const char *)pending.ptr, n);
            memmove(pending.ptr, pending.ptr + n, pending.len - n);
            pending.len -= n;
        }
        if (only_space((const char *)pending.ptr, pending.len))
            lks_buf_reset(&pending);
    }
    if (!ss->quit && pending.len)
        nfail += run_text(ss, (const char *)pending.ptr, pending.len, 0);
    if (r.tty && !ss->quit)
        fputc('\n', stdout);
#ifdef LKS_HAVE_LIBEDIT
    if (r.hist) {
        write_history(r.hist);
        free(r.hist);
    }
#endif
    lks_buf_free(&pending);
    free(r.line);
    if (ss->write_rc)
        return LKS_EXIT_ERR;
    return nfail && !r.tty ? LKS_EXIT_ERR : LKS_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------------ */

/* A plain path that does not exist is an error (lks_store_open would
 * create it). */
static int check_warehouse(const char *uri) {
    if (strstr(uri, "://"))
        return 0;
    struct stat sb;
    if (stat(uri, &sb) != 0) {
        sql_error("warehouse %s: %s", uri, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        sql_error("warehouse %s: not a directory", uri);
        return 1;
    }
    return 0;
}

int lks_cmd_sql(int argc, char **argv) {
    const char *warehouse = NULL, *config = NULL, *as_of = NULL, *query = NULL, *v;
    int fmt = -1;
    for (int i = 1; i < argc; i++) {
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return LKS_EXIT_OK;
        } else if ((m = lks_cli_opt_value("sql", argc, argv, &i, "--warehouse", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            warehouse = v;
        } else if ((m = lks_cli_opt_value("sql", argc, argv, &i, "--config", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            config = v;
        } else if ((m = lks_cli_opt_value("sql", argc, argv, &i, "--as-of", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            as_of = v;
        } else if ((m = lks_cli_opt_value("sql", argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0 || lks_cli_parse_format("sql", v, &fmt) != LKS_EXIT_OK)
                return LKS_EXIT_USAGE;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !query) {
            query = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return lks_cli_usage_error("sql", "unknown option '%s'", argv[i]);
        } else if (!query) {
            query = argv[i];
        } else {
            return lks_cli_usage_error("sql", "unexpected argument '%s' (quote the QUERY as one argument)", argv[i]);
        }
    }
    if (fmt < 0)
        fmt = isatty(STDOUT_FILENO) ? LKS_FMT_TABLE : LKS_FMT_JSONL;
    lks_config *cfg = NULL;
    if (!warehouse || config) {
        int rc = lks_cli_load_config(config, NULL, 0, &cfg);
        if (rc != LKS_EXIT_OK)
            return rc;
        if (!warehouse)
            warehouse = lks_config_get_str(cfg, "warehouse");
        if (!warehouse)
            warehouse = "./warehouse";
    }
    lks_store_opts so;
    lks_store_opts_from_config(&so, cfg);
    int rc = LKS_EXIT_OK;
    sqlsess ss = {0};
    ss.fmt = fmt;
    ss.uri = warehouse;
    lks_buf_init(&ss.cells, 0);
    lks_buf_init(&ss.msg, 0);
    lks_err err;
    lks_err_clear(&err);
    if (check_warehouse(warehouse)) {
        rc = LKS_EXIT_ERR;
    } else if (sqlite3_open_v2(":memory:", &ss.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        sql_error("cannot open SQLite: %s", ss.db ? sqlite3_errmsg(ss.db) : "out of memory");
        rc = LKS_EXIT_ERR;
    } else if (lks_sql_register_opts(ss.db, &so, &err) != LKS_OK ||
               lks_sql_warehouse_open_opts(ss.db, warehouse, &so, as_of, &ss.wh, &err) != LKS_OK) {
        sql_error("%s", err.msg[0] ? err.msg : lks_strerror(err.code));
        rc = err.code == LKS_EINVAL ? LKS_EXIT_USAGE : LKS_EXIT_ERR;
    } else if (query) {
        if (run_text(&ss, query, strlen(query), 1) || ss.write_rc)
            rc = LKS_EXIT_ERR;
    } else {
        rc = shell(&ss);
    }
    lks_sql_warehouse_free(ss.wh);
    if (ss.db)
        sqlite3_close_v2(ss.db);
    lks_buf_free(&ss.cells);
    lks_buf_free(&ss.msg);
    lks_config_free(cfg);
    return rc;
}
