/*
 * Hypercall handlers. A call arrives as VMMCALL/VMCALL with the number in
 * RAX and a buffer in RDI/RSI (include/public/keel_abi.h). Privileged calls
 * are accepted only from dom0's kernel (CPL 0); a guest or dom0 user space
 * gets -KEEL_EPERM and nothing else happens.
 */
#include <keel/hypercall.h>
#include <keel/hv.h>
#include <keel/domain.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/string.h>
#include <public/keel_abi.h>

static bool caller_privileged(struct vcpu *v)
{
	return v->dom->is_dom0 && virt->vcpu_cpl(v) == 0;
}

static void info_fill(struct keel_info *in)
{
	memset(in, 0, sizeof(*in));
	in->abi_version = KEEL_ABI_VERSION;
	in->hv_version = KEEL_VERSION;
	strlcpy(in->hv_version_str, KEEL_VERSION_STR, sizeof(in->hv_version_str));
	strlcpy(in->cpu_vendor, arch_cpu_vendor(), sizeof(in->cpu_vendor));
	in->backend = virt->backend;
	in->features = virt->features;
	in->cpus_total = nr_cpus;
	in->cpus_dom0 = hv.cpus_dom0;
	in->cpus_pool = hv.cpus_pool;
	in->cpu_mask_dom0 = hv.cpu_mask_dom0;
	in->cpu_mask_pool = hv.cpu_mask_pool;
	in->mem_total_bytes = hv.mem_total_bytes;
	in->mem_dom0_bytes = hv.mem_dom0_bytes;
	in->mem_hv_bytes = hv.image_bytes + mm_hv_bytes();
	in->mem_pool_total_bytes = mm_total_bytes();
	in->mem_pool_free_bytes = mm_free_bytes();
	in->tsc_khz = time_tsc_khz();
	in->uptime_ns = time_now_ns();
	in->hv_base_pa = hv.image_base_pa;
	in->hv_size_bytes = hv.image_bytes;
	in->marker_pa = hv.marker_pa;
}

static int64_t hc_info(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct keel_info in;

	if (!caller_privileged(v))
		return -KEEL_EPERM;
	if (size < sizeof(in))
		return -KEEL_EINVAL;
	info_fill(&in);
	if (domain_copy_to_guest(v->dom, gpa, &in, sizeof(in)))
		return -KEEL_EFAULT;
	return 0;
}

/* Perform the hypercall in v's registers; see hypercall.h. */
int64_t hypercall_dispatch(struct vcpu *v)
{
	uint64_t op = v->regs.rax, gpa = v->regs.rdi, size = v->regs.rsi;

	switch (op) {
	case KEEL_HC_VERSION:
		return KEEL_ABI_VERSION;
	case KEEL_HC_INFO:
		return hc_info(v, gpa, size);
	default:
		return -KEEL_ENOSYS;
	}
}
