/*
 * The hypervisor's boot sequence, run by the BSP from head.S: read the
 * Multiboot information and options, start the consoles, split memory and
 * CPUs between dom0 and the guest pool, bring every CPU into the
 * hypervisor, and start dom0 on its CPU (CPU 0, or CPU 1 when CPU 0 is
 * kept idle; see cpu_plan.h). Without usable hardware virtualization it
 * says why and boots dom0 natively, so the machine stays usable.
 */
#include <keel/hv.h>
#include <keel/arch.h>
#include <keel/acpi.h>
#include <keel/compat.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/cpu_plan.h>
#include <keel/dom0.h>
#include <keel/fbcon.h>
#include <keel/idt.h>
#include <keel/log.h>
#include <keel/mm.h>
#include <keel/multiboot.h>
#include <keel/string.h>
#include <keel/printf.h>
#include <keel/virt.h>
#include <keel/errno.h>
#include <asm/x86.h>
#include <asm/lapic.h>
#include <keel/sched_loop.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>

#define MAX_EARLY_WARNINGS 8
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

extern char __hv_start[], __hv_end[], boot_stack[];

struct hv_state hv;
static struct boot_info bi;
static struct mem_range fw_map[BOOT_INFO_MAX_RANGES];
static uint32_t n_fw;
static struct mem_split split;
static struct acpi_info acpi;
static char early_warn[MAX_EARLY_WARNINGS][CMDLINE_WARN_MSG_BYTES];
static volatile bool pool_go; /* CPUs are shared out: the APs may start work */
static struct dom0_config dom0_cfg; /* filled by the BSP before pool_go */
static uint32_t n_early_warn;

#define BOOT_IDENTITY_MAP_BYTES (4ull << 30) /* head.S maps 0..4 GiB */

/* Physical to virtual while only head.S's identity map of the first
 * 4 GiB exists: NULL above it (an EFI table there is not read). */
static void *boot_p2v(uint64_t pa, void *ctx)
{
	(void)ctx;
	return pa < BOOT_IDENTITY_MAP_BYTES ? phys_to_virt(pa) : NULL;
}

static const void *acpi_p2v(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	return (pa + len <= (4ull << 30)) ? phys_to_virt(pa) : 0;
}

static void cmdline_warn(void *ctx, const char *msg)
{
	(void)ctx;
	if (n_early_warn < MAX_EARLY_WARNINGS)
		strlcpy(early_warn[n_early_warn++], msg, CMDLINE_WARN_MSG_BYTES);
}

/* Draw the log on the loader's graphics framebuffer, mapped uncached.
 * 0, or -errno (fbcon_init's, or -ERANGE when it cannot be mapped). */
static int console_fb_start(void)
{
	uint64_t bytes = (uint64_t)bi.fb.pitch * bi.fb.height;
	void *pixels = arch_map_uncached(bi.fb.addr, bytes);

	if (!pixels)
		return -ERANGE;
	return fbcon_init(&bi.fb, pixels, fbcon_font_psf,
			  (uint64_t)(fbcon_font_psf_end - fbcon_font_psf));
}

static void consoles_start(void)
{
	int fb_rc = 0;
	uint32_t i;

	if (hv.opts.console & HV_CONSOLE_COM1)
		console_uart_init(hv.opts.com1_baud);
	/* A loader's graphics framebuffer (UEFI) means there is no VGA text
	 * mode behind 0xB8000: the screen is that framebuffer. */
	if ((hv.opts.console & HV_CONSOLE_VGA) && bi.fb.addr && bi.fb.type != BOOT_FB_TYPE_EGA_TEXT) {
		hv.opts.console &= ~HV_CONSOLE_VGA;
		fb_rc = console_fb_start();
	}
	if (hv.opts.console & HV_CONSOLE_VGA)
		console_vga_init();
	log_set_level(hv.opts.loglvl);
	log_info("Keel hypervisor v%s\n", KEEL_VERSION_STR);
	log_info("command line: %s\n", bi.cmdline);
	if (fb_rc)
		log_warn("the framebuffer (%ux%u, %u bits per pixel, type %u) cannot show the log "
			 "(error %d); it goes to the other consoles only\n", bi.fb.width,
			 bi.fb.height, bi.fb.bpp, bi.fb.type, fb_rc);
	for (i = 0; i < n_early_warn; i++)
		log_warn("%s\n", early_warn[i]);
}

static void memory_log(void)
{
	uint32_t i;

	for (i = 0; i < n_fw; i++)
		log_debug("  e820 %016llx-%016llx type %u\n",
			  (unsigned long long)fw_map[i].base,
			  (unsigned long long)(fw_map[i].base + fw_map[i].len),
			  fw_map[i].type);
}

static uint64_t ram_top(void)
{
	uint64_t top = 0;
	uint32_t i;

	for (i = 0; i < n_fw; i++)
		if (fw_map[i].type == E820_RAM)
			top = MAX(top, fw_map[i].base + fw_map[i].len);
	return top;
}

/* The loader's RGB framebuffer (Multiboot2, UEFI) for dom0, if any. */
static void dom0_fb_fill(struct linux_fb_state *fb)
{
	const struct boot_fb *b = &bi.fb;

	if (!b->addr || b->type != BOOT_FB_TYPE_RGB || !b->width || !b->height)
		return;
	*fb = (struct linux_fb_state){
		.base = b->addr, .pitch = b->pitch, .width = b->width, .height = b->height,
		.bpp = b->bpp, .red_size = b->red_size, .red_pos = b->red_pos,
		.green_size = b->green_size, .green_pos = b->green_pos,
		.blue_size = b->blue_size, .blue_pos = b->blue_pos,
	};
}

/* The compatibility report as text, one line per '\n', for dom0 (it finds
 * it in its initramfs as /etc/keel/compat; see dom0_config.compat_text). */
static char compat_text[COMPAT_MAX_LINES * COMPAT_LINE_BYTES];

static void dom0_config_fill(struct dom0_config *cfg, bool native)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bi = &bi;
	cfg->fw_map = fw_map;
	cfg->n_fw = n_fw;
	cfg->split = native ? 0 : &split;
	cfg->rsdp_pa = acpi.rsdp_pa ? acpi.rsdp_pa : bi.rsdp_pa;
	cfg->nr_cpus = hv.cpus_dom0;
	cfg->first_cpu = hv.dom0_first_cpu;
	cfg->hidden_apic_id = hv.bsp_idle && !native ? cpus[0].apic_id : DOM0_NO_APIC_ID;
	cfg->compat_text = compat_text;
	dom0_fb_fill(&cfg->fb);
	cfg->vga.present = !cfg->fb.base;  /* UEFI: no text mode to hand over */
	if (hv.opts.console & HV_CONSOLE_VGA) {
		uint32_t row, col;

		console_vga_release(&row, &col);
		cfg->vga.cursor_row = (uint8_t)row;
		cfg->vga.cursor_col = (uint8_t)col;
	}
}

static void memory_split(void)
{
	struct mem_range image = {
		.base = (uint64_t)(uintptr_t)__hv_start,
		.len = (uint64_t)(__hv_end - __hv_start),
		.type = E820_RAM,
	};
	uint32_t i, j;
	int rc;

	hv.image_base_pa = image.base;
	hv.image_bytes = image.len;
	rc = memmap_split(fw_map, n_fw, hv.opts.dom0_mem_bytes, &image, 1, &split);
	if (rc && hv.opts.dom0_mem_bytes) {
		log_warn("dom0_mem=%lluM does not fit this machine (error %d); using the default\n",
			 (unsigned long long)(hv.opts.dom0_mem_bytes >> 20), rc);
		rc = memmap_split(fw_map, n_fw, 0, &image, 1, &split);
	}
	if (rc)
		panic("cannot split memory between dom0 and guests (error %d): too little RAM?\n", rc);
	if (mm_init(split.pool, split.n_pool))
		panic("cannot set up the page allocator\n");
	/* Boot modules may still sit in the pool until dom0 is loaded. */
	for (i = 0; i < bi.nr_modules; i++)
		for (j = 0; j < split.n_pool; j++) {
			uint64_t s = MAX(bi.modules[i].start, split.pool[j].base);
			uint64_t e = MIN(bi.modules[i].end, split.pool[j].base + split.pool[j].len);

			if (s < e)
				mm_reserve(ALIGN_DOWN(s, PAGE_SIZE_4K), ALIGN_UP(e, PAGE_SIZE_4K) - ALIGN_DOWN(s, PAGE_SIZE_4K));
		}
	hv.mem_total_bytes = split.total_ram;
	hv.mem_dom0_bytes = split.dom0_bytes;
}

/* Run dom0 on the calling CPU; only returns (to panic) if it cannot start. */
static void __noreturn dom0_run_here(void)
{
	dom0_start(&dom0_cfg);
	panic("dom0 could not be started; see the messages above\n");
}

/* The work of every CPU once the boot CPU has shared them out: dom0's
 * first CPU builds and runs dom0, its others wait for dom0 to start them,
 * every other one (the pool, and CPU 0 when kept idle) runs the scheduler
 * loop, which only ever picks vCPUs homed on pool CPUs. */
static void __noreturn cpu_work(struct cpu *c)
{
	if (c->role == CPU_ROLE_DOM0 && c->index == hv.dom0_first_cpu)
		dom0_run_here();
	if (c->role == CPU_ROLE_DOM0)
		dom0_run_ap();
	sched_run_cpu();
}

static void __noreturn ap_main(void)
{
	struct cpu *c = this_cpu();
	int rc;

	cpu_init_local();
	rc = virt->cpu_enable(c);
	if (rc)
		log_warn("CPU %u: cannot enable %s (error %d)\n", c->index, virt->name, rc);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&pool_go, __ATOMIC_ACQUIRE))
		cpu_relax();
	cpu_work(c);
}

static void cpus_plan_log(const struct cpu_plan *p)
{
	switch (p->note) {
	case CPU_PLAN_NOTE_TCG_IDLE:
		log_info("QEMU TCG: CPU 0 runs no domain and dom0 runs on CPU 1, because QEMU's "
			 "multi-threaded TCG corrupts CPU 0's guest state (bsp=dom0 overrides)\n");
		break;
	case CPU_PLAN_NOTE_TCG_TOO_FEW:
		log_warn("QEMU TCG with 2 CPUs: dom0 stays on CPU 0, where a QEMU data race can "
			 "crash it while guests run; give QEMU -smp 3 or more\n");
		break;
	case CPU_PLAN_NOTE_IDLE_ONE_CPU:
		log_warn("bsp=idle needs a second CPU for dom0; dom0 runs on CPU 0\n");
		break;
	case CPU_PLAN_NOTE_NONE:
		break;
	}
}

_Static_assert(CPU_PLAN_MAX_CPUS == MAX_CPUS, "cpu_plan's masks must cover every CPU");

/* Read ACPI's MADT (and IOMMU tables) into acpi: the RSDP the loader
 * gave (UEFI), else the one in the BIOS areas. 0, or -errno. */
static int acpi_read(void)
{
	uint64_t rsdp = bi.rsdp_pa ? bi.rsdp_pa : acpi_find_rsdp(acpi_p2v, 0);
	int rc = rsdp ? acpi_parse(rsdp, acpi_p2v, 0, &acpi) : -ENOENT;

	acpi.rsdp_pa = rsdp;
	return rc;
}

static uint64_t ram_bytes(void)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < n_fw; i++)
		if (fw_map[i].type == E820_RAM)
			sum += fw_map[i].len;
	return sum;
}

/* Print the compatibility report (keel/compat.h) and keep it in
 * compat_text; why: the reason there is no usable virtualization, or NULL. */
static void compat_log(const char *why)
{
	char lines[COMPAT_MAX_LINES][COMPAT_LINE_BYTES];
	struct compat_facts f = { 0 };
	uint32_t i, n;
	size_t at;

	strlcpy(f.vendor, arch_cpu_vendor(), sizeof(f.vendor));
	arch_cpu_brand(f.brand, sizeof(f.brand));
	arch_cpu_outer_hv(f.outer, sizeof(f.outer));
	f.backend = why ? NULL : virt->name;
	f.why_not = why;
	f.features = why ? 0 : virt->features;
	f.iommu = acpi.iommu;
	f.uefi = bi.firmware == BOOT_FW_UEFI;
	f.mem_total_mib = (why ? ram_bytes() : hv.mem_total_bytes) >> 20;
	f.mem_dom0_mib = hv.mem_dom0_bytes >> 20;
	f.mem_pool_mib = why ? 0 : mm_total_bytes() >> 20;
	f.cpus = why ? (acpi.nr_cpus ? acpi.nr_cpus : 1) : nr_cpus;
	f.cpus_dom0 = hv.cpus_dom0;
	f.cpus_pool = hv.cpus_pool;
	n = compat_report(&f, lines);
	log_info("compatibility report:\n");
	compat_text[0] = 0;
	for (i = 0, at = 0; i < n; i++) {
		log_info("  %s\n", lines[i]);
		/* fits: n <= COMPAT_MAX_LINES lines shorter than COMPAT_LINE_BYTES */
		at += (size_t)ksnprintf(compat_text + at, sizeof(compat_text) - at, "%s\n",
					lines[i]);
	}
}

static void __noreturn boot_native(const char *why)
{
	struct dom0_config cfg;

	log_warn("no usable hardware virtualization: %s\n", why);
	log_warn("booting dom0 natively: Linux runs without the hypervisor and no guests can be started\n");
	acpi_read();
	compat_log(why);
	dom0_config_fill(&cfg, true);
	dom0_boot_native(&cfg);
	panic("dom0 could not be loaded; see the messages above\n");
}

static void cpus_start(void)
{
	struct cpu_plan_input in;
	struct cpu_plan p;
	uint32_t i;

	if (acpi_read())
		log_warn("no usable ACPI MADT: running on the boot CPU only\n");
	if (virt->cpu_enable(&cpus[0]))
		panic("cannot enable %s on the boot CPU\n", virt->name);
	smp_boot_aps(&acpi, ap_main);
	in.nr_cpus = nr_cpus;
	in.dom0_cpus = hv.opts.dom0_cpus;
	in.max_guest_cpus = hv.opts.max_guest_cpus;
	in.bsp = hv.opts.bsp;
	in.qemu_tcg = arch_cpu_is_qemu_tcg();
	cpu_plan_make(&in, &p);
	cpus_plan_log(&p);
	if (p.dom0_capped)
		log_warn("dom0_cpus=%u: dom0 gets %u CPU(s), so that at least one is left for "
			 "guests (and at most %u)\n", hv.opts.dom0_cpus, p.cpus_dom0,
			 CPU_PLAN_MAX_DOM0_CPUS);
	hv.cpus_dom0 = p.cpus_dom0;
	hv.dom0_first_cpu = p.dom0_cpu;
	hv.cpu_mask_dom0 = p.mask_dom0;
	hv.cpus_pool = p.cpus_pool;
	hv.cpu_mask_pool = p.mask_pool;
	hv.bsp_idle = p.bsp_idle;
	for (i = 0; i < nr_cpus; i++)
		cpus[i].role = (p.mask_dom0 & (1ull << i)) ? CPU_ROLE_DOM0 :
			       (p.mask_pool & (1ull << i)) ? CPU_ROLE_POOL : CPU_ROLE_IDLE;
}

/*
 * C entry of the BSP. magic and info_pa are what the Multiboot loader left
 * in EAX and EBX. Never returns: it ends in dom0, in the scheduler loop
 * (when dom0 runs on CPU 1) or in native Linux.
 */
void hv_main(uint32_t magic, uint32_t info_pa);
void hv_main(uint32_t magic, uint32_t info_pa)
{
	char why[160];
	int rc;

	cpus[0].online = true;
	cpus[0].stack_base = (uint64_t)(uintptr_t)boot_stack;
	*(struct cpu **)boot_stack = &cpus[0];
	rc = boot_info_parse(magic, info_pa, boot_p2v, 0, &bi);
	cmdline_defaults(&hv.opts);
	if (rc == 0)
		cmdline_parse(bi.cmdline, &hv.opts, cmdline_warn, 0);
	consoles_start();
	if (rc)
		panic("bad Multiboot information (error %d): load keel.gz with mboot.c32, GRUB's multiboot2 or qemu -kernel\n", rc);
	idt_init();
	idt_load();
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	time_init(tsc_calibrate_khz());
	log_info("CPU: %s, TSC %llu kHz\n", arch_cpu_vendor(),
		 (unsigned long long)time_tsc_khz());
	time_wall_init();
	/* the wall clock and the TSC ticks since reset, mixed: no two boots
	 * share both (keel_state_tsc.boot_id) */
	hv.boot_id = ((uint64_t)time_wall_s() * 0x9E3779B97F4A7C15ull) ^ time_now_ns() ^
		     ((uint64_t)time_tsc_khz() << 40);
	memcpy(fw_map, bi.ranges, bi.nr_ranges * sizeof(fw_map[0]));
	n_fw = bi.nr_ranges;
	if (memmap_sanitize(fw_map, &n_fw, BOOT_INFO_MAX_RANGES))
		panic("the firmware memory map is unusable\n");
	memory_log();
	rc = virt_probe(why, sizeof(why));
	if (rc == 0 && hv.opts.novirt)
		strlcpy(why, "disabled with the novirt option", sizeof(why)), rc = -EPERM;
	if (rc)
		boot_native(why);
	log_info("virtualization: %s\n", virt->name);
	arch_map_ram(ram_top());
	memory_split();
	blkdev_init();
	netdev_init();
	cpus_start();
	lapic_timer_calibrate();
	log_info("%u CPUs: %u for dom0 (from CPU %u), %u for guests%s\n", nr_cpus, hv.cpus_dom0,
		 hv.dom0_first_cpu, hv.cpus_pool, hv.bsp_idle ? ", CPU 0 idle" : "");
	log_info("memory: %llu MiB total, %llu MiB dom0, %llu MiB guest pool\n",
		 (unsigned long long)(hv.mem_total_bytes >> 20),
		 (unsigned long long)(hv.mem_dom0_bytes >> 20),
		 (unsigned long long)(mm_total_bytes() >> 20));
	compat_log(NULL);
	dom0_config_fill(&dom0_cfg, false); /* hands VGA text to dom0 (a framebuffer: dom0_start) */
	__atomic_store_n(&pool_go, true, __ATOMIC_RELEASE);
	cpu_work(&cpus[0]);
}
