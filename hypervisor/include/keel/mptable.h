/*
 * Builder for the Intel MultiProcessor Specification 1.4 tables (chapter
 * 4) that describe a guest's virtual PC to an operating system without
 * ACPI: the MP floating pointer structure followed by an MP configuration
 * table listing the CPUs, one ISA bus, one IOAPIC, the ISA IRQ routing to
 * IOAPIC pins and the local interrupt (LINT0/LINT1) wiring. Linux finds
 * the floating pointer by scanning 16-byte boundaries of the first KiB,
 * the last KiB of base memory and 0xF0000-0xFFFFF, so place it there.
 * Pure: the tables are written into a caller buffer.
 */
#ifndef KEEL_MPTABLE_H
#define KEEL_MPTABLE_H

#include <stdint.h>

#define MPTABLE_FLOAT_BYTES 16u       /* floating pointer structure */
#define MPTABLE_HEADER_BYTES 44u      /* configuration table header */
#define MPTABLE_CPU_ENTRY_BYTES 20u   /* processor entry */
#define MPTABLE_ENTRY_BYTES 8u        /* bus, IOAPIC and interrupt entries */
#define MPTABLE_ALIGN_BYTES 16u       /* alignment of the floating pointer */
#define MPTABLE_MAX_CPUS 255u         /* APIC IDs 0..254; 0xFF is "all" */
#define MPTABLE_ISA_IRQS 16u          /* ISA IRQ 0..15 */
#define MPTABLE_IO_INT_ENTRIES 15u    /* ISA IRQs routed: all but IRQ 2 */
#define MPTABLE_LOCAL_INT_ENTRIES 2u  /* ExtINT -> LINT0, NMI -> LINT1 */

/* Entry types (MP 1.4, Table 4-3). */
#define MPTABLE_ENTRY_CPU 0u
#define MPTABLE_ENTRY_BUS 1u
#define MPTABLE_ENTRY_IOAPIC 2u
#define MPTABLE_ENTRY_IO_INT 3u
#define MPTABLE_ENTRY_LOCAL_INT 4u

/* Interrupt types (MP 1.4, Table 4-11). */
#define MPTABLE_INT_INT 0u
#define MPTABLE_INT_NMI 1u
#define MPTABLE_INT_SMI 2u
#define MPTABLE_INT_EXTINT 3u

/* Processor entry CPU flags (MP 1.4, Table 4-4). */
#define MPTABLE_CPU_ENABLED 0x01u
#define MPTABLE_CPU_BSP 0x02u

#define MPTABLE_SPEC_REV 4u          /* MP 1.4 */
#define MPTABLE_LAPIC_VERSION 0x14u  /* integrated APIC */
#define MPTABLE_IOAPIC_VERSION 0x11u
#define MPTABLE_CPU_SIGNATURE 0x600u /* family 6, model 0, stepping 0 */
#define MPTABLE_CPU_FEATURES 0x201u  /* CPUID.1:EDX FPU (bit 0), APIC (9) */
#define MPTABLE_ISA_BUS_ID 0u
#define MPTABLE_TIMER_IOAPIC_PIN 2u  /* ISA IRQ 0 arrives on INTIN2 */
#define MPTABLE_ALL_LAPICS 0xFFu     /* destination: every local APIC */

/* Bytes mptable_build() needs for nr_cpus CPUs. */
#define MPTABLE_BYTES(nr_cpus)                                               \
	(MPTABLE_FLOAT_BYTES + MPTABLE_HEADER_BYTES +                        \
	 (uint32_t)(nr_cpus) * MPTABLE_CPU_ENTRY_BYTES +                     \
	 (2u + MPTABLE_IO_INT_ENTRIES + MPTABLE_LOCAL_INT_ENTRIES) *         \
		 MPTABLE_ENTRY_BYTES)

/*
 * Write an MP floating pointer structure at buf, followed directly by the
 * MP configuration table it points to; buf will sit at guest-physical
 * base_pa. The table lists nr_cpus CPUs with APIC IDs 0..nr_cpus-1 (CPU
 * 0 the bootstrap processor), ISA bus 0, the IOAPIC ioapic_id at
 * ioapic_pa with ISA IRQ 0 on pin 2 and IRQs 1 and 3..15 on the pins of
 * the same number (MP 1.4 Table 5-2; IRQ 2 is the 8259 cascade and has no
 * pin), ExtINT on LINT0 and NMI on LINT1 of every CPU, and the local APIC
 * base lapic_pa. Returns the bytes written (MPTABLE_BYTES(nr_cpus)),
 * -ENOSPC if buf_bytes is too small, -EINVAL if nr_cpus is 0 or above
 * MPTABLE_MAX_CPUS, ioapic_id is above 0xFE, base_pa is not 16-byte
 * aligned or the tables would not lie below 4 GiB.
 */
int mptable_build(uint8_t *buf, uint32_t buf_bytes, uint64_t base_pa,
		  uint32_t nr_cpus, uint32_t ioapic_id, uint32_t ioapic_pa,
		  uint32_t lapic_pa);

#endif /* KEEL_MPTABLE_H */
