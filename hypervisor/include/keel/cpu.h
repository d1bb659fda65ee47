/*
 * Physical CPUs as the hypervisor sees them: one struct cpu each, found
 * from the running stack (every per-CPU stack is STACK_SIZE_BYTES-aligned
 * and holds a pointer to its struct cpu at its lowest address), the CPU
 * table filled from ACPI's MADT, and the roles CPUs get (dom0 or the guest
 * pool).
 */
#ifndef KEEL_CPU_H
#define KEEL_CPU_H

#include <stdint.h>
#include <stdbool.h>
#include <asm/boot.h>
#include <asm/percpu.h>
#include <keel/compiler.h>

#define MAX_CPUS 64

enum cpu_role {
	CPU_ROLE_DOM0,
	CPU_ROLE_POOL,
	CPU_ROLE_IDLE, /* runs no domain (CPU 0 under QEMU TCG, or beyond max_guest_cpus) */
};

struct vcpu;

struct cpu {
	uint32_t index;   /* hypervisor numbering, 0 = BSP */
	uint32_t apic_id; /* local APIC id */
	enum cpu_role role;
	volatile bool online;
	uint64_t stack_base; /* lowest address of this CPU's stack */
	void *vendor;        /* backend per-CPU state (e.g. SVM host save area) */
	struct vcpu *current;
	volatile uint32_t nmi_pending; /* host NMIs to forward to dom0 */
	uint64_t timer_deadline_tsc;   /* when its hypervisor timer fires (arch_timer_arm) */
	/* The watchdog (common/watchdog.c): */
	volatile uint64_t beat_tsc;    /* TSC at this CPU's last progress */
	volatile bool watched;         /* beats are expected from it */
	volatile bool stall_reported;  /* its current stall was reported */
	volatile uint32_t dump_request; /* 1: log your state at the next NMI */
};

extern struct cpu cpus[MAX_CPUS];
extern uint32_t nr_cpus;

/* A short name of role for logs: "dom0", "pool" or "idle". */
static inline const char *cpu_role_name(enum cpu_role role)
{
	return role == CPU_ROLE_DOM0 ? "dom0" : role == CPU_ROLE_POOL ? "pool" : "idle";
}

#endif
