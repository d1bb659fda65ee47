/*
 * What every libFuzzer target in tests/fuzz/ shares: the entry point's
 * prototype (the targets are built with -Wmissing-prototypes in mind) and
 * FUZZ_ASSERT, which aborts so that libFuzzer records the input.
 */
#ifndef KEEL_FUZZ_H
#define KEEL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c)                                                       \
	do {                                                                 \
		if (!(c))                                                    \
			abort();                                             \
	} while (0)

#endif /* KEEL_FUZZ_H */
