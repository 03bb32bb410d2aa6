/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Directories and lock files. A lock is flock() on an open file, so the
 * kernel drops it when its holder exits, however it exits; the pid in the
 * file only names the holder in the message of the one that finds it taken.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "macros.h"

int mkdir_parents(const char *directory, mode_t mode) {
        _cleanup_free_ char *p = strdup(directory);
        struct stat st;

        if (!p)
                return -ENOMEM;

        for (char *slash = p + 1;; slash++) {
                slash = strchr(slash, '/');
                if (slash)
                        *slash = 0;
                if (*p && mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (!slash)
                        break;
                *slash = '/';
        }

        if (stat(directory, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return 0;
}

static pid_t read_holder(int fd) {
        char buf[32];
        ssize_t n;
        char *end;
        long v;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\n' && *end != 0) || v <= 0 || v > INT32_MAX)
                return 0;
        return (pid_t) v;
}

static int write_holder(int fd) {
        char buf[32];
        int n;

        n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0)
                return -errno;
        if (pwrite(fd, buf, (size_t) n, 0) != n)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int lock_file_take(const char *path, int *ret_fd, pid_t *ret_holder) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                if (r == -EWOULDBLOCK && ret_holder)
                        *ret_holder = read_holder(fd);
                return r;
        }
        r = write_holder(fd);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
