/*
 * How a domain stops on its own: a crash (a fault the hypervisor cannot
 * handle for it: logged with its registers and last exits, then the
 * kind's crash hook, which for dom0 resets the machine), a power-off or
 * reboot request, and the ring its console output goes to. Called from
 * exits and device models; calls nothing of domain.c's life cycle.
 */
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <public/keel_abi.h>

/* Log v's last hardware exits, oldest first (backend codes and RIPs). */
void vcpu_dump_exit_history(const struct vcpu *v)
{
	uint32_t n = v->exit_hist_next < VCPU_EXIT_HISTORY ? v->exit_hist_next :
		     VCPU_EXIT_HISTORY;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct vcpu_exit_note *e =
			&v->exit_hist[(v->exit_hist_next - n + i) % VCPU_EXIT_HISTORY];

		log_err("  exit -%u: code %#llx at RIP %#llx\n", n - i,
			(unsigned long long)e->code, (unsigned long long)e->rip);
	}
}

/* Log v's general-purpose registers, for the backends' crash dumps. */
void vcpu_dump_gprs(const struct vcpu *v)
{
	log_err("  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		(unsigned long long)v->regs.rax, (unsigned long long)v->regs.rbx,
		(unsigned long long)v->regs.rcx, (unsigned long long)v->regs.rdx);
	log_err("  RSI %016llx RDI %016llx RBP %016llx\n",
		(unsigned long long)v->regs.rsi, (unsigned long long)v->regs.rdi,
		(unsigned long long)v->regs.rbp);
}

/* End v's domain; see domain.h. */
void domain_crash(struct vcpu *v, const char *why)
{
	struct domain *d = v->dom;

	if (d->ops->crash)
		d->ops->crash(v, why);
	log_err("domain %u (%s) crashed on vCPU %u: %s\n", d->id, d->name, v->id, why);
	virt->vcpu_dump(v);
	vcpu_dump_exit_history(v);
	spin_lock(&d->lock);
	if (d->state == DOM_ACTIVE) {
		d->state = DOM_CRASHED;
		d->shutdown_reason = KEEL_SHUTDOWN_CRASH;
	}
	spin_unlock(&d->lock);
}

/* Stop d because the guest powered off or rebooted (reason KEEL_SHUTDOWN_*).
 * Called with d->lock held. */
void domain_shutdown(struct domain *d, uint32_t reason)
{
	if (d->state != DOM_ACTIVE)
		return;
	d->state = DOM_SHUTDOWN;
	d->shutdown_reason = reason;
	log_info("domain %u (%s) %s\n", d->id, d->name,
		 reason == KEEL_SHUTDOWN_REBOOT ? "asked to reboot" : "powered off");
}

/* Append one byte of guest console output to the ring. d->lock held. */
void domain_console_put(struct domain *d, uint8_t c)
{
	d->con_ring[d->con_pos % GUEST_CONSOLE_RING_BYTES] = c;
	d->con_pos++;
}

/* Append len bytes at data to the console history of d, which has not
 * started (a restored guest's output from before its save). 0 or -EBUSY. */
int domain_console_preload(struct domain *d, const uint8_t *data, uint32_t len)
{
	uint32_t i;

	if (d->state != DOM_BUILDING)
		return -EBUSY;
	spin_lock(&d->lock);
	for (i = 0; i < len; i++)
		domain_console_put(d, data[i]);
	spin_unlock(&d->lock);
	return 0;
}
