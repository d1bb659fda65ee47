/*
 * Intel VT-x definitions for the VMX backend: the VMX capability MSRs, the
 * VMCS field encodings (Intel SDM vol. 3D, appendix B), the VM-execution,
 * VM-exit and VM-entry control bits (vol. 3C, chapter 25 "Virtual Machine
 * Control Structures", 25.6-25.8), the basic exit reasons (vol. 3D,
 * appendix C), the exit qualifications used (vol. 3C, 28.2.1), and the
 * VMX instructions as inline functions. Only arch/x86/vmx/ includes it.
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdint.h>
#include <stdbool.h>

/* ---- MSRs (SDM vol. 4, table 2-2; vol. 3D appendix A) ---- */
#define MSR_IA32_FEATURE_CONTROL 0x3Au
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)
#define MSR_VMX_BASIC 0x480u
#define MSR_VMX_PINBASED_CTLS 0x481u
#define MSR_VMX_PROCBASED_CTLS 0x482u
#define MSR_VMX_EXIT_CTLS 0x483u
#define MSR_VMX_ENTRY_CTLS 0x484u
#define MSR_VMX_MISC 0x485u
#define VMX_MISC_PREEMPT_RATE(m) ((uint32_t)(m) & 0x1Fu) /* timer ticks every 2^rate TSC cycles */
#define MSR_VMX_CR0_FIXED0 0x486u
#define MSR_VMX_CR0_FIXED1 0x487u
#define MSR_VMX_CR4_FIXED0 0x488u
#define MSR_VMX_CR4_FIXED1 0x489u
#define MSR_VMX_PROCBASED_CTLS2 0x48Bu
#define MSR_VMX_EPT_VPID_CAP 0x48Cu
#define MSR_VMX_TRUE_PINBASED_CTLS 0x48Du
#define MSR_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define MSR_VMX_TRUE_EXIT_CTLS 0x48Fu
#define MSR_VMX_TRUE_ENTRY_CTLS 0x490u
#define MSR_MTRR_DEF_TYPE 0x2FFu
#define MSR_MTRR_PHYSBASE0 0x200u
#define MSR_MTRR_FIX64K_00000 0x250u
#define MSR_MTRR_FIX16K_80000 0x258u
#define MSR_MTRR_FIX4K_C0000 0x268u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_X2APIC_ICR 0x830u

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b) ((uint32_t)(b) & 0x7FFFFFFFu)
#define VMX_BASIC_32BIT_ADDR (1ull << 48)
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_WALK4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL (1ull << 42)

/* EPT pointer (25.6.11) and entries (29.3.2) */
#define EPTP_WB 6ull
#define EPTP_WALK4 (3ull << 3)
#define EPT_MEMTYPE_SHIFT 3

/* ---- VM-execution controls (25.6) ---- */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)

#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_USE_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_RDTSC_EXITING (1u << 12)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_MONITOR_TRAP_FLAG (1u << 27)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_SECONDARY_CONTROLS (1u << 31)

#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP (1u << 3)
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID (1u << 12)
#define PROC2_ENABLE_XSAVES (1u << 20)

/* VM-exit controls (25.7.1) */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)

/* VM-entry controls (25.8.1) */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* Interruption information (25.8.3, 25.9.2, 25.9.3) */
#define INTR_INFO_VECTOR_MASK 0xFFu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_TYPE_EXT_INTR (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_SW_INTR (4u << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << 8)
#define INTR_TYPE_SW_EXCEPTION (6u << 8)
#define INTR_TYPE_MASK (7u << 8)
#define INTR_INFO_ERR_VALID (1u << 11)
#define INTR_INFO_NMI_UNBLOCK (1u << 12)
#define INTR_INFO_VALID (1u << 31)

/* Guest interruptibility state (25.4.2, table 25-3) */
#define INTERRUPTIBILITY_STI (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_NMI (1u << 3)

/* Segment access rights in the VMCS (25.4.1, table 25-2): the descriptor's
 * type, S, DPL, P (bits 7:0), AVL, L, D/B, G (bits 15:12), unusable (16). */
#define VMX_AR_UNUSABLE (1u << 16)
#define VMX_AR_CODE64 0xA09Bu  /* G, L, P, S, execute/read accessed */
#define VMX_AR_CODE32 0xC09Bu  /* G, D, P, S, execute/read accessed */
#define VMX_AR_DATA32 0xC093u  /* G, D/B, P, S, read/write accessed */
#define VMX_AR_CODE16 0x009Bu
#define VMX_AR_DATA16 0x0093u
#define VMX_AR_TSS_BUSY 0x008Bu /* P, 32/64-bit busy TSS */
#define VMX_AR_LDT 0x0082u
#define VMX_AR_DPL(ar) (((ar) >> 5) & 3u)

/* ---- VMCS field encodings (appendix B) ---- */
enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	GUEST_ES_SELECTOR = 0x0800, GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804, GUEST_DS_SELECTOR = 0x0806,
	GUEST_FS_SELECTOR = 0x0808, GUEST_GS_SELECTOR = 0x080A,
	GUEST_LDTR_SELECTOR = 0x080C, GUEST_TR_SELECTOR = 0x080E,
	HOST_ES_SELECTOR = 0x0C00, HOST_CS_SELECTOR = 0x0C02,
	HOST_SS_SELECTOR = 0x0C04, HOST_DS_SELECTOR = 0x0C06,
	HOST_FS_SELECTOR = 0x0C08, HOST_GS_SELECTOR = 0x0C0A,
	HOST_TR_SELECTOR = 0x0C0C,
	/* 64-bit */
	IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006, VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200A, TSC_OFFSET = 0x2010,
	EPT_POINTER = 0x201A, XSS_EXIT_BITMAP = 0x202C,
	GUEST_PHYSICAL_ADDRESS = 0x2400,
	VMCS_LINK_POINTER = 0x2800, GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804, GUEST_IA32_EFER = 0x2806,
	HOST_IA32_PAT = 0x2C00, HOST_IA32_EFER = 0x2C02,
	/* 32-bit */
	PIN_BASED_VM_EXEC_CONTROL = 0x4000, CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004, CR3_TARGET_COUNT = 0x400A,
	VM_EXIT_CONTROLS = 0x400C, VM_EXIT_MSR_STORE_COUNT = 0x400E,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010, VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014, VM_ENTRY_INTR_INFO = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018, VM_ENTRY_INSTRUCTION_LEN = 0x401A,
	SECONDARY_VM_EXEC_CONTROL = 0x401E,
	VM_INSTRUCTION_ERROR = 0x4400, VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404, VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO = 0x4408, IDT_VECTORING_ERROR_CODE = 0x440A,
	VM_EXIT_INSTRUCTION_LEN = 0x440C,
	GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806, GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480A,
	GUEST_LDTR_LIMIT = 0x480C, GUEST_TR_LIMIT = 0x480E,
	GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818,
	GUEST_DS_AR = 0x481A, GUEST_FS_AR = 0x481C, GUEST_GS_AR = 0x481E,
	GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822,
	GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SYSENTER_CS = 0x482A, PREEMPTION_TIMER_VALUE = 0x482E,
	HOST_IA32_SYSENTER_CS = 0x4C00,
	/* natural width */
	CR0_GUEST_HOST_MASK = 0x6000, CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004, CR4_READ_SHADOW = 0x6006,
	EXIT_QUALIFICATION = 0x6400, GUEST_LINEAR_ADDRESS = 0x640A,
	GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680A,
	GUEST_DS_BASE = 0x680C, GUEST_FS_BASE = 0x680E, GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681A, GUEST_RSP = 0x681C, GUEST_RIP = 0x681E,
	GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824, GUEST_SYSENTER_EIP = 0x6826,
	HOST_CR0 = 0x6C00, HOST_CR3 = 0x6C02, HOST_CR4 = 0x6C04,
	HOST_FS_BASE = 0x6C06, HOST_GS_BASE = 0x6C08, HOST_TR_BASE = 0x6C0A,
	HOST_GDTR_BASE = 0x6C0C, HOST_IDTR_BASE = 0x6C0E,
	HOST_IA32_SYSENTER_ESP = 0x6C10, HOST_IA32_SYSENTER_EIP = 0x6C12,
	HOST_RSP = 0x6C14, HOST_RIP = 0x6C16,
};

/* ---- Basic exit reasons (appendix C) ---- */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0, EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2, EXIT_REASON_INIT = 3, EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTERRUPT_WINDOW = 7, EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9, EXIT_REASON_CPUID = 10, EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12, EXIT_REASON_INVD = 13, EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15, EXIT_REASON_RDTSC = 16, EXIT_REASON_RSM = 17,
	EXIT_REASON_VMCALL = 18, EXIT_REASON_VMCLEAR = 19, EXIT_REASON_VMLAUNCH = 20,
	EXIT_REASON_VMPTRLD = 21, EXIT_REASON_VMPTRST = 22, EXIT_REASON_VMREAD = 23,
	EXIT_REASON_VMRESUME = 24, EXIT_REASON_VMWRITE = 25, EXIT_REASON_VMXOFF = 26,
	EXIT_REASON_VMXON = 27, EXIT_REASON_CR_ACCESS = 28, EXIT_REASON_DR_ACCESS = 29,
	EXIT_REASON_IO = 30, EXIT_REASON_MSR_READ = 31, EXIT_REASON_MSR_WRITE = 32,
	EXIT_REASON_INVALID_STATE = 33, EXIT_REASON_MSR_LOADING = 34,
	EXIT_REASON_MWAIT = 36, EXIT_REASON_MONITOR = 39, EXIT_REASON_PAUSE = 40,
	EXIT_REASON_MCE_DURING_ENTRY = 41, EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49, EXIT_REASON_INVEPT = 50,
	EXIT_REASON_PREEMPTION_TIMER = 52,
	EXIT_REASON_INVVPID = 53, EXIT_REASON_WBINVD = 54, EXIT_REASON_XSETBV = 55,
	EXIT_REASON_INVPCID = 58, EXIT_REASON_VMFUNC = 59,
};
#define EXIT_REASON_BASIC(r) ((r) & 0xFFFFu)
#define EXIT_REASON_ENTRY_FAIL (1u << 31)

/* EPT-violation exit qualification (28.2.1, table 28-7) */
#define EPT_QUAL_READ (1ull << 0)
#define EPT_QUAL_WRITE (1ull << 1)
#define EPT_QUAL_FETCH (1ull << 2)
#define EPT_QUAL_PERM_MASK (7ull << 3) /* the entry's R, W, X: 0 = not present */
#define EPT_QUAL_NMI_UNBLOCK (1ull << 12)

/* I/O exit qualification (table 28-5) */
#define IO_QUAL_SIZE(q) ((uint32_t)((q) & 7u) + 1u)
#define IO_QUAL_IN (1ull << 3)
#define IO_QUAL_PORT(q) ((uint16_t)((q) >> 16))

/* Control-register access qualification (table 28-3) */
#define CR_QUAL_CR(q) ((uint32_t)((q) & 0xFu))
#define CR_QUAL_TYPE(q) ((uint32_t)(((q) >> 4) & 3u))
#define CR_QUAL_GPR(q) ((uint32_t)(((q) >> 8) & 0xFu))
#define CR_QUAL_LMSW_DATA(q) ((uint32_t)(((q) >> 16) & 0xFFFFu))
#define CR_TYPE_MOV_TO 0u
#define CR_TYPE_MOV_FROM 1u
#define CR_TYPE_CLTS 2u
#define CR_TYPE_LMSW 3u

/* ---- VMX instructions (SDM vol. 2, chapter 6; vol. 3C 31.2) ---- */

/* VMWRITE; false if it failed (VMfailInvalid or VMfailValid). */
static inline bool vmcs_write(uint64_t field, uint64_t val)
{
	bool fail;

	__asm__ volatile("vmwrite %2, %1; setna %0" : "=q"(fail) : "r"(field), "rm"(val) : "cc", "memory");
	return !fail;
}

/* VMREAD of a field of the current VMCS (0 if it failed). */
static inline uint64_t vmcs_read(uint64_t field)
{
	uint64_t val = 0;

	__asm__ volatile("vmread %1, %0" : "+rm"(val) : "r"(field) : "cc");
	return val;
}

/* VMXON, VMCLEAR, VMPTRLD with the region at pa; false if it failed. */
static inline bool vmx_on(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmcs_clear(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmcs_load(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

/* INVEPT of type (1 single-context, 2 all-context) for eptp (31.3). */
static inline void vmx_invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, zero; } d = { eptp, 0 };

	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/* INVVPID of type (1 single-context, 2 all-context) for vpid (31.3). */
static inline void vmx_invvpid(uint64_t type, uint16_t vpid)
{
	struct { uint64_t vpid, addr; } d = { vpid, 0 };

	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

#endif
