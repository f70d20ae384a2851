// SPDX-License-Identifier: GPL-2.0
/*
 * Writing a guest core (docs/core-format.md) from a source (struct
 * core_source: the launcher's VM, user/core/core_vm.c, or a foreign one,
 * user/attach/foreign_core.c): hold the world, capture every vCPU, ask
 * the source for its layout (p_vaddr, a VMCOREINFO note), write the
 * non-zero pages of each RAM range at their place in its PT_LOAD (zero
 * pages stay holes), the headers and notes in front, then release and
 * rename the temp file over the target (user/lib/atomic_file.h).
 */
#include <assert.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <unistd.h>

#include "user/core/core.h"
#include "user/debug/x86_regs.h"
#include "user/lib/atomic_file.h"
#include "user/lib/growbuf.h"
#include "user/lib/elf.h"
#include <uapi/linux/kvmdbg.h>


/* The layouts of x86-64 Linux cores, which gdb, crash and drgn parse. */
static_assert(sizeof(struct elf_prstatus) == 336, "NT_PRSTATUS size");
static_assert(sizeof(struct elf_prpsinfo) == 136, "NT_PRPSINFO size");
static_assert(sizeof(struct user_regs_struct) == sizeof(elf_gregset_t), "pr_reg");
static_assert(sizeof(struct user_fpregs_struct) == 512, "NT_FPREGSET size");

/* Notes are 4-byte aligned (name and desc each padded). */
static int notes__put(struct growbuf *b, const void *data, size_t len)
{
	return growbuf__put(b, data, len, 4);
}

/* One note: header, name (NUL, padded to 4), desc (padded to 4). */
static int notes__add(struct growbuf *b, const char *name, uint32_t type,
		      const void *desc, uint32_t len)
{
	Elf64_Nhdr h = { .n_namesz = strlen(name) + 1, .n_descsz = len, .n_type = type };
	int r = notes__put(b, &h, sizeof(h));

	r = r ? r : notes__put(b, name, h.n_namesz);
	return r ? r : notes__put(b, desc, len);
}

/* pr_reg in struct user_regs_struct order, from KVM's view of the vCPU. */
static void prstatus__regs(const struct kvmdbg_vcpu_state *s, struct user_regs_struct *u)
{
	const struct kvm_regs *r = &s->regs;
	const struct kvm_sregs *sr = &s->sregs;

	*u = (struct user_regs_struct){
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12,
		.rbp = r->rbp, .rbx = r->rbx, .r11 = r->r11, .r10 = r->r10,
		.r9 = r->r9, .r8 = r->r8, .rax = r->rax, .rcx = r->rcx,
		.rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi, .orig_rax = ~0ULL,
		.rip = r->rip, .cs = sr->cs.selector, .eflags = r->rflags,
		.rsp = r->rsp, .ss = sr->ss.selector, .fs_base = sr->fs.base,
		.gs_base = sr->gs.base, .ds = sr->ds.selector,
		.es = sr->es.selector, .fs = sr->fs.selector, .gs = sr->gs.selector,
	};
}

static int notes__prstatus(struct growbuf *b, int vcpu, const struct kvmdbg_vcpu_state *s,
			   bool crashed)
{
	struct elf_prstatus p;
	struct user_regs_struct u;

	memset(&p, 0, sizeof(p));
	/* gdb names threads by pid: one "LWP" per vCPU, 1-based as its threads. */
	p.pr_pid = vcpu + 1;
	p.pr_cursig = crashed ? SIGSEGV : 0;
	p.pr_info.si_signo = p.pr_cursig;
	prstatus__regs(s, &u);
	memcpy(&p.pr_reg, &u, sizeof(u));
	return notes__add(b, "CORE", NT_PRSTATUS, &p, sizeof(p));
}

/*
 * NT_FPREGSET: the FXSAVE image (struct user_fpregs_struct) from KVM's
 * x87/SSE state; KVM_GET_FPU's ftwx is already FXSAVE's abridged tag.
 * KVM keeps no MXCSR_MASK: 0xffff, what every CPU with DAZ reports.
 */
static int notes__fpregset(struct growbuf *b, const struct kvm_fpu *f)
{
	struct user_fpregs_struct u;

	memset(&u, 0, sizeof(u));
	u.cwd = f->fcw;
	u.swd = f->fsw;
	u.ftw = f->ftwx;
	u.fop = f->last_opcode;
	u.rip = f->last_ip;
	u.rdp = f->last_dp;
	u.mxcsr = f->mxcsr;
	u.mxcr_mask = 0xffff;
	static_assert(sizeof(u.st_space) == sizeof(f->fpr), "st_space");
	static_assert(sizeof(u.xmm_space) == sizeof(f->xmm), "xmm_space");
	memcpy(u.st_space, f->fpr, sizeof(u.st_space));
	memcpy(u.xmm_space, f->xmm, sizeof(u.xmm_space));
	return notes__add(b, "CORE", NT_FPREGSET, &u, sizeof(u));
}

/* A thread of the core: its NT_PRSTATUS, then its NT_FPREGSET. */
static int notes__vcpu(struct growbuf *b, int vcpu, const struct kvmdbg_vcpu_state *s,
		       bool crashed)
{
	int r = notes__prstatus(b, vcpu, s, crashed);

	return r ? r : notes__fpregset(b, &s->fpu);
}

static int notes__prpsinfo(struct growbuf *b, const char *image)
{
	const char *base = image ? strrchr(image, '/') : NULL;
	struct elf_prpsinfo p;

	memset(&p, 0, sizeof(p));
	p.pr_state = 0;
	p.pr_sname = 'R';
	p.pr_pid = 1;
	base = base ? base + 1 : image ? image : "guest";
	strncpy(p.pr_fname, base, sizeof(p.pr_fname) - 1);
	strncpy(p.pr_psargs, image ? image : "guest", sizeof(p.pr_psargs) - 1);
	return notes__add(b, "CORE", NT_PRPSINFO, &p, sizeof(p));
}

struct core_job {
	const struct core_source *src;
	const struct core_opts *o;
	int fd;
	struct core_result *res;
	const char **step;
	struct kvmdbg_vcpu_state *st;
	struct vm_core_layout *l;
	struct growbuf notes;
	uint8_t *buf;		/* CORE_CHUNK, for a source that copies */
	uint64_t *offset;	/* each range's p_offset */
};

/* The slide of a Linux vmlinux given as symbols, from vCPU 0's LSTAR. */
static void job__slide(struct core_job *j)
{
	uint64_t link, lstar = j->st[0].msrs.entries[KVMDBG_MSR_LSTAR].data;

	j->l->symbols = j->o->symbols;
	if (!j->o->symbols ||
	    elf__symbol(j->o->symbols, "entry_SYSCALL_64", &link, NULL, 0))
		return;
	j->l->have_slide = !x86_kaslr_slide(lstar, link, &j->l->slide);
}

/* Every vCPU, the source's layout, then the notes: crashed vCPU first. */
static int job__notes(struct core_job *j)
{
	const struct core_source *src = j->src;
	int n = src->nr_vcpus, first = j->o->crash_vcpu >= 0 ? j->o->crash_vcpu : 0;
	bool crashed = j->o->crash_vcpu >= 0;
	int r;

	*j->step = "capture of the vCPU state";
	r = src->ops->capture(src->ctx, j->st);
	if (r < 0)
		return r;
	job__slide(j);
	src->ops->layout(src->ctx, j->st, j->l);
	/* Every note of a crash core names the signal, as Linux's do: gdb
	 * (bfd) takes the last one's as the core's.
	 */
	r = notes__vcpu(&j->notes, first, &j->st[first], crashed);
	for (int i = 0; i < n && !r; i++)
		if (i != first)
			r = notes__vcpu(&j->notes, i, &j->st[i], crashed);
	r = r ? r : notes__prpsinfo(&j->notes, j->o->image);
	if (!r && j->l->note_len)
		r = notes__put(&j->notes, j->l->note, j->l->note_len);
	return r;
}

static bool page__zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < CORE_PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/*
 * Runs of non-zero pages of @mem (@len bytes, a multiple of the page or
 * the end of a range) at file offset @off; zero pages are skipped
 * (holes), and so are pages @maybe says cannot hold data, unread.
 * Returns the bytes written, or -errno.
 */
static int64_t write_runs(int fd, const uint8_t *mem, uint64_t len, uint64_t off,
			  const bool *maybe)
{
	uint64_t start = UINT64_MAX, written = 0;
	int r = 0;

	for (uint64_t p = 0; p < len + CORE_PAGE && !r; p += CORE_PAGE) {
		uint64_t end = p < len ? p : len;
		bool nonzero = p < len && (len - p < CORE_PAGE ? true :
					   maybe[p / CORE_PAGE] && !page__zero(mem + p));

		if (nonzero && start == UINT64_MAX) {
			start = p;
		} else if (!nonzero && start != UINT64_MAX) {
			r = afile__pwrite(fd, mem + start, end - start, off + start);
			written += end - start;
			start = UINT64_MAX;
		}
	}
	return r ? r : (int64_t)written;
}

/* Every range, CORE_CHUNK at a time: the bytes written, or -errno. */
static int64_t write_ram(struct core_job *j)
{
	const struct core_source *src = j->src;
	uint64_t written = 0;

	for (int i = 0; i < src->nr_ranges; i++) {
		const struct vm_core_range *rg = &src->ranges[i];

		for (uint64_t off = 0; off < rg->size; off += CORE_CHUNK) {
			uint64_t len = rg->size - off < CORE_CHUNK ? rg->size - off : CORE_CHUNK;
			uint64_t np = (len + CORE_PAGE - 1) / CORE_PAGE;
			bool maybe[CORE_CHUNK / CORE_PAGE];
			const uint8_t *p;
			int err = 0;
			int64_t n;

			for (uint64_t k = 0; k < np; k++)
				maybe[k] = true;
			if (src->ops->touched)
				src->ops->touched(src->ctx, rg->gpa + off, np, maybe);
			p = src->ops->ram(src->ctx, rg->gpa + off, len, j->buf, &err);
			if (!p)
				return err ? err : -EIO;
			n = write_runs(j->fd, p, len, j->offset[i] + off, maybe);
			if (n < 0)
				return n;
			written += (uint64_t)n;
		}
	}
	return (int64_t)written;
}

/*
 * The RAM range that holds the kind's kernel-image segment whole (its
 * p_offset points into that range's bytes), or -1: no such segment.
 */
static int text_range(const struct core_job *j)
{
	const struct core_source *src = j->src;
	const struct vm_core_layout *l = j->l;

	for (int i = 0; l->text_size && i < src->nr_ranges; i++)
		if (l->text_paddr >= src->ranges[i].gpa &&
		    l->text_paddr + l->text_size <= src->ranges[i].gpa + src->ranges[i].size)
			return i;
	return -1;
}

/* PT_NOTE, a PT_LOAD per RAM range and, when the kind gives one, the kernel's. */
static int nr_phdrs(const struct core_job *j)
{
	return 1 + j->src->nr_ranges + (text_range(j) >= 0);
}

/*
 * p_align 0 on a PT_LOAD, as Linux's /proc/vmcore and QEMU's
 * dump-guest-memory write it: crash(8) takes a core whose first PT_LOAD
 * has a page-aligned p_offset and a non-zero p_align for a netdump one
 * and then ignores VMCOREINFO's KERNELOFFSET (no KASLR relocation: it
 * fails at once reading page_offset_base at its link address).
 */
static void headers(struct core_job *j, Elf64_Ehdr *e, Elf64_Phdr *ph)
{
	const struct core_source *src = j->src;
	uint64_t base = j->l->vaddr_valid ? j->l->vaddr_base : 0;
	int t;

	memset(e, 0, sizeof(*e));
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_ident[EI_OSABI] = ELFOSABI_NONE;
	e->e_type = ET_CORE;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_phoff = sizeof(*e);
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(*ph);
	e->e_phnum = nr_phdrs(j);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE,
			      .p_offset = sizeof(*e) + e->e_phnum * sizeof(*ph),
			      .p_filesz = j->notes.len, .p_align = 4 };
	for (int i = 0; i < src->nr_ranges; i++) {
		const struct vm_core_range *rg = &src->ranges[i];

		ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
					  .p_offset = j->offset[i], .p_paddr = rg->gpa,
					  .p_vaddr = j->l->vaddr_valid ? base + rg->gpa : 0,
					  .p_filesz = rg->size, .p_memsz = rg->size };
	}
	/* The kernel image's mapping of RAM: its bytes are its range's. */
	t = text_range(j);
	if (t >= 0)
		ph[1 + src->nr_ranges] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			.p_offset = j->offset[t] + (j->l->text_paddr - src->ranges[t].gpa),
			.p_paddr = j->l->text_paddr, .p_vaddr = j->l->text_vaddr,
			.p_filesz = j->l->text_size, .p_memsz = j->l->text_size };
}

/* Each range's data at the next page after the last; the file's end. */
static uint64_t job__offsets(struct core_job *j)
{
	const struct core_source *src = j->src;
	uint64_t off = sizeof(Elf64_Ehdr) + nr_phdrs(j) * sizeof(Elf64_Phdr) + j->notes.len;

	for (int i = 0; i < src->nr_ranges; i++) {
		off = (off + CORE_PAGE - 1) & ~(CORE_PAGE - 1);
		j->offset[i] = off;
		off += src->ranges[i].size;
	}
	return off;
}

/* World held: notes, RAM, headers, size. */
static int job__write(void *arg)
{
	struct core_job *j = arg;
	const struct core_source *src = j->src;
	uint64_t end, ram = 0;
	Elf64_Ehdr e;
	Elf64_Phdr *ph;
	int64_t n;
	int r = job__notes(j);

	if (r)
		return r;
	end = job__offsets(j);
	*j->step = "write";
	n = write_ram(j);
	if (n < 0)
		return (int)n;
	ph = calloc(nr_phdrs(j), sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	headers(j, &e, ph);
	r = afile__pwrite(j->fd, &e, sizeof(e), 0);
	r = r ? r : afile__pwrite(j->fd, ph, e.e_phnum * sizeof(*ph), sizeof(e));
	r = r ? r : afile__pwrite(j->fd, j->notes.p, j->notes.len, ph[0].p_offset);
	free(ph);
	if (!r && ftruncate(j->fd, end))
		r = -errno;
	for (int i = 0; i < src->nr_ranges; i++)
		ram += src->ranges[i].size;
	j->res->size = end;
	j->res->sparse = ram - (uint64_t)n;
	return r;
}

int core__check_target(const char *path, char *err, size_t err_len)
{
	return afile__check_target("core", path, err, err_len);
}

static int core__held(struct core_job *j)
{
	const struct core_source *src = j->src;
	int r;

	*j->step = "hold of the vCPUs";
	r = src->ops->hold(src->ctx);
	if (!r)
		r = src->ops->held(src->ctx, job__write, j);
	src->ops->release(src->ctx);
	return r;
}

static int core__target(struct core_job *j, const char *path, struct afile *t,
			char *why, size_t why_len)
{
	int r = core__check_target(path, why, why_len);

	if (r)
		return r;
	*j->step = "creation of a temp file";
	r = afile__open(path, t);
	if (r)
		return r;
	j->fd = t->fd;
	r = core__held(j);
	return r ? r : afile__commit("core", path, t, j->step, why, why_len);
}

int core__write_from(const struct core_source *src, const char *path,
		     const struct core_opts *o, struct core_result *res, char *err,
		     size_t err_len)
{
	struct vm_core_layout *l = calloc(1, sizeof(*l));
	struct kvmdbg_vcpu_state *st = calloc(src->nr_vcpus, sizeof(*st));
	const char *step = NULL;
	struct core_job j = { .src = src, .o = o, .res = res, .step = &step, .st = st, .l = l,
			      .buf = aligned_alloc(CORE_PAGE, CORE_CHUNK),
			      .offset = calloc(src->nr_ranges + 1, sizeof(uint64_t)) };
	struct afile t = { .fd = -1 };
	char why[512];
	bool oom = !l || !st || !j.buf || !j.offset;
	int r = oom ? -ENOMEM : 0;

	memset(res, 0, sizeof(*res));
	res->nr_vcpus = src->nr_vcpus;
	if (!r)
		r = core__target(&j, path, &t, why, sizeof(why));
	if (r && oom)
		snprintf(err, err_len, "core %s: out of memory", path);
	else if (r && !step)
		snprintf(err, err_len, "%s", why);
	else if (r)
		snprintf(err, err_len, "core %s: %s failed: %s; %s", path, step,
			 strerror(-r), access(path, F_OK) ? "no core written" :
			 "the file there is untouched");
	if (!r) {
		res->note = l->note_len != 0;
		snprintf(res->note_what, sizeof(res->note_what), "%s", l->what);
	}
	afile__discard(&t);
	free(j.notes.p);
	free(j.offset);
	free(j.buf);
	free(st);
	free(l);
	return r;
}

void core__summary(const char *path, const struct core_result *r, char *buf,
		   size_t len)
{
	snprintf(buf, len, "core written to %s: %d vCPU%s, %" PRIu64 " bytes (%" PRIu64
		 " sparse), VMCOREINFO %s", path, r->nr_vcpus, r->nr_vcpus == 1 ? "" : "s",
		 r->size, r->sparse, r->note_what);
}
