/*
 * VM exits of the VMX backend (Intel SDM vol. 3C, chapter 28 "VM Exits";
 * reasons in vol. 3D, appendix C): each exit becomes the generic struct
 * vm_exit that common code handles (exit.c), with the instruction length
 * from the VM-exit instruction-length field (28.2.5), or is settled here
 * when it is VMX's own business: control-register writes to the bits the
 * backend owns (CR0.PE/PG/NE, CR4.VMXE, an isolated guest's CR8), XSETBV,
 * which always exits on VT-x, host NMIs, the NMI window, and the VMX
 * instructions, which raise #UD in every guest.
 */
#include <keel/arch.h>
#include <keel/virt.h>
#include <keel/log.h>
#include <keel/msr_policy.h>
#include <keel/string.h>
#include <asm/x86.h>
#include "vmcs.h"
#include "vmx_caps.h"
#include "vmx_priv.h"
#include "vmx_state.h"

#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_NMI 2
#define CR0_CD (1ull << 30)
#define CR0_NW (1ull << 29)
#define CR4_VMXE (1ull << 13)
#define CR8_TPR_MASK 0xFull

/* Offsets in struct guest_regs of the general-purpose registers in the
 * order VMX numbers them (table 28-3): RAX, RCX, RDX, RBX, RSP, RBP, RSI,
 * RDI, R8-R15. */
static uint64_t *gpr(struct vcpu *v, uint32_t n)
{
	static const uint8_t slot[16] = { 0, 2, 3, 1, 16, 6, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14 };
	uint64_t *regs = (uint64_t *)&v->regs;

	_Static_assert(sizeof(struct guest_regs) == 18 * sizeof(uint64_t),
		       "struct guest_regs: 15 GPRs, then RIP, RSP, RFLAGS");
	return &regs[slot[n & 15]];
}

static void skip_insn(struct vcpu *v, struct vmx_vcpu *s)
{
	v->regs.rip += s->exit_insn_len;
}

/* The guest writes val to CR0 (a bit it sees differs from what the
 * backend owns): the checks of MOV to CR0 (SDM vol. 2B, "MOV-Move to/from
 * Control Registers"), long mode turned on or off with paging (vol. 3A,
 * 10.8.5), and the value loaded with NE forced (A.7). False if v cannot
 * go on (32-bit PAE paging, which would need the PDPTEs loaded). */
static bool cr0_write(struct vcpu *v, struct vmx_vcpu *s, uint64_t val)
{
	uint64_t old = vmcs_read(CR0_READ_SHADOW), efer = vmcs_read(GUEST_IA32_EFER);
	uint64_t cr4 = vmcs_read(GUEST_CR4);
	uint32_t entry = (uint32_t)vmcs_read(VM_ENTRY_CONTROLS);

	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)) ||
	    ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE))) {
		vmx_queue_exception(v, VECTOR_GP, true, 0);
		return true;
	}
	if ((val & CR0_PG) && !(old & CR0_PG)) {
		if (!(efer & EFER_LME) && (cr4 & CR4_PAE)) {
			log_err("vCPU %u: 32-bit PAE paging is not supported on VT-x\n", v->id);
			return false;
		}
		if (efer & EFER_LME)
			efer |= EFER_LMA, entry |= ENTRY_IA32E_MODE_GUEST;
	} else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		efer &= ~EFER_LMA;
		entry &= ~ENTRY_IA32E_MODE_GUEST;
	}
	vmcs_write(GUEST_IA32_EFER, efer);
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vmcs_write(CR0_READ_SHADOW, val);
	vmcs_write(GUEST_CR0, vmx_guest_cr0(val));
	s->cr0 = vmx_guest_cr0(val);
	s->efer = efer;
	return true;
}

/* A control-register access that exits (28.2.1, table 28-3). False if
 * v cannot go on. */
static bool cr_access(struct vcpu *v, struct vmx_vcpu *s)
{
	uint64_t q = s->exit_qual, *r = gpr(v, CR_QUAL_GPR(q)), old;
	uint32_t cr = CR_QUAL_CR(q);

	switch (CR_QUAL_TYPE(q)) {
	case CR_TYPE_MOV_TO:
		if (cr == 0)
			return cr0_write(v, s, *r) ? (skip_insn(v, s), true) : false;
		if (cr == 4) { /* only VMXE exits: VT-x is not offered */
			vmx_queue_exception(v, VECTOR_GP, true, 0);
			return true;
		}
		if (cr == 8 && !(*r & ~CR8_TPR_MASK)) {
			s->cr8 = *r;
			skip_insn(v, s);
			return true;
		}
		vmx_queue_exception(v, VECTOR_GP, true, 0);
		return true;
	case CR_TYPE_MOV_FROM:
		*r = s->cr8; /* only CR8 reads exit */
		skip_insn(v, s);
		return true;
	case CR_TYPE_LMSW: /* sets PE, MP, EM, TS; never clears PE */
		old = vmcs_read(CR0_READ_SHADOW);
		return cr0_write(v, s, (old & ~0xEull) | (CR_QUAL_LMSW_DATA(q) & 0xFull)) ?
		       (skip_insn(v, s), true) : false;
	default:
		skip_insn(v, s); /* CLTS: TS is the guest's, so it never exits */
		return true;
	}
}

/* XSETBV always exits (25.1.2): load the guest's value if the CPU takes
 * it, else #GP (vol. 2C, XSETBV). */
static void xsetbv(struct vcpu *v, struct vmx_vcpu *s)
{
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	struct cpuid_regs r;

	cpuid_count(0xD, 0, &r);
	if ((uint32_t)v->regs.rcx != 0 || VMX_AR_DPL(s->ss_ar) != 0 ||
	    !msr_policy_xcr0_valid(val, ((uint64_t)r.edx << 32) | r.eax)) {
		vmx_queue_exception(v, VECTOR_GP, true, 0);
		return;
	}
	__asm__ volatile("xsetbv" : : "a"((uint32_t)val), "d"((uint32_t)(val >> 32)), "c"(0));
	skip_insn(v, s);
}

/* An exception or NMI exit (28.2.2). With NMI exiting the host's NMI
 * was taken by the exit, so its handler runs now (it counts one to pass
 * on to dom0 unless it was the watchdog's). Other exceptions do not exit
 * (the exception bitmap is empty). */
static bool exception_nmi(struct vmx_vcpu *s, struct vm_exit *e)
{
	if ((s->exit_intr_info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		__asm__ volatile("int $2" ::: "memory");
		e->reason = VM_EXIT_NMI;
		return true;
	}
	e->reason = VM_EXIT_UNKNOWN;
	return true;
}

/* An EPT violation (28.2.1, table 28-7): the guest-physical address and
 * the access. NMI blocking that an IRET lifted before the fault comes
 * back (28.2.3). */
static void ept_violation(struct vmx_vcpu *s, struct vm_exit *e)
{
	uint64_t q = s->exit_qual;

	e->reason = VM_EXIT_NPF;
	e->gpa = s->exit_gpa;
	e->npf_flags = ((q & EPT_QUAL_WRITE) ? NPF_WRITE : NPF_READ) |
		       ((q & EPT_QUAL_FETCH) ? NPF_EXEC : 0) |
		       ((q & EPT_QUAL_PERM_MASK) ? NPF_PRESENT : 0) |
		       (VMX_AR_DPL(s->ss_ar) == 3 ? NPF_USER : 0);
	if ((q & EPT_QUAL_NMI_UNBLOCK) && !(s->idt_info & INTR_INFO_VALID)) {
		s->interruptibility |= INTERRUPTIBILITY_NMI;
		vmcs_write(GUEST_INTERRUPTIBILITY, s->interruptibility);
	}
}

static void io_exit(struct vmx_vcpu *s, struct vm_exit *e)
{
	e->reason = VM_EXIT_IO;
	e->port = IO_QUAL_PORT(s->exit_qual);
	e->io_in = (s->exit_qual & IO_QUAL_IN) != 0;
	e->io_size = (uint8_t)IO_QUAL_SIZE(s->exit_qual);
	e->insn_len = s->exit_insn_len;
}

/* Name the guest-state field a failed entry refused (vmx_caps.c), from
 * the VMCS, which is still current. */
static const char *guest_state_problem(const struct vmx_vcpu *s)
{
	struct vmx_guest_state g = {
		.cr0 = vmcs_read(GUEST_CR0), .cr4 = vmcs_read(GUEST_CR4),
		.efer = vmcs_read(GUEST_IA32_EFER), .rflags = vmcs_read(GUEST_RFLAGS),
		.rip = vmcs_read(GUEST_RIP), .link = vmcs_read(VMCS_LINK_POINTER),
		.cr0_fixed0 = vmx_caps.cr0_fixed0, .cr0_fixed1 = vmx_caps.cr0_fixed1,
		.cr4_fixed0 = vmx_caps.cr4_fixed0, .cr4_fixed1 = vmx_caps.cr4_fixed1,
		.cs_ar = s->cs_ar, .ss_ar = s->ss_ar,
		.tr_ar = (uint32_t)vmcs_read(GUEST_TR_AR),
		.cs_limit = (uint32_t)vmcs_read(GUEST_CS_LIMIT),
		.ss_limit = (uint32_t)vmcs_read(GUEST_SS_LIMIT),
		.tr_limit = (uint32_t)vmcs_read(GUEST_TR_LIMIT),
		.interruptibility = s->interruptibility,
		.activity = (uint32_t)vmcs_read(GUEST_ACTIVITY_STATE),
		.entry_ctls = (uint32_t)vmcs_read(VM_ENTRY_CONTROLS),
		.entry_intr_info = (uint32_t)vmcs_read(VM_ENTRY_INTR_INFO),
		.unrestricted = (vmcs_read(SECONDARY_VM_EXEC_CONTROL) & PROC2_UNRESTRICTED_GUEST) != 0,
	};
	const char *why = vmx_guest_state_problem(&g);

	return why ? why : "no rule Keel checks is broken (see SDM vol. 3C, 26.3.1)";
}

/* A VM entry that failed while checking or loading the guest state
 * (26.8 "VM-Entry Failures During or After Loading Guest State"): say why. */
static void entry_failure(struct vcpu *v, struct vmx_vcpu *s, struct vm_exit *e)
{
	static const char *const why[] = {
		[EXIT_REASON_INVALID_STATE] = "invalid guest state",
		[EXIT_REASON_MSR_LOADING] = "MSR loading",
		[EXIT_REASON_MCE_DURING_ENTRY] = "a machine check",
	};
	uint32_t basic = EXIT_REASON_BASIC(s->exit_reason);
	const char *what = basic < ARRAY_SIZE(why) && why[basic] ? why[basic] : "an unknown reason";

	log_err("vCPU %u: VM entry failed because of %s (exit reason %#x, qualification %#llx)\n",
		v->id, what, s->exit_reason, (unsigned long long)s->exit_qual);
	if (basic == EXIT_REASON_INVALID_STATE)
		log_err("vCPU %u: %s\n", v->id, guest_state_problem(s));
	if (basic == EXIT_REASON_MSR_LOADING)
		log_err("vCPU %u: entry %llu of the MSR-load area was refused\n", v->id,
			(unsigned long long)s->exit_qual);
	e->reason = VM_EXIT_INVALID;
}

/* An exit common code handles as it is, past an instruction of the
 * length the CPU gave (28.2.5). */
static bool exit_simple(struct vmx_vcpu *s, struct vm_exit *e, enum vm_exit_reason reason)
{
	e->reason = reason;
	e->insn_len = s->exit_insn_len;
	return true;
}

/* Translate v's last exit into e; see vmx_priv.h. */
bool vmx_exit_translate(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *s = v->vendor;
	uint32_t basic = EXIT_REASON_BASIC(s->exit_reason);

	memset(e, 0, sizeof(*e));
	e->raw_code = s->exit_reason;
	vcpu_note_exit(v, s->exit_reason, v->regs.rip);
	if (s->exit_reason & EXIT_REASON_ENTRY_FAIL) {
		entry_failure(v, s, e);
		return true;
	}
	switch (basic) {
	case EXIT_REASON_EXCEPTION_NMI:
		return exception_nmi(s, e);
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_PREEMPTION_TIMER: /* this CPU's timer is due (vmx.c) */
		e->reason = VM_EXIT_INTR;
		return true;
	case EXIT_REASON_TRIPLE_FAULT:
		e->reason = VM_EXIT_SHUTDOWN;
		return true;
	case EXIT_REASON_INTERRUPT_WINDOW:
		s->irq_window = false;
		e->reason = VM_EXIT_IRQ_WINDOW;
		return true;
	case EXIT_REASON_NMI_WINDOW: /* the next entry injects the NMI */
	case EXIT_REASON_INIT:       /* nobody sends the hypervisor's CPUs INIT */
		return false;
	case EXIT_REASON_CPUID:
		return exit_simple(s, e, VM_EXIT_CPUID);
	case EXIT_REASON_HLT:
		return exit_simple(s, e, VM_EXIT_HLT);
	case EXIT_REASON_VMCALL:
		return exit_simple(s, e, VM_EXIT_HYPERCALL);
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		e->msr = (uint32_t)v->regs.rcx;
		return exit_simple(s, e, basic == EXIT_REASON_MSR_READ ?
				   VM_EXIT_MSR_READ : VM_EXIT_MSR_WRITE);
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
		e->cache_invd = basic == EXIT_REASON_INVD;
		return exit_simple(s, e, VM_EXIT_CACHE_FLUSH);
	case EXIT_REASON_MWAIT:
	case EXIT_REASON_MONITOR:
		return exit_simple(s, e, VM_EXIT_MONITOR);
	case EXIT_REASON_RDPMC:
		return exit_simple(s, e, VM_EXIT_RDPMC);
	case EXIT_REASON_IO:
		io_exit(s, e);
		return true;
	case EXIT_REASON_EPT_VIOLATION:
		ept_violation(s, e);
		return true;
	case EXIT_REASON_EPT_MISCONFIG:
		log_err("vCPU %u: EPT misconfiguration at guest-physical %#llx\n", v->id,
			(unsigned long long)s->exit_gpa);
		e->reason = VM_EXIT_INVALID;
		return true;
	case EXIT_REASON_CR_ACCESS:
		if (cr_access(v, s))
			return false;
		e->reason = VM_EXIT_INVALID;
		return true;
	case EXIT_REASON_XSETBV:
		xsetbv(v, s);
		return false;
	case EXIT_REASON_GETSEC: case EXIT_REASON_VMCLEAR: case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD: case EXIT_REASON_VMPTRST: case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME: case EXIT_REASON_VMWRITE: case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON: case EXIT_REASON_INVEPT: case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
		vmx_queue_exception(v, VECTOR_UD, false, 0);
		return false;
	default:
		e->reason = VM_EXIT_UNKNOWN;
		return true;
	}
}
