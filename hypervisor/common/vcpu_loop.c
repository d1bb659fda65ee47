/*
 * The one loop that runs a vCPU, for every kind of domain: enter through
 * the kind's hook (interrupts to inject, the timer, what is switched
 * around entries), run until the backend reports an exit, let the kind
 * account for it, and hand it to the generic exit handler. Dom0's vCPUs
 * run here for good on their own CPUs; the scheduler runs guest vCPUs
 * here for one slice at a time. Entries also follow the domain's nested
 * page table: a vCPU whose TLB may hold translations from before the last
 * change that needs a flush (vcpu_loop_sync_npt) flushes as it enters.
 */
#include <keel/vcpu_loop.h>
#include <keel/domain.h>
#include <keel/exit.h>
#include <keel/virt.h>
#include <keel/sched.h>
#include <keel/arch.h>
#include <keel/errno.h>
#include <asm/x86.h>

/* Enter v's guest mode through the backend, flushing its translations
 * first if its domain's nested page table changed since it last did.
 * in_guest is set before the generation is read, so a change made after
 * that read is waited for by vcpu_loop_sync_npt. */
static void vcpu_loop_enter(struct vcpu *v, struct vm_exit *e)
{
	uint64_t gen;

	__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
	gen = __atomic_load_n(&v->dom->npt_gen, __ATOMIC_SEQ_CST);
	if (gen != v->npt_gen_seen) {
		virt->vcpu_flush_npt(v);
		__atomic_store_n(&v->npt_gen_seen, gen, __ATOMIC_RELEASE);
	}
	virt->vcpu_run(v, e);
	__atomic_store_n(&v->in_guest, false, __ATOMIC_RELEASE);
}

/*
 * A mapping of d's nested page table was changed in a way no vCPU may go
 * on using (a chunk moved to other host memory): make every vCPU of d
 * that is in guest mode leave it, and every other flush before it enters
 * again. The caller's own vCPU, if it is one of d's, is not in guest mode.
 * 0, or -EBUSY if a vCPU did not leave guest mode within timeout_ns.
 */
int vcpu_loop_sync_npt(struct domain *d, uint64_t timeout_ns)
{
	uint64_t gen = __atomic_add_fetch(&d->npt_gen, 1, __ATOMIC_SEQ_CST);
	uint64_t deadline = time_now_ns() + timeout_ns;
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		/* Done once it has left, or entered again having flushed to
		 * this generation or a later one (another CPU's sync). */
		while (__atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST) &&
		       (int64_t)(__atomic_load_n(&v->npt_gen_seen, __ATOMIC_ACQUIRE) - gen) < 0) {
			if (time_now_ns() > deadline)
				return -EBUSY;
			sched_kick(v);
			udelay(2);
		}
	}
	return 0;
}

/* Run v on this CPU; see vcpu_loop.h. */
void vcpu_loop_run(struct vcpu *v, uint64_t slice_end_tsc)
{
	const struct domain_ops *ops = v->dom->ops;
	struct vm_exit e;
	uint64_t t0;

	for (;;) {
		t0 = rdtsc();
		if (slice_end_tsc && t0 >= slice_end_tsc)
			return;
		if (!ops->enter(v, t0, slice_end_tsc))
			return;
		vcpu_loop_enter(v, &e);
		ops->exited(v, &e, t0);
		vcpu_handle_exit(v, &e);
	}
}
