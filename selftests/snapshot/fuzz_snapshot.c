// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary snapshot files into snapshot__open(), the
 * reader's validation (user/snapshot/snapshot_read.c), under ASan and UBSan, with
 * no /dev/kvm. Everything --resume does with a file before it creates a
 * VM is here: open and validate, then the accessors the launcher, the gdb
 * driver and `monitor info snapshot` use (config, image, build-id, vCPU
 * RIPs, the runs, the description).
 *
 * Built by `make` when clang and its fuzzer runtime (libclang-rt-14-dev)
 * are installed:
 *   build/fuzz/fuzz_snapshot
 * make check runs it for 25 s (selftests/snapshot/fuzz.sh). Longer, by
 * hand, keeping what it learns in build/fuzz/snapshot-corpus:
 *   selftests/snapshot/fuzz.sh 3600
 * A crash leaves build/fuzz/snapshot-crash-<sha1>; replay it with
 *   build/fuzz/fuzz_snapshot build/fuzz/snapshot-crash-<sha1>
 * and with KVMDBG_FUZZ_KEEP=FILE set the file as the reader saw it
 * (checksums fixed) is left in FILE, for `kvmdbg-launch --resume FILE`.
 *
 * Input format: byte 0 holds flags, the rest is the snapshot file. Before
 * the reader sees it, the harness recomputes every memory run's CRC, every
 * section's, the table's, the header's file_size and its CRC
 * (selftests/snapshot/snapfix.h), so mutations reach the checks behind
 * the checksums; a set bit in byte 0 (SNAPFIX_KEEP_*) leaves that field
 * as the input has it. The seeds are real snapshot files (the .snap
 * files in selftests/snapshot/corpus/, plus two fresh ones fuzz.sh writes
 * where /dev/kvm is there), each with a 0 byte in front.
 *
 * Besides the sanitizers, the harness checks what the reader promises:
 * a refused file gets one line "<file>: <where>: <what>" naming a known
 * place; an accepted one has its header, table, sections and run data
 * each in their own bytes of the file, runs inside guest RAM, in order
 * and apart, each inside one memslot (a foreign VM's SLOTS, sorted and
 * apart, or all of RAM), RAM above what the VMM reserves for the vCPUs and, for a
 * Linux guest, below the IOAPIC. Any breach traps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "selftests/snapshot/snapfix.h"
#include "user/snapshot/snapshot.h"

#define FUZZ_MAX_FILE	(8u << 20)

static char path[4096];
static int keep_fd = -1;
static uint8_t *file;

static void cleanup(void)
{
	if (!getenv("KVMDBG_FUZZ_KEEP"))
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *keep = getenv("KVMDBG_FUZZ_KEEP");
	/* tmpfs if there is one: a disk-backed file costs writeback per input. */
	const char *tmp = access("/dev/shm", W_OK) ? getenv("TMPDIR") : "/dev/shm";

	(void)argc;
	(void)argv;
	if (keep)
		snprintf(path, sizeof(path), "%s", keep);
	else
		snprintf(path, sizeof(path), "%s/kvmdbg-fuzz-snapshot.%d.snap",
			 tmp && *tmp ? tmp : "/tmp", (int)getpid());
	keep_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	file = malloc(FUZZ_MAX_FILE);
	if (keep_fd < 0 || !file) {
		fprintf(stderr, "fuzz_snapshot: cannot create %s: %s\n", path, strerror(errno));
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

#define expect(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_snapshot: %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
	__builtin_trap(); } } while (0)

/* A refusal: one line, "<path>: <a place the format has>: <what>". */
static void check_refusal(int r, const char *err)
{
	static const char *const where[] = {
		"file: ", "header: ", "section table: ", "section CONFIG: ",
		"section DEVICES: ", "section MEMORY: ", "section SLOTS: ",
		"section VCPU ",
	};
	size_t n = strlen(path);
	const char *p = err + n + 2;
	size_t i;

	expect(r == -EINVAL || r == -ENOMEM);
	expect(!strchr(err, '\n'));
	expect(!strncmp(err, path, n) && !strncmp(err + n, ": ", 2));
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (!strncmp(p, where[i], strlen(where[i])))
			break;
	expect(i < sizeof(where) / sizeof(where[0]));
	p += strlen(where[i]);
	if (i == sizeof(where) / sizeof(where[0]) - 1) {
		char *end;

		expect(strtoul(p, &end, 10) < 1024 && end != p && !strncmp(end, ": ", 2));
		p = end + 2;
	}
	expect(*p && *p != ' ');
}

struct extent { uint64_t start, end; };

static void apart(const struct extent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			expect(e[i].end <= e[j].start || e[j].end <= e[i].start);
}

static void print_nothing(void *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	*(size_t *)out += strlen(line);
}

/* [gpa, gpa + len) inside one slot (an own VM's one slot is all of RAM). */
static int in_a_slot(struct snapshot *s, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < snapshot__nr_slots(s); i++) {
		const struct snap_slot *sl = snapshot__slot(s, i);

		if (gpa >= sl->gpa && gpa + len <= sl->gpa + sl->size)
			return 1;
	}
	return 0;
}

/* The slots: sorted, apart, page-aligned, inside guest RAM. */
static void check_slots(struct snapshot *s, const struct snap_config *c)
{
	uint64_t prev_end = 0;

	expect(snapshot__nr_slots(s) >= 1 && snapshot__nr_slots(s) <= SNAP_MAX_SLOTS);
	expect(snapshot__foreign(s) || snapshot__nr_slots(s) == 1);
	for (int i = 0; i < snapshot__nr_slots(s); i++) {
		const struct snap_slot *sl = snapshot__slot(s, i);

		expect(sl->size && !(sl->gpa % SNAP_PAGE) && !(sl->size % SNAP_PAGE));
		expect(sl->gpa >= prev_end && sl->gpa + sl->size <= c->mem_size);
		prev_end = sl->gpa + sl->size;
	}
	expect(!snapshot__slot(s, snapshot__nr_slots(s)));
	if (snapshot__foreign(s))
		expect(!snapshot__irqchip(s) && c->trigger == SNAP_TRIG_ATTACH &&
		       c->capture_path == 1);
}

/* An accepted file, judged from its bytes, apart from the reader's code. */
static void check_accepted(const uint8_t *f, size_t len, struct snapshot *s)
{
	const struct snap_config *c = snapshot__config(s);
	struct snap_header h;
	struct snap_section sec, mem;
	struct snap_memory m;
	struct extent *e;
	uint64_t pages = 0, prev_end = 0;
	size_t n = 0, out = 0;
	uint32_t idlen;

	memcpy(&h, f, sizeof(h));
	check_slots(s, c);
	expect(snapfix__section(f, len, h.nr_sections - 1, &mem));
	memcpy(&m, f + mem.offset, sizeof(m));
	e = calloc(2 + h.nr_sections + m.nr_runs, sizeof(*e));
	expect(e);
	e[n++] = (struct extent){ 0, sizeof(h) };
	e[n++] = (struct extent){ h.table_offset, h.table_offset + h.nr_sections * sizeof(sec) };
	for (uint32_t i = 0; i < h.nr_sections; i++) {
		expect(snapfix__section(f, len, i, &sec));
		expect(snapfix__in(len, sec.offset, sec.size));
		if (sec.size)
			e[n++] = (struct extent){ sec.offset, sec.offset + sec.size };
	}
	for (uint64_t i = 0; i < m.nr_runs; i++) {
		struct snap_run r;

		memcpy(&r, f + mem.offset + sizeof(m) + i * sizeof(r), sizeof(r));
		expect(r.nr_pages && r.gpa >= prev_end && r.gpa < c->mem_size &&
		       r.nr_pages <= (c->mem_size - r.gpa) / SNAP_PAGE);
		expect(snapfix__in(len, r.offset, r.nr_pages * SNAP_PAGE));
		expect(snapshot__maps(s, r.gpa, SNAP_PAGE));
		expect(in_a_slot(s, r.gpa, r.nr_pages * SNAP_PAGE));
		prev_end = r.gpa + r.nr_pages * SNAP_PAGE;
		pages += r.nr_pages;
		e[n++] = (struct extent){ r.offset, r.offset + r.nr_pages * SNAP_PAGE };
	}
	apart(e, n);
	free(e);
	expect(snapshot__nr_pages(s) == pages);
	expect(c->mem_size > vm__reserved_end(c->nr_vcpus));
	if (snapshot__irqchip(s))
		expect(c->mem_size <= (3ULL << 30));
	expect(strlen(snapshot__image(s)) == c->image_len);
	snapshot__build_id(s, &idlen);
	expect(idlen == c->build_id_len);
	for (int i = -1; i <= (int)c->nr_vcpus; i++)
		out += snapshot__rip(s, i) & 1;
	snapshot__maps(s, 0, c->mem_size);
	snapshot__describe(s, print_nothing, &out);
	expect(out > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = NULL;
	char err[1024];
	size_t len;
	int r;

	if (size < 1 || size - 1 > FUZZ_MAX_FILE)
		return 0;
	len = size - 1;
	memcpy(file, data + 1, len);
	snapfix(file, len, data[0]);
	if (ftruncate(keep_fd, 0) || pwrite(keep_fd, file, len, 0) != (ssize_t)len) {
		fprintf(stderr, "fuzz_snapshot: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	err[0] = 0;
	r = snapshot__open(path, &s, err, sizeof(err));
	if (r) {
		check_refusal(r, err);
		return 0;
	}
	check_accepted(file, len, s);
	snapshot__close(s);
	return 0;
}
