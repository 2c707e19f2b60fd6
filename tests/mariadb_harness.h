/*
 * mariadb_harness.h — a private MariaDB server for a unit test: started by
 * scripts/mariadb.sh in a temporary directory, on a free port, and always
 * stopped and removed by the test.  Tests run from the repository root.
 *
 *     static lks_test_mdb srv;
 *     int rc = lks_test_mdb_start(&srv, "test_x", 3840);
 *     if (rc > 0) SKIP("%s", srv.why);      cannot run here
 *     if (rc < 0) FAILF("%s", srv.why);     did not start
 *     else ... srv.port, srv.sock, lks_test_mdb_sql(&srv, "...") ...
 *     lks_test_mdb_stop(&srv);              whatever happened
 */
#ifndef LKS_TEST_MARIADB_HARNESS_H
#define LKS_TEST_MARIADB_HARNESS_H

#include "harness.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct lks_test_mdb {
    char dir[256];  /* its data, socket and logs; empty when none was made */
    char sock[320]; /* DIR/mysqld.sock */
    int port;
    char why[400]; /* why it is not up, when lks_test_mdb_start failed */
} lks_test_mdb;

/* 1 when nothing listens on 127.0.0.1:p. */
static inline int lks_test_mdb_port_free(int p) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Starts a server in a fresh /tmp/lks_NAME_XXXXXX on a free port from
 * base_port (a different base per test keeps tests run side by side apart).
 * 0 when it is up; 1 when it cannot run here (no mariadbd or
 * scripts/mariadb.sh: a skip, nothing made); -1 when it did not start.
 * srv->why says why on non-zero.  Call lks_test_mdb_stop after any result. */
static inline int lks_test_mdb_start(lks_test_mdb *srv, const char *name, int base_port) {
    memset(srv, 0, sizeof *srv);
    if (system("command -v mariadbd >/dev/null 2>&1 || test -x /usr/sbin/mariadbd") != 0) {
        snprintf(srv->why, sizeof srv->why, "mariadbd absent (Debian mariadb-server)");
        return 1;
    }
    if (access("scripts/mariadb.sh", X_OK) != 0) {
        snprintf(srv->why, sizeof srv->why, "scripts/mariadb.sh not found (run from the repository root)");
        return 1;
    }
    snprintf(srv->dir, sizeof srv->dir, "/tmp/lks_%.200s_XXXXXX", name);
    if (!mkdtemp(srv->dir)) {
        snprintf(srv->why, sizeof srv->why, "cannot create %s", srv->dir);
        srv->dir[0] = 0;
        return -1;
    }
    snprintf(srv->sock, sizeof srv->sock, "%s/mysqld.sock", srv->dir);
    srv->port = base_port + (int)(getpid() % 400);
    for (int i = 0; i < 200 && !lks_test_mdb_port_free(srv->port); i++)
        srv->port = base_port + (srv->port - base_port + 1) % 400;
    char cmd[800];
    snprintf(cmd, sizeof cmd, "scripts/mariadb.sh start %s %d >%s/start.log 2>&1", srv->dir, srv->port, srv->dir);
    if (system(cmd) != 0) {
        /* the directory goes at the stop: keep what the script said */
        char log[200] = "";
        snprintf(cmd, sizeof cmd, "%s/start.log", srv->dir);
        FILE *f = fopen(cmd, "r");
        if (f) {
            size_t n = fread(log, 1, sizeof log - 1, f);
            log[n] = 0;
            fclose(f);
            for (char *c = log; *c; c++)
                if (*c == '\n')
                    *c = ' ';
        }
        snprintf(srv->why, sizeof srv->why, "the server did not start (scripts/mariadb.sh start %s %d): %s", srv->dir,
                 srv->port, log);
        return -1;
    }
    return 0;
}

/* Stops the server (a half-started one too) and removes its directory. */
static inline void lks_test_mdb_stop(lks_test_mdb *srv) {
    if (!srv->dir[0])
        return;
    char cmd[800];
    snprintf(cmd, sizeof cmd, "scripts/mariadb.sh stop %s >/dev/null 2>&1; rm -rf %s", srv->dir, srv->dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", srv->dir);
    srv->dir[0] = 0;
}

/* Runs the SQL script at path through the mariadb client as root (utf8mb4);
 * what it printed is in DIR/q.out.  0 on success. */
static inline int lks_test_mdb_source(const lks_test_mdb *srv, const char *path) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "scripts/mariadb.sh client %s --default-character-set=utf8mb4 <%s >%s/q.out 2>&1",
             srv->dir, path, srv->dir);
    return system(cmd);
}

/* Writes sql into DIR/q.sql and runs it as lks_test_mdb_source.  0 on success. */
static inline int lks_test_mdb_sql(const lks_test_mdb *srv, const char *sql) {
    char path[400];
    snprintf(path, sizeof path, "%s/q.sql", srv->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(sql, f);
    if (fclose(f) != 0)
        return -1;
    return lks_test_mdb_source(srv, path);
}

#endif
