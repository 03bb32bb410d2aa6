/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * An index of pointers by a caller's key: open addressing with linear
 * probing. The index does not own the items; it stores each item's hash so
 * it never has to look at an item again to move it. Lookups and changes
 * cost the same however many items there are.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HashIndexSlot {
        uint64_t hash;
        void *item;             /* NULL: free */
} HashIndexSlot;

typedef struct HashIndex {
        HashIndexSlot *slots;
        size_t n_items;
        size_t n_slots;         /* 0 or a power of two */
} HashIndex;

#define HASH_INDEX_INIT ((HashIndex) {})

void hash_index_clear(HashIndex *h);

/* Adds item under hash (items with the same hash may coexist); -ENOMEM. */
int hash_index_put(HashIndex *h, uint64_t hash, void *item);

/* Removes this item (by pointer) filed under hash; false when it was not there. */
bool hash_index_remove(HashIndex *h, uint64_t hash, const void *item);

/* The first item filed under hash for which match(item, key) holds, or NULL. */
void *hash_index_find(const HashIndex *h, uint64_t hash, bool (*match)(const void *item, const void *key),
                      const void *key);

/* FNV-1a over bytes, continuing from seed (start with HASH_SEED). */
#define HASH_SEED UINT64_C(14695981039346656037)
uint64_t hash_bytes(uint64_t seed, const void *p, size_t n);
/* The same over a string folded to ASCII lower case, so "A" and "a" hash alike. */
uint64_t hash_string_ascii_nocase(uint64_t seed, const char *s);
