/*
 * Running keel as a child with its output captured (see child.h): a pipe
 * each way, poll with a deadline, the output kept in the caller's buffer
 * (its older half dropped when it fills).
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

/* In the child: @in and @out as its standard streams, then keel. */
static void child_exec(const char *const *argv, int in, int out)
{
	dup2(in, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execv("/proc/self/exe", (char *const *)argv);
	execvp("keel", (char *const *)argv);
	_exit(127);
}

/* Read what child output @fd has into @out (@len bytes, @got so far)
 * until it ends or @end (a time()); returns the new length. */
static size_t child_collect(int fd, char *out, size_t len, size_t got, time_t end)
{
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		if (got + 1 >= len) { /* keep the newer half */
			memmove(out, out + got / 2, got - got / 2);
			got -= got / 2;
		}
		n = read(fd, out + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = 0;
	}
	return got;
}

/* Run keel as a child; see child.h. */
int child_run_keel(const char *const *argv, const char *input, char *out, size_t len,
		   int timeout_s)
{
	int in[2], outp[2], status = 0;
	time_t end = time(NULL) + timeout_s;
	pid_t pid;

	out[0] = 0;
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(outp, O_CLOEXEC)) {
		close(in[0]), close(in[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, in[0], outp[1]);
	close(in[0]);
	close(outp[1]);
	if (pid < 0) {
		close(in[1]), close(outp[0]);
		return -errno;
	}
	if (input && write(in[1], input, strlen(input)) < 0)
		status = -errno; /* it may have ended already: see its status */
	close(in[1]);
	child_collect(outp[0], out, len, 0, end);
	close(outp[0]);
	if (time(NULL) >= end)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
