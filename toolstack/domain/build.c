/*
 * Domain builder (see build.h): from a checked struct config to a started
 * guest. The pure part decides where the kernel, initrd, zero page and
 * command line go and what the guest's e820 and command line are; the
 * I/O part reads the images, asks the hypervisor (KEEL_HC_INFO and
 * KEEL_HC_DOMAIN_LIST) whether the domain can exist, then creates it,
 * adds its disks (uploading images in KEEL_HC_MAX_ARG pieces unless the
 * hypervisor has them already), copies everything in with
 * KEEL_HC_DOMAIN_MEMWRITE and starts vCPU 0 at the kernel's 32-bit entry.
 * Any failure after the create destroys the domain, so nothing half-made
 * remains.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "build.h"
#include "format.h"
#include "domain.h"
#include "hcall.h"

#define BUILD_MIB (1ull << 20)

/* Round @v up to a multiple of @align (a power of two). */
static uint64_t build_align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* printf into the error buffer; returns @ret for convenience. */
static int build_err(int ret, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return ret;
}

/* Guest RAM for a memory size in MiB; see build.h. */
uint64_t build_mem_bytes(uint32_t memory_mib)
{
	return build_align_up((uint64_t)memory_mib * BUILD_MIB,
			      BUILD_MEM_ALIGN_BYTES);
}

/* Place kernel, initrd, zero page and command line; see build.h. */
int build_layout(const struct linux_image *img, uint64_t mem_bytes,
		 uint64_t initrd_bytes, struct build_layout *out, char *err,
		 size_t err_len)
{
	uint64_t load = img->pref_address, size, top, need;

	if (load < BUILD_DEFAULT_LOAD_PA)
		load = BUILD_DEFAULT_LOAD_PA;
	load = build_align_up(load, img->kernel_alignment);
	size = img->init_size > img->payload_bytes ? img->init_size
						   : img->payload_bytes;
	memset(out, 0, sizeof(*out));
	out->mem_bytes = mem_bytes;
	out->kernel_pa = load;
	out->kernel_end = load + size;
	out->zero_page_pa = BUILD_ZERO_PAGE_PA;
	out->cmdline_pa = BUILD_CMDLINE_PA;
	out->initrd_bytes = initrd_bytes;
	need = build_align_up(out->kernel_end +
			      build_align_up(initrd_bytes, BUILD_PAGE_BYTES),
			      BUILD_MEM_ALIGN_BYTES);
	top = mem_bytes;
	if (initrd_bytes && top > (uint64_t)img->initrd_addr_max + 1)
		top = (uint64_t)img->initrd_addr_max + 1;
	if (initrd_bytes && top >= initrd_bytes)
		out->initrd_pa = (top - initrd_bytes) & ~(BUILD_PAGE_BYTES - 1);
	if (need > mem_bytes || (initrd_bytes && out->initrd_pa < out->kernel_end))
		return build_err(-ENOMEM, err, err_len, "memory %llu MiB is "
				 "too small for this kernel%s: need at least "
				 "%llu MiB", (unsigned long long)(mem_bytes >> 20),
				 initrd_bytes ? " and ramdisk" : "",
				 (unsigned long long)(need >> 20));
	return 0;
}

/* The guest's e820 map; see build.h. */
uint32_t build_e820(uint64_t mem_bytes, struct linux_e820_entry *out)
{
	out[0] = (struct linux_e820_entry){ 0, KEEL_GUEST_BIOS_START, LINUX_E820_RAM };
	out[1] = (struct linux_e820_entry){ KEEL_GUEST_BIOS_START,
				     KEEL_GUEST_RAM_HIGH_START -
				     KEEL_GUEST_BIOS_START, LINUX_E820_RESERVED };
	out[2] = (struct linux_e820_entry){ KEEL_GUEST_RAM_HIGH_START,
				     mem_bytes - KEEL_GUEST_RAM_HIGH_START,
				     LINUX_E820_RAM };
	return BUILD_E820_ENTRIES;
}

/* Append " <prefix><value>" to @buf at *@pos unless @value is empty. */
static int build_cmdline_add(char *buf, size_t len, size_t *pos,
			     const char *prefix, const char *value)
{
	int n;

	if (!value[0])
		return 0;
	n = snprintf(buf + *pos, len - *pos, "%s%s%s", *pos ? " " : "",
		     prefix, value);
	if (n < 0 || (size_t)n >= len - *pos)
		return -ENOSPC;
	*pos += (size_t)n;
	return 0;
}

/* Compose the guest command line; see build.h. */
int build_cmdline(const struct config *cfg, uint64_t tsc_khz, char *buf,
		  size_t len)
{
	char khz[24] = "";
	size_t pos = 0;
	int ret;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	if (tsc_khz)
		snprintf(khz, sizeof(khz), "%llu", (unsigned long long)tsc_khz);
	ret = build_cmdline_add(buf, len, &pos, "console=", "ttyS0");
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "tsc_early_khz=", khz);
	/* The guest's TSC is the host's, unscaled and the same on every vCPU,
	 * and its only other clock is jiffies, which lose ticks while the host
	 * is busy: without this, Linux's clocksource watchdog could judge the
	 * TSC against jiffies, find it "unstable" and fall back to jiffies
	 * (docs/config.md). */
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "tsc=", khz[0] ? "reliable" : "");
	/* A guest's PC has no AGP bridge and no GART, but Linux on an AMD CPU
	 * of family 0Fh-15h (what QEMU's max CPU reports) searches all 256
	 * PCI buses for one, twice, before its PCI code starts: 33,600 port
	 * accesses, each an exit, 0.6 s of a tiny guest's boot under TCG
	 * (bench/README.md). Nothing else in the early PCI pass applies to
	 * Keel's devices. */
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "pci=", "noearly");
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "hostname=", cfg->name);
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "root=", cfg->root);
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "", cfg->cmdline);
	if (!ret)
		ret = build_cmdline_add(buf, len, &pos, "", cfg->extra);
	return ret ? ret : (int)pos;
}

/* 64-bit FNV-1a of @len bytes at @data, continuing from hash @h. */
static uint64_t build_fnv1a64(const void *data, size_t len, uint64_t h)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define BUILD_FNV_OFFSET 0xcbf29ce484222325ull

/* True if @c may appear in an image name (as the hypervisor checks). */
static bool build_image_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == '+';
}

/* Name of the image for a file; see build.h. */
int build_image_name(const char *path, const char *real, uint64_t size,
		     int64_t mtime_sec, uint32_t mtime_nsec, char *buf,
		     size_t len)
{
	const char *base = strrchr(path, '/');
	char key[32 + PATH_MAX], stem[BUILD_IMAGE_BASE_CHARS + 1];
	uint32_t i;
	uint64_t h;
	int n;

	base = base ? base + 1 : path;
	for (i = 0; i < BUILD_IMAGE_BASE_CHARS && base[i]; i++)
		stem[i] = build_image_char(base[i]) ? base[i] : '_';
	stem[i] = '\0';
	if (!i) {
		stem[0] = '_';
		stem[1] = '\0';
	} else if (stem[0] == '.') {
		stem[0] = '_';
	}
	n = snprintf(key, sizeof(key), "%s|%llu|%lld.%09u", real,
		     (unsigned long long)size, (long long)mtime_sec, mtime_nsec);
	h = build_fnv1a64(key, n < 0 ? 0 : (size_t)n < sizeof(key) ?
			  (size_t)n : sizeof(key) - 1, BUILD_FNV_OFFSET);
	n = snprintf(buf, len, "%s-%016llx", stem, (unsigned long long)h);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Append " + <label> <MiB>" (or "<label> <MiB>" first) if @bytes != 0. */
static void build_mem_part(char *buf, size_t len, const char *label,
			   uint64_t bytes)
{
	size_t pos = strlen(buf);

	if (bytes)
		snprintf(buf + pos, len - pos, "%s%s %llu", pos ? " + " : "",
			 label, (unsigned long long)(bytes >> 20));
}

/* The "not enough free memory" message; see build.h. */
int build_mem_message(const struct build_mem_need *need, uint64_t free_bytes,
		      char *err, size_t err_len)
{
	uint64_t total = need->guest_bytes + need->disk_bytes +
			 need->image_bytes;
	char parts[160] = "";

	if (need->disk_bytes || need->image_bytes) {
		snprintf(parts, sizeof(parts), "guest %llu",
			 (unsigned long long)(need->guest_bytes >> 20));
		build_mem_part(parts, sizeof(parts), "disks", need->disk_bytes);
		build_mem_part(parts, sizeof(parts), need->nr_images > 1 ?
			       "images" : "image", need->image_bytes);
	}
	return build_err(-ENOMEM, err, err_len, "not enough free memory: need "
			 "%llu MiB%s%s%s, %llu MiB free",
			 (unsigned long long)(total >> 20), parts[0] ? " (" : "",
			 parts, parts[0] ? ")" : "",
			 (unsigned long long)(free_bytes >> 20));
}

/* Pre-create checks against the hypervisor's state; see build.h. */
int build_precheck(const struct config *cfg, const struct build_mem_need *need,
		   const struct keel_info *info,
		   const struct keel_dominfo *doms, uint32_t n, char *err,
		   size_t err_len)
{
	struct build_mem_need sure = *need;
	uint64_t mem_bytes = need->guest_bytes;
	uint32_t i, guests = 0;

	if (domain_find(doms, n, cfg->name) >= 0)
		return build_err(-EEXIST, err, err_len, "a domain named '%s' "
				 "already exists (see 'keel list'); start another "
				 "instance with name=<new name>, e.g. name=%s2",
				 cfg->name, cfg->name);
	if (cfg->vcpus > KEEL_DOMAIN_MAX_VCPUS)
		return build_err(-EINVAL, err, err_len, "%u vCPUs requested, "
				 "at most %u are supported", cfg->vcpus,
				 KEEL_DOMAIN_MAX_VCPUS);
	if (cfg->vcpus > info->cpus_pool)
		return build_err(-EINVAL, err, err_len, "%u vCPU%s requested, "
				 "the guest pool has %u CPU%s", cfg->vcpus,
				 cfg->vcpus == 1 ? "" : "s", info->cpus_pool,
				 info->cpus_pool == 1 ? "" : "s");
	if (cfg->maxvcpus > info->cpus_pool)
		return build_err(-EINVAL, err, err_len, "maxvcpus = %u, but the guest pool "
				 "has %u CPU%s", cfg->maxvcpus, info->cpus_pool,
				 info->cpus_pool == 1 ? "" : "s");
	if (mem_bytes < KEEL_DOMAIN_MIN_MEM_BYTES ||
	    mem_bytes > KEEL_DOMAIN_MAX_MEM_BYTES)
		return build_err(-EINVAL, err, err_len, "memory %llu MiB is "
				 "outside %llu..%llu MiB",
				 (unsigned long long)(mem_bytes >> 20),
				 KEEL_DOMAIN_MIN_MEM_BYTES >> 20,
				 KEEL_DOMAIN_MAX_MEM_BYTES >> 20);
	for (i = 0; i < n; i++)
		guests += doms[i].domid != 0;
	if (guests) { /* the images may be loaded for those guests */
		sure.image_bytes = 0;
		sure.nr_images = 0;
	}
	if (sure.ram_shared) /* a clone's RAM is its source's until written */
		sure.guest_bytes = 0;
	if (sure.guest_bytes + sure.disk_bytes + sure.image_bytes >
	    info->mem_pool_free_bytes)
		return build_mem_message(&sure, info->mem_pool_free_bytes, err,
					 err_len);
	return 0;
}

/* ---- I/O part ---- */

/* A file: disk as checked before the create. */
struct build_image {
	uint64_t bytes;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	char name[KEEL_IMAGE_NAME_BYTES];
};

/* Images and metadata of one build, freed by build_release(). */
struct build_job {
	struct build_image images[KEEL_DOMAIN_MAX_DISKS]; /* by slot */
	struct build_mem_need need; /* images counted as if all uploaded */
	uint8_t *kernel;
	uint64_t kernel_bytes;
	uint8_t *initrd;
	uint64_t initrd_bytes;
	struct linux_image img;
	struct build_layout lay;
	char cmdline[4096];
	uint8_t zero_page[LINUX_ZERO_PAGE_BYTES];
};

/* Read the whole file @path (what: "kernel"/"ramdisk") into *@out. */
static int build_read_file(const char *what, const char *path, uint8_t **out,
			   uint64_t *size, char *err, size_t err_len)
{
	struct stat st;
	uint64_t done = 0;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		return build_err(-e, err, err_len, "cannot read %s '%s': %s",
				 what, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > BUILD_MAX_FILE_BYTES) {
		close(fd);
		return build_err(-EINVAL, err, err_len, "%s '%s' is not a "
				 "regular file of 1 byte to 1 GiB", what, path);
	}
	*out = malloc((size_t)st.st_size);
	if (!*out) {
		close(fd);
		return build_err(-ENOMEM, err, err_len, "out of memory reading "
				 "%s '%s'", what, path);
	}
	while (done < (uint64_t)st.st_size) {
		ssize_t r = read(fd, *out + done, (size_t)st.st_size - done);

		if (r <= 0) {
			e = r < 0 ? errno : EIO;
			close(fd);
			return build_err(-e, err, err_len, "cannot read %s "
					 "'%s': %s", what, path, strerror(e));
		}
		done += (uint64_t)r;
	}
	close(fd);
	*size = done;
	return 0;
}

/* Free what a build job holds. */
static void build_release(struct build_job *job)
{
	free(job->kernel);
	free(job->initrd);
	job->kernel = job->initrd = NULL;
}

/* Read and check the images, lay out memory, compose the boot data. */
static int build_prepare(const struct config *cfg, uint64_t tsc_khz,
			 struct build_job *job, char *err, size_t err_len)
{
	struct linux_e820_entry e820[BUILD_E820_ENTRIES];
	struct linux_boot_params bp;
	int ret, len;

	ret = build_read_file("kernel", cfg->kernel, &job->kernel,
			      &job->kernel_bytes, err, err_len);
	if (!ret && cfg->ramdisk[0])
		ret = build_read_file("ramdisk", cfg->ramdisk, &job->initrd,
				      &job->initrd_bytes, err, err_len);
	if (ret)
		return ret;
	ret = linux_parse(job->kernel, job->kernel_bytes, &job->img);
	if (ret)
		return build_err(-EINVAL, err, err_len, "kernel '%s' is not a "
				 "Linux bzImage%s", cfg->kernel, ret == -ENOSYS ?
				 " of boot protocol 2.12 or later" : "");
	ret = build_layout(&job->img, build_mem_bytes(cfg->memory_mib),
			   job->initrd_bytes, &job->lay, err, err_len);
	if (ret)
		return ret;
	len = build_cmdline(cfg, tsc_khz, job->cmdline, sizeof(job->cmdline));
	if (len < 0 || (uint32_t)len > job->img.cmdline_size)
		return build_err(-E2BIG, err, err_len, "the kernel command line "
				 "is too long (this kernel takes %u bytes)",
				 job->img.cmdline_size);
	memset(&bp, 0, sizeof(bp));
	bp.load_addr = job->lay.kernel_pa;
	bp.cmdline_pa = job->lay.cmdline_pa;
	bp.initrd_pa = job->lay.initrd_pa;
	bp.initrd_bytes = job->lay.initrd_bytes;
	bp.e820 = e820;
	bp.n_e820 = build_e820(job->lay.mem_bytes, e820);
	ret = linux_build_zero_page(job->zero_page, job->kernel, &bp);
	if (ret)
		return build_err(ret, err, err_len, "cannot build the zero page");
	return 0;
}

/* ---- disks ---- */

/* Where upload progress goes (NULL: stderr); tests point it elsewhere. */
static FILE *build_progress_file;

/* Check the file: disk @path and fill @im (size, mtime, image name). */
static int build_image_check(const char *path, struct build_image *im,
			     char *err, size_t err_len)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return build_err(-ENOENT, err, err_len, "disk image "
					 "'%s' not found", path);
		return build_err(-errno, err, err_len, "cannot read disk image "
				 "'%s': %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return build_err(-EINVAL, err, err_len, "disk image '%s' is not "
				 "a regular file", path);
	if (st.st_size <= 0 || st.st_size % 512)
		return build_err(-EINVAL, err, err_len, "disk image '%s' is "
				 "%lld bytes, not a positive multiple of 512",
				 path, (long long)st.st_size);
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	im->bytes = (uint64_t)st.st_size;
	im->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	im->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	return build_image_name(path, real, im->bytes, im->mtime_sec,
				im->mtime_nsec, im->name, sizeof(im->name));
}

/* The image names of @cfg's file: disks; see build.h. */
int build_image_names(const struct config *cfg,
		      char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES],
		      char *err, size_t err_len)
{
	struct build_image im;
	uint32_t i;
	int ret;

	memset(names, 0, KEEL_DOMAIN_MAX_DISKS * KEEL_IMAGE_NAME_BYTES);
	for (i = 0; i < cfg->nr_disks && i < KEEL_DOMAIN_MAX_DISKS; i++) {
		if (cfg->disks[i].kind == CONFIG_DISK_RAM)
			continue;
		ret = build_image_check(cfg->disks[i].path, &im, err, err_len);
		if (ret)
			return ret;
		snprintf(names[i], KEEL_IMAGE_NAME_BYTES, "%s", im.name);
	}
	return 0;
}

/* Check every disk of @cfg and add up what they need into job->need
 * (each distinct image once, as if it had to be uploaded). */
static int build_disks_check(const struct config *cfg, struct build_job *job,
			     char *err, size_t err_len)
{
	uint32_t i, j;
	int ret;

	job->need.guest_bytes = build_mem_bytes(cfg->memory_mib);
	for (i = 0; i < cfg->nr_disks; i++) {
		const struct config_disk *d = &cfg->disks[i];
		bool seen = false;

		if (d->kind == CONFIG_DISK_RAM) {
			job->need.disk_bytes += d->ram_bytes;
			continue;
		}
		ret = build_image_check(d->path, &job->images[i], err, err_len);
		if (ret)
			return ret;
		for (j = 0; j < i; j++)
			seen |= !strcmp(job->images[j].name, job->images[i].name);
		if (!seen) {
			job->need.image_bytes += build_align_up(
				job->images[i].bytes, BUILD_MEM_ALIGN_BYTES);
			job->need.nr_images++;
		}
	}
	return 0;
}

/* Report progress; see build.h. */
void build_progress(FILE *f, bool tty, const char *verb, const char *base, uint64_t done,
		    uint64_t total, int *last)
{
	int pct;

	if (total <= BUILD_PROGRESS_MIN_BYTES)
		return;
	if (!tty) {
		if (*last < 0)
			fprintf(f, "%s %s (%llu MiB)\n", verb, base,
				(unsigned long long)((total + BUILD_MIB - 1) >> 20));
		*last = 0;
		return;
	}
	pct = (int)(done * 100 / total);
	if (pct == *last)
		return;
	*last = pct;
	fprintf(f, "\r%s %s: %d%%%s", verb, base, pct, done == total ? "\n" : "");
	fflush(f);
}

/* Read exactly @len bytes at @off of @fd into @dst; -errno, or -ESTALE
 * if the file is shorter than it was. */
static int build_pread_all(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, dst + done, (size_t)(len - done),
				  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ESTALE;
		done += (uint64_t)r;
	}
	return 0;
}

/* Send the open file @fd (image @im) to image @id in KEEL_HC_IMAGE_WRITE
 * pieces through @buf (KEEL_HC_MAX_ARG bytes), reporting progress as
 * @base. Returns 0; -errno/-ESTALE for read errors with *@hc false; or the
 * hypercall's error with *@hc true. */
static int build_image_send(int fd, const struct build_image *im, uint32_t id,
			    const char *base, uint8_t *buf, bool *hc)
{
	const uint64_t piece = KEEL_HC_MAX_ARG - sizeof(struct keel_image_write);
	struct keel_image_write *w = (struct keel_image_write *)(void *)buf;
	FILE *pf = build_progress_file ? build_progress_file : stderr;
	bool tty = isatty(fileno(pf));
	uint64_t off = 0, len;
	int ret, last = -1;

	*hc = false;
	build_progress(pf, tty, "uploading", base, 0, im->bytes, &last);
	while (off < im->bytes) {
		len = im->bytes - off < piece ? im->bytes - off : piece;
		ret = build_pread_all(fd, (uint8_t *)(w + 1), len, off);
		if (ret)
			return ret;
		w->image_id = id;
		w->len = (uint32_t)len;
		w->offset = off;
		ret = keel_hypercall(KEEL_HC_IMAGE_WRITE, buf, sizeof(*w) + len);
		if (ret < 0) {
			*hc = true;
			return ret;
		}
		off += len;
		build_progress(pf, tty, "uploading", base, off, im->bytes, &last);
	}
	return 0;
}

/* Upload file @path, checked as @im, to image @id, then mark it complete
 * with KEEL_HC_IMAGE_DONE. @buf has KEEL_HC_MAX_ARG bytes. */
static int build_image_upload(const char *path, const struct build_image *im,
			      uint32_t id, uint8_t *buf, char *err,
			      size_t err_len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct keel_image_done dn;
	struct stat st;
	bool hc = false;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return build_err(-errno, err, err_len, "cannot read disk image "
				 "'%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != im->bytes ||
	    (int64_t)st.st_mtim.tv_sec != im->mtime_sec ||
	    (uint32_t)st.st_mtim.tv_nsec != im->mtime_nsec)
		ret = -ESTALE;
	if (!ret)
		ret = build_image_send(fd, im, id, base, buf, &hc);
	close(fd);
	if (ret == -ESTALE && !hc)
		return build_err(ret, err, err_len, "disk image '%s' changed "
				 "while it was being read; try again", path);
	if (ret)
		return build_err(ret, err, err_len, "%s '%s': %s", hc ?
				 "KEEL_HC_IMAGE_WRITE failed for" :
				 "cannot read disk image", path, strerror(-ret));
	memset(&dn, 0, sizeof(dn));
	dn.image_id = id;
	ret = keel_hypercall(KEEL_HC_IMAGE_DONE, &dn, sizeof(dn));
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_IMAGE_DONE failed "
				 "for '%s': %s", path, strerror(-ret));
	return 0;
}

/* KEEL_HC_DOMAIN_DISK_ADD of @kind to @domid (@image_id or @ram_bytes);
 * the disk must get slot @slot. */
static int build_disk_add(uint32_t domid, uint32_t slot, uint32_t kind,
			  uint32_t image_id, uint64_t ram_bytes, char *err,
			  size_t err_len)
{
	struct keel_disk_add add;
	int ret;

	memset(&add, 0, sizeof(add));
	add.domid = domid;
	add.kind = kind;
	add.image_id = image_id;
	add.ram_bytes = ram_bytes;
	ret = keel_hypercall(KEEL_HC_DOMAIN_DISK_ADD, &add, sizeof(add));
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_DISK_ADD "
				 "failed for xvd%c: %s", 'a' + slot,
				 strerror(-ret));
	if (add.slot != slot)
		return build_err(-EPROTO, err, err_len, "KEEL_HC_DOMAIN_DISK_ADD "
				 "gave disk xvd%c slot %u", 'a' + slot, add.slot);
	return 0;
}

/* Open the image of file: disk @slot of @cfg, upload it if the hypervisor
 * lacks it (counting it into @uploads), and add it to @domid. @free is
 * the pool's free memory before the create, for the ENOMEM message. */
static int build_disk_image(uint32_t domid, uint32_t slot,
			    const struct config *cfg, const struct build_job *job,
			    struct build_mem_need *uploads, uint64_t free_bytes,
			    uint8_t *buf, char *err, size_t err_len)
{
	const struct build_image *im = &job->images[slot];
	const char *path = cfg->disks[slot].path;
	struct keel_image_open op;
	int ret;

	memset(&op, 0, sizeof(op));
	snprintf(op.name, sizeof(op.name), "%s", im->name);
	op.bytes = im->bytes;
	ret = keel_hypercall(KEEL_HC_IMAGE_OPEN, &op, sizeof(op));
	if (ret == -KEEL_ENOMEM) {
		uploads->image_bytes += build_align_up(im->bytes,
						       BUILD_MEM_ALIGN_BYTES);
		uploads->nr_images++;
		return build_mem_message(uploads, free_bytes, err, err_len);
	}
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_IMAGE_OPEN failed "
				 "for '%s': %s", path, strerror(-ret));
	if (!(op.flags & KEEL_IMAGE_EXISTS)) {
		uploads->image_bytes += build_align_up(im->bytes,
						       BUILD_MEM_ALIGN_BYTES);
		uploads->nr_images++;
		ret = build_image_upload(path, im, op.image_id, buf, err,
					 err_len);
		if (ret)
			return ret;
	}
	return build_disk_add(domid, slot, KEEL_DISK_IMAGE, op.image_id, 0, err,
			      err_len);
}

/* Add every disk of @cfg to @domid in slot order (xvda first). */
static int build_disks_add(uint32_t domid, const struct config *cfg,
			   const struct build_job *job, uint64_t free_bytes,
			   char *err, size_t err_len)
{
	struct build_mem_need uploads = job->need;
	uint8_t *buf = NULL;
	uint32_t i;
	int ret = 0;

	uploads.image_bytes = 0;
	uploads.nr_images = 0;
	for (i = 0; !ret && i < cfg->nr_disks; i++) {
		const struct config_disk *d = &cfg->disks[i];

		if (d->kind == CONFIG_DISK_RAM) {
			ret = build_disk_add(domid, i, KEEL_DISK_RAM, 0,
					     d->ram_bytes, err, err_len);
			continue;
		}
		if (!buf && !(buf = malloc(KEEL_HC_MAX_ARG)))
			return build_err(-ENOMEM, err, err_len, "out of memory");
		ret = build_disk_image(domid, i, cfg, job, &uploads, free_bytes,
				       buf, err, err_len);
	}
	free(buf);
	return ret;
}

/*
 * The MAC address of vif number @index of domain @name. @item is the vif
 * entry ("" or "mac=aa:bb:cc:dd:ee:ff[,...]"); without mac= the address
 * is derived from the name and index under the locally administered
 * prefix 02:4b:45 ("KE"), so it is unique per guest and stable across
 * restarts of the same name. Returns 0 or -EINVAL (message in @err).
 */
int build_vif_mac(const char *name, uint32_t index, const char *item,
		  uint8_t mac[6], char *err, size_t err_len)
{
	const char *m = strstr(item, "mac=");
	unsigned int b[6];
	char key[96];
	uint64_t h;
	int n, i;

	if (m) {
		if (sscanf(m + 4, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
			   &b[3], &b[4], &b[5], &n) != 6 ||
		    (m[4 + n] && m[4 + n] != ',') || (b[0] & 1))
			return build_err(-EINVAL, err, err_len, "vif %u: bad "
					 "MAC address in '%s' (use mac=02:xx:xx:"
					 "xx:xx:xx, a unicast address)", index,
					 item);
		for (i = 0; i < 6; i++)
			mac[i] = (uint8_t)b[i];
		return 0;
	}
	n = snprintf(key, sizeof(key), "%s#%u", name, index);
	h = build_fnv1a64(key, (size_t)n, BUILD_FNV_OFFSET);
	mac[0] = 0x02;
	mac[1] = 0x4b;
	mac[2] = 0x45;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
	return 0;
}

/* Give @domid one virtio-net interface per vif entry (eth0 first). */
static int build_nics_add(uint32_t domid, const struct config *cfg,
			  char *err, size_t err_len)
{
	uint32_t i;

	if (cfg->vif.n > KEEL_DOMAIN_MAX_NICS)
		return build_err(-EINVAL, err, err_len, "%u vifs given, at most "
				 "%u are supported", cfg->vif.n,
				 KEEL_DOMAIN_MAX_NICS);
	for (i = 0; i < cfg->vif.n; i++) {
		struct keel_nic_add add;
		int ret;

		memset(&add, 0, sizeof(add));
		add.domid = domid;
		ret = build_vif_mac(cfg->name, i, cfg->vif.items[i], add.mac,
				    err, err_len);
		if (ret)
			return ret;
		ret = keel_hypercall(KEEL_HC_DOMAIN_NIC_ADD, &add, sizeof(add));
		if (ret < 0)
			return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_NIC_ADD"
					 " failed: %s", strerror(-ret));
	}
	return 0;
}

/* Set @domid's weight, cap and pool CPUs (cpu_weight, cap, cpus; see
 * docs/config.md) when the config gives any, before it starts. */
static int build_sched(uint32_t domid, const struct config *cfg,
		       const struct keel_info *info, char *err, size_t err_len)
{
	struct keel_domain_sched sc;
	char pool[128];
	uint64_t mask = 0;
	int ret;

	if (cfg->cpu_weight == CONFIG_DEFAULT_WEIGHT && !cfg->cap && !cfg->cpus[0])
		return 0;
	if (cfg->cpus[0] && (fmt_parse_cpu_list(cfg->cpus, &mask) ||
			     !(mask & info->cpu_mask_pool))) {
		fmt_cpu_list(info->cpu_mask_pool, pool, sizeof(pool));
		return build_err(-EINVAL, err, err_len, "cpus = '%s': none of "
				 "these CPUs runs guests; the guests' pool is "
				 "CPUs %s here (see 'keel info')", cfg->cpus,
				 pool[0] ? pool : "(none)");
	}
	memset(&sc, 0, sizeof(sc));
	sc.domid = domid;
	sc.op = KEEL_SCHED_SET;
	sc.weight = cfg->cpu_weight;
	sc.cap = cfg->cap;
	sc.cpumask = mask & info->cpu_mask_pool;
	ret = keel_hypercall(KEEL_HC_DOMAIN_SCHED, &sc, sizeof(sc));
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_SCHED failed: %s",
				 strerror(-ret));
	return 0;
}

/* Ask the hypervisor whether the domain can exist (KEEL_HC_INFO, LIST). */
static int build_ask(const struct config *cfg,
		     const struct build_mem_need *need, struct keel_info *info,
		     char *err, size_t err_len)
{
	struct keel_dominfo *doms;
	uint32_t n;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = keel_hypercall(KEEL_HC_INFO, info, sizeof(*info));
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_INFO failed: %s",
				 strerror(-ret));
	ret = domain_list_get(&doms, &n);
	if (ret)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_LIST "
				 "failed: %s", strerror(-ret));
	ret = build_precheck(cfg, need, info, doms, n, err, err_len);
	free(doms);
	return ret;
}

/* Copy @len bytes of @data to guest-physical @gpa of @domid in chunks. */
static int build_memwrite(uint32_t domid, uint64_t gpa, const void *data,
			  uint64_t len, uint8_t *buf)
{
	const uint64_t chunk_max = KEEL_HC_MAX_ARG - sizeof(struct keel_memwrite);
	struct keel_memwrite *mw = (struct keel_memwrite *)(void *)buf;
	uint64_t done = 0;

	while (done < len) {
		uint64_t chunk = len - done < chunk_max ? len - done : chunk_max;
		int ret;

		mw->domid = domid;
		mw->len = (uint32_t)chunk;
		mw->gpa = gpa + done;
		memcpy(mw + 1, (const uint8_t *)data + done, chunk);
		ret = keel_hypercall(KEEL_HC_DOMAIN_MEMWRITE, buf,
				     sizeof(*mw) + chunk);
		if (ret < 0)
			return ret;
		done += chunk;
	}
	return 0;
}

/* Load kernel, initrd, command line and zero page, then start vCPU 0. */
static int build_load_start(uint32_t domid, const struct build_job *job,
			    char *err, size_t err_len)
{
	struct keel_domain_start st;
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	int ret;

	if (!buf)
		return build_err(-ENOMEM, err, err_len, "out of memory");
	ret = build_memwrite(domid, job->lay.kernel_pa,
			     job->kernel + job->img.setup_bytes,
			     job->img.payload_bytes, buf);
	if (!ret && job->initrd_bytes)
		ret = build_memwrite(domid, job->lay.initrd_pa, job->initrd,
				     job->initrd_bytes, buf);
	if (!ret)
		ret = build_memwrite(domid, job->lay.cmdline_pa, job->cmdline,
				     strlen(job->cmdline) + 1, buf);
	if (!ret)
		ret = build_memwrite(domid, job->lay.zero_page_pa,
				     job->zero_page, sizeof(job->zero_page), buf);
	free(buf);
	if (ret)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_MEMWRITE "
				 "failed: %s", strerror(-ret));
	memset(&st, 0, sizeof(st));
	st.domid = domid;
	st.rip = job->lay.kernel_pa;
	st.rsi = job->lay.zero_page_pa;
	ret = keel_hypercall(KEEL_HC_DOMAIN_START, &st, sizeof(st));
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_START "
				 "failed: %s", strerror(-ret));
	return 0;
}

/* Make KEEL_HC_DOMAIN_CLONE of @src for @cfg; @domid receives the id. */
static int build_clone(const struct config *cfg, uint32_t src, uint32_t *domid, char *err,
		       size_t err_len)
{
	struct keel_domain_clone cl;
	int ret;

	memset(&cl, 0, sizeof(cl));
	snprintf(cl.name, sizeof(cl.name), "%s", cfg->name);
	cl.src_domid = src;
	ret = keel_hypercall(KEEL_HC_DOMAIN_CLONE, &cl, sizeof(cl));
	if (ret == -KEEL_EEXIST)
		return build_err(ret, err, err_len, "a domain named '%s' already exists",
				 cfg->name);
	if (ret == -KEEL_EBUSY)
		return build_err(ret, err, err_len, "domain %u is not a paused, running guest",
				 src);
	if (ret == -KEEL_ENOMEM)
		return build_err(ret, err, err_len, "not enough free memory for the clone's "
				 "page tables and devices; stop a guest");
	if (ret == -KEEL_ENOSPC)
		return build_err(ret, err, err_len, "Keel runs at most %u guests at once (or "
				 "255 domains share some of its memory already); destroy a guest "
				 "first", KEEL_MAX_DOMAINS - 1);
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_CLONE failed: %s",
				 strerror(-ret));
	*domid = cl.domid;
	return 0;
}

/* Make KEEL_HC_DOMAIN_CREATE for @cfg; @domid receives the id. */
static int build_create(const struct config *cfg, uint64_t mem_bytes,
			uint32_t *domid, char *err, size_t err_len)
{
	struct keel_domain_create cr;
	int ret;

	memset(&cr, 0, sizeof(cr));
	snprintf(cr.name, sizeof(cr.name), "%s", cfg->name);
	cr.mem_bytes = mem_bytes;
	cr.nr_vcpus = cfg->vcpus;
	cr.max_vcpus = cfg->maxvcpus;
	ret = keel_hypercall(KEEL_HC_DOMAIN_CREATE, &cr, sizeof(cr));
	if (ret == -KEEL_EEXIST)
		return build_err(ret, err, err_len, "a domain named '%s' "
				 "already exists", cfg->name);
	if (ret == -KEEL_ENOMEM)
		return build_err(ret, err, err_len, "not enough free memory for "
				 "%llu MiB of guest RAM: the hypervisor takes it in "
				 "2 MiB pieces and needs some more for the domain "
				 "itself; choose less memory, or stop a guest",
				 (unsigned long long)(mem_bytes >> 20));
	if (ret == -KEEL_ENOSPC)
		return build_err(ret, err, err_len, "Keel runs at most %u guests at once; "
				 "destroy one first", KEEL_MAX_DOMAINS - 1);
	if (ret < 0)
		return build_err(ret, err, err_len, "KEEL_HC_DOMAIN_CREATE "
				 "failed: %s", strerror(-ret));
	*domid = cr.domid;
	return 0;
}

/* Build and start a domain; see build.h. */
int build_domain(const struct config *cfg, uint32_t *domid, char *err,
		 size_t err_len)
{
	return build_domain_loaded(cfg, NULL, domid, err, err_len);
}

/* Build a domain and fill and start it with @ld, or boot its kernel
 * without; see build.h. */
int build_domain_loaded(const struct config *cfg, const struct build_loader *ld,
			uint32_t *domid, char *err, size_t err_len)
{
	struct build_job *job = calloc(1, sizeof(*job));
	struct keel_info info;
	uint32_t id = 0;
	int ret;

	if (!job)
		return build_err(-ENOMEM, err, err_len, "out of memory");
	ret = build_disks_check(cfg, job, err, err_len);
	job->need.ram_shared = ld && ld->clone;
	if (!ret)
		ret = build_ask(cfg, &job->need, &info, err, err_len);
	if (!ret && !ld)
		ret = build_prepare(cfg, info.tsc_khz, job, err, err_len);
	if (!ret && ld)
		job->lay.mem_bytes = build_mem_bytes(cfg->memory_mib);
	if (!ret && ld && ld->clone)
		ret = build_clone(cfg, ld->clone_src, &id, err, err_len);
	else if (!ret)
		ret = build_create(cfg, job->lay.mem_bytes, &id, err, err_len);
	if (!ret) {
		ret = build_disks_add(id, cfg, job, info.mem_pool_free_bytes,
				      err, err_len);
		if (!ret)
			ret = build_nics_add(id, cfg, err, err_len);
		if (!ret)
			ret = build_sched(id, cfg, &info, err, err_len);
		if (!ret)
			ret = ld ? ld->load(id, ld->ctx, err, err_len) :
				   build_load_start(id, job, err, err_len);
		if (ret)
			domain_ctl(id, KEEL_DOMCTL_DESTROY);
	}
	build_release(job);
	free(job);
	if (!ret)
		*domid = id;
	return ret;
}

/* Copy @len bytes of @data to guest-physical @gpa of @domid; see build.h. */
int build_memwrite_to(uint32_t domid, uint64_t gpa, const void *data, uint64_t len)
{
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = build_memwrite(domid, gpa, data, len, buf);
	free(buf);
	return ret;
}
