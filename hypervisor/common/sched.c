/*
 * The guest scheduler's run queues (see sched.h). Per pool CPU: a list of
 * the vCPUs homed there under a lock, a round-robin cursor, the vCPU whose
 * FPU state and TLB entries the CPU currently holds, and the time spent
 * running vCPUs. Whether a vCPU can run, and when its timer fires, its
 * domain's kind says (domain_ops.ready, next_timer). The pool CPU's loop
 * that uses these is common/sched_loop.c.
 */
#include <keel/sched.h>
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/cpu.h>
#include <keel/hv.h>
#include <keel/arch.h>
#include <keel/errno.h>
#include <keel/watchdog.h>
#include <public/keel_abi.h>

struct sched_cpu {
	struct spinlock lock;
	struct vcpu *v[SCHED_MAX_VCPUS_PER_CPU];
	uint32_t n;
	uint32_t rr;
	struct vcpu *last; /* whose FPU state, DR0-3 and TLB entries this CPU holds */
	uint32_t last_domid; /* the domain of the last vCPU run, KEEL_CPU_DOMID_NONE before */
	uint64_t busy_tsc; /* TSC ticks spent running vCPUs */
};

static struct sched_cpu sched[MAX_CPUS];

/* Home v on the least loaded pool CPU. 0, or -ENOSPC if all are full. */
int sched_attach(struct vcpu *v)
{
	uint32_t i, best = MAX_CPUS;

	for (i = 0; i < nr_cpus; i++) {
		if (!(hv.cpu_mask_pool & (1ull << i)) || !cpus[i].online)
			continue;
		if (best == MAX_CPUS || sched[i].n < sched[best].n)
			best = i;
	}
	if (best == MAX_CPUS || sched[best].n == SCHED_MAX_VCPUS_PER_CPU)
		return -ENOSPC;
	spin_lock(&sched[best].lock);
	v->cpu = &cpus[best];
	sched[best].v[sched[best].n++] = v;
	spin_unlock(&sched[best].lock);
	return 0;
}

/* Take v off its CPU and wait until it is not running there. */
void sched_detach(struct vcpu *v)
{
	struct sched_cpu *s = &sched[v->cpu->index];
	uint32_t i;

	spin_lock(&s->lock);
	for (i = 0; i < s->n; i++) {
		if (s->v[i] == v) {
			s->v[i] = s->v[--s->n];
			break;
		}
	}
	if (s->last == v)
		s->last = 0;
	spin_unlock(&s->lock);
	while (__atomic_load_n(&v->running, __ATOMIC_ACQUIRE)) {
		sched_kick(v);
		udelay(50);
	}
}

/* Make v's CPU look at v again soon (it may have become runnable, paused
 * or dying). */
void sched_kick(struct vcpu *v)
{
	if (v->cpu && v->cpu != this_cpu())
		arch_kick_cpu(v->cpu->apic_id);
}

struct pick_ctx {
	struct sched_cpu *s;
	uint64_t now;
};

static bool slot_ready(uint32_t slot, void *ctx)
{
	struct pick_ctx *p = ctx;
	struct vcpu *v = p->s->v[slot];

	return v->dom->ops->ready(v, p->now);
}

/* Make the CPU hold v's lazily switched state instead of the last vCPU's
 * (whose state is saved, unless it was destroyed): FPU/SSE/AVX, DR0-DR3,
 * a TLB flush, and an IBPB when v belongs to another domain. */
static void sched_switch_to(struct sched_cpu *s, struct vcpu *v)
{
	if (s->last) {
		arch_fpu_save(&s->last->fpu);
		arch_dr_save(s->last->dr);
	}
	if (s->last_domid != v->dom->id)
		arch_ibpb();
	arch_fpu_restore(&v->fpu);
	arch_dr_restore(v->dr);
	virt->vcpu_flush_npt(v);
	s->last = v;
	s->last_domid = v->dom->id;
}

/* Choose the next vCPU and mark it running, switching lazy state (see
 * sched_switch_to) if it is not the one the CPU last ran. */
static struct vcpu *sched_pick(struct sched_cpu *s, uint64_t now)
{
	struct pick_ctx p = { s, now };
	struct vcpu *v = 0;
	int slot;

	spin_lock(&s->lock);
	slot = sched_pick_rr(s->n, &s->rr, slot_ready, &p);
	if (slot >= 0) {
		v = s->v[slot];
		__atomic_store_n(&v->running, true, __ATOMIC_RELEASE);
		if (s->last != v)
			sched_switch_to(s, v);
	}
	spin_unlock(&s->lock);
	return v;
}

/* The earliest TSC at which a vCPU of this CPU has a timer due. */
static uint64_t sched_next_event(struct sched_cpu *s, uint64_t now)
{
	uint64_t next = now + SCHED_IDLE_MAX_NS * time_tsc_khz() / 1000000ull;
	uint32_t i;

	spin_lock(&s->lock);
	for (i = 0; i < s->n; i++) {
		uint64_t t = s->v[i]->dom->ops->next_timer(s->v[i]);

		if (t && t < next)
			next = t;
	}
	spin_unlock(&s->lock);
	return next;
}

/*
 * Describe pool CPU cpu for the monitor: *busy_ns is the time it spent
 * running vCPUs, *domid and *vcpu name the vCPU running now (domid
 * KEEL_CPU_DOMID_NONE when idle) and *nr_vcpus how many are homed there.
 * The answer is a snapshot taken without the CPU's lock; a vCPU being
 * switched may be reported on either side of the switch.
 */
void sched_cpu_stats(uint32_t cpu, uint64_t *busy_ns, uint32_t *domid,
		     uint32_t *vcpu, uint32_t *nr_vcpus)
{
	struct sched_cpu *s = &sched[cpu];
	struct vcpu *v;

	*busy_ns = time_tsc_to_ns(__atomic_load_n(&s->busy_tsc, __ATOMIC_RELAXED));
	*domid = KEEL_CPU_DOMID_NONE;
	*vcpu = 0;
	*nr_vcpus = s->n;
	spin_lock(&s->lock); /* v stays alive while it is on this CPU's list */
	v = __atomic_load_n(&cpus[cpu].current, __ATOMIC_ACQUIRE);
	if (v) {
		*domid = v->dom->id;
		*vcpu = v->id;
	}
	spin_unlock(&s->lock);
}

/* Prepare pool CPU cpu's run queue for its loop; see sched.h. */
void sched_cpu_init(uint32_t cpu)
{
	sched[cpu].last_domid = KEEL_CPU_DOMID_NONE;
	watchdog_track_lock(&sched[cpu].lock, "a pool CPU's run queue");
}

/* The next vCPU pool CPU cpu runs; see sched.h. */
struct vcpu *sched_next(uint32_t cpu, uint64_t now_tsc)
{
	return sched_pick(&sched[cpu], now_tsc);
}

/* When pool CPU cpu must look again if nothing wakes it; see sched.h. */
uint64_t sched_idle_until(uint32_t cpu, uint64_t now_tsc)
{
	return sched_next_event(&sched[cpu], now_tsc);
}

/* Account a slice of v on pool CPU cpu; see sched.h. */
void sched_slice_done(uint32_t cpu, struct vcpu *v, uint64_t busy_tsc)
{
	__atomic_fetch_add(&sched[cpu].busy_tsc, busy_tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&v->running, false, __ATOMIC_RELEASE);
}
