/*
 * ACPI PM1 fixed hardware (ACPI 6.x, 4.8.3.1 "PM1 Event Grouping",
 * 4.8.3.2 "PM1 Control Grouping") for a guest's virtual PC: the 16-bit
 * PM1_STS (write 1 to clear, 4.8.3.1.1), PM1_EN (read/write, 4.8.3.1.2)
 * and PM1_CNT (4.8.3.2.1) registers, reached with byte, word or dword
 * port accesses that may cover several registers. SMI_CMD is 0 in the
 * FADT, so the platform is always in ACPI mode: SCI_EN reads 1 and cannot
 * be cleared. A write of SLP_EN with SLP_TYP is the guest's request to
 * enter a sleep state (4.8.3.2.1, 16.1.7); only S5 (soft off) is offered
 * by the DSDT. The power and sleep buttons are fixed features
 * (4.8.2.2.1, 4.8.2.2.2): pressing one sets its status bit, and the SCI
 * is asserted while any status bit is set together with its enable bit.
 * Pure code: no hardware access, all state in struct acpi_pm.
 */
#include <keel/acpi_pm.h>
#include <keel/errno.h>

#define PM_NR_REGS 3u                 /* PM1_STS, PM1_EN, PM1_CNT */
#define PM_REG_STS 0u
#define PM_REG_EN 1u
#define PM_REG_CNT 2u
#define PM_REG_BYTES 2u               /* every PM1 register is 16 bits */
#define PM_UNCLAIMED_BYTE 0xFFu       /* what a port outside the block reads */
#define PM_STS_PRESSABLE (ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS)
#define PM_CNT_STORED (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

/* Reset p; see acpi_pm.h. */
void acpi_pm_init(struct acpi_pm *p)
{
	p->sts = 0;
	p->en = 0;
	p->cnt = 0;
}

static bool pm_size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4;
}

/* True if byte i of an access at offset lies inside the PM1 block. */
static bool pm_byte_in_block(uint32_t offset, uint32_t i)
{
	return offset < ACPI_PM_IO_BYTES && i < ACPI_PM_IO_BYTES - offset;
}

/* The value register reg reads as. */
static uint16_t pm_reg_value(const struct acpi_pm *p, uint32_t reg)
{
	if (reg == PM_REG_STS)
		return p->sts;
	if (reg == PM_REG_EN)
		return p->en;
	return (uint16_t)(p->cnt | ACPI_PM1_SCI_EN);
}

/* Read; see acpi_pm.h. */
uint32_t acpi_pm_read(struct acpi_pm *p, uint32_t offset, uint32_t size)
{
	uint32_t v = 0;

	if (!pm_size_ok(size))
		return 0xFFFFFFFFu;
	for (uint32_t i = 0; i < size; i++) {
		uint32_t byte = PM_UNCLAIMED_BYTE;

		if (pm_byte_in_block(offset, i)) {
			uint32_t o = offset + i;

			byte = (uint32_t)(pm_reg_value(p, o / PM_REG_BYTES) >>
					  (8 * (o % PM_REG_BYTES))) & 0xFFu;
		}
		v |= byte << (8 * i);
	}
	return v;
}

/*
 * Write the bits of value selected by mask into PM1_CNT. The bits not
 * selected keep their value, so a byte write of the high byte takes the
 * SLP_TYP that it carries itself. Returns the sleep request, if any.
 */
static int pm_cnt_write(struct acpi_pm *p, uint16_t value, uint16_t mask)
{
	uint16_t written = (uint16_t)(value & mask);
	uint16_t merged = (uint16_t)((p->cnt & ~mask) | written);
	uint32_t slp_typ;

	p->cnt = (uint16_t)(merged & PM_CNT_STORED);
	if (!(written & ACPI_PM1_SLP_EN))
		return ACPI_PM_NONE;
	slp_typ = (merged & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
	return slp_typ == ACPI_PM_SLP_TYP_S5 ? ACPI_PM_SLEEP_S5
					      : ACPI_PM_SLEEP_OTHER;
}

/* Apply the bytes of one register selected by mask; returns a request. */
static int pm_reg_write(struct acpi_pm *p, uint32_t reg, uint16_t value,
			uint16_t mask)
{
	if (reg == PM_REG_STS) {
		p->sts = (uint16_t)(p->sts & ~(value & mask));
		return ACPI_PM_NONE;
	}
	if (reg == PM_REG_EN) {
		p->en = (uint16_t)((p->en & ~mask) | (value & mask));
		return ACPI_PM_NONE;
	}
	return pm_cnt_write(p, value, mask);
}

/* Write; see acpi_pm.h. */
int acpi_pm_write(struct acpi_pm *p, uint32_t offset, uint32_t size,
		  uint32_t value)
{
	uint16_t val[PM_NR_REGS] = { 0 }, mask[PM_NR_REGS] = { 0 };
	int req = ACPI_PM_NONE;

	if (!pm_size_ok(size))
		return ACPI_PM_NONE;
	/* Gather the bytes per register, then update each register once. */
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = offset + i, shift = 8 * (o % PM_REG_BYTES);

		if (!pm_byte_in_block(offset, i))
			continue;
		val[o / PM_REG_BYTES] |= (uint16_t)(((value >> (8 * i)) & 0xFFu)
						    << shift);
		mask[o / PM_REG_BYTES] |= (uint16_t)(0xFFu << shift);
	}
	for (uint32_t reg = 0; reg < PM_NR_REGS; reg++) {
		if (mask[reg]) {
			int r = pm_reg_write(p, reg, val[reg], mask[reg]);

			if (r != ACPI_PM_NONE)
				req = r;
		}
	}
	return req;
}

/* A button press; see acpi_pm.h. */
void acpi_pm_press(struct acpi_pm *p, uint16_t status_bit)
{
	p->sts = (uint16_t)(p->sts | (status_bit & PM_STS_PRESSABLE));
}

/* The SCI line; see acpi_pm.h. */
bool acpi_pm_sci_level(const struct acpi_pm *p)
{
	return (p->sts & p->en) != 0;
}

/* Save p's state; see acpi_pm.h. */
void acpi_pm_save(const struct acpi_pm *p, struct keel_state_acpi_pm *st)
{
	st->sts = p->sts;
	st->en = p->en;
	st->cnt = p->cnt;
	st->reserved = 0;
}

/* Load p's state; see acpi_pm.h. */
int acpi_pm_load(struct acpi_pm *p, const struct keel_state_acpi_pm *st)
{
	if ((st->sts & ~(uint32_t)PM_STS_PRESSABLE) || st->en > 0xFFFFu ||
	    (st->cnt & ~(uint32_t)PM_CNT_STORED) || st->reserved)
		return -EINVAL;
	p->sts = (uint16_t)st->sts;
	p->en = (uint16_t)st->en;
	p->cnt = (uint16_t)st->cnt;
	return 0;
}
