/*
 * Guest vCPUs on the minimal virtual PC. Before each entry the vLAPIC's
 * timers are brought up to date and its highest pending interrupt is
 * injected, or an interrupt window requested. Exits for port I/O go to
 * the 16550 UART, the PCI host bridge and a few fixed legacy answers; MMIO
 * exits fetch and decode the faulting instruction and go to the vLAPIC or
 * the IOAPIC. Interrupts flow UART -> IOAPIC pin 4 -> vLAPIC, IPIs vLAPIC
 * -> vLAPIC. Everything a domain's devices share is under the domain's
 * lock; CPUs hosting other vCPUs of the domain are kicked after it.
 */
#include <keel/guest.h>
#include <keel/domain.h>
#include <keel/exit.h>
#include <keel/virt.h>
#include <keel/sched.h>
#include <keel/arch.h>
#include <keel/decode.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/guest_walk.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <asm/x86.h>
#include <public/keel_abi.h>

#define PORT_PIC1 0x20
#define PORT_PIC1_DATA 0x21
#define PORT_PIC2 0xA0
#define PORT_PIC2_DATA 0xA1
#define PORT_PIT_FIRST 0x40
#define PORT_PIT_LAST 0x43
#define PORT_KBC_DATA 0x60
#define PORT_SYS_B 0x61
#define PORT_KBC_STATUS 0x64
#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA 0x71
#define PORT_POST 0x80
#define PORT_FAST_A20 0x92
#define PORT_RESET_CF9 0xCF9
#define PORT_COM1 0x3F8
#define PORT_COM1_LAST 0x3FF
#define KBC_CMD_RESET 0xFE
#define MSR_TSC 0x10u
#define MSR_SPEC_CTRL 0x48u
#define MSR_PRED_CMD 0x49u
#define PRED_CMD_IBPB 1ull
#define MSR_UCODE_REV 0x8Bu
#define MSR_TSC_AUX 0xC0000103u
#define MSR_AMD_NB_CFG 0xC001001Fu
#define MSR_AMD_INT_PENDING 0xC0010055u /* read by Linux's AMD E400 check: 0 = no C1E */
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_BSP (1ull << 8)
#define VECTOR_GP 13
#define MSR_WARN_LIMIT 16
#define IPI_SELF 1
#define IPI_ALL 2
#define IPI_ALL_BUT_SELF 3
#define IPI_DELIVERY_NMI 4
#define IPI_DELIVERY_INIT 5
#define IPI_DELIVERY_SIPI 6
#define IPI_DELIVERY_LOWEST 1

static struct vlapic *lapic_of(struct vcpu *v)
{
	return v->lapic;
}

/* ---- interrupt routing (d->lock held; *kick collects vCPUs to kick) ---- */

static void deliver_to(struct vcpu *t, uint8_t vector, uint8_t delivery, bool level,
		       uint32_t *kick)
{
	if (delivery == IPI_DELIVERY_NMI)
		return; /* guest NMIs are not modelled yet */
	vlapic_accept(lapic_of(t), vector, level);
	*kick |= 1u << t->id;
}

static void route_msg(struct domain *d, const struct irq_msg *m, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		if (!vlapic_match_dest(&d->lapics[i], m->dest, m->logical))
			continue;
		deliver_to(&d->vcpus[i], m->vector, m->delivery, m->level, kick);
		if (m->delivery == IPI_DELIVERY_LOWEST)
			break;
	}
}

/* Deliver an MSI/MSI-X message (PCI 3.0, 6.8.1; Intel SDM vol. 3A 10.11):
 * destination APIC id in address bits 19:12, logical if bit 2; vector and
 * delivery mode in data bits 7:0 and 10:8. d->lock held. */
void guest_deliver_msi(struct domain *d, uint64_t address, uint32_t data, uint32_t *kick)
{
	struct irq_msg m = {
		.vector = (uint8_t)data,
		.delivery = (uint8_t)((data >> 8) & 7),
		.logical = (address >> 2) & 1,
		.dest = (uint32_t)((address >> 12) & 0xFF),
		.level = false,
	};

	route_msg(d, &m, kick);
}

static void route_ioapic_out(struct domain *d, const struct vioapic_out *out, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < out->n; i++)
		route_msg(d, &out->msgs[i], kick);
}

static void uart_irq_update(struct domain *d, uint32_t *kick)
{
	struct vioapic_out out = { 0 };

	vioapic_set_irq(&d->ioapic, GUEST_UART_IRQ, ns16550_irq_level(&d->uart), &out);
	route_ioapic_out(d, &out, kick);
}

static void ipi_one(struct vcpu *t, const struct vlapic_ipi *ipi, uint32_t *kick)
{
	if (ipi->delivery == IPI_DELIVERY_INIT) {
		/* Order matters: an INIT cancels SIPIs sent before it, not the
		 * ones that follow it before the target CPU gets to look. */
		if (ipi->level_assert) {
			t->init_pending = true;
			t->sipi_pending = false;
		}
	} else if (ipi->delivery == IPI_DELIVERY_SIPI) {
		t->sipi_vector = ipi->vector;
		t->sipi_pending = true;
	} else {
		deliver_to(t, ipi->vector, ipi->delivery, false, kick);
		return;
	}
	*kick |= 1u << t->id;
}

static void route_ipi(struct vcpu *src, const struct vlapic_ipi *ipi, uint32_t *kick)
{
	struct domain *d = src->dom;
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = &d->vcpus[i];
		bool hit;

		switch (ipi->shorthand) {
		case IPI_SELF: hit = t == src; break;
		case IPI_ALL: hit = true; break;
		case IPI_ALL_BUT_SELF: hit = t != src; break;
		default: hit = vlapic_match_dest(&d->lapics[i], ipi->dest, ipi->logical); break;
		}
		if (hit)
			ipi_one(t, ipi, kick);
	}
}

static void kick_vcpus(struct domain *d, uint32_t kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++)
		if (kick & (1u << i))
			sched_kick(&d->vcpus[i]);
}

static void sci_update(struct domain *d, uint32_t *kick)
{
	struct vioapic_out out = { 0 };

	vioapic_set_irq(&d->ioapic, GUEST_SCI_IRQ, acpi_pm_sci_level(&d->pm), &out);
	route_ioapic_out(d, &out, kick);
}

/* Press a fixed-feature ACPI button of d (ACPI_PM1_PWRBTN_STS or
 * ACPI_PM1_SLPBTN_STS): sets its status bit and raises the SCI. */
void guest_press_button(struct domain *d, uint16_t status_bit)
{
	uint32_t kick = 0;

	spin_lock(&d->lock);
	acpi_pm_press(&d->pm, status_bit);
	sci_update(d, &kick);
	spin_unlock(&d->lock);
	kick_vcpus(d, kick);
}

/* ---- console ---- */

static void uart_tx(void *ctx, uint8_t c)
{
	domain_console_put(ctx, c);
}

/* Queue console input for d's UART. Returns the bytes accepted. */
uint32_t guest_console_input(struct domain *d, const uint8_t *buf, uint32_t n)
{
	uint32_t kick = 0, took;

	spin_lock(&d->lock);
	took = ns16550_rx_push(&d->uart, buf, n);
	uart_irq_update(d, &kick);
	spin_unlock(&d->lock);
	kick_vcpus(d, kick);
	return took;
}

/* ---- port I/O ---- */

static uint32_t io_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	uint32_t v;

	if (port >= PORT_COM1 && port <= PORT_COM1_LAST) {
		v = ns16550_read(&d->uart, port - PORT_COM1);
		uart_irq_update(d, kick);
		return v;
	}
	if (pci_host_handles(port))
		return pci_host_read(&d->pci, port, size);
	if (blkdev_io(d, port, size, true, &v, kick) ||
	    netdev_io(d, port, size, true, &v, kick))
		return v;
	if (port >= GUEST_PM_IO_BASE && port < GUEST_PM_IO_BASE + GUEST_PM_IO_BYTES)
		return acpi_pm_read(&d->pm, port - GUEST_PM_IO_BASE, size);
	switch (port) {
	case PORT_PIT_FIRST ... PORT_PIT_LAST:
	case PORT_SYS_B:
	case PORT_KBC_DATA:
		return 0;
	case PORT_RTC_INDEX:
	case PORT_RTC_DATA:
		return mc146818_read(&d->rtc, port - PORT_RTC_INDEX, time_wall_s());
	default:
		return 0xFFFFFFFFu; /* nothing there; also the "no PIC" answer */
	}
}

static void io_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		     uint32_t *kick)
{
	if (port >= PORT_COM1 && port <= PORT_COM1_LAST) {
		ns16550_write(&d->uart, port - PORT_COM1, (uint8_t)val, uart_tx, d);
		uart_irq_update(d, kick);
	} else if ((port == PORT_KBC_STATUS && (uint8_t)val == KBC_CMD_RESET) ||
		   (port == PORT_RESET_CF9 && size == 1 && (val & 0x04)) ||
		   (port == PORT_FAST_A20 && (val & 0x01))) {
		domain_shutdown(d, KEEL_SHUTDOWN_REBOOT);
	} else if (port == PORT_RTC_INDEX || port == PORT_RTC_DATA) {
		mc146818_write(&d->rtc, port - PORT_RTC_INDEX, (uint8_t)val, time_wall_s());
	} else if (pci_host_handles(port)) {
		pci_host_write(&d->pci, port, size, val);
		blkdev_drain(d, kick); /* MSI-X enable/unmask in config space */
		netdev_drain(d, kick);
	} else if (blkdev_io(d, port, size, false, &val, kick) ||
		   netdev_io(d, port, size, false, &val, kick)) {
		/* served */
	} else if (port >= GUEST_PM_IO_BASE && port < GUEST_PM_IO_BASE + GUEST_PM_IO_BYTES) {
		if (acpi_pm_write(&d->pm, port - GUEST_PM_IO_BASE, size, val) == ACPI_PM_SLEEP_S5)
			domain_shutdown(d, KEEL_SHUTDOWN_POWEROFF);
		sci_update(d, kick);
	}
}

/* Handle a port I/O exit of guest vCPU v. */
void guest_io(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;
	uint32_t mask = e->io_size == 4 ? 0xFFFFFFFFu : (1u << (e->io_size * 8)) - 1;
	uint32_t kick = 0, val;

	spin_lock(&d->lock);
	if (e->io_in) {
		val = io_read(d, e->port, e->io_size, &kick) & mask;
		if (e->io_size == 4)
			v->regs.rax = val;
		else
			v->regs.rax = (v->regs.rax & ~(uint64_t)mask) | val;
	} else {
		io_write(d, e->port, e->io_size, (uint32_t)v->regs.rax & mask, &kick);
	}
	spin_unlock(&d->lock);
	kick_vcpus(d, kick);
	netdev_flush_wakeups(d);
	v->regs.rip += e->insn_len;
}

/* ---- MMIO ---- */

static int mmio_fetch_decode(struct vcpu *v, struct mmio_insn *in, enum cpu_mode *mode)
{
	uint8_t code[DECODE_MAX_INSN_LEN] = { 0 };
	uint32_t got = 0;
	uint64_t rip;
	int rc;

	rc = domain_fetch_insn(v, code, &got, mode, &rip);
	if (rc == 0)
		rc = decode_mmio(code, got, *mode, in);
	if (rc)
		log_err("domain %u: cannot decode the MMIO instruction at %#llx: %02x %02x %02x %02x %02x %02x (error %d)\n",
			v->dom->id, (unsigned long long)rip, code[0], code[1], code[2],
			code[3], code[4], code[5], rc);
	return rc;
}

static uint64_t mmio_read(struct vcpu *v, uint64_t gpa, uint32_t *kick)
{
	struct domain *d = v->dom;
	uint64_t val;

	if (pvpanic_mmio_hit(&d->pvpanic, gpa))
		return pvpanic_mmio_read(&d->pvpanic);
	if (blkdev_mmio(d, gpa, 4, false, &val, kick) ||
	    netdev_mmio(d, gpa, 4, false, &val, kick))
		return val;
	if ((gpa & ~0xFFFull) == GUEST_LAPIC_PA)
		return vlapic_read(lapic_of(v), (uint32_t)(gpa & 0xFF0), rdtsc());
	if ((gpa & ~0xFFFull) == GUEST_IOAPIC_PA)
		return vioapic_read(&d->ioapic, (uint32_t)(gpa & 0xFF));
	return ~0ull;
}

/* Returns true if the write reported a guest kernel panic. */
static bool mmio_write(struct vcpu *v, uint64_t gpa, uint64_t val, uint32_t *kick)
{
	struct domain *d = v->dom;

	if (pvpanic_mmio_hit(&d->pvpanic, gpa))
		return pvpanic_mmio_write(&d->pvpanic, (uint8_t)val);
	if (blkdev_mmio(d, gpa, 4, true, &val, kick) ||
	    netdev_mmio(d, gpa, 4, true, &val, kick))
		return false;
	if ((gpa & ~0xFFFull) == GUEST_LAPIC_PA) {
		struct vlapic_effects fx;

		memset(&fx, 0, sizeof(fx));
		fx.eoi_level_vector = -1;
		vlapic_write(lapic_of(v), (uint32_t)(gpa & 0xFF0), (uint32_t)val, rdtsc(), &fx);
		if (fx.ipi.valid)
			route_ipi(v, &fx.ipi, kick);
		if (fx.eoi_level_vector >= 0) {
			struct vioapic_out out = { 0 };

			vioapic_eoi(&d->ioapic, (uint8_t)fx.eoi_level_vector, &out);
			route_ioapic_out(d, &out, kick);
		}
	} else if ((gpa & ~0xFFFull) == GUEST_IOAPIC_PA) {
		struct vioapic_out out = { 0 };

		vioapic_write(&d->ioapic, (uint32_t)(gpa & 0xFF), (uint32_t)val, &out);
		route_ioapic_out(d, &out, kick);
	}
	return false;
}

/* A read-modify-write (with or without LOCK: the domain's lock, held here,
 * makes it atomic for the guest's other vCPUs): read, compute, write back
 * unless the operation only compares. Returns true on a pvpanic report. */
static bool mmio_rmw(struct vcpu *v, uint64_t gpa, const struct mmio_insn *in,
		     enum cpu_mode mode, uint32_t *kick)
{
	uint64_t nw = 0;

	if (mmio_rmw_apply(&v->regs, in, mode, mmio_read(v, gpa, kick), &nw))
		return mmio_write(v, gpa, nw, kick);
	return false;
}

/* A 16- or 32-byte vector move (SSE or AVX) between an XMM or YMM
 * register (live in the CPU: v runs here) and the device, as 4-byte
 * accesses in ascending order. Returns true on a pvpanic report. */
static bool mmio_vec(struct vcpu *v, uint64_t gpa, const struct mmio_insn *in, uint32_t *kick)
{
	uint8_t buf[32];
	uint32_t i, w, words = in->size / 4;
	bool panicked = false;

	if (in->kind == MMIO_LOAD) {
		for (i = 0; i < words; i++) {
			w = (uint32_t)mmio_read(v, gpa + 4 * i, kick);
			memcpy(buf + 4 * i, &w, 4);
		}
		arch_vec_write(in->reg, buf, in->size, in->vex);
		return false;
	}
	arch_vec_read(in->reg, buf, in->size);
	for (i = 0; i < words; i++) {
		memcpy(&w, buf + 4 * i, 4);
		panicked |= mmio_write(v, gpa + 4 * i, w, kick);
	}
	return panicked;
}

/* Emulate the MMIO access that caused nested page fault e. 0, or -errno
 * if the address is guest RAM (a hypervisor bug) or the instruction cannot
 * be decoded (the caller ends the domain). */
int guest_mmio(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;
	struct mmio_insn in;
	enum cpu_mode mode;
	uint32_t kick = 0;
	bool panicked = false;
	int rc;

	if (memmap_contains(d->ram, d->nr_ram, e->gpa, 1))
		return -EFAULT;
	rc = mmio_fetch_decode(v, &in, &mode);
	if (rc)
		return rc;
	spin_lock(&d->lock);
	if (in.vec)
		panicked = mmio_vec(v, e->gpa, &in, &kick);
	else if (in.kind == MMIO_RMW)
		panicked = mmio_rmw(v, e->gpa, &in, mode, &kick);
	else if (in.kind == MMIO_STORE)
		panicked = mmio_write(v, e->gpa, mmio_store_value(&v->regs, &in), &kick);
	else
		mmio_load_complete(&v->regs, &in, mode, mmio_read(v, e->gpa, &kick));
	spin_unlock(&d->lock);
	kick_vcpus(d, kick);
	netdev_flush_wakeups(d);
	v->regs.rip += in.len;
	if (panicked)
		domain_crash(v, "its kernel panicked (reported through pvpanic)");
	return 0;
}

/* ---- Cache instructions ---- */

/* INVD (which would discard every domain's dirty cache lines) and WBINVD
 * exit. A guest's memory is ordinary write-back RAM and its devices are
 * emulated, so neither has anything to do for it: both complete as a
 * no-op, the way KVM and Xen treat WBINVD without non-coherent DMA (and
 * INVD as WBINVD). The instruction is read to tell them apart and to
 * measure it (QEMU 7.2 reports INVD as WBINVD; without NRIPS a prefix is
 * not counted); the first INVD of a domain is logged. */
void guest_cache_flush(struct vcpu *v, const struct vm_exit *e)
{
	uint8_t code[DECODE_MAX_INSN_LEN] = { 0 }, op2 = 0;
	uint32_t len = 0, got = 0;
	bool invd = e->cache_invd;
	enum cpu_mode mode;
	uint64_t rip;

	if (domain_fetch_insn(v, code, &got, &mode, &rip) == 0)
		len = decode_prefixed_0f(code, got, mode, &op2);
	if (len)
		invd = op2 == 0x08;
	else
		len = e->insn_len;
	if (!len) {
		domain_crash(v, "cannot read its WBINVD instruction");
		return;
	}
	if (invd && !__atomic_exchange_n(&v->dom->invd_logged, true, __ATOMIC_RELAXED))
		log_warn("domain %u (%s) ran INVD: done as WBINVD, which a guest needs not "
			 "(INVD would throw away other domains' cached writes)\n",
			 v->dom->id, v->dom->name);
	v->regs.rip += len;
}

/* ---- HLT and power-off ---- */

static bool all_vcpus_off(struct domain *d)
{
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].state == VCPU_RUNNABLE || d->vcpus[i].state == VCPU_HALTED)
			return false;
	return true;
}

/* HLT: wait for an interrupt; with interrupts off, the vCPU is off for
 * good, and when all are, the guest has powered off. */
void guest_hlt(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;

	v->regs.rip += e->insn_len;
	spin_lock(&d->lock);
	if (virt->vcpu_if_set(v)) {
		v->state = VCPU_HALTED;
	} else {
		v->state = VCPU_OFF;
		if (all_vcpus_off(d))
			domain_shutdown(d, KEEL_SHUTDOWN_POWEROFF);
	}
	spin_unlock(&d->lock);
}

/* ---- MSRs ---- */

static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_APIC_BASE:
		*val = GUEST_LAPIC_PA | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
		return true;
	case MSR_TSC_DEADLINE:
		*val = vlapic_tsc_deadline_read(lapic_of(v));
		return true;
	case MSR_TSC:
		*val = rdtsc();
		return true;
	case MSR_SPEC_CTRL:
		*val = v->spec_ctrl;
		return arch_spec_ctrl_bits() != 0;
	case MSR_TSC_AUX:
		*val = v->tsc_aux;
		return true;
	case MSR_UCODE_REV:
	case MSR_AMD_NB_CFG:
	case MSR_AMD_INT_PENDING:
		*val = 0;
		return true;
	default:
		return false;
	}
}

static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_APIC_BASE:
	case MSR_TSC:
	case MSR_UCODE_REV:
	case MSR_AMD_NB_CFG:
		return true; /* accepted and ignored */
	case MSR_TSC_DEADLINE:
		vlapic_tsc_deadline_write(lapic_of(v), val, rdtsc());
		return true;
	case MSR_SPEC_CTRL: /* loaded around each entry (guest_run) */
		if (!arch_spec_ctrl_bits() || (val & ~arch_spec_ctrl_bits()))
			return false;
		v->spec_ctrl = val;
		return true;
	case MSR_PRED_CMD:
		if (!arch_has_ibpb() || (val & ~PRED_CMD_IBPB))
			return false;
		if (val)
			arch_ibpb();
		return true;
	case MSR_TSC_AUX: /* bits 63:32 are reserved (AMD APM vol. 2, 13.2.4) */
		if (val >> 32)
			return false;
		v->tsc_aux = val;
		return true;
	default:
		return false;
	}
}

/* Handle an RDMSR/WRMSR exit of guest vCPU v: the few MSRs of the virtual
 * PC are emulated; any other raises #GP as on hardware without it. */
void guest_msr(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	bool ok;

	spin_lock(&d->lock);
	if (e->reason == VM_EXIT_MSR_READ) {
		ok = msr_read(v, e->msr, &val);
		if (ok) {
			v->regs.rax = (uint32_t)val;
			v->regs.rdx = val >> 32;
		}
	} else {
		ok = msr_write(v, e->msr, val);
	}
	spin_unlock(&d->lock);
	if (ok) {
		v->regs.rip += e->insn_len;
		return;
	}
	if (d->msr_warnings++ < MSR_WARN_LIMIT)
		log_debug("domain %u: %s of unknown MSR %#x: #GP\n", d->id,
			  e->reason == VM_EXIT_MSR_READ ? "read" : "write", e->msr);
	virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
}

/* ---- scheduling hooks ---- */

static void vcpu_sipi_init(struct vcpu *v)
{
	if (v->init_pending) {
		v->init_pending = false;
		v->state = VCPU_WAIT_SIPI;
		vlapic_init(lapic_of(v), vlapic_apic_id(lapic_of(v)), time_tsc_khz());
	}
	if (v->sipi_pending && v->state == VCPU_WAIT_SIPI) {
		struct vcpu_entry_state st = { .real_mode = true, .sipi_vector = v->sipi_vector };

		v->sipi_pending = false;
		virt->vcpu_reset(v, &st);
		v->state = VCPU_RUNNABLE;
	}
}

/* Can v run now? Updates its timers, INIT/SIPI and HLT wake-up first.
 * Called by v's home CPU only. */
bool guest_vcpu_ready(struct vcpu *v, uint64_t now_tsc)
{
	struct domain *d = v->dom;
	uint32_t kick = 0;
	bool ready;

	if (d->state != DOM_ACTIVE || d->paused)
		return false;
	spin_lock(&d->lock);
	vcpu_sipi_init(v);
	if (d->net_pending)
		netdev_poll(d, &kick);
	vlapic_timer_update(lapic_of(v), now_tsc);
	if (v->state == VCPU_HALTED && vlapic_pending(lapic_of(v)) >= 0)
		v->state = VCPU_RUNNABLE;
	ready = v->state == VCPU_RUNNABLE;
	spin_unlock(&d->lock);
	kick_vcpus(d, kick & ~(1u << v->id));
	netdev_flush_wakeups(d);
	return ready;
}

/* TSC of v's next timer event, or 0 if none is armed. */
uint64_t guest_vcpu_next_timer(struct vcpu *v)
{
	struct domain *d = v->dom;
	uint64_t t;

	spin_lock(&d->lock);
	t = vlapic_timer_next(lapic_of(v));
	spin_unlock(&d->lock);
	return t;
}

/* Inject the highest pending interrupt, or ask for a window. False if v
 * cannot run any more (halted, paused, domain stopped). */
static bool guest_prepare_entry(struct vcpu *v, uint64_t now, uint64_t *timer)
{
	struct domain *d = v->dom;
	uint32_t kick = 0;
	int vec;

	if (d->state != DOM_ACTIVE || d->paused || v->state != VCPU_RUNNABLE)
		return false;
	spin_lock(&d->lock);
	if (d->net_pending)
		netdev_poll(d, &kick);
	vlapic_timer_update(lapic_of(v), now);
	vec = vlapic_pending(lapic_of(v));
	if (vec >= 0 && virt->vcpu_interruptible(v)) {
		vlapic_ack(lapic_of(v), (uint8_t)vec);
		virt->vcpu_inject_irq(v, (uint8_t)vec);
		vec = vlapic_pending(lapic_of(v));
	}
	virt->vcpu_request_irq_window(v, vec >= 0);
	*timer = vlapic_timer_next(lapic_of(v));
	spin_unlock(&d->lock);
	kick_vcpus(d, kick & ~(1u << v->id));
	netdev_flush_wakeups(d);
	return true;
}

/* Run v until slice_end_tsc or until it cannot run. */
void guest_run(struct vcpu *v, uint64_t slice_end_tsc)
{
	struct vm_exit e;
	uint64_t t0, timer;

	for (;;) {
		arch_tsc_aux_load(v->tsc_aux);
		t0 = rdtsc();
		if (t0 >= slice_end_tsc || !guest_prepare_entry(v, t0, &timer))
			return;
		arch_timer_arm((timer && timer < slice_end_tsc) ? timer : slice_end_tsc);
		arch_spec_ctrl_enter(v->spec_ctrl);
		virt->vcpu_run(v, &e);
		arch_spec_ctrl_exit(v->spec_ctrl);
		v->time_ns += (rdtsc() - t0) * 1000000ull / time_tsc_khz();
		if (e.reason == VM_EXIT_INTR)
			arch_irq_window();
		vcpu_handle_exit(v, &e);
	}
}
