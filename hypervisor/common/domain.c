/*
 * Domain services: copying between hypervisor memory and a domain's
 * guest-physical RAM (checked against the domain's RAM list and translated
 * through its nested page table, so a bad address can only fail, never
 * reach other memory), routing nested page faults, ending a domain that
 * broke, and the life cycle of guest domains: create (zeroed RAM from the
 * pool, nested page table, vCPUs, devices, MP table), load, start, pause,
 * shut down and destroy (vCPUs stopped, memory returned; the pool zeroes
 * it when it is handed out again).
 */
#include <keel/domain.h>
#include <keel/dom0.h>
#include <keel/exit.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/virt.h>
#include <keel/sched.h>
#include <keel/guest.h>
#include <keel/hv.h>
#include <keel/arch.h>
#include <keel/mptable.h>
#include <keel/acpi_tables.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/watchdog.h>
#include <keel/guest_walk.h>
#include <keel/decode.h>
#include <asm/x86.h>
#include <public/keel_abi.h>

static struct domain *domains[MAX_DOMAINS];
static struct spinlock domains_lock;
static uint32_t next_domid = 1;

/* Walk [gpa, gpa+len) of d page by page; call fn on each host chunk. */
static int domain_walk(struct domain *d, uint64_t gpa, uint64_t len,
		       void (*fn)(void *host, uint64_t off, uint64_t n, void *arg),
		       void *arg)
{
	uint64_t off = 0;

	if (len == 0)
		return 0;
	if (!memmap_contains(d->ram, d->nr_ram, gpa, len))
		return -EFAULT;
	while (off < len) {
		uint64_t g = gpa + off, hpa, flags;
		uint64_t n = MIN(len - off, PAGE_SIZE_4K - (g & (PAGE_SIZE_4K - 1)));
		uint32_t shift;

		if (pt_lookup(&d->npt, g, &hpa, &flags, &shift))
			return -EFAULT;
		fn(phys_to_virt(hpa), off, n, arg);
		off += n;
	}
	return 0;
}

static void chunk_from_guest(void *host, uint64_t off, uint64_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, host, n);
}

static void chunk_to_guest(void *host, uint64_t off, uint64_t n, void *arg)
{
	memcpy(host, (const uint8_t *)arg + off, n);
}

/* Copy len bytes at guest-physical gpa of d into dst; see domain.h. */
int domain_copy_from_guest(struct domain *d, void *dst, uint64_t gpa, uint64_t len)
{
	return domain_walk(d, gpa, len, chunk_from_guest, dst);
}

static int gpa_read(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	return domain_copy_from_guest(ctx, buf, gpa, len);
}

static enum cpu_mode mode_of(const struct vcpu_paging_state *ps)
{
	if ((ps->efer & EFER_LMA) && ps->cs_long)
		return CPU_MODE_LONG64;
	if (!(ps->cr0 & CR0_PE))
		return CPU_MODE_REAL;
	return ps->cs_db ? CPU_MODE_PROT32 : CPU_MODE_PROT16;
}

/* Fetch the instruction at v's RIP; see domain.h. */
int domain_fetch_insn(struct vcpu *v, uint8_t code[DECODE_MAX_INSN_LEN], uint32_t *got,
		      enum cpu_mode *mode, uint64_t *rip)
{
	struct vcpu_paging_state ps;
	struct guest_paging gp;

	virt->vcpu_paging_state(v, &ps);
	*mode = mode_of(&ps);
	gp.cr0 = ps.cr0;
	gp.cr3 = ps.cr3;
	gp.cr4 = ps.cr4;
	gp.efer = ps.efer;
	*rip = (*mode == CPU_MODE_LONG64) ? v->regs.rip : ps.cs_base + (uint32_t)v->regs.rip;
	return guest_fetch(&gp, *rip, code, DECODE_MAX_INSN_LEN, gpa_read, v->dom, got);
}

/* Copy len bytes from src to guest-physical gpa of d; see domain.h. */
int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src, uint64_t len)
{
	return domain_walk(d, gpa, len, chunk_to_guest, (void *)(uintptr_t)src);
}

/* Guest RAM for device models' ring code (struct guest_mem_ops.map, ctx =
 * the domain): a host pointer for [gpa, gpa+len) if it lies inside one
 * 2 MiB chunk of the guest's RAM, else NULL. */
void *domain_map_ram(void *ctx, uint64_t gpa, uint32_t len)
{
	struct domain *d = ctx;
	uint64_t chunk = gpa / GUEST_CHUNK_BYTES, off = gpa % GUEST_CHUNK_BYTES;

	if (chunk >= d->nr_chunks || off + len > GUEST_CHUNK_BYTES || len == 0)
		return 0;
	return (uint8_t *)phys_to_virt(d->chunks[chunk]) + off;
}

/* Route a nested page fault to the domain's owner; see exit.h. */
int domain_handle_npf(struct vcpu *v, const struct vm_exit *e)
{
	if (v->dom->is_dom0)
		return dom0_handle_npf(v, e);
	return guest_mmio(v, e);
}

/* Log v's last hardware exits, oldest first (backend codes and RIPs). */
void vcpu_dump_exit_history(const struct vcpu *v)
{
	uint32_t n = v->exit_hist_next < VCPU_EXIT_HISTORY ? v->exit_hist_next :
		     VCPU_EXIT_HISTORY;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct vcpu_exit_note *e =
			&v->exit_hist[(v->exit_hist_next - n + i) % VCPU_EXIT_HISTORY];

		log_err("  exit -%u: code %#llx at RIP %#llx\n", n - i,
			(unsigned long long)e->code, (unsigned long long)e->rip);
	}
}

/* End v's domain; see exit.h. Dom0 takes the machine with it; a guest is
 * marked crashed, its registers logged, and nothing else is touched. */
void domain_crash(struct vcpu *v, const char *why)
{
	struct domain *d = v->dom;

	if (d->is_dom0)
		dom0_crash(v, why);
	log_err("domain %u (%s) crashed on vCPU %u: %s\n", d->id, d->name, v->id, why);
	virt->vcpu_dump(v);
	vcpu_dump_exit_history(v);
	spin_lock(&d->lock);
	if (d->state == DOM_ACTIVE) {
		d->state = DOM_CRASHED;
		d->shutdown_reason = KEEL_SHUTDOWN_CRASH;
	}
	spin_unlock(&d->lock);
}

/* Stop d because the guest powered off or rebooted (reason KEEL_SHUTDOWN_*).
 * Called with d->lock held. */
void domain_shutdown(struct domain *d, uint32_t reason)
{
	if (d->state != DOM_ACTIVE)
		return;
	d->state = DOM_SHUTDOWN;
	d->shutdown_reason = reason;
	log_info("domain %u (%s) %s\n", d->id, d->name,
		 reason == KEEL_SHUTDOWN_REBOOT ? "asked to reboot" : "powered off");
}

/* Append one byte of guest console output to the ring. d->lock held. */
void domain_console_put(struct domain *d, uint8_t c)
{
	d->con_ring[d->con_pos % GUEST_CONSOLE_RING_BYTES] = c;
	d->con_pos++;
}

/* Look up a domain by id (0 is dom0). NULL if there is none. The pointer
 * stays valid until the domain is destroyed, which only dom0's hypercalls
 * do, one at a time. */
struct domain *domain_get(uint32_t domid)
{
	struct domain *d = 0;
	uint32_t i;

	spin_lock(&domains_lock);
	for (i = 0; i < MAX_DOMAINS; i++)
		if (domains[i] && domains[i]->id == domid)
			d = domains[i];
	spin_unlock(&domains_lock);
	return d;
}

/* Fill out with up to max domains in id order, dom0 first. Returns count. */
uint32_t domain_list(struct domain **out, uint32_t max)
{
	uint32_t i, n = 0;

	spin_lock(&domains_lock);
	for (i = 0; i < MAX_DOMAINS && n < max; i++)
		if (domains[i])
			out[n++] = domains[i];
	spin_unlock(&domains_lock);
	return n;
}

/* Register dom0 in the domain table (slot 0). */
void domain_register_dom0(struct domain *d)
{
	watchdog_track_lock(&domains_lock, "domain table");
	spin_lock(&domains_lock);
	domains[0] = d;
	spin_unlock(&domains_lock);
}

static bool name_taken(const char *name)
{
	uint32_t i;

	for (i = 0; i < MAX_DOMAINS; i++)
		if (domains[i] && strcmp(domains[i]->name, name) == 0)
			return true;
	return false;
}

static int domain_slot_insert(struct domain *d)
{
	uint32_t i;
	int rc = -ENOSPC;

	spin_lock(&domains_lock);
	if (name_taken(d->name)) {
		rc = -EEXIST;
		goto out;
	}
	for (i = 1; i < MAX_DOMAINS; i++) {
		if (!domains[i]) {
			d->id = next_domid++;
			domains[i] = d;
			rc = 0;
			break;
		}
	}
out:
	spin_unlock(&domains_lock);
	return rc;
}

static void domain_slot_remove(struct domain *d)
{
	uint32_t i;

	spin_lock(&domains_lock);
	for (i = 1; i < MAX_DOMAINS; i++)
		if (domains[i] == d)
			domains[i] = 0;
	spin_unlock(&domains_lock);
}

static int guest_ram_alloc(struct domain *d, uint64_t mem_bytes)
{
	uint32_t i;
	int rc;

	d->nr_chunks = (uint32_t)(mem_bytes / GUEST_CHUNK_BYTES);
	d->chunks_pages = ALIGN_UP(d->nr_chunks * sizeof(uint64_t), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	d->chunks_pa = mm_alloc_pages(d->chunks_pages, 1);
	if (!d->chunks_pa)
		return -ENOMEM;
	d->chunks = phys_to_virt(d->chunks_pa);
	for (i = 0; i < d->nr_chunks; i++) {
		d->chunks[i] = mm_alloc_guest(GUEST_CHUNK_BYTES / PAGE_SIZE_4K,
					      GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
		if (!d->chunks[i])
			return -ENOMEM;
		rc = pt_map(&d->npt, (uint64_t)i * GUEST_CHUNK_BYTES, d->chunks[i],
			    GUEST_CHUNK_BYTES, virt->npt_flags_rwx, 21);
		if (rc)
			return rc;
	}
	d->ram[0].base = 0;
	d->ram[0].len = mem_bytes;
	d->ram[0].type = E820_RAM;
	d->nr_ram = 1;
	d->ram_bytes = mem_bytes;
	return 0;
}

static void guest_ram_free(struct domain *d)
{
	uint32_t i;

	if (!d->chunks)
		return;
	for (i = 0; i < d->nr_chunks; i++)
		if (d->chunks[i])
			mm_free_guest(d->chunks[i], GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
	mm_free_pages(d->chunks_pa, d->chunks_pages);
	d->chunks = 0;
}

static int guest_vcpus_create(struct domain *d)
{
	uint32_t i, fpu_pages = (uint32_t)(ALIGN_UP(arch_fpu_area_bytes(), PAGE_SIZE_4K) / PAGE_SIZE_4K);
	int rc;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];
		uint64_t fpu = mm_alloc_pages(fpu_pages, 1);

		v->dom = d;
		v->id = i;
		v->state = VCPU_WAIT_SIPI;
		v->lapic = &d->lapics[i];
		vlapic_init(&d->lapics[i], i, time_tsc_khz());
		if (!fpu)
			return -ENOMEM;
		v->fpu.area = phys_to_virt(fpu);
		arch_fpu_init_area(&v->fpu);
		rc = virt->vcpu_create(v, d->npt.root_pa);
		if (rc)
			return rc;
	}
	return 0;
}

static void guest_vcpus_free(struct domain *d)
{
	uint32_t i, fpu_pages = (uint32_t)(ALIGN_UP(arch_fpu_area_bytes(), PAGE_SIZE_4K) / PAGE_SIZE_4K);

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		if (v->vendor)
			virt->vcpu_destroy(v);
		if (v->fpu.area)
			mm_free_pages(virt_to_phys(v->fpu.area), fpu_pages);
		v->fpu.area = 0;
	}
}

static int guest_acpi_init(struct domain *d)
{
	static uint8_t tables[GUEST_ACPI_BYTES];
	struct acpi_tables_cfg cfg = {
		.nr_cpus = d->nr_vcpus, .ioapic_id = GUEST_IOAPIC_ID,
		.ioapic_pa = (uint32_t)GUEST_IOAPIC_PA, .lapic_pa = (uint32_t)GUEST_LAPIC_PA,
		.pm_io_base = GUEST_PM_IO_BASE, .sci_irq = GUEST_SCI_IRQ,
		.reset_port = GUEST_RESET_PORT,
	};
	int n = acpi_tables_build(tables, sizeof(tables), GUEST_ACPI_PA, &cfg);

	if (n < 0)
		return n;
	acpi_pm_init(&d->pm);
	return domain_copy_to_guest(d, GUEST_ACPI_PA, tables, (uint64_t)n);
}

static int guest_platform_init(struct domain *d)
{
	static uint8_t mp[1024];
	int n;

	struct pci_func panic_fn = {
		.dev = GUEST_PVPANIC_DEV, .fn = 0, .cfg_read = pvpanic_cfg_read,
		.cfg_write = pvpanic_cfg_write, .ctx = &d->pvpanic,
	};
	int rc;

	vioapic_init(&d->ioapic, GUEST_IOAPIC_ID);
	ns16550_init(&d->uart);
	mc146818_init(&d->rtc);
	pci_host_init(&d->pci);
	pvpanic_init(&d->pvpanic, (uint32_t)GUEST_PVPANIC_PA);
	rc = pci_host_add(&d->pci, &panic_fn);
	if (rc)
		return rc;
	n = mptable_build(mp, sizeof(mp), KEEL_GUEST_MPTABLE_PA, d->nr_vcpus,
			  GUEST_IOAPIC_ID, (uint32_t)GUEST_IOAPIC_PA, (uint32_t)GUEST_LAPIC_PA);
	if (n < 0)
		return n;
	rc = domain_copy_to_guest(d, KEEL_GUEST_MPTABLE_PA, mp, (uint64_t)n);
	return rc ? rc : guest_acpi_init(d);
}

/* Free everything a guest domain holds. Its vCPUs must not be running. */
static void domain_free(struct domain *d)
{
	netdev_detach_all(d);
	blkdev_detach_all(d);
	guest_vcpus_free(d);
	guest_ram_free(d);
	if (d->npt.root_pa)
		pt_destroy(&d->npt);
	if (d->con_ring)
		mm_free_pages(virt_to_phys(d->con_ring), GUEST_CONSOLE_RING_BYTES / PAGE_SIZE_4K);
	watchdog_untrack_lock(&d->lock);
	mm_free_pages(virt_to_phys(d), d->self_pages);
}

static int create_check(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus)
{
	if (!name[0] || strnlen(name, KEEL_DOMAIN_NAME_BYTES) == KEEL_DOMAIN_NAME_BYTES)
		return -EINVAL;
	if (mem_bytes < KEEL_DOMAIN_MIN_MEM_BYTES || mem_bytes > KEEL_DOMAIN_MAX_MEM_BYTES ||
	    mem_bytes % GUEST_CHUNK_BYTES)
		return -EINVAL;
	if (nr_vcpus < 1 || nr_vcpus > DOMAIN_MAX_VCPUS)
		return -EINVAL;
	if (mem_bytes + (4 * MIB_BYTES) > mm_free_bytes())
		return -ENOMEM;
	return 0;
}

/*
 * Create a paused guest domain called name with mem_bytes of zeroed RAM
 * and nr_vcpus vCPUs. On success *domid is its id. Returns 0 or -errno
 * (-EINVAL bad arguments, -EEXIST name in use, -ENOMEM, -ENOSPC too many
 * domains); on failure nothing is left behind.
 */
int domain_create(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
		  uint32_t *domid)
{
	uint64_t pages = ALIGN_UP(sizeof(struct domain), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	uint64_t pa, ring;
	struct domain *d;
	int rc = create_check(name, mem_bytes, nr_vcpus);

	if (rc)
		return rc;
	pa = mm_alloc_pages(pages, 1);
	if (!pa)
		return -ENOMEM;
	d = phys_to_virt(pa);
	d->self_pages = pages;
	strlcpy(d->name, name, sizeof(d->name));
	watchdog_track_lock(&d->lock, d->name);
	d->nr_vcpus = nr_vcpus;
	d->state = DOM_BUILDING;
	d->paused = true;
	ring = mm_alloc_pages(GUEST_CONSOLE_RING_BYTES / PAGE_SIZE_4K, 1);
	d->con_ring = ring ? phys_to_virt(ring) : 0;
	mm_pt_init(&d->npt);
	rc = (!ring || !d->npt.root_pa) ? -ENOMEM : 0;
	if (rc == 0)
		rc = guest_ram_alloc(d, mem_bytes);
	if (rc == 0)
		rc = guest_vcpus_create(d);
	if (rc == 0)
		rc = guest_platform_init(d);
	if (rc == 0)
		rc = domain_slot_insert(d);
	if (rc) {
		domain_free(d);
		return rc;
	}
	*domid = d->id;
	log_info("domain %u (%s) created: %llu MiB, %u vCPU(s)\n", d->id, d->name,
		 (unsigned long long)(mem_bytes >> 20), nr_vcpus);
	return 0;
}

static struct domain *guest_get(uint32_t domid)
{
	struct domain *d = domain_get(domid);

	return (d && !d->is_dom0) ? d : 0;
}

/* Copy len bytes from src into guest-physical gpa of a domain that has not
 * started yet. 0, -ENOENT, -EBUSY (already started) or -EFAULT. */
int domain_memwrite(uint32_t domid, uint64_t gpa, const void *src, uint32_t len)
{
	struct domain *d = guest_get(domid);

	if (!d)
		return -ENOENT;
	if (d->state != DOM_BUILDING)
		return -EBUSY;
	return domain_copy_to_guest(d, gpa, src, len);
}

/* Start a built domain: vCPU 0 at Linux's 32-bit entry rip with RSI=rsi,
 * the others waiting for INIT/SIPI. 0, -ENOENT, -EBUSY or -ENOSPC. */
int domain_start(uint32_t domid, uint64_t rip, uint64_t rsi)
{
	struct domain *d = guest_get(domid);
	struct vcpu_entry_state st = { .rip = rip, .rsi = rsi };
	uint32_t i;
	int rc;

	if (!d)
		return -ENOENT;
	if (d->state != DOM_BUILDING)
		return -EBUSY;
	virt->vcpu_reset(&d->vcpus[0], &st);
	d->vcpus[0].state = VCPU_RUNNABLE;
	for (i = 0; i < d->nr_vcpus; i++) {
		rc = sched_attach(&d->vcpus[i]);
		if (rc) {
			while (i-- > 0)
				sched_detach(&d->vcpus[i]);
			return rc;
		}
	}
	d->state = DOM_ACTIVE;
	d->paused = false;
	for (i = 0; i < d->nr_vcpus; i++)
		sched_kick(&d->vcpus[i]);
	log_info("domain %u (%s) started\n", d->id, d->name);
	return 0;
}

/* Pause (pause=true) or unpause a running domain. 0, -ENOENT or -EBUSY. */
int domain_pause(uint32_t domid, bool pause)
{
	struct domain *d = guest_get(domid);
	uint32_t i;

	if (!d)
		return -ENOENT;
	if (d->state == DOM_BUILDING || d->state == DOM_DYING)
		return -EBUSY;
	d->paused = pause;
	for (i = 0; i < d->nr_vcpus; i++)
		sched_kick(&d->vcpus[i]);
	return 0;
}

/* Ask a running guest to power off (its ACPI power button) or, with
 * reboot, to reboot (its ACPI sleep button). 0, -ENOENT or -EBUSY. */
int domain_request(uint32_t domid, bool reboot)
{
	struct domain *d = guest_get(domid);

	if (!d)
		return -ENOENT;
	if (d->state != DOM_ACTIVE)
		return -EBUSY;
	guest_press_button(d, reboot ? ACPI_PM1_SLPBTN_STS : ACPI_PM1_PWRBTN_STS);
	return 0;
}

/* Destroy a guest domain: stop its vCPUs and free its memory.
 * 0 or -ENOENT. */
int domain_destroy(uint32_t domid)
{
	struct domain *d = guest_get(domid);
	bool started;
	uint32_t i;

	if (!d)
		return -ENOENT;
	started = d->state != DOM_BUILDING;
	d->state = DOM_DYING;
	domain_slot_remove(d);
	if (started)
		for (i = 0; i < d->nr_vcpus; i++)
			sched_detach(&d->vcpus[i]);
	log_info("domain %u (%s) destroyed\n", d->id, d->name);
	domain_free(d);
	return 0;
}
