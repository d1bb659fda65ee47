/*
 * MP 1.4 table builder (Intel MultiProcessor Specification 1.4, chapter
 * 4 "MP Configuration Table"). Writes the 16-byte floating pointer
 * structure (4.1, Table 4-1) and, right after it, the configuration table
 * header (4.2, Table 4-2) with the base table entries in ascending entry
 * type order (4.3): processors (Table 4-4), the ISA bus (Table 4-7), the
 * IOAPIC (Table 4-9), I/O interrupt assignments (Table 4-10) and local
 * interrupt assignments (Table 4-12). Both structures carry a checksum
 * byte that makes all their bytes sum to 0 modulo 256. All fields are
 * written byte by byte in little-endian order, so buf needs no alignment.
 */
#include <keel/mptable.h>
#include <keel/errno.h>

#include <stdbool.h>
#include <stddef.h>

#define MP_FLOAT_SIG "_MP_"
#define MP_CONFIG_SIG "PCMP"
#define MP_OEM_ID "KEEL"            /* padded with spaces to 8 bytes */
#define MP_PRODUCT_ID "KEEL VIRTPC" /* padded with spaces to 12 bytes */
#define MP_OEM_ID_BYTES 8u
#define MP_PRODUCT_ID_BYTES 12u
#define MP_BUS_TYPE_ISA "ISA"       /* padded with spaces to 6 bytes */
#define MP_BUS_TYPE_BYTES 6u
#define MP_FLOAT_LENGTH_PARAGRAPHS 1u /* floating pointer length / 16 */
#define MP_FLOAT_CHECKSUM_OFF 10u
#define MP_CONFIG_CHECKSUM_OFF 7u
#define MP_IOAPIC_ENABLED 0x01u
#define MP_IRQ_FLAGS_CONFORMS 0x0000u /* polarity and trigger per bus */
#define MP_CASCADE_IRQ 2u             /* 8259 cascade: no IOAPIC pin */
#define MP_MAX_IOAPIC_ID 0xFEu        /* 0xFF means "all IOAPICs" */
#define MP_ADDR_LIMIT 0x100000000ull  /* the pointers are 32-bit */

/* A cursor over the output buffer. */
struct mp_writer {
	uint8_t *p;
};

static void mp_put8(struct mp_writer *w, uint32_t v)
{
	*w->p++ = (uint8_t)v;
}

static void mp_put16(struct mp_writer *w, uint32_t v)
{
	mp_put8(w, v);
	mp_put8(w, v >> 8);
}

static void mp_put32(struct mp_writer *w, uint32_t v)
{
	mp_put16(w, v);
	mp_put16(w, v >> 16);
}

/* Write s, then spaces up to len bytes (s is at most len characters). */
static void mp_put_padded(struct mp_writer *w, const char *s, uint32_t len)
{
	uint32_t i = 0;

	for (; s[i] && i < len; i++)
		mp_put8(w, (uint8_t)s[i]);
	for (; i < len; i++)
		mp_put8(w, ' ');
}

static void mp_put_zeros(struct mp_writer *w, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		mp_put8(w, 0);
}

/* Set p[sum_off] so that the len bytes at p sum to 0 modulo 256. */
static void mp_fix_checksum(uint8_t *p, uint32_t len, uint32_t sum_off)
{
	uint8_t sum = 0;

	p[sum_off] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[sum_off] = (uint8_t)(0u - sum);
}

/* Floating pointer structure (Table 4-1); feature bytes 0: virtual wire. */
static void mp_put_float(struct mp_writer *w, uint32_t config_pa)
{
	mp_put_padded(w, MP_FLOAT_SIG, 4);
	mp_put32(w, config_pa);
	mp_put8(w, MP_FLOAT_LENGTH_PARAGRAPHS);
	mp_put8(w, MPTABLE_SPEC_REV);
	mp_put8(w, 0);        /* checksum, fixed later */
	mp_put_zeros(w, 5);   /* MP feature information bytes 1-5 */
}

/* Configuration table header (Table 4-2), no OEM or extended table. */
static void mp_put_header(struct mp_writer *w, uint32_t table_bytes,
			  uint32_t entries, uint32_t lapic_pa)
{
	mp_put_padded(w, MP_CONFIG_SIG, 4);
	mp_put16(w, table_bytes);
	mp_put8(w, MPTABLE_SPEC_REV);
	mp_put8(w, 0);        /* checksum, fixed later */
	mp_put_padded(w, MP_OEM_ID, MP_OEM_ID_BYTES);
	mp_put_padded(w, MP_PRODUCT_ID, MP_PRODUCT_ID_BYTES);
	mp_put32(w, 0);       /* OEM table pointer */
	mp_put16(w, 0);       /* OEM table size */
	mp_put16(w, entries);
	mp_put32(w, lapic_pa);
	mp_put16(w, 0);       /* extended table length */
	mp_put8(w, 0);        /* extended table checksum */
	mp_put8(w, 0);        /* reserved */
}

/* Processor entry (Table 4-4). */
static void mp_put_cpu(struct mp_writer *w, uint32_t apic_id, bool bsp)
{
	mp_put8(w, MPTABLE_ENTRY_CPU);
	mp_put8(w, apic_id);
	mp_put8(w, MPTABLE_LAPIC_VERSION);
	mp_put8(w, MPTABLE_CPU_ENABLED | (bsp ? MPTABLE_CPU_BSP : 0));
	mp_put32(w, MPTABLE_CPU_SIGNATURE);
	mp_put32(w, MPTABLE_CPU_FEATURES);
	mp_put_zeros(w, 8);   /* reserved */
}

/* Bus entry (Table 4-7). */
static void mp_put_bus(struct mp_writer *w, uint32_t bus_id, const char *type)
{
	mp_put8(w, MPTABLE_ENTRY_BUS);
	mp_put8(w, bus_id);
	mp_put_padded(w, type, MP_BUS_TYPE_BYTES);
}

/* I/O APIC entry (Table 4-9). */
static void mp_put_ioapic(struct mp_writer *w, uint32_t id, uint32_t pa)
{
	mp_put8(w, MPTABLE_ENTRY_IOAPIC);
	mp_put8(w, id);
	mp_put8(w, MPTABLE_IOAPIC_VERSION);
	mp_put8(w, MP_IOAPIC_ENABLED);
	mp_put32(w, pa);
}

/*
 * I/O or local interrupt assignment entry (Tables 4-10 and 4-12 share a
 * layout): entry type, interrupt type, flags, source bus and IRQ, then
 * the destination APIC ID and its input pin.
 */
static void mp_put_int(struct mp_writer *w, uint32_t entry_type,
		       uint32_t int_type, uint32_t src_irq, uint32_t dst_id,
		       uint32_t dst_pin)
{
	mp_put8(w, entry_type);
	mp_put8(w, int_type);
	mp_put16(w, MP_IRQ_FLAGS_CONFORMS);
	mp_put8(w, MPTABLE_ISA_BUS_ID);
	mp_put8(w, src_irq);
	mp_put8(w, dst_id);
	mp_put8(w, dst_pin);
}

/* ISA IRQs 0..15 but the cascade, IRQ 0 on pin 2 (MP 1.4 Table 5-2). */
static void mp_put_isa_irqs(struct mp_writer *w, uint32_t ioapic_id)
{
	for (uint32_t irq = 0; irq < MPTABLE_ISA_IRQS; irq++) {
		uint32_t pin = irq ? irq : MPTABLE_TIMER_IOAPIC_PIN;

		if (irq == MP_CASCADE_IRQ)
			continue;
		mp_put_int(w, MPTABLE_ENTRY_IO_INT, MPTABLE_INT_INT, irq,
			   ioapic_id, pin);
	}
}

static bool mp_args_ok(uint64_t base_pa, uint32_t nr_cpus, uint32_t ioapic_id)
{
	if (nr_cpus == 0 || nr_cpus > MPTABLE_MAX_CPUS)
		return false;
	if (ioapic_id > MP_MAX_IOAPIC_ID)
		return false;
	if (base_pa % MPTABLE_ALIGN_BYTES)
		return false;
	return base_pa < MP_ADDR_LIMIT &&
	       MP_ADDR_LIMIT - base_pa >= MPTABLE_BYTES(nr_cpus);
}

/* Build the floating pointer and configuration table; see mptable.h. */
int mptable_build(uint8_t *buf, uint32_t buf_bytes, uint64_t base_pa,
		  uint32_t nr_cpus, uint32_t ioapic_id, uint32_t ioapic_pa,
		  uint32_t lapic_pa)
{
	struct mp_writer w = { buf };
	uint32_t total, table_bytes, entries;
	uint8_t *table = buf + MPTABLE_FLOAT_BYTES;

	if (!mp_args_ok(base_pa, nr_cpus, ioapic_id))
		return -EINVAL;
	total = MPTABLE_BYTES(nr_cpus);
	if (buf_bytes < total)
		return -ENOSPC;
	table_bytes = total - MPTABLE_FLOAT_BYTES;
	entries = nr_cpus + 2u + MPTABLE_IO_INT_ENTRIES +
		  MPTABLE_LOCAL_INT_ENTRIES;

	mp_put_float(&w, (uint32_t)base_pa + MPTABLE_FLOAT_BYTES);
	mp_put_header(&w, table_bytes, entries, lapic_pa);
	for (uint32_t i = 0; i < nr_cpus; i++)
		mp_put_cpu(&w, i, i == 0);
	mp_put_bus(&w, MPTABLE_ISA_BUS_ID, MP_BUS_TYPE_ISA);
	mp_put_ioapic(&w, ioapic_id, ioapic_pa);
	mp_put_isa_irqs(&w, ioapic_id);
	mp_put_int(&w, MPTABLE_ENTRY_LOCAL_INT, MPTABLE_INT_EXTINT, 0,
		   MPTABLE_ALL_LAPICS, 0);
	mp_put_int(&w, MPTABLE_ENTRY_LOCAL_INT, MPTABLE_INT_NMI, 0,
		   MPTABLE_ALL_LAPICS, 1);

	mp_fix_checksum(table, table_bytes, MP_CONFIG_CHECKSUM_OFF);
	mp_fix_checksum(buf, MPTABLE_FLOAT_BYTES, MP_FLOAT_CHECKSUM_OFF);
	return (int)(w.p - buf);
}
