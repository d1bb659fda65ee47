/*
 * The x86 integer ALU for emulated read-modify-write MMIO instructions;
 * see keel/alu.h. Carry and overflow follow the SDM's definitions: CF is
 * the unsigned carry (or borrow) out of the top bit, OF the signed
 * overflow, AF the carry out of bit 3, PF the even parity of the low
 * byte, ZF and SF from the truncated result.
 */
#include <stdbool.h>

#include <keel/alu.h>

static uint64_t alu_mask(uint8_t size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t alu_top(uint8_t size)
{
	return 1ull << (8 * size - 1);
}

/* PF, ZF and SF of a result r (already truncated). */
static uint64_t alu_pzs(uint64_t r, uint8_t size)
{
	uint64_t f = 0;

	if (!(__builtin_popcountll(r & 0xFF) & 1))
		f |= ALU_PF;
	if (r == 0)
		f |= ALU_ZF;
	if (r & alu_top(size))
		f |= ALU_SF;
	return f;
}

/* Flags of r = d + s + c, or with sub of r = d - s - c (c is 0 or 1),
 * all truncated to size. */
static uint64_t alu_arith_flags(uint64_t d, uint64_t s, uint64_t c, uint64_t r, uint8_t size,
				bool sub)
{
	uint64_t f = alu_pzs(r, size);
	bool carry = sub ? (d < s || (c && d == s)) : (r < d || (c && r == d));
	uint64_t over = sub ? (d ^ s) & (d ^ r) : (d ^ r) & (s ^ r);

	if (carry)
		f |= ALU_CF;
	if (over & alu_top(size))
		f |= ALU_OF;
	if ((d ^ s ^ r) & 0x10)
		f |= ALU_AF;
	return f;
}

/* Compute op on dst and src; see alu.h. */
uint64_t alu_compute(enum alu_op op, uint8_t size, uint64_t dst, uint64_t src,
		     uint64_t rflags, uint64_t *rflags_out)
{
	uint64_t m = alu_mask(size), d = dst & m, s = src & m, c = rflags & ALU_CF, r, f;

	switch (op) {
	case ALU_ADD: case ALU_ADC: case ALU_INC:
		if (op == ALU_INC)
			s = 1, c = 0;
		else if (op == ALU_ADD)
			c = 0;
		r = (d + s + c) & m;
		f = alu_arith_flags(d, s, c, r, size, false);
		if (op == ALU_INC)
			f = (f & ~ALU_CF) | (rflags & ALU_CF);
		break;
	case ALU_SUB: case ALU_SBB: case ALU_CMP: case ALU_DEC: case ALU_NEG:
		if (op == ALU_DEC)
			s = 1, c = 0;
		else if (op == ALU_NEG)
			s = d, d = 0, c = 0;
		else if (op != ALU_SBB)
			c = 0;
		r = (d - s - c) & m;
		f = alu_arith_flags(d, s, c, r, size, true);
		if (op == ALU_DEC)
			f = (f & ~ALU_CF) | (rflags & ALU_CF);
		if (op == ALU_CMP)
			r = dst & m;
		break;
	case ALU_OR:
		r = d | s;
		f = alu_pzs(r, size);
		break;
	case ALU_AND: case ALU_TEST:
		r = d & s;
		f = alu_pzs(r, size);
		if (op == ALU_TEST)
			r = d;
		break;
	case ALU_XOR:
		r = d ^ s;
		f = alu_pzs(r, size);
		break;
	default: /* ALU_NOT */
		*rflags_out = rflags;
		return ~d & m;
	}
	*rflags_out = (rflags & ~ALU_FLAGS) | f;
	return r;
}
