/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The service's objects as the tests make and compare them: lists of object
 * paths, and peers, access points, secrets and collections created through
 * the service's methods, each asserting the synchronous success it expects.
 * See harness.h.
 */

#include "harness-internal.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* path lists */

static char *join_paths(const char *const *paths) {
        g_autoptr(GString) s = g_string_new("[");
        for (size_t i = 0; paths && paths[i]; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", paths[i]);
        g_string_append_c(s, ']');
        return g_strdup(s->str);
}

void harness_assert_strv_paths(char **actual, const char *const *expected) {
        g_autofree char *a = join_paths((const char *const *) actual);
        g_autofree char *e = join_paths(expected);
        g_assert_cmpstr(a, ==, e);
}

void harness_assert_paths(GVariant *ao, const char *const *expected) {
        g_assert_true(g_variant_is_of_type(ao, G_VARIANT_TYPE("ao")));
        g_autofree const char **actual = g_variant_get_objv(ao, NULL);
        harness_assert_strv_paths((char **) actual, expected);
}

void harness_sort_paths(const char **paths, size_t n) {
        qsort(paths, n, sizeof(char *), harness_compare_strings);
}

GVariant *harness_paths(const char *const *paths) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
        for (size_t i = 0; paths && paths[i]; i++)
                g_variant_builder_add(&b, "o", paths[i]);
        return g_variant_builder_end(&b);
}

/* ------------------------------------------------------------------------ */
/* creating objects */

static char *expect_sync_object(GVariant *reply) {
        guint32 rv;
        const char *path;

        g_variant_get(reply, "(u&o)", &rv, &path);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(path, !=, "/");
        return g_strdup(path);
}

char *harness_add_peer(Harness *h, const char *name, const char *element_name) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        if (element_name)
                g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string(element_name));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                                                 g_variant_new("(sa{sv})", name, &props));
        return expect_sync_object(reply);
}

char *harness_add_access_point(Harness *h, const char *system, const char *address, guint16 port,
                               const char *target_name) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Address", g_variant_new_string(address));
        if (port)
                g_variant_builder_add(&props, "{sv}", "Port", g_variant_new_uint16(port));
        if (target_name)
                g_variant_builder_add(&props, "{sv}", "TargetName", g_variant_new_string(target_name));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                                 g_variant_new("(oa{sv})", system, &props));
        return expect_sync_object(reply);
}

/* AddSharedSecret; the mutual credentials only when mutual_username is not NULL. */
static char *add_shared_secret(Harness *h, const char *access_point, const char *username, const char *secret,
                               const char *mutual_username, const char *mutual_secret) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Username", g_variant_new_string(username));
        g_variant_builder_add(&props, "{sv}", "Secret", g_variant_new_string(secret));
        if (mutual_username) {
                g_variant_builder_add(&props, "{sv}", "MutualUsername", g_variant_new_string(mutual_username));
                g_variant_builder_add(&props, "{sv}", "MutualSecret", g_variant_new_string(mutual_secret));
        }
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(a{sv}o)", &props, access_point));
        return expect_sync_object(reply);
}

char *harness_add_secret(Harness *h, const char *access_point, const char *username, const char *secret) {
        return add_shared_secret(h, access_point, username, secret, NULL, NULL);
}

char *harness_add_mutual_secret(Harness *h, const char *access_point, const char *username, const char *secret,
                                const char *mutual_username, const char *mutual_secret) {
        return add_shared_secret(h, access_point, username, secret, mutual_username, mutual_secret);
}

char *harness_create_collection(Harness *h, const char *element_name, const char *const *local_aps,
                                const char *const *remote_aps, const char *remote_system) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", element_name, harness_paths(local_aps), harness_paths(remote_aps),
                              remote_system ?: "/", TRUE, FALSE));
        guint32 rv;
        const char *job, *collection;

        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(job, ==, "/");
        g_assert_cmpstr(collection, !=, "/");
        return g_strdup(collection);
}

static guint32 change_collection(Harness *h, const char *method, const char *collection,
                                 const char *const *local_aps, const char *const *remote_aps,
                                 const char *remote_system, char **ret_job) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, method,
                g_variant_new("(@ao@aooo)", harness_paths(local_aps), harness_paths(remote_aps),
                              remote_system ?: "/", collection));
        guint32 rv;
        const char *job;

        g_variant_get(reply, "(u&o)", &rv, &job);
        if (rv == 0)
                g_assert_cmpstr(job, ==, "/");
        else {
                g_assert_cmpuint(rv, ==, 4096);
                g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        }
        if (ret_job)
                *ret_job = g_strdup(job);
        return rv;
}

guint32 harness_add_to_collection(Harness *h, const char *collection, const char *const *local_aps,
                                  const char *const *remote_aps, const char *remote_system, char **ret_job) {
        return change_collection(h, "AddToRemoteReplicationCollection", collection, local_aps, remote_aps,
                                 remote_system, ret_job);
}

guint32 harness_remove_from_collection(Harness *h, const char *collection, const char *const *local_aps,
                                       const char *const *remote_aps, const char *remote_system,
                                       char **ret_job) {
        return change_collection(h, "RemoveFromRemoteReplicationCollection", collection, local_aps,
                                 remote_aps, remote_system, ret_job);
}
