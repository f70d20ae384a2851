// SPDX-License-Identifier: GPL-2.0
/*
 * Both stop-the-world paths of the VMM give identical results (test VM,
 * kvmdbg.ko loaded). For 1, 2 and 4 vCPUs of the smp example spinning in
 * the guest (turn = 99: every vCPU waits for a turn that never comes), and
 * 20 stops each: vm__pause() stops the world through KVMDBG_FREEZE, then
 * the state of every vCPU is captured twice at that same stop, by one
 * KVMDBG_SNAPSHOT (vm__capture) and by KVM_GET_REGS/SREGS/DEBUGREGS/FPU/
 * VCPU_EVENTS/MSRS per vCPU (the userspace path), and compared field by
 * field; a second snapshot proves the frozen world did not move.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "user/lib/elf.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm.h"

#define SMP_ELF		"build/examples/smp.elf"
#define ROUNDS		20
#define MAX_CPUS	4

static uint64_t sym_turn(void)
{
	uint64_t a = 0;
	char err[128];

	return elf__symbol(SMP_ELF, "turn", &a, err, sizeof(err)) ? 0 : a;
}

#define SAME(t, a, b, what, i)						\
	EXPECT_EQ(0, memcmp(&(a)->what, &(b)->what, sizeof((a)->what)))	\
		TH_LOG("vCPU %d: %s differs between KVMDBG_SNAPSHOT and KVM_GET_*", \
		       i, #what)

static void compare(struct __test_metadata *_metadata,
		    const struct kvmdbg_vcpu_state *m,
		    const struct kvmdbg_vcpu_state *u, int i)
{
	EXPECT_EQ(m->vcpu_id, u->vcpu_id);
	EXPECT_EQ(m->regs.rip, u->regs.rip) TH_LOG("vCPU %d: rip %#llx (should be %#llx)",
		  i, m->regs.rip, u->regs.rip);
	SAME(_metadata, m, u, regs, i);
	SAME(_metadata, m, u, sregs, i);
	SAME(_metadata, m, u, debugregs, i);
	SAME(_metadata, m, u, fpu, i);
	SAME(_metadata, m, u, events, i);
	SAME(_metadata, m, u, msrs, i);
}

static void run_paths(struct __test_metadata *_metadata, int nr)
{
	struct kvmdbg_vcpu_state m[MAX_CPUS], m2[MAX_CPUS], u[MAX_CPUS];
	char err[256] = "";
	struct vm_config cfg = {
		.image = SMP_ELF, .nr_cpus = nr, .console_fd = -1,
		.start_paused = true, .err = err, .err_len = sizeof(err),
	};
	uint64_t turn = sym_turn();
	struct vm *vm;
	uint32_t *t;

	if (kvmdbg_mod__init(false, err, sizeof(err)) || !kvmdbg_mod__active())
		SKIP(return, "no /dev/kvmdbg (hardware: the test VM loads kvmdbg.ko): %s",
		     kvmdbg_mod__why());
	ASSERT_NE(0, turn) TH_LOG("no symbol 'turn' in " SMP_ELF);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("vm__create: %s", err);
	ASSERT_TRUE(vm__uses_module(vm));
	t = vm__gpa_to_hva(vm, turn, sizeof(*t));
	ASSERT_NE(NULL, t);
	*t = 99;
	ASSERT_EQ(0, vm__start(vm));
	for (int round = 0; round < ROUNDS; round++) {
		ASSERT_EQ(0, vm__resume(vm, NULL));
		usleep(2000 + 500 * round);
		ASSERT_EQ(0, vm__pause(vm));
		ASSERT_EQ(nr, vm__capture(vm, VM_ALL_VCPUS, m));
		for (int i = 0; i < nr; i++)
			ASSERT_EQ(0, vcpu__capture(vm__vcpu_fd(vm, i), i, &u[i]));
		ASSERT_EQ(nr, vm__capture(vm, VM_ALL_VCPUS, m2));
		for (int i = 0; i < nr; i++) {
			compare(_metadata, &m[i], &u[i], i);
			EXPECT_EQ(0, memcmp(&m[i], &m2[i], sizeof(m[i])))
				TH_LOG("vCPU %d moved while stopped", i);
		}
	}
	vm__kill(vm, 0);
	vm__destroy(vm);
}

TEST(paths_equal_1_vcpu) { run_paths(_metadata, 1); }
TEST(paths_equal_2_vcpus) { run_paths(_metadata, 2); }
TEST(paths_equal_4_vcpus) { run_paths(_metadata, 4); }

TEST_HARNESS_MAIN
