/*
 * Dom0's policy for the model-specific configuration MSRs that a core's
 * SMT siblings share (AMD's *_CFG registers: LS_CFG, DE_CFG, BU_CFG2 and
 * their kin; see the AMD PPRs/BKDGs of families 10h-19h, "MSRC001_102x").
 * Dom0 may set their bits, which is what Linux's errata workarounds and
 * speculation mitigations do (LFENCE made dispatch-serialising, SSBD on
 * older cores, the Zen chicken bits), but it may not clear a bit that is
 * set: on a machine with SMT the sibling of a dom0 CPU runs guests, and a
 * cleared bit would weaken the barriers they run behind. Also which
 * values the PAT MSR takes: dom0's and guests' PAT is their G_PAT, never
 * the host's. Pure logic, so that the host unit tests can check it.
 */
#ifndef KEEL_MSR_POLICY_H
#define KEEL_MSR_POLICY_H

#include <stdint.h>
#include <stdbool.h>

/* The name of msr if it is one of the shared configuration MSRs that dom0
 * may only set bits in, or NULL for any other MSR. */
const char *msr_policy_shared_cfg(uint32_t msr);

/* The value that dom0's WRMSR of val to a shared configuration MSR whose
 * current value is cur really writes: val with every bit of cur kept set. */
uint64_t msr_policy_shared_cfg_write(uint64_t cur, uint64_t val);

/* Whether pat is a value the PAT MSR takes: every entry one of the memory
 * types UC, WC, WT, WP, WB, UC- (0, 1, 4, 5, 6, 7) with its reserved bits
 * clear (AMD APM vol. 2, 7.8.1 "PAT Register"; Intel SDM vol. 3A,
 * 12.12.2 "IA32_PAT MSR"). Any other value is a #GP. */
bool msr_policy_pat_valid(uint64_t pat);

/* Whether XSETBV may load xcr0 into XCR0 on a CPU whose XSAVE components
 * are supported (Intel SDM vol. 1, 13.3 "Enabling the XSAVE Feature Set";
 * XSETBV in vol. 2C): x87 always on, nothing the CPU lacks, AVX only with
 * SSE, the AVX-512 trio together and only with AVX, MPX's pair together.
 * Anything else is a #GP. VT-x traps every XSETBV; its backend checks
 * with this before loading a guest's value. */
bool msr_policy_xcr0_valid(uint64_t xcr0, uint64_t supported);

#endif
