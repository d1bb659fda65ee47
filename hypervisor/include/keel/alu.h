/*
 * The x86 integer ALU for emulated read-modify-write instructions on MMIO
 * (LOCK ADD/OR/AND/XOR/..., INC, DEC, NEG, NOT, XADD, CMPXCHG): the result
 * and the six arithmetic flags exactly as the CPU computes them (Intel SDM
 * vol. 1, 3.4.3.1 and each instruction's "Flags Affected" in vol. 2; AMD
 * APM vol. 3, appendix "rFLAGS"). Pure.
 */
#ifndef KEEL_ALU_H
#define KEEL_ALU_H

#include <stdint.h>

/* The first eight match the ModRM /digit of opcodes 80/81/83 and the
 * bits 5:3 of 00-3F. */
enum alu_op {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_INC, ALU_DEC, ALU_NOT, ALU_NEG,
};

#define ALU_CF (1ull << 0)
#define ALU_PF (1ull << 2)
#define ALU_AF (1ull << 4)
#define ALU_ZF (1ull << 6)
#define ALU_SF (1ull << 7)
#define ALU_OF (1ull << 11)
#define ALU_FLAGS (ALU_CF | ALU_PF | ALU_AF | ALU_ZF | ALU_SF | ALU_OF)

/*
 * Computes op on dst and src (the low size bytes count; size 1, 2, 4 or
 * 8) with the incoming RFLAGS rflags (CF for ADC/SBB; INC/DEC keep CF).
 * Returns the result, truncated to size, and stores RFLAGS with the
 * arithmetic flags updated in *rflags_out (AF is cleared by the logic
 * operations, where the SDM leaves it undefined; NOT changes no flag).
 */
uint64_t alu_compute(enum alu_op op, uint8_t size, uint64_t dst, uint64_t src,
		     uint64_t rflags, uint64_t *rflags_out);

#endif /* KEEL_ALU_H */
