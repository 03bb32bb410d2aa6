/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The model's tables: pointers kept sorted by the uint64_t id each object
 * begins with, found by binary search. Used by model.c and model-replica.c;
 * nothing outside core/ needs more than MODEL_FOREACH and the model's getters.
 */

#include <stddef.h>
#include <stdint.h>

typedef struct ObjectTable {
        void **items;
        size_t n;
} ObjectTable;

/* The object with this id, or NULL. */
void *object_table_get(const ObjectTable *t, uint64_t id);
/* Inserts p in id order (not owned by the table); -EEXIST if its id is taken; -ENOMEM. */
int object_table_add(ObjectTable *t, void *p);
/* Takes the object with this id out and returns it, NULL if absent. */
void *object_table_remove(ObjectTable *t, uint64_t id);
/* Frees every object with f and empties the table. */
void object_table_free(ObjectTable *t, void *(*f)(void *));
