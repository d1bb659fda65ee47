/*
 * The generic exit handler: common code's half of every VM exit. Vendor
 * backends fill one struct vm_exit; vcpu_handle_exit() switches on its
 * reason and calls one small handler each. Anything a domain does that the
 * hypervisor cannot handle ends that domain (domain_crash), never the
 * hypervisor.
 */
#include <keel/exit.h>
#include <keel/domain.h>
#include <keel/dom0.h>
#include <keel/virt.h>
#include <keel/hv.h>
#include <keel/hypercall.h>
#include <keel/cpuid_policy.h>
#include <keel/log.h>
#include <keel/guest.h>
#include <keel/arch.h>
#include <asm/x86.h>

#define VECTOR_UD 6
#define VECTOR_GP 13

static const char *const reason_names[] = {
	[VM_EXIT_NONE] = "none", [VM_EXIT_CPUID] = "cpuid",
	[VM_EXIT_MSR_READ] = "rdmsr", [VM_EXIT_MSR_WRITE] = "wrmsr",
	[VM_EXIT_HYPERCALL] = "hypercall", [VM_EXIT_NPF] = "nested page fault",
	[VM_EXIT_IO] = "port I/O", [VM_EXIT_HLT] = "hlt",
	[VM_EXIT_INTR] = "interrupt", [VM_EXIT_IRQ_WINDOW] = "interrupt window",
	[VM_EXIT_NMI] = "NMI", [VM_EXIT_SHUTDOWN] = "triple fault",
	[VM_EXIT_INVALID] = "invalid guest state",
	[VM_EXIT_CACHE_FLUSH] = "cache flush", [VM_EXIT_MONITOR] = "monitor/mwait",
	[VM_EXIT_RDPMC] = "rdpmc", [VM_EXIT_UNKNOWN] = "unknown",
};

static void exit_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct vcpu_paging_state ps;
	struct cpuid_regs r;
	struct cpuid_out o;

	cpuid_count(leaf, sub, &r);
	o.eax = r.eax;
	o.ebx = r.ebx;
	o.ecx = r.ecx;
	o.edx = r.edx;
	if (v->dom->is_dom0) {
		cpuid_policy_dom0(leaf, sub, KEEL_VERSION, &o);
	} else {
		virt->vcpu_paging_state(v, &ps);
		cpuid_policy_guest(leaf, sub, v->id, ps.cr4, KEEL_VERSION, &o);
	}
	v->regs.rax = o.eax;
	v->regs.rbx = o.ebx;
	v->regs.rcx = o.ecx;
	v->regs.rdx = o.edx;
	v->regs.rip += e->insn_len;
}

static void exit_hypercall(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rax = (uint64_t)hypercall_dispatch(v);
	v->regs.rip += e->insn_len;
}

/* Dom0's INVD is done as WBINVD: dom0 drives real devices, so its caches
 * may matter, but never by discarding other domains' writes. */
static void exit_dom0_invd(struct vcpu *v, const struct vm_exit *e)
{
	arch_wbinvd();
	v->regs.rip += e->insn_len;
}

/* Handle exit e of vCPU v; see exit.h. */
void vcpu_handle_exit(struct vcpu *v, const struct vm_exit *e)
{
	if (e->reason <= VM_EXIT_UNKNOWN)
		v->exits_by_reason[e->reason]++;
	switch (e->reason) {
	case VM_EXIT_NONE:
		break;
	case VM_EXIT_CPUID:
		exit_cpuid(v, e);
		break;
	case VM_EXIT_MSR_READ:
	case VM_EXIT_MSR_WRITE:
		if (v->dom->is_dom0)
			dom0_msr(v, e);
		else
			guest_msr(v, e);
		break;
	case VM_EXIT_HYPERCALL:
		exit_hypercall(v, e);
		break;
	case VM_EXIT_NPF:
		if (domain_handle_npf(v, e))
			domain_crash(v, "nested page fault it may not take");
		break;
	case VM_EXIT_IO:
		if (v->dom->is_dom0)
			goto unexpected;
		guest_io(v, e);
		break;
	case VM_EXIT_HLT:
		if (v->dom->is_dom0)
			goto unexpected;
		guest_hlt(v, e);
		break;
	case VM_EXIT_INTR:      /* taken by the caller's interrupt window */
	case VM_EXIT_NMI:       /* the host NMI handler saw it */
	case VM_EXIT_IRQ_WINDOW: /* the next entry injects */
		break;
	case VM_EXIT_CACHE_FLUSH:
		if (v->dom->is_dom0)
			exit_dom0_invd(v, e);
		else
			guest_cache_flush(v, e);
		break;
	case VM_EXIT_MONITOR: /* guests: CPUID has no MONITOR, so as without it */
		virt->vcpu_inject_exception(v, VECTOR_UD, false, 0);
		break;
	case VM_EXIT_RDPMC:   /* guests: no performance counters (CPUID leaf 0xA) */
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		break;
	case VM_EXIT_SHUTDOWN:
		domain_crash(v, "triple fault");
		break;
	case VM_EXIT_INVALID:
		domain_crash(v, "the CPU refused its state");
		break;
	default:
unexpected:
		log_err("domain %u: unexpected %s exit (code %#llx)\n", v->dom->id,
			reason_names[e->reason], (unsigned long long)e->raw_code);
		domain_crash(v, "unexpected exit");
		break;
	}
}
