/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generic reading, printing and JSON conversion of D-Bus values. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-value.h"
#include "util/macros.h"

Value *value_free(Value *v) {
        if (!v)
                return NULL;
        switch (v->type) {
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                free(v->s);
                break;
        case SD_BUS_TYPE_ARRAY:
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_DICT_ENTRY:
        case SD_BUS_TYPE_VARIANT:
                for (size_t i = 0; i < v->c.n; i++)
                        value_free(v->c.items[i]);
                free(v->c.items);
                break;
        default:
                break;
        }
        free(v->signature);
        free(v);
        return NULL;
}

static int read_basic(sd_bus_message *m, char type, Value *v) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } x;
        int r;

        r = sd_bus_message_read_basic(m, type, &x);
        if (r < 0)
                return r;
        switch (type) {
        case SD_BUS_TYPE_BYTE:
                v->u = x.y;
                break;
        case SD_BUS_TYPE_BOOLEAN:
                v->b = x.b;
                break;
        case SD_BUS_TYPE_INT16:
                v->i = x.n;
                break;
        case SD_BUS_TYPE_UINT16:
                v->u = x.q;
                break;
        case SD_BUS_TYPE_INT32:
                v->i = x.i;
                break;
        case SD_BUS_TYPE_UINT32:
                v->u = x.u;
                break;
        case SD_BUS_TYPE_INT64:
                v->i = x.x;
                break;
        case SD_BUS_TYPE_UINT64:
                v->u = x.t;
                break;
        case SD_BUS_TYPE_DOUBLE:
                v->d = x.d;
                break;
        case SD_BUS_TYPE_UNIX_FD:
                /* The descriptor number is meaningless to print; keep the type only. */
                v->i = x.h;
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                v->s = strdup(x.s);
                if (!v->s)
                        return -ENOMEM;
                break;
        default:
                return -EBADMSG;
        }
        return 1;
}

static int append_item(Value *parent, Value *item) {
        Value **items = realloc(parent->c.items, (parent->c.n + 1) * sizeof(Value *));

        if (!items)
                return -ENOMEM;
        parent->c.items = items;
        parent->c.items[parent->c.n++] = item;
        return 0;
}

int value_read(sd_bus_message *m, Value **ret) {
        _cleanup_(value_freep) Value *v = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;

        v = calloc(1, sizeof(Value));
        if (!v)
                return -ENOMEM;
        v->type = type;

        if (!strchr("arev", type)) {
                r = read_basic(m, type, v);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(v);
                return 1;
        }

        v->signature = strdup(contents ? contents : "");
        if (!v->signature)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        for (;;) {
                Value *item = NULL;

                r = value_read(m, &item);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = append_item(v, item);
                if (r < 0) {
                        value_free(item);
                        return r;
                }
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 1;
}

const Value *value_unwrap(const Value *v) {
        while (v && v->type == SD_BUS_TYPE_VARIANT)
                v = v->c.n > 0 ? v->c.items[0] : NULL;
        return v;
}

bool value_is_string(const Value *v) {
        v = value_unwrap(v);
        return v && (v->type == SD_BUS_TYPE_STRING || v->type == SD_BUS_TYPE_OBJECT_PATH ||
                     v->type == SD_BUS_TYPE_SIGNATURE);
}

bool value_is_unsigned(const Value *v) {
        v = value_unwrap(v);
        return v && strchr("yqut", v->type);
}

const char *value_get_string(const Value *v) {
        return value_is_string(v) ? value_unwrap(v)->s : NULL;
}

bool value_get_bool(const Value *v, bool def) {
        v = value_unwrap(v);
        return v && v->type == SD_BUS_TYPE_BOOLEAN ? v->b : def;
}

uint64_t value_get_unsigned(const Value *v, uint64_t def) {
        return value_is_unsigned(v) ? value_unwrap(v)->u : def;
}

size_t value_array_length(const Value *v) {
        v = value_unwrap(v);
        return v && v->type == SD_BUS_TYPE_ARRAY ? v->c.n : 0;
}

const char *value_array_string(const Value *v, size_t i) {
        v = value_unwrap(v);
        if (!v || v->type != SD_BUS_TYPE_ARRAY || i >= v->c.n)
                return NULL;
        return value_get_string(v->c.items[i]);
}

static void text_append(FILE *f, const Value *v) {
        v = value_unwrap(v);
        if (!v)
                return;
        switch (v->type) {
        case SD_BUS_TYPE_BOOLEAN:
                fputs(v->b ? "yes" : "no", f);
                break;
        case SD_BUS_TYPE_BYTE:
        case SD_BUS_TYPE_UINT16:
        case SD_BUS_TYPE_UINT32:
        case SD_BUS_TYPE_UINT64:
                fprintf(f, "%" PRIu64, v->u);
                break;
        case SD_BUS_TYPE_INT16:
        case SD_BUS_TYPE_INT32:
        case SD_BUS_TYPE_INT64:
        case SD_BUS_TYPE_UNIX_FD:
                fprintf(f, "%" PRIi64, v->i);
                break;
        case SD_BUS_TYPE_DOUBLE:
                fprintf(f, "%g", v->d);
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                fputs(v->s, f);
                break;
        case SD_BUS_TYPE_ARRAY:
                for (size_t i = 0; i < v->c.n; i++) {
                        if (i > 0)
                                fputc(' ', f);
                        text_append(f, v->c.items[i]);
                }
                break;
        case SD_BUS_TYPE_DICT_ENTRY:
                if (v->c.n == 2) {
                        text_append(f, v->c.items[0]);
                        fputc('=', f);
                        text_append(f, v->c.items[1]);
                }
                break;
        case SD_BUS_TYPE_STRUCT:
                fputc('(', f);
                for (size_t i = 0; i < v->c.n; i++) {
                        if (i > 0)
                                fputs(", ", f);
                        text_append(f, v->c.items[i]);
                }
                fputc(')', f);
                break;
        default:
                break;
        }
}

char *value_to_text(const Value *v) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        text_append(f, v);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* a{sv}, a{ss}, a{oa{sv}}…: a dictionary whose keys are strings becomes a JSON object. */
static bool is_string_keyed_dict(const Value *v) {
        return v->type == SD_BUS_TYPE_ARRAY && v->signature && v->signature[0] == '{' &&
               strchr("sog", v->signature[1]);
}

void value_to_json(const Value *v, JsonWriter *w) {
        v = value_unwrap(v);
        if (!v) {
                json_null(w);
                return;
        }
        switch (v->type) {
        case SD_BUS_TYPE_BOOLEAN:
                json_bool(w, v->b);
                break;
        case SD_BUS_TYPE_BYTE:
        case SD_BUS_TYPE_UINT16:
        case SD_BUS_TYPE_UINT32:
        case SD_BUS_TYPE_UINT64:
                json_unsigned(w, v->u);
                break;
        case SD_BUS_TYPE_INT16:
        case SD_BUS_TYPE_INT32:
        case SD_BUS_TYPE_INT64:
        case SD_BUS_TYPE_UNIX_FD:
                json_signed(w, v->i);
                break;
        case SD_BUS_TYPE_DOUBLE:
                json_double(w, v->d);
                break;
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
                json_string(w, v->s);
                break;
        case SD_BUS_TYPE_ARRAY:
                if (is_string_keyed_dict(v)) {
                        json_begin_object(w);
                        for (size_t i = 0; i < v->c.n; i++) {
                                const Value *e = v->c.items[i];
                                if (e->c.n != 2)
                                        continue;
                                json_key(w, e->c.items[0]->s);
                                value_to_json(e->c.items[1], w);
                        }
                        json_end_object(w);
                        break;
                }
                json_begin_array(w);
                for (size_t i = 0; i < v->c.n; i++)
                        value_to_json(v->c.items[i], w);
                json_end_array(w);
                break;
        case SD_BUS_TYPE_STRUCT:
        case SD_BUS_TYPE_DICT_ENTRY:
                json_begin_array(w);
                for (size_t i = 0; i < v->c.n; i++)
                        value_to_json(v->c.items[i], w);
                json_end_array(w);
                break;
        default:
                json_null(w);
        }
}

void property_list_clear(PropertyList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                value_free(l->items[i].value);
        }
        free(l->items);
        *l = (PropertyList) {};
}

int property_list_read(sd_bus_message *m, PropertyList *l) {
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                _cleanup_(value_freep) Value *v = NULL;
                _cleanup_free_ char *name = NULL;
                const char *n;
                Property *items;

                r = sd_bus_message_read(m, "s", &n);
                if (r < 0)
                        return r;
                r = value_read(m, &v);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EBADMSG;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;

                name = strdup(n);
                if (!name)
                        return -ENOMEM;
                items = realloc(l->items, (l->n + 1) * sizeof(Property));
                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->items[l->n++] = (Property) { .name = TAKE_PTR(name), .value = TAKE_PTR(v) };
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

const Value *property_list_get(const PropertyList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i].name, name) == 0)
                        return l->items[i].value;
        return NULL;
}

const char *property_list_get_string(const PropertyList *l, const char *name) {
        return value_get_string(property_list_get(l, name));
}

bool property_list_get_bool(const PropertyList *l, const char *name, bool def) {
        return value_get_bool(property_list_get(l, name), def);
}

uint64_t property_list_get_unsigned(const PropertyList *l, const char *name, uint64_t def) {
        return value_get_unsigned(property_list_get(l, name), def);
}

void property_list_to_json(const PropertyList *l, JsonWriter *w) {
        for (size_t i = 0; i < l->n; i++) {
                json_key(w, l->items[i].name);
                value_to_json(l->items[i].value, w);
        }
}
