/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gdbstub internals shared by the files of the protocol core. Nothing here
 * is API: backends and transports use gdbstub.h / server.h only.
 *
 * One file per concern:
 *   packet.c       framing state machine, acks, retransmit, reply builder
 *   hex.c          hex / number parsing and encoding
 *   dispatch.c     packet table lookup and argument parsing
 *   stub.c         life cycle (new, free, reset, disconnect)
 *   regs.c         register layout, target.xml, g/G/p/P, qRegisterInfo
 *   memory.c       m/M/X
 *   threads.c      thread ids, H, T, qfThreadInfo, qC, qThreadExtraInfo
 *   run.c          resume (vCont, c/s), stop replies, ?, D, k, Ctrl-C,
 *                  extended mode (!, vKill, vRun, R)
 *   breakpoints.c  Z/z
 *   monitor.c      qRcmd
 *   query.c        qSupported, no-ack mode and other general queries
 */
#ifndef KVMDBG_GDBSTUB_INTERNAL_H
#define KVMDBG_GDBSTUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/gdbstub.h"

/* Framed packet: ack slot, '$', payload, '#', two checksum digits. */
#define GDB_TX_SIZE		(GDB_PACKET_SIZE + 5)
/* Scratch for decoded hex arguments and memory transfers: an 'x' reply
 * carries up to a packet of raw bytes (fewer once escaped).
 */
#define GDB_SCRATCH_SIZE	GDB_PACKET_SIZE
/* An 'm' reply is hex, two characters a byte. */
#define GDB_HEX_READ_MAX	(GDB_PACKET_SIZE / 2)
/* Monitor output is sent hex encoded in one packet. */
#define GDB_TEXT_SIZE		(GDB_PACKET_SIZE / 2)

enum gdb_rx_state {
	RX_IDLE,		/* between packets: acks, 0x03, noise */
	RX_PAYLOAD,		/* after '$' */
	RX_ESCAPE,		/* after '}' */
	RX_RLE,			/* after '*': the repeat count follows */
	RX_CSUM1,		/* after '#' */
	RX_CSUM2,
};

struct gdb_stub {
	const struct gdb_target_ops *ops;
	void *ctx;
	gdb_output_fn out;
	void *out_arg;

	/* Receiver. rx holds the decoded payload, NUL-terminated. */
	enum gdb_rx_state rx_state;
	char *rx;
	size_t rx_len;
	uint8_t rx_sum;		/* running sum of the raw payload bytes */
	uint8_t rx_csum;	/* checksum digits received */
	bool rx_csum_bad;	/* a checksum digit was not hex */
	bool rx_overflow;	/* decoded payload exceeded GDB_PACKET_SIZE */
	bool rx_bad;		/* malformed escape or run-length */

	/*
	 * Transmitter. tx[0] is reserved for a '+' acking the packet being
	 * answered, so ack and reply leave in one write; the reply payload
	 * is built in place at tx + 2. tx_last is the framed length (from
	 * tx + 1) of the last packet sent, 0 once the buffer is reused;
	 * a '-' from the client resends it.
	 */
	char *tx;
	size_t reply_len;
	/* The first reply_summed payload bytes are final and add up to
	 * reply_sum: builders that write memory sum as they go, so the
	 * framing only sums the rest (invariant: reply_summed <= reply_len).
	 */
	size_t reply_summed;
	uint8_t reply_sum;
	size_t tx_last;
	bool reply_overflow;	/* a reply did not fit: sent as an error */
	bool reply_deferred;	/* the handler answers later (or never) */
	bool ack_pending;	/* owe the client a '+' */
	bool no_ack;		/* QStartNoAckMode accepted */

	/* Session state, reset for each client. */
	int g_thread;		/* Hg: 0 any, -1 all, else a thread */
	int c_thread;		/* Hc */
	int pkt_thread;		/* ;thread:N; suffix: 0 none, -2 malformed */
	bool phys;		/* monitor phys on */
	bool client_swbreak;	/* client announced swbreak+ */
	bool client_hwbreak;
	bool thread_suffix;	/* QThreadSuffixSupported accepted */
	bool list_threads;	/* QListThreadsInStopReply accepted */
	bool x_lldb;		/* lldb's "x0,0" probe seen: 'x' replies
				 * carry no 'b' (lldb before 20) */
	bool detached;		/* D or k seen: input returns -EPIPE */
	bool extended;		/* '!' accepted: vKill, vRun, R; k keeps the session */

	/* Target state, kept across clients. */
	bool running;		/* resumed, stop not yet reported */
	bool started;		/* resumed or released once: not held at entry */
	bool killed;		/* ended in extended mode: '?' says X09 */
	bool await_stop;	/* the client waits for a stop reply */
	/* The thread the client last resumed (its stepping thread, else
	 * the current thread if it moved, else the first that moved): a
	 * stop reported with thread 0 (Ctrl-C) names it.
	 */
	int resume_thread;
	struct gdb_stop last_stop;

	uint8_t *scratch;
	char *text;		/* monitor output */
	size_t text_len;
	char *xml;		/* target.xml, built on first request */
	size_t xml_len;
	char *threads_xml;	/* qXfer:threads, rebuilt at offset 0 */
	size_t threads_xml_len;
};

/* Arguments parsed from a packet by its table entry's schema. */
struct gdb_args {
	uint64_t num[4];	/* 'L' fields, in order */
	int nnum;
	int tid;		/* 'T' field: -1 all, 0 any, else a thread */
	const uint8_t *data;	/* 'X' (decoded into scratch) or 'B' field */
	size_t len;
	const char *str;	/* 'S' field: rest of the packet */
	size_t str_len;
	char word[64];		/* 'W' field, NUL-terminated */
};

typedef int (*gdb_handler_fn)(struct gdb_stub *stub,
			      const struct gdb_args *a);

enum gdb_match {
	GDB_EXACT,		/* the payload is exactly the name */
	GDB_PREFIX,		/* the name, then arguments per the schema */
};

#define GDB_CMD_THREAD_SUFFIX	0x1	/* accepts lldb's ";thread:N;" */
/*
 * Needs the target stopped: while it runs (a resume not yet answered by a
 * stop) the packet is answered E16 (EBUSY) without calling the handler.
 * The backend may only reach vCPU state with the world stopped, and a
 * register or memory op on a running vCPU would block the stub for good.
 * gdb and lldb never send these then; a raw client may.
 */
#define GDB_CMD_STOPPED		0x2

/*
 * A packet table entry. The schema is parsed over the payload after the
 * name before the handler runs; a mismatch is answered E22 without
 * calling the handler. Schema characters:
 *   L  a hex number (up to 64 bits)
 *   T  a thread id: hex, "0" (any) or "-1" (all)
 *   X  hex-encoded bytes up to the end (decoded into stub->scratch)
 *   B  binary bytes up to the end (already unescaped by the framer)
 *   S  the rest of the payload as text
 *   W  a word up to the next schema character (at most 63 bytes)
 *   [  what follows is optional: the payload may end here
 *   ]  ignored (closes '[' for readability)
 * Any other character must appear literally. The whole payload must be
 * consumed. A handler returns 0 after building its reply (an empty reply
 * is legal), or -errno, which is answered E<errno>.
 */
struct gdb_cmd {
	const char *name;
	enum gdb_match match;
	const char *schema;
	gdb_handler_fn handler;
	unsigned int flags;
};

/* Tables of the concern files, each ended by a NULL name. */
extern const struct gdb_cmd gdb_regs_cmds[];
extern const struct gdb_cmd gdb_memory_cmds[];
extern const struct gdb_cmd gdb_threads_cmds[];
extern const struct gdb_cmd gdb_run_cmds[];
extern const struct gdb_cmd gdb_breakpoint_cmds[];
extern const struct gdb_cmd gdb_monitor_cmds[];
extern const struct gdb_cmd gdb_query_cmds[];

/* dispatch.c */
void gdb_dispatch(struct gdb_stub *stub, char *pkt, size_t len);
int gdb_parse_args(struct gdb_stub *stub, const char *schema,
		   const char *p, const char *end, struct gdb_args *a);

/* packet.c: the reply under construction, and sending it. */
void gdb_reply_begin(struct gdb_stub *stub);
void gdb_reply_mem(struct gdb_stub *stub, const void *data, size_t len);
void gdb_reply_str(struct gdb_stub *stub, const char *s);
void gdb_reply_printf(struct gdb_stub *stub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gdb_reply_hex(struct gdb_stub *stub, const void *data, size_t len);
void gdb_reply_hex_rle(struct gdb_stub *stub, const void *data, size_t len);
size_t gdb_reply_binary(struct gdb_stub *stub, const void *data,
			size_t len);
/* Drop the reply built so far (the payload is empty again). */
void gdb_reply_clear(struct gdb_stub *stub);
void gdb_reply_error(struct gdb_stub *stub, int err);
/* "E.<text>": an error gdb shows to its user as @text. */
void gdb_reply_error_text(struct gdb_stub *stub, const char *text);
void gdb_reply_xfer(struct gdb_stub *stub, const char *doc, size_t doc_len,
		    uint64_t off, uint64_t len);
size_t gdb_reply_room(const struct gdb_stub *stub);
void gdb_send_reply(struct gdb_stub *stub);
void gdb_send_ack(struct gdb_stub *stub);
void gdb_rx_reset(struct gdb_stub *stub);

/* hex.c */
int gdb_hexval(int c);
void gdb_hex_encode(char *dst, const void *src, size_t len);
int gdb_hex_decode(uint8_t *dst, size_t cap, const char *src,
		   size_t srclen);
int gdb_parse_hex64(const char **p, const char *end, uint64_t *val);
int gdb_parse_thread_id(const char **p, const char *end, int *tid);

/* threads.c */
/* qXfer:threads document: per thread ~40 bytes + escaped extra info. */
#define GDB_THREAD_INFO_MAX	64
#define GDB_THREADS_XML_SIZE	(GDB_MAX_THREADS * (48 + 5 * GDB_THREAD_INFO_MAX) + 64)
int gdb_nr_threads(struct gdb_stub *stub);
int gdb_current_thread(struct gdb_stub *stub);
int gdb_regs_thread(struct gdb_stub *stub);
bool gdb_thread_valid(struct gdb_stub *stub, int tid);

/* regs.c */
#define GDB_XML_SIZE		(16 * 1024)
size_t gdb_regs_count(void);
int gdb_target_xml(char *buf, size_t cap);
/* Append "NN:value;" for the registers gdb wants expedited in a stop. */
void gdb_reply_expedited(struct gdb_stub *stub,
			 const struct gdb_x86_regs *regs);

/* run.c */
void gdb_interrupt(struct gdb_stub *stub);

#endif /* KVMDBG_GDBSTUB_INTERNAL_H */
