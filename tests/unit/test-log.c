/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/log: whole lines with their level on stderr, one write each, or, while
 * held, gathered and written together on release. stderr is swapped for a
 * packet socket, where every write arrives as one packet, so the tests count
 * writes.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

typedef struct {
        int saved_stderr;
        int reader;
} Fixture;

static void setup(Fixture *f, gconstpointer data) {
        int pair[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), ==, 0);
        f->saved_stderr = dup(STDERR_FILENO);
        g_assert_cmpint(f->saved_stderr, >=, 0);
        g_assert_cmpint(dup2(pair[1], STDERR_FILENO), ==, STDERR_FILENO);
        g_assert_cmpint(close(pair[1]), ==, 0);
        f->reader = pair[0];
}

static void teardown(Fixture *f, gconstpointer data) {
        g_assert_cmpint(dup2(f->saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
        g_assert_cmpint(close(f->saved_stderr), ==, 0);
        g_assert_cmpint(close(f->reader), ==, 0);
}

/* The next write's bytes, or NULL when nothing was written. */
static char *next_write(Fixture *f) {
        static char buf[256 * 1024];
        ssize_t n = recv(f->reader, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0) {
                g_assert_cmpint(errno, ==, EAGAIN);
                return NULL;
        }
        return g_strndup(buf, (size_t) n);
}

static void test_line_per_write(Fixture *f, gconstpointer data) {
        g_autofree char *first = NULL, *second = NULL, *none = NULL;

        log_info("added %s", "something");
        g_assert_cmpint(log_error_errno(-ENOENT, "Failed to find %d", 7), ==, -ENOENT);
        first = next_write(f);
        second = next_write(f);
        none = next_write(f);
        g_assert_cmpstr(first, ==, "<6>added something\n");
        g_assert_cmpstr(second, ==, "<3>Failed to find 7: No such file or directory\n");
        g_assert_null(none);
}

static void test_held_lines_one_write(Fixture *f, gconstpointer data) {
        g_autofree char *before = NULL, *batch = NULL, *after = NULL;

        log_hold();
        log_info("one");
        errno = EBUSY;
        log_warning("two");
        g_assert_cmpint(errno, ==, EBUSY);
        log_error_errno(-EIO, "three");
        before = next_write(f);
        g_assert_null(before);

        log_release();
        batch = next_write(f);
        g_assert_cmpstr(batch, ==, "<6>one\n<4>two\n<3>three: Input/output error\n");

        /* Released: a line is written at once again. */
        log_info("four");
        after = next_write(f);
        g_assert_cmpstr(after, ==, "<6>four\n");
}

static void test_nested_hold(Fixture *f, gconstpointer data) {
        g_autofree char *inner = NULL, *outer = NULL;

        log_hold();
        log_hold();
        log_info("inside");
        log_release();
        inner = next_write(f);
        g_assert_null(inner);
        log_info("outside");
        log_release();
        outer = next_write(f);
        g_assert_cmpstr(outer, ==, "<6>inside\n<6>outside\n");
        /* A release without a hold changes nothing. */
        log_release();
        log_info("free");
        g_free(outer);
        outer = next_write(f);
        g_assert_cmpstr(outer, ==, "<6>free\n");
}

/* More than the hold keeps: what does not fit is written early, nothing lost, the order kept. */
static void test_held_overflow(Fixture *f, gconstpointer data) {
        g_autoptr(GString) expected = g_string_new(NULL), got = g_string_new(NULL);
        char *w;
        int writes = 0;

        log_hold();
        for (int i = 0; i < 1200; i++) {
                log_info("line %04d of a burst that is longer than the hold keeps", i);
                g_string_append_printf(expected, "<6>line %04d of a burst that is longer than the hold keeps\n", i);
        }
        log_release();
        while ((w = next_write(f))) {
                g_string_append(got, w);
                g_free(w);
                writes++;
        }
        g_assert_cmpstr(got->str, ==, expected->str);
        g_assert_cmpint(writes, >, 1);
        g_assert_cmpint(writes, ==, 2);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/log/line-per-write", test_line_per_write);
        ADD("/log/held-lines-one-write", test_held_lines_one_write);
        ADD("/log/nested-hold", test_nested_hold);
        ADD("/log/held-overflow", test_held_overflow);
#undef ADD

        return g_test_run();
}
