/*
 * The generic VM exit handler (common/exit.c).
 */
#ifndef KEEL_EXIT_H
#define KEEL_EXIT_H

#include <keel/vcpu.h>

/* Handle exit e of vCPU v: emulate, update v's registers, or end the
 * domain, and count it in the domain's exit profile with the time from
 * v->exit_tsc. Returns when v can run again (or has been stopped). */
void vcpu_handle_exit(struct vcpu *v, const struct vm_exit *e);

/* Count in v's domain's exit profile an exit the backend handled by
 * itself (kind KEEL_EXIT_*, detail as keel_abi.h says), from v->exit_tsc
 * until now. For backends, which see such exits before common code. */
void vcpu_count_backend_exit(struct vcpu *v, uint32_t kind, uint32_t detail);

#endif
