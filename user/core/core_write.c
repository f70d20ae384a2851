// SPDX-License-Identifier: GPL-2.0
/*
 * Writing a guest core (docs/core-format.md): hold the world, capture
 * every vCPU, ask the kind for its layout (p_vaddr, a VMCOREINFO note),
 * write the non-zero pages of RAM at their place in the one PT_LOAD (zero
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
#include "user/lib/elf.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm.h"

#define CORE_PAGE	4096ULL

/* The layouts of x86-64 Linux cores, which gdb, crash and drgn parse. */
static_assert(sizeof(struct elf_prstatus) == 336, "NT_PRSTATUS size");
static_assert(sizeof(struct elf_prpsinfo) == 136, "NT_PRPSINFO size");
static_assert(sizeof(struct user_regs_struct) == sizeof(elf_gregset_t), "pr_reg");

struct notes {
	uint8_t *p;
	size_t len, cap;
};

static int notes__put(struct notes *b, const void *data, size_t len)
{
	size_t need = b->len + ((len + 3) & ~(size_t)3);

	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	memset(b->p + b->len + len, 0, need - b->len - len);
	b->len = need;
	return 0;
}

/* One note: header, name (NUL, padded to 4), desc (padded to 4). */
static int notes__add(struct notes *b, const char *name, uint32_t type,
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

static int notes__prstatus(struct notes *b, int vcpu, const struct kvmdbg_vcpu_state *s,
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

static int notes__prpsinfo(struct notes *b, const char *image)
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
	struct vm *vm;
	const struct core_opts *o;
	int fd;
	struct core_result *res;
	const char **step;
	struct kvmdbg_vcpu_state *st;
	struct vm_core_layout *l;
	struct notes notes;
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

/* Every vCPU, the kind's layout, then the notes: crashed vCPU first. */
static int job__notes(struct core_job *j)
{
	int n = vm__nr_vcpus(j->vm), first = j->o->crash_vcpu >= 0 ? j->o->crash_vcpu : 0;
	const struct vm_machine *m = vm__machine(j->vm);
	int r;

	*j->step = "capture of the vCPU state";
	r = vm__capture(j->vm, VM_ALL_VCPUS, j->st);
	if (r < 0)
		return r;
	job__slide(j);
	if (m->core_layout)
		m->core_layout(j->vm, &j->st[0].sregs, j->l);
	else
		snprintf(j->l->what, sizeof(j->l->what), "none (the %s kind has no core layout)",
			 m->name);
	/* Every note of a crash core names the signal, as Linux's do: gdb
	 * (bfd) takes the last one's as the core's.
	 */
	r = notes__prstatus(&j->notes, first, &j->st[first], j->o->crash_vcpu >= 0);
	for (int i = 0; i < n && !r; i++)
		if (i != first)
			r = notes__prstatus(&j->notes, i, &j->st[i], j->o->crash_vcpu >= 0);
	r = r ? r : notes__prpsinfo(&j->notes, j->o->image);
	if (!r && j->l->note_len)
		r = notes__put(&j->notes, j->l->note, j->l->note_len);
	return r;
}

static int write_all(int fd, const void *p, uint64_t len, uint64_t off)
{
	const uint8_t *s = p;

	while (len) {
		ssize_t n = pwrite(fd, s, len > (1u << 30) ? (1u << 30) : len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		s += n;
		len -= n;
		off += n;
	}
	return 0;
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
 * Runs of non-zero pages at data + gpa; zero pages are skipped (holes).
 * Returns the bytes written, or -errno.
 */
static int64_t write_ram(struct vm *vm, int fd, uint64_t data)
{
	uint64_t size = vm__mem_size(vm), start = UINT64_MAX, written = 0;
	const uint8_t *mem = vm__gpa_to_hva(vm, 0, size);
	int r = 0;

	for (uint64_t gpa = 0; gpa <= size && !r; gpa += CORE_PAGE) {
		bool nonzero = gpa < size && !page__zero(mem + gpa);

		if (nonzero && start == UINT64_MAX) {
			start = gpa;
		} else if (!nonzero && start != UINT64_MAX) {
			r = write_all(fd, mem + start, gpa - start, data + start);
			written += gpa - start;
			start = UINT64_MAX;
		}
	}
	return r ? r : (int64_t)written;
}

/* PT_NOTE, the RAM's PT_LOAD and, when the kind gives one, the kernel's. */
static int core__nr_phdrs(const struct vm_core_layout *l)
{
	return l->text_size ? 3 : 2;
}

/*
 * p_align 0 on a PT_LOAD, as Linux's /proc/vmcore and QEMU's
 * dump-guest-memory write it: crash(8) takes a core whose first PT_LOAD
 * has a page-aligned p_offset and a non-zero p_align for a netdump one
 * and then ignores VMCOREINFO's KERNELOFFSET (no KASLR relocation: it
 * fails at once reading page_offset_base at its link address).
 */
static void headers(struct core_job *j, uint64_t data, Elf64_Ehdr *e, Elf64_Phdr *ph)
{
	uint64_t size = vm__mem_size(j->vm);

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
	e->e_phnum = core__nr_phdrs(j->l);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = sizeof(*e) + e->e_phnum * sizeof(*ph),
			      .p_filesz = j->notes.len, .p_align = 4 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			      .p_offset = data, .p_paddr = 0,
			      .p_vaddr = j->l->vaddr_valid ? j->l->vaddr_base : 0,
			      .p_filesz = size, .p_memsz = size, .p_align = 0 };
	/* The kernel image's mapping of RAM: its bytes are the RAM segment's. */
	if (j->l->text_size)
		ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
				      .p_offset = data + j->l->text_paddr,
				      .p_paddr = j->l->text_paddr, .p_vaddr = j->l->text_vaddr,
				      .p_filesz = j->l->text_size, .p_memsz = j->l->text_size };
}



/* World held: notes, RAM, headers, size. */
static int job__write(void *arg)
{
	struct core_job *j = arg;
	Elf64_Ehdr e;
	Elf64_Phdr ph[3];
	uint64_t data;
	int64_t n;
	int r = job__notes(j);

	if (r)
		return r;
	data = (sizeof(e) + core__nr_phdrs(j->l) * sizeof(ph[0]) + j->notes.len +
		CORE_PAGE - 1) & ~(CORE_PAGE - 1);
	*j->step = "write";
	n = write_ram(j->vm, j->fd, data);
	if (n < 0)
		return (int)n;
	headers(j, data, &e, ph);
	r = write_all(j->fd, &e, sizeof(e), 0);
	r = r ? r : write_all(j->fd, ph, e.e_phnum * sizeof(ph[0]), sizeof(e));
	r = r ? r : write_all(j->fd, j->notes.p, j->notes.len, ph[0].p_offset);
	if (!r && ftruncate(j->fd, data + vm__mem_size(j->vm)))
		r = -errno;
	j->res->size = data + vm__mem_size(j->vm);
	j->res->sparse = vm__mem_size(j->vm) - (uint64_t)n;
	return r;
}

int core__check_target(const char *path, char *err, size_t err_len)
{
	return afile__check_target("core", path, err, err_len);
}

static int core__held(struct core_job *j)
{
	int r = 0;

	*j->step = "hold of the vCPUs";
	if (!j->o->stopped)
		r = vm__hold(j->vm);
	/* The debugger's int3s are out meanwhile (vm__capture_held). */
	if (!r)
		r = vm__capture_held(j->vm, job__write, j);
	if (!j->o->stopped)
		vm__release(j->vm);
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

int core__write(struct vm *vm, const char *path, const struct core_opts *o,
		struct core_result *res, char *err, size_t err_len)
{
	struct vm_core_layout *l = calloc(1, sizeof(*l));
	struct kvmdbg_vcpu_state *st = calloc(vm__nr_vcpus(vm), sizeof(*st));
	const char *step = NULL;
	struct core_job j = { .vm = vm, .o = o, .res = res, .step = &step, .st = st, .l = l };
	struct afile t = { .fd = -1 };
	char why[512];
	int r = l && st ? 0 : -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->nr_vcpus = vm__nr_vcpus(vm);
	if (!r)
		r = core__target(&j, path, &t, why, sizeof(why));
	if (r && (!l || !st))
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
