/*
 * Minimal ACPI tables for a guest's virtual PC (ACPI 6.x, chapter 5): the
 * RSDP (5.2.5), XSDT (5.2.8) and RSDT (5.2.7), FADT revision 6 (5.2.9),
 * FACS (5.2.10), MADT (5.2.12) and a DSDT (5.2.11.1) written in hand-
 * encoded AML (chapter 20). Layout inside the buffer, every table 8-byte
 * aligned and the FACS 64-byte aligned in guest-physical space: RSDP,
 * XSDT, RSDT, FACS, FADT, MADT, DSDT. The size is fixed except for the
 * MADT (one entry per CPU) and the DSDT, which comes last; its length is
 * found by running the same emitters over a counting-only buffer first,
 * so nothing is written unless everything fits. All fields are written
 * byte by byte in little-endian order, so buf needs no alignment.
 */
#include <keel/acpi_tables.h>
#include <keel/mc146818.h>
#include <keel/acpi_pm.h>
#include <keel/errno.h>
#include <keel/string.h>

#include <stdbool.h>
#include <stddef.h>

/* Sizes (bytes) and revisions of the tables. */
#define RSDP_BYTES 36u             /* ACPI 2.0+ RSDP, Table 5.3 */
#define RSDP_CHECKSUM1_BYTES 20u   /* part covered by the first checksum */
#define RSDP_REVISION 2u
#define RSDP_CHECKSUM_OFF 8u
#define RSDP_EXT_CHECKSUM_OFF 32u
#define SDT_HDR_BYTES 36u          /* Table 5.4 */
#define SDT_LENGTH_OFF 4u
#define SDT_CHECKSUM_OFF 9u
#define XSDT_ENTRIES 2u            /* FADT, MADT */
#define XSDT_BYTES (SDT_HDR_BYTES + 8u * XSDT_ENTRIES)
#define RSDT_BYTES (SDT_HDR_BYTES + 4u * XSDT_ENTRIES)
#define FACS_BYTES 64u             /* Table 5.14 */
#define FACS_ALIGN_BYTES 64u
#define FACS_VERSION 2u
#define FADT_BYTES 276u            /* revision 6 (ACPI 6.0+), Table 5.9 */
#define FADT_REVISION 6u
#define FADT_MINOR_REVISION 0u
#define MADT_REVISION 5u
#define DSDT_REVISION 2u           /* 64-bit AML integers */
#define XSDT_REVISION 1u
#define RSDT_REVISION 1u
#define TABLE_ALIGN_BYTES 8u
#define ADDR_LIMIT 0x100000000ull  /* RSDT and FADT hold 32-bit pointers */

/* SDT header identification (5.2.6). */
#define OEM_ID_BYTES 6u
#define OEM_TABLE_ID "KEELVPC"     /* padded with spaces to 8 bytes */
#define OEM_TABLE_ID_BYTES 8u
#define OEM_REVISION 1u
#define CREATOR_ID "KEEL"
#define CREATOR_REVISION 1u

/* MADT (5.2.12): header fields, entry types and lengths, flags. */
#define MADT_PCAT_COMPAT 0x1u      /* left clear: no 8259 to probe */
#define MADT_LAPIC 0u
#define MADT_LAPIC_BYTES 8u
#define MADT_CPU_ENABLED 0x1u
#define MADT_IOAPIC 1u
#define MADT_IOAPIC_BYTES 12u
#define MADT_ISO 2u                /* Interrupt Source Override */
#define MADT_ISO_BYTES 10u
#define MADT_LAPIC_NMI 4u
#define MADT_LAPIC_NMI_BYTES 6u
#define MADT_ISO_COUNT 2u          /* IRQ 0 -> GSI 2, the SCI */
#define MADT_BYTES(n)                                                         \
	(SDT_HDR_BYTES + 8u + (n) * MADT_LAPIC_BYTES + MADT_IOAPIC_BYTES + \
	 MADT_ISO_COUNT * MADT_ISO_BYTES + MADT_LAPIC_NMI_BYTES)
#define MADT_BUS_ISA 0u
#define MADT_ALL_CPUS 0xFFu        /* ACPI Processor UID: every CPU */
#define MADT_LINT1 1u
/* MPS INTI flags (Table 5.50): polarity bits 1:0, trigger mode bits 3:2. */
#define INTI_ACTIVE_HIGH 0x1u
#define INTI_EDGE (0x1u << 2)
#define INTI_LEVEL (0x3u << 2)
#define ISA_TIMER_IRQ 0u
#define ISA_TIMER_GSI 2u
#define ISA_CASCADE_IRQ 2u
#define ISA_IRQS 16u

/* FADT fixed feature flags (Table 5.10). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4)  /* clear: fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)  /* clear: fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)     /* set: no RTC_STS in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED (1u << 20) /* clear: PM1 fixed hardware exists */
#define FADT_FLAGS (FADT_WBINVD | FADT_PROC_C1 | FADT_FIX_RTC | \
		    FADT_RESET_REG_SUP)
/* IA-PC boot architecture flags (Table 5.11); Linux reads them in
 * arch/x86/kernel/acpi/boot.c: acpi_parse_fadt(). LEGACY_DEVICES (bit 0,
 * only turns off PnP BIOS) and 8042 (bit 1: clear makes i8042 give up
 * unless the DSDT lists a PNP0303) stay clear, as do NO_MSI (3) and
 * NO_ASPM (4). */
#define BOOT_ARCH_NO_VGA (1u << 2)
/* NO_CMOS_RTC keeps Linux's rtc_cmos driver away (it wants the RTC's IRQ 8,
 * which the model never raises); the time registers are still there, and
 * Linux reads them for its clock at boot (mach_get_cmos_time). */
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)
#define FADT_BOOT_ARCH (BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC)
#define PM_PROFILE_UNSPECIFIED 0u
#define C2_LATENCY_NONE 101u       /* > 100 us: C2 not supported */
#define C3_LATENCY_NONE 1001u      /* > 1000 us: C3 not supported */

/* Generic Address Structure (5.2.3.2, Table 5.1). */
#define GAS_SYSTEM_IO 1u
#define GAS_ACCESS_BYTE 1u
#define GAS_ACCESS_WORD 2u
#define GAS_BYTES 12u

/* AML opcodes and prefixes (20.2). */
#define AML_ZERO_OP 0x00u
#define AML_ONE_OP 0x01u
#define AML_NAME_OP 0x08u
#define AML_BYTE_PREFIX 0x0Au
#define AML_WORD_PREFIX 0x0Bu
#define AML_DWORD_PREFIX 0x0Cu
#define AML_QWORD_PREFIX 0x0Eu
#define AML_SCOPE_OP 0x10u
#define AML_BUFFER_OP 0x11u
#define AML_PACKAGE_OP 0x12u
#define AML_EXT_OP_PREFIX 0x5Bu
#define AML_DEVICE_OP 0x82u        /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_NAMESEG_BYTES 4u
/* PkgLength (20.2.4): one byte holds up to 63; otherwise bits 7:6 of the
 * lead byte count 1-3 following bytes, its bits 3:0 are the low nibble. */
#define AML_PKGLEN_1BYTE_MAX 0x3Fu
#define AML_PKGLEN_2BYTE_MAX 0xFFFu
#define AML_PKGLEN_3BYTE_MAX 0xFFFFFu
#define AML_PKGLEN_4BYTE_MAX 0xFFFFFFFu

/* Resource descriptors (6.4). */
#define RD_IO 0x47u                /* small item 0x08, 7 bytes follow */
#define RD_IO_DECODE16 0x01u
#define RD_END_TAG 0x79u           /* small item 0x0F, 1 byte follows */
#define RD_DWORD_ADDR 0x87u        /* large item 0x07 */
#define RD_DWORD_ADDR_LEN 23u
#define RD_WORD_ADDR 0x88u         /* large item 0x08 */
#define RD_WORD_ADDR_LEN 13u
#define RD_SPACE_MEMORY 0u         /* resource type (Table 6.47) */
#define RD_SPACE_IO 1u
#define RD_SPACE_BUS 2u
#define RD_MIN_MAX_FIXED 0x0Cu     /* _MIF | _MAF, producer, pos. decode */
#define RD_IO_ENTIRE_RANGE 0x03u   /* _RNG (Table 6.50) */
#define RD_MEM_RW 0x01u            /* _RW (Table 6.49) */
#define RD_MEM_CACHEABLE 0x02u     /* _MEM = 1 */

/* The PCI root bridge's resources (what pci_host.c decodes). */
#define PCI_CFG_PORT 0xCF8u
#define PCI_CFG_PORTS 8u           /* 0xCF8-0xCFF */
#define PCI_IO_LOW_MAX 0x0CF7u
#define PCI_IO_HIGH_MIN 0x0D00u
#define PCI_IO_HIGH_MAX 0xFFFFu
#define VGA_MEM_MIN 0x000A0000u
#define VGA_MEM_MAX 0x000BFFFFu
#define PCI_MEM_MIN 0xC0000000u
#define PCI_MEM_MAX 0xFEBFFFFFu    /* below the IOAPIC */
#define EISAID_PNP0A03 "PNP0A03"

#define IO_SPACE_BYTES 0x10000u

/*
 * A cursor over the output. With p NULL the bytes are only counted, which
 * is how sizes are found before anything is written; bytes at or past
 * cap are dropped the same way, so a writer never overruns its buffer.
 */
struct acpi_buf {
	uint8_t *p;
	uint32_t cap;
	uint32_t pos;
};

/* Offsets of the tables inside the buffer. */
struct acpi_layout {
	uint32_t rsdp, xsdt, rsdt, facs, fadt, madt, dsdt, end;
};

static void ab_put8(struct acpi_buf *b, uint32_t v)
{
	if (b->p && b->pos < b->cap)
		b->p[b->pos] = (uint8_t)v;
	b->pos++;
}

static void ab_put16(struct acpi_buf *b, uint32_t v)
{
	ab_put8(b, v);
	ab_put8(b, v >> 8);
}

static void ab_put32(struct acpi_buf *b, uint32_t v)
{
	ab_put16(b, v);
	ab_put16(b, v >> 16);
}

static void ab_put64(struct acpi_buf *b, uint64_t v)
{
	ab_put32(b, (uint32_t)v);
	ab_put32(b, (uint32_t)(v >> 32));
}

static void ab_put_zeros(struct acpi_buf *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ab_put8(b, 0);
}

/* Write s, then spaces up to len bytes (s is at most len characters). */
static void ab_put_padded(struct acpi_buf *b, const char *s, uint32_t len)
{
	uint32_t i = 0;

	for (; s[i] && i < len; i++)
		ab_put8(b, (uint8_t)s[i]);
	for (; i < len; i++)
		ab_put8(b, ' ');
}

static void ab_patch32(struct acpi_buf *b, uint32_t off, uint32_t v)
{
	uint32_t saved = b->pos;

	b->pos = off;
	ab_put32(b, v);
	b->pos = saved;
}

/* Set p[off + sum_off] so that the len bytes at off sum to 0 mod 256. */
static void ab_fix_checksum(struct acpi_buf *b, uint32_t off, uint32_t len,
			    uint32_t sum_off)
{
	uint8_t sum = 0;

	if (!b->p || off + len > b->cap)
		return;
	b->p[off + sum_off] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b->p[off + i]);
	b->p[off + sum_off] = (uint8_t)(0x100u - sum);
}

static uint32_t align_u32(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ---- AML (ACPI 6.x chapter 20) ---- */

/*
 * NameString (20.2.2) for "\XXXX" or "XXXX": an optional RootChar and
 * exactly one 4-character NameSeg (names shorter than 4 are padded with
 * '_' as the spec's ASL rules do).
 */
static void aml_namestring(struct acpi_buf *b, const char *name)
{
	uint32_t i = 0;

	if (name[0] == AML_ROOT_CHAR) {
		ab_put8(b, AML_ROOT_CHAR);
		name++;
	}
	for (; name[i] && i < AML_NAMESEG_BYTES; i++)
		ab_put8(b, (uint8_t)name[i]);
	for (; i < AML_NAMESEG_BYTES; i++)
		ab_put8(b, '_');
}

/* ComputationalData integer (20.2.3) in its shortest encoding. */
static void aml_integer(struct acpi_buf *b, uint64_t v)
{
	if (v == 0) {
		ab_put8(b, AML_ZERO_OP);
	} else if (v == 1) {
		ab_put8(b, AML_ONE_OP);
	} else if (v <= 0xFFu) {
		ab_put8(b, AML_BYTE_PREFIX);
		ab_put8(b, (uint32_t)v);
	} else if (v <= 0xFFFFu) {
		ab_put8(b, AML_WORD_PREFIX);
		ab_put16(b, (uint32_t)v);
	} else if (v <= 0xFFFFFFFFu) {
		ab_put8(b, AML_DWORD_PREFIX);
		ab_put32(b, (uint32_t)v);
	} else {
		ab_put8(b, AML_QWORD_PREFIX);
		ab_put64(b, v);
	}
}

/*
 * Open a PkgLength (20.2.4): reserve its one-byte form and return where
 * it starts, to be passed to aml_pkg_end() once the package's contents
 * are written.
 */
static uint32_t aml_pkg_begin(struct acpi_buf *b)
{
	uint32_t start = b->pos;

	ab_put8(b, 0);
	return start;
}

/* Bytes a PkgLength takes for a package of body bytes after it. */
static uint32_t aml_pkglen_bytes(uint32_t body)
{
	if (body + 1 <= AML_PKGLEN_1BYTE_MAX)
		return 1;
	if (body + 2 <= AML_PKGLEN_2BYTE_MAX)
		return 2;
	return body + 3 <= AML_PKGLEN_3BYTE_MAX ? 3 : 4;
}

/*
 * Close the PkgLength opened at start. Its value counts itself and
 * everything up to the current position. If it needs more than the one
 * reserved byte, the contents are moved up to make room (any PkgLengths
 * nested in them are relative, so moving them is safe).
 */
static void aml_pkg_end(struct acpi_buf *b, uint32_t start)
{
	uint32_t body = b->pos - (start + 1);
	uint32_t n = aml_pkglen_bytes(body);
	uint32_t len = body + n;

	if (n > 1 && b->p && b->pos + (n - 1) <= b->cap)
		memmove(b->p + start + n, b->p + start + 1, body);
	b->pos = start;
	if (n == 1) {
		ab_put8(b, len);
	} else {
		/* Lead byte: count of following bytes in bits 7:6, then
		 * length bits 3:0; following bytes: bits 11:4, 19:12, ... */
		ab_put8(b, ((n - 1) << 6) | (len & 0x0Fu));
		for (uint32_t i = 1; i < n; i++)
			ab_put8(b, len >> (4 + 8 * (i - 1)));
	}
	b->pos = start + len;
}

/* Name(name, ...): NameOp NameString; the caller then writes the data. */
static void aml_name(struct acpi_buf *b, const char *name)
{
	ab_put8(b, AML_NAME_OP);
	aml_namestring(b, name);
}

/* Name(name, integer). */
static void aml_name_integer(struct acpi_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_integer(b, v);
}

/*
 * EisaId("PNP0A03") as a 32-bit integer (ASL EISAID, 19.6.35): three
 * letters of 5 bits each ('A' = 1) and four hex digits, stored big-endian.
 */
static uint32_t aml_eisaid(const char *id)
{
	uint32_t mfg = ((uint32_t)(id[0] - '@') << 10) |
		       ((uint32_t)(id[1] - '@') << 5) | (uint32_t)(id[2] - '@');
	uint32_t prod = 0;

	for (uint32_t i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t digit = (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10);

		prod = (prod << 4) | digit;
	}
	return ((mfg >> 8) & 0xFFu) | ((mfg & 0xFFu) << 8) |
	       (((prod >> 8) & 0xFFu) << 16) | ((prod & 0xFFu) << 24);
}

/* Scope(name) { ...: returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_scope_begin(struct acpi_buf *b, const char *name)
{
	uint32_t start;

	ab_put8(b, AML_SCOPE_OP);
	start = aml_pkg_begin(b);
	aml_namestring(b, name);
	return start;
}

/* Device(name) { ...: returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_device_begin(struct acpi_buf *b, const char *name)
{
	uint32_t start;

	ab_put8(b, AML_EXT_OP_PREFIX);
	ab_put8(b, AML_DEVICE_OP);
	start = aml_pkg_begin(b);
	aml_namestring(b, name);
	return start;
}

/* Package(n) { ...: returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_package_begin(struct acpi_buf *b, uint32_t n)
{
	uint32_t start;

	ab_put8(b, AML_PACKAGE_OP);
	start = aml_pkg_begin(b);
	ab_put8(b, n); /* NumElements */
	return start;
}

/* Buffer(size) { bytes } where emit writes the size bytes (counted first
 * with a counting-only cursor). */
static void aml_buffer(struct acpi_buf *b,
		       void (*emit)(struct acpi_buf *b))
{
	struct acpi_buf count = { NULL, 0, 0 };
	uint32_t start;

	emit(&count);
	ab_put8(b, AML_BUFFER_OP);
	start = aml_pkg_begin(b);
	aml_integer(b, count.pos); /* BufferSize */
	emit(b);
	aml_pkg_end(b, start);
}

/* ---- Resource descriptors (ACPI 6.x 6.4) ---- */

/* I/O Port Descriptor (6.4.2.5), 16-bit decode. */
static void rd_io16(struct acpi_buf *b, uint32_t min, uint32_t max,
		    uint32_t align, uint32_t len)
{
	ab_put8(b, RD_IO);
	ab_put8(b, RD_IO_DECODE16);
	ab_put16(b, min);
	ab_put16(b, max);
	ab_put8(b, align);
	ab_put8(b, len);
}

/* Word Address Space Descriptor (6.4.3.5.3), fixed window min..max,
 * produced by the bridge, no translation. */
static void rd_word_addr(struct acpi_buf *b, uint32_t space,
			 uint32_t type_flags, uint32_t min, uint32_t max)
{
	ab_put8(b, RD_WORD_ADDR);
	ab_put16(b, RD_WORD_ADDR_LEN);
	ab_put8(b, space);
	ab_put8(b, RD_MIN_MAX_FIXED);
	ab_put8(b, type_flags);
	ab_put16(b, 0);              /* _GRA */
	ab_put16(b, min);            /* _MIN */
	ab_put16(b, max);            /* _MAX */
	ab_put16(b, 0);              /* _TRA */
	ab_put16(b, max - min + 1);  /* _LEN */
}

/* DWord Address Space Descriptor (6.4.3.5.2) for memory min..max. */
static void rd_dword_mem(struct acpi_buf *b, uint32_t type_flags,
			 uint32_t min, uint32_t max)
{
	ab_put8(b, RD_DWORD_ADDR);
	ab_put16(b, RD_DWORD_ADDR_LEN);
	ab_put8(b, RD_SPACE_MEMORY);
	ab_put8(b, RD_MIN_MAX_FIXED);
	ab_put8(b, type_flags);
	ab_put32(b, 0);              /* _GRA */
	ab_put32(b, min);            /* _MIN */
	ab_put32(b, max);            /* _MAX */
	ab_put32(b, 0);              /* _TRA */
	ab_put32(b, max - min + 1);  /* _LEN */
}

/* End Tag (6.4.2.9); checksum 0 means "treat as correct". */
static void rd_end(struct acpi_buf *b)
{
	ab_put8(b, RD_END_TAG);
	ab_put8(b, 0);
}

/* PCI0's _CRS: bus 0, the config ports, the I/O and memory windows. */
static void pci0_crs(struct acpi_buf *b)
{
	rd_word_addr(b, RD_SPACE_BUS, 0, 0, 0);
	rd_io16(b, PCI_CFG_PORT, PCI_CFG_PORT, 1, PCI_CFG_PORTS);
	rd_word_addr(b, RD_SPACE_IO, RD_IO_ENTIRE_RANGE, 0, PCI_IO_LOW_MAX);
	rd_word_addr(b, RD_SPACE_IO, RD_IO_ENTIRE_RANGE, PCI_IO_HIGH_MIN,
		     PCI_IO_HIGH_MAX);
	rd_dword_mem(b, RD_MEM_RW | RD_MEM_CACHEABLE, VGA_MEM_MIN,
		     VGA_MEM_MAX);
	rd_dword_mem(b, RD_MEM_RW, PCI_MEM_MIN, PCI_MEM_MAX);
	rd_end(b);
}

/*
 * The DSDT's definition block contents:
 *   Name(\_S5_, Package(4) { 5, 5, 0, 0 })   -- SLP_TYPa, SLP_TYPb (7.4.2)
 *   Scope(\_SB_) { Device(PCI0) { _HID PNP0A03, _UID, _SEG, _BBN, _CRS } }
 */
static void dsdt_body(struct acpi_buf *b)
{
	uint32_t pkg, scope, dev;

	aml_name(b, "\\_S5_");
	pkg = aml_package_begin(b, 4);
	aml_integer(b, ACPI_PM_SLP_TYP_S5);
	aml_integer(b, ACPI_PM_SLP_TYP_S5);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_pkg_end(b, pkg);

	scope = aml_scope_begin(b, "\\_SB_");
	dev = aml_device_begin(b, "PCI0");
	aml_name_integer(b, "_HID", aml_eisaid(EISAID_PNP0A03));
	aml_name_integer(b, "_UID", 0);
	aml_name_integer(b, "_SEG", 0);
	aml_name_integer(b, "_BBN", 0);
	aml_name(b, "_CRS");
	aml_buffer(b, pci0_crs);
	aml_pkg_end(b, dev);
	aml_pkg_end(b, scope);
}

/* ---- Tables ---- */

/* Start an SDT at off with a header whose length and checksum are filled
 * in by sdt_end(). */
static void sdt_begin(struct acpi_buf *b, uint32_t off, const char *sig,
		      uint32_t revision)
{
	b->pos = off;
	ab_put_padded(b, sig, 4);
	ab_put32(b, 0);                 /* Length, patched */
	ab_put8(b, revision);
	ab_put8(b, 0);                  /* Checksum, patched */
	ab_put_padded(b, ACPI_TABLES_OEM_ID, OEM_ID_BYTES);
	ab_put_padded(b, OEM_TABLE_ID, OEM_TABLE_ID_BYTES);
	ab_put32(b, OEM_REVISION);
	ab_put_padded(b, CREATOR_ID, 4);
	ab_put32(b, CREATOR_REVISION);
}

static void sdt_end(struct acpi_buf *b, uint32_t off)
{
	uint32_t len = b->pos - off;

	ab_patch32(b, off + SDT_LENGTH_OFF, len);
	ab_fix_checksum(b, off, len, SDT_CHECKSUM_OFF);
}

/* RSDP (5.2.5.3, Table 5.3), revision 2 with both checksums. */
static void rsdp_write(struct acpi_buf *b, const struct acpi_layout *l,
		       uint64_t base_pa)
{
	b->pos = l->rsdp;
	ab_put_padded(b, "RSD PTR ", 8);
	ab_put8(b, 0);                             /* Checksum (20 bytes) */
	ab_put_padded(b, ACPI_TABLES_OEM_ID, OEM_ID_BYTES);
	ab_put8(b, RSDP_REVISION);
	ab_put32(b, (uint32_t)(base_pa + l->rsdt)); /* RsdtAddress */
	ab_put32(b, RSDP_BYTES);                   /* Length */
	ab_put64(b, base_pa + l->xsdt);            /* XsdtAddress */
	ab_put8(b, 0);                             /* Extended Checksum */
	ab_put_zeros(b, 3);
	ab_fix_checksum(b, l->rsdp, RSDP_CHECKSUM1_BYTES, RSDP_CHECKSUM_OFF);
	ab_fix_checksum(b, l->rsdp, RSDP_BYTES, RSDP_EXT_CHECKSUM_OFF);
}

/* XSDT (5.2.8) and RSDT (5.2.7): the FADT and the MADT. */
static void sdts_write(struct acpi_buf *b, const struct acpi_layout *l,
		       uint64_t base_pa)
{
	sdt_begin(b, l->xsdt, "XSDT", XSDT_REVISION);
	ab_put64(b, base_pa + l->fadt);
	ab_put64(b, base_pa + l->madt);
	sdt_end(b, l->xsdt);

	sdt_begin(b, l->rsdt, "RSDT", RSDT_REVISION);
	ab_put32(b, (uint32_t)(base_pa + l->fadt));
	ab_put32(b, (uint32_t)(base_pa + l->madt));
	sdt_end(b, l->rsdt);
}

/* FACS (5.2.10, Table 5.14): no checksum, no waking vector yet. */
static void facs_write(struct acpi_buf *b, const struct acpi_layout *l)
{
	b->pos = l->facs;
	ab_put_padded(b, "FACS", 4);
	ab_put32(b, FACS_BYTES);
	ab_put32(b, 0);                 /* Hardware Signature */
	ab_put32(b, 0);                 /* Firmware Waking Vector */
	ab_put32(b, 0);                 /* Global Lock */
	ab_put32(b, 0);                 /* Flags */
	ab_put64(b, 0);                 /* X_Firmware_Waking_Vector */
	ab_put8(b, FACS_VERSION);
	ab_put_zeros(b, 3);
	ab_put32(b, 0);                 /* OSPM Flags */
	ab_put_zeros(b, 24);
}

/* Generic Address Structure for an I/O port block (Table 5.1). */
static void gas_put_io(struct acpi_buf *b, uint32_t port, uint32_t bytes,
		       uint32_t access)
{
	ab_put8(b, port ? GAS_SYSTEM_IO : 0);
	ab_put8(b, port ? 8 * bytes : 0);   /* Register Bit Width */
	ab_put8(b, 0);                      /* Register Bit Offset */
	ab_put8(b, port ? access : 0);      /* Access Size */
	ab_put64(b, port);
}

static void gas_put_none(struct acpi_buf *b)
{
	ab_put_zeros(b, GAS_BYTES);
}

/* FADT revision 6 (5.2.9, Table 5.9), offsets in the comments. */
static void fadt_write(struct acpi_buf *b, const struct acpi_layout *l,
		       uint64_t base_pa, const struct acpi_tables_cfg *cfg)
{
	uint32_t evt = cfg->pm_io_base;
	uint32_t cnt = cfg->pm_io_base + ACPI_PM1_CNT_OFF;

	sdt_begin(b, l->fadt, "FACP", FADT_REVISION);
	ab_put32(b, (uint32_t)(base_pa + l->facs)); /* 36 FIRMWARE_CTRL */
	ab_put32(b, (uint32_t)(base_pa + l->dsdt)); /* 40 DSDT */
	ab_put8(b, 0);                          /* 44 reserved */
	ab_put8(b, PM_PROFILE_UNSPECIFIED);     /* 45 Preferred_PM_Profile */
	ab_put16(b, cfg->sci_irq);              /* 46 SCI_INT */
	ab_put32(b, 0);                         /* 48 SMI_CMD: always ACPI */
	ab_put8(b, 0);                          /* 52 ACPI_ENABLE */
	ab_put8(b, 0);                          /* 53 ACPI_DISABLE */
	ab_put8(b, 0);                          /* 54 S4BIOS_REQ */
	ab_put8(b, 0);                          /* 55 PSTATE_CNT */
	ab_put32(b, evt);                       /* 56 PM1a_EVT_BLK */
	ab_put32(b, 0);                         /* 60 PM1b_EVT_BLK */
	ab_put32(b, cnt);                       /* 64 PM1a_CNT_BLK */
	ab_put32(b, 0);                         /* 68 PM1b_CNT_BLK */
	ab_put32(b, 0);                         /* 72 PM2_CNT_BLK */
	ab_put32(b, 0);                         /* 76 PM_TMR_BLK */
	ab_put32(b, 0);                         /* 80 GPE0_BLK */
	ab_put32(b, 0);                         /* 84 GPE1_BLK */
	ab_put8(b, ACPI_PM1_EVT_LEN);           /* 88 PM1_EVT_LEN */
	ab_put8(b, ACPI_PM1_CNT_LEN);           /* 89 PM1_CNT_LEN */
	ab_put8(b, 0);                          /* 90 PM2_CNT_LEN */
	ab_put8(b, 0);                          /* 91 PM_TMR_LEN */
	ab_put8(b, 0);                          /* 92 GPE0_BLK_LEN */
	ab_put8(b, 0);                          /* 93 GPE1_BLK_LEN */
	ab_put8(b, 0);                          /* 94 GPE1_BASE */
	ab_put8(b, 0);                          /* 95 CST_CNT */
	ab_put16(b, C2_LATENCY_NONE);           /* 96 P_LVL2_LAT */
	ab_put16(b, C3_LATENCY_NONE);           /* 98 P_LVL3_LAT */
	ab_put16(b, 0);                         /* 100 FLUSH_SIZE */
	ab_put16(b, 0);                         /* 102 FLUSH_STRIDE */
	ab_put8(b, 0);                          /* 104 DUTY_OFFSET */
	ab_put8(b, 0);                          /* 105 DUTY_WIDTH */
	ab_put8(b, 0);                          /* 106 DAY_ALRM */
	ab_put8(b, 0);                          /* 107 MON_ALRM */
	ab_put8(b, MC146818_CENTURY);           /* 108 CENTURY: its CMOS index */
	ab_put16(b, FADT_BOOT_ARCH);            /* 109 IAPC_BOOT_ARCH */
	ab_put8(b, 0);                          /* 111 reserved */
	ab_put32(b, FADT_FLAGS);                /* 112 Flags */
	gas_put_io(b, cfg->reset_port, 1, GAS_ACCESS_BYTE); /* 116 RESET_REG */
	ab_put8(b, ACPI_TABLES_RESET_VALUE);    /* 128 RESET_VALUE */
	ab_put16(b, 0);                         /* 129 ARM_BOOT_ARCH */
	ab_put8(b, FADT_MINOR_REVISION);        /* 131 FADT Minor Version */
	ab_put64(b, base_pa + l->facs);         /* 132 X_FIRMWARE_CTRL */
	ab_put64(b, base_pa + l->dsdt);         /* 140 X_DSDT */
	gas_put_io(b, evt, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD); /* 148 */
	gas_put_none(b);                        /* 160 X_PM1b_EVT_BLK */
	gas_put_io(b, cnt, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD); /* 172 */
	gas_put_none(b);                        /* 184 X_PM1b_CNT_BLK */
	gas_put_none(b);                        /* 196 X_PM2_CNT_BLK */
	gas_put_none(b);                        /* 208 X_PM_TMR_BLK */
	gas_put_none(b);                        /* 220 X_GPE0_BLK */
	gas_put_none(b);                        /* 232 X_GPE1_BLK */
	gas_put_none(b);                        /* 244 SLEEP_CONTROL_REG */
	gas_put_none(b);                        /* 256 SLEEP_STATUS_REG */
	ab_put64(b, 0);                         /* 268 Hypervisor Vendor Id */
	sdt_end(b, l->fadt);
}

/* An Interrupt Source Override entry (5.2.12.5) for ISA IRQ irq. */
static void madt_put_iso(struct acpi_buf *b, uint32_t irq, uint32_t gsi,
			 uint32_t flags)
{
	ab_put8(b, MADT_ISO);
	ab_put8(b, MADT_ISO_BYTES);
	ab_put8(b, MADT_BUS_ISA);
	ab_put8(b, irq);            /* Source */
	ab_put32(b, gsi);           /* Global System Interrupt */
	ab_put16(b, flags);
}

/* MADT (5.2.12, Table 5.43) with the entries of 5.2.12.2-5.2.12.7. */
static void madt_write(struct acpi_buf *b, const struct acpi_layout *l,
		       const struct acpi_tables_cfg *cfg)
{
	sdt_begin(b, l->madt, "APIC", MADT_REVISION);
	ab_put32(b, cfg->lapic_pa);   /* Local Interrupt Controller Address */
	ab_put32(b, 0);               /* Flags: PCAT_COMPAT clear */
	for (uint32_t i = 0; i < cfg->nr_cpus; i++) {
		ab_put8(b, MADT_LAPIC);
		ab_put8(b, MADT_LAPIC_BYTES);
		ab_put8(b, i);        /* ACPI Processor UID */
		ab_put8(b, i);        /* APIC ID */
		ab_put32(b, MADT_CPU_ENABLED);
	}
	ab_put8(b, MADT_IOAPIC);
	ab_put8(b, MADT_IOAPIC_BYTES);
	ab_put8(b, cfg->ioapic_id);
	ab_put8(b, 0);
	ab_put32(b, cfg->ioapic_pa);
	ab_put32(b, 0);               /* Global System Interrupt Base */
	madt_put_iso(b, ISA_TIMER_IRQ, ISA_TIMER_GSI,
		     INTI_ACTIVE_HIGH | INTI_EDGE);
	madt_put_iso(b, cfg->sci_irq, cfg->sci_irq,
		     INTI_ACTIVE_HIGH | INTI_LEVEL);
	ab_put8(b, MADT_LAPIC_NMI);
	ab_put8(b, MADT_LAPIC_NMI_BYTES);
	ab_put8(b, MADT_ALL_CPUS);
	ab_put16(b, INTI_ACTIVE_HIGH | INTI_EDGE);
	ab_put8(b, MADT_LINT1);
	sdt_end(b, l->madt);
}

/* DSDT (5.2.11.1): the header and the AML of dsdt_body(). */
static void dsdt_write(struct acpi_buf *b, uint32_t off)
{
	sdt_begin(b, off, "DSDT", DSDT_REVISION);
	dsdt_body(b);
	sdt_end(b, off);
}

/* Where each table goes for nr_cpus CPUs with the buffer at base_pa. */
static void layout_compute(struct acpi_layout *l, uint64_t base_pa,
			   uint32_t nr_cpus)
{
	struct acpi_buf count = { NULL, 0, 0 };
	uint32_t facs_min;

	l->rsdp = 0;
	l->xsdt = align_u32(l->rsdp + RSDP_BYTES, TABLE_ALIGN_BYTES);
	l->rsdt = align_u32(l->xsdt + XSDT_BYTES, TABLE_ALIGN_BYTES);
	/* The FACS must be 64-byte aligned in guest-physical space. */
	facs_min = l->rsdt + RSDT_BYTES;
	l->facs = facs_min + (uint32_t)((FACS_ALIGN_BYTES -
					 ((base_pa + facs_min) %
					  FACS_ALIGN_BYTES)) %
					FACS_ALIGN_BYTES);
	l->fadt = l->facs + FACS_BYTES;
	l->madt = align_u32(l->fadt + FADT_BYTES, TABLE_ALIGN_BYTES);
	l->dsdt = align_u32(l->madt + MADT_BYTES(nr_cpus), TABLE_ALIGN_BYTES);
	dsdt_write(&count, 0);
	l->end = l->dsdt + count.pos;
}

static bool cfg_valid(const struct acpi_tables_cfg *cfg)
{
	return cfg->nr_cpus >= 1 && cfg->nr_cpus <= ACPI_TABLES_MAX_CPUS &&
	       cfg->ioapic_id <= 0xFEu && cfg->ioapic_pa && cfg->lapic_pa &&
	       cfg->sci_irq < ISA_IRQS && cfg->sci_irq != ISA_TIMER_IRQ &&
	       cfg->sci_irq != ISA_CASCADE_IRQ && cfg->pm_io_base &&
	       (uint32_t)cfg->pm_io_base + ACPI_PM_IO_BYTES <= IO_SPACE_BYTES &&
	       cfg->reset_port;
}

/* Build the tables; see acpi_tables.h. */
int acpi_tables_build(uint8_t *buf, uint32_t buf_bytes, uint64_t base_pa,
		      const struct acpi_tables_cfg *cfg)
{
	struct acpi_layout l;
	struct acpi_buf b;

	if (!buf || !cfg || !cfg_valid(cfg) ||
	    base_pa % ACPI_TABLES_ALIGN_BYTES || base_pa >= ADDR_LIMIT)
		return -EINVAL;
	layout_compute(&l, base_pa, cfg->nr_cpus);
	if (base_pa + l.end > ADDR_LIMIT)
		return -EINVAL;
	if (l.end > buf_bytes)
		return -ENOSPC;
	memset(buf, 0, l.end);
	b.p = buf;
	b.cap = l.end;
	rsdp_write(&b, &l, base_pa);
	sdts_write(&b, &l, base_pa);
	facs_write(&b, &l);
	fadt_write(&b, &l, base_pa, cfg);
	madt_write(&b, &l, cfg);
	dsdt_write(&b, l.dsdt);
	return (int)l.end;
}
