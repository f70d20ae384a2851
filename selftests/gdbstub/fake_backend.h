/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake gdbstub backend for the gdbstub tests: fake registers per thread,
 * one block of fake memory visible at a virtual and a physical base, and
 * a record of every call the stub made. Synchronous: nothing runs, a test
 * reports stops itself with gdb_stub_stopped().
 */
#ifndef KVMDBG_SELFTESTS_GDBSTUB_FAKE_BACKEND_H
#define KVMDBG_SELFTESTS_GDBSTUB_FAKE_BACKEND_H

#include "gdbstub/gdbstub.h"

#define FAKE_MAX_THREADS	8
#ifndef FAKE_MEM_SIZE
#define FAKE_MEM_SIZE		0x20000		/* 128 KiB; the fuzzer uses less */
#endif
#define FAKE_VBASE		0x400000ULL	/* virtual view of mem */
#define FAKE_PBASE		0x100000ULL	/* physical view of mem */
#define FAKE_TEXT_OFF		0x1000ULL	/* qOffsets */
#define FAKE_DATA_OFF		0x2000ULL

struct fake {
	int nr_threads;
	struct gdb_x86_regs regs[FAKE_MAX_THREADS];
	uint8_t mem[FAKE_MEM_SIZE];

	/* Results to return, set by a test (0 by default). */
	int insert_ret;
	int resume_ret;
	int read_regs_ret;
	const char *thread_text;	/* thread_info's text, if set */
	uint64_t text_seg;		/* qOffsets sends TextSeg= this, if set */

	/* The record. */
	int n_read_regs, n_write_regs, n_read_mem, n_write_mem;
	int last_regs_thread;		/* thread of the last read/write_regs */
	int last_mem_thread;
	bool last_mem_phys;
	int n_insert, n_remove;
	enum gdb_bp_type bp_type;
	uint64_t bp_addr, bp_kind;
	int n_resume;
	struct gdb_resume resume;
	int n_interrupt, n_detach, n_hold, n_kill;
	int n_end, n_restart;
	char restart_session[160];
	int n_monitor;
	char monitor_cmd[256];
	bool monitor_help;
};

extern const struct gdb_target_ops fake_ops;

/* Fill registers and memory with the values the tests expect:
 * thread t (1-based): rip 0x401000 + 0x100 * (t - 1), rsp 0x7ff000 -
 * 0x1000 * (t - 1), rbp rsp + 0x80, rax 0x1111 * t, cr3 0x3000 + t,
 * fs_base 0xf5000 + t; mem[i] = i & 0xff.
 */
void fake_init(struct fake *f, int nr_threads);

#endif /* KVMDBG_SELFTESTS_GDBSTUB_FAKE_BACKEND_H */
