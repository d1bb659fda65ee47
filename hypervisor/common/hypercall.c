/*
 * Hypercall handlers. A call arrives as VMMCALL/VMCALL with the number in
 * RAX and a buffer in RDI/RSI (include/public/keel_abi.h). Privileged calls
 * are accepted only from dom0's kernel (CPL 0); a guest or dom0 user space
 * gets -KEEL_EPERM and nothing else happens. Arguments are copied into one
 * bounce buffer (privileged calls hold hc_lock, since dom0 may have
 * several vCPUs), checked there and copied back: the hypervisor never
 * works on memory dom0 can change underneath it.
 */
#include <keel/hypercall.h>
#include <keel/hv.h>
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/string.h>
#include <keel/guest.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/errno.h>
#include <keel/sched.h>
#include <keel/watchdog.h>
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

static int64_t hc_info(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_info in;

	if (size < sizeof(in))
		return -KEEL_EINVAL;
	info_fill(&in);
	if (domain_copy_to_guest(v->dom, gpa, &in, sizeof(in)))
		return -KEEL_EFAULT;
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

/* Copy the caller's argument buffer in (size between min and the bounce
 * buffer's size). */
static int64_t arg_in(struct vcpu *v, uint64_t gpa, uint64_t size, uint64_t min)
{
	if (size < min || size > sizeof(bounce))
		return -KEEL_EINVAL;
	if (domain_copy_from_guest(v->dom, bounce, gpa, size))
		return -KEEL_EFAULT;
	return 0;
}

static int64_t arg_out(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	return domain_copy_to_guest(v->dom, gpa, bounce, size) ? -KEEL_EFAULT : 0;
}

static int64_t hc_domain_create(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_domain_create *c = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*c));

	if (rc)
		return rc;
	c->name[sizeof(c->name) - 1] = 0;
	rc = domain_create(c->name, c->mem_bytes, c->nr_vcpus, &c->domid);
	return rc ? rc : arg_out(v, gpa, sizeof(*c));
}

static int64_t hc_domain_memwrite(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_memwrite *m = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*m));

	if (rc)
		return rc;
	if (m->len > size - sizeof(*m))
		return -KEEL_EINVAL;
	return domain_memwrite(m->domid, m->gpa, m + 1, m->len);
}

static int64_t hc_domain_start(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_domain_start *st = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*st));

	return rc ? rc : domain_start(st->domid, st->rip, st->rsi);
}

static int64_t hc_domain_ctl(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_domain_ctl *c = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*c));

	if (rc)
		return rc;
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
	in->nr_vcpus = d->nr_vcpus;
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

static int64_t hc_domain_list(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_domain_list *l = (void *)bounce;
	struct keel_dominfo *infos = (void *)(l + 1);
	struct domain *ds[MAX_DOMAINS];
	uint32_t n, i, room;
	int64_t rc = arg_in(v, gpa, size, sizeof(*l));

	if (rc)
		return rc;
	room = (uint32_t)MIN(l->max, (size - sizeof(*l)) / sizeof(*infos));
	n = domain_list(ds, MIN(room, MAX_DOMAINS));
	for (i = 0; i < n; i++)
		dominfo_fill(ds[i], &infos[i]);
	l->count = n;
	return arg_out(v, gpa, sizeof(*l) + n * sizeof(*infos));
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

static int64_t hc_console_io(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_console_io *io = (void *)bounce;
	struct domain *d;
	uint64_t room = size - sizeof(*io);
	int64_t rc = arg_in(v, gpa, size, sizeof(*io));

	if (rc)
		return rc;
	d = guest_lookup(io->domid);
	if (!d)
		return -KEEL_ENOENT;
	if (io->op == KEEL_CONSOLE_READ) {
		console_read(d, io, room);
		return arg_out(v, gpa, sizeof(*io) + io->len);
	}
	if (io->op != KEEL_CONSOLE_WRITE || io->len > room)
		return -KEEL_EINVAL;
	io->len = guest_console_input(d, (const uint8_t *)(io + 1), io->len);
	return arg_out(v, gpa, sizeof(*io));
}

static int64_t hc_image_open(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_image_open *o = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*o));

	if (rc)
		return rc;
	o->name[sizeof(o->name) - 1] = 0;
	rc = blkdev_image_open(o->name, o->bytes, &o->image_id, &o->flags);
	return rc ? rc : arg_out(v, gpa, sizeof(*o));
}

static int64_t hc_image_write(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_image_write *w = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*w));

	if (rc)
		return rc;
	if (w->len > size - sizeof(*w))
		return -KEEL_EINVAL;
	return blkdev_image_write(w->image_id, w->offset, w + 1, w->len);
}

static int64_t hc_image_done(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_image_done *dn = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*dn));

	return rc ? rc : blkdev_image_done(dn->image_id);
}

static int64_t hc_disk_add(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_disk_add *a = (void *)bounce;
	struct domain *d;
	int64_t rc = arg_in(v, gpa, size, sizeof(*a));

	if (rc)
		return rc;
	d = guest_lookup(a->domid);
	if (!d)
		return -KEEL_ENOENT;
	rc = blkdev_attach(d, a->kind, a->image_id, a->ram_bytes, &a->slot);
	return rc ? rc : arg_out(v, gpa, sizeof(*a));
}

static int64_t hc_nic_add(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_nic_add *a = (void *)bounce;
	struct domain *d;
	int64_t rc = arg_in(v, gpa, size, sizeof(*a));

	if (rc)
		return rc;
	d = guest_lookup(a->domid);
	if (!d)
		return -KEEL_ENOENT;
	rc = netdev_attach(d, a->mac, &a->slot);
	return rc ? rc : arg_out(v, gpa, sizeof(*a));
}

static int64_t hc_domain_stats(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_domain_stats *l = (void *)bounce;
	struct keel_domstats *st = (void *)(l + 1);
	struct domain *ds[MAX_DOMAINS];
	uint32_t n, i, room;
	int64_t rc = arg_in(v, gpa, size, sizeof(*l));

	if (rc)
		return rc;
	room = (uint32_t)MIN(l->max, (size - sizeof(*l)) / sizeof(*st));
	n = domain_list(ds, MIN(room, MAX_DOMAINS));
	for (i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].domid = ds[i]->id;
		if (!ds[i]->is_dom0)
			blkdev_stats(ds[i], &st[i]);
		netdev_stats(ds[i], &st[i]);
	}
	l->count = n;
	return arg_out(v, gpa, sizeof(*l) + n * sizeof(*st));
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

static int64_t hc_cpu_stats(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_cpu_stats *l = (void *)bounce;
	struct keel_cpustat *c = (void *)(l + 1);
	uint32_t n, i;
	int64_t rc = arg_in(v, gpa, size, sizeof(*l));

	if (rc)
		return rc;
	n = (uint32_t)MIN(MIN(l->max, (size - sizeof(*l)) / sizeof(*c)), nr_cpus);
	for (i = 0; i < n; i++)
		cpustat_fill(i, &c[i]);
	l->count = n;
	l->now_ns = time_now_ns();
	return arg_out(v, gpa, sizeof(*l) + n * sizeof(*c));
}

static int64_t hc_net_attach(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_net_attach *a = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*a));

	return rc ? rc : netdev_dom0_attach(v->dom, a->mac, a->notify_pa);
}

static int64_t hc_net_xmit(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_net_frames *f = (void *)bounce;
	int64_t rc = arg_in(v, gpa, size, sizeof(*f));

	if (rc)
		return rc;
	rc = netdev_dom0_xmit((const uint8_t *)(f + 1),
			      (uint32_t)MIN(f->bytes, size - sizeof(*f)), f->count);
	if (rc < 0)
		return rc;
	f->count = (uint32_t)rc;
	return arg_out(v, gpa, sizeof(*f));
}

static int64_t hc_net_recv(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_net_frames *f = (void *)bounce;
	int64_t rc;

	if (size < sizeof(*f) || size > sizeof(bounce))
		return -KEEL_EINVAL;
	rc = arg_in(v, gpa, sizeof(*f), sizeof(*f)); /* frames are only written */
	if (rc)
		return rc;
	rc = netdev_dom0_recv((uint8_t *)(f + 1), (uint32_t)(size - sizeof(*f)),
			      &f->count, &f->bytes, &f->more);
	return rc ? rc : arg_out(v, gpa, sizeof(*f) + f->bytes);
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
	return rc;
}

/* A privileged call op with buffer gpa of size bytes, under hc_lock. */
static int64_t hc_privileged(struct vcpu *v, uint64_t op, uint64_t gpa, uint64_t size)
{
	switch (op) {
	case KEEL_HC_INFO:
		return hc_info(v, gpa, size);
	case KEEL_HC_DOMAIN_CREATE:
		return hc_domain_create(v, gpa, size);
	case KEEL_HC_DOMAIN_MEMWRITE:
		return hc_domain_memwrite(v, gpa, size);
	case KEEL_HC_DOMAIN_START:
		return hc_domain_start(v, gpa, size);
	case KEEL_HC_DOMAIN_CTL:
		return hc_domain_ctl(v, gpa, size);
	case KEEL_HC_DOMAIN_LIST:
		return hc_domain_list(v, gpa, size);
	case KEEL_HC_CONSOLE_IO:
		return hc_console_io(v, gpa, size);
	case KEEL_HC_IMAGE_OPEN:
		return hc_image_open(v, gpa, size);
	case KEEL_HC_IMAGE_WRITE:
		return hc_image_write(v, gpa, size);
	case KEEL_HC_IMAGE_DONE:
		return hc_image_done(v, gpa, size);
	case KEEL_HC_DOMAIN_DISK_ADD:
		return hc_disk_add(v, gpa, size);
	case KEEL_HC_DOMAIN_NIC_ADD:
		return hc_nic_add(v, gpa, size);
	case KEEL_HC_DOMAIN_STATS:
		return hc_domain_stats(v, gpa, size);
	case KEEL_HC_CPU_STATS:
		return hc_cpu_stats(v, gpa, size);
	case KEEL_HC_NET_ATTACH:
		return hc_net_attach(v, gpa, size);
	case KEEL_HC_NET_XMIT:
		return hc_net_xmit(v, gpa, size);
	case KEEL_HC_NET_RECV:
		return hc_net_recv(v, gpa, size);
	case KEEL_HC_HEARTBEAT:
		if (!this_cpu()->watched)
			watchdog_arm();
		return 0;
	default:
		return -KEEL_ENOSYS;
	}
}
