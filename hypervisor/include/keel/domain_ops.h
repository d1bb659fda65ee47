/*
 * The kinds of domain, as the code that runs their vCPUs sees them. Dom0
 * (common/dom0.c) and guests (common/guest.c) each fill one struct
 * domain_ops; struct domain points at its kind's. The one vCPU loop
 * (common/vcpu_loop.c), the generic exit handler (common/exit.c), the
 * scheduler and domain_crash call through it, so none of them tests which
 * kind a domain is, and the vendor backend gets the kind's profile as data
 * (enum vcpu_profile, keel/virt.h) when a vCPU is created.
 */
#ifndef KEEL_DOMAIN_OPS_H
#define KEEL_DOMAIN_OPS_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/vcpu.h>
#include <keel/virt.h>

struct cpuid_out;

struct domain_ops {
	const char *kind;          /* "dom0", "guest": for logs */
	enum vcpu_profile profile; /* how the backend sets its vCPUs up */
	/* Before each entry of v at TSC now: inject what is pending, arm the
	 * CPU's timer for slice_end_tsc (0: the vCPU has the CPU to itself)
	 * and load what is switched around entries. False if v cannot run
	 * now; the loop then returns. */
	bool (*enter)(struct vcpu *v, uint64_t now_tsc, uint64_t slice_end_tsc);
	/* After v's exit e, before it is handled; entered_tsc is the TSC
	 * before the entry. Undo what enter loaded, account the time. */
	void (*exited)(struct vcpu *v, const struct vm_exit *e, uint64_t entered_tsc);
	/* The CPUID answer o (the real CPU's on entry) for leaf/sub. */
	void (*cpuid)(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_out *o);
	/* Exits, each NULL where the kind's profile does not intercept it
	 * (the exit is then unexpected and ends the domain). */
	void (*msr)(struct vcpu *v, const struct vm_exit *e);
	void (*io)(struct vcpu *v, const struct vm_exit *e);
	void (*hlt)(struct vcpu *v, const struct vm_exit *e);
	void (*cache_flush)(struct vcpu *v, const struct vm_exit *e);
	/* A nested page fault: 0 once handled, -errno to end the domain. */
	int (*npf)(struct vcpu *v, const struct vm_exit *e);
	/* For the scheduler, with vCPUs that share pool CPUs (NULL for a kind
	 * whose vCPUs have CPUs of their own): whether v can run at now_tsc
	 * (timers, INIT/SIPI and HLT wake-ups updated first), and the TSC of
	 * its next timer event (0: none). Called on v's home CPU. */
	bool (*ready)(struct vcpu *v, uint64_t now_tsc);
	uint64_t (*next_timer)(struct vcpu *v);
	/* The domain cannot go on: log why. NULL for a kind whose crash ends
	 * only itself (domain_crash marks it crashed); dom0's does not return
	 * (the machine is reset). */
	void (*crash)(struct vcpu *v, const char *why);
};

#endif
