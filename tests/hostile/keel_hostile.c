// SPDX-License-Identifier: GPL-2.0
/*
 * keel_hostile.ko - the kernel half of Keel's hostile-guest test. Loaded
 * into a guest, it does what a malicious guest kernel could do to spy on
 * or disturb other guests through CPU state the hypervisor switches
 * lazily, and reports what it saw. It is a test tool, never shipped on
 * the CD. Commands are written to /proc/keel_hostile and the last result
 * is read back from it:
 *
 *   xmm MS      clear XMM0-15, set MXCSR to its default and XCR0 to x87
 *               only (allowed without an exit), then spin MS milliseconds
 *               with interrupts off, so the hypervisor switches to another
 *               vCPU and back; report whether the registers changed and
 *               what they hold. A correct hypervisor restores every
 *               component whatever XCR0 the guest chose.
 *   dr-set V    load DR0-DR3 with V, V+1, V+2, V+3 (breakpoints stay off
 *               in DR7): the victim's side of the debug-register check.
 *   dr MS       clear DR0-DR3, spin MS ms with interrupts off, report
 *               whether they changed.
 *   cr2 MS      set CR2 to SPY_CR2, spin MS ms with interrupts off, report
 *               whether it changed and to what. The victim guest's page
 *               faults (hostile.c touches VICTIM_FAULT_VA each round)
 *               write CR2 on the shared CPU; a hypervisor that does not
 *               switch CR2 lets the spy read the victim's fault
 *               addresses, and lets them overwrite a value the guest has
 *               not read yet.
 *   invd        WBINVD, then INVD: on bare hardware INVD throws away every
 *               dirty cache line, other domains' included.
 *   mmio        the legal but unusual accesses a guest may make to its own
 *               emulated local APIC: LOCK OR, XADD, CMPXCHG, a plain ADD,
 *               and 16-byte MOVDQU/MOVUPS loads and stores; reports
 *               "mmio ok ..." or "mmio BAD ..." (bad: a bit per check).
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/io.h>
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>
#include <asm/tsc.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Keel hostile-guest test module (test suite only)");

static char result[512];
static DEFINE_MUTEX(lock);

/* The TSC value ms milliseconds from now. With interrupts off the guest's
 * clock may stand still (a tiny guest's clocksource can be jiffies), the
 * TSC never does. */
static u64 tsc_after_ms(unsigned int ms)
{
	return rdtsc_ordered() + (u64)ms * tsc_khz;
}

static u64 xgetbv0(void)
{
	u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

static void xsetbv0(u64 v)
{
	asm volatile("xsetbv" : : "a"((u32)v), "d"((u32)(v >> 32)), "c"(0));
}

/* XMM0-15 into buf (16 bytes each), then MXCSR. */
static void xmm_store(u8 buf[256], u32 *mxcsr)
{
	asm volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\t"
		     "movdqu %%xmm2, 32(%0)\n\tmovdqu %%xmm3, 48(%0)\n\t"
		     "movdqu %%xmm4, 64(%0)\n\tmovdqu %%xmm5, 80(%0)\n\t"
		     "movdqu %%xmm6, 96(%0)\n\tmovdqu %%xmm7, 112(%0)\n\t"
		     "movdqu %%xmm8, 128(%0)\n\tmovdqu %%xmm9, 144(%0)\n\t"
		     "movdqu %%xmm10, 160(%0)\n\tmovdqu %%xmm11, 176(%0)\n\t"
		     "movdqu %%xmm12, 192(%0)\n\tmovdqu %%xmm13, 208(%0)\n\t"
		     "movdqu %%xmm14, 224(%0)\n\tmovdqu %%xmm15, 240(%0)\n\t"
		     "stmxcsr (%1)"
		     : : "r"(buf), "r"(mxcsr) : "memory");
}

static void xmm_clear(void)
{
	u32 mxcsr = 0x1F80;

	asm volatile("pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
		     "pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
		     "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
		     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
		     "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\t"
		     "pxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
		     "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\t"
		     "pxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15\n\t"
		     "ldmxcsr (%0)" : : "r"(&mxcsr) : "memory");
}

/* Whether XMM0's low half or MXCSR is no longer what xmm_clear left. */
static bool xmm_dirty(void)
{
	u64 lo;
	u32 mxcsr;

	asm volatile("movq %%xmm0, %0\n\tstmxcsr %1" : "=r"(lo), "=m"(mxcsr));
	return lo || mxcsr != 0x1F80;
}

static void cmd_xmm(unsigned int ms)
{
	u8 buf[256];
	u32 mxcsr = 0;
	u64 xcr0, end;
	unsigned long flags;
	bool changed = false;
	int i;

	kernel_fpu_begin();
	local_irq_save(flags);
	xcr0 = xgetbv0();
	xsetbv0(1); /* x87 only: legacy SSE keeps working (CR4.OSFXSR) */
	xmm_clear();
	end = tsc_after_ms(ms);
	while (rdtsc_ordered() < end) {
		if (xmm_dirty()) {
			changed = true;
			break;
		}
	}
	xmm_store(buf, &mxcsr);
	xsetbv0(xcr0);
	local_irq_restore(flags);
	kernel_fpu_end();
	for (i = 0; i < 256; i++)
		changed |= buf[i] != 0;
	changed |= mxcsr != 0x1F80;
	scnprintf(result, sizeof(result), "xmm changed=%d mxcsr=%#x xmm0=%*phN xmm15=%*phN\n",
		  changed, mxcsr, 16, buf, 16, buf + 240);
}

static void dr_read(u64 dr[4])
{
	asm volatile("mov %%db0, %0" : "=r"(dr[0]));
	asm volatile("mov %%db1, %0" : "=r"(dr[1]));
	asm volatile("mov %%db2, %0" : "=r"(dr[2]));
	asm volatile("mov %%db3, %0" : "=r"(dr[3]));
}

static void dr_write(const u64 dr[4])
{
	asm volatile("mov %0, %%db0" : : "r"(dr[0]));
	asm volatile("mov %0, %%db1" : : "r"(dr[1]));
	asm volatile("mov %0, %%db2" : : "r"(dr[2]));
	asm volatile("mov %0, %%db3" : : "r"(dr[3]));
}

static void cmd_dr_set(u64 v)
{
	u64 dr[4] = { v, v + 1, v + 2, v + 3 };
	unsigned long flags;

	local_irq_save(flags);
	dr_write(dr);
	local_irq_restore(flags);
	scnprintf(result, sizeof(result), "dr-set %#llx\n", v);
}

static void cmd_dr(unsigned int ms)
{
	u64 zero[4] = { 0 }, dr[4] = { 0 }, end;
	unsigned long flags;

	local_irq_save(flags);
	dr_write(zero);
	end = tsc_after_ms(ms);
	do {
		dr_read(dr);
	} while (!(dr[0] | dr[1] | dr[2] | dr[3]) && rdtsc_ordered() < end);
	dr_write(zero);
	local_irq_restore(flags);
	scnprintf(result, sizeof(result), "dr changed=%d dr0=%#llx dr1=%#llx dr2=%#llx dr3=%#llx\n",
		  !!(dr[0] | dr[1] | dr[2] | dr[3]), dr[0], dr[1], dr[2], dr[3]);
}

#define SPY_CR2 0x7A7A7000ull

static u64 cr2_read(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void cmd_cr2(unsigned int ms)
{
	unsigned long flags;
	u64 end, cr2;

	local_irq_save(flags);
	asm volatile("mov %0, %%cr2" : : "r"(SPY_CR2));
	end = tsc_after_ms(ms);
	do {
		cr2 = cr2_read();
	} while (cr2 == SPY_CR2 && rdtsc_ordered() < end);
	local_irq_restore(flags);
	scnprintf(result, sizeof(result), "cr2 changed=%d cr2=%#llx\n", cr2 != SPY_CR2, cr2);
}

static void cmd_invd(void)
{
	unsigned long flags;

	local_irq_save(flags);
	asm volatile("wbinvd; invd" ::: "memory");
	local_irq_restore(flags);
	scnprintf(result, sizeof(result), "invd done\n");
}

#define LAPIC_PA 0xFEE00000ul
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80

/*
 * The AVX (VEX) forms on the local APIC page p, whose TPR reads t0 and
 * version register v0: a VEX.128 load, which must also clear bits 255:128
 * of its YMM register (SDM vol. 2A 2.3.10); a 256-bit load across the ID
 * and version registers; a VEX.128 store to the TPR. Returns a bit mask of
 * what went wrong (0: nothing).
 */
static int cmd_mmio_avx(u8 __iomem *p, u32 t0, u32 v0)
{
	u32 ymm[8], fill[4];
	int bad = 0, i;

	asm volatile("vcmpps $15, %%ymm4, %%ymm4, %%ymm4\n\t" /* all ones */
		     "vmovdqu %1, %%xmm4\n\t"
		     "vmovdqu %%ymm4, %0"
		     : "=m"(ymm) : "m"(*(volatile u8 (*)[16])(p + LAPIC_VERSION)));
	bad |= (ymm[0] != v0) << 0;
	bad |= ((ymm[4] | ymm[5] | ymm[6] | ymm[7]) != 0) << 1;
	asm volatile("vmovdqu %1, %%ymm6\n\tvmovdqu %%ymm6, %0"
		     : "=m"(ymm) : "m"(*(volatile u8 (*)[32])(p + LAPIC_VERSION - 0x10)));
	bad |= (ymm[4] != v0) << 2;
	for (i = 0; i < 4; i++)
		fill[i] = t0;
	asm volatile("vmovdqu %1, %%xmm7\n\tvmovdqu %%xmm7, %0"
		     : "=m"(*(volatile u8 (*)[16])(p + LAPIC_TPR)) : "m"(fill));
	bad |= (readl(p + LAPIC_TPR) != t0) << 3;
	return bad;
}

static void cmd_mmio(void)
{
	bool avx = boot_cpu_has(X86_FEATURE_AVX) && boot_cpu_has(X86_FEATURE_OSXSAVE);
	u8 __iomem *p = ioremap(LAPIC_PA, PAGE_SIZE);
	volatile u32 *tpr, *ver;
	u32 t0, v0, x = 0, cmp, sse[4], fill[4];
	unsigned long flags;
	int bad = 0, i;

	if (!p) {
		scnprintf(result, sizeof(result), "mmio cannot map the local APIC\n");
		return;
	}
	tpr = (volatile u32 *)(p + LAPIC_TPR);
	ver = (volatile u32 *)(p + LAPIC_VERSION);
	kernel_fpu_begin();
	local_irq_save(flags);
	t0 = *tpr;
	v0 = *ver;
	asm volatile("lock orl $0, %0" : "+m"(*tpr));
	bad |= (*tpr != t0) << 0;
	asm volatile("lock xaddl %0, %1" : "+r"(x), "+m"(*tpr));
	bad |= (x != t0) << 1;
	cmp = t0;
	asm volatile("lock cmpxchgl %2, %1" : "+a"(cmp), "+m"(*tpr) : "r"(t0) : "cc");
	bad |= (*tpr != t0) << 2;
	asm volatile("addl $0, %0" : "+m"(*tpr));
	asm volatile("movdqu %1, %%xmm3\n\tmovdqu %%xmm3, %0"
		     : "=m"(sse) : "m"(*(volatile u8 (*)[16])ver));
	bad |= (sse[0] != v0) << 3;
	for (i = 0; i < 4; i++)
		fill[i] = t0;
	asm volatile("movups %1, %%xmm5\n\tmovups %%xmm5, %0"
		     : "=m"(*(volatile u8 (*)[16])tpr) : "m"(fill));
	bad |= (*tpr != t0) << 4;
	if (avx)
		bad |= cmd_mmio_avx(p, t0, v0) << 5;
	local_irq_restore(flags);
	kernel_fpu_end();
	iounmap(p);
	scnprintf(result, sizeof(result),
		  "mmio %s tpr=%#x version=%#x xadd=%#x sse=%#x avx=%s bad=%#x\n",
		  bad ? "BAD" : "ok", t0, v0, x, sse[0], avx ? "yes" : "no", bad);
}

static ssize_t hostile_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	char cmd[64];
	unsigned long long arg = 0;
	size_t n = min(len, sizeof(cmd) - 1);

	if (copy_from_user(cmd, ubuf, n))
		return -EFAULT;
	cmd[n] = 0;
	strim(cmd);
	mutex_lock(&lock);
	if (!tsc_khz)
		scnprintf(result, sizeof(result), "no TSC frequency known\n");
	else if (sscanf(cmd, "xmm %llu", &arg) == 1 && arg <= 10000)
		cmd_xmm((unsigned int)arg);
	else if (sscanf(cmd, "dr-set %llx", &arg) == 1)
		cmd_dr_set(arg);
	else if (sscanf(cmd, "dr %llu", &arg) == 1 && arg <= 10000)
		cmd_dr((unsigned int)arg);
	else if (sscanf(cmd, "cr2 %llu", &arg) == 1 && arg <= 10000)
		cmd_cr2((unsigned int)arg);
	else if (!strcmp(cmd, "invd"))
		cmd_invd();
	else if (!strcmp(cmd, "mmio"))
		cmd_mmio();
	else
		scnprintf(result, sizeof(result), "unknown command '%s'\n", cmd);
	mutex_unlock(&lock);
	return len;
}

static ssize_t hostile_read(struct file *f, char __user *ubuf, size_t len, loff_t *off)
{
	ssize_t rc;

	mutex_lock(&lock);
	rc = simple_read_from_buffer(ubuf, len, off, result, strlen(result));
	mutex_unlock(&lock);
	return rc;
}

static const struct proc_ops hostile_ops = {
	.proc_read = hostile_read,
	.proc_write = hostile_write,
	.proc_lseek = default_llseek,
};

static int __init hostile_init(void)
{
	if (!proc_create("keel_hostile", 0600, NULL, &hostile_ops))
		return -ENOMEM;
	return 0;
}

static void __exit hostile_exit(void)
{
	remove_proc_entry("keel_hostile", NULL);
}

module_init(hostile_init);
module_exit(hostile_exit);
