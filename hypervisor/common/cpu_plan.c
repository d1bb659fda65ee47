/*
 * The boot-time CPU layout (see cpu_plan.h): dom0 from CPU 0, or from
 * CPU 1 when CPU 0 is kept out of guest mode, on dom0_cpus CPUs in a row
 * (by default 2 when 4 or more CPUs are there for dom0 and guests, else
 * 1), always leaving one CPU for guests when there are two or more; the
 * guest pool on the CPUs after dom0's, up to max_guest_cpus. No hardware
 * access.
 */
#include <keel/cpu_plan.h>
#include <keel/cmdline.h>

#define CPU_PLAN_MIN_FOR_AUTO_IDLE 3u /* CPU 0 idle, dom0, one guest CPU */
#define CPU_PLAN_MIN_FOR_DOM0_PAIR 4u /* usable CPUs from which dom0 gets 2 */

/* How many CPUs dom0 gets out of usable ones (dom0's and the guests'). */
static uint32_t plan_dom0_cpus(uint32_t asked, uint32_t usable, bool *capped)
{
	uint32_t n = asked ? asked : (usable >= CPU_PLAN_MIN_FOR_DOM0_PAIR ? 2u : 1u);
	uint32_t limit = usable >= 2 ? usable - 1 : 1; /* one CPU stays for guests */

	if (limit > CPU_PLAN_MAX_DOM0_CPUS)
		limit = CPU_PLAN_MAX_DOM0_CPUS;
	*capped = n > limit;
	return n > limit ? limit : n;
}

/* Whether CPU 0 should stay idle, and the note that says why (or why not). */
static bool plan_bsp_idle(const struct cpu_plan_input *in, enum cpu_plan_note *note)
{
	if (in->bsp == HV_BSP_IDLE) {
		if (in->nr_cpus >= 2)
			return true;
		*note = CPU_PLAN_NOTE_IDLE_ONE_CPU;
		return false;
	}
	if (in->bsp != HV_BSP_AUTO || !in->qemu_tcg || in->nr_cpus < 2)
		return false;
	if (in->nr_cpus < CPU_PLAN_MIN_FOR_AUTO_IDLE) {
		*note = CPU_PLAN_NOTE_TCG_TOO_FEW;
		return false;
	}
	*note = CPU_PLAN_NOTE_TCG_IDLE;
	return true;
}

/*
 * Share out the CPUs. in: how many CPUs there are, the limit on guest
 * CPUs, the bsp= option and whether this is QEMU TCG. out: the layout,
 * filled completely. No return value: every input has a layout.
 */
void cpu_plan_make(const struct cpu_plan_input *in, struct cpu_plan *out)
{
	uint32_t n = in->nr_cpus > CPU_PLAN_MAX_CPUS ? CPU_PLAN_MAX_CPUS : in->nr_cpus;
	uint32_t limit = in->max_guest_cpus ? in->max_guest_cpus : CPU_PLAN_MAX_CPUS;
	uint32_t i;

	out->note = CPU_PLAN_NOTE_NONE;
	out->bsp_idle = plan_bsp_idle(in, &out->note);
	out->dom0_cpu = out->bsp_idle ? 1u : 0u;
	out->cpus_dom0 = plan_dom0_cpus(in->dom0_cpus, n > out->dom0_cpu ? n - out->dom0_cpu : 1,
					&out->dom0_capped);
	out->mask_dom0 = 0;
	for (i = out->dom0_cpu; i < out->dom0_cpu + out->cpus_dom0; i++)
		out->mask_dom0 |= 1ull << i;
	out->mask_pool = 0;
	out->cpus_pool = 0;
	for (i = out->dom0_cpu + out->cpus_dom0; i < n && out->cpus_pool < limit; i++) {
		out->mask_pool |= 1ull << i;
		out->cpus_pool++;
	}
}
