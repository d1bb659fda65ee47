/*
 * Reads the Multiboot v1 information the boot loader left in memory and
 * copies the command line, the memory map and the module list into a
 * struct boot_info owned by the hypervisor. Physical addresses are turned
 * into pointers by a caller-supplied function, so this code runs equally
 * in the early hypervisor and in host unit tests.
 */
#include <stddef.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/memmap.h>
#include <keel/multiboot.h>

#define MB_MMAP_ENTRY_MIN_BYTES 20 /* base, length, type */
#define MB_KIB_BYTES 1024ull
#define MB_HIGH_MEM_BASE 0x100000ull

/* Copy the string at physical pa (an empty one if pa is 0) into dst, at
 * most size - 1 chars, NUL-terminated. 0, or -EFAULT if p2v fails. */
static int mb_copy_string(uint64_t pa, void *(*p2v)(uint64_t pa, void *ctx),
			  void *ctx, char *dst, size_t size)
{
	const char *src = pa ? p2v(pa, ctx) : "";
	size_t i = 0;

	if (src == NULL)
		return -EFAULT;
	while (i < size - 1 && src[i] != '\0') {
		dst[i] = src[i];
		i++;
	}
	dst[i] = '\0';
	return 0;
}

/* Append a firmware map range to out, or extend the last one when this
 * one continues it with the same type (EFI maps list many neighbours).
 * 0, or -E2BIG when BOOT_INFO_MAX_RANGES are used. */
int boot_info_add_range(struct boot_info *out, uint64_t base, uint64_t len,
			uint32_t type)
{
	struct mem_range *last = out->nr_ranges ? &out->ranges[out->nr_ranges - 1] : NULL;

	if (last && last->type == type && last->base + last->len == base && len) {
		last->len += len;
		return 0;
	}
	if (out->nr_ranges >= BOOT_INFO_MAX_RANGES)
		return -E2BIG;
	out->ranges[out->nr_ranges].base = base;
	out->ranges[out->nr_ranges].len = len;
	out->ranges[out->nr_ranges].type = type;
	out->nr_ranges++;
	return 0;
}

/* Walks the entries; each starts size + 4 bytes after the previous one. */
static int mb_parse_mmap(const struct multiboot_info *mbi,
			 void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
			 struct boot_info *out)
{
	uint64_t off = 0;

	while (off + sizeof(uint32_t) + MB_MMAP_ENTRY_MIN_BYTES <=
	       mbi->mmap_length) {
		const struct multiboot_mmap_entry *e =
			p2v((uint64_t)mbi->mmap_addr + off, ctx);
		int err;

		if (e == NULL)
			return -EFAULT;
		if (e->size < MB_MMAP_ENTRY_MIN_BYTES)
			return -EINVAL;
		err = boot_info_add_range(out, e->base_addr, e->length, e->type);
		if (err)
			return err;
		off += (uint64_t)e->size + sizeof(uint32_t);
	}
	return 0;
}

/* Builds the map from mem_lower/mem_upper when there is no real map. */
static int mb_parse_basic_mem(const struct multiboot_info *mbi,
			      struct boot_info *out)
{
	int err = 0;

	if (mbi->mem_lower)
		err = boot_info_add_range(out, 0, mbi->mem_lower * MB_KIB_BYTES,
				   E820_RAM);
	if (!err && mbi->mem_upper)
		err = boot_info_add_range(out, MB_HIGH_MEM_BASE,
				   mbi->mem_upper * MB_KIB_BYTES, E820_RAM);
	return err;
}

static int mb_parse_modules(const struct multiboot_info *mbi,
			    void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
			    struct boot_info *out)
{
	if (mbi->mods_count > BOOT_INFO_MAX_MODULES)
		return -E2BIG;
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		const struct multiboot_module *m =
			p2v((uint64_t)mbi->mods_addr +
				    i * sizeof(struct multiboot_module), ctx);
		struct boot_module *bm = &out->modules[i];
		int err;

		if (m == NULL)
			return -EFAULT;
		if (m->mod_end < m->mod_start)
			return -EINVAL;
		bm->start = m->mod_start;
		bm->end = m->mod_end;
		err = mb_copy_string(m->string, p2v, ctx, bm->string,
				     sizeof(bm->string));
		if (err)
			return err;
		out->nr_modules++;
	}
	return 0;
}

/* Empty out: no command line, ranges or modules, BIOS, no framebuffer. */
void boot_info_reset(struct boot_info *out)
{
	out->cmdline[0] = '\0';
	out->nr_ranges = 0;
	out->nr_modules = 0;
	out->firmware = BOOT_FW_BIOS;
	out->efi_systab_pa = 0;
	out->rsdp_pa = 0;
	out->fb = (struct boot_fb){ 0 };
}

/*
 * Copies the Multiboot information into out.
 * magic: EAX at entry; info_pa: physical address of the information (EBX);
 * p2v(pa, ctx): returns a pointer to physical address pa (NULL if it
 * cannot), the structures must be readable through it; ctx: passed to p2v.
 * Command lines longer than the buffers are truncated. The memory map is
 * copied unmodified (see memmap_sanitize); without one, it is made from
 * mem_lower/mem_upper.
 * Returns 0, -EINVAL on a wrong magic, no memory information or a corrupt
 * map, -E2BIG if there are more than BOOT_INFO_MAX_RANGES map entries or
 * BOOT_INFO_MAX_MODULES modules, -EFAULT if p2v fails.
 */
int mb_parse(uint32_t magic, uint64_t info_pa,
	     void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
	     struct boot_info *out)
{
	const struct multiboot_info *mbi;
	int err;

	boot_info_reset(out);
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		return -EINVAL;
	mbi = p2v(info_pa, ctx);
	if (mbi == NULL)
		return -EFAULT;

	if (mbi->flags & MULTIBOOT_INFO_CMDLINE) {
		err = mb_copy_string(mbi->cmdline, p2v, ctx, out->cmdline,
				     sizeof(out->cmdline));
		if (err)
			return err;
	}
	if (mbi->flags & MULTIBOOT_INFO_MMAP)
		err = mb_parse_mmap(mbi, p2v, ctx, out);
	else if (mbi->flags & MULTIBOOT_INFO_MEMORY)
		err = mb_parse_basic_mem(mbi, out);
	else
		err = -EINVAL;
	if (!err && out->nr_ranges == 0 && (mbi->flags & MULTIBOOT_INFO_MEMORY))
		err = mb_parse_basic_mem(mbi, out);
	if (!err && out->nr_ranges == 0)
		err = -EINVAL;
	if (err)
		return err;
	if (mbi->flags & MULTIBOOT_INFO_MODS)
		return mb_parse_modules(mbi, p2v, ctx, out);
	return 0;
}
