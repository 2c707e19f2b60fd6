/* main.c — the `lakesync` command: global options, the subcommand table,
 * the helpers of cli.h and the `config` subcommand. */
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "transport/kafka.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const lks_cli_cmd commands[] = {
    {"parquet", "look inside Parquet files: schema, metadata, rows", lks_cmd_parquet},
    {"table", "Delta tables: describe, history, files, scan, create, checkpoint", lks_cmd_table},
    {"merge", "raw change events (Debezium JSON, raw zone or Kafka) into Delta tables, exactly once", lks_cmd_merge},
    {"sink", "Kafka topics into the raw zone (the Confluent S3 sink's layout), exactly once", lks_cmd_sink},
    {"sql", "SQL over the warehouse's Delta tables (SQLite), with time travel", lks_cmd_sql},
    {"binlog", "decode MySQL/MariaDB binlog files: one line per row change", lks_cmd_binlog},
    {"run", "keep Delta tables in sync with a MySQL/MariaDB database (snapshot + binlog)", lks_cmd_run},
    {"capture", "a MySQL/MariaDB database's changes as Debezium JSON lines", lks_cmd_capture},
    {"config", "list configuration properties, check a properties file", lks_cmd_config},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const lks_conf_prop *const lks_cli_conf_tables[] = {lks_conf_core,   lks_conf_parquet,       lks_conf_store,
                                                    lks_conf_source, lks_conf_pipeline,      lks_conf_kafka,
                                                    lks_conf_sink,   lks_conf_capture_kafka, NULL};

/* ---- logging ------------------------------------------------------------------ */

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static int log_level_forced; /* -v/-q/LAKESYNC_LOG given: log.level is ignored */

static int status_shown; /* a status line is on stderr's last line */

void lks_cli_status_line(const char *text) {
    fputs("\r\033[K", stderr);
    if (text)
        fputs(text, stderr);
    fflush(stderr);
    status_shown = text != NULL;
}

static void log_stderr(void *ud, int level, const char *subsys, const char *msg) {
    (void)ud;
    if (status_shown)
        lks_cli_status_line(NULL);
    const char *lv = level >= 0 && level <= LKS_LOG_DEBUG ? level_names[level] : "log";
    fprintf(stderr, "lakesync: %s: %s: %s\n", lv, subsys ? subsys : "-", msg);
}

static int parse_level(const char *s) {
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (s[0] >= '0' && s[0] <= '3' && s[1] == 0)
        return s[0] - '0';
    return -1;
}

/* ---- helpers of cli.h --------------------------------------------------------- */

int lks_cli_is_help(const char *arg) { return arg && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0); }

int lks_cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0)
        return 0;
    if (*i + 1 >= argc) {
        lks_cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int lks_cli_parse_format(const char *cmd, const char *s, int *fmt) {
    static const char *const names[] = {"table", "csv", "jsonl"};
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *fmt = i;
            return LKS_EXIT_OK;
        }
    return lks_cli_usage_error(cmd, "unknown --format '%s' (expected table, csv or jsonl)", s ? s : "");
}

const char *lks_cli_format_name(int fmt) {
    switch (fmt) {
    case LKS_FMT_TABLE: return "table";
    case LKS_FMT_CSV: return "csv";
    case LKS_FMT_JSONL: return "jsonl";
    default: return "?";
    }
}

int lks_cli_csv_field(lks_buf *b, const char *s, size_t len) {
    int quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return lks_buf_append(b, s, len);
    int rc = lks_buf_append_byte(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        if (s[i] == '"') {
            rc = lks_buf_append(b, s + run, i + 1 - run);
            if (!rc)
                rc = lks_buf_append_byte(b, '"');
            run = i + 1;
        }
    }
    if (!rc)
        rc = lks_buf_append(b, s + run, len - run);
    if (!rc)
        rc = lks_buf_append_byte(b, '"');
    return rc;
}

int lks_cli_write(FILE *f, lks_buf *b) {
    if (b->len && fwrite(b->ptr, 1, b->len, f) != b->len) {
        int e = errno;
        lks_buf_reset(b);
        return lks_cli_errorf("write error: %s", strerror(e));
    }
    lks_buf_reset(b);
    return LKS_EXIT_OK;
}

int lks_cli_error(const lks_err *err) {
    int code = err ? err->code : LKS_EINTERNAL;
    const char *msg = err && err->msg[0] ? err->msg : lks_strerror(code);
    fprintf(stderr, "lakesync: %s\n", msg);
    return code == LKS_EINVAL || code == LKS_ECONFIG ? LKS_EXIT_USAGE : LKS_EXIT_ERR;
}

int lks_cli_errorf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lakesync: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return LKS_EXIT_ERR;
}

int lks_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lakesync %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'lakesync %s --help'.\n", cmd);
    va_end(ap);
    return LKS_EXIT_USAGE;
}

int lks_cli_load_config(const char *path, char *const *overrides, int noverrides, lks_config **out) {
    *out = NULL;
    lks_err err;
    lks_err_clear(&err);
    lks_config *cfg;
    int rc = lks_config_new(lks_cli_conf_tables, &cfg, &err);
    if (rc)
        return lks_cli_error(&err), LKS_EXIT_ERR;
    if (path && (rc = lks_config_load_file(cfg, path, &err)) != LKS_OK) {
        lks_config_free(cfg);
        return lks_cli_error(&err);
    }
    for (int i = 0; i < noverrides; i++) {
        if ((rc = lks_config_set_kv(cfg, overrides[i], "-o", &err)) != LKS_OK) {
            lks_config_free(cfg);
            return lks_cli_error(&err);
        }
    }
    if (!log_level_forced && lks_config_is_set(cfg, "log.level"))
        lks_log_set(log_stderr, NULL, lks_config_get_enum(cfg, "log.level"));
    *out = cfg;
    return LKS_EXIT_OK;
}

/* ---- `lakesync config` ---------------------------------------------------------- */

static void config_usage(FILE *f) {
    fputs("usage: lakesync config list\n"
          "       lakesync config check FILE [-o key=value]...\n"
          "\n"
          "  list    print every configuration property: name, type, default, allowed values\n"
          "  check   validate a .properties file (and -o overrides) and print the effective\n"
          "          configuration; properties at their default are shown commented out and\n"
          "          secret values as ********\n",
          f);
}

int lks_cmd_config(int argc, char **argv) {
    if (argc < 2)
        return lks_cli_usage_error("config", "missing subcommand (list or check)");
    if (lks_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        config_usage(stdout);
        return LKS_EXIT_OK;
    }
    lks_buf out;
    lks_buf_init(&out, 0);
    if (strcmp(argv[1], "list") == 0) {
        if (argc > 2) {
            if (lks_cli_is_help(argv[2])) {
                config_usage(stdout);
                return LKS_EXIT_OK;
            }
            return lks_cli_usage_error("config", "unexpected argument '%s'", argv[2]);
        }
        if (lks_config_describe(lks_cli_conf_tables, &out) != LKS_OK) {
            lks_buf_free(&out);
            return lks_cli_errorf("out of memory");
        }
        int rc = lks_cli_write(stdout, &out);
        lks_buf_free(&out);
        return rc;
    }
    if (strcmp(argv[1], "check") == 0) {
        const char *file = NULL;
        char **ov = calloc((size_t)argc, sizeof *ov);
        int nov = 0;
        if (!ov)
            return lks_cli_errorf("out of memory");
        for (int i = 2; i < argc; i++) {
            if (lks_cli_is_help(argv[i])) {
                free(ov);
                config_usage(stdout);
                return LKS_EXIT_OK;
            } else if (strcmp(argv[i], "-o") == 0) {
                if (i + 1 >= argc) {
                    free(ov);
                    return lks_cli_usage_error("config", "option -o needs key=value");
                }
                ov[nov++] = argv[++i];
            } else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2]) {
                ov[nov++] = argv[i] + 2;
            } else if (argv[i][0] == '-' && argv[i][1]) {
                free(ov);
                return lks_cli_usage_error("config", "unknown option '%s'", argv[i]);
            } else if (!file) {
                file = argv[i];
            } else {
                free(ov);
                return lks_cli_usage_error("config", "unexpected argument '%s'", argv[i]);
            }
        }
        if (!file) {
            free(ov);
            return lks_cli_usage_error("config", "check needs a properties FILE");
        }
        lks_config *cfg;
        int rc = lks_cli_load_config(file, ov, nov, &cfg);
        free(ov);
        if (rc)
            return rc;
        lks_err err;
        lks_err_clear(&err);
        if (lks_config_check_required(cfg, &err) != LKS_OK) {
            lks_config_free(cfg);
            return lks_cli_error(&err);
        }
        if (lks_config_dump(cfg, &out) != LKS_OK) {
            lks_config_free(cfg);
            lks_buf_free(&out);
            return lks_cli_errorf("out of memory");
        }
        lks_config_free(cfg);
        rc = lks_cli_write(stdout, &out);
        lks_buf_free(&out);
        return rc;
    }
    return lks_cli_usage_error("config", "unknown subcommand '%s' (expected list or check)", argv[1]);
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f, "usage: lakesync [-v | -q] <command> [args]\n"
               "       lakesync help <command>\n"
               "\n"
               "lakesync keeps a Delta Lake in sync with MySQL/MariaDB.  This release has the\n"
               "foundation and the Parquet reader/writer; change capture and `lakesync run` come later.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "Options:\n"
               "  -v, --verbose  more log output on stderr (-vv: debug)\n"
               "  -q, --quiet    errors only\n"
               "  --version      print the version\n"
               "  -h, --help     this help\n"
               "\n"
               "Environment:\n"
               "  LAKESYNC_LOG   log level: error, warn, info or debug (default warn)\n"
               "\n"
               "`lakesync <command> --help` describes a command.\n");
}

static const lks_cli_cmd *find_command(const char *name) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int unknown_command(const char *name) {
    fprintf(stderr, "lakesync: unknown command '%s' (commands:", name);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(stderr, "%s %s", i ? "," : "", commands[i].name);
    fprintf(stderr, ")\nTry 'lakesync --help'.\n");
    return LKS_EXIT_USAGE;
}

int main(int argc, char **argv) {
    lks_alloc_tune();
    int level = LKS_LOG_WARN, verbose = 0, quiet = 0;
    const char *env = getenv("LAKESYNC_LOG");
    if (env && *env) {
        int lv = parse_level(env);
        if (lv < 0) {
            fprintf(stderr, "lakesync: LAKESYNC_LOG='%s' is not a level (error, warn, info or debug)\n", env);
            return LKS_EXIT_USAGE;
        }
        level = lv;
        log_level_forced = 1;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("lakesync %s\n", LKS_VERSION);
            return LKS_EXIT_OK;
        } else if (lks_cli_is_help(a)) {
            usage(stdout);
            return LKS_EXIT_OK;
        } else if (strcmp(a, "--verbose") == 0) {
            verbose++;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (a[1] == 'v' || a[1] == 'q') {
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'v')
                    verbose++;
                else if (*c == 'q')
                    quiet = 1;
                else {
                    fprintf(stderr, "lakesync: unknown option '%s'\nTry 'lakesync --help'.\n", a);
                    return LKS_EXIT_USAGE;
                }
            }
        } else {
            fprintf(stderr, "lakesync: unknown option '%s'\nTry 'lakesync --help'.\n", a);
            return LKS_EXIT_USAGE;
        }
    }
    if (quiet) {
        level = LKS_LOG_ERROR;
        log_level_forced = 1;
    } else if (verbose) {
        level = verbose >= 2 ? LKS_LOG_DEBUG : LKS_LOG_INFO;
        log_level_forced = 1;
    }
    lks_log_set(log_stderr, NULL, level);

    if (i >= argc) {
        usage(stderr);
        return LKS_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            return LKS_EXIT_OK;
        }
        const lks_cli_cmd *cmd = find_command(argv[i + 1]);
        if (!cmd)
            return unknown_command(argv[i + 1]);
        char *hargv[3] = {(char *)cmd->name, (char *)"--help", NULL};
        return cmd->run(2, hargv);
    }
    const lks_cli_cmd *cmd = find_command(argv[i]);
    if (!cmd)
        return unknown_command(argv[i]);
    int rc = cmd->run(argc - i, argv + i);
    if (fflush(stdout) != 0 && rc == LKS_EXIT_OK)
        rc = lks_cli_errorf("write error: %s", strerror(errno));
    return rc;
}
