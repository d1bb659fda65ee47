/*
 * The main loop of a pool CPU (common/sched_loop.c).
 */
#ifndef KEEL_SCHED_LOOP_H
#define KEEL_SCHED_LOOP_H

#include <keel/compiler.h>

/* Run the calling pool CPU for good: pick a vCPU from its run queue, run
 * it for a slice, or sleep until a timer or a kick. Never returns. */
void __noreturn sched_run_cpu(void);

#endif
