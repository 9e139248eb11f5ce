/* Starts a hook's program: three pipes for its stdin, stdout and stderr,
 * then the program itself in a process group of its own, with default
 * signal dispositions, an empty signal mask and no descriptor of the
 * daemon's beyond those three. It does what posix_spawn does, minus the
 * per-call child stack that glibc maps and unmaps (an unmap in a
 * threaded process is a TLB shootdown on every core), and hands back a
 * pidfd made by the same clone. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Where a child runs between clone and execve, in the parent's memory:
 * one per spawning thread (the parent waits until the child has exec'd,
 * so the next spawn of the same thread finds it free). */
typedef struct {
  char bytes[64 * 1024] __attribute__ ((aligned (16)));
} RhChildStack;

typedef struct {
  pid_t pid;
  int pidfd;              /* -1 on kernels without CLONE_PIDFD */
  int stdin_fd;           /* ours, non-blocking; -1 once all input is written */
  int stdout_fd;          /* ours, blocking: read only when ready */
  int stderr_fd;
  gsize input_written;    /* how much of the input the pipe took at once */
} RhChild;

/* Returns 0, or the errno of what failed (the pipes, the clone, or in
 * the child the set-up or the execve; a child that failed is reaped
 * here). argv[0] is the program's path. The input is written before the
 * program starts, as much as the pipe takes; the caller writes the rest
 * to child->stdin_fd. Threads may spawn at the same time, each with a
 * stack of its own. */
int rh_child_spawn (const char *const *argv, const char *const *envp, const guint8 *input,
                    gsize input_len, RhChildStack *stack, RhChild *child);

G_END_DECLS
