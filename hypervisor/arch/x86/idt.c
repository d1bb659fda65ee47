/*
 * The hypervisor's interrupt descriptor table (AMD APM vol. 2, 8.9 "Long-
 * Mode Interrupt Control Transfers"). Every vector points at a stub in
 * entry.S that builds a struct trap_frame and calls trap_dispatch(). A CPU
 * exception in the hypervisor is a bug: it dumps the registers and stops
 * the CPU with a message naming the exception, except for a #GP at an
 * instruction in the exception table (rdmsr_safe, wrmsr_safe), which
 * resumes at its fix-up. An NMI is the watchdog's
 * request for this CPU's state, or else recorded so that it can be
 * forwarded to dom0; other vectors are acknowledged at the LAPIC, and so
 * is an interrupt sent with an exception's vector (16-31), which is logged
 * and ignored: a CPU exception panics, a stray IPI must not.
 */
#include <keel/idt.h>
#include <keel/log.h>
#include <keel/cpu.h>
#include <keel/watchdog.h>
#include <asm/boot.h>
#include <asm/x86.h>
#include <asm/lapic.h>

#define IDT_VECTORS 256
#define STUB_BYTES 16
#define IDT_TYPE_INTGATE 0x8E /* present, DPL 0, 64-bit interrupt gate */
#define VECTOR_NMI 2
#define VECTOR_GP 13
#define VECTOR_FIRST_IRQ 32
#define STRAY_LOG_LIMIT 8

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __packed;

struct idt_desc {
	uint16_t limit;
	uint64_t base;
} __packed;

extern char trap_stubs[];
static struct idt_entry idt[IDT_VECTORS] __aligned(16);

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV injection", "#VC VMM communication",
	"#SX security", "reserved 31",
};

/* Fill the IDT (once, on the BSP). */
void idt_init(void)
{
	uint32_t v;

	for (v = 0; v < IDT_VECTORS; v++) {
		uint64_t a = (uint64_t)(uintptr_t)trap_stubs + v * STUB_BYTES;

		idt[v].off_lo = (uint16_t)a;
		idt[v].sel = KERNEL_CS;
		idt[v].ist = 0;
		idt[v].type = IDT_TYPE_INTGATE;
		idt[v].off_mid = (uint16_t)(a >> 16);
		idt[v].off_hi = (uint32_t)(a >> 32);
		idt[v].reserved = 0;
	}
}

/* Load the IDT on the calling CPU. */
void idt_load(void)
{
	struct idt_desc d = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d));
}

static void __noreturn trap_fatal(struct trap_frame *f)
{
	log_err("hypervisor exception %s (vector %llu) error code %#llx\n",
		exc_names[f->vector & 31], (unsigned long long)f->vector,
		(unsigned long long)f->error);
	log_err("RIP %016llx CS %04llx RFLAGS %016llx RSP %016llx CR2 %016llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)read_cr2());
	log_err("RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_err("RSI %016llx RDI %016llx RBP %016llx R8  %016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_err("R9  %016llx R10 %016llx R11 %016llx R12 %016llx\n",
		(unsigned long long)f->r9, (unsigned long long)f->r10,
		(unsigned long long)f->r11, (unsigned long long)f->r12);
	log_err("R13 %016llx R14 %016llx R15 %016llx CR3 %016llx\n",
		(unsigned long long)f->r13, (unsigned long long)f->r14,
		(unsigned long long)f->r15, (unsigned long long)read_cr3());
	panic("unexpected exception in the hypervisor; this is a Keel bug\n");
}

/* An interrupt (in service at the LAPIC) whose vector is an exception's
 * number, 16-31: sent by another CPU's ICR or a device programmed that
 * way (dom0 can), not raised by this CPU. Acknowledged and ignored; the
 * first few are logged. */
static void stray_low_vector(const struct cpu *c, uint64_t vector)
{
	static uint32_t logged;

	lapic_eoi();
	if (__atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) < STRAY_LOG_LIMIT)
		log_warn("CPU %u got an interrupt with vector %llu, an exception's number; "
			 "ignored (sent by dom0 or a device?)\n", c ? c->index : 0,
			 (unsigned long long)vector);
}

/* One entry of the exception table (asm/x86.h, X86_EX_TABLE_ENTRY). */
struct ex_entry {
	uint64_t insn, fixup;
};

extern const struct ex_entry __ex_table_start[], __ex_table_end[];

/* A #GP at an instruction listed in the exception table (rdmsr_safe,
 * wrmsr_safe): resume at its fix-up. True if f was redirected. */
static bool trap_fixup(struct trap_frame *f)
{
	const struct ex_entry *e;

	if (f->vector != VECTOR_GP)
		return false;
	for (e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn == f->rip) {
			f->rip = e->fixup;
			return true;
		}
	}
	return false;
}

/*
 * Common C entry of all vectors. f is the saved state on the stack. Returns
 * to resume the interrupted code; does not return for fatal exceptions.
 */
void trap_dispatch(struct trap_frame *f)
{
	struct cpu *c = this_cpu();

	if (f->vector == VECTOR_NMI) {
		if (c && !watchdog_nmi(f->rip, f->rsp, f->rbp))
			c->nmi_pending++;
		return;
	}
	if (f->vector < VECTOR_FIRST_IRQ && lapic_in_service((uint32_t)f->vector)) {
		stray_low_vector(c, f->vector);
		return;
	}
	if (trap_fixup(f))
		return;
	if (f->vector < VECTOR_FIRST_IRQ)
		trap_fatal(f);
	if (f->vector == LAPIC_TIMER_VECTOR)
		lapic_timer_fired();
	if (f->vector != LAPIC_SPURIOUS_VECTOR)
		lapic_eoi();
}
