/*
 * ACPI CPU hotplug of a guest's virtual PC (see keel/acpi_cpuhp.h): the
 * GPE0 block with its one event, GPE 2, and the present bitmap and eject
 * register that the DSDT's CPU devices read and write. Changing the
 * present set raises GPE 2; the guest's \_GPE._E02 then notifies each CPU
 * device whose presence changed (ACPI 6.x 5.6.4 "General-Purpose Event
 * Handling", 6.3.3 _EJx). Pure code, no locking.
 */
#include <keel/acpi_cpuhp.h>
#include <keel/errno.h>

#define BYTE_NONE 0xFFu

static uint8_t cpuhp_mask(uint32_t n)
{
	return (uint8_t)((1u << n) - 1u);
}

/* Reset h; see acpi_cpuhp.h. */
void acpi_cpuhp_init(struct acpi_cpuhp *h, uint32_t nr_present, uint32_t max)
{
	if (max < 1)
		max = 1;
	if (max > ACPI_CPUHP_MAX_CPUS)
		max = ACPI_CPUHP_MAX_CPUS;
	if (nr_present < 1)
		nr_present = 1;
	if (nr_present > max)
		nr_present = max;
	h->max = (uint8_t)max;
	h->present = cpuhp_mask(nr_present);
	h->ejected = 0;
	h->gpe_sts = 0;
	h->gpe_en = 0;
}

static bool size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4;
}

/* Read a little-endian value of size bytes from a two-byte register
 * block whose byte i is regs[i]; bytes past it read 0xFF. */
static uint32_t block_read(const uint8_t regs[2], uint32_t offset, uint32_t size)
{
	uint32_t v = 0, i;

	if (!size_ok(size))
		return 0xFFFFFFFFu;
	for (i = 0; i < size; i++) {
		uint32_t off = offset + i;

		v |= (uint32_t)(off < 2 ? regs[off] : BYTE_NONE) << (8 * i);
	}
	return v;
}

/* GPE0 read; see acpi_cpuhp.h. */
uint32_t acpi_cpuhp_gpe_read(const struct acpi_cpuhp *h, uint32_t offset, uint32_t size)
{
	const uint8_t regs[2] = { h->gpe_sts, h->gpe_en };

	return block_read(regs, offset, size);
}

/* GPE0 write; see acpi_cpuhp.h. */
void acpi_cpuhp_gpe_write(struct acpi_cpuhp *h, uint32_t offset, uint32_t size,
			  uint32_t value)
{
	uint32_t i;

	if (!size_ok(size))
		return;
	for (i = 0; i < size; i++) {
		uint8_t byte = (uint8_t)(value >> (8 * i));

		if (offset + i == ACPI_GPE0_STS_OFF)
			h->gpe_sts &= (uint8_t)~byte;
		else if (offset + i == ACPI_GPE0_EN_OFF)
			h->gpe_en = byte;
	}
}

/* Hotplug register read; see acpi_cpuhp.h. */
uint32_t acpi_cpuhp_read(const struct acpi_cpuhp *h, uint32_t offset, uint32_t size)
{
	const uint8_t regs[2] = { h->present, 0 };

	return block_read(regs, offset, size);
}

/* Hotplug register write; see acpi_cpuhp.h. */
uint32_t acpi_cpuhp_write(struct acpi_cpuhp *h, uint32_t offset, uint32_t size,
			  uint32_t value)
{
	uint32_t i;
	uint8_t newly = 0;

	if (!size_ok(size))
		return 0;
	for (i = 0; i < size; i++) {
		uint8_t gone;

		if (offset + i != ACPI_CPUHP_EJECT_OFF)
			continue;
		/* only CPUs that exist and were taken away can be ejected */
		gone = (uint8_t)(value >> (8 * i)) & cpuhp_mask(h->max) & (uint8_t)~h->present;
		newly = gone & (uint8_t)~h->ejected;
		h->ejected |= gone;
	}
	return newly;
}

/* Change the present set; see acpi_cpuhp.h. */
int acpi_cpuhp_set(struct acpi_cpuhp *h, uint32_t n)
{
	uint8_t want;

	if (n < 1 || n > h->max)
		return -EINVAL;
	want = cpuhp_mask(n);
	if (want == h->present)
		return 0;
	h->ejected &= (uint8_t)~want; /* those coming back */
	h->present = want;
	h->gpe_sts |= (uint8_t)(1u << ACPI_GPE_CPUHP);
	return 0;
}

/* How many CPUs are present; see acpi_cpuhp.h. */
uint32_t acpi_cpuhp_nr_present(const struct acpi_cpuhp *h)
{
	uint32_t n = 0, i;

	for (i = 0; i < ACPI_CPUHP_MAX_CPUS; i++)
		n += (h->present >> i) & 1u;
	return n;
}

/* The SCI level of the GPE block; see acpi_cpuhp.h. */
bool acpi_cpuhp_sci_level(const struct acpi_cpuhp *h)
{
	return (h->gpe_sts & h->gpe_en) != 0;
}

/* Save h; see acpi_cpuhp.h. */
void acpi_cpuhp_save(const struct acpi_cpuhp *h, struct keel_state_cpuhp *st)
{
	st->present = h->present;
	st->ejected = h->ejected;
	st->gpe_sts = h->gpe_sts;
	st->gpe_en = h->gpe_en;
	st->reserved = 0;
}

/* Load h; see acpi_cpuhp.h. */
int acpi_cpuhp_load(struct acpi_cpuhp *h, const struct keel_state_cpuhp *st)
{
	uint8_t all = cpuhp_mask(h->max);

	if (!(st->present & 1u) || (st->present & (uint8_t)~all) ||
	    (st->ejected & (uint8_t)~all) || (st->ejected & st->present) || st->reserved)
		return -EINVAL;
	h->present = st->present;
	h->ejected = st->ejected;
	h->gpe_sts = st->gpe_sts;
	h->gpe_en = st->gpe_en;
	return 0;
}
