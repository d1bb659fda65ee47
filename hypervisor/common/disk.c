/*
 * Backing stores for the in-hypervisor virtual disks (see keel/disk.h): an
 * image is a table of 2 MiB chunks, the table itself one chunk, all taken
 * from the caller's allocator callbacks. Byte ranges are bounds-checked
 * against the image's capacity (its size rounded up to whole 512-byte
 * sectors; the tail past the size reads as zeros) and may cross chunk
 * boundaries. The registry names uploaded images so that every guest
 * naming one shares the same copy; images are reference counted and their
 * memory is scrubbed and returned on the last drop. Pure code.
 */
#include <keel/disk.h>
#include <keel/errno.h>
#include <keel/string.h>

static uint64_t capacity_bytes(const struct disk_image *img)
{
	return (img->bytes + DISK_SECTOR_BYTES - 1) &
	       ~(uint64_t)(DISK_SECTOR_BYTES - 1);
}

/* Whether [off, off + len) lies within limit, without overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

/* Copy a name (at most DISK_NAME_BYTES - 1 characters) NUL-terminated. */
static void name_copy(char dst[DISK_NAME_BYTES], const char *src)
{
	size_t n = strnlen(src, DISK_NAME_BYTES - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void chunk_scrub_free(const struct disk_mem_ops *ops, uint64_t pa)
{
	memset(ops->p2v(ops->ctx, pa), 0, DISK_CHUNK_BYTES);
	ops->free_chunk(ops->ctx, pa);
}

/* Scrub and free every chunk and the table; leaves img without memory. */
static void image_free_memory(struct disk_image *img)
{
	uint32_t i;

	if (!img->chunk_pa)
		return;
	for (i = 0; i < img->nr_chunks; i++)
		if (img->chunk_pa[i])
			chunk_scrub_free(img->ops, img->chunk_pa[i]);
	chunk_scrub_free(img->ops, img->table_pa);
	img->chunk_pa = NULL;
	img->table_pa = 0;
	img->nr_chunks = 0;
}

/* Whether name is a usable image name: 1..63 characters from
 * [A-Za-z0-9._+-], not starting with '.' (so never "ram:..."). */
bool disk_name_valid(const char *name)
{
	uint32_t i;

	if (!name || !name[0] || name[0] == '.')
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= DISK_NAME_BYTES - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '+'))
			return false;
	}
	return true;
}

/*
 * Create a stand-alone image of bytes bytes (1..DISK_MAX_BYTES) in img,
 * with one reference. name may be NULL or "" (a RAM disk); otherwise it
 * must pass disk_name_valid. All chunks are allocated (zeroed) now. A
 * read-only image starts incomplete (to be uploaded); a writable one is
 * complete at once (a zero-filled RAM disk).
 * Returns 0, -EINVAL or -ENOMEM; on error nothing stays allocated.
 */
int disk_image_init(struct disk_image *img, const struct disk_mem_ops *ops,
		    const char *name, uint64_t bytes, bool read_only)
{
	uint32_t i;

	if (!ops || !ops->alloc_chunk || !ops->free_chunk || !ops->p2v)
		return -EINVAL;
	if (bytes == 0 || bytes > DISK_MAX_BYTES)
		return -EINVAL;
	if (name && name[0] && !disk_name_valid(name))
		return -EINVAL;
	memset(img, 0, sizeof(*img));
	if (name)
		name_copy(img->name, name);
	img->ops = ops;
	img->bytes = bytes;
	img->read_only = read_only;
	img->table_pa = ops->alloc_chunk(ops->ctx);
	if (!img->table_pa)
		return -ENOMEM;
	img->chunk_pa = ops->p2v(ops->ctx, img->table_pa);
	img->nr_chunks = (uint32_t)((bytes + DISK_CHUNK_BYTES - 1) >>
				    DISK_CHUNK_SHIFT);
	for (i = 0; i < img->nr_chunks; i++) {
		img->chunk_pa[i] = ops->alloc_chunk(ops->ctx);
		if (!img->chunk_pa[i]) {
			image_free_memory(img);
			memset(img, 0, sizeof(*img));
			return -ENOMEM;
		}
	}
	img->complete = !read_only;
	img->refs = 1;
	return 0;
}

/* Scrub and free a stand-alone image's memory regardless of its
 * references, and clear img. */
void disk_image_release(struct disk_image *img)
{
	image_free_memory(img);
	memset(img, 0, sizeof(*img));
}

/*
 * Host pointer to the image's bytes at off: stores it in *ptr and returns
 * how many bytes from there are contiguous (at most len, never past a
 * chunk end). Returns 0 if [off, off + len) is not inside the capacity or
 * len is 0. Callers loop to cover ranges that cross chunks.
 */
uint64_t disk_image_span(const struct disk_image *img, uint64_t off,
			 uint64_t len, uint8_t **ptr)
{
	uint64_t in_chunk, n;
	uint8_t *base;

	if (!img->chunk_pa || len == 0 ||
	    !range_ok(off, len, capacity_bytes(img)))
		return 0;
	in_chunk = off & (DISK_CHUNK_BYTES - 1);
	n = DISK_CHUNK_BYTES - in_chunk;
	if (n > len)
		n = len;
	base = img->ops->p2v(img->ops->ctx,
			     img->chunk_pa[off >> DISK_CHUNK_SHIFT]);
	*ptr = base + in_chunk;
	return n;
}

/* Copy in or out of the image over [off, off + len), already checked. */
static void image_copy(const struct disk_image *img, uint64_t off,
		       uint8_t *buf, uint64_t len, bool to_image)
{
	uint8_t *p = NULL;
	uint64_t n;

	while (len) {
		n = disk_image_span(img, off, len, &p);
		if (to_image)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		off += n;
		buf += n;
		len -= n;
	}
}

/*
 * Store len bytes from src at off while the image is being uploaded
 * (not yet complete). The range must lie within the image's size.
 * Returns 0, -EBUSY (already complete) or -ERANGE.
 */
int disk_image_upload(struct disk_image *img, uint64_t off, const void *src,
		      uint64_t len)
{
	if (img->complete)
		return -EBUSY;
	if (!range_ok(off, len, img->bytes))
		return -ERANGE;
	image_copy(img, off, (uint8_t *)src, len, true);
	return 0;
}

/* Mark an uploaded image complete: guests may now open it and uploads
 * stop. Returns 0 or -EBUSY if it already was. */
int disk_image_complete(struct disk_image *img)
{
	if (img->complete)
		return -EBUSY;
	img->complete = true;
	return 0;
}

/* Copy len bytes at off into dst. Returns 0 or -ERANGE (outside the
 * capacity, nothing copied). */
int disk_image_read(const struct disk_image *img, uint64_t off, void *dst,
		    uint64_t len)
{
	if (!range_ok(off, len, capacity_bytes(img)))
		return -ERANGE;
	image_copy(img, off, dst, len, false);
	return 0;
}

/* Copy len bytes from src to off of a writable, complete image (a RAM
 * disk). Returns 0, -EPERM (read-only or incomplete) or -ERANGE. */
int disk_image_write(struct disk_image *img, uint64_t off, const void *src,
		     uint64_t len)
{
	if (img->read_only || !img->complete)
		return -EPERM;
	if (!range_ok(off, len, capacity_bytes(img)))
		return -ERANGE;
	image_copy(img, off, (uint8_t *)src, len, true);
	return 0;
}

/* The image's capacity in 512-byte sectors (its size rounded up). */
uint64_t disk_image_sectors(const struct disk_image *img)
{
	return capacity_bytes(img) / DISK_SECTOR_BYTES;
}

/* Prepare an empty registry whose images take memory from ops. */
void disk_registry_init(struct disk_registry *r,
			const struct disk_mem_ops *ops)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
}

/* The listed image called name, or NULL. Caller holds the lock. */
static struct disk_image *registry_find(struct disk_registry *r,
					const char *name)
{
	uint32_t i;

	for (i = 0; i < DISK_REGISTRY_SLOTS; i++) {
		struct disk_image *img = &r->slots[i];

		if (img->used && img->listed &&
		    strncmp(img->name, name, DISK_NAME_BYTES) == 0)
			return img;
	}
	return NULL;
}

/* Reserve a slot (listed under name if name is not NULL). Returns the
 * slot or NULL; *err says why. */
static struct disk_image *registry_reserve(struct disk_registry *r,
					   const char *name, int *err)
{
	struct disk_image *img = NULL;
	uint32_t i;

	spin_lock(&r->lock);
	if (name && registry_find(r, name)) {
		*err = -EEXIST;
		goto out;
	}
	for (i = 0; i < DISK_REGISTRY_SLOTS; i++) {
		if (!r->slots[i].used) {
			img = &r->slots[i];
			memset(img, 0, sizeof(*img));
			img->used = true;
			/* Holds the name while unlocked; refs 0 hides it. */
			if (name) {
				name_copy(img->name, name);
				img->listed = true;
			}
			break;
		}
	}
	*err = img ? 0 : -ENOSPC;
out:
	spin_unlock(&r->lock);
	return img;
}

/* Allocate the memory of a reserved slot, or give the slot back. */
static int registry_fill(struct disk_registry *r, struct disk_image *img,
			 const char *name, uint64_t bytes, bool read_only)
{
	struct disk_image tmp;
	int err;

	err = disk_image_init(&tmp, r->ops, name, bytes, read_only);
	spin_lock(&r->lock);
	if (err) {
		memset(img, 0, sizeof(*img));
	} else {
		tmp.used = true;
		tmp.listed = img->listed;
		tmp.reg = r;
		*img = tmp;
	}
	spin_unlock(&r->lock);
	return err;
}

/*
 * Create a read-only image called name (disk_name_valid) of bytes bytes,
 * listed in r and to be uploaded. *out gets it with one reference, the
 * creator's (dropped by disk_registry_remove).
 * Returns 0, -EINVAL, -EEXIST, -ENOSPC or -ENOMEM.
 */
int disk_registry_create(struct disk_registry *r, const char *name,
			 uint64_t bytes, struct disk_image **out)
{
	struct disk_image *img;
	int err;

	if (!disk_name_valid(name) || bytes == 0 || bytes > DISK_MAX_BYTES)
		return -EINVAL;
	img = registry_reserve(r, name, &err);
	if (!img)
		return err;
	err = registry_fill(r, img, name, bytes, true);
	if (!err)
		*out = img;
	return err;
}

/*
 * Create an unnamed, writable, zero-filled RAM disk of bytes bytes (a
 * multiple of 512). *out gets it with one reference, its guest's.
 * Returns 0, -EINVAL, -ENOSPC or -ENOMEM.
 */
int disk_registry_create_ram(struct disk_registry *r, uint64_t bytes,
			     struct disk_image **out)
{
	struct disk_image *img;
	int err;

	if (bytes == 0 || bytes > DISK_MAX_BYTES ||
	    bytes % DISK_SECTOR_BYTES)
		return -EINVAL;
	img = registry_reserve(r, NULL, &err);
	if (!img)
		return err;
	err = registry_fill(r, img, NULL, bytes, false);
	if (!err)
		*out = img;
	return err;
}

/* Find the listed, allocated image name and take a reference. */
static int registry_get(struct disk_registry *r, const char *name,
			bool need_complete, struct disk_image **out)
{
	struct disk_image *img;
	int err = 0;

	if (!name)
		return -ENOENT;
	spin_lock(&r->lock);
	img = registry_find(r, name);
	if (!img || img->refs == 0)
		err = -ENOENT;
	else if (need_complete && !img->complete)
		err = -EBUSY;
	else
		img->refs++;
	spin_unlock(&r->lock);
	if (!err)
		*out = img;
	return err;
}

/* Take a reference to the listed image name whatever its state (for the
 * upload calls). Returns 0 or -ENOENT. */
int disk_registry_lookup(struct disk_registry *r, const char *name,
			 struct disk_image **out)
{
	return registry_get(r, name, false, out);
}

/* Take a reference to the listed, complete image name for a guest disk.
 * Returns 0, -ENOENT, or -EBUSY while it is still being uploaded. */
int disk_registry_open(struct disk_registry *r, const char *name,
		       struct disk_image **out)
{
	return registry_get(r, name, true, out);
}

/*
 * Unlist the image name and drop its creator's reference: guests using it
 * keep it until they drop theirs, and the name may be created again.
 * Returns 0 or -ENOENT.
 */
int disk_registry_remove(struct disk_registry *r, const char *name)
{
	struct disk_image *img;

	if (!name)
		return -ENOENT;
	spin_lock(&r->lock);
	img = registry_find(r, name);
	if (img && img->refs)
		img->listed = false;
	else
		img = NULL;
	spin_unlock(&r->lock);
	if (!img)
		return -ENOENT;
	disk_image_put(img);
	return 0;
}

/* Take one more reference to an image the caller already holds. */
void disk_image_get(struct disk_image *img)
{
	if (img->reg)
		spin_lock(&img->reg->lock);
	img->refs++;
	if (img->reg)
		spin_unlock(&img->reg->lock);
}

/*
 * Drop a reference. On the last one the memory is scrubbed and freed
 * (outside the lock) and the slot, or the stand-alone img, cleared.
 * Returns true if it was the last.
 */
bool disk_image_put(struct disk_image *img)
{
	struct disk_registry *r = img->reg;
	bool last;

	if (!r) {
		if (img->refs && --img->refs == 0) {
			disk_image_release(img);
			return true;
		}
		return false;
	}
	spin_lock(&r->lock);
	last = img->refs && --img->refs == 0;
	if (last)
		img->listed = false; /* slot stays used until freed */
	spin_unlock(&r->lock);
	if (!last)
		return false;
	image_free_memory(img);
	spin_lock(&r->lock);
	memset(img, 0, sizeof(*img));
	spin_unlock(&r->lock);
	return true;
}

/* Number of slots in use (images alive or being created/freed). */
uint32_t disk_registry_count(struct disk_registry *r)
{
	uint32_t i, n = 0;

	spin_lock(&r->lock);
	for (i = 0; i < DISK_REGISTRY_SLOTS; i++)
		n += r->slots[i].used;
	spin_unlock(&r->lock);
	return n;
}

/* Parse a size "<n>[K|M|G]" (binary units) into *bytes. */
static int parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mul = 1;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		if (v > (DISK_MAX_BYTES / 10))
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (*s == 'K' || *s == 'k')
		mul = 1ull << 10;
	else if (*s == 'M' || *s == 'm')
		mul = 1ull << 20;
	else if (*s == 'G' || *s == 'g')
		mul = 1ull << 30;
	if (mul != 1)
		s++;
	if (*s || v == 0 || v > DISK_MAX_BYTES / mul)
		return -EINVAL;
	*bytes = v * mul;
	return 0;
}

/*
 * Parse one guest disk specification: "ram:<size>" with an optional
 * K/M/G suffix (a multiple of 512, at most DISK_MAX_BYTES) for a RAM
 * disk, or "image:<name>" / "<name>" for a registered image.
 * Returns 0 or -EINVAL.
 */
int disk_spec_parse(const char *s, struct disk_spec *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return -EINVAL;
	if (strncmp(s, "ram:", 4) == 0) {
		out->kind = DISK_SPEC_RAM;
		if (parse_size(s + 4, &out->bytes) ||
		    out->bytes % DISK_SECTOR_BYTES)
			return -EINVAL;
		return 0;
	}
	if (strncmp(s, "image:", 6) == 0)
		s += 6;
	if (!disk_name_valid(s))
		return -EINVAL;
	out->kind = DISK_SPEC_IMAGE;
	name_copy(out->name, s);
	return 0;
}
