/*
 * MMIO instruction decoder. The hypervisor emulates the local APIC and
 * IOAPIC pages by leaving them unmapped in the nested page tables; on the
 * resulting #NPF it fetches the guest's instruction bytes and decodes them
 * here, because CPUs without DecodeAssists (and QEMU TCG) do not report
 * them. Only the MOV forms compilers emit for readl/writel-style accesses
 * are understood: prefixes are skipped, the ModRM/SIB/displacement bytes
 * are measured (their address is not needed: the fault gives the GPA),
 * and the access size, direction and register or immediate operand are
 * returned. Encodings follow the Intel SDM vol. 2A chapter 2 (instruction
 * format) and the AMD APM vol. 3 chapter 1 (instruction encoding).
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/decode.h>
#include <keel/alu.h>
#include <keel/errno.h>
#include <keel/vcpu.h>

/* REX bits (SDM vol. 2A 2.2.1.2, APM vol. 3 1.2.7). */
#define REX_W 0x08
#define REX_R 0x04
#define REX_X 0x02
#define REX_B 0x01

/* Cursor over the instruction bytes and the prefixes seen so far. */
struct decode_state {
	const uint8_t *code;
	uint32_t avail;
	uint32_t pos;
	enum cpu_mode mode;
	uint8_t rex;       /* 0, or the REX byte right before the opcode */
	bool opsize_pfx;   /* 66 */
	bool addrsize_pfx; /* 67 */
	bool rep_pfx;      /* F3 (a mandatory prefix for MOVDQU) */
	bool repne_pfx;    /* F2 */
	bool lock_pfx;     /* F0 */
	bool vex;          /* a VEX prefix (C4/C5) came before the opcode */
	uint8_t vex_map;   /* VEX opcode map: 1 = 0F, 2 = 0F38, 3 = 0F3A */
	uint8_t vex_vvvv;  /* VEX.vvvv, already inverted (0 when unused) */
	bool vex_l;        /* VEX.L: 256-bit vectors */
};

/* VEX.pp: the implied legacy prefix (SDM vol. 2A 2.3.5, table 2-8). */
#define VEX_PP_NONE 0
#define VEX_PP_66 1
#define VEX_PP_F3 2
#define VEX_PP_F2 3

/*
 * Reads the next byte. An instruction longer than 15 bytes is invalid
 * (SDM vol. 2A 2.3.11: #GP); running off avail means the caller must
 * fetch more.
 */
static int decode_byte(struct decode_state *s, uint8_t *b)
{
	if (s->pos >= DECODE_MAX_INSN_LEN)
		return -EINVAL;
	if (s->pos >= s->avail)
		return -E2BIG;
	*b = s->code[s->pos++];
	return 0;
}

/* Reads an n-byte little-endian field (n <= 8). */
static int decode_le(struct decode_state *s, uint32_t n, uint64_t *val)
{
	uint64_t v = 0;
	uint32_t i;
	uint8_t b;
	int rc;

	for (i = 0; i < n; i++) {
		rc = decode_byte(s, &b);
		if (rc)
			return rc;
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

static bool decode_is_long(const struct decode_state *s)
{
	return s->mode == CPU_MODE_LONG64;
}

/*
 * Consumes the rest of a VEX prefix whose first byte c4 (C4: three bytes,
 * C5: two) was just read (SDM vol. 2A 2.3.5-2.3.6; APM vol. 3 1.8).
 * Outside 64-bit mode C4/C5 are LES/LDS unless the next byte has its top
 * two bits set (SDM vol. 2A 2.3.5): then 1 is returned and nothing is
 * consumed. VEX is #UD in real mode and after a 66, F2, F3, LOCK or REX
 * prefix (SDM vol. 2A 2.3.2): refused. The inverted R, X, B and vvvv
 * fields are stored un-inverted; pp becomes the legacy prefix it implies.
 * Returns 0, 1 (not VEX), -EINVAL or -E2BIG.
 */
static int decode_vex(struct decode_state *s, uint8_t c4)
{
	uint8_t b1, b2;
	int rc;

	if (s->pos >= DECODE_MAX_INSN_LEN)
		return -EINVAL; /* C4/C5 as the 15th byte: too long either way */
	if (s->pos >= s->avail)
		return -E2BIG;
	if (!decode_is_long(s) && (s->code[s->pos] & 0xC0) != 0xC0)
		return 1;
	if (s->mode == CPU_MODE_REAL || s->opsize_pfx || s->rep_pfx || s->repne_pfx ||
	    s->lock_pfx || s->rex)
		return -EINVAL;
	rc = decode_byte(s, &b1);
	if (rc)
		return rc;
	if (c4 == 0xC5) {
		b2 = b1;
		s->vex_map = 1;
		s->rex = (b1 & 0x80) ? 0 : REX_R;
	} else {
		rc = decode_byte(s, &b2);
		if (rc)
			return rc;
		s->vex_map = b1 & 0x1F;
		s->rex = (uint8_t)(((b1 & 0x80) ? 0 : REX_R) | ((b1 & 0x40) ? 0 : REX_X) |
				   ((b1 & 0x20) ? 0 : REX_B) | ((b2 & 0x80) ? REX_W : 0));
	}
	s->vex = true;
	s->vex_vvvv = (uint8_t)((~b2 >> 3) & 15);
	s->vex_l = (b2 & 4) != 0;
	s->opsize_pfx = (b2 & 3) == VEX_PP_66;
	s->rep_pfx = (b2 & 3) == VEX_PP_F3;
	s->repne_pfx = (b2 & 3) == VEX_PP_F2;
	return 0;
}

/*
 * Consumes legacy prefixes and REX and returns the opcode byte after them
 * (SDM vol. 2A 2.1.1, APM vol. 3 1.2). REX counts only when it is the last
 * prefix before the opcode (SDM vol. 2A 2.2.1: otherwise it is ignored),
 * and exists only in 64-bit mode (elsewhere 40-4F are INC/DEC).
 * LOCK is accepted: the emulation of a read-modify-write is atomic (it
 * runs under the domain's device lock) and on a MOV LOCK faults before
 * any access (#UD). REP/REPNE only matter as SSE mandatory prefixes.
 */
static int decode_prefixes(struct decode_state *s, uint8_t *opcode)
{
	uint8_t b;
	int rc;

	for (;;) {
		rc = decode_byte(s, &b);
		if (rc)
			return rc;
		switch (b) {
		case 0x66:
			s->opsize_pfx = true;
			break;
		case 0x67:
			s->addrsize_pfx = true;
			break;
		case 0x26: case 0x2E: case 0x36: case 0x3E: /* ES CS SS DS */
		case 0x64: case 0x65:                       /* FS GS */
			break;
		case 0xF0:                                  /* LOCK */
			s->lock_pfx = true;
			break;
		case 0xF2:
			s->repne_pfx = true;
			break;
		case 0xF3:
			s->rep_pfx = true;
			break;
		case 0xC4: case 0xC5:
			rc = decode_vex(s, b);
			if (rc <= 0)
				return rc ? rc : decode_byte(s, opcode);
			*opcode = b; /* LES/LDS outside 64-bit mode */
			return 0;
		default:
			if (decode_is_long(s) && (b & 0xF0) == 0x40) {
				s->rex = b;
				continue; /* keep it: it may be the last */
			}
			*opcode = b;
			return 0;
		}
		s->rex = 0; /* a legacy prefix after REX voids the REX */
	}
}

/*
 * Operand size in bytes for the non-byte forms: REX.W gives 8, otherwise
 * the mode's default (2 in real and 16-bit modes, 4 elsewhere) toggled by
 * 66 (SDM vol. 1 3.6 and table 3-4; APM vol. 3 1.2.2).
 */
static uint8_t decode_opsize(const struct decode_state *s)
{
	bool def16 = s->mode == CPU_MODE_REAL || s->mode == CPU_MODE_PROT16;

	if (s->rex & REX_W)
		return 8;
	if (s->opsize_pfx)
		def16 = !def16;
	return def16 ? 2 : 4;
}

/* Address size in bytes: mode default toggled by 67 (APM vol. 3 1.2.3). */
static uint8_t decode_addrsize(const struct decode_state *s)
{
	switch (s->mode) {
	case CPU_MODE_LONG64:
		return s->addrsize_pfx ? 4 : 8;
	case CPU_MODE_PROT32:
		return s->addrsize_pfx ? 2 : 4;
	default:
		return s->addrsize_pfx ? 4 : 2;
	}
}

/* Displacement bytes of a 16-bit ModRM (SDM vol. 2A table 2-1). */
static uint32_t decode_disp16_len(uint8_t mod, uint8_t rm)
{
	if (mod == 0)
		return rm == 6 ? 2 : 0; /* [disp16] */
	return mod == 1 ? 1 : 2;
}

/*
 * Consumes SIB and displacement of a 32/64-bit ModRM (SDM vol. 2A tables
 * 2-2 and 2-3, 2.2.1.6; APM vol. 3 1.4). The special encodings look only
 * at the three low bits: REX.B does not change them, so r12 as a base
 * still needs a SIB and r13 with mod 00 is still disp32 / RIP-relative.
 */
static int decode_sib_disp32(struct decode_state *s, uint8_t mod, uint8_t rm)
{
	uint64_t unused;
	uint32_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint8_t sib;
	int rc;

	if (rm == 4) {
		rc = decode_byte(s, &sib);
		if (rc)
			return rc;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4; /* no base: [index*scale + disp32] */
	} else if (mod == 0 && rm == 5) {
		disp = 4; /* [disp32], RIP-relative in 64-bit mode */
	}
	return decode_le(s, disp, &unused);
}

/*
 * Consumes a memory-operand ModRM with its SIB and displacement and
 * returns ModRM.reg extended by REX.R in *reg (the reg field may also be
 * an opcode extension; the caller decides). A register operand (mod 11)
 * cannot have faulted on MMIO and is refused.
 */
static int decode_modrm(struct decode_state *s, uint8_t *reg)
{
	uint64_t unused;
	uint8_t modrm, mod, rm;
	int rc;

	rc = decode_byte(s, &modrm);
	if (rc)
		return rc;
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return -EINVAL;
	*reg = ((modrm >> 3) & 7) | ((s->rex & REX_R) ? 8 : 0);
	if (decode_addrsize(s) == 2)
		return decode_le(s, decode_disp16_len(mod, rm), &unused);
	return decode_sib_disp32(s, mod, rm);
}

/* 88 / 8A: MOV r/m8, r8 and MOV r8, r/m8 (SDM vol. 2B "MOV"). */
static int decode_mov8(struct decode_state *s, enum mmio_kind kind,
		       struct mmio_insn *out)
{
	int rc = decode_modrm(s, &out->reg);

	if (rc)
		return rc;
	out->kind = kind;
	out->size = 1;
	out->dst_size = kind == MMIO_LOAD ? 1 : 0;
	/* Without REX, 8-bit registers 4..7 are AH CH DH BH (SDM vol. 2A
	 * 2.2.1.2, "byte registers"); with any REX they are SPL..DIL. */
	out->reg_high8 = s->rex == 0 && out->reg >= 4;
	return 0;
}

/* 89 / 8B: MOV r/m, r and MOV r, r/m at the operand size. */
static int decode_mov(struct decode_state *s, enum mmio_kind kind,
		      struct mmio_insn *out)
{
	int rc = decode_modrm(s, &out->reg);

	if (rc)
		return rc;
	out->kind = kind;
	out->size = decode_opsize(s);
	out->dst_size = kind == MMIO_LOAD ? out->size : 0;
	return 0;
}

/*
 * C6 /0 ib and C7 /0 iw/id: MOV r/m, imm. With REX.W the imm32 is
 * sign-extended to 64 bits (SDM vol. 2B "MOV", C7 /0 id with REX.W).
 */
static int decode_mov_imm(struct decode_state *s, bool byte_op,
			  struct mmio_insn *out)
{
	uint64_t imm;
	uint8_t ext;
	uint8_t size = byte_op ? 1 : decode_opsize(s);
	int rc;

	rc = decode_modrm(s, &ext);
	if (rc)
		return rc;
	if ((ext & 7) != 0)
		return -EINVAL; /* C6/C7 /1../7: XABORT, XBEGIN or undefined */
	rc = decode_le(s, size == 8 ? 4 : size, &imm);
	if (rc)
		return rc;
	if (size == 8)
		imm = (uint64_t)(int64_t)(int32_t)(uint32_t)imm;
	out->kind = MMIO_STORE;
	out->size = size;
	out->reg = 0;
	out->has_imm = true;
	out->imm = imm;
	return 0;
}

/*
 * 0F B6/B7/BE/BF: MOVZX and MOVSX r, r/m8 or r/m16 (SDM vol. 2B "MOVZX",
 * "MOVSX/MOVSXD"). The register operand is the wide destination.
 */
static int decode_movx(struct decode_state *s, uint8_t op2,
		       struct mmio_insn *out)
{
	int rc = decode_modrm(s, &out->reg);

	if (rc)
		return rc;
	out->kind = MMIO_LOAD;
	out->size = (op2 & 1) ? 2 : 1;
	out->ext = (op2 & 8) ? MMIO_EXT_SIGN : MMIO_EXT_ZERO;
	out->dst_size = decode_opsize(s);
	return 0;
}

/*
 * 63 /r in 64-bit mode: MOVSXD r, r/m32. With REX.W it sign-extends 32 to
 * 64 bits; without it moves at the operand size (SDM vol. 2B
 * "MOVSX/MOVSXD"). Outside 64-bit mode 63 is ARPL, which does not apply.
 */
static int decode_movsxd(struct decode_state *s, struct mmio_insn *out)
{
	int rc;

	if (!decode_is_long(s))
		return -EINVAL;
	rc = decode_modrm(s, &out->reg);
	if (rc)
		return rc;
	out->kind = MMIO_LOAD;
	out->dst_size = decode_opsize(s);
	if (out->dst_size == 8) {
		out->size = 4;
		out->ext = MMIO_EXT_SIGN;
	} else {
		out->size = out->dst_size;
	}
	return 0;
}

/*
 * A0-A3: MOV AL/rAX to or from a memory offset of the address size that
 * follows the opcode (SDM vol. 2B "MOV", moffs; 8 bytes in 64-bit mode,
 * 4 with 67). The register is always AL/rAX; REX.B does not apply.
 */
static int decode_moffs(struct decode_state *s, uint8_t op,
			struct mmio_insn *out)
{
	uint64_t unused;
	int rc = decode_le(s, decode_addrsize(s), &unused);

	if (rc)
		return rc;
	out->kind = (op & 2) ? MMIO_STORE : MMIO_LOAD;
	out->size = (op & 1) ? decode_opsize(s) : 1;
	out->dst_size = out->kind == MMIO_LOAD ? out->size : 0;
	out->reg = 0;
	return 0;
}

/*
 * A read-modify-write with a register source (ALU r/m,r; TEST; XCHG; XADD;
 * CMPXCHG): rmw is the operation, byte_op the 8-bit form.
 */
static int decode_rmw_reg(struct decode_state *s, uint8_t rmw, bool byte_op,
			  struct mmio_insn *out)
{
	int rc = decode_modrm(s, &out->reg);

	if (rc)
		return rc;
	out->kind = MMIO_RMW;
	out->rmw = rmw;
	out->size = byte_op ? 1 : decode_opsize(s);
	out->reg_high8 = byte_op && s->rex == 0 && out->reg >= 4;
	return 0;
}

/* Reads an immediate of n bytes, sign-extended to 64 bits. */
static int decode_simm(struct decode_state *s, uint32_t n, uint64_t *imm)
{
	int rc = decode_le(s, n, imm);

	if (rc == 0 && n < 8)
		*imm = (uint64_t)((int64_t)(*imm << (64 - 8 * n)) >> (64 - 8 * n));
	return rc;
}

/*
 * The group opcodes with a memory destination (SDM vol. 2A, table A-6):
 * 80/81/83 /0-7 ALU r/m,imm; F6/F7 /0 TEST r/m,imm, /2 NOT, /3 NEG;
 * FE/FF /0 INC, /1 DEC. Immediates: ib for 80, 83 and F6, otherwise iw
 * or id (sign-extended for 64-bit operands).
 */
static int decode_rmw_group(struct decode_state *s, uint8_t op, struct mmio_insn *out)
{
	static const uint8_t f6[8] = { ALU_TEST, 0xFF, ALU_NOT, ALU_NEG, 0xFF, 0xFF, 0xFF, 0xFF };
	bool byte_op = (op & 1) == 0;
	uint8_t ext;
	uint32_t imm_len;
	int rc = decode_modrm(s, &ext);

	if (rc)
		return rc;
	ext &= 7;
	out->kind = MMIO_RMW;
	out->size = byte_op ? 1 : decode_opsize(s);
	out->reg = 0;
	imm_len = (op == 0x83 || byte_op) ? 1 : out->size == 2 ? 2 : 4;
	if (op == 0xFE || op == 0xFF) {
		if (ext > 1)
			return -EINVAL; /* FF /2../6: CALL, JMP, PUSH */
		out->rmw = ext == 0 ? ALU_INC : ALU_DEC;
		return 0;
	}
	if (op == 0xF6 || op == 0xF7) {
		if (f6[ext] == 0xFF)
			return -EINVAL; /* MUL, IMUL, DIV, IDIV (and /1) */
		out->rmw = f6[ext];
		if (ext != 0)
			return 0;
	} else {
		out->rmw = ext;
	}
	out->has_imm = true;
	return decode_simm(s, imm_len, &out->imm);
}

/*
 * 16-byte SSE moves (SDM vol. 2B): 0F 10/11 MOVUPS (66: MOVUPD), 0F 28/29
 * MOVAPS (66: MOVAPD), 66 0F 6F/7F MOVDQA, F3 0F 6F/7F MOVDQU. F2/F3 with
 * 10/11 are the scalar MOVSD/MOVSS and 0F 6F alone is an MMX move: refused.
 */
static int decode_vec_move(struct decode_state *s, uint8_t op2, struct mmio_insn *out)
{
	bool dq = op2 == 0x6F || op2 == 0x7F;
	int rc;

	if (s->repne_pfx || (s->rep_pfx && !dq) || (dq && !s->rep_pfx && !s->opsize_pfx))
		return -EINVAL;
	if (s->vex && s->vex_vvvv != 0)
		return -EINVAL; /* the moves take no vvvv operand: 1111b or #UD */
	rc = decode_modrm(s, &out->reg);
	if (rc)
		return rc;
	out->kind = (op2 == 0x11 || op2 == 0x29 || op2 == 0x7F) ? MMIO_STORE : MMIO_LOAD;
	out->size = s->vex_l ? 32 : 16;
	out->vec = true;
	out->vex = s->vex;
	out->dst_size = out->kind == MMIO_LOAD ? out->size : 0;
	return 0;
}

/* Two-byte opcodes 0F xx: MOVZX, MOVSX, XADD, CMPXCHG, the SSE moves. */
static int decode_0f(struct decode_state *s, struct mmio_insn *out)
{
	uint8_t op2;
	int rc = decode_byte(s, &op2);

	if (rc)
		return rc;
	switch (op2) {
	case 0xB6: case 0xB7: case 0xBE: case 0xBF:
		return decode_movx(s, op2, out);
	case 0xC0: case 0xC1:
		return decode_rmw_reg(s, MMIO_RMW_XADD, op2 == 0xC0, out);
	case 0xB0: case 0xB1:
		return decode_rmw_reg(s, MMIO_RMW_CMPXCHG, op2 == 0xB0, out);
	case 0x10: case 0x11: case 0x28: case 0x29: case 0x6F: case 0x7F:
		return decode_vec_move(s, op2, out);
	default:
		return -EINVAL;
	}
}

/* An opcode after a VEX prefix: only the vector moves of map 0F
 * (VMOVUPS/UPD, VMOVAPS/APD, VMOVDQU/DQA; SDM vol. 2B), 128 or 256 bits. */
static int decode_vex_opcode(struct decode_state *s, uint8_t op, struct mmio_insn *out)
{
	if (s->vex_map != 1)
		return -EINVAL;
	switch (op) {
	case 0x10: case 0x11: case 0x28: case 0x29: case 0x6F: case 0x7F:
		return decode_vec_move(s, op, out);
	default:
		return -EINVAL;
	}
}

static int decode_opcode(struct decode_state *s, uint8_t op,
			 struct mmio_insn *out)
{
	if (s->vex)
		return decode_vex_opcode(s, op, out);
	if (op < 0x40 && (op & 7) <= 1) /* ADD..CMP r/m, r */
		return decode_rmw_reg(s, op >> 3, (op & 1) == 0, out);
	switch (op) {
	case 0x80: case 0x81: case 0x83: case 0xF6: case 0xF7: case 0xFE: case 0xFF:
		return decode_rmw_group(s, op, out);
	case 0x84: case 0x85:
		return decode_rmw_reg(s, ALU_TEST, op == 0x84, out);
	case 0x86: case 0x87:
		return decode_rmw_reg(s, MMIO_RMW_XCHG, op == 0x86, out);
	case 0x88:
		return decode_mov8(s, MMIO_STORE, out);
	case 0x8A:
		return decode_mov8(s, MMIO_LOAD, out);
	case 0x89:
		return decode_mov(s, MMIO_STORE, out);
	case 0x8B:
		return decode_mov(s, MMIO_LOAD, out);
	case 0xC6:
		return decode_mov_imm(s, true, out);
	case 0xC7:
		return decode_mov_imm(s, false, out);
	case 0x63:
		return decode_movsxd(s, out);
	case 0xA0: case 0xA1: case 0xA2: case 0xA3:
		return decode_moffs(s, op, out);
	case 0x0F:
		return decode_0f(s, out);
	default:
		return -EINVAL;
	}
}

/*
 * Decodes one MMIO instruction; see keel/decode.h. *out is written only
 * on success.
 */
int decode_mmio(const uint8_t *code, uint32_t avail, enum cpu_mode mode,
		struct mmio_insn *out)
{
	struct decode_state s = { .code = code, .avail = avail, .mode = mode };
	struct mmio_insn insn = { 0 };
	uint8_t op;
	int rc;

	if (mode > CPU_MODE_LONG64)
		return -EINVAL;
	rc = decode_prefixes(&s, &op);
	if (rc)
		return rc;
	rc = decode_opcode(&s, op, &insn);
	if (rc)
		return rc;
	insn.len = (uint8_t)s.pos;
	*out = insn;
	return 0;
}

/* Length and second opcode byte of a two-byte 0F xx instruction without
 * ModRM (INVD, WBINVD, WBNOINVD, RDPMC...); see decode.h. */
uint32_t decode_prefixed_0f(const uint8_t *code, uint32_t avail, enum cpu_mode mode,
			    uint8_t *op2)
{
	struct decode_state s = { .code = code, .avail = avail, .mode = mode };
	uint8_t op;

	if (mode > CPU_MODE_LONG64 || decode_prefixes(&s, &op) || op != 0x0F ||
	    decode_byte(&s, op2))
		return 0;
	return s.pos;
}

/*
 * struct guest_regs is not in x86 register-number order (it follows the
 * world-switch layout), so map numbers explicitly (SDM vol. 2A table
 * 2-2 / 3-1: 0 rAX, 1 rCX, 2 rDX, 3 rBX, 4 rSP, 5 rBP, 6 rSI, 7 rDI).
 */
static uint64_t *decode_reg_slot(struct guest_regs *r, uint8_t num)
{
	switch (num & 15) {
	case 0: return &r->rax;
	case 1: return &r->rcx;
	case 2: return &r->rdx;
	case 3: return &r->rbx;
	case 4: return &r->rsp;
	case 5: return &r->rbp;
	case 6: return &r->rsi;
	case 7: return &r->rdi;
	case 8: return &r->r8;
	case 9: return &r->r9;
	case 10: return &r->r10;
	case 11: return &r->r11;
	case 12: return &r->r12;
	case 13: return &r->r13;
	case 14: return &r->r14;
	default: return &r->r15;
	}
}

/* Mask of the low size bytes (size 1, 2, 4 or 8). */
static uint64_t decode_mask(uint8_t size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Sign-extends the low size bytes of v to 64 bits. */
static uint64_t decode_sext(uint64_t v, uint8_t size)
{
	uint32_t shift;

	if (size >= 8)
		return v;
	shift = 64 - 8 * size;
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/*
 * Returns the value a decoded store writes to the device: the immediate
 * or the register operand, truncated to in->size bytes. r is not changed
 * (the cast drops const only to share the register map).
 */
uint64_t mmio_store_value(const struct guest_regs *r, const struct mmio_insn *in)
{
	uint64_t v;

	if (in->has_imm)
		return in->imm & decode_mask(in->size);
	if (in->reg_high8)
		v = *decode_reg_slot((struct guest_regs *)r, in->reg - 4) >> 8;
	else
		v = *decode_reg_slot((struct guest_regs *)r, in->reg);
	return v & decode_mask(in->size);
}

/*
 * Writes the result of a decoded load into its destination register:
 * value's low in->size bytes, extended per in->ext, written as in->dst_size
 * bytes (SDM vol. 1 3.4.1.1: 32-bit results zero-extend in 64-bit mode,
 * 8/16-bit results leave the rest of the register alone).
 */
void mmio_load_complete(struct guest_regs *r, const struct mmio_insn *in,
			enum cpu_mode mode, uint64_t value)
{
	uint64_t *slot;
	uint64_t v = value & decode_mask(in->size);
	uint64_t dmask = decode_mask(in->dst_size);

	if (in->ext == MMIO_EXT_SIGN)
		v = decode_sext(v, in->size);
	v &= dmask;
	if (in->reg_high8) {
		slot = decode_reg_slot(r, in->reg - 4);
		*slot = (*slot & ~0xFF00ull) | (v << 8);
		return;
	}
	slot = decode_reg_slot(r, in->reg);
	if (in->dst_size == 4 && mode == CPU_MODE_LONG64)
		*slot = v;
	else
		*slot = (*slot & ~dmask) | v;
}

/* Apply a decoded read-modify-write; see decode.h. */
bool mmio_rmw_apply(struct guest_regs *r, const struct mmio_insn *in, enum cpu_mode mode,
		    uint64_t mem, uint64_t *new_mem)
{
	struct mmio_insn rd = *in;
	uint64_t src = mmio_store_value(r, in), m = decode_mask(in->size), acc;

	rd.kind = MMIO_LOAD;
	rd.ext = MMIO_EXT_NONE;
	rd.dst_size = in->size;
	mem &= m;
	switch (in->rmw) {
	case MMIO_RMW_XCHG:
		mmio_load_complete(r, &rd, mode, mem);
		*new_mem = src;
		return true;
	case MMIO_RMW_XADD:
		*new_mem = alu_compute(ALU_ADD, in->size, mem, src, r->rflags, &r->rflags);
		mmio_load_complete(r, &rd, mode, mem);
		return true;
	case MMIO_RMW_CMPXCHG:
		acc = r->rax & m;
		alu_compute(ALU_CMP, in->size, acc, mem, r->rflags, &r->rflags);
		if (acc == mem) {
			*new_mem = src;
			return true;
		}
		rd.reg = 0; /* AL/AX/EAX/RAX gets the value read */
		rd.reg_high8 = false;
		mmio_load_complete(r, &rd, mode, mem);
		return false;
	case ALU_CMP: case ALU_TEST:
		alu_compute((enum alu_op)in->rmw, in->size, mem, src, r->rflags, &r->rflags);
		return false;
	default:
		*new_mem = alu_compute((enum alu_op)in->rmw, in->size, mem, src, r->rflags,
				       &r->rflags);
		return true;
	}
}
