/*
 * proc_harness.h — child processes for unit tests that talk to a helper
 * server (moto, the credential and SASL stand-ins): start one with its
 * stdout on a pipe, read its first line, stop it.  Header-only; include
 * after harness.h.
 */
#ifndef LKS_TEST_PROC_HARNESS_H
#define LKS_TEST_PROC_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Starts argv with stdout to out_fd (-1: /dev/null); it dies with us. */
static inline pid_t spawn(char *const argv[], int out_fd) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int nul = open("/dev/null", O_RDWR);
        dup2(out_fd >= 0 ? out_fd : nul, 1);
        dup2(nul, 2);
        dup2(nul, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* SIGTERM and reap; *pid becomes -1. */
static inline void stop(pid_t *pid) {
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
}

/* One line from fd (without its newline): 1, else 0 (the writer closed
 * its end or exited first, or the line is longer than cap).  No deadline:
 * a helper that never answers is ended by the test runner's timeout. */
static inline int read_line(int fd, char *line, size_t cap) {
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 1)
            break;
        if (line[n] == '\n') {
            line[n] = 0;
            return 1;
        }
        n++;
    }
    line[n] = 0;
    return 0;
}

/* Waits for cond, however long it takes (no deadline: see read_line). */
#define WAIT_UNTIL(cond)                                                                                               \
    do {                                                                                                               \
        while (!(cond))                                                                                                \
            nap_ms(20);                                                                                                \
    } while (0)

#endif
