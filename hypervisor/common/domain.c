/*
 * The life cycle of guest domains, and the table of domains: create (zeroed RAM from the
 * pool, nested page table, vCPUs, devices, MP table), load, start, pause,
 * shut down and destroy (vCPUs stopped, memory returned; the pool zeroes
 * it when it is handed out again).
 */
#include <keel/domain.h>
#include <keel/dirty.h>
#include <keel/vpc.h>
#include <keel/balloon.h>
#include <keel/cow.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/npt.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/sched.h>
#include <keel/guest.h>
#include <keel/arch.h>
#include <keel/mptable.h>
#include <keel/acpi_tables.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/cpuid_seen.h>
#include <keel/watchdog.h>
#include <public/keel_abi.h>

#define DOMAIN_STOP_TIMEOUT_NS 200000000ull /* for paused vCPUs to leave their CPUs */

static struct domain *domains[MAX_DOMAINS];
static struct spinlock domains_lock;
static uint32_t next_domid = 1;

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
	d->start_ns = time_now_ns();
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

/* d's RAM: mem_bytes in 2 MiB chunks with their copy-on-write bits, each
 * chunk zeroed and mapped writable, or, with empty (a clone, which gets
 * its source's), none yet. */
static int guest_ram_alloc(struct domain *d, uint64_t mem_bytes, bool empty)
{
	uint64_t map_bytes;
	uint32_t i;
	int rc;

	d->nr_chunks = (uint32_t)(mem_bytes / GUEST_CHUNK_BYTES);
	map_bytes = ALIGN_UP(d->nr_chunks, 64) / 8;
	d->chunks_pages = ALIGN_UP(d->nr_chunks * (sizeof(uint64_t) + sizeof(uint16_t)) +
				   map_bytes, PAGE_SIZE_4K) / PAGE_SIZE_4K;
	d->chunks_pa = mm_alloc_pages(d->chunks_pages, 1);
	if (!d->chunks_pa)
		return -ENOMEM;
	d->chunks = phys_to_virt(d->chunks_pa);
	d->cow = d->chunks + d->nr_chunks;
	d->cow_priv = (uint16_t *)(d->cow + map_bytes / 8);
	d->hv_bytes += d->chunks_pages * PAGE_SIZE_4K;
	d->ram[0].base = 0;
	d->ram[0].len = mem_bytes;
	d->ram[0].type = E820_RAM;
	d->nr_ram = 1;
	d->ram_bytes = mem_bytes;
	for (i = 0; !empty && i < d->nr_chunks; i++) {
		d->chunks[i] = mm_alloc_guest(GUEST_CHUNK_BYTES / PAGE_SIZE_4K,
					      GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
		if (!d->chunks[i])
			return -ENOMEM;
		rc = npt_map(&d->npt, (uint64_t)i * GUEST_CHUNK_BYTES, d->chunks[i],
			    GUEST_CHUNK_BYTES, virt->npt_flags_rwx, 21);
		if (rc)
			return rc;
	}
	return 0;
}

/* Let go of d's RAM (its vCPUs run no more, its nested page table is still
 * there): the pages it copied from shared chunks are freed, and a chunk
 * it shares with a clone stays for the others. */
static void guest_ram_free(struct domain *d)
{
	uint32_t i;

	if (!d->chunks)
		return;
	for (i = 0; i < d->nr_chunks; i++) {
		cow_drop_copies(d, i);
		if (d->chunks[i])
			mm_chunk_put(d->chunks[i]);
	}
	mm_free_pages(d->chunks_pa, d->chunks_pages);
	d->chunks = 0;
	d->cow = 0;
	d->cow_priv = 0;
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
		v->lapic = &d->pc->lapics[i];
		vlapic_init(&d->pc->lapics[i], i, time_tsc_khz());
		if (!fpu)
			return -ENOMEM;
		v->fpu.area = phys_to_virt(fpu);
		d->hv_bytes += (uint64_t)fpu_pages * PAGE_SIZE_4K;
		arch_fpu_init_area(&v->fpu);
		rc = virt->vcpu_create(v, d->npt.root_pa, d->ops->profile);
		if (rc)
			return rc;
		d->hv_bytes += virt->vcpu_own_bytes(v);
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

/* d's ACPI tables: its vCPUs, with CPU hotplug for those beyond the
 * present ones when it has more than one (keel/acpi_cpuhp.h). */
static int guest_acpi_init(struct domain *d)
{
	static uint8_t tables[GUEST_ACPI_BYTES];
	struct acpi_tables_cfg cfg = {
		.nr_cpus = acpi_cpuhp_nr_present(&d->pc->cpuhp), .ioapic_id = GUEST_IOAPIC_ID,
		.ioapic_pa = (uint32_t)GUEST_IOAPIC_PA, .lapic_pa = (uint32_t)GUEST_LAPIC_PA,
		.pm_io_base = GUEST_PM_IO_BASE, .sci_irq = GUEST_SCI_IRQ,
		.reset_port = GUEST_RESET_PORT,
		.max_cpus = d->nr_vcpus > 1 ? d->nr_vcpus : 0,
		.gpe0_io_base = GUEST_GPE0_IO_BASE, .cpuhp_io_base = GUEST_CPUHP_IO_BASE,
	};
	int n = acpi_tables_build(tables, sizeof(tables), GUEST_ACPI_PA, &cfg);

	if (n < 0)
		return n;
	acpi_pm_init(&d->pc->pm);
	return domain_copy_to_guest(d, GUEST_ACPI_PA, tables, (uint64_t)n);
}

/* d's virtual PC, nr_present of its vCPUs present; its MP and ACPI
 * tables go into its RAM unless it has its source's (a clone). */
static int guest_platform_init(struct domain *d, uint32_t nr_present, bool tables)
{
	static uint8_t mp[1024];
	int n;

	struct pci_func panic_fn = {
		.dev = GUEST_PVPANIC_DEV, .fn = 0, .cfg_read = pvpanic_cfg_read,
		.cfg_write = pvpanic_cfg_write, .ctx = &d->pc->pvpanic,
	};
	int rc;

	vioapic_init(&d->pc->ioapic, GUEST_IOAPIC_ID);
	ns16550_init(&d->pc->uart);
	mc146818_init(&d->pc->rtc);
	i8254_reset(&d->pc->pit);
	pci_host_init(&d->pc->pci);
	pvpanic_init(&d->pc->pvpanic, (uint32_t)GUEST_PVPANIC_PA);
	acpi_cpuhp_init(&d->pc->cpuhp, nr_present, d->nr_vcpus);
	rc = pci_host_add(&d->pc->pci, &panic_fn);
	if (rc == 0)
		rc = balloon_attach(d);
	if (rc || !tables)
		return rc;
	n = mptable_build(mp, sizeof(mp), KEEL_GUEST_MPTABLE_PA, nr_present,
			  GUEST_IOAPIC_ID, (uint32_t)GUEST_IOAPIC_PA, (uint32_t)GUEST_LAPIC_PA);
	if (n < 0)
		return n;
	rc = domain_copy_to_guest(d, KEEL_GUEST_MPTABLE_PA, mp, (uint64_t)n);
	return rc ? rc : guest_acpi_init(d);
}

/* Free everything a guest domain holds. Its vCPUs must not be running. */
static void domain_free(struct domain *d)
{
	d->pc->nr_vslots = 0;
	netdev_detach_all(d);
	blkdev_detach_all(d);
	balloon_detach(d);
	guest_vcpus_free(d);
	dirty_stop(d);
	guest_ram_free(d);
	if (d->npt.root_pa)
		pt_destroy(&d->npt);
	if (d->con_ring)
		mm_free_pages(virt_to_phys(d->con_ring), GUEST_CONSOLE_RING_BYTES / PAGE_SIZE_4K);
	watchdog_untrack_lock(&d->lock);
	mm_free_pages(virt_to_phys(d), d->self_pages);
}

static int create_check(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
			uint32_t max_vcpus)
{
	if (!name[0] || strnlen(name, KEEL_DOMAIN_NAME_BYTES) == KEEL_DOMAIN_NAME_BYTES)
		return -EINVAL;
	if (mem_bytes < KEEL_DOMAIN_MIN_MEM_BYTES || mem_bytes > KEEL_DOMAIN_MAX_MEM_BYTES ||
	    mem_bytes % GUEST_CHUNK_BYTES)
		return -EINVAL;
	if (nr_vcpus < 1 || max_vcpus < nr_vcpus || max_vcpus > DOMAIN_MAX_VCPUS)
		return -EINVAL;
	return 0;
}

/*
 * Make a paused guest domain called name with mem_bytes of RAM and
 * max_vcpus vCPUs, the first nr_vcpus present: zeroed RAM with its
 * platform tables, or, for a clone (src not NULL, paused, of the same
 * size), src's RAM shared copy-on-write (cow_share). On success *domid is
 * its id; on failure nothing is left behind.
 */
static int domain_make(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
		       uint32_t max_vcpus, struct domain *src, uint32_t *domid)
{
	/* The domain and its virtual PC share one zeroed block. */
	uint64_t pc_off = ALIGN_UP(sizeof(struct domain), 64);
	uint64_t pages = ALIGN_UP(pc_off + sizeof(struct vpc), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	uint64_t pa, ring;
	struct domain *d;
	int rc;

	pa = mm_alloc_pages(pages, 1);
	if (!pa)
		return -ENOMEM;
	d = phys_to_virt(pa);
	d->self_pages = pages;
	d->pc = (struct vpc *)((uint8_t *)d + pc_off);
	d->ops = &guest_ops;
	if (src)
		memcpy(d->cpuid_seen, src->cpuid_seen, sizeof(d->cpuid_seen));
	else
		cpuid_seen_take(d->cpuid_seen, guest_cpuid_here);
	strlcpy(d->name, name, sizeof(d->name));
	watchdog_track_lock(&d->lock, d->name);
	d->sched_weight = SCHED_WEIGHT_DEFAULT;
	d->nr_vcpus = max_vcpus;
	d->state = DOM_BUILDING;
	d->paused = true;
	ring = mm_alloc_pages(GUEST_CONSOLE_RING_BYTES / PAGE_SIZE_4K, 1);
	d->con_ring = ring ? phys_to_virt(ring) : 0;
	d->hv_bytes = (pages + (ring ? GUEST_CONSOLE_RING_BYTES / PAGE_SIZE_4K : 0)) * PAGE_SIZE_4K;
	mm_pt_init(&d->npt);
	rc = (!ring || !d->npt.root_pa) ? -ENOMEM : 0;
	if (rc == 0)
		rc = guest_ram_alloc(d, mem_bytes, src != 0);
	if (rc == 0)
		rc = guest_vcpus_create(d);
	if (rc == 0)
		rc = guest_platform_init(d, nr_vcpus, src == 0);
	if (rc == 0 && src)
		rc = cow_share(d, src);
	if (rc == 0 && src)
		balloon_clone(d, src);
	if (rc == 0)
		rc = domain_slot_insert(d);
	if (rc) {
		domain_free(d);
		return rc;
	}
	*domid = d->id;
	return 0;
}

/*
 * Create a paused guest domain called name with mem_bytes of zeroed RAM
 * and max_vcpus vCPUs (0: nr_vcpus), of which nr_vcpus are present at
 * start (the others can be plugged in, domain_vcpu_set). On success
 * *domid is its id. Returns 0 or -errno (-EINVAL bad arguments, -EEXIST
 * name in use, -ENOMEM, -ENOSPC too many domains); on failure nothing is
 * left behind.
 */
int domain_create(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
		  uint32_t max_vcpus, uint32_t *domid)
{
	int rc;

	if (max_vcpus == 0)
		max_vcpus = nr_vcpus;
	rc = create_check(name, mem_bytes, nr_vcpus, max_vcpus);
	if (rc == 0 && mem_bytes + (4 * MIB_BYTES) > mm_free_bytes())
		rc = -ENOMEM;
	if (rc == 0)
		rc = domain_make(name, mem_bytes, nr_vcpus, max_vcpus, 0, domid);
	if (rc == 0)
		log_info("domain %u (%s) created: %llu MiB, %u vCPU(s) of at most %u\n", *domid,
			 name, (unsigned long long)(mem_bytes >> 20), nr_vcpus, max_vcpus);
	return rc;
}

/* The guest with id domid; NULL if none (or dom0). */
static struct domain *guest_get(uint32_t domid)
{
	struct domain *d = domain_get(domid);

	return (d && !d->is_dom0) ? d : 0;
}

/*
 * Create a paused guest domain called name that shares the RAM of paused
 * guest src_domid copy-on-write, with as many vCPUs; its vCPU and device
 * state come afterwards (KEEL_HC_DOMAIN_STATE SET), and it starts with
 * KEEL_START_RESTORED. On success *domid is its id. Returns 0 or -errno:
 * -ENOENT (no such guest), -EBUSY (src not paused, or not running),
 * -EINVAL (bad name), -EEXIST, -ENOMEM, -ENOSPC.
 */
int domain_clone(const char *name, uint32_t src_domid, uint32_t *domid)
{
	struct domain *src = guest_get(src_domid);
	int rc;

	if (!src)
		return -ENOENT;
	if (src->state != DOM_ACTIVE || !src->paused || dirty_on(src))
		return -EBUSY; /* a live save or migration is copying it */
	rc = create_check(name, src->ram_bytes, src->nr_vcpus, src->nr_vcpus);
	if (rc == 0) /* its hotplug state comes with src's records */
		rc = domain_make(name, src->ram_bytes, acpi_cpuhp_nr_present(&src->pc->cpuhp),
				 src->nr_vcpus, src, domid);
	if (rc == 0)
		log_info("domain %u (%s) cloned from %u (%s): %llu MiB shared copy-on-write, %u vCPU(s)\n",
			 *domid, name, src->id, src->name,
			 (unsigned long long)((uint64_t)src->cow_chunks * GUEST_CHUNK_BYTES >> 20),
			 src->nr_vcpus);
	return rc;
}

/*
 * KEEL_HC_DOMAIN_DIRTY for guest dd->domid (keel_abi.h): start, read (the
 * bitmap into bitmap, room for dd->nr_pages / 8 bytes) or stop its dirty
 * page log, under its lock. dd->ram_pages and dd->dirty_count are filled
 * in. 0 or -errno (dirty.h; -ENOENT for no such guest).
 */
int domain_dirty(struct keel_domain_dirty *dd, uint8_t *bitmap)
{
	struct domain *d = guest_get(dd->domid);
	int rc = -EINVAL;

	if (!d)
		return -ENOENT;
	/* Once the guest is paused, a read must hold every write it made:
	 * wait until its vCPUs have really stopped (outside its lock). */
	if (dd->op == KEEL_DIRTY_READ && (d->paused || d->state != DOM_ACTIVE) &&
	    sched_wait_stopped(d, DOMAIN_STOP_TIMEOUT_NS))
		return -EBUSY;
	spin_lock(&d->lock);
	dd->ram_pages = dirty_ram_pages(d);
	dd->dirty_count = 0;
	if (d->state == DOM_DYING)
		rc = -ENOENT;
	else if (dd->op == KEEL_DIRTY_START)
		rc = dirty_start(d);
	else if (dd->op == KEEL_DIRTY_READ)
		rc = dirty_read(d, dd->first_page, dd->nr_pages, bitmap, &dd->dirty_count);
	else if (dd->op == KEEL_DIRTY_STOP)
		rc = dirty_on(d) ? (dirty_stop(d), 0) : -ENODEV;
	spin_unlock(&d->lock);
	return rc;
}

/*
 * Give guest domid the name name (NUL-terminated, 1 to
 * KEEL_DOMAIN_NAME_BYTES - 1 bytes; the toolstack checks its characters).
 * The name is replaced whole under the domain table's lock, so no two
 * domains ever share one. Returns 0, -ENOENT (no such guest), -EINVAL
 * (empty or too long) or -EEXIST (another domain has it; renaming a
 * domain to its own name is allowed and changes nothing).
 */
int domain_rename(uint32_t domid, const char *name)
{
	struct domain *d = guest_get(domid);
	char old[sizeof(d->name)];
	int rc = 0;

	if (!d)
		return -ENOENT;
	if (!name[0] || strnlen(name, KEEL_DOMAIN_NAME_BYTES) == KEEL_DOMAIN_NAME_BYTES)
		return -EINVAL;
	spin_lock(&domains_lock);
	memcpy(old, d->name, sizeof(old));
	if (strcmp(d->name, name) != 0) {
		if (name_taken(name))
			rc = -EEXIST;
		else
			strlcpy(d->name, name, sizeof(d->name));
	}
	spin_unlock(&domains_lock);
	if (!rc && strcmp(old, name) != 0)
		log_info("domain %u (%s) renamed %s\n", d->id, old, name);
	return rc;
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

/* Home every vCPU of d on a pool CPU and let it run. 0 or -ENOSPC. */
static int domain_launch(struct domain *d)
{
	uint32_t i;
	int rc;

	for (i = 0; i < d->nr_vcpus; i++) {
		rc = sched_attach(&d->vcpus[i]);
		if (rc) {
			while (i-- > 0)
				sched_detach(&d->vcpus[i]);
			return rc;
		}
	}
	d->start_ns = time_now_ns();
	d->state = DOM_ACTIVE;
	d->paused = false;
	for (i = 0; i < d->nr_vcpus; i++)
		sched_kick(&d->vcpus[i]);
	return 0;
}

/* Start a built domain: vCPU 0 at Linux's 32-bit entry rip with RSI=rsi,
 * the others waiting for INIT/SIPI. 0, -ENOENT, -EBUSY or -ENOSPC. */
int domain_start(uint32_t domid, uint64_t rip, uint64_t rsi)
{
	struct domain *d = guest_get(domid);
	struct vcpu_entry_state st = { .rip = rip, .rsi = rsi };
	int rc;

	if (!d)
		return -ENOENT;
	if (d->state != DOM_BUILDING)
		return -EBUSY;
	virt->vcpu_reset(&d->vcpus[0], &st);
	d->vcpus[0].state = VCPU_RUNNABLE;
	rc = domain_launch(d);
	if (rc) {
		d->vcpus[0].state = VCPU_WAIT_SIPI;
		return rc;
	}
	log_info("domain %u (%s) started\n", d->id, d->name);
	return 0;
}

/* Start guest domid from the state records loaded into it
 * (domain_state_set): no vCPU is reset. 0, -ENOENT, -EBUSY (started),
 * -EINVAL (no records loaded, or they were refused) or -ENOSPC. */
int domain_start_restored(uint32_t domid)
{
	struct domain *d = guest_get(domid);
	int rc;

	if (!d)
		return -ENOENT;
	if (d->state != DOM_BUILDING)
		return -EBUSY;
	if (!d->restore_ok)
		return -EINVAL;
	rc = domain_launch(d);
	if (rc)
		return rc;
	netdev_announce(d);
	log_info("domain %u (%s) restored and running\n", d->id, d->name);
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

/* How many of d's vCPUs are present; see domain.h. */
uint32_t domain_vcpus_present(const struct domain *d)
{
	return d->is_dom0 ? d->nr_vcpus : acpi_cpuhp_nr_present(&d->pc->cpuhp);
}

/* Make vCPUs 0..nr-1 of guest domid present and the others not (ACPI CPU
 * hotplug: the guest brings them online or offline itself); *max gets its
 * vCPU count and *present how many are present now. 0, -ENOENT, -EBUSY
 * (not running) or -EINVAL (nr 0 or above its vCPUs). */
int domain_vcpu_set(uint32_t domid, uint32_t nr, uint32_t *max, uint32_t *present)
{
	struct domain *d = guest_get(domid);
	int rc;

	if (!d)
		return -ENOENT;
	*max = d->nr_vcpus;
	if (d->state != DOM_ACTIVE)
		return -EBUSY;
	rc = guest_vcpu_set(d, nr, present);
	if (rc == 0)
		log_info("domain %u (%s): %u of its %u vCPUs present\n", d->id, d->name, nr,
			 d->nr_vcpus);
	return rc;
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
