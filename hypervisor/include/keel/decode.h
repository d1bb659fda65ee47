/*
 * Decoder for the x86 instructions a guest uses to touch emulated MMIO
 * (local APIC, IOAPIC). When a nested page fault gives no decode assist,
 * the hypervisor fetches the faulting instruction from guest memory and
 * decode_mmio() says how long it is, whether it loads or stores, how many
 * bytes it moves and which register or immediate is involved. The helpers
 * mmio_store_value() and mmio_load_complete() then apply the x86 register
 * semantics (partial writes, zero/sign extension) to struct guest_regs.
 * Supported: the MOV family (88/89/8A/8B, C6/C7 /0, MOVZX, MOVSX, MOVSXD,
 * the A0-A3 moffs forms); the read-modify-write forms with a memory
 * destination, with or without LOCK (ADD/OR/ADC/SBB/AND/SUB/XOR/CMP r/m,r
 * and r/m,imm; TEST; INC/DEC/NOT/NEG; XCHG; XADD; CMPXCHG), applied by
 * mmio_rmw_apply(); and the 16-byte SSE moves MOVUPS/MOVUPD/MOVAPS/
 * MOVAPD/MOVDQU/MOVDQA (vec: the register is XMM0-15), and their AVX
 * forms VMOVUPS/VMOVUPD/VMOVAPS/VMOVAPD/VMOVDQU/VMOVDQA with a VEX prefix,
 * 16 bytes (XMM) or 32 (YMM). Legacy prefixes, REX and VEX are understood.
 * Everything here is pure: no memory is touched but the arguments.
 */
#ifndef KEEL_DECODE_H
#define KEEL_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include <keel/vcpu.h>

/* Longest legal x86 instruction (SDM vol. 2, 2.3.11; APM vol. 3, 1.1). */
#define DECODE_MAX_INSN_LEN 15

/* Execution mode of the code segment the instruction was fetched from.
 * Compatibility mode (EFER.LMA=1, CS.L=0) is PROT32 or PROT16 by CS.D. */
enum cpu_mode { CPU_MODE_REAL, CPU_MODE_PROT16, CPU_MODE_PROT32, CPU_MODE_LONG64 };

enum mmio_kind { MMIO_LOAD, MMIO_STORE, MMIO_RMW };

/* mmio_insn.rmw for MMIO_RMW: an enum alu_op (keel/alu.h), or one of: */
#define MMIO_RMW_XCHG 32
#define MMIO_RMW_XADD 33
#define MMIO_RMW_CMPXCHG 34

/* Extension applied by a load (mmio_insn.ext). */
#define MMIO_EXT_NONE 0
#define MMIO_EXT_ZERO 1 /* MOVZX */
#define MMIO_EXT_SIGN 2 /* MOVSX, MOVSXD */

struct mmio_insn {
	uint8_t len;        /* total instruction length in bytes */
	enum mmio_kind kind;
	uint8_t size;       /* memory access size in bytes: 1, 2, 4, 8, or 16/32 (vec) */
	uint8_t reg;        /* x86 register number 0..15 of the register operand */
	bool vec;           /* reg is XMM0-15 (size 16) or YMM0-15 (size 32) */
	bool vex;           /* VEX-encoded: a 16-byte load clears the register's upper bits */
	uint8_t rmw;        /* MMIO_RMW: the operation (see above) */
	bool reg_high8;     /* 8-bit AH/CH/DH/BH (reg 4..7 without REX) */
	bool has_imm;       /* store of an immediate (C6/C7) */
	uint64_t imm;       /* sign-extended to size for C7 with 64-bit size */
	uint8_t ext;        /* loads: 0 plain, 1 zero-extend (MOVZX), 2 sign-extend (MOVSX/MOVSXD) */
	uint8_t dst_size;   /* loads: size of the destination register write in bytes */
};

/*
 * Decodes the MMIO instruction at code[0..avail) executed in mode.
 * On success fills *out (reg is the ModRM.reg register extended by REX.R,
 * or 0 = rAX for A0-A3; for C6/C7 it is 0 and has_imm is set; ext and
 * dst_size are 0 for stores) and returns 0. Returns -EINVAL for anything unsupported or invalid
 * (other opcodes, including the string instructions; a register-only
 * ModRM; more than 15 bytes) and -E2BIG if avail ends before the
 * instruction does. LOCK and REP prefixes on a MOV are ignored.
 */
int decode_mmio(const uint8_t *code, uint32_t avail, enum cpu_mode mode,
		struct mmio_insn *out);

/*
 * Applies a decoded MMIO_RMW to the registers r (in mode, for 32-bit
 * register writes) given mem, the in->size bytes read from the device:
 * RFLAGS' arithmetic flags, and the register results of XCHG, XADD and a
 * failed CMPXCHG. Returns true with the value to write back in *new_mem,
 * or false when nothing is written (CMP, TEST, a failed CMPXCHG).
 * Does not touch RIP.
 */
bool mmio_rmw_apply(struct guest_regs *r, const struct mmio_insn *in, enum cpu_mode mode,
		    uint64_t mem, uint64_t *new_mem);

/*
 * Returns the length in bytes of the instruction at code[0..avail) run in
 * mode, which must be a two-byte 0F opcode without ModRM, such as INVD
 * (0F 08), WBINVD (0F 09) or WBNOINVD (F3 0F 09), counting its prefixes,
 * and stores the byte after 0F in *op2; returns 0 if it is not one or does
 * not fit in avail (or 15) bytes. For exits whose instruction the CPU
 * does not describe exactly.
 */
uint32_t decode_prefixed_0f(const uint8_t *code, uint32_t avail, enum cpu_mode mode,
			    uint8_t *op2);

/*
 * Returns the value a decoded MMIO_STORE writes: the immediate, or the
 * register operand (bits 15:8 for AH..BH), truncated to in->size bytes.
 */
uint64_t mmio_store_value(const struct guest_regs *r, const struct mmio_insn *in);

/*
 * Completes a decoded MMIO_LOAD: takes the low in->size bytes of value
 * (what the device returned), extends them as in->ext says and writes
 * in->dst_size bytes of the destination register with x86 semantics:
 * 8- and 16-bit writes keep the other bits, a 32-bit write zero-extends
 * to 64 bits in CPU_MODE_LONG64 and keeps bits 63:32 otherwise.
 * Does not touch RIP; the caller advances it by in->len.
 */
void mmio_load_complete(struct guest_regs *r, const struct mmio_insn *in,
			enum cpu_mode mode, uint64_t value);

#endif /* KEEL_DECODE_H */
