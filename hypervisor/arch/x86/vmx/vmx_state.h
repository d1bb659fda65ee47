/*
 * Conversion between a VMCS (with the state the VMX backend keeps beside
 * it in struct vmx_vcpu) and the vendor-neutral vCPU record of
 * save/restore (struct keel_state_vcpu, docs/save-restore.md), and the
 * record of a vCPU's start state, which vCPU resets load the same way.
 * The VMCS is reached through struct vmcs_io, so that the host unit tests
 * run it on a VMCS kept in an array (tests/unit/test_vmx_state.c).
 */
#ifndef VMX_STATE_H
#define VMX_STATE_H

#include <keel/vcpu.h>
#include <public/keel_abi.h>

#include "vmx_priv.h"

/* Access to the current VMCS: VMREAD and VMWRITE in the hypervisor. */
struct vmcs_io {
	uint64_t (*read)(uint64_t field);
	bool (*write)(uint64_t field, uint64_t val);
};

/* The CR0 and CR4 a VM entry loads for the guest-visible val: the fixed
 * bits of vmx_caps applied, PE and PG left to the guest (unrestricted
 * guest, SDM vol. 3C 25.6.2; vol. 3D A.7, A.8). */
uint64_t vmx_guest_cr0(uint64_t val);
uint64_t vmx_guest_cr4(uint64_t val);

/*
 * The record of the start state e (Linux's 32-bit boot entry or, for
 * e->real_mode, an AP after INIT-SIPI; SDM vol. 3A 9.1.1, 10.4.4.1) into
 * st, registers other than those e sets 0.
 */
void vmx_state_reset(const struct vcpu_entry_state *e, struct keel_state_vcpu *st);

/*
 * Fill st from the current VMCS (io), the state s keeps beside it (CR2,
 * DR6, the switched MSRs, an event the last exit interrupted or one
 * queued) and the registers r. A software interrupt or exception being
 * delivered is not kept: its instruction is where RIP points, and runs
 * again (SDM vol. 3C 28.2.4).
 */
void vmx_state_read(const struct vmcs_io *io, const struct vmx_vcpu *s,
		    const struct guest_regs *r, struct keel_state_vcpu *st);

/*
 * Set st's pending event from s: one the last exit interrupted, else one
 * queued for the next entry; external interrupts, NMIs and exceptions
 * only (software ones run again from their instruction). None: 0.
 */
void vmx_state_event(const struct vmx_vcpu *s, struct keel_state_vcpu *st);

/*
 * 0 if st can be loaded on VT-x: its format is right (vcpu_state_ok), its
 * pending event is no software interrupt, which VT-x could only inject
 * with the instruction's length, its CR0 and CR4 are ones VMX operation
 * allows a guest (no VMXE; the fixed bits as they must be, except those
 * the backend owns) and it passes the VM-entry checks of
 * vmx_guest_state_problem; else -EINVAL.
 */
int vmx_state_check(const struct keel_state_vcpu *st);

/*
 * Load the checked record st in two parts. vmx_state_load_soft: what s
 * keeps beside the VMCS (the switched MSRs, CR2, DR6, the event to
 * inject, the interruptibility and the fields cached for the other ops),
 * at once on any CPU, so that an interrupt injected before the vCPU's
 * first entry is not lost. vmx_state_load_vmcs: every guest-state field
 * of the current VMCS (io) and IA-32e mode in the VM-entry controls, at
 * that entry. vmx_state_write does both. Registers are the caller's
 * (v->regs).
 */
void vmx_state_load_soft(struct vmx_vcpu *s, const struct keel_state_vcpu *st);
void vmx_state_load_vmcs(const struct vmcs_io *io, const struct keel_state_vcpu *st);
void vmx_state_write(const struct vmcs_io *io, struct vmx_vcpu *s,
		     const struct keel_state_vcpu *st);

#endif
