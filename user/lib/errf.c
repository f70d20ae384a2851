// SPDX-License-Identifier: GPL-2.0
/*
 * One-line errors: see user/lib/errf.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "user/lib/errf.h"

void errf__set(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}
