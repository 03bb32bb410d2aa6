/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.iscsi.ReplicationService on the root object: the CIM
 * CIM_ReplicationService connectivity methods and the service's properties.
 * Each handler reads its arguments, checks limits, authorizes, asks the
 * engine, and replies.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"
#include "service-replica.h"

/* "u o" and then empty paths and arrays; job_id 0: no job, the change is made. */
static int reply_job_started(BusContext *ctx, sd_bus_message *m, uint64_t job_id, unsigned n_empty_paths,
                             unsigned n_empty_arrays) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", (uint32_t) (job_id ? CIM_JOB_STARTED : CIM_OK));
        if (r >= 0)
                r = bus_append_path(reply, job_id ? OBJECT_JOB : OBJECT_NONE, job_id);
        for (unsigned i = 0; r >= 0 && i < n_empty_paths; i++)
                r = sd_bus_message_append(reply, "o", NULL_PATH);
        for (unsigned i = 0; r >= 0 && i < n_empty_arrays; i++)
                r = sd_bus_message_append(reply, "ao", 0);
        if (r < 0)
                return r;
        return bus_reply_when_stored(ctx, m, reply);
}

typedef struct MemberArgsBuffer {
        const char **local, **remote;
        MemberArgs args;
} MemberArgsBuffer;

static void member_args_done(MemberArgsBuffer *b) {
        free(b->local);
        free(b->remote);
}

/* Reads "ao ao o" and checks the array limits before anything is looked up. */
static int read_member_args(sd_bus_message *m, BusContext *ctx, MemberArgsBuffer *b, sd_bus_error *error) {
        size_t max = ctx->engine->config.max_array_entries;
        int r;

        r = bus_read_object_paths(m, "LocalAccessPoints", max, &b->local, &b->args.n_local, error);
        if (r < 0)
                return r;
        r = bus_read_object_paths(m, "RemoteAccessPoints", max, &b->remote, &b->args.n_remote, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "o", &b->args.system_path);
        if (r < 0)
                return r;
        b->args.local_paths = b->local;
        b->args.remote_paths = b->remote;
        return 0;
}

/*
 * The arguments AddTo and RemoveFrom share ("ao ao o o"), then their
 * authorization. Returns 1 to go on, 0 while polkit is asked, < 0 on error.
 */
static int read_collection_change(sd_bus_message *m, BusContext *ctx, MemberArgsBuffer *b, const char **ret_collection,
                                  Caller *c, char owner[static BUS_OWNER_MAX], sd_bus_error *error) {
        int r;

        r = read_member_args(m, ctx, b, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "o", ret_collection);
        if (r < 0)
                return r;
        return bus_authorize(m, BUS_ACTION_MANAGE_COLLECTIONS,
                             (const char * const[]) { "collection", *ret_collection, NULL }, UINT32_MAX, c, owner, error);
}

static int method_create_collection(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(member_args_done) MemberArgsBuffer b = {};
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        const char *name;
        uint64_t col = 0, job = 0;
        Caller c;
        int active, dou, r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = read_member_args(m, ctx, &b, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "bb", &active, &dou);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_COLLECTIONS, NULL, UINT32_MAX, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_create_collection(ctx->engine, &c, name, &b.args, active, dou, &col, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        if (job)
                return reply_job_started(ctx, m, job, 1, 0);
        return bus_reply_method_return_when_stored(ctx, m, "uoo", (uint32_t) CIM_OK, NULL_PATH,
                                                   object_path_format((char[OBJECT_PATH_MAX]) {}, OBJECT_COLLECTION, col));
}

static int method_add_to_collection(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(member_args_done) MemberArgsBuffer b = {};
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        const char *collection;
        uint64_t job = 0;
        Caller c;
        int r;

        r = read_collection_change(m, ctx, &b, &collection, &c, owner, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */

        r = engine_add_to_collection(ctx->engine, &c, collection, &b.args, &job, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return reply_job_started(ctx, m, job, 0, 0);
}

static int method_remove_from_collection(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(member_args_done) MemberArgsBuffer b = {};
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        const char *collection;
        Caller c;
        int r;

        r = read_collection_change(m, ctx, &b, &collection, &c, owner, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* 0: polkit was asked; the call runs again with its answer */

        r = engine_remove_from_collection(ctx->engine, &c, collection, &b.args, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return reply_job_started(ctx, m, 0, 0, 0);
}

static int method_add_peer_system(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        const char *name, *element_name = "";
        const BusDictField fields[] = {
                { "ElementName", 's', &element_name },
        };
        uint64_t id;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_PEERS, NULL, UINT32_MAX, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_add_peer_system(ctx->engine, &c, name, element_name, &id, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uo", (uint32_t) CIM_OK, object_path_format(p, OBJECT_SYSTEM, id));
}

static int method_add_access_point(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        const char *system;
        AccessPointSpec spec = { .address = NULL, .port = 3260, .target_name = "", .element_name = "" };
        const BusDictField fields[] = {
                { "Address", 's', &spec.address },
                { "Port", 'q', &spec.port },
                { "TargetName", 's', &spec.target_name },
                { "PortalGroupTag", 'q', &spec.portal_group_tag },
                { "ElementName", 's', &spec.element_name },
        };
        uint64_t id;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "o", &system);
        if (r < 0)
                return r;
        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_PEERS, (const char * const[]) { "system", system, NULL }, UINT32_MAX,
                          &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_add_access_point(ctx->engine, &c, system, &spec, &id, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uo", (uint32_t) CIM_OK,
                                                   object_path_format(p, OBJECT_ACCESS_POINT, id));
}

static int method_add_shared_secret(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX], p[OBJECT_PATH_MAX];
        const char *access_point;
        SecretSpec spec = { .mutual_username = "", .mutual_secret = "" };
        const BusDictField fields[] = {
                { "Username", 's', &spec.username },
                { "Secret", 's', &spec.secret },
                { "MutualUsername", 's', &spec.mutual_username },
                { "MutualSecret", 's', &spec.mutual_secret },
        };
        uint64_t id;
        Caller c;
        int r;

        /* The secret stays in the message buffer, which sd-bus frees; it is copied only into the model. */
        r = bus_read_dict(m, "Properties", fields, ELEMENTSOF(fields), error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "o", &access_point);
        if (r < 0)
                return r;
        r = bus_authorize(m, BUS_ACTION_MANAGE_SECRETS, (const char * const[]) { "access_point", access_point, NULL },
                          UINT32_MAX, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */

        r = engine_add_secret(ctx->engine, &c, access_point, &spec, &id, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "uo", (uint32_t) CIM_OK, object_path_format(p, OBJECT_SECRET, id));
}

static int method_get_peer_systems(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        uint16_t options;
        uint64_t job = 0;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "q", &options);
        if (r < 0)
                return r;
        if (options != 0 && options != 2)
                return bus_error_setf_errno(error, -EINVAL,
                                            "Options %u is not supported; use 0 (all known peers) or 2 (peers that answer now).",
                                            options);
        if (options == 2) {
                r = bus_authorize(m, BUS_ACTION_MANAGE_PEERS, NULL, UINT32_MAX, &c, owner, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;       /* polkit was asked; the call runs again with its answer */
                r = engine_probe_peer_systems(ctx->engine, &c, &job, &err);
                if (r < 0)
                        return bus_error_set_repl(error, &err);
                return reply_job_started(ctx, m, job, 0, 1);
        }

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "uo", (uint32_t) CIM_OK, NULL_PATH);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        MODEL_FOREACH(System, s, ctx->engine->model->systems)
                if (r >= 0 && s->id != LOCAL_SYSTEM_ID)
                        r = bus_append_path(reply, OBJECT_SYSTEM, s->id);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_service_access_points(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(idset_clear) IdSet aps = IDSET_INIT;
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        const char *path;
        System *s;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        r = model_resolve_system(ctx->engine->model, path, "System", &s, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        r = model_access_points_of_system(ctx->engine->model, s->id, &aps);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "uo", (uint32_t) CIM_OK, NULL_PATH);
        if (r >= 0)
                r = bus_append_idset(reply, OBJECT_ACCESS_POINT, &aps);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;

        if (strcmp(property, "Version") == 0)
                return sd_bus_message_append(reply, "s", ctx->version);
        if (strcmp(property, "LocalSystem") == 0)
                return sd_bus_message_append(reply, "o", LOCAL_SYSTEM_PATH);
        if (strcmp(property, "InitiatorName") == 0)
                return sd_bus_message_append(reply, "s", ctx->initiator_name);
        if (strcmp(property, "SupportedSynchronousActions") == 0)
                return sd_bus_message_append(reply, "aq", 7, 9, 11, 17, 18, 23, 24, 25);
        if (strcmp(property, "SupportedAsynchronousActions") == 0)
                return sd_bus_message_append(reply, "aq", 5, 2, 5, 9, 23, 24);
        /* CIM_ReplicationServiceCapabilities: SupportedSynchronizationType, …Modes, …Operations (API.md §10). */
        if (strcmp(property, "SupportedSyncTypes") == 0)
                return sd_bus_message_append(reply, "aq", 2, 6, 8);
        if (strcmp(property, "SupportedModes") == 0)
                return sd_bus_message_append(reply, "aq", 1, 3);
        if (strcmp(property, "SupportedOperations") == 0)
                return sd_bus_message_append(reply, "aq", 4, 8, 14, 16, 22);
        if (strcmp(property, "VerifyAccessPoints") == 0)
                return sd_bus_message_append(reply, "b", ctx->engine->config.verify_access_points);
        return -ENOENT;
}

const sd_bus_vtable bus_service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LocalSystem", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("InitiatorName", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedSynchronousActions", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedAsynchronousActions", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedSyncTypes", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedModes", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedOperations", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VerifyAccessPoints", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_NAMES("CreateRemoteReplicationCollection", "saoaoobb",
                                 SD_BUS_PARAM(ElementName) SD_BUS_PARAM(LocalAccessPoints)
                                 SD_BUS_PARAM(RemoteAccessPoints) SD_BUS_PARAM(RemoteComputerSystem)
                                 SD_BUS_PARAM(Active) SD_BUS_PARAM(DeleteOnUnassociated),
                                 "uoo",
                                 SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job) SD_BUS_PARAM(ConnectivityCollection),
                                 method_create_collection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddToRemoteReplicationCollection", "aoaooo",
                                 SD_BUS_PARAM(LocalAccessPoints) SD_BUS_PARAM(RemoteAccessPoints)
                                 SD_BUS_PARAM(RemoteComputerSystem) SD_BUS_PARAM(ConnectivityCollection),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job),
                                 method_add_to_collection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveFromRemoteReplicationCollection", "aoaooo",
                                 SD_BUS_PARAM(LocalAccessPoints) SD_BUS_PARAM(RemoteAccessPoints)
                                 SD_BUS_PARAM(RemoteComputerSystem) SD_BUS_PARAM(ConnectivityCollection),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job),
                                 method_remove_from_collection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddPeerSystem", "sa{sv}", SD_BUS_PARAM(Name) SD_BUS_PARAM(Properties),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(System),
                                 method_add_peer_system, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddServiceAccessPoint", "oa{sv}", SD_BUS_PARAM(System) SD_BUS_PARAM(Properties),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(ServiceAccessPoint),
                                 method_add_access_point, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddSharedSecret", "a{sv}o", SD_BUS_PARAM(Properties) SD_BUS_PARAM(ServiceAccessPoint),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(SharedSecret),
                                 method_add_shared_secret, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_NAMES("GetPeerSystems", "q", SD_BUS_PARAM(Options),
                                 "uoao", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job) SD_BUS_PARAM(Systems),
                                 method_get_peer_systems, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetServiceAccessPoints", "o", SD_BUS_PARAM(System),
                                 "uoao", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job) SD_BUS_PARAM(ServiceAccessPoints),
                                 method_get_service_access_points, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AddStorageVolume", "oa{sv}", SD_BUS_PARAM(ServiceAccessPoint) SD_BUS_PARAM(Properties),
                                 "uoo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job) SD_BUS_PARAM(Volume),
                                 bus_method_add_storage_volume, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CreateElementReplica", "sqqoooa{sv}",
                                 SD_BUS_PARAM(ElementName) SD_BUS_PARAM(SyncType) SD_BUS_PARAM(Mode)
                                 SD_BUS_PARAM(SourceElement) SD_BUS_PARAM(TargetElement)
                                 SD_BUS_PARAM(ConnectivityCollection) SD_BUS_PARAM(Settings),
                                 "uoo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job) SD_BUS_PARAM(Synchronization),
                                 bus_method_create_element_replica, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ModifyReplicaSynchronization", "qoa{sv}",
                                 SD_BUS_PARAM(Operation) SD_BUS_PARAM(Synchronization) SD_BUS_PARAM(Settings),
                                 "uo", SD_BUS_PARAM(ReturnValue) SD_BUS_PARAM(Job),
                                 bus_method_modify_replica_synchronization, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
