/*
 * ACPI CPU hotplug of a guest's virtual PC (`keel vcpu-set`): a GPE0
 * block (ACPI 6.x, 4.8.4.1 "General-Purpose Event Register Blocks") with
 * one event, GPE ACPI_GPE_CPUHP, and two registers of our own that the
 * DSDT's AML reads and writes (acpi_tables.c): a bitmap of the CPUs that
 * are present, which each CPU device's _STA and _MAT report, and an eject
 * register its _EJ0 writes. The toolstack changes the present set; the
 * device raises the GPE, whose \_GPE._E02 method notifies each CPU that
 * came (device check) or must go (eject request), and the guest's kernel
 * brings it online or offline itself. Pure code: the caller routes the
 * port accesses here and drives the SCI from acpi_cpuhp_sci_level() (with
 * the PM1 block's).
 */
#ifndef KEEL_ACPI_CPUHP_H
#define KEEL_ACPI_CPUHP_H

#include <stdint.h>
#include <stdbool.h>
#include <public/keel_abi.h>

/* GPE0 block: GPE0_STS (GPEs 0-7), then GPE0_EN; FADT GPE0_BLK_LEN 2. */
#define ACPI_GPE0_BLK_LEN 2u
#define ACPI_GPE0_STS_OFF 0u
#define ACPI_GPE0_EN_OFF 1u
#define ACPI_GPE_CPUHP 2u          /* CPU hotplug: the DSDT's \_GPE._E02 */

/* The CPU hotplug registers (bytes from their I/O base). */
#define ACPI_CPUHP_IO_BYTES 2u
#define ACPI_CPUHP_PRESENT_OFF 0u  /* read: bit i set = CPU i present */
#define ACPI_CPUHP_EJECT_OFF 1u    /* write: bit i set = the OS ejected CPU i */
#define ACPI_CPUHP_MAX_CPUS 8u     /* one byte of each */

struct acpi_cpuhp {
	uint8_t max;      /* CPUs 0..max-1 exist; 1 = no hotplug */
	uint8_t present;  /* bit i: CPU i present (CPU 0 always) */
	uint8_t ejected;  /* bit i: the OS ejected CPU i since it last left */
	uint8_t gpe_sts;  /* GPE0_STS: write 1 to clear */
	uint8_t gpe_en;   /* GPE0_EN */
};

/* Power-on state: CPUs 0..nr_present-1 present of max (1 <= nr_present
 * <= max <= ACPI_CPUHP_MAX_CPUS, else clamped), no event. */
void acpi_cpuhp_init(struct acpi_cpuhp *h, uint32_t nr_present, uint32_t max);

/* Read size (1, 2 or 4) bytes at offset of the GPE0 block; bytes past it
 * read 0xFF. Returns the value zero-extended (all ones for a bad size). */
uint32_t acpi_cpuhp_gpe_read(const struct acpi_cpuhp *h, uint32_t offset, uint32_t size);

/* Write size bytes of value at offset of the GPE0 block: status bytes
 * clear the bits written as 1, the enable byte is stored. */
void acpi_cpuhp_gpe_write(struct acpi_cpuhp *h, uint32_t offset, uint32_t size,
			  uint32_t value);

/* Read size bytes at offset of the hotplug registers: the present bitmap,
 * then 0 (the eject register reads 0); past them 0xFF. */
uint32_t acpi_cpuhp_read(const struct acpi_cpuhp *h, uint32_t offset, uint32_t size);

/* Write size bytes at offset of the hotplug registers. A byte to the
 * eject register marks those of its CPUs that are not present as ejected
 * (the OS finished taking them offline); others are ignored. Returns the
 * bitmap of CPUs newly ejected by this write. */
uint32_t acpi_cpuhp_write(struct acpi_cpuhp *h, uint32_t offset, uint32_t size,
			  uint32_t value);

/* Make CPUs 0..n-1 present and the others not. Raises GPE ACPI_GPE_CPUHP
 * if that changes the set (a CPU that comes back is no longer ejected).
 * 0, or -EINVAL if n is 0 or above max. */
int acpi_cpuhp_set(struct acpi_cpuhp *h, uint32_t n);

/* How many CPUs are present. */
uint32_t acpi_cpuhp_nr_present(const struct acpi_cpuhp *h);

/* True while the GPE block asserts the SCI: a status bit with its enable
 * bit set (ACPI 6.x 4.8.4.1). */
bool acpi_cpuhp_sci_level(const struct acpi_cpuhp *h);

/* Copy h's state into its save record (docs/save-restore.md). */
void acpi_cpuhp_save(const struct acpi_cpuhp *h, struct keel_state_cpuhp *st);

/* Replace h's state (its max kept) with the record st, which may come
 * from a file: CPU 0 present, no CPU at or above max, only CPUs not
 * present ejected, reserved 0. Returns 0, or -EINVAL with h unchanged. */
int acpi_cpuhp_load(struct acpi_cpuhp *h, const struct keel_state_cpuhp *st);

#endif /* KEEL_ACPI_CPUHP_H */
