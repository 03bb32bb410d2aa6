/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scale: the caller's uid asked of the bus daemon once per connection, the
 * object limits of API.md section 8, and GetManagedObjects refused with
 * LimitsExceeded rather than sent over the bus's message limit.
 * A large reply does not stay resident once sent.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"

static GVariant *ap_props(const char *address, guint16 port) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Address", g_variant_new_string(address));
        g_variant_builder_add(&b, "{sv}", "Port", g_variant_new_uint16(port));
        return g_variant_builder_end(&b);
}

/* ---- caller identity ---- */

/* Counts, on a monitor connection, the service's GetConnectionUnixUser calls; flags a Ping. */
typedef struct UidQueryCount {
        gint uid_queries;
        gboolean pinged;
} UidQueryCount;

static GDBusMessage *count_uid_queries(GDBusConnection *c, GDBusMessage *m, gboolean incoming, gpointer userdata) {
        UidQueryCount *count = userdata;
        const char *member = g_dbus_message_get_member(m);

        if (incoming && g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_METHOD_CALL) {
                if (g_strcmp0(member, "GetConnectionUnixUser") == 0)
                        g_atomic_int_inc(&count->uid_queries);
                else if (g_strcmp0(member, "Ping") == 0) {
                        g_atomic_int_set(&count->pinged, TRUE);
                        g_main_context_wakeup(NULL);
                }
        }
        /* A monitor must never answer the calls it sees (GDBus would answer Peer.Ping). */
        if (incoming && g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_METHOD_CALL) {
                g_object_unref(m);
                return NULL;
        }
        return m;
}

static GDBusConnection *connect_client(Harness *h) {
        g_autoptr(GError) error = NULL;
        GDBusConnection *c = g_dbus_connection_new_for_address_sync(
                h->bus_address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);

        g_assert_no_error(error);
        return c;
}

/* Every uid query the bus daemon saw before the Ping that follows (its copies reach the monitor in order). */
static gint uid_queries_until_ping(Harness *h, UidQueryCount *count) {
        g_atomic_int_set(&count->pinged, FALSE);
        harness_sync(h);
        harness_wait_for_flag(h, &count->pinged);
        return g_atomic_int_get(&count->uid_queries);
}

static void add_peer_on(GDBusConnection *c, const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                c, IRD_BUS_NAME, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                g_variant_new("(sa{sv})", name, NULL), NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);

        g_assert_no_error(error);
}

static void test_caller_uid_once_per_connection(Harness *h, gconstpointer data) {
        g_autoptr(GDBusConnection) monitor = connect_client(h);
        g_autoptr(GDBusConnection) other = NULL;
        g_autoptr(GError) error = NULL;
        UidQueryCount count = {};
        const char *rules[] = {
                "type='method_call',interface='org.freedesktop.DBus',member='GetConnectionUnixUser'",
                "type='method_call',interface='org.freedesktop.DBus.Peer',member='Ping'",
                NULL,
        };

        g_dbus_connection_add_filter(monitor, count_uid_queries, &count, NULL);
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(monitor, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                            "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                                            g_variant_new("(^asu)", rules, 0), NULL,
                                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(uid_queries_until_ping(h, &count), ==, 0);

        /* Five changes on one connection: the bus daemon is asked once. */
        for (int i = 0; i < 5; i++) {
                g_autofree char *name = g_strdup_printf("peer%d.example.org", i);
                g_autofree char *p = harness_add_peer(h, name, NULL);
        }
        g_assert_cmpint(uid_queries_until_ping(h, &count), ==, 1);

        /* Another connection is another caller: asked once more, then never again. */
        other = connect_client(h);
        add_peer_on(other, "peer-other-1.example.org");
        add_peer_on(other, "peer-other-2.example.org");
        g_assert_cmpint(uid_queries_until_ping(h, &count), ==, 2);
        g_autofree char *p = harness_add_peer(h, "peer5.example.org", NULL);
        g_assert_cmpint(uid_queries_until_ping(h, &count), ==, 2);
}

/* ---- object limits ---- */

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

static const char *const small_limits_args[] = {
        "--verify-access-points=no", "--max-peer-systems=2", "--max-access-points=3", "--max-collections=1",
        "--max-collection-members=3", NULL,
};
static const HarnessConfig small_limits = { .daemon_args = small_limits_args };

static void test_peer_limit(Harness *h, gconstpointer data) {
        g_autofree char *a = harness_add_peer(h, "a.example.org", NULL);
        g_autofree char *b = harness_add_peer(h, "b.example.org", NULL);

        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(sa{sv})", "c.example.org", NULL), IRD_ERROR_LIMITS_EXCEEDED);
        /* The limit is checked first: a duplicate name over the limit is LimitsExceeded too. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(sa{sv})", "a.example.org", NULL), IRD_ERROR_LIMITS_EXCEEDED);
        g_autoptr(GVariant) r = harness_call(h, b, IRD_IFACE_SYSTEM, "Delete", NULL);
        g_autofree char *c = harness_add_peer(h, "c.example.org", NULL);
}

static void test_access_point_limit(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "a.example.org", NULL);
        g_autofree char *a1 = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);
        g_autofree char *a2 = harness_add_access_point(h, peer, "127.0.0.3", 3260, NULL);
        g_autofree char *a3 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);

        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer, ap_props("127.0.0.4", 3260)),
                               IRD_ERROR_LIMITS_EXCEEDED);
}

static void test_collection_limits(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "a.example.org", NULL);
        g_autofree char *r1 = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);
        g_autofree char *r2 = harness_add_access_point(h, peer, "127.0.0.3", 3260, NULL);
        g_autofree char *l1 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        const char *locals[] = { l1, NULL };
        const char *remotes[] = { r1, NULL };
        const char *both[] = { r1, r2, NULL };
        const char *none[] = { NULL };

        /* Three members: one local, one remote access point, the peer. */
        g_autofree char *c = harness_create_collection(h, "c", locals, remotes, peer);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "d", harness_paths(none), harness_paths(none), "/",
                                             TRUE, FALSE),
                               IRD_ERROR_LIMITS_EXCEEDED);

        /* From two members: a call that would add two adds none; one fits; the next does not. */
        g_autoptr(GVariant) r = harness_call(h, c, IRD_IFACE_COLLECTION, "Delete", NULL);
        g_autofree char *c2 = harness_create_collection(h, "c2", locals, none, peer);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", harness_paths(none), harness_paths(both), "/", c2),
                               IRD_ERROR_LIMITS_EXCEEDED);
        g_assert_cmpuint(harness_add_to_collection(h, c2, NULL, remotes, NULL, NULL), ==, 0);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", harness_paths(none), harness_paths(both), "/", c2),
                               IRD_ERROR_LIMITS_EXCEEDED);
        /* Adding what is there already stays a no-op at the limit. */
        g_assert_cmpuint(harness_add_to_collection(h, c2, NULL, remotes, NULL, NULL), ==, 0);
}

/* ---- the size of GetManagedObjects ---- */

#define SMALL_MESSAGE_LIMIT 24576
static const char *const small_message_args[] = { "--max-message-size=24576", "--verify-access-points=no", NULL };
static const HarnessConfig small_message = { .daemon_args = small_message_args };

static void test_managed_objects_over_limit(Harness *h, gconstpointer data) {
        gsize last_size = 0;
        int peers;

        /* One object of every kind a client can add, so each kind's bound is exercised. */
        g_autofree char *first = harness_add_peer(h, "first.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, first, "127.0.0.3", 3260, "iqn.2026-11.org.example:t");
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *secret = harness_add_secret(h, remote, "user", "a-secret-of-16-b");
        const char *locals[] = { local, NULL };
        const char *remotes[] = { remote, NULL };
        g_autofree char *collection = harness_create_collection(h, "", locals, remotes, first);

        /* Grow until the reply would not fit; every reply sent fits. */
        for (peers = 0; peers < 400; peers++) {
                g_autofree char *error = NULL;
                gsize size = managed_objects_size(h, &error);

                if (error) {
                        g_assert_cmpstr(error, ==, IRD_ERROR_LIMITS_EXCEEDED);
                        break;
                }
                g_assert_cmpuint(size, <=, SMALL_MESSAGE_LIMIT);
                last_size = size;
                g_autofree char *name = g_strdup_printf("peer%d.example.org", peers);
                g_autofree char *peer = harness_add_peer(h, name, "a peer with a name to make it larger");
                g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);
        }
        g_assert_cmpint(peers, <, 400);
        /* The bound is not so loose that it refuses replies far below the limit. */
        g_test_message("last reply sent: %zu bytes of %d", last_size, SMALL_MESSAGE_LIMIT);
        g_assert_cmpuint(last_size * 2, >, SMALL_MESSAGE_LIMIT);

        /* The service is still on the bus and answers. */
        g_autofree char *more = harness_add_peer(h, "after.example.org", NULL);
        g_autofree char *p = harness_get_string(h, more, IRD_IFACE_SYSTEM, "Name");
        g_assert_cmpstr(p, ==, "after.example.org");
}

/* ---- memory after a large reply ---- */

#define BULK_PEERS 3000
#define BULK_IN_FLIGHT 32

static const char *const many_peers_args[] = { "--verify-access-points=no", "--max-peer-systems=4000", NULL };
static const HarnessConfig many_peers = { .daemon_args = many_peers_args };

typedef struct Bulk {
        Harness *h;
        guint sent, done, failed;
} Bulk;

static void bulk_send(Bulk *b);

static void bulk_done(GObject *source, GAsyncResult *res, gpointer userdata) {
        Bulk *b = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

        if (!reply && b->failed++ == 0)
                g_test_message("AddPeerSystem failed: %s", error->message);
        b->done++;
        bulk_send(b);
}

static void bulk_send(Bulk *b) {
        char description[255 + 1];      /* the longest string property API.md allows */
        GVariantBuilder props;

        if (b->sent >= BULK_PEERS)
                return;
        memset(description, 'd', sizeof(description) - 1);
        description[sizeof(description) - 1] = '\0';
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string(description));
        g_autofree char *name = g_strdup_printf("bulk%u.example.org", b->sent++);
        g_dbus_connection_call(b->h->connection, IRD_BUS_NAME, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(sa{sv})", name, &props), NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                               bulk_done, b);
}

static gboolean bulk_finished(gpointer userdata) {
        const Bulk *b = userdata;

        return b->done >= BULK_PEERS;
}

static guint64 daemon_rss_kib(Harness *h) {
        g_autofree char *path = g_strdup_printf("/proc/%s/status", g_subprocess_get_identifier(h->daemon));
        g_autofree char *status = NULL;
        const char *line;

        g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
        line = strstr(status, "\nVmRSS:");
        g_assert_nonnull(line);
        return g_ascii_strtoull(line + strlen("\nVmRSS:"), NULL, 10);
}

/*
 * A GetManagedObjects reply of megabytes does not stay resident once it is
 * sent: the daemon's memory after several such replies is what it was
 * before them, give or take a fraction of one reply.
 */
static void test_memory_after_large_reply(Harness *h, gconstpointer data) {
        Bulk b = { .h = h };
        guint64 before, after;
        gsize size = 0;

        if (g_strcmp0(g_getenv("IRD_DAEMON_SANITIZED"), "1") == 0) {
                g_test_skip("a sanitizer's allocator holds freed memory back");
                return;
        }

        for (int i = 0; i < BULK_IN_FLIGHT; i++)
                bulk_send(&b);
        harness_wait_until(h, bulk_finished, &b, "every peer added");
        g_assert_cmpuint(b.failed, ==, 0);

        harness_sync(h);
        before = daemon_rss_kib(h);
        for (int i = 0; i < 3; i++) {
                g_autofree char *error = NULL;

                size = managed_objects_size(h, &error);
                g_assert_null(error);
                harness_sync(h);        /* the reply has left and been freed */
        }
        after = daemon_rss_kib(h);
        g_test_message("reply %zu bytes; resident %" G_GUINT64_FORMAT " KiB before, %" G_GUINT64_FORMAT
                       " KiB after three replies", size, before, after);
        g_assert_cmpuint(size, >, 3 * 1024 * 1024 / 2);       /* over the daemon's 1 MiB mapping threshold */
        g_assert_cmpuint(after, <, before + size / 1024 / 2);
}

/* ---- durability across kill -9 ---- */

#define CRASH_ROUNDS 12
#define CRASH_CALLS 24          /* per round, all in flight at once */

typedef struct CrashRound {
        guint done;
        GPtrArray *acknowledged;        /* names of peers and collections whose call succeeded */
} CrashRound;

typedef struct CrashCall {
        CrashRound *round;
        char *name;
} CrashCall;

static void crash_call_done(GObject *source, GAsyncResult *res, gpointer userdata) {
        CrashCall *c = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);

        /* Failures are the calls the kill interrupted; which ones is the point of the test. */
        if (reply)
                g_ptr_array_add(c->round->acknowledged, g_steal_pointer(&c->name));
        c->round->done++;
        g_free(c->name);
        g_free(c);
}

typedef struct CrashWait {
        const CrashRound *round;
        guint replies;
} CrashWait;

static gboolean crash_round_reached(gpointer userdata) {
        const CrashWait *w = userdata;

        return w->round->done >= w->replies;
}

/* Names of peers, and of collections with their member count, from one GetManagedObjects. */
static void crash_read_state(Harness *h, GHashTable *peers, GHashTable *collections) {
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        GVariantIter it;
        const char *path;
        GVariant *ifaces;

        g_variant_iter_init(&it, objects);
        while (g_variant_iter_loop(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                g_autoptr(GVariant) sys = g_variant_lookup_value(ifaces, IRD_IFACE_SYSTEM, NULL);
                g_autoptr(GVariant) col = g_variant_lookup_value(ifaces, IRD_IFACE_COLLECTION, NULL);
                const char *name;

                if (sys && g_variant_lookup(sys, "Name", "&s", &name))
                        g_hash_table_add(peers, g_strdup(name));
                if (col && g_variant_lookup(col, "ElementName", "&s", &name)) {
                        g_autoptr(GVariant) l = g_variant_lookup_value(col, "LocalAccessPoints", G_VARIANT_TYPE("ao"));
                        g_autoptr(GVariant) r = g_variant_lookup_value(col, "RemoteAccessPoints", G_VARIANT_TYPE("ao"));
                        g_autoptr(GVariant) y = g_variant_lookup_value(col, "RemoteSystems", G_VARIANT_TYPE("ao"));
                        gsize members = g_variant_n_children(l) + g_variant_n_children(r) + g_variant_n_children(y);

                        g_hash_table_insert(collections, g_strdup(name), GSIZE_TO_POINTER(members));
                }
        }
}

/*
 * API.md 8a: a reply is sent only once its change is on disk. Calls in
 * flight, the daemon killed after a random number of replies, restarted:
 * every acknowledged change is there, and every change there is whole
 * (a collection with all five of its members, never fewer).
 */
static void test_kill_during_changes(Harness *h, gconstpointer data) {
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, "target.example.org", NULL);
        g_autofree char *r1 = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);
        g_autofree char *r2 = harness_add_access_point(h, peer, "127.0.0.3", 3260, NULL);
        g_autofree char *r3 = harness_add_access_point(h, peer, "127.0.0.4", 3260, NULL);
        const char *locals[] = { local, NULL };
        const char *remotes[] = { r1, r2, r3, NULL };
        guint acknowledged = 0;

        for (int round = 0; round < CRASH_ROUNDS; round++) {
                CrashRound cr = { .acknowledged = g_ptr_array_new_with_free_func(g_free) };
                CrashWait w = { .round = &cr, .replies = (guint) g_test_rand_int_range(0, CRASH_CALLS) };

                for (int i = 0; i < CRASH_CALLS; i++) {
                        CrashCall *c = g_new0(CrashCall, 1);
                        gboolean collection = i % 2 == 0;
                        GVariant *params;

                        c->round = &cr;
                        c->name = g_strdup_printf("crash-%d-%d%s", round, i, collection ? "" : ".example.org");
                        params = collection ?
                                g_variant_new("(s@ao@aoobb)", c->name, harness_paths(locals), harness_paths(remotes),
                                              peer, TRUE, FALSE) :
                                g_variant_new("(sa{sv})", c->name, NULL);
                        g_dbus_connection_call(h->connection, IRD_BUS_NAME, IRD_ROOT, IRD_IFACE_SERVICE,
                                               collection ? "CreateRemoteReplicationCollection" : "AddPeerSystem",
                                               params, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, crash_call_done, c);
                }
                harness_wait_until(h, crash_round_reached, &w, "replies before the kill");
                harness_kill_daemon(h);
                guint killed_after = cr.done;
                w.replies = CRASH_CALLS;
                harness_wait_until(h, crash_round_reached, &w, "every call of the round answered");
                harness_start_daemon(h);

                g_autoptr(GHashTable) peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                g_autoptr(GHashTable) collections = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
                crash_read_state(h, peers, collections);
                for (guint k = 0; k < cr.acknowledged->len; k++) {
                        const char *name = cr.acknowledged->pdata[k];

                        g_assert_true(g_hash_table_contains(peers, name) || g_hash_table_contains(collections, name));
                }
                GHashTableIter it;
                gpointer key, members;
                g_hash_table_iter_init(&it, collections);
                while (g_hash_table_iter_next(&it, &key, &members))
                        g_assert_cmpuint(GPOINTER_TO_SIZE(members), ==, 5);
                g_test_message("round %d: killed after %u replies, %u acknowledged", round, killed_after,
                               cr.acknowledged->len);
                acknowledged += cr.acknowledged->len;
                g_ptr_array_unref(cr.acknowledged);
        }
        /* Not every kill may land before the first reply. */
        g_assert_cmpuint(acknowledged, >, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/scale/caller-uid-once-per-connection", NULL,
                         test_caller_uid_once_per_connection);
        harness_add_test("/integration/scale/kill-during-changes", &no_verify, test_kill_during_changes);
        harness_add_test("/integration/limits/peer-systems", &small_limits, test_peer_limit);
        harness_add_test("/integration/limits/access-points", &small_limits, test_access_point_limit);
        harness_add_test("/integration/limits/collections", &small_limits, test_collection_limits);
        harness_add_test("/integration/scale/memory-after-large-reply", &many_peers, test_memory_after_large_reply);
        harness_add_test("/integration/limits/managed-objects-reply", &small_message,
                         test_managed_objects_over_limit);

        return g_test_run();
}
