/*
 * The hypervisor's command line (Xen-style "name=value" tokens, e.g.
 * "console=com1,vga com1=115200 dom0_mem=1G loglvl=debug") and the options
 * it yields. Parsing is forgiving: a bad token produces a warning, keeps
 * the default and parsing goes on, so a typo never stops the machine from
 * booting.
 */
#ifndef KEEL_CMDLINE_H
#define KEEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct hv_options.console bits */
#define HV_CONSOLE_COM1 (1u << 0)
#define HV_CONSOLE_VGA (1u << 1)

/* Log levels (struct hv_options.loglvl): higher means more output. */
#ifndef LOG_ERR
#define LOG_ERR 0
#define LOG_WARN 1
#define LOG_INFO 2
#define LOG_DEBUG 3
#endif

/* struct hv_options.bsp: what the boot CPU (CPU 0) does. */
#define HV_BSP_AUTO 0u /* idle under QEMU TCG (see cpu_plan.h), else dom0 */
#define HV_BSP_DOM0 1u /* runs dom0 */
#define HV_BSP_IDLE 2u /* runs no domain; dom0 goes to CPU 1 */

#define CMDLINE_MAX_CPUS 64               /* limit for dom0_cpus etc. */
#define CMDLINE_DEFAULT_BAUD 115200
#define CMDLINE_UART_CLOCK_BAUD 115200    /* 16550 base rate (1.8432 MHz/16) */
#define CMDLINE_WARN_MSG_BYTES 192        /* longest warning message */

struct hv_options {
	uint32_t console;        /* HV_CONSOLE_* bitmask */
	uint32_t com1_baud;
	uint64_t dom0_mem_bytes; /* 0 = default (see memmap_split) */
	uint32_t dom0_cpus;      /* 0 = the default (cpu_plan.c) */
	uint32_t max_guest_cpus; /* 0 = no limit */
	uint32_t bsp;            /* HV_BSP_* */
	int loglvl;              /* LOG_* */
	bool novirt;             /* force native dom0 boot (tests, diagnosis) */
};

void cmdline_defaults(struct hv_options *o);
int cmdline_parse(const char *cmdline, struct hv_options *o,
		  void (*warn)(void *ctx, const char *msg), void *ctx);
int parse_size(const char *s, size_t len, uint64_t *out);

#endif /* KEEL_CMDLINE_H */
