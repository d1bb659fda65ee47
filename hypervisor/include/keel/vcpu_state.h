/*
 * The format rules of the vendor-neutral vCPU record of save/restore
 * (struct keel_state_vcpu, docs/save-restore.md), shared by the AMD-V and
 * VT-x backends, which each convert the record to and from their own
 * control block. Pure code.
 */
#ifndef KEEL_VCPU_STATE_H
#define KEEL_VCPU_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <keel/vcpu.h>
#include <public/keel_abi.h>

/* A pending event's type (record bits 10:8), as in both the APM's EVENTINJ
 * (15.20) and the SDM's VM-entry interruption information (24.8.3). */
#define VCPU_STATE_EVENT_TYPE_MASK (7u << 8)
#define VCPU_STATE_EVENT_INTR (0u << 8)
#define VCPU_STATE_EVENT_NMI (2u << 8)
#define VCPU_STATE_EVENT_EXC (3u << 8)
#define VCPU_STATE_EVENT_SWINT (4u << 8)
#define VCPU_STATE_EVENT_BITS (KEEL_STATE_EVENT_VALID | KEEL_STATE_EVENT_ERR | \
			       VCPU_STATE_EVENT_TYPE_MASK | 0xFFu)
/* Segment access-rights bits a record may hold (SDM vol. 3C, 24.4.1). */
#define VCPU_STATE_SEG_AR_BITS (0xFFu | 0xF000u | KEEL_STATE_SEG_UNUSABLE)

/*
 * True if st holds only what its format allows: 16-bit selectors, known
 * segment attribute bits, 16-bit descriptor-table limits, a pending
 * event's type one of external interrupt, NMI, exception or software
 * interrupt, 0/1 flags and reserved fields 0. What only the CPU can judge
 * (a consistent segment set, canonical addresses) is left to the entry.
 */
bool vcpu_state_ok(const struct keel_state_vcpu *st);

/* Copy the general registers, RIP and RFLAGS from r into st (GPRs in the
 * ModRM order of the record), and from st into r. */
void vcpu_state_regs_get(const struct guest_regs *r, struct keel_state_vcpu *st);
void vcpu_state_regs_set(struct guest_regs *r, const struct keel_state_vcpu *st);

#endif
