/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/strutil: UTF-8 and the safe-string rule, string arrays, clocks. */

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/strutil.h"

static void test_utf8_valid(void) {
        const char *good[] = {
                "",
                "plain ascii",
                "\xc2\x80",                     /* U+0080, smallest two-byte */
                "\xc2\x85",                     /* U+0085, a C1 control, still UTF-8 */
                "\xc2\xa0",                     /* U+00A0 */
                "\xdf\xbf",                     /* U+07FF */
                "\xe0\xa0\x80",                 /* U+0800, smallest three-byte */
                "\xed\x9f\xbf",                 /* U+D7FF, just below the surrogates */
                "\xee\x80\x80",                 /* U+E000, just above them */
                "\xef\xbf\xbd",                 /* U+FFFD */
                "\xf0\x90\x80\x80",             /* U+10000, smallest four-byte */
                "\xf4\x8f\xbf\xbf",             /* U+10FFFF, the last code point */
                "Grüße, 日本語, \xf0\x9f\x98\x80",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                if (!utf8_is_valid(good[i]))
                        g_error("good[%zu] refused", i);
}

static void test_utf8_invalid(void) {
        const char *bad[] = {
                "\x80",                         /* lone continuation byte */
                "a\xbf",
                "\xc3",                         /* truncated two-byte */
                "\xc3(",                        /* lead byte without continuation */
                "\xe2\x82",                     /* truncated three-byte */
                "\xf0\x9f\x98",                 /* truncated four-byte */
                "\xc0\x80",                     /* overlong NUL */
                "\xc1\xbf",                     /* overlong U+007F */
                "\xe0\x80\xaf",                 /* overlong '/' */
                "\xe0\x9f\xbf",                 /* overlong U+07FF */
                "\xf0\x80\x80\xaf",             /* overlong '/' */
                "\xf0\x8f\xbf\xbf",             /* overlong U+FFFF */
                "\xed\xa0\x80",                 /* U+D800 */
                "\xed\xbf\xbf",                 /* U+DFFF */
                "\xed\xa0\xbd\xed\xb8\x80",     /* a CESU-8 surrogate pair */
                "\xf4\x90\x80\x80",             /* U+110000 */
                "\xf5\x80\x80\x80",
                "\xf7\xbf\xbf\xbf",
                "\xf8\x88\x80\x80\x80",         /* five-byte form */
                "\xfc\x84\x80\x80\x80\x80",     /* six-byte form */
                "\xfe",
                "\xff",
                "valid then \xff",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (utf8_is_valid(bad[i]))
                        g_error("bad[%zu] accepted", i);
}

static void test_string_is_safe(void) {
        g_autofree char *max = g_strnfill(255, 'x');
        g_autofree char *over = g_strnfill(256, 'x');
        GString *umlauts = g_string_new(NULL);

        g_assert_false(string_is_safe(NULL, 255));
        g_assert_true(string_is_safe("", 255));
        g_assert_true(string_is_safe("hello world", 255));
        g_assert_true(string_is_safe("Grüße", 255));
        g_assert_true(string_is_safe(max, 255));
        g_assert_false(string_is_safe(over, 255));
        g_assert_true(string_is_safe("abc", 3));
        g_assert_false(string_is_safe("abcd", 3));

        /* The limit counts bytes, not characters. */
        for (size_t i = 0; i < 128; i++)
                g_string_append(umlauts, "ü");
        g_assert_cmpuint(umlauts->len, ==, 256);
        g_assert_false(string_is_safe(umlauts->str, 255));
        g_assert_true(string_is_safe(umlauts->str, 256));
        g_string_free(umlauts, TRUE);

        /* C0 controls and DEL, anywhere in the string. */
        for (int c = 1; c < 0x20; c++) {
                char s[] = { 'a', (char) c, 'b', 0 };

                g_assert_false(string_is_safe(s, 255));
        }
        g_assert_false(string_is_safe("\x7f", 255));
        g_assert_false(string_is_safe("end\x7f", 255));

        /* C1 controls are valid UTF-8 but not safe; U+00A0 is the first safe one after them. */
        g_assert_false(string_is_safe("\xc2\x80", 255));
        g_assert_false(string_is_safe("\xc2\x85", 255));
        g_assert_false(string_is_safe("\xc2\x9f", 255));
        g_assert_true(string_is_safe("\xc2\xa0", 255));

        g_assert_false(string_is_safe("\xff", 255));
        g_assert_false(string_is_safe("\xed\xa0\x80", 255));
}

static void test_strdup_helpers(void) {
        g_autofree char *a = strdup_or_empty(NULL), *b = strdup_or_empty("x");
        char *p = strdup_or_empty("old");

        g_assert_cmpstr(a, ==, "");
        g_assert_cmpstr(b, ==, "x");

        g_assert_cmpint(free_and_strdup(&p, "new"), ==, 0);
        g_assert_cmpstr(p, ==, "new");
        g_assert_cmpint(free_and_strdup(&p, NULL), ==, 0);
        g_assert_cmpstr(p, ==, "");
        free(p);

        p = NULL;
        g_assert_cmpint(free_and_strdup(&p, "from nothing"), ==, 0);
        g_assert_cmpstr(p, ==, "from nothing");
        free(p);
}

static void test_streq_isempty(void) {
        g_assert_true(streq_ptr(NULL, NULL));
        g_assert_false(streq_ptr("a", NULL));
        g_assert_false(streq_ptr(NULL, "a"));
        g_assert_true(streq_ptr("a", "a"));
        g_assert_false(streq_ptr("a", "b"));
        g_assert_false(streq_ptr("", NULL));

        g_assert_true(isempty(NULL));
        g_assert_true(isempty(""));
        g_assert_false(isempty(" "));
}

static void test_erase_and_free(void) {
        _cleanup_erase_ char *s = strdup("secret-bytes");

        erase_and_free(NULL);
        g_assert_nonnull(s);
}

static void test_strv_build(void) {
        _cleanup_strv_free_ char **l = NULL;
        char *owned = strdup("two");

        g_assert_cmpuint(strv_length(NULL), ==, 0);
        g_assert_cmpint(strv_extend(&l, "one"), ==, 0);
        g_assert_cmpint(strv_push(&l, owned), ==, 0);
        g_assert_true(l[1] == owned);
        g_assert_cmpint(strv_extend(&l, ""), ==, 0);
        g_assert_cmpuint(strv_length(l), ==, 3);
        g_assert_cmpstr(l[0], ==, "one");
        g_assert_cmpstr(l[1], ==, "two");
        g_assert_cmpstr(l[2], ==, "");
        g_assert_null(l[3]);

        g_assert_null(strv_free(NULL));
}

static void test_strv_builder(void) {
        StrvBuilder b = STRV_BUILDER_INIT;
        _cleanup_strv_free_ char **l = NULL, **empty = NULL;
        char *owned = strdup("owned");
        size_t moves = 0, last_allocated = 0;
        char name[32];

        /* Nothing added: stealing gives an empty list, not NULL. */
        empty = strv_builder_steal(&b);
        g_assert_nonnull(empty);
        g_assert_null(empty[0]);

        g_assert_cmpint(strv_builder_push(&b, owned), ==, 0);
        g_assert_true(b.l[0] == owned);
        /* A NULL-terminated list with every entry in place after each append. */
        for (unsigned i = 1; i < 10000; i++) {
                snprintf(name, sizeof(name), "e%u", i);
                g_assert_cmpint(strv_builder_extend(&b, name), ==, 0);
                g_assert_cmpuint(b.n, ==, i + 1);
                g_assert_null(b.l[b.n]);
                g_assert_cmpstr(b.l[i], ==, name);
                if (b.n_allocated != last_allocated) {
                        moves++;
                        last_allocated = b.n_allocated;
                }
        }
        /* The room doubles: 10,000 appends grow the array a handful of times, not once each. */
        g_assert_cmpuint(moves, <=, 15);
        g_assert_cmpuint(strv_length(b.l), ==, 10000);

        l = strv_builder_steal(&b);
        g_assert_null(b.l);
        g_assert_cmpuint(b.n, ==, 0);
        g_assert_cmpuint(strv_length(l), ==, 10000);
        g_assert_cmpstr(l[0], ==, "owned");
        g_assert_cmpstr(l[9999], ==, "e9999");

        /* Cleared, the builder frees what it held and can start again. */
        g_assert_cmpint(strv_builder_extend(&b, "x"), ==, 0);
        strv_builder_clear(&b);
        g_assert_null(b.l);
        g_assert_cmpuint(b.n_allocated, ==, 0);
        strv_builder_clear(&b);
}

static void test_strv_copy(void) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL, **e = NULL;

        g_assert_cmpint(strv_extend(&l, "a"), ==, 0);
        g_assert_cmpint(strv_extend(&l, "b"), ==, 0);
        c = strv_copy(l);
        g_assert_nonnull(c);
        g_assert_cmpuint(strv_length(c), ==, 2);
        for (size_t i = 0; i < 2; i++) {
                g_assert_cmpstr(c[i], ==, l[i]);
                g_assert_true(c[i] != l[i]);
        }
        g_assert_null(c[2]);

        e = strv_copy(NULL);
        g_assert_nonnull(e);
        g_assert_null(e[0]);
}

static void test_strv_join(void) {
        _cleanup_strv_free_ char **l = NULL, **empty = strv_copy(NULL);
        g_autofree char *j0 = NULL, *j1 = NULL, *j2 = NULL, *j3 = NULL, *jn = NULL;

        j0 = strv_join(empty, ", ");
        g_assert_cmpstr(j0, ==, "");
        jn = strv_join(NULL, ", ");
        g_assert_cmpstr(jn, ==, "");

        g_assert_cmpint(strv_extend(&l, "a"), ==, 0);
        j1 = strv_join(l, ", ");
        g_assert_cmpstr(j1, ==, "a");
        g_assert_cmpint(strv_extend(&l, "b"), ==, 0);
        g_assert_cmpint(strv_extend(&l, ""), ==, 0);
        j2 = strv_join(l, ", ");
        g_assert_cmpstr(j2, ==, "a, b, ");
        j3 = strv_join(l, "");
        g_assert_cmpstr(j3, ==, "ab");
}

static void assert_split(const char *s, const char * const *expected) {
        _cleanup_strv_free_ char **l = strv_split(s, ',');
        size_t n = 0;

        g_assert_nonnull(l);
        while (expected[n])
                n++;
        g_assert_cmpuint(strv_length(l), ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpstr(l[i], ==, expected[i]);
}

static void test_strv_split(void) {
        assert_split(NULL, (const char * const[]) { NULL });
        assert_split("", (const char * const[]) { NULL });
        assert_split("a", (const char * const[]) { "a", NULL });
        assert_split("a,b,c", (const char * const[]) { "a", "b", "c", NULL });
        assert_split("a,,b", (const char * const[]) { "a", "", "b", NULL });
        assert_split(",a", (const char * const[]) { "", "a", NULL });
        assert_split("a,", (const char * const[]) { "a", "", NULL });
        assert_split(",", (const char * const[]) { "", "", NULL });
}

static void test_now_usec(void) {
        uint64_t a = now_usec(CLOCK_MONOTONIC), b = now_usec(CLOCK_MONOTONIC);

        g_assert_cmpuint(a, >, 0);
        g_assert_cmpuint(b, >=, a);
        /* Realtime is past 2020-01-01, in microseconds. */
        g_assert_cmpuint(now_usec(CLOCK_REALTIME), >, UINT64_C(1577836800) * USEC_PER_SEC);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/strutil/utf8/valid", test_utf8_valid);
        g_test_add_func("/strutil/utf8/invalid", test_utf8_invalid);
        g_test_add_func("/strutil/string-is-safe", test_string_is_safe);
        g_test_add_func("/strutil/strdup", test_strdup_helpers);
        g_test_add_func("/strutil/streq-isempty", test_streq_isempty);
        g_test_add_func("/strutil/erase-and-free", test_erase_and_free);
        g_test_add_func("/strutil/strv/build", test_strv_build);
        g_test_add_func("/strutil/strv/builder", test_strv_builder);
        g_test_add_func("/strutil/strv/copy", test_strv_copy);
        g_test_add_func("/strutil/strv/join", test_strv_join);
        g_test_add_func("/strutil/strv/split", test_strv_split);
        g_test_add_func("/strutil/now-usec", test_now_usec);

        return g_test_run();
}
