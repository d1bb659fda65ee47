/*
 * Unit tests for hypervisor/devices/acpi_tables.c. The tables are parsed
 * back independently of the builder, from the spec's offsets (ACPI 6.x
 * chapter 5): Linux's RSDP scan of 0xE0000-0xFFFFF, both RSDP checksums,
 * XSDT and RSDT walks, every table's signature, length, revision and
 * checksum, the FADT fields (PM1 blocks and their GAS forms, flags,
 * IA-PC boot flags, reset register, DSDT/FACS pointers), the FACS and its
 * 64-byte alignment, the MADT both through the hypervisor's own parser
 * (hypervisor/common/acpi.c) and entry by entry, and the DSDT's AML,
 * decoded with a small AML reader of its own (PkgLength, NameString,
 * integers, Package, Scope, Device, Buffer, resource descriptors). The
 * AML helpers are also tested directly (PkgLength in 1-4 bytes, integer
 * encodings, EisaId), as are -EINVAL and -ENOSPC (buffer untouched).
 * CPU hotplug (max_cpus > 1): the MADT's disabled, online-capable CPUs,
 * the FADT's GPE0 block, and the DSDT's hotplug registers, CPU devices
 * and \_GPE._E02 opcode by opcode; max_cpus 0 or 1 changes no byte. If
 * ACPICA's iasl is on the PATH, it disassembles the hotplug DSDTs without
 * errors and compiles its output back to the very same AML.
 */
#include "../../hypervisor/common/acpi.c"
#include "../../hypervisor/devices/acpi_tables.c"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BIOS_PA 0xE0000u
#define BIOS_BYTES 0x20000u     /* 0xE0000-0xFFFFF */
#define IOAPIC_PA 0xFEC00000u
#define LAPIC_PA 0xFEE00000u
#define PM_IO 0x600u
#define RESET_PORT 0xCF9u
#define SCI_IRQ 9u
#define GPE0_IO 0xAFE0u
#define CPUHP_IO 0xAF00u

static uint8_t bios[BIOS_BYTES];

/* ---- little-endian readers and checksums (independent of the builder) */

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (rd16(p + 2) << 16);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static uint8_t sum8(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* ---- guest-physical view of the BIOS area for acpi.c's p2v callback */

struct view {
	uint64_t base_pa;
	uint8_t *mem;
	uint64_t bytes;
};

static const void *view_p2v(uint64_t pa, uint64_t len, void *ctx)
{
	struct view *v = ctx;

	if (pa < v->base_pa || pa - v->base_pa > v->bytes ||
	    len > v->bytes - (pa - v->base_pa))
		return NULL;
	return v->mem + (pa - v->base_pa);
}

/* Pointer to the guest-physical pa inside the tables, or NULL. */
static const uint8_t *at(const struct view *v, uint64_t pa, uint64_t len)
{
	return view_p2v(pa, len, (void *)v);
}

static struct acpi_tables_cfg default_cfg(uint32_t nr_cpus)
{
	struct acpi_tables_cfg c = {
		.nr_cpus = nr_cpus,
		.ioapic_id = 15,
		.ioapic_pa = IOAPIC_PA,
		.lapic_pa = LAPIC_PA,
		.pm_io_base = PM_IO,
		.sci_irq = SCI_IRQ,
		.reset_port = RESET_PORT,
	};
	return c;
}

/* default_cfg with CPU hotplug: nr_cpus present of max_cpus. */
static struct acpi_tables_cfg hotplug_cfg(uint32_t nr_cpus, uint32_t max_cpus)
{
	struct acpi_tables_cfg c = default_cfg(nr_cpus);

	c.max_cpus = max_cpus;
	c.gpe0_io_base = GPE0_IO;
	c.cpuhp_io_base = CPUHP_IO;
	return c;
}

static bool hotplug(const struct acpi_tables_cfg *c)
{
	return c->max_cpus > 1;
}

/* How many CPUs the MADT lists. */
static uint32_t listed_cpus(const struct acpi_tables_cfg *c)
{
	return hotplug(c) ? c->max_cpus : c->nr_cpus;
}

/* Check an SDT header at pa; returns the table or NULL. */
static const uint8_t *check_sdt(const struct view *v, uint64_t pa,
				const char *sig, uint32_t revision)
{
	const uint8_t *t = at(v, pa, 36);
	uint32_t len;

	CHECK_MSG(t != NULL, "%s at 0x%llx outside the tables", sig,
		  (unsigned long long)pa);
	if (!t)
		return NULL;
	len = rd32(t + 4);
	CHECK_MSG(memcmp(t, sig, 4) == 0, "want %s, found %.4s", sig,
		  (const char *)t);
	CHECK_MSG(len >= 36 && at(v, pa, len) != NULL, "%s length %u", sig,
		  len);
	if (len < 36 || !at(v, pa, len))
		return NULL;
	CHECK_EQ_INT(t[8], revision);
	CHECK_MSG(sum8(t, len) == 0, "%s checksum", sig);
	CHECK(memcmp(t + 10, "KEEL  ", 6) == 0);
	return t;
}

/* ---- RSDP, XSDT, RSDT */

struct found {
	uint64_t rsdp, fadt, madt, dsdt, facs;
};

static void check_rsdp_and_sdts(const struct view *v, struct found *f)
{
	const uint8_t *r = at(v, f->rsdp, 36), *x, *rs;

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(memcmp(r, "RSD PTR ", 8) == 0);
	CHECK_EQ_U64(sum8(r, 20), 0);
	CHECK_EQ_U64(sum8(r, 36), 0);
	CHECK(memcmp(r + 9, "KEEL  ", 6) == 0);
	CHECK_EQ_INT(r[15], 2);
	CHECK_EQ_U64(rd32(r + 20), 36);
	CHECK_EQ_U64(f->rsdp % 16, 0);

	x = check_sdt(v, rd64(r + 24), "XSDT", 1);
	rs = check_sdt(v, rd32(r + 16), "RSDT", 1);
	if (!x || !rs)
		return;
	CHECK_EQ_U64(rd32(x + 4), 36 + 2 * 8);
	CHECK_EQ_U64(rd32(rs + 4), 36 + 2 * 4);
	for (uint32_t i = 0; i < 2; i++) {
		uint64_t pa = rd64(x + 36 + 8 * i);
		const uint8_t *t = at(v, pa, 4);

		CHECK_EQ_U64(rd32(rs + 36 + 4 * i), pa);
		if (t && memcmp(t, "FACP", 4) == 0)
			f->fadt = pa;
		else if (t && memcmp(t, "APIC", 4) == 0)
			f->madt = pa;
		else
			CHECK_MSG(0, "XSDT entry %u at 0x%llx unknown", i,
				  (unsigned long long)pa);
	}
	CHECK(f->fadt != 0);
	CHECK(f->madt != 0);
}

/* ---- FADT and FACS */

static void check_gas(const uint8_t *g, uint32_t space, uint32_t bits,
		      uint32_t access, uint64_t addr)
{
	CHECK_EQ_INT(g[0], space);
	CHECK_EQ_INT(g[1], bits);
	CHECK_EQ_INT(g[2], 0);
	CHECK_EQ_INT(g[3], access);
	CHECK_EQ_U64(rd64(g + 4), addr);
}

static void check_fadt(const struct view *v, const struct acpi_tables_cfg *c,
		       struct found *f)
{
	const uint8_t *t = check_sdt(v, f->fadt, "FACP", 6), *facs;
	uint32_t flags, boot;

	if (!t)
		return;
	CHECK_EQ_U64(rd32(t + 4), 276);
	/* FADT 6.3 or later: the MADT's Online Capable bit is an ACPI 6.3
	 * feature, and Linux since late 2025 honours it (and so counts a
	 * hot-pluggable CPU) only when the FADT says 6.3 or later. */
	CHECK(t[8] == 6 && t[131] >= 3);
	f->facs = rd32(t + 36);
	f->dsdt = rd32(t + 40);
	CHECK_EQ_U64(rd64(t + 132), f->facs);        /* X_FIRMWARE_CTRL */
	CHECK_EQ_U64(rd64(t + 140), f->dsdt);        /* X_DSDT */
	CHECK_EQ_U64(rd16(t + 46), c->sci_irq);      /* SCI_INT */
	CHECK_EQ_U64(rd32(t + 48), 0);               /* SMI_CMD */
	CHECK_EQ_U64(rd32(t + 56), c->pm_io_base);   /* PM1a_EVT_BLK */
	CHECK_EQ_U64(rd32(t + 60), 0);               /* PM1b_EVT_BLK */
	CHECK_EQ_U64(rd32(t + 64), c->pm_io_base + 4u); /* PM1a_CNT_BLK */
	CHECK_EQ_U64(rd32(t + 68), 0);               /* PM1b_CNT_BLK */
	CHECK_EQ_U64(rd32(t + 72), 0);               /* PM2_CNT_BLK */
	CHECK_EQ_U64(rd32(t + 76), 0);               /* PM_TMR_BLK */
	CHECK_EQ_U64(rd32(t + 80), hotplug(c) ? c->gpe0_io_base : 0); /* GPE0 */
	CHECK_EQ_U64(rd32(t + 84), 0);               /* GPE1_BLK */
	CHECK_EQ_INT(t[88], 4);                      /* PM1_EVT_LEN */
	CHECK_EQ_INT(t[89], 2);                      /* PM1_CNT_LEN */
	CHECK_EQ_INT(t[90], 0);
	CHECK_EQ_INT(t[91], 0);                      /* PM_TMR_LEN */
	CHECK_EQ_INT(t[92], hotplug(c) ? 2 : 0);     /* GPE0_BLK_LEN */
	CHECK_EQ_INT(t[93], 0);
	CHECK(rd16(t + 96) > 100);                   /* no C2 */
	CHECK(rd16(t + 98) > 1000);                  /* no C3 */

	boot = rd16(t + 109);
	CHECK_EQ_U64(boot & (1u << 0), 0);           /* LEGACY_DEVICES */
	CHECK_EQ_U64(boot & (1u << 1), 0);           /* 8042 */
	CHECK(boot & (1u << 2));                     /* VGA Not Present */
	CHECK_EQ_U64(boot & (1u << 3), 0);           /* MSI Not Supported */
	CHECK(boot & (1u << 5));                     /* CMOS RTC Not Present */

	flags = rd32(t + 112);
	CHECK(flags & (1u << 0));                    /* WBINVD */
	CHECK(flags & (1u << 2));                    /* PROC_C1 */
	CHECK_EQ_U64(flags & (1u << 4), 0);          /* PWR_BUTTON: fixed */
	CHECK_EQ_U64(flags & (1u << 5), 0);          /* SLP_BUTTON: fixed */
	CHECK(flags & (1u << 10));                   /* RESET_REG_SUP */
	CHECK_EQ_U64(flags & (1u << 20), 0);         /* HW_REDUCED_ACPI */

	check_gas(t + 116, 1, 8, 1, c->reset_port);  /* RESET_REG */
	CHECK_EQ_INT(t[128], 0x06);                  /* RESET_VALUE */
	check_gas(t + 148, 1, 32, 2, c->pm_io_base);       /* X_PM1a_EVT */
	check_gas(t + 160, 0, 0, 0, 0);                    /* X_PM1b_EVT */
	check_gas(t + 172, 1, 16, 2, c->pm_io_base + 4u);  /* X_PM1a_CNT */
	for (uint32_t off = 184; off < 268; off += 12)     /* the rest */
		if (off == 220 && hotplug(c))              /* X_GPE0_BLK */
			check_gas(t + off, 1, 16, 1, c->gpe0_io_base);
		else
			check_gas(t + off, 0, 0, 0, 0);

	facs = at(v, f->facs, 64);
	CHECK(facs != NULL);
	CHECK_EQ_U64(f->facs % 64, 0);
	if (facs) {
		CHECK(memcmp(facs, "FACS", 4) == 0);
		CHECK_EQ_U64(rd32(facs + 4), 64);
		CHECK_EQ_U64(rd32(facs + 16), 0);     /* Global Lock free */
		CHECK_EQ_INT(facs[32], 2);            /* Version */
	}
}

/* ---- MADT */

/* An Interrupt Source Override: IRQ 0 -> GSI 2 edge/high, or the SCI
 * identity-mapped level/high; nothing else (IRQ 4 keeps the default). */
static void check_iso(const uint8_t *e, const struct acpi_tables_cfg *c,
		      bool *iso_timer, bool *iso_sci)
{
	CHECK_EQ_INT(e[1], 10);
	CHECK_EQ_INT(e[2], 0);                       /* ISA */
	if (e[3] == 0) {
		CHECK_EQ_U64(rd32(e + 4), 2);
		CHECK_EQ_U64(rd16(e + 8), 0x0005);   /* edge, active high */
		*iso_timer = true;
	} else if (e[3] == c->sci_irq) {
		CHECK_EQ_U64(rd32(e + 4), c->sci_irq);
		CHECK_EQ_U64(rd16(e + 8), 0x000D);   /* level, active high */
		*iso_sci = true;
	} else {
		CHECK_MSG(0, "unexpected override of IRQ %u", e[3]);
	}
}

static void check_madt(const struct view *v, const struct acpi_tables_cfg *c,
		       const struct found *f)
{
	const uint8_t *t = check_sdt(v, f->madt, "APIC", 5);
	uint32_t len, off, cpus = 0, ioapics = 0, nmis = 0;
	bool iso_timer = false, iso_sci = false;
	struct acpi_info info;

	if (!t)
		return;
	len = rd32(t + 4);
	CHECK_EQ_U64(rd32(t + 36), c->lapic_pa);
	CHECK_EQ_U64(rd32(t + 40) & 1u, 0);          /* PCAT_COMPAT clear */
	for (off = 44; off + 2 <= len; off += t[off + 1]) {
		const uint8_t *e = t + off;

		if (e[1] < 2 || off + e[1] > len)
			break;
		if (e[0] == 0) {
			CHECK_EQ_INT(e[1], 8);
			CHECK_EQ_INT(e[2], cpus);            /* UID */
			CHECK_EQ_INT(e[3], cpus);            /* APIC ID */
			/* Enabled, or (hotplug) Online Capable only. */
			CHECK_EQ_U64(rd32(e + 4), cpus < c->nr_cpus ? 1 : 2);
			cpus++;
		} else if (e[0] == 1) {
			CHECK_EQ_INT(e[1], 12);
			CHECK_EQ_INT(e[2], c->ioapic_id);
			CHECK_EQ_U64(rd32(e + 4), c->ioapic_pa);
			CHECK_EQ_U64(rd32(e + 8), 0);
			ioapics++;
		} else if (e[0] == 2) {
			check_iso(e, c, &iso_timer, &iso_sci);
		} else if (e[0] == 4) {
			CHECK_EQ_INT(e[1], 6);
			CHECK_EQ_INT(e[2], 0xFF);
			CHECK_EQ_INT(e[5], 1);               /* LINT1 */
			nmis++;
		} else {
			CHECK_MSG(0, "unexpected MADT entry type %u", e[0]);
		}
	}
	CHECK_EQ_U64(off, len);                      /* entries fill it */
	CHECK_EQ_U64(cpus, listed_cpus(c));
	CHECK_EQ_U64(ioapics, 1);
	CHECK_EQ_U64(nmis, 1);
	CHECK(iso_timer);
	CHECK(iso_sci);

	/* The hypervisor's own MADT parser must agree (it counts only the
	 * enabled CPUs). */
	CHECK_EQ_INT(acpi_parse(f->rsdp, view_p2v, (void *)v, &info), 0);
	CHECK_EQ_U64(info.lapic_pa, c->lapic_pa);
	CHECK_EQ_U64(info.nr_cpus, c->nr_cpus);
	for (uint32_t i = 0; i < info.nr_cpus && i < ACPI_MAX_CPUS; i++)
		CHECK_EQ_U64(info.cpu_apic_ids[i], i);
	CHECK_EQ_U64(info.nr_ioapics, 1);
	CHECK_EQ_U64(info.ioapics[0].id, c->ioapic_id);
	CHECK_EQ_U64(info.ioapics[0].pa, c->ioapic_pa);
	CHECK_EQ_U64(info.ioapics[0].gsi_base, 0);
}

/* ---- an AML reader for the DSDT (ACPI 6.x chapter 20) */

struct aml {
	const uint8_t *p;
	uint32_t pos, end; /* reading p[pos..end) */
	bool bad;
};

static uint32_t aml_rd8(struct aml *a)
{
	if (a->pos >= a->end) {
		a->bad = true;
		return 0;
	}
	return a->p[a->pos++];
}

/* PkgLength (20.2.4); returns the end of the package it opens, measured
 * from the first PkgLength byte. */
static uint32_t aml_rd_pkglen(struct aml *a)
{
	uint32_t start = a->pos, lead = aml_rd8(a);
	uint32_t follow = lead >> 6, len;

	if (follow == 0)
		return start + (lead & 0x3F);
	CHECK_EQ_U64(lead & 0x30, 0);               /* bits 5:4 reserved */
	len = lead & 0x0F;
	for (uint32_t i = 0; i < follow; i++)
		len |= aml_rd8(a) << (4 + 8 * i);
	/* The encoding must be the shortest one. */
	CHECK_MSG(len > (follow == 1 ? 0x3Fu : follow == 2 ? 0xFFFu : 0xFFFFFu),
		  "PkgLength 0x%x in %u bytes", len, follow + 1);
	return start + len;
}

/* One NameSeg with an optional root prefix, as a string "\XXXX". */
static void aml_rd_name(struct aml *a, char out[6])
{
	uint32_t i = 0;

	if (a->pos < a->end && a->p[a->pos] == '\\')
		out[i++] = (char)aml_rd8(a);
	for (uint32_t k = 0; k < 4; k++)
		out[i++] = (char)aml_rd8(a);
	out[i] = 0;
}

static uint64_t aml_rd_int(struct aml *a)
{
	uint32_t op = aml_rd8(a);
	uint64_t v = 0;
	uint32_t n = op == 0x0A ? 1 : op == 0x0B ? 2 : op == 0x0C ? 4 :
		     op == 0x0E ? 8 : 0;

	if (op == 0x00 || op == 0x01)
		return op;
	if (op == 0xFF)
		return ~0ull;
	if (!n) {
		CHECK_MSG(0, "not an integer: opcode 0x%02x", op);
		a->bad = true;
	}
	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)aml_rd8(a) << (8 * i);
	return v;
}

/* Expect Name(name, ...) next; true if found. */
static bool aml_expect_name(struct aml *a, const char *name)
{
	char got[6];

	CHECK_EQ_INT(aml_rd8(a), 0x08);
	aml_rd_name(a, got);
	CHECK_EQ_STR(got, name);
	return strcmp(got, name) == 0;
}

/* EisaId back to its 7-character string. */
static void eisaid_str(uint32_t v, char out[8])
{
	uint32_t mfg = ((v & 0xFF) << 8) | ((v >> 8) & 0xFF);
	uint32_t prod = (((v >> 16) & 0xFF) << 8) | ((v >> 24) & 0xFF);
	const char *hex = "0123456789ABCDEF";

	out[0] = (char)('@' + ((mfg >> 10) & 0x1F));
	out[1] = (char)('@' + ((mfg >> 5) & 0x1F));
	out[2] = (char)('@' + (mfg & 0x1F));
	for (int i = 0; i < 4; i++)
		out[3 + i] = hex[(prod >> (12 - 4 * i)) & 0xF];
	out[7] = 0;
}

/* Word or DWord Address Space Descriptor: check type, flags, range. */
static void check_addr_desc(const uint8_t *d, uint32_t width, uint32_t type,
			    uint32_t type_flags, uint32_t min, uint32_t max)
{
	const uint8_t *f = d + 6; /* _GRA */

	CHECK_EQ_INT(d[0], width == 2 ? 0x88 : 0x87);
	CHECK_EQ_U64(rd16(d + 1), width == 2 ? 13 : 23);
	CHECK_EQ_INT(d[3], type);
	CHECK_EQ_INT(d[4], 0x0C);   /* producer, min and max fixed */
	CHECK_EQ_INT(d[5], type_flags);
	if (width == 2) {
		CHECK_EQ_U64(rd16(f), 0);
		CHECK_EQ_U64(rd16(f + 2), min);
		CHECK_EQ_U64(rd16(f + 4), max);
		CHECK_EQ_U64(rd16(f + 6), 0);
		CHECK_EQ_U64(rd16(f + 8), max - min + 1);
	} else {
		CHECK_EQ_U64(rd32(f), 0);
		CHECK_EQ_U64(rd32(f + 4), min);
		CHECK_EQ_U64(rd32(f + 8), max);
		CHECK_EQ_U64(rd32(f + 12), 0);
		CHECK_EQ_U64(rd32(f + 16), max - min + 1);
	}
}

/* The _CRS byte list: bus 0, CF8-CFF, two I/O and two memory windows. */
static void check_crs(const uint8_t *d, uint32_t n)
{
	static const uint8_t io_cf8[8] = { 0x47, 0x01, 0xF8, 0x0C,
					   0xF8, 0x0C, 0x01, 0x08 };

	CHECK_EQ_U64(n, 16 + 8 + 16 + 16 + 26 + 26 + 2);
	if (n != 16 + 8 + 16 + 16 + 26 + 26 + 2)
		return;
	check_addr_desc(d, 2, 2, 0, 0, 0);                 /* bus 0..0 */
	CHECK(memcmp(d + 16, io_cf8, 8) == 0);
	check_addr_desc(d + 24, 2, 1, 3, 0x0000, 0x0CF7);
	check_addr_desc(d + 40, 2, 1, 3, 0x0D00, 0xFFFF);
	check_addr_desc(d + 56, 4, 0, 3, 0x000A0000, 0x000BFFFF);
	check_addr_desc(d + 82, 4, 0, 1, 0xC0000000, 0xFEBFFFFF);
	CHECK_EQ_INT(d[108], 0x79);                        /* End Tag */
	CHECK_EQ_INT(d[109], 0);
}

/* Device(PCI0) body: _HID PNP0A03, _UID, _SEG, _BBN, _CRS. */
static void check_pci0(struct aml *a)
{
	static const char *const zero_names[] = { "_UID", "_SEG", "_BBN" };
	char id[8];
	uint32_t buf_end, size;

	if (aml_expect_name(a, "_HID")) {
		eisaid_str((uint32_t)aml_rd_int(a), id);
		CHECK_EQ_STR(id, "PNP0A03");
	}
	for (uint32_t i = 0; i < 3; i++)
		if (aml_expect_name(a, zero_names[i]))
			CHECK_EQ_U64(aml_rd_int(a), 0);
	if (!aml_expect_name(a, "_CRS"))
		return;
	CHECK_EQ_INT(aml_rd8(a), 0x11);                    /* BufferOp */
	buf_end = aml_rd_pkglen(a);
	size = (uint32_t)aml_rd_int(a);
	CHECK_EQ_U64(a->pos + size, buf_end);
	if (a->pos + size == buf_end && buf_end <= a->end)
		check_crs(a->p + a->pos, size);
	a->pos = buf_end;
}

/* ---- the CPU hotplug AML, opcode by opcode (ACPI 6.x 20.2) */

static void aml_expect_op(struct aml *a, uint32_t op)
{
	uint32_t got = aml_rd8(a);

	CHECK_MSG(got == op, "AML at %u: opcode 0x%02x, want 0x%02x",
		  a->pos - 1, got, op);
}

/* The opcode op (after ExtOpPrefix if ext) and its PkgLength; returns
 * the package's end. */
static uint32_t aml_expect_pkg(struct aml *a, bool ext, uint32_t op)
{
	if (ext)
		aml_expect_op(a, 0x5B);
	aml_expect_op(a, op);
	return aml_rd_pkglen(a);
}

/* A package must end exactly here; continue after it either way. */
static void aml_expect_end(struct aml *a, uint32_t end)
{
	CHECK_MSG(a->pos == end, "AML package ends at %u, read up to %u", end,
		  a->pos);
	a->pos = end;
}

/* A NameString of one NameSeg, or of two after DualNamePrefix 0x2E, with
 * an optional root prefix, as "\XXXX.YYYY"; "Local0" for LocalObj 0x60. */
static void aml_expect_operand(struct aml *a, const char *want)
{
	char got[16];
	uint32_t i = 0, segs = 1;

	if (a->pos < a->end && a->p[a->pos] == 0x60) {
		a->pos++;
		CHECK_EQ_STR("Local0", want);
		return;
	}
	if (a->pos < a->end && a->p[a->pos] == '\\')
		got[i++] = (char)aml_rd8(a);
	if (a->pos < a->end && a->p[a->pos] == 0x2E) {
		a->pos++;
		segs = 2;
	}
	for (uint32_t s = 0; s < segs; s++) {
		if (s)
			got[i++] = '.';
		for (uint32_t k = 0; k < 4; k++)
			got[i++] = (char)aml_rd8(a);
	}
	got[i] = 0;
	CHECK_EQ_STR(got, want);
}

/* And(operand, mask) with NullName as Target. */
static void aml_expect_and(struct aml *a, const char *operand, uint64_t mask)
{
	aml_expect_op(a, 0x7B);
	aml_expect_operand(a, operand);
	CHECK_EQ_U64(aml_rd_int(a), mask);
	aml_expect_op(a, 0x00);
}

/* Method(name, nargs, NotSerialized): returns its end. */
static uint32_t aml_expect_method(struct aml *a, const char *name,
				  uint32_t nargs)
{
	uint32_t end = aml_expect_pkg(a, false, 0x14);

	aml_expect_operand(a, name);
	CHECK_EQ_INT(aml_rd8(a), nargs);   /* MethodFlags: not serialized */
	return end;
}

/* String: 0x0D, the characters, NUL. */
static void aml_expect_string(struct aml *a, const char *want)
{
	char got[32];
	uint32_t i = 0, c;

	aml_expect_op(a, 0x0D);
	while ((c = aml_rd8(a)) != 0 && !a->bad && i < sizeof(got) - 1)
		got[i++] = (char)c;
	got[i] = 0;
	CHECK_EQ_STR(got, want);
}

/* Return(Buffer(8) { CPU cpu's MADT Local APIC entry with flags }). */
static void check_mat_return(struct aml *a, uint32_t cpu, uint32_t flags)
{
	const uint8_t want[8] = { 0, 8, (uint8_t)cpu, (uint8_t)cpu,
				  (uint8_t)flags, 0, 0, 0 };
	uint32_t end;

	aml_expect_op(a, 0xA4);                           /* Return */
	end = aml_expect_pkg(a, false, 0x11);             /* Buffer */
	CHECK_EQ_U64(aml_rd_int(a), 8);
	CHECK(a->pos + 8 == end && end <= a->end &&
	      memcmp(a->p + a->pos, want, 8) == 0);
	a->pos += 8;
	aml_expect_end(a, end);
}

/* Device(CPxx) { _HID "ACPI0007", _UID cpu, _STA, _MAT, _EJ0 }. */
static void check_cpu_device(struct aml *a, uint32_t cpu)
{
	uint32_t bit = 1u << cpu, dev, m, cond;
	char name[16];

	snprintf(name, sizeof(name), "CP%02X", cpu);
	dev = aml_expect_pkg(a, true, 0x82);
	aml_expect_operand(a, name);
	if (aml_expect_name(a, "_HID"))
		aml_expect_string(a, "ACPI0007");
	if (aml_expect_name(a, "_UID"))
		CHECK_EQ_U64(aml_rd_int(a), cpu);

	/* _STA: If (And(CPPR, bit)) { Return(0x0F) } Return(Zero) */
	m = aml_expect_method(a, "_STA", 0);
	cond = aml_expect_pkg(a, false, 0xA0);
	aml_expect_and(a, "CPPR", bit);
	aml_expect_op(a, 0xA4);
	CHECK_EQ_U64(aml_rd_int(a), 0x0F);
	aml_expect_end(a, cond);
	aml_expect_op(a, 0xA4);
	CHECK_EQ_U64(aml_rd_int(a), 0);
	aml_expect_end(a, m);

	/* _MAT: the MADT entry, Enabled if present, else Online Capable */
	m = aml_expect_method(a, "_MAT", 0);
	cond = aml_expect_pkg(a, false, 0xA0);
	aml_expect_and(a, "CPPR", bit);
	check_mat_return(a, cpu, 1);
	aml_expect_end(a, cond);
	check_mat_return(a, cpu, 2);
	aml_expect_end(a, m);

	/* _EJ0(1 arg): Store(bit, CPEJ) */
	m = aml_expect_method(a, "_EJ0", 1);
	aml_expect_op(a, 0x70);
	CHECK_EQ_U64(aml_rd_int(a), bit);
	aml_expect_operand(a, "CPEJ");
	aml_expect_end(a, m);
	aml_expect_end(a, dev);
}

/* Scope(\_SB_) { OperationRegion(CPHR, SystemIO, base, 2),
 * Field(CPHR, ByteAcc, NoLock, Preserve) { CPPR, 8, CPEJ, 8 }, CP01.. }. */
static void check_cpuhp_scope(struct aml *a, const struct acpi_tables_cfg *c)
{
	uint32_t scope = aml_expect_pkg(a, false, 0x10), field;

	aml_expect_operand(a, "\\_SB_");
	aml_expect_op(a, 0x5B);
	aml_expect_op(a, 0x80);                          /* OperationRegion */
	aml_expect_operand(a, "CPHR");
	CHECK_EQ_INT(aml_rd8(a), 0x01);                  /* SystemIO */
	CHECK_EQ_U64(aml_rd_int(a), c->cpuhp_io_base);
	CHECK_EQ_U64(aml_rd_int(a), 2);
	field = aml_expect_pkg(a, true, 0x81);           /* Field */
	aml_expect_operand(a, "CPHR");
	CHECK_EQ_INT(aml_rd8(a), 0x01);          /* ByteAcc, NoLock, Preserve */
	aml_expect_operand(a, "CPPR");
	CHECK_EQ_INT(aml_rd8(a), 8);                     /* bits */
	aml_expect_operand(a, "CPEJ");
	CHECK_EQ_INT(aml_rd8(a), 8);
	aml_expect_end(a, field);
	for (uint32_t cpu = 1; cpu < c->max_cpus; cpu++)
		check_cpu_device(a, cpu);
	aml_expect_end(a, scope);
}

/* _E02's part for CPU cpu: If (LNot(LEqual(And(Local0, bit), And(CPON,
 * bit)))) { If (And(Local0, bit)) { Notify(CPxx, 1) } Else {
 * Notify(CPxx, 3) } }. */
static void check_gpe_cpu(struct aml *a, uint32_t cpu)
{
	uint32_t bit = 1u << cpu, changed, came, went;
	char path[24];

	snprintf(path, sizeof(path), "\\_SB_.CP%02X", cpu);
	changed = aml_expect_pkg(a, false, 0xA0);
	aml_expect_op(a, 0x92);                          /* LNot */
	aml_expect_op(a, 0x93);                          /* LEqual */
	aml_expect_and(a, "Local0", bit);
	aml_expect_and(a, "CPON", bit);
	came = aml_expect_pkg(a, false, 0xA0);
	aml_expect_and(a, "Local0", bit);
	aml_expect_op(a, 0x86);                          /* Notify */
	aml_expect_operand(a, path);
	CHECK_EQ_U64(aml_rd_int(a), 1);                  /* Device Check */
	aml_expect_end(a, came);
	went = aml_expect_pkg(a, false, 0xA1);           /* Else */
	aml_expect_op(a, 0x86);
	aml_expect_operand(a, path);
	CHECK_EQ_U64(aml_rd_int(a), 3);                  /* Eject Request */
	aml_expect_end(a, went);
	aml_expect_end(a, changed);
}

/* Scope(\_GPE) { Name(CPON, present set), Method(_E02) { Store(\_SB_.CPPR,
 * Local0), check_gpe_cpu() for CPUs 1.., Store(Local0, CPON) } }. */
static void check_gpe_scope(struct aml *a, const struct acpi_tables_cfg *c)
{
	uint32_t scope = aml_expect_pkg(a, false, 0x10), m;

	aml_expect_operand(a, "\\_GPE");
	if (aml_expect_name(a, "CPON"))
		CHECK_EQ_U64(aml_rd_int(a), (1u << c->nr_cpus) - 1);
	m = aml_expect_method(a, "_E02", 0);
	aml_expect_op(a, 0x70);
	aml_expect_operand(a, "\\_SB_.CPPR");
	aml_expect_operand(a, "Local0");
	for (uint32_t cpu = 1; cpu < c->max_cpus; cpu++)
		check_gpe_cpu(a, cpu);
	aml_expect_op(a, 0x70);
	aml_expect_operand(a, "Local0");
	aml_expect_operand(a, "CPON");
	aml_expect_end(a, m);
	aml_expect_end(a, scope);
}

/* The whole DSDT: \_S5_ then \_SB_.PCI0, with hotplug then the CPUs'
 * \_SB_ scope and \_GPE; every package ends exactly. */
static void check_dsdt(const struct view *v, const struct acpi_tables_cfg *c,
		       const struct found *f)
{
	const uint8_t *t = check_sdt(v, f->dsdt, "DSDT", 2);
	struct aml a;
	uint32_t pkg_end, scope_end, dev_end;
	char name[6];

	if (!t)
		return;
	a = (struct aml){ t, 36, rd32(t + 4), false };

	/* Name(\_S5_, Package(4) { 5, 5, 0, 0 }) */
	if (aml_expect_name(&a, "\\_S5_")) {
		CHECK_EQ_INT(aml_rd8(&a), 0x12);           /* PackageOp */
		pkg_end = aml_rd_pkglen(&a);
		CHECK_EQ_INT(aml_rd8(&a), 4);              /* NumElements */
		CHECK_EQ_U64(aml_rd_int(&a), 5);           /* SLP_TYPa */
		CHECK_EQ_U64(aml_rd_int(&a), 5);           /* SLP_TYPb */
		CHECK_EQ_U64(aml_rd_int(&a), 0);
		CHECK_EQ_U64(aml_rd_int(&a), 0);
		CHECK_EQ_U64(a.pos, pkg_end);
		a.pos = pkg_end;
	}

	/* Scope(\_SB_) { Device(PCI0) { ... } } */
	CHECK_EQ_INT(aml_rd8(&a), 0x10);                   /* ScopeOp */
	scope_end = aml_rd_pkglen(&a);
	aml_rd_name(&a, name);
	CHECK_EQ_STR(name, "\\_SB_");
	CHECK_EQ_INT(aml_rd8(&a), 0x5B);                   /* DeviceOp */
	CHECK_EQ_INT(aml_rd8(&a), 0x82);
	dev_end = aml_rd_pkglen(&a);
	aml_rd_name(&a, name);
	CHECK_EQ_STR(name, "PCI0");
	check_pci0(&a);
	CHECK_EQ_U64(a.pos, dev_end);
	CHECK_EQ_U64(dev_end, scope_end);
	a.pos = scope_end;
	if (hotplug(c)) {
		check_cpuhp_scope(&a, c);
		check_gpe_scope(&a, c);
	}
	CHECK_EQ_U64(a.pos, rd32(t + 4));                  /* nothing after */
	CHECK(!a.bad);
}

/* ---- whole builds */

/* Build at base_pa into the BIOS area and check everything; *fp gets
 * where the tables are. */
static int build_and_check_found(const struct acpi_tables_cfg *c,
				 uint64_t base_pa, struct found *fp)
{
	struct view v = { BIOS_PA, bios, BIOS_BYTES };
	uint32_t off = (uint32_t)(base_pa - BIOS_PA);
	struct found f = { 0 };
	int n;

	memset(bios, 0, sizeof(bios));
	memset(bios + off, 0xA5, ACPI_TABLES_MAX_BYTES + 64);
	n = acpi_tables_build(bios + off, ACPI_TABLES_MAX_BYTES, base_pa, c);
	CHECK_MSG(n > 0 && (uint32_t)n <= ACPI_TABLES_MAX_BYTES,
		  "acpi_tables_build returned %d", n);
	if (n <= 0)
		return n;
	/* Nothing written past the bytes reported. */
	for (uint32_t i = (uint32_t)n; i < ACPI_TABLES_MAX_BYTES + 64; i++)
		if (bios[off + i] != 0xA5) {
			CHECK_MSG(0, "byte %u past the end written", i);
			break;
		}
	memset(bios + off + n, 0, ACPI_TABLES_MAX_BYTES + 64 - (uint32_t)n);

	/* Linux's (and acpi.c's) scan finds the RSDP at the start. */
	f.rsdp = acpi_find_rsdp(view_p2v, &v);
	CHECK_EQ_U64(f.rsdp, base_pa);
	f.rsdp = base_pa;
	check_rsdp_and_sdts(&v, &f);
	if (f.fadt)
		check_fadt(&v, c, &f);
	if (f.madt)
		check_madt(&v, c, &f);
	if (f.dsdt)
		check_dsdt(&v, c, &f);
	/* Every table lies within the n bytes reported. */
	CHECK(f.dsdt && f.dsdt + rd32(bios + (f.dsdt - BIOS_PA) + 4) <=
			       base_pa + (uint32_t)n);
	*fp = f;
	return n;
}

static int build_and_check(const struct acpi_tables_cfg *c, uint64_t base_pa)
{
	struct found f;

	return build_and_check_found(c, base_pa, &f);
}

static void test_builds(void)
{
	static const uint32_t cpus[] = { 1, 2, 4, 8 };
	int sizes[4];

	for (uint32_t i = 0; i < 4; i++) {
		struct acpi_tables_cfg c = default_cfg(cpus[i]);

		sizes[i] = build_and_check(&c, BIOS_PA);
	}
	printf("test_acpi_tables: tables are %d bytes for 1 CPU, %d for 8\n",
	       sizes[0], sizes[3]);
	CHECK_EQ_INT(sizes[3] - sizes[0], 7 * 8);

	/* Other placements: the FACS stays 64-byte aligned. */
	for (uint64_t base = BIOS_PA + 16; base < BIOS_PA + 128; base += 16) {
		struct acpi_tables_cfg c = default_cfg(3);

		build_and_check(&c, base);
	}
	/* Other values flow through. */
	{
		struct acpi_tables_cfg c = default_cfg(2);

		c.ioapic_id = 2;
		c.sci_irq = 11;
		c.pm_io_base = 0xB000;
		c.reset_port = 0x0CF9;
		build_and_check(&c, 0xF8000);
	}
}

/* Two builds give the same bytes; the returned size is the whole. */
static void test_deterministic(void)
{
	struct acpi_tables_cfg c = default_cfg(4);
	static uint8_t a[ACPI_TABLES_MAX_BYTES], b[ACPI_TABLES_MAX_BYTES];
	int na, nb;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	na = acpi_tables_build(a, sizeof(a), BIOS_PA, &c);
	nb = acpi_tables_build(b, sizeof(b), BIOS_PA, &c);
	CHECK_EQ_INT(na, nb);
	CHECK(na > 0 && memcmp(a, b, (size_t)na) == 0);
}

static void test_errors(void)
{
	struct acpi_tables_cfg good = default_cfg(2), c;
	static uint8_t buf[ACPI_TABLES_MAX_BYTES];
	int n = acpi_tables_build(buf, sizeof(buf), BIOS_PA, &good);

	CHECK(n > 0);
	CHECK_EQ_INT(acpi_tables_build(NULL, sizeof(buf), BIOS_PA, &good),
		     -EINVAL);
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA, NULL),
		     -EINVAL);
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA + 8, &good),
		     -EINVAL);
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), 0xFFFFFF00ull, &good),
		     -EINVAL);
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), 0x100000000ull,
				       &good), -EINVAL);
	CHECK(acpi_tables_build(buf, sizeof(buf), 0x100000000ull - 0x1000,
				&good) > 0);

#define BAD(field, value)                                                    \
	do {                                                                 \
		c = good;                                                    \
		c.field = value;                                             \
		CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA,    \
					       &c), -EINVAL);                \
	} while (0)
	BAD(nr_cpus, 0);
	BAD(nr_cpus, ACPI_TABLES_MAX_CPUS + 1);
	BAD(ioapic_id, 0xFF);
	BAD(ioapic_pa, 0);
	BAD(lapic_pa, 0);
	BAD(sci_irq, 0);
	BAD(sci_irq, 2);
	BAD(sci_irq, 16);
	BAD(pm_io_base, 0);
	BAD(pm_io_base, 0xFFFB);
	BAD(reset_port, 0);
#undef BAD
	c = good;
	c.pm_io_base = 0xFFFA;   /* the last 6 ports */
	CHECK(acpi_tables_build(buf, sizeof(buf), BIOS_PA, &c) > 0);

	/* Every too-small buffer: -ENOSPC and not a byte written. */
	for (uint32_t len = 0; len < (uint32_t)n; len++) {
		memset(buf, 0x5A, sizeof(buf));
		CHECK_EQ_INT(acpi_tables_build(buf, len, BIOS_PA, &good),
			     -ENOSPC);
		for (uint32_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != 0x5A) {
				CHECK_MSG(0, "len %u: byte %u written", len, i);
				break;
			}
	}
	CHECK_EQ_INT(acpi_tables_build(buf, (uint32_t)n, BIOS_PA, &good), n);
}

/* ---- CPU hotplug */

/* With max_cpus 0 or 1 the hotplug fields change no byte, whatever the
 * bases hold (max_cpus 1 even below nr_cpus: no hotplug either). */
static void test_cpuhp_off_identical(void)
{
	static uint8_t plain[ACPI_TABLES_MAX_BYTES], other[ACPI_TABLES_MAX_BYTES];
	static const uint32_t cpus[] = { 1, 3, 8 };

	for (uint32_t i = 0; i < 3; i++) {
		struct acpi_tables_cfg c = default_cfg(cpus[i]);
		int n = acpi_tables_build(plain, sizeof(plain), BIOS_PA, &c);

		CHECK(n > 0);
		for (uint32_t max = 0; max <= 1; max++) {
			struct acpi_tables_cfg h = hotplug_cfg(cpus[i], max);
			int m;

			memset(other, 0x77, sizeof(other));
			m = acpi_tables_build(other, sizeof(other), BIOS_PA, &h);
			CHECK_EQ_INT(m, n);
			CHECK_MSG(n > 0 && m == n &&
				  memcmp(plain, other, (size_t)n) == 0,
				  "nr_cpus %u max_cpus %u: bytes differ",
				  cpus[i], max);
			h.gpe0_io_base = 0;  /* unused: still valid */
			h.cpuhp_io_base = 0xFFFF;
			CHECK_EQ_INT(acpi_tables_build(other, sizeof(other),
						       BIOS_PA, &h), n);
		}
	}
}

static void test_cpuhp_errors(void)
{
	static uint8_t buf[ACPI_TABLES_MAX_BYTES];
	struct acpi_tables_cfg good = hotplug_cfg(3, 8), c;
	int n = acpi_tables_build(buf, sizeof(buf), BIOS_PA, &good);

	CHECK(n > 0);
#define BAD(field, value)                                                    \
	do {                                                                 \
		c = good;                                                    \
		c.field = value;                                             \
		CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA,    \
					       &c), -EINVAL);                \
	} while (0)
	BAD(max_cpus, 2);                     /* below nr_cpus = 3 */
	BAD(max_cpus, ACPI_TABLES_MAX_CPUS + 1);
	BAD(max_cpus, 0xFFFFFFFFu);
	BAD(gpe0_io_base, 0);
	BAD(cpuhp_io_base, 0);
	BAD(gpe0_io_base, 0xFFFF);            /* 2 bytes past the I/O space */
	BAD(cpuhp_io_base, 0xFFFF);
#undef BAD
	c = good;
	c.max_cpus = 3;                       /* = nr_cpus: hotplug, all in */
	CHECK(acpi_tables_build(buf, sizeof(buf), BIOS_PA, &c) > 0);
	c = good;
	c.gpe0_io_base = 0xFFFE;              /* the last 2 ports */
	c.cpuhp_io_base = 0xFFFE;
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA, &c), n);
	c = hotplug_cfg(1, 2);
	c.cpuhp_io_base = 0;
	CHECK_EQ_INT(acpi_tables_build(buf, sizeof(buf), BIOS_PA, &c),
		     -EINVAL);

	/* Too small a buffer: -ENOSPC and not a byte written. */
	for (uint32_t len = 0; len < (uint32_t)n; len += (uint32_t)n / 7 + 1) {
		memset(buf, 0x5A, sizeof(buf));
		CHECK_EQ_INT(acpi_tables_build(buf, len, BIOS_PA, &good),
			     -ENOSPC);
		CHECK(buf[0] == 0x5A && buf[sizeof(buf) - 1] == 0x5A);
	}
	CHECK_EQ_INT(acpi_tables_build(buf, (uint32_t)n - 1, BIOS_PA, &good),
		     -ENOSPC);
}

/* Remove dir and the files iasl wrote into it. */
static void rm_tmpdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	CHECK_EQ_INT(rmdir(dir), 0);
}

static bool write_file(const char *path, const uint8_t *p, uint32_t n)
{
	FILE *fp = fopen(path, "wb");
	bool ok = fp && fwrite(p, 1, n, fp) == n;

	if (fp && fclose(fp) != 0)
		ok = false;
	return ok;
}

/* The whole of a file into a malloc'ed, NUL-terminated buffer. */
static char *read_file(const char *path, long *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;

	*len = -1;
	if (fp && fseek(fp, 0, SEEK_END) == 0 && (*len = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)*len + 1)) &&
	    fread(buf, 1, (size_t)*len, fp) == (size_t)*len)
		buf[*len] = 0;
	else if (buf) {
		free(buf);
		buf = NULL;
	}
	if (fp)
		fclose(fp);
	return buf;
}

/* Run cmd in dir, output to dir/log; true if it exited with 0. */
static bool run_in(const char *dir, const char *cmd)
{
	char line[768];

	snprintf(line, sizeof(line), "cd '%s' && %s >log 2>&1", dir, cmd);
	return system(line) == 0;
}

/* dir/log must show no error; print it if it does. */
static void check_iasl_log(const char *dir, const char *what)
{
	char path[512];
	long n;
	char *log;

	snprintf(path, sizeof(path), "%s/log", dir);
	log = read_file(path, &n);
	CHECK(log != NULL);
	if (!log)
		return;
	CHECK_MSG(!strstr(log, "Error ") && !strstr(log, "rror:") &&
		  !strstr(log, "Unknown") && !strstr(log, "unknown"),
		  "iasl %s:\n%s", what, log);
	free(log);
}

/*
 * ACPICA's own view of the DSDT t (len bytes) built from c: iasl -d must
 * disassemble it without errors into the ASL of the hotplug objects, and
 * iasl must compile that back, without optimizations (-oa), into the
 * same AML after the header (which names iasl as the compiler).
 */
static void check_iasl(const uint8_t *t, uint32_t len,
		       const struct acpi_tables_cfg *c)
{
	char dir[] = "/tmp/keel-acpi-XXXXXX", path[512], want[96];
	char *dsl = NULL, *aml = NULL;
	long dsl_len, aml_len;

	if (!mkdtemp(dir)) {
		CHECK_MSG(0, "mkdtemp failed");
		return;
	}
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	CHECK(write_file(path, t, len));
	CHECK_MSG(run_in(dir, "iasl -vs -d dsdt.aml"), "iasl -d failed");
	check_iasl_log(dir, "-d");
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	dsl = read_file(path, &dsl_len);
	CHECK(dsl != NULL);
	if (dsl) {
		CHECK(!strstr(dsl, "Unknown") && !strstr(dsl, "rror"));
		snprintf(want, sizeof(want),
			 "OperationRegion (CPHR, SystemIO, 0x%04X, 0x02)",
			 c->cpuhp_io_base);
		CHECK_MSG(strstr(dsl, want), "no %s", want);
		snprintf(want, sizeof(want), "Device (CP%02X)", c->max_cpus - 1);
		CHECK_MSG(strstr(dsl, want), "no %s", want);
		CHECK(strstr(dsl, "Method (_E02, 0, NotSerialized)"));
		CHECK(strstr(dsl, "Method (_EJ0, 1, NotSerialized)"));
		CHECK(strstr(dsl, "Notify (\\_SB.CP01, 0x03)"));
	}
	CHECK_MSG(run_in(dir, "iasl -vs -oa -p again dsdt.dsl"),
		  "iasl could not compile its own disassembly");
	check_iasl_log(dir, "compiling the disassembly");
	snprintf(path, sizeof(path), "%s/again.aml", dir);
	aml = read_file(path, &aml_len);
	CHECK_MSG(aml && aml_len == (long)len &&
		  memcmp(aml + 36, t + 36, len - 36) == 0,
		  "iasl compiles the disassembly to other AML (%ld bytes, "
		  "ours %u)", aml_len, len);
	free(dsl);
	free(aml);
	rm_tmpdir(dir);
}

/* max_cpus = 2 with 1 CPU and max_cpus = 8 with 3: every table checked
 * (build_and_check), then the DSDT through iasl if there is one. */
static void test_cpuhp_builds(void)
{
	static const uint32_t cfgs[][2] = { { 1, 2 }, { 3, 8 }, { 8, 8 } };
	bool iasl = system("command -v iasl >/dev/null 2>&1") == 0;

	for (uint32_t i = 0; i < 3; i++) {
		struct acpi_tables_cfg c = hotplug_cfg(cfgs[i][0], cfgs[i][1]);
		struct found f = { 0 };
		int n = build_and_check_found(&c, BIOS_PA, &f);
		const uint8_t *t = f.dsdt ? bios + (f.dsdt - BIOS_PA) : NULL;

		printf("test_acpi_tables: %u of %u CPUs (hotplug): %d bytes, "
		       "DSDT %u\n", c.nr_cpus, c.max_cpus, n,
		       t ? rd32(t + 4) : 0);
		if (iasl && t && n > 0)
			check_iasl(t, rd32(t + 4), &c);
	}
	if (!iasl)
		printf("test_acpi_tables: note: iasl not on the PATH, the AML "
		       "is not checked with ACPICA (Debian: acpica-tools)\n");

	/* Elsewhere, other ports. */
	{
		struct acpi_tables_cfg c = hotplug_cfg(2, 5);

		c.gpe0_io_base = 0x0620;
		c.cpuhp_io_base = 0xFFFE;
		build_and_check(&c, BIOS_PA + 48);
		build_and_check(&c, 0xF8000);
	}
}

/* ---- the AML helpers on their own */

/* A package with body bytes of contents: the PkgLength is the shortest
 * one, counts itself, and the contents survive the move. */
static void check_pkglen(uint32_t body)
{
	uint32_t cap = body + 16;
	uint8_t *m = malloc(cap);
	struct acpi_buf b = { m, cap, 0 }, count = { NULL, 0, 0 };
	struct aml a;
	uint32_t start, end, want_bytes, hdr;
	bool same = true;

	if (!m) {
		CHECK(m != NULL);
		return;
	}
	start = aml_pkg_begin(&b);
	for (uint32_t i = 0; i < body; i++)
		ab_put8(&b, i * 7 + 3);
	aml_pkg_end(&b, start);
	/* A counting-only pass gives the same size. */
	start = aml_pkg_begin(&count);
	count.pos += body;
	aml_pkg_end(&count, start);
	CHECK_EQ_U64(count.pos, b.pos);

	a = (struct aml){ m, 0, b.pos, false };
	end = aml_rd_pkglen(&a);
	hdr = a.pos;
	want_bytes = body + 1 <= 63 ? 1 : body + 2 <= 0xFFF ? 2 :
		     body + 3 <= 0xFFFFF ? 3 : 4;
	CHECK_MSG(hdr == want_bytes, "body %u: %u PkgLength bytes, want %u",
		  body, hdr, want_bytes);
	CHECK_EQ_U64(end, b.pos);
	CHECK_EQ_U64(end, hdr + body);
	for (uint32_t i = 0; i < body && hdr + i < cap; i++)
		if (m[hdr + i] != (uint8_t)(i * 7 + 3))
			same = false;
	CHECK_MSG(same, "body %u moved wrongly", body);
	free(m);
}

static void test_pkglen(void)
{
	static const uint32_t bodies[] = {
		0, 1, 61, 62, 63, 64, 200, 0xFFC, 0xFFD, 0xFFE, 0x1000,
		0xFFFFC, 0xFFFFD, 0x100000,
	};

	for (uint32_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		check_pkglen(bodies[i]);
}

/* Nested packages whose lengths grow when closed stay consistent. */
static void test_pkglen_nested(void)
{
	static uint8_t m[512];
	struct acpi_buf b = { m, sizeof(m), 0 };
	struct aml a;
	uint32_t outer, inner, outer_end, inner_end;

	outer = aml_pkg_begin(&b);
	ab_put8(&b, 0xAA);
	inner = aml_pkg_begin(&b);
	for (uint32_t i = 0; i < 100; i++)
		ab_put8(&b, 0x42);
	aml_pkg_end(&b, inner);
	ab_put8(&b, 0xBB);
	aml_pkg_end(&b, outer);

	a = (struct aml){ m, 0, b.pos, false };
	outer_end = aml_rd_pkglen(&a);
	CHECK_EQ_U64(outer_end, b.pos);
	CHECK_EQ_INT(aml_rd8(&a), 0xAA);
	inner_end = aml_rd_pkglen(&a);
	CHECK_EQ_U64(inner_end - a.pos, 100);
	a.pos = inner_end;
	CHECK_EQ_INT(aml_rd8(&a), 0xBB);
	CHECK_EQ_U64(a.pos, outer_end);
}

static void test_aml_integer(void)
{
	static const struct {
		uint64_t v;
		uint32_t bytes;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 2, 2 }, { 0xFF, 2 }, { 0x100, 3 },
		{ 0xFFFF, 3 }, { 0x10000, 5 }, { 0xFFFFFFFF, 5 },
		{ 0x100000000ull, 9 }, { ~0ull, 9 },
	};

	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t m[16];
		struct acpi_buf b = { m, sizeof(m), 0 };
		struct aml a = { m, 0, 0, false };

		aml_integer(&b, cases[i].v);
		CHECK_EQ_U64(b.pos, cases[i].bytes);
		a.end = b.pos;
		CHECK_EQ_U64(aml_rd_int(&a), cases[i].v);
		CHECK_EQ_U64(a.pos, b.pos);
	}
}

static void test_eisaid(void)
{
	char s[8];

	CHECK_EQ_U64(aml_eisaid("PNP0A03"), 0x030AD041u);
	CHECK_EQ_U64(aml_eisaid("PNP0C0C"), 0x0C0CD041u);
	eisaid_str(aml_eisaid("ABC12EF"), s);
	CHECK_EQ_STR(s, "ABC12EF");
}

int main(void)
{
	test_builds();
	test_deterministic();
	test_errors();
	test_cpuhp_off_identical();
	test_cpuhp_errors();
	test_cpuhp_builds();
	test_pkglen();
	test_pkglen_nested();
	test_aml_integer();
	test_eisaid();
	return harness_done("test_acpi_tables");
}
