// SPDX-License-Identifier: GPL-2.0
/*
 * Fills a buffer spanning several pages with byte i = i * 7 + 3, prints
 * its checksum, then writes `watched` a few times (for watchpoints).
 */
#include "guest.h"

#define BUF_SIZE	(4 * 4096 + 256)	/* crosses 4 page boundaries */
#define WRITES		5

unsigned char pattern[BUF_SIZE] __attribute__((aligned(4096)));
volatile unsigned long watched;

static NOINLINE uint32_t fill(unsigned char *buf, unsigned int len)
{
	uint32_t sum = 0;

	for (unsigned int i = 0; i < len; i++) {
		buf[i] = (unsigned char)(i * 7 + 3);
		sum = sum * 31 + buf[i];
	}
	return sum;
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	uint32_t sum;

	(void)nr_cpus;
	if (cpu != 0)
		return;
	sum = fill(pattern, BUF_SIZE);
	guest_printf("mempattern: %u bytes, checksum 0x%x\n", BUF_SIZE, sum);
	for (unsigned long i = 1; i <= WRITES; i++)
		watched = i * 11;
	guest_printf("watched: %lu\n", watched);
	guest_exit(0);
}
