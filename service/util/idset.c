/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Id sets in path order: binary search, insertion keeps order, room grows by doubling. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "macros.h"

static unsigned decimal_digits(uint64_t v) {
        unsigned n = 1;

        for (; v >= 10; v /= 10)
                n++;
        return n;
}

static uint64_t drop_digits(uint64_t v, unsigned n) {
        while (n-- > 0)
                v /= 10;
        return v;
}

int id_path_order(uint64_t a, uint64_t b) {
        unsigned da = decimal_digits(a), db = decimal_digits(b);
        uint64_t ha, hb;

        /*
         * Compare the leading digits both strings have; with those equal, the
         * shorter string is a prefix of the longer one and sorts first.
         */
        ha = da > db ? drop_digits(a, da - db) : a;
        hb = db > da ? drop_digits(b, db - da) : b;
        if (ha != hb)
                return ha < hb ? -1 : 1;
        return da < db ? -1 : da > db;
}

static size_t idset_lower_bound(const IdSet *s, uint64_t id) {
        size_t lo = 0, hi = s->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (id_path_order(s->ids[mid], id) < 0)
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

static int idset_reserve(IdSet *s, size_t n) {
        size_t a;
        uint64_t *ids;

        if (n <= s->n_allocated)
                return 0;
        a = MAX(n, s->n_allocated * 2);      /* 1, 2, 4, …: most sets are small */
        ids = reallocarray(s->ids, a, sizeof(uint64_t));
        if (!ids)
                return -ENOMEM;
        s->ids = ids;
        s->n_allocated = a;
        return 0;
}

int idset_add(IdSet *s, uint64_t id) {
        size_t i;

        /* Ids often arrive in order (difference, a set rebuilt from another): check the end first. */
        if (s->n == 0 || id_path_order(s->ids[s->n - 1], id) < 0)
                i = s->n;
        else {
                i = idset_lower_bound(s, id);
                if (s->ids[i] == id)
                        return 0;
        }
        if (idset_reserve(s, s->n + 1) < 0)
                return -ENOMEM;
        memmove(s->ids + i + 1, s->ids + i, sizeof(uint64_t) * (s->n - i));
        s->ids[i] = id;
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
                c.n = c.n_allocated = src->n;
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
