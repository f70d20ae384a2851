// SPDX-License-Identifier: GPL-2.0
/* A fake gdbstub backend: see fake_backend.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "selftests/gdbstub/fake_backend.h"

void fake_init(struct fake *f, int nr_threads)
{
	memset(f, 0, sizeof(*f));
	f->nr_threads = nr_threads;
	for (int t = 1; t <= FAKE_MAX_THREADS; t++) {
		struct gdb_x86_regs *r = &f->regs[t - 1];

		r->rip = 0x401000 + 0x100 * (uint64_t)(t - 1);
		r->gpr[7] = 0x7ff000 - 0x1000 * (uint64_t)(t - 1);
		r->gpr[6] = r->gpr[7] + 0x80;
		r->gpr[0] = 0x1111 * (uint64_t)t;
		r->eflags = 0x202;
		r->seg[0] = 0x8;
		r->seg[1] = 0x10;
		r->cr0 = 0x80050033;
		r->cr3 = 0x3000 + (uint64_t)t;
		r->cr4 = 0x6a0;
		r->efer = 0xd01;
		r->fs_base = 0xf5000 + (uint64_t)t;
		r->mxcsr = 0x1f80;
		r->fctrl = 0x37f;
	}
	for (size_t i = 0; i < FAKE_MEM_SIZE; i++)
		f->mem[i] = (uint8_t)i;
}

static int fake_nr_threads(void *ctx)
{
	struct fake *f = ctx;

	return f->nr_threads;
}

static int fake_read_regs(void *ctx, int thread, struct gdb_x86_regs *regs)
{
	struct fake *f = ctx;

	f->n_read_regs++;
	f->last_regs_thread = thread;
	if (f->read_regs_ret)
		return f->read_regs_ret;
	if (thread < 1 || thread > f->nr_threads)
		return -ESRCH;
	*regs = f->regs[thread - 1];
	return 0;
}

static int fake_write_regs(void *ctx, int thread,
			   const struct gdb_x86_regs *regs)
{
	struct fake *f = ctx;

	f->n_write_regs++;
	f->last_regs_thread = thread;
	if (thread < 1 || thread > f->nr_threads)
		return -ESRCH;
	f->regs[thread - 1] = *regs;
	return 0;
}

/* Bytes of [addr, addr + len) inside mem, from the start: a short count
 * at the end of mem, -EFAULT when addr itself is outside.
 */
static int fake_span(bool phys, uint64_t addr, size_t len, size_t *off)
{
	uint64_t base = phys ? FAKE_PBASE : FAKE_VBASE;

	if (addr < base || addr - base >= FAKE_MEM_SIZE)
		return -EFAULT;
	*off = (size_t)(addr - base);
	if (len > FAKE_MEM_SIZE - *off)
		len = FAKE_MEM_SIZE - *off;
	return (int)len;
}

static int fake_read_mem(void *ctx, int thread, bool phys, uint64_t addr,
			 void *buf, size_t len)
{
	struct fake *f = ctx;
	size_t off;
	int n = fake_span(phys, addr, len, &off);

	f->n_read_mem++;
	f->last_mem_thread = thread;
	f->last_mem_phys = phys;
	if (n > 0)
		memcpy(buf, f->mem + off, (size_t)n);
	return n;
}

static int fake_write_mem(void *ctx, int thread, bool phys, uint64_t addr,
			  const void *buf, size_t len)
{
	struct fake *f = ctx;
	size_t off;
	int n = fake_span(phys, addr, len, &off);

	f->n_write_mem++;
	f->last_mem_thread = thread;
	f->last_mem_phys = phys;
	if (n > 0)
		memcpy(f->mem + off, buf, (size_t)n);
	return n;
}

static int fake_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
			  uint64_t kind)
{
	struct fake *f = ctx;

	f->n_insert++;
	f->bp_type = type;
	f->bp_addr = addr;
	f->bp_kind = kind;
	return f->insert_ret;
}

static int fake_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
			  uint64_t kind)
{
	struct fake *f = ctx;

	f->n_remove++;
	f->bp_type = type;
	f->bp_addr = addr;
	f->bp_kind = kind;
	return 0;
}

static int fake_resume(void *ctx, const struct gdb_resume *r)
{
	struct fake *f = ctx;

	f->n_resume++;
	f->resume = *r;
	return f->resume_ret;
}

static int fake_interrupt(void *ctx)
{
	struct fake *f = ctx;

	f->n_interrupt++;
	return 0;
}

static void fake_detach(void *ctx)
{
	struct fake *f = ctx;

	f->n_detach++;
}

static void fake_hold(void *ctx)
{
	struct fake *f = ctx;

	f->n_hold++;
}

static void fake_end(void *ctx)
{
	struct fake *f = ctx;

	f->n_end++;
}

/* Restarts in place. */
static int fake_restart(void *ctx, const char *session)
{
	struct fake *f = ctx;

	f->n_restart++;
	snprintf(f->restart_session, sizeof(f->restart_session), "%s", session);
	return 0;
}

static void fake_kill(void *ctx)
{
	struct fake *f = ctx;

	f->n_kill++;
}

static int fake_thread_info(void *ctx, int thread, char *buf, size_t len)
{
	struct fake *f = ctx;

	if (f->thread_text)
		snprintf(buf, len, "%s", f->thread_text);
	else
		snprintf(buf, len, "vCPU %d halted", thread - 1);
	return 0;
}

static int fake_offsets(void *ctx, uint64_t *text, uint64_t *data)
{
	struct fake *f = ctx;

	if (f->text_seg) {
		*text = f->text_seg;
		return GDB_OFFSETS_SEGMENT;
	}
	*text = FAKE_TEXT_OFF;
	*data = FAKE_DATA_OFF;
	return 0;
}

/* "info vcpus" lists threads; "fail" prints and fails with -EIO. */
static int fake_monitor(void *ctx, const char *cmd, bool help,
			gdb_print_fn print, void *out)
{
	struct fake *f = ctx;

	f->n_monitor++;
	f->monitor_help = help;
	snprintf(f->monitor_cmd, sizeof(f->monitor_cmd), "%s", cmd);
	if (help) {
		print(out, "info vcpus     list the vCPUs\n");
		return 0;
	}
	if (!strcmp(cmd, "info vcpus")) {
		for (int t = 1; t <= f->nr_threads; t++)
			print(out, "vCPU %d: rip 0x%llx\n", t - 1,
			      (unsigned long long)f->regs[t - 1].rip);
		return 0;
	}
	if (!strcmp(cmd, "fail")) {
		print(out, "fail: it failed\n");
		return -EIO;
	}
	return -ENOENT;
}

const struct gdb_target_ops fake_ops = {
	.nr_threads = fake_nr_threads,
	.read_regs = fake_read_regs,
	.write_regs = fake_write_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.insert_bp = fake_insert_bp,
	.remove_bp = fake_remove_bp,
	.resume = fake_resume,
	.interrupt = fake_interrupt,
	.detach = fake_detach,
	.hold = fake_hold,
	.kill = fake_kill,
	.end = fake_end,
	.restart = fake_restart,
	.thread_info = fake_thread_info,
	.offsets = fake_offsets,
	.monitor = fake_monitor,
};
