/*
 * Small library through which the `keel` toolstack makes hypercalls: it
 * opens /dev/keel (provided by keel.ko in dom0), checks that the
 * hypervisor speaks a compatible ABI major version and passes calls through
 * the KEEL_IOCTL_HYPERCALL ioctl. One device handle per process.
 */
#ifndef KEEL_TOOLSTACK_HCALL_H
#define KEEL_TOOLSTACK_HCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device node of the dom0 driver. */
#define HCALL_DEVICE "/dev/keel"

/*
 * Open HCALL_DEVICE if it is not open yet.
 * Returns 0 or -errno (-ENOENT: no device node, -EACCES: not root, ...).
 */
int hcall_open(void);

/* Close the device handle, if open. */
void hcall_close(void);

/*
 * Make hypercall @op with the @size-byte argument buffer @buf (NULL/0 for
 * none), which the hypervisor may update in place. Opens the device if
 * needed. @ret receives the hypervisor's RAX.
 * Returns 0 if the call was made (its result is in *ret), or -errno if the
 * driver could not make it.
 */
int hcall_call(uint64_t op, void *buf, size_t size, int64_t *ret);

/*
 * Convenience form of hcall_call(): returns the hypervisor's RAX (0, a
 * positive value, or -KEEL_E*), -errno if the call could not be made, or
 * -ERANGE if RAX does not fit in an int (use hcall_call() for such calls).
 * @op, @buf, @size: as for hcall_call().
 */
int keel_hypercall(uint64_t op, void *buf, size_t size);

/*
 * Open the device and check the hypervisor's ABI major version against
 * KEEL_ABI_MAJOR; on failure print the diagnostic for the user to stderr
 * (prefixed "keel: "). @hv_abi, if not NULL, receives the hypervisor's
 * KEEL_ABI_VERSION. Returns 0, -EPROTO on an ABI mismatch, or -errno.
 */
int hcall_connect(uint32_t *hv_abi);

/* Room for a message of hcall_probe(). */
#define HCALL_WHY_BYTES 256u

/*
 * Like hcall_connect(), but quiet: the diagnostic (without the "keel: "
 * prefix) goes to @why (@len bytes) instead of stderr, for full-screen
 * programs. Returns 0, -EPROTO on an ABI mismatch, or -errno.
 */
int hcall_probe(uint32_t *hv_abi, char *why, size_t len);

/*
 * True if @err, an error of hcall_probe() or hcall_connect(), means that
 * dom0 is not running on the Keel hypervisor (no /dev/keel).
 */
bool hcall_no_keel(int err);

/*
 * Text for @err, a -KEEL_E* of the hypervisor or a -errno of the driver:
 * "not implemented by this hypervisor" for -KEEL_ENOSYS, strerror()
 * otherwise. Returns a static string.
 */
const char *hcall_strerror(int err);

/*
 * Print to stderr why a hypercall @op failed with @err (a -errno of the
 * driver or a -KEEL_E* of the hypervisor), prefixed "keel: <what>: ".
 */
void hcall_report(const char *what, int err);

#endif /* KEEL_TOOLSTACK_HCALL_H */
