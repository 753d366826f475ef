#define _GNU_SOURCE
#include "child_process.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// The child is started with vfork, not fork: fork runs the pthread_atfork handlers, and OpenBLAS's
// shuts its thread pool down in the parent, under any other thread that is inside a threaded sgemm
// at that moment (which then waits forever for workers that are gone). vfork runs none and copies
// nothing. Until exec the child borrows the parent's memory and stack: it may only make plain system
// calls, never return from pgv_spawn, and leaves by execve or _exit.

static void set_limit(int resource, uint64_t value, uint64_t hard_extra, int report_fd) {
    if (value == 0) return;
    struct rlimit limit = { (rlim_t)value, (rlim_t)(value + hard_extra) };
    struct rlimit current;
    // An unprivileged process cannot raise its hard limit: never ask for more than it has.
    if (getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY) {
        if (limit.rlim_max > current.rlim_max) limit.rlim_max = current.rlim_max;
        if (limit.rlim_cur > limit.rlim_max) limit.rlim_cur = limit.rlim_max;
    }
    if (setrlimit(resource, &limit) != 0) {
        int error = errno;
        (void)!write(report_fd, &error, sizeof error);
        _exit(127);
    }
}

static void fail(int report_fd) {
    int error = errno;
    (void)!write(report_fd, &error, sizeof error);
    _exit(127);
}

static void close_from(int lowest, int keep) {
#ifdef SYS_close_range
    // Everything from `lowest` up, except `keep` (the close-on-exec report pipe).
    if (keep > lowest) syscall(SYS_close_range, lowest, keep - 1, 0);
    if (syscall(SYS_close_range, keep + 1, ~0U, 0) == 0) return;
#endif
    long most = sysconf(_SC_OPEN_MAX);
    if (most < 0 || most > 65536) most = 65536;
    for (int fd = lowest; fd < most; fd++) if (fd != keep) close(fd);
}

static void ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int pgv_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
              int stdin_fd, int stdout_fd, int stderr_fd, pgv_child_limits limits, pid_t *pid) {
    // A helper that exits before reading all of its input must not kill pgverify with SIGPIPE.
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ignore_sigpipe);
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t parent = getpid();
    // No signal handler of the parent's may run in the child while it borrows the parent's memory:
    // everything is blocked across vfork; the child resets the handlers, then unblocks.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t child = vfork();
    if (child != 0) pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    if (child == 0) {
        int fd = report[1];
        // Its own group, so that a timeout kills everything it starts; killed when the parent dies.
        if (setpgid(0, 0) != 0) fail(fd);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(fd);
        if (getppid() != parent) _exit(127);  // the parent died before the line above
        for (int signal_number = 1; signal_number < NSIG; signal_number++) {
            if (signal_number != SIGKILL && signal_number != SIGSTOP) signal(signal_number, SIG_DFL);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        set_limit(RLIMIT_CPU, limits.cpu_seconds, 1, fd);
        set_limit(RLIMIT_DATA, limits.data_bytes, 0, fd);
        set_limit(RLIMIT_FSIZE, limits.file_bytes, 0, fd);
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        // The report pipe must not land on 0-2; move it up first.
        if (fd <= 2) {
            int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (moved < 0) _exit(127);
            fd = moved;
        }
        int wanted[3] = { stdin_fd, stdout_fd, stderr_fd };
        int safe[3];
        for (int i = 0; i < 3; i++) {
            safe[i] = fcntl(wanted[i], F_DUPFD, 3);  // out of the way of 0-2 before dup2 below
            if (safe[i] < 0) fail(fd);
        }
        for (int i = 0; i < 3; i++) {
            if (dup2(safe[i], i) < 0) fail(fd);
        }
        close_from(3, fd);
        if (directory && chdir(directory) != 0) fail(fd);
        execve(path, argv, envp);
        fail(fd);
    }
    close(report[1]);
    int error = 0;
    ssize_t got;
    do { got = read(report[0], &error, sizeof error); } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof error) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return error ? error : ECHILD;
    }
    *pid = child;
    return 0;
}

int pgv_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}

void pgv_kill_group(pid_t pid) {
    if (pid > 0) kill(-pid, SIGKILL);
}

int pgv_wait(pid_t pid, int no_hang, int *status, long *max_rss_kib, double *cpu_seconds) {
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    pid_t done;
    while ((done = wait4(pid, status, no_hang ? WNOHANG : 0, &usage)) < 0) {
        if (errno != EINTR) return errno;
    }
    if (done == 0) return -1;
    *max_rss_kib = usage.ru_maxrss;
    *cpu_seconds = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
                 + (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    return 0;
}
