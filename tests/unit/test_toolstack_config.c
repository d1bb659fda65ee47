/*
 * Host unit tests of the toolstack's config parser (toolstack/config.c).
 * Golden files in data/config/ carry their own expectations in comments:
 * pass_*.cfg files list "# expect: key = value" lines (value as
 * config_format_value() prints it) and optionally one "# expect-disks: "
 * line with the decoded disks ("<slot> file <path>; <slot> ram <bytes>"),
 * fail_*.cfg files one
 * "# expect-error: <exact message>" line. Every file is parsed with
 * base_dir "/cfgdir" and its basename as the file name, then
 * config_check()ed. Further tests cover command-line overrides, the
 * writer's round trip and the key suggestions. Run from tests/unit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/domain/config.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"

#include "harness.h"

#define GOLDEN_DIR "data/config"

/* Read the whole file @path; returns a malloc'd buffer and its size. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Copy the rest of the line after @p into @out, without CR/LF. */
static void rest_of_line(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p, "\r\n");

	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Check one "# expect: key = value" line @p against @cfg. */
static void check_expect_line(const char *file, const struct config *cfg,
			      const char *p)
{
	char line[1200], key[64], got[4096];
	const char *eq;

	rest_of_line(p, line, sizeof(line));
	eq = strstr(line, " = ");
	CHECK_MSG(eq != NULL, "%s: bad expect line '%s'", file, line);
	if (!eq || (size_t)(eq - line) >= sizeof(key))
		return;
	memcpy(key, line, (size_t)(eq - line));
	key[eq - line] = '\0';
	CHECK_MSG(config_format_value(cfg, key, got, sizeof(got)) == 0,
		  "%s: key '%s'", file, key);
	CHECK_MSG(strcmp(got, eq + 3) == 0, "%s: %s is %s, expected %s", file,
		  key, got, eq + 3);
}

/* Format the decoded disks of @cfg as in "# expect-disks:" into @buf. */
static void format_disks(const struct config *cfg, char *buf, size_t len)
{
	size_t pos = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < cfg->nr_disks && pos < len; i++) {
		const struct config_disk *d = &cfg->disks[i];

		if (d->kind == CONFIG_DISK_FILE)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%u file %s",
						i ? "; " : "", d->slot, d->path);
		else
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%u ram %llu",
						i ? "; " : "", d->slot,
						(unsigned long long)d->ram_bytes);
	}
}

/* Check the "# expect-disks: " line @p against @cfg. */
static void check_expect_disks(const char *file, const struct config *cfg,
			       const char *p)
{
	char want[1200], got[4096];
	uint32_t i;

	rest_of_line(p, want, sizeof(want));
	format_disks(cfg, got, sizeof(got));
	CHECK_MSG(strcmp(got, want) == 0, "%s: disks\n  got  '%s'\n  want '%s'",
		  file, got, want);
	for (i = 0; i < cfg->nr_disks; i++)
		CHECK_MSG(cfg->disks[i].slot == i, "%s: disk %u has slot %u",
			  file, i, cfg->disks[i].slot);
}

/* Run one golden file @name. */
static void golden_one(const char *name)
{
	char path[512], err[CONFIG_ERR_BYTES] = "", want[CONFIG_ERR_BYTES];
	struct config cfg;
	const char *p, *e;
	size_t len;
	char *text;
	int ret, expects = 0;

	snprintf(path, sizeof(path), GOLDEN_DIR "/%s", name);
	text = read_all(path, &len);
	CHECK_MSG(text != NULL, "cannot read %s", path);
	if (!text)
		return;
	config_init(&cfg);
	ret = config_parse(&cfg, text, len, name, "/cfgdir", err, sizeof(err));
	if (!ret)
		ret = config_check(&cfg, name, err, sizeof(err));
	e = strstr(text, "# expect-error: ");
	if (e) {
		rest_of_line(e + 16, want, sizeof(want));
		CHECK_MSG(ret == -EINVAL, "%s: parsed but should fail", name);
		CHECK_MSG(strcmp(err, want) == 0, "%s:\n  got  '%s'\n  want '%s'",
			  name, err, want);
		expects++;
	} else {
		CHECK_MSG(ret == 0, "%s: %s", name, err);
		for (p = strstr(text, "# expect: "); p;
		     p = strstr(p + 1, "# expect: ")) {
			check_expect_line(name, &cfg, p + 10);
			expects++;
		}
		p = strstr(text, "# expect-disks: ");
		if (p)
			check_expect_disks(name, &cfg, p + 16);
		else
			CHECK_MSG(cfg.nr_disks == 0, "%s: has %u disks but no "
				  "expect-disks line", name, cfg.nr_disks);
	}
	CHECK_MSG(expects > 0, "%s has no expectations", name);
	CHECK_MSG(strncmp(name, e ? "fail_" : "pass_", 5) == 0,
		  "%s: pass_/fail_ prefix does not match its expectation", name);
	free(text);
}

/* Run every golden file. */
static void test_golden(void)
{
	struct dirent *d;
	DIR *dir = opendir(GOLDEN_DIR);
	int n = 0;

	CHECK_MSG(dir != NULL, "cannot open %s (run from tests/unit)",
		  GOLDEN_DIR);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name);

		if (l > 4 && strcmp(d->d_name + l - 4, ".cfg") == 0) {
			golden_one(d->d_name);
			n++;
		}
	}
	closedir(dir);
	CHECK_MSG(n >= 20, "only %d golden files", n);
}

/* Parse @text (NUL-terminated) into @cfg, from file "t.cfg". */
static int parse_str(struct config *cfg, const char *text, char *err)
{
	config_init(cfg);
	return config_parse(cfg, text, strlen(text), "t.cfg", "/d", err,
			    CONFIG_ERR_BYTES);
}

/* Command-line overrides: bare and quoted values, errors. */
static void test_overrides(void)
{
	char err[CONFIG_ERR_BYTES];
	struct config cfg;

	CHECK_EQ_INT(parse_str(&cfg, "name='tiny'\nkernel='k'\nmemory=128\n",
			       err), 0);
	CHECK_EQ_INT(config_override(&cfg, "name=tiny2", "/cwd", err,
				     sizeof(err)), 0);
	CHECK_EQ_STR(cfg.name, "tiny2");
	CHECK_EQ_INT(config_override(&cfg, "memory=256", "/cwd", err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(cfg.memory_mib, 256);
	CHECK_EQ_INT(config_override(&cfg, "vcpus = 2", NULL, err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(cfg.vcpus, 2);
	CHECK_EQ_INT(config_override(&cfg, "extra=quiet loglevel=3", NULL,
				     err, sizeof(err)), 0);
	CHECK_EQ_STR(cfg.extra, "quiet loglevel=3");
	CHECK_EQ_INT(config_override(&cfg, "cmdline='a b'", NULL, err,
				     sizeof(err)), 0);
	CHECK_EQ_STR(cfg.cmdline, "a b");
	CHECK_EQ_INT(config_override(&cfg, "kernel=vmlinuz", "/cwd", err,
				     sizeof(err)), 0);
	CHECK_EQ_STR(cfg.kernel, "/cwd/vmlinuz");
	CHECK_EQ_INT(config_override(&cfg, "ramdisk=/abs/i.img", "/cwd", err,
				     sizeof(err)), 0);
	CHECK_EQ_STR(cfg.ramdisk, "/abs/i.img");
	CHECK_EQ_INT(config_override(&cfg, "on_reboot=preserve", NULL, err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(cfg.on_reboot, CONFIG_ACTION_PRESERVE);
	CHECK_EQ_INT(config_override(&cfg, "disk=['file:r.sq,xvda,r', "
				     "'ram:8M,xvdb,w']", "/cwd", err,
				     sizeof(err)), 0);
	CHECK_EQ_INT(cfg.disk.n, 2);
	CHECK_EQ_STR(cfg.disk.items[0], "file:/cwd/r.sq,xvda,r");
	CHECK_EQ_STR(cfg.disk.items[1], "ram:8M,xvdb,w");
	CHECK_EQ_INT(cfg.nr_disks, 2);
	CHECK_EQ_STR(cfg.disks[0].path, "/cwd/r.sq");
	CHECK_EQ_U64(cfg.disks[1].ram_bytes, 8ull << 20);
	CHECK_EQ_INT(config_override(&cfg, "disk=['file:x.img,xvda,w']", "/cwd",
				     err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "command line: bad disk 'file:x.img,xvda,w': images "
		     "are read-only; use a ram: disk for writable space");
	CHECK_EQ_INT(config_override(&cfg, "disk=['ram:8M,xvdb,w']", "/cwd",
				     err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "command line: bad disk 'ram:8M,xvdb,w': there is no "
		     "disk xvda (disks are numbered from xvda without gaps)");
	/* the failed disk overrides left the previous disks */
	CHECK_EQ_INT(cfg.nr_disks, 2);
	CHECK_EQ_STR(cfg.disk.items[0], "file:/cwd/r.sq,xvda,r");

	CHECK_EQ_INT(config_override(&cfg, "memroy=256", NULL, err,
				     sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "command line: unknown key 'memroy' (did you mean "
		     "'memory'?)");
	CHECK_EQ_INT(config_override(&cfg, "memory=lots", NULL, err,
				     sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "command line: bad value for 'memory': expected an "
		     "integer (MiB)");
	CHECK_EQ_INT(config_override(&cfg, "memory=99999999999", NULL, err,
				     sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_override(&cfg, "memory", NULL, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_STR(err, "command line: 'memory' is not key=value");
	CHECK_EQ_INT(config_override(&cfg, "name='x", NULL, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_STR(err, "command line: unterminated string");
	CHECK_EQ_INT(config_override(&cfg, "disk=x", NULL, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_INT(config_override(&cfg, "extra=a'b\"c", NULL, err,
				     sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_override(&cfg, "name=Domain-0", NULL, err,
				     sizeof(err)), -EINVAL);
	/* a failed override leaves the previous value */
	CHECK_EQ_INT(cfg.memory_mib, 256);
	CHECK_EQ_STR(cfg.name, "tiny2");
}

/* config_write() then config_parse() gives the same configuration. */
static void test_round_trip(void)
{
	char err[CONFIG_ERR_BYTES], buf[16384];
	struct config a, b;
	int n;

	CHECK_EQ_INT(parse_str(&a,
			       "name='rt'\ndescription=\"it's\"\nmemory=512\n"
			       "vcpus=3\nkernel='/k'\nramdisk='r'\nroot='/dev/x'\n"
			       "cmdline='c'\nextra='e'\non_poweroff='restart'\n"
			       "on_reboot='preserve'\non_crash='restart'\n"
			       "disk=['file:d1,xvda,r','ram:3M,vdb,w']\nvif=['v']\n",
			       err), 0);
	n = config_write(&a, buf, sizeof(buf));
	CHECK(n > 0);
	config_init(&b);
	CHECK_EQ_INT(config_parse(&b, buf, (size_t)n, "w.cfg", NULL, err,
				  sizeof(err)), 0);
	memset(a.set_line, 0, sizeof(a.set_line));
	memset(b.set_line, 0, sizeof(b.set_line));
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK_EQ_STR(b.ramdisk, "/d/r");
	CHECK(strstr(buf, "name = 'rt'\n") == buf);
	CHECK(strstr(buf, "disk = [ 'file:/d/d1,xvda,r', 'ram:3M,vdb,w' ]\n")
	      != NULL);
	CHECK_EQ_INT(b.nr_disks, 2);
	CHECK_EQ_U64(b.disks[1].ram_bytes, 4ull << 20);
	CHECK_EQ_INT(config_write(&a, buf, 20), -ENOSPC);
}

/* config_disk_parse() directly: fields, sizes, base directory. */
static void test_disk_parse(void)
{
	char err[CONFIG_ERR_BYTES];
	struct config_disk d;

	CHECK_EQ_INT(config_disk_parse("file:a/b.img,sdb,r", "/base/", &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_INT(d.kind, CONFIG_DISK_FILE);
	CHECK_EQ_INT(d.slot, 1);
	CHECK_EQ_INT(d.writable, 0);
	CHECK_EQ_STR(d.path, "/base/a/b.img");
	CHECK_EQ_INT(config_disk_parse("file:a.img,xvda,r", NULL, &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_STR(d.path, "a.img");
	CHECK_EQ_INT(config_disk_parse("ram:1k,xvdd,w", NULL, &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_INT(d.slot, 3);
	CHECK_EQ_U64(d.ram_bytes, 2ull << 20);
	CHECK_EQ_INT(config_disk_parse("ram:2M,xvda,w", NULL, &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_U64(d.ram_bytes, 2ull << 20);
	CHECK_EQ_INT(config_disk_parse("ram:2049K,xvda,w", NULL, &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_U64(d.ram_bytes, 4ull << 20);
	CHECK_EQ_INT(config_disk_parse("ram:64G,xvda,w", NULL, &d, err,
				       sizeof(err)), 0);
	CHECK_EQ_U64(d.ram_bytes, 64ull << 30);
	CHECK_EQ_INT(config_disk_parse("ram:65G,xvda,w", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("ram:99999999999999999999M,xvda,w", NULL,
				       &d, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("ram:12MB,xvda,w", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("ram:M,xvda,w", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("file:/a,xvdaa,r", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("file:/a,xvd,r", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse("file:/a,xvdA,r", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_INT(config_disk_parse(",,", NULL, &d, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_INT(config_disk_parse("/a.img,xvda,r", NULL, &d, err,
				       sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "unknown target '/a.img' (use file:<path> or "
		     "ram:<size>)");
	CHECK_EQ_INT(config_disk_parse("", NULL, &d, err, sizeof(err)),
		     -EINVAL);
}

/* Key suggestions and small parser corners. */
static void test_misc(void)
{
	char err[CONFIG_ERR_BYTES], big[3000];
	struct config cfg;

	CHECK_EQ_STR(config_suggest_key("memroy"), "memory");
	CHECK_EQ_STR(config_suggest_key("vcpu"), "vcpus");
	CHECK_EQ_STR(config_suggest_key("on_crahs"), "on_crash");
	CHECK(config_suggest_key("bootloader") == NULL);
	CHECK(config_suggest_key("x") == NULL);
	CHECK_EQ_INT(parse_str(&cfg, "", err), 0);
	CHECK_EQ_INT(parse_str(&cfg, "name='a'", err), 0); /* no newline */
	CHECK_EQ_STR(cfg.name, "a");
	CHECK_EQ_INT(parse_str(&cfg, "name='a'; memory=64", err), 0);
	CHECK_EQ_INT(cfg.memory_mib, 64);
	memset(big, 'a', sizeof(big));
	memcpy(big, "extra='", 7);
	big[sizeof(big) - 2] = '\'';
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(parse_str(&cfg, big, err), -EINVAL);
	CHECK_EQ_STR(err, "t.cfg:1: value of 'extra' is too long (at most "
		     "1023 characters)");
	CHECK_EQ_INT(parse_str(&cfg, "name='abcdefghijabcdefghijabcdefghijab'",
			       err), -EINVAL);
	CHECK_EQ_INT(config_format_value(&cfg, "nope", big, sizeof(big)),
		     -ENOENT);
	CHECK_EQ_STR(config_action_name(CONFIG_ACTION_PRESERVE), "preserve");
}

/* The configs shipped in configs/ parse, and tiny.cfg says what it should. */
static void test_shipped(void)
{
	char err[CONFIG_ERR_BYTES] = "";
	struct config cfg;
	size_t len;
	char *text = read_all("../../configs/tiny.cfg", &len);

	CHECK_MSG(text != NULL, "cannot read configs/tiny.cfg");
	if (!text)
		return;
	config_init(&cfg);
	CHECK_EQ_INT(config_parse(&cfg, text, len, "tiny.cfg",
				  "/run/keel/medium/configs", err,
				  sizeof(err)), 0);
	CHECK_EQ_INT(config_check(&cfg, "tiny.cfg", err, sizeof(err)), 0);
	CHECK_MSG(err[0] == '\0', "%s", err);
	CHECK_EQ_STR(cfg.name, "tiny");
	CHECK_EQ_STR(cfg.description, "Tiny busybox Linux: boots in seconds, "
		     "shell on the console");
	CHECK_EQ_INT(cfg.memory_mib, 128);
	CHECK_EQ_INT(cfg.vcpus, 1);
	CHECK_EQ_STR(cfg.kernel, "/run/keel/medium/vmlinuz");
	CHECK_EQ_STR(cfg.ramdisk, "/run/keel/medium/guests/guest-initrd.img");
	free(text);
}

/* config_item_drop(): a key anywhere in the list, several times, or not
 * at all; another key that starts with the same letters stays. */
static void test_item_drop(void)
{
	static const char *const cases[][2] = {
		{ "mac=02:00:00:00:00:01", "" },
		{ "mac=02:00:00:00:00:01,bridge=x", "bridge=x" },
		{ "bridge=x,mac=02:00:00:00:00:01", "bridge=x" },
		{ "a=1,mac=aa,b=2", "a=1,b=2" },
		{ "mac=1,mac=2", "" },
		{ "macaddr=1,model=virtio", "macaddr=1,model=virtio" },
		{ "", "" },
	};
	char buf[64];
	uint32_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i][0]);
		config_item_drop(buf, "mac");
		CHECK_EQ_STR(buf, cases[i][1]);
	}
}

int main(void)
{
	test_item_drop();
	test_golden();
	test_shipped();
	test_overrides();
	test_round_trip();
	test_disk_parse();
	test_misc();
	return harness_done("test_toolstack_config");
}
