// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a snapshot: the file is untrusted input. Every offset, length
 * and count is checked against the file size and the caps in
 * snapshot_format.h, and every checksum is verified, before any KVM
 * object exists; a bad file gets one line naming the section and what is
 * wrong. Resume maps the stored page runs copy-on-write into guest RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uapi/linux/kvmdbg.h>

#include "user/snapshot/snapshot.h"

const char snapshot_foreign_why[] =
	"it was taken from a VM another VMM runs (--attach), whose devices are not recreated: this snapshot is for inspection under gdb (--gdb or --gdb-session), not for running";

struct guard;


struct snapshot {
	char *path;
	int fd;
	struct guard *guard;	/* read lease on fd; NULL: none */
	uint64_t size;
	struct snap_header hdr;
	struct snap_config cfg;
	char image[SNAP_MAX_STR + 1];
	uint8_t build_id[SNAP_MAX_BUILD_ID];
	struct vm_state st;
	struct snap_run *runs;
	uint64_t nr_runs, nr_pages;
	struct snap_slot *slots;	/* SNAP_HDR_FOREIGN; else ram */
	uint32_t nr_slots;
	struct snap_slot ram;	/* all of RAM, one slot */
	uint64_t meta_end;	/* end of the table, then of each section read */
	char *err;
	size_t err_len;
	char where[32];		/* section being checked, for messages */
};

static bool foreign(const struct snapshot *s)
{
	return s->hdr.flags & SNAP_HDR_FOREIGN;
}

__attribute__((format(printf, 2, 3)))
static int bad(struct snapshot *s, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (s->err && s->err_len)
		snprintf(s->err, s->err_len, "%s: %s: %s", s->path, s->where, what);
	return -EINVAL;
}

static void where(struct snapshot *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void where(struct snapshot *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->where, sizeof(s->where), fmt, ap);
	va_end(ap);
}

static int read_at(struct snapshot *s, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(s->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bad(s, "read at offset %#" PRIx64 " failed: %s", off,
				   n ? strerror(errno) : "unexpected end of file");
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static int check_header(struct snapshot *s)
{
	struct snap_header *h = &s->hdr, copy;
	uint32_t crc;

	where(s, "header");
	if (s->size < sizeof(*h))
		return bad(s, "file is %" PRIu64 " bytes, too short for the %zu-byte header (truncated)",
			   s->size, sizeof(*h));
	if (read_at(s, h, sizeof(*h), 0))
		return -EINVAL;
	if (memcmp(h->magic, SNAP_MAGIC, 8))
		return bad(s, "bad magic (not a kvmdbg snapshot)");
	if (h->version != SNAP_VERSION)
		return bad(s, "version %u is not supported (this kvmdbg reads version %u)",
			   h->version, SNAP_VERSION);
	copy = *h;
	copy.header_crc = 0;
	crc = snapshot__crc32c(0, &copy, sizeof(copy));
	if (crc != h->header_crc)
		return bad(s, "checksum mismatch (stored %#x, computed %#x)",
			   h->header_crc, crc);
	if (h->header_size != sizeof(*h) || (h->flags & ~SNAP_HDR_KNOWN) ||
	    !all_zero(h->reserved, sizeof(h->reserved)))
		return bad(s, "unknown header size %u, flags %#x or reserved bytes set",
			   h->header_size, h->flags);
	if ((h->flags & SNAP_HDR_FOREIGN) && (h->flags & SNAP_HDR_IRQCHIP))
		return bad(s, "flags %#x: a snapshot of another VMM's VM (FOREIGN) records no in-kernel devices (IRQCHIP)",
			   h->flags);
	if (h->file_size != s->size)
		return bad(s, "file is %" PRIu64 " bytes but was written as %" PRIu64 " (%s)",
			   s->size, h->file_size, s->size < h->file_size ? "truncated" : "extended");
	return 0;
}

static int check_range(struct snapshot *s, uint64_t off, uint64_t len, const char *what)
{
	if (off > s->size || len > s->size - off)
		return bad(s, "%s at offset %#" PRIx64 " (%" PRIu64 " bytes) extends past the end of the file (%" PRIu64 " bytes)",
			   what, off, len, s->size);
	return 0;
}

/* Read and checksum one section; *body is malloc'd. */
static int load_section(struct snapshot *s, const struct snap_section *sec,
			uint8_t **body)
{
	uint32_t crc;

	if (sec->flags || sec->reserved)
		return bad(s, "flags or reserved field set");
	if (sec->size > SNAP_MAX_META)
		return bad(s, "size %" PRIu64 " exceeds the limit of %llu bytes", sec->size,
			   (unsigned long long)SNAP_MAX_META);
	if (check_range(s, sec->offset, sec->size, "data"))
		return -EINVAL;
	*body = malloc(sec->size ? sec->size : 1);
	if (!*body)
		return bad(s, "out of memory"), -ENOMEM;
	if (read_at(s, *body, sec->size, sec->offset))
		return -EINVAL;
	crc = snapshot__crc32c(0, *body, sec->size);
	if (crc != sec->crc)
		return bad(s, "checksum mismatch (stored %#x, computed %#x)", sec->crc, crc);
	return 0;
}

static int parse_config(struct snapshot *s, const uint8_t *p, uint64_t len)
{
	struct snap_config *c = &s->cfg;
	uint64_t ipad, bpad;

	if (len < sizeof(*c))
		return bad(s, "%" PRIu64 " bytes, need at least %zu", len, sizeof(*c));
	memcpy(c, p, sizeof(*c));
	/* The writer pads each of the two strings to 8 bytes. */
	ipad = ((uint64_t)c->image_len + 7) & ~7ULL;
	bpad = ((uint64_t)c->build_id_len + 7) & ~7ULL;
	if (c->image_len > SNAP_MAX_STR || c->build_id_len > SNAP_MAX_BUILD_ID ||
	    sizeof(*c) + ipad + bpad != len)
		return bad(s, "image name (%u bytes) and build-id (%u bytes) do not fit the section (%" PRIu64 " bytes)",
			   c->image_len, c->build_id_len, len);
	if (c->mem_size % SNAP_PAGE || c->mem_size < VM_MEM_MIN || c->mem_size > VM_MEM_MAX)
		return bad(s, "memory size %#" PRIx64 " is not a multiple of 4K between 2M and 64G",
			   c->mem_size);
	if (c->nr_vcpus < 1 || c->nr_vcpus > 1024)
		return bad(s, "%u vCPUs (must be 1 to 1024)", c->nr_vcpus);
	/* What vm__create() will need of this RAM, judged here with the file named. */
	if (c->mem_size <= vm__reserved_end(c->nr_vcpus))
		return bad(s, "memory size %#" PRIx64 " leaves no RAM for the guest: the VMM reserves the first %#" PRIx64 " bytes for %u vCPUs",
			   c->mem_size, vm__reserved_end(c->nr_vcpus), c->nr_vcpus);
	if ((s->hdr.flags & SNAP_HDR_IRQCHIP) && c->mem_size > VM_IRQCHIP_MEM_MAX)
		return bad(s, "memory size %#" PRIx64 " is above the 3G of a Linux guest (in-kernel irqchip: its IOAPIC and LAPIC sit below 4G)",
			   c->mem_size);
	if (c->flags)
		return bad(s, "unknown flags %#x", c->flags);
	if (c->capture_path > 1)
		return bad(s, "capture path %u is unknown (0: userspace, 1: kvmdbg.ko)",
			   c->capture_path);
	if (c->trigger > SNAP_TRIG_ATTACH)
		return bad(s, "trigger %u is unknown", c->trigger);
	if ((c->trigger == SNAP_TRIG_ATTACH) != foreign(s))
		return bad(s, "trigger %u (%s) with%s the header's FOREIGN flag: only --attach PID --snapshot writes a foreign snapshot",
			   c->trigger, snapshot__trigger_name(c->trigger), foreign(s) ? "" : "out");
	if (foreign(s) && c->capture_path != 1)
		return bad(s, "capture path %u: a foreign VM's vCPUs are captured by kvmdbg.ko only (1)",
			   c->capture_path);
	memcpy(s->image, p + sizeof(*c), c->image_len);
	s->image[c->image_len] = 0;
	if (memchr(s->image, 0, c->image_len))
		return bad(s, "image name contains a NUL byte");
	memcpy(s->build_id, p + sizeof(*c) + ipad, c->build_id_len);
	return 0;
}

static const struct { uint32_t type; uint32_t size; const char *name; } rec_sizes[] = {
	{ SNAP_REC_REGS, sizeof(struct kvm_regs), "REGS" },
	{ SNAP_REC_SREGS, sizeof(struct kvm_sregs), "SREGS" },
	{ SNAP_REC_FPU, sizeof(struct kvm_fpu), "FPU" },
	{ SNAP_REC_XSAVE, 0, "XSAVE" },
	{ SNAP_REC_XCRS, sizeof(struct kvm_xcrs), "XCRS" },
	{ SNAP_REC_DEBUGREGS, sizeof(struct kvm_debugregs), "DEBUGREGS" },
	{ SNAP_REC_EVENTS, sizeof(struct kvm_vcpu_events), "EVENTS" },
	{ SNAP_REC_MSRS, 0, "MSRS" },
	{ SNAP_REC_MP_STATE, sizeof(struct kvm_mp_state), "MP_STATE" },
	{ SNAP_REC_LAPIC, sizeof(struct kvm_lapic_state), "LAPIC" },
};

static int parse_record(struct snapshot *s, struct vcpu_state *v, uint32_t type,
			const uint8_t *p, uint32_t size, unsigned int *seen)
{
	size_t i;

	for (i = 0; i < sizeof(rec_sizes) / sizeof(rec_sizes[0]); i++)
		if (rec_sizes[i].type == type)
			break;
	if (i == sizeof(rec_sizes) / sizeof(rec_sizes[0]))
		return bad(s, "unknown record type %u", type);
	if (*seen & (1u << type))
		return bad(s, "record %s appears twice", rec_sizes[i].name);
	*seen |= 1u << type;
	if (rec_sizes[i].size && size != rec_sizes[i].size)
		return bad(s, "record %s is %u bytes (should be %u)", rec_sizes[i].name,
			   size, rec_sizes[i].size);
	/* KVM gives another process's vCPUs only what the module captures. */
	if (foreign(s) && (type == SNAP_REC_XSAVE || type == SNAP_REC_XCRS ||
			   type == SNAP_REC_MP_STATE || type == SNAP_REC_LAPIC))
		return bad(s, "record %s in a foreign snapshot (kvmdbg.ko's capture record holds no %s)",
			   rec_sizes[i].name, rec_sizes[i].name);
	switch (type) {
	case SNAP_REC_REGS: memcpy(&v->regs, p, size); break;
	case SNAP_REC_SREGS: memcpy(&v->sregs, p, size); break;
	case SNAP_REC_FPU: memcpy(&v->fpu, p, size); break;
	case SNAP_REC_XCRS: memcpy(&v->xcrs, p, size); v->has_xcrs = true; break;
	case SNAP_REC_DEBUGREGS: memcpy(&v->dregs, p, size); break;
	case SNAP_REC_EVENTS: memcpy(&v->events, p, size); break;
	case SNAP_REC_MP_STATE: memcpy(&v->mp, p, size); v->has_mp_state = true; break;
	case SNAP_REC_LAPIC:
		if (!(s->hdr.flags & SNAP_HDR_IRQCHIP))
			return bad(s, "record LAPIC in a snapshot without an in-kernel irqchip");
		memcpy(&v->lapic, p, size);
		v->has_lapic = true;
		break;
	case SNAP_REC_XSAVE:
		if (size < sizeof(struct kvm_xsave) || size > SNAP_MAX_RECORD)
			return bad(s, "record XSAVE is %u bytes (must be 4096 to %u)",
				   size, SNAP_MAX_RECORD);
		v->xsave = malloc(size);
		if (!v->xsave)
			return bad(s, "out of memory"), -ENOMEM;
		memcpy(v->xsave, p, size);
		v->xsave_size = size;
		break;
	case SNAP_REC_MSRS: {
		uint32_t n;

		if (size < 8)
			return bad(s, "record MSRS is %u bytes (need 8 or more)", size);
		memcpy(&n, p, 4);
		if (n > SNAP_MAX_MSRS || size != 8 + n * sizeof(struct kvm_msr_entry))
			return bad(s, "record MSRS: %u MSRs in %u bytes (at most %u MSRs, 16 bytes each)",
				   n, size, SNAP_MAX_MSRS);
		if (foreign(s) && n > KVMDBG_NR_MSRS)
			return bad(s, "record MSRS: %u MSRs in a foreign snapshot (kvmdbg.ko's capture record has %u)",
				   n, KVMDBG_NR_MSRS);
		v->nr_msrs = n;
		memcpy(v->msrs, p + 8, n * sizeof(struct kvm_msr_entry));
		break;
	}
	}
	return 0;
}

/*
 * The next record header of a section at p + *off (len bytes in all),
 * checked to lie, with its payload, inside the section; *off moves past
 * the header. what names the record in messages ("record", "device
 * record").
 */
static int next_record(struct snapshot *s, const uint8_t *p, uint64_t len, uint64_t *off,
		       const char *what, uint32_t i, struct snap_record *rec)
{
	/* off may be past len: the last payload's padding is unchecked. */
	if (*off > len || len - *off < sizeof(*rec))
		return bad(s, "%s %u header extends past the section", what, i);
	memcpy(rec, p + *off, sizeof(*rec));
	*off += sizeof(*rec);
	if (rec->size > len - *off)
		return bad(s, "%s %u (%u bytes) extends past the section", what, i, rec->size);
	return 0;
}

static int parse_vcpu(struct snapshot *s, int idx, const uint8_t *p, uint64_t len)
{
	struct vcpu_state *v = &s->st.vcpu[idx];
	const unsigned int need = 1u << SNAP_REC_REGS | 1u << SNAP_REC_SREGS |
		1u << SNAP_REC_DEBUGREGS | 1u << SNAP_REC_EVENTS | 1u << SNAP_REC_MSRS;
	const unsigned int fpu = 1u << SNAP_REC_FPU | 1u << SNAP_REC_XSAVE;
	struct snap_vcpu hdr;
	unsigned int seen = 0;
	uint64_t off = sizeof(hdr);
	int r;

	if (len < sizeof(hdr))
		return bad(s, "%" PRIu64 " bytes, too short", len);
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.index != (uint32_t)idx)
		return bad(s, "holds vCPU %u (should be %d)", hdr.index, idx);
	for (uint32_t i = 0; i < hdr.nr_records; i++) {
		struct snap_record rec;

		r = next_record(s, p, len, &off, "record", i, &rec);
		if (r)
			return r;
		r = parse_record(s, v, rec.type, p + off, rec.size, &seen);
		if (r)
			return r;
		off += ((uint64_t)rec.size + 7) & ~7ULL;
	}
	if ((seen & need) != need || !(seen & fpu))
		return bad(s, "incomplete: needs REGS, SREGS, FPU or XSAVE, DEBUGREGS, EVENTS and MSRS");
	if ((seen & fpu) == fpu)
		return bad(s, "records FPU and XSAVE both present (a vCPU has one or the other)");
	if ((s->hdr.flags & SNAP_HDR_IRQCHIP) && !v->has_lapic)
		return bad(s, "incomplete: an in-kernel irqchip snapshot needs a LAPIC record");
	/* Nothing after the last record (the writer pads it to 8): no bytes unread. */
	if (off != len)
		return bad(s, "the records end at byte %" PRIu64 " of %" PRIu64, off, len);
	return 0;
}

static const struct { uint32_t size; const char *name; } dev_recs[SNAP_DEV_MAX + 1] = {
	[SNAP_DEV_PIC_MASTER] = { sizeof(struct kvm_irqchip), "PIC_MASTER" },
	[SNAP_DEV_PIC_SLAVE] = { sizeof(struct kvm_irqchip), "PIC_SLAVE" },
	[SNAP_DEV_IOAPIC] = { sizeof(struct kvm_irqchip), "IOAPIC" },
	[SNAP_DEV_PIT2] = { sizeof(struct kvm_pit_state2), "PIT2" },
	[SNAP_DEV_CLOCK] = { sizeof(struct kvm_clock_data), "CLOCK" },
	[SNAP_DEV_UART] = { SNAP_UART_SIZE, "UART" },
};

static int parse_dev_record(struct snapshot *s, uint32_t type, const uint8_t *p,
			    uint32_t size)
{
	static const uint32_t chip_id[] = {
		KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
	};
	struct vm_state *st = &s->st;

	if (size != dev_recs[type].size)
		return bad(s, "record %s is %u bytes (should be %u)", dev_recs[type].name,
			   size, dev_recs[type].size);
	switch (type) {
	case SNAP_DEV_PIC_MASTER:
	case SNAP_DEV_PIC_SLAVE:
	case SNAP_DEV_IOAPIC:
		memcpy(&st->dev.chip[type - 1], p, size);
		/* KVM_SET_IRQCHIP trusts chip_id to pick the chip: check it. */
		if (st->dev.chip[type - 1].chip_id != chip_id[type - 1])
			return bad(s, "record %s holds chip %u (should be %u)",
				   dev_recs[type].name, st->dev.chip[type - 1].chip_id,
				   chip_id[type - 1]);
		break;
	case SNAP_DEV_PIT2: memcpy(&st->dev.pit, p, size); break;
	case SNAP_DEV_CLOCK: memcpy(&st->dev.clock, p, size); break;
	default: memcpy(st->dev.uart, p, size); break;
	}
	return 0;
}

/* The in-kernel device records after the halted bytes; each one exactly once. */
static int parse_devrecs(struct snapshot *s, const uint8_t *p, uint64_t len)
{
	struct snap_devrecs h;
	unsigned int seen = 0;
	uint64_t off = sizeof(h);
	int r;

	if (len < sizeof(h))
		return bad(s, "in-kernel device records missing");
	memcpy(&h, p, sizeof(h));
	if (h.reserved || h.nr_records != SNAP_DEV_MAX)
		return bad(s, "%u in-kernel device records (should be %u)", h.nr_records,
			   SNAP_DEV_MAX);
	for (uint32_t i = 0; i < h.nr_records; i++) {
		struct snap_record rec;

		r = next_record(s, p, len, &off, "device record", i, &rec);
		if (r)
			return r;
		if (rec.type < 1 || rec.type > SNAP_DEV_MAX)
			return bad(s, "unknown device record type %u", rec.type);
		if (seen & (1u << rec.type))
			return bad(s, "record %s appears twice", dev_recs[rec.type].name);
		seen |= 1u << rec.type;
		r = parse_dev_record(s, rec.type, p + off, rec.size);
		if (r)
			return r;
		off += ((uint64_t)rec.size + 7) & ~7ULL;
	}
	if (off != len)
		return bad(s, "the device records end at byte %" PRIu64 " of %" PRIu64,
			   off, len);
	s->st.dev.irqchip = true;
	return 0;
}

static int parse_devices(struct snapshot *s, const uint8_t *p, uint64_t len)
{
	bool irqchip = s->hdr.flags & SNAP_HDR_IRQCHIP;
	struct snap_devices d;
	uint64_t off;

	if (len < sizeof(d))
		return bad(s, "%" PRIu64 " bytes, too short", len);
	memcpy(&d, p, sizeof(d));
	if (d.nr_vcpus != s->cfg.nr_vcpus || len < sizeof(d) + d.nr_vcpus)
		return bad(s, "state of %u vCPUs in %" PRIu64 " bytes (the VM has %u)",
			   d.nr_vcpus, len, s->cfg.nr_vcpus);
	if (d.irqchip != irqchip)
		return bad(s, "irqchip is %u but the header says %s in-kernel irqchip",
			   d.irqchip, irqchip ? "an" : "no");
	for (uint32_t i = 0; i < d.nr_vcpus; i++) {
		s->st.vcpu[i].halted = p[sizeof(d) + i] != 0;
		if (foreign(s) && s->st.vcpu[i].halted)
			return bad(s, "vCPU %u is marked halted in a foreign snapshot (its VMM's halted state is not recorded: must be 0)",
				   i);
	}
	/* The writer pads the halted bytes to 8; nr_vcpus <= 1024 here. */
	off = sizeof(d) + (((uint64_t)d.nr_vcpus + 7) & ~7ULL);
	if (!irqchip && off != len)
		return bad(s, "the halted bytes end at byte %" PRIu64 " of %" PRIu64 " (no in-kernel irqchip, so nothing follows them)",
			   off, len);
	if (!irqchip)
		return 0;
	if (off > len)
		return bad(s, "in-kernel device records missing");
	return parse_devrecs(s, p + off, len - off);
}

static bool in_one_slot(const struct snapshot *s, uint64_t gpa, uint64_t len)
{
	for (uint32_t k = 0; k < s->nr_slots; k++)
		if (gpa >= s->slots[k].gpa && len <= s->slots[k].size &&
		    gpa - s->slots[k].gpa <= s->slots[k].size - len)
			return true;
	return false;
}

/* SLOTS: the foreign VM's memslots, sorted, apart, page-aligned, in RAM. */
static int parse_slots(struct snapshot *s, const uint8_t *p, uint64_t len)
{
	const uint32_t known = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
	struct snap_slots h;
	uint64_t prev_end = 0;

	if (len < sizeof(h))
		return bad(s, "%" PRIu64 " bytes, too short", len);
	memcpy(&h, p, sizeof(h));
	if (h.reserved || h.nr_slots < 1 || h.nr_slots > SNAP_MAX_SLOTS ||
	    len != sizeof(h) + (uint64_t)h.nr_slots * sizeof(struct snap_slot))
		return bad(s, "%u memslots in %" PRIu64 " bytes (1 to %u, 24 bytes each, reserved 0)",
			   h.nr_slots, len, SNAP_MAX_SLOTS);
	s->slots = malloc(h.nr_slots * sizeof(*s->slots));
	if (!s->slots)
		return bad(s, "out of memory"), -ENOMEM;
	memcpy(s->slots, p + sizeof(h), h.nr_slots * sizeof(*s->slots));
	s->nr_slots = h.nr_slots;
	for (uint32_t i = 0; i < h.nr_slots; i++) {
		const struct snap_slot *sl = &s->slots[i];

		if (sl->gpa % SNAP_PAGE || sl->size % SNAP_PAGE || !sl->size || (sl->flags & ~known))
			return bad(s, "memslot %u: unaligned or empty (gpa %#" PRIx64 ", %#" PRIx64 " bytes) or unknown flags %#x",
				   i, sl->gpa, sl->size, sl->flags);
		if (sl->gpa < prev_end || sl->gpa > s->cfg.mem_size ||
		    sl->size > s->cfg.mem_size - sl->gpa)
			return bad(s, "memslot %u: gpa %#" PRIx64 "-%#" PRIx64 " overlaps the previous one or lies outside guest RAM (%#" PRIx64 " bytes)",
				   i, sl->gpa, sl->gpa + sl->size, s->cfg.mem_size);
		prev_end = sl->gpa + sl->size;
	}
	return 0;
}

static int check_run(struct snapshot *s, uint64_t i, const struct snap_run *r,
		     uint64_t prev_end)
{
	uint64_t len = r->nr_pages * SNAP_PAGE;

	if (r->gpa % SNAP_PAGE || r->offset % SNAP_PAGE || !r->nr_pages || r->reserved ||
	    r->nr_pages > s->cfg.mem_size / SNAP_PAGE)
		return bad(s, "run %" PRIu64 ": unaligned, empty or oversized (gpa %#" PRIx64 ", %" PRIu64 " pages, offset %#" PRIx64 ")",
			   i, r->gpa, r->nr_pages, r->offset);
	if (r->gpa < prev_end || r->gpa > s->cfg.mem_size || len > s->cfg.mem_size - r->gpa)
		return bad(s, "run %" PRIu64 ": gpa %#" PRIx64 "-%#" PRIx64 " overlaps the previous run or lies outside guest RAM (%#" PRIx64 " bytes)",
			   i, r->gpa, r->gpa + len, s->cfg.mem_size);
	if (foreign(s) && !in_one_slot(s, r->gpa, len))
		return bad(s, "run %" PRIu64 ": gpa %#" PRIx64 "-%#" PRIx64 " does not lie inside one memslot (section SLOTS)",
			   i, r->gpa, r->gpa + len);
	/* Data after the metadata: resume maps it, so no byte may be both. */
	if (r->offset < s->meta_end)
		return bad(s, "run %" PRIu64 ": data at offset %#" PRIx64 " overlaps the metadata (header, table and sections: bytes 0-%#" PRIx64 ")",
			   i, r->offset, s->meta_end);
	return check_range(s, r->offset, len, "run data");
}

static int by_offset(const void *a, const void *b, void *runs)
{
	const struct snap_run *r = runs;
	uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;

	if (r[i].offset != r[j].offset)
		return r[i].offset < r[j].offset ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* No two runs share file bytes (each gpa gets its own data). */
static int check_runs_apart(struct snapshot *s)
{
	uint64_t *idx = malloc(s->nr_runs ? s->nr_runs * sizeof(*idx) : 1);
	int r = 0;

	if (!idx)
		return bad(s, "out of memory"), -ENOMEM;
	for (uint64_t i = 0; i < s->nr_runs; i++)
		idx[i] = i;
	qsort_r(idx, s->nr_runs, sizeof(*idx), by_offset, s->runs);
	for (uint64_t k = 1; k < s->nr_runs && !r; k++) {
		const struct snap_run *a = &s->runs[idx[k - 1]], *b = &s->runs[idx[k]];
		uint64_t a_end = a->offset + a->nr_pages * SNAP_PAGE;
		uint64_t b_end = b->offset + b->nr_pages * SNAP_PAGE;

		if (b->offset < a_end)
			r = bad(s, "run %" PRIu64 ": data at offset %#" PRIx64 "-%#" PRIx64 " overlaps the data of run %" PRIu64 " (%#" PRIx64 "-%#" PRIx64 ")",
				idx[k], b->offset, b_end, idx[k - 1], a->offset, a_end);
	}
	free(idx);
	return r;
}

static int verify_runs(struct snapshot *s)
{
	for (uint64_t i = 0; i < s->nr_runs; i++) {
		const struct snap_run *r = &s->runs[i];
		uint64_t len = r->nr_pages * SNAP_PAGE;
		void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, s->fd, r->offset);
		uint32_t crc;

		if (p == MAP_FAILED)
			return bad(s, "run %" PRIu64 ": cannot map: %s", i, strerror(errno));
		crc = snapshot__crc32c(0, p, len);
		munmap(p, len);
		if (crc != r->crc)
			return bad(s, "run %" PRIu64 " (gpa %#" PRIx64 ", %" PRIu64 " pages): checksum mismatch (stored %#x, computed %#x)",
				   i, r->gpa, r->nr_pages, r->crc, crc);
	}
	return 0;
}

static int parse_memory(struct snapshot *s, const uint8_t *p, uint64_t len)
{
	struct snap_memory m;
	uint64_t prev_end = 0;
	int r;

	if (len < sizeof(m))
		return bad(s, "%" PRIu64 " bytes, too short", len);
	memcpy(&m, p, sizeof(m));
	if (m.page_size != SNAP_PAGE || m.nr_runs > (len - sizeof(m)) / sizeof(struct snap_run) ||
	    len != sizeof(m) + m.nr_runs * sizeof(struct snap_run))
		return bad(s, "%" PRIu64 " runs of %" PRIu64 "-byte pages do not match the section size (%" PRIu64 " bytes)",
			   m.nr_runs, m.page_size, len);
	s->runs = malloc(m.nr_runs ? m.nr_runs * sizeof(*s->runs) : 1);
	if (!s->runs)
		return bad(s, "out of memory"), -ENOMEM;
	memcpy(s->runs, p + sizeof(m), m.nr_runs * sizeof(*s->runs));
	s->nr_runs = m.nr_runs;
	for (uint64_t i = 0; i < m.nr_runs; i++) {
		r = check_run(s, i, &s->runs[i], prev_end);
		if (r)
			return r;
		prev_end = s->runs[i].gpa + s->runs[i].nr_pages * SNAP_PAGE;
		s->nr_pages += s->runs[i].nr_pages;
	}
	r = check_runs_apart(s);
	return r ? r : verify_runs(s);
}

/* Section i must have the type the layout puts there. */
static int expected_type(const struct snapshot *s, uint32_t i)
{
	uint32_t n = s->cfg.nr_vcpus;

	if (i == n + 2 && foreign(s))
		return SNAP_SEC_SLOTS;
	return i == 0 ? SNAP_SEC_CONFIG : i <= n ? SNAP_SEC_VCPU :
	       i == n + 1 ? SNAP_SEC_DEVICES : SNAP_SEC_MEMORY;
}

static void name_section(struct snapshot *s, uint32_t i)
{
	switch (expected_type(s, i)) {
	case SNAP_SEC_CONFIG: where(s, "section CONFIG"); break;
	case SNAP_SEC_VCPU: where(s, "section VCPU %u", i - 1); break;
	case SNAP_SEC_DEVICES: where(s, "section DEVICES"); break;
	case SNAP_SEC_SLOTS: where(s, "section SLOTS"); break;
	default: where(s, "section MEMORY"); break;
	}
}

static int parse_section(struct snapshot *s, uint32_t i, const struct snap_section *sec)
{
	uint8_t *body = NULL;
	int r;

	name_section(s, i);
	if (sec->type != (uint32_t)expected_type(s, i))
		return bad(s, "type %u where type %d belongs (section %u)", sec->type,
			   expected_type(s, i), i);
	/* In file order after the table, as the writer lays them out: apart. */
	if (sec->offset % 8 || sec->offset < s->meta_end)
		return bad(s, "data at offset %#" PRIx64 " is not 8-byte aligned or overlaps the table or the section before it (which end at %#" PRIx64 ")",
			   sec->offset, s->meta_end);
	r = load_section(s, sec, &body);
	if (!r) {
		s->meta_end = sec->offset + sec->size;
		switch (sec->type) {
		case SNAP_SEC_CONFIG: r = parse_config(s, body, sec->size); break;
		case SNAP_SEC_VCPU: r = parse_vcpu(s, i - 1, body, sec->size); break;
		case SNAP_SEC_DEVICES: r = parse_devices(s, body, sec->size); break;
		case SNAP_SEC_SLOTS: r = parse_slots(s, body, sec->size); break;
		default: r = parse_memory(s, body, sec->size); break;
		}
	}
	free(body);
	return r;
}

static int parse_table(struct snapshot *s)
{
	uint32_t n = s->hdr.nr_sections, crc, extra = foreign(s);
	struct snap_section *tab;
	int r = 0;

	where(s, "section table");
	if (n < 4 || n > SNAP_MAX_SECTIONS)
		return bad(s, "%u sections (must be 4 to %u)", n, SNAP_MAX_SECTIONS);
	if (s->hdr.table_offset != sizeof(struct snap_header))
		return bad(s, "table at offset %#" PRIx64 " (should be %zu, right after the header)",
			   s->hdr.table_offset, sizeof(struct snap_header));
	if (check_range(s, s->hdr.table_offset, (uint64_t)n * sizeof(*tab), "table"))
		return -EINVAL;
	s->meta_end = s->hdr.table_offset + (uint64_t)n * sizeof(*tab);
	tab = malloc(n * sizeof(*tab));
	if (!tab)
		return bad(s, "out of memory"), -ENOMEM;
	r = read_at(s, tab, n * sizeof(*tab), s->hdr.table_offset);
	crc = snapshot__crc32c(0, tab, n * sizeof(*tab));
	if (!r && crc != s->hdr.table_crc)
		r = bad(s, "checksum mismatch (stored %#x, computed %#x)", s->hdr.table_crc, crc);
	/* CONFIG first: it says how many VCPU sections follow. */
	if (!r) {
		s->cfg.nr_vcpus = 1;
		r = parse_section(s, 0, &tab[0]);
	}
	if (!r && n != s->cfg.nr_vcpus + 3 + extra) {
		where(s, "section table");
		r = bad(s, "%u sections for %u vCPUs (should be %u)", n, s->cfg.nr_vcpus,
			s->cfg.nr_vcpus + 3 + extra);
	}
	if (!r) {
		s->st.nr_vcpus = s->cfg.nr_vcpus;
		s->st.vcpu = calloc(s->cfg.nr_vcpus, sizeof(*s->st.vcpu));
		if (!s->st.vcpu)
			r = -ENOMEM;
	}
	for (uint32_t i = 1; i < n && !r; i++)
		r = parse_section(s, i, &tab[i]);
	free(tab);
	return r;
}

/*
 * The snapshot file under a running VM. Resume maps the stored pages
 * copy-on-write, so every page the guest has not written yet is the
 * file's page: an in-place writer (cp onto the file, truncate) would
 * change the running guest's memory, or take it away (SIGBUS). We hold a
 * read lease (F_SETLEASE F_RDLCK) on the file from open() on: such a
 * writer's open() or truncate() then blocks in the kernel (at most
 * /proc/sys/fs/lease-break-time) and the guard thread gets SIG_LEASE.
 * Before resume maps the file it marks the snapshot broken (restore then
 * refuses: what it checked may be gone); after, with the world held, it
 * moves guest RAM off the file onto anonymous copies (guard__copy), says
 * so in one line and releases the lease, and the writer goes on without
 * touching the guest. Our own writer replaces the file by rename (a new
 * inode): no lease break, the VM keeps the old inode.
 */
#define SIG_LEASE	(SIGRTMIN + 2)

struct guard {
	struct snapshot *s;
	pthread_t thread;
	int sfd, efd;		/* SIG_LEASE signalfd; eventfd: stop */
	pthread_mutex_t lock;
	pthread_cond_t ready_cond;
	/* Under lock. */
	bool ready;
	int lease_err;		/* 0: lease held; -errno: none */
	struct vm *vm;		/* set once the file is mapped into RAM */
	bool broken;		/* lease broken: the file may have changed */
};

/*
 * World held, breakpoints lifted (vm__capture_held): give every run of
 * guest RAM still mapped from the file anonymous pages with the same
 * contents. Private copy-on-write pages are not enough: a truncate of the
 * file unmaps those too (SIGBUS), and cp truncates first.
 */
static int guard__copy(void *arg)
{
	struct guard *g = arg;
	struct snapshot *s = g->s;

	for (uint64_t i = 0; i < s->nr_runs; i++) {
		uint64_t len = s->runs[i].nr_pages * SNAP_PAGE;
		uint8_t *p = vm__gpa_to_hva(g->vm, s->runs[i].gpa, len);
		void *copy;

		if (!p)
			continue;
		copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (copy == MAP_FAILED)
			return -errno;
		memcpy(copy, p, len);
		/* Atomically over the file mapping; KVM's memslot keeps the
		 * host address and sees the new pages (MMU notifier).
		 */
		if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED) {
			int e = errno;

			munmap(copy, len);
			return -e;
		}
	}
	return 0;
}

static void guard__break(struct guard *g)
{
	int r;

	pthread_mutex_lock(&g->lock);
	if (!g->broken && g->vm) {
		/* Held: no vCPU writes a page between its copy and the swap. */
		r = vm__hold(g->vm);
		if (!r || r == -ESRCH)
			r = vm__capture_held(g->vm, guard__copy, g);
		vm__release(g->vm);
		if (r)
			fprintf(stderr, "%s: %s is being modified and the VM's memory could not be copied (%s): the running guest may see the change\n",
				program_invocation_short_name, g->s->path, strerror(-r));
		else
			fprintf(stderr, "%s: %s is being modified; the running VM now holds its own copy of its memory\n",
				program_invocation_short_name, g->s->path);
	}
	g->broken = true;
	fcntl(g->s->fd, F_SETLEASE, F_UNLCK);
	pthread_mutex_unlock(&g->lock);
}

static int guard__lease(struct guard *g)
{
	struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = gettid() };
	int fd = g->s->fd;

	if (fcntl(fd, F_SETSIG, SIG_LEASE) || fcntl(fd, F_SETOWN_EX, &owner) ||
	    fcntl(fd, F_SETLEASE, F_RDLCK))
		return -errno;
	return 0;
}

static void *guard__thread(void *arg)
{
	struct guard *g = arg;
	struct pollfd pfd[2] = { { .fd = g->sfd, .events = POLLIN },
				 { .fd = g->efd, .events = POLLIN } };
	int r = guard__lease(g);

	pthread_mutex_lock(&g->lock);
	g->lease_err = r;
	g->ready = true;
	pthread_cond_signal(&g->ready_cond);
	pthread_mutex_unlock(&g->lock);
	while (!r) {
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if ((pfd[0].revents & POLLIN) &&
		    read(g->sfd, &si, sizeof(si)) == sizeof(si))
			guard__break(g);
	}
	return NULL;
}

static void guard__free(struct guard *g)
{
	if (g->sfd >= 0)
		close(g->sfd);
	if (g->efd >= 0)
		close(g->efd);
	pthread_cond_destroy(&g->ready_cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/*
 * Start the guard thread with every signal blocked (the process's own
 * SIGUSR1 and kick signal must never land there), SIG_LEASE read through
 * a signalfd; the lease names that thread, so the break goes to it alone.
 */
static int guard__start(struct snapshot *s)
{
	struct guard *g = calloc(1, sizeof(*g));
	sigset_t all, old, lease;
	int r;

	if (!g)
		return -ENOMEM;
	g->s = s;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->ready_cond, NULL);
	sigemptyset(&lease);
	sigaddset(&lease, SIG_LEASE);
	g->sfd = signalfd(-1, &lease, SFD_CLOEXEC | SFD_NONBLOCK);
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->sfd < 0 || g->efd < 0) {
		r = -errno;
		guard__free(g);
		return r;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&g->thread, NULL, guard__thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		guard__free(g);
		return r;
	}
	pthread_mutex_lock(&g->lock);
	while (!g->ready)
		pthread_cond_wait(&g->ready_cond, &g->lock);
	r = g->lease_err;
	pthread_mutex_unlock(&g->lock);
	s->guard = g;
	return r;
}

static void guard__stop(struct snapshot *s)
{
	struct guard *g = s->guard;
	uint64_t one = 1;

	if (!g)
		return;
	/* A fresh eventfd counter: the write cannot fail but for EINTR. */
	while (write(g->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(g->thread, NULL);
	guard__free(g);
	s->guard = NULL;
}

/*
 * Every vCPU halted: nothing would ever run again, and a live VM ends
 * there (status 0) before any snapshot could record it. Resuming it would
 * idle forever.
 */
static int check_runnable(struct snapshot *s)
{
	for (int i = 0; i < s->st.nr_vcpus; i++)
		if (!s->st.vcpu[i].halted)
			return 0;
	where(s, "section DEVICES");
	return bad(s, "every vCPU is halted, so nothing would ever run (a live VM ends with status 0 there); nothing to resume");
}

int snapshot__open(const char *path, struct snapshot **out, char *err, size_t err_len)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct stat st;
	int r;

	if (!s)
		return -ENOMEM;
	s->err = err;
	s->err_len = err_len;
	s->path = strdup(path);
	/* O_NONBLOCK: a FIFO must not block open() until a writer comes. */
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (!s->path || s->fd < 0 || fstat(s->fd, &st)) {
		r = -errno;
		if (err)
			snprintf(err, err_len, "%s: cannot open: %s", path, strerror(-r));
		goto fail;
	}
	where(s, "file");
	if (!S_ISREG(st.st_mode)) {
		r = bad(s, "not a regular file");
		goto fail;
	}
	/* Before the first read: what is checked below is what runs. */
	r = guard__start(s);
	if (r && !s->guard) {
		bad(s, "cannot start the lease guard thread: %s", strerror(-r));
		goto fail;
	}
	if (r)
		fprintf(stderr, "%s: %s: cannot take a read lease (%s): a change of the file in place while the VM runs would change its memory\n",
			program_invocation_short_name, path, strerror(-r));
	s->size = st.st_size;
	r = check_header(s);
	if (!r)
		r = parse_table(s);
	if (!r)
		r = check_runnable(s);
	if (r)
		goto fail;
	if (!foreign(s)) {
		s->ram = (struct snap_slot){ .gpa = 0, .size = s->cfg.mem_size };
		s->slots = &s->ram;
		s->nr_slots = 1;
	}
	*out = s;
	return 0;
fail:
	snapshot__close(s);
	return r;
}

void snapshot__close(struct snapshot *s)
{
	if (!s)
		return;
	guard__stop(s);
	if (s->fd >= 0)
		close(s->fd);
	vm_state__free(&s->st);
	free(s->runs);
	if (s->slots != &s->ram)
		free(s->slots);
	free(s->path);
	free(s);
}

/* Map the stored runs into guest RAM, unless the lease broke since open. */
static int map_runs(struct snapshot *s, struct vm *vm, char *err, size_t err_len)
{
	struct guard *g = s->guard;
	int r = 0;

	if (g)
		pthread_mutex_lock(&g->lock);
	if (g && g->broken) {
		snprintf(err, err_len, "%s: another process opened it for writing while it was being resumed; what was checked may have changed: resume again",
			 s->path);
		r = -EAGAIN;
	}
	for (uint64_t i = 0; i < s->nr_runs && !r; i++) {
		const struct snap_run *run = &s->runs[i];

		r = vm__map_file(vm, run->gpa, run->nr_pages * SNAP_PAGE, s->fd, run->offset);
		if (r)
			snprintf(err, err_len, "%s: cannot map run %" PRIu64 " into guest RAM: %s",
				 s->path, i, strerror(-r));
	}
	if (g && !r)
		g->vm = vm;
	if (g)
		pthread_mutex_unlock(&g->lock);
	return r;
}

static int restore_state(struct snapshot *s, struct vm *vm, char *err, size_t err_len)
{
	char why[160];
	int r = vm__restore_devices(vm, &s->st, why, sizeof(why));

	for (int i = 0; i < s->st.nr_vcpus && !r; i++)
		r = vm__restore_vcpu(vm, i, &s->st.vcpu[i], why, sizeof(why));
	if (r) {
		snprintf(err, err_len, "%s: cannot restore %s", s->path, why);
		return r;
	}
	vm__restore_devices_done(vm, &s->st);
	return 0;
}

int snapshot__restore(void *ctx, struct vm *vm, char *err, size_t err_len)
{
	struct snapshot *s = ctx;
	int r = map_runs(s, vm, err, err_len);

	if (!r)
		r = restore_state(s, vm, err, err_len);
	if (r && s->guard) {
		/* vm__create() destroys the VM now: the guard must forget it. */
		pthread_mutex_lock(&s->guard->lock);
		s->guard->vm = NULL;
		pthread_mutex_unlock(&s->guard->lock);
	}
	return r;
}

const char *snapshot__path(const struct snapshot *s) { return s->path; }
const struct snap_config *snapshot__config(const struct snapshot *s) { return &s->cfg; }
const char *snapshot__image(const struct snapshot *s) { return s->image; }
uint64_t snapshot__nr_pages(const struct snapshot *s) { return s->nr_pages; }

const uint8_t *snapshot__build_id(const struct snapshot *s, uint32_t *len)
{
	*len = s->cfg.build_id_len;
	return s->build_id;
}

uint64_t snapshot__rip(const struct snapshot *s, int vcpu)
{
	return vcpu >= 0 && vcpu < s->st.nr_vcpus ? s->st.vcpu[vcpu].regs.rip : 0;
}

bool snapshot__maps(const struct snapshot *s, uint64_t gpa, uint64_t len)
{
	for (uint64_t i = 0; i < s->nr_runs; i++) {
		uint64_t a = s->runs[i].gpa, b = a + s->runs[i].nr_pages * SNAP_PAGE;

		if (gpa < b && a < gpa + len)
			return true;
	}
	return false;
}

const char *snapshot__trigger_name(uint32_t t)
{
	switch (t) {
	case SNAP_TRIG_API: return "API call";
	case SNAP_TRIG_SIGUSR1: return "SIGUSR1";
	case SNAP_TRIG_PORT: return "guest write to port 0xf5";
	case SNAP_TRIG_ADDR: return "--snapshot-at breakpoint";
	case SNAP_TRIG_MONITOR: return "gdb monitor snapshot";
	case SNAP_TRIG_ATTACH: return "--attach PID --snapshot";
	default: return "unknown";
	}
}

void snapshot__describe(const struct snapshot *s,
			void (*print)(void *out, const char *fmt, ...), void *out)
{
	const struct snap_config *c = &s->cfg;
	time_t t = c->created_ns / 1000000000ull;
	char when[64], id[2 * SNAP_MAX_BUILD_ID + 1] = "none";
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	for (uint32_t i = 0; i < c->build_id_len; i++)
		snprintf(id + 2 * i, 3, "%02x", s->build_id[i]);
	print(out, "snapshot:  %s (format version %u, %" PRIu64 " bytes)\n", s->path,
	      s->hdr.version, s->size);
	print(out, "captured:  %s by %s", when, snapshot__trigger_name(c->trigger));
	if (c->trigger == SNAP_TRIG_ADDR)
		print(out, " at %#" PRIx64, c->trigger_addr);
	print(out, "; %s capture, world held %" PRIu64 " us\n",
	      c->capture_path ? "kvmdbg.ko" : "userspace", c->stopped_ns / 1000);
	print(out, "image:     %s (build-id %s)\n", *s->image ? s->image : "unknown", id);
	if (s->st.dev.irqchip)
		print(out, "devices:   in-kernel irqchip, PIT, kvmclock, COM1 UART (Linux guest)\n");
	if (foreign(s))
		print(out, "foreign:   another VMM's VM: its devices, XSAVE, MP state, LAPIC and the MSRs beyond kvmdbg.ko's %u are not in the snapshot; for inspection only\n",
		      KVMDBG_NR_MSRS);
	print(out, "vCPUs:     %u\n", c->nr_vcpus);
	for (int i = 0; i < s->st.nr_vcpus; i++)
		print(out, "  vCPU %d:  rip %#llx%s\n", i, (unsigned long long)s->st.vcpu[i].regs.rip,
		      s->st.vcpu[i].halted ? " (halted)" : "");
	print(out, "memory:    %" PRIu64 " MiB, %" PRIu64 " non-zero pages in %" PRIu64 " runs\n",
	      c->mem_size >> 20, s->nr_pages, s->nr_runs);
	for (uint32_t i = 0; foreign(s) && i < s->nr_slots; i++)
		print(out, "  memslot %u: gpa %#" PRIx64 "-%#" PRIx64 "%s\n", s->slots[i].id,
		      s->slots[i].gpa, s->slots[i].gpa + s->slots[i].size,
		      s->slots[i].flags & KVM_MEM_READONLY ? " (read-only)" : "");
}

bool snapshot__irqchip(const struct snapshot *s)
{
	return s->st.dev.irqchip;
}

bool snapshot__foreign(const struct snapshot *s)
{
	return foreign(s);
}

int snapshot__nr_slots(const struct snapshot *s)
{
	return (int)s->nr_slots;
}

const struct snap_slot *snapshot__slot(const struct snapshot *s, int i)
{
	return i >= 0 && (uint32_t)i < s->nr_slots ? &s->slots[i] : NULL;
}

const struct vcpu_state *snapshot__vcpu(const struct snapshot *s, int vcpu)
{
	return vcpu >= 0 && vcpu < s->st.nr_vcpus ? &s->st.vcpu[vcpu] : NULL;
}

int snapshot__read_ram(const struct snapshot *s, uint64_t gpa, void *buf, uint64_t len)
{
	uint8_t *out = buf;

	if (gpa > s->cfg.mem_size || len > s->cfg.mem_size - gpa)
		return -EINVAL;
	memset(buf, 0, len);
	for (uint64_t i = 0; i < s->nr_runs; i++) {
		uint64_t a = s->runs[i].gpa, b = a + s->runs[i].nr_pages * SNAP_PAGE;
		uint64_t lo = a > gpa ? a : gpa, hi = b < gpa + len ? b : gpa + len;

		if (lo < hi && pread(s->fd, out + (lo - gpa), hi - lo,
				     s->runs[i].offset + (lo - a)) != (ssize_t)(hi - lo))
			return -EIO;
	}
	return 0;
}
