// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: sessions on a VM that another process runs (KVMDBG_ATTACH_FOREIGN).
 *
 * Permission: the caller holds the VM fd (and the vCPU fds it wants to
 * capture) of the VMM, taken with pidfd_getfd(2), which already required
 * PTRACE_MODE_ATTACH_REALCREDS on the VMM; /dev/kvmdbg is 0600.
 *
 * Why a worker kthread: KVM's vCPU ioctl handlers refuse a caller whose
 * mm is not the VM's (-EIO) and copy their results to user pointers of
 * the current mm; kvm_read_guest() reads the VMM's memory through
 * current->mm. Only a kthread can adopt another process's mm
 * (kthread_use_mm()). Each foreign session owns one worker; the session
 * ioctl (the debugger's context) posts one request at a time and waits.
 * For a capture the worker maps one scratch page into the VMM's address
 * space (vm_mmap(), unmapped before the request ends: the VMM can see it
 * in its maps meanwhile), lets KVM's handlers write there and bounces the
 * result through kernel memory; the debugger's context then copies it to
 * the debugger's buffers. A register write (KVMDBG_SET_VCPU_STATE) takes
 * the same route the other way: the state goes into the scratch page and
 * KVM's KVM_SET_* handlers read it from there. The worker takes a reference on the mm
 * (mmget_not_zero()) only for the length of a capture: a VMM that exits
 * while frozen gets its memory freed, and later captures fail with -ESRCH.
 *
 * How a foreign vCPU is held: a foreign VMM does not follow kvmdbg's
 * immediate_exit protocol (QEMU clears kvm_run->immediate_exit after every
 * EINTR), and KVM's handlers take vcpu->mutex themselves, so owning the
 * mutex alone leaves a window during each vCPU's own capture in which its
 * thread, waiting for the mutex in KVM_RUN, could enter the guest. So the
 * freeze parks each vCPU's thread (vcpu->pid): a task_work queued with
 * TWA_SIGNAL sets TIF_NOTIFY_SIGNAL, which makes KVM_RUN leave the guest
 * with -EINTR before any further guest entry, and when the thread returns
 * to userspace the work runs and sleeps (killable) until thaw. No VMM
 * signal handler runs for it and kvm_run is never written. The kick signal
 * is sent too (the VMM's own way to leave KVM_RUN, e.g. a vCPU blocked
 * where TIF_NOTIFY_SIGNAL does not wake it), after checking that the
 * vCPU's thread catches it: a signal with the default action would kill
 * the VMM. Once every thread is parked (or has none, or is exiting) the
 * worker takes every vcpu->mutex and keeps them until thaw: a mutex must
 * be released by its owner, and a kthread never returns to userspace with
 * it. While frozen, the VMM's vCPU threads sleep in that work (signals
 * other than SIGKILL wait for thaw) and any other thread of the VMM
 * sleeps at its next vCPU ioctl.
 *
 * The worker sleeps until a vCPU thread parks (the work wakes it), with
 * a 1 ms timeout to retry a mutex another thread holds, re-kicks every
 * 10 ms (a kick can be lost under nested virtualisation) and notices an
 * aborted request (the debugger killed while waiting) within 1 ms, then
 * undoes it.
 *
 * Why FREEZE captures: a debugger's freeze is always followed by a
 * snapshot of every vCPU, and each request is a round trip to the worker
 * (two wakeups, the dearest part of a freeze under load). So the freeze
 * request holds the world and captures every vCPU the debugger holds an
 * fd of in one pass, with the scratch page mapped once; the records stay
 * in the session until thaw. While frozen nothing can change them but
 * KVMDBG_SET_VCPU_STATE, which captures its vCPU again in its own
 * request, so a KVMDBG_SNAPSHOT without ranges while frozen is answered
 * from them in the debugger's context, without the worker.
 *
 * The worker runs at the lowest realtime priority (sched_set_fifo_low()):
 * its work is short and every microsecond it waits for a CPU is a
 * microsecond more that the guest stays stopped. The debugger spins for
 * up to 200 us on a request before it sleeps (a thaw takes less): its
 * own wakeup would cost it another trip through the scheduler.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include "kvmdbg.h"

#define KVMDBG_FOREIGN_TRIES	4
#define KVMDBG_FOREIGN_KICK_NS	(10 * NSEC_PER_MSEC)
#define KVMDBG_FOREIGN_POLL_NS	NSEC_PER_MSEC
#define KVMDBG_FOREIGN_SPIN_NS	(200 * NSEC_PER_USEC)

enum { KVMDBG_PARK_NONE, KVMDBG_PARK_QUEUED, KVMDBG_PARK_PARKED };

struct kvmdbg_park;

/* One vCPU thread's parking; @state is only read before thaw. */
struct kvmdbg_park_work {
	struct callback_head cb;
	struct kvmdbg_park *park;
	int state;
};

/*
 * One freeze's parking; freed by the last of the freeze and its works.
 * @wq: parked threads wait here for thaw; @parked_wq: the worker waits
 * here for @parked, the count of threads parked so far.
 */
struct kvmdbg_park {
	refcount_t ref;
	bool thawed;
	wait_queue_head_t wq;
	atomic_t parked;
	wait_queue_head_t parked_wq;
	unsigned int nr;
	struct kvmdbg_park_work works[];
};

enum kvmdbg_foreign_op {
	KVMDBG_FOREIGN_FREEZE,
	KVMDBG_FOREIGN_THAW,
	KVMDBG_FOREIGN_SNAPSHOT,
	KVMDBG_FOREIGN_SET_STATE,
};

struct kvmdbg_foreign_req {
	enum kvmdbg_foreign_op op;
	bool abort;
	struct completion done;
	long ret;
	unsigned int nr;		/* vCPUs to hold (not frozen) */
	struct kvmdbg_snapshot *snap;
	const struct kvmdbg_range *ranges;
	struct file **files;		/* the debugger's vCPU files */
	bool all;
	struct kvmdbg_vcpu_state *recs;
	u8 *rbuf;
	const struct kvmdbg_set_vcpu_state *set;
	unsigned int idx;		/* the vCPU index @set writes */
};

/* One class of KVMDBG_SET_VCPU_STATE: its flag, KVM's ioctl, its field. */
struct kvmdbg_set_step {
	u32 flag;
	unsigned int cmd;
	size_t offset;
};

static const struct kvmdbg_set_step kvmdbg_set_steps[] = {
	{ KVMDBG_STATE_REGS, KVM_SET_REGS,
	  offsetof(struct kvmdbg_set_vcpu_state, regs) },
	{ KVMDBG_STATE_SREGS, KVM_SET_SREGS,
	  offsetof(struct kvmdbg_set_vcpu_state, sregs) },
	{ KVMDBG_STATE_FPU, KVM_SET_FPU,
	  offsetof(struct kvmdbg_set_vcpu_state, fpu) },
	{ KVMDBG_STATE_MSRS, KVM_SET_MSRS,
	  offsetof(struct kvmdbg_set_vcpu_state, msrs) },
};

/**
 * struct kvmdbg_foreign - the worker side of a foreign session.
 * @sess:	the session.
 * @worker:	the kthread, referenced.
 * @wq:		the worker waits here for @req.
 * @req:	the posted request; one at a time (the session's lock).
 * @w:		the held world while frozen (owned by the worker).
 * @park:	the parking of @w.
 * @frozen:	@w is held across requests.
 * @node:	in kvmdbg_foreign_frozen while frozen.
 * @cache:	while frozen, @w.nr records captured at the freeze (or
 *		after a register write); only the worker writes them, during
 *		a request, and the debugger reads them between requests.
 * @cached:	which records of @cache are valid.
 */
struct kvmdbg_foreign {
	struct kvmdbg_session *sess;
	struct task_struct *worker;
	wait_queue_head_t wq;
	struct kvmdbg_foreign_req *req;
	struct kvmdbg_world w;
	struct kvmdbg_park *park;
	bool frozen;
	struct list_head node;
	struct kvmdbg_vcpu_state *cache;
	unsigned long *cached;
};

/* Frozen foreign sessions: a second freeze of one VM is -EBUSY. */
static DEFINE_MUTEX(kvmdbg_foreign_lock);
static LIST_HEAD(kvmdbg_foreign_frozen);

static void kvmdbg_park_put(struct kvmdbg_park *park)
{
	if (refcount_dec_and_test(&park->ref))
		kfree(park);
}

/*
 * Runs in the VMM's vCPU thread on its way to userspace. Each queued work
 * holds a module reference, dropped as the last thing it does.
 */
static void kvmdbg_park_fn(struct callback_head *cb)
{
	struct kvmdbg_park_work *pw = container_of(cb, struct kvmdbg_park_work, cb);
	struct kvmdbg_park *park = pw->park;

	/* Pairs with kvmdbg_foreign_try(): parked before its mutex is taken. */
	smp_store_release(&pw->state, KVMDBG_PARK_PARKED);
	atomic_inc(&park->parked);
	wake_up(&park->parked_wq);
	if (wait_event_killable(park->wq, READ_ONCE(park->thawed)))
		pr_debug("vCPU thread killed while frozen\n");
	kvmdbg_park_put(park);
	module_put(THIS_MODULE);
}

static struct task_struct *kvmdbg_foreign_task(struct kvm_vcpu *vcpu)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(rcu_dereference(vcpu->pid), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}

/* A signal without a handler in the vCPU's thread would kill the VMM. */
static int kvmdbg_foreign_check_signal(struct kvm_vcpu *vcpu, int signo)
{
	struct task_struct *task = kvmdbg_foreign_task(vcpu);
	struct sighand_struct *sh;
	__sighandler_t h = SIG_DFL;

	if (!task)
		return 0;
	rcu_read_lock();
	sh = rcu_dereference(task->sighand);
	if (sh)
		h = READ_ONCE(sh->action[signo - 1].sa.sa_handler);
	rcu_read_unlock();
	if (sh && (h == SIG_DFL || h == SIG_IGN)) {
		pr_info_ratelimited("kick signal %d is not caught by vCPU %u's thread %d: set the VMM's own kick signal\n",
				    signo, vcpu->vcpu_id, task_pid_nr(task));
		put_task_struct(task);
		return -EINVAL;
	}
	put_task_struct(task);
	return 0;
}

static void kvmdbg_foreign_kick(struct kvm_vcpu *vcpu, int signo)
{
	struct task_struct *task = kvmdbg_foreign_task(vcpu);

	if (task) {
		send_sig(signo, task, 1);
		put_task_struct(task);
	}
	kvm_vcpu_kick(vcpu);
}

static void kvmdbg_foreign_queue(struct kvmdbg_park *park, unsigned int i,
				 struct kvm_vcpu *vcpu)
{
	struct kvmdbg_park_work *pw = &park->works[i];
	struct task_struct *task = kvmdbg_foreign_task(vcpu);

	pw->park = park;
	pw->state = KVMDBG_PARK_NONE;
	if (!task)
		return;
	init_task_work(&pw->cb, kvmdbg_park_fn);
	__module_get(THIS_MODULE);
	refcount_inc(&park->ref);
	pw->state = KVMDBG_PARK_QUEUED;
	if (task_work_add(task, &pw->cb, TWA_SIGNAL)) {
		/* The thread is exiting: it will not enter the guest again. */
		pw->state = KVMDBG_PARK_NONE;
		refcount_dec(&park->ref);
		module_put(THIS_MODULE);
	}
	put_task_struct(task);
}

static void kvmdbg_foreign_note(struct kvmdbg_world *w, unsigned int i)
{
	w->exits[i] = READ_ONCE(w->vcpus[i]->stat.exits);
	w->cui[i] = READ_ONCE(w->vcpus[i]->arch.complete_userspace_io);
}

/* Releases what kvmdbg_foreign_hold() took; the VMM runs on. */
static void kvmdbg_foreign_unhold(struct kvmdbg_foreign *f)
{
	struct kvmdbg_world *w = &f->w;
	unsigned int i;

	for (i = 0; w->vcpus && w->held && i < w->nr; i++)
		if (test_bit(i, w->held))
			mutex_unlock(&w->vcpus[i]->mutex);
	if (f->park) {
		WRITE_ONCE(f->park->thawed, true);
		wake_up_all(&f->park->wq);
		kvmdbg_park_put(f->park);
		f->park = NULL;
	}
	kfree(w->vcpus);
	kfree(w->exits);
	kfree(w->cui);
	bitmap_free(w->held);
	memset(w, 0, sizeof(*w));
	kvfree(f->cache);
	f->cache = NULL;
	bitmap_free(f->cached);
	f->cached = NULL;
}

static int kvmdbg_foreign_alloc(struct kvmdbg_foreign *f, unsigned int nr)
{
	struct kvmdbg_world *w = &f->w;
	unsigned int i;

	w->sess = f->sess;
	w->nr = nr;
	w->vcpus = kcalloc(nr + 1, sizeof(*w->vcpus), GFP_KERNEL);
	w->exits = kcalloc(nr + 1, sizeof(*w->exits), GFP_KERNEL);
	w->cui = kcalloc(nr + 1, sizeof(*w->cui), GFP_KERNEL);
	w->held = bitmap_zalloc(nr + 1, GFP_KERNEL);
	f->park = kzalloc(struct_size(f->park, works, nr), GFP_KERNEL);
	f->cache = kvcalloc(nr + 1, sizeof(*f->cache), GFP_KERNEL);
	f->cached = bitmap_zalloc(nr + 1, GFP_KERNEL);
	if (!w->vcpus || !w->exits || !w->cui || !w->held || !f->park ||
	    !f->cache || !f->cached)
		return -ENOMEM;
	refcount_set(&f->park->ref, 1);
	init_waitqueue_head(&f->park->wq);
	init_waitqueue_head(&f->park->parked_wq);
	f->park->nr = nr;
	for (i = 0; i < nr; i++)
		w->vcpus[i] = kvm_get_vcpu(f->sess->kvm, i);
	return 0;
}

/* Whether vCPU @i is parked (or has no thread) and its mutex is ours. */
static bool kvmdbg_foreign_try(struct kvmdbg_foreign *f, unsigned int i)
{
	struct kvmdbg_world *w = &f->w;

	if (test_bit(i, w->held))
		return true;
	/* Pairs with kvmdbg_park_fn(). */
	if (smp_load_acquire(&f->park->works[i].state) == KVMDBG_PARK_QUEUED)
		return false;
	if (!mutex_trylock(&w->vcpus[i]->mutex))
		return false;
	__set_bit(i, w->held);
	return true;
}

static bool kvmdbg_foreign_woken(struct kvmdbg_park *park, int seen,
				 const struct kvmdbg_foreign_req *req)
{
	return atomic_read(&park->parked) != seen || READ_ONCE(req->abort);
}

/* Waits until every vCPU of @f->w is held, or the request is aborted. */
static int kvmdbg_foreign_wait(struct kvmdbg_foreign *f,
			       struct kvmdbg_foreign_req *req)
{
	struct kvmdbg_world *w = &f->w;
	struct kvmdbg_park *park = f->park;
	ktime_t kicked = ktime_get();
	bool all;
	unsigned int i;
	int seen;

	for (;;) {
		seen = atomic_read(&park->parked);
		all = true;
		for (i = 0; i < w->nr; i++)
			all &= kvmdbg_foreign_try(f, i);
		if (all)
			return 0;
		if (READ_ONCE(req->abort))
			return -EINTR;
		if (ktime_to_ns(ktime_sub(ktime_get(), kicked)) >
		    KVMDBG_FOREIGN_KICK_NS) {
			for (i = 0; i < w->nr; i++)
				if (!test_bit(i, w->held))
					kvmdbg_foreign_kick(w->vcpus[i],
							    f->sess->kick_signal);
			kicked = ktime_get();
		}
		/* Woken by the next park; the timeout retries a mutex. */
		wait_event_interruptible_hrtimeout(park->parked_wq,
						   kvmdbg_foreign_woken(park, seen, req),
						   ns_to_ktime(KVMDBG_FOREIGN_POLL_NS));
	}
}

/* Parks every vCPU thread of the first @nr vCPUs and takes each mutex. */
static int kvmdbg_foreign_hold(struct kvmdbg_foreign *f,
			       struct kvmdbg_foreign_req *req, unsigned int nr)
{
	struct kvmdbg_world *w = &f->w;
	unsigned int i;
	int r;

	r = kvmdbg_foreign_alloc(f, nr);
	if (r)
		goto err;
	for (i = 0; i < nr; i++) {
		r = kvmdbg_foreign_check_signal(w->vcpus[i], f->sess->kick_signal);
		if (r)
			goto err;
	}
	w->start = ktime_get();
	for (i = 0; i < nr; i++)
		kvmdbg_foreign_queue(f->park, i, w->vcpus[i]);
	for (i = 0; i < nr; i++)
		if (f->park->works[i].state == KVMDBG_PARK_QUEUED)
			kvmdbg_foreign_kick(w->vcpus[i], f->sess->kick_signal);
	r = kvmdbg_foreign_wait(f, req);
	if (r)
		goto err;
	for (i = 0; i < nr; i++)
		kvmdbg_foreign_note(w, i);
	return 0;
err:
	kvmdbg_foreign_unhold(f);
	return r;
}

/* The debugger's file of vCPU @i, or NULL (logged): KVM's handlers need it. */
static struct file *kvmdbg_foreign_file(struct kvmdbg_foreign *f,
					struct kvmdbg_foreign_req *req,
					unsigned int i)
{
	if (!req->files[i])
		pr_info_ratelimited("vCPU %u: the caller holds no fd of it (take it with pidfd_getfd)\n",
				    f->w.vcpus[i]->vcpu_id);
	return req->files[i];
}

/* Lets KVM's handlers take vCPU @i's mutex; kvmdbg_foreign_wait() retakes it. */
static void kvmdbg_foreign_let(struct kvmdbg_world *w, unsigned int i)
{
	__clear_bit(i, w->held);
	mutex_unlock(&w->vcpus[i]->mutex);
}

/* Lets KVM's handlers take vCPU @i's mutex, captures, takes it back. */
static int kvmdbg_foreign_vcpu(struct kvmdbg_foreign *f,
			       struct kvmdbg_foreign_req *req, unsigned int i,
			       u8 __user *scratch,
			       struct kvmdbg_vcpu_state *rec)
{
	struct kvmdbg_world *w = &f->w;
	struct file *file = kvmdbg_foreign_file(f, req, i);
	long r, r2;

	if (!file)
		return -EIO;
	r = kvmdbg_snapshot_prepare(w->vcpus[i], scratch);
	if (r)
		return r;
	kvmdbg_foreign_let(w, i);
	r = kvmdbg_snapshot_steps(file, scratch);
	r2 = kvmdbg_foreign_wait(f, req);
	if (r2)
		return r2;
	if (!r && copy_from_user(rec, scratch, sizeof(*rec)))
		r = -EFAULT;
	return r;
}

/* Captures vCPU @i into its record of @f->cache; valid only if it worked. */
static int kvmdbg_foreign_recapture(struct kvmdbg_foreign *f,
				    struct kvmdbg_foreign_req *req,
				    unsigned int i, u8 __user *scratch)
{
	int r = kvmdbg_foreign_vcpu(f, req, i, scratch, &f->cache[i]);

	if (r)
		__clear_bit(i, f->cached);
	else
		__set_bit(i, f->cached);
	return r;
}

/*
 * The capture of a freeze: every vCPU the debugger holds an fd of, into
 * @f->cache, in one pass. A record that cannot be taken is left out (the
 * next KVMDBG_SNAPSHOT goes to the worker and reports why); only an
 * aborted request fails.
 */
static long kvmdbg_foreign_fill(struct kvmdbg_foreign *f,
				struct kvmdbg_foreign_req *req,
				u8 __user *scratch)
{
	struct kvmdbg_world *w = &f->w;
	unsigned int i;

	for (i = 0; i < w->nr; i++)
		if (req->files[i] &&
		    kvmdbg_foreign_recapture(f, req, i, scratch) == -EINTR)
			return -EINTR;
	/* A vCPU ran meanwhile (another thread of the VMM): trust none. */
	if (!kvmdbg_freeze_still(w))
		bitmap_zero(f->cached, w->nr);
	return 0;
}

static int kvmdbg_foreign_vcpus(struct kvmdbg_foreign *f,
				struct kvmdbg_foreign_req *req,
				u8 __user *scratch)
{
	struct kvmdbg_world *w = &f->w;
	unsigned int i, n = 0;
	int r;

	for (i = 0; i < w->nr; i++) {
		if (!kvmdbg_snapshot_selected(req->snap, req->all, w->vcpus[i]))
			continue;
		r = kvmdbg_foreign_vcpu(f, req, i, scratch, &req->recs[n++]);
		if (r)
			return r;
	}
	return 0;
}

/* Captures until one capture saw no vCPU run, then the ranges. */
static int kvmdbg_foreign_capture(struct kvmdbg_foreign *f,
				  struct kvmdbg_foreign_req *req,
				  u8 __user *scratch)
{
	int r, tries;

	for (tries = 0;; tries++) {
		r = kvmdbg_foreign_vcpus(f, req, scratch);
		if (r || kvmdbg_freeze_still(&f->w))
			break;
		if (tries + 1 == KVMDBG_FOREIGN_TRIES) {
			pr_info_ratelimited("vCPUs keep running during capture\n");
			return -EAGAIN;
		}
		req->snap->nr_retries++;
	}
	return r ? r : kvmdbg_snapshot_ranges(&f->w, req->ranges, req->snap,
						 req->rbuf);
}

/*
 * Captures the world: held for this request alone unless frozen. A world
 * left partly held by an aborted request is held again first.
 */
static long kvmdbg_foreign_take(struct kvmdbg_foreign *f,
				struct kvmdbg_foreign_req *req,
				u8 __user *scratch)
{
	bool temp = !f->frozen;
	ktime_t since;
	long r;

	r = temp ? kvmdbg_foreign_hold(f, req, req->nr) :
		   kvmdbg_foreign_wait(f, req);
	if (r)
		return r;
	r = kvmdbg_foreign_capture(f, req, scratch);
	since = temp ? f->w.start : f->sess->freeze_start;
	req->snap->stopped_ns = ktime_to_ns(ktime_sub(ktime_get(), since));
	if (temp)
		kvmdbg_foreign_unhold(f);
	return r;
}

/*
 * Writes the classes of @req->set into frozen vCPU @req->idx through
 * KVM's own KVM_SET_* handlers, from the scratch page: the same route as
 * a capture, for the same reasons (the handlers want the VMM's mm, read
 * user pointers of it and take vcpu->mutex themselves). The vCPU's
 * thread stays parked meanwhile, so it cannot enter the guest between
 * the writes or run with half of them.
 */
static long kvmdbg_foreign_set(struct kvmdbg_foreign *f,
			       struct kvmdbg_foreign_req *req,
			       u8 __user *scratch)
{
	const struct kvmdbg_set_vcpu_state *st = req->set;
	const struct kvmdbg_set_step *step;
	struct file *file = kvmdbg_foreign_file(f, req, req->idx);
	long r, r2;

	if (!file)
		return -EIO;
	if (copy_to_user(scratch, st, sizeof(*st)))
		return -EFAULT;
	r = kvmdbg_foreign_wait(f, req);
	if (r)
		return r;
	kvmdbg_foreign_let(&f->w, req->idx);
	for (step = kvmdbg_set_steps; !r && step < kvmdbg_set_steps +
	     ARRAY_SIZE(kvmdbg_set_steps); step++) {
		if (!(st->flags & step->flag))
			continue;
		r = file->f_op->unlocked_ioctl(file, step->cmd,
				(unsigned long)(scratch + step->offset));
		/* KVM_SET_MSRS returns how many it wrote before a refusal. */
		if (step->cmd == KVM_SET_MSRS && r >= 0)
			r = r == st->msrs.nmsrs ? 0 : -EINVAL;
	}
	r2 = kvmdbg_foreign_wait(f, req);
	if (r2)
		return r2;
	/* What the next snapshot returns: the vCPU as KVM now holds it. */
	if (r)
		__clear_bit(req->idx, f->cached);
	else if (kvmdbg_foreign_recapture(f, req, req->idx, scratch) == -EINTR)
		r = -EINTR;
	return r;
}

typedef long (*kvmdbg_foreign_fn)(struct kvmdbg_foreign *f,
				  struct kvmdbg_foreign_req *req,
				  u8 __user *scratch);

/* Runs @fn with the VMM's mm adopted and a scratch page mapped in it. */
static long kvmdbg_foreign_in_vmm(struct kvmdbg_foreign *f,
				  struct kvmdbg_foreign_req *req,
				  kvmdbg_foreign_fn fn)
{
	struct mm_struct *mm = f->sess->kvm->mm;
	unsigned long scratch;
	long r;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	kthread_use_mm(mm);
	scratch = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(scratch)) {
		r = (long)scratch;
	} else {
		r = fn(f, req, (u8 __user *)scratch);
		vm_munmap(scratch, PAGE_SIZE);
	}
	kthread_unuse_mm(mm);
	mmput(mm);
	return r;
}

static long kvmdbg_foreign_serve(struct kvmdbg_foreign *f,
				 struct kvmdbg_foreign_req *req)
{
	long r;

	switch (req->op) {
	case KVMDBG_FOREIGN_FREEZE:
		r = kvmdbg_foreign_hold(f, req, req->nr);
		if (!r && kvmdbg_foreign_in_vmm(f, req, kvmdbg_foreign_fill) ==
			  -EINTR) {
			kvmdbg_foreign_unhold(f);
			r = -EINTR;
		}
		f->frozen = !r;
		return r;
	case KVMDBG_FOREIGN_THAW:
		kvmdbg_foreign_unhold(f);
		f->frozen = false;
		return 0;
	case KVMDBG_FOREIGN_SNAPSHOT:
		return kvmdbg_foreign_in_vmm(f, req, kvmdbg_foreign_take);
	case KVMDBG_FOREIGN_SET_STATE:
		return kvmdbg_foreign_in_vmm(f, req, kvmdbg_foreign_set);
	}
	return -EINVAL;
}

static int kvmdbg_foreign_worker(void *data)
{
	struct kvmdbg_foreign *f = data;
	struct kvmdbg_foreign_req *req;

	for (;;) {
		wait_event_idle(f->wq, READ_ONCE(f->req) || kthread_should_stop());
		req = xchg(&f->req, NULL);
		if (req) {
			req->ret = kvmdbg_foreign_serve(f, req);
			complete(&req->done);
		} else if (kthread_should_stop()) {
			break;
		}
	}
	return 0;
}

/* Whether @done completed within KVMDBG_FOREIGN_SPIN_NS of spinning. */
static bool kvmdbg_foreign_spin(struct completion *done)
{
	ktime_t end = ktime_add_ns(ktime_get(), KVMDBG_FOREIGN_SPIN_NS);

	while (!completion_done(done)) {
		if (need_resched() || fatal_signal_pending(current) ||
		    ktime_after(ktime_get(), end))
			return false;
		cpu_relax();
	}
	return true;
}

/* Posts @req and waits for it; a killed caller aborts it and still waits. */
static long kvmdbg_foreign_run(struct kvmdbg_foreign *f,
			       struct kvmdbg_foreign_req *req)
{
	init_completion(&req->done);
	WRITE_ONCE(f->req, req);
	wake_up(&f->wq);
	if (kvmdbg_foreign_spin(&req->done))
		return req->ret;
	if (wait_for_completion_killable(&req->done)) {
		WRITE_ONCE(req->abort, true);
		wait_for_completion(&req->done);
	}
	return req->ret;
}

/**
 * kvmdbg_foreign_init() - start the worker of a foreign session.
 * @sess: the session; @sess->kvm referenced.
 *
 * Context: process context.
 * Return: 0, -ESRCH when the VMM's address space is gone, -ENOMEM, or the
 * error of kthread_run().
 */
int kvmdbg_foreign_init(struct kvmdbg_session *sess)
{
	struct kvmdbg_foreign *f;
	struct task_struct *t;

	if (!mmget_not_zero(sess->kvm->mm))
		return -ESRCH;
	mmput(sess->kvm->mm);
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->sess = sess;
	init_waitqueue_head(&f->wq);
	INIT_LIST_HEAD(&f->node);
	t = kthread_run(kvmdbg_foreign_worker, f, "kvmdbg-foreign");
	if (IS_ERR(t)) {
		kfree(f);
		return PTR_ERR(t);
	}
	get_task_struct(t);
	sched_set_fifo_low(t);
	f->worker = t;
	sess->foreign = f;
	return 0;
}

/**
 * kvmdbg_foreign_release() - thaw and stop the worker of a session.
 * @sess: a foreign session being released.
 *
 * Context: process context, no ioctl running on @sess.
 */
void kvmdbg_foreign_release(struct kvmdbg_session *sess)
{
	struct kvmdbg_foreign *f = sess->foreign;

	if (sess->frozen)
		kvmdbg_foreign_thaw(sess);
	kthread_stop(f->worker);
	put_task_struct(f->worker);
	kfree(f);
	sess->foreign = NULL;
}

/**
 * kvmdbg_foreign_vmm_gone() - has the VMM's address space gone?
 * @sess: a foreign session.
 *
 * Return: true once the VMM has exited (or at least released its mm).
 */
bool kvmdbg_foreign_vmm_gone(struct kvmdbg_session *sess)
{
	if (!mmget_not_zero(sess->kvm->mm))
		return true;
	mmput(sess->kvm->mm);
	return false;
}

/*
 * Marks @f's VM as held by @f: two holders would park the same threads
 * twice and the second would wait for the first's thaw.
 */
static int kvmdbg_foreign_claim(struct kvmdbg_foreign *f)
{
	struct kvmdbg_foreign *o;

	mutex_lock(&kvmdbg_foreign_lock);
	list_for_each_entry(o, &kvmdbg_foreign_frozen, node) {
		if (o->sess->kvm == f->sess->kvm) {
			mutex_unlock(&kvmdbg_foreign_lock);
			return -EBUSY;
		}
	}
	list_add(&f->node, &kvmdbg_foreign_frozen);
	mutex_unlock(&kvmdbg_foreign_lock);
	return 0;
}

static void kvmdbg_foreign_unclaim(struct kvmdbg_foreign *f)
{
	mutex_lock(&kvmdbg_foreign_lock);
	list_del_init(&f->node);
	mutex_unlock(&kvmdbg_foreign_lock);
}

static void kvmdbg_foreign_put_files(struct file **files, unsigned int nr)
{
	unsigned int i;

	for (i = 0; files && i < nr; i++)
		if (files[i])
			fput(files[i]);
	kfree(files);
}

/* Takes the debugger's vCPU files of the first @nr vCPUs. */
static struct file **kvmdbg_foreign_get_files(struct kvmdbg_session *sess,
					      unsigned int nr,
					      struct kvm_vcpu ***vcpus)
{
	struct kvmdbg_world w = { .sess = sess, .nr = nr };
	unsigned int i;

	w.vcpus = kcalloc(nr + 1, sizeof(*w.vcpus), GFP_KERNEL);
	w.files = kcalloc(nr + 1, sizeof(*w.files), GFP_KERNEL);
	if (!w.vcpus || !w.files) {
		kfree(w.vcpus);
		kfree(w.files);
		return NULL;
	}
	for (i = 0; i < nr; i++)
		w.vcpus[i] = kvm_get_vcpu(sess->kvm, i);
	kvmdbg_freeze_find_files(&w);
	*vcpus = w.vcpus;
	return w.files;
}

/**
 * kvmdbg_foreign_freeze() - KVMDBG_FREEZE on a foreign session.
 * @sess: the session.
 *
 * Context: @sess->lock held.
 * Return: 0; -EBUSY when another foreign session holds the VM; -ESRCH
 * when the VMM is gone; -EINVAL when the kick signal is not caught by a
 * vCPU's thread; -EINTR when the caller was killed.
 */
long kvmdbg_foreign_freeze(struct kvmdbg_session *sess)
{
	struct kvmdbg_foreign *f = sess->foreign;
	struct kvmdbg_foreign_req req = { .op = KVMDBG_FOREIGN_FREEZE };
	ktime_t start = ktime_get();
	struct kvm_vcpu **vcpus;
	long r;

	if (kvmdbg_foreign_vmm_gone(sess))
		return -ESRCH;
	r = kvmdbg_foreign_claim(f);
	if (r)
		return r;
	req.nr = atomic_read(&sess->kvm->online_vcpus);
	/* Pairs with the smp_wmb() in KVM_CREATE_VCPU, as kvm_get_vcpu(). */
	smp_rmb();
	req.files = kvmdbg_foreign_get_files(sess, req.nr, &vcpus);
	if (!req.files) {
		kvmdbg_foreign_unclaim(f);
		return -ENOMEM;
	}
	kfree(vcpus);
	r = kvmdbg_foreign_run(f, &req);
	kvmdbg_foreign_put_files(req.files, req.nr);
	if (r) {
		kvmdbg_foreign_unclaim(f);
		return r;
	}
	sess->frozen = true;
	sess->freeze_start = start;
	return 0;
}

/**
 * kvmdbg_foreign_thaw() - KVMDBG_THAW on a frozen foreign session.
 * @sess: the session.
 *
 * Context: @sess->lock held, or @sess being released.
 * Return: 0.
 */
long kvmdbg_foreign_thaw(struct kvmdbg_session *sess)
{
	struct kvmdbg_foreign *f = sess->foreign;
	struct kvmdbg_foreign_req req = { .op = KVMDBG_FOREIGN_THAW };

	kvmdbg_foreign_run(f, &req);
	kvmdbg_foreign_unclaim(f);
	sess->frozen = false;
	return 0;
}

static int kvmdbg_foreign_copy_out(const struct kvmdbg_foreign_req *req,
				   unsigned int needed)
{
	const struct kvmdbg_snapshot *snap = req->snap;
	u8 __user *rec = u64_to_user_ptr(snap->vcpus);
	const u8 *in = req->rbuf;
	unsigned int i;

	for (i = 0; i < needed; i++, rec += snap->vcpu_stride)
		if (copy_to_user(rec, &req->recs[i], sizeof(req->recs[i])))
			return -EFAULT;
	for (i = 0; i < snap->nr_ranges && i < snap->failed_range; i++) {
		if (copy_to_user(u64_to_user_ptr(req->ranges[i].buf), in,
				 req->ranges[i].len))
			return -EFAULT;
		in += req->ranges[i].len;
	}
	return 0;
}

static u64 kvmdbg_foreign_bytes(const struct kvmdbg_range *ranges,
				unsigned int nr)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		total += ranges[i].len;
	return total;
}

static long kvmdbg_foreign_snap_run(struct kvmdbg_session *sess,
				    struct kvmdbg_foreign_req *req)
{
	struct kvmdbg_snapshot *snap = req->snap;
	struct kvmdbg_foreign *f = sess->foreign;
	struct kvm_vcpu **vcpus = NULL;
	unsigned int i, n, needed = 0;
	bool hit = sess->frozen && !snap->nr_ranges;
	long r = -ENOMEM;

	req->nr = sess->frozen ? sess->foreign->w.nr :
		  atomic_read(&sess->kvm->online_vcpus);
	/* Pairs with the smp_wmb() in KVM_CREATE_VCPU, as kvm_get_vcpu(). */
	smp_rmb();
	req->files = kvmdbg_foreign_get_files(sess, req->nr, &vcpus);
	if (!req->files)
		return -ENOMEM;
	for (i = 0; i < req->nr; i++) {
		if (!kvmdbg_snapshot_selected(snap, req->all, vcpus[i]))
			continue;
		needed++;
		if (hit)
			hit = req->files[i] && test_bit(i, f->cached);
	}
	if (needed > snap->nr_vcpus) {
		snap->nr_vcpus = needed;
		r = -E2BIG;
		goto out;
	}
	req->recs = kvcalloc(needed + 1, sizeof(*req->recs), GFP_KERNEL);
	req->rbuf = kvmalloc(kvmdbg_foreign_bytes(req->ranges, snap->nr_ranges) + 1,
			     GFP_KERNEL);
	if (!req->recs || !req->rbuf)
		goto out;
	if (hit) {
		/* Frozen since the capture: what KVM holds is what was taken. */
		r = -ESRCH;
		if (kvmdbg_foreign_vmm_gone(sess))
			goto out;
		for (i = 0, n = 0; i < req->nr; i++)
			if (kvmdbg_snapshot_selected(snap, req->all, vcpus[i]))
				req->recs[n++] = f->cache[i];
		snap->nr_vcpus = needed;
		snap->stopped_ns = ktime_to_ns(ktime_sub(ktime_get(),
							 sess->freeze_start));
		r = kvmdbg_foreign_copy_out(req, needed) ? -EFAULT : 0;
		goto out;
	}
	if (!sess->frozen) {
		r = kvmdbg_foreign_claim(sess->foreign);
		if (r)
			goto out;
	}
	r = kvmdbg_foreign_run(sess->foreign, req);
	if (!sess->frozen)
		kvmdbg_foreign_unclaim(sess->foreign);
	snap->nr_vcpus = needed;
	if (!r || snap->failed_range != KVMDBG_NO_RANGE) {
		/* Records are captured before any range: valid either way. */
		if (kvmdbg_foreign_copy_out(req, needed))
			r = -EFAULT;
	}
out:
	kfree(vcpus);
	kvfree(req->recs);
	kvfree(req->rbuf);
	kvmdbg_foreign_put_files(req->files, req->nr);
	return r;
}

/**
 * kvmdbg_foreign_snapshot() - KVMDBG_SNAPSHOT on a foreign session.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_snapshot.
 *
 * Same arguments and errors as for the VMM's own sessions, plus -ESRCH
 * when the VMM is gone, -EINVAL when its thread does not catch the kick
 * signal and -EBUSY when another foreign session holds the VM.
 *
 * Context: @sess->lock held.
 * Return: 0 or -errno.
 */
long kvmdbg_foreign_snapshot(struct kvmdbg_session *sess, void __user *argp)
{
	struct kvmdbg_foreign_req req = { .op = KVMDBG_FOREIGN_SNAPSHOT };
	struct kvmdbg_range *ranges;
	struct kvmdbg_snapshot snap;
	long r;

	r = kvmdbg_snapshot_args(sess, argp, &snap, &ranges);
	if (r)
		return r;
	snap.failed_range = KVMDBG_NO_RANGE;
	snap.nr_retries = 0;
	req.snap = &snap;
	req.ranges = ranges;
	req.all = !memchr_inv(snap.vcpu_mask, 0, sizeof(snap.vcpu_mask));
	r = kvmdbg_foreign_snap_run(sess, &req);
	if ((!r || r == -E2BIG || snap.failed_range != KVMDBG_NO_RANGE) &&
	    copy_to_user(argp, &snap, sizeof(snap)))
		r = -EFAULT;
	kfree(ranges);
	return r;
}

static int kvmdbg_foreign_set_check(const struct kvmdbg_set_vcpu_state *st)
{
	const struct kvmdbg_msrs *m = &st->msrs;
	unsigned int i;

	if (!st->flags || (st->flags & ~KVMDBG_STATE_VALID_FLAGS) ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved)))
		return -EINVAL;
	if (!(st->flags & KVMDBG_STATE_MSRS))
		return 0;
	if (!m->nmsrs || m->nmsrs > KVMDBG_NR_MSRS || m->pad)
		return -EINVAL;
	for (i = 0; i < m->nmsrs; i++)
		if (m->entries[i].reserved ||
		    !kvmdbg_snapshot_msr_captured(m->entries[i].index))
			return -EINVAL;
	return 0;
}

/**
 * kvmdbg_foreign_set_state() - KVMDBG_SET_VCPU_STATE on a foreign session.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_set_vcpu_state.
 *
 * Only while this session holds the VM frozen: the write then lands
 * between two points where no vCPU runs, and the next capture (always
 * taken while frozen, as every capture of a foreign VM) shows it.
 *
 * Context: @sess->lock held.
 * Return: 0; -EFAULT; -EINVAL for bad flags, reserved fields or MSR
 * entries, or what KVM refuses (e.g. invalid sregs); -EBUSY when the
 * session is not frozen or the vCPU was created after the freeze (it is
 * not held); -ENOENT for an unknown vcpu_id; -EIO when the caller holds
 * no fd of that vCPU; -ESRCH when the VMM is gone; -EINTR when killed.
 */
long kvmdbg_foreign_set_state(struct kvmdbg_session *sess, void __user *argp)
{
	struct kvmdbg_foreign_req req = { .op = KVMDBG_FOREIGN_SET_STATE };
	struct kvmdbg_set_vcpu_state *st;
	struct kvm_vcpu **vcpus, *vcpu;
	long r;

	st = memdup_user(argp, sizeof(*st));
	if (IS_ERR(st))
		return PTR_ERR(st);
	r = kvmdbg_foreign_set_check(st);
	if (r)
		goto out;
	r = -EBUSY;
	if (!sess->frozen)
		goto out;
	vcpu = kvm_get_vcpu_by_id(sess->kvm, st->vcpu_id);
	r = -ENOENT;
	if (!vcpu)
		goto out;
	r = -EBUSY;
	req.nr = sess->foreign->w.nr;
	if (vcpu->vcpu_idx >= req.nr)
		goto out;
	r = -ENOMEM;
	req.files = kvmdbg_foreign_get_files(sess, req.nr, &vcpus);
	if (!req.files)
		goto out;
	kfree(vcpus);
	req.set = st;
	req.idx = vcpu->vcpu_idx;
	r = kvmdbg_foreign_run(sess->foreign, &req);
	kvmdbg_foreign_put_files(req.files, req.nr);
out:
	kfree(st);
	return r;
}
