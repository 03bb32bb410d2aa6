/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.iscsi.ReplicationService.StorageSynchronized objects: a local volume
 * kept copied to a remote one (CIM_StorageSynchronized, API.md section 10).
 */

#include <errno.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"

/* The properties that are references to other objects. */
static int property_get_reference(Synchronization *s, const char *property, sd_bus_message *reply) {
        if (strcmp(property, "SystemElement") == 0)
                return bus_append_path(reply, OBJECT_VOLUME, s->source_volume_id);
        if (strcmp(property, "SyncedElement") == 0)
                return bus_append_path(reply, OBJECT_VOLUME, s->copy_volume_id);
        if (strcmp(property, "ConnectivityCollection") == 0)
                return bus_append_path(reply, OBJECT_COLLECTION, s->collection_id);
        if (strcmp(property, "Job") == 0)
                return bus_append_path(reply, s->job_id ? OBJECT_JOB : OBJECT_NONE, s->job_id);
        return -ENOENT;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Synchronization *s = bus_object_of(userdata, path, OBJECT_SYNCHRONIZATION);

        if (!s)
                return -ENOENT;
        if (strcmp(property, "ElementName") == 0)
                return sd_bus_message_append(reply, "s", s->element_name);
        if (strcmp(property, "SyncType") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) s->sync_type);
        if (strcmp(property, "Mode") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) s->mode);
        if (strcmp(property, "CopyState") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) s->copy_state);
        if (strcmp(property, "ProgressStatus") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) s->progress_status);
        if (strcmp(property, "PercentSynced") == 0)
                return sd_bus_message_append(reply, "q", s->percent);
        if (strcmp(property, "BytesScanned") == 0)
                return sd_bus_message_append(reply, "t", s->bytes_scanned);
        if (strcmp(property, "BytesTransferred") == 0)
                return sd_bus_message_append(reply, "t", s->bytes_transferred);
        if (strcmp(property, "Rate") == 0)
                return sd_bus_message_append(reply, "t", s->rate);
        if (strcmp(property, "BandwidthLimit") == 0)
                return sd_bus_message_append(reply, "t", s->bandwidth_limit);
        if (strcmp(property, "CycleInterval") == 0)
                return sd_bus_message_append(reply, "t", s->cycle_interval);
        if (strcmp(property, "ChunkSize") == 0)
                return sd_bus_message_append(reply, "u", s->chunk_size);
        if (strcmp(property, "LastSyncTime") == 0)
                return sd_bus_message_append(reply, "t", s->last_sync_time);
        if (strcmp(property, "NextSyncTime") == 0)
                return sd_bus_message_append(reply, "t", s->next_sync_time);
        if (strcmp(property, "LastError") == 0)
                return sd_bus_message_append(reply, "s", s->last_error);
        if (strcmp(property, "LastErrorID") == 0)
                return sd_bus_message_append(reply, "s", reason_to_string(s->last_error_reason));
        return property_get_reference(s, property, reply);
}

static int method_modify(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        SyncSettings s = {};
        const BusDictField fields[] = {
                { "ElementName", 's', &s.element_name, &s.set_element_name },
                { "BandwidthLimit", 't', &s.bandwidth_limit, &s.set_bandwidth_limit },
                { "CycleInterval", 't', &s.cycle_interval, &s.set_cycle_interval },
        };
        uint64_t id;
        Caller c;
        int r;

        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = bus_authorize_object(m, OBJECT_SYNCHRONIZATION, BUS_ACTION_MANAGE_REPLICAS, &c, owner, &id, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */
        r = engine_modify_synchronization(ctx->engine, &c, id, &s, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, NULL);
}

static int method_compare(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_start_object_job(m, userdata, OBJECT_SYNCHRONIZATION, BUS_ACTION_MANAGE_REPLICAS,
                                           engine_compare_synchronization, error);
}

const sd_bus_vtable bus_synchronization_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ElementName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SyncType", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Mode", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SystemElement", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SyncedElement", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConnectivityCollection", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CopyState", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ProgressStatus", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PercentSynced", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesScanned", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesTransferred", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Rate", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BandwidthLimit", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CycleInterval", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ChunkSize", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LastSyncTime", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NextSyncTime", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Job", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastError", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastErrorID", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("Modify", "a{sv}", SD_BUS_PARAM(Properties), "", ,
                                 method_modify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Compare", "", , "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job),
                                 method_compare, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
