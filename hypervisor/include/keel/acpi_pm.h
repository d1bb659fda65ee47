/*
 * The ACPI PM1 fixed-hardware registers of a guest's virtual PC (ACPI 6.x,
 * 4.8.3.1 "PM1 Event Grouping" and 4.8.3.2 "PM1 Control Grouping"): one
 * PM1a event block (PM1_STS, PM1_EN) and one PM1a control block (PM1_CNT)
 * in I/O space, described to the guest by the FADT that acpi_tables.c
 * builds. They carry the fixed-feature power and sleep buttons (which
 * raise the SCI) and the sleep request through which the guest powers
 * itself off (SLP_TYP = 5 with SLP_EN, the \_S5_ values of the DSDT).
 * Pure code: the caller routes port accesses here, acts on the sleep
 * request and drives the SCI line from acpi_pm_sci_level().
 */
#ifndef KEEL_ACPI_PM_H
#define KEEL_ACPI_PM_H

#include <stdint.h>
#include <public/keel_abi.h>
#include <stdbool.h>

/* Layout of the I/O block at pm_io_base (bytes). */
#define ACPI_PM1_EVT_LEN 4u   /* PM1a_EVT_BLK: PM1_STS, PM1_EN */
#define ACPI_PM1_CNT_LEN 2u   /* PM1a_CNT_BLK: PM1_CNT */
#define ACPI_PM_IO_BYTES 6u   /* both blocks, back to back */
#define ACPI_PM1_STS_OFF 0u
#define ACPI_PM1_EN_OFF 2u
#define ACPI_PM1_CNT_OFF 4u

/* PM1_STS / PM1_EN bits (ACPI 6.x Tables 4.13 and 4.14). */
#define ACPI_PM1_TMR_STS 0x0001u
#define ACPI_PM1_GBL_STS 0x0020u
#define ACPI_PM1_PWRBTN_STS 0x0100u
#define ACPI_PM1_SLPBTN_STS 0x0200u
#define ACPI_PM1_RTC_STS 0x0400u
#define ACPI_PM1_WAK_STS 0x8000u
#define ACPI_PM1_PWRBTN_EN 0x0100u
#define ACPI_PM1_SLPBTN_EN 0x0200u

/* PM1_CNT bits (ACPI 6.x Table 4.16). */
#define ACPI_PM1_SCI_EN 0x0001u      /* read-only 1: always in ACPI mode */
#define ACPI_PM1_BM_RLD 0x0002u
#define ACPI_PM1_GBL_RLS 0x0004u     /* write-only, no firmware: ignored */
#define ACPI_PM1_SLP_TYP_SHIFT 10u
#define ACPI_PM1_SLP_TYP_MASK 0x1C00u /* bits 12:10 */
#define ACPI_PM1_SLP_EN 0x2000u      /* write-only, reads 0 */

/* SLP_TYP of S5 (soft off); the DSDT's \_S5_ package carries it. */
#define ACPI_PM_SLP_TYP_S5 5u

/* What a PM1 write asks of the platform (acpi_pm_write's result). */
#define ACPI_PM_NONE 0          /* nothing */
#define ACPI_PM_SLEEP_S5 1      /* SLP_EN with SLP_TYP 5: power off */
#define ACPI_PM_SLEEP_OTHER 2   /* SLP_EN with another SLP_TYP */

struct acpi_pm {
	uint16_t sts; /* PM1_STS: write-1-to-clear status bits */
	uint16_t en;  /* PM1_EN: enables, plain read/write */
	uint16_t cnt; /* PM1_CNT as stored: BM_RLD and SLP_TYP */
};

/* Reset p to power-on state: no status, nothing enabled, SLP_TYP 0. */
void acpi_pm_init(struct acpi_pm *p);

/*
 * Read size (1, 2 or 4) bytes at offset (bytes from pm_io_base) of the PM1
 * block. Each byte comes from the register that holds it: 0-1 PM1_STS,
 * 2-3 PM1_EN, 4-5 PM1_CNT (SCI_EN reads 1, SLP_EN and GBL_RLS read 0).
 * Bytes past the block read 0xFF, like an unclaimed port. Returns the
 * value zero-extended, or all-ones if size is not 1, 2 or 4.
 */
uint32_t acpi_pm_read(struct acpi_pm *p, uint32_t offset, uint32_t size);

/*
 * Write size (1, 2 or 4) bytes of value at offset of the PM1 block. PM1_STS
 * bytes clear the status bits written as 1, PM1_EN bytes are stored,
 * PM1_CNT bytes update BM_RLD and SLP_TYP; bytes past the block and
 * other sizes are ignored. Returns ACPI_PM_SLEEP_S5 if the write set
 * SLP_EN with SLP_TYP 5 (the guest powers off), ACPI_PM_SLEEP_OTHER if
 * it set SLP_EN with another SLP_TYP, else ACPI_PM_NONE.
 */
int acpi_pm_write(struct acpi_pm *p, uint32_t offset, uint32_t size,
		  uint32_t value);

/*
 * A fixed-feature button was pressed: set status_bit (ACPI_PM1_PWRBTN_STS
 * or ACPI_PM1_SLPBTN_STS; other bits are ignored) in PM1_STS. The SCI is
 * then asserted if the guest enabled that event.
 */
void acpi_pm_press(struct acpi_pm *p, uint16_t status_bit);

/* True while the SCI is asserted: a PM1_STS bit is set whose PM1_EN
 * bit is set (ACPI 6.x 4.8.3.1: status AND enable raises the SCI). */
bool acpi_pm_sci_level(const struct acpi_pm *p);

/* Copy p's state into its save record (docs/save-restore.md). */
void acpi_pm_save(const struct acpi_pm *p, struct keel_state_acpi_pm *st);

/*
 * Replace p's state with the record st, which may come from a file: only
 * the button status bits, any enable bits and PM1_CNT's stored bits (BM_RLD,
 * SLP_TYP) may be set. Returns 0, or -EINVAL with p unchanged.
 */
int acpi_pm_load(struct acpi_pm *p, const struct keel_state_acpi_pm *st);

#endif /* KEEL_ACPI_PM_H */
