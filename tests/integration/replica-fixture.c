/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two tgtd, two access points, a collection and two volumes (see replica-fixture.h). */

#include "replica-fixture.h"

#define SOURCE_TARGET "iqn.2026-11.org.example.replica:source"
#define COPY_TARGET "iqn.2026-11.org.example.replica:copy"

char *replica_fixture_add_volume(Harness *h, const char *access_point, const char *target_name,
                                 const char *element_name) {
        GVariantBuilder b;
        guint32 rv;
        const char *job, *volume;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "LUN", g_variant_new_uint16(1));
        g_variant_builder_add(&b, "{sv}", "ElementName", g_variant_new_string(element_name));
        if (target_name)
                g_variant_builder_add(&b, "{sv}", "TargetName", g_variant_new_string(target_name));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                                                 g_variant_new("(oa{sv})", access_point, &b));
        g_variant_get(reply, "(u&o&o)", &rv, &job, &volume);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpstr(volume, ==, "/");

        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        gboolean ok;
        g_variant_get(done, "(bqs)", &ok, NULL, NULL);
        if (!ok)
                g_error("AddStorageVolume behind %s failed: %s", access_point, g_variant_print(done, FALSE));
        g_auto(GStrv) affected = harness_get_paths(h, job, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_strv_length(affected), ==, 1);
        g_assert_true(g_str_has_prefix(affected[0], IRD_ROOT "/volume/"));
        return g_strdup(affected[0]);
}

/* CreateRemoteReplicationCollection with both access points: a job verifies the remote one. */
static char *create_collection(Harness *h, const ReplicaFixture *f) {
        const char *locals[] = { f->local_ap, NULL };
        const char *remotes[] = { f->remote_ap, NULL };
        guint32 rv;
        const char *job, *collection;

        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", "replicas", harness_paths(locals), harness_paths(remotes), f->peer,
                              TRUE, FALSE));
        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 4096);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        gboolean ok;
        g_variant_get(done, "(bqs)", &ok, NULL, NULL);
        if (!ok)
                g_error("the collection's verification failed: %s", g_variant_print(done, FALSE));
        g_auto(GStrv) affected = harness_get_paths(h, job, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_strv_length(affected), ==, 1);
        return g_strdup(affected[0]);
}

gboolean replica_fixture_start_targets(ReplicaFixture *f, const char *source_address, const char *copy_address,
                                       guint64 size) {
        *f = (ReplicaFixture) {};
        if (!tgtd_available())
                return FALSE;
        f->source_tgtd = tgtd_start(source_address, SOURCE_TARGET, size);
        f->copy_tgtd = tgtd_start(copy_address, COPY_TARGET, size);
        return TRUE;
}

void replica_fixture_register(ReplicaFixture *f, Harness *h, const char *copy_portal, guint16 copy_port) {
        f->peer = harness_add_peer(h, COPY_TARGET, "copy-host");
        f->local_ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, f->source_tgtd->address, f->source_tgtd->port,
                                               SOURCE_TARGET);
        f->remote_ap = harness_add_access_point(h, f->peer, copy_portal, copy_port, COPY_TARGET);
        f->collection = create_collection(h, f);
        f->source = replica_fixture_add_volume(h, f->local_ap, NULL, "source");
        f->copy = replica_fixture_add_volume(h, f->remote_ap, NULL, "copy");
        harness_clear_signals(h);
}

gboolean replica_fixture_init(ReplicaFixture *f, Harness *h, const char *source_address, const char *copy_address,
                              guint64 size) {
        if (!replica_fixture_start_targets(f, source_address, copy_address, size))
                return FALSE;
        replica_fixture_register(f, h, copy_address, f->copy_tgtd->port);
        return TRUE;
}

void replica_fixture_clear(ReplicaFixture *f) {
        g_clear_pointer(&f->source_tgtd, tgtd_free);
        g_clear_pointer(&f->copy_tgtd, tgtd_free);
        g_free(f->peer);
        g_free(f->local_ap);
        g_free(f->remote_ap);
        g_free(f->collection);
        g_free(f->source);
        g_free(f->copy);
        *f = (ReplicaFixture) {};
}

char *replica_fixture_create(Harness *h, const ReplicaFixture *f, guint16 sync_type, char **ret_job) {
        guint32 rv;
        const char *job, *sync;

        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                g_variant_new("(sqqoooa{sv})", "mirror", sync_type, 3, f->source, f->copy, f->collection, NULL));
        g_variant_get(reply, "(u&o&o)", &rv, &job, &sync);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        g_assert_true(g_str_has_prefix(sync, IRD_ROOT "/synchronization/"));
        if (ret_job)
                *ret_job = g_strdup(job);
        return g_strdup(sync);
}
