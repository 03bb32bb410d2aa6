/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replicas on the bus (API.md section 10): the volume and synchronization
 * objects, the service's three replica methods, and every bad argument the
 * service turns away before any I/O, with its error and no change. What a
 * cycle copies is tested elsewhere, against the data.
 */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backing-file.h"
#include "fake-polkit.h"
#include "harness-calls.h"
#include "replica-fixture.h"

#define SOURCE_ADDRESS "127.0.0.81"
#define COPY_ADDRESS "127.0.0.82"
#define LUN_SIZE (G_GUINT64_CONSTANT(1) << 20)
#define MANAGE_REPLICAS "org.iscsi.replication.manage-replicas"

static GVariant *empty(void) {
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static GVariant *replica_args(const char *name, guint16 sync_type, guint16 mode, const char *source,
                              const char *target, const char *collection, GVariant *settings) {
        return g_variant_new("(sqqooo@a{sv})", name, sync_type, mode, source, target, collection,
                             settings ? settings : empty());
}

/* The fixture with a Mirror whose first cycle has ended, so that nothing changes by itself any more. */
static char *settled_mirror(Harness *h, ReplicaFixture *f) {
        g_autofree char *job = NULL;
        char *sync = replica_fixture_create(h, f, 6, &job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);

        harness_clear_signals(h);
        return sync;
}

/* ------------------------------------------------------------------------ */

/* A volume's properties say where the LUN is and how large it is. */
static void assert_volume(Harness *h, const char *volume, const char *access_point, gboolean local,
                          const char *element_name) {
        g_autofree char *ap = harness_get_string(h, volume, IRD_IFACE_VOLUME, "AccessPoint");
        g_autofree char *name = harness_get_string(h, volume, IRD_IFACE_VOLUME, "ElementName");
        g_autofree char *target = harness_get_string(h, volume, IRD_IFACE_VOLUME, "TargetName");
        g_autofree char *ap_target = harness_get_string(h, access_point, IRD_IFACE_AP, "TargetName");
        g_autoptr(GVariant) block_size = harness_get_property(h, volume, IRD_IFACE_VOLUME, "BlockSize");

        g_assert_cmpstr(ap, ==, access_point);
        g_assert_cmpstr(name, ==, element_name);
        g_assert_cmpstr(target, ==, ap_target);
        g_assert_cmpint(harness_get_boolean(h, volume, IRD_IFACE_VOLUME, "IsLocal"), ==, local);
        g_assert_cmpuint(harness_get_uint16(h, volume, IRD_IFACE_VOLUME, "LUN"), ==, 1);
        g_assert_cmpuint(g_variant_get_uint32(block_size), ==, 512);
        g_assert_cmpuint(harness_get_uint64(h, volume, IRD_IFACE_VOLUME, "NumberOfBlocks"), ==, LUN_SIZE / 512);
}

/* The interfaces GetManagedObjects lists for path, or NULL when it lists no such object. */
static GVariant *managed_interfaces(Harness *h, const char *path) {
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        return g_variant_lookup_value(objects, path, G_VARIANT_TYPE("a{sa{sv}}"));
}

static void test_objects(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        assert_volume(h, f.source, f.local_ap, TRUE, "source");
        assert_volume(h, f.copy, f.remote_ap, FALSE, "copy");

        GVariant *settings = dict_of("CycleInterval", g_variant_new_uint64(G_GUINT64_CONSTANT(600000000)),
                                     "BandwidthLimit", g_variant_new_uint64(G_GUINT64_CONSTANT(1) << 30),
                                     "ChunkSize", g_variant_new_uint32(64 * 1024), NULL);
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                                                 replica_args("db", 8, 3, f.source, f.copy, f.collection, settings));
        guint32 rv;
        const char *job, *sync;
        g_variant_get(reply, "(u&o&o)", &rv, &job, &sync);
        g_assert_cmpuint(rv, ==, 4096);
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, (gpointer) sync);
        g_autoptr(GVariant) added_ifaces = g_variant_get_child_value(added->parameters, 1);
        g_autoptr(GVariant) added_props = g_variant_lookup_value(added_ifaces, IRD_IFACE_SYNCHRONIZATION,
                                                                 G_VARIANT_TYPE("a{sv}"));
        g_assert_nonnull(added_props);

        /* The settings and references, as given. */
        g_autofree char *system_element = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "SystemElement");
        g_autofree char *synced_element = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "SyncedElement");
        g_autofree char *collection = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "ConnectivityCollection");
        g_autofree char *name = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "ElementName");
        g_autoptr(GVariant) chunk = harness_get_property(h, sync, IRD_IFACE_SYNCHRONIZATION, "ChunkSize");
        g_assert_cmpstr(system_element, ==, f.source);
        g_assert_cmpstr(synced_element, ==, f.copy);
        g_assert_cmpstr(collection, ==, f.collection);
        g_assert_cmpstr(name, ==, "db");
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "SyncType"), ==, 8);
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "Mode"), ==, 3);
        g_assert_cmpuint(g_variant_get_uint32(chunk), ==, 64 * 1024);
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "CycleInterval"), ==,
                         G_GUINT64_CONSTANT(600000000));
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "BandwidthLimit"), ==,
                         G_GUINT64_CONSTANT(1) << 30);

        /* Both volumes name it; GetManagedObjects carries the new interfaces with every property. */
        const char *const syncs[] = { sync, NULL };
        g_auto(GStrv) of_source = harness_get_paths(h, f.source, IRD_IFACE_VOLUME, "Synchronizations");
        g_auto(GStrv) of_copy = harness_get_paths(h, f.copy, IRD_IFACE_VOLUME, "Synchronizations");
        harness_assert_strv_paths(of_source, syncs);
        harness_assert_strv_paths(of_copy, syncs);

        g_autoptr(GVariant) volume_ifaces = managed_interfaces(h, f.source);
        g_autoptr(GVariant) sync_ifaces = managed_interfaces(h, sync);
        g_assert_nonnull(volume_ifaces);
        g_assert_nonnull(sync_ifaces);
        g_autoptr(GVariant) volume_props = g_variant_lookup_value(volume_ifaces, IRD_IFACE_VOLUME, NULL);
        g_autoptr(GVariant) sync_props = g_variant_lookup_value(sync_ifaces, IRD_IFACE_SYNCHRONIZATION, NULL);
        g_assert_nonnull(volume_props);
        g_assert_nonnull(sync_props);
        g_assert_cmpuint(g_variant_n_children(volume_props), ==, 9);
        g_assert_cmpuint(g_variant_n_children(sync_props), ==, 20);
        g_autoptr(GVariant) listed_source = g_variant_lookup_value(sync_props, "SystemElement", G_VARIANT_TYPE("o"));
        g_assert_cmpstr(g_variant_get_string(listed_source, NULL), ==, f.source);

        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
}

/* ------------------------------------------------------------------------ */

static void bad_add_storage_volume(Harness *h, const ReplicaFixture *f) {
        /* Argument reading: the LUN is required, keys are known and typed. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->local_ap, dict_of("ElementName", g_variant_new_string("x"),
                                                                          NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->local_ap, dict_of("LUN", g_variant_new_uint32(2), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->local_ap,
                                             dict_of("LUN", g_variant_new_uint16(2), "Size", g_variant_new_uint64(1), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->local_ap,
                                             dict_of("LUN", g_variant_new_uint16(2), "TargetName", g_variant_new_uint16(1),
                                                     NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume", g_variant_new("(s)", f->local_ap),
                               IRD_ERROR_INVALID_ARGS);
        /* The access point: of the wrong kind, gone; the same LUN twice. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->collection, dict_of("LUN", g_variant_new_uint16(1), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", IRD_ROOT "/access_point/999999",
                                             dict_of("LUN", g_variant_new_uint16(1), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f->local_ap, dict_of("LUN", g_variant_new_uint16(1), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
}

static void bad_create_element_replica(Harness *h, const ReplicaFixture *f, const char *sync) {
        g_autofree char *unconnected = harness_create_collection(h, "local only", (const char *const[]) { f->local_ap, NULL },
                                                                 NULL, NULL);
        const struct {
                guint16 sync_type, mode;
                const char *source, *target, *collection;
                GVariant *settings;
                const char *error;
        } cases[] = {
                /* Snapshots (7) and other types, synchronous mode: valid CIM, not made here. */
                { 7, 3, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                { 5, 3, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                { 6, 2, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                /* Modes CIM does not define are not made here either; nor SyncType 0. */
                { 6, 4, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                { 8, 0, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                { 6, 65535, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                { 0, 3, f->source, f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                /* The values come first: an unsupported one is named even with a NULL source. */
                { 6, 4, "/", f->copy, f->collection, NULL, IRD_ERROR_NOT_SUPPORTED },
                /* References of the wrong kind, or turned round. */
                { 6, 3, f->collection, f->copy, f->collection, NULL, IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->remote_ap, f->collection, NULL, IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->source, NULL, IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, sync, NULL, IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->copy, f->source, f->collection, NULL, IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->source, f->collection, NULL, IRD_ERROR_INVALID_PARAMETER },
                /* A collection without the copy's access point. */
                { 6, 3, f->source, f->copy, unconnected, NULL, IRD_ERROR_INVALID_PARAMETER },
                /* Settings: unknown, mistyped, a ChunkSize that is no power of two or out of range. */
                { 6, 3, f->source, f->copy, f->collection, dict_of("Rate", g_variant_new_uint64(1), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("ChunkSize", g_variant_new_uint64(1 << 20), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("CycleInterval", g_variant_new_uint32(1), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("BandwidthLimit", g_variant_new_string("1M"), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("ChunkSize", g_variant_new_uint32(96 * 1024), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("ChunkSize", g_variant_new_uint32(32 * 1024), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection, dict_of("ChunkSize", g_variant_new_uint32(32 << 20), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                /* ChunkSize 0 given is a bad value, not the default; a key given twice. */
                { 6, 3, f->source, f->copy, f->collection, dict_of("ChunkSize", g_variant_new_uint32(0), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                { 6, 3, f->source, f->copy, f->collection,
                  dict_of("CycleInterval", g_variant_new_uint64(1), "CycleInterval", g_variant_new_uint64(2), NULL),
                  IRD_ERROR_INVALID_PARAMETER },
                /* The copy already is one. */
                { 8, 3, f->source, f->copy, f->collection, NULL, IRD_ERROR_IN_USE },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                                       replica_args("bad", cases[i].sync_type, cases[i].mode, cases[i].source,
                                                    cases[i].target, cases[i].collection, cases[i].settings),
                                       cases[i].error);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                               g_variant_new("(sqqooo)", "bad", 6, 3, f->source, f->copy, f->collection),
                               IRD_ERROR_INVALID_ARGS);
}

static void bad_modify_replica(Harness *h, const ReplicaFixture *f, const char *sync) {
        /* Operations CIM has but the service does not carry out. */
        const guint16 unsupported[] = { 0, 2, 9, 15, 19, 21, 23, 65535 };
        for (size_t i = 0; i < G_N_ELEMENTS(unsupported); i++)
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                                       g_variant_new("(qo@a{sv})", unsupported[i], sync, empty()),
                                       IRD_ERROR_NOT_SUPPORTED);
        /* Resume needs a suspended synchronization. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                               g_variant_new("(qo@a{sv})", 16, sync, empty()), IRD_ERROR_INVALID_STATE_TRANSITION);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                               g_variant_new("(qo@a{sv})", 22, f->source, empty()), IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                               g_variant_new("(qo@a{sv})", 22, IRD_ROOT "/synchronization/999999", empty()),
                               IRD_ERROR_INVALID_PARAMETER);
        /* Settings is reserved: any key is unknown. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                               g_variant_new("(qo@a{sv})", 22, sync, dict_of("Force", g_variant_new_boolean(TRUE), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                               g_variant_new("(uo@a{sv})", 22, sync, empty()), IRD_ERROR_INVALID_ARGS);
}

static void bad_object_methods(Harness *h, const ReplicaFixture *f, const char *sync) {
        assert_fails_unchanged(h, sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                               g_variant_new("(@a{sv})", dict_of("ChunkSize", g_variant_new_uint32(1 << 16), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                               g_variant_new("(@a{sv})", dict_of("BandwidthLimit", g_variant_new_uint32(1), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                               g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_boolean(TRUE), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        /* A volume a synchronization uses stays. */
        assert_fails_unchanged(h, f->source, IRD_IFACE_VOLUME, "Delete", NULL, IRD_ERROR_IN_USE);
        assert_fails_unchanged(h, f->copy, IRD_IFACE_VOLUME, "Delete", NULL, IRD_ERROR_IN_USE);
}

static void test_bad_arguments(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        g_autofree char *sync = settled_mirror(h, &f);

        bad_add_storage_volume(h, &f);
        bad_create_element_replica(h, &f, sync);
        bad_modify_replica(h, &f, sync);
        bad_object_methods(h, &f, sync);
}

/* ------------------------------------------------------------------------ */

/*
 * A caller polkit says no to gets AccessDenied from each replica method,
 * nothing changes, and what polkit was asked about is manage-replicas.
 */
static void test_unauthorized(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        g_autofree char *sync = settled_mirror(h, &f);
        g_autoptr(FakePolkit) polkit = fake_polkit_start(h->bus_address, FALSE);
        g_autofree char *before = harness_snapshot(h);
        const struct {
                const char *path, *interface, *method;
                GVariant *params;
        } calls[] = {
                { IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                  g_variant_new("(o@a{sv})", f.local_ap, dict_of("LUN", g_variant_new_uint16(2), NULL)) },
                { IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                  replica_args("r", 6, 3, f.source, f.copy, f.collection, NULL) },
                { IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                  g_variant_new("(qo@a{sv})", 8, sync, empty()) },
                { sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                  g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_string("x"), NULL)) },
                { sync, IRD_IFACE_SYNCHRONIZATION, "Compare", g_variant_new("()") },
                { f.source, IRD_IFACE_VOLUME, "Delete", g_variant_new("()") },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(calls); i++) {
                g_autofree char *output = NULL;
                g_autoptr(GVariant) params = g_variant_ref_sink(calls[i].params);

                if (harness_call_as_nobody(h, calls[i].path, calls[i].interface, calls[i].method,
                                           g_variant_ref(params), &output) ||
                    !strstr(output, IRD_ERROR_ACCESS_DENIED))
                        g_error("%s as uid 65534: expected %s, got: %s", calls[i].method, IRD_ERROR_ACCESS_DENIED,
                                output);
                g_autofree char *checks = fake_polkit_take_checks(polkit);
                if (!g_str_has_prefix(checks, MANAGE_REPLICAS " ") || strchr(checks, '\n') != checks + strlen(checks) - 1)
                        g_error("%s: polkit was asked \"%s\", expected one check of " MANAGE_REPLICAS,
                                calls[i].method, checks);
        }
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
}

/* ------------------------------------------------------------------------ */

/* The one PropertiesChanged the call sent on path, printed (the changed dictionary). */
static char *only_properties_changed(Harness *h, const char *path) {
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, path, "org.freedesktop.DBus.Properties",
                                                         "PropertiesChanged");
        g_assert_cmpuint(sigs->len, ==, 1);
        g_autoptr(GVariant) changed = harness_properties_changed_dict(sigs->pdata[0]);
        return g_variant_print(changed, FALSE);
}

/* The PropertiesChanged received on path, each printed, in arrival order. */
static GStrv all_properties_changed(Harness *h, const char *path) {
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, path, "org.freedesktop.DBus.Properties",
                                                         "PropertiesChanged");
        GStrv printed = g_new0(char *, sigs->len + 1);

        for (guint i = 0; i < sigs->len; i++) {
                g_autoptr(GVariant) changed = harness_properties_changed_dict(sigs->pdata[i]);

                printed[i] = g_variant_print(changed, FALSE);
        }
        return printed;
}

static void modify_replica(Harness *h, guint16 operation, const char *sync, guint32 expected_rv) {
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                                                 g_variant_new("(qo@a{sv})", operation, sync, empty()));
        guint32 rv;
        const char *job;

        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, expected_rv);
        if (rv == 0)
                g_assert_cmpstr(job, ==, "/");
        else
                g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
}

/*
 * The replies and announcements of the methods that succeed: Modify sends
 * PropertiesChanged with exactly what changed; Compare is a job on the
 * synchronization; Suspend and Resume answer 0; Detach withdraws the
 * synchronization and the volumes drop it; then a volume can be deleted.
 */
static void test_methods(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        g_autofree char *sync = settled_mirror(h, &f);
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "CopyState"), ==, 4);

        g_autoptr(GVariant) modified = harness_call(
                h, sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_string("renamed"), "CycleInterval",
                                                  g_variant_new_uint64(G_GUINT64_CONSTANT(900000000)), NULL)));
        g_autofree char *changed = only_properties_changed(h, sync);
        g_assert_nonnull(strstr(changed, "'ElementName': <'renamed'>"));
        g_assert_nonnull(strstr(changed, "'CycleInterval': <uint64 900000000>"));
        g_assert_null(strstr(changed, "BandwidthLimit"));
        g_autofree char *name = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "ElementName");
        g_assert_cmpstr(name, ==, "renamed");

        g_autoptr(GVariant) compared = harness_call(h, sync, IRD_IFACE_SYNCHRONIZATION, "Compare", NULL);
        guint32 rv;
        const char *job;
        g_variant_get(compared, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);
        const char *const only_sync[] = { sync, NULL };
        g_auto(GStrv) affected = harness_get_paths(h, job, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_strv_paths(affected, only_sync);
        g_autoptr(GVariant) compare_done = harness_wait_job_completed(h, job);
        gboolean same;
        g_variant_get(compare_done, "(bqs)", &same, NULL, NULL);
        g_assert_true(same);

        harness_clear_signals(h);
        modify_replica(h, 22, sync, 0);
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "CopyState"), ==, 9);
        modify_replica(h, 16, sync, 0);
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "CopyState"), !=, 9);

        harness_clear_signals(h);
        modify_replica(h, 8, sync, 0);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, sync);
        g_autofree char *source_changed = only_properties_changed(h, f.source);
        g_assert_cmpstr(source_changed, ==, "{'Synchronizations': <@ao []>}");
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, sync));

        g_autoptr(GVariant) deleted = harness_call(h, f.copy, IRD_IFACE_VOLUME, "Delete", NULL);
        g_autoptr(HarnessSignal) volume_removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                                      harness_match_interfaces_removed, f.copy);
}

/* ------------------------------------------------------------------------ */

/*
 * A volume's Synchronizations emits: CreateElementReplica sends exactly one
 * PropertiesChanged on each of the two volumes with the new list, Detach one
 * with the empty list, and nothing else about the volumes changes meanwhile.
 */
static void test_volume_signals(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        guint64 source_verified = harness_get_uint64(h, f.source, IRD_IFACE_VOLUME, "LastVerified");
        guint64 copy_verified = harness_get_uint64(h, f.copy, IRD_IFACE_VOLUME, "LastVerified");
        g_assert_cmpuint(source_verified, >, 0);
        g_assert_cmpuint(copy_verified, >, 0);

        g_autofree char *job = NULL;
        g_autofree char *sync = replica_fixture_create(h, &f, 6, &job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        harness_sync(h);
        g_autofree char *expected = g_strdup_printf("{'Synchronizations': <[objectpath '%s']>}", sync);
        /* The completed cycle reached and checked both LUNs: LastVerified moves to its end, announced. */
        guint64 synced = harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "LastSyncTime");
        g_autofree char *verified = g_strdup_printf("{'LastVerified': <uint64 %" G_GUINT64_FORMAT ">}", synced);
        const char *const announced[] = { expected, verified, NULL };
        g_auto(GStrv) source_announced = all_properties_changed(h, f.source);
        g_auto(GStrv) copy_announced = all_properties_changed(h, f.copy);
        g_assert_cmpstrv(source_announced, announced);
        g_assert_cmpstrv(copy_announced, announced);
        g_assert_cmpuint(synced, >, source_verified);
        g_assert_cmpuint(harness_get_uint64(h, f.source, IRD_IFACE_VOLUME, "LastVerified"), ==, synced);
        g_assert_cmpuint(harness_get_uint64(h, f.copy, IRD_IFACE_VOLUME, "LastVerified"), ==, synced);

        modify_replica(h, 8, sync, 0);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, sync);
        g_autofree char *source_removed = only_properties_changed(h, f.source);
        g_autofree char *copy_removed = only_properties_changed(h, f.copy);
        g_assert_cmpstr(source_removed, ==, "{'Synchronizations': <@ao []>}");
        g_assert_cmpstr(copy_removed, ==, "{'Synchronizations': <@ao []>}");
        /* Detach reaches no LUN. */
        g_assert_cmpuint(harness_get_uint64(h, f.source, IRD_IFACE_VOLUME, "LastVerified"), ==, synced);
        g_assert_cmpuint(harness_get_uint64(h, f.copy, IRD_IFACE_VOLUME, "LastVerified"), ==, synced);
        g_assert_cmpuint(copy_verified, <, synced);
}

/* ------------------------------------------------------------------------ */

/*
 * The copy's access point is a host name ("localhost", 127.0.0.1 by
 * /etc/hosts): the collection's probe, AddStorageVolume and the cycle all
 * resolve it the same way, and the cycle copies the source byte for byte.
 */
static void test_host_name(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!tgtd_available())
                return;
        f.source_tgtd = tgtd_start(SOURCE_ADDRESS, "iqn.2026-11.org.example.replica:named-source", LUN_SIZE);
        f.copy_tgtd = tgtd_start("127.0.0.1", "iqn.2026-11.org.example.replica:named-copy", LUN_SIZE);
        f.peer = harness_add_peer(h, f.copy_tgtd->target_name, "named-copy-host");
        f.local_ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, SOURCE_ADDRESS, f.source_tgtd->port,
                                              f.source_tgtd->target_name);
        f.remote_ap = harness_add_access_point(h, f.peer, "localhost", f.copy_tgtd->port, f.copy_tgtd->target_name);
        const char *locals[] = { f.local_ap, NULL }, *remotes[] = { f.remote_ap, NULL };
        f.collection = harness_create_collection(h, "named", locals, NULL, NULL);
        g_autofree char *verify = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, f.collection, NULL, remotes, f.peer, &verify), ==, 4096);
        g_autoptr(GVariant) verified = harness_wait_job_completed(h, verify);
        gboolean ok;
        g_variant_get(verified, "(bqs)", &ok, NULL, NULL);
        g_assert_true(ok);

        f.source = replica_fixture_add_volume(h, f.local_ap, NULL, "source");
        f.copy = replica_fixture_add_volume(h, f.remote_ap, NULL, "copy");
        g_assert_cmpuint(harness_get_uint64(h, f.copy, IRD_IFACE_VOLUME, "NumberOfBlocks"), ==, LUN_SIZE / 512);

        backing_file_fill_random(f.source_tgtd->backing_file, LUN_SIZE);
        g_autofree char *job = NULL;
        g_autofree char *sync = replica_fixture_create(h, &f, 6, &job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        g_variant_get(done, "(bqs)", &ok, NULL, NULL);
        if (!ok)
                g_error("the cycle to localhost failed: %s", g_variant_print(done, FALSE));
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "CopyState"), ==, 4);
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "BytesTransferred"), ==, LUN_SIZE);
        g_assert_true(backing_files_equal(f.source_tgtd->backing_file, f.copy_tgtd->backing_file, LUN_SIZE));
}

/* ------------------------------------------------------------------------ */

static const char *const small_limits_args[] = { "--max-volumes=2", "--max-synchronizations=1", NULL };
static const HarnessConfig small_limits = { .daemon_args = small_limits_args };

/* The object limits come before anything else is looked at: LimitsExceeded, and nothing changes. */
static void test_limits(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        g_autofree char *sync = settled_mirror(h, &f);

        tgtd_add_target(f.source_tgtd, "iqn.2026-11.org.example.replica:third");
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                               g_variant_new("(o@a{sv})", f.local_ap,
                                             dict_of("LUN", g_variant_new_uint16(1), "TargetName",
                                                     g_variant_new_string("iqn.2026-11.org.example.replica:third"), NULL)),
                               IRD_ERROR_LIMITS_EXCEEDED);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                               replica_args("second", 8, 3, f.source, f.copy, f.collection, NULL),
                               IRD_ERROR_LIMITS_EXCEEDED);
}

#define SMALL_MESSAGE_LIMIT 24576
static const char *const small_message_args[] = { "--max-message-size=24576", NULL };
static const HarnessConfig small_message = { .daemon_args = small_message_args };

/*
 * GetManagedObjects' size bound counts volumes and synchronizations: grown
 * with volumes alone, the service refuses the reply before it would pass
 * the bus's limit, and every reply it sends fits.
 */
static void test_managed_objects_bound(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *long_name = g_strnfill(255, 'n');
        gsize last_size = 0;
        int volumes;

        if (!replica_fixture_init(&f, h, SOURCE_ADDRESS, COPY_ADDRESS, LUN_SIZE))
                return;
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                                                 replica_args(long_name, 6, 3, f.source, f.copy, f.collection, NULL));
        const char *job;
        g_variant_get(reply, "(u&o&o)", NULL, &job, NULL);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);

        for (volumes = 0; volumes < 200; volumes++) {
                g_autofree char *error = NULL;
                gsize size = managed_objects_size(h, &error);

                if (error) {
                        g_assert_cmpstr(error, ==, IRD_ERROR_LIMITS_EXCEEDED);
                        break;
                }
                g_assert_cmpuint(size, <=, SMALL_MESSAGE_LIMIT);
                last_size = size;
                g_autofree char *target = g_strdup_printf("iqn.2026-11.org.example.replica:extra%d", volumes);
                tgtd_add_target(f.source_tgtd, target);
                g_autofree char *volume = replica_fixture_add_volume(h, f.local_ap, target, long_name);
        }
        g_assert_cmpint(volumes, <, 200);
        g_test_message("last reply sent: %zu bytes of %d, %d volumes added", last_size, SMALL_MESSAGE_LIMIT, volumes);
        g_assert_cmpuint(last_size * 2, >, SMALL_MESSAGE_LIMIT);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/replicas/objects", NULL, test_objects);
        harness_add_test("/integration/replicas/bad-arguments", NULL, test_bad_arguments);
        harness_add_test("/integration/replicas/unauthorized", NULL, test_unauthorized);
        harness_add_test("/integration/replicas/methods", NULL, test_methods);
        harness_add_test("/integration/replicas/volume-signals", NULL, test_volume_signals);
        harness_add_test("/integration/replicas/host-name", NULL, test_host_name);
        harness_add_test("/integration/replicas/limits", &small_limits, test_limits);
        harness_add_test("/integration/replicas/managed-objects-bound", &small_message, test_managed_objects_bound);

        return g_test_run();
}
