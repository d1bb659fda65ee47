/*
 * A guest's state for save/restore (common/domain_save.c): its RAM read
 * while paused, and its vCPUs and devices as a stream of state records
 * (struct keel_state_rec, docs/save-restore.md).
 */
#ifndef KEEL_DOMAIN_SAVE_H
#define KEEL_DOMAIN_SAVE_H

#include <stdint.h>

/*
 * Serialize guest domid, which must be running and paused, into the cap
 * bytes at buf: *len gets the bytes written. Returns 0; -ENOENT (no such
 * guest), -EBUSY (not paused, or a vCPU, or its control block, would not
 * leave its CPU), -ENOSPC (more than cap bytes), or -EOPNOTSUPP with
 * *bad_type the record this guest needs that cannot be made yet (a RAM
 * disk).
 */
int domain_state_get(uint32_t domid, uint8_t *buf, uint64_t cap, uint64_t *len,
		     uint32_t *bad_type);

/*
 * Load the len-byte record stream at buf into guest domid, created with
 * the saved guest's size, vCPUs, disks and NICs and not started. Every
 * record is checked and every record the guest needs must be there once.
 * Returns 0 (the guest may then start with domain_start_restored), or
 * -ENOENT, -EBUSY (started), -EINVAL (a damaged stream, or the record
 * *bad_type and *bad_instance is bad, doubled or missing), -EXDEV (its TSC
 * record is from another boot), -EOPNOTSUPP (a backend without vCPU
 * records).
 */
int domain_state_set(uint32_t domid, const uint8_t *buf, uint64_t len, uint32_t *bad_type,
		     uint32_t *bad_instance);

/* Copy len bytes of guest domid's RAM at guest-physical gpa into dst,
 * while the guest is paused or stopped. 0, -ENOENT, -EBUSY (running or
 * not started) or -EFAULT (outside its RAM). */
int domain_memread(uint32_t domid, uint64_t gpa, void *dst, uint32_t len);

#endif
