/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pointer index with linear probing; removal shifts the run back instead of leaving tombstones. */

#include <errno.h>
#include <stdlib.h>

#include "hashindex.h"

void hash_index_clear(HashIndex *h) {
        free(h->slots);
        *h = HASH_INDEX_INIT;
}

static size_t slot_of(const HashIndex *h, uint64_t hash) {
        return (size_t) (hash ^ (hash >> 29)) & (h->n_slots - 1);
}

static void insert_slot(HashIndex *h, uint64_t hash, void *item) {
        size_t i = slot_of(h, hash);

        while (h->slots[i].item)
                i = (i + 1) & (h->n_slots - 1);
        h->slots[i] = (HashIndexSlot) { .hash = hash, .item = item };
}

static int grow(HashIndex *h) {
        size_t n = h->n_slots ? h->n_slots * 2 : 16;
        HashIndex g = { .n_items = h->n_items, .n_slots = n };

        g.slots = calloc(n, sizeof(HashIndexSlot));
        if (!g.slots)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_slots; i++)
                if (h->slots[i].item)
                        insert_slot(&g, h->slots[i].hash, h->slots[i].item);
        free(h->slots);
        *h = g;
        return 0;
}

int hash_index_put(HashIndex *h, uint64_t hash, void *item) {
        /* At most half full, so probe runs stay short. */
        if ((h->n_items + 1) * 2 > h->n_slots) {
                int r = grow(h);

                if (r < 0)
                        return r;
        }
        insert_slot(h, hash, item);
        h->n_items++;
        return 0;
}

bool hash_index_remove(HashIndex *h, uint64_t hash, const void *item) {
        size_t mask = h->n_slots - 1, i, j;

        if (h->n_slots == 0)
                return false;
        for (i = slot_of(h, hash); h->slots[i].item != item; i = (i + 1) & mask)
                if (!h->slots[i].item)
                        return false;

        /* Move back every later entry of the run whose home slot is not between the hole and it. */
        for (j = (i + 1) & mask; h->slots[j].item; j = (j + 1) & mask) {
                size_t home = slot_of(h, h->slots[j].hash);

                if (((j - home) & mask) >= ((j - i) & mask)) {
                        h->slots[i] = h->slots[j];
                        i = j;
                }
        }
        h->slots[i] = (HashIndexSlot) {};
        h->n_items--;
        return true;
}

void *hash_index_find(const HashIndex *h, uint64_t hash, bool (*match)(const void *item, const void *key),
                      const void *key) {
        if (h->n_slots == 0)
                return NULL;
        for (size_t i = slot_of(h, hash); h->slots[i].item; i = (i + 1) & (h->n_slots - 1))
                if (h->slots[i].hash == hash && match(h->slots[i].item, key))
                        return h->slots[i].item;
        return NULL;
}

uint64_t hash_bytes(uint64_t seed, const void *p, size_t n) {
        const unsigned char *b = p;

        for (size_t i = 0; i < n; i++)
                seed = (seed ^ b[i]) * UINT64_C(1099511628211);
        return seed;
}

uint64_t hash_string_ascii_nocase(uint64_t seed, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c >= 'A' && c <= 'Z')
                        c += 'a' - 'A';
                seed = (seed ^ c) * UINT64_C(1099511628211);
        }
        return seed;
}
