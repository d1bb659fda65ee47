/*
 * Architecture services that common code calls: time, CPU bring-up, the
 * machine's memory reach, entering Linux natively and resetting the
 * machine. Implemented in arch/x86/.
 */
#ifndef KEEL_ARCH_H
#define KEEL_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/compiler.h>

struct acpi_info;
struct vcpu_fpu;

uint64_t arch_map_ram(uint64_t top_pa);
void *arch_map_uncached(uint64_t pa, uint64_t bytes);
uint64_t tsc_calibrate_khz(void);
uint64_t time_now_ns(void);
uint64_t time_tsc_to_ns(uint64_t ticks);
void time_init(uint64_t tsc_khz);
uint64_t time_tsc_khz(void);
uint64_t time_tsc_khz_measured(void);
void time_wall_init(void);
int64_t time_wall_s(void);
void udelay(uint64_t us);
int smp_boot_aps(const struct acpi_info *acpi, void (*ap_entry)(void));
void cpu_init_local(void);
void __noreturn arch_enter_linux_native(uint64_t entry64_pa, uint64_t zero_page_pa);
void __noreturn arch_reset_machine(void);
const char *arch_cpu_vendor(void);
void arch_cpu_brand(char *out, size_t size);
void arch_cpu_outer_hv(char *out, size_t size);
bool arch_cpu_is_qemu_tcg(void);
bool arch_cpu_has_x2apic(void);
bool arch_cpu_has_invariant_tsc(void);
bool arch_cpu_has_1g_pages(void);
void arch_fpu_init_cpu(void);
uint32_t arch_fpu_area_bytes(void);
void arch_fpu_init_area(struct vcpu_fpu *f);
void arch_fpu_save(struct vcpu_fpu *f);
void arch_fpu_restore(const struct vcpu_fpu *f);
uint64_t arch_fpu_rfbm(void);
int arch_fpu_load(struct vcpu_fpu *f, uint64_t xcr0, uint64_t rfbm, const void *area,
		  uint32_t bytes);
void arch_vec_read(uint8_t reg, uint8_t *out, uint32_t size);
void arch_vec_write(uint8_t reg, const uint8_t *in, uint32_t size, bool vex);
void arch_timer_arm(uint64_t deadline_tsc);
void arch_kick_cpu(uint32_t apic_id);
void arch_send_vector(uint32_t apic_id, uint8_t vector);
void arch_send_nmi(uint32_t apic_id);
void arch_dump_local_irqs(void);
void arch_irq_window(void);
void arch_idle_wait(void);
void arch_tsc_aux_load(uint64_t val);
void arch_wbinvd(void);
uint32_t arch_lapic_read(uint32_t off);
void arch_lapic_send(uint32_t apic_id, uint32_t lo);
void arch_lapic_write(uint32_t off, uint32_t val);
uint64_t arch_lapic_pa(void);
void arch_dr_save(uint64_t dr[4]);
void arch_dr_restore(const uint64_t dr[4]);
uint64_t arch_spec_ctrl_bits(void);
bool arch_has_ibpb(void);
void arch_ibpb(void);
void arch_spec_ctrl_enter(uint64_t guest_val);
void arch_spec_ctrl_exit(uint64_t guest_val);

#endif
