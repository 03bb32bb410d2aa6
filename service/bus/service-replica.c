/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.iscsi.ReplicationService on the root object: the CIM
 * CIM_ReplicationService replica methods, AddStorageVolume,
 * CreateElementReplica and ModifyReplicaSynchronization. Each handler reads
 * its arguments, authorizes (manage-replicas), asks the engine, and replies
 * once the change is stored. What the arguments may be against the model is
 * the engine's to decide (core/replica-validate.h).
 */

#include <errno.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"
#include "service-replica.h"

int bus_method_add_storage_volume(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        VolumeSpec spec = { .target_name = "", .element_name = "" };
        bool have_lun = false;
        const BusDictField fields[] = {
                { "TargetName", 's', &spec.target_name },
                { "LUN", 'q', &spec.lun, &have_lun },
                { "ElementName", 's', &spec.element_name },
        };
        uint64_t volume = 0, job = 0;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "o", &spec.access_point_path);
        if (r < 0)
                return r;
        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        if (!have_lun)
                return bus_error_setf_errno(error, -EINVAL, "Properties must name the LUN.");
        r = bus_authorize(m, BUS_ACTION_MANAGE_REPLICAS,
                          (const char * const[]) { "access_point", spec.access_point_path, NULL }, UINT32_MAX, &c,
                          owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_add_volume(ctx->engine, &c, &spec, &volume, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        /* The volume exists once the job has read its size: it is the job's AffectedElements, not this reply's. */
        return bus_reply_method_return_when_stored(ctx, m, "uoo", (uint32_t) CIM_JOB_STARTED,
                                                   object_path_format(p, OBJECT_JOB, job), NULL_PATH);
}

int bus_method_create_element_replica(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], job_path[OBJECT_PATH_MAX], sync_path[OBJECT_PATH_MAX];
        ReplicaSpec spec = {};
        SyncSettings settings = {};
        const BusDictField fields[] = {
                { "CycleInterval", 't', &settings.cycle_interval, &settings.set_cycle_interval },
                { "BandwidthLimit", 't', &settings.bandwidth_limit, &settings.set_bandwidth_limit },
                { "ChunkSize", 'u', &spec.chunk_size, &spec.set_chunk_size },
        };
        uint64_t sync = 0, job = 0;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "sqqooo", &spec.element_name, &spec.sync_type, &spec.mode, &spec.source_path,
                                &spec.target_path, &spec.collection_path);
        if (r < 0)
                return r;
        r = bus_read_dict(m, "Settings", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_REPLICAS,
                          (const char * const[]) { "volume", spec.source_path, "collection", spec.collection_path, NULL },
                          UINT32_MAX, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_create_replica(ctx->engine, &c, &spec, &settings, &sync, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uoo", (uint32_t) CIM_JOB_STARTED,
                                                   object_path_format(job_path, OBJECT_JOB, job),
                                                   object_path_format(sync_path, OBJECT_SYNCHRONIZATION, sync));
}

int bus_method_modify_replica_synchronization(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        const char *synchronization;
        uint16_t operation;
        uint64_t job = 0;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "qo", &operation, &synchronization);
        if (r < 0)
                return r;
        /* Reserved: no setting is known yet, so any key is InvalidParameter. */
        r = bus_read_dict(m, "Settings", NULL, 0, error);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_REPLICAS, (const char * const[]) { "synchronization", synchronization, NULL },
                          UINT32_MAX, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_modify_replica(ctx->engine, &c, operation, synchronization, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uo", (uint32_t) (job ? CIM_JOB_STARTED : CIM_OK),
                                                   job ? object_path_format(p, OBJECT_JOB, job) : NULL_PATH);
}
