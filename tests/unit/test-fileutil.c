/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/fileutil: directories created with their parents, and lock files that name their holder. */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileutil.h"

static char *make_tmpdir(void) {
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("ird-fileutil-XXXXXX", &error);

        g_assert_no_error(error);
        return dir;
}

static void test_mkdir_parents(void) {
        g_autofree char *dir = make_tmpdir();
        g_autofree char *deep = g_build_filename(dir, "a", "b", "c", NULL);
        g_autofree char *file = g_build_filename(dir, "file", NULL);
        struct stat st;

        g_assert_cmpint(mkdir_parents(deep, 0700), ==, 0);
        g_assert_cmpint(stat(deep, &st), ==, 0);
        g_assert_true(S_ISDIR(st.st_mode));
        g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
        /* Existing directories are fine. */
        g_assert_cmpint(mkdir_parents(deep, 0700), ==, 0);

        g_assert_true(g_file_set_contents(file, "x", 1, NULL));
        g_assert_cmpint(mkdir_parents(file, 0700), ==, -ENOTDIR);

        g_assert_cmpint(g_rmdir(deep), ==, 0);
        g_autofree char *b = g_path_get_dirname(deep);
        g_autofree char *a = g_path_get_dirname(b);
        g_assert_cmpint(g_rmdir(b), ==, 0);
        g_assert_cmpint(g_rmdir(a), ==, 0);
        g_assert_cmpint(g_unlink(file), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_lock_names_holder(void) {
        g_autofree char *dir = make_tmpdir();
        g_autofree char *path = g_build_filename(dir, "lock", NULL);
        g_autofree char *contents = NULL;
        g_autofree char *own_pid = g_strdup_printf("%d\n", (int) getpid());
        struct stat st;
        pid_t holder = -1;
        int fd = -1, second = -1;

        g_assert_cmpint(lock_file_take(path, &fd, &holder), ==, 0);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
        g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, own_pid);

        /* flock() belongs to the open file: a second open, even in this process, finds it taken. */
        g_assert_cmpint(lock_file_take(path, &second, &holder), ==, -EWOULDBLOCK);
        g_assert_cmpint(second, ==, -1);
        g_assert_cmpint(holder, ==, getpid());

        /* Without a readable pid the holder is unknown. */
        g_assert_cmpint(ftruncate(fd, 0), ==, 0);
        g_assert_cmpint(lock_file_take(path, &second, &holder), ==, -EWOULDBLOCK);
        g_assert_cmpint(holder, ==, 0);

        /* Closing releases it. */
        g_assert_cmpint(close(fd), ==, 0);
        g_assert_cmpint(lock_file_take(path, &second, &holder), ==, 0);
        g_assert_cmpint(close(second), ==, 0);

        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/fileutil/mkdir-parents", test_mkdir_parents);
        g_test_add_func("/fileutil/lock/names-holder", test_lock_names_holder);

        return g_test_run();
}
