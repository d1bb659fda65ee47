/*
 * The guest scheduler: guest vCPUs time-share the CPUs dom0 does not have.
 * Each vCPU has a home CPU (the least loaded pool CPU when it starts);
 * each pool CPU runs its vCPUs round-robin with a fixed time slice and
 * sleeps when none can run.
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
void __attribute__((noreturn)) sched_run_cpu(void);
void sched_cpu_stats(uint32_t cpu, uint64_t *busy_ns, uint32_t *domid,
		     uint32_t *vcpu, uint32_t *nr_vcpus);

/*
 * Pure pick logic: among n slots starting after *rr, the first for which
 * ready(slot) is true; *rr moves past it. Returns the slot or -1.
 */
int sched_pick_rr(uint32_t n, uint32_t *rr, bool (*ready)(uint32_t slot, void *ctx),
		  void *ctx);

#endif
