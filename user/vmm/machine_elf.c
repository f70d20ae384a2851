// SPDX-License-Identifier: GPL-2.0
/*
 * The bare machine (struct vm_machine, user/vmm/machine.h): a static
 * ELF64 or flat binary (loader.c) started in 64-bit long mode on every
 * vCPU with RIP = entry, RSP = top of its own stack, RDI = vCPU index,
 * RSI = number of vCPUs. Its ports: the debug console (0xE9), a
 * write-only COM1 (0x3F8) and the exit port (0xF4). No in-kernel devices;
 * a triple fault is a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "user/vmm/boot.h"

#define COM1_IIR	(VM_PORT_COM1 + 2)
#define COM1_LSR	(VM_PORT_COM1 + 5)
#define COM1_LAST	(VM_PORT_COM1 + 7)
#define LSR_THRE_TEMT	0x60	/* transmitter empty: write at will */
#define IIR_NO_INT	0x01

static int elf__open(struct vm *vm, const struct vm_config *cfg)
{
	struct image *img = calloc(1, sizeof(*img));
	int r;

	if (!img) {
		errf__set(cfg->err, cfg->err_len, "out of memory");
		return -ENOMEM;
	}
	r = loader__open(vm, cfg, img);
	if (r < 0) {
		free(img);
		return r;
	}
	vm->machine_data = img;
	return 0;
}

static void elf__destroy(struct vm *vm)
{
	struct image *img = vm->machine_data;

	if (!img)
		return;
	loader__close(img);
	free(img);
	vm->machine_data = NULL;
}

static int elf__load(struct vm *vm, const struct vm_config *cfg)
{
	loader__copy(vm, cfg, vm->machine_data);
	elf__destroy(vm);
	boot__build_tables(vm);
	return 0;
}

/* RIP = entry, RSP = top of this vCPU's stack, RDI = index, RSI = count. */
static int elf__set_regs(struct vm *vm, struct vcpu *vcpu)
{
	uint64_t stack = vm__stack_size(vm->nr_vcpus);
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = vm->entry;
	regs.rsp = GPA_STACKS + (uint64_t)(vcpu->idx + 1) * stack;
	regs.rdi = vcpu->idx;
	regs.rsi = vm->nr_vcpus;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

/* SSE on: ELF test guests are ordinary compiler output. */
static int elf__setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	int r = boot__set_long_mode_sregs(vcpu, SEL_CODE, SEL_DATA, SEL_TSS,
					  CR4_OSFXSR | CR4_OSXMMEXCPT);

	return r ? r : elf__set_regs(vm, vcpu);
}

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

/* The guest's value of an OUT, zero-extended from its size. */
static int elf__out_value(const uint8_t *data, unsigned int size)
{
	uint32_t v = 0;

	memcpy(&v, data, size > 4 ? 4 : size);
	return (int)v;
}

static int elf__io(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		   unsigned int size, int *exit_status)
{
	bool com1 = port >= VM_PORT_COM1 && port <= COM1_LAST;

	if (out && port == VM_PORT_EXIT) {
		*exit_status = elf__out_value(data, size);
		return 1;
	}
	/* Byte-wide registers: an access writes its first byte. */
	if (out && (port == VM_PORT_DEBUGCON || port == VM_PORT_COM1)) {
		console__write(vcpu->vm, data, 1);
		return 1;
	}
	if (!com1)
		return 0;
	if (out)
		return 1;	/* the other COM1 registers: ignored */
	memset(data, 0, size);
	data[0] = com1__read(port);
	return 1;
}

static void elf__describe(struct vm *vm, vm_print_fn print, void *out)
{
	int n = vm->nr_vcpus;
	uint64_t stack = vm__stack_size(n);

	print(out, "  0x%08" PRIx64 "-0x%08" PRIx64 "  vCPU stacks, %d x %#" PRIx64 "\n",
	      GPA_STACKS, GPA_STACKS + n * stack, n, stack);
	print(out, "  0x%08" PRIx64 "-0x%08" PRIx64 "  guest image and free RAM\n",
	      vm__reserved_end(n), vm->mem_size);
}

/* The page tables the VMM built map all RAM 1:1 (vm.h): identity p_vaddr. */
static void elf__core_layout(const struct vm_core_mem *mem, const struct kvm_sregs *sregs,
			     struct vm_core_layout *l)
{
	(void)mem;
	(void)sregs;
	l->vaddr_valid = true;
	l->vaddr_base = 0;
	snprintf(l->what, sizeof(l->what), "none (not a Linux guest)");
}

const struct vm_machine vm_machine_elf = {
	.name		= "ELF",
	.open		= elf__open,
	.load		= elf__load,
	.setup_vcpu	= elf__setup_vcpu,
	.io		= elf__io,
	.describe	= elf__describe,
	.core_layout	= elf__core_layout,
	.destroy	= elf__destroy,
};
