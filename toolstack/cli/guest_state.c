/*
 * Getting a guest's state and console history out of the hypervisor and
 * into a new domain, which then starts where the old one stopped; shared
 * by `keel save`, `keel restore` and `keel clone` (see guest_state.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "hcall.h"
#include "guest_state.h"

/* The name of a state record type; see guest_state.h. */
const char *gstate_rec_name(uint32_t type)
{
	static const char *const names[] = {
		[KEEL_STATE_IOAPIC] = "IOAPIC", [KEEL_STATE_UART] = "UART",
		[KEEL_STATE_LAPIC] = "local APIC", [KEEL_STATE_RTC] = "RTC",
		[KEEL_STATE_ACPI_PM] = "ACPI PM", [KEEL_STATE_VIRTIO_PCI] = "virtio-pci",
		[KEEL_STATE_PVPANIC] = "pvpanic", [KEEL_STATE_VIRTIO_NET] = "virtio-net",
		[KEEL_STATE_VIRTIO_BLK] = "virtio-blk", [KEEL_STATE_VCPU] = "vCPU",
		[KEEL_STATE_VCPU_RUN] = "vCPU run state", [KEEL_STATE_FPU] = "FPU",
		[KEEL_STATE_TSC] = "TSC", [KEEL_STATE_BALLOON] = "balloon",
		[KEEL_STATE_CPUHP] = "CPU hotplug", [KEEL_STATE_CPUID] = "CPUID",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

/* KEEL_HC_DOMAIN_STATE GET; see guest_state.h. */
int gstate_get(uint32_t domid, const char *name, const char *verb, uint8_t *buf)
{
	struct keel_domain_state *st = (struct keel_domain_state *)(void *)buf;
	int ret;

	memset(st, 0, sizeof(*st));
	st->domid = domid;
	st->op = KEEL_STATE_OP_GET;
	st->len = KEEL_HC_MAX_ARG - sizeof(*st);
	ret = keel_hypercall(KEEL_HC_DOMAIN_STATE, buf, KEEL_HC_MAX_ARG);
	if (ret == -KEEL_EOPNOTSUPP && st->bad_type == KEEL_STATE_VIRTIO_BLK)
		fprintf(stderr, "keel: %s: '%s' has a writable RAM disk (a ram: disk), "
			"whose contents cannot be copied yet; nothing was changed\n", verb, name);
	else if (ret == -KEEL_EOPNOTSUPP)
		fprintf(stderr, "keel: %s: this hypervisor cannot copy a guest's %s state "
			"yet; nothing was changed\n", verb, gstate_rec_name(st->bad_type));
	else if (ret == -KEEL_ENOSPC)
		fprintf(stderr, "keel: %s: the state of '%s' is larger than one call "
			"carries (%u bytes): too many vCPUs with large FPU areas\n", verb, name,
			KEEL_HC_MAX_ARG);
	else if (ret < 0)
		hcall_report("KEEL_HC_DOMAIN_STATE", ret);
	return ret;
}

/* The console's history; see guest_state.h. */
int gstate_console_read(uint32_t domid, uint8_t *text, uint32_t room_all, uint32_t *len,
			uint8_t *buf)
{
	struct keel_console_io *io = (struct keel_console_io *)(void *)buf;
	uint64_t pos = 0;

	*len = 0;
	for (;;) {
		uint32_t room = room_all - *len;
		int ret;

		if (room == 0)
			return 0;
		memset(io, 0, sizeof(*io));
		io->domid = domid;
		io->op = KEEL_CONSOLE_READ;
		io->pos = pos;
		io->len = room < KEEL_HC_MAX_ARG - sizeof(*io) ? room :
			  (uint32_t)(KEEL_HC_MAX_ARG - sizeof(*io));
		ret = keel_hypercall(KEEL_HC_CONSOLE_IO, buf, sizeof(*io) + io->len);
		if (ret < 0)
			return ret;
		if (io->len == 0)
			return 0;
		memcpy(text + *len, io + 1, io->len);
		*len += io->len;
		pos = io->pos;
	}
}

/* Give the new domain @domid the console history, in pieces through @buf
 * (KEEL_HC_MAX_ARG bytes). */
static int gstate_console_preload(uint32_t domid, const uint8_t *text, uint64_t len,
				  uint8_t *buf)
{
	struct keel_console_io *io = (struct keel_console_io *)(void *)buf;
	const uint64_t max = KEEL_HC_MAX_ARG - sizeof(*io);
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < max ? len - done : max;
		int ret;

		memset(io, 0, sizeof(*io));
		io->domid = domid;
		io->op = KEEL_CONSOLE_PRELOAD;
		io->len = (uint32_t)n;
		memcpy(io + 1, text + done, n);
		ret = keel_hypercall(KEEL_HC_CONSOLE_IO, buf, sizeof(*io) + n);
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}

/* The TSC record of @state (@len bytes of records), or NULL. */
static const struct keel_state_tsc *gstate_find_tsc(const uint8_t *state, uint64_t len)
{
	uint64_t at = 0;

	while (at + sizeof(struct keel_state_rec) <= len) {
		const struct keel_state_rec *r = (const void *)(state + at);
		uint64_t body = (r->length + KEEL_STATE_REC_ALIGN - 1) & ~(uint64_t)(KEEL_STATE_REC_ALIGN - 1);

		if (r->length > len - at - sizeof(*r))
			return NULL;
		if (r->type == KEEL_STATE_TSC && r->length >= sizeof(struct keel_state_tsc))
			return (const void *)(r + 1);
		at += sizeof(*r) + body;
	}
	return NULL;
}

/* The name Linux's /proc/cpuinfo gives feature @bit of CPUID word @word
 * (KEEL_CPUID_WORD_*), or NULL. */
static const char *gstate_feature_name(uint32_t word, uint32_t bit)
{
	static const char *const names[KEEL_CPUID_WORDS][32] = {
		[KEEL_CPUID_WORD_1_ECX] = {
			"pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
			"tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid",
			"dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer",
			"aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor" },
		[KEEL_CPUID_WORD_1_EDX] = {
			"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
			"sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL,
			"dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe" },
		[KEEL_CPUID_WORD_7_EBX] = {
			"fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", "fdp_excptn_only",
			"smep", "bmi2", "erms", "invpcid", "rtm", "cqm", "zero_fcs_fds", "mpx",
			"rdt_a", "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma",
			"pcommit", "clflushopt", "clwb", "intel_pt", "avx512pf", "avx512er",
			"avx512cd", "sha_ni", "avx512bw", "avx512vl" },
		[KEEL_CPUID_WORD_7_ECX] = {
			"prefetchwt1", "avx512vbmi", "umip", "pku", "ospke", "waitpkg",
			"avx512_vbmi2", "shstk", "gfni", "vaes", "vpclmulqdq", "avx512_vnni",
			"avx512_bitalg", "tme", "avx512_vpopcntdq", NULL, "la57", NULL, NULL, NULL,
			NULL, NULL, "rdpid", "kl", "bus_lock_detect", "cldemote", NULL, "movdiri",
			"movdir64b", "enqcmd", "sgx_lc", NULL },
		[KEEL_CPUID_WORD_7_EDX] = {
			NULL, NULL, "avx512_4vnniw", "avx512_4fmaps", "fsrm", NULL, NULL, NULL,
			"avx512_vp2intersect", NULL, "md_clear", NULL, NULL, NULL, "serialize",
			NULL, "tsxldtrk", NULL, "pconfig", "arch_lbr", "ibt", NULL, "amx_bf16",
			"avx512_fp16", "amx_tile", "amx_int8", "spec_ctrl", "intel_stibp",
			"flush_l1d", "arch_capabilities", "core_capabilities", "spec_ctrl_ssbd" },
		[KEEL_CPUID_WORD_E1_ECX] = {
			"lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a",
			"misalignsse", "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", NULL,
			"lwp", "fma4", "tce", NULL, "nodeid_msr", NULL, "tbm", "topoext",
			"perfctr_core", "perfctr_nb", NULL, "bpext", "ptsc", "perfctr_llc", "mwaitx",
			NULL, NULL },
		[KEEL_CPUID_WORD_E1_EDX] = {
			[11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
			[25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
			[30] = "3dnowext", [31] = "3dnow" },
		[KEEL_CPUID_WORD_D1_EAX] = { "xsaveopt", "xsavec", "xgetbv1", "xsaves" },
	};

	return word < KEEL_CPUID_WORDS && bit < 32 ? names[word][bit] : NULL;
}

/* Why the hypervisor refused the guest's CPU features (-KEEL_EOPNOTSUPP
 * at its CPUID record): the first one this machine lacks, by name. */
static void gstate_cpuid_message(uint32_t missing, const char *origin, char *err,
				 size_t err_len)
{
	static const char *const where[KEEL_CPUID_WORDS] = {
		"1 ECX", "1 EDX", "7 EBX", "7 ECX", "7 EDX", "0x80000001 ECX",
		"0x80000001 EDX", "0xD.1 EAX" };
	uint32_t word = missing / 32, bit = missing % 32;
	const char *name = gstate_feature_name(word, bit);

	snprintf(err, err_len, "the guest of '%s' booted on a CPU with %s (CPUID %s bit %u), "
		 "which this machine's CPU lacks or Keel does not give guests here: programs "
		 "in it may use it, so it cannot run here. Move it to a machine with the same "
		 "CPU or a newer one, or restart it here", origin, name ? name : "a feature",
		 word < KEEL_CPUID_WORDS ? where[word] : "?", bit);
}

/* Why the hypervisor refused the guest's TSC rate (-KEEL_ERANGE). */
static void gstate_rate_message(const uint8_t *state, uint64_t len, const char *origin,
				char *err, size_t err_len)
{
	const struct keel_state_tsc *t = gstate_find_tsc(state, len);
	struct keel_info info;

	if (t && keel_hypercall(KEEL_HC_INFO, &info, sizeof(info)) >= 0)
		snprintf(err, err_len, "the guest of '%s' ran on a %llu kHz TSC and this "
			 "machine's runs at %llu kHz: without TSC scaling its clock would run "
			 "wrong, so it cannot run here (within 0.1 %% is allowed)", origin,
			 (unsigned long long)t->tsc_khz, (unsigned long long)info.tsc_khz);
	else
		snprintf(err, err_len, "the guest of '%s' ran on a TSC whose rate differs from "
			 "this machine's by more than 0.1 %%", origin);
}

/* Load the state and the console; see guest_state.h. */
int gstate_load(uint32_t domid, const uint8_t *state, uint64_t state_len,
		const uint8_t *console, uint64_t console_len, uint8_t *buf,
		const char *origin, char *err, size_t err_len)
{
	struct keel_domain_state *st = (struct keel_domain_state *)(void *)buf;
	int ret;

	if (state_len > KEEL_HC_MAX_ARG - sizeof(*st)) {
		snprintf(err, err_len, "'%s' has more state than one call carries", origin);
		return -E2BIG;
	}
	memset(st, 0, sizeof(*st));
	st->domid = domid;
	st->op = KEEL_STATE_OP_SET;
	st->len = (uint32_t)state_len;
	memcpy(st + 1, state, state_len);
	ret = keel_hypercall(KEEL_HC_DOMAIN_STATE, st, sizeof(*st) + state_len);
	if (ret == -KEEL_EXDEV) {
		snprintf(err, err_len, "'%s' was saved by a Keel older than ABI 1.17 before "
			 "this hypervisor last booted: its record of the guest's clock has no "
			 "rate, so its clock could not go on here", origin);
		return ret;
	}
	if (ret == -KEEL_ERANGE) {
		gstate_rate_message(state, state_len, origin, err, err_len);
		return ret;
	}
	if (ret == -KEEL_EOPNOTSUPP && st->bad_type == KEEL_STATE_CPUID) {
		gstate_cpuid_message(st->bad_instance, origin, err, err_len);
		return ret;
	}
	if (ret < 0) {
		snprintf(err, err_len, "the hypervisor refused the state of '%s' at its %s "
			 "record %u (%s): it does not fit this guest or is damaged", origin,
			 gstate_rec_name(st->bad_type), st->bad_instance, strerror(-ret));
		return ret;
	}
	if (console_len) {
		ret = gstate_console_preload(domid, console, console_len, buf);
		if (ret) {
			snprintf(err, err_len, "KEEL_HC_CONSOLE_IO (preload) failed: %s",
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Start a loaded domain where its records stopped; see guest_state.h. */
int gstate_resume(uint32_t domid, char *err, size_t err_len)
{
	struct keel_domain_start start;
	int ret;

	memset(&start, 0, sizeof(start));
	start.domid = domid;
	start.flags = KEEL_START_RESTORED;
	ret = keel_hypercall(KEEL_HC_DOMAIN_START, &start, sizeof(start));
	if (ret < 0)
		snprintf(err, err_len, "KEEL_HC_DOMAIN_START failed: %s", strerror(-ret));
	return ret;
}

/* Load the state, the console, and start; see guest_state.h. */
int gstate_start(uint32_t domid, const uint8_t *state, uint64_t state_len,
		 const uint8_t *console, uint64_t console_len, uint8_t *buf,
		 const char *origin, char *err, size_t err_len)
{
	int ret = gstate_load(domid, state, state_len, console, console_len, buf, origin, err,
			      err_len);

	return ret ? ret : gstate_resume(domid, err, err_len);
}
