// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O of a Linux guest beyond the default handling (ioport.c):
 *   COM1 0x3F8-0x3FF   the 8250 UART (serial.c)
 *   0x64               keyboard controller: reads "ready" (status 0, so
 *                      the kernel's kbd_wait() does not spin), a write of
 *                      0xFE (pulse reset, Linux's reboot=k and its
 *                      fallback after ACPI reset) ends the VM, status 0
 *   0x600-0x601        ACPI PM1a status (acpi.c): reads 0, no events
 *   0x602-0x603        ACPI PM1a enable: holds what the guest writes, so
 *                      ACPICA sees GBL_EN stick and keeps the Global Lock
 *                      (not in snapshots: a resumed guest reads 0)
 *   0x604-0x605        ACPI PM1a control: reads SCI_EN (ACPI mode); a write
 *                      of SLP_EN with SLP_TYP 5 (S5) is poweroff, ends the
 *                      VM, status 0
 *   0x80               POST codes / I/O delay: ignored silently
 *   0x70 / 0x71        CMOS: reads 0 (no RTC; the time comes from kvmclock)
 *   0xF5               a write asks for a snapshot, as from an ELF guest
 *                      (ioport.c hands it to the snapshot service first)
 * Reboot ends the VM too: kvmdbg-launch runs one boot per process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "user/linux/linux-priv.h"

#define KBD_RESET	0xfe
#define SLP_EN		(1u << 13)
#define SLP_TYP(v)	(((v) >> 10) & 7)
#define SCI_EN		1u
#define ACPI_S5		5
#define PORT_POST	0x80
#define PORT_CMOS_INDEX	0x70
#define PORT_CMOS_DATA	0x71

static int linux__serial_io(struct serial *s, uint16_t port, bool out, uint8_t *data,
			    unsigned int size)
{
	for (unsigned int i = 0; i < size; i++) {
		if (out)
			serial__out(s, port + i, data[i]);
		else
			data[i] = serial__claims(s, port + i) ? serial__in(s, port + i) : 0xff;
	}
	return 1;
}

static int linux__end(struct vm *vm, const char *why, int *exit_status)
{
	if (vm->verbose)
		fprintf(stderr, "%s: %s: %s; the VM ends with status 0\n",
			program_invocation_short_name, vm->name, why);
	*exit_status = 0;
	return 1;
}

/* PM1a_STS (reads 0) and PM1a_EN (read/write), 16 bits each, by byte or whole. */
static int linux__pm1_evt(struct linux_guest *lg, uint16_t port, bool out, uint8_t *data,
			  unsigned int size)
{
	for (unsigned int i = 0; i < size; i++, port++) {
		unsigned int shift = (port - LINUX_PORT_PM1A_EVT - 2) * 8;
		uint16_t en;

		if (port < LINUX_PORT_PM1A_EVT + 2 || port > LINUX_PORT_PM1A_EVT + 3) {
			if (!out)
				data[i] = 0;
			continue;
		}
		if (!out) {
			data[i] = __atomic_load_n(&lg->pm1_en, __ATOMIC_RELAXED) >> shift;
			continue;
		}
		en = __atomic_load_n(&lg->pm1_en, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&lg->pm1_en, &en,
						    (en & ~(0xff << shift)) | data[i] << shift,
						    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	return 1;
}

/* PM1a_CNT, 16 bits, accessed whole or by byte. */
static int linux__pm1_cnt(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			  unsigned int size, int *exit_status)
{
	unsigned int shift = (port - LINUX_PORT_PM1A_CNT) * 8;
	uint32_t v = 0;

	if (!out) {
		v = SCI_EN >> shift;
		memset(data, 0, size);
		memcpy(data, &v, size > 2 ? 2 : size);
		return 1;
	}
	memcpy(&v, data, size > 2 ? 2 : size);
	v <<= shift;
	if ((v & SLP_EN) && SLP_TYP(v) == ACPI_S5)
		return linux__end(vcpu->vm, "guest powered off (ACPI S5)", exit_status);
	return 1;
}

int linux__io(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
	      unsigned int size, int *exit_status)
{
	struct linux_guest *lg = linux__guest(vcpu->vm);

	*exit_status = -1;
	if (serial__claims(lg->com1, port))
		return linux__serial_io(lg->com1, port, out, data, size);
	switch (port) {
	case LINUX_PORT_KBD_CMD:
		if (!out)
			data[0] = 0;
		else if (data[0] == KBD_RESET)
			return linux__end(vcpu->vm, "guest reset (keyboard controller)", exit_status);
		return 1;
	case LINUX_PORT_PM1A_EVT ... LINUX_PORT_PM1A_EVT + 3:
		return linux__pm1_evt(lg, port, out, data, size);
	case LINUX_PORT_PM1A_CNT ... LINUX_PORT_PM1A_CNT + 1:
		return linux__pm1_cnt(vcpu, port, out, data, size, exit_status);
	case PORT_POST:
		return 1;
	case PORT_CMOS_INDEX:
	case PORT_CMOS_DATA:
		if (!out)
			data[0] = 0;	/* no RTC (FADT says so); kvmclock has the time */
		return 1;
	}
	return 0;
}
