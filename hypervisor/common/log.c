/*
 * The hypervisor log. Messages are formatted with kvsnprintf, prefixed
 * "(keel) ", kept in an in-memory ring and written to every registered
 * console sink under one lock, so lines from different CPUs never mix.
 */
#include <keel/log.h>
#include <keel/log_ring.h>
#include <keel/printf.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/cpu.h>
#include <keel/arch.h>
#include <asm/x86.h>

#define LOG_RING_BYTES 65536u
#define LOG_LINE_BYTES 512u
#define LOG_LOCK_WAIT_US 100000u

static struct log_sink *sinks;
static struct spinlock log_lock;
static int log_level = LOG_INFO;
static char log_ring[LOG_RING_BYTES];
static uint64_t log_ring_head; /* bytes ever written */
static uint64_t log_ring_floor; /* bytes before this were cleared (keel dmesg -c) */

/* Register a console sink; messages from now on reach it. */
void log_add_sink(struct log_sink *sink)
{
	spin_lock(&log_lock);
	sink->next = sinks;
	sinks = sink;
	spin_unlock(&log_lock);
}

/* Unregister a console sink (for example the VGA screen or the
 * framebuffer once dom0 owns it). */
void log_remove_sink(struct log_sink *sink)
{
	struct log_sink **p;

	spin_lock(&log_lock);
	for (p = &sinks; *p; p = &(*p)->next) {
		if (*p == sink) {
			*p = sink->next;
			break;
		}
	}
	spin_unlock(&log_lock);
}

/* Set the most verbose level that is printed (LOG_ERR..LOG_DEBUG). */
void log_set_level(int level)
{
	log_level = level;
}

/* Return the current log level. */
int log_get_level(void)
{
	return log_level;
}

static void log_emit(int level, const char *s, uint32_t len)
{
	struct log_sink *k;
	uint32_t i;

	for (i = 0; i < len; i++)
		log_ring[(log_ring_head + i) % LOG_RING_BYTES] = s[i];
	log_ring_head += len;
	for (k = sinks; k; k = k->next)
		k->write(level, s, len);
}

/* Emit under the log lock, waited for at most LOG_LOCK_WAIT_US: a CPU
 * that broke while holding it, or that the watchdog's NMI interrupted in
 * the middle of a line, must not silence every other CPU. */
static void log_locked_emit(int level, const char *s, uint32_t len)
{
	uint32_t waited = 0;

	while (!spin_trylock(&log_lock)) {
		if (waited >= LOG_LOCK_WAIT_US) {
			log_emit(level, s, len);
			return;
		}
		udelay(1);
		waited++;
	}
	log_emit(level, s, len);
	spin_unlock(&log_lock);
}

/* Format and log one message at level; see log_printf. */
void log_vprintf(int level, const char *fmt, va_list ap)
{
	static const char *const tags[] = { "ERROR: ", "WARNING: ", "", "" };
	char line[LOG_LINE_BYTES];
	int n, m;

	if (level > log_level)
		return;
	n = ksnprintf(line, sizeof(line), "(keel) %s", tags[level & 3]);
	m = kvsnprintf(line + n, sizeof(line) - (uint32_t)n, fmt, ap);
	n = (m < 0) ? n : MIN(n + m, (int)sizeof(line) - 1);
	log_locked_emit(level, line, (uint32_t)n);
}

/* Log a printf-style message at level (LOG_ERR..LOG_DEBUG). */
void log_printf(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

/*
 * Copy up to room bytes of the log ring into buf, from byte *pos of the
 * log (counted since boot; moved forward to the oldest byte kept when it
 * asks for older ones). *head gets the bytes logged since boot. With
 * clear, what was returned and everything before it is forgotten. Returns
 * the bytes copied (KEEL_HC_LOG_READ, keel dmesg).
 */
uint32_t log_read(uint64_t *pos, uint64_t *head, char *buf, uint32_t room, bool clear)
{
	uint32_t n;

	spin_lock(&log_lock);
	n = log_ring_read(log_ring, LOG_RING_BYTES, log_ring_head, log_ring_floor, pos, buf,
			  room);
	*head = log_ring_head;
	if (clear && *pos + n > log_ring_floor)
		log_ring_floor = *pos + n;
	spin_unlock(&log_lock);
	return n;
}

/* Report a broken hypervisor invariant and stop this CPU for good. */
void panic(const char *fmt, ...)
{
	char line[LOG_LINE_BYTES];
	struct log_sink *k;
	va_list ap;
	int n;

	irq_disable();
	n = ksnprintf(line, sizeof(line), "(keel) PANIC on CPU %u: ",
		      this_cpu() ? this_cpu()->index : 0);
	va_start(ap, fmt);
	kvsnprintf(line + n, sizeof(line) - (uint32_t)n, fmt, ap);
	va_end(ap);
	/* No lock: the lock holder may be the one that broke. */
	for (k = sinks; k; k = k->next)
		k->write(LOG_ERR, line, (uint32_t)strlen(line));
	for (;;)
		cpu_halt();
}
