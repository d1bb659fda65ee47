/*
 * Hypercall handlers. A call arrives as VMMCALL/VMCALL with the number in
 * RAX and a buffer in RDI/RSI (include/public/keel_abi.h). Privileged calls
 * are accepted only from dom0's kernel (CPL 0); a guest or dom0 user space
 * gets -KEEL_EPERM and nothing else happens. One table (hc_table) says
 * for each call how big its argument is at least, how it is copied into
 * the one bounce buffer and back (privileged calls hold hc_lock, since
 * dom0 may have several vCPUs), and which handler works on it there: the
 * hypervisor never works on memory dom0 can change underneath it. Errors
 * reach dom0 only as the values the ABI defines (hc_abi_result).
 */
#include <keel/hypercall.h>
#include <keel/errno.h>
#include <keel/log.h>
#include <keel/hv.h>
#include <keel/domain.h>
#include <keel/domain_save.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/string.h>
#include <keel/guest.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/sched.h>
#include <keel/watchdog.h>
#include <keel/balloon.h>
#include <public/keel_abi.h>

static bool caller_privileged(struct vcpu *v)
{
	return v->dom->is_dom0 && virt->vcpu_cpl(v) == 0;
}

static void info_fill(struct keel_info *in)
{
	memset(in, 0, sizeof(*in));
	in->abi_version = KEEL_ABI_VERSION;
	in->hv_version = KEEL_VERSION;
	strlcpy(in->hv_version_str, KEEL_VERSION_STR, sizeof(in->hv_version_str));
	strlcpy(in->cpu_vendor, arch_cpu_vendor(), sizeof(in->cpu_vendor));
	in->backend = virt->backend;
	in->features = virt->features;
	in->cpus_total = nr_cpus;
	in->cpus_dom0 = hv.cpus_dom0;
	in->cpus_pool = hv.cpus_pool;
	in->cpu_mask_dom0 = hv.cpu_mask_dom0;
	in->cpu_mask_pool = hv.cpu_mask_pool;
	in->mem_total_bytes = hv.mem_total_bytes;
	in->mem_dom0_bytes = hv.mem_dom0_bytes;
	in->mem_hv_bytes = hv.image_bytes + mm_hv_bytes();
	in->mem_pool_total_bytes = mm_total_bytes();
	in->mem_pool_free_bytes = mm_free_bytes();
	in->tsc_khz = time_tsc_khz();
	in->uptime_ns = time_now_ns();
	in->hv_base_pa = hv.image_base_pa;
	in->hv_size_bytes = hv.image_bytes;
	in->marker_pa = hv.marker_pa;
}

/*
 * The hypercall table: for each privileged call, how much argument it
 * needs, how it is copied in and out of the bounce buffer, and its
 * handler. A handler gets the argument in the bounce buffer (arg, size
 * bytes of which came from the caller, or only min with HC_IN_HEADER, or
 * none with HC_IN_NONE), returns 0 or -errno, and may change *out, the
 * bytes copied back to the caller on success (preset to min with
 * HC_OUT_ARG, else 0).
 */
enum hc_in { HC_IN_ALL, HC_IN_HEADER, HC_IN_NONE };
enum hc_out { HC_OUT_NONE, HC_OUT_ARG, HC_OUT_ARG_ALWAYS /* also on failure */ };

struct hc_desc {
	uint32_t min;       /* bytes the argument has at least */
	enum hc_in in;
	enum hc_out out;
	int64_t (*fn)(struct vcpu *v, void *arg, uint64_t size, uint64_t *out);
};

static int64_t hc_info(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	(void)v, (void)size, (void)out;
	info_fill(arg);
	return 0;
}

static uint8_t bounce[KEEL_HC_MAX_ARG] __aligned(64);
static struct spinlock hc_lock; /* the bounce buffer: one privileged call at a time */

static int64_t hc_privileged(struct vcpu *v, uint64_t op, uint64_t gpa, uint64_t size);

/* The guest domain domid, or NULL (no such domain, or dom0). */
static struct domain *guest_lookup(uint32_t domid)
{
	struct domain *d = domain_get(domid);

	return (d && !d->is_dom0) ? d : 0;
}

static int64_t hc_domain_create(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_create *c = arg;

	(void)v, (void)size, (void)out;
	c->name[sizeof(c->name) - 1] = 0;
	if (c->reserved)
		return -EINVAL;
	return domain_create(c->name, c->mem_bytes, c->nr_vcpus, c->max_vcpus, &c->domid);
}

static int64_t hc_domain_clone(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_clone *c = arg;

	(void)v, (void)size, (void)out;
	c->name[sizeof(c->name) - 1] = 0;
	return domain_clone(c->name, c->src_domid, &c->domid);
}

static int64_t hc_domain_memwrite(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_memwrite *m = arg;

	(void)v, (void)out;
	if (m->len > size - sizeof(*m))
		return -KEEL_EINVAL;
	return domain_memwrite(m->domid, m->gpa, m + 1, m->len);
}

static int64_t hc_domain_start(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_start *st = arg;

	(void)v, (void)size, (void)out;
	if (st->flags & ~KEEL_START_RESTORED)
		return -KEEL_EINVAL;
	if (st->flags & KEEL_START_RESTORED)
		return domain_start_restored(st->domid);
	return domain_start(st->domid, st->rip, st->rsi);
}

static int64_t hc_domain_memread(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_memread *m = arg;
	int rc;

	(void)v;
	if (m->len > KEEL_MEMREAD_MAX || m->len > size - sizeof(*m))
		return -KEEL_EINVAL;
	rc = domain_memread(m->domid, m->gpa, m + 1, m->len);
	if (!rc)
		*out = sizeof(*m) + m->len;
	return rc;
}

/* START and STOP take the header; READ writes the bitmap after it, and
 * both go back. */
static int64_t hc_domain_dirty(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_dirty *dd = arg;
	int rc;

	(void)v;
	if (dd->op == KEEL_DIRTY_READ &&
	    (dd->nr_pages > KEEL_DIRTY_READ_MAX || dd->nr_pages / 8 > size - sizeof(*dd)))
		return -KEEL_EINVAL;
	rc = domain_dirty(dd, (uint8_t *)(dd + 1));
	if (rc == 0 && dd->op == KEEL_DIRTY_READ)
		*out += dd->nr_pages / 8;
	return rc;
}

/* GET writes the records after the header and copies both back; SET
 * reads them from there. Both copy the header back on failure too, for
 * bad_type and bad_instance. */
static int64_t hc_domain_state(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_state *st = arg;
	uint8_t *recs = (uint8_t *)(st + 1);
	uint64_t room = size - sizeof(*st), len = 0;
	int rc;

	(void)v;
	st->bad_type = st->bad_instance = 0;
	*out = sizeof(*st); /* the header goes back on failure too: bad_type */
	if (st->reserved || st->len > room)
		return -KEEL_EINVAL;
	if (st->op == KEEL_STATE_OP_SET)
		return domain_state_set(st->domid, recs, st->len, &st->bad_type,
					&st->bad_instance);
	if (st->op != KEEL_STATE_OP_GET)
		return -KEEL_EINVAL;
	rc = domain_state_get(st->domid, recs, st->len, &len, &st->bad_type);
	st->len = (uint32_t)len;
	if (!rc)
		*out = sizeof(*st) + len;
	return rc;
}

static int64_t hc_domain_ctl(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_ctl *c = arg;

	(void)v, (void)size, (void)out;
	switch (c->op) {
	case KEEL_DOMCTL_PAUSE:
		return domain_pause(c->domid, true);
	case KEEL_DOMCTL_UNPAUSE:
		return domain_pause(c->domid, false);
	case KEEL_DOMCTL_DESTROY:
		return domain_destroy(c->domid);
	case KEEL_DOMCTL_SHUTDOWN:
		return domain_request(c->domid, false);
	case KEEL_DOMCTL_REBOOT:
		return domain_request(c->domid, true);
	default:
		return -KEEL_EINVAL;
	}
}

static int64_t hc_domain_rename(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	const struct keel_domain_rename *r = arg;

	(void)v, (void)size, (void)out;
	return domain_rename(r->domid, r->name); /* checks the terminator */
}

/* Each vCPU's home CPU and state, a snapshot taken without locks. */
static void vcpus_describe(struct domain *d, struct keel_domain_sched *c)
{
	uint32_t i;

	c->nr_vcpus = d->nr_vcpus;
	for (i = 0; i < d->nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++) {
		const struct vcpu *v = &d->vcpus[i];
		struct cpu *home = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);

		c->vcpu_cpu[i] = home ? home->index : KEEL_VCPU_NO_CPU;
		c->vcpu_cpumask[i] = sched_vcpu_cpus(v);
		if (d->state != DOM_ACTIVE || v->state == VCPU_WAIT_SIPI || v->state == VCPU_OFF)
			c->vcpu_state[i] = KEEL_VCPU_DOWN;
		else if (__atomic_load_n(&v->running, __ATOMIC_RELAXED))
			c->vcpu_state[i] = KEEL_VCPU_RUNNING;
		else if (v->state == VCPU_HALTED)
			c->vcpu_state[i] = KEEL_VCPU_BLOCKED;
		else
			c->vcpu_state[i] = KEEL_VCPU_RUNNABLE;
	}
}

static int64_t hc_domain_balloon(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	(void)v, (void)size;
	*out = sizeof(struct keel_domain_balloon); /* also on failure: its state */
	return balloon_ctl(((struct keel_domain_balloon *)arg)->domid, arg);
}

/* KEEL_SCHED_PIN: pin one vCPU of d, or each. */
static int sched_pin(struct domain *d, uint32_t vcpu, uint64_t mask)
{
	uint32_t i;
	int rc = 0;

	if (vcpu != KEEL_SCHED_ALL_VCPUS && vcpu >= d->nr_vcpus)
		return -KEEL_EINVAL;
	for (i = 0; i < d->nr_vcpus && !rc; i++)
		if (vcpu == KEEL_SCHED_ALL_VCPUS || vcpu == i)
			rc = sched_vcpu_pin(&d->vcpus[i], mask);
	return rc;
}

static int64_t hc_domain_sched(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_sched *c = arg;
	struct domain *d = guest_lookup(c->domid);
	int rc = 0;

	(void)v;
	*out = MIN(size, (uint64_t)sizeof(*c));
	if (!d)
		return -KEEL_ENOENT;
	if (c->op == KEEL_SCHED_SET)
		rc = sched_domain_set(d, c->weight, c->cap, c->cpumask);
	else if (c->op == KEEL_SCHED_PIN)
		rc = sched_pin(d, c->vcpu, c->cpumask);
	else if (c->op != KEEL_SCHED_GET)
		return -KEEL_EINVAL;
	c->weight = d->sched_weight;
	c->cap = d->sched_cap_pct;
	c->cpumask = d->sched_affinity;
	vcpus_describe(d, c);
	return rc;
}

static uint32_t dominfo_state(const struct domain *d)
{
	uint32_t i;

	switch (d->state) {
	case DOM_BUILDING:
		return KEEL_DOMSTATE_BUILDING;
	case DOM_SHUTDOWN:
		return KEEL_DOMSTATE_SHUTDOWN;
	case DOM_CRASHED:
		return KEEL_DOMSTATE_CRASHED;
	default:
		break;
	}
	if (d->paused)
		return KEEL_DOMSTATE_PAUSED;
	for (i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].state == VCPU_RUNNABLE)
			return KEEL_DOMSTATE_RUNNING;
	return KEEL_DOMSTATE_BLOCKED;
}

static void dominfo_fill(const struct domain *d, struct keel_dominfo *in)
{
	uint32_t i;

	memset(in, 0, sizeof(*in));
	in->domid = d->id;
	strlcpy(in->name, d->name, sizeof(in->name));
	in->max_vcpus = d->nr_vcpus;
	in->nr_vcpus = domain_vcpus_present(d);
	in->mem_bytes = d->ram_bytes;
	in->state = d->is_dom0 ? KEEL_DOMSTATE_RUNNING : dominfo_state(d);
	in->shutdown_reason = d->shutdown_reason;
	in->console_bytes = d->con_pos;
	for (i = 0; i < d->nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++) {
		in->vcpu_time_ns[i] = d->vcpus[i].time_ns;
		in->cpu_time_ns += d->vcpus[i].time_ns;
		in->exits += d->vcpus[i].exits;
	}
	if (d->is_dom0) /* dom0 runs all the time on its own CPU */
		in->cpu_time_ns = in->vcpu_time_ns[0] = time_now_ns();
}

static int64_t hc_domain_list(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_list *l = arg;
	struct keel_dominfo *infos = (void *)(l + 1);
	struct domain *ds[MAX_DOMAINS];
	uint32_t n, i, room;

	(void)v;
	room = (uint32_t)MIN(l->max, (size - sizeof(*l)) / sizeof(*infos));
	n = domain_list(ds, MIN(room, MAX_DOMAINS));
	for (i = 0; i < n; i++)
		dominfo_fill(ds[i], &infos[i]);
	l->count = n;
	*out = sizeof(*l) + n * sizeof(*infos);
	return 0;
}

static int64_t console_read(struct domain *d, struct keel_console_io *io, uint64_t room)
{
	uint64_t end = d->con_pos, oldest, pos = io->pos, n, i;
	uint8_t *data = (uint8_t *)(io + 1);

	oldest = end > GUEST_CONSOLE_RING_BYTES ? end - GUEST_CONSOLE_RING_BYTES : 0;
	io->lost = 0;
	if (pos < oldest) {
		io->lost = (uint32_t)MIN(oldest - pos, 0xFFFFFFFFull);
		pos = oldest;
	}
	if (pos > end)
		pos = end;
	n = MIN(MIN(end - pos, (uint64_t)io->len), room);
	for (i = 0; i < n; i++)
		data[i] = d->con_ring[(pos + i) % GUEST_CONSOLE_RING_BYTES];
	io->len = (uint32_t)n;
	io->pos = pos + n;
	return 0;
}

static int64_t hc_console_io(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_console_io *io = arg;
	uint64_t room = size - sizeof(*io);
	struct domain *d = guest_lookup(io->domid);

	(void)v;
	if (!d)
		return -KEEL_ENOENT;
	if (io->op == KEEL_CONSOLE_READ) {
		console_read(d, io, room);
		*out = sizeof(*io) + io->len;
		return 0;
	}
	if (io->len > room)
		return -KEEL_EINVAL;
	if (io->op == KEEL_CONSOLE_PRELOAD)
		return domain_console_preload(d, (const uint8_t *)(io + 1), io->len);
	if (io->op != KEEL_CONSOLE_WRITE)
		return -KEEL_EINVAL;
	io->len = guest_console_input(d, (const uint8_t *)(io + 1), io->len);
	return 0;
}

static int64_t hc_image_open(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_image_open *o = arg;

	(void)v, (void)size, (void)out;
	o->name[sizeof(o->name) - 1] = 0;
	return blkdev_image_open(o->name, o->bytes, &o->image_id, &o->flags);
}

static int64_t hc_image_write(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_image_write *w = arg;

	(void)v, (void)out;
	if (w->len > size - sizeof(*w))
		return -KEEL_EINVAL;
	return blkdev_image_write(w->image_id, w->offset, w + 1, w->len);
}

static int64_t hc_image_done(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_image_done *dn = arg;

	(void)v, (void)size, (void)out;
	return blkdev_image_done(dn->image_id);
}

static int64_t hc_disk_add(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_disk_add *a = arg;
	struct domain *d = guest_lookup(a->domid);

	(void)v, (void)size, (void)out;
	if (!d)
		return -KEEL_ENOENT;
	return blkdev_attach(d, a->kind, a->image_id, a->ram_bytes, &a->slot);
}

static int64_t hc_nic_add(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_nic_add *a = arg;
	struct domain *d = guest_lookup(a->domid);

	(void)v, (void)size, (void)out;
	if (!d)
		return -KEEL_ENOENT;
	return netdev_attach(d, a->mac, &a->slot);
}

static int64_t hc_vcpu_set(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_vcpu_set *s = arg;

	(void)v, (void)size, (void)out;
	s->max_vcpus = s->present = 0;
	return domain_vcpu_set(s->domid, s->nr_vcpus, &s->max_vcpus, &s->present);
}

static int64_t hc_nic_link(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_nic_link *l = arg;
	struct domain *d = guest_lookup(l->domid);

	(void)v, (void)size, (void)out;
	if (!d)
		return -KEEL_ENOENT;
	if (l->up > 1 || l->reserved)
		return -KEEL_EINVAL;
	return netdev_set_link(d, l->slot, l->up == 1);
}

static int64_t hc_domain_stats(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_stats *l = arg;
	struct keel_domstats *st = (void *)(l + 1);
	struct domain *ds[MAX_DOMAINS];
	uint32_t n, i, room;

	(void)v;
	room = (uint32_t)MIN(l->max, (size - sizeof(*l)) / sizeof(*st));
	n = domain_list(ds, MIN(room, MAX_DOMAINS));
	for (i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].domid = ds[i]->id;
		if (!ds[i]->is_dom0)
			blkdev_stats(ds[i], &st[i]);
		netdev_stats(ds[i], &st[i]);
		st[i].hv_bytes = ds[i]->hv_bytes;
		st[i].shared_chunks = ds[i]->cow_chunks;
		st[i].cow_page_bytes = (uint64_t)ds[i]->cow_pages * PAGE_SIZE_4K;
		st[i].hv_console_bytes = ds[i]->con_ring ? GUEST_CONSOLE_RING_BYTES : 0;
		st[i].hv_net_bytes = ds[i]->hv_net_bytes;
		st[i].start_ns = ds[i]->start_ns;
	}
	l->count = n;
	*out = sizeof(*l) + n * sizeof(*st);
	return 0;
}

static void cpustat_fill(uint32_t cpu, struct keel_cpustat *c)
{
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	c->online = cpus[cpu].online;
	c->domid = KEEL_CPU_DOMID_NONE;
	if (hv.cpu_mask_dom0 & (1ull << cpu)) {
		c->role = KEEL_CPU_ROLE_DOM0;
		c->domid = 0;
		c->nr_vcpus = 1; /* one dom0 vCPU per dom0 CPU */
	} else if (hv.cpu_mask_pool & (1ull << cpu)) {
		c->role = KEEL_CPU_ROLE_POOL;
		sched_cpu_stats(cpu, &c->busy_ns, &c->domid, &c->vcpu, &c->nr_vcpus);
	} else {
		c->role = KEEL_CPU_ROLE_IDLE;
	}
}

static int64_t hc_cpu_stats(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_cpu_stats *l = arg;
	struct keel_cpustat *c = (void *)(l + 1);
	uint32_t n, i;

	(void)v;
	n = (uint32_t)MIN(MIN(l->max, (size - sizeof(*l)) / sizeof(*c)), nr_cpus);
	for (i = 0; i < n; i++)
		cpustat_fill(i, &c[i]);
	l->count = n;
	l->now_ns = time_now_ns();
	*out = sizeof(*l) + n * sizeof(*c);
	return 0;
}

static int64_t hc_domain_exits(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_domain_exits *x = arg;
	struct keel_exitstat *st = (void *)(x + 1);
	struct domain *d = domain_get(x->domid);
	uint32_t room = (uint32_t)MIN(x->max, (size - sizeof(*x)) / sizeof(*st));

	(void)v;
	if (!d)
		return -KEEL_ENOENT;
	x->count = exit_profile_read(&d->exit_prof, st, room, time_tsc_khz(), &x->total);
	x->now_ns = time_now_ns();
	*out = sizeof(*x) + x->count * sizeof(*st);
	return 0;
}

static int64_t hc_net_notify(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	const struct keel_net_notify *n = arg;

	(void)v, (void)size, (void)out;
	return netdev_dom0_set_irq(n->vector, n->apic_id);
}

static int64_t hc_net_attach(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_net_attach *a = arg;

	(void)size, (void)out;
	return netdev_dom0_attach(v->dom, a->mac, a->notify_pa);
}

static int64_t hc_net_xmit(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_net_frames *f = arg;
	int64_t rc;

	(void)v, (void)out;
	rc = netdev_dom0_xmit((const uint8_t *)(f + 1),
			      (uint32_t)MIN(f->bytes, size - sizeof(*f)), f->count);
	if (rc < 0)
		return rc;
	f->count = (uint32_t)rc;
	return 0;
}

/* Only the header is copied in: the frames are only written. */
static int64_t hc_net_recv(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_net_frames *f = arg;
	int64_t rc;

	(void)v;
	rc = netdev_dom0_recv((uint8_t *)(f + 1), (uint32_t)(size - sizeof(*f)),
			      &f->count, &f->bytes, &f->more);
	*out = sizeof(*f) + f->bytes;
	return rc;
}

/* Only the header is copied in: the text is only written. */
static int64_t hc_log_read(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	struct keel_log_read *r = arg;

	(void)v;
	if (r->flags & ~KEEL_LOG_CLEAR)
		return -KEEL_EINVAL;
	r->bytes = log_read(&r->pos, &r->head, (char *)(r + 1), (uint32_t)(size - sizeof(*r)),
			    r->flags & KEEL_LOG_CLEAR);
	*out = sizeof(*r) + r->bytes;
	return 0;
}

static int64_t hc_heartbeat(struct vcpu *v, void *arg, uint64_t size, uint64_t *out)
{
	(void)v, (void)arg, (void)size, (void)out;
	if (!this_cpu()->watched)
		watchdog_arm();
	return 0;
}

#define HC(op, type, in_, out_, fn_) [op] = { sizeof(type), in_, out_, fn_ }

static const struct hc_desc hc_table[] = {
	HC(KEEL_HC_INFO, struct keel_info, HC_IN_NONE, HC_OUT_ARG, hc_info),
	HC(KEEL_HC_DOMAIN_CREATE, struct keel_domain_create, HC_IN_ALL, HC_OUT_ARG, hc_domain_create),
	HC(KEEL_HC_DOMAIN_MEMWRITE, struct keel_memwrite, HC_IN_ALL, HC_OUT_NONE, hc_domain_memwrite),
	HC(KEEL_HC_DOMAIN_START, struct keel_domain_start, HC_IN_ALL, HC_OUT_NONE, hc_domain_start),
	HC(KEEL_HC_DOMAIN_CTL, struct keel_domain_ctl, HC_IN_ALL, HC_OUT_NONE, hc_domain_ctl),
	HC(KEEL_HC_DOMAIN_LIST, struct keel_domain_list, HC_IN_ALL, HC_OUT_NONE, hc_domain_list),
	HC(KEEL_HC_CONSOLE_IO, struct keel_console_io, HC_IN_ALL, HC_OUT_ARG, hc_console_io),
	HC(KEEL_HC_IMAGE_OPEN, struct keel_image_open, HC_IN_ALL, HC_OUT_ARG, hc_image_open),
	HC(KEEL_HC_IMAGE_WRITE, struct keel_image_write, HC_IN_ALL, HC_OUT_NONE, hc_image_write),
	HC(KEEL_HC_IMAGE_DONE, struct keel_image_done, HC_IN_ALL, HC_OUT_NONE, hc_image_done),
	HC(KEEL_HC_DOMAIN_DISK_ADD, struct keel_disk_add, HC_IN_ALL, HC_OUT_ARG, hc_disk_add),
	HC(KEEL_HC_DOMAIN_NIC_ADD, struct keel_nic_add, HC_IN_ALL, HC_OUT_ARG, hc_nic_add),
	HC(KEEL_HC_DOMAIN_STATS, struct keel_domain_stats, HC_IN_ALL, HC_OUT_NONE, hc_domain_stats),
	HC(KEEL_HC_CPU_STATS, struct keel_cpu_stats, HC_IN_ALL, HC_OUT_NONE, hc_cpu_stats),
	HC(KEEL_HC_NET_ATTACH, struct keel_net_attach, HC_IN_ALL, HC_OUT_NONE, hc_net_attach),
	HC(KEEL_HC_NET_XMIT, struct keel_net_frames, HC_IN_ALL, HC_OUT_ARG, hc_net_xmit),
	HC(KEEL_HC_NET_RECV, struct keel_net_frames, HC_IN_HEADER, HC_OUT_NONE, hc_net_recv),
	[KEEL_HC_HEARTBEAT] = { 0, HC_IN_NONE, HC_OUT_NONE, hc_heartbeat },
	HC(KEEL_HC_DOMAIN_EXITS, struct keel_domain_exits, HC_IN_HEADER, HC_OUT_NONE,
	   hc_domain_exits),
	HC(KEEL_HC_NET_NOTIFY, struct keel_net_notify, HC_IN_ALL, HC_OUT_NONE, hc_net_notify),
	HC(KEEL_HC_LOG_READ, struct keel_log_read, HC_IN_HEADER, HC_OUT_NONE, hc_log_read),
	HC(KEEL_HC_DOMAIN_RENAME, struct keel_domain_rename, HC_IN_ALL, HC_OUT_NONE,
	   hc_domain_rename),
	/* ABI 1.10's struct ended before vcpu_cpumask: a caller of that minor
	 * passes the shorter size and gets that much back (hc_domain_sched) */
	[KEEL_HC_DOMAIN_SCHED] = { offsetof(struct keel_domain_sched, vcpu_cpumask), HC_IN_ALL,
				   HC_OUT_ARG, hc_domain_sched },
	HC(KEEL_HC_DOMAIN_MEMREAD, struct keel_memread, HC_IN_HEADER, HC_OUT_NONE,
	   hc_domain_memread),
	HC(KEEL_HC_DOMAIN_STATE, struct keel_domain_state, HC_IN_ALL, HC_OUT_ARG_ALWAYS,
	   hc_domain_state),
	HC(KEEL_HC_DOMAIN_BALLOON, struct keel_domain_balloon, HC_IN_ALL, HC_OUT_ARG_ALWAYS,
	   hc_domain_balloon),
	HC(KEEL_HC_DOMAIN_CLONE, struct keel_domain_clone, HC_IN_ALL, HC_OUT_ARG, hc_domain_clone),
	HC(KEEL_HC_DOMAIN_NIC_LINK, struct keel_nic_link, HC_IN_ALL, HC_OUT_NONE, hc_nic_link),
	HC(KEEL_HC_DOMAIN_VCPU_SET, struct keel_vcpu_set, HC_IN_ALL, HC_OUT_ARG_ALWAYS,
	   hc_vcpu_set),
	HC(KEEL_HC_DOMAIN_DIRTY, struct keel_domain_dirty, HC_IN_HEADER, HC_OUT_ARG,
	   hc_domain_dirty),
};

/* The error numbers the ABI defines (keel_abi.h), which are the
 * hypervisor's own (keel/errno.h): a call returns no other. */
static const int64_t hc_abi_errors[] = {
	KEEL_EPERM, KEEL_ENOENT, KEEL_E2BIG, KEEL_ENOMEM, KEEL_EFAULT, KEEL_EBUSY,
	KEEL_EEXIST, KEEL_ENODEV, KEEL_EINVAL, KEEL_ENOSPC, KEEL_ERANGE, KEEL_ENOSYS,
	KEEL_EXDEV, KEEL_EOPNOTSUPP,
};
STATIC_ASSERT(EPERM == KEEL_EPERM && ENOENT == KEEL_ENOENT && E2BIG == KEEL_E2BIG &&
	      ENOMEM == KEEL_ENOMEM && EFAULT == KEEL_EFAULT && EBUSY == KEEL_EBUSY &&
	      EEXIST == KEEL_EEXIST && ENODEV == KEEL_ENODEV && EINVAL == KEEL_EINVAL &&
	      ENOSPC == KEEL_ENOSPC && ERANGE == KEEL_ERANGE && ENOSYS == KEEL_ENOSYS &&
	      EXDEV == KEEL_EXDEV && EOPNOTSUPP == KEEL_EOPNOTSUPP,
	      "keel/errno.h and the ABI's KEEL_E* agree");

/* rc as dom0 may see it: a result, or an error the ABI defines; any other
 * error (a Keel bug) is logged and reported as -KEEL_EINVAL. */
static int64_t hc_abi_result(uint64_t op, int64_t rc)
{
	uint32_t i;

	if (rc >= 0)
		return rc;
	for (i = 0; i < ARRAY_SIZE(hc_abi_errors); i++)
		if (rc == -hc_abi_errors[i])
			return rc;
	log_err("hypercall %llu failed with error %lld, which the ABI does not define; "
		"reported as EINVAL\n", (unsigned long long)op, (long long)rc);
	return -KEEL_EINVAL;
}

/* Copy the argument of call h at gpa (size bytes) into the bounce buffer. */
static int64_t hc_copy_in(struct vcpu *v, const struct hc_desc *h, uint64_t gpa, uint64_t size)
{
	if (size < h->min || (h->in != HC_IN_NONE && size > sizeof(bounce)))
		return -KEEL_EINVAL;
	if (h->in == HC_IN_NONE)
		return 0;
	if (domain_copy_from_guest(v->dom, bounce, gpa, h->in == HC_IN_HEADER ? h->min : size))
		return -KEEL_EFAULT;
	return 0;
}

/* Perform the hypercall in v's registers; see hypercall.h. */
int64_t hypercall_dispatch(struct vcpu *v)
{
	uint64_t op = v->regs.rax;
	int64_t rc;

	if (op == KEEL_HC_VERSION)
		return KEEL_ABI_VERSION;
	if (!caller_privileged(v))
		return -KEEL_EPERM;
	spin_lock(&hc_lock);
	rc = hc_privileged(v, op, v->regs.rdi, v->regs.rsi);
	spin_unlock(&hc_lock);
	return hc_abi_result(op, rc);
}

/* A privileged call op with buffer gpa of size bytes, under hc_lock: the
 * table's entry copies in, calls and copies out. */
static int64_t hc_privileged(struct vcpu *v, uint64_t op, uint64_t gpa, uint64_t size)
{
	const struct hc_desc *h;
	uint64_t out;
	int64_t rc;

	if (op >= ARRAY_SIZE(hc_table) || !hc_table[op].fn)
		return -KEEL_ENOSYS;
	h = &hc_table[op];
	rc = hc_copy_in(v, h, gpa, size);
	if (rc)
		return rc;
	out = h->out == HC_OUT_ARG ? h->min : 0;
	rc = h->fn(v, bounce, size, &out);
	if (rc && h->out == HC_OUT_ARG_ALWAYS && out)
		domain_copy_to_guest(v->dom, gpa, bounce, out); /* rc says what failed */
	if (rc || !out)
		return rc;
	return domain_copy_to_guest(v->dom, gpa, bounce, out) ? -KEEL_EFAULT : 0;
}
