/*
 * Minimal unit-test harness for host tests of Keel's freestanding code.
 * CHECK* macros count passes and failures and print file:line with the
 * values on failure; harness_done() prints the last line,
 * "<name>: N passed, N failed", that tests/unit/Makefile sums up, and
 * returns the process exit status.
 * Include it once per test program (it defines static state).
 */
#ifndef KEEL_UNIT_HARNESS_H
#define KEEL_UNIT_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned long harness_passed;
static unsigned long harness_failed;
static unsigned long harness_max_reports = 50; /* failures printed in full */

static inline int harness_fail_report(void)
{
	harness_failed++;
	return harness_failed <= harness_max_reports;
}

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond)                                                    \
			harness_passed++;                                    \
		else if (harness_fail_report())                              \
			printf("%s:%d: CHECK(%s) failed\n", __FILE__,         \
			       __LINE__, #cond);                             \
	} while (0)

/* Like CHECK, with a printf-style note printed on failure. */
#define CHECK_MSG(cond, ...)                                                 \
	do {                                                                 \
		if (cond) {                                                  \
			harness_passed++;                                    \
		} else if (harness_fail_report()) {                          \
			printf("%s:%d: CHECK(%s) failed: ", __FILE__,         \
			       __LINE__, #cond);                             \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                   \
	do {                                                                 \
		uint64_t harness_a_ = (uint64_t)(a);                         \
		uint64_t harness_b_ = (uint64_t)(b);                         \
		if (harness_a_ == harness_b_)                                \
			harness_passed++;                                    \
		else if (harness_fail_report())                              \
			printf("%s:%d: CHECK_EQ_U64(%s, %s) failed: "        \
			       "0x%" PRIx64 " (%" PRIu64 ") != 0x%" PRIx64   \
			       " (%" PRIu64 ")\n",                           \
			       __FILE__, __LINE__, #a, #b, harness_a_,       \
			       harness_a_, harness_b_, harness_b_);          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                   \
	do {                                                                 \
		long long harness_a_ = (long long)(a);                       \
		long long harness_b_ = (long long)(b);                       \
		if (harness_a_ == harness_b_)                                \
			harness_passed++;                                    \
		else if (harness_fail_report())                              \
			printf("%s:%d: CHECK_EQ_INT(%s, %s) failed: %lld != " \
			       "%lld\n", __FILE__, __LINE__, #a, #b,         \
			       harness_a_, harness_b_);                      \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                   \
	do {                                                                 \
		const char *harness_a_ = (a);                                \
		const char *harness_b_ = (b);                                \
		if (harness_a_ && harness_b_ &&                              \
		    strcmp(harness_a_, harness_b_) == 0)                     \
			harness_passed++;                                    \
		else if (harness_fail_report())                              \
			printf("%s:%d: CHECK_EQ_STR(%s, %s) failed: "        \
			       "\"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, \
			       #b, harness_a_ ? harness_a_ : "(NULL)",       \
			       harness_b_ ? harness_b_ : "(NULL)");          \
	} while (0)

/* Prints the result line and returns the exit status for main(). */
static inline int harness_done(const char *name)
{
	if (harness_failed > harness_max_reports)
		printf("%s: %lu more failures not shown\n", name,
		       harness_failed - harness_max_reports);
	printf("%s: %lu passed, %lu failed\n", name, harness_passed,
	       harness_failed);
	fflush(stdout);
	return harness_failed ? 1 : 0;
}

/* Small deterministic PRNG (xorshift64*) so runs are reproducible. */
static uint64_t harness_rng_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t harness_rand(void)
{
	uint64_t x = harness_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	harness_rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform-ish value in [0, n), n > 0. */
static inline uint64_t harness_rand_below(uint64_t n)
{
	return harness_rand() % n;
}

#endif /* KEEL_UNIT_HARNESS_H */
