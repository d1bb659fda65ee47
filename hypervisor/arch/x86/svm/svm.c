/*
 * The AMD-V (SVM) backend behind struct virt_ops (AMD APM vol. 2, chapter
 * 15 "Secure Virtual Machine"). It enables SVM per CPU, builds a VMCB per
 * vCPU with nested paging (15.25), enters the guest and turns each #VMEXIT
 * into one generic struct vm_exit. SVM-only matters are settled here: the
 * SVM instructions raise #UD in guests, EFER.SVME stays set but hidden,
 * VM_CR and VM_HSAVE_PA are faked. Instruction lengths come from NRIP when
 * the CPU saves it (15.7.1) and from the fixed encodings otherwise, as QEMU
 * TCG has no NRIPS.
 */
#include <keel/arch.h>
#include <keel/virt.h>
#include <keel/cpu.h>
#include <keel/msr_policy.h>
#include <keel/errno.h>
#include <keel/exit.h>
#include <keel/log.h>
#include <keel/mm.h>
#include <keel/printf.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <public/keel_abi.h>
#include "vmcb.h"
#include "svm_state.h"

#define CPUID_EXT_ECX_SVM (1u << 2)
#define CPUID_SVM_EDX_NP (1u << 0)
#define CPUID_SVM_EDX_NRIPS (1u << 3)
#define CPUID_SVM_EDX_VMCB_CLEAN (1u << 5)
#define CPUID_SVM_EDX_FLUSH_ASID (1u << 6)
#define CPUID_SVM_EDX_DECODE (1u << 7)
#define CPUID_SVM_EDX_AVIC (1u << 13)
#define CPUID_SVM_EDX_VGIF (1u << 16)
#define VM_CR_LOCK (1ull << 3)
#define VM_CR_SVMDIS (1ull << 4)
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | \
			 (1ull << 13) | (1ull << 14) | (1ull << 15))
#define MSRPM_PAGES 2
#define IOPM_PAGES 3
#define INSN_LEN_CPUID 2
#define INSN_LEN_MSR 2
#define INSN_LEN_VMMCALL 3
#define INSN_LEN_HLT 1
#define INSN_LEN_0F 2   /* INVD 0F 08, WBINVD 0F 09, RDPMC 0F 33 */
#define VINTR_V_IRQ (1ull << 8)
#define VINTR_PRIO_MAX (0xfull << 16)
#define VINTR_IGN_TPR (1ull << 20)
#define VINTR_MASKING (1ull << 24)
#define VECTOR_UD 6
#define VECTOR_GP 13
#define MSR_X2APIC_ICR 0x830u

struct svm_vcpu {
	struct vmcb *vmcb;
	bool passthrough; /* VCPU_PROFILE_PASSTHROUGH (dom0) */
	uint64_t vmcb_pa;
	uint8_t *msrpm;
	uint64_t msrpm_pa, iopm_pa, state_pa;
};

extern void svm_vmrun(uint64_t vmcb_pa, struct guest_regs *regs);

static struct virt_ops svm_ops;

static struct vmcb *vmcb_of(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->vendor)->vmcb;
}

/* Enable SVM on the calling CPU and give it a host save area (15.4, 15.30.4). */
static int svm_cpu_enable(struct cpu *c)
{
	uint64_t hsave = mm_alloc_pages(1, 1);

	if (!hsave)
		return -ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	c->vendor = phys_to_virt(hsave);
	return 0;
}

/* Intercept reads and writes of msr in the MSR permission map (15.11). */
static void msrpm_intercept(uint8_t *pm, uint32_t msr)
{
	uint32_t base, bit;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x800, msr -= 0xC0000000;
	else if (msr >= 0xC0010000 && msr <= 0xC0011FFF)
		base = 0x1000, msr -= 0xC0010000;
	else
		return;
	bit = msr * 2;
	pm[base + bit / 8] |= (uint8_t)(3u << (bit % 8));
}

/* The pass-through profile (VCPU_PROFILE_PASSTHROUGH, dom0's): the vCPU
 * owns its interrupts, I/O ports and LAPIC, so no INTR, IOIO or HLT
 * intercepts. NMIs exit (15.13.2) and reach the host's handler once GIF is
 * set again; svm_prepare_events passes on those that were not the
 * watchdog's. What reaches beyond the vCPU's own CPU exits: SVM's own
 * MSRs, the PAT (kept in G_PAT, as the host's PAT is the hypervisor's
 * too), the APIC base and x2APIC ICR (the xAPIC page is mapped read-only
 * by common code), the microcode loader and the configuration MSRs shared
 * with the SMT sibling (msr_policy_shared_cfg). */
static void svm_set_passthrough_intercepts(struct vmcb *vm, uint8_t *msrpm)
{
	uint32_t msr;

	vm->intercept_misc1 = INTERCEPT_CPUID | INTERCEPT_MSR | INTERCEPT_NMI |
			      INTERCEPT_SHUTDOWN | INTERCEPT_INVLPGA | INTERCEPT_INVD;
	vm->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL |
			      INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
			      INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT;
	msrpm_intercept(msrpm, MSR_EFER);
	msrpm_intercept(msrpm, MSR_VM_CR);
	msrpm_intercept(msrpm, MSR_VM_HSAVE_PA);
	msrpm_intercept(msrpm, MSR_PAT);
	msrpm_intercept(msrpm, MSR_APIC_BASE);
	msrpm_intercept(msrpm, MSR_X2APIC_ICR);
	msrpm_intercept(msrpm, MSR_AMD_PATCH_LOADER);
	for (msr = 0xC0011000u; msr <= 0xC0011FFFu; msr++)
		if (msr_policy_shared_cfg(msr))
			msrpm_intercept(msrpm, msr);
}

/* MSRs a guest may use directly: all are switched by VMLOAD/VMSAVE. */
static const uint32_t guest_msr_passthrough[] = {
	0x174, 0x175, 0x176,                     /* SYSENTER_CS/ESP/EIP */
	0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, /* STAR..SFMASK */
	0xC0000100, 0xC0000101, 0xC0000102,      /* FS/GS/KERNEL_GS base */
};

static void msrpm_allow(uint8_t *pm, uint32_t msr)
{
	uint32_t base, bit;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x800, msr -= 0xC0000000;
	else
		return;
	bit = msr * 2;
	pm[base + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

/* The isolated profile (VCPU_PROFILE_ISOLATED, guests'): every port,
 * MSR (but the syscall/segment ones), host interrupt and NMI exits; the
 * maps msrpm and iopm are filled unless NULL (shared, filled once);
 * V_INTR_MASKING keeps the host's interrupts away from the guest's IF
 * (15.21.1). The cache instructions, MONITOR/MWAIT and RDPMC exit too
 * (docs/architecture.md, "Intercepts"). */
static void svm_set_isolated_intercepts(struct vmcb *vm, uint8_t *msrpm, uint8_t *iopm)
{
	uint32_t i;

	vm->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_CPUID |
			      INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO |
			      INTERCEPT_MSR | INTERCEPT_SHUTDOWN | INTERCEPT_INVD |
			      INTERCEPT_RDPMC;
	vm->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL |
			      INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
			      INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
			      INTERCEPT_WBINVD | INTERCEPT_MONITOR | INTERCEPT_MWAIT;
	vm->vintr = VINTR_MASKING;
	if (!msrpm) /* the shared maps are set already */
		return;
	memset(msrpm, 0xff, MSRPM_PAGES * PAGE_SIZE_4K);
	for (i = 0; i < ARRAY_SIZE(guest_msr_passthrough); i++)
		msrpm_allow(msrpm, guest_msr_passthrough[i]);
	memset(iopm, 0xff, IOPM_PAGES * PAGE_SIZE_4K);
}

/* The permission maps of the isolated profile: the same for every guest
 * vCPU and never changed after they are set, so all guest vCPUs share one
 * pair (20 KiB each would otherwise be most of a tiny guest's overhead).
 * Made at the first guest vCPU, under domain creation's serialisation
 * (dom0's hypercall lock), and kept. */
static uint64_t isolated_msrpm_pa, isolated_iopm_pa;

/* Allocate an MSR and an I/O permission map. 0 or -ENOMEM (neither). */
static int svm_maps_alloc(uint64_t *msrpm, uint64_t *iopm)
{
	*msrpm = mm_alloc_pages(MSRPM_PAGES, 1);
	*iopm = mm_alloc_pages(IOPM_PAGES, 1);
	if (*msrpm && *iopm)
		return 0;
	if (*msrpm)
		mm_free_pages(*msrpm, MSRPM_PAGES);
	if (*iopm)
		mm_free_pages(*iopm, IOPM_PAGES);
	return -ENOMEM;
}

static int svm_isolated_maps(struct vmcb *vm)
{
	if (!isolated_msrpm_pa) {
		uint64_t msrpm, iopm;

		if (svm_maps_alloc(&msrpm, &iopm))
			return -ENOMEM;
		svm_set_isolated_intercepts(vm, phys_to_virt(msrpm), phys_to_virt(iopm));
		isolated_iopm_pa = iopm;
		__atomic_store_n(&isolated_msrpm_pa, msrpm, __ATOMIC_RELEASE);
	} else {
		svm_set_isolated_intercepts(vm, 0, 0);
	}
	vm->iopm_base_pa = isolated_iopm_pa;
	vm->msrpm_base_pa = isolated_msrpm_pa;
	return 0;
}

/* The passthrough profile's maps: each dom0 vCPU has its own MSRPM. */
static int svm_passthrough_maps(struct svm_vcpu *s)
{
	uint64_t msrpm, iopm;

	if (svm_maps_alloc(&msrpm, &iopm))
		return -ENOMEM;
	s->msrpm = phys_to_virt(msrpm);
	s->msrpm_pa = msrpm;
	s->iopm_pa = iopm;
	svm_set_passthrough_intercepts(s->vmcb, s->msrpm);
	s->vmcb->iopm_base_pa = iopm;
	s->vmcb->msrpm_base_pa = msrpm;
	return 0;
}

/* Allocate the VMCB (and, for dom0, the permission maps) of v with nested
 * paging at npt_root. */
static int svm_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, enum vcpu_profile profile)
{
	uint64_t state_pa = mm_alloc_pages(1, 1), vmcb_pa = mm_alloc_pages(1, 1);
	struct svm_vcpu *s;
	int rc;

	if (!state_pa || !vmcb_pa) {
		if (vmcb_pa)
			mm_free_pages(vmcb_pa, 1);
		if (state_pa)
			mm_free_pages(state_pa, 1);
		return -ENOMEM;
	}
	s = phys_to_virt(state_pa);
	s->vmcb = phys_to_virt(vmcb_pa);
	s->vmcb_pa = vmcb_pa;
	s->state_pa = state_pa;
	s->passthrough = profile == VCPU_PROFILE_PASSTHROUGH;
	rc = s->passthrough ? svm_passthrough_maps(s) : svm_isolated_maps(s->vmcb);
	if (rc) {
		mm_free_pages(vmcb_pa, 1);
		mm_free_pages(state_pa, 1);
		return rc;
	}
	v->vendor = s;
	/* Each pass-through (dom0) vCPU has its CPU to itself; isolated
	 * vCPUs share ASID 2 and the TLB is flushed whenever a CPU switches
	 * to another vCPU (svm_vcpu_run). */
	s->vmcb->asid = s->passthrough ? 1 : 2;
	s->vmcb->np_control = 1;
	s->vmcb->n_cr3 = npt_root_pa;
	s->vmcb->tlb_control = TLB_CONTROL_FLUSH_ALL;
	return 0;
}

/* Free the backend state of v (the shared guest maps stay). */
static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = v->vendor;

	if (!s)
		return;
	if (s->passthrough) {
		mm_free_pages(s->iopm_pa, IOPM_PAGES);
		mm_free_pages(s->msrpm_pa, MSRPM_PAGES);
	}
	mm_free_pages(s->vmcb_pa, 1);
	mm_free_pages(s->state_pa, 1);
	v->vendor = 0;
}

/* Bytes of v's own backend pages: state and VMCB, and dom0's maps. */
static uint64_t svm_vcpu_own_bytes(const struct vcpu *v)
{
	const struct svm_vcpu *s = v->vendor;

	return (2 + (s->passthrough ? MSRPM_PAGES + IOPM_PAGES : 0)) * PAGE_SIZE_4K;
}

static void seg_set(struct vmcb_seg *s, uint16_t sel, uint16_t attr,
		    uint32_t limit)
{
	s->sel = sel;
	s->attr = attr;
	s->limit = limit;
	s->base = 0;
}

/* The five data segment registers alike. */
static void seg_set_data(struct vmcb *vm, uint16_t sel, uint16_t attr, uint32_t limit)
{
	seg_set(&vm->ds, sel, attr, limit);
	seg_set(&vm->es, sel, attr, limit);
	seg_set(&vm->ss, sel, attr, limit);
	seg_set(&vm->fs, sel, attr, limit);
	seg_set(&vm->gs, sel, attr, limit);
}

/* What every start state shares: TR/LDTR, CPL 0, EFER.SVME (VMRUN requires
 * it, 15.5.1; hidden from reads), no paging, debug and PAT defaults, no
 * pending event, cleared registers. */
static void svm_reset_common(struct vcpu *v, struct vmcb *vm, uint64_t cr0)
{
	seg_set(&vm->tr, 0, SEG_ATTR_TSS32_BUSY, 0xFFFF);
	seg_set(&vm->ldtr, 0, SEG_ATTR_LDT, 0xFFFF);
	vm->cpl = 0;
	vm->efer = EFER_SVME;
	vm->cr0 = cr0;
	vm->cr3 = 0;
	vm->cr4 = 0;
	vm->dr6 = 0xFFFF0FF0;
	vm->dr7 = 0x400;
	vm->g_pat = DEFAULT_GPAT;
	vm->eventinj = 0;
	vm->exitintinfo = 0;
	vm->int_state = 0;
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rflags = RFLAGS_RESERVED1;
}

/* Put v in Linux's 32-bit boot state (flat __BOOT_CS=0x10 and
 * __BOOT_DS=0x18, protected mode, paging off, interrupts off), or with
 * st->real_mode in real mode at CS = vector << 8, IP 0: an AP after
 * INIT-SIPI (Intel SDM vol. 3A, 8.4.4.1; AMD APM vol. 2, 14.1.5). */
static void svm_vcpu_reset(struct vcpu *v, const struct vcpu_entry_state *st)
{
	struct vmcb *vm = vmcb_of(v);

	if (st->real_mode) {
		seg_set(&vm->cs, (uint16_t)(st->sipi_vector << 8), SEG_ATTR_CODE16, 0xFFFF);
		vm->cs.base = (uint64_t)st->sipi_vector << 12;
		seg_set_data(vm, 0, SEG_ATTR_DATA16, 0xFFFF);
		seg_set(&vm->gdtr, 0, 0, 0xFFFF);
		seg_set(&vm->idtr, 0, 0, 0x3FF);
		svm_reset_common(v, vm, CR0_ET);
		return;
	}
	seg_set(&vm->cs, 0x10, SEG_ATTR_CODE32, 0xFFFFFFFF);
	seg_set_data(vm, 0x18, SEG_ATTR_DATA32, 0xFFFFFFFF);
	seg_set(&vm->gdtr, 0, 0, 0);
	seg_set(&vm->idtr, 0, 0, 0);
	svm_reset_common(v, vm, CR0_PE | CR0_ET);
	v->regs.rip = st->rip;
	v->regs.rsi = st->rsi;
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_err,
				 uint32_t err)
{
	struct vmcb *vm = vmcb_of(v);

	vm->eventinj = vector | EVENT_TYPE_EXC | EVENT_VALID |
		       (has_err ? (EVENT_ERR_VALID | ((uint64_t)err << 32)) : 0);
}

static uint32_t svm_insn_len(struct vcpu *v, uint32_t fixed)
{
	struct vmcb *vm = vmcb_of(v);

	if ((svm_ops.features & KEEL_FEAT_NRIPS) && vm->next_rip > v->regs.rip)
		return (uint32_t)(vm->next_rip - v->regs.rip);
	return fixed;
}

/* EFER, VM_CR and VM_HSAVE_PA belong to SVM itself, and the PAT is the
 * VMCB's G_PAT; emulate them here. */
static bool svm_msr_internal(struct vcpu *v, bool write)
{
	struct vmcb *vm = vmcb_of(v);
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax, rd = 0;

	if (msr == MSR_PAT) {
		/* With nested paging the guest's PAT is G_PAT (15.25.8); a
		 * RDMSR/WRMSR that is not intercepted reaches the host's PAT.
		 * A memory type the PAT does not define is a #GP (7.8.1), and
		 * would make VMRUN fail (15.5.1). */
		if (write && !msr_policy_pat_valid(val)) {
			svm_inject_exception(v, VECTOR_GP, true, 0);
			return true;
		}
		if (write)
			vm->g_pat = val;
		else
			v->regs.rax = (uint32_t)vm->g_pat, v->regs.rdx = vm->g_pat >> 32;
		v->regs.rip += svm_insn_len(v, INSN_LEN_MSR);
		return true;
	}
	if (msr != MSR_EFER && msr != MSR_VM_CR && msr != MSR_VM_HSAVE_PA)
		return false;
	if (write && msr == MSR_EFER) {
		if (val & ~EFER_GUEST_BITS) {
			svm_inject_exception(v, VECTOR_GP, true, 0);
			return true;
		}
		vm->efer = (val & ~EFER_LMA) | (vm->efer & EFER_LMA) | EFER_SVME;
	} else if (!write) {
		if (msr == MSR_EFER)
			rd = vm->efer & ~EFER_SVME;
		else if (msr == MSR_VM_CR)
			rd = VM_CR_LOCK | VM_CR_SVMDIS;
		v->regs.rax = (uint32_t)rd;
		v->regs.rdx = rd >> 32;
	}
	v->regs.rip += svm_insn_len(v, INSN_LEN_MSR);
	return true;
}

static void svm_exit_npf(struct vmcb *vm, struct vm_exit *e)
{
	uint64_t code = vm->exitinfo1;

	e->reason = VM_EXIT_NPF;
	e->gpa = vm->exitinfo2;
	e->npf_flags = ((code & 2) ? NPF_WRITE : NPF_READ) |
		       ((code & 1) ? NPF_PRESENT : 0) |
		       ((code & 4) ? NPF_USER : 0) | ((code & 16) ? NPF_EXEC : 0);
}

static void svm_exit_io(struct vcpu *v, struct vmcb *vm, struct vm_exit *e)
{
	uint64_t info = vm->exitinfo1;

	e->reason = VM_EXIT_IO;
	e->port = (uint16_t)(info >> 16);
	e->io_in = info & 1;
	e->io_size = (info & 0x10) ? 1 : (info & 0x20) ? 2 : 4;
	e->insn_len = (uint32_t)(vm->exitinfo2 - v->regs.rip);
}

/* Whether the state saved in vm at the last #VMEXIT is the host's own, as
 * the CPU saved it in this CPU's host save area at VMRUN (15.5.1): RIP just
 * after our VMRUN, the host's stack and page tables. A correct CPU never
 * does this; the vCPU's real state is then lost. */
static bool svm_saved_state_is_host(const struct vmcb *vm)
{
	const struct vmcb *hs = this_cpu()->vendor;

	return vm->rip == hs->rip && vm->rsp == hs->rsp && vm->cr3 == hs->cr3;
}

/* Translate the #VMEXIT in v's VMCB into e. False if handled here. */
static bool svm_translate_exit(struct vcpu *v, struct vm_exit *e)
{
	struct vmcb *vm = vmcb_of(v);

	memset(e, 0, sizeof(*e));
	e->raw_code = vm->exitcode;
	vcpu_note_exit(v, vm->exitcode, vm->rip);
	if (svm_saved_state_is_host(vm)) {
		log_err("vCPU %u: the CPU saved the hypervisor's own state as the vCPU's "
			"at exit %#llx; its real state is lost\n", v->id,
			(unsigned long long)vm->exitcode);
		e->reason = VM_EXIT_INVALID;
		return true;
	}
	switch (vm->exitcode) {
	case SVM_EXIT_CPUID:
		e->reason = VM_EXIT_CPUID;
		e->insn_len = svm_insn_len(v, INSN_LEN_CPUID);
		return true;
	case SVM_EXIT_MSR:
		if (svm_msr_internal(v, vm->exitinfo1 == 1)) {
			vcpu_count_backend_exit(v, vm->exitinfo1 ? KEEL_EXIT_MSR_WRITE :
						KEEL_EXIT_MSR_READ, (uint32_t)v->regs.rcx);
			return false;
		}
		e->reason = vm->exitinfo1 ? VM_EXIT_MSR_WRITE : VM_EXIT_MSR_READ;
		e->msr = (uint32_t)v->regs.rcx;
		e->insn_len = svm_insn_len(v, INSN_LEN_MSR);
		return true;
	case SVM_EXIT_VMMCALL:
		e->reason = VM_EXIT_HYPERCALL;
		e->insn_len = svm_insn_len(v, INSN_LEN_VMMCALL);
		return true;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		svm_inject_exception(v, VECTOR_UD, false, 0);
		vcpu_count_backend_exit(v, KEEL_EXIT_OTHER, (uint32_t)vm->exitcode);
		return false;
	case SVM_EXIT_NPF:
		svm_exit_npf(vm, e);
		return true;
	case SVM_EXIT_IOIO:
		svm_exit_io(v, vm, e);
		return true;
	case SVM_EXIT_HLT:
		e->reason = VM_EXIT_HLT;
		e->insn_len = svm_insn_len(v, INSN_LEN_HLT);
		return true;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		e->reason = VM_EXIT_CACHE_FLUSH;
		e->cache_invd = vm->exitcode == SVM_EXIT_INVD;
		/* Without NRIPS a prefix (WBNOINVD is F3 0F 09) is not counted:
		 * common code measures WBINVD itself then (insn_len 0). */
		e->insn_len = (e->cache_invd || (svm_ops.features & KEEL_FEAT_NRIPS)) ?
			      svm_insn_len(v, INSN_LEN_0F) : 0;
		return true;
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		e->reason = VM_EXIT_MONITOR;
		return true;
	case SVM_EXIT_RDPMC:
		e->reason = VM_EXIT_RDPMC;
		return true;
	case SVM_EXIT_INTR:
		e->reason = VM_EXIT_INTR;
		return true;
	case SVM_EXIT_VINTR:
		vm->vintr &= ~(VINTR_V_IRQ | VINTR_PRIO_MAX | VINTR_IGN_TPR);
		vm->intercept_misc1 &= ~INTERCEPT_VINTR;
		e->reason = VM_EXIT_IRQ_WINDOW;
		return true;
	case SVM_EXIT_NMI:
		e->reason = VM_EXIT_NMI;
		return true;
	case SVM_EXIT_SHUTDOWN:
		e->reason = VM_EXIT_SHUTDOWN;
		return true;
	case SVM_EXIT_INVALID:
		e->reason = VM_EXIT_INVALID;
		return true;
	default:
		e->reason = VM_EXIT_UNKNOWN;
		return true;
	}
}

/* Before entry: forward host NMIs to a pass-through vCPU (dom0), and
 * re-deliver an event that the last exit interrupted (EXITINTINFO,
 * 15.7.2). */
static void svm_prepare_events(struct svm_vcpu *s, struct vmcb *vm)
{
	struct cpu *c = this_cpu();

	if (vm->eventinj & EVENT_VALID)
		return;
	if (vm->exitintinfo & EVENT_VALID) {
		vm->eventinj = vm->exitintinfo;
		vm->exitintinfo = 0;
	} else if (s->passthrough && c->nmi_pending) {
		c->nmi_pending--;
		vm->eventinj = 2 | EVENT_TYPE_NMI | EVENT_VALID;
	}
}

/* Run v on this CPU until an exit common code must handle; see virt.h. */
static void svm_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct svm_vcpu *s = v->vendor;
	struct vmcb *vm = s->vmcb;

	do {
		vm->rax = v->regs.rax;
		vm->rsp = v->regs.rsp;
		vm->rip = v->regs.rip;
		vm->rflags = v->regs.rflags;
		vm->tsc_offset = v->tsc_offset; /* APM 15.30.4; no clean bits */
		svm_prepare_events(s, vm);
		if (s->passthrough) {
			__asm__ volatile("clgi" ::: "memory");
			svm_vmrun(s->vmcb_pa, &v->regs);
			__asm__ volatile("stgi" ::: "memory");
		} else {
			/* Host IF=1 at VMRUN so host interrupts exit (15.21.1);
			 * GIF=0 keeps them pending until then. */
			__asm__ volatile("clgi; sti" ::: "memory");
			svm_vmrun(s->vmcb_pa, &v->regs);
			__asm__ volatile("cli; stgi" ::: "memory");
		}
		v->regs.rax = vm->rax;
		v->regs.rsp = vm->rsp;
		v->regs.rip = vm->rip;
		v->regs.rflags = vm->rflags;
		v->exit_tsc = rdtsc();
		vm->tlb_control = TLB_CONTROL_NONE;
		v->exits++;
	} while (!svm_translate_exit(v, e));
}

static bool svm_vcpu_interruptible(struct vcpu *v)
{
	struct vmcb *vm = vmcb_of(v);

	return (v->regs.rflags & RFLAGS_IF) && !(vm->int_state & 1) &&
	       !(vm->eventinj & EVENT_VALID) && !(vm->exitintinfo & EVENT_VALID);
}

static void svm_vcpu_inject_irq(struct vcpu *v, uint8_t vector)
{
	vmcb_of(v)->eventinj = vector | EVENT_TYPE_INTR | EVENT_VALID;
}

/* A virtual interrupt with the VINTR intercept exits as soon as the guest
 * could take it (15.21.4). */
static void svm_vcpu_request_irq_window(struct vcpu *v, bool on)
{
	struct vmcb *vm = vmcb_of(v);

	if (on) {
		vm->vintr |= VINTR_V_IRQ | VINTR_PRIO_MAX | VINTR_IGN_TPR;
		vm->intercept_misc1 |= INTERCEPT_VINTR;
	} else {
		vm->vintr &= ~(VINTR_V_IRQ | VINTR_PRIO_MAX | VINTR_IGN_TPR);
		vm->intercept_misc1 &= ~INTERCEPT_VINTR;
	}
}

static void svm_vcpu_inject_nmi(struct vcpu *v)
{
	vmcb_of(v)->eventinj = 2 | EVENT_TYPE_NMI | EVENT_VALID;
}

static bool svm_vcpu_if_set(struct vcpu *v)
{
	return (v->regs.rflags & RFLAGS_IF) != 0;
}

static void svm_vcpu_paging_state(struct vcpu *v, struct vcpu_paging_state *ps)
{
	struct vmcb *vm = vmcb_of(v);

	ps->cr0 = vm->cr0;
	ps->cr3 = vm->cr3;
	ps->cr4 = vm->cr4;
	ps->efer = vm->efer;
	ps->cs_base = vm->cs.base;
	ps->cs_long = (vm->cs.attr >> 9) & 1;
	ps->cs_db = (vm->cs.attr >> 10) & 1;
}

static uint32_t svm_vcpu_cpl(struct vcpu *v)
{
	return vmcb_of(v)->cpl;
}

static void svm_vcpu_flush_npt(struct vcpu *v)
{
	vmcb_of(v)->tlb_control = (svm_ops.features & KEEL_FEAT_FLUSH_BY_ASID) ?
		TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL;
}

/* v moves to another CPU. The VMCB holds all of its state (VMRUN and
 * #VMEXIT save and load it, with VMLOAD/VMSAVE at every entry, APM vol. 2
 * 15.5), Keel uses no VMCB clean bits, and guests share ASID 2, flushed
 * whenever a CPU switches vCPU (svm_vcpu_flush_npt); so nothing stays
 * behind. The flush is asked for again here in case that ever changes. */
static void svm_vcpu_unload(struct vcpu *v)
{
	svm_vcpu_flush_npt(v);
}

static void svm_vcpu_dump(struct vcpu *v)
{
	struct vmcb *vm = vmcb_of(v);

	log_err("  exit %#llx info1 %#llx info2 %#llx intinfo %#llx\n",
		(unsigned long long)vm->exitcode, (unsigned long long)vm->exitinfo1,
		(unsigned long long)vm->exitinfo2, (unsigned long long)vm->exitintinfo);
	log_err("  RIP %04x:%016llx RSP %016llx RFLAGS %08llx CPL %u\n",
		vm->cs.sel, (unsigned long long)vm->rip, (unsigned long long)vm->rsp,
		(unsigned long long)vm->rflags, vm->cpl);
	log_err("  CR0 %08llx CR3 %016llx CR4 %08llx EFER %08llx CR2 %016llx\n",
		(unsigned long long)vm->cr0, (unsigned long long)vm->cr3,
		(unsigned long long)vm->cr4, (unsigned long long)vm->efer,
		(unsigned long long)vm->cr2);
	vcpu_dump_gprs(v);
}

static uint32_t svm_features(void)
{
	struct cpuid_regs r;
	uint32_t f = 0;

	cpuid_count(0x8000000A, 0, &r);
	f |= (r.edx & CPUID_SVM_EDX_NP) ? KEEL_FEAT_NPT : 0;
	f |= (r.edx & CPUID_SVM_EDX_NRIPS) ? KEEL_FEAT_NRIPS : 0;
	f |= (r.edx & CPUID_SVM_EDX_DECODE) ? KEEL_FEAT_DECODE_ASSISTS : 0;
	f |= (r.edx & CPUID_SVM_EDX_VMCB_CLEAN) ? KEEL_FEAT_VMCB_CLEAN : 0;
	f |= (r.edx & CPUID_SVM_EDX_FLUSH_ASID) ? KEEL_FEAT_FLUSH_BY_ASID : 0;
	f |= (r.edx & CPUID_SVM_EDX_AVIC) ? KEEL_FEAT_AVIC : 0;
	f |= (r.edx & CPUID_SVM_EDX_VGIF) ? KEEL_FEAT_VGIF : 0;
	f |= arch_cpu_has_x2apic() ? KEEL_FEAT_X2APIC : 0;
	f |= arch_cpu_has_invariant_tsc() ? KEEL_FEAT_TSC_INVARIANT : 0;
	return f;
}

/* Nested paging combines the host's MTRRs with the nested entries'
 * PAT bits (15.25.8): one run, no extra bits. */
static uint64_t svm_npt_mem_run(uint64_t hpa, uint64_t size, uint64_t *flags)
{
	(void)hpa;
	*flags = 0;
	return size;
}

static int svm_vcpu_state_get(struct vcpu *v, struct keel_state_vcpu *st)
{
	svm_state_get(vmcb_of(v), &v->regs, st);
	return 0;
}

static int svm_vcpu_state_set(struct vcpu *v, const struct keel_state_vcpu *st)
{
	return svm_state_set(vmcb_of(v), &v->regs, st);
}

static struct virt_ops svm_ops = {
	.name = "svm",
	.backend = KEEL_BACKEND_SVM,
	.cpu_enable = svm_cpu_enable,
	.vcpu_create = svm_vcpu_create,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_own_bytes = svm_vcpu_own_bytes,
	.vcpu_interruptible = svm_vcpu_interruptible,
	.vcpu_inject_irq = svm_vcpu_inject_irq,
	.vcpu_request_irq_window = svm_vcpu_request_irq_window,
	.vcpu_inject_nmi = svm_vcpu_inject_nmi,
	.vcpu_if_set = svm_vcpu_if_set,
	.vcpu_paging_state = svm_vcpu_paging_state,
	.vcpu_reset = svm_vcpu_reset,
	.vcpu_run = svm_vcpu_run,
	.vcpu_cpl = svm_vcpu_cpl,
	.vcpu_inject_exception = svm_inject_exception,
	.vcpu_flush_npt = svm_vcpu_flush_npt,
	.vcpu_unload = svm_vcpu_unload,
	.vcpu_dump = svm_vcpu_dump,
	.vcpu_state_get = svm_vcpu_state_get,
	.vcpu_state_set = svm_vcpu_state_set,
	.npt_flags_rwx = 0x7, /* P, RW, US: nested entries need US (15.25.5) */
	.npt_flags_ro = 0x5,  /* P, US */
	.npt_page_shift_max = 30,
	.npt_mem_run = svm_npt_mem_run,
};

/*
 * Check that this CPU offers AMD-V with nested paging, enabled by the
 * firmware. Return 0 with *ops set, or -ENOSYS with a reason in why.
 */
int svm_probe(const struct virt_ops **ops, char *why, uint32_t why_len)
{
	struct cpuid_regs r;

	cpuid_count(0x80000000, 0, &r);
	if (r.eax < 0x8000000A) {
		ksnprintf(why, why_len, "the CPU has no AMD-V (SVM)");
		return -ENOSYS;
	}
	cpuid_count(0x80000001, 0, &r);
	if (!(r.ecx & CPUID_EXT_ECX_SVM)) {
		ksnprintf(why, why_len, "the CPU has no AMD-V (SVM)");
		return -ENOSYS;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		ksnprintf(why, why_len,
			  "AMD-V (SVM) is disabled by the firmware; enable \"SVM Mode\" in the BIOS setup");
		return -ENOSYS;
	}
	svm_ops.features = svm_features();
	if (!(svm_ops.features & KEEL_FEAT_NPT)) {
		ksnprintf(why, why_len, "the CPU has AMD-V but no nested paging (NPT)");
		return -ENOSYS;
	}
	*ops = &svm_ops;
	return 0;
}
