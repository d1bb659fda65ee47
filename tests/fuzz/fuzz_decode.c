/*
 * libFuzzer target for hypervisor/common/decode.c. Each input is decoded
 * in all four CPU modes and the decoder's contract is checked: only 0,
 * -EINVAL or -E2BIG come back; -E2BIG only when fewer than 15 bytes were
 * available; a success has 1 <= len <= min(avail, 15), a size of 1, 2, 4
 * or 8 (16 for an SSE move, 16 or 32 for its VEX form) and a sane register; decoding just the first len bytes gives the
 * same result and every shorter prefix gives -E2BIG; and the register
 * helpers change at most the destination register. Any violation aborts.
 * Build and run: see tests/fuzz/README.md.
 */
#include "../../hypervisor/common/decode.c"
#include "../../hypervisor/common/alu.c"
#include "fuzz.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static bool fuzz_size_ok(uint8_t s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static void fuzz_check_insn(const struct mmio_insn *in, uint32_t avail)
{
	FUZZ_ASSERT(in->len >= 1 && in->len <= DECODE_MAX_INSN_LEN);
	FUZZ_ASSERT(in->len <= avail);
	FUZZ_ASSERT(in->kind == MMIO_LOAD || in->kind == MMIO_STORE || in->kind == MMIO_RMW);
	FUZZ_ASSERT(in->vec ? (in->size == 16 || (in->size == 32 && in->vex)) &&
			      in->kind != MMIO_RMW
			    : fuzz_size_ok(in->size) && !in->vex);
	FUZZ_ASSERT(in->reg <= 15);
	FUZZ_ASSERT(!in->reg_high8 || (in->reg >= 4 && in->reg <= 7 && in->size == 1));
	FUZZ_ASSERT(!in->has_imm || in->kind == MMIO_STORE || in->kind == MMIO_RMW);
	FUZZ_ASSERT(in->kind != MMIO_RMW || in->rmw <= ALU_NEG ||
		    (in->rmw >= MMIO_RMW_XCHG && in->rmw <= MMIO_RMW_CMPXCHG));
	FUZZ_ASSERT(in->ext <= MMIO_EXT_SIGN);
	if (in->kind == MMIO_LOAD && !in->vec) {
		FUZZ_ASSERT(fuzz_size_ok(in->dst_size) && in->dst_size >= in->size);
		FUZZ_ASSERT(in->ext != MMIO_EXT_NONE || in->dst_size == in->size);
	}
}

/* The helpers must touch nothing but the destination register. */
static void fuzz_check_helpers(const struct mmio_insn *in, enum cpu_mode mode,
			       const uint8_t *data, size_t size)
{
	struct guest_regs r, before;
	uint64_t v = 0;
	uint64_t *dst;
	size_t i;

	memset(&r, 0xA5, sizeof(r));
	for (i = 0; i < size && i < sizeof(v); i++)
		v = (v << 8) | data[i];
	before = r;
	if (in->vec)
		return; /* XMM registers: moved by arch code, not these helpers */
	(void)mmio_store_value(&r, in);
	FUZZ_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
	if (in->kind == MMIO_RMW) {
		uint64_t nw = 0;

		/* only RFLAGS, the register operand and rAX may change */
		(void)mmio_rmw_apply(&r, in, mode, v, &nw);
		before.rflags = r.rflags;
		before.rax = r.rax;
		dst = decode_reg_slot(&before, in->reg_high8 ? in->reg - 4 : in->reg);
		*dst = *decode_reg_slot(&r, in->reg_high8 ? in->reg - 4 : in->reg);
		FUZZ_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
		return;
	}
	if (in->kind != MMIO_LOAD)
		return;
	mmio_load_complete(&r, in, mode, v);
	dst = decode_reg_slot(&before, in->reg_high8 ? in->reg - 4 : in->reg);
	*dst = *decode_reg_slot(&r, in->reg_high8 ? in->reg - 4 : in->reg);
	FUZZ_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
}

static void fuzz_one_mode(const uint8_t *data, size_t size, enum cpu_mode mode)
{
	uint32_t avail = size > 64 ? 64 : (uint32_t)size;
	struct mmio_insn in, again;
	uint32_t k;
	int rc;

	rc = decode_mmio(data, avail, mode, &in);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -E2BIG);
	if (rc == -E2BIG)
		FUZZ_ASSERT(avail < DECODE_MAX_INSN_LEN);
	if (rc != 0)
		return;
	fuzz_check_insn(&in, avail);
	rc = decode_mmio(data, in.len, mode, &again);
	FUZZ_ASSERT(rc == 0 && memcmp(&in, &again, sizeof(in)) == 0);
	for (k = 0; k < in.len; k++)
		FUZZ_ASSERT(decode_mmio(data, k, mode, &again) == -E2BIG);
	fuzz_check_helpers(&in, mode, data, size);
}

/* libFuzzer entry point: decodes data in every mode. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one_mode(data, size, CPU_MODE_REAL);
	fuzz_one_mode(data, size, CPU_MODE_PROT16);
	fuzz_one_mode(data, size, CPU_MODE_PROT32);
	fuzz_one_mode(data, size, CPU_MODE_LONG64);
	return 0;
}
