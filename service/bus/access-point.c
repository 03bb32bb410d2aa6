/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.iscsi.ReplicationService.ServiceAccessPoint objects: iSCSI portals. */

#include <errno.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "core/validate.h"
#include "errors.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        AccessPoint *a = bus_object_of(ctx, path, OBJECT_ACCESS_POINT);

        if (!a)
                return -ENOENT;
        if (strcmp(property, "Name") == 0) {
                char buf[PORTAL_NAME_MAX];

                return sd_bus_message_append(reply, "s", portal_name_format(buf, a->address, a->port));
        }
        if (strcmp(property, "ElementName") == 0)
                return sd_bus_message_append(reply, "s", a->element_name);
        if (strcmp(property, "System") == 0)
                return bus_append_path(reply, OBJECT_SYSTEM, a->system_id);
        if (strcmp(property, "IsLocal") == 0)
                return sd_bus_message_append(reply, "b", access_point_is_local(a));
        if (strcmp(property, "Address") == 0)
                return sd_bus_message_append(reply, "s", a->address);
        if (strcmp(property, "Port") == 0)
                return sd_bus_message_append(reply, "q", a->port);
        if (strcmp(property, "TargetName") == 0)
                return sd_bus_message_append(reply, "s", a->target_name);
        if (strcmp(property, "PortalGroupTag") == 0)
                return sd_bus_message_append(reply, "q", a->portal_group_tag);
        if (strcmp(property, "ProtocolIFType") == 0) {
                AddressType t = ADDRESS_HOSTNAME;

                (void) address_classify(a->address, "Address", &t, NULL);
                return sd_bus_message_append(reply, "q", address_type_to_protocol_if_type(t));
        }
        if (strcmp(property, "SharedSecret") == 0)
                return bus_append_path(reply, a->secret_id ? OBJECT_SECRET : OBJECT_NONE, a->secret_id);
        if (strcmp(property, "Collections") == 0) {
                _cleanup_(idset_clear) IdSet cols = IDSET_INIT;
                int r = model_collections_of_access_point(ctx->engine->model, a->id, &cols);

                return r < 0 ? r : bus_append_idset(reply, OBJECT_COLLECTION, &cols);
        }
        if (strcmp(property, "Reachable") == 0)
                return sd_bus_message_append(reply, "s", reachability_to_string(a->reachable));
        if (strcmp(property, "LastVerified") == 0)
                return sd_bus_message_append(reply, "t", a->last_verified);
        if (strcmp(property, "LastError") == 0)
                return sd_bus_message_append(reply, "s", a->last_error);
        if (strcmp(property, "LastErrorID") == 0)
                return sd_bus_message_append(reply, "s", reason_to_string(a->last_error_reason));
        return -ENOENT;
}

static int method_verify(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_start_object_job(m, userdata, OBJECT_ACCESS_POINT, BUS_ACTION_MANAGE_PEERS,
                                           engine_verify_access_point, error);
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_delete_object(m, userdata, OBJECT_ACCESS_POINT, BUS_ACTION_MANAGE_PEERS, engine_delete_access_point, error);
}

const sd_bus_vtable bus_access_point_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ElementName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("System", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IsLocal", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Address", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Port", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TargetName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortalGroupTag", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ProtocolIFType", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SharedSecret", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Collections", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reachable", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastVerified", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastError", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastErrorID", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("Verify", "", , "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job),
                                 method_verify, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
