/*
 * Nested page-table mappings with memory types (see keel/npt.h): split a
 * range where the host memory's type changes (virt->npt_mem_run) and map
 * each run with pt_map, adding the bits the backend asks for.
 */
#include <keel/npt.h>
#include <keel/virt.h>

/* Map [gpa, gpa + size) to hpa with its memory types; see npt.h. */
int npt_map(struct pt_ctx *pt, uint64_t gpa, uint64_t hpa, uint64_t size,
	    uint64_t perm, uint32_t max_page_shift)
{
	uint64_t len, type_flags;
	int rc;

	if (max_page_shift > virt->npt_page_shift_max)
		max_page_shift = virt->npt_page_shift_max;
	while (size) {
		len = virt->npt_mem_run(hpa, size, &type_flags);
		if (!len || len > size)
			len = size; /* a backend bug: one type for the rest */
		rc = pt_map(pt, gpa, hpa, len, perm | type_flags, max_page_shift);
		if (rc)
			return rc;
		gpa += len;
		hpa += len;
		size -= len;
	}
	return 0;
}
