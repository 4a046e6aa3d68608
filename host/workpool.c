/* The worker pool (see workpool.h). Each worker has two pipes: task numbers in, results out.
 * The caller keeps two tasks in flight per worker, so a worker never waits for its next one. */
#include "workpool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKPOOL_IN_FLIGHT 2

typedef struct worker {
    pid_t pid;
    int task_fd, result_fd;          /* the caller's ends: write task numbers, read results */
    size_t slot[WORKPOOL_IN_FLIGHT]; /* indices into tasks[] of the tasks handed out, oldest first */
    int busy;
} worker;

int workpool_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int workpool_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 1 read all, 0 end of file before anything, -1 error or a short message */
static int workpool_read_all(int fd, void *data, size_t len)
{
    char *p = data;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return got == 0 ? 0 : -1;
        if (n < 0) return -1;
        got += (size_t)n;
    }
    return 1;
}

/* The worker's life: task numbers in, results out, until the caller closes its pipe. */
static void workpool_serve(int task_fd, int result_fd, size_t result_size, workpool_task_fn fn, void *ctx)
{
    unsigned char *msg = malloc(sizeof(uint64_t) + result_size);
    if (!msg) _exit(3);
    uint64_t task;
    while (workpool_read_all(task_fd, &task, sizeof task) == 1) {
        memcpy(msg, &task, sizeof task);
        memset(msg + sizeof task, 0, result_size);
        fn((size_t)task, ctx, msg + sizeof task);
        if (workpool_write_all(result_fd, msg, sizeof task + result_size) != 0) _exit(4);
    }
    free(msg);
    _exit(0);
}

static void workpool_stop(worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        if (w[i].task_fd >= 0) close(w[i].task_fd);
        if (w[i].result_fd >= 0) close(w[i].result_fd);
        w[i].task_fd = w[i].result_fd = -1;
        if (w[i].pid > 0) {
            kill(w[i].pid, SIGKILL);
            waitpid(w[i].pid, NULL, 0);
            w[i].pid = 0;
        }
    }
}

static int workpool_start(worker *w, int index, size_t result_size, workpool_task_fn fn, void *ctx)
{
    int to_worker[2], from_worker[2];
    if (pipe(to_worker) != 0) return -1;
    if (pipe(from_worker) != 0) {
        close(to_worker[0]);
        close(to_worker[1]);
        return -1;
    }
    fflush(NULL);                                      /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(to_worker[0]), close(to_worker[1]), close(from_worker[0]), close(from_worker[1]);
        return -1;
    }
    if (pid == 0) {
        /* the caller's ends of the earlier workers' pipes: held open here, they would hide
         * the end of file those workers wait for */
        for (int i = 0; i < index; i++) {
            close(w[i].task_fd);
            close(w[i].result_fd);
        }
        close(to_worker[1]);
        close(from_worker[0]);
        signal(SIGINT, SIG_DFL);
        workpool_serve(to_worker[0], from_worker[1], result_size, fn, ctx);
    }
    close(to_worker[0]);
    close(from_worker[1]);
    w[index] = (worker){.pid = pid, .task_fd = to_worker[1], .result_fd = from_worker[0]};
    return 0;
}

static int workpool_hand_out(worker *w, const size_t *tasks, size_t *next, size_t ntasks)
{
    while (w->busy < WORKPOOL_IN_FLIGHT && *next < ntasks) {
        uint64_t task = tasks[*next];
        if (workpool_write_all(w->task_fd, &task, sizeof task) != 0) return -1;
        w->slot[w->busy++] = (*next)++;
    }
    if (w->busy == 0 && w->task_fd >= 0) {             /* nothing left for it: let it exit */
        close(w->task_fd);
        w->task_fd = -1;
    }
    return 0;
}

static void workpool_why(worker *w, char *err, size_t errlen)
{
    int status = 0;
    pid_t pid = w->pid;
    w->pid = 0;
    if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status))
        snprintf(err, errlen, "a worker process died (signal %d)", WTERMSIG(status));
    else
        snprintf(err, errlen, "a worker process ended without answering (exit %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int workpool_run(const size_t *tasks, size_t ntasks, int jobs, size_t result_size, workpool_task_fn fn,
                 workpool_done_fn done, void *ctx, void *results, char *err, size_t errlen)
{
    if (jobs < 1) jobs = 1;
    if (jobs > WORKPOOL_MAX_JOBS) jobs = WORKPOOL_MAX_JOBS;
    if ((size_t)jobs > ntasks) jobs = ntasks ? (int)ntasks : 1;
    worker w[WORKPOOL_MAX_JOBS];
    struct pollfd pfd[WORKPOOL_MAX_JOBS];
    unsigned char *msg = malloc(sizeof(uint64_t) + result_size);
    if (!msg) { snprintf(err, errlen, "out of memory"); return -1; }
    /* a worker gone while we write its next task must be an error we see, not a signal */
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    int rc = 0, started = 0;
    for (; started < jobs; started++) {
        if (workpool_start(w, started, result_size, fn, ctx) != 0) {
            snprintf(err, errlen, "cannot start a worker process: %s", strerror(errno));
            rc = -1;
            goto cleanup;
        }
    }
    size_t next = 0, finished = 0;
    for (int i = 0; i < jobs; i++)
        if (workpool_hand_out(&w[i], tasks, &next, ntasks) != 0) {
            workpool_why(&w[i], err, errlen);
            rc = -1;
            goto cleanup;
        }
    while (finished < ntasks) {
        for (int i = 0; i < jobs; i++) pfd[i] = (struct pollfd){.fd = w[i].busy ? w[i].result_fd : -1, .events = POLLIN};
        if (poll(pfd, (nfds_t)jobs, -1) < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "poll: %s", strerror(errno));
            rc = -1;
            goto cleanup;
        }
        for (int i = 0; i < jobs && rc == 0; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            uint64_t task;
            if (workpool_read_all(w[i].result_fd, msg, sizeof task + result_size) != 1) {
                workpool_why(&w[i], err, errlen);
                rc = -1;
                break;
            }
            memcpy(&task, msg, sizeof task);
            size_t index = w[i].slot[0];
            if (task != tasks[index]) {
                snprintf(err, errlen, "a worker answered task %llu, not %zu", (unsigned long long)task, tasks[index]);
                rc = -1;
                break;
            }
            memmove(&w[i].slot[0], &w[i].slot[1], (WORKPOOL_IN_FLIGHT - 1) * sizeof w[i].slot[0]);
            w[i].busy--;
            memcpy((unsigned char *)results + index * result_size, msg + sizeof task, result_size);
            finished++;
            if (done) done(finished, ntasks, ctx);
            if (workpool_hand_out(&w[i], tasks, &next, ntasks) != 0) {
                workpool_why(&w[i], err, errlen);
                rc = -1;
            }
        }
        if (rc != 0) goto cleanup;
    }
    /* every worker has had its pipe closed: each exits on its own */
    for (int i = 0; i < jobs; i++) {
        if (w[i].task_fd >= 0) close(w[i].task_fd);
        close(w[i].result_fd);
        int status = 0;
        waitpid(w[i].pid, &status, 0);
        w[i].pid = 0;
        w[i].task_fd = w[i].result_fd = -1;
    }
    started = 0;
cleanup:
    workpool_stop(w, started);
    signal(SIGPIPE, old_pipe);
    free(msg);
    return rc;
}
