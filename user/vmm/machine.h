/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest kinds. What differs between the bare ELF/flat machine
 * (user/vmm/machine_elf.c) and the Linux machine (user/linux/): loading
 * and booting, CPUID, port I/O, what a reset means, the structures the
 * VMM builds in guest RAM and the in-kernel devices a snapshot carries.
 * The VMM core (vm.c, boot.c, ioport.c, vcpu.c) calls down through one
 * struct vm_machine per kind and never names a kind; the caller picks one
 * in vm_config.machine (NULL: the ELF machine), as kvmtool splits its
 * per-arch and per-device code from the core.
 */
#ifndef KVMDBG_USER_MACHINE_H
#define KVMDBG_USER_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct vm;
struct vcpu;
struct vm_config;

/* A guest-physical structure the VMM built: [start, end). */
struct vm_region {
	uint64_t start, end;
	const char *what;
};

/* Regions of the core (6) and of any kind (at most 4), together. */
#define VM_MAX_REGIONS		10
#define VM_MACHINE_MAX_REGIONS	4

/* Register file of the COM1 UART, for snapshots (9 bytes used). */
#define VM_UART_STATE_SIZE	16

/*
 * RAM of a VM with KVM's in-kernel irqchip stays below its IOAPIC and
 * LAPIC pages (0xfec00000, 0xfee00000).
 */
#define VM_IRQCHIP_MEM_MAX	(3ULL << 30)

/* The in-kernel devices of a kind with an irqchip, as one snapshot holds them. */
struct vm_devices {
	bool irqchip;			/* false: none of the below */
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	uint8_t uart[VM_UART_STATE_SIZE];
};

typedef void (*vm_print_fn)(void *out, const char *fmt, ...);

/*
 * How a guest core (user/core/, docs/core-format.md) shows this kind's
 * RAM, filled in by the kind's core_layout hook with every vCPU held.
 * The writer puts @note (if any) in the core's PT_NOTE as it is and gives
 * every PT_LOAD p_vaddr = vaddr_base + p_paddr (0 when !vaddr_valid).
 */
#define VM_CORE_NOTE_MAX	8192

/* One range of guest RAM a core holds: [gpa, gpa + size). */
struct vm_core_range {
	uint64_t gpa, size;
};

/*
 * Guest RAM as the core_layout hook reads it: the launcher's own VM or
 * one another VMM runs (user/attach/), in ranges (gpa order, apart).
 */
struct vm_core_mem {
	void *ctx;
	/* [gpa, gpa + len) inside one range into buf: 0, or -EFAULT. */
	int (*read)(void *ctx, uint64_t gpa, void *buf, uint64_t len);
	int nr_ranges;
	const struct vm_core_range *ranges;
};

struct vm_core_layout {
	bool vaddr_valid;
	uint64_t vaddr_base;
	/* in: the guest's symbol file and its load slide, if known */
	const char *symbols;
	bool have_slide;
	uint64_t slide;
	/* out: a whole ELF note from guest memory (the Linux VMCOREINFO) */
	uint8_t note[VM_CORE_NOTE_MAX];
	uint32_t note_len;
	uint64_t note_gpa;
	/*
	 * out: a second PT_LOAD for the kernel image's own mapping of RAM
	 * (Linux: __START_KERNEL_map + phys_base), as a kdump vmcore has;
	 * text_size 0 for none
	 */
	uint64_t text_vaddr, text_paddr, text_size;
	/* out: one line for the summary, e.g. "VMCOREINFO at 0x... (scan)" */
	char what[160];
};

/*
 * One guest kind. Hooks marked optional may be NULL. All run before
 * vm__start() on the creating thread, except io (on vCPU threads) and
 * save_devices (the snapshot writer, every vCPU held).
 */
struct vm_machine {
	const char *name;		/* "ELF", "Linux" */
	/* KVM's in-kernel irqchip, PIT and a LAPIC per vCPU. */
	bool irqchip;
	/*
	 * A KVM_EXIT_SHUTDOWN no debugger claimed: true, a reset (Linux's
	 * reboot=t) that ends the VM with status 0; false, a crash.
	 */
	bool reset_ends;
	/* MSRs of this kind's guests a snapshot saves beyond the common set. */
	const uint32_t *msrs;
	unsigned int nr_msrs;

	/* Check and map the image before KVM exists (no resume). */
	int (*open)(struct vm *vm, const struct vm_config *cfg);
	/* Optional: devices needed before any vCPU; also on a resume. */
	int (*init)(struct vm *vm, const struct vm_config *cfg);
	/* RAM exists: copy the image in, build boot structures, unmap it. */
	int (*load)(struct vm *vm, const struct vm_config *cfg);
	/* Optional: one entry of the vCPUs' CPUID as this kind needs it. */
	void (*cpuid)(struct vm *vm, struct kvm_cpuid_entry2 *e);
	/* Registers at the entry point; CPUID is set. */
	int (*setup_vcpu)(struct vm *vm, struct vcpu *vcpu);
	/*
	 * One access of a port-I/O exit (each of a string op's in turn):
	 * 1 claimed (*exit_status >= 0 ends the VM with it), 0 not this
	 * kind's port (an empty bus: writes ignored, reads all-ones).
	 */
	int (*io)(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		  unsigned int size, int *exit_status);
	/* Optional: this kind's regions after the core's, in address order. */
	int (*regions)(struct vm *vm, struct vm_region *r);
	/* Optional: lines of `info memory` after the regions. */
	void (*describe)(struct vm *vm, vm_print_fn print, void *out);
	/* Optional (irqchip kinds): the devices, every vCPU held. */
	int (*save_devices)(struct vm *vm, struct vm_devices *d);
	/* Optional: devices back before any vCPU's state; then after all. */
	int (*restore_devices)(struct vm *vm, const struct vm_devices *d,
			       char *err, size_t err_len);
	void (*devices_restored)(struct vm *vm);
	/*
	 * Optional: a core's layout (above), every vCPU held; @sregs is
	 * vCPU 0's, @mem the VM's RAM. NULL: p_vaddr 0 (unknown) and no
	 * note. Only reads @mem (a foreign VM's core calls the Linux kind's).
	 */
	void (*core_layout)(const struct vm_core_mem *mem, const struct kvm_sregs *sregs,
			    struct vm_core_layout *l);
	/* Optional: undo open, init and load (any subset of them ran). */
	void (*destroy)(struct vm *vm);
};

/* The bare machine: a static ELF64 or flat binary (user/vmm/machine_elf.c). */
extern const struct vm_machine vm_machine_elf;

/* The VM's kind. */
const struct vm_machine *vm__machine(struct vm *vm);

/*
 * `info memory`: RAM, the structures of the core and of the kind, then
 * the kind's own lines.
 */
void vm__describe_memory(struct vm *vm, vm_print_fn print, void *out);

#endif /* KVMDBG_USER_MACHINE_H */
