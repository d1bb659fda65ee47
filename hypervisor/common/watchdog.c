/*
 * The hypervisor's watchdog (see watchdog.h), in the spirit of Xen's
 * watchdog and its debug keys: a CPU that stops making progress, whether
 * stuck in the hypervisor (a lock that is never released, a loop) or
 * running a dom0 whose kernel stopped taking interrupts, makes another CPU
 * log where every CPU is. Nothing is changed or killed: the report is for
 * whoever reads the serial log afterwards. Each CPU's beat is a TSC value
 * written only by that CPU; the checks read them without locks.
 */
#include <keel/watchdog.h>
#include <keel/cpu.h>
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/arch.h>
#include <keel/log.h>
#include <asm/x86.h>

#define WATCHDOG_NMI_WAIT_US 200000u /* how long a CPU may take to answer */
#define WATCHDOG_BACKTRACE_FRAMES 8u

struct tracked_lock {
	struct spinlock *l;
	const char *name;
};

static struct tracked_lock tracked[WATCHDOG_MAX_LOCKS];
static struct spinlock tracked_lock;
static volatile uint64_t last_check_tsc;

static uint64_t ticks_of_ms(uint64_t ms)
{
	return ms * time_tsc_khz();
}

/* Start watching the calling CPU; see watchdog.h. */
void watchdog_arm(void)
{
	struct cpu *c = this_cpu();

	c->beat_tsc = rdtsc();
	__atomic_store_n(&c->watched, true, __ATOMIC_RELEASE);
}

/* Record progress of the calling CPU; see watchdog.h. */
void watchdog_beat(void)
{
	struct cpu *c = this_cpu();
	uint64_t now = rdtsc();

	if (c->stall_reported) {
		c->stall_reported = false;
		log_warn("watchdog: CPU %u makes progress again after %llu s\n", c->index,
			 (unsigned long long)((now - c->beat_tsc) / ticks_of_ms(1000)));
	}
	c->beat_tsc = now;
}

/* Let the report name lock l; see watchdog.h. */
void watchdog_track_lock(struct spinlock *l, const char *name)
{
	uint32_t i;

	spin_lock(&tracked_lock);
	for (i = 0; i < WATCHDOG_MAX_LOCKS; i++) {
		if (!tracked[i].l) {
			tracked[i].name = name;
			tracked[i].l = l;
			break;
		}
	}
	spin_unlock(&tracked_lock);
}

/* Stop naming lock l; see watchdog.h. */
void watchdog_untrack_lock(struct spinlock *l)
{
	uint32_t i;

	spin_lock(&tracked_lock);
	for (i = 0; i < WATCHDOG_MAX_LOCKS; i++)
		if (tracked[i].l == l)
			tracked[i].l = 0;
	spin_unlock(&tracked_lock);
}

/* The index of the CPU whose stack holds sp, or -1. */
static int32_t cpu_of_stack(uint64_t sp)
{
	uint32_t i;

	for (i = 0; i < nr_cpus; i++)
		if (cpus[i].stack_base && sp - cpus[i].stack_base < STACK_SIZE_BYTES)
			return (int32_t)i;
	return -1;
}

static void report_locks(void)
{
	uint32_t i, held = 0;

	/* No tracked_lock here: the CPU that holds it may be the stuck one.
	 * A lock untracked meanwhile is reported once more at worst. */
	for (i = 0; i < WATCHDOG_MAX_LOCKS; i++) {
		struct spinlock *l = tracked[i].l;
		uint64_t sp;

		if (!l || !l->locked)
			continue;
		sp = l->holder_sp;
		log_err("watchdog:   lock %s is held by CPU %d (taken at %#llx)\n",
			tracked[i].name, cpu_of_stack(sp), (unsigned long long)l->holder_pc);
		held++;
	}
	if (!held)
		log_err("watchdog:   no tracked lock is held\n");
}

static void report_cpu(const struct cpu *c, uint64_t now)
{
	const struct vcpu *v = c->current;
	uint64_t beat = c->beat_tsc; /* another CPU's TSC may run a bit ahead */
	uint64_t age_ms = now > beat ? (now - beat) / ticks_of_ms(1) : 0;

	if (!c->online) {
		log_err("watchdog:   CPU %u: offline\n", c->index);
		return;
	}
	if (v)
		log_err("watchdog:   CPU %u (%s): runs domain %u (%s) vCPU %u, %llu exits; "
			"last beat %llu ms ago%s\n", c->index,
			cpu_role_name(c->role), v->dom->id, v->dom->name,
			v->id, (unsigned long long)v->exits, (unsigned long long)age_ms,
			c->watched ? "" : " (not watched)");
	else
		log_err("watchdog:   CPU %u (%s): in the scheduler or idle; last beat %llu ms "
			"ago%s\n", c->index, cpu_role_name(c->role),
			(unsigned long long)age_ms, c->watched ? "" : " (not watched)");
}

/* Ask CPU c for its state by NMI and wait for the answer. */
static void request_nmi_dump(struct cpu *c)
{
	uint32_t waited;

	__atomic_store_n(&c->dump_request, 1u, __ATOMIC_RELEASE);
	arch_send_nmi(c->apic_id);
	for (waited = 0; waited < WATCHDOG_NMI_WAIT_US; waited += 100) {
		if (!__atomic_load_n(&c->dump_request, __ATOMIC_ACQUIRE))
			return;
		udelay(100);
	}
	__atomic_store_n(&c->dump_request, 0u, __ATOMIC_RELEASE);
	log_err("watchdog:   CPU %u did not answer the NMI within %u ms\n", c->index,
		WATCHDOG_NMI_WAIT_US / 1000);
}

static void report_stall(struct cpu *stuck, uint64_t now)
{
	struct cpu *self = this_cpu();
	uint32_t i;

	log_err("watchdog: CPU %u has made no progress for %llu s (%s); "
		"the state of every CPU follows\n", stuck->index,
		(unsigned long long)((now - stuck->beat_tsc) / ticks_of_ms(1000)),
		stuck->role == CPU_ROLE_DOM0 ?
		"dom0 neither exited nor sent its heartbeat" :
		"its scheduler loop did not run");
	log_err("watchdog: (addresses: addr2line -f -e build/hypervisor/keel.elf ADDR)\n");
	for (i = 0; i < nr_cpus; i++)
		report_cpu(&cpus[i], now);
	report_locks();
	for (i = 0; i < nr_cpus; i++)
		if (cpus[i].online && &cpus[i] != self)
			request_nmi_dump(&cpus[i]);
	log_err("watchdog: end of the report (seen from CPU %u)\n", self->index);
}

/* Look at the other CPUs about once a second; see watchdog.h. */
void watchdog_check(void)
{
	uint64_t now = rdtsc(), last = last_check_tsc;
	uint64_t stall = ticks_of_ms(WATCHDOG_STALL_S * 1000ull);
	uint32_t i;

	if (now - last < ticks_of_ms(WATCHDOG_CHECK_MS) ||
	    !__atomic_compare_exchange_n(&last_check_tsc, &last, now, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	for (i = 0; i < nr_cpus; i++) {
		struct cpu *c = &cpus[i];
		uint64_t beat = c->beat_tsc;

		if (!c->online || !c->watched || c->stall_reported || c == this_cpu() ||
		    now <= beat || now - beat < stall)
			continue;
		c->stall_reported = true;
		report_stall(c, now);
	}
}

/* Log up to WATCHDOG_BACKTRACE_FRAMES return addresses along the frame
 * pointer chain that starts at rbp, as long as it stays on c's stack. */
static void backtrace(const struct cpu *c, uint64_t rbp)
{
	uint32_t n;

	for (n = 0; n < WATCHDOG_BACKTRACE_FRAMES; n++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;

		if (rbp - c->stack_base >= STACK_SIZE_BYTES - 16 || (rbp & 7))
			return;
		log_err("watchdog:   called from %#llx\n", (unsigned long long)frame[1]);
		if (frame[0] <= rbp)
			return;
		rbp = frame[0];
	}
}

/* The watchdog's NMI: log this CPU's state; see watchdog.h. */
bool watchdog_nmi(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	struct cpu *c = this_cpu();

	if (!c || !__atomic_load_n(&c->dump_request, __ATOMIC_ACQUIRE))
		return false;
	log_err("watchdog: CPU %u: hypervisor RIP %#llx RSP %#llx\n", c->index,
		(unsigned long long)rip, (unsigned long long)rsp);
	backtrace(c, rbp);
	arch_dump_local_irqs();
	if (c->current) {
		log_err("watchdog: CPU %u: domain %u (%s) vCPU %u as of its last exit:\n",
			c->index, c->current->dom->id, c->current->dom->name, c->current->id);
		virt->vcpu_dump(c->current);
	}
	__atomic_store_n(&c->dump_request, 0u, __ATOMIC_RELEASE);
	return true;
}
