/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * D-Bus values read generically from a message into a small tree, so that
 * properties can be printed as text or JSON without knowing their types in
 * advance, and looked up by name.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"

typedef struct Value Value;

struct Value {
        char type;                      /* an SD_BUS_TYPE_* code; containers: a, r, e, v */
        char *signature;                /* containers: the contents' signature */
        union {
                bool b;
                int64_t i;
                uint64_t u;
                double d;
                char *s;                /* s, o, g */
                struct {
                        Value **items;
                        size_t n;
                } c;                    /* array, struct, dict entry, variant (one item) */
        };
};

Value *value_free(Value *v);
static inline void value_freep(Value **v) {
        value_free(*v);
}

/* Reads the next complete value from m. Returns 0 at the end of the container, 1 when read. */
int value_read(sd_bus_message *m, Value **ret);

/* A variant's contents; any other value itself. */
const Value *value_unwrap(const Value *v);

bool value_is_string(const Value *v);   /* s, o or g */
bool value_is_unsigned(const Value *v);
const char *value_get_string(const Value *v);   /* NULL unless a string */
bool value_get_bool(const Value *v, bool def);
uint64_t value_get_unsigned(const Value *v, uint64_t def);
/* For "as"/"ao": the number of entries and entry i (NULL when not a string array). */
size_t value_array_length(const Value *v);
const char *value_array_string(const Value *v, size_t i);

/* Human text: strings as they are, arrays space-separated, booleans yes/no. */
char *value_to_text(const Value *v);

/* JSON: strings and paths as strings, numbers, booleans, a{s…} as objects, other containers as arrays. */
void value_to_json(const Value *v, JsonWriter *w);

/* A name=value list, as the properties of one interface. */
typedef struct Property {
        char *name;
        Value *value;
} Property;

typedef struct PropertyList {
        Property *items;
        size_t n;
} PropertyList;

void property_list_clear(PropertyList *l);
/* Reads an a{sv} at the current position of m. */
int property_list_read(sd_bus_message *m, PropertyList *l);
const Value *property_list_get(const PropertyList *l, const char *name);
const char *property_list_get_string(const PropertyList *l, const char *name);
bool property_list_get_bool(const PropertyList *l, const char *name, bool def);
uint64_t property_list_get_unsigned(const PropertyList *l, const char *name, uint64_t def);
/* Writes the properties as the members of the JSON object that is open. */
void property_list_to_json(const PropertyList *l, JsonWriter *w);
