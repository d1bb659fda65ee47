/*
 * Pure decisions on physical memory maps: cleaning up the firmware's e820
 * map (sorting, page-clipping RAM, resolving overlaps, merging), splitting
 * RAM between dom0 and the hypervisor's page pool, building the e820 table
 * that dom0 boots with, and checking that a range lies inside a set of
 * ranges. Nothing here touches hardware; all of it is unit-tested.
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/memmap.h>

/* End of r (exclusive), saturated at UINT64_MAX if base + len overflows. */
static uint64_t memmap_end(const struct mem_range *r)
{
	return r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
}

static uint64_t memmap_align_up(uint64_t v, uint64_t align)
{
	uint64_t mask = align - 1;

	return v > UINT64_MAX - mask ? UINT64_MAX & ~mask : (v + mask) & ~mask;
}

static uint64_t memmap_align_down(uint64_t v, uint64_t align)
{
	return v & ~(align - 1);
}

static uint64_t memmap_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Overlap priority: RAM loses against everything, else higher type wins. */
static uint64_t memmap_priority(uint32_t type)
{
	return type == E820_RAM ? 0 : (uint64_t)type + 1;
}

static void memmap_remove(struct mem_range *r, uint32_t *n, uint32_t i)
{
	for (uint32_t j = i; j + 1 < *n; j++)
		r[j] = r[j + 1];
	(*n)--;
}

static bool memmap_before(const struct mem_range *a, const struct mem_range *b)
{
	if (a->base != b->base)
		return a->base < b->base;
	return memmap_end(a) < memmap_end(b);
}

/* Stable insertion sort by base, then end. */
static void memmap_sort(struct mem_range *r, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct mem_range t = r[i];
		uint32_t j = i;

		while (j > 0 && memmap_before(&t, &r[j - 1])) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = t;
	}
}

/*
 * Drops empty ranges and saturates overflowing ones; with align_ram, also
 * shrinks RAM ranges inward to whole pages.
 */
static void memmap_clip(struct mem_range *r, uint32_t *n, bool align_ram)
{
	uint32_t i = 0;

	while (i < *n) {
		uint64_t base = r[i].base, end = memmap_end(&r[i]);

		if (align_ram && r[i].type == E820_RAM) {
			base = memmap_align_up(base, MEMMAP_PAGE_SIZE_BYTES);
			end = memmap_align_down(end, MEMMAP_PAGE_SIZE_BYTES);
		}
		if (end <= base) {
			memmap_remove(r, n, i);
			continue;
		}
		r[i].base = base;
		r[i].len = end - base;
		i++;
	}
}

/*
 * Resolves the overlap of the neighbours r[i] and r[i + 1] (sorted): same
 * types merge, otherwise the losing range is cut around the winner, which
 * may leave it in two pieces. Re-sorts afterwards.
 */
static int memmap_resolve_pair(struct mem_range *r, uint32_t *n, uint32_t max,
			       uint32_t i)
{
	struct mem_range *a = &r[i], *b = &r[i + 1];
	uint32_t li, wi;
	struct mem_range loser, winner;

	if (a->type == b->type) {
		uint64_t end = memmap_end(a) > memmap_end(b) ? memmap_end(a)
							     : memmap_end(b);

		a->len = end - a->base;
		memmap_remove(r, n, i + 1);
		return 0;
	}
	li = memmap_priority(a->type) < memmap_priority(b->type) ? i : i + 1;
	wi = li == i ? i + 1 : i;
	loser = r[li];
	winner = r[wi];
	memmap_remove(r, n, li);
	if (loser.base < winner.base) {
		r[*n] = (struct mem_range){ loser.base,
					    winner.base - loser.base,
					    loser.type };
		(*n)++;
	}
	if (memmap_end(&winner) < memmap_end(&loser)) {
		if (*n >= max)
			return -E2BIG;
		r[*n] = (struct mem_range){ memmap_end(&winner),
					    memmap_end(&loser) -
						    memmap_end(&winner),
					    loser.type };
		(*n)++;
	}
	memmap_sort(r, *n);
	return 0;
}

/* Merges neighbours of the same type that touch. */
static void memmap_merge(struct mem_range *r, uint32_t *n)
{
	uint32_t i = 0;

	while (i + 1 < *n) {
		if (r[i].type == r[i + 1].type &&
		    memmap_end(&r[i]) == r[i + 1].base) {
			r[i].len += r[i + 1].len;
			memmap_remove(r, n, i + 1);
		} else {
			i++;
		}
	}
}

/*
 * Cleans up a firmware memory map in place: sorts it by base address,
 * resolves overlaps (any non-RAM type beats RAM; between two non-RAM
 * types the higher type number wins), merges touching ranges of the same
 * type, then shrinks RAM ranges inward to whole 4 KiB pages and drops
 * empty ones. Ranges running past 2^64 are cut at 2^64 - 1.
 * r: the map; n: in/out number of entries; max: capacity of r (cutting a
 * range in two needs a free slot).
 * Returns 0, -EINVAL if *n > max, or -E2BIG if the result would not fit
 * (r is then sorted but not fully cleaned).
 */
int memmap_sanitize(struct mem_range *r, uint32_t *n, uint32_t max)
{
	uint32_t i = 0;

	if (*n > max)
		return -EINVAL;
	memmap_clip(r, n, false);
	memmap_sort(r, *n);
	while (i + 1 < *n) {
		int err;

		if (memmap_end(&r[i]) <= r[i + 1].base) {
			i++;
			continue;
		}
		/* Entries before i stay sorted and disjoint: retry at i. */
		err = memmap_resolve_pair(r, n, max, i);
		if (err)
			return err;
	}
	memmap_merge(r, n);
	memmap_clip(r, n, true);
	return 0;
}

/*
 * Finds the first piece of [pos, end) that lies outside all hidden ranges
 * (rounded outward to pages). Returns false if there is none.
 */
static bool memmap_visible_next(uint64_t pos, uint64_t end,
				const struct mem_range *hidden, uint32_t nh,
				uint64_t *piece_base, uint64_t *piece_end)
{
	bool moved = true;

	while (moved && pos < end) {
		moved = false;
		for (uint32_t i = 0; i < nh; i++) {
			uint64_t hb = memmap_align_down(hidden[i].base,
							MEMMAP_PAGE_SIZE_BYTES);
			uint64_t he = memmap_align_up(memmap_end(&hidden[i]),
						      MEMMAP_PAGE_SIZE_BYTES);

			if (hidden[i].len != 0 && hb <= pos && pos < he) {
				pos = he;
				moved = true;
			}
		}
	}
	if (pos >= end)
		return false;
	*piece_base = pos;
	*piece_end = end;
	for (uint32_t i = 0; i < nh; i++) {
		uint64_t hb = memmap_align_down(hidden[i].base,
						MEMMAP_PAGE_SIZE_BYTES);

		if (hidden[i].len != 0 && hb > pos && hb < *piece_end)
			*piece_end = hb;
	}
	return true;
}

/* Appends RAM [base, end) to a sorted list, merging with the last entry. */
static int memmap_append(struct mem_range *list, uint32_t *count,
			 uint64_t base, uint64_t end, uint64_t *sum)
{
	if (end <= base)
		return 0;
	*sum += end - base;
	if (*count > 0 && memmap_end(&list[*count - 1]) == base) {
		list[*count - 1].len += end - base;
		return 0;
	}
	if (*count >= MEMMAP_SPLIT_MAX_RANGES)
		return -E2BIG;
	list[*count] = (struct mem_range){ base, end - base, E820_RAM };
	(*count)++;
	return 0;
}

/*
 * Gives the visible piece [pb, pe) to dom0 while it still needs RAM (or
 * while below 1 MiB), cutting at a 2 MiB boundary if possible, and the
 * rest to the pool.
 */
static int memmap_split_piece(struct mem_split *out, uint64_t target,
			      uint64_t pb, uint64_t pe)
{
	uint64_t cut = pb;
	int err;

	if (out->dom0_bytes < target || pb < MEMMAP_LOW_MEM_END_BYTES) {
		uint64_t need = target > out->dom0_bytes
					? target - out->dom0_bytes : 0;

		cut = pe - pb > need ? pb + need : pe;
		if (cut < MEMMAP_LOW_MEM_END_BYTES)
			cut = memmap_min(pe, MEMMAP_LOW_MEM_END_BYTES);
		if (cut < pe)
			cut = memmap_min(pe, memmap_align_up(
					 cut, MEMMAP_LARGE_PAGE_BYTES));
	}
	err = memmap_append(out->dom0, &out->n_dom0, pb, cut, &out->dom0_bytes);
	if (!err)
		err = memmap_append(out->pool, &out->n_pool, cut, pe,
				    &out->pool_bytes);
	return err;
}

/* Checks that the RAM entries are sorted and disjoint; sums them. */
static int memmap_check_ram(const struct mem_range *r, uint32_t n,
			    uint64_t *total)
{
	uint64_t prev_end = 0;

	*total = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].type != E820_RAM || r[i].len == 0)
			continue;
		if (r[i].base < prev_end || r[i].len > UINT64_MAX - r[i].base)
			return -EINVAL;
		prev_end = r[i].base + r[i].len;
		*total += r[i].len;
	}
	return 0;
}

/*
 * Divides RAM between dom0 and the hypervisor's pool. Dom0 gets RAM from
 * the lowest addresses upward: always all RAM below 1 MiB, then until
 * dom0_mem_bytes are reached, its top end rounded up to a 2 MiB boundary
 * where the RAM range allows (so it may get up to 2 MiB - 4 KiB more).
 * RAM inside hv_hidden (e.g. the hypervisor image) goes to neither; all
 * other RAM forms the pool.
 * ram_map: sanitized map (memmap_sanitize); only E820_RAM entries count.
 * dom0_mem_bytes: dom0's size, 0 for min(1 GiB, half of all RAM).
 * hv_hidden/n_hidden: ranges to keep from both (any order).
 * out: the result, dom0[] and pool[] sorted and merged.
 * Returns 0; -EINVAL if the RAM entries are unsorted or overlap; -ENOMEM
 * if dom0 would get less than MEMMAP_DOM0_MIN_BYTES, there is not enough
 * RAM for it, or the pool would be smaller than MEMMAP_POOL_MIN_BYTES;
 * -E2BIG if a list has more than MEMMAP_SPLIT_MAX_RANGES entries.
 */
int memmap_split(const struct mem_range *ram_map, uint32_t n,
		 uint64_t dom0_mem_bytes, const struct mem_range *hv_hidden,
		 uint32_t n_hidden, struct mem_split *out)
{
	uint64_t target;
	int err;

	*out = (struct mem_split){ 0 };
	err = memmap_check_ram(ram_map, n, &out->total_ram);
	if (err)
		return err;
	target = dom0_mem_bytes;
	if (target == 0)
		target = memmap_min(MEMMAP_DOM0_DEFAULT_MAX_BYTES,
				    out->total_ram / 2);
	if (target < MEMMAP_DOM0_MIN_BYTES)
		return -ENOMEM;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t pos = ram_map[i].base, end = memmap_end(&ram_map[i]);
		uint64_t pb, pe;

		if (ram_map[i].type != E820_RAM)
			continue;
		while (memmap_visible_next(pos, end, hv_hidden, n_hidden, &pb,
					   &pe)) {
			err = memmap_split_piece(out, target, pb, pe);
			if (err)
				return err;
			pos = pe;
		}
	}
	if (out->dom0_bytes < target || out->pool_bytes < MEMMAP_POOL_MIN_BYTES)
		return -ENOMEM;
	return 0;
}

/* Index of the dom0 range containing pos, or n if none. */
static uint32_t memmap_find(const struct mem_range *r, uint32_t n,
			    uint64_t pos)
{
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].base <= pos && pos < memmap_end(&r[i]))
			return i;
	}
	return n;
}

static int memmap_push(struct mem_range *out, uint32_t *cnt, uint32_t max,
		       uint64_t base, uint64_t end, uint32_t type)
{
	if (*cnt >= max)
		return -E2BIG;
	out[*cnt] = (struct mem_range){ base, end - base, type };
	(*cnt)++;
	return 0;
}

/* Emits firmware RAM [base, end) as dom0 RAM and reserved pieces. */
static int memmap_emit_ram(const struct mem_split *split, uint64_t base,
			   uint64_t end, struct mem_range *out, uint32_t *cnt,
			   uint32_t max)
{
	uint64_t pos = base;

	while (pos < end) {
		uint32_t k = memmap_find(split->dom0, split->n_dom0, pos);
		uint64_t next = end;
		uint32_t type = E820_RESERVED;
		int err;

		if (k < split->n_dom0) {
			next = memmap_min(end, memmap_end(&split->dom0[k]));
			type = E820_RAM;
		} else {
			for (uint32_t j = 0; j < split->n_dom0; j++) {
				if (split->dom0[j].base > pos)
					next = memmap_min(next,
							  split->dom0[j].base);
			}
		}
		err = memmap_push(out, cnt, max, pos, next, type);
		if (err)
			return err;
		pos = next;
	}
	return 0;
}

/*
 * Builds the e820 table dom0 boots with: the firmware map in which every
 * RAM byte outside split->dom0 becomes E820_RESERVED (cut out of the RAM
 * entries), then sanitized (sorted, merged).
 * firmware_map/n: the raw or sanitized firmware map; split: from
 * memmap_split; out: room for max entries; n_out: receives the count.
 * Returns 0, or -E2BIG if the table (also while being built) needs more
 * than max entries.
 */
int memmap_dom0_e820(const struct mem_range *firmware_map, uint32_t n,
		     const struct mem_split *split, struct mem_range *out,
		     uint32_t *n_out, uint32_t max)
{
	uint32_t cnt = 0;
	int err = 0;

	*n_out = 0;
	for (uint32_t i = 0; i < n && !err; i++) {
		const struct mem_range *r = &firmware_map[i];

		if (r->len == 0)
			continue;
		if (r->type == E820_RAM)
			err = memmap_emit_ram(split, r->base, memmap_end(r),
					      out, &cnt, max);
		else
			err = memmap_push(out, &cnt, max, r->base,
					  memmap_end(r), r->type);
	}
	if (!err)
		err = memmap_sanitize(out, &cnt, max);
	if (!err)
		*n_out = cnt;
	return err;
}

/*
 * Tells whether [base, base + len) lies wholly inside the union of the
 * ranges r[0..n) (any order, any type, may overlap or touch).
 * Returns true if so (always for len == 0), false otherwise, including
 * when base + len overflows.
 */
bool memmap_contains(const struct mem_range *r, uint32_t n, uint64_t base,
		     uint64_t len)
{
	uint64_t pos = base, end;

	if (len == 0)
		return true;
	if (len > UINT64_MAX - base)
		return false;
	end = base + len;
	/* Each step jumps to the end of a distinct range: at most n steps. */
	for (uint32_t step = 0; step <= n; step++) {
		uint32_t k = memmap_find(r, n, pos);

		if (k == n)
			return false;
		pos = memmap_end(&r[k]);
		if (pos >= end)
			return true;
	}
	return false;
}
