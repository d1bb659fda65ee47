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

/* Text for a hypercall or driver error; see hcall.h. */
const char *hcall_strerror(int err)
{
	switch (err) {
	case -KEEL_EPERM:
		return "not permitted (root is needed, and the call must come "
		       "from dom0)";
	case -KEEL_ENOSYS:
		return "not implemented by this hypervisor";
	default:
		return strerror(-err);
	}
}

/* Describe a failure @err to open HCALL_DEVICE into @buf (@len bytes). */
static void hcall_describe_open(int err, char *buf, size_t len)
{
	switch (err) {
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		snprintf(buf, len, HCALL_DEVICE " not found: dom0 is not "
			 "running on the Keel hypervisor (booted without it, or "
			 "the keel module did not load; see dmesg)");
		break;
	case -EACCES:
	case -EPERM:
		snprintf(buf, len, "cannot open " HCALL_DEVICE ": permission "
			 "denied (root is needed)");
		break;
	default:
		snprintf(buf, len, "cannot open " HCALL_DEVICE ": %s",
			 strerror(-err));
		break;
	}
}

/* Describe an ABI major mismatch with @hv_abi into @buf (@len bytes). */
static void hcall_describe_abi(uint32_t hv_abi, char *buf, size_t len)
{
	char hv[32], ts[32];

	fmt_abi_version(hv_abi, hv, sizeof(hv));
	fmt_abi_version(KEEL_ABI_VERSION, ts, sizeof(ts));
	snprintf(buf, len, "ABI mismatch: the hypervisor speaks ABI %s, this "
		 "toolstack speaks ABI %s (major versions must match)", hv, ts);
}

/* Open the device and check the ABI quietly; see hcall.h. */
int hcall_probe(uint32_t *hv_abi, char *why, size_t len)
{
	int64_t ret;
	int err;

	err = hcall_open();
	if (err) {
		hcall_describe_open(err, why, len);
		return err;
	}
	err = hcall_call(KEEL_HC_VERSION, NULL, 0, &ret);
	if (err || ret < 0) {
		err = err ? err : (int)ret;
		snprintf(why, len, "KEEL_HC_VERSION failed: %s", hcall_strerror(err));
		return err;
	}
	if (hv_abi)
		*hv_abi = (uint32_t)ret;
	if (((uint32_t)ret >> 16) != KEEL_ABI_MAJOR) {
		hcall_describe_abi((uint32_t)ret, why, len);
		return -EPROTO;
	}
	return 0;
}

/* Open the device and check the ABI; see hcall.h. */
int hcall_connect(uint32_t *hv_abi)
{
	char why[HCALL_WHY_BYTES];
	int err = hcall_probe(hv_abi, why, sizeof(why));

	if (err)
		fprintf(stderr, "keel: %s\n", why);
	return err;
}

/* True if @err from hcall_probe() means dom0 does not run on Keel. */
bool hcall_no_keel(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

/* Print why a hypercall failed; see hcall.h. */
void hcall_report(const char *what, int err)
{
	fprintf(stderr, "keel: %s failed: %s\n", what, hcall_strerror(err));
}
