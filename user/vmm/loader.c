// SPDX-License-Identifier: GPL-2.0
/*
 * Guest image loaders: static ELF64 x86-64 executables (PT_LOAD segments
 * at p_paddr, entry e_entry) and flat binaries (--load-addr, --entry).
 * Every header field and offset is checked against the file size and
 * guest RAM before a byte is copied; a corrupt image gets one line saying
 * what is wrong.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/vmm/vm-priv.h"

#define MAX_PHNUM	1024

#define img_err(img, fmt, ...) \
	errf__set((img)->err, (img)->err_len, "%s: " fmt, (img)->path, ##__VA_ARGS__)

/* [addr, addr+len) must be RAM above the reserved area. */
static int loader__check_range(struct vm *vm, struct image *img, const char *what,
			       uint64_t addr, uint64_t len)
{
	uint64_t reserved = vm__reserved_end(vm->nr_vcpus);

	if (addr > vm->mem_size || len > vm->mem_size - addr) {
		img_err(img, "%s at %#llx-%#llx does not fit in guest RAM (%#llx bytes); raise --mem",
			what, (unsigned long long)addr, (unsigned long long)(addr + len),
			(unsigned long long)vm->mem_size);
		return -EINVAL;
	}
	if (addr < reserved) {
		img_err(img, "%s at %#llx-%#llx overlaps the VMM's reserved area [0, %#llx); link the image at or above %#llx",
			what, (unsigned long long)addr, (unsigned long long)(addr + len),
			(unsigned long long)reserved, (unsigned long long)reserved);
		return -EINVAL;
	}
	return 0;
}

static int loader__check_ehdr(struct image *img, const Elf64_Ehdr *eh)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return img_err(img, "not a 64-bit little-endian ELF file"), -ENOEXEC;
	if (eh->e_machine != EM_X86_64)
		return img_err(img, "not an x86-64 ELF file (e_machine %u)",
			       eh->e_machine), -ENOEXEC;
	if (eh->e_type != ET_EXEC)
		return img_err(img, "not a static executable (e_type %u); link with -static -no-pie",
			       eh->e_type), -ENOEXEC;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > MAX_PHNUM)
		return img_err(img, "bad program header table (e_phentsize %u, e_phnum %u)",
			       eh->e_phentsize, eh->e_phnum), -ENOEXEC;
	if (eh->e_phoff > img->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > img->size - eh->e_phoff)
		return img_err(img, "program header table at offset %#llx (%u x 56 bytes) extends past the end of the file (%zu bytes)",
			       (unsigned long long)eh->e_phoff, eh->e_phnum,
			       img->size), -ENOEXEC;
	return 0;
}

/*
 * ld's default layout (e.g. gcc -nostdlib -static -Wl,-Ttext=0x100000)
 * gives the ELF and program headers a read-only PT_LOAD of their own just
 * below .text, at 0xff000. Nothing the guest runs or reads lives there,
 * so where it falls into the VMM's reserved area it is not loaded (and
 * does not make the image fail). Anywhere else it loads as usual.
 */
static bool loader__skip(struct vm *vm, const Elf64_Ehdr *eh, const Elf64_Phdr *ph)
{
	uint64_t hdr_end = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);

	if (hdr_end < sizeof(Elf64_Ehdr))
		hdr_end = sizeof(Elf64_Ehdr);
	return ph->p_type == PT_LOAD && ph->p_filesz && ph->p_memsz == ph->p_filesz &&
	       ph->p_offset < hdr_end && ph->p_filesz <= hdr_end - ph->p_offset &&
	       ph->p_paddr < vm__reserved_end(vm->nr_vcpus);
}

static int loader__check_phdr(struct vm *vm, struct image *img, int i,
			      const Elf64_Phdr *ph)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->data;
	char what[32];

	if (ph->p_type == PT_INTERP || ph->p_type == PT_DYNAMIC)
		return img_err(img, "dynamically linked; guests must be static executables"),
		       -ENOEXEC;
	if (ph->p_type != PT_LOAD || ph->p_memsz == 0 || loader__skip(vm, eh, ph))
		return 0;
	if (ph->p_filesz > ph->p_memsz)
		return img_err(img, "segment %d: file size %#llx exceeds memory size %#llx",
			       i, (unsigned long long)ph->p_filesz,
			       (unsigned long long)ph->p_memsz), -ENOEXEC;
	if (ph->p_offset > img->size || ph->p_filesz > img->size - ph->p_offset)
		return img_err(img, "segment %d: data at offset %#llx (%#llx bytes) extends past the end of the file (%zu bytes)",
			       i, (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz, img->size), -ENOEXEC;
	snprintf(what, sizeof(what), "segment %d", i);
	return loader__check_range(vm, img, what, ph->p_paddr, ph->p_memsz);
}

static bool loader__in_segment(const Elf64_Phdr *ph, uint64_t addr)
{
	return ph->p_type == PT_LOAD && addr >= ph->p_paddr &&
	       addr - ph->p_paddr < ph->p_memsz;
}

/* Validate everything first, so a bad image never half-loads. */
static int loader__check_elf(struct vm *vm, struct image *img)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->data;
	const Elf64_Phdr *ph;
	bool entry_ok = false;
	int r = loader__check_ehdr(img, eh);

	if (r < 0)
		return r;
	ph = (const Elf64_Phdr *)(img->data + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		r = loader__check_phdr(vm, img, i, &ph[i]);
		if (r < 0)
			return r;
		entry_ok |= loader__in_segment(&ph[i], eh->e_entry) &&
			    !loader__skip(vm, eh, &ph[i]);
	}
	if (!entry_ok)
		return img_err(img, "entry point %#llx is not inside a loadable segment",
			       (unsigned long long)eh->e_entry), -ENOEXEC;
	return 0;
}

static int loader__elf(struct vm *vm, struct image *img)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->data;
	int r;

	if (img->size < SELFMAG || memcmp(img->data, ELFMAG, SELFMAG))
		return img_err(img, "not an ELF file (bad magic); for a raw binary use --flat --load-addr ADDR"),
		       -ENOEXEC;
	if (img->size < sizeof(Elf64_Ehdr))
		return img_err(img, "truncated ELF header (%zu bytes, need %zu)",
			       img->size, sizeof(Elf64_Ehdr)), -ENOEXEC;
	r = loader__check_elf(vm, img);
	if (r == 0)
		vm->entry = eh->e_entry;
	return r;
}

static void loader__copy_elf(struct vm *vm, struct image *img)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img->data;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img->data + eh->e_phoff);

	for (int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0 ||
		    loader__skip(vm, eh, &ph[i]))
			continue;
		dst = vm__gpa_to_hva(vm, ph[i].p_paddr, ph[i].p_memsz);
		memcpy(dst, img->data + ph[i].p_offset, ph[i].p_filesz);
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
}

static int loader__flat(struct vm *vm, const struct vm_config *cfg,
			struct image *img)
{
	uint64_t entry = cfg->entry ? cfg->entry : cfg->load_addr;
	int r = loader__check_range(vm, img, "image", cfg->load_addr, img->size);

	if (r < 0)
		return r;
	if (entry < cfg->load_addr || entry - cfg->load_addr >= img->size)
		return img_err(img, "entry point %#llx is outside the image loaded at %#llx-%#llx",
			       (unsigned long long)entry,
			       (unsigned long long)cfg->load_addr,
			       (unsigned long long)(cfg->load_addr + img->size)), -EINVAL;
	vm->entry = entry;
	return 0;
}

static int loader__map(struct image *img)
{
	struct stat st;

	/* O_NONBLOCK: a FIFO would block open() until a writer came. */
	img->fd = open(img->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0 || fstat(img->fd, &st) < 0) {
		int e = errno;

		img_err(img, "cannot open: %s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode))
		return img_err(img, "not a regular file"), -EINVAL;
	if (st.st_size == 0)
		return img_err(img, "empty file"), -ENOEXEC;
	img->data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, img->fd, 0);
	if (img->data == MAP_FAILED) {
		int e = errno;

		img->data = NULL;
		img_err(img, "cannot map: %s", strerror(e));
		return -e;
	}
	img->size = st.st_size;
	return 0;
}

void loader__close(struct image *img)
{
	if (img->data)
		munmap((void *)img->data, img->size);
	if (img->fd >= 0)
		close(img->fd);
	img->data = NULL;
	img->fd = -1;
}

/*
 * Map cfg->image and check it against the VM's RAM size and vCPU count
 * (which fix the reserved area); sets vm->entry. Needs no KVM, so a bad
 * image is reported on any host. On failure the image is closed.
 */
int loader__open(struct vm *vm, const struct vm_config *cfg, struct image *img)
{
	int r;

	*img = (struct image) { .path = cfg->image, .fd = -1,
				.err = cfg->err, .err_len = cfg->err_len };
	if (!cfg->image) {
		errf__set(cfg->err, cfg->err_len, "no guest image given");
		return -EINVAL;
	}
	r = loader__map(img);
	if (r == 0)
		r = cfg->flat ? loader__flat(vm, cfg, img) : loader__elf(vm, img);
	if (r < 0)
		loader__close(img);
	return r;
}

/* Copy a checked image into guest RAM. */
void loader__copy(struct vm *vm, const struct vm_config *cfg, struct image *img)
{
	if (cfg->flat)
		memcpy(vm__gpa_to_hva(vm, cfg->load_addr, img->size), img->data,
		       img->size);
	else
		loader__copy_elf(vm, img);
}
