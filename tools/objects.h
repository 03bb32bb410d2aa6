/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The service's objects as the client sees them: fetched in one
 * GetManagedObjects call, sorted by kind and number, and found by what a
 * user types — a path, "kind/number", a bare number, "local", or a Name or
 * ElementName that names exactly one object.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "bus-value.h"
#include "contract/object-path.h"

/* Sets of kinds (ObjectKind, from the contract library). */
#define KIND_MASK(k) (1u << (k))
#define KIND_MASK_ANY (((1u << _OBJECT_KIND_MAX) - 1) & ~KIND_MASK(OBJECT_NONE) & ~KIND_MASK(OBJECT_SERVICE))

/* What a user reads for a kind; names, paths and interfaces come from the contract. */
typedef struct KindWords {
        const char *noun;               /* "access point" */
        const char *plural;
} KindWords;

const KindWords *kind_words(ObjectKind k);

typedef struct Object {
        char *path;
        ObjectKind kind;
        uint64_t number;                /* the <id> of the path; LOCAL_SYSTEM_ID for system/local */
        PropertyList props;             /* of the kind's interface */
} Object;

typedef struct ObjectList {
        Object *items;
        size_t n;
} ObjectList;

void object_list_clear(ObjectList *l);
/* GetManagedObjects, sorted by kind, then by number. */
int object_list_fetch(sd_bus *bus, ObjectList *ret, sd_bus_error *error);
const Object *object_list_find(const ObjectList *l, const char *path);
size_t object_list_count(const ObjectList *l, ObjectKind kind);

/* The name a user would recognize: Name, ElementName or Username; never NULL. */
const char *object_display_name(const Object *o);

/* Narrows name matches (for example to local access points); return true to keep o. */
typedef bool (*ObjectFilter)(const Object *o, const void *userdata);

/*
 * Finds the one object of the kinds in mask that name stands for. When a
 * filter is given and keeps some of the matches, only those count. On
 * failure writes a message listing the candidates to stderr and returns
 * -ENOENT (nothing matches) or -ENOTUNIQ (several do).
 */
int object_resolve(const ObjectList *l, unsigned kinds, const char *name, ObjectFilter filter,
                   const void *userdata, const Object **ret);
