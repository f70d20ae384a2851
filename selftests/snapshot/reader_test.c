// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot reader (snapshot__open(), user/snapshot/snapshot_read.c) against
 * crafted files, no /dev/kvm needed. Each file is laid out as the writer
 * lays one out (docs/snapshot-format.md), then changed in one place and
 * its checksums recomputed (selftests/snapshot/snapfix.h), so what the
 * reader refuses is the change itself, with its exact one-line message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/snapshot/snapfix.h"
#include "user/snapshot/snapshot.h"

#define MAX_RUNS	4
#define MAX_SLOTS	4
#define PATH_LEN	256

struct spec {
	uint32_t nr_vcpus;
	uint64_t mem_size;
	bool irqchip;		/* a Linux guest's: LAPIC and device records */
	bool xsave;		/* XSAVE records, else FPU */
	bool fpu_too;		/* an FPU record besides the XSAVE one */
	uint32_t nr_runs;
	struct { uint64_t gpa, pages; } run[MAX_RUNS];
	uint64_t table_gap;	/* bytes between the header and the table */
	uint32_t gap_section;	/* > 0: gap bytes before this section */
	uint64_t gap;
	uint32_t capture_path;	/* snap_config.capture_path */
	bool foreign;		/* SNAP_HDR_FOREIGN: SLOTS section, trigger ATTACH */
	uint32_t trigger;	/* snap_config.trigger */
	bool no_slots;		/* foreign, but the SLOTS section left out */
	bool halted0;		/* vCPU 0's halted byte set */
	uint32_t nr_slots;
	struct snap_slot slot[MAX_SLOTS];
};

struct file {
	uint8_t *p;
	size_t len;
};

static void put_raw(struct file *f, const void *data, size_t n)
{
	f->p = realloc(f->p, f->len + n);
	if (!f->p)
		abort();
	if (data)
		memcpy(f->p + f->len, data, n);
	else
		memset(f->p + f->len, 0, n);
	f->len += n;
}

/* Padded to 8 with zeros, as the writer's buf__put() does. */
static void put(struct file *f, const void *data, size_t n)
{
	put_raw(f, data, n);
	put_raw(f, NULL, ((n + 7) & ~(size_t)7) - n);
}

static void put_rec(struct file *f, uint32_t type, const void *data, uint32_t size)
{
	struct snap_record r = { .type = type, .size = size };

	put(f, &r, sizeof(r));
	put(f, data, size);
}

static void put_vcpu(struct file *f, const struct spec *sp, uint32_t i)
{
	struct snap_vcpu h = { .index = i, .nr_records = 6 + sp->fpu_too + sp->irqchip };
	struct kvm_regs regs = { .rip = 0x100000 + i, .rflags = 2 };
	struct kvm_sregs sregs = { .cr0 = 0x80050033, .cr3 = 0x2000, .efer = 0x500 };
	struct kvm_fpu fpu = { .fcw = 0x37f };
	struct kvm_debugregs dregs = { .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	struct kvm_vcpu_events ev = { 0 };
	struct kvm_lapic_state lapic = { 0 };
	struct { uint32_t n, pad; struct kvm_msr_entry e; } msrs = {
		1, 0, { .index = 0xc0000080, .data = 0x500 } };
	uint8_t xsave[4096] = { 0 };

	put(f, &h, sizeof(h));
	put_rec(f, SNAP_REC_REGS, &regs, sizeof(regs));
	put_rec(f, SNAP_REC_SREGS, &sregs, sizeof(sregs));
	if (sp->xsave)
		put_rec(f, SNAP_REC_XSAVE, xsave, sizeof(xsave));
	if (!sp->xsave || sp->fpu_too)
		put_rec(f, SNAP_REC_FPU, &fpu, sizeof(fpu));
	put_rec(f, SNAP_REC_DEBUGREGS, &dregs, sizeof(dregs));
	put_rec(f, SNAP_REC_EVENTS, &ev, sizeof(ev));
	put_rec(f, SNAP_REC_MSRS, &msrs, sizeof(msrs));
	if (sp->irqchip)
		put_rec(f, SNAP_REC_LAPIC, &lapic, sizeof(lapic));
}

static void put_devices(struct file *f, const struct spec *sp)
{
	struct snap_devices d = { .nr_vcpus = sp->nr_vcpus, .irqchip = sp->irqchip };
	struct snap_devrecs h = { .nr_records = SNAP_DEV_MAX };
	struct kvm_irqchip chip = { 0 };
	struct kvm_pit_state2 pit = { 0 };
	struct kvm_clock_data clock = { 0 };
	uint8_t uart[SNAP_UART_SIZE] = { 0 };
	uint8_t *halted = calloc(sp->nr_vcpus, 1);

	halted[0] = sp->halted0;
	put(f, &d, sizeof(d));
	put(f, halted, sp->nr_vcpus);
	free(halted);
	if (!sp->irqchip)
		return;
	put(f, &h, sizeof(h));
	for (uint32_t id = 0; id < 3; id++) {
		chip.chip_id = id;	/* KVM_IRQCHIP_PIC_MASTER, _SLAVE, _IOAPIC */
		put_rec(f, SNAP_DEV_PIC_MASTER + id, &chip, sizeof(chip));
	}
	put_rec(f, SNAP_DEV_PIT2, &pit, sizeof(pit));
	put_rec(f, SNAP_DEV_CLOCK, &clock, sizeof(clock));
	put_rec(f, SNAP_DEV_UART, uart, sizeof(uart));
}

/* A valid file for @sp, laid out as the writer lays one out. */
static struct file build(const struct spec *sp)
{
	bool slots = sp->foreign && !sp->no_slots;
	uint32_t nsec = sp->nr_vcpus + 3 + slots;
	struct snap_section *tab = calloc(nsec, sizeof(*tab));
	struct snap_header h = { .version = SNAP_VERSION, .header_size = sizeof(h),
				 .flags = (sp->irqchip ? SNAP_HDR_IRQCHIP : 0) |
					  (sp->foreign ? SNAP_HDR_FOREIGN : 0),
				 .nr_sections = nsec, .table_offset = sizeof(h) + sp->table_gap };
	const char image[] = "/srv/guests/snapguest.elf";
	struct snap_config c = { .mem_size = sp->mem_size, .nr_vcpus = sp->nr_vcpus,
				 .entry = 0x100000, .image_len = sizeof(image) - 1,
				 .build_id_len = 20, .capture_path = sp->capture_path,
				 .trigger = sp->trigger };
	struct snap_slots sh = { .nr_slots = sp->nr_slots };
	uint8_t build_id[20];
	struct snap_memory m = { .nr_runs = sp->nr_runs, .page_size = SNAP_PAGE };
	struct snap_run runs[MAX_RUNS] = { 0 };
	struct file f = { 0 };
	uint64_t off;

	memcpy(h.magic, SNAP_MAGIC, 8);
	for (size_t i = 0; i < sizeof(build_id); i++)
		build_id[i] = 0xa0 + i;
	put_raw(&f, &h, sizeof(h));
	put_raw(&f, NULL, sp->table_gap + nsec * sizeof(*tab));
	for (uint32_t i = 0; i < nsec; i++) {
		if (sp->gap_section && i == sp->gap_section)
			put_raw(&f, NULL, sp->gap);
		tab[i].offset = f.len;
		if (i == 0) {
			tab[i].type = SNAP_SEC_CONFIG;
			put(&f, &c, sizeof(c));
			put(&f, image, c.image_len);
			put(&f, build_id, c.build_id_len);
		} else if (i <= sp->nr_vcpus) {
			tab[i].type = SNAP_SEC_VCPU;
			put_vcpu(&f, sp, i - 1);
		} else if (i == sp->nr_vcpus + 1) {
			tab[i].type = SNAP_SEC_DEVICES;
			put_devices(&f, sp);
		} else if (i == sp->nr_vcpus + 2 && slots) {
			tab[i].type = SNAP_SEC_SLOTS;
			put(&f, &sh, sizeof(sh));
			put(&f, sp->slot, sp->nr_slots * sizeof(sp->slot[0]));
		} else {
			tab[i].type = SNAP_SEC_MEMORY;
			put(&f, &m, sizeof(m));
			put(&f, runs, sp->nr_runs * sizeof(runs[0]));
		}
		tab[i].size = f.len - tab[i].offset;
	}
	/* The runs' data: page-aligned, after the metadata, in gpa order. */
	off = (f.len + SNAP_PAGE - 1) & ~(SNAP_PAGE - 1);
	put_raw(&f, NULL, off - f.len);
	for (uint32_t i = 0; i < sp->nr_runs; i++) {
		runs[i] = (struct snap_run){ .gpa = sp->run[i].gpa,
					     .nr_pages = sp->run[i].pages, .offset = f.len };
		put_raw(&f, NULL, sp->run[i].pages * SNAP_PAGE);
		memset(f.p + runs[i].offset, 0x11 + i, sp->run[i].pages * SNAP_PAGE);
	}
	memcpy(f.p + tab[nsec - 1].offset + sizeof(m), runs, sp->nr_runs * sizeof(runs[0]));
	memcpy(f.p + h.table_offset, tab, nsec * sizeof(*tab));
	free(tab);
	snapfix(f.p, f.len, 0);
	return f;
}

/* 2 vCPUs with XSAVE (the metadata spans 3 pages), 64 MiB, 3 runs. */
static const struct spec two_vcpus = {
	.nr_vcpus = 2, .mem_size = 64 << 20, .xsave = true, .nr_runs = 3,
	.run = { { 0x1000, 4 }, { 0x6000, 1 }, { 0x100000, 5 } },
};

/*
 * A QEMU-like foreign VM's: 2 vCPUs (FPU records, as kvmdbg.ko captures
 * them), low RAM, RAM above 1M and the BIOS ROM below 4G, holes between.
 */
static const struct spec foreign_vm = {
	.nr_vcpus = 2, .mem_size = 1ULL << 32, .nr_runs = 3,
	.run = { { 0x1000, 4 }, { 0x100000, 5 }, { 0xfffc0000, 2 } },
	.capture_path = 1, .foreign = true, .trigger = SNAP_TRIG_ATTACH,
	.nr_slots = 3,
	.slot = { { .gpa = 0, .size = 0xa0000, .id = 0 },
		  { .gpa = 0x100000, .size = 0x7f00000, .id = 1 },
		  { .gpa = 0xfffc0000, .size = 0x40000, .id = 2, .flags = KVM_MEM_READONLY } },
};

static struct snap_section *section(struct file *f, uint32_t i)
{
	return (struct snap_section *)(f->p + sizeof(struct snap_header)) + i;
}

static struct snap_run *run(struct file *f, uint32_t i)
{
	struct snap_section *mem = section(f, ((struct snap_header *)f->p)->nr_sections - 1);

	return (struct snap_run *)(f->p + mem->offset + sizeof(struct snap_memory)) + i;
}

static uint64_t meta_end(struct file *f)
{
	struct snap_section *mem = section(f, ((struct snap_header *)f->p)->nr_sections - 1);

	return mem->offset + mem->size;
}

/*
 * Write @f (checksums recomputed) to a temp file and open it: 0 and the
 * snapshot, or -errno and the reader's message in err (path: the file's).
 */
static int try_open(struct file *f, char *path, char *err, size_t len,
		    struct snapshot **out)
{
	int fd, r;

	snprintf(path, PATH_LEN, "%s/kvmdbg-reader-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	snapfix(f->p, f->len, 0);
	if (write(fd, f->p, f->len) != (ssize_t)f->len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	*err = 0;
	*out = NULL;
	r = snapshot__open(path, out, err, len);
	unlink(path);
	return r;
}

/* @f refused with exactly "<path>: <want>". */
#define EXPECT_REFUSED(f, ...) do {						\
	char path_[PATH_LEN], err_[1024], want_[PATH_LEN + 512], what_[448];			\
	struct snapshot *s_;							\
	int r_ = try_open(&(f), path_, err_, sizeof(err_), &s_);		\
										\
	snprintf(what_, sizeof(what_), __VA_ARGS__);				\
	snprintf(want_, sizeof(want_), "%s: %s", path_, what_);			\
	EXPECT_EQ(-EINVAL, r_);							\
	EXPECT_STREQ(want_, err_);						\
	snapshot__close(s_);							\
	free((f).p);								\
} while (0)

TEST(valid_files_open)
{
	struct spec irq = two_vcpus, fpu = two_vcpus;
	struct spec specs[3];
	char path[PATH_LEN], err[1024];
	struct snapshot *s;

	irq.irqchip = true;
	fpu.xsave = false;
	specs[0] = two_vcpus;
	specs[1] = irq;
	specs[2] = fpu;
	for (int i = 0; i < 3; i++) {
		struct file f = build(&specs[i]);

		ASSERT_EQ(0, try_open(&f, path, err, sizeof(err), &s)) TH_LOG("%s", err);
		EXPECT_EQ(10, snapshot__nr_pages(s));
		EXPECT_EQ(specs[i].irqchip, snapshot__irqchip(s));
		EXPECT_EQ(0x100001, snapshot__rip(s, 1));
		EXPECT_STREQ("/srv/guests/snapguest.elf", snapshot__image(s));
		EXPECT_TRUE(snapshot__maps(s, 0x104000, 1));
		EXPECT_FALSE(snapshot__maps(s, 0x105000, 1));
		snapshot__close(s);
		free(f.p);
	}
}

/* Resume would map these bytes into guest RAM while they hold vCPU state. */
TEST(run_data_overlapping_the_metadata_refused)
{
	struct file f = build(&two_vcpus);

	ASSERT_GT(meta_end(&f), 0x2000);
	run(&f, 1)->offset = 0x1000;
	EXPECT_REFUSED(f, "section MEMORY: run 1: data at offset 0x1000 overlaps the metadata (header, table and sections: bytes 0-%#" PRIx64 ")",
		       meta_end(&f));
}

/* Two gpa ranges backed by the same file pages. */
TEST(run_data_shared_by_two_runs_refused)
{
	struct file f = build(&two_vcpus);
	uint64_t off = run(&f, 0)->offset;

	run(&f, 1)->offset = off;
	EXPECT_REFUSED(f, "section MEMORY: run 1: data at offset %#" PRIx64 "-%#" PRIx64 " overlaps the data of run 0 (%#" PRIx64 "-%#" PRIx64 ")",
		       off, off + 0x1000, off, off + 0x4000);
}

TEST(run_data_overlapping_part_of_another_run_refused)
{
	struct file f = build(&two_vcpus);
	uint64_t off = run(&f, 0)->offset;

	/* Run 2 (5 pages) starts in the last page of run 0 (4 pages). */
	run(&f, 2)->offset = off + 0x3000;
	EXPECT_REFUSED(f, "section MEMORY: run 2: data at offset %#" PRIx64 "-%#" PRIx64 " overlaps the data of run 0 (%#" PRIx64 "-%#" PRIx64 ")",
		       off + 0x3000, off + 0x8000, off, off + 0x4000);
}

/* mem_size shrunk below a run: refused before this work too (kept here). */
TEST(run_beyond_a_shrunk_mem_size_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.mem_size = 2 << 20;
	sp.run[2].gpa = 0x1fe000;
	f = build(&sp);
	EXPECT_REFUSED(f, "section MEMORY: run 2: gpa 0x1fe000-0x203000 overlaps the previous run or lies outside guest RAM (0x200000 bytes)");
}

/* 400 vCPUs' stacks end at 0x210000: 2M leaves the guest nothing. */
TEST(mem_size_below_what_the_vcpus_need_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.nr_vcpus = 400;
	sp.xsave = false;
	sp.mem_size = 2 << 20;
	sp.nr_runs = 1;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: memory size 0x200000 leaves no RAM for the guest: the VMM reserves the first 0x210000 bytes for 400 vCPUs");
}

TEST(linux_guest_above_3g_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.irqchip = true;
	sp.mem_size = 4ULL << 30;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: memory size 0x100000000 is above the 3G of a Linux guest (in-kernel irqchip: its IOAPIC and LAPIC sit below 4G)");
}

/* VCPU 0's section grown over VCPU 1's: its tail would be bytes unread. */
TEST(vcpu_section_overlapping_the_next_refused)
{
	struct file f = build(&two_vcpus);
	uint64_t size = section(&f, 1)->size;

	section(&f, 1)->size += section(&f, 2)->size;
	EXPECT_REFUSED(f, "section VCPU 0: the records end at byte %" PRIu64 " of %" PRIu64,
		       size, size + section(&f, 2)->size);
}

TEST(devices_section_overlapping_memory_refused)
{
	struct file f = build(&two_vcpus);

	section(&f, 3)->size += section(&f, 4)->size;
	EXPECT_REFUSED(f, "section DEVICES: the halted bytes end at byte 16 of %" PRIu64 " (no in-kernel irqchip, so nothing follows them)",
		       16 + section(&f, 4)->size);
}

TEST(fpu_and_xsave_both_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.fpu_too = true;
	f = build(&sp);
	EXPECT_REFUSED(f, "section VCPU 0: records FPU and XSAVE both present (a vCPU has one or the other)");
}

TEST(table_not_right_after_the_header_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.table_gap = 8;
	f = build(&sp);
	EXPECT_REFUSED(f, "section table: table at offset 0x48 (should be 64, right after the header)");
}

TEST(unaligned_section_refused)
{
	struct spec sp = two_vcpus;
	struct file f;
	uint64_t prev_end;

	sp.gap_section = 2;
	sp.gap = 4;
	f = build(&sp);
	prev_end = section(&f, 1)->offset + section(&f, 1)->size;
	EXPECT_REFUSED(f, "section VCPU 1: data at offset %#" PRIx64 " is not 8-byte aligned or overlaps the table or the section before it (which end at %#" PRIx64 ")",
		       prev_end + 4, prev_end);
}

/* A section placed inside the one before it (here DEVICES inside VCPU 1). */
TEST(section_inside_the_previous_one_refused)
{
	struct file f = build(&two_vcpus);
	uint64_t at = section(&f, 2)->offset + 8;

	section(&f, 3)->offset = at;
	EXPECT_REFUSED(f, "section DEVICES: data at offset %#" PRIx64 " is not 8-byte aligned or overlaps the table or the section before it (which end at %#" PRIx64 ")",
		       at, section(&f, 2)->offset + section(&f, 2)->size);
}

/* capture_path: 0 userspace, 1 kvmdbg.ko; anything else is not ours. */
TEST(capture_path_module_opens_and_unknown_refused)
{
	struct spec sp = two_vcpus;
	char path[PATH_LEN], err[1024];
	struct snapshot *s;
	struct file f;

	sp.capture_path = 1;
	f = build(&sp);
	ASSERT_EQ(0, try_open(&f, path, err, sizeof(err), &s)) TH_LOG("%s", err);
	EXPECT_EQ(1, snapshot__config(s)->capture_path);
	snapshot__close(s);
	free(f.p);
	sp.capture_path = 2;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: capture path 2 is unknown (0: userspace, 1: kvmdbg.ko)");
}

static void print_buf(void *out, const char *fmt, ...)
{
	char *b = out;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + strlen(b), 4096 - strlen(b), fmt, ap);
	va_end(ap);
}

/*
 * A foreign snapshot opens with its memslots; KVMDBG_SNAP_SEED=FILE also
 * leaves it there (how selftests/snapshot/corpus/foreign-2cpu.snap was made).
 */
TEST(foreign_file_opens_with_its_slots)
{
	char path[PATH_LEN], err[1024], text[4096] = "";
	struct snapshot *s;
	struct file f = build(&foreign_vm);
	const char *seed = getenv("KVMDBG_SNAP_SEED");

	if (seed) {
		FILE *out = fopen(seed, "wb");

		ASSERT_TRUE(out && fwrite(f.p, 1, f.len, out) == f.len);
		fclose(out);
	}
	ASSERT_EQ(0, try_open(&f, path, err, sizeof(err), &s)) TH_LOG("%s", err);
	EXPECT_TRUE(snapshot__foreign(s));
	EXPECT_FALSE(snapshot__irqchip(s));
	EXPECT_EQ(11, snapshot__nr_pages(s));
	EXPECT_EQ(3, snapshot__nr_slots(s));
	EXPECT_EQ(0xfffc0000, snapshot__slot(s, 2)->gpa);
	EXPECT_EQ(KVM_MEM_READONLY, snapshot__slot(s, 2)->flags);
	EXPECT_EQ(NULL, snapshot__slot(s, 3));
	EXPECT_EQ(0x100001, snapshot__rip(s, 1));
	snapshot__describe(s, print_buf, text);
	EXPECT_NE(NULL, strstr(text, "by --attach PID --snapshot; kvmdbg.ko capture"));
	EXPECT_NE(NULL, strstr(text, "foreign:   another VMM's VM: its devices, XSAVE, MP state, LAPIC and the MSRs beyond kvmdbg.ko's 5 are not in the snapshot; for inspection only\n"));
	EXPECT_NE(NULL, strstr(text, "  memslot 2: gpa 0xfffc0000-0x100000000 (read-only)\n"));
	snapshot__close(s);
	free(f.p);
}

/* An own VM's snapshot is one slot: all of RAM. */
TEST(own_file_is_one_slot)
{
	char path[PATH_LEN], err[1024];
	struct snapshot *s;
	struct file f = build(&two_vcpus);

	ASSERT_EQ(0, try_open(&f, path, err, sizeof(err), &s)) TH_LOG("%s", err);
	EXPECT_FALSE(snapshot__foreign(s));
	EXPECT_EQ(1, snapshot__nr_slots(s));
	EXPECT_EQ(0, snapshot__slot(s, 0)->gpa);
	EXPECT_EQ(64 << 20, snapshot__slot(s, 0)->size);
	snapshot__close(s);
	free(f.p);
}

TEST(foreign_run_across_a_hole_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.run[0].gpa = 0x9f000;
	sp.run[0].pages = 2;
	f = build(&sp);
	EXPECT_REFUSED(f, "section MEMORY: run 0: gpa 0x9f000-0xa1000 does not lie inside one memslot (section SLOTS)");
}

TEST(foreign_run_in_no_slot_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.run[2].gpa = 0xf0000000;
	sp.run[2].pages = 1;
	f = build(&sp);
	EXPECT_REFUSED(f, "section MEMORY: run 2: gpa 0xf0000000-0xf0001000 does not lie inside one memslot (section SLOTS)");
}

TEST(foreign_xsave_record_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.xsave = true;
	f = build(&sp);
	EXPECT_REFUSED(f, "section VCPU 0: record XSAVE in a foreign snapshot (kvmdbg.ko's capture record holds no XSAVE)");
}

TEST(foreign_with_irqchip_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.irqchip = true;
	f = build(&sp);
	EXPECT_REFUSED(f, "header: flags 0x3: a snapshot of another VMM's VM (FOREIGN) records no in-kernel devices (IRQCHIP)");
}

TEST(foreign_halted_vcpu_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.halted0 = true;
	f = build(&sp);
	EXPECT_REFUSED(f, "section DEVICES: vCPU 0 is marked halted in a foreign snapshot (its VMM's halted state is not recorded: must be 0)");
}

TEST(foreign_without_slots_section_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.no_slots = true;
	f = build(&sp);
	EXPECT_REFUSED(f, "section table: 5 sections for 2 vCPUs (should be 6)");
}

TEST(foreign_overlapping_slots_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.slot[1].gpa = 0x90000;
	sp.run[1].gpa = 0x200000;
	f = build(&sp);
	EXPECT_REFUSED(f, "section SLOTS: memslot 1: gpa 0x90000-0x7f90000 overlaps the previous one or lies outside guest RAM (0x100000000 bytes)");
}

TEST(foreign_slot_beyond_mem_size_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.mem_size = 0xfffc0000;
	sp.nr_runs = 2;
	f = build(&sp);
	EXPECT_REFUSED(f, "section SLOTS: memslot 2: gpa 0xfffc0000-0x100000000 overlaps the previous one or lies outside guest RAM (0xfffc0000 bytes)");
}

TEST(foreign_slot_unknown_flags_or_unaligned_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.slot[2].flags = 0x4;
	f = build(&sp);
	EXPECT_REFUSED(f, "section SLOTS: memslot 2: unaligned or empty (gpa 0xfffc0000, 0x40000 bytes) or unknown flags 0x4");
	sp = foreign_vm;
	sp.slot[0].size = 0xa0800;
	f = build(&sp);
	EXPECT_REFUSED(f, "section SLOTS: memslot 0: unaligned or empty (gpa 0, 0xa0800 bytes) or unknown flags 0");
}

TEST(foreign_slots_count_refused)
{
	struct spec sp = foreign_vm;
	struct file f;

	sp.nr_slots = 0;
	sp.nr_runs = 0;
	f = build(&sp);
	EXPECT_REFUSED(f, "section SLOTS: 0 memslots in 8 bytes (1 to 4096, 24 bytes each, reserved 0)");
}

/* Trigger ATTACH and the FOREIGN flag come together, and from kvmdbg.ko. */
TEST(foreign_trigger_and_capture_path_refused)
{
	struct spec sp = two_vcpus;
	struct file f;

	sp.trigger = SNAP_TRIG_ATTACH;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: trigger 5 (--attach PID --snapshot) without the header's FOREIGN flag: only --attach PID --snapshot writes a foreign snapshot");
	sp = foreign_vm;
	sp.trigger = SNAP_TRIG_API;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: trigger 0 (API call) with the header's FOREIGN flag: only --attach PID --snapshot writes a foreign snapshot");
	sp = foreign_vm;
	sp.capture_path = 0;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: capture path 0: a foreign VM's vCPUs are captured by kvmdbg.ko only (1)");
	sp = two_vcpus;
	sp.trigger = 6;
	f = build(&sp);
	EXPECT_REFUSED(f, "section CONFIG: trigger 6 is unknown");
}

TEST_HARNESS_MAIN
