/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.iscsi.ReplicationService.StorageVolume objects: LUNs behind access points (API.md section 10). */

#include <errno.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        Volume *v = bus_object_of(ctx, path, OBJECT_VOLUME);

        if (!v)
                return -ENOENT;
        if (strcmp(property, "ElementName") == 0)
                return sd_bus_message_append(reply, "s", v->element_name);
        if (strcmp(property, "AccessPoint") == 0)
                return bus_append_path(reply, v->access_point_id ? OBJECT_ACCESS_POINT : OBJECT_NONE, v->access_point_id);
        if (strcmp(property, "IsLocal") == 0) {
                const AccessPoint *a = model_get_access_point(ctx->engine->model, v->access_point_id);

                return sd_bus_message_append(reply, "b", a && access_point_is_local(a));
        }
        if (strcmp(property, "TargetName") == 0)
                return sd_bus_message_append(reply, "s", v->target_name);
        if (strcmp(property, "LUN") == 0)
                return sd_bus_message_append(reply, "q", v->lun);
        if (strcmp(property, "BlockSize") == 0)
                return sd_bus_message_append(reply, "u", v->block_size);
        if (strcmp(property, "NumberOfBlocks") == 0)
                return sd_bus_message_append(reply, "t", v->n_blocks);
        if (strcmp(property, "Synchronizations") == 0)
                return bus_append_idset(reply, OBJECT_SYNCHRONIZATION, &v->synchronizations);
        if (strcmp(property, "LastVerified") == 0)
                return sd_bus_message_append(reply, "t", v->last_verified);
        return -ENOENT;
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_method_delete_object(m, userdata, OBJECT_VOLUME, BUS_ACTION_MANAGE_REPLICAS, engine_delete_volume, error);
}

const sd_bus_vtable bus_volume_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ElementName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AccessPoint", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("IsLocal", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TargetName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LUN", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BlockSize", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NumberOfBlocks", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Synchronizations", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastVerified", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
