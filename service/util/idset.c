/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sorted id sets: binary search, insertion keeps order. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"

static size_t idset_lower_bound(const IdSet *s, uint64_t id) {
        size_t lo = 0, hi = s->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->ids[mid] < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void idset_clear(IdSet *s) {
        free(s->ids);
        *s = IDSET_INIT;
}

bool idset_contains(const IdSet *s, uint64_t id) {
        size_t i = idset_lower_bound(s, id);

        return i < s->n && s->ids[i] == id;
}

int idset_add(IdSet *s, uint64_t id) {
        size_t i = idset_lower_bound(s, id);
        uint64_t *n;

        if (i < s->n && s->ids[i] == id)
                return 0;
        n = realloc(s->ids, sizeof(uint64_t) * (s->n + 1));
        if (!n)
                return -ENOMEM;
        memmove(n + i + 1, n + i, sizeof(uint64_t) * (s->n - i));
        n[i] = id;
        s->ids = n;
        s->n++;
        return 1;
}

int idset_remove(IdSet *s, uint64_t id) {
        size_t i = idset_lower_bound(s, id);

        if (i >= s->n || s->ids[i] != id)
                return 0;
        memmove(s->ids + i, s->ids + i + 1, sizeof(uint64_t) * (s->n - i - 1));
        s->n--;
        return 1;
}

int idset_copy(IdSet *dst, const IdSet *src) {
        IdSet c = IDSET_INIT;

        if (src->n > 0) {
                c.ids = malloc(sizeof(uint64_t) * src->n);
                if (!c.ids)
                        return -ENOMEM;
                memcpy(c.ids, src->ids, sizeof(uint64_t) * src->n);
                c.n = src->n;
        }
        idset_clear(dst);
        *dst = c;
        return 0;
}

bool idset_equal(const IdSet *a, const IdSet *b) {
        return a->n == b->n && (a->n == 0 || memcmp(a->ids, b->ids, sizeof(uint64_t) * a->n) == 0);
}

int idset_difference(IdSet *dst, const IdSet *a, const IdSet *b) {
        IdSet c = IDSET_INIT;

        for (size_t i = 0; i < a->n; i++)
                if (!idset_contains(b, a->ids[i]) && idset_add(&c, a->ids[i]) < 0) {
                        idset_clear(&c);
                        return -ENOMEM;
                }
        idset_clear(dst);
        *dst = c;
        return 0;
}
