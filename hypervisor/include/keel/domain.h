/*
 * Domains: dom0 (the privileged Linux that owns the hardware) and, later,
 * guests. A domain owns a nested page table, a description of the RAM it
 * may touch and its vCPUs.
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/memmap.h>
#include <keel/paging.h>
#include <keel/vcpu.h>

#define DOMAIN_MAX_RAM_RANGES 64
#define DOMAIN_MAX_VCPUS 8

struct domain {
	uint32_t id;
	char name[32];
	bool is_dom0;
	struct pt_ctx npt;             /* guest-physical -> host-physical */
	struct mem_range ram[DOMAIN_MAX_RAM_RANGES]; /* guest RAM (GPA) */
	uint32_t nr_ram;
	uint64_t ram_bytes;
	uint32_t nr_vcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];
};

/* Copy len bytes between hypervisor memory and guest-physical memory of d.
 * Return 0, or -EFAULT if any byte is outside the domain's RAM. */
int domain_copy_from_guest(struct domain *d, void *dst, uint64_t gpa,
			   uint64_t len);
int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src,
			 uint64_t len);

#endif
