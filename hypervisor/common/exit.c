/*
 * The generic exit handler: common code's half of every VM exit. Vendor
 * backends fill one struct vm_exit; vcpu_handle_exit() switches on its
 * reason and calls one small handler each, or the handler of the domain's
 * kind (struct domain_ops) where dom0 and guests differ. Anything a domain does that the
 * hypervisor cannot handle ends that domain (domain_crash), never the
 * hypervisor.
 */
#include <keel/exit.h>
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/hypercall.h>
#include <keel/cpuid_policy.h>
#include <keel/log.h>
#include <keel/exit_profile.h>
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
	struct cpuid_regs r;
	struct cpuid_out o;

	cpuid_count(leaf, sub, &r);
	o.eax = r.eax;
	o.ebx = r.ebx;
	o.ecx = r.ecx;
	o.edx = r.edx;
	v->dom->ops->cpuid(v, leaf, sub, &o);
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

/* An exit that v's kind of domain does not expect: its profile does not
 * intercept it, or no handler knows it. */
static void exit_unexpected(struct vcpu *v, const struct vm_exit *e)
{
	log_err("domain %u: unexpected %s exit (code %#llx)\n", v->dom->id,
		reason_names[e->reason], (unsigned long long)e->raw_code);
	domain_crash(v, "unexpected exit");
}

/* Call the domain kind's handler h for e, or end the domain if the kind
 * has none. */
static void exit_by_kind(struct vcpu *v, const struct vm_exit *e,
			 void (*h)(struct vcpu *, const struct vm_exit *))
{
	if (h)
		h(v, e);
	else
		exit_unexpected(v, e);
}

/* Switch on e's reason and call its handler. */
static void exit_dispatch(struct vcpu *v, const struct vm_exit *e)
{
	const struct domain_ops *ops = v->dom->ops;

	switch (e->reason) {
	case VM_EXIT_NONE:
		break;
	case VM_EXIT_CPUID:
		exit_cpuid(v, e);
		break;
	case VM_EXIT_MSR_READ:
	case VM_EXIT_MSR_WRITE:
		exit_by_kind(v, e, ops->msr);
		break;
	case VM_EXIT_HYPERCALL:
		exit_hypercall(v, e);
		break;
	case VM_EXIT_NPF:
		if (ops->npf(v, e))
			domain_crash(v, "nested page fault it may not take");
		break;
	case VM_EXIT_IO:
		exit_by_kind(v, e, ops->io);
		break;
	case VM_EXIT_HLT:
		exit_by_kind(v, e, ops->hlt);
		break;
	case VM_EXIT_INTR:      /* taken by the kind's exited hook */
	case VM_EXIT_NMI:       /* the host NMI handler saw it */
	case VM_EXIT_IRQ_WINDOW: /* the next entry injects */
		break;
	case VM_EXIT_CACHE_FLUSH:
		exit_by_kind(v, e, ops->cache_flush);
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
		exit_unexpected(v, e);
		break;
	}
}

/* The exit profile's kind of each generic exit (KEEL_EXIT_*). */
static const uint8_t profile_kinds[] = {
	[VM_EXIT_NONE] = KEEL_EXIT_OTHER, [VM_EXIT_CPUID] = KEEL_EXIT_CPUID,
	[VM_EXIT_MSR_READ] = KEEL_EXIT_MSR_READ, [VM_EXIT_MSR_WRITE] = KEEL_EXIT_MSR_WRITE,
	[VM_EXIT_HYPERCALL] = KEEL_EXIT_HYPERCALL, [VM_EXIT_NPF] = KEEL_EXIT_NPF,
	[VM_EXIT_IO] = KEEL_EXIT_IO_OUT, [VM_EXIT_HLT] = KEEL_EXIT_HLT,
	[VM_EXIT_INTR] = KEEL_EXIT_INTR, [VM_EXIT_IRQ_WINDOW] = KEEL_EXIT_IRQ_WINDOW,
	[VM_EXIT_NMI] = KEEL_EXIT_NMI, [VM_EXIT_SHUTDOWN] = KEEL_EXIT_OTHER,
	[VM_EXIT_INVALID] = KEEL_EXIT_OTHER, [VM_EXIT_CACHE_FLUSH] = KEEL_EXIT_CACHE_FLUSH,
	[VM_EXIT_MONITOR] = KEEL_EXIT_OTHER, [VM_EXIT_RDPMC] = KEEL_EXIT_OTHER,
	[VM_EXIT_UNKNOWN] = KEEL_EXIT_OTHER,
};

/* e's kind in the exit profile, and its detail in *detail (the port, MSR,
 * GPA page, call number, or the backend's code). Before handling: a
 * hypercall's number is in RAX until then. */
static uint32_t profile_kind(const struct vcpu *v, const struct vm_exit *e, uint32_t *detail)
{
	uint32_t kind = e->reason < ARRAY_SIZE(profile_kinds) ? profile_kinds[e->reason] :
			KEEL_EXIT_OTHER;

	switch (kind) {
	case KEEL_EXIT_MSR_READ:
	case KEEL_EXIT_MSR_WRITE:
		*detail = e->msr;
		break;
	case KEEL_EXIT_HYPERCALL:
		*detail = (uint32_t)v->regs.rax;
		break;
	case KEEL_EXIT_IO_OUT:
		*detail = e->port;
		kind = e->io_in ? KEEL_EXIT_IO_IN : KEEL_EXIT_IO_OUT;
		break;
	case KEEL_EXIT_NPF:
		*detail = (uint32_t)(e->gpa >> 12);
		break;
	case KEEL_EXIT_OTHER:
		*detail = (uint32_t)e->raw_code;
		break;
	default:
		*detail = 0;
		break;
	}
	return kind;
}

/* Count an exit the backend handled; see exit.h. */
void vcpu_count_backend_exit(struct vcpu *v, uint32_t kind, uint32_t detail)
{
	exit_profile_add(&v->dom->exit_prof, kind, detail, rdtsc() - v->exit_tsc);
}

/* Handle exit e of vCPU v; see exit.h. */
void vcpu_handle_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t detail, kind = profile_kind(v, e, &detail);

	exit_dispatch(v, e);
	vcpu_count_backend_exit(v, kind, detail);
}
