/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the parts of keel.ko: main.c (detection, ABI
 * check, /dev/keel) and net.c (keel0, dom0's port on the virtual switch).
 */
#ifndef KEEL_DRV_H
#define KEEL_DRV_H

#include <linux/types.h>

/*
 * Make hypercall @op with the argument buffer at physical address @arg_pa
 * (@arg_size bytes, physically contiguous). Returns the hypervisor's RAX:
 * 0 or a positive result, or -KEEL_E* (the same values as Linux's errno).
 */
s64 keel_hc_call(u64 op, u64 arg_pa, u64 arg_size);

/* Create and register keel0. Returns 0 or -errno. */
int keel_net_init(void);

/* Unregister and free keel0, if keel_net_init created it. */
void keel_net_exit(void);

#endif /* KEEL_DRV_H */
