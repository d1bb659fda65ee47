/*
 * The vendor-neutral interface to hardware virtualization. One backend
 * (AMD-V or Intel VT-x) is chosen once at boot by virt_probe() and
 * reached through the ops table `virt`. Common code never tests the vendor.
 */
#ifndef KEEL_VIRT_H
#define KEEL_VIRT_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/vcpu.h>

struct cpu;
struct keel_state_vcpu;

/* How the backend sets a vCPU up; its domain's kind chooses (domain_ops). */
enum vcpu_profile {
	/* An isolated guest on a virtual PC: every port, MSR, HLT and
	 * external interrupt exits, interrupts are injected. */
	VCPU_PROFILE_ISOLATED,
	/* Dom0: owns its CPU's interrupts, ports and LAPIC; only what reaches
	 * beyond its CPUs exits (the ICR, the APIC base, shared MSRs, the PAT,
	 * SVM's own MSRs), and host NMIs are passed on to it. */
	VCPU_PROFILE_PASSTHROUGH,
};

struct virt_ops {
	const char *name;   /* "svm" */
	uint32_t backend;   /* KEEL_BACKEND_* */
	uint32_t features;  /* KEEL_FEAT_* */
	/* Enable virtualization on the calling CPU. 0 or -errno. */
	int (*cpu_enable)(struct cpu *c);
	/* Allocate backend state for v, with nested paging rooted at
	 * npt_root_pa and the intercepts of profile. 0 or -ENOMEM. */
	int (*vcpu_create)(struct vcpu *v, uint64_t npt_root_pa, enum vcpu_profile profile);
	/* Free what vcpu_create allocated. */
	void (*vcpu_destroy)(struct vcpu *v);
	/* Bytes vcpu_create allocated for v alone (maps shared by all vCPUs
	 * of a profile not counted), for the domain's memory accounting. */
	uint64_t (*vcpu_own_bytes)(const struct vcpu *v);
	/* Set the architectural start state of v. */
	void (*vcpu_reset)(struct vcpu *v, const struct vcpu_entry_state *s);
	/* Run v on this CPU until an exit that common code must see. */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
	/* Current privilege level of v. */
	uint32_t (*vcpu_cpl)(struct vcpu *v);
	/* Queue exception vector (with error code if has_err) for next entry. */
	void (*vcpu_inject_exception)(struct vcpu *v, uint8_t vector, bool has_err,
				      uint32_t err);
	/* Flush the nested TLB of v (after nested page tables changed). */
	void (*vcpu_flush_npt)(struct vcpu *v);
	/* Called on the CPU v last ran on, before the scheduler moves v to
	 * another CPU: leave nothing of v's state cached in this CPU. NULL if
	 * the backend's vCPUs cannot move yet (the scheduler then never moves
	 * them). */
	void (*vcpu_unload)(struct vcpu *v);
	/* Can an external interrupt be injected now (IF=1, no shadow, no event
	 * queued)? */
	bool (*vcpu_interruptible)(struct vcpu *v);
	/* Queue external interrupt vector for the next entry. */
	void (*vcpu_inject_irq)(struct vcpu *v, uint8_t vector);
	/* Exit with VM_EXIT_IRQ_WINDOW as soon as the guest can take one. */
	void (*vcpu_request_irq_window)(struct vcpu *v, bool on);
	/* Queue an NMI for the next entry. */
	void (*vcpu_inject_nmi)(struct vcpu *v);
	/* Whether the guest's RFLAGS.IF is set. */
	bool (*vcpu_if_set)(struct vcpu *v);
	/* Control registers and CS for instruction fetch and decode. */
	void (*vcpu_paging_state)(struct vcpu *v, struct vcpu_paging_state *ps);
	/* Print the vCPU's control state to the log, for crash reports. */
	void (*vcpu_dump)(struct vcpu *v);
	/* Save/restore (docs/save-restore.md): copy the architectural state
	 * of v, which is not running and which no CPU holds any more (see
	 * sched_flush_lazy), into the vendor-neutral record st (0, or -EBUSY
	 * if a CPU still holds it); and load st into v, which has not
	 * run yet (0, or -EINVAL for a state no CPU could be in, leaving v as
	 * it was). Both run on dom0's CPU. */
	int (*vcpu_state_get)(struct vcpu *v, struct keel_state_vcpu *st);
	int (*vcpu_state_set)(struct vcpu *v, const struct keel_state_vcpu *st);
	/* Nested page-table entry flags for RWX user-accessible memory. */
	uint64_t npt_flags_rwx;
	uint64_t npt_flags_ro;  /* readable (and executable), not writable */
	/* Largest nested page: 30 (1 GiB) or 21 (2 MiB). */
	uint32_t npt_page_shift_max;
	/* Of the host-physical bytes [hpa, hpa + size), how many from hpa
	 * (at least 4 KiB, at most size) have one memory type, with the
	 * nested leaf-entry bits that give it in *flags: 0 where the CPU
	 * applies the host's MTRRs itself (AMD NPT), the MTRRs' type where
	 * the entry replaces them (Intel EPT). Used through npt_map. */
	uint64_t (*npt_mem_run)(uint64_t hpa, uint64_t size, uint64_t *flags);
};

extern const struct virt_ops *virt;

/*
 * Choose a backend for this machine. Returns 0 and sets `virt`, or -errno
 * with a human-readable reason in why (size why_len) naming the missing
 * feature.
 */
int virt_probe(char *why, uint32_t why_len);

/* Backend probes: 0 and *ops set, or -errno and a reason. */
int svm_probe(const struct virt_ops **ops, char *why, uint32_t why_len);
int vmx_probe(const struct virt_ops **ops, char *why, uint32_t why_len);

#endif
