/*
 * Rendering of struct keel_info (the answer of KEEL_HC_INFO) as the
 * xl-info-style text of `keel info`: one `key : value` line per item, keys
 * padded to 23 columns. Kept apart from the hypercall code so that
 * tests/unit can feed it a filled structure on the host.
 */
#ifndef KEEL_TOOLSTACK_INFO_FMT_H
#define KEEL_TOOLSTACK_INFO_FMT_H

#include <stdio.h>

#include "abi.h"

/*
 * Write the `keel info` text for @info to @out.
 * Returns 0, or -EIO if writing to @out failed.
 */
int info_format(const struct keel_info *info, FILE *out);

#endif /* KEEL_TOOLSTACK_INFO_FMT_H */
