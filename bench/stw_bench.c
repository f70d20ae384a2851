// SPDX-License-Identifier: GPL-2.0
/*
 * Stop-the-world + full capture latency, kvmdbg.ko vs the userspace way,
 * for 1, 2, 4 and 8 vCPUs spinning in the guest (real mode, `jmp .`), in
 * one run. Module: one KVMDBG_SNAPSHOT. Userspace: signal every vCPU
 * thread, sleep on a futex until the last one has parked, then
 * KVM_GET_REGS/SREGS/FPU/DEBUGREGS/VCPU_EVENTS/MSRS per vCPU. The same
 * userspace stop with a waiter that spins instead of sleeping is timed
 * too: in the test VM (a TCG VM on a busy 2-core host) a spinning waiter
 * delays the vCPU it waits for by milliseconds, which is what made one
 * vCPU slow on both paths (kvmdbg.ko waited in mutex_lock(), whose
 * optimistic spin lasts while the vCPU is in the guest). The three take turns round by round, order
 * rotated. Parked vCPU threads sleep on futexes, so that they do not
 * compete with the capture for the VM's CPUs. Prints median and p99 of
 * each, the ratio, how many module rounds needed a second kick, beside
 * the floor: one bare syscall (getppid) and one KVM_GET_REGS.
 * A benchmark, not a test: run it with bench/stw_bench.sh (test VM).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vcpu_state.h"

#define MAX_CPUS	8
#define ROUNDS		200
#define KICK_SIG	(SIGRTMIN + 1)
#define SPIN_NS		10000

enum mode { USER, USER_SPIN, MODULE, NR_MODES };

struct bvcpu {
	int fd;
	struct kvm_run *run;
	pthread_t th;
	unsigned int sigs;	/* kick signals this thread handled */
};

static struct bvcpu vcpus[MAX_CPUS];
static __thread struct bvcpu *self;
static int nr, vm_fd, kvm_fd;
static int stop_req, parked, quit, thawed;
static int module_mode;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_kick(int sig)
{
	(void)sig;
	if (self)
		__atomic_add_fetch(&self->sigs, 1, __ATOMIC_SEQ_CST);
}

static void futex_wait(int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, MAX_CPUS + 1, NULL, NULL, 0);
}

/*
 * Userspace mode: clear immediate_exit, then re-check stop_req, so a stop
 * requested after the check always finds immediate_exit set; the last
 * thread to park wakes the waiter. Module mode: never clear it (the
 * module's contract); sleep until the bench thread says the snapshot is
 * over (thawed is read before immediate_exit, so a thaw after that read
 * changes it and the futex wait returns at once).
 */
static void *vcpu_thread(void *arg)
{
	struct bvcpu *v = arg;

	self = v;
	while (!__atomic_load_n(&quit, __ATOMIC_SEQ_CST)) {
		if (__atomic_load_n(&stop_req, __ATOMIC_SEQ_CST)) {
			if (__atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST) == nr)
				futex_wake(&parked);
			while (__atomic_load_n(&stop_req, __ATOMIC_SEQ_CST))
				futex_wait(&stop_req, 1);
			__atomic_sub_fetch(&parked, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (__atomic_load_n(&module_mode, __ATOMIC_SEQ_CST)) {
			int t = __atomic_load_n(&thawed, __ATOMIC_SEQ_CST);

			if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_SEQ_CST)) {
				if (!__atomic_load_n(&quit, __ATOMIC_SEQ_CST))
					futex_wait(&thawed, t);
				continue;
			}
		} else {
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&stop_req, __ATOMIC_SEQ_CST))
				continue;
		}
		ioctl(v->fd, KVM_RUN, 0);
	}
	return NULL;
}

static int setup_vm(int n)
{
	static const uint8_t spin[] = { 0xeb, 0xfe };	/* jmp . */
	struct kvm_userspace_memory_region r = { .memory_size = 0x10000 };
	int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	void *mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0 || mem == MAP_FAILED || sz <= 0)
		return -1;
	memcpy(mem, spin, sizeof(spin));
	r.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return -1;
	nr = n;
	for (int i = 0; i < n; i++) {
		struct kvm_sregs s;
		struct kvm_regs regs = { .rflags = 2 };

		vcpus[i].fd = ioctl(vm_fd, KVM_CREATE_VCPU, i);
		vcpus[i].run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
				    vcpus[i].fd, 0);
		if (vcpus[i].fd < 0 || vcpus[i].run == MAP_FAILED ||
		    ioctl(vcpus[i].fd, KVM_GET_SREGS, &s))
			return -1;
		s.cs.base = 0;
		s.cs.selector = 0;
		if (ioctl(vcpus[i].fd, KVM_SET_SREGS, &s) ||
		    ioctl(vcpus[i].fd, KVM_SET_REGS, &regs))
			return -1;
	}
	return 0;
}

static void start_threads(void)
{
	quit = 0;
	for (int i = 0; i < nr; i++)
		pthread_create(&vcpus[i].th, NULL, vcpu_thread, &vcpus[i]);
}

static void stop_threads(void)
{
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&thawed, 1, __ATOMIC_SEQ_CST);
	futex_wake(&thawed);
	for (int i = 0; i < nr; i++) {
		__atomic_store_n(&vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vcpus[i].th, KICK_SIG);
		pthread_join(vcpus[i].th, NULL);
	}
}

static void teardown_vm(void)
{
	for (int i = 0; i < nr; i++)
		close(vcpus[i].fd);
	close(vm_fd);
}

/*
 * The waiter spins SPIN_NS (as kvmdbg.ko does: on real hardware a kicked
 * vCPU leaves within microseconds), then sleeps on the parked count's
 * futex; @spin: the old bench's waiter, spinning until all have parked.
 */
static uint64_t user_round(struct kvmdbg_vcpu_state *st, bool spin)
{
	uint64_t t0 = now_ns();
	int p;

	__atomic_store_n(&stop_req, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < nr; i++) {
		__atomic_store_n(&vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vcpus[i].th, KICK_SIG);
	}
	while ((p = __atomic_load_n(&parked, __ATOMIC_SEQ_CST)) < nr)
		if (!spin && now_ns() - t0 > SPIN_NS)
			futex_wait(&parked, p);
	for (int i = 0; i < nr; i++)
		vcpu__capture(vcpus[i].fd, i, &st[i]);
	t0 = now_ns() - t0;
	__atomic_store_n(&stop_req, 0, __ATOMIC_SEQ_CST);
	futex_wake(&stop_req);
	return t0;
}

/* One KVMDBG_SNAPSHOT; *@rekicked when a vCPU got more than one signal. */
static int module_round(struct kvmdbg_sess *sess, struct kvmdbg_vcpu_state *st,
			uint64_t *ns, bool *rekicked)
{
	unsigned int sigs[MAX_CPUS];
	uint64_t t0;
	int r;

	for (int i = 0; i < nr; i++)
		sigs[i] = __atomic_load_n(&vcpus[i].sigs, __ATOMIC_SEQ_CST);
	t0 = now_ns();
	r = kvmdbg_sess__snapshot(sess, st, nr, NULL);
	*ns = now_ns() - t0;
	__atomic_add_fetch(&thawed, 1, __ATOMIC_SEQ_CST);
	futex_wake(&thawed);
	*rekicked = false;
	for (int i = 0; i < nr; i++)
		if (__atomic_load_n(&vcpus[i].sigs, __ATOMIC_SEQ_CST) - sigs[i] > 1)
			*rekicked = true;
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void stats(uint64_t *v, int n, double *med, double *p99)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	*med = v[n / 2] / 1000.0;
	*p99 = v[(n * 99) / 100] / 1000.0;
}

static void pause_us(int us)
{
	struct timespec ts = { 0, us * 1000L };

	nanosleep(&ts, NULL);
}

/* Median of @n calls of getppid and of KVM_GET_REGS on a stopped vCPU. */
static void floors(double *sys_us, double *regs_us)
{
	static uint64_t t[2000];
	struct kvm_regs regs;
	double p;

	for (int i = 0; i < 2000; i++) {
		uint64_t t0 = now_ns();

		getppid();
		t[i] = now_ns() - t0;
	}
	stats(t, 2000, sys_us, &p);
	for (int i = 0; i < 2000; i++) {
		uint64_t t0 = now_ns();

		ioctl(vcpus[0].fd, KVM_GET_REGS, &regs);
		t[i] = now_ns() - t0;
	}
	stats(t, 2000, regs_us, &p);
}

/*
 * ROUNDS of each mode, taking turns round by round in rotated order; a
 * mode switch happens while every vCPU thread is in KVM_RUN (or parked),
 * and each reads module_mode only after its next kick.
 * out: p50 and p99 per mode (us), then the module rounds that re-kicked.
 */
static int bench(int n, double out[2 * NR_MODES + 1])
{
	static uint64_t t[NR_MODES][ROUNDS];
	struct kvmdbg_vcpu_state st[MAX_CPUS];
	struct kvmdbg_sess *sess = NULL;
	int modes = NR_MODES, rekicks = 0;

	if (setup_vm(n)) {
		fprintf(stderr, "stw_bench: %d vCPUs: setup failed: %s\n", n, strerror(errno));
		return -1;
	}
	if (!kvmdbg_mod__active() ||
	    kvmdbg_sess__attach(vm_fd, KICK_SIG, &sess))
		modes = MODULE;
	start_threads();
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < modes; k++) {
			int m = (r + k) % modes;
			bool rekicked;

			__atomic_store_n(&module_mode, m == MODULE, __ATOMIC_SEQ_CST);
			pause_us(1000);
			if (m != MODULE) {
				t[m][r] = user_round(st, m == USER_SPIN);
				continue;
			}
			if (module_round(sess, st, &t[m][r], &rekicked)) {
				fprintf(stderr, "stw_bench: %d vCPUs: KVMDBG_SNAPSHOT: %s\n", n,
					strerror(errno));
				return -1;
			}
			rekicks += rekicked;
		}
	}
	stop_threads();
	if (sess)
		kvmdbg_sess__close(sess);
	for (int m = 0; m < modes; m++)
		stats(t[m], ROUNDS, &out[2 * m], &out[2 * m + 1]);
	out[2 * NR_MODES] = rekicks;
	teardown_vm();
	return 0;
}

int main(void)
{
	static const int cpus[] = { 1, 2, 4, 8 };
	struct sigaction sa = { .sa_handler = on_kick };
	double sys_us, regs_us;

	sigaction(KICK_SIG, &sa, NULL);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		fprintf(stderr, "stw_bench: cannot open /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	kvmdbg_mod__init(true, NULL, 0);
	if (setup_vm(1))
		return 1;
	floors(&sys_us, &regs_us);
	teardown_vm();
	printf("stop-the-world + full capture (regs, sregs, fpu, debugregs, events, 5 MSRs), %d rounds each, interleaved\n",
	       ROUNDS);
	printf("module: %s\n", kvmdbg_mod__active() ? kvmdbg_mod__path_name() : "not available");
	printf("floor: getppid %.2f us, KVM_GET_REGS %.2f us (medians)\n\n", sys_us, regs_us);
	printf("| vCPUs | userspace p50 | userspace p99 | module p50 | module p99 | ratio p50 | spinning waiter p50 | spinning waiter p99 | module re-kicks |\n");
	printf("|------:|--------------:|--------------:|-----------:|-----------:|----------:|--------------------:|--------------------:|----------------:|\n");
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		double o[2 * NR_MODES + 1] = { 0 };

		if (bench(cpus[i], o))
			return 1;
		printf("| %5d | %10.1f us | %10.1f us | ", cpus[i], o[0], o[1]);
		if (o[4] > 0)
			printf("%7.1f us | %7.1f us | %8.1fx | ", o[4], o[5], o[0] / o[4]);
		else
			printf("         - |          - |         - | ");
		printf("%16.1f us | %16.1f us | ", o[2], o[3]);
		if (o[4] > 0)
			printf("%8.0f of %d |\n", o[6], ROUNDS);
		else
			printf("              - |\n");
	}
	return 0;
}
