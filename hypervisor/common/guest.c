/*
 * The guest kind of domain (guest_ops) and its minimal virtual PC. Before
 * each entry the vLAPIC's timers are brought up to date and its highest
 * pending interrupt is injected, or an interrupt window requested. Port
 * I/O exits are dispatched through a table of port ranges (io_ranges: the
 * 16550 UART, the RTC, ACPI PM, the PCI host bridge and a few fixed legacy
 * answers), then to the virtio functions' BARs (vpci.c); MMIO exits fetch
 * and decode the faulting instruction and go to pvpanic, the virtio BARs
 * or a table of fixed pages (the vLAPIC, the IOAPIC). Interrupts are
 * routed by irq_route.c. Everything a domain's devices share is under the
 * domain's lock; CPUs hosting other vCPUs of the domain are kicked after
 * it.
 */
#include <keel/guest.h>
#include <keel/domain.h>
#include <keel/vpc.h>
#include <keel/balloon.h>
#include <keel/cow.h>
#include <keel/dirty.h>
#include <keel/tsc_offset.h>
#include <keel/decode.h>
#include <keel/virt.h>
#include <keel/irq_route.h>
#include <keel/vpci.h>
#include <keel/arch.h>
#include <keel/blkdev.h>
#include <keel/netdev.h>
#include <keel/cpuid_policy.h>
#include <keel/cpuid_seen.h>
#include <keel/hv.h>
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
#define MSR_MISC_ENABLE 0x1A0u /* read without a fault handler by Linux's verify_cpu on Intel */
#define MISC_ENABLE_GUEST ((1ull << 11) | (1ull << 12)) /* BTS and PEBS unavailable (SDM vol. 4, 2.1) */
#define MSR_TSC_AUX 0xC0000103u
#define MSR_AMD_NB_CFG 0xC001001Fu
#define MSR_AMD_INT_PENDING 0xC0010055u /* read by Linux's AMD E400 check: 0 = no C1E */
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_BSP (1ull << 8)
#define VECTOR_GP 13
#define MSR_WARN_LIMIT 16

static struct vlapic *lapic_of(struct vcpu *v)
{
	return v->lapic;
}

/* ---- interrupt lines of the virtual PC (d->lock held) ---- */

static void uart_irq_update(struct domain *d, uint32_t *kick)
{
	irq_route_pin(d, GUEST_UART_IRQ, ns16550_irq_level(&d->pc->uart), kick);
}

/* The SCI: the PM1 block's events or the GPE0 block's (CPU hotplug). */
static void sci_update(struct domain *d, uint32_t *kick)
{
	irq_route_pin(d, GUEST_SCI_IRQ,
		      acpi_pm_sci_level(&d->pc->pm) || acpi_cpuhp_sci_level(&d->pc->cpuhp), kick);
}

/* Press a fixed-feature ACPI button of d (ACPI_PM1_PWRBTN_STS or
 * ACPI_PM1_SLPBTN_STS): sets its status bit and raises the SCI. */
void guest_press_button(struct domain *d, uint16_t status_bit)
{
	uint32_t kick = 0;

	spin_lock(&d->lock);
	acpi_pm_press(&d->pc->pm, status_bit);
	sci_update(d, &kick);
	spin_unlock(&d->lock);
	irq_kick(d, kick);
}

/* Change d's present vCPUs; see guest.h. */
int guest_vcpu_set(struct domain *d, uint32_t nr, uint32_t *present)
{
	uint32_t kick = 0;
	int rc;

	spin_lock(&d->lock);
	rc = acpi_cpuhp_set(&d->pc->cpuhp, nr);
	*present = acpi_cpuhp_nr_present(&d->pc->cpuhp);
	sci_update(d, &kick);
	spin_unlock(&d->lock);
	irq_kick(d, kick);
	return rc;
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
	took = ns16550_rx_push(&d->pc->uart, buf, n);
	uart_irq_update(d, &kick);
	spin_unlock(&d->lock);
	irq_kick(d, kick);
	return took;
}

/* ---- port I/O ---- */

/* ---- ports: a table of ranges (d->lock held) ---- */

/* One range of ports of the virtual PC and its device's handlers: a read
 * of size bytes returns the value, a write gets it; *kick collects the
 * vCPUs to kick. */
struct io_range {
	uint16_t first, last;
	uint32_t (*read)(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick);
	void (*write)(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		      uint32_t *kick);
};

#define IO_NOTHING 0xFFFFFFFFu /* what a port with nothing behind it reads */

static uint32_t io_read_zero(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)d, (void)port, (void)size, (void)kick;
	return 0;
}

static uint32_t io_read_nothing(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)d, (void)port, (void)size, (void)kick;
	return IO_NOTHING;
}

static void io_write_ignore(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
			    uint32_t *kick)
{
	(void)d, (void)port, (void)size, (void)val, (void)kick;
}

/* The reset lines a PC has: the keyboard controller's pulse command,
 * the reset control register at 0xCF9 (byte writes with bit 2) and the
 * fast-A20 port's INIT bit. True if val on port resets the machine. */
static bool io_is_reset(uint16_t port, uint8_t size, uint32_t val)
{
	return (port == PORT_KBC_STATUS && (uint8_t)val == KBC_CMD_RESET) ||
	       (port == PORT_RESET_CF9 && size == 1 && (val & 0x04)) ||
	       (port == PORT_FAST_A20 && (val & 0x01));
}

static void reset_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
			uint32_t *kick)
{
	(void)kick;
	if (io_is_reset(port, size, val))
		domain_shutdown(d, KEEL_SHUTDOWN_REBOOT);
}

static uint32_t rtc_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)size, (void)kick;
	return mc146818_read(&d->pc->rtc, port - PORT_RTC_INDEX, time_wall_s());
}

static void rtc_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		      uint32_t *kick)
{
	(void)size, (void)kick;
	mc146818_write(&d->pc->rtc, port - PORT_RTC_INDEX, (uint8_t)val, time_wall_s());
}

/* PIT channel 2 and port B, counted against the TSC the guest reads
 * (guests run on the host's TSC). */
static uint32_t pit_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)size, (void)kick;
	return i8254_read(&d->pc->pit, port, rdtsc(), time_tsc_khz());
}

static void pit_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		      uint32_t *kick)
{
	(void)size, (void)kick;
	i8254_write(&d->pc->pit, port, (uint8_t)val, rdtsc(), time_tsc_khz());
}

static uint32_t uart_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	uint32_t v = ns16550_read(&d->pc->uart, port - PORT_COM1);

	(void)size;
	uart_irq_update(d, kick);
	return v;
}

static void uart_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		       uint32_t *kick)
{
	(void)size;
	ns16550_write(&d->pc->uart, port - PORT_COM1, (uint8_t)val, uart_tx, d);
	uart_irq_update(d, kick);
}

static uint32_t pm_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)kick;
	return acpi_pm_read(&d->pc->pm, port - GUEST_PM_IO_BASE, size);
}

static void pm_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		     uint32_t *kick)
{
	if (acpi_pm_write(&d->pc->pm, port - GUEST_PM_IO_BASE, size, val) == ACPI_PM_SLEEP_S5)
		domain_shutdown(d, KEEL_SHUTDOWN_POWEROFF);
	sci_update(d, kick);
}

static uint32_t gpe_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)kick;
	return acpi_cpuhp_gpe_read(&d->pc->cpuhp, port - GUEST_GPE0_IO_BASE, size);
}

static void gpe_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		      uint32_t *kick)
{
	acpi_cpuhp_gpe_write(&d->pc->cpuhp, port - GUEST_GPE0_IO_BASE, size, val);
	sci_update(d, kick);
}

static uint32_t cpuhp_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)kick;
	return acpi_cpuhp_read(&d->pc->cpuhp, port - GUEST_CPUHP_IO_BASE, size);
}

/* The guest ejected vCPUs it took offline (_EJ0): each waits for an INIT
 * and a start-up IPI again, as a CPU put back in its socket would. */
static void cpuhp_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
			uint32_t *kick)
{
	uint32_t gone = acpi_cpuhp_write(&d->pc->cpuhp, port - GUEST_CPUHP_IO_BASE, size, val);
	uint32_t i;

	for (i = 1; i < d->nr_vcpus; i++) {
		if (!(gone & (1u << i)))
			continue;
		d->vcpus[i].init_pending = true;
		d->vcpus[i].sipi_pending = false;
		*kick |= 1u << i;
	}
}

static uint32_t pci_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	(void)kick;
	return pci_host_read(&d->pc->pci, port, size);
}

/* 0xCF9 is the reset control register inside the config ports' range. */
static void pci_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		      uint32_t *kick)
{
	if (io_is_reset(port, size, val)) {
		domain_shutdown(d, KEEL_SHUTDOWN_REBOOT);
		return;
	}
	pci_host_write(&d->pc->pci, port, size, val);
	vpci_drain(d, kick); /* MSI-X enable/unmask in config space */
}

/* The fixed ports of the virtual PC. Of the PIT only channel 2 counts
 * (devices/i8254.c: what software calibrating its clock uses; channels 0
 * and 1 read as 0); the keyboard controller's data port reads as 0; the
 * PICs are absent (all ones, Linux's "no PIC" answer), as is every other
 * port that no range or virtio BAR (vpci_io) claims. */
static const struct io_range io_ranges[] = {
	{ PORT_PIT_FIRST, PORT_PIT_LAST, pit_read, pit_write },
	{ PORT_KBC_DATA, PORT_KBC_DATA, io_read_zero, io_write_ignore },
	{ PORT_SYS_B, PORT_SYS_B, pit_read, pit_write },
	{ PORT_KBC_STATUS, PORT_KBC_STATUS, io_read_nothing, reset_write },
	{ PORT_RTC_INDEX, PORT_RTC_DATA, rtc_read, rtc_write },
	{ PORT_FAST_A20, PORT_FAST_A20, io_read_nothing, reset_write },
	{ PORT_COM1, PORT_COM1_LAST, uart_read, uart_write },
	{ GUEST_PM_IO_BASE, GUEST_PM_IO_BASE + GUEST_PM_IO_BYTES - 1, pm_read, pm_write },
	{ GUEST_GPE0_IO_BASE, GUEST_GPE0_IO_BASE + ACPI_GPE0_BLK_LEN - 1, gpe_read, gpe_write },
	{ GUEST_CPUHP_IO_BASE, GUEST_CPUHP_IO_BASE + ACPI_CPUHP_IO_BYTES - 1, cpuhp_read,
	  cpuhp_write },
	{ PCI_HOST_ADDR_PORT, PCI_HOST_LAST_PORT, pci_read, pci_write },
};

static const struct io_range *io_range_of(uint16_t port)
{
	uint32_t i;

	for (i = 0; i < ARRAY_SIZE(io_ranges); i++)
		if (port >= io_ranges[i].first && port <= io_ranges[i].last)
			return &io_ranges[i];
	return 0;
}

static uint32_t io_read(struct domain *d, uint16_t port, uint8_t size, uint32_t *kick)
{
	const struct io_range *r = io_range_of(port);
	uint32_t v;

	if (r)
		return r->read(d, port, size, kick);
	if (vpci_io(d, port, size, true, &v, kick))
		return v;
	return IO_NOTHING;
}

static void io_write(struct domain *d, uint16_t port, uint8_t size, uint32_t val,
		     uint32_t *kick)
{
	const struct io_range *r = io_range_of(port);

	if (r)
		r->write(d, port, size, val, kick);
	else
		vpci_io(d, port, size, false, &val, kick);
}

/* Handle a port I/O exit of guest vCPU v. */
static void guest_io(struct vcpu *v, const struct vm_exit *e)
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
	irq_kick(d, kick);
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

/* One page of fixed MMIO of the virtual PC and its device's handlers
 * (d->lock held): a 32-bit read returns the value, a write gets it. */
struct mmio_range {
	uint64_t page;
	uint64_t (*read)(struct vcpu *v, uint64_t gpa);
	void (*write)(struct vcpu *v, uint64_t gpa, uint32_t val, uint32_t *kick);
};

static uint64_t lapic_mmio_read(struct vcpu *v, uint64_t gpa)
{
	return vlapic_read(lapic_of(v), (uint32_t)(gpa & 0xFF0), rdtsc());
}

/* A vLAPIC write, with its effects: an IPI, or an EOI that the IOAPIC
 * sees for a level-triggered vector. */
static void lapic_mmio_write(struct vcpu *v, uint64_t gpa, uint32_t val, uint32_t *kick)
{
	struct vlapic_effects fx;

	memset(&fx, 0, sizeof(fx));
	fx.eoi_level_vector = -1;
	vlapic_write(lapic_of(v), (uint32_t)(gpa & 0xFF0), val, rdtsc(), &fx);
	if (fx.ipi.valid)
		irq_route_ipi(v, &fx.ipi, kick);
	if (fx.eoi_level_vector >= 0) {
		struct vioapic_out out = { 0 };

		vioapic_eoi(&v->dom->pc->ioapic, (uint8_t)fx.eoi_level_vector, &out);
		irq_route_ioapic_out(v->dom, &out, kick);
	}
}

static uint64_t ioapic_mmio_read(struct vcpu *v, uint64_t gpa)
{
	return vioapic_read(&v->dom->pc->ioapic, (uint32_t)(gpa & 0xFF));
}

static void ioapic_mmio_write(struct vcpu *v, uint64_t gpa, uint32_t val, uint32_t *kick)
{
	struct vioapic_out out = { 0 };

	vioapic_write(&v->dom->pc->ioapic, (uint32_t)(gpa & 0xFF), val, &out);
	irq_route_ioapic_out(v->dom, &out, kick);
}

/* The fixed MMIO pages. Devices whose BARs the guest places (pvpanic, the
 * virtio functions through vpci_mmio) are asked first. */
static const struct mmio_range mmio_ranges[] = {
	{ GUEST_LAPIC_PA, lapic_mmio_read, lapic_mmio_write },
	{ GUEST_IOAPIC_PA, ioapic_mmio_read, ioapic_mmio_write },
};

static const struct mmio_range *mmio_range_of(uint64_t gpa)
{
	uint32_t i;

	for (i = 0; i < ARRAY_SIZE(mmio_ranges); i++)
		if ((gpa & ~0xFFFull) == mmio_ranges[i].page)
			return &mmio_ranges[i];
	return 0;
}

static uint64_t mmio_read(struct vcpu *v, uint64_t gpa, uint32_t *kick)
{
	struct domain *d = v->dom;
	const struct mmio_range *r;
	uint64_t val;

	if (pvpanic_mmio_hit(&d->pc->pvpanic, gpa))
		return pvpanic_mmio_read(&d->pc->pvpanic);
	if (vpci_mmio(d, gpa, 4, false, &val, kick))
		return val;
	r = mmio_range_of(gpa);
	return r ? r->read(v, gpa) : ~0ull;
}

/* Returns true if the write reported a guest kernel panic. */
static bool mmio_write(struct vcpu *v, uint64_t gpa, uint64_t val, uint32_t *kick)
{
	struct domain *d = v->dom;
	const struct mmio_range *r;

	if (pvpanic_mmio_hit(&d->pc->pvpanic, gpa))
		return pvpanic_mmio_write(&d->pc->pvpanic, (uint8_t)val);
	if (vpci_mmio(d, gpa, 4, true, &val, kick))
		return false;
	r = mmio_range_of(gpa);
	if (r)
		r->write(v, gpa, (uint32_t)val, kick);
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

/* Emulate the MMIO access that caused nested page fault e. A fault inside
 * guest RAM is a write to a page the dirty page log protects (dirty_fault
 * marks it), to a chunk shared with a clone (cow_fault copies it) or a
 * chunk the guest's balloon returned (balloon_fault brings it back). 0, or -errno if that fails or the instruction cannot be
 * decoded (the caller ends the domain). */
static int guest_mmio(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;
	struct mmio_insn in;
	enum cpu_mode mode;
	uint32_t kick = 0;
	bool panicked = false;
	int rc;

	if (memmap_contains(d->ram, d->nr_ram, e->gpa, 1)) {
		rc = dirty_fault(v, e->gpa);
		if (rc == 1)
			rc = cow_fault(v, e->gpa);
		return rc == 1 ? balloon_fault(v, e->gpa) : rc;
	}
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
	irq_kick(d, kick);
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
static void guest_cache_flush(struct vcpu *v, const struct vm_exit *e)
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
static void guest_hlt(struct vcpu *v, const struct vm_exit *e)
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
		*val = tsc_host_to_guest(v->tsc_offset, vlapic_tsc_deadline_read(lapic_of(v)));
		return true;
	case MSR_TSC:
		*val = rdtsc() + v->tsc_offset;
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
	case MSR_MISC_ENABLE:
		*val = MISC_ENABLE_GUEST;
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
	case MSR_MISC_ENABLE:
		return true; /* accepted and ignored */
	case MSR_TSC_DEADLINE: {
		uint64_t now = rdtsc();

		vlapic_tsc_deadline_write(lapic_of(v), tsc_guest_to_host(v->tsc_offset, val, now),
					  now);
		return true;
	}
	case MSR_SPEC_CTRL: /* loaded around each entry (guest_enter, guest_exited) */
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
static void guest_msr(struct vcpu *v, const struct vm_exit *e)
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
static bool guest_vcpu_ready(struct vcpu *v, uint64_t now_tsc)
{
	struct domain *d = v->dom;
	uint32_t kick = 0;
	bool ready;

	if (d->state != DOM_ACTIVE || d->paused)
		return false;
	spin_lock(&d->lock);
	vcpu_sipi_init(v);
	if (d->pc->net_pending)
		netdev_poll(d, &kick);
	vlapic_timer_update(lapic_of(v), now_tsc);
	if (v->state == VCPU_HALTED && vlapic_pending(lapic_of(v)) >= 0)
		v->state = VCPU_RUNNABLE;
	ready = v->state == VCPU_RUNNABLE;
	spin_unlock(&d->lock);
	irq_kick(d, kick & ~(1u << v->id));
	netdev_flush_wakeups(d);
	return ready;
}

/* TSC of v's next timer event, or 0 if none is armed or v cannot run:
 * a paused or stopped domain's timer (perhaps long past, since ready()
 * does not fire it) must not wake its CPU, or the CPU would spin instead
 * of sleeping until the unpause kicks it. */
static uint64_t guest_vcpu_next_timer(struct vcpu *v)
{
	struct domain *d = v->dom;
	uint64_t t;

	if (d->state != DOM_ACTIVE || d->paused)
		return 0;
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
	if (d->pc->net_pending)
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
	irq_kick(d, kick & ~(1u << v->id));
	netdev_flush_wakeups(d);
	return true;
}

/* Before each entry of a guest vCPU (domain_ops.enter): its TSC_AUX,
 * interrupt injection, the CPU's timer for its next vLAPIC timer or the
 * end of its slice, and its SPEC_CTRL. False if v cannot run now. */
static bool guest_enter(struct vcpu *v, uint64_t now, uint64_t slice_end_tsc)
{
	uint64_t timer;

	arch_tsc_aux_load(v->tsc_aux);
	if (!guest_prepare_entry(v, now, &timer))
		return false;
	arch_timer_arm((timer && timer < slice_end_tsc) ? timer : slice_end_tsc);
	arch_spec_ctrl_enter(v->spec_ctrl);
	return true;
}

/* After each exit of a guest vCPU (domain_ops.exited): the host's
 * SPEC_CTRL back, v's guest-mode time, and a host interrupt taken. */
static void guest_exited(struct vcpu *v, const struct vm_exit *e, uint64_t entered_tsc)
{
	arch_spec_ctrl_exit(v->spec_ctrl);
	v->time_ns += (rdtsc() - entered_tsc) * 1000000ull / time_tsc_khz();
	if (e->reason == VM_EXIT_INTR)
		arch_irq_window();
}

/* A guest's CPUID: the virtual PC's CPU (cpuid_policy_guest), with no
 * feature it did not boot with (cpuid_seen_apply). */
static void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_out *o)
{
	struct vcpu_paging_state ps;

	virt->vcpu_paging_state(v, &ps);
	cpuid_policy_guest(leaf, sub, v->id, ps.cr4, KEEL_VERSION, o);
	cpuid_policy_tsc(leaf, time_tsc_khz_measured(), o);
	cpuid_seen_apply(v->dom->cpuid_seen, leaf, sub, o);
}

/*
 * What a guest booted on this machine is told for CPUID leaf/subleaf (a
 * cpuid_seen_source): the CPU's answer through the guest policy, for
 * vCPU 0 with CR4 clear (cpuid_seen leaves out the bits that follow).
 */
void guest_cpuid_here(uint32_t leaf, uint32_t subleaf, struct cpuid_out *o)
{
	struct cpuid_regs r;

	cpuid_count(leaf, subleaf, &r);
	o->eax = r.eax;
	o->ebx = r.ebx;
	o->ecx = r.ecx;
	o->edx = r.edx;
	cpuid_policy_guest(leaf, subleaf, 0, 0, KEEL_VERSION, o);
	cpuid_policy_tsc(leaf, time_tsc_khz_measured(), o);
}

/* Guests: isolated vCPUs on the virtual PC, sharing the pool CPUs. */
const struct domain_ops guest_ops = {
	.kind = "guest",
	.profile = VCPU_PROFILE_ISOLATED,
	.enter = guest_enter,
	.exited = guest_exited,
	.cpuid = guest_cpuid,
	.msr = guest_msr,
	.io = guest_io,
	.hlt = guest_hlt,
	.cache_flush = guest_cache_flush,
	.npf = guest_mmio,
	.ready = guest_vcpu_ready,
	.next_timer = guest_vcpu_next_timer,
	.crash = 0,
};
