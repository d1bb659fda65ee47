/*
 * The generic VM exit handler (common/exit.c).
 */
#ifndef KEEL_EXIT_H
#define KEEL_EXIT_H

#include <keel/vcpu.h>

/* Handle exit e of vCPU v: emulate, update v's registers, or end the
 * domain. Returns when v can run again (or has been stopped). */
void vcpu_handle_exit(struct vcpu *v, const struct vm_exit *e);

#endif
