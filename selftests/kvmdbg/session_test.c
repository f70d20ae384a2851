// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg.ko sessions: version and capabilities, KVMDBG_ATTACH, argument
 * checking of every session ioctl, freeze/thaw, set-guest-debug, and
 * lifetime (VM fd closed first, wrong process, VMM killed mid-snapshot,
 * rmmod refused while a session is open).
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kvmdbg_util.h"

FIXTURE(session) {
	int dev;
	int s;
	struct vm vm;
};

FIXTURE_SETUP(session)
{
	self->s = -1;
	REQUIRE_KVMDBG(self->dev);
	ASSERT_EQ(0, install_kick_handler());
	ASSERT_EQ(0, vm_create(&self->vm, 2));
	self->s = session_open(self->dev, &self->vm);
	ASSERT_LE(0, self->s) TH_LOG("attach: %s", strerror(errno));
}

FIXTURE_TEARDOWN(session)
{
	if (self->s >= 0)
		close(self->s);
	vm_destroy(&self->vm);
	if (self->dev >= 0)
		close(self->dev);
}

TEST(version_and_caps)
{
	int dev, cap;

	REQUIRE_KVMDBG(dev);
	EXPECT_EQ(KVMDBG_API_VERSION, ioctl(dev, KVMDBG_GET_API_VERSION, 0));
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	for (cap = KVMDBG_CAP_VERSION; cap <= KVMDBG_CAP_SET_STATE; cap++)
		EXPECT_EQ(1, ioctl(dev, KVMDBG_CHECK_EXTENSION, cap))
			TH_LOG("cap %d", cap);
	EXPECT_EQ(0, ioctl(dev, KVMDBG_CHECK_EXTENSION, 10));
	EXPECT_EQ(0, ioctl(dev, KVMDBG_CHECK_EXTENSION, 1000));
	EXPECT_EQ(-1, ioctl(dev, _IO(KVMDBGIO, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	close(dev);
}

TEST(attach_bad_fd)
{
	struct kvmdbg_attach at = { .vm_fd = 9999 };
	int dev;

	REQUIRE_KVMDBG(dev);
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EBADF, errno);
	at.vm_fd = -1;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(dev);
}

TEST(attach_not_kvm)
{
	struct kvmdbg_attach at;
	int dev, null_fd, kvm_fd;

	REQUIRE_KVMDBG(dev);
	null_fd = open("/dev/null", O_RDWR);
	kvm_fd = open("/dev/kvm", O_RDWR);
	ASSERT_LE(0, null_fd);
	ASSERT_LE(0, kvm_fd);
	at = (struct kvmdbg_attach){ .vm_fd = null_fd };
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	/* /dev/kvm itself is not a VM. */
	at.vm_fd = kvm_fd;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	/* Nor is a session fd. */
	at.vm_fd = dev;
	EXPECT_EQ(-1, ioctl(dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	close(null_fd);
	close(kvm_fd);
	close(dev);
}

TEST_F(session, attach_args)
{
	struct kvmdbg_attach at = { .vm_fd = self->vm.vm_fd, .flags = 1 };

	EXPECT_EQ(-1, ioctl(self->dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
	at.flags = 0;
	at.reserved[5] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, KVMDBG_ATTACH, &at));
	EXPECT_EQ(EINVAL, errno);
}

/* Several sessions may attach to one VM, and each works. */
TEST_F(session, attach_twice)
{
	struct kvmdbg_vcpu_state st[2];
	struct kvmdbg_snapshot snap;
	int s2;

	s2 = session_open(self->dev, &self->vm);
	ASSERT_LE(0, s2);
	EXPECT_NE(self->s, s2);
	EXPECT_EQ(FD_CLOEXEC, fcntl(s2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, snapshot(s2, &snap, st, 2, NULL, 0));
	EXPECT_EQ(0, snapshot(self->s, &snap, st, 2, NULL, 0));
	close(s2);
}

TEST_F(session, unknown_ioctl)
{
	EXPECT_EQ(-1, ioctl(self->s, _IO(KVMDBGIO, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_GET_API_VERSION, 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVM_GET_REGS, 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(session, kick_signal_args)
{
	struct kvmdbg_kick_signal ks = { .signo = 0 };

	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(EINVAL, errno);
	ks.signo = 65;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(EINVAL, errno);
	ks.signo = SIGKILL;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(EINVAL, errno);
	ks.signo = KICK_SIGNAL;
	ks.flags = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(EINVAL, errno);
	ks.flags = 0;
	ks.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, &ks));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_KICK_SIGNAL, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* Without a kick signal a running vCPU could not be stopped. */
TEST_F(session, needs_kick_signal)
{
	struct kvmdbg_attach at = { .vm_fd = self->vm.vm_fd };
	struct kvmdbg_vcpu_state st[2];
	struct kvmdbg_snapshot snap;
	int s2;

	s2 = ioctl(self->dev, KVMDBG_ATTACH, &at);
	ASSERT_LE(0, s2);
	EXPECT_EQ(-1, ioctl(s2, KVMDBG_FREEZE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, snapshot(s2, &snap, st, 2, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	close(s2);
}

TEST_F(session, freeze_thaw)
{
	struct kvmdbg_vcpu_state a[2], b[2];
	struct kvmdbg_snapshot snap;
	int i;

	ASSERT_EQ(0, vm_start(&self->vm));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_FREEZE, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_THAW, 0));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(EBUSY, errno);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(1, self->vm.vcpus[i].run->immediate_exit);
	/* Frozen: two snapshots 20 ms apart see the same state. */
	ASSERT_EQ(0, snapshot(self->s, &snap, a, 2, NULL, 0));
	usleep(20000);
	ASSERT_EQ(0, snapshot(self->s, &snap, b, 2, NULL, 0));
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	EXPECT_LE(20000000ULL, snap.stopped_ns);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_THAW, 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, self->vm.vcpus[i].run->immediate_exit);
	/* Thawed: the guest runs on (within seconds under nested TCG). */
	for (int tries = 0; tries < 600; tries++) {
		usleep(30000);
		ASSERT_EQ(0, snapshot(self->s, &snap, b, 2, NULL, 0));
		if (a[0].regs.rax < b[0].regs.rax && a[1].regs.rax < b[1].regs.rax)
			break;
	}
	for (i = 0; i < 2; i++)
		EXPECT_LT(a[i].regs.rax, b[i].regs.rax) TH_LOG("vCPU %d", i);
	vm_stop(&self->vm);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, self->vm.vcpus[i].error);
		EXPECT_EQ(0, self->vm.vcpus[i].bad_exit);
	}
}

/* Closing a frozen session thaws the VM. */
TEST_F(session, close_thaws)
{
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(1, self->vm.vcpus[0].run->immediate_exit);
	close(self->s);
	self->s = -1;
	EXPECT_EQ(0, self->vm.vcpus[0].run->immediate_exit);
	EXPECT_EQ(0, self->vm.vcpus[1].run->immediate_exit);
}

TEST_F(session, guest_debug)
{
	struct kvmdbg_guest_debug gd = { 0 };

	ASSERT_EQ(0, vm_start(&self->vm));
	gd.dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	gd.dbg.arch.debugreg[0] = CODE_GPA + 0x100;
	gd.dbg.arch.debugreg[7] = 0x1;
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	gd.dbg.control = 0;
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	gd.flags = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	EXPECT_EQ(EINVAL, errno);
	gd.flags = 0;
	gd.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	EXPECT_EQ(EINVAL, errno);
	gd.reserved[1] = 0;
	gd.pad = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_GUEST_DEBUG, &gd));
	EXPECT_EQ(EINVAL, errno);
	vm_stop(&self->vm);
}

/*
 * KVMDBG_SET_VCPU_STATE is for foreign sessions: the VMM writes its own
 * vCPUs with KVM_SET_REGS, frozen or not.
 */
TEST_F(session, set_state_refused)
{
	struct kvmdbg_set_vcpu_state st = { .flags = KVMDBG_STATE_REGS };

	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st));
	EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SET_VCPU_STATE, &st));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

/* VM_INFO on the VMM's own session: its fds, no thread yet, one slot. */
TEST_F(session, vm_info)
{
	struct kvmdbg_vcpu_info vi[2];
	struct kvmdbg_memslot ms[1];
	struct kvmdbg_vm_info info = { .nr_vcpus = 2, .nr_memslots = 1,
		.vcpus = (uintptr_t)vi, .memslots = (uintptr_t)ms };
	int i;

	ASSERT_EQ(0, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(0, info.state);
	EXPECT_EQ(KICK_SIGNAL, info.kick_signal);
	EXPECT_EQ(2, info.nr_vcpus);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(i, vi[i].vcpu_id);
		EXPECT_EQ(0, vi[i].tid);	/* never ran */
		EXPECT_EQ(KVMDBG_VCPU_INFO_FD, vi[i].flags);
	}
	EXPECT_EQ(1, info.nr_memslots);
	EXPECT_EQ((uintptr_t)self->vm.mem, ms[0].userspace_addr);
	EXPECT_EQ(GUEST_MEM, ms[0].memory_size);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(KVMDBG_VM_FROZEN, info.state);
	EXPECT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
	info.pad = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_VM_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* The VM fd may go first: the session holds the VM. */
TEST_F(session, vm_fd_closed)
{
	struct kvmdbg_vcpu_state st[2];
	struct kvmdbg_snapshot snap;
	int i;

	close(self->vm.vm_fd);
	self->vm.vm_fd = -1;
	EXPECT_EQ(0, snapshot(self->s, &snap, st, 2, NULL, 0));
	EXPECT_EQ(2, snap.nr_vcpus);
	/* Without its vCPU fds the caller cannot reach the vCPUs. */
	for (i = 0; i < 2; i++) {
		munmap(self->vm.vcpus[i].run, 4096);
		close(self->vm.vcpus[i].fd);
	}
	self->vm.nr_vcpus = 0;
	EXPECT_EQ(-1, snapshot(self->s, &snap, st, 2, NULL, 0));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, close(self->s));
	self->s = -1;
}

/* Only the VMM's process may use a session (its vCPU fds, its mm). */
TEST_F(session, other_process)
{
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct kvmdbg_vcpu_state st[2];
		struct kvmdbg_snapshot snap;
		struct kvmdbg_attach at = { .vm_fd = self->vm.vm_fd };

		if (snapshot(self->s, &snap, st, 2, NULL, 0) != -1 ||
		    errno != EIO)
			_exit(1);
		if (ioctl(self->s, KVMDBG_FREEZE, 0) != -1 || errno != EIO)
			_exit(2);
		if (ioctl(self->dev, KVMDBG_ATTACH, &at) != -1 || errno != EIO)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A session pins the module. */
TEST_F(session, rmmod_refused)
{
	EXPECT_EQ(-1, syscall(SYS_delete_module, "kvmdbg", O_NONBLOCK));
	EXPECT_TRUE(errno == EBUSY || errno == EWOULDBLOCK) TH_LOG("errno %d", errno);
	EXPECT_EQ(0, access(KVMDBG_DEV, F_OK));
}

/* A VMM killed while it takes snapshots leaves nothing stuck behind. */
static void vmm_child(int dev)
{
	struct kvmdbg_vcpu_state st[4];
	struct kvmdbg_snapshot snap;
	struct vm vm;
	int s;

	if (install_kick_handler() || vm_create(&vm, 4) || vm_start(&vm))
		_exit(2);
	s = session_open(dev, &vm);
	if (s < 0)
		_exit(3);
	for (;;)
		if (snapshot(s, &snap, st, 4, NULL, 0))
			_exit(4);
}

TEST(vmm_killed)
{
	int dev, round, status;
	pid_t pid;

	REQUIRE_KVMDBG(dev);
	for (round = 0; round < 8; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			vmm_child(dev);
		usleep(100000 + 37000 * round);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("round %d: exit %d",
			round, WEXITSTATUS(status));
	}
	/* The module still works afterwards. */
	EXPECT_EQ(KVMDBG_API_VERSION, ioctl(dev, KVMDBG_GET_API_VERSION, 0));
	close(dev);
}

TEST_HARNESS_MAIN
