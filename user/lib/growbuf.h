/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A byte buffer that grows as records are appended, each padded to an
 * alignment: the metadata of snapshots (8) and the notes of cores (4).
 * Calls nothing else of user/.
 */
#ifndef KVMDBG_USER_GROWBUF_H
#define KVMDBG_USER_GROWBUF_H

#include <stddef.h>
#include <stdint.h>

struct growbuf {
	uint8_t *p;		/* malloc'd; free() it */
	size_t len, cap;
};

/*
 * Append @len bytes of @data, then zeros up to a multiple of @align (a
 * power of two). 0, or -ENOMEM with @b as it was.
 */
int growbuf__put(struct growbuf *b, const void *data, size_t len, size_t align);

#endif /* KVMDBG_USER_GROWBUF_H */
