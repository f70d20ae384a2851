// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes into gdb_stub_input(), with the fake
 * backend behind the stub, under ASan and UBSan.
 *
 * Built by `make` when clang and its fuzzer runtime (libclang-rt-14-dev)
 * are installed:
 *   build/fuzz/fuzz_packet
 * make check runs it for 20 s (selftests/gdbstub/fuzz.sh). Longer, by hand,
 * e.g. an hour on both cores, keeping what it learns in build/fuzz/corpus:
 *   mkdir -p build/fuzz/corpus
 *   build/fuzz/fuzz_packet -max_total_time=3600 -jobs=2 -workers=2 \
 *       -artifact_prefix=build/fuzz/ build/fuzz/corpus selftests/gdbstub/corpus
 * A crash leaves build/fuzz/crash-<sha1>; replay it with
 *   build/fuzz/fuzz_packet build/fuzz/crash-<sha1>
 *
 * Input format. Byte 0 holds flags:
 *   bit 0      framed mode: the rest is payloads separated by '\n', each
 *              sent as "$payload#checksum" (reaches the handlers without
 *              the fuzzer having to find checksums); else raw bytes
 *   bits 1-3   number of threads - 1
 *   bits 4-7   raw mode: feed in chunks of 1 << (bits) bytes
 * Whenever the stub waits for a stop, the next input byte decides the
 * stop the backend reports (reason, thread, signal), as a real backend
 * would report it asynchronously. Some of those bytes reset the session
 * or drop the connection instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/gdbstub.h"
#include "selftests/gdbstub/fake_backend.h"

static struct fake fk;

/* The stub's output: never bigger than one framed packet plus an ack. */
static int sink(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	if (len > GDB_PACKET_SIZE + 5)
		__builtin_trap();
	return 0;
}

static void report_stop(struct gdb_stub *stub, uint8_t b)
{
	struct gdb_stop s = {
		.reason = (enum gdb_stop_reason)(b % 7),
		.thread = (b >> 3) % (fk.nr_threads + 2),	/* some invalid */
		.signal = b & 0x80 ? 2 : 5,
		.addr = 0x400000u + b,
		.exit_code = b,
	};

	if ((b & 0x78) == 0x78) {
		gdb_stub_disconnected(stub);
		gdb_stub_reset(stub);
		return;
	}
	gdb_stub_stopped(stub, &s);
}

static void feed_framed(struct gdb_stub *stub, const uint8_t *p, size_t len)
{
	static char frame[GDB_PACKET_SIZE + 16];

	while (len) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;
		uint8_t sum = 0;

		if (n > GDB_PACKET_SIZE)
			n = GDB_PACKET_SIZE;
		for (size_t i = 0; i < n; i++)
			sum += p[i];
		frame[0] = '$';
		memcpy(frame + 1, p, n);
		snprintf(frame + 1 + n, 4, "#%02x", sum);
		if (gdb_stub_input(stub, frame, n + 4) < 0)
			return;
		p += n + (nl ? 1 : 0);
		len -= n + (nl ? 1 : 0);
		if (gdb_stub_running(stub) && len) {
			report_stop(stub, *p++);
			len--;
		}
	}
}

static void feed_raw(struct gdb_stub *stub, const uint8_t *p, size_t len,
		     size_t chunk)
{
	while (len) {
		size_t n = len < chunk ? len : chunk;

		if (gdb_stub_input(stub, p, n) < 0)
			return;
		p += n;
		len -= n;
		if (gdb_stub_running(stub) && len) {
			report_stop(stub, *p++);
			len--;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdb_stub *stub;

	if (size < 1)
		return 0;
	fake_init(&fk, 1 + ((data[0] >> 1) & 7));
	stub = gdb_stub_new(&fake_ops, &fk);
	if (!stub)
		return 0;
	gdb_stub_set_output(stub, sink, NULL);
	if (data[0] & 1)
		feed_framed(stub, data + 1, size - 1);
	else
		feed_raw(stub, data + 1, size - 1, (size_t)1 << (data[0] >> 4));
	gdb_stub_free(stub);
	return 0;
}
