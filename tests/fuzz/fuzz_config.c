/*
 * libFuzzer target for the toolstack's configuration parser
 * (toolstack/domain/config.c, config_lex.c and config_disk.c), which reads files and command-line overrides that
 * users write by hand. Each input is parsed as a config file; the
 * contract is checked: 0 or -EINVAL only, an error always names the file
 * and a line, and a config that parses is written back (config_write) to
 * text that parses to the same text again. The input is also applied as a
 * command-line override (as a NUL-terminated string) and checked the same
 * way. Any violation aborts. Run with tests/fuzz/run.sh, or by hand from
 * the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_config.c -o /tmp/fuzz_config
 *   cd /tmp && ./fuzz_config -max_total_time=60 /tmp/fuzz_config_corpus
 */
#include "../../toolstack/domain/config.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_TEXT_BYTES 65536

/* A parsed config's JSON (keel list -l) fits, is one object, holds no
 * raw control character and has its strings closed: outside strings,
 * quotes pair up. */
static void fuzz_json(const struct config *cfg)
{
	static char j[4 * FUZZ_TEXT_BYTES];
	struct fmt_buf b;
	bool in_str = false;
	size_t i;

	fmt_buf_init(&b, j, sizeof(j));
	config_write_json(cfg, &b);
	FUZZ_ASSERT(b.err == 0 && b.pos >= 2 && j[0] == '{' && j[b.pos - 1] == '}');
	for (i = 0; i < b.pos; i++) {
		FUZZ_ASSERT((unsigned char)j[i] >= 0x20);
		if (in_str && j[i] == '\\')
			i++; /* the escaped character */
		else if (j[i] == '"')
			in_str = !in_str;
	}
	FUZZ_ASSERT(!in_str);
}

/* A parsed config writes back to text that parses to the same text. */
static void fuzz_round_trip(const struct config *cfg)
{
	static char a[FUZZ_TEXT_BYTES], b[FUZZ_TEXT_BYTES];
	struct config again;
	char err[256];
	int n, m;

	n = config_write(cfg, a, sizeof(a));
	FUZZ_ASSERT(n >= 0 && (size_t)n < sizeof(a));
	config_init(&again);
	FUZZ_ASSERT(config_parse(&again, a, (size_t)n, "w.cfg", NULL, err, sizeof(err)) == 0);
	m = config_write(&again, b, sizeof(b));
	FUZZ_ASSERT(m == n && memcmp(a, b, (size_t)n) == 0);
	fuzz_json(cfg);
}

/* libFuzzer entry point: data as a file, then as an override. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char arg[4096];
	struct config cfg;
	char err[256];
	int rc;

	config_init(&cfg);
	err[0] = 0;
	rc = config_parse(&cfg, (const char *)data, size, "f.cfg", "/base", err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		fuzz_round_trip(&cfg);
	else
		FUZZ_ASSERT(strncmp(err, "f.cfg:", 6) == 0);
	if (size >= sizeof(arg))
		return 0;
	memcpy(arg, data, size);
	arg[size] = 0;
	config_init(&cfg);
	err[0] = 0;
	rc = config_override(&cfg, arg, "/base", err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		fuzz_round_trip(&cfg);
	else
		FUZZ_ASSERT(err[0] != 0);
	return 0;
}
