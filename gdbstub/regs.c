// SPDX-License-Identifier: GPL-2.0
/*
 * The register layout: one table drives the 'g'/'G' byte order, the
 * 'p'/'P' numbers, target.xml (whose regnums must equal the table index,
 * or gdb misreads the 'g' packet), lldb's qRegisterInfo and the registers
 * expedited in stop replies. The table follows struct gdb_x86_regs, which
 * follows gdb's amd64 order, so gdb's built-in amd64 knowledge (frame
 * unwinding, $pc/$sp/$fp, the eflags and mxcsr flag types) applies.
 * Optional sets (the AVX upper halves) come last, so a target without
 * them has the same layout minus the tail.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "register bytes are copied as the target (little-endian) has them");

enum reg_feature { F_CORE, F_SSE, F_SEGMENTS, F_SYS, F_AVX };

static const char *const feature_names[] = {
	[F_CORE] = "org.gnu.gdb.i386.core",
	[F_SSE] = "org.gnu.gdb.i386.sse",
	[F_SEGMENTS] = "org.gnu.gdb.i386.segments",
	[F_SYS] = "org.kvmdbg.x86.sys",
	[F_AVX] = "org.gnu.gdb.i386.avx",
};

struct reg_desc {
	const char *name;
	unsigned short bits;
	unsigned short offset;	/* in struct gdb_x86_regs */
	const char *type;	/* gdb tdesc type */
	const char *group;	/* gdb register group, or NULL */
	enum reg_feature feature;
	short dwarf;		/* DWARF / eh_frame number, -1 if none */
	const char *generic;	/* lldb's role: pc, sp, fp, flags */
};

#define OFF(f)		((unsigned short)offsetof(struct gdb_x86_regs, f))
#define GPR(n, i, d)	{ n, 64, OFF(gpr[i]), "int64", NULL, F_CORE, d, NULL }
#define SEG(n, i, d)	{ n, 32, OFF(seg[i]), "int32", NULL, F_CORE, d, NULL }
#define ST(i)		{ "st" #i, 80, OFF(st[i]), "i387_ext", NULL, F_CORE, \
			  33 + i, NULL }
#define FPC(n, d)	{ #n, 32, OFF(n), "int", "float", F_CORE, d, NULL }
#define XMM(i)		{ "xmm" #i, 128, OFF(xmm[i]), "vec128", NULL, F_SSE, \
			  17 + i, NULL }
#define SYS(n)		{ #n, 64, OFF(n), "int", "system", F_SYS, -1, NULL }
/* As gdb's 64bit-avx.xml has them; gdb and lldb build $ymmN from these. */
#define YMMH(i)		{ "ymm" #i "h", 128, OFF(ymmh[i]), "uint128", NULL, \
			  F_AVX, -1, NULL }

static const struct reg_desc regs[] = {
	GPR("rax", 0, 0), GPR("rbx", 1, 3), GPR("rcx", 2, 2),
	GPR("rdx", 3, 1), GPR("rsi", 4, 4), GPR("rdi", 5, 5),
	{ "rbp", 64, OFF(gpr[6]), "data_ptr", NULL, F_CORE, 6, "fp" },
	{ "rsp", 64, OFF(gpr[7]), "data_ptr", NULL, F_CORE, 7, "sp" },
	GPR("r8", 8, 8), GPR("r9", 9, 9), GPR("r10", 10, 10),
	GPR("r11", 11, 11), GPR("r12", 12, 12), GPR("r13", 13, 13),
	GPR("r14", 14, 14), GPR("r15", 15, 15),
	{ "rip", 64, OFF(rip), "code_ptr", NULL, F_CORE, 16, "pc" },
	{ "eflags", 32, OFF(eflags), "i386_eflags", NULL, F_CORE, 49,
	  "flags" },
	SEG("cs", 0, 51), SEG("ss", 1, 52), SEG("ds", 2, 53),
	SEG("es", 3, 50), SEG("fs", 4, 54), SEG("gs", 5, 55),
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
	FPC(fctrl, 65), FPC(fstat, 66), FPC(ftag, -1), FPC(fiseg, -1),
	FPC(fioff, -1), FPC(foseg, -1), FPC(fooff, -1), FPC(fop, -1),
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14),
	XMM(15),
	{ "mxcsr", 32, OFF(mxcsr), "i386_mxcsr", "vector", F_SSE, 64, NULL },
	{ "fs_base", 64, OFF(fs_base), "int", NULL, F_SEGMENTS, 58, NULL },
	{ "gs_base", 64, OFF(gs_base), "int", NULL, F_SEGMENTS, 59, NULL },
	SYS(k_gs_base), SYS(cr0), SYS(cr2), SYS(cr3), SYS(cr4), SYS(cr8),
	SYS(efer),
	YMMH(0), YMMH(1), YMMH(2), YMMH(3), YMMH(4), YMMH(5), YMMH(6),
	YMMH(7), YMMH(8), YMMH(9), YMMH(10), YMMH(11), YMMH(12), YMMH(13),
	YMMH(14), YMMH(15),
};

#define NR_REGS		(sizeof(regs) / sizeof(regs[0]))
#define NR_AVX		16
/* The fixed layout: everything before the optional AVX tail. */
#define NR_BASE		(NR_REGS - NR_AVX)
/* gdb's amd64 regnums, which the stop reply's expedited values use. */
#define REG_RBP		6
#define REG_RSP		7
#define REG_RIP		16

size_t gdb_regs_count(void)
{
	return NR_BASE;
}

static unsigned int reg_sets(const struct gdb_stub *stub)
{
	return stub->ops->reg_sets ? stub->ops->reg_sets(stub->ctx) : 0;
}

/* Registers this target has: the fixed layout plus its optional sets. */
static size_t nr_regs(const struct gdb_stub *stub)
{
	return (reg_sets(stub) & GDB_REGS_AVX) ? NR_REGS : NR_BASE;
}

static size_t regs_bytes(size_t n)
{
	size_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += regs[i].bits / 8;
	return bytes;
}

static void reply_reg(struct gdb_stub *stub, const struct gdb_x86_regs *r,
		      size_t i)
{
	gdb_reply_hex(stub, (const uint8_t *)r + regs[i].offset,
		      regs[i].bits / 8);
}

/* rip, rsp and rbp: enough for gdb to show the frame without a 'g'. */
void gdb_reply_expedited(struct gdb_stub *stub,
			 const struct gdb_x86_regs *r)
{
	static const int exp[] = { REG_RIP, REG_RSP, REG_RBP };

	for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
		gdb_reply_printf(stub, "%02x:", exp[i]);
		reply_reg(stub, r, (size_t)exp[i]);
		gdb_reply_str(stub, ";");
	}
}

/* ---- packets ----------------------------------------------------------- */

static int read_regs(struct gdb_stub *stub, int *tid, struct gdb_x86_regs *r)
{
	*tid = gdb_regs_thread(stub);
	if (*tid < 0)
		return *tid;
	memset(r, 0, sizeof(*r));
	return stub->ops->read_regs(stub->ctx, *tid, r);
}

static int handle_read_all(struct gdb_stub *stub, const struct gdb_args *a)
{
	struct gdb_x86_regs r;
	size_t n = nr_regs(stub);
	int tid, ret;

	(void)a;
	ret = read_regs(stub, &tid, &r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		reply_reg(stub, &r, i);
	return 0;
}

static int handle_write_all(struct gdb_stub *stub, const struct gdb_args *a)
{
	struct gdb_x86_regs r;
	const uint8_t *src = a->data;
	size_t n = nr_regs(stub);
	int tid, ret;

	if (a->len != regs_bytes(n))
		return -EINVAL;
	ret = read_regs(stub, &tid, &r);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		memcpy((uint8_t *)&r + regs[i].offset, src, regs[i].bits / 8);
		src += regs[i].bits / 8;
	}
	ret = stub->ops->write_regs(stub->ctx, tid, &r);
	if (ret < 0)
		return ret;
	gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_read_one(struct gdb_stub *stub, const struct gdb_args *a)
{
	struct gdb_x86_regs r;
	int tid, ret;

	if (a->num[0] >= nr_regs(stub))
		return -EINVAL;
	ret = read_regs(stub, &tid, &r);
	if (ret < 0)
		return ret;
	reply_reg(stub, &r, (size_t)a->num[0]);
	return 0;
}

static int handle_write_one(struct gdb_stub *stub, const struct gdb_args *a)
{
	struct gdb_x86_regs r;
	int tid, ret;

	if (a->num[0] >= nr_regs(stub) || a->len != regs[a->num[0]].bits / 8u)
		return -EINVAL;
	ret = read_regs(stub, &tid, &r);
	if (ret < 0)
		return ret;
	memcpy((uint8_t *)&r + regs[a->num[0]].offset, a->data, a->len);
	ret = stub->ops->write_regs(stub->ctx, tid, &r);
	if (ret < 0)
		return ret;
	gdb_reply_str(stub, "OK");
	return 0;
}

/* ---- target.xml -------------------------------------------------------- */

/* Type definitions gdb's own 64bit-core.xml / 64bit-sse.xml carry. */
static const char xml_core_types[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>\n";

static const char xml_sse_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\">"
	"<field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/>"
	"</union>"
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/>"
	"<field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/>"
	"<field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/>"
	"<field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/>"
	"<field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/>"
	"<field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/>"
	"<field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/>"
	"<field name=\"FZ\" start=\"15\" end=\"15\"/>"
	"</flags>\n";

struct xml_buf {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void xml_add(struct xml_buf *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void xml_add(struct xml_buf *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(x->buf + x->len, x->cap - x->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= x->cap - x->len)
		x->overflow = true;
	else
		x->len += (size_t)n;
}

/*
 * One <reg>. generic= and dwarf_regnum= are lldb's extensions (gdb
 * ignores unknown attributes); they tell lldb which register is the pc
 * without it guessing from names.
 */
static void xml_reg(struct xml_buf *x, size_t i)
{
	const struct reg_desc *r = &regs[i];

	xml_add(x, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%zu\"",
		r->name, r->bits, r->type, i);
	if (r->group)
		xml_add(x, " group=\"%s\"", r->group);
	if (r->dwarf >= 0)
		xml_add(x, " dwarf_regnum=\"%d\"", r->dwarf);
	if (r->generic)
		xml_add(x, " generic=\"%s\"", r->generic);
	xml_add(x, "/>\n");
}

static void xml_feature(struct xml_buf *x, enum reg_feature f, size_t n)
{
	xml_add(x, "<feature name=\"%s\">\n", feature_names[f]);
	if (f == F_CORE)
		xml_add(x, "%s", xml_core_types);
	if (f == F_SSE)
		xml_add(x, "%s", xml_sse_types);
	for (size_t i = 0; i < n; i++) {
		if (regs[i].feature == f)
			xml_reg(x, i);
	}
	xml_add(x, "</feature>\n");
}

static int target_xml(char *buf, size_t cap, size_t n)
{
	struct xml_buf x = { buf, cap, 0, false };

	xml_add(&x, "<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		"<target version=\"1.0\">\n"
		"<architecture>i386:x86-64</architecture>\n");
	for (enum reg_feature f = F_CORE; f <= F_SYS; f++)
		xml_feature(&x, f, n);
	if (n > NR_BASE)
		xml_feature(&x, F_AVX, n);
	xml_add(&x, "</target>\n");
	return x.overflow ? -ENOBUFS : (int)x.len;
}

/* Returns the document's length, or -ENOBUFS when @cap is too small. */
int gdb_target_xml(char *buf, size_t cap)
{
	return target_xml(buf, cap, NR_BASE);
}

static int handle_read_features(struct gdb_stub *stub,
				const struct gdb_args *a)
{
	int ret;

	if (strcmp(a->word, "target.xml") || a->num[1] == 0)
		return -EINVAL;
	if (!stub->xml_len) {
		/* Built on first use: most stubs live through one client. */
		ret = target_xml(stub->xml, GDB_XML_SIZE, nr_regs(stub));
		if (ret < 0)
			return ret;
		stub->xml_len = (size_t)ret;
	}
	gdb_reply_xfer(stub, stub->xml, stub->xml_len, a->num[0], a->num[1]);
	return 0;
}

/* ---- lldb's qRegisterInfo ---------------------------------------------- */

static const char *const set_names[] = {
	[F_CORE] = "General Purpose Registers",
	[F_SSE] = "SSE Registers",
	[F_SEGMENTS] = "General Purpose Registers",
	[F_SYS] = "System Registers",
	[F_AVX] = "Advanced Vector Extensions",
};

static int handle_register_info(struct gdb_stub *stub,
				const struct gdb_args *a)
{
	const struct reg_desc *r;
	bool vec;

	if (a->num[0] >= nr_regs(stub)) {
		/* The end of the list, in debugserver's words. */
		gdb_reply_str(stub, "E45");
		return 0;
	}
	r = &regs[a->num[0]];
	vec = r->bits > 64;
	gdb_reply_printf(stub, "name:%s;bitsize:%u;offset:%u;", r->name,
			 r->bits, r->offset);
	gdb_reply_printf(stub, "encoding:%s;format:%s;set:%s;",
			 vec ? "vector" : "uint", vec ? "vector-uint8" : "hex",
			 r->group && !strcmp(r->group, "float") ?
			 "Floating Point Registers" : set_names[r->feature]);
	if (r->dwarf >= 0)
		gdb_reply_printf(stub, "ehframe:%d;dwarf:%d;", r->dwarf,
				 r->dwarf);
	if (r->generic)
		gdb_reply_printf(stub, "generic:%s;", r->generic);
	return 0;
}

const struct gdb_cmd gdb_regs_cmds[] = {
	{ "g", GDB_EXACT, "", handle_read_all,
	  GDB_CMD_THREAD_SUFFIX | GDB_CMD_STOPPED },
	{ "G", GDB_PREFIX, "X", handle_write_all,
	  GDB_CMD_THREAD_SUFFIX | GDB_CMD_STOPPED },
	{ "p", GDB_PREFIX, "L", handle_read_one,
	  GDB_CMD_THREAD_SUFFIX | GDB_CMD_STOPPED },
	{ "P", GDB_PREFIX, "L=X", handle_write_one,
	  GDB_CMD_THREAD_SUFFIX | GDB_CMD_STOPPED },
	{ "qXfer:features:read:", GDB_PREFIX, "W:L,L", handle_read_features, 0 },
	{ "qRegisterInfo", GDB_PREFIX, "L", handle_register_info, 0 },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
