/*
 * libFuzzer target for the hypercall layer (hypervisor/common/hypercall.c):
 * argument handling against a fake dom0 memory. Each input is a few
 * hypercalls (operation, guest-physical address, size, caller privilege)
 * followed by the bytes of the caller's memory (132 KiB at most). Every
 * service below the hypercall layer is a stub that reads and writes the
 * whole buffer it is handed, so ASan sees any pointer/length the layer
 * gets wrong. The contract is checked: an unprivileged caller gets
 * -KEEL_EPERM for everything but the version, a buffer outside the
 * caller's memory -KEEL_EFAULT, results are 0/positive or a KEEL_E* code,
 * and nothing is written outside the caller's memory. The services return
 * success or an error chosen by the input, including one the ABI does not
 * define, which must not reach the caller as such. Run with
 * tests/fuzz/run.sh, or by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_hypercall.c -o /tmp/fuzz_hypercall
 */
/* keel/cpu.h's this_cpu() (arch/x86's asm/percpu.h) is compiled in but
 * never called: KEEL_HC_HEARTBEAT is skipped. */
#include "../../hypervisor/common/hypercall.c"
#include "../../hypervisor/common/exit_profile.c" /* pure: the real one */
#include "../../hypervisor/common/log_ring.c" /* pure: the real one */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

/* larger than the biggest argument, so that a size check that lets too
 * much through shows as an overflow of the hypervisor's bounce buffer */
#define FUZZ_MEM_BYTES (2u * KEEL_HC_MAX_ARG + 4096u)
#define FUZZ_CALL_BYTES 16u
#define FUZZ_MAX_CALLS 4u

static uint8_t fake_mem[FUZZ_MEM_BYTES];
static uint32_t fake_cpl;
/* What the services below return for the current call: success, errors
 * the ABI defines, and EIO, which it does not (the layer must not pass it
 * on). Chosen by each call's fourth byte. */
static const int fake_results[] = { 0, 0, 0, -ENOENT, -EBUSY, -ENOSPC, -ERANGE, -EIO,
				    -EXDEV, -EOPNOTSUPP };
static int fake_rc;
static struct domain fake_dom0 = { .is_dom0 = true };
static struct domain fake_guest = { .id = 1 };

/* ---- the services the hypercall layer uses: checking stubs ---- */

struct hv_state hv;
struct cpu cpus[MAX_CPUS];
uint32_t nr_cpus = 2;

static uint32_t fake_cpl_of(struct vcpu *v)
{
	(void)v;
	return fake_cpl;
}

static const struct virt_ops fake_ops = { .vcpu_cpl = fake_cpl_of };
const struct virt_ops *virt = &fake_ops;

/* Touch every byte of [p, p+n): ASan reports a bad range. */
static void touch(const void *p, uint64_t n)
{
	volatile uint8_t sink = 0;
	uint64_t i;

	for (i = 0; i < n; i++)
		sink ^= ((const volatile uint8_t *)p)[i];
	(void)sink;
}

int domain_copy_from_guest(struct domain *d, void *dst, uint64_t gpa, uint64_t len)
{
	FUZZ_ASSERT(d == &fake_dom0);
	if (gpa > FUZZ_MEM_BYTES || len > FUZZ_MEM_BYTES - gpa)
		return -EFAULT;
	memcpy(dst, fake_mem + gpa, len);
	return 0;
}

int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src, uint64_t len)
{
	FUZZ_ASSERT(d == &fake_dom0);
	if (gpa > FUZZ_MEM_BYTES || len > FUZZ_MEM_BYTES - gpa)
		return -EFAULT;
	memcpy(fake_mem + gpa, src, len);
	return 0;
}

int domain_create(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
		  uint32_t max_vcpus, uint32_t *domid)
{
	FUZZ_ASSERT(strlen(name) < KEEL_DOMAIN_NAME_BYTES);
	(void)mem_bytes, (void)nr_vcpus, (void)max_vcpus;
	*domid = 1;
	return fake_rc;
}

int domain_vcpu_set(uint32_t domid, uint32_t nr, uint32_t *max, uint32_t *present)
{
	(void)domid;
	*max = 2;
	*present = nr;
	return fake_rc;
}

uint32_t domain_vcpus_present(const struct domain *d)
{
	return d->nr_vcpus;
}

int domain_clone(const char *name, uint32_t src_domid, uint32_t *domid)
{
	FUZZ_ASSERT(strlen(name) < KEEL_DOMAIN_NAME_BYTES);
	(void)src_domid;
	*domid = 2;
	return fake_rc;
}

int domain_memwrite(uint32_t domid, uint64_t gpa, const void *src, uint32_t len)
{
	(void)domid, (void)gpa;
	touch(src, len);
	return fake_rc;
}

int domain_start(uint32_t domid, uint64_t rip, uint64_t rsi)
{
	(void)domid, (void)rip, (void)rsi;
	return fake_rc;
}

int domain_start_restored(uint32_t domid)
{
	(void)domid;
	return fake_rc;
}

/* Save/restore (domain_save.h): each fills or reads all it was given. */
int domain_memread(uint32_t domid, uint64_t gpa, void *dst, uint32_t len)
{
	(void)domid, (void)gpa;
	memset(dst, 0xCD, len);
	return fake_rc;
}

int domain_state_get(uint32_t domid, uint8_t *buf, uint64_t cap, uint64_t *len,
		     uint32_t *bad_type)
{
	(void)domid;
	memset(buf, 0xEF, cap);
	*len = cap;
	*bad_type = fake_rc ? KEEL_STATE_VCPU : 0;
	return fake_rc;
}

int domain_state_set(uint32_t domid, const uint8_t *buf, uint64_t len, uint32_t *bad_type,
		     uint32_t *bad_instance)
{
	(void)domid;
	touch(buf, len);
	*bad_type = fake_rc ? KEEL_STATE_LAPIC : 0;
	*bad_instance = 0;
	return fake_rc;
}

int balloon_ctl(uint32_t domid, struct keel_domain_balloon *b)
{
	(void)domid;
	touch(b, sizeof(*b));
	b->held_bytes = 0xEF;
	return fake_rc;
}

int domain_console_preload(struct domain *d, const uint8_t *data, uint32_t len)
{
	FUZZ_ASSERT(d == &fake_guest);
	touch(data, len);
	return fake_rc;
}

int domain_pause(uint32_t domid, bool pause)
{
	(void)domid, (void)pause;
	return fake_rc;
}

int domain_request(uint32_t domid, bool reboot)
{
	(void)domid, (void)reboot;
	return fake_rc;
}

int domain_destroy(uint32_t domid)
{
	(void)domid;
	return fake_rc;
}

/* Checks its arguments as sched.c does, and keeps them. */
int sched_vcpu_pin(struct vcpu *v, uint64_t mask)
{
	FUZZ_ASSERT(v->dom == &fake_guest);
	if (!mask)
		return -EINVAL;
	v->pin_mask = mask;
	return fake_rc;
}

uint64_t sched_vcpu_cpus(const struct vcpu *v)
{
	return v->pin_mask;
}

int sched_domain_set(struct domain *d, uint32_t weight, uint32_t cap_pct, uint64_t affinity)
{
	if (weight < 1 || weight > SCHED_WEIGHT_MAX || cap_pct > SCHED_CAP_MAX_PCT)
		return -EINVAL;
	d->sched_weight = weight;
	d->sched_cap_pct = cap_pct;
	d->sched_affinity = affinity;
	return fake_rc;
}

/* Reads the name as domain.c does: at most KEEL_DOMAIN_NAME_BYTES. */
/* The dirty log's bitmap fills exactly the nr_pages / 8 bytes the call
 * checked room for: writing them all finds any overrun. */
int domain_dirty(struct keel_domain_dirty *dd, uint8_t *bitmap)
{
	dd->ram_pages = 32768;
	dd->dirty_count = 0;
	if (dd->op == KEEL_DIRTY_READ && fake_rc == 0)
		memset(bitmap, 0xA5, dd->nr_pages / 8);
	return fake_rc;
}

int domain_rename(uint32_t domid, const char *name)
{
	(void)domid;
	touch(name, strnlen(name, KEEL_DOMAIN_NAME_BYTES));
	return fake_rc;
}

struct domain *domain_get(uint32_t domid)
{
	return domid == 0 ? &fake_dom0 : domid == 1 ? &fake_guest : NULL;
}

uint32_t domain_list(struct domain **out, uint32_t max)
{
	if (max < 2)
		return 0;
	out[0] = &fake_dom0;
	out[1] = &fake_guest;
	return 2;
}

uint32_t guest_console_input(struct domain *d, const uint8_t *buf, uint32_t n)
{
	FUZZ_ASSERT(d == &fake_guest);
	touch(buf, n);
	return n;
}

int blkdev_image_open(const char *name, uint64_t bytes, uint32_t *id, uint32_t *flags)
{
	touch(name, strlen(name) + 1);
	(void)bytes;
	*id = 1;
	*flags = 0;
	return fake_rc;
}

int blkdev_image_write(uint32_t id, uint64_t off, const void *src, uint32_t len)
{
	(void)id, (void)off;
	touch(src, len);
	return fake_rc;
}

int blkdev_image_done(uint32_t id)
{
	(void)id;
	return fake_rc;
}

int blkdev_attach(struct domain *d, uint32_t kind, uint32_t image_id_in, uint64_t ram_bytes,
		  uint32_t *slot)
{
	FUZZ_ASSERT(d == &fake_guest);
	(void)kind, (void)image_id_in, (void)ram_bytes;
	*slot = 0;
	return fake_rc;
}

void blkdev_stats(struct domain *d, struct keel_domstats *s)
{
	(void)d;
	touch(s, sizeof(*s));
}

int netdev_attach(struct domain *d, const uint8_t mac[6], uint32_t *slot)
{
	FUZZ_ASSERT(d == &fake_guest);
	touch(mac, 6);
	*slot = 0;
	return fake_rc;
}

int netdev_set_link(struct domain *d, uint32_t slot, bool up)
{
	FUZZ_ASSERT(d == &fake_guest);
	(void)slot, (void)up;
	return fake_rc;
}

int netdev_dom0_attach(struct domain *d, const uint8_t mac[6], uint64_t notify_pa)
{
	(void)d, (void)notify_pa;
	touch(mac, 6);
	return fake_rc;
}

int netdev_dom0_set_irq(uint32_t vector, uint32_t apic_id)
{
	(void)vector, (void)apic_id;
	return fake_rc;
}

int netdev_dom0_xmit(const uint8_t *batch, uint32_t bytes, uint32_t count)
{
	(void)count;
	touch(batch, bytes);
	return fake_rc;
}

int netdev_dom0_recv(uint8_t *buf, uint32_t room, uint32_t *count, uint32_t *bytes,
		     uint32_t *more)
{
	memset(buf, 0xAB, room); /* fills all the room it was promised */
	*count = 1;
	*bytes = room;
	*more = 0;
	return fake_rc;
}

void netdev_stats(struct domain *d, struct keel_domstats *s)
{
	(void)d;
	touch(s, sizeof(*s));
}

void sched_cpu_stats(uint32_t cpu, uint64_t *busy_ns, uint32_t *domid, uint32_t *vcpu,
		     uint32_t *nr_vcpus)
{
	FUZZ_ASSERT(cpu < MAX_CPUS);
	*busy_ns = 1, *domid = 0, *vcpu = 0, *nr_vcpus = 0;
}

/* The layer logs an error that the ABI does not define; count them. */
static uint32_t fake_logged;

void log_printf(int level, const char *fmt, ...)
{
	(void)level, (void)fmt;
	fake_logged++;
}

/* The log ring: the real reader over a small ring that has wrapped. */
static char fake_ring[4096];
static uint64_t fake_log_floor;

uint32_t log_read(uint64_t *pos, uint64_t *head, char *buf, uint32_t room, bool clear)
{
	uint64_t logged = 3 * sizeof(fake_ring) + 123;
	uint32_t n = log_ring_read(fake_ring, sizeof(fake_ring), logged, fake_log_floor, pos,
				   buf, room);

	*head = logged;
	if (clear && *pos + n > fake_log_floor)
		fake_log_floor = *pos + n;
	return n;
}

uint64_t mm_free_bytes(void) { return 1ull << 30; }
uint64_t mm_total_bytes(void) { return 2ull << 30; }
uint64_t mm_hv_bytes(void) { return 1ull << 20; }
uint64_t time_now_ns(void) { return 1; }
uint64_t time_tsc_khz(void) { return 2000000; }
const char *arch_cpu_vendor(void) { return "AuthenticAMD"; }
void watchdog_arm(void) {}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

/* ---- the target ---- */

/* Whether rc is an error keel_abi.h defines (and so dom0 may see). */
static bool fuzz_abi_error(int64_t rc)
{
	return rc == -KEEL_EPERM || rc == -KEEL_ENOENT || rc == -KEEL_E2BIG ||
	       rc == -KEEL_ENOMEM || rc == -KEEL_EFAULT || rc == -KEEL_EBUSY ||
	       rc == -KEEL_EEXIST || rc == -KEEL_ENODEV || rc == -KEEL_EINVAL ||
	       rc == -KEEL_ENOSPC || rc == -KEEL_ERANGE || rc == -KEEL_ENOSYS ||
	       rc == -KEEL_EXDEV || rc == -KEEL_EOPNOTSUPP;
}

/* libFuzzer entry point: up to 4 calls of 16 bytes (op, privileged,
 * gpa, size), then the caller's memory. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcpu v = { .dom = &fake_dom0 };
	uint32_t n = 0, i;

	while (n < FUZZ_MAX_CALLS && (n + 1) * FUZZ_CALL_BYTES <= size)
		n++;
	memset(fake_mem, 0, sizeof(fake_mem));
	if (size > n * FUZZ_CALL_BYTES)
		memcpy(fake_mem, data + n * FUZZ_CALL_BYTES,
		       size - n * FUZZ_CALL_BYTES > FUZZ_MEM_BYTES ?
		       FUZZ_MEM_BYTES : size - n * FUZZ_CALL_BYTES);
	for (i = 0; i < n; i++) {
		const uint8_t *c = data + i * FUZZ_CALL_BYTES;
		uint32_t gpa, len;
		int64_t rc;

		memcpy(&gpa, c + 4, 4);
		memcpy(&len, c + 8, 4);
		v.regs.rax = c[0] % (KEEL_HC_DOMAIN_VCPU_SET + 2); /* every call, and one past */
		if (v.regs.rax == KEEL_HC_HEARTBEAT)
			continue; /* touches this CPU's watchdog state only */
		v.regs.rdi = gpa % (2 * FUZZ_MEM_BYTES);
		v.regs.rsi = len % FUZZ_MEM_BYTES;
		fake_cpl = c[1] & 1 ? 3 : 0;
		fake_rc = fake_results[c[3] % (sizeof(fake_results) / sizeof(fake_results[0]))];
		v.dom = c[2] & 1 ? &fake_guest : &fake_dom0;
		rc = hypercall_dispatch(&v);
		if (v.regs.rax == KEEL_HC_VERSION)
			FUZZ_ASSERT(rc == KEEL_ABI_VERSION);
		else if (fake_cpl || v.dom != &fake_dom0)
			FUZZ_ASSERT(rc == -KEEL_EPERM);
		else
			FUZZ_ASSERT(rc >= 0 || fuzz_abi_error(rc));
	}
	return 0;
}
