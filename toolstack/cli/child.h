/*
 * Running the keel command itself as a child, for the programs that do
 * what other keel commands do (keel dashboard's actions, keel kiosk's
 * steps): its output captured, its input given, a time limit.
 */
#ifndef KEEL_CLI_CHILD_H
#define KEEL_CLI_CHILD_H

#include <stddef.h>

/*
 * Run `keel` with @argv ("keel", ..., NULL; this binary, else keel from
 * PATH) with @input on its standard input (NULL: nothing) and its output
 * and errors into @out (@len bytes, NUL-terminated; the last part kept
 * when there is more). A child still running after @timeout_s is killed.
 * Returns its exit status (128 + signal when killed), or -errno.
 */
int child_run_keel(const char *const *argv, const char *input, char *out, size_t len,
		   int timeout_s);

#endif
