// SPDX-License-Identifier: GPL-2.0
/*
 * Stop-the-world + full capture latency, kvmdbg.ko vs the userspace way,
 * for 1, 2, 4 and 8 vCPUs spinning in the guest (real mode, `jmp .`), in
 * one run. Module: one KVMDBG_SNAPSHOT. Userspace: signal every vCPU
 * thread, wait until all are parked, KVM_GET_REGS/SREGS/FPU/DEBUGREGS/
 * VCPU_EVENTS/MSRS per vCPU. Prints median and p99 of each and the ratio,
 * beside the floor: one bare syscall (getppid) and one KVM_GET_REGS.
 * A benchmark, not a test: run it with bench/stw_bench.sh (test VM).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vcpu_state.h"

#define MAX_CPUS	8
#define ROUNDS		200
#define KICK_SIG	(SIGRTMIN + 1)

struct bvcpu {
	int fd;
	struct kvm_run *run;
	pthread_t th;
};

static struct bvcpu vcpus[MAX_CPUS];
static int nr, vm_fd, kvm_fd;
static int stop_req, parked, quit;
static bool module_mode;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_kick(int sig) { (void)sig; }

/*
 * Userspace mode: clear immediate_exit, then re-check stop_req, so a stop
 * requested after the check always finds immediate_exit set. Module mode:
 * never clear it (the module's contract); wait for its thaw instead.
 */
static void *vcpu_thread(void *arg)
{
	struct bvcpu *v = arg;

	while (!__atomic_load_n(&quit, __ATOMIC_SEQ_CST)) {
		if (__atomic_load_n(&stop_req, __ATOMIC_SEQ_CST)) {
			__atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&stop_req, __ATOMIC_SEQ_CST))
				sched_yield();
			__atomic_sub_fetch(&parked, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (module_mode) {
			if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_SEQ_CST)) {
				sched_yield();
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

static void start_threads(bool module)
{
	module_mode = module;
	quit = 0;
	for (int i = 0; i < nr; i++)
		pthread_create(&vcpus[i].th, NULL, vcpu_thread, &vcpus[i]);
}

static void stop_threads(void)
{
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
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

static uint64_t user_round(struct kvmdbg_vcpu_state *st)
{
	uint64_t t0 = now_ns();

	__atomic_store_n(&stop_req, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < nr; i++) {
		__atomic_store_n(&vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vcpus[i].th, KICK_SIG);
	}
	while (__atomic_load_n(&parked, __ATOMIC_SEQ_CST) < nr)
		;
	for (int i = 0; i < nr; i++)
		vcpu__capture(vcpus[i].fd, i, &st[i]);
	t0 = now_ns() - t0;
	__atomic_store_n(&stop_req, 0, __ATOMIC_SEQ_CST);
	return t0;
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

static int bench(int n, struct kvmdbg_sess **sess, double out[4])
{
	static uint64_t tu[ROUNDS], tm[ROUNDS];
	struct kvmdbg_vcpu_state st[MAX_CPUS];

	if (setup_vm(n))
		return -1;
	start_threads(false);
	for (int r = 0; r < ROUNDS; r++) {
		pause_us(1000);
		tu[r] = user_round(st);
	}
	stop_threads();
	stats(tu, ROUNDS, &out[0], &out[1]);
	*sess = NULL;
	if (kvmdbg_mod__active() &&
	    kvmdbg_sess__attach(vm_fd, KICK_SIG, sess) == 0) {
		start_threads(true);
		for (int r = 0; r < ROUNDS; r++) {
			uint64_t t0;

			pause_us(1000);
			t0 = now_ns();
			if (kvmdbg_sess__snapshot(*sess, st, n, NULL))
				return -1;
			tm[r] = now_ns() - t0;
		}
		stop_threads();
		kvmdbg_sess__close(*sess);
		stats(tm, ROUNDS, &out[2], &out[3]);
	}
	teardown_vm();
	return 0;
}

int main(void)
{
	static const int cpus[] = { 1, 2, 4, 8 };
	struct sigaction sa = { .sa_handler = on_kick };
	struct kvmdbg_sess *sess;
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
	printf("stop-the-world + full capture (regs, sregs, fpu, debugregs, events, 4 MSRs), %d rounds\n",
	       ROUNDS);
	printf("module: %s\n", kvmdbg_mod__active() ? kvmdbg_mod__path_name() : "not available");
	printf("floor: getppid %.2f us, KVM_GET_REGS %.2f us (medians)\n\n", sys_us, regs_us);
	printf("| vCPUs | userspace p50 | userspace p99 | module p50 | module p99 | ratio p50 |\n");
	printf("|------:|--------------:|--------------:|-----------:|-----------:|----------:|\n");
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		double o[4] = { 0 };

		if (bench(cpus[i], &sess, o)) {
			fprintf(stderr, "stw_bench: %d vCPUs: setup failed: %s\n", cpus[i],
				strerror(errno));
			return 1;
		}
		if (o[2] > 0)
			printf("| %5d | %10.1f us | %10.1f us | %7.1f us | %7.1f us | %8.1fx |\n",
			       cpus[i], o[0], o[1], o[2], o[3], o[0] / o[2]);
		else
			printf("| %5d | %10.1f us | %10.1f us |          - |          - |         - |\n",
			       cpus[i], o[0], o[1]);
	}
	return 0;
}
