/*
 * Host unit tests of the toolstack's domain builder (toolstack/build.c)
 * and domain helpers (toolstack/domain.c) against a fake hypervisor: this
 * file defines keel_hypercall() itself, keeping a fake domain list, a guest
 * RAM buffer filled by KEEL_HC_DOMAIN_MEMWRITE, the START arguments and the
 * DESTROY calls, and can fail the Nth call. A synthetic bzImage and ramdisk
 * are written to temporary files. Checked: placement, e820, command line,
 * pre-create checks and their messages, the loaded memory image and zero
 * page, chunking, and that every failure after CREATE destroys the domain.
 * The fake also keeps shared disk images (KEEL_HC_IMAGE_OPEN/WRITE/DONE)
 * and the disks added to the new domain, so the disk part of the builder
 * is checked too: image names, uploads (content, piece size, reuse of an
 * existing image), progress lines, memory messages and clean failures.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/bootproto/linux_boot.c"
#include "../../toolstack/domain/config.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/domain/build.c"

#include "harness.h"

#define IMG_BYTES (256 * 1024)
#define SETUP_SECTS 27
#define RD_BYTES (300 * 1024 + 123)

/* ---- fake hypervisor ---- */

static struct {
	struct keel_info info;
	struct keel_dominfo doms[8];
	uint32_t n_doms;
	uint8_t *ram;
	uint64_t ram_bytes;
	uint32_t next_id;
	int calls;          /* hypercalls made */
	int fail_at;        /* fail the call with this number (1-based), 0 never */
	int fail_op;        /* ... or every call of this op (-1 none) */
	int memwrites;
	uint32_t max_chunk;
	int destroyed;
	int started;
	struct keel_domain_start start;
	struct keel_domain_create created;
	int bad_write;      /* MEMWRITE outside RAM or after START */
	struct {
		char name[KEEL_IMAGE_NAME_BYTES];
		uint64_t bytes;
		uint8_t *data;
		int complete;
	} images[8];
	uint32_t n_images;
	uint64_t image_free;   /* bytes images may still take (ENOMEM) */
	int image_writes;
	uint32_t max_piece;
	int bad_image_op;      /* WRITE out of range, to a complete image ... */
	struct keel_disk_add disks[KEEL_DOMAIN_MAX_DISKS];
	uint32_t n_disks;
	int disk_add_late;     /* DISK_ADD after START */
} hv;

/* Forget the fake images (as if no guest used them any more). */
static void hv_images_clear(void)
{
	uint32_t i;

	for (i = 0; i < hv.n_images; i++)
		free(hv.images[i].data);
	hv.n_images = 0;
}

/* Reset the fake hypervisor to an empty pool with dom0 only, no images. */
static void hv_reset(void)
{
	free(hv.ram);
	hv_images_clear();
	memset(&hv, 0, sizeof(hv));
	hv.image_free = 1ull << 40;
	hv.fail_op = -1;
	hv.info.tsc_khz = 2994372;
	hv.info.cpus_pool = 2;
	hv.info.mem_pool_free_bytes = 1ull << 30;
	hv.doms[0].domid = 0;
	hv.doms[0].state = KEEL_DOMSTATE_RUNNING;
	hv.doms[0].mem_bytes = 1ull << 30;
	hv.doms[0].nr_vcpus = 1;
	hv.n_doms = 1;
	hv.next_id = 1;
}

/* Add a fake guest @name with id @id. */
static void hv_add(uint32_t id, const char *name, uint32_t state)
{
	struct keel_dominfo *d = &hv.doms[hv.n_doms++];

	memset(d, 0, sizeof(*d));
	d->domid = id;
	d->state = state;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->mem_bytes = 128ull << 20;
	d->nr_vcpus = 1;
}

/* Fake KEEL_HC_IMAGE_OPEN: find a complete image or make a new one. */
static int hv_image_open(struct keel_image_open *o)
{
	uint32_t i;

	for (i = 0; i < hv.n_images; i++) {
		if (strcmp(hv.images[i].name, o->name) ||
		    hv.images[i].bytes != o->bytes)
			continue;
		if (hv.images[i].complete) {
			o->image_id = i + 100;
			o->flags = KEEL_IMAGE_EXISTS;
			return 0;
		}
		free(hv.images[i].data); /* incomplete: replaced */
		break;
	}
	if (o->bytes > hv.image_free)
		return -KEEL_ENOMEM;
	if (i == hv.n_images)
		hv.n_images++;
	CHECK(memchr(o->name, '\0', sizeof(o->name)) != NULL);
	snprintf(hv.images[i].name, sizeof(hv.images[i].name), "%s", o->name);
	hv.images[i].bytes = o->bytes;
	hv.images[i].data = calloc(1, o->bytes);
	hv.images[i].complete = 0;
	o->image_id = i + 100;
	o->flags = 0;
	return 0;
}

/* Fake KEEL_HC_IMAGE_WRITE. */
static int hv_image_write(struct keel_image_write *w, size_t size)
{
	uint32_t i = w->image_id - 100;

	hv.image_writes++;
	if (w->len > hv.max_piece)
		hv.max_piece = w->len;
	if (i >= hv.n_images || hv.images[i].complete ||
	    size != sizeof(*w) + w->len ||
	    w->offset + w->len > hv.images[i].bytes) {
		hv.bad_image_op = 1;
		return -KEEL_EINVAL;
	}
	memcpy(hv.images[i].data + w->offset, w + 1, w->len);
	return 0;
}

/* Fake KEEL_HC_DOMAIN_DISK_ADD. */
static int hv_disk_add(struct keel_disk_add *a)
{
	if (hv.started)
		hv.disk_add_late = 1;
	if (a->kind == KEEL_DISK_IMAGE &&
	    (a->image_id - 100 >= hv.n_images ||
	     !hv.images[a->image_id - 100].complete))
		return -KEEL_EINVAL;
	if (a->kind == KEEL_DISK_RAM && (a->ram_bytes % (2u << 20) ||
					 !a->ram_bytes))
		return -KEEL_EINVAL;
	if (hv.n_disks >= KEEL_DOMAIN_MAX_DISKS)
		return -KEEL_ENOSPC;
	a->slot = hv.n_disks;
	hv.disks[hv.n_disks++] = *a;
	return 0;
}

/* The fake hypercall: see hcall.h for the real one. */
int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	hv.calls++;
	CHECK(size <= KEEL_HC_MAX_ARG);
	if (hv.calls == hv.fail_at || (int)op == hv.fail_op)
		return -KEEL_ENOMEM;
	switch (op) {
	case KEEL_HC_INFO:
		memcpy(buf, &hv.info, sizeof(hv.info));
		return 0;
	case KEEL_HC_DOMAIN_LIST: {
		struct keel_domain_list *l = buf;
		uint32_t n = hv.n_doms < l->max ? hv.n_doms : l->max;

		CHECK(size >= sizeof(*l) + l->max * sizeof(struct keel_dominfo));
		memcpy(l + 1, hv.doms, n * sizeof(struct keel_dominfo));
		l->count = n;
		return 0;
	}
	case KEEL_HC_DOMAIN_CREATE: {
		struct keel_domain_create *c = buf;

		hv.created = *c;
		c->domid = hv.next_id++;
		free(hv.ram);
		hv.ram_bytes = c->mem_bytes;
		hv.ram = calloc(1, c->mem_bytes);
		hv_add(c->domid, c->name, KEEL_DOMSTATE_BUILDING);
		return 0;
	}
	case KEEL_HC_DOMAIN_MEMWRITE: {
		struct keel_memwrite *m = buf;

		hv.memwrites++;
		if (m->len > hv.max_chunk)
			hv.max_chunk = m->len;
		if (size != sizeof(*m) + m->len || hv.started ||
		    m->gpa + m->len > hv.ram_bytes) {
			hv.bad_write = 1;
			return -KEEL_EINVAL;
		}
		memcpy(hv.ram + m->gpa, m + 1, m->len);
		return 0;
	}
	case KEEL_HC_IMAGE_OPEN:
		CHECK_EQ_INT(size, sizeof(struct keel_image_open));
		return hv_image_open(buf);
	case KEEL_HC_IMAGE_WRITE:
		return hv_image_write(buf, size);
	case KEEL_HC_IMAGE_DONE: {
		struct keel_image_done *d = buf;

		if (d->image_id - 100 >= hv.n_images)
			return -KEEL_ENOENT;
		hv.images[d->image_id - 100].complete = 1;
		return 0;
	}
	case KEEL_HC_DOMAIN_DISK_ADD:
		CHECK_EQ_INT(size, sizeof(struct keel_disk_add));
		return hv_disk_add(buf);
	case KEEL_HC_DOMAIN_START:
		memcpy(&hv.start, buf, sizeof(hv.start));
		hv.started = 1;
		return 0;
	case KEEL_HC_DOMAIN_CTL: {
		struct keel_domain_ctl *c = buf;

		if (c->op == KEEL_DOMCTL_DESTROY) {
			hv.destroyed++;
			hv.n_doms--; /* the last one is the new domain */
			hv.n_disks = 0;
		}
		return 0;
	}
	}
	return -KEEL_ENOSYS;
}

/* Print a hypercall error (the real one lives in hcall.c). */
void hcall_report(const char *what, int err)
{
	printf("(hcall_report %s %d)\n", what, err);
}

/* ---- fake images ---- */

static char kernel_path[64] = "/tmp/keel-test-kernel-XXXXXX";
static char ramdisk_path[64] = "/tmp/keel-test-ramdisk-XXXXXX";

/* A synthetic bzImage: setup header as Debian's, payload pattern bytes. */
static uint8_t *make_kernel(uint32_t init_size)
{
	uint8_t *p = calloc(1, IMG_BYTES);
	uint32_t i;

	p[HDR_SETUP_SECTS] = SETUP_SECTS;
	wr16(p, HDR_BOOT_FLAG, 0xAA55);
	p[HDR_JUMP] = 0xEB;
	p[HDR_JUMP + 1] = 0x6a;
	wr32(p, HDR_MAGIC, 0x53726448);
	wr16(p, HDR_VERSION, 0x020f);
	p[HDR_LOADFLAGS] = 0x01;
	wr32(p, HDR_INITRD_ADDR_MAX, 0x7fffffff);
	wr32(p, HDR_KERNEL_ALIGNMENT, 0x200000);
	p[HDR_RELOCATABLE] = 1;
	wr16(p, HDR_XLOADFLAGS, 0x7f);
	wr32(p, HDR_CMDLINE_SIZE, 2047);
	wr64(p, HDR_PREF_ADDRESS, 0x1000000);
	wr32(p, HDR_INIT_SIZE, init_size);
	for (i = (SETUP_SECTS + 1) * 512; i < IMG_BYTES; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	return p;
}

/* Write @len bytes of @data to the file @path. */
static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	fclose(f);
}

/* Create the temporary kernel (init_size 8 MiB) and ramdisk files. */
static void make_files(void)
{
	uint8_t *k = make_kernel(8u << 20), *rd = malloc(RD_BYTES);
	int fd;
	uint32_t i;

	for (i = 0; i < RD_BYTES; i++)
		rd[i] = (uint8_t)(i ^ (i >> 8));
	fd = mkstemp(kernel_path);
	close(fd);
	fd = mkstemp(ramdisk_path);
	close(fd);
	write_file(kernel_path, k, IMG_BYTES);
	write_file(ramdisk_path, rd, RD_BYTES);
	free(k);
	free(rd);
}

/* A config for the fake images. */
static void make_cfg(struct config *cfg)
{
	config_init(cfg);
	snprintf(cfg->name, sizeof(cfg->name), "tiny");
	snprintf(cfg->kernel, sizeof(cfg->kernel), "%s", kernel_path);
	snprintf(cfg->ramdisk, sizeof(cfg->ramdisk), "%s", ramdisk_path);
	cfg->memory_mib = 64;
}

/* ---- tests ---- */

/* build_mem_bytes(), build_e820(). */
static void test_mem_e820(void)
{
	struct linux_e820_entry e[BUILD_E820_ENTRIES];

	CHECK_EQ_U64(build_mem_bytes(128), 128ull << 20);
	CHECK_EQ_U64(build_mem_bytes(129), 130ull << 20);
	CHECK_EQ_U64(build_mem_bytes(33), 34ull << 20);
	CHECK_EQ_INT(build_e820(128ull << 20, e), 3);
	CHECK_EQ_U64(e[0].base, 0);
	CHECK_EQ_U64(e[0].len, 0x9F000);
	CHECK_EQ_U64(e[0].type, LINUX_E820_RAM);
	CHECK_EQ_U64(e[1].base, 0x9F000);
	CHECK_EQ_U64(e[1].len, 0x100000 - 0x9F000);
	CHECK_EQ_U64(e[1].type, LINUX_E820_RESERVED);
	CHECK_EQ_U64(e[2].base, 0x100000);
	CHECK_EQ_U64(e[2].len, (128ull << 20) - 0x100000);
	CHECK_EQ_U64(e[2].type, LINUX_E820_RAM);
	CHECK(BUILD_ZERO_PAGE_PA + 4096 <= BUILD_CMDLINE_PA);
	CHECK(BUILD_CMDLINE_PA + 4096 <= KEEL_GUEST_BIOS_START);
}

/* build_layout(): Debian-like header, too little memory, alignment. */
static void test_layout(void)
{
	struct linux_image img = {
		.pref_address = 16ull << 20, .kernel_alignment = 2u << 20,
		.init_size = 64u << 20, .payload_bytes = 8u << 20,
		.initrd_addr_max = 0x7fffffff, .cmdline_size = 2047,
	};
	char err[BUILD_ERR_BYTES] = "";
	struct build_layout l;

	CHECK_EQ_INT(build_layout(&img, 128ull << 20, 1000000, &l, err,
				  sizeof(err)), 0);
	CHECK_EQ_U64(l.kernel_pa, 16ull << 20);
	CHECK_EQ_U64(l.kernel_end, 80ull << 20);
	CHECK_EQ_U64(l.initrd_pa, ((128ull << 20) - 1000000) & ~0xfffull);
	CHECK_EQ_U64(l.initrd_pa % 4096, 0);
	CHECK(l.initrd_pa + 1000000 <= 128ull << 20);
	CHECK_EQ_U64(l.zero_page_pa, 0x7000);
	CHECK_EQ_U64(l.cmdline_pa, 0x8000);
	/* exactly enough */
	CHECK_EQ_INT(build_layout(&img, 82ull << 20, 1000000, &l, err,
				  sizeof(err)), 0);
	CHECK_EQ_INT(build_layout(&img, 80ull << 20, 1000000, &l, err,
				  sizeof(err)), -ENOMEM);
	CHECK_EQ_STR(err, "memory 80 MiB is too small for this kernel and "
		     "ramdisk: need at least 82 MiB");
	CHECK_EQ_INT(build_layout(&img, 64ull << 20, 0, &l, err,
				  sizeof(err)), -ENOMEM);
	CHECK_EQ_STR(err, "memory 64 MiB is too small for this kernel: need "
		     "at least 80 MiB");
	CHECK_EQ_INT(build_layout(&img, 80ull << 20, 0, &l, err,
				  sizeof(err)), 0);
	CHECK_EQ_U64(l.initrd_pa, 0);
	/* initrd_addr_max below the top of RAM */
	img.initrd_addr_max = (100u << 20) - 1;
	CHECK_EQ_INT(build_layout(&img, 256ull << 20, 8192, &l, err,
				  sizeof(err)), 0);
	CHECK_EQ_U64(l.initrd_pa, (100ull << 20) - 8192);
	/* unaligned pref_address is aligned up */
	img.pref_address = (16ull << 20) + 4096;
	CHECK_EQ_INT(build_layout(&img, 256ull << 20, 0, &l, err,
				  sizeof(err)), 0);
	CHECK_EQ_U64(l.kernel_pa, 18ull << 20);
}

/* build_cmdline(): order, optional parts, overflow. */
static void test_cmdline(void)
{
	struct config cfg;
	char buf[256];

	config_init(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "tiny");
	CHECK_EQ_INT(build_cmdline(&cfg, 2994372, buf, sizeof(buf)),
		     (int)strlen("console=ttyS0 tsc_early_khz=2994372 "
				 "tsc=reliable pci=noearly hostname=tiny"));
	CHECK_EQ_STR(buf, "console=ttyS0 tsc_early_khz=2994372 tsc=reliable "
		     "pci=noearly hostname=tiny");
	snprintf(cfg.root, sizeof(cfg.root), "/dev/vda");
	snprintf(cfg.cmdline, sizeof(cfg.cmdline), "quiet");
	snprintf(cfg.extra, sizeof(cfg.extra), "init=/bin/sh");
	build_cmdline(&cfg, 0, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "console=ttyS0 pci=noearly hostname=tiny root=/dev/vda "
		     "quiet init=/bin/sh");
	CHECK_EQ_INT(build_cmdline(&cfg, 0, buf, 20), -ENOSPC);
	CHECK_EQ_INT(build_cmdline(&cfg, 0, buf, 0), -ENOSPC);
}

/* build_precheck() of @cfg needing @guest MiB of RAM, @disks MiB of RAM
 * disks and @nimg images of @images MiB, against the fake's state. */
static int precheck(const struct config *cfg, uint64_t guest, uint64_t disks,
		    uint64_t images, uint32_t nimg, char *err)
{
	struct build_mem_need need = { guest << 20, disks << 20, images << 20,
				       nimg, false };

	return build_precheck(cfg, &need, &hv.info, hv.doms, hv.n_doms, err,
			      BUILD_ERR_BYTES);
}

/* build_precheck(): name taken, vCPUs, memory with disks and images. */
static void test_precheck(void)
{
	char err[BUILD_ERR_BYTES];
	struct config cfg;

	hv_reset();
	hv_add(3, "web", KEEL_DOMSTATE_RUNNING);
	make_cfg(&cfg);
	CHECK_EQ_INT(precheck(&cfg, 64, 0, 0, 0, err), 0);
	snprintf(cfg.name, sizeof(cfg.name), "web");
	CHECK_EQ_INT(precheck(&cfg, 64, 0, 0, 0, err), -EEXIST);
	CHECK_EQ_STR(err, "a domain named 'web' already exists (see 'keel "
		     "list'); start another instance with name=<new name>, "
		     "e.g. name=web2");
	snprintf(cfg.name, sizeof(cfg.name), "tiny");
	cfg.vcpus = 3;
	CHECK_EQ_INT(precheck(&cfg, 64, 0, 0, 0, err), -EINVAL);
	CHECK_EQ_STR(err, "3 vCPUs requested, the guest pool has 2 CPUs");
	cfg.vcpus = 9;
	CHECK_EQ_INT(precheck(&cfg, 64, 0, 0, 0, err), -EINVAL);
	cfg.vcpus = 1;
	hv.info.mem_pool_free_bytes = 300ull << 20;
	CHECK_EQ_INT(precheck(&cfg, 512, 0, 0, 0, err), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 512 MiB, 300 MiB free");
	{ /* a clone's RAM is its source's: only its RAM disks count */
		struct build_mem_need clone = { 512ull << 20, 0, 0, 0, true };

		CHECK_EQ_INT(build_precheck(&cfg, &clone, &hv.info, hv.doms, hv.n_doms, err,
					    BUILD_ERR_BYTES), 0);
		clone.disk_bytes = 302ull << 20;
		CHECK_EQ_INT(build_precheck(&cfg, &clone, &hv.info, hv.doms, hv.n_doms, err,
					    BUILD_ERR_BYTES), -ENOMEM);
		clone.guest_bytes = 4096ull << 20;
		CHECK_EQ_INT(build_precheck(&cfg, &clone, &hv.info, hv.doms, hv.n_doms, err,
					    BUILD_ERR_BYTES), -EINVAL);
	}
	CHECK_EQ_INT(precheck(&cfg, 4096, 0, 0, 0, err), -EINVAL);
	/* RAM disks always count */
	CHECK_EQ_INT(precheck(&cfg, 128, 172, 0, 0, err), 0);
	CHECK_EQ_INT(precheck(&cfg, 128, 174, 0, 0, err), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 302 MiB (guest 128 + "
		     "disks 174), 300 MiB free");
	/* a guest exists: the images may be loaded already, OPEN decides */
	CHECK_EQ_INT(precheck(&cfg, 128, 100, 200, 1, err), 0);
	CHECK_EQ_INT(precheck(&cfg, 128, 256, 20, 1, err), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 384 MiB (guest 128 + "
		     "disks 256), 300 MiB free");
	/* no guest: every image must be uploaded, so it counts */
	hv_reset();
	hv.info.mem_pool_free_bytes = 300ull << 20;
	CHECK_EQ_INT(precheck(&cfg, 128, 100, 72, 1, err), 0);
	CHECK_EQ_INT(precheck(&cfg, 128, 100, 74, 1, err), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 302 MiB (guest 128 + "
		     "disks 100 + image 74), 300 MiB free");
	CHECK_EQ_INT(precheck(&cfg, 128, 0, 400, 2, err), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 528 MiB (guest 128 + "
		     "images 400), 300 MiB free");
}

/* A full build against the fake hypervisor: memory image and zero page. */
static void test_build_ok(void)
{
	char err[BUILD_ERR_BYTES] = "";
	uint8_t *k = make_kernel(8u << 20);
	uint64_t rd_pa = ((64ull << 20) - RD_BYTES) & ~0xfffull;
	struct config cfg;
	uint32_t id = 99, i, bad = 0;
	const uint8_t *zp;

	hv_reset();
	make_cfg(&cfg);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	CHECK_MSG(err[0] == '\0', "%s", err);
	CHECK_EQ_INT(id, 1);
	CHECK_EQ_STR(hv.created.name, "tiny");
	CHECK_EQ_U64(hv.created.mem_bytes, 64ull << 20);
	CHECK_EQ_INT(hv.created.nr_vcpus, 1);
	CHECK_EQ_INT(hv.started, 1);
	CHECK_EQ_INT(hv.destroyed, 0);
	CHECK_EQ_INT(hv.bad_write, 0);
	CHECK_EQ_INT(hv.start.domid, 1);
	CHECK_EQ_U64(hv.start.rip, 16ull << 20);
	CHECK_EQ_U64(hv.start.rsi, 0x7000);
	CHECK(hv.max_chunk <= KEEL_HC_MAX_ARG - sizeof(struct keel_memwrite));
	CHECK(hv.memwrites >= 4 + RD_BYTES / 65520);
	if (!hv.ram)
		return;
	for (i = (SETUP_SECTS + 1) * 512; i < IMG_BYTES; i++)
		bad += hv.ram[(16u << 20) + i - (SETUP_SECTS + 1) * 512] != k[i];
	CHECK_EQ_INT(bad, 0);
	for (i = 0; i < RD_BYTES; i++)
		bad += hv.ram[rd_pa + i] != (uint8_t)(i ^ (i >> 8));
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_STR((const char *)hv.ram + 0x8000, "console=ttyS0 "
		     "tsc_early_khz=2994372 tsc=reliable pci=noearly hostname=tiny");
	zp = hv.ram + 0x7000;
	CHECK_EQ_U64(rd32(zp, HDR_CMD_LINE_PTR), 0x8000);
	CHECK_EQ_U64(rd32(zp, HDR_RAMDISK_IMAGE), rd_pa);
	CHECK_EQ_U64(rd32(zp, HDR_RAMDISK_SIZE), RD_BYTES);
	CHECK_EQ_U64(rd32(zp, HDR_CODE32_START), 16u << 20);
	CHECK_EQ_U64(rd8(zp, HDR_TYPE_OF_LOADER), 0xff);
	CHECK_EQ_U64(rd16(zp, HDR_BOOT_FLAG), 0xAA55);
	CHECK_EQ_U64(rd8(zp, BP_E820_ENTRIES), 3);
	CHECK_EQ_U64(rd64(zp, BP_E820_TABLE + 20 + 0), 0x9F000);
	CHECK_EQ_U64(rd32(zp, BP_E820_TABLE + 20 + 16), LINUX_E820_RESERVED);
	CHECK_EQ_U64(rd64(zp, BP_E820_TABLE + 40 + 8), (63ull << 20));
	free(k);
}

/* Every failure after CREATE destroys the domain; before it, none made. */
static void test_build_failures(void)
{
	char err[BUILD_ERR_BYTES];
	struct config cfg;
	uint8_t *big;
	uint32_t id;
	int total, n;

	hv_reset();
	make_cfg(&cfg);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	total = hv.calls;
	for (n = 1; n <= total; n++) {
		hv_reset();
		hv.fail_at = n;
		err[0] = '\0';
		CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)),
			     -KEEL_ENOMEM);
		CHECK_MSG(err[0] != '\0', "call %d: no message", n);
		/* INFO, LIST, CREATE come first: later failures must destroy */
		CHECK_EQ_INT(hv.destroyed, n > 3 ? 1 : 0);
		CHECK_EQ_INT(hv.n_doms, 1);
	}
	hv_reset();
	hv.fail_op = KEEL_HC_DOMAIN_START;
	CHECK(build_domain(&cfg, &id, err, sizeof(err)) < 0);
	CHECK_EQ_STR(err, "KEEL_HC_DOMAIN_START failed: Cannot allocate memory");
	CHECK_EQ_INT(hv.destroyed, 1);
	/* pre-create failures: missing files, name taken, too little RAM */
	hv_reset();
	snprintf(cfg.kernel, sizeof(cfg.kernel), "/nonexistent/vmlinuz");
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOENT);
	CHECK_EQ_STR(err, "cannot read kernel '/nonexistent/vmlinuz': No such "
		     "file or directory");
	make_cfg(&cfg);
	snprintf(cfg.ramdisk, sizeof(cfg.ramdisk), "/nonexistent/rd");
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOENT);
	CHECK_EQ_STR(err, "cannot read ramdisk '/nonexistent/rd': No such "
		     "file or directory");
	make_cfg(&cfg);
	snprintf(cfg.kernel, sizeof(cfg.kernel), "%s", ramdisk_path);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "is not a Linux bzImage") != NULL);
	make_cfg(&cfg);
	big = make_kernel(64u << 20);
	write_file(kernel_path, big, IMG_BYTES);
	hv_reset();
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOMEM);
	CHECK_EQ_STR(err, "memory 64 MiB is too small for this kernel and "
		     "ramdisk: need at least 82 MiB");
	CHECK_EQ_INT(hv.created.mem_bytes, 0);
	free(big);
	big = make_kernel(8u << 20);
	write_file(kernel_path, big, IMG_BYTES);
	free(big);
	hv_reset();
	hv_add(5, "tiny", KEEL_DOMSTATE_RUNNING);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -EEXIST);
	CHECK_EQ_INT(hv.created.mem_bytes, 0);
}

/* ---- disks ---- */

static char image_path[64] = "/tmp/keel-test-img.sq-XXXXXX";
#define IMAGE_BYTES (3u * 65536u + 7u * 512u) /* not a whole piece count */

/* Pattern byte @i of the test image. */
static uint8_t image_byte(uint64_t i)
{
	return (uint8_t)((i * 131) ^ (i >> 9));
}

/* Write a test image of @bytes pattern bytes to @path. */
static void make_image(const char *path, uint64_t bytes)
{
	uint8_t *p = malloc(bytes);
	uint64_t i;

	for (i = 0; i < bytes; i++)
		p[i] = image_byte(i);
	write_file(path, p, bytes);
	free(p);
}

/* Start a further build on the fake: keep domains and images, forget
 * what the last build did. */
static void hv_next_build(void)
{
	hv.started = 0;
	hv.n_disks = 0;
	hv.image_writes = 0;
	hv.destroyed = 0;
	hv.calls = 0;
	hv.fail_at = 0;
	hv.fail_op = -1;
	memset(&hv.created, 0, sizeof(hv.created));
}

/* build_image_name(): FNV-1a, the name's form, sanitising, truncation. */
static void test_image_name(void)
{
	char a[KEEL_IMAGE_NAME_BYTES], b[KEEL_IMAGE_NAME_BYTES];

	CHECK_EQ_U64(build_fnv1a64("", 0, BUILD_FNV_OFFSET),
		     0xcbf29ce484222325ull);
	CHECK_EQ_U64(build_fnv1a64("a", 1, BUILD_FNV_OFFSET),
		     0xaf63dc4c8601ec8cull);
	CHECK_EQ_U64(build_fnv1a64("foobar", 6, BUILD_FNV_OFFSET),
		     0x85944171f73967e8ull);
	CHECK_EQ_INT(build_image_name("/m/guests/debian.squashfs",
				      "/run/m/guests/debian.squashfs", 4096,
				      1700000000, 5, a, sizeof(a)), 0);
	CHECK_EQ_INT((int)strlen(a), 15 + 1 + 16);
	CHECK(strncmp(a, "debian.squashfs-", 16) == 0);
	CHECK_EQ_U64(strtoull(a + 16, NULL, 16),
		     build_fnv1a64("/run/m/guests/debian.squashfs|4096|"
				   "1700000000.000000005", 55, BUILD_FNV_OFFSET));
	/* same inputs, same name; any input changed, another name */
	build_image_name("debian.squashfs", "/run/m/guests/debian.squashfs",
			 4096, 1700000000, 5, b, sizeof(b));
	CHECK_EQ_STR(a, b);
	build_image_name("debian.squashfs", "/run/m/guests/debian.squashfs",
			 4096, 1700000000, 6, b, sizeof(b));
	CHECK(strcmp(a, b) != 0);
	build_image_name("debian.squashfs", "/run/m/guests/debian.squashfs",
			 4608, 1700000000, 5, b, sizeof(b));
	CHECK(strcmp(a, b) != 0);
	build_image_name("debian.squashfs", "/other/debian.squashfs", 4096,
			 1700000000, 5, b, sizeof(b));
	CHECK(strcmp(a, b) != 0);
	/* odd characters, a leading dot, long names */
	build_image_name("/x/my disk:1.img", "/x/r", 512, 0, 0, a, sizeof(a));
	CHECK(strncmp(a, "my_disk_1.img-", 14) == 0);
	build_image_name("/x/.hidden", "/x/r", 512, 0, 0, a, sizeof(a));
	CHECK(strncmp(a, "_hidden-", 8) == 0);
	build_image_name("/x/abcdefghijabcdefghijabcdefghijabcdefghijXYZ.img",
			 "/x/r", 512, 0, 0, a, sizeof(a));
	CHECK(strncmp(a, "abcdefghijabcdefghijabcdefghijabcdefghij-", 41) == 0);
	CHECK_EQ_INT((int)strlen(a), 40 + 1 + 16);
	CHECK_EQ_INT(build_image_name("/x/", "/x", 512, 0, 0, a, sizeof(a)), 0);
	CHECK(strncmp(a, "_-", 2) == 0);
	CHECK_EQ_INT(build_image_name("/x/a", "/x/a", 512, 0, 0, a, 10),
		     -ENOSPC);
}

/* build_progress(): silent for small images, one line off a terminal,
 * percentages on one. */
static void test_progress(void)
{
	FILE *f = tmpfile();
	char out[512] = "";
	size_t n;
	int last = -1;

	CHECK(f != NULL);
	if (!f)
		return;
	build_progress(f, true, "uploading", "small.sq", 0, 16u << 20, &last);
	build_progress(f, true, "uploading", "small.sq", 16u << 20, 16u << 20, &last);
	CHECK_EQ_INT(last, -1);
	build_progress(f, false, "uploading", "big.sq", 0, (40u << 20) + 512, &last);
	build_progress(f, false, "uploading", "big.sq", 20u << 20, (40u << 20) + 512, &last);
	build_progress(f, false, "uploading", "big.sq", (40u << 20) + 512, (40u << 20) + 512,
		       &last);
	last = -1;
	build_progress(f, true, "uploading", "d.sq", 0, 40u << 20, &last);
	build_progress(f, true, "uploading", "d.sq", 18u << 20, 40u << 20, &last);
	build_progress(f, true, "uploading", "d.sq", 18u << 20, 40u << 20, &last);
	build_progress(f, true, "uploading", "d.sq", 40u << 20, 40u << 20, &last);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	CHECK_EQ_STR(out, "uploading big.sq (41 MiB)\n"
		     "\ruploading d.sq: 0%\ruploading d.sq: 45%"
		     "\ruploading d.sq: 100%\n");
	fclose(f);
}

/* A config with the test image as xvda and an 8 MiB RAM disk as xvdb. */
static void make_disk_cfg(struct config *cfg)
{
	char err[CONFIG_ERR_BYTES], ov[200];

	make_cfg(cfg);
	snprintf(ov, sizeof(ov), "disk=['ram:7M,xvdb,w', 'file:%s,xvda,r']",
		 image_path);
	CHECK_EQ_INT(config_override(cfg, ov, "/", err, sizeof(err)), 0);
}

/* Check that the fake holds the test image, complete, as image @i. */
static void check_image_uploaded(uint32_t i, uint64_t bytes)
{
	uint64_t j, bad = 0;

	CHECK(i < hv.n_images);
	if (i >= hv.n_images)
		return;
	CHECK_EQ_INT(hv.images[i].complete, 1);
	CHECK_EQ_U64(hv.images[i].bytes, bytes);
	CHECK(strncmp(hv.images[i].name, "keel-test-img.sq-", 17) == 0);
	for (j = 0; j < bytes; j++)
		bad += hv.images[i].data[j] != image_byte(j);
	CHECK_EQ_U64(bad, 0);
}

/* Builds with disks: upload, reuse, the same image twice, RAM disks. */
static void test_build_disks(void)
{
	char err[BUILD_ERR_BYTES] = "", ov[200];
	struct config cfg;
	uint32_t id;

	hv_reset();
	make_disk_cfg(&cfg);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	CHECK_MSG(err[0] == '\0', "%s", err);
	CHECK_EQ_INT(hv.started, 1);
	CHECK_EQ_INT(hv.disk_add_late, 0);
	CHECK_EQ_INT(hv.bad_image_op, 0);
	CHECK_EQ_INT(hv.n_images, 1);
	check_image_uploaded(0, IMAGE_BYTES);
	CHECK_EQ_INT(hv.image_writes, 4);
	CHECK_EQ_U64(hv.max_piece, KEEL_HC_MAX_ARG -
		     sizeof(struct keel_image_write));
	CHECK_EQ_INT(hv.n_disks, 2);
	CHECK_EQ_INT(hv.disks[0].domid, id);
	CHECK_EQ_INT(hv.disks[0].kind, KEEL_DISK_IMAGE);
	CHECK_EQ_INT(hv.disks[0].image_id, 100);
	CHECK_EQ_INT(hv.disks[1].kind, KEEL_DISK_RAM);
	CHECK_EQ_U64(hv.disks[1].ram_bytes, 8ull << 20);
	/* a second guest of the same image: no upload */
	hv_next_build();
	snprintf(cfg.name, sizeof(cfg.name), "tiny2");
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	CHECK_EQ_INT(hv.image_writes, 0);
	CHECK_EQ_INT(hv.n_images, 1);
	CHECK_EQ_INT(hv.disks[0].image_id, 100);
	CHECK_EQ_INT(hv.n_disks, 2);
	/* the file changes: a new image */
	make_image(image_path, IMAGE_BYTES + 512);
	hv_next_build();
	snprintf(cfg.name, sizeof(cfg.name), "tiny3");
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	CHECK_EQ_INT(hv.n_images, 2);
	check_image_uploaded(1, IMAGE_BYTES + 512);
	CHECK(strcmp(hv.images[0].name, hv.images[1].name) != 0);
	/* one image as two disks: uploaded once, added twice */
	hv_reset();
	make_cfg(&cfg);
	snprintf(ov, sizeof(ov), "disk=['file:%s,xvda,r','file:%s,xvdb,r']",
		 image_path, image_path);
	CHECK_EQ_INT(config_override(&cfg, ov, "/", err, sizeof(err)), 0);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	CHECK_EQ_INT(hv.n_images, 1);
	CHECK_EQ_INT(hv.image_writes, 4);
	CHECK_EQ_INT(hv.n_disks, 2);
	CHECK_EQ_INT(hv.disks[1].image_id, hv.disks[0].image_id);
	make_image(image_path, IMAGE_BYTES);
}

/* Disk failures: before the create nothing is made; after it, every
 * failing call destroys the domain. */
static void test_build_disk_failures(void)
{
	char err[BUILD_ERR_BYTES], dir[] = "/tmp/keel-test-dir-XXXXXX", ov[200];
	struct config cfg;
	uint32_t id;
	int total, n;

	hv_reset();
	make_disk_cfg(&cfg);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	total = hv.calls;
	CHECK(total >= 3 + 1 + 4 + 1 + 2 + 4 + 1);
	for (n = 4; n <= total; n++) {
		hv_reset();
		hv.fail_at = n;
		err[0] = '\0';
		CHECK(build_domain(&cfg, &id, err, sizeof(err)) < 0);
		CHECK_MSG(err[0] != '\0', "call %d: no message", n);
		CHECK_EQ_INT(hv.destroyed, 1);
		CHECK_EQ_INT(hv.n_doms, 1);
		CHECK_EQ_INT(hv.n_disks, 0);
		CHECK_EQ_INT(hv.started, 0);
	}
	hv_reset();
	hv.fail_op = KEEL_HC_IMAGE_WRITE;
	CHECK(build_domain(&cfg, &id, err, sizeof(err)) < 0);
	CHECK(strncmp(err, "KEEL_HC_IMAGE_WRITE failed for '/tmp/keel-test-img",
		      50) == 0);
	CHECK(strstr(err, "': Cannot allocate memory") != NULL);
	CHECK_EQ_INT(hv.destroyed, 1);
	hv_reset();
	hv.fail_op = KEEL_HC_DOMAIN_DISK_ADD;
	CHECK(build_domain(&cfg, &id, err, sizeof(err)) < 0);
	CHECK_EQ_STR(err, "KEEL_HC_DOMAIN_DISK_ADD failed for xvda: Cannot "
		     "allocate memory");
	CHECK_EQ_INT(hv.destroyed, 1);
	/* the image does not fit although a guest exists: OPEN says so */
	hv_reset();
	hv_add(7, "other", KEEL_DOMSTATE_RUNNING);
	hv.info.mem_pool_free_bytes = 100ull << 20;
	hv.image_free = 4096;
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 74 MiB (guest 64 + "
		     "disks 8 + image 2), 100 MiB free");
	CHECK_EQ_INT(hv.destroyed, 1);
	CHECK_EQ_INT(hv.n_images, 0);
	/* no guest: the image counts before the create */
	hv_reset();
	hv.info.mem_pool_free_bytes = 73ull << 20;
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOMEM);
	CHECK_EQ_STR(err, "not enough free memory: need 74 MiB (guest 64 + "
		     "disks 8 + image 2), 73 MiB free");
	CHECK_EQ_INT(hv.created.mem_bytes, 0);
	/* bad files: nothing is created, not even asked */
	hv_reset();
	make_cfg(&cfg);
	CHECK_EQ_INT(config_override(&cfg, "disk=['file:/nonexistent/r.sq,"
				     "xvda,r']", "/", err, sizeof(err)), 0);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -ENOENT);
	CHECK_EQ_STR(err, "disk image '/nonexistent/r.sq' not found");
	CHECK_EQ_INT(hv.calls, 0);
	snprintf(ov, sizeof(ov), "disk=['file:%s,xvda,r']", kernel_path);
	CHECK_EQ_INT(config_override(&cfg, ov, "/", err, sizeof(err)), 0);
	make_image(kernel_path, 1000);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -EINVAL);
	snprintf(ov, sizeof(ov), "disk image '%s' is 1000 bytes, not a "
		 "positive multiple of 512", kernel_path);
	CHECK_EQ_STR(err, ov);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(ov, sizeof(ov), "disk=['file:%s,xvda,r']", dir);
	CHECK_EQ_INT(config_override(&cfg, ov, "/", err, sizeof(err)), 0);
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "is not a regular file") != NULL);
	rmdir(dir);
	CHECK_EQ_INT(hv.calls, 0);
	{
		uint8_t *k = make_kernel(8u << 20);

		write_file(kernel_path, k, IMG_BYTES);
		free(k);
	}
}

/* An image that changes between the check and the upload is refused. */
static void test_image_stale(void)
{
	char err[BUILD_ERR_BYTES];
	struct build_image im;
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);

	hv_reset();
	CHECK_EQ_INT(build_image_check(image_path, &im, err, sizeof(err)), 0);
	im.mtime_nsec ^= 1;
	CHECK_EQ_INT(build_image_upload(image_path, &im, 100, buf, err,
					sizeof(err)), -ESTALE);
	CHECK(strstr(err, "changed while it was being read") != NULL);
	CHECK_EQ_INT(hv.image_writes, 0);
	free(buf);
}

/* A big image reports its upload ("uploading <name> (N MiB)" off a tty). */
static void test_build_big_image(void)
{
	char err[BUILD_ERR_BYTES], ov[200], out[256] = "";
	struct config cfg;
	uint32_t id;
	size_t n;
	FILE *f = tmpfile();

	CHECK(f != NULL);
	if (!f)
		return;
	make_image(image_path, (17u << 20) + 512);
	hv_reset();
	make_cfg(&cfg);
	cfg.memory_mib = 128;
	snprintf(ov, sizeof(ov), "disk=['file:%s,xvda,r']", image_path);
	CHECK_EQ_INT(config_override(&cfg, ov, "/", err, sizeof(err)), 0);
	build_progress_file = f;
	CHECK_EQ_INT(build_domain(&cfg, &id, err, sizeof(err)), 0);
	build_progress_file = NULL;
	check_image_uploaded(0, (17u << 20) + 512);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	snprintf(ov, sizeof(ov), "uploading %s (18 MiB)\n",
		 strrchr(image_path, '/') + 1);
	CHECK_EQ_STR(out, ov);
	fclose(f);
	make_image(image_path, IMAGE_BYTES);
}

/* domain.c: lookup, state letters, list rows. */
static void test_domain_fmt(void)
{
	char buf[256], st[8];
	struct keel_dominfo d;

	hv_reset();
	hv_add(3, "web", KEEL_DOMSTATE_RUNNING);
	hv_add(12, "7up", KEEL_DOMSTATE_PAUSED);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "web"), 1);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "3"), 1);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "12"), 2);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "7up"), 2);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "0"), 0);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "Domain-0"), 0);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "nope"), -ENOENT);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, "4"), -ENOENT);
	CHECK_EQ_INT(domain_find(hv.doms, hv.n_doms, ""), -ENOENT);
	memset(&d, 0, sizeof(d));
	d.state = KEEL_DOMSTATE_RUNNING;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "r-----");
	d.state = KEEL_DOMSTATE_BLOCKED;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "-b----");
	d.state = KEEL_DOMSTATE_PAUSED;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "--p---");
	d.state = KEEL_DOMSTATE_SHUTDOWN;
	d.shutdown_reason = KEEL_SHUTDOWN_POWEROFF;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "---s--");
	d.state = KEEL_DOMSTATE_CRASHED;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "----c-");
	d.state = KEEL_DOMSTATE_BUILDING;
	domain_state_str(&d, st);
	CHECK_EQ_STR(st, "------");
	CHECK_EQ_INT(domain_format_header(false, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Name                                ID    Mem VCPUs "
		     "State    Time(s)");
	hv.doms[0].cpu_time_ns = 12345678901ull;
	CHECK_EQ_INT(domain_format_row(&hv.doms[0], false, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Domain-0                             0   1024     1 "
		     "r-----      12.3");
	hv.doms[1].cpu_time_ns = 99999999ull;
	domain_format_row(&hv.doms[1], false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "web                                  3    128     1 "
		     "r-----       0.0");
	hv.doms[1].exits = 42;
	domain_format_row(&hv.doms[1], true, buf, sizeof(buf));
	CHECK(strstr(buf, "0.0         42         0  none") != NULL);
	CHECK_EQ_INT(domain_format_row(&hv.doms[1], false, buf, 10), -ENOSPC);
	CHECK_EQ_STR(domain_reason_name(KEEL_SHUTDOWN_REBOOT), "reboot");
}

/* domain.c: what keel shutdown/reboot -w make of a domain's entry. */
static void test_request_verdict(void)
{
	struct keel_dominfo d;

	memset(&d, 0, sizeof(d));
	CHECK_EQ_INT(domain_request_verdict(NULL), DOMAIN_REQUEST_DONE);
	d.state = KEEL_DOMSTATE_RUNNING;
	CHECK_EQ_INT(domain_request_verdict(&d), DOMAIN_REQUEST_PENDING);
	d.state = KEEL_DOMSTATE_BLOCKED;
	CHECK_EQ_INT(domain_request_verdict(&d), DOMAIN_REQUEST_PENDING);
	d.state = KEEL_DOMSTATE_PAUSED;
	CHECK_EQ_INT(domain_request_verdict(&d), DOMAIN_REQUEST_PENDING);
	d.state = KEEL_DOMSTATE_SHUTDOWN;
	d.shutdown_reason = KEEL_SHUTDOWN_POWEROFF;
	CHECK_EQ_INT(domain_request_verdict(&d), DOMAIN_REQUEST_DONE);
	d.state = KEEL_DOMSTATE_CRASHED;
	CHECK_EQ_INT(domain_request_verdict(&d), DOMAIN_REQUEST_CRASHED);
}

/* vif MAC addresses: derived ones are locally administered, unicast,
 * stable per name and index and distinct between guests; explicit ones
 * are parsed; bad ones are refused with a message. */
static void test_vif_mac(void)
{
	uint8_t a[6], b[6], c[6];
	char err[256];

	CHECK_EQ_INT(build_vif_mac("web", 0, "", a, err, sizeof(err)), 0);
	CHECK_EQ_INT(build_vif_mac("web", 0, "bridge=x", b, err, sizeof(err)), 0);
	CHECK(memcmp(a, b, 6) == 0);
	CHECK(a[0] == 0x02 && a[1] == 0x4b && a[2] == 0x45);
	CHECK_EQ_INT(build_vif_mac("web2", 0, "", c, err, sizeof(err)), 0);
	CHECK(memcmp(a, c, 6) != 0);
	CHECK_EQ_INT(build_vif_mac("web", 1, "", c, err, sizeof(err)), 0);
	CHECK(memcmp(a, c, 6) != 0);
	CHECK_EQ_INT(build_vif_mac("x", 0, "mac=02:11:22:33:44:5f,bridge=k", a,
				   err, sizeof(err)), 0);
	CHECK(a[0] == 0x02 && a[5] == 0x5f);
	CHECK_EQ_INT(build_vif_mac("x", 2, "mac=03:11:22:33:44:55", a, err,
				   sizeof(err)), -EINVAL);
	CHECK(strstr(err, "vif 2: bad MAC address") != NULL);
	CHECK_EQ_INT(build_vif_mac("x", 0, "mac=02:11:22", a, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_INT(build_vif_mac("x", 0, "mac=02:11:22:33:44:55x", a, err,
				   sizeof(err)), -EINVAL);
}

int main(void)
{
	test_vif_mac();
	make_files();
	close(mkstemp(image_path));
	make_image(image_path, IMAGE_BYTES);
	test_mem_e820();
	test_layout();
	test_cmdline();
	test_precheck();
	test_build_ok();
	test_build_failures();
	test_image_name();
	test_progress();
	test_build_disks();
	test_build_disk_failures();
	test_image_stale();
	test_build_big_image();
	test_domain_fmt();
	test_request_verdict();
	unlink(kernel_path);
	unlink(ramdisk_path);
	unlink(image_path);
	hv_reset();
	free(hv.ram);
	return harness_done("test_toolstack_build");
}
