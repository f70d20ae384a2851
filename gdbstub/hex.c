// SPDX-License-Identifier: GPL-2.0
/*
 * Hex encoding and the number / thread-id syntax of RSP arguments. Every
 * parser takes an explicit end: packets may hold binary data, so nothing
 * here relies on a terminating NUL.
 */
#include <errno.h>
#include <limits.h>

#include "gdbstub/internal.h"

static const char hexdigits[] = "0123456789abcdef";

int gdb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Writes exactly 2 * len characters, no terminator. */
void gdb_hex_encode(char *dst, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < len; i++) {
		dst[2 * i] = hexdigits[s[i] >> 4];
		dst[2 * i + 1] = hexdigits[s[i] & 0xf];
	}
}

/* Returns the number of bytes decoded, or -EINVAL for an odd length, a
 * non-hex digit, or more bytes than @cap.
 */
int gdb_hex_decode(uint8_t *dst, size_t cap, const char *src, size_t srclen)
{
	if (srclen % 2 || srclen / 2 > cap || srclen / 2 > INT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < srclen / 2; i++) {
		int hi = gdb_hexval((unsigned char)src[2 * i]);
		int lo = gdb_hexval((unsigned char)src[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(srclen / 2);
}

/*
 * One or more hex digits at *p; leading zeros are free, but a value that
 * needs more than 64 bits is -EINVAL rather than silently truncated.
 */
int gdb_parse_hex64(const char **p, const char *end, uint64_t *val)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (s >= end || gdb_hexval((unsigned char)*s) < 0)
		return -EINVAL;
	for (; s < end && (d = gdb_hexval((unsigned char)*s)) >= 0; s++) {
		if (v >> 60)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*p = s;
	*val = v;
	return 0;
}

/* "-1" (all threads), "0" (any) or a positive hex thread number. */
int gdb_parse_thread_id(const char **p, const char *end, int *tid)
{
	uint64_t v;

	if (end - *p >= 2 && (*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*tid = -1;
		return 0;
	}
	if (gdb_parse_hex64(p, end, &v) || v > INT_MAX)
		return -EINVAL;
	*tid = (int)v;
	return 0;
}
