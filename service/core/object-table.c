/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The id-sorted tables of the model; see object-table.h.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "object-table.h"

/* Every model object begins with its id. */
static uint64_t item_id(const void *p) {
        return *(const uint64_t *) p;
}

static size_t table_lower_bound(const ObjectTable *t, uint64_t id) {
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (item_id(t->items[mid]) < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void *object_table_get(const ObjectTable *t, uint64_t id) {
        size_t i = table_lower_bound(t, id);

        return i < t->n && item_id(t->items[i]) == id ? t->items[i] : NULL;
}

int object_table_add(ObjectTable *t, void *p) {
        size_t i = table_lower_bound(t, item_id(p));
        void **n;

        if (i < t->n && item_id(t->items[i]) == item_id(p))
                return -EEXIST;
        n = realloc(t->items, sizeof(void *) * (t->n + 1));
        if (!n)
                return -ENOMEM;
        memmove(n + i + 1, n + i, sizeof(void *) * (t->n - i));
        n[i] = p;
        t->items = n;
        t->n++;
        return 0;
}

void *object_table_remove(ObjectTable *t, uint64_t id) {
        size_t i = table_lower_bound(t, id);
        void *p;

        if (i >= t->n || item_id(t->items[i]) != id)
                return NULL;
        p = t->items[i];
        memmove(t->items + i, t->items + i + 1, sizeof(void *) * (t->n - i - 1));
        t->n--;
        return p;
}

void object_table_free(ObjectTable *t, void *(*f)(void *)) {
        for (size_t i = 0; i < t->n; i++)
                f(t->items[i]);
        free(t->items);
        *t = (ObjectTable) {};
}
