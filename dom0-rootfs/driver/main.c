// SPDX-License-Identifier: GPL-2.0-only
/*
 * keel.ko: the dom0 side of the Keel hypercall interface. Dom0 is the stock
 * Debian kernel running as a guest of the Keel hypervisor; user space (the
 * `keel` toolstack) cannot execute VMMCALL/VMCALL itself because privileged
 * hypercalls must come from CPL 0. At load time this module checks the Keel
 * CPUID signature and the ABI major version, then registers /dev/keel (root
 * only). Its single ioctl, KEEL_IOCTL_HYPERCALL, copies the caller's argument
 * buffer into physically contiguous kernel memory, issues the hypercall with
 * that buffer's physical address and copies the buffer and RAX back. The
 * ABI is defined in keel_abi.h (hypervisor/include/public) and described in
 * docs/hypercalls.md. net.c adds keel0, dom0's interface on the hypervisor's
 * virtual switch. A timer sends the watchdog's heartbeat every second;
 * the stall_s parameter hangs dom0 on purpose, to see the watchdog work,
 * and send_ipi sends an IPI from dom0's LAPIC, for the isolation tests.
 */

#define pr_fmt(fmt) "keel: " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "keel_abi.h"
#include "keel_drv.h"

/* True on AMD/Hygon (VMMCALL), false on Intel and others (VMCALL). */
static bool keel_use_vmmcall;

/* Issue one hypercall with VMMCALL; returns the hypervisor's RAX. */
static s64 keel_hc_vmmcall(u64 op, u64 arg_pa, u64 arg_size)
{
	u64 rax = op;

	/* RDI/RSI are in/out: the ABI does not promise they are preserved. */
	asm volatile("vmmcall"
		     : "+a"(rax), "+D"(arg_pa), "+S"(arg_size)
		     :
		     : "memory", "cc");
	return (s64)rax;
}

/* Issue one hypercall with VMCALL; returns the hypervisor's RAX. */
static s64 keel_hc_vmcall(u64 op, u64 arg_pa, u64 arg_size)
{
	u64 rax = op;

	asm volatile("vmcall"
		     : "+a"(rax), "+D"(arg_pa), "+S"(arg_size)
		     :
		     : "memory", "cc");
	return (s64)rax;
}

/* Issue a hypercall with the instruction the boot CPU's vendor needs;
 * see keel_drv.h. */
s64 keel_hc_call(u64 op, u64 arg_pa, u64 arg_size)
{
	if (keel_use_vmmcall)
		return keel_hc_vmmcall(op, arg_pa, arg_size);
	return keel_hc_vmcall(op, arg_pa, arg_size);
}

/* True if CPUID leaf KEEL_CPUID_BASE carries the Keel signature. */
static bool keel_cpuid_is_keel(void)
{
	u32 eax, regs[3];
	char sig[sizeof(regs)];

	cpuid(KEEL_CPUID_BASE, &eax, &regs[0], &regs[1], &regs[2]);
	memcpy(sig, regs, sizeof(sig));
	return memcmp(sig, KEEL_CPUID_SIGNATURE, sizeof(sig)) == 0;
}

/*
 * Copy in the user's buffer, make the call, copy the buffer back.
 * @req: the ioctl request; req->ret is filled on success.
 * Returns 0 (the hypercall's own result is in req->ret) or -errno.
 */
static int keel_hc_passthrough(struct keel_ioctl_hypercall *req)
{
	void __user *uaddr = u64_to_user_ptr(req->arg_uaddr);
	size_t size = req->arg_size;
	unsigned int order;
	unsigned long buf;
	int err = 0;

	if (req->arg_size > KEEL_HC_MAX_ARG)
		return -EINVAL;
	if (size == 0) {
		req->ret = keel_hc_call(req->op, 0, 0);
		return 0;
	}
	if (!uaddr)
		return -EINVAL;

	order = get_order(size);
	buf = __get_free_pages(GFP_KERNEL | __GFP_ZERO, order);
	if (!buf)
		return -ENOMEM;
	if (copy_from_user((void *)buf, uaddr, size)) {
		err = -EFAULT;
		goto out;
	}
	req->ret = keel_hc_call(req->op, virt_to_phys((void *)buf), size);
	if (copy_to_user(uaddr, (void *)buf, size))
		err = -EFAULT;
out:
	free_pages(buf, order);
	return err;
}

/* ioctl handler of /dev/keel: only KEEL_IOCTL_HYPERCALL, CAP_SYS_ADMIN. */
static long keel_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct keel_ioctl_hypercall req;
	int err;

	if (cmd != KEEL_IOCTL_HYPERCALL)
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	err = keel_hc_passthrough(&req);
	if (err)
		return err;
	if (copy_to_user(uarg, &req, sizeof(req)))
		return -EFAULT;
	return 0;
}

static const struct file_operations keel_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = keel_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice keel_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "keel",
	.fops = &keel_dev_fops,
	.mode = 0600,
};

/*
 * Ask the hypervisor for its ABI version and check the major number.
 * Returns 0 if compatible, -ENODEV otherwise.
 */
static int keel_abi_check(void)
{
	s64 ver = keel_hc_call(KEEL_HC_VERSION, 0, 0);
	u32 major, minor;

	if (ver < 0) {
		pr_err("KEEL_HC_VERSION failed (%lld)\n", ver);
		return -ENODEV;
	}
	major = ((u64)ver >> 16) & 0xffff;
	minor = (u64)ver & 0xffff;
	if (major != KEEL_ABI_MAJOR) {
		pr_err("hypervisor ABI %u.%u is incompatible with driver ABI %u.%u\n",
		       major, minor, KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
		return -ENODEV;
	}
	pr_info("hypervisor ABI %u.%u, driver ABI %u.%u\n", major, minor,
		KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
	return 0;
}

/*
 * The hypervisor's watchdog expects a sign of life from dom0's kernel:
 * a timer makes KEEL_HC_HEARTBEAT every second. If dom0 stops running its
 * timers (it hangs, or its interrupts stopped arriving), the heartbeat
 * stops and the hypervisor logs where every CPU is.
 */
#define KEEL_HEARTBEAT_MS 1000

static struct timer_list keel_heartbeat_timer;
static bool keel_heartbeat_stop;

static void keel_heartbeat(struct timer_list *t)
{
	keel_hc_call(KEEL_HC_HEARTBEAT, 0, 0);
	if (!READ_ONCE(keel_heartbeat_stop))
		mod_timer(t, jiffies + msecs_to_jiffies(KEEL_HEARTBEAT_MS));
}

#define KEEL_STALL_MAX_S 60

/*
 * /sys/module/keel/parameters/stall_s (root, write only): a debugging aid
 * that makes dom0's CPU hang on purpose for that many seconds, with
 * interrupts off and no VM exit, as a dom0 that froze would. The
 * hypervisor's watchdog then reports it (the boot test does this).
 */
static int keel_stall_set(const char *val, const struct kernel_param *kp)
{
	unsigned int s;
	unsigned long flags;
	int err = kstrtouint(val, 10, &s);

	if (err)
		return err;
	if (s > KEEL_STALL_MAX_S)
		return -EINVAL;
	pr_warn("stalling this CPU for %u s with interrupts off (stall_s)\n", s);
	local_irq_save(flags);
	while (s--)
		mdelay(1000);
	local_irq_restore(flags);
	return 0;
}

static const struct kernel_param_ops keel_stall_ops = {
	.set = keel_stall_set,
};
module_param_cb(stall_s, &keel_stall_ops, NULL, 0200);
MODULE_PARM_DESC(stall_s, "debug: hang dom0's CPU for N s (at most 60) so the watchdog reports it");

/*
 * /sys/module/keel/parameters/send_ipi (root, write only): a debugging aid
 * for the isolation tests. "APICID VECTOR" sends one fixed IPI with that
 * vector (16-255), "APICID init" an INIT and "APICID sipi VECTOR" a
 * start-up IPI, through dom0's local APIC to any CPU, also one the
 * hypervisor keeps for guests: exactly what a misbehaving dom0 kernel
 * could do. The hypervisor must drop what is not meant for dom0's own CPU
 * (boot test guests_survive_dom0_init_sipi_and_stray_ipis).
 */
static int keel_send_ipi_set(const char *val, const struct kernel_param *kp)
{
	unsigned int id, vector = 0;
	unsigned long flags;
	u32 icr;
	char kind[8];

	if (sscanf(val, "%u %7s %u", &id, kind, &vector) >= 2 && id <= 255 &&
	    !strcmp(kind, "init"))
		icr = APIC_DM_INIT | APIC_INT_LEVELTRIG | APIC_INT_ASSERT;
	else if (sscanf(val, "%u %7s %u", &id, kind, &vector) == 3 && id <= 255 &&
		 !strcmp(kind, "sipi") && vector <= 255)
		icr = APIC_DM_STARTUP | vector;
	else if (sscanf(val, "%u %u", &id, &vector) == 2 && id <= 255 &&
		 vector >= 16 && vector <= 255)
		icr = APIC_DM_FIXED | vector;
	else
		return -EINVAL;
	pr_warn("sending IPI %#x to APIC id %u (send_ipi)\n", icr, id);
	local_irq_save(flags);
	apic_icr_write(icr, id);
	local_irq_restore(flags);
	return 0;
}

static const struct kernel_param_ops keel_send_ipi_ops = {
	.set = keel_send_ipi_set,
};
module_param_cb(send_ipi, &keel_send_ipi_ops, NULL, 0200);
MODULE_PARM_DESC(send_ipi, "debug: \"APICID VECTOR\", \"APICID init\" or \"APICID sipi VECTOR\" sends one IPI from dom0's LAPIC");

/*
 * /sys/module/keel/parameters/wrmsr (root, write only): a debugging aid
 * for the isolation tests. "MSR VALUE" (both in hex) writes VALUE to MSR
 * on dom0's CPU with wrmsrl_safe and logs the result (and what the MSR
 * reads back, where it can be read), as a misbehaving
 * dom0 kernel could; the hypervisor decides what the write does (boot
 * test keel_serial_dom0_msr_policy).
 */
static int keel_wrmsr_set(const char *val, const struct kernel_param *kp)
{
	unsigned int msr;
	unsigned long long v;
	u64 back;
	int err;

	if (sscanf(val, "%x %llx", &msr, &v) != 2)
		return -EINVAL;
	err = wrmsrl_safe(msr, v);
	if (err || rdmsrl_safe(msr, &back))
		pr_warn("wrmsr %#x <- %#llx: %s (wrmsr)\n", msr, v, err ? "#GP" : "done");
	else
		pr_warn("wrmsr %#x <- %#llx: done, reads back %#llx (wrmsr)\n", msr, v, back);
	return 0;
}

static const struct kernel_param_ops keel_wrmsr_ops = {
	.set = keel_wrmsr_set,
};
module_param_cb(wrmsr, &keel_wrmsr_ops, NULL, 0200);
MODULE_PARM_DESC(wrmsr, "debug: \"MSR VALUE\" (hex) writes an MSR on dom0's CPU");

/* Module entry: detect Keel, check the ABI, register /dev/keel. */
static int __init keel_init(void)
{
	int err;

	if (!keel_cpuid_is_keel()) {
		pr_info("not running on the Keel hypervisor\n");
		return -ENODEV;
	}
	keel_use_vmmcall = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
			   boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	err = keel_abi_check();
	if (err)
		return err;
	err = misc_register(&keel_dev);
	if (err) {
		pr_err("cannot register /dev/keel (%d)\n", err);
		return err;
	}
	/* Without the network the toolstack still works: only warn. */
	if (keel_net_init())
		pr_warn("no keel0 interface: dom0 is not on the guests' switch\n");
	/* Pinned: the hypervisor watches the CPU the first beat came from. */
	timer_setup(&keel_heartbeat_timer, keel_heartbeat, TIMER_PINNED);
	keel_heartbeat(&keel_heartbeat_timer);
	return 0;
}

/* Module exit: remove keel0 and /dev/keel. */
static void __exit keel_exit(void)
{
	WRITE_ONCE(keel_heartbeat_stop, true);
	del_timer_sync(&keel_heartbeat_timer);
	keel_net_exit();
	misc_deregister(&keel_dev);
}

module_init(keel_init);
module_exit(keel_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Keel project");
MODULE_DESCRIPTION("Keel hypervisor dom0 interface (/dev/keel, keel0)");
