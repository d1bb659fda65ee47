/*
 * A minimal test-and-set spinlock for the hypervisor. Hypervisor code runs
 * with interrupts off, so no IRQ-saving variant is needed. The holder's
 * stack pointer and the code address that took the lock are recorded, so
 * the watchdog (common/watchdog.c) can say which CPU holds a lock that
 * another CPU waits for; the stack pointer names the CPU because every
 * CPU has its own stack.
 */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <stdint.h>
#include <stdbool.h>

struct spinlock {
	volatile uint32_t locked;
	uint32_t reserved;
	volatile uint64_t holder_sp; /* a stack address of the holder, 0 if free */
	volatile uint64_t holder_pc; /* where the holder took the lock */
};

/* Note the calling CPU as the holder of l (just taken). */
static inline __attribute__((always_inline)) void spin_note_holder(struct spinlock *l)
{
	l->holder_sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	l->holder_pc = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			__asm__ volatile("pause");
	spin_note_holder(l);
}

/* Take l if it is free; true if taken. */
static inline __attribute__((always_inline)) bool spin_trylock(struct spinlock *l)
{
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	spin_note_holder(l);
	return true;
}

static inline void spin_unlock(struct spinlock *l)
{
	l->holder_sp = 0;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
