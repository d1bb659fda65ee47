/*
 * Domain services shared by dom0 and guests: copying between hypervisor
 * memory and a domain's guest-physical RAM (checked against the domain's
 * RAM list and translated through its nested page table, so a bad address
 * from a domain can only fail, never reach other memory), routing nested
 * page faults, and ending a domain that broke.
 */
#include <keel/domain.h>
#include <keel/dom0.h>
#include <keel/exit.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>

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

/* Copy len bytes from src to guest-physical gpa of d; see domain.h. */
int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src, uint64_t len)
{
	return domain_walk(d, gpa, len, chunk_to_guest, (void *)(uintptr_t)src);
}

/* Route a nested page fault to the domain's owner; see exit.h. */
int domain_handle_npf(struct vcpu *v, const struct vm_exit *e)
{
	if (v->dom->is_dom0)
		return dom0_handle_npf(v, e);
	return -EFAULT;
}

/* End v's domain; see exit.h. Dom0 takes the machine with it. */
void domain_crash(struct vcpu *v, const char *why)
{
	if (v->dom->is_dom0)
		dom0_crash(v, why);
	panic("domain %u crashed (%s) but guest domains do not exist yet\n",
	      v->dom->id, why);
}
