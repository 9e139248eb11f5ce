#include "config.h"

#include "output.h"

void
rh_output_init (RhOutput *output, const RhOutputFuncs *funcs, const char *conn_id, const char *app,
                const char *stream_name)
{
  output->funcs = funcs;
  output->conn_id = g_strdup (conn_id);
  output->app = g_strdup (app);
  output->stream_name = g_strdup (stream_name);
  output->stream_key = g_strconcat (app, "/", stream_name, NULL);
}

void
rh_output_clear (RhOutput *output)
{
  g_clear_pointer (&output->conn_id, g_free);
  g_clear_pointer (&output->app, g_free);
  g_clear_pointer (&output->stream_name, g_free);
  g_clear_pointer (&output->stream_key, g_free);
}
