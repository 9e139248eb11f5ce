/* How a hook's program is started: its stdin holds the input (written
 * before it starts, and the rest later when the pipe is full), its own
 * process group, default signal dispositions and an empty mask although
 * the parent ignores SIGPIPE and blocks signals, no descriptor beyond
 * 0-2, a pidfd that turns readable at exit; a program that cannot run
 * is an errno and leaves no child behind. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/child-spawn.h"

static RhChildStack stack;

/* Everything until end of file. */
static char *
read_all (int fd)
{
  GString *text = g_string_new (NULL);
  char buffer[4096];
  ssize_t n;
  while ((n = read (fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      g_string_append_len (text, buffer, n);
  return g_string_free (text, FALSE);
}

static int
reap (const RhChild *child)
{
  int status = -1;
  while (waitpid (child->pid, &status, __WALL) < 0 && errno == EINTR)
    ;
  return status;
}

static void
close_child (RhChild *child)
{
  int fds[] = { child->stdin_fd, child->stdout_fd, child->stderr_fd, child->pidfd };
  for (gsize i = 0; i < G_N_ELEMENTS (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

static void
test_child_state (void)
{
  /* What a daemon does: SIGPIPE ignored, SIGCHLD and SIGUSR1 blocked. */
  signal (SIGPIPE, SIG_IGN);
  sigset_t blocked, old;
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGCHLD);
  sigaddset (&blocked, SIGUSR1);
  sigprocmask (SIG_BLOCK, &blocked, &old);
  int inherited = dup2 (STDERR_FILENO, 50);
  g_assert_cmpint (inherited, ==, 50);

  const char *argv[] = { "/bin/sh", "-c",
                         "read line; echo \"in=$line\"; echo to-stderr >&2;"
                         " for fd in 0 1 2 50; do [ -e /proc/$$/fd/$fd ] && echo open=$fd; done;"
                         " echo pgid=$(cut -d' ' -f5 /proc/$$/stat) pid=$$ var=$HOOK_VAR",
                         NULL };
  const char *envp[] = { "HOOK_VAR=set", "PATH=/usr/bin:/bin", NULL };
  const char *input = "{\"type\":\"connect\"}\n";
  RhChild child;
  g_assert_cmpint (rh_child_spawn (argv, envp, (const guint8 *) input, strlen (input), &stack, &child), ==, 0);
  g_assert_cmpint (child.pid, >, 0);
  g_assert_cmpint (child.pidfd, >=, 0);
  /* A small input went in before the program ran: nothing left to write. */
  g_assert_cmpint (child.stdin_fd, ==, -1);
  g_assert_cmpuint (child.input_written, ==, strlen (input));

  g_autofree char *out = read_all (child.stdout_fd);
  g_autofree char *err = read_all (child.stderr_fd);
  struct pollfd exit_watch = { .fd = child.pidfd, .events = POLLIN };
  g_assert_cmpint (poll (&exit_watch, 1, 10000), ==, 1);
  int status = reap (&child);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  g_assert_nonnull (strstr (out, "in={\"type\":\"connect\"}\n"));
  g_assert_cmpstr (err, ==, "to-stderr\n");
  /* 50 was open in the parent, without close-on-exec. */
  g_assert_nonnull (strstr (out, "open=0\nopen=1\nopen=2\npgid"));
  g_autofree char *own_group = g_strdup_printf ("pgid=%d pid=%d var=set\n", (int) child.pid, (int) child.pid);
  g_assert_nonnull (strstr (out, own_group));

  close_child (&child);

  /* The signal state, read by the program itself (a shell blocks signals
   * for a moment around each command it runs). */
  const char *grep[] = { "/bin/grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status", NULL };
  g_assert_cmpint (rh_child_spawn (grep, envp, (const guint8 *) "", 0, &stack, &child), ==, 0);
  g_autofree char *signals = read_all (child.stdout_fd);
  g_assert_cmpint (WEXITSTATUS (reap (&child)), ==, 0);
  g_assert_cmpstr (signals, ==, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  close_child (&child);
  close (inherited);
  sigprocmask (SIG_SETMASK, &old, NULL);
}

static void
test_large_input (void)
{
  /* More than a pipe holds: the rest is the caller's to write. */
  enum { SIZE = 300 * 1024 };
  g_autofree guint8 *input = g_malloc (SIZE);
  memset (input, 'x', SIZE);
  const char *argv[] = { "/usr/bin/wc", "-c", NULL };
  const char *envp[] = { NULL };
  RhChild child;
  g_assert_cmpint (rh_child_spawn (argv, envp, input, SIZE, &stack, &child), ==, 0);
  g_assert_cmpint (child.stdin_fd, >=, 0);
  g_assert_cmpuint (child.input_written, <, SIZE);
  g_assert_cmpuint (child.input_written, >, 0);
  /* Non-blocking: wait for room, write, until all is in. */
  gsize written = child.input_written;
  while (written < SIZE)
    {
      struct pollfd room = { .fd = child.stdin_fd, .events = POLLOUT };
      g_assert_cmpint (poll (&room, 1, 10000), ==, 1);
      ssize_t n = write (child.stdin_fd, input + written, SIZE - written);
      g_assert_true (n > 0 || errno == EAGAIN);
      if (n > 0)
        written += (gsize) n;
    }
  close (child.stdin_fd);
  child.stdin_fd = -1;
  g_autofree char *out = read_all (child.stdout_fd);
  g_assert_cmpstr (g_strstrip (out), ==, "307200");
  g_assert_cmpint (WEXITSTATUS (reap (&child)), ==, 0);
  close_child (&child);
}

static void
test_cannot_run (void)
{
  const char *missing[] = { "/nonexistent/hook", NULL };
  const char *envp[] = { NULL };
  RhChild child;
  g_assert_cmpint (rh_child_spawn (missing, envp, (const guint8 *) "", 0, &stack, &child), ==, ENOENT);
  g_assert_cmpint (child.pid, ==, 0);
  g_assert_cmpint (child.stdout_fd, ==, -1);
  g_assert_cmpint (child.pidfd, ==, -1);
  /* The child that tried was reaped. */
  g_assert_cmpint (waitpid (-1, NULL, WNOHANG | __WALL), ==, -1);
  g_assert_cmpint (errno, ==, ECHILD);

  /* A file that is not executable. */
  char *path = NULL;
  int fd = g_file_open_tmp ("rtmphooks-test-XXXXXX", &path, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  const char *not_executable[] = { path, NULL };
  g_assert_cmpint (rh_child_spawn (not_executable, envp, (const guint8 *) "", 0, &stack, &child), ==, EACCES);
  g_assert_cmpint (waitpid (-1, NULL, WNOHANG | __WALL), ==, -1);
  unlink (path);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/child-spawn/state", test_child_state);
  g_test_add_func ("/child-spawn/large-input", test_large_input);
  g_test_add_func ("/child-spawn/cannot-run", test_cannot_run);
  return g_test_run ();
}
