/*
 * The guest scheduler's run queues (see sched.h). Per pool CPU: a list of
 * the vCPUs homed there under a lock, a round-robin cursor for ties, the
 * floor of the vCPUs' virtual times, the vCPU whose FPU state and TLB
 * entries the CPU currently holds, and the time spent running vCPUs.
 * Whether a vCPU can run, and when its timer fires, its domain's kind
 * says (domain_ops.ready, next_timer); the scheduler adds the domain's cap.
 * The pool CPU's loop that uses these is common/sched_loop.c.
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
	uint64_t vfloor;   /* virtual time of the vCPUs picked here (sched_pick_fair) */
	struct vcpu *last; /* whose FPU state, DR0-3 and TLB entries this CPU holds */
	uint32_t last_domid; /* the domain of the last vCPU run, KEEL_CPU_DOMID_NONE before */
	uint64_t busy_tsc; /* TSC ticks spent running vCPUs */
	volatile bool idle; /* found nothing to run last time it looked */
	volatile bool flush_lazy; /* give up all vCPUs at the next pick (sched_flush_lazy) */
	uint64_t flush_seq;       /* flush_lazy requests served */
};

static struct sched_cpu sched[MAX_CPUS];

/* The pool CPUs d's vCPUs may be homed on. */
static uint64_t sched_allowed(const struct domain *d)
{
	return d->sched_affinity ? d->sched_affinity & hv.cpu_mask_pool : hv.cpu_mask_pool;
}

/* The pool CPUs v may use: its own pinning, else its domain's affinity. */
static uint64_t sched_vcpu_allowed(const struct vcpu *v)
{
	uint64_t pin = __atomic_load_n(&v->pin_mask, __ATOMIC_RELAXED);

	return pin ? pin & hv.cpu_mask_pool : sched_allowed(v->dom);
}

/* Home v on the least loaded pool CPU it may use. 0, or -ENOSPC if all
 * are full. */
int sched_attach(struct vcpu *v)
{
	uint64_t allowed = sched_vcpu_allowed(v);
	uint32_t i, best = MAX_CPUS;

	for (i = 0; i < nr_cpus; i++) {
		if (!(allowed & (1ull << i)) || !cpus[i].online)
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

/* Lock and return the run queue v is homed on; v may be moved between
 * CPUs (sched_balance, under both queues' locks), so look again once the
 * lock is held. */
static struct sched_cpu *sched_lock_home(struct vcpu *v)
{
	struct sched_cpu *s;

	for (;;) {
		s = &sched[__atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE)->index];
		spin_lock(&s->lock);
		if (&sched[v->cpu->index] == s)
			return s;
		spin_unlock(&s->lock);
	}
}

/* Take v off its CPU and wait until it is not running there. */
void sched_detach(struct vcpu *v)
{
	struct sched_cpu *s = sched_lock_home(v);
	uint32_t i;

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

/* Make v's lazily switched state (FPU, DR0-DR3) be in v itself rather
 * than in its CPU's registers, and its control block in memory; see
 * sched.h. Only that CPU can do it, so it is asked to (flush_lazy, done in
 * sched_pick) and waited for until it has served the request (flush_seq
 * moved), even if it picked v again right after, as it does for a
 * runnable v. A VMCS stays on its CPU after other vCPUs ran there, so the
 * CPU is asked even when it last ran another one. */
int sched_flush_lazy(struct vcpu *v, uint64_t timeout_ns)
{
	uint64_t deadline = time_now_ns() + timeout_ns, seq = 0;
	struct sched_cpu *asked = 0;

	for (;;) {
		struct sched_cpu *s = sched_lock_home(v);
		bool served = asked == s && s->flush_seq != seq;

		if (asked != s) { /* first ask, or v moved to another CPU */
			asked = s;
			seq = s->flush_seq;
			s->flush_lazy = true;
		}
		spin_unlock(&s->lock);
		if (served)
			return 0;
		if (time_now_ns() > deadline)
			return -EBUSY;
		sched_kick(v);
		udelay(50);
	}
}

/* Wait until no vCPU of d runs; see sched.h. */
int sched_wait_stopped(struct domain *d, uint64_t timeout_ns)
{
	uint64_t deadline = time_now_ns() + timeout_ns;
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		while (__atomic_load_n(&v->running, __ATOMIC_ACQUIRE)) {
			if (time_now_ns() > deadline)
				return -EBUSY;
			sched_kick(v);
			udelay(50);
		}
	}
	return 0;
}

/* Make v's CPU look at v again soon (it may have become runnable, paused
 * or dying). */
void sched_kick(struct vcpu *v)
{
	struct cpu *c = __atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE);

	if (c && c != this_cpu())
		arch_kick_cpu(c->apic_id);
}

struct pick_ctx {
	struct sched_cpu *s;
	uint64_t now;
};

static uint64_t cap_period_tsc(void)
{
	return SCHED_CAP_PERIOD_NS * time_tsc_khz() / 1000000ull;
}

/* Ticks d may still run in this cap period (UINT64_MAX without a cap). */
static uint64_t sched_cap_ticks(struct domain *d, uint64_t now)
{
	uint32_t pct = __atomic_load_n(&d->sched_cap_pct, __ATOMIC_RELAXED);
	uint64_t left;

	if (!pct)
		return UINT64_MAX;
	spin_lock(&d->cap_lock);
	left = sched_cap_left(&d->cap, pct, now, cap_period_tsc());
	spin_unlock(&d->cap_lock);
	return left;
}

static bool slot_ready(uint32_t slot, void *ctx)
{
	struct pick_ctx *p = ctx;
	struct vcpu *v = p->s->v[slot];

	return v->dom->ops->ready(v, p->now) && sched_cap_ticks(v->dom, p->now) != 0;
}

static uint64_t *slot_vtime(uint32_t slot, void *ctx)
{
	struct pick_ctx *p = ctx;

	return &p->s->v[slot]->vtime;
}

static const struct sched_pick_ops pick_ops = { slot_ready, slot_vtime };

/* Save the lazily switched state (FPU, DR0-DR3) of the vCPU s's CPU ran
 * last into that vCPU, which then owns it again. s->lock held. */
static void sched_save_last(struct sched_cpu *s)
{
	if (s->last) {
		arch_fpu_save(&s->last->fpu);
		arch_dr_save(s->last->dr);
		s->last = 0;
	}
}

/* Make the CPU hold v's lazily switched state instead of the last vCPU's
 * (whose state is saved, unless it was destroyed): FPU/SSE/AVX, DR0-DR3,
 * a TLB flush, and an IBPB when v belongs to another domain. */
static void sched_switch_to(struct sched_cpu *s, struct vcpu *v)
{
	sched_save_last(s);
	if (s->last_domid != v->dom->id)
		arch_ibpb();
	arch_fpu_restore(&v->fpu);
	arch_dr_restore(v->dr);
	virt->vcpu_flush_npt(v);
	s->last = v;
	s->last_domid = v->dom->id;
}

/* The slot of a vCPU on s, other than the one it runs next (keep), that
 * is ready, not running and allowed on pool CPU target; -1 if none. */
static int sched_movable_slot(struct sched_cpu *s, struct pick_ctx *p, uint32_t target,
			      int keep)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		struct vcpu *v = s->v[i];

		if ((int)i != keep && !v->running && (sched_vcpu_allowed(v) & (1ull << target)) &&
		    slot_ready(i, p))
			return (int)i;
	}
	return -1;
}

/* Move the vCPU in slot i of s (lock held) to idle pool CPU t (lock held):
 * its lazily held state leaves this CPU, its virtual time starts at t's
 * floor, and t is woken. */
static void sched_move(struct sched_cpu *s, uint32_t i, uint32_t t)
{
	struct sched_cpu *d = &sched[t];
	struct vcpu *v = s->v[i];

	if (s->last == v)
		sched_save_last(s);
	virt->vcpu_unload(v);
	s->v[i] = s->v[--s->n];
	v->vtime = d->vfloor;
	d->v[d->n++] = v;
	d->idle = false;
	__atomic_store_n(&v->cpu, &cpus[t], __ATOMIC_RELEASE);
	arch_kick_cpu(cpus[t].apic_id);
}

/*
 * Balance (lock of s held, on its own CPU): when another vCPU than keep,
 * the one s runs next, is ready here and a pool CPU it may use is idle,
 * move it there, one per call. An idle CPU's queue is taken with a
 * trylock, so two CPUs never wait on each other. vCPUs of a backend that
 * cannot move them stay (virt_ops.vcpu_unload NULL).
 */
static void sched_balance(struct sched_cpu *s, struct pick_ctx *p, int keep)
{
	uint32_t t;
	int slot;

	if (!virt->vcpu_unload || keep < 0 || s->n < 2)
		return;
	for (t = 0; t < nr_cpus; t++) {
		struct sched_cpu *d = &sched[t];

		if (d == s || !d->idle || !(hv.cpu_mask_pool & (1ull << t)) || !cpus[t].online)
			continue;
		slot = sched_movable_slot(s, p, t, keep);
		if (slot < 0 || !spin_trylock(&d->lock))
			continue;
		if (d->idle && d->n < SCHED_MAX_VCPUS_PER_CPU)
			sched_move(s, (uint32_t)slot, t);
		spin_unlock(&d->lock);
		return;
	}
}

/*
 * Move one vCPU that may no longer use this CPU (keel vcpu-pin changed its
 * CPUs) to the least loaded one it may use, as balancing moves them (lock
 * of s held, on its own CPU). A target whose lock is busy is tried again
 * at the next pick.
 */
static void sched_evict(struct sched_cpu *s)
{
	uint32_t here = (uint32_t)(s - sched), i, t, best;

	if (!virt->vcpu_unload)
		return;
	for (i = 0; i < s->n; i++) {
		uint64_t allowed = sched_vcpu_allowed(s->v[i]);

		if (s->v[i]->running || (allowed & (1ull << here)))
			continue;
		for (t = 0, best = MAX_CPUS; t < nr_cpus; t++)
			if ((allowed & (1ull << t)) && cpus[t].online &&
			    (best == MAX_CPUS || sched[t].n < sched[best].n))
				best = t;
		if (best == MAX_CPUS || !spin_trylock(&sched[best].lock))
			continue;
		if (sched[best].n < SCHED_MAX_VCPUS_PER_CPU)
			sched_move(s, i, best);
		spin_unlock(&sched[best].lock);
		return;
	}
}

/* Serve a sched_flush_lazy request on s's own CPU, which runs none of
 * its vCPUs now: save the lazy state of the one it ran last and unload
 * every vCPU's control block (none is in guest mode). s->lock held. */
static void sched_give_up_all(struct sched_cpu *s)
{
	uint32_t i;

	s->flush_lazy = false;
	s->flush_seq++;
	sched_save_last(s);
	for (i = 0; virt->vcpu_unload && i < s->n; i++)
		virt->vcpu_unload(s->v[i]);
}

/* Choose the next vCPU and mark it running, switching lazy state (see
 * sched_switch_to) if it is not the one the CPU last ran; then offer
 * another ready vCPU to an idle CPU (sched_balance). */
static struct vcpu *sched_pick(struct sched_cpu *s, uint64_t now)
{
	struct pick_ctx p = { s, now };
	struct vcpu *v = 0;
	int slot;

	spin_lock(&s->lock);
	if (s->flush_lazy)             /* asked by sched_flush_lazy */
		sched_give_up_all(s);
	sched_evict(s);
	slot = sched_pick_fair(s->n, &s->rr, &pick_ops, &p, &s->vfloor,
			       SCHED_SLICE_NS * time_tsc_khz() / 1000000ull);
	if (slot >= 0) {
		v = s->v[slot];
		__atomic_store_n(&v->running, true, __ATOMIC_RELEASE);
		if (s->last != v)
			sched_switch_to(s, v);
	}
	s->idle = slot < 0;
	sched_balance(s, &p, slot);
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
		struct vcpu *v = s->v[i];
		uint64_t t = v->dom->ops->next_timer(v);

		/* ready but out of its cap: when the next period begins */
		if (sched_cap_ticks(v->dom, now) == 0 && v->dom->ops->ready(v, now))
			t = (now / cap_period_tsc() + 1) * cap_period_tsc();
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
void sched_slice_done(uint32_t cpu, struct vcpu *v, uint64_t start_tsc, uint64_t end_tsc)
{
	uint64_t busy_tsc = end_tsc - start_tsc;
	struct domain *d = v->dom;
	uint32_t pct = __atomic_load_n(&d->sched_cap_pct, __ATOMIC_RELAXED);

	__atomic_fetch_add(&sched[cpu].busy_tsc, busy_tsc, __ATOMIC_RELAXED);
	v->vtime += sched_vtime_charge(busy_tsc, __atomic_load_n(&d->sched_weight,
								 __ATOMIC_RELAXED));
	if (pct) {
		spin_lock(&d->cap_lock);
		sched_cap_charge(&d->cap, pct, end_tsc, cap_period_tsc(), busy_tsc);
		spin_unlock(&d->cap_lock);
	}
	__atomic_store_n(&v->running, false, __ATOMIC_RELEASE);
}

/* When v's slice from now ends; see sched.h. */
uint64_t sched_slice_end(struct vcpu *v, uint64_t now_tsc, uint64_t slice_tsc)
{
	uint64_t left = sched_cap_ticks(v->dom, now_tsc);
	uint64_t min = SCHED_SLICE_MIN_NS * time_tsc_khz() / 1000000ull;

	if (left < min)
		left = min;
	return now_tsc + (left < slice_tsc ? left : slice_tsc);
}

/* Pin v to the pool CPUs in mask; see sched.h. */
int sched_vcpu_pin(struct vcpu *v, uint64_t mask)
{
	struct domain *d = v->dom;

	if (!(mask & hv.cpu_mask_pool))
		return -EINVAL;
	if (d->state != DOM_BUILDING && !virt->vcpu_unload && v->cpu &&
	    !(mask & (1ull << v->cpu->index)))
		return -EOPNOTSUPP; /* this backend cannot move a started vCPU */
	__atomic_store_n(&v->pin_mask, mask & hv.cpu_mask_pool, __ATOMIC_RELAXED);
	if (v->cpu)
		sched_kick(v); /* its CPU moves it at its next pick */
	return 0;
}

/* The pool CPUs v may use; see sched.h. */
uint64_t sched_vcpu_cpus(const struct vcpu *v)
{
	return sched_vcpu_allowed(v);
}

/* Set a domain's weight, cap and affinity; see sched.h. */
int sched_domain_set(struct domain *d, uint32_t weight, uint32_t cap_pct,
		     uint64_t affinity)
{
	if (weight < 1 || weight > SCHED_WEIGHT_MAX || cap_pct > SCHED_CAP_MAX_PCT)
		return -EINVAL;
	if (affinity && !(affinity & hv.cpu_mask_pool))
		return -EINVAL;
	if (affinity != d->sched_affinity) {
		if (d->state != DOM_BUILDING)
			return -EBUSY;
		d->sched_affinity = affinity;
	}
	__atomic_store_n(&d->sched_weight, weight, __ATOMIC_RELAXED);
	__atomic_store_n(&d->sched_cap_pct, cap_pct, __ATOMIC_RELAXED);
	return 0;
}
