/*
 * libFuzzer target for the domain state records a restore or a migration
 * will take from outside (docs/save-restore.md): the record stream reader
 * (hypervisor/common/state_rec.c) and the device loaders (vioapic_load,
 * ns16550_load, vlapic_load, mc146818_load, acpi_pm_load, virtio_pci_load). Each input is a record stream. The
 * contract: the reader never reads beyond the input (ASan) and stops at
 * the end or at damage; a record a loader accepts saves back to exactly
 * the same record (nothing is silently changed), and the loaded device
 * then survives every guest access a probe makes: all IOAPIC registers
 * read, every pin raised and every vector EOId with at most one message
 * per pin; every UART register read and the FIFO drained; every LAPIC
 * register read, its timer run to expiry and every pending vector
 * acknowledged and EOId; every CMOS byte read; the PM1 block read; every
 * virtio-pci configuration, I/O and MSI-X register read and every queue's
 * interrupt raised and taken. Run with
 * tests/fuzz/run.sh, or by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_state.c -o /tmp/fuzz_state
 */
#include "../../hypervisor/common/state_rec.c"
#include "../../hypervisor/devices/ioapic.c"
#include "../../hypervisor/devices/lapic.c"
#include "../../hypervisor/devices/mc146818.c"
#include "../../hypervisor/devices/acpi_pm.c"
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/common/virtq.c"
#include "../../hypervisor/devices/ns16550.c"
#include "fuzz.h"

#include <string.h>

static void fuzz_probe_ioapic(struct vioapic *io)
{
	struct vioapic_out out;

	for (uint32_t idx = 0; idx < 0x100; idx++) {
		vioapic_write(io, VIOAPIC_REG_IOREGSEL, idx, &out);
		(void)vioapic_read(io, VIOAPIC_REG_IOWIN);
	}
	for (uint32_t pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		vioapic_set_irq(io, pin, true, &out);
		FUZZ_ASSERT(out.n <= 1);
	}
	for (uint32_t v = 0; v < 256; v++) {
		vioapic_eoi(io, (uint8_t)v, &out);
		FUZZ_ASSERT(out.n <= VIOAPIC_MAX_MSGS);
	}
}

static void fuzz_ioapic(const struct state_rec_view *r)
{
	struct keel_state_ioapic st, again;
	struct vioapic io;

	if (state_rec_payload(r, &st, sizeof(st)))
		return;
	vioapic_init(&io, 0);
	if (vioapic_load(&io, &st))
		return;
	vioapic_save(&io, &again);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	fuzz_probe_ioapic(&io);
}

static void fuzz_uart(const struct state_rec_view *r)
{
	struct keel_state_uart st, again;
	struct ns16550 u;

	if (state_rec_payload(r, &st, sizeof(st)))
		return;
	ns16550_init(&u);
	if (ns16550_load(&u, &st))
		return;
	ns16550_save(&u, &again);
	/* bytes beyond rx_count are not state: compare the rest */
	memset(st.rx + st.rx_count, 0, sizeof(st.rx) - st.rx_count);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	for (uint32_t off = 0; off < NS16550_REG_COUNT; off++)
		(void)ns16550_read(&u, off);
	for (uint32_t i = 0; i <= NS16550_FIFO_BYTES; i++)
		(void)ns16550_read(&u, NS16550_RBR);
	FUZZ_ASSERT(ns16550_rx_space(&u) <= NS16550_FIFO_BYTES);
}

/* XOR the payload of r onto the size bytes at base (a real device's
 * record); false if r is longer than the record. */
static bool fuzz_apply_diff(const struct state_rec_view *r, void *base, uint64_t size)
{
	if (r->length > size)
		return false;
	for (uint64_t i = 0; i < r->length; i++)
		((uint8_t *)base)[i] ^= r->payload[i];
	return true;
}

#define FUZZ_TSC_KHZ 2000000ull /* ns <-> ticks is exact at 2 GHz */
#define FUZZ_NOW 1000000ull

static void fuzz_lapic(const struct state_rec_view *r)
{
	struct keel_state_lapic st, again;
	struct vlapic_effects fx;
	struct vlapic l;
	uint64_t next;
	int v;

	/* The payload is applied as a difference (XOR) to a real APIC's
	 * record, so that short inputs are valid records the fuzzer can bend
	 * (a random record almost never passes the checks). */
	vlapic_init(&l, 0, FUZZ_TSC_KHZ);
	vlapic_write(&l, VLAPIC_REG_SVR, VLAPIC_SVR_ENABLE | 0xFF, FUZZ_NOW, &fx);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC, FUZZ_NOW, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 1000, FUZZ_NOW, &fx);
	vlapic_save(&l, FUZZ_NOW, &st);
	if (!fuzz_apply_diff(r, &st, sizeof(st)))
		return;
	vlapic_init(&l, 0, FUZZ_TSC_KHZ);
	if (vlapic_load(&l, &st, FUZZ_NOW))
		return;
	vlapic_save(&l, FUZZ_NOW, &again);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	for (uint32_t off = 0; off < VLAPIC_PAGE_BYTES; off += 0x10)
		(void)vlapic_read(&l, off, FUZZ_NOW);
	next = vlapic_timer_next(&l);
	FUZZ_ASSERT(next == 0 || next >= FUZZ_NOW);
	if (next)
		vlapic_timer_update(&l, next);
	for (int n = 0; n < 600 && (v = vlapic_pending(&l)) >= 0; n++) {
		FUZZ_ASSERT(v >= 16 && v <= 255);
		vlapic_ack(&l, (uint8_t)v);
		vlapic_write(&l, VLAPIC_REG_EOI, 0, FUZZ_NOW, &fx);
	}
}

#define FUZZ_WALL_S 1796190607ll

static void fuzz_rtc(const struct state_rec_view *r)
{
	struct keel_state_rtc st, again;
	struct mc146818 rtc;

	mc146818_init(&rtc);
	mc146818_save(&rtc, &st);
	if (!fuzz_apply_diff(r, &st, sizeof(st)))
		return;
	if (mc146818_load(&rtc, &st))
		return;
	mc146818_save(&rtc, &again);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	for (uint32_t i = 0; i < MC146818_CMOS_BYTES; i++) {
		mc146818_write(&rtc, MC146818_PORT_INDEX, (uint8_t)i, FUZZ_WALL_S);
		(void)mc146818_read(&rtc, MC146818_PORT_DATA, FUZZ_WALL_S);
	}
}

static void fuzz_acpi_pm(const struct state_rec_view *r)
{
	struct keel_state_acpi_pm st, again;
	struct acpi_pm pm;

	acpi_pm_init(&pm);
	acpi_pm_save(&pm, &st);
	if (!fuzz_apply_diff(r, &st, sizeof(st)) || acpi_pm_load(&pm, &st))
		return;
	acpi_pm_save(&pm, &again);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	for (uint32_t off = 0; off < ACPI_PM_IO_BYTES; off++)
		(void)acpi_pm_read(&pm, off, 1);
}

#define FUZZ_IO_BAR 0xC040u
#define FUZZ_MEM_BAR 0xFEBF1000u

static void fuzz_virtio_pci(const struct state_rec_view *r)
{
	struct keel_state_virtio_pci st, again;
	struct virtio_pci vp;
	struct msi_msg msg;

	virtio_pci_init(&vp, VIRTIO_PCI_DEVICE_NET, VIRTIO_PCI_SUBSYS_NET, VIRTIO_PCI_CLASS_NET,
			0x20000020u, 2, FUZZ_IO_BAR, FUZZ_MEM_BAR, NULL, NULL);
	virtio_pci_save(&vp, &st);
	if (!fuzz_apply_diff(r, &st, sizeof(st)) || virtio_pci_load(&vp, &st))
		return;
	virtio_pci_save(&vp, &again);
	FUZZ_ASSERT(memcmp(&st, &again, sizeof(st)) == 0);
	for (uint32_t reg = 0; reg < 256; reg += 4)
		(void)virtio_pci_cfg_read(&vp, reg, 4);
	for (uint32_t off = 0; off < VIRTIO_PCI_IO_BAR_BYTES; off += 2)
		(void)virtio_pci_io_read(&vp, (uint16_t)((vp.bar0 & ~1u) + off), 2);
	for (uint32_t off = 0; off < VIRTIO_PCI_MEM_BAR_BYTES; off += 4)
		(void)virtio_pci_mmio_read(&vp, vp.bar1 + off, 4);
	for (uint16_t q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		(void)virtio_pci_raise(&vp, q, &msg);
	(void)virtio_pci_raise(&vp, VIRTIO_PCI_CONFIG_IRQ, &msg);
	for (int n = 0; n < 16 && virtio_pci_take_msg(&vp, &msg); n++)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_rec_view r;
	uint64_t pos = 0;
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	int rc;

	memcpy(copy, data, size);
	while ((rc = state_rec_next(copy, size, &pos, &r)) == 1) {
		FUZZ_ASSERT(r.payload >= copy && r.payload + r.length <= copy + size);
		if (r.type == KEEL_STATE_IOAPIC)
			fuzz_ioapic(&r);
		else if (r.type == KEEL_STATE_UART)
			fuzz_uart(&r);
		else if (r.type == KEEL_STATE_LAPIC)
			fuzz_lapic(&r);
		else if (r.type == KEEL_STATE_RTC)
			fuzz_rtc(&r);
		else if (r.type == KEEL_STATE_ACPI_PM)
			fuzz_acpi_pm(&r);
		else if (r.type == KEEL_STATE_VIRTIO_PCI)
			fuzz_virtio_pci(&r);
	}
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	FUZZ_ASSERT(pos <= size);
	free(copy);
	return 0;
}
