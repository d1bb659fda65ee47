/*
 * Compiler helpers used across the hypervisor: attributes, barriers,
 * array sizes, alignment arithmetic, counting set bits and atomic
 * operations built on GCC's __atomic builtins.
 */
#ifndef KEEL_COMPILER_H
#define KEEL_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define __packed __attribute__((packed))
#define __noreturn __attribute__((noreturn))
#define __aligned(n) __attribute__((aligned(n)))
#define barrier() __asm__ volatile("" ::: "memory")
#define STATIC_ASSERT(c, m) _Static_assert(c, m)

#define PAGE_SIZE_4K 4096ull
#define PAGE_SIZE_2M (2ull << 20)
#define PAGE_SIZE_1G (1ull << 30)
#define MIB_BYTES (1ull << 20)
#define GIB_BYTES (1ull << 30)

/* How many bits of w are set (without libgcc's __popcountdi2, which the
 * freestanding hypervisor does not link). */
static inline uint32_t bits_set64(uint64_t w)
{
	uint32_t n = 0;

	for (; w != 0; w &= w - 1)
		n++;
	return n;
}

#endif
