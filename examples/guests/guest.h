/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the example guests share: port I/O, a COM1 console, a small
 * printf, exit through port 0xF4. Freestanding: no libc.
 */
#ifndef KVMDBG_GUEST_H
#define KVMDBG_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOINLINE	__attribute__((noinline, noipa))

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Called by start.S on every vCPU; returning halts that vCPU. */
void main(unsigned int cpu, unsigned int nr_cpus);

void guest_putc(char c);
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the whole guest with @status (the VMM's exit status). */
void guest_exit(uint32_t status) __attribute__((noreturn));

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif /* KVMDBG_GUEST_H */
