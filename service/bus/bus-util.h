/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the interface files share: the context every handler gets, reading
 * of object-path arrays (with the entry limit) and property dictionaries,
 * object registration, and the engine observer that turns model changes into
 * InterfacesAdded / InterfacesRemoved / PropertiesChanged / Completed.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "authorize.h"
#include "contract/names.h"
#include "engine/engine.h"

typedef struct BusSignals BusSignals;

typedef struct BusContext {
        sd_bus *bus;
        Engine *engine;
        const char *version;
        const char *initiator_name;
        BusSignals *signals;    /* what the current dispatch announces, sent at its end */
} BusContext;

extern const sd_bus_vtable bus_service_vtable[];
extern const sd_bus_vtable bus_collection_vtable[];
extern const sd_bus_vtable bus_system_vtable[];
extern const sd_bus_vtable bus_access_point_vtable[];
extern const sd_bus_vtable bus_secret_vtable[];
extern const sd_bus_vtable bus_job_vtable[];
extern const sd_bus_vtable bus_volume_vtable[];
extern const sd_bus_vtable bus_synchronization_vtable[];

/* Registers every object, the object manager and the enumerator; the bus must be attached to its event loop. */
int bus_register_objects(BusContext *ctx);
/* Frees what bus_register_objects() set up for ctx, dropping signals not sent yet. */
void bus_unregister_objects(BusContext *ctx);
/*
 * The observer queues what the engine announces; the queue is sent, merged
 * per object, at the end of the dispatch that filled it (bus-signals.h).
 */
const EngineObserver *bus_engine_observer(void);
/*
 * Sends the queued signals now, for code that must have them on the bus
 * before it goes on: a handler before it replies (a reply comes after the
 * signals of the change it reports), a committer before its replies, the
 * daemon after the loop has stopped.
 */
void bus_flush_signals(BusContext *ctx);

/* Whether the object is in the model (the service object always is). */
bool bus_object_exists(BusContext *ctx, ObjectKind kind, uint64_t id);
const sd_bus_vtable *bus_vtable_for_kind(ObjectKind kind);

/* The id of the object a handler was called on (its kind is known from the vtable). */
int bus_object_id(sd_bus_message *m, ObjectKind kind, uint64_t *ret);
/* The model's object of that kind at path (a System *, a Job *, …), or NULL when there is none. */
void *bus_object_of(BusContext *ctx, const char *path, ObjectKind kind);

/*
 * Reads an "ao" argument. More than max entries: LimitsExceeded (before any
 * lookup). The strings point into the message; free only the array.
 */
int bus_read_object_paths(sd_bus_message *m, const char *arg, size_t max, const char ***ret, size_t *ret_n,
                          sd_bus_error *error);

/* One expected key of an a{sv} argument. */
typedef struct BusDictField {
        const char *name;
        char type;              /* 's', 'b', 'q', 'u', 't' */
        void *value;            /* const char **, bool *, uint16_t *, uint32_t *, uint64_t * */
        bool *present;          /* optional */
} BusDictField;

/* Reads a{sv}; unknown keys, duplicates and wrong types are InvalidParameter. */
int bus_read_dict(sd_bus_message *m, const char *arg, const BusDictField *fields, size_t n_fields,
                  sd_bus_error *error);

/*
 * What a method on an object does first: authorize action (bus_authorize()),
 * then find the object the call was made on, looked up after authorization
 * since it may have gone meanwhile (UnknownObject). Returns 1 with
 * *ret_caller and *ret_id set; 0 when polkit was asked (the handler returns
 * 1: the call runs again with the answer); a negative errno with error set.
 */
int bus_authorize_object(sd_bus_message *m, ObjectKind kind, BusAction action, Caller *ret_caller,
                         char owner[static BUS_OWNER_MAX], uint64_t *ret_id, sd_bus_error *error);

/*
 * The Delete() method every object but jobs has: authorize action, then
 * delete the object the call was made on with f.
 */
typedef int (*bus_engine_delete_t)(Engine *e, const Caller *c, uint64_t id, ReplError *err);
int bus_method_delete_object(sd_bus_message *m, BusContext *ctx, ObjectKind kind, BusAction action,
                             bus_engine_delete_t f, sd_bus_error *error);

/*
 * A method that starts a job on the object it is called on (Verify,
 * Compare): authorize action, start it with f, and answer (uo) Job Started
 * and the job's path.
 */
typedef int (*bus_engine_start_job_t)(Engine *e, const Caller *c, uint64_t id, uint64_t *ret_job, ReplError *err);
int bus_method_start_object_job(sd_bus_message *m, BusContext *ctx, ObjectKind kind, BusAction action,
                                bus_engine_start_job_t f, sd_bus_error *error);

/*
 * Sends a method's reply (a reference is taken) once every change submitted
 * so far is durable (API.md section 8a), or, if its group could not be
 * stored, an error saying nothing was changed. Returns 1 for the handler to
 * return: the call is answered, now or later.
 */
int bus_reply_when_stored(BusContext *ctx, sd_bus_message *call, sd_bus_message *reply);
/* The same for a reply of the given types and values. */
int bus_reply_method_return_when_stored(BusContext *ctx, sd_bus_message *call, const char *types, ...);

int bus_append_path(sd_bus_message *reply, ObjectKind kind, uint64_t id);
int bus_append_idset(sd_bus_message *reply, ObjectKind kind, const IdSet *s);
int bus_append_strv_paths(sd_bus_message *reply, char * const *paths);
