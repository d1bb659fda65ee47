/*
 * The AMD-V virtual machine control block (AMD APM vol. 2, Appendix B
 * "Layout of VMCB"): the control area at offset 0 and the state save area
 * at 0x400, with the intercept bits, exit codes and field encodings the
 * SVM backend uses. Offsets are checked at compile time.
 */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stdint.h>
#include <stddef.h>
#include <keel/compiler.h>

/* SVM's own MSRs and EFER bit (AMD APM vol. 2, 15.4 "Enabling SVM",
 * 15.30 "SVM-Related MSRs"). */
#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define EFER_SVME (1ull << 12)

struct vmcb_seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
} __packed;

struct vmcb {
	/* Control area (Table B-1). */
	uint32_t intercept_cr;    /* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;    /* 0x004 */
	uint32_t intercept_exc;   /* 0x008 */
	uint32_t intercept_misc1; /* 0x00C */
	uint32_t intercept_misc2; /* 0x010 */
	uint32_t intercept_misc3; /* 0x014 */
	uint8_t rsvd0[0x03C - 0x018];
	uint16_t pause_filter_thresh; /* 0x03C */
	uint16_t pause_filter_count;  /* 0x03E */
	uint64_t iopm_base_pa;    /* 0x040 */
	uint64_t msrpm_base_pa;   /* 0x048 */
	uint64_t tsc_offset;      /* 0x050 */
	uint32_t asid;            /* 0x058 */
	uint8_t tlb_control;      /* 0x05C */
	uint8_t rsvd1[3];
	uint64_t vintr;           /* 0x060 */
	uint64_t int_state;       /* 0x068: bit 0 interrupt shadow */
	uint64_t exitcode;        /* 0x070 */
	uint64_t exitinfo1;       /* 0x078 */
	uint64_t exitinfo2;       /* 0x080 */
	uint64_t exitintinfo;     /* 0x088 */
	uint64_t np_control;      /* 0x090: bit 0 NP_ENABLE */
	uint64_t avic_apic_bar;   /* 0x098 */
	uint64_t ghcb_pa;         /* 0x0A0 */
	uint64_t eventinj;        /* 0x0A8 */
	uint64_t n_cr3;           /* 0x0B0 */
	uint64_t lbr_control;     /* 0x0B8 */
	uint32_t clean_bits;      /* 0x0C0 */
	uint32_t rsvd2;
	uint64_t next_rip;        /* 0x0C8 */
	uint8_t insn_len;         /* 0x0D0 */
	uint8_t insn_bytes[15];   /* 0x0D1 */
	uint8_t rsvd3[0x400 - 0x0E0];
	/* State save area (Table B-2). */
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	uint8_t rsvd4[0x4CB - 0x4A0];
	uint8_t cpl;              /* 0x4CB */
	uint32_t rsvd5;
	uint64_t efer;            /* 0x4D0 */
	uint8_t rsvd6[0x548 - 0x4D8];
	uint64_t cr4;             /* 0x548 */
	uint64_t cr3;             /* 0x550 */
	uint64_t cr0;             /* 0x558 */
	uint64_t dr7;             /* 0x560 */
	uint64_t dr6;             /* 0x568 */
	uint64_t rflags;          /* 0x570 */
	uint64_t rip;             /* 0x578 */
	uint8_t rsvd7[0x5D8 - 0x580];
	uint64_t rsp;             /* 0x5D8 */
	uint8_t rsvd8[0x5F8 - 0x5E0];
	uint64_t rax;             /* 0x5F8 */
	uint64_t star;            /* 0x600 */
	uint64_t lstar;           /* 0x608 */
	uint64_t cstar;           /* 0x610 */
	uint64_t sfmask;          /* 0x618 */
	uint64_t kernel_gs_base;  /* 0x620 */
	uint64_t sysenter_cs;     /* 0x628 */
	uint64_t sysenter_esp;    /* 0x630 */
	uint64_t sysenter_eip;    /* 0x638 */
	uint64_t cr2;             /* 0x640 */
	uint8_t rsvd9[0x668 - 0x648];
	uint64_t g_pat;           /* 0x668 */
	uint64_t dbgctl;          /* 0x670 */
	uint8_t rsvd10[0x1000 - 0x678];
} __packed;

STATIC_ASSERT(offsetof(struct vmcb, exitcode) == 0x070, "vmcb exitcode");
STATIC_ASSERT(offsetof(struct vmcb, n_cr3) == 0x0B0, "vmcb n_cr3");
STATIC_ASSERT(offsetof(struct vmcb, next_rip) == 0x0C8, "vmcb next_rip");
STATIC_ASSERT(offsetof(struct vmcb, es) == 0x400, "vmcb es");
STATIC_ASSERT(offsetof(struct vmcb, tr) == 0x490, "vmcb tr");
STATIC_ASSERT(offsetof(struct vmcb, cpl) == 0x4CB, "vmcb cpl");
STATIC_ASSERT(offsetof(struct vmcb, efer) == 0x4D0, "vmcb efer");
STATIC_ASSERT(offsetof(struct vmcb, cr4) == 0x548, "vmcb cr4");
STATIC_ASSERT(offsetof(struct vmcb, rip) == 0x578, "vmcb rip");
STATIC_ASSERT(offsetof(struct vmcb, rsp) == 0x5D8, "vmcb rsp");
STATIC_ASSERT(offsetof(struct vmcb, rax) == 0x5F8, "vmcb rax");
STATIC_ASSERT(offsetof(struct vmcb, cr2) == 0x640, "vmcb cr2");
STATIC_ASSERT(offsetof(struct vmcb, g_pat) == 0x668, "vmcb g_pat");
STATIC_ASSERT(sizeof(struct vmcb) == 0x1000, "vmcb size");

/* intercept_misc1 (vector 3) */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_INIT (1u << 3)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_RDPMC (1u << 15)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 (vector 4) */
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_WBINVD (1u << 9)  /* also WBNOINVD */
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT (1u << 11)

/* Exit codes (Appendix C). */
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDPMC 0x06F
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07A
#define SVM_EXIT_IOIO 0x07B
#define SVM_EXIT_MSR 0x07C
#define SVM_EXIT_SHUTDOWN 0x07F
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08A
#define SVM_EXIT_MWAIT 0x08B
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((uint64_t)-1)

/* EVENTINJ / EXITINTINFO (15.20 "Event Injection") */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERR_VALID (1ull << 11)
#define EVENT_TYPE_INTR (0ull << 8)
#define EVENT_TYPE_NMI (2ull << 8)
#define EVENT_TYPE_EXC (3ull << 8)

/* TLB_CONTROL (15.16.1) */
#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3

/* Segment attributes in VMCB format: type, S, DPL, P, AVL, L, D/B, G. */
#define SEG_ATTR_CODE32 0x0C9B
#define SEG_ATTR_DATA32 0x0C93
#define SEG_ATTR_CODE16 0x009B
#define SEG_ATTR_DATA16 0x0093
#define SEG_ATTR_TSS32_BUSY 0x008B
#define SEG_ATTR_LDT 0x0082

#define DEFAULT_GPAT 0x0007040600070406ull

#endif
