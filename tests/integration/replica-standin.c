/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for the service's replica objects, for the client's tests (see replica-standin.h). */

#include "harness.h"
#include "replica-standin.h"

#define STANDIN_JOB_RUNNING_PERCENT 42

static const char standin_xml[] =
        "<node>"
        "  <interface name='org.freedesktop.DBus.ObjectManager'>"
        "    <method name='GetManagedObjects'><arg type='a{oa{sa{sv}}}' direction='out'/></method>"
        "  </interface>"
        "  <interface name='" IRD_IFACE_SERVICE "'>"
        "    <method name='AddStorageVolume'>"
        "      <arg name='ServiceAccessPoint' type='o' direction='in'/>"
        "      <arg name='Properties' type='a{sv}' direction='in'/>"
        "      <arg name='ReturnValue' type='u' direction='out'/>"
        "      <arg name='Job' type='o' direction='out'/>"
        "      <arg name='Volume' type='o' direction='out'/>"
        "    </method>"
        "    <method name='CreateElementReplica'>"
        "      <arg name='ElementName' type='s' direction='in'/>"
        "      <arg name='SyncType' type='q' direction='in'/>"
        "      <arg name='Mode' type='q' direction='in'/>"
        "      <arg name='SourceElement' type='o' direction='in'/>"
        "      <arg name='TargetElement' type='o' direction='in'/>"
        "      <arg name='ConnectivityCollection' type='o' direction='in'/>"
        "      <arg name='Settings' type='a{sv}' direction='in'/>"
        "      <arg name='ReturnValue' type='u' direction='out'/>"
        "      <arg name='Job' type='o' direction='out'/>"
        "      <arg name='Synchronization' type='o' direction='out'/>"
        "    </method>"
        "    <method name='ModifyReplicaSynchronization'>"
        "      <arg name='Operation' type='q' direction='in'/>"
        "      <arg name='Synchronization' type='o' direction='in'/>"
        "      <arg name='Settings' type='a{sv}' direction='in'/>"
        "      <arg name='ReturnValue' type='u' direction='out'/>"
        "      <arg name='Job' type='o' direction='out'/>"
        "    </method>"
        "  </interface>"
        "  <interface name='" IRD_IFACE_SYNCHRONIZATION "'>"
        "    <method name='Modify'><arg name='Properties' type='a{sv}' direction='in'/></method>"
        "    <method name='Compare'>"
        "      <arg name='ReturnValue' type='u' direction='out'/><arg name='Job' type='o' direction='out'/>"
        "    </method>"
        "    <property name='ElementName' type='s' access='read'/>"
        "    <property name='BytesTransferred' type='t' access='read'/>"
        "    <property name='Rate' type='t' access='read'/>"
        "  </interface>"
        "  <interface name='" IRD_IFACE_JOB "'>"
        "    <property name='Name' type='s' access='read'/>"
        "    <property name='JobState' type='q' access='read'/>"
        "    <property name='PercentComplete' type='q' access='read'/>"
        "    <property name='JobStatus' type='s' access='read'/>"
        "    <property name='ExpectedEndTime' type='t' access='read'/>"
        "    <property name='ErrorCode' type='q' access='read'/>"
        "    <property name='ErrorDescription' type='s' access='read'/>"
        "    <property name='AffectedElements' type='ao' access='read'/>"
        "    <signal name='Completed'><arg type='b'/><arg type='q'/><arg type='s'/></signal>"
        "  </interface>"
        "</node>";

struct ReplicaStandin {
        GDBusConnection *connection;
        GDBusNodeInfo *info;
        guint registrations[4];
        const char *job_method;         /* the method that started the job (interned), NULL before */
        GVariant *job_arguments;        /* its arguments */
        GVariant *modify_arguments;
        gboolean completed;
        guint completion;               /* idle source that completes the job */
        guint64 expected_end;
};

static GVariant *synchronization_property(const char *name) {
        if (g_str_equal(name, "ElementName"))
                return g_variant_new_string("db-mirror");
        if (g_str_equal(name, "BytesTransferred"))
                return g_variant_new_uint64(STANDIN_BYTES_TRANSFERRED);
        return g_variant_new_uint64(STANDIN_RATE);
}

static gboolean complete_job(gpointer user_data) {
        ReplicaStandin *s = user_data;
        GVariantBuilder changed;
        g_autoptr(GError) error = NULL;

        s->completion = 0;
        s->completed = TRUE;
        g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&changed, "{sv}", "JobState", g_variant_new_uint16(IRD_JOB_COMPLETED));
        g_variant_builder_add(&changed, "{sv}", "PercentComplete", g_variant_new_uint16(100));
        g_dbus_connection_emit_signal(s->connection, NULL, STANDIN_JOB, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged",
                                      g_variant_new("(sa{sv}as)", IRD_IFACE_JOB, &changed, NULL), &error);
        g_assert_no_error(error);
        g_dbus_connection_emit_signal(s->connection, NULL, STANDIN_JOB, IRD_IFACE_JOB, "Completed",
                                      g_variant_new("(bqs)", TRUE, 0, "The cycle completed."), &error);
        g_assert_no_error(error);
        return G_SOURCE_REMOVE;
}

static GVariant *job_property(ReplicaStandin *s, const char *name) {
        if (g_str_equal(name, "JobState")) {
                /* The client has read the running job: from now on the job may end. */
                if (!s->completed && !s->completion)
                        s->completion = g_idle_add(complete_job, s);
                return g_variant_new_uint16(s->completed ? IRD_JOB_COMPLETED : IRD_JOB_RUNNING);
        }
        if (g_str_equal(name, "PercentComplete"))
                return g_variant_new_uint16(s->completed ? 100 : STANDIN_JOB_RUNNING_PERCENT);
        if (g_str_equal(name, "Name"))
                return g_variant_new_string(s->job_method ? s->job_method : "");
        if (g_str_equal(name, "JobStatus"))
                return g_variant_new_string("Copying");
        if (g_str_equal(name, "ExpectedEndTime"))
                return g_variant_new_uint64(s->expected_end);
        if (g_str_equal(name, "ErrorCode"))
                return g_variant_new_uint16(0);
        if (g_str_equal(name, "ErrorDescription"))
                return g_variant_new_string("");
        /* What the job worked on; a new volume once AddStorageVolume's job completed. */
        const char *affected[] = { g_strcmp0(s->job_method, "AddStorageVolume") == 0 ? STANDIN_SOURCE
                                                                                   : STANDIN_SYNCHRONIZATION,
                                   NULL };
        return g_variant_new_objv(affected, -1);
}

static GVariant *get_property(GDBusConnection *connection, const char *sender, const char *path,
                              const char *interface, const char *name, GError **error, gpointer user_data) {
        if (g_str_equal(interface, IRD_IFACE_SYNCHRONIZATION))
                return synchronization_property(name);
        return job_property(user_data, name);
}

/* One object with one interface, as GetManagedObjects lists it; props is sunk. */
static void add_object(GVariantBuilder *objects, const char *path, const char *interface, GVariant *props) {
        g_variant_builder_open(objects, G_VARIANT_TYPE("{oa{sa{sv}}}"));
        g_variant_builder_add(objects, "o", path);
        g_variant_builder_open(objects, G_VARIANT_TYPE("a{sa{sv}}"));
        g_variant_builder_add(objects, "{s@a{sv}}", interface, props);
        g_variant_builder_close(objects);
        g_variant_builder_close(objects);
}

static GVariant *volume_properties(const char *name, gboolean local) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string(name));
        g_variant_builder_add(&props, "{sv}", "IsLocal", g_variant_new_boolean(local));
        g_variant_builder_add(&props, "{sv}", "AccessPoint", g_variant_new_object_path("/"));
        g_variant_builder_add(&props, "{sv}", "TargetName", g_variant_new_string("iqn.2026-11.org.example:disk"));
        g_variant_builder_add(&props, "{sv}", "LUN", g_variant_new_uint16(local ? 1 : 2));
        g_variant_builder_add(&props, "{sv}", "BlockSize", g_variant_new_uint32(512));
        g_variant_builder_add(&props, "{sv}", "NumberOfBlocks", g_variant_new_uint64(STANDIN_VOLUME_BLOCKS));
        return g_variant_builder_end(&props);
}

static GVariant *managed_objects(void) {
        GVariantBuilder objects, props;

        g_variant_builder_init(&objects, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Name", g_variant_new_string("127.0.0.1:3260"));
        g_variant_builder_add(&props, "{sv}", "IsLocal", g_variant_new_boolean(TRUE));
        add_object(&objects, STANDIN_ACCESS_POINT, IRD_IFACE_AP, g_variant_builder_end(&props));
        add_object(&objects, STANDIN_SOURCE, IRD_IFACE_VOLUME, volume_properties("db", TRUE));
        add_object(&objects, STANDIN_TARGET, IRD_IFACE_VOLUME, volume_properties("db-copy", FALSE));
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string("backup-set"));
        add_object(&objects, STANDIN_COLLECTION, IRD_IFACE_COLLECTION, g_variant_builder_end(&props));
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", synchronization_property("ElementName"));
        g_variant_builder_add(&props, "{sv}", "BytesTransferred", synchronization_property("BytesTransferred"));
        g_variant_builder_add(&props, "{sv}", "Rate", synchronization_property("Rate"));
        g_variant_builder_add(&props, "{sv}", "SyncType", g_variant_new_uint16(6));
        g_variant_builder_add(&props, "{sv}", "CopyState", g_variant_new_uint16(4));
        g_variant_builder_add(&props, "{sv}", "ProgressStatus", g_variant_new_uint16(6));
        g_variant_builder_add(&props, "{sv}", "PercentSynced", g_variant_new_uint16(42));
        g_variant_builder_add(&props, "{sv}", "SystemElement", g_variant_new_object_path(STANDIN_SOURCE));
        g_variant_builder_add(&props, "{sv}", "SyncedElement", g_variant_new_object_path(STANDIN_TARGET));
        g_variant_builder_add(&props, "{sv}", "LastSyncTime", g_variant_new_uint64(0));
        add_object(&objects, STANDIN_SYNCHRONIZATION, IRD_IFACE_SYNCHRONIZATION, g_variant_builder_end(&props));
        return g_variant_new("(a{oa{sa{sv}}})", &objects);
}

static void method_call(GDBusConnection *connection, const char *sender, const char *path, const char *interface,
                        const char *method, GVariant *params, GDBusMethodInvocation *invocation,
                        gpointer user_data) {
        ReplicaStandin *s = user_data;

        if (g_str_equal(method, "GetManagedObjects")) {
                g_dbus_method_invocation_return_value(invocation, managed_objects());
                return;
        }
        if (g_str_equal(method, "Modify")) {
                g_clear_pointer(&s->modify_arguments, g_variant_unref);
                s->modify_arguments = g_variant_ref(params);
                g_dbus_method_invocation_return_value(invocation, NULL);
                return;
        }
        /* Every other method starts the one job. */
        s->job_method = g_intern_string(method);
        s->expected_end = (guint64) g_get_real_time() + STANDIN_SECONDS_LEFT * G_USEC_PER_SEC;
        g_clear_pointer(&s->job_arguments, g_variant_unref);
        s->job_arguments = g_variant_ref(params);
        if (g_str_equal(method, "AddStorageVolume"))
                g_dbus_method_invocation_return_value(invocation, g_variant_new("(uoo)", 4096, STANDIN_JOB, "/"));
        else if (g_str_equal(method, "CreateElementReplica"))
                g_dbus_method_invocation_return_value(
                        invocation, g_variant_new("(uoo)", 4096, STANDIN_JOB, STANDIN_SYNCHRONIZATION));
        else
                g_dbus_method_invocation_return_value(invocation, g_variant_new("(uo)", 4096, STANDIN_JOB));
}

static const GDBusInterfaceVTable vtable = { .method_call = method_call, .get_property = get_property };

ReplicaStandin *replica_standin_new(const char *bus_address) {
        static const struct {
                const char *path;
                const char *interface;
        } objects[] = {
                { IRD_ROOT, "org.freedesktop.DBus.ObjectManager" },
                { IRD_ROOT, IRD_IFACE_SERVICE },
                { STANDIN_SYNCHRONIZATION, IRD_IFACE_SYNCHRONIZATION },
                { STANDIN_JOB, IRD_IFACE_JOB },
        };
        g_autoptr(GError) error = NULL;
        ReplicaStandin *s = g_new0(ReplicaStandin, 1);

        s->connection = g_dbus_connection_new_for_address_sync(
                bus_address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        s->info = g_dbus_node_info_new_for_xml(standin_xml, &error);
        g_assert_no_error(error);
        for (size_t i = 0; i < G_N_ELEMENTS(objects); i++) {
                s->registrations[i] = g_dbus_connection_register_object(
                        s->connection, objects[i].path, g_dbus_node_info_lookup_interface(s->info, objects[i].interface),
                        &vtable, s, NULL, &error);
                g_assert_no_error(error);
        }

        /* 4: DBUS_NAME_FLAG_DO_NOT_QUEUE; 1: DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER. */
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                s->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                g_variant_new("(su)", IRD_BUS_NAME, 4), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        guint32 result;
        g_variant_get(reply, "(u)", &result);
        g_assert_cmpuint(result, ==, 1);
        return s;
}

const char *replica_standin_job_method(const ReplicaStandin *s) {
        return s->job_method;
}

GVariant *replica_standin_job_arguments(const ReplicaStandin *s) {
        return s->job_arguments;
}

GVariant *replica_standin_modify_arguments(const ReplicaStandin *s) {
        return s->modify_arguments;
}

void replica_standin_free(ReplicaStandin *s) {
        if (!s)
                return;
        if (s->completion)
                g_source_remove(s->completion);
        for (size_t i = 0; i < G_N_ELEMENTS(s->registrations); i++)
                if (s->registrations[i])
                        g_dbus_connection_unregister_object(s->connection, s->registrations[i]);
        g_dbus_connection_close_sync(s->connection, NULL, NULL);
        g_object_unref(s->connection);
        g_dbus_node_info_unref(s->info);
        g_clear_pointer(&s->job_arguments, g_variant_unref);
        g_clear_pointer(&s->modify_arguments, g_variant_unref);
        g_free(s);
}
