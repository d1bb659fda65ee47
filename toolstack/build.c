/*
 * Domain builder (see build.h): from a checked struct config to a started
 * guest. The pure part decides where the kernel, initrd, zero page and
 * command line go and what the guest's e820 and command line are; the
 * I/O part reads the images, asks the hypervisor (KEEL_HC_INFO and
 * KEEL_HC_DOMAIN_LIST) whether the domain can exist, then creates it,
 * copies everything in with KEEL_HC_DOMAIN_MEMWRITE and starts vCPU 0 at
 * the kernel's 32-bit entry. Any failure after the create destroys the
 * domain, so nothing half-made remains.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/linux_boot.h>

#include "build.h"
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
uint32_t build_e820(uint64_t mem_bytes, struct mem_range *out)
{
	out[0] = (struct mem_range){ 0, KEEL_GUEST_BIOS_START, E820_RAM };
	out[1] = (struct mem_range){ KEEL_GUEST_BIOS_START,
				     KEEL_GUEST_RAM_HIGH_START -
				     KEEL_GUEST_BIOS_START, E820_RESERVED };
	out[2] = (struct mem_range){ KEEL_GUEST_RAM_HIGH_START,
				     mem_bytes - KEEL_GUEST_RAM_HIGH_START,
				     E820_RAM };
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

/* Pre-create checks against the hypervisor's state; see build.h. */
int build_precheck(const struct config *cfg, uint64_t mem_bytes,
		   const struct keel_info *info,
		   const struct keel_dominfo *doms, uint32_t n, char *err,
		   size_t err_len)
{
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
	if (mem_bytes < KEEL_DOMAIN_MIN_MEM_BYTES ||
	    mem_bytes > KEEL_DOMAIN_MAX_MEM_BYTES)
		return build_err(-EINVAL, err, err_len, "memory %llu MiB is "
				 "outside %llu..%llu MiB",
				 (unsigned long long)(mem_bytes >> 20),
				 KEEL_DOMAIN_MIN_MEM_BYTES >> 20,
				 KEEL_DOMAIN_MAX_MEM_BYTES >> 20);
	if (mem_bytes > info->mem_pool_free_bytes)
		return build_err(-ENOMEM, err, err_len, "not enough free "
				 "memory: need %llu MiB, %llu MiB free",
				 (unsigned long long)(mem_bytes >> 20),
				 (unsigned long long)(info->mem_pool_free_bytes
						      >> 20));
	return 0;
}

/* ---- I/O part ---- */

/* Images and metadata of one build, freed by build_release(). */
struct build_job {
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
	struct mem_range e820[BUILD_E820_ENTRIES];
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

/* Ask the hypervisor whether the domain can exist (KEEL_HC_INFO, LIST). */
static int build_ask(const struct config *cfg, struct keel_info *info,
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
	ret = build_precheck(cfg, build_mem_bytes(cfg->memory_mib), info, doms,
			     n, err, err_len);
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
	ret = keel_hypercall(KEEL_HC_DOMAIN_CREATE, &cr, sizeof(cr));
	if (ret == -KEEL_EEXIST)
		return build_err(ret, err, err_len, "a domain named '%s' "
				 "already exists", cfg->name);
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
	struct build_job *job = calloc(1, sizeof(*job));
	struct keel_info info;
	uint32_t id = 0;
	int ret;

	if (!job)
		return build_err(-ENOMEM, err, err_len, "out of memory");
	ret = build_ask(cfg, &info, err, err_len);
	if (!ret)
		ret = build_prepare(cfg, info.tsc_khz, job, err, err_len);
	if (!ret)
		ret = build_create(cfg, job->lay.mem_bytes, &id, err, err_len);
	if (!ret) {
		ret = build_load_start(id, job, err, err_len);
		if (ret)
			domain_ctl(id, KEEL_DOMCTL_DESTROY);
	}
	build_release(job);
	free(job);
	if (!ret)
		*domid = id;
	return ret;
}
