/*
 * The Intel VT-x (VMX) backend behind struct virt_ops (Intel SDM vol. 3C,
 * chapters 24-33). It turns VMX on in every CPU (24.7, 24.8), keeps one
 * VMCS per vCPU with capability-checked controls (25, appendix A) and EPT
 * (29.3), enters the guest with VMLAUNCH/VMRESUME and hands each exit to
 * vmx_exit.c, which turns it into the generic struct vm_exit. The two
 * profiles match the AMD-V backend's: dom0 (VCPU_PROFILE_PASSTHROUGH) owns
 * its interrupts, ports, HLT and LAPIC, and only what reaches beyond its
 * CPU exits; an isolated guest exits on every port, MSR (but the few VMX
 * switches itself), HLT and external interrupt. Unrestricted guest mode
 * (25.6.2) lets a vCPU start at Linux's 32-bit entry with paging off and
 * an AP start in real mode after SIPI, as on the bare CPU.
 *
 * A VMCS is only read and written on the CPU where it is current, so the
 * ops that other CPUs call (reset, injection, flushes, crash dumps) work
 * on a copy in struct vmx_vcpu that the next entry applies, or that the
 * last exit filled.
 */
#include <keel/arch.h>
#include <keel/virt.h>
#include <keel/cpu.h>
#include <keel/errno.h>
#include <keel/exit.h>
#include <keel/log.h>
#include <keel/vcpu_state.h>
#include <keel/mm.h>
#include <keel/printf.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <asm/boot.h>
#include <asm/tss.h>
#include <asm/percpu.h>
#include <public/keel_abi.h>
#include "vmcs.h"
#include "vmx_caps.h"
#include "vmx_priv.h"
#include "vmx_state.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define VPID_PASSTHROUGH 1
#define VPID_ISOLATED 2
#define INVEPT_SINGLE 1ull
#define INVEPT_ALL 2ull
#define INVVPID_ALL 2ull
#define PROFILE_PASSTHROUGH 0
#define PROFILE_ISOLATED 1

/* Per-CPU state: the VMXON region, the VMCS now current, and VMCSs of
 * destroyed vCPUs that only this CPU may clear (24.11.1). */
struct vmx_cpu {
	uint64_t vmxon_pa;
	struct vmx_vcpu *current;
	struct vmx_vcpu *volatile doomed;
};

struct vmx_caps vmx_caps;
static struct virt_ops vmx_ops;

extern int vmx_enter(struct guest_regs *regs, uint64_t resume);
extern char vmx_exit_stub[];

static void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* ---- CPUs ---- */

/* Let VMXON work outside SMX: set and lock IA32_FEATURE_CONTROL if the
 * firmware left it unlocked (23.7). -EPERM if it is locked without. */
static int feature_control_enable(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return -EPERM;
	return 0;
}

/* CR4.OSXSAVE where the CPU has XSAVE: every guest's XSETBV exits and
 * is done by the hypervisor (vmx_exit.c), which needs it (SDM vol. 2C,
 * XSETBV: #UD without). */
static uint64_t host_cr4_xsave(void)
{
	struct cpuid_regs r;

	cpuid_count(1, 0, &r);
	return (r.ecx & CPUID_1_ECX_XSAVE) ? CR4_OSXSAVE : 0;
}

/* Enter VMX root operation on the calling CPU (24.7, 24.11.5): the task
 * register the host state needs, CR0/CR4 fixed bits, VMXON. */
static int vmx_cpu_enable(struct cpu *c)
{
	struct vmx_cpu *vc;
	uint64_t pa = mm_alloc_pages(1, 1);
	int rc = feature_control_enable();

	if (!pa)
		return -ENOMEM;
	if (rc) {
		mm_free_pages(pa, 1);
		return rc;
	}
	vc = phys_to_virt(pa);
	vc->vmxon_pa = mm_alloc_pages(1, 1);
	if (!vc->vmxon_pa) {
		mm_free_pages(pa, 1);
		return -ENOMEM;
	}
	*(uint32_t *)phys_to_virt(vc->vmxon_pa) = VMX_BASIC_REVISION(vmx_caps.basic);
	tss_load();
	write_cr0(vmx_cr_fixed(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
	write_cr4(vmx_cr_fixed(read_cr4() | CR4_VMXE | host_cr4_xsave(), vmx_caps.cr4_fixed0,
			       vmx_caps.cr4_fixed1, 0));
	if (!vmx_on(vc->vmxon_pa)) {
		log_err("CPU %u: VMXON failed\n", c->index);
		return -EIO;
	}
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		vmx_invept(INVEPT_ALL, 0);
	if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_ALL)
		vmx_invvpid(INVVPID_ALL, 0);
	c->vendor = vc;
	return 0;
}

/* ---- vCPUs ---- */

/* Make msr exit on reads and writes in a 4 KiB MSR bitmap (25.6.9). */
static void msr_bitmap_intercept(uint8_t *bm, uint32_t msr, bool on)
{
	uint32_t base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000u && msr <= 0xC0001FFFu)
		base = 0x400, msr -= 0xC0000000u;
	else
		return; /* outside both ranges: always exits */
	if (on) {
		bm[base + msr / 8] |= (uint8_t)(1u << (msr % 8));
		bm[base + 0x800 + msr / 8] |= (uint8_t)(1u << (msr % 8));
	} else {
		bm[base + msr / 8] &= (uint8_t)~(1u << (msr % 8));
		bm[base + 0x800 + msr / 8] &= (uint8_t)~(1u << (msr % 8));
	}
}

/* Dom0's MSRs that exit: the APIC base and x2APIC ICR (dom0 must not
 * reach CPUs it does not own), the microcode loader; everything else is
 * its own CPU's (EFER, PAT and the segment MSRs are switched by the VMCS
 * itself: 25.4, 26.3.2.1, 27.5.1). */
static void msr_bitmap_passthrough(uint8_t *bm)
{
	msr_bitmap_intercept(bm, MSR_APIC_BASE, true);
	msr_bitmap_intercept(bm, MSR_X2APIC_ICR, true);
	msr_bitmap_intercept(bm, MSR_INTEL_BIOS_UPDT_TRIG, true);
}

/* MSRs an isolated guest uses directly: those the VMCS switches (EFER,
 * PAT, SYSENTER_*, FS/GS base) and those the MSR areas switch. */
static const uint32_t guest_msr_direct[] = {
	MSR_EFER, MSR_PAT, 0x174, 0x175, 0x176, MSR_FS_BASE, MSR_GS_BASE,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
};

static void msr_bitmap_isolated(uint8_t *bm, struct vmx_msr_entry *area)
{
	uint32_t i;

	memset(bm, 0xff, PAGE_SIZE_4K);
	for (i = 0; i < ARRAY_SIZE(guest_msr_direct); i++)
		msr_bitmap_intercept(bm, guest_msr_direct[i], false);
	for (i = 0; i < VMX_GUEST_MSRS; i++)
		area[i].index = vmx_guest_msr_order[i];
}

static void vmx_vcpu_free(struct vmx_vcpu *s)
{
	if (s->msr_area_pa)
		mm_free_pages(s->msr_area_pa, 1);
	if (s->msr_bitmap_pa)
		mm_free_pages(s->msr_bitmap_pa, 1);
	if (s->vmcs_pa)
		mm_free_pages(s->vmcs_pa, 1);
	mm_free_pages(s->state_pa, 1);
}

/* Bytes of v's own backend pages: state, VMCS, MSR bitmap, MSR area. */
static uint64_t vmx_vcpu_own_bytes(const struct vcpu *v)
{
	const struct vmx_vcpu *s = v->vendor;

	return (s->passthrough ? 3 : 4) * PAGE_SIZE_4K;
}

/* Allocate v's VMCS, MSR bitmap and (isolated) MSR area; the VMCS is
 * filled on its CPU at the first entry. 0 or -ENOMEM. */
static int vmx_vcpu_create(struct vcpu *v, uint64_t npt_root_pa, enum vcpu_profile profile)
{
	uint64_t state_pa = mm_alloc_pages(1, 1);
	struct vmx_vcpu *s;

	if (!state_pa)
		return -ENOMEM;
	s = phys_to_virt(state_pa);
	s->state_pa = state_pa;
	s->cpu = -1;
	s->host_cpu = -1;
	s->profile = profile;
	s->passthrough = profile == VCPU_PROFILE_PASSTHROUGH;
	s->vmcs_pa = mm_alloc_pages(1, 1);
	s->msr_bitmap_pa = mm_alloc_pages(1, 1);
	s->msr_area_pa = s->passthrough ? 0 : mm_alloc_pages(1, 1);
	if (!s->vmcs_pa || !s->msr_bitmap_pa || (!s->passthrough && !s->msr_area_pa)) {
		vmx_vcpu_free(s);
		return -ENOMEM;
	}
	*(uint32_t *)phys_to_virt(s->vmcs_pa) = VMX_BASIC_REVISION(vmx_caps.basic);
	s->msr_bitmap = phys_to_virt(s->msr_bitmap_pa);
	if (s->passthrough) {
		msr_bitmap_passthrough(s->msr_bitmap);
	} else {
		s->msr_area = phys_to_virt(s->msr_area_pa);
		msr_bitmap_isolated(s->msr_bitmap, s->msr_area);
	}
	s->eptp = npt_root_pa | EPTP_WB | EPTP_WALK4;
	s->dr6 = DR6_RESET;
	v->vendor = s;
	return 0;
}

/* Free v's backend state. A VMCS that has been current on a CPU may still
 * be cached there (24.11.1): that CPU clears it and frees it the next
 * time it enters a guest (vmx_reap). */
static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *s = v->vendor;
	struct vmx_cpu *vc;

	if (!s)
		return;
	v->vendor = 0;
	if (s->cpu < 0) {
		vmx_vcpu_free(s);
		return;
	}
	vc = cpus[s->cpu].vendor;
	do {
		s->next_doomed = vc->doomed;
	} while (!__atomic_compare_exchange_n(&vc->doomed, &s->next_doomed, s, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Clear and free the VMCSs of destroyed vCPUs last run on this CPU. */
static void vmx_reap(struct vmx_cpu *vc)
{
	struct vmx_vcpu *s = __atomic_exchange_n(&vc->doomed, 0, __ATOMIC_ACQUIRE), *next;

	for (; s; s = next) {
		next = s->next_doomed;
		vmcs_clear(s->vmcs_pa);
		if (vc->current == s)
			vc->current = 0;
		vmx_vcpu_free(s);
	}
}

/* ---- the VMCS ---- */

/* Host state (25.5, 26.2.3): this hypervisor's CPU as it runs now, with
 * the exit landing in vmx_exit_stub on the stack vmx_enter left. */
static void vmcs_write_host(void)
{
	uint16_t sel;

	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CR3, read_cr3());
	vmcs_write(HOST_CR4, read_cr4());
	vmcs_write(HOST_CS_SELECTOR, KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, KERNEL_DS);
	vmcs_write(HOST_ES_SELECTOR, KERNEL_DS);
	__asm__ volatile("mov %%fs, %0" : "=r"(sel));
	vmcs_write(HOST_FS_SELECTOR, sel & ~7u);
	__asm__ volatile("mov %%gs, %0" : "=r"(sel));
	vmcs_write(HOST_GS_SELECTOR, sel & ~7u);
	vmcs_write(HOST_TR_SELECTOR, KERNEL_TSS);
	vmcs_write(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(HOST_TR_BASE, tss_base());
	vmcs_write(HOST_GDTR_BASE, gdt_base());
	vmcs_write(HOST_IDTR_BASE, idt_base());
	vmcs_write(HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(HOST_IA32_PAT, rdmsr(MSR_PAT));
	vmcs_write(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
}

/* Execution, exit and entry controls of s's profile (25.6-25.8). */
static void vmcs_write_controls(struct vmx_vcpu *s)
{
	int p = s->passthrough ? PROFILE_PASSTHROUGH : PROFILE_ISOLATED;

	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin_ctl[p]);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc_ctl[p]);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_caps.proc2_ctl[p]);
	vmcs_write(VM_EXIT_CONTROLS, vmx_caps.exit_ctl);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_caps.entry_ctl);
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(MSR_BITMAP, s->msr_bitmap_pa);
	vmcs_write(EPT_POINTER, s->eptp);
	vmcs_write(CR0_GUEST_HOST_MASK, CR0_MASK_OWNED);
	vmcs_write(CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_write(VMCS_LINK_POINTER, ~0ull);
	if (vmx_caps.proc2_ctl[p] & PROC2_ENABLE_VPID)
		vmcs_write(VMCS_VPID, s->passthrough ? VPID_PASSTHROUGH : VPID_ISOLATED);
	if (vmx_caps.proc2_ctl[p] & PROC2_ENABLE_XSAVES)
		vmcs_write(XSS_EXIT_BITMAP, 0);
	if (!s->passthrough) {
		vmcs_write(VM_ENTRY_MSR_LOAD_ADDR, s->msr_area_pa);
		vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, VMX_GUEST_MSRS);
		vmcs_write(VM_EXIT_MSR_STORE_ADDR, s->msr_area_pa);
		vmcs_write(VM_EXIT_MSR_STORE_COUNT, VMX_GUEST_MSRS);
	}
}

/* The VMCS as this CPU reaches it (vmx_state.c works through this). */
static const struct vmcs_io vmcs_hw = { .read = vmcs_read, .write = vmcs_write };

/* Put v in its start state at its next entry; see virt.h. The registers
 * are common code's and set now. */
static void vmx_vcpu_reset(struct vcpu *v, const struct vcpu_entry_state *st)
{
	struct vmx_vcpu *s = v->vendor;

	s->reset = *st;
	s->reset_pending = true;
	s->load_pending = false;
	s->inject_info = 0;
	s->idt_info = 0;
	s->irq_window = false;
	s->cs_base = st->real_mode ? (uint64_t)st->sipi_vector << 12 : 0;
	s->cs_ar = st->real_mode ? VMX_AR_CODE16 : VMX_AR_CODE32;
	s->ss_ar = st->real_mode ? VMX_AR_DATA16 : VMX_AR_DATA32;
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rflags = RFLAGS_RESERVED1;
	if (!st->real_mode) {
		v->regs.rip = st->rip;
		v->regs.rsi = st->rsi;
	}
}

/* Make s's VMCS current on this CPU, filling it on its first entry.
 * -EINVAL if it was current on another CPU (vCPUs never move), -EIO if
 * the CPU refused it. */
static int vmx_activate(struct vcpu *v, struct vmx_vcpu *s)
{
	struct cpu *c = this_cpu();
	struct vmx_cpu *vc = c->vendor;

	vmx_reap(vc);
	if (s->cpu >= 0 && (uint32_t)s->cpu != c->index) {
		log_err("vCPU %u: its VMCS is active on CPU %d, not CPU %u\n", v->id, s->cpu, c->index);
		return -EINVAL;
	}
	if (s->cpu < 0 && !vmcs_clear(s->vmcs_pa))
		return -EIO;
	if (vc->current != s) {
		if (!vmcs_load(s->vmcs_pa))
			return -EIO;
		vc->current = s;
	}
	s->cpu = (int32_t)c->index;
	if (!s->written) {
		vmcs_write_controls(s);
		s->written = true;
	}
	if (s->host_cpu != (int32_t)c->index) { /* first run, or moved here */
		vmcs_write_host();
		s->host_cpu = (int32_t)c->index;
	}
	return 0;
}

/* v moves to another CPU (sched_move, on the CPU that last ran it). This
 * CPU may keep v's VMCS data cached until a VMCLEAR here writes it back
 * to memory (SDM 24.11.1), after which it is "clear" and must be entered
 * with VMLAUNCH (24.11.3, 26.1). The new CPU then loads it (vmx_activate),
 * writes its own host state (its TSS, GDT and GS base differ), and
 * flushes the guest's EPT and VPID-tagged translations it may hold from
 * an earlier stay (s->flush). A VMCS active on another CPU cannot be
 * cleared from here: sched_move only ever runs on that CPU. */
static void vmx_vcpu_unload(struct vcpu *v)
{
	struct vmx_vcpu *s = v->vendor;
	struct cpu *c = this_cpu();
	struct vmx_cpu *vc = c->vendor;

	if (s->cpu < 0)
		return; /* never entered, or cleared already */
	if ((uint32_t)s->cpu != c->index) {
		log_err("vCPU %u: moved from CPU %u, but its VMCS is active on CPU %d\n", v->id,
			c->index, s->cpu);
		return; /* vmx_activate refuses it on the new CPU: the guest ends */
	}
	vmcs_clear(s->vmcs_pa);
	if (vc->current == s)
		vc->current = 0;
	s->cpu = -1;
	s->launched = false;
	s->flush = true;
}

/* Fill st from v's VMCS, which no CPU holds (sched_flush_lazy unloaded
 * it): this CPU, dom0's, makes it current for the reads, clears it again
 * and makes dom0's own VMCS current again (24.11.1-24.11.3). A vCPU that
 * has not entered since its start or restore gives the state it will
 * start in. 0, or -EBUSY if its VMCS is still on a CPU or refused. */
static int vmx_vcpu_state_get(struct vcpu *v, struct keel_state_vcpu *st)
{
	struct vmx_vcpu *s = v->vendor;
	struct vmx_cpu *vc = this_cpu()->vendor;

	if (s->load_pending || s->reset_pending || !s->written) {
		if (s->load_pending)
			*st = s->load;
		else
			vmx_state_reset(&s->reset, st);
		vcpu_state_regs_get(&v->regs, st);
		vmx_state_event(s, st); /* an interrupt injected since */
		return 0;
	}
	if (s->cpu >= 0) {
		log_err("vCPU %u: its VMCS is still active on CPU %d; it cannot be saved\n", v->id,
			s->cpu);
		return -EBUSY;
	}
	if (!vmcs_load(s->vmcs_pa))
		return -EBUSY;
	vmx_state_read(&vmcs_hw, s, &v->regs, st);
	vmcs_clear(s->vmcs_pa);
	s->launched = false;
	if (vc->current && !vmcs_load(vc->current->vmcs_pa))
		panic("CPU %u: VMPTRLD of its own vCPU's VMCS failed after a save\n",
		      this_cpu()->index);
	return 0;
}

/* Load the checked record st into v: the registers and what the backend
 * keeps beside the VMCS now, the VMCS's fields at v's first entry, where
 * it is current (vmx_apply_pending). An interrupt injected in between
 * (s->inject_info) stays. */
static int vmx_vcpu_state_set(struct vcpu *v, const struct keel_state_vcpu *st)
{
	struct vmx_vcpu *s = v->vendor;
	int rc = vmx_state_check(st);

	if (rc)
		return rc;
	s->load = *st;
	s->load_pending = true;
	s->reset_pending = false;
	vmx_state_load_soft(s, st);
	vcpu_state_regs_set(&v->regs, st);
	return 0;
}

/* ---- events ---- */

/* Queue exception vector for the next entry (25.8.3). Real mode delivers
 * no error code (26.2.1.3). */
void vmx_queue_exception(struct vcpu *v, uint8_t vector, bool has_err, uint32_t err)
{
	struct vmx_vcpu *s = v->vendor;

	if (!(s->cr0 & CR0_PE))
		has_err = false;
	s->inject_info = vector | INTR_TYPE_HW_EXCEPTION | INTR_INFO_VALID |
			 (has_err ? INTR_INFO_ERR_VALID : 0);
	s->inject_err = err;
	s->inject_len = 0;
}

/* The event of the next entry, in priority order: one queued by common
 * code, one the last exit interrupted (IDT-vectoring information,
 * 28.2.4), an NMI to forward to dom0 or queued for a guest once NMIs are
 * not blocked (else the NMI window), and the interrupt window. */
static void vmx_prepare_events(struct vmx_vcpu *s)
{
	struct cpu *c = this_cpu();
	uint32_t proc = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);
	uint32_t block = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY);

	if (!(s->inject_info & INTR_INFO_VALID) && (s->idt_info & INTR_INFO_VALID)) {
		s->inject_info = s->idt_info & ~(0x7FFFFu << 12);
		s->inject_info |= INTR_INFO_VALID;
		s->inject_err = s->idt_err;
		s->inject_len = s->exit_insn_len;
	}
	s->idt_info = 0;
	if (s->passthrough && c->nmi_pending) {
		c->nmi_pending--;
		s->nmi_pending = true;
	}
	proc &= ~(PROC_NMI_WINDOW_EXITING | PROC_INTR_WINDOW_EXITING);
	if (s->nmi_pending && !(s->inject_info & INTR_INFO_VALID) &&
	    !(block & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_STI))) {
		s->inject_info = 2 | INTR_TYPE_NMI | INTR_INFO_VALID;
		s->nmi_pending = false;
	} else if (s->nmi_pending) {
		proc |= PROC_NMI_WINDOW_EXITING;
	}
	if (s->irq_window)
		proc |= PROC_INTR_WINDOW_EXITING;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(VM_ENTRY_INTR_INFO, s->inject_info);
	if (s->inject_info & INTR_INFO_ERR_VALID)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, s->inject_err);
	vmcs_write(VM_ENTRY_INSTRUCTION_LEN, s->inject_len);
	s->inject_info = 0;
}

/* What is pending for v, applied now that its VMCS is current. */
static void vmx_apply_pending(struct vmx_vcpu *s)
{
	if (s->load_pending) { /* s has the rest since vmx_vcpu_state_set */
		s->load_pending = false;
		vmx_state_load_vmcs(&vmcs_hw, &s->load);
	}
	if (s->reset_pending) { /* INIT and power-on clear CR2 too (SDM 10.1.1) */
		s->reset_pending = false;
		vmx_state_reset(&s->reset, &s->load);
		vmx_state_write(&vmcs_hw, s, &s->load);
	}
	if (s->flush) {
		s->flush = false;
		vmx_invept((vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE) ? INVEPT_SINGLE : INVEPT_ALL,
			   s->eptp);
	}
	vmx_prepare_events(s);
}

/* ---- entry and exit ---- */

static const char *const vm_insn_errors[] = {
	[1] = "VMCALL in VMX root operation", [2] = "VMCLEAR with an invalid address",
	[4] = "VMLAUNCH with a non-clear VMCS", [5] = "VMRESUME with a non-launched VMCS",
	[7] = "entry with invalid control fields", [8] = "entry with invalid host-state fields",
	[9] = "VMPTRLD with an invalid address", [11] = "VMPTRLD with a wrong revision",
	[12] = "VMREAD/VMWRITE of an unsupported field",
	[26] = "entry with events blocked by MOV SS",
};

/* VMLAUNCH/VMRESUME failed (VMfailValid, 30.4): say why. */
static void vmx_entry_failed(struct vcpu *v, struct vm_exit *e)
{
	uint32_t err = (uint32_t)vmcs_read(VM_INSTRUCTION_ERROR);
	const char *what = err < ARRAY_SIZE(vm_insn_errors) && vm_insn_errors[err] ?
			   vm_insn_errors[err] : "see SDM vol. 3C, 31.4";

	log_err("vCPU %u: VM entry failed: VM-instruction error %u (%s)\n", v->id, err, what);
	memset(e, 0, sizeof(*e));
	e->reason = VM_EXIT_INVALID;
	e->raw_code = 0x10000u | err;
}

/* Copy what the exit left in the VMCS that other ops may need. */
static void vmx_read_exit(struct vcpu *v, struct vmx_vcpu *s)
{
	v->regs.rip = vmcs_read(GUEST_RIP);
	v->regs.rsp = vmcs_read(GUEST_RSP);
	v->regs.rflags = vmcs_read(GUEST_RFLAGS);
	s->exit_reason = (uint32_t)vmcs_read(VM_EXIT_REASON);
	s->exit_qual = vmcs_read(EXIT_QUALIFICATION);
	s->exit_intr_info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
	s->exit_insn_len = (uint32_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	s->idt_info = (uint32_t)vmcs_read(IDT_VECTORING_INFO);
	s->idt_err = (uint32_t)vmcs_read(IDT_VECTORING_ERROR_CODE);
	s->exit_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	s->cr0 = vmcs_read(GUEST_CR0);
	s->cr3 = vmcs_read(GUEST_CR3);
	s->cr4 = vmcs_read(GUEST_CR4);
	s->efer = vmcs_read(GUEST_IA32_EFER);
	s->cs_base = vmcs_read(GUEST_CS_BASE);
	s->cs_ar = (uint32_t)vmcs_read(GUEST_CS_AR);
	s->ss_ar = (uint32_t)vmcs_read(GUEST_SS_AR);
	s->interruptibility = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY);
}

static uint64_t read_dr6(void)
{
	uint64_t v;

	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void write_dr6(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

/* An isolated vCPU's backstop for the end of its slice: the VMX-
 * preemption timer (25.5.1) set to this CPU's own timer deadline. The
 * host's timer interrupt exits by itself on a CPU, but Bochs masks it
 * while a guest that was entered with IF=0 keeps IF=0 (a Linux kernel
 * decompressing itself), which would let such a guest keep its CPU. */
static void vmx_preempt_arm(void)
{
	uint64_t deadline = this_cpu()->timer_deadline_tsc, now = rdtsc(), ticks = 0;

	if (!(vmx_caps.pin_ctl[PROFILE_ISOLATED] & PIN_PREEMPTION_TIMER))
		return;
	if (deadline > now)
		ticks = (deadline - now) >> vmx_caps.preempt_rate;
	vmcs_write(PREEMPTION_TIMER_VALUE, ticks > 0xFFFFFFFFull ? 0xFFFFFFFFull : ticks);
}

/* The domain's TSC offset into the current VMCS when it changed (SDM
 * 25.3: with "use TSC offsetting", RDTSC and RDTSCP add it). */
static void vmx_sync_tsc_offset(struct vcpu *v, struct vmx_vcpu *s)
{
	uint64_t off = v->tsc_offset;

	if (off != s->tsc_offset || !s->launched) {
		vmcs_write(TSC_OFFSET, off);
		s->tsc_offset = off;
	}
}

/* Run v on this CPU until an exit common code must handle; see virt.h.
 * DR6 is not in the VMCS: an isolated vCPU's is switched here. Nor is
 * CR2 (SDM 27.3 saves and 26.3.2 loads no CR2): every vCPU's is
 * kept in s->cr2 and loaded before each entry, since another vCPU run on
 * this CPU meanwhile leaves its own page faults' addresses there, and a
 * guest that exited between a #PF's delivery and its handler's read of
 * CR2 would read another guest's address. */
static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *s = v->vendor;

	if (vmx_activate(v, s)) {
		memset(e, 0, sizeof(*e));
		e->reason = VM_EXIT_INVALID;
		return;
	}
	for (;;) {
		vmx_apply_pending(s);
		vmcs_write(GUEST_RIP, v->regs.rip);
		vmcs_write(GUEST_RSP, v->regs.rsp);
		vmcs_write(GUEST_RFLAGS, v->regs.rflags);
		if (!s->passthrough) {
			write_dr6(s->dr6);
			vmx_preempt_arm();
			vmx_sync_tsc_offset(v, s);
		}
		if (read_cr2() != s->cr2)
			write_cr2(s->cr2);
		if (vmx_enter(&v->regs, s->launched)) {
			vmx_entry_failed(v, e);
			return;
		}
		v->exit_tsc = rdtsc();
		s->cr2 = read_cr2();
		s->launched = true;
		if (!s->passthrough)
			s->dr6 = read_dr6();
		vmx_read_exit(v, s);
		v->exits++;
		if (vmx_exit_translate(v, e))
			return;
		/* handled here: CR and XSETBV accesses, VMX instructions */
		vcpu_count_backend_exit(v, KEEL_EXIT_OTHER, s->exit_reason);
	}
}

/* ---- small ops ---- */

static bool vmx_vcpu_interruptible(struct vcpu *v)
{
	struct vmx_vcpu *s = v->vendor;

	return (v->regs.rflags & RFLAGS_IF) &&
	       !(s->interruptibility & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !(s->inject_info & INTR_INFO_VALID) && !(s->idt_info & INTR_INFO_VALID);
}

static void vmx_vcpu_inject_irq(struct vcpu *v, uint8_t vector)
{
	struct vmx_vcpu *s = v->vendor;

	s->inject_info = vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID;
	s->inject_len = 0;
}

/* Interrupt-window exiting (25.6.2) exits as soon as the guest can take
 * an interrupt. */
static void vmx_vcpu_request_irq_window(struct vcpu *v, bool on)
{
	((struct vmx_vcpu *)v->vendor)->irq_window = on;
}

static void vmx_vcpu_inject_nmi(struct vcpu *v)
{
	((struct vmx_vcpu *)v->vendor)->nmi_pending = true;
}

static bool vmx_vcpu_if_set(struct vcpu *v)
{
	return (v->regs.rflags & RFLAGS_IF) != 0;
}

static void vmx_vcpu_paging_state(struct vcpu *v, struct vcpu_paging_state *ps)
{
	struct vmx_vcpu *s = v->vendor;

	ps->cr0 = s->cr0;
	ps->cr3 = s->cr3;
	ps->cr4 = s->cr4 & ~CR4_VMXE;
	ps->efer = s->efer;
	ps->cs_base = s->cs_base;
	ps->cs_long = (s->cs_ar >> 13) & 1;
	ps->cs_db = (s->cs_ar >> 14) & 1;
}

/* The CPL is SS.DPL (25.4.1). */
static uint32_t vmx_vcpu_cpl(struct vcpu *v)
{
	return VMX_AR_DPL(((struct vmx_vcpu *)v->vendor)->ss_ar);
}

static void vmx_vcpu_flush_npt(struct vcpu *v)
{
	((struct vmx_vcpu *)v->vendor)->flush = true;
}

static void vmx_vcpu_dump(struct vcpu *v)
{
	struct vmx_vcpu *s = v->vendor;

	log_err("  exit reason %#x qualification %#llx intr %#x idt-vectoring %#x GPA %#llx\n",
		s->exit_reason, (unsigned long long)s->exit_qual, s->exit_intr_info,
		s->idt_info, (unsigned long long)s->exit_gpa);
	log_err("  RIP %016llx RSP %016llx RFLAGS %08llx CS.ar %#x SS.ar %#x\n",
		(unsigned long long)v->regs.rip, (unsigned long long)v->regs.rsp,
		(unsigned long long)v->regs.rflags, s->cs_ar, s->ss_ar);
	log_err("  CR0 %08llx CR3 %016llx CR4 %08llx EFER %08llx\n",
		(unsigned long long)s->cr0, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->efer);
	vcpu_dump_gprs(v);
}

static struct virt_ops vmx_ops = {
	.name = "vmx",
	.backend = KEEL_BACKEND_VMX,
	.cpu_enable = vmx_cpu_enable,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vcpu_own_bytes = vmx_vcpu_own_bytes,
	.vcpu_interruptible = vmx_vcpu_interruptible,
	.vcpu_inject_irq = vmx_vcpu_inject_irq,
	.vcpu_request_irq_window = vmx_vcpu_request_irq_window,
	.vcpu_inject_nmi = vmx_vcpu_inject_nmi,
	.vcpu_if_set = vmx_vcpu_if_set,
	.vcpu_paging_state = vmx_vcpu_paging_state,
	.vcpu_reset = vmx_vcpu_reset,
	.vcpu_run = vmx_vcpu_run,
	.vcpu_cpl = vmx_vcpu_cpl,
	.vcpu_inject_exception = vmx_queue_exception,
	.vcpu_flush_npt = vmx_vcpu_flush_npt,
	.vcpu_unload = vmx_vcpu_unload,
	.vcpu_dump = vmx_vcpu_dump,
	.vcpu_state_get = vmx_vcpu_state_get,
	.vcpu_state_set = vmx_vcpu_state_set,
	.npt_flags_rwx = 0x7, /* EPT R, W, X (29.3.2); tables take the same */
	.npt_flags_ro = 0x5,  /* R, X */
	.npt_page_shift_max = 21,
	.npt_mem_run = vmx_ept_mem_run,
};

/* ---- probe ---- */

/* The capability MSR of a control: its TRUE_ form where the CPU has it
 * (A.2). */
static uint64_t cap_msr(uint32_t plain, uint32_t true_msr)
{
	return (vmx_caps.basic & VMX_BASIC_TRUE_CTLS) ? rdmsr(true_msr) : rdmsr(plain);
}

/* Controls the backend needs (required) and would like (optional) for
 * each profile; the CPU's forced bits must be ones it can handle. */
#define PIN_PASSTHROUGH (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)
#define PIN_ISOLATED (PIN_PASSTHROUGH | PIN_EXT_INTR_EXITING)
#define PROC_PASSTHROUGH (PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS)
#define PROC_ISOLATED (PROC_PASSTHROUGH | PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | \
		       PROC_USE_TSC_OFFSETTING | \
		       PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_RDPMC_EXITING | \
		       PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING)
#define PROC_DYNAMIC (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)
/* Exits that a CPU could force (their "default1" class, A.3.2) which the
 * backend has no handler for. */
#define PROC_UNHANDLED (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_INVLPG_EXITING | \
			PROC_RDTSC_EXITING | PROC_MOV_DR_EXITING | PROC_TPR_SHADOW | \
			PROC_MONITOR_TRAP_FLAG | PROC_PAUSE_EXITING | PROC_USE_IO_BITMAPS)
#define PROC2_REQUIRED (PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST)
#define PROC2_OPTIONAL (PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | \
			PROC2_ENABLE_XSAVES)
#define EXIT_WANT (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_PAT | EXIT_LOAD_PAT | \
		   EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG_CONTROLS)
#define ENTRY_WANT (ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS)

/* Name the first missing control bit for the reason. */
static int need(uint32_t missing, const char *what, char *why, uint32_t why_len)
{
	if (!missing)
		return 0;
	ksnprintf(why, why_len, "the CPU's VT-x lacks %s (control bits %#x)", what, missing);
	return -ENOSYS;
}

/* Compute both profiles' controls. 0, or -ENOSYS naming what is missing. */
static int vmx_controls(char *why, uint32_t why_len)
{
	uint32_t p2 = (uint32_t)(vmx_caps.proc2 >> 32) & PROC2_OPTIONAL;
	int i, rc = 0;

	for (i = 0; i < 2 && !rc; i++) {
		uint32_t pin = i ? PIN_ISOLATED : PIN_PASSTHROUGH;
		uint32_t proc = i ? PROC_ISOLATED : PROC_PASSTHROUGH;
		uint32_t proc2 = PROC2_REQUIRED | p2 | (i ? PROC2_WBINVD_EXITING : 0);

		rc = need(vmx_ctl_adjust(vmx_caps.pin, pin, &vmx_caps.pin_ctl[i]),
			  "NMI exiting, virtual NMIs or external-interrupt exiting", why, why_len);
		if (i == PROFILE_ISOLATED && (vmx_caps.pin >> 32 & PIN_PREEMPTION_TIMER))
			vmx_caps.pin_ctl[i] |= PIN_PREEMPTION_TIMER;
		if (!rc)
			rc = need(vmx_ctl_adjust(vmx_caps.proc, proc | PROC_DYNAMIC, &vmx_caps.proc_ctl[i]),
				  "a primary execution control it needs", why, why_len);
		if (!rc)
			rc = need(vmx_ctl_forced(vmx_caps.proc, proc | PROC_DYNAMIC) & PROC_UNHANDLED,
				  "a way to turn off an exit the backend does not handle", why, why_len);
		vmx_caps.proc_ctl[i] &= ~PROC_DYNAMIC;
		if (!rc)
			rc = need(vmx_ctl_adjust(vmx_caps.proc2, proc2, &vmx_caps.proc2_ctl[i]) &
				  (PROC2_REQUIRED | PROC2_WBINVD_EXITING),
				  "EPT or unrestricted guest mode", why, why_len);
	}
	if (!rc)
		rc = need(vmx_ctl_adjust(vmx_caps.exit, EXIT_WANT, &vmx_caps.exit_ctl),
			  "a VM-exit control it needs (64-bit host, PAT/EFER switching)", why, why_len);
	if (!rc)
		rc = need(vmx_ctl_adjust(vmx_caps.entry, ENTRY_WANT | ENTRY_IA32E_MODE_GUEST,
					 &vmx_caps.entry_ctl),
			  "a VM-entry control it needs (64-bit guests, PAT/EFER switching)", why, why_len);
	vmx_caps.entry_ctl &= ~ENTRY_IA32E_MODE_GUEST;
	return rc;
}

static uint32_t vmx_features(void)
{
	uint32_t f = KEEL_FEAT_NPT | KEEL_FEAT_UNRESTRICTED_GUEST; /* both required */

	f |= (vmx_caps.proc2_ctl[0] & PROC2_ENABLE_VPID) ? KEEL_FEAT_VPID : 0;
	f |= arch_cpu_has_x2apic() ? KEEL_FEAT_X2APIC : 0;
	f |= arch_cpu_has_invariant_tsc() ? KEEL_FEAT_TSC_INVARIANT : 0;
	return f;
}

/* Read the capability MSRs (appendix A) and check EPT's (A.10). */
static int vmx_read_caps(char *why, uint32_t why_len)
{
	vmx_caps.basic = rdmsr(MSR_VMX_BASIC);
	vmx_caps.pin = cap_msr(MSR_VMX_PINBASED_CTLS, MSR_VMX_TRUE_PINBASED_CTLS);
	vmx_caps.proc = cap_msr(MSR_VMX_PROCBASED_CTLS, MSR_VMX_TRUE_PROCBASED_CTLS);
	vmx_caps.exit = cap_msr(MSR_VMX_EXIT_CTLS, MSR_VMX_TRUE_EXIT_CTLS);
	vmx_caps.entry = cap_msr(MSR_VMX_ENTRY_CTLS, MSR_VMX_TRUE_ENTRY_CTLS);
	vmx_caps.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	vmx_caps.preempt_rate = VMX_MISC_PREEMPT_RATE(rdmsr(MSR_VMX_MISC));
	if (!(vmx_caps.proc >> 32 & PROC_SECONDARY_CONTROLS)) {
		ksnprintf(why, why_len, "the CPU's VT-x has no EPT (no secondary controls)");
		return -ENOSYS;
	}
	vmx_caps.proc2 = rdmsr(MSR_VMX_PROCBASED_CTLS2);
	if (vmx_caps.basic & VMX_BASIC_32BIT_ADDR) {
		ksnprintf(why, why_len, "the CPU's VT-x takes only 32-bit addresses");
		return -ENOSYS;
	}
	if (!(vmx_caps.proc2 >> 32 & PROC2_ENABLE_EPT)) {
		ksnprintf(why, why_len, "the CPU's VT-x has no EPT (extended page tables, "
			  "Intel CPUs from 2008 on)");
		return -ENOSYS;
	}
	if (!(vmx_caps.proc2 >> 32 & PROC2_UNRESTRICTED_GUEST)) {
		ksnprintf(why, why_len, "the CPU's VT-x has no unrestricted guest mode (Intel CPUs "
			  "from 2010 on), which dom0 and guests need to start without paging");
		return -ENOSYS;
	}
	vmx_caps.ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	if ((vmx_caps.ept_vpid & (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT)) !=
	    (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT) ||
	    !(vmx_caps.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		ksnprintf(why, why_len, "the CPU's VT-x has no usable EPT (4-level, write-back, "
			  "2 MiB pages and INVEPT are needed; capabilities %#llx)",
			  (unsigned long long)vmx_caps.ept_vpid);
		return -ENOSYS;
	}
	return 0;
}

/*
 * Check that this CPU offers Intel VT-x with EPT and unrestricted guest
 * mode, enabled by the firmware. Return 0 with *ops set, or -ENOSYS with
 * a reason in why.
 */
int vmx_probe(const struct virt_ops **ops, char *why, uint32_t why_len)
{
	struct cpuid_regs r;
	uint64_t fc;
	int rc;

	cpuid_count(1, 0, &r);
	if (!(r.ecx & CPUID_1_ECX_VMX)) {
		ksnprintf(why, why_len, "the CPU has no Intel VT-x (VMX)");
		return -ENOSYS;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		ksnprintf(why, why_len, "Intel VT-x is disabled by the firmware; enable \"Intel "
			  "Virtualization Technology\" (VT-x) in the BIOS setup");
		return -ENOSYS;
	}
	rc = vmx_read_caps(why, why_len);
	if (!rc)
		rc = vmx_controls(why, why_len);
	if (rc)
		return rc;
	vmx_ept_init();
	if (vmx_caps.ept_vpid & EPT_CAP_1G)
		vmx_ops.npt_page_shift_max = 30;
	vmx_ops.features = vmx_features();
	*ops = &vmx_ops;
	return 0;
}
