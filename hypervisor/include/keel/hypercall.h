/*
 * Hypercall dispatch (ABI in include/public/keel_abi.h).
 */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <stdint.h>

struct vcpu;

/* Perform the hypercall in v's registers; return the value for RAX. */
int64_t hypercall_dispatch(struct vcpu *v);

#endif
