// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables for Linux guests: RSDP, XSDT, FADT, FACS, DSDT and MADT.
 *
 * Why ACPI and not an MP table: Debian's cloud kernel is built without
 * CONFIG_X86_MPPARSE, so the MADT is the only way it learns of the APs
 * and the IOAPIC. The FADT is a full (not "hardware-reduced") one: a
 * hardware-reduced FADT makes Linux drop the legacy PIC, and with it the
 * ISA IRQ numbers the 8250 driver requests (IRQ 4 then fails and ttyS0
 * is opened with TTY_IO_ERROR). SMI_CMD = 0 says "always in ACPI mode";
 * only the PM1a event and control blocks exist (no PM timer, no GPEs).
 * With \_S5 in the DSDT that gives Linux a working poweroff: it writes
 * SLP_TYP|SLP_EN to PM1a_CNT, which ends the VM (linux_io.c). A full
 * FADT must name a FACS: it holds the Global Lock (and the firmware
 * waking vector), which ACPICA uses whenever the Global Lock event can
 * be enabled. Layouts: ACPI 6.x, sections 5.2.x.
 */
#include <string.h>

#include "user/linux/linux-priv.h"

#define ACPI_RSDP_SIZE		36
#define ACPI_HDR_SIZE		36
#define ACPI_FADT_SIZE		276
#define ACPI_FACS_SIZE		64
#define ACPI_FACS_ALIGN		64	/* ACPI 6.x 5.2.10: 64-byte aligned */
#define ACPI_MADT_LAPIC_SIZE	8
#define ACPI_MADT_IOAPIC_SIZE	12
#define ACPI_MADT_ISO_SIZE	10

#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)
#define IAPC_VGA_NOT_PRESENT	(1u << 2)
#define IAPC_MSI_NOT_SUPPORTED	(1u << 3)
#define IAPC_CMOS_RTC_ABSENT	(1u << 5)

#define IOAPIC_GPA		0xfec00000u
#define LAPIC_GPA		0xfee00000u

/* Name (_S5, Package (4) { 5, 5, 0, 0 }): the S5 (soft-off) sleep type. */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

static uint8_t acpi__sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static void acpi__header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "KVMDBG", 6);
	memcpy(t + 16, "KVMDBGVM", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "KDBG", 4);
	put32(t + 32, 1);
	t[9] = 0;
	t[9] = -acpi__sum(t, len);
}

/*
 * The FACS below 4G goes in FIRMWARE_CTRL only: ACPI 6.x says
 * X_FIRMWARE_CTRL must be zero when FIRMWARE_CTRL is not, and ACPICA
 * warns when both are set and differ.
 */
static uint32_t acpi__fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
	memset(t, 0, ACPI_FADT_SIZE);
	put32(t + 36, facs);		/* FIRMWARE_CTRL */
	put32(t + 40, dsdt);
	put16(t + 46, LINUX_IRQ_SCI);
	put32(t + 56, LINUX_PORT_PM1A_EVT);
	put32(t + 64, LINUX_PORT_PM1A_CNT);
	t[88] = 4;			/* PM1_EVT_LEN: status + enable */
	t[89] = 2;			/* PM1_CNT_LEN */
	put16(t + 109, IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED | IAPC_CMOS_RTC_ABSENT);
	put32(t + 112, FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON);
	t[131] = 3;			/* FADT minor version: 6.3 */
	put64(t + 140, dsdt);		/* X_DSDT */
	memcpy(t + 268, "KVMDBG\0\0", 8);	/* hypervisor vendor identity */
	acpi__header(t, "FACP", ACPI_FADT_SIZE, 6);
	return ACPI_FADT_SIZE;
}

/*
 * Global Lock free (0), no S4BIOS, no 64-bit waking vector: the guest
 * never sleeps (S5 only). FACS has no checksum.
 */
static uint32_t acpi__facs(uint8_t *t)
{
	memset(t, 0, ACPI_FACS_SIZE);
	memcpy(t, "FACS", 4);
	put32(t + 4, ACPI_FACS_SIZE);
	t[32] = 2;			/* version: ACPI 4.0 and later */
	return ACPI_FACS_SIZE;
}

static uint32_t acpi__dsdt(uint8_t *t)
{
	uint32_t len = ACPI_HDR_SIZE + sizeof(dsdt_aml);

	memcpy(t + ACPI_HDR_SIZE, dsdt_aml, sizeof(dsdt_aml));
	acpi__header(t, "DSDT", len, 2);
	return len;
}

/*
 * One enabled LAPIC per vCPU (APIC ID = vCPU index, as CPUID says), the
 * in-kernel IOAPIC (GSIs 0-23, ID after the CPUs), and the usual ISA
 * override: IRQ 0 (PIT) on GSI 2. The other ISA IRQs map 1:1, edge-high.
 */
static uint32_t acpi__madt(struct vm *vm, uint8_t *t)
{
	uint32_t off = ACPI_HDR_SIZE + 8;

	put32(t + ACPI_HDR_SIZE, LAPIC_GPA);
	put32(t + ACPI_HDR_SIZE + 4, 1);	/* PCAT_COMPAT: 8259s exist */
	for (int i = 0; i < vm->nr_vcpus; i++, off += ACPI_MADT_LAPIC_SIZE) {
		uint8_t *e = t + off;

		e[0] = 0;
		e[1] = ACPI_MADT_LAPIC_SIZE;
		e[2] = i;			/* ACPI processor UID */
		e[3] = i;			/* APIC ID */
		put32(e + 4, 1);		/* enabled */
	}
	t[off] = 1;
	t[off + 1] = ACPI_MADT_IOAPIC_SIZE;
	t[off + 2] = vm->nr_vcpus;		/* IOAPIC ID */
	put32(t + off + 4, IOAPIC_GPA);
	put32(t + off + 8, 0);			/* GSI base */
	off += ACPI_MADT_IOAPIC_SIZE;
	t[off] = 2;
	t[off + 1] = ACPI_MADT_ISO_SIZE;
	t[off + 2] = 0;				/* ISA bus */
	t[off + 3] = 0;				/* IRQ 0 */
	put32(t + off + 4, 2);			/* GSI 2 */
	put16(t + off + 8, 0);			/* conforms to the bus */
	off += ACPI_MADT_ISO_SIZE;
	acpi__header(t, "APIC", off, 4);
	return off;
}

static uint32_t acpi__align(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Layout at LINUX_GPA_ACPI: RSDP (also found by Linux's scan of
 * 0xe0000-0xfffff), XSDT with 2 entries, FADT, FACS (LINUX_GPA_ACPI is
 * page-aligned, so offsets aligned here are aligned in guest memory),
 * DSDT, MADT. The MADT of the largest VM (KVM's vCPU limit, 8 bytes
 * each) fits in the 128 KiB.
 */
uint64_t acpi__build(struct vm *vm)
{
	uint64_t base = LINUX_GPA_ACPI, size = LINUX_GPA_KERNEL - base;
	uint8_t *mem = vm__gpa_to_hva(vm, base, size), *rsdp = mem;
	uint32_t xsdt = acpi__align(ACPI_RSDP_SIZE, 16), fadt, facs, dsdt, madt;

	memset(mem, 0, size);
	fadt = acpi__align(xsdt + ACPI_HDR_SIZE + 16, 16);
	facs = acpi__align(fadt + ACPI_FADT_SIZE, ACPI_FACS_ALIGN);
	dsdt = acpi__align(facs + acpi__facs(mem + facs), 16);
	madt = acpi__align(dsdt + acpi__dsdt(mem + dsdt), 16);
	acpi__madt(vm, mem + madt);
	acpi__fadt(mem + fadt, base + facs, base + dsdt);
	put64(mem + xsdt + ACPI_HDR_SIZE, base + fadt);
	put64(mem + xsdt + ACPI_HDR_SIZE + 8, base + madt);
	acpi__header(mem + xsdt, "XSDT", ACPI_HDR_SIZE + 16, 1);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "KVMDBG", 6);
	rsdp[15] = 2;				/* ACPI 2.0+: XSDT */
	put32(rsdp + 20, ACPI_RSDP_SIZE);
	put64(rsdp + 24, base + xsdt);
	rsdp[8] = -acpi__sum(rsdp, 20);
	rsdp[32] = -acpi__sum(rsdp, ACPI_RSDP_SIZE);
	return base;
}
