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
#define KEEL_ABI_MINOR 18
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
#define KEEL_HC_VERSION 0u        /* unprivileged; RAX = KEEL_ABI_VERSION */
#define KEEL_HC_INFO 1u           /* privileged; fills struct keel_info */
#define KEEL_HC_DOMAIN_CREATE 2u  /* privileged; struct keel_domain_create */
#define KEEL_HC_DOMAIN_MEMWRITE 3u /* privileged; struct keel_memwrite + data */
#define KEEL_HC_DOMAIN_START 4u   /* privileged; struct keel_domain_start */
#define KEEL_HC_DOMAIN_CTL 5u     /* privileged; struct keel_domain_ctl */
#define KEEL_HC_DOMAIN_LIST 6u    /* privileged; struct keel_domain_list + infos */
#define KEEL_HC_CONSOLE_IO 7u     /* privileged; struct keel_console_io + data */
#define KEEL_HC_IMAGE_OPEN 8u     /* privileged; struct keel_image_open (ABI 1.3) */
#define KEEL_HC_IMAGE_WRITE 9u    /* privileged; struct keel_image_write + data */
#define KEEL_HC_IMAGE_DONE 10u    /* privileged; struct keel_image_done */
#define KEEL_HC_DOMAIN_DISK_ADD 11u /* privileged; struct keel_disk_add */
#define KEEL_HC_DOMAIN_NIC_ADD 12u  /* privileged; struct keel_nic_add (ABI 1.4) */
#define KEEL_HC_DOMAIN_STATS 13u  /* privileged; struct keel_domain_stats + stats (ABI 1.5) */
#define KEEL_HC_CPU_STATS 14u     /* privileged; struct keel_cpu_stats + stats */
#define KEEL_HC_NET_ATTACH 15u    /* privileged; struct keel_net_attach */
#define KEEL_HC_NET_XMIT 16u      /* privileged; struct keel_net_frames + frames */
#define KEEL_HC_NET_RECV 17u      /* privileged; struct keel_net_frames + frames */
#define KEEL_HC_HEARTBEAT 18u     /* privileged, no argument (ABI 1.6): dom0's
				   * driver calls it every second; the first
				   * call starts the watchdog's watch on dom0 */
#define KEEL_HC_DOMAIN_EXITS 19u  /* privileged; struct keel_domain_exits + entries (ABI 1.7) */
#define KEEL_HC_NET_NOTIFY 20u    /* privileged; struct keel_net_notify (ABI 1.7) */
#define KEEL_HC_LOG_READ 21u      /* privileged; struct keel_log_read + text (ABI 1.8) */
#define KEEL_HC_DOMAIN_RENAME 22u /* privileged; struct keel_domain_rename (ABI 1.9) */
#define KEEL_HC_DOMAIN_SCHED 23u  /* privileged; struct keel_domain_sched (ABI 1.10) */
#define KEEL_HC_DOMAIN_MEMREAD 24u /* privileged; struct keel_memread + data (ABI 1.11) */
#define KEEL_HC_DOMAIN_STATE 25u  /* privileged; struct keel_domain_state + records (ABI 1.11) */
#define KEEL_HC_DOMAIN_BALLOON 26u /* privileged; struct keel_domain_balloon (ABI 1.12) */
#define KEEL_HC_DOMAIN_CLONE 27u  /* privileged; struct keel_domain_clone (ABI 1.13) */
#define KEEL_HC_DOMAIN_NIC_LINK 28u /* privileged; struct keel_nic_link (ABI 1.13) */
#define KEEL_HC_DOMAIN_VCPU_SET 29u /* privileged; struct keel_vcpu_set (ABI 1.15) */
#define KEEL_HC_DOMAIN_DIRTY 30u  /* privileged; struct keel_domain_dirty + bitmap (ABI 1.16) */

/* Error numbers, equal to Linux's errno values. */
#define KEEL_EPERM 1
#define KEEL_ENOENT 2
#define KEEL_E2BIG 7
#define KEEL_ENOMEM 12
#define KEEL_EFAULT 14
#define KEEL_EBUSY 16
#define KEEL_EEXIST 17
#define KEEL_ENODEV 19 /* ABI 1.5: dom0 has no switch port yet */
#define KEEL_EINVAL 22
#define KEEL_ENOSPC 28
#define KEEL_ERANGE 34 /* KEEL_HC_IMAGE_WRITE beyond the image's size (since ABI 1.3) */
#define KEEL_ENOSYS 38
#define KEEL_EXDEV 18   /* ABI 1.11: state saved by another boot of the hypervisor */
#define KEEL_EOPNOTSUPP 95 /* ABI 1.11: not possible for this domain or backend yet */
/* No call returns any other error: the hypervisor reports one it did not
 * mean to as -KEEL_EINVAL and logs it (common/hypercall.c). */

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
#define KEEL_FEAT_VPID (1u << 9)           /* VMX virtual-processor ids */
#define KEEL_FEAT_UNRESTRICTED_GUEST (1u << 10) /* VMX unrestricted guest */

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

/* ---- Guest domains (ABI 1.1) ---- */

#define KEEL_DOMAIN_NAME_BYTES 32
#define KEEL_DOMAIN_MAX_VCPUS 8
#define KEEL_MAX_DOMAINS 64u /* Domain-0 and 63 guests at once (ABI 1.15; 32 before) */
#define KEEL_DOMAIN_MIN_MEM_BYTES (32ull << 20)
#define KEEL_GUEST_CHUNK_BYTES (2ull << 20) /* guest RAM is held and shared in these */
#define KEEL_DOMAIN_MAX_MEM_BYTES (3ull << 30) /* below the PCI hole */

/*
 * The guest's physical memory, fixed by the ABI: RAM from 0 to mem_bytes.
 * [KEEL_GUEST_BIOS_START, 1 MiB) is backed but must be reported reserved
 * (the MP table lives at KEEL_GUEST_MPTABLE_PA). The local APIC is at
 * 0xFEE00000, the IOAPIC at 0xFEC00000, the 16550 UART at port 0x3F8 with
 * ISA IRQ 4. The toolstack builds the guest's e820 from this.
 */
#define KEEL_GUEST_BIOS_START 0x9F000ull
#define KEEL_GUEST_RAM_HIGH_START 0x100000ull
#define KEEL_GUEST_MPTABLE_PA 0xF0000ull

/* KEEL_HC_DOMAIN_CREATE: make a paused, empty domain with zeroed RAM. */
struct keel_domain_create {
	char name[KEEL_DOMAIN_NAME_BYTES]; /* in: unique, NUL-terminated */
	keel_u64 mem_bytes;  /* in: multiple of 2 MiB, within the limits above */
	keel_u32 nr_vcpus;   /* in: 1..KEEL_DOMAIN_MAX_VCPUS, online at start */
	keel_u32 domid;      /* out */
	/* ABI 1.15: vCPUs that may be online (KEEL_HC_DOMAIN_VCPU_SET), 0 =
	 * nr_vcpus, else nr_vcpus..KEEL_DOMAIN_MAX_VCPUS. With more than one,
	 * the guest's ACPI tables offer CPU hotplug. */
	keel_u32 max_vcpus;
	keel_u32 reserved;   /* 0 */
};

/*
 * KEEL_HC_DOMAIN_DIRTY (ABI 1.16): the dirty page log of guest domid, for
 * a live save or migration: copy its RAM while it runs, then again the
 * pages it wrote meanwhile, in rounds, until few are left.
 * - KEEL_DIRTY_START: from now on every 4 KiB page of the guest's RAM
 *   that the guest (or a device for it) writes is marked. -KEEL_EBUSY if
 *   the guest is not running, shares memory with a clone, has given memory
 *   back through its balloon, or its log is already on. While the log is
 *   on, KEEL_HC_DOMAIN_CLONE from it and KEEL_HC_DOMAIN_BALLOON changes
 *   to it are refused with -KEEL_EBUSY.
 * - KEEL_DIRTY_READ: copy the marks of pages first_page ..
 *   first_page + nr_pages - 1 (page n = guest-physical n * 4096; nr_pages
 *   a multiple of 64, at most KEEL_DIRTY_READ_MAX) into the bitmap after
 *   this header (bit n % 8 of byte n / 8, for page first_page + n), and
 *   clear them; dirty_count says how many were set. A page written after
 *   the call is marked again. On a paused guest it first waits until its
 *   vCPUs have stopped (pausing only asks them to), so the marks hold
 *   every write it made. -KEEL_ENODEV if the log is off, -KEEL_EINVAL for
 *   a range past the guest's RAM, -KEEL_EBUSY if a vCPU would not stop.
 * - KEEL_DIRTY_STOP: turn the log off. Destroying the guest does too.
 * -KEEL_ENOENT: no such guest (or Domain-0).
 */
#define KEEL_DIRTY_START 1u
#define KEEL_DIRTY_READ 2u
#define KEEL_DIRTY_STOP 3u
#define KEEL_DIRTY_READ_MAX 262144u /* pages (1 GiB) a read covers at most */
struct keel_domain_dirty {
	keel_u32 domid;       /* in */
	keel_u32 op;          /* in: KEEL_DIRTY_* */
	keel_u64 first_page;  /* in (READ) */
	keel_u32 nr_pages;    /* in (READ) */
	keel_u32 dirty_count; /* out (READ): marks that were set */
	keel_u64 ram_pages;   /* out: pages of guest RAM the log covers */
	/* keel_u8 bitmap[nr_pages / 8] follows (out, READ) */
};

/*
 * KEEL_HC_DOMAIN_VCPU_SET (ABI 1.15): make vCPUs 0..nr_vcpus-1 of guest
 * domid present and the others not, by ACPI CPU hotplug: the guest's
 * kernel is told (a general-purpose event) and brings each one online,
 * or takes it offline and ejects it, by itself. vCPU 0 never goes.
 * Returns once the request is made; KEEL_SCHED_GET's vcpu_state shows
 * when the guest has followed (KEEL_VCPU_DOWN for each one it let go).
 * -KEEL_ENOENT (no such guest), -KEEL_EINVAL (nr_vcpus 0 or above
 * max_vcpus, or Domain-0), -KEEL_EBUSY (the guest is not running).
 */
struct keel_vcpu_set {
	keel_u32 domid;      /* in */
	keel_u32 nr_vcpus;   /* in: 1..max_vcpus */
	keel_u32 max_vcpus;  /* out: the guest's limit */
	keel_u32 present;    /* out: how many are present now */
};

/*
 * KEEL_HC_DOMAIN_CLONE (ABI 1.13): make a paused domain called name with
 * the RAM size and vCPU count of guest src_domid, which must be running
 * and paused, whose RAM is src's, shared copy-on-write: each 2 MiB chunk
 * is mapped read-only in both, and the first of them to write a 4 KiB
 * page of it gets its own copy of that page (ABI 1.14; the whole chunk
 * before), so the clone costs the pool next to nothing until they
 * diverge.
 * Give it src's state (KEEL_HC_DOMAIN_STATE GET from src, SET to it) and
 * start it with KEEL_START_RESTORED. -KEEL_ENOENT (no such guest),
 * -KEEL_EBUSY (src not running or not paused), -KEEL_EEXIST (name taken),
 * -KEEL_EINVAL, -KEEL_ENOMEM, -KEEL_ENOSPC.
 */
struct keel_domain_clone {
	char name[KEEL_DOMAIN_NAME_BYTES]; /* in: unique, NUL-terminated */
	keel_u32 src_domid;  /* in */
	keel_u32 domid;      /* out */
};

/* KEEL_HC_DOMAIN_MEMWRITE: copy len bytes (following this header in the
 * same buffer) to guest-physical gpa of a domain that has not started. */
struct keel_memwrite {
	keel_u32 domid;
	keel_u32 len;
	keel_u64 gpa;
	/* keel_u8 data[len] follows */
};

/* KEEL_HC_DOMAIN_START: vCPU 0 enters Linux's 32-bit boot entry at rip
 * with RSI = rsi (the zero page); the other vCPUs wait for INIT/SIPI.
 * With KEEL_START_RESTORED (ABI 1.11) rip and rsi are ignored: every vCPU
 * continues from the state KEEL_HC_DOMAIN_STATE SET gave it (-KEEL_EINVAL
 * if it gave none). */
#define KEEL_START_RESTORED 1u
struct keel_domain_start {
	keel_u32 domid;
	keel_u32 flags;   /* KEEL_START_*; 0 before ABI 1.11 */
	keel_u64 rip;
	keel_u64 rsi;
};

/* KEEL_HC_DOMAIN_MEMREAD (ABI 1.11): copy len bytes (at most
 * KEEL_MEMREAD_MAX) of guest-physical memory at gpa of a paused guest
 * into the buffer after this header. -KEEL_EBUSY unless the guest is
 * paused (or stopped), or, from ABI 1.16, running with its dirty page log
 * on (KEEL_HC_DOMAIN_DIRTY); -KEEL_EFAULT outside its RAM. */
#define KEEL_MEMREAD_MAX 61440u
struct keel_memread {
	keel_u32 domid;
	keel_u32 len;
	keel_u64 gpa;
	/* keel_u8 data[len] follows (out) */
};

/*
 * KEEL_HC_DOMAIN_STATE (ABI 1.11): the state records of a guest (the
 * stream described at struct keel_state_rec below) in the buffer after
 * this header.
 * GET: a paused guest's records; len is in the room after the header and
 * out the bytes written. -KEEL_EBUSY unless the guest is paused with no
 * vCPU running (or a CPU would not give up a vCPU's VMCS), -KEEL_ENOSPC if they do not fit, -KEEL_EOPNOTSUPP for a
 * guest whose state cannot be saved yet (a writable RAM disk: bad_type
 * names the record).
 * SET: load len bytes of records into a guest created but not started,
 * whose disks and NICs were added as the saved guest's were. Every record
 * is checked; the first refused one is named in bad_type/bad_instance
 * and the call fails (-KEEL_EINVAL). A TSC record from another boot of the hypervisor
 * loads through a TSC offset (ABI 1.17); -KEEL_EXDEV if it is a record
 * from before 1.17 with no rate, -KEEL_ERANGE if its rate is more than
 * 0.1 % from this host's.
 * A failed SET leaves the domain unfit to start restored: destroy it.
 */
#define KEEL_STATE_OP_GET 0u
#define KEEL_STATE_OP_SET 1u
struct keel_domain_state {
	keel_u32 domid;
	keel_u32 op;          /* KEEL_STATE_OP_* */
	keel_u32 len;         /* bytes of records after the header */
	keel_u32 bad_type;    /* out, on failure: the record refused, or 0 */
	keel_u32 bad_instance;
	keel_u32 reserved;    /* 0 */
	/* records follow */
};

#define KEEL_DOMCTL_PAUSE 1u
#define KEEL_DOMCTL_UNPAUSE 2u
#define KEEL_DOMCTL_DESTROY 3u
#define KEEL_DOMCTL_SHUTDOWN 4u /* ABI 1.2: press the guest's ACPI power button */
#define KEEL_DOMCTL_REBOOT 5u   /* ABI 1.2: press the guest's ACPI sleep button,
				 * which Keel's guest images map to reboot */

struct keel_domain_ctl {
	keel_u32 domid;
	keel_u32 op; /* KEEL_DOMCTL_* */
};

/* struct keel_dominfo.state: one of these */
#define KEEL_DOMSTATE_BUILDING 0u /* created, not started yet */
#define KEEL_DOMSTATE_RUNNING 1u  /* some vCPU running or runnable */
#define KEEL_DOMSTATE_BLOCKED 2u  /* all vCPUs halted, waiting */
#define KEEL_DOMSTATE_PAUSED 3u
#define KEEL_DOMSTATE_SHUTDOWN 4u /* stopped; see shutdown_reason */
#define KEEL_DOMSTATE_CRASHED 5u

/* struct keel_dominfo.shutdown_reason */
#define KEEL_SHUTDOWN_NONE 0u
#define KEEL_SHUTDOWN_POWEROFF 1u
#define KEEL_SHUTDOWN_REBOOT 2u
#define KEEL_SHUTDOWN_CRASH 3u

struct keel_dominfo {
	keel_u32 domid;
	keel_u32 state;           /* KEEL_DOMSTATE_* */
	keel_u32 shutdown_reason; /* KEEL_SHUTDOWN_* */
	keel_u32 nr_vcpus;
	char name[KEEL_DOMAIN_NAME_BYTES];
	keel_u64 mem_bytes;
	keel_u64 cpu_time_ns;     /* all vCPUs, time spent in guest mode */
	keel_u64 exits;           /* VM exits so far */
	keel_u64 console_bytes;   /* console output written so far */
	keel_u64 vcpu_time_ns[KEEL_DOMAIN_MAX_VCPUS];
	/* ABI 1.15: the vCPUs the guest may have online (nr_vcpus is how
	 * many are present, KEEL_HC_DOMAIN_VCPU_SET); dom0: nr_vcpus. */
	keel_u32 max_vcpus;
	keel_u32 reserved;
};

/* KEEL_HC_DOMAIN_LIST: up to max infos, dom0 first, follow the header. */
struct keel_domain_list {
	keel_u32 max;   /* in: room for this many struct keel_dominfo */
	keel_u32 count; /* out: how many were written */
	/* struct keel_dominfo infos[max] follows */
};

#define KEEL_CONSOLE_READ 0u
#define KEEL_CONSOLE_WRITE 1u
#define KEEL_CONSOLE_PRELOAD 2u /* ABI 1.11: history of a domain not started */
#define KEEL_CONSOLE_RING_BYTES 65536u

/*
 * KEEL_HC_CONSOLE_IO: read a domain's console output from position pos
 * (bytes since the domain was created) or type input into its UART.
 * Data follows the header. Read: in len = room, out len = bytes copied,
 * pos = next position, lost = bytes that had been overwritten in the ring
 * before the requested position. Write: len bytes are queued (out len =
 * bytes accepted, fewer if the input queue is full). Preload (ABI 1.11):
 * the len bytes are appended to the console history of a domain that has
 * not started (a restored guest's, so that `keel console` shows what it
 * printed before it was saved); -KEEL_EBUSY once it has.
 */
struct keel_console_io {
	keel_u32 domid;
	keel_u32 op;  /* KEEL_CONSOLE_READ, _WRITE or _PRELOAD */
	keel_u64 pos;
	keel_u32 len;
	keel_u32 lost;
	/* keel_u8 data[] follows */
};

/* ---- Disk images and guest disks (ABI 1.3) ---- */

#define KEEL_IMAGE_NAME_BYTES 64
#define KEEL_DOMAIN_MAX_DISKS 4

/*
 * KEEL_HC_IMAGE_OPEN: find or create a read-only disk image kept in
 * hypervisor memory, shared by every guest that uses it. If a complete
 * image with this name and size exists, its id is returned with
 * KEEL_IMAGE_EXISTS and no upload is needed; otherwise a new, empty image
 * is created and dom0 uploads it with KEEL_HC_IMAGE_WRITE, then
 * KEEL_HC_IMAGE_DONE. An image lives while a guest uses it (and while an
 * upload is in progress); it is freed when the last guest using it is
 * destroyed. The name identifies the content: the toolstack derives it
 * from the file's path, size and modification time.
 */
#define KEEL_IMAGE_EXISTS 1u
struct keel_image_open {
	char name[KEEL_IMAGE_NAME_BYTES]; /* in: NUL-terminated */
	keel_u64 bytes;    /* in: image size (a multiple of 512) */
	keel_u32 image_id; /* out */
	keel_u32 flags;    /* out: KEEL_IMAGE_EXISTS */
};

/* KEEL_HC_IMAGE_WRITE: len bytes following the header at offset. */
struct keel_image_write {
	keel_u32 image_id;
	keel_u32 len;
	keel_u64 offset;
	/* keel_u8 data[len] follows */
};

/* KEEL_HC_IMAGE_DONE: the upload is complete; the image becomes usable.
 * An image that is never completed is freed when dom0 opens another one
 * with the same name. */
struct keel_image_done {
	keel_u32 image_id;
	keel_u32 reserved;
};

#define KEEL_DISK_IMAGE 1u /* a shared read-only image (image_id) */
#define KEEL_DISK_RAM 2u   /* a private, zeroed, writable RAM disk (ram_bytes) */

/* KEEL_HC_DOMAIN_DISK_ADD: give a domain that has not started a virtio
 * block device. Disks appear to the guest in the order added (/dev/vda,
 * /dev/vdb, ...). */
struct keel_disk_add {
	keel_u32 domid;
	keel_u32 kind;      /* KEEL_DISK_IMAGE or KEEL_DISK_RAM */
	keel_u32 image_id;  /* KEEL_DISK_IMAGE */
	keel_u32 slot;      /* out: 0 for vda, 1 for vdb, ... */
	keel_u64 ram_bytes; /* KEEL_DISK_RAM: a multiple of 2 MiB */
};

/* ---- Guest network interfaces (ABI 1.4) ---- */

#define KEEL_DOMAIN_MAX_NICS 4

/* KEEL_HC_DOMAIN_NIC_ADD: give a domain that has not started a virtio-net
 * interface on the hypervisor's virtual switch, which joins all guests.
 * Interfaces appear in the order added (eth0, eth1, ...). */
struct keel_nic_add {
	keel_u32 domid;
	keel_u32 slot;      /* out: 0 for eth0, ... */
	keel_u8 mac[6];     /* in: unicast, normally locally administered */
	keel_u8 reserved[2];
};

/*
 * KEEL_HC_DOMAIN_NIC_LINK (ABI 1.13): set the link state running guest
 * domid's NIC slot reports (virtio-net status, VIRTIO_NET_S_LINK_UP) and
 * raise its configuration interrupt, as a cable pulled or plugged in.
 * While the link is down the NIC sends and receives nothing. `keel
 * clone` flaps a clone's links so that Keel's guest images take the
 * clone's new MAC. -KEEL_ENOENT (no such guest or NIC), -KEEL_EBUSY (not
 * started), -KEEL_EINVAL (up other than 0 or 1).
 */
struct keel_nic_link {
	keel_u32 domid;
	keel_u32 slot;      /* 0 for eth0, ... */
	keel_u32 up;        /* 1: link up, 0: down */
	keel_u32 reserved;  /* 0 */
};

/* ---- Monitoring (ABI 1.5) ---- */

/* Counters of one domain since it was created; dom0 has network counters
 * (its switch port) and no block counters. */
struct keel_domstats {
	keel_u32 domid;
	keel_u32 nr_disks;
	keel_u32 nr_nics;
	keel_u32 shared_chunks;   /* ABI 1.13: KEEL_GUEST_CHUNK_BYTES chunks of its RAM it shares
				   * copy-on-write with a clone or its source
				   * (the pool holds each once) */
	keel_u64 blk_reads;       /* read requests completed */
	keel_u64 blk_writes;      /* write requests completed */
	keel_u64 blk_read_bytes;
	keel_u64 blk_write_bytes;
	keel_u64 blk_errors;      /* requests answered with an I/O error */
	keel_u64 net_tx_packets;  /* frames the domain sent into the switch */
	keel_u64 net_tx_bytes;
	keel_u64 net_rx_packets;  /* frames the domain received */
	keel_u64 net_rx_bytes;
	keel_u64 net_drops;       /* frames lost: bad chains, full queues,
				   * and the net_spoofed ones */
	keel_u64 net_spoofed;     /* ABI 1.6: frames the switch refused because
				   * their source address was not the NIC's own */
	/* ABI 1.7: the hypervisor's own memory for this domain beyond its RAM
	 * and nested page tables (its structures, vCPU control blocks, FPU
	 * areas, console ring, NIC device state, disk structures), and the
	 * parts of it that are the console ring and the NICs' device state.
	 * Frames waiting for a NIC live in the switch's pool, shared by all
	 * ports and counted once in keel_info.mem_hv_bytes. */
	keel_u64 hv_bytes;
	keel_u64 hv_console_bytes;
	keel_u64 hv_net_bytes;
	/* ABI 1.9: the hypervisor's clock (keel_info.uptime_ns) when the
	 * domain started running (dom0: when the hypervisor started it), 0
	 * while it is being built. Its uptime is uptime_ns - start_ns. */
	keel_u64 start_ns;
	/* ABI 1.14: bytes of its own 4 KiB copies of pages in the chunks it
	 * shares (each shared chunk's first write copies one page), so
	 * shared_chunks * KEEL_GUEST_CHUNK_BYTES - cow_page_bytes of its RAM
	 * is still shared. */
	keel_u64 cow_page_bytes;
};

/* KEEL_HC_DOMAIN_STATS: up to max stats, in the order of
 * KEEL_HC_DOMAIN_LIST (dom0 first), follow the header. */
struct keel_domain_stats {
	keel_u32 max;   /* in: room for this many struct keel_domstats */
	keel_u32 count; /* out */
	/* struct keel_domstats stats[max] follows */
};

/* struct keel_cpustat.role */
#define KEEL_CPU_ROLE_DOM0 1u /* dom0 runs here (passthrough) */
#define KEEL_CPU_ROLE_POOL 2u /* runs guest vCPUs */
#define KEEL_CPU_ROLE_IDLE 3u /* runs no domain: CPU 0 kept out of guest mode
                               * (QEMU TCG, bsp=idle) or beyond max_guest_cpus */
#define KEEL_CPU_DOMID_NONE 0xFFFFFFFFu

/* One physical CPU. busy_ns counts time in which a guest vCPU was
 * scheduled there (guest mode plus the exits handled for it); for dom0's
 * CPUs it is 0: dom0 accounts its own time (/proc/stat). */
struct keel_cpustat {
	keel_u32 cpu;        /* hypervisor numbering */
	keel_u32 role;       /* KEEL_CPU_ROLE_* */
	keel_u32 domid;      /* domain running there now, or KEEL_CPU_DOMID_NONE */
	keel_u32 vcpu;       /* which of its vCPUs */
	keel_u32 nr_vcpus;   /* vCPUs homed on this CPU */
	keel_u32 online;
	keel_u64 busy_ns;
};

/* KEEL_HC_CPU_STATS: up to max CPUs follow the header. */
struct keel_cpu_stats {
	keel_u32 max;     /* in */
	keel_u32 count;   /* out */
	keel_u64 now_ns;  /* out: the hypervisor's clock (uptime) */
	/* struct keel_cpustat cpus[max] follows */
};

/* ---- Dom0 on the virtual switch (ABI 1.5) ---- */

/*
 * KEEL_HC_NET_ATTACH: give dom0 a port on the virtual switch with MAC mac
 * (again: -KEEL_EEXIST). notify_pa is the physical address of a 4-byte
 * aligned dom0 word that the hypervisor sets to 1 whenever frames wait
 * for dom0 (dom0 polls it and clears it before KEEL_HC_NET_RECV), or 0.
 */
struct keel_net_attach {
	keel_u8 mac[6];
	keel_u8 reserved[2];
	keel_u64 notify_pa;
};

/*
 * KEEL_HC_NET_NOTIFY: interrupt dom0 when frames wait for it. Whenever the
 * hypervisor sets dom0's notify word from 0 to 1, it also sends a fixed
 * IPI with vector to the dom0 CPU whose local APIC id is apic_id (its
 * physical destination). Vector 0 stops the interrupts (dom0 polls the
 * word). -KEEL_ENODEV before KEEL_HC_NET_ATTACH or without a notify word;
 * -KEEL_EINVAL for a vector below 32 or above 255, or an APIC id that is
 * not one of dom0's CPUs. It may be called again, e.g. when the vector
 * moves.
 */
struct keel_net_notify {
	keel_u32 vector;
	keel_u32 apic_id;
};

/*
 * KEEL_HC_NET_XMIT / KEEL_HC_NET_RECV: a batch of Ethernet frames
 * (destination, source, type, payload; no FCS; 14..1518 bytes) after the
 * header, each as a little-endian keel_u16 length followed by the frame,
 * padded to an even length. XMIT: count frames in, out count = frames
 * accepted. RECV: the hypervisor fills up to the buffer's size; out count
 * = frames, bytes = bytes used after the header, more = 1 if frames still
 * wait.
 */
struct keel_net_frames {
	keel_u32 count;
	keel_u32 bytes;
	keel_u32 more;
	keel_u32 reserved;
	/* frames follow */
};

/* ---- The exit profile (ABI 1.7) ---- */

/* struct keel_exitstat.kind, with what detail holds for each. */
#define KEEL_EXIT_CPUID 1u
#define KEEL_EXIT_MSR_READ 2u    /* detail: the MSR's index */
#define KEEL_EXIT_MSR_WRITE 3u   /* detail: the MSR's index */
#define KEEL_EXIT_HYPERCALL 4u   /* detail: the call number (KEEL_HC_*) */
#define KEEL_EXIT_IO_IN 5u       /* detail: the port */
#define KEEL_EXIT_IO_OUT 6u      /* detail: the port */
#define KEEL_EXIT_NPF 7u         /* detail: guest-physical page number (GPA >> 12):
				  * for guests an MMIO access to a device there */
#define KEEL_EXIT_HLT 8u
#define KEEL_EXIT_INTR 9u        /* a host interrupt: the end of a slice, a vLAPIC
				  * timer, a kick from another CPU */
#define KEEL_EXIT_IRQ_WINDOW 10u /* the vCPU became able to take an interrupt */
#define KEEL_EXIT_NMI 11u
#define KEEL_EXIT_CACHE_FLUSH 12u
#define KEEL_EXIT_OTHER 13u      /* detail: the backend's own exit code */
#define KEEL_EXIT_OTHER_FULL 14u /* the hypervisor's table had no room for the key */

/* Exits of one kind and detail since the domain was created, with the time
 * the hypervisor spent handling them (from the exit to the end of its
 * handler; a HLT's time asleep is not counted). */
struct keel_exitstat {
	keel_u32 kind;   /* KEEL_EXIT_* */
	keel_u32 detail;
	keel_u64 count;
	keel_u64 time_ns;
};

/* KEEL_HC_DOMAIN_EXITS: the exit profile of domain domid (0 = dom0); up to
 * max entries, in no particular order, follow the header. */
struct keel_domain_exits {
	keel_u32 domid;   /* in */
	keel_u32 max;     /* in: room for this many struct keel_exitstat */
	keel_u32 count;   /* out: entries written */
	keel_u32 reserved;
	keel_u64 total;   /* out: all its exits, including entries left out */
	keel_u64 now_ns;  /* out: the hypervisor's clock (uptime) */
	/* struct keel_exitstat entries[max] follows */
};

/*
 * KEEL_HC_DOMAIN_RENAME (ABI 1.9): give guest domid the new name,
 * NUL-terminated, 1 to KEEL_DOMAIN_NAME_BYTES - 1 bytes. -KEEL_ENOENT no
 * such guest (dom0 cannot be renamed), -KEEL_EEXIST another domain has
 * that name, -KEEL_EINVAL an empty or unterminated name. The toolstack
 * checks the characters (docs/config.md, name =).
 */
struct keel_domain_rename {
	keel_u32 domid;
	keel_u32 reserved;
	char name[KEEL_DOMAIN_NAME_BYTES];
};

/*
 * KEEL_HC_DOMAIN_SCHED (ABI 1.10): read or set a guest's scheduling, with
 * the meanings of xl's credit scheduler. Its vCPUs share a pool CPU in
 * proportion to their domains' weights; a cap limits the domain to that
 * percentage of one CPU (summed over its vCPUs; 0 = no cap), measured over
 * periods of 30 ms. cpumask (hypervisor CPU numbers, bit n = CPU n) are
 * the pool CPUs its vCPUs may be homed on, 0 = any; it can be set only
 * before KEEL_HC_DOMAIN_START (-KEEL_EBUSY). SET writes weight, cap and
 * cpumask (-KEEL_EINVAL: weight outside 1-65535, cap above 6400, or a
 * mask with no pool CPU); both ops return the values in force, and each
 * vCPU's home CPU and state.
 * -KEEL_ENOENT for no such guest (dom0 has its own CPUs).
 */
#define KEEL_SCHED_GET 0u
#define KEEL_SCHED_SET 1u
#define KEEL_SCHED_PIN 2u /* ABI 1.12: pin vCPU vcpu (KEEL_SCHED_ALL_VCPUS: each) to cpumask */
#define KEEL_SCHED_ALL_VCPUS 0xFFFFFFFFu
#define KEEL_SCHED_WEIGHT_DEFAULT 256u
/* struct keel_domain_sched.vcpu_state */
#define KEEL_VCPU_RUNNING 0u  /* on its CPU now */
#define KEEL_VCPU_RUNNABLE 1u /* waiting for its CPU */
#define KEEL_VCPU_BLOCKED 2u  /* halted until an interrupt */
#define KEEL_VCPU_DOWN 3u     /* not started (an AP before its SIPI) or stopped */
#define KEEL_VCPU_NO_CPU 0xFFFFFFFFu /* vcpu_cpu before the domain starts */
struct keel_domain_sched {
	keel_u32 domid;
	keel_u32 op;      /* KEEL_SCHED_GET, KEEL_SCHED_SET or KEEL_SCHED_PIN */
	keel_u32 weight;  /* 1-65535, default 256 */
	keel_u32 cap;     /* percent of one CPU, 0 = none */
	keel_u64 cpumask; /* pool CPUs allowed, 0 = any */
	/* out, for `keel vcpu-list`: */
	keel_u32 nr_vcpus;
	keel_u32 vcpu;    /* in, KEEL_SCHED_PIN: which vCPU, or KEEL_SCHED_ALL_VCPUS */
	keel_u32 vcpu_cpu[KEEL_DOMAIN_MAX_VCPUS];   /* the pool CPU each is homed on */
	keel_u32 vcpu_state[KEEL_DOMAIN_MAX_VCPUS]; /* KEEL_VCPU_* */
	keel_u64 vcpu_cpumask[KEEL_DOMAIN_MAX_VCPUS]; /* ABI 1.12: the pool CPUs each may use */
};

/*
 * KEEL_HC_DOMAIN_BALLOON (ABI 1.12): a guest's memory through its
 * virtio-balloon device (`keel mem-set`, `keel mem-max`). Every guest has
 * one; a guest kernel without the virtio_balloon driver ignores it.
 * The guest gives pages back in 4 KiB pages; the hypervisor returns its RAM
 * to the pool in whole 2 MiB chunks, once every page of a chunk is in the
 * balloon and a GET or SET call has run (they release what is ready), so
 * held_bytes may stay above the target by the chunks the guest only partly
 * gave back.
 * GET: fill the out fields.
 * SET_TARGET: ask the guest to hold target_bytes (a multiple of 2 MiB,
 * KEEL_BALLOON_MIN_BYTES..max_bytes, else -KEEL_EINVAL). Growing first
 * sets aside the chunks the guest will need from the pool (-KEEL_ENOMEM
 * if the pool lacks them), so a guest that deflates never finds its
 * memory missing.
 * SET_MAX: set max_bytes (KEEL_BALLOON_MIN_BYTES..ram_bytes, a multiple
 * of 2 MiB); a target above it is lowered to it.
 */
#define KEEL_BALLOON_GET 0u
#define KEEL_BALLOON_SET_TARGET 1u
#define KEEL_BALLOON_SET_MAX 2u
#define KEEL_BALLOON_MIN_BYTES (64ull << 20)
struct keel_domain_balloon {
	keel_u32 domid;
	keel_u32 op;            /* KEEL_BALLOON_* */
	keel_u64 target_bytes;  /* in (SET_TARGET) and out: RAM the guest is asked to keep */
	keel_u64 max_bytes;     /* in (SET_MAX) and out: the ceiling of target_bytes */
	/* out: */
	keel_u64 ram_bytes;     /* the RAM the guest was built with (its e820) */
	keel_u64 guest_bytes;   /* ram_bytes less what the guest says its balloon holds */
	keel_u64 held_bytes;    /* RAM the hypervisor holds for it now, spares included */
	keel_u32 driver_ok;     /* 1 once the guest's driver set DRIVER_OK */
	keel_u32 reserved;      /* 0 */
};

/* KEEL_HC_LOG_READ: read the hypervisor's log, the "(keel) " lines it has
 * printed, from its in-memory ring (the last 64 KiB), as `xl dmesg` does.
 * Positions count the bytes logged since boot. The text follows the
 * header; a call returns as much as fits, so read until pos reaches head. */
#define KEEL_LOG_CLEAR 1u /* flags: then forget what was returned and all before */
struct keel_log_read {
	keel_u64 pos;     /* in: the first byte wanted (0: the oldest kept);
			   * out: where the returned text begins (later than
			   * asked when older bytes were overwritten or cleared) */
	keel_u64 head;    /* out: bytes logged since boot */
	keel_u32 flags;   /* in: KEEL_LOG_CLEAR or 0 */
	keel_u32 bytes;   /* out: bytes of text after the header */
	/* char text[bytes] follows */
};

/*
 * Domain state records: the vCPU and device state of a paused guest, as a
 * stream of records, each a struct keel_state_rec header followed by its
 * payload and zero padding to KEEL_STATE_REC_ALIGN bytes. They are the
 * shared format of save/restore, clone and migration, which are not built
 * yet (docs/save-restore.md); the devices can already save and load their
 * records. Payloads are the fixed structs below; a newer ABI minor version
 * only appends fields, so length says how much a record holds. A loader
 * refuses (-KEEL_EINVAL) a record whose fields a guest could never have
 * produced, leaving the device unchanged.
 */
#define KEEL_STATE_REC_ALIGN 8u
#define KEEL_STATE_IOAPIC 1u /* struct keel_state_ioapic, instance 0 */
#define KEEL_STATE_UART 2u   /* struct keel_state_uart, instance = COM port 0.. */
#define KEEL_STATE_LAPIC 3u  /* struct keel_state_lapic, instance = vCPU */
#define KEEL_STATE_RTC 4u    /* struct keel_state_rtc, instance 0 */
#define KEEL_STATE_ACPI_PM 5u /* struct keel_state_acpi_pm, instance 0 */
#define KEEL_STATE_VIRTIO_PCI 6u /* struct keel_state_virtio_pci, instance = PCI slot */
#define KEEL_STATE_PVPANIC 7u /* struct keel_state_pvpanic, instance 0 */
#define KEEL_STATE_VIRTIO_NET 8u /* struct keel_state_virtio_net, instance = NIC 0.. */
#define KEEL_STATE_VIRTIO_BLK 9u /* struct keel_state_virtio_blk, instance = disk 0.. */
#define KEEL_STATE_VCPU 10u /* struct keel_state_vcpu, instance = vCPU */
#define KEEL_STATE_VCPU_RUN 11u /* struct keel_state_vcpu_run, instance = vCPU */
#define KEEL_STATE_FPU 12u  /* struct keel_state_fpu + its area, instance = vCPU */
#define KEEL_STATE_TSC 13u  /* struct keel_state_tsc, instance 0 */
#define KEEL_STATE_BALLOON 14u /* struct keel_state_balloon, instance 0 (ABI 1.12) */
#define KEEL_STATE_CPUHP 15u /* struct keel_state_cpuhp, instance 0 (ABI 1.15) */
#define KEEL_STATE_CPUID 16u /* struct keel_state_cpuid, instance 0 (ABI 1.18) */
struct keel_state_rec {
	keel_u32 type;     /* KEEL_STATE_* */
	keel_u32 instance; /* which device of that type */
	keel_u64 length;   /* payload bytes, without the padding */
};

#define KEEL_STATE_IOAPIC_PINS 24u
struct keel_state_ioapic {
	keel_u32 id;       /* the ID register (bits 27:24) */
	keel_u32 ioregsel; /* the selected register index */
	keel_u32 rte_lo[KEEL_STATE_IOAPIC_PINS]; /* with Remote IRR (bit 14) */
	keel_u32 rte_hi[KEEL_STATE_IOAPIC_PINS];
	keel_u32 line_high;   /* bit n: pin n's input is asserted */
	keel_u32 line_driven; /* bit n: pin n has been driven */
};

#define KEEL_STATE_UART_FIFO_BYTES 64u
struct keel_state_uart {
	keel_u8 rx[KEEL_STATE_UART_FIFO_BYTES]; /* received bytes, oldest first */
	keel_u32 rx_count; /* bytes in rx */
	keel_u8 rbr, ier, fcr, lcr, mcr, lsr_err, msr_delta, scr;
	keel_u8 dll, dlm, thre_pending, reserved[5]; /* reserved: 0 */
};

/* A local APIC: its registers (SDM table 10-1) and its timer as the time
 * it had left, so that it runs on at another TSC rate or offset. */
#define KEEL_STATE_LAPIC_LVTS 7u /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
#define KEEL_STATE_LAPIC_MAX_NS (1ull << 50) /* about 13 days */
struct keel_state_lapic {
	keel_u32 id, tpr, ldr, dfr, svr;
	keel_u32 isr[8], tmr[8], irr[8]; /* 256 vectors each */
	keel_u32 icr_lo, icr_hi;
	keel_u32 lvt[KEEL_STATE_LAPIC_LVTS];
	keel_u32 timer_initial, timer_dcr;
	keel_u32 timer_armed; /* 0 or 1 */
	keel_u32 reserved;    /* 0 */
	keel_u64 timer_left_ns; /* until the next expiry, at most ..._MAX_NS */
};

/* The CMOS clock: its RAM and registers, and the guest's time as an offset
 * from the wall clock (UTC), which is the same on every machine. While the
 * guest sets the time (register B's SET bit) the time being set is kept. */
#define KEEL_STATE_RTC_CMOS_BYTES 128u
#define KEEL_STATE_RTC_MAX_OFFSET_S (1ll << 40)
struct keel_state_rtc {
	keel_u8 cmos[KEEL_STATE_RTC_CMOS_BYTES]; /* the date and time bytes are 0 */
	keel_u32 index;   /* the selected register, 0-127 */
	keel_u32 latched; /* 1 while SET is on */
	keel_s64 offset_s; /* guest time minus wall time, within +-..._MAX_OFFSET_S */
	keel_s64 latch_year; /* the time being set, while latched (else 0) */
	keel_u8 latch_mon, latch_mday, latch_hour, latch_min, latch_sec, latch_wday;
	keel_u8 reserved[2]; /* 0 */
};

/* A legacy virtio-pci function: its PCI configuration, virtio registers,
 * MSI-X table and each queue's place and indices. The identity fields
 * must match the device the loading side built from the same config. A
 * queue's size is the device's (a legacy driver cannot choose it), so a
 * queue is set up exactly when its page frame number is not 0. */
#define KEEL_STATE_VIRTIO_QUEUES 4u
#define KEEL_STATE_VIRTIO_VECTORS (KEEL_STATE_VIRTIO_QUEUES + 1u)
struct keel_state_virtq {
	keel_u32 pfn;         /* guest page of the ring, 0 = not set up */
	keel_u32 last_avail;  /* next avail index the device consumes, 0-65535 */
	keel_u32 used_idx;    /* the used ring's index, 0-65535 */
	keel_u32 msix_vector; /* 0xFFFF = none */
	keel_u32 signalled_used;  /* used_idx at the last notification */
	keel_u32 signalled_valid; /* 0 or 1 */
};
struct keel_state_virtio_pci {
	/* identity, checked against the loading side's device */
	keel_u32 device_id, host_features, nr_queues, queue_size;
	/* PCI configuration */
	keel_u32 command, int_line, bar0, bar1;
	/* legacy virtio registers */
	keel_u32 guest_features, status, isr, queue_sel, config_vector;
	/* MSI-X */
	keel_u32 msix_ctrl, msix_pba, msix_ready;
	struct {
		keel_u32 addr_lo, addr_hi, data, ctrl;
	} msix[KEEL_STATE_VIRTIO_VECTORS];
	struct keel_state_virtq vq[KEEL_STATE_VIRTIO_QUEUES];
};

/* A virtio-net NIC: its transport and the model's own state. Requests are
 * served when the guest kicks, so none is ever half done; pending work is
 * a flag. The MAC must be the loading side's (a clone changes it after
 * loading, with a link flap). */
struct keel_state_virtio_net {
	struct keel_state_virtio_pci vp;
	keel_u8 mac[6];
	keel_u8 reserved[2]; /* 0 */
	keel_u32 link;       /* 1 = up (VIRTIO_NET_S_LINK_UP), 0 = down */
	keel_u32 tx_pending; /* 0 or 1: transmit work waits */
	keel_u32 broken;     /* 0 or 1: the driver must reset the device */
	keel_u32 reserved2;  /* 0 */
};

/* A virtio-blk disk: its transport and the model's own state. */
struct keel_state_virtio_blk {
	struct keel_state_virtio_pci vp;
	keel_u32 pending; /* 0 or 1: requests wait */
	keel_u32 broken;  /* 0 or 1: the driver must reset the device */
};

/* The virtio-balloon device every guest has (ABI 1.12): its transport,
 * the balloon size the hypervisor asks for and the guest reports, both in
 * 4 KiB pages, and the ceiling keel mem-max set. Which pages the guest
 * holds in its balloon is not saved: a restored guest gets all of its RAM
 * back and its balloon's pages are simply unused RAM until it deflates. */
/* CPU hotplug (optional: without it, every vCPU is present): bitmaps by
 * vCPU, and the GPE0 block's status and enable bytes. */
struct keel_state_cpuhp {
	keel_u8 present;  /* bit 0 always set; none at or above the domain's vCPUs */
	keel_u8 ejected;  /* a subset of the vCPUs not present */
	keel_u8 gpe_sts;
	keel_u8 gpe_en;
	keel_u32 reserved; /* 0 */
};

struct keel_state_balloon {
	struct keel_state_virtio_pci vp;
	keel_u32 num_pages; /* target balloon size, pages */
	keel_u32 actual;    /* the guest's balloon size, pages */
	keel_u32 pending;   /* bit 0: inflate queue kicked, bit 1: deflate */
	keel_u32 broken;    /* 0 or 1: the driver must reset the device */
	keel_u64 max_bytes; /* keel mem-max */
};

/* A vCPU's architectural state, the same on AMD-V and VT-x: each backend
 * converts its VMCB or VMCS (arch/x86/svm/svm_state.c). Segment attributes
 * use the Intel SDM's access-rights layout (vol. 3C, 24.4.1: type 3:0,
 * S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16). A pending
 * event is one the CPU had not yet delivered when the vCPU stopped. */
#define KEEL_STATE_SEG_UNUSABLE (1u << 16)
struct keel_state_seg {
	keel_u32 sel;   /* 16 bits */
	keel_u32 attr;  /* access rights, as above */
	keel_u32 limit; /* in bytes */
	keel_u32 reserved; /* 0 */
	keel_u64 base;
};
#define KEEL_STATE_EVENT_VALID (1u << 31) /* event: vector 7:0, type 10:8, */
#define KEEL_STATE_EVENT_ERR (1u << 11)   /* error code valid 11, valid 31 */
struct keel_state_vcpu {
	/* rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15 (the ModRM order) */
	keel_u64 gpr[16];
	keel_u64 rip, rflags;
	keel_u64 cr0, cr2, cr3, cr4, efer;
	keel_u64 dr6, dr7;
	struct keel_state_seg es, cs, ss, ds, fs, gs, ldtr, tr;
	keel_u64 gdtr_base, idtr_base;
	keel_u32 gdtr_limit, idtr_limit;
	keel_u64 star, lstar, cstar, sfmask, kernel_gs_base;
	keel_u64 sysenter_cs, sysenter_esp, sysenter_eip;
	keel_u64 pat;
	keel_u32 int_shadow;  /* 1: interrupts blocked for one instruction */
	keel_u32 event;       /* KEEL_STATE_EVENT_*, 0 = none */
	keel_u32 event_error; /* its error code */
	keel_u32 reserved;    /* 0 */
};

/* What the hypervisor keeps of a vCPU beside its registers: whether it
 * runs, waits in HLT or for a SIPI, and the MSRs and debug registers it
 * emulates or switches itself. */
#define KEEL_STATE_RUN_WAIT_SIPI 0u
#define KEEL_STATE_RUN_RUNNABLE 1u
#define KEEL_STATE_RUN_HALTED 2u
#define KEEL_STATE_RUN_OFF 3u
#define KEEL_STATE_RUN_INIT_PENDING (1u << 0)
#define KEEL_STATE_RUN_SIPI_PENDING (1u << 1)
struct keel_state_vcpu_run {
	keel_u32 state;       /* KEEL_STATE_RUN_* */
	keel_u32 flags;       /* KEEL_STATE_RUN_*_PENDING */
	keel_u32 sipi_vector; /* 8 bits */
	keel_u32 reserved;    /* 0 */
	keel_u64 tsc_aux, spec_ctrl;
	keel_u64 dr[4];       /* DR0-DR3 */
};

/* The FPU/SSE/AVX state of a vCPU: the XSAVE area (standard format) of
 * the components in rfbm, or an FXSAVE area when rfbm is 0, area_bytes
 * long, follows. A loader whose CPU has other XSAVE components converts
 * the area (each component both have, at its standard offset) if the
 * guest's XCR0 uses only components it has; an FXSAVE area needs a CPU
 * without XSAVE. */
struct keel_state_fpu {
	keel_u64 xcr0;        /* the guest's XCR0 */
	keel_u64 rfbm;        /* components the area holds (the host's XCR0) */
	keel_u32 area_bytes;
	keel_u32 reserved;    /* 0 */
	/* keel_u8 area[area_bytes] follows */
};

/* The guest's time stamp counter: the host's plus the domain's offset.
 * Loaded in the same boot (boot_id), the offset is kept, so the guest's
 * TSC counts the time it spent saved; loaded in another boot or on
 * another machine, the guest's TSC goes on from @tsc, and the load is
 * refused (-KEEL_ERANGE) unless this TSC runs within 0.1 % of @tsc_khz.
 * A record from before ABI 1.17 (16 bytes) loads in its own boot only
 * (-KEEL_EXDEV). */
struct keel_state_tsc {
	keel_u64 boot_id;     /* the saving hypervisor's (random per boot) */
	keel_u64 tsc;         /* the guest's TSC when saved */
	keel_u64 tsc_offset;  /* (1.17) the guest's TSC minus the host's then */
	keel_u64 tsc_khz;     /* (1.17) the rate it ran at */
};

/* The CPU features the guest was given when it first booted, which it
 * keeps wherever it moves: eight CPUID words (KEEL_CPUID_WORD_*), with
 * the bits that follow the guest's own CR4 (OSXSAVE, OSPKE) and the
 * hypervisor bit cleared. After a load the guest is shown no feature
 * outside them, and a load on a CPU that lacks one of them (as Keel
 * gives guests) is refused: -KEEL_EOPNOTSUPP with bad_type
 * KEEL_STATE_CPUID and bad_instance = word * 32 + bit of the first
 * missing feature. Files from before ABI 1.18 have no such record: the
 * guest then gets this CPU's features. */
#define KEEL_CPUID_WORD_1_ECX 0u    /* leaf 1 ECX */
#define KEEL_CPUID_WORD_1_EDX 1u    /* leaf 1 EDX */
#define KEEL_CPUID_WORD_7_EBX 2u    /* leaf 7 subleaf 0 EBX */
#define KEEL_CPUID_WORD_7_ECX 3u    /* leaf 7 subleaf 0 ECX */
#define KEEL_CPUID_WORD_7_EDX 4u    /* leaf 7 subleaf 0 EDX */
#define KEEL_CPUID_WORD_E1_ECX 5u   /* leaf 0x80000001 ECX */
#define KEEL_CPUID_WORD_E1_EDX 6u   /* leaf 0x80000001 EDX */
#define KEEL_CPUID_WORD_D1_EAX 7u   /* leaf 0xD subleaf 1 EAX (XSAVE forms) */
#define KEEL_CPUID_WORDS 8u
struct keel_state_cpuid {
	keel_u32 words[KEEL_CPUID_WORDS];
};

/* The pvpanic PCI function: what its driver can change. */
struct keel_state_pvpanic {
	keel_u32 command; /* memory, bus master, interrupt disable */
	keel_u32 bar0;
};

/* The ACPI PM1 block: status, enables and control as stored. */
struct keel_state_acpi_pm {
	keel_u32 sts, en, cnt;
	keel_u32 reserved; /* 0 */
};

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
