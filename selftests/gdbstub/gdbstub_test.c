// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the gdbstub protocol core: byte streams in, exact bytes
 * out, against the fake backend (fake_backend.c) that records every call.
 * Each test gets a fresh stub with 4 threads, in ack mode.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/gdbstub.h"
#include "selftests/gdbstub/fake_backend.h"
#include "selftests/gdbstub/tap.h"

static struct fake fk;
static struct gdb_stub *stub;
static char out[2 * GDB_PACKET_SIZE + 64];
static size_t out_len;
static int last_ret;

static int capture(void *arg, const void *buf, size_t len)
{
	(void)arg;
	if (len > sizeof(out) - 1 - out_len)
		len = sizeof(out) - 1 - out_len;
	memcpy(out + out_len, buf, len);
	out_len += len;
	out[out_len] = '\0';
	return 0;
}

static void setup(void)
{
	fake_init(&fk, 4);
	stub = gdb_stub_new(&fake_ops, &fk);
	if (!stub) {
		printf("Bail out! gdb_stub_new: %s\n", strerror(errno));
		exit(1);
	}
	gdb_stub_set_output(stub, capture, NULL);
}

static void teardown(void)
{
	gdb_stub_free(stub);
	stub = NULL;
}

/* Feed raw bytes; returns everything the stub wrote in response. */
static const char *feed(const void *buf, size_t len)
{
	out_len = 0;
	out[0] = '\0';
	last_ret = gdb_stub_input(stub, buf, len);
	return out;
}

static const char *feeds(const char *s)
{
	return feed(s, strlen(s));
}

static uint8_t checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* "$payload#cs" of a payload that may hold any byte (already escaped). */
static const char *frame_bin(const void *payload, size_t len, size_t *flen)
{
	static char buf[2 * GDB_PACKET_SIZE];

	buf[0] = '$';
	memcpy(buf + 1, payload, len);
	snprintf(buf + 1 + len, 4, "#%02x", checksum(payload, len));
	*flen = len + 4;
	return buf;
}

static const char *exchange_bin(const void *payload, size_t len)
{
	size_t flen;
	const char *f = frame_bin(payload, len, &flen);

	return feed(f, flen);
}

static const char *exchange(const char *payload)
{
	return exchange_bin(payload, strlen(payload));
}

/* The payload of the one reply in out, after its '+'; checks framing. */
static const char *payload_of(const char *o)
{
	static char buf[GDB_PACKET_SIZE + 1];
	const char *hash;
	size_t len;

	if (*o == '+')
		o++;
	hash = strrchr(o, '#');
	if (*o != '$' || !hash || strlen(hash) != 3)
		return "<no packet>";
	len = (size_t)(hash - o - 1);
	if (strtoul(hash + 1, NULL, 16) != checksum(o + 1, len))
		return "<bad checksum>";
	memcpy(buf, o + 1, len);
	buf[len] = '\0';
	return buf;
}

/* The framed form of a payload, as the stub sends it (no ack). */
static const char *framed(const char *payload)
{
	static char buf[4][4096];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "$%s#%02x", payload,
		 checksum(payload, strlen(payload)));
	return b;
}

static const char *reply(const char *payload)
{
	return payload_of(exchange(payload));
}

static const char *le64(uint64_t v)
{
	static char buf[4][17];
	static int i;
	char *b = buf[i++ % 4];

	for (int k = 0; k < 8; k++)
		snprintf(b + 2 * k, 3, "%02x", (unsigned int)(v >> (8 * k)) & 0xff);
	return b;
}

static const char *hexstr(const char *s)
{
	static char bufs[4][4096];
	static int i;
	char *buf = bufs[i++ % 4];

	buf[0] = '\0';
	for (size_t i = 0; s[i] && 2 * i + 3 < sizeof(bufs[0]); i++)
		snprintf(buf + 2 * i, 3, "%02x", (unsigned char)s[i]);
	return buf;
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char buf[4][1024];
	static int i;
	char *b = buf[i++ % 4];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

static void resume_all(void)
{
	exchange("vCont;c");
}

static void stop(enum gdb_stop_reason reason, int thread, int sig,
		 uint64_t addr)
{
	struct gdb_stop s = { reason, thread, sig, addr, 0 };

	out_len = 0;
	out[0] = '\0';
	gdb_stub_stopped(stub, &s);
}

/* Expected stop reply tail: rip, rsp, rbp of thread t. */
static const char *expedited(int t)
{
	const struct gdb_x86_regs *r = &fk.regs[t - 1];

	return fmt("10:%s;07:%s;06:%s;", le64(r->rip), le64(r->gpr[7]),
		   le64(r->gpr[6]));
}

/* ---- framing ----------------------------------------------------------- */

TEST(ack_then_reply_in_one_write)
{
	CHECK_STR(feeds("$qC#b4"), "+$QC1#c5");
}

TEST(bad_checksum_is_naked)
{
	CHECK_STR(feeds("$qC#00"), "-");
}

TEST(non_hex_checksum_is_naked)
{
	CHECK_STR(feeds("$qC#zz"), "-");
}

TEST(nak_retransmits_last_reply)
{
	feeds("$qC#b4");
	CHECK_STR(feeds("-"), "$QC1#c5");
}

TEST(nak_before_any_reply_sends_nothing)
{
	CHECK_STR(feeds("-"), "");
}

TEST(plus_ack_is_silent)
{
	feeds("$qC#b4");
	CHECK_STR(feeds("+"), "");
}

TEST(no_ack_mode_ok_is_acked)
{
	CHECK_STR(exchange("QStartNoAckMode"), "+$OK#9a");
}

TEST(no_ack_mode_later_replies_unacked)
{
	exchange("QStartNoAckMode");
	CHECK_STR(feeds("$qC#b4"), "$QC1#c5");
}

TEST(no_ack_mode_bad_checksum_dropped)
{
	exchange("QStartNoAckMode");
	CHECK_STR(feeds("$qC#00"), "");
}

TEST(no_ack_mode_nak_ignored)
{
	exchange("QStartNoAckMode");
	feeds("$qC#b4");
	CHECK_STR(feeds("-"), "");
}

TEST(garbage_between_packets_skipped)
{
	CHECK_STR(feeds("xyz\r\n#12}*$qC#b4"), "+$QC1#c5");
}

TEST(truncated_packet_dropped_at_next_dollar)
{
	CHECK_STR(feeds("$qfThreadIn$qC#b4"), "+$QC1#c5");
}

TEST(truncated_checksum_dropped_at_next_dollar)
{
	CHECK_STR(feeds("$qC#b$qC#b4"), "+$QC1#c5");
}

TEST(packet_split_across_calls)
{
	CHECK_STR(feeds("$q"), "");
	CHECK_STR(feeds("C#b"), "");
	CHECK_STR(feeds("4"), "+$QC1#c5");
}

TEST(two_packets_in_one_call)
{
	CHECK_STR(feeds("$qC#b4$qC#b4"), "+$QC1#c5+$QC1#c5");
}

TEST(oversized_packet_answered_e22)
{
	size_t len = GDB_PACKET_SIZE + 100;
	char *p = malloc(len);

	memset(p, '0', len);
	p[0] = 'M';
	CHECK_STR(payload_of(exchange_bin(p, len)), "E22");
	CHECK_INT(fk.n_write_mem, 0);
	free(p);
}

TEST(stub_works_after_oversized_packet)
{
	size_t len = GDB_PACKET_SIZE + 1;
	char *p = malloc(len);

	memset(p, 'a', len);
	exchange_bin(p, len);
	CHECK_STR(reply("qC"), "QC1");
	free(p);
}

TEST(packet_of_exactly_packet_size_accepted)
{
	/* "M0400000,LEN:" + hex filling the payload to GDB_PACKET_SIZE. */
	size_t n = (GDB_PACKET_SIZE - 14) / 2;
	char head[32];
	size_t hlen = (size_t)snprintf(head, sizeof(head), "M0400000,%zx:", n);
	size_t len = GDB_PACKET_SIZE;
	char *p = malloc(len);

	CHECK_INT(hlen + 2 * n, GDB_PACKET_SIZE);
	memcpy(p, head, hlen);
	memset(p + hlen, 'e', len - hlen);
	CHECK_STR(payload_of(exchange_bin(p, len)), "OK");
	CHECK_INT(fk.mem[0], 0xee);
	CHECK_INT(fk.mem[n - 1], 0xee);
	CHECK_INT(fk.mem[n], n & 0xff);
	free(p);
}

TEST(escapes_decoded_in_x_payload)
{
	/* '#', '$', '}' and '*' escaped as '}' + (byte ^ 0x20). */
	static const char pkt[] = "X400010,4:}\x03}\x04}\x5d}\x0a";

	CHECK_STR(payload_of(exchange_bin(pkt, sizeof(pkt) - 1)), "OK");
	CHECK_INT(fk.mem[0x10], '#');
	CHECK_INT(fk.mem[0x11], '$');
	CHECK_INT(fk.mem[0x12], '}');
	CHECK_INT(fk.mem[0x13], '*');
}

TEST(run_length_input_expanded)
{
	/* "0*\"" is '0' plus 5 ('"' - 29) more: six zeros, three bytes. */
	CHECK_STR(reply("M400020,3:0*\""), "OK");
	CHECK_INT(fk.mem[0x20], 0);
	CHECK_INT(fk.mem[0x22], 0);
	CHECK_INT(fk.mem[0x23], 0x23);
}

TEST(ctrl_c_interrupts_running_target)
{
	resume_all();
	feeds("\x03");
	CHECK_INT(fk.n_interrupt, 1);
}

TEST(ctrl_c_ignored_when_stopped)
{
	CHECK_STR(feeds("\x03"), "");
	CHECK_INT(fk.n_interrupt, 0);
}

TEST(ctrl_c_inside_packet_is_data)
{
	CHECK_STR(reply("qC\x03"), "");
	CHECK_INT(fk.n_interrupt, 0);
}

TEST(unknown_packet_empty_reply)
{
	CHECK_STR(exchange("vMustReplyEmpty"), "+$#00");
}

TEST(empty_packet_empty_reply)
{
	CHECK_STR(feeds("$#00"), "+$#00");
}

/* ---- general queries --------------------------------------------------- */

TEST(qsupported_reply)
{
	CHECK_STR(reply("qSupported:multiprocess+;swbreak+;hwbreak+"),
		  "PacketSize=20000;qXfer:features:read+;qXfer:threads:read+;"
		  "QStartNoAckMode+;"
		  "vContSupported+;swbreak+;hwbreak+;QNonStop+;binary-upload+");
}

TEST(qsupported_without_features)
{
	CHECK_STR(reply("qSupported"),
		  "PacketSize=20000;qXfer:features:read+;qXfer:threads:read+;"
		  "QStartNoAckMode+;"
		  "vContSupported+;swbreak+;hwbreak+;QNonStop+;binary-upload+");
}

TEST(qnonstop_0_ok)
{
	CHECK_STR(reply("QNonStop:0"), "OK");
}

TEST(qnonstop_1_refused_with_text)
{
	CHECK_STR(reply("QNonStop:1"),
		  "E.non-stop mode is not supported: kvmdbg-launch is an "
		  "all-stop stub; use 'set non-stop off'");
}

TEST(qnonstop_bad_argument_e22)
{
	CHECK_STR(reply("QNonStop:2"), "E22");
	CHECK_STR(reply("QNonStop:"), "E22");
}

/* A slid kernel: the first segment's new address, for every section. */
TEST(qoffsets_segment)
{
	fk.text_seg = 0xffffffff87c00000ULL;
	CHECK_STR(reply("qOffsets"), "TextSeg=ffffffff87c00000");
	fk.text_seg = 0;
}

TEST(qhostinfo)
{
	CHECK_STR(reply("qHostInfo"),
		  fmt("triple:%s;ptrsize:8;endian:little;",
		      hexstr("x86_64-unknown-none-elf")));
}

TEST(qprocessinfo)
{
	CHECK_STR(reply("qProcessInfo"),
		  fmt("pid:1;triple:%s;ptrsize:8;endian:little;",
		      hexstr("x86_64-unknown-none-elf")));
}

/* ---- threads ----------------------------------------------------------- */

TEST(qfthreadinfo_max_threads_one_reply)
{
	char want[8192] = "m";

	fk.nr_threads = GDB_MAX_THREADS;
	for (int t = 1; t <= GDB_MAX_THREADS; t++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 t > 1 ? ",%x" : "%x", t);
	CHECK_STR(reply("qfThreadInfo"), want);
}

TEST(qthreadextrainfo_hex)
{
	CHECK_STR(reply("qThreadExtraInfo,2"), hexstr("vCPU 1 halted"));
}

static const char threads_xml[] =
	"<?xml version=\"1.0\"?>\n<threads>\n"
	"<thread id=\"1\">vCPU 0 halted</thread>\n"
	"<thread id=\"2\">vCPU 1 halted</thread>\n"
	"<thread id=\"3\">vCPU 2 halted</thread>\n"
	"<thread id=\"4\">vCPU 3 halted</thread>\n"
	"</threads>\n";

TEST(qxfer_threads_one_chunk)
{
	CHECK_STR(reply("qXfer:threads:read::0,ffb"), fmt("l%s", threads_xml));
}

TEST(qxfer_threads_paged)
{
	char doc[1024] = "";
	const char *r;
	size_t off = 0;

	do {
		r = reply(fmt("qXfer:threads:read::%zx,10", off));
		strncat(doc, r + 1, sizeof(doc) - strlen(doc) - 1);
		off += strlen(r + 1);
	} while (r[0] == 'm' && off < sizeof(doc));
	CHECK_INT(r[0], 'l');
	CHECK_STR(doc, threads_xml);
}

TEST(qxfer_threads_escapes_xml)
{
	fk.nr_threads = 1;
	fk.thread_text = "a<b>&c";
	CHECK_STR(reply("qXfer:threads:read::0,ffb"),
		  "l<?xml version=\"1.0\"?>\n<threads>\n"
		  "<thread id=\"1\">a&lt;b&gt;&amp;c</thread>\n</threads>\n");
}

/* ---- registers --------------------------------------------------------- */

#define REGS_BYTES	608	/* gdb's amd64 set + fs/gs_base + 7 system */

TEST(g_reply_layout)
{
	const char *r = reply("g");

	CHECK_INT(strlen(r), 2 * REGS_BYTES);
	CHECK(!strncmp(r, le64(0x1111), 16));			/* rax */
	CHECK(!strncmp(r + 7 * 16, le64(0x7ff000), 16));	/* rsp */
	CHECK(!strncmp(r + 16 * 16, le64(0x401000), 16));	/* rip */
	CHECK(!strncmp(r + 17 * 16, "02020000", 8));		/* eflags */
	CHECK(!strncmp(r + 17 * 16 + 8, "08000000", 8));	/* cs */
	/* fs_base right after mxcsr, then gs_base, k_gs_base, cr0, cr2, cr3 */
	CHECK(!strncmp(r + 2 * (REGS_BYTES - 9 * 8), le64(0xf5001), 16));
	CHECK(!strncmp(r + 2 * (REGS_BYTES - 4 * 8), le64(0x3001), 16));
	CHECK(!strncmp(r + 2 * (REGS_BYTES - 8), le64(0xd01), 16)); /* efer */
}

TEST(g_with_arguments_is_unknown)
{
	CHECK_STR(reply("gzz"), "");
	CHECK_INT(fk.n_read_regs, 0);
}

TEST(g_reads_hg_thread)
{
	reply("Hg3");
	CHECK(!strncmp(reply("g") + 16 * 16, le64(0x401200), 16));
	CHECK_INT(fk.last_regs_thread, 3);
}

TEST(g_read_error_reported)
{
	fk.read_regs_ret = -EIO;
	CHECK_STR(reply("g"), "E05");
}

TEST(g_roundtrip_through_G)
{
	char g[2 * REGS_BYTES + 2] = "G";

	strcat(g, reply("g"));
	memcpy(g + 1, le64(0xabcdef), 16);		/* rax */
	CHECK_STR(reply(g), "OK");
	CHECK_INT(fk.regs[0].gpr[0], 0xabcdef);
	CHECK_INT(fk.regs[0].rip, 0x401000);
	CHECK_INT(fk.regs[0].cr3, 0x3001);
}

TEST(G_wrong_length_e22)
{
	CHECK_STR(reply("G0011"), "E22");
	CHECK_INT(fk.n_write_regs, 0);
}

TEST(G_non_hex_e22)
{
	char g[2 * REGS_BYTES + 2] = "G";

	memset(g + 1, 'z', 2 * REGS_BYTES);
	CHECK_STR(reply(g), "E22");
	CHECK_INT(fk.n_write_regs, 0);
}

TEST(p_rip)
{
	CHECK_STR(reply("p10"), le64(0x401000));
}

TEST(p_cr3_and_fs_base)
{
	CHECK_STR(reply("p3e"), le64(0x3001));		/* cr3 = 62 */
	CHECK_STR(reply("p39"), le64(0xf5001));		/* fs_base = 57 */
}

TEST(p_past_last_register_e22)
{
	CHECK_STR(reply("p41"), le64(0xd01));		/* efer = 65 */
	CHECK_STR(reply("p42"), "E22");
}

TEST(P_writes_one_register)
{
	CHECK_STR(reply(fmt("P10=%s", le64(0x402000))), "OK");
	CHECK_INT(fk.regs[0].rip, 0x402000);
	CHECK_INT(fk.regs[0].gpr[0], 0x1111);
}

TEST(P_wrong_size_e22)
{
	CHECK_STR(reply("P10=1234"), "E22");
	CHECK_INT(fk.n_write_regs, 0);
}

TEST(thread_suffix_selects_thread)
{
	CHECK_STR(reply("QThreadSuffixSupported"), "OK");
	CHECK_STR(reply("p10;thread:2;"), le64(0x401100));
	CHECK_STR(reply("p10;thread:0003;"), le64(0x401200));
	CHECK(!strncmp(reply("g;thread:4;") + 16 * 16, le64(0x401300), 16));
}

TEST(thread_suffix_bad_thread)
{
	reply("QThreadSuffixSupported");
	CHECK_STR(reply("p10;thread:9;"), "E03");
	CHECK_STR(reply("p10;thread:zz;"), "E22");
}

TEST(qregisterinfo_rax)
{
	CHECK_STR(reply("qRegisterInfo0"),
		  "name:rax;bitsize:64;offset:0;encoding:uint;format:hex;"
		  "set:General Purpose Registers;ehframe:0;dwarf:0;");
}

TEST(qregisterinfo_rip_generic_pc)
{
	CHECK_STR(reply("qRegisterInfo10"),
		  "name:rip;bitsize:64;offset:128;encoding:uint;format:hex;"
		  "set:General Purpose Registers;ehframe:16;dwarf:16;"
		  "generic:pc;");
}

/* Read target.xml in chunks of @chunk, as a client pages through it. */
static char *read_target_xml(unsigned int chunk)
{
	static char xml[32768];
	size_t len = 0;

	for (int i = 0; i < 10000; i++) {
		const char *r = reply(fmt("qXfer:features:read:target.xml:%zx,%x",
					  len, chunk));

		if ((r[0] != 'm' && r[0] != 'l') || strlen(r + 1) > chunk ||
		    len + strlen(r + 1) >= sizeof(xml))
			return NULL;
		memcpy(xml + len, r + 1, strlen(r + 1));
		len += strlen(r + 1);
		xml[len] = '\0';
		if (r[0] == 'l')
			return xml;
	}
	return NULL;
}

TEST(target_xml_paged)
{
	char *xml = read_target_xml(0x100);

	CHECK(xml != NULL);
	if (!xml)
		return;
	CHECK(!strncmp(xml, "<?xml version=\"1.0\"?>", 21));
	CHECK(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
	CHECK(strstr(xml, "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\""));
	CHECK(strstr(xml, "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" regnum=\"56\""));
	CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.i386.segments\">\n<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\""));
	CHECK(strstr(xml, "<reg name=\"cr3\" bitsize=\"64\" type=\"int\" regnum=\"62\""));
	CHECK(strstr(xml, "<reg name=\"efer\" bitsize=\"64\" type=\"int\" regnum=\"65\""));
	CHECK(!strcmp(xml + strlen(xml) - 10, "</target>\n"));
}

TEST(target_xml_same_in_any_chunk_size)
{
	char *a = read_target_xml(0x7), *copy;

	CHECK(a != NULL);
	if (!a)
		return;
	copy = strdup(a);
	CHECK_STR(read_target_xml(0xffff), copy);
	free(copy);
}

/* ---- memory ------------------------------------------------------------ */

TEST(m_reads_hex)
{
	CHECK_STR(reply("m400010,4"), "10111213");
	CHECK_INT(fk.last_mem_phys, 0);
}

/* Replies to 'm' are run-length encoded: "c*N" repeats c N-29 more times. */
TEST(m_run_length_encodes_runs)
{
	CHECK_STR(reply("M400000,10:00000000000000000000000000000000"), "OK");
	CHECK_STR(reply("m400000,10"), "0*<");		/* 1 + 31 zeros */
	CHECK_STR(reply("m400000,3"), "0*\"");		/* 1 + 5 */
	CHECK_STR(reply("m400000,1"), "00");		/* too short to pay */
}

/* Counts 6 and 7 would be '#' and '$', which end or start a packet. */
TEST(m_run_length_avoids_hash_and_dollar)
{
	CHECK_STR(reply("M400000,5:0000000001"), "OK");
	CHECK_STR(reply("m400000,4"), "0*\"00");	/* 8 zeros: 6 + 2 */
	CHECK_STR(reply("M400000,4:00000001"), "OK");
	CHECK_STR(reply("m400000,4"), "0*\"01");	/* 7 zeros: 6 + 1 */
	CHECK_STR(reply("m400000,5"), "0*\"0101");	/* 7 zeros, then 01 01 */
}

TEST(m_uses_hg_thread)
{
	reply("Hg2");
	reply("m400010,4");
	CHECK_INT(fk.last_mem_thread, 2);
}

TEST(m_partial_read_at_end)
{
	CHECK_STR(reply(fmt("m%llx,10",
			    (unsigned long long)FAKE_VBASE + FAKE_MEM_SIZE - 2)),
		  "feff");
}

TEST(m_clamped_to_half_packet)
{
	const char *r = reply(fmt("m%llx,100000", (unsigned long long)FAKE_VBASE));

	CHECK_INT(strlen(r), GDB_PACKET_SIZE);
	CHECK(!strncmp(r, "00010203", 8));
}

TEST(m_zero_length_empty)
{
	CHECK_STR(reply("m400000,0"), "");
	CHECK_INT(fk.n_read_mem, 0);
}

TEST(m_non_hex_e22)
{
	CHECK_STR(reply("mzz,4"), "E22");
	CHECK_STR(reply("m400000,zz"), "E22");
	CHECK_STR(reply("m400000"), "E22");
	CHECK_STR(reply("m400000,4,"), "E22");
	CHECK_STR(reply("m11112222333344445,4"), "E22");
	CHECK_INT(fk.n_read_mem, 0);
}

TEST(M_writes_hex)
{
	CHECK_STR(reply("M400010,2:abcd"), "OK");
	CHECK_INT(fk.mem[0x10], 0xab);
	CHECK_INT(fk.mem[0x11], 0xcd);
	CHECK_INT(fk.mem[0x12], 0x12);
}

TEST(M_partial_write_e14)
{
	CHECK_STR(reply(fmt("M%llx,2:abcd",
			    (unsigned long long)FAKE_VBASE + FAKE_MEM_SIZE - 1)),
		  "E14");
}

TEST(M_bad_data_e22)
{
	CHECK_STR(reply("M400010,2:abc"), "E22");
	CHECK_STR(reply("M400010,2:abcdef"), "E22");
	CHECK_STR(reply("M400010,2:zzzz"), "E22");
	CHECK_STR(reply("Mzz,2:abcd"), "E22");
	CHECK_STR(reply("M400010,2"), "E22");
	CHECK_INT(fk.n_write_mem, 0);
}

TEST(X_writes_binary)
{
	static const char pkt[] = "X400030,3:\x00\xff\x03";

	CHECK_STR(payload_of(exchange_bin(pkt, sizeof(pkt) - 1)), "OK");
	CHECK_INT(fk.mem[0x30], 0);
	CHECK_INT(fk.mem[0x31], 0xff);
	CHECK_INT(fk.mem[0x32], 3);
}

TEST(X_zero_length_probe_ok)
{
	CHECK_STR(reply("X400000,0:"), "OK");
	CHECK_INT(fk.n_write_mem, 0);
}

TEST(X_bad_e22)
{
	CHECK_STR(reply("X400000,4:ab"), "E22");
	CHECK_STR(reply("Xzz,1:a"), "E22");
	CHECK_STR(reply("X400000,1"), "E22");
	CHECK_INT(fk.n_write_mem, 0);
}

/* ---- x: binary reads --------------------------------------------------- */

/*
 * The unescaped payload of the one reply in out (which may hold any
 * byte), after checking its framing and checksum and that no '#', '$' or
 * '*' appears raw in it; NULL when any of that is wrong.
 */
static const uint8_t *binary_payload(size_t *len)
{
	static uint8_t buf[GDB_PACKET_SIZE];
	const char *o = out;
	size_t n = out_len, w = 0;

	if (n && *o == '+')
		o++, n--;
	if (n < 4 || o[0] != '$' || o[n - 3] != '#' ||
	    strtoul(o + n - 2, NULL, 16) != checksum(o + 1, n - 4))
		return NULL;
	for (size_t i = 1; i < n - 3; i++) {
		uint8_t c = (uint8_t)o[i];

		if (c == '#' || c == '$' || c == '*')
			return NULL;
		if (c == '}') {
			if (++i == n - 3)
				return NULL;
			c = (uint8_t)(o[i] ^ 0x20);
		}
		buf[w++] = c;
	}
	*len = w;
	return buf;
}

/* The raw payload length of the one reply in out (escaped, unframed). */
static size_t raw_payload_len(void)
{
	return out_len - (out[0] == '+') - 4;
}

/* x at FAKE_VBASE + @off: the reply must be @prefix then mem[off..+want). */
static void check_x(uint64_t off, uint64_t len, const char *prefix,
		    size_t want)
{
	size_t plen = strlen(prefix), n = 0;
	const uint8_t *p;

	exchange(fmt("x%llx,%llx", (unsigned long long)(FAKE_VBASE + off),
		     (unsigned long long)len));
	p = binary_payload(&n);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_INT(n, plen + want);
	CHECK(n >= plen && !memcmp(p, prefix, plen));
	CHECK(n == plen + want && !memcmp(p + plen, fk.mem + off, want));
}

TEST(x_reads_binary_after_b)
{
	check_x(0x10, 4, "b", 4);
	CHECK_STR(payload_of(exchange("x400010,4")), "b\x10\x11\x12\x13");
	CHECK_INT(fk.last_mem_phys, 0);
}

TEST(x_escapes_every_special_byte)
{
	static const char want[] = "$b}\x03}\x04}\x5d}\x0a\x22\x25\x7c\x2b";
	static const uint8_t bytes[] = { '#', '$', '}', '*',
					 0x22, 0x25, 0x7c, 0x2b };

	memcpy(fk.mem + 0x100, bytes, sizeof(bytes));
	exchange("x400100,8");
	CHECK_INT(out_len, 1 + sizeof(want) - 1 + 3);
	CHECK(!memcmp(out + 1, want, sizeof(want) - 1));
	check_x(0x100, 8, "b", 8);
	/* Each one at every offset of a word, amid plain bytes. */
	for (int k = 0; k < 4; k++) {
		for (int pos = 0; pos < 24; pos++) {
			memset(fk.mem + 0x100, 'A', 32);
			fk.mem[0x100 + pos] = bytes[k];
			check_x(0x100, 32, "b", 32);
			CHECK_INT(raw_payload_len(), 1 + 33);
		}
	}
}

TEST(x_every_byte_value_round_trips)
{
	for (int i = 0; i < 256; i++)
		fk.mem[0x200 + i] = (uint8_t)(255 - i);
	check_x(0x200, 256, "b", 256);
	CHECK_INT(raw_payload_len(), 1 + 256 + 4);	/* 4 escapes */
}

TEST(x_zero_length_is_b)
{
	CHECK_STR(reply("x400000,0"), "b");
	CHECK_STR(reply("x1000,0"), "b");
	CHECK_INT(fk.n_read_mem, 0);
}

TEST(x_one_byte)
{
	check_x(0x7d, 1, "b", 1);
	CHECK_STR(payload_of(exchange("x40007d,1")), "b}]");
}

/* Room for PacketSize - 1 plain bytes after the 'b': all of them come. */
TEST(x_reply_of_exactly_packet_size)
{
	memset(fk.mem, 'A', GDB_PACKET_SIZE);
	check_x(0, GDB_PACKET_SIZE - 1, "b", GDB_PACKET_SIZE - 1);
	CHECK_INT(raw_payload_len(), GDB_PACKET_SIZE);
	/* One escape among them: the last byte no longer fits. */
	fk.mem[10] = '}';
	check_x(0, GDB_PACKET_SIZE - 1, "b", GDB_PACKET_SIZE - 2);
	CHECK_INT(raw_payload_len(), GDB_PACKET_SIZE);
	/* The last byte needs an escape and only one slot is left. */
	fk.mem[10] = 'A';
	fk.mem[GDB_PACKET_SIZE - 2] = '#';
	check_x(0, GDB_PACKET_SIZE - 1, "b", GDB_PACKET_SIZE - 2);
	CHECK_INT(raw_payload_len(), GDB_PACKET_SIZE - 1);
}

/* Asked for more than a packet holds: as many as fit, a partial read. */
TEST(x_max_length_fills_the_packet)
{
	size_t fit = 0, used = 1;	/* the 'b' */

	/* mem[i] = i & 0xff: 4 bytes in 256 need an escape. */
	while (fit < FAKE_MEM_SIZE) {
		uint8_t c = fk.mem[fit];
		size_t w = c == '#' || c == '$' || c == '}' || c == '*' ? 2 : 1;

		if (used + w > GDB_PACKET_SIZE)
			break;
		used += w;
		fit++;
	}
	check_x(0, 0xffffffffffffffffULL, "b", fit);
	CHECK_INT(raw_payload_len(), used);
	CHECK_INT(fk.n_read_mem, 1);
}

TEST(x_partial_read_at_end)
{
	check_x(FAKE_MEM_SIZE - 2, 0x10, "b", 2);
}

TEST(x_unreadable_e14)
{
	CHECK_STR(reply("x1000,4"), "E14");
	CHECK_STR(reply(fmt("x%llx,1", (unsigned long long)FAKE_VBASE +
			    FAKE_MEM_SIZE)), "E14");
}

TEST(x_malformed_e22_and_serving_goes_on)
{
	static const char *const bad[] = {
		"x", "xzz,4", "x400000", "x400000,", "x400000,zz",
		"x400000,4,", "x400000,4:", "x,4", "x11112222333344445,4",
		"x400000,11112222333344445", "x-1,4",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_check_str(__FILE__, __LINE__, bad[i], reply(bad[i]), "E22");
	CHECK_INT(fk.n_read_mem, 0);
	check_x(0x10, 4, "b", 4);
}

TEST(x_while_running_e16)
{
	resume_all();
	CHECK_STR(reply("x400000,4"), "E16");
	CHECK_INT(fk.n_read_mem, 0);
}

TEST(x_uses_phys_mode)
{
	reply(fmt("qRcmd,%s", hexstr("phys on")));
	CHECK_STR(payload_of(exchange(fmt("x%llx,2",
		  (unsigned long long)FAKE_PBASE + 4))), "b\x04\x05");
	CHECK_INT(fk.last_mem_phys, 1);
}

/* lldb 14's probe, then its dialect: the data without the 'b'. */
TEST(x_lldb_probe_ok_then_no_b)
{
	CHECK_STR(reply("x0,0"), "OK");
	CHECK_INT(fk.n_read_mem, 0);
	check_x(0x10, 4, "", 4);
	CHECK_STR(reply("x400000,0"), "OK");
	memset(fk.mem, 'A', GDB_PACKET_SIZE);
	check_x(0, GDB_PACKET_SIZE, "", GDB_PACKET_SIZE);
}

TEST(x_lldb_dialect_ends_with_the_client)
{
	reply("x0,0");
	gdb_stub_reset(stub);
	check_x(0x10, 4, "b", 4);
}

/* What lldb would take for "OK", an ack, a nak or an error is cut short. */
TEST(x_lldb_never_sends_what_looks_like_a_reply)
{
	static const struct { const char *mem; uint64_t len; size_t want; } c[] = {
		{ "OKz", 2, 1 }, { "OKz", 3, 3 },
		{ "E1fz", 3, 2 }, { "E1f;ab", 6, 2 }, { "E1f;abz", 7, 7 },
		{ "E1f;", 4, 2 }, { "E1fx", 4, 4 }, { "Ezz", 3, 3 },
		{ "+z", 1, 2 }, { "-z", 1, 2 }, { "+z", 2, 2 }, { "Az", 1, 1 },
	};

	reply("x0,0");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memcpy(fk.mem + 0x300, c[i].mem, strlen(c[i].mem));
		check_x(0x300, c[i].len, "", c[i].want);
	}
	/* A lone '+' with nothing readable after it cannot be sent. */
	fk.mem[FAKE_MEM_SIZE - 1] = '+';
	CHECK_STR(reply(fmt("x%llx,1", (unsigned long long)FAKE_VBASE +
			    FAKE_MEM_SIZE - 1)), "E14");
}

TEST(x_lldb_dialect_survives_restart)
{
	reply("!");
	reply("x0,0");
	exchange("vRun;");
	CHECK_STR(fk.restart_session, "ack=1;noack=0;ext=1;swbreak=0;"
		  "hwbreak=0;tsuffix=0;lthreads=0;reply=1;xlldb=1");
	gdb_stub_reset(stub);
	CHECK_INT(gdb_stub_resume_session(stub, fk.restart_session), 0);
	check_x(0x10, 4, "", 4);
}

/* ---- m: the one-pass hex + run-length encoder against a reference ------ */

/* The encoder as it was: hex, then run-length encoding in place. */
static size_t ref_hex_rle(char *dst, const uint8_t *src, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	size_t n = 2 * len, r = 0, w = 0;

	for (size_t i = 0; i < len; i++) {
		dst[2 * i] = hx[src[i] >> 4];
		dst[2 * i + 1] = hx[src[i] & 0xf];
	}
	while (r < n) {
		size_t run = 1;

		while (r + run < n && dst[r + run] == dst[r] && run < 98)
			run++;
		if (run - 1 == 6 || run - 1 == 7)
			run = 6;
		dst[w++] = dst[r];
		if (run >= 4) {
			dst[w++] = '*';
			dst[w++] = (char)(run - 1 + 29);
		} else {
			for (size_t i = 1; i < run; i++)
				dst[w++] = dst[r];
		}
		r += run;
	}
	dst[w] = '\0';
	return w;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void check_m_against_reference(size_t off, size_t len)
{
	static char want[GDB_PACKET_SIZE + 1];

	ref_hex_rle(want, fk.mem + off, len);
	exchange(fmt("m%llx,%zx", (unsigned long long)(FAKE_VBASE + off), len));
	CHECK_STR(payload_of(out), want);
}

TEST(m_one_pass_equals_reference_on_random_bytes)
{
	for (size_t i = 0; i < FAKE_MEM_SIZE; i++)
		fk.mem[i] = (uint8_t)rnd();
	check_m_against_reference(0, GDB_PACKET_SIZE / 2);
	for (int k = 0; k < 300; k++) {
		size_t len = 1 + rnd() % 2048;

		check_m_against_reference(rnd() % (FAKE_MEM_SIZE - len), len);
	}
}

/* Runs of every length 1..300 of bytes whose hex repeats (00, 11, ff) or
 * half-repeats (0f, f0, 01), so char runs of every length meet.
 */
TEST(m_one_pass_equals_reference_on_runs)
{
	static const uint8_t vals[] = { 0x00, 0x11, 0xff, 0x0f, 0xf0, 0x01,
					0x10, 0x00 };
	size_t i = 0;

	for (size_t len = 1; i < FAKE_MEM_SIZE; len = len % 300 + 1) {
		uint8_t v = vals[rnd() % sizeof(vals)];

		for (size_t k = 0; k < len && i < FAKE_MEM_SIZE; k++)
			fk.mem[i++] = v;
	}
	check_m_against_reference(0, GDB_PACKET_SIZE / 2);
	for (int k = 0; k < 300; k++) {
		size_t len = 1 + rnd() % 4096;

		check_m_against_reference(rnd() % (FAKE_MEM_SIZE - len), len);
	}
	memset(fk.mem, 0, FAKE_MEM_SIZE);
	for (size_t len = 1; len < 120; len++)
		check_m_against_reference(0, len);
}

TEST(phys_mode_passed_to_backend)
{
	reply(fmt("qRcmd,%s", hexstr("phys on")));
	CHECK_STR(reply(fmt("m%llx,2", (unsigned long long)FAKE_PBASE + 4)),
		  "0405");
	CHECK_INT(fk.last_mem_phys, 1);
	reply(fmt("qRcmd,%s", hexstr("phys off")));
	CHECK_STR(reply(fmt("m%llx,2", (unsigned long long)FAKE_PBASE + 4)),
		  "E14");
	CHECK_INT(fk.last_mem_phys, 0);
}

/* ---- breakpoints ------------------------------------------------------- */

TEST(Z0_inserts_sw_breakpoint)
{
	CHECK_STR(reply("Z0,401000,1"), "OK");
	CHECK_INT(fk.n_insert, 1);
	CHECK_INT(fk.bp_type, GDB_BP_SW);
	CHECK_INT(fk.bp_addr, 0x401000);
	CHECK_INT(fk.bp_kind, 1);
}

TEST(z0_removes)
{
	CHECK_STR(reply("z0,401000,1"), "OK");
	CHECK_INT(fk.n_remove, 1);
	CHECK_INT(fk.bp_addr, 0x401000);
}

TEST(Z2_write_watchpoint_kind_is_length)
{
	CHECK_STR(reply("Z2,402000,8"), "OK");
	CHECK_INT(fk.bp_type, GDB_WP_WRITE);
	CHECK_INT(fk.bp_kind, 8);
}

TEST(Z1_no_slot_e28)
{
	fk.insert_ret = -ENOSPC;
	CHECK_STR(reply("Z1,401000,1"), "E28");
}

TEST(Z_unsupported_by_backend_empty)
{
	fk.insert_ret = -EOPNOTSUPP;
	CHECK_STR(reply("Z3,401000,4"), "");
}

TEST(Z_unknown_type_empty)
{
	CHECK_STR(reply("Z5,401000,1"), "");
	CHECK_INT(fk.n_insert, 0);
}

TEST(Z_non_hex_e22)
{
	CHECK_STR(reply("Zzz,401000,1"), "E22");
	CHECK_STR(reply("Z0,zz,1"), "E22");
	CHECK_STR(reply("Z0,401000"), "E22");
	CHECK_STR(reply("z0,401000,1;X1,cc"), "E22");
	CHECK_STR(reply("zzz,401000,1"), "E22");
	CHECK_STR(reply("z0,401000,zz"), "E22");
	CHECK_INT(fk.n_insert + fk.n_remove, 0);
}

/* ---- resume and stop --------------------------------------------------- */

TEST(vcont_c_resumes_all_no_reply)
{
	CHECK_STR(exchange("vCont;c"), "+");
	CHECK_INT(fk.n_resume, 1);
	for (int t = 0; t < 4; t++)
		CHECK_INT(fk.resume.action[t], GDB_ACT_CONT);
	CHECK(gdb_stub_running(stub));
}

TEST(vcont_step_one_continue_rest)
{
	exchange("vCont;s:2;c");
	CHECK_INT(fk.resume.action[0], GDB_ACT_CONT);
	CHECK_INT(fk.resume.action[1], GDB_ACT_STEP);
	CHECK_INT(fk.resume.action[2], GDB_ACT_CONT);
	CHECK_INT(fk.resume.action[3], GDB_ACT_CONT);
}

TEST(vcont_unnamed_threads_stay_stopped)
{
	exchange("vCont;s:2");
	CHECK_INT(fk.resume.action[0], GDB_ACT_NONE);
	CHECK_INT(fk.resume.action[1], GDB_ACT_STEP);
	CHECK_INT(fk.resume.action[3], GDB_ACT_NONE);
}

TEST(vcont_signal_per_thread)
{
	exchange("vCont;C05:1;S0b:3;c");
	CHECK_INT(fk.resume.action[0], GDB_ACT_CONT);
	CHECK_INT(fk.resume.signal[0], 5);
	CHECK_INT(fk.resume.action[2], GDB_ACT_STEP);
	CHECK_INT(fk.resume.signal[2], 11);
	CHECK_INT(fk.resume.signal[1], 0);
}

TEST(vcont_leftmost_action_wins)
{
	exchange("vCont;s:1;c:1;c");
	CHECK_INT(fk.resume.action[0], GDB_ACT_STEP);
}

TEST(vcont_bad_e22)
{
	CHECK_STR(reply("vCont;"), "E22");
	CHECK_STR(reply("vCont;x"), "E22");
	CHECK_STR(reply("vCont;c:zz"), "E22");
	CHECK_STR(reply("vCont;c;"), "E22");
	CHECK_STR(reply("vCont;Czz"), "E22");
	CHECK_STR(reply("vCont;C100"), "E22");
	CHECK_STR(reply("vCont;t"), "E22");
	CHECK_INT(fk.n_resume, 0);
}

TEST(vcont_unknown_thread_e03)
{
	CHECK_STR(reply("vCont;s:9"), "E03");
	CHECK_INT(fk.n_resume, 0);
}

TEST(vcont_backend_error_reported)
{
	fk.resume_ret = -EIO;
	CHECK_STR(reply("vCont;c"), "E05");
	CHECK(!gdb_stub_running(stub));
}

TEST(legacy_c_resumes_all)
{
	CHECK_STR(exchange("c"), "+");
	for (int t = 0; t < 4; t++)
		CHECK_INT(fk.resume.action[t], GDB_ACT_CONT);
}

TEST(legacy_s_steps_current_others_continue)
{
	reply("Hg3");
	exchange("s");
	CHECK_INT(fk.resume.action[2], GDB_ACT_STEP);
	CHECK_INT(fk.resume.action[0], GDB_ACT_CONT);
}

TEST(legacy_s_with_hc_steps_only_that_thread)
{
	reply("Hc2");
	exchange("s");
	CHECK_INT(fk.resume.action[1], GDB_ACT_STEP);
	CHECK_INT(fk.resume.action[0], GDB_ACT_NONE);
	CHECK_INT(fk.resume.action[3], GDB_ACT_NONE);
}

TEST(legacy_C_signal_and_address)
{
	exchange("C0b;401234");
	CHECK_INT(fk.resume.action[0], GDB_ACT_CONT);
	CHECK_INT(fk.resume.signal[0], 11);
	CHECK_INT(fk.regs[0].rip, 0x401234);
}

TEST(legacy_resume_non_hex_e22)
{
	CHECK_STR(reply("czz"), "E22");
	CHECK_STR(reply("Szz"), "E22");
	CHECK_STR(reply("C"), "E22");
	CHECK_STR(reply("C100"), "E22");
	CHECK_INT(fk.n_resume, 0);
}

TEST(stop_reply_swbreak_expedited)
{
	exchange("qSupported:swbreak+;hwbreak+");
	resume_all();
	stop(GDB_STOP_SWBREAK, 2, 5, 0);
	CHECK_STR(payload_of(out), fmt("T05thread:2;swbreak:;%s", expedited(2)));
	CHECK(!gdb_stub_running(stub));
}

TEST(stop_reply_swbreak_only_if_client_asked)
{
	resume_all();
	stop(GDB_STOP_SWBREAK, 1, 5, 0);
	CHECK_STR(payload_of(out), fmt("T05thread:1;%s", expedited(1)));
}

TEST(stop_reply_hwbreak)
{
	exchange("qSupported:hwbreak+");
	resume_all();
	stop(GDB_STOP_HWBREAK, 1, 5, 0);
	CHECK_STR(payload_of(out), fmt("T05thread:1;hwbreak:;%s", expedited(1)));
}

TEST(stop_reply_watch_kinds)
{
	resume_all();
	stop(GDB_STOP_WATCH, 3, 5, 0x402010);
	CHECK_STR(payload_of(out), fmt("T05thread:3;watch:402010;%s", expedited(3)));
	resume_all();
	stop(GDB_STOP_RWATCH, 1, 5, 0x10);
	CHECK_STR(payload_of(out), fmt("T05thread:1;rwatch:10;%s", expedited(1)));
	resume_all();
	stop(GDB_STOP_AWATCH, 1, 5, 0x20);
	CHECK_STR(payload_of(out), fmt("T05thread:1;awatch:20;%s", expedited(1)));
}

TEST(stop_reply_sigint)
{
	resume_all();
	stop(GDB_STOP_SIGNAL, 4, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:4;%s", expedited(4)));
}

TEST(stop_reply_exit)
{
	struct gdb_stop s = { GDB_STOP_EXITED, 1, 0, 0, 3 };

	resume_all();
	out_len = 0;
	gdb_stub_stopped(stub, &s);
	CHECK_STR(payload_of(out), "W03");
	CHECK_STR(reply("?"), "W03");
}

TEST(stop_reply_lists_threads_for_lldb)
{
	CHECK_STR(reply("QListThreadsInStopReply"), "OK");
	resume_all();
	stop(GDB_STOP_SIGNAL, 1, 5, 0);
	CHECK_STR(payload_of(out),
		  fmt("T05thread:1;%sthreads:1,2,3,4;", expedited(1)));
}

TEST(stop_makes_stopped_thread_current)
{
	reply("Hg2");
	resume_all();
	stop(GDB_STOP_SIGNAL, 3, 5, 0);
	CHECK_STR(reply("qC"), "QC3");
}

TEST(unrequested_stop_sends_nothing)
{
	stop(GDB_STOP_SIGNAL, 2, 5, 0);
	CHECK_STR(out, "");
	CHECK_STR(reply("?"), fmt("T05thread:2;%s", expedited(2)));
}

TEST(nak_retransmits_stop_reply)
{
	resume_all();
	stop(GDB_STOP_SIGNAL, 1, 5, 0);
	char *sent = strdup(out);
	CHECK_STR(feeds("-"), sent);
	free(sent);
}

TEST(question_initial_stop)
{
	CHECK_STR(reply("?"), fmt("T05thread:1;%s", expedited(1)));
}

TEST(question_deferred_while_running_after_reset)
{
	resume_all();
	gdb_stub_disconnected(stub);
	gdb_stub_reset(stub);
	CHECK_STR(exchange("?"), "+");
	stop(GDB_STOP_SIGNAL, 1, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:1;%s", expedited(1)));
}

TEST(reset_restores_ack_mode)
{
	exchange("QStartNoAckMode");
	gdb_stub_reset(stub);
	CHECK_STR(feeds("$qC#b4"), "+$QC1#c5");
}

TEST(reset_clears_phys_mode)
{
	reply(fmt("qRcmd,%s", hexstr("phys on")));
	gdb_stub_reset(stub);
	reply("m400000,1");
	CHECK_INT(fk.last_mem_phys, 0);
}

TEST(detach_calls_backend_and_ends_session)
{
	CHECK_STR(exchange("D"), "+$OK#9a");
	CHECK_INT(fk.n_detach, 1);
	CHECK_INT(last_ret, -EPIPE);
	CHECK_STR(exchange("qC"), "");
	CHECK_INT(last_ret, -EPIPE);
}

TEST(detach_with_pid)
{
	CHECK_STR(reply("D;1"), "OK");
	CHECK_INT(fk.n_detach, 1);
}

TEST(bytes_after_detach_ignored)
{
	CHECK_STR(feeds("$D#44$qC#b4"), "+$OK#9a");
	CHECK_INT(last_ret, -EPIPE);
}

TEST(disconnect_calls_detach_once)
{
	exchange("D");
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_detach, 1);
	gdb_stub_reset(stub);
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_detach, 2);
}

TEST(disconnect_before_any_resume_holds)
{
	reply("qSupported");
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_hold, 1);
	CHECK_INT(fk.n_detach, 0);
	/* The next client still finds it stopped where it started. */
	gdb_stub_reset(stub);
	CHECK_STR(reply("?"), fmt("T05thread:1;%s", expedited(1)));
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_hold, 2);
	CHECK_INT(fk.n_detach, 0);
}

TEST(disconnect_after_resume_detaches)
{
	resume_all();
	stop(GDB_STOP_SIGNAL, 1, 5, 0);
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_detach, 1);
	CHECK_INT(fk.n_hold, 0);
}

TEST(disconnect_after_earlier_detach_detaches)
{
	exchange("D");
	gdb_stub_reset(stub);
	stop(GDB_STOP_SIGNAL, 1, 5, 0);	/* the next client's connect */
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_detach, 2);
	CHECK_INT(fk.n_hold, 0);
}

TEST(detach_before_any_resume_lets_it_run)
{
	CHECK_STR(reply("D"), "OK");
	CHECK_INT(fk.n_detach, 1);
	CHECK_INT(fk.n_hold, 0);
}

TEST(kill_calls_backend_replies_x09)
{
	CHECK_STR(exchange("k"), fmt("+%s", framed("X09")));
	CHECK_INT(fk.n_kill, 1);
	CHECK_INT(last_ret, -EPIPE);
}

/* ---- extended mode ----------------------------------------------------- */

#define SESSION_ACK_EXT \
	"ack=1;noack=0;ext=1;swbreak=0;hwbreak=0;tsuffix=0;lthreads=0;reply=1"

TEST(extended_mode_ok)
{
	CHECK_STR(reply("!"), "OK");
}

TEST(vkill_outside_extended_unsupported)
{
	CHECK_STR(reply("vKill;a410"), "");
	CHECK_INT(fk.n_end, 0);
	CHECK_INT(fk.n_kill, 0);
}

TEST(vrun_outside_extended_unsupported)
{
	CHECK_STR(reply("vRun;"), "");
	CHECK_INT(fk.n_restart, 0);
}

TEST(vkill_in_extended_ends_target_keeps_session)
{
	reply("!");
	CHECK_STR(reply("vKill;a410"), "OK");
	CHECK_INT(fk.n_end, 1);
	CHECK_INT(fk.n_kill, 0);
	CHECK_INT(last_ret, 0);
	CHECK_STR(reply("?"), "X09");
	CHECK_STR(reply("c"), "E03");	/* ended: only vRun brings it back */
	CHECK_INT(fk.n_resume, 0);
}

TEST(k_in_extended_ends_target_keeps_session)
{
	reply("!");
	CHECK_STR(exchange("k"), fmt("+%s", framed("X09")));
	CHECK_INT(fk.n_end, 1);
	CHECK_INT(fk.n_kill, 0);
	CHECK_INT(last_ret, 0);
	CHECK_STR(reply("qC"), "QC1");
}

TEST(disconnect_after_extended_kill_neither_detaches_nor_holds)
{
	reply("!");
	resume_all();
	stop(GDB_STOP_SIGNAL, 1, 5, 0);
	reply("vKill;a410");
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_detach, 0);
	CHECK_INT(fk.n_hold, 0);
	gdb_stub_reset(stub);
	CHECK_STR(reply("?"), "X09");	/* the next client finds it ended */
}

TEST(vrun_restarts_with_session_and_replies_stop_at_entry)
{
	reply("!");
	reply("vKill;a410");
	CHECK_STR(reply("vRun;2f62696e2f7472756500"), fmt("T05thread:1;%s",
							    expedited(1)));
	CHECK_INT(fk.n_restart, 1);
	CHECK_STR(fk.restart_session, SESSION_ACK_EXT);
	CHECK_STR(reply("?"), fmt("T05thread:1;%s", expedited(1)));
	/* Held at entry again: a client leaving now does not release it. */
	gdb_stub_disconnected(stub);
	CHECK_INT(fk.n_hold, 1);
	CHECK_INT(fk.n_detach, 0);
}

TEST(vrun_session_records_no_ack_and_features)
{
	reply("qSupported:swbreak+;hwbreak+");
	reply("QThreadSuffixSupported");
	exchange("QStartNoAckMode");
	exchange("!");
	CHECK_STR(payload_of(exchange("vRun;")), fmt("T05thread:1;%s",
						     expedited(1)));
	CHECK_STR(fk.restart_session, "ack=0;noack=1;ext=1;swbreak=1;"
		  "hwbreak=1;tsuffix=1;lthreads=0;reply=1");
}

TEST(r_restarts_without_reply)
{
	reply("!");
	CHECK_STR(exchange("R00"), "+");
	CHECK_INT(fk.n_restart, 1);
	CHECK_STR(fk.restart_session, "ack=1;noack=0;ext=1;swbreak=0;"
		  "hwbreak=0;tsuffix=0;lthreads=0;reply=0");
}

TEST(vrun_while_running_e16)
{
	reply("!");
	resume_all();
	CHECK_STR(reply("vRun;"), "E16");
	CHECK_INT(fk.n_restart, 0);
}

TEST(resume_session_acks_and_sends_stop)
{
	out_len = 0;
	out[0] = '\0';
	CHECK_INT(gdb_stub_resume_session(stub, SESSION_ACK_EXT), 0);
	CHECK_STR(out, fmt("+%s", framed(fmt("T05thread:1;%s", expedited(1)))));
	CHECK_STR(reply("vKill;a410"), "OK");	/* still extended */
}

TEST(resume_session_no_ack_r_sends_nothing)
{
	out_len = 0;
	out[0] = '\0';
	CHECK_INT(gdb_stub_resume_session(stub, "ack=0;noack=1;ext=1;"
		  "swbreak=0;hwbreak=0;tsuffix=0;lthreads=0;reply=0"), 0);
	CHECK_STR(out, "");
	CHECK_STR(exchange("qC"), framed("QC1"));	/* no '+': no-ack mode */
}

TEST(resume_session_malformed_einval)
{
	out_len = 0;
	out[0] = '\0';
	CHECK_INT(gdb_stub_resume_session(stub, "ack=1;noack=0"), -EINVAL);
	CHECK_INT(gdb_stub_resume_session(stub, SESSION_ACK_EXT ";x=1"), -EINVAL);
	CHECK_INT(gdb_stub_resume_session(stub, "ack=2;noack=0;ext=1;swbreak=0;"
		  "hwbreak=0;tsuffix=0;lthreads=0;reply=1"), -EINVAL);
	CHECK_INT(gdb_stub_resume_session(stub, NULL), -EINVAL);
	CHECK_STR(out, "");
}

/* ---- monitor ----------------------------------------------------------- */

TEST(monitor_help_lists_stub_and_backend)
{
	const char *want = hexstr(
		"help           this list\n"
		"phys [on|off]  memory packets use guest-physical (on) or\n"
		"               guest-virtual (off, the default) addresses\n"
		"info vcpus     list the vCPUs\n");

	CHECK_STR(reply(fmt("qRcmd,%s", hexstr("help"))), want);
	CHECK_INT(fk.monitor_help, 1);
}

TEST(monitor_phys_on)
{
	CHECK_STR(reply(fmt("qRcmd,%s", hexstr("phys on"))),
		  hexstr("phys on: memory packets use guest-physical addresses\n"));
}

TEST(monitor_phys_bad_argument)
{
	const char *o = exchange(fmt("qRcmd,%s", hexstr("phys maybe")));
	char want[512];

	snprintf(want, sizeof(want), "+%s",
		 framed(fmt("O%s", hexstr("usage: phys [on|off]\n"))));
	strcat(want, framed("E22"));
	CHECK_STR(o, want);
}

TEST(monitor_backend_command)
{
	CHECK_STR(reply(fmt("qRcmd,%s", hexstr("info vcpus"))),
		  hexstr("vCPU 0: rip 0x401000\nvCPU 1: rip 0x401100\n"
			 "vCPU 2: rip 0x401200\nvCPU 3: rip 0x401300\n"));
	CHECK_STR(fk.monitor_cmd, "info vcpus");
}

TEST(monitor_command_trimmed)
{
	reply(fmt("qRcmd,%s", hexstr("  info vcpus \n")));
	CHECK_STR(fk.monitor_cmd, "info vcpus");
}

TEST(monitor_unknown_command_message)
{
	CHECK_STR(reply(fmt("qRcmd,%s", hexstr("frob"))),
		  hexstr("unknown monitor command 'frob' (try 'monitor help')\n"));
}

TEST(monitor_failure_output_then_error)
{
	const char *o = exchange(fmt("qRcmd,%s", hexstr("fail")));
	char want[512];

	snprintf(want, sizeof(want), "+%s",
		 framed(fmt("O%s", hexstr("fail: it failed\n"))));
	strcat(want, framed("E05"));
	CHECK_STR(o, want);
}

TEST(monitor_non_hex_e22)
{
	CHECK_STR(reply("qRcmd,zz"), "E22");
	CHECK_STR(reply("qRcmd,123"), "E22");
	CHECK_STR(reply("qRcmd,00"), "E22");
	CHECK_INT(fk.n_monitor, 0);
}

/* ---- packets while the target runs ------------------------------------- */

TEST(running_state_packets_e16_backend_untouched)
{
	static const char *const pkts[] = {
		"g", "G00", "p10", "P10=0000000000000000", "m401000,4",
		"M401000,1:90", "X401000,0:", "Z0,401000,1", "Z2,401000,4",
		"vCont;s:1", "vCont;c", "c", "s", "C05", "S05", "qOffsets",
	};

	resume_all();
	for (size_t i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++)
		CHECK_STR(reply(pkts[i]), "E16");
	CHECK_INT(fk.n_read_regs, 0);
	CHECK_INT(fk.n_write_regs, 0);
	CHECK_INT(fk.n_read_mem, 0);
	CHECK_INT(fk.n_write_mem, 0);
	CHECK_INT(fk.n_insert, 0);
	CHECK_INT(fk.n_resume, 1);
}

TEST(running_thread_suffixed_register_read_e16)
{
	CHECK_STR(reply("QThreadSuffixSupported"), "OK");
	resume_all();
	CHECK_STR(reply("g;thread:2;"), "E16");
	CHECK_STR(reply("p10;thread:2;"), "E16");
	CHECK_INT(fk.n_read_regs, 0);
}

TEST(running_backend_monitor_refused_with_message)
{
	const char *o;
	char want[512];

	resume_all();
	o = exchange(fmt("qRcmd,%s", hexstr("info vcpus")));
	snprintf(want, sizeof(want), "+%s", framed(fmt("O%s",
		 hexstr("monitor info vcpus: the target is running; stop it first (Ctrl-C)\n"))));
	strcat(want, framed("E16"));
	CHECK_STR(o, want);
	CHECK_INT(fk.n_monitor, 0);
	CHECK_STR(reply(fmt("qRcmd,%s", hexstr("phys on"))),
		  hexstr("phys on: memory packets use guest-physical addresses\n"));
}

TEST(running_stub_still_answers_then_stops)
{
	resume_all();
	CHECK_STR(reply("g"), "E16");
	CHECK_STR(reply("qC"), "QC1");
	CHECK_STR(reply("z0,401000,1"), "OK");	/* removal: allowed */
	CHECK_INT(fk.n_remove, 1);
	CHECK_STR(exchange("?"), "+");		/* deferred to the stop */
	feeds("\x03");
	CHECK_INT(fk.n_interrupt, 1);
	stop(GDB_STOP_SIGNAL, 1, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:1;%s", expedited(1)));
	CHECK_STR(reply("p10"), le64(fk.regs[0].rip));
}

/* ---- which thread a Ctrl-C stop names ---------------------------------- */

TEST(interrupt_stop_names_stepping_thread)
{
	CHECK_STR(exchange("vCont;s:2"), "+");
	stop(GDB_STOP_SIGNAL, 0, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:2;%s", expedited(2)));
	CHECK_STR(reply("qC"), "QC2");
}

TEST(interrupt_stop_names_stepping_thread_among_continuing)
{
	CHECK_STR(exchange("vCont;s:3;c"), "+");
	stop(GDB_STOP_SIGNAL, 0, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:3;%s", expedited(3)));
}

TEST(interrupt_stop_names_current_thread_on_continue_all)
{
	CHECK_STR(reply("Hg2"), "OK");
	resume_all();
	stop(GDB_STOP_SIGNAL, 0, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:2;%s", expedited(2)));
}

TEST(interrupt_stop_names_the_only_resumed_thread)
{
	CHECK_STR(reply("Hg1"), "OK");
	CHECK_STR(exchange("vCont;c:4"), "+");
	stop(GDB_STOP_SIGNAL, 0, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:4;%s", expedited(4)));
}

TEST(interrupt_stop_names_legacy_hc_thread)
{
	CHECK_STR(reply("Hc3"), "OK");
	CHECK_STR(exchange("c"), "+");
	stop(GDB_STOP_SIGNAL, 0, 2, 0);
	CHECK_STR(payload_of(out), fmt("T02thread:3;%s", expedited(3)));
}

/*
 * The tests that are only packets in and exact replies out, in order, on
 * a fresh stub: one row each, each its own TAP test.
 */
#define REPLY_MAX	3
/* After every TEST() of this file, in table order. */
#define REPLY_CASE_LINE	1000000
struct reply_case {
	const char *name;
	const char *io[REPLY_MAX][2];	/* { packet, reply }; NULL ends */
};

static const struct reply_case reply_cases[] = {
	{ "run_length_without_previous_byte_e22", { { "*\"m400000,1", "E22" } } },
	{ "dangling_escape_before_hash_e22", { { "m400000,1}", "E22" } } },
	{ "qoffsets", { { "qOffsets", "Text=1000;Data=2000;Bss=2000" } } },
	{ "qattached", { { "qAttached", "1" } } },
	{ "qfthreadinfo_lists_all_threads", { { "qfThreadInfo", "m1,2,3,4" } } },
	{ "qsthreadinfo_ends_list", { { "qsThreadInfo", "l" } } },
	{ "qc_default_thread_1", { { "qC", "QC1" } } },
	{ "hg_selects_thread", { { "Hg2", "OK" }, { "qC", "QC2" } } },
	{ "hg_zero_and_minus_one_accepted", {
		{ "Hg0", "OK" },
		{ "Hg-1", "OK" },
		{ "qC", "QC1" } } },
	{ "hg_unknown_thread_e03", { { "Hg5", "E03" } } },
	{ "h_non_hex_e22", { { "Hgzz", "E22" }, { "Hc-2", "E22" }, { "Hg", "E22" } } },
	{ "hc_minus_one", { { "Hc-1", "OK" } } },
	{ "t_thread_alive", { { "T4", "OK" }, { "T5", "E03" }, { "T0", "E03" } } },
	{ "t_non_hex_e22", { { "Tzz", "E22" }, { "T1x", "E22" } } },
	{ "qthreadextrainfo_bad", {
		{ "qThreadExtraInfo,zz", "E22" },
		{ "qThreadExtraInfo,9", "E03" } } },
	{ "qxfer_threads_bad_e22", {
		{ "qXfer:threads:read::zz,10", "E22" },
		{ "qXfer:threads:read::0,0", "E22" },
		{ "qXfer:threads:read::0", "E22" } } },
	{ "p_eflags_32bit", { { "p11", "02020000" } } },
	{ "p_non_hex_e22", { { "pzz", "E22" }, { "p", "E22" }, { "p10000000000000000", "E22" } } },
	{ "P_non_hex_e22", {
		{ "P10=zz00000000000000", "E22" },
		{ "Pzz=0000000000000000", "E22" },
		{ "P10", "E22" } } },
	{ "qregisterinfo_past_end_e45", {
		{ "qRegisterInfo42", "E45" },
		{ "qRegisterInfozz", "E22" } } },
	{ "target_xml_offset_past_end", { { "qXfer:features:read:target.xml:100000,100", "l" } } },
	{ "target_xml_unknown_annex_e22", { { "qXfer:features:read:other.xml:0,100", "E22" } } },
	{ "target_xml_non_hex_e22", {
		{ "qXfer:features:read:target.xml:zz,100", "E22" },
		{ "qXfer:features:read:target.xml:0", "E22" },
		{ "qXfer:features:read:target.xml:0,0", "E22" } } },
	{ "m_unmapped_e14", { { "m1000,4", "E14" } } },
	{ "M_unmapped_e14", { { "M1000,2:abcd", "E14" } } },
	{ "vcont_query", { { "vCont?", "vCont;c;C;s;S;t" } } },
};

static void run_reply_case(const void *arg)
{
	const struct reply_case *c = arg;

	for (int i = 0; i < REPLY_MAX && c->io[i][0]; i++)
		tap_check_str(__FILE__, __LINE__, c->io[i][0], reply(c->io[i][0]),
			      c->io[i][1]);
}

__attribute__((constructor)) static void register_reply_cases(void)
{
	for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++)
		tap_register_case(reply_cases[i].name, run_reply_case,
				  &reply_cases[i], REPLY_CASE_LINE + (int)i);
}

int main(void)
{
	return tap_run(setup, teardown);
}
