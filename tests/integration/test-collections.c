/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Remote replication collections (API.md sections 3 and 4): the argument
 * rules of Create/AddTo/RemoveFrom, idempotence, the exact PropertiesChanged
 * payloads, Modify and Delete. Remote access points are added with
 * verification switched off, so every call here is synchronous.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

/* A small world: two local portals, two peers with two portals each. */
typedef struct World {
        char *local1, *local2;
        char *peer_a, *peer_b;
        char *a1, *a2, *b1, *b2;
} World;

static void world_init(Harness *h, World *w) {
        w->local1 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        w->local2 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        w->peer_a = harness_add_peer(h, "iqn.2024-01.org.example:a", NULL);
        w->peer_b = harness_add_peer(h, "b.example.org", NULL);
        w->a1 = harness_add_access_point(h, w->peer_a, "127.0.0.10", 3260, NULL);
        w->a2 = harness_add_access_point(h, w->peer_a, "127.0.0.11", 3260, NULL);
        w->b1 = harness_add_access_point(h, w->peer_b, "127.0.0.20", 3260, NULL);
        w->b2 = harness_add_access_point(h, w->peer_b, "127.0.0.21", 3260, NULL);
        harness_clear_signals(h);
}

static void world_clear(World *w) {
        g_free(w->local1);
        g_free(w->local2);
        g_free(w->peer_a);
        g_free(w->peer_b);
        g_free(w->a1);
        g_free(w->a2);
        g_free(w->b1);
        g_free(w->b2);
}

static char *create_full(Harness *h, const char *name, const char *const *locals, const char *const *remotes,
                         const char *system, gboolean active, gboolean delete_on_unassociated) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", name, harness_paths(locals), harness_paths(remotes), system ?: "/",
                              active, delete_on_unassociated));
        guint32 rv;
        const char *job, *collection;
        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(job, ==, "/");
        g_assert_true(g_str_has_prefix(collection, IRD_ROOT "/collection/"));
        return g_strdup(collection);
}

static void add_to_fails(Harness *h, const char *collection, const char *const *locals,
                         const char *const *remotes, const char *system, const char *error_name) {
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", harness_paths(locals), harness_paths(remotes),
                                             system ?: "/", collection),
                               error_name);
}

static void remove_from_fails(Harness *h, const char *collection, const char *const *locals,
                              const char *const *remotes, const char *system, const char *error_name) {
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", harness_paths(locals), harness_paths(remotes),
                                             system ?: "/", collection),
                               error_name);
}

/*
 * Takes the PropertiesChanged signals of path and asserts there was exactly
 * one, carrying exactly the listed properties; returns its dictionary.
 */
static GVariant *take_single_change(Harness *h, const char *path, const char *interface,
                                    const char *const *keys) {
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, path, PROPERTIES, "PropertiesChanged");
        if (sigs->len != 1)
                g_error("%s sent %u PropertiesChanged, expected exactly one", path, sigs->len);
        HarnessSignal *s = sigs->pdata[0];
        const char *iface = NULL;
        g_variant_get_child(s->parameters, 0, "&s", &iface);
        g_assert_cmpstr(iface, ==, interface);
        g_autoptr(GVariant) invalidated = g_variant_get_child_value(s->parameters, 2);
        g_assert_cmpuint(g_variant_n_children(invalidated), ==, 0);

        GVariant *dict = harness_properties_changed_dict(s);
        g_autofree char *text = g_variant_print(dict, TRUE);
        size_t n = 0;
        while (keys[n])
                n++;
        if (g_variant_n_children(dict) != n)
                g_error("%s: PropertiesChanged carries %s, expected %zu properties", path, text, n);
        for (size_t i = 0; i < n; i++)
                if (!g_variant_lookup_value(dict, keys[i], NULL))
                        g_error("%s: PropertiesChanged carries %s, missing %s", path, text, keys[i]);
        return dict;
}

static void assert_dict_paths(GVariant *dict, const char *key, const char *const *expected) {
        g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE("ao"));
        g_assert_nonnull(v);
        harness_assert_paths(v, expected);
}

/* Asserts a member's Collections changed exactly once, to the given list. */
static void assert_collections_changed(Harness *h, const char *member, const char *interface,
                                       const char *const *expected) {
        const char *keys[] = { "Collections", NULL };
        g_autoptr(GVariant) dict = take_single_change(h, member, interface, keys);
        assert_dict_paths(dict, "Collections", expected);
}

static void assert_property_paths(Harness *h, const char *path, const char *interface, const char *name,
                                  const char *const *expected) {
        g_autoptr(GVariant) v = harness_get_property(h, path, interface, name);
        harness_assert_paths(v, expected);
}

/* Sorted copy of a NULL-terminated list, for "sorted by path" comparisons. */
static const char **sorted(const char *const *paths) {
        size_t n = 0;
        while (paths[n])
                n++;
        const char **copy = g_new0(const char *, n + 1);
        memcpy(copy, paths, n * sizeof(char *));
        harness_sort_paths(copy, n);
        return copy;
}

/* ------------------------------------------------------------------------ */

static void test_create_empty(Harness *h, gconstpointer data) {
        g_autofree char *collection = create_full(h, "", NULL, NULL, NULL, TRUE, FALSE);
        const char *id = strrchr(collection, '/') + 1;
        g_autofree char *expected_name = g_strdup_printf("collection-%s", id);
        const char *none[] = { NULL };

        g_autofree char *name = harness_get_string(h, collection, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(name, ==, expected_name);
        g_autofree char *instance = harness_get_string(h, collection, IRD_IFACE_COLLECTION, "InstanceID");
        g_assert_cmpstr(instance, !=, "");
        g_assert_true(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "Active"));
        g_assert_false(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "DeleteOnUnassociated"));
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "LocalAccessPoints", none);
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints", none);
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems", none);
        g_autofree char *job = harness_get_string(h, collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(job, ==, "/");

        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, collection);
        g_autoptr(GVariant) ifaces = g_variant_get_child_value(added->parameters, 1);
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, IRD_IFACE_COLLECTION, NULL);
        g_assert_nonnull(props);
        const char *announced = NULL;
        g_assert_true(g_variant_lookup(props, "ElementName", "&s", &announced));
        g_assert_cmpstr(announced, ==, expected_name);

        /* Flags are kept as given. */
        g_autofree char *second = create_full(h, "second", NULL, NULL, NULL, FALSE, TRUE);
        g_assert_false(harness_get_boolean(h, second, IRD_IFACE_COLLECTION, "Active"));
        g_assert_true(harness_get_boolean(h, second, IRD_IFACE_COLLECTION, "DeleteOnUnassociated"));
        g_assert_cmpstr(second, !=, collection);
}

/* With verification on, local access points alone never need the network. */
static void test_create_local_only(Harness *h, gconstpointer data) {
        g_autofree char *l1 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *l2 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        const char *locals[] = { l2, l1, NULL };
        harness_clear_signals(h);

        g_autofree char *collection = create_full(h, "locals", locals, NULL, NULL, TRUE, FALSE);
        g_autofree const char **expected = sorted(locals);
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "LocalAccessPoints", expected);
        const char *mine[] = { collection, NULL };
        assert_collections_changed(h, l1, IRD_IFACE_AP, mine);
        assert_collections_changed(h, l2, IRD_IFACE_AP, mine);
        assert_property_paths(h, l1, IRD_IFACE_AP, "Collections", mine);

        /* AddTo with local access points only is synchronous as well. */
        g_autofree char *empty = create_full(h, "", NULL, NULL, NULL, TRUE, FALSE);
        const char *one[] = { l1, NULL };
        g_autofree char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, empty, one, NULL, NULL, &job), ==, 0);
        g_assert_cmpstr(job, ==, "/");
}

static void test_create_with_remote(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *locals[] = { w.local1, NULL };
        const char *remotes[] = { w.a2, w.a1, w.a1, NULL };

        g_autofree char *collection = create_full(h, "full", locals, remotes, w.peer_a, TRUE, FALSE);
        const char *expected_remotes[] = { w.a1, w.a2, NULL };
        g_autofree const char **sorted_remotes = sorted(expected_remotes);
        const char *systems[] = { w.peer_a, NULL };
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "LocalAccessPoints", locals);
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints", sorted_remotes);
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems", systems);
        const char *mine[] = { collection, NULL };
        assert_property_paths(h, w.peer_a, IRD_IFACE_SYSTEM, "Collections", mine);
        assert_property_paths(h, w.a1, IRD_IFACE_AP, "Collections", mine);
        assert_property_paths(h, w.local1, IRD_IFACE_AP, "Collections", mine);
        world_clear(&w);
}

static void test_create_bad_arguments(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *remote_a[] = { w.a1, NULL };
        const char *local[] = { w.local1, NULL };
        const char *remote_as_local[] = { w.a1, NULL };
        const char *local_as_remote[] = { w.local1, NULL };

        /* A new collection holds no system, so a remote portal needs its system named. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", harness_paths(local), harness_paths(remote_a), "/",
                                             TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", harness_paths(NULL), harness_paths(remote_a),
                                             w.peer_b, TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", harness_paths(NULL), harness_paths(NULL),
                                             IRD_LOCAL_SYSTEM, TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", harness_paths(remote_as_local), harness_paths(NULL),
                                             w.peer_a, TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", harness_paths(NULL), harness_paths(local_as_remote),
                                             w.peer_a, TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
        world_clear(&w);
}

/* ------------------------------------------------------------------------ */

static void test_add_to_bad_arguments(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *l1[] = { w.local1, NULL };
        g_autofree char *collection = create_full(h, "c", l1, NULL, NULL, TRUE, FALSE);
        g_autofree char *other = create_full(h, "other", NULL, NULL, NULL, TRUE, FALSE);
        const char *a1[] = { w.a1, NULL };
        const char *b1[] = { w.b1, NULL };
        const char *l2[] = { w.local2, NULL };
        const char *unknown[] = { IRD_ROOT "/access_point/424242", NULL };
        const char *wrong_kind[] = { w.peer_a, NULL };
        const char *collection_as_ap[] = { other, NULL };

        add_to_fails(h, collection, NULL, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, "/", l2, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, IRD_ROOT "/collection/424242", l2, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, w.peer_a, l2, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, IRD_ROOT, l2, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        /* Local where remote is required, and the reverse. */
        add_to_fails(h, collection, NULL, l2, w.peer_a, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, a1, NULL, w.peer_a, IRD_ERROR_INVALID_PARAMETER);
        /* A remote portal of a system the collection does not hold. */
        add_to_fails(h, collection, NULL, a1, NULL, IRD_ERROR_INVALID_PARAMETER);
        /* …or of another system than the one named. */
        add_to_fails(h, collection, NULL, b1, w.peer_a, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, NULL, NULL, IRD_LOCAL_SYSTEM, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, NULL, NULL, w.a1, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, NULL, NULL, IRD_ROOT "/system/424242", IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, unknown, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, wrong_kind, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        add_to_fails(h, collection, collection_as_ap, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        /* One bad entry spoils the whole call: the good ones are not added either. */
        const char *mixed[] = { w.local2, IRD_ROOT "/access_point/424242", NULL };
        add_to_fails(h, collection, mixed, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        const char *mixed_remote[] = { w.a1, w.b1, NULL };
        add_to_fails(h, collection, l2, mixed_remote, w.peer_a, IRD_ERROR_INVALID_PARAMETER);
        world_clear(&w);
}

static void test_add_to_changes(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *l1[] = { w.local1, NULL };
        g_autofree char *collection = create_full(h, "c", l1, NULL, NULL, TRUE, FALSE);
        const char *mine[] = { collection, NULL };
        harness_clear_signals(h);

        /* Duplicates and an existing member inside one call count once. */
        const char *locals[] = { w.local2, w.local1, w.local2, NULL };
        const char *remotes[] = { w.a2, w.a1, w.a2, NULL };
        g_autofree char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, collection, locals, remotes, w.peer_a, &job), ==, 0);
        g_assert_cmpstr(job, ==, "/");

        const char *keys[] = { "LocalAccessPoints", "RemoteAccessPoints", "RemoteSystems", NULL };
        g_autoptr(GVariant) dict = take_single_change(h, collection, IRD_IFACE_COLLECTION, keys);
        const char *all_locals[] = { w.local1, w.local2, NULL };
        const char *all_remotes[] = { w.a1, w.a2, NULL };
        const char *systems[] = { w.peer_a, NULL };
        g_autofree const char **sorted_locals = sorted(all_locals);
        g_autofree const char **sorted_remotes = sorted(all_remotes);
        assert_dict_paths(dict, "LocalAccessPoints", sorted_locals);
        assert_dict_paths(dict, "RemoteAccessPoints", sorted_remotes);
        assert_dict_paths(dict, "RemoteSystems", systems);
        assert_collections_changed(h, w.local2, IRD_IFACE_AP, mine);
        assert_collections_changed(h, w.a1, IRD_IFACE_AP, mine);
        assert_collections_changed(h, w.a2, IRD_IFACE_AP, mine);
        assert_collections_changed(h, w.peer_a, IRD_IFACE_SYSTEM, mine);
        /* Already a member: nothing to say. */
        harness_assert_no_properties_changed(h, w.local1);
        harness_assert_no_properties_changed(h, w.b1);
        harness_assert_no_properties_changed(h, w.peer_b);

        /* Idempotent: the same call again changes nothing and says nothing. */
        g_autofree char *before = harness_snapshot(h);
        harness_clear_signals(h);
        g_assert_cmpuint(harness_add_to_collection(h, collection, locals, remotes, w.peer_a, NULL), ==, 0);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GPtrArray) none = harness_take_signals(h, NULL, PROPERTIES, "PropertiesChanged");
        g_assert_cmpuint(none->len, ==, 0);

        /* RemoteAccessPoints NULL: only the system is added. */
        const char *remote_keys[] = { "RemoteSystems", NULL };
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, NULL, w.peer_b, NULL), ==, 0);
        g_autoptr(GVariant) dict2 = take_single_change(h, collection, IRD_IFACE_COLLECTION, remote_keys);
        const char *both[] = { w.peer_a, w.peer_b, NULL };
        g_autofree const char **sorted_both = sorted(both);
        assert_dict_paths(dict2, "RemoteSystems", sorted_both);
        assert_collections_changed(h, w.peer_b, IRD_IFACE_SYSTEM, mine);
        harness_assert_no_properties_changed(h, w.b1);

        /* RemoteComputerSystem "/": portals of systems the collection already holds. */
        const char *b_portals[] = { w.b2, w.b1, NULL };
        const char *ap_keys[] = { "RemoteAccessPoints", NULL };
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, b_portals, NULL, NULL), ==, 0);
        g_autoptr(GVariant) dict3 = take_single_change(h, collection, IRD_IFACE_COLLECTION, ap_keys);
        const char *four[] = { w.a1, w.a2, w.b1, w.b2, NULL };
        g_autofree const char **sorted_four = sorted(four);
        assert_dict_paths(dict3, "RemoteAccessPoints", sorted_four);
        assert_collections_changed(h, w.b1, IRD_IFACE_AP, mine);
        assert_collections_changed(h, w.b2, IRD_IFACE_AP, mine);
        harness_assert_no_properties_changed(h, w.peer_b);

        /* A second collection: members list both, sorted. */
        g_autofree char *second = create_full(h, "second", l1, NULL, NULL, TRUE, FALSE);
        const char *two[] = { collection, second, NULL };
        g_autofree const char **sorted_two = sorted(two);
        assert_property_paths(h, w.local1, IRD_IFACE_AP, "Collections", sorted_two);
        world_clear(&w);
}

/* ------------------------------------------------------------------------ */

static void test_remove_from(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *locals[] = { w.local1, w.local2, NULL };
        const char *remotes[] = { w.a1, w.a2, NULL };
        g_autofree char *collection = create_full(h, "c", locals, remotes, w.peer_a, TRUE, FALSE);
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, NULL, w.peer_b, NULL), ==, 0);
        const char *none[] = { NULL };
        harness_clear_signals(h);

        /* Not members, but existing: a no-op. */
        const char *b_portals[] = { w.b1, NULL };
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *job = NULL;
        g_assert_cmpuint(harness_remove_from_collection(h, collection, NULL, b_portals, NULL, &job), ==, 0);
        g_assert_cmpstr(job, ==, "/");
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GPtrArray) quiet = harness_take_signals(h, NULL, PROPERTIES, "PropertiesChanged");
        g_assert_cmpuint(quiet->len, ==, 0);

        /* Names that name nothing are still errors. */
        const char *unknown[] = { IRD_ROOT "/access_point/424242", NULL };
        remove_from_fails(h, collection, unknown, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        remove_from_fails(h, collection, NULL, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        remove_from_fails(h, collection, NULL, NULL, IRD_LOCAL_SYSTEM, IRD_ERROR_INVALID_PARAMETER);
        remove_from_fails(h, IRD_ROOT "/collection/424242", locals, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        remove_from_fails(h, collection, remotes, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);

        /* Removing a system removes its portals from the collection. */
        g_assert_cmpuint(harness_remove_from_collection(h, collection, NULL, NULL, w.peer_a, NULL), ==, 0);
        const char *keys[] = { "RemoteAccessPoints", "RemoteSystems", NULL };
        g_autoptr(GVariant) dict = take_single_change(h, collection, IRD_IFACE_COLLECTION, keys);
        assert_dict_paths(dict, "RemoteAccessPoints", none);
        const char *b_only[] = { w.peer_b, NULL };
        assert_dict_paths(dict, "RemoteSystems", b_only);
        assert_collections_changed(h, w.peer_a, IRD_IFACE_SYSTEM, none);
        assert_collections_changed(h, w.a1, IRD_IFACE_AP, none);
        assert_collections_changed(h, w.a2, IRD_IFACE_AP, none);
        harness_assert_no_properties_changed(h, w.local1);

        /* Local portals. */
        const char *l2[] = { w.local2, NULL };
        g_assert_cmpuint(harness_remove_from_collection(h, collection, l2, NULL, NULL, NULL), ==, 0);
        const char *local_keys[] = { "LocalAccessPoints", NULL };
        g_autoptr(GVariant) dict2 = take_single_change(h, collection, IRD_IFACE_COLLECTION, local_keys);
        const char *l1[] = { w.local1, NULL };
        assert_dict_paths(dict2, "LocalAccessPoints", l1);
        assert_collections_changed(h, w.local2, IRD_IFACE_AP, none);

        /* Without DeleteOnUnassociated an empty collection stays. */
        g_assert_cmpuint(harness_remove_from_collection(h, collection, l1, NULL, w.peer_b, NULL), ==, 0);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, collection));
        world_clear(&w);
}

static void test_delete_on_unassociated(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *locals[] = { w.local1, NULL };
        const char *remotes[] = { w.a1, NULL };
        g_autofree char *collection = create_full(h, "c", locals, remotes, w.peer_a, TRUE, TRUE);
        harness_clear_signals(h);

        /* One access point left: the collection stays. */
        g_assert_cmpuint(harness_remove_from_collection(h, collection, locals, NULL, NULL, NULL), ==, 0);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, collection));

        g_assert_cmpuint(harness_remove_from_collection(h, collection, NULL, remotes, NULL, NULL), ==, 0);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, collection);
        g_autoptr(GVariant) ifaces = g_variant_get_child_value(removed->parameters, 1);
        g_autofree const char **names = g_variant_get_strv(ifaces, NULL);
        g_assert_true(g_strv_contains(names, IRD_IFACE_COLLECTION));
        g_auto(GStrv) after = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) after, collection));
        /* The system it still held no longer lists it. */
        const char *none[] = { NULL };
        assert_property_paths(h, w.peer_a, IRD_IFACE_SYSTEM, "Collections", none);
        world_clear(&w);
}

/* ------------------------------------------------------------------------ */

static void test_modify(Harness *h, gconstpointer data) {
        g_autofree char *collection = create_full(h, "before", NULL, NULL, NULL, TRUE, FALSE);
        harness_clear_signals(h);

        g_autoptr(GVariant) r1 = harness_call(h, collection, IRD_IFACE_COLLECTION, "Modify",
                                              g_variant_new_parsed("({'ElementName': <'after'>},)"));
        const char *name_key[] = { "ElementName", NULL };
        g_autoptr(GVariant) d1 = take_single_change(h, collection, IRD_IFACE_COLLECTION, name_key);
        const char *v = NULL;
        g_assert_true(g_variant_lookup(d1, "ElementName", "&s", &v));
        g_assert_cmpstr(v, ==, "after");

        g_autoptr(GVariant) r2 = harness_call(
                h, collection, IRD_IFACE_COLLECTION, "Modify",
                g_variant_new_parsed("({'Active': <false>, 'DeleteOnUnassociated': <true>, 'ElementName': <'after'>},)"));
        const char *flag_keys[] = { "Active", "DeleteOnUnassociated", NULL };
        g_autoptr(GVariant) d2 = take_single_change(h, collection, IRD_IFACE_COLLECTION, flag_keys);
        gboolean b;
        g_assert_true(g_variant_lookup(d2, "Active", "b", &b));
        g_assert_false(b);
        g_assert_true(g_variant_lookup(d2, "DeleteOnUnassociated", "b", &b));
        g_assert_true(b);
        g_assert_false(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "Active"));

        /* A no-op says nothing. */
        g_autoptr(GVariant) r3 = harness_call(h, collection, IRD_IFACE_COLLECTION, "Modify",
                                              g_variant_new_parsed("({'Active': <false>},)"));
        g_autoptr(GVariant) r4 = harness_call(h, collection, IRD_IFACE_COLLECTION, "Modify",
                                              g_variant_new_parsed("(@a{sv} {},)"));
        harness_assert_no_properties_changed(h, collection);

        /* Anything else is refused as a whole, even next to a valid key. */
        assert_fails_unchanged(h, collection, IRD_IFACE_COLLECTION, "Modify",
                               g_variant_new_parsed("({'ElementName': <'x'>, 'InstanceID': <'y'>},)"),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, collection, IRD_IFACE_COLLECTION, "Modify",
                               g_variant_new_parsed("({'Job': <objectpath '/'>},)"), IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, collection, IRD_IFACE_COLLECTION, "Modify",
                               g_variant_new_parsed("({'Active': <'yes'>},)"), IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, collection, IRD_IFACE_COLLECTION, "Modify",
                               g_variant_new_parsed("({'ElementName': <'x'>, 'Active': <uint32 1>},)"),
                               IRD_ERROR_INVALID_PARAMETER);
        g_autofree char *long_name = g_strnfill(256, 'n');
        GVariantBuilder bld;
        g_variant_builder_init(&bld, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&bld, "{sv}", "ElementName", g_variant_new_string(long_name));
        assert_fails_unchanged(h, collection, IRD_IFACE_COLLECTION, "Modify", g_variant_new("(a{sv})", &bld),
                               IRD_ERROR_INVALID_PARAMETER);
}

static void test_delete(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        const char *locals[] = { w.local1, NULL };
        const char *remotes[] = { w.a1, NULL };
        g_autofree char *collection = create_full(h, "c", locals, remotes, w.peer_a, TRUE, FALSE);
        const char *none[] = { NULL };
        harness_clear_signals(h);

        g_autoptr(GVariant) r = harness_call(h, collection, IRD_IFACE_COLLECTION, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, collection);
        assert_collections_changed(h, w.local1, IRD_IFACE_AP, none);
        assert_collections_changed(h, w.a1, IRD_IFACE_AP, none);
        assert_collections_changed(h, w.peer_a, IRD_IFACE_SYSTEM, none);

        /* Its members are free again. */
        g_autoptr(GVariant) r2 = harness_call(h, w.a1, IRD_IFACE_AP, "Delete", NULL);
        g_autoptr(GVariant) r3 = harness_call(h, w.peer_a, IRD_IFACE_SYSTEM, "Delete", NULL);

        /* The path names nothing now. */
        g_autoptr(GError) error = harness_call_result(h, collection, IRD_IFACE_COLLECTION, "Delete", NULL, NULL);
        g_assert_nonnull(error);
        add_to_fails(h, collection, locals, NULL, NULL, IRD_ERROR_INVALID_PARAMETER);
        world_clear(&w);
}

/* With verification on, remote portals start a job; with it off they are added at once. */
static void test_add_remote_without_verification(Harness *h, gconstpointer data) {
        World w;
        world_init(h, &w);
        g_autofree char *collection = create_full(h, "c", NULL, NULL, NULL, TRUE, FALSE);
        const char *remotes[] = { w.a1, NULL };
        g_autofree char *job = NULL;

        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, w.peer_a, &job), ==, 0);
        g_assert_cmpstr(job, ==, "/");
        assert_property_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints", remotes);
        /* Nobody listens on these portals, and nothing tried them. */
        g_autofree char *reachable = harness_get_string(h, w.a1, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "unknown");
        world_clear(&w);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/collection/create-empty", NULL, test_create_empty);
        harness_add_test("/integration/collection/create-local-only", NULL, test_create_local_only);
        harness_add_test("/integration/collection/create-with-remote", &no_verify, test_create_with_remote);
        harness_add_test("/integration/collection/create-bad-arguments", &no_verify, test_create_bad_arguments);
        harness_add_test("/integration/collection/add-bad-arguments", &no_verify, test_add_to_bad_arguments);
        harness_add_test("/integration/collection/add-idempotent", &no_verify, test_add_to_changes);
        harness_add_test("/integration/collection/add-remote-unverified", &no_verify,
                         test_add_remote_without_verification);
        harness_add_test("/integration/collection/remove-from", &no_verify, test_remove_from);
        harness_add_test("/integration/collection/delete-on-unassociated", &no_verify,
                         test_delete_on_unassociated);
        harness_add_test("/integration/collection/modify", NULL, test_modify);
        harness_add_test("/integration/collection/delete", &no_verify, test_delete);

        return g_test_run();
}
