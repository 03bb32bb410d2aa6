/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON emitter behind every --json output. Output is indented by eight
 * spaces per level, which diff and grep handle better than one long line.
 */

#include <inttypes.h>
#include <math.h>

#include "json-writer.h"

void json_write_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        /*
                         * D-Bus strings are valid UTF-8, which JSON carries as is;
                         * only the C0 controls (and DEL, which some terminals act
                         * on) must be spelled out.
                         */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void indent(JsonWriter *w) {
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("        ", w->f);
}

/* Separator and indentation before any value or key. */
static void before_item(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth == 0)
                return;
        if (w->has_items[w->depth])
                fputc(',', w->f);
        w->has_items[w->depth] = true;
        indent(w);
}

static void open_container(JsonWriter *w, char c) {
        before_item(w);
        fputc(c, w->f);
        if (w->depth + 1 >= JSON_MAX_DEPTH) {
                w->overflow = true;
                return;
        }
        w->depth++;
        w->has_items[w->depth] = false;
}

static void close_container(JsonWriter *w, char c) {
        bool had_items;

        if (w->depth == 0) {
                w->overflow = true;
                return;
        }
        had_items = w->has_items[w->depth];
        w->depth--;
        if (had_items)
                indent(w);
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) {
        open_container(w, '{');
}

void json_end_object(JsonWriter *w) {
        close_container(w, '}');
}

void json_begin_array(JsonWriter *w) {
        open_container(w, '[');
}

void json_end_array(JsonWriter *w) {
        close_container(w, ']');
}

void json_key(JsonWriter *w, const char *key) {
        before_item(w);
        json_write_escaped(w->f, key);
        fputs(": ", w->f);
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        before_item(w);
        json_write_escaped(w->f, s ? s : "");
}

void json_unsigned(JsonWriter *w, uint64_t v) {
        before_item(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_signed(JsonWriter *w, int64_t v) {
        before_item(w);
        fprintf(w->f, "%" PRIi64, v);
}

void json_double(JsonWriter *w, double v) {
        before_item(w);
        /* JSON has no NaN or infinity. */
        if (!isfinite(v))
                fputs("null", w->f);
        else
                fprintf(w->f, "%.17g", v);
}

void json_bool(JsonWriter *w, bool b) {
        before_item(w);
        fputs(b ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        before_item(w);
        fputs("null", w->f);
}

bool json_finish(JsonWriter *w) {
        fputc('\n', w->f);
        return !w->overflow && w->depth == 0 && !w->after_key;
}
