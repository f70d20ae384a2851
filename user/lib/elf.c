// SPDX-License-Identifier: GPL-2.0
/*
 * Just enough ELF: see user/lib/elf.h. The file is untrusted: every header,
 * table and string is bounds-checked against its size.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/lib/elf.h"

struct elf {
	const uint8_t *p;
	size_t size;
	const Elf64_Shdr *sh;
	unsigned int shnum;
};

static int elf__map(const char *path, struct elf *e)
{
	const Elf64_Ehdr *eh;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO: no hang */

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(*eh)) {
		close(fd);
		return -ENOEXEC;
	}
	e->size = st.st_size;
	e->p = mmap(NULL, e->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (e->p == MAP_FAILED)
		return -errno;
	eh = (const Elf64_Ehdr *)e->p;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > e->size ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > e->size - eh->e_shoff) {
		munmap((void *)e->p, e->size);
		return -ENOEXEC;
	}
	e->sh = (const Elf64_Shdr *)(e->p + eh->e_shoff);
	e->shnum = eh->e_shnum;
	return 0;
}

static bool elf__in(const struct elf *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

static int elf__find_sym(const struct elf *e, const Elf64_Shdr *symtab,
			 const char *name, uint64_t *value)
{
	const Elf64_Shdr *strtab;
	const Elf64_Sym *sym;
	size_t n;

	if (symtab->sh_link >= e->shnum || !elf__in(e, symtab->sh_offset, symtab->sh_size))
		return -ENOEXEC;
	strtab = &e->sh[symtab->sh_link];
	if (!elf__in(e, strtab->sh_offset, strtab->sh_size))
		return -ENOEXEC;
	sym = (const Elf64_Sym *)(e->p + symtab->sh_offset);
	n = symtab->sh_size / sizeof(*sym);
	for (size_t i = 0; i < n; i++) {
		const char *s = (const char *)e->p + strtab->sh_offset + sym[i].st_name;
		size_t room = sym[i].st_name < strtab->sh_size ?
			strtab->sh_size - sym[i].st_name : 0;

		if (room && strnlen(s, room) < room && !strcmp(s, name) &&
		    sym[i].st_shndx != SHN_UNDEF) {
			*value = sym[i].st_value;
			return 0;
		}
	}
	return -ENOENT;
}

int elf__symbol(const char *path, const char *name, uint64_t *value,
		char *err, size_t err_len)
{
	struct elf e;
	int r = elf__map(path, &e);

	if (r) {
		snprintf(err, err_len, "%s: cannot read its ELF symbol table: %s", path,
			 r == -ENOEXEC ? "not a valid ELF64 file" : strerror(-r));
		return r;
	}
	r = -ENOENT;
	for (unsigned int i = 0; i < e.shnum && r == -ENOENT; i++)
		if (e.sh[i].sh_type == SHT_SYMTAB)
			r = elf__find_sym(&e, &e.sh[i], name, value);
	munmap((void *)e.p, e.size);
	if (r)
		snprintf(err, err_len, "symbol '%s' not found in %s%s", name, path,
			 r == -ENOEXEC ? " (bad symbol table)" : "");
	return r;
}

int elf__first_load(const char *path, uint64_t *vaddr)
{
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	struct elf e;
	int r = elf__map(path, &e);

	if (r)
		return r;
	eh = (const Elf64_Ehdr *)e.p;
	r = -ENOENT;
	if (eh->e_phentsize == sizeof(*ph) &&
	    elf__in(&e, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph))) {
		ph = (const Elf64_Phdr *)(e.p + eh->e_phoff);
		for (unsigned int i = 0; i < eh->e_phnum && r; i++)
			if (ph[i].p_type == PT_LOAD) {
				*vaddr = ph[i].p_vaddr;
				r = 0;
			}
	}
	munmap((void *)e.p, e.size);
	return r;
}

/* Walk the notes of one SHT_NOTE section for NT_GNU_BUILD_ID. */
static int elf__note_id(const struct elf *e, const Elf64_Shdr *sh, uint8_t *id,
			uint32_t *len)
{
	uint64_t off = sh->sh_offset, end = off + sh->sh_size;

	if (!elf__in(e, sh->sh_offset, sh->sh_size))
		return -ENOEXEC;
	while (end - off >= sizeof(Elf64_Nhdr)) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)(e->p + off);
		uint64_t name = (n->n_namesz + 3ULL) & ~3ULL, desc = (n->n_descsz + 3ULL) & ~3ULL;

		off += sizeof(*n);
		if (name > end - off || desc > end - off - name)
			return -ENOEXEC;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    !memcmp(e->p + off, "GNU", 4) && n->n_descsz <= ELF_MAX_BUILD_ID) {
			memcpy(id, e->p + off + name, n->n_descsz);
			*len = n->n_descsz;
			return 0;
		}
		off += name + desc;
	}
	return -ENOENT;
}

int elf__build_id(const char *path, uint8_t *id, uint32_t *len)
{
	struct elf e;
	int r = elf__map(path, &e);

	*len = 0;
	if (r)
		return r;
	r = -ENOENT;
	for (unsigned int i = 0; i < e.shnum && r; i++)
		if (e.sh[i].sh_type == SHT_NOTE)
			r = elf__note_id(&e, &e.sh[i], id, len);
	munmap((void *)e.p, e.size);
	return r;
}
