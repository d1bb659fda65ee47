/*
 * ACPI table discovery for CPU and IOAPIC enumeration: locate the RSDP
 * (ACPI 6.x, 5.2.5.1 "Finding the RSDP on IA-PC Systems"), walk the XSDT
 * (or the RSDT on ACPI 1.0 firmware) to the MADT and collect the enabled
 * local APICs and the IOAPICs. Every table's checksum and length are
 * checked before use, since firmware is not to be trusted blindly.
 */
#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/le.h>

#define RSDP_SIG "RSD PTR "
#define RSDP_V1_BYTES 20u
#define RSDP_V2_BYTES 36u
#define SDT_HEADER_BYTES 36u
#define MADT_ENTRIES_OFFSET 44u
#define BDA_EBDA_SEGMENT_PA 0x40Eull
#define BIOS_AREA_START_PA 0xE0000ull
#define BIOS_AREA_END_PA 0x100000ull
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_X2APIC 9
#define MADT_LAPIC_ENABLED 1u
#define MAX_TABLE_BYTES (1u << 20)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le_get(p, 4);
}

static uint64_t le64(const uint8_t *p)
{
	return le_get(p, 8);
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static uint64_t scan_rsdp(uint64_t start, uint64_t end, acpi_p2v_fn p2v,
			  void *ctx)
{
	uint64_t pa;

	for (pa = start; pa + RSDP_V1_BYTES <= end; pa += 16) {
		const uint8_t *p = p2v(pa, RSDP_V1_BYTES, ctx);

		if (p && memcmp(p, RSDP_SIG, 8) == 0 && checksum_ok(p, RSDP_V1_BYTES))
			return pa;
	}
	return 0;
}

/* Find the RSDP; see acpi.h. */
uint64_t acpi_find_rsdp(acpi_p2v_fn p2v, void *ctx)
{
	const uint8_t *bda = p2v(BDA_EBDA_SEGMENT_PA, 2, ctx);
	uint64_t ebda = bda ? (uint64_t)(bda[0] | (bda[1] << 8)) << 4 : 0;
	uint64_t pa = 0;

	if (ebda >= 0x80000 && ebda < 0xA0000)
		pa = scan_rsdp(ebda, ebda + 1024, p2v, ctx);
	if (!pa)
		pa = scan_rsdp(BIOS_AREA_START_PA, BIOS_AREA_END_PA, p2v, ctx);
	return pa;
}

/* Map a whole system description table after checking its header. */
static const uint8_t *sdt_map(uint64_t pa, acpi_p2v_fn p2v, void *ctx)
{
	const uint8_t *h = p2v(pa, SDT_HEADER_BYTES, ctx);
	uint32_t len;

	if (!h)
		return 0;
	len = le32(h + 4);
	if (len < SDT_HEADER_BYTES || len > MAX_TABLE_BYTES)
		return 0;
	h = p2v(pa, len, ctx);
	return (h && checksum_ok(h, len)) ? h : 0;
}

static void madt_add_cpu(struct acpi_info *out, uint32_t apic_id)
{
	if (out->nr_cpus < ACPI_MAX_CPUS)
		out->cpu_apic_ids[out->nr_cpus++] = apic_id;
	else
		out->cpus_ignored++;
}

static void madt_parse(const uint8_t *madt, struct acpi_info *out)
{
	uint32_t len = le32(madt + 4), off = MADT_ENTRIES_OFFSET;

	out->lapic_pa = le32(madt + SDT_HEADER_BYTES);
	while (off + 2 <= len) {
		const uint8_t *e = madt + off;
		uint8_t type = e[0], elen = e[1];

		if (elen < 2 || off + elen > len)
			break;
		if (type == MADT_TYPE_LAPIC && elen >= 8 &&
		    (le32(e + 4) & MADT_LAPIC_ENABLED))
			madt_add_cpu(out, e[3]);
		else if (type == MADT_TYPE_X2APIC && elen >= 16 &&
			 (le32(e + 8) & MADT_LAPIC_ENABLED))
			madt_add_cpu(out, le32(e + 4));
		else if (type == MADT_TYPE_IOAPIC && elen >= 12 &&
			 out->nr_ioapics < ACPI_MAX_IOAPICS) {
			struct acpi_ioapic *io = &out->ioapics[out->nr_ioapics++];

			io->id = e[2];
			io->pa = le32(e + 4);
			io->gsi_base = le32(e + 8);
		}
		off += elen;
	}
}

/* Find the MADT (and note an IOMMU's table) through the RSDT/XSDT; see
 * acpi.h. */
int acpi_parse(uint64_t rsdp_pa, acpi_p2v_fn p2v, void *ctx,
	       struct acpi_info *out)
{
	const uint8_t *rsdp = p2v(rsdp_pa, RSDP_V2_BYTES, ctx);
	const uint8_t *sdt;
	uint32_t entry_bytes, i, n;
	bool madt_seen = false;
	uint64_t sdt_pa;

	memset(out, 0, sizeof(*out));
	out->rsdp_pa = rsdp_pa;
	if (!rsdp || !checksum_ok(rsdp, RSDP_V1_BYTES))
		return -EINVAL;
	if (rsdp[15] >= 2 && le64(rsdp + 24) && checksum_ok(rsdp, le32(rsdp + 20) <= RSDP_V2_BYTES ? le32(rsdp + 20) : RSDP_V2_BYTES)) {
		sdt_pa = le64(rsdp + 24);
		entry_bytes = 8;
	} else {
		sdt_pa = le32(rsdp + 16);
		entry_bytes = 4;
	}
	sdt = sdt_map(sdt_pa, p2v, ctx);
	if (!sdt)
		return -EINVAL;
	n = (le32(sdt + 4) - SDT_HEADER_BYTES) / entry_bytes;
	for (i = 0; i < n; i++) {
		const uint8_t *e = sdt + SDT_HEADER_BYTES + i * entry_bytes;
		uint64_t pa = entry_bytes == 8 ? le64(e) : le32(e);
		const uint8_t *t = sdt_map(pa, p2v, ctx);

		if (!t)
			continue;
		if (memcmp(t, "DMAR", 4) == 0)
			out->iommu |= ACPI_IOMMU_DMAR;
		else if (memcmp(t, "IVRS", 4) == 0)
			out->iommu |= ACPI_IOMMU_IVRS;
		else if (memcmp(t, "APIC", 4) == 0 && !madt_seen) {
			madt_parse(t, out);
			madt_seen = true;
		}
	}
	return madt_seen ? 0 : -ENOENT;
}
