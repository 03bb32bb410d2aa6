/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A sorted set of object ids. Collections hold their members this way, so
 * the D-Bus "sorted by path" order and the store's rows follow from it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IdSet {
        uint64_t *ids;
        size_t n;
} IdSet;

#define IDSET_INIT ((IdSet) {})

void idset_clear(IdSet *s);
bool idset_contains(const IdSet *s, uint64_t id);
int idset_add(IdSet *s, uint64_t id);       /* 1 added, 0 present, -ENOMEM */
int idset_remove(IdSet *s, uint64_t id);    /* 1 removed, 0 absent */
int idset_copy(IdSet *dst, const IdSet *src);
bool idset_equal(const IdSet *a, const IdSet *b);
/* dst = a \ b */
int idset_difference(IdSet *dst, const IdSet *a, const IdSet *b);
