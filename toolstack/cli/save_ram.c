/*
 * Writing a guest's RAM into a save file (savefile.h): the whole of it
 * from a paused guest (`keel save`), or from a running one in rounds with
 * its dirty page log (`keel save --live`: KEEL_HC_DOMAIN_DIRTY), pausing
 * it only for the last few pages (the pre-copy policy of precopy.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "build.h"
#include "domain.h"
#include "hcall.h"
#include "precopy.h"
#include "savefile.h"
#include "save_ram.h"

/* Bytes of guest RAM one KEEL_HC_DOMAIN_MEMREAD returns at most. */
#define SAVE_READ_BYTES KEEL_MEMREAD_MAX

/* Write @len bytes at @p to @o; see save_ram.h. */
void out_bytes(struct save_out *o, const void *p, uint64_t len)
{
	if (o->err || len == 0)
		return;
	if (fwrite(p, 1, len, o->f) != len)
		o->err = -(errno ? errno : EIO);
	o->pos += len;
}

/* One section: header, payload, padding; see save_ram.h. */
void out_section(struct save_out *o, uint32_t type, const void *p, uint64_t len)
{
	static const uint8_t zeros[SAVEFILE_ALIGN];
	struct savefile_section s = { type, savefile_crc32(0, p, len), len };

	out_bytes(o, &s, sizeof(s));
	out_bytes(o, p, len);
	out_bytes(o, zeros, savefile_pad(len));
}

/* Read @len bytes of paused guest @domid's RAM at @gpa into @dst. */
static int save_memread(uint32_t domid, uint64_t gpa, uint8_t *dst, uint64_t len, uint8_t *buf)
{
	struct keel_memread *m = (struct keel_memread *)(void *)buf;
	uint64_t done = 0;

	while (done < len) {
		uint32_t n = (uint32_t)(len - done < SAVE_READ_BYTES ? len - done : SAVE_READ_BYTES);
		int ret;

		memset(m, 0, sizeof(*m));
		m->domid = domid;
		m->len = n;
		m->gpa = gpa + done;
		ret = keel_hypercall(KEEL_HC_DOMAIN_MEMREAD, buf, sizeof(*m) + n);
		if (ret < 0)
			return ret;
		memcpy(dst + done, m + 1, n);
		done += n;
	}
	return 0;
}

/* The guest's RAM ranges, as its e820 map gives them. */
static uint32_t save_ram_ranges(uint64_t ram_bytes, struct linux_e820_entry *ram)
{
	struct linux_e820_entry e820[BUILD_E820_ENTRIES];
	uint32_t i, n = build_e820(ram_bytes, e820), k = 0;

	for (i = 0; i < n; i++)
		if (e820[i].type == LINUX_E820_RAM)
			ram[k++] = e820[i];
	return k;
}

/* Write every chunk of RAM that is not all zero as a RAM section; see
 * save_ram.h. */
int save_ram(struct save_out *o, uint32_t domid, const char *verb, const char *name,
	     uint64_t ram_bytes)
{
	struct linux_e820_entry ram[BUILD_E820_ENTRIES];
	uint8_t *chunk = malloc(SAVEFILE_CHUNK_BYTES);
	uint8_t *packed = malloc(sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES);
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	uint32_t i, n = save_ram_ranges(ram_bytes, ram);
	uint64_t done = 0;
	int ret = 0, last = -1;
	bool tty = isatty(STDERR_FILENO);

	if (!chunk || !packed || !buf)
		ret = -ENOMEM;
	for (i = 0; !ret && i < n; i++) {
		uint64_t gpa = ram[i].base, end = ram[i].base + ram[i].len;

		while (!ret && gpa < end) {
			uint64_t next = (gpa / SAVEFILE_CHUNK_BYTES + 1) * SAVEFILE_CHUNK_BYTES;
			uint64_t len = (next < end ? next : end) - gpa, plen;

			ret = save_memread(domid, gpa, chunk, len, buf);
			if (ret)
				break;
			plen = savefile_chunk_pack(gpa, chunk, (uint32_t)len, packed);
			if (plen)
				out_section(o, SAVEFILE_SEC_RAM, packed, plen);
			gpa += len;
			done += len;
			build_progress(stderr, tty, strcmp(verb, "save") ? "migrating" : "saving", name,
				       done, ram_bytes, &last);
		}
	}
	free(chunk);
	free(packed);
	free(buf);
	return ret ? ret : o->err;
}

/* ---- live: the dirty page log ---- */

/* KEEL_HC_DOMAIN_DIRTY @op on @domid; for READ, pages [first, first + nr)
 * into @map (nr / 8 bytes) and *@count. 0 or a negative error. */
static int dirty_call(uint32_t domid, uint32_t op, uint64_t first, uint32_t nr, uint8_t *map,
		      uint64_t *count, uint8_t *buf)
{
	struct keel_domain_dirty *dd = (struct keel_domain_dirty *)(void *)buf;
	int ret;

	memset(dd, 0, sizeof(*dd));
	dd->domid = domid;
	dd->op = op;
	dd->first_page = first;
	dd->nr_pages = nr;
	ret = keel_hypercall(KEEL_HC_DOMAIN_DIRTY, buf, sizeof(*dd) + nr / 8);
	if (ret == 0 && op == KEEL_DIRTY_READ) {
		memcpy(map, dd + 1, nr / 8);
		*count += dd->dirty_count;
	}
	return ret;
}

/* Turn @domid's dirty page log on; see save_ram.h. */
int save_live_start(uint32_t domid, const char *verb, const char *name)
{
	uint8_t buf[sizeof(struct keel_domain_dirty)];
	int ret = dirty_call(domid, KEEL_DIRTY_START, 0, 0, NULL, NULL, buf);

	if (ret == -KEEL_EBUSY)
		fprintf(stderr, "keel: %s: '%s' cannot be copied live now: it shares memory "
			"with a clone, or its balloon gave memory back (keel mem-set), or another "
			"live save or migration of it is running%s\n", verb, name,
			strcmp(verb, "save") ? "" : "; save it without --live");
	else if (ret)
		hcall_report("KEEL_HC_DOMAIN_DIRTY", ret);
	return ret;
}

/* Turn it off again (after the save, or when it failed). */
void save_live_stop(uint32_t domid)
{
	uint8_t buf[sizeof(struct keel_domain_dirty)];

	dirty_call(domid, KEEL_DIRTY_STOP, 0, 0, NULL, NULL, buf);
}

/* Read and clear the whole log of @domid into @map (@pages bits); the
 * count of pages marked into *@count. */
static int dirty_read_all(uint32_t domid, uint64_t pages, uint8_t *map, uint64_t *count,
			  uint8_t *buf)
{
	uint64_t first;
	int ret = 0;

	*count = 0;
	for (first = 0; !ret && first < pages; first += KEEL_DIRTY_READ_MAX) {
		uint64_t nr = pages - first < KEEL_DIRTY_READ_MAX ? pages - first :
			      KEEL_DIRTY_READ_MAX;

		ret = dirty_call(domid, KEEL_DIRTY_READ, first, (uint32_t)nr, map + first / 8,
				 count, buf);
	}
	return ret;
}

static bool map_bit(const uint8_t *map, uint64_t i)
{
	return (map[i / 8] >> (i % 8)) & 1;
}

/* Keep only the pages of @map that lie in the guest's RAM ranges (its e820
 * map: not the BIOS hole), and count them. */
static uint64_t dirty_clip(uint8_t *map, uint64_t pages, uint64_t ram_bytes)
{
	struct linux_e820_entry ram[BUILD_E820_ENTRIES];
	uint32_t n = save_ram_ranges(ram_bytes, ram), k;
	uint64_t i, kept = 0;

	for (i = 0; i < pages; i++) {
		uint64_t gpa = i * SAVEFILE_PAGE_BYTES;
		bool in = false;

		if (!map_bit(map, i))
			continue;
		for (k = 0; k < n && !in; k++)
			in = gpa >= ram[k].base && gpa < ram[k].base + ram[k].len;
		if (in)
			kept++;
		else
			map[i / 8] &= (uint8_t)~(1u << (i % 8));
	}
	return kept;
}

/* Write the pages marked in @map as RAM_PAGES sections, a chunk at a time,
 * reading each run of marked pages in one go. */
static int write_marked(struct save_out *o, uint32_t domid, const uint8_t *map,
			uint64_t pages, uint8_t *chunk, uint8_t *packed, uint8_t *buf)
{
	uint64_t c, per = SAVEFILE_CHUNK_PAGES;
	int ret = 0;

	for (c = 0; !ret && c * per < pages; c++) {
		uint64_t i = 0, n = pages - c * per < per ? pages - c * per : per, plen;
		const uint8_t *which = map + c * per / 8;

		while (!ret && i < n) {
			uint64_t run = 0;

			if (!map_bit(which, i)) {
				i++;
				continue;
			}
			while (i + run < n && map_bit(which, i + run))
				run++;
			ret = save_memread(domid, (c * per + i) * SAVEFILE_PAGE_BYTES,
					   chunk + i * SAVEFILE_PAGE_BYTES, run * SAVEFILE_PAGE_BYTES,
					   buf);
			i += run;
		}
		if (ret)
			break;
		plen = savefile_pages_pack(c * SAVEFILE_CHUNK_BYTES, chunk,
					   (uint32_t)(n * SAVEFILE_PAGE_BYTES), which, packed);
		if (plen)
			out_section(o, SAVEFILE_SEC_RAM_PAGES, packed, plen);
	}
	return ret ? ret : o->err;
}

/* CLOCK_MONOTONIC in microseconds; see save_ram.h. */
uint64_t save_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Copy the RAM of running @domid with its log on; see save_ram.h. */
int save_ram_live(struct save_out *o, uint32_t domid, const char *verb, const char *name,
		  uint64_t ram_bytes, struct save_live_report *rep)
{
	uint64_t pages = ram_bytes / SAVEFILE_PAGE_BYTES, count = 0, i;
	uint8_t *map = calloc(1, pages / 8 + 8), *last = calloc(1, pages / 8 + 8);
	uint8_t *chunk = malloc(SAVEFILE_CHUNK_BYTES);
	uint8_t *packed = malloc(sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES);
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	bool stop = false;
	int ret = map && last && chunk && packed && buf ? 0 : -ENOMEM;

	memset(rep, 0, sizeof(*rep));
	if (!ret)
		ret = save_ram(o, domid, verb, name, ram_bytes);
	while (!ret && !stop) {
		ret = dirty_read_all(domid, pages, map, &count, buf);
		if (ret)
			break;
		count = dirty_clip(map, pages, ram_bytes);
		stop = precopy_should_stop(&rep->pc, count);
		if (stop) {
			/* pause, then add what was written up to the pause to
			 * what this read found (the log has forgotten those) */
			rep->pause_us = save_now_us();
			ret = domain_ctl(domid, KEEL_DOMCTL_PAUSE);
			if (ret)
				break;
			rep->paused = true;
			ret = dirty_read_all(domid, pages, last, &count, buf);
			if (ret)
				break;
			for (i = 0; i < pages / 8; i++)
				map[i] |= last[i];
			count = dirty_clip(map, pages, ram_bytes);
			rep->final_pages = count;
		} else {
			fprintf(stderr, "keel: %s: %s: round %u: %llu page(s) written meanwhile\n",
				verb, name, rep->pc.rounds, (unsigned long long)count);
		}
		ret = write_marked(o, domid, map, pages, chunk, packed, buf);
		rep->pc.sent_pages += count;
	}
	free(map);
	free(last);
	free(chunk);
	free(packed);
	free(buf);
	return ret;
}
