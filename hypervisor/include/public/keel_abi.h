/*
 * Keel public hypercall ABI, shared by the hypervisor, the dom0 driver
 * (dom0-rootfs/driver) and the toolstack (toolstack/). Everything here is
 * fixed-width and naturally aligned so that one header serves a
 * freestanding hypervisor, a Linux kernel module and a user-space program.
 * The ABI is versioned: KEEL_ABI_MAJOR changes on any incompatible change,
 * KEEL_ABI_MINOR when calls or trailing fields are added. docs/hypercalls.md
 * is the prose reference.
 */
#ifndef KEEL_PUBLIC_ABI_H
#define KEEL_PUBLIC_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef __u8 keel_u8;
typedef __u32 keel_u32;
typedef __u64 keel_u64;
typedef __s64 keel_s64;
#include <linux/ioctl.h>
#else
#include <stdint.h>
#ifndef KEEL_HYPERVISOR
#include <linux/ioctl.h>
#endif
typedef uint8_t keel_u8;
typedef uint32_t keel_u32;
typedef uint64_t keel_u64;
typedef int64_t keel_s64;
#endif

#define KEEL_ABI_MAJOR 1
#define KEEL_ABI_MINOR 0
#define KEEL_ABI_VERSION ((KEEL_ABI_MAJOR << 16) | KEEL_ABI_MINOR)

/*
 * CPUID leaves that the hypervisor answers for its guests.
 * 0x40000000: EAX = highest Keel leaf, EBX:ECX:EDX = "KeelKeelKeel".
 * 0x40000001: EAX = hypervisor version (major << 16 | minor << 8 | patch),
 *             EBX = KEEL_ABI_VERSION.
 */
#define KEEL_CPUID_BASE 0x40000000u
#define KEEL_CPUID_VERSION 0x40000001u
#define KEEL_CPUID_SIGNATURE "KeelKeelKeel"

/*
 * Calling convention. The caller executes VMMCALL (AMD) or VMCALL (Intel)
 * with:
 *   RAX = call number (KEEL_HC_*)
 *   RDI = guest-physical address of the argument buffer (or 0)
 *   RSI = size of the argument buffer in bytes
 * and gets back in RAX 0 or a negative errno value (KEEL_E*), unless a call
 * says otherwise. Calls marked "privileged" are refused with -KEEL_EPERM
 * unless they come from dom0 at CPL 0 (the dom0 driver). The buffer must lie
 * wholly inside the caller's RAM, else -KEEL_EFAULT.
 */
#define KEEL_HC_VERSION 0u /* unprivileged; RAX = KEEL_ABI_VERSION */
#define KEEL_HC_INFO 1u    /* privileged; fills struct keel_info */

/* Error numbers, equal to Linux's errno values. */
#define KEEL_EPERM 1
#define KEEL_ENOMEM 12
#define KEEL_EFAULT 14
#define KEEL_EINVAL 22
#define KEEL_ENOSYS 38

/* struct keel_info.backend */
#define KEEL_BACKEND_NONE 0u /* no usable hardware virtualization */
#define KEEL_BACKEND_SVM 1u  /* AMD-V */
#define KEEL_BACKEND_VMX 2u  /* Intel VT-x */

/* struct keel_info.features: what the CPU offers, as the hypervisor found it. */
#define KEEL_FEAT_NPT (1u << 0)            /* SVM nested paging / VMX EPT */
#define KEEL_FEAT_NRIPS (1u << 1)          /* SVM next-RIP save */
#define KEEL_FEAT_DECODE_ASSISTS (1u << 2) /* SVM decode assists */
#define KEEL_FEAT_VMCB_CLEAN (1u << 3)     /* SVM VMCB clean bits */
#define KEEL_FEAT_FLUSH_BY_ASID (1u << 4)  /* SVM flush by ASID */
#define KEEL_FEAT_AVIC (1u << 5)           /* SVM AVIC */
#define KEEL_FEAT_VGIF (1u << 6)           /* SVM virtual GIF */
#define KEEL_FEAT_X2APIC (1u << 7)         /* CPU has x2APIC */
#define KEEL_FEAT_TSC_INVARIANT (1u << 8)  /* invariant TSC */

#define KEEL_MAX_CPUS 64

/* Answer of KEEL_HC_INFO. The caller passes a buffer of at least this size. */
struct keel_info {
	keel_u32 abi_version;   /* KEEL_ABI_VERSION of the hypervisor */
	keel_u32 hv_version;    /* major << 16 | minor << 8 | patch */
	char hv_version_str[32]; /* NUL-terminated, e.g. "0.1.0" */
	char cpu_vendor[16];    /* NUL-terminated CPUID vendor string */
	keel_u32 backend;       /* KEEL_BACKEND_* */
	keel_u32 features;      /* KEEL_FEAT_* */
	keel_u32 cpus_total;    /* CPUs the hypervisor runs on */
	keel_u32 cpus_dom0;     /* CPUs given to dom0 */
	keel_u32 cpus_pool;     /* CPUs kept for guests */
	keel_u32 reserved0;
	keel_u64 cpu_mask_dom0; /* bit i = CPU i (hypervisor numbering) */
	keel_u64 cpu_mask_pool;
	keel_u64 mem_total_bytes;     /* usable RAM in the machine */
	keel_u64 mem_dom0_bytes;      /* RAM given to dom0 */
	keel_u64 mem_hv_bytes;        /* RAM the hypervisor uses itself */
	keel_u64 mem_pool_total_bytes; /* RAM kept for guests, used or not */
	keel_u64 mem_pool_free_bytes;  /* RAM free for new guests */
	keel_u64 tsc_khz;             /* TSC frequency measured at boot */
	keel_u64 uptime_ns;           /* time since the hypervisor started */
	keel_u64 hv_base_pa;          /* physical start of the hypervisor image */
	keel_u64 hv_size_bytes;       /* size of the hypervisor image */
	keel_u64 marker_pa;           /* physical address of a hidden page that
	                               * holds KEEL_HIDDEN_MARKER (for tests) */
};

/* Text at marker_pa, inside memory that dom0 must not be able to read. */
#define KEEL_HIDDEN_MARKER "KEEL-HIDDEN-MEMORY-MARKER"

/*
 * Dom0 driver interface: /dev/keel (root only). One ioctl passes a hypercall
 * through. The driver copies arg_size bytes from arg_uaddr into a physically
 * contiguous kernel buffer, makes the call with that buffer's physical
 * address, copies the buffer back and stores RAX in ret.
 */
struct keel_ioctl_hypercall {
	keel_u64 op;        /* KEEL_HC_* */
	keel_u64 arg_uaddr; /* user address of the argument buffer, or 0 */
	keel_u64 arg_size;  /* bytes, at most KEEL_HC_MAX_ARG */
	keel_s64 ret;       /* out: RAX of the call */
};
#define KEEL_HC_MAX_ARG 65536u
#define KEEL_IOCTL_HYPERCALL _IOWR('K', 1, struct keel_ioctl_hypercall)

#endif /* KEEL_PUBLIC_ABI_H */
