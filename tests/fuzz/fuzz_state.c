/*
 * libFuzzer target for the domain state records a restore or a migration
 * will take from outside (docs/save-restore.md): the record stream reader
 * (hypervisor/common/state_rec.c) and the IOAPIC and UART loaders
 * (vioapic_load, ns16550_load). Each input is a record stream. The
 * contract: the reader never reads beyond the input (ASan) and stops at
 * the end or at damage; a record a loader accepts saves back to exactly
 * the same record (nothing is silently changed), and the loaded device
 * then survives every guest access a probe makes: all IOAPIC registers
 * read, every pin raised and every vector EOId with at most one message
 * per pin; every UART register read and the FIFO drained. Run with
 * tests/fuzz/run.sh, or by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_state.c -o /tmp/fuzz_state
 */
#include "../../hypervisor/common/state_rec.c"
#include "../../hypervisor/devices/ioapic.c"
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
	}
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	FUZZ_ASSERT(pos <= size);
	free(copy);
	return 0;
}
