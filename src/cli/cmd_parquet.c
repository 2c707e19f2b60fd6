/* cmd_parquet.c — `lakesync parquet`: look inside Parquet files. */
#include "cli/cli.h"

#include <string.h>

int lks_cmd_parquet(int argc, char **argv) {
    if (argc < 2 || lks_cli_is_help(argv[1])) {
        fputs("usage: lakesync parquet schema|meta|cat FILE\n", stdout);
        return argc < 2 ? LKS_EXIT_USAGE : LKS_EXIT_OK;
    }
    return lks_cli_usage_error("parquet", "unknown subcommand '%s'", argv[1]);
}
