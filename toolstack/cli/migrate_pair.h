/*
 * The SSH end of `keel migrate-receive` (migrate_pair.c): a one-time
 * pairing code as the password of the "migrate" account, and Dropbear
 * serving each login.
 */
#ifndef KEEL_CLI_MIGRATE_PAIR_H
#define KEEL_CLI_MIGRATE_PAIR_H

#include <stdio.h>

#include "monitor.h"

/* Where `keel migrate-receive --stdio` (run by the "migrate" account's
 * shell) leaves "OK <message>" or "FAIL <message>" for pair_serve. As
 * soon as it runs (the login had the code) it leaves "RUN <pid>" there,
 * so a session that ends before any result (the source died, or went
 * silent and Dropbear ended it) is not taken for a failed login. */
#define PAIR_RESULT MONITOR_DIR "/migrate-receive.result"

/*
 * Make a pairing code and this boot's SSH host key, show both on @msg,
 * and serve SSH logins on TCP @port until one has run the receiver (its
 * result is printed on @msg) or PAIR_TRIES logins failed. The code is
 * locked again before it returns. Returns 0 when a guest came, else a
 * negative error (printed).
 */
int pair_serve(const char *port, FILE *msg);

#endif
