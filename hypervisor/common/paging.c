/*
 * Builds and edits x86-64 4-level page tables (also the AMD nested paging
 * format): maps ranges with the largest page size allowed and aligned,
 * splits large pages when part of one is remapped or unmapped, looks up
 * translations and frees whole trees. Table memory comes from and goes
 * back to the caller through struct pt_ctx callbacks.
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/paging.h>

#define PT_LEVELS 4
#define PT_INDEX_MASK 0x1FFull
#define PT_VA_WINDOW_SHIFT 48 /* bits 47:0 index the tables */
#define PT_TABLE_FLAGS (PT_PRESENT | PT_RW | PT_USER) /* leaves decide */

/* Address bits translated by one entry at level (1 = PT ... 4 = PML4). */
static uint32_t pt_shift(uint32_t level)
{
	return PT_PAGE_SHIFT_4K + 9 * (level - 1);
}

static uint64_t pt_index(uint64_t va, uint32_t level)
{
	return (va >> pt_shift(level)) & PT_INDEX_MASK;
}

static uint64_t *pt_table(const struct pt_ctx *pt, uint64_t table_pa)
{
	return pt->p2v(table_pa, pt->ctx);
}

static bool pt_is_leaf(uint64_t e, uint32_t level)
{
	return level == 1 || (e & PT_PS) != 0;
}

/* Physical address an entry points to (page frame or next table). */
static uint64_t pt_entry_addr(uint64_t e, uint32_t level)
{
	uint64_t mask = PT_ADDR_MASK;

	if (level > 1 && (e & PT_PS))
		mask &= ~((1ull << pt_shift(level)) - 1);
	return e & mask;
}

/*
 * Whether [va, va + size) is addressable: within the low or the high
 * 2^48-byte window (bits 63:48 all zero or all one), not wrapping.
 */
static bool pt_va_ok(uint64_t va, uint64_t size)
{
	uint64_t last = va + size - 1;
	uint64_t top = va >> PT_VA_WINDOW_SHIFT;

	if (size == 0 || last < va)
		return false;
	if (top != 0 && top != (UINT64_MAX >> PT_VA_WINDOW_SHIFT))
		return false;
	return (last >> PT_VA_WINDOW_SHIFT) == top;
}

/* Frees the table at table_pa (at level) and every table below it. */
static void pt_free_tree(struct pt_ctx *pt, uint64_t table_pa, uint32_t level)
{
	uint64_t *t = pt_table(pt, table_pa);

	for (uint32_t i = 0; level > 1 && i < PT_ENTRIES; i++) {
		if ((t[i] & PT_PRESENT) && !pt_is_leaf(t[i], level))
			pt_free_tree(pt, pt_entry_addr(t[i], level), level - 1);
	}
	pt->free_table(table_pa, pt->ctx);
}

/*
 * Replaces the large page in *e (at level 2 or 3) with a table of 512
 * pages one level down that map the same memory with the same flags.
 */
static int pt_split(struct pt_ctx *pt, uint64_t *e, uint32_t level)
{
	uint64_t base = pt_entry_addr(*e, level);
	uint64_t flags = *e & PT_FLAGS_MASK;
	uint64_t child_size = 1ull << pt_shift(level - 1);
	uint64_t table_pa = pt->alloc_table(pt->ctx);
	uint64_t *t;

	if (table_pa == 0)
		return -ENOMEM;
	if (level - 1 > 1)
		flags |= PT_PS;
	t = pt_table(pt, table_pa);
	for (uint32_t i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * child_size) | flags;
	*e = table_pa | PT_TABLE_FLAGS;
	return 0;
}

/*
 * Walks from the root to the entry for va at target_level, creating
 * missing tables and splitting large pages on the way. Returns 0 and
 * the entry in *out, or -ENOMEM.
 */
static int pt_walk_create(struct pt_ctx *pt, uint64_t va, uint32_t target_level,
			  uint64_t **out)
{
	uint64_t *t = pt_table(pt, pt->root_pa);

	for (uint32_t level = PT_LEVELS; level > target_level; level--) {
		uint64_t *e = &t[pt_index(va, level)];
		int err = 0;

		if (!(*e & PT_PRESENT)) {
			uint64_t table_pa = pt->alloc_table(pt->ctx);

			if (table_pa == 0)
				return -ENOMEM;
			*e = table_pa | PT_TABLE_FLAGS;
		} else if (*e & PT_PS) {
			err = pt_split(pt, e, level);
		}
		if (err)
			return err;
		t = pt_table(pt, pt_entry_addr(*e, level));
	}
	*out = &t[pt_index(va, target_level)];
	return 0;
}

/* Largest page shift <= max_shift that va, pa and size allow. */
static uint32_t pt_pick_shift(uint64_t va, uint64_t pa, uint64_t size,
			      uint32_t max_shift)
{
	static const uint32_t shifts[] = { PT_PAGE_SHIFT_1G, PT_PAGE_SHIFT_2M };

	for (uint32_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		uint64_t page = 1ull << shifts[i];

		if (shifts[i] <= max_shift && ((va | pa) & (page - 1)) == 0 &&
		    size >= page)
			return shifts[i];
	}
	return PT_PAGE_SHIFT_4K;
}

/*
 * Maps [va, va + size) to [pa, pa + size) with the given entry flags,
 * using the largest pages (up to 1 << max_page_shift) for which va, pa
 * and the remaining size are aligned. Existing mappings in the range are
 * replaced (tables below a replaced entry are freed); large pages only
 * partly covered are split first, keeping the rest of their mapping.
 * pt: the tables (the root is allocated if root_pa is 0); va: virtual or
 * guest-physical address, bits 63:48 all 0 or all 1; pa: physical
 * address below 2^52; size: bytes; va, pa and size 4 KiB-aligned;
 * flags: PT_* bits except PT_PS (PT_PRESENT is added); max_page_shift:
 * 12, 21 or 30.
 * Returns 0 (also for size 0), -EINVAL for bad arguments, -ENOMEM if a
 * table could not be allocated (the range is then partly mapped).
 */
int pt_map(struct pt_ctx *pt, uint64_t va, uint64_t pa, uint64_t size,
	   uint64_t flags, uint32_t max_page_shift)
{
	if (size == 0)
		return 0;
	if (((va | pa | size) & (PT_PAGE_SIZE_4K - 1)) != 0 ||
	    (flags & ~PT_FLAGS_MASK) != 0 || !pt_va_ok(va, size) ||
	    pa >= PT_MAX_PHYS_BYTES || size > PT_MAX_PHYS_BYTES - pa ||
	    (max_page_shift != PT_PAGE_SHIFT_4K &&
	     max_page_shift != PT_PAGE_SHIFT_2M &&
	     max_page_shift != PT_PAGE_SHIFT_1G))
		return -EINVAL;
	if (pt->root_pa == 0) {
		pt->root_pa = pt->alloc_table(pt->ctx);
		if (pt->root_pa == 0)
			return -ENOMEM;
	}
	while (size > 0) {
		uint32_t shift = pt_pick_shift(va, pa, size, max_page_shift);
		uint32_t level = (shift - PT_PAGE_SHIFT_4K) / 9 + 1;
		uint64_t *e, old;
		int err = pt_walk_create(pt, va, level, &e);

		if (err)
			return err;
		old = *e;
		*e = pa | flags | PT_PRESENT | (level > 1 ? PT_PS : 0);
		if ((old & PT_PRESENT) && !pt_is_leaf(old, level))
			pt_free_tree(pt, pt_entry_addr(old, level), level - 1);
		va += 1ull << shift;
		pa += 1ull << shift;
		size -= 1ull << shift;
	}
	return 0;
}

/*
 * Removes one entry's worth of mapping at va (or descends into it) and
 * returns how many bytes from va were handled, or 0 on -ENOMEM.
 */
static uint64_t pt_unmap_step(struct pt_ctx *pt, uint64_t va, uint64_t size)
{
	uint64_t *t = pt_table(pt, pt->root_pa);

	for (uint32_t level = PT_LEVELS; level >= 1; level--) {
		uint64_t *e = &t[pt_index(va, level)];
		uint64_t region = 1ull << pt_shift(level);
		uint64_t left = region - (va & (region - 1));
		bool covered = left == region && size >= region;

		if (!(*e & PT_PRESENT))
			return left < size ? left : size;
		if (covered) {
			uint64_t old = *e;

			*e = 0;
			if (!pt_is_leaf(old, level))
				pt_free_tree(pt, pt_entry_addr(old, level),
					     level - 1);
			return region;
		}
		if (pt_is_leaf(*e, level) && pt_split(pt, e, level) != 0)
			return 0;
		t = pt_table(pt, pt_entry_addr(*e, level));
	}
	return 0; /* not reached: a level-1 entry is always covered */
}

/*
 * Unmaps [va, va + size), splitting large pages that are only partly in
 * the range; unmapped holes are skipped, and tables wholly covered are
 * freed. va and size must be 4 KiB-aligned.
 * Returns 0, -EINVAL for bad arguments, -ENOMEM if a split failed (the
 * range is then partly unmapped).
 */
int pt_unmap(struct pt_ctx *pt, uint64_t va, uint64_t size)
{
	if (size == 0)
		return 0;
	if (((va | size) & (PT_PAGE_SIZE_4K - 1)) != 0 || !pt_va_ok(va, size))
		return -EINVAL;
	if (pt->root_pa == 0)
		return 0;
	while (size > 0) {
		uint64_t done = pt_unmap_step(pt, va, size);

		if (done == 0)
			return -ENOMEM;
		va += done;
		size -= done;
	}
	return 0;
}

/*
 * Translates va. On success stores the physical address of va itself
 * (page base plus offset) in *pa, the entry's flags (PT_FLAGS_MASK bits,
 * without PT_PS) in *flags and the page size as a shift (12, 21 or 30)
 * in *page_shift; any of these pointers may be NULL.
 * Returns 0, -ENOENT if va is not mapped, -EINVAL if va is outside the
 * addressable windows.
 */
int pt_lookup(const struct pt_ctx *pt, uint64_t va, uint64_t *pa,
	      uint64_t *flags, uint32_t *page_shift)
{
	const uint64_t *t;

	if (!pt_va_ok(va, 1))
		return -EINVAL;
	if (pt->root_pa == 0)
		return -ENOENT;
	t = pt_table(pt, pt->root_pa);
	for (uint32_t level = PT_LEVELS; level >= 1; level--) {
		uint64_t e = t[pt_index(va, level)];
		uint64_t offset_mask = (1ull << pt_shift(level)) - 1;

		if (!(e & PT_PRESENT))
			return -ENOENT;
		if (pt_is_leaf(e, level)) {
			if (pa)
				*pa = pt_entry_addr(e, level) | (va & offset_mask);
			if (flags)
				*flags = e & PT_FLAGS_MASK;
			if (page_shift)
				*page_shift = pt_shift(level);
			return 0;
		}
		t = pt_table(pt, pt_entry_addr(e, level));
	}
	return -ENOENT;
}

/*
 * Frees every table of pt, the root included, through free_table, and
 * sets root_pa to 0. The mapped memory itself is not touched.
 */
void pt_destroy(struct pt_ctx *pt)
{
	if (pt->root_pa == 0)
		return;
	pt_free_tree(pt, pt->root_pa, PT_LEVELS);
	pt->root_pa = 0;
}
