/*
 * Reading the hypervisor's log ring (common/log.c keeps it; `keel dmesg`
 * reads it through KEEL_HC_LOG_READ). The ring holds the last ring_bytes
 * bytes logged; positions count the bytes logged since boot, so a reader
 * that asks for an overwritten or cleared position is moved forward to
 * the oldest byte still kept. Pure code: no locking (the caller holds the
 * log lock), no hardware.
 */
#include <keel/log_ring.h>

/* Copy logged text from the ring; see log_ring.h. */
uint32_t log_ring_read(const char *ring, uint32_t ring_bytes, uint64_t head, uint64_t floor,
		       uint64_t *pos, char *buf, uint32_t room)
{
	uint64_t first = *pos, n, i;

	if (head > ring_bytes && first < head - ring_bytes)
		first = head - ring_bytes;
	if (first < floor)
		first = floor;
	if (first > head)
		first = head;
	*pos = first;
	n = head - first;
	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		buf[i] = ring[(first + i) % ring_bytes];
	return (uint32_t)n;
}
