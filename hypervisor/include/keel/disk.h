/*
 * Backing stores for the in-hypervisor virtual disks. A disk image is an
 * array of 2 MiB chunks of host memory (no large contiguous allocation is
 * needed), listed in a chunk table that is itself one chunk, so an image
 * holds at most 2 MiB / 8 chunks = 512 GiB. Two kinds exist: read-only
 * images that dom0 uploads once and that any number of guests then share
 * by name through a registry (one copy however many guests use it), and
 * writable RAM disks private to one guest. Memory comes from callbacks;
 * the code is pure and has no other dependency.
 */
#ifndef KEEL_DISK_H
#define KEEL_DISK_H

#include <stdint.h>
#include <stdbool.h>

#include <keel/spinlock.h>

#define DISK_CHUNK_SHIFT 21
#define DISK_CHUNK_BYTES (1ull << DISK_CHUNK_SHIFT)
#define DISK_MAX_CHUNKS ((uint32_t)(DISK_CHUNK_BYTES / sizeof(uint64_t)))
#define DISK_MAX_BYTES ((uint64_t)DISK_MAX_CHUNKS * DISK_CHUNK_BYTES)
#define DISK_SECTOR_BYTES 512u
#define DISK_NAME_BYTES 64u      /* name buffer, NUL included */
#define DISK_UPLOAD_PIECE_BYTES (64u << 10) /* dom0 uploads this much a call */
#define DISK_REGISTRY_SLOTS 64u

/*
 * Where chunk memory comes from. alloc_chunk returns the host-physical
 * address of 2 MiB of zeroed memory (0 if there is none); free_chunk
 * gives one back; p2v maps a host-physical address to a pointer.
 */
struct disk_mem_ops {
	uint64_t (*alloc_chunk)(void *ctx);
	void (*free_chunk)(void *ctx, uint64_t pa);
	void *(*p2v)(void *ctx, uint64_t pa);
	void *ctx;
};

struct disk_registry;

/* One backing store. Only the registry and disk_image_* touch fields. */
struct disk_image {
	char name[DISK_NAME_BYTES]; /* "" for RAM disks (never found by name) */
	uint64_t bytes;             /* size as created */
	uint32_t nr_chunks;
	uint64_t *chunk_pa;         /* chunk table (nr_chunks entries) */
	uint64_t table_pa;          /* host PA of the chunk table */
	uint32_t refs;              /* holders; the memory goes at 0 */
	bool read_only;
	bool complete;              /* all bytes uploaded; usable by guests */
	bool listed;                /* findable by name in its registry */
	bool used;                  /* registry slot taken */
	const struct disk_mem_ops *ops;
	struct disk_registry *reg;  /* owner, or NULL for a stand-alone image */
};

/*
 * The set of images. A fixed table of slots; names of uploaded images are
 * unique among live slots. The lock guards names, refs and slot use.
 */
struct disk_registry {
	struct spinlock lock;
	const struct disk_mem_ops *ops;
	struct disk_image slots[DISK_REGISTRY_SLOTS];
};

/* Stand-alone images (the registry is built on these). */
int disk_image_init(struct disk_image *img, const struct disk_mem_ops *ops,
		    const char *name, uint64_t bytes, bool read_only);
void disk_image_release(struct disk_image *img);
int disk_image_upload(struct disk_image *img, uint64_t off, const void *src,
		      uint64_t len);
int disk_image_complete(struct disk_image *img);
int disk_image_read(const struct disk_image *img, uint64_t off, void *dst,
		    uint64_t len);
int disk_image_write(struct disk_image *img, uint64_t off, const void *src,
		     uint64_t len);
uint64_t disk_image_span(const struct disk_image *img, uint64_t off,
			 uint64_t len, uint8_t **ptr);
uint64_t disk_image_sectors(const struct disk_image *img);
bool disk_name_valid(const char *name);

/* The registry of shared images and RAM disks. */
void disk_registry_init(struct disk_registry *r,
			const struct disk_mem_ops *ops);
int disk_registry_create(struct disk_registry *r, const char *name,
			 uint64_t bytes, struct disk_image **out);
int disk_registry_create_ram(struct disk_registry *r, uint64_t bytes,
			     struct disk_image **out);
int disk_registry_lookup(struct disk_registry *r, const char *name,
			 struct disk_image **out);
int disk_registry_open(struct disk_registry *r, const char *name,
		       struct disk_image **out);
int disk_registry_remove(struct disk_registry *r, const char *name);
void disk_image_get(struct disk_image *img);
bool disk_image_put(struct disk_image *img);
uint32_t disk_registry_count(struct disk_registry *r);

/* Disk specifications from guest configurations. */
enum disk_spec_kind { DISK_SPEC_IMAGE, DISK_SPEC_RAM };

struct disk_spec {
	enum disk_spec_kind kind;
	char name[DISK_NAME_BYTES]; /* DISK_SPEC_IMAGE */
	uint64_t bytes;             /* DISK_SPEC_RAM */
};

int disk_spec_parse(const char *s, struct disk_spec *out);

#endif /* KEEL_DISK_H */
