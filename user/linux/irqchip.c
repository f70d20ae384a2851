// SPDX-License-Identifier: GPL-2.0
/*
 * The devices a Linux guest needs that KVM emulates itself: the in-kernel
 * irqchip (two 8259 PICs, the IOAPIC, a LAPIC per vCPU) and the PIT.
 * Both must exist before the first vCPU is created (KVM attaches a LAPIC
 * at KVM_CREATE_VCPU only when the irqchip is already there), so
 * linux__init_vm() runs right after KVM_CREATE_VM. It also creates the
 * COM1 UART, whose input thread may inject IRQs from then on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "user/linux/linux-priv.h"

/* Three pages below the 4 GiB hole that VMX needs for real mode (the APs'
 * SIPI trampoline) on hosts without unrestricted guest; outside RAM.
 */
#define KVM_TSS_GPA	0xfffbd000UL

/*
 * GSI routing as on a PC (QEMU and kvmtool do the same): GSIs 0-15 reach
 * the 8259 pins (master 0-7 but not the cascade pin 2, slave 8-15), and
 * the IOAPIC pins 1-23 one to one, except that GSI 0 (the in-kernel PIT's
 * output) goes to IOAPIC pin 2, as the MADT's IRQ0->GSI2 override says.
 * KVM's default table sends GSI 0 to IOAPIC pin 0, so a guest that
 * believes the override unmasks pin 2 and never sees a PIT tick: Linux
 * then gets no jiffies, fails to verify the LAPIC timer and is left with
 * the (silent) PIT as its only clockevent, so sleep and poweroff hang.
 */
static int irqchip__route(struct vm *vm)
{
	struct kvm_irq_routing *t;
	int n = 0, r;

	t = calloc(1, sizeof(*t) + 48 * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	for (int gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		t->entries[n].gsi = gsi;
		t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							  : KVM_IRQCHIP_PIC_SLAVE;
		t->entries[n++].u.irqchip.pin = gsi % 8;
	}
	for (int gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		t->entries[n].gsi = gsi;
		t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		t->entries[n++].u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	t->nr = n;
	r = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) ? -errno : 0;
	free(t);
	return r;
}

static int irqchip__create(struct vm *vm, char *err, size_t err_len)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int r;

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0) {
		errf__set(err, err_len, "%s lacks KVM_CAP_IRQCHIP or KVM_CAP_PIT2, which a Linux guest needs",
			 kvm__device());
		return -EOPNOTSUPP;
	}
	/* Only VMX implements it; elsewhere it fails harmlessly. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		int e = errno;

		errf__set(err, err_len, "KVM_CREATE_IRQCHIP failed: %s", strerror(e));
		return -e;
	}
	r = irqchip__route(vm);
	if (r < 0) {
		errf__set(err, err_len, "KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
		return r;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit)) {
		int e = errno;

		errf__set(err, err_len, "KVM_CREATE_PIT2 failed: %s", strerror(e));
		return -e;
	}
	return 0;
}

int linux__init_vm(struct vm *vm, char *err, size_t err_len)
{
	struct linux_guest *lg = linux__guest(vm);
	int r = irqchip__create(vm, err, err_len);

	if (r < 0)
		return r;
	lg->com1 = serial__create(vm, VM_PORT_COM1, LINUX_IRQ_COM1, STDIN_FILENO,
				  vm->console_fd);
	if (!lg->com1) {
		errf__set(err, err_len, "cannot create the serial port: %s", strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

void linux__destroy(struct vm *vm)
{
	struct linux_guest *lg = linux__guest(vm);

	serial__destroy(lg->com1);
	lg->com1 = NULL;
}

int linux__irq_line(struct vm *vm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) ? -errno : 0;
}

/*
 * For a snapshot, while the world is held: the PICs' and IOAPIC's
 * registers and pin levels, the PIT's counters, the kvmclock and the
 * UART's registers (its RX FIFO is host input not yet read: not guest
 * state).
 */
int linux__save_devices(struct vm *vm, struct vm_devices *d)
{
	static const uint32_t chips[3] = {
		KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
	};

	for (int i = 0; i < 3; i++) {
		d->chip[i].chip_id = chips[i];
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &d->chip[i]))
			return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &d->pit) ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, &d->clock))
		return -errno;
	serial__save(linux__guest(vm)->com1, d->uart);
	d->irqchip = true;
	return 0;
}

/*
 * Before any vCPU's state: the irqchip first (the LAPICs restored next
 * deliver into it), then the PIT, the kvmclock (flags cleared so KVM sets
 * the clock to the captured value instead of adding the time the
 * snapshot sat on disk: the guest sees a pause, as under QEMU) and the
 * UART's registers.
 */
int linux__restore_devices(struct vm *vm, const struct vm_devices *d, char *err,
			   size_t err_len)
{
	struct kvm_clock_data clock = d->clock;
	const char *what = "KVM_SET_IRQCHIP";

	for (int i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &d->chip[i]))
			goto fail;
	what = "KVM_SET_PIT2";
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &d->pit))
		goto fail;
	what = "KVM_SET_CLOCK";
	clock.flags = 0;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock))
		goto fail;
	serial__load(linux__guest(vm)->com1, d->uart);
	return 0;
fail:
	{
		int e = errno;

		errf__set(err, err_len, "devices: %s failed: %s", what, strerror(e));
		return -e;
	}
}

/* After every vCPU's LAPIC is back: interrupts raised during the restore. */
void linux__devices_restored(struct vm *vm)
{
	serial__resync_irq(linux__guest(vm)->com1);
}
