// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/debug/debug_swbp.h"

/* Index of the first entry with gpa >= @gpa. */
static size_t lower_bound(const struct swbp_table *t, uint64_t gpa)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].gpa < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int grow(struct swbp_table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	struct swbp *v;

	if (t->n < t->cap)
		return 0;
	v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

int swbp__add(struct swbp_table *t, uint64_t addr, uint64_t gpa,
	      uint8_t orig)
{
	size_t i;

	if (swbp__find(t, addr) || swbp__find_gpa(t, gpa))
		return -EEXIST;
	if (grow(t))
		return -ENOMEM;
	i = lower_bound(t, gpa);
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i] = (struct swbp){ .addr = addr, .gpa = gpa, .orig = orig };
	t->n++;
	return 0;
}

int swbp__del(struct swbp_table *t, uint64_t addr, struct swbp *out)
{
	struct swbp *b = swbp__find(t, addr);
	size_t i;

	if (!b)
		return -ENOENT;
	i = (size_t)(b - t->v);
	if (out)
		*out = *b;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	return 0;
}

struct swbp *swbp__find(const struct swbp_table *t, uint64_t addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].addr == addr)
			return &t->v[i];
	return NULL;
}

struct swbp *swbp__find_gpa(const struct swbp_table *t, uint64_t gpa)
{
	size_t i = lower_bound(t, gpa);

	return (i < t->n && t->v[i].gpa == gpa) ? &t->v[i] : NULL;
}

void swbp__overlay(const struct swbp_table *t, uint64_t gpa, uint8_t *buf,
		   size_t len)
{
	for (size_t i = lower_bound(t, gpa); i < t->n; i++) {
		if (t->v[i].gpa - gpa >= len)
			break;
		buf[t->v[i].gpa - gpa] = t->v[i].orig;
	}
}

void swbp__free(struct swbp_table *t)
{
	free(t->v);
	*t = (struct swbp_table){ 0 };
}
