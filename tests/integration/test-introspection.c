/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The installed introspection XML is the machine-readable contract: what the
 * running service says about itself must match it member by member, and
 * every member must be documented.
 */

#include <string.h>

#include "replica-fixture.h"

static const char *emits_changed(GDBusAnnotationInfo **property_annotations,
                                 GDBusAnnotationInfo **interface_annotations) {
        const char *v;

        /* The D-Bus specification's default applies when neither level says otherwise. */
        v = g_dbus_annotation_info_lookup(property_annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal");
        if (v)
                return v;
        v = g_dbus_annotation_info_lookup(interface_annotations, "org.freedesktop.DBus.Property.EmitsChangedSignal");
        return v ? v : "true";
}

static void compare_args(const char *where, GDBusArgInfo **expected, GDBusArgInfo **actual) {
        size_t n_expected = 0, n_actual = 0;

        while (expected && expected[n_expected])
                n_expected++;
        while (actual && actual[n_actual])
                n_actual++;
        if (n_expected != n_actual)
                g_error("%s: XML has %zu arguments, service has %zu", where, n_expected, n_actual);
        for (size_t i = 0; i < n_expected; i++) {
                if (g_strcmp0(expected[i]->name, actual[i]->name) != 0 ||
                    !g_str_equal(expected[i]->signature, actual[i]->signature))
                        g_error("%s: argument %zu is %s %s in the XML but %s %s in the service", where, i,
                                expected[i]->name, expected[i]->signature, actual[i]->name,
                                actual[i]->signature);
        }
}

static size_t count_members(gpointer *members) {
        size_t n = 0;
        while (members && members[n])
                n++;
        return n;
}

static void compare_interface(const char *path, GDBusInterfaceInfo *expected, GDBusInterfaceInfo *actual) {
        g_test_message("comparing %s on %s", expected->name, path);

        g_assert_cmpuint(count_members((gpointer *) expected->methods), ==,
                         count_members((gpointer *) actual->methods));
        for (size_t i = 0; expected->methods && expected->methods[i]; i++) {
                GDBusMethodInfo *em = expected->methods[i];
                GDBusMethodInfo *am = g_dbus_interface_info_lookup_method(actual, em->name);
                g_autofree char *where = g_strdup_printf("%s.%s on %s", expected->name, em->name, path);

                if (!am)
                        g_error("%s: in the XML, not in the service", where);
                g_autofree char *in = g_strdup_printf("%s (in)", where);
                g_autofree char *out = g_strdup_printf("%s (out)", where);
                compare_args(in, em->in_args, am->in_args);
                compare_args(out, em->out_args, am->out_args);
        }

        g_assert_cmpuint(count_members((gpointer *) expected->signals), ==,
                         count_members((gpointer *) actual->signals));
        for (size_t i = 0; expected->signals && expected->signals[i]; i++) {
                GDBusSignalInfo *es = expected->signals[i];
                GDBusSignalInfo *as = g_dbus_interface_info_lookup_signal(actual, es->name);
                g_autofree char *where = g_strdup_printf("signal %s.%s on %s", expected->name, es->name, path);

                if (!as)
                        g_error("%s: in the XML, not in the service", where);
                compare_args(where, es->args, as->args);
        }

        g_assert_cmpuint(count_members((gpointer *) expected->properties), ==,
                         count_members((gpointer *) actual->properties));
        for (size_t i = 0; expected->properties && expected->properties[i]; i++) {
                GDBusPropertyInfo *ep = expected->properties[i];
                GDBusPropertyInfo *ap = g_dbus_interface_info_lookup_property(actual, ep->name);

                if (!ap)
                        g_error("property %s.%s on %s: in the XML, not in the service", expected->name, ep->name,
                                path);
                if (!g_str_equal(ep->signature, ap->signature) || ep->flags != ap->flags)
                        g_error("property %s.%s on %s: XML says %s/%d, service says %s/%d", expected->name,
                                ep->name, path, ep->signature, ep->flags, ap->signature, ap->flags);
                const char *ee = emits_changed(ep->annotations, expected->annotations);
                const char *ae = emits_changed(ap->annotations, actual->annotations);
                if (!g_str_equal(ee, ae))
                        g_error("property %s.%s on %s: EmitsChangedSignal is %s in the XML, %s in the service",
                                expected->name, ep->name, path, ee, ae);
        }
}

/* Parses the installed XML (IRD_INTERFACES_XML). */
static GDBusNodeInfo *load_xml(char **ret_text) {
        const char *path = g_getenv("IRD_INTERFACES_XML");
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        if (!path)
                g_error("IRD_INTERFACES_XML is not set; run the tests through meson test");
        g_assert_true(g_file_get_contents(path, &text, NULL, &error));
        g_assert_no_error(error);
        GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(text, &error);
        g_assert_no_error(error);
        if (ret_text)
                *ret_text = text;
        else
                g_free(text);
        return node;
}

/* Checks the live object at path against the XML; records which interfaces were seen. */
static void check_object(Harness *h, GDBusNodeInfo *xml, const char *path, const char *required_interface,
                         GHashTable *seen) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = harness_introspect(h, path);
        g_autoptr(GDBusNodeInfo) live = g_dbus_node_info_new_for_xml(text, &error);
        g_assert_no_error(error);
        gboolean found_required = FALSE;

        for (size_t i = 0; live->interfaces && live->interfaces[i]; i++) {
                GDBusInterfaceInfo *ai = live->interfaces[i];
                if (g_str_has_prefix(ai->name, "org.freedesktop.DBus."))
                        continue;
                GDBusInterfaceInfo *ei = g_dbus_node_info_lookup_interface(xml, ai->name);
                if (!ei)
                        g_error("%s implements %s, which the XML does not describe", path, ai->name);
                compare_interface(path, ei, ai);
                g_hash_table_add(seen, g_strdup(ai->name));
                if (g_str_equal(ai->name, required_interface))
                        found_required = TRUE;
        }
        if (!found_required)
                g_error("%s does not implement %s", path, required_interface);
}

static void test_live_matches_xml(Harness *h, gconstpointer data) {
        g_autoptr(GDBusNodeInfo) xml = load_xml(NULL);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);

        g_autofree char *peer = harness_add_peer(h, "iqn.2024-01.org.example:peer", NULL);
        g_autofree char *local_ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *remote_ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(refusing),
                                                              NULL);
        g_autofree char *secret = harness_add_secret(h, remote_ap, "user", "0123456789abcdef");
        const char *locals[] = { local_ap, NULL };
        g_autofree char *collection = harness_create_collection(h, "c", locals, NULL, NULL);

        g_autoptr(GVariant) reply = harness_call(h, remote_ap, IRD_IFACE_AP, "Verify", NULL);
        guint32 rv;
        const char *job;
        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);

        check_object(h, xml, IRD_ROOT, IRD_IFACE_SERVICE, seen);
        check_object(h, xml, IRD_LOCAL_SYSTEM, IRD_IFACE_SYSTEM, seen);
        check_object(h, xml, peer, IRD_IFACE_SYSTEM, seen);
        check_object(h, xml, local_ap, IRD_IFACE_AP, seen);
        check_object(h, xml, remote_ap, IRD_IFACE_AP, seen);
        check_object(h, xml, collection, IRD_IFACE_COLLECTION, seen);
        check_object(h, xml, secret, IRD_IFACE_SECRET, seen);
        check_object(h, xml, job, IRD_IFACE_JOB, seen);

        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);

        /* Volumes and a synchronization need real targets. */
        g_auto(ReplicaFixture) f = { 0 };
        if (!replica_fixture_init(&f, h, "127.0.0.83", "127.0.0.84", UINT64_C(1) << 20))
                return;
        g_autofree char *sync_job = NULL;
        g_autofree char *sync = replica_fixture_create(h, &f, 6, &sync_job);
        check_object(h, xml, f.source, IRD_IFACE_VOLUME, seen);
        check_object(h, xml, f.copy, IRD_IFACE_VOLUME, seen);
        check_object(h, xml, sync, IRD_IFACE_SYNCHRONIZATION, seen);
        g_autoptr(GVariant) sync_done = harness_wait_job_completed(h, sync_job);

        /* The root also carries the object manager. */
        g_autofree char *root_text = harness_introspect(h, IRD_ROOT);
        g_assert_nonnull(strstr(root_text, "org.freedesktop.DBus.ObjectManager"));

        for (size_t i = 0; xml->interfaces && xml->interfaces[i]; i++)
                if (!g_str_has_prefix(xml->interfaces[i]->name, "org.freedesktop.DBus.") &&
                    !g_hash_table_contains(seen, xml->interfaces[i]->name))
                        g_error("the XML describes %s, which no object implements", xml->interfaces[i]->name);
}

/* A member the contract names: kind "m" method (in>out signature), "p" property, "s" signal. */
typedef struct ContractMember {
        const char *interface;
        const char *kind;
        const char *name;
        const char *signature;
} ContractMember;

/* Whether a property emits PropertiesChanged, per the contract's tables. */
typedef struct ContractEmits {
        const char *interface;
        const char *name;
        gboolean emits;
} ContractEmits;

static void check_members(GDBusNodeInfo *xml, const ContractMember *members, size_t n_members) {
        for (size_t i = 0; i < n_members; i++) {
                GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(xml, members[i].interface);
                g_autoptr(GString) sig = g_string_new(NULL);

                if (!iface)
                        g_error("the XML lacks interface %s", members[i].interface);
                if (g_str_equal(members[i].kind, "p")) {
                        GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property(iface, members[i].name);
                        if (!p)
                                g_error("the XML lacks property %s.%s", members[i].interface, members[i].name);
                        g_assert_cmpstr(p->signature, ==, members[i].signature);
                        /* CIM_ConcreteJob lets a client set these two; everything else is read-only. */
                        gboolean writable = g_str_equal(members[i].interface, IRD_IFACE_JOB) &&
                                            (g_str_equal(members[i].name, "DeleteOnCompletion") ||
                                             g_str_equal(members[i].name, "TimeBeforeRemoval"));
                        if (writable)
                                g_assert_true(p->flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE);
                        else if (p->flags != G_DBUS_PROPERTY_INFO_FLAGS_READABLE)
                                g_error("%s.%s must be read-only", members[i].interface, members[i].name);
                        continue;
                }
                if (g_str_equal(members[i].kind, "s")) {
                        GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal(iface, members[i].name);
                        if (!s)
                                g_error("the XML lacks signal %s.%s", members[i].interface, members[i].name);
                        for (size_t j = 0; s->args && s->args[j]; j++)
                                g_string_append(sig, s->args[j]->signature);
                        g_assert_cmpstr(sig->str, ==, members[i].signature);
                        continue;
                }
                GDBusMethodInfo *m = g_dbus_interface_info_lookup_method(iface, members[i].name);
                if (!m)
                        g_error("the XML lacks method %s.%s", members[i].interface, members[i].name);
                for (size_t j = 0; m->in_args && m->in_args[j]; j++)
                        g_string_append(sig, m->in_args[j]->signature);
                g_string_append_c(sig, '>');
                for (size_t j = 0; m->out_args && m->out_args[j]; j++)
                        g_string_append(sig, m->out_args[j]->signature);
                if (!g_str_equal(sig->str, members[i].signature))
                        g_error("%s.%s: signature %s, contract says %s", members[i].interface, members[i].name,
                                sig->str, members[i].signature);
        }
}

static void check_emitting(GDBusNodeInfo *xml, const ContractEmits *emitting, size_t n_emitting) {
        for (size_t i = 0; i < n_emitting; i++) {
                GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(xml, emitting[i].interface);
                GDBusPropertyInfo *p = iface ? g_dbus_interface_info_lookup_property(iface, emitting[i].name) : NULL;
                if (!p)
                        g_error("the XML lacks property %s.%s", emitting[i].interface, emitting[i].name);
                const char *v = emits_changed(p->annotations, iface->annotations);
                gboolean emits = g_str_equal(v, "true");
                if (emits != emitting[i].emits)
                        g_error("%s.%s: EmitsChangedSignal=%s, contract says it %s", emitting[i].interface,
                                emitting[i].name, v, emitting[i].emits ? "emits" : "does not emit");
        }
}

/* The members the contract names, so a member missing from both XML and service is caught too. */
static void test_xml_has_contract_members(Harness *h, gconstpointer data) {
        static const ContractMember members[] = {
                { IRD_IFACE_SERVICE, "m", "CreateRemoteReplicationCollection", "saoaoobb>uoo" },
                { IRD_IFACE_SERVICE, "m", "AddToRemoteReplicationCollection", "aoaooo>uo" },
                { IRD_IFACE_SERVICE, "m", "RemoveFromRemoteReplicationCollection", "aoaooo>uo" },
                { IRD_IFACE_SERVICE, "m", "AddPeerSystem", "sa{sv}>uo" },
                { IRD_IFACE_SERVICE, "m", "AddServiceAccessPoint", "oa{sv}>uo" },
                { IRD_IFACE_SERVICE, "m", "AddSharedSecret", "a{sv}o>uo" },
                { IRD_IFACE_SERVICE, "m", "GetPeerSystems", "q>uoao" },
                { IRD_IFACE_SERVICE, "m", "GetServiceAccessPoints", "o>uoao" },
                { IRD_IFACE_SERVICE, "p", "Version", "s" },
                { IRD_IFACE_SERVICE, "p", "LocalSystem", "o" },
                { IRD_IFACE_SERVICE, "p", "InitiatorName", "s" },
                { IRD_IFACE_SERVICE, "p", "SupportedSynchronousActions", "aq" },
                { IRD_IFACE_SERVICE, "p", "SupportedAsynchronousActions", "aq" },
                { IRD_IFACE_SERVICE, "p", "SupportedSyncTypes", "aq" },
                { IRD_IFACE_SERVICE, "p", "SupportedModes", "aq" },
                { IRD_IFACE_SERVICE, "p", "SupportedOperations", "aq" },
                { IRD_IFACE_SERVICE, "p", "VerifyAccessPoints", "b" },
                { IRD_IFACE_COLLECTION, "p", "InstanceID", "s" },
                { IRD_IFACE_COLLECTION, "p", "ElementName", "s" },
                { IRD_IFACE_COLLECTION, "p", "Active", "b" },
                { IRD_IFACE_COLLECTION, "p", "DeleteOnUnassociated", "b" },
                { IRD_IFACE_COLLECTION, "p", "LocalAccessPoints", "ao" },
                { IRD_IFACE_COLLECTION, "p", "RemoteAccessPoints", "ao" },
                { IRD_IFACE_COLLECTION, "p", "RemoteSystems", "ao" },
                { IRD_IFACE_COLLECTION, "p", "Job", "o" },
                { IRD_IFACE_COLLECTION, "m", "Modify", "a{sv}>" },
                { IRD_IFACE_COLLECTION, "m", "Delete", ">" },
                { IRD_IFACE_SYSTEM, "p", "Name", "s" },
                { IRD_IFACE_SYSTEM, "p", "NameFormat", "s" },
                { IRD_IFACE_SYSTEM, "p", "ElementName", "s" },
                { IRD_IFACE_SYSTEM, "p", "IsLocal", "b" },
                { IRD_IFACE_SYSTEM, "p", "AccessPoints", "ao" },
                { IRD_IFACE_SYSTEM, "p", "Collections", "ao" },
                { IRD_IFACE_SYSTEM, "p", "Reachable", "s" },
                { IRD_IFACE_SYSTEM, "p", "LastVerified", "t" },
                { IRD_IFACE_SYSTEM, "m", "Delete", ">" },
                { IRD_IFACE_AP, "p", "Name", "s" },
                { IRD_IFACE_AP, "p", "ElementName", "s" },
                { IRD_IFACE_AP, "p", "System", "o" },
                { IRD_IFACE_AP, "p", "IsLocal", "b" },
                { IRD_IFACE_AP, "p", "Address", "s" },
                { IRD_IFACE_AP, "p", "Port", "q" },
                { IRD_IFACE_AP, "p", "TargetName", "s" },
                { IRD_IFACE_AP, "p", "PortalGroupTag", "q" },
                { IRD_IFACE_AP, "p", "ProtocolIFType", "q" },
                { IRD_IFACE_AP, "p", "SharedSecret", "o" },
                { IRD_IFACE_AP, "p", "Collections", "ao" },
                { IRD_IFACE_AP, "p", "Reachable", "s" },
                { IRD_IFACE_AP, "p", "LastVerified", "t" },
                { IRD_IFACE_AP, "p", "LastError", "s" },
                { IRD_IFACE_AP, "p", "LastErrorID", "s" },
                { IRD_IFACE_AP, "m", "Verify", ">uo" },
                { IRD_IFACE_AP, "m", "Delete", ">" },
                { IRD_IFACE_SECRET, "p", "Username", "s" },
                { IRD_IFACE_SECRET, "p", "MutualUsername", "s" },
                { IRD_IFACE_SECRET, "p", "ServiceAccessPoint", "o" },
                { IRD_IFACE_SECRET, "m", "Delete", ">" },
                { IRD_IFACE_JOB, "p", "InstanceID", "s" },
                { IRD_IFACE_JOB, "p", "Name", "s" },
                { IRD_IFACE_JOB, "p", "JobState", "q" },
                { IRD_IFACE_JOB, "p", "OperationalStatus", "aq" },
                { IRD_IFACE_JOB, "p", "JobStatus", "s" },
                { IRD_IFACE_JOB, "p", "PercentComplete", "q" },
                { IRD_IFACE_JOB, "p", "ExpectedEndTime", "t" },
                { IRD_IFACE_JOB, "p", "TimeSubmitted", "t" },
                { IRD_IFACE_JOB, "p", "StartTime", "t" },
                { IRD_IFACE_JOB, "p", "TimeOfLastStateChange", "t" },
                { IRD_IFACE_JOB, "p", "ElapsedTime", "t" },
                { IRD_IFACE_JOB, "p", "DeleteOnCompletion", "b" },
                { IRD_IFACE_JOB, "p", "TimeBeforeRemoval", "t" },
                { IRD_IFACE_JOB, "p", "ErrorCode", "q" },
                { IRD_IFACE_JOB, "p", "ErrorDescription", "s" },
                { IRD_IFACE_JOB, "p", "StartedByUID", "u" },
                { IRD_IFACE_JOB, "p", "Owner", "s" },
                { IRD_IFACE_JOB, "p", "Cancelable", "b" },
                { IRD_IFACE_JOB, "p", "AffectedElements", "ao" },
                { IRD_IFACE_JOB, "m", "RequestStateChange", "qt>u" },
                { IRD_IFACE_JOB, "m", "GetError", ">a{sv}" },
                { IRD_IFACE_JOB, "m", "Delete", ">" },
                { IRD_IFACE_JOB, "s", "Completed", "bqs" },
        { IRD_IFACE_SERVICE, "m", "AddStorageVolume", "oa{sv}>uoo" },
        { IRD_IFACE_SERVICE, "m", "CreateElementReplica", "sqqoooa{sv}>uoo" },
        { IRD_IFACE_SERVICE, "m", "ModifyReplicaSynchronization", "qoa{sv}>uo" },
        { IRD_IFACE_VOLUME, "p", "ElementName", "s" },
        { IRD_IFACE_VOLUME, "p", "AccessPoint", "o" },
        { IRD_IFACE_VOLUME, "p", "IsLocal", "b" },
        { IRD_IFACE_VOLUME, "p", "TargetName", "s" },
        { IRD_IFACE_VOLUME, "p", "LUN", "q" },
        { IRD_IFACE_VOLUME, "p", "BlockSize", "u" },
        { IRD_IFACE_VOLUME, "p", "NumberOfBlocks", "t" },
        { IRD_IFACE_VOLUME, "p", "Synchronizations", "ao" },
        { IRD_IFACE_VOLUME, "p", "LastVerified", "t" },
        { IRD_IFACE_VOLUME, "m", "Delete", ">" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "ElementName", "s" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "SyncType", "q" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "Mode", "q" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "SystemElement", "o" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "SyncedElement", "o" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "ConnectivityCollection", "o" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "CopyState", "q" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "ProgressStatus", "q" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "PercentSynced", "q" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "BytesScanned", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "BytesTransferred", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "Rate", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "BandwidthLimit", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "CycleInterval", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "ChunkSize", "u" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "LastSyncTime", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "NextSyncTime", "t" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "Job", "o" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "LastError", "s" },
        { IRD_IFACE_SYNCHRONIZATION, "p", "LastErrorID", "s" },
        { IRD_IFACE_SYNCHRONIZATION, "m", "Modify", "a{sv}>" },
        { IRD_IFACE_SYNCHRONIZATION, "m", "Compare", ">uo" },
        };
        /* Emitting properties per the contract's tables. */
        static const ContractEmits emitting[] = {
                { IRD_IFACE_COLLECTION, "InstanceID", FALSE },
                { IRD_IFACE_COLLECTION, "ElementName", TRUE },
                { IRD_IFACE_COLLECTION, "Active", TRUE },
                { IRD_IFACE_COLLECTION, "DeleteOnUnassociated", TRUE },
                { IRD_IFACE_COLLECTION, "LocalAccessPoints", TRUE },
                { IRD_IFACE_COLLECTION, "RemoteAccessPoints", TRUE },
                { IRD_IFACE_COLLECTION, "RemoteSystems", TRUE },
                { IRD_IFACE_COLLECTION, "Job", TRUE },
                { IRD_IFACE_SYSTEM, "AccessPoints", TRUE },
                { IRD_IFACE_SYSTEM, "Collections", TRUE },
                { IRD_IFACE_SYSTEM, "Reachable", TRUE },
                { IRD_IFACE_SYSTEM, "LastVerified", TRUE },
                { IRD_IFACE_AP, "SharedSecret", TRUE },
                { IRD_IFACE_AP, "Collections", TRUE },
                { IRD_IFACE_AP, "Reachable", TRUE },
                { IRD_IFACE_AP, "LastVerified", TRUE },
                { IRD_IFACE_AP, "LastError", TRUE },
                { IRD_IFACE_AP, "LastErrorID", TRUE },
                { IRD_IFACE_JOB, "InstanceID", FALSE },
                { IRD_IFACE_JOB, "Name", FALSE },
                { IRD_IFACE_JOB, "JobState", TRUE },
                { IRD_IFACE_JOB, "OperationalStatus", TRUE },
                { IRD_IFACE_JOB, "JobStatus", TRUE },
                { IRD_IFACE_JOB, "PercentComplete", TRUE },
                { IRD_IFACE_JOB, "ExpectedEndTime", TRUE },
                { IRD_IFACE_JOB, "TimeSubmitted", TRUE },
                { IRD_IFACE_JOB, "StartTime", TRUE },
                { IRD_IFACE_JOB, "TimeOfLastStateChange", TRUE },
                { IRD_IFACE_JOB, "ElapsedTime", FALSE },
                { IRD_IFACE_JOB, "DeleteOnCompletion", TRUE },
                { IRD_IFACE_JOB, "TimeBeforeRemoval", TRUE },
                { IRD_IFACE_JOB, "ErrorCode", TRUE },
                { IRD_IFACE_JOB, "ErrorDescription", TRUE },
                { IRD_IFACE_JOB, "StartedByUID", FALSE },
                { IRD_IFACE_JOB, "Owner", FALSE },
                { IRD_IFACE_JOB, "Cancelable", TRUE },
                { IRD_IFACE_JOB, "AffectedElements", TRUE },
        { IRD_IFACE_VOLUME, "ElementName", FALSE },
        { IRD_IFACE_VOLUME, "AccessPoint", FALSE },
        { IRD_IFACE_VOLUME, "IsLocal", FALSE },
        { IRD_IFACE_VOLUME, "TargetName", FALSE },
        { IRD_IFACE_VOLUME, "LUN", FALSE },
        { IRD_IFACE_VOLUME, "BlockSize", FALSE },
        { IRD_IFACE_VOLUME, "NumberOfBlocks", FALSE },
        { IRD_IFACE_VOLUME, "Synchronizations", TRUE },
        { IRD_IFACE_VOLUME, "LastVerified", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "ElementName", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "SyncType", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "Mode", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "SystemElement", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "SyncedElement", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "ConnectivityCollection", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "CopyState", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "ProgressStatus", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "PercentSynced", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "BytesScanned", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "BytesTransferred", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "Rate", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "BandwidthLimit", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "CycleInterval", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "ChunkSize", FALSE },
        { IRD_IFACE_SYNCHRONIZATION, "LastSyncTime", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "NextSyncTime", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "Job", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "LastError", TRUE },
        { IRD_IFACE_SYNCHRONIZATION, "LastErrorID", TRUE },
        };
        g_autoptr(GDBusNodeInfo) xml = load_xml(NULL);

        check_members(xml, members, G_N_ELEMENTS(members));
        check_emitting(xml, emitting, G_N_ELEMENTS(emitting));
}

/* Returns TRUE when the text just before pos (ignoring white space) closes a comment. */
static gboolean preceded_by_comment(const char *text, const char *pos) {
        const char *p = pos;

        while (p > text && g_ascii_isspace(p[-1]))
                p--;
        return p - text >= 3 && strncmp(p - 3, "-->", 3) == 0;
}

/* Returns how many members and interfaces the XML text documents; fails on the first one it does not. */
static guint check_documented(const char *text) {
        static const char *const tags[] = { "<method", "<property", "<signal", "<interface" };
        guint checked = 0;

        for (size_t t = 0; t < G_N_ELEMENTS(tags); t++) {
                size_t len = strlen(tags[t]);
                for (const char *p = strstr(text, tags[t]); p; p = strstr(p + len, tags[t])) {
                        if (!g_ascii_isspace(p[len]) && p[len] != '>')
                                continue;
                        if (!preceded_by_comment(text, p)) {
                                g_autofree char *line = g_strndup(p, strcspn(p, "\n"));
                                g_error("no doc comment before %s", line);
                        }
                        checked++;
                }
        }
        return checked;
}

static void test_xml_documented(Harness *h, gconstpointer data) {
        g_autofree char *text = NULL;
        g_autoptr(GDBusNodeInfo) xml = load_xml(&text);

        g_assert_cmpuint(check_documented(text), >, 50);
        g_assert_nonnull(xml);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/introspection/live-matches-xml", NULL, test_live_matches_xml);
        g_test_add("/integration/introspection/xml-has-contract-members", Harness, NULL, NULL,
                   test_xml_has_contract_members, NULL);
        g_test_add("/integration/introspection/xml-documented", Harness, NULL, NULL, test_xml_documented, NULL);

        return g_test_run();
}
