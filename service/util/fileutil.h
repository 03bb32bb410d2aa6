/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Directories and lock files: the file-system helpers shared by the store and the daemon. */

#include <sys/types.h>

/* Like mkdir -p; only directories created here get the mode. -ENOTDIR when the path is not a directory. */
int mkdir_parents(const char *directory, mode_t mode);

/*
 * Takes an exclusive flock() on path (created 0600 when missing) without
 * waiting, and writes this process's pid into the file for whoever finds it
 * taken. On success *ret_fd holds the lock until it is closed. When another
 * open file holds it: -EWOULDBLOCK, and *ret_holder is the pid written by the
 * holder, or 0 when it is not known.
 */
int lock_file_take(const char *path, int *ret_fd, pid_t *ret_holder);
