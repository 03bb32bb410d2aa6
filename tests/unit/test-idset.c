/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/idset: the sorted id sets collections keep their members in. */

#include <errno.h>
#include <glib.h>

#include "util/idset.h"

static void assert_ids(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
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
        const uint64_t in[] = { 5, 1, 9, 3, 7, UINT64_MAX, 0, 2 };
        const uint64_t sorted[] = { 0, 1, 2, 3, 5, 7, 9, UINT64_MAX };
        IdSet s = IDSET_INIT;

        for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
                g_assert_cmpint(idset_add(&s, in[i]), ==, 1);
        assert_ids(&s, sorted, G_N_ELEMENTS(sorted));

        for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
                g_assert_true(idset_contains(&s, in[i]));
        g_assert_false(idset_contains(&s, 4));
        g_assert_false(idset_contains(&s, 10));
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
        for (size_t i = 1; i < s.n; i++)
                g_assert_cmpuint(s.ids[i - 1], <, s.ids[i]);
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
        g_test_add_func("/idset/add/order", test_add_keeps_order);
        g_test_add_func("/idset/add/duplicate", test_add_duplicate);
        g_test_add_func("/idset/remove", test_remove);
        g_test_add_func("/idset/copy", test_copy);
        g_test_add_func("/idset/equal", test_equal);
        g_test_add_func("/idset/difference", test_difference);
        g_test_add_func("/idset/many", test_many);

        return g_test_run();
}
