/*
 * The link `keel migrate` and `keel migrate-receive` talk over: plain TCP
 * (--insecure, a private link), or SSH through Dropbear's client and
 * server with a one-time pairing code as the password (migrate_pair.c);
 * and the text lines the two sides say to each other between the parts of
 * the save stream.
 */
#ifndef KEEL_CLI_MIGRATE_LINK_H
#define KEEL_CLI_MIGRATE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/types.h>

#define LINK_TCP_PORT "8002"        /* xend's relocation port */
#define LINK_SSH_PORT "22"
#define LINK_TIMEOUT_S 60           /* a peer silent this long is gone */
#define LINK_LINE_BYTES 1024
#define LINK_SSH_USER "migrate"     /* the account whose password is the code */
#define LINK_CODE_DIGITS 8

/* One open link: read from r, write to w; over SSH, dbclient's pid. */
struct link {
	FILE *r, *w;
	pid_t pid;
};

/* The two ends of a link as the target sees them: its own address and
 * the source's, numeric ("" when unknown). */
struct link_ends {
	char here[INET6_ADDRSTRLEN];
	char peer[INET6_ADDRSTRLEN];
};

/* The ends of connected socket @fd into @e. */
void link_ends_of_socket(int fd, struct link_ends *e);

/* The ends of an SSH login from its SSH_CONNECTION variable @env
 * ("client port server port"; NULL: unknown) into @e. */
void link_ends_of_ssh(const char *env, struct link_ends *e);

/* The target's address from the rest of its READY line @rest ("<domid>
 * <address>") into @out (@len bytes); "" if it gave none or a bad one. */
void link_ready_address(const char *rest, char *out, size_t len);

/*
 * Connect to `keel migrate-receive --insecure` on @host (an IPv4 address
 * or "localhost") at @port. Prints why not as "keel: migrate: ...".
 * Returns 0 or a negative error.
 */
int link_connect_tcp(const char *host, const char *port, struct link *l);

/*
 * Log in to `keel migrate-receive` on @host at @port over SSH (Dropbear's
 * dbclient) with pairing code @code; the far end's forced command is the
 * receiver. dbclient's own messages (a wrong code) go to stderr. Returns
 * 0 or a negative error (printed).
 */
int link_connect_ssh(const char *host, const char *port, const char *code, struct link *l);

/* Listen on TCP @port of every address (@verb names the command in
 * messages). Returns the listening socket, or -1 (printed). */
int link_listen_tcp(const char *verb, const char *port);

/* Accept one peer on listening socket @lfd, with LINK_TIMEOUT_S on its
 * reads and writes. Returns its socket, or -1 (printed). */
int link_accept_fd(const char *verb, int lfd);

/* Open a link on socket @fd (both ways). 0 or -ENOMEM. */
int link_open_fd(int fd, struct link *l);

/* Close @l (and wait for its dbclient). */
void link_close(struct link *l);

/* Send one line ("<fmt>\n") and flush it. 0 or -EPIPE. */
int link_say(FILE *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read one line into @line (@len bytes, its newline cut). 0, or -EPIPE
 * when the link closed or was silent for LINK_TIMEOUT_S. */
int link_hear(FILE *r, char *line, size_t len);

/* Whether @line is the word @word, alone or followed by a space. */
bool line_is(const char *line, const char *word);

/* The text after "<word> " in @line ("" if none). */
const char *line_rest(const char *line, const char *word);

/*
 * The SSH receiver's result, handed to the `keel migrate-receive` that
 * serves the logins (migrate_pair.c) in the file @path: one line,
 * "<word> <text>". The receiver puts "RUN <its pid>" there as soon as it
 * runs, then "OK <message>" or "FAIL <message>". link_result_put writes
 * it (a new file renamed over, so it is never read half written);
 * 0 or -errno.
 */
int link_result_put(const char *path, const char *word, const char *text);

/*
 * Take the result in @path once a session ended: 0 if there is none (the
 * login never reached the receiver). Else 1, with *@ok set when a guest
 * came and the receiver's message (or, when it ended without one, why)
 * printed on @msg; a receiver still running is given @linger_ms to put
 * its result. The file is removed.
 */
int link_result_take(const char *path, FILE *msg, int *ok, int linger_ms);

/*
 * @code with its dashes and spaces left out into @out (@len bytes): the
 * password the pairing code stands for. 0, or -EINVAL when what is left
 * is not LINK_CODE_DIGITS digits.
 */
int link_code_normal(const char *code, char *out, size_t len);

#endif
