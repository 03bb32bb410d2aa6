/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/idset: the id sets collections keep their members in, in the byte order of their paths. */

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/idset.h"

static void assert_ids(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}

/* strcmp() of the decimal strings: what the contract's "sorted by path" means within one kind. */
static int decimal_strcmp(uint64_t a, uint64_t b) {
        char x[24], y[24];

        snprintf(x, sizeof(x), "%" PRIu64, a);
        snprintf(y, sizeof(y), "%" PRIu64, b);
        return strcmp(x, y);
}

static int sign(int v) {
        return (v > 0) - (v < 0);
}

static void assert_path_order(uint64_t a, uint64_t b) {
        if (sign(id_path_order(a, b)) != sign(decimal_strcmp(a, b)))
                g_error("id_path_order(%" PRIu64 ", %" PRIu64 ") = %d, strcmp says %d", a, b, id_path_order(a, b),
                        decimal_strcmp(a, b));
        g_assert_cmpint(sign(id_path_order(b, a)), ==, -sign(id_path_order(a, b)));
}

static uint64_t rand_u64(void) {
        return (uint64_t) g_test_rand_int() << 32 | (uint32_t) g_test_rand_int();
}

static void assert_sorted_as_paths(const IdSet *s) {
        for (size_t i = 1; i < s->n; i++)
                if (decimal_strcmp(s->ids[i - 1], s->ids[i]) >= 0)
                        g_error("ids[%zu] = %" PRIu64 " does not sort before ids[%zu] = %" PRIu64, i - 1, s->ids[i - 1],
                                i, s->ids[i]);
}

static void test_order_of_paths(void) {
        const uint64_t edges[] = {
                0, 1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 109, 110, 999, 1000, 1234, 12345, 123, 124, 13,
                UINT64_C(9999999999999999999), UINT64_C(10000000000000000000), UINT64_MAX, UINT64_MAX - 1,
                UINT64_C(1844674407370955161), UINT64_C(1844674407370955162), UINT32_MAX,
        };

        /* The cases the contract names: ".../10" before ".../9", a prefix before what it starts. */
        g_assert_cmpint(id_path_order(10, 9), <, 0);
        g_assert_cmpint(id_path_order(1, 10), <, 0);
        g_assert_cmpint(id_path_order(19, 2), <, 0);
        g_assert_cmpint(id_path_order(100, 99), <, 0);
        g_assert_cmpint(id_path_order(42, 42), ==, 0);

        for (size_t i = 0; i < G_N_ELEMENTS(edges); i++)
                for (size_t k = 0; k < G_N_ELEMENTS(edges); k++)
                        assert_path_order(edges[i], edges[k]);

        for (unsigned i = 0; i < 20000; i++) {
                uint64_t a = rand_u64() >> g_test_rand_int_range(0, 64);
                uint64_t b = rand_u64() >> g_test_rand_int_range(0, 64);

                assert_path_order(a, b);
                /* b starting with a's digits, and a with one digit changed. */
                if (a <= UINT64_MAX / 1000)
                        assert_path_order(a, a * 1000 + b % 1000);
                assert_path_order(a, a + 1);
                assert_path_order(a, a / 10);
        }
}

static void test_add_in_path_order(void) {
        IdSet s = IDSET_INIT;
        size_t n = 0;

        /* Every id from 1 to 1200 in a scrambled order, and random large ones: the set reads as sorted paths. */
        for (uint64_t i = 0; i < 1200; i++)
                g_assert_cmpint(idset_add(&s, (i * 7919) % 1200 + 1), ==, 1);
        for (unsigned i = 0; i < 1000; i++)
                n += idset_add(&s, rand_u64() >> g_test_rand_int_range(0, 64) | 1) == 1;
        g_assert_cmpuint(s.n, ==, 1200 + n);
        assert_sorted_as_paths(&s);
        for (uint64_t i = 1; i <= 1200; i++)
                g_assert_true(idset_contains(&s, i));
        g_assert_false(idset_contains(&s, 0));

        /* The order the store's rows come in (by id) ends the same. */
        IdSet t = IDSET_INIT;
        for (uint64_t i = 1; i <= 1200; i++)
                g_assert_cmpint(idset_add(&t, i), ==, 1);
        assert_sorted_as_paths(&t);
        g_assert_cmpuint(t.ids[0], ==, 1);
        g_assert_cmpuint(t.ids[1], ==, 10);
        g_assert_cmpuint(t.ids[2], ==, 100);
        g_assert_cmpuint(t.ids[3], ==, 1000);
        g_assert_cmpuint(t.ids[4], ==, 1001);
        g_assert_cmpuint(t.ids[t.n - 1], ==, 999);
        idset_clear(&s);
        idset_clear(&t);
}

static void test_empty(void) {
        IdSet s = IDSET_INIT, t = IDSET_INIT;

        g_assert_cmpuint(s.n, ==, 0);
        g_assert_false(idset_contains(&s, 0));
        g_assert_false(idset_contains(&s, 1));
        g_assert_cmpint(idset_remove(&s, 1), ==, 0);
        g_assert_true(idset_equal(&s, &t));
        idset_clear(&s);
        idset_clear(&s);
        g_assert_null(s.ids);
}

static void test_add_keeps_order(void) {
        const uint64_t in[] = { 5, 1, 9, 3, 10, 7, UINT64_MAX, 0, 2 };
        const uint64_t sorted[] = { 0, 1, 10, UINT64_MAX, 2, 3, 5, 7, 9 };
        IdSet s = IDSET_INIT;

        for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
                g_assert_cmpint(idset_add(&s, in[i]), ==, 1);
        assert_ids(&s, sorted, G_N_ELEMENTS(sorted));

        for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
                g_assert_true(idset_contains(&s, in[i]));
        g_assert_false(idset_contains(&s, 4));
        g_assert_false(idset_contains(&s, 11));
        g_assert_false(idset_contains(&s, UINT64_MAX - 1));

        idset_clear(&s);
        g_assert_cmpuint(s.n, ==, 0);
}

static void test_add_duplicate(void) {
        const uint64_t expected[] = { 3, 4 };
        IdSet s = IDSET_INIT;

        g_assert_cmpint(idset_add(&s, 4), ==, 1);
        g_assert_cmpint(idset_add(&s, 4), ==, 0);
        g_assert_cmpint(idset_add(&s, 3), ==, 1);
        g_assert_cmpint(idset_add(&s, 3), ==, 0);
        g_assert_cmpint(idset_add(&s, 4), ==, 0);
        assert_ids(&s, expected, G_N_ELEMENTS(expected));
        idset_clear(&s);
}

static void test_remove(void) {
        const uint64_t after_middle[] = { 1, 3, 4, 5 };
        const uint64_t after_ends[] = { 3, 4 };
        IdSet s = IDSET_INIT;

        for (uint64_t i = 1; i <= 5; i++)
                g_assert_cmpint(idset_add(&s, i), ==, 1);

        g_assert_cmpint(idset_remove(&s, 2), ==, 1);
        g_assert_cmpint(idset_remove(&s, 2), ==, 0);
        assert_ids(&s, after_middle, G_N_ELEMENTS(after_middle));

        g_assert_cmpint(idset_remove(&s, 1), ==, 1);
        g_assert_cmpint(idset_remove(&s, 5), ==, 1);
        g_assert_cmpint(idset_remove(&s, 6), ==, 0);
        g_assert_cmpint(idset_remove(&s, 0), ==, 0);
        assert_ids(&s, after_ends, G_N_ELEMENTS(after_ends));

        g_assert_cmpint(idset_remove(&s, 3), ==, 1);
        g_assert_cmpint(idset_remove(&s, 4), ==, 1);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_false(idset_contains(&s, 3));

        /* Emptied by removal, the set is still usable. */
        g_assert_cmpint(idset_add(&s, 8), ==, 1);
        g_assert_true(idset_contains(&s, 8));
        idset_clear(&s);
}

static void test_copy(void) {
        IdSet a = IDSET_INIT, b = IDSET_INIT, empty = IDSET_INIT;

        g_assert_cmpint(idset_add(&a, 2), ==, 1);
        g_assert_cmpint(idset_add(&a, 1), ==, 1);

        /* The old contents of the destination go. */
        g_assert_cmpint(idset_add(&b, 99), ==, 1);
        g_assert_cmpint(idset_copy(&b, &a), ==, 0);
        g_assert_true(idset_equal(&a, &b));
        g_assert_false(idset_contains(&b, 99));
        g_assert_true(a.ids != b.ids);

        /* Deep: changing one leaves the other alone. */
        g_assert_cmpint(idset_add(&b, 3), ==, 1);
        g_assert_false(idset_contains(&a, 3));
        g_assert_false(idset_equal(&a, &b));

        g_assert_cmpint(idset_copy(&b, &empty), ==, 0);
        g_assert_cmpuint(b.n, ==, 0);
        g_assert_true(idset_equal(&b, &empty));

        /* Copying onto itself keeps the contents. */
        g_assert_cmpint(idset_copy(&a, &a), ==, 0);
        g_assert_cmpuint(a.n, ==, 2);
        g_assert_true(idset_contains(&a, 1) && idset_contains(&a, 2));

        idset_clear(&a);
        idset_clear(&b);
}

static void test_equal(void) {
        IdSet a = IDSET_INIT, b = IDSET_INIT;

        g_assert_true(idset_equal(&a, &b));
        g_assert_cmpint(idset_add(&a, 1), ==, 1);
        g_assert_false(idset_equal(&a, &b));
        g_assert_false(idset_equal(&b, &a));
        g_assert_cmpint(idset_add(&b, 2), ==, 1);
        g_assert_false(idset_equal(&a, &b));
        g_assert_cmpint(idset_add(&a, 2), ==, 1);
        g_assert_cmpint(idset_add(&b, 1), ==, 1);
        /* Insertion order does not matter. */
        g_assert_true(idset_equal(&a, &b));

        /* An emptied set equals a never-filled one. */
        g_assert_cmpint(idset_remove(&a, 1), ==, 1);
        g_assert_cmpint(idset_remove(&a, 2), ==, 1);
        idset_clear(&b);
        g_assert_true(idset_equal(&a, &b));
        idset_clear(&a);
}

static void test_difference(void) {
        const uint64_t a_minus_b[] = { 1, 4 };
        const uint64_t b_minus_a[] = { 5 };
        IdSet a = IDSET_INIT, b = IDSET_INIT, d = IDSET_INIT, empty = IDSET_INIT;

        for (uint64_t i = 1; i <= 4; i++)
                g_assert_cmpint(idset_add(&a, i), ==, 1);
        g_assert_cmpint(idset_add(&b, 2), ==, 1);
        g_assert_cmpint(idset_add(&b, 3), ==, 1);
        g_assert_cmpint(idset_add(&b, 5), ==, 1);

        g_assert_cmpint(idset_add(&d, 77), ==, 1);      /* replaced, not merged */
        g_assert_cmpint(idset_difference(&d, &a, &b), ==, 0);
        assert_ids(&d, a_minus_b, G_N_ELEMENTS(a_minus_b));

        g_assert_cmpint(idset_difference(&d, &b, &a), ==, 0);
        assert_ids(&d, b_minus_a, G_N_ELEMENTS(b_minus_a));

        g_assert_cmpint(idset_difference(&d, &a, &a), ==, 0);
        g_assert_cmpuint(d.n, ==, 0);

        g_assert_cmpint(idset_difference(&d, &a, &empty), ==, 0);
        g_assert_true(idset_equal(&d, &a));

        g_assert_cmpint(idset_difference(&d, &empty, &a), ==, 0);
        g_assert_cmpuint(d.n, ==, 0);

        /* The destination may be an operand. */
        g_assert_cmpint(idset_difference(&a, &a, &b), ==, 0);
        assert_ids(&a, a_minus_b, G_N_ELEMENTS(a_minus_b));

        idset_clear(&a);
        idset_clear(&b);
        idset_clear(&d);
}

static void test_many(void) {
        IdSet s = IDSET_INIT;

        /* Interleaved inserts from both ends exercise every insertion point. */
        for (uint64_t i = 0; i < 1000; i++)
                g_assert_cmpint(idset_add(&s, i % 2 ? 2000 - i : i), ==, 1);
        g_assert_cmpuint(s.n, ==, 1000);
        assert_sorted_as_paths(&s);
        for (uint64_t i = 0; i < 1000; i++)
                g_assert_true(idset_contains(&s, i % 2 ? 2000 - i : i));
        for (uint64_t i = 0; i < 1000; i += 2)
                g_assert_cmpint(idset_remove(&s, i), ==, 1);
        g_assert_cmpuint(s.n, ==, 500);
        for (size_t i = 0; i < s.n; i++)
                g_assert_cmpuint(s.ids[i] % 2, ==, 1);
        idset_clear(&s);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/idset/empty", test_empty);
        g_test_add_func("/idset/order/paths", test_order_of_paths);
        g_test_add_func("/idset/add/order", test_add_keeps_order);
        g_test_add_func("/idset/add/path-order", test_add_in_path_order);
        g_test_add_func("/idset/add/duplicate", test_add_duplicate);
        g_test_add_func("/idset/remove", test_remove);
        g_test_add_func("/idset/copy", test_copy);
        g_test_add_func("/idset/equal", test_equal);
        g_test_add_func("/idset/difference", test_difference);
        g_test_add_func("/idset/many", test_many);

        return g_test_run();
}
