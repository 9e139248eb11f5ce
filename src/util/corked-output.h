/* The output side of a TLS connection's socket, for GIO's TLS to write
 * its records into. GnuTLS hands over one record at a time (16 KiB of
 * plaintext at most) and each would be its own send(); while corked,
 * this stream gathers them instead, and uncorking sends all of them in
 * one call, so that a player's merged write stays one system call
 * through TLS too.
 *
 * Corking is for the main thread, one stream at a time: they gather in
 * one buffer shared by all. What the socket does not take at uncork is
 * kept by the stream, in order, and goes first at the next uncork (or
 * write): GnuTLS considers it sent. A corked write that would take the
 * gathered or kept bytes past RH_CORKED_OUTPUT_MAX is refused with
 * WOULD_BLOCK, which GnuTLS retries later with the same record.
 * Uncorked (during the TLS handshake, on GIO's thread), writes go
 * straight to the socket, blocking or not as asked, once nothing is
 * kept. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RH_TYPE_CORKED_OUTPUT (rh_corked_output_get_type ())
G_DECLARE_FINAL_TYPE (RhCorkedOutput, rh_corked_output, RH, CORKED_OUTPUT, GOutputStream)

/* Bytes gathered at most, beyond which a corked write would block. */
#define RH_CORKED_OUTPUT_MAX (256 * 1024)

/* Writes to socket (the caller keeps it open while the stream lives). */
GOutputStream *rh_corked_output_new (GSocket *socket);

void rh_corked_output_cork (RhCorkedOutput *output);
/* Sends what was gathered; FALSE with error when the socket failed
 * (WOULD_BLOCK is no failure: the rest waits). */
gboolean rh_corked_output_uncork (RhCorkedOutput *output, GError **error);
/* Bytes gathered and not yet taken by the socket. */
gsize rh_corked_output_get_pending (RhCorkedOutput *output);

G_END_DECLS
