/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Object signals, batched per turn of the loop and merged per object (see
 * bus-signals.h for the rules). The queue keeps the order the engine
 * reported; an index by object finds the object's pending
 * PropertiesChanged, whose properties are a bit mask in the order of the
 * interface's vtable.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "bus-signals.h"
#include "bus-util.h"
#include "util/hashindex.h"
#include "util/log.h"
#include "util/strutil.h"

#define MAX_MERGED_PROPERTIES 64
#define NO_ENTRY SIZE_MAX
/* A batch this long is sent at once, however busy the loop is. */
#define MAX_QUEUED 4096
/* After the committer's group commit (SD_EVENT_PRIORITY_IDLE), which sends the batch itself when it ends. */
#define FLUSH_PRIORITY (SD_EVENT_PRIORITY_IDLE + 1)

typedef enum SignalType {
        SIGNAL_ADDED,
        SIGNAL_REMOVED,
        SIGNAL_CHANGED,
        SIGNAL_COMPLETED,
} SignalType;

typedef struct PendingSignal {
        SignalType type;
        bool dropped;                   /* merged into a later entry, or its object went */
        ObjectKind kind;
        uint64_t id;
        uint64_t properties;            /* SIGNAL_CHANGED: bit i is the vtable's i-th property */
        bool success;                   /* SIGNAL_COMPLETED */
        uint16_t error_code;
        char *message;
} PendingSignal;

/* What the batch holds for one object. */
typedef struct PendingObject {
        ObjectKind kind;
        uint64_t id;
        size_t changed;                 /* its live SIGNAL_CHANGED in the queue, or NO_ENTRY */
        bool announced;                 /* an InterfacesAdded or Completed of it is queued */
} PendingObject;

struct BusSignals {
        BusContext *ctx;                /* what the property getters are given */
        sd_bus *bus;
        sd_bus_slot *filter_slot;
        sd_event_source *flush_source;
        PendingSignal *queue;
        size_t n_queue, n_queue_allocated;
        PendingObject **objects;        /* the first n_objects are in this batch; the rest are spare */
        size_t n_objects, n_objects_allocated, n_objects_made;
        HashIndex index;                /* (kind, id) → PendingObject */
};

/* ---- properties as bits ---- */

static bool vtable_is_property(const sd_bus_vtable *v) {
        return v->type == _SD_BUS_VTABLE_PROPERTY || v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY;
}

/* The bit of a property on the kind's interface; -ENOENT when it has none by that name. */
static int property_bit(ObjectKind kind, const char *name) {
        const sd_bus_vtable *v = bus_vtable_for_kind(kind);
        int bit = 0;

        for (; v && v->type != _SD_BUS_VTABLE_END; v++) {
                if (!vtable_is_property(v))
                        continue;
                if (bit >= MAX_MERGED_PROPERTIES)
                        return -E2BIG;
                if (strcmp(v->x.property.member, name) == 0)
                        /* Merged changes carry values (emit_properties_changed()); others go to sd-bus as they are. */
                        return v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE ? bit : -EDOM;
                bit++;
        }
        return -ENOENT;
}

static int properties_to_mask(ObjectKind kind, const char * const *names, uint64_t *ret) {
        uint64_t mask = 0;

        for (const char * const *n = names; n && *n; n++) {
                int bit = property_bit(kind, *n);

                if (bit < 0)
                        return bit;
                mask |= UINT64_C(1) << bit;
        }
        *ret = mask;
        return 0;
}

/* ---- objects ---- */

static uint64_t object_hash(ObjectKind kind, uint64_t id) {
        return hash_bytes(hash_bytes(HASH_SEED, &kind, sizeof(kind)), &id, sizeof(id));
}

static bool object_matches(const void *item, const void *key) {
        const PendingObject *a = item, *b = key;

        return a->kind == b->kind && a->id == b->id;
}

/* ---- sending ---- */

static int append_property(BusSignals *s, sd_bus_message *m, const sd_bus_vtable *v, const char *path,
                           const char *interface) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', v->x.property.member);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', v->x.property.signature);
        if (r >= 0)
                r = v->x.property.get(s->bus, path, interface, v->x.property.member, m, s->ctx, &error);
        if (r >= 0 && sd_bus_error_is_set(&error))
                r = -sd_bus_error_get_errno(&error);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/*
 * PropertiesChanged with the properties of mask and their values, as
 * sd_bus_emit_properties_changed_strv() would send it (a mask holds only
 * properties that emit their value: property_bit()), built from the vtable
 * directly: sd-bus would look the object and each name up again, which cost
 * more than the signal.
 */
static int emit_properties_changed(BusSignals *s, const char *path, ObjectKind kind, uint64_t id, uint64_t mask) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *interface = object_kind_interface(kind);
        const sd_bus_vtable *v = bus_vtable_for_kind(kind);
        int bit = 0, r;

        if (!bus_object_exists(s->ctx, kind, id))
                return -ENOENT;
        r = sd_bus_message_new_signal(s->bus, &m, path, "org.freedesktop.DBus.Properties", "PropertiesChanged");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', interface);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (; r >= 0 && v && v->type != _SD_BUS_VTABLE_END && bit < MAX_MERGED_PROPERTIES; v++) {
                if (!vtable_is_property(v))
                        continue;
                if (mask & (UINT64_C(1) << bit))
                        r = append_property(s, m, v, path, interface);
                bit++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        /* No property of a mask is only invalidated. */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_send(s->bus, m, NULL);
        return r;
}

static void send_signal(BusSignals *s, const PendingSignal *e) {
        char p[OBJECT_PATH_MAX];
        const char *interface = object_kind_interface(e->kind);
        sd_bus *bus = s->bus;
        int r;

        object_path_format(p, e->kind, e->id);
        switch (e->type) {
        case SIGNAL_ADDED:
                r = sd_bus_emit_interfaces_added(bus, p, interface, NULL);
                break;
        case SIGNAL_REMOVED:
                r = sd_bus_emit_interfaces_removed(bus, p, interface, NULL);
                break;
        case SIGNAL_CHANGED:
                r = emit_properties_changed(s, p, e->kind, e->id, e->properties);
                break;
        case SIGNAL_COMPLETED:
                r = sd_bus_emit_signal(bus, p, JOB_INTERFACE, "Completed", "bqs", e->success, e->error_code,
                                       e->success ? "Completed." : e->message ? e->message : "");
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                log_warning_errno(r, "Failed to announce a change of %s", p);
}

static void batch_clear(BusSignals *s) {
        if (s->flush_source)
                (void) sd_event_source_set_enabled(s->flush_source, SD_EVENT_OFF);
        for (size_t i = 0; i < s->n_queue; i++)
                free(s->queue[i].message);
        s->n_queue = 0;
        /* The records and the index's slots stay allocated for the next batch. */
        for (size_t i = 0; i < s->n_objects; i++)
                (void) hash_index_remove(&s->index, object_hash(s->objects[i]->kind, s->objects[i]->id),
                                         s->objects[i]);
        s->n_objects = 0;
}

void bus_signals_flush(BusSignals *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_queue; i++)
                if (!s->queue[i].dropped)
                        send_signal(s, &s->queue[i]);
        batch_clear(s);
}

static int on_flush(sd_event_source *source, void *userdata) {
        bus_signals_flush(userdata);
        return 0;
}

/* Before any message is handled: whatever answers it comes after what was announced before it arrived. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        bus_signals_flush(userdata);
        return 0;
}

/* ---- the batch ---- */

static PendingObject *object_find(BusSignals *s, ObjectKind kind, uint64_t id) {
        PendingObject key = { .kind = kind, .id = id };

        return hash_index_find(&s->index, object_hash(kind, id), object_matches, &key);
}

static int object_get(BusSignals *s, ObjectKind kind, uint64_t id, PendingObject **ret) {
        PendingObject *o = object_find(s, kind, id);

        if (!o) {
                if (s->n_objects == s->n_objects_made && s->n_objects_made == s->n_objects_allocated) {
                        size_t n = s->n_objects_allocated ? s->n_objects_allocated * 2 : 16;
                        PendingObject **l = reallocarray(s->objects, n, sizeof(PendingObject *));

                        if (!l)
                                return -ENOMEM;
                        s->objects = l;
                        s->n_objects_allocated = n;
                }
                if (s->n_objects == s->n_objects_made) {
                        s->objects[s->n_objects_made] = malloc(sizeof(PendingObject));
                        if (!s->objects[s->n_objects_made])
                                return -ENOMEM;
                        s->n_objects_made++;
                }
                o = s->objects[s->n_objects];
                *o = (PendingObject) { .kind = kind, .id = id, .changed = NO_ENTRY };
                if (hash_index_put(&s->index, object_hash(kind, id), o) < 0)
                        return -ENOMEM;
                s->n_objects++;
        }
        *ret = o;
        return 0;
}

/* Appends e (taking its message) and makes sure the batch will be sent; returns its index. */
static int queue_push(BusSignals *s, PendingSignal *e, size_t *ret_index) {
        int r;

        if (s->n_queue == s->n_queue_allocated) {
                size_t n = s->n_queue_allocated ? s->n_queue_allocated * 2 : 32;
                PendingSignal *q = reallocarray(s->queue, n, sizeof(PendingSignal));

                if (!q)
                        return -ENOMEM;
                s->queue = q;
                s->n_queue_allocated = n;
        }
        r = sd_event_source_set_enabled(s->flush_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        s->queue[s->n_queue] = *e;
        e->message = NULL;
        if (ret_index)
                *ret_index = s->n_queue;
        s->n_queue++;
        return 0;
}

/* Called before anything of the batch is looked at: a full batch is sent and a new one begun. */
static void batch_make_room(BusSignals *s) {
        if (s->n_queue >= MAX_QUEUED)
                bus_signals_flush(s);
}

/* When the batch cannot hold a signal: send what it has, then this one, so that none is lost or reordered. */
static void send_now(BusSignals *s, PendingSignal *e, int error) {
        log_debug_errno(error, "Sending a signal without batching it");
        bus_signals_flush(s);
        send_signal(s, e);
        free(e->message);
}

static void send_unmerged(BusSignals *s, ObjectKind kind, uint64_t id, const char * const *properties, int error) {
        char p[OBJECT_PATH_MAX];
        int r;

        log_debug_errno(error, "Cannot merge a change of %s", object_path_format(p, kind, id));
        bus_signals_flush(s);
        r = sd_bus_emit_properties_changed_strv(s->bus, p, object_kind_interface(kind), (char **) properties);
        if (r < 0)
                log_warning_errno(r, "Failed to announce property changes of %s", p);
}

void bus_signals_added(BusSignals *s, ObjectKind kind, uint64_t id) {
        PendingSignal e = { .type = SIGNAL_ADDED, .kind = kind, .id = id };
        PendingObject *o;
        int r;

        batch_make_room(s);
        r = object_get(s, kind, id, &o);
        if (r >= 0)
                r = queue_push(s, &e, NULL);
        if (r < 0)
                return send_now(s, &e, r);
        o->announced = true;
}

void bus_signals_removed(BusSignals *s, ObjectKind kind, uint64_t id) {
        PendingSignal e = { .type = SIGNAL_REMOVED, .kind = kind, .id = id };
        PendingObject *o;
        int r;

        batch_make_room(s);
        o = object_find(s, kind, id);
        if (o && o->announced)
                /* Read what it announces while the object is still there. */
                bus_signals_flush(s);
        else if (o && o->changed != NO_ENTRY) {
                s->queue[o->changed].dropped = true;
                o->changed = NO_ENTRY;
        }
        r = queue_push(s, &e, NULL);
        if (r < 0)
                send_now(s, &e, r);
}

void bus_signals_changed(BusSignals *s, ObjectKind kind, uint64_t id, const char * const *properties) {
        PendingSignal e = { .type = SIGNAL_CHANGED, .kind = kind, .id = id };
        PendingObject *o = NULL;
        size_t index;
        int r;

        if (!properties || !properties[0])
                return;
        batch_make_room(s);
        r = properties_to_mask(kind, properties, &e.properties);
        if (r < 0)
                /* Not an emitting property of its vtable: a mistake in the engine; sd-bus sends what it can. */
                return send_unmerged(s, kind, id, properties, r);
        r = object_get(s, kind, id, &o);
        if (r < 0)
                return send_now(s, &e, r);
        if (o->changed != NO_ENTRY)
                e.properties |= s->queue[o->changed].properties;
        r = queue_push(s, &e, &index);
        if (r < 0)
                return send_now(s, &e, r);
        /* Moved to the last change: what the batch announced before it goes out first. */
        if (o->changed != NO_ENTRY)
                s->queue[o->changed].dropped = true;
        o->changed = index;
}

void bus_signals_completed(BusSignals *s, uint64_t job_id, bool success, uint16_t error_code, const char *message) {
        PendingSignal e = { .type = SIGNAL_COMPLETED, .kind = OBJECT_JOB, .id = job_id, .success = success,
                            .error_code = error_code };
        PendingObject *o;
        int r;

        if (!success && message) {
                e.message = strdup(message);
                if (!e.message)
                        return send_now(s, &e, -ENOMEM);
        }
        batch_make_room(s);
        r = object_get(s, OBJECT_JOB, job_id, &o);
        if (r >= 0)
                r = queue_push(s, &e, NULL);
        if (r < 0)
                return send_now(s, &e, r);
        o->announced = true;
        /* A later change is announced after Completed, not merged into the final state before it. */
        o->changed = NO_ENTRY;
}

/* ---- life ---- */

int bus_signals_new(BusContext *ctx, BusSignals **ret) {
        sd_bus *bus = ctx->bus;
        sd_event *event = sd_bus_get_event(bus);
        BusSignals *s;
        int r;

        if (!event)
                return -EINVAL;
        s = calloc(1, sizeof(BusSignals));
        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->bus = sd_bus_ref(bus);
        s->index = HASH_INDEX_INIT;
        r = sd_event_add_defer(event, &s->flush_source, on_flush, s);
        if (r >= 0)
                r = sd_event_source_set_priority(s->flush_source, FLUSH_PRIORITY);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->flush_source, SD_EVENT_OFF);
        if (r >= 0)
                (void) sd_event_source_set_description(s->flush_source, "object-signals");
        if (r >= 0)
                r = sd_bus_add_filter(bus, &s->filter_slot, on_message, s);
        if (r < 0) {
                bus_signals_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

BusSignals *bus_signals_free(BusSignals *s) {
        if (!s)
                return NULL;
        batch_clear(s);
        s->flush_source = sd_event_source_disable_unref(s->flush_source);
        s->filter_slot = sd_bus_slot_unref(s->filter_slot);
        free(s->queue);
        for (size_t i = 0; i < s->n_objects_made; i++)
                free(s->objects[i]);
        free(s->objects);
        hash_index_clear(&s->index);
        sd_bus_unref(s->bus);
        free(s);
        return NULL;
}
