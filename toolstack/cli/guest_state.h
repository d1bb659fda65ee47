/*
 * A guest's vCPU and device state and its console's history as the
 * hypervisor gives them out (KEEL_HC_DOMAIN_STATE GET, KEEL_HC_CONSOLE_IO)
 * and takes them into a new domain that then starts where the other
 * stopped (STATE SET, KEEL_CONSOLE_PRELOAD, KEEL_START_RESTORED): what
 * `keel save`, `keel restore` and `keel clone` share.
 */
#ifndef KEEL_CLI_GUEST_STATE_H
#define KEEL_CLI_GUEST_STATE_H

#include <stddef.h>
#include <stdint.h>

/* The name of state record type @type, for messages ("unknown" if none). */
const char *gstate_rec_name(uint32_t type);

/*
 * KEEL_HC_DOMAIN_STATE GET of paused guest @domid (@name, for messages)
 * into @buf (KEEL_HC_MAX_ARG bytes: struct keel_domain_state, then the
 * records). Prints why it failed as "keel: <verb>: ..."; returns 0 or
 * a negative error.
 */
int gstate_get(uint32_t domid, const char *name, const char *verb, uint8_t *buf);

/* The console's history (what the hypervisor's ring still holds, at most
 * @room bytes) of @domid into @text; *@len its length. @buf is
 * KEEL_HC_MAX_ARG bytes of scratch. 0 or a negative error. */
int gstate_console_read(uint32_t domid, uint8_t *text, uint32_t room, uint32_t *len,
			uint8_t *buf);

/*
 * Give new domain @domid (not started) the records @state (@state_len
 * bytes) and the console history @console (@console_len bytes, may be 0),
 * without starting it. @buf is KEEL_HC_MAX_ARG bytes of scratch; @origin
 * names where the state came from, for messages. 0, or a negative error
 * with the message in @err.
 */
int gstate_load(uint32_t domid, const uint8_t *state, uint64_t state_len,
		const uint8_t *console, uint64_t console_len, uint8_t *buf,
		const char *origin, char *err, size_t err_len);

/* Start domain @domid, loaded by gstate_load, where its records stopped.
 * 0, or a negative error with the message in @err. */
int gstate_resume(uint32_t domid, char *err, size_t err_len);

/*
 * gstate_load, then gstate_resume: give new domain @domid (not started) the records @state (@state_len
 * bytes) and the console history @console (@console_len bytes, may be
 * 0), then start it where those records stopped. @buf is KEEL_HC_MAX_ARG
 * bytes of scratch; @origin names where the state came from, for
 * messages. 0, or a negative error with the message in @err.
 */
int gstate_start(uint32_t domid, const uint8_t *state, uint64_t state_len,
		 const uint8_t *console, uint64_t console_len, uint8_t *buf,
		 const char *origin, char *err, size_t err_len);

#endif
