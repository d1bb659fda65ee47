/*
 * The guest scheduler: guest vCPUs time-share the CPUs dom0 does not have.
 * Each vCPU has a home CPU (the least loaded pool CPU its domain's
 * affinity allows when it starts); each pool CPU runs its vCPUs in slices
 * of at most SCHED_SLICE_NS, always the ready one that has had the least
 * CPU time for its domain's weight, keeps a capped domain within its
 * share of each SCHED_CAP_PERIOD_NS, hands a ready vCPU to an idle pool
 * CPU it may use (when the backend can move vCPUs), and sleeps when none
 * can run. This
 * is the run queue (common/sched.c, the pure choices in sched_pick.c);
 * the loop of a pool CPU is common/sched_loop.c (keel/sched_loop.h).
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <stdint.h>
#include <stdbool.h>

#define SCHED_SLICE_NS 10000000ull /* 10 ms */
#define SCHED_MAX_VCPUS_PER_CPU 32
#define SCHED_IDLE_MAX_NS 100000000ull /* idle CPUs look again every 100 ms */
#define SCHED_CAP_PERIOD_NS 30000000ull /* a cap's accounting period: 30 ms */
#define SCHED_SLICE_MIN_NS 200000ull    /* shortest slice a cap leaves: 200 us */
#define SCHED_WEIGHT_DEFAULT 256u        /* xl's credit scheduler */
#define SCHED_WEIGHT_MAX 65535u
#define SCHED_CAP_MAX_PCT 6400u          /* 64 CPUs' worth */

/* A capped domain's use of its current accounting period, in TSC ticks. */
struct sched_cap {
	uint64_t epoch; /* which period (now / period) */
	uint64_t used;  /* ticks its vCPUs ran in it */
};

struct vcpu;
struct domain;

int sched_attach(struct vcpu *v);
void sched_detach(struct vcpu *v);
void sched_kick(struct vcpu *v);

/* Have v's home CPU give up everything of v it holds: its FPU/SSE/AVX
 * state and DR0-DR3 are saved into v (v->fpu, v->dr), and the backend
 * unloads v's control block there (virt_ops.vcpu_unload: VT-x writes the
 * VMCS back to memory, so another CPU may read it), for save/restore (v
 * paused, so they stay there). For a runnable v this is also a TLB
 * shootdown: when it returns, v has left guest mode since the call
 * began, or was not on a CPU, and flushes its TLB before it next enters
 * (the balloon relies on it). 0, or -EBUSY if its CPU did not answer
 * within timeout_ns. */
int sched_flush_lazy(struct vcpu *v, uint64_t timeout_ns);

/* Wait until no vCPU of domain d, which is paused or stopped, is running
 * on a CPU (pausing only asks them to stop: each notices at its next
 * exit). Kicks them meanwhile. d->lock must not be held: a vCPU may need
 * it on its way out. 0, or -EBUSY after timeout_ns. */
int sched_wait_stopped(struct domain *d, uint64_t timeout_ns);

/* Prepare pool CPU cpu's run queue before its loop runs (sched_loop.c). */
void sched_cpu_init(uint32_t cpu);
/* The vCPU pool CPU cpu should run at now_tsc, marked running and with its
 * lazily switched state (FPU, DR0-DR3, TLB, IBPB across domains) loaded;
 * NULL if none can run. Called on that CPU. */
struct vcpu *sched_next(uint32_t cpu, uint64_t now_tsc);
/* The TSC until which pool CPU cpu may sleep when no vCPU can run: the
 * earliest timer of its vCPUs, at most SCHED_IDLE_MAX_NS from now_tsc. */
uint64_t sched_idle_until(uint32_t cpu, uint64_t now_tsc);
/* v's slice on pool CPU cpu ran from start_tsc to end_tsc: account it
 * (the CPU's busy time, v's virtual time, its domain's cap) and mark v no
 * longer running (sched_detach waits for that). */
void sched_slice_done(uint32_t cpu, struct vcpu *v, uint64_t start_tsc, uint64_t end_tsc);
/* The TSC at which v's slice from now_tsc ends: now_tsc + slice_tsc, or
 * sooner when its domain's cap leaves less (at least SCHED_SLICE_MIN_NS). */
uint64_t sched_slice_end(struct vcpu *v, uint64_t now_tsc, uint64_t slice_tsc);
/* Pin vCPU v to the pool CPUs in mask (bit n = CPU n; keel vcpu-pin).
 * Before its domain starts it is homed there; a started one is moved by
 * its CPU at its next pick (woken for it), as balancing moves vCPUs. 0,
 * -EINVAL (no pool CPU in mask) or -EOPNOTSUPP (a backend that cannot move
 * a started vCPU, and its CPU is not in mask). */
int sched_vcpu_pin(struct vcpu *v, uint64_t mask);
/* The pool CPUs v may use now: its pinning, else its domain's affinity,
 * else every pool CPU. */
uint64_t sched_vcpu_cpus(const struct vcpu *v);
/* Set d's weight (1..SCHED_WEIGHT_MAX), cap (percent of one CPU, 0 = none)
 * and, before it starts, the pool CPUs its vCPUs may be homed on (0 =
 * any). 0, -EINVAL (out of range, or no pool CPU in affinity) or -EBUSY
 * (affinity changed after the start). */
int sched_domain_set(struct domain *d, uint32_t weight, uint32_t cap_pct,
		     uint64_t affinity);
void sched_cpu_stats(uint32_t cpu, uint64_t *busy_ns, uint32_t *domid,
		     uint32_t *vcpu, uint32_t *nr_vcpus);

/*
 * Pure pick logic: among n slots starting after *rr, the first for which
 * ready(slot) is true; *rr moves past it. Returns the slot or -1.
 */
int sched_pick_rr(uint32_t n, uint32_t *rr, bool (*ready)(uint32_t slot, void *ctx),
		  void *ctx);

/* What sched_pick_fair asks about a slot. */
struct sched_pick_ops {
	bool (*ready)(uint32_t slot, void *ctx);
	uint64_t *(*vtime)(uint32_t slot, void *ctx); /* its virtual time */
};

/*
 * Pure fair pick: among n slots, the ready one with the least virtual
 * time, ties going to the first after *rr (which moves past it). A ready
 * slot whose virtual time lags more than lag behind *floor (it slept) is
 * raised to *floor - lag first, so waking earns at most lag of credit;
 * *floor then rises to the picked slot's virtual time. Returns the slot or
 * -1 if none is ready.
 */
int sched_pick_fair(uint32_t n, uint32_t *rr, const struct sched_pick_ops *ops,
		    void *ctx, uint64_t *floor, uint64_t lag);

/* The virtual time busy ticks cost at weight: busy * 256 / weight. */
uint64_t sched_vtime_charge(uint64_t busy, uint32_t weight);

/*
 * A cap of pct percent of one CPU allows pct * period / 100 ticks per
 * period (now / period numbers them; an overrun of one period is taken
 * from the next). sched_cap_left: ticks left in the period holding now
 * (UINT64_MAX without a cap); sched_cap_charge: count busy ticks that
 * ended at now.
 */
uint64_t sched_cap_left(struct sched_cap *c, uint32_t pct, uint64_t now, uint64_t period);
void sched_cap_charge(struct sched_cap *c, uint32_t pct, uint64_t now, uint64_t period,
		      uint64_t busy);

#endif
