/*
 * Unit tests for hypervisor/devices/mptable.c: the built tables are
 * parsed back independently of the builder (floating pointer signature,
 * length, revision, pointer and checksum; configuration table header,
 * length, checksum, OEM/product strings, local APIC address, entry count;
 * then every entry) for 1, 2, 8 and 255 CPUs, checking the entry order,
 * the BSP flag only on CPU 0, ISA IRQ 0 on pin 2 and identity routing
 * otherwise, the local interrupt wiring, Linux's 16-byte scan of
 * 0xF0000-0xFFFFF, -ENOSPC for every too-small buffer (with the buffer
 * left untouched) and -EINVAL for bad arguments.
 */
#include "../../hypervisor/devices/mptable.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define BIOS_BASE_PA 0xF0000u
#define BIOS_BYTES 0x10000u
#define IOAPIC_PA 0xFEC00000u
#define LAPIC_PA 0xFEE00000u

static uint8_t bios[BIOS_BYTES];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | ((uint32_t)get16(p + 2) << 16);
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Linux's smp_scan_config over the BIOS area: 16-byte steps. */
static int64_t scan_for_mpf(const uint8_t *mem, uint32_t len)
{
	for (uint32_t off = 0; off + 16 <= len; off += 16) {
		const uint8_t *p = mem + off;

		if (memcmp(p, "_MP_", 4) == 0 && p[8] == 1 &&
		    sum8(p, 16) == 0 && (p[9] == 1 || p[9] == 4))
			return off;
	}
	return -1;
}

/* What the parse found. */
struct parsed {
	uint32_t cpus, buses, ioapics, io_ints, local_ints;
	uint32_t bsp_count, bsp_apic_id;
	int32_t irq_pin[16]; /* -1: no entry */
	bool order_ok, cpu_ids_ok, cpu_fields_ok, io_fields_ok;
	bool extint_lint0, nmi_lint1;
};

static void parse_entries(const uint8_t *e, const uint8_t *end,
			  uint32_t nr_cpus, uint32_t ioapic_id,
			  struct parsed *r)
{
	uint32_t last_type = 0;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->irq_pin[i] = -1;
	r->order_ok = r->cpu_ids_ok = r->cpu_fields_ok = r->io_fields_ok = true;
	while (e < end) {
		uint32_t type = e[0];

		if (type < last_type)
			r->order_ok = false;
		last_type = type;
		switch (type) {
		case 0:
			if (e[1] != r->cpus)
				r->cpu_ids_ok = false;
			if (e[2] != 0x14 || !(e[3] & 1) ||
			    get32(e + 4) != 0x600 || get32(e + 8) != 0x201 ||
			    get32(e + 12) || get32(e + 16))
				r->cpu_fields_ok = false;
			if (e[3] & 2) {
				r->bsp_count++;
				r->bsp_apic_id = e[1];
			}
			r->cpus++;
			e += 20;
			break;
		case 1:
			CHECK_EQ_U64(e[1], 0);
			CHECK(memcmp(e + 2, "ISA   ", 6) == 0);
			r->buses++;
			e += 8;
			break;
		case 2:
			CHECK_EQ_U64(e[1], ioapic_id);
			CHECK_EQ_U64(e[2], 0x11);
			CHECK_EQ_U64(e[3], 1);
			CHECK_EQ_U64(get32(e + 4), IOAPIC_PA);
			r->ioapics++;
			e += 8;
			break;
		case 3:
			if (e[1] != 0 || get16(e + 2) != 0 || e[4] != 0 ||
			    e[5] >= 16 || e[6] != ioapic_id)
				r->io_fields_ok = false;
			else if (r->irq_pin[e[5]] != -1)
				r->io_fields_ok = false; /* duplicate IRQ */
			else
				r->irq_pin[e[5]] = e[7];
			r->io_ints++;
			e += 8;
			break;
		case 4:
			if (e[1] == 3 && get16(e + 2) == 0 && e[4] == 0 &&
			    e[5] == 0 && e[6] == 0xFF && e[7] == 0)
				r->extint_lint0 = true;
			if (e[1] == 1 && get16(e + 2) == 0 && e[4] == 0 &&
			    e[5] == 0 && e[6] == 0xFF && e[7] == 1)
				r->nmi_lint1 = true;
			r->local_ints++;
			e += 8;
			break;
		default:
			CHECK_MSG(0, "unknown entry type %u", type);
			return;
		}
	}
	CHECK(e == end);
	(void)nr_cpus;
}

static void check_tables(uint32_t nr_cpus, uint32_t ioapic_id)
{
	uint32_t off = 0x100; /* somewhere 16-aligned inside the BIOS area */
	uint64_t base_pa = BIOS_BASE_PA + off;
	const uint8_t *mpf = bios + off, *cfg;
	uint32_t cfg_len, want_total;
	int ret;
	struct parsed r;

	memset(bios, 0, sizeof(bios));
	ret = mptable_build(bios + off, BIOS_BYTES - off, base_pa, nr_cpus,
			    ioapic_id, IOAPIC_PA, LAPIC_PA);
	want_total = 16 + 44 + 20 * nr_cpus + 8 * (1 + 1 + 15 + 2);
	CHECK_EQ_INT(ret, (int)want_total);
	CHECK_EQ_U64(MPTABLE_BYTES(nr_cpus), want_total);
	if (ret < 0)
		return;

	/* Floating pointer. */
	CHECK_EQ_INT(scan_for_mpf(bios, BIOS_BYTES), (int64_t)off);
	CHECK(memcmp(mpf, "_MP_", 4) == 0);
	CHECK_EQ_U64(get32(mpf + 4), base_pa + 16);
	CHECK_EQ_U64(mpf[8], 1);
	CHECK_EQ_U64(mpf[9], 4);
	CHECK_EQ_U64(sum8(mpf, 16), 0);
	CHECK_EQ_U64(mpf[11], 0); /* a configuration table is present */
	CHECK_EQ_U64(mpf[12], 0); /* virtual wire mode, no IMCR */

	/* Configuration table header. */
	cfg = bios + (get32(mpf + 4) - BIOS_BASE_PA);
	cfg_len = get16(cfg + 4);
	CHECK(memcmp(cfg, "PCMP", 4) == 0);
	CHECK_EQ_U64(cfg_len, want_total - 16);
	CHECK_EQ_U64(cfg[6], 4);
	CHECK_EQ_U64(sum8(cfg, cfg_len), 0);
	CHECK(memcmp(cfg + 8, "KEEL    ", 8) == 0);
	CHECK(memcmp(cfg + 16, "KEEL VIRTPC ", 12) == 0);
	CHECK_EQ_U64(get32(cfg + 28), 0);
	CHECK_EQ_U64(get16(cfg + 32), 0);
	CHECK_EQ_U64(get16(cfg + 34), nr_cpus + 1 + 1 + 15 + 2);
	CHECK_EQ_U64(get32(cfg + 36), LAPIC_PA);
	CHECK_EQ_U64(get16(cfg + 40), 0);
	CHECK_EQ_U64(cfg[42], 0);
	/* Nothing written past the end. */
	CHECK_EQ_U64(bios[off + want_total], 0);
	CHECK_EQ_U64(bios[off - 1], 0);

	/* Entries. */
	parse_entries(cfg + 44, cfg + cfg_len, nr_cpus, ioapic_id, &r);
	CHECK_EQ_U64(r.cpus, nr_cpus);
	CHECK_EQ_U64(r.buses, 1);
	CHECK_EQ_U64(r.ioapics, 1);
	CHECK_EQ_U64(r.io_ints, 15);
	CHECK_EQ_U64(r.local_ints, 2);
	CHECK_EQ_U64(r.cpus + r.buses + r.ioapics + r.io_ints + r.local_ints,
		     get16(cfg + 34));
	CHECK(r.order_ok);
	CHECK(r.cpu_ids_ok);
	CHECK(r.cpu_fields_ok);
	CHECK_EQ_U64(r.bsp_count, 1);
	CHECK_EQ_U64(r.bsp_apic_id, 0);
	CHECK(r.io_fields_ok);
	CHECK_EQ_INT(r.irq_pin[0], 2);
	CHECK_EQ_INT(r.irq_pin[2], -1); /* the cascade is not routed */
	for (int irq = 1; irq < 16; irq++)
		if (irq != 2)
			CHECK_MSG(r.irq_pin[irq] == irq, "IRQ %d -> pin %d", irq,
				  r.irq_pin[irq]);
	CHECK(r.extint_lint0);
	CHECK(r.nmi_lint1);
}

static void test_sizes_and_contents(void)
{
	check_tables(1, 1);
	check_tables(2, 2);
	check_tables(8, 8);
	check_tables(8, 0x20);
	check_tables(MPTABLE_MAX_CPUS, 0xFE);
}

static void test_enospc(void)
{
	static uint8_t buf[1024];
	uint32_t need1 = MPTABLE_BYTES(1), need8 = MPTABLE_BYTES(8);
	uint32_t bad = 0;

	for (uint32_t n = 0; n < need8; n++) {
		memset(buf, 0xEE, sizeof(buf));
		if (mptable_build(buf, n, BIOS_BASE_PA, 8, 8, IOAPIC_PA,
				  LAPIC_PA) != -ENOSPC)
			bad++;
		if (n < need1 && mptable_build(buf, n, BIOS_BASE_PA, 1, 1,
					       IOAPIC_PA, LAPIC_PA) != -ENOSPC)
			bad++;
		for (uint32_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != 0xEE)
				bad++;
	}
	CHECK_EQ_U64(bad, 0);
	/* Exactly enough is enough. */
	CHECK_EQ_INT(mptable_build(buf, need1, BIOS_BASE_PA, 1, 1, IOAPIC_PA,
				   LAPIC_PA), (int)need1);
	CHECK_EQ_INT(mptable_build(buf, need8, BIOS_BASE_PA, 8, 8, IOAPIC_PA,
				   LAPIC_PA), (int)need8);
}

static void test_einval(void)
{
	static uint8_t buf[8192];
	uint32_t n = sizeof(buf);

	CHECK_EQ_INT(mptable_build(buf, n, BIOS_BASE_PA, 0, 1, IOAPIC_PA,
				   LAPIC_PA), -EINVAL);
	CHECK_EQ_INT(mptable_build(buf, n, BIOS_BASE_PA, MPTABLE_MAX_CPUS + 1,
				   1, IOAPIC_PA, LAPIC_PA), -EINVAL);
	CHECK_EQ_INT(mptable_build(buf, n, BIOS_BASE_PA, 1, 0xFF, IOAPIC_PA,
				   LAPIC_PA), -EINVAL);
	CHECK_EQ_INT(mptable_build(buf, n, BIOS_BASE_PA + 8, 1, 1, IOAPIC_PA,
				   LAPIC_PA), -EINVAL);
	CHECK_EQ_INT(mptable_build(buf, n, 0x100000000ull, 1, 1, IOAPIC_PA,
				   LAPIC_PA), -EINVAL);
	CHECK_EQ_INT(mptable_build(buf, n, 0x100000000ull - 16, 1, 1,
				   IOAPIC_PA, LAPIC_PA), -EINVAL);
	/* Ending just below 4 GiB is fine. */
	CHECK_EQ_INT(mptable_build(buf, n,
				   (0x100000000ull - MPTABLE_BYTES(1)) & ~15ull,
				   1, 1, IOAPIC_PA, LAPIC_PA),
		     (int)MPTABLE_BYTES(1));
	/* Ending exactly at 4 GiB too (3 CPUs: 272 bytes, 16-aligned). */
	CHECK_EQ_INT(mptable_build(buf, n, 0x100000000ull - MPTABLE_BYTES(3),
				   3, 1, IOAPIC_PA, LAPIC_PA),
		     (int)MPTABLE_BYTES(3));
	/* Low memory (Linux also scans the first KiB) and no alignment need
	 * for buf itself. */
	CHECK_EQ_INT(mptable_build(buf + 1, n - 1, 0, 2, 2, IOAPIC_PA,
				   LAPIC_PA), (int)MPTABLE_BYTES(2));
	CHECK_EQ_U64(sum8(buf + 1, 16), 0);
	CHECK_EQ_U64(get32(buf + 1 + 4), 16);
}

int main(void)
{
	test_sizes_and_contents();
	test_enospc();
	test_einval();
	return harness_done("test_mptable");
}
