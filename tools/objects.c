/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fetching the service's objects and resolving the names users type. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "objects.h"
#include "replctl.h"
#include "util/macros.h"
#include "util/strutil.h"

/* Candidate lists longer than this are cut; a user who sees 20 knows to be more specific. */
#define MAX_CANDIDATES_SHOWN 20

static const KindWords words[_OBJECT_KIND_MAX] = {
        [OBJECT_SERVICE] = { "service", "services" },
        [OBJECT_SYSTEM] = { "system", "systems" },
        [OBJECT_ACCESS_POINT] = { "access point", "access points" },
        [OBJECT_COLLECTION] = { "collection", "collections" },
        [OBJECT_SECRET] = { "shared secret", "shared secrets" },
        [OBJECT_JOB] = { "job", "jobs" },
        [OBJECT_VOLUME] = { "volume", "volumes" },
        [OBJECT_SYNCHRONIZATION] = { "replica", "replicas" },
};

const KindWords *kind_words(ObjectKind k) {
        return k > OBJECT_NONE && k < _OBJECT_KIND_MAX ? &words[k] : NULL;
}

/* Kind and number of one of our objects' paths; OBJECT_INVALID for anything else. */
static ObjectKind parse_path(const char *path, uint64_t *ret_number) {
        ObjectKind kind;

        if (object_path_parse(path, &kind, ret_number) < 0 || kind == OBJECT_NONE)
                return OBJECT_INVALID;
        return kind;
}

void object_list_clear(ObjectList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].path);
                property_list_clear(&l->items[i].props);
        }
        free(l->items);
        *l = (ObjectList) {};
}

static int compare_objects(const void *a, const void *b) {
        const Object *x = a, *y = b;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->number != y->number)
                return x->number < y->number ? -1 : 1;
        return strcmp(x->path, y->path);
}

/* Reads one object's a{sa{sv}}, keeping the properties of its kind's interface. */
static int read_object(sd_bus_message *m, Object *o) {
        const char *interface;
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}")) > 0) {
                r = sd_bus_message_read(m, "s", &interface);
                if (r < 0)
                        return r;
                if (o->kind != OBJECT_INVALID && streq_ptr(interface, object_kind_interface(o->kind)))
                        r = property_list_read(m, &o->props);
                else
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int object_list_fetch(sd_bus *bus, ObjectList *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ObjectList l = {};
        int r;

        r = sd_bus_call_method(bus, SERVICE_BUS_NAME, SERVICE_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "oa{sa{sv}}")) > 0) {
                const char *path;
                Object *items;

                r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        break;
                items = realloc(l.items, (l.n + 1) * sizeof(Object));
                if (!items) {
                        r = -ENOMEM;
                        break;
                }
                l.items = items;
                Object *o = &l.items[l.n];
                *o = (Object) { .path = strdup(path) };
                if (!o->path) {
                        r = -ENOMEM;
                        break;
                }
                l.n++;
                o->kind = parse_path(path, &o->number);
                r = read_object(reply, o);
                if (r < 0)
                        break;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                object_list_clear(&l);
                return r;
        }

        /* Objects of other kinds (a newer service) are not ours to show. */
        size_t kept = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (l.items[i].kind == OBJECT_INVALID || l.items[i].kind == OBJECT_SERVICE) {
                        free(l.items[i].path);
                        property_list_clear(&l.items[i].props);
                        continue;
                }
                l.items[kept++] = l.items[i];
        }
        l.n = kept;
        if (l.n > 0)
                qsort(l.items, l.n, sizeof(Object), compare_objects);
        *ret = l;
        return 0;
}

const Object *object_list_find(const ObjectList *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->items[i].path, path) == 0)
                        return &l->items[i];
        return NULL;
}

size_t object_list_count(const ObjectList *l, ObjectKind kind) {
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].kind == kind)
                        n++;
        return n;
}

const char *object_display_name(const Object *o) {
        const char *s = NULL;

        switch (o->kind) {
        case OBJECT_SYSTEM:
        case OBJECT_ACCESS_POINT:
        case OBJECT_JOB:
                s = property_list_get_string(&o->props, "Name");
                break;
        case OBJECT_COLLECTION:
        case OBJECT_VOLUME:
        case OBJECT_SYNCHRONIZATION:
                s = property_list_get_string(&o->props, "ElementName");
                break;
        case OBJECT_SECRET:
                s = property_list_get_string(&o->props, "Username");
                break;
        default:
                break;
        }
        return s ? s : "";
}

static bool streq_nonempty(const char *a, const char *b) {
        return a && b && *a && strcmp(a, b) == 0;
}

/* Whether o answers to name, by the naming rules of its kind. */
static bool object_has_name(const Object *o, const char *name) {
        const PropertyList *p = &o->props;

        switch (o->kind) {
        case OBJECT_SYSTEM:
                return streq_nonempty(property_list_get_string(p, "Name"), name) ||
                       streq_nonempty(property_list_get_string(p, "ElementName"), name);
        case OBJECT_ACCESS_POINT: {
                const char *address = property_list_get_string(p, "Address");
                size_t n = strlen(name);

                if (streq_nonempty(property_list_get_string(p, "Name"), name) ||
                    streq_nonempty(property_list_get_string(p, "ElementName"), name) ||
                    streq_nonempty(address, name))
                        return true;
                /* "[fd00::1]" without a port names the address alone. */
                return address && n > 2 && name[0] == '[' && name[n - 1] == ']' && strlen(address) == n - 2 &&
                       strncmp(address, name + 1, n - 2) == 0;
        }
        case OBJECT_COLLECTION:
        case OBJECT_VOLUME:
        case OBJECT_SYNCHRONIZATION:
                return streq_nonempty(property_list_get_string(p, "ElementName"), name);
        default:
                return false;
        }
}

static void describe_candidate(FILE *f, const Object *o) {
        const char *name = object_display_name(o);
        const char *element_name = property_list_get_string(&o->props, "ElementName");

        fprintf(f, "  %s", o->path);
        if (*name)
                fprintf(f, "  %s", name);
        if (o->kind != OBJECT_COLLECTION && o->kind != OBJECT_VOLUME && o->kind != OBJECT_SYNCHRONIZATION && element_name && *element_name && strcmp(element_name, name) != 0)
                fprintf(f, " (%s)", element_name);
        fputc('\n', f);
}

static void describe_kinds(FILE *f, unsigned mask, bool plural) {
        bool first = true;

        /* "system or access point or collection or …" helps nobody. */
        if (__builtin_popcount(mask) > 2) {
                fputs(plural ? "objects" : "object", f);
                return;
        }

        for (ObjectKind k = OBJECT_SYSTEM; k < _OBJECT_KIND_MAX; k++) {
                if (!(mask & KIND_MASK(k)))
                        continue;
                fprintf(f, "%s%s", first ? "" : " or ", plural ? words[k].plural : words[k].noun);
                first = false;
        }
}

static void list_candidates(FILE *f, const Object *const *c, size_t n) {
        for (size_t i = 0; i < n && i < MAX_CANDIDATES_SHOWN; i++)
                describe_candidate(f, c[i]);
        if (n > MAX_CANDIDATES_SHOWN)
                fprintf(f, "  … and %zu more\n", n - MAX_CANDIDATES_SHOWN);
}

/*
 * A path for "kind/number" ("access-point" is taken for "access_point"),
 * NULL when name has no such shape. A number the service never gives out
 * ("job/0", "job/007") makes no path either.
 */
static char *relative_to_path(const char *name) {
        const char *slash = strchr(name, '/');
        ObjectKind kind;
        uint64_t number;
        char buf[OBJECT_PATH_MAX];

        if (!slash || slash == name || object_id_parse(slash + 1, &number) < 0)
                return NULL;
        kind = object_kind_from_string(name, (size_t) (slash - name));
        if (kind == OBJECT_INVALID)
                return NULL;
        return strdup(object_path_format(buf, kind, number));
}

/* Whether name begins with a kind and a slash, as "job/…" does. */
static bool names_kind(const char *name) {
        const char *slash = strchr(name, '/');

        return slash && slash != name && object_kind_from_string(name, (size_t) (slash - name)) != OBJECT_INVALID;
}

static const char *article(const char *noun) {
        return strchr("aeiou", noun[0]) ? "an" : "a";
}

static int resolve_path(const ObjectList *l, unsigned mask, const char *path, const Object **ret) {
        const Object *o = object_list_find(l, path);

        if (!o) {
                fprintf(stderr, "No object %s exists.\n", path);
                return -ENOENT;
        }
        if (!(mask & KIND_MASK(o->kind))) {
                fprintf(stderr, "%s is %s %s, where %s ", path, article(words[o->kind].noun), words[o->kind].noun,
                        article(words[ffs((int) mask) - 1].noun));
                describe_kinds(stderr, mask, false);
                fputs(" is expected.\n", stderr);
                return -ENOENT;
        }
        *ret = o;
        return 0;
}

int object_resolve(const ObjectList *l, unsigned mask, const char *name, ObjectFilter filter,
                   const void *userdata, const Object **ret) {
        _cleanup_free_ const Object **matches = NULL;
        _cleanup_free_ char *relative = NULL;
        size_t n_matches = 0, n_kept = 0;
        uint64_t number;

        mask &= KIND_MASK_ANY & ~KIND_MASK(OBJECT_SERVICE);
        if (!name || !*name) {
                fputs("An empty name names nothing.\n", stderr);
                return -ENOENT;
        }
        if (name[0] == '/')
                return resolve_path(l, mask, name, ret);
        if ((mask & KIND_MASK(OBJECT_SYSTEM)) && strcmp(name, "local") == 0)
                return resolve_path(l, mask, LOCAL_SYSTEM_PATH, ret);
        relative = relative_to_path(name);
        if (relative)
                return resolve_path(l, mask, relative, ret);
        if (names_kind(name)) {
                fprintf(stderr, "\"%s\" names no object: object numbers start at 1, without leading zeros.\n", name);
                return -ENOENT;
        }

        matches = calloc(l->n + 1, sizeof(Object *));
        if (!matches)
                return -ENOMEM;

        bool numeric = object_id_parse(name, &number) >= 0;
        for (size_t i = 0; i < l->n; i++) {
                const Object *o = &l->items[i];

                if (!(mask & KIND_MASK(o->kind)))
                        continue;
                /* All digits is always an id; an object whose name is all digits is named by its path. */
                if (numeric ? (o->number == number && strcmp(o->path, LOCAL_SYSTEM_PATH) != 0)
                            : object_has_name(o, name))
                        matches[n_matches++] = o;
        }

        /* Keep the matches the filter likes in front, and use only those when there are any. */
        if (filter && n_matches > 1) {
                for (size_t i = 0; i < n_matches; i++)
                        if (filter(matches[i], userdata)) {
                                const Object *t = matches[n_kept];
                                matches[n_kept++] = matches[i];
                                matches[i] = t;
                        }
                if (n_kept > 0)
                        n_matches = n_kept;
        }

        if (n_matches == 1) {
                *ret = matches[0];
                return 0;
        }
        if (n_matches > 1) {
                fprintf(stderr, "\"%s\" is ambiguous; it names %zu ", name, n_matches);
                describe_kinds(stderr, mask, true);
                fputs(":\n", stderr);
                list_candidates(stderr, matches, n_matches);
                fputs("Name one of them by its path or number.\n", stderr);
                return -ENOTUNIQ;
        }

        fputs("No ", stderr);
        describe_kinds(stderr, mask, false);
        if (numeric)
                fprintf(stderr, " has the number %s.", name);
        else
                fprintf(stderr, " is named \"%s\".", name);
        for (size_t i = 0; i < l->n; i++)
                if (mask & KIND_MASK(l->items[i].kind))
                        matches[n_matches++] = &l->items[i];
        if (n_matches == 0) {
                fputs(" There are none.\n", stderr);
                return -ENOENT;
        }
        fputs(" Known ", stderr);
        describe_kinds(stderr, mask, true);
        fputs(":\n", stderr);
        list_candidates(stderr, matches, n_matches);
        return -ENOENT;
}
