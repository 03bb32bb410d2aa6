/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Size bound of GetManagedObjects (a{oa{sa{sv}}}) from the model and the
 * vtables: every name, signature and value is counted with the most padding
 * the D-Bus marshalling can add, so the bound is never below the real size.
 * A property whose string a getter derives must be counted in its kind's
 * function below; test-scale's /integration/limits/managed-objects-reply
 * checks that every reply sent fits.
 */

#include <errno.h>
#include <string.h>

#include "errors.h"
#include "reply-limit.h"
#include "util/log.h"
#include "util/strutil.h"

/*
 * A string or object path of l bytes: at most 3 bytes of padding to its
 * 4-aligned length word, the length word, the bytes, the NUL.
 */
#define STRING_BOUND(l) (3 + 4 + (l) + 1)
/* A dict entry or struct starts 8-aligned: at most 7 bytes of padding. */
#define ENTRY_PAD 7
/* An array: padding to and its length word, padding to 8-aligned entries. */
#define ARRAY_BOUND (3 + 4 + 4)
/* The longest string a getter derives rather than stores (LastErrorID, InstanceID, Reachable, NameFormat). */
#define DERIVED_STRING_MAX 28
/* An object path of ours: its kind's prefix and at most 20 digits. */
#define PATH_MAX_LENGTH 64
/* sd-bus lists Peer, Introspectable and Properties with every object, each with no properties. */
#define STANDARD_INTERFACES_BOUND                                                               \
        (3 * (ENTRY_PAD + ARRAY_BOUND) + STRING_BOUND(sizeof("org.freedesktop.DBus.Peer") - 1) + \
         STRING_BOUND(sizeof("org.freedesktop.DBus.Introspectable") - 1) +                      \
         STRING_BOUND(sizeof("org.freedesktop.DBus.Properties") - 1))

static size_t digits(uint64_t v) {
        size_t n = 1;

        while (v >= 10) {
                v /= 10;
                n++;
        }
        return n;
}

static size_t path_bound(ObjectKind kind, uint64_t id) {
        return STRING_BOUND(strlen(object_kind_prefix(kind)) + 1 + digits(id));
}

static size_t idset_bound(ObjectKind kind, const IdSet *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++)
                n += path_bound(kind, s->ids[i]);
        return n;
}

/*
 * Everything of one interface that does not depend on the object: names,
 * signatures, fixed-size values, single paths, each string's length word and
 * NUL, arrays' length words. String bytes and array entries are counted per
 * object, by the functions below, which know which strings a getter derives.
 */
static size_t interface_bound(const char *interface, const sd_bus_vtable *v) {
        size_t n = ENTRY_PAD + STRING_BOUND(strlen(interface)) + ARRAY_BOUND;

        for (; v->type != _SD_BUS_VTABLE_END; v++) {
                const char *sig;

                if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
                        continue;
                sig = v->x.property.signature;
                /* entry, name, variant signature */
                n += ENTRY_PAD + STRING_BOUND(strlen(v->x.property.member)) + 1 + strlen(sig) + 1;
                if (strcmp(sig, "o") == 0)
                        n += STRING_BOUND(PATH_MAX_LENGTH);
                else if (strcmp(sig, "s") == 0)
                        n += STRING_BOUND(0);
                else if (sig[0] == 'a')
                        n += ARRAY_BOUND;
                else
                        n += 7 + 8;     /* a basic value, padded */
        }
        return n;
}

static size_t system_bound(const System *s) {
        /* NameFormat and Reachable are derived. */
        return strlen(s->name) + strlen(s->element_name) + 2 * DERIVED_STRING_MAX +
               idset_bound(OBJECT_ACCESS_POINT, &s->access_points) + idset_bound(OBJECT_COLLECTION, &s->collections);
}

static size_t access_point_bound(const AccessPoint *a) {
        /* Name is the portal (the address again, brackets, port); Reachable and LastErrorID are derived. */
        return 2 * strlen(a->address) + 8 + strlen(a->element_name) + strlen(a->target_name) +
               strlen(a->last_error) + 2 * DERIVED_STRING_MAX + idset_bound(OBJECT_COLLECTION, &a->collections);
}

static size_t secret_bound(const SharedSecret *s) {
        return strlen(s->username) + strlen(s->mutual_username);
}

static size_t collection_bound(const Collection *c) {
        /* InstanceID is derived. */
        return strlen(c->element_name) + DERIVED_STRING_MAX +
               idset_bound(OBJECT_ACCESS_POINT, &c->local_access_points) +
               idset_bound(OBJECT_ACCESS_POINT, &c->remote_access_points) +
               idset_bound(OBJECT_SYSTEM, &c->remote_systems);
}

static size_t job_bound(const Job *j) {
        /* InstanceID and OperationalStatus' two values are derived. */
        size_t n = strlen(j->name) + strlen(j->status) + strlen(j->error_description) + strlen(j->error_source) +
                   strlen(j->owner) + DERIVED_STRING_MAX + 4;

        for (char **p = j->affected_elements; p && *p; p++)
                n += STRING_BOUND(strlen(*p));
        return n;
}

static size_t volume_bound(const Volume *v) {
        return strlen(v->element_name) + strlen(v->target_name) +
               idset_bound(OBJECT_SYNCHRONIZATION, &v->synchronizations);
}

static size_t synchronization_bound(const Synchronization *s) {
        /* LastErrorID is derived. */
        return strlen(s->element_name) + strlen(s->last_error) + DERIVED_STRING_MAX;
}

size_t bus_managed_objects_size_bound(const Model *m) {
        static const ObjectKind kinds[] = {
                OBJECT_SYSTEM, OBJECT_ACCESS_POINT, OBJECT_SECRET, OBJECT_COLLECTION, OBJECT_JOB,
                OBJECT_VOLUME, OBJECT_SYNCHRONIZATION,
        };
        const ObjectTable *tables[] = {
                &m->systems, &m->access_points, &m->secrets, &m->collections, &m->jobs,
                &m->volumes, &m->synchronizations,
        };
        size_t n = 64 + 8;      /* header fields, reply signature, the outer array */

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                size_t fixed = ENTRY_PAD + ARRAY_BOUND + STANDARD_INTERFACES_BOUND +
                               interface_bound(object_kind_interface(kinds[k]), bus_vtable_for_kind(kinds[k]));

                for (size_t i = 0; i < tables[k]->n; i++)
                        n += fixed + path_bound(kinds[k], *(const uint64_t *) tables[k]->items[i]);
        }
        MODEL_FOREACH(System, s, m->systems)
                n += system_bound(s);
        MODEL_FOREACH(AccessPoint, a, m->access_points)
                n += access_point_bound(a);
        MODEL_FOREACH(SharedSecret, s, m->secrets)
                n += secret_bound(s);
        MODEL_FOREACH(Collection, c, m->collections)
                n += collection_bound(c);
        MODEL_FOREACH(Job, j, m->jobs)
                n += job_bound(j);
        MODEL_FOREACH(Volume, v, m->volumes)
                n += volume_bound(v);
        MODEL_FOREACH(Synchronization, s, m->synchronizations)
                n += synchronization_bound(s);
        return n;
}

static int filter_managed_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        BusContext *ctx = userdata;
        size_t bound, max = ctx->engine->config.max_message_size;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") ||
            !streq_ptr(sd_bus_message_get_path(m), SERVICE_ROOT_PATH))
                return 0;
        bound = bus_managed_objects_size_bound(ctx->engine->model);
        log_debug("GetManagedObjects: the reply is at most %zu bytes (limit %zu).", bound, max);
        if (bound <= max)
                return 0;       /* sd-bus's object manager answers */

        log_warning("GetManagedObjects from %s refused: the reply could reach %zu bytes, over the bus's limit of %zu.",
                    sd_bus_message_get_sender(m) ?: "?", bound, max);
        (void) bus_error_setf_errno(&error, -EDQUOT,
                                    "The reply could reach %zu bytes, more than the bus carries (%zu); "
                                    "read the objects one by one instead.", bound, max);
        r = sd_bus_reply_method_error(m, &error);
        return r < 0 ? r : 1;
}

int bus_install_reply_limit(BusContext *ctx) {
        int r = sd_bus_add_filter(ctx->bus, NULL, filter_managed_objects, ctx);

        if (r < 0)
                return log_error_errno(r, "Failed to install the reply size filter");
        return 0;
}
