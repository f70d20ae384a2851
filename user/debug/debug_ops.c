// SPDX-License-Identifier: GPL-2.0
/*
 * The gdb_target_ops table: registers, memory, threads and monitor
 * commands. Thread N is vCPU N-1. Called on the gdb thread with the world
 * stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/debug/debug_priv.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vcpu_state.h"

static int vcpu_of(struct debug *d, int thread)
{
	return thread >= 1 && thread <= d->nr_vcpus ? thread - 1 : -ESRCH;
}

static int nr_threads(void *ctx)
{
	return ((struct debug *)ctx)->nr_vcpus;
}

static int read_regs(void *ctx, int thread, struct gdb_x86_regs *regs)
{
	struct debug *d = ctx;
	struct x86_kvm_state *s;
	int v = vcpu_of(d, thread), r;

	if (v < 0)
		return v;
	r = debug_regs__get(d, v, &s);
	if (r)
		return r;
	x86_regs__from_kvm(s, regs);
	return 0;
}

/* A stop reply's rip/rsp/rbp: after a step, no vCPU ioctl (debug_regs.c). */
static int read_stop_regs(void *ctx, int thread, struct gdb_x86_regs *regs)
{
	struct debug *d = ctx;
	struct x86_kvm_state *s;
	int v = vcpu_of(d, thread), r;

	if (v < 0)
		return v;
	r = debug_regs__core(d, v, &s);
	if (r)
		return r;
	x86_regs__from_kvm_core(&s->regs, &s->sregs, regs);
	return 0;
}

static int write_regs(void *ctx, int thread, const struct gdb_x86_regs *regs)
{
	struct debug *d = ctx;
	struct x86_kvm_state *s;
	unsigned int dirty;
	uint64_t old_rip;
	int v = vcpu_of(d, thread), r;

	if (v < 0)
		return v;
	r = debug_regs__get(d, v, &s);
	if (r)
		return r;
	old_rip = s->regs.rip;
	dirty = x86_regs__to_kvm(regs, s);
	if (!dirty)
		return 0;
	r = debug_regs__put(d, v, dirty);
	/* A halted vCPU sent elsewhere by the client is no longer halted. */
	if (!r && regs->rip != old_rip)
		vm__vcpu_wake(d->vm, v);
	return r;
}

static int read_mem(void *ctx, int thread, bool phys, uint64_t addr,
		    void *buf, size_t len)
{
	struct debug *d = ctx;
	int v = vcpu_of(d, thread);

	return v < 0 ? v : debug_mem__read(d, v, phys, addr, buf, len);
}

static int write_mem(void *ctx, int thread, bool phys, uint64_t addr,
		     const void *buf, size_t len)
{
	struct debug *d = ctx;
	int v = vcpu_of(d, thread);

	return v < 0 ? v : debug_mem__write(d, v, phys, addr, buf, len);
}

static int thread_info(void *ctx, int thread, char *buf, size_t len)
{
	struct debug *d = ctx;
	int v = vcpu_of(d, thread);
	const char *state;

	if (v < 0)
		return v;
	if (vm__vcpu_halted(d->vm, v))
		state = "halted";
	else if (vm__paused(d->vm))
		state = "stopped";
	else
		state = "running";
	snprintf(buf, len, "vCPU %d %s", v, state);
	return 0;
}

/* A Linux guest's KASLR slide, from vCPU 0's MSR_LSTAR (x86_kaslr_slide()). */
static int kaslr_slide(struct debug *d, uint64_t *slide, uint64_t *lstar,
		       uint64_t *link)
{
	pthread_mutex_lock(&d->lock);
	*link = d->syscall_link;
	pthread_mutex_unlock(&d->lock);
	*slide = 0;
	*lstar = 0;
	if (!*link)
		return -ENOENT;
	if (vcpu__msr(vm__vcpu_fd(d->vm, 0), X86_MSR_LSTAR, lstar, false))
		return -EIO;
	return x86_kaslr_slide(*lstar, *link, slide);
}

/*
 * ELF guests run where they were linked; a Linux kernel may have slid, all
 * of it: .rodata (with __ro_after_init data such as page_offset_base),
 * .init.* and the rest move with .text, so the slide goes out as the first
 * segment's new address, which gdb applies to every loaded section.
 */
static int offsets(void *ctx, uint64_t *text, uint64_t *data)
{
	struct debug *d = ctx;
	uint64_t slide, lstar, link, seg;

	*text = 0;
	*data = 0;
	if (kaslr_slide(d, &slide, &lstar, &link) || !slide)
		return 0;
	pthread_mutex_lock(&d->lock);
	seg = d->seg_link;
	pthread_mutex_unlock(&d->lock);
	*text = seg + slide;
	return GDB_OFFSETS_SEGMENT;
}

static int info_kaslr(struct debug *d, gdb_print_fn print, void *out)
{
	uint64_t slide, lstar, link;
	int r = kaslr_slide(d, &slide, &lstar, &link);

	if (r == -ENOENT)
		print(out, "KASLR slide: unknown (no symbols with entry_SYSCALL_64; give the gdb driver a vmlinux)\n");
	else if (r == -EIO)
		print(out, "KASLR slide: unknown (cannot read vCPU 0's MSR_LSTAR)\n");
	else if (r)
		print(out, "KASLR slide: unknown (MSR_LSTAR 0x%" PRIx64 " does not match entry_SYSCALL_64 at 0x%" PRIx64 ": not set yet, or other symbols)\n",
		      lstar, link);
	else
		print(out, "KASLR slide: 0x%" PRIx64 " (MSR_LSTAR 0x%" PRIx64 ", entry_SYSCALL_64 linked at 0x%" PRIx64 ")\n",
		      slide, lstar, link);
	return 0;
}

static int info_vcpus(struct debug *d, gdb_print_fn print, void *out)
{
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct x86_kvm_state *s;
		int r = debug_regs__core(d, i, &s);

		if (r)
			return r;
		print(out, "vCPU %d: rip 0x%" PRIx64 " %s, %s, %s\n", i,
		      (uint64_t)s->regs.rip,
		      vm__vcpu_halted(d->vm, i) ? "halted" : "not halted",
		      x86_cpu_mode(&s->sregs), x86_paging_mode(&s->sregs));
	}
	return 0;
}

/* "translate ADDR [VCPU]": the page walk, as the debugger does it. */
static int translate(struct debug *d, const char *args, gdb_print_fn print,
		     void *out)
{
	char *end;
	uint64_t addr = strtoull(args, &end, 0);
	long v = 0;
	struct x86_paging p;
	struct x86_walk w;
	int r;

	if (end == args || (*end && *end != ' '))
		goto usage;
	if (*end)
		v = strtol(end, &end, 0);
	if (*end || v < 0 || v >= d->nr_vcpus)
		goto usage;
	r = debug_regs__paging(d, (int)v, &p);
	if (r)
		return r;
	if (debug_mem__walk(d, &p, addr, &w)) {
		print(out, "0x%" PRIx64 ": not mapped (level %d entry not present, %d-level paging)\n",
		      addr, w.level, w.levels);
		return 0;
	}
	if (!w.levels)
		print(out, "0x%" PRIx64 " -> 0x%" PRIx64 " (paging off)\n", addr, w.gpa);
	else
		print(out, "0x%" PRIx64 " -> 0x%" PRIx64 " (%" PRIu64 "K page, %d-level paging)\n",
		      addr, w.gpa, w.page_size >> 10, w.levels);
	return 0;
usage:
	print(out, "usage: translate ADDR [VCPU]\n");
	return -EINVAL;
}

static const char backend_help[] =
	"info [path]    how the world is stopped: kvmdbg.ko or userspace\n"
	"info vcpus     every vCPU: RIP, halted or not, CPU and paging mode\n"
	"info kaslr     a Linux guest's KASLR slide (also sent as qOffsets)\n"
	"info crash     why the guest crashed, if it did (it is held until\n"
	"               you continue, kill or detach)\n"
	"translate ADDR [VCPU]\n"
	"               guest-virtual to guest-physical through a vCPU's\n"
	"               page tables (vCPU 0 by default)\n";

/*
 * Commands other parts added (debug__add_monitor; the snapshot service's
 * "snapshot FILE": its writer takes our int3s out during the capture
 * itself, debug_bp__capture, as for every other trigger).
 */
static int added_monitor(struct debug *d, const char *cmd, gdb_print_fn print,
			 void *out)
{
	int r = -ENOENT;

	for (int i = 0; i < d->nr_monitors && r == -ENOENT; i++)
		r = d->monitors[i].fn(d->monitors[i].ctx, cmd, false, print, out);
	return r;
}

static int monitor(void *ctx, const char *cmd, bool help, gdb_print_fn print,
		   void *out)
{
	struct debug *d = ctx;

	if (help) {
		print(out, "%s", backend_help);
		for (int i = 0; i < d->nr_monitors; i++)
			d->monitors[i].fn(d->monitors[i].ctx, cmd, true, print, out);
		return 0;
	}
	if (!strcmp(cmd, "info") || !strcmp(cmd, "info path")) {
		print(out, "stop the world: %s\n", vm__stw_path(d->vm));
		return 0;
	}
	if (!strcmp(cmd, "info vcpus"))
		return info_vcpus(d, print, out);
	if (!strcmp(cmd, "info kaslr"))
		return info_kaslr(d, print, out);
	if (!strcmp(cmd, "info crash")) {
		debug_exit__info_crash(d, print, out);
		return 0;
	}
	if (!strncmp(cmd, "translate ", 10))
		return translate(d, cmd + 10, print, out);
	return added_monitor(d, cmd, print, out);
}

const struct gdb_target_ops debug_target_ops = {
	.nr_threads = nr_threads,
	.read_regs = read_regs,
	.read_stop_regs = read_stop_regs,
	.write_regs = write_regs,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.insert_bp = debug_bp__insert,
	.remove_bp = debug_bp__remove,
	.resume = debug_run__resume,
	.interrupt = debug_run__interrupt,
	.detach = debug_run__detach,
	.hold = debug_run__hold,
	.kill = debug_run__kill,
	.end = debug_run__end,
	.restart = debug_run__restart,
	.thread_info = thread_info,
	.offsets = offsets,
	.monitor = monitor,
	.reg_sets = debug_regs__sets,
};
