/*
 * The vCPU run loop shared by all kinds of domain (common/vcpu_loop.c).
 */
#ifndef KEEL_VCPU_LOOP_H
#define KEEL_VCPU_LOOP_H

#include <stdint.h>
#include <keel/vcpu.h>

/* Run v on the calling CPU until slice_end_tsc (0: no end) or until its
 * domain's enter hook says it cannot run now. Returns then; a vCPU whose
 * kind never stops it (dom0's) runs here for good. */
void vcpu_loop_run(struct vcpu *v, uint64_t slice_end_tsc);

struct domain;

/* After a change to d's nested page table that needs every vCPU's TLB
 * flushed (a chunk now at another host address): kick d's vCPUs out of
 * guest mode and have each flush before it enters again. Returns 0, or
 * -EBUSY if one stayed in guest mode for timeout_ns. */
int vcpu_loop_sync_npt(struct domain *d, uint64_t timeout_ns);

#endif
