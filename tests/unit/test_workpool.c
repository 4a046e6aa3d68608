/* The worker pool: every task's result lands in its own slot whatever the number of workers,
 * workers start from the caller's memory, progress is reported per result, and a worker that
 * dies (killed by a signal, or exiting) fails the run with the reason instead of hanging. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "workpool.h"

typedef struct result {
    size_t task;
    long value;
    int pid;
} result;

static long table[64];                 /* filled before the fork: the workers see it */
static size_t dones;

static void square(size_t task, void *ctx, void *out)
{
    (void)ctx;
    result *r = out;
    r->task = task;
    r->value = table[task % 64] * (long)task;
    r->pid = (int)getpid();
}

static void count_done(size_t done, size_t total, void *ctx)
{
    (void)total, (void)ctx;
    dones = done;
}

static void dies(size_t task, void *ctx, void *out)
{
    if (task == 5) raise(*(int *)ctx);
    if (task == 6 && *(int *)ctx == 0) _exit(7);
    square(task, NULL, out);
}

int main(void)
{
    for (int i = 0; i < 64; i++) table[i] = i + 1;
    size_t tasks[100];
    for (size_t i = 0; i < 100; i++) tasks[i] = 99 - i;            /* any order */
    char err[256];
    result one[100], many[100];
    CHECK_INT(workpool_run(tasks, 100, 1, sizeof(result), square, count_done, NULL, one, err, sizeof err), 0);
    CHECK_INT(dones, 100);
    CHECK_INT(workpool_run(tasks, 100, 4, sizeof(result), square, NULL, NULL, many, err, sizeof err), 0);
    int same = 1, pids_differ = 0, right = 1;
    for (size_t i = 0; i < 100; i++) {
        same &= one[i].task == many[i].task && one[i].value == many[i].value;
        right &= one[i].task == tasks[i] && one[i].value == table[tasks[i] % 64] * (long)tasks[i];
        pids_differ |= many[i].pid != many[0].pid;
    }
    CHECK_MSG(right, "each result in its task's slot, computed from the caller's memory");
    CHECK_MSG(same, "the same results with 1 and 4 workers");
    CHECK_MSG(pids_differ, "4 workers are 4 processes");
    CHECK(one[0].pid != (int)getpid());
    CHECK_INT(workpool_run(tasks, 0, 2, sizeof(result), square, NULL, NULL, many, err, sizeof err), 0);
    CHECK(workpool_cores() >= 1);

    int sig = SIGKILL;
    err[0] = '\0';
    CHECK_INT(workpool_run(tasks, 100, 3, sizeof(result), dies, NULL, &sig, many, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "died (signal 9)") != NULL, err);
    int none = 0;
    err[0] = '\0';
    CHECK_INT(workpool_run(tasks, 100, 2, sizeof(result), dies, NULL, &none, many, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "ended without answering (exit 7)") != NULL, err);
    return UNIT_DONE("test_workpool");
}
