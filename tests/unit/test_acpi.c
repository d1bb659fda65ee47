/*
 * Unit tests for hypervisor/common/acpi.c on synthetic firmware memory:
 * finding the RSDP in the EBDA and in the BIOS area, the XSDT (ACPI 2.0+)
 * and RSDT (1.0) paths to the MADT, enabled/disabled LAPIC and x2APIC
 * entries, IOAPICs, and rejection of bad checksums, lengths and a missing
 * MADT.
 */
#include "../../hypervisor/common/acpi.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MEM_BYTES (1u << 20) /* fake physical memory 0..1 MiB */
static uint8_t mem[MEM_BYTES];

static const void *p2v(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	return (pa + len <= MEM_BYTES) ? mem + pa : NULL;
}

static void fix_checksum(uint8_t *p, uint32_t len, uint32_t sum_off)
{
	uint8_t s = 0;

	p[sum_off] = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[sum_off] = (uint8_t)-s;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void sdt_header(uint8_t *p, const char *sig, uint32_t len)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = 1;
}

/* MADT at 0x70000: 3 LAPICs (one disabled), one x2APIC, one IOAPIC. */
static void build_madt(void)
{
	uint8_t *m = mem + 0x70000, *e = m + 44;

	memset(m, 0, 256);
	put32(m + 36, 0xFEE00000);
	e[0] = 0; e[1] = 8; e[2] = 0; e[3] = 0; put32(e + 4, 1); e += 8;
	e[0] = 0; e[1] = 8; e[2] = 1; e[3] = 2; put32(e + 4, 1); e += 8;
	e[0] = 0; e[1] = 8; e[2] = 2; e[3] = 4; put32(e + 4, 0); e += 8; /* off */
	e[0] = 1; e[1] = 12; e[2] = 9; put32(e + 4, 0xFEC00000); put32(e + 8, 0); e += 12;
	e[0] = 9; e[1] = 16; put32(e + 4, 300); put32(e + 8, 1); e += 16;
	sdt_header(m, "APIC", (uint32_t)(e - m));
	fix_checksum(m, (uint32_t)(e - m), 9);
}

static void build_other_table(uint32_t pa)
{
	sdt_header(mem + pa, "FACP", 64);
	fix_checksum(mem + pa, 64, 9);
}

static void build_xsdt(uint32_t pa)
{
	uint8_t *x = mem + pa;

	sdt_header(x, "XSDT", 36 + 16);
	put64(x + 36, 0x71000);
	put64(x + 44, 0x70000);
	fix_checksum(x, 52, 9);
}

static void build_rsdt(uint32_t pa)
{
	uint8_t *x = mem + pa;

	sdt_header(x, "RSDT", 36 + 8);
	put32(x + 36, 0x71000);
	put32(x + 40, 0x70000);
	fix_checksum(x, 44, 9);
}

static void build_rsdp(uint32_t pa, int rev)
{
	uint8_t *r = mem + pa;

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	r[15] = (uint8_t)rev;
	put32(r + 16, 0x72000);
	put32(r + 20, 36);
	put64(r + 24, rev >= 2 ? 0x73000 : 0);
	fix_checksum(r, 20, 8);
	fix_checksum(r, 36, 32);
}

static void reset_mem(void)
{
	memset(mem, 0, sizeof(mem));
	build_madt();
	build_other_table(0x71000);
	build_rsdt(0x72000);
	build_xsdt(0x73000);
}

static void check_madt(const struct acpi_info *a)
{
	CHECK_EQ_U64(a->lapic_pa, 0xFEE00000);
	CHECK_EQ_U64(a->nr_cpus, 3);
	CHECK_EQ_U64(a->cpu_apic_ids[0], 0);
	CHECK_EQ_U64(a->cpu_apic_ids[1], 2);
	CHECK_EQ_U64(a->cpu_apic_ids[2], 300);
	CHECK_EQ_U64(a->nr_ioapics, 1);
	CHECK_EQ_U64(a->ioapics[0].id, 9);
	CHECK_EQ_U64(a->ioapics[0].pa, 0xFEC00000);
}

static void test_find_and_parse(void)
{
	struct acpi_info a;

	reset_mem();
	CHECK_EQ_U64(acpi_find_rsdp(p2v, NULL), 0);       /* nothing yet */
	build_rsdp(0xF5A10, 2);                            /* BIOS area */
	CHECK_EQ_U64(acpi_find_rsdp(p2v, NULL), 0xF5A10);
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), 0);
	check_madt(&a);
	/* EBDA at 0x9FC00 wins over the BIOS area. */
	mem[0x40E] = 0xC0;
	mem[0x40F] = 0x9F;
	build_rsdp(0x9FC40, 0);
	CHECK_EQ_U64(acpi_find_rsdp(p2v, NULL), 0x9FC40);
	CHECK_EQ_INT(acpi_parse(0x9FC40, p2v, NULL, &a), 0); /* via the RSDT */
	check_madt(&a);
}

static void test_errors(void)
{
	struct acpi_info a;

	reset_mem();
	build_rsdp(0xF5A10, 2);
	mem[0x70000 + 50] ^= 0x55; /* corrupt the MADT: checksum fails */
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), -ENOENT);
	reset_mem();
	build_rsdp(0xF5A10, 2);
	mem[0xF5A10 + 3] ^= 1; /* bad RSDP checksum */
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), -EINVAL);
	CHECK_EQ_U64(acpi_find_rsdp(p2v, NULL), 0);
	reset_mem();
	build_rsdp(0xF5A10, 2);
	put32(mem + 0x73000 + 4, 0x7fffffff); /* absurd XSDT length */
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), -EINVAL);
	reset_mem();
	build_rsdp(0xF5A10, 2);
	memcpy(mem + 0x70000, "XXXX", 4); /* no MADT at all */
	fix_checksum(mem + 0x70000, 44 + 8 * 3 + 12 + 16, 9);
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), -ENOENT);
	/* A MADT entry with length 0 stops the walk instead of looping. */
	reset_mem();
	build_rsdp(0xF5A10, 2);
	mem[0x70000 + 44 + 8 + 1] = 0;
	fix_checksum(mem + 0x70000, 44 + 8 * 3 + 12 + 16, 9);
	CHECK_EQ_INT(acpi_parse(0xF5A10, p2v, NULL, &a), 0);
	CHECK_EQ_U64(a.nr_cpus, 1);
}

int main(void)
{
	test_find_and_parse();
	test_errors();
	return harness_done("acpi");
}
