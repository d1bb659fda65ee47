/*
 * Unit tests for hypervisor/devices/acpi_pm.c, the PM1 event and control
 * registers (ACPI 6.x 4.8.3.1, 4.8.3.2): reset values; PM1_STS write-1-to-
 * clear for word and byte accesses (including the high byte); PM1_EN as
 * plain storage; PM1_CNT with SCI_EN read-only 1, SLP_EN and GBL_RLS
 * write-only, reserved bits 0, SLP_TYP kept; the sleep requests (S5 and
 * the others, word and high-byte writes, ACPICA's two-step sequence);
 * button presses and the SCI level; dword accesses spanning two
 * registers; accesses past the block and bad sizes. Finally a random
 * sequence of accesses is checked against a byte-wise reference model.
 */
#include "../../hypervisor/devices/acpi_pm.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define STS 0u
#define EN 2u
#define CNT 4u
#define SLP_TYP(t) ((uint32_t)(t) << 10)

static void test_reset(void)
{
	struct acpi_pm p;

	memset(&p, 0xEE, sizeof(p));
	acpi_pm_init(&p);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), ACPI_PM1_SCI_EN);
	CHECK(!acpi_pm_sci_level(&p));
}

static void test_status_w1c(void)
{
	struct acpi_pm p;

	acpi_pm_init(&p);
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0100);
	CHECK_EQ_U64(acpi_pm_read(&p, STS + 1, 1), 0x01);   /* high byte */
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 1), 0x00);       /* low byte */
	/* Writing 0s, or 1s elsewhere, leaves the bit set. */
	CHECK_EQ_INT(acpi_pm_write(&p, STS, 2, 0x0000), ACPI_PM_NONE);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0100);
	acpi_pm_write(&p, STS, 2, 0xFEFF);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0100);
	acpi_pm_write(&p, STS, 1, 0xFF);                   /* low byte only */
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0100);
	/* A 1 in the right place clears it: word, then high byte. */
	acpi_pm_write(&p, STS, 2, 0x0100);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS);
	acpi_pm_press(&p, ACPI_PM1_SLPBTN_STS);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0300);
	acpi_pm_write(&p, STS + 1, 1, 0x02);               /* SLPBTN only */
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0x0100);
	acpi_pm_write(&p, STS + 1, 1, 0x01);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	/* ACPICA clears all fixed status bits with one word write. */
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS);
	acpi_pm_write(&p, STS, 2, 0x8731);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	/* Only the button bits can be pressed. */
	acpi_pm_press(&p, 0xFCFF);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
}

static void test_enable_plain(void)
{
	struct acpi_pm p;

	acpi_pm_init(&p);
	acpi_pm_write(&p, EN, 2, 0x0320);   /* GBL, PWRBTN, SLPBTN */
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0320);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 1), 0x20);
	CHECK_EQ_U64(acpi_pm_read(&p, EN + 1, 1), 0x03);
	acpi_pm_write(&p, EN + 1, 1, 0x01); /* high byte: only PWRBTN_EN */
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0120);
	acpi_pm_write(&p, EN, 1, 0x00);     /* low byte */
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0100);
	acpi_pm_write(&p, EN, 2, 0xFFFF);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0xFFFF);
	acpi_pm_write(&p, EN, 2, 0);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0);
	/* Status and control are unaffected. */
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), ACPI_PM1_SCI_EN);
}

static void test_control_bits(void)
{
	struct acpi_pm p;

	acpi_pm_init(&p);
	/* SCI_EN is read-only 1. */
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2, 0), ACPI_PM_NONE);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), ACPI_PM1_SCI_EN);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 1), ACPI_PM1_SCI_EN);
	acpi_pm_write(&p, CNT, 1, 0);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 1) & 1, 1);
	/* BM_RLD sticks; GBL_RLS and reserved bits 3-9 read 0. */
	acpi_pm_write(&p, CNT, 2, 0x03FF);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), ACPI_PM1_SCI_EN |
		     ACPI_PM1_BM_RLD);
	/* SLP_TYP sticks without SLP_EN; reserved 14-15 read 0. */
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2, 0xC000 | SLP_TYP(3)),
		     ACPI_PM_NONE);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), SLP_TYP(3) | ACPI_PM1_SCI_EN);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT + 1, 1), SLP_TYP(3) >> 8);
	/* A low-byte write keeps SLP_TYP (the high byte). */
	acpi_pm_write(&p, CNT, 1, ACPI_PM1_BM_RLD);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), SLP_TYP(3) | ACPI_PM1_BM_RLD |
		     ACPI_PM1_SCI_EN);
	/* A high-byte write keeps BM_RLD (the low byte). */
	acpi_pm_write(&p, CNT + 1, 1, SLP_TYP(6) >> 8);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), SLP_TYP(6) | ACPI_PM1_BM_RLD |
		     ACPI_PM1_SCI_EN);
}

static void test_sleep_requests(void)
{
	struct acpi_pm p;
	uint32_t v;

	acpi_pm_init(&p);
	/* Word write of SLP_TYP 5 + SLP_EN: power off; SLP_EN reads 0. */
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2, SLP_TYP(5) | ACPI_PM1_SLP_EN |
				   ACPI_PM1_SCI_EN), ACPI_PM_SLEEP_S5);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), SLP_TYP(5) | ACPI_PM1_SCI_EN);
	/* Every other SLP_TYP is "other". */
	for (uint32_t t = 0; t < 8; t++) {
		int want = t == 5 ? ACPI_PM_SLEEP_S5 : ACPI_PM_SLEEP_OTHER;

		CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2,
					   SLP_TYP(t) | ACPI_PM1_SLP_EN), want);
		CHECK_EQ_INT(acpi_pm_write(&p, CNT + 1, 1,
					   (SLP_TYP(t) | ACPI_PM1_SLP_EN) >> 8),
			     want);
	}
	/* SLP_EN taken with the SLP_TYP of the same high-byte write. */
	acpi_pm_write(&p, CNT, 2, SLP_TYP(5));
	CHECK_EQ_INT(acpi_pm_write(&p, CNT + 1, 1, ACPI_PM1_SLP_EN >> 8),
		     ACPI_PM_SLEEP_OTHER);
	/* A low-byte write never requests sleep. */
	acpi_pm_write(&p, CNT, 2, SLP_TYP(5));
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 1, 0xFF), ACPI_PM_NONE);

	/* ACPICA's acpi_hw_legacy_sleep: read, set SLP_TYP, write; then
	 * set SLP_EN, write. Only the second write powers off. */
	acpi_pm_init(&p);
	v = acpi_pm_read(&p, CNT, 2);
	v &= ~(ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_SLP_EN);
	v |= SLP_TYP(ACPI_PM_SLP_TYP_S5);
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2, v), ACPI_PM_NONE);
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 2, v | ACPI_PM1_SLP_EN),
		     ACPI_PM_SLEEP_S5);
	/* Dword write at offset 2 (PM1_EN + PM1_CNT) also works. */
	CHECK_EQ_INT(acpi_pm_write(&p, EN, 4, (SLP_TYP(5) | ACPI_PM1_SLP_EN)
				   << 16 | 0x0100), ACPI_PM_SLEEP_S5);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0100);
}

static void test_sci(void)
{
	struct acpi_pm p;

	acpi_pm_init(&p);
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS);
	CHECK(!acpi_pm_sci_level(&p));                   /* not enabled */
	acpi_pm_write(&p, EN, 2, ACPI_PM1_PWRBTN_EN);
	CHECK(acpi_pm_sci_level(&p));
	acpi_pm_write(&p, EN, 2, 0);                     /* masked again */
	CHECK(!acpi_pm_sci_level(&p));
	acpi_pm_write(&p, EN + 1, 1, ACPI_PM1_PWRBTN_EN >> 8);
	CHECK(acpi_pm_sci_level(&p));
	acpi_pm_write(&p, STS, 2, ACPI_PM1_PWRBTN_STS);  /* handled */
	CHECK(!acpi_pm_sci_level(&p));
	/* The sleep button, and two events at once. */
	acpi_pm_write(&p, EN, 2, ACPI_PM1_PWRBTN_EN | ACPI_PM1_SLPBTN_EN);
	acpi_pm_press(&p, ACPI_PM1_SLPBTN_STS);
	CHECK(acpi_pm_sci_level(&p));
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS);
	acpi_pm_write(&p, STS, 2, ACPI_PM1_SLPBTN_STS);
	CHECK(acpi_pm_sci_level(&p));                    /* PWRBTN left */
	acpi_pm_write(&p, STS + 1, 1, ACPI_PM1_PWRBTN_STS >> 8);
	CHECK(!acpi_pm_sci_level(&p));
	/* Enabled but nothing pressed: no SCI (GBL_EN as ACPICA sets it). */
	acpi_pm_write(&p, EN, 2, 0xFFFF);
	CHECK(!acpi_pm_sci_level(&p));
}

static void test_wide_and_outside(void)
{
	struct acpi_pm p;

	acpi_pm_init(&p);
	acpi_pm_press(&p, ACPI_PM1_SLPBTN_STS);
	acpi_pm_write(&p, EN, 2, 0x0120);
	acpi_pm_write(&p, CNT, 2, SLP_TYP(2));
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 4), 0x01200200u);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 4),
		     ((SLP_TYP(2) | ACPI_PM1_SCI_EN) << 16) | 0x0120u);
	CHECK_EQ_U64(acpi_pm_read(&p, 1, 2), 0x2002u);   /* unaligned word */
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 4),
		     0xFFFF0000u | SLP_TYP(2) | ACPI_PM1_SCI_EN);
	CHECK_EQ_U64(acpi_pm_read(&p, 5, 2), 0xFF00u | (SLP_TYP(2) >> 8));
	CHECK_EQ_U64(acpi_pm_read(&p, 6, 1), 0xFF);
	CHECK_EQ_U64(acpi_pm_read(&p, 6, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(acpi_pm_read(&p, 0xFFFFFFFFu, 4), 0xFFFFFFFFu);
	/* Dword write at 0: clear status, set enables in one go. */
	CHECK_EQ_INT(acpi_pm_write(&p, STS, 4, 0x03000200u), ACPI_PM_NONE);
	CHECK_EQ_U64(acpi_pm_read(&p, STS, 2), 0);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0300);
	/* Writes past the block, or of bad sizes, change nothing. */
	CHECK_EQ_INT(acpi_pm_write(&p, 6, 4, 0xFFFFFFFFu), ACPI_PM_NONE);
	CHECK_EQ_INT(acpi_pm_write(&p, 0xFFFFFFFEu, 4, 0xFFFFFFFFu),
		     ACPI_PM_NONE);
	CHECK_EQ_INT(acpi_pm_write(&p, EN, 3, 0), ACPI_PM_NONE);
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 0, 0x3400), ACPI_PM_NONE);
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 8, 0x3400), ACPI_PM_NONE);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 2), 0x0300);
	CHECK_EQ_U64(acpi_pm_read(&p, CNT, 2), SLP_TYP(2) | ACPI_PM1_SCI_EN);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 3), 0xFFFFFFFFu);
	CHECK_EQ_U64(acpi_pm_read(&p, EN, 0), 0xFFFFFFFFu);
	/* A dword at offset 4 that sets SLP_EN still requests sleep. */
	CHECK_EQ_INT(acpi_pm_write(&p, CNT, 4, SLP_TYP(5) | ACPI_PM1_SLP_EN),
		     ACPI_PM_SLEEP_S5);
}

/* ---- byte-wise reference model */

struct ref {
	uint8_t r[6]; /* STS lo/hi, EN lo/hi, CNT lo/hi as stored */
};

static uint8_t ref_read_byte(const struct ref *m, uint32_t o)
{
	if (o >= 6)
		return 0xFF;
	if (o == 4)
		return (uint8_t)((m->r[4] & 0x02) | 0x01);  /* BM_RLD, SCI_EN */
	if (o == 5)
		return (uint8_t)(m->r[5] & 0x1C);           /* SLP_TYP */
	return m->r[o];
}

/* Returns the request made by writing byte b at o. */
static int ref_write_byte(struct ref *m, uint32_t o, uint8_t b)
{
	if (o >= 6)
		return ACPI_PM_NONE;
	if (o < 2)
		m->r[o] = (uint8_t)(m->r[o] & ~b);
	else
		m->r[o] = b;
	if (o == 5 && (b & 0x20))
		return ((b >> 2) & 7) == 5 ? ACPI_PM_SLEEP_S5
					   : ACPI_PM_SLEEP_OTHER;
	return ACPI_PM_NONE;
}

/* One random read; returns false on a mismatch. */
static bool random_read(struct acpi_pm *p, const struct ref *m,
			uint32_t off, uint32_t size)
{
	uint32_t want = 0, got = acpi_pm_read(p, off, size);

	for (uint32_t k = 0; k < size; k++)
		want |= (uint32_t)ref_read_byte(m, off + k) << (8 * k);
	CHECK_MSG(got == want, "read %u@%u = 0x%x, want 0x%x", size, off,
		  got, want);
	return got == want;
}

/* One random write; returns false on a mismatch. */
static bool random_write(struct acpi_pm *p, struct ref *m, uint32_t off,
			 uint32_t size, uint32_t val)
{
	int want = ACPI_PM_NONE, got;

	for (uint32_t k = 0; k < size; k++) {
		int r = ref_write_byte(m, off + k, (uint8_t)(val >> (8 * k)));

		if (r != ACPI_PM_NONE)
			want = r;
	}
	got = acpi_pm_write(p, off, size, val);
	CHECK_MSG(got == want, "write %u@%u 0x%x gave %d, want %d", size, off,
		  val, got, want);
	return got == want;
}

static void test_random_against_model(void)
{
	struct acpi_pm p;
	struct ref m = { { 0 } };
	static const uint32_t sizes[] = { 1, 2, 4 };
	unsigned long mismatches = 0;

	acpi_pm_init(&p);
	for (uint32_t i = 0; i < 200000 && mismatches < 5; i++) {
		uint32_t op = (uint32_t)harness_rand_below(8);
		uint32_t off = (uint32_t)harness_rand_below(8);
		uint32_t size = sizes[harness_rand_below(3)];
		uint32_t val = (uint32_t)harness_rand();
		bool ok = true, sci;

		if (op == 0) {
			uint16_t bit = harness_rand_below(2) ?
					       ACPI_PM1_PWRBTN_STS :
					       ACPI_PM1_SLPBTN_STS;

			acpi_pm_press(&p, bit);
			m.r[1] |= (uint8_t)(bit >> 8);
		} else if (op < 4) {
			ok = random_read(&p, &m, off, size);
		} else {
			ok = random_write(&p, &m, off, size, val);
		}
		sci = ((m.r[0] & m.r[2]) | (m.r[1] & m.r[3])) != 0;
		CHECK_MSG(acpi_pm_sci_level(&p) == sci, "step %u: SCI", i);
		if (!ok || acpi_pm_sci_level(&p) != sci)
			mismatches++;
	}
	CHECK_EQ_U64(mismatches, 0);
}

/* A pressed power button, enables and SLP_TYP survive a save and load;
 * bits a guest cannot set are refused and leave the target unchanged. */
static void test_save_load(void)
{
	struct acpi_pm p, copy, before;
	struct keel_state_acpi_pm st, bad;

	acpi_pm_init(&p);
	acpi_pm_write(&p, EN, 2, ACPI_PM1_PWRBTN_EN);
	acpi_pm_write(&p, CNT, 2, 3u << ACPI_PM1_SLP_TYP_SHIFT);
	acpi_pm_press(&p, ACPI_PM1_PWRBTN_STS);
	acpi_pm_save(&p, &st);
	acpi_pm_init(&copy);
	CHECK_EQ_INT(acpi_pm_load(&copy, &st), 0);
	CHECK(memcmp(&copy, &p, sizeof(p)) == 0);
	CHECK(acpi_pm_sci_level(&copy));
	CHECK_EQ_U64(acpi_pm_read(&copy, CNT, 2), acpi_pm_read(&p, CNT, 2));

	acpi_pm_init(&copy);
	before = copy;
	for (int i = 0; i < 5; i++) {
		bad = st;
		switch (i) {
		case 0: bad.sts |= ACPI_PM1_TMR_STS; break;   /* no PM timer here */
		case 1: bad.en = 0x10000; break;
		case 2: bad.cnt |= ACPI_PM1_SLP_EN; break;     /* write-only */
		case 3: bad.cnt |= ACPI_PM1_SCI_EN; break;     /* reads 1, never stored */
		case 4: bad.reserved = 1; break;
		}
		CHECK_EQ_INT(acpi_pm_load(&copy, &bad), -EINVAL);
		CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
	}
}

int main(void)
{
	test_reset();
	test_save_load();
	test_status_w1c();
	test_enable_plain();
	test_control_bits();
	test_sleep_requests();
	test_sci();
	test_wide_and_outside();
	test_random_against_model();
	return harness_done("test_acpi_pm");
}
