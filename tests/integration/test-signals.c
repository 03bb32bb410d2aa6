/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Signals (API.md section 8a): changes to one object within one turn of
 * the service's event loop go out as one PropertiesChanged carrying the
 * union of the changed properties, with the values the object has; and
 * merging keeps the order clients rely on: an object is announced before it
 * changes, a job's final PropertiesChanged comes before its Completed, and
 * Completed before the job is removed.
 */

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER_IQN "iqn.2024-01.org.example:peer"
#define N_REMOTE 50

/* Probes of a loaded machine may be slow; none of these peers makes them wait. */
static const char *const probe_args[] = { "--probe-timeout=20", NULL };
static const HarnessConfig probe_config = { .daemon_args = probe_args };
/* A finished job is removed by retention at once. */
static const char *const no_retention_args[] = { "--probe-timeout=20", "--max-finished-jobs=0", NULL };
static const HarnessConfig no_retention = { .daemon_args = no_retention_args };

/* What the PropertiesChanged signals of one object said, folded in arrival order. */
typedef struct Tally {
        guint signals;
        GHashTable *latest;     /* property name → GVariant, the last value announced */
        guint64 first_seq;
} Tally;

static void tally_free(Tally *t) {
        g_hash_table_unref(t->latest);
        g_free(t);
}

/* Path → Tally for every PropertiesChanged recorded so far. */
static GHashTable *tally_properties_changed(Harness *h) {
        GHashTable *tallies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) tally_free);

        harness_sync(h);
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (!g_str_equal(s->member, "PropertiesChanged"))
                        continue;
                Tally *t = g_hash_table_lookup(tallies, s->path);
                if (!t) {
                        t = g_new0(Tally, 1);
                        t->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) g_variant_unref);
                        t->first_seq = s->seq;
                        g_hash_table_insert(tallies, g_strdup(s->path), t);
                }
                t->signals++;
                g_autoptr(GVariant) dict = harness_properties_changed_dict(s);
                GVariantIter it;
                const char *name;
                GVariant *value;
                g_variant_iter_init(&it, dict);
                while (g_variant_iter_next(&it, "{&sv}", &name, &value))
                        g_hash_table_insert(t->latest, g_strdup(name), value);
        }
        return tallies;
}

/* The values the signals announced last are the values the object has now. */
static void assert_tally_current(Harness *h, const char *path, const char *interface, const Tally *t) {
        g_autoptr(GVariant) all = harness_get_all(h, path, interface);
        GHashTableIter it;
        gpointer name, value;

        g_hash_table_iter_init(&it, t->latest);
        while (g_hash_table_iter_next(&it, &name, &value)) {
                g_autoptr(GVariant) now = g_variant_lookup_value(all, name, NULL);
                g_assert_nonnull(now);
                if (!g_variant_equal(now, value)) {
                        g_autofree char *a = g_variant_print(value, TRUE);
                        g_autofree char *b = g_variant_print(now, TRUE);
                        g_error("%s %s: last announced %s, but it is %s", path, (const char *) name, a, b);
                }
        }
}

static void assert_announced(const char *path, const Tally *t, const char *const *names) {
        for (const char *const *n = names; *n; n++)
                if (!g_hash_table_contains(t->latest, *n))
                        g_error("%s never announced a change of %s", path, *n);
}

/* The seq of the first signal on path with member, 0 when none. */
static guint64 first_seq(Harness *h, const char *path, const char *member, HarnessSignalPredicate predicate,
                         gpointer user_data) {
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (g_str_equal(s->path, path) && g_str_equal(s->member, member) &&
                    (!predicate || predicate(s, user_data)))
                        return s->seq;
        }
        return 0;
}

/*
 * Job ordering: announced before it changed, its final state announced
 * before Completed, nothing about it after Completed but its removal.
 */
static void assert_job_order(Harness *h, const char *job, guint16 final_state, guint64 completed) {
        guint64 added = first_seq(h, IRD_ROOT, "InterfacesAdded", harness_match_interfaces_added, (gpointer) job);
        guint64 final = 0;

        g_assert_cmpuint(added, >, 0);
        g_assert_cmpuint(completed, >, 0);
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (!g_str_equal(s->path, job))
                        continue;
                g_assert_cmpuint(s->seq, >, added);
                if (g_str_equal(s->member, "Completed"))
                        g_assert_cmpuint(s->seq, ==, completed);
                else if (s->seq > completed) {
                        g_autofree char *text = g_variant_print(s->parameters, TRUE);
                        g_error("%s changed after Completed: %s", job, text);
                } else if (harness_match_job_state(s, GUINT_TO_POINTER(final_state)))
                        final = s->seq;
        }
        g_assert_cmpuint(final, >, 0);
        g_assert_cmpuint(final, <, completed);
}

/* ------------------------------------------------------------------------ */

/* A collection with one local access point, and a peer with N_REMOTE access points on one fake target. */
typedef struct ManyRemotes {
        GPtrArray *names;               /* target names, NULL-terminated */
        HarnessPeer *target;
        char *local, *peer, *collection;
        GPtrArray *remotes;             /* paths, NULL-terminated */
} ManyRemotes;

static void many_remotes_init(Harness *h, ManyRemotes *s) {
        s->names = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; i < N_REMOTE; i++)
                g_ptr_array_add(s->names, g_strdup_printf("%s:disk%02d", PEER_IQN, i));
        g_ptr_array_add(s->names, NULL);
        s->target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", (const char *const *) s->names->pdata);
        s->local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        s->peer = harness_add_peer(h, PEER_IQN, "peer");
        s->remotes = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; i < N_REMOTE; i++)
                g_ptr_array_add(s->remotes, harness_add_access_point(h, s->peer, "127.0.0.2",
                                                                     harness_peer_port(s->target), s->names->pdata[i]));
        g_ptr_array_add(s->remotes, NULL);
        const char *locals[] = { s->local, NULL };
        s->collection = harness_create_collection(h, "many", locals, NULL, NULL);
        harness_clear_signals(h);
}

static void many_remotes_clear(ManyRemotes *s) {
        harness_peer_free(s->target);
        g_ptr_array_unref(s->names);
        g_ptr_array_unref(s->remotes);
        g_free(s->local);
        g_free(s->peer);
        g_free(s->collection);
}

/* AddTo with every remote access point and the peer; returns the job. */
static char *many_remotes_start(Harness *h, ManyRemotes *s) {
        char *job = NULL;

        g_assert_cmpuint(harness_add_to_collection(h, s->collection, NULL, (const char *const *) s->remotes->pdata,
                                                   s->peer, &job), ==, 4096);
        return job;
}

/*
 * One job probes N_REMOTE access points of one peer from one local access
 * point and then commits them to a collection. Every probe ends in a turn
 * of the loop of its own (or shares one with others), and the last probe's
 * turn also commits the job's end. So each object sends no more signals
 * than there are turns it changed in: the peer at most one per probe (the
 * commit shares the last probe's turn), each access point at most two (its
 * probe, the commit) and one fewer in all (the last probe's access point
 * changes twice in one turn), the collection exactly two (busy when the
 * call is committed; members and idle when the job's end is).
 */
static void test_probe_job_merged(Harness *h, gconstpointer data) {
        ManyRemotes scene;
        many_remotes_init(h, &scene);
        GPtrArray *remotes = scene.remotes;
        const char *local = scene.local, *peer = scene.peer, *collection = scene.collection;

        g_autofree char *job = many_remotes_start(h, &scene);
        g_autoptr(HarnessSignal) done = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        gboolean success;
        g_variant_get(done->parameters, "(bqs)", &success, NULL, NULL);
        g_assert_true(success);

        g_autoptr(GHashTable) tallies = tally_properties_changed(h);
        guint total = 0, ap_total = 0;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, tallies);
        while (g_hash_table_iter_next(&it, &key, &value))
                total += ((Tally *) value)->signals;
        for (int i = 0; i < N_REMOTE; i++) {
                Tally *a = g_hash_table_lookup(tallies, remotes->pdata[i]);
                ap_total += a ? a->signals : 0;
        }
        Tally *peer_tally = g_hash_table_lookup(tallies, peer), *job_tally = g_hash_table_lookup(tallies, job),
              *collection_tally = g_hash_table_lookup(tallies, collection);
        g_test_message("%d probes: %u PropertiesChanged (peer %u, access points %u, job %u, collection %u)",
                       N_REMOTE, total, peer_tally ? peer_tally->signals : 0, ap_total,
                       job_tally ? job_tally->signals : 0, collection_tally ? collection_tally->signals : 0);

        /* The peer: reachable, verified, in the collection. */
        Tally *t = g_hash_table_lookup(tallies, peer);
        g_assert_nonnull(t);
        const char *system_props[] = { "Reachable", "LastVerified", "Collections", NULL };
        assert_announced(peer, t, system_props);
        assert_tally_current(h, peer, IRD_IFACE_SYSTEM, t);
        g_assert_cmpuint(t->signals, <=, N_REMOTE);

        /* Each remote access point: verified and in the collection, in at most two signals. */
        const char *ap_props[] = { "Reachable", "LastVerified", "Collections", NULL };
        for (int i = 0; i < N_REMOTE; i++) {
                const char *ap = remotes->pdata[i];
                t = g_hash_table_lookup(tallies, ap);
                g_assert_nonnull(t);
                assert_announced(ap, t, ap_props);
                assert_tally_current(h, ap, IRD_IFACE_AP, t);
                g_assert_cmpuint(t->signals, <=, 2);
        }
        g_assert_cmpuint(ap_total, <=, 2 * N_REMOTE - 1);

        /* The local access point was a member already: nothing to announce. */
        g_assert_null(g_hash_table_lookup(tallies, local));

        /* The collection: busy at the call, then members and idle in one signal. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, collection, PROPERTIES, "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 2);
        g_autoptr(GVariant) busy = harness_properties_changed_dict(changes->pdata[0]);
        const char *j = NULL;
        g_assert_true(g_variant_lookup(busy, "Job", "&o", &j));
        g_assert_cmpstr(j, ==, job);
        g_autoptr(GVariant) commit = harness_properties_changed_dict(changes->pdata[1]);
        g_assert_true(g_variant_lookup(commit, "Job", "&o", &j));
        g_assert_cmpstr(j, ==, "/");
        g_autoptr(GVariant) members = g_variant_lookup_value(commit, "RemoteAccessPoints", NULL);
        g_assert_nonnull(members);
        g_autoptr(GPtrArray) sorted = g_ptr_array_new();
        for (int i = 0; i < N_REMOTE; i++)
                g_ptr_array_add(sorted, remotes->pdata[i]);
        harness_sort_paths((const char **) sorted->pdata, sorted->len);
        g_ptr_array_add(sorted, NULL);
        harness_assert_paths(members, (const char *const *) sorted->pdata);
        g_autoptr(GVariant) systems = g_variant_lookup_value(commit, "RemoteSystems", NULL);
        const char *expected_systems[] = { peer, NULL };
        harness_assert_paths(systems, expected_systems);

        /* The job. */
        t = g_hash_table_lookup(tallies, job);
        g_assert_nonnull(t);
        assert_tally_current(h, job, IRD_IFACE_JOB, t);
        assert_job_order(h, job, IRD_JOB_COMPLETED, done->seq);
        many_remotes_clear(&scene);
}

/*
 * With no finished job kept, a job is removed as soon as it finishes: its
 * final state, Completed and InterfacesRemoved still go out, in that order.
 */
static void test_removed_when_finished(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(refusing), NULL);
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(h, ap, IRD_IFACE_AP, "Verify", NULL);
        const char *path;
        g_variant_get(reply, "(u&o)", NULL, &path);
        g_autofree char *job = g_strdup(path);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, job);
        harness_sync(h);
        guint64 completed = first_seq(h, job, "Completed", NULL, NULL);
        g_assert_cmpuint(completed, >, 0);
        g_assert_cmpuint(completed, <, removed->seq);
        assert_job_order(h, job, IRD_JOB_EXCEPTION, completed);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));

        /* The access point's failure was announced with the value it keeps. */
        g_autoptr(GHashTable) tallies = tally_properties_changed(h);
        Tally *t = g_hash_table_lookup(tallies, ap);
        g_assert_nonnull(t);
        const char *props[] = { "Reachable", "LastVerified", "LastError", "LastErrorID", NULL };
        assert_announced(ap, t, props);
        assert_tally_current(h, ap, IRD_IFACE_AP, t);
        g_assert_cmpuint(t->signals, ==, 1);
}

/* Whether a PropertiesChanged announces Collections containing the path in user_data. */
static gboolean lists_collection(const HarnessSignal *s, gpointer collection) {
        if (!g_str_equal(s->member, "PropertiesChanged"))
                return FALSE;
        g_autoptr(GVariant) dict = harness_properties_changed_dict(s);
        g_autoptr(GVariant) cols = g_variant_lookup_value(dict, "Collections", G_VARIANT_TYPE("ao"));
        g_autofree const char **paths = cols ? g_variant_get_objv(cols, NULL) : NULL;
        return paths && g_strv_contains(paths, collection);
}

/*
 * A collection created by a job appears in the turn of the loop that ends
 * the last probe, whose access point changed before (verified) and after
 * (member of the new collection) the collection was added. The access
 * point's one merged PropertiesChanged comes after InterfacesAdded, so no
 * client sees a member list naming an object it was not told of.
 */
static void test_added_before_referenced(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN ":a", PEER_IQN ":b", PEER_IQN ":c", NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, NULL);
        char *remotes[G_N_ELEMENTS(names)] = { NULL };
        for (size_t i = 0; names[i]; i++)
                remotes[i] = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), names[i]);
        const char *locals[] = { local, NULL };
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", "created", harness_paths(locals),
                              harness_paths((const char *const *) remotes), peer, TRUE, FALSE));
        const char *path;
        g_variant_get(reply, "(u&o&o)", NULL, &path, NULL);
        g_autofree char *job = g_strdup(path);
        g_autoptr(HarnessSignal) done = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        g_auto(GStrv) affected = harness_get_paths(h, job, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_strv_length(affected), ==, 1);
        const char *created = affected[0];

        harness_sync(h);
        guint64 added = first_seq(h, IRD_ROOT, "InterfacesAdded", harness_match_interfaces_added, (gpointer) created);
        g_assert_cmpuint(added, >, 0);
        g_assert_cmpuint(added, <, done->seq);
        guint referenced = 0;
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (!lists_collection(s, (gpointer) created))
                        continue;
                referenced++;
                if (s->seq < added)
                        g_error("%s listed %s before it was announced", s->path, created);
        }
        /* The local and the three remote access points, and the peer. */
        g_assert_cmpuint(referenced, ==, 5);
        assert_job_order(h, job, IRD_JOB_COMPLETED, done->seq);
        for (size_t i = 0; remotes[i]; i++)
                g_free(remotes[i]);
}

/* Every message the client connection received, in order, as seen on its worker thread. */
typedef struct Arrivals {
        GMutex lock;
        GPtrArray *seen;        /* "return <reply serial>" or "<member> <object path>" */
} Arrivals;

static GDBusMessage *record_arrival(GDBusConnection *c, GDBusMessage *m, gboolean incoming, gpointer userdata) {
        Arrivals *a = userdata;
        char *what = NULL;

        if (!incoming)
                return m;
        if (g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_METHOD_RETURN)
                what = g_strdup_printf("return %u", g_dbus_message_get_reply_serial(m));
        else if (g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_SIGNAL) {
                const char *object = g_dbus_message_get_path(m);
                GVariant *body = g_dbus_message_get_body(m);
                /* InterfacesAdded and InterfacesRemoved name their object first. */
                if (body && g_str_has_prefix(g_dbus_message_get_member(m), "Interfaces"))
                        g_variant_get_child(body, 0, "&o", &object);
                what = g_strdup_printf("%s %s", g_dbus_message_get_member(m), object);
        }
        if (what) {
                g_mutex_lock(&a->lock);
                g_ptr_array_add(a->seen, what);
                g_mutex_unlock(&a->lock);
        }
        return m;
}

/* Calls method on the service; returns the reply's position in a->seen. */
static guint call_and_locate_reply(Harness *h, Arrivals *a, const char *method, GVariant *params,
                                   char **ret_path) {
        g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call(IRD_BUS_NAME, IRD_ROOT, IRD_IFACE_SERVICE,
                                                                      method);
        g_autoptr(GError) error = NULL;
        guint32 serial = 0;

        g_dbus_message_set_body(call, params);
        g_autoptr(GDBusMessage) reply = g_dbus_connection_send_message_with_reply_sync(
                h->connection, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, &serial, NULL, &error);
        g_assert_no_error(error);
        g_dbus_message_to_gerror(reply, &error);
        g_assert_no_error(error);
        g_variant_get(g_dbus_message_get_body(reply), "(uo)", NULL, ret_path);

        g_autofree char *want = g_strdup_printf("return %u", serial);
        g_mutex_lock(&a->lock);
        guint at = a->seen->len;
        for (guint i = 0; i < a->seen->len && at == a->seen->len; i++)
                if (g_str_equal(a->seen->pdata[i], want))
                        at = i;
        g_mutex_unlock(&a->lock);
        g_assert_cmpuint(at, <, a->seen->len);
        return at;
}

static void assert_arrived_before(Arrivals *a, const char *member, const char *object, guint reply_at) {
        g_autofree char *want = g_strdup_printf("%s %s", member, object);

        g_mutex_lock(&a->lock);
        for (guint i = 0; i < reply_at; i++)
                if (g_str_equal(a->seen->pdata[i], want)) {
                        g_mutex_unlock(&a->lock);
                        return;
                }
        g_mutex_unlock(&a->lock);
        g_error("%s did not arrive before the reply of the call that caused it", want);
}

/*
 * A call's reply comes after the signals of its change, as it did before
 * signals were batched: a client that gets a new object's path finds the
 * object already announced, and its parent already changed.
 */
static void test_announced_before_reply(Harness *h, gconstpointer data) {
        Arrivals a = { .seen = g_ptr_array_new_with_free_func(g_free) };
        g_mutex_init(&a.lock);
        guint filter = g_dbus_connection_add_filter(h->connection, record_arrival, &a, NULL);
        GVariantBuilder props;
        g_autofree char *peer = NULL, *ap = NULL;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        guint at = call_and_locate_reply(h, &a, "AddPeerSystem",
                                         g_variant_new("(sa{sv})", "peer.example.org", &props), &peer);
        assert_arrived_before(&a, "InterfacesAdded", peer, at);

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Address", g_variant_new_string("127.0.0.2"));
        at = call_and_locate_reply(h, &a, "AddServiceAccessPoint", g_variant_new("(oa{sv})", peer, &props), &ap);
        assert_arrived_before(&a, "InterfacesAdded", ap, at);
        assert_arrived_before(&a, "PropertiesChanged", peer, at);

        g_dbus_connection_remove_filter(h->connection, filter);
        harness_sync(h);
        g_ptr_array_unref(a.seen);
        g_mutex_clear(&a.lock);
}

/*
 * What a client saw of LastVerified while a job ran: announcements and the
 * answers to its Get calls, in arrival order (recorded on the connection's
 * worker thread).
 */
typedef struct Reads {
        Harness *h;
        GMutex lock;
        GPtrArray *seen;                /* "verified <path> <value>", "got <serial> <value>" */
        GHashTable *asked;              /* serial → path of each Get sent */
        const char *const *paths;
        guint next;
        gboolean stop, idle;
} Reads;

static GDBusMessage *record_read(GDBusConnection *c, GDBusMessage *m, gboolean incoming, gpointer userdata) {
        Reads *r = userdata;
        GVariant *body = g_dbus_message_get_body(m);
        char *what = NULL;
        guint64 v;

        if (!incoming || !body)
                return m;
        if (g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_METHOD_RETURN &&
            g_variant_is_of_type(body, G_VARIANT_TYPE("(v)"))) {
                g_autoptr(GVariant) value = NULL;
                g_variant_get(body, "(v)", &value);
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
                        what = g_strdup_printf("got %u %" G_GUINT64_FORMAT, g_dbus_message_get_reply_serial(m),
                                               g_variant_get_uint64(value));
        } else if (g_strcmp0(g_dbus_message_get_member(m), "PropertiesChanged") == 0) {
                g_autoptr(GVariant) changed = g_variant_get_child_value(body, 1);
                if (g_variant_lookup(changed, "LastVerified", "t", &v))
                        what = g_strdup_printf("verified %s %" G_GUINT64_FORMAT, g_dbus_message_get_path(m), v);
        }
        if (what) {
                g_mutex_lock(&r->lock);
                g_ptr_array_add(r->seen, what);
                g_mutex_unlock(&r->lock);
        }
        return m;
}

static void read_next(Reads *r);

static void on_read(GObject *source, GAsyncResult *result, gpointer userdata) {
        Reads *r = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusMessage) reply = g_dbus_connection_send_message_with_reply_finish(G_DBUS_CONNECTION(source),
                                                                                         result, &error);
        g_assert_no_error(error);
        if (r->stop) {
                r->idle = TRUE;
                return;
        }
        read_next(r);
}

/* One Get of LastVerified at a time, round the access points, until told to stop. */
static void read_next(Reads *r) {
        const char *path = r->paths[r->next++ % N_REMOTE];
        g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call(IRD_BUS_NAME, path, PROPERTIES, "Get");
        guint32 serial = 0;

        g_dbus_message_set_body(call, g_variant_new("(ss)", IRD_IFACE_AP, "LastVerified"));
        g_mutex_lock(&r->lock);
        g_dbus_connection_send_message_with_reply(r->h->connection, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, &serial,
                                                  NULL, on_read, r);
        g_hash_table_insert(r->asked, GUINT_TO_POINTER(serial), (gpointer) path);
        g_mutex_unlock(&r->lock);
}

/*
 * While a job's probes keep the service's loop busy, what they found waits
 * to be announced; a call that arrives meanwhile is answered only after the
 * announcements, so a client never reads a LastVerified it was not told of.
 */
static void test_no_reply_overtakes(Harness *h, gconstpointer data) {
        ManyRemotes scene;
        many_remotes_init(h, &scene);
        Reads r = { .h = h, .seen = g_ptr_array_new_with_free_func(g_free), .asked = g_hash_table_new(NULL, NULL),
                    .paths = (const char *const *) scene.remotes->pdata };
        g_mutex_init(&r.lock);
        guint filter = g_dbus_connection_add_filter(h->connection, record_read, &r, NULL);

        g_autofree char *job = many_remotes_start(h, &scene);
        read_next(&r);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        r.stop = TRUE;
        harness_wait_for_flag(h, &r.idle);
        g_dbus_connection_remove_filter(h->connection, filter);

        /* Path → the LastVerified values announced so far. */
        g_autoptr(GHashTable) announced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint verified_reads = 0;
        for (guint i = 0; i < r.seen->len; i++) {
                g_auto(GStrv) f = g_strsplit(r.seen->pdata[i], " ", 3);
                if (g_str_equal(f[0], "verified")) {
                        g_hash_table_add(announced, g_strdup_printf("%s %s", f[1], f[2]));
                        continue;
                }
                const char *path = g_hash_table_lookup(r.asked, GUINT_TO_POINTER(atoi(f[1])));
                if (!path || g_str_equal(f[2], "0"))
                        continue;
                verified_reads++;
                g_autofree char *key = g_strdup_printf("%s %s", path, f[2]);
                if (!g_hash_table_contains(announced, key))
                        g_error("Get answered LastVerified %s of %s before announcing it", f[2], path);
        }
        g_test_message("%u Get calls, %u of them answered with a verified access point", r.next, verified_reads);
        g_assert_cmpuint(verified_reads, >, 0);

        g_ptr_array_unref(r.seen);
        g_hash_table_unref(r.asked);
        g_mutex_clear(&r.lock);
        many_remotes_clear(&scene);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/signals/probe-job-merged", &probe_config, test_probe_job_merged);
        harness_add_test("/integration/signals/removed-when-finished", &no_retention,
                         test_removed_when_finished);
        harness_add_test("/integration/signals/added-before-referenced", &probe_config, test_added_before_referenced);
        harness_add_test("/integration/signals/announced-before-reply", &probe_config, test_announced_before_reply);
        harness_add_test("/integration/signals/no-reply-overtakes", &probe_config, test_no_reply_overtakes);

        return g_test_run();
}
