/*
 * Per-domain monitor of the `keel` toolstack: `keel create` forks one
 * detached process per domain that polls the domain list every 200 ms and
 * applies the config's on_poweroff / on_reboot / on_crash action when the
 * domain stops (destroy, restart = destroy and build again from the saved
 * config, preserve = leave it). It exits when the domain is gone. Files
 * live in MONITOR_DIR: <name>.cfg (effective config), <name>.log (the
 * monitor's log) and <name>.destroying (written by `keel destroy` so that
 * a monitor never restarts a domain that is being destroyed).
 */
#ifndef KEEL_TOOLSTACK_MONITOR_H
#define KEEL_TOOLSTACK_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "config.h"

#define MONITOR_DIR "/run/keel"
#define MONITOR_POLL_MS 200u

/* What the monitor does about a domain's current state. */
enum monitor_verdict {
	MONITOR_WAIT,     /* still alive: poll again */
	MONITOR_GONE,     /* no longer in the list: exit */
	MONITOR_DESTROY,  /* stopped, action destroy */
	MONITOR_RESTART,  /* stopped, action restart */
	MONITOR_PRESERVE, /* stopped, action preserve: leave it */
};

/*
 * Decide what to do about domain @d (NULL if it is no longer listed) under
 * the actions of @cfg: SHUTDOWN with reason REBOOT uses on_reboot, reason
 * CRASH or state CRASHED on_crash, any other shutdown on_poweroff.
 */
enum monitor_verdict monitor_decide(const struct keel_dominfo *d,
				    const struct config *cfg);

/*
 * Path of the monitor file "<MONITOR_DIR>/<name><suffix>" into @buf.
 * Returns 0 or -ENAMETOOLONG.
 */
int monitor_path(const char *name, const char *suffix, char *buf, size_t len);

/*
 * Save @cfg as <MONITOR_DIR>/<name>.cfg (creating MONITOR_DIR).
 * Returns 0 or -errno.
 */
int monitor_save_config(const struct config *cfg);

/*
 * Read the saved config <MONITOR_DIR>/<name>.cfg into @cfg (parsed and
 * checked). Returns 0, or -errno with the reason in @err.
 */
int monitor_read_config(const char *name, struct config *cfg, char *err,
			size_t err_len);

/*
 * Mark domain @domid called @name as being destroyed by the user, so its
 * monitor does not restart it. Returns 0 or -errno.
 */
int monitor_mark_destroying(const char *name, uint32_t domid);

/*
 * Start the detached monitor for domain @domid built from @cfg (fork,
 * setsid, fork again, close fds, log to <name>.log). Returns 0 in the
 * caller once the monitor runs, or -errno if it could not be started.
 */
int monitor_start(const struct config *cfg, uint32_t domid);

#endif /* KEEL_TOOLSTACK_MONITOR_H */
