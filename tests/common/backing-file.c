/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files behind test targets: filled, changed and compared in place. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backing-file.h"

#define FILL_BLOCK (64u * 1024u)

void backing_file_fill_random(const char *path, uint64_t size) {
        g_autofree guint8 *buf = g_malloc(FILL_BLOCK);
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        for (uint64_t off = 0; off < size; off += FILL_BLOCK) {
                size_t n = (size_t) MIN((uint64_t) FILL_BLOCK, size - off);

                for (size_t i = 0; i < FILL_BLOCK; i += 4)
                        *(guint32 *) (buf + i) = g_random_int();
                g_assert_cmpint(pwrite(fd, buf, n, (off_t) off), ==, (ssize_t) n);
        }
        g_assert_cmpint(close(fd), ==, 0);
}

void backing_file_scribble(const char *path, uint64_t chunk, uint32_t chunk_size) {
        off_t at = (off_t) (chunk * chunk_size + chunk_size / 3);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        guint8 bytes[16];

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, bytes, 1, at), ==, 1);
        /* Random bytes may match the old ones; the first never does. */
        bytes[0] = (guint8) ~bytes[0];
        for (size_t i = 1; i < sizeof(bytes); i++)
                bytes[i] = (guint8) g_random_int();
        g_assert_cmpint(pwrite(fd, bytes, sizeof(bytes), at), ==, sizeof(bytes));
        g_assert_cmpint(close(fd), ==, 0);
}

gboolean backing_files_equal(const char *a, const char *b, uint64_t size) {
        g_autofree char *da = NULL, *db = NULL;
        gsize la = 0, lb = 0;

        g_assert_true(g_file_get_contents(a, &da, &la, NULL));
        g_assert_true(g_file_get_contents(b, &db, &lb, NULL));
        g_assert_cmpuint(la, >=, size);
        g_assert_cmpuint(lb, >=, size);
        return memcmp(da, db, size) == 0;
}
