/*
 * libFuzzer target for the guest-facing register interfaces of the
 * virtual local APIC (hypervisor/devices/lapic.c) and IOAPIC
 * (hypervisor/devices/ioapic.c): everything a guest can do to them. Each
 * input is a program of 8-byte operations run on one vLAPIC and one
 * vIOAPIC: register reads and writes at any offset with any value,
 * interrupts raised and acknowledged, IOAPIC pins set, EOIs, TSC-deadline
 * writes, time moving forward. The contract is checked after each step:
 * nothing crashes or reads out of bounds (ASan, UBSan), a pending vector
 * is a real one (16..255) and acknowledging it puts it in service, an EOI
 * reports a vector or none, and the IOAPIC sends at most one message per
 * pin. Run with tests/fuzz/run.sh, or by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_apic.c -o /tmp/fuzz_apic
 */
#include "../../hypervisor/devices/lapic.c"
#include "../../hypervisor/devices/ioapic.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_TSC_KHZ 2000000ull

static void fuzz_check_lapic(struct vlapic *l)
{
	int v = vlapic_pending(l);

	FUZZ_ASSERT(v == -1 || (v >= 16 && v <= 255));
	(void)vlapic_ppr(l);
}

/* One operation: op byte, then a 3-byte offset/pin/vector field and a
 * 4-byte value. */
static void fuzz_step(struct vlapic *l, struct vioapic *io, const uint8_t *p, uint64_t *now)
{
	uint32_t off = ((uint32_t)p[1] | ((uint32_t)p[2] << 8)) & 0xFFF, val;
	struct vlapic_effects fx;
	struct vioapic_out out;
	int v;

	memcpy(&val, p + 4, 4);
	memset(&fx, 0, sizeof(fx));
	fx.eoi_level_vector = -1;
	memset(&out, 0, sizeof(out));
	switch (p[0] % 9) {
	case 0:
		(void)vlapic_read(l, off, *now);
		break;
	case 1:
		vlapic_write(l, off, val, *now, &fx);
		FUZZ_ASSERT(fx.eoi_level_vector >= -1 && fx.eoi_level_vector <= 255);
		break;
	case 2:
		vlapic_accept(l, p[1], p[2] & 1);
		break;
	case 3:
		v = vlapic_pending(l);
		if (v >= 0) {
			vlapic_ack(l, (uint8_t)v);
			FUZZ_ASSERT(l->isr[v / 32] & (1u << (v % 32)));
		}
		break;
	case 4:
		(void)vioapic_read(io, off & 0xFF);
		break;
	case 5:
		vioapic_write(io, off & 0xFF, val, &out);
		FUZZ_ASSERT(out.n <= VIOAPIC_NR_PINS);
		break;
	case 6:
		vioapic_set_irq(io, p[1] % (VIOAPIC_NR_PINS + 2), p[2] & 1, &out);
		FUZZ_ASSERT(out.n <= VIOAPIC_NR_PINS);
		break;
	case 7:
		vioapic_eoi(io, p[1], &out);
		FUZZ_ASSERT(out.n <= VIOAPIC_NR_PINS);
		break;
	default:
		*now += val;
		vlapic_tsc_deadline_write(l, *now + (p[1] << 10), *now);
		vlapic_timer_update(l, *now);
		break;
	}
	fuzz_check_lapic(l);
}

/* libFuzzer entry point: data is a program of 8-byte operations. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vlapic l;
	static struct vioapic io;
	uint64_t now = 1000000;
	size_t i;

	vlapic_init(&l, 0, FUZZ_TSC_KHZ);
	vioapic_init(&io, 1);
	for (i = 0; i + 8 <= size; i += 8)
		fuzz_step(&l, &io, data + i, &now);
	return 0;
}
