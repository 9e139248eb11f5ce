#include "config.h"

#include "child-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* What the child needs, in memory it shares with the parent until it
 * execs (CLONE_VM | CLONE_VFORK: the parent waits until then). */
typedef struct {
  const char *path;
  char *const *argv;
  char *const *envp;
  int stdio[3];           /* become descriptors 0, 1 and 2 */
  volatile int error;     /* set by the child when it cannot exec */
} ChildPlan;

/* The child, between clone and execve: raw system calls only (it shares
 * the parent's memory and locks; libc wrappers that a sanitizer
 * intercepts are not safe here). Every signal is blocked on entry (the
 * parent blocked them), so no handler of the daemon's runs in it. */
__attribute__ ((no_sanitize_address)) static int
child_main (void *data)
{
  ChildPlan *plan = data;
  /* An all-zero kernel sigaction is SIG_DFL with no flags and no mask:
   * the daemon ignores SIGPIPE, a hook must not inherit that. */
  unsigned long default_action[4] = { 0, 0, 0, 0 };
  for (long sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall (SYS_rt_sigaction, sig, default_action, NULL, (long) sizeof (unsigned long));
  for (long fd = 0; fd < 3; fd++)
    {
      /* dup3 refuses equal descriptors; then clearing close-on-exec is enough. */
      long done = plan->stdio[fd] == fd ? syscall (SYS_fcntl, fd, F_SETFD, 0L)
                                        : syscall (SYS_dup3, (long) plan->stdio[fd], fd, 0L);
      if (done < 0)
        goto fail;
    }
  if (syscall (SYS_close_range, 3L, (long) ~0U, 0L) != 0 || syscall (SYS_setpgid, 0L, 0L) != 0)
    goto fail;
  unsigned long no_signals = 0;
  syscall (SYS_rt_sigprocmask, (long) SIG_SETMASK, &no_signals, NULL, (long) sizeof no_signals);
  syscall (SYS_execve, plan->path, plan->argv, plan->envp);
fail:
  plan->error = errno != 0 ? errno : EINVAL;
  syscall (SYS_exit, 127L);
  return 127;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* The child's dup3 onto 0, 1 and 2 must not overwrite a descriptor it
 * has yet to copy: keep every pipe end above 2 (only a daemon started
 * with closed standard descriptors gets one there). */
static gboolean
keep_above_stdio (int *fd)
{
  if (*fd > 2)
    return TRUE;
  int moved = fcntl (*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0)
    return FALSE;
  close (*fd);
  *fd = moved;
  return TRUE;
}

/* As much of the input as the empty pipe takes, before the program runs.
 * Up to PIPE_BUF bytes always fit (a pipe holds at least a page), so the
 * usual small event needs no non-blocking mode and no later write. */
static gsize
write_input (int fd, const guint8 *input, gsize len)
{
  if (len > PIPE_BUF)
    fcntl (fd, F_SETFL, O_NONBLOCK);
  gsize written = 0;
  while (written < len)
    {
      ssize_t n = write (fd, input + written, len - written);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      written += (gsize) n;
    }
  if (written < len && len <= PIPE_BUF)
    fcntl (fd, F_SETFL, O_NONBLOCK);
  return written;
}

int
rh_child_spawn (const char *const *argv, const char *const *envp, const guint8 *input, gsize input_len,
                RhChildStack *stack, RhChild *child)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
  int error = 0;
  memset (child, 0, sizeof *child);
  child->pidfd = child->stdin_fd = child->stdout_fd = child->stderr_fd = -1;

  if (pipe2 (in, O_CLOEXEC) != 0 || pipe2 (out, O_CLOEXEC) != 0 || pipe2 (err, O_CLOEXEC) != 0)
    error = errno;
  for (int i = 0; i < 2 && error == 0; i++)
    if (!keep_above_stdio (&in[i]) || !keep_above_stdio (&out[i]) || !keep_above_stdio (&err[i]))
      error = errno;
  if (error != 0)
    goto out;

  child->input_written = write_input (in[1], input, input_len);
  if (child->input_written == input_len)
    close_fd (&in[1]);

  ChildPlan plan = {
    .path = argv[0],
    .argv = (char *const *) argv,
    .envp = (char *const *) envp,
    .stdio = { in[0], out[1], err[1] },
  };
  sigset_t all, saved;
  sigfillset (&all);
  int pidfd = -1;
  /* The stack grows down on every architecture Debian builds for but
   * hppa; the kernel wants its top. */
  char *stack_top = stack->bytes + sizeof stack->bytes;
  pthread_sigmask (SIG_SETMASK, &all, &saved);
  pid_t pid = clone (child_main, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &plan, &pidfd);
  if (pid < 0 && errno == EINVAL)
    pid = clone (child_main, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  error = pid < 0 ? errno : 0;
  pthread_sigmask (SIG_SETMASK, &saved, NULL);

  if (pid > 0 && plan.error != 0)
    {
      /* It ran, failed before or in execve, and exited: reap it. */
      error = plan.error;
      while (waitpid (pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
      if (pidfd >= 0)
        close (pidfd);
    }
  else if (pid > 0)
    {
      child->pid = pid;
      child->pidfd = pidfd;
      child->stdin_fd = in[1];
      child->stdout_fd = out[0];
      child->stderr_fd = err[0];
      in[1] = out[0] = err[0] = -1;
    }

out:
  close_fd (&in[0]);
  close_fd (&in[1]);
  close_fd (&out[0]);
  close_fd (&out[1]);
  close_fd (&err[0]);
  close_fd (&err[1]);
  return error;
}
