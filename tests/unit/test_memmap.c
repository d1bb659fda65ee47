/*
 * Unit tests for hypervisor/common/memmap.c: sanitizing unsorted,
 * overlapping and unaligned maps (also against a brute-force model on
 * random maps), the dom0/pool split on a QEMU-like 2 GiB map, on maps
 * with RAM above 4 GiB and on random maps (checked for its invariants),
 * dom0's e820 table, and memmap_contains including overflow cases.
 */
#include "../../hypervisor/common/memmap.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

static struct mem_range R(uint64_t base, uint64_t len, uint32_t type)
{
	return (struct mem_range){ base, len, type };
}

static void print_map(const char *what, const struct mem_range *r, uint32_t n)
{
	printf("  %s (%u entries):\n", what, n);
	for (uint32_t i = 0; i < n; i++)
		printf("    [%#llx, %#llx) type %u\n",
		       (unsigned long long)r[i].base,
		       (unsigned long long)(r[i].base + r[i].len), r[i].type);
}

/* Checks a map is exactly the expected one; prints both if not. */
static void check_map(int line, const struct mem_range *got, uint32_t n,
		      const struct mem_range *want, uint32_t nw)
{
	bool same = n == nw;

	for (uint32_t i = 0; same && i < n; i++)
		same = got[i].base == want[i].base &&
		       got[i].len == want[i].len && got[i].type == want[i].type;
	CHECK_MSG(same, "map mismatch (test line %d)", line);
	if (!same && harness_failed <= harness_max_reports) {
		print_map("got", got, n);
		print_map("want", want, nw);
	}
}

#define CHECK_MAP(got, n, ...)                                               \
	do {                                                                 \
		const struct mem_range want_[] = { __VA_ARGS__ };            \
		check_map(__LINE__, got, n, want_,                           \
			  sizeof(want_) / sizeof(want_[0]));                 \
	} while (0)

/* Sorted, disjoint, merged, no empties, RAM page-aligned. */
static bool map_is_clean(const struct mem_range *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].len == 0)
			return false;
		if (r[i].type == E820_RAM &&
		    ((r[i].base | r[i].len) & 0xfff) != 0)
			return false;
		if (i > 0 && memmap_end(&r[i - 1]) > r[i].base)
			return false;
		if (i > 0 && memmap_end(&r[i - 1]) == r[i].base &&
		    r[i - 1].type == r[i].type)
			return false;
	}
	return true;
}

static uint32_t qemu_map(struct mem_range *r)
{
	r[0] = R(0, 0x9fc00, E820_RAM);
	r[1] = R(0x9fc00, 0x400, E820_RESERVED);
	r[2] = R(0xf0000, 0x10000, E820_RESERVED);
	r[3] = R(0x100000, 0x7ffe0000 - 0x100000, E820_RAM);
	r[4] = R(0x7ffe0000, 0x20000, E820_RESERVED);
	r[5] = R(0xfffc0000, 0x40000, E820_RESERVED);
	return 6;
}

static void test_sanitize_basic(void)
{
	struct mem_range r[16];
	uint32_t n;

	/* Unsorted, disjoint. */
	r[0] = R(0x200000, 0x1000, E820_RAM);
	r[1] = R(0x1000, 0x1000, E820_ACPI);
	r[2] = R(0x100000, 0x1000, E820_NVS);
	n = 3;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0x1000, 0x1000, E820_ACPI),
		  R(0x100000, 0x1000, E820_NVS), R(0x200000, 0x1000, E820_RAM));

	/* Unaligned RAM shrinks inward; non-RAM stays as it is. */
	r[0] = R(0x500, 0x2e00, E820_RAM);
	r[1] = R(0x3300, 0x100, E820_RESERVED);
	r[2] = R(0x10000, 0xfff, E820_RAM); /* less than a page: dropped */
	r[3] = R(0x20000, 0, E820_RESERVED); /* empty: dropped */
	n = 4;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0x1000, 0x2000, E820_RAM),
		  R(0x3300, 0x100, E820_RESERVED));

	/* Reserved inside RAM splits it (needs a free slot). */
	r[0] = R(0, 0x10000, E820_RAM);
	r[1] = R(0x4000, 0x1000, E820_RESERVED);
	n = 2;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 3), 0);
	CHECK_MAP(r, n, R(0, 0x4000, E820_RAM), R(0x4000, 0x1000, E820_RESERVED),
		  R(0x5000, 0xb000, E820_RAM));
	r[0] = R(0, 0x10000, E820_RAM);
	r[1] = R(0x4000, 0x1000, E820_RESERVED);
	n = 2;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 2), -E2BIG);
	n = 3;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 2), -EINVAL);

	/* Non-RAM beats RAM whichever comes first; higher type beats lower. */
	r[0] = R(0x3000, 0x3000, E820_RESERVED);
	r[1] = R(0x1000, 0x4000, E820_RAM);
	r[2] = R(0x5000, 0x4000, E820_RAM);
	r[3] = R(0x4000, 0x4000, E820_ACPI);
	n = 4;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0x1000, 0x2000, E820_RAM),
		  R(0x3000, 0x1000, E820_RESERVED), R(0x4000, 0x4000, E820_ACPI),
		  R(0x8000, 0x1000, E820_RAM));

	/* Same types merge when overlapping, nested or touching. */
	r[0] = R(0x1000, 0x3000, E820_RAM);
	r[1] = R(0x2000, 0x1000, E820_RAM);
	r[2] = R(0x3000, 0x5000, E820_RAM);
	r[3] = R(0x8000, 0x1000, E820_RAM);
	r[4] = R(0xa000, 0x100, E820_RESERVED);
	r[5] = R(0xa100, 0x100, E820_RESERVED);
	n = 6;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0x1000, 0x8000, E820_RAM),
		  R(0xa000, 0x200, E820_RESERVED));

	/* RAM split mid-page by the firmware keeps the whole pages. */
	r[0] = R(0x1800, 0x1800, E820_RAM);
	r[1] = R(0, 0x1800, E820_RAM);
	n = 2;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0, 0x3000, E820_RAM));

	/* Identical duplicates. */
	r[0] = R(0x100000, 0x100000, E820_RAM);
	r[1] = R(0x100000, 0x100000, E820_RAM);
	r[2] = R(0x100000, 0x100000, E820_RESERVED);
	n = 3;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0x100000, 0x100000, E820_RESERVED));

	/* A range running past 2^64 is cut at the top. */
	r[0] = R(0xfffffffffffff000ull, 0x2000, E820_RESERVED);
	r[1] = R(0xffffffff00000000ull, 0x200000000ull, E820_RAM);
	n = 2;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0xffffffff00000000ull, 0xfffff000ull, E820_RAM),
		  R(0xfffffffffffff000ull, 0xfff, E820_RESERVED));

	/* Empty map. */
	n = 0;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_EQ_U64(n, 0);

	/* The QEMU map, shuffled and with a duplicate entry. */
	qemu_map(r);
	struct mem_range t = r[0];
	r[0] = r[5];
	r[5] = t;
	r[6] = R(0x7ffe0000, 0x20000, E820_RESERVED);
	n = 7;
	CHECK_EQ_INT(memmap_sanitize(r, &n, 16), 0);
	CHECK_MAP(r, n, R(0, 0x9f000, E820_RAM),
		  R(0x9fc00, 0x400, E820_RESERVED),
		  R(0xf0000, 0x10000, E820_RESERVED),
		  R(0x100000, 0x7fee0000, E820_RAM),
		  R(0x7ffe0000, 0x20000, E820_RESERVED),
		  R(0xfffc0000, 0x40000, E820_RESERVED));
}

#define MODEL_UNIT 0x400ull
#define MODEL_UNITS 256

/* Random maps against a per-KiB model of the intended result. */
static void test_sanitize_random(void)
{
	for (int iter = 0; iter < 3000; iter++) {
		struct mem_range r[64], want[64];
		uint32_t types[MODEL_UNITS] = { 0 };
		uint32_t n = 1 + (uint32_t)harness_rand_below(12), nw = 0;

		for (uint32_t i = 0; i < n; i++) {
			uint64_t b = harness_rand_below(MODEL_UNITS);
			uint64_t l = harness_rand_below(MODEL_UNITS - b + 1);
			uint32_t type = harness_rand_below(2)
						? E820_RAM
						: 2 + (uint32_t)harness_rand_below(4);

			if (harness_rand_below(3) == 0)
				l = memmap_min(harness_rand_below(8),
					       MODEL_UNITS - b);
			r[i] = R(b * MODEL_UNIT, l * MODEL_UNIT, type);
			for (uint64_t u = b; u < b + l; u++) {
				if (types[u] == 0 || memmap_priority(type) >
							     memmap_priority(types[u]))
					types[u] = type;
			}
		}
		for (uint64_t u = 0; u < MODEL_UNITS;) {
			uint64_t v = u;

			while (v < MODEL_UNITS && types[v] == types[u])
				v++;
			if (types[u] != 0) {
				uint64_t b = u * MODEL_UNIT, e = v * MODEL_UNIT;

				if (types[u] == E820_RAM) {
					b = (b + 0xfff) & ~0xfffull;
					e &= ~0xfffull;
				}
				if (e > b)
					want[nw++] = R(b, e - b, types[u]);
			}
			u = v;
		}
		CHECK_EQ_INT(memmap_sanitize(r, &n, 64), 0);
		check_map(__LINE__, r, n, want, nw);
		CHECK(map_is_clean(r, n));
	}
}

static void test_split_qemu(void)
{
	struct mem_range fw[16], map[16], hidden[2], e820[32];
	struct mem_split *s = malloc(sizeof(*s));
	uint32_t n = qemu_map(map), ne;

	memcpy(fw, map, sizeof(map));
	CHECK_EQ_INT(memmap_sanitize(map, &n, 16), 0);
	hidden[0] = R(0x100000, 0x80000, E820_RAM); /* hypervisor image */

	/* Default: half of RAM (less than 1 GiB here). */
	CHECK_EQ_INT(memmap_split(map, n, 0, hidden, 1, s), 0);
	CHECK_EQ_U64(s->total_ram, 0x9f000 + 0x7fee0000);
	CHECK_MAP(s->dom0, s->n_dom0, R(0, 0x9f000, E820_RAM),
		  R(0x180000, 0x40200000 - 0x180000, E820_RAM));
	CHECK_MAP(s->pool, s->n_pool,
		  R(0x40200000, 0x7ffe0000 - 0x40200000, E820_RAM));
	CHECK_EQ_U64(s->dom0_bytes, 0x9f000 + 0x40200000 - 0x180000);
	CHECK_EQ_U64(s->pool_bytes, 0x7ffe0000 - 0x40200000);
	CHECK(s->dom0_bytes >= s->total_ram / 2);
	CHECK_EQ_U64(s->dom0_bytes + s->pool_bytes + 0x80000, s->total_ram);

	/* Dom0's e820: unused RAM becomes reserved, merged with neighbours. */
	CHECK_EQ_INT(memmap_dom0_e820(fw, 6, s, e820, &ne, 32), 0);
	CHECK_MAP(e820, ne, R(0, 0x9f000, E820_RAM),
		  R(0x9f000, 0x1000, E820_RESERVED),
		  R(0xf0000, 0x90000, E820_RESERVED),
		  R(0x180000, 0x40200000 - 0x180000, E820_RAM),
		  R(0x40200000, 0x80000000 - 0x40200000, E820_RESERVED),
		  R(0xfffc0000, 0x40000, E820_RESERVED));
	CHECK_EQ_INT(memmap_dom0_e820(fw, 6, s, e820, &ne, 5), -E2BIG);
	CHECK_EQ_U64(ne, 0);
	/* The sanitized map gives the same result. */
	CHECK_EQ_INT(memmap_dom0_e820(map, n, s, e820, &ne, 32), 0);
	CHECK_EQ_U64(ne, 6);

	/* Explicit 512 MiB: top end rounded up to 2 MiB. */
	CHECK_EQ_INT(memmap_split(map, n, 512 * MIB, hidden, 1, s), 0);
	CHECK_MAP(s->dom0, s->n_dom0, R(0, 0x9f000, E820_RAM),
		  R(0x180000, 0x20200000 - 0x180000, E820_RAM));
	CHECK_EQ_U64(s->pool[0].base, 0x20200000);
	CHECK(s->dom0_bytes >= 512 * MIB && s->dom0_bytes < 514 * MIB);

	/* Too small, too big, leaving too small a pool. */
	CHECK_EQ_INT(memmap_split(map, n, 63 * MIB, hidden, 1, s), -ENOMEM);
	CHECK_EQ_INT(memmap_split(map, n, 2 * GIB, hidden, 1, s), -ENOMEM);
	CHECK_EQ_INT(memmap_split(map, n, 2040 * MIB, hidden, 1, s), -ENOMEM);
	CHECK_EQ_INT(memmap_split(map, n, 2000 * MIB, hidden, 1, s), 0);
	CHECK(s->pool_bytes >= MEMMAP_POOL_MIN_BYTES);

	/* Without hidden ranges, and with hidden ranges inside dom0's area. */
	CHECK_EQ_INT(memmap_split(map, n, 0, NULL, 0, s), 0);
	CHECK_MAP(s->dom0, s->n_dom0, R(0, 0x9f000, E820_RAM),
		  R(0x100000, 0x40200000 - 0x100000, E820_RAM));
	hidden[0] = R(0x100800, 0x7f000, E820_RAM); /* unaligned: rounded out */
	hidden[1] = R(0x1000, 0x1000, E820_RAM);    /* e.g. AP trampoline */
	CHECK_EQ_INT(memmap_split(map, n, 256 * MIB, hidden, 2, s), 0);
	CHECK_MAP(s->dom0, s->n_dom0, R(0, 0x1000, E820_RAM),
		  R(0x2000, 0x9d000, E820_RAM),
		  R(0x180000, 0x10200000 - 0x180000, E820_RAM));
	free(s);
}

static void test_split_high(void)
{
	struct mem_range map[8], e820[16];
	struct mem_split *s = malloc(sizeof(*s));
	struct mem_range hidden = R(0x200000, 0x200000, E820_RAM);
	uint32_t ne;

	map[0] = R(0, 0x9f000, E820_RAM);
	map[1] = R(0xf0000, 0x10000, E820_RESERVED);
	map[2] = R(0x100000, 0xbff00000, E820_RAM); /* to 3 GiB */
	map[3] = R(0xfec00000, 0x1400000, E820_RESERVED);
	map[4] = R(0x100000000ull, 0x140000000ull, E820_RAM); /* 4-9 GiB */
	CHECK_EQ_INT(memmap_split(map, 5, 0, &hidden, 1, s), 0);
	CHECK_MAP(s->dom0, s->n_dom0, R(0, 0x9f000, E820_RAM),
		  R(0x100000, 0x100000, E820_RAM),
		  R(0x400000, 0x40400000 - 0x400000, E820_RAM));
	CHECK_EQ_U64(s->dom0_bytes, 0x9f000 + 0x100000 + 0x40000000);
	CHECK_EQ_U64(memmap_end(&s->dom0[s->n_dom0 - 1]) % (2 * MIB), 0);
	CHECK_EQ_U64(s->n_pool, 2);
	CHECK_EQ_U64(s->pool[1].base, 0x100000000ull);
	CHECK_EQ_U64(s->pool[1].len, 0x140000000ull);

	/* 4 GiB for dom0 runs into RAM above 4 GiB. */
	CHECK_EQ_INT(memmap_split(map, 5, 4 * GIB, &hidden, 1, s), 0);
	CHECK_EQ_U64(s->n_dom0, 4);
	CHECK_EQ_U64(s->dom0[2].base, 0x400000);
	CHECK_EQ_U64(memmap_end(&s->dom0[2]), 0xc0000000ull);
	CHECK_EQ_U64(s->dom0[3].base, 0x100000000ull);
	CHECK_EQ_U64(memmap_end(&s->dom0[3]) % (2 * MIB), 0);
	CHECK(s->dom0_bytes >= 4 * GIB && s->dom0_bytes < 4 * GIB + 2 * MIB);
	CHECK_EQ_U64(s->pool[0].base, memmap_end(&s->dom0[3]));
	CHECK_EQ_U64(memmap_end(&s->pool[0]), 0x240000000ull);
	CHECK_EQ_INT(memmap_dom0_e820(map, 5, s, e820, &ne, 16), 0);
	CHECK(map_is_clean(e820, ne));
	CHECK_EQ_U64(e820[ne - 1].type, E820_RESERVED);
	CHECK_EQ_U64(memmap_end(&e820[ne - 1]), 0x240000000ull);
	CHECK(memmap_contains(s->dom0, s->n_dom0, 0x100000000ull, GIB));
	CHECK(!memmap_contains(s->dom0, s->n_dom0, 0x200000, 0x1000));

	/* The cut lands where a RAM range ends: no rounding past it. */
	map[2] = R(0x100000, 0x7ff000, E820_RAM); /* ends at 0x8ff000 */
	CHECK_EQ_INT(memmap_split(map, 5, 64 * MIB, NULL, 0, s), 0);
	CHECK_EQ_U64(s->n_dom0, 3);
	CHECK_EQ_U64(memmap_end(&s->dom0[2]) % (2 * MIB), 0);

	/* Unsorted RAM entries are refused; tiny machines are refused. */
	struct mem_range bad[2] = { R(0x100000000ull, GIB, E820_RAM),
				    R(0, GIB, E820_RAM) };
	CHECK_EQ_INT(memmap_split(bad, 2, 0, NULL, 0, s), -EINVAL);
	bad[0] = R(0, 100 * MIB, E820_RAM);
	CHECK_EQ_INT(memmap_split(bad, 1, 0, NULL, 0, s), -ENOMEM);
	bad[0] = R(0, 128 * MIB, E820_RAM); /* half is exactly 64 MiB */
	CHECK_EQ_INT(memmap_split(bad, 1, 0, NULL, 0, s), 0);
	bad[0] = R(0, 72 * MIB, E820_RAM); /* pool of 8 MiB is too small */
	CHECK_EQ_INT(memmap_split(bad, 1, 64 * MIB, NULL, 0, s), -ENOMEM);
	bad[0] = R(0, 200 * MIB, E820_RAM);
	CHECK_EQ_INT(memmap_split(bad, 1, 0, NULL, 0, s), 0);
	CHECK_EQ_U64(s->dom0_bytes, 100 * MIB);
	free(s);
}

/* Whether addr is in one of the ranges; returns its type or 0. */
static uint32_t type_at(const struct mem_range *r, uint32_t n, uint64_t addr)
{
	uint32_t k = memmap_find(r, n, addr);

	return k < n ? r[k].type : 0;
}

/* Random maps: the split's invariants and dom0's e820 table. */
static void test_split_random(void)
{
	struct mem_split *s = malloc(sizeof(*s));
	int ok = 0;

	for (int iter = 0; iter < 2000; iter++) {
		struct mem_range map[24], fw[24], hidden[3], e820[64];
		uint32_t n = 0, nh = (uint32_t)harness_rand_below(4), ne;
		uint64_t pos = 0, target;
		int err;

		map[n++] = R(0, 0x9f000, E820_RAM);
		pos = 0x100000;
		while (n < 12) {
			uint64_t len = (1 + harness_rand_below(1024)) * 0x1000 *
				       (harness_rand_below(4) ? 64 : 1);

			map[n++] = R(pos, len, harness_rand_below(3) ? E820_RAM
								      : E820_RESERVED);
			pos += len + harness_rand_below(3) * 0x1000 * 7;
		}
		for (uint32_t i = 0; i < nh; i++)
			hidden[i] = R(harness_rand_below(pos) & ~0xfffull,
				      harness_rand_below(64 * MIB) + 1,
				      E820_RAM);
		memcpy(fw, map, sizeof(map));
		CHECK_EQ_INT(memmap_sanitize(map, &n, 24), 0);
		target = harness_rand_below(2) ? 0 : harness_rand_below(2 * GIB);
		err = memmap_split(map, n, target, hidden, nh, s);
		if (err) {
			CHECK_MSG(err == -ENOMEM, "err %d", err);
			continue;
		}
		ok++;
		if (target == 0)
			target = memmap_min(GIB, s->total_ram / 2);
		CHECK(target >= MEMMAP_DOM0_MIN_BYTES);
		CHECK(s->dom0_bytes >= target &&
		      s->dom0_bytes < target + 2 * MIB);
		CHECK(s->pool_bytes >= MEMMAP_POOL_MIN_BYTES);
		CHECK(map_is_clean(s->dom0, s->n_dom0));
		CHECK(map_is_clean(s->pool, s->n_pool));
		CHECK(memmap_end(&s->dom0[s->n_dom0 - 1]) <= s->pool[0].base);
		/* Dom0's top is 2 MiB-aligned unless a RAM range ends there. */
		uint64_t top = memmap_end(&s->dom0[s->n_dom0 - 1]);
		CHECK(top % (2 * MIB) == 0 || type_at(map, n, top) != E820_RAM ||
		      type_at(hidden, nh, top) != 0);

		CHECK_EQ_INT(memmap_dom0_e820(fw, 12, s, e820, &ne, 64), 0);
		CHECK(map_is_clean(e820, ne));
		/* Sample addresses: each must be classified consistently. */
		for (int k = 0; k < 300; k++) {
			uint64_t a = harness_rand_below(pos + 0x10000) & ~0xfffull;
			bool hid = false;

			if (k < 20)
				a = s->dom0[k % s->n_dom0].base;
			if (k >= 20 && k < 40)
				a = s->pool[k % s->n_pool].base;
			uint32_t t = type_at(map, n, a);
			bool in_dom0 = type_at(s->dom0, s->n_dom0, a) != 0;
			bool in_pool = type_at(s->pool, s->n_pool, a) != 0;
			/* Hidden ranges are rounded out to pages. */
			for (uint32_t h = 0; h < nh; h++)
				if (a + 0x1000 > hidden[h].base &&
				    a < memmap_end(&hidden[h]))
					hid = true;
			CHECK(!(in_dom0 && in_pool));
			if (t == E820_RAM && a < MEMMAP_LOW_MEM_END_BYTES && !hid)
				CHECK(in_dom0);
			if (t == E820_RAM && !hid)
				CHECK(in_dom0 || in_pool);
			if (t != E820_RAM || hid)
				CHECK(!in_dom0 && !in_pool);
			CHECK_EQ_U64(type_at(e820, ne, a),
				     in_dom0 ? E820_RAM
					     : (t == E820_RAM ? E820_RESERVED : t));
		}
	}
	CHECK_MSG(ok > 500, "only %d random splits succeeded", ok);
	free(s);
}

static void test_contains(void)
{
	struct mem_range r[4] = {
		R(0x3000, 0x1000, E820_RAM), R(0x1000, 0x2000, E820_RAM),
		R(0x2000, 0x3000, E820_RAM), R(0x10000, 0x1000, E820_RAM),
	};

	CHECK(memmap_contains(r, 4, 0x1000, 0x4000));  /* touching+overlap */
	CHECK(memmap_contains(r, 4, 0x1fff, 2));
	CHECK(memmap_contains(r, 4, 0x4fff, 1));
	CHECK(!memmap_contains(r, 4, 0x4fff, 2));      /* runs into a gap */
	CHECK(!memmap_contains(r, 4, 0xfff, 2));
	CHECK(!memmap_contains(r, 4, 0x1000, 0x10000));
	CHECK(memmap_contains(r, 4, 0x10000, 0x1000));
	CHECK(!memmap_contains(r, 4, 0x10000, 0x1001));
	CHECK(memmap_contains(r, 4, 0x50000, 0));      /* empty: true */
	CHECK(!memmap_contains(r, 0, 0x1000, 1));
	CHECK(!memmap_contains(r, 4, UINT64_MAX - 10, 20)); /* wraps */
	CHECK(!memmap_contains(r, 4, 0x1000, UINT64_MAX));
	struct mem_range top[2] = { R(UINT64_MAX - 0xfff, 0x1000, E820_RAM),
				    R(0xfffff000, UINT64_MAX, E820_RAM) };
	CHECK(memmap_contains(top, 1, UINT64_MAX - 0xfff, 0xfff));
	CHECK(memmap_contains(top, 1, UINT64_MAX - 1, 1));
	CHECK(memmap_contains(top, 2, 0xfffff000, UINT64_MAX - 0xfffff000));
	CHECK(!memmap_contains(top, 2, 0xffffefff, 2));
	struct mem_range zero = R(0x1000, 0, E820_RAM);
	CHECK(!memmap_contains(&zero, 1, 0x1000, 1));
}

int main(void)
{
	test_sanitize_basic();
	test_sanitize_random();
	test_split_qemu();
	test_split_high();
	test_split_random();
	test_contains();
	return harness_done("test_memmap");
}
