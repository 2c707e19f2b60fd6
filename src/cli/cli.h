/*
 * cli.h — what every `lakesync` subcommand shares: the command table entry,
 * exit codes, --format parsing, error printing and configuration loading.
 *
 * A subcommand is one file src/cli/cmd_<name>.c exporting
 * `int lks_cmd_<name>(int argc, char **argv)` and listed in the table in
 * main.c.  Contract for run functions:
 *  - argv[0] is the command name ("parquet"), argv[1..] its arguments; global
 *    options (-v, -q) were already consumed by main;
 *  - `CMD --help` / `CMD -h` (and `lakesync help CMD`, which main turns into
 *    `CMD --help`) prints the command's usage to stdout and returns 0;
 *    deeper levels (`parquet cat --help`) are the command's own business;
 *  - rows and results go to stdout; errors go to stderr through
 *    lks_cli_error()/lks_cli_errorf(); logs go through lks_log (main installed
 *    a stderr callback);
 *  - the return value is the process exit status: LKS_EXIT_OK, LKS_EXIT_ERR
 *    (runtime failure) or LKS_EXIT_USAGE (bad arguments).
 */
#ifndef LKS_CLI_H
#define LKS_CLI_H

#include "core/config.h"
#include "core/core.h"

#include <stdio.h>

enum {
    LKS_EXIT_OK = 0,   /* success */
    LKS_EXIT_ERR = 1,  /* runtime error (I/O, corrupt input, ...) */
    LKS_EXIT_USAGE = 2 /* bad command line */
};

/* One subcommand. */
typedef struct lks_cli_cmd {
    const char *name;    /* "parquet" */
    const char *summary; /* one line for `lakesync --help` */
    int (*run)(int argc, char **argv);
} lks_cli_cmd;

/* Subcommands (one file each). */
int lks_cmd_parquet(int argc, char **argv); /* cmd_parquet.c */
int lks_cmd_config(int argc, char **argv);  /* main.c */
int lks_cmd_table(int argc, char **argv);   /* cmd_table.c */
int lks_cmd_merge(int argc, char **argv);   /* cmd_merge.c */
int lks_cmd_sql(int argc, char **argv);     /* cmd_sql.c */
int lks_cmd_binlog(int argc, char **argv);  /* cmd_binlog.c */
int lks_cmd_run(int argc, char **argv);     /* cmd_run.c */
int lks_cmd_capture(int argc, char **argv); /* cmd_run.c */
int lks_cmd_sink(int argc, char **argv);    /* cmd_sink.c */

/* ---- output formats (rows as text, DESIGN.md §3) ------------------------- */

enum { LKS_FMT_TABLE = 0, LKS_FMT_CSV = 1, LKS_FMT_JSONL = 2 };

/* Parses "table", "csv" or "jsonl" into *fmt.  On anything else prints
 * "lakesync CMD: unknown --format 'x' (expected table, csv or jsonl)" to
 * stderr and returns LKS_EXIT_USAGE; LKS_EXIT_OK otherwise. */
int lks_cli_parse_format(const char *cmd, const char *s, int *fmt);
/* Name of a format constant ("jsonl"). */
const char *lks_cli_format_name(int fmt);

/* Appends one CSV field (RFC 4180): quoted only when it holds a comma,
 * quote, CR or LF, or starts/ends with a space; quotes are doubled. */
int lks_cli_csv_field(lks_buf *b, const char *s, size_t len);

/* Writes b's bytes to f and resets b (keeps its memory).  Returns
 * LKS_EXIT_OK, or prints "lakesync: write error: ..." and returns
 * LKS_EXIT_ERR (a closed pipe included). */
int lks_cli_write(FILE *f, lks_buf *b);

/* Row printer shared by every command that prints rows (value trees of a
 * Parquet-form schema, GROUP per row): JSON lines, CSV with a header, or an
 * aligned table (columns sized per batch of rows, cells cut at 60
 * characters).  `shown` (one flag per top-level field, NULL: all) selects
 * the fields printed.  Errors are printed; functions return exit codes. */
typedef struct lks_cli_rowout lks_cli_rowout;
struct lks_pq_schema;
struct lks_pq_value;
int lks_cli_rowout_open(const struct lks_pq_schema *s, const uint8_t *shown, int fmt, FILE *f,
                        lks_cli_rowout **out);
int lks_cli_rowout_row(lks_cli_rowout *o, const struct lks_pq_value *row);
int lks_cli_rowout_finish(lks_cli_rowout *o); /* flushes what is buffered */

/* The same printer for rows that come as text cells under column names
 * (SQL results).  A cell is NULL (null / empty CSV field / "NULL"), RAW (a
 * JSON literal printed as is in every format: numbers) or STR (text: a JSON
 * string in jsonl, the bare text in csv and table).  `names` are copied;
 * lks_cli_rowout_cells takes one cell per column, borrowed for the call. */
enum { LKS_CLI_CELL_NULL = 0, LKS_CLI_CELL_RAW = 1, LKS_CLI_CELL_STR = 2 };
typedef struct lks_cli_cell {
    int kind;
    const char *p;
    size_t len;
} lks_cli_cell;
int lks_cli_rowout_open_names(const char *const *names, int ncols, int fmt, FILE *f, lks_cli_rowout **out);
int lks_cli_rowout_cells(lks_cli_rowout *o, const lks_cli_cell *cells);
void lks_cli_rowout_free(lks_cli_rowout *o);

/* ---- errors --------------------------------------------------------------- */

/* "lakesync: <err->msg>" (or the code's name when the message is empty)
 * on stderr.  Returns the exit status for the error: LKS_EXIT_USAGE for
 * LKS_EINVAL and LKS_ECONFIG, LKS_EXIT_ERR otherwise. */
int lks_cli_error(const lks_err *err);
/* "lakesync: <formatted>" on stderr; returns LKS_EXIT_ERR. */
int lks_cli_errorf(const char *fmt, ...) LKS_PRINTF(1, 2);
/* "lakesync CMD: <formatted>" and "Try 'lakesync CMD --help'." on stderr;
 * returns LKS_EXIT_USAGE. */
int lks_cli_usage_error(const char *cmd, const char *fmt, ...) LKS_PRINTF(2, 3);

/* Draws `text` as the status line on stderr (a terminal), replacing the
 * previous one; NULL clears it.  Log lines clear it before they print. */
void lks_cli_status_line(const char *text);

/* Non-zero when arg is "--help" or "-h". */
int lks_cli_is_help(const char *arg);

/* Matches argv[*i] against an option taking a value, given as `name`
 * ("--format"): accepts "--format VALUE" and "--format=VALUE".  Returns 1
 * with *val set (and *i advanced past a separate value), 0 when argv[*i] is
 * something else, -1 when the value is missing (a usage error naming cmd
 * has been printed: return LKS_EXIT_USAGE). */
int lks_cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);

/* ---- configuration -------------------------------------------------------- */

/* NULL-terminated list of every module's property table, in listing order
 * (lakesync's whole configuration surface). */
extern const lks_conf_prop *const lks_cli_conf_tables[];

/* Builds the configuration every command uses: defaults, then the
 * properties file `path` (NULL: none), then `noverrides` "key=value"
 * strings (the -o options) in order.  On failure prints the error and
 * returns LKS_EXIT_USAGE (bad property) or LKS_EXIT_ERR (unreadable file)
 * with *out NULL; caller frees *out with lks_config_free(). */
int lks_cli_load_config(const char *path, char *const *overrides, int noverrides, lks_config **out);

#endif
