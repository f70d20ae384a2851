// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: stopping every vCPU of a VM and holding it stopped.
 *
 * How a vCPU is stopped (checked in the test VM by selftests/kvmdbg/): set
 * run->immediate_exit, send the VMM's kick signal to the vCPU's own thread
 * and kick it, then take vcpu->mutex. KVM_RUN holds that mutex for as long
 * as the vCPU is in the guest, so owning it proves the vCPU is outside
 * KVM_RUN; immediate_exit makes every later KVM_RUN return -EINTR before
 * the guest is entered. The signal is needed because a vCPU spinning in the
 * guest only leaves KVM_RUN on a pending signal; it goes to the vCPU's
 * thread (vcpu->pid), not to the process: a process-wide signal may land
 * on another thread and the mutex wait would never end.
 *
 * Why capture goes through KVM's own vCPU ioctl handlers: segment and
 * descriptor-table state is only reachable through KVM_GET_SREGS (the
 * kvm_x86_ops get_segment/get_idt/get_gdt static calls and the
 * kvm_arch_vcpu_ioctl_get_* helpers are not exported), and going through
 * the same handler for every class gives exactly what KVM_GET_* returns,
 * which the selftests compare field by field. Those handlers take
 * vcpu->mutex themselves, so a vCPU's mutex is dropped for the duration of
 * its own capture while every other vCPU stays held. During that window
 * the vCPU thread may call KVM_RUN again; with immediate_exit set the only
 * ways it can change guest state there are (a) finishing an instruction
 * that exited to userspace (complete_userspace_io) and (b) entering the
 * guest because the VMM cleared immediate_exit. (a) changes
 * arch.complete_userspace_io, (b) bumps stat.exits before the mutex can
 * be ours again. kvmdbg_freeze_still() compares both against the values
 * seen when the world was held, with every mutex held again: if they are
 * unchanged, no vCPU executed a guest instruction between the first and
 * the last capture, otherwise the caller captures again.
 *
 * A kick can be lost: in the test VM (nested SVM under QEMU TCG) a vCPU
 * was seen to stay in the guest for minutes after its signal and IPI,
 * with the caller asleep on its mutex. So the wait for a mutex polls and
 * kicks again every KVMDBG_FREEZE_REKICK_MS.
 *
 * The wait spins only KVMDBG_FREEZE_SPIN_NS (a kicked vCPU on real
 * hardware leaves within a few microseconds), then sleeps between polls,
 * and does not use mutex_lock(): its optimistic spin lasts as long as the
 * owner is on a CPU, which a vCPU in the guest is. In the test VM a
 * spinning waiter delayed the vCPU it waited for by milliseconds when the
 * host was busy (the VM's CPUs are host threads: the waiter's kept
 * competing for the host's cores with the one that had to leave the
 * guest); bench/stw_bench.c times a spinning and a sleeping waiter.
 *
 * Every vcpu->mutex is taken in vCPU index order, killable, so a VMM
 * killed mid-call does not hang and two sessions cannot deadlock. They are
 * never held across a return to userspace: KVMDBG_FREEZE leaves only
 * immediate_exit set (the VMM may still issue KVM_GET_* while frozen).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include "kvmdbg.h"

#define KVMDBG_VCPU_FILE_PREFIX	"kvm-vcpu:"
#define KVMDBG_FREEZE_SPIN_NS	(10 * NSEC_PER_USEC)
#define KVMDBG_FREEZE_POLL_MIN_US	10
#define KVMDBG_FREEZE_POLL_MAX_US	30
#define KVMDBG_FREEZE_REKICK_MS	10

struct kvmdbg_match {
	struct kvmdbg_world *w;
	struct file *vm_file;
};

static bool kvmdbg_freeze_is_vcpu_file(struct file *file,
				       struct kvmdbg_world *w)
{
	const char *name = file->f_path.dentry->d_name.name;
	struct kvm_vcpu *vcpu;

	if (file->f_op->owner != w->sess->kvm_owner ||
	    file->f_op == w->sess->vm_fops)
		return false;
	if (strncmp(name, KVMDBG_VCPU_FILE_PREFIX,
		    strlen(KVMDBG_VCPU_FILE_PREFIX)))
		return false;
	vcpu = file->private_data;
	return vcpu && vcpu->kvm == w->sess->kvm;
}

static int kvmdbg_freeze_match_file(const void *p, struct file *file,
				    unsigned int fd)
{
	struct kvmdbg_world *w = (struct kvmdbg_world *)p;
	struct kvm_vcpu *vcpu;

	if (!kvmdbg_freeze_is_vcpu_file(file, w))
		return 0;
	vcpu = file->private_data;
	if (vcpu->vcpu_idx >= w->nr || w->vcpus[vcpu->vcpu_idx] != vcpu ||
	    w->files[vcpu->vcpu_idx])
		return 0;
	w->files[vcpu->vcpu_idx] = get_file(file);
	return 0;
}

/**
 * kvmdbg_freeze_begin() - prepare to stop the VM's current vCPUs.
 * @w: the world to fill.
 * @sess: the session; its kick signal must be set.
 *
 * Looks up the vCPUs online now and their files in the caller's fd table.
 * vCPUs created later are not part of this world.
 *
 * Context: process context of the VMM, @sess->lock held.
 * Return: 0, -EIO for a caller outside the VM's process, -ENOMEM.
 */
int kvmdbg_freeze_begin(struct kvmdbg_world *w, struct kvmdbg_session *sess)
{
	struct kvm *kvm = sess->kvm;
	unsigned int i;

	memset(w, 0, sizeof(*w));
	w->sess = sess;
	if (kvm->mm != current->mm || READ_ONCE(kvm->vm_dead))
		return -EIO;
	w->nr = atomic_read(&kvm->online_vcpus);
	/* Pairs with the smp_wmb() in KVM_CREATE_VCPU, as kvm_get_vcpu(). */
	smp_rmb();
	w->vcpus = kcalloc(w->nr + 1, sizeof(*w->vcpus), GFP_KERNEL);
	w->files = kcalloc(w->nr + 1, sizeof(*w->files), GFP_KERNEL);
	w->exits = kcalloc(w->nr + 1, sizeof(*w->exits), GFP_KERNEL);
	w->cui = kcalloc(w->nr + 1, sizeof(*w->cui), GFP_KERNEL);
	w->held = bitmap_zalloc(w->nr + 1, GFP_KERNEL);
	if (!w->vcpus || !w->files || !w->exits || !w->cui || !w->held) {
		kvmdbg_freeze_end(w);
		return -ENOMEM;
	}
	for (i = 0; i < w->nr; i++)
		w->vcpus[i] = kvm_get_vcpu(kvm, i);
	kvmdbg_freeze_find_files(w);
	return 0;
}

/**
 * kvmdbg_freeze_find_files() - reference the caller's file of each vCPU.
 * @w: a world with @w->vcpus and a zeroed @w->files of @w->nr entries.
 *
 * Context: process context of the ioctl's caller.
 */
void kvmdbg_freeze_find_files(struct kvmdbg_world *w)
{
	iterate_fd(current->files, 0, kvmdbg_freeze_match_file, w);
}

static void kvmdbg_freeze_kick(struct kvm_vcpu *vcpu, int signo)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(rcu_dereference(vcpu->pid), PIDTYPE_PID);
	if (task)
		send_sig(signo, task, 1);
	rcu_read_unlock();
	kvm_vcpu_kick(vcpu);
}

/*
 * Takes @vcpu's mutex after its kick: spins for KVMDBG_FREEZE_SPIN_NS,
 * then polls with short sleeps, kicking it again every
 * KVMDBG_FREEZE_REKICK_MS.
 * Return: 0, or -EINTR when the caller was killed while waiting.
 */
static int kvmdbg_freeze_lock(struct kvm_vcpu *vcpu, int signo)
{
	ktime_t start = ktime_get(), kicked = start;

	while (!mutex_trylock(&vcpu->mutex)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (ktime_to_ns(ktime_sub(ktime_get(), start)) < KVMDBG_FREEZE_SPIN_NS) {
			cpu_relax();
			continue;
		}
		if (ktime_to_ms(ktime_sub(ktime_get(), kicked)) >= KVMDBG_FREEZE_REKICK_MS) {
			kvmdbg_freeze_kick(vcpu, signo);
			kicked = ktime_get();
		}
		usleep_range(KVMDBG_FREEZE_POLL_MIN_US, KVMDBG_FREEZE_POLL_MAX_US);
	}
	return 0;
}

static void kvmdbg_freeze_note(struct kvmdbg_world *w, unsigned int i)
{
	w->exits[i] = READ_ONCE(w->vcpus[i]->stat.exits);
	w->cui[i] = READ_ONCE(w->vcpus[i]->arch.complete_userspace_io);
}

/**
 * kvmdbg_freeze_hold() - stop every vCPU of @w and hold its mutex.
 * @w: a world from kvmdbg_freeze_begin().
 *
 * Signals all busy vCPUs before waiting for any, so they stop in parallel.
 *
 * Context: process context, @w->sess->lock held. On success every
 * vcpu->mutex of @w is held; on failure those already taken stay held
 * until kvmdbg_freeze_end().
 * Return: 0, or -EINTR when the caller was killed while waiting.
 */
int kvmdbg_freeze_hold(struct kvmdbg_world *w)
{
	unsigned int i;

	w->start = ktime_get();
	for (i = 0; i < w->nr; i++)
		WRITE_ONCE(w->vcpus[i]->run->immediate_exit, 1);
	/* immediate_exit must be visible before the vCPU sees the signal. */
	smp_mb();
	for (i = 0; i < w->nr; i++) {
		if (test_bit(i, w->held))
			continue;
		if (mutex_trylock(&w->vcpus[i]->mutex))
			__set_bit(i, w->held);
		else
			kvmdbg_freeze_kick(w->vcpus[i], w->sess->kick_signal);
	}
	for (i = 0; i < w->nr; i++) {
		if (test_bit(i, w->held))
			continue;
		if (kvmdbg_freeze_lock(w->vcpus[i], w->sess->kick_signal))
			return -EINTR;
		__set_bit(i, w->held);
	}
	for (i = 0; i < w->nr; i++)
		kvmdbg_freeze_note(w, i);
	return 0;
}

/**
 * kvmdbg_freeze_unlock_one() - let KVM's handlers take vCPU @i's mutex.
 * @w: a held world.
 * @i: vCPU index.
 *
 * Context: vCPU @i's mutex held by this ioctl.
 * Return: 0, or -EIO when the caller has no file for vCPU @i.
 */
int kvmdbg_freeze_unlock_one(struct kvmdbg_world *w, unsigned int i)
{
	if (!w->files[i]) {
		pr_info_ratelimited("vCPU %u has no fd in the caller\n", i);
		return -EIO;
	}
	__clear_bit(i, w->held);
	mutex_unlock(&w->vcpus[i]->mutex);
	return 0;
}

/**
 * kvmdbg_freeze_relock_one() - stop vCPU @i again and take its mutex.
 * @w: a world.
 * @i: vCPU index, not held.
 *
 * Context: process context.
 * Return: 0, or -EINTR when the caller was killed while waiting.
 */
int kvmdbg_freeze_relock_one(struct kvmdbg_world *w, unsigned int i)
{
	struct kvm_vcpu *vcpu = w->vcpus[i];

	WRITE_ONCE(vcpu->run->immediate_exit, 1);
	/* immediate_exit must be visible before the vCPU sees the signal. */
	smp_mb();
	if (!mutex_trylock(&vcpu->mutex)) {
		kvmdbg_freeze_kick(vcpu, w->sess->kick_signal);
		if (kvmdbg_freeze_lock(vcpu, w->sess->kick_signal))
			return -EINTR;
	}
	__set_bit(i, w->held);
	return 0;
}

/**
 * kvmdbg_freeze_still() - did no vCPU run since kvmdbg_freeze_hold()?
 * @w: a world with every mutex held.
 *
 * See the comment at the top of this file for why this is a proof.
 *
 * Context: every vcpu->mutex of @w held.
 * Return: true when no vCPU entered the guest or completed an instruction.
 */
bool kvmdbg_freeze_still(struct kvmdbg_world *w)
{
	bool still = true;
	unsigned int i;

	for (i = 0; i < w->nr; i++) {
		if (w->exits[i] != READ_ONCE(w->vcpus[i]->stat.exits) ||
		    w->cui[i] != READ_ONCE(w->vcpus[i]->arch.complete_userspace_io))
			still = false;
		kvmdbg_freeze_note(w, i);
	}
	return still;
}

/**
 * kvmdbg_freeze_vcpu_ioctl() - run one of KVM's vCPU ioctls on vCPU @i.
 * @w: the world.
 * @i: vCPU index, its mutex not held by this ioctl.
 * @cmd: a KVM vCPU ioctl.
 * @arg: its user pointer.
 *
 * Context: process context of the VMM.
 * Return: what KVM's handler returns.
 */
long kvmdbg_freeze_vcpu_ioctl(struct kvmdbg_world *w, unsigned int i,
			      unsigned int cmd, void __user *arg)
{
	struct file *file = w->files[i];

	return file->f_op->unlocked_ioctl(file, cmd, (unsigned long)arg);
}

/**
 * kvmdbg_freeze_end() - release everything a world holds.
 * @w: the world (may be partly set up).
 *
 * Leaves immediate_exit set while the session is frozen (KVMDBG_FREEZE),
 * clears it otherwise.
 *
 * Context: process context.
 */
void kvmdbg_freeze_end(struct kvmdbg_world *w)
{
	unsigned int i;

	for (i = 0; w->vcpus && i < w->nr; i++) {
		if (!w->sess->frozen)
			WRITE_ONCE(w->vcpus[i]->run->immediate_exit, 0);
		if (w->held && test_bit(i, w->held))
			mutex_unlock(&w->vcpus[i]->mutex);
		if (w->files && w->files[i])
			fput(w->files[i]);
	}
	kfree(w->vcpus);
	kfree(w->files);
	kfree(w->exits);
	kfree(w->cui);
	bitmap_free(w->held);
	memset(w, 0, sizeof(*w));
}

/**
 * kvmdbg_freeze_release_exit() - let every vCPU of @kvm enter the guest.
 * @kvm: the VM.
 *
 * Context: process context; no vcpu->mutex needed, userspace owns the
 * field and re-reads it on each KVM_RUN.
 */
void kvmdbg_freeze_release_exit(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	kvm_for_each_vcpu(i, vcpu, kvm)
		WRITE_ONCE(vcpu->run->immediate_exit, 0);
}
