/*
 * Error numbers used inside the hypervisor. Functions return 0 on success
 * or one of these negated (-EINVAL etc.). The values equal Linux's errno
 * values, so they can be passed through the hypercall ABI unchanged.
 */
#ifndef KEEL_ERRNO_H
#define KEEL_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95

#endif /* KEEL_ERRNO_H */
