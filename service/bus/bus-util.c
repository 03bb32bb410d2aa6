/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Object registration (fallback vtables per kind, found through the model),
 * the enumerator behind GetManagedObjects, the engine observer that emits the
 * signals, and argument readers shared by the interface files.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-signals.h"
#include "bus-util.h"
#include "caller-cache.h"
#include "reply-limit.h"
#include "errors.h"
#include "util/log.h"
#include "util/strutil.h"

const sd_bus_vtable *bus_vtable_for_kind(ObjectKind kind) {
        switch (kind) {
        case OBJECT_SERVICE:         return bus_service_vtable;
        case OBJECT_SYSTEM:          return bus_system_vtable;
        case OBJECT_ACCESS_POINT:    return bus_access_point_vtable;
        case OBJECT_COLLECTION:      return bus_collection_vtable;
        case OBJECT_SECRET:          return bus_secret_vtable;
        case OBJECT_JOB:             return bus_job_vtable;
        case OBJECT_VOLUME:          return bus_volume_vtable;
        case OBJECT_SYNCHRONIZATION: return bus_synchronization_vtable;
        default:                     return NULL;
        }
}

static void *model_object(const Model *m, ObjectKind kind, uint64_t id) {
        switch (kind) {
        case OBJECT_SYSTEM:          return model_get_system(m, id);
        case OBJECT_ACCESS_POINT:    return model_get_access_point(m, id);
        case OBJECT_COLLECTION:      return model_get_collection(m, id);
        case OBJECT_SECRET:          return model_get_secret(m, id);
        case OBJECT_JOB:             return model_get_job(m, id);
        case OBJECT_VOLUME:          return model_get_volume(m, id);
        case OBJECT_SYNCHRONIZATION: return model_get_synchronization(m, id);
        default:                     return NULL;
        }
}

bool bus_object_exists(BusContext *ctx, ObjectKind kind, uint64_t id) {
        return kind == OBJECT_SERVICE || model_object(ctx->engine->model, kind, id);
}

void *bus_object_of(BusContext *ctx, const char *path, ObjectKind kind) {
        ObjectKind k;
        uint64_t id;

        if (object_path_parse(path, &k, &id) < 0 || k != kind)
                return NULL;
        return model_object(ctx->engine->model, kind, id);
}

static int find_object(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                       sd_bus_error *error) {
        BusContext *ctx = userdata;
        ObjectKind kind;
        uint64_t id;

        if (object_path_parse(path, &kind, &id) < 0)
                return 0;
        if (!streq_ptr(object_kind_interface(kind), interface) || !model_object(ctx->engine->model, kind, id))
                return 0;
        *ret_found = ctx;
        return 1;
}

/* Fills l from i on with the paths of a table's objects; returns the next free index. */
static int append_table(char **l, size_t i, const ObjectTable *t, ObjectKind kind) {
        for (size_t k = 0; k < t->n; k++) {
                char p[OBJECT_PATH_MAX];

                l[i] = strdup(object_path_format(p, kind, *(const uint64_t *) t->items[k]));
                if (!l[i])
                        return -ENOMEM;
                i++;
        }
        return (int) i;
}

static int enumerate_objects(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes, sd_bus_error *error) {
        BusContext *ctx = userdata;
        const Model *m = ctx->engine->model;
        const struct {
                const ObjectTable *table;
                ObjectKind kind;
        } tables[] = {
                { &m->systems, OBJECT_SYSTEM },
                { &m->access_points, OBJECT_ACCESS_POINT },
                { &m->secrets, OBJECT_SECRET },
                { &m->collections, OBJECT_COLLECTION },
                { &m->jobs, OBJECT_JOB },
                { &m->volumes, OBJECT_VOLUME },
                { &m->synchronizations, OBJECT_SYNCHRONIZATION },
        };
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int r = 0;

        /* Sized once: appending one by one would measure the list on every append. */
        for (size_t k = 0; k < ELEMENTSOF(tables); k++)
                n += tables[k].table->n;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(tables); k++)
                r = append_table(l, (size_t) r, tables[k].table, tables[k].kind);
        if (r < 0)
                return r;
        *ret_nodes = TAKE_PTR(l);
        return 0;
}

int bus_register_objects(BusContext *ctx) {
        static const ObjectKind kinds[] = {
                OBJECT_SYSTEM, OBJECT_ACCESS_POINT, OBJECT_COLLECTION, OBJECT_SECRET, OBJECT_JOB,
                OBJECT_VOLUME, OBJECT_SYNCHRONIZATION,
        };
        int r;

        r = caller_cache_start(ctx->bus);
        if (r < 0)
                return r;
        r = bus_signals_new(ctx, &ctx->signals);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the object signals");
        r = bus_install_reply_limit(ctx);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(ctx->bus, NULL, SERVICE_ROOT_PATH, SERVICE_INTERFACE, bus_service_vtable, ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to register the service object");
        r = sd_bus_add_object_manager(ctx->bus, NULL, SERVICE_ROOT_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to register the object manager");
        r = sd_bus_add_node_enumerator(ctx->bus, NULL, SERVICE_ROOT_PATH, enumerate_objects, ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to register the object enumerator");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                r = sd_bus_add_fallback_vtable(ctx->bus, NULL, object_kind_prefix(kinds[i]),
                                               object_kind_interface(kinds[i]), bus_vtable_for_kind(kinds[i]),
                                               find_object, ctx);
                if (r < 0)
                        return log_error_errno(r, "Failed to register %s objects", object_kind_to_string(kinds[i]));
        }
        return 0;
}

/* The engine's reports are queued, merged and sent at the end of the dispatch (bus-signals.h). */
static void observe_added(ObjectKind kind, uint64_t id, void *userdata) {
        BusContext *ctx = userdata;

        bus_signals_added(ctx->signals, kind, id);
}

static void observe_removed(ObjectKind kind, uint64_t id, void *userdata) {
        BusContext *ctx = userdata;

        bus_signals_removed(ctx->signals, kind, id);
}

static void observe_changed(ObjectKind kind, uint64_t id, const char * const *props, void *userdata) {
        BusContext *ctx = userdata;

        bus_signals_changed(ctx->signals, kind, id, props);
}

static void observe_job_completed(const Job *j, void *userdata) {
        BusContext *ctx = userdata;

        bus_signals_completed(ctx->signals, j->id, j->state == JOB_STATE_COMPLETED, j->error_code,
                              j->error_description);
}

/* A group's signals go out before the replies that wait for it. */
static void observe_group_end(void *userdata) {
        BusContext *ctx = userdata;

        bus_signals_flush(ctx->signals);
}

static const EngineObserver observer = {
        .object_added = observe_added,
        .object_removed = observe_removed,
        .properties_changed = observe_changed,
        .job_completed = observe_job_completed,
        .group_end = observe_group_end,
};

const EngineObserver *bus_engine_observer(void) {
        return &observer;
}

void bus_flush_signals(BusContext *ctx) {
        bus_signals_flush(ctx->signals);
}

void bus_unregister_objects(BusContext *ctx) {
        ctx->signals = bus_signals_free(ctx->signals);
}

int bus_object_id(sd_bus_message *m, ObjectKind kind, uint64_t *ret) {
        ObjectKind k;
        uint64_t id;

        if (object_path_parse(sd_bus_message_get_path(m), &k, &id) < 0 || k != kind)
                return -ENOENT;
        *ret = id;
        return 0;
}

int bus_read_object_paths(sd_bus_message *m, const char *arg, size_t max, const char ***ret, size_t *ret_n,
                          sd_bus_error *error) {
        _cleanup_free_ const char **l = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "o");
        if (r < 0)
                return r;
        for (;;) {
                const char *p;

                /* read_basic, not read("o"): no format to parse for every entry of every call. */
                r = sd_bus_message_read_basic(m, 'o', &p);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (n >= max)
                        return bus_error_setf_errno(error, -EDQUOT, "%s has more than %zu entries.", arg, max);
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 4;
                        const char **nl = reallocarray(l, k, sizeof(char *));

                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        allocated = k;
                }
                l[n++] = p;
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int bus_read_dict(sd_bus_message *m, const char *arg, const BusDictField *fields, size_t n_fields,
                  sd_bus_error *error) {
        bool seen[32] = {};
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents;
                const BusDictField *f = NULL;
                size_t i;
                char type;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (i = 0; i < n_fields; i++)
                        if (strcmp(fields[i].name, key) == 0) {
                                f = &fields[i];
                                break;
                        }
                if (!f)
                        return bus_error_setf_errno(error, -EINVAL, "%s has an unknown property '%s'.", arg, key);
                if (seen[i])
                        return bus_error_setf_errno(error, -EINVAL, "%s names property '%s' twice.", arg, key);
                seen[i] = true;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (strlen(contents) != 1 || contents[0] != f->type)
                        return bus_error_setf_errno(error, -EINVAL, "Property '%s' in %s must be of type '%c', not '%s'.",
                                                    key, arg, f->type, contents);
                switch (f->type) {
                case 'b': {
                        int b;

                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r >= 0)
                                *(bool *) f->value = b;
                        break;
                }
                case 's':
                        r = sd_bus_message_read(m, "v", "s", (const char **) f->value);
                        break;
                case 'q':
                        r = sd_bus_message_read(m, "v", "q", (uint16_t *) f->value);
                        break;
                case 'u':
                        r = sd_bus_message_read(m, "v", "u", (uint32_t *) f->value);
                        break;
                case 't':
                        r = sd_bus_message_read(m, "v", "t", (uint64_t *) f->value);
                        break;
                default:
                        r = -EINVAL;
                }
                if (r < 0)
                        return r;
                if (f->present)
                        *f->present = true;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

int bus_authorize_object(sd_bus_message *m, ObjectKind kind, BusAction action, Caller *ret_caller,
                         char owner[static BUS_OWNER_MAX], uint64_t *ret_id, sd_bus_error *error) {
        int r;

        r = bus_authorize(m, action, NULL, UINT32_MAX, ret_caller, owner, error);
        if (r <= 0)
                return r;
        /* Looked up after authorization: the object may have gone meanwhile. */
        r = bus_object_id(m, kind, ret_id);
        if (r < 0)
                return bus_error_setf_errno(error, -ENOENT, "The %s does not exist.", object_kind_to_noun(kind));
        return 1;
}

int bus_method_delete_object(sd_bus_message *m, BusContext *ctx, ObjectKind kind, BusAction action,
                             bus_engine_delete_t f, sd_bus_error *error) {
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        uint64_t id;
        Caller c;
        int r;

        r = bus_authorize_object(m, kind, action, &c, owner, &id, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */
        r = f(ctx->engine, &c, id, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, NULL);
}

int bus_method_start_object_job(sd_bus_message *m, BusContext *ctx, ObjectKind kind, BusAction action,
                                bus_engine_start_job_t f, sd_bus_error *error) {
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        uint64_t id, job = 0;
        Caller c;
        int r;

        r = bus_authorize_object(m, kind, action, &c, owner, &id, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */
        r = f(ctx->engine, &c, id, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uo", (uint32_t) CIM_JOB_STARTED,
                                                   object_path_format(p, OBJECT_JOB, job));
}

typedef struct HeldReply {
        sd_bus_message *call, *reply;
} HeldReply;

static void on_stored(int error, void *userdata) {
        HeldReply *h = userdata;
        int r;

        if (error >= 0)
                r = sd_bus_send(NULL, h->reply, NULL);
        else {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                bus_error_setf_errno(&e, -EIO, "The change could not be stored; nothing was changed.");
                r = sd_bus_reply_method_error(h->call, &e);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to answer a call of %s", sd_bus_message_get_member(h->call) ?: "?");
        sd_bus_message_unref(h->call);
        sd_bus_message_unref(h->reply);
        free(h);
}

int bus_reply_when_stored(BusContext *ctx, sd_bus_message *call, sd_bus_message *reply) {
        HeldReply *h = malloc(sizeof(HeldReply));
        int r;

        if (!h)
                return -ENOMEM;
        /*
         * What this dispatch announced outside a group goes out before the reply; a group's own
         * signals are sent when it ends, before its waiters are answered (observe_group_end()).
         */
        bus_flush_signals(ctx);
        *h = (HeldReply) { sd_bus_message_ref(call), sd_bus_message_ref(reply) };
        r = engine_when_stored(ctx->engine, on_stored, h);
        if (r < 0) {
                sd_bus_message_unref(h->call);
                sd_bus_message_unref(h->reply);
                free(h);
                return r;
        }
        return 1;
}

int bus_reply_method_return_when_stored(BusContext *ctx, sd_bus_message *call, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(reply, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return bus_reply_when_stored(ctx, call, reply);
}

int bus_append_path(sd_bus_message *reply, ObjectKind kind, uint64_t id) {
        char p[OBJECT_PATH_MAX];

        /* Not sd_bus_message_append(): member lists append thousands, and it parses its format each time. */
        return sd_bus_message_append_basic(reply, 'o', object_path_format(p, kind, id));
}

int bus_append_idset(sd_bus_message *reply, ObjectKind kind, const IdSet *s) {
        int r;

        /* An IdSet is kept in the byte order of its paths, the order the contract gives member lists. */
        r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < s->n; i++)
                r = bus_append_path(reply, kind, s->ids[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

int bus_append_strv_paths(sd_bus_message *reply, char * const *paths) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        for (char * const *p = paths; r >= 0 && p && *p; p++)
                r = sd_bus_message_append_basic(reply, 'o', *p);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}
