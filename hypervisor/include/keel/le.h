/*
 * Little-endian byte access for guest-visible structures (zero pages,
 * ACPI and PCI configuration space, virtio headers) that may be unaligned
 * and must not depend on the host's byte order or alignment rules.
 */
#ifndef KEEL_LE_H
#define KEEL_LE_H

#include <stdint.h>

/* Read an n-byte (n <= 8) little-endian value at p. */
static inline uint64_t le_get(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Write the low n bytes (n <= 8) of v little-endian at p. */
static inline void le_put(uint8_t *p, uint64_t v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
