/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmdbg: stop-the-world debugging of KVM guests.
 *
 * ABI of /dev/kvmdbg. Conventions follow include/uapi/linux/kvm.h:
 * only __u* fields, explicit padding to 8 bytes, a flags word and a
 * reserved tail in every argument struct; unknown flags or non-zero
 * reserved bytes are rejected with -EINVAL, unknown ioctls with -ENOTTY.
 *
 * The magic 0xBD is unused in Documentation/userspace-api/ioctl/
 * ioctl-number.rst of Linux 6.1.
 */
#ifndef _UAPI_LINUX_KVMDBG_H
#define _UAPI_LINUX_KVMDBG_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/kvm.h>

#define KVMDBG_DEVICE_NAME	"kvmdbg"

/* Bumped only on an incompatible change; additions come as capabilities. */
#define KVMDBG_API_VERSION	1

#define KVMDBGIO		0xBD

/*
 * KVMDBG_GET_API_VERSION: no argument (must be 0).
 * Returns KVMDBG_API_VERSION.
 */
#define KVMDBG_GET_API_VERSION	_IO(KVMDBGIO, 0x00)

/*
 * KVMDBG_CHECK_EXTENSION: argument is a KVMDBG_CAP_* value.
 * Returns 1 when the capability is supported, 0 when it is not.
 */
#define KVMDBG_CHECK_EXTENSION	_IO(KVMDBGIO, 0x01)

/*
 * KVMDBG_ATTACH: binds a new session to a VM.
 * Argument: struct kvmdbg_attach (in). Returns a new session fd (O_CLOEXEC).
 * Without flags the caller must be the process that created the VM (same
 * mm), else -EIO. With KVMDBG_ATTACH_FOREIGN the VM belongs to another
 * process (its fd taken with pidfd_getfd(2), which checked
 * PTRACE_MODE_ATTACH_REALCREDS on that process); the caller being the VM's
 * own process is then -EINVAL, a VMM whose address space is gone -ESRCH.
 * Several sessions may be attached to one VM at once.
 */
struct kvmdbg_attach {
	__u32 vm_fd;		/* in: a KVM VM fd held by the caller */
	__u32 flags;		/* in: 0 or KVMDBG_ATTACH_FOREIGN */
	__u64 reserved[6];	/* in: must be 0 */
};

#define KVMDBG_ATTACH_FOREIGN		(1u << 0)
#define KVMDBG_ATTACH_VALID_FLAGS	KVMDBG_ATTACH_FOREIGN

#define KVMDBG_ATTACH		_IOW(KVMDBGIO, 0x02, struct kvmdbg_attach)

/* Capabilities, queried with KVMDBG_CHECK_EXTENSION. */
#define KVMDBG_CAP_VERSION	0	/* the two ioctls above */
#define KVMDBG_CAP_ATTACH	1	/* KVMDBG_ATTACH */
#define KVMDBG_CAP_KICK_SIGNAL	2	/* KVMDBG_SET_KICK_SIGNAL */
#define KVMDBG_CAP_FREEZE	3	/* KVMDBG_FREEZE, KVMDBG_THAW */
#define KVMDBG_CAP_SNAPSHOT	4	/* KVMDBG_SNAPSHOT: vCPU state */
#define KVMDBG_CAP_RANGES	5	/* KVMDBG_SNAPSHOT: guest ranges */
#define KVMDBG_CAP_GUEST_DEBUG	6	/* KVMDBG_SET_GUEST_DEBUG */
#define KVMDBG_CAP_FOREIGN	7	/* KVMDBG_ATTACH_FOREIGN */
#define KVMDBG_CAP_VM_INFO	8	/* KVMDBG_VM_INFO */
#define KVMDBG_CAP_SET_STATE	9	/* KVMDBG_SET_VCPU_STATE */

/* ---- Session fd ioctls ---- */

/*
 * KVMDBG_SET_KICK_SIGNAL: the signal the VMM uses to kick its vCPU
 * threads out of KVM_RUN. The module sends it to each vCPU's own thread
 * when it freezes the VM; the VMM must handle it (a no-op handler is
 * enough) and must leave kvm_run->immediate_exit set while frozen.
 * Required before FREEZE, SNAPSHOT or SET_GUEST_DEBUG (else -EINVAL).
 */
struct kvmdbg_kick_signal {
	__u32 signo;		/* in: 1..64, not SIGKILL/SIGSTOP */
	__u32 flags;		/* in: must be 0 */
	__u64 reserved[3];	/* in: must be 0 */
};

#define KVMDBG_SET_KICK_SIGNAL	_IOW(KVMDBGIO, 0x10, struct kvmdbg_kick_signal)

/*
 * KVMDBG_FREEZE: no argument (must be 0). Stops every vCPU of the VM and
 * keeps it out of the guest (kvm_run->immediate_exit) until KVMDBG_THAW.
 * -EBUSY when already frozen. KVMDBG_THAW: no argument (must be 0);
 * -EINVAL when not frozen. Closing the session thaws.
 */
#define KVMDBG_FREEZE		_IO(KVMDBGIO, 0x11)
#define KVMDBG_THAW		_IO(KVMDBGIO, 0x12)

/* MSRs captured in every record: entries[KVMDBG_MSR_*] holds that MSR. */
#define KVMDBG_MSR_EFER			0	/* 0xc0000080 */
#define KVMDBG_MSR_FS_BASE		1	/* 0xc0000100 */
#define KVMDBG_MSR_GS_BASE		2	/* 0xc0000101 */
#define KVMDBG_MSR_KERNEL_GS_BASE	3	/* 0xc0000102 */
#define KVMDBG_MSR_LSTAR		4	/* 0xc0000082: a Linux guest's KASLR slide */
#define KVMDBG_NR_MSRS			5

/* Same layout as struct kvm_msrs with KVMDBG_NR_MSRS entries. */
struct kvmdbg_msrs {
	__u32 nmsrs;		/* out: KVMDBG_NR_MSRS */
	__u32 pad;		/* out: 0 */
	struct kvm_msr_entry entries[KVMDBG_NR_MSRS];	/* out */
};

/* One vCPU's state: what the KVM_GET_* vCPU ioctls return. All out. */
struct kvmdbg_vcpu_state {
	__u32 vcpu_id;		/* KVM vCPU id */
	__u32 flags;		/* 0 for now */
	__u64 reserved[3];	/* 0 */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs debugregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	struct kvmdbg_msrs msrs;
};

/* A guest range to copy. */
#define KVMDBG_RANGE_GPA	0	/* addr is guest-physical */
#define KVMDBG_RANGE_GVA	(1u << 0)	/* addr is guest-virtual */
#define KVMDBG_RANGE_VALID_FLAGS	KVMDBG_RANGE_GVA

struct kvmdbg_range {
	__u32 flags;		/* in: KVMDBG_RANGE_GPA or KVMDBG_RANGE_GVA */
	__u32 vcpu_id;		/* in: vCPU whose page tables translate a GVA */
	__u64 addr;		/* in: guest address */
	__u64 len;		/* in: bytes */
	__u64 buf;		/* in: user pointer to len bytes */
	__u64 reserved[2];	/* in: must be 0 */
};

#define KVMDBG_MAX_RANGES	64		/* per call, else -E2BIG */
#define KVMDBG_MAX_RANGE_BYTES	(16u << 20)	/* sum of len per call */
#define KVMDBG_MASK_WORDS	16		/* vCPU ids 0..1023 */
#define KVMDBG_NO_RANGE		0xffffffffu

/*
 * KVMDBG_SNAPSHOT: freezes the VM (unless already frozen), captures the
 * selected vCPUs and the ranges at one point in time, and thaws again
 * (unless frozen by KVMDBG_FREEZE). Records are written in vCPU index
 * (creation) order.
 */
struct kvmdbg_snapshot {
	__u32 flags;		/* in: must be 0 */
	/* in: room for records; out: records written (needed: -E2BIG) */
	__u32 nr_vcpus;
	/* in: bytes between records, a multiple of 8 >= the record's size */
	__u32 vcpu_stride;
	__u32 nr_ranges;	/* in: entries at ranges */
	__u64 vcpus;		/* in: user pointer to the records */
	__u64 ranges;		/* in: user pointer to struct kvmdbg_range[] */
	__u64 vcpu_mask[KVMDBG_MASK_WORDS];	/* in: bit = vCPU id; all 0 = all */
	__u64 stopped_ns;	/* out: ns the vCPUs were held stopped */
	/* out: index of the failing range, or KVMDBG_NO_RANGE */
	__u32 failed_range;
	__u32 nr_retries;	/* out: captures redone because a vCPU ran */
	__u64 reserved[4];	/* in: must be 0 */
};

#define KVMDBG_SNAPSHOT		_IOWR(KVMDBGIO, 0x13, struct kvmdbg_snapshot)

/*
 * KVMDBG_SET_GUEST_DEBUG: applies one struct kvm_guest_debug to every vCPU
 * while the VM is frozen, as KVM_SET_GUEST_DEBUG would on each vCPU.
 */
struct kvmdbg_guest_debug {
	__u32 flags;		/* in: must be 0 */
	__u32 pad;		/* in: must be 0 */
	__u64 reserved[3];	/* in: must be 0 */
	struct kvm_guest_debug dbg;	/* in */
};

#define KVMDBG_SET_GUEST_DEBUG	_IOW(KVMDBGIO, 0x14, struct kvmdbg_guest_debug)

/* KVMDBG_VM_INFO: one vCPU. All out. */
struct kvmdbg_vcpu_info {
	__u32 vcpu_id;		/* KVM vCPU id */
	__u32 tid;		/* its thread (caller's pid namespace), 0: none */
	__u32 flags;		/* KVMDBG_VCPU_INFO_* */
	__u32 pad;		/* 0 */
};

/* The caller holds this vCPU's fd (KVMDBG_SNAPSHOT needs it). */
#define KVMDBG_VCPU_INFO_FD	(1u << 0)

/* KVMDBG_VM_INFO: one user memslot, as KVM_SET_USER_MEMORY_REGION. */
struct kvmdbg_memslot {
	__u32 slot;		/* address space << 16 | slot id */
	__u32 flags;		/* KVM_MEM_* */
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;	/* in the VMM's address space */
};

/* KVMDBG_VM_INFO state bits. */
#define KVMDBG_VM_FOREIGN	(1u << 0)	/* attached with ..._FOREIGN */
#define KVMDBG_VM_FROZEN	(1u << 1)	/* this session is frozen */
#define KVMDBG_VM_VMM_GONE	(1u << 2)	/* the VMM's address space is gone */

/*
 * KVMDBG_VM_INFO: the VM's vCPUs (creation order) and user memslots
 * (sorted by address space, then guest-physical address). When a count
 * exceeds its room, both counts are written back, no entry is written and
 * the call fails with -E2BIG. Rooms of 0 just query the counts.
 */
struct kvmdbg_vm_info {
	__u32 flags;		/* in: must be 0 */
	__u32 state;		/* out: KVMDBG_VM_* */
	__u32 nr_vcpus;		/* in: room at vcpus; out: vCPUs */
	__u32 nr_memslots;	/* in: room at memslots; out: memslots */
	__u64 vcpus;		/* in: user pointer to struct kvmdbg_vcpu_info[] */
	__u64 memslots;		/* in: user pointer to struct kvmdbg_memslot[] */
	__u32 kick_signal;	/* out: the session's kick signal, 0: unset */
	__u32 pad;		/* in: must be 0 */
	__u64 reserved[4];	/* in: must be 0 */
};

#define KVMDBG_VM_INFO		_IOWR(KVMDBGIO, 0x15, struct kvmdbg_vm_info)

/* KVMDBG_SET_VCPU_STATE: which classes to write, each one KVM_SET_* ioctl. */
#define KVMDBG_STATE_REGS	(1u << 0)	/* KVM_SET_REGS(regs) */
#define KVMDBG_STATE_SREGS	(1u << 1)	/* KVM_SET_SREGS(sregs) */
#define KVMDBG_STATE_FPU	(1u << 2)	/* KVM_SET_FPU(fpu) */
#define KVMDBG_STATE_MSRS	(1u << 3)	/* KVM_SET_MSRS(msrs) */
#define KVMDBG_STATE_VALID_FLAGS	(KVMDBG_STATE_REGS | KVMDBG_STATE_SREGS | \
					 KVMDBG_STATE_FPU | KVMDBG_STATE_MSRS)

/*
 * KVMDBG_SET_VCPU_STATE: writes the classes named in flags (at least one)
 * into one vCPU of a foreign session's frozen VM, in this order, through
 * KVM's own KVM_SET_* handlers, as the VMM's KVM_SET_* would; stops at
 * the first class KVM refuses. A class not in flags is ignored. With
 * KVMDBG_STATE_MSRS, msrs.nmsrs is 1..KVMDBG_NR_MSRS and every entry's
 * index one of the MSRs a snapshot captures. Only on foreign sessions.
 */
struct kvmdbg_set_vcpu_state {
	__u32 vcpu_id;		/* in: KVM vCPU id */
	__u32 flags;		/* in: KVMDBG_STATE_* */
	__u64 reserved[3];	/* in: must be 0 */
	struct kvm_regs regs;	/* in */
	struct kvm_sregs sregs;	/* in */
	struct kvm_fpu fpu;	/* in */
	struct kvmdbg_msrs msrs;	/* in */
};

#define KVMDBG_SET_VCPU_STATE	_IOW(KVMDBGIO, 0x16, struct kvmdbg_set_vcpu_state)

#endif /* _UAPI_LINUX_KVMDBG_H */
