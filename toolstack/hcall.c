/*
 * Hypercall library of the `keel` toolstack (see hcall.h): a thin wrapper
 * around /dev/keel and its KEEL_IOCTL_HYPERCALL ioctl, plus the standard
 * diagnostics for the ways reaching the hypervisor can fail (no Keel, not
 * root, ABI mismatch).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"
#include "format.h"
#include "hcall.h"

/* File descriptor of HCALL_DEVICE, or -1. */
static int hcall_fd = -1;

/* Open the device; see hcall.h. */
int hcall_open(void)
{
	int fd;

	if (hcall_fd >= 0)
		return 0;
	fd = open(HCALL_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	hcall_fd = fd;
	return 0;
}

/* Close the device; see hcall.h. */
void hcall_close(void)
{
	if (hcall_fd >= 0)
		close(hcall_fd);
	hcall_fd = -1;
}

/* Make one hypercall through the driver; see hcall.h. */
int hcall_call(uint64_t op, void *buf, size_t size, int64_t *ret)
{
	struct keel_ioctl_hypercall req;
	int err;

	if (size > KEEL_HC_MAX_ARG || (size && !buf))
		return -EINVAL;
	err = hcall_open();
	if (err)
		return err;
	memset(&req, 0, sizeof(req));
	req.op = op;
	req.arg_uaddr = (uint64_t)(uintptr_t)buf;
	req.arg_size = size;
	if (ioctl(hcall_fd, KEEL_IOCTL_HYPERCALL, &req) < 0)
		return -errno;
	*ret = req.ret;
	return 0;
}

/* Make one hypercall, folding both error kinds into the result; see hcall.h. */
int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	int64_t ret;
	int err;

	err = hcall_call(op, buf, size, &ret);
	if (err)
		return err;
	if (ret < INT32_MIN || ret > INT32_MAX)
		return -ERANGE;
	return (int)ret;
}

/* Print the diagnostic for a failure to open HCALL_DEVICE. */
static void hcall_report_open(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		fprintf(stderr, "keel: " HCALL_DEVICE " not found: dom0 is not "
			"running on the Keel hypervisor (booted without it, or "
			"the keel module did not load; see dmesg)\n");
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr, "keel: cannot open " HCALL_DEVICE ": permission "
			"denied (root is needed)\n");
		break;
	default:
		fprintf(stderr, "keel: cannot open " HCALL_DEVICE ": %s\n",
			strerror(-err));
		break;
	}
}

/* Print the diagnostic for an ABI major mismatch. */
static void hcall_report_abi(uint32_t hv_abi)
{
	char hv[32], ts[32];

	fmt_abi_version(hv_abi, hv, sizeof(hv));
	fmt_abi_version(KEEL_ABI_VERSION, ts, sizeof(ts));
	fprintf(stderr, "keel: ABI mismatch: the hypervisor speaks ABI %s, this "
		"toolstack speaks ABI %s (major versions must match)\n", hv, ts);
}

/* Open the device and check the ABI; see hcall.h. */
int hcall_connect(uint32_t *hv_abi)
{
	int64_t ret;
	int err;

	err = hcall_open();
	if (err) {
		hcall_report_open(err);
		return err;
	}
	err = hcall_call(KEEL_HC_VERSION, NULL, 0, &ret);
	if (err || ret < 0) {
		hcall_report("KEEL_HC_VERSION", err ? err : (int)ret);
		return err ? err : (int)ret;
	}
	if (hv_abi)
		*hv_abi = (uint32_t)ret;
	if (((uint32_t)ret >> 16) != KEEL_ABI_MAJOR) {
		hcall_report_abi((uint32_t)ret);
		return -EPROTO;
	}
	return 0;
}

/* Print why a hypercall failed; see hcall.h. */
void hcall_report(const char *what, int err)
{
	const char *why;

	switch (err) {
	case -KEEL_EPERM:
		why = "not permitted (root is needed, and the call must come "
		      "from dom0)";
		break;
	case -KEEL_ENOSYS:
		why = "not implemented by this hypervisor";
		break;
	default:
		why = strerror(-err);
		break;
	}
	fprintf(stderr, "keel: %s failed: %s\n", what, why);
}
