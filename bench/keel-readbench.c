/*
 * keel-readbench: how fast a file or a block device reads, timed from
 * inside a domain (dom0 and guests have it as /usr/bin/keel-readbench).
 * It reads with pread(2), sequentially from offset 0 or at random
 * block-aligned offsets (a fixed-seed xorshift, so every run asks for
 * the same blocks), optionally with O_DIRECT so that a guest's reads go
 * to its virtio-blk device every time instead of its page cache, and
 * prints the count, the throughput and the time per read. bench/ratios.py
 * reports the blk-direct and blk-rand figures from it. Static, no
 * dependencies: gcc -static -O2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BLOCK_BYTES 4096u
#define MAX_BLOCK_BYTES (16u << 20)
#define DIRECT_ALIGN_BYTES 4096u
#define RANDOM_SEED 0x9E3779B97F4A7C15ull

struct opts {
	int direct, random;
	uint32_t block;
	uint64_t count;     /* 0: the whole file (sequential) or size/block reads (random) */
	const char *path;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int usage(FILE *out, int rc)
{
	fprintf(out, "Usage: keel-readbench [-d] [-r] [-b BYTES] [-n COUNT] FILE\n"
		     "\n"
		     "Read FILE (a file or a block device such as /dev/vda) with pread\n"
		     "and print how many bytes came in how long, the throughput and the\n"
		     "time per read.\n"
		     "  -d        O_DIRECT: bypass the page cache (BYTES a multiple of 4096)\n"
		     "  -r        random block-aligned offsets (the same ones every run)\n"
		     "            instead of sequential from offset 0\n"
		     "  -b BYTES  bytes per read (default %u, at most %u)\n"
		     "  -n COUNT  reads to make (default: the whole file's worth)\n",
		DEFAULT_BLOCK_BYTES, MAX_BLOCK_BYTES);
	return rc;
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max) {
		fprintf(stderr, "keel-readbench: %s needs a number from 1 to %llu, not '%s'\n",
			opt, (unsigned long long)max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->block = DEFAULT_BLOCK_BYTES;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			exit(usage(stdout, 0));
		if (!strcmp(a, "-d")) {
			o->direct = 1;
		} else if (!strcmp(a, "-r")) {
			o->random = 1;
		} else if ((!strcmp(a, "-b") || !strcmp(a, "-n")) && i + 1 < argc) {
			if (parse_u64(a, argv[++i], a[1] == 'b' ? MAX_BLOCK_BYTES : UINT32_MAX, &v))
				return -1;
			if (a[1] == 'b')
				o->block = (uint32_t)v;
			else
				o->count = v;
		} else if (a[0] != '-' && !o->path) {
			o->path = a;
		} else {
			usage(stderr, 2);
			return -1;
		}
	}
	if (!o->path) {
		usage(stderr, 2);
		return -1;
	}
	if (o->direct && o->block % DIRECT_ALIGN_BYTES) {
		fprintf(stderr, "keel-readbench: -d needs -b to be a multiple of %u\n",
			DIRECT_ALIGN_BYTES);
		return -1;
	}
	return 0;
}

/* The size of the open file or block device fd in bytes, or -1. */
static int64_t file_bytes(int fd)
{
	struct stat st;
	uint64_t dev_bytes;

	if (fstat(fd, &st))
		return -1;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, &dev_bytes) ? -1 : (int64_t)dev_bytes;
	return st.st_size;
}

int main(int argc, char **argv)
{
	struct opts o;
	uint64_t blocks, i, seed = RANDOM_SEED, got = 0;
	int64_t size;
	double t0, t;
	void *buf;
	int fd;

	if (parse_args(argc, argv, &o))
		return 2;
	fd = open(o.path, O_RDONLY | (o.direct ? O_DIRECT : 0));
	if (fd < 0) {
		fprintf(stderr, "keel-readbench: cannot open %s: %s\n", o.path, strerror(errno));
		return 1;
	}
	size = file_bytes(fd);
	if (size < (int64_t)o.block) {
		fprintf(stderr, "keel-readbench: %s holds less than one %u-byte block\n",
			o.path, o.block);
		return 1;
	}
	blocks = (uint64_t)size / o.block;
	if (!o.count)
		o.count = blocks;
	if (posix_memalign(&buf, DIRECT_ALIGN_BYTES, o.block)) {
		fprintf(stderr, "keel-readbench: out of memory for a %u-byte buffer\n", o.block);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < o.count; i++) {
		uint64_t blk = o.random ? xorshift64(&seed) % blocks : i % blocks;
		ssize_t n = pread(fd, buf, o.block, (off_t)(blk * o.block));

		if (n < 0) {
			fprintf(stderr, "keel-readbench: read of %s at %llu: %s\n", o.path,
				(unsigned long long)(blk * o.block), strerror(errno));
			return 1;
		}
		got += (uint64_t)n;
	}
	t = now_s() - t0;
	printf("read: %llu x %u bytes%s%s, %llu bytes in %.3f s, %.1f MiB/s, %.2f us each\n",
	       (unsigned long long)o.count, o.block, o.random ? " random" : " sequential",
	       o.direct ? " O_DIRECT" : "", (unsigned long long)got, t,
	       t > 0 ? (double)got / 1048576.0 / t : 0.0, t * 1e6 / (double)o.count);
	free(buf);
	close(fd);
	return 0;
}
