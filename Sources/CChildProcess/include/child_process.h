#ifndef PGVERIFY_CHILD_PROCESS_H
#define PGVERIFY_CHILD_PROCESS_H

#include <stdint.h>
#include <sys/types.h>

/// Limits the kernel enforces on a helper process from before it executes (0 = no limit).
typedef struct {
    /// RLIMIT_CPU in seconds: SIGXCPU at the limit, SIGKILL one second later.
    uint64_t cpu_seconds;
    /// RLIMIT_DATA in bytes: heap, anonymous mappings and writable private mappings.
    uint64_t data_bytes;
    /// RLIMIT_FSIZE in bytes: the largest file the process may write (SIGXFSZ past it).
    uint64_t file_bytes;
} pgv_child_limits;

/// Starts `path` with `argv` and `envp` (NULL-terminated) in a new process group of its own, with
/// `limits`, `stdin_fd`/`stdout_fd`/`stderr_fd` as its standard streams, every other descriptor
/// closed, default signal handling, and SIGKILL as its parent-death signal (so it dies with the
/// calling thread, which must therefore wait for it). `directory` (may be NULL) is its working folder.
/// Returns 0 and the child's id in `pid`, or the errno of the step that failed (also exec's).
int pgv_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
              int stdin_fd, int stdout_fd, int stderr_fd, pgv_child_limits limits, pid_t *pid);

/// A pipe whose two ends are closed on exec (so that no other child inherits them); 0 or errno.
int pgv_pipe(int fds[2]);

/// Kills the child's whole process group with SIGKILL (ignoring a group already gone).
void pgv_kill_group(pid_t pid);

/// Reaps `pid` (without blocking when `no_hang`): 0 with its wait status, peak resident memory (KiB)
/// and CPU time; -1 when it is still running (`no_hang` only); otherwise the errno.
int pgv_wait(pid_t pid, int no_hang, int *status, long *max_rss_kib, double *cpu_seconds);

#endif
