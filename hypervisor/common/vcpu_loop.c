/*
 * The one loop that runs a vCPU, for every kind of domain: enter through
 * the kind's hook (interrupts to inject, the timer, what is switched
 * around entries), run until the backend reports an exit, let the kind
 * account for it, and hand it to the generic exit handler. Dom0's vCPUs
 * run here for good on their own CPUs; the scheduler runs guest vCPUs
 * here for one slice at a time.
 */
#include <keel/vcpu_loop.h>
#include <keel/domain.h>
#include <keel/exit.h>
#include <keel/virt.h>
#include <asm/x86.h>

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
		virt->vcpu_run(v, &e);
		ops->exited(v, &e, t0);
		vcpu_handle_exit(v, &e);
	}
}
