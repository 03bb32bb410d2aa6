/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text tables for the list-* commands. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "util/macros.h"

struct Table {
        size_t n_columns;
        char **cells;           /* row-major, n_columns per row */
        size_t n_cells;
        char **headers;
};

size_t utf8_display_width(const char *s) {
        size_t w = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xC0) != 0x80)
                        w++;
        return w;
}

Table *table_new(size_t n_columns, const char *const *headers) {
        Table *t = calloc(1, sizeof(Table));

        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->headers = calloc(n_columns, sizeof(char *));
        if (!t->headers)
                return table_free(t);
        for (size_t i = 0; i < n_columns; i++) {
                t->headers[i] = strdup(headers[i]);
                if (!t->headers[i])
                        return table_free(t);
        }
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        for (size_t i = 0; t->headers && i < t->n_columns; i++)
                free(t->headers[i]);
        free(t->headers);
        free(t);
        return NULL;
}

int table_add_cell_take(Table *t, char *text) {
        char **cells;

        if (!text) {
                text = strdup("-");
                if (!text)
                        return -ENOMEM;
        }
        cells = realloc(t->cells, (t->n_cells + 1) * sizeof(char *));
        if (!cells) {
                free(text);
                return -ENOMEM;
        }
        t->cells = cells;
        t->cells[t->n_cells++] = text;
        return 0;
}

int table_add_cell(Table *t, const char *text) {
        char *copy = strdup(text ? text : "-");

        if (!copy)
                return -ENOMEM;
        return table_add_cell_take(t, copy);
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_columns;
}

static void print_row(FILE *f, char *const *row, const size_t *widths, size_t n_columns) {
        for (size_t c = 0; c < n_columns; c++) {
                const char *s = row[c];

                fputs(s, f);
                /* No trailing blanks: the last column is not padded. */
                if (c + 1 < n_columns) {
                        size_t w = utf8_display_width(s);
                        for (size_t i = w; i < widths[c] + 1; i++)
                                fputc(' ', f);
                }
        }
        fputc('\n', f);
}

void table_print(const Table *t, FILE *f, bool legend) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));
        size_t rows = table_rows(t);

        if (!widths)
                return;
        for (size_t c = 0; c < t->n_columns; c++) {
                if (legend)
                        widths[c] = utf8_display_width(t->headers[c]);
                for (size_t r = 0; r < rows; r++)
                        widths[c] = MAX(widths[c], utf8_display_width(t->cells[r * t->n_columns + c]));
        }
        if (legend)
                print_row(f, t->headers, widths, t->n_columns);
        for (size_t r = 0; r < rows; r++)
                print_row(f, t->cells + r * t->n_columns, widths, t->n_columns);
}
