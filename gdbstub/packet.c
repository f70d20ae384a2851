// SPDX-License-Identifier: GPL-2.0
/*
 * RSP framing: the receive state machine ($payload#cs, '}' escapes,
 * run-length encoding, acks, 0x03) and the transmit side (reply builder,
 * framing, retransmit on '-').
 *
 * Invariants: rx_len <= GDB_PACKET_SIZE and rx[rx_len] == 0 once a packet
 * is complete; reply_len <= GDB_PACKET_SIZE, so a framed reply always fits
 * tx. Bytes that arrive in a state where they mean nothing are dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

static void output(struct gdb_stub *stub, const void *buf, size_t len)
{
	/* A failed write is the transport's to notice (it sees EOF). */
	if (stub->out && len)
		stub->out(stub->out_arg, buf, len);
}

/* ---- transmit ---------------------------------------------------------- */

void gdb_reply_clear(struct gdb_stub *stub)
{
	stub->reply_len = 0;
	stub->reply_summed = 0;
	stub->reply_sum = 0;
	stub->reply_overflow = false;
}

void gdb_reply_begin(struct gdb_stub *stub)
{
	/* The payload area is about to be overwritten: no retransmit. */
	stub->tx_last = 0;
	gdb_reply_clear(stub);
	stub->reply_deferred = false;
}

size_t gdb_reply_room(const struct gdb_stub *stub)
{
	return GDB_PACKET_SIZE - stub->reply_len;
}

void gdb_reply_mem(struct gdb_stub *stub, const void *data, size_t len)
{
	if (len > gdb_reply_room(stub)) {
		stub->reply_overflow = true;
		return;
	}
	memcpy(stub->tx + 2 + stub->reply_len, data, len);
	stub->reply_len += len;
}

void gdb_reply_str(struct gdb_stub *stub, const char *s)
{
	gdb_reply_mem(stub, s, strlen(s));
}

void gdb_reply_printf(struct gdb_stub *stub, const char *fmt, ...)
{
	/* room + 1: vsnprintf's NUL may land one past the payload area, on
	 * the '#' slot the framing writes later anyway.
	 */
	size_t room = gdb_reply_room(stub);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stub->tx + 2 + stub->reply_len, room + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > room) {
		stub->reply_overflow = true;
		return;
	}
	stub->reply_len += (size_t)n;
}

void gdb_reply_hex(struct gdb_stub *stub, const void *data, size_t len)
{
	if (len > gdb_reply_room(stub) / 2) {
		stub->reply_overflow = true;
		return;
	}
	gdb_hex_encode(stub->tx + 2 + stub->reply_len, data, len);
	stub->reply_len += 2 * len;
}

static const char hexdigits[] = "0123456789abcdef";

static uint8_t sum_bytes(const char *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)p[i];
	return sum;
}

/* Fold what earlier builders wrote into reply_sum before a summing one. */
static char *reply_summed_tail(struct gdb_stub *stub)
{
	char *payload = stub->tx + 2;

	stub->reply_sum += sum_bytes(payload + stub->reply_summed,
				     stub->reply_len - stub->reply_summed);
	stub->reply_summed = stub->reply_len;
	return payload + stub->reply_len;
}

static void reply_summed_to(struct gdb_stub *stub, char *end, uint8_t sum)
{
	stub->reply_len = (size_t)(end - (stub->tx + 2));
	stub->reply_summed = stub->reply_len;
	stub->reply_sum += sum;
}

/*
 * RSP run-length encoding, built while hex-encoding: a run of c repeated
 * 1 + k times (3 <= k <= 97) becomes "c*" followed by the character
 * k + 29. Counts 6 and 7 would give '#' and '$', which must not appear in
 * a packet, so such runs are cut to 5 and the rest starts a new run. gdb
 * and lldb expand this in every reply; it shrinks the hex of zero-filled
 * guest memory ~30x, and gdb spends its time per received character.
 */
struct rle {
	char *dst;		/* next output character */
	uint8_t sum;		/* of everything written */
};

/* One run of 1..98 characters, never 7 or 8. */
static void rle_put(struct rle *r, char c, size_t run)
{
	char *d = r->dst;

	d[0] = c;
	if (run >= 4) {
		d[1] = '*';
		d[2] = (char)(run - 1 + 29);
		r->sum += (uint8_t)(c + '*' + d[2]);
		r->dst = d + 3;
		return;
	}
	for (size_t i = 1; i < run; i++)
		d[i] = c;
	r->sum += (uint8_t)(c * run);
	r->dst = d + run;
}

/* A run of @n (0..98) copies of @c, cut as a greedy encoder cuts it. */
static inline void rle_flush(struct rle *r, char c, size_t n)
{
	if (n == 1) {		/* random memory: nearly always */
		*r->dst++ = c;
		r->sum += (uint8_t)c;
		return;
	}
	while (n) {
		size_t run = n < 98 ? n : 98;

		if (run == 7 || run == 8)
			run = 6;
		rle_put(r, c, run);
		n -= run;
	}
}

/* One more @c after a pending run of *n copies of *c. */
static inline void rle_char(struct rle *r, char *c, size_t *n, char ch)
{
	if (ch != *c) {
		rle_flush(r, *c, *n);
		*c = ch;
		*n = 1;
	} else if (++*n == 98) {
		rle_flush(r, *c, 98);
		*n = 0;
	}
}

/*
 * Hex of guest memory, run-length encoded (never longer than plain hex),
 * and its checksum, in one pass over @data.
 */
void gdb_reply_hex_rle(struct gdb_stub *stub, const void *data, size_t len)
{
	const uint8_t *s = data;
	struct rle r;
	size_t n = 0;		/* the pending run: n copies of c */
	char c = 0;

	if (len > gdb_reply_room(stub) / 2) {
		stub->reply_overflow = true;
		return;
	}
	r.dst = reply_summed_tail(stub);
	r.sum = 0;
	for (size_t i = 0; i < len; i++) {
		char h = hexdigits[s[i] >> 4], l = hexdigits[s[i] & 0xf];

		if (h != c && l != h) {
			/* The common case: h ends the run, l starts one. */
			rle_flush(&r, c, n);
			*r.dst++ = h;
			r.sum += (uint8_t)h;
			c = l;
			n = 1;
			continue;
		}
		rle_char(&r, &c, &n, h);
		rle_char(&r, &c, &n, l);
	}
	rle_flush(&r, c, n);
	reply_summed_to(stub, r.dst, r.sum);
}

/*
 * The number of leading bytes of @p[0..n) that need no escape: '#', '$',
 * '}' and '*' do ('*' because lldb expands run-length encoding in every
 * packet). Eight bytes at a time: a byte of v ^ pattern is zero where v
 * has that character, and the lowest flagged byte is exact.
 */
static size_t plain_prefix(const uint8_t *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v, t = 0;

		memcpy(&v, p + i, 8);
		for (unsigned int k = 0; k < 4; k++) {
			uint64_t x = v ^ (ones * (uint8_t)"#$}*"[k]);

			t |= (x - ones) & ~x & high;
		}
		if (t)
			return i + (size_t)__builtin_ctzll(t) / 8;
	}
	for (; i < n; i++) {
		if (p[i] == '#' || p[i] == '$' || p[i] == '}' || p[i] == '*')
			break;
	}
	return i;
}

/*
 * Binary data, '}'-escaped (0x7d, then the byte ^ 0x20), summed as it is
 * written: as much of @data as fits. Returns the number of source bytes
 * consumed.
 */
size_t gdb_reply_binary(struct gdb_stub *stub, const void *data, size_t len)
{
	const uint8_t *d = data;
	char *dst = reply_summed_tail(stub);
	size_t room = gdb_reply_room(stub), i = 0;
	uint8_t sum = 0;

	while (i < len && room) {
		size_t span = len - i < room ? len - i : room;
		size_t n = plain_prefix(d + i, span);

		memcpy(dst, d + i, n);
		sum += sum_bytes((const char *)d + i, n);
		dst += n;
		room -= n;
		i += n;
		if (i == len || room < 2)
			break;
		/* d[i] needs an escape and there is room for it. */
		dst[0] = '}';
		dst[1] = (char)(d[i] ^ 0x20);
		sum += (uint8_t)('}' + (d[i] ^ 0x20));
		dst += 2;
		room -= 2;
		i++;
	}
	reply_summed_to(stub, dst, sum);
	return i;
}

/*
 * One chunk of a qXfer object: "m" + data when more follows, "l" + data
 * for the last chunk (or nothing past the end). @len is the client's
 * chunk size; escaping may make the chunk shorter, never longer.
 */
void gdb_reply_xfer(struct gdb_stub *stub, const char *doc, size_t doc_len,
		    uint64_t off, uint64_t len)
{
	size_t n;

	if (off >= doc_len) {
		gdb_reply_str(stub, "l");
		return;
	}
	gdb_reply_str(stub, "m");
	if (len > doc_len - off)
		len = doc_len - off;
	n = gdb_reply_binary(stub, doc + off, (size_t)len);
	if (off + n == doc_len) {
		/* Rewrite the 'm' (already summed): this was the last chunk. */
		stub->tx[2] = 'l';
		stub->reply_sum += (uint8_t)('l' - 'm');
	}
}

/* E<errno> in decimal, as gdbserver and QEMU do (E14 EFAULT, E22 EINVAL). */
void gdb_reply_error(struct gdb_stub *stub, int err)
{
	int e = err < 0 ? -err : err;

	if (e <= 0 || e > 99)
		e = 99;
	gdb_reply_clear(stub);
	gdb_reply_printf(stub, "E%02d", e);
}

void gdb_reply_error_text(struct gdb_stub *stub, const char *text)
{
	gdb_reply_clear(stub);
	gdb_reply_str(stub, "E.");
	gdb_reply_str(stub, text);
}

/* Frame and send the reply (with the owed '+' in front, in one write). */
void gdb_send_reply(struct gdb_stub *stub)
{
	char *pkt = stub->tx + 1;
	uint8_t sum;
	size_t start = 1;

	if (stub->reply_overflow)
		gdb_reply_error(stub, -ENOBUFS);
	sum = stub->reply_sum + sum_bytes(pkt + 1 + stub->reply_summed,
					  stub->reply_len - stub->reply_summed);
	pkt[0] = '$';
	pkt[1 + stub->reply_len] = '#';
	pkt[2 + stub->reply_len] = hexdigits[sum >> 4];
	pkt[3 + stub->reply_len] = hexdigits[sum & 0xf];
	stub->tx_last = stub->reply_len + 4;
	if (stub->ack_pending) {
		stub->tx[0] = '+';
		start = 0;
		stub->ack_pending = false;
	}
	output(stub, stub->tx + start, stub->tx_last + 1 - start);
}

void gdb_send_ack(struct gdb_stub *stub)
{
	if (stub->ack_pending)
		output(stub, "+", 1);
	stub->ack_pending = false;
}

static void send_nak(struct gdb_stub *stub)
{
	if (!stub->no_ack)
		output(stub, "-", 1);
}

static void retransmit(struct gdb_stub *stub)
{
	if (!stub->no_ack && stub->tx_last)
		output(stub, stub->tx + 1, stub->tx_last);
}

/* ---- receive ----------------------------------------------------------- */

void gdb_rx_reset(struct gdb_stub *stub)
{
	stub->rx_state = RX_IDLE;
	stub->rx_len = 0;
}

static void rx_start(struct gdb_stub *stub)
{
	stub->rx_state = RX_PAYLOAD;
	stub->rx_len = 0;
	stub->rx_sum = 0;
	stub->rx_overflow = false;
	stub->rx_bad = false;
	stub->rx_csum_bad = false;
}

static void rx_store(struct gdb_stub *stub, char c)
{
	if (stub->rx_len >= GDB_PACKET_SIZE) {
		stub->rx_overflow = true;
		return;
	}
	stub->rx[stub->rx_len++] = c;
}

/*
 * "X*c" means X and (c - 29) more copies ("0* " is "0000"). gdb never
 * sends it, but the protocol allows it. Counts are printable (' ' is 3);
 * '#' and '$' never get here. A count without a preceding byte, or an
 * unprintable one, marks the packet malformed.
 */
static void rx_run_length(struct gdb_stub *stub, uint8_t c)
{
	int n = c - 29;

	if (stub->rx_len == 0 || c < ' ' || c > '~') {
		stub->rx_bad = true;
		return;
	}
	for (char prev = stub->rx[stub->rx_len - 1]; n > 0; n--)
		rx_store(stub, prev);
}

/* A complete frame: check it, ack or nak it, and answer it. */
static void rx_finish(struct gdb_stub *stub)
{
	stub->rx_state = RX_IDLE;
	if (stub->rx_csum_bad || stub->rx_csum != stub->rx_sum) {
		/* In no-ack mode the client will not resend: drop it. */
		send_nak(stub);
		return;
	}
	stub->ack_pending = !stub->no_ack;
	if (stub->rx_overflow || stub->rx_bad) {
		/* Intact but unusable: a NAK would only get it resent. */
		gdb_reply_begin(stub);
		gdb_reply_error(stub, -EINVAL);
		gdb_send_reply(stub);
		return;
	}
	stub->rx[stub->rx_len] = '\0';
	gdb_dispatch(stub, stub->rx, stub->rx_len);
	gdb_send_ack(stub);
}

static void rx_idle(struct gdb_stub *stub, uint8_t c)
{
	switch (c) {
	case '$':
		rx_start(stub);
		break;
	case '-':
		retransmit(stub);
		break;
	case 0x03:
		gdb_interrupt(stub);
		break;
	default:
		/* '+' and line noise. */
		break;
	}
}

static void rx_csum_digit(struct gdb_stub *stub, uint8_t c)
{
	int v = gdb_hexval(c);

	if (c == '$') {
		/* The frame was cut short and a new one begins. */
		rx_start(stub);
		return;
	}
	stub->rx_csum_bad |= v < 0;
	if (stub->rx_state == RX_CSUM1) {
		stub->rx_csum = (uint8_t)((v & 0xf) << 4);
		stub->rx_state = RX_CSUM2;
	} else {
		stub->rx_csum |= (uint8_t)(v & 0xf);
		rx_finish(stub);
	}
}

static void rx_byte(struct gdb_stub *stub, uint8_t c)
{
	if (stub->rx_state == RX_IDLE) {
		rx_idle(stub, c);
		return;
	}
	if (stub->rx_state == RX_CSUM1 || stub->rx_state == RX_CSUM2) {
		rx_csum_digit(stub, c);
		return;
	}
	if (c == '$') {
		/* Never part of a payload: the previous frame was truncated. */
		rx_start(stub);
		return;
	}
	if (c == '#') {
		/* A dangling '}' or '*' before '#' leaves the frame malformed. */
		stub->rx_bad |= stub->rx_state != RX_PAYLOAD;
		stub->rx_state = RX_CSUM1;
		return;
	}
	stub->rx_sum += c;
	if (stub->rx_state == RX_ESCAPE) {
		rx_store(stub, (char)(c ^ 0x20));
		stub->rx_state = RX_PAYLOAD;
	} else if (stub->rx_state == RX_RLE) {
		rx_run_length(stub, c);
		stub->rx_state = RX_PAYLOAD;
	} else if (c == '}') {
		stub->rx_state = RX_ESCAPE;
	} else if (c == '*') {
		stub->rx_state = RX_RLE;
	} else {
		rx_store(stub, (char)c);
	}
}

int gdb_stub_input(struct gdb_stub *stub, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len && !stub->detached; i++)
		rx_byte(stub, p[i]);
	return stub->detached ? -EPIPE : 0;
}
