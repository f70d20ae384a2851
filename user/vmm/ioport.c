// SPDX-License-Identifier: GPL-2.0
/*
 * Default handling of port I/O and MMIO exits: the debug console (0xE9),
 * a write-only COM1 (0x3F8), the exit port (0xF4); everything else reads
 * as all-ones and ignores writes, like an empty bus.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "user/linux/linux-priv.h"

#define COM1_IIR	(VM_PORT_COM1 + 2)
#define COM1_LSR	(VM_PORT_COM1 + 5)
#define COM1_LAST	(VM_PORT_COM1 + 7)
#define LSR_THRE_TEMT	0x60	/* transmitter empty: write at will */
#define IIR_NO_INT	0x01

/* A kick may interrupt the write (no SA_RESTART): retry. */
static void console__write(struct vm *vm, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(vm->console_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* console gone: drop output, keep running */
		buf += n;
		len -= n;
	}
}

static void ioport__warn(struct vm *vm, uint16_t port, bool out)
{
	uint8_t bit = 1u << (port % 8);

	if (!vm->verbose ||
	    (__atomic_fetch_or(&vm->warned_ports[port / 8], bit, __ATOMIC_RELAXED) & bit))
		return;
	fprintf(stderr, "%s: %s: unhandled port %s %#x (%s)\n",
		program_invocation_short_name, vm->name, out ? "write to" : "read from",
		port, out ? "ignored" : "reads 0xff");
}

static uint8_t com1__read(uint16_t port)
{
	switch (port) {
	case COM1_LSR:
		return LSR_THRE_TEMT;
	case COM1_IIR:
		return IIR_NO_INT;
	default:
		return 0;
	}
}

/* Guest value of an OUT to the exit port, zero-extended from its size. */
static int ioport__exit_value(const uint8_t *data, unsigned int size)
{
	uint32_t v = 0;

	memcpy(&v, data, size > 4 ? 4 : size);
	return (int)v;
}

static int ioport__out(struct vcpu *vcpu, const uint8_t *data, size_t bytes)
{
	struct kvm_run *run = vcpu->run;
	uint16_t port = run->io.port;

	if (port == VM_PORT_EXIT)
		return ioport__exit_value(data, run->io.size) + 1;
	if (port == VM_PORT_SNAPSHOT && vcpu->vm->snap_port_fn) {
		vcpu->vm->snap_port_fn(vcpu->vm->snap_port_ctx, vcpu->vm, vcpu->idx,
				       (uint32_t)ioport__exit_value(data, run->io.size));
		return 0;
	}
	if (port == VM_PORT_DEBUGCON || port == VM_PORT_COM1) {
		/* Byte-wide registers: each access of a string OUT is one byte. */
		for (size_t i = 0; i < bytes; i += run->io.size)
			console__write(vcpu->vm, &data[i], 1);
		return 0;
	}
	if (port < VM_PORT_COM1 || port > COM1_LAST)
		ioport__warn(vcpu->vm, port, true);
	return 0;
}

static void ioport__in(struct vcpu *vcpu, uint8_t *data, size_t bytes)
{
	struct kvm_run *run = vcpu->run;
	uint16_t port = run->io.port;

	if (port >= VM_PORT_COM1 && port <= COM1_LAST) {
		memset(data, 0, bytes);
		for (size_t i = 0; i < bytes; i += run->io.size)
			data[i] = com1__read(port);
		return;
	}
	ioport__warn(vcpu->vm, port, false);
	memset(data, 0xff, bytes);
}

/*
 * A Linux guest's ports (linux_io.c), one access of a string op at a time.
 * A write to the snapshot port asks for a snapshot as from an ELF guest
 * (e.g. `dd of=/dev/port seek=245`); Linux never touches 0xF5 itself.
 */
static int ioport__linux(struct vcpu *vcpu, uint8_t *data)
{
	struct kvm_run *run = vcpu->run;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	int status = -1;

	if (out && run->io.port == VM_PORT_SNAPSHOT && vcpu->vm->snap_port_fn)
		return ioport__out(vcpu, data, (size_t)run->io.size * run->io.count);
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!linux__io(vcpu, run->io.port, out, data, run->io.size, &status)) {
			ioport__warn(vcpu->vm, run->io.port, out);
			if (!out)
				memset(data, 0xff, run->io.size);
		}
		if (status >= 0)
			return status + 1;
	}
	return 0;
}

int ioport__handle(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	size_t bytes = (size_t)run->io.size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* KVM places the data inside the run page; trust but verify. */
	if (run->io.data_offset + bytes > vcpu->vm->run_size || !run->io.size)
		return 0;
	if (vcpu->vm->lguest)
		return ioport__linux(vcpu, data);
	if (run->io.direction == KVM_EXIT_IO_OUT)
		return ioport__out(vcpu, data, bytes);
	ioport__in(vcpu, data, bytes);
	return 0;
}

/*
 * An MMIO exit nobody claimed. Inside RAM it is a store to a page made
 * read-only (or an access while the memslots were being rewritten):
 * perform it on RAM. Outside RAM: an empty bus.
 */
void mmio__handle(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
	void *hva = vm__gpa_to_hva(vcpu->vm, run->mmio.phys_addr, len);

	if (hva && run->mmio.is_write)
		memcpy(hva, run->mmio.data, len);
	else if (hva)
		memcpy(run->mmio.data, hva, len);
	else if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
}
