/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.iscsi.ReplicationService.SharedSecret objects. Only the user names and
 * the access point are readable; the secret bytes have no property.
 */

#include <errno.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        SharedSecret *s = bus_object_of(userdata, path, OBJECT_SECRET);

        if (!s)
                return -ENOENT;
        if (strcmp(property, "Username") == 0)
                return sd_bus_message_append(reply, "s", s->username);
        if (strcmp(property, "MutualUsername") == 0)
                return sd_bus_message_append(reply, "s", s->mutual_username);
        if (strcmp(property, "ServiceAccessPoint") == 0)
                return bus_append_path(reply, s->access_point_id ? OBJECT_ACCESS_POINT : OBJECT_NONE, s->access_point_id);
        return -ENOENT;
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_delete_object(m, userdata, OBJECT_SECRET, BUS_ACTION_MANAGE_SECRETS, engine_delete_secret, error);
}

const sd_bus_vtable bus_secret_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Username", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MutualUsername", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceAccessPoint", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
