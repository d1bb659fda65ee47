/*
 * Domains: dom0 (the privileged Linux that owns the hardware) and guests
 * (isolated Linux kernels on a minimal virtual PC). A domain owns a nested
 * page table, a description of the RAM it may touch and its vCPUs; a guest
 * also owns its memory chunks, its virtual PC (keel/vpc.h), its console
 * ring and a lock that serialises them across CPUs.
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/memmap.h>
#include <keel/paging.h>
#include <keel/vcpu.h>
#include <keel/domain_ops.h>
#include <keel/decode.h>
#include <keel/spinlock.h>
#include <keel/exit_profile.h>
#include <keel/sched.h>
#include <public/keel_abi.h>

#define DOMAIN_MAX_RAM_RANGES 64
#define DOMAIN_MAX_VCPUS 8
#define MAX_DOMAINS KEEL_MAX_DOMAINS /* dom0 and 63 guests: clones cost little */
#define GUEST_CHUNK_BYTES PAGE_SIZE_2M
#define GUEST_CONSOLE_RING_BYTES 65536u

enum domain_state {
	DOM_BUILDING, /* created, not started */
	DOM_ACTIVE,
	DOM_SHUTDOWN, /* stopped by the guest (power-off, reboot) */
	DOM_CRASHED,
	DOM_DYING,    /* being destroyed */
};

struct vpc;

struct domain {
	uint32_t id;
	char name[32];
	bool is_dom0;
	const struct domain_ops *ops;  /* its kind: dom0_ops or guest_ops */
	struct pt_ctx npt;             /* guest-physical -> host-physical */
	struct mem_range ram[DOMAIN_MAX_RAM_RANGES]; /* guest RAM (GPA) */
	uint32_t nr_ram;
	uint64_t ram_bytes;
	uint32_t nr_vcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];
	struct exit_profile exit_prof; /* its exits by kind and target */
	/* Guests only. */
	volatile enum domain_state state;
	volatile bool paused;
	bool invd_logged;              /* its first INVD was logged */
	uint32_t shutdown_reason;      /* KEEL_SHUTDOWN_* */
	struct spinlock lock;          /* devices, vLAPICs, vCPU wake-ups */
	uint64_t *chunks;              /* host PA of each 2 MiB chunk of RAM */
	uint32_t nr_chunks;
	/* Copy-on-write (common/cow.c): a bit per chunk mapped read-only
	 * because it was shared with a clone, and for each chunk how many
	 * 4 KiB pages of it this domain has copied (both in the chunks'
	 * block); how many chunks are shared and pages copied in all; and
	 * the generation of its nested page table that each vCPU must have
	 * flushed to before it enters (vcpu_loop_sync_npt). */
	uint64_t *cow;
	uint16_t *cow_priv;
	uint32_t cow_chunks;
	uint32_t cow_pages;
	volatile uint64_t npt_gen;
	uint64_t chunks_pa, chunks_pages;
	/* Dirty page log (common/dirty.c): a bit per 4 KiB page of RAM, set
	 * when the page is written while the log is on; NULL while off. */
	uint64_t *dirty;
	uint64_t dirty_pa;
	struct vpc *pc;                /* its virtual PC (keel/vpc.h) */
	uint8_t *con_ring;
	volatile uint64_t con_pos;     /* console bytes ever written */
	uint32_t msr_warnings;
	uint64_t self_pages;           /* pages holding this struct */
	/* Hypervisor memory it holds beyond RAM and nested page tables
	 * (keel_domstats.hv_bytes), and the switch queues' part of it. */
	uint64_t hv_bytes, hv_net_bytes;
	uint64_t start_ns;             /* time_now_ns() at its start, 0 before */
	bool restore_ok;               /* state records loaded: may start restored */
	uint32_t cpuid_seen[KEEL_CPUID_WORDS]; /* the features it booted with (cpuid_seen.h) */
	/* Scheduling (common/sched.c): xl credit weight and cap, the pool
	 * CPUs its vCPUs may be homed on (0 = any), and the cap's account
	 * under its own leaf lock (a domain's vCPUs run on several CPUs). */
	uint32_t sched_weight;
	uint32_t sched_cap_pct;
	uint64_t sched_affinity;
	struct spinlock cap_lock;
	struct sched_cap cap;
};

/* Fetch up to DECODE_MAX_INSN_LEN bytes of the instruction at v's RIP
 * (through its own page tables: guests and dom0 alike) into code, *got of
 * them, with the mode it runs in and its linear address in *rip. 0 or
 * -errno (see guest_fetch). */
int domain_fetch_insn(struct vcpu *v, uint8_t code[DECODE_MAX_INSN_LEN], uint32_t *got,
		      enum cpu_mode *mode, uint64_t *rip);

/* Copy len bytes between hypervisor memory and guest-physical memory of d.
 * Return 0, or -EFAULT if any byte is outside the domain's RAM. */
int domain_copy_from_guest(struct domain *d, void *dst, uint64_t gpa,
			   uint64_t len);
int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src,
			 uint64_t len);

/* Guest domain life cycle (common/domain.c); callers hold no locks. */
int domain_create(const char *name, uint64_t mem_bytes, uint32_t nr_vcpus,
		  uint32_t max_vcpus, uint32_t *domid);
int domain_clone(const char *name, uint32_t src_domid, uint32_t *domid);
int domain_start(uint32_t domid, uint64_t rip, uint64_t rsi);
int domain_start_restored(uint32_t domid);
int domain_memwrite(uint32_t domid, uint64_t gpa, const void *src, uint32_t len);
int domain_pause(uint32_t domid, bool pause);
int domain_request(uint32_t domid, bool reboot);
int domain_destroy(uint32_t domid);
int domain_vcpu_set(uint32_t domid, uint32_t nr, uint32_t *max, uint32_t *present);
/* How many of d's vCPUs are present (plugged in): all of dom0's. */
uint32_t domain_vcpus_present(const struct domain *d);
int domain_rename(uint32_t domid, const char *name);
int domain_dirty(struct keel_domain_dirty *dd, uint8_t *bitmap);
struct domain *domain_get(uint32_t domid);
uint32_t domain_list(struct domain **out, uint32_t max);
void domain_shutdown(struct domain *d, uint32_t reason);

/* End v's domain because of why, logging its state: a guest is marked
 * crashed and nothing else is touched; a kind with its own crash hook
 * (dom0's resets the machine) does not come back. */
void domain_crash(struct vcpu *v, const char *why);
void domain_console_put(struct domain *d, uint8_t c);
/* Append len bytes to the console history of d before it starts (a
 * restored guest's earlier output). 0, or -EBUSY once it has started. */
int domain_console_preload(struct domain *d, const uint8_t *data, uint32_t len);
void domain_register_dom0(struct domain *d);
void *domain_map_ram(void *ctx, uint64_t gpa, uint32_t len);

#endif
