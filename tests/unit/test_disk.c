/*
 * Unit tests for hypervisor/common/disk.c: image creation (chunk table
 * and chunks from the callbacks, size limits), uploads and reads across
 * chunk boundaries with their bounds, the zero tail of a partial last
 * sector, completion, RAM disk writes, read-only refusal, the span
 * accessor, the registry (unique names, lookup vs. open of incomplete
 * images, shared references, remove, slot exhaustion and reuse),
 * scrubbing of every chunk before it is freed, allocation failure at
 * every point unwinding completely, and disk specification parsing.
 */
#include "../../hypervisor/common/disk.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Fake chunk allocator: host pointers serve as "physical" addresses. */
struct fake_mem {
	uint32_t live;      /* chunks allocated and not yet freed */
	uint32_t allocs;    /* successful allocations so far */
	int32_t fail_after; /* fail once allocs reaches this; -1 = never */
	uint32_t dirty_frees; /* chunks freed with a non-zero byte */
};

static uint64_t fake_alloc(void *ctx)
{
	struct fake_mem *m = ctx;
	void *p;

	if (m->fail_after >= 0 && m->allocs >= (uint32_t)m->fail_after)
		return 0;
	p = aligned_alloc(4096, DISK_CHUNK_BYTES);
	if (!p)
		return 0;
	memset(p, 0, DISK_CHUNK_BYTES);
	m->live++;
	m->allocs++;
	return (uint64_t)(uintptr_t)p;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void fake_free(void *ctx, uint64_t pa)
{
	struct fake_mem *m = ctx;
	uint8_t *p = (uint8_t *)(uintptr_t)pa;

	if (!all_zero(p, DISK_CHUNK_BYTES))
		m->dirty_frees++;
	m->live--;
	free(p);
}

static void *fake_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static struct fake_mem fm;
static const struct disk_mem_ops ops = { fake_alloc, fake_free, fake_p2v,
					 &fm };

static void fm_reset(void)
{
	memset(&fm, 0, sizeof(fm));
	fm.fail_after = -1;
}

/* Pattern byte for image offset off. */
static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) + 1);
}

static void fill_pat(uint8_t *buf, uint64_t off, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		buf[i] = pat(off + i);
}

static bool check_pat(const uint8_t *buf, uint64_t off, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != pat(off + i))
			return false;
	return true;
}

static void test_create_limits(void)
{
	struct disk_image img;

	fm_reset();
	CHECK_EQ_INT(disk_image_init(&img, &ops, "x", 0, true), -EINVAL);
	CHECK_EQ_INT(disk_image_init(&img, &ops, "x", DISK_MAX_BYTES + 1, true),
		     -EINVAL);
	CHECK_EQ_INT(disk_image_init(&img, &ops, "bad name", 4096, true),
		     -EINVAL);
	CHECK_EQ_INT(disk_image_init(&img, NULL, "x", 4096, true), -EINVAL);
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(DISK_MAX_BYTES, 512ull << 30);

	/* 1 byte over two chunks: table + 3 chunks. */
	CHECK_EQ_INT(disk_image_init(&img, &ops, "root", 2 * DISK_CHUNK_BYTES + 1,
				     true), 0);
	CHECK_EQ_U64(img.nr_chunks, 3);
	CHECK_EQ_U64(fm.live, 4);
	CHECK_EQ_U64(img.refs, 1);
	CHECK(!img.complete);
	CHECK(img.read_only);
	CHECK_EQ_STR(img.name, "root");
	CHECK_EQ_U64(disk_image_sectors(&img), (2 * DISK_CHUNK_BYTES) / 512 + 1);
	CHECK(disk_image_put(&img));
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(fm.dirty_frees, 0);

	/* A writable image is a complete, zeroed RAM disk at once. */
	CHECK_EQ_INT(disk_image_init(&img, &ops, NULL, 1 << 20, false), 0);
	CHECK(img.complete);
	CHECK_EQ_U64(fm.live, 2);
	disk_image_release(&img);
	CHECK_EQ_U64(fm.live, 0);
}

static void test_upload_read(void)
{
	const uint64_t size = 2 * DISK_CHUNK_BYTES + 1000; /* partial sector */
	static uint8_t buf[3 * DISK_UPLOAD_PIECE_BYTES];
	struct disk_image img;
	uint64_t off;
	uint8_t *p;
	bool ok = true;

	fm_reset();
	CHECK_EQ_INT(disk_image_init(&img, &ops, "sq", size, true), 0);
	/* Not complete: reads are still possible (zeros), writes are not. */
	CHECK_EQ_INT(disk_image_write(&img, 0, buf, 512), -EPERM);
	/* Upload in 64 KiB pieces, the last one short. */
	for (off = 0; off < size; off += DISK_UPLOAD_PIECE_BYTES) {
		uint64_t n = size - off < DISK_UPLOAD_PIECE_BYTES ?
				     size - off : DISK_UPLOAD_PIECE_BYTES;

		fill_pat(buf, off, n);
		if (disk_image_upload(&img, off, buf, n))
			ok = false;
	}
	CHECK(ok);
	/* Out-of-bounds uploads change nothing. */
	CHECK_EQ_INT(disk_image_upload(&img, size - 1, buf, 2), -ERANGE);
	CHECK_EQ_INT(disk_image_upload(&img, size + 1, buf, 0), -ERANGE);
	CHECK_EQ_INT(disk_image_upload(&img, UINT64_MAX, buf, 2), -ERANGE);
	CHECK_EQ_INT(disk_image_upload(&img, 8, buf, UINT64_MAX), -ERANGE);
	CHECK_EQ_INT(disk_image_upload(&img, size, buf, 0), 0);
	CHECK_EQ_INT(disk_image_complete(&img), 0);
	CHECK_EQ_INT(disk_image_complete(&img), -EBUSY);
	CHECK_EQ_INT(disk_image_upload(&img, 0, buf, 1), -EBUSY);

	/* A read across the first chunk boundary. */
	off = DISK_CHUNK_BYTES - 4096;
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(disk_image_read(&img, off, buf, 3 * 4096), 0);
	CHECK(check_pat(buf, off, 3 * 4096));
	/* A read covering both boundaries (4 MiB + a bit). */
	{
		uint64_t n = 2 * DISK_CHUNK_BYTES + 512;
		uint8_t *big = malloc(n);

		CHECK_EQ_INT(disk_image_read(&img, 0, big, n), 0);
		CHECK(check_pat(big, 0, 2 * DISK_CHUNK_BYTES + 512));
		free(big);
	}
	/* The tail of the last sector past the size reads as zeros. */
	off = size - 1000;
	CHECK_EQ_INT(disk_image_read(&img, off, buf, 1024), 0);
	CHECK(check_pat(buf, off, 1000));
	CHECK(all_zero(buf + 1000, 24));
	/* Past the capacity: refused, buffer untouched. */
	memset(buf, 0xEE, 16);
	CHECK_EQ_INT(disk_image_read(&img, off, buf, 1025), -ERANGE);
	CHECK_EQ_INT(disk_image_read(&img, UINT64_MAX - 3, buf, 8), -ERANGE);
	CHECK_EQ_U64(buf[0], 0xEE);
	/* Read-only: no writes even once complete. */
	CHECK_EQ_INT(disk_image_write(&img, 0, buf, 512), -EPERM);

	/* span stops at the chunk end and refuses out-of-range. */
	CHECK_EQ_U64(disk_image_span(&img, DISK_CHUNK_BYTES - 100, 4096, &p),
		     100);
	CHECK_EQ_U64(p[0], pat(DISK_CHUNK_BYTES - 100));
	CHECK_EQ_U64(disk_image_span(&img, DISK_CHUNK_BYTES, 4096, &p), 4096);
	CHECK_EQ_U64(p[0], pat(DISK_CHUNK_BYTES));
	CHECK_EQ_U64(disk_image_span(&img, size, 1024, &p), 0);
	CHECK_EQ_U64(disk_image_span(&img, 0, 0, &p), 0);
	CHECK(disk_image_put(&img));
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(fm.dirty_frees, 0);
}

static void test_ram_disk_scrub(void)
{
	struct disk_registry reg;
	struct disk_image *ram = NULL;
	uint8_t buf[1024];

	fm_reset();
	disk_registry_init(&reg, &ops);
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 1000, &ram), -EINVAL);
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 0, &ram), -EINVAL);
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 4 * DISK_CHUNK_BYTES, &ram),
		     0);
	CHECK(ram && ram->complete && !ram->read_only && !ram->listed);
	CHECK_EQ_U64(fm.live, 5);
	/* Writes land, across a boundary, and read back. */
	fill_pat(buf, DISK_CHUNK_BYTES - 512, sizeof(buf));
	CHECK_EQ_INT(disk_image_write(ram, DISK_CHUNK_BYTES - 512, buf,
				      sizeof(buf)), 0);
	fill_pat(buf, 4 * DISK_CHUNK_BYTES - 1024, sizeof(buf));
	CHECK_EQ_INT(disk_image_write(ram, 4 * DISK_CHUNK_BYTES - 1024, buf,
				      sizeof(buf)), 0);
	CHECK_EQ_INT(disk_image_write(ram, 4 * DISK_CHUNK_BYTES - 512, buf,
				      sizeof(buf)), -ERANGE);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(disk_image_read(ram, DISK_CHUNK_BYTES - 512, buf,
				     sizeof(buf)), 0);
	CHECK(check_pat(buf, DISK_CHUNK_BYTES - 512, sizeof(buf)));
	/* A RAM disk is never found by name, whatever it is called. */
	CHECK_EQ_INT(disk_registry_open(&reg, "", &ram), -ENOENT);
	/* Last put: every chunk (table included) freed, each scrubbed. */
	CHECK(disk_image_put(ram));
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(fm.dirty_frees, 0);
	CHECK_EQ_U64(disk_registry_count(&reg), 0);
}

static void test_registry_share(void)
{
	struct disk_registry reg;
	struct disk_image *img = NULL, *g1 = NULL, *g2 = NULL, *up = NULL;
	struct disk_image *img2 = NULL;
	uint8_t buf[512];

	fm_reset();
	disk_registry_init(&reg, &ops);
	CHECK_EQ_INT(disk_registry_create(&reg, "", 4096, &img), -EINVAL);
	CHECK_EQ_INT(disk_registry_create(&reg, "ram:1", 4096, &img), -EINVAL);
	CHECK_EQ_INT(disk_registry_create(&reg, "debian-root", 0, &img),
		     -EINVAL);
	CHECK_EQ_INT(disk_registry_create(&reg, "debian-root",
					  DISK_CHUNK_BYTES + 4096, &img), 0);
	CHECK_EQ_U64(fm.live, 3);
	CHECK_EQ_INT(disk_registry_create(&reg, "debian-root", 4096, &img2),
		     -EEXIST);
	CHECK_EQ_U64(fm.live, 3);
	/* While uploading: lookup works, open (for guests) does not. */
	CHECK_EQ_INT(disk_registry_open(&reg, "debian-root", &g1), -EBUSY);
	CHECK_EQ_INT(disk_registry_open(&reg, "nope", &g1), -ENOENT);
	CHECK_EQ_INT(disk_registry_lookup(&reg, "debian-root", &up), 0);
	CHECK(up == img);
	fill_pat(buf, DISK_CHUNK_BYTES, sizeof(buf));
	CHECK_EQ_INT(disk_image_upload(up, DISK_CHUNK_BYTES, buf, sizeof(buf)),
		     0);
	CHECK_EQ_INT(disk_image_complete(up), 0);
	CHECK(!disk_image_put(up));
	CHECK_EQ_U64(img->refs, 1);

	/* Two guests share the one copy. */
	CHECK_EQ_INT(disk_registry_open(&reg, "debian-root", &g1), 0);
	CHECK_EQ_INT(disk_registry_open(&reg, "debian-root", &g2), 0);
	CHECK(g1 == img && g2 == img);
	CHECK_EQ_U64(img->refs, 3);
	CHECK_EQ_U64(fm.live, 3);
	CHECK_EQ_U64(disk_registry_count(&reg), 1);

	/* Remove: unlisted, the name is free again, guests keep it. */
	CHECK_EQ_INT(disk_registry_remove(&reg, "debian-root"), 0);
	CHECK_EQ_INT(disk_registry_remove(&reg, "debian-root"), -ENOENT);
	CHECK_EQ_INT(disk_registry_open(&reg, "debian-root", &img2), -ENOENT);
	CHECK_EQ_U64(img->refs, 2);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(disk_image_read(g1, DISK_CHUNK_BYTES, buf, sizeof(buf)), 0);
	CHECK(check_pat(buf, DISK_CHUNK_BYTES, sizeof(buf)));
	CHECK_EQ_INT(disk_registry_create(&reg, "debian-root", 4096, &img2), 0);
	CHECK(img2 != img);
	CHECK_EQ_U64(disk_registry_count(&reg), 2);
	CHECK_EQ_U64(fm.live, 5);

	CHECK(!disk_image_put(g1));
	CHECK_EQ_U64(fm.live, 5);
	CHECK(disk_image_put(g2));
	CHECK_EQ_U64(fm.live, 2);
	CHECK_EQ_U64(disk_registry_count(&reg), 1);
	/* get/put on the new one. */
	disk_image_get(img2);
	CHECK_EQ_U64(img2->refs, 2);
	CHECK(!disk_image_put(img2));
	CHECK_EQ_INT(disk_registry_remove(&reg, "debian-root"), 0);
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(disk_registry_count(&reg), 0);
	CHECK_EQ_U64(fm.dirty_frees, 0);
}

static void test_registry_full(void)
{
	struct disk_registry reg;
	struct disk_image *imgs[DISK_REGISTRY_SLOTS], *extra = NULL;
	char name[16];
	uint32_t i;
	bool ok = true;

	fm_reset();
	disk_registry_init(&reg, &ops);
	for (i = 0; i < DISK_REGISTRY_SLOTS; i++) {
		snprintf(name, sizeof(name), "img%u", i);
		if (disk_registry_create(&reg, name, 4096, &imgs[i]))
			ok = false;
	}
	CHECK(ok);
	CHECK_EQ_INT(disk_registry_create(&reg, "one-more", 4096, &extra),
		     -ENOSPC);
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 4096, &extra), -ENOSPC);
	CHECK_EQ_U64(fm.live, 2 * DISK_REGISTRY_SLOTS);
	CHECK_EQ_INT(disk_registry_remove(&reg, "img7"), 0);
	CHECK_EQ_INT(disk_registry_create(&reg, "one-more", 4096, &extra), 0);
	CHECK(extra == imgs[7]); /* the freed slot is reused */
	CHECK_EQ_INT(disk_registry_open(&reg, "img7", &extra), -ENOENT);
	for (i = 0; i < DISK_REGISTRY_SLOTS; i++) {
		snprintf(name, sizeof(name), "img%u", i);
		disk_registry_remove(&reg, name);
	}
	disk_registry_remove(&reg, "one-more");
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(disk_registry_count(&reg), 0);
}

/* Allocation failing at every possible point leaves nothing allocated
 * and the slot free. */
static void test_alloc_failure(void)
{
	struct disk_registry reg;
	struct disk_image *img = NULL;
	struct disk_image standalone;
	int32_t k;
	bool ok = true;

	for (k = 0; k <= 4; k++) {
		fm_reset();
		fm.fail_after = k;
		disk_registry_init(&reg, &ops);
		int err = disk_registry_create(&reg, "r", 3 * DISK_CHUNK_BYTES,
					       &img);
		if (k < 4) {
			if (err != -ENOMEM || fm.live != 0 ||
			    disk_registry_count(&reg) != 0)
				ok = false;
			if (disk_registry_open(&reg, "r", &img) != -ENOENT)
				ok = false;
			/* The name is not left reserved. */
			fm.fail_after = -1;
			if (disk_registry_create(&reg, "r", 4096, &img) ||
			    !disk_image_put(img))
				ok = false;
		} else if (err || fm.live != 4 || !disk_image_put(img)) {
			ok = false;
		}
		CHECK_MSG(ok, "failing after %d allocations", k);
		CHECK_EQ_U64(fm.live, 0);
	}
	fm_reset();
	fm.fail_after = 2;
	CHECK_EQ_INT(disk_image_init(&standalone, &ops, NULL, 4 * DISK_CHUNK_BYTES,
				     false), -ENOMEM);
	CHECK_EQ_U64(fm.live, 0);
	CHECK_EQ_U64(standalone.chunk_pa == NULL, 1);
	fm_reset();
	fm.fail_after = 0;
	disk_registry_init(&reg, &ops);
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 4096, &img), -ENOMEM);
	CHECK_EQ_U64(disk_registry_count(&reg), 0);
}

static void test_spec_parse(void)
{
	struct disk_spec s;

	CHECK_EQ_INT(disk_spec_parse("ram:256M", &s), 0);
	CHECK_EQ_INT(s.kind, DISK_SPEC_RAM);
	CHECK_EQ_U64(s.bytes, 256ull << 20);
	CHECK_EQ_INT(disk_spec_parse("ram:1G", &s), 0);
	CHECK_EQ_U64(s.bytes, 1ull << 30);
	CHECK_EQ_INT(disk_spec_parse("ram:64k", &s), 0);
	CHECK_EQ_U64(s.bytes, 64ull << 10);
	CHECK_EQ_INT(disk_spec_parse("ram:1048576", &s), 0);
	CHECK_EQ_U64(s.bytes, 1ull << 20);
	CHECK_EQ_INT(disk_spec_parse("ram:1000", &s), -EINVAL); /* not x512 */
	CHECK_EQ_INT(disk_spec_parse("ram:0", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("ram:", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("ram:12X", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("ram:513G", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("ram:512G", &s), 0);
	CHECK_EQ_INT(disk_spec_parse("ram:99999999999999999999999M", &s),
		     -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("debian-12.squashfs", &s), 0);
	CHECK_EQ_INT(s.kind, DISK_SPEC_IMAGE);
	CHECK_EQ_STR(s.name, "debian-12.squashfs");
	CHECK_EQ_INT(disk_spec_parse("image:root", &s), 0);
	CHECK_EQ_STR(s.name, "root");
	CHECK_EQ_INT(disk_spec_parse("image:", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse("a b", &s), -EINVAL);
	CHECK_EQ_INT(disk_spec_parse(NULL, &s), -EINVAL);
	CHECK(disk_name_valid("x"));
	CHECK(!disk_name_valid(".hidden"));
	{
		char longname[80];

		memset(longname, 'a', sizeof(longname));
		longname[63] = 0;
		CHECK(disk_name_valid(longname));
		longname[63] = 'a';
		longname[64] = 0;
		CHECK(!disk_name_valid(longname));
	}
}

int main(void)
{
	test_create_limits();
	test_upload_read();
	test_ram_disk_scrub();
	test_registry_share();
	test_registry_full();
	test_alloc_failure();
	test_spec_parse();
	return harness_done("test_disk");
}
