/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Shared secrets (API.md section 5): their length, replacing and deleting
 * them, and that no client, log or file of the state directory ever holds a
 * secret's value once the service is done with it.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"
#include "service-fixture.h"

/* AddSharedSecret(props, access_point) is refused as invalid, and changes nothing. */
static void assert_secret_refused(Harness *h, GVariant *props, const char *access_point) {
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", props, access_point), IRD_ERROR_INVALID_PARAMETER);
}

static void test_secret_length(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *s11 = g_strnfill(11, 'a');
        g_autofree char *s12 = g_strnfill(12, 'b');
        g_autofree char *s255 = g_strnfill(255, 'c');
        g_autofree char *s256 = g_strnfill(256, 'd');

        assert_secret_refused(h, secret_props("user", s11), ap);
        assert_secret_refused(h, secret_props("user", s256), ap);
        assert_secret_refused(h, secret_props(NULL, s12), ap);
        assert_secret_refused(h, secret_props("user", NULL), ap);
        assert_secret_refused(h, secret_props("user", s12), peer);
        assert_secret_refused(h, secret_props("user", s12), IRD_ROOT "/access_point/9999");

        /* A secret belongs to a remote access point: one of this host's is refused. */
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *message = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                      g_variant_new("(@a{sv}o)", secret_props("user", s12), local),
                                                      IRD_ERROR_INVALID_PARAMETER);
        g_assert_nonnull(strstr(message, local));
        assert_secret_refused(h, secret_props("user", s12), local);
        g_autofree char *none = harness_get_string(h, local, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(none, ==, "/");

        g_autofree char *secret = harness_add_secret(h, ap, "user", s12);
        g_assert_true(g_str_has_prefix(secret, IRD_ROOT "/secret/"));
        g_autofree char *unbound = harness_add_secret(h, "/", "user2", s255);
        g_autofree char *unbound_ap = harness_get_string(h, unbound, IRD_IFACE_SECRET, "ServiceAccessPoint");
        g_assert_cmpstr(unbound_ap, ==, "/");
}

static gboolean contains_secret(const char *haystack, const char *secret) {
        return haystack && strstr(haystack, secret) != NULL;
}

static void test_secret_never_readable(Harness *h, gconstpointer data) {
        static const char secret_value[] = "s3cr3t-Zebra-Quokka-42";
        static const char mutual_value[] = "mutual-Narwhal-Pangolin-7";
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        harness_clear_signals(h);
        GVariant *props = dict_of("Username", g_variant_new_string("alice"),
                                  "Secret", g_variant_new_string(secret_value),
                                  "MutualUsername", g_variant_new_string("target-bob"),
                                  "MutualSecret", g_variant_new_string(mutual_value), NULL);
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(@a{sv}o)", props, ap));
        guint32 rv;
        const char *secret;
        g_variant_get(reply, "(u&o)", &rv, &secret);
        g_assert_cmpuint(rv, ==, 0);

        g_autofree char *username = harness_get_string(h, secret, IRD_IFACE_SECRET, "Username");
        g_assert_cmpstr(username, ==, "alice");
        g_autofree char *mutual = harness_get_string(h, secret, IRD_IFACE_SECRET, "MutualUsername");
        g_assert_cmpstr(mutual, ==, "target-bob");
        g_autofree char *bound = harness_get_string(h, secret, IRD_IFACE_SECRET, "ServiceAccessPoint");
        g_assert_cmpstr(bound, ==, ap);
        g_autofree char *ap_secret = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(ap_secret, ==, secret);

        /* Everything a client or an administrator can read. */
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, NULL, NULL, NULL);
        for (guint i = 0; i < sigs->len; i++) {
                HarnessSignal *s = sigs->pdata[i];
                g_autofree char *text = g_variant_print(s->parameters, FALSE);
                g_assert_false(contains_secret(text, secret_value));
                g_assert_false(contains_secret(text, mutual_value));
        }
        g_autoptr(GVariant) all = harness_get_all(h, secret, IRD_IFACE_SECRET);
        g_autofree char *all_text = g_variant_print(all, FALSE);
        g_autofree char *snapshot = harness_snapshot(h);
        g_autofree char *introspection = harness_introspect(h, secret);
        g_autofree char *root_introspection = harness_introspect(h, IRD_ROOT);
        g_autofree char *log = harness_read_log(h);
        const char *const texts[] = { all_text, snapshot, introspection, root_introspection, log };
        for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
                g_assert_false(contains_secret(texts[i], secret_value));
                g_assert_false(contains_secret(texts[i], mutual_value));
        }
        g_assert_false(g_variant_lookup_value(all, "Secret", NULL));
        g_assert_false(g_variant_lookup_value(all, "MutualSecret", NULL));

        /* Reading a secret property by name must not work either. */
        g_autofree char *m = harness_call_error(h, secret, "org.freedesktop.DBus.Properties", "Get",
                                                g_variant_new("(ss)", IRD_IFACE_SECRET, "Secret"),
                                                "org.freedesktop.DBus.Error.UnknownProperty");
        g_assert_false(contains_secret(m, secret_value));

        /* Not even after a restart, when it comes back from the store. */
        harness_stop_daemon(h);
        harness_start_daemon(h);
        g_autofree char *snapshot2 = harness_snapshot(h);
        g_autofree char *log2 = harness_read_log(h);
        g_assert_false(contains_secret(snapshot2, secret_value));
        g_assert_false(contains_secret(log2, secret_value));
        g_assert_false(contains_secret(log2, mutual_value));
}

/* The files of the state directory that hold needle, as one space-separated string ("" for none). */
static char *state_files_holding(Harness *h, const char *needle) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(h->state_directory, 0, &error);
        g_autoptr(GString) found = g_string_new(NULL);
        const char *name;

        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(h->state_directory, name, NULL);
                g_autofree char *contents = NULL;
                gsize length = 0;

                g_assert_true(g_file_get_contents(path, &contents, &length, NULL));
                if (memmem(contents, length, needle, strlen(needle)))
                        g_string_append_printf(found, "%s%s", found->len ? " " : "", name);
        }
        return g_strdup(found->str);
}

static void assert_secret_stored(Harness *h, const char *secret) {
        g_autofree char *holders = state_files_holding(h, secret);
        /* Proves the search finds what is there: a stored secret is in one of the files. */
        g_assert_cmpstr(holders, !=, "");
}

static void assert_secret_gone(Harness *h, const char *secret) {
        g_autofree char *holders = state_files_holding(h, secret);
        if (holders[0])
                g_error("a removed secret is still in %s of the state directory", holders);
}

static char *add_secret_pair(Harness *h, const char *access_point, const char *secret, const char *mutual) {
        GVariant *props = dict_of("Username", g_variant_new_string("initiator"),
                                  "Secret", g_variant_new_string(secret),
                                  "MutualUsername", g_variant_new_string("target"),
                                  "MutualSecret", g_variant_new_string(mutual), NULL);
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(@a{sv}o)", props, access_point));
        char *path = NULL;
        g_variant_get(reply, "(uo)", NULL, &path);
        assert_secret_stored(h, secret);
        assert_secret_stored(h, mutual);
        return path;
}

/*
 * API.md section 5: once a secret's Delete, its replacement or its access
 * point's Delete has returned, no file of the state directory (database,
 * write-ahead log, anything else) holds its bytes.
 */
static void test_secret_no_copy_left(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        g_autofree char *deleted = add_secret_pair(h, ap, "deleted-Okapi-3141592", "deleted-mutual-Ibex-2718");
        g_autoptr(GVariant) r1 = harness_call(h, deleted, IRD_IFACE_SECRET, "Delete", NULL);
        assert_secret_gone(h, "deleted-Okapi-3141592");
        assert_secret_gone(h, "deleted-mutual-Ibex-2718");

        g_autofree char *replaced = add_secret_pair(h, ap, "replaced-Tapir-1618033", "replaced-mutual-Gnu-1414");
        g_autofree char *replacement = add_secret_pair(h, ap, "replacement-Lynx-577215",
                                                       "replacement-mutual-Yak-1732");
        assert_secret_gone(h, "replaced-Tapir-1618033");
        assert_secret_gone(h, "replaced-mutual-Gnu-1414");
        assert_secret_stored(h, "replacement-Lynx-577215");

        g_autoptr(GVariant) r2 = harness_call(h, ap, IRD_IFACE_AP, "Delete", NULL);
        assert_secret_gone(h, "replacement-Lynx-577215");
        assert_secret_gone(h, "replacement-mutual-Yak-1732");
}

static void test_secret_replace(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *first = harness_add_secret(h, ap, "user", "first-secret-value");

        harness_clear_signals(h);
        g_autofree char *second = harness_add_secret(h, ap, "user", "second-secret-value");
        g_assert_cmpstr(first, !=, second);

        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, first);
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, second);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, ap, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autoptr(GVariant) changed = harness_properties_changed_dict(changes->pdata[0]);
        const char *now = NULL;
        g_assert_true(g_variant_lookup(changed, "SharedSecret", "&o", &now));
        g_assert_cmpstr(now, ==, second);

        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, first));
        g_assert_true(g_strv_contains((const char *const *) paths, second));
}

static void test_secret_delete(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *secret = harness_add_secret(h, ap, "user", "0123456789abcdef");

        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, secret, IRD_IFACE_SECRET, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, secret);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, ap, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autofree char *now = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(now, ==, "/");

        /* Deleting an access point takes its secret with it. */
        g_autofree char *second = harness_add_secret(h, ap, "user", "0123456789abcdef");
        harness_clear_signals(h);
        g_autoptr(GVariant) r2 = harness_call(h, ap, IRD_IFACE_AP, "Delete", NULL);
        g_autoptr(HarnessSignal) removed_secret = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                                      harness_match_interfaces_removed, second);
        g_autoptr(HarnessSignal) removed_ap = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                                  harness_match_interfaces_removed, ap);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/secrets/length", NULL, test_secret_length);
        harness_add_test("/integration/secrets/never-readable", NULL, test_secret_never_readable);
        harness_add_test("/integration/secrets/replace", NULL, test_secret_replace);
        harness_add_test("/integration/secrets/delete", NULL, test_secret_delete);
        harness_add_test("/integration/secrets/no-copy-left", NULL, test_secret_no_copy_left);

        return g_test_run();
}
