/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one-line error of library code: every function that fails with
 * -errno and a reason takes (char *err, size_t err_len) and fills it with
 * errf__set(). Calls nothing else of user/.
 */
#ifndef KVMDBG_USER_ERRF_H
#define KVMDBG_USER_ERRF_H

#include <stddef.h>

/* printf @fmt into err (err may be NULL, or err_len 0: nothing is written). */
void errf__set(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* KVMDBG_USER_ERRF_H */
