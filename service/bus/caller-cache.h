/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The uid of each caller, by unique bus name, so that a mutating call does
 * not cost a blocking round trip to the bus daemon. The uid comes from the
 * bus daemon (GetConnectionUnixUser: what the kernel told it when the caller
 * connected), never from /proc, so it may be trusted for the uid 0 shortcut.
 * An entry is dropped when the name leaves the bus; unique names are never
 * reused, so an entry can never describe another connection.
 */

#include <stdint.h>
#include <systemd/sd-bus.h>

/* Starts caching on bus: watches NameOwnerChanged. Freed with the bus. */
int caller_cache_start(sd_bus *bus);

/* The uid of the connection with unique name sender; asks the bus daemon on a miss. */
int caller_cache_get_uid(sd_bus *bus, const char *sender, uint32_t *ret);

/* Entries now held (for tests). */
size_t caller_cache_size(void);
