/*
 * Pure rules of the VMX capability MSRs (Intel SDM vol. 3D, appendix A):
 * which control bits a CPU lets us set or clear, and the bits CR0 and CR4
 * must have in VMX operation. No hardware access, so that the host unit
 * tests check them (tests/unit/test_vmx_caps.c).
 */
#ifndef VMX_CAPS_H
#define VMX_CAPS_H

#include <stdint.h>

/*
 * The value of a VM-execution, VM-exit or VM-entry control field that has
 * the bits of want, given its capability MSR cap (A.3-A.5: bits 31:0 are
 * the allowed 0-settings, a 1 there means the control must be 1; bits
 * 63:32 the allowed 1-settings, a 0 there means it must be 0): want plus
 * every bit the CPU insists on, in *out. Returns the bits of want the CPU
 * cannot set (0 when all of them can).
 */
uint32_t vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t *out);

/* The bits of a control value that the CPU forces to 1 although the
 * caller did not ask for them: (cap's allowed-0 settings) & ~want. */
uint32_t vmx_ctl_forced(uint64_t cap, uint32_t want);

/*
 * A CR0 or CR4 value valid in VMX operation (A.7, A.8): val with the
 * bits fixed0 has set forced to 1 and those fixed1 has clear forced to 0,
 * except the bits in relaxed (CR0.PE and CR0.PG for an unrestricted
 * guest, 25.6.2), which keep val's setting.
 */
uint64_t vmx_cr_fixed(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t relaxed);

/* The guest-state fields the entry checks look at (SDM vol. 3C, 26.3.1),
 * as read from a VMCS whose entry failed. Segment access rights in the
 * VMCS format (25.4.1). */
struct vmx_guest_state {
	uint64_t cr0, cr4, efer, rflags, rip, link;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint32_t cs_ar, ss_ar, tr_ar, cs_limit, ss_limit, tr_limit;
	uint32_t interruptibility, activity, entry_ctls, entry_intr_info;
	int unrestricted; /* unrestricted guest is on */
};

/*
 * Which of the checks of SDM vol. 3C, 26.3.1 ("Checks on the Guest State
 * Area") g fails first, named by field and rule, e.g. "GUEST_CR0: PG
 * without PE"; NULL if it passes all of those checked here (the control
 * registers, EFER, RFLAGS, RIP, CS, SS, TR, the interruptibility and
 * activity states, the VMCS link pointer, and an injected event's
 * preconditions). For the log of a failed VM entry.
 */
const char *vmx_guest_state_problem(const struct vmx_guest_state *g);

#endif
