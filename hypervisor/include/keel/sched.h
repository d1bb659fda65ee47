/*
 * The guest scheduler: guest vCPUs time-share the CPUs dom0 does not have.
 * Each vCPU has a home CPU (the least loaded pool CPU when it starts);
 * each pool CPU runs its vCPUs round-robin with a fixed time slice and
 * sleeps when none can run. This is the run queue (common/sched.c); the
 * loop of a pool CPU is common/sched_loop.c (keel/sched_loop.h).
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <stdint.h>
#include <stdbool.h>

#define SCHED_SLICE_NS 10000000ull /* 10 ms */
#define SCHED_MAX_VCPUS_PER_CPU 32
#define SCHED_IDLE_MAX_NS 100000000ull /* idle CPUs look again every 100 ms */

struct vcpu;

int sched_attach(struct vcpu *v);
void sched_detach(struct vcpu *v);
void sched_kick(struct vcpu *v);

/* Prepare pool CPU cpu's run queue before its loop runs (sched_loop.c). */
void sched_cpu_init(uint32_t cpu);
/* The vCPU pool CPU cpu should run at now_tsc, marked running and with its
 * lazily switched state (FPU, DR0-DR3, TLB, IBPB across domains) loaded;
 * NULL if none can run. Called on that CPU. */
struct vcpu *sched_next(uint32_t cpu, uint64_t now_tsc);
/* The TSC until which pool CPU cpu may sleep when no vCPU can run: the
 * earliest timer of its vCPUs, at most SCHED_IDLE_MAX_NS from now_tsc. */
uint64_t sched_idle_until(uint32_t cpu, uint64_t now_tsc);
/* v's slice on pool CPU cpu ended after busy_tsc ticks: account them and
 * mark v no longer running (sched_detach waits for that). */
void sched_slice_done(uint32_t cpu, struct vcpu *v, uint64_t busy_tsc);
void sched_cpu_stats(uint32_t cpu, uint64_t *busy_ns, uint32_t *domid,
		     uint32_t *vcpu, uint32_t *nr_vcpus);

/*
 * Pure pick logic: among n slots starting after *rr, the first for which
 * ready(slot) is true; *rr moves past it. Returns the slot or -1.
 */
int sched_pick_rr(uint32_t n, uint32_t *rr, bool (*ready)(uint32_t slot, void *ctx),
		  void *ctx);

#endif
