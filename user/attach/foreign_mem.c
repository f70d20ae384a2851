// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM of a foreign VM: the memslots say where each guest-physical
 * range sits in the VMM's address space, and process_vm_readv(2) /
 * process_vm_writev(2) move the bytes (they need the ptrace right that
 * --attach already proved; no page of the VMM is mapped into ours).
 * Reads and writes may run while the VM runs, as the VMM's own do.
 */
#include <errno.h>
#include <sys/uio.h>

#include "user/attach/foreign_vm.h"

static const struct fvm_slot *slot_of(const struct fvm *v, uint64_t gpa)
{
	for (int i = 0; i < fvm__nr_slots(v); i++) {
		const struct fvm_slot *s = fvm__slot(v, i);

		if (gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

static ssize_t xfer(struct fvm *v, uint64_t gpa, void *buf, size_t len, bool write)
{
	pid_t pid = fvm__proc(v)->pid;
	size_t done = 0;

	while (done < len) {
		const struct fvm_slot *s = slot_of(v, gpa + done);
		struct iovec local, remote;
		size_t n;
		ssize_t r;

		if (!s)
			break;
		n = s->gpa + s->size - (gpa + done);
		if (n > len - done)
			n = len - done;
		local.iov_base = (uint8_t *)buf + done;
		local.iov_len = n;
		remote.iov_base = (void *)(uintptr_t)(s->hva + (gpa + done - s->gpa));
		remote.iov_len = n;
		r = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) :
			    process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r != n)
			break;
	}
	return done ? (ssize_t)done : -EFAULT;
}

ssize_t fvm__read_phys(struct fvm *v, uint64_t gpa, void *buf, size_t len)
{
	return len ? xfer(v, gpa, buf, len, false) : 0;
}

ssize_t fvm__write_phys(struct fvm *v, uint64_t gpa, const void *buf, size_t len)
{
	return len ? xfer(v, gpa, (void *)buf, len, true) : 0;
}
