/*
 * Small file helpers shared by the toolstack's state files (the domain
 * monitor's files, the network name registry, netd's leases and pid file):
 * replacing a file atomically, so a reader never sees half of it.
 */
#ifndef KEEL_TOOLSTACK_FILEIO_H
#define KEEL_TOOLSTACK_FILEIO_H

#include <stddef.h>

/*
 * Replace @path with the @len bytes at @data: they are written to
 * "<path><tmp_suffix>" (mode 0644) and renamed over @path, so readers see
 * the old or the new content, never a mix. @tmp_suffix is chosen by the
 * caller so that the temporary name cannot be a real file of its
 * directory. Returns 0 or -errno (-ENAMETOOLONG, -EIO for a short write);
 * on failure the temporary file is removed.
 */
int file_write_atomic(const char *path, const char *tmp_suffix,
		      const char *data, size_t len);

#endif /* KEEL_TOOLSTACK_FILEIO_H */
