/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/hashindex: put, find, remove with colliding hashes, growth. */

#include <glib.h>
#include <stdint.h>

#include "util/hashindex.h"

static bool int_match(const void *item, const void *key) {
        return *(const int *) item == *(const int *) key;
}

/* Few distinct hashes, so runs are long and removal has to shift entries back. */
static uint64_t weak_hash(int v) {
        return (uint64_t) (v % 7);
}

static void test_put_find_remove(void) {
        HashIndex h = HASH_INDEX_INIT;
        int values[200];

        for (int i = 0; i < 200; i++) {
                values[i] = i;
                g_assert_cmpint(hash_index_put(&h, weak_hash(i), &values[i]), ==, 0);
        }
        g_assert_cmpuint(h.n_items, ==, 200);
        g_assert_cmpuint(h.n_slots, >=, 400);
        for (int i = 0; i < 200; i++)
                g_assert_true(hash_index_find(&h, weak_hash(i), int_match, &i) == &values[i]);

        /* Remove every third; the rest must still be found, the removed ones not. */
        for (int i = 0; i < 200; i += 3)
                g_assert_true(hash_index_remove(&h, weak_hash(i), &values[i]));
        for (int i = 0; i < 200; i++) {
                void *found = hash_index_find(&h, weak_hash(i), int_match, &i);

                if (i % 3 == 0)
                        g_assert_null(found);
                else
                        g_assert_true(found == &values[i]);
        }
        g_assert_false(hash_index_remove(&h, weak_hash(0), &values[0]));
        hash_index_clear(&h);
        g_assert_cmpuint(h.n_items, ==, 0);
}

static void test_empty(void) {
        HashIndex h = HASH_INDEX_INIT;
        int k = 1;

        g_assert_null(hash_index_find(&h, 1, int_match, &k));
        g_assert_false(hash_index_remove(&h, 1, &k));
}

static void test_same_key_twice(void) {
        HashIndex h = HASH_INDEX_INIT;
        int a = 5, b = 5;

        g_assert_cmpint(hash_index_put(&h, 5, &a), ==, 0);
        g_assert_cmpint(hash_index_put(&h, 5, &b), ==, 0);
        /* Removal is by pointer: taking out a leaves b findable. */
        g_assert_true(hash_index_remove(&h, 5, &a));
        g_assert_true(hash_index_find(&h, 5, int_match, &a) == &b);
        hash_index_clear(&h);
}

static void test_string_hash(void) {
        g_assert_cmpuint(hash_string_ascii_nocase(HASH_SEED, "Peer.Example"), ==,
                         hash_string_ascii_nocase(HASH_SEED, "peer.example"));
        g_assert_cmpuint(hash_string_ascii_nocase(HASH_SEED, "peer-a"), !=,
                         hash_string_ascii_nocase(HASH_SEED, "peer-b"));
        g_assert_cmpuint(hash_bytes(HASH_SEED, "ab", 2), !=, hash_bytes(HASH_SEED, "ba", 2));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hashindex/put-find-remove", test_put_find_remove);
        g_test_add_func("/hashindex/empty", test_empty);
        g_test_add_func("/hashindex/same-key-twice", test_same_key_twice);
        g_test_add_func("/hashindex/string-hash", test_string_hash);
        return g_test_run();
}
