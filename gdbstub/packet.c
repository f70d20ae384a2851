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

void gdb_reply_begin(struct gdb_stub *stub)
{
	/* The payload area is about to be overwritten: no retransmit. */
	stub->tx_last = 0;
	stub->reply_len = 0;
	stub->reply_overflow = false;
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

/*
 * RSP run-length encoding of @n characters at @s, in place: a run of
 * c repeated 1 + k times (3 <= k <= 97) becomes "c*" followed by the
 * character k + 29. Counts 6 and 7 would give '#' and '$', which must not
 * appear in a packet, so such runs are cut to 5. gdb and lldb expand this
 * in every reply; it shrinks the hex of zero-filled guest memory ~30x,
 * and gdb spends its time per received character. Returns the new length.
 */
static size_t rle_compress(char *s, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		size_t run = 1;

		while (r + run < n && s[r + run] == s[r] && run < 98)
			run++;
		if (run - 1 == 6 || run - 1 == 7)
			run = 6;
		s[w++] = s[r];
		if (run >= 4) {
			s[w++] = '*';
			s[w++] = (char)(run - 1 + 29);
		} else {
			for (size_t i = 1; i < run; i++)
				s[w++] = s[r];
		}
		r += run;
	}
	return w;
}

/* Hex of guest memory, run-length encoded (never longer than plain hex). */
void gdb_reply_hex_rle(struct gdb_stub *stub, const void *data, size_t len)
{
	char *dst = stub->tx + 2 + stub->reply_len;

	if (len > gdb_reply_room(stub) / 2) {
		stub->reply_overflow = true;
		return;
	}
	gdb_hex_encode(dst, data, len);
	stub->reply_len += rle_compress(dst, 2 * len);
}

/*
 * Binary data ('}'-escaped, for qXfer replies): as much of @data as fits.
 * Returns the number of source bytes consumed.
 */
size_t gdb_reply_binary(struct gdb_stub *stub, const void *data, size_t len)
{
	const uint8_t *d = data;
	char *dst = stub->tx + 2;
	size_t i;

	for (i = 0; i < len; i++) {
		bool esc = d[i] == '$' || d[i] == '#' || d[i] == '}' ||
			   d[i] == '*';

		if (gdb_reply_room(stub) < (esc ? 2u : 1u))
			break;
		if (esc) {
			dst[stub->reply_len++] = '}';
			dst[stub->reply_len++] = (char)(d[i] ^ 0x20);
		} else {
			dst[stub->reply_len++] = (char)d[i];
		}
	}
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
	if (off + n == doc_len)
		stub->tx[2] = 'l';	/* rewrite the 'm': this was the last chunk */
}

/* E<errno> in decimal, as gdbserver and QEMU do (E14 EFAULT, E22 EINVAL). */
void gdb_reply_error(struct gdb_stub *stub, int err)
{
	int e = err < 0 ? -err : err;

	if (e <= 0 || e > 99)
		e = 99;
	stub->reply_len = 0;
	stub->reply_overflow = false;
	gdb_reply_printf(stub, "E%02d", e);
}

void gdb_reply_error_text(struct gdb_stub *stub, const char *text)
{
	stub->reply_len = 0;
	stub->reply_overflow = false;
	gdb_reply_str(stub, "E.");
	gdb_reply_str(stub, text);
}

/* Frame and send the reply (with the owed '+' in front, in one write). */
void gdb_send_reply(struct gdb_stub *stub)
{
	static const char hexdigits[] = "0123456789abcdef";
	char *pkt = stub->tx + 1;
	uint8_t sum = 0;
	size_t start = 1;

	if (stub->reply_overflow)
		gdb_reply_error(stub, -ENOBUFS);
	for (size_t i = 0; i < stub->reply_len; i++)
		sum += (uint8_t)pkt[1 + i];
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
