/*
 * Reading the hypervisor's log ring: see common/log_ring.c.
 */
#ifndef KEEL_LOG_RING_H
#define KEEL_LOG_RING_H

#include <stdint.h>

/*
 * Copy up to room bytes of logged text into buf, starting at byte *pos of
 * the log (counted since boot). ring holds the last ring_bytes bytes of
 * head bytes logged, and nothing before position floor (cleared) is
 * returned. *pos is moved forward to where the copied text begins when
 * it asked for bytes overwritten, cleared, or (beyond head) not yet
 * logged. Returns the bytes copied: 0 when *pos has reached head.
 */
uint32_t log_ring_read(const char *ring, uint32_t ring_bytes, uint64_t head, uint64_t floor,
		       uint64_t *pos, char *buf, uint32_t room);

#endif
