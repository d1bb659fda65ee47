/*
 * The exit profile for people (see exitprof.h): samples, differences,
 * order, and names. The names of guest ports and MMIO pages are the
 * virtual PC's fixed addresses (docs/architecture.md, "The guest's
 * virtual PC"); anything else in the PCI window is a BAR the guest's
 * kernel placed for a virtio device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitprof.h"
#include "hcall.h"

/* Fetch a sample; see exitprof.h. */
int exitprof_get(uint32_t domid, struct exitprof *p)
{
	struct {
		struct keel_domain_exits h;
		struct keel_exitstat e[EXITPROF_MAX];
	} buf;
	int ret;

	memset(&buf, 0, sizeof(buf));
	buf.h.domid = domid;
	buf.h.max = EXITPROF_MAX;
	ret = keel_hypercall(KEEL_HC_DOMAIN_EXITS, &buf, sizeof(buf));
	if (ret < 0)
		return ret;
	memset(p, 0, sizeof(*p));
	p->domid = domid;
	p->count = buf.h.count < EXITPROF_MAX ? buf.h.count : EXITPROF_MAX;
	p->total = buf.h.total;
	p->now_ns = buf.h.now_ns;
	memcpy(p->e, buf.e, p->count * sizeof(p->e[0]));
	return 0;
}

static const struct keel_exitstat *find(const struct exitprof *p, uint32_t kind, uint32_t detail)
{
	uint32_t i;

	for (i = 0; i < p->count; i++)
		if (p->e[i].kind == kind && p->e[i].detail == detail)
			return &p->e[i];
	return NULL;
}

/* The difference of two samples; see exitprof.h. */
void exitprof_diff(const struct exitprof *prev, const struct exitprof *cur,
		   struct exitprof *out)
{
	struct exitprof d;
	uint32_t i;

	memset(&d, 0, sizeof(d));
	d.domid = cur->domid;
	d.now_ns = cur->now_ns - prev->now_ns;
	d.total = cur->total - prev->total;
	for (i = 0; i < cur->count; i++) {
		const struct keel_exitstat *c = &cur->e[i];
		const struct keel_exitstat *o = find(prev, c->kind, c->detail);
		uint64_t n = c->count - (o ? o->count : 0);

		if (!n)
			continue;
		d.e[d.count] = *c;
		d.e[d.count].count = n;
		d.e[d.count].time_ns = c->time_ns - (o ? o->time_ns : 0);
		d.count++;
	}
	*out = d;
}

static int by_count(const void *a, const void *b)
{
	const struct keel_exitstat *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? 1 : -1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->detail < y->detail ? -1 : x->detail > y->detail;
}

/* Sort by count; see exitprof.h. */
void exitprof_sort(struct exitprof *p)
{
	qsort(p->e, p->count, sizeof(p->e[0]), by_count);
}

/* Total handling time; see exitprof.h. */
uint64_t exitprof_time_ns(const struct exitprof *p)
{
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < p->count; i++)
		t += p->e[i].time_ns;
	return t;
}

/* Kind names; see exitprof.h. */
const char *exitprof_kind_name(uint32_t kind)
{
	static const char *const names[] = {
		[KEEL_EXIT_CPUID] = "cpuid", [KEEL_EXIT_MSR_READ] = "rdmsr",
		[KEEL_EXIT_MSR_WRITE] = "wrmsr", [KEEL_EXIT_HYPERCALL] = "hypercall",
		[KEEL_EXIT_IO_IN] = "in", [KEEL_EXIT_IO_OUT] = "out",
		[KEEL_EXIT_NPF] = "mmio", [KEEL_EXIT_HLT] = "hlt",
		[KEEL_EXIT_INTR] = "interrupt", [KEEL_EXIT_IRQ_WINDOW] = "irq-window",
		[KEEL_EXIT_NMI] = "nmi", [KEEL_EXIT_CACHE_FLUSH] = "wbinvd",
		[KEEL_EXIT_OTHER] = "other", [KEEL_EXIT_OTHER_FULL] = "table-full",
	};

	if (kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "unknown";
}

struct name {
	uint32_t first, last;
	const char *name;
};

static const char *name_in(const struct name *t, size_t n, uint32_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v >= t[i].first && v <= t[i].last)
			return t[i].name;
	return NULL;
}

#define NAME_IN(t, v) name_in(t, sizeof(t) / sizeof(t[0]), v)

/* MSRs a Linux guest touches (Intel SDM vol. 4; AMD APM vol. 2, app. A). */
static const struct name msrs[] = {
	{ 0x10, 0x10, "TSC" }, { 0x1b, 0x1b, "APIC_BASE" },
	{ 0x3a, 0x3a, "FEATURE_CONTROL" }, { 0x48, 0x48, "SPEC_CTRL" },
	{ 0x49, 0x49, "PRED_CMD" }, { 0x8b, 0x8b, "UCODE_REV" },
	{ 0x1a0, 0x1a0, "MISC_ENABLE" }, { 0x277, 0x277, "PAT" },
	{ 0x6e0, 0x6e0, "TSC_DEADLINE" }, { 0x800, 0x8ff, "x2APIC" },
	{ 0xc0000080, 0xc0000080, "EFER" }, { 0xc0000103, 0xc0000103, "TSC_AUX" },
	{ 0xc0010114, 0xc0010114, "VM_CR" }, { 0xc0010117, 0xc0010117, "VM_HSAVE_PA" },
};

/* The guest's virtual PC: its ports ... */
static const struct name guest_ports[] = {
	{ 0x20, 0x21, "pic" }, { 0x40, 0x43, "pit" }, { 0x60, 0x60, "kbc" },
	{ 0x61, 0x61, "pit-port-b" }, { 0x64, 0x64, "kbc" }, { 0x600, 0x605, "acpi-pm" },
	{ 0x610, 0x613, "gpe0" }, { 0x614, 0x617, "cpu-hotplug" },
	{ 0x70, 0x71, "rtc" }, { 0x80, 0x80, "post" }, { 0x92, 0x92, "a20" },
	{ 0xa0, 0xa1, "pic" }, { 0x3f8, 0x3ff, "uart" },
	{ 0xcf8, 0xcf8, "pci-config" }, { 0xcf9, 0xcf9, "reset" },
	{ 0xcfc, 0xcff, "pci-config" }, { 0x1000, 0xffff, "pci-bar" },
};

/* ... and its MMIO pages (GPA >> 12). */
static const struct name guest_pages[] = {
	{ 0xfe000, 0xfe000, "pvpanic" }, { 0xfec00, 0xfec00, "ioapic" },
	{ 0xfee00, 0xfee00, "lapic" }, { 0xc0000, 0xfffff, "pci-bar" },
};

/* The ABI's calls (keel_abi.h, KEEL_HC_*). */
static const char *const calls[] = {
	"VERSION", "INFO", "DOMAIN_CREATE", "DOMAIN_MEMWRITE", "DOMAIN_START",
	"DOMAIN_CTL", "DOMAIN_LIST", "CONSOLE_IO", "IMAGE_OPEN", "IMAGE_WRITE",
	"IMAGE_DONE", "DOMAIN_DISK_ADD", "DOMAIN_NIC_ADD", "DOMAIN_STATS",
	"CPU_STATS", "NET_ATTACH", "NET_XMIT", "NET_RECV", "HEARTBEAT",
	"DOMAIN_EXITS", "NET_NOTIFY",
};

/* The target of an exit; see exitprof.h. */
void exitprof_target(const struct keel_exitstat *e, bool guest, char *buf, size_t len)
{
	const char *name = NULL;

	switch (e->kind) {
	case KEEL_EXIT_MSR_READ:
	case KEEL_EXIT_MSR_WRITE:
		name = NAME_IN(msrs, e->detail);
		break;
	case KEEL_EXIT_HYPERCALL:
		if (e->detail < sizeof(calls) / sizeof(calls[0]))
			name = calls[e->detail];
		break;
	case KEEL_EXIT_IO_IN:
	case KEEL_EXIT_IO_OUT:
		name = guest ? NAME_IN(guest_ports, e->detail) : NULL;
		break;
	case KEEL_EXIT_NPF:
		name = guest ? NAME_IN(guest_pages, e->detail) : NULL;
		break;
	case KEEL_EXIT_OTHER:
		snprintf(buf, len, "code %#x", e->detail);
		return;
	default:
		if (e->detail) /* a kind this toolstack does not know */
			break;
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%#x%s%s", e->detail, name ? " " : "", name ? name : "");
}
