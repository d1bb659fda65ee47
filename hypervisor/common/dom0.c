/*
 * Building and running dom0. The kernel module is placed at its preferred
 * address and the initrd at the top of dom0's RAM, following the Linux x86
 * boot protocol (lib/bootproto/linux_boot.c). Dom0 runs on its CPU with devices,
 * interrupts and LAPIC passed through; nested paging maps guest-physical
 * addresses 1:1 onto host-physical ones except the RAM dom0 was not given
 * (the hypervisor image and the guest pool). Those addresses are marked
 * reserved in dom0's e820; if dom0 touches one anyway (for example through
 * /dev/mem), it gets a private junk page that reads as 0xff and never the
 * real memory.
 *
 * Dom0's local APIC is its own, but its interrupt command register reaches
 * every CPU: the xAPIC page is mapped read-only, so dom0's writes to it
 * exit and are replayed on the real LAPIC, and the x2APIC ICR and the APIC
 * base MSR are intercepted; an IPI for any CPU but dom0's own, and every
 * INIT, start-up or SMI IPI, is logged and dropped (common/apic_filter.c).
 */
#include <keel/dom0.h>
#include <bootproto/cpio_newc.h>
#include <keel/fbcon.h>
#include <keel/msr_policy.h>
#include <keel/domain.h>
#include <keel/decode.h>
#include <keel/virt.h>
#include <keel/hv.h>
#include <keel/mm.h>
#include <keel/npt.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/watchdog.h>
#include <keel/string.h>
#include <keel/printf.h>
#include <keel/apic_filter.h>
#include <keel/vcpu_loop.h>
#include <keel/cpuid_policy.h>
#include <asm/x86.h>
#include <public/keel_abi.h>

#define DOM0_ZERO_PAGE_PA 0x20000ull
#define DOM0_CMDLINE_PA 0x21000ull
#define DOM0_CMDLINE_BYTES 4096u
#define DOM0_KERNEL_MIN_PA (16ull << 20)
#define DOM0_MAX_HIDDEN 128
#define DOM0_NPF_LOG_LIMIT 8
#define DOM0_NPT_RESERVE_PAGES 32u /* nested page tables dom0 may still get
				    * when the guest pool is full */
#define DOM0_CRASH_REBOOT_US 10000000ull
#define LOW_4G_BYTES (4ull << 30)
#define LAPIC_REG_LDR 0xD0
#define LAPIC_REG_ICR_LO 0x300
#define LAPIC_REG_ICR_HI 0x310
#define MSR_X2APIC_ICR 0x830u
#define X2APIC_MSR_ID 0x802u
#define X2APIC_MSR_LDR 0x80Du
#define DOM0_IPI_LOG_LIMIT 8
#define DOM0_CFG_LOG_LIMIT 16 /* writes to shared configuration MSRs logged */
#define VECTOR_GP 13

struct dom0_layout {
	uint64_t kernel_pa;
	uint64_t initrd_pa;
	uint64_t initrd_bytes;
};

static struct domain dom0;
static volatile bool dom0_built;   /* its other vCPUs may be created */
static struct spinlock npt_lock;   /* dom0's vCPUs share its nested tables */
static uint32_t dom0_ldr[DOM0_MAX_CPUS]; /* xAPIC logical ids dom0 set, per vCPU */

static void __noreturn dom0_run(struct vcpu *v);
static const struct domain_ops dom0_ops;
static struct mem_range hidden[DOM0_MAX_HIDDEN];
static uint32_t n_hidden;
static uint64_t sink_pa;     /* 4 KiB of 0xff for hidden pages dom0 touches */
static uint64_t sink_2m_pa;  /* 2 MiB of 0xff for wholly hidden 2 MiB regions */
static uint64_t npt_reserve[DOM0_NPT_RESERVE_PAGES]; /* tables for a full pool */
static uint32_t n_npt_reserve;
static bool npt_reserve_logged;
static uint64_t npt_boot_top; /* npt_build mapped everything below it */
static uint32_t npf_logged;
static uint8_t setup_copy[LINUX_ZERO_PAGE_BYTES];

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int place_kernel(const struct linux_image *li, const struct mem_range *ram,
			uint32_t n, uint64_t *out)
{
	uint32_t i;

	if (memmap_contains(ram, n, li->pref_address, li->init_size)) {
		*out = li->pref_address;
		return 0;
	}
	if (!li->relocatable)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint64_t start = ALIGN_UP(MAX(ram[i].base, DOM0_KERNEL_MIN_PA),
					  li->kernel_alignment);

		if (start + li->init_size <= ram[i].base + ram[i].len) {
			*out = start;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Highest page-aligned spot for bytes in ram below limit, clear of avoid. */
static int place_initrd(uint64_t bytes, const struct mem_range *ram, uint32_t n,
			uint64_t limit, uint64_t avoid, uint64_t avoid_len,
			uint64_t *out)
{
	uint32_t i = n;

	while (i-- > 0) {
		uint64_t end = MIN(ram[i].base + ram[i].len, limit);
		uint64_t start;

		if (end < ram[i].base + bytes)
			continue;
		start = ALIGN_DOWN(end - bytes, PAGE_SIZE_4K);
		if (ranges_overlap(start, bytes, avoid, avoid_len) && avoid > bytes)
			start = ALIGN_DOWN(avoid - bytes, PAGE_SIZE_4K);
		if (start >= ram[i].base && !ranges_overlap(start, bytes, avoid, avoid_len)) {
			*out = start;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Command line: the module string without its first word (the file name),
 * then what the hypervisor adds. */
static int build_cmdline(const struct dom0_config *cfg, const struct linux_image *li,
			 char *out)
{
	const char *s = cfg->bi->modules[0].string;
	int n;

	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	if (cfg->split && cfg->hidden_apic_id != DOM0_NO_APIC_ID)
		n = ksnprintf(out, DOM0_CMDLINE_BYTES, "%s nr_cpus=%u disable_cpu_apicid=%u "
			      "amd_iommu=off intel_iommu=off", s, cfg->nr_cpus, cfg->hidden_apic_id);
	else if (cfg->split)
		n = ksnprintf(out, DOM0_CMDLINE_BYTES, "%s nr_cpus=%u amd_iommu=off intel_iommu=off",
			      s, cfg->nr_cpus);
	else
		n = ksnprintf(out, DOM0_CMDLINE_BYTES, "%s", s);
	if (n < 0 || (uint32_t)n >= DOM0_CMDLINE_BYTES || (uint32_t)n > li->cmdline_size) {
		log_err("dom0 command line is too long (%d bytes, the kernel takes %u)\n",
			n, li->cmdline_size);
		return -E2BIG;
	}
	return 0;
}

static uint8_t compat_cpio[4096];

/* Build in compat_cpio a newc archive that holds text as /etc/keel/compat,
 * for Linux to unpack after the initrd. Returns its length, 0 for no text
 * (or, logged, text too long for the archive). */
static uint32_t compat_archive(const char *text)
{
	uint32_t off = 0;

	if (!text || !*text)
		return 0;
	if (cpio_newc_add(compat_cpio, sizeof(compat_cpio), &off, "etc", CPIO_NEWC_MODE_DIR,
			  NULL, 0) ||
	    cpio_newc_add(compat_cpio, sizeof(compat_cpio), &off, "etc/keel",
			  CPIO_NEWC_MODE_DIR, NULL, 0) ||
	    cpio_newc_add(compat_cpio, sizeof(compat_cpio), &off, "etc/keel/compat",
			  CPIO_NEWC_MODE_FILE, text, (uint32_t)strlen(text)) ||
	    cpio_newc_finish(compat_cpio, sizeof(compat_cpio), &off)) {
		log_warn("the compatibility report does not fit its archive; dom0 goes without\n");
		return 0;
	}
	return off;
}

static int load_modules(const struct dom0_config *cfg, const struct linux_image *li,
			const struct mem_range *ram, uint32_t n, struct dom0_layout *l)
{
	const struct boot_module *k = &cfg->bi->modules[0];
	const struct boot_module *rd = cfg->bi->nr_modules > 1 ? &cfg->bi->modules[1] : 0;
	uint64_t limit, rd_bytes;
	uint32_t extra_bytes;

	if (place_kernel(li, ram, n, &l->kernel_pa)) {
		log_err("no room for the dom0 kernel (%u MiB needed at %#llx)\n",
			li->init_size >> 20, (unsigned long long)li->pref_address);
		return -ENOMEM;
	}
	rd_bytes = rd ? rd->end - rd->start : 0;
	extra_bytes = rd ? compat_archive(cfg->compat_text) : 0;
	l->initrd_bytes = extra_bytes ? ALIGN_UP(rd_bytes, 4) + extra_bytes : rd_bytes;
	l->initrd_pa = 0;
	if (rd) {
		limit = (uint64_t)li->initrd_addr_max + 1;
		if (place_initrd(l->initrd_bytes, ram, n, limit, l->kernel_pa,
				 li->init_size, &l->initrd_pa) ||
		    ranges_overlap(l->initrd_pa, l->initrd_bytes, k->start, k->end - k->start)) {
			log_err("no room for the dom0 initrd (%llu MiB)\n",
				(unsigned long long)(l->initrd_bytes >> 20));
			return -ENOMEM;
		}
		memmove(phys_to_virt(l->initrd_pa), phys_to_virt(rd->start), rd_bytes);
		/* Linux skips the zeros between the archives (early-userspace
		 * buffer-format.rst) */
		memset((uint8_t *)phys_to_virt(l->initrd_pa) + rd_bytes, 0,
		       l->initrd_bytes - rd_bytes - extra_bytes);
		memcpy((uint8_t *)phys_to_virt(l->initrd_pa) + l->initrd_bytes - extra_bytes,
		       compat_cpio, extra_bytes);
	}
	memmove(phys_to_virt(l->kernel_pa), phys_to_virt(k->start + li->setup_bytes),
		li->payload_bytes);
	return 0;
}

STATIC_ASSERT(LINUX_BOOT_EINVAL == EINVAL && LINUX_BOOT_ENOSYS == ENOSYS &&
	      LINUX_BOOT_E2BIG == E2BIG && LINUX_E820_RAM == E820_RAM &&
	      LINUX_E820_RESERVED == E820_RESERVED,
	      "the boot-protocol library's numbers are the hypervisor's");

static struct linux_e820_entry linux_e820[LINUX_E820_MAX_ENTRIES];

/* Copy the memory map e (n entries) into linux_e820, the boot protocol's
 * form. 0, or -E2BIG if it does not fit. */
static int e820_for_linux(const struct mem_range *e, uint32_t n)
{
	uint32_t i;

	if (n > LINUX_E820_MAX_ENTRIES)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		linux_e820[i].base = e[i].base;
		linux_e820[i].len = e[i].len;
		linux_e820[i].type = e[i].type;
	}
	return 0;
}

/*
 * Load kernel and initrd into ram (the RAM dom0 gets), and write the zero
 * page and command line. e820 is what dom0 will be told about memory.
 */
static int load_linux(const struct dom0_config *cfg, const struct mem_range *ram,
		      uint32_t n, const struct mem_range *e820, uint32_t n_e820,
		      struct dom0_layout *l)
{
	const struct boot_module *k = &cfg->bi->modules[0];
	const void *img = phys_to_virt(k->start);
	struct linux_boot_params p;
	struct linux_image li;
	int rc;

	if (cfg->bi->nr_modules < 1 || k->end - k->start < sizeof(setup_copy)) {
		log_err("no dom0 kernel: load it as the first module ('mboot.c32 keel.gz --- vmlinuz "
			"<args> --- initrd.img', or GRUB's 'module2 /vmlinuz' and 'module2 /initrd.img')\n");
		return -ENOENT;
	}
	rc = linux_parse(img, k->end - k->start, &li);
	if (rc) {
		log_err("the first module (%s) is not a Linux bzImage with boot protocol 2.12 or later\n",
			k->string);
		return rc;
	}
	rc = build_cmdline(cfg, &li, phys_to_virt(DOM0_CMDLINE_PA));
	if (rc)
		return rc;
	/* Keep the setup header: moving the modules may overwrite the image. */
	memcpy(setup_copy, img, sizeof(setup_copy));
	rc = load_modules(cfg, &li, ram, n, l);
	if (rc)
		return rc;
	memset(&p, 0, sizeof(p));
	p.load_addr = l->kernel_pa;
	p.cmdline_pa = DOM0_CMDLINE_PA;
	p.initrd_pa = l->initrd_pa;
	p.initrd_bytes = l->initrd_bytes;
	p.acpi_rsdp_pa = cfg->rsdp_pa;
	rc = e820_for_linux(e820, n_e820);
	if (rc)
		return rc;
	p.e820 = linux_e820;
	p.n_e820 = n_e820;
	p.vga = cfg->vga;
	p.fb = cfg->fb;
	log_info("dom0 kernel at %#llx (%u MiB reserved), initrd at %#llx (%llu KiB)\n",
		 (unsigned long long)l->kernel_pa, li.init_size >> 20,
		 (unsigned long long)l->initrd_pa, (unsigned long long)(l->initrd_bytes >> 10));
	log_info("dom0 command line: %s\n", (const char *)phys_to_virt(DOM0_CMDLINE_PA));
	return linux_build_zero_page(phys_to_virt(DOM0_ZERO_PAGE_PA), setup_copy, &p);
}

static int hidden_add(uint64_t base, uint64_t end)
{
	if (n_hidden == DOM0_MAX_HIDDEN)
		return -E2BIG;
	hidden[n_hidden].base = base;
	hidden[n_hidden].len = end - base;
	hidden[n_hidden++].type = E820_RAM;
	return 0;
}

/* Hidden = firmware RAM that is not dom0's: the hypervisor and the pool.
 * Both lists are sorted, so the result is sorted too. */
static int compute_hidden(const struct dom0_config *cfg)
{
	const struct mem_split *sp = cfg->split;
	uint32_t i, j;
	int rc = 0;

	n_hidden = 0;
	for (i = 0; i < cfg->n_fw && rc == 0; i++) {
		uint64_t cur = cfg->fw_map[i].base;
		uint64_t end = cur + cfg->fw_map[i].len;

		if (cfg->fw_map[i].type != E820_RAM)
			continue;
		for (j = 0; j < sp->n_dom0 && rc == 0; j++) {
			uint64_t db = sp->dom0[j].base, de = db + sp->dom0[j].len;

			if (de <= cur || db >= end)
				continue;
			if (db > cur)
				rc = hidden_add(cur, db);
			cur = de;
		}
		if (rc == 0 && cur < end)
			rc = hidden_add(cur, end);
	}
	return rc;
}

static bool gpa_hidden(uint64_t gpa, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < n_hidden; i++)
		if (ranges_overlap(gpa, len, hidden[i].base, hidden[i].len))
			return true;
	return false;
}

/* Whether every byte of [gpa, gpa + len) is hidden (hidden[] is sorted
 * and its ranges do not overlap). */
static bool gpa_all_hidden(uint64_t gpa, uint64_t len)
{
	uint64_t cur = gpa;
	uint32_t i;

	for (i = 0; i < n_hidden && cur < gpa + len; i++)
		if (hidden[i].base <= cur && cur < hidden[i].base + hidden[i].len)
			cur = hidden[i].base + hidden[i].len;
	return cur >= gpa + len;
}

/* A table for dom0's nested page tables: from the pool, or, once the pool
 * is full (guests and images took it all), from the reserve set aside at
 * boot, so that dom0's next nested page fault does not end dom0. */
static uint64_t dom0_npt_alloc(void *ctx)
{
	uint64_t pa = mm_alloc_pages(1, 1), more;

	(void)ctx;
	while (pa && n_npt_reserve < DOM0_NPT_RESERVE_PAGES) { /* refill after a full pool */
		more = mm_alloc_pages(1, 1);
		if (!more)
			break;
		npt_reserve[n_npt_reserve++] = more;
	}
	if (pa || !n_npt_reserve)
		return pa;
	pa = npt_reserve[--n_npt_reserve];
	memset(phys_to_virt(pa), 0, PAGE_SIZE_4K);
	if (!npt_reserve_logged) {
		npt_reserve_logged = true;
		log_warn("the guest pool is full: dom0's nested page tables use their reserve "
			 "(%u of %u pages left)\n", n_npt_reserve, DOM0_NPT_RESERVE_PAGES);
	}
	return pa;
}

/* Map everything below max(4 GiB, dom0's top) 1:1 except hidden RAM;
 * higher addresses (64-bit BARs) are mapped when first touched. */
static int npt_build(const struct dom0_config *cfg)
{
	const struct mem_split *sp = cfg->split;
	uint64_t flags = virt->npt_flags_rwx, cur = 0, limit = LOW_4G_BYTES;
	uint32_t i;
	int rc;

	if (sp->n_dom0)
		limit = MAX(limit, sp->dom0[sp->n_dom0 - 1].base + sp->dom0[sp->n_dom0 - 1].len);
	dom0.npt.root_pa = 0;
	mm_pt_init(&dom0.npt);
	if (!dom0.npt.root_pa)
		return -ENOMEM;
	dom0.npt.alloc_table = dom0_npt_alloc;
	npt_boot_top = limit;
	for (i = 0; i < n_hidden && cur < limit; i++) {
		if (hidden[i].base > cur) {
			rc = npt_map(&dom0.npt, cur, cur, MIN(hidden[i].base, limit) - cur, flags, 21);
			if (rc)
				return rc;
		}
		cur = MAX(cur, hidden[i].base + hidden[i].len);
	}
	if (cur < limit) {
		rc = npt_map(&dom0.npt, cur, cur, limit - cur, flags, 21);
		if (rc)
			return rc;
	}
	/* The xAPIC page read-only: writes exit (dom0_lapic_write). */
	return npt_map(&dom0.npt, arch_lapic_pa(), arch_lapic_pa(), PAGE_SIZE_4K,
		      virt->npt_flags_ro, 12);
}

static uint32_t ipis_dropped;

/* Dom0's CPUs for apic_filter_icr, seen from vCPU v. */
static void dom0_filter_cpus(const struct vcpu *v, bool x2apic, struct apic_filter_cpus *c)
{
	uint32_t k;

	c->n = dom0.nr_vcpus;
	c->self = v->id;
	c->x2apic = x2apic;
	for (k = 0; k < dom0.nr_vcpus; k++) {
		c->apic_id[k] = dom0.vcpus[k].cpu->apic_id;
		c->logical[k] = dom0_ldr[k];
	}
	if (x2apic) /* the x2APIC id is the APIC id the firmware listed */
		c->logical[v->id] = (uint32_t)rdmsr(X2APIC_MSR_LDR);
}

/* Emulate an INIT or start-up IPI (lo) from dom0 to its vCPU t, which
 * waits in dom0_run_ap: INIT arms it, a SIPI after an INIT starts it, as
 * on a CPU in wait-for-SIPI (Intel SDM vol. 3A, 8.4.4.1). A vCPU that
 * already runs ignores a SIPI, as a CPU does (Linux sends two), and an
 * INIT too, with a warning: a dom0 CPU cannot be restarted yet. */
static void dom0_start_ipi(struct vcpu *t, uint32_t lo)
{
	bool init = (lo & APIC_ICR_MODE_MASK) == APIC_ICR_MODE_INIT;

	if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != VCPU_WAIT_SIPI) {
		if (init && ipis_dropped++ < DOM0_IPI_LOG_LIMIT)
			log_warn("dom0 sent INIT to its running CPU %u: ignored (a dom0 CPU "
				 "cannot be restarted)\n", t->cpu->index);
		return;
	}
	if (init) {
		__atomic_store_n(&t->init_pending, true, __ATOMIC_RELEASE);
		return;
	}
	if (!__atomic_load_n(&t->init_pending, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&t->sipi_pending, __ATOMIC_ACQUIRE))
		return; /* SIPI without INIT, or the second SIPI: ignored as by a CPU */
	t->sipi_vector = (uint8_t)(lo & 0xFF);
	__atomic_store_n(&t->sipi_pending, true, __ATOMIC_RELEASE);
}

/* Send the IPI lo to dom0's vCPU k from vCPU v's CPU: to itself by
 * shorthand, to another by physical destination (keeping the xAPIC ICR
 * high word dom0 wrote). */
static void dom0_send_one(const struct vcpu *v, uint32_t k, uint32_t lo, bool x2apic)
{
	uint32_t id = dom0.vcpus[k].cpu->apic_id;

	if (k == v->id) {
		lo |= APIC_ICR_SHORTHAND_SELF;
		id = 0;
	}
	if (x2apic)
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)id << 32) | lo);
	else
		arch_lapic_send(id, lo);
}

/* Carry out dom0's ICR write (low word lo, destination dest) from vCPU v
 * as apic_filter_icr decides: sent to dom0's CPUs, INIT/SIPI emulated,
 * or dropped and logged. x2apic says which interface it came through. */
static void dom0_send_icr(struct vcpu *v, uint32_t lo, uint32_t dest, bool x2apic)
{
	struct apic_filter_cpus c;
	struct apic_filter_action a;
	const char *why;
	uint32_t k;

	dom0_filter_cpus(v, x2apic, &c);
	if (apic_filter_icr(lo, dest, &c, &a, &why) == 0) {
		for (k = 0; k < dom0.nr_vcpus; k++) {
			if (!(a.targets & (1u << k)))
				continue;
			if (a.start)
				dom0_start_ipi(&dom0.vcpus[k], a.lo);
			else
				dom0_send_one(v, k, a.lo, x2apic);
		}
		return;
	}
	if (ipis_dropped++ < DOM0_IPI_LOG_LIMIT)
		log_warn("dom0 sent an IPI (ICR %#x, destination %#x) that is not for its own CPU: "
			 "dropped (%s)\n", lo, dest, why);
}

/* Dom0 wrote its read-only xAPIC page: decode the store and replay it on
 * the real LAPIC, the ICR through dom0_send_icr. 0, or -EFAULT if the
 * instruction is not a store the decoder knows (dom0 then crashes). */
static int dom0_lapic_write(struct vcpu *v, const struct vm_exit *e)
{
	uint8_t code[DECODE_MAX_INSN_LEN] = { 0 };
	uint32_t got = 0, off = (uint32_t)(e->gpa & 0xFFF), val;
	struct mmio_insn in;
	enum cpu_mode mode;
	uint64_t rip;

	if (domain_fetch_insn(v, code, &got, &mode, &rip) || decode_mmio(code, got, mode, &in) ||
	    in.kind != MMIO_STORE || in.vec) {
		log_err("dom0 wrote its local APIC at %#llx with an instruction that cannot be "
			"emulated: %02x %02x %02x %02x\n", (unsigned long long)rip, code[0],
			code[1], code[2], code[3]);
		return -EFAULT;
	}
	val = (uint32_t)mmio_store_value(&v->regs, &in);
	if ((off & 0xFF0) == LAPIC_REG_ICR_LO) {
		dom0_send_icr(v, val, arch_lapic_read(LAPIC_REG_ICR_HI) >> 24, false);
	} else {
		if ((off & 0xFF0) == LAPIC_REG_LDR)
			dom0_ldr[v->id] = val >> 24;
		arch_lapic_write(off, val);
	}
	v->regs.rip += in.len;
	return 0;
}

/* Dom0's WRMSR of val to msr (the APIC base or the x2APIC ICR): 0 once
 * done, or -EINVAL when dom0 gets a #GP instead, as from the real CPU
 * (or because the trapped page would move). */
static int dom0_apic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const char *why;

	if (msr == MSR_X2APIC_ICR) {
		/* dom0_msr refused it already outside x2APIC mode. */
		if ((uint32_t)val & ~APIC_X2APIC_ICR_LO_VALID)
			return -EINVAL;
		dom0_send_icr(v, (uint32_t)val, (uint32_t)(val >> 32), true);
		return 0;
	}
	if (apic_filter_base(rdmsr(MSR_APIC_BASE), val, arch_lapic_pa(), arch_cpu_has_x2apic(),
			     &why)) {
		log_warn("dom0 wrote %#llx to its APIC base: refused with #GP (%s)\n",
			 (unsigned long long)val, why);
		return -EINVAL;
	}
	wrmsr(MSR_APIC_BASE, val);
	return 0;
}

/* Dom0's RDMSR or WRMSR of a configuration MSR its CPU shares with an SMT
 * sibling (msr_policy_shared_cfg gave its name): a read passes, a write
 * sets bits but keeps set what is set. The first few writes, and the
 * first access the CPU refuses, are logged. 0, or -EIO when this CPU does
 * not have the MSR (dom0 then gets the #GP it would get). */
static int dom0_shared_cfg_msr(struct vcpu *v, const struct vm_exit *e, const char *name)
{
	static uint32_t logged_writes, logged_gp;
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax, cur, want;

	if (rdmsr_safe(e->msr, &cur))
		goto no_msr;
	if (e->reason == VM_EXIT_MSR_READ) {
		v->regs.rax = (uint32_t)cur;
		v->regs.rdx = cur >> 32;
		return 0;
	}
	want = msr_policy_shared_cfg_write(cur, val);
	if (wrmsr_safe(e->msr, want))
		goto no_msr;
	if (__atomic_fetch_add(&logged_writes, 1, __ATOMIC_RELAXED) < DOM0_CFG_LOG_LIMIT)
		log_info("dom0 wrote %#llx to %s (MSR %#x, shared with the SMT sibling): "
			 "%#llx written%s\n", (unsigned long long)val, name, e->msr,
			 (unsigned long long)want,
			 want != val ? ", the bits that were set stay set" : "");
	return 0;
no_msr:
	if (!__atomic_exchange_n(&logged_gp, 1, __ATOMIC_RELAXED))
		log_info("dom0's %s of %s (MSR %#x): this CPU does not have it, #GP "
			 "passed on to dom0\n", e->reason == VM_EXIT_MSR_READ ? "RDMSR" : "WRMSR",
			 name, e->msr);
	return -EIO;
}

/* Handle an intercepted RDMSR/WRMSR of dom0 (the APIC base, the x2APIC
 * ICR, the microcode loader and the shared configuration MSRs; see
 * svm_set_passthrough_intercepts): microcode loads are dropped, reads pass, ICR
 * writes are checked (dom0_send_icr), base writes too
 * (apic_filter_base), configuration writes may only set bits
 * (dom0_shared_cfg_msr). What the real CPU would refuse (the x2APIC ICR
 * outside x2APIC mode, reserved bits, an MSR it does not have), and any
 * other MSR, gets a #GP, so the hypervisor's own RDMSR/WRMSR never
 * faults. */
static void dom0_msr(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax, cur;
	bool x2apic_on = (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD) != 0;
	static bool ucode_logged;

	if ((e->msr == MSR_AMD_PATCH_LOADER || e->msr == MSR_INTEL_BIOS_UPDT_TRIG) &&
	    e->reason == VM_EXIT_MSR_WRITE) {
		/* A patch would change the core that guests run on too (and its
		 * SMT sibling): dropped, and the patch level dom0 reads back
		 * stays what it was, so its loader reports the failure. */
		if (!ucode_logged) {
			ucode_logged = true;
			log_warn("dom0 tried to load a CPU microcode update: ignored "
				 "(update the firmware instead)\n");
		}
		v->regs.rip += e->insn_len;
		return;
	}

	if (msr_policy_shared_cfg(e->msr)) {
		if (dom0_shared_cfg_msr(v, e, msr_policy_shared_cfg(e->msr)))
			virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		else
			v->regs.rip += e->insn_len;
		return;
	}
	if ((e->msr != MSR_APIC_BASE && e->msr != MSR_X2APIC_ICR) ||
	    (e->msr == MSR_X2APIC_ICR && !x2apic_on)) {
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	if (e->reason == VM_EXIT_MSR_READ) {
		cur = rdmsr(e->msr);
		v->regs.rax = (uint32_t)cur;
		v->regs.rdx = cur >> 32;
	} else if (dom0_apic_msr_write(v, e->msr, val)) {
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	v->regs.rip += e->insn_len;
}

/* Resolve a nested page fault of dom0: a write to its read-only xAPIC
 * page (dom0_lapic_write), or a first touch of an address that is mapped
 * lazily (a hidden page gets a junk page). 0, or -EFAULT to end dom0. */
static int dom0_handle_npf(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t page = ALIGN_DOWN(e->gpa, PAGE_SIZE_4K);
	uint64_t big = ALIGN_DOWN(e->gpa, PAGE_SIZE_2M);
	uint64_t huge = ALIGN_DOWN(e->gpa, PAGE_SIZE_1G);
	int rc;

	uint64_t pa, flags;
	uint32_t shift;

	if (page == arch_lapic_pa() && (e->npf_flags & NPF_WRITE))
		return dom0_lapic_write(v, e);
	if (e->npf_flags & NPF_PRESENT)
		return -EFAULT;
	spin_lock(&npt_lock);
	if (pt_lookup(&dom0.npt, page, &pa, &flags, &shift) == 0) {
		rc = 0; /* another of dom0's vCPUs mapped it meanwhile */
	} else if (gpa_hidden(page, PAGE_SIZE_4K)) {
		if (npf_logged++ < DOM0_NPF_LOG_LIMIT)
			log_warn("dom0 touched hidden memory at %#llx; it gets a junk page instead\n",
				 (unsigned long long)e->gpa);
		/* A wholly hidden 2 MiB region takes no page table of its own. */
		if (gpa_all_hidden(big, PAGE_SIZE_2M))
			rc = npt_map(&dom0.npt, big, sink_2m_pa, PAGE_SIZE_2M, virt->npt_flags_rwx, 21);
		else
			rc = npt_map(&dom0.npt, page, sink_pa, PAGE_SIZE_4K, virt->npt_flags_rwx, 12);
	} else if (huge >= npt_boot_top && !gpa_hidden(huge, PAGE_SIZE_1G) &&
		   arch_cpu_has_1g_pages()) {
		/* Above the RAM (64-bit BARs, or nothing): no table of its own. */
		rc = npt_map(&dom0.npt, huge, huge, PAGE_SIZE_1G, virt->npt_flags_rwx, 30);
	} else if (!gpa_hidden(big, PAGE_SIZE_2M)) {
		rc = npt_map(&dom0.npt, big, big, PAGE_SIZE_2M, virt->npt_flags_rwx, 21);
	} else {
		rc = npt_map(&dom0.npt, page, page, PAGE_SIZE_4K, virt->npt_flags_rwx, 12);
	}
	spin_unlock(&npt_lock);
	if (rc == 0)
		virt->vcpu_flush_npt(v);
	return rc;
}

/* Dom0 cannot go on: log why and its state, then reset the machine. */
static void __noreturn dom0_crash(struct vcpu *v, const char *why)
{
	log_err("dom0 crashed: %s\n", why);
	virt->vcpu_dump(v);
	vcpu_dump_exit_history(v);
	log_err("rebooting the machine in %llu s\n",
		(unsigned long long)(DOM0_CRASH_REBOOT_US / 1000000));
	udelay(DOM0_CRASH_REBOOT_US);
	arch_reset_machine();
}

static int setup_special_pages(void)
{
	uint32_t off, len = (uint32_t)strlen(KEEL_HIDDEN_MARKER);

	sink_pa = mm_alloc_pages(1, 1);
	sink_2m_pa = mm_alloc_pages(PAGE_SIZE_2M / PAGE_SIZE_4K, PAGE_SIZE_2M / PAGE_SIZE_4K);
	hv.marker_pa = mm_alloc_pages(1, 1);
	if (!sink_pa || !sink_2m_pa || !hv.marker_pa)
		return -ENOMEM;
	for (n_npt_reserve = 0; n_npt_reserve < DOM0_NPT_RESERVE_PAGES; n_npt_reserve++) {
		npt_reserve[n_npt_reserve] = mm_alloc_pages(1, 1);
		if (!npt_reserve[n_npt_reserve])
			return -ENOMEM;
	}
	memset(phys_to_virt(sink_pa), 0xff, PAGE_SIZE_4K);
	memset(phys_to_virt(sink_2m_pa), 0xff, PAGE_SIZE_2M);
	for (off = 0; off + len <= PAGE_SIZE_4K; off += 64)
		memcpy((char *)phys_to_virt(hv.marker_pa) + off, KEEL_HIDDEN_MARKER, len);
	return 0;
}

static int dom0_domain_init(const struct dom0_config *cfg)
{
	const struct mem_split *sp = cfg->split;
	uint32_t i;

	dom0.id = 0;
	strlcpy(dom0.name, "Domain-0", sizeof(dom0.name));
	dom0.is_dom0 = true;
	dom0.ops = &dom0_ops;
	dom0.nr_ram = MIN(sp->n_dom0, DOMAIN_MAX_RAM_RANGES);
	for (i = 0; i < dom0.nr_ram; i++)
		dom0.ram[i] = sp->dom0[i];
	dom0.ram_bytes = sp->dom0_bytes;
	dom0.nr_vcpus = MIN(MAX(cfg->nr_cpus, 1u), DOM0_MAX_CPUS);
	for (i = 0; i < dom0.nr_vcpus; i++) {
		dom0.vcpus[i].dom = &dom0;
		dom0.vcpus[i].id = i;
		dom0.vcpus[i].cpu = &cpus[cfg->first_cpu + i];
		dom0.vcpus[i].state = i ? VCPU_WAIT_SIPI : VCPU_RUNNABLE;
	}
	dom0.state = DOM_ACTIVE;
	hv.dom0 = &dom0;
	domain_register_dom0(&dom0);
	return compute_hidden(cfg);
}

/* Build dom0 and run it on this CPU; see dom0.h. */
int dom0_start(const struct dom0_config *cfg)
{
	static struct mem_range e820[LINUX_E820_MAX_ENTRIES];
	struct vcpu *v = &dom0.vcpus[0];
	struct vcpu_entry_state st = { 0 };
	struct dom0_layout l;
	uint32_t n_e820;
	int rc;

	rc = dom0_domain_init(cfg);
	if (rc == 0)
		rc = memmap_dom0_e820(cfg->fw_map, cfg->n_fw, cfg->split, e820, &n_e820,
				      LINUX_E820_MAX_ENTRIES);
	if (rc == 0)
		rc = load_linux(cfg, dom0.ram, dom0.nr_ram, e820, n_e820, &l);
	if (rc == 0)
		rc = setup_special_pages();
	if (rc == 0)
		rc = npt_build(cfg);
	if (rc == 0)
		rc = virt->vcpu_create(v, dom0.npt.root_pa, dom0_ops.profile);
	if (rc) {
		log_err("cannot start dom0 (error %d)\n", rc);
		return rc;
	}
	st.rip = l.kernel_pa;
	st.rsi = DOM0_ZERO_PAGE_PA;
	virt->vcpu_reset(v, &st);
	log_info("starting dom0: %llu MiB, %u CPU(s)\n",
		 (unsigned long long)(dom0.ram_bytes >> 20), dom0.nr_vcpus);
	fbcon_release(); /* dom0's efifb owns the framebuffer now */
	__atomic_store_n(&dom0_built, true, __ATOMIC_RELEASE);
	dom0_run(v);
}

/* Run dom0's vCPU v on the calling CPU for good: dom0's enter hook never
 * stops it, and its crash resets the machine. */
static void __noreturn dom0_run(struct vcpu *v)
{
	this_cpu()->current = v;
	vcpu_loop_run(v, 0);
	panic("dom0's vCPU %u left its run loop\n", v->id);
}

/* Start dom0's vCPU on the calling CPU when dom0 asks; see dom0.h. */
void dom0_run_ap(void)
{
	struct vcpu *v = 0;
	struct vcpu_entry_state st = { .real_mode = true };
	uint32_t k;
	int rc;

	while (!__atomic_load_n(&dom0_built, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (k = 1; k < dom0.nr_vcpus; k++)
		if (dom0.vcpus[k].cpu == this_cpu())
			v = &dom0.vcpus[k];
	if (!v)
		panic("CPU %u has the dom0 role but no dom0 vCPU\n", this_cpu()->index);
	rc = virt->vcpu_create(v, dom0.npt.root_pa, dom0_ops.profile);
	if (rc) {
		log_err("dom0's CPU %u: cannot create its vCPU (error %d); dom0 cannot start it\n",
			this_cpu()->index, rc);
		for (;;)
			cpu_halt();
	}
	while (!__atomic_load_n(&v->sipi_pending, __ATOMIC_ACQUIRE))
		cpu_relax();
	st.sipi_vector = v->sipi_vector;
	virt->vcpu_reset(v, &st);
	__atomic_store_n(&v->state, VCPU_RUNNABLE, __ATOMIC_RELEASE);
	log_info("dom0 started its CPU %u (vCPU %u) at %#x\n", this_cpu()->index, v->id,
		 (uint32_t)v->sipi_vector << 12);
	dom0_run(v);
}

/* Load dom0 with all RAM and enter it natively; see dom0.h. */
int dom0_boot_native(const struct dom0_config *cfg)
{
	static struct mem_range ram[BOOT_INFO_MAX_RANGES];
	struct dom0_layout l;
	uint32_t i, n = 0;
	int rc;

	for (i = 0; i < cfg->n_fw; i++)
		if (cfg->fw_map[i].type == E820_RAM)
			ram[n++] = cfg->fw_map[i];
	rc = load_linux(cfg, ram, n, cfg->fw_map, cfg->n_fw, &l);
	if (rc)
		return rc;
	fbcon_release();
	arch_enter_linux_native(l.kernel_pa + LINUX_ENTRY64_OFFSET, DOM0_ZERO_PAGE_PA);
}

/* Before each entry of a dom0 vCPU: nothing to inject (dom0 owns its
 * interrupts) and no timer to arm (it owns its CPU), so always true. */
static bool dom0_enter(struct vcpu *v, uint64_t now_tsc, uint64_t slice_end_tsc)
{
	(void)v;
	(void)now_tsc;
	(void)slice_end_tsc;
	return true;
}

/* After each exit of a dom0 vCPU: the watchdog's heartbeat (its own NMI
 * is no progress) and its check of the other CPUs. */
static void dom0_exited(struct vcpu *v, const struct vm_exit *e, uint64_t entered_tsc)
{
	(void)v;
	(void)entered_tsc;
	if (e->reason != VM_EXIT_NMI)
		watchdog_beat();
	watchdog_check();
}

/* Dom0's CPUID: the real CPU's, with virtualization hidden, Keel's
 * signature, and the OS bits of dom0's own CR4 (cpuid_policy_dom0). */
static void dom0_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_out *o)
{
	struct vcpu_paging_state ps;

	virt->vcpu_paging_state(v, &ps);
	cpuid_policy_dom0(leaf, sub, ps.cr4, KEEL_VERSION, o);
	cpuid_policy_tsc(leaf, time_tsc_khz_measured(), o);
}

/* Dom0's INVD is done as WBINVD: dom0 drives real devices, so its caches
 * may matter, but never by discarding other domains' writes. */
static void dom0_cache_flush(struct vcpu *v, const struct vm_exit *e)
{
	arch_wbinvd();
	v->regs.rip += e->insn_len;
}

/* Dom0: pass-through vCPUs, each on a CPU of its own for good. Its ports
 * and HLT do not exit; a crash resets the machine. */
static const struct domain_ops dom0_ops = {
	.kind = "dom0",
	.profile = VCPU_PROFILE_PASSTHROUGH,
	.enter = dom0_enter,
	.exited = dom0_exited,
	.cpuid = dom0_cpuid,
	.msr = dom0_msr,
	.io = 0,
	.hlt = 0,
	.cache_flush = dom0_cache_flush,
	.npf = dom0_handle_npf,
	.ready = 0,
	.next_timer = 0,
	.crash = dom0_crash,
};
