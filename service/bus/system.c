/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.iscsi.ReplicationService.ComputerSystem objects: this host and the peers. */

#include <errno.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "core/validate.h"
#include "errors.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        System *s = bus_object_of(ctx, path, OBJECT_SYSTEM);

        if (!s)
                return -ENOENT;
        if (strcmp(property, "Name") == 0)
                return sd_bus_message_append(reply, "s", s->name);
        if (strcmp(property, "NameFormat") == 0) {
                NameFormat f = NAME_FORMAT_HOSTNAME;

                (void) name_format_from_name(s->name, "Name", &f, NULL);
                return sd_bus_message_append(reply, "s", name_format_to_string(f));
        }
        if (strcmp(property, "ElementName") == 0)
                return sd_bus_message_append(reply, "s", s->element_name);
        if (strcmp(property, "IsLocal") == 0)
                return sd_bus_message_append(reply, "b", s->id == LOCAL_SYSTEM_ID);
        if (strcmp(property, "AccessPoints") == 0) {
                _cleanup_(idset_clear) IdSet aps = IDSET_INIT;
                int r = model_access_points_of_system(ctx->engine->model, s->id, &aps);

                return r < 0 ? r : bus_append_idset(reply, OBJECT_ACCESS_POINT, &aps);
        }
        if (strcmp(property, "Collections") == 0) {
                _cleanup_(idset_clear) IdSet cols = IDSET_INIT;
                int r = model_collections_of_system(ctx->engine->model, s->id, &cols);

                return r < 0 ? r : bus_append_idset(reply, OBJECT_COLLECTION, &cols);
        }
        if (strcmp(property, "Reachable") == 0)
                return sd_bus_message_append(reply, "s", reachability_to_string(s->reachable));
        if (strcmp(property, "LastVerified") == 0)
                return sd_bus_message_append(reply, "t", s->last_verified);
        return -ENOENT;
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_delete_object(m, userdata, OBJECT_SYSTEM, BUS_ACTION_MANAGE_PEERS, engine_delete_system, error);
}

const sd_bus_vtable bus_system_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NameFormat", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ElementName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IsLocal", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AccessPoints", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Collections", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reachable", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastVerified", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
