/*
 * Stubs of the toolstack's hypercall entry points for unit tests that
 * include toolstack/core/domain.c but run without a hypervisor: every
 * hypercall answers -KEEL_ENOSYS and reports go nowhere. Include once,
 * after the sources under test.
 */
#ifndef KEEL_UNIT_STUB_HCALL_H
#define KEEL_UNIT_STUB_HCALL_H

int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	(void)op;
	(void)buf;
	(void)size;
	return -KEEL_ENOSYS;
}

void hcall_report(const char *what, int err)
{
	(void)what;
	(void)err;
}

#endif
