// SPDX-License-Identifier: GPL-2.0
/*
 * Booting a Linux kernel (Documentation/x86/boot.rst, the 64-bit boot
 * protocol): a bzImage's protected-mode part goes to 1 MiB and the BSP
 * enters it at code32_start + 0x200 in long mode; an uncompressed vmlinux
 * ELF goes to its PT_LOADs' physical addresses and the BSP enters
 * startup_64 (e_entry) directly, so no decompressor runs and no KASLR
 * slide exists. Either way RSI = boot_params with the e820 map, command
 * line, initrd and ACPI RSDP; identity-mapped page tables over RAM and a
 * GDT with __BOOT_CS = 0x10, __BOOT_DS = 0x18. The APs are left to the
 * in-kernel LAPIC: they wait for INIT/SIPI from the BSP.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/vmm/boot.h"
#include "user/linux/linux-priv.h"

/* struct boot_params / setup_header offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP		0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define HDR_START		0x1f1	/* setup_sects: the setup header begins */
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			LINUX_BOOT_PARAMS_SIZE

#define XLF_KERNEL_64		0x1
#define LOADED_HIGH		0x1
#define BOOT_PROTO_MIN		0x20c	/* xloadflags: the 64-bit entry */
#define LOADER_UNDEFINED	0xff
#define E820_RAM		1
#define E820_RESERVED		2

#define LINUX_SEL_CS		0x10	/* __BOOT_CS */
#define LINUX_SEL_DS		0x18	/* __BOOT_DS */
#define LINUX_SEL_TSS		0x20

#define GDT_CODE64		0x00af9b000000ffffULL
#define GDT_DATA		0x00cf93000000ffffULL
#define TSS_LIMIT		0x67
#define TSS_TYPE_BUSY		0xb

#define li_err(cfg, fmt, ...) \
	errf__set((cfg)->err, (cfg)->err_len, fmt, ##__VA_ARGS__)

static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, v); wr16(p + 2, v >> 16); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, v); wr32(p + 4, v >> 32); }

static int linux__map(const char *path, int *fd, const uint8_t **data, size_t *size,
		      const struct vm_config *cfg)
{
	struct stat st;

	/* O_NONBLOCK: a FIFO would block open() until a writer came. */
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0 || fstat(*fd, &st) < 0) {
		int e = errno;

		li_err(cfg, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		li_err(cfg, "%s: not a regular, non-empty file", path);
		return -EINVAL;
	}
	*data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, *fd, 0);
	if (*data == MAP_FAILED) {
		int e = errno;

		*data = NULL;
		li_err(cfg, "%s: cannot map: %s", path, strerror(e));
		return -e;
	}
	*size = st.st_size;
	return 0;
}

/* Lowest RAM address the kernel may need up to (bzImage: its unpacked size). */
static uint64_t linux__kernel_end(const struct linux_image *li)
{
	const uint8_t *d = li->img.data;
	uint64_t pref, end = LINUX_GPA_KERNEL + li->load_size;

	if (!li->bzimage)
		return li->load_size;
	pref = d[HDR_RELOCATABLE] ? rd64(d + HDR_PREF_ADDRESS) : LINUX_GPA_KERNEL;
	if (pref + rd32(d + HDR_INIT_SIZE) > end)
		end = pref + rd32(d + HDR_INIT_SIZE);
	return end;
}

static int linux__check_bzimage(struct vm *vm, const struct vm_config *cfg,
				struct linux_image *li)
{
	const uint8_t *d = li->img.data;
	size_t setup;

	if (li->img.size < 0x1000 || memcmp(d + HDR_MAGIC, "HdrS", 4) ||
	    rd16(d + HDR_BOOT_FLAG) != 0xaa55)
		return li_err(cfg, "%s: neither a bzImage (no \"HdrS\" setup header) nor an ELF vmlinux",
			      cfg->kernel), -ENOEXEC;
	if (rd16(d + HDR_VERSION) < BOOT_PROTO_MIN || !(rd16(d + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return li_err(cfg, "%s: boot protocol %#x has no 64-bit entry point (need 2.12+ with XLF_KERNEL_64)",
			      cfg->kernel, rd16(d + HDR_VERSION)), -ENOEXEC;
	setup = ((size_t)(d[HDR_START] ? d[HDR_START] : 4) + 1) * 512;
	if (setup >= li->img.size)
		return li_err(cfg, "%s: setup code (%zu bytes) is the whole file: truncated bzImage",
			      cfg->kernel, setup), -ENOEXEC;
	li->bzimage = true;
	li->load_size = li->img.size - setup;
	li->entry = LINUX_GPA_KERNEL + 0x200;
	if (linux__kernel_end(li) > vm->mem_size)
		return li_err(cfg, "%s: the kernel unpacks up to %#llx, beyond guest RAM (%llu MiB); raise --mem",
			      cfg->kernel, (unsigned long long)linux__kernel_end(li),
			      (unsigned long long)(vm->mem_size >> 20)), -EINVAL;
	return 0;
}

/* An ELF vmlinux: the generic ELF loader checks it; we note its end. */
static int linux__check_vmlinux(struct vm *vm, const struct vm_config *cfg,
				struct linux_image *li)
{
	struct vm_config ec = { .image = cfg->kernel, .err = cfg->err, .err_len = cfg->err_len };
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	int r;

	loader__close(&li->img);
	r = loader__open(vm, &ec, &li->img);
	if (r < 0)
		return r;
	eh = (const Elf64_Ehdr *)li->img.data;
	ph = (const Elf64_Phdr *)(li->img.data + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_paddr + ph[i].p_memsz > li->load_size)
			li->load_size = ph[i].p_paddr + ph[i].p_memsz;
	li->entry = vm->entry;
	return 0;
}

static uint64_t linux__initrd_max(const struct linux_image *li)
{
	if (li->bzimage)
		return rd32(li->img.data + HDR_INITRD_ADDR_MAX);
	return 0x7fffffff;	/* what every 64-bit kernel advertises */
}

/* Highest page-aligned place below mem end and initrd_addr_max. */
static int linux__place_initrd(struct vm *vm, const struct vm_config *cfg,
			       struct linux_image *li)
{
	uint64_t top = vm->mem_size, max = linux__initrd_max(li) + 1;

	if (top > max)
		top = max;
	if (li->initrd_size > top || ((top - li->initrd_size) & ~(PAGE_SIZE - 1)) <
	    linux__kernel_end(li))
		return li_err(cfg, "%s: initrd of %zu bytes does not fit between the kernel (ends at %#llx) and %#llx; raise --mem",
			      cfg->initrd, li->initrd_size,
			      (unsigned long long)linux__kernel_end(li),
			      (unsigned long long)top), -EINVAL;
	li->initrd_addr = (top - li->initrd_size) & ~(PAGE_SIZE - 1);
	return 0;
}

int linux__open(struct vm *vm, const struct vm_config *cfg, struct linux_image *li)
{
	int r;

	memset(li, 0, sizeof(*li));
	li->img = (struct image) { .path = cfg->kernel, .fd = -1, .err = cfg->err,
				   .err_len = cfg->err_len };
	li->initrd_fd = -1;
	if (vm->mem_size > LINUX_MEM_MAX)
		return li_err(cfg, "--mem: a Linux guest gets at most 3G (the IOAPIC and LAPIC sit below 4G)"),
		       -EINVAL;
	r = linux__map(cfg->kernel, &li->img.fd, &li->img.data, &li->img.size, cfg);
	if (r == 0)
		r = li->img.size >= SELFMAG && !memcmp(li->img.data, ELFMAG, SELFMAG) ?
			linux__check_vmlinux(vm, cfg, li) : linux__check_bzimage(vm, cfg, li);
	if (r == 0 && cfg->initrd)
		r = linux__map(cfg->initrd, &li->initrd_fd, &li->initrd, &li->initrd_size, cfg);
	if (r == 0 && cfg->initrd)
		r = linux__place_initrd(vm, cfg, li);
	if (r < 0)
		linux__close(li);
	return r;
}

void linux__close(struct linux_image *li)
{
	loader__close(&li->img);
	if (li->initrd)
		munmap((void *)li->initrd, li->initrd_size);
	if (li->initrd_fd >= 0)
		close(li->initrd_fd);
	li->initrd = NULL;
	li->initrd_fd = -1;
}

static void linux__e820(struct vm *vm, uint8_t *bp)
{
	static const struct { uint64_t start, end; uint32_t type; } low[] = {
		{ 0, LINUX_BASE_MEM_END, E820_RAM },
		{ LINUX_BASE_MEM_END, 0xa0000, E820_RESERVED },
		{ LINUX_GPA_ACPI, LINUX_GPA_KERNEL, E820_RESERVED },
	};
	uint8_t *e = bp + BP_E820_TABLE;
	int n = 0;

	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++, n++) {
		wr64(e + 20 * n, low[i].start);
		wr64(e + 20 * n + 8, low[i].end - low[i].start);
		wr32(e + 20 * n + 16, low[i].type);
	}
	wr64(e + 20 * n, LINUX_GPA_KERNEL);
	wr64(e + 20 * n + 8, vm->mem_size - LINUX_GPA_KERNEL);
	wr32(e + 20 * n + 16, E820_RAM);
	bp[BP_E820_ENTRIES] = n + 1;
}

/* The bzImage's own setup header, or a minimal one for a vmlinux. */
static void linux__setup_header(const struct linux_image *li, uint8_t *bp)
{
	const uint8_t *d = li->img.data;

	if (li->bzimage) {
		size_t end = HDR_JUMP + 2 + d[HDR_JUMP + 1];

		if (end > 0x290)
			end = 0x290;	/* struct setup_header's size today */
		memcpy(bp + HDR_START, d + HDR_START, end - HDR_START);
		wr32(bp + HDR_CODE32_START, LINUX_GPA_KERNEL);
		bp[HDR_LOADFLAGS] |= LOADED_HIGH;
		return;
	}
	wr16(bp + HDR_BOOT_FLAG, 0xaa55);
	memcpy(bp + HDR_MAGIC, "HdrS", 4);
	wr16(bp + HDR_VERSION, 0x20f);
	bp[HDR_LOADFLAGS] = LOADED_HIGH;
}

static int linux__cmdline(struct vm *vm, const struct vm_config *cfg,
			  const struct linux_image *li, uint8_t *bp)
{
	const char *cmd = cfg->cmdline ? cfg->cmdline : "";
	size_t max = li->bzimage ? rd32(li->img.data + HDR_CMDLINE_SIZE) : 2047;

	if (max > 0xffff)
		max = 0xffff;
	if (strlen(cmd) > max)
		return li_err(cfg, "--append: command line is %zu bytes; this kernel takes at most %zu",
			      strlen(cmd), max), -E2BIG;
	memcpy(vm__gpa_to_hva(vm, LINUX_GPA_CMDLINE, max + 1), cmd, strlen(cmd) + 1);
	linux__guest(vm)->cmdline_size = strlen(cmd) + 1;
	wr32(bp + HDR_CMD_LINE_PTR, LINUX_GPA_CMDLINE);
	wr32(bp + BP_EXT_CMD_LINE_PTR, 0);
	return 0;
}

static void linux__copy_kernel(struct vm *vm, const struct vm_config *cfg,
			       struct linux_image *li)
{
	struct vm_config ec = { .image = cfg->kernel };

	if (li->bzimage)
		memcpy(vm__gpa_to_hva(vm, LINUX_GPA_KERNEL, li->load_size),
		       li->img.data + li->img.size - li->load_size, li->load_size);
	else
		loader__copy(vm, &ec, &li->img);
}

/* The GDT the boot protocol asks for, where user/vmm/vm.h's GDT is. */
static void linux__build_gdt(struct vm *vm)
{
	uint64_t *gdt = vm__gpa_to_hva(vm, GPA_GDT, PAGE_SIZE);

	memset(gdt, 0, PAGE_SIZE);
	gdt[LINUX_SEL_CS / 8] = GDT_CODE64;
	gdt[LINUX_SEL_DS / 8] = GDT_DATA;
	gdt[LINUX_SEL_TSS / 8] = TSS_LIMIT | (GPA_TSS & 0xffffff) << 16 |
				 (uint64_t)TSS_TYPE_BUSY << 40 | 1ULL << 47;
	gdt[LINUX_SEL_TSS / 8 + 1] = 0;
}

int linux__load(struct vm *vm, const struct vm_config *cfg, struct linux_image *li)
{
	uint8_t *bp = vm__gpa_to_hva(vm, LINUX_GPA_BOOT_PARAMS, BP_SIZE);
	int r;

	memset(bp, 0, BP_SIZE);
	linux__setup_header(li, bp);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	r = linux__cmdline(vm, cfg, li, bp);
	if (r < 0)
		return r;
	if (li->initrd) {
		memcpy(vm__gpa_to_hva(vm, li->initrd_addr, li->initrd_size), li->initrd,
		       li->initrd_size);
		wr32(bp + HDR_RAMDISK_IMAGE, li->initrd_addr);
		wr32(bp + HDR_RAMDISK_SIZE, li->initrd_size);
		wr32(bp + BP_EXT_RAMDISK_IMAGE, li->initrd_addr >> 32);
		wr32(bp + BP_EXT_RAMDISK_SIZE, (uint64_t)li->initrd_size >> 32);
	}
	linux__e820(vm, bp);
	wr64(bp + BP_ACPI_RSDP, acpi__build(vm));
	linux__copy_kernel(vm, cfg, li);
	vm->entry = li->entry;
	linux__guest(vm)->boot_params = LINUX_GPA_BOOT_PARAMS;
	boot__build_tables(vm);
	linux__build_gdt(vm);
	return 0;
}

/*
 * XCR0 = x87|SSE|AVX (what the vCPU supports of them) from the start.
 * Linux sets XCR0 itself, but under the test VM's nested SVM (QEMU TCG)
 * KVM's idea of XCR0 was seen to stay at reset's x87-only after Linux's
 * XSETBV (apparently the XSETBV never reaches KVM): CPUID 0xD.0 EBX,
 * which KVM sizes from it, then said 576 bytes where Linux computes 832,
 * and Linux warned ("XSAVE consistency problem") and turned XSAVE off.
 * Best effort: a KVM that refuses the value keeps the reset state.
 */
static void linux__set_xcr0(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };
	uint64_t supported = 0;

	for (uint32_t i = 0; i < vm->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];

		if (e->function == 0xd && e->index == 0)
			supported = e->eax;
	}
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = 1 | (supported & 6);
	if ((xcrs.xcrs[0].value & 6) == 4)	/* AVX needs SSE */
		xcrs.xcrs[0].value = 1;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs);
}

/*
 * The BSP enters the kernel; the APs keep the state the in-kernel LAPIC
 * gave them (waiting for INIT/SIPI), as on real hardware: starting them
 * at the entry point like ELF guests would run the kernel twice.
 */
int linux__setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_regs regs;
	int r;

	linux__set_xcr0(vm, vcpu);
	if (vcpu->idx != 0)
		return 0;
	/* The boot protocol's selectors; no CR4 bits beyond PAE: Linux sets its own. */
	r = boot__set_long_mode_sregs(vcpu, LINUX_SEL_CS, LINUX_SEL_DS, LINUX_SEL_TSS, 0);
	if (r < 0)
		return r;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = vm->entry;
	regs.rsi = linux__guest(vm)->boot_params;
	regs.rsp = GPA_STACKS + vm__stack_size(vm->nr_vcpus);
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) ? -errno : 0;
}
