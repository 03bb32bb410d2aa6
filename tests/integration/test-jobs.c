/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Jobs (API.md sections 3, 6 and 7): verification of remote access points
 * against real sockets on 127.0.0.0/8 — a fake iSCSI target, a refusing
 * port and a black hole — the job lifecycle, its signals, state changes,
 * removal and limits.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER_IQN "iqn.2024-01.org.example:peer"

static const char *const quick_args[] = { "--probe-timeout=0.5", NULL };
static const HarnessConfig quick = { .daemon_args = quick_args };
/* Long enough that a black-holed job is still running whenever the test looks. */
static const char *const slow_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };
static const char *const removal_args[] = { "--probe-timeout=0.5", "--job-time-before-removal=1", NULL };
static const HarnessConfig removal = { .daemon_args = removal_args };
static const char *const retention_args[] = { "--probe-timeout=0.5", "--max-finished-jobs=2", NULL };
static const HarnessConfig retention = { .daemon_args = retention_args };
static const char *const one_running_args[] = { "--probe-timeout=60", "--max-running-jobs=1", NULL };
static const HarnessConfig one_running = { .daemon_args = one_running_args };
static const char *const one_per_user_args[] = { "--probe-timeout=60", "--max-running-jobs-per-user=1", NULL };
static const HarnessConfig one_per_user = { .daemon_args = one_per_user_args };

/* A collection holding one local portal, and a peer with one portal served by `kind`. */
typedef struct Scene {
        HarnessPeer *peer_socket;
        char *local;
        char *peer;
        char *remote;
        char *remote_name;              /* its Name, "127.0.0.2:port" */
        char *collection;
} Scene;

static void scene_init(Harness *h, Scene *s, HarnessPeerKind kind) {
        const char *names[] = { PEER_IQN, NULL };

        s->peer_socket = harness_peer_new(kind, "127.0.0.2", names);
        s->local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        s->peer = harness_add_peer(h, PEER_IQN, "peer");
        s->remote = harness_add_access_point(h, s->peer, "127.0.0.2", harness_peer_port(s->peer_socket), NULL);
        s->remote_name = g_strdup_printf("127.0.0.2:%u", harness_peer_port(s->peer_socket));
        const char *locals[] = { s->local, NULL };
        s->collection = harness_create_collection(h, "scene", locals, NULL, NULL);
        harness_clear_signals(h);
}

static void scene_clear(Scene *s) {
        harness_peer_free(s->peer_socket);
        g_free(s->local);
        g_free(s->peer);
        g_free(s->remote);
        g_free(s->remote_name);
        g_free(s->collection);
}

/* AddTo with the scene's remote portal and system; asserts a job started. */
static char *scene_start_add(Harness *h, Scene *s) {
        const char *remotes[] = { s->remote, NULL };
        char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, s->collection, NULL, remotes, s->peer, &job), ==, 4096);
        return job;
}

static gboolean has_value(GVariant *aq, guint16 value) {
        gsize n;
        const guint16 *v = g_variant_get_fixed_array(aq, &n, sizeof(guint16));
        for (gsize i = 0; i < n; i++)
                if (v[i] == value)
                        return TRUE;
        return FALSE;
}

static guint16 job_state(Harness *h, const char *job) {
        return harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState");
}

static guint32 request_state_change(Harness *h, const char *job, guint16 state) {
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", state, (guint64) 0));
        guint32 rv;
        g_variant_get(reply, "(u)", &rv);
        g_assert_true(rv == 0 || rv == 4096);
        return rv;
}

/*
 * Waits for Completed and checks the ordering the contract promises: the
 * job's final state was announced by PropertiesChanged before Completed,
 * and nothing about the job changed after it.
 */
static GVariant *wait_completed(Harness *h, const char *job, guint16 final_state) {
        g_autoptr(HarnessSignal) done = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        guint64 final_seq = 0;

        harness_sync(h);
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (!g_str_equal(s->path, job))
                        continue;
                if (g_str_equal(s->member, "Completed"))
                        g_error("%s sent Completed twice", job);
                if (!g_str_equal(s->member, "PropertiesChanged"))
                        continue;
                if (s->seq > done->seq) {
                        g_autofree char *text = g_variant_print(s->parameters, TRUE);
                        g_error("%s changed after Completed: %s", job, text);
                }
                if (harness_match_job_state(s, GUINT_TO_POINTER(final_state)))
                        final_seq = s->seq;
        }
        if (final_seq == 0)
                g_error("%s sent Completed without announcing JobState %u first", job, final_state);
        g_assert_cmpuint(final_seq, <, done->seq);
        g_assert_cmpuint(job_state(h, job), ==, final_state);

        gboolean success;
        guint16 code;
        const char *message;
        g_variant_get(done->parameters, "(bq&s)", &success, &code, &message);
        g_assert_cmpint(success, ==, final_state == IRD_JOB_COMPLETED);
        g_test_message("%s Completed(%d, %u, %s)", job, success, code, message);
        return g_variant_ref(done->parameters);
}

static void assert_operational_status(Harness *h, const char *job, guint16 health) {
        g_autoptr(GVariant) status = harness_get_property(h, job, IRD_IFACE_JOB, "OperationalStatus");
        g_autofree char *text = g_variant_print(status, FALSE);
        g_assert_cmpstr(g_variant_get_type_string(status), ==, "aq");
        if (!has_value(status, 17) || !has_value(status, health))
                g_error("%s OperationalStatus is %s, expected 17 Completed with %u", job, text, health);
}

/* ------------------------------------------------------------------------ */

static void test_add_success(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_TARGET);
        guint64 before_usec = (guint64) g_get_real_time();

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);
        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 0);

        /* The job object. */
        g_autofree char *name = harness_get_string(h, job, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "AddToRemoteReplicationCollection");
        assert_operational_status(h, job, 2);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "PercentComplete"), ==, 100);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 0);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_cmpstr(description, ==, "");
        const char *affected[] = { s.collection, NULL };
        g_autoptr(GVariant) elements = harness_get_property(h, job, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_paths(elements, affected);
        g_autoptr(GVariant) error = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error_dict = g_variant_get_child_value(error, 0);
        g_assert_cmpuint(g_variant_n_children(error_dict), ==, 0);
        g_autofree char *instance = harness_get_string(h, job, IRD_IFACE_JOB, "InstanceID");
        g_assert_cmpstr(instance, !=, "");
        guint64 submitted = harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeSubmitted");
        guint64 started = harness_get_uint64(h, job, IRD_IFACE_JOB, "StartTime");
        guint64 changed = harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeOfLastStateChange");
        g_assert_cmpuint(submitted, >=, before_usec - G_USEC_PER_SEC);
        g_assert_cmpuint(started, >=, submitted);
        g_assert_cmpuint(changed, >=, started);
        g_assert_cmpuint(changed, <=, (guint64) g_get_real_time() + G_USEC_PER_SEC);
        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeBeforeRemoval"), ==,
                         300 * G_USEC_PER_SEC);
        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "ElapsedTime"), <=,
                         (guint64) g_get_real_time() - before_usec + G_USEC_PER_SEC);
        g_autoptr(GVariant) uid = harness_get_property(h, job, IRD_IFACE_JOB, "StartedByUID");
        g_assert_cmpuint(g_variant_get_uint32(uid), ==, 0);
        g_autofree char *owner = harness_get_string(h, job, IRD_IFACE_JOB, "Owner");
        g_assert_nonnull(strstr(owner, g_dbus_connection_get_unique_name(h->connection)));

        /* The collection told the world it was busy, and then that it was done. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, s.collection, PROPERTIES, "PropertiesChanged");
        gboolean saw_busy = FALSE, saw_idle = FALSE, saw_remote = FALSE, saw_systems = FALSE;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                const char *j = NULL;
                if (g_variant_lookup(dict, "Job", "&o", &j)) {
                        if (g_str_equal(j, job)) {
                                g_assert_false(saw_busy);
                                saw_busy = TRUE;
                        } else {
                                g_assert_cmpstr(j, ==, "/");
                                g_assert_true(saw_busy);
                                saw_idle = TRUE;
                        }
                }
                g_assert_false(g_variant_lookup_value(dict, "LocalAccessPoints", NULL));
                g_autoptr(GVariant) remote = g_variant_lookup_value(dict, "RemoteAccessPoints", NULL);
                if (remote) {
                        const char *expected[] = { s.remote, NULL };
                        harness_assert_paths(remote, expected);
                        g_assert_false(saw_remote);
                        saw_remote = TRUE;
                }
                g_autoptr(GVariant) systems = g_variant_lookup_value(dict, "RemoteSystems", NULL);
                if (systems) {
                        const char *expected[] = { s.peer, NULL };
                        harness_assert_paths(systems, expected);
                        g_assert_false(saw_systems);
                        saw_systems = TRUE;
                }
        }
        g_assert_true(saw_busy && saw_idle && saw_remote && saw_systems);
        g_autofree char *now_job = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(now_job, ==, "/");

        /* The probe came from the local portal's address. */
        g_assert_cmpuint(harness_peer_connections(s.peer_socket), >=, 1);
        g_autofree char *source = harness_peer_last_source(s.peer_socket);
        g_assert_cmpstr(source, ==, "127.0.0.3");

        /* Deleting a finished job removes it at once. */
        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, job, IRD_IFACE_JOB, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, job);
        scene_clear(&s);
}

static void test_job_progress_signals(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_TARGET);

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);

        /* The job was announced with its properties, in state New or Running. */
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, job);
        g_autoptr(GVariant) ifaces = g_variant_get_child_value(added->parameters, 1);
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, IRD_IFACE_JOB, NULL);
        g_assert_nonnull(props);
        guint16 initial;
        g_assert_true(g_variant_lookup(props, "JobState", "q", &initial));
        g_assert_true(initial == IRD_JOB_NEW || initial == IRD_JOB_RUNNING);
        const char *name;
        g_assert_true(g_variant_lookup(props, "Name", "&s", &name));
        g_assert_cmpstr(name, ==, "AddToRemoteReplicationCollection");

        /* States only move forward: 2 → 4 → 7, each change once. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, job, PROPERTIES, "PropertiesChanged");
        guint16 last = initial;
        guint16 last_percent = 0;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                guint16 state, percent;
                if (g_variant_lookup(dict, "JobState", "q", &state)) {
                        g_assert_cmpuint(state, !=, last);
                        g_assert_true((last == IRD_JOB_NEW && state == IRD_JOB_RUNNING) ||
                                      (last == IRD_JOB_NEW && state == IRD_JOB_COMPLETED) ||
                                      (last == IRD_JOB_RUNNING && state == IRD_JOB_COMPLETED));
                        last = state;
                }
                if (g_variant_lookup(dict, "PercentComplete", "q", &percent)) {
                        g_assert_cmpuint(percent, >, last_percent);
                        g_assert_cmpuint(percent, <=, 100);
                        last_percent = percent;
                }
        }
        g_assert_cmpuint(last, ==, IRD_JOB_COMPLETED);
        scene_clear(&s);
}

static void test_refused(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_REFUSING);
        g_autofree char *before = collection_state(h, s.collection);

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 4);

        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 4);
        assert_operational_status(h, job, 6);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_test_message("ErrorDescription: %s", description);
        /* It names the pair: the remote portal and the local one it was tried from. */
        g_assert_nonnull(strstr(description, s.remote_name));
        g_assert_nonnull(strstr(description, "127.0.0.3"));

        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error = g_variant_get_child_value(reply, 0);
        guint16 error_code, error_type;
        const char *error_description, *error_source;
        g_assert_true(g_variant_lookup(error, "ErrorCode", "q", &error_code));
        g_assert_cmpuint(error_code, ==, 4);
        g_assert_true(g_variant_lookup(error, "ErrorDescription", "&s", &error_description));
        g_assert_cmpstr(error_description, ==, description);
        g_assert_true(g_variant_lookup(error, "ErrorSource", "&o", &error_source));
        g_assert_true(g_variant_lookup(error, "ErrorType", "q", &error_type));
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Refused");
        g_autofree char *last_error_id = harness_get_string(h, s.remote, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "Refused");

        /* Nothing of the call was committed. */
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_auto(GStrv) cols = harness_get_paths(h, s.remote, IRD_IFACE_AP, "Collections");
        g_assert_cmpuint(g_strv_length(cols), ==, 0);
        g_auto(GStrv) sys_cols = harness_get_paths(h, s.peer, IRD_IFACE_SYSTEM, "Collections");
        g_assert_cmpuint(g_strv_length(sys_cols), ==, 0);
        g_autofree char *job_now = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(job_now, ==, "/");

        /* Finished jobs accept no state change, and can be deleted. */
        for (guint16 st = 2; st <= 5; st++) {
                g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                        g_variant_new("(qt)", st, (guint64) 0),
                                                        IRD_ERROR_INVALID_STATE_TRANSITION);
        }
        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, job, IRD_IFACE_JOB, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, job);
        scene_clear(&s);
}

static void test_black_hole_timeout(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);

        gint64 start = g_get_monotonic_time();
        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        gint64 elapsed = g_get_monotonic_time() - start;

        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 3);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 3);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_nonnull(strstr(description, s.remote_name));
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Timeout");
        g_autofree char *last_error_id = harness_get_string(h, s.remote, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "Timeout");
        /* Probe timeout 0.5 s: not before it, and not much after. */
        g_test_message("timed out after %" G_GINT64_FORMAT " µs", elapsed);
        g_assert_cmpint(elapsed, >=, 400 * 1000);
        g_assert_cmpint(elapsed, <=, 2500 * 1000);

        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        scene_clear(&s);
}

/* ------------------------------------------------------------------------ */

static void test_in_use_while_running(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        g_autofree char *busy = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, job);
        g_assert_true(harness_get_boolean(h, job, IRD_IFACE_JOB, "Cancelable"));
        g_autoptr(GVariant) affected = harness_get_property(h, job, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_variant_n_children(affected), >=, 1);
        g_autoptr(GVariant) error = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error_dict = g_variant_get_child_value(error, 0);
        g_assert_cmpuint(g_variant_n_children(error_dict), ==, 0);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 0);

        const char *locals[] = { s.local, NULL };
        g_autofree char *other_local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.5", 3260, NULL);
        const char *other_locals[] = { other_local, NULL };
        g_autofree char *m1 = harness_call_error(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                g_variant_new("(@ao@aooo)", harness_paths(other_locals), harness_paths(NULL), "/", s.collection),
                IRD_ERROR_IN_USE);
        g_autofree char *m2 = harness_call_error(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                g_variant_new("(@ao@aooo)", harness_paths(locals), harness_paths(NULL), "/", s.collection),
                IRD_ERROR_IN_USE);
        g_autofree char *m3 = harness_call_error(h, s.collection, IRD_IFACE_COLLECTION, "Modify",
                                                 g_variant_new_parsed("({'ElementName': <'renamed'>},)"),
                                                 IRD_ERROR_IN_USE);
        g_autofree char *m4 = harness_call_error(h, s.collection, IRD_IFACE_COLLECTION, "Delete", NULL,
                                                 IRD_ERROR_IN_USE);
        /* Each refusal names the collection and the job that holds it. */
        g_autofree char *in_use = g_strdup_printf("Collection %s is being changed by job %s.", s.collection, job);
        g_assert_cmpstr(m1, ==, in_use);
        g_assert_cmpstr(m2, ==, in_use);
        g_assert_cmpstr(m3, ==, in_use);
        g_assert_cmpstr(m4, ==, in_use);

        /* Running jobs can be neither deleted nor started again. */
        g_autofree char *m5 = harness_call_error(h, job, IRD_IFACE_JOB, "Delete", NULL,
                                                 IRD_ERROR_INVALID_STATE_TRANSITION);
        g_autofree char *m6 = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 2, (guint64) 0),
                                                 IRD_ERROR_INVALID_STATE_TRANSITION);
        g_autofree char *m7 = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 4, (guint64) G_USEC_PER_SEC),
                                                 IRD_ERROR_NOT_SUPPORTED);
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);

        /* Terminate: nothing committed. */
        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        assert_operational_status(h, job, 6);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Terminated");
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_autofree char *idle = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(idle, ==, "/");

        /* Free again. */
        g_autoptr(GVariant) r = harness_call(h, s.collection, IRD_IFACE_COLLECTION, "Modify",
                                             g_variant_new_parsed("({'ElementName': <'renamed'>},)"));
        scene_clear(&s);
}

static void test_kill(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        /* Cancelling aborts the probe at once, long before its 60 s deadline. */
        gint64 start = g_get_monotonic_time();
        request_state_change(h, job, 5);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_KILLED);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Killed");
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                g_variant_new("(qt)", 4, (guint64) 0),
                                                IRD_ERROR_INVALID_STATE_TRANSITION);
        scene_clear(&s);
}

static void test_suspend_resume(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        request_state_change(h, job, 3);
        g_autoptr(HarnessSignal) suspended = harness_wait_signal(h, job, PROPERTIES, "PropertiesChanged",
                                                                 harness_match_job_state,
                                                                 GUINT_TO_POINTER(IRD_JOB_SUSPENDED));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_SUSPENDED);
        g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                g_variant_new("(qt)", 3, (guint64) 0),
                                                IRD_ERROR_INVALID_STATE_TRANSITION);
        /* Still holding its collection. */
        g_autofree char *busy = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, job);

        request_state_change(h, job, 2);
        g_autoptr(HarnessSignal) resumed = harness_wait_signal(h, job, PROPERTIES, "PropertiesChanged",
                                                               harness_match_job_state,
                                                               GUINT_TO_POINTER(IRD_JOB_RUNNING));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);

        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        scene_clear(&s);
}

static void test_job_authorization(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        /* Someone else's job needs manage-jobs, which nobody has without polkit. */
        g_autofree char *out = NULL;
        gboolean ok = harness_call_as_nobody(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                             g_variant_new("(qt)", 4, (guint64) 0), &out);
        g_assert_false(ok);
        g_assert_nonnull(strstr(out, IRD_ERROR_ACCESS_DENIED));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);
        g_clear_pointer(&out, g_free);
        g_assert_true(harness_call_as_nobody(h, job, PROPERTIES, "Get",
                                             g_variant_new("(ss)", IRD_IFACE_JOB, "JobState"), &out));

        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        g_clear_pointer(&out, g_free);
        ok = harness_call_as_nobody(h, job, IRD_IFACE_JOB, "Delete", g_variant_new("()"), &out);
        g_assert_false(ok);
        g_assert_nonnull(strstr(out, IRD_ERROR_ACCESS_DENIED));
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, job));
        scene_clear(&s);
}

/* ------------------------------------------------------------------------ */

static void set_property(Harness *h, const char *path, const char *name, GVariant *value) {
        g_autoptr(GVariant) r = harness_call(h, path, PROPERTIES, "Set",
                                             g_variant_new("(ssv)", IRD_IFACE_JOB, name, value));
}

static void test_time_before_removal(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);

        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeBeforeRemoval"), ==, G_USEC_PER_SEC);
        if (!harness_get_boolean(h, job, IRD_IFACE_JOB, "DeleteOnCompletion"))
                set_property(h, job, "DeleteOnCompletion", g_variant_new_boolean(TRUE));

        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        gint64 finished = g_get_monotonic_time();
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, job);
        gint64 waited = (gint64) removed->received_usec - finished;
        g_test_message("removed %" G_GINT64_FORMAT " µs after Completed", waited);
        /* It stays for TimeBeforeRemoval, whatever DeleteOnCompletion says. */
        g_assert_cmpint(waited, >=, 800 * 1000);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
        scene_clear(&s);
}

static char *start_verify(Harness *h, const char *ap) {
        g_autoptr(GVariant) reply = harness_call(h, ap, IRD_IFACE_AP, "Verify", NULL);
        guint32 rv;
        const char *job;
        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        return g_strdup(job);
}

static void test_retention(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(refusing), NULL);
        char *jobs[3];

        harness_clear_signals(h);
        for (int i = 0; i < 3; i++) {
                jobs[i] = start_verify(h, ap);
                set_property(h, jobs[i], "DeleteOnCompletion", g_variant_new_boolean(FALSE));
                g_assert_false(harness_get_boolean(h, jobs[i], IRD_IFACE_JOB, "DeleteOnCompletion"));
                /* The Set above may land after Completed, so the ordering check does not apply here. */
                g_autoptr(GVariant) done = harness_wait_job_completed(h, jobs[i]);
                g_assert_cmpuint(job_state(h, jobs[i]), ==, IRD_JOB_EXCEPTION);
        }
        /* Keeping two finished jobs: the oldest goes. */
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, jobs[0]);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, jobs[0]));
        g_assert_true(g_strv_contains((const char *const *) paths, jobs[1]));
        g_assert_true(g_strv_contains((const char *const *) paths, jobs[2]));
        for (int i = 0; i < 3; i++)
                g_free(jobs[i]);
}

static void test_max_running(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        g_autofree char *ap2 = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);

        g_autofree char *job = start_verify(h, ap);
        harness_wait_job_running(h, job);
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *m = harness_call_error(h, ap2, IRD_IFACE_AP, "Verify", NULL, IRD_ERROR_LIMITS_EXCEEDED);
        g_autofree char *m2 = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 2), IRD_ERROR_LIMITS_EXCEEDED);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);

        /* Finished jobs do not count. */
        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        g_autofree char *job2 = start_verify(h, ap2);
        g_autoptr(GVariant) done2 = harness_wait_job_completed(h, job2);
}

/* ------------------------------------------------------------------------ */

static void test_create_with_remote(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), NULL);
        const char *locals[] = { local, NULL };
        const char *remotes[] = { remote, NULL };
        g_auto(GStrv) objects_before = harness_object_paths(h);
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", "verified", harness_paths(locals), harness_paths(remotes), peer, TRUE,
                              FALSE));
        guint32 rv;
        const char *job, *collection;
        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpstr(collection, ==, "/");
        g_autofree char *job_path = g_strdup(job);

        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_COMPLETED);
        g_autofree char *name = harness_get_string(h, job_path, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "CreateRemoteReplicationCollection");
        g_auto(GStrv) affected = harness_get_paths(h, job_path, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_strv_length(affected), ==, 1);
        const char *created = affected[0];
        g_assert_true(g_str_has_prefix(created, IRD_ROOT "/collection/"));
        g_assert_false(g_strv_contains((const char *const *) objects_before, created));

        /* Announced before the job said it was done. */
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, (gpointer) created);
        g_autoptr(GVariant) members = harness_get_property(h, created, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
        g_autoptr(GVariant) local_members = harness_get_property(h, created, IRD_IFACE_COLLECTION,
                                                                 "LocalAccessPoints");
        harness_assert_paths(local_members, locals);
        g_autofree char *element = harness_get_string(h, created, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(element, ==, "verified");
}

/* While the verification runs, and after it fails, the collection does not exist. */
static void test_create_with_remote_failing(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        const char *remotes[] = { remote, NULL };
        g_autofree char *before = harness_snapshot(h);
        g_auto(GStrv) objects_before = harness_object_paths(h);
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", "never", harness_paths(NULL), harness_paths(remotes), peer, TRUE,
                              FALSE));
        guint32 rv;
        const char *job, *collection;
        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpstr(collection, ==, "/");
        g_autofree char *job_path = g_strdup(job);
        harness_wait_job_running(h, job_path);

        g_auto(GStrv) objects_running = harness_object_paths(h);
        for (size_t i = 0; objects_running[i]; i++)
                if (g_str_has_prefix(objects_running[i], IRD_ROOT "/collection/"))
                        g_error("%s exists while its creation is being verified", objects_running[i]);

        request_state_change(h, job_path, 4);
        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_TERMINATED);
        g_auto(GStrv) objects_after = harness_object_paths(h);
        for (size_t i = 0; objects_after[i]; i++)
                if (!g_str_equal(objects_after[i], job_path))
                        g_assert_true(g_strv_contains((const char *const *) objects_before, objects_after[i]));
        g_autoptr(GPtrArray) added = harness_take_signals(h, IRD_ROOT, NULL, "InterfacesAdded");
        for (guint i = 0; i < added->len; i++) {
                HarnessSignal *s = added->pdata[i];
                const char *p;
                g_variant_get_child(s->parameters, 0, "&o", &p);
                g_assert_cmpstr(p, ==, job_path);
        }
}

/* ------------------------------------------------------------------------ */

static void test_verify(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", NULL);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *good = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), NULL);
        g_autofree char *bad = harness_add_access_point(h, peer, "127.0.0.4", harness_peer_port(refusing), NULL);
        guint64 t0 = (guint64) g_get_real_time();
        harness_clear_signals(h);

        g_autofree char *job = start_verify(h, good);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);
        g_autofree char *reachable = harness_get_string(h, good, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");
        g_assert_cmpuint(harness_get_uint64(h, good, IRD_IFACE_AP, "LastVerified"), >=, t0);
        g_autofree char *last_error = harness_get_string(h, good, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, "");
        g_assert_cmpuint(harness_peer_connections(target), >=, 1);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, good, PROPERTIES, "PropertiesChanged");
        gboolean saw_reachable = FALSE, saw_verified = FALSE;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                const char *r;
                if (g_variant_lookup(dict, "Reachable", "&s", &r)) {
                        g_assert_cmpstr(r, ==, "yes");
                        saw_reachable = TRUE;
                }
                if (g_variant_lookup_value(dict, "LastVerified", NULL))
                        saw_verified = TRUE;
        }
        g_assert_true(saw_reachable && saw_verified);

        g_autofree char *job2 = start_verify(h, bad);
        g_autoptr(GVariant) done2 = wait_completed(h, job2, IRD_JOB_EXCEPTION);
        g_assert_cmpuint(harness_get_uint16(h, job2, IRD_IFACE_JOB, "ErrorCode"), ==, 4);
        g_autofree char *reachable2 = harness_get_string(h, bad, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable2, ==, "no");
        g_autofree char *last_error2 = harness_get_string(h, bad, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error2, !=, "");
        g_autofree char *last_error_id2 = harness_get_string(h, bad, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id2, ==, "Refused");
        g_autofree char *message_id2 = harness_job_message_id(h, job2);
        g_assert_cmpstr(message_id2, ==, "Refused");
        g_assert_cmpuint(harness_get_uint64(h, bad, IRD_IFACE_AP, "LastVerified"), >=, t0);
}

/*
 * Verifies ap and returns the job's ErrorCode (0 on success); the job's
 * MessageID and the access point's LastErrorID must both be reason ("" for
 * a success, when GetError is empty).
 */
static guint16 verify_code(Harness *h, const char *ap, const char *reason) {
        g_autofree char *job = start_verify(h, ap);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        gboolean success;
        guint16 code;
        const char *message;
        g_variant_get(done, "(bq&s)", &success, &code, &message);
        g_test_message("Verify %s: %s", ap, message);
        g_assert_cmpint(success, ==, code == 0);
        g_autofree char *last_error_id = harness_get_string(h, ap, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, reason);
        if (success) {
                g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
                g_autoptr(GVariant) error = g_variant_get_child_value(reply, 0);
                g_assert_cmpuint(g_variant_n_children(error), ==, 0);
        } else {
                g_autofree char *message_id = harness_job_message_id(h, job);
                g_assert_cmpstr(message_id, ==, reason);
        }
        return code;
}

/* Section 7 at the iSCSI level: offered names, the normal login, CHAP. */
static void test_iscsi_checks(Harness *h, gconstpointer data) {
        const char *other_names[] = { "iqn.2024-01.org.example:other", NULL };
        const char *t1_names[] = { "iqn.2024-01.org.example:t1", NULL };
        g_autoptr(HarnessPeer) other = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", other_names);
        g_autoptr(HarnessPeer) t1 = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.4", t1_names);
        g_autoptr(HarnessPeer) guarded = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.5", t1_names);
        harness_peer_require_chap(guarded, "alice", "correct-horse-battery");

        /* A peer named by IQN must offer that name. */
        g_autofree char *iqn_peer = harness_add_peer(h, "iqn.2024-01.org.example:peer", NULL);
        g_autofree char *iqn_ap = harness_add_access_point(h, iqn_peer, "127.0.0.2", harness_peer_port(other), NULL);
        g_assert_cmpuint(verify_code(h, iqn_ap, "SystemNotOffered"), ==, 4);
        g_autofree char *err = harness_get_string(h, iqn_ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(err, !=, "");

        /* A host-named peer needs no name; a TargetName must be offered and accept a login. */
        g_autofree char *host_peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *plain = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1), NULL);
        g_assert_cmpuint(verify_code(h, plain, ""), ==, 0);
        g_autofree char *named = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1),
                                                          "iqn.2024-01.org.example:t1");
        g_assert_cmpuint(verify_code(h, named, ""), ==, 0);
        g_autofree char *missing = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1),
                                                            "iqn.2024-01.org.example:t2");
        g_assert_cmpuint(verify_code(h, missing, "TargetNotOffered"), ==, 4);

        /* CHAP: refused without credentials or with wrong ones, accepted with the right ones. */
        g_autofree char *chap = harness_add_access_point(h, host_peer, "127.0.0.5", harness_peer_port(guarded),
                                                         "iqn.2024-01.org.example:t1");
        g_assert_cmpuint(verify_code(h, chap, "AuthenticationFailed"), ==, 4);
        g_autofree char *wrong = harness_add_secret(h, chap, "alice", "wrong-horse-battery");
        g_assert_cmpuint(verify_code(h, chap, "AuthenticationFailed"), ==, 4);
        g_autofree char *right = harness_add_secret(h, chap, "alice", "correct-horse-battery");
        g_assert_cmpuint(verify_code(h, chap, ""), ==, 0);
        g_autofree char *reachable = harness_get_string(h, chap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");

        g_autofree char *log = harness_read_log(h);
        g_assert_null(strstr(log, "correct-horse-battery"));
        g_assert_null(strstr(log, "wrong-horse-battery"));
        g_autofree char *snapshot = harness_snapshot(h);
        g_assert_null(strstr(snapshot, "horse-battery"));
}

static void test_get_peer_systems_job(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", NULL);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.5", NULL);
        g_autofree char *up = harness_add_peer(h, "up.example.org", NULL);
        g_autofree char *down = harness_add_peer(h, "down.example.org", NULL);
        g_autofree char *silent = harness_add_peer(h, "silent.example.org", NULL);
        g_autofree char *bare = harness_add_peer(h, "bare.example.org", NULL);
        g_autofree char *up_ap = harness_add_access_point(h, up, "127.0.0.2", harness_peer_port(target), NULL);
        g_autofree char *down_ap = harness_add_access_point(h, down, "127.0.0.4", harness_peer_port(refusing), NULL);
        g_autofree char *silent_ap = harness_add_access_point(h, silent, "127.0.0.5", harness_peer_port(hole), NULL);
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 2));
        guint32 rv;
        const char *job;
        g_autoptr(GVariant) systems = NULL;
        g_variant_get(reply, "(u&o@ao)", &rv, &job, &systems);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpuint(g_variant_n_children(systems), ==, 0);
        g_autofree char *job_path = g_strdup(job);

        gint64 start = g_get_monotonic_time();
        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_COMPLETED);
        /* Probes run concurrently, so the slowest (0.5 s timeout) bounds it. */
        g_assert_cmpint(g_get_monotonic_time() - start, <=, 2500 * 1000);
        const char *expected[] = { up, NULL };
        g_autoptr(GVariant) affected = harness_get_property(h, job_path, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_paths(affected, expected);
        g_autofree char *name = harness_get_string(h, job_path, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "GetPeerSystems");

        g_autofree char *r_up = harness_get_string(h, up, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_up, ==, "yes");
        g_autofree char *r_down = harness_get_string(h, down, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_down, ==, "no");
        g_autofree char *r_silent = harness_get_string(h, silent, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_silent, ==, "no");
        g_assert_cmpuint(harness_get_uint64(h, up, IRD_IFACE_SYSTEM, "LastVerified"), >, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/jobs/add-success", &quick, test_add_success);
        harness_add_test("/integration/jobs/progress-signals", &quick, test_job_progress_signals);
        harness_add_test("/integration/jobs/refused", &quick, test_refused);
        harness_add_test("/integration/jobs/black-hole-timeout", &quick, test_black_hole_timeout);
        harness_add_test("/integration/jobs/in-use-while-running", &slow, test_in_use_while_running);
        harness_add_test("/integration/jobs/kill", &slow, test_kill);
        harness_add_test("/integration/jobs/suspend-resume", &slow, test_suspend_resume);
        harness_add_test("/integration/jobs/authorization", &slow, test_job_authorization);
        harness_add_test("/integration/jobs/time-before-removal", &removal, test_time_before_removal);
        harness_add_test("/integration/jobs/retention", &retention, test_retention);
        harness_add_test("/integration/jobs/max-running", &one_running, test_max_running);
        harness_add_test("/integration/jobs/max-running-per-user", &one_per_user, test_max_running);
        harness_add_test("/integration/jobs/create-with-remote", &quick, test_create_with_remote);
        harness_add_test("/integration/jobs/create-with-remote-failing", &slow, test_create_with_remote_failing);
        harness_add_test("/integration/jobs/verify", &quick, test_verify);
        harness_add_test("/integration/jobs/iscsi-checks", &quick, test_iscsi_checks);
        harness_add_test("/integration/jobs/get-peer-systems", &quick, test_get_peer_systems_job);

        return g_test_run();
}
