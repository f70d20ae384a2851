// SPDX-License-Identifier: GPL-2.0
/*
 * Writing a snapshot: hold the world, capture every vCPU, find the
 * non-zero pages of RAM, write them at page-aligned offsets and the
 * metadata in front, then release. Where the state and RAM come from is
 * a source (struct snapshot_source): the launcher's own VM, whose RAM is
 * written straight from guest memory (no copy), or a VM another VMM runs
 * (user/attach/), whose RAM is copied in chunks. The file
 * appears atomically: temp file in the same directory, fsync, rename,
 * fsync of the directory; any failure removes the temp file and leaves an
 * earlier snapshot at the path untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "user/lib/atomic_file.h"
#include "user/lib/growbuf.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/ram_scan.h"

struct runs {
	struct snap_run *v;
	size_t n, cap;
	bool split;		/* the next page starts a run (a new slot) */
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Metadata records are 8-byte aligned (docs/snapshot-format.md). */
static int buf__put(struct growbuf *b, const void *data, size_t len)
{
	return growbuf__put(b, data, len, 8);
}

static int runs__add(struct runs *rs, uint64_t gpa)
{
	struct snap_run *last = rs->n ? &rs->v[rs->n - 1] : NULL;

	if (last && !rs->split && last->gpa + last->nr_pages * SNAP_PAGE == gpa) {
		last->nr_pages++;
		return 0;
	}
	rs->split = false;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct snap_run *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = (struct snap_run){ .gpa = gpa, .nr_pages = 1 };
	return 0;
}

static bool page__zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < SNAP_PAGE / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] |
		       w[i + 5] | w[i + 6] | w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

#define CHUNK_PAGES	(SNAP_CHUNK / SNAP_PAGE)
/* The most one write takes from RAM the source maps. */
#define SPAN_MAX	(64u << 20)

/* n <= CHUNK_PAGES pages from gpa, inside one slot: the non-zero ones join the runs. */
static int scan__chunk(const struct snapshot_source *src, uint64_t gpa, uint64_t n,
		       uint8_t *buf, struct runs *rs)
{
	bool maybe[CHUNK_PAGES];
	const uint8_t *p = NULL;
	int r = 0;

	memset(maybe, 1, sizeof(maybe));
	if (src->ops->touched)
		src->ops->touched(src->ctx, gpa, n, maybe);
	for (uint64_t i = 0; i < n && !r; i++) {
		if (!maybe[i])
			continue;
		if (!p)
			p = src->ops->ram(src->ctx, gpa, n * SNAP_PAGE, buf, &r);
		if (!p)
			return r ? r : -EFAULT;
		if (!page__zero(p + i * SNAP_PAGE))
			r = runs__add(rs, gpa + i * SNAP_PAGE);
	}
	return r;
}

static int scan__ram(const struct snapshot_source *src, uint8_t *buf, struct runs *rs)
{
	int r = 0;

	for (int k = 0; k < src->nr_slots && !r; k++) {
		const struct snap_slot *sl = &src->slots[k];

		rs->split = true;
		for (uint64_t off = 0; off < sl->size && !r; off += SNAP_CHUNK) {
			uint64_t n = (sl->size - off) / SNAP_PAGE;

			r = scan__chunk(src, sl->gpa + off, n < CHUNK_PAGES ? n : CHUNK_PAGES,
					buf, rs);
		}
	}
	return r;
}

/*
 * The launcher's own VM as a source. Pages never touched are zero and not
 * read (user/vmm/ram_scan.h), which keeps a 64 GiB guest that touched
 * little cheap to scan.
 */
struct vm_source {
	struct vm *vm;
	struct vm_ram_scan scan;
	struct snap_slot ram;
};

static int vm_source__hold(void *ctx)
{
	return vm__hold(((struct vm_source *)ctx)->vm);
}

static void vm_source__release(void *ctx)
{
	vm__release(((struct vm_source *)ctx)->vm);
}

/* The debugger's int3s are out meanwhile (vm__capture_held). */
static int vm_source__held(void *ctx, int (*fn)(void *arg), void *arg)
{
	return vm__capture_held(((struct vm_source *)ctx)->vm, fn, arg);
}

static int vm_source__capture(void *ctx, struct vm_state *st)
{
	return vm__capture_state(((struct vm_source *)ctx)->vm, st);
}

/* RAM is ours: no copy. */
static const uint8_t *vm_source__ram(void *ctx, uint64_t gpa, uint64_t len,
				     uint8_t *buf, int *err)
{
	const uint8_t *p = vm__gpa_to_hva(((struct vm_source *)ctx)->vm, gpa, len);

	(void)buf;
	*err = p ? 0 : -EFAULT;
	return p;
}

static void vm_source__touched(void *ctx, uint64_t gpa, uint64_t n, bool *maybe)
{
	vm__ram_touched(&((struct vm_source *)ctx)->scan, gpa, n, maybe);
}

static const struct snapshot_source_ops vm_source_ops = {
	.hold = vm_source__hold,
	.release = vm_source__release,
	.held = vm_source__held,
	.capture = vm_source__capture,
	.ram = vm_source__ram,
	.touched = vm_source__touched,
};

static int put_record(struct growbuf *b, uint32_t type, const void *data, uint32_t size)
{
	struct snap_record rec = { .type = type, .size = size };
	int r = buf__put(b, &rec, sizeof(rec));

	return r ? r : buf__put(b, data, size);
}

static int put_vcpu(struct growbuf *b, int idx, const struct vcpu_state *s)
{
	struct snap_vcpu hdr = { .index = idx, .nr_records = 6 };
	struct { uint32_t n, pad; struct kvm_msr_entry e[SNAP_MAX_MSRS]; } msrs;
	int r;

	hdr.nr_records += !!s->has_xcrs + !!s->has_mp_state + !!s->has_lapic;
	msrs.n = s->nr_msrs;
	msrs.pad = 0;
	memcpy(msrs.e, s->msrs, s->nr_msrs * sizeof(msrs.e[0]));
	r = buf__put(b, &hdr, sizeof(hdr));
	r = r ? r : put_record(b, SNAP_REC_REGS, &s->regs, sizeof(s->regs));
	r = r ? r : put_record(b, SNAP_REC_SREGS, &s->sregs, sizeof(s->sregs));
	if (s->xsave)
		r = r ? r : put_record(b, SNAP_REC_XSAVE, s->xsave, s->xsave_size);
	else
		r = r ? r : put_record(b, SNAP_REC_FPU, &s->fpu, sizeof(s->fpu));
	if (s->has_xcrs)
		r = r ? r : put_record(b, SNAP_REC_XCRS, &s->xcrs, sizeof(s->xcrs));
	r = r ? r : put_record(b, SNAP_REC_DEBUGREGS, &s->dregs, sizeof(s->dregs));
	r = r ? r : put_record(b, SNAP_REC_EVENTS, &s->events, sizeof(s->events));
	r = r ? r : put_record(b, SNAP_REC_MSRS, &msrs,
			       8 + s->nr_msrs * sizeof(msrs.e[0]));
	if (s->has_mp_state)
		r = r ? r : put_record(b, SNAP_REC_MP_STATE, &s->mp, sizeof(s->mp));
	if (s->has_lapic)
		r = r ? r : put_record(b, SNAP_REC_LAPIC, &s->lapic, sizeof(s->lapic));
	return r;
}

/* DEVICES' in-kernel device records (SNAP_HDR_IRQCHIP). */
static int put_devrecs(struct growbuf *b, const struct vm_state *st)
{
	struct snap_devrecs h = { .nr_records = SNAP_DEV_MAX };
	int r = buf__put(b, &h, sizeof(h));

	r = r ? r : put_record(b, SNAP_DEV_PIC_MASTER, &st->dev.chip[0], sizeof(st->dev.chip[0]));
	r = r ? r : put_record(b, SNAP_DEV_PIC_SLAVE, &st->dev.chip[1], sizeof(st->dev.chip[1]));
	r = r ? r : put_record(b, SNAP_DEV_IOAPIC, &st->dev.chip[2], sizeof(st->dev.chip[2]));
	r = r ? r : put_record(b, SNAP_DEV_PIT2, &st->dev.pit, sizeof(st->dev.pit));
	r = r ? r : put_record(b, SNAP_DEV_CLOCK, &st->dev.clock, sizeof(st->dev.clock));
	return r ? r : put_record(b, SNAP_DEV_UART, st->dev.uart, sizeof(st->dev.uart));
}

struct capture {
	const struct snapshot_source *src;
	struct vm_state st;
	struct runs runs;
	struct snap_config cfg;
	const struct snapshot_meta *meta;
	uint8_t *buf;		/* SNAP_CHUNK bytes: RAM a source copies */
};

/* Append one section to the metadata; its table entry is filled in later. */
static int put_section(struct growbuf *b, struct snap_section *sec, uint32_t type,
		       struct growbuf *body)
{
	sec->type = type;
	sec->offset = b->len;
	sec->size = body->len;
	sec->crc = snapshot__crc32c(0, body->p, body->len);
	return buf__put(b, body->p, body->len);
}

static int build_body(struct capture *c, int which, struct growbuf *body)
{
	const struct snapshot_meta *m = c->meta;
	int r = 0;

	body->len = 0;
	if (which == 0) {
		r = buf__put(body, &c->cfg, sizeof(c->cfg));
		if (!r && c->cfg.image_len)
			r = buf__put(body, m->image, c->cfg.image_len);
		if (!r && c->cfg.build_id_len)
			r = buf__put(body, m->build_id, c->cfg.build_id_len);
		return r;
	}
	if (which <= c->st.nr_vcpus)
		return put_vcpu(body, which - 1, &c->st.vcpu[which - 1]);
	if (which == c->st.nr_vcpus + 2 && c->src->foreign) {
		struct snap_slots h = { .nr_slots = c->src->nr_slots };

		r = buf__put(body, &h, sizeof(h));
		return r ? r : buf__put(body, c->src->slots,
					c->src->nr_slots * sizeof(*c->src->slots));
	}
	if (which == c->st.nr_vcpus + 1) {
		struct snap_devices d = { .nr_vcpus = c->st.nr_vcpus,
					  .irqchip = c->st.dev.irqchip };
		uint8_t halted[c->st.nr_vcpus];

		for (int i = 0; i < c->st.nr_vcpus; i++)
			halted[i] = c->st.vcpu[i].halted;
		r = buf__put(body, &d, sizeof(d));
		r = r ? r : buf__put(body, halted, c->st.nr_vcpus);
		if (!r && c->st.dev.irqchip)
			r = put_devrecs(body, &c->st);
		return r;
	}
	{
		struct snap_memory mh = { .nr_runs = c->runs.n, .page_size = SNAP_PAGE };

		r = buf__put(body, &mh, sizeof(mh));
		return r ? r : buf__put(body, c->runs.v, c->runs.n * sizeof(*c->runs.v));
	}
}

static uint32_t section_type(const struct capture *c, int i)
{
	int n = c->st.nr_vcpus;

	if (i == 0)
		return SNAP_SEC_CONFIG;
	if (i <= n)
		return SNAP_SEC_VCPU;
	if (i == n + 1)
		return SNAP_SEC_DEVICES;
	return i == n + 2 && c->src->foreign ? SNAP_SEC_SLOTS : SNAP_SEC_MEMORY;
}

/*
 * Metadata: header, table, CONFIG, VCPU x n, DEVICES, [SLOTS,] MEMORY. Run offsets
 * depend on the metadata size, which does not depend on them: lay out
 * once with offsets 0 to learn the size, then for real.
 */
static int build_meta(struct capture *c, struct growbuf *b)
{
	int nsec = c->st.nr_vcpus + 3 + c->src->foreign;
	struct snap_section *tab = calloc(nsec, sizeof(*tab));
	struct snap_header h = { .version = SNAP_VERSION, .header_size = sizeof(h),
				 .nr_sections = nsec, .table_offset = sizeof(h),
				 .flags = (c->st.dev.irqchip ? SNAP_HDR_IRQCHIP : 0) |
					  (c->src->foreign ? SNAP_HDR_FOREIGN : 0) };
	struct growbuf body = { 0 };
	int r = tab ? 0 : -ENOMEM;

	memcpy(h.magic, SNAP_MAGIC, 8);
	b->len = 0;
	if (!r)
		r = buf__put(b, &h, sizeof(h));
	if (!r)
		r = buf__put(b, tab, nsec * sizeof(*tab));
	for (int i = 0; i < nsec && !r; i++) {
		r = build_body(c, i, &body);
		if (!r)
			r = put_section(b, &tab[i], section_type(c, i), &body);
	}
	if (!r) {
		memcpy(b->p + sizeof(h), tab, nsec * sizeof(*tab));
		h.table_crc = snapshot__crc32c(0, tab, nsec * sizeof(*tab));
		memcpy(b->p, &h, sizeof(h));
	}
	free(body.p);
	free(tab);
	return r;
}

/* Assign page-aligned file offsets after the metadata; returns the file size. */
static uint64_t layout_runs(struct capture *c, uint64_t meta_len)
{
	uint64_t off = (meta_len + SNAP_PAGE - 1) & ~(SNAP_PAGE - 1);

	for (size_t i = 0; i < c->runs.n; i++) {
		c->runs.v[i].offset = off;
		off += c->runs.v[i].nr_pages * SNAP_PAGE;
	}
	return c->runs.n ? off : meta_len;
}

/*
 * Each run in chunks, straight from RAM where the source maps it: chunks
 * that follow each other in memory go out as one write (fewer, larger
 * requests for the disk). The CRC is of the bytes written: a foreign
 * VMM's own threads (its devices) may still write guest RAM while its
 * vCPUs are frozen, so that source copies each chunk into c->buf, which
 * is written before the next chunk is read.
 */
static int write_run(int fd, struct capture *c, struct snap_run *run)
{
	const struct snapshot_source *src = c->src;
	uint64_t len = run->nr_pages * SNAP_PAGE, span_off = 0, span_len = 0;
	const uint8_t *span = NULL;
	uint32_t crc = 0;
	int r = 0;

	for (uint64_t off = 0; off < len && !r; off += SNAP_CHUNK) {
		uint64_t n = len - off < SNAP_CHUNK ? len - off : SNAP_CHUNK;
		const uint8_t *p;

		if (span && span == c->buf) {
			r = afile__pwrite(fd, span, span_len, run->offset + span_off);
			span = NULL;
			if (r)
				break;
		}
		p = src->ops->ram(src->ctx, run->gpa + off, n, c->buf, &r);
		if (!p)
			return r ? r : -EFAULT;
		crc = snapshot__crc32c(crc, p, n);
		if (span && p == span + span_len && span_len < SPAN_MAX) {
			span_len += n;
			continue;
		}
		if (span)
			r = afile__pwrite(fd, span, span_len, run->offset + span_off);
		span = p;
		span_off = off;
		span_len = n;
	}
	if (!r && span)
		r = afile__pwrite(fd, span, span_len, run->offset + span_off);
	run->crc = crc;
	return r;
}

/* Large runs go to the disk with O_DIRECT: see afile__pwrite(). */
static int write_runs(int fd, struct capture *c)
{
	int r = 0;

	for (size_t i = 0; i < c->runs.n && !r; i++)
		r = write_run(fd, c, &c->runs.v[i]);
	return r;
}

static void fill_config(struct capture *c)
{
	const struct snapshot_meta *m = c->meta;
	size_t ilen = m->image ? strlen(m->image) : 0;

	c->cfg = (struct snap_config){
		.mem_size = c->src->mem_size, .nr_vcpus = c->st.nr_vcpus,
		.entry = m->entry, .created_ns = now_ns(CLOCK_REALTIME),
		.trigger = m->trigger, .trigger_addr = m->trigger_addr,
		.capture_path = c->st.capture_path,
		.image_len = ilen > SNAP_MAX_STR ? 0 : ilen,
		.build_id_len = m->build_id_len > SNAP_MAX_BUILD_ID ? 0 : m->build_id_len,
	};
}

/* World held: capture, lay out, write data and metadata. */
static int write_held(int fd, struct capture *c, uint64_t t0, uint64_t *size_out,
		      const char **step)
{
	const struct snapshot_source *src = c->src;
	struct growbuf meta = { 0 };
	uint64_t size;
	int r;

	*step = "capture of the vCPU state";
	r = src->ops->capture(src->ctx, &c->st);
	if (r)
		return r;
	*step = "scan of guest memory";
	r = scan__ram(src, c->buf, &c->runs);
	if (r)
		return r;
	fill_config(c);
	r = build_meta(c, &meta);
	if (r)
		goto out;
	size = layout_runs(c, meta.len);
	*size_out = size;
	*step = "write";
	r = write_runs(fd, c);
	if (r)
		goto out;
	c->cfg.stopped_ns = now_ns(CLOCK_MONOTONIC) - t0;
	r = build_meta(c, &meta);
	if (r)
		goto out;
	((struct snap_header *)meta.p)->file_size = size;
	((struct snap_header *)meta.p)->header_crc =
		snapshot__crc32c(0, meta.p, sizeof(struct snap_header));
	r = afile__pwrite(fd, meta.p, meta.len, 0);
	if (!r && ftruncate(fd, size))
		r = -errno;
out:
	free(meta.p);
	return r;
}

struct held {
	int fd;
	struct capture *c;
	uint64_t t0, *size;
	const char **step;
};

static int held__write(void *arg)
{
	struct held *h = arg;

	return write_held(h->fd, h->c, h->t0, h->size, h->step);
}

/*
 * Hold, capture and write into the temp file; then fsync and name it
 * (afile__commit). *step says what failed (NULL: a refused target, why
 * says it).
 */
static int write_target(const char *path, struct capture *c, uint64_t *size,
			struct afile *t, const char **step, char *why, size_t why_len)
{
	const struct snapshot_source *src = c->src;
	int r;

	*step = "creation of a temp file";
	r = afile__open(path, t);
	if (r)
		return r;
	*step = "stop of the vCPUs";
	r = src->ops->hold(src->ctx);
	if (!r) {
		struct held h = { t->fd, c, now_ns(CLOCK_MONOTONIC), size, step };

		r = src->ops->held(src->ctx, held__write, &h);
	}
	src->ops->release(src->ctx);
	if (r)
		return r;
	return afile__commit("snapshot", path, t, step, why, why_len);
}

int snapshot__check_target(const char *path, char *err, size_t err_len)
{
	return afile__check_target("snapshot", path, err, err_len);
}

int snapshot__write_from(const struct snapshot_source *src, const char *path,
			 const struct snapshot_meta *m, uint64_t *size, char *err,
			 size_t err_len)
{
	struct capture c = { .src = src, .meta = m };
	struct afile t = { .fd = -1 };
	const char *step = NULL;
	uint64_t dummy;
	char why[512];
	int r;

	r = snapshot__check_target(path, why, sizeof(why));
	if (!r) {
		step = "allocation of the copy buffer";
		void *buf = NULL;

		r = -posix_memalign(&buf, SNAP_PAGE, SNAP_CHUNK);
		c.buf = buf;
	}
	if (!r)
		r = write_target(path, &c, size ? size : &dummy, &t, &step, why, sizeof(why));
	if (r && err && !step)
		snprintf(err, err_len, "%s", why);
	else if (r && err)
		snprintf(err, err_len, "snapshot %s: %s failed: %s; %s", path, step,
			 strerror(-r), access(path, F_OK) ? "no snapshot written" :
			 "the previous snapshot there is untouched");
	afile__discard(&t);
	vm_state__free(&c.st);
	free(c.runs.v);
	free(c.buf);
	return r;
}

int snapshot__write(struct vm *vm, const char *path,
		    const struct snapshot_meta *m, char *err, size_t err_len)
{
	struct vm_source vs = {
		.vm = vm,
		.ram = { .gpa = 0, .size = vm__mem_size(vm) },
	};
	struct snapshot_source src = {
		.ops = &vm_source_ops, .ctx = &vs, .mem_size = vm__mem_size(vm),
		.nr_slots = 1, .slots = &vs.ram,
	};
	int r;

	/* A resumed foreign snapshot lacks state: a new file would fake it. */
	if (vm__inspect_only(vm)) {
		if (err)
			snprintf(err, err_len, "snapshot %s: refused: the VM is %s", path,
				 "a resumed snapshot of another VMM's VM, without the state KVM refuses to another process and without that VMM's devices");
		return -EPERM;
	}
	vm__ram_scan_open(vm, &vs.scan);
	r = snapshot__write_from(&src, path, m, NULL, err, err_len);
	vm__ram_scan_close(&vs.scan);
	return r;
}
