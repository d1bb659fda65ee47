/*
 * The SSH end of `keel migrate-receive`: a live CD has no keys set up, so
 * the target makes a one-time pairing code, shows it on its console, and
 * makes it the password of the "migrate" account, whose login shell runs
 * the receiver whatever the client asks (dom0-rootfs/skel/sbin/
 * keel-migrate-shell). Each connection it accepts is served by Dropbear
 * in inetd mode (dropbear -i), so the SSH protocol and its crypto are
 * Dropbear's; the code is locked again when it is done. A few failed
 * logins are allowed (a typo), then it stops, so the code cannot be
 * guessed.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate_link.h"
#include "migrate_pair.h"
#include "monitor.h"

#define PAIR_SHADOW "/etc/shadow"
#define PAIR_KEY MONITOR_DIR "/ssh_host_ed25519_key"
#define PAIR_TRIES 5   /* sessions that did not reach the receiver */

/* @n random bytes into @p. 0 or -EIO. */
static int pair_random(uint8_t *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY);
	ssize_t got = fd >= 0 ? read(fd, p, n) : -1;

	if (fd >= 0)
		close(fd);
	return got == (ssize_t)n ? 0 : -EIO;
}

/* Set the "migrate" account's password hash to @hash ("!" locks it), in
 * a new /etc/shadow put in place by rename. 0 or -errno. */
static int pair_shadow(const char *hash)
{
	char line[512], tmp[] = PAIR_SHADOW ".keel";
	FILE *in = fopen(PAIR_SHADOW, "r"), *out = fopen(tmp, "w");
	size_t ul = strlen(LINK_SSH_USER);
	int ret = 0;

	if (!out) {
		ret = -errno;
		if (in)
			fclose(in);
		return ret;
	}
	fchmod(fileno(out), 0600);
	while (in && fgets(line, sizeof(line), in))
		if (strncmp(line, LINK_SSH_USER ":", ul + 1) != 0)
			fputs(line, out);
	fprintf(out, "%s:%s:0:0:99999:7:::\n", LINK_SSH_USER, hash);
	if (in)
		fclose(in);
	if (fclose(out) || rename(tmp, PAIR_SHADOW))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* The password of the "migrate" account becomes @code. 0 or -errno. */
static int pair_set_code(const char *code)
{
	static const char abc[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char salt[4 + 16 + 2] = "$6$";
	uint8_t raw[16];
	const char *hash;
	int i;

	if (pair_random(raw, sizeof(raw)))
		return -EIO;
	for (i = 0; i < 16; i++)
		salt[3 + i] = abc[raw[i] % 64];
	salt[19] = '$';
	salt[20] = 0;
	hash = crypt(code, salt);
	if (!hash || hash[0] != '$')
		return -EINVAL;
	return pair_shadow(hash);
}

/* Run @argv with its stdout to @out (NULL: nowhere) and its stderr
 * nowhere (the caller says what failed); 0 if it exited 0. */
static int pair_exec(char *const argv[], FILE *out)
{
	int p[2];
	pid_t pid;
	int status;
	char buf[256];
	ssize_t n;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (null >= 0)
			dup2(null, 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		if (out)
			fwrite(buf, 1, (size_t)n, out);
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* This boot's host key, made on first use; its fingerprint line into
 * @fp (@len bytes). 0, or an error (printed). */
static int pair_host_key(char *fp, size_t len)
{
	char *make[] = { "dropbearkey", "-t", "ed25519", "-f", PAIR_KEY, NULL };
	char *show[] = { "dropbearkey", "-y", "-f", PAIR_KEY, NULL };
	char text[2048] = "", *at;
	FILE *mem = fmemopen(text, sizeof(text) - 1, "w");

	mkdir(MONITOR_DIR, 0755);
	if (access(PAIR_KEY, F_OK) != 0 && pair_exec(make, NULL)) {
		fprintf(stderr, "keel: migrate-receive: cannot make an SSH host key with "
			"dropbearkey (is Dropbear on this CD?)\n");
		if (mem)
			fclose(mem);
		return -ENOENT;
	}
	if (mem) {
		pair_exec(show, mem);
		fclose(mem);
	}
	at = strstr(text, "Fingerprint:");
	snprintf(fp, len, "%.*s", at ? (int)strcspn(at, "\n") : 0, at ? at : "");
	return 0;
}

#define PAIR_LINGER_MS 10000 /* for a receiver to end after its session */

static volatile pid_t pair_child;

/* Ctrl-C or a kill: lock the code, end the session. */
static void pair_on_signal(int sig)
{
	if (pair_child > 0)
		kill(pair_child, SIGTERM);
	pair_shadow("!");
	_exit(128 + sig);
}

/* Serve one accepted connection @fd with dropbear -i; wait for it. A
 * source silent for LINK_TIMEOUT_S (its machine died, its cable was
 * pulled) ends the session (-I), and the receiver drops its copy. */
static void pair_session(int fd)
{
	pid_t pid = fork();
	char idle[16];

	snprintf(idle, sizeof(idle), "%d", LINK_TIMEOUT_S);
	if (pid == 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
		execlp("dropbear", "dropbear", "-i", "-r", PAIR_KEY, "-j", "-k", "-m", "-I", idle,
		       (char *)NULL);
		fprintf(stderr, "keel: migrate-receive: cannot run dropbear: %s\n",
			strerror(errno));
		_exit(127);
	}
	close(fd);
	if (pid < 0)
		return;
	pair_child = pid;
	waitpid(pid, NULL, 0);
	pair_child = 0;
}

/* Make a code, show it, serve SSH logins until a guest came; see
 * migrate_pair.h. */
int pair_serve(const char *port, FILE *msg)
{
	char code[LINK_CODE_DIGITS + 1], fp[160];
	uint8_t raw[LINK_CODE_DIGITS];
	int i, tries = 0, ok = 0, fd, lfd;

	signal(SIGINT, pair_on_signal);
	signal(SIGTERM, pair_on_signal);
	signal(SIGHUP, pair_on_signal);
	if (pair_host_key(fp, sizeof(fp)) || pair_random(raw, sizeof(raw)))
		return -EIO;
	for (i = 0; i < LINK_CODE_DIGITS; i++)
		code[i] = (char)('0' + raw[i] % 10);
	code[LINK_CODE_DIGITS] = 0;
	if (pair_set_code(code)) {
		fprintf(stderr, "keel: migrate-receive: cannot set the pairing code in "
			PAIR_SHADOW ": %s\n", strerror(errno));
		return -EIO;
	}
	unlink(PAIR_RESULT);
	lfd = link_listen_tcp("migrate-receive", port);
	if (lfd < 0) {
		pair_shadow("!");
		return -EADDRINUSE;
	}
	fprintf(msg, "Pairing code: %.4s-%.4s\n"
		"On the source: keel migrate --code %.4s-%.4s <domain> <this machine's address>\n"
		"Waiting on SSH port %s for one guest; SSH host key %s\n", code, code + 4, code,
		code + 4, port, fp[0] ? fp : "(unknown)");
	fflush(msg);
	while (tries < PAIR_TRIES) {
		fd = link_accept_fd("migrate-receive", lfd);
		if (fd < 0)
			break;
		pair_session(fd);
		if (link_result_take(PAIR_RESULT, msg, &ok, PAIR_LINGER_MS))
			break;
		tries++;
		fprintf(msg, "A login without the right code (%d of %d allowed)\n", tries,
			PAIR_TRIES);
		fflush(msg);
	}
	close(lfd);
	pair_shadow("!");
	if (tries >= PAIR_TRIES)
		fprintf(stderr, "keel: migrate-receive: too many logins without the code; run "
			"it again for a new one\n");
	return ok ? 0 : -EPERM;
}
