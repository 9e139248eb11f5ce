/* LeakSanitizer's suppressions, built into every harness so that running
 * one directly (./fuzz-config corpus/) behaves as make fuzz-smoke does.
 *
 * libconfig 1.5 (Debian 12) drops scanner buffers and token strings when
 * it refuses a file part way: a few bytes per refused file, inside the
 * library (rh_config_load calls config_destroy on every path); the daemon
 * reads a file once per start, -t or SIGHUP. */

const char *__lsan_default_suppressions (void);
const char *__lsan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:libconfig.so\n"
         "leak:libconfig_yylex\n"
         "leak:strbuf_append\n";
}

const char *
__lsan_default_options (void)
{
  return "print_suppressions=0";
}
