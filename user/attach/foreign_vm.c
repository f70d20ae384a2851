// SPDX-License-Identifier: GPL-2.0
/*
 * A foreign VM through kvmdbg.ko (see user/attach/foreign_vm.h): the
 * session is a KVMDBG_ATTACH with KVMDBG_ATTACH_FOREIGN on the VM fd that
 * pidfd_getfd(2) gave us; KVMDBG_VM_INFO names the vCPUs' threads and the
 * memslots; a freeze is KVMDBG_FREEZE and one KVMDBG_SNAPSHOT of every
 * vCPU, kept until the thaw; a register write is one KVMDBG_SET_VCPU_STATE
 * and a new KVMDBG_SNAPSHOT, so what is kept is always what KVM holds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/attach/foreign_vm.h"
#include "user/vmm/kvmdbg_mod.h"

struct fvm {
	struct foreign_proc fp;		/* a copy: fds stay the caller's */
	struct kvmdbg_sess *sess;
	int nr_vcpus;
	pid_t *tids;
	int nr_slots;
	struct fvm_slot *slots;
	bool frozen;
	bool stale;			/* a capture after a write failed */
	struct kvmdbg_vcpu_state *st;	/* nr_vcpus records, at the freeze */
	uint64_t stopped_ns;
};

/* KVMDBG_VM_INFO twice: the counts, then the arrays. */
static int fvm__info(struct fvm *v)
{
	struct kvmdbg_vm_info info = { 0 };
	struct kvmdbg_vcpu_info *vi = NULL;
	struct kvmdbg_memslot *ms = NULL;
	int fd = kvmdbg_sess__fd(v->sess), r = 0;

	/* Rooms of 0: the counts come back with -E2BIG (or 0: none at all). */
	if (ioctl(fd, KVMDBG_VM_INFO, &info) && errno != E2BIG)
		return -errno;
	vi = calloc(info.nr_vcpus + 1, sizeof(*vi));
	ms = calloc(info.nr_memslots + 1, sizeof(*ms));
	v->tids = calloc(info.nr_vcpus + 1, sizeof(*v->tids));
	v->slots = calloc(info.nr_memslots + 1, sizeof(*v->slots));
	v->st = calloc(info.nr_vcpus + 1, sizeof(*v->st));
	if (!vi || !ms || !v->tids || !v->slots || !v->st) {
		r = -ENOMEM;
		goto out;
	}
	info.vcpus = (__u64)(uintptr_t)vi;
	info.memslots = (__u64)(uintptr_t)ms;
	if (ioctl(fd, KVMDBG_VM_INFO, &info)) {
		r = -errno;
		goto out;
	}
	v->nr_vcpus = (int)info.nr_vcpus;
	for (int i = 0; i < v->nr_vcpus; i++)
		v->tids[i] = (pid_t)vi[i].tid;
	v->nr_slots = (int)info.nr_memslots;
	for (int i = 0; i < v->nr_slots; i++)
		v->slots[i] = (struct fvm_slot){ .gpa = ms[i].guest_phys_addr,
						 .size = ms[i].memory_size,
						 .hva = ms[i].userspace_addr,
						 .id = ms[i].slot, .flags = ms[i].flags };
out:
	free(vi);
	free(ms);
	return r;
}

int fvm__open(const struct foreign_proc *fp, struct fvm **out, char *err,
	      size_t err_len)
{
	struct fvm *v = calloc(1, sizeof(*v));
	int r;

	*out = NULL;
	if (!v) {
		errf__set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	v->fp = *fp;
	r = kvmdbg_sess__attach_foreign(fp->vm_fd, fp->kick_signal, &v->sess);
	if (r) {
		errf__set(err, err_len, r == -EINVAL ?
		     "this kvmdbg.ko cannot attach to another process's VM (no KVMDBG_CAP_FOREIGN): load the module built with this kvmdbg-launch" :
		     "KVMDBG_ATTACH of process %d's VM: %s", (int)fp->pid, strerror(-r));
		free(v);
		return r;
	}
	r = fvm__info(v);
	if (r) {
		errf__set(err, err_len, "KVMDBG_VM_INFO: %s", strerror(-r));
		fvm__close(v);
		return r;
	}
	*out = v;
	return 0;
}

void fvm__close(struct fvm *v)
{
	if (!v)
		return;
	if (v->frozen)
		fvm__thaw(v);
	kvmdbg_sess__close(v->sess);
	free(v->tids);
	free(v->slots);
	free(v->st);
	free(v);
}

int fvm__nr_vcpus(const struct fvm *v)
{
	return v->nr_vcpus;
}

pid_t fvm__vcpu_tid(const struct fvm *v, int vcpu)
{
	return vcpu >= 0 && vcpu < v->nr_vcpus ? v->tids[vcpu] : 0;
}

int fvm__nr_slots(const struct fvm *v)
{
	return v->nr_slots;
}

const struct fvm_slot *fvm__slot(const struct fvm *v, int i)
{
	return &v->slots[i];
}

const struct foreign_proc *fvm__proc(const struct fvm *v)
{
	return &v->fp;
}

int fvm__freeze(struct fvm *v, char *err, size_t err_len)
{
	int r;

	if (v->frozen)
		return 0;
	r = kvmdbg_sess__freeze(v->sess);
	if (r) {
		errf__set(err, err_len, "cannot freeze the VM of process %d (%s): %s", (int)v->fp.pid,
		     v->fp.comm, r == -ESRCH ? "it is exiting" : strerror(-r));
		return r;
	}
	v->frozen = true;
	r = kvmdbg_sess__snapshot(v->sess, v->st, v->nr_vcpus, &v->stopped_ns);
	if (r < 0) {
		errf__set(err, err_len, "cannot capture the vCPUs of process %d (%s): %s",
		     (int)v->fp.pid, v->fp.comm, strerror(-r));
		fvm__thaw(v);
		return r;
	}
	return 0;
}

int fvm__thaw(struct fvm *v)
{
	int r = v->frozen ? kvmdbg_sess__thaw(v->sess) : 0;

	v->frozen = false;
	v->stale = false;
	return r;
}

bool fvm__frozen(const struct fvm *v)
{
	return v->frozen;
}

uint64_t fvm__stopped_ns(const struct fvm *v)
{
	return v->stopped_ns;
}

const struct kvmdbg_vcpu_state *fvm__state(const struct fvm *v, int vcpu)
{
	return v->frozen && !v->stale && vcpu >= 0 && vcpu < v->nr_vcpus ?
	       &v->st[vcpu] : NULL;
}

/* The MSR entries of @st that differ from the capture @was; how many. */
static __u32 fvm__changed_msrs(const struct kvmdbg_msrs *st,
			       const struct kvmdbg_msrs *was,
			       struct kvmdbg_msrs *out)
{
	out->nmsrs = 0;
	for (int i = 0; i < KVMDBG_NR_MSRS; i++)
		if (st->entries[i].data != was->entries[i].data)
			out->entries[out->nmsrs++] = (struct kvm_msr_entry){
				.index = was->entries[i].index,
				.data = st->entries[i].data };
	return out->nmsrs;
}

int fvm__set_state(struct fvm *v, int vcpu, const struct kvmdbg_vcpu_state *st,
		   unsigned int flags)
{
	struct kvmdbg_set_vcpu_state set = { .flags = flags };
	int r;

	if (vcpu < 0 || vcpu >= v->nr_vcpus)
		return -ESRCH;
	if (!v->frozen)
		return -EBUSY;
	if (v->stale)
		return -EIO;
	set.vcpu_id = v->st[vcpu].vcpu_id;
	set.regs = st->regs;
	set.sregs = st->sregs;
	set.fpu = st->fpu;
	if ((flags & KVMDBG_STATE_MSRS) &&
	    !fvm__changed_msrs(&st->msrs, &v->st[vcpu].msrs, &set.msrs))
		set.flags &= ~KVMDBG_STATE_MSRS;
	if (!set.flags)
		return 0;
	r = kvmdbg_sess__set_state(v->sess, &set);
	if (r)
		return r;
	/* KVM may have adjusted what was written: keep what it holds now. */
	r = kvmdbg_sess__snapshot(v->sess, v->st, v->nr_vcpus, NULL);
	v->stale = r != 0;
	return r;
}
