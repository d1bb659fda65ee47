/*
 * The hypervisor's watchdog: every CPU that the hypervisor watches must
 * show progress (a "beat") at least every WATCHDOG_STALL_S seconds. Pool
 * CPUs beat in their scheduler loop (they pass it at least every 100 ms);
 * dom0's CPU beats on each of dom0's exits, and dom0's driver makes a
 * heartbeat hypercall every second, so a dom0 whose kernel stopped
 * running its timers stops beating too. Any CPU that passes a check
 * point looks at the others once a second; a CPU that stalls makes it log
 * every CPU's state (role, the domain and vCPU it runs, when it last
 * beat), the held locks it knows of, and, through an NMI to each other
 * CPU, where that CPU is (its hypervisor RIP, its guest's registers and
 * its local APIC's interrupt state). The same report is logged once per
 * stall; a line says when the CPU makes progress again.
 */
#ifndef KEEL_WATCHDOG_H
#define KEEL_WATCHDOG_H

#include <stdint.h>
#include <keel/spinlock.h>

#define WATCHDOG_STALL_S 10u      /* no beat for this long is a stall */
#define WATCHDOG_CHECK_MS 1000u   /* how often the CPUs are looked at */
#define WATCHDOG_MAX_LOCKS 96u    /* locks the report can name */

/* Start watching the calling CPU (it beats from now on). */
void watchdog_arm(void);

/* The calling CPU made progress. */
void watchdog_beat(void);

/* Look at the other CPUs if the last look is WATCHDOG_CHECK_MS old;
 * report a CPU that stalled. Cheap otherwise: one TSC read. */
void watchdog_check(void);

/* Let the report name lock l as name (name must stay valid while the lock
 * is tracked). Silently ignored when the table is full. */
void watchdog_track_lock(struct spinlock *l, const char *name);

/* Stop naming lock l (before its memory is freed). */
void watchdog_untrack_lock(struct spinlock *l);

/*
 * Called from the NMI handler with the interrupted RIP, RSP and RBP.
 * Returns true if the NMI was the watchdog's request for this CPU's state
 * (which is then logged, with a frame-pointer backtrace), false for any
 * other NMI.
 */
bool watchdog_nmi(uint64_t rip, uint64_t rsp, uint64_t rbp);

#endif
