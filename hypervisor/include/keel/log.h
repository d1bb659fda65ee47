/*
 * The hypervisor log: leveled messages prefixed "(keel) " that go to the
 * enabled consoles (COM1, the VGA text screen or the framebuffer) and into an in-memory ring
 * that dom0 will be able to read. panic() is only for broken hypervisor
 * invariants: it logs, stops this CPU and never returns.
 */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <keel/compiler.h>

#define LOG_ERR 0
#define LOG_WARN 1
#define LOG_INFO 2
#define LOG_DEBUG 3

/* A console sink: write len bytes of a message logged at level
 * (LOG_ERR..LOG_DEBUG; a sink may colour by it). */
struct log_sink {
	void (*write)(int level, const char *s, uint32_t len);
	struct log_sink *next;
};

void log_add_sink(struct log_sink *sink);
void log_remove_sink(struct log_sink *sink);
void log_set_level(int level);
int log_get_level(void);
void log_printf(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vprintf(int level, const char *fmt, va_list ap);
/* Read the log ring (KEEL_HC_LOG_READ); see common/log.c. */
uint32_t log_read(uint64_t *pos, uint64_t *head, char *buf, uint32_t room, bool clear);
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2))) __noreturn;

#define log_err(...) log_printf(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

#endif
