// SPDX-License-Identifier: GPL-2.0
/*
 * Growing, padded byte buffers: see user/lib/growbuf.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/lib/growbuf.h"

int growbuf__put(struct growbuf *b, const void *data, size_t len, size_t align)
{
	size_t need = b->len + ((len + align - 1) & ~(align - 1));

	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	memset(b->p + b->len + len, 0, need - b->len - len);
	b->len = need;
	return 0;
}
