/*
 * The loop every pool CPU runs for good: beat the watchdog, take the next
 * vCPU that can run from the CPU's run queue (common/sched.c), run it
 * through the one vCPU loop (common/vcpu_loop.c) for a slice, or, if none
 * can run, arm the CPU's timer for the earliest guest timer and sleep
 * until that or a kick.
 */
#include <keel/sched_loop.h>
#include <keel/sched.h>
#include <keel/vcpu_loop.h>
#include <keel/cpu.h>
#include <keel/arch.h>
#include <keel/watchdog.h>
#include <asm/x86.h>

/* The main loop of a pool CPU; see sched_loop.h. */
void sched_run_cpu(void)
{
	uint32_t cpu = this_cpu()->index;
	uint64_t slice_tsc = SCHED_SLICE_NS * time_tsc_khz() / 1000000ull;

	arch_fpu_init_cpu();
	sched_cpu_init(cpu);
	watchdog_arm();
	for (;;) {
		uint64_t now;
		struct vcpu *v;

		watchdog_beat();
		watchdog_check();
		now = rdtsc();
		v = sched_next(cpu, now);
		if (!v) {
			arch_timer_arm(sched_idle_until(cpu, now));
			arch_idle_wait();
			continue;
		}
		/* current: what the monitor and the watchdog see running */
		__atomic_store_n(&this_cpu()->current, v, __ATOMIC_RELEASE);
		vcpu_loop_run(v, sched_slice_end(v, now, slice_tsc));
		__atomic_store_n(&this_cpu()->current, (struct vcpu *)0, __ATOMIC_RELEASE);
		sched_slice_done(cpu, v, now, rdtsc());
	}
}
