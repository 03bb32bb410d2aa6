/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The files behind test targets (tgtd.h), read and changed behind every
 * iSCSI session: tgtd keeps them open, so they are written in place.
 */

#include <glib.h>
#include <stdint.h>

/* Random bytes over the first size bytes of path. */
void backing_file_fill_random(const char *path, uint64_t size);

/*
 * A few random bytes, the first one surely changed, a third of the way into
 * chunk (of chunk_size bytes): the chunk's hash changes, its neighbours' not.
 */
void backing_file_scribble(const char *path, uint64_t chunk, uint32_t chunk_size);

/* Whether the first size bytes of a and b are the same; both hold at least size bytes. */
gboolean backing_files_equal(const char *a, const char *b, uint64_t size);
