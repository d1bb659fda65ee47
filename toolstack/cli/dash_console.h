/*
 * The guests' consoles in `keel dashboard` (dash_console.c): each open
 * console is a `keel console <domain>` child whose output is streamed to
 * the browser as Server-Sent Events (each event a JSON string of the
 * bytes) and whose input is what the browser POSTs. At most
 * DASH_CONSOLES_MAX are open at once; one per domain, shared by every
 * page that shows it.
 */
#ifndef KEEL_CLI_DASH_CONSOLE_H
#define KEEL_CLI_DASH_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DASH_CONSOLES_MAX 8u
#define DASH_CONSOLE_INPUT_MAX 4096u /* bytes of one POST */

struct dash_con;

/*
 * Open a stream of domain @name's console (the domain must exist; its
 * console's history comes first). Returns the stream, or NULL with the
 * reason for the user in @err (@len bytes) and the HTTP status in
 * *@status.
 */
struct dash_con *dash_console_open(const char *name, unsigned *status, char *err, size_t len);

/*
 * libmicrohttpd's content reader of a stream @cls: the next event(s) into
 * @buf (@max bytes), waiting for output (a comment every 15 s of
 * silence). Returns the bytes, or MHD_CONTENT_READER_END_OF_STREAM when
 * the console ended (the domain went away).
 */
ssize_t dash_console_read(void *cls, uint64_t pos, char *buf, size_t max);

/* libmicrohttpd's free callback of a stream @cls: the child ends when
 * the last page showing that console closed it. */
void dash_console_close(void *cls);

/*
 * Send @data (@len bytes) to domain @name's console, which a page must
 * have open. Returns 0, -ENOENT (not open), or -EIO.
 */
int dash_console_input(const char *name, const char *data, size_t len);

/* End every console child (the dashboard stops). */
void dash_console_stop_all(void);

#endif
