/*
 * Minimal ACPI tables for a guest's virtual PC (ACPI 6.x, chapter 5): the
 * RSDP (5.2.5), XSDT (5.2.8) and RSDT (5.2.7), FADT revision 6.3 (5.2.9),
 * FACS (5.2.10), MADT (5.2.12) and a DSDT (5.2.11.1) written in hand-
 * encoded AML (chapter 20). Layout inside the buffer, every table 8-byte
 * aligned and the FACS 64-byte aligned in guest-physical space: RSDP,
 * XSDT, RSDT, FACS, FADT, MADT, DSDT. The size is fixed except for the
 * MADT (one entry per CPU) and the DSDT, which comes last; its length is
 * found by running the same emitters over a counting-only buffer first,
 * so nothing is written unless everything fits. All fields are written
 * byte by byte in little-endian order, so buf needs no alignment.
 *
 * The DSDT holds \_S5_ and the PCI root bridge \_SB_.PCI0 and, with CPU
 * hotplug (max_cpus > 1, keel/acpi_cpuhp.h), what QEMU's legacy PIIX4 CPU
 * hotplug gives a guest: the hotplug registers as \_SB_.CPPR (present
 * bitmap) and \_SB_.CPEJ (eject), a processor device \_SB_.CPxx
 * (ACPI0007) for each CPU from 1 on with _STA, _MAT and _EJ0, and
 * \_GPE._E02, which compares CPPR with the set last reported (\_GPE.CPON)
 * and notifies each CPU that came (device check) or must go (eject
 * request). The MADT then lists max_cpus CPUs, the absent ones disabled
 * but online capable, and the FADT has the GPE0 block.
 */
#include <keel/acpi_tables.h>
#include <keel/mc146818.h>
#include <keel/acpi_pm.h>
#include <keel/acpi_cpuhp.h>
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
#define FADT_MINOR_REVISION 3u         /* ACPI 6.3: the MADT's Online Capable bit */
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
#define MADT_CPU_ONLINE_CAPABLE 0x2u /* ACPI 6.3+: may be enabled later */
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
#define AML_OPREGION_OP 0x80u      /* after AML_EXT_OP_PREFIX */
#define AML_FIELD_OP 0x81u         /* after AML_EXT_OP_PREFIX */
#define AML_STRING_PREFIX 0x0Du
#define AML_METHOD_OP 0x14u
#define AML_DUAL_NAME_PREFIX 0x2Eu /* two NameSegs follow */
#define AML_LOCAL0_OP 0x60u
#define AML_STORE_OP 0x70u
#define AML_AND_OP 0x7Bu
#define AML_NOTIFY_OP 0x86u
#define AML_LNOT_OP 0x92u
#define AML_LEQUAL_OP 0x93u
#define AML_IF_OP 0xA0u
#define AML_ELSE_OP 0xA1u
#define AML_RETURN_OP 0xA4u
#define AML_NULL_NAME 0x00u        /* Target: result not stored */
#define AML_ROOT_CHAR '\\'
#define AML_NAME_SEP '.'           /* ASL path separator (\_SB_.CP01) */
#define AML_LOCAL0 "Local0"        /* aml_operand(): LocalObj 0, not a name */
#define AML_REGION_SYSTEM_IO 0x01u /* RegionSpace (20.2.5.2) */
/* FieldFlags (20.2.5.2): AccessType bits 3:0 = 1 (ByteAcc), LockRule bit
 * 4 = 0 (NoLock), UpdateRule bits 6:5 = 0 (Preserve). */
#define AML_FIELD_BYTE_ACC 0x01u
#define AML_METHOD_ARGS_MASK 0x07u /* MethodFlags bits 2:0; bit 3 clear:
				    * NotSerialized; bits 7:4 SyncLevel 0 */
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

/* CPU hotplug in the DSDT (keel/acpi_cpuhp.h for the registers). */
#define CPUHP_REGION "CPHR"        /* OperationRegion of the registers */
#define CPUHP_PRESENT "CPPR"       /* Field: present bitmap, byte 0 */
#define CPUHP_EJECT "CPEJ"         /* Field: eject register, byte 1 */
#define CPUHP_REG_BITS 8u          /* each register is one byte */
#define CPUHP_PRESENT_PATH "\\_SB_." CPUHP_PRESENT
#define CPUHP_KNOWN "CPON"         /* \_GPE.CPON: present set last notified */
#define CPU_DEV_PREFIX "CP"        /* \_SB_.CPxx, xx = CPU number in hex */
#define CPU_DEV_PATH "\\_SB_.CPxx" /* template; xx filled in */
#define CPU_DEV_PATH_SEG 6u        /* offset of "CPxx" in CPU_DEV_PATH */
#define GPE_EDGE_PREFIX "_E"       /* \_GPE._Exx: edge GPE xx (hex), 5.6.4.1 */
#define ACPI_HID_PROCESSOR "ACPI0007" /* processor device (8.4) */
#define STA_ALL 0x0Fu              /* _STA (6.3.7): present, enabled,
				    * shown in UI, functioning */
#define NOTIFY_DEVICE_CHECK 1u     /* device object notifications (5.6.6) */
#define NOTIFY_EJECT_REQUEST 3u

/* The AML below reads the present bitmap as byte 0 and writes the eject
 * register as byte 1 of the region, one bit per CPU. */
_Static_assert(ACPI_CPUHP_PRESENT_OFF == 0 && ACPI_CPUHP_EJECT_OFF == 1 &&
		       ACPI_CPUHP_IO_BYTES == 2,
	       "CPHR's fields are CPPR then CPEJ, a byte each");
_Static_assert(ACPI_TABLES_MAX_CPUS <= ACPI_CPUHP_MAX_CPUS &&
		       ACPI_TABLES_MAX_CPUS <= CPUHP_REG_BITS,
	       "a CPU's bit fits in the hotplug registers");

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

/* NameSeg (20.2.2): the 4 characters of name up to its end or a '.'
 * (shorter names are padded with '_' as the spec's ASL rules do). */
static void aml_nameseg(struct acpi_buf *b, const char *name)
{
	uint32_t i = 0;

	for (; name[i] && name[i] != AML_NAME_SEP && i < AML_NAMESEG_BYTES;
	     i++)
		ab_put8(b, (uint8_t)name[i]);
	for (; i < AML_NAMESEG_BYTES; i++)
		ab_put8(b, '_');
}

/*
 * NameString (20.2.2) for "XXXX", "\XXXX" or "\XXXX.YYYY": an optional
 * RootChar, then one NameSeg, or two after a DualNamePrefix.
 */
static void aml_namestring(struct acpi_buf *b, const char *name)
{
	const char *sep;

	if (name[0] == AML_ROOT_CHAR) {
		ab_put8(b, AML_ROOT_CHAR);
		name++;
	}
	sep = strchr(name, AML_NAME_SEP);
	if (sep)
		ab_put8(b, AML_DUAL_NAME_PREFIX);
	aml_nameseg(b, name);
	if (sep)
		aml_nameseg(b, sep + 1);
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

/* Bytes a PkgLength takes to encode the value len. */
static uint32_t aml_pkglen_value_bytes(uint32_t len)
{
	if (len <= AML_PKGLEN_1BYTE_MAX)
		return 1;
	if (len <= AML_PKGLEN_2BYTE_MAX)
		return 2;
	return len <= AML_PKGLEN_3BYTE_MAX ? 3 : 4;
}

/* Write the PkgLength value len in n bytes (20.2.4). */
static void aml_pkglen_put(struct acpi_buf *b, uint32_t len, uint32_t n)
{
	if (n == 1) {
		ab_put8(b, len);
		return;
	}
	/* Lead byte: count of following bytes in bits 7:6, then length
	 * bits 3:0; following bytes: bits 11:4, 19:12, ... */
	ab_put8(b, ((n - 1) << 6) | (len & 0x0Fu));
	for (uint32_t i = 1; i < n; i++)
		ab_put8(b, len >> (4 + 8 * (i - 1)));
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
	aml_pkglen_put(b, len, n);
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

/* ExtOpPrefix op PkgLength name, the head of DefDevice and DefField
 * (20.2.5.2): returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_ext_named_begin(struct acpi_buf *b, uint32_t op, const char *name)
{
	uint32_t start;

	ab_put8(b, AML_EXT_OP_PREFIX);
	ab_put8(b, op);
	start = aml_pkg_begin(b);
	aml_namestring(b, name);
	return start;
}

/* Device(name) { ...: returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_device_begin(struct acpi_buf *b, const char *name)
{
	return aml_ext_named_begin(b, AML_DEVICE_OP, name);
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

/* String "s" (20.2.3): StringPrefix AsciiCharList NullChar. */
static void aml_string(struct acpi_buf *b, const char *s)
{
	ab_put8(b, AML_STRING_PREFIX);
	for (; *s; s++)
		ab_put8(b, (uint8_t)*s);
	ab_put8(b, 0);
}

/* Method(name, nargs, NotSerialized) { ...: DefMethod (20.2.5.2);
 * returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_method_begin(struct acpi_buf *b, const char *name,
				 uint32_t nargs)
{
	uint32_t start;

	ab_put8(b, AML_METHOD_OP);
	start = aml_pkg_begin(b);
	aml_namestring(b, name);
	ab_put8(b, nargs & AML_METHOD_ARGS_MASK); /* MethodFlags */
	return start;
}

/* If (predicate) { ...: DefIfElse (20.2.5.3); the caller writes the
 * predicate, then the TermList, and closes it with aml_pkg_end(). */
static uint32_t aml_if_begin(struct acpi_buf *b)
{
	ab_put8(b, AML_IF_OP);
	return aml_pkg_begin(b);
}

/* Else { ...: DefElse (20.2.5.3), right after the If's package; closed
 * with aml_pkg_end(). */
static uint32_t aml_else_begin(struct acpi_buf *b)
{
	ab_put8(b, AML_ELSE_OP);
	return aml_pkg_begin(b);
}

/* Return(operand): DefReturn (20.2.5.3); the caller writes the operand. */
static void aml_return(struct acpi_buf *b)
{
	ab_put8(b, AML_RETURN_OP);
}

/* Return(v): DefReturn (20.2.5.3) of an integer. */
static void aml_return_integer(struct acpi_buf *b, uint64_t v)
{
	aml_return(b);
	aml_integer(b, v);
}

/* An operand: Local0 for AML_LOCAL0 (LocalObj, 20.2.6.2), else the
 * NameString name (20.2.2). */
static void aml_operand(struct acpi_buf *b, const char *name)
{
	if (strcmp(name, AML_LOCAL0) == 0)
		ab_put8(b, AML_LOCAL0_OP);
	else
		aml_namestring(b, name);
}

/* And(name, mask) with no Target: DefAnd (20.2.5.4). */
static void aml_and(struct acpi_buf *b, const char *name, uint64_t mask)
{
	ab_put8(b, AML_AND_OP);
	aml_operand(b, name);
	aml_integer(b, mask);
	ab_put8(b, AML_NULL_NAME);
}

/* LNot(operand): DefLNot (20.2.5.4); the caller writes the operand. */
static void aml_lnot(struct acpi_buf *b)
{
	ab_put8(b, AML_LNOT_OP);
}

/* LEqual(a, b): DefLEqual (20.2.5.4); the caller writes both operands. */
static void aml_lequal(struct acpi_buf *b)
{
	ab_put8(b, AML_LEQUAL_OP);
}

/* Store(src, dst) of two operands: DefStore (20.2.5.4). */
static void aml_store(struct acpi_buf *b, const char *src, const char *dst)
{
	ab_put8(b, AML_STORE_OP);
	aml_operand(b, src);
	aml_operand(b, dst);
}

/* Store(v, dst) of an integer: DefStore (20.2.5.4). */
static void aml_store_integer(struct acpi_buf *b, uint64_t v,
			      const char *dst)
{
	ab_put8(b, AML_STORE_OP);
	aml_integer(b, v);
	aml_operand(b, dst);
}

/* Notify(name, value): DefNotify (20.2.5.3). */
static void aml_notify(struct acpi_buf *b, const char *name, uint64_t value)
{
	ab_put8(b, AML_NOTIFY_OP);
	aml_namestring(b, name);
	aml_integer(b, value);
}

/* OperationRegion(name, SystemIO, port, bytes): DefOpRegion (20.2.5.2). */
static void aml_opregion_io(struct acpi_buf *b, const char *name,
			    uint32_t port, uint32_t bytes)
{
	ab_put8(b, AML_EXT_OP_PREFIX);
	ab_put8(b, AML_OPREGION_OP);
	aml_namestring(b, name);
	ab_put8(b, AML_REGION_SYSTEM_IO); /* RegionSpace */
	aml_integer(b, port);             /* RegionOffset */
	aml_integer(b, bytes);            /* RegionLen */
}

/* Field(region, ByteAcc, NoLock, Preserve) { ...: DefField (20.2.5.2);
 * returns the PkgLength start for aml_pkg_end(). */
static uint32_t aml_field_begin(struct acpi_buf *b, const char *region)
{
	uint32_t start = aml_ext_named_begin(b, AML_FIELD_OP, region);

	ab_put8(b, AML_FIELD_BYTE_ACC); /* FieldFlags */
	return start;
}

/* A field unit of bits bits: NamedField (20.2.5.2), NameSeg PkgLength. */
static void aml_named_field(struct acpi_buf *b, const char *name,
			    uint32_t bits)
{
	aml_nameseg(b, name);
	aml_pkglen_put(b, bits, aml_pkglen_value_bytes(bits));
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

/* ---- CPU hotplug (keel/acpi_cpuhp.h) ---- */

/* Whether cfg asks for CPU hotplug (acpi_tables.h). */
static bool cpuhp_on(const struct acpi_tables_cfg *cfg)
{
	return cfg->max_cpus > 1;
}

/* The CPUs the MADT lists: max_cpus with hotplug, else nr_cpus. */
static uint32_t madt_cpus(const struct acpi_tables_cfg *cfg)
{
	return cpuhp_on(cfg) ? cfg->max_cpus : cfg->nr_cpus;
}

/* Processor Local APIC entry (5.2.12.2) of CPU cpu: UID = APIC ID = cpu,
 * flags MADT_CPU_ENABLED or MADT_CPU_ONLINE_CAPABLE. */
static void madt_put_lapic(struct acpi_buf *b, uint32_t cpu, uint32_t flags)
{
	ab_put8(b, MADT_LAPIC);
	ab_put8(b, MADT_LAPIC_BYTES);
	ab_put8(b, cpu);        /* ACPI Processor UID */
	ab_put8(b, cpu);        /* APIC ID */
	ab_put32(b, flags);
}

/* The NameSeg "<prefix>xx" into out: the 2-character prefix, then n in
 * two hex digits (upper case, as NameSegs must be). */
static void hex_nameseg(char out[AML_NAMESEG_BYTES + 1], const char *prefix,
			uint32_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	out[0] = prefix[0];
	out[1] = prefix[1];
	out[2] = hex[(n >> 4) & 0xFu];
	out[3] = hex[n & 0xFu];
	out[4] = 0;
}

/* The path \_SB_.CPxx of CPU cpu's device into out. */
static void cpu_dev_path(char out[sizeof(CPU_DEV_PATH)], uint32_t cpu)
{
	memcpy(out, CPU_DEV_PATH, sizeof(CPU_DEV_PATH));
	hex_nameseg(out + CPU_DEV_PATH_SEG, CPU_DEV_PREFIX, cpu);
}

/* Method(_STA) { If (And(CPPR, bit)) { Return(0x0F) } Return(Zero) }:
 * CPU cpu is there and working while the present bitmap says so (6.3.7). */
static void cpu_sta(struct acpi_buf *b, uint32_t cpu)
{
	uint32_t method = aml_method_begin(b, "_STA", 0), present;

	present = aml_if_begin(b);
	aml_and(b, CPUHP_PRESENT, 1u << cpu);
	aml_return_integer(b, STA_ALL);
	aml_pkg_end(b, present);
	aml_return_integer(b, 0);
	aml_pkg_end(b, method);
}

/* Buffer(8) { CPU cpu's MADT entry with flags } (DefBuffer, 20.2.5.4). */
static void aml_lapic_buffer(struct acpi_buf *b, uint32_t cpu, uint32_t flags)
{
	uint32_t start;

	ab_put8(b, AML_BUFFER_OP);
	start = aml_pkg_begin(b);
	aml_integer(b, MADT_LAPIC_BYTES); /* BufferSize */
	madt_put_lapic(b, cpu, flags);
	aml_pkg_end(b, start);
}

/* Method(_MAT): CPU cpu's MADT entry (6.2.10), enabled while present,
 * else online capable as in the MADT. */
static void cpu_mat(struct acpi_buf *b, uint32_t cpu)
{
	uint32_t method = aml_method_begin(b, "_MAT", 0), present;

	present = aml_if_begin(b);
	aml_and(b, CPUHP_PRESENT, 1u << cpu);
	aml_return(b);
	aml_lapic_buffer(b, cpu, MADT_CPU_ENABLED);
	aml_pkg_end(b, present);
	aml_return(b);
	aml_lapic_buffer(b, cpu, MADT_CPU_ONLINE_CAPABLE);
	aml_pkg_end(b, method);
}

/* Method(_EJ0, 1) { Store(bit, CPEJ) }: the OS took CPU cpu offline and
 * ejects it (6.3.3). */
static void cpu_ej0(struct acpi_buf *b, uint32_t cpu)
{
	uint32_t method = aml_method_begin(b, "_EJ0", 1);

	aml_store_integer(b, 1u << cpu, CPUHP_EJECT);
	aml_pkg_end(b, method);
}

/* Device(CPxx) { _HID "ACPI0007", _UID cpu, _STA, _MAT, _EJ0 }: CPU cpu
 * as a processor device (8.4) whose _UID is its MADT entry's UID. */
static void cpu_device(struct acpi_buf *b, uint32_t cpu)
{
	char name[AML_NAMESEG_BYTES + 1];
	uint32_t dev;

	hex_nameseg(name, CPU_DEV_PREFIX, cpu);
	dev = aml_device_begin(b, name);
	aml_name(b, "_HID");
	aml_string(b, ACPI_HID_PROCESSOR);
	aml_name_integer(b, "_UID", cpu);
	cpu_sta(b, cpu);
	cpu_mat(b, cpu);
	cpu_ej0(b, cpu);
	aml_pkg_end(b, dev);
}

/*
 * Scope(\_SB_) {
 *   OperationRegion(CPHR, SystemIO, cpuhp_io_base, 2)
 *   Field(CPHR, ByteAcc, NoLock, Preserve) { CPPR, 8, CPEJ, 8 }
 *   Device(CP01) ... Device(CPxx)   -- CPUs 1..max_cpus-1
 * }
 */
static void dsdt_cpus(struct acpi_buf *b, const struct acpi_tables_cfg *cfg)
{
	uint32_t scope = aml_scope_begin(b, "\\_SB_"), field;

	aml_opregion_io(b, CPUHP_REGION, cfg->cpuhp_io_base,
			ACPI_CPUHP_IO_BYTES);
	field = aml_field_begin(b, CPUHP_REGION);
	aml_named_field(b, CPUHP_PRESENT, CPUHP_REG_BITS);
	aml_named_field(b, CPUHP_EJECT, CPUHP_REG_BITS);
	aml_pkg_end(b, field);
	for (uint32_t cpu = 1; cpu < cfg->max_cpus; cpu++)
		cpu_device(b, cpu);
	aml_pkg_end(b, scope);
}

/*
 * _E02's part for CPU cpu: if its bit differs between the bitmap read
 * (Local0) and CPON, notify its device of its arrival or of its removal:
 *   If (LNot(LEqual(And(Local0, bit), And(CPON, bit)))) {
 *     If (And(Local0, bit)) { Notify(\_SB_.CPxx, 1) }
 *     Else { Notify(\_SB_.CPxx, 3) }
 *   }
 */
static void gpe_notify_cpu(struct acpi_buf *b, uint32_t cpu)
{
	char path[sizeof(CPU_DEV_PATH)];
	uint32_t changed, came, went;

	cpu_dev_path(path, cpu);
	changed = aml_if_begin(b);
	aml_lnot(b);
	aml_lequal(b);
	aml_and(b, AML_LOCAL0, 1u << cpu);
	aml_and(b, CPUHP_KNOWN, 1u << cpu);
	came = aml_if_begin(b);
	aml_and(b, AML_LOCAL0, 1u << cpu);
	aml_notify(b, path, NOTIFY_DEVICE_CHECK);
	aml_pkg_end(b, came);
	went = aml_else_begin(b);
	aml_notify(b, path, NOTIFY_EJECT_REQUEST);
	aml_pkg_end(b, went);
	aml_pkg_end(b, changed);
}

/*
 * Scope(\_GPE) {
 *   Name(CPON, (1 << nr_cpus) - 1)   -- the present set last notified
 *   Method(_E02) {                   -- GPE ACPI_GPE_CPUHP (5.6.4.1)
 *     Store(\_SB_.CPPR, Local0)
 *     ... gpe_notify_cpu() for CPUs 1..max_cpus-1
 *     Store(Local0, CPON)
 *   }
 * }
 */
static void dsdt_gpe(struct acpi_buf *b, const struct acpi_tables_cfg *cfg)
{
	uint32_t scope = aml_scope_begin(b, "\\_GPE"), method;
	char name[AML_NAMESEG_BYTES + 1];

	aml_name_integer(b, CPUHP_KNOWN, (1u << cfg->nr_cpus) - 1);
	hex_nameseg(name, GPE_EDGE_PREFIX, ACPI_GPE_CPUHP);
	method = aml_method_begin(b, name, 0);
	aml_store(b, CPUHP_PRESENT_PATH, AML_LOCAL0);
	for (uint32_t cpu = 1; cpu < cfg->max_cpus; cpu++)
		gpe_notify_cpu(b, cpu);
	aml_store(b, AML_LOCAL0, CPUHP_KNOWN);
	aml_pkg_end(b, method);
	aml_pkg_end(b, scope);
}

/* ---- The DSDT ---- */

/*
 * The DSDT's definition block contents:
 *   Name(\_S5_, Package(4) { 5, 5, 0, 0 })   -- SLP_TYPa, SLP_TYPb (7.4.2)
 *   Scope(\_SB_) { Device(PCI0) { _HID PNP0A03, _UID, _SEG, _BBN, _CRS } }
 * and with CPU hotplug those of dsdt_cpus() and dsdt_gpe().
 */
static void dsdt_body(struct acpi_buf *b, const struct acpi_tables_cfg *cfg)
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

	if (cpuhp_on(cfg)) {
		dsdt_cpus(b, cfg);
		dsdt_gpe(b, cfg);
	}
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

/* FADT revision 6.3 (5.2.9, Table 5.9), offsets in the comments. */
static void fadt_write(struct acpi_buf *b, const struct acpi_layout *l,
		       uint64_t base_pa, const struct acpi_tables_cfg *cfg)
{
	uint32_t evt = cfg->pm_io_base;
	uint32_t cnt = cfg->pm_io_base + ACPI_PM1_CNT_OFF;
	uint32_t gpe0 = cpuhp_on(cfg) ? cfg->gpe0_io_base : 0; /* 0: none */

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
	ab_put32(b, gpe0);                      /* 80 GPE0_BLK */
	ab_put32(b, 0);                         /* 84 GPE1_BLK */
	ab_put8(b, ACPI_PM1_EVT_LEN);           /* 88 PM1_EVT_LEN */
	ab_put8(b, ACPI_PM1_CNT_LEN);           /* 89 PM1_CNT_LEN */
	ab_put8(b, 0);                          /* 90 PM2_CNT_LEN */
	ab_put8(b, 0);                          /* 91 PM_TMR_LEN */
	ab_put8(b, gpe0 ? ACPI_GPE0_BLK_LEN : 0); /* 92 GPE0_BLK_LEN */
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
	gas_put_io(b, gpe0, ACPI_GPE0_BLK_LEN, GAS_ACCESS_BYTE); /* 220 */
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

/* MADT (5.2.12, Table 5.43) with the entries of 5.2.12.2-5.2.12.7: the
 * CPUs from nr_cpus to max_cpus - 1 (hotplug) disabled, online capable. */
static void madt_write(struct acpi_buf *b, const struct acpi_layout *l,
		       const struct acpi_tables_cfg *cfg)
{
	sdt_begin(b, l->madt, "APIC", MADT_REVISION);
	ab_put32(b, cfg->lapic_pa);   /* Local Interrupt Controller Address */
	ab_put32(b, 0);               /* Flags: PCAT_COMPAT clear */
	for (uint32_t i = 0; i < madt_cpus(cfg); i++)
		madt_put_lapic(b, i, i < cfg->nr_cpus ? MADT_CPU_ENABLED :
			       MADT_CPU_ONLINE_CAPABLE);
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
static void dsdt_write(struct acpi_buf *b, uint32_t off,
		       const struct acpi_tables_cfg *cfg)
{
	sdt_begin(b, off, "DSDT", DSDT_REVISION);
	dsdt_body(b, cfg);
	sdt_end(b, off);
}

/* Where each table goes for cfg with the buffer at base_pa. */
static void layout_compute(struct acpi_layout *l, uint64_t base_pa,
			   const struct acpi_tables_cfg *cfg)
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
	l->dsdt = align_u32(l->madt + MADT_BYTES(madt_cpus(cfg)),
			    TABLE_ALIGN_BYTES);
	dsdt_write(&count, 0, cfg);
	l->end = l->dsdt + count.pos;
}

/* An I/O block of bytes ports at base: not at 0, inside the I/O space. */
static bool io_block_valid(uint32_t base, uint32_t bytes)
{
	return base && base + bytes <= IO_SPACE_BYTES;
}

/* The hotplug fields, used only with max_cpus > 1 (acpi_tables.h). */
static bool cfg_cpuhp_valid(const struct acpi_tables_cfg *cfg)
{
	if (!cpuhp_on(cfg))
		return true;
	return cfg->max_cpus >= cfg->nr_cpus &&
	       cfg->max_cpus <= ACPI_TABLES_MAX_CPUS &&
	       io_block_valid(cfg->gpe0_io_base, ACPI_GPE0_BLK_LEN) &&
	       io_block_valid(cfg->cpuhp_io_base, ACPI_CPUHP_IO_BYTES);
}

static bool cfg_valid(const struct acpi_tables_cfg *cfg)
{
	return cfg->nr_cpus >= 1 && cfg->nr_cpus <= ACPI_TABLES_MAX_CPUS &&
	       cfg->ioapic_id <= 0xFEu && cfg->ioapic_pa && cfg->lapic_pa &&
	       cfg->sci_irq < ISA_IRQS && cfg->sci_irq != ISA_TIMER_IRQ &&
	       cfg->sci_irq != ISA_CASCADE_IRQ &&
	       io_block_valid(cfg->pm_io_base, ACPI_PM_IO_BYTES) &&
	       cfg->reset_port && cfg_cpuhp_valid(cfg);
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
	layout_compute(&l, base_pa, cfg);
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
	dsdt_write(&b, l.dsdt, cfg);
	return (int)l.end;
}
