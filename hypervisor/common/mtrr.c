/*
 * The memory type that a snapshot of the MTRRs gives a physical address,
 * and how far that type reaches (see keel/mtrr.h). The rules are those of
 * the Intel SDM vol. 3A, 12.11.2 (IA32_MTRR_DEF_TYPE: E and FE), 12.11.2.2
 * (the fixed ranges below 1 MiB) and 12.11.4.1 (overlapping variable
 * ranges: UC wins, WT beats WB, anything else undefined, where we take
 * UC, which is always safe).
 */
#include <keel/mtrr.h>

#define MTRR_DEF_E (1ull << 11)
#define MTRR_DEF_FE (1ull << 10)
#define MTRR_DEF_TYPE_MASK 0xFFull
#define MTRR_VAR_VALID (1ull << 11)
#define MTRR_ADDR_MASK 0xFFFFFFFFFF000ull /* bits 51:12 of base and mask */
#define MTRR_FIXED_TOP 0x100000ull       /* fixed ranges cover 0 - 1 MiB */

/* Bytes covered by one fixed-range field at pa (below 1 MiB): 64 KiB in
 * 0-512 KiB, 16 KiB in 512-768 KiB, 4 KiB in 768 KiB-1 MiB. */
static uint64_t fixed_unit(uint64_t pa)
{
	return pa < 0x80000 ? 0x10000 : pa < 0xC0000 ? 0x4000 : 0x1000;
}

/* Index into m->fixed of the field covering pa (below 1 MiB). */
static uint32_t fixed_index(uint64_t pa)
{
	if (pa < 0x80000)
		return (uint32_t)(pa >> 16);
	if (pa < 0xC0000)
		return 8 + (uint32_t)((pa - 0x80000) >> 14);
	return 24 + (uint32_t)((pa - 0xC0000) >> 12);
}

static bool fixed_applies(const struct mtrr_state *m, uint64_t pa)
{
	return pa < MTRR_FIXED_TOP && m->fixed_supported && (m->def_type & MTRR_DEF_FE);
}

/* The mask bits of variable range i that take part in matching. */
static uint64_t var_mask(const struct mtrr_state *m, uint32_t i)
{
	return m->var_mask[i] & MTRR_ADDR_MASK & m->phys_mask;
}

static bool var_valid(const struct mtrr_state *m, uint32_t i)
{
	return (m->var_mask[i] & MTRR_VAR_VALID) && var_mask(m, i);
}

/* The type at one address. */
static uint8_t type_at(const struct mtrr_state *m, uint64_t pa)
{
	uint32_t i, hits = 0;
	bool uc = false, wt = false, other = false;
	uint8_t t, first = 0;

	if (!(m->def_type & MTRR_DEF_E))
		return MTRR_TYPE_UC;
	if (fixed_applies(m, pa))
		return m->fixed[fixed_index(pa)];
	for (i = 0; i < m->nr_var && i < MTRR_MAX_VAR; i++) {
		if (!var_valid(m, i) ||
		    ((pa ^ m->var_base[i]) & var_mask(m, i)) != 0)
			continue;
		t = (uint8_t)(m->var_base[i] & MTRR_DEF_TYPE_MASK);
		if (!hits++)
			first = t;
		uc |= t == MTRR_TYPE_UC;
		wt |= t == MTRR_TYPE_WT;
		other |= t != first;
	}
	if (!hits)
		return (uint8_t)(m->def_type & MTRR_DEF_TYPE_MASK);
	if (uc)
		return MTRR_TYPE_UC;
	if (!other)
		return first;
	if (wt) {
		for (i = 0; i < m->nr_var && i < MTRR_MAX_VAR; i++)
			if (var_valid(m, i) && ((pa ^ m->var_base[i]) & var_mask(m, i)) == 0 &&
			    (m->var_base[i] & MTRR_DEF_TYPE_MASK) != MTRR_TYPE_WT &&
			    (m->var_base[i] & MTRR_DEF_TYPE_MASK) != MTRR_TYPE_WB)
				return MTRR_TYPE_UC;
		return MTRR_TYPE_WT;
	}
	return MTRR_TYPE_UC; /* undefined overlap (12.11.4.1): the safe type */
}

/* The first address above pa where variable range i may start or stop
 * matching, or 0 if none. A contiguous mask (all bits from its lowest one
 * up to the physical width set) is one block [start, start + g); any
 * other mask matches alike within each aligned block of g bytes, its
 * lowest mask bit (12.11.3). */
static uint64_t var_edge(const struct mtrr_state *m, uint32_t i, uint64_t pa)
{
	uint64_t mask = var_mask(m, i), g = mask & -mask;
	uint64_t start = m->var_base[i] & mask;

	if ((mask | (g - 1)) != (m->phys_mask | 0xFFF))
		return (pa & ~(g - 1)) + g;
	if (pa < start)
		return start;
	if (pa - start < g)
		return start + g;
	return 0;
}

/* The next address above pa where the type could change: the edge of
 * each variable range and of the fixed field. 0 if nothing bounds it
 * below 2^64. */
static uint64_t next_edge(const struct mtrr_state *m, uint64_t pa)
{
	uint64_t edge = 0, e;
	uint32_t i;

	if (pa < MTRR_FIXED_TOP && m->fixed_supported)
		edge = (pa & ~(fixed_unit(pa) - 1)) + fixed_unit(pa);
	for (i = 0; i < m->nr_var && i < MTRR_MAX_VAR; i++) {
		if (!var_valid(m, i))
			continue;
		e = var_edge(m, i, pa);
		if (e > pa && (!edge || e < edge))
			edge = e;
	}
	return edge;
}

/* The type of [pa, pa + size) as far as it is one; see mtrr.h. */
uint64_t mtrr_type_run(const struct mtrr_state *m, uint64_t pa, uint64_t size, uint8_t *type)
{
	uint64_t len = 0, at, edge;
	uint8_t t0;

	if (size == 0)
		return 0;
	t0 = type_at(m, pa);
	*type = t0;
	if (!(m->def_type & MTRR_DEF_E))
		return size;
	while (len < size) {
		at = pa + len;
		if (len && type_at(m, at) != t0)
			break;
		edge = next_edge(m, at);
		if (!edge || edge - pa >= size || edge <= at)
			return size;
		len = edge - pa;
	}
	return len;
}
