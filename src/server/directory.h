/* What the server asks of a fleet's stream directory (the cluster layer
 * implements it; a single server has none). The server never learns how
 * the directory decides. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RhClaimRequest RhClaimRequest;

/* granted: this node owns key now, under epoch (0 when it was accepted
 * without the directory); else refusal says why (for the client). */
typedef void (*RhClaimDoneFunc) (gboolean granted, gint64 epoch, const char *refusal, gpointer user_data);

typedef struct {
  /* A publish of key passed its checks: may this node own key? done
   * comes later (never from inside claim), unless the request is
   * cancelled first. */
  RhClaimRequest *(*claim) (const char *key, RhClaimDoneFunc done, gpointer done_data, gpointer user_data);
  /* The client left: done is not called; a claim made is given back. */
  void (*cancel) (RhClaimRequest *request, gpointer user_data);
  /* A publish of key granted by claim ended here. */
  void (*release) (const char *key, gpointer user_data);
  /* A player waits for key, live neither here nor pulled: the directory
   * may start a pull (rh_server_start_pull). */
  void (*wanted) (const char *key, gpointer user_data);
} RhDirectoryFuncs;

typedef struct {
  const RhDirectoryFuncs *funcs;  /* NULL: no directory */
  gpointer user_data;
} RhDirectoryHook;

G_END_DECLS
