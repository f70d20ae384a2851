/* SPDX-License-Identifier: GPL-2.0 */
/*
 * On-disk layout of a kvmdbg snapshot file (docs/snapshot-format.md).
 * Little-endian, every struct with explicit sizes and no holes; the
 * reader treats every field as untrusted.
 */
#ifndef KVMDBG_USER_SNAPSHOT_FORMAT_H
#define KVMDBG_USER_SNAPSHOT_FORMAT_H

#include <assert.h>
#include <stdint.h>

#define SNAP_MAGIC		"KVMDBGSN"
#define SNAP_VERSION		1
#define SNAP_PAGE		4096ULL

/* Caps on what a reader accepts (lengths from the file are untrusted). */
#define SNAP_MAX_SECTIONS	(4 + 2 * 1024)
#define SNAP_MAX_META		(64ULL << 20)	/* one section's size */
#define SNAP_MAX_RECORD		(1U << 20)	/* one vCPU record */
#define SNAP_MAX_STR		4096
#define SNAP_MAX_BUILD_ID	64
#define SNAP_MAX_MSRS		64

struct snap_header {
	char magic[8];		/* "KVMDBGSN" */
	uint32_t version;	/* SNAP_VERSION */
	uint32_t header_size;	/* sizeof(struct snap_header) */
	uint32_t flags;		/* SNAP_HDR_*; unknown bits are rejected */
	uint32_t nr_sections;
	uint64_t table_offset;	/* section table: nr_sections entries */
	uint64_t file_size;	/* whole file, bytes */
	uint32_t table_crc;	/* CRC32C of the section table */
	uint32_t header_crc;	/* CRC32C of this header with header_crc = 0 */
	uint8_t reserved[16];	/* 0 */
};
static_assert(sizeof(struct snap_header) == 64, "snap_header");

/*
 * The VM had KVM's in-kernel irqchip and PIT (a Linux guest): DEVICES has
 * irqchip = 1 and the device records, every VCPU a LAPIC record, and
 * resume recreates the Linux machine (irqchip, PIT, UART) first. A flag
 * rather than a new version, so files without it stay byte-identical to
 * what version 1 always was and older readers refuse these cleanly.
 */
#define SNAP_HDR_IRQCHIP	0x1u
/*
 * Captured from a VM another process runs (kvmdbg-launch --attach PID
 * --snapshot FILE): each VCPU holds exactly what kvmdbg.ko's capture
 * record holds (REGS, SREGS, FPU, DEBUGREGS, EVENTS, its MSRS), since KVM
 * refuses the rest to a foreign process; DEVICES records no halted state
 * and no devices; a SLOTS section before MEMORY gives the VM's memslot
 * layout, and every run lies in one slot. Resume recreates RAM and vCPUs
 * for inspection under gdb only: the foreign VMM's devices are not
 * recreated. A flag, as IRQCHIP is: older readers refuse it at the header.
 */
#define SNAP_HDR_FOREIGN	0x2u
#define SNAP_HDR_KNOWN		(SNAP_HDR_IRQCHIP | SNAP_HDR_FOREIGN)

enum snap_section_type {
	SNAP_SEC_CONFIG = 1,
	SNAP_SEC_VCPU = 2,	/* one per vCPU, in index order */
	SNAP_SEC_DEVICES = 3,
	SNAP_SEC_MEMORY = 4,
	SNAP_SEC_SLOTS = 5,	/* SNAP_HDR_FOREIGN only, before MEMORY */
};

struct snap_section {
	uint32_t type;		/* enum snap_section_type */
	uint32_t flags;		/* 0 */
	uint64_t offset;	/* from the start of the file, 8-aligned */
	uint64_t size;
	uint32_t crc;		/* CRC32C of the section's bytes */
	uint32_t reserved;	/* 0 */
};
static_assert(sizeof(struct snap_section) == 32, "snap_section");

enum snap_trigger {
	SNAP_TRIG_API = 0, SNAP_TRIG_SIGUSR1 = 1, SNAP_TRIG_PORT = 2,
	SNAP_TRIG_ADDR = 3, SNAP_TRIG_MONITOR = 4,
	SNAP_TRIG_ATTACH = 5,	/* --attach PID --snapshot FILE (SNAP_HDR_FOREIGN) */
};

/* CONFIG: followed by image_len bytes of image path, build_id_len bytes. */
struct snap_config {
	uint64_t mem_size;
	uint32_t nr_vcpus;
	uint32_t flags;		/* 0 */
	uint64_t entry;		/* the image's entry point */
	uint64_t created_ns;	/* CLOCK_REALTIME at capture */
	uint64_t stopped_ns;	/* how long the world was held for capture */
	uint64_t trigger_addr;	/* SNAP_TRIG_ADDR: the address */
	uint32_t trigger;	/* enum snap_trigger */
	uint32_t capture_path;	/* 0: userspace (signals + KVM_GET_*), 1: kvmdbg.ko */
	uint32_t image_len;	/* <= SNAP_MAX_STR, no NUL */
	uint32_t build_id_len;	/* <= SNAP_MAX_BUILD_ID */
};
static_assert(sizeof(struct snap_config) == 64, "snap_config");

/* VCPU: this, then nr_records records, each 8-aligned. */
struct snap_vcpu {
	uint32_t index;
	uint32_t nr_records;
};

enum snap_record_type {
	SNAP_REC_REGS = 1,	/* struct kvm_regs */
	SNAP_REC_SREGS = 2,	/* struct kvm_sregs */
	SNAP_REC_FPU = 3,	/* struct kvm_fpu (when no XSAVE) */
	SNAP_REC_XSAVE = 4,	/* struct kvm_xsave, >= 4096 bytes */
	SNAP_REC_XCRS = 5,	/* struct kvm_xcrs */
	SNAP_REC_DEBUGREGS = 6,	/* struct kvm_debugregs */
	SNAP_REC_EVENTS = 7,	/* struct kvm_vcpu_events */
	SNAP_REC_MSRS = 8,	/* u32 n, u32 0, struct kvm_msr_entry[n] */
	SNAP_REC_MP_STATE = 9,	/* struct kvm_mp_state */
	SNAP_REC_LAPIC = 10,	/* struct kvm_lapic_state (SNAP_HDR_IRQCHIP) */
};

struct snap_record {
	uint32_t type;
	uint32_t size;		/* payload bytes, padded to 8 in the file */
};

/* DEVICES: VMM state outside KVM, and the in-kernel devices if any. */
struct snap_devices {
	uint32_t nr_vcpus;
	uint32_t irqchip;	/* 0: none; 1: SNAP_HDR_IRQCHIP, records follow */
	/*
	 * then nr_vcpus bytes: 1 = vCPU halted (HLT, parked for good), padded
	 * to 8; with irqchip = 1 then struct snap_devrecs and its records
	 * (struct snap_record framing, payload padded to 8).
	 */
};

struct snap_devrecs {
	uint32_t nr_records;
	uint32_t reserved;	/* 0 */
};

enum snap_dev_record_type {
	SNAP_DEV_PIC_MASTER = 1,	/* struct kvm_irqchip, chip_id 0 */
	SNAP_DEV_PIC_SLAVE = 2,		/* struct kvm_irqchip, chip_id 1 */
	SNAP_DEV_IOAPIC = 3,		/* struct kvm_irqchip, chip_id 2 */
	SNAP_DEV_PIT2 = 4,		/* struct kvm_pit_state2 */
	SNAP_DEV_CLOCK = 5,		/* struct kvm_clock_data */
	SNAP_DEV_UART = 6,		/* COM1 registers, 16 bytes */
	SNAP_DEV_MAX = SNAP_DEV_UART,
};
#define SNAP_UART_SIZE		16

/* MEMORY: this, then nr_runs struct snap_run. */
struct snap_memory {
	uint64_t nr_runs;
	uint64_t page_size;	/* 4096 */
};

struct snap_run {
	uint64_t gpa;		/* page-aligned */
	uint64_t nr_pages;
	uint64_t offset;	/* page-aligned file offset of the data */
	uint32_t crc;		/* CRC32C of the run's data */
	uint32_t reserved;	/* 0 */
};
static_assert(sizeof(struct snap_run) == 32, "snap_run");

/*
 * SLOTS (SNAP_HDR_FOREIGN): this, then nr_slots struct snap_slot, sorted
 * by gpa and apart. Guest-physical address space 0 only (an SMM address
 * space is not stored).
 */
#define SNAP_MAX_SLOTS		4096

struct snap_slots {
	uint32_t nr_slots;	/* 1 .. SNAP_MAX_SLOTS */
	uint32_t reserved;	/* 0 */
};

struct snap_slot {
	uint64_t gpa;		/* page-aligned */
	uint64_t size;		/* page-aligned, > 0; gpa + size <= mem_size */
	uint32_t id;		/* KVM's slot number in the foreign VM */
	uint32_t flags;		/* KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY */
};
static_assert(sizeof(struct snap_slot) == 24, "snap_slot");

#endif /* KVMDBG_USER_SNAPSHOT_FORMAT_H */
