/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The argument rules of replicas (API.md section 10) that need no I/O; see
 * replica-validate.h. Messages name the argument and the object's path;
 * caller-given strings are quoted only after validate_string_property().
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "replica-validate.h"
#include "util/strutil.h"
#include "validate.h"

int replica_validate_sync_type(uint16_t sync_type, ReplError *e) {
        if (sync_type == SYNC_TYPE_MIRROR || sync_type == SYNC_TYPE_CLONE)
                return 0;
        return repl_error_set(e, -EOPNOTSUPP, "SyncType %u is not supported; use 6 (Mirror) or 8 (Clone).",
                              sync_type);
}

int replica_validate_mode(uint16_t mode, ReplError *e) {
        if (mode == SYNC_MODE_ASYNCHRONOUS)
                return 0;
        if (mode == SYNC_MODE_SYNCHRONOUS)
                return repl_error_set(e, -EOPNOTSUPP,
                                      "Mode 2 (Synchronous) is not supported: it would put the service in the "
                                      "source's write path; use 3 (Asynchronous).");
        return repl_error_set(e, -EOPNOTSUPP, "Mode %u is not supported; use 3 (Asynchronous).", mode);
}

int replica_validate_chunk_size(uint32_t chunk_size, uint32_t source_block_size, uint32_t copy_block_size,
                                ReplError *e) {
        if (chunk_size < REPLICA_CHUNK_SIZE_MIN || chunk_size > REPLICA_CHUNK_SIZE_MAX ||
            (chunk_size & (chunk_size - 1)) != 0)
                return repl_error_set(e, -EINVAL,
                                      "ChunkSize %" PRIu32 " is not a power of two from %" PRIu32 " to %" PRIu32 ".",
                                      chunk_size, REPLICA_CHUNK_SIZE_MIN, REPLICA_CHUNK_SIZE_MAX);
        if (source_block_size == 0 || chunk_size % source_block_size != 0)
                return repl_error_set(e, -EINVAL,
                                      "ChunkSize %" PRIu32 " is not a multiple of the source's block size %" PRIu32 ".",
                                      chunk_size, source_block_size);
        if (copy_block_size == 0 || chunk_size % copy_block_size != 0)
                return repl_error_set(e, -EINVAL,
                                      "ChunkSize %" PRIu32 " is not a multiple of the copy's block size %" PRIu32 ".",
                                      chunk_size, copy_block_size);
        return 0;
}

/* The object of this kind that path names: -EINVAL for another kind or no path of ours, -ENOENT for none. */
static int resolve(const Model *m, const char *path, ObjectKind kind, const char *arg, void **ret, ReplError *e) {
        ObjectKind k;
        uint64_t id;
        void *p = NULL;

        /* A path from the bus is a valid object path, but it is not quoted unless it is ours. */
        if (object_path_parse(path, &k, &id) < 0 || k != kind)
                return repl_error_set(e, -EINVAL, "%s does not name a %s.", arg, object_kind_to_noun(kind));
        switch (kind) {
        case OBJECT_ACCESS_POINT:
                p = model_get_access_point(m, id);
                break;
        case OBJECT_VOLUME:
                p = model_get_volume(m, id);
                break;
        case OBJECT_COLLECTION:
                p = model_get_collection(m, id);
                break;
        default:
                break;
        }
        if (!p)
                return repl_error_set(e, -ENOENT, "%s %s does not exist.", arg, path);
        *ret = p;
        return 0;
}

int replica_validate_volume(const Model *m, const VolumeSpec *spec, const AccessPoint **ret_access_point,
                            const char **ret_target_name, ReplError *e) {
        AccessPoint *a = NULL;
        const char *target_name;
        char p[OBJECT_PATH_MAX];
        int r;

        /* Values first, then references, as for every method. */
        r = validate_string_property(spec->element_name, "ElementName", e);
        if (r < 0)
                return r;
        r = validate_target_name(spec->target_name, e);
        if (r < 0)
                return r;
        r = resolve(m, spec->access_point_path, OBJECT_ACCESS_POINT, "ServiceAccessPoint", (void **) &a, e);
        if (r < 0)
                return r;

        target_name = isempty(spec->target_name) ? a->target_name : spec->target_name;
        if (isempty(target_name))
                return repl_error_set(e, -EINVAL, "TargetName is required: access point %s names no target.",
                                      spec->access_point_path);
        if (model_find_volume_by_lun(m, a->id, target_name, spec->lun))
                return repl_error_set(e, -EEXIST, "LUN %u of %s behind access point %s is registered already.",
                                      spec->lun, target_name, object_path_format(p, OBJECT_ACCESS_POINT, a->id));

        *ret_access_point = a;
        *ret_target_name = target_name;
        return 0;
}

static int resolve_replica_objects(const Model *m, const ReplicaSpec *spec, ReplicaPlan *plan, ReplError *e) {
        Volume *source = NULL, *target = NULL;
        Collection *c = NULL;
        int r;

        r = resolve(m, spec->source_path, OBJECT_VOLUME, "SourceElement", (void **) &source, e);
        if (r >= 0)
                r = resolve(m, spec->target_path, OBJECT_VOLUME, "TargetElement", (void **) &target, e);
        if (r >= 0)
                r = resolve(m, spec->collection_path, OBJECT_COLLECTION, "ConnectivityCollection", (void **) &c, e);
        if (r < 0)
                return r;

        plan->source = source;
        plan->target = target;
        plan->collection = c;
        plan->source_access_point = model_get_access_point(m, source->access_point_id);
        plan->target_access_point = model_get_access_point(m, target->access_point_id);
        /* The model never holds a volume whose access point is gone; a store edited by hand might. */
        if (!plan->source_access_point || !plan->target_access_point)
                return repl_error_set(e, -ENOENT, "The access point of %s no longer exists.",
                                      plan->source_access_point ? spec->target_path : spec->source_path);
        return 0;
}

static int check_sides(const ReplicaSpec *spec, const ReplicaPlan *plan, ReplError *e) {
        if (!access_point_is_local(plan->source_access_point))
                return repl_error_set(e, -EINVAL, "SourceElement %s is a remote volume; the source must be local.",
                                      spec->source_path);
        if (access_point_is_local(plan->target_access_point))
                return repl_error_set(e, -EINVAL, "TargetElement %s is a local volume; the copy must be remote.",
                                      spec->target_path);
        if (volume_size_bytes(plan->target) < volume_size_bytes(plan->source))
                return repl_error_set(e, -EINVAL,
                                      "TargetElement %s has %" PRIu64 " bytes, fewer than the %" PRIu64
                                      " of SourceElement %s.",
                                      spec->target_path, volume_size_bytes(plan->target),
                                      volume_size_bytes(plan->source), spec->source_path);
        return 0;
}

static int check_paths(const ReplicaSpec *spec, const ReplicaPlan *plan, ReplError *e) {
        char p[OBJECT_PATH_MAX];

        if (!idset_contains(&plan->collection->local_access_points, plan->source_access_point->id))
                return repl_error_set(e, -EINVAL,
                                      "ConnectivityCollection %s does not hold the source's access point %s "
                                      "among its local access points.",
                                      spec->collection_path,
                                      object_path_format(p, OBJECT_ACCESS_POINT, plan->source_access_point->id));
        if (!idset_contains(&plan->collection->remote_access_points, plan->target_access_point->id))
                return repl_error_set(e, -EINVAL,
                                      "ConnectivityCollection %s does not hold the copy's access point %s "
                                      "among its remote access points.",
                                      spec->collection_path,
                                      object_path_format(p, OBJECT_ACCESS_POINT, plan->target_access_point->id));
        return 0;
}

static int check_roles(const Model *m, const ReplicaSpec *spec, const ReplicaPlan *plan, ReplError *e) {
        char p[OBJECT_PATH_MAX];
        Synchronization *s;

        s = model_find_synchronization_of_volume(m, plan->target->id, false);
        if (s)
                return repl_error_set(e, -EBUSY, "TargetElement %s is the copy of synchronization %s already.",
                                      spec->target_path, object_path_format(p, OBJECT_SYNCHRONIZATION, s->id));
        s = model_find_synchronization_of_volume(m, plan->target->id, true);
        if (s)
                return repl_error_set(e, -EBUSY, "TargetElement %s is the source of synchronization %s.",
                                      spec->target_path, object_path_format(p, OBJECT_SYNCHRONIZATION, s->id));
        return 0;
}

int replica_validate_create(const Model *m, const ReplicaSpec *spec, ReplicaPlan *ret, ReplError *e) {
        ReplicaPlan plan = {};
        int r;

        r = replica_validate_sync_type(spec->sync_type, e);
        if (r < 0)
                return r;
        r = replica_validate_mode(spec->mode, e);
        if (r < 0)
                return r;
        r = validate_string_property(spec->element_name, "ElementName", e);
        if (r < 0)
                return r;
        r = resolve_replica_objects(m, spec, &plan, e);
        if (r < 0)
                return r;
        r = check_sides(spec, &plan, e);
        if (r < 0)
                return r;
        /* A ChunkSize given as 0 is a bad value, not a request for the default. */
        plan.chunk_size = spec->set_chunk_size || spec->chunk_size != 0 ? spec->chunk_size : REPLICA_CHUNK_SIZE_DEFAULT;
        r = replica_validate_chunk_size(plan.chunk_size, plan.source->block_size, plan.target->block_size, e);
        if (r < 0)
                return r;
        r = check_paths(spec, &plan, e);
        if (r < 0)
                return r;
        r = check_roles(m, spec, &plan, e);
        if (r < 0)
                return r;

        *ret = plan;
        return 0;
}

static int refuse_operation(const Synchronization *s, const char *operation, ReplError *e) {
        char p[OBJECT_PATH_MAX];

        return repl_error_set(e, -EBADRQC, "Synchronization %s is %s and cannot be %s.",
                              object_path_format(p, OBJECT_SYNCHRONIZATION, s->id), copy_state_to_string(s->copy_state),
                              operation);
}

int replica_validate_operation(const Synchronization *s, uint16_t operation, ReplError *e) {
        char p[OBJECT_PATH_MAX];

        switch (operation) {
        case REPLICA_OPERATION_SUSPEND:
                if (s->copy_state != COPY_STATE_INITIALIZED && s->copy_state != COPY_STATE_UNSYNCHRONIZED &&
                    s->copy_state != COPY_STATE_SYNCHRONIZED)
                        return refuse_operation(s, "suspended", e);
                return 0;
        case REPLICA_OPERATION_RESUME:
                if (s->copy_state != COPY_STATE_SUSPENDED)
                        return refuse_operation(s, "resumed", e);
                return 0;
        case REPLICA_OPERATION_RESYNC:
                if (s->job_id != 0)
                        return repl_error_set(e, -EBADRQC, "Synchronization %s is running a cycle already.",
                                              object_path_format(p, OBJECT_SYNCHRONIZATION, s->id));
                return 0;
        case REPLICA_OPERATION_DETACH:
                return 0;
        default:
                return repl_error_set(e, -EOPNOTSUPP,
                                      "Operation %u is not supported; use 8 (Detach), 14 (Resync), 16 (Resume) "
                                      "or 22 (Suspend).",
                                      operation);
        }
}
