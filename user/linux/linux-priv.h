/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the Linux machine (user/linux/linux.h, kvmdbg-launch
 * --kernel): the bzImage / vmlinux loader and boot_params (linux_boot.c),
 * the in-kernel irqchip and PIT (irqchip.c), ACPI tables (acpi.c), the
 * COM1 8250 UART (serial.c), the few legacy ports Linux pokes
 * (linux_io.c) and the table that plugs them into the core
 * (linux_machine.c).
 *
 * Guest-physical layout of a Linux VM, below 1 MiB (the page tables and
 * GDT of user/vmm/vm.h stay where they are, with a Linux-style GDT):
 *   0x10000   boot_params (the "zero page")
 *   0x20000   kernel command line
 *   0xe0000   ACPI tables (RSDP first), e820-reserved up to 1 MiB
 *   0x100000  the kernel (bzImage protected-mode part, or vmlinux PT_LOADs)
 *   top       the initrd, page-aligned, below initrd_addr_max
 */
#ifndef KVMDBG_USER_LINUX_PRIV_H
#define KVMDBG_USER_LINUX_PRIV_H

#include "user/vmm/vm-priv.h"

#define LINUX_GPA_BOOT_PARAMS	0x10000ULL
#define LINUX_BOOT_PARAMS_SIZE	0x1000ULL	/* struct boot_params */
#define LINUX_GPA_CMDLINE	0x20000ULL
#define LINUX_GPA_ACPI		0xe0000ULL
#define LINUX_GPA_KERNEL	0x100000ULL
#define LINUX_BASE_MEM_END	0x9fc00ULL	/* 639 KiB usable base memory */
/* The IOAPIC and LAPIC pages sit at 0xfec00000/0xfee00000: RAM stays below. */
#define LINUX_MEM_MAX		VM_IRQCHIP_MEM_MAX

/* Port ranges the Linux VM claims (see linux_io.c). */
#define LINUX_PORT_KBD_CMD	0x64	/* write 0xFE: keyboard-controller reset */
#define LINUX_PORT_PM1A_EVT	0x600	/* ACPI PM1a status (2 bytes) + enable (2) */
#define LINUX_PORT_PM1A_CNT	0x604	/* ACPI PM1a control (2 bytes) */
#define LINUX_IRQ_COM1		4
#define LINUX_IRQ_SCI		9	/* never raised: no ACPI events */

struct serial;

/* A kernel image, checked (no KVM needed) before anything is created. */
struct linux_image {
	struct image img;		/* the kernel file, mapped */
	bool bzimage;			/* else an ELF vmlinux */
	uint64_t entry;			/* 64-bit entry, guest-physical */
	uint64_t load_size;		/* bzImage: protected-mode bytes */
	const uint8_t *initrd;		/* mapped initrd, or NULL */
	size_t initrd_size;
	int initrd_fd;
	uint64_t initrd_addr;
};

/* Per-VM Linux state (vm->machine_data, linux__guest()). */
struct linux_guest {
	struct serial *com1;
	uint64_t boot_params;		/* GPA handed to the BSP in RSI */
	uint64_t cmdline_size;		/* bytes at LINUX_GPA_CMDLINE, with the
					 * NUL; 0 on a resume (not known) */
	uint16_t pm1_en;		/* PM1a enable register (atomic) */
	struct linux_image image;	/* from open to load */
	bool image_open;
};

static inline struct linux_guest *linux__guest(struct vm *vm)
{
	return vm->machine_data;
}

/*
 * The structures the Linux machine builds below 1 MiB, after the core's
 * (vm__core_regions()), in address order; @cmdline_size 0 (a resume: not
 * known) leaves the command line out. Pure, for unit tests.
 */
static inline int linux__layout_regions(uint64_t cmdline_size, struct vm_region *r)
{
	int n = 0;

	r[n++] = (struct vm_region){ LINUX_GPA_BOOT_PARAMS,
				     LINUX_GPA_BOOT_PARAMS + LINUX_BOOT_PARAMS_SIZE,
				     "Linux boot_params (zero page)" };
	if (cmdline_size)
		r[n++] = (struct vm_region){ LINUX_GPA_CMDLINE,
					     LINUX_GPA_CMDLINE + cmdline_size,
					     "kernel command line" };
	r[n++] = (struct vm_region){ LINUX_GPA_ACPI, LINUX_GPA_KERNEL, "ACPI tables" };
	return n;
}

/* linux_boot.c */
int linux__open(struct vm *vm, const struct vm_config *cfg, struct linux_image *li);
void linux__close(struct linux_image *li);
int linux__load(struct vm *vm, const struct vm_config *cfg, struct linux_image *li);
int linux__setup_vcpu(struct vm *vm, struct vcpu *vcpu);

/* irqchip.c: KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, the serial port; before
 * any vCPU exists. linux__destroy() undoes what linux__init_vm() made.
 */
int linux__init_vm(struct vm *vm, char *err, size_t err_len);
void linux__destroy(struct vm *vm);
int linux__irq_line(struct vm *vm, int irq, int level);
/* The devices for snapshots (struct vm_machine save/restore_devices). */
int linux__save_devices(struct vm *vm, struct vm_devices *d);
/* The core layout: VMCOREINFO and the direct map (linux_core.c). */
void linux__core_layout(const struct vm_core_mem *mem, const struct kvm_sregs *sregs,
			struct vm_core_layout *l);
int linux__restore_devices(struct vm *vm, const struct vm_devices *d, char *err,
			   size_t err_len);
void linux__devices_restored(struct vm *vm);

/* acpi.c: RSDP, XSDT, FADT, FACS, DSDT, MADT at LINUX_GPA_ACPI; returns the RSDP GPA. */
uint64_t acpi__build(struct vm *vm);

/* linux_io.c: 1 handled (out: *exit_status set when the guest ends, else -1),
 * 0 not a Linux port (default handling).
 */
int linux__io(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
	      unsigned int size, int *exit_status);

/* serial.c: an 8250/16550A UART; input from in_fd (a thread), output to out_fd. */
struct serial *serial__create(struct vm *vm, uint16_t base, int irq, int in_fd,
			      int out_fd);
void serial__destroy(struct serial *s);
bool serial__claims(const struct serial *s, uint16_t port);
void serial__out(struct serial *s, uint16_t port, uint8_t v);
uint8_t serial__in(struct serial *s, uint16_t port);
/* Register file, for snapshots (9 bytes used). */
#define SERIAL_STATE_SIZE	VM_UART_STATE_SIZE
void serial__save(struct serial *s, uint8_t out[SERIAL_STATE_SIZE]);
void serial__load(struct serial *s, const uint8_t in[SERIAL_STATE_SIZE]);
/* After a resume's irqchip and LAPIC restore: re-raise a pending IRQ. */
void serial__resync_irq(struct serial *s);

#endif /* KVMDBG_USER_LINUX_PRIV_H */
