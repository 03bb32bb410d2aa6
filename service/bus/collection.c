/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.iscsi.ReplicationService.RemoteReplicationCollection objects. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Collection *c = bus_object_of(userdata, path, OBJECT_COLLECTION);
        char buf[32];

        if (!c)
                return -ENOENT;
        if (strcmp(property, "InstanceID") == 0) {
                snprintf(buf, sizeof(buf), "%" PRIu64, c->id);
                return sd_bus_message_append(reply, "s", buf);
        }
        if (strcmp(property, "ElementName") == 0)
                return sd_bus_message_append(reply, "s", c->element_name);
        if (strcmp(property, "Active") == 0)
                return sd_bus_message_append(reply, "b", c->active);
        if (strcmp(property, "DeleteOnUnassociated") == 0)
                return sd_bus_message_append(reply, "b", c->delete_on_unassociated);
        if (strcmp(property, "LocalAccessPoints") == 0)
                return bus_append_idset(reply, OBJECT_ACCESS_POINT, &c->local_access_points);
        if (strcmp(property, "RemoteAccessPoints") == 0)
                return bus_append_idset(reply, OBJECT_ACCESS_POINT, &c->remote_access_points);
        if (strcmp(property, "RemoteSystems") == 0)
                return bus_append_idset(reply, OBJECT_SYSTEM, &c->remote_systems);
        if (strcmp(property, "Job") == 0)
                return bus_append_path(reply, c->job_id ? OBJECT_JOB : OBJECT_NONE, c->job_id);
        return -ENOENT;
}

static int method_modify(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        CollectionSettings s = {};
        const BusDictField fields[] = {
                { "ElementName", 's', &s.element_name, &s.set_element_name },
                { "Active", 'b', &s.active, &s.set_active },
                { "DeleteOnUnassociated", 'b', &s.delete_on_unassociated, &s.set_delete_on_unassociated },
        };
        uint64_t id;
        Caller c;
        int r;

        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = bus_authorize_object(m, OBJECT_COLLECTION, BUS_ACTION_MANAGE_COLLECTIONS, &c, owner, &id, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */
        r = engine_modify_collection(ctx->engine, &c, id, &s, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, NULL);
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_delete_object(m, userdata, OBJECT_COLLECTION, BUS_ACTION_MANAGE_COLLECTIONS, engine_delete_collection, error);
}

const sd_bus_vtable bus_collection_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("InstanceID", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ElementName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Active", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeleteOnUnassociated", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LocalAccessPoints", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RemoteAccessPoints", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RemoteSystems", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Job", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("Modify", "a{sv}", SD_BUS_PARAM(Properties), "", ,
                                 method_modify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
