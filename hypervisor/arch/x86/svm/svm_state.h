/*
 * Conversion between a VMCB (with the registers the SVM backend keeps
 * beside it) and the vendor-neutral vCPU record of save/restore, clone and
 * migration (struct keel_state_vcpu, docs/save-restore.md). Pure code.
 */
#ifndef SVM_STATE_H
#define SVM_STATE_H

#include <keel/vcpu.h>
#include <public/keel_abi.h>

#include "vmcb.h"

void svm_state_get(const struct vmcb *vm, const struct guest_regs *r,
		   struct keel_state_vcpu *st);
int svm_state_set(struct vmcb *vm, struct guest_regs *r, const struct keel_state_vcpu *st);

#endif
