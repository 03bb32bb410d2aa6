/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A set of object ids kept in the order of the ids' decimal strings compared
 * byte by byte ("1" < "10" < "100" < "2" < "9"). That is the byte order of
 * the object paths of one kind, the order the contract gives member lists,
 * so a set goes on the bus as it is, without formatting and sorting paths.
 * Collections hold their members this way, and the model its reverse indexes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IdSet {
        uint64_t *ids;
        size_t n;
        size_t n_allocated;
} IdSet;

#define IDSET_INIT ((IdSet) {})

/* <0, 0, >0 as the decimal strings of a and b compare with strcmp(). */
int id_path_order(uint64_t a, uint64_t b);

void idset_clear(IdSet *s);
bool idset_contains(const IdSet *s, uint64_t id);
int idset_add(IdSet *s, uint64_t id);       /* 1 added, 0 present, -ENOMEM */
int idset_remove(IdSet *s, uint64_t id);    /* 1 removed, 0 absent */
int idset_copy(IdSet *dst, const IdSet *src);
bool idset_equal(const IdSet *a, const IdSet *b);
/* dst = a \ b */
int idset_difference(IdSet *dst, const IdSet *a, const IdSet *b);
