// SPDX-License-Identifier: GPL-2.0
/*
 * The one port dispatcher, for every guest kind: a write to the snapshot
 * port (0xF5) goes to its hook, any other access to the kind's ports
 * (struct vm_machine io), and what nobody claims reads as all-ones and
 * ignores writes, like an empty bus. Also the default MMIO handling.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "user/vmm/vm-priv.h"

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

/*
 * One request per OUT instruction, whatever its count, with the value of
 * its first access zero-extended (e.g. `outb %al, $0xf5` from an ELF
 * guest, `dd of=/dev/port seek=245` from Linux, which never touches 0xF5
 * itself).
 */
static void ioport__snapshot(struct vcpu *vcpu, const uint8_t *data)
{
	struct vm *vm = vcpu->vm;
	uint32_t v = 0;

	memcpy(&v, data, vcpu->run->io.size > 4 ? 4 : vcpu->run->io.size);
	vm->snap_port_fn(vm->snap_port_ctx, vm, vcpu->idx, v);
}

int ioport__handle(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	size_t bytes = (size_t)run->io.size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint16_t port = run->io.port;
	int status = -1;

	/* KVM places the data inside the run page; trust but verify. */
	if (run->io.data_offset + bytes > vcpu->vm->run_size || !run->io.size)
		return 0;
	if (out && port == VM_PORT_SNAPSHOT && vcpu->vm->snap_port_fn) {
		ioport__snapshot(vcpu, data);
		return 0;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!vcpu->vm->machine->io(vcpu, port, out, data, run->io.size, &status)) {
			ioport__warn(vcpu->vm, port, out);
			if (!out)
				memset(data, 0xff, run->io.size);
		}
		if (status >= 0)
			return status + 1;
	}
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
