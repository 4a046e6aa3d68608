/* A pool of fork()ed worker processes for CPU-bound tasks (the optimizer's backtests). Workers
 * are forked from the caller, so they start with its memory (loaded data, a Lua state) copied on
 * write; each runs the tasks it is handed, one at a time, and sends back a fixed-size result
 * through a pipe. Tasks go to whichever worker is free, so results never depend on the number of
 * workers as long as a task's result depends on the task alone. */
#ifndef TITAN_WORKPOOL_H
#define TITAN_WORKPOOL_H
#include <stddef.h>

#define WORKPOOL_MAX_JOBS 256

/* Runs in a worker: task's result into `result` (result_size bytes, zeroed before the call). */
typedef void (*workpool_task_fn)(size_t task, void *ctx, void *result);
/* Runs in the caller after each result arrived. */
typedef void (*workpool_done_fn)(size_t done, size_t total, void *ctx);

/* Runs tasks[0..ntasks) (task numbers, in any order) on `jobs` workers (1..WORKPOOL_MAX_JOBS);
 * the result of tasks[i] lands in results + i * result_size. Returns 0, or -1 with err set when
 * a worker could not start or died before answering (the others are stopped). */
int workpool_run(const size_t *tasks, size_t ntasks, int jobs, size_t result_size, workpool_task_fn fn,
                 workpool_done_fn done, void *ctx, void *results, char *err, size_t errlen);
/* Processors online (at least 1). */
int workpool_cores(void);
#endif
