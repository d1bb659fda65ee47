/*
 * Single point where the toolstack pulls in the public hypercall ABI
 * (hypervisor/include/public/keel_abi.h). The path is relative to this file
 * so that code which #includes toolstack sources from elsewhere (the host
 * unit tests in tests/unit) finds the header without extra -I flags; the
 * toolstack Makefile still passes -I../hypervisor/include/public.
 */
#ifndef KEEL_TOOLSTACK_ABI_H
#define KEEL_TOOLSTACK_ABI_H

#include "../hypervisor/include/public/keel_abi.h"

#endif /* KEEL_TOOLSTACK_ABI_H */
