/*
 * Unit tests for hypervisor/common/decode.c: every MMIO instruction form
 * Linux 6.1 was seen using (platform notes), ModRM/SIB/displacement
 * lengths in all modes including 16-bit addressing and 67-prefixed forms,
 * REX rules, 8-bit high registers, immediates, MOVZX/MOVSX/MOVSXD, moffs,
 * prefix mixes and the 15-byte limit, truncation (-E2BIG for every prefix
 * of each valid instruction, read from exactly-sized heap buffers so ASan
 * catches over-reads), rejection of unsupported forms, and the register
 * semantics of mmio_store_value and mmio_load_complete. Expected lengths
 * were cross-checked with objdump while writing; the test does not need it.
 */
#include "../../hypervisor/common/decode.c"
#include "../../hypervisor/common/alu.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define R CPU_MODE_REAL
#define P16 CPU_MODE_PROT16
#define P32 CPU_MODE_PROT32
#define L64 CPU_MODE_LONG64
#define LD MMIO_LOAD
#define ST MMIO_STORE

/* One valid instruction and what decode_mmio must say about it. */
struct dcase {
	const char *name;
	enum cpu_mode mode;
	uint8_t bytes[16];
	uint8_t len; /* also the number of meaningful bytes */
	enum mmio_kind kind;
	uint8_t size, reg;
	bool high8, has_imm;
	uint64_t imm;
	uint8_t ext, dst_size;
};

/* Shorthands: plain MOV load/store, byte forms, immediates, extensions. */
#define MOV(n, m, k, sz, rg, L, ...) \
	{ n, m, { __VA_ARGS__ }, L, k, sz, rg, false, false, 0, 0, (k) == LD ? (sz) : 0 }
#define MOV8(n, m, k, rg, hi, L, ...) \
	{ n, m, { __VA_ARGS__ }, L, k, 1, rg, hi, false, 0, 0, (k) == LD ? 1 : 0 }
#define IMM(n, m, sz, iv, L, ...) \
	{ n, m, { __VA_ARGS__ }, L, ST, sz, 0, false, true, iv, 0, 0 }
#define EXT(n, m, sz, rg, e, dst, L, ...) \
	{ n, m, { __VA_ARGS__ }, L, LD, sz, rg, false, false, 0, e, dst }

#define D32 0x78, 0x56, 0x34, 0x12

static const struct dcase cases[] = {
	/* AVX moves (VEX), checked with objdump. */
	MOV("vmovdqu (%rax),%xmm0", L64, LD, 16, 0, 4, 0xC5, 0xFA, 0x6F, 0x00),
	MOV("vmovdqu (%rax),%ymm1", L64, LD, 32, 1, 4, 0xC5, 0xFE, 0x6F, 0x08),
	MOV("vmovdqu %ymm15,0x10(%rax)", L64, ST, 32, 15, 5, 0xC5, 0x7E, 0x7F, 0x78, 0x10),
	MOV("vmovdqa %xmm8,(%rdx)", L64, ST, 16, 8, 4, 0xC5, 0x79, 0x7F, 0x02),
	MOV("vmovups %ymm3,(%rax)", L64, ST, 32, 3, 4, 0xC5, 0xFC, 0x11, 0x18),
	MOV("vmovaps 0x20(%rbx),%xmm4", L64, LD, 16, 4, 5, 0xC5, 0xF8, 0x28, 0x63, 0x20),
	MOV("vmovupd %xmm5,(%r12)", L64, ST, 16, 5, 6, 0xC4, 0xC1, 0x79, 0x11, 0x2C, 0x24),
	MOV("vmovdqu 0(%r13),%ymm9", L64, LD, 32, 9, 6, 0xC4, 0x41, 0x7E, 0x6F, 0x4D, 0x00),
	MOV("vex3 vmovdqu (%rax),%xmm2", L64, LD, 16, 2, 5, 0xC4, 0xE1, 0x7A, 0x6F, 0x10),
	MOV("vmovdqu rip,%ymm7", L64, LD, 32, 7, 8, 0xC5, 0xFE, 0x6F, 0x3D, D32),
	MOV("p32 vmovdqu (%eax),%xmm1", P32, LD, 16, 1, 4, 0xC5, 0xFA, 0x6F, 0x08),
	MOV("p32 vmovdqu %ymm2,8(%ebx)", P32, ST, 32, 2, 5, 0xC5, 0xFE, 0x7F, 0x53, 0x08),
	/* Platform notes: LAPIC accesses of Linux 6.1 (long mode). */
	MOV("lapic 8B 87 disp32", L64, LD, 4, 0, 6, 0x8B, 0x87, 0x30, 0x03, 0x00, 0x00),
	MOV("lapic 89 B7 disp32", L64, ST, 4, 6, 6, 0x89, 0xB7, 0xB0, 0x00, 0x00, 0x00),
	/* IOAPIC accesses. */
	MOV("ioapic 89 30", L64, ST, 4, 6, 2, 0x89, 0x30),
	MOV("ioapic 89 10", L64, ST, 4, 2, 2, 0x89, 0x10),
	MOV("ioapic 89 08", L64, ST, 4, 1, 2, 0x89, 0x08),
	MOV("ioapic 89 50 10", L64, ST, 4, 2, 3, 0x89, 0x50, 0x10),
	MOV("ioapic 89 78 10", L64, ST, 4, 7, 3, 0x89, 0x78, 0x10),
	MOV("ioapic 8B 40 10", L64, LD, 4, 0, 3, 0x8B, 0x40, 0x10),
	MOV("ioapic 44 89 08", L64, ST, 4, 9, 3, 0x44, 0x89, 0x08),
	MOV("ioapic 44 89 40 10", L64, ST, 4, 8, 4, 0x44, 0x89, 0x40, 0x10),
	MOV("ioapic 44 89 00", L64, ST, 4, 8, 3, 0x44, 0x89, 0x00),
	/* User-space devmem. */
	MOV("user 8B 08", L64, LD, 4, 1, 2, 0x8B, 0x08),
	MOV("user 44 89 20", L64, ST, 4, 12, 3, 0x44, 0x89, 0x20),
	/* The same forms from a 32-bit kernel. */
	MOV("p32 89 30", P32, ST, 4, 6, 2, 0x89, 0x30),
	MOV("p32 8B 87 disp32", P32, LD, 4, 0, 6, 0x8B, 0x87, D32),

	/* SIB, displacements, RIP-relative (SDM vol. 2A tables 2-2, 2-3). */
	MOV("sib [rsp]", L64, ST, 4, 0, 3, 0x89, 0x04, 0x24),
	MOV("sib [rsp+d8]", L64, ST, 4, 0, 4, 0x89, 0x44, 0x24, 0x08),
	MOV("sib [rsp+d32]", L64, ST, 4, 0, 7, 0x89, 0x84, 0x24, D32),
	MOV("sib no base disp32", L64, LD, 4, 0, 7, 0x8B, 0x04, 0x25, D32),
	MOV("sib idx*8 no base", L64, LD, 4, 3, 7, 0x8B, 0x1C, 0xC5, D32),
	MOV("sib base rbp mod01", L64, LD, 4, 0, 4, 0x8B, 0x44, 0x2D, 0x10),
	MOV("sib r12 base (REX.B)", L64, ST, 4, 0, 4, 0x41, 0x89, 0x04, 0x24),
	MOV("sib r13 base mod00 still disp32", L64, ST, 4, 0, 8, 0x41, 0x89, 0x04, 0x25, D32),
	MOV("sib REX.X index", L64, ST, 4, 2, 4, 0x42, 0x89, 0x14, 0x20),
	MOV("rip-relative", L64, LD, 4, 0, 6, 0x8B, 0x05, D32),
	MOV("rip-relative REX.B", L64, ST, 4, 0, 7, 0x41, 0x89, 0x05, D32),
	MOV("[r13+0]", L64, ST, 4, 0, 4, 0x41, 0x89, 0x45, 0x00),
	MOV("p32 [disp32]", P32, ST, 4, 1, 6, 0x89, 0x0D, D32),
	MOV("p32 sib d32", P32, ST, 4, 1, 7, 0x89, 0x8C, 0x98, D32),

	/* Operand sizes: REX.W, 66, both. */
	MOV("REX.W load", L64, LD, 8, 0, 3, 0x48, 0x8B, 0x00),
	MOV("REX.W store r15", L64, ST, 8, 15, 4, 0x4C, 0x89, 0x7A, 0x08),
	MOV("REX.WRXB load", L64, LD, 8, 8, 4, 0x4F, 0x8B, 0x04, 0x20),
	MOV("66 store", L64, ST, 2, 1, 3, 0x66, 0x89, 0x08),
	MOV("66 REX.W: W wins", L64, ST, 8, 1, 4, 0x66, 0x48, 0x89, 0x08),
	MOV("REX then 66: REX ignored", L64, ST, 2, 1, 4, 0x48, 0x66, 0x89, 0x08),
	MOV("REX REX: last counts", L64, ST, 4, 9, 4, 0x48, 0x44, 0x89, 0x08),
	MOV("p32 66 load", P32, LD, 2, 0, 3, 0x66, 0x8B, 0x00),

	/* Byte registers: AH..BH without REX, SPL..DIL with any REX. */
	MOV8("88 AH", L64, ST, 4, true, 2, 0x88, 0x20),
	MOV8("88 BH", P32, ST, 7, true, 2, 0x88, 0x38),
	MOV8("88 AL", L64, ST, 0, false, 2, 0x88, 0x00),
	MOV8("40 88 SPL", L64, ST, 4, false, 3, 0x40, 0x88, 0x20),
	MOV8("40 88 DIL", L64, ST, 7, false, 3, 0x40, 0x88, 0x38),
	MOV8("44 88 R12B", L64, ST, 12, false, 3, 0x44, 0x88, 0x20),
	MOV8("8A CH", L64, LD, 5, true, 2, 0x8A, 0x28),
	MOV8("41 8A BPL", L64, LD, 5, false, 3, 0x41, 0x8A, 0x28),
	MOV8("48 8A: W ignored for bytes", L64, LD, 1, false, 3, 0x48, 0x8A, 0x08),
	MOV8("66 88: 66 ignored for bytes", L64, ST, 2, false, 3, 0x66, 0x88, 0x10),

	/* Immediates (C6 /0, C7 /0). */
	IMM("C6 imm8", L64, 1, 0xAB, 3, 0xC6, 0x00, 0xAB),
	IMM("C7 imm32", L64, 4, 0x12345678, 6, 0xC7, 0x00, D32),
	IMM("C7 disp32 imm32", L64, 4, 0x12345678, 10, 0xC7, 0x87, 0x00, 0x03, 0x00, 0x00, D32),
	IMM("C7 rip-rel imm32", L64, 4, 0x12345678, 10, 0xC7, 0x05, 0x10, 0x00, 0x00, 0x00, D32),
	IMM("C7 sib d8 imm32", L64, 4, 0x12345678, 8, 0xC7, 0x44, 0x24, 0x08, D32),
	IMM("66 C7 imm16", L64, 2, 0x1234, 5, 0x66, 0xC7, 0x00, 0x34, 0x12),
	IMM("48 C7 neg imm sign-extended", L64, 8, 0xFFFFFFFFFFFFFF80ull, 7,
	    0x48, 0xC7, 0x00, 0x80, 0xFF, 0xFF, 0xFF),
	IMM("48 C7 pos imm", L64, 8, 0x7FFFFFFF, 7, 0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0x7F),
	IMM("41 C6 [r8]", L64, 1, 0x01, 4, 0x41, 0xC6, 0x00, 0x01),
	IMM("real C7 [disp16] imm16", R, 2, 0x5678, 6, 0xC7, 0x06, 0x34, 0x12, 0x78, 0x56),
	IMM("real 66 C7 imm32", R, 4, 0x12345678, 7, 0x66, 0xC7, 0x07, D32),

	/* MOVZX, MOVSX, MOVSXD. */
	EXT("movzx r32, m8", L64, 1, 0, MMIO_EXT_ZERO, 4, 3, 0x0F, 0xB6, 0x00),
	EXT("movzx r64, m16", L64, 2, 0, MMIO_EXT_ZERO, 8, 4, 0x48, 0x0F, 0xB7, 0x00),
	EXT("66 movzx r16, m8", L64, 1, 2, MMIO_EXT_ZERO, 2, 4, 0x66, 0x0F, 0xB6, 0x10),
	EXT("movzx r10d, m8 d32", L64, 1, 10, MMIO_EXT_ZERO, 4, 8, 0x44, 0x0F, 0xB6, 0x97, D32),
	EXT("movsx r32, m8", L64, 1, 1, MMIO_EXT_SIGN, 4, 3, 0x0F, 0xBE, 0x08),
	EXT("movsx r64, m16", L64, 2, 0, MMIO_EXT_SIGN, 8, 4, 0x48, 0x0F, 0xBF, 0x00),
	EXT("movsx r32, m16 p32", P32, 2, 3, MMIO_EXT_SIGN, 4, 3, 0x0F, 0xBF, 0x18),
	EXT("movsxd r64, m32", L64, 4, 0, MMIO_EXT_SIGN, 8, 3, 0x48, 0x63, 0x00),
	EXT("movsxd r14, [rip]", L64, 4, 14, MMIO_EXT_SIGN, 8, 7, 0x4C, 0x63, 0x35, D32),
	EXT("movsxd no W = mov r32", L64, 4, 0, MMIO_EXT_NONE, 4, 2, 0x63, 0x00),
	EXT("66 movsxd = mov r16", L64, 2, 0, MMIO_EXT_NONE, 2, 3, 0x66, 0x63, 0x00),
	EXT("real movzx r16, m8", R, 1, 0, MMIO_EXT_ZERO, 2, 3, 0x0F, 0xB6, 0x07),

	/* moffs (A0-A3): address-size offset, register AL/rAX. */
	MOV("A1 moffs64", L64, LD, 4, 0, 9, 0xA1, 0x00, 0x00, 0xE0, 0xFE, 0, 0, 0, 0),
	MOV("48 A3 moffs64", L64, ST, 8, 0, 10, 0x48, 0xA3, 0x00, 0x00, 0xE0, 0xFE, 0, 0, 0, 0),
	MOV("67 A1 moffs32 (64)", L64, LD, 4, 0, 6, 0x67, 0xA1, 0x00, 0x00, 0xE0, 0xFE),
	MOV("41 A1: REX.B no effect", L64, LD, 4, 0, 10, 0x41, 0xA1, 0x00, 0x00, 0xE0, 0xFE, 0, 0, 0, 0),
	MOV8("A0 moffs64", L64, LD, 0, false, 9, 0xA0, 0x00, 0x00, 0xE0, 0xFE, 0, 0, 0, 0),
	MOV8("A2 moffs32", P32, ST, 0, false, 5, 0xA2, 0x20, 0x03, 0xE0, 0xFE),
	MOV("A3 moffs32", P32, ST, 4, 0, 5, 0xA3, 0xB0, 0x00, 0xE0, 0xFE),
	MOV("67 A1 moffs16 (p32)", P32, LD, 4, 0, 4, 0x67, 0xA1, 0x34, 0x12),
	MOV("real A1 moffs16", R, LD, 2, 0, 3, 0xA1, 0x34, 0x12),
	MOV("real 66 67 A1 moffs32", R, LD, 4, 0, 7, 0x66, 0x67, 0xA1, D32),

	/* 16-bit addressing (SDM vol. 2A table 2-1). */
	MOV("real [bx+si]", R, ST, 2, 0, 2, 0x89, 0x00),
	MOV("real [bx]", R, ST, 2, 0, 2, 0x89, 0x07),
	MOV("real [disp16]", R, ST, 2, 3, 4, 0x89, 0x1E, 0x34, 0x12),
	MOV("real [bp+d8]", R, LD, 2, 1, 3, 0x8B, 0x4E, 0x10),
	MOV("real [bx+d16]", R, LD, 2, 2, 4, 0x8B, 0x97, 0x34, 0x12),
	MOV("real rm100 is [si], no SIB", R, ST, 2, 0, 2, 0x89, 0x04),
	MOV("real 66 32-bit operand", R, ST, 4, 0, 3, 0x66, 0x89, 0x07),
	MOV("real 67 SIB", R, ST, 2, 0, 4, 0x67, 0x89, 0x04, 0x24),
	MOV("real 67 disp32", R, ST, 2, 0, 7, 0x67, 0x89, 0x05, D32),
	MOV("prot16 [disp16]", P16, LD, 2, 0, 4, 0x8B, 0x06, 0x00, 0x03),
	MOV("p32 67 [disp16]", P32, ST, 4, 0, 5, 0x67, 0x89, 0x06, 0x34, 0x12),
	MOV("p32 67 [bp+d16]", P32, ST, 4, 0, 5, 0x67, 0x89, 0x86, 0x34, 0x12),
	MOV("long 67 sib", L64, ST, 4, 0, 4, 0x67, 0x89, 0x04, 0x24),
	MOV("long 67 eip-rel", L64, ST, 4, 0, 7, 0x67, 0x89, 0x05, D32),

	/* Prefix mixes: segments, LOCK/REP ignored on MOV. */
	MOV("fs segment", L64, LD, 4, 0, 3, 0x64, 0x8B, 0x00),
	MOV("gs 67 66 REX", L64, ST, 2, 9, 6, 0x65, 0x67, 0x66, 0x44, 0x89, 0x08),
	MOV("all segments", P32, ST, 4, 1, 8, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x89, 0x08),
	MOV("rep mov", L64, ST, 4, 1, 3, 0xF3, 0x89, 0x08),
	MOV("repne mov", L64, ST, 4, 1, 3, 0xF2, 0x89, 0x08),
	MOV("lock mov", P32, ST, 4, 1, 3, 0xF0, 0x89, 0x08),
	MOV("15 bytes exactly", L64, ST, 4, 1, 15, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E,
	    0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x89, 0x08),
	MOV("15 bytes with sib/disp", L64, ST, 8, 1, 15, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E,
	    0x2E, 0x48, 0x89, 0x8C, 0x24, D32),
};

/* Instructions decode_mmio must refuse with -EINVAL. */
struct bad_case {
	const char *name;
	enum cpu_mode mode;
	uint8_t bytes[16];
	uint8_t n;
};

static const struct bad_case bad_cases[] = {
	{ "register operand 89 C0", L64, { 0x89, 0xC0 }, 2 },
	{ "register operand 8B D8", P32, { 0x8B, 0xD8 }, 2 },
	{ "register movzx", L64, { 0x0F, 0xB6, 0xC0 }, 3 },
	{ "C6 /1", L64, { 0xC6, 0x08, 0x00 }, 3 },
	{ "C7 /7", L64, { 0xC7, 0x38, 0, 0, 0, 0 }, 6 },
	{ "xbegin C7 F8", L64, { 0xC7, 0xF8, 0, 0, 0, 0 }, 6 },
	{ "movs A5", L64, { 0xA5 }, 1 },
	{ "rep movsd", P32, { 0xF3, 0xA5 }, 2 },
	{ "rep stosb", L64, { 0xF3, 0xAA }, 2 },
	{ "lodsd", L64, { 0xAD }, 1 },
	{ "mov sreg 8C", P32, { 0x8C, 0x00 }, 2 },
	{ "mov sreg 8E", P32, { 0x8E, 0x00 }, 2 },
	{ "mov r, imm B8", L64, { 0xB8, 0, 0, 0, 0 }, 5 },
	{ "add register operand 01 C0", L64, { 0x01, 0xC0 }, 2 },
	{ "mul F7 /4", L64, { 0xF7, 0x20 }, 2 },
	{ "call FF /2", L64, { 0xFF, 0x10 }, 2 },
	{ "test F6 /1", L64, { 0xF6, 0x08, 0x01 }, 3 },
	{ "movsd F2 0F 10", L64, { 0xF2, 0x0F, 0x10, 0x00 }, 4 },
	{ "movss F3 0F 11", L64, { 0xF3, 0x0F, 0x11, 0x00 }, 4 },
	{ "mmx movq 0F 6F", L64, { 0x0F, 0x6F, 0x00 }, 3 },
	{ "add reg, r/m 03", L64, { 0x03, 0x00 }, 2 },
	{ "ud2", L64, { 0x0F, 0x0B }, 2 },
	{ "0F B8 popcnt-ish", L64, { 0xF3, 0x0F, 0xB8, 0x00 }, 4 },
	{ "movnti 0F C3", L64, { 0x0F, 0xC3, 0x00 }, 3 },
	{ "arpl 63 outside long", P32, { 0x63, 0x00 }, 2 },
	{ "63 in real mode", R, { 0x63, 0x00 }, 2 },
	{ "REX is INC in p32", P32, { 0x44, 0x89, 0x08 }, 3 },
	{ "REX is DEC in real", R, { 0x48, 0x89, 0x07 }, 3 },
	{ "VEX C5", L64, { 0xC5, 0xF9, 0x7E, 0x00 }, 4 },
	{ "vmovdqu with vvvv 0000", L64, { 0xC5, 0x82, 0x6F, 0x00 }, 4 },
	{ "vmovsd F2 (VEX pp 3)", L64, { 0xC5, 0xFB, 0x10, 0x00 }, 4 },
	{ "VEX 0F38 map", L64, { 0xC4, 0xE2, 0x79, 0x6F, 0x00 }, 5 },
	{ "VEX 0F6F without 66/F3", L64, { 0xC5, 0xF8, 0x6F, 0x00 }, 4 },
	{ "66 before VEX", L64, { 0x66, 0xC5, 0xFA, 0x6F, 0x00 }, 5 },
	{ "REX before VEX", L64, { 0x40, 0xC5, 0xFA, 0x6F, 0x00 }, 5 },
	{ "LOCK before VEX", L64, { 0xF0, 0xC5, 0xFA, 0x6F, 0x00 }, 5 },
	{ "VEX register operand", L64, { 0xC5, 0xFA, 0x6F, 0xC0 }, 4 },
	{ "lds in p32 (not VEX)", P32, { 0xC5, 0x00 }, 2 },
	{ "les in real mode", R, { 0xC4, 0xC0, 0x00 }, 3 },
	{ "VEX add 01", L64, { 0xC5, 0xFA, 0x01, 0x00 }, 4 },
	{ "C5 as the 15th byte", L64, { 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0,
					0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xC5 }, 15 },
	{ "C4 as the 15th byte p32", P32, { 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E,
					    0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0xC4 }, 15 },
	{ "16 bytes", L64, { 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E,
			     0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x89, 0x08 }, 16 },
	{ "16 bytes via disp", L64, { 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E,
				      0x48, 0x89, 0x8C, 0x24, 0x78, 0x56, 0x34, 0x12 }, 16 },
	{ "15 prefixes", L64, { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 }, 16 },
};

/* Decodes n bytes from an exactly-sized heap copy (ASan sees over-reads). */
static int decode_exact(const uint8_t *bytes, uint32_t n, enum cpu_mode mode,
			struct mmio_insn *out)
{
	uint8_t *buf = malloc(n ? n : 1);
	int rc;

	if (!buf)
		abort();
	memcpy(buf, bytes, n);
	rc = decode_mmio(n ? buf : buf + 1, n, mode, out); /* n=0: no byte valid */
	free(buf);
	return rc;
}

static void check_case(const struct dcase *c)
{
	struct mmio_insn in;
	uint8_t padded[32];
	uint32_t n;
	int rc;

	memset(&in, 0xA5, sizeof(in));
	rc = decode_exact(c->bytes, c->len, c->mode, &in);
	CHECK_MSG(rc == 0, "%s: rc %d", c->name, rc);
	if (rc)
		return;
	CHECK_MSG(in.len == c->len, "%s: len %u, want %u", c->name, in.len, c->len);
	CHECK_MSG(in.kind == c->kind, "%s: kind %d", c->name, in.kind);
	CHECK_MSG(in.size == c->size, "%s: size %u, want %u", c->name, in.size, c->size);
	CHECK_MSG(in.reg == c->reg, "%s: reg %u, want %u", c->name, in.reg, c->reg);
	CHECK_MSG(in.reg_high8 == c->high8, "%s: high8 %d", c->name, in.reg_high8);
	CHECK_MSG(in.has_imm == c->has_imm, "%s: has_imm %d", c->name, in.has_imm);
	CHECK_MSG(in.imm == c->imm, "%s: imm %#llx", c->name, (unsigned long long)in.imm);
	CHECK_MSG(in.ext == c->ext, "%s: ext %u, want %u", c->name, in.ext, c->ext);
	CHECK_MSG(in.dst_size == c->dst_size, "%s: dst_size %u, want %u", c->name,
		  in.dst_size, c->dst_size);

	/* Every proper prefix is too short, and says so. */
	for (n = 0; n < c->len; n++) {
		rc = decode_exact(c->bytes, n, c->mode, &in);
		CHECK_MSG(rc == -E2BIG, "%s: avail %u gave %d", c->name, n, rc);
	}
	/* Trailing bytes do not change the result. */
	memset(padded, 0xCC, sizeof(padded));
	memcpy(padded, c->bytes, c->len);
	rc = decode_mmio(padded, sizeof(padded), c->mode, &in);
	CHECK_MSG(rc == 0 && in.len == c->len, "%s: padded rc %d len %u", c->name,
		  rc, in.len);
}

static void test_valid(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void test_invalid(void)
{
	struct mmio_insn in, before;
	size_t i;
	int rc;

	memset(&before, 0x5A, sizeof(before));
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];

		in = before;
		rc = decode_exact(b->bytes, b->n, b->mode, &in);
		CHECK_MSG(rc == -EINVAL, "%s: rc %d", b->name, rc);
		CHECK_MSG(memcmp(&in, &before, sizeof(in)) == 0,
			  "%s: out written on failure", b->name);
	}
	/* An unsupported opcode is refused even when bytes are short. */
	CHECK_EQ_INT(decode_exact((const uint8_t *)"\x0f\x0b", 2, L64, &in), -EINVAL);
	/* A short instruction cut after 15 bytes of prefixes is too long,
	 * not too short. */
	{
		uint8_t p[15];

		memset(p, 0x3E, sizeof(p));
		CHECK_EQ_INT(decode_exact(p, 15, L64, &in), -EINVAL);
		CHECK_EQ_INT(decode_exact(p, 14, L64, &in), -E2BIG);
	}
}

/* Distinct values per register, in guest_regs field order. */
static void regs_fill(struct guest_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rax = 0x1011121314151617ull;
	r->rcx = 0x2021222324252627ull;
	r->rdx = 0x3031323334353637ull;
	r->rbx = 0x4041424344454647ull;
	r->rsp = 0x5051525354555657ull;
	r->rbp = 0x6061626364656667ull;
	r->rsi = 0x7071727374757677ull;
	r->rdi = 0x8081828384858687ull;
	r->r8 = 0x9091929394959697ull;
	r->r9 = 0xA0A1A2A3A4A5A6A7ull;
	r->r10 = 0xB0B1B2B3B4B5B6B7ull;
	r->r11 = 0xC0C1C2C3C4C5C6C7ull;
	r->r12 = 0xD0D1D2D3D4D5D6D7ull;
	r->r13 = 0xE0E1E2E3E4E5E6E7ull;
	r->r14 = 0xF0F1F2F3F4F5F6F7ull;
	r->r15 = 0x0102030405060708ull;
	r->rip = 0xFFFFFFFF81000000ull;
	r->rflags = 0x202;
}

/* x86 number -> value regs_fill put there. */
static const uint64_t reg_by_num[16] = {
	0x1011121314151617ull, 0x2021222324252627ull, 0x3031323334353637ull,
	0x4041424344454647ull, 0x5051525354555657ull, 0x6061626364656667ull,
	0x7071727374757677ull, 0x8081828384858687ull, 0x9091929394959697ull,
	0xA0A1A2A3A4A5A6A7ull, 0xB0B1B2B3B4B5B6B7ull, 0xC0C1C2C3C4C5C6C7ull,
	0xD0D1D2D3D4D5D6D7ull, 0xE0E1E2E3E4E5E6E7ull, 0xF0F1F2F3F4F5F6F7ull,
	0x0102030405060708ull,
};

static uint64_t reg_get(const struct guest_regs *r, uint8_t num)
{
	return *decode_reg_slot((struct guest_regs *)r, num);
}

/* Decodes bytes (which must be valid) in mode. */
static struct mmio_insn dec(enum cpu_mode mode, const char *bytes, uint32_t n)
{
	struct mmio_insn in;
	int rc;

	memset(&in, 0, sizeof(in));
	rc = decode_mmio((const uint8_t *)bytes, n, mode, &in);
	CHECK_MSG(rc == 0, "decode of %u bytes failed: %d", n, rc);
	return in;
}

static void test_store_values(void)
{
	struct guest_regs r, ref;
	struct mmio_insn in;
	uint8_t num;

	regs_fill(&r);
	regs_fill(&ref);
	/* The register map, through REX.W stores of every register. */
	for (num = 0; num < 16; num++) {
		uint8_t b[3] = { (uint8_t)(0x48 | ((num & 8) ? 4 : 0)), 0x89,
				 (uint8_t)((num & 7) << 3) };

		if (decode_mmio(b, 3, L64, &in) != 0 || in.reg != num) {
			CHECK_MSG(0, "REX.W store of reg %u", num);
			continue;
		}
		CHECK_EQ_U64(mmio_store_value(&r, &in), reg_by_num[num]);
		CHECK_EQ_U64(reg_get(&r, num), reg_by_num[num]);
	}
	/* Sizes truncate. */
	in = dec(L64, "\x44\x89\x08", 3); /* mov [rax], r9d */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0xA4A5A6A7);
	in = dec(L64, "\x89\xB7\xB0\x00\x00\x00", 6); /* mov [rdi+0xb0], esi */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x74757677);
	in = dec(L64, "\x66\x89\x08", 3);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x2627);
	in = dec(L64, "\x88\x08", 2); /* CL */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x27);
	/* High bytes vs REX low bytes. */
	in = dec(L64, "\x88\x20", 2); /* AH */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x16);
	in = dec(L64, "\x88\x38", 2); /* BH */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x46);
	in = dec(L64, "\x88\x28", 2); /* CH */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x26);
	in = dec(L64, "\x40\x88\x20", 3); /* SPL */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x57);
	in = dec(L64, "\x40\x88\x38", 3); /* DIL */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x87);
	in = dec(L64, "\x44\x88\x38", 3); /* R15B */
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x08);
	/* Immediates, including the 64-bit sign extension. */
	in = dec(L64, "\x48\xC7\x00\x80\xFF\xFF\xFF", 7);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0xFFFFFFFFFFFFFF80ull);
	in = dec(L64, "\xC7\x00\x80\xFF\xFF\xFF", 6);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0xFFFFFF80ull);
	in = dec(L64, "\xC6\x00\xFE", 3);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0xFE);
	in = dec(R, "\xC7\x07\x34\x12", 4);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x1234);
	/* moffs stores take AL / rAX. */
	in = dec(L64, "\x48\xA3\0\0\xE0\xFE\0\0\0\0", 10);
	CHECK_EQ_U64(mmio_store_value(&r, &in), reg_by_num[0]);
	in = dec(P32, "\xA2\0\0\xE0\xFE", 5);
	CHECK_EQ_U64(mmio_store_value(&r, &in), 0x17);
	/* Storing does not change registers. */
	CHECK(memcmp(&ref, &r, sizeof(r)) == 0);
}

/* Loads value with in into a fresh register file; returns register num. */
static uint64_t load_into(const struct mmio_insn *in, enum cpu_mode mode,
			  uint64_t value, uint8_t num, struct guest_regs *r)
{
	regs_fill(r);
	mmio_load_complete(r, in, mode, value);
	return reg_get(r, num);
}

/* Whether every register but num (and rip..rflags) still has its value. */
static bool others_untouched(const struct guest_regs *r, uint8_t num)
{
	uint8_t i;

	for (i = 0; i < 16; i++)
		if (i != num && reg_get(r, i) != reg_by_num[i])
			return false;
	return r->rip == 0xFFFFFFFF81000000ull && r->rflags == 0x202;
}

static void test_load_complete(void)
{
	struct guest_regs r;
	struct mmio_insn in;
	const uint64_t junk = 0xDEADBEEFCAFEF00Dull; /* device value, high junk */

	/* 32-bit load: zero-extends in long mode, keeps 63:32 elsewhere. */
	in = dec(L64, "\x8B\x87\x30\x03\x00\x00", 6); /* eax */
	CHECK_EQ_U64(load_into(&in, L64, junk, 0, &r), 0xCAFEF00Dull);
	CHECK(others_untouched(&r, 0));
	in = dec(P32, "\x8B\x08", 2); /* ecx */
	CHECK_EQ_U64(load_into(&in, P32, 0xCAFEF00D, 1, &r), 0x20212223CAFEF00Dull);
	CHECK(others_untouched(&r, 1));
	in = dec(L64, "\x44\x8B\x08", 3); /* r9d */
	CHECK_EQ_U64(load_into(&in, L64, 0x80000000, 9, &r), 0x80000000ull);
	CHECK(others_untouched(&r, 9));
	/* 64-bit. */
	in = dec(L64, "\x4C\x8B\x38", 3); /* r15 */
	CHECK_EQ_U64(load_into(&in, L64, junk, 15, &r), junk);
	CHECK(others_untouched(&r, 15));
	/* 16-bit keeps the rest. */
	in = dec(L64, "\x66\x8B\x10", 3); /* dx */
	CHECK_EQ_U64(load_into(&in, L64, junk, 2, &r), 0x303132333435F00Dull);
	CHECK(others_untouched(&r, 2));
	in = dec(R, "\x8B\x1E\x34\x12", 4); /* bx in real mode */
	CHECK_EQ_U64(load_into(&in, R, 0xABCD, 3, &r), 0x404142434445ABCDull);
	/* 8-bit: low byte, high byte, REX byte registers. */
	in = dec(L64, "\x8A\x08", 2); /* cl */
	CHECK_EQ_U64(load_into(&in, L64, 0x1AB, 1, &r), 0x20212223242526ABull);
	CHECK(others_untouched(&r, 1));
	in = dec(L64, "\x8A\x20", 2); /* ah */
	CHECK_EQ_U64(load_into(&in, L64, 0x1AB, 0, &r), 0x101112131415AB17ull);
	CHECK(others_untouched(&r, 0));
	in = dec(L64, "\x8A\x3F", 2); /* bh */
	CHECK_EQ_U64(load_into(&in, L64, 0xEE, 3, &r), 0x404142434445EE47ull);
	CHECK(others_untouched(&r, 3));
	in = dec(L64, "\x40\x8A\x20", 3); /* spl */
	CHECK_EQ_U64(load_into(&in, L64, 0xEE, 4, &r), 0x50515253545556EEull);
	CHECK(others_untouched(&r, 4));
	in = dec(L64, "\x44\x8A\x30", 3); /* r14b */
	CHECK_EQ_U64(load_into(&in, L64, 0xEE, 14, &r), 0xF0F1F2F3F4F5F6EEull);
	/* MOVZX. */
	in = dec(L64, "\x0F\xB6\x00", 3); /* movzx eax, byte */
	CHECK_EQ_U64(load_into(&in, L64, 0x1F0, 0, &r), 0xF0);
	in = dec(L64, "\x48\x0F\xB7\x08", 4); /* movzx rcx, word */
	CHECK_EQ_U64(load_into(&in, L64, 0x18001, 1, &r), 0x8001);
	in = dec(L64, "\x66\x0F\xB6\x10", 4); /* movzx dx, byte */
	CHECK_EQ_U64(load_into(&in, L64, 0x80, 2, &r), 0x3031323334350080ull);
	in = dec(P32, "\x0F\xB7\x18", 3); /* movzx ebx, word, 32-bit mode */
	CHECK_EQ_U64(load_into(&in, P32, 0xFFFF, 3, &r), 0x404142430000FFFFull);
	/* MOVSX. */
	in = dec(L64, "\x0F\xBE\x00", 3); /* movsx eax, byte */
	CHECK_EQ_U64(load_into(&in, L64, 0x80, 0, &r), 0xFFFFFF80ull);
	in = dec(L64, "\x48\x0F\xBE\x00", 4); /* movsx rax, byte */
	CHECK_EQ_U64(load_into(&in, L64, 0x80, 0, &r), 0xFFFFFFFFFFFFFF80ull);
	in = dec(L64, "\x48\x0F\xBE\x00", 4);
	CHECK_EQ_U64(load_into(&in, L64, 0x17F, 0, &r), 0x7F); /* junk bit 8 */
	in = dec(L64, "\x48\x0F\xBF\x00", 4); /* movsx rax, word */
	CHECK_EQ_U64(load_into(&in, L64, 0x8000, 0, &r), 0xFFFFFFFFFFFF8000ull);
	in = dec(L64, "\x66\x0F\xBE\x00", 4); /* movsx ax, byte */
	CHECK_EQ_U64(load_into(&in, L64, 0x80, 0, &r), 0x101112131415FF80ull);
	in = dec(P32, "\x0F\xBF\x00", 3); /* movsx eax, word, 32-bit mode */
	CHECK_EQ_U64(load_into(&in, P32, 0x8000, 0, &r), 0x10111213FFFF8000ull);
	/* MOVSXD. */
	in = dec(L64, "\x48\x63\x00", 3);
	CHECK_EQ_U64(load_into(&in, L64, 0x80000000, 0, &r), 0xFFFFFFFF80000000ull);
	in = dec(L64, "\x48\x63\x00", 3);
	CHECK_EQ_U64(load_into(&in, L64, 0xFFFFFFFF7FFFFFFFull, 0, &r), 0x7FFFFFFF);
	in = dec(L64, "\x63\x00", 2); /* movsxd eax: plain 32-bit */
	CHECK_EQ_U64(load_into(&in, L64, 0x80000000, 0, &r), 0x80000000ull);
	/* moffs loads. */
	in = dec(L64, "\xA1\0\0\xE0\xFE\0\0\0\0", 9);
	CHECK_EQ_U64(load_into(&in, L64, junk, 0, &r), 0xCAFEF00Dull);
	in = dec(L64, "\xA0\0\0\xE0\xFE\0\0\0\0", 9);
	CHECK_EQ_U64(load_into(&in, L64, junk, 0, &r), 0x101112131415160Dull);
	in = dec(R, "\xA1\x34\x12", 3);
	CHECK_EQ_U64(load_into(&in, R, junk, 0, &r), 0x101112131415F00Dull);
	/* 32-bit load into rsp/rbp and high registers map correctly. */
	in = dec(L64, "\x8B\x20", 2); /* esp */
	CHECK_EQ_U64(load_into(&in, L64, 1, 4, &r), 1);
	CHECK(others_untouched(&r, 4));
	in = dec(L64, "\x8B\x28", 2); /* ebp */
	CHECK_EQ_U64(load_into(&in, L64, 2, 5, &r), 2);
	CHECK(others_untouched(&r, 5));
}

/* Every byte sequence, in every mode: results stay within the contract. */
static void test_random_invariants(void)
{
	uint8_t b[20];
	struct mmio_insn in;
	unsigned long i, bad = 0;
	int mode, rc;
	uint32_t avail, j;

	for (i = 0; i < 200000; i++) {
		for (j = 0; j < sizeof(b); j++)
			b[j] = (uint8_t)harness_rand();
		/* Bias towards supported opcodes after a few prefixes. */
		if (i & 1) {
			static const uint8_t ops[] = { 0x88, 0x89, 0x8A, 0x8B, 0xC6,
						       0xC7, 0x63, 0xA0, 0xA3, 0x0F };
			j = (uint32_t)harness_rand_below(4);
			b[j] = ops[harness_rand_below(sizeof(ops))];
			if (b[j] == 0x0F)
				b[j + 1] = 0xB6 | (uint8_t)(harness_rand() & 9);
		}
		avail = (uint32_t)harness_rand_below(sizeof(b) + 1);
		mode = (int)harness_rand_below(4);
		rc = decode_mmio(b, avail, (enum cpu_mode)mode, &in);
		if (rc == 0) {
			if (in.len == 0 || in.len > 15 || in.len > avail ||
			    (in.size != 1 && in.size != 2 && in.size != 4 &&
			     in.size != 8 && !(in.vec && (in.size == 16 || in.size == 32))) ||
			    in.reg > 15 || (in.size == 32 && !in.vex) ||
			    (in.vec && in.kind == MMIO_RMW) ||
			    (in.reg_high8 && (in.reg < 4 || in.reg > 7)))
				bad++;
		} else if (rc != -EINVAL && rc != -E2BIG) {
			bad++;
		} else if (rc == -E2BIG && avail >= 15) {
			bad++;
		}
	}
	CHECK_EQ_U64(bad, 0);
}

/* The read-modify-write and SSE forms (issue 11): what they decode to. */
static void test_rmw_and_vec(void)
{
	struct mmio_insn in;

	in = dec(L64, "\xF0\xFF\x00", 3);                 /* lock incl (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_INC && in.size == 4 && in.len == 3);
	in = dec(L64, "\xF0\x48\x83\x48\x10\xFF", 6);    /* lock orq $-1, 0x10(%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_OR && in.size == 8 && in.has_imm &&
	      in.imm == ~0ull && in.len == 6);
	in = dec(L64, "\x81\x60\x08\x00\xFF\xFF\xFF", 7); /* andl $0xffffff00, 8(%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_AND && in.size == 4 && in.len == 7);
	in = dec(P16, "\x81\x07\x34\x12", 4);            /* add word [bx], 0x1234 */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_ADD && in.size == 2 && in.imm == 0x1234 &&
	      in.len == 4);
	in = dec(L64, "\x30\x20", 2);                      /* xor %ah, (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_XOR && in.size == 1 && in.reg_high8 &&
	      in.reg == 4);
	in = dec(L64, "\x87\x18", 2);                      /* xchg %ebx, (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == MMIO_RMW_XCHG && in.reg == 3);
	in = dec(L64, "\xF0\x0F\xC1\x08", 4);            /* lock xadd %ecx, (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == MMIO_RMW_XADD && in.reg == 1 && in.len == 4);
	in = dec(L64, "\xF0\x4C\x0F\xB1\x00", 5);       /* lock cmpxchg %r8, (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == MMIO_RMW_CMPXCHG && in.reg == 8 && in.size == 8);
	in = dec(L64, "\xF7\x18", 2);                      /* negl (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_NEG && !in.has_imm);
	in = dec(L64, "\xF6\x00\x80", 3);                 /* testb $0x80, (%rax) */
	CHECK(in.kind == MMIO_RMW && in.rmw == ALU_TEST && in.imm == (uint64_t)-128);
	in = dec(L64, "\xF3\x0F\x6F\x00", 4);            /* movdqu (%rax), %xmm0 */
	CHECK(in.kind == MMIO_LOAD && in.vec && in.size == 16 && in.reg == 0);
	in = dec(L64, "\x66\x44\x0F\x7F\x38", 5);       /* movdqa %xmm15, (%rax) */
	CHECK(in.kind == MMIO_STORE && in.vec && in.reg == 15);
	in = dec(L64, "\x0F\x11\x48\x10", 4);            /* movups %xmm1, 0x10(%rax) */
	CHECK(in.kind == MMIO_STORE && in.vec && in.reg == 1 && in.len == 4);
	in = dec(P32, "\x0F\x28\x10", 3);                 /* movaps (%eax), %xmm2 */
	CHECK(in.kind == MMIO_LOAD && in.vec && in.reg == 2 && !in.vex);
	in = dec(L64, "\xC5\xFA\x6F\x00", 4);            /* vmovdqu (%rax), %xmm0 */
	CHECK(in.kind == MMIO_LOAD && in.vec && in.vex && in.size == 16 && in.dst_size == 16);
	in = dec(L64, "\xC4\x41\x7E\x6F\x4D\x00", 6);  /* vmovdqu 0(%r13), %ymm9 */
	CHECK(in.kind == MMIO_LOAD && in.vec && in.vex && in.size == 32 && in.reg == 9);
}

/* mmio_rmw_apply: register results and write-backs. */
static void test_rmw_apply(void)
{
	struct guest_regs r;
	struct mmio_insn in;
	uint64_t nw = 0;

	memset(&r, 0, sizeof(r));
	r.rcx = 5;
	in = dec(L64, "\xF0\x0F\xC1\x08", 4);            /* lock xadd %ecx, (%rax) */
	CHECK(mmio_rmw_apply(&r, &in, L64, 0xFFFFFFFF, &nw));
	CHECK_EQ_U64(nw, 4);
	CHECK_EQ_U64(r.rcx, 0xFFFFFFFF);
	CHECK(r.rflags & ALU_CF);
	r.rax = 7, r.rbx = 9;
	in = dec(L64, "\xF0\x0F\xB1\x18", 4);            /* lock cmpxchg %ebx, (%rax) */
	CHECK(mmio_rmw_apply(&r, &in, L64, 7, &nw));
	CHECK_EQ_U64(nw, 9);
	CHECK(r.rflags & ALU_ZF);
	CHECK(!mmio_rmw_apply(&r, &in, L64, 8, &nw));       /* fails: rAX gets 8 */
	CHECK_EQ_U64(r.rax, 8);
	CHECK(!(r.rflags & ALU_ZF));
	r.rbx = 0x1122334455667788ull;
	in = dec(L64, "\x87\x18", 2);                      /* xchg %ebx, (%rax): zero-extends */
	CHECK(mmio_rmw_apply(&r, &in, L64, 0xAABBCCDD, &nw));
	CHECK_EQ_U64(nw, 0x55667788);
	CHECK_EQ_U64(r.rbx, 0xAABBCCDD);
	in = dec(L64, "\x85\x18", 2);                      /* test %ebx, (%rax): no write */
	CHECK(!mmio_rmw_apply(&r, &in, L64, 0, &nw));
	CHECK(r.rflags & ALU_ZF);
}

/* Native flags of one instruction "op %src, %dst" (AT&T) run on the
 * host, for comparison with alu_compute. */
#define NATIVE(name, insn, T)							\
static uint64_t name(uint64_t d, uint64_t s, uint64_t fin, uint64_t *fout)	\
{										\
	T dd = (T)d, ss = (T)s;							\
	uint64_t f;								\
	__asm__ volatile("push %[fin]; popfq; " insn " %[s], %[d]; pushfq; pop %[f]" \
			 : [d] "+r"(dd), [f] "=&r"(f) : [s] "r"(ss), [fin] "r"(fin) : "cc"); \
	*fout = f;								\
	return (uint64_t)dd;							\
}
NATIVE(native_add8, "addb", uint8_t)
NATIVE(native_adc16, "adcw", uint16_t)
NATIVE(native_sub32, "subl", uint32_t)
NATIVE(native_sbb64, "sbbq", uint64_t)
NATIVE(native_and8, "andb", uint8_t)
NATIVE(native_or64, "orq", uint64_t)
NATIVE(native_xor16, "xorw", uint16_t)
NATIVE(native_cmp32, "cmpl", uint32_t)
NATIVE(native_add64, "addq", uint64_t)
NATIVE(native_sbb8, "sbbb", uint8_t)

#define NATIVE1(name, insn, T)							\
static uint64_t name(uint64_t d, uint64_t s, uint64_t fin, uint64_t *fout)	\
{										\
	T dd = (T)d;								\
	uint64_t f;								\
	(void)s;								\
	__asm__ volatile("push %[fin]; popfq; " insn " %[d]; pushfq; pop %[f]"	\
			 : [d] "+r"(dd), [f] "=&r"(f) : [fin] "r"(fin) : "cc");	\
	*fout = f;								\
	return (uint64_t)dd;							\
}
NATIVE1(native_inc32, "incl", uint32_t)
NATIVE1(native_dec8, "decb", uint8_t)
NATIVE1(native_neg16, "negw", uint16_t)
NATIVE1(native_neg64, "negq", uint64_t)

/* alu_compute against the host CPU, on edge and random values. */
static void test_alu_native(void)
{
	static const struct {
		enum alu_op op;
		uint8_t size;
		uint64_t (*native)(uint64_t, uint64_t, uint64_t, uint64_t *);
	} t[] = {
		{ ALU_ADD, 1, native_add8 }, { ALU_ADC, 2, native_adc16 },
		{ ALU_SUB, 4, native_sub32 }, { ALU_SBB, 8, native_sbb64 },
		{ ALU_AND, 1, native_and8 }, { ALU_OR, 8, native_or64 },
		{ ALU_XOR, 2, native_xor16 }, { ALU_CMP, 4, native_cmp32 },
		{ ALU_ADD, 8, native_add64 }, { ALU_SBB, 1, native_sbb8 },
		{ ALU_INC, 4, native_inc32 }, { ALU_DEC, 1, native_dec8 },
		{ ALU_NEG, 2, native_neg16 }, { ALU_NEG, 8, native_neg64 },
	};
	static const uint64_t edge[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
					 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
					 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, ~0ull, 0x0F, 0x10 };
	uint64_t flag_mask = ALU_FLAGS;
	size_t i, j, k;
	int n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* AF is undefined after AND/OR/XOR: not compared there */
		uint64_t fm = (t[i].op == ALU_AND || t[i].op == ALU_OR || t[i].op == ALU_XOR) ?
			      flag_mask & ~ALU_AF : flag_mask;
		uint64_t m = t[i].size == 8 ? ~0ull : (1ull << (8 * t[i].size)) - 1;

		for (n = 0; n < 4000; n++) {
			uint64_t d, s, fin, fn, fe, rn, re;

			j = (size_t)n % 16;
			k = (size_t)(n / 16) % 16;
			d = n < 256 ? edge[j] : harness_rand() ^ (harness_rand() << 32);
			s = n < 256 ? edge[k] : harness_rand() ^ (harness_rand() << 32);
			fin = 0x2 | ((n & 1) ? ALU_CF : 0) | ((n & 2) ? ALU_ZF | ALU_OF : 0);
			rn = t[i].native(d, s, fin, &fn);
			re = alu_compute(t[i].op, t[i].size, d, s, fin, &fe);
			if (t[i].op == ALU_CMP)
				rn = d;
			CHECK_MSG((rn & m) == re && (fn & fm) == (fe & fm),
				  "op %d size %u d %#llx s %#llx fin %#llx: native %#llx/%#llx, "
				  "alu %#llx/%#llx", t[i].op, t[i].size, (unsigned long long)d,
				  (unsigned long long)s, (unsigned long long)fin,
				  (unsigned long long)rn, (unsigned long long)fn,
				  (unsigned long long)re, (unsigned long long)fe);
		}
	}
}

/* decode_prefixed_0f: cache-instruction exits without NRIPS. */
static void test_prefixed_0f(void)
{
	static const uint8_t invd[] = { 0x2E, 0x0F, 0x08 };
	uint8_t op2 = 0;

	static const uint8_t wbinvd[] = { 0x0F, 0x09 }, wbnoinvd[] = { 0xF3, 0x0F, 0x09 };
	static const uint8_t rex[] = { 0x48, 0x0F, 0x09 }, mov[] = { 0x89, 0x07 };
	uint8_t many[16];

	CHECK_EQ_U64(decode_prefixed_0f(wbinvd, 2, CPU_MODE_LONG64, &op2), 2);
	CHECK_EQ_U64(op2, 0x09);
	CHECK_EQ_U64(decode_prefixed_0f(invd, 3, CPU_MODE_PROT16, &op2), 3);
	CHECK_EQ_U64(op2, 0x08);
	CHECK_EQ_U64(decode_prefixed_0f(wbnoinvd, 3, CPU_MODE_PROT32, &op2), 3);
	CHECK_EQ_U64(decode_prefixed_0f(rex, 3, CPU_MODE_LONG64, &op2), 3);
	CHECK_EQ_U64(decode_prefixed_0f(rex, 3, CPU_MODE_PROT32, &op2), 0); /* 48 = DEC */
	CHECK_EQ_U64(decode_prefixed_0f(mov, 2, CPU_MODE_LONG64, &op2), 0);
	CHECK_EQ_U64(decode_prefixed_0f(wbinvd, 1, CPU_MODE_LONG64, &op2), 0); /* cut short */
	memset(many, 0x66, sizeof(many));
	many[14] = 0x0F;
	many[15] = 0x09;
	CHECK_EQ_U64(decode_prefixed_0f(many, 16, CPU_MODE_LONG64, &op2), 0); /* > 15 bytes */
}

int main(void)
{
	test_prefixed_0f();
	test_rmw_and_vec();
	test_rmw_apply();
	test_alu_native();
	test_valid();
	test_invalid();
	test_store_values();
	test_load_complete();
	test_random_invariants();
	return harness_done("test_decode");
}
