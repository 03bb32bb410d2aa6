/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Caller uids by unique name, filled from the bus daemon, dropped on NameOwnerChanged. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "caller-cache.h"
#include "util/hashindex.h"
#include "util/log.h"
#include "util/macros.h"

/* Every connection on the bus at once is far below this; over it, calls still work, uncached. */
#define CALLER_CACHE_MAX 16384

typedef struct CallerEntry {
        uint32_t uid;
        char name[];
} CallerEntry;

static struct {
        bool active;
        HashIndex index;
} cache;

static uint64_t name_hash(const char *name) {
        return hash_bytes(HASH_SEED, name, strlen(name));
}

static bool name_match(const void *item, const void *key) {
        return strcmp(((const CallerEntry *) item)->name, key) == 0;
}

static void cache_drop(const char *name) {
        uint64_t h = name_hash(name);
        CallerEntry *e = hash_index_find(&cache.index, h, name_match, name);

        if (!e)
                return;
        hash_index_remove(&cache.index, h, e);
        free(e);
}

static void cache_free(void *userdata) {
        for (size_t i = 0; i < cache.index.n_slots; i++)
                free(cache.index.slots[i].item);
        hash_index_clear(&cache.index);
        cache.active = false;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] == ':' && new_owner[0] == 0)
                cache_drop(name);
        return 0;
}

int caller_cache_start(sd_bus *bus) {
        sd_bus_slot *slot = NULL;
        int r;

        /* Synchronously: the match must be in place before the first call is read. */
        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "NameOwnerChanged", on_name_owner_changed, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to watch callers leaving the bus");
        (void) sd_bus_slot_set_destroy_callback(slot, cache_free);
        (void) sd_bus_slot_set_floating(slot, true);
        sd_bus_slot_unref(slot);
        cache.active = true;
        return 0;
}

static int ask_bus_daemon(sd_bus *bus, const char *sender, uint32_t *ret) {
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixUser", NULL, &reply, "s", sender);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", ret);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

int caller_cache_get_uid(sd_bus *bus, const char *sender, uint32_t *ret) {
        CallerEntry *e;
        size_t l;
        uint32_t uid;
        int r;

        if (!sender || sender[0] != ':')
                return -EINVAL;
        if (cache.active) {
                e = hash_index_find(&cache.index, name_hash(sender), name_match, sender);
                if (e) {
                        *ret = e->uid;
                        return 0;
                }
        }
        r = ask_bus_daemon(bus, sender, &uid);
        if (r < 0)
                return r;
        /*
         * A caller that has left makes the question fail, so what is cached
         * here belongs to a connection whose NameOwnerChanged is still to come.
         */
        l = strlen(sender);
        if (cache.active && cache.index.n_items < CALLER_CACHE_MAX) {
                e = malloc(sizeof(CallerEntry) + l + 1);
                if (e) {
                        e->uid = uid;
                        memcpy(e->name, sender, l + 1);
                        if (hash_index_put(&cache.index, name_hash(sender), e) < 0)
                                free(e);
                }
        }
        *ret = uid;
        return 0;
}

size_t caller_cache_size(void) {
        return cache.index.n_items;
}
