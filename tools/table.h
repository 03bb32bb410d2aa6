/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Aligned text tables, as the list-* commands print them: a header line of
 * upper-case column names (the legend), one line per row, columns padded to
 * the widest cell.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
Table *table_free(Table *t);
static inline void table_freep(Table **t) {
        table_free(*t);
}

/* Adds the next cell, row by row; NULL prints as "-". Returns 0 or -ENOMEM. */
int table_add_cell(Table *t, const char *text);
/* Takes ownership of text (freed also on failure). */
int table_add_cell_take(Table *t, char *text);
size_t table_rows(const Table *t);

void table_print(const Table *t, FILE *f, bool legend);

/* Terminal columns a UTF-8 string takes (one per code point: good enough for names). */
size_t utf8_display_width(const char *s);
