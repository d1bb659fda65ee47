/*
 * A guest's state as records (docs/save-restore.md): reading a paused
 * guest's RAM and serializing its vCPUs and devices into a stream of
 * struct keel_state_rec records (KEEL_HC_DOMAIN_STATE GET), and loading
 * such a stream, which came from a file through dom0 and is trusted in
 * nothing, into a guest built but not started (SET), which then starts
 * where the saved one stopped (domain_start_restored). Each device saves
 * and checks its own record beside its model; this file walks the
 * domain, checks that every record a guest of this shape needs is there
 * once, and refuses the first bad one by type and instance. Glue that
 * reaches the virtual PC's devices, like guest.c.
 */
#include <keel/domain.h>
#include <keel/dirty.h>
#include <keel/domain_save.h>
#include <keel/vpc.h>
#include <keel/virtio_blk.h>
#include <keel/virtio_net.h>
#include <keel/cpuid_seen.h>
#include <keel/guest.h>
#include <keel/balloon.h>
#include <keel/memmap.h>
#include <keel/compiler.h>
#include <keel/state_rec.h>
#include <keel/tsc_offset.h>
#include <keel/sched.h>
#include <keel/virt.h>
#include <keel/arch.h>
#include <keel/hv.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <public/keel_abi.h>

#define SAVE_QUIET_TIMEOUT_NS 200000000ull /* for vCPUs to leave their CPUs */
#define CANONICAL_BITS 48u
#define TSC_AUX_BITS 32u

/* The payload of any one device record, for saving or loading it. */
union dev_payload {
	struct keel_state_ioapic io;
	struct keel_state_uart uart;
	struct keel_state_rtc rtc;
	struct keel_state_acpi_pm pm;
	struct keel_state_pvpanic pp;
	struct keel_state_virtio_blk blk;
	struct keel_state_virtio_net net;
	struct keel_state_balloon balloon;
	struct keel_state_cpuhp cpuhp;
	struct keel_state_cpuid cpuid;
};

/* ---- saving ---- */

/* Wait until no vCPU of the paused guest d runs, then have each one's
 * lazily held FPU and debug registers saved into it. 0 or -EBUSY. */
static int save_quiesce(struct domain *d)
{
	uint32_t i;

	if (sched_wait_stopped(d, SAVE_QUIET_TIMEOUT_NS))
		return -EBUSY;
	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		if (v->cpu && sched_flush_lazy(v, SAVE_QUIET_TIMEOUT_NS))
			return -EBUSY;
	}
	return 0;
}

static uint32_t run_state_of(const struct vcpu *v)
{
	switch (v->state) {
	case VCPU_RUNNABLE: return KEEL_STATE_RUN_RUNNABLE;
	case VCPU_HALTED: return KEEL_STATE_RUN_HALTED;
	case VCPU_OFF: return KEEL_STATE_RUN_OFF;
	default: return KEEL_STATE_RUN_WAIT_SIPI;
	}
}

/* The four records of vCPU v: registers, run state, FPU, local APIC.
 * 0, or the backend's error reading the registers. */
static int save_vcpu(struct domain *d, struct vcpu *v, uint64_t now, struct state_writer *w)
{
	struct keel_state_vcpu regs;
	struct keel_state_vcpu_run run = { 0 };
	struct keel_state_fpu fpu = { 0 };
	struct keel_state_lapic lapic;
	int rc = virt->vcpu_state_get(v, &regs);

	if (rc)
		return rc;
	state_rec_put(w, KEEL_STATE_VCPU, v->id, &regs, sizeof(regs));
	run.state = run_state_of(v);
	run.flags = (v->init_pending ? KEEL_STATE_RUN_INIT_PENDING : 0) |
		    (v->sipi_pending ? KEEL_STATE_RUN_SIPI_PENDING : 0);
	run.sipi_vector = v->sipi_vector;
	run.tsc_aux = v->tsc_aux;
	run.spec_ctrl = v->spec_ctrl;
	memcpy(run.dr, v->dr, sizeof(run.dr));
	state_rec_put(w, KEEL_STATE_VCPU_RUN, v->id, &run, sizeof(run));
	fpu.xcr0 = v->fpu.xcr0;
	fpu.rfbm = arch_fpu_rfbm();
	fpu.area_bytes = arch_fpu_area_bytes();
	state_rec_put_parts(w, KEEL_STATE_FPU, v->id, &fpu, sizeof(fpu), v->fpu.area,
			    fpu.area_bytes);
	vlapic_save(&d->pc->lapics[v->id], now, &lapic);
	state_rec_put(w, KEEL_STATE_LAPIC, v->id, &lapic, sizeof(lapic));
	return 0;
}

/* The records of d's devices, one per device. */
static void save_devices(struct domain *d, struct state_writer *w)
{
	struct vpc *pc = d->pc;
	union dev_payload u;
	uint32_t i;

	vioapic_save(&pc->ioapic, &u.io);
	state_rec_put(w, KEEL_STATE_IOAPIC, 0, &u.io, sizeof(u.io));
	ns16550_save(&pc->uart, &u.uart);
	state_rec_put(w, KEEL_STATE_UART, 0, &u.uart, sizeof(u.uart));
	mc146818_save(&pc->rtc, &u.rtc);
	state_rec_put(w, KEEL_STATE_RTC, 0, &u.rtc, sizeof(u.rtc));
	acpi_pm_save(&pc->pm, &u.pm);
	state_rec_put(w, KEEL_STATE_ACPI_PM, 0, &u.pm, sizeof(u.pm));
	pvpanic_save(&pc->pvpanic, &u.pp);
	state_rec_put(w, KEEL_STATE_PVPANIC, 0, &u.pp, sizeof(u.pp));
	for (i = 0; i < pc->nr_disks; i++) {
		virtio_blk_save(pc->disks[i], &u.blk);
		state_rec_put(w, KEEL_STATE_VIRTIO_BLK, i, &u.blk, sizeof(u.blk));
	}
	for (i = 0; i < pc->nr_nics; i++) {
		virtio_net_save(pc->nics[i], &u.net);
		state_rec_put(w, KEEL_STATE_VIRTIO_NET, i, &u.net, sizeof(u.net));
	}
	balloon_save(d, &u.balloon);
	state_rec_put(w, KEEL_STATE_BALLOON, 0, &u.balloon, sizeof(u.balloon));
	acpi_cpuhp_save(&pc->cpuhp, &u.cpuhp);
	state_rec_put(w, KEEL_STATE_CPUHP, 0, &u.cpuhp, sizeof(u.cpuhp));
	memcpy(u.cpuid.words, d->cpuid_seen, sizeof(u.cpuid.words));
	state_rec_put(w, KEEL_STATE_CPUID, 0, &u.cpuid, sizeof(u.cpuid));
}

/* What d has that no record holds yet: *bad_type names it. */
static int save_supported(const struct domain *d, uint32_t *bad_type)
{
	uint32_t i;

	if (!virt->vcpu_state_get) {
		*bad_type = KEEL_STATE_VCPU;
		return -EOPNOTSUPP;
	}
	for (i = 0; i < d->pc->nr_disks; i++) {
		if (!d->pc->disks[i]->read_only) { /* a RAM disk: its contents */
			*bad_type = KEEL_STATE_VIRTIO_BLK;
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Serialize paused guest domid; see domain_save.h. */
int domain_state_get(uint32_t domid, uint8_t *buf, uint64_t cap, uint64_t *len,
		     uint32_t *bad_type)
{
	struct domain *d = domain_get(domid);
	struct keel_state_tsc tsc;
	struct state_writer w;
	uint64_t now;
	uint32_t i;
	int rc;

	*bad_type = 0;
	if (!d || d->is_dom0)
		return -ENOENT;
	if (d->state != DOM_ACTIVE || !d->paused)
		return -EBUSY;
	rc = save_supported(d, bad_type);
	if (rc)
		return rc;
	rc = save_quiesce(d);
	if (rc)
		return rc;
	state_writer_init(&w, buf, cap);
	now = rdtsc();
	memset(&tsc, 0, sizeof(tsc));
	tsc.boot_id = hv.boot_id;
	tsc.tsc = now + d->vcpus[0].tsc_offset;
	tsc.tsc_offset = d->vcpus[0].tsc_offset;
	tsc.tsc_khz = time_tsc_khz();
	state_rec_put(&w, KEEL_STATE_TSC, 0, &tsc, sizeof(tsc));
	spin_lock(&d->lock);
	for (i = 0, rc = 0; i < d->nr_vcpus && rc == 0; i++)
		rc = save_vcpu(d, &d->vcpus[i], now, &w);
	if (rc == 0)
		save_devices(d, &w);
	spin_unlock(&d->lock);
	*len = w.len;
	return rc ? rc : w.err;
}

/* Copy len bytes of paused guest domid's RAM at gpa; see domain_save.h. */
/* Copy [gpa, gpa + len) of d, chunk by chunk: a chunk the guest's balloon
 * returned to the pool reads as zeros. */
static int memread_chunks(struct domain *d, uint8_t *dst, uint64_t gpa, uint32_t len)
{
	while (len) {
		uint32_t n = (uint32_t)MIN((uint64_t)len, GUEST_CHUNK_BYTES - gpa % GUEST_CHUNK_BYTES);
		int rc = 0;

		if (balloon_released(d, gpa) && memmap_contains(d->ram, d->nr_ram, gpa, n))
			memset(dst, 0, n);
		else
			rc = domain_copy_from_guest(d, dst, gpa, n);
		if (rc)
			return rc;
		dst += n, gpa += n, len -= n;
	}
	return 0;
}

int domain_memread(uint32_t domid, uint64_t gpa, void *dst, uint32_t len)
{
	struct domain *d = domain_get(domid);

	if (!d || d->is_dom0)
		return -ENOENT;
	if (d->state == DOM_BUILDING || d->state == DOM_DYING ||
	    (d->state == DOM_ACTIVE && !d->paused && !dirty_on(d)))
		return -EBUSY; /* running: only with its writes logged */
	return memread_chunks(d, dst, gpa, len);
}

/* ---- loading ---- */

/* Which records a load has seen, to find a missing or doubled one. */
struct load_seen {
	uint32_t vcpu_recs[KEEL_STATE_CPUID + 1]; /* per type: a bit per vCPU */
	uint32_t dev_recs[KEEL_STATE_CPUID + 1];  /* per type: a bit per instance */
	int32_t cpuid_missing; /* the feature a CPUID record wants and this CPU lacks */
};

static bool canonical(uint64_t va)
{
	int64_t s = (int64_t)(va << (64 - CANONICAL_BITS)) >> (64 - CANONICAL_BITS);

	return (uint64_t)s == va;
}

/* Load a run-state record into v after checking every field. */
static int load_vcpu_run(struct vcpu *v, const struct keel_state_vcpu_run *r)
{
	static const enum vcpu_state states[] = {
		[KEEL_STATE_RUN_WAIT_SIPI] = VCPU_WAIT_SIPI, [KEEL_STATE_RUN_RUNNABLE] = VCPU_RUNNABLE,
		[KEEL_STATE_RUN_HALTED] = VCPU_HALTED, [KEEL_STATE_RUN_OFF] = VCPU_OFF,
	};
	uint32_t i;

	if (r->state >= ARRAY_SIZE(states) || r->reserved || r->sipi_vector > 0xFF ||
	    (r->flags & ~(KEEL_STATE_RUN_INIT_PENDING | KEEL_STATE_RUN_SIPI_PENDING)) ||
	    (r->tsc_aux >> TSC_AUX_BITS) || (r->spec_ctrl & ~arch_spec_ctrl_bits()))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if (!canonical(r->dr[i]))
			return -EINVAL;
	v->state = states[r->state];
	v->init_pending = (r->flags & KEEL_STATE_RUN_INIT_PENDING) != 0;
	v->sipi_pending = (r->flags & KEEL_STATE_RUN_SIPI_PENDING) != 0;
	v->sipi_vector = (uint8_t)r->sipi_vector;
	v->tsc_aux = r->tsc_aux;
	v->spec_ctrl = r->spec_ctrl;
	memcpy(v->dr, r->dr, sizeof(v->dr));
	return 0;
}

/* An FPU record: the fixed part, then exactly area_bytes of area. */
static int load_fpu(struct vcpu *v, const struct state_rec_view *r)
{
	struct keel_state_fpu f;

	if (r->length < sizeof(f))
		return -EINVAL;
	memcpy(&f, r->payload, sizeof(f));
	if (f.reserved || r->length - sizeof(f) != f.area_bytes)
		return -EINVAL;
	return arch_fpu_load(&v->fpu, f.xcr0, f.rfbm, r->payload + sizeof(f), f.area_bytes);
}

/* Every vCPU of d gets TSC offset off. */
static void load_tsc_offset(struct domain *d, uint64_t off)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++)
		d->vcpus[i].tsc_offset = off;
}

/* The TSC record: d's offset (keel/tsc_offset.h). */
static int load_tsc(struct domain *d, const struct state_rec_view *r)
{
	struct keel_state_tsc t;
	uint64_t off = 0;
	int rc = state_rec_payload(r, &t, sizeof(t));

	if (!rc)
		rc = tsc_offset_load(&t, hv.boot_id, rdtsc(), time_tsc_khz(), &off);
	if (!rc)
		load_tsc_offset(d, off);
	return rc;
}

/* A per-vCPU record for v. */
static int load_vcpu_rec(struct domain *d, struct vcpu *v, const struct state_rec_view *r,
			 uint64_t now)
{
	union {
		struct keel_state_vcpu regs;
		struct keel_state_vcpu_run run;
		struct keel_state_lapic lapic;
	} u;
	int rc;

	switch (r->type) {
	case KEEL_STATE_VCPU:
		rc = state_rec_payload(r, &u.regs, sizeof(u.regs));
		return rc ? rc : virt->vcpu_state_set(v, &u.regs);
	case KEEL_STATE_VCPU_RUN:
		rc = state_rec_payload(r, &u.run, sizeof(u.run));
		return rc ? rc : load_vcpu_run(v, &u.run);
	case KEEL_STATE_FPU:
		return load_fpu(v, r);
	default: /* KEEL_STATE_LAPIC */
		rc = state_rec_payload(r, &u.lapic, sizeof(u.lapic));
		return rc ? rc : vlapic_load(&d->pc->lapics[v->id], &u.lapic, now);
	}
}

/* The features the guest booted with (optional: files from before ABI
 * 1.18 have none): it keeps them only on a CPU that has them all, else
 * -EOPNOTSUPP with the first missing one in *missing. */
static int load_cpuid(struct domain *d, const struct state_rec_view *r, int32_t *missing)
{
	struct keel_state_cpuid c;
	uint32_t here[KEEL_CPUID_WORDS];
	int rc = state_rec_payload(r, &c, sizeof(c));

	if (rc)
		return rc;
	cpuid_seen_take(here, guest_cpuid_here);
	*missing = cpuid_seen_missing(here, c.words);
	if (*missing >= 0)
		return -EOPNOTSUPP;
	memcpy(d->cpuid_seen, c.words, sizeof(d->cpuid_seen));
	return 0;
}

/* Before any other record is loaded: a CPUID record that names a
 * feature this CPU lacks refuses the whole stream (-EOPNOTSUPP, the
 * feature in *missing), since that says why, where a record it makes
 * unloadable (an FPU area with components this CPU lacks) would not. */
static int load_cpuid_first(const uint8_t *buf, uint64_t len, int32_t *missing)
{
	struct state_rec_view r;
	struct keel_state_cpuid c;
	uint32_t here[KEEL_CPUID_WORDS];
	uint64_t pos = 0;

	while (state_rec_next(buf, len, &pos, &r) == 1) {
		if (r.type != KEEL_STATE_CPUID || state_rec_payload(&r, &c, sizeof(c)))
			continue;
		cpuid_seen_take(here, guest_cpuid_here);
		*missing = cpuid_seen_missing(here, c.words);
		return *missing >= 0 ? -EOPNOTSUPP : 0;
	}
	return 0;
}

/* A device record: instance must name a device d has. */
static int load_dev_rec(struct domain *d, const struct state_rec_view *r,
			struct load_seen *seen)
{
	struct vpc *pc = d->pc;
	union dev_payload u;
	int rc;

#define LOAD(field, call) \
	((rc = state_rec_payload(r, &u.field, sizeof(u.field))) ? rc : (call))
	switch (r->type) {
	case KEEL_STATE_TSC:
		return r->instance ? -EINVAL : load_tsc(d, r);
	case KEEL_STATE_IOAPIC:
		return r->instance ? -EINVAL : LOAD(io, vioapic_load(&pc->ioapic, &u.io));
	case KEEL_STATE_UART:
		return r->instance ? -EINVAL : LOAD(uart, ns16550_load(&pc->uart, &u.uart));
	case KEEL_STATE_RTC:
		return r->instance ? -EINVAL : LOAD(rtc, mc146818_load(&pc->rtc, &u.rtc));
	case KEEL_STATE_ACPI_PM:
		return r->instance ? -EINVAL : LOAD(pm, acpi_pm_load(&pc->pm, &u.pm));
	case KEEL_STATE_PVPANIC:
		return r->instance ? -EINVAL : LOAD(pp, pvpanic_load(&pc->pvpanic, &u.pp));
	case KEEL_STATE_VIRTIO_BLK:
		if (r->instance >= pc->nr_disks)
			return -EINVAL;
		return LOAD(blk, virtio_blk_load(pc->disks[r->instance], &u.blk));
	case KEEL_STATE_VIRTIO_NET:
		if (r->instance >= pc->nr_nics)
			return -EINVAL;
		return LOAD(net, virtio_net_load(pc->nics[r->instance], &u.net));
	case KEEL_STATE_BALLOON: /* optional: files from ABI 1.11 have none */
		return r->instance ? -EINVAL : LOAD(balloon, balloon_load(d, &u.balloon));
	case KEEL_STATE_CPUHP: /* optional: files from before ABI 1.15 have none */
		return r->instance ? -EINVAL : LOAD(cpuhp, acpi_cpuhp_load(&pc->cpuhp, &u.cpuhp));
	case KEEL_STATE_CPUID:
		return r->instance ? -EINVAL : load_cpuid(d, r, &seen->cpuid_missing);
	default:
		return -EINVAL;   /* unknown, or VIRTIO_PCI alone: no such device */
	}
#undef LOAD
}

static bool is_vcpu_type(uint32_t type)
{
	return type == KEEL_STATE_VCPU || type == KEEL_STATE_VCPU_RUN ||
	       type == KEEL_STATE_FPU || type == KEEL_STATE_LAPIC;
}

/* Load one record, refusing a second one of the same type and instance. */
static int load_rec(struct domain *d, const struct state_rec_view *r, uint64_t now,
		    struct load_seen *seen)
{
	uint32_t *mask, limit;
	int rc;

	if (r->type == 0 || r->type > KEEL_STATE_CPUID)
		return -EINVAL;
	mask = is_vcpu_type(r->type) ? &seen->vcpu_recs[r->type] : &seen->dev_recs[r->type];
	limit = is_vcpu_type(r->type) ? d->nr_vcpus : 32;
	if (r->instance >= limit || (*mask & (1u << r->instance)))
		return -EINVAL;
	rc = is_vcpu_type(r->type) ? load_vcpu_rec(d, &d->vcpus[r->instance], r, now) :
				     load_dev_rec(d, r, seen);
	if (!rc)
		*mask |= 1u << r->instance;
	return rc;
}

/* After the last record: every record d's shape needs was there. The
 * first missing one goes to *bad_type and *bad_instance. */
static int load_complete(const struct domain *d, const struct load_seen *seen,
			 uint32_t *bad_type, uint32_t *bad_instance)
{
	static const uint32_t vcpu_types[] = { KEEL_STATE_VCPU, KEEL_STATE_VCPU_RUN,
					       KEEL_STATE_FPU, KEEL_STATE_LAPIC };
	static const uint32_t one_types[] = { KEEL_STATE_TSC, KEEL_STATE_IOAPIC, KEEL_STATE_UART,
					      KEEL_STATE_RTC, KEEL_STATE_ACPI_PM,
					      KEEL_STATE_PVPANIC };
	uint32_t i, n;

	for (i = 0; i < ARRAY_SIZE(vcpu_types); i++) {
		for (n = 0; n < d->nr_vcpus; n++) {
			if (!(seen->vcpu_recs[vcpu_types[i]] & (1u << n))) {
				*bad_type = vcpu_types[i], *bad_instance = n;
				return -EINVAL;
			}
		}
	}
	for (i = 0; i < ARRAY_SIZE(one_types); i++) {
		if (!(seen->dev_recs[one_types[i]] & 1u)) {
			*bad_type = one_types[i], *bad_instance = 0;
			return -EINVAL;
		}
	}
	for (n = 0; n < d->pc->nr_disks; n++)
		if (!(seen->dev_recs[KEEL_STATE_VIRTIO_BLK] & (1u << n))) {
			*bad_type = KEEL_STATE_VIRTIO_BLK, *bad_instance = n;
			return -EINVAL;
		}
	for (n = 0; n < d->pc->nr_nics; n++)
		if (!(seen->dev_recs[KEEL_STATE_VIRTIO_NET] & (1u << n))) {
			*bad_type = KEEL_STATE_VIRTIO_NET, *bad_instance = n;
			return -EINVAL;
		}
	return 0;
}

/* Load a record stream into guest domid, built and not started; see
 * domain_save.h. */
int domain_state_set(uint32_t domid, const uint8_t *buf, uint64_t len, uint32_t *bad_type,
		     uint32_t *bad_instance)
{
	struct domain *d = domain_get(domid);
	struct load_seen seen;
	struct state_rec_view r;
	uint64_t pos = 0, now = rdtsc();
	int rc;

	*bad_type = *bad_instance = 0;
	if (!d || d->is_dom0)
		return -ENOENT;
	if (d->state != DOM_BUILDING)
		return -EBUSY;
	if (!virt->vcpu_state_set) {
		*bad_type = KEEL_STATE_VCPU;
		return -EOPNOTSUPP;
	}
	d->restore_ok = false;
	memset(&seen, 0, sizeof(seen));
	rc = load_cpuid_first(buf, len, &seen.cpuid_missing);
	if (rc) {
		*bad_type = KEEL_STATE_CPUID;
		*bad_instance = (uint32_t)seen.cpuid_missing;
		return rc;
	}
	spin_lock(&d->lock);
	while ((rc = state_rec_next(buf, len, &pos, &r)) == 1) {
		rc = load_rec(d, &r, now, &seen);
		if (rc) {
			*bad_type = r.type, *bad_instance = r.instance;
			if (r.type == KEEL_STATE_CPUID && rc == -EOPNOTSUPP)
				*bad_instance = (uint32_t)seen.cpuid_missing;
			break;
		}
	}
	if (rc == 0)
		rc = load_complete(d, &seen, bad_type, bad_instance);
	spin_unlock(&d->lock);
	d->restore_ok = rc == 0;
	if (rc)
		log_warn("domain %u (%s): saved state refused at record type %u instance %u (%d)\n",
			 d->id, d->name, *bad_type, *bad_instance, rc);
	return rc;
}
