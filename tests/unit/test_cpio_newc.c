/*
 * Unit tests for lib/bootproto/cpio_newc.c: an archive with a directory
 * and a file is unpacked by the host's GNU cpio (an independent reader of
 * the format) and must give back the same file; every header is 4-byte
 * aligned; an entry that does not fit is refused and leaves the offset
 * where it was.
 */
#include "../../lib/bootproto/cpio_newc.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static uint8_t buf[4096];

static const char report[] = "CPU: AuthenticAMD, QEMU TCG CPU\nGuests: yes\n";

static void test_host_cpio_reads_it(void)
{
	char dir[] = "/tmp/keel-cpio.XXXXXX", cmd[256], path[128], got[128] = { 0 };
	uint32_t off = 0;
	FILE *f;

	CHECK(cpio_newc_add(buf, sizeof(buf), &off, "etc", CPIO_NEWC_MODE_DIR, NULL, 0) == 0);
	CHECK(off % 4 == 0);
	CHECK(cpio_newc_add(buf, sizeof(buf), &off, "etc/keel", CPIO_NEWC_MODE_DIR, NULL, 0) == 0);
	CHECK(cpio_newc_add(buf, sizeof(buf), &off, "etc/keel/compat", CPIO_NEWC_MODE_FILE,
			    report, (uint32_t)strlen(report)) == 0);
	CHECK(off % 4 == 0);
	CHECK(cpio_newc_finish(buf, sizeof(buf), &off) == 0);
	CHECK(off % 4 == 0);
	CHECK(memcmp(buf, "070701", 6) == 0);
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	f = fopen(path, "wb");
	CHECK(f && fwrite(buf, 1, off, f) == off);
	if (f)
		fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -idm --quiet < a.cpio 2>&1", dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/etc/keel/compat", dir);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		CHECK(fread(got, 1, sizeof(got) - 1, f) == strlen(report));
		fclose(f);
	}
	CHECK(strcmp(got, report) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

static void test_too_small(void)
{
	uint32_t off = 0;

	/* a header and name fit, the data does not */
	CHECK(cpio_newc_add(buf, 120, &off, "x", CPIO_NEWC_MODE_FILE, report, 40) == -7);
	CHECK(off == 0);
	CHECK(cpio_newc_add(buf, 116, &off, "x", CPIO_NEWC_MODE_FILE, report, 4) == 0);
	CHECK(off == 116);
	CHECK(cpio_newc_finish(buf, 200, &off) == -7);
	CHECK(off == 116);
	off = 2; /* not aligned */
	CHECK(cpio_newc_add(buf, sizeof(buf), &off, "x", CPIO_NEWC_MODE_FILE, NULL, 0) == -7);
	off = 0xFFFFFFF0u; /* beyond the buffer */
	CHECK(cpio_newc_add(buf, sizeof(buf), &off, "x", CPIO_NEWC_MODE_FILE, NULL, 0) == -7);
}

int main(void)
{
	if (system("command -v cpio >/dev/null") != 0) {
		fprintf(stderr, "test_cpio_newc: GNU cpio not found (apt-get install cpio)\n");
		return 1;
	}
	test_host_cpio_reads_it();
	test_too_small();
	return harness_done("test_cpio_newc");
}
