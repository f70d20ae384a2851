// SPDX-License-Identifier: GPL-2.0
/*
 * The gdb target of a foreign VM (struct gdb_target_ops over struct fvm):
 * thread N is vCPU N-1. All-stop as gdb expects it: a client connecting
 * freezes the VM, continue thaws it, Ctrl-C freezes it again, and detach,
 * kill or a dropped connection thaw it and leave it as it was (its VMM
 * never learns of us). Registers come from the capture taken at the
 * freeze; a register write goes to KVM through kvmdbg.ko and is read back
 * by a new capture (fvm__set_state), so gdb always sees what KVM holds.
 * Memory comes from the VMM's address space, by guest-physical address
 * or through the vCPU's own page tables.
 *
 * What cannot be: breakpoints, watchpoints and single-steps end in a
 * KVM_EXIT_DEBUG, which only the VM's own VMM sees, and a VMM that does
 * not expect one crashes or hands the guest a #DB/#BP. So every Z packet
 * and every step is refused with an error (gdb then says it could not
 * insert the breakpoint, never falls back to writing an int3), and
 * `monitor info` says why. MXCSR is refused too: the capture has no XSAVE
 * area and KVM_SET_FPU drops MXCSR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gdbstub/gdbstub.h"
#include "user/lib/atomic_file.h"
#include "user/attach/attach.h"
#include "user/attach/foreign_target.h"
#include "user/attach/foreign_vm.h"
#include "user/debug/x86_pagewalk.h"
#include "user/debug/x86_regs.h"

#define FT_PAGE	4096ULL

static const char no_debug_exits[] =
	"breakpoints, watchpoints and single-step: not on a VM another VMM runs\n"
	"  (they end in KVM_EXIT_DEBUG, which only that VMM sees and cannot handle);\n"
	"  stop it with Ctrl-C instead, and read or write registers and memory\n";

static int vcpu_of(struct foreign_target *t, int thread)
{
	return thread >= 1 && thread <= fvm__nr_vcpus(t->vm) ? thread - 1 : -ESRCH;
}

static int nr_threads(void *ctx)
{
	return fvm__nr_vcpus(((struct foreign_target *)ctx)->vm);
}

/* The capture as the x86 helpers take it (x87/SSE from KVM_GET_FPU). */
static int kvm_state(struct foreign_target *t, int vcpu, struct x86_kvm_state *s)
{
	const struct kvmdbg_vcpu_state *c = fvm__state(t->vm, vcpu);

	if (!c)
		return -EAGAIN;
	memset(s, 0, sizeof(*s));
	s->regs = c->regs;
	s->sregs = c->sregs;
	s->fpu = c->fpu;
	s->k_gs_base = c->msrs.entries[KVMDBG_MSR_KERNEL_GS_BASE].data;
	return 0;
}

static int read_regs(void *ctx, int thread, struct gdb_x86_regs *regs)
{
	struct foreign_target *t = ctx;
	struct x86_kvm_state s;
	int v = vcpu_of(t, thread), r;

	if (v < 0)
		return v;
	r = kvm_state(t, v, &s);
	if (!r)
		x86_regs__from_kvm(&s, regs);
	return r;
}

static void ft__log(struct foreign_target *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The KVMDBG_STATE_* classes of the X86_DIRTY_* ones. */
static unsigned int state_flags(unsigned int dirty)
{
	return (dirty & X86_DIRTY_REGS ? KVMDBG_STATE_REGS : 0) |
	       (dirty & X86_DIRTY_SREGS ? KVMDBG_STATE_SREGS : 0) |
	       (dirty & X86_DIRTY_FPU ? KVMDBG_STATE_FPU : 0) |
	       (dirty & X86_DIRTY_MSRS ? KVMDBG_STATE_MSRS : 0);
}

static void write_failed(struct foreign_target *t, int vcpu, int r)
{
	if (r == -ENOTTY)
		ft__log(t, "register write refused: this kvmdbg.ko cannot write a foreign VM's registers (no KVMDBG_CAP_SET_STATE): load the module built with this kvmdbg-launch");
	else if (r == -EIO)
		ft__log(t, "register write of vCPU %d failed: no fd of that vCPU was taken from the VMM (or KVM refused it)", vcpu);
	else
		ft__log(t, "register write of vCPU %d failed: KVMDBG_SET_VCPU_STATE: %s", vcpu,
			strerror(-r));
}

/* The changed classes go to KVM; the new capture is what gdb reads next. */
static int write_regs(void *ctx, int thread, const struct gdb_x86_regs *regs)
{
	struct foreign_target *t = ctx;
	struct kvmdbg_vcpu_state rec;
	struct x86_kvm_state s;
	unsigned int dirty;
	int v = vcpu_of(t, thread), r;

	if (v < 0)
		return v;
	r = kvm_state(t, v, &s);
	if (r)
		return r;
	rec = *fvm__state(t->vm, v);
	dirty = x86_regs__to_kvm(regs, &s);
	if (!dirty)
		return 0;
	if (s.fpu.mxcsr != rec.fpu.mxcsr) {
		ft__log(t, "register write refused: mxcsr cannot be written on a VM another VMM runs (KVM_SET_FPU drops it)");
		return -EOPNOTSUPP;
	}
	rec.regs = s.regs;
	rec.sregs = s.sregs;
	rec.fpu = s.fpu;
	rec.msrs.entries[KVMDBG_MSR_KERNEL_GS_BASE].data = s.k_gs_base;
	r = fvm__set_state(t->vm, v, &rec, state_flags(dirty));
	if (r)
		write_failed(t, v, r);
	return r;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	return fvm__read_phys(ctx, gpa, buf, size) == (ssize_t)size ? 0 : -EFAULT;
}

static int paging(struct foreign_target *t, int vcpu, struct x86_paging *p)
{
	const struct kvmdbg_vcpu_state *c = fvm__state(t->vm, vcpu);

	if (!c)
		return -EAGAIN;
	p->cr0 = c->sregs.cr0;
	p->cr3 = c->sregs.cr3;
	p->cr4 = c->sregs.cr4;
	p->efer = c->sregs.efer;
	return 0;
}

/* Page by page, stopping short at the first page that is not mapped. */
static int xfer(struct foreign_target *t, int thread, bool phys, uint64_t addr,
		void *rbuf, const void *wbuf, size_t len)
{
	struct x86_paging p = { 0 };
	int v = vcpu_of(t, thread);
	size_t done = 0;

	if (v < 0)
		return v;
	if (!phys && paging(t, v, &p))
		return -EAGAIN;
	while (done < len) {
		uint64_t va = addr + done;
		size_t n = FT_PAGE - (va & (FT_PAGE - 1));
		struct x86_walk w;
		ssize_t r;

		if (n > len - done)
			n = len - done;
		if (x86_pagewalk(&p, va, read_phys, t->vm, &w))
			break;
		r = wbuf ? fvm__write_phys(t->vm, w.gpa, (const uint8_t *)wbuf + done, n) :
			   fvm__read_phys(t->vm, w.gpa, (uint8_t *)rbuf + done, n);
		if (r > 0)
			done += (size_t)r;
		if (r != (ssize_t)n)
			break;
	}
	return done ? (int)done : -EFAULT;
}

static int read_mem(void *ctx, int thread, bool phys, uint64_t addr, void *buf,
		    size_t len)
{
	return len ? xfer(ctx, thread, phys, addr, buf, NULL, len) : 0;
}

static int write_mem(void *ctx, int thread, bool phys, uint64_t addr,
		     const void *buf, size_t len)
{
	return len ? xfer(ctx, thread, phys, addr, NULL, buf, len) : 0;
}

static void ft__log(struct foreign_target *t, const char *fmt, ...)
{
	va_list ap;

	(void)t;
	fprintf(stderr, "gdb: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int no_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	(void)type;
	(void)kind;
	ft__log(ctx, "breakpoint at %#" PRIx64 " refused: a VM another VMM runs cannot take debug exits (monitor info)",
		addr);
	return -EPERM;
}

static int remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind)
{
	(void)ctx;
	(void)type;
	(void)addr;
	(void)kind;
	return -ENOENT;		/* none was ever inserted */
}

static void stopped(struct foreign_target *t)
{
	uint64_t one = 1;

	if (write(t->efd, &one, sizeof(one)) < 0)
		ft__log(t, "cannot report the stop: %s", strerror(errno));
}

static int freeze(struct foreign_target *t)
{
	char err[256];
	int r = fvm__freeze(t->vm, err, sizeof(err));

	if (r)
		ft__log(t, "%s", err);
	return r;
}

static int resume(void *ctx, const struct gdb_resume *r)
{
	struct foreign_target *t = ctx;

	for (int i = 0; i < fvm__nr_vcpus(t->vm); i++)
		if (r->action[i] == GDB_ACT_STEP) {
			ft__log(t, "single-step refused: a VM another VMM runs cannot take debug exits (monitor info)");
			return -EPERM;
		}
	return fvm__thaw(t->vm);
}

static int interrupt(void *ctx)
{
	struct foreign_target *t = ctx;
	int r = fvm__frozen(t->vm) ? 0 : freeze(t);

	if (!r)
		stopped(t);
	return r;
}

/* detach, kill or a dropped client: the VM runs on as it was. */
static void let_go(void *ctx)
{
	struct foreign_target *t = ctx;

	fvm__thaw(t->vm);
}

static int thread_info(void *ctx, int thread, char *buf, size_t len)
{
	struct foreign_target *t = ctx;
	int v = vcpu_of(t, thread);

	if (v < 0)
		return v;
	snprintf(buf, len, "vCPU %d (thread %d) %s", v, (int)fvm__vcpu_tid(t->vm, v),
		 fvm__frozen(t->vm) ? "frozen" : "running");
	return 0;
}

static int offsets(void *ctx, uint64_t *text, uint64_t *data)
{
	struct foreign_target *t = ctx;
	const struct kvmdbg_vcpu_state *c = fvm__state(t->vm, 0);
	uint64_t slide;

	*text = 0;
	*data = 0;
	if (!c || !t->kernel || x86_kaslr_slide(c->msrs.entries[KVMDBG_MSR_LSTAR].data,
						 t->kernel->syscall_link, &slide) || !slide)
		return 0;
	*text = t->kernel->seg_link + slide;
	return GDB_OFFSETS_SEGMENT;
}

/* "dump FILE": the core of the VM as gdb sees it now (it stays frozen). */
static int monitor_dump(struct foreign_target *t, const char *file, gdb_print_fn print,
			void *out)
{
	struct foreign_dump_result res;
	char msg[768];
	int r;

	r = afile__monitor_file("dump", "core", file, print, out);
	if (r)
		return r;
	r = foreign__dump(t->vm, file, t->kernel ? t->kernel->path : NULL, &res, msg,
			  sizeof(msg));
	if (!r)
		core__summary(file, &res.core, msg, sizeof(msg));
	print(out, "%s\n", msg);
	/* Not -ENOENT (a missing directory): that means "not our command". */
	return r == -ENOENT ? -EIO : r;
}

static int monitor(void *ctx, const char *cmd, bool help, gdb_print_fn print,
		   void *out)
{
	struct foreign_target *t = ctx;

	if (help) {
		print(out, "info           the VMM, its vCPUs and memslots, the kick signal\n"
		      "info vcpus     every vCPU: RIP, CPU and paging mode\n"
		      "dump FILE      write an ELF core of the frozen VM to FILE (an\n"
		      "               absolute path), for gdb, crash and drgn\n");
		return 0;
	}
	if (!strcmp(cmd, "dump") || !strncmp(cmd, "dump ", 5))
		return monitor_dump(t, cmd + 4 + strspn(cmd + 4, " "), print, out);
	if (!strcmp(cmd, "info")) {
		foreign__describe(t->vm, print, out);
		print(out, "%s", no_debug_exits);
		return 0;
	}
	if (!strcmp(cmd, "info vcpus")) {
		for (int i = 0; i < fvm__nr_vcpus(t->vm); i++) {
			const struct kvmdbg_vcpu_state *c = fvm__state(t->vm, i);

			if (c)
				print(out, "vCPU %d: rip 0x%" PRIx64 ", %s, %s\n", i,
				      (uint64_t)c->regs.rip, x86_cpu_mode(&c->sregs),
				      x86_paging_mode(&c->sregs));
		}
		return 0;
	}
	return -ENOENT;
}

void foreign__describe(struct fvm *vm, gdb_print_fn print, void *out)
{
	const struct foreign_proc *fp = fvm__proc(vm);
	uint64_t total = 0;
	char sig[32];

	print(out, "VMM:         process %d (%s), its VM fd %d, %d vCPU fd(s)\n", (int)fp->pid,
	      fp->comm, fp->vm_fd_nr, fp->nr_vcpu_fds);
	print(out, "kick signal: %s (%s)\n",
	      foreign__signame(fp->kick_signal, sig, sizeof(sig)), fp->kick_why);
	print(out, "state:       %s\n", fvm__frozen(vm) ? "frozen" : "running");
	print(out, "vCPUs:       %d\n", fvm__nr_vcpus(vm));
	for (int i = 0; i < fvm__nr_vcpus(vm); i++)
		print(out, "  vCPU %d: thread %d\n", i, (int)fvm__vcpu_tid(vm, i));
	for (int i = 0; i < fvm__nr_slots(vm); i++)
		total += fvm__slot(vm, i)->size;
	print(out, "memslots:    %d, %" PRIu64 " MiB of guest RAM\n", fvm__nr_slots(vm), total >> 20);
	for (int i = 0; i < fvm__nr_slots(vm); i++) {
		const struct fvm_slot *m = fvm__slot(vm, i);

		print(out, "  slot %u: 0x%09" PRIx64 "-0x%09" PRIx64 " (%" PRIu64 " KiB) at 0x%" PRIx64 "%s\n",
		      m->id, m->gpa, m->gpa + m->size, m->size >> 10, m->hva,
		      m->flags & KVM_MEM_READONLY ? ", read-only" : "");
	}
}

static const struct gdb_target_ops foreign_target_ops = {
	.nr_threads = nr_threads,
	.read_regs = read_regs,
	.write_regs = write_regs,
	.read_mem = read_mem,
	.write_mem = write_mem,
	.insert_bp = no_bp,
	.remove_bp = remove_bp,
	.resume = resume,
	.interrupt = interrupt,
	.detach = let_go,
	.kill = let_go,
	.thread_info = thread_info,
	.offsets = offsets,
	.monitor = monitor,
};

static void on_event(void *ctx)
{
	struct foreign_target *t = ctx;
	struct gdb_stop stop = { .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGINT,
				 .thread = 1 };
	uint64_t n;

	if (read(t->efd, &n, sizeof(n)) == sizeof(n))
		gdb_stub_stopped(t->stub, &stop);
}

/*
 * A client connected: all-stop, as for the launcher's own VMs. After an
 * earlier client detached the stub counts the VM as running: this
 * freeze is the stop its '?' waits for.
 */
static void on_connect(void *ctx)
{
	struct foreign_target *t = ctx;
	struct gdb_stop stop = { .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGINT,
				 .thread = 1 };

	if (!fvm__frozen(t->vm) && freeze(t)) {
		ft__log(t, "the VM could not be frozen for the new client");
		return;
	}
	if (gdb_stub_running(t->stub))
		gdb_stub_stopped(t->stub, &stop);
}

int foreign_target__init(struct foreign_target *t, struct fvm *vm,
			 const struct foreign_kernel *kernel)
{
	memset(t, 0, sizeof(*t));
	t->vm = vm;
	t->kernel = kernel;
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->efd < 0)
		return -errno;
	t->stub = gdb_stub_new(&foreign_target_ops, t);
	if (!t->stub) {
		close(t->efd);
		return -errno;
	}
	return 0;
}

int foreign_target__serve(struct foreign_target *t, struct gdb_server *srv)
{
	return gdb_server_run(srv, t->stub, t->efd, on_event, on_connect, t);
}

void foreign_target__fini(struct foreign_target *t)
{
	if (t->stub)
		gdb_stub_free(t->stub);
	if (t->efd >= 0)
		close(t->efd);
	t->stub = NULL;
	t->efd = -1;
}
