// SPDX-License-Identifier: GPL-2.0
/* Console (COM1), printf and exit for the example guests. */
#include "guest.h"

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_THRE	0x20
#define EXIT_PORT	0xf4

void guest_putc(char c)
{
	while (!(inb(COM1_LSR) & LSR_THRE))
		cpu_relax();
	outb(COM1, c);
}

static void put_str(const char *s)
{
	while (*s)
		guest_putc(*s++);
}

static void put_num(unsigned long v, unsigned int base)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		guest_putc(buf[--n]);
}

static void put_arg(char conv, bool is_long, va_list *ap)
{
	switch (conv) {
	case 'd': {
		long v = is_long ? va_arg(*ap, long) : va_arg(*ap, int);

		if (v < 0) {
			guest_putc('-');
			v = -v;
		}
		put_num(v, 10);
		break;
	}
	case 'u':
		put_num(is_long ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int), 10);
		break;
	case 'x':
		put_num(is_long ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int), 16);
		break;
	case 's':
		put_str(va_arg(*ap, const char *));
		break;
	case 'c':
		guest_putc((char)va_arg(*ap, int));
		break;
	default:
		guest_putc(conv);
	}
}

/* %d %u %x (with l), %s, %c, %%: all the examples need. */
void guest_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		bool is_long = false;

		if (*fmt != '%') {
			guest_putc(*fmt);
			continue;
		}
		if (*++fmt == 'l') {
			is_long = true;
			fmt++;
		}
		if (!*fmt)
			break;
		put_arg(*fmt, is_long, &ap);
	}
	va_end(ap);
}

void guest_exit(uint32_t status)
{
	outl(EXIT_PORT, status);
	for (;;)
		__asm__ volatile("hlt");
}

/* The compiler may call these even in freestanding code. */
void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}
