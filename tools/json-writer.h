/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A streaming JSON emitter: objects, arrays, strings, numbers, booleans.
 * It tracks nesting so that commas and indentation come out right and
 * escapes every string as RFC 8259 asks; it never builds a tree.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deeper than any D-Bus value can nest (64 containers) plus our own wrapping. */
#define JSON_MAX_DEPTH 80

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool after_key;                         /* a key was written, its value comes next */
        bool has_items[JSON_MAX_DEPTH];         /* per level: something was written already */
        bool overflow;
} JsonWriter;

#define JSON_WRITER_INIT(file) ((JsonWriter) { .f = (file) })

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
void json_key(JsonWriter *w, const char *key);
void json_string(JsonWriter *w, const char *s);
void json_unsigned(JsonWriter *w, uint64_t v);
void json_signed(JsonWriter *w, int64_t v);
void json_double(JsonWriter *w, double v);
void json_bool(JsonWriter *w, bool b);
void json_null(JsonWriter *w);
/* Ends the document with a newline; false when nesting was unbalanced or too deep. */
bool json_finish(JsonWriter *w);

/* Writes s as a quoted JSON string. */
void json_write_escaped(FILE *f, const char *s);
