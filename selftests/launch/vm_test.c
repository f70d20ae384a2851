// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM library (libkvmdbg-vmm.a) on the host's /dev/kvm: several VMs in
 * one process, stop-the-world with vm__pause / vm__resume, the all-stop
 * debug hooks, start_paused and write-protected pages.
 *
 * Most tests run spin_guest.S (flat, 2 vCPUs): each vCPU counts in
 * counters[cpu] until the test sets `go`.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "user/vmm/guest_debug.h"
#include "user/vmm/ram_scan.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm.h"

#define SPIN_LOAD	0x100000ULL
#define SPIN_DATA	(SPIN_LOAD + 0x1000)	/* go, crash, counters[8] */
#define SPIN_GO		(SPIN_DATA + 0)
#define SPIN_CRASH	(SPIN_DATA + 8)
#define SPIN_COUNTERS	(SPIN_DATA + 16)
#define SPIN_STATUS	7

extern const char spin_guest_start[], spin_guest_end[];

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool have_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The embedded guest as a file, since vm_config takes a path. */
static void write_spin_guest(struct __test_metadata *_metadata, char *path)
{
	int fd = mkstemp(path);
	size_t len = spin_guest_end - spin_guest_start;

	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)len, write(fd, spin_guest_start, len));
	close(fd);
}

static volatile uint64_t *counter(struct vm *vm, int cpu)
{
	return vm__gpa_to_hva(vm, SPIN_COUNTERS + 8 * cpu, 8);
}

static void set_flag(struct vm *vm, uint64_t gpa)
{
	__atomic_store_n((uint64_t *)vm__gpa_to_hva(vm, gpa, 8), 1, __ATOMIC_SEQ_CST);
}

/* Wait (up to 10 s) until the counter passes @min. */
static bool counter_passes(struct vm *vm, int cpu, uint64_t min)
{
	for (int i = 0; i < 10000; i++) {
		if (*counter(vm, cpu) > min)
			return true;
		msleep(1);
	}
	return false;
}

static uint64_t vcpu_rip(struct vm *vm, int cpu)
{
	struct kvm_regs regs;

	if (ioctl(vm__vcpu_fd(vm, cpu), KVM_GET_REGS, &regs))
		return 0;
	return regs.rip;
}

/* Everything the guest printed (the console is a pipe). */
static void read_console(int fd, char *buf, size_t len)
{
	ssize_t n, got = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
}

FIXTURE(spin) {
	char path[64];
	int console[2];
	struct vm *vm;
	char err[256];
	struct vm_config cfg;
};

/* The harness runs a TEST_F body even after its setup skipped: skip here. */
#define REQUIRE_KVM() do { \
	if (!have_kvm()) \
		SKIP(return, "no /dev/kvm on this host"); \
} while (0)

FIXTURE_SETUP(spin)
{
	strcpy(self->path, "/tmp/kvmdbg-spin-XXXXXX");
	write_spin_guest(_metadata, self->path);
	ASSERT_EQ(0, pipe(self->console));
	self->cfg = (struct vm_config) {
		.image = self->path, .flat = true, .load_addr = SPIN_LOAD,
		.nr_cpus = 2, .console_fd = self->console[1],
		.err = self->err, .err_len = sizeof(self->err),
	};
}

FIXTURE_TEARDOWN(spin)
{
	vm__destroy(self->vm);
	close(self->console[0]);
	close(self->console[1]);
	unlink(self->path);
}

/* Let the guest finish: set go, expect status 7 and "go\n". */
static void finish(struct __test_metadata *_metadata, struct vm *vm, int console)
{
	char out[64];
	int status = -1;

	set_flag(vm, SPIN_GO);
	ASSERT_EQ(0, vm__wait(vm, &status));
	EXPECT_EQ(SPIN_STATUS, status);
	read_console(console, out, sizeof(out));
	EXPECT_STREQ("go\n", out);
}

TEST_F(spin, pause_freezes_every_vcpu)
{
	uint64_t rip[2], count[2];

	REQUIRE_KVM();
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	ASSERT_TRUE(counter_passes(self->vm, 1, 10));
	ASSERT_EQ(0, vm__pause(self->vm));
	ASSERT_TRUE(vm__paused(self->vm));
	for (int i = 0; i < 2; i++) {
		rip[i] = vcpu_rip(self->vm, i);
		count[i] = *counter(self->vm, i);
		ASSERT_NE(0, rip[i]);
	}
	msleep(20);
	ASSERT_EQ(0, vm__pause(self->vm));	/* idempotent */
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(rip[i], vcpu_rip(self->vm, i)) TH_LOG("vCPU %d moved", i);
		EXPECT_EQ(count[i], *counter(self->vm, i));
	}
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	EXPECT_TRUE(counter_passes(self->vm, 0, count[0]));
	EXPECT_TRUE(counter_passes(self->vm, 1, count[1]));
	finish(_metadata, self->vm, self->console[0]);
}

TEST_F(spin, resume_runs_only_the_chosen_vcpus)
{
	const bool only_1[2] = { false, true };
	uint64_t count0;

	REQUIRE_KVM();
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	ASSERT_EQ(0, vm__pause(self->vm));
	count0 = *counter(self->vm, 0);
	ASSERT_EQ(0, vm__resume(self->vm, only_1));
	ASSERT_TRUE(counter_passes(self->vm, 1, *counter(self->vm, 1) + 100));
	EXPECT_EQ(count0, *counter(self->vm, 0));
	ASSERT_EQ(0, vm__pause(self->vm));
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	finish(_metadata, self->vm, self->console[0]);
}

TEST_F(spin, start_paused_waits_at_entry)
{
	REQUIRE_KVM();
	self->cfg.start_paused = true;
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(SPIN_LOAD, vm__entry(self->vm));
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_EQ(0, vm__pause(self->vm));	/* returns once both are parked */
	msleep(20);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(SPIN_LOAD, vcpu_rip(self->vm, i));
		EXPECT_EQ(0, *counter(self->vm, i));
	}
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	finish(_metadata, self->vm, self->console[0]);
}

struct stop_log {
	sem_t stopped;
	int vcpu;
	bool world_paused;
	int shutdowns;
	int exit_status;
};

static enum vm_hook_ret stop_on_shutdown(void *ctx, struct vm *vm, int vcpu,
					 struct kvm_run *run)
{
	struct stop_log *log = ctx;

	(void)vm;
	(void)vcpu;
	if (run->exit_reason != KVM_EXIT_SHUTDOWN)
		return VM_HOOK_UNHANDLED;
	__atomic_fetch_add(&log->shutdowns, 1, __ATOMIC_SEQ_CST);
	return VM_HOOK_STOP;
}

static void log_stopped(void *ctx, struct vm *vm, int vcpu)
{
	struct stop_log *log = ctx;

	log->vcpu = vcpu;
	log->world_paused = vm__paused(vm);
	sem_post(&log->stopped);
}

static void log_exit(void *ctx, struct vm *vm, int status)
{
	(void)vm;
	((struct stop_log *)ctx)->exit_status = status;
}

TEST_F(spin, hook_stop_stops_the_world)
{
	struct vm_debug_hooks hooks = {
		.on_exit = stop_on_shutdown, .on_stopped = log_stopped,
		.on_vm_exit = log_exit,
	};
	struct stop_log log = { .vcpu = -1, .exit_status = -1 };
	uint64_t count0;
	int status = -1;

	REQUIRE_KVM();
	sem_init(&log.stopped, 0, 0);
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__add_debug_hooks(self->vm, &hooks, &log));
	ASSERT_EQ(0, vm__start(self->vm));
	EXPECT_EQ(-EBUSY, vm__add_debug_hooks(self->vm, &hooks, &log));
	EXPECT_EQ(-EBUSY, vm__remove_debug_hooks(self->vm, &log));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	set_flag(self->vm, SPIN_CRASH);		/* vCPU 1 triple-faults */
	ASSERT_EQ(0, sem_wait(&log.stopped));
	EXPECT_EQ(1, log.vcpu);
	EXPECT_TRUE(log.world_paused);
	count0 = *counter(self->vm, 0);
	msleep(20);
	EXPECT_EQ(count0, *counter(self->vm, 0)) TH_LOG("vCPU 0 ran during the stop");
	vm__kill(self->vm, 3);
	ASSERT_EQ(0, vm__wait(self->vm, &status));
	EXPECT_EQ(3, status);
	EXPECT_EQ(3, log.exit_status);
	EXPECT_EQ(1, log.shutdowns);
	EXPECT_EQ(-ESRCH, vm__pause(self->vm));
	sem_destroy(&log.stopped);
}

static enum vm_hook_ret stop_on_debug(void *ctx, struct vm *vm, int vcpu,
				      struct kvm_run *run)
{
	(void)ctx;
	(void)vm;
	(void)vcpu;
	return run->exit_reason == KVM_EXIT_DEBUG ? VM_HOOK_STOP : VM_HOOK_UNHANDLED;
}

/* vm__vcpu_regs() of parked vCPU @i equals KVM_GET_REGS/KVM_GET_SREGS. */
static void expect_regs_as_kvm(struct __test_metadata *_metadata,
			       struct vm *vm, int i, struct kvm_regs *regs)
{
	struct kvm_regs kr;
	struct kvm_sregs sr, ksr;

	ASSERT_EQ(0, vm__vcpu_regs(vm, i, regs, &sr));
	ASSERT_EQ(0, ioctl(vm__vcpu_fd(vm, i), KVM_GET_REGS, &kr));
	ASSERT_EQ(0, ioctl(vm__vcpu_fd(vm, i), KVM_GET_SREGS, &ksr));
	EXPECT_EQ(kr.rip, regs->rip);
	EXPECT_EQ(kr.rbx, regs->rbx);
	EXPECT_EQ(0, memcmp(&kr, regs, sizeof(kr))) TH_LOG("regs differ");
	EXPECT_EQ(0, memcmp(&ksr, &sr, sizeof(sr))) TH_LOG("sregs differ");
}

/* One single-step of vCPU 0 alone; returns once the world is stopped. */
static void step0(struct __test_metadata *_metadata, struct vm *vm,
		  struct stop_log *log)
{
	const bool run[2] = { true, false };

	ASSERT_EQ(0, vm__resume(vm, run));
	ASSERT_EQ(0, sem_wait(&log->stopped));
	EXPECT_EQ(0, log->vcpu);
}

/*
 * With guest debugging on, a stopped vCPU's registers come from kvm_run's
 * sync area (KVM_CAP_SYNC_REGS): after each step they equal what
 * KVM_GET_REGS/SREGS say, and a KVM_SET_REGS between steps (announced
 * with vm__vcpu_regs_written) is what the next read and the next step see.
 */
TEST_F(spin, sync_regs_after_a_step_equal_kvm_get_regs)
{
	struct vm_debug_hooks hooks = {
		.on_exit = stop_on_debug, .on_stopped = log_stopped,
	};
	struct stop_log log = { .vcpu = -1, .exit_status = -1 };
	struct kvm_regs regs;
	uint64_t rip0;

	REQUIRE_KVM();
	sem_init(&log.stopped, 0, 0);
	self->cfg.start_paused = true;
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__add_debug_hooks(self->vm, &hooks, &log));
	ASSERT_EQ(0, guest_debug__set_vcpu(self->vm, 0, KVM_GUESTDBG_SINGLESTEP, NULL));
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_EQ(0, vm__pause(self->vm));
	expect_regs_as_kvm(_metadata, self->vm, 0, &regs);	/* never ran */
	rip0 = regs.rip;
	for (int n = 0; n < 6; n++) {		/* lea, lea, incq, outb, ... */
		step0(_metadata, self->vm, &log);
		expect_regs_as_kvm(_metadata, self->vm, 0, &regs);
	}
	EXPECT_NE(rip0, regs.rip);
	EXPECT_EQ(SPIN_COUNTERS, regs.rbx);	/* lea (%rbx,%rdi,8) with rdi 0 */
	/* A register write between steps: read back, then kept by the step. */
	regs.r12 = 0x1234567890abcdefULL;
	ASSERT_EQ(0, ioctl(vm__vcpu_fd(self->vm, 0), KVM_SET_REGS, &regs));
	vm__vcpu_regs_written(self->vm, 0);
	ASSERT_EQ(0, vm__vcpu_regs(self->vm, 0, &regs, NULL));
	EXPECT_EQ(0x1234567890abcdefULL, regs.r12);
	step0(_metadata, self->vm, &log);
	expect_regs_as_kvm(_metadata, self->vm, 0, &regs);
	EXPECT_EQ(0x1234567890abcdefULL, regs.r12);
	/* Debugging off: no sync area any more, KVM_GET_REGS still agrees. */
	ASSERT_EQ(0, guest_debug__set_vcpu(self->vm, 0, 0, NULL));
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	ASSERT_EQ(0, vm__pause(self->vm));
	expect_regs_as_kvm(_metadata, self->vm, 0, &regs);
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	finish(_metadata, self->vm, self->console[0]);
	sem_destroy(&log.stopped);
}

/*
 * vm__resume_first(): only the first vCPU starts; the others of the run
 * set wait for vm__resume_rest(), and never run if the world stops first.
 */
TEST_F(spin, resume_first_holds_the_others_until_resume_rest)
{
	const bool both[2] = { true, true };
	uint64_t c1;

	REQUIRE_KVM();
	self->cfg.start_paused = true;
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_EQ(0, vm__pause(self->vm));
	EXPECT_EQ(-EINVAL, vm__resume_first(self->vm, both, 2));
	ASSERT_EQ(0, vm__resume_first(self->vm, both, 0));
	ASSERT_TRUE(counter_passes(self->vm, 0, 100));
	EXPECT_EQ(0, *counter(self->vm, 1)) TH_LOG("vCPU 1 ran before vm__resume_rest");
	/* Stopped before vm__resume_rest: vCPU 1 stays where it was. */
	ASSERT_EQ(0, vm__pause(self->vm));
	vm__resume_rest(self->vm);
	msleep(20);
	EXPECT_EQ(0, *counter(self->vm, 1));
	EXPECT_EQ(SPIN_LOAD, vcpu_rip(self->vm, 1));
	/* Not stopped: vm__resume_rest lets it go. */
	ASSERT_EQ(0, vm__resume_first(self->vm, both, 0));
	vm__resume_rest(self->vm);
	ASSERT_TRUE(counter_passes(self->vm, 1, 10));
	c1 = *counter(self->vm, 1);
	ASSERT_EQ(0, vm__pause(self->vm));
	EXPECT_LE(c1, *counter(self->vm, 1));
	ASSERT_EQ(0, vm__resume(self->vm, NULL));
	finish(_metadata, self->vm, self->console[0]);
}

struct mmio_log {
	int writes;
	bool other;		/* an MMIO exit outside vCPU 0's counter */
};

static enum vm_hook_ret count_mmio(void *ctx, struct vm *vm, int vcpu,
				   struct kvm_run *run)
{
	struct mmio_log *log = ctx;

	(void)vm;
	if (run->exit_reason != KVM_EXIT_MMIO)
		return VM_HOOK_UNHANDLED;
	if (vcpu == 0 && run->mmio.is_write && run->mmio.len == 8 &&
	    run->mmio.phys_addr == SPIN_COUNTERS)
		__atomic_fetch_add(&log->writes, 1, __ATOMIC_SEQ_CST);
	else if (vcpu == 0)
		log->other = true;
	return VM_HOOK_UNHANDLED;	/* the VMM applies the store */
}

TEST_F(spin, protected_page_traps_stores_and_applies_them)
{
	struct vm_debug_hooks hooks = { .on_exit = count_mmio };
	struct mmio_log log = { 0 };
	uint64_t count0;

	REQUIRE_KVM();
	self->cfg.nr_cpus = 1;
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__add_debug_hooks(self->vm, &hooks, &log));
	EXPECT_EQ(-EINVAL, vm__protect_page(self->vm, vm__mem_size(self->vm), true));
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	ASSERT_EQ(0, vm__protect_page(self->vm, SPIN_DATA, true));
	count0 = *counter(self->vm, 0);
	ASSERT_TRUE(counter_passes(self->vm, 0, count0 + 20));
	ASSERT_EQ(0, vm__protect_page(self->vm, SPIN_DATA, false));
	EXPECT_GE(__atomic_load_n(&log.writes, __ATOMIC_SEQ_CST), 20);
	EXPECT_FALSE(log.other);
	finish(_metadata, self->vm, self->console[0]);
}

/* Two hook sets: the first declines every exit, the second stops. */
struct order_log {
	char calls[64];		/* one letter per hook call, in order */
	int first_status, second_status;
	sem_t stopped;
};

static void note(struct order_log *log, char c)
{
	size_t n = strlen(log->calls);

	if (n < sizeof(log->calls) - 1)
		log->calls[n] = c;
}

static enum vm_hook_ret first_exit(void *ctx, struct vm *vm, int vcpu,
				   struct kvm_run *run)
{
	(void)vm;
	(void)vcpu;
	if (run->exit_reason == KVM_EXIT_SHUTDOWN)
		note(ctx, 'a');		/* seen first, left to the next set */
	return VM_HOOK_UNHANDLED;
}

static void first_stopped(void *ctx, struct vm *vm, int vcpu)
{
	(void)vm;
	(void)vcpu;
	note(ctx, 'x');			/* not its stop: must not be called */
}

static void first_vm_exit(void *ctx, struct vm *vm, int status)
{
	(void)vm;
	((struct order_log *)ctx)->first_status = status;
}

static enum vm_hook_ret second_exit(void *ctx, struct vm *vm, int vcpu,
				    struct kvm_run *run)
{
	(void)vm;
	(void)vcpu;
	if (run->exit_reason != KVM_EXIT_SHUTDOWN)
		return VM_HOOK_UNHANDLED;
	note((struct order_log *)ctx - 1, 'b');
	return VM_HOOK_STOP;
}

static void second_stopped(void *ctx, struct vm *vm, int vcpu)
{
	struct order_log *log = (struct order_log *)ctx - 1;

	(void)vm;
	(void)vcpu;
	note(log, 's');
	sem_post(&log->stopped);
}

static void second_vm_exit(void *ctx, struct vm *vm, int status)
{
	(void)vm;
	((struct order_log *)ctx - 1)->second_status = status;
}

TEST_F(spin, hook_sets_run_in_order_and_only_the_owner_hears_its_stop)
{
	struct vm_debug_hooks first = {
		.on_exit = first_exit, .on_stopped = first_stopped,
		.on_vm_exit = first_vm_exit,
	}, second = {
		.on_exit = second_exit, .on_stopped = second_stopped,
		.on_vm_exit = second_vm_exit,
	};
	/* log[0] is the first set's context, log + 1 the second's. */
	struct order_log log[2] = { { .first_status = -1, .second_status = -1 } };
	int status = -1;

	REQUIRE_KVM();
	sem_init(&log[0].stopped, 0, 0);
	ASSERT_EQ(0, vm__create(&self->cfg, &self->vm)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, vm__add_debug_hooks(self->vm, &first, &log[0]));
	ASSERT_EQ(0, vm__add_debug_hooks(self->vm, &second, &log[1]));
	ASSERT_EQ(0, vm__start(self->vm));
	ASSERT_TRUE(counter_passes(self->vm, 0, 10));
	set_flag(self->vm, SPIN_CRASH);		/* vCPU 1 triple-faults */
	ASSERT_EQ(0, sem_wait(&log[0].stopped));
	vm__kill(self->vm, 3);
	ASSERT_EQ(0, vm__wait(self->vm, &status));
	EXPECT_STREQ("abs", log[0].calls);
	EXPECT_EQ(3, log[0].first_status);
	EXPECT_EQ(3, log[0].second_status);
	sem_destroy(&log[0].stopped);
}

static int hooks_seen;

static enum vm_hook_ret no_exit(void *ctx, struct vm *vm, int vcpu,
				struct kvm_run *run)
{
	(void)ctx;
	(void)vm;
	(void)vcpu;
	(void)run;
	return VM_HOOK_UNHANDLED;
}

/* on_capture nests: "X<" before, ">X" after, the writer's "W" in the middle. */
static char cap_log[64];

static int wrap_capture(void *ctx, struct vm *vm, int (*capture)(void *arg),
			void *arg)
{
	int r;

	(void)vm;
	strcat(cap_log, ctx);
	strcat(cap_log, "<");
	r = capture(arg);
	strcat(cap_log, ">");
	strcat(cap_log, ctx);
	return r + 1;
}

static int writer(void *arg)
{
	strcat(cap_log, arg);
	return 40;
}

TEST(hook_sets_add_remove_and_nest_capture)
{
	char path[] = "/tmp/kvmdbg-spin-XXXXXX", err[256], w[] = "W";
	struct vm_config cfg = {
		.image = path, .flat = true, .load_addr = SPIN_LOAD,
		.mem_size = 4 << 20, .console_fd = 1, .err = err, .err_len = sizeof(err),
	};
	struct vm_debug_hooks cap = { .on_capture = wrap_capture };
	struct vm_debug_hooks plain = { .on_exit = no_exit };
	char *ctx[VM_MAX_DEBUG_HOOKS] = { "A", "B", "C", "D" };
	struct vm *vm;

	REQUIRE_KVM();
	write_spin_guest(_metadata, path);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("%s", err);
	unlink(path);
	EXPECT_EQ(-ENOENT, vm__remove_debug_hooks(vm, ctx[0]));
	ASSERT_EQ(0, vm__add_debug_hooks(vm, &cap, ctx[0]));
	ASSERT_EQ(0, vm__add_debug_hooks(vm, &plain, ctx[1]));
	ASSERT_EQ(0, vm__add_debug_hooks(vm, &cap, ctx[2]));
	ASSERT_EQ(0, vm__add_debug_hooks(vm, &cap, ctx[3]));
	EXPECT_EQ(-ENOSPC, vm__add_debug_hooks(vm, &plain, &hooks_seen));
	cap_log[0] = '\0';
	EXPECT_EQ(43, vm__capture_held(vm, writer, w));
	EXPECT_STREQ("A<C<D<W>D>C>A", cap_log);
	/* Removing one keeps the others' order. */
	ASSERT_EQ(0, vm__remove_debug_hooks(vm, ctx[2]));
	cap_log[0] = '\0';
	EXPECT_EQ(42, vm__capture_held(vm, writer, w));
	EXPECT_STREQ("A<D<W>D>A", cap_log);
	ASSERT_EQ(0, vm__add_debug_hooks(vm, &plain, &hooks_seen));
	vm__destroy(vm);
}

/*
 * guest_debug.c: a reserved slot is kept from the debugger's wishes, and
 * reserving needs a slot no vCPU's debugger uses.
 */
TEST(guest_debug_reserved_slots_and_debugger_slots_exclude)
{
	char path[] = "/tmp/kvmdbg-spin-XXXXXX", err[256];
	struct vm_config cfg = {
		.image = path, .flat = true, .load_addr = SPIN_LOAD, .nr_cpus = 2,
		.mem_size = 4 << 20, .console_fd = 1, .err = err, .err_len = sizeof(err),
	};
	struct x86_hw_slots hw = { 0 };
	struct vm *vm;

	REQUIRE_KVM();
	write_spin_guest(_metadata, path);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("%s", err);
	unlink(path);
	EXPECT_EQ(0u, guest_debug__reserved(vm));
	ASSERT_EQ(0, guest_debug__reserve_exec(vm, SPIN_LOAD));
	EXPECT_EQ(1u, guest_debug__reserved(vm));
	/* The debugger's slot 0 is taken: refused, and nothing changes. */
	hw.slot[0] = (struct x86_hw_slot){ .used = true, .type = X86_HW_EXEC,
					   .addr = SPIN_LOAD + 4, .len = 1 };
	EXPECT_EQ(-EBUSY, guest_debug__set_vcpu(vm, 1, KVM_GUESTDBG_SINGLESTEP, &hw));
	hw.slot[1] = hw.slot[0];
	hw.slot[0].used = false;
	EXPECT_EQ(0, guest_debug__set_vcpu(vm, 1, KVM_GUESTDBG_SINGLESTEP, &hw));
	/* vCPU 1's debugger slot 1 is in use: the next reservation gets 2. */
	EXPECT_EQ(2, guest_debug__reserve_exec(vm, SPIN_LOAD + 8));
	EXPECT_EQ(3, guest_debug__reserve_exec(vm, SPIN_LOAD + 12));
	EXPECT_EQ(-ENOSPC, guest_debug__reserve_exec(vm, SPIN_LOAD + 16));
	EXPECT_EQ(0, guest_debug__release(vm, 0));
	EXPECT_EQ(-ENOENT, guest_debug__release(vm, 0));
	EXPECT_EQ(-EINVAL, guest_debug__release(vm, 4));
	EXPECT_EQ(12u, guest_debug__reserved(vm));
	EXPECT_EQ(0, guest_debug__reserve_exec(vm, SPIN_LOAD + 16));
	EXPECT_EQ(-EINVAL, guest_debug__set_vcpu(vm, 2, 0, NULL));
	EXPECT_EQ(0, guest_debug__set_vcpu(vm, 1, 0, NULL));
	vm__destroy(vm);
}

TEST(gpa_to_hva_checks_bounds)
{
	char path[] = "/tmp/kvmdbg-spin-XXXXXX", err[256];
	struct vm_config cfg = {
		.image = path, .flat = true, .load_addr = SPIN_LOAD,
		.mem_size = 4 << 20, .console_fd = 1, .err = err, .err_len = sizeof(err),
	};
	struct vm *vm;

	REQUIRE_KVM();
	write_spin_guest(_metadata, path);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("%s", err);
	unlink(path);
	EXPECT_NE(NULL, vm__gpa_to_hva(vm, 0, 4 << 20));
	EXPECT_EQ(NULL, vm__gpa_to_hva(vm, 1, 4 << 20));
	EXPECT_EQ(NULL, vm__gpa_to_hva(vm, 4 << 20, 1));
	EXPECT_EQ(NULL, vm__gpa_to_hva(vm, UINT64_MAX, 2));
	EXPECT_EQ(0, memcmp(spin_guest_start, vm__gpa_to_hva(vm, SPIN_LOAD, 16), 16));
	vm__destroy(vm);
}

/*
 * vm__ram_touched(): a page never touched is known zero; a page written,
 * the loaded image, and a page mapped from a file (not yet faulted in)
 * may hold data. Each in its own 2 MiB region, so a transparent huge page
 * behind one does not decide for another.
 */
TEST(ram_scan_tells_untouched_pages)
{
	char path[] = "/tmp/kvmdbg-spin-XXXXXX", err[256];
	char file[] = "/tmp/kvmdbg-ramscan-XXXXXX";
	struct vm_config cfg = {
		.image = path, .flat = true, .load_addr = SPIN_LOAD,
		.mem_size = 8 << 20, .console_fd = 1, .err = err, .err_len = sizeof(err),
	};
	struct vm_ram_scan scan;
	bool maybe[4];
	struct vm *vm;
	int fd;

	REQUIRE_KVM();
	write_spin_guest(_metadata, path);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("%s", err);
	unlink(path);
	fd = mkstemp(file);
	ASSERT_LE(0, fd);
	unlink(file);
	ASSERT_EQ(0, ftruncate(fd, 0x1000));
	ASSERT_EQ(0, vm__map_file(vm, 0x700000, 0x1000, fd, 0));
	close(fd);
	memset(vm__gpa_to_hva(vm, 0x600000, 0x1000), 0x5a, 0x1000);

	vm__ram_scan_open(vm, &scan);
	memset(maybe, 1, sizeof(maybe));
	vm__ram_touched(&scan, 0x480000, 1, &maybe[0]);
	vm__ram_touched(&scan, 0x600000, 1, &maybe[1]);
	vm__ram_touched(&scan, 0x700000, 1, &maybe[2]);
	vm__ram_touched(&scan, SPIN_LOAD, 1, &maybe[3]);
	EXPECT_FALSE(maybe[0]);
	EXPECT_TRUE(maybe[1]);
	EXPECT_TRUE(maybe[2]);
	EXPECT_TRUE(maybe[3]);
	/* Outside RAM nothing is decided: maybe[] stays as the caller set it. */
	maybe[0] = true;
	vm__ram_touched(&scan, 8 << 20, 1, &maybe[0]);
	EXPECT_TRUE(maybe[0]);
	vm__ram_scan_close(&scan);
	vm__destroy(vm);
}

/* One VM of the multi-VM test: its own console pipe and expected text. */
struct guest_run {
	const char *image;
	int cpus;
	const char *expect;
	int console[2];
	struct vm *vm;
};

TEST(several_vms_in_one_process)
{
	struct guest_run g[] = {
		{ .image = "build/examples/hello.elf", .cpus = 1,
		  .expect = "Hello from kvmdbg guest\n" },
		{ .image = "build/examples/counters.elf", .cpus = 2,
		  .expect = "cpu 0: 1000\ncpu 1: 1000\ntotal: 2000\n" },
		{ .image = "build/examples/smp.elf", .cpus = 2,
		  .expect = "cpu 0 up\ncpu 1 up\nall 2 vCPUs up\n" },
	};
	const int n = sizeof(g) / sizeof(g[0]);
	char err[256], out[256];

	REQUIRE_KVM();
	for (int i = 0; i < n; i++) {
		struct vm_config cfg = {
			.image = g[i].image, .nr_cpus = g[i].cpus, .err = err,
			.err_len = sizeof(err),
		};

		ASSERT_EQ(0, pipe(g[i].console));
		cfg.console_fd = g[i].console[1];
		ASSERT_EQ(0, vm__create(&cfg, &g[i].vm)) TH_LOG("%s", err);
	}
	for (int i = 0; i < n; i++)
		ASSERT_EQ(0, vm__start(g[i].vm));
	for (int i = 0; i < n; i++) {
		int status = -1;

		ASSERT_EQ(0, vm__wait(g[i].vm, &status));
		EXPECT_EQ(0, status);
		read_console(g[i].console[0], out, sizeof(out));
		EXPECT_STREQ(g[i].expect, out) TH_LOG("%s", g[i].image);
		vm__destroy(g[i].vm);
		close(g[i].console[0]);
		close(g[i].console[1]);
	}
}

TEST_HARNESS_MAIN
