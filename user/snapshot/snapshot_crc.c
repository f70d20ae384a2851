// SPDX-License-Identifier: GPL-2.0
/*
 * CRC32C (Castagnoli), the checksum of every snapshot section and memory
 * run. SSE4.2's crc32 instruction when the CPU has it (guest RAM is
 * checksummed on every write and resume, so speed matters), else a table.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "user/snapshot/snapshot.h"

#define CRC32C_POLY	0x82f63b78u	/* reflected */

static uint32_t crc_table[256];

static void crc32c__init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c__sw(uint32_t crc, const uint8_t *p, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crc32c__init_table);
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c__hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

uint32_t snapshot__crc32c(uint32_t crc, const void *buf, size_t len)
{
	static int hw = -1;

	if (hw < 0) {
		__builtin_cpu_init();
		hw = __builtin_cpu_supports("sse4.2");
	}
	crc = ~crc;
	crc = hw ? crc32c__hw(crc, buf, len) : crc32c__sw(crc, buf, len);
	return ~crc;
}
