/*
 * State shared by the files of the VMX backend (vmx.c: CPUs, vCPUs, the
 * VMCS and entry; vmx_exit.c: exits; vmx_ept.c: EPT memory types). Only
 * arch/x86/vmx/ includes it.
 */
#ifndef VMX_PRIV_H
#define VMX_PRIV_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/vcpu.h>
#include <keel/virt.h>
#include <public/keel_abi.h>

/* What the CPU allows, read once at probe (SDM vol. 3D, appendix A). */
struct vmx_caps {
	uint64_t basic;
	uint64_t pin, proc, proc2, exit, entry; /* the TRUE_* MSRs where there are */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
	uint32_t preempt_rate;    /* VMX-preemption timer: 2^rate TSC cycles a tick */
	/* Control values for each profile, computed at probe. */
	uint32_t pin_ctl[2], proc_ctl[2], proc2_ctl[2];
	uint32_t exit_ctl, entry_ctl;
};

extern struct vmx_caps vmx_caps;

/* An entry of a VM-entry MSR-load / VM-exit MSR-store area (25.7.2). */
struct vmx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

#define VMX_GUEST_MSRS 5 /* STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE */

/* Those MSRs in the order of an isolated vCPU's MSR area, which is both
 * its VM-entry MSR-load and VM-exit MSR-store area (vmx_state.c). */
extern const uint32_t vmx_guest_msr_order[VMX_GUEST_MSRS];

/* The CR0 bits the backend owns: the guest's writes of them exit
 * (vmx_exit.c) and it reads them from the read shadow (25.6.6). */
#define CR0_MASK_OWNED ((1ull << 0) | (1ull << 31) | (1ull << 5)) /* PE, PG, NE */
#define DR6_RESET 0xFFFF0FF0ull /* DR6 at power-on and INIT (SDM vol. 3B, 18.2.3) */

/* The backend's state of one vCPU. */
struct vmx_vcpu {
	uint64_t vmcs_pa, msr_bitmap_pa, msr_area_pa, state_pa;
	uint8_t *msr_bitmap;
	struct vmx_msr_entry *msr_area;  /* isolated vCPUs only */
	uint64_t eptp;
	enum vcpu_profile profile;
	bool passthrough;
	bool launched;        /* VMLAUNCH done: VMRESUME next */
	bool written;         /* controls and host state are in the VMCS */
	int32_t cpu;          /* CPU whose VMCS pointer it may be, -1 if none yet
			       * or cleared for a move (vmx_vcpu_unload) */
	int32_t host_cpu;     /* CPU whose host state the VMCS holds, -1 if none */
	struct vmx_vcpu *next_doomed; /* on its CPU's list of VMCSs to clear and free */
	/* Set from any CPU, applied at the next entry on its own: */
	bool reset_pending;
	struct vcpu_entry_state reset;
	bool load_pending;    /* a restored state waits in load (vmx_state.h) */
	struct keel_state_vcpu load; /* also scratch for a reset's record */
	uint32_t inject_info, inject_err, inject_len;
	bool nmi_pending, irq_window, flush;
	uint64_t tsc_offset;  /* in the VMCS's TSC_OFFSET (isolated vCPUs) */
	/* Read at each exit, for the other ops (which may run elsewhere): */
	uint64_t cr0, cr3, cr4, efer, cs_base;
	uint32_t cs_ar, ss_ar, interruptibility;
	uint32_t exit_reason, exit_intr_info, exit_insn_len, idt_info, idt_err;
	uint64_t exit_qual, exit_gpa;
	/* Guest state the backend keeps itself: */
	uint64_t dr6, cr8;
	uint64_t cr2;         /* not in the VMCS: switched around each entry */
};

/* Translate the exit just taken by v into e; false if it was handled
 * here and v should enter again (vmx_exit.c). */
bool vmx_exit_translate(struct vcpu *v, struct vm_exit *e);

/* Queue hardware exception vector for v's next entry (vmx.c). */
void vmx_queue_exception(struct vcpu *v, uint8_t vector, bool has_err, uint32_t err);

/* EPT memory type of a host-physical run (vmx_ept.c), for virt_ops. */
void vmx_ept_init(void);
uint64_t vmx_ept_mem_run(uint64_t hpa, uint64_t size, uint64_t *flags);

#endif
