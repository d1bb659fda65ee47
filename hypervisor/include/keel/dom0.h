/*
 * Dom0: Debian's stock kernel, started by the hypervisor following the
 * Linux boot protocol and run with the hardware passed through, or started
 * natively when there is no usable hardware virtualization.
 */
#ifndef KEEL_DOM0_H
#define KEEL_DOM0_H

#include <stdint.h>
#include <keel/multiboot.h>
#include <keel/memmap.h>
#include <bootproto/linux_boot.h>
#include <keel/compiler.h>

struct vcpu;
struct vm_exit;

/* Everything dom0_start and dom0_boot_native need to know. */
struct dom0_config {
	const struct boot_info *bi;       /* modules: [0] kernel, [1] initrd */
	const struct mem_range *fw_map;   /* sanitized firmware memory map */
	uint32_t n_fw;
	const struct mem_split *split;    /* NULL when booting natively */
	uint64_t rsdp_pa;
	uint32_t nr_cpus;                 /* CPUs dom0 may use */
	uint32_t first_cpu;               /* hypervisor index of the first */
	uint32_t hidden_apic_id;          /* a CPU Linux must not count as one of
					   * its own (the idle CPU 0), or
					   * DOM0_NO_APIC_ID */
	struct linux_vga_state vga;
	struct linux_fb_state fb;     /* the loader's framebuffer (UEFI) */
	const char *compat_text;      /* the compatibility report, added to the
				       * initramfs as /etc/keel/compat; NULL
				       * or "" for none */
};

#define DOM0_NO_APIC_ID 0xFFFFFFFFu
#define DOM0_MAX_CPUS 8u /* the ICR filter's limit (APIC_FILTER_MAX_CPUS) */

/* Build dom0 and run its first vCPU on the calling CPU (cfg->first_cpu)
 * under the hypervisor; the hypervisor's framebuffer console stops just
 * before (fbcon_release), dom0 owns the screen. Returns only on an error
 * that leaves dom0 unstarted (-errno, already logged, and on the screen). */
int dom0_start(const struct dom0_config *cfg);

/* On dom0's other CPUs: wait until dom0 is built and its kernel starts
 * this CPU with INIT and start-up IPIs, then run that vCPU. Never returns. */
void __noreturn dom0_run_ap(void);

/* Load dom0 and jump into it natively (the framebuffer console stops
 * first); the hypervisor is gone afterwards. Returns -errno (logged) only
 * if dom0 could not be loaded. */
int dom0_boot_native(const struct dom0_config *cfg);

#endif
