/*
 * Virtual CPUs and the generic exit record. Vendor backends (SVM now, VMX
 * later) run a vCPU until the next exit and describe that exit in one
 * struct vm_exit; common code (common/exit.c) handles it without knowing
 * the vendor. Guest general-purpose registers, including RIP/RSP/RFLAGS,
 * are kept in struct guest_regs; backends sync them with their control
 * block around each entry.
 */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <stdint.h>
#include <stdbool.h>

/* Layout is known to the world-switch assembly: keep offsets. */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rsp, rflags;
};

enum vm_exit_reason {
	VM_EXIT_NONE,      /* handled inside the backend; nothing to do */
	VM_EXIT_CPUID,
	VM_EXIT_MSR_READ,  /* msr in exit.msr */
	VM_EXIT_MSR_WRITE, /* msr in exit.msr, value in RDX:RAX */
	VM_EXIT_HYPERCALL,
	VM_EXIT_NPF,       /* gpa, npf_* flags */
	VM_EXIT_IO,        /* port, size, in/out */
	VM_EXIT_HLT,
	VM_EXIT_INTR,      /* a host interrupt arrived */
	VM_EXIT_IRQ_WINDOW, /* the guest can now take an interrupt */
	VM_EXIT_NMI,       /* a host NMI arrived */
	VM_EXIT_SHUTDOWN,  /* triple fault */
	VM_EXIT_INVALID,   /* the guest state was refused by the CPU */
	VM_EXIT_CACHE_FLUSH, /* INVD (cache_invd) or WBINVD/WBNOINVD */
	VM_EXIT_MONITOR,   /* MONITOR or MWAIT */
	VM_EXIT_RDPMC,
	VM_EXIT_UNKNOWN,
};

#define NPF_READ (1u << 0)
#define NPF_WRITE (1u << 1)
#define NPF_EXEC (1u << 2)
#define NPF_PRESENT (1u << 3) /* the nested entry was present */
#define NPF_USER (1u << 4)

struct vm_exit {
	enum vm_exit_reason reason;
	uint32_t insn_len; /* length of the exiting instruction, 0 if unknown */
	uint64_t raw_code; /* backend's own exit code, for logs */
	uint64_t gpa;
	uint32_t npf_flags;
	uint32_t msr;
	uint16_t port;
	uint8_t io_size;
	bool io_in;
	bool cache_invd;   /* VM_EXIT_CACHE_FLUSH: INVD, not WBINVD */
};

struct domain;
struct cpu;

/* What a guest vCPU is doing, as the scheduler sees it. */
enum vcpu_state {
	VCPU_WAIT_SIPI, /* an AP before INIT/SIPI, or stopped */
	VCPU_RUNNABLE,
	VCPU_HALTED,    /* HLT with interrupts on: waits for an interrupt */
	VCPU_OFF,       /* HLT with interrupts off: never wakes (power-off) */
};

/* Saved FPU/SSE/AVX state of a guest vCPU (XSAVE or FXSAVE area). */
struct vcpu_fpu {
	uint64_t xcr0;
	void *area; /* 64-byte aligned, arch_fpu_area_bytes() long */
};

/* One hardware exit as the backend saw it, for crash reports. */
struct vcpu_exit_note {
	uint64_t code; /* the backend's raw exit code */
	uint64_t rip;  /* the guest RIP saved at the exit */
};

#define VCPU_EXIT_HISTORY 8

struct vcpu {
	struct domain *dom;
	uint32_t id;
	struct cpu *cpu;      /* home CPU (guests) or the CPU it runs on (dom0) */
	struct guest_regs regs;
	void *vendor;         /* backend state: VMCB, etc. */
	uint64_t exits;
	/* In guest mode, or about to enter with its TLB as of npt_gen_seen
	 * of its domain's nested page table (vcpu_loop_sync_npt). */
	volatile bool in_guest;
	volatile uint64_t npt_gen_seen;
	uint64_t exit_tsc;    /* TSC when the backend saw the last exit */
	/* The guest's TSC is the host's plus this (mod 2^64), the same for
	 * every vCPU of a domain: 0 for a guest booted here, set when a guest
	 * from another boot or machine is loaded (domain_save.c). The
	 * backends give it to the CPU (APM 15.30.4, SDM 25.3). */
	uint64_t tsc_offset;
	struct vcpu_exit_note exit_hist[VCPU_EXIT_HISTORY]; /* the last exits */
	uint32_t exit_hist_next;
	/* Guest vCPUs only: */
	volatile enum vcpu_state state;
	volatile bool running;  /* in guest mode or between exits on its CPU */
	uint8_t sipi_vector;
	bool init_pending, sipi_pending;
	uint64_t time_ns;       /* guest-mode time, for accounting */
	uint64_t vtime;         /* the scheduler's virtual time (sched_pick_fair) */
	volatile uint64_t pin_mask; /* pool CPUs it may use (keel vcpu-pin); 0 = its domain's */
	uint64_t tsc_aux, spec_ctrl;
	/* Switched lazily, by the scheduler, when its CPU changes vCPU: */
	struct vcpu_fpu fpu;
	uint64_t dr[4];         /* DR0-DR3 */
	void *lapic;            /* struct vlapic, owned by the domain */
};

/* The state a vCPU starts in: Linux's 32-bit boot entry (flat segments,
 * protected mode, paging off, see Documentation/x86/boot.rst), or, with
 * real_mode, an AP started by a SIPI at vector << 12 (Intel SDM vol. 3A,
 * 8.4.4). */
struct vcpu_entry_state {
	uint64_t rip;
	uint64_t rsi;
	bool real_mode;
	uint8_t sipi_vector;
};

/* Record a hardware exit of v (backend exit code, saved RIP) in its
 * history, which crash reports print (vcpu_dump_exit_history). */
static inline void vcpu_note_exit(struct vcpu *v, uint64_t code, uint64_t rip)
{
	struct vcpu_exit_note *n = &v->exit_hist[v->exit_hist_next++ % VCPU_EXIT_HISTORY];

	n->code = code;
	n->rip = rip;
}

void vcpu_dump_exit_history(const struct vcpu *v);

/* Log v's RAX-RDX, RSI, RDI and RBP (common/domain_state.c), for the
 * backends' vcpu_dump. */
void vcpu_dump_gprs(const struct vcpu *v);

/* What the MMIO decoder needs to fetch the current instruction. */
struct vcpu_paging_state {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t cs_base;
	bool cs_long; /* CS.L: 64-bit code */
	bool cs_db;   /* CS.D: 32-bit default operand size */
};

#endif
