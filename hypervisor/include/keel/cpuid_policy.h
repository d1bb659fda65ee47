/*
 * What CPUID tells a domain. The hypervisor runs the real instruction and
 * then applies the policy: its own leaves at 0x40000000, the hypervisor
 * bit, and hardware virtualization hidden.
 */
#ifndef KEEL_CPUID_POLICY_H
#define KEEL_CPUID_POLICY_H

#include <stdint.h>
#include <stdbool.h>

struct cpuid_out {
	uint32_t eax, ebx, ecx, edx;
};

/*
 * Adjust out (the hardware's answer for leaf/subleaf) to what dom0 may see.
 * hv_version is reported in leaf 0x40000001. dom0_cr4 is dom0's own CR4:
 * the OSXSAVE and OSPKE bits mirror it (SDM vol. 2A, CPUID), not the CR4
 * the hypervisor runs with where it executes CPUID. Pure: no hardware
 * access.
 */
void cpuid_policy_dom0(uint32_t leaf, uint32_t subleaf, uint64_t dom0_cr4,
		       uint32_t hv_version, struct cpuid_out *out);

/*
 * Adjust out (the hardware's answer) to what a guest vCPU may see on the
 * minimal virtual PC: its APIC id, one core per package, TSC-deadline and
 * ARAT, invariant TSC, and no MTRR, x2APIC, MONITOR, PMU, topology leaves,
 * SVM/VMX or memory encryption. guest_cr4 gives the OSXSAVE bit. Pure.
 */
void cpuid_policy_guest(uint32_t leaf, uint32_t subleaf, uint32_t vcpu_id,
			uint64_t guest_cr4, uint32_t hv_version, struct cpuid_out *out);

/*
 * Hide the TSC frequency leaves where they contradict the TSC rate the
 * hypervisor measured at boot (SDM vol. 2A, CPUID leaves 15H and 16H): leaf
 * 0x15's crystal times its ratio, or leaf 0x16's base frequency, more than
 * 5 % away from measured_tsc_khz. A zeroed leaf means "not enumerated", so
 * Linux calibrates its TSC and LAPIC timer against the PIT instead of
 * trusting a rate that is wrong (emulators such as Bochs report a real
 * CPU's 3.5 GHz while their TSC counts instructions). Leaves that agree,
 * every other leaf, and every leaf when measured_tsc_khz is 0 (not
 * measured) are left as they are. Pure.
 */
void cpuid_policy_tsc(uint32_t leaf, uint64_t measured_tsc_khz, struct cpuid_out *out);

#endif
