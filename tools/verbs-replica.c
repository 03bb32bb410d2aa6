/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iscsi-replctl: volumes and replicas (API.md section 10) — listing them,
 * registering a volume, creating a replica (a synchronization), its four
 * operations, comparing, and changing its settings.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-value.h"
#include "cli.h"
#include "objects.h"
#include "replctl.h"
#include "table.h"
#include "units.h"
#include "util/strutil.h"

/* ------------------------------------------------------------------------ */
/* CIM values as words */

static const char *sync_type_to_string(uint64_t type) {
        switch (type) {
        case SYNC_TYPE_MIRROR:
                return "mirror";
        case SYNC_TYPE_CLONE:
                return "clone";
        default:
                return "unknown";
        }
}

static const char *copy_state_to_string(uint64_t state) {
        static const char *const names[] = {
                [2] = "initialized", [3] = "unsynchronized", [4] = "synchronized",
                [5] = "broken", [6] = "fractured", [9] = "suspended",
        };

        return state < ELEMENTSOF(names) && names[state] ? names[state] : "unknown";
}

static const char *progress_status_to_string(uint64_t status) {
        static const char *const names[] = {
                [2] = "completed", [3] = "dormant", [4] = "initializing", [6] = "synchronizing", [7] = "resyncing",
        };

        return status < ELEMENTSOF(names) && names[status] ? names[status] : "unknown";
}

/* ------------------------------------------------------------------------ */
/* lists */

/* The display name of the object at path, or the path when it is not in l. */
static const char *name_of(const ObjectList *l, const char *path) {
        const Object *o = path ? object_list_find(l, path) : NULL;

        if (!path || strcmp(path, NULL_PATH) == 0)
                return NULL;
        return o && *object_display_name(o) ? object_display_name(o) : path;
}

static char *volume_size(const Object *o) {
        uint64_t block = property_list_get_unsigned(&o->props, "BlockSize", 0);
        uint64_t blocks = property_list_get_unsigned(&o->props, "NumberOfBlocks", 0);
        char buf[UNITS_TEXT_MAX];

        if (block == 0 || blocks > UINT64_MAX / block)
                return strdup("-");
        return strdup(format_bytes(buf, block * blocks));
}

static int volume_row(Table *t, const ObjectList *l, const Object *o) {
        char *lun = NULL;
        int r;

        if (asprintf(&lun, "%" PRIu64, property_list_get_unsigned(&o->props, "LUN", 0)) < 0)
                return -ENOMEM;
        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "ElementName"));
        if (r >= 0)
                r = table_add_cell(t, name_of(l, property_list_get_string(&o->props, "AccessPoint")));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "TargetName"));
        if (r >= 0)
                r = table_add_cell_take(t, TAKE_PTR(lun));
        if (r >= 0)
                r = table_add_cell_take(t, volume_size(o));
        if (r >= 0)
                r = table_add_cell(t, property_list_get_bool(&o->props, "IsLocal", false) ? "yes" : "no");
        free(lun);
        return r;
}

int verb_list_volumes(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "ACCESS POINT", "TARGET", "LUN", "SIZE", "LOCAL" };

        return list_objects(bus, OBJECT_VOLUME, ELEMENTSOF(headers), headers, volume_row);
}

/* What the replica does now: "synchronizing 42%" while a cycle runs, else how the last one ended. */
static char *replica_progress(const Object *o) {
        uint64_t status = property_list_get_unsigned(&o->props, "ProgressStatus", 0);
        char *s = NULL;

        if (status == 6 || status == 7) {
                if (asprintf(&s, "%s %" PRIu64 "%%", progress_status_to_string(status),
                             property_list_get_unsigned(&o->props, "PercentSynced", 0)) < 0)
                        return NULL;
                return s;
        }
        return strdup(progress_status_to_string(status));
}

static int replica_row(Table *t, const ObjectList *l, const Object *o) {
        int r;

        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "ElementName"));
        if (r >= 0)
                r = table_add_cell(t, sync_type_to_string(property_list_get_unsigned(&o->props, "SyncType", 0)));
        if (r >= 0)
                r = table_add_cell(t, copy_state_to_string(property_list_get_unsigned(&o->props, "CopyState", 0)));
        if (r >= 0)
                r = table_add_cell_take(t, replica_progress(o));
        if (r >= 0)
                r = table_add_cell(t, name_of(l, property_list_get_string(&o->props, "SystemElement")));
        if (r >= 0)
                r = table_add_cell(t, name_of(l, property_list_get_string(&o->props, "SyncedElement")));
        if (r >= 0)
                r = table_add_cell_take(t, format_timestamp(property_list_get_unsigned(&o->props, "LastSyncTime", 0)));
        return r;
}

int verb_list_replicas(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "TYPE", "STATE", "PROGRESS", "SOURCE", "COPY",
                                               "LAST SYNC" };

        return list_objects(bus, OBJECT_SYNCHRONIZATION, ELEMENTSOF(headers), headers, replica_row);
}

/* ------------------------------------------------------------------------ */
/* volumes */

int verb_add_volume(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_strv_free_ char **affected = NULL;
        const char *access_point, *volume;
        int r, status;

        if (!(arg_given & OPT_LUN)) {
                fputs("add-volume needs --lun=N.\n", stderr);
                return EXIT_INVALID;
        }
        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_ACCESS_POINT), args[0], &access_point);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "AddStorageVolume");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "o", access_point);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "LUN", "q", arg_lun);
        if (r >= 0 && arg_target_name)
                r = sd_bus_message_append(m, "{sv}", "TargetName", "s", arg_target_name);
        if (r >= 0 && arg_element_name)
                r = sd_bus_message_append(m, "{sv}", "ElementName", "s", arg_element_name);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return append_failed(r);

        status = call_with_job(bus, m, "add the volume", &reply, &affected);
        if (status != EXIT_OK)
                return status;
        if (reply) {
                r = sd_bus_message_read(reply, "o", &volume);
                if (r < 0)
                        return report_bus_error("parse the reply", NULL, r);
                puts(volume);
        } else if (affected && affected[0])
                puts(affected[0]);
        return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* replicas */

static bool filter_volume(const Object *o, const void *userdata) {
        const bool *local = userdata;

        return property_list_get_bool(&o->props, "IsLocal", false) == *local;
}

static int append_settings(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && (arg_given & OPT_INTERVAL))
                r = sd_bus_message_append(m, "{sv}", "CycleInterval", "t", arg_interval);
        if (r >= 0 && (arg_given & OPT_BANDWIDTH))
                r = sd_bus_message_append(m, "{sv}", "BandwidthLimit", "t", arg_bandwidth);
        if (r >= 0 && (arg_given & OPT_CHUNK_SIZE))
                r = sd_bus_message_append(m, "{sv}", "ChunkSize", "u", arg_chunk_size);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int verb_create_replica(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_free_ char *created = NULL;
        const char *source, *target, *collection;
        static const bool local = true, remote = false;
        int r, status;

        if (arg_sync_type == 0) {
                fputs("create-replica needs --mirror (kept in sync) or --clone (one copy).\n", stderr);
                return EXIT_INVALID;
        }
        if (!arg_source || !arg_target || !arg_collection) {
                fputs("create-replica needs --source=VOLUME, --target=VOLUME and --collection=COLLECTION.\n", stderr);
                return EXIT_INVALID;
        }
        status = fetch_objects(bus, &l);
        if (status == EXIT_OK)
                status = resolve(&l, KIND_MASK(OBJECT_VOLUME), arg_source, filter_volume, &local, &source);
        if (status == EXIT_OK)
                status = resolve(&l, KIND_MASK(OBJECT_VOLUME), arg_target, filter_volume, &remote, &target);
        if (status == EXIT_OK)
                status = resolve(&l, KIND_MASK(OBJECT_COLLECTION), arg_collection, NULL, NULL, &collection);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "CreateElementReplica");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "sqqooo", args[0], arg_sync_type, (uint16_t) SYNC_MODE_ASYNCHRONOUS, source,
                                  target, collection);
        if (r >= 0)
                r = append_settings(m);
        if (r < 0)
                return append_failed(r);

        status = call_with_job_following(bus, m, "create the replica", NULL, &created, &reply, NULL);
        if (status == EXIT_OK && arg_wait && created)
                puts(created);
        else if (status == EXIT_JOB_FAILED && created && strcmp(created, NULL_PATH) != 0)
                /* The synchronization outlives its first cycle and remembers what was copied. */
                fprintf(stderr, "The replica %s stays; \"iscsi-replctl resync %s\" continues the copy.\n", created,
                        created);
        return status;
}

static int resolve_replica(sd_bus *bus, ObjectList *l, const char *name, const char **ret_path) {
        return fetch_and_resolve(bus, l, KIND_MASK(OBJECT_SYNCHRONIZATION), name, ret_path);
}

/* ModifyReplicaSynchronization; a cycle it starts is followed like the first one. */
static int operate(sd_bus *bus, const char *name, uint16_t operation, const char *what) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *synchronization;
        int r, status;

        status = resolve_replica(bus, &l, name, &synchronization);
        if (status != EXIT_OK)
                return status;
        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "ModifyReplicaSynchronization");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "qoa{sv}", operation, synchronization, 0);
        if (r < 0)
                return append_failed(r);
        /* A detached synchronization is gone: there is nothing to follow. */
        return call_with_job_following(bus, m, what, operation == SYNC_OPERATION_DETACH ? NULL : synchronization,
                                       NULL, &reply, NULL);
}

int verb_suspend(sd_bus *bus, char **args, size_t n_args) {
        return operate(bus, args[0], SYNC_OPERATION_SUSPEND, "suspend the replica");
}

int verb_resume(sd_bus *bus, char **args, size_t n_args) {
        return operate(bus, args[0], SYNC_OPERATION_RESUME, "resume the replica");
}

int verb_resync(sd_bus *bus, char **args, size_t n_args) {
        return operate(bus, args[0], SYNC_OPERATION_RESYNC, "resynchronize the replica");
}

int verb_detach(sd_bus *bus, char **args, size_t n_args) {
        return operate(bus, args[0], SYNC_OPERATION_DETACH, "detach the replica");
}

int verb_compare(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *synchronization;
        int status;

        status = resolve_replica(bus, &l, args[0], &synchronization);
        if (status != EXIT_OK)
                return status;
        status = new_call(bus, &m, synchronization, SYNCHRONIZATION_INTERFACE, "Compare");
        if (status != EXIT_OK)
                return status;
        /* A difference fails the job (MessageID ReplicaDiffers, the count in its description). */
        status = call_with_job(bus, m, "compare the replica", &reply, NULL);
        if (status == EXIT_OK && arg_wait)
                puts("The copy equals the source.");
        return status;
}

int modify_synchronization(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r, status;

        if (arg_given & (OPT_ACTIVE | OPT_DELETE_ON_UNASSOCIATED)) {
                fputs("--active and --delete-on-unassociated apply to collections, not to replicas.\n", stderr);
                return EXIT_INVALID;
        }
        status = new_call(bus, &m, path, SYNCHRONIZATION_INTERFACE, "Modify");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_element_name)
                r = sd_bus_message_append(m, "{sv}", "ElementName", "s", arg_element_name);
        if (r >= 0 && (arg_given & OPT_BANDWIDTH))
                r = sd_bus_message_append(m, "{sv}", "BandwidthLimit", "t", arg_bandwidth);
        if (r >= 0 && (arg_given & OPT_INTERVAL))
                r = sd_bus_message_append(m, "{sv}", "CycleInterval", "t", arg_interval);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return append_failed(r);
        return call_authorized(bus, m, "modify the replica", &reply);
}
