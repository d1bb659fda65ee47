/*
 * Mapping guest-physical memory in a domain's nested page table (AMD NPT
 * or Intel EPT, which share the x86-64 4-level layout that keel/paging.h
 * builds) with the memory type the hardware needs: the backend says, run
 * by run, which entry bits give the host memory its type (virt_ops
 * npt_mem_run), so that common code never knows which vendor it maps for.
 */
#ifndef KEEL_NPT_H
#define KEEL_NPT_H

#include <stdint.h>
#include <keel/paging.h>

/*
 * Map guest-physical [gpa, gpa + size) to host-physical [hpa, ...) in pt
 * with the permission bits perm (virt->npt_flags_rwx or _ro), pages of
 * at most 1 << max_page_shift bytes (12, 21 or 30; capped at what the
 * backend's nested paging takes), each leaf with its memory's type.
 * Returns 0 or -errno as pt_map (the range may then be partly mapped).
 */
int npt_map(struct pt_ctx *pt, uint64_t gpa, uint64_t hpa, uint64_t size,
	    uint64_t perm, uint32_t max_page_shift);

#endif
