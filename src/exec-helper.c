/* rtmphooks-exec PROGRAM [ARG...]: how rtmphooksd starts an exec hook.
 *
 * The daemon needs every hook in a process group of its own, so that a
 * timeout or shutdown can kill whatever the hook started. Setting the
 * group from the daemon takes a child_setup function, which forces GLib to
 * fork the whole daemon; with this helper GLib takes its posix_spawn path
 * (no copy of the daemon's memory, no main-loop stall), and the helper,
 * already in the child, does what child_setup did: a new process group,
 * default signal dispositions (the daemon ignores SIGPIPE; a hook must
 * not inherit that), no descriptors beyond stdin, stdout and stderr. Then
 * it becomes PROGRAM. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
close_descriptors_above_stderr (void)
{
#ifdef SYS_close_range
  if (syscall (SYS_close_range, 3u, ~0u, 0u) == 0)
    return;
#endif
  long max = sysconf (_SC_OPEN_MAX);
  for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
    close ((int) fd);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: rtmphooks-exec PROGRAM [ARG...]\n");
      return 127;
    }
  setpgid (0, 0);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  close_descriptors_above_stderr ();
  execv (argv[1], argv + 1);
  fprintf (stderr, "rtmphooks-exec: cannot run %s: %s\n", argv[1], strerror (errno));
  return 127;
}
