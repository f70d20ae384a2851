// SPDX-License-Identifier: GPL-2.0
/*
 * KVMDBG_ATTACH_FOREIGN: a forked child is the "VMM" (2 vCPUs running the
 * counter loop, each in its own thread, a SIGUSR1 handler, and a vCPU
 * loop that clears immediate_exit after every EINTR as QEMU does); the
 * test takes its VM and vCPU fds with pidfd_getfd(2) and freezes,
 * captures and thaws it. Faults: bad flags, owner with FOREIGN, a kick
 * signal the VMM does not catch, two debuggers, the VMM killed while
 * frozen, the debugger killed while frozen, rmmod, guest debug refused.
 * Register writes (KVMDBG_SET_VCPU_STATE) while frozen and their errors.
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kvmdbg_util.h"

#define NR	2
#define NR_MAX	(NR + 1)	/* the VMM adds one vCPU on 'a' */

/* What the child VMM tells the test about itself. */
struct vmm_hello {
	int vm_fd;
	int vcpu_fd[NR];
	int tid[NR];
	uint64_t mem;
};

/*
 * A reply to 'm' (its own counters), 'r' (its own KVM_GET_REGS and the
 * CR2 of KVM_GET_SREGS after stopping its vCPUs) or 'a' (a vCPU added
 * and started: its fd).
 */
struct vmm_report {
	uint64_t counter[NR];
	struct kvm_regs regs[NR];
	uint64_t cr2[NR];
	int error;
	int new_fd;
};

static volatile int vmm_tid[NR_MAX];

/* QEMU's way: KVM_RUN, and on EINTR clear immediate_exit and go again. */
static void *qemu_like_thread(void *arg)
{
	struct vcpu *v = arg;

	vmm_tid[v->id] = syscall(SYS_gettid);
	for (;;) {
		if (v->stop)
			break;
		if (ioctl(v->fd, KVM_RUN, 0) == 0) {
			v->bad_exit = v->run->exit_reason;
			break;
		}
		if (errno != EINTR) {
			v->error = errno;
			break;
		}
		v->run->immediate_exit = 0;
	}
	return NULL;
}

static void vmm_stop(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].stop = true;
		vm->vcpus[i].run->immediate_exit = 1;
		pthread_kill(vm->vcpus[i].thread, KICK_SIGNAL);
		pthread_join(vm->vcpus[i].thread, NULL);
	}
}

/* Adds vCPU NR to the running VM and starts it; its fd or -1. */
static int vmm_add_vcpu(struct vm *vm)
{
	struct vcpu *v = &vm->vcpus[NR];

	v->id = NR;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, NR);
	if (v->fd < 0)
		return -1;
	v->run = mmap(NULL, ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0),
		      PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED || vcpu_setup(vm, v) ||
	    pthread_create(&v->thread, NULL, qemu_like_thread, v))
		return -1;
	while (!vmm_tid[NR])
		usleep(1000);
	return v->fd;
}

static void vmm_main(int cmd, int rep)
{
	struct vmm_hello h = { 0 };
	struct vmm_report r;
	struct vm vm;
	char c;
	int i;

	if (install_kick_handler() || vm_create(&vm, NR))
		_exit(2);
	for (i = 0; i < NR; i++)
		if (pthread_create(&vm.vcpus[i].thread, NULL, qemu_like_thread,
				   &vm.vcpus[i]))
			_exit(3);
	for (i = 0; i < NR; i++)
		while (!vmm_tid[i])
			usleep(1000);
	h.vm_fd = vm.vm_fd;
	for (i = 0; i < NR; i++) {
		h.vcpu_fd[i] = vm.vcpus[i].fd;
		h.tid[i] = vmm_tid[i];
	}
	h.mem = (uintptr_t)vm.mem;
	if (write(rep, &h, sizeof(h)) != sizeof(h))
		_exit(4);
	while (read(cmd, &c, 1) == 1) {
		memset(&r, 0, sizeof(r));
		if (c == 'a')
			r.new_fd = vmm_add_vcpu(&vm);
		if (c == 'r') {
			vmm_stop(&vm);
			for (i = 0; i < NR; i++) {
				struct kvm_sregs sregs;

				if (ioctl(vm.vcpus[i].fd, KVM_GET_REGS, &r.regs[i]) ||
				    ioctl(vm.vcpus[i].fd, KVM_GET_SREGS, &sregs))
					r.error = errno;
				r.cr2[i] = sregs.cr2;
				r.error |= vm.vcpus[i].error | vm.vcpus[i].bad_exit;
			}
		}
		for (i = 0; i < NR; i++)
			r.counter[i] = *(volatile uint64_t *)gpa(&vm, COUNTER_GPA(i));
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			_exit(5);
	}
	_exit(0);
}

FIXTURE(foreign) {
	int dev;
	int s;
	pid_t pid;
	int pidfd;
	int cmd, rep;
	int vm_fd;
	int vcpu_fd[NR];
	struct vmm_hello h;
	struct kvmdbg_vcpu_state a[NR], b[NR];
	uint64_t ca[NR], cb[NR];
};

static int take_fd(int pidfd, int fd)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* A foreign session on the child's VM, kick signal SIGUSR1; fd or -1. */
static int foreign_open(int dev, int vm_fd)
{
	return session_open_fd(dev, vm_fd, KVMDBG_ATTACH_FOREIGN);
}

FIXTURE_SETUP(foreign)
{
	int p1[2], p2[2], i;

	self->s = -1;
	self->pid = -1;
	REQUIRE_KVMDBG(self->dev);
	ASSERT_EQ(0, pipe(p1));
	ASSERT_EQ(0, pipe(p2));
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid) {
		close(p1[1]);
		close(p2[0]);
		vmm_main(p1[0], p2[1]);
	}
	close(p1[0]);
	close(p2[1]);
	self->cmd = p1[1];
	self->rep = p2[0];
	ASSERT_EQ(sizeof(self->h), read(self->rep, &self->h, sizeof(self->h)));
	self->pidfd = syscall(SYS_pidfd_open, self->pid, 0);
	ASSERT_LE(0, self->pidfd) TH_LOG("pidfd_open: %s", strerror(errno));
	self->vm_fd = take_fd(self->pidfd, self->h.vm_fd);
	ASSERT_LE(0, self->vm_fd) TH_LOG("pidfd_getfd: %s", strerror(errno));
	for (i = 0; i < NR; i++) {
		self->vcpu_fd[i] = take_fd(self->pidfd, self->h.vcpu_fd[i]);
		ASSERT_LE(0, self->vcpu_fd[i]);
	}
	self->s = foreign_open(self->dev, self->vm_fd);
	ASSERT_LE(0, self->s) TH_LOG("attach foreign: %s", strerror(errno));
}

FIXTURE_TEARDOWN(foreign)
{
	int i, status;

	if (self->s >= 0)
		close(self->s);
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, &status, 0);
	}
	for (i = 0; i < NR; i++)
		if (self->vcpu_fd[i] > 0)
			close(self->vcpu_fd[i]);
	if (self->vm_fd > 0)
		close(self->vm_fd);
	if (self->dev >= 0)
		close(self->dev);
}

/* Snapshot of both vCPUs and their counters (GPA range). */
static int fsnap(int s, struct kvmdbg_vcpu_state *st, uint64_t *counters)
{
	struct kvmdbg_range rg[NR];
	struct kvmdbg_snapshot snap;
	int i;

	for (i = 0; i < NR; i++)
		rg[i] = (struct kvmdbg_range){ .addr = COUNTER_GPA(i),
			.len = 8, .buf = (uintptr_t)&counters[i] };
	return snapshot(s, &snap, st, NR, rg, NR);
}

static struct vmm_report ask(struct __test_metadata *_metadata,
			     FIXTURE_DATA(foreign) *self, char c)
{
	struct vmm_report r;

	memset(&r, 0xff, sizeof(r));
	EXPECT_EQ(1, write(self->cmd, &c, 1));
	EXPECT_EQ(sizeof(r), read(self->rep, &r, sizeof(r)));
	return r;
}

/* Waits (snapshots) until both vCPUs' RAX passed @base. */
static bool advanced(int s, const struct kvmdbg_vcpu_state *base)
{
	struct kvmdbg_vcpu_state st[NR];
	uint64_t c[NR];
	int tries;

	for (tries = 0; tries < 600; tries++) {
		if (fsnap(s, st, c))
			return false;
		if (st[0].regs.rax > base[0].regs.rax &&
		    st[1].regs.rax > base[1].regs.rax)
			return true;
		usleep(30000);
	}
	return false;
}

TEST(caps)
{
	int dev;

	REQUIRE_KVMDBG(dev);
	EXPECT_EQ(1, ioctl(dev, KVMDBG_CHECK_EXTENSION, KVMDBG_CAP_FOREIGN));
	EXPECT_EQ(1, ioctl(dev, KVMDBG_CHECK_EXTENSION, KVMDBG_CAP_VM_INFO));
	EXPECT_EQ(1, ioctl(dev, KVMDBG_CHECK_EXTENSION, KVMDBG_CAP_SET_STATE));
	EXPECT_EQ(0, ioctl(dev, KVMDBG_CHECK_EXTENSION, 10));
	close(dev);
}

/* Flags, reserved fields, wrong fds, and the owner asking for FOREIGN. */
TEST(attach_args)
{
	struct kvmdbg_attach at = { .flags = KVMDBG_ATTACH_FOREIGN };
	struct vm vm;
	int dev, null_fd;

	REQUIRE_KVMDBG(dev);
	ASSERT_EQ(0, vm_create(&vm, 1));
	at.vm_fd = vm.vm_fd;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	at.flags = 2;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	at.flags = KVMDBG_ATTACH_FOREIGN;
	at.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	at.reserved[0] = 0;
	at.vm_fd = 9999;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EBADF, errno);
	null_fd = open("/dev/null", O_RDWR);
	at.vm_fd = null_fd;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	close(null_fd);
	vm_destroy(&vm);
	close(dev);
}

/*
 * Frozen, the foreign VM does not move: two captures 20 ms apart are equal,
 * each vCPU's counter in memory (read by the module, and by the VMM itself)
 * is in step with its captured RAX; thawed, it runs on; stopped by the
 * VMM, the capture equals the VMM's own KVM_GET_REGS.
 */
TEST_F(foreign, freeze_capture_thaw)
{
	struct kvmdbg_vcpu_state base[NR] = { 0 };
	struct vmm_report r;
	int i;

	ASSERT_TRUE(advanced(self->s, base));
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, fsnap(self->s, self->a, self->ca)) TH_LOG("%s", strerror(errno));
	usleep(20000);
	ASSERT_EQ(0, fsnap(self->s, self->b, self->cb));
	EXPECT_EQ(0, memcmp(self->a, self->b, sizeof(self->a)));
	EXPECT_EQ(0, memcmp(self->ca, self->cb, sizeof(self->ca)));
	r = ask(_metadata, self, 'm');
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(i, self->a[i].vcpu_id);
		EXPECT_EQ(CODE_GPA, self->a[i].regs.rip & ~0xfULL);
		EXPECT_EQ(PML4_GPA, self->a[i].sregs.cr3);
		EXPECT_EQ(0x500, self->a[i].msrs.entries[KVMDBG_MSR_EFER].data);
		EXPECT_TRUE(counter_consistent(&self->a[i], self->ca[i]))
			TH_LOG("vCPU %d: rax %llu rip %#llx counter %llu", i,
			       self->a[i].regs.rax, self->a[i].regs.rip,
			       (unsigned long long)self->ca[i]);
		EXPECT_EQ(self->ca[i], r.counter[i]) TH_LOG("vCPU %d", i);
	}
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_THAW, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(advanced(self->s, self->a));
	r = ask(_metadata, self, 'r');
	EXPECT_EQ(0, r.error);
	ASSERT_EQ(0, fsnap(self->s, self->b, self->cb));
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(0, memcmp(&r.regs[i], &self->b[i].regs, sizeof(r.regs[i])))
			TH_LOG("vCPU %d: rip %#llx vs %#llx rax %llu vs %llu", i,
			       r.regs[i].rip, self->b[i].regs.rip,
			       r.regs[i].rax, self->b[i].regs.rax);
		EXPECT_LT(self->a[i].regs.rax, self->b[i].regs.rax);
	}
}

/* VM_INFO: the child's vCPU threads and its one memslot. */
TEST_F(foreign, vm_info)
{
	struct kvmdbg_vcpu_info vi[NR + 1];
	struct kvmdbg_memslot ms[2];
	struct kvmdbg_vm_info info = { 0 };
	int i;

	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(NR, info.nr_vcpus);
	EXPECT_EQ(1, info.nr_memslots);
	info = (struct kvmdbg_vm_info){ .nr_vcpus = NR + 1, .nr_memslots = 2,
		.vcpus = (uintptr_t)vi, .memslots = (uintptr_t)ms };
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(KVMDBG_VM_FOREIGN, info.state);
	EXPECT_EQ(KICK_SIGNAL, info.kick_signal);
	EXPECT_EQ(NR, info.nr_vcpus);
	for (i = 0; i < NR; i++) {
		EXPECT_EQ(i, vi[i].vcpu_id);
		EXPECT_EQ(self->h.tid[i], vi[i].tid);
		EXPECT_EQ(KVMDBG_VCPU_INFO_FD, vi[i].flags);
	}
	ASSERT_EQ(1, info.nr_memslots);
	EXPECT_EQ(0, ms[0].slot);
	EXPECT_EQ(0, ms[0].flags);
	EXPECT_EQ(0, ms[0].guest_phys_addr);
	EXPECT_EQ(GUEST_MEM, ms[0].memory_size);
	EXPECT_EQ(self->h.mem, ms[0].userspace_addr);
	/* Without vCPU 1's fd: flagged, and a capture cannot reach it. */
	close(self->vcpu_fd[1]);
	self->vcpu_fd[1] = -1;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(KVMDBG_VM_FOREIGN | KVMDBG_VM_FROZEN, info.state);
	EXPECT_EQ(KVMDBG_VCPU_INFO_FD, vi[0].flags);
	EXPECT_EQ(0, vi[1].flags);
	EXPECT_EQ(-1, fsnap(self->s, self->a, self->ca));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0;
	info.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A vCPU added after attach: listed, held by the next freeze, captured
 * once the debugger holds its fd (-EIO before).
 */
TEST_F(foreign, vcpu_added)
{
	struct kvmdbg_vcpu_info vi[NR_MAX];
	struct kvmdbg_vm_info info = { .nr_vcpus = NR_MAX,
		.vcpus = (uintptr_t)vi };
	struct kvmdbg_vcpu_state st[NR_MAX];
	struct kvmdbg_snapshot snap;
	struct vmm_report r;
	int fd;

	r = ask(_metadata, self, 'a');
	ASSERT_LE(0, r.new_fd);
	ASSERT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(E2BIG, errno);	/* the memslot room is 0 */
	EXPECT_EQ(NR_MAX, info.nr_vcpus);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, snapshot(self->s, &snap, st, NR_MAX, NULL, 0));
	EXPECT_EQ(EIO, errno);
	fd = take_fd(self->pidfd, r.new_fd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, snapshot(self->s, &snap, st, NR_MAX, NULL, 0));
	EXPECT_EQ(NR_MAX, snap.nr_vcpus);
	EXPECT_EQ(NR, st[NR].vcpu_id);
	EXPECT_EQ(PML4_GPA, st[NR].sregs.cr3);
	EXPECT_EQ(COUNTER_GPA(NR), st[NR].regs.rbx);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	close(fd);
}

/* An unmapped range: -EFAULT, its index, records and earlier ranges filled. */
TEST_F(foreign, unmapped_range)
{
	uint64_t c0 = ~0ULL, c1 = ~0ULL;
	struct kvmdbg_range rg[2] = {
		{ .addr = COUNTER_GPA(0), .len = 8, .buf = (uintptr_t)&c0 },
		{ .addr = GUEST_MEM + 4096, .len = 8, .buf = (uintptr_t)&c1 },
	};
	struct kvmdbg_snapshot snap;

	memset(self->a, 0, sizeof(self->a));
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, snapshot(self->s, &snap, self->a, NR, rg, 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, snap.failed_range);
	EXPECT_EQ(NR, snap.nr_vcpus);
	EXPECT_EQ(1, self->a[1].vcpu_id);
	EXPECT_EQ(PML4_GPA, self->a[1].sregs.cr3);
	EXPECT_TRUE(counter_consistent(&self->a[0], c0));
	EXPECT_EQ(~0ULL, c1);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

#define SET_RAX		(1ULL << 40)	/* far above any count of the test */
#define SET_CR2		0xdead000ULL	/* the guest takes no page fault */
#define SET_KGS		0x1234000ULL	/* the guest never runs swapgs */

/* A write of vCPU 1's state built from its capture @c. */
static struct kvmdbg_set_vcpu_state set_from(const struct kvmdbg_vcpu_state *c)
{
	struct kvmdbg_set_vcpu_state st = { .vcpu_id = c->vcpu_id,
		.flags = KVMDBG_STATE_VALID_FLAGS, .regs = c->regs,
		.sregs = c->sregs, .fpu = c->fpu };

	st.regs.rax = SET_RAX;
	st.regs.rip = CODE_GPA;		/* the loop's first instruction */
	st.sregs.cr2 = SET_CR2;
	memset(st.fpu.xmm[0], 0x5a, sizeof(st.fpu.xmm[0]));
	st.msrs.nmsrs = 1;
	st.msrs.entries[0].index = 0xc0000102;	/* MSR_KERNEL_GS_BASE */
	st.msrs.entries[0].data = SET_KGS;
	return st;
}

/*
 * Frozen: vCPU 1's RAX, RIP, CR2, XMM0 and KERNEL_GS_BASE written; the
 * next capture shows them and nothing else changed (vCPU 0 untouched);
 * thawed, the VMM's vCPU runs on from them (its own KVM_GET_REGS/SREGS).
 */
TEST_F(foreign, set_state)
{
	struct kvmdbg_set_vcpu_state st;
	struct kvmdbg_vcpu_state want[NR];
	struct vmm_report r;

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, fsnap(self->s, self->a, self->ca));
	st = set_from(&self->a[1]);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, fsnap(self->s, self->b, self->cb));
	memcpy(want, self->a, sizeof(want));
	want[1].regs.rax = SET_RAX;
	want[1].regs.rip = CODE_GPA;
	want[1].sregs.cr2 = SET_CR2;
	memset(want[1].fpu.xmm[0], 0x5a, sizeof(want[1].fpu.xmm[0]));
	want[1].msrs.entries[KVMDBG_MSR_KERNEL_GS_BASE].data = SET_KGS;
	EXPECT_EQ(0, memcmp(&want[0], &self->b[0], sizeof(want[0])));
	EXPECT_EQ(0, memcmp(&want[1].regs, &self->b[1].regs, sizeof(want[1].regs)))
		TH_LOG("rax %#llx rip %#llx", self->b[1].regs.rax, self->b[1].regs.rip);
	EXPECT_EQ(0, memcmp(&want[1].sregs, &self->b[1].sregs, sizeof(want[1].sregs)))
		TH_LOG("cr2 %#llx", self->b[1].sregs.cr2);
	EXPECT_EQ(0, memcmp(&want[1].fpu, &self->b[1].fpu, sizeof(want[1].fpu)));
	EXPECT_EQ(0, memcmp(&want[1].msrs, &self->b[1].msrs, sizeof(want[1].msrs)));
	EXPECT_EQ(self->ca[1], self->cb[1]);	/* guest memory: untouched */
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	ASSERT_TRUE(advanced(self->s, self->b));
	r = ask(_metadata, self, 'r');
	EXPECT_EQ(0, r.error);
	EXPECT_LT(SET_RAX, r.regs[1].rax);
	EXPECT_LT(SET_RAX, r.counter[1]);
	EXPECT_EQ(COUNTER_GPA(1), r.regs[1].rbx);
	EXPECT_EQ(SET_CR2, r.cr2[1]);
	EXPECT_GT(SET_RAX, r.regs[0].rax);
	EXPECT_NE(SET_CR2, r.cr2[0]);
}

/*
 * While frozen, a snapshot without ranges returns the records the freeze
 * took (no KVM handler runs again): they equal a fresh capture (one with
 * ranges, which the worker takes), before and after a register write,
 * and a vCPU mask picks from them.
 */
TEST_F(foreign, frozen_records)
{
	struct kvmdbg_vcpu_state c[NR], one[NR];
	struct kvmdbg_set_vcpu_state st;
	struct kvmdbg_snapshot snap;
	int i;

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, snapshot(self->s, &snap, c, NR, NULL, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(NR, snap.nr_vcpus);
	EXPECT_EQ(0, snap.nr_retries);
	ASSERT_EQ(0, fsnap(self->s, self->a, self->ca));
	for (i = 0; i < NR; i++)
		EXPECT_EQ(0, memcmp(&c[i], &self->a[i], sizeof(c[i]))) TH_LOG("vCPU %d", i);
	st = set_from(&self->a[1]);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, snapshot(self->s, &snap, c, NR, NULL, 0));
	EXPECT_EQ(SET_RAX, c[1].regs.rax);
	EXPECT_EQ(SET_CR2, c[1].sregs.cr2);
	ASSERT_EQ(0, fsnap(self->s, self->b, self->cb));
	for (i = 0; i < NR; i++)
		EXPECT_EQ(0, memcmp(&c[i], &self->b[i], sizeof(c[i]))) TH_LOG("vCPU %d", i);
	memset(&snap, 0, sizeof(snap));
	snap.vcpu_mask[0] = 1ULL << 1;
	snap.nr_vcpus = NR;
	snap.vcpu_stride = sizeof(one[0]);
	snap.vcpus = (uintptr_t)one;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SNAPSHOT, &snap)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(1, snap.nr_vcpus);
	EXPECT_EQ(0, memcmp(&one[0], &self->b[1], sizeof(one[0])));
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	/* Thawed: a snapshot without ranges captures anew; the vCPUs ran. */
	ASSERT_TRUE(advanced(self->s, self->b));
}

/* Not frozen: -EBUSY; bad arguments: -EINVAL, whether frozen or not. */
TEST_F(foreign, set_state_args)
{
	struct kvmdbg_set_vcpu_state st, bad;

	ASSERT_EQ(0, fsnap(self->s, self->a, self->ca));
	st = set_from(&self->a[1]);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st));
	EXPECT_EQ(EBUSY, errno);
	bad = st;
	bad.flags = 1u << 4;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, fsnap(self->s, self->a, self->ca));
	bad.flags = 0;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.flags |= 1u << 31;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.msrs.nmsrs = 0;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.msrs.nmsrs = KVMDBG_NR_MSRS + 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.msrs.entries[0].index = 0x10;	/* TSC: not in a record */
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.msrs.entries[0].reserved = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.msrs.pad = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad = st;
	bad.vcpu_id = 77;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(ENOENT, errno);
	/* KVM's own check: long mode paging without PAE is invalid. */
	bad = st;
	bad.flags = KVMDBG_STATE_SREGS;
	bad.sregs.cr4 = 0;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was written by any of them, and the VM is still held. */
	ASSERT_EQ(0, fsnap(self->s, self->b, self->cb));
	EXPECT_EQ(0, memcmp(self->a, self->b, sizeof(self->a)));
	/* Without vCPU 1's fd: -EIO, vCPU 0 still writable. */
	close(self->vcpu_fd[1]);
	self->vcpu_fd[1] = -1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st));
	EXPECT_EQ(EIO, errno);
	bad = st;
	bad.vcpu_id = 0;
	bad.flags = KVMDBG_STATE_SREGS;
	bad.sregs = self->a[0].sregs;
	bad.sregs.cr2 = SET_CR2;
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &bad));
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

/* A vCPU created while frozen is not held by that freeze: -EBUSY. */
TEST_F(foreign, set_state_vcpu_added_while_frozen)
{
	struct kvmdbg_set_vcpu_state st = { .vcpu_id = NR,
		.flags = KVMDBG_STATE_REGS };
	struct vmm_report r;
	int fd;

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	r = ask(_metadata, self, 'a');
	ASSERT_LE(0, r.new_fd);
	fd = take_fd(self->pidfd, r.new_fd);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	close(fd);
}

/* A kick signal the VMM does not catch is refused; the VMM lives on. */
TEST_F(foreign, kick_signal_not_caught)
{
	struct kvmdbg_kick_signal ks = { .signo = SIGUSR2 };
	struct kvmdbg_vcpu_state base[NR] = { 0 };

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, fsnap(self->s, self->a, self->ca));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, kill(self->pid, 0));
	ks.signo = KICK_SIGNAL;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_TRUE(advanced(self->s, base));
}

TEST_F(foreign, guest_debug_refused)
{
	struct kvmdbg_guest_debug gd = { 0 };

	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

/* A second foreign session cannot hold the VM while the first does. */
TEST_F(foreign, two_debuggers)
{
	int s2 = foreign_open(self->dev, self->vm_fd);

	ASSERT_LE(0, s2);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, ioctl(s2, KVMDBG_FREEZE, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, fsnap(s2, self->a, self->ca));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	EXPECT_EQ(0, ioctl(s2, KVMDBG_FREEZE, 0));
	EXPECT_EQ(0, fsnap(s2, self->a, self->ca));
	close(s2);	/* closing thaws: the first can freeze again */
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

/* The VMM killed while frozen: it exits, the session reports it. */
TEST_F(foreign, vmm_killed_while_frozen)
{
	struct kvmdbg_vm_info info = { 0 };
	int status;

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, kill(self->pid, SIGKILL));
	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(-1, fsnap(self->s, self->a, self->ca));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(KVMDBG_VM_FOREIGN | KVMDBG_VM_FROZEN | KVMDBG_VM_VMM_GONE,
		  info.state);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(0, close(self->s));
	self->s = -1;
	/* A new foreign attach to the dead VMM's VM is refused. */
	EXPECT_EQ(-1, foreign_open(self->dev, self->vm_fd));
	EXPECT_EQ(ESRCH, errno);
}

/* The debugger killed while frozen: its session's release thaws. */
TEST_F(foreign, debugger_killed_while_frozen)
{
	struct kvmdbg_vcpu_state base[NR];
	int p[2], status;
	pid_t dbg;
	char c;

	ASSERT_EQ(0, fsnap(self->s, base, self->ca));
	ASSERT_EQ(0, pipe(p));
	dbg = fork();
	ASSERT_LE(0, dbg);
	if (!dbg) {
		int s = foreign_open(self->dev, self->vm_fd);

		if (s < 0 || ioctl(s, KVMDBG_FREEZE, 0))
			_exit(1);
		if (write(p[1], "f", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	/* Held by the other debugger. */
	EXPECT_EQ(-1, fsnap(self->s, self->a, self->ca));
	EXPECT_EQ(EBUSY, errno);
	kill(dbg, SIGKILL);
	ASSERT_EQ(dbg, waitpid(dbg, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(advanced(self->s, base));
}

/* A foreign session pins the module. */
TEST_F(foreign, rmmod_refused)
{
	EXPECT_EQ(-1, syscall(SYS_delete_module, "kvmdbg", O_NONBLOCK));
	EXPECT_TRUE(errno == EBUSY || errno == EWOULDBLOCK) TH_LOG("errno %d", errno);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, syscall(SYS_delete_module, "kvmdbg", O_NONBLOCK));
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

TEST_HARNESS_MAIN
